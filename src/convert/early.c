/*
 * Early sends: a writer that sends blobs from worker threads (a
 * registry) gets each layer the plan recompresses or squashes as soon
 * as its spool is complete, while the plan goes on with the next one.
 * A push of uncompressed layers (a docker save) otherwise compresses
 * every layer and only then uploads them all: the upload and the
 * registry's own work on it (it hashes and stores every byte) would
 * follow the compression instead of running beside it.
 *
 * Each blob is sent on a thread of its own, at most DC_XFER_MAX at once
 * (a new one waits for the oldest); dc__early_wait() joins them all and
 * gives the first failure. The threads read the spool file, which the
 * plan keeps open until it is released, and report to contexts of
 * their own: no progress (the plan's phase is recompression).
 */
#include "convert/convert.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct esend {
	pthread_t th;
	int started;
	struct dc_ctx tctx;
	struct dc_bsrc bs;
	int (*send)(void *arg, struct dc_ctx *tctx, struct dc_stream *in);
	void *arg;
	int fd;
	uint64_t size;
	struct dc_err err;
	size_t *failed;			/* the first failure, see dc_early */
	size_t idx;			/* this send's place in e->s */
};

struct dc_early {
	struct dc_writer *w;
	struct dc_bsrc bs;
	volatile sig_atomic_t cancel;	/* failed elsewhere: stop */
	size_t failed;			/* 1 + the first failed send's index,
					 * set once its err is complete */
	struct esend *s;
	size_t n, cap;
	size_t joined;			/* s[0..joined) are over */
};

int dc__early_new(struct dc_writer *w, const struct dc_bsrc *bs,
		  struct dc_early **out)
{
	struct dc_early *e = dc__calloc(w->ctx, 1, sizeof(*e));

	*out = e;
	if (!e)
		return DC_ENOMEM;
	e->w = w;
	e->bs = *bs;
	return 0;
}

static void *sender(void *arg)
{
	struct esend *s = arg;
	struct dc_stream *in = NULL;
	int err;

	if ((err = dc__stream_fd_range(&s->tctx, &in, s->fd, 0, s->size,
				       0)) == 0) {
		err = s->send(s->arg, &s->tctx, in);
		if (!err)
			err = dc__stream_drain(in);
		dc__stream_close(in);
	}
	if (err < 0) {
		size_t none = 0;

		dc__err_save(&s->err, err, &s->tctx);
		__atomic_compare_exchange_n(s->failed, &none, s->idx + 1, 0,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void join_one(struct dc_early *e)
{
	struct esend *s = &e->s[e->joined++];

	if (s->started)
		pthread_join(s->th, NULL);
	s->started = 0;
}

int dc__early_send(struct dc_early *e, struct pblob *b)
{
	struct dc_writer *w = e->w;
	struct esend *s;
	size_t f;
	int err;

	if (b->kind != B_SPOOL || b->sent)
		return 0;
	/* a send that failed already fails the push: stop compressing */
	if ((f = __atomic_load_n(&e->failed, __ATOMIC_ACQUIRE)))
		return dc__err_restore(w->ctx, &e->s[f - 1].err);
	/* the registry has it (a push run again): nothing to send */
	if ((err = dc__writer_has_blob(w, b->out)) != 0) {
		if (err > 0)
			b->sent = 1;
		return err < 0 ? err : 0;
	}
	if (e->n - e->joined >= DC_XFER_MAX)
		join_one(e);
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct esend *ns;

		/* the running threads hold pointers into e->s: grow it
		 * only with every one of them joined */
		while (e->joined < e->n)
			join_one(e);
		if (!(ns = dc__reallocarray(w->ctx, e->s, cap, sizeof(*ns))))
			return DC_ENOMEM;
		e->s = ns;
		e->cap = cap;
	}
	s = &e->s[e->n];
	memset(s, 0, sizeof(*s));
	if ((err = dc__writer_reserve_send(w, b->out, &s->send, &s->arg)) != 0)
		return err < 0 ? err : 0;	/* 1: in the write phase */
	dc__bsrc_clone(&e->bs, &s->tctx, &s->bs, &e->cancel);
	s->fd = b->fd;
	s->size = (uint64_t)b->out->size;
	s->failed = &e->failed;
	s->idx = e->n;
	e->n++;
	if (pthread_create(&s->th, NULL, sender, s) != 0) {
		/* no thread: send it here, now */
		sender(s);
	} else {
		s->started = 1;
	}
	b->sent = 1;
	return 0;
}

int dc__early_wait(struct dc_early *e, struct dc_ctx *ctx)
{
	size_t i;

	if (!e)
		return 0;
	while (e->joined < e->n)
		join_one(e);
	for (i = 0; i < e->n; i++)
		if (e->s[i].err.code)
			return dc__err_restore(ctx, &e->s[i].err);
	return 0;
}

void dc__early_free(struct dc_early *e)
{
	if (!e)
		return;
	e->cancel = 1;
	while (e->joined < e->n)
		join_one(e);
	free(e->s);
	free(e);
}
