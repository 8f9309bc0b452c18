/*
 * The analysis through its public API (include/decant/analyze.h) only,
 * as a program outside decant uses it: no dc__ function and no field of
 * a private struct below the fixture's building.
 */
#include "unit.h"

#include <unistd.h>

/* Three layers: "a" ("hello"), "a" again, the same bytes (overwritten:
 * dive's waste and a duplicate), then "c" with a fake AWS key id. */
static void fixture(struct ubuf *t, struct fx_layer l[3])
{
	fx_layer_make(&l[0], "a", "hello", DC_COMP_GZIP);
	fx_layer_make(&l[1], "a", "hello", DC_COMP_NONE);
	fx_layer_make(&l[2], "c", "key AKIAABCDEFGHIJKLMNOP\n", DC_COMP_ZSTD);
	fx_docker_tar(t, l, 3, 0, "app:1");
}

struct sink {
	struct ubuf out;
	int refuse;
};

static int sink(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;

	if (s->refuse)
		return -1;
	ubuf_add(&s->out, p, n);
	return 0;
}

struct verdicts {
	char text[256];
};

static void verdict(void *arg, const char *rule, const char *threshold,
		    int failed, const char *msg)
{
	struct verdicts *v = arg;
	size_t l = strlen(v->text);

	snprintf(v->text + l, sizeof(v->text) - l, "%s%s=%s:%s%s", l ? " " : "",
		 rule, threshold, failed ? "fail" : "pass", msg ? "+msg" : "");
}

