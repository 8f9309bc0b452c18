/*
 * Helpers shared by the writers in src/writers/.
 */
#ifndef DC_WRITERS_H
#define DC_WRITERS_H

#include "internal.h"

#include <stdio.h>

/* "blobs/sha256/<hex>": where an OCI layout (directory or tar) keeps
 * the blob DIGEST. N of 96 is enough for any digest we accept. */
static inline void dc__blob_name(char *buf, size_t n, const char *digest)
{
	snprintf(buf, n, "blobs/sha256/%s", dc__digest_hex(digest));
}

/* manifest.json as Docker 25+ writes it: Config, RepoTags, Layers. */
int dc__docker_manifest_json(struct dc_ctx *ctx, struct dc_buf *out,
			     const struct dc_image *const *img, size_t n);
/* repositories: {"name":{"tag":"<top layer diff_id hex>"}}; empty if
 * no image is tagged. */
int dc__docker_repositories(struct dc_ctx *ctx, struct dc_buf *out,
			    const struct dc_image *const *img, size_t n);

/* containers/image dir: layouts (src/writers/dir.c) */
extern const struct dc_writer_ops dc__writer_dir;

#endif
