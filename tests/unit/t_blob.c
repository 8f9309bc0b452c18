/*
 * The blob layer over a byte source of its own (no reader): verifying
 * streams, worker contexts, errors moved between them, worker threads.
 */
#include "unit.h"
#include "blob/blob.h"

static const char blob_data[] = "hello, blob";

/* a byte source: every descriptor is BLOB_DATA */
static int mem_open(const struct dc_bsrc *bs, const struct dc_desc *d,
		    struct dc_stream **out)
{
	return dc__stream_memory(bs->ctx, out, blob_data,
				 sizeof(blob_data) - 1);
}

static void mem_bsrc(struct dc_bsrc *bs, struct dc_ctx *ctx)
{
	memset(bs, 0, sizeof(*bs));
	bs->ctx = ctx;
	bs->label = "mem";
	bs->open = mem_open;
}

TEST(blob_verify_any_source)
{
	static const struct {
		int good_digest;
		int64_t size;
		int want;
		const char *msg;
	} rows[] = {
		{ 1, sizeof(blob_data) - 1, 0, NULL },
		{ 1, -1, 0, NULL },
		{ 0, sizeof(blob_data) - 1, DC_EDIGEST, "mem: 'b': digest mismatch" },
		{ 1, 3, DC_EDIGEST, "mem: 'b': larger than the 3 bytes" },
		{ 1, 100, DC_EDIGEST, "mem: 'b': size is 11 bytes, expected 100" },
	};
	struct dc_ctx *ctx = unit_ctx();
	struct dc_bsrc bs;
	size_t i;

	mem_bsrc(&bs, ctx);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct dc_desc d;
		struct dc_stream *s = NULL;

		UNIT_CASE("row %zu", i);
		memset(&d, 0, sizeof(d));
		d.path = "b";
		d.size = rows[i].size;
		dc__sha256_digest(rows[i].good_digest ? blob_data : "x",
				  rows[i].good_digest ?
				  sizeof(blob_data) - 1 : 1, d.digest);
		CHECK_OK(dc__blob_open(&bs, &d, DC_BLOB_DIFFID, &s));
		if (!s)
			continue;
		CHECK_EQ_INT(dc__stream_drain(s), rows[i].want);
		if (rows[i].msg)
			CHECK_CONTAINS(dc_ctx_errmsg(ctx), rows[i].msg);
		dc__stream_close(s);
	}
}

TEST(blob_worker_context)
{
	struct dc_ctx *ctx = unit_ctx(), tctx;
	volatile sig_atomic_t stop = 0;
	struct dc_bsrc bs, wbs;
	struct dc_err e;

	dc_ctx_set_threads(ctx, 1000);	/* never more than the cores */
	CHECK_EQ_INT(dc__threads(ctx), dc__ncpu());
	dc_ctx_set_threads(ctx, 1);
	CHECK_EQ_INT(dc__threads(ctx), 1);
	mem_bsrc(&bs, ctx);
	dc__bsrc_clone(&bs, &tctx, &wbs, &stop);
	CHECK(wbs.ctx == &tctx);
	CHECK_STR(wbs.label, "mem");
	CHECK_EQ_INT(dc__threads(&tctx), 1);
	CHECK_OK(dc__check_intr(&tctx));
	stop = 1;	/* the pool stops: so does the worker */
	CHECK_ERR(dc__check_intr(&tctx), DC_EINTR);
	/* the worker's error, moved to the caller */
	dc_error(&tctx, DC_EIO, "'x': worker failed");
	dc__err_save(&e, DC_EIO, &tctx);
	CHECK_ERR(dc__err_restore(ctx, &e), DC_EIO);
	CHECK_EQ_INT(dc_ctx_errcode(ctx), DC_EIO);
	CHECK_STR(dc_ctx_errmsg(ctx), "'x': worker failed");
	dc_ctx_set_threads(ctx, 0);
	CHECK_EQ_INT(dc__threads(ctx), dc__ncpu());
}

static void *count_main(void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
	return NULL;
}

TEST(blob_threads_run)
{
	int n = 0;

	dc__threads_run(4, count_main, &n);
	CHECK_EQ_INT(n, 4);
}