TEST(analyze_public_api)
{
	struct dc_ctx *ctx = unit_ctx();
	struct fx_layer l[3];
	struct ubuf t = { 0 };
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_analysis *a = NULL;
	struct dc_an_rules *rules = NULL;
	const struct dc_an_image *img;
	const struct dc_an_entry *e;
	const struct dc_an_secret *s;
	struct sink out = { { 0 }, 0 };
	struct verdicts v = { "" };
	uint64_t files, bytes, lt, st;
	size_t groups;
	const char *path;
	uint32_t count;

	fixture(&t, l);
	CHECK_OK(dc_reader_open_memory(ctx, &r, t.p, t.len));
	REQUIRE(r);
	CHECK_OK(dc_reader_load(r, &set));
	REQUIRE(set);
	CHECK_OK(dc_analyze(r, set, &a));
	REQUIRE(a);
	CHECK_STR(dc_analysis_format(a), "docker-archive");
	CHECK_EQ_INT(dc_analysis_count(a), 1);
	CHECK(dc_analysis_image(a, 1) == NULL);
	img = dc_analysis_image(a, 0);
	REQUIRE(img);
	CHECK_STR(dc_an_image_id(img), dc_image_id(dc_set_image(set, 0)));
	CHECK_EQ_INT(dc_an_image_tag_count(img), 1);
	CHECK_STR(dc_an_image_tag(img, 0), "app:1");

	/* dive: "a" twice (5 + 5 bytes, its smallest 5) and "c" once (25) */
	CHECK_EQ_INT(dc_an_image_size_bytes(img), 35);
	CHECK_EQ_INT(dc_an_image_user_size_bytes(img), 30);
	CHECK_EQ_INT(dc_an_image_wasted_bytes(img), 10);
	CHECK(dc_an_image_efficiency(img) == 30.0 / 35.0);
	CHECK(dc_an_image_user_wasted(img) == 10.0 / 30.0);
	CHECK_EQ_INT(dc_an_image_waste_count(img), 1);
	dc_an_image_waste(img, 0, &path, &count, &bytes);
	CHECK_STR(path, "/a");
	CHECK_EQ_INT(count, 2);
	CHECK_EQ_INT(bytes, 10);
	dc_an_image_hidden(img, &files, &bytes);
	CHECK_EQ_INT(files, 1);
	CHECK_EQ_INT(bytes, 5);
	dc_an_image_duplicates(img, &groups, &bytes);
	CHECK_EQ_INT(groups, 1);
	CHECK_EQ_INT(bytes, 5);
	CHECK_EQ_INT(dc_an_image_squash(img, &lt, &st), 1);
	CHECK(lt > st && st > 0);

	CHECK_EQ_INT(dc_an_image_layer_count(img), 3);
	CHECK(dc_an_image_layer(img, 3) == NULL);
	CHECK_STR(dc_an_layer_digest(dc_an_image_layer(img, 1)), l[1].digest);
	CHECK_EQ_INT(dc_an_layer_compressed(dc_an_image_layer(img, 1)),
		     (long long)l[1].blob.len);
	CHECK_EQ_INT(dc_an_layer_tar_bytes(dc_an_image_layer(img, 1)),
		     (long long)l[1].blob.len);
	dc_an_layer_changes(dc_an_image_layer(img, 1), DC_AN_MODIFIED, &files,
			    &bytes);
	CHECK_EQ_INT(files, 1);
	CHECK_EQ_INT(bytes, 5);
	dc_an_layer_changes(dc_an_image_layer(img, 0), DC_AN_HIDDEN_LATER,
			    &files, &bytes);
	CHECK_EQ_INT(files, 1);
	CHECK_EQ_INT(bytes, 5);

	CHECK_EQ_INT(dc_an_image_entry_count(img), 3);
	e = dc_an_image_entry(img, 0);
	REQUIRE(e);
	CHECK_STR(dc_an_entry_path(e), "a");
	CHECK_EQ_INT(dc_an_entry_type(e), 'f');
	CHECK_EQ_INT(dc_an_entry_layer(e), 0);
	CHECK_EQ_INT(dc_an_entry_size(e), 5);
	CHECK_EQ_INT(dc_an_entry_fate(e), DC_AN_OVERWRITTEN);
	CHECK_EQ_INT(dc_an_entry_hidden_by(e), 1);
	e = dc_an_image_entry(img, 2);
	REQUIRE(e);
	CHECK_EQ_INT(dc_an_entry_fate(e), DC_AN_VISIBLE);
	CHECK_EQ_INT(dc_an_entry_hidden_by(e), -1);

	CHECK_EQ_INT(dc_an_image_secret_count(img), 1);
	s = dc_an_image_secret(img, 0);
	REQUIRE(s);
	CHECK_STR(dc_an_secret_kind(s), "aws-access-key-id");
	CHECK_STR(dc_an_secret_where(s), "file");
	CHECK_EQ_INT(dc_an_secret_layer(s), 2);
	CHECK_STR(dc_an_secret_path(s), "/c");
	CHECK_EQ_INT(dc_an_secret_visible(s), 1);
	CHECK_STR(dc_an_secret_redacted(s), "AKIA\xe2\x80\xa6(20)");

	/* rules: their verdicts, in their order */
	CHECK_OK(dc_an_rules_new(ctx, &rules));
	REQUIRE(rules);
	CHECK_OK(dc_an_rules_parse(ctx, rules, "secrets=0,lowestEfficiency=0.5"));
	CHECK_ERR(dc_an_rules_parse(ctx, rules, "nope=1"), DC_EINVAL);
	CHECK_ERR(dc_an_rules_file(ctx, rules, "/nonexistent/.dive-ci"), DC_EINVAL);
	CHECK_EQ_INT(dc_an_rules_check(rules, img, verdict, &v), 1);
	CHECK_STR(v.text, "lowestEfficiency=0.5:pass secrets=0:fail+msg");
	/* the reports, through the caller's writer */
	CHECK_OK(dc_analysis_json(ctx, a, rules, DC_AN_JSON_FILES, sink, &out));
	ubuf_add(&out.out, "", 1);
	CHECK(strstr((char *)out.out.p, "\"schemaVersion\": 1") != NULL);
	CHECK(strstr((char *)out.out.p, "\"contentHash\":\"xxh3-128:") != NULL);
	CHECK(strstr((char *)out.out.p, "\"status\": \"fail\"") != NULL);
	CHECK(strstr((char *)out.out.p, "AKIAABCD") == NULL);
	ubuf_free(&out.out);
	CHECK_OK(dc_analysis_html(ctx, a, sink, &out));
	ubuf_add(&out.out, "", 1);
	CHECK(strstr((char *)out.out.p, "<svg") != NULL ||
	      strstr((char *)out.out.p, "<html") != NULL);
	ubuf_free(&out.out);
	out.refuse = 1;
	CHECK_ERR(dc_analysis_json(ctx, a, NULL, 0, sink, &out), DC_EIO);
	CHECK_ERR(dc_analysis_html(ctx, a, sink, &out), DC_EIO);

	/* a .dive-ci: its rules replace those given, a plugin's is skipped */
	{
		char tmpl[] = "/tmp/decant-unit-dive-ci-XXXXXX";
		int fd = mkstemp(tmpl);
		const char *ci = "---\nplugins:\n  - plugin1\nrules:\n"
				 "  # a comment\n  lowestEfficiency: 0.8\n"
				 "  secrets: disabled\n  plugin1/rule1: error\n";

		REQUIRE(fd >= 0);
		CHECK(write(fd, ci, strlen(ci)) == (ssize_t)strlen(ci));
		close(fd);
		CHECK_OK(dc_an_rules_file(ctx, rules, tmpl));
		unlink(tmpl);
		v.text[0] = '\0';
		CHECK_EQ_INT(dc_an_rules_check(rules, img, verdict, &v), 0);
		CHECK_STR(v.text, "lowestEfficiency=0.8:pass");
	}

	dc_an_rules_free(rules);
	dc_analysis_free(a);
	dc_analysis_free(NULL);
	dc_an_rules_free(NULL);
	dc_set_free(set);
	dc_reader_free(r);
	ubuf_free(&t);
	fx_layer_free(&l[0]);
	fx_layer_free(&l[1]);
	fx_layer_free(&l[2]);
}

