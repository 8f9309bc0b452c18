/*
 * The driver: dc_write() takes a read image set through the plan (which
 * runs the transforms) to a writer: begin, every blob once, every
 * image, commit; abort on any failure.
 */
#include "blob/blob.h"
#include "convert/convert.h"
#include "transform/transform.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * A compressed layer copied as it is between two places that both name
 * it by digest (from a registry, or to one) is checked by digest and
 * size as it streams, as skopeo and crane do: decompressing it to check
 * its diff_id would cost more than the copy. Its diff_id is checked
 * wherever it is decompressed (squash, recompression, an uncompressed
 * output, rootfs) and by verify. Every other layer copied as it is
 * (a local archive converted) has its diff_id checked too.
 */
static int digest_only(const struct dc_writer *w, const struct dc_bsrc *bs,
		       const struct pblob *b)
{
	return b->kind == B_LAYER && b->src->comp != DC_COMP_NONE &&
	       (bs->remote || (w->ops->caps & DC_WCAP_REMOTE));
}

static int open_blob(const struct dc_writer *w, const struct dc_bsrc *bs,
		     const struct pblob *b, struct dc_stream **s)
{
	switch (b->kind) {
	case B_MEM:
		return dc__stream_memory(bs->ctx, s, b->mem, (size_t)b->out->size);
	case B_LAYER:
		return dc__blob_open(bs, b->src, digest_only(w, bs, b) ? 0 :
				     DC_BLOB_DIFFID, s);
	case B_SPOOL:
		return dc__stream_fd_range(bs->ctx, s, b->fd, 0,
					   (uint64_t)b->out->size, 0);
	case B_DONE:
		break;
	}
	return DC_EINVAL;
}

static void progress_done(struct dc_ctx *ctx, const struct pblob *b)
{
	if (ctx->progress)
		ctx->progress(ctx->progress_arg, (uint64_t)b->out->size, 0, 0, 0);
}

/*
 * A layer lying as a byte range of the source, a layer of a registry,
 * or a spool: the copy pool fills its place (or, for a writer that
 * sends, sends it) in one pass, several at once. 1: not this blob (or
 * not this writer), it goes another way.
 */
static int pool_blob(struct dc_writer *w, const struct dc_bsrc *bs,
		     struct dc_cpool *cp, const struct pblob *b)
{
	struct dc_cjob job;
	int rfd = -1, own = 0, err;
	uint64_t roff = 0, rlen = 0;

	memset(&job, 0, sizeof(job));
	job.srcfd = -1;
	if (b->kind == B_SPOOL) {
		job.srcfd = b->fd;
		job.len = (uint64_t)b->out->size;
	} else if (b->kind == B_LAYER && bs->remote) {
		job.d = b->src;
		job.len = (uint64_t)b->src->size;
	} else if (b->kind == B_LAYER &&
		   dc__blob_range(bs, b->src, &rfd, &own, &roff, &rlen) == 0) {
		if (own)
			close(rfd);
		if (rlen == (uint64_t)b->src->size) {
			job.d = b->src;
			job.len = rlen;
		}
	}
	if (!job.d && job.srcfd < 0)
		return 1;
	job.digest_only = digest_only(w, bs, b);
	job.dstfd = -1;
	if ((err = dc__writer_reserve_send(w, b->out, &job.send,
					   &job.send_arg)) > 0)
		err = dc__writer_reserve_blob(w, b->out, &job.dstfd,
					      &job.dstoff, &job.dst_own);
	if (err != 0)
		return err;
	job.dst_label = w->dest;
	if ((err = dc__cpool_add(cp, &job)) < 0 && job.dst_own)
		close(job.dstfd);
	return err;
}

/* Blob B of the plan into W, by the cheapest way W and B allow. */
static int put_one_blob(struct dc_writer *w, const struct dc_bsrc *bs,
			struct dc_cpool *cp, const struct pblob *b)
{
	struct dc_ctx *ctx = w->ctx;
	struct dc_stream *s = NULL;
	int err;

