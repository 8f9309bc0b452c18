/*
 * Compression: sniffing by magic bytes, and push decoders used to hash
 * the uncompressed bytes of a layer (its diff_id) while it is copied.
 */
#include "util/util.h"

#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "banned.h"

enum dc_comp dc__comp_sniff(const void *p, size_t n)
{
	const unsigned char *b = p;

	if (n >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 0x08)
		return DC_COMP_GZIP;
	if (n >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h')
		return DC_COMP_BZIP2;
	if (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0)
		return DC_COMP_XZ;
	if (n >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0)
		return DC_COMP_ZSTD;
	/* a zstd skippable frame, as go-archive accepts */
	if (n >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d &&
	    b[3] == 0x18)
		return DC_COMP_ZSTD;
	return DC_COMP_NONE;
}

const char *dc__comp_name(enum dc_comp c)
{
	switch (c) {
	case DC_COMP_NONE: return "none";
	case DC_COMP_GZIP: return "gzip";
	case DC_COMP_BZIP2: return "bzip2";
	case DC_COMP_XZ: return "xz";
	case DC_COMP_ZSTD: return "zstd";
	}
	return "unknown";
}

#define DEC_OUT (256u << 10)

/*
 * Inflating one gzip member at a time: ISA-L's igzip when built with
 * it (2-3x zlib's speed), else zlib.
 */
struct gzd {
#ifdef HAVE_ISAL
	struct inflate_state st;
#else
	z_stream z;
#endif
	int init;
};

static int gzd_init(struct gzd *g)
{
#ifdef HAVE_ISAL
	isal_inflate_init(&g->st);
	g->st.crc_flag = ISAL_GZIP;	/* header, CRC-32 and size checked */
#else
	if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK)
		return -1;
#endif
	g->init = 1;
	return 0;
}

/* ready for the next member: concatenated members are one stream */
static void gzd_reset(struct gzd *g)
{
#ifdef HAVE_ISAL
	isal_inflate_reset(&g->st);
	g->st.crc_flag = ISAL_GZIP;
#else
	inflateReset(&g->z);
#endif
}

static void gzd_end(struct gzd *g)
{
#ifndef HAVE_ISAL
	if (g->init)
		inflateEnd(&g->z);
#endif
	g->init = 0;
}

#ifdef HAVE_ISAL
static const char *isal_msg(int r)
{
	switch (r) {
	case ISAL_INVALID_BLOCK: return "invalid block type";
	case ISAL_INVALID_SYMBOL: return "invalid code";
	case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
	case ISAL_INVALID_WRAPPER: return "incorrect header check";
	case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
	case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
	}
	return "unexpected gzip header field";
}
#endif

/*
 * Inflate from *IN (*INLEN bytes, both advanced past what was used)
 * into OUT (room for *OUTLEN bytes, set to what was produced). Returns 1
 * when the member ended, 0 when more input or room is needed, -1 on
 * corrupt data with *MSG saying why.
 */
static int gzd_run(struct gzd *g, const unsigned char **in, size_t *inlen,
		   unsigned char *out, size_t *outlen, const char **msg)
{
	size_t ilim = *inlen > UINT32_MAX ? UINT32_MAX : *inlen;
	size_t olim = *outlen > UINT32_MAX ? UINT32_MAX : *outlen;
	size_t used;
#ifdef HAVE_ISAL
	int r;

	g->st.next_in = (uint8_t *)*in;
	g->st.avail_in = (uint32_t)ilim;
	g->st.next_out = out;
	g->st.avail_out = (uint32_t)olim;
	r = isal_inflate(&g->st);
	/* after an error, avail_in and avail_out mean nothing (the fuzzer
	 * found avail_in = UINT32_MAX): none of it is used */
	if (r != ISAL_DECOMP_OK || g->st.avail_in > ilim ||
	    g->st.avail_out > olim) {
		*outlen = 0;
		*msg = r != ISAL_DECOMP_OK ? isal_msg(r) : "inflate lost its place";
		return -1;
	}
	used = ilim - g->st.avail_in;
	*outlen = olim - g->st.avail_out;
	*in += used;
	*inlen -= used;
	return g->st.block_state == ISAL_BLOCK_FINISH;
#else
	int r;

	g->z.next_in = (Bytef *)*in;
	g->z.avail_in = (uInt)ilim;
	g->z.next_out = out;
	g->z.avail_out = (uInt)olim;
	r = inflate(&g->z, Z_NO_FLUSH);
	used = ilim - g->z.avail_in;
	*outlen = olim - g->z.avail_out;
	*in += used;
	*inlen -= used;
	if (r == Z_STREAM_END)
		return 1;
	if (r == Z_OK || r == Z_BUF_ERROR)
		return 0;
	*msg = g->z.msg ? g->z.msg : "error";
	return -1;
#endif
}

