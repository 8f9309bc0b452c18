/*
 * decant: the image model, read-only accessors.
 *
 * An image set is what a reader produced: images with tags, a platform,
 * a manifest, a config and layers. Everything returned here is borrowed
 * and lives as long as the set.
 */
#ifndef DECANT_IMAGE_H
#define DECANT_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct dc_set;
struct dc_image;
struct dc_desc;

DC_API void dc_set_free(struct dc_set *set);

/* The source format name: "docker-archive", "docker-legacy", "oci", ... */
DC_API const char *dc_set_format(const struct dc_set *set);
DC_API size_t dc_set_count(const struct dc_set *set);
DC_API const struct dc_image *dc_set_image(const struct dc_set *set,
					   size_t i);

/* Tags in familiar form ("busybox:latest", "example.com/a/b:c"). */
DC_API size_t dc_image_tag_count(const struct dc_image *img);
DC_API const char *dc_image_tag(const struct dc_image *img, size_t i);
/* The multi-platform index holding the image ("sha256:..."), or NULL;
 * such an image's tags are the index's. */
DC_API const char *dc_image_index_digest(const struct dc_image *img);
/* An OCI ref.name that is not a full reference (e.g. "1.0"), or NULL. */
DC_API const char *dc_image_ref_name(const struct dc_image *img);
/* "os/arch" or "os/arch/variant"; "" if the config has none. */
DC_API const char *dc_image_platform(const struct dc_image *img);
/* Manifest descriptor; may be synthesized (docker-legacy sources). */
DC_API const struct dc_desc *dc_image_manifest(const struct dc_image *img);
DC_API const struct dc_desc *dc_image_config(const struct dc_image *img);
DC_API size_t dc_image_layer_count(const struct dc_image *img);
DC_API const struct dc_desc *dc_image_layer(const struct dc_image *img,
					    size_t i);
/* The image ID (the config digest). */
DC_API const char *dc_image_id(const struct dc_image *img);
/* The exact bytes of the config and manifest (*LEN of them; not
 * NUL-terminated), and of the multi-platform index holding the image
 * (NULL if none). A synthesized manifest is decant's (legacy sources,
 * edited configs): dc_image_manifest_synthesized() is 1 then. */
DC_API const char *dc_image_config_raw(const struct dc_image *img,
				       size_t *len);
DC_API const char *dc_image_manifest_raw(const struct dc_image *img,
					 size_t *len);
DC_API const char *dc_image_index_raw(const struct dc_image *img,
				      size_t *len);
DC_API int dc_image_manifest_synthesized(const struct dc_image *img);

DC_API const char *dc_desc_media_type(const struct dc_desc *d);
DC_API const char *dc_desc_digest(const struct dc_desc *d);
DC_API int64_t dc_desc_size(const struct dc_desc *d);
/* Layers only: "sha256:..." of the uncompressed tar, or NULL. */
DC_API const char *dc_desc_diff_id(const struct dc_desc *d);
/* Layers only: "none", "gzip", "zstd", "bzip2", "xz". */
DC_API const char *dc_desc_compression(const struct dc_desc *d);

#endif
