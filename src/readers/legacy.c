/*
 * Reader for pre-1.10 `docker save` archives (Docker 1.9 and older): one
 * <id>/{VERSION,json,layer.tar} directory per layer, chained by
 * "parent", plus "repositories"; no manifest.json and no image config.
 *
 * The config is made the way Docker 20.10 makes it when it loads such
 * an archive (moby@v20.10.24 image/tarexport/load.go legacyLoadImage,
 * image/v1/imagev1.go MakeConfigFromV1Config and HistoryFromConfig), so
 * the image ID is the one `docker load` reports. That needs Go's
 * encoding/json byte for byte; the emulation below is also used by the
 * docker-legacy writer for v1 layer IDs (dc__v1_create_id).
 *
 * Layers are passed on as their bytes are: like `docker load`, a 0-byte
 * layer.tar gets the diff_id sha256("") and a truncated one the hash of
 * its bytes (the emptyLayer.tar sample has both; dockerd 20.10 reports
 * exactly these diff_ids). Go's archive/tar reads both as valid tars.
 */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "readers/readers.h"

#define LEGACY_MAX_DEPTH 1000	/* parent chain; Docker stops at 125 */

/* ------------------------------------------------------------------ */
/* Go encoding/json, as Docker 20.10 (Go 1.19) marshals */

/* An output buffer whose first error sticks; check ->err at the end. */
struct gw {
	struct dc_ctx *ctx;
	struct dc_buf *b;
	int err;
};

static void gw_add(struct gw *w, const void *p, size_t n)
{
	if (!w->err)
		w->err = dc__buf_add(w->ctx, w->b, p, n);
}

static void gw_raw(struct gw *w, const char *s)
{
	gw_add(w, s, strlen(s));
}

/*
 * A Go string with HTML escaping (encode.go encodeState.string): '"',
 * '\\', '<', '>', '&' and control bytes escaped, \n \r \t short (Go
 * before 1.22 has no \b \f), U+2028 and U+2029 as \u2028 \u2029.
 * Jansson hands us valid UTF-8 only.
 */
static void gw_strn(struct gw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, start = 0;
	char esc[8];

	gw_add(w, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];
		size_t skip = 1;

		if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' &&
		    c != '&' && !(c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 &&
				 (p[i + 2] & 0xfe) == 0xa8))
			continue;
		gw_add(w, s + start, i - start);
		esc[0] = '\\';
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			esc[2] = '\0';
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			esc[2] = '\0';
		} else if (c == 0xe2) {
			memcpy(esc + 1, "u202", 4);
			esc[5] = hex[p[i + 2] & 0xf];
			esc[6] = '\0';
			skip = 3;
		} else {
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			esc[6] = '\0';
		}
		gw_raw(w, esc);
		i += skip - 1;
		start = i + 1;
	}
	gw_add(w, s + start, n - start);
	gw_add(w, "\"", 1);
}

static void gw_str(struct gw *w, const char *s)
{
	gw_strn(w, s ? s : "", s ? strlen(s) : 0);
}

static void gw_int(struct gw *w, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	gw_raw(w, num);
}

/*
 * Go's compact() as json.Marshal applies it to a json.RawMessage:
 * whitespace outside strings goes, '<' '>' '&' and U+2028/U+2029
 * become \u escapes, everything else is kept byte for byte.
 */
static void gw_compact(struct gw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, start = 0;
	int in_str = 0;
	char esc[8];

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (in_str) {
			if (c == '\\') {
				i++;
				continue;
			}
			if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			gw_add(w, s + start, i - start);
			start = i + 1;
			continue;
		}
		if (c == '<' || c == '>' || c == '&') {
			gw_add(w, s + start, i - start);
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			esc[6] = '\0';
			gw_raw(w, esc);
			start = i + 1;
		} else if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 &&
			   (p[i + 2] & 0xfe) == 0xa8) {
			gw_add(w, s + start, i - start);
			memcpy(esc, "\\u202", 5);
			esc[5] = hex[p[i + 2] & 0xf];
			esc[6] = '\0';
			gw_raw(w, esc);
			i += 2;
			start = i + 1;
		}
	}
	gw_add(w, s + start, n - start);
}

/*
 * A Go map[string]*json.RawMessage: keys with their encoded values.
 * Dumped sorted (json.Marshal of a map) or in insertion order (a
 * struct's field order).
 */
struct gment {
	char *key;
	struct dc_buf val;
};

struct gomap {
	struct dc_ctx *ctx;
	struct gment *e;
	size_t n;
};

static void gomap_release(struct gomap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->e[i].key);
		dc__buf_release(&m->e[i].val);
	}
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

static struct gment *gomap_find(struct gomap *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].key, key))
			return &m->e[i];
	return NULL;
}

/* Set KEY to the encoded value V (replacing, as a map does). */
static int gomap_put(struct gomap *m, const char *key, const char *v,
		     size_t n)
{
	struct gment *e = gomap_find(m, key), *ne;

	if (!e) {
		if (!(ne = dc__reallocarray(m->ctx, m->e, m->n + 1, sizeof(*ne))))
			return DC_ENOMEM;
		m->e = ne;
		e = &m->e[m->n];
		memset(e, 0, sizeof(*e));
		if (!(e->key = dc__strdup(m->ctx, key)))
			return DC_ENOMEM;
		m->n++;
	}
	e->val.len = 0;
	return dc__buf_add(m->ctx, &e->val, v, n);
}

static void gomap_del(struct gomap *m, const char *key)
{
	struct gment *e = gomap_find(m, key);

	if (!e)
		return;
	free(e->key);
	dc__buf_release(&e->val);
	memmove(e, e + 1, (size_t)(m->e + m->n - (e + 1)) * sizeof(*e));
	m->n--;
}

