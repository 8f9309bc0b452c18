/*
 * Verified streams over any byte source: size, digest and diff_id are
 * checked as the bytes stream by, and the read that reaches the end
 * fails on a mismatch (as go-containerregistry's verify.ReadCloser).
 */
#include "blob/blob.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"


struct vstream {
	struct dc_stream s;
	struct dc_stream *in;
	struct dc_hash *h;
	struct dc_hash *dh;	/* diff_id of the decompressed bytes */
	struct dc_dec *dec;
	const char *label;	/* the descriptor's path */
	const char *src;	/* the archive */
	char want[DC_DIGEST_MAX];
	char want_diff[DC_DIGEST_MAX];
	int64_t want_size;
	uint64_t got;
	int done;
	int is_diff;		/* WANT is a diff_id (decoded stream) */
	int defer;		/* DC_BLOB_DEFER */
	const unsigned char *pend;	/* read, not hashed yet */
	size_t npend;
};

/* the bytes read last that are not hashed yet */
static void hash_pending(struct vstream *v)
{
	if (v->npend)
		dc__hash_update(v->h, v->pend, v->npend);
	v->npend = 0;
}

void dc__blob_hash_along(struct dc_stream *s, struct dc_hash *h,
			 const void *p, size_t n)
{
	struct vstream *v = (struct vstream *)s;
	size_t k = n < v->npend ? n : v->npend;

	dc__hash_update2(v->h, v->pend, k, h, p, n);
	v->pend += k;
	v->npend -= k;
}

void dc__blob_hash_pair(struct dc_stream *a, struct dc_stream *b)
{
	struct vstream *x = (struct vstream *)a, *y = (struct vstream *)b;

	dc__hash_update2(x->h, x->pend, x->npend, y->h, y->pend, y->npend);
	x->npend = y->npend = 0;
}

static int diff_sink(void *arg, const void *p, size_t n)
{
	dc__hash_update(arg, p, n);
	return 0;
}

/* The end of blob LABEL: SIZE bytes whose digest is GOT, as expected? */
static int check_end(struct dc_ctx *ctx, const char *label, const char *want,
		     int is_diff, int64_t want_size, uint64_t size,
		     const char *got)
{
	if (want_size >= 0 && size != (uint64_t)want_size)
		return dc_error(ctx, DC_EDIGEST,
				"'%s': size is %llu bytes, expected %lld (blob %s)",
				label, (unsigned long long)size,
				(long long)want_size, want);
	if (want[0] && strcmp(got, want)) {
		/* docker-save layers have no digest of their own: what we
		 * expect is the config's diff_id */
		if (is_diff)
			return dc_error(ctx, DC_EDIGEST,
					"'%s': diff_id mismatch: uncompressed content is %s, config says %s",
					label, got, want);
		return dc_error(ctx, DC_EDIGEST,
				"'%s': digest mismatch: content is %s, expected %s",
				label, got, want);
	}
	return 0;
}

static int check_diff(struct dc_ctx *ctx, const char *label, const char *want,
		      const char *got)
{
	if (want[0] && strcmp(got, want))
		return dc_error(ctx, DC_EDIGEST,
				"'%s': diff_id mismatch: uncompressed content is %s, config says %s",
				label, got, want);
	return 0;
}

int dc__blob_verdict(struct dc_ctx *ctx, const struct dc_bsrc *bs,
		     const struct dc_desc *d, uint64_t size, const char *got)
{
	const char *label = d->path ? d->path : d->digest;
	int err;

	if (d->comp != DC_COMP_NONE)
		DC_BUG("verdict on compressed blob '%s'", label);
	if ((err = check_end(ctx, label, d->digest, d->digest_is_diff,
			     d->size, size, got)) < 0 ||
	    (err = check_diff(ctx, label, d->diff_id, got)) < 0)
		return dc__error_in(ctx, bs->label);
	return 0;
}

int dc__blob_verdict_stored(struct dc_ctx *ctx, const struct dc_bsrc *bs,
			    const struct dc_desc *d, uint64_t size,
			    const char *got)
{
	int err;

	if ((err = check_end(ctx, d->path ? d->path : d->digest, d->digest,
			     d->digest_is_diff, d->size, size, got)) < 0)
		return dc__error_in(ctx, bs->label);
	return 0;
}

static int vfinish(struct vstream *v)
{
	struct dc_ctx *ctx = v->s.ctx;
	char got[DC_DIGEST_MAX];
	int err;

	dc__hash_final(v->h, got);
	if ((err = check_end(ctx, v->label, v->want, v->is_diff, v->want_size,
			     v->got, got)) < 0)
		return err;
	if (v->dec) {
		if ((err = dc__dec_finish(v->dec)) < 0)
			return err;
		dc__hash_final(v->dh, got);
	}
	/* GOT is now the uncompressed content's digest either way */
	return check_diff(ctx, v->label, v->want_diff, got);
}

static ssize_t vread_inner(struct dc_stream *s, void *buf, size_t n);

static ssize_t vread(struct dc_stream *s, void *buf, size_t n)
{
	struct vstream *v = (struct vstream *)s;
	ssize_t got = vread_inner(s, buf, n);

	return got < 0 ? dc__error_in(s->ctx, v->src) : got;
}

