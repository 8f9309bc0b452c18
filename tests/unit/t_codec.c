/*
 * Compression: sniffing magic bytes, push decoders and encoders.
 */
#include "unit.h"

#include <zlib.h>

TEST(comp_sniff_table)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t n;
		enum dc_comp want;
	} rows[] = {
		{ "gzip", "\x1f\x8b\x08\x00\x00\x00", 6, DC_COMP_GZIP },
		{ "gzip, 3 bytes", "\x1f\x8b\x08", 3, DC_COMP_GZIP },
		{ "gzip, 2 bytes", "\x1f\x8b", 2, DC_COMP_NONE },
		{ "gzip, method 7", "\x1f\x8b\x07\x00", 4, DC_COMP_NONE },
		{ "bzip2", "BZh91AY", 7, DC_COMP_BZIP2 },
		{ "bzip2, 2 bytes", "BZ", 2, DC_COMP_NONE },
		{ "xz", "\xfd" "7zXZ\0", 6, DC_COMP_XZ },
		{ "xz, 5 bytes", "\xfd" "7zXZ", 5, DC_COMP_NONE },
		{ "xz, wrong last byte", "\xfd" "7zXZ\1", 6, DC_COMP_NONE },
		{ "zstd", "\x28\xb5\x2f\xfd\x00\x00", 6, DC_COMP_ZSTD },
		{ "zstd, 3 bytes", "\x28\xb5\x2f", 3, DC_COMP_NONE },
		{ "zstd skippable 0x50", "\x50\x2a\x4d\x18", 4, DC_COMP_ZSTD },
		{ "zstd skippable 0x5f", "\x5f\x2a\x4d\x18", 4, DC_COMP_ZSTD },
		{ "not skippable 0x60", "\x60\x2a\x4d\x18", 4, DC_COMP_NONE },
		{ "tar", "hello.txt\0\0\0", 12, DC_COMP_NONE },
		{ "empty", "", 0, DC_COMP_NONE },
		{ "json", "{\"a\":1}", 7, DC_COMP_NONE },
		{ "lz4", "\x04\x22\x4d\x18", 4, DC_COMP_NONE },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		UNIT_CASE("%s", rows[i].name);
		CHECK_EQ_INT(dc__comp_sniff(rows[i].bytes, rows[i].n), rows[i].want);
	}
	CHECK_STR(dc__comp_name(DC_COMP_NONE), "none");
	CHECK_STR(dc__comp_name(DC_COMP_GZIP), "gzip");
	CHECK_STR(dc__comp_name(DC_COMP_BZIP2), "bzip2");
	CHECK_STR(dc__comp_name(DC_COMP_XZ), "xz");
	CHECK_STR(dc__comp_name(DC_COMP_ZSTD), "zstd");
}

/* Sniff what decant's own encoders produce. */
TEST(comp_sniff_encoders)
{
	struct ubuf gz = { 0 }, zs = { 0 };

	unit_compress(DC_COMP_GZIP, "x", 1, &gz);
	unit_compress(DC_COMP_ZSTD, "x", 1, &zs);
	CHECK_EQ_INT(dc__comp_sniff(gz.p, gz.len), DC_COMP_GZIP);
	CHECK_EQ_INT(dc__comp_sniff(zs.p, zs.len), DC_COMP_ZSTD);
	ubuf_free(&gz);
	ubuf_free(&zs);
}

static int sink(void *arg, const void *p, size_t n)
{
	ubuf_add(arg, p, n);
	return 0;
}

/* Push COMP's bytes in CHUNK-sized pieces; 0 or the first error. */
static int decode(enum dc_comp c, const void *p, size_t n, size_t chunk,
		  struct ubuf *out, int finish)
{
	struct dc_dec *d = NULL;
	size_t off = 0;
	int err;

	if ((err = dc__dec_new(unit_ctx(), &d, c, "layer.bin")) < 0)
		return err;
	while (off < n) {
		size_t k = n - off < chunk ? n - off : chunk;

		if ((err = dc__dec_push(d, (const char *)p + off, k, sink, out)) < 0)
			goto out;
		off += k;
	}
	if (finish)
		err = dc__dec_finish(d);
out:
	dc__dec_free(d);
	return err;
}

