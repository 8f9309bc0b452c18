/*
 * Go's encoding/json as moby's daemon marshals and unmarshals
 * (Docker 20.10 is built with Go 1.19): the string escaping, the
 * compaction of a json.RawMessage, map key order, time.Time, and the
 * case-insensitive, last-key-wins matching of json.Unmarshal.
 */
#include "moby/moby.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "banned.h"

/* ------------------------------------------------------------------ */
/* Go encoding/json, as Docker 20.10 (Go 1.19) marshals */

void dc__gow_add(struct dc_gow *w, const void *p, size_t n)
{
	if (!w->err)
		w->err = dc__buf_add(w->ctx, w->b, p, n);
}

void dc__gow_raw(struct dc_gow *w, const char *s)
{
	dc__gow_add(w, s, strlen(s));
}

void dc__gow_strn(struct dc_gow *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, start = 0;
	char esc[8];

	dc__gow_add(w, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];
		size_t skip = 1;

		if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' &&
		    c != '&' && !(c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 &&
				 (p[i + 2] & 0xfe) == 0xa8))
			continue;
		dc__gow_add(w, s + start, i - start);
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
		dc__gow_raw(w, esc);
		i += skip - 1;
		start = i + 1;
	}
	dc__gow_add(w, s + start, n - start);
	dc__gow_add(w, "\"", 1);
}

void dc__gow_str(struct dc_gow *w, const char *s)
{
	dc__gow_strn(w, s ? s : "", s ? strlen(s) : 0);
}

void dc__gow_int(struct dc_gow *w, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	dc__gow_raw(w, num);
}

void dc__gow_compact(struct dc_gow *w, const char *s, size_t n)
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
			dc__gow_add(w, s + start, i - start);
			start = i + 1;
			continue;
		}
		if (c == '<' || c == '>' || c == '&') {
			dc__gow_add(w, s + start, i - start);
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			esc[6] = '\0';
			dc__gow_raw(w, esc);
			start = i + 1;
		} else if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 &&
			   (p[i + 2] & 0xfe) == 0xa8) {
			dc__gow_add(w, s + start, i - start);
			memcpy(esc, "\\u202", 5);
			esc[5] = hex[p[i + 2] & 0xf];
			esc[6] = '\0';
			dc__gow_raw(w, esc);
			i += 2;
			start = i + 1;
		}
	}
	dc__gow_add(w, s + start, n - start);
}

void dc__gomap_release(struct dc_gomap *m)
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

static struct dc_gomap_ent *gomap_find(struct dc_gomap *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].key, key))
			return &m->e[i];
	return NULL;
}

