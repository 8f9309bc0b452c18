/*
 * The plan: what each output image, index and blob is (media types,
 * compression, manifests) and where a blob's bytes come from (the
 * source, memory, or a spool file that a transform made: recompress,
 * squash). Every blob is listed once, in the order a writer gets it.
 */
#include "blob/blob.h"
#include "convert/convert.h"

#include <jansson.h>
#include <pthread.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

/* One layer recompressed on a worker thread before planning. */
struct tjob {
	const struct dc_desc *src;
	enum dc_comp to;
	int fd;				/* the spool, until the plan takes it */
	struct dc_desc out;
	struct dc_err err;		/* code 0: none */
	int sent;			/* sent early (p->spooled) */
	size_t img, layer;		/* its first user: src[img]'s layer */
};

void dc__plan_release(struct plan *p)
{
	size_t i;

	dc__sindex_release(&p->bidx);
	for (i = 0; i < p->n; i++)
		dc__image_free(p->img[i]);
	free(p->img);
	for (i = 0; i < p->nidx; i++)
		dc__index_free(p->idx[i]);
	free(p->idx);
	free(p->src_idx);
	for (i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	free(p->fds);
	for (i = 0; i < p->njobs; i++)
		if (p->jobs[i].fd >= 0)
			close(p->jobs[i].fd);
	free(p->jobs);
	free(p->b);
	dc__enc_free(p->enc);
	p->enc = NULL;
}

static const char *blob_key(const void *arg, size_t i)
{
	return ((const struct plan *)arg)->b[i].out->digest;
}

/* Constant time: a plan of many layers (or one layer listed many times)
 * must not cost a scan per blob. */
static struct pblob *find_blob(struct plan *p, const char *digest)
{
	size_t i = dc__sindex_find(&p->bidx, blob_key, p, digest);

	return i == DC_SINDEX_NONE ? NULL : &p->b[i];
}

static int add_blob(struct plan *p, const struct pblob *b)
{
	if (find_blob(p, b->out->digest))
		return 0;
	if (p->nb == p->capb) {
		size_t nc = p->capb ? p->capb * 2 : 32;
		struct pblob *nb = dc__reallocarray(p->ctx, p->b, nc, sizeof(*nb));

		if (!nb)
			return DC_ENOMEM;
		p->b = nb;
		p->capb = nc;
	}
	p->b[p->nb] = *b;
	return dc__sindex_add(p->ctx, &p->bidx, blob_key, p, p->nb++);
}

static const char OCI_MANIFEST[] = "application/vnd.oci.image.manifest.v1+json";
static const char OCI_CONFIG[] = "application/vnd.oci.image.config.v1+json";

/* Does the source manifest already say exactly what we will write? */
static int manifest_passes(const struct dc_image *src,
			   const struct dc_image *out)
{
	size_t i;

	if (src->manifest_synth || !src->manifest.media_type ||
	    strcmp(src->manifest.media_type, OCI_MANIFEST) ||
	    !src->config.media_type || strcmp(src->config.media_type, OCI_CONFIG))
		return 0;
	if (src->nlayers != out->nlayers)
		return 0;
	for (i = 0; i < src->nlayers; i++)
		if (!src->layers[i].media_type ||
		    strcmp(src->layers[i].media_type, out->layers[i].media_type) ||
		    strcmp(src->layers[i].digest, out->layers[i].digest))
			return 0;
	return 1;
}

static enum dc_comp target_comp(const struct dc_writer_ops *ops,
				const struct dc_write_opts *o, enum dc_comp c)
{
	switch (o->compress) {
	case DC_COMPRESS_NONE: return DC_COMP_NONE;
	case DC_COMPRESS_GZIP: return DC_COMP_GZIP;
	case DC_COMPRESS_ZSTD: return DC_COMP_ZSTD;
	case DC_COMPRESS_KEEP: break;
	}
	if (ops->caps & DC_WCAP_DOCKER_TYPES)
		return DC_COMP_NONE;	/* as `docker save` writes them */
	/* OCI layouts hold gzip and zstd; other codecs are decompressed */
	return c == DC_COMP_GZIP || c == DC_COMP_ZSTD ? c : DC_COMP_NONE;
}

int dc__spool_dir(struct dc_ctx *ctx, const char *dest, char **out)
{
	char *copy;

	*out = NULL;
	if (dc__dest_is_stream(dest))	/* $TMPDIR, not /dev */
		return 0;
	if (!(copy = dc__strdup(ctx, dest)))
		return DC_ENOMEM;
	*out = dc__strdup(ctx, dirname(copy));
	free(copy);
	return *out ? 0 : DC_ENOMEM;
}

/* Keep a spool file open until the plan is released. */
static int keep_fd(struct plan *p, int fd)
{
	int *fds = dc__reallocarray(p->ctx, p->fds, p->nfds + 1, sizeof(*fds));

	if (!fds) {
		close(fd);
		return DC_ENOMEM;
	}
	p->fds = fds;
	p->fds[p->nfds++] = fd;
	return 0;
}

/* The output index for SRC's index, made on first use. */
static int out_index(struct plan *p, const struct dc_index *src,
		     struct dc_index **out)
{
	struct dc_ctx *ctx = p->ctx;
	struct dc_index *x;
	size_t i;
	void *np;
	int err = 0;

	for (i = 0; i < p->nidx; i++)
		if (p->src_idx[i] == src) {
			*out = p->idx[i];
			return 0;
		}
	if (!(x = dc__calloc(ctx, 1, sizeof(*x))))
		return DC_ENOMEM;
	for (i = 0; i < src->ntags && !err; i++)
		err = dc__tags_add(ctx, &x->tags, &x->ntags, src->tags[i]);
	if (!err && src->ref_name && !(x->ref_name = dc__strdup(ctx, src->ref_name)))
		err = DC_ENOMEM;
	if (!err)
		err = dc__tags_add_all(ctx, &x->src_refs, &x->nsrc_refs,
				       src->src_refs, src->nsrc_refs);
	if (!err && !(np = dc__reallocarray(ctx, p->idx, p->nidx + 1, sizeof(*p->idx))))
		err = DC_ENOMEM;
	else if (!err)
		p->idx = np;
	if (!err && !(np = dc__reallocarray(ctx, p->src_idx, p->nidx + 1,
					    sizeof(*p->src_idx))))
		err = DC_ENOMEM;
	else if (!err)
		p->src_idx = np;
	if (err) {
		dc__index_free(x);
		return err;
	}
	p->idx[p->nidx] = x;
	p->src_idx[p->nidx++] = src;
	*out = x;
	return 0;
}

size_t dc__squash_keep(const struct dc_write_opts *o, size_t n)
{
	if (o->squash_last && n)
		return o->squash_last >= n ? 0 : n - o->squash_last;
	return n;
}

/* IMG takes SRC's names (on a multi-platform target, its index does)
 * and its platform. */
static int plan_names(struct plan *p, const struct dc_writer_ops *ops,
		      const struct dc_image *src, struct dc_image *img)
{
	struct dc_ctx *ctx = p->ctx;
	size_t i;
	int err;

	/* one image picked out of an index is written as that image, as
	 * skopeo copy without --all does: an index of one platform would
	 * make consumers on other hosts look for theirs */
	if (src->index && (ops->caps & DC_WCAP_MULTI_PLATFORM) &&
	    (src->index->complete || src->index->nimages > 1)) {
		if ((err = out_index(p, src->index, &img->index)) < 0)
			return err;
	} else {
		/* a single-platform target: the image takes the names */
		for (i = 0; i < dc_image_tag_count(src); i++)
			if ((err = dc__image_add_tag(ctx, img,
						     dc_image_tag(src, i))) < 0)
				return err;
		if (dc_image_ref_name(src) &&
		    !(img->ref_name = dc__strdup(ctx, dc_image_ref_name(src))))
			return DC_ENOMEM;
		if ((err = src->index ?
		     dc__tags_add_all(ctx, &img->src_refs, &img->nsrc_refs,
				      src->index->src_refs, src->index->nsrc_refs) :
		     dc__tags_add_all(ctx, &img->src_refs, &img->nsrc_refs,
				      src->src_refs, src->nsrc_refs)) < 0)
			return err;
	}
	memcpy(img->platform, src->platform, sizeof(img->platform));
	if ((src->os && !(img->os = dc__strdup(ctx, src->os))) ||
	    (src->arch && !(img->arch = dc__strdup(ctx, src->arch))) ||
	    (src->variant && !(img->variant = dc__strdup(ctx, src->variant))))
		return DC_ENOMEM;
	return 0;
}

/* SRC's config bytes, labelled OCI (a squash rewrites them later). */
static int plan_config(struct dc_ctx *ctx, const struct dc_image *src,
		       struct dc_image *img)
{
	int err;

	if ((err = dc__buf_add(ctx, &img->config_raw, src->config_raw.data,
			       src->config_raw.len)) < 0 ||
	    (err = dc__desc_copy(ctx, &img->config, &src->config)) < 0)
		return err;
	free(img->config.media_type);
	if (!(img->config.media_type = dc__strdup(ctx, OCI_CONFIG)))
		return DC_ENOMEM;
	return 0;
}

/*
 * Layer OL of IMG: SRC's layers KEEP.. squashed, compressed as TO,
 * straight into a tar being written, else a spool; a spool the writer
 * links into place is not read back: past the page cache. IMG's config
 * then lists the squashed layer.
 */
static int plan_squash(struct plan *p, struct dc_reader *r,
		       const struct dc_writer_ops *ops,
		       const struct dc_write_opts *o,
		       const struct dc_image *src, size_t keep, enum dc_comp to,
		       const char *spooldir, struct dc_image *img,
		       struct dc_desc *ol, struct pblob *b)
{
	struct dc_ctx *ctx = p->ctx;
	int in_tar = 0, fd = -1, err;
	size_t k;

	/* an image listed again (the same config, so the same layers):
	 * its squash is made once (issue 17: 5,000 times, 53 s); the
	 * images before IMG are planned, the others only named */
	for (k = 0; k < p->n && p->img[k] != img; k++) {
		const struct dc_image *o2 = p->img[k];

		if (strcmp(p->src[k]->config.digest, src->config.digest) ||
		    o2->nlayers != keep + 1 || o2->layers[keep].comp != to ||
		    p->src[k]->nlayers != src->nlayers)
			continue;
		if ((err = dc__desc_copy(ctx, ol, &o2->layers[keep])) < 0)
			return err;
		img->config_raw.len = 0;
		if ((err = dc__buf_add(ctx, &img->config_raw, o2->config_raw.data,
				       o2->config_raw.len)) < 0)
			return err;
		memcpy(img->config.digest, o2->config.digest,
		       sizeof(img->config.digest));
		img->config.size = o2->config.size;
		b->kind = B_DONE;
		return 0;
	}
	if (p->w) {
		if ((err = dc__writer_put_blob_open(p->w, &fd)) < 0)
			return err;
		in_tar = err == 0;
	}
	struct dc_bsrc bs;

	dc__reader_blobs(r, &bs);
	/* reported: the squashed tar as it grows, its size unknown */
	dc__phase(ctx, "squash", 0);
	if ((err = dc__squash(&bs, src, keep, src->nlayers, to, o,
			      spooldir, strcmp(p->dest, "-") ?
			      p->dest : NULL,
			      in_tar ? 2 : ops->put_blob_file != NULL,
			      &fd, ol)) < 0)
		return err;
	b->squash = ++p->nsquash;
	if (in_tar) {
		/* the same blob may be in the plan already
		 * (another image's squash): taken back out,
		 * and add_blob() skips it */
		if ((err = dc__writer_put_blob_close(p->w,
				find_blob(p, ol->digest) ? NULL : ol)) < 0)
			return err;
		b->kind = B_DONE;
	} else {
		if ((err = keep_fd(p, fd)) < 0)
			return err;
		b->kind = B_SPOOL;
		b->fd = fd;
	}
	img->config_raw.len = 0;
	if ((err = dc__squash_config(ctx, src, keep, ol->diff_id,
				     &img->config_raw)) < 0)
		return err;
	dc__sha256_digest(img->config_raw.data, img->config_raw.len,
			  img->config.digest);
	img->config.size = (int64_t)img->config_raw.len;
	return 0;
}

/*
 * Layer OL: SL recompressed as TO, by this plan before (1: OL is that
 * blob, in the plan already), up front, or now.
 */
static int plan_transcode(struct plan *p, struct dc_reader *r,
			  const struct dc_write_opts *o,
			  const struct dc_desc *sl, enum dc_comp to,
			  const char *spooldir, struct dc_desc *ol,
			  struct pblob *b)
{
	struct dc_bsrc bs;
	size_t k;
	int fd = -1, err;

	dc__reader_blobs(r, &bs);
	/* the same layer may already be transcoded */
	for (k = 0; k < p->nb; k++)
		if (p->b[k].kind == B_SPOOL && p->b[k].src &&
		    !strcmp(p->b[k].src->digest, sl->digest) &&
		    p->b[k].out->comp == to)
			break;
	if (k < p->nb) {
		if ((err = dc__desc_copy(p->ctx, ol, p->b[k].out)) < 0)
			return err;
		return 1;
	}
	for (k = 0; k < p->njobs; k++)
		if (p->jobs[k].fd >= 0 && p->jobs[k].to == to &&
		    !strcmp(p->jobs[k].src->digest, sl->digest))
			break;
	if (k < p->njobs) {
		/* recompressed up front, with other layers */
		*ol = p->jobs[k].out;
		fd = p->jobs[k].fd;
		p->jobs[k].fd = -1;
		b->sent = p->jobs[k].sent;
		if ((err = keep_fd(p, fd)) < 0)
			return err;
	} else if ((err = dc__transcode(&bs, sl, to, o, spooldir,
					&p->enc, &fd, ol)) < 0 ||
		   (err = keep_fd(p, fd)) < 0) {
		return err;
	}
	b->kind = B_SPOOL;
	b->src = sl;
	b->fd = fd;
	return 0;
}

/* Layer I of IMG: SRC's layer I as it is or recompressed, or (I == KEEP)
 * the squash of SRC's layers from KEEP on. */
static int plan_layer(struct plan *p, struct dc_reader *r,
		      const struct dc_writer_ops *ops,
		      const struct dc_write_opts *o, const struct dc_image *src,
		      size_t keep, size_t i, const char *spooldir,
		      struct dc_image *img)
{
	struct dc_ctx *ctx = p->ctx;
	const struct dc_desc *sl = i < keep ? &src->layers[i] : NULL;
	struct dc_desc *ol = &img->layers[i];
	enum dc_comp to = target_comp(ops, o, sl ? sl->comp :
				      src->layers[src->nlayers - 1].comp);
	struct pblob b = { 0 };
	size_t nb;
	int err;

	if (!sl) {
		if ((err = plan_squash(p, r, ops, o, src, keep, to, spooldir,
				       img, ol, &b)) < 0)
			return err;
	} else if (to == sl->comp) {
		if ((err = dc__desc_copy(ctx, ol, sl)) < 0)
			return err;
		b.kind = B_LAYER;
		b.src = sl;
	} else if ((err = plan_transcode(p, r, o, sl, to, spooldir, ol,
					 &b)) != 0) {
		return err < 0 ? err : 0;
	}
	free(ol->media_type);
	/* a layer as it is keeps where it comes from (a registry writer
	 * mounts it from the source's repository) */
	if (b.kind != B_LAYER) {
		free(ol->path);
		ol->path = NULL;
	}
	ol->comp = to;
	if (!(ol->media_type = dc__strdup(ctx, dc__layer_media_type(to, 0))))
		return DC_ENOMEM;
	b.out = ol;
	nb = p->nb;
	if ((err = add_blob(p, &b)) < 0)
		return err;
	/* a new spool: the writer may take it now */
	if (p->nb > nb && b.kind == B_SPOOL && p->spooled)
		return p->spooled(p->hook_arg, &p->b[nb]);
	return 0;
}

/* SRC's manifest bytes when they say what IMG is, else a new one. */
static int plan_manifest(struct dc_ctx *ctx, const struct dc_image *src,
			 struct dc_image *img)
{
	int err;

	if (!manifest_passes(src, img))
		return dc__image_synth_manifest(ctx, img);
	if ((err = dc__desc_copy(ctx, &img->manifest, &src->manifest)) < 0 ||
	    (err = dc__buf_add(ctx, &img->manifest_raw, src->manifest_raw.data,
			       src->manifest_raw.len)) < 0)
		return err;
	return 0;
}

/* IMG, named already (plan_names, its layers allocated), made from
 * SRC: config, layers, manifest. */
static int plan_image(struct plan *p, struct dc_reader *r,
		      const struct dc_writer_ops *ops,
		      const struct dc_write_opts *o, const struct dc_image *src,
		      const char *spooldir, struct dc_image *img)
{
	struct dc_ctx *ctx = p->ctx;
	size_t i, keep = dc__squash_keep(o, src->nlayers);
	int err;

	if ((err = plan_config(ctx, src, img)) < 0)
		return err;
	for (i = 0; i < img->nlayers; i++)
		if ((err = plan_layer(p, r, ops, o, src, keep, i, spooldir,
				      img)) < 0)
			return err;
	return plan_manifest(ctx, src, img);
}

/* Squashed layers first, as they were made (a tar output gets them
 * while it is planned, spooled or not), then digest order. */
static int cmp_blob(const void *a, const void *b)
{
	const struct pblob *x = a, *y = b;

	if (x->squash || y->squash) {
		if (!x->squash || !y->squash)
			return x->squash ? -1 : 1;
		return x->squash < y->squash ? -1 : x->squash > y->squash;
	}
	return strcmp(x->out->digest, y->out->digest);
}

static json_t *index_entry(const struct dc_image *img)
{
	json_t *o = json_object(), *pl = json_object();
	int bad = 0;

	bad |= json_object_set_new(o, "mediaType", json_string(img->manifest.media_type));
	bad |= json_object_set_new(o, "digest", json_string(img->manifest.digest));
	bad |= json_object_set_new(o, "size", json_integer(img->manifest.size));
	bad |= json_object_set_new(pl, "architecture", json_string(img->arch ? img->arch : ""));
	bad |= json_object_set_new(pl, "os", json_string(img->os ? img->os : ""));
	if (img->variant)
		bad |= json_object_set_new(pl, "variant", json_string(img->variant));
	bad |= json_object_set_new(o, "platform", pl);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * An output index passes through as the source's bytes when it lists
 * exactly the images written, unchanged; else a new OCI index lists
 * the images written.
 */
static int plan_index(struct plan *p, size_t k,
		      const struct dc_image *const *src)
{
	struct dc_ctx *ctx = p->ctx;
	struct dc_index *x = p->idx[k];
	const struct dc_index *sx = p->src_idx[k];
	json_t *root = NULL, *list;
	size_t i, n = 0;
	int same = sx->complete, err, bad = 0;

	for (i = 0; i < p->n; i++) {
		if (p->img[i]->index != x)
			continue;
		n++;
		if (strcmp(p->img[i]->manifest.digest, src[i]->manifest.digest))
			same = 0;
	}
	if (n != sx->nimages)
		same = 0;
	if (same) {
		if ((err = dc__desc_copy(ctx, &x->desc, &sx->desc)) < 0)
			return err;
		return dc__buf_add(ctx, &x->raw, sx->raw.data, sx->raw.len);
	}
	root = json_object();
	list = json_array();
	bad |= json_object_set_new(root, "schemaVersion", json_integer(2));
	bad |= json_object_set_new(root, "mediaType",
				   json_string("application/vnd.oci.image.index.v1+json"));
	for (i = 0; i < p->n; i++)
		if (p->img[i]->index == x)
			bad |= json_array_append_new(list, index_entry(p->img[i]));
	bad |= json_object_set_new(root, "manifests", list);
	err = bad ? dc__enomem(ctx) : dc__json_dump(ctx, &x->raw, root);
	json_decref(root);
	if (err)
		return err;
	dc__sha256_digest(x->raw.data, x->raw.len, x->desc.digest);
	x->desc.size = (int64_t)x->raw.len;
	if (!(x->desc.media_type =
		      dc__strdup(ctx, "application/vnd.oci.image.index.v1+json")))
		return DC_ENOMEM;
	return 0;
}

struct tpool {
	pthread_mutex_t mu;
	struct plan *p;
	struct dc_bsrc bs;
	const struct dc_write_opts *o;
	const char *spooldir;
	size_t next;
};

static void *tworker(void *arg)
{
	struct tpool *tp = arg;

	for (;;) {
		struct dc_ctx tctx;
		struct dc_bsrc bs;
		struct tjob *j;
		size_t i;
		int err;

		pthread_mutex_lock(&tp->mu);
		i = tp->next++;
		pthread_mutex_unlock(&tp->mu);
		if (i >= tp->p->njobs)
			break;
		j = &tp->p->jobs[i];
		dc__bsrc_clone(&tp->bs, &tctx, &bs, &tp->bs.ctx->interrupted);
		/* the parent's progress callback takes the workers' bytes */
		tctx.progress = tp->bs.ctx->progress;
		tctx.progress_arg = tp->bs.ctx->progress_arg;
		err = dc__transcode(&bs, j->src, j->to, tp->o, tp->spooldir,
				    NULL, &j->fd, &j->out);
		if (err)
			dc__err_save(&j->err, err, &tctx);
	}
	return NULL;
}

static int cmp_job_size(const void *a, const void *b)
{
	const struct tjob *x = a, *y = b;

	if (x->src->size != y->src->size)
		return x->src->size > y->src->size ? -1 : 1;
	return strcmp(x->src->digest, y->src->digest);
}

/*
 * Layers to compress for a writer that sends each as soon as it is made
 * (p->spooled, a registry): one after the other with every thread, the
 * largest first, so that the upload left alone at the end is the
 * smallest one's. The first image using a layer gets its digest at
 * once: that is how the writer knows where the blob goes.
 */
static int send_up_front(struct plan *p, struct dc_reader *r,
			 const struct dc_write_opts *o, const char *spooldir)
{
	struct dc_bsrc bs;
	size_t k;
	int err;

	dc__reader_blobs(r, &bs);
	qsort(p->jobs, p->njobs, sizeof(*p->jobs), cmp_job_size);
	for (k = 0; k < p->njobs; k++) {
		struct tjob *t = &p->jobs[k];
		struct pblob b = { 0 };

		if ((err = dc__transcode(&bs, t->src, t->to, o, spooldir,
					 &p->enc, &t->fd, &t->out)) < 0)
			return err;
		memcpy(p->img[t->img]->layers[t->layer].digest, t->out.digest,
		       sizeof(t->out.digest));
		b.kind = B_SPOOL;
		b.src = t->src;
		b.out = &t->out;
		b.fd = t->fd;
		if ((err = p->spooled(p->hook_arg, &b)) < 0)
			return err;
		t->sent = b.sent;
	}
	return 0;
}

/*
 * Several layers to recompress, some of them compressed: do them at once,
 * each with its share of the compression threads, before planning picks
 * up their spools. Decoding a layer is serial (one inflate or zstd stream
 * per layer), so one layer at a time would leave a core waiting on it.
 *
 * When no layer needs decoding, one layer at a time with every thread is
 * faster: the encoder's own workers then keep all cores busy to the end
 * of the last layer, instead of one core finishing the largest layer
 * alone, and one multi-threaded context costs less CPU than several
 * single-worker ones (bench/: 1 GB, 5 layers, zstd -3 on 2 cores: 2.57 s
 * and 4.3 s user instead of 3.08 s and 5.1 s).
 */
static int transcode_up_front(struct plan *p, struct dc_reader *r,
			      const struct dc_writer_ops *ops,
			      const struct dc_image *const *src, size_t nsrc,
			      const struct dc_write_opts *o, const char *spooldir)
{
	struct dc_ctx *ctx = p->ctx;
	struct dc_write_opts jo = *o;
	struct tpool tp;
	size_t i, j, k, cpus = dc__threads(ctx), want;
	int err = 0;

	for (i = 0; i < nsrc; i++) {
		const struct dc_image *img = src[i];
		size_t keep = dc__squash_keep(o, img->nlayers);

		for (j = 0; j < keep; j++) {
			const struct dc_desc *l = &img->layers[j];
			enum dc_comp to = target_comp(ops, o, l->comp);
			struct tjob *nj;

			if (to == l->comp)
				continue;
			for (k = 0; k < p->njobs; k++)
				if (p->jobs[k].to == to &&
				    !strcmp(p->jobs[k].src->digest, l->digest))
					break;
			if (k < p->njobs)
				continue;
			if (!(nj = dc__reallocarray(ctx, p->jobs, p->njobs + 1,
						    sizeof(*nj))))
				return DC_ENOMEM;
			p->jobs = nj;
			memset(&nj[p->njobs], 0, sizeof(*nj));
			nj[p->njobs].src = l;
			nj[p->njobs].to = to;
			nj[p->njobs].fd = -1;
			nj[p->njobs].img = i;
			nj[p->njobs].layer = j;
			p->njobs++;
		}
	}
	if (p->njobs) {
		/* one phase for them all, up front or one by one */
		uint64_t total = 0;

		for (i = 0; i < p->njobs; i++)
			total += (uint64_t)p->jobs[i].src->size;
		dc__phase(ctx, "recompress", total);
	}
	if (p->njobs < 2)
		return 0;	/* one layer: it gets every thread itself */
	for (i = 0; i < p->njobs; i++)
		if (p->jobs[i].src->comp != DC_COMP_NONE)
			break;
	if (i == p->njobs)	/* nothing to decode: one after the other */
		return p->spooled ? send_up_front(p, r, o, spooldir) : 0;
	want = p->njobs < cpus ? p->njobs : cpus;
	if (want > 8)
		want = 8;
	jo.threads = (int)((o->threads > 0 ? (size_t)o->threads : cpus) / want);
	if (jo.threads < 1)
		jo.threads = 1;
	memset(&tp, 0, sizeof(tp));
	pthread_mutex_init(&tp.mu, NULL);
	tp.p = p;
	dc__reader_blobs(r, &tp.bs);
	tp.o = &jo;
	tp.spooldir = spooldir;
	dc__threads_run(want, tworker, &tp);
	pthread_mutex_destroy(&tp.mu);
	for (i = 0; i < p->njobs && !err; i++)
		if (p->jobs[i].err.code)
			err = dc__err_restore(ctx, &p->jobs[i].err);
	return err;
}

static const char *desc_key(const void *arg, size_t i)
{
	const struct dc_desc *const *d = arg;

	return d[i]->digest;
}

/*
 * Tell a progress front end what this plan will do (dc__outline): the
 * bytes each phase works through. A layer recompressed or copied counts
 * once, whatever the number of images that hold it; the squashed
 * layers count as their tar bytes, unknown in advance when compressed;
 * the copies of what recompression and squash made count nothing.
 */
static int outline(struct plan *p, const struct dc_writer_ops *ops,
		   const struct dc_image *const *src, size_t nsrc,
		   const struct dc_write_opts *o)
{
	struct dc_ctx *ctx = p->ctx;
	struct dc_sindex seen = DC_SINDEX_INIT;
	const struct dc_desc **d = NULL;
	uint64_t squash = 0, recomp = 0, copy = 0;
	size_t i, j, nd = 0, all = 0;
	int sq = 0, sq_unknown = 0, err = 0;

	if (!ctx->outline)
		return 0;
	for (i = 0; i < nsrc; i++)
		all += src[i]->nlayers;
	if (all && !(d = dc__reallocarray(ctx, NULL, all, sizeof(*d))))
		return DC_ENOMEM;
	for (i = 0; i < nsrc; i++) {
		const struct dc_image *img = src[i];
		size_t keep = dc__squash_keep(o, img->nlayers);

		for (j = 0; j < img->nlayers; j++) {
			const struct dc_desc *l = &img->layers[j];
			uint64_t n = l->size > 0 ? (uint64_t)l->size : 0;

			if (j >= keep) {
				sq = 1;
				sq_unknown |= l->comp != DC_COMP_NONE;
				squash += n;
				continue;
			}
			if (dc__sindex_find(&seen, desc_key, d, l->digest) !=
			    DC_SINDEX_NONE)
				continue;
			d[nd] = l;
			if ((err = dc__sindex_add(ctx, &seen, desc_key, d,
						  nd)) < 0)
				goto out;
			nd++;
			if (target_comp(ops, o, l->comp) != l->comp)
				recomp += n;
			else
				copy += n;
		}
	}
	if (recomp)
		dc__outline(ctx, "recompress", recomp);
	if (sq)
		dc__outline(ctx, "squash", sq_unknown ? DC_WORK_UNKNOWN : squash);
	dc__outline(ctx, "write", copy);
out:
	dc__sindex_release(&seen);
	free(d);
	return err;
}

int dc__plan_build(struct plan *p, struct dc_reader *r,
		   const struct dc_writer_ops *ops,
		   const struct dc_image *const *src, size_t nsrc,
		   const struct dc_write_opts *o, const char *dest)
{
	struct dc_ctx *ctx = p->ctx;
	char *spooldir = NULL;
	size_t i;
	int err;

	p->dest = dest;
	p->src = src;
	/* a remote destination has no directory: spool in $TMPDIR */
	if ((err = dc__spool_dir(ctx, (ops->caps & DC_WCAP_REMOTE) ? "-" : dest,
				 &spooldir)) < 0)
		return err;
	if (nsrc && !(p->img = dc__calloc(ctx, nsrc, sizeof(*p->img)))) {
		err = DC_ENOMEM;
		goto out;
	}
	/* every image and index named first: a writer that sends blobs
	 * as they are made (p->named) knows where each goes */
	for (i = 0; i < nsrc; i++) {
		struct dc_image *img;
		size_t keep = dc__squash_keep(o, src[i]->nlayers);

		if ((err = dc__image_new(ctx, &p->img[i])) < 0)
			goto out;
		img = p->img[i];
		p->n++;
		if ((err = plan_names(p, ops, src[i], img)) < 0)
			goto out;
		img->nlayers = keep + (keep < src[i]->nlayers);
		if (img->nlayers &&
		    !(img->layers = dc__calloc(ctx, img->nlayers,
					       sizeof(*img->layers)))) {
			err = DC_ENOMEM;
			goto out;
		}
	}
	if ((err = outline(p, ops, src, nsrc, o)) < 0 ||
	    (p->named && (err = p->named(p->hook_arg, p)) < 0) ||
	    (err = transcode_up_front(p, r, ops, src, nsrc, o, spooldir)) < 0)
		goto out;
	for (i = 0; i < nsrc; i++)
		if ((err = plan_image(p, r, ops, o, src[i], spooldir,
				      p->img[i])) < 0)
			goto out;
	for (i = 0; i < p->nidx; i++) {
		struct pblob x = { B_MEM, NULL, &p->idx[i]->desc, NULL, -1, 0, 0 };

		if ((err = plan_index(p, i, src)) < 0)
			goto out;
		x.mem = p->idx[i]->raw.data;
		if ((err = add_blob(p, &x)) < 0)
			goto out;
	}
	for (i = 0; i < p->n; i++) {
		struct dc_image *img = p->img[i];
		struct pblob c = { B_MEM, NULL, &img->config, img->config_raw.data, -1, 0, 0 };
		struct pblob m = { B_MEM, NULL, &img->manifest, img->manifest_raw.data, -1, 0, 0 };

		if ((err = add_blob(p, &c)) < 0 || (err = add_blob(p, &m)) < 0)
			goto out;
	}
	qsort(p->b, p->nb, sizeof(*p->b), cmp_blob);
	dc__sindex_release(&p->bidx);	/* its numbers are the old order */
out:
	free(spooldir);
	return err;
}
