/*
 * decant: inventories, what a far side holds (digests, sizes and media
 * types, no data), for deltas across an air gap.
 */
#ifndef DECANT_INVENTORY_H
#define DECANT_INVENTORY_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "image.h"

struct dc_inventory;

DC_API int dc_inventory_new(struct dc_ctx *ctx, struct dc_inventory **out);
/* NULL-safe. */
DC_API void dc_inventory_free(struct dc_inventory *inv);

/* Add one blob; the same digest again must have the same size. */
DC_API int dc_inventory_add(struct dc_ctx *ctx, struct dc_inventory *inv,
			    const char *digest, int64_t size,
			    const char *media_type);
/* Add every blob of SET: indexes, manifests, configs, layers. */
DC_API int dc_inventory_add_set(struct dc_ctx *ctx, struct dc_inventory *inv,
				const struct dc_set *set);
/*
 * The same for a delta (SET loaded with dc_reader_allow_absent): a blob
 * that ABSENT lists (what the source refers to but lacks, as
 * dc_reader_missing() gives it) is listed apart as not held, every other
 * one as held. ABSENT may be NULL.
 */
DC_API int dc_inventory_add_set_absent(struct dc_ctx *ctx,
				       struct dc_inventory *inv,
				       const struct dc_set *set,
				       const struct dc_inventory *absent);
/* How many blobs INV lists as not held (and no source of it holds). */
DC_API size_t dc_inventory_not_held_count(const struct dc_inventory *inv);
/* Add NAME to the list of sources it describes. */
DC_API int dc_inventory_add_name(struct dc_ctx *ctx,
				 struct dc_inventory *inv, const char *name);

/* How many blobs; the I-th in digest order (media type may be NULL). */
DC_API size_t dc_inventory_count(const struct dc_inventory *inv);
DC_API void dc_inventory_get(const struct dc_inventory *inv, size_t i,
			     const char **digest, int64_t *size,
			     const char **media_type);
/* Does INV hold DIGEST? */
DC_API int dc_inventory_has(const struct dc_inventory *inv, const char *digest);
/* What it describes: how many names, the I-th (sources, or for a
 * delta's record what the delta is against). */
DC_API size_t dc_inventory_name_count(const struct dc_inventory *inv);
DC_API const char *dc_inventory_name(const struct dc_inventory *inv, size_t i);

/*
 * The inventory as JSON (*OUT, free() it): {"schema":
 * "decant-inventory/1", "sources": [...], "blobs": [{"digest", "size",
 * "mediaType"}, ...]}, blobs sorted by digest; with "notHeld": [...]
 * in the same form when a source (a delta) refers to blobs that none
 * holds. Reading it back (dc_inventory_parse) takes "blobs" only.
 */
DC_API int dc_inventory_json(struct dc_ctx *ctx,
			     const struct dc_inventory *inv, char **out);

/*
 * Parse an inventory (or a delta's record of what it left out, schema
 * "decant-delta/1"): DC_EFORMAT for anything that is not one, DC_ELIMIT
 * beyond the caps (8 MiB, a million blobs).
 */
DC_API int dc_inventory_parse(struct dc_ctx *ctx, const void *data, size_t n,
			      struct dc_inventory **out);

#endif