static void roundtrip(enum dc_comp c)
{
	static const size_t sizes[] = { 0, 1, 511, 4096, 300000, 1100000 };
	static const size_t chunks[] = { 1, 7, 4096, 65536, (size_t)-1 };
	size_t i, k;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *data = unit_xmalloc(sizes[i]);
		struct ubuf z = { 0 };

		unit_random(data, sizes[i], (uint32_t)i + 1);
		/* half compressible */
		memset(data, 'a', sizes[i] / 2);
		unit_compress(c, data, sizes[i], &z);
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			struct ubuf out = { 0 };

			if (chunks[k] == 1 && z.len > 20000)
				continue;	/* slow, and covered by small sizes */
			UNIT_CASE("%s size %zu chunk %zu", dc__comp_name(c),
				  sizes[i], chunks[k]);
			CHECK_OK(decode(c, z.p, z.len, chunks[k], &out, 1));
			CHECK_MEM(out.p, out.len, data, sizes[i]);
			ubuf_free(&out);
		}
		ubuf_free(&z);
		free(data);
	}
}

TEST(codec_gzip_roundtrip)
{
	roundtrip(DC_COMP_GZIP);
}

TEST(codec_zstd_roundtrip)
{
	roundtrip(DC_COMP_ZSTD);
}

/* Concatenated gzip members (and zstd frames) are one stream. */
TEST(codec_multi_member)
{
	static const enum dc_comp comps[] = { DC_COMP_GZIP, DC_COMP_ZSTD };
	size_t i, chunk;

	for (i = 0; i < 2; i++) {
		struct ubuf z = { 0 };
		const char *a = "first member\n", *b = "second member\n",
			   *c = "third\n";

		unit_compress(comps[i], a, strlen(a), &z);
		unit_compress(comps[i], b, strlen(b), &z);
		unit_compress(comps[i], "", 0, &z);	/* an empty member */
		unit_compress(comps[i], c, strlen(c), &z);
		for (chunk = 1; chunk <= z.len; chunk = chunk * 3 + 1) {
			struct ubuf out = { 0 };

			UNIT_CASE("%s chunk %zu", dc__comp_name(comps[i]), chunk);
			CHECK_OK(decode(comps[i], z.p, z.len, chunk, &out, 1));
			CHECK_STR((char *)out.p, "first member\nsecond member\nthird\n");
			ubuf_free(&out);
		}
		ubuf_free(&z);
	}
}

/* A stream cut anywhere is an error at push or at finish. */
TEST(codec_truncated)
{
	static const enum dc_comp comps[] = { DC_COMP_GZIP, DC_COMP_ZSTD };
	unsigned char data[20000];
	size_t i, cut;

	unit_random(data, sizeof(data), 7);
	for (i = 0; i < 2; i++) {
		struct ubuf z = { 0 };

		unit_compress(comps[i], data, sizeof(data), &z);
		for (cut = 0; cut < z.len; cut += (cut < 40 ? 1 : 97)) {
			struct ubuf out = { 0 };
			int err;

			UNIT_CASE("%s cut at %zu of %zu", dc__comp_name(comps[i]),
				  cut, z.len);
			err = decode(comps[i], z.p, cut, 4096, &out, 1);
			CHECK_EQ_INT(err, DC_ECORRUPT);
			if (err == DC_ECORRUPT)
				CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "layer.bin");
			ubuf_free(&out);
		}
		ubuf_free(&z);
	}
	/* the message says what happened */
	{
		struct ubuf z = { 0 }, out = { 0 };

		UNIT_CASE("gzip message");
		unit_compress(DC_COMP_GZIP, data, sizeof(data), &z);
		CHECK_ERR(decode(DC_COMP_GZIP, z.p, z.len - 4, 512, &out, 1),
			  DC_ECORRUPT);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "truncated gzip");
		ubuf_free(&z);
		ubuf_free(&out);
	}
}

