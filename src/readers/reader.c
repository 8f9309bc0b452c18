/*
 * Reader core: detection by bidding, dispatch, and verified blob streams.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const struct dc_reader_ops *const readers[] = {
	&dc__reader_oci,
	&dc__reader_docker,
	&dc__reader_legacy,
	&dc__reader_flat,
	NULL
};

/* Which reader names a user's format prefix may pick. */
static int format_allows(const char *format, const char *reader)
{
	if (!strcmp(format, "oci") || !strcmp(format, "oci-archive"))
		return !strcmp(reader, "oci");
	if (!strcmp(format, "docker-archive"))	/* Docker 25+: OCI layouts */
		return strcmp(reader, "rootfs") != 0;
	if (!strcmp(format, "rootfs"))
		return !strcmp(reader, "rootfs");
	if (!strcmp(format, "docker-legacy"))
		return !strcmp(reader, "docker-archive") ||
		       !strcmp(reader, "docker-legacy-v1");
	return 0;
}

static int pick(struct dc_reader *r, const char *format)
{
	struct dc_ctx *ctx = r->ctx;
	int best = 0, score, i;

	if (format && !format_allows(format, "oci") &&
	    !format_allows(format, "docker-archive") &&
	    !format_allows(format, "rootfs"))
		return dc_error(ctx, DC_EINVAL, "'%s': unknown source format",
				format);
	for (i = 0; readers[i]; i++) {
		score = readers[i]->bid(r->src);
		if (score > best) {
			best = score;
			r->ops = readers[i];
		} else if (score && score == best) {
			DC_BUG("readers '%s' and '%s' tie at %d", r->ops->name,
			       readers[i]->name, score);
		}
	}
	if (ctx->code == DC_ENOMEM)
		return DC_ENOMEM;	/* a bid could not look */
	if (!r->ops)
		return dc_error(ctx, DC_EFORMAT,
				"unknown format: no manifest.json, index.json or oci-layout found");
	if (format && !format_allows(format, r->ops->name))
		return dc_error(ctx, DC_EFORMAT, "not a '%s' source (it reads as %s)",
				format, r->ops->name);
	return 0;
}

/* Only reader NAME, if it bids at all (the per-reader fuzz targets). */
static int pick_only(struct dc_reader *r, const char *name)
{
	int i;

	for (i = 0; readers[i] && strcmp(readers[i]->name, name); i++)
		;
	if (!readers[i])
		DC_BUG("no reader '%s'", name);
	if (readers[i]->bid(r->src) <= 0)
		return r->ctx->code == DC_ENOMEM ? DC_ENOMEM :
		       dc_error(r->ctx, DC_EFORMAT, "not a '%s' source", name);
	r->ops = readers[i];
	return 0;
}

static int reader_new(struct dc_ctx *ctx, struct dc_reader **out,
		      struct dc_src *src, const char *format, const char *only)
{
	struct dc_reader *r;
	int err;

