/*
 * moby's v1 images: v1 IDs, chain IDs, the <v1id>/json of a saved
 * layer, and the image config Docker makes of a pre-1.10 layer chain.
 */
#include "moby/moby.h"

#include <stdio.h>
#include <string.h>

#include "banned.h"

/*
 * json.Marshal(image.V1Image) (moby@v20.10.24 image/image.go) into M in
 * field order. SRC is the JSON it was decoded from: a v1 layer JSON or
 * an image config (whose "parent" belongs to image.Image, not to the
 * embedded V1Image: pass IS_CONFIG). NULL SRC is the zero V1Image with
 * created = the Unix epoch, as save.go makes for intermediate layers.
 * ID, PARENT and OS, when not NULL, replace the decoded fields.
 */
static int v1image_map(struct dc_gomap *m, json_t *src, int is_config,
		       const char *id, const char *parent, const char *os)
{
	struct dc_buf tmp = DC_BUF_INIT;
	struct dc_gow w = { m->ctx, &tmp, 0 };
	const char *s;
	json_t *v;
	int err = 0;

#define PUT_STR(key, val) do {						\
		s = (val);						\
		if (!err && s && *s) {					\
			tmp.len = 0;					\
			dc__gow_str(&w, s);				\
			err = dc__gomap_put_buf(m, key, &tmp, w.err);	\
		}							\
	} while (0)

	PUT_STR("id", id ? id : is_config ? NULL : dc__go_get_str(src, "id"));
	PUT_STR("parent", parent ? parent :
		is_config ? NULL : dc__go_get_str(src, "parent"));
	PUT_STR("comment", dc__go_get_str(src, "comment"));
	if (!err) {
		tmp.len = 0;
		if (src)
			dc__gow_time(&w, dc__go_get(src, "created", DC_GO_TIME));
		else
			dc__gow_str(&w, "1970-01-01T00:00:00Z");
		err = dc__gomap_put_buf(m, "created", &tmp, w.err);
	}
	PUT_STR("container", dc__go_get_str(src, "container"));
	if (!err) {
		tmp.len = 0;
		dc__gow_config(&w, dc__go_get(src, "container_config",
					      DC_GO_CONFIG));
		err = dc__gomap_put_buf(m, "container_config", &tmp, w.err);
	}
	PUT_STR("docker_version", dc__go_get_str(src, "docker_version"));
	PUT_STR("author", dc__go_get_str(src, "author"));
	if (!err && (v = dc__go_get(src, "config", DC_GO_CONFIGPTR))) {
		tmp.len = 0;
		dc__gow_config(&w, v);
		err = dc__gomap_put_buf(m, "config", &tmp, w.err);
	}
	PUT_STR("architecture", dc__go_get_str(src, "architecture"));
	PUT_STR("variant", dc__go_get_str(src, "variant"));
	PUT_STR("os", os ? os : dc__go_get_str(src, "os"));
	if (!err && (v = dc__go_get(src, "Size", DC_GO_INT)) &&
	    json_integer_value(v)) {
		tmp.len = 0;
		dc__gow_int(&w, json_integer_value(v));
		err = dc__gomap_put_buf(m, "Size", &tmp, w.err);
	}
#undef PUT_STR
	dc__buf_release(&tmp);
	return err;
}

/* ------------------------------------------------------------------ */
/* v1 IDs and layer JSONs, as `docker save` makes them */

void dc__v1_chain_id(char out[DC_DIGEST_MAX], const char *parent,
		     const char *diff_id)
{
	char b[2 * DC_DIGEST_MAX];

	if (!parent) {
		snprintf(out, DC_DIGEST_MAX, "%s", diff_id);
		return;
	}
	snprintf(b, sizeof(b), "%s %s", parent, diff_id);
	dc__sha256_digest(b, strlen(b), out);
}

/*
 * CreateID hashes the V1Image without "id", as a map, plus layer_id
 * (the chain ID) and parent ("sha256:<v1id>"). save.go gives the layers
 * below the top only created = the epoch.
 */
int dc__v1_create_id(struct dc_ctx *ctx, char out[65], json_t *cfg,
		     const char *chain_id, const char *parent)
{
	struct dc_gomap m = { ctx, NULL, 0 };
	struct dc_buf b = DC_BUF_INIT, pd = DC_BUF_INIT;
	struct dc_gow w = { ctx, &b, 0 };
	char d[DC_DIGEST_MAX];
	int err;

	if ((err = v1image_map(&m, cfg, 1, NULL, NULL, NULL)) < 0)
		goto out;
	dc__gomap_del(&m, "id");
	dc__gow_str(&w, chain_id);
	if ((err = dc__gomap_put_buf(&m, "layer_id", &b, w.err)) < 0)
		goto out;
	if (parent) {
		b.len = 0;
		if ((err = dc__buf_addf(ctx, &pd, "sha256:%s", parent)) < 0)
			goto out;
		dc__gow_str(&w, pd.data);
		if ((err = dc__gomap_put_buf(&m, "parent", &b, w.err)) < 0)
			goto out;
	}
	b.len = 0;
	if ((err = dc__gomap_dump(&m, &b, 1)) < 0)
		goto out;
	dc__sha256_digest(b.data, b.len, d);
	memcpy(out, dc__digest_hex(d), 65);
out:
	dc__gomap_release(&m);
	dc__buf_release(&b);
	dc__buf_release(&pd);
	return err;
}

