/*
 * An index of strings held elsewhere: open addressing with linear
 * probing, at most half full, FNV-1a hashes. It stores entry numbers
 * only, so the entries may live in an array that is reallocated.
 */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

static size_t str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h ^ (h >> 32));
}

/* The slot holding K, or the empty one where it would go (CAP > 0). */
static size_t *slot_of(const struct dc_sindex *x, dc_sindex_key_fn key,
		       const void *arg, const char *k)
{
	size_t i = str_hash(k) & (x->cap - 1);

	while (x->slot[i] && strcmp(key(arg, x->slot[i] - 1), k))
		i = (i + 1) & (x->cap - 1);
	return &x->slot[i];
}

size_t dc__sindex_find(const struct dc_sindex *x, dc_sindex_key_fn key,
		       const void *arg, const char *k)
{
	return x->cap ? *slot_of(x, key, arg, k) - 1 : DC_SINDEX_NONE;
}

int dc__sindex_add(struct dc_ctx *ctx, struct dc_sindex *x,
		   dc_sindex_key_fn key, const void *arg, size_t i)
{
	if (2 * (x->n + 1) > x->cap) {
		struct dc_sindex nx = { NULL, x->cap ? 2 * x->cap : 64, 0 };
		size_t j;

		if (!(nx.slot = dc__calloc(ctx, nx.cap, sizeof(*nx.slot))))
			return DC_ENOMEM;
		for (j = 0; j < x->cap; j++)
			if (x->slot[j])
				*slot_of(&nx, key, arg,
					 key(arg, x->slot[j] - 1)) = x->slot[j];
		nx.n = x->n;
		free(x->slot);
		*x = nx;
	}
	*slot_of(x, key, arg, key(arg, i)) = i + 1;
	x->n++;
	return 0;
}

void dc__sindex_release(struct dc_sindex *x)
{
	free(x->slot);
	x->slot = NULL;
	x->cap = x->n = 0;
}