struct dc_dec {
	struct dc_ctx *ctx;
	enum dc_comp comp;
	const char *label;
	struct gzd gz;
	int z_end;		/* a gzip member just ended */
	ZSTD_DStream *zs;
	size_t zs_hint;		/* 0 once a frame ended */
	unsigned char *out;
};

/*
 * Decoder windows: the input chooses them (zstd up to 2 GiB, xz up to
 * 1.5 GiB), and a decoder holds one whole. A window may use a quarter
 * of the memory limit (16 MiB of the default 64: every zstd level up to
 * 19, and xz up to -7, fit), as up to two decoders may run at once next
 * to an encoder.
 */
uint64_t dc__window_max(const struct dc_ctx *ctx)
{
	return dc__max_memory(ctx) / 4;
}

int dc__window_error(struct dc_ctx *ctx, const char *label, const char *what,
		     uint64_t need)
{
	char lim[32], max[32], needs[48] = "";

	dc__mem_str(lim, sizeof(lim), dc__window_max(ctx));
	dc__mem_str(max, sizeof(max), dc__max_memory(ctx));
	if (need)
		snprintf(needs, sizeof(needs), " (%llu MiB)",
			 (unsigned long long)((need + (1u << 20) - 1) >> 20));
	return dc_error(ctx, DC_ELIMIT,
			"%s%s%s%s%s is over the %s limit for a decoder, a quarter of --max-memory (%s); raise --max-memory to decode it",
			label ? "'" : "", label ? label : "", label ? "': " : "",
			what, needs, lim, max);
}

/* zstd's windowLogMax for the limit: the largest power of two in it */
static int zstd_wlog_max(const struct dc_ctx *ctx)
{
	uint64_t cap = dc__window_max(ctx);
	int wlog = 10;	/* zstd's smallest; 31 its largest */

	while (wlog < 31 && (2ull << wlog) <= cap)
		wlog++;
	return wlog;
}

/*
 * Set up a gzip (any number of members) or zstd decoder; shared by the
 * push decoder and the pull stream. 0, or -1 out of memory.
 */
static int dec_init(struct dc_ctx *ctx, enum dc_comp c, struct gzd *gz,
		    ZSTD_DStream **zs)
{
	if (c == DC_COMP_GZIP)
		return gzd_init(gz);
	if (!(*zs = ZSTD_createDStream()))
		return -1;
	ZSTD_initDStream(*zs);
	ZSTD_DCtx_setParameter(*zs, ZSTD_d_windowLogMax, zstd_wlog_max(ctx));
	return 0;
}

/* A zstd error: over the window limit, or corrupt data. */
static int zstd_error(struct dc_ctx *ctx, const char *label, size_t r)
{
	if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
		return dc__window_error(ctx, label, "the zstd window", 0);
	if (!label)
		return dc_error(ctx, DC_ECORRUPT, "corrupt zstd data: %s",
				ZSTD_getErrorName(r));
	return dc_error(ctx, DC_ECORRUPT, "'%s': corrupt zstd data: %s", label,
			ZSTD_getErrorName(r));
}

int dc__dec_new(struct dc_ctx *ctx, struct dc_dec **out, enum dc_comp c,
		const char *label)
{
	struct dc_dec *d;

	*out = NULL;
	if (c != DC_COMP_GZIP && c != DC_COMP_ZSTD)
		return dc_error(ctx, DC_EUNSUPPORTED,
				"'%s': %s-compressed layers are not supported",
				label, dc__comp_name(c));
	if (!(d = dc__calloc(ctx, 1, sizeof(*d))))
		return DC_ENOMEM;
	d->ctx = ctx;
	d->comp = c;
	d->label = label;
	if (!(d->out = dc__malloc(NULL, DEC_OUT)))
		goto nomem;
	if (dec_init(ctx, c, &d->gz, &d->zs) < 0)
		goto nomem;
	d->zs_hint = 1;
	*out = d;
	return 0;
nomem:
	dc__dec_free(d);
	return dc__enomem(ctx);
}

