/*
 * The registry client's parsers: references, WWW-Authenticate
 * challenges, token answers, auth files, error bodies, loopback hosts.
 */
#include "unit.h"
#include "registry/registry.h"

static void buf_of(struct dc_buf *b, const char *s)
{
	b->data = (char *)s;
	b->len = strlen(s);
	b->cap = 0;
}

TEST(registry_ref_parse)
{
	static const struct {
		const char *in, *host, *name, *repo, *tag, *digest;
	} t[] = {
		{ "docker://127.0.0.1:5000/x:y", "127.0.0.1:5000", "127.0.0.1:5000", "x", "y", NULL },
		{ "localhost:5000/a/b/c", "localhost:5000", "localhost:5000", "a/b/c", NULL, NULL },
		{ "docker://busybox", "registry-1.docker.io", "docker.io", "library/busybox", NULL, NULL },
		{ "docker://[::1]:5000/a/b:c", "[::1]:5000", "[::1]:5000", "a/b", "c", NULL },
		{ "docker://[fe80::1]/x", "[fe80::1]", "[fe80::1]", "x", NULL, NULL },
		{ "docker://quay.io/org/img@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		  "quay.io", "quay.io", "org/img", NULL,
		  "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	};
	struct dc_reg_ref r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		UNIT_CASE("%s", t[i].in);
		if (dc__reg_ref_parse(unit_ctx(), &r, t[i].in) < 0) {
			CHECKF(0, "parse failed: %s", dc_ctx_errmsg(unit_ctx()));
			continue;
		}
		CHECK_STR(r.host, t[i].host);
		CHECK_STR(r.name, t[i].name);
		CHECK_STR(r.repo, t[i].repo);
		CHECK(!t[i].tag == !r.tag);
		if (t[i].tag && r.tag)
			CHECK_STR(r.tag, t[i].tag);
		CHECK(!t[i].digest == !r.digest);
		if (t[i].digest && r.digest)
			CHECK_STR(r.digest, t[i].digest);
		dc__reg_ref_release(&r);
	}
	UNIT_CASE("bad references");
	CHECK(dc__reg_ref_parse(unit_ctx(), &r, "docker://") < 0);
	CHECK(dc__reg_ref_parse(unit_ctx(), &r, "docker://h:1/A B") < 0);
	CHECK(dc__reg_ref_parse(unit_ctx(), &r, "docker://h/x@sha256:abc") < 0);
	CHECK(dc__reg_ref_parse(unit_ctx(), &r, "docker://[::1:5000/x") < 0);
	CHECK(dc__reg_ref_parse(unit_ctx(), &r, "docker://[::1]:port/x") < 0);
}

TEST(registry_loopback)
{
	CHECK(dc__reg_host_loopback("localhost"));
	CHECK(dc__reg_host_loopback("localhost:5000"));
	CHECK(dc__reg_host_loopback("127.0.0.1:5000"));
	CHECK(dc__reg_host_loopback("127.1.2.3"));
	CHECK(dc__reg_host_loopback("[::1]:5000"));
	CHECK(dc__reg_host_loopback("::1"));
	CHECK(!dc__reg_host_loopback("127.0.0.1.example.com"));
	CHECK(!dc__reg_host_loopback("127.example.com:5000"));
	CHECK(!dc__reg_host_loopback("10.0.0.1:5000"));
	CHECK(!dc__reg_host_loopback("localhost.example.com"));
	CHECK(!dc__reg_host_loopback("[::2]:5000"));
}

TEST(registry_challenge_parse)
{
	struct dc_reg_chal c;

	UNIT_CASE("bearer, quoted");
	CHECK_OK(dc__reg_chal_parse(unit_ctx(), &c,
		"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\""));
	CHECK_STR(c.scheme, "bearer");
	CHECK_STR(c.realm, "https://auth.docker.io/token");
	CHECK_STR(c.service, "registry.docker.io");
	CHECK_STR(c.scope, "repository:library/busybox:pull");
	dc__reg_chal_release(&c);

	UNIT_CASE("spaces, escapes, tokens, case");
	CHECK_OK(dc__reg_chal_parse(unit_ctx(), &c,
		"  BEARER  Realm = \"http://h/t?a=\\\"b\\\"\" , service=svc, error=\"insufficient_scope\""));
	CHECK_STR(c.scheme, "bearer");
	CHECK_STR(c.realm, "http://h/t?a=\"b\"");
	CHECK_STR(c.service, "svc");
	CHECK_STR(c.error, "insufficient_scope");
	CHECK(c.scope == NULL);
	dc__reg_chal_release(&c);

	UNIT_CASE("basic");
	CHECK_OK(dc__reg_chal_parse(unit_ctx(), &c, "Basic realm=\"Registry Realm\""));
	CHECK_STR(c.scheme, "basic");
	CHECK_STR(c.realm, "Registry Realm");
	dc__reg_chal_release(&c);

	UNIT_CASE("unterminated quote: the params before it");
	CHECK_OK(dc__reg_chal_parse(unit_ctx(), &c, "Bearer service=s,realm=\"x"));
	CHECK_STR(c.service, "s");
	CHECK(c.realm == NULL);
	dc__reg_chal_release(&c);

	UNIT_CASE("no scheme");
	CHECK_ERR(dc__reg_chal_parse(unit_ctx(), &c, ""), DC_EFORMAT);
	CHECK_ERR(dc__reg_chal_parse(unit_ctx(), &c, " =x"), DC_EFORMAT);
}

TEST(registry_token_parse)
{
	struct dc_buf b;
	char *t = NULL;

	buf_of(&b, "{\"token\":\"abc\",\"expires_in\":60}");
	CHECK_OK(dc__reg_token_parse(unit_ctx(), &b, &t));
	CHECK_STR(t, "abc");
	free(t);
	buf_of(&b, "{\"token\":\"\",\"access_token\":\"xyz\"}");
	CHECK_OK(dc__reg_token_parse(unit_ctx(), &b, &t));
	CHECK_STR(t, "xyz");
	free(t);
	buf_of(&b, "{\"nothing\":1}");
	CHECK_ERR(dc__reg_token_parse(unit_ctx(), &b, &t), DC_EFORMAT);
	buf_of(&b, "[1,");
	CHECK(dc__reg_token_parse(unit_ctx(), &b, &t) < 0);
}

TEST(registry_auth_parse)
{
	struct dc_buf b;
	char *u, *p;

	UNIT_CASE("auths by host, base64 auth");
	/* "alice:pa:ss" */
	buf_of(&b, "{\"auths\":{\"reg.example:5000\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}");
	CHECK_EQ_INT(dc__reg_auth_parse(unit_ctx(), &b, "a.json", "reg.example:5000", &u, &p), 1);
	CHECK_STR(u, "alice");
	CHECK_STR(p, "pa:ss");
	free(u);
	free(p);

	UNIT_CASE("none for another host");
	CHECK_EQ_INT(dc__reg_auth_parse(unit_ctx(), &b, "a.json", "other.example", &u, &p), 0);
	CHECK(u == NULL && p == NULL);

	UNIT_CASE("Docker Hub's URL key");
	buf_of(&b, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}");
	CHECK_EQ_INT(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "docker.io", &u, &p), 1);
	CHECK_STR(u, "u");
	CHECK_STR(p, "p");
	free(u);
	free(p);

	UNIT_CASE("a URL key with a path; not a prefix of another host");
	buf_of(&b, "{\"auths\":{\"https://h.example/v2/\":{\"auth\":\"dTpw\"}}}");
	CHECK_EQ_INT(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "h.example", &u, &p), 1);
	free(u);
	free(p);
	CHECK_EQ_INT(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "h.ex", &u, &p), 0);

	UNIT_CASE("credential helpers: credHelpers for the host, else credsStore without an auth");
	buf_of(&b, "{\"credHelpers\":{\"gcr.io\":\"gcloud\"},\"credsStore\":\"pass\","
		   "\"auths\":{\"h\":{\"auth\":\"dTpw\"}}}");
	CHECK_EQ_INT(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "gcr.io", &u, &p), 2);
	CHECK_STR(u, "gcloud");
	CHECK(p == NULL);
	free(u);
	CHECK_EQ_INT(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "h", &u, &p), 1);
	CHECK_STR(u, "u");
	free(u);
	free(p);
	CHECK_EQ_INT(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "other", &u, &p), 2);
	CHECK_STR(u, "pass");
	free(u);
	buf_of(&b, "{\"credsStore\":\"../../bin/sh\"}");
	CHECK_ERR(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "h", &u, &p), DC_EFORMAT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "not a plain name");

	UNIT_CASE("bad auth: not base64, no colon; no secret in the message");
	buf_of(&b, "{\"auths\":{\"h\":{\"auth\":\"!!!\"}}}");
	CHECK_ERR(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "h", &u, &p), DC_EFORMAT);
	buf_of(&b, "{\"auths\":{\"h\":{\"auth\":\"c2VjcmV0\"}}}");	/* "secret" */
	CHECK_ERR(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "h", &u, &p), DC_EFORMAT);
	CHECK(!strstr(dc_ctx_errmsg(unit_ctx()), "secret"));
	buf_of(&b, "[]");
	CHECK_ERR(dc__reg_auth_parse(unit_ctx(), &b, "c.json", "h", &u, &p), DC_EFORMAT);
}