	/* the destination has it (a registry, or a layout a registry's
	 * blob goes to): nothing to read or send */
	if (((w->ops->caps & DC_WCAP_REMOTE) || bs->remote) &&
	    (err = dc__writer_has_blob(w, b->out)) != 0) {
		if (err > 0)
			progress_done(ctx, b);
		return err < 0 ? err : 0;
	}
	if (b->kind == B_SPOOL) {
		/* spooled (recompressed, squashed), already hashed:
		 * the writer may link it into place */
		if ((err = dc__writer_put_blob_file(w, b->fd, b->out)) <= 0) {
			if (!err)
				progress_done(ctx, b);
			return err;
		}
	}
	if ((err = pool_blob(w, bs, cp, b)) <= 0)
		return err;
	if (b->kind == B_SPOOL) {
		if ((err = dc__writer_put_blob_range(w, b->fd, 0, b->out)) <= 0) {
			if (!err)
				progress_done(ctx, b);
			return err;
		}
	}
	/* everything else streams through here, verified as it goes */
	if ((err = open_blob(w, bs, b, &s)) < 0)
		return err;
	err = dc__writer_put_blob(w, s, b->out);
	/* a writer may skip a blob it holds already: the source is
	 * still read to its end, where it is checked */
	if (!err)
		err = dc__stream_drain(s);
	dc__stream_close(s);
	return err;
}

/* Every blob of the plan into W, then W's images, then commit. */
static int write_planned(struct dc_writer *w, struct dc_reader *r,
			 const struct plan *p)
{
	struct dc_ctx *ctx = w->ctx;
	struct dc_cpool *cp = NULL;
	struct dc_bsrc bs;
	uint64_t total = 0;
	size_t i;
	int err;

	dc__reader_blobs(r, &bs);
	for (i = 0; i < p->nb; i++)
		if (p->b[i].kind != B_DONE && !p->b[i].sent)
			total += (uint64_t)p->b[i].out->size;
	if ((err = dc__cpool_new(&bs, &cp)) < 0)
		return err;
	if (w->state == DC_W_NEW && (err = dc__writer_begin(w)) < 0)
		goto out;
	dc__phase(ctx, "write", total);
	for (i = 0; i < p->nb; i++) {
		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
		if (p->b[i].kind == B_DONE || p->b[i].sent)
			continue;
		w->align_next = p->b[i].squash != 0;
		if (ctx->progress)
			ctx->progress(ctx->progress_arg, 0, total, i + 1, p->nb);
		if ((err = put_one_blob(w, &bs, cp, &p->b[i])) < 0)
			goto out;
	}
	if ((err = dc__cpool_run(cp, ctx)) < 0)
		goto out;
	for (i = 0; i < p->n; i++)
		if ((err = dc__writer_put_image(w, p->img[i])) < 0)
			goto out;
	if ((err = dc__check_intr(ctx)) < 0)
		goto out;
	err = dc__writer_commit(w);
out:
	dc__cpool_free(cp);
	return err;
}

/*
 * A delta: the layers of the plan that EX holds are left out (marked
 * done), and their list goes into *NOTE (the caller frees), which W
 * writes at its root.
 */
static int leave_out(struct dc_writer *w, struct plan *p,
		     const struct dc_inventory *ex, char **note)
{
	struct dc_ctx *ctx = w->ctx;
	struct dc_inventory *rec = NULL;
	size_t i;
	int err;

	if ((err = dc_inventory_new(ctx, &rec)) < 0)
		return err;
	dc__inventory_set_delta(rec);
	for (i = 0; i < dc_inventory_name_count(ex) && !err; i++)
		err = dc_inventory_add_name(ctx, rec, dc_inventory_name(ex, i));
	for (i = 0; i < p->nb && !err; i++) {
		struct pblob *b = &p->b[i];
		const struct dc_inv_blob *e;

		if (b->kind != B_LAYER && b->kind != B_SPOOL)
			continue;
		if (!(e = dc__inventory_find(ex, b->out->digest)))
			continue;
		if (e->size != b->out->size) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s': the far side's inventory says %lld bytes, the blob has %lld: the inventory does not match what it describes",
				       b->out->digest, (long long)e->size,
				       (long long)b->out->size);
			break;
		}
		b->kind = B_DONE;
		err = dc_inventory_add(ctx, rec, b->out->digest, b->out->size,
				       b->out->media_type);
	}
	if (!err)
		err = dc_inventory_json(ctx, rec, note);
	dc_inventory_free(rec);
	if (!err) {
		w->note = *note;
		w->note_len = strlen(*note);
	}
	return err;
}

