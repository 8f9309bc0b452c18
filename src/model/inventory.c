/*
 * Inventories: what a far side holds, as digests, sizes and media types
 * (no data), and the record a delta keeps of what it left out. Both are
 * small versioned JSON documents:
 *
 *   {"schema":"decant-inventory/1","sources":[...],
 *    "blobs":[{"digest":"sha256:...","size":N,"mediaType":"..."},...],
 *    "notHeld":[ same ]}
 *   {"schema":"decant-delta/1","against":[...],"excluded":[ same ]}
 *
 * Blobs are kept sorted by digest, each once. "notHeld" (only when a
 * source is a delta) lists what a source refers to but does not hold and
 * no other source holds: it says what the far side needs from
 * elsewhere, and is never read as held.
 */
#include "model/model.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define INV_SCHEMA	"decant-inventory/1"
#define DELTA_SCHEMA	"decant-delta/1"
/* blobs in one inventory: a million is far beyond any real store */
#define INV_MAX_BLOBS	(1u << 20)
#define INV_MAX_NAMES	1024

struct dc_inventory {
	struct dc_inv_blob *b;
	size_t n, cap;
	int sorted;
	char **names;		/* sources, or what a delta is against */
	size_t nnames;
	int delta;		/* a delta's record */
	struct dc_inventory *not_held;	/* referred to, not held */
};

int dc_inventory_new(struct dc_ctx *ctx, struct dc_inventory **out)
{
	*out = dc__calloc(ctx, 1, sizeof(**out));
	return *out ? 0 : DC_ENOMEM;
}

void dc_inventory_free(struct dc_inventory *inv)
{
	size_t i;

	if (!inv)
		return;
	for (i = 0; i < inv->n; i++)
		free(inv->b[i].media_type);
	free(inv->b);
	for (i = 0; i < inv->nnames; i++)
		free(inv->names[i]);
	free(inv->names);
	dc_inventory_free(inv->not_held);
	free(inv);
}

static int blob_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dc_inv_blob *)a)->digest,
		      ((const struct dc_inv_blob *)b)->digest);
}

static void sort(struct dc_inventory *inv)
{
	if (!inv->sorted) {
		if (inv->n)
			qsort(inv->b, inv->n, sizeof(*inv->b), blob_cmp);
		inv->sorted = 1;
	}
}

const struct dc_inv_blob *dc__inventory_find(const struct dc_inventory *inv,
					     const char *digest)
{
	struct dc_inv_blob key;

	if (!inv || !inv->n || strlen(digest) >= sizeof(key.digest))
		return NULL;
	sort((struct dc_inventory *)inv);
	memcpy(key.digest, digest, strlen(digest) + 1);
	return bsearch(&key, inv->b, inv->n, sizeof(*inv->b), blob_cmp);
}

const struct dc_inv_blob *dc__inventory_blob(const struct dc_inventory *inv,
					     size_t i)
{
	sort((struct dc_inventory *)inv);
	return &inv->b[i];
}

size_t dc_inventory_name_count(const struct dc_inventory *inv)
{
	return inv->nnames;
}

const char *dc_inventory_name(const struct dc_inventory *inv, size_t i)
{
	return i < inv->nnames ? inv->names[i] : NULL;
}

int dc_inventory_has(const struct dc_inventory *inv, const char *digest)
{
	return dc__inventory_find(inv, digest) != NULL;
}

size_t dc_inventory_count(const struct dc_inventory *inv)
{
	return inv ? inv->n : 0;
}

void dc_inventory_get(const struct dc_inventory *inv, size_t i,
		      const char **digest, int64_t *size,
		      const char **media_type)
{
	const struct dc_inv_blob *b = dc__inventory_blob(inv, i);

	*digest = b->digest;
	*size = b->size;
	*media_type = b->media_type;
}

int dc_inventory_add(struct dc_ctx *ctx, struct dc_inventory *inv,
		     const char *digest, int64_t size, const char *media_type)
{
	const struct dc_inv_blob *have;
	struct dc_inv_blob *e;

	if (!dc__digest_valid(digest))
		return dc_error(ctx, DC_EFORMAT, "'%s': not a sha256 digest",
				digest);
	if (size < 0)
		return dc_error(ctx, DC_EFORMAT, "'%s': size %lld", digest,
				(long long)size);
	if ((have = dc__inventory_find(inv, digest))) {
		if (have->size != size)
			return dc_error(ctx, DC_EFORMAT,
					"'%s': listed as %lld and as %lld bytes",
					digest, (long long)have->size,
					(long long)size);
		return 0;
	}
	if (inv->n >= INV_MAX_BLOBS)
		return dc_error(ctx, DC_ELIMIT, "more than %u blobs",
				INV_MAX_BLOBS);
	if (inv->n == inv->cap) {
		size_t cap = inv->cap ? inv->cap * 2 : 64;
		struct dc_inv_blob *p = dc__reallocarray(ctx, inv->b, cap,
							 sizeof(*p));

		if (!p)
			return DC_ENOMEM;
		inv->b = p;
		inv->cap = cap;
	}
	e = &inv->b[inv->n];
	memset(e, 0, sizeof(*e));
	memcpy(e->digest, digest, strlen(digest) + 1);
	e->size = size;
	if (media_type && !(e->media_type = dc__strdup(ctx, media_type)))
		return DC_ENOMEM;
	inv->n++;
	inv->sorted = 0;
	return 0;
}

