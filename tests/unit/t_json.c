/*
 * JSON parsing caps and errors (src/util/json.c).
 */
#include "unit.h"

#include <jansson.h>

static int parse(const char *s, size_t n, const char *label, json_t **out)
{
	struct dc_buf b = { (char *)s, n, 0 };

	return dc__json_parse(unit_ctx(), out, &b, label);
}

static void nest(struct ubuf *b, const char *pre, int depth, const char *mid,
		 const char *post)
{
	int i;

	ubuf_addstr(b, pre);
	for (i = 0; i < depth; i++)
		ubuf_addstr(b, i % 2 ? "{\"k\":" : "[");
	ubuf_addstr(b, mid);
	for (i = depth - 1; i >= 0; i--)
		ubuf_addstr(b, i % 2 ? "}" : "]");
	ubuf_addstr(b, post);
}

TEST(json_depth_cap)
{
	static const struct {
		int depth;
		int want;
	} rows[] = {
		{ 1, 0 },
		{ 2, 0 },
		{ DC_MAX_JSON_DEPTH - 1, 0 },
		{ DC_MAX_JSON_DEPTH, 0 },
		{ DC_MAX_JSON_DEPTH + 1, DC_ELIMIT },
		{ 1000, DC_ELIMIT },
		{ 5000, DC_ELIMIT },	/* beyond jansson's own 2048 */
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ubuf b = { 0 };
		json_t *j = NULL;

		UNIT_CASE("depth %d", rows[i].depth);
		nest(&b, "", rows[i].depth, "1", "");
		CHECK_ERR(parse((char *)b.p, b.len, "deep.json", &j), rows[i].want);
		CHECK(rows[i].want ? j == NULL : j != NULL);
		if (rows[i].want)
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "deep.json");
		json_decref(j);
		ubuf_free(&b);
	}
}

TEST(json_depth_ignores_strings)
{
	struct ubuf b = { 0 };
	json_t *j = NULL;
	int i;

	/* 200 brackets inside a string are not nesting */
	ubuf_addstr(&b, "{\"a\":\"");
	for (i = 0; i < 200; i++)
		ubuf_addstr(&b, "[{");
	ubuf_addstr(&b, "\",\"b\":[\"]]]]}}}\"]}");
	CHECK_OK(parse((char *)b.p, b.len, "s.json", &j));
	CHECK(json_is_object(j));
	json_decref(j);
	ubuf_free(&b);

	/* an escaped quote does not end the string */
	memset(&b, 0, sizeof(b));
	ubuf_addstr(&b, "[\"\\\"");
	for (i = 0; i < 200; i++)
		ubuf_addstr(&b, "[");
	ubuf_addstr(&b, "\"]");
	j = NULL;
	CHECK_OK(parse((char *)b.p, b.len, "esc.json", &j));
	CHECK(json_is_array(j));
	json_decref(j);
	ubuf_free(&b);

	/* an escaped backslash does end it: what follows is counted */
	memset(&b, 0, sizeof(b));
	nest(&b, "[\"\\\\\",", DC_MAX_JSON_DEPTH, "1", "]");
	j = NULL;
	CHECK_ERR(parse((char *)b.p, b.len, "bs.json", &j), DC_ELIMIT);
	CHECK(!j);
	ubuf_free(&b);
}

TEST(json_invalid)
{
	static const struct {
		const char *in;
		int want;
	} rows[] = {
		{ "{}", 0 },
		{ "[]", 0 },
		{ " {\"a\": [1, 2, {\"b\": null}]}\n", 0 },
		{ "[\"a\\u0000b\"]", 0 },	/* JSON_ALLOW_NUL */
		{ "\"top-level string\"", 0 },	/* JSON_DECODE_ANY */
		{ "null", 0 },
		{ "{", DC_EFORMAT },
		{ "}", DC_EFORMAT },
		{ "[1,]", DC_EFORMAT },
		{ "{'a':1}", DC_EFORMAT },
		{ "{} {}", DC_EFORMAT },	/* trailing data */
		{ "{} x", DC_EFORMAT },
		{ "nul", DC_EFORMAT },
		{ " ", DC_EFORMAT },
		{ "\xff\xfe{}", DC_EFORMAT },
		{ "{\"a\":\"\xc3\x28\"}", DC_EFORMAT },	/* invalid UTF-8 */
		{ "]]]]]]]][[[", DC_EFORMAT },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *j = NULL;

		UNIT_CASE("row %zu '%s'", i, rows[i].in);
		CHECK_ERR(parse(rows[i].in, strlen(rows[i].in), "my-label.json",
				&j), rows[i].want);
		if (rows[i].want) {
			CHECK(!j);
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "'my-label.json'");
			CHECK_EQ_INT(dc_ctx_errcode(unit_ctx()), rows[i].want);
		}
		json_decref(j);
	}
	/* a NUL byte outside strings */
	{
		json_t *j = NULL;

		UNIT_CASE("raw NUL");
		CHECK_ERR(parse("{}\0", 3, "nul.json", &j), DC_EFORMAT);
		json_decref(j);
	}
}

TEST(json_empty)
{
	json_t *j = (json_t *)1;
	struct dc_buf b = DC_BUF_INIT;

	CHECK_ERR(dc__json_parse(unit_ctx(), &j, &b, "index.json"), DC_EFORMAT);
	CHECK(j == NULL);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "'index.json'");
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "empty");
}

TEST(json_dump_keeps_order)
{
	const char *in = "{ \"z\": 1, \"a\": [true, null], \"m\": {\"y\": \"s\", \"b\": 2} }";
	struct dc_buf out = DC_BUF_INIT;
	json_t *j = NULL;

	CHECK_OK(parse(in, strlen(in), "o.json", &j));
	REQUIRE(j);
	CHECK_OK(dc__json_dump(unit_ctx(), &out, j));
	CHECK_STR(out.data, "{\"z\":1,\"a\":[true,null],\"m\":{\"y\":\"s\",\"b\":2}}");
	CHECK_EQ_INT(out.len, strlen(out.data ? out.data : ""));
	dc__buf_release(&out);
	json_decref(j);
}
