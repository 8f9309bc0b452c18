/*
 * Parallel gzip: the input is cut into fixed 2 MiB chunks, each
 * compressed on a worker thread as a gzip member of its own, and the
 * members are written in order. A gzip file may hold several members
 * (RFC 1952 §2.2); Go, zlib and gzip(1) read them as one stream. Fixed
 * chunks keep the output deterministic; the cost is a dictionary reset
 * every 2 MiB (well under 1% of size).
 *
 * The bytes depend on nothing but the input and the level: not on how
 * many workers start, nor on which worker takes which chunk. A worker
 * that cannot start, or cannot set up its compressor, leaves its chunks
 * to the others; when none is left, the caller compresses each chunk
 * itself, the same way.
 *
 * Every level is libdeflate's level of the same number. ISA-L's igzip
 * compresses only when libdeflate is missing (its levels 1-3; 3 for
 * anything above): igzip is 2-4x faster than libdeflate's level 1 on
 * AVX-512, but on some hosts it now and then encodes the same chunk
 * another (valid) way, a single-threaded run included, and a layer's
 * digest must not depend on the run. ISA-L still inflates.
 */
#include "util/util.h"

#if defined(HAVE_LIBDEFLATE) || defined(HAVE_ISAL)

#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
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

/* a worker's compressor: ISA-L's level buffer or libdeflate's state */
struct comp {
#ifdef HAVE_ISAL
	int isal;		/* ISA-L level, or 0 */
	uint8_t *lbuf;
	uint32_t lbuf_size;
#endif
#ifdef HAVE_LIBDEFLATE
	struct libdeflate_compressor *ld;
#endif
};

struct dc_pgzip {
	struct dc_ctx *ctx;
	int level;
	size_t nslots;
	struct slot *slots;
	size_t fill;		/* bytes in the chunk being filled */
	size_t head;		/* next sequence to emit */
	size_t tail;		/* next sequence to queue */
	size_t first;		/* the sequence of this stream's first chunk */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t *th;
	size_t nth;
	size_t pending;		/* workers not yet set up, under mu */
	size_t live;		/* workers with a compressor, under mu */
	size_t bad_comps;	/* tests: compressors made to fail */
	int quit;
	int failed;
	int own_ok;		/* the caller's compressor: 1 ok, -1 failed */
	struct comp own;
};

/* dc__pgzip_test_faults(): for the next dc__pgzip_new only */
static int test_max_threads = -1, test_bad_comps;

#ifdef HAVE_ISAL
static int isal_level(int level)
{
#ifdef HAVE_LIBDEFLATE
	(void)level;
	return 0;	/* deterministic bytes first: see the top */
#else
	return level <= 3 ? level : 3;
#endif
}

static uint32_t isal_lbuf_size(int lvl)
{
	return lvl == 1 ? ISAL_DEF_LVL1_DEFAULT :
	       lvl == 2 ? ISAL_DEF_LVL2_DEFAULT : ISAL_DEF_LVL3_DEFAULT;
}
#endif

static int comp_init(struct comp *c, int level)
{
	memset(c, 0, sizeof(*c));
#ifdef HAVE_ISAL
	if ((c->isal = isal_level(level)) != 0) {
		c->lbuf_size = isal_lbuf_size(c->isal);
		return (c->lbuf = dc__malloc(NULL, c->lbuf_size)) ? 0 : DC_ENOMEM;
	}
#endif
#ifdef HAVE_LIBDEFLATE
	return (c->ld = libdeflate_alloc_compressor(level)) ? 0 : -1;
#else
	return -1;
#endif
}

static void comp_free(struct comp *c)
{
#ifdef HAVE_ISAL
	free(c->lbuf);
#endif
#ifdef HAVE_LIBDEFLATE
	libdeflate_free_compressor(c->ld);
#endif
}

/* A gzip member of IN in OUT (BOUND bytes): its size, 0 on failure. */
static size_t comp_run(struct comp *c, const unsigned char *in, size_t n,
		       unsigned char *out, size_t bound)
{
#ifdef HAVE_ISAL
	if (c->isal) {
		struct isal_zstream z;

		isal_deflate_stateless_init(&z);
		z.level = (uint32_t)c->isal;
		z.level_buf = c->lbuf;
		z.level_buf_size = c->lbuf_size;
		z.gzip_flag = IGZIP_GZIP;
		z.end_of_stream = 1;
		z.flush = NO_FLUSH;
		z.next_in = (uint8_t *)in;
		z.avail_in = (uint32_t)n;
		z.next_out = out;
		z.avail_out = (uint32_t)bound;
		if (isal_deflate_stateless(&z) != COMP_OK)
			return 0;
		return z.total_out;
	}
#endif
#ifdef HAVE_LIBDEFLATE
	return libdeflate_gzip_compress(c->ld, in, n, out, bound);
#else
	return 0;
#endif
}

/* Room for a compressed chunk, with either library: stored blocks at
 * worst, 5 bytes per 64 KiB, plus the gzip framing. */
#define BOUND (CHUNK + CHUNK / 8 + 1024)

