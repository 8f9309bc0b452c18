/*
 * The tar layout base, shared by the tar writers (oci-archive,
 * docker-archive, docker-legacy): every blob a member of one
 * deterministic tar, named by the writer's callback, its data streamed,
 * copied by the kernel, left to the copy pool in a reserved gap, or
 * written in place by a squash (put_blob_open).
 */
#include "writers/writers.h"

#include "banned.h"

int dc__tarlayout_member(struct dc_writer *w, const char *name,
			 uint64_t size)
{
	struct dc_tarlayout *t = w->priv;
	int err;

	/* a squash: as put_blob_open() and put_blob_close() write it */
	if (w->align_next)
		return (err = dc__tarw_align(&t->f.o, DC_TAR_ALIGN)) < 0 ? err :
		       dc__tarw_header1(&t->f.o, name, size);
	return dc__tarw_header(&t->f.o, name, DC_M_FILE, size, 0644, NULL);
}

int dc__tarlayout_put_blob(struct dc_writer *w, struct dc_stream *in,
			   const struct dc_desc *want)
{
	struct dc_tarlayout *t = w->priv;
	int err;

	if ((err = t->ops->header(w, want)) != 0)
		return err < 0 ? err : 0;	/* no place for it: skipped */
	if ((err = dc__copy_stream(&t->f.o, in, want->size, want->digest)) < 0)
		return err;
	return dc__tarw_pad(&t->f.o, (uint64_t)want->size);
}

/* A spool (recompressed or squashed) into a pipe: copied by the kernel. */
int dc__tarlayout_put_blob_range(struct dc_writer *w, int fd, uint64_t off,
				 const struct dc_desc *want)
{
	struct dc_tarlayout *t = w->priv;
	int err;

	if ((err = t->ops->header(w, want)) != 0)
		return err < 0 ? err : 0;
	if ((err = dc__out_copy_range(&t->f.o, fd, off, (uint64_t)want->size)) < 0)
		return err;
	return dc__tarw_pad(&t->f.o, (uint64_t)want->size);
}

/*
 * A tar file of our own (not a pipe): the header now, the data later, in
 * the gap left for it, by the copy pool (several layers at once). The
 * bytes are those put_blob() writes. (A squashed layer does not come
 * here: put_blob_open() has it written in place.)
 */
int dc__tarlayout_reserve_blob(struct dc_writer *w, const struct dc_desc *want,
			       int *fd, uint64_t *off, int *own)
{
	struct dc_tarlayout *t = w->priv;
	int err;

	if (!t->f.tmp)
		return 1;
	if ((err = t->ops->header(w, want)) != 0)
		return err;	/* no place for it: put_blob() skips it */
	return dc__tarw_reserve(&t->f, (uint64_t)want->size, fd, off, own);
}

/* The blob comes straight from the squash: a header block to fill in
 * once its digest and size are known, and its bytes after it. */
int dc__tarlayout_put_blob_open(struct dc_writer *w, int *fd)
{
	struct dc_tarlayout *t = w->priv;

	return dc__tarw_open_member(&t->f, DC_TAR_ALIGN, &t->open_from,
				    &t->open_at, fd);
}

int dc__tarlayout_put_blob_close(struct dc_writer *w, const struct dc_desc *d)
{
	struct dc_tarlayout *t = w->priv;
	int err;

	if (!d)
		return dc__out_truncate(&t->f.o, t->open_from);
	if ((err = t->ops->close(w, d, t->open_at)) < 0)
		return err;
	dc__out_adopt(&t->f.o, (uint64_t)d->size);
	return dc__tarw_pad(&t->f.o, (uint64_t)d->size);
}
