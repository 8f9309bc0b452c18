/*
 * Failure injection (curl's torture mode): make the Nth allocation fail,
 * for N = 1, 2, ... until a run completes without reaching it. Every run
 * must fail cleanly or succeed: no crash, no leak (ASan/LSan check the
 * leaks when the test's child process exits).
 */
#include "unit.h"
#include "registry/registry.h"

/* Did the injected failure not happen yet? Consumes the countdown. */
static int still_pending(long n)
{
	struct dc_ctx *ctx;
	void *p[1];
	long i;
	int pending = 0;

	if (dc_ctx_new(&ctx) < 0)
		abort();
	for (i = 0; i < n; i++) {
		p[0] = dc__calloc(ctx, 1, 1);
		if (!p[0]) {
			pending = 1;
			break;
		}
		free(p[0]);
	}
	dc_ctx_free(ctx);
	dc__fail_alloc_at(0);
	return pending;
}

static char last_msg[2048];

static int run(const struct ubuf *t, int verify)
{
	struct dc_ctx *ctx;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	int err;

	if (dc_ctx_new(&ctx) < 0)
		abort();
	err = dc_reader_open_memory(ctx, &r, t->p, t->len);
	if (!err)
		err = dc_reader_load(r, &set);
	if (!err && verify)
		err = dc_reader_verify(r, set);
	if (err && dc_ctx_errcode(ctx) != err)
		unit_fail(__FILE__, __LINE__,
			  "returned %d but the context says %d (%s)", err,
			  dc_ctx_errcode(ctx), dc_ctx_errmsg(ctx));
	if (err == DC_ENOMEM)
		CHECK_CONTAINS(dc_ctx_errmsg(ctx), "out of memory");
	snprintf(last_msg, sizeof(last_msg), "%s", dc_ctx_errmsg(ctx));
	dc_set_free(set);
	dc_reader_free(r);
	dc_ctx_free(ctx);
	return err;
}

/*
 * Loop over N; returns how many allocations a full run makes. Failures
 * that did not come out as DC_ENOMEM are counted in *masked.
 */
static long torture(const struct ubuf *t, int verify, long *masked,
		    int strict)
{
	long n;

	*masked = 0;
	CHECK_OK(run(t, verify));	/* the input is valid */
	for (n = 1; n < 100000; n++) {
		int err;

		dc__fail_alloc_at(n);
		err = run(t, verify);
		if (still_pending(n)) {
			CHECKF(err == 0, "n=%ld: no allocation failed, yet %d", n,
			       err);
			return n - 1;
		}
		CHECKF(err <= 0 && err >= DC_EINTR, "n=%ld: odd return %d", n,
		       err);
		if (err != DC_ENOMEM) {
			(*masked)++;
			if (strict)
				unit_fail(__FILE__, __LINE__,
					  "allocation %ld failed, reported as %d: %s",
					  n, err, last_msg);
		}
	}
	CHECK(!"the loop never ended");
	return n;
}

static void layers3(struct fx_layer l[3])
{
	fx_layer_make(&l[0], "a", "gzip layer", DC_COMP_GZIP);
	fx_layer_make(&l[1], "b", "zstd layer", DC_COMP_ZSTD);
	fx_layer_make(&l[2], "c", "plain layer", DC_COMP_NONE);
}

TEST(failalloc_oci_archive)
{
	struct fx_layer l[3];
	struct ubuf t = { 0 };
	struct fx_oci opt = { .ref_name = "example.com/a:b" };
	long n, masked;

	layers3(l);
	fx_oci_tar(&t, l, 3, &opt);
	n = torture(&t, 0, &masked, 0);
	CHECK(n > 10);
	n = torture(&t, 1, &masked, 0);
	CHECK(n > 10);
	ubuf_free(&t);
	fx_layer_free(&l[0]);
	fx_layer_free(&l[1]);
	fx_layer_free(&l[2]);
}

TEST(failalloc_oci_docker25)
{
	struct fx_layer l[3];
	struct ubuf t = { 0 };
	struct fx_oci opt = { .ref_name = "1.0", .manifest_json = 1,
			      .repo_tag = "x/y:1.0" };
	long n, masked;

	layers3(l);
	fx_oci_tar(&t, l, 3, &opt);
	n = torture(&t, 1, &masked, 0);
	CHECK(n > 10);
	ubuf_free(&t);
	fx_layer_free(&l[0]);
	fx_layer_free(&l[1]);
	fx_layer_free(&l[2]);
}