TEST(codec_corrupt)
{
	static const enum dc_comp comps[] = { DC_COMP_GZIP, DC_COMP_ZSTD };
	unsigned char data[5000];
	size_t i;

	memset(data, 'q', sizeof(data));
	for (i = 0; i < 2; i++) {
		struct ubuf z = { 0 }, out = { 0 };

		UNIT_CASE("%s", dc__comp_name(comps[i]));
		unit_compress(comps[i], data, sizeof(data), &z);
		/* garbage after a complete member */
		ubuf_add(&z, "garbage!garbage!", 16);
		CHECK_ERR(decode(comps[i], z.p, z.len, 4096, &out, 1), DC_ECORRUPT);
		ubuf_free(&out);
		/* not compressed at all */
		CHECK_ERR(decode(comps[i], "plain text, not compressed", 26, 4096,
				 &out, 1), DC_ECORRUPT);
		ubuf_free(&out);
		ubuf_free(&z);
	}
	{
		/* a flipped byte in gzip's deflate data or CRC */
		struct ubuf z = { 0 }, out = { 0 };

		UNIT_CASE("gzip crc");
		unit_compress(DC_COMP_GZIP, data, sizeof(data), &z);
		z.p[z.len - 6] ^= 1;	/* CRC32 */
		CHECK_ERR(decode(DC_COMP_GZIP, z.p, z.len, 4096, &out, 1),
			  DC_ECORRUPT);
		ubuf_free(&out);
		ubuf_free(&z);
	}
	{
		/* zstd content checksum (decant's encoder writes one) */
		struct ubuf z = { 0 }, out = { 0 };

		UNIT_CASE("zstd checksum");
		unit_compress(DC_COMP_ZSTD, data, sizeof(data), &z);
		z.p[z.len - 1] ^= 1;
		CHECK_ERR(decode(DC_COMP_ZSTD, z.p, z.len, 4096, &out, 1),
			  DC_ECORRUPT);
		ubuf_free(&out);
		ubuf_free(&z);
	}
}

TEST(codec_unsupported)
{
	struct dc_dec *d = (struct dc_dec *)1;
	struct dc_enc *e = (struct dc_enc *)1;

	CHECK_ERR(dc__dec_new(unit_ctx(), &d, DC_COMP_BZIP2, "l"), DC_EUNSUPPORTED);
	CHECK(d == NULL);
	CHECK_ERR(dc__dec_new(unit_ctx(), &d, DC_COMP_XZ, "l"), DC_EUNSUPPORTED);
	CHECK_ERR(dc__dec_new(unit_ctx(), &d, DC_COMP_NONE, "l"), DC_EUNSUPPORTED);
	CHECK_ERR(dc__enc_new(unit_ctx(), &e, DC_COMP_XZ, 0, 0), DC_EUNSUPPORTED);
	CHECK(e == NULL);
	dc__dec_free(NULL);
	dc__enc_free(NULL);
}

/* Levels and threads give different bytes but the same content. */
TEST(codec_enc_options)
{
	static const struct {
		enum dc_comp c;
		int level, threads;
	} rows[] = {
		{ DC_COMP_GZIP, 1, 0 }, { DC_COMP_GZIP, 9, 0 },
		{ DC_COMP_ZSTD, 1, 0 }, { DC_COMP_ZSTD, 19, 0 },
		{ DC_COMP_ZSTD, 3, 2 },
	};
	static unsigned char data[200000];
	size_t i;

	unit_random(data, sizeof(data), 99);
	memset(data + 1000, 0, 100000);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct dc_enc *e = NULL;
		struct ubuf z = { 0 }, out = { 0 };
		size_t off;

		UNIT_CASE("%s level %d threads %d", dc__comp_name(rows[i].c),
			  rows[i].level, rows[i].threads);
		CHECK_OK(dc__enc_new(unit_ctx(), &e, rows[i].c, rows[i].level,
				     rows[i].threads));
		if (!e)
			continue;
		for (off = 0; off < sizeof(data); off += 10000)
			CHECK_OK(dc__enc_push(e, data + off, 10000, sink, &z));
		CHECK_OK(dc__enc_push(e, data, 0, sink, &z));
		CHECK_OK(dc__enc_finish(e, sink, &z));
		dc__enc_free(e);
		CHECK_EQ_INT(dc__comp_sniff(z.p, z.len), rows[i].c);
		CHECK_OK(decode(rows[i].c, z.p, z.len, 65536, &out, 1));
		CHECK_MEM(out.p, out.len, data, sizeof(data));
		ubuf_free(&out);
		ubuf_free(&z);
	}
}