int dc_inventory_add_name(struct dc_ctx *ctx, struct dc_inventory *inv,
			  const char *name)
{
	char **p;

	if (inv->nnames >= INV_MAX_NAMES)
		return dc_error(ctx, DC_ELIMIT, "more than %u sources",
				INV_MAX_NAMES);
	if (!(p = dc__reallocarray(ctx, inv->names, inv->nnames + 1,
				   sizeof(*p))))
		return DC_ENOMEM;
	inv->names = p;
	if (!(p[inv->nnames] = dc__strdup(ctx, name)))
		return DC_ENOMEM;
	inv->nnames++;
	return 0;
}

/* D into INV, or into its not-held list when ABSENT has it */
static int add_desc(struct dc_ctx *ctx, struct dc_inventory *inv,
		    const struct dc_desc *d, const struct dc_inventory *absent)
{
	if (!d->digest[0] || d->size < 0)
		return 0;
	if (absent && dc__inventory_find(absent, d->digest)) {
		if (!inv->not_held && dc_inventory_new(ctx, &inv->not_held) < 0)
			return DC_ENOMEM;
		inv = inv->not_held;
	}
	return dc_inventory_add(ctx, inv, d->digest, d->size, d->media_type);
}

int dc_inventory_add_set_absent(struct dc_ctx *ctx, struct dc_inventory *inv,
				const struct dc_set *set,
				const struct dc_inventory *absent)
{
	size_t i, j;
	int err = 0;

	for (i = 0; i < set->nidx && !err; i++)
		err = add_desc(ctx, inv, &set->idx[i]->desc, absent);
	for (i = 0; i < set->n && !err; i++) {
		const struct dc_image *img = set->img[i];

		if (!img->manifest_synth)
			err = add_desc(ctx, inv, &img->manifest, absent);
		if (!err)
			err = add_desc(ctx, inv, &img->config, absent);
		for (j = 0; j < img->nlayers && !err; j++)
			err = add_desc(ctx, inv, &img->layers[j], absent);
	}
	return err;
}

int dc_inventory_add_set(struct dc_ctx *ctx, struct dc_inventory *inv,
			 const struct dc_set *set)
{
	return dc_inventory_add_set_absent(ctx, inv, set, NULL);
}

size_t dc_inventory_not_held_count(const struct dc_inventory *inv)
{
	const struct dc_inventory *nh = inv ? inv->not_held : NULL;
	size_t i, k = 0;

	for (i = 0; nh && i < nh->n; i++)
		k += !dc__inventory_find(inv, dc__inventory_blob(nh, i)->digest);
	return k;
}

int dc__inventory_set_delta(struct dc_inventory *inv)
{
	inv->delta = 1;
	return 0;
}

int dc__inventory_is_delta(const struct dc_inventory *inv)
{
	return inv->delta;
}

/* BLOBS of INV as JSON objects into ARR, those HELD lists left out;
 * nonzero when out of memory */
static int blobs_json(json_t *arr, const struct dc_inventory *inv,
		      const struct dc_inventory *held)
{
	size_t i;
	int bad = !arr;

	sort((struct dc_inventory *)inv);
	for (i = 0; i < inv->n && !bad; i++) {
		json_t *o;

		if (held && dc__inventory_find(held, inv->b[i].digest))
			continue;
		o = json_object();
		bad |= json_object_set_new(o, "digest",
					   json_string(inv->b[i].digest));
		bad |= json_object_set_new(o, "size",
					   json_integer(inv->b[i].size));
		if (inv->b[i].media_type)
			bad |= json_object_set_new(o, "mediaType",
						   json_string(inv->b[i].media_type));
		bad |= json_array_append_new(arr, o);
	}
	return bad;
}

