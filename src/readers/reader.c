/*
 * Reader core: detection by bidding, dispatch, and the byte source that
 * the blob layer reads blobs from.
 */
#include "blob/blob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "readers/readers.h"

static const struct dc_reader_ops *const readers[] = {
	&dc__reader_oci,
	&dc__reader_dir,
	&dc__reader_docker,
	&dc__reader_legacy,
	&dc__reader_flat,
	&dc__reader_registry,
	NULL
};

/* Which reader names a user's format prefix may pick. */
static int format_allows(const char *format, const char *reader)
{
	if (!strcmp(format, "oci") || !strcmp(format, "oci-archive"))
		return !strcmp(reader, "oci");
	if (!strcmp(format, "docker-archive"))	/* Docker 25+: OCI layouts */
		return strcmp(reader, "rootfs") && strcmp(reader, "dir");
	if (!strcmp(format, "rootfs"))
		return !strcmp(reader, "rootfs");
	if (!strcmp(format, "dir"))
		return !strcmp(reader, "dir");
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
	    !format_allows(format, "rootfs") && !format_allows(format, "dir"))
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
		return dc__unrecognized(r->src,
					"not an OCI layout, docker save or dir: layout");
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
	if (!strncmp(src, "docker://", 9)) {
		/* a registry: no file to open, the label is the reference */
		if (!(s = dc__calloc(ctx, 1, sizeof(*s))))
			return DC_ENOMEM;
		s->ctx = ctx;
		s->fd = s->dirfd = -1;
		if (!(s->label = dc__strdup(ctx, src))) {
			free(s);
			return DC_ENOMEM;
		}
		if ((err = reader_new(ctx, out, s, NULL, "registry")) < 0)
			return dc__error_in(ctx, src);
		return 0;
	}
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

int dc_reader_delta(struct dc_reader *r, struct dc_inventory **out)
{
	struct dc_buf b = DC_BUF_INIT;
	int err;

	*out = NULL;
	if (r->ops == &dc__reader_multi || !dc__src_exists(r->src, DC_DELTA_NOTE))
		return r->ctx->code == DC_ENOMEM ? DC_ENOMEM : 0;
	if ((err = dc__src_read_all(r->src, DC_DELTA_NOTE, DC_MAX_JSON, &b)) < 0 ||
	    (err = dc_inventory_parse(r->ctx, b.data, b.len, out)) < 0)
		err = dc_error_prefix(r->ctx, "'%s': '%s'", r->src->label,
				      DC_DELTA_NOTE);
	else if (!dc__inventory_is_delta(*out)) {
		dc_inventory_free(*out);
		*out = NULL;
		err = dc_error(r->ctx, DC_EFORMAT, "'%s': '%s' is not a delta's record",
			       r->src->label, DC_DELTA_NOTE);
	}
	dc__buf_release(&b);
	return err;
}

int dc_reader_blob_in_part(struct dc_reader *r, const struct dc_desc *d,
			   const char *part)
{
	const struct dc_parts *p;
	uint64_t off, len;
	size_t i;

	if (r->ops == &dc__reader_multi || !(p = r->src->parts) || !d->path ||
	    dc__src_member(r->src, d->path, &off, &len) != 0)
		return 0;
	for (i = 0; i < p->n; i++)
		if (!strcmp(p->part[i].name, part))
			return off < p->part[i].start + p->part[i].size &&
			       off + len > p->part[i].start;
	return 0;
}

void dc_reader_allow_absent(struct dc_reader *r)
{
	r->absent_ok = 1;
}

int dc__reader_absent(struct dc_reader *r, const struct dc_desc *d,
		      const char *msg)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_absent *p;
	char *m;

	if (dc__reader_absent_msg(r, d->digest)) {
		ctx->code = 0;
		return 0;
	}
	if (!(m = dc__strdup(ctx, msg)))
		return DC_ENOMEM;
	if (!(p = dc__reallocarray(ctx, r->absent, r->nabsent + 1, sizeof(*p)))) {
		free(m);
		return DC_ENOMEM;
	}
	r->absent = p;
	snprintf(p[r->nabsent].digest, sizeof(p->digest), "%s", d->digest);
	p[r->nabsent++].msg = m;
	ctx->code = 0;
	ctx->msg[0] = '\0';
	return 0;
}

const char *dc__reader_absent_msg(const struct dc_reader *r,
				  const char *digest)
{
	size_t i;

	for (i = 0; i < r->nabsent; i++)
		if (!strcmp(r->absent[i].digest, digest))
			return r->absent[i].msg;
	return NULL;
}

void dc_reader_free(struct dc_reader *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nabsent; i++)
		free(r->absent[i].msg);
	free(r->absent);
	if (r->ops && r->ops->close)
		r->ops->close(r);
	free(r->priv);
	dc__src_free(r->src);
	free(r);
}

/* ------------------------------------------------------------------ */
/* The reader as a byte source for the blob layer */

static int open_raw(struct dc_reader *r, const struct dc_desc *d,
		    struct dc_stream **out)
{
	uint64_t size;

	if (r->ops->open_blob)
		return r->ops->open_blob(r, d, out);
	return dc__src_open(r->src, d->path, out, &size);
}

/* open() of the byte source: R's own, or a copy of R and its source
 * reporting to a worker's context (read with pread only: shareable) */
static int blobs_open(const struct dc_bsrc *bs, const struct dc_desc *d,
		      struct dc_stream **out)
{
	struct dc_reader *r0 = bs->arg, r;
	struct dc_src src;

	if (bs->ctx == r0->ctx)
		return open_raw(r0, d, out);
	src = *r0->src;
	src.ctx = bs->ctx;
	r = *r0;
	r.ctx = bs->ctx;
	r.src = &src;
	return open_raw(&r, d, out);
}