int dc__gomap_put(struct dc_gomap *m, const char *key, const char *v,
		     size_t n)
{
	struct dc_gomap_ent *e = gomap_find(m, key), *ne;

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

void dc__gomap_del(struct dc_gomap *m, const char *key)
{
	struct dc_gomap_ent *e = gomap_find(m, key);

	if (!e)
		return;
	free(e->key);
	dc__buf_release(&e->val);
	memmove(e, e + 1, (size_t)(m->e + m->n - (e + 1)) * sizeof(*e));
	m->n--;
}

static int cmp_gment(const void *a, const void *b)
{
	return strcmp(((const struct dc_gomap_ent *)a)->key,
		      ((const struct dc_gomap_ent *)b)->key);
}

int dc__gomap_dump(struct dc_gomap *m, struct dc_buf *out, int sorted)
{
	struct dc_gow w = { m->ctx, out, 0 };
	size_t i;

	if (sorted && m->n)
		qsort(m->e, m->n, sizeof(*m->e), cmp_gment);
	dc__gow_add(&w, "{", 1);
	for (i = 0; i < m->n; i++) {
		if (i)
			dc__gow_add(&w, ",", 1);
		dc__gow_str(&w, m->e[i].key);
		dc__gow_add(&w, ":", 1);
		dc__gow_add(&w, m->e[i].val.data, m->e[i].val.len);
	}
	dc__gow_add(&w, "}", 1);
	return w.err;
}

int dc__gomap_put_buf(struct dc_gomap *m, const char *key,
		      struct dc_buf *tmp, int err)
{
	if (err)
		return err;
	return dc__gomap_put(m, key, tmp->data ? tmp->data : "", tmp->len);
}

/* ------------------------------------------------------------------ */
/* Go's json.Unmarshal into typed structs */

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

static int type_ok(enum dc_gotype t, json_t *v)
{
	int null = json_is_null(v);

	switch (t) {
	case DC_GO_STR:
	case DC_GO_TIME:
		return json_is_string(v);
	case DC_GO_BOOL:
		return json_is_boolean(v);
	case DC_GO_INT:
		return json_is_integer(v);
	case DC_GO_STRLIST:
		return null || json_is_array(v);
	case DC_GO_STRSLICE:
		return null || strslice_ok(v);
	case DC_GO_SET:
	case DC_GO_STRMAP:
	case DC_GO_HEALTH:
	case DC_GO_CONFIGPTR:
		return null || json_is_object(v);
	case DC_GO_INTPTR:
		return null || json_is_integer(v);
	case DC_GO_CONFIG:
		return json_is_object(v);
	}
	return 0;
}

json_t *dc__go_get(json_t *obj, const char *name, enum dc_gotype t)
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

const char *dc__go_get_str(json_t *obj, const char *name)
{
	json_t *v = dc__go_get(obj, name, DC_GO_STR);

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

void dc__go_time(const char *s, char *out, size_t outsz)
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

void dc__gow_time(struct dc_gow *w, json_t *v)
{
	char t[48];

	dc__go_time(v ? json_string_value(v) : NULL, t, sizeof(t));
	dc__gow_str(w, t);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void dc__gow_map(struct dc_gow *w, json_t *obj, int val_str)
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
	dc__gow_add(w, "{", 1);
	for (i = 0; i < n; i++) {
		if (i)
			dc__gow_add(w, ",", 1);
		dc__gow_str(w, keys[i]);
		dc__gow_add(w, ":", 1);
		if (val_str) {
			v = json_object_get(obj, keys[i]);
			dc__gow_str(w, json_is_string(v) ? json_string_value(v) : "");
		} else {
			dc__gow_add(w, "{}", 2);
		}
	}
	dc__gow_add(w, "}", 1);
	free(keys);
}

void dc__gow_strlist(struct dc_gow *w, json_t *v)
{
	size_t i;
	json_t *e;

	if (!v) {
		dc__gow_raw(w, "null");
		return;
	}
	if (json_is_string(v)) {
		dc__gow_add(w, "[", 1);
		dc__gow_str(w, json_string_value(v));
		dc__gow_add(w, "]", 1);
		return;
	}
	dc__gow_add(w, "[", 1);
	json_array_foreach(v, i, e) {
		if (i)
			dc__gow_add(w, ",", 1);
		dc__gow_str(w, json_is_string(e) ? json_string_value(e) : "");
	}
	dc__gow_add(w, "]", 1);
}

size_t dc__go_list_len(json_t *v)
{
	return json_is_string(v) ? 1 : json_is_array(v) ? json_array_size(v) :
	       json_object_size(v);
}

void dc__gow_key(struct dc_gow *w, int *first, const char *key)
{
	if (!*first)
		dc__gow_add(w, ",", 1);
	*first = 0;
	dc__gow_str(w, key);
	dc__gow_add(w, ":", 1);
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

int dc__gomap_raw_members(struct dc_gomap *m, const char *p, size_t n)
{
	struct dc_buf tmp = DC_BUF_INIT;
	struct dc_gow w = { m->ctx, &tmp, 0 };
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
		dc__gow_compact(&w, p + vstart, vend - vstart);
		err = dc__gomap_put_buf(m, key, &tmp, w.err);
		free(key);
		i = skip_ws(p, vend, n);
		if (i < n && p[i] == ',')
			i = skip_ws(p, i + 1, n);
	}
	dc__buf_release(&tmp);
	return err;
}