int dc__v1_layer_json(struct dc_ctx *ctx, struct dc_buf *out, json_t *cfg,
		      const char *id, const char *parent, const char *os)
{
	struct dc_gomap m = { ctx, NULL, 0 };
	int err;

	if ((err = v1image_map(&m, cfg, 1, id, parent, os)) == 0)
		err = dc__gomap_dump(&m, out, 0);
	dc__gomap_release(&m);
	return err;
}

/* ------------------------------------------------------------------ */
/* The config of a pre-1.10 image, as `docker load` makes it */

/* strconv.Atoi of S[0..n), or 0 if it is not a number */
static long go_atoi(const char *s, size_t n)
{
	size_t i = (n && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
	long v = 0;

	if (i == n || n - i > 18)
		return 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return s[0] == '-' ? -v : v;
}

/* versions.LessThan(V, "1.8.3") (moby api/types/versions compare) */
static int version_before_183(const char *v)
{
	static const long want[] = { 1, 8, 3 };
	const char *p = v;
	size_t i, parts = 1, max;

	if (!strcmp(v, "1.8.3"))
		return 0;
	for (i = 0; v[i]; i++)
		parts += v[i] == '.';
	max = parts > 3 ? parts : 3;
	for (i = 0; i < max; i++) {
		long cur = 0, other = i < 3 ? want[i] : 0;

		if (i < parts) {
			const char *dot = strchr(p, '.');
			size_t len = dot ? (size_t)(dot - p) : strlen(p);

			cur = go_atoi(p, len);
			p += len + (dot ? 1 : 0);
		}
		if (cur != other)
			return cur < other;
	}
	return 0;
}

/* One history entry (HistoryFromConfig) as Go marshals image.History. */
static void gw_history(struct dc_gow *w, json_t *j)
{
	json_t *cc = dc__go_get(j, "container_config", DC_GO_CONFIG),
	       *cmd = dc__go_get(cc, "Cmd", DC_GO_STRSLICE);
	const char *s;
	size_t i;

	dc__gow_raw(w, "{\"created\":");
	dc__gow_time(w, dc__go_get(j, "created", DC_GO_TIME));
	if (*(s = dc__go_get_str(j, "author"))) {
		dc__gow_raw(w, ",\"author\":");
		dc__gow_str(w, s);
	}
	if (cmd && dc__go_list_len(cmd)) {
		struct dc_buf by = DC_BUF_INIT;
		struct dc_gow bw = { w->ctx, &by, 0 };

		if (json_is_string(cmd)) {
			dc__gow_raw(&bw, json_string_value(cmd));
		} else {
			json_t *e;

			json_array_foreach(cmd, i, e) {
				if (i)
					dc__gow_add(&bw, " ", 1);
				dc__gow_raw(&bw, json_is_string(e) ?
					    json_string_value(e) : "");
			}
		}
		if (bw.err && !w->err)
			w->err = bw.err;
		if (by.len) {
			dc__gow_raw(w, ",\"created_by\":");
			dc__gow_strn(w, by.data, by.len);
		}
		dc__buf_release(&by);
	}
	if (*(s = dc__go_get_str(j, "comment"))) {
		dc__gow_raw(w, ",\"comment\":");
		dc__gow_str(w, s);
	}
	dc__gow_raw(w, "}");
}

int dc__v1_history(struct dc_ctx *ctx, struct dc_buf *out, json_t *j)
{
	struct dc_gow w = { ctx, out, 0 };

	gw_history(&w, j);
	return w.err;
}

/*
 * MakeConfigFromV1Config: the top JSON as a map, minus the v1-only
 * keys, plus rootfs and history, marshalled.
 */
int dc__v1_make_config(struct dc_ctx *ctx, struct dc_buf *out,
		       const struct dc_v1_layer *layers, size_t n,
		       const struct dc_buf *top_raw, const char *top_label)
{
	static const char *const drop[] = { "id", "parent", "Size", "parent_id",
					    "layer_id", "throwaway" };
	json_t *top = layers[n - 1].json;
	struct dc_gomap m = { ctx, NULL, 0 };
	struct dc_buf tmp = DC_BUF_INIT;
	struct dc_gow w = { ctx, &tmp, 0 };
	json_t *dv = dc__go_get(top, "docker_version", DC_GO_STR);
	size_t i;
	int err;

	if (version_before_183(dv ? json_string_value(dv) : ""))
		err = v1image_map(&m, top, 0, NULL, NULL, NULL);
	else
		err = dc__gomap_raw_members(&m, top_raw->data, top_raw->len);
	if (err < 0) {
		dc_error_prefix(ctx, "'%s'", top_label);
		goto out;
	}
	for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		dc__gomap_del(&m, drop[i]);
	dc__gow_raw(&w, "{\"type\":\"layers\",\"diff_ids\":[");
	for (i = 0; i < n; i++) {
		if (i)
			dc__gow_add(&w, ",", 1);
		dc__gow_str(&w, layers[i].diff_id);
	}
	dc__gow_raw(&w, "]}");
	if ((err = dc__gomap_put_buf(&m, "rootfs", &tmp, w.err)) < 0)
		goto out;
	tmp.len = 0;
	dc__gow_add(&w, "[", 1);
	for (i = 0; i < n; i++) {
		if (i)
			dc__gow_add(&w, ",", 1);
		if (layers[i].history)
			dc__gow_add(&w, layers[i].history->data,
				    layers[i].history->len);
		else
			gw_history(&w, layers[i].json);
	}
	dc__gow_add(&w, "]", 1);
	if ((err = dc__gomap_put_buf(&m, "history", &tmp, w.err)) < 0)
		goto out;
	err = dc__gomap_dump(&m, out, 1);
out:
	dc__gomap_release(&m);
	dc__buf_release(&tmp);
	return err;
}
