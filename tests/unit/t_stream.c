/*
 * Streams: memory and fd ranges, and the pull decoder
 * (dc__stream_decode) read with buffers of every size.
 */
#include "unit.h"

#include <unistd.h>
#include <zstd.h>

/* Read all of S with N-byte reads; 0 or the error. */
static int read_all(struct dc_stream *s, size_t n, struct ubuf *out)
{
	unsigned char *buf = unit_xmalloc(n);
	ssize_t got;

	while ((got = dc__stream_read(s, buf, n)) > 0)
		ubuf_add(out, buf, (size_t)got);
	free(buf);
	return got < 0 ? (int)got : 0;
}

static int decode_with(enum dc_comp c, const void *p, size_t len,
		       size_t rd, struct ubuf *out)
{
	struct dc_stream *in = NULL, *s = NULL;
	int err;

	if ((err = dc__stream_memory(unit_ctx(), &in, p, len)) < 0)
		return err;
	if ((err = dc__stream_decode(unit_ctx(), in, c, "blob", &s)) < 0)
		return err;
	err = read_all(s, rd, out);
	dc__stream_close(s);
	return err;
}

/* zstd without a content checksum (what many producers write) */
static void zstd_plain(const void *p, size_t n, struct ubuf *out)
{
	size_t cap = ZSTD_compressBound(n), r;
	unsigned char *z = unit_xmalloc(cap);

	r = ZSTD_compress(z, cap, p, n, 19);
	if (ZSTD_isError(r))
		abort();
	ubuf_add(out, z, r);
	free(z);
}

TEST(stream_decode_roundtrip)
{
	static const size_t sizes[] = { 0, 1, 1000, 300000, 3000000 };
	static const size_t reads[] = { 1, 100, 4096, 1 << 20 };
	static const struct {
		const char *name;
		enum dc_comp c;
		int plain;
	} codecs[] = {
		{ "gzip", DC_COMP_GZIP, 0 },
		{ "zstd+checksum", DC_COMP_ZSTD, 0 },
		{ "zstd", DC_COMP_ZSTD, 1 },
	};
	size_t i, k, c;

	for (c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			unsigned char *data = unit_xmalloc(sizes[i]);
			struct ubuf z = { 0 };

			/* very compressible: little input, much output */
			memset(data, 'z', sizes[i]);
			unit_random(data, sizes[i] / 100, 3);
			if (codecs[c].plain)
				zstd_plain(data, sizes[i], &z);
			else
				unit_compress(codecs[c].c, data, sizes[i], &z);
			for (k = 0; k < sizeof(reads) / sizeof(reads[0]); k++) {
				struct ubuf out = { 0 };

				if (reads[k] == 1 && sizes[i] > 1000)
					continue;
				UNIT_CASE("%s size %zu read %zu", codecs[c].name,
					  sizes[i], reads[k]);
				CHECK_OK(decode_with(codecs[c].c, z.p, z.len,
						     reads[k], &out));
				CHECK_MEM(out.p, out.len, data, sizes[i]);
				ubuf_free(&out);
			}
			ubuf_free(&z);
			free(data);
		}
	}
}

TEST(stream_decode_multi_member)
{
	static const enum dc_comp comps[] = { DC_COMP_GZIP, DC_COMP_ZSTD };
	size_t i, rd;

	for (i = 0; i < 2; i++) {
		struct ubuf z = { 0 };

		unit_compress(comps[i], "one,", 4, &z);
		unit_compress(comps[i], "", 0, &z);
		unit_compress(comps[i], "two", 3, &z);
		for (rd = 1; rd < 10; rd++) {
			struct ubuf out = { 0 };

			UNIT_CASE("%s read %zu", dc__comp_name(comps[i]), rd);
			CHECK_OK(decode_with(comps[i], z.p, z.len, rd, &out));
			CHECK_STR((char *)out.p, "one,two");
			ubuf_free(&out);
		}
		ubuf_free(&z);
	}
}