/* zlib's own inflate, member after member: a judge independent of the
 * decoder under test (ISA-L when built with it). */
static int zlib_gunzip(const unsigned char *p, size_t n, struct ubuf *out)
{
	unsigned char buf[65536];
	z_stream z;
	int ret = Z_OK;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	while (z.avail_in) {
		if (ret == Z_STREAM_END)
			inflateReset(&z);
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		ret = inflate(&z, Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END)
			break;
		sink(out, buf, sizeof(buf) - z.avail_out);
	}
	inflateEnd(&z);
	return ret == Z_STREAM_END ? 0 : -1;
}

/* Every gzip level (ISA-L's 1-3, libdeflate's 4-9, or zlib's), over
 * several 2 MiB members: zlib reads the same bytes back, and a higher
 * level is never larger than ISA-L's fastest. */
TEST(codec_gzip_levels)
{
	size_t n = (5u << 20) + 12345, sz1 = 0;
	unsigned char *data = unit_xmalloc(n);
	size_t i;
	int level;

	unit_random(data, n, 5);
	for (i = 0; i + 4096 <= n; i += 4096)	/* compressible runs */
		memset(data + i, (int)(i >> 12), 2048 + (i >> 12) % 2048);
	for (level = 1; level <= 9; level++) {
		struct dc_enc *e = NULL;
		struct ubuf z = { 0 }, out = { 0 }, dec = { 0 };

		UNIT_CASE("gzip level %d", level);
		CHECK_OK(dc__enc_new(unit_ctx(), &e, DC_COMP_GZIP, level, 2));
		if (!e)
			continue;
		for (i = 0; i < n; i += 700000)
			CHECK_OK(dc__enc_push(e, data + i,
					      n - i < 700000 ? n - i : 700000,
					      sink, &z));
		CHECK_OK(dc__enc_finish(e, sink, &z));
		dc__enc_free(e);
		CHECK_EQ_INT(zlib_gunzip(z.p, z.len, &out), 0);
		CHECK_MEM(out.p, out.len, data, n);
		CHECK_OK(decode(DC_COMP_GZIP, z.p, z.len, 65536, &dec, 1));
		CHECK_MEM(dec.p, dec.len, data, n);
		if (level == 1)
			sz1 = z.len;
		CHECK(z.len <= sz1 && z.len < n);
		ubuf_free(&out);
		ubuf_free(&dec);
		ubuf_free(&z);
	}
	free(data);
}

/* A sink error stops the decoder and is returned as is. */
static int failing_sink(void *arg, const void *p, size_t n)
{
	(void)p;
	(void)n;
	return dc_error(arg, DC_EIO, "sink failed");
}

TEST(codec_sink_error)
{
	struct ubuf z = { 0 };
	struct dc_dec *d = NULL;

	unit_compress(DC_COMP_GZIP, "some bytes", 10, &z);
	CHECK_OK(dc__dec_new(unit_ctx(), &d, DC_COMP_GZIP, "x"));
	REQUIRE(d);
	CHECK_ERR(dc__dec_push(d, z.p, z.len, failing_sink, unit_ctx()), DC_EIO);
	dc__dec_free(d);
	ubuf_free(&z);
}

#if defined(HAVE_LIBDEFLATE) || defined(HAVE_ISAL)
/* DATA (N bytes) gzipped with THREADS workers, 700 kB at a time */
static int pgzip_bytes(const unsigned char *data, size_t n, int threads,
		       struct ubuf *z)
{
	struct dc_enc *e = NULL;
	size_t i;
	int err;

	/* 0: the default level, what users get */
	if ((err = dc__enc_new(unit_ctx(), &e, DC_COMP_GZIP, 0, threads)) < 0)
		return err;
	for (i = 0; i < n && !err; i += 700000)
		err = dc__enc_push(e, data + i, n - i < 700000 ? n - i : 700000,
				   sink, z);
	if (!err)
		err = dc__enc_finish(e, sink, z);
	dc__enc_free(e);
	return err;
}

