/*
 * Recompression: decode a layer and encode it again, spooling the result
 * to a temp file because a tar member needs its size before its data.
 */
#include "transform/transform.h"
#include "blob/blob.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

/*
 * An uncompressed layer's hashes, on a thread of their own: the input
 * (its digest is its diff_id) and the output, two streams at once where
 * both have bytes (dc__hash_update2), each alone otherwise. The thread
 * that feeds the compressor then only reads and writes, as zstd's own
 * front end does, and the hashing fills the moments when a core would
 * wait for the compressor's next job. On 2 cores, for the bench image:
 * zstd 2.57 -> 2.51 s (cores busy 1.83 -> 1.87 of 2, same CPU), gzip
 * 1.67 -> 1.57 s. What is hashed is the buffer the compressor reads:
 * the bytes are read once.
 */
#define HQ_N 4			/* input buffers */
#define HQ_CHUNK (1u << 20)
#define HQ_OUT (1u << 20)	/* copy of the output, a ring */
#define HQ_STEP (256u << 10)	/* input hashed alone: then look again */

struct hq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *in;	/* HQ_N buffers of HQ_CHUNK */
	size_t inlen[HQ_N];
	uint64_t iw, ir;	/* input buffers posted, hashed */
	size_t ioff;		/* bytes hashed of buffer ir */
	unsigned char *out;
	uint64_t ow, orr;	/* output bytes posted, hashed */
	int end, stop;
	struct dc_hash *hin, *hout;
};

static void *hq_main(void *arg)
{
	struct hq *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		const unsigned char *ip = NULL, *op = NULL;
		size_t ni = 0, no = 0, ki, ko;

		while (!q->stop && q->ir == q->iw && q->orr == q->ow && !q->end)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop || (q->ir == q->iw && q->orr == q->ow))
			break;
		if (q->ir < q->iw) {
			ip = q->in + (q->ir % HQ_N) * HQ_CHUNK + q->ioff;
			ni = q->inlen[q->ir % HQ_N] - q->ioff;
		}
		if (q->orr < q->ow) {
			op = q->out + q->orr % HQ_OUT;
			no = q->ow - q->orr;
			if (no > HQ_OUT - q->orr % HQ_OUT)
				no = HQ_OUT - q->orr % HQ_OUT;
		}
		pthread_mutex_unlock(&q->mu);
		if (ni && no) {
			ki = ko = ni < no ? ni : no;
			dc__hash_update2(q->hin, ip, ki, q->hout, op, ko);
		} else if (no) {
			ki = 0;
			ko = no;
			dc__hash_update(q->hout, op, ko);
		} else {
			ki = ni < HQ_STEP ? ni : HQ_STEP;
			ko = 0;
			dc__hash_update(q->hin, ip, ki);
		}
		pthread_mutex_lock(&q->mu);
		q->orr += ko;
		if (ki && (q->ioff += ki) == q->inlen[q->ir % HQ_N]) {
			q->ir++;
			q->ioff = 0;
		}
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

struct tc {
	struct dc_out out;
	struct hq *q;		/* hashes on their own thread, or NULL */
	struct dc_stream *in;	/* its hashing deferred: done along ours */
	struct dc_hash *h;	/* of the output */
	struct dc_hash *dh;	/* of the uncompressed tar: the diff_id */
	struct dc_enc *enc;
};

