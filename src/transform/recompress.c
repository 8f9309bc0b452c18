/*
 * Recompression: decode a layer and encode it again, spooling the result
 * to a temp file because a tar member needs its size before its data
 * (DESIGN.md §4).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

struct tc {
	struct dc_out out;
	struct dc_stream *in;	/* its hashing deferred: done along ours */
	struct dc_hash *h;	/* of the output */
	struct dc_hash *dh;	/* of the uncompressed tar: the diff_id */
	struct dc_enc *enc;
};

static int to_file(void *arg, const void *p, size_t n)
{
	struct tc *t = arg;

	/* the output and the input it came from, hashed at once */
	dc__blob_hash_along(t->in, t->h, p, n);
	return dc__out_write(&t->out, p, n);
}

static int to_enc(void *arg, const void *p, size_t n)
{
	struct tc *t = arg;

	if (t->dh)
		dc__hash_update(t->dh, p, n);
	if (!t->enc)
		return to_file(t, p, n);
	return dc__enc_push(t->enc, p, n, to_file, t);
}

int dc__transcode(struct dc_reader *r, const struct dc_desc *d,
		  enum dc_comp to, const struct dc_write_opts *opts,
		  const char *spooldir, struct dc_enc **cache, int *fd,
		  struct dc_desc *out)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_stream *in = NULL;
	struct dc_dec *dec = NULL;
	struct tc t;
	char *buf = NULL;
	int err, tmp = -1, out_ok = 0;

	*fd = -1;
	memset(&t, 0, sizeof(t));
	if ((err = dc__tmp_anon(ctx, spooldir, &tmp)) < 0)
		goto out;
	if ((err = dc__out_init(ctx, &t.out, tmp, "spool file")) < 0)
		goto out;
	out_ok = 1;
	/* an uncompressed source is its own diff_id, checked as its digest
	 * (the verifying stream): hashing it twice would cost a core */
	if ((err = dc__hash_new(ctx, &t.h)) < 0 ||
	    ((d->comp != DC_COMP_NONE || strcmp(d->digest, d->diff_id)) &&
	     (err = dc__hash_new(ctx, &t.dh)) < 0))
		goto out;
	if (to != DC_COMP_NONE && cache &&
	    dc__enc_reuse(*cache, ctx, to, opts ? opts->level : 0,
			  opts ? opts->threads : 0)) {
		t.enc = *cache;
		*cache = NULL;
	} else if (to != DC_COMP_NONE &&
		   (err = dc__enc_new(ctx, &t.enc, to, opts ? opts->level : 0,
				      opts ? opts->threads : 0)) < 0) {
		goto out;
	}
	if (d->comp != DC_COMP_NONE &&
	    (err = dc__dec_new(ctx, &dec, d->comp, d->path)) < 0)
		goto out;
	if ((err = dc__blob_open(r, d, DC_BLOB_DEFER, &in)) < 0)
		goto out;
	t.in = in;
	if (!(buf = malloc(1 << 20))) {
		err = dc__enomem(ctx);
		goto out;
	}
	for (;;) {
		ssize_t got = dc__stream_read(in, buf, 1 << 20);

		if (got < 0) {
			err = (int)got;
			goto out;
		}
		if (!got)
			break;
		err = dec ? dc__dec_push(dec, buf, (size_t)got, to_enc, &t)
			  : to_enc(&t, buf, (size_t)got);
		if (err < 0)
			goto out;
	}
	if (dec && (err = dc__dec_finish(dec)) < 0)
		goto out;
	if (t.enc && (err = dc__enc_finish(t.enc, to_file, &t)) < 0)
		goto out;
	if ((err = dc__out_flush(&t.out)) < 0)
		goto out;
	memset(out, 0, sizeof(*out));
	dc__hash_final(t.h, out->digest);
	out->size = (int64_t)t.out.written;
	out->comp = to;
	if (t.dh)
		dc__hash_final(t.dh, out->diff_id);
	else
		memcpy(out->diff_id, d->diff_id, DC_DIGEST_MAX);
	if (d->diff_id[0] && strcmp(out->diff_id, d->diff_id)) {
		err = dc_error(ctx, DC_EDIGEST,
			       "'%s': diff_id mismatch: uncompressed content is %s, config says %s",
			       d->path, out->diff_id, d->diff_id);
		goto out;
	}
	*fd = tmp;
	tmp = -1;
	if (cache && t.enc) {	/* finished cleanly: keep it for the next */
		dc__enc_free(*cache);
		*cache = t.enc;
		t.enc = NULL;
	}
out:
	free(buf);
	dc__stream_close(in);
	dc__dec_free(dec);
	dc__enc_free(t.enc);
	dc__hash_free(t.h);
	dc__hash_free(t.dh);
	if (out_ok)
		dc__out_release(&t.out);
	if (tmp >= 0)
		close(tmp);
	return err;
}