static int cmp_gment(const void *a, const void *b)
{
	return strcmp(((const struct gment *)a)->key,
		      ((const struct gment *)b)->key);
}

static int gomap_dump(struct gomap *m, struct dc_buf *out, int sorted)
{
	struct gw w = { m->ctx, out, 0 };
	size_t i;

	if (sorted && m->n)
		qsort(m->e, m->n, sizeof(*m->e), cmp_gment);
	gw_add(&w, "{", 1);
	for (i = 0; i < m->n; i++) {
		if (i)
			gw_add(&w, ",", 1);
		gw_str(&w, m->e[i].key);
		gw_add(&w, ":", 1);
		gw_add(&w, m->e[i].val.data, m->e[i].val.len);
	}
	gw_add(&w, "}", 1);
	return w.err;
}

/* Encode with EMIT into a scratch buffer and put it under KEY. */
static int gomap_put_gw(struct gomap *m, const char *key, struct dc_buf *tmp,
			int err)
{
	if (err)
		return err;
	return gomap_put(m, key, tmp->data ? tmp->data : "", tmp->len);
}

/* ------------------------------------------------------------------ */
/* Go's json.Unmarshal into typed structs */

/*
 * Go matches object keys to struct fields case-insensitively and the
 * last key wins; null leaves a value field alone and sets a pointer,
 * slice or map field to nil; a value of the wrong type is an error
 * that leaves the field alone.
 */
enum gtype {
	G_STR, G_BOOL, G_INT, G_TIME,
	G_STRLIST,	/* []string */
	G_STRSLICE,	/* strslice.StrSlice: a string or []string */
	G_SET,		/* map[string]struct{} */
	G_STRMAP,	/* map[string]string */
	G_HEALTH,	/* *container.HealthConfig */
	G_INTPTR,	/* *int */
	G_CONFIG,	/* container.Config */
	G_CONFIGPTR	/* *container.Config */
};

static int strslice_ok(json_t *v)
{
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return 1;
	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!json_is_string(e) && !json_is_null(e))
			return 0;
	return 1;
}

static int type_ok(enum gtype t, json_t *v)
{
	int null = json_is_null(v);

	switch (t) {
	case G_STR:
	case G_TIME:
		return json_is_string(v);
	case G_BOOL:
		return json_is_boolean(v);
	case G_INT:
		return json_is_integer(v);
	case G_STRLIST:
		return null || json_is_array(v);
	case G_STRSLICE:
		return null || strslice_ok(v);
	case G_SET:
	case G_STRMAP:
	case G_HEALTH:
	case G_CONFIGPTR:
		return null || json_is_object(v);
	case G_INTPTR:
		return null || json_is_integer(v);
	case G_CONFIG:
		return json_is_object(v);
	}
	return 0;
}

/* The value Go would decode into field NAME of type T, or NULL (zero). */
static json_t *gget(json_t *obj, const char *name, enum gtype t)
{
	json_t *v, *found = NULL;
	const char *k;

	if (!json_is_object(obj))
		return NULL;
	json_object_foreach(obj, k, v)
		if (!strcasecmp(k, name) && type_ok(t, v))
			found = v;
	return json_is_null(found) ? NULL : found;
}

static const char *gget_str(json_t *obj, const char *name)
{
	json_t *v = gget(obj, name, G_STR);

	return v ? json_string_value(v) : "";
}

static int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static int digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * A time.Time through JSON: parsed as RFC 3339 (any fraction, ',' or
 * '.', truncated to ns) and written as RFC3339Nano (fraction without
 * trailing zeros, "Z" for a zero offset, the offset kept otherwise).
 * Unparsable is Go's zero time. OUT needs 40 bytes.
 */
static void go_time(const char *s, char *out, size_t outsz)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				     30, 31 };
	const char *p = s ? s : "";
	char frac[10] = "";
	int y, mo, d, h, mi, se, dim;
	size_t nf = 0;

	if (strlen(p) < 20 || !digits(p, 4) || p[4] != '-' ||
	    !digits(p + 5, 2) || p[7] != '-' || !digits(p + 8, 2) ||
	    p[10] != 'T' || !digits(p + 11, 2) || p[13] != ':' ||
	    !digits(p + 14, 2) || p[16] != ':' || !digits(p + 17, 2))
		goto zero;
	y = atoi(p);
	mo = two(p + 5);
	d = two(p + 8);
	h = two(p + 11);
	mi = two(p + 14);
	se = two(p + 17);
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59)
		goto zero;
	dim = mdays[mo - 1] + (mo == 2 && y % 4 == 0 &&
			       (y % 100 != 0 || y % 400 == 0));
	if (d < 1 || d > dim)
		goto zero;
	p += 19;
	if ((*p == '.' || *p == ',') && p[1] >= '0' && p[1] <= '9') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (nf < 9)
				frac[nf++] = *p;
		while (nf && frac[nf - 1] == '0')
			nf--;
		frac[nf] = '\0';
	}
	if (!strcmp(p, "Z")) {
		snprintf(out, outsz, "%.19s%s%sZ", s, nf ? "." : "", frac);
		return;
	}
	if (strlen(p) != 6 || (p[0] != '+' && p[0] != '-') ||
	    !digits(p + 1, 2) || p[3] != ':' || !digits(p + 4, 2))
		goto zero;
	if (two(p + 1) == 0 && two(p + 4) == 0)
		snprintf(out, outsz, "%.19s%s%sZ", s, nf ? "." : "", frac);
	else
		snprintf(out, outsz, "%.19s%s%s%s", s, nf ? "." : "", frac, p);
	return;
zero:
	snprintf(out, outsz, "0001-01-01T00:00:00Z");
}