static int gz_push(struct dc_dec *d, const unsigned char *p, size_t n,
		   dc_sink_fn sink, void *arg)
{
	int err;

	for (;;) {
		size_t got = DEC_OUT, before = n;
		const char *msg = NULL;
		int r;

		if (d->z_end) {
			if (!n)
				return 0;
			gzd_reset(&d->gz);	/* the next member (RFC 1952) */
			d->z_end = 0;
		}
		r = gzd_run(&d->gz, &p, &n, d->out, &got, &msg);
		if (r < 0)
			return dc_error(d->ctx, DC_ECORRUPT,
					"'%s': corrupt gzip data: %s", d->label, msg);
		if (got && (err = sink(arg, d->out, got)) < 0)
			return err;
		if (r == 1)
			d->z_end = 1;
		else if (got == DEC_OUT)
			continue;	/* more may be pending */
		else if (!n)
			return 0;
		else if (!got && n == before)
			return dc_error(d->ctx, DC_ECORRUPT,
					"'%s': corrupt gzip data", d->label);
	}
}

static int zs_push(struct dc_dec *d, const unsigned char *p, size_t n,
		   dc_sink_fn sink, void *arg)
{
	ZSTD_inBuffer in = { p, n, 0 };
	int err;

	while (n) {
		ZSTD_outBuffer out = { d->out, DEC_OUT, 0 };
		size_t r = ZSTD_decompressStream(d->zs, &out, &in);

		if (ZSTD_isError(r))
			return zstd_error(d->ctx, d->label, r);
		if (out.pos && (err = sink(arg, d->out, out.pos)) < 0)
			return err;
		/* all input taken and all output flushed: r == 0 means the
		 * last frame is complete */
		if (in.pos == in.size && out.pos < out.size) {
			d->zs_hint = r;
			break;
		}
	}
	return 0;
}

int dc__dec_push(struct dc_dec *d, const void *p, size_t n, dc_sink_fn sink,
		 void *arg)
{
	if (d->comp == DC_COMP_GZIP)
		return gz_push(d, p, n, sink, arg);
	return zs_push(d, p, n, sink, arg);
}

int dc__dec_finish(struct dc_dec *d)
{
	if (d->comp == DC_COMP_GZIP && !d->z_end)
		return dc_error(d->ctx, DC_ECORRUPT,
				"'%s': truncated gzip data", d->label);
	if (d->comp == DC_COMP_ZSTD && d->zs_hint != 0)
		return dc_error(d->ctx, DC_ECORRUPT,
				"'%s': truncated zstd data", d->label);
	return 0;
}

void dc__dec_free(struct dc_dec *d)
{
	if (!d)
		return;
	gzd_end(&d->gz);
	ZSTD_freeDStream(d->zs);
	free(d->out);
	free(d);
}

/* ------------------------------------------------------------------ */
/* Push encoders: gzip (zlib) and zstd (multi-threaded) */

struct dc_enc {
	struct dc_ctx *ctx;
	enum dc_comp comp;
	z_stream z;
	int z_init;
	ZSTD_CCtx *zc;
	struct dc_pgzip *pg;	/* parallel gzip (ISA-L, libdeflate) */
	unsigned char *out;
	int level, threads;	/* as asked for: dc__enc_reuse() compares */
};

int dc__enc_reuse(struct dc_enc *e, struct dc_ctx *ctx, enum dc_comp c,
		  int level, int threads)
{
	if (!e || e->comp != c || e->level != level || e->threads != threads)
		return 0;
	if (e->zc &&
	    ZSTD_isError(ZSTD_CCtx_reset(e->zc, ZSTD_reset_session_only)))
		return 0;
	if (e->z_init && deflateReset(&e->z) != Z_OK)
		return 0;
	e->ctx = ctx;
#if defined(HAVE_LIBDEFLATE) || defined(HAVE_ISAL)
	if (e->pg)
		dc__pgzip_set_ctx(e->pg, ctx);
#endif
	return 1;
}

