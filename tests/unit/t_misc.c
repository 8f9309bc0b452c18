/*
 * Context errors and byte buffers.
 */
#include "unit.h"

TEST(ctx_errors)
{
	struct dc_ctx *ctx = unit_ctx();
	char big[3000];

	CHECK_STR(dc_ctx_errmsg(ctx), "no error");
	CHECK_EQ_INT(dc_ctx_errcode(ctx), 0);
	CHECK_EQ_INT(dc_error(ctx, DC_ECORRUPT, "bad %s %d", "thing", 7),
		     DC_ECORRUPT);
	CHECK_STR(dc_ctx_errmsg(ctx), "bad thing 7");
	CHECK_EQ_INT(dc_ctx_errcode(ctx), DC_ECORRUPT);
	CHECK_EQ_INT(dc_error_prefix(ctx, "'%s'", "file"), DC_ECORRUPT);
	CHECK_STR(dc_ctx_errmsg(ctx), "'file': bad thing 7");
	/* naming the archive once */
	CHECK_EQ_INT(dc__error_in(ctx, "a.tar"), DC_ECORRUPT);
	CHECK_STR(dc_ctx_errmsg(ctx), "a.tar: 'file': bad thing 7");
	CHECK_EQ_INT(dc__error_in(ctx, "a.tar"), DC_ECORRUPT);
	CHECK_STR(dc_ctx_errmsg(ctx), "a.tar: 'file': bad thing 7");
	/* out of memory is not blamed on an archive */
	dc__enomem(ctx);
	CHECK_EQ_INT(dc__error_in(ctx, "a.tar"), DC_ENOMEM);
	CHECK_STR(dc_ctx_errmsg(ctx), "out of memory");
	/* long messages are cut, never overflowed */
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dc_error(ctx, DC_EIO, "%s", big);
	CHECK_EQ_INT(strlen(dc_ctx_errmsg(ctx)), sizeof(ctx->msg) - 1);
	dc_error_prefix(ctx, "%.1000s", big);
	CHECK_EQ_INT(strlen(dc_ctx_errmsg(ctx)), sizeof(ctx->msg) - 1);
	CHECK(!strncmp(dc_ctx_errmsg(ctx) + 1000, ": mmm", 5));
	dc_error(ctx, DC_EIO, "short");
	dc_error_prefix(ctx, "%s", big);	/* a prefix longer than 1023 */
	CHECK(strlen(dc_ctx_errmsg(ctx)) < sizeof(ctx->msg));
	CHECK_STR(dc_version(), DC_VERSION);
	dc_ctx_interrupt(ctx);
	CHECK_EQ_INT(dc__check_intr(ctx), DC_EINTR);
}

TEST(buf_ops)
{
	struct dc_buf b = DC_BUF_INIT;
	char *p;
	size_t n, i;

	CHECK_OK(dc__buf_add(unit_ctx(), &b, "", 0));
	CHECK(b.data && b.len == 0 && b.data[0] == '\0');
	CHECK_OK(dc__buf_addstr(unit_ctx(), &b, "abc"));
	CHECK_OK(dc__buf_addf(unit_ctx(), &b, "-%d-%s", 42, "x"));
	CHECK_STR(b.data, "abc-42-x");
	CHECK_EQ_INT(b.len, 8);
	for (i = 0; i < 1000; i++)
		CHECK_OK(dc__buf_addf(unit_ctx(), &b, "%04zu", i));
	CHECK_EQ_INT(b.len, 8 + 4000);
	CHECK_EQ_INT(strlen(b.data), b.len);
	CHECK(!memcmp(b.data + b.len - 4, "0999", 4));
	p = dc__buf_detach(&b, &n);
	CHECK_EQ_INT(n, 4008);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	free(p);
	dc__buf_release(&b);
	p = dc__strdup(unit_ctx(), "dup");
	CHECK_STR(p, "dup");
	free(p);
	/* overflow is refused, not wrapped */
	p = dc__reallocarray(unit_ctx(), NULL, SIZE_MAX / 2, 4);
	CHECK(p == NULL);
	CHECK_EQ_INT(dc_ctx_errcode(unit_ctx()), DC_ENOMEM);
	/* the injected failure */
	dc__fail_alloc_at(2);
	p = dc__calloc(unit_ctx(), 1, 1);
	CHECK(p != NULL);
	free(p);
	CHECK(dc__calloc(unit_ctx(), 1, 1) == NULL);
	p = dc__calloc(unit_ctx(), 1, 1);
	CHECK(p != NULL);
	free(p);
}

static const char *sindex_key(const void *arg, size_t i)
{
	const char (*keys)[16] = arg;

	return keys[i];
}

/* thousands of entries through several growths, each found again;
 * unknown strings are not; an allocation failure leaves it usable */
TEST(sindex_many)
{
	static char keys[5000][16];
	struct dc_sindex x = DC_SINDEX_INIT;
	size_t i;

	CHECK(dc__sindex_find(&x, sindex_key, keys, "k0") == DC_SINDEX_NONE);
	for (i = 0; i < 5000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		CHECK_OK(dc__sindex_add(unit_ctx(), &x, sindex_key, keys, i));
	}
	for (i = 0; i < 5000; i++)
		CHECK(dc__sindex_find(&x, sindex_key, keys, keys[i]) == i);
	CHECK(dc__sindex_find(&x, sindex_key, keys, "k5000") == DC_SINDEX_NONE);
	CHECK(dc__sindex_find(&x, sindex_key, keys, "") == DC_SINDEX_NONE);
	dc__sindex_release(&x);

	for (i = 0; i < 64; i++)
		CHECK_OK(dc__sindex_add(unit_ctx(), &x, sindex_key, keys, i));
	dc__fail_alloc_at(1);
	CHECK_ERR(dc__sindex_add(unit_ctx(), &x, sindex_key, keys, 64),
		  DC_ENOMEM);
	dc__fail_alloc_at(0);
	CHECK(dc__sindex_find(&x, sindex_key, keys, keys[63]) == 63);
	CHECK(dc__sindex_find(&x, sindex_key, keys, keys[64]) == DC_SINDEX_NONE);
	dc__sindex_release(&x);
}
