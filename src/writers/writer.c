/*
 * Writer core: the registry of writers and the calls into them, each
 * checking first that it comes in the order the vtable's contract sets
 * (writers/writers.h), as libarchive's archive_check_magic does. A call
 * out of order is a bug in decant, not bad input: DC_BUG.
 */
#include "writers/writers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

static const struct dc_writer_ops *const writers[] = {
	&dc__writer_oci,
	&dc__writer_oci_archive,
	&dc__writer_docker_archive,
	&dc__writer_docker_legacy,
	&dc__writer_rootfs,
	&dc__writer_dir,
	&dc__writer_registry,
	NULL
};

const struct dc_writer_ops *dc__writer_find(const char *name)
{
	int i;

	for (i = 0; writers[i]; i++)
		if (!strcmp(writers[i]->name, name))
			return writers[i];
	return NULL;
}

int dc_write_format_known(const char *name)
{
	return dc__writer_find(name) != NULL;
}

/* ------------------------------------------------------------------ */
/* State checks */

#define DC_WRITER_MAGIC 0xdc3717e5u

#define S(x) (1u << (x))

static const char *const state_name[] = {
	[DC_W_NEW] = "new", [DC_W_BLOBS] = "blobs", [DC_W_OPEN] = "blob open",
	[DC_W_IMAGES] = "images", [DC_W_DONE] = "done",
	[DC_W_FAILED] = "failed",
};

static void check(const struct dc_writer *w, unsigned states, const char *fn)
{
	if (!w || w->magic != DC_WRITER_MAGIC)
		DC_BUG("%s: not a writer", fn);
	if ((unsigned)w->state >= sizeof(state_name) / sizeof(state_name[0]) ||
	    !(S(w->state) & states))
		DC_BUG("%s: '%s' writer called in state '%s'", fn, w->ops->name,
		       (unsigned)w->state < sizeof(state_name) / sizeof(state_name[0]) ?
		       state_name[w->state] : "?");
}

/* After a call: ERR < 0 leaves FAILED, else NEXT. */
static int after(struct dc_writer *w, int err, enum dc_writer_state next)
{
	w->state = err < 0 ? DC_W_FAILED : next;
	return err;
}

int dc__writer_init(struct dc_ctx *ctx, struct dc_writer *w,
		    const struct dc_writer_ops *ops, const char *dest)
{
	memset(w, 0, sizeof(*w));
	w->magic = DC_WRITER_MAGIC;	/* abort and release work from here */
	w->state = DC_W_NEW;
	w->ctx = ctx;
	w->ops = ops;
	w->dest = dest;
	if (ops->priv_size && !(w->priv = dc__calloc(ctx, 1, ops->priv_size)))
		return DC_ENOMEM;
	return 0;
}

void dc__writer_release(struct dc_writer *w)
{
	if (!w)
		return;
	free(w->priv);
	w->priv = NULL;
	w->magic = 0;
}

void dc__writer_set_images(struct dc_writer *w,
			   const struct dc_image *const *img, size_t n,
			   const struct dc_index *const *idx, size_t nidx)
{
	check(w, S(DC_W_NEW) | S(DC_W_BLOBS), __func__);
	w->images = img;
	w->nimages = n;
	w->indexes = idx;
	w->nindexes = nidx;
}

int dc__writer_begin(struct dc_writer *w)
{
	check(w, S(DC_W_NEW), __func__);
	return after(w, w->ops->begin(w), DC_W_BLOBS);
}

int dc__writer_put_blob(struct dc_writer *w, struct dc_stream *in,
			const struct dc_desc *want)
{
	check(w, S(DC_W_BLOBS), __func__);
	return after(w, w->ops->put_blob(w, in, want), DC_W_BLOBS);
}

int dc__writer_put_blob_range(struct dc_writer *w, int fd, uint64_t off,
			      const struct dc_desc *want)
{
	check(w, S(DC_W_BLOBS), __func__);
	if (!w->ops->put_blob_range)
		return 1;
	return after(w, w->ops->put_blob_range(w, fd, off, want), DC_W_BLOBS);
}

int dc__writer_put_blob_file(struct dc_writer *w, int fd,
			     const struct dc_desc *want)
{
	check(w, S(DC_W_BLOBS), __func__);
	if (!w->ops->put_blob_file)
		return 1;
	return after(w, w->ops->put_blob_file(w, fd, want), DC_W_BLOBS);
}

int dc__writer_reserve_blob(struct dc_writer *w, const struct dc_desc *want,
			    int *fd, uint64_t *off, int *own)
{
	check(w, S(DC_W_BLOBS), __func__);
	if (!w->ops->reserve_blob)
		return 1;
	return after(w, w->ops->reserve_blob(w, want, fd, off, own),
		     DC_W_BLOBS);
}

