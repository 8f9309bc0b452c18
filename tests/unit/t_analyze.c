/*
 * The analysis tables (src/analyze/tables.c): dive's figures and the real
 * merge, table-driven; the secrets scanner, redaction and CI rules.
 */
#include "unit.h"
#include "analyze/analyze.h"

#include <jansson.h>

/* An entry: "f:path:size", "d:path", "w:path" (whiteout of path), "q:dir"
 * (opaque), "l:path" (symlink). */
static void parse_entry(const char *spec, struct dc_an_entry *e)
{
	const char *p = spec + 2, *colon = strchr(p, ':');
	size_t n = colon ? (size_t)(colon - p) : strlen(p);

	memset(e, 0, sizeof(*e));
	e->type = (unsigned char)(spec[0] == 'f' ? AN_FILE : spec[0] == 'd' ?
		AN_DIR : spec[0] == 'w' ? AN_WHITEOUT : spec[0] == 'q' ?
		AN_OPAQUE : AN_SYMLINK);
	e->path = unit_xmalloc(n + 1);
	memcpy(e->path, p, n);
	e->path[n] = '\0';
	e->size = colon ? atoll(colon + 1) : 0;
}

#define MAXL 4
#define MAXE 8

struct tcase {
	const char *name;
	const char *layers[MAXL][MAXE];	/* NULL-terminated, bottom up */
	uint64_t wasted;
	uint64_t eff_num, eff_den;	/* efficiency = num / den */
	uint64_t hidden_bytes;
	uint64_t removed_files, removed_bytes;	/* summed over layers */
	uint64_t added_files, modified_files;
};

static const struct tcase cases[] = {
	{ "a file written, then deleted",
	  { { "d:x", "f:x/big:100", "f:keep:1", NULL }, { "d:x", "w:x/big", NULL } },
	  100, 1, 101, 100, 1, 100, 2, 0 },
	{ "a file overwritten: both copies count as waste",
	  { { "f:a:10", NULL }, { "f:a:30", NULL } },
	  40, 10, 40, 10, 0, 0, 1, 1 },
	{ "a directory whited out and recreated",
	  { { "d:d", "f:d/a:10", "f:d/b:20", NULL },
	    { "w:d", "d:d", "f:d/a:5", NULL } },
	  15, 55, 65, 30, 2, 30, 3, 0 },
	{ "an opaque directory: dive ignores the marker",
	  { { "d:d", "f:d/x:7", NULL }, { "d:d", "q:d", "f:d/y:3", NULL } },
	  0, 1, 1, 7, 1, 7, 2, 0 },
	{ "a whiteout of a missing path stops the layer's walk",
	  /* ".wh.zz" sorts before "a": the overwrite of a is not counted */
	  { { "f:a:5", NULL }, { "w:zz", "f:a:6", NULL } },
	  0, 1, 1, 5, 0, 0, 1, 1 },
	{ "a whiteout of a file counts 0, of a directory its subtree",
	  { { "f:f:8", "d:d", "f:d/s/t:4", NULL }, { "w:f", "w:d", NULL } },
	  8, 1, 2, 12, 2, 12, 2, 0 },
	{ "an empty layer between",
	  { { "f:a:3", NULL }, { NULL }, { "f:a:3", NULL } },
	  6, 3, 6, 3, 0, 0, 1, 1 },
};

