/*
 * Parallel gzip with libdeflate: the input is cut into fixed 2 MiB
 * chunks, each compressed on a worker thread as a gzip member of its
 * own, and the members are written in order. A gzip file may hold
 * several members (RFC 1952 §2.2); Go, zlib and gzip(1) read them as
 * one stream. Fixed chunks keep the output deterministic; the cost is
 * a dictionary reset every 2 MiB (well under 1% of size).
 */
#include "internal.h"

#ifdef HAVE_LIBDEFLATE

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define CHUNK (2u << 20)

struct slot {
	unsigned char *in, *out;
	size_t inlen, outlen;
	int state;		/* 0 free, 1 queued, 2 done */
	size_t seq;
};

struct dc_pgzip {
	struct dc_ctx *ctx;
	int level;
	size_t nslots;
	struct slot *slots;
	size_t fill;		/* bytes in the chunk being filled */
	size_t head;		/* next sequence to emit */
	size_t tail;		/* next sequence to queue */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t *th;
	size_t nth;
	int quit;
	int failed;
};

static void *worker(void *arg)
{
	struct dc_pgzip *g = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(g->level);

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct slot *s = NULL;
		size_t i;

		for (i = 0; i < g->nslots; i++)
			if (g->slots[i].state == 1 &&
			    (!s || g->slots[i].seq < s->seq))
				s = &g->slots[i];
		if (!s) {
			if (g->quit)
				break;
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		s->state = 3;	/* taken */
		pthread_mutex_unlock(&g->mu);
		s->outlen = c ? libdeflate_gzip_compress(c, s->in, s->inlen, s->out,
							 libdeflate_gzip_compress_bound(c, CHUNK))
			      : 0;
		pthread_mutex_lock(&g->mu);
		if (!s->outlen)
			g->failed = 1;
		s->state = 2;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	libdeflate_free_compressor(c);
	return NULL;
}

void dc__pgzip_free(struct dc_pgzip *g)
{
	size_t i;

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->quit = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	for (i = 0; i < g->nth; i++)
		pthread_join(g->th[i], NULL);
	for (i = 0; i < g->nslots; i++) {
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	free(g->slots);
	free(g->th);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}

int dc__pgzip_new(struct dc_ctx *ctx, struct dc_pgzip **out, int level,
		  int threads)
{
	struct dc_pgzip *g;
	size_t i, bound;
	struct libdeflate_compressor *probe;

	*out = NULL;
	if (threads < 1)
		threads = 1;
	if (!(g = dc__calloc(ctx, 1, sizeof(*g))))
		return DC_ENOMEM;
	g->ctx = ctx;
	/* default 1: libdeflate's level 1 output is within a few percent of
	 * Go's default gzip (skopeo, docker) at 2-3x its speed; see
	 * BENCHMARKS.md */
	g->level = level ? level : 1;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (!(probe = libdeflate_alloc_compressor(g->level))) {
		dc__pgzip_free(g);
		return dc_error(ctx, DC_EINVAL, "gzip level %d not supported",
				g->level);
	}
	bound = libdeflate_gzip_compress_bound(probe, CHUNK);
	libdeflate_free_compressor(probe);
	g->nslots = (size_t)threads * 2;
	if (!(g->slots = dc__calloc(ctx, g->nslots, sizeof(*g->slots))) ||
	    !(g->th = dc__calloc(ctx, (size_t)threads, sizeof(*g->th))))
		goto nomem;
	for (i = 0; i < g->nslots; i++)
		if (!(g->slots[i].in = malloc(CHUNK)) ||
		    !(g->slots[i].out = malloc(bound)))
			goto nomem;
	for (i = 0; i < (size_t)threads; i++) {
		if (pthread_create(&g->th[i], NULL, worker, g))
			break;
		g->nth++;
	}
	if (!g->nth) {
		dc__pgzip_free(g);
		return dc_error(ctx, DC_EIO, "cannot start compression threads");
	}
	*out = g;
	return 0;
nomem:
	dc__pgzip_free(g);
	return dc__enomem(ctx);
}

/* Write out the oldest chunk (waiting for it). */
static int emit_one(struct dc_pgzip *g, dc_sink_fn sink, void *arg)
{
	struct slot *s = &g->slots[g->head % g->nslots];
	int err;

	pthread_mutex_lock(&g->mu);
	while (s->state != 2)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	if (g->failed)
		return dc_error(g->ctx, DC_EIO, "gzip compression failed");
	err = sink(arg, s->out, s->outlen);
	s->state = 0;
	g->head++;
	return err;
}

static int queue(struct dc_pgzip *g, dc_sink_fn sink, void *arg)
{
	struct slot *s = &g->slots[g->tail % g->nslots];
	int err;

	s->inlen = g->fill;
	s->seq = g->tail++;
	pthread_mutex_lock(&g->mu);
	s->state = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	g->fill = 0;
	/* the next slot to fill must be free */
	if (g->tail - g->head == g->nslots && (err = emit_one(g, sink, arg)) < 0)
		return err;
	return 0;
}

int dc__pgzip_push(struct dc_pgzip *g, const void *p, size_t n,
		   dc_sink_fn sink, void *arg)
{
	const unsigned char *b = p;
	int err;

	while (n) {
		struct slot *s = &g->slots[g->tail % g->nslots];
		size_t c = CHUNK - g->fill < n ? CHUNK - g->fill : n;

		memcpy(s->in + g->fill, b, c);
		g->fill += c;
		b += c;
		n -= c;
		if (g->fill == CHUNK && (err = queue(g, sink, arg)) < 0)
			return err;
	}
	return 0;
}

int dc__pgzip_finish(struct dc_pgzip *g, dc_sink_fn sink, void *arg)
{
	int err;

	/* an empty input still makes one (empty) gzip member */
	if ((g->fill || g->tail == 0) && (err = queue(g, sink, arg)) < 0)
		return err;
	while (g->head < g->tail)
		if ((err = emit_one(g, sink, arg)) < 0)
			return err;
	return 0;
}

#endif
