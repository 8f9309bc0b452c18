/*
 * JSON through jansson, from capped buffers only.
 */
#include "util/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Nesting depth outside strings; jansson's own limit is 2048. */
static int json_depth_ok(const char *p, size_t n, int max)
{
	int depth = 0, in_str = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[') {
			if (++depth > max)
				return 0;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return 1;
}

int dc__json_parse(struct dc_ctx *ctx, struct json_t **out,
		   const struct dc_buf *b, const char *label)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	if (!b->len)
		return dc_error(ctx, DC_EFORMAT, "'%s': empty, not JSON", label);
	if (!json_depth_ok(b->data, b->len, DC_MAX_JSON_DEPTH))
		return dc_error(ctx, DC_ELIMIT,
				"'%s': JSON nested deeper than %d levels",
				label, DC_MAX_JSON_DEPTH);
	j = json_loadb(b->data, b->len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (dc__json_oom_take()) {
		json_decref(j);
		return dc__enomem(ctx);
	}
	if (!j)
		return dc_error(ctx, DC_EFORMAT,
				"'%s': invalid JSON at line %d: %s", label,
				jerr.line, jerr.text);
	*out = j;
	return 0;
}

int dc__json_dump(struct dc_ctx *ctx, struct dc_buf *out, const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int err;

	/* a failed allocation while J was built may have dropped a member */
	if (dc__json_oom_take() || !s) {
		free(s);
		return dc__enomem(ctx);
	}
	err = dc__buf_addstr(ctx, out, s);
	free(s);
	return err;
}

int dc__json_add_str(struct dc_ctx *ctx, struct dc_buf *b, const char *s)
{
	const unsigned char *p;
	json_t *j;
	char *t;
	int err;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			break;
	if (!*p) {
		if ((err = dc__buf_add(ctx, b, "\"", 1)) < 0 ||
		    (err = dc__buf_addstr(ctx, b, s)) < 0)
			return err;
		return dc__buf_add(ctx, b, "\"", 1);
	}
	j = json_string(s);
	t = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	json_decref(j);
	if (dc__json_oom_take() || !t) {
		free(t);
		return j ? dc__enomem(ctx) :
		       dc_error(ctx, DC_EFORMAT,
				"a string that is not UTF-8: JSON cannot hold it");
	}
	err = dc__buf_addstr(ctx, b, t);
	free(t);
	return err;
}
