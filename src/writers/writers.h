/*
 * Helpers shared by the writers in src/writers/.
 */
#ifndef DC_WRITERS_H
#define DC_WRITERS_H

#include "internal.h"

/* manifest.json as Docker 25+ writes it: Config, RepoTags, Layers. */
int dc__docker_manifest_json(struct dc_ctx *ctx, struct dc_buf *out,
			     const struct dc_image *const *img, size_t n);
/* repositories: {"name":{"tag":"<top layer diff_id hex>"}}; empty if
 * no image is tagged. */
int dc__docker_repositories(struct dc_ctx *ctx, struct dc_buf *out,
			    const struct dc_image *const *img, size_t n);

#endif