TEST(analyze_tables)
{
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct tcase *tc = &cases[c];
		struct an_tables *t = NULL;
		struct dc_an_image img;
		struct dc_an_layer ly[MAXL];
		uint64_t removed_f = 0, removed_b = 0, added = 0, modified = 0;
		size_t L, i, nl = 0;
		double want;

		UNIT_CASE("%s", tc->name);
		memset(&img, 0, sizeof(img));
		memset(ly, 0, sizeof(ly));
		for (L = 0; L < MAXL && (tc->layers[L][0] || (L + 1 < MAXL &&
					 tc->layers[L + 1][0])); L++)
			nl = L + 1;
		img.layers = ly;
		img.nlayers = nl;
		CHECK_OK(dc__an_tables_new(unit_ctx(), &t));
		REQUIRE(t);
		for (L = 0; L < nl; L++) {
			struct dc_an_entry e[MAXE];
			size_t n = 0;

			for (i = 0; tc->layers[L][i]; i++)
				parse_entry(tc->layers[L][i], &e[n++]);
			CHECK_OK(dc__an_tables_layer(t, (int)L, e, n, &ly[L]));
		}
		CHECK_OK(dc__an_tables_finish(t, &img));
		dc__an_tables_free(t);
		for (L = 0; L < nl; L++) {
			removed_f += ly[L].removed_files;
			removed_b += ly[L].removed_bytes;
			added += ly[L].added_files;
			modified += ly[L].modified_files;
		}
		CHECK_EQ_U64(img.wasted_bytes, tc->wasted);
		want = (double)tc->eff_num / (double)tc->eff_den;
		CHECKF(img.efficiency == want, "efficiency %.17g, want %.17g",
		       img.efficiency, want);
		CHECK_EQ_U64(img.hidden_bytes, tc->hidden_bytes);
		CHECK_EQ_U64(removed_f, tc->removed_files);
		CHECK_EQ_U64(removed_b, tc->removed_bytes);
		CHECK_EQ_U64(added, tc->added_files);
		CHECK_EQ_U64(modified, tc->modified_files);
		img.layers = NULL;
		img.nlayers = 0;
		for (i = 0; i < img.nent; i++) {
			free(img.ent[i].path);
			free(img.ent[i].link);
		}
		free(img.ent);
		for (i = 0; i < img.nwaste; i++)
			free(img.waste[i].path);
		free(img.waste);
		free(img.eidx);
		free(img.dups);
	}
}

TEST(analyze_keylike_redact)
{
	static const struct { const char *name; int want; } k[] = {
		{ "AWS_SECRET_KEY", 1 }, { "api_token", 1 }, { "DB_PASSWORD", 1 },
		{ "password", 1 }, { "CLIENT_SECRET", 1 }, { "KEY", 0 },
		{ "PATH", 0 }, { "KEYS", 0 }, { "MY-KEY", 0 }, { "", 0 },
	};
	char *r;
	size_t i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		UNIT_CASE("%s", k[i].name);
		CHECK_EQ_INT(dc__an_keylike(k[i].name, strlen(k[i].name)), k[i].want);
	}
	r = dc__an_redact("AKIAABCDEFGHIJKLMNOP", 20);
	CHECK_STR(r, "AKIA\xe2\x80\xa6(20)");
	free(r);
	r = dc__an_redact("hunter2", 7);	/* short: a third at most */
	CHECK_STR(r, "hu\xe2\x80\xa6(7)");
	free(r);
}

struct found {
	char kinds[512];
	size_t n;
};

static int on_found(void *arg, const char *kind, const char *p, size_t n)
{
	struct found *f = arg;
	size_t l = strlen(f->kinds);

	snprintf(f->kinds + l, sizeof(f->kinds) - l, "%s%s:%zu", l ? " " : "",
		 kind, n);
	f->n++;
	(void)p;
	return 0;
}

/* Stream BUF through the scanner in pieces of STEP bytes. */
static void scan_pieces(const char *path, const char *buf, size_t len,
			size_t step, struct found *f)
{
	struct an_scan *s = NULL;
	size_t off;

	memset(f, 0, sizeof(*f));
	CHECK_OK(dc__an_scan_new(unit_ctx(), &s));
	if (!s)
		return;
	dc__an_scan_begin(s, path, on_found, f);
	for (off = 0; off < len; off += step)
		CHECK_OK(dc__an_scan_feed(s, buf + off, len - off < step ?
					  len - off : step));
	CHECK_OK(dc__an_scan_end(s));
	dc__an_scan_free(s);
}

TEST(analyze_scan_window)
{
	static const size_t steps[] = { 1, 7, 4096, 65536, 1 << 20 };
	const char *tok[] = {
		"AKIAABCDEFGHIJKLMNOP",
		"ghp_abcdefghijklmnopqrstuvwxyz0123456789",
		"-----BEGIN OPENSSH PRIVATE KEY-----",
		"glpat-abcdefghij0123456789",
		"xoxb-1234567890-abcdef",
	};
	size_t len = 300000, i, s;
	char *buf = unit_xmalloc(len);
	struct found f;

	memset(buf, 'z', len);
	/* across the window's boundary (65536) and near the end */
	for (i = 0; i < 5; i++) {
		size_t at = i < 4 ? 65536 - 10 + i * 65536 : len - 30;

		buf[at - 1] = ' ';
		memcpy(buf + at, tok[i], strlen(tok[i]));
		buf[at + strlen(tok[i])] = ' ';
	}
	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		UNIT_CASE("step %zu", steps[s]);
		scan_pieces("x/file", buf, len, steps[s], &f);
		CHECK_STR(f.kinds, "aws-access-key-id:20 github-token:40 "
			  "openssh-private-key:35 gitlab-token:26 slack-token:22");
	}
	/* not tokens: inside a word, too short */
	scan_pieces("f", "xAKIAABCDEFGHIJKLMNOP ghp_short AKIAabcdefghijklmnop", 51,
		    51, &f);
	CHECK_EQ_INT(f.n, 0);
	free(buf);
}