TEST(failalloc_docker)
{
	int legacy;

	for (legacy = 0; legacy < 2; legacy++) {
		struct fx_layer l[3];
		struct ubuf t = { 0 };
		long n, masked;

		UNIT_CASE("legacy %d", legacy);
		layers3(l);
		fx_docker_tar(&t, l, 3, legacy, "busybox:1");
		n = torture(&t, 1, &masked, 0);
		CHECK(n > 10);
		ubuf_free(&t);
		fx_layer_free(&l[0]);
		fx_layer_free(&l[1]);
		fx_layer_free(&l[2]);
	}
}

/* Allocation failures must come out as DC_ENOMEM, not as a different
 * error that blames the input (e.g. "unknown format"). */
TEST(failalloc_reports_enomem)
{
	struct fx_layer l[3];
	struct ubuf t = { 0 };
	long n, masked;

	layers3(l);
	fx_oci_tar(&t, l, 3, NULL);
	n = torture(&t, 1, &masked, 1);
	CHECKF(masked == 0, "%ld of %ld injected failures were reported as "
	       "something other than DC_ENOMEM", masked, n);
	ubuf_free(&t);
	fx_layer_free(&l[0]);
	fx_layer_free(&l[1]);
	fx_layer_free(&l[2]);
}

/* Tar index and symlink resolution under failure. */
TEST(failalloc_tar_index)
{
	struct ubuf t = { 0 };
	long n;
	char ln[200];

	memset(ln, 'n', sizeof(ln) - 1);
	ln[sizeof(ln) - 1] = '\0';
	tarb_pax(&t, "path", ln);
	tarb_str(&t, "ignored", "p");
	tarb_gnu_long(&t, 'L', "gnu/long/name");
	tarb_str(&t, "x", "g");
	tarb_symlink(&t, "s1", "gnu/long/name");
	tarb_symlink(&t, "s2", "/s1");
	tarb_end(&t);
	for (n = 1; n < 10000; n++) {
		struct dc_ctx *ctx;
		struct dc_src *src = NULL;
		struct dc_buf b = DC_BUF_INIT;
		int err;

		if (dc_ctx_new(&ctx) < 0)
			abort();
		dc__fail_alloc_at(n);
		err = dc__src_open_memory(ctx, &src, t.p, t.len);
		if (!err)
			err = dc__src_read_all(src, "s2", 100, &b);
		if (!err)
			CHECK_STR(b.data, "g");
		dc__buf_release(&b);
		dc__src_free(src);
		dc_ctx_free(ctx);
		if (still_pending(n)) {
			CHECK_OK(err);
			break;
		}
		CHECKF(err < 0, "n=%ld: an allocation failed, yet success", n);
		CHECKF(err == DC_ENOMEM || err >= 0,
		       "n=%ld: an allocation failed, reported as %d", n, err);
	}
	CHECK(n > 5 && n < 10000);
	ubuf_free(&t);
}

/* The dir: reader, and the listing of an unrecognized layout. */
TEST(failalloc_dir_layout)
{
	struct fx_layer l[3];
	struct ubuf t = { 0 }, u = { 0 };
	long n, masked;

	layers3(l);
	fx_dir_tar(&t, l, 3);
	n = torture(&t, 1, &masked, 1);
	CHECK(n > 10);
	ubuf_free(&t);
	/* no reader takes it: the error lists its names */
	tarb_str(&u, "oci-layout", "{}");
	tarb_str(&u, "x/y", "z");
	tarb_end(&u);
	CHECK_ERR(run(&u, 0), DC_EFORMAT);
	CHECK_CONTAINS(last_msg, "it holds 'oci-layout', 'x'");
	ubuf_free(&u);
	fx_layer_free(&l[0]);
	fx_layer_free(&l[1]);
	fx_layer_free(&l[2]);
}

/* The writers: a conversion into each output format (also recompressed
 * and squashed) with the Nth allocation failing. Each run fails with
 * DC_ENOMEM or succeeds: no crash, no leak, no partial output. */