/* open_range() of the byte source, as blobs_open() */
static int blobs_open_range(const struct dc_bsrc *bs, const struct dc_desc *d,
			    uint64_t off, uint64_t len, struct dc_stream **out)
{
	struct dc_reader *r0 = bs->arg, r;

	r = *r0;
	r.ctx = bs->ctx;
	return r.ops->open_blob_range(&r, d, off, len, out);
}

static int blobs_range(const struct dc_bsrc *bs, const struct dc_desc *d,
		       int *fd, int *own, uint64_t *off, uint64_t *len)
{
	struct dc_reader *r = bs->arg;

	if (r->ops->open_blob || !d->path)
		return 1;
	return dc__src_range(r->src, d->path, fd, own, off, len);
}

void dc__reader_blobs(struct dc_reader *r, struct dc_bsrc *out)
{
	if (r->ops == &dc__reader_multi) {
		dc__multi_blobs(r, out);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->ctx = r->ctx;
	out->label = r->src->label;
	out->open = blobs_open;
	out->range = blobs_range;
	out->arg = r;
	out->remote = r->ops == &dc__reader_registry;
	if (r->ops->open_blob_range)
		out->open_range = blobs_open_range;
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

/* Every distinct layer of SET once, in image and layer order: *OUT
 * (the caller frees), *N of them, *TOTAL bytes. */
static int distinct_layers(struct dc_ctx *ctx, const struct dc_set *set,
			   const struct dc_desc ***out, size_t *np,
			   uint64_t *total)
{
	const struct dc_desc **todo = NULL;
	size_t n = 0, cap = 0, i, j, k;

	*total = 0;
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
			*total += l->size > 0 ? (uint64_t)l->size : 0;
		}
	}
	*out = todo;
	*np = n;
	return 0;
}

/* The pool verifying TODO[0..N) from R, started and waited for. */
static int verify_pool(struct dc_reader *r, const struct dc_desc **todo,
		       size_t n, uint64_t total, int keep_going,
		       struct dc_cpool **cpp)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_bsrc bs;
	size_t k;
	int err;

	dc__phase(ctx, "verify", total);
	if (ctx->progress)
		ctx->progress(ctx->progress_arg, 0, total, n, n);
	dc__reader_blobs(r, &bs);
	if ((err = dc__cpool_new(&bs, cpp)) < 0)
		return err;
	if (keep_going)
		dc__cpool_keep_going(*cpp);
	for (k = 0; k < n && !err; k++)
		err = dc__cpool_add_verify(*cpp, todo[k]);
	if (!err)
		err = dc__cpool_run(*cpp, ctx);
	return err;
}

int dc_reader_verify(struct dc_reader *r, const struct dc_set *set)
{
	const struct dc_desc **todo = NULL;
	struct dc_cpool *cp = NULL;
	uint64_t total;
	size_t n;
	int err;

	/* every distinct layer once, verified on all cores by the pool;
	 * the first failure in image and layer order is the one reported */
	if ((err = distinct_layers(r->ctx, set, &todo, &n, &total)) < 0)
		return err;
	err = verify_pool(r, todo, n, total, 0, &cp);
	dc__cpool_free(cp);
	free(todo);
	/* a descriptor at any depth whose blob is not there */
	if (!err && set->nmissing)
		err = dc_error(r->ctx, DC_ECORRUPT, "%s: blob missing%s",
			       set->missing ? set->missing : "a descriptor",
			       set->nmissing > 1 ? " (and more)" : "");
	return err;
}

int dc_reader_verify_each(struct dc_reader *r, const struct dc_set *set,
			  dc_verify_fn fn, void *arg)
{
	struct dc_ctx *ctx = r->ctx;
	const struct dc_desc **todo = NULL, **have = NULL;
	struct dc_cpool *cp = NULL;
	uint64_t total;
	size_t n, nhave = 0, k, h;
	int err, bad = 0;

	if ((err = distinct_layers(ctx, set, &todo, &n, &total)) < 0)
		return err;
	/* the layers the load let pass are not there to read */
	if (n && !(have = dc__calloc(ctx, n, sizeof(*have)))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (k = 0; k < n; k++)
		if (!dc__reader_absent_msg(r, todo[k]->digest))
			have[nhave++] = todo[k];
	err = verify_pool(r, have, nhave, total, 1, &cp);
	if (err == DC_ENOMEM || err == DC_EINTR || (err < 0 && !cp))
		goto out;
	for (k = h = 0; k < n; k++) {
		const char *msg = dc__reader_absent_msg(r, todo[k]->digest);
		int code = DC_ECORRUPT;

		if (msg) {
			dc_error(ctx, code, "%s", msg);
			dc__error_in(ctx, r->src->label);
			msg = ctx->msg;
		} else if ((code = dc__cpool_result(cp, h++, &msg)) == DC_EINTR ||
			   code == DC_ENOMEM) {
			err = dc_error(ctx, code, "%s", msg);
			goto out;
		}
		bad += code != 0;
		fn(arg, todo[k], code, code ? msg : NULL);
	}
	ctx->code = 0;
	ctx->msg[0] = '\0';
	err = bad;
	/* a descriptor at any depth whose blob is not there: the source
	 * is not whole, whatever its layers say */
	if (set->nmissing)
		err = dc_error(ctx, DC_ECORRUPT, "%s: blob missing%s",
			       set->missing ? set->missing : "a descriptor",
			       set->nmissing > 1 ? " (and more)" : "");
out:
	dc__cpool_free(cp);
	free(have);
	free(todo);
	return err;
}