/*
 * A token at every offset of a vector block and across them, in fillers
 * that hold the first bytes of tokens (and the pairs the vector filter
 * lets through): found once each, wherever it lies.
 */
TEST(analyze_scan_offsets)
{
	static const char *const fill[] = { "z", "ACA[gwxp--x-", "\x01\xff\x80g" };
	static const char *const tok[] = {
		"AKIAABCDEFGHIJKLMNOP", "glpat-abcdefghij0123456789",
		"-----BEGIN RSA PRIVATE KEY-----",
	};
	static const char *const want[] = {
		"aws-access-key-id:20", "gitlab-token:26", "private-key:31",
	};
	size_t len = 4096, f, t, at, i;
	char *buf = unit_xmalloc(len);
	struct found fd;

	for (f = 0; f < 3; f++)
		for (t = 0; t < 3; t++)
			for (at = 1; at < 200; at += 1 + at / 40) {
				for (i = 0; i < len; i++)
					buf[i] = fill[f][i % strlen(fill[f])];
				buf[at - 1] = ' ';
				memcpy(buf + at, tok[t], strlen(tok[t]));
				buf[at + strlen(tok[t])] = ' ';
				UNIT_CASE("filler %zu, token %zu at %zu", f, t, at);
				scan_pieces("f", buf, len, len, &fd);
				CHECK_STR(fd.kinds, want[t]);
			}
	free(buf);
}