int dc__enc_new(struct dc_ctx *ctx, struct dc_enc **out, enum dc_comp c,
		int level, int threads)
{
	struct dc_enc *e;

	*out = NULL;
	if (c != DC_COMP_GZIP && c != DC_COMP_ZSTD)
		return dc_error(ctx, DC_EUNSUPPORTED,
				"cannot compress with %s", dc__comp_name(c));
	if (!(e = dc__calloc(ctx, 1, sizeof(*e))))
		return DC_ENOMEM;
	e->ctx = ctx;
	e->comp = c;
	e->level = level;
	e->threads = threads;
	if (!(e->out = dc__malloc(NULL, DEC_OUT)))
		goto nomem;
	/* zstd: one worker per core, as zstd -T0. A third worker on 2
	 * cores kept them 2% busier, but cost 6% more CPU (the workers take
	 * turns on the cores): 2.62 -> 2.51 s on the bench image, -6 MiB.
	 * The frames do not depend on the count. */
	if (threads <= 0)
		threads = (int)dc__threads(ctx);
#if defined(HAVE_LIBDEFLATE) || defined(HAVE_ISAL)
	if (c == DC_COMP_GZIP) {
		int err = dc__pgzip_new(ctx, &e->pg, level, threads);

		if (err < 0) {
			dc__enc_free(e);
			return err;
		}
		*out = e;
		return 0;
	}
#endif
	if (c == DC_COMP_GZIP) {
		if (deflateInit2(&e->z, level ? level : Z_DEFAULT_COMPRESSION,
				 Z_DEFLATED, 16 + MAX_WBITS, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			goto nomem;
		e->z_init = 1;
	} else {
		if (!(e->zc = ZSTD_createCCtx()))
			goto nomem;
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel,
				       level ? level : 3);
		/* always the multi-threaded mode, with fixed 4 MiB jobs: its
		 * frames do not depend on the worker count (single-threaded
		 * mode's do differ), so output is the same on any machine.
		 * 4 MiB jobs (default 8 at level 3) keep peak RSS ~35 MiB
		 * instead of ~55 on 2 workers, for ~3% in size. */
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_nbWorkers,
				       threads > 0 ? threads : 1);
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_jobSize, 4u << 20);
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_checksumFlag, 1);
	}
	*out = e;
	return 0;
nomem:
	dc__enc_free(e);
	return dc__enomem(ctx);
}

static int enc_run(struct dc_enc *e, const void *p, size_t n, int last,
		   dc_sink_fn sink, void *arg)
{
	int err;

	if (e->comp == DC_COMP_GZIP) {
		int ret;

		e->z.next_in = (unsigned char *)p;
		e->z.avail_in = (uInt)n;
		do {
			size_t got;

			e->z.next_out = e->out;
			e->z.avail_out = DEC_OUT;
			ret = deflate(&e->z, last ? Z_FINISH : Z_NO_FLUSH);
			if (ret == Z_STREAM_ERROR)
				return dc_error(e->ctx, DC_EIO, "gzip compression failed");
			got = DEC_OUT - e->z.avail_out;
			if (got && (err = sink(arg, e->out, got)) < 0)
				return err;
			if ((err = dc__check_intr(e->ctx)) < 0)
				return err;
		} while (e->z.avail_out == 0 || (last && ret != Z_STREAM_END));
		return 0;
	} else {
		ZSTD_inBuffer in = { p, n, 0 };
		size_t rem;

		do {
			ZSTD_outBuffer o = { e->out, DEC_OUT, 0 };

			rem = ZSTD_compressStream2(e->zc, &o, &in,
						   last ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(rem))
				return dc_error(e->ctx, DC_EIO,
						"zstd compression failed: %s",
						ZSTD_getErrorName(rem));
			if (o.pos && (err = sink(arg, e->out, o.pos)) < 0)
				return err;
			/* a high level's last frames take minutes: a signal
			 * is heard between two calls, each under a second */
			if ((err = dc__check_intr(e->ctx)) < 0)
				return err;
		} while (last ? rem != 0 : in.pos < in.size);
		return 0;
	}
}

int dc__enc_push(struct dc_enc *e, const void *p, size_t n, dc_sink_fn sink,
		 void *arg)
{
#if defined(HAVE_LIBDEFLATE) || defined(HAVE_ISAL)
	if (e->pg)
		return dc__pgzip_push(e->pg, p, n, sink, arg);
#endif
	return n ? enc_run(e, p, n, 0, sink, arg) : 0;
}