TEST(registry_helper_parse)
{
	struct dc_buf b;
	char *u, *p;

	UNIT_CASE("Username and Secret");
	buf_of(&b, "{\"ServerURL\":\"h\",\"Username\":\"al\",\"Secret\":\"s:3\"}");
	CHECK_EQ_INT(dc__reg_helper_parse(unit_ctx(), &b, "helper x", &u, &p), 1);
	CHECK_STR(u, "al");
	CHECK_STR(p, "s:3");
	free(u);
	free(p);

	UNIT_CASE("an identity token is not supported; no secret in the message");
	buf_of(&b, "{\"Username\":\"<token>\",\"Secret\":\"refr3sh\"}");
	CHECK_ERR(dc__reg_helper_parse(unit_ctx(), &b, "helper x", &u, &p), DC_EUNSUPPORTED);
	CHECK(!strstr(dc_ctx_errmsg(unit_ctx()), "refr3sh"));

	UNIT_CASE("no Secret, an empty one, a NUL inside, not JSON");
	buf_of(&b, "{\"Username\":\"al\"}");
	CHECK_ERR(dc__reg_helper_parse(unit_ctx(), &b, "helper x", &u, &p), DC_EFORMAT);
	buf_of(&b, "{\"Username\":\"al\",\"Secret\":\"\"}");
	CHECK_ERR(dc__reg_helper_parse(unit_ctx(), &b, "helper x", &u, &p), DC_EFORMAT);
	buf_of(&b, "{\"Username\":\"al\",\"Secret\":\"a\\u0000b\"}");
	CHECK_ERR(dc__reg_helper_parse(unit_ctx(), &b, "helper x", &u, &p), DC_EFORMAT);
	buf_of(&b, "credentials not found");
	CHECK(dc__reg_helper_parse(unit_ctx(), &b, "helper x", &u, &p) < 0);
	CHECK(u == NULL && p == NULL);
}