/* The plan's images are named: a writer that sends blobs as they are
 * made (a registry) learns where they go, and begins (connects). */
struct hooks {
	struct dc_writer *w;
	struct dc_early *early;
};

static int early_named(void *arg, struct plan *p)
{
	struct dc_writer *w = ((struct hooks *)arg)->w;

	dc__writer_set_images(w, (const struct dc_image *const *)p->img, p->n,
			      (const struct dc_index *const *)p->idx, p->nidx);
	return dc__writer_begin(w);
}

static int early_spooled(void *arg, struct pblob *b)
{
	return dc__early_send(((struct hooks *)arg)->early, b);
}

/* A layout: the plan, then its blobs and images. */
static int write_layout(struct dc_writer *w, struct dc_reader *r,
			const struct dc_image *const *imgs, size_t n,
			const char *dest, const struct dc_write_opts *o)
{
	struct dc_ctx *ctx = w->ctx;
	const struct dc_writer_ops *ops = w->ops;
	struct dc_early *early = NULL;
	struct hooks h;
	char *note = NULL;
	struct plan p;
	int err;

	memset(&p, 0, sizeof(p));
	p.ctx = ctx;
	/* a squash goes straight into a tar: begun before planning */
	if (ops->put_blob_open && o->squash_last) {
		if ((err = dc__writer_begin(w)) < 0)
			goto out;
		p.w = w;
	}
	/* a writer that sends (a registry): begun once the images are
	 * named, it takes each recompressed or squashed layer as soon as
	 * it is made, while the next one is */
	if ((ops->caps & DC_WCAP_REMOTE) && ops->reserve_send && !o->exclude) {
		struct dc_bsrc bs;

		dc__reader_blobs(r, &bs);
		if ((err = dc__early_new(w, &bs, &early)) < 0)
			goto out;
		h.w = w;
		h.early = early;
		p.named = early_named;
		p.spooled = early_spooled;
		p.hook_arg = &h;
	}
	if ((err = dc__plan_build(&p, r, ops, imgs, n, o, dest)) < 0 ||
	    (err = dc__early_wait(early, ctx)) < 0)
		goto out;
	dc__enc_free(p.enc);	/* recompression is over: its threads too */
	p.enc = NULL;
	if (o->exclude && (err = leave_out(w, &p, o->exclude, &note)) < 0)
		goto out;
	dc__writer_set_images(w, (const struct dc_image *const *)p.img, p.n,
			      (const struct dc_index *const *)p.idx, p.nidx);
	err = write_planned(w, r, &p);
out:
	dc__early_free(early);	/* joined before the writer goes */
	if (err < 0)
		dc__writer_abort(w);
	dc__plan_release(&p);
	free(note);
	return err;
}

/*
 * A flat filesystem (rootfs): the one image's layers squashed, written
 * by the squash engine straight into the writer's output file.
 */