int dc_inventory_json(struct dc_ctx *ctx, const struct dc_inventory *inv,
		      char **out)
{
	json_t *root = json_object(), *names = json_array(),
	       *blobs = json_array(), *not_held = NULL;
	size_t i;
	int bad = 0;

	*out = NULL;
	bad |= !root || !names || !blobs;
	bad |= json_object_set_new(root, "schema", json_string(inv->delta ?
						  DELTA_SCHEMA : INV_SCHEMA));
	for (i = 0; i < inv->nnames; i++)
		bad |= json_array_append_new(names, json_string(inv->names[i]));
	bad |= json_object_set(root, inv->delta ? "against" : "sources", names);
	bad |= blobs_json(blobs, inv, NULL);
	bad |= json_object_set(root, inv->delta ? "excluded" : "blobs", blobs);
	if (dc_inventory_not_held_count(inv)) {
		not_held = json_array();
		bad |= blobs_json(not_held, inv->not_held, inv);
		bad |= json_object_set(root, "notHeld", not_held);
	}
	if (!bad)
		*out = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
				  JSON_ENSURE_ASCII);
	json_decref(names);
	json_decref(blobs);
	json_decref(not_held);
	json_decref(root);
	return *out ? 0 : dc__enomem(ctx);
}

static int parse_blobs(struct dc_ctx *ctx, struct dc_inventory *inv,
		       json_t *arr, const char *key)
{
	size_t i;
	int err;

	if (!json_is_array(arr))
		return dc_error(ctx, DC_EFORMAT, "'%s' is not an array", key);
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i), *dg, *sz, *mt;

		if (!json_is_object(o))
			return dc_error(ctx, DC_EFORMAT, "%s[%zu] is not an object",
					key, i);
		dg = json_object_get(o, "digest");
		sz = json_object_get(o, "size");
		mt = json_object_get(o, "mediaType");
		if (!json_is_string(dg) || !json_is_integer(sz) ||
		    (mt && !json_is_string(mt)))
			return dc_error(ctx, DC_EFORMAT,
					"%s[%zu]: needs a string 'digest', an integer 'size' and a string 'mediaType' if any",
					key, i);
		if ((err = dc_inventory_add(ctx, inv, json_string_value(dg),
					    json_integer_value(sz),
					    mt ? json_string_value(mt) : NULL)) < 0)
			return dc_error_prefix(ctx, "%s[%zu]", key, i);
	}
	return 0;
}

int dc_inventory_parse(struct dc_ctx *ctx, const void *data, size_t n,
		       struct dc_inventory **out)
{
	struct dc_buf b = DC_BUF_INIT;
	struct dc_inventory *inv = NULL;
	json_t *root = NULL, *schema, *names;
	const char *s;
	size_t i;
	int err;

	*out = NULL;
	if (n > DC_MAX_JSON) {
		err = dc_error(ctx, DC_ELIMIT, "inventory: larger than %u bytes",
			       DC_MAX_JSON);
		goto out;
	}
	b.data = (char *)data;
	b.len = n;
	if ((err = dc__json_parse(ctx, &root, &b, "inventory")) < 0)
		goto out;
	if ((err = dc_inventory_new(ctx, &inv)) < 0)
		goto out;
	schema = json_is_object(root) ? json_object_get(root, "schema") : NULL;
	s = json_string_value(schema);
	if (!s || (strcmp(s, INV_SCHEMA) && strcmp(s, DELTA_SCHEMA))) {
		err = dc_error(ctx, DC_EFORMAT,
			       "inventory: 'schema' is not \"%s\" (made by 'decant inventory')",
			       INV_SCHEMA);
		goto out;
	}
	inv->delta = !strcmp(s, DELTA_SCHEMA);
	names = json_object_get(root, inv->delta ? "against" : "sources");
	if (names && !json_is_array(names)) {
		err = dc_error(ctx, DC_EFORMAT, "inventory: '%s' is not an array",
			       inv->delta ? "against" : "sources");
		goto out;
	}
	for (i = 0; i < json_array_size(names); i++) {
		const char *nm = json_string_value(json_array_get(names, i));

		if (!nm) {
			err = dc_error(ctx, DC_EFORMAT,
				       "inventory: names must be strings");
			goto out;
		}
		if ((err = dc_inventory_add_name(ctx, inv, nm)) < 0)
			goto out;
	}
	if ((err = parse_blobs(ctx, inv, json_object_get(root, inv->delta ?
							 "excluded" : "blobs"),
			       inv->delta ? "excluded" : "blobs")) < 0) {
		dc_error_prefix(ctx, "inventory");
		goto out;
	}
	*out = inv;
	inv = NULL;
out:
	json_decref(root);
	dc_inventory_free(inv);
	return err;
}