static ssize_t vread_inner(struct dc_stream *s, void *buf, size_t n)
{
	struct vstream *v = (struct vstream *)s;
	ssize_t got;
	int err;

	hash_pending(v);
	if (v->done)
		return 0;
	if ((err = dc__check_intr(s->ctx)) < 0)
		return err;
	got = dc__stream_read(v->in, buf, n);
	if (got < 0)
		return dc_error_prefix(s->ctx, "'%s'", v->label);
	if (got == 0) {
		v->done = 1;
		return (err = vfinish(v)) < 0 ? err : 0;
	}
	v->got += (uint64_t)got;
	if (v->want_size >= 0 && v->got > (uint64_t)v->want_size)
		return dc_error(s->ctx, DC_EDIGEST,
				"'%s': larger than the %lld bytes its descriptor says (blob %s)",
				v->label, (long long)v->want_size, v->want);
	if (v->defer) {
		v->pend = buf;
		v->npend = (size_t)got;
	} else {
		dc__hash_update(v->h, buf, (size_t)got);
	}
	if (v->dec && (err = dc__dec_push(v->dec, buf, (size_t)got, diff_sink,
					  v->dh)) < 0)
		return err;
	return got;
}

static void vclose(struct dc_stream *s)
{
	struct vstream *v = (struct vstream *)s;

	dc__stream_close(v->in);
	dc__hash_free(v->h);
	dc__hash_free(v->dh);
	dc__dec_free(v->dec);
	free(v);
}

static int vwrap(struct dc_ctx *ctx, struct dc_stream *in, const char *src,
		 const char *label, const char *want, int64_t want_size,
		 struct dc_stream **out)
{
	struct vstream *v;
	int err;

	*out = NULL;
	if (!(v = dc__calloc(ctx, 1, sizeof(*v)))) {
		dc__stream_close(in);
		return DC_ENOMEM;
	}
	v->s.ctx = ctx;
	v->s.read = vread;
	v->s.close = vclose;
	v->in = in;
	v->src = src;
	v->label = label;
	memcpy(v->want, want, sizeof(v->want));
	v->want_size = want_size;
	if ((err = dc__hash_new(ctx, &v->h)) < 0) {
		vclose(&v->s);
		return err;
	}
	*out = &v->s;
	return 0;
}

void dc__bsrc_clone(const struct dc_bsrc *bs, struct dc_ctx *tctx,
		    struct dc_bsrc *out, const volatile sig_atomic_t *intr)
{
	memset(tctx, 0, sizeof(*tctx));
	tctx->parent_intr = intr;
	tctx->parent_intr2 = &bs->ctx->interrupted;	/* a signal */
	tctx->threads = bs->ctx->threads;
	tctx->max_memory = bs->ctx->max_memory;
	*out = *bs;
	out->ctx = tctx;
}

int dc__blob_range(const struct dc_bsrc *bs, const struct dc_desc *d,
		   int *fd, int *own, uint64_t *off, uint64_t *len)
{
	*fd = -1;
	*own = 0;
	return bs->range ? bs->range(bs, d, fd, own, off, len) : 1;
}

int dc__blob_open(const struct dc_bsrc *bs, const struct dc_desc *d,
		  unsigned flags, struct dc_stream **out)
{
	struct dc_ctx *ctx = bs->ctx;
	struct dc_stream *in = NULL;
	struct vstream *v;
	int err;

	*out = NULL;
	if ((err = bs->open(bs, d, &in)) < 0)
		return dc__error_in(ctx, bs->label);
	if ((err = vwrap(ctx, in, bs->label, d->path ? d->path : d->digest,
			 d->digest, d->size, out)) < 0)
		return err;
	v = (struct vstream *)*out;
	v->is_diff = d->digest_is_diff;
	v->defer = !!(flags & DC_BLOB_DEFER);
	if ((flags & DC_BLOB_DIFFID) && d->diff_id[0]) {
		memcpy(v->want_diff, d->diff_id, sizeof(v->want_diff));
		if (d->comp != DC_COMP_NONE &&
		    ((err = dc__dec_new(ctx, &v->dec, d->comp, v->label)) < 0 ||
		     (err = dc__hash_new(ctx, &v->dh)) < 0)) {
			dc__stream_close(*out);
			*out = NULL;
			return err;
		}
	}
	return 0;
}

int dc__blob_open_tar(const struct dc_bsrc *bs, const struct dc_desc *d,
		      int verify, struct dc_stream **out)
{
	struct dc_ctx *ctx = bs->ctx;
	const char *label = d->path ? d->path : d->digest;
	struct dc_stream *s = NULL;
	int err;

	*out = NULL;
	err = verify ? dc__blob_open(bs, d, 0, &s) : bs->open(bs, d, &s);
	if (err < 0)
		return dc__error_in(ctx, bs->label);
	if (d->comp != DC_COMP_NONE &&
	    (err = dc__stream_decode(ctx, s, d->comp, label, &s)) < 0)
		return dc__error_in(ctx, bs->label);
	/* uncompressed and digest == diff_id: already checked once */
	if (verify && d->diff_id[0] &&
	    (d->comp != DC_COMP_NONE || strcmp(d->digest, d->diff_id)))
	{
		if ((err = vwrap(ctx, s, bs->label, label, d->diff_id, -1,
				 out)) < 0)
			return err;
		((struct vstream *)*out)->is_diff = 1;
		return 0;
	}
	*out = s;
	return 0;
}

