/*
 * Archive path normalization (dc__path_clean).
 */
#include "unit.h"

TEST(path_clean_table)
{
	static const struct {
		const char *in;
		const char *want;	/* NULL: refused with DC_ECORRUPT */
		const char *msg;	/* part of the refusal message */
	} rows[] = {
		{ "a", "a", NULL },
		{ "a/b", "a/b", NULL },
		{ "./a/b", "a/b", NULL },
		{ "/abs", "abs", NULL },
		{ "///abs//x/", "abs/x", NULL },
		{ "a//b", "a/b", NULL },
		{ "a/./b", "a/b", NULL },
		{ "a/.", "a", NULL },
		{ "./././a", "a", NULL },
		{ "a/b/", "a/b", NULL },
		{ "blobs/sha256/abc", "blobs/sha256/abc", NULL },
		{ "..a", "..a", NULL },
		{ "a..", "a..", NULL },
		{ "a/...", "a/...", NULL },
		{ ".hidden", ".hidden", NULL },
		{ "../x", NULL, "leads outside" },
		{ "..", NULL, "leads outside" },
		{ "/..", NULL, "leads outside" },
		{ "a/../x", NULL, "leads outside" },
		{ "a/../../x", NULL, "leads outside" },
		{ "./..", NULL, "leads outside" },
		{ "a/b/..", NULL, "leads outside" },
		{ "a\\b", NULL, "backslash" },
		{ "..\\x", NULL, "backslash" },
		{ "\\", NULL, "backslash" },
		{ "", NULL, "empty" },
		{ ".", NULL, "empty" },
		{ "./", NULL, "empty" },
		{ "/", NULL, "empty" },
		{ "//./", NULL, "empty" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *out = (char *)"unset";
		int err;

		UNIT_CASE("row %zu \"%s\"", i, rows[i].in);
		err = dc__path_clean(unit_ctx(), &out, rows[i].in, "member name");
		if (rows[i].want) {
			CHECK_EQ_INT(err, 0);
			CHECK_STR(out, rows[i].want);
			free(out);
		} else {
			CHECK_EQ_INT(err, DC_ECORRUPT);
			CHECK(out == NULL);
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), rows[i].msg);
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "member name");
		}
	}
}

TEST(path_clean_too_long)
{
	char *name = unit_xmalloc(DC_MAX_NAME + 2), *out = NULL;

	memset(name, 'a', DC_MAX_NAME + 1);
	name[DC_MAX_NAME + 1] = '\0';
	CHECK_ERR(dc__path_clean(unit_ctx(), &out, name, "member name"), DC_ELIMIT);
	CHECK(!out);
	name[DC_MAX_NAME] = '\0';
	CHECK_OK(dc__path_clean(unit_ctx(), &out, name, "member name"));
	CHECK_EQ_INT(out ? strlen(out) : 0, DC_MAX_NAME);
	free(out);
	free(name);
}