/* Layer I of the threads fixture: many small files or a few large ones,
 * so that layers differ in the work per byte. */
static void threads_layer(struct fx_layer *l, int i)
{
	struct ubuf tar = { 0 };
	char name[64], *big = unit_xmalloc(200000);
	int k, n = i % 2 ? 400 : 3;

	memset(l, 0, sizeof(*l));
	memset(big, 'a' + i, 199999);
	big[199999] = '\0';
	for (k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "d%d/f%d", i % 3, k);
		tarb_str(&tar, name, n > 3 ? "small" : big);
	}
	tarb_end(&tar);
	dc__sha256_digest(tar.p, tar.len, l->diff_id);
	l->blob = tar;
	dc__sha256_digest(l->blob.p, l->blob.len, l->digest);
	free(big);
}

static int collect(void *arg, const void *p, size_t n)
{
	ubuf_add(arg, p, n);
	return 0;
}

/* The report of T through N threads, as JSON with every entry. */
static void threads_report(const struct ubuf *t, int n, struct ubuf *out)
{
	struct dc_ctx *ctx;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_analysis *a = NULL;

	memset(out, 0, sizeof(*out));
	REQUIRE(dc_ctx_new(&ctx) == 0);
	dc_ctx_set_threads(ctx, n);
	CHECK_OK(dc_reader_open_memory(ctx, &r, t->p, t->len));
	if (r)
		CHECK_OK(dc_reader_load(r, &set));
	if (set)
		CHECK_OK(dc_analyze(r, set, &a));
	if (a)
		CHECK_OK(dc_analysis_json(ctx, a, NULL, DC_AN_JSON_FILES, collect,
					  out));
	dc_analysis_free(a);
	dc_set_free(set);
	dc_reader_free(r);
	dc_ctx_free(ctx);
}

/*
 * Nine layers read on 1 to 8 threads, two at a time on each, in step:
 * the same report every time, whatever order the threads ended in.
 */
TEST(analyze_threads)
{
	struct fx_layer l[9];
	struct ubuf t = { 0 }, want, got;
	int i, n, round;

	for (i = 0; i < 9; i++)
		threads_layer(&l[i], i);
	fx_docker_tar(&t, l, 9, 0, "threads:1");
	threads_report(&t, 1, &want);
	REQUIRE(want.len > 0);
	for (round = 0; round < 5; round++)
		for (n = 2; n <= 8; n++) {
			UNIT_CASE("%d threads, round %d", n, round);
			threads_report(&t, n, &got);
			CHECK(got.len == want.len && !memcmp(got.p, want.p, want.len));
			ubuf_free(&got);
		}
	ubuf_free(&want);
	ubuf_free(&t);
	for (i = 0; i < 9; i++)
		fx_layer_free(&l[i]);
}