static void gw_time(struct gw *w, json_t *v)
{
	char t[48];

	go_time(v ? json_string_value(v) : NULL, t, sizeof(t));
	gw_str(w, t);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A Go map: keys sorted; VAL_STR: values are strings, else struct{}. */
static void gw_map(struct gw *w, json_t *obj, int val_str)
{
	const char **keys = NULL, *k;
	size_t i = 0, n = json_object_size(obj);
	json_t *v;

	if (n && !(keys = dc__calloc(w->ctx, n, sizeof(*keys)))) {
		if (!w->err)
			w->err = DC_ENOMEM;
		return;
	}
	json_object_foreach(obj, k, v)
		keys[i++] = k;
	if (n)
		qsort(keys, n, sizeof(*keys), cmp_str);
	gw_add(w, "{", 1);
	for (i = 0; i < n; i++) {
		if (i)
			gw_add(w, ",", 1);
		gw_str(w, keys[i]);
		gw_add(w, ":", 1);
		if (val_str) {
			v = json_object_get(obj, keys[i]);
			gw_str(w, json_is_string(v) ? json_string_value(v) : "");
		} else {
			gw_add(w, "{}", 2);
		}
	}
	gw_add(w, "}", 1);
	free(keys);
}

/* []string or StrSlice: null, or an array (a bare string is one). */
static void gw_strlist(struct gw *w, json_t *v)
{
	size_t i;
	json_t *e;

	if (!v) {
		gw_raw(w, "null");
		return;
	}
	if (json_is_string(v)) {
		gw_add(w, "[", 1);
		gw_str(w, json_string_value(v));
		gw_add(w, "]", 1);
		return;
	}
	gw_add(w, "[", 1);
	json_array_foreach(v, i, e) {
		if (i)
			gw_add(w, ",", 1);
		gw_str(w, json_is_string(e) ? json_string_value(e) : "");
	}
	gw_add(w, "]", 1);
}

static size_t list_len(json_t *v)
{
	return json_is_string(v) ? 1 : json_is_array(v) ? json_array_size(v) :
	       json_object_size(v);
}

/* Comma before every member but the first. */
static void gw_key(struct gw *w, int *first, const char *key)
{
	if (!*first)
		gw_add(w, ",", 1);
	*first = 0;
	gw_str(w, key);
	gw_add(w, ":", 1);
}

/* moby@v20.10.24 api/types/container/config.go HealthConfig */
static void gw_health(struct gw *w, json_t *h)
{
	static const char *const durs[] = { "Interval", "Timeout",
					    "StartPeriod" };
	json_t *v;
	size_t i;
	int first = 1;

	gw_add(w, "{", 1);
	if ((v = gget(h, "Test", G_STRLIST)) && json_array_size(v)) {
		gw_key(w, &first, "Test");
		gw_strlist(w, v);
	}
	for (i = 0; i < 3; i++) {
		if ((v = gget(h, durs[i], G_INT)) && json_integer_value(v)) {
			gw_key(w, &first, durs[i]);
			gw_int(w, json_integer_value(v));
		}
	}
	if ((v = gget(h, "Retries", G_INT)) && json_integer_value(v)) {
		gw_key(w, &first, "Retries");
		gw_int(w, json_integer_value(v));
	}
	gw_add(w, "}", 1);
}

/* container.Config in moby@v20.10.24 (= 1.13 .. 24): field order */
static const struct cfield {
	const char *name;
	enum gtype t;
	int omitempty;
} config_fields[] = {
	{ "Hostname", G_STR, 0 },
	{ "Domainname", G_STR, 0 },
	{ "User", G_STR, 0 },
	{ "AttachStdin", G_BOOL, 0 },
	{ "AttachStdout", G_BOOL, 0 },
	{ "AttachStderr", G_BOOL, 0 },
	{ "ExposedPorts", G_SET, 1 },
	{ "Tty", G_BOOL, 0 },
	{ "OpenStdin", G_BOOL, 0 },
	{ "StdinOnce", G_BOOL, 0 },
	{ "Env", G_STRLIST, 0 },
	{ "Cmd", G_STRSLICE, 0 },
	{ "Healthcheck", G_HEALTH, 1 },
	{ "ArgsEscaped", G_BOOL, 1 },
	{ "Image", G_STR, 0 },
	{ "Volumes", G_SET, 0 },
	{ "WorkingDir", G_STR, 0 },
	{ "Entrypoint", G_STRSLICE, 0 },
	{ "NetworkDisabled", G_BOOL, 1 },
	{ "MacAddress", G_STR, 1 },
	{ "OnBuild", G_STRLIST, 0 },
	{ "Labels", G_STRMAP, 0 },
	{ "StopSignal", G_STR, 1 },
	{ "StopTimeout", G_INTPTR, 1 },
	{ "Shell", G_STRSLICE, 1 },
};

/* Is V (as gget returned it) the zero value Go's omitempty skips? */
static int is_empty(enum gtype t, json_t *v)
{
	if (!v)
		return 1;
	switch (t) {
	case G_STR:
		return !json_string_length(v);
	case G_BOOL:
		return !json_is_true(v);
	case G_INT:
		return !json_integer_value(v);
	case G_STRLIST:
	case G_STRSLICE:
	case G_SET:
	case G_STRMAP:
		return !list_len(v);
	default:
		return 0;
	}
}

static void gw_config(struct gw *w, json_t *c)
{
	size_t i;
	int first = 1;

	gw_add(w, "{", 1);
	for (i = 0; i < sizeof(config_fields) / sizeof(config_fields[0]); i++) {
		const struct cfield *f = &config_fields[i];
		json_t *v = gget(c, f->name, f->t);

		if (f->omitempty && is_empty(f->t, v))
			continue;
		gw_key(w, &first, f->name);
		switch (f->t) {
		case G_STR:
			gw_str(w, v ? json_string_value(v) : "");
			break;
		case G_BOOL:
			gw_raw(w, json_is_true(v) ? "true" : "false");
			break;
		case G_SET:
		case G_STRMAP:
			if (v)
				gw_map(w, v, f->t == G_STRMAP);
			else
				gw_raw(w, "null");
			break;
		case G_STRLIST:
		case G_STRSLICE:
			gw_strlist(w, v);
			break;
		case G_HEALTH:
			gw_health(w, v);
			break;
		case G_INTPTR:
			gw_int(w, json_integer_value(v));
			break;
		default:
			DC_BUG("config field %s", f->name);
		}
	}
	gw_add(w, "}", 1);
}

/*
 * json.Marshal(image.V1Image) (moby@v20.10.24 image/image.go) into M in
 * field order. SRC is the JSON it was decoded from: a v1 layer JSON or
 * an image config (whose "parent" belongs to image.Image, not to the
 * embedded V1Image: pass IS_CONFIG). NULL SRC is the zero V1Image with
 * created = the Unix epoch, as save.go makes for intermediate layers.
 * ID, PARENT and OS, when not NULL, replace the decoded fields.
 */
static int v1image_map(struct gomap *m, json_t *src, int is_config,
		       const char *id, const char *parent, const char *os)
{
	struct dc_buf tmp = DC_BUF_INIT;
	struct gw w = { m->ctx, &tmp, 0 };
	const char *s;
	json_t *v;
	int err = 0;

#define PUT_STR(key, val) do {						\
		s = (val);						\
		if (!err && s && *s) {					\
			tmp.len = 0;					\
			gw_str(&w, s);					\
			err = gomap_put_gw(m, key, &tmp, w.err);	\
		}							\
	} while (0)

	PUT_STR("id", id ? id : is_config ? NULL : gget_str(src, "id"));
	PUT_STR("parent", parent ? parent :
		is_config ? NULL : gget_str(src, "parent"));
	PUT_STR("comment", gget_str(src, "comment"));
	if (!err) {
		tmp.len = 0;
		if (src)
			gw_time(&w, gget(src, "created", G_TIME));
		else
			gw_str(&w, "1970-01-01T00:00:00Z");
		err = gomap_put_gw(m, "created", &tmp, w.err);
	}
	PUT_STR("container", gget_str(src, "container"));
	if (!err) {
		tmp.len = 0;
		gw_config(&w, gget(src, "container_config", G_CONFIG));
		err = gomap_put_gw(m, "container_config", &tmp, w.err);
	}
	PUT_STR("docker_version", gget_str(src, "docker_version"));
	PUT_STR("author", gget_str(src, "author"));
	if (!err && (v = gget(src, "config", G_CONFIGPTR))) {
		tmp.len = 0;
		gw_config(&w, v);
		err = gomap_put_gw(m, "config", &tmp, w.err);
	}
	PUT_STR("architecture", gget_str(src, "architecture"));
	PUT_STR("variant", gget_str(src, "variant"));
	PUT_STR("os", os ? os : gget_str(src, "os"));
	if (!err && (v = gget(src, "Size", G_INT)) && json_integer_value(v)) {
		tmp.len = 0;
		gw_int(&w, json_integer_value(v));
		err = gomap_put_gw(m, "Size", &tmp, w.err);
	}
#undef PUT_STR
	dc__buf_release(&tmp);
	return err;
}