TEST(registry_err_body)
{
	struct dc_buf b;
	char msg[128];

	buf_of(&b, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}");
	dc__reg_err_body(&b, msg, sizeof(msg));
	CHECK_STR(msg, "MANIFEST_UNKNOWN: manifest unknown");
	buf_of(&b, "<html>");
	dc__reg_err_body(&b, msg, sizeof(msg));
	CHECK_STR(msg, "");
}

TEST(registry_content_range)
{
	static const struct {
		const char *in;
		int ok;
		uint64_t s, e, t;
	} t[] = {
		{ "bytes 0-99/100", 1, 0, 99, 100 },
		{ "bytes 20978252-41956502/41956503", 1, 20978252, 41956502, 41956503 },
		{ "bytes  5-5/6", 1, 5, 5, 6 },
		{ "bytes 0-99/*", 0, 0, 0, 0 },
		{ "bytes */100", 0, 0, 0, 0 },
		{ "bytes 0-100/100", 0, 0, 0, 0 },
		{ "bytes 10-9/100", 0, 0, 0, 0 },
		{ "bytes 0-99/100 ", 0, 0, 0, 0 },
		{ "bytes +0-99/100", 0, 0, 0, 0 },
		{ "bytes 0--99/100", 0, 0, 0, 0 },
		{ "items 0-99/100", 0, 0, 0, 0 },
		{ "bytes 0-99", 0, 0, 0, 0 },
		{ "bytes 0-1/1000000000000000000000", 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0 },
	};
	uint64_t s, e, tot;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		UNIT_CASE("'%s'", t[i].in);
		CHECK((dc__reg_crange_parse(t[i].in, &s, &e, &tot) == 0) == t[i].ok);
		if (t[i].ok && dc__reg_crange_parse(t[i].in, &s, &e, &tot) == 0) {
			CHECK(s == t[i].s);
			CHECK(e == t[i].e);
			CHECK(tot == t[i].t);
		}
	}
}
