/*
 * Config edits on any image (dc_set_edit_config): Dockerfile
 * instructions applied to the container config and a new "created".
 *
 * The config is written again only when it changes, and then only the
 * members that change: every other key keeps its place and its bytes
 * (as Go's encoding/json compacts them), and a key the source did not
 * have is added only when it gets a value. Changed members are encoded
 * as Go marshals moby's container.Config. The config digest, the
 * image's manifest and the index that lists it are made again.
 */
#include "model/model.h"
#include "moby/moby.h"
#include "transform/transform.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Is V what an omitted member decodes to? */
static int is_zero(json_t *v)
{
	return !v || json_is_null(v) || json_is_false(v) ||
	       (json_is_string(v) && !json_string_length(v)) ||
	       (json_is_array(v) && !json_array_size(v)) ||
	       (json_is_object(v) && !json_object_size(v));
}

/* The raw bytes of member KEY of M, or NULL. */
static const struct dc_buf *gomap_get(const struct dc_gomap *m,
				      const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].key, key))
			return &m->e[i].val;
	return NULL;
}

/*
 * The container config OLD_RAW (N bytes; NULL: none) with NEW's
 * changed members put in: into OUT.
 */
static int merge_config(struct dc_ctx *ctx, const char *old_raw, size_t n,
			json_t *old, json_t *new, struct dc_buf *out)
{
	struct dc_gomap om = { ctx, NULL, 0 }, nm = { ctx, NULL, 0 };
	struct dc_buf enc = { 0 };
	struct dc_gow w = { ctx, &enc, 0 };
	size_t i;
	int err;

	dc__gow_config(&w, new);
	if ((err = w.err) < 0 ||
	    (err = dc__gomap_raw_members(&nm, enc.data, enc.len)) < 0 ||
	    (old_raw && (err = dc__gomap_raw_members(&om, old_raw, n)) < 0))
		goto out;
	for (i = 0; i < dc__moby_nconfig_fields && !err; i++) {
		const char *k = dc__moby_config_fields[i].name;
		json_t *ov = json_object_get(old, k), *nv = json_object_get(new, k);
		const struct dc_buf *b = gomap_get(&nm, k);

		if (json_equal(ov, nv) || (is_zero(ov) && is_zero(nv)))
			continue;
		if (b)
			err = dc__gomap_put(&om, k, b->data, b->len);
		else
			dc__gomap_del(&om, k);
	}
	if (!err)
		err = dc__gomap_dump(&om, out, 0);
out:
	dc__gomap_release(&om);
	dc__gomap_release(&nm);
	dc__buf_release(&enc);
	return err;
}

/* The descriptor of OLD_DIGEST in index X becomes IMG's manifest. */
static int edit_index(struct dc_ctx *ctx, struct dc_index *x,
		      const char *old_digest, const struct dc_image *img)
{
	json_t *root = NULL, *list, *d;
	size_t i;
	int err;

	if (!x->raw.len)
		return 0;
	if ((err = dc__json_parse(ctx, &root, &x->raw, x->desc.digest)) < 0)
		return err;
	list = json_object_get(root, "manifests");
	json_array_foreach(list, i, d) {
		const char *dg = json_string_value(json_object_get(d, "digest"));

		if (!dg || strcmp(dg, old_digest))
			continue;
		if (json_object_set_new(d, "mediaType",
					json_string(img->manifest.media_type)) < 0 ||
		    json_object_set_new(d, "digest",
					json_string(img->manifest.digest)) < 0 ||
		    json_object_set_new(d, "size",
					json_integer(img->manifest.size)) < 0) {
			err = dc__enomem(ctx);
			goto out;
		}
	}
	x->raw.len = 0;
	if ((err = dc__json_dump(ctx, &x->raw, root)) < 0)
		goto out;
	dc__sha256_digest(x->raw.data, x->raw.len, x->desc.digest);
	x->desc.size = (int64_t)x->raw.len;
out:
	json_decref(root);
	return err;
}

