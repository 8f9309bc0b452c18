/*
 * Image references (src/model/ref.c), after distribution/reference.
 */
#include "unit.h"

#define D64 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct {
	const char *in;
	int err;
	const char *normalized;
	const char *familiar;
} ref_rows[] = {
	{ "busybox", 0, "docker.io/library/busybox:latest", "busybox:latest" },
	{ "busybox:1.36", 0, "docker.io/library/busybox:1.36", "busybox:1.36" },
	{ "library/busybox", 0, "docker.io/library/busybox:latest", "busybox:latest" },
	{ "docker.io/library/alpine:3.18", 0, "docker.io/library/alpine:3.18", "alpine:3.18" },
	{ "docker.io/alpine", 0, "docker.io/library/alpine:latest", "alpine:latest" },
	{ "index.docker.io/foo/bar", 0, "docker.io/foo/bar:latest", "foo/bar:latest" },
	{ "index.docker.io/library/x:y", 0, "docker.io/library/x:y", "x:y" },
	{ "foo/bar", 0, "docker.io/foo/bar:latest", "foo/bar:latest" },
	{ "decant-test/multi:1.0", 0, "docker.io/decant-test/multi:1.0", "decant-test/multi:1.0" },
	{ "docker.io/library/a/b:c", 0, "docker.io/library/a/b:c", "library/a/b:c" },
	{ "example.com/a/b:c", 0, "example.com/a/b:c", "example.com/a/b:c" },
	{ "example.com/a", 0, "example.com/a:latest", "example.com/a:latest" },
	{ "localhost:5000/x:1", 0, "localhost:5000/x:1", "localhost:5000/x:1" },
	{ "localhost/x", 0, "localhost/x:latest", "localhost/x:latest" },
	{ "registry:5000/x", 0, "registry:5000/x:latest", "registry:5000/x:latest" },
	{ "127.0.0.1:5000/a/b/c:v1.2-rc_3", 0, "127.0.0.1:5000/a/b/c:v1.2-rc_3", "127.0.0.1:5000/a/b/c:v1.2-rc_3" },
	/* IPv6 literals in brackets, with or without a port */
	{ "[::1]:5000/x:1", 0, "[::1]:5000/x:1", "[::1]:5000/x:1" },
	{ "[::1]/a/b", 0, "[::1]/a/b:latest", "[::1]/a/b:latest" },
	{ "[2001:db8::AB]:443/x", 0, "[2001:db8::AB]:443/x:latest", "[2001:db8::AB]:443/x:latest" },
	{ "ab/c.d-e__f", 0, "docker.io/ab/c.d-e__f:latest", "ab/c.d-e__f:latest" },
	{ "a.b-c/e", 0, "a.b-c/e:latest", "a.b-c/e:latest" },
	{ "a--b", 0, "docker.io/library/a--b:latest", "a--b:latest" },
	{ "x:TAG_Upper", 0, "docker.io/library/x:TAG_Upper", "x:TAG_Upper" },
	/* an upper-case first component is a domain (distribution/reference) */
	{ "UPPER/case", 0, "UPPER/case:latest", "UPPER/case:latest" },
	{ "busybox:1@" D64, 0, "docker.io/library/busybox:1", "busybox:1" },
	/* docker.io stays where the path would read as a domain without it
	 * (found by fuzz_json's round trip) */
	{ "docker.io/libraer.io/library/layer", 0, "docker.io/libraer.io/library/layer:latest", "docker.io/libraer.io/library/layer:latest" },
	{ "docker.io/localhost/x:1", 0, "docker.io/localhost/x:1", "docker.io/localhost/x:1" },
	{ "docker.io/library/a.b", 0, "docker.io/library/a.b:latest", "a.b:latest" },
	{ "docker.io/library/a.b/c", 0, "docker.io/library/a.b/c:latest", "library/a.b/c:latest" },
	/* invalid */
	{ "", DC_EINVAL, NULL, NULL },
	{ "Upper", DC_EINVAL, NULL, NULL },
	{ "library/UPPER", DC_EINVAL, NULL, NULL },
	{ "UPPER/Case", DC_EINVAL, NULL, NULL },
	{ "a:b:c", DC_EINVAL, NULL, NULL },
	{ "-x", DC_EINVAL, NULL, NULL },
	{ "x-", DC_EINVAL, NULL, NULL },
	{ ".x", DC_EINVAL, NULL, NULL },
	{ "a//b", DC_EINVAL, NULL, NULL },
	{ "a/", DC_EINVAL, NULL, NULL },
	{ "/a", DC_EINVAL, NULL, NULL },
	{ "a...b", DC_EINVAL, NULL, NULL },
	{ "a___b", DC_EINVAL, NULL, NULL },
	{ "x:", DC_EINVAL, NULL, NULL },
	{ "x:-tag", DC_EINVAL, NULL, NULL },
	{ "x:.tag", DC_EINVAL, NULL, NULL },
	{ "x:t/g", DC_EINVAL, NULL, NULL },
	{ "[::1/x", DC_EINVAL, NULL, NULL },
	{ "[]:5000/x", DC_EINVAL, NULL, NULL },
	{ "[abc]/x", DC_EINVAL, NULL, NULL },
	{ "[::g]/x", DC_EINVAL, NULL, NULL },
	{ "[::1]:/x", DC_EINVAL, NULL, NULL },
	{ "[::1]:5a/x", DC_EINVAL, NULL, NULL },
	{ "[::1]x/y", DC_EINVAL, NULL, NULL },
	{ "x:t@g", DC_EINVAL, NULL, NULL },
	{ "x@sha256:abc", DC_EINVAL, NULL, NULL },
	{ "x@sha512:" "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", DC_EINVAL, NULL, NULL },
	{ "x@", DC_EINVAL, NULL, NULL },
	{ "@" D64, DC_EINVAL, NULL, NULL },
	{ "x y", DC_EINVAL, NULL, NULL },
	/* the domain must be a host name with an optional numeric port */
	{ "a b.com/x", DC_EINVAL, NULL, NULL },
	{ "exa_mple.com/x", DC_EINVAL, NULL, NULL },
	{ "host:port/x", DC_EINVAL, NULL, NULL },
	{ "-host.com/x", DC_EINVAL, NULL, NULL },
	{ "caf\xc3\xa9.com/x", DC_EINVAL, NULL, NULL },
	{ "a.com\x81/x", DC_EINVAL, NULL, NULL },
	{ "example.com/", DC_EINVAL, NULL, NULL },
	{ "example.com:5000", 0, "docker.io/library/example.com:5000", "example.com:5000" },
};

