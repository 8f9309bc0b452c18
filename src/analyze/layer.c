/*
 * A layer as a tar stream, for the analysis: the one file that opens
 * blobs, so that a move of the blob layer touches only it.
 */
#include "analyze/analyze.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include "banned.h"

#define AN_READ (256u << 10)

struct an_layer {
	struct dc_ctx *ctx;
	const struct dc_desc *d;
	struct dc_stream *s;
	struct archive *a;
	int err;
	int64_t bytes;
	char buf[AN_READ];
};

static la_ssize_t an_read(struct archive *a, void *arg, const void **p)
{
	struct an_layer *l = arg;
	ssize_t got = dc__stream_read(l->s, l->buf, sizeof(l->buf));

	(void)a;
	if (got < 0) {
		l->err = (int)got;
		return -1;
	}
	l->bytes += got;
	*p = l->buf;
	return got;
}

int dc__an_layer_open(struct dc_reader *r, const struct dc_desc *d,
		      struct an_layer **out)
{
	struct an_layer *l;
	int err;

	*out = NULL;
	if (!(l = dc__calloc(r->ctx, 1, sizeof(*l))))
		return DC_ENOMEM;
	l->ctx = r->ctx;
	l->d = d;
	/* verified: bad input is refused as convert refuses it */
	if ((err = dc__layer_open_tar(r, d, 1, &l->s)) < 0)
		goto fail;
	if (!(l->a = archive_read_new())) {
		err = dc__enomem(r->ctx);
		goto fail;
	}
	archive_read_support_format_tar(l->a);
	archive_read_support_format_gnutar(l->a);
	archive_read_support_format_empty(l->a);
	archive_read_set_callback_data(l->a, l);
	archive_read_set_read_callback(l->a, an_read);
	if (archive_read_open1(l->a) != ARCHIVE_OK) {
		err = l->err ? l->err :
		      dc_error(r->ctx, DC_ECORRUPT, "layer '%s': not a tar: %s",
			       d->digest, archive_error_string(l->a));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	dc__an_layer_close(l, NULL);
	return err;
}

int dc__an_layer_next(struct an_layer *l, struct archive_entry **e)
{
	int r = archive_read_next_header(l->a, e);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return 1;
	if (l->err)
		return l->err;
	return dc_error(l->ctx, DC_ECORRUPT, "layer '%s': %s", l->d->digest,
			archive_error_string(l->a));
}

ssize_t dc__an_layer_data(struct an_layer *l, void *buf, size_t n)
{
	la_ssize_t got = archive_read_data(l->a, buf, n);

	if (got >= 0)
		return got;
	if (l->err)
		return l->err;
	return dc_error(l->ctx, DC_ECORRUPT, "layer '%s': %s", l->d->digest,
			archive_error_string(l->a));
}

int dc__an_layer_close(struct an_layer *l, int64_t *tar_bytes)
{
	int err = 0;

	if (!l)
		return 0;
	if (tar_bytes && l->s) {
		ssize_t got;

		/* the rest (padding), where the verifier checks */
		while ((got = dc__stream_read(l->s, l->buf, sizeof(l->buf))) > 0)
			l->bytes += got;
		if (got < 0)
			err = (int)got;
		*tar_bytes = l->bytes;
	}
	if (l->a)
		archive_read_free(l->a);
	dc__stream_close(l->s);
	free(l);
	return err;
}