static int write_flat(struct dc_writer *w, struct dc_reader *r,
		      const struct dc_image *img, const char *dest,
		      const struct dc_write_opts *o)
{
	struct dc_ctx *ctx = w->ctx;
	struct dc_desc d;
	struct dc_bsrc bs;
	char *spooldir = NULL;
	enum dc_comp comp;
	int fd = -1, err;

	if (!img->nlayers)
		return dc_error(ctx, DC_EINVAL, "the image has no layers");
	comp = o->compress == DC_COMPRESS_GZIP ? DC_COMP_GZIP :
	       o->compress == DC_COMPRESS_ZSTD ? DC_COMP_ZSTD : DC_COMP_NONE;
	if ((err = dc__writer_begin(w)) < 0 ||
	    (err = dc__spool_dir(ctx, dest, &spooldir)) < 0 ||
	    (err = dc__writer_put_blob_open(w, &fd)) < 0)
		goto out;
	dc__reader_blobs(r, &bs);
	if ((err = dc__squash(&bs, img, 0, img->nlayers, comp, o, spooldir,
			      strcmp(dest, "-") ? dest : "stdout", 1, &fd,
			      &d)) < 0 ||
	    (err = dc__writer_put_blob_close(w, &d)) < 0)
		goto out;
	dc__writer_set_images(w, &img, 1, NULL, 0);
	if ((err = dc__writer_put_image(w, img)) < 0)
		goto out;
	err = dc__writer_commit(w);
out:
	if (err < 0)
		dc__writer_abort(w);
	free(spooldir);
	return err;
}

/* Does DEST name R's source? */
static int is_source(const struct dc_reader *r, const char *dest)
{
	if (r->ops == &dc__reader_multi)
		return dc__multi_is_dest(r, dest, is_source);
	return !r->src->mem && !r->src->is_stdin &&
	       (!strcmp(r->src->label, dest) || same_file(r->src->label, dest));
}

/* What can be refused before anything is read or written. */
static int check_target(struct dc_ctx *ctx, struct dc_reader *r,
			const struct dc_set *set,
			const struct dc_writer_ops *ops, const char *format,
			const char *dest)
{
	if (!ops)
		return dc_error(ctx, DC_EINVAL, "'%s': unknown output format",
				format);
	if (!strcmp(dest, "-") && !(ops->caps & DC_WCAP_STDOUT))
		return dc_error(ctx, DC_EINVAL,
				"'%s' output is a directory and cannot go to stdout",
				format);
	if (!set->n)
		return dc_error(ctx, DC_EFORMAT, "the source holds no images");
	if (strcmp(dest, "-") && is_source(r, dest))
		return dc_error(ctx, DC_EINVAL,
				"'%s': the destination is the source", dest);
	return 0;
}

/* What a file name's extension says about its compression: "gzip",
 * "zstd", "xz", "bzip2", "none" (.tar), or NULL (it does not say). */
static const char *name_comp(const char *dest)
{
	static const struct { const char *ext, *comp; } exts[] = {
		{ ".tar", "none" }, { ".gz", "gzip" }, { ".tgz", "gzip" },
		{ ".zst", "zstd" }, { ".zstd", "zstd" }, { ".tzst", "zstd" },
		{ ".xz", "xz" }, { ".txz", "xz" }, { ".bz2", "bzip2" },
	};
	size_t n = strlen(dest), i;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t k = strlen(exts[i].ext);

		if (n > k && !strcmp(dest + n - k, exts[i].ext))
			return exts[i].comp;
	}
	return NULL;
}

/*
 * Notes on an output compression its consumers may not expect. It
 * belongs where the output compression is decided, and stands alone so
 * that it can move there.
 */
static void note_output_compression(struct dc_ctx *ctx,
				    const struct dc_writer_ops *ops,
				    const char *format, const char *dest,
				    const struct dc_write_opts *o)
{
	const char *want, *named;

	/* moby reads zstd layers from v23.0.0 on (pkg/archive
	 * DetectCompression); 20.10's docker load fails on them with
	 * "ApplyLayer ... invalid tar header" */
	if ((ops->caps & DC_WCAP_DOCKER_TYPES) &&
	    o->compress == DC_COMPRESS_ZSTD)
		dc__notice(ctx, "'%s': zstd layers load only in Docker 23.0 and later (Docker 20.10 fails with 'invalid tar header'); --compress gzip or none loads in every Docker",
			   format);
	/* rootfs: --compress compresses the whole tar */
	if (!(ops->caps & DC_WCAP_FLAT) || dc__dest_is_stream(dest) ||
	    !(named = name_comp(dest)))
		return;
	want = o->compress == DC_COMPRESS_GZIP ? "gzip" :
	       o->compress == DC_COMPRESS_ZSTD ? "zstd" : "none";
	if (!strcmp(want, named))
		return;
	if (!strcmp(want, "none"))
		dc__notice(ctx, "'%s': the name says %s, but the rootfs tar is not compressed (--compress %s compresses it whole)",
			   dest, named, strcmp(named, "zstd") ? "gzip" : "zstd");
	else
		dc__notice(ctx, "'%s': --compress %s compresses the whole rootfs tar, but the name says %s (name it .tar.%s)",
			   dest, want,
			   strcmp(named, "none") ? named : "uncompressed",
			   strcmp(want, "gzip") ? "zst" : "gz");
}