static void *worker(void *arg)
{
	struct dc_pgzip *g = arg;
	struct comp c;
	int ok = comp_init(&c, g->level) == 0;

	pthread_mutex_lock(&g->mu);
	if (ok && g->bad_comps) {
		g->bad_comps--;
		ok = 0;
	}
	g->pending--;
	if (!ok) {
		/* its chunks are left to the others, or to the caller */
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		comp_free(&c);
		return NULL;
	}
	g->live++;
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
		s->outlen = comp_run(&c, s->in, s->inlen, s->out, BOUND);
		pthread_mutex_lock(&g->mu);
		if (!s->outlen)
			g->failed = 1;
		s->state = 2;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	comp_free(&c);
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
	for (i = 0; g->slots && i < g->nslots; i++) {	/* NULL: no memory */
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	free(g->slots);
	free(g->th);
	comp_free(&g->own);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}

int dc__pgzip_new(struct dc_ctx *ctx, struct dc_pgzip **out, int level,
		  int threads)
{
	struct dc_pgzip *g;
	size_t i;
	struct comp probe;
	int err;

	*out = NULL;
	if (threads < 1)
		threads = 1;
	if (!(g = dc__calloc(ctx, 1, sizeof(*g))))
		return DC_ENOMEM;
	g->ctx = ctx;
	g->level = level ? level : DC_GZIP_DEFAULT_LEVEL;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if ((err = comp_init(&probe, g->level)) < 0) {
		comp_free(&probe);
		dc__pgzip_free(g);
		if (err == DC_ENOMEM)
			return dc__enomem(ctx);
		return dc_error(ctx, DC_EINVAL, "gzip level %d not supported",
				level ? level : DC_GZIP_DEFAULT_LEVEL);
	}
	comp_free(&probe);
	g->nslots = (size_t)threads * 2;
	if (!(g->slots = dc__calloc(ctx, g->nslots, sizeof(*g->slots))) ||
	    !(g->th = dc__calloc(ctx, (size_t)threads, sizeof(*g->th))))
		goto nomem;
	for (i = 0; i < g->nslots; i++)
		if (!(g->slots[i].in = dc__malloc(NULL, CHUNK)) ||
		    !(g->slots[i].out = dc__malloc(NULL, BOUND)))
			goto nomem;
	g->pending = (size_t)threads;
	g->bad_comps = test_bad_comps > 0 ? (size_t)test_bad_comps : 0;
	for (i = 0; i < (size_t)threads; i++) {
		if ((test_max_threads >= 0 && i >= (size_t)test_max_threads) ||
		    pthread_create(&g->th[i], NULL, worker, g))
			break;
		g->nth++;
	}
	test_max_threads = -1;
	test_bad_comps = 0;
	/* the workers that did not start will not take chunks */
	pthread_mutex_lock(&g->mu);
	g->pending -= (size_t)threads - g->nth;
	pthread_mutex_unlock(&g->mu);
	*out = g;
	return 0;
nomem:
	dc__pgzip_free(g);
	return dc__enomem(ctx);
}

void dc__pgzip_set_ctx(struct dc_pgzip *g, struct dc_ctx *ctx)
{
	g->ctx = ctx;
}

void dc__pgzip_test_faults(int max_threads, int bad_comps)
{
	test_max_threads = max_threads;
	test_bad_comps = bad_comps;
}

/* Write out the oldest chunk (waiting for it). */
static int emit_one(struct dc_pgzip *g, dc_sink_fn sink, void *arg)
{
	struct slot *s = &g->slots[g->head % g->nslots];
	int err, failed;

	pthread_mutex_lock(&g->mu);
	while (s->state != 2) {
		if (s->state == 1 && !g->live && !g->pending) {
			/* no worker will take it: the same member, made here */
			s->state = 3;
			pthread_mutex_unlock(&g->mu);
			if (!g->own_ok)
				g->own_ok = comp_init(&g->own, g->level) ? -1 : 1;
			s->outlen = g->own_ok > 0 ? comp_run(&g->own, s->in,
					s->inlen, s->out, BOUND) : 0;
			pthread_mutex_lock(&g->mu);
			if (!s->outlen)
				g->failed = 1;
			s->state = 2;
			continue;
		}
		pthread_cond_wait(&g->cv, &g->mu);
	}
	failed = g->failed;
	pthread_mutex_unlock(&g->mu);
	if (failed == DC_ENOMEM)
		return dc__enomem(g->ctx);
	if (failed)
		return dc_error(g->ctx, DC_EIO, "gzip compression failed");
	err = sink(arg, s->out, s->outlen);
	/* the workers look at every slot's state, under the lock */
	pthread_mutex_lock(&g->mu);
	s->state = 0;
	pthread_mutex_unlock(&g->mu);
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

	/* an empty input still makes one (empty) gzip member, on a
	 * compressor used before too */
	if ((g->fill || g->tail == g->first) &&
	    (err = queue(g, sink, arg)) < 0)
		return err;
	while (g->head < g->tail)
		if ((err = emit_one(g, sink, arg)) < 0)
			return err;
	g->first = g->tail;	/* a reuse starts a new stream */
	return 0;
}

#endif