TEST(ref_parse_table)
{
	size_t i;

	for (i = 0; i < sizeof(ref_rows) / sizeof(ref_rows[0]); i++) {
		struct dc_ref ref;
		char *n = NULL, *f = NULL;
		int err;

		UNIT_CASE("row %zu \"%s\"", i, ref_rows[i].in);
		err = dc__ref_parse(unit_ctx(), &ref, ref_rows[i].in);
		CHECK_EQ_INT(err, ref_rows[i].err);
		if (err) {
			CHECK(!ref.domain && !ref.path && !ref.tag && !ref.digest);
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "invalid image reference");
			continue;
		}
		if (ref_rows[i].err)
			goto next;
		CHECK_OK(dc__ref_normalized(unit_ctx(), &ref, &n));
		CHECK_OK(dc__ref_familiar(unit_ctx(), &ref, &f));
		CHECK_STR(n, ref_rows[i].normalized);
		CHECK_STR(f, ref_rows[i].familiar);
		if (f && n) {
			/* what decant prints parses back to the same name */
			struct dc_ref again;
			char *n2 = NULL;

			CHECK_OK(dc__ref_parse(unit_ctx(), &again, f));
			CHECK_OK(dc__ref_normalized(unit_ctx(), &again, &n2));
			CHECK_STR(n2, n);
			free(n2);
			dc__ref_release(&again);
		}
next:
		free(n);
		free(f);
		dc__ref_release(&ref);
	}
}

TEST(ref_parse_fields)
{
	struct dc_ref ref;
	char long_ref[300];

	CHECK_OK(dc__ref_parse(unit_ctx(), &ref, "busybox@" D64));
	CHECK_STR(ref.domain, "docker.io");
	CHECK_STR(ref.path, "library/busybox");
	CHECK_STR(ref.tag, NULL);
	CHECK_STR(ref.digest, D64);
	dc__ref_release(&ref);
	CHECK(!ref.domain && !ref.path);

	CHECK_OK(dc__ref_parse(unit_ctx(), &ref, "localhost:5000/ns/img:tag@" D64));
	CHECK_STR(ref.domain, "localhost:5000");
	CHECK_STR(ref.path, "ns/img");
	CHECK_STR(ref.tag, "tag");
	CHECK_STR(ref.digest, D64);
	dc__ref_release(&ref);

	/* the tag is after the last '/': a port is not a tag */
	CHECK_OK(dc__ref_parse(unit_ctx(), &ref, "host:5000/img"));
	CHECK_STR(ref.domain, "host:5000");
	CHECK_STR(ref.tag, NULL);
	dc__ref_release(&ref);

	/* 128-character tags are the maximum */
	memset(long_ref, 0, sizeof(long_ref));
	memcpy(long_ref, "x:", 2);
	memset(long_ref + 2, 't', 128);
	CHECK_OK(dc__ref_parse(unit_ctx(), &ref, long_ref));
	dc__ref_release(&ref);
	long_ref[2 + 128] = 't';
	if (dc__ref_parse(unit_ctx(), &ref, long_ref) == 0) {
		CHECK(!"a 129-character tag is refused");
		dc__ref_release(&ref);
	}

	/*
	 * The 255-character limit is on the normalized name, without the
	 * tag (distribution/reference: NameTotalLengthMax on Name()):
	 * "docker.io/library/" + 237 characters is the longest.
	 */
	memset(long_ref, 0, sizeof(long_ref));
	memset(long_ref, 'a', 237);
	CHECK_OK(dc__ref_parse(unit_ctx(), &ref, long_ref));
	{
		char *fam = NULL;
		struct dc_ref again;

		/* what decant prints parses again */
		CHECK_OK(dc__ref_familiar(unit_ctx(), &ref, &fam));
		if (fam) {
			CHECK_EQ_INT(strlen(fam), 237 + 7);
			CHECK_OK(dc__ref_parse(unit_ctx(), &again, fam));
			dc__ref_release(&again);
		}
		free(fam);
	}
	dc__ref_release(&ref);
	long_ref[237] = 'a';
	if (dc__ref_parse(unit_ctx(), &ref, long_ref) == 0) {
		CHECK(!"a normalized name of 256 characters is refused");
		dc__ref_release(&ref);
	}
	/* a long name may still carry a long tag */
	memset(long_ref, 0, sizeof(long_ref));
	memset(long_ref, 'b', 150);
	long_ref[150] = ':';
	memset(long_ref + 151, 't', 128);
	CHECK_OK(dc__ref_parse(unit_ctx(), &ref, long_ref));
	dc__ref_release(&ref);
}