/*
 * A split set: the whole written under a temp name beside DEST, then cut
 * into parts from its end (so that it takes little more room than the
 * whole), which are renamed into place last.
 */
static int write_split(struct dc_ctx *ctx, struct dc_reader *r,
		       const struct dc_set *set, const char *format,
		       const char *dest, const struct dc_write_opts *opts)
{
	const struct dc_writer_ops *ops = dc__writer_find(format);
	struct dc_write_opts o = *opts;
	struct dc_buf tmp = DC_BUF_INIT;
	int err;

	if (ops && !(ops->caps & DC_WCAP_STDOUT))
		return dc_error(ctx, DC_EINVAL,
				"--split: '%s' is a directory; split a tar format",
				format);
	if (!strcmp(dest, "-"))
		return dc_error(ctx, DC_EINVAL, "--split writes files, not stdout");
	o.split_size = 0;
	if ((err = dc__buf_addf(ctx, &tmp, "%s.whole-%ld", dest,
				(long)getpid())) < 0 ||
	    (err = dc__buf_add(ctx, &tmp, "", 1)) < 0)
		goto out;
	if ((err = dc_write(ctx, r, set, format, tmp.data, &o)) < 0)
		goto out;
	err = dc__parts_split(ctx, tmp.data, dest, opts->split_size);
	if (err < 0)
		unlink(tmp.data);
out:
	dc__buf_release(&tmp);
	return err;
}

int dc_write(struct dc_ctx *ctx, struct dc_reader *r,
	     const struct dc_set *set, const char *format, const char *dest,
	     const struct dc_write_opts *opts)
{
	static const struct dc_write_opts defaults;
	const struct dc_writer_ops *ops = dc__writer_find(format);
	const struct dc_image **srcs = NULL;
	struct dc_writer w;
	size_t nsrcs = 0;
	int err;

	memset(&w, 0, sizeof(w));
	if (!opts)
		opts = &defaults;
	if (opts->exclude && ops && !(ops->caps & DC_WCAP_DELTA))
		return dc_error(ctx, DC_EINVAL,
				"'%s' cannot hold a delta (write oci, oci-archive or docker-archive)",
				format);
	if (opts->split_size)
		return write_split(ctx, r, set, format, dest, opts);
	if ((err = check_target(ctx, r, set, ops, format, dest)) < 0)
		return err;
	note_output_compression(ctx, ops, format, dest, opts);
	/* single-platform targets take one image per index */
	if ((err = dc__select_for_target(ctx, set,
					 !!(ops->caps & DC_WCAP_MULTI_PLATFORM),
					 &srcs, &nsrcs)) < 0)
		goto out;
	if ((ops->caps & DC_WCAP_FLAT) ? nsrcs != 1 :
	    nsrcs > 1 && !(ops->caps & DC_WCAP_MULTI_IMAGE)) {
		err = dc_error(ctx, DC_EINVAL,
			       "'%s' holds one image, the selection has %zu (use --image)",
			       format, nsrcs);
		goto out;
	}
	if ((err = dc__writer_init(ctx, &w, ops, dest)) < 0)
		goto out;
	if (ops->caps & DC_WCAP_FLAT)
		err = write_flat(&w, r, srcs[0], dest, opts);
	else
		err = write_layout(&w, r, srcs, nsrcs, dest, opts);
out:
	dc__writer_release(&w);
	free(srcs);
	return err;
}
