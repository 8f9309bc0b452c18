/*
 * Fuzz target for inventories and delta records (src/model/inventory.c):
 * what came back from the far side is untrusted. A parsed inventory is
 * written out again and must parse to the same blobs.
 */
#include "util/util.h"
#include "blob/blob.h"
#include "model/model.h"
#include "readers/readers.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_ctx *ctx = NULL;
	struct dc_inventory *inv = NULL, *again = NULL;
	char *json = NULL;
	size_t i;

	if (dc_ctx_new(&ctx) < 0)
		return 0;
	if (dc_inventory_parse(ctx, data, size, &inv) == 0) {
		if (dc_inventory_json(ctx, inv, &json) < 0)
			goto out;
		if (dc_inventory_parse(ctx, json, strlen(json), &again) < 0 ||
		    dc_inventory_count(again) != dc_inventory_count(inv))
			DC_BUG("inventory does not round-trip: %s", ctx->msg);
		for (i = 0; i < dc_inventory_count(inv); i++) {
			const char *d1, *d2, *m1, *m2;
			int64_t s1, s2;

			dc_inventory_get(inv, i, &d1, &s1, &m1);
			dc_inventory_get(again, i, &d2, &s2, &m2);
			if (strcmp(d1, d2) || s1 != s2 || !m1 != !m2 ||
			    (m1 && strcmp(m1, m2)))
				DC_BUG("inventory blob %zu changed", i);
			if (dc__inventory_find(inv, d1) == NULL)
				DC_BUG("inventory blob %zu not found", i);
		}
	}
out:
	free(json);
	dc_inventory_free(again);
	dc_inventory_free(inv);
	dc_ctx_free(ctx);
	return 0;
}
