/*
 * Private header of src/transform/: transforms that take an image set
 * and give one back. (squash, recompress and the config edits are
 * still declared in internal.h.)
 */
#ifndef DC_TRANSFORM_H
#define DC_TRANSFORM_H

#ifndef DC_BUILDING
#error "transform/transform.h is private to decant"
#endif

#include "internal.h"

/*
 * The images of SET a target takes, in set order: all of them for a
 * MULTI_PLATFORM target, else one per multi-platform index, the host's
 * (with a notice saying so). *OUT (the caller frees the array; the
 * images stay SET's) gets *N of them.
 */
int dc__select_for_target(struct dc_ctx *ctx, const struct dc_set *set,
			  int multi_platform, const struct dc_image ***out,
			  size_t *n);

#endif