TEST(failalloc_write)
{
	static const struct {
		const char *format;
		enum dc_compress compress;
		size_t squash_last;
	} rows[] = {
		{ "oci-archive", DC_COMPRESS_KEEP, 0 },
		{ "oci", DC_COMPRESS_KEEP, 0 },
		{ "docker-archive", DC_COMPRESS_KEEP, 0 },
		{ "docker-legacy", DC_COMPRESS_KEEP, 0 },
		{ "rootfs", DC_COMPRESS_KEEP, 0 },
		{ "oci-archive", DC_COMPRESS_ZSTD, 0 },
		{ "oci", DC_COMPRESS_GZIP, SIZE_MAX },
		{ "docker-archive", DC_COMPRESS_KEEP, SIZE_MAX },
		{ "docker-legacy", DC_COMPRESS_KEEP, 1 },
	};
	size_t f;

	for (f = 0; f < sizeof(rows) / sizeof(rows[0]); f++) {
		struct rt t;
		long n;

		UNIT_CASE("%s, compress %d, squash %zu", rows[f].format,
			  rows[f].compress, rows[f].squash_last);
		if (rt_setup(&t, rows[f].format) < 0) {
			CHECK(!"setup");
			continue;
		}
		for (n = 1; n < 100000; n++) {
			struct dc_ctx *ctx;
			struct dc_write_opts o;
			int err;

			memset(&o, 0, sizeof(o));
			o.threads = 1;
			o.compress = rows[f].compress;
			o.squash_last = rows[f].squash_last;
			if (dc_ctx_new(&ctx) < 0)
				abort();
			dc__fail_alloc_at(n);
			err = write_from_memory(ctx, &t, rows[f].format, &o);
			snprintf(last_msg, sizeof(last_msg), "%s",
				 dc_ctx_errmsg(ctx));
			dc_ctx_free(ctx);
			if (err) {
				CHECKF(dir_entries(t.dir) == 0,
				       "n=%ld: failed (%s) but left output", n,
				       last_msg);
			} else {
				CHECKF(dir_entries(t.dir) == 1,
				       "n=%ld: succeeded without output", n);
				dc__rm_rf(t.dest);
			}
			if (still_pending(n)) {
				CHECKF(err == 0, "n=%ld: no allocation failed, yet %d",
				       n, err);
				break;
			}
			CHECKF(err == 0 || err == DC_ENOMEM,
			       "n=%ld: an allocation failed, reported as %d: %s",
			       n, err, last_msg);
			if (unit_failed())
				break;
		}
		CHECK(n > 10);
		rt_free(&t);
	}
}

/* The registry client's parsers: every allocation failure is DC_ENOMEM,
 * nothing leaks. */
static int registry_parsers(struct dc_ctx *ctx)
{
	static const char auth[] =
		"{\"auths\":{\"h\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}";
	static const char tok[] = "{\"token\":\"abc\"}";
	struct dc_buf b = { (char *)auth, sizeof(auth) - 1, 0 };
	struct dc_buf t = { (char *)tok, sizeof(tok) - 1, 0 };
	struct dc_reg_chal c;
	struct dc_reg_ref r;
	char *u = NULL, *p = NULL, *k = NULL;
	int err;

	if ((err = dc__reg_chal_parse(ctx, &c,
			"Bearer realm=\"https://a/t\",service=\"s\",scope=\"x\"")) < 0)
		return err;
	dc__reg_chal_release(&c);
	if ((err = dc__reg_auth_parse(ctx, &b, "a.json", "h", &u, &p)) < 0)
		return err;
	free(u);
	free(p);
	if ((err = dc__reg_token_parse(ctx, &t, &k)) < 0)
		return err;
	free(k);
	if ((err = dc__reg_ref_parse(ctx, &r, "docker://h:5/a/b:c")) < 0)
		return err;
	dc__reg_ref_release(&r);
	return 0;
}

TEST(failalloc_registry_parsers)
{
	long n;

	for (n = 1; n < 10000; n++) {
		struct dc_ctx *ctx;
		int err;

		if (dc_ctx_new(&ctx) < 0)
			abort();
		dc__fail_alloc_at(n);
		err = registry_parsers(ctx);
		dc_ctx_free(ctx);
		if (still_pending(n)) {
			CHECK_OK(err);
			break;
		}
		CHECKF(err == 0 || err == DC_ENOMEM, "n=%ld: %d", n, err);
	}
	CHECK(n > 5);
}