int dc__writer_reserve_send(struct dc_writer *w, const struct dc_desc *want,
			    int (**send)(void *, struct dc_ctx *,
					 struct dc_stream *),
			    void **arg)
{
	check(w, S(DC_W_BLOBS), __func__);
	if (!w->ops->reserve_send)
		return 1;
	return after(w, w->ops->reserve_send(w, want, send, arg), DC_W_BLOBS);
}

int dc__writer_put_blob_open(struct dc_writer *w, int *fd)
{
	int err;

	check(w, S(DC_W_BLOBS), __func__);
	if (!w->ops->put_blob_open)
		return 1;
	err = w->ops->put_blob_open(w, fd);
	return after(w, err, err == 0 ? DC_W_OPEN : DC_W_BLOBS);
}

int dc__writer_put_blob_close(struct dc_writer *w, const struct dc_desc *d)
{
	check(w, S(DC_W_OPEN), __func__);
	return after(w, w->ops->put_blob_close(w, d), DC_W_BLOBS);
}

int dc__writer_has_blob(struct dc_writer *w, const struct dc_desc *d)
{
	check(w, S(DC_W_BLOBS), __func__);
	if (!w->ops->has_blob)
		return 0;
	return after(w, w->ops->has_blob(w, d), DC_W_BLOBS);
}

int dc__writer_put_image(struct dc_writer *w, const struct dc_image *img)
{
	check(w, S(DC_W_BLOBS) | S(DC_W_IMAGES), __func__);
	return after(w, w->ops->put_image(w, img), DC_W_IMAGES);
}

int dc__writer_commit(struct dc_writer *w)
{
	check(w, S(DC_W_BLOBS) | S(DC_W_IMAGES), __func__);
	return after(w, w->ops->commit(w), DC_W_DONE);
}

void dc__writer_abort(struct dc_writer *w)
{
	check(w, ~S(DC_W_DONE), __func__);
	if (w->state != DC_W_NEW && w->priv)
		w->ops->abort(w);
	w->state = DC_W_FAILED;
}

/* ------------------------------------------------------------------ */
/* Shared by the writers */

int dc__copy_stream(struct dc_out *o, struct dc_stream *in, int64_t size,
		    const char *label)
{
	struct dc_ctx *ctx = o->ctx;
	char *buf = dc__malloc(NULL, 1 << 20);
	uint64_t n = 0;
	int err = 0;

	if (!buf)
		return dc__enomem(ctx);
	for (;;) {
		ssize_t got = dc__stream_read(in, buf, 1 << 20);

		if (got < 0) {
			err = (int)got;
			break;
		}
		if (!got)
			break;
		n += (uint64_t)got;
		if (size >= 0 && n > (uint64_t)size) {
			err = dc_error(ctx, DC_EDIGEST,
				       "'%s': more than the %lld bytes expected",
				       label, (long long)size);
			break;
		}
		if ((err = dc__out_write(o, buf, (size_t)got)) < 0)
			break;
		if (ctx->progress)
			ctx->progress(ctx->progress_arg, (uint64_t)got, 0, 0, 0);
	}
	if (!err && size >= 0 && n != (uint64_t)size)
		err = dc_error(ctx, DC_EDIGEST,
			       "'%s': %llu bytes, expected %lld", label,
			       (unsigned long long)n, (long long)size);
	free(buf);
	return err;
}

/* Write file NAME under DIRFD (SHOWN in messages) from IN, or from
 * [OFF, OFF+SIZE) of RFD when IN is NULL; closed when written. */
int dc__write_file_at(struct dc_writer *w, int dirfd, const char *name,
			 const char *shown, struct dc_stream *in, int rfd,
			 uint64_t off, int64_t size, const char *label)
{
	struct dc_out o;
	int fd, err;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0)
		return dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, shown,
				strerror(errno));
	if ((err = dc__out_init(w->ctx, &o, fd, w->dest)) == 0) {
		if (in)
			err = dc__copy_stream(&o, in, size, label);
		else
			err = dc__out_copy_range(&o, rfd, off, (uint64_t)size);
		if (!err)
			err = dc__out_flush(&o);
		dc__out_release(&o);
	}
	if (close(fd) < 0 && !err)
		err = dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, shown,
			       strerror(errno));
	return err;
}

int dc__write_mem_at(struct dc_writer *w, int dirfd, const char *name,
			const void *p, size_t n)
{
	struct dc_stream *s;
	int err;

	if ((err = dc__stream_memory(w->ctx, &s, p, n)) < 0)
		return err;
	err = dc__write_file_at(w, dirfd, name, name, s, -1, 0, (int64_t)n, name);
	dc__stream_close(s);
	return err;
}