TEST(analyze_scan_credentials)
{
	static const struct { const char *path, *content, *want; } c[] = {
		{ "home/u/.npmrc", "//r.example/:_authToken=abcdef123456\n",
		  "npm-token:12" },
		{ ".pypirc", "[pypi]\nusername = u\npassword = s3cr3t-value\n",
		  "pypi-password:12" },
		{ "root/.git-credentials", "https://user:tok123456@host\n",
		  "git-credentials:9" },
		{ "root/.docker/config.json",
		  "{\"auths\":{\"r\":{\"auth\":\"dXNlcjpwYXNz\"}}}",
		  "docker-auth:12" },
		{ "app/.env", "export DB_PASSWORD=\"pw with space\"\nPATH=/x\n"
		  "API_TOKEN=t0k3n # comment\n",
		  "env-assignment:13 env-assignment:5" },
		{ "app/config.json", "{\"auth\":\"dXNlcjpwYXNz\"}", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct found f;

		UNIT_CASE("%s", c[i].path);
		scan_pieces(c[i].path, c[i].content, strlen(c[i].content), 3, &f);
		CHECK_STR(f.kinds, c[i].want);
	}
}

TEST(analyze_scan_string)
{
	struct an_scan *s = NULL;
	struct found f;

	CHECK_OK(dc__an_scan_new(unit_ctx(), &s));
	REQUIRE(s);
	memset(&f, 0, sizeof(f));
	/* a build arg: the token once, not again as an assignment */
	CHECK_OK(dc__an_scan_string(s, "|2 GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789 "
				    "DB_PASSWORD=hunter22 /bin/sh -c make", 1,
				    on_found, &f));
	CHECK_STR(f.kinds, "github-token:40 key-assignment:8");
	dc__an_scan_free(s);
}

TEST(analyze_rules)
{
	struct dc_an_rules r;
	struct dc_an_image img;
	char msg[256];

	memset(&r, 0, sizeof(r));
	CHECK_OK(dc__an_rules_parse(unit_ctx(), &r,
		 "lowestEfficiency=0.9,highestWastedBytes=20MB,"
		 "highestUserWastedPercent=0.1,secrets=0"));
	CHECK(r.set[AN_RULE_EFFICIENCY] && r.value[AN_RULE_EFFICIENCY] == 0.9);
	CHECK(r.value[AN_RULE_WASTED_BYTES] == 20e6);
	CHECK(r.set[AN_RULE_SECRETS] && r.value[AN_RULE_SECRETS] == 0);
	CHECK_OK(dc__an_rules_parse(unit_ctx(), &r, "highestWastedBytes=1.5 GiB"));
	CHECK(r.value[AN_RULE_WASTED_BYTES] == 1610612736.0);
	CHECK_OK(dc__an_rules_parse(unit_ctx(), &r, "secrets=off"));
	CHECK(!r.set[AN_RULE_SECRETS]);
	CHECK_ERR(dc__an_rules_parse(unit_ctx(), &r, "lowestEfficiency=2"), DC_EINVAL);
	CHECK_ERR(dc__an_rules_parse(unit_ctx(), &r, "nope=1"), DC_EINVAL);
	CHECK_ERR(dc__an_rules_parse(unit_ctx(), &r, "highestWastedBytes=lots"),
		  DC_EINVAL);
	memset(&img, 0, sizeof(img));
	img.efficiency = 0.85;
	img.wasted_bytes = 1610612737;
	img.user_wasted_percent = 0.1;
	CHECK_EQ_INT(dc__an_rule_eval(&r, AN_RULE_EFFICIENCY, &img, msg, sizeof(msg)), 1);
	CHECK_CONTAINS(msg, "efficiency=0.85 < threshold=0.9");
	CHECK_EQ_INT(dc__an_rule_eval(&r, AN_RULE_WASTED_BYTES, &img, msg, sizeof(msg)), 1);
	CHECK_EQ_INT(dc__an_rule_eval(&r, AN_RULE_USER_WASTED, &img, msg, sizeof(msg)), 0);
}

/* Analyze T (an archive in memory): 0 or the error, the context's. */
static int analyze_mem(const struct ubuf *t, size_t *nsecrets)
{
	struct dc_ctx *ctx;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_analysis *rep = NULL;
	json_t *j = NULL;
	int err;

	if (dc_ctx_new(&ctx) < 0)
		abort();
	err = dc_reader_open_memory(ctx, &r, t->p, t->len);
	if (!err)
		err = dc_reader_load(r, &set);
	if (!err)
		err = dc__analyze(r, set, &rep);
	if (!err)
		err = dc__analyze_json(ctx, rep, NULL, 1, &j);
	if (!err && nsecrets)
		*nsecrets = rep->img[0].nsecrets;
	if (err && dc_ctx_errcode(ctx) != err)
		unit_fail(__FILE__, __LINE__, "returned %d, the context says %d",
			  err, dc_ctx_errcode(ctx));
	json_decref(j);
	dc__analyze_free(rep);
	dc_set_free(set);
	dc_reader_free(r);
	dc_ctx_free(ctx);
	return err;
}

/*
 * Every allocation failing in turn (a layer's reading runs on a thread
 * of its own, so the count may shift between runs): each run fails
 * cleanly with a code the context holds, or succeeds; no crash, no leak.
 */
TEST(analyze_failalloc)
{
	struct fx_layer l[3];
	struct ubuf t = { 0 };
	size_t ns = 0;
	long n;

	fx_layer_make(&l[0], "a", "gzip layer", DC_COMP_GZIP);
	fx_layer_make(&l[1], ".env", "API_TOKEN=abcdefgh12345\n", DC_COMP_ZSTD);
	fx_layer_make(&l[2], "c", "plain AKIAABCDEFGHIJKLMNOP", DC_COMP_NONE);
	fx_docker_tar(&t, l, 3, 0, "busybox:1");
	CHECK_OK(analyze_mem(&t, &ns));
	CHECK_EQ_INT(ns, 2);
	for (n = 1; n < 3000; n++) {
		int err;

		dc__fail_alloc_at(n);
		err = analyze_mem(&t, NULL);
		dc__fail_alloc_at(0);
		CHECKF(err <= 0 && err >= DC_EINTR, "n=%ld: odd return %d", n, err);
		if (!err)
			break;
	}
	CHECK(n > 10 && n < 3000);
	ubuf_free(&t);
	fx_layer_free(&l[0]);
	fx_layer_free(&l[1]);
	fx_layer_free(&l[2]);
}