/* ------------------------------------------------------------------ */
/* v1 IDs and layer JSONs for the docker-legacy writer */

/*
 * moby@v24.0.9 image/v1/imagev1.go CreateID: the V1Image without "id",
 * as a map, plus layer_id (the chain ID) and parent ("sha256:<v1id>"),
 * hashed. CFG is the image config for the top layer, NULL for the
 * others (save.go gives them only created = epoch). OUT gets the hex.
 */
int dc__v1_create_id(struct dc_ctx *ctx, char out[65], json_t *cfg,
		     const char *chain_id, const char *parent)
{
	struct gomap m = { ctx, NULL, 0 };
	struct dc_buf b = DC_BUF_INIT, pd = DC_BUF_INIT;
	struct gw w = { ctx, &b, 0 };
	char d[DC_DIGEST_MAX];
	int err;

	if ((err = v1image_map(&m, cfg, 1, NULL, NULL, NULL)) < 0)
		goto out;
	gomap_del(&m, "id");
	gw_str(&w, chain_id);
	if ((err = gomap_put_gw(&m, "layer_id", &b, w.err)) < 0)
		goto out;
	if (parent) {
		b.len = 0;
		if ((err = dc__buf_addf(ctx, &pd, "sha256:%s", parent)) < 0)
			goto out;
		gw_str(&w, pd.data);
		if ((err = gomap_put_gw(&m, "parent", &b, w.err)) < 0)
			goto out;
	}
	b.len = 0;
	if ((err = gomap_dump(&m, &b, 1)) < 0)
		goto out;
	dc__sha256_digest(b.data, b.len, d);
	memcpy(out, dc__digest_hex(d), 65);
out:
	gomap_release(&m);
	dc__buf_release(&b);
	dc__buf_release(&pd);
	return err;
}

/*
 * The <v1id>/json save.go writes: json.Marshal(V1Image) with id and
 * parent (hex, may be NULL) set, and for the layers below the top the
 * image's OS (v1Img.OS = img.OS): pass its config as OS_FROM. CFG is
 * as for dc__v1_create_id.
 */
int dc__v1_layer_json(struct dc_ctx *ctx, struct dc_buf *out, json_t *cfg,
		      const char *id, const char *parent, json_t *os_from)
{
	struct gomap m = { ctx, NULL, 0 };
	const char *os = os_from ? gget_str(os_from, "os") : NULL;
	int err;

	if ((err = v1image_map(&m, cfg, 1, id, parent, os)) == 0)
		err = gomap_dump(&m, out, 0);
	gomap_release(&m);
	return err;
}

