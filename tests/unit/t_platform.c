/*
 * Platforms (src/model/platform.c): one parser and normalizer for every
 * source, after containerd's platforms.Parse/Normalize/Only.
 */
#include "unit.h"
#include "model/model.h"

#include <sys/utsname.h>

static const struct {
	const char *in;
	int err;
	const char *str;	/* normalized, "os/arch[/variant]" */
} parse_rows[] = {
	{ "linux/amd64", 0, "linux/amd64" },
	{ "linux/x86_64", 0, "linux/amd64" },
	{ "linux/x86-64", 0, "linux/amd64" },
	{ "amd64", 0, "linux/amd64" },
	{ "x86_64", 0, "linux/amd64" },
	{ "LINUX/AMD64", 0, "linux/amd64" },
	{ "linux/arm64", 0, "linux/arm64" },
	{ "linux/aarch64", 0, "linux/arm64" },
	{ "arm64", 0, "linux/arm64" },
	{ "aarch64", 0, "linux/arm64" },
	/* an explicit arm64 variant is kept (it matches arm64, below) */
	{ "linux/arm64/v8", 0, "linux/arm64/v8" },
	{ "linux/arm64/8", 0, "linux/arm64/v8" },
	{ "linux/arm", 0, "linux/arm/v7" },
	{ "arm", 0, "linux/arm/v7" },
	{ "linux/arm/6", 0, "linux/arm/v6" },
	{ "linux/armhf", 0, "linux/arm/v7" },
	{ "linux/armel", 0, "linux/arm/v6" },
	{ "linux/armhf/v6", 0, "linux/arm/v6" },
	{ "linux/i686", 0, "linux/386" },
	{ "i386", 0, "linux/386" },
	{ "windows/amd64", 0, "windows/amd64" },
	{ "linux/ppc64le", 0, "linux/ppc64le" },
	{ "linux/s390x", 0, "linux/s390x" },
	{ "freebsd/riscv64", 0, "freebsd/riscv64" },
	/* bad */
	{ "", DC_EINVAL, NULL },
	{ "linux", DC_EINVAL, NULL },
	{ "linux/", DC_EINVAL, NULL },
	{ "/amd64", DC_EINVAL, NULL },
	{ "linux/amd64/", DC_EINVAL, NULL },
	{ "linux/arm/v7/x", DC_EINVAL, NULL },
	{ "linux//amd64", DC_EINVAL, NULL },
	{ "linux/am d64", DC_EINVAL, NULL },
	{ "linux/amd64\n", DC_EINVAL, NULL },
	{ "linux/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DC_EINVAL, NULL },
	{ "notanarch", DC_EINVAL, NULL },
};

TEST(platform_parse_table)
{
	size_t i;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		struct dc_platform p;
		char s[128];
		int err;

		UNIT_CASE("row %zu \"%s\"", i, parse_rows[i].in);
		err = dc__platform_parse(unit_ctx(), &p, parse_rows[i].in);
		CHECK_EQ_INT(err, parse_rows[i].err);
		if (err) {
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()),
				       "expected OS/ARCH[/VARIANT]");
			continue;
		}
		dc__platform_str(&p, s, sizeof(s));
		CHECK_STR(s, parse_rows[i].str);
	}
}

static const struct {
	const char *want;
	const char *os, *arch, *variant;	/* an image's, as its config says */
	int score;
} match_rows[] = {
	{ "linux/amd64", "linux", "amd64", NULL, 2 },
	{ "linux/x86_64", "linux", "amd64", NULL, 2 },
	{ "amd64", "linux", "amd64", NULL, 2 },
	{ "linux/amd64", "linux", "x86_64", NULL, 2 },
	{ "linux/amd64", "linux", "arm64", NULL, 0 },
	{ "linux/amd64", "windows", "amd64", NULL, 0 },
	{ "linux/amd64", NULL, "amd64", NULL, 0 },
	{ "linux/amd64", "linux", NULL, NULL, 0 },
	/* arm64/v8 is arm64, from either side */
	{ "linux/arm64", "linux", "arm64", NULL, 2 },
	{ "linux/arm64", "linux", "arm64", "v8", 2 },
	{ "linux/arm64/v8", "linux", "arm64", NULL, 2 },
	{ "linux/arm64/v8", "linux", "arm64", "v8", 2 },
	{ "arm64", "linux", "arm64", "v8", 2 },
	{ "linux/arm64", "linux", "aarch64", NULL, 2 },
	/* an unknown variant matches, less well */
	{ "linux/arm", "linux", "arm", "v7", 2 },
	{ "linux/arm", "linux", "arm", NULL, 1 },
	{ "linux/arm/v7", "linux", "arm", "7", 2 },
	/* arm/v7 runs older arm variants, not newer ones */
	{ "linux/arm/v7", "linux", "arm", "v6", 1 },
	{ "linux/arm/v7", "linux", "arm", "v8", 0 },
	{ "linux/arm/v6", "linux", "arm", "v7", 0 },
	/* arm64/v9 runs arm64 (v8) images */
	{ "linux/arm64/v9", "linux", "arm64", "v8", 1 },
	{ "linux/arm64/v9", "linux", "arm64", NULL, 1 },
};

TEST(platform_match_table)
{
	size_t i;

	for (i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
		struct dc_platform w;

		UNIT_CASE("row %zu \"%s\"", i, match_rows[i].want);
		CHECK_OK(dc__platform_parse(unit_ctx(), &w, match_rows[i].want));
		CHECK_EQ_INT(dc__platform_match(&w, match_rows[i].os,
						match_rows[i].arch,
						match_rows[i].variant),
			     match_rows[i].score);
	}
}

TEST(platform_host)
{
	struct dc_platform p, q;
	struct utsname u;

	dc__platform_host(&p);
	CHECK_STR(p.os, "linux");
	CHECK(p.arch[0] != '\0');
	REQUIRE(uname(&u) == 0);
	if (!strcmp(u.machine, "x86_64"))
		CHECK_STR(p.arch, "amd64");
	else if (!strcmp(u.machine, "aarch64"))
		CHECK_STR(p.arch, "arm64");
	/* the host matches itself exactly */
	CHECK_EQ_INT(dc__platform_match(&p, p.os, p.arch,
					p.variant[0] ? p.variant : NULL), 2);
	/* and a host string parses back to the same platform */
	{
		char s[128];

		dc__platform_str(&p, s, sizeof(s));
		CHECK_OK(dc__platform_parse(unit_ctx(), &q, s));
		CHECK_STR(q.arch, p.arch);
	}
}
