/*
 * A layer as a tar stream, for the analysis: the one file that opens
 * blobs, so that a move of the blob layer touches only it.
 *
 * Every layer is verified (digest, size, diff_id) as it streams. An
 * uncompressed one is read raw and hashed here, and a thread reading two
 * layers pairs their hashing (dc__an_layer_pair): with the SHA
 * extensions two streams hash in about the time of one
 * (dc__hash_update2).
 */
#include "analyze/analyze.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include "banned.h"

#define AN_READ (256u << 10)

struct an_layer {
	const struct dc_bsrc *bs;
	struct dc_ctx *ctx;
	const struct dc_desc *d;
	struct dc_stream *s;
	struct archive *a;
	int err;
	int64_t bytes;
	/* uncompressed: the blob's hash, and the bytes read but not hashed */
	struct dc_hash *bh;
	const unsigned char *pend;
	size_t npend;
	unsigned char buf[AN_READ];
};

void dc__an_source_clone(const struct dc_bsrc *bs, struct an_source *out,
			 const volatile sig_atomic_t *stop)
{
	dc__bsrc_clone(bs, &out->ctx, &out->bs, stop);
}

const char *dc__an_source_label(const struct dc_reader *r)
{
	return r->src->label;
}

static void flush(struct an_layer *l)
{
	if (l->bh && l->npend)
		dc__hash_update(l->bh, l->pend, l->npend);
	l->npend = 0;
}

static la_ssize_t an_read(struct archive *a, void *arg, const void **p)
{
	struct an_layer *l = arg;
	ssize_t got;

	(void)a;
	flush(l);
	if ((got = dc__stream_read(l->s, l->buf, sizeof(l->buf))) < 0) {
		l->err = (int)got;
		return -1;
	}
	l->bytes += got;
	l->pend = l->buf;
	l->npend = (size_t)got;
	*p = l->buf;
	return got;
}

int dc__an_layer_open(const struct dc_bsrc *bs, const struct dc_desc *d,
		      struct an_layer **out)
{
	struct dc_ctx *ctx = bs->ctx;
	struct an_layer *l;
	int err;

	*out = NULL;
	if (!(l = dc__calloc(ctx, 1, sizeof(*l))))
		return DC_ENOMEM;
	l->bs = bs;
	l->ctx = ctx;
	l->d = d;
	if (d->comp == DC_COMP_NONE) {
		if ((err = dc__hash_new(ctx, &l->bh)) < 0 ||
		    (err = dc__blob_open_tar(bs, d, 0, &l->s)) < 0)
			goto fail;
	} else if ((err = dc__blob_open_tar(bs, d, 1, &l->s)) < 0) {
		goto fail;
	}
	if (!(l->a = archive_read_new())) {
		err = dc__enomem(ctx);
		goto fail;
	}
	archive_read_support_format_tar(l->a);
	archive_read_support_format_gnutar(l->a);
	archive_read_support_format_empty(l->a);
	archive_read_set_callback_data(l->a, l);
	archive_read_set_read_callback(l->a, an_read);
	if (archive_read_open1(l->a) != ARCHIVE_OK) {
		err = l->err ? l->err :
		      dc_error(ctx, DC_ECORRUPT, "layer '%s': not a tar: %s",
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

ssize_t dc__an_layer_data(struct an_layer *l, const void **p)
{
	size_t n;
	la_int64_t off;
	int r = archive_read_data_block(l->a, p, &n, &off);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
		if (l->err)
			return l->err;
		return dc_error(l->ctx, DC_ECORRUPT, "layer '%s': %s",
				l->d->digest, archive_error_string(l->a));
	}
	return (ssize_t)n;
}

int64_t dc__an_layer_bytes(const struct an_layer *l)
{
	return l->bytes;
}

void dc__an_layer_pair(struct an_layer *a, struct an_layer *b)
{
	size_t k = a->npend < b->npend ? a->npend : b->npend;

	/* the longer one's rest waits for its partner's next block */
	if (!a->bh || !b->bh || !k)
		return;
	dc__hash_update2(a->bh, a->pend, k, b->bh, b->pend, k);
	a->pend += k;
	a->npend -= k;
	b->pend += k;
	b->npend -= k;
}

int dc__an_layer_close(struct an_layer *l, int64_t *tar_bytes)
{
	int err = 0;

	if (!l)
		return 0;
	if (tar_bytes && l->s) {
		ssize_t got;

		/* the rest (padding), where the digests are checked */
		flush(l);
		while ((got = dc__stream_read(l->s, l->buf, sizeof(l->buf))) > 0) {
			l->bytes += got;
			if (l->bh)
				dc__hash_update(l->bh, l->buf, (size_t)got);
		}
		if (got < 0)
			err = (int)got;
		*tar_bytes = l->bytes;
		if (!err && l->bh) {
			char dg[DC_DIGEST_MAX];

			dc__hash_final(l->bh, dg);
			err = dc__blob_verdict(l->ctx, l->bs, l->d,
					       (uint64_t)l->bytes, dg);
		}
	}
	if (l->a)
		archive_read_free(l->a);
	dc__stream_close(l->s);
	dc__hash_free(l->bh);
	free(l);
	return err;
}
