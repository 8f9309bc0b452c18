/*
 * Helpers shared by the readers in src/readers/.
 */
#ifndef DC_READERS_H
#define DC_READERS_H

#include "internal.h"

/* Load manifest.json's images into SET (src/readers/docker_save.c). */
int dc__docker_load_into(struct dc_reader *r, struct dc_set *set);
/* Size and sniffed compression of a member. */
int dc__sniff_member(struct dc_src *src, const char *path, uint64_t *size,
		     enum dc_comp *comp);
/* Add REF (any reference form) to IMG's tags in familiar form. */
int dc__add_ref_tag(struct dc_ctx *ctx, struct dc_image *img, const char *ref,
		    const char *what);

#endif
