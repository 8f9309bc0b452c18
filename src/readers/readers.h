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

/* registries: docker://HOST/REPO[:TAG] (src/readers/registry.c) */
extern const struct dc_reader_ops dc__reader_registry;
/* containers/image dir: layouts (src/readers/dir.c) */
extern const struct dc_reader_ops dc__reader_dir;
/* DC_EFORMAT "unrecognized format: WHAT; it holds 'a', 'b'": what SRC
 * looks like, by its top-level names, when no reader takes it. */
int dc__unrecognized(struct dc_src *src, const char *what);

/* Parse the JSON descriptor J into D (media type, digest, size); its
 * blob is PREFIX<hex> ("blobs/sha256/" in an OCI layout, "" in a dir:
 * layout). WHAT names J in errors (src/readers/oci_layout.c). */
struct json_t;
int dc__parse_desc(struct dc_ctx *ctx, struct json_t *j, struct dc_desc *d,
		   const char *prefix, const char *what);
/* Read the small blob D (a manifest, a config: at most DC_MAX_JSON
 * bytes) and check its size and digest. */
int dc__read_meta_blob(struct dc_reader *r, const struct dc_desc *d,
		       struct dc_buf *out);
/* Image configs; artifacts (SBOMs, signatures, Helm charts) are not. */
int dc__is_image_config(const char *mt);

#endif