int dc__enc_finish(struct dc_enc *e, dc_sink_fn sink, void *arg)
{
#if defined(HAVE_LIBDEFLATE) || defined(HAVE_ISAL)
	if (e->pg)
		return dc__pgzip_finish(e->pg, sink, arg);
#endif
	return enc_run(e, NULL, 0, 1, sink, arg);
}

void dc__enc_free(struct dc_enc *e)
{
	if (!e)
		return;
	if (e->z_init)
		deflateEnd(&e->z);
#if defined(HAVE_LIBDEFLATE) || defined(HAVE_ISAL)
	dc__pgzip_free(e->pg);
#endif
	ZSTD_freeCCtx(e->zc);
	free(e->out);
	free(e);
}

/* ------------------------------------------------------------------ */
/* Pull decoder stream */

#define DS_IN (256u << 10)

struct dstream {
	struct dc_stream s;
	struct dc_stream *in;
	enum dc_comp comp;
	const char *label;	/* NULL: a whole-archive wrapper */
	unsigned char *buf;	/* compressed input */
	size_t pos, len;
	int in_eof;
	struct gzd gz;
	int z_end;		/* a gzip member ended */
	ZSTD_DStream *zs;
	size_t zs_hint;
	lzma_stream xz;
	int xz_init;
	int done;
};

/* "'LABEL': MSG", or MSG for a wrapper */
static int ds_error(struct dstream *d, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ds_error(struct dstream *d, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!d->label)
		return dc_error(d->s.ctx, code, "%s", msg);
	return dc_error(d->s.ctx, code, "'%s': %s", d->label, msg);
}

static int ds_fill(struct dstream *d)
{
	ssize_t got;

	if (d->pos < d->len || d->in_eof)
		return 0;
	got = dc__stream_read(d->in, d->buf, DS_IN);
	if (got < 0)
		return (int)got;
	d->pos = 0;
	d->len = (size_t)got;
	if (!got)
		d->in_eof = 1;
	return 0;
}

static const char *xz_msg(lzma_ret r)
{
	switch (r) {
	case LZMA_FORMAT_ERROR: return "not in the xz format";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "corrupt data";
	case LZMA_BUF_ERROR: return "truncated input";
	case LZMA_MEM_ERROR: return "out of memory";
	default: return "decoder error";
	}
}

/* xz (any number of concatenated streams), under the window limit */
static ssize_t xz_read(struct dstream *d, void *buf, size_t n)
{
	lzma_ret r;
	size_t produced;

	d->xz.next_in = d->buf + d->pos;
	d->xz.avail_in = d->len - d->pos;
	d->xz.next_out = buf;
	d->xz.avail_out = n;
	r = lzma_code(&d->xz, d->in_eof ? LZMA_FINISH : LZMA_RUN);
	d->pos = d->len - d->xz.avail_in;
	produced = n - d->xz.avail_out;
	if (r == LZMA_STREAM_END) {
		d->done = 1;
		return (ssize_t)produced;
	}
	if (r == LZMA_MEMLIMIT_ERROR)
		return dc__window_error(d->s.ctx, d->label, "the xz dictionary",
					lzma_memusage(&d->xz));
	if (r == LZMA_MEM_ERROR)
		return dc__enomem(d->s.ctx);
	if (r != LZMA_OK)
		return ds_error(d, DC_ECORRUPT, "truncated or corrupt xz data: %s",
				xz_msg(r));
	return (ssize_t)produced;
}