	*out = NULL;
	if (!(r = dc__calloc(ctx, 1, sizeof(*r)))) {
		dc__src_free(src);
		return DC_ENOMEM;
	}
	r->ctx = ctx;
	r->src = src;
	if ((err = only ? pick_only(r, only) : pick(r, format)) < 0)
		goto fail;
	if (r->ops->priv_size &&
	    !(r->priv = dc__calloc(ctx, 1, r->ops->priv_size))) {
		err = DC_ENOMEM;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	dc_reader_free(r);
	return err;
}

int dc_reader_open(struct dc_ctx *ctx, struct dc_reader **out,
		   const char *src, const char *format)
{
	struct dc_src *s;
	int err;

	*out = NULL;
	ctx->code = 0;
	ctx->msg[0] = '\0';
	if ((err = dc__src_open_path(ctx, &s, src)) < 0 ||
	    (err = reader_new(ctx, out, s, format, NULL)) < 0)
		return dc__error_in(ctx, strcmp(src, "-") ? src : "stdin");
	return 0;
}

int dc_reader_open_memory(struct dc_ctx *ctx, struct dc_reader **out,
			  const void *data, size_t size)
{
	struct dc_src *s;
	int err;

	*out = NULL;
	if ((err = dc__src_open_memory(ctx, &s, data, size)) < 0)
		return err;
	return reader_new(ctx, out, s, NULL, NULL);
}

int dc__reader_open_memory_as(struct dc_ctx *ctx, struct dc_reader **out,
			      const void *data, size_t size, const char *name)
{
	struct dc_src *s;
	int err;

	*out = NULL;
	if ((err = dc__src_open_memory(ctx, &s, data, size)) < 0)
		return err;
	return reader_new(ctx, out, s, NULL, name);
}

int dc_reader_load(struct dc_reader *r, struct dc_set **out)
{
	int err;

	*out = NULL;
	r->ctx->code = 0;
	if ((err = r->ops->load(r, out)) < 0)
		return dc__error_in(r->ctx, r->src->label);
	if (r->ctx->code == DC_ENOMEM) {
		/* a probe (dc__src_exists) ran out of memory: not "absent" */
		dc_set_free(*out);
		*out = NULL;
		return DC_ENOMEM;
	}
	if ((err = dc__set_resolve(r, *out)) < 0) {
		dc_set_free(*out);
		*out = NULL;
		return dc__error_in(r->ctx, r->src->label);
	}
	return 0;
}

void dc_reader_free(struct dc_reader *r)
{
	if (!r)
		return;
	if (r->ops && r->ops->close)
		r->ops->close(r);
	free(r->priv);
	dc__src_free(r->src);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Verified blob streams */

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

int dc__blob_verdict(struct dc_ctx *ctx, const struct dc_reader *r,
		     const struct dc_desc *d, uint64_t size, const char *got)
{
	const char *label = d->path ? d->path : d->digest;
	int err;

	if (d->comp != DC_COMP_NONE)
		DC_BUG("verdict on compressed blob '%s'", label);
	if ((err = check_end(ctx, label, d->digest, d->digest_is_diff,
			     d->size, size, got)) < 0 ||
	    (err = check_diff(ctx, label, d->diff_id, got)) < 0)
		return dc__error_in(ctx, r->src->label);
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

static int open_raw(struct dc_reader *r, const struct dc_desc *d,
		    struct dc_stream **out)
{
	uint64_t size;

	if (r->ops->open_blob)
		return r->ops->open_blob(r, d, out);
	return dc__src_open(r->src, d->path, out, &size);
}

void dc__reader_clone(const struct dc_reader *r, struct dc_ctx *tctx,
		      struct dc_src *src, struct dc_reader *out,
		      const volatile sig_atomic_t *intr)
{
	memset(tctx, 0, sizeof(*tctx));
	tctx->parent_intr = intr;
	tctx->parent_intr2 = &r->ctx->interrupted;	/* a signal */
	*src = *r->src;
	src->ctx = tctx;
	*out = *r;
	out->ctx = tctx;
	out->src = src;
}

int dc__blob_open(struct dc_reader *r, const struct dc_desc *d,
		  unsigned flags, struct dc_stream **out)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_stream *in = NULL;
	struct vstream *v;
	int err;

	*out = NULL;
	if ((err = open_raw(r, d, &in)) < 0)
		return dc__error_in(ctx, r->src->label);
	if ((err = vwrap(ctx, in, r->src->label, d->path ? d->path : d->digest,
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

int dc__layer_open_tar(struct dc_reader *r, const struct dc_desc *d,
		       int verify, struct dc_stream **out)
{
	struct dc_ctx *ctx = r->ctx;
	const char *label = d->path ? d->path : d->digest;
	struct dc_stream *s = NULL;
	int err;

	*out = NULL;
	err = verify ? dc__blob_open(r, d, 0, &s) : open_raw(r, d, &s);
	if (err < 0)
		return dc__error_in(ctx, r->src->label);
	if (d->comp != DC_COMP_NONE &&
	    (err = dc__stream_decode(ctx, s, d->comp, label, &s)) < 0)
		return dc__error_in(ctx, r->src->label);
	/* uncompressed and digest == diff_id: already checked once */
	if (verify && d->diff_id[0] &&
	    (d->comp != DC_COMP_NONE || strcmp(d->digest, d->diff_id)))
	{
		if ((err = vwrap(ctx, s, r->src->label, label, d->diff_id, -1,
				 out)) < 0)
			return err;
		((struct vstream *)*out)->is_diff = 1;
		return 0;
	}
	*out = s;
	return 0;
}

int dc__set_resolve(struct dc_reader *r, struct dc_set *set)
{
	struct dc_hash *h = NULL;
	size_t i, j;
	int err = 0;

	for (i = 0; i < set->n && !err; i++) {
		struct dc_image *img = set->img[i];

		for (j = 0; j < img->nlayers && !err; j++) {
			struct dc_desc *l = &img->layers[j];
			struct dc_stream *s;
			char buf[1 << 16];
			ssize_t got;
			uint64_t n = 0;

			if (l->digest[0])
				continue;
			if (!h && (err = dc__hash_new(r->ctx, &h)) < 0)
				break;
			if ((err = dc__src_open(r->src, l->path, &s, &n)) < 0)
				break;
			n = 0;
			while ((got = dc__stream_read(s, buf, sizeof(buf))) > 0) {
				dc__hash_update(h, buf, (size_t)got);
				n += (uint64_t)got;
			}
			dc__stream_close(s);
			if (got < 0) {
				err = (int)got;
				break;
			}
			dc__hash_final(h, l->digest);
			l->size = (int64_t)n;
		}
		if (!err && img->manifest_synth)
			err = dc__image_synth_manifest(r->ctx, img);
	}
	dc__hash_free(h);
	return err;
}

int dc_reader_verify(struct dc_reader *r, const struct dc_set *set)
{
	struct dc_ctx *ctx = r->ctx;
	const struct dc_desc **todo = NULL;
	struct dc_cpool *cp = NULL;
	uint64_t total = 0;
	size_t n = 0, cap = 0, i, j, k;
	int err = 0;

	/* every distinct layer once, verified on all cores by the pool;
	 * the first failure in image and layer order is the one reported */
	for (i = 0; i < set->n; i++) {
		const struct dc_image *img = set->img[i];

		for (j = 0; j < img->nlayers; j++) {
			const struct dc_desc *l = &img->layers[j];

			for (k = 0; k < n; k++)
				if (!strcmp(todo[k]->digest, l->digest))
					break;
			if (k < n)
				continue;
			if (n == cap) {
				const struct dc_desc **p;

				cap = cap ? cap * 2 : 16;
				p = dc__reallocarray(ctx, todo, cap, sizeof(*todo));
				if (!p) {
					free(todo);
					return DC_ENOMEM;
				}
				todo = p;
			}
			todo[n++] = l;
			total += l->size > 0 ? (uint64_t)l->size : 0;
		}
	}
	if (ctx->progress)
		ctx->progress(ctx->progress_arg, 0, total, n, n);
	if ((err = dc__cpool_new(r, &cp)) == 0) {
		for (k = 0; k < n && !err; k++)
			err = dc__cpool_add_verify(cp, todo[k]);
		if (!err)
			err = dc__cpool_run(cp, ctx);
	}
	dc__cpool_free(cp);
	free(todo);
	/* a descriptor at any depth whose blob is not there */
	if (!err && set->nmissing)
		err = dc_error(ctx, DC_ECORRUPT, "%s: blob missing%s",
			       set->missing ? set->missing : "a descriptor",
			       set->nmissing > 1 ? " (and more)" : "");
	return err;
}
