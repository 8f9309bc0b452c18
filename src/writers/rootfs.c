/*
 * "rootfs": an image's merged filesystem as one tar, as `docker export`
 * gives it (without the container's init files). The writer places one
 * blob, the squash of all layers, which the caller writes straight into
 * the temp file that becomes DEST (put_blob_open); nothing else.
 */
#include "writers/writers.h"

#include "banned.h"

struct rootfs_priv {
	struct dc_outfile f;
};

static int rootfs_begin(struct dc_writer *w)
{
	struct rootfs_priv *p = w->priv;

	return dc__outfile_open(w->ctx, &p->f, w->dest);
}

static int rootfs_put_blob(struct dc_writer *w, struct dc_stream *in,
			   const struct dc_desc *want)
{
	return dc_error(w->ctx, DC_EUNSUPPORTED,
			"'rootfs' output takes the squashed filesystem only");
}

static int rootfs_put_blob_open(struct dc_writer *w, int *fd)
{
	struct rootfs_priv *p = w->priv;

	*fd = p->f.fd;
	return 0;
}

static int rootfs_put_blob_close(struct dc_writer *w, const struct dc_desc *d)
{
	return 0;
}

static int rootfs_put_image(struct dc_writer *w, const struct dc_image *img)
{
	return 0;
}

static int rootfs_commit(struct dc_writer *w)
{
	struct rootfs_priv *p = w->priv;

	return dc__outfile_commit(&p->f);
}

static void rootfs_abort(struct dc_writer *w)
{
	struct rootfs_priv *p = w->priv;

	dc__outfile_abort(&p->f);
}

const struct dc_writer_ops dc__writer_rootfs = {
	.name = "rootfs",
	.priv_size = sizeof(struct rootfs_priv),
	.caps = DC_WCAP_STDOUT | DC_WCAP_FLAT,
	.begin = rootfs_begin,
	.put_blob = rootfs_put_blob,
	.put_blob_open = rootfs_put_blob_open,
	.put_blob_close = rootfs_put_blob_close,
	.put_image = rootfs_put_image,
	.commit = rootfs_commit,
	.abort = rootfs_abort,
};
