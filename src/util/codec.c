/*
 * Compression: sniffing by magic bytes, and push decoders used to hash
 * the uncompressed bytes of a layer (its diff_id) while it is copied.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

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

struct dc_dec {
	struct dc_ctx *ctx;
	enum dc_comp comp;
	const char *label;
	z_stream z;
	int z_init;
	int z_end;		/* a gzip member just ended */
	ZSTD_DStream *zs;
	size_t zs_hint;		/* 0 once a frame ended */
	unsigned char *out;
};

/*
 * Set up a gzip (zlib, any number of members) or zstd decoder; shared
 * by the push decoder and the pull stream. 0, or -1 out of memory.
 */
static int dec_init(enum dc_comp c, z_stream *z, int *z_init,
		    ZSTD_DStream **zs)
{
	if (c == DC_COMP_GZIP) {
		if (inflateInit2(z, 16 + MAX_WBITS) != Z_OK)
			return -1;
		*z_init = 1;
		return 0;
	}
	if (!(*zs = ZSTD_createDStream()))
		return -1;
	ZSTD_initDStream(*zs);
	return 0;
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
	if (!(d->out = malloc(DEC_OUT)))
		goto nomem;
	if (dec_init(c, &d->z, &d->z_init, &d->zs) < 0)
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

	while (n) {
		int ret;

		if (d->z_end) {
			/* concatenated gzip members are one stream (RFC 1952) */
			inflateReset(&d->z);
			d->z_end = 0;
		}
		d->z.next_in = (unsigned char *)p;
		d->z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
		do {
			size_t got;

			d->z.next_out = d->out;
			d->z.avail_out = DEC_OUT;
			ret = inflate(&d->z, Z_NO_FLUSH);
			if (ret != Z_OK && ret != Z_STREAM_END &&
			    ret != Z_BUF_ERROR)
				return dc_error(d->ctx, DC_ECORRUPT,
						"'%s': corrupt gzip data: %s",
						d->label,
						d->z.msg ? d->z.msg : "error");
			got = DEC_OUT - d->z.avail_out;
			if (got && (err = sink(arg, d->out, got)) < 0)
				return err;
			if (ret == Z_STREAM_END) {
				d->z_end = 1;
				break;
			}
		} while (d->z.avail_out == 0);
		{
			size_t used = (size_t)(d->z.next_in - p);

			p += used;
			n -= used;
		}
		if (!d->z_end && n && ret == Z_BUF_ERROR)
			return dc_error(d->ctx, DC_ECORRUPT,
					"'%s': corrupt gzip data", d->label);
	}
	return 0;
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
			return dc_error(d->ctx, DC_ECORRUPT,
					"'%s': corrupt zstd data: %s",
					d->label, ZSTD_getErrorName(r));
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
	if (d->z_init)
		inflateEnd(&d->z);
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
	struct dc_pgzip *pg;	/* parallel gzip, when we have libdeflate */
	unsigned char *out;
};

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
	if (!(e->out = malloc(DEC_OUT)))
		goto nomem;
	if (threads <= 0)
		threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
#ifdef HAVE_LIBDEFLATE
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
		} while (last ? rem != 0 : in.pos < in.size);
		return 0;
	}
}

int dc__enc_push(struct dc_enc *e, const void *p, size_t n, dc_sink_fn sink,
		 void *arg)
{
#ifdef HAVE_LIBDEFLATE
	if (e->pg)
		return dc__pgzip_push(e->pg, p, n, sink, arg);
#endif
	return n ? enc_run(e, p, n, 0, sink, arg) : 0;
}

int dc__enc_finish(struct dc_enc *e, dc_sink_fn sink, void *arg)
{
#ifdef HAVE_LIBDEFLATE
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
#ifdef HAVE_LIBDEFLATE
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
	const char *label;
	unsigned char *buf;	/* compressed input */
	size_t pos, len;
	int in_eof;
	z_stream z;
	int z_init;
	int z_end;		/* a gzip member ended */
	ZSTD_DStream *zs;
	size_t zs_hint;
	int done;
};

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
			int ret;

			if (d->z_end) {
				if (d->pos == d->len && d->in_eof) {
					d->done = 1;
					return 0;
				}
				if (d->pos == d->len)
					continue;
				inflateReset(&d->z);	/* next gzip member */
				d->z_end = 0;
			}
			if (d->pos == d->len && d->in_eof)
				return dc_error(s->ctx, DC_ECORRUPT,
						"'%s': truncated gzip data", d->label);
			d->z.next_in = d->buf + d->pos;
			d->z.avail_in = (uInt)(d->len - d->pos);
			d->z.next_out = buf;
			d->z.avail_out = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
			ret = inflate(&d->z, Z_NO_FLUSH);
			if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR)
				return dc_error(s->ctx, DC_ECORRUPT,
						"'%s': corrupt gzip data: %s", d->label,
						d->z.msg ? d->z.msg : "error");
			d->pos = (size_t)(d->z.next_in - d->buf);
			produced = n - d->z.avail_out;
			if (ret == Z_STREAM_END)
				d->z_end = 1;
		} else {
			ZSTD_inBuffer in = { d->buf, d->len, d->pos };
			ZSTD_outBuffer out = { buf, n, 0 };
			size_t r;

			if (d->pos == d->len && d->in_eof) {
				if (d->zs_hint != 0)
					return dc_error(s->ctx, DC_ECORRUPT,
							"'%s': truncated zstd data",
							d->label);
				d->done = 1;
				return 0;
			}
			r = ZSTD_decompressStream(d->zs, &out, &in);
			if (ZSTD_isError(r))
				return dc_error(s->ctx, DC_ECORRUPT,
						"'%s': corrupt zstd data: %s",
						d->label, ZSTD_getErrorName(r));
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
	if (d->z_init)
		inflateEnd(&d->z);
	ZSTD_freeDStream(d->zs);
	free(d->buf);
	free(d);
}

int dc__stream_decode(struct dc_ctx *ctx, struct dc_stream *in,
		      enum dc_comp c, const char *label,
		      struct dc_stream **out)
{
	struct dstream *d;

	*out = NULL;
	if (c != DC_COMP_GZIP && c != DC_COMP_ZSTD) {
		dc__stream_close(in);
		return dc_error(ctx, DC_EUNSUPPORTED,
				"'%s': %s-compressed layers are not supported",
				label, dc__comp_name(c));
	}
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
	if (!(d->buf = malloc(DS_IN)))
		goto nomem;
	if (dec_init(c, &d->z, &d->z_init, &d->zs) < 0)
		goto nomem;
	*out = &d->s;
	return 0;
nomem:
	ds_close(&d->s);
	return dc__enomem(ctx);
}