/*
 * The same gzip bytes whatever the thread count, and whatever fails to
 * start: threads that cannot be created, workers whose compressor cannot
 * be set up (all of them: the caller compresses), an allocation failing
 * (an error, never other bytes). Each case runs several times, as the
 * scheduling varies.
 */
TEST(codec_pgzip_deterministic)
{
	static const struct {
		int threads, max_threads, bad_comps;
	} rows[] = {
		{ 2, -1, 0 }, { 5, -1, 0 }, { 8, -1, 0 },
		{ 5, 0, 0 }, { 5, 1, 0 }, { 5, 3, 0 },
		{ 2, -1, 1 }, { 2, -1, 2 }, { 5, -1, 4 }, { 5, 2, 2 },
	};
	size_t n = (9u << 20) + 4321, i;
	unsigned char *data = unit_xmalloc(n);
	struct ubuf ref = { 0 };
	int k;

	unit_random(data, n, 17);
	for (i = 0; i + 4096 <= n; i += 4096)	/* compressible runs */
		memset(data + i, (int)(i >> 12), 1024 + (i >> 12) % 3072);
	REQUIRE(pgzip_bytes(data, n, 1, &ref) == 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (k = 0; k < 3; k++) {
			struct ubuf z = { 0 };

			UNIT_CASE("threads %d, %d started, %d bad, run %d",
				  rows[i].threads, rows[i].max_threads,
				  rows[i].bad_comps, k);
			dc__pgzip_test_faults(rows[i].max_threads,
					      rows[i].bad_comps);
			CHECK_OK(pgzip_bytes(data, n, rows[i].threads, &z));
			CHECK_MEM(z.p, z.len, ref.p, ref.len);
			ubuf_free(&z);
		}
	}
	/* an allocation that fails is an error, whichever it is */
	for (k = 1; k < 40; k++) {
		struct ubuf z = { 0 };
		int err;

		UNIT_CASE("allocation %d fails", k);
		dc__fail_alloc_at(k);
		err = pgzip_bytes(data, n, 3, &z);
		dc__fail_alloc_at(0);
		if (err)
			CHECK_EQ_INT(err, DC_ENOMEM);
		else
			CHECK_MEM(z.p, z.len, ref.p, ref.len);
		ubuf_free(&z);
	}
	ubuf_free(&ref);
	free(data);
}
#endif

/* An encoder used again (dc__enc_reuse) makes the bytes a new one makes,
 * an empty input included: one empty gzip member or zstd frame, never
 * nothing. */
TEST(codec_enc_reuse_same_bytes)
{
	static const enum dc_comp comps[] = { DC_COMP_GZIP, DC_COMP_ZSTD };
	static unsigned char data[300000];
	static const size_t sizes[] = { 0, 1, 300000, 0, 5, 0 };
	size_t c, i;

	unit_random(data, sizeof(data), 3);
	for (c = 0; c < 2; c++) {
		struct dc_enc *reused = NULL;

		REQUIRE(dc__enc_new(unit_ctx(), &reused, comps[c], 0, 2) == 0);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct dc_enc *fresh = NULL;
			struct ubuf a = { 0 }, b = { 0 };

			UNIT_CASE("%s, input %zu of %zu bytes",
				  dc__comp_name(comps[c]), i, sizes[i]);
			CHECK(dc__enc_reuse(reused, unit_ctx(), comps[c], 0, 2));
			CHECK_OK(dc__enc_push(reused, data, sizes[i], sink, &a));
			CHECK_OK(dc__enc_finish(reused, sink, &a));
			CHECK_OK(dc__enc_new(unit_ctx(), &fresh, comps[c], 0, 2));
			if (fresh) {
				CHECK_OK(dc__enc_push(fresh, data, sizes[i], sink,
						      &b));
				CHECK_OK(dc__enc_finish(fresh, sink, &b));
			}
			dc__enc_free(fresh);
			CHECK(a.len > 0);
			CHECK_MEM(a.p, a.len, b.p, b.len);
			ubuf_free(&a);
			ubuf_free(&b);
		}
		dc__enc_free(reused);
	}
}