static int to_file(void *arg, const void *p, size_t n)
{
	struct tc *t = arg;
	struct hq *q = t->q;
	const unsigned char *b = p;
	size_t left = n;

	if (!q) {
		/* the output and the input it came from, hashed at once */
		dc__blob_hash_along(t->in, t->h, p, n);
		return dc__out_write(&t->out, p, n);
	}
	while (left) {	/* a copy for the hashing thread */
		size_t k, at;

		pthread_mutex_lock(&q->mu);
		while (q->ow - q->orr == HQ_OUT)
			pthread_cond_wait(&q->cv, &q->mu);
		k = HQ_OUT - (size_t)(q->ow - q->orr);
		at = q->ow % HQ_OUT;
		pthread_mutex_unlock(&q->mu);
		if (k > HQ_OUT - at)
			k = HQ_OUT - at;
		if (k > left)
			k = left;
		memcpy(q->out + at, b, k);
		pthread_mutex_lock(&q->mu);
		q->ow += k;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		b += k;
		left -= k;
	}
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

/* Read IN into the input buffers, each hashed on Q's thread as it is
 * compressed; *N: the bytes read. */
static int feed_hq(struct tc *t, struct dc_stream *in, uint64_t *n)
{
	struct hq *q = t->q;

	for (;;) {
		unsigned char *b;
		ssize_t got;
		int err;

		pthread_mutex_lock(&q->mu);
		while (q->iw - q->ir == HQ_N)
			pthread_cond_wait(&q->cv, &q->mu);
		b = q->in + (q->iw % HQ_N) * HQ_CHUNK;
		pthread_mutex_unlock(&q->mu);
		if ((got = dc__stream_read(in, b, HQ_CHUNK)) <= 0)
			return (int)got;
		*n += (uint64_t)got;
		dc__progress(t->out.ctx, (uint64_t)got);
		/* hashed while the compressor copies it: both only read it */
		pthread_mutex_lock(&q->mu);
		q->inlen[q->iw % HQ_N] = (size_t)got;
		q->iw++;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		if ((err = dc__enc_push(t->enc, b, (size_t)got, to_file, t)) < 0)
			return err;
	}
}

/*
 * Uncompressed layer D into T's compressor, its hashes on a thread of
 * their own (above): T's output hash, and the input's, checked against
 * D at the end.
 */
static int transcode_hq(struct tc *t, const struct dc_bsrc *bs,
			const struct dc_desc *d)
{
	struct dc_ctx *ctx = bs->ctx;
	struct dc_stream *in = NULL;
	struct hq *q;
	pthread_t th;
	uint64_t n = 0;
	char got[DC_DIGEST_MAX];
	int err;

	if (!(q = dc__calloc(ctx, 1, sizeof(*q))))
		return DC_ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->hout = t->h;
	if ((err = dc__hash_new(ctx, &q->hin)) < 0)
		goto out;
	if (!(q->in = dc__malloc(NULL, (size_t)HQ_N * HQ_CHUNK)) ||
	    !(q->out = dc__malloc(NULL, HQ_OUT))) {
		err = dc__enomem(ctx);
		goto out;
	}
	if ((err = dc__blob_open_tar(bs, d, 0, &in)) < 0)
		goto out;
	if (!dc__threads_start(&th, 1, hq_main, q)) {
		err = dc_error(ctx, DC_ENOMEM, "cannot start a thread");
		goto out;
	}
	t->q = q;
	err = feed_hq(t, in, &n);
	if (!err)
		err = dc__enc_finish(t->enc, to_file, t);
	/* stopped on a failure, else left to hash what is posted */
	pthread_mutex_lock(&q->mu);
	q->stop = err < 0;
	q->end = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	dc__threads_join(&th, 1);
	t->q = NULL;
	if (!err) {
		dc__hash_final(q->hin, got);
		err = dc__blob_verdict(ctx, bs, d, n, got);
	}
out:
	dc__stream_close(in);
	dc__hash_free(q->hin);
	free(q->in);
	free(q->out);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
	return err;
}

int dc__transcode(const struct dc_bsrc *bs, const struct dc_desc *d,
		  enum dc_comp to, const struct dc_write_opts *opts,
		  const char *spooldir, struct dc_enc **cache, int *fd,
		  struct dc_desc *out)
{
	struct dc_ctx *ctx = bs->ctx;
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
	if (!dec && !t.dh && t.enc) {
		/* uncompressed into a compressor: hashes on a thread */
		if ((err = transcode_hq(&t, bs, d)) < 0)
			goto out;
		goto done;
	}
	if ((err = dc__blob_open(bs, d, DC_BLOB_DEFER, &in)) < 0)
		goto out;
	t.in = in;
	if (!(buf = dc__malloc(NULL, 1 << 20))) {
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
		dc__progress(ctx, (uint64_t)got);
		err = dec ? dc__dec_push(dec, buf, (size_t)got, to_enc, &t)
			  : to_enc(&t, buf, (size_t)got);
		if (err < 0)
			goto out;
	}
	if (dec && (err = dc__dec_finish(dec)) < 0)
		goto out;
	if (t.enc && (err = dc__enc_finish(t.enc, to_file, &t)) < 0)
		goto out;
done:
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