static ssize_t ds_read(struct dc_stream *s, void *buf, size_t n)
{
	struct dstream *d = (struct dstream *)s;
	int err;

	if (d->done || !n)
		return 0;
	for (;;) {
		size_t produced;

		if ((err = ds_fill(d)) < 0)
			return err;
		if (d->comp == DC_COMP_GZIP) {
			const unsigned char *ip = d->buf + d->pos;
			size_t il = d->len - d->pos;
			const char *msg = NULL;
			int r;

			if (d->z_end) {
				if (d->pos == d->len && d->in_eof) {
					d->done = 1;
					return 0;
				}
				if (d->pos == d->len)
					continue;
				gzd_reset(&d->gz);	/* next gzip member */
				d->z_end = 0;
			}
			produced = n;
			r = gzd_run(&d->gz, &ip, &il, buf, &produced, &msg);
			if (r < 0)
				return ds_error(d, DC_ECORRUPT,
						"corrupt gzip data: %s", msg);
			if (r == 1)
				d->z_end = 1;
			else if (!produced && d->in_eof && !il)
				return ds_error(d, DC_ECORRUPT,
						"truncated gzip data");
			else if (!produced && il && ip == d->buf + d->pos)
				return ds_error(d, DC_ECORRUPT,
						"corrupt gzip data");
			d->pos = (size_t)(ip - d->buf);
		} else if (d->comp == DC_COMP_XZ) {
			ssize_t r = xz_read(d, buf, n);

			if (r != 0 || d->done)
				return r;
			produced = 0;
		} else {
			ZSTD_inBuffer in = { d->buf, d->len, d->pos };
			ZSTD_outBuffer out = { buf, n, 0 };
			size_t r;

			if (d->pos == d->len && d->in_eof) {
				if (d->zs_hint != 0)
					return ds_error(d, DC_ECORRUPT,
							"truncated zstd data");
				d->done = 1;
				return 0;
			}
			r = ZSTD_decompressStream(d->zs, &out, &in);
			if (ZSTD_isError(r))
				return zstd_error(s->ctx, d->label, r);
			d->zs_hint = r;
			d->pos = in.pos;
			produced = out.pos;
		}
		if (produced)
			return (ssize_t)produced;
	}
}

static void ds_close(struct dc_stream *s)
{
	struct dstream *d = (struct dstream *)s;

	dc__stream_close(d->in);
	gzd_end(&d->gz);
	ZSTD_freeDStream(d->zs);
	if (d->xz_init)
		lzma_end(&d->xz);
	free(d->buf);
	free(d);
}

static int ds_new(struct dc_ctx *ctx, struct dc_stream *in, enum dc_comp c,
		  const char *label, struct dc_stream **out)
{
	struct dstream *d;

	if (!(d = dc__calloc(ctx, 1, sizeof(*d)))) {
		dc__stream_close(in);
		return DC_ENOMEM;
	}
	d->s.ctx = ctx;
	d->s.read = ds_read;
	d->s.close = ds_close;
	d->in = in;
	d->comp = c;
	d->label = label;
	d->zs_hint = 1;
	if (!(d->buf = dc__malloc(NULL, DS_IN)))
		goto nomem;
	if (c == DC_COMP_XZ) {
		lzma_stream init = LZMA_STREAM_INIT;

		d->xz = init;
		/* the decoder's own state is ~100 KiB beyond the dictionary */
		if (lzma_stream_decoder(&d->xz, dc__window_max(ctx) + (1u << 20),
					LZMA_CONCATENATED) != LZMA_OK)
			goto nomem;
		d->xz_init = 1;
	} else if (dec_init(ctx, c, &d->gz, &d->zs) < 0) {
		goto nomem;
	}
	*out = &d->s;
	return 0;
nomem:
	ds_close(&d->s);
	return dc__enomem(ctx);
}

int dc__stream_decode(struct dc_ctx *ctx, struct dc_stream *in,
		      enum dc_comp c, const char *label,
		      struct dc_stream **out)
{
	*out = NULL;
	if (c != DC_COMP_GZIP && c != DC_COMP_ZSTD) {
		dc__stream_close(in);
		return dc_error(ctx, DC_EUNSUPPORTED,
				"'%s': %s-compressed layers are not supported",
				label, dc__comp_name(c));
	}
	return ds_new(ctx, in, c, label, out);
}

int dc__stream_unwrap(struct dc_ctx *ctx, struct dc_stream *in,
		      enum dc_comp c, struct dc_stream **out)
{
	*out = NULL;
	if (c != DC_COMP_ZSTD && c != DC_COMP_XZ) {
		dc__stream_close(in);
		return dc_error(ctx, DC_EUNSUPPORTED, "cannot decompress %s",
				dc__comp_name(c));
	}
	return ds_new(ctx, in, c, NULL, out);
}

const char *dc_features(void)
{
	static char buf[256];

	/* the same every call: the hash probe is cached */
	snprintf(buf, sizeof(buf),
		 "zstd %s, zlib %s, xz %s%s%s; sha256: %s",
		 ZSTD_versionString(), zlibVersion(), lzma_version_string(),
#ifdef HAVE_ISAL
		 ", ISA-L igzip",
#else
		 "",
#endif
#ifdef HAVE_LIBDEFLATE
		 ", libdeflate",
#else
		 "",
#endif
		 dc__hash_accel(-1) ? "SHA extensions (in use)" : "OpenSSL");
	return buf;
}