TEST(stream_decode_errors)
{
	static const enum dc_comp comps[] = { DC_COMP_GZIP, DC_COMP_ZSTD };
	unsigned char data[50000];
	size_t i, cut;

	unit_random(data, sizeof(data), 11);
	for (i = 0; i < 2; i++) {
		struct ubuf z = { 0 }, out = { 0 };

		unit_compress(comps[i], data, sizeof(data), &z);
		for (cut = 0; cut < z.len; cut += cut < 30 ? 1 : 1009) {
			UNIT_CASE("%s cut at %zu", dc__comp_name(comps[i]), cut);
			CHECK_ERR(decode_with(comps[i], z.p, cut, 4096, &out),
				  DC_ECORRUPT);
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "'blob'");
			ubuf_free(&out);
		}
		UNIT_CASE("%s trailing garbage", dc__comp_name(comps[i]));
		ubuf_add(&z, "JUNKJUNKJUNK", 12);
		CHECK_ERR(decode_with(comps[i], z.p, z.len, 4096, &out),
			  DC_ECORRUPT);
		ubuf_free(&out);
		ubuf_free(&z);
	}
	UNIT_CASE("unsupported");
	{
		struct dc_stream *in = NULL, *s = (struct dc_stream *)1;

		CHECK_OK(dc__stream_memory(unit_ctx(), &in, "x", 1));
		CHECK_ERR(dc__stream_decode(unit_ctx(), in, DC_COMP_XZ, "l", &s),
			  DC_EUNSUPPORTED);
		CHECK(s == NULL);
	}
}

TEST(stream_fd_range)
{
	char path[] = "/tmp/decant-unit-XXXXXX";
	int fd = mkstemp(path);
	struct dc_stream *s = NULL;
	struct ubuf out = { 0 };

	REQUIRE(fd >= 0);
	unlink(path);
	REQUIRE(write(fd, "0123456789", 10) == 10);
	CHECK_OK(dc__stream_fd_range(unit_ctx(), &s, fd, 2, 5, 0));
	CHECK_OK(read_all(s, 2, &out));
	CHECK_STR((char *)out.p, "23456");
	dc__stream_close(s);
	ubuf_free(&out);
	/* a range past the end of the file */
	CHECK_OK(dc__stream_fd_range(unit_ctx(), &s, fd, 8, 5, 0));
	CHECK_ERR(read_all(s, 100, &out), DC_ECORRUPT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "unexpected end of file");
	dc__stream_close(s);
	ubuf_free(&out);
	/* the stream owns the fd when asked to */
	CHECK_OK(dc__stream_fd_range(unit_ctx(), &s, fd, 0, 0, 1));
	CHECK_OK(read_all(s, 10, &out));
	CHECK_EQ_INT(out.len, 0);
	dc__stream_close(s);
	dc__stream_close(NULL);
	CHECK(close(fd) < 0);	/* already closed */
}

/* A zstd frame of unknown size declaring WLOG's window. */
static void zstd_window(int wlog, struct ubuf *out)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	unsigned char z[4096], in[1024];
	ZSTD_outBuffer o = { z, sizeof(z), 0 };
	ZSTD_inBuffer i = { in, sizeof(in), 0 };
	size_t r;

	memset(in, 'w', sizeof(in));
	ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	r = ZSTD_compressStream2(c, &o, &i, ZSTD_e_continue);
	if (ZSTD_isError(r))
		abort();
	do {
		ZSTD_inBuffer none = { NULL, 0, 0 };

		r = ZSTD_compressStream2(c, &o, &none, ZSTD_e_end);
		if (ZSTD_isError(r))
			abort();
	} while (r);
	ZSTD_freeCCtx(c);
	out->p = unit_xmalloc(o.pos);
	memcpy(out->p, z, o.pos);
	out->len = o.pos;
}

/* A decoder's window may take a quarter of the memory limit. */
TEST(stream_zstd_window_limit)
{
	struct ubuf z = { 0 }, got = { 0 };

	zstd_window(27, &z);
	CHECK_ERR(decode_with(DC_COMP_ZSTD, z.p, z.len, 4096, &got), DC_ELIMIT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()),
		       "'blob': the zstd window is over the 16 MiB limit");
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "raise --max-memory");
	ubuf_free(&got);
	dc_ctx_set_max_memory(unit_ctx(), 512u << 20);
	CHECK_OK(decode_with(DC_COMP_ZSTD, z.p, z.len, 4096, &got));
	CHECK_EQ_INT(got.len, 1024);
	dc_ctx_set_max_memory(unit_ctx(), 0);
	ubuf_free(&got);
	ubuf_free(&z);
	/* 16 MiB is within the default */
	zstd_window(24, &z);
	CHECK_OK(decode_with(DC_COMP_ZSTD, z.p, z.len, 4096, &got));
	ubuf_free(&got);
	ubuf_free(&z);
}