static int edit_image(struct dc_ctx *ctx, struct dc_image *img,
		      const char *const *changes, size_t n,
		      const char *created)
{
	struct dc_gomap top = { ctx, NULL, 0 };
	struct dc_buf cfg = { 0 }, out = { 0 };
	json_t *root = NULL, *old, *new = NULL;
	const struct dc_buf *oraw;
	char old_manifest[DC_DIGEST_MAX];
	int err;

	if ((err = dc__json_parse(ctx, &root, &img->config_raw,
				  img->config.digest)) < 0 ||
	    (err = dc__gomap_raw_members(&top, img->config_raw.data,
					 img->config_raw.len)) < 0)
		goto out;
	old = json_object_get(root, "config");
	if (n) {
		if ((err = dc__changes_apply(ctx, &new, json_is_object(old) ?
					     old : NULL, changes, n)) < 0)
			goto out;
		oraw = json_is_object(old) ? gomap_get(&top, "config") : NULL;
		if ((err = merge_config(ctx, oraw ? oraw->data : NULL,
					oraw ? oraw->len : 0,
					json_is_object(old) ? old : NULL, new,
					&cfg)) < 0 ||
		    (err = dc__gomap_put(&top, "config", cfg.data, cfg.len)) < 0)
			goto out;
	}
	if (created) {
		char t[48];

		dc__go_time(created, t, sizeof(t));
		cfg.len = 0;
		if ((err = dc__buf_addstr(ctx, &cfg, "\"")) < 0 ||
		    (err = dc__buf_addstr(ctx, &cfg, t)) < 0 ||
		    (err = dc__buf_addstr(ctx, &cfg, "\"")) < 0 ||
		    (err = dc__gomap_put(&top, "created", cfg.data, cfg.len)) < 0)
			goto out;
	}
	if ((err = dc__gomap_dump(&top, &out, 0)) < 0)
		goto out;
	if (out.len == img->config_raw.len &&
	    !memcmp(out.data, img->config_raw.data, out.len))
		goto out;	/* nothing changed: the bytes stay */
	img->config_raw.len = 0;
	if ((err = dc__buf_add(ctx, &img->config_raw, out.data, out.len)) < 0)
		goto out;
	dc__sha256_digest(img->config_raw.data, img->config_raw.len,
			  img->config.digest);
	img->config.size = (int64_t)img->config_raw.len;
	memcpy(old_manifest, img->manifest.digest, sizeof(old_manifest));
	if ((err = dc__image_synth_manifest(ctx, img)) < 0)
		goto out;
	if (img->index)
		err = edit_index(ctx, img->index, old_manifest, img);
out:
	json_decref(new);
	json_decref(root);
	dc__gomap_release(&top);
	dc__buf_release(&cfg);
	dc__buf_release(&out);
	return err;
}

/* Go's zero time is what dc__go_time() makes of what it cannot parse. */
static int created_valid(const char *s)
{
	char t[48];

	dc__go_time(s, t, sizeof(t));
	return strcmp(t, "0001-01-01T00:00:00Z") ||
	       !strncmp(s, "0001-01-01T00:00:00", 19);
}

int dc_set_edit_config(struct dc_ctx *ctx, struct dc_set *set,
		       const char *const *changes, size_t n,
		       const char *created)
{
	json_t *probe = NULL;
	size_t i;
	int err = 0;

	if (created && !created_valid(created))
		return dc_error(ctx, DC_EINVAL,
				"--created '%s': expected an RFC 3339 time (e.g. 2024-01-02T03:04:05Z)",
				created);
	/* a bad change fails before any image is touched */
	if (n && (err = dc__changes_apply(ctx, &probe, NULL, changes, n)) < 0)
		return err;
	json_decref(probe);
	for (i = 0; i < set->n && !err; i++)
		err = edit_image(ctx, set->img[i], changes, n, created);
	return err;
}