/* ------------------------------------------------------------------ */
/* Raw top-level members, as json.Unmarshal into map[string]RawMessage */

static size_t skip_ws(const char *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
			 p[i] == '\r'))
		i++;
	return i;
}

/* End of the string starting at p[i] == '"' (index after the quote). */
static size_t skip_string(const char *p, size_t i, size_t n)
{
	for (i++; i < n && p[i] != '"'; i++)
		if (p[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

/* End of the value starting at p[i] (a string, literal, object or array). */
static size_t skip_value(const char *p, size_t i, size_t n)
{
	int depth = 0;

	while (i < n) {
		char c = p[i];

		if (c == '"') {
			i = skip_string(p, i, n);
			if (!depth)
				return i;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (!depth)
				return i;
			if (!--depth)
				return i + 1;
		} else if (!depth && (c == ',' || c == ' ' || c == '\t' ||
				      c == '\n' || c == '\r')) {
			return i;
		}
		i++;
	}
	return i;
}

static void put_utf8(char *out, size_t *o, unsigned long c)
{
	if (c < 0x80) {
		out[(*o)++] = (char)c;
	} else if (c < 0x800) {
		out[(*o)++] = (char)(0xc0 | (c >> 6));
		out[(*o)++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		out[(*o)++] = (char)(0xe0 | (c >> 12));
		out[(*o)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (c & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | (c >> 18));
		out[(*o)++] = (char)(0x80 | ((c >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (c & 0x3f));
	}
}

/* Decode the JSON string p[i..end) (quotes included) into OUT. */
static char *decode_key(struct dc_ctx *ctx, const char *p, size_t i,
			size_t end)
{
	char *out = dc__calloc(ctx, 1, end - i + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (i++; i + 1 < end; i++) {
		unsigned long c, lo;

		if (p[i] != '\\') {
			out[o++] = p[i];
			continue;
		}
		switch (p[++i]) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			c = strtoul((char[]){ p[i + 1], p[i + 2], p[i + 3],
					      p[i + 4], 0 }, NULL, 16);
			i += 4;
			if (c >= 0xd800 && c < 0xdc00 && i + 6 < end &&
			    p[i + 1] == '\\' && p[i + 2] == 'u') {
				lo = strtoul((char[]){ p[i + 3], p[i + 4],
						       p[i + 5], p[i + 6], 0 },
					     NULL, 16);
				if (lo >= 0xdc00 && lo < 0xe000) {
					c = 0x10000 + ((c - 0xd800) << 10) +
					    (lo - 0xdc00);
					i += 6;
				}
			}
			if (c >= 0xd800 && c < 0xe000)
				c = 0xfffd;
			put_utf8(out, &o, c);
			break;
		default: out[o++] = p[i]; break;
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * Split the object text P (already validated by jansson) into M: keys
 * decoded, values compacted Go-style, the last duplicate winning.
 */
static int raw_members(struct gomap *m, const char *p, size_t n)
{
	struct dc_buf tmp = DC_BUF_INIT;
	struct gw w = { m->ctx, &tmp, 0 };
	size_t i = skip_ws(p, 0, n);
	int err = 0;

	if (i >= n || p[i] != '{')
		return dc_error(m->ctx, DC_EFORMAT, "not a JSON object");
	i = skip_ws(p, i + 1, n);
	while (!err && i < n && p[i] == '"') {
		size_t kend = skip_string(p, i, n), vstart, vend;
		char *key = decode_key(m->ctx, p, i, kend);

		if (!key) {
			err = DC_ENOMEM;
			break;
		}
		i = skip_ws(p, kend, n);
		vstart = i = skip_ws(p, i + 1, n);	/* past ':' */
		vend = skip_value(p, i, n);
		tmp.len = 0;
		gw_compact(&w, p + vstart, vend - vstart);
		err = gomap_put_gw(m, key, &tmp, w.err);
		free(key);
		i = skip_ws(p, vend, n);
		if (i < n && p[i] == ',')
			i = skip_ws(p, i + 1, n);
	}
	dc__buf_release(&tmp);
	return err;
}

/* ------------------------------------------------------------------ */
/* The archive */

struct node {
	char id[65];
	char parent[65];	/* "" at the root */
	struct dc_buf raw;	/* <id>/json */
	json_t *j;
	char *path;		/* <id>/layer.tar */
	uint64_t size;
	enum dc_comp comp;
	char digest[DC_DIGEST_MAX];
	char diff_id[DC_DIGEST_MAX];
	int hashed;
	int is_parent;		/* some node names it as parent */
	struct dc_image *img;	/* the image with this top layer */
	int visiting;
};

struct legacy {
	struct dc_reader *r;
	struct node *n;		/* sorted by id */
	size_t nn;
};

static int legacy_bid_tar(struct dc_src *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		const char *name = src->m[i].name;

		if (strlen(name) == 69 && name[64] == '/' &&
		    !strcmp(name + 65, "json") && dc__is_hex64(name, 64))
			return 1;
	}
	return 0;
}

static int hex_dir_has_json(struct dc_src *src, const char *name)
{
	char p[80];

	if (strlen(name) != 64 || !dc__is_hex64(name, 64))
		return 0;
	snprintf(p, sizeof(p), "%s/json", name);
	return dc__src_exists(src, p);
}

static int legacy_bid_dir(struct dc_src *src)
{
	struct dirent *de;
	DIR *d;
	int fd, found = 0;

	if ((fd = openat(src->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while (!found && (de = readdir(d)))
		found = hex_dir_has_json(src, de->d_name);
	closedir(d);
	return found;
}

static int legacy_bid(struct dc_src *src)
{
	if (dc__src_exists(src, "manifest.json"))
		return 0;	/* Docker 1.10+: the docker-archive reader's */
	if (src->is_dir ? legacy_bid_dir(src) : legacy_bid_tar(src))
		return 40;
	return 0;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->id,
		      ((const struct node *)b)->id);
}

static struct node *find_node(struct legacy *l, const char *id)
{
	struct node key;

	if (strlen(id) != 64)
		return NULL;
	memcpy(key.id, id, 65);
	return bsearch(&key, l->n, l->nn, sizeof(*l->n), cmp_node);
}

static int add_id(struct legacy *l, size_t *cap, const char *id)
{
	struct dc_ctx *ctx = l->r->ctx;

	if (l->nn == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct node *p = dc__reallocarray(ctx, l->n, nc, sizeof(*p));

		if (!p)
			return DC_ENOMEM;
		l->n = p;
		*cap = nc;
	}
	memset(&l->n[l->nn], 0, sizeof(l->n[0]));
	memcpy(l->n[l->nn].id, id, 64);
	l->n[l->nn].id[64] = '\0';
	l->nn++;
	return 0;
}

/* Every <64hex>/json in the source, sorted. */
static int list_ids(struct legacy *l)
{
	struct dc_src *src = l->r->src;
	size_t i, cap = 0;
	int err = 0;

	if (src->is_dir) {
		struct dirent *de;
		DIR *d;
		int fd;

		fd = openat(src->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || !(d = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			return dc_error(l->r->ctx, DC_EIO, "'%s': cannot list",
					src->label);
		}
		while (!err && (de = readdir(d)))
			if (hex_dir_has_json(src, de->d_name))
				err = add_id(l, &cap, de->d_name);
		closedir(d);
	} else {
		for (i = 0; i < src->n && !err; i++) {
			const char *name = src->m[i].name;

			if (strlen(name) == 69 && name[64] == '/' &&
			    !strcmp(name + 65, "json") && dc__is_hex64(name, 64))
				err = add_id(l, &cap, name);
		}
	}
	if (err)
		return err;
	if (!l->nn)
		return dc_error(l->r->ctx, DC_EFORMAT,
				"no '<id>/json' image directories");
	qsort(l->n, l->nn, sizeof(*l->n), cmp_node);
	return 0;
}

/* Read and parse <id>/json; note the parent. */
static int load_node(struct legacy *l, struct node *nd)
{
	struct dc_ctx *ctx = l->r->ctx;
	char path[80];
	const char *parent;
	int err;

	snprintf(path, sizeof(path), "%s/json", nd->id);
	if ((err = dc__src_read_all(l->r->src, path, DC_MAX_JSON, &nd->raw)) < 0 ||
	    (err = dc__json_parse(ctx, &nd->j, &nd->raw, path)) < 0)
		return err;
	if (!json_is_object(nd->j))
		return dc_error(ctx, DC_EFORMAT, "'%s': not a JSON object", path);
	/* load.go decodes struct{ OS, Parent string } */
	parent = gget_str(nd->j, "parent");
	if (*parent) {
		if (strlen(parent) != 64 || !dc__is_hex64(parent, 64))
			return dc_error(ctx, DC_EFORMAT,
					"'%s': parent '%s' is not a layer ID",
					path, parent);
		memcpy(nd->parent, parent, 65);
	}
	snprintf(path, sizeof(path), "%s/layer.tar", nd->id);
	if (!(nd->path = dc__strdup(ctx, path)))
		return DC_ENOMEM;
	return 0;
}

static int hash_sink(void *arg, const void *p, size_t n)
{
	dc__hash_update(arg, p, n);
	return 0;
}

/* digest and diff_id of a layer.tar: the latter through the decoder */
static int hash_layer(struct legacy *l, struct node *nd)
{
	struct dc_ctx *ctx = l->r->ctx;
	struct dc_stream *s = NULL;
	struct dc_hash *h = NULL, *dh = NULL;
	struct dc_dec *dec = NULL;
	char *buf = NULL;
	uint64_t size, got = 0;
	int err;

	if ((err = dc__sniff_member(l->r->src, nd->path, &nd->size,
				    &nd->comp)) < 0)
		goto out;
	if ((err = dc__hash_new(ctx, &h)) < 0)
		goto out;
	if (nd->comp != DC_COMP_NONE &&
	    ((err = dc__dec_new(ctx, &dec, nd->comp, nd->path)) < 0 ||
	     (err = dc__hash_new(ctx, &dh)) < 0))
		goto out;
	if (!(buf = dc__malloc(NULL, 1 << 16))) {
		err = dc__enomem(ctx);
		goto out;
	}
	if ((err = dc__src_open(l->r->src, nd->path, &s, &size)) < 0)
		goto out;
	for (;;) {
		ssize_t n;

		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
		if ((n = dc__stream_read(s, buf, 1 << 16)) < 0) {
			err = dc_error_prefix(ctx, "'%s'", nd->path);
			goto out;
		}
		if (!n)
			break;
		got += (uint64_t)n;
		dc__hash_update(h, buf, (size_t)n);
		if (dec && (err = dc__dec_push(dec, buf, (size_t)n, hash_sink,
					       dh)) < 0)
			goto out;
	}
	if (got != size) {
		err = dc_error(ctx, DC_ECORRUPT, "'%s': truncated", nd->path);
		goto out;
	}
	if (dec && (err = dc__dec_finish(dec)) < 0)
		goto out;
	dc__hash_final(h, nd->digest);
	if (dh)
		dc__hash_final(dh, nd->diff_id);
	else
		memcpy(nd->diff_id, nd->digest, DC_DIGEST_MAX);
	nd->hashed = 1;
out:
	dc__stream_close(s);
	dc__hash_free(h);
	dc__hash_free(dh);
	dc__dec_free(dec);
	free(buf);
	return err;
}

/* The bottom-first chain of TOP: OUT[0..*n). */
static int chain(struct legacy *l, struct node *top, struct node ***out,
		 size_t *n)
{
	struct dc_ctx *ctx = l->r->ctx;
	struct node **c = NULL, *nd = top, **p;
	size_t k = 0, cap = 0, i;
	int err = 0;

	*out = NULL;
	*n = 0;
	while (nd) {
		if (nd->visiting) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s/json': parent chain loops back to '%s'",
				       c[k - 1]->id, nd->id);
			goto out;
		}
		if (k == LEGACY_MAX_DEPTH) {
			err = dc_error(ctx, DC_ELIMIT,
				       "'%s/json': more than %d parent layers",
				       top->id, LEGACY_MAX_DEPTH);
			goto out;
		}
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(p = dc__reallocarray(ctx, c, cap, sizeof(*c)))) {
				err = DC_ENOMEM;
				goto out;
			}
			c = p;
		}
		nd->visiting = 1;
		c[k++] = nd;
		if (!nd->parent[0])
			break;
		if (!(nd = find_node(l, c[k - 1]->parent))) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s/json': parent '%s' is missing from the archive",
				       c[k - 1]->id, c[k - 1]->parent);
			goto out;
		}
	}
	for (i = 0; i < k / 2; i++) {
		nd = c[i];
		c[i] = c[k - 1 - i];
		c[k - 1 - i] = nd;
	}
out:
	for (i = 0; i < k; i++)
		c[i]->visiting = 0;
	if (err)
		free(c);
	else {
		*out = c;
		*n = k;
	}
	return err;
}

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
static void gw_history(struct gw *w, json_t *j)
{
	json_t *cc = gget(j, "container_config", G_CONFIG),
	       *cmd = gget(cc, "Cmd", G_STRSLICE);
	const char *s;
	size_t i;

	gw_raw(w, "{\"created\":");
	gw_time(w, gget(j, "created", G_TIME));
	if (*(s = gget_str(j, "author"))) {
		gw_raw(w, ",\"author\":");
		gw_str(w, s);
	}
	if (cmd && list_len(cmd)) {
		struct dc_buf by = DC_BUF_INIT;
		struct gw bw = { w->ctx, &by, 0 };

		if (json_is_string(cmd)) {
			gw_raw(&bw, json_string_value(cmd));
		} else {
			json_t *e;

			json_array_foreach(cmd, i, e) {
				if (i)
					gw_add(&bw, " ", 1);
				gw_raw(&bw, json_is_string(e) ?
				       json_string_value(e) : "");
			}
		}
		if (bw.err && !w->err)
			w->err = bw.err;
		if (by.len) {
			gw_raw(w, ",\"created_by\":");
			gw_strn(w, by.data, by.len);
		}
		dc__buf_release(&by);
	}
	if (*(s = gget_str(j, "comment"))) {
		gw_raw(w, ",\"comment\":");
		gw_str(w, s);
	}
	gw_raw(w, "}");
}

/*
 * MakeConfigFromV1Config: the top JSON (re-marshalled through V1Image
 * when docker_version < 1.8.3) as a map, minus the v1-only keys, plus
 * rootfs and history, marshalled.
 */
static int make_config(struct legacy *l, struct node **c, size_t n,
		       struct dc_buf *out)
{
	static const char *const drop[] = { "id", "parent", "Size", "parent_id",
					    "layer_id", "throwaway" };
	struct dc_ctx *ctx = l->r->ctx;
	struct node *top = c[n - 1];
	struct gomap m = { ctx, NULL, 0 };
	struct dc_buf tmp = DC_BUF_INIT;
	struct gw w = { ctx, &tmp, 0 };
	json_t *dv = gget(top->j, "docker_version", G_STR);
	size_t i;
	int err;

	if (version_before_183(dv ? json_string_value(dv) : ""))
		err = v1image_map(&m, top->j, 0, NULL, NULL, NULL);
	else
		err = raw_members(&m, top->raw.data, top->raw.len);
	if (err < 0) {
		dc_error_prefix(ctx, "'%s/json'", top->id);
		goto out;
	}
	for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		gomap_del(&m, drop[i]);
	gw_raw(&w, "{\"type\":\"layers\",\"diff_ids\":[");
	for (i = 0; i < n; i++) {
		if (i)
			gw_add(&w, ",", 1);
		gw_str(&w, c[i]->diff_id);
	}
	gw_raw(&w, "]}");
	if ((err = gomap_put_gw(&m, "rootfs", &tmp, w.err)) < 0)
		goto out;
	tmp.len = 0;
	gw_add(&w, "[", 1);
	for (i = 0; i < n; i++) {
		if (i)
			gw_add(&w, ",", 1);
		gw_history(&w, c[i]->j);
	}
	gw_add(&w, "]", 1);
	if ((err = gomap_put_gw(&m, "history", &tmp, w.err)) < 0)
		goto out;
	err = gomap_dump(&m, out, 1);
out:
	gomap_release(&m);
	dc__buf_release(&tmp);
	return err;
}

static int make_image(struct legacy *l, struct node *top,
		      struct dc_image **out)
{
	struct dc_ctx *ctx = l->r->ctx;
	struct dc_image *img = NULL;
	struct node **c = NULL;
	char label[128];
	size_t n, i;
	int err;

	*out = NULL;
	if ((err = chain(l, top, &c, &n)) < 0)
		return err;
	for (i = 0; i < n; i++)
		if (!c[i]->hashed && (err = hash_layer(l, c[i])) < 0)
			goto out;
	if ((err = dc__image_new(ctx, &img)) < 0)
		goto out;
	if ((err = make_config(l, c, n, &img->config_raw)) < 0)
		goto out;
	dc__sha256_digest(img->config_raw.data, img->config_raw.len,
			  img->config.digest);
	img->config.size = (int64_t)img->config_raw.len;
	if (!(img->config.media_type = dc__strdup(ctx,
			"application/vnd.docker.container.image.v1+json")) ||
	    !(img->layers = dc__calloc(ctx, n, sizeof(*img->layers)))) {
		err = DC_ENOMEM;
		goto out;
	}
	img->nlayers = n;
	for (i = 0; i < n; i++) {
		struct dc_desc *d = &img->layers[i];

		d->size = (int64_t)c[i]->size;
		d->comp = c[i]->comp;
		memcpy(d->digest, c[i]->digest, DC_DIGEST_MAX);
		if (!(d->path = dc__strdup(ctx, c[i]->path)) ||
		    !(d->media_type = dc__strdup(ctx,
				dc__layer_media_type(d->comp, 0)))) {
			err = DC_ENOMEM;
			goto out;
		}
	}
	snprintf(label, sizeof(label), "config made from '%s/json'", top->id);
	if ((err = dc__image_parse_config(ctx, img, label)) < 0)
		goto out;
	img->manifest_synth = 1;
	*out = img;
	img = NULL;
out:
	dc__image_free(img);
	free(c);
	return err;
}

/* The image whose top layer is TOP, made once. */
static int image_for(struct legacy *l, struct dc_set *set, struct node *top,
		     struct dc_image **out)
{
	struct dc_image *img;
	int err;

	if ((*out = top->img))
		return 0;
	if ((err = make_image(l, top, &img)) < 0)
		return err;
	if ((err = dc__set_add(l->r->ctx, set, img)) < 0) {
		dc__image_free(img);
		return err;
	}
	*out = top->img = img;
	return 0;
}

/* repositories: {"name":{"tag":"<id>"}}, tags in file order */
static int load_repositories(struct legacy *l, struct dc_set *set)
{
	struct dc_ctx *ctx = l->r->ctx;
	struct dc_buf b = DC_BUF_INIT, ref = DC_BUF_INIT;
	json_t *root = NULL, *tags, *id;
	const char *name, *tag;
	int err;

	if (!dc__src_exists(l->r->src, "repositories"))
		return 0;
	if ((err = dc__src_read_all(l->r->src, "repositories", DC_MAX_JSON,
				    &b)) < 0 ||
	    (err = dc__json_parse(ctx, &root, &b, "repositories")) < 0)
		goto out;
	if (!json_is_object(root)) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'repositories': not a JSON object");
		goto out;
	}
	json_object_foreach(root, name, tags) {
		if (!json_is_object(tags)) {
			err = dc_error(ctx, DC_EFORMAT,
				       "'repositories': '%s' is not an object of tags",
				       name);
			goto out;
		}
		json_object_foreach(tags, tag, id) {
			struct dc_image *img;
			struct node *nd;

			ref.len = 0;
			if ((err = dc__buf_addf(ctx, &ref, "%s:%s", name, tag)) < 0)
				goto out;
			if (!json_is_string(id) ||
			    !(nd = find_node(l, json_string_value(id)))) {
				/* load.go: "invalid target ID" */
				err = dc_error(ctx, DC_ECORRUPT,
					       "'repositories': '%s' points to '%s', which is not in the archive",
					       ref.data, json_is_string(id) ?
					       json_string_value(id) : "(not a string)");
				goto out;
			}
			if ((err = image_for(l, set, nd, &img)) < 0 ||
			    (err = dc__add_ref_tag(ctx, img, ref.data,
						   "repositories")) < 0)
				goto out;
		}
	}
out:
	json_decref(root);
	dc__buf_release(&b);
	dc__buf_release(&ref);
	return err;
}

static int legacy_load(struct dc_reader *r, struct dc_set **out)
{
	struct dc_ctx *ctx = r->ctx;
	struct legacy l = { r, NULL, 0 };
	struct dc_set *set = NULL;
	size_t i;
	int err;

	*out = NULL;
	if ((err = dc__set_new(ctx, &set, "docker-legacy")) < 0)
		return err;
	if ((err = list_ids(&l)) < 0)
		goto out;
	for (i = 0; i < l.nn; i++)
		if ((err = load_node(&l, &l.n[i])) < 0)
			goto out;
	for (i = 0; i < l.nn; i++) {
		struct node *p = l.n[i].parent[0] ? find_node(&l, l.n[i].parent)
						   : NULL;

		if (p)
			p->is_parent = 1;
	}
	if ((err = load_repositories(&l, set)) < 0)
		goto out;
	/*
	 * Untagged leaves are images too: `docker save <id>` before 1.10
	 * wrote no repositories entry for them, and load.go loads every
	 * directory.
	 */
	for (i = 0; i < l.nn; i++) {
		struct dc_image *img;

		if (!l.n[i].is_parent && !l.n[i].img &&
		    (err = image_for(&l, set, &l.n[i], &img)) < 0)
			goto out;
	}
	if (!set->n)
		err = dc_error(ctx, DC_ECORRUPT,
			       "every layer is some layer's parent: no image to load");
out:
	for (i = 0; i < l.nn; i++) {
		dc__buf_release(&l.n[i].raw);
		json_decref(l.n[i].j);
		free(l.n[i].path);
	}
	free(l.n);
	if (err) {
		dc_set_free(set);
		return err;
	}
	*out = set;
	return 0;
}

const struct dc_reader_ops dc__reader_legacy = {
	.name = "docker-legacy-v1",
	.bid = legacy_bid,
	.load = legacy_load,
};
