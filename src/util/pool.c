/*
 * The blob pool: worker threads, one per core, each taking the largest
 * job left. A job reads a source blob through its verifying stream
 * (size, digest, diff_id: DC_BLOB_DIFFID) and, when it has a
 * destination, writes every chunk it read: a blob whose place in the
 * output is reserved (a file of its own, or a byte range of a tar being
 * written) is then read once, hashed once and written once, several at
 * once. Without a destination it only verifies (verify, squash). A job
 * without a source blob copies a spool, already hashed when it was made.
 *
 * dc__cpool_wait() reports progress and passes an interrupt on; the
 * first failure stops the others, and the lowest-numbered job that
 * really failed (not merely stopped) is the one reported.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

/* fits the L2 cache: hashed, then written, while still warm */
#define CP_CHUNK (256u << 10)
/* how often a worker asks the kernel to start writeback */
#define CP_WRITEBACK (8u << 20)

struct cjob {
	struct dc_cjob j;
	size_t seq;		/* order of submission */
	int err;
	char msg[sizeof(((struct dc_ctx *)0)->msg)];
};

struct dc_cpool {
	struct dc_reader *r;
	struct cjob *jobs;
	size_t n, cap;
	size_t *order;		/* largest first */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t *th;
	size_t nth;
	size_t next, running;
	int started, failed;
	volatile sig_atomic_t stop;
	uint64_t done;		/* bytes done, under mu */
	int report;		/* wait() reports them as progress */
};

int dc__cpool_new(struct dc_reader *r, struct dc_cpool **out)
{
	struct dc_cpool *cp;

	if (!(*out = cp = dc__calloc(r->ctx, 1, sizeof(*cp))))
		return DC_ENOMEM;
	cp->r = r;
	pthread_mutex_init(&cp->mu, NULL);
	pthread_cond_init(&cp->cv, NULL);
	return 0;
}

int dc__cpool_add(struct dc_cpool *cp, const struct dc_cjob *j)
{
	if (cp->n == cp->cap) {
		size_t cap = cp->cap ? cp->cap * 2 : 16;
		struct cjob *nj = dc__reallocarray(cp->r->ctx, cp->jobs, cap,
						   sizeof(*nj));

		if (!nj)
			return DC_ENOMEM;
		cp->jobs = nj;
		cp->cap = cap;
	}
	memset(&cp->jobs[cp->n], 0, sizeof(cp->jobs[cp->n]));
	cp->jobs[cp->n].j = *j;
	cp->jobs[cp->n].seq = cp->n;
	cp->n++;
	return 0;
}

int dc__cpool_add_verify(struct dc_cpool *cp, const struct dc_desc *d)
{
	struct dc_cjob j;

	memset(&j, 0, sizeof(j));
	j.d = d;
	j.srcfd = -1;
	j.dstfd = -1;
	j.len = d->size > 0 ? (uint64_t)d->size : 0;
	j.dst_label = d->path ? d->path : d->digest;
	return dc__cpool_add(cp, &j);
}

static int pwrite_all(struct dc_ctx *ctx, const struct dc_cjob *j,
		      const char *p, size_t n, uint64_t at)
{
	while (n) {
		ssize_t w = pwrite(j->dstfd, p, n, (off_t)(j->dstoff + at));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return dc_error(ctx, DC_EIO, "'%s': write failed: %s",
					j->dst_label, w < 0 ? strerror(errno) :
					"no progress");
		p += w;
		n -= (size_t)w;
		at += (uint64_t)w;
	}
	return 0;
}

static void add_done(struct dc_cpool *cp, uint64_t n)
{
	pthread_mutex_lock(&cp->mu);
	cp->done += n;
	pthread_mutex_unlock(&cp->mu);
}

static int run_job(struct dc_cpool *cp, struct dc_reader *r, struct cjob *cj,
		   char *buf)
{
	struct dc_ctx *ctx = r->ctx;
	const struct dc_cjob *j = &cj->j;
	struct dc_stream *s = NULL;
	uint64_t at = 0, synced = 0;
	int err = 0;

	if (j->d && (err = dc__blob_open(r, j->d, DC_BLOB_DIFFID, &s)) < 0)
		return err;
	for (;;) {
		size_t want = CP_CHUNK;
		ssize_t got;

		if (s) {
			got = dc__stream_read(s, buf, want);
		} else {
			if ((err = dc__check_intr(ctx)) < 0)
				break;
			if (want > j->len - at)
				want = (size_t)(j->len - at);
			if (!want)
				break;
			got = pread(j->srcfd, buf, want, (off_t)(j->srcoff + at));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				err = dc_error(ctx, DC_EIO, "'%s': read failed: %s",
					       j->dst_label, got < 0 ?
					       strerror(errno) : "unexpected end of file");
				break;
			}
		}
		if (got < 0) {
			err = (int)got;
			break;
		}
		if (!got)
			break;
		/* the verifying stream has checked the size against the
		 * descriptor: a blob never writes past its reservation */
		if (j->dstfd >= 0 &&
		    (err = pwrite_all(ctx, j, buf, (size_t)got, at)) < 0)
			break;
		at += (uint64_t)got;
		add_done(cp, (uint64_t)got);
		/* start writing back what is written: the final fsync or
		 * syncfs then waits for the tail, not for every byte */
		if (j->dstfd >= 0 && at - synced >= CP_WRITEBACK) {
			sync_file_range(j->dstfd, (off_t)(j->dstoff + synced),
					(off_t)(at - synced), SYNC_FILE_RANGE_WRITE);
			synced = at;
		}
	}
	dc__stream_close(s);
	if (!err && j->dstfd >= 0 && at != j->len)
		err = dc_error(ctx, DC_EDIGEST, "'%s': %llu bytes, expected %llu",
			       j->dst_label, (unsigned long long)at,
			       (unsigned long long)j->len);
	return err;
}

static void *cworker(void *arg)
{
	struct dc_cpool *cp = arg;
	char *buf = malloc(CP_CHUNK);

	for (;;) {
		struct dc_ctx tctx;
		struct dc_src src;
		struct dc_reader r;
		struct cjob *cj;
		size_t i;
		int err;

		pthread_mutex_lock(&cp->mu);
		i = cp->next++;
		pthread_mutex_unlock(&cp->mu);
		if (i >= cp->n)
			break;
		cj = &cp->jobs[cp->order[i]];
		dc__reader_clone(cp->r, &tctx, &src, &r, &cp->stop);
		if (!buf)
			err = dc__enomem(&tctx);
		else
			err = run_job(cp, &r, cj, buf);
		if (cj->j.dst_own) {
			if (close(cj->j.dstfd) < 0 && !err)
				err = dc_error(&tctx, DC_EIO, "'%s': %s",
					       cj->j.dst_label, strerror(errno));
			cj->j.dst_own = 0;
		}
		if (err) {
			cj->err = err;
			memcpy(cj->msg, tctx.msg, sizeof(cj->msg));
			pthread_mutex_lock(&cp->mu);
			cp->failed = 1;
			__atomic_store_n(&cp->stop, 1, __ATOMIC_RELAXED);
			pthread_mutex_unlock(&cp->mu);
		}
	}
	free(buf);
	pthread_mutex_lock(&cp->mu);
	cp->running--;
	pthread_cond_broadcast(&cp->cv);
	pthread_mutex_unlock(&cp->mu);
	return NULL;
}

static int cmp_size(const void *a, const void *b, void *arg)
{
	const struct cjob *jobs = arg;
	const struct cjob *x = &jobs[*(const size_t *)a];
	const struct cjob *y = &jobs[*(const size_t *)b];

	if (x->j.len != y->j.len)
		return x->j.len > y->j.len ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int dc__cpool_start(struct dc_cpool *cp)
{
	struct dc_ctx *ctx = cp->r->ctx;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i, want = ncpu > 0 ? (size_t)ncpu : 1;

	cp->started = 1;
	if (!cp->n)
		return 0;
	if (!(cp->order = dc__calloc(ctx, cp->n, sizeof(*cp->order))))
		return DC_ENOMEM;
	for (i = 0; i < cp->n; i++)
		cp->order[i] = i;
	qsort_r(cp->order, cp->n, sizeof(*cp->order), cmp_size, cp->jobs);
	if (want > cp->n)
		want = cp->n;
	if (!(cp->th = dc__calloc(ctx, want, sizeof(*cp->th))))
		return DC_ENOMEM;
	cp->running = want;	/* before any worker can finish */
	for (i = 0; i < want; i++) {
		if (pthread_create(&cp->th[i], NULL, cworker, cp))
			break;
		cp->nth++;
	}
	pthread_mutex_lock(&cp->mu);
	cp->running -= want - cp->nth;
	pthread_mutex_unlock(&cp->mu);
	if (!cp->nth) {
		cp->running = 1;
		cworker(cp);	/* no threads: do it here and now */
	}
	return 0;
}

/* Wait for the workers; with CTX, report progress and pass SIGINT on. */
static void join(struct dc_cpool *cp, struct dc_ctx *ctx)
{
	uint64_t told = 0;
	size_t i;

	pthread_mutex_lock(&cp->mu);
	while (cp->running) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cp->cv, &cp->mu, &ts);
		if (ctx && ctx->interrupted)
			__atomic_store_n(&cp->stop, 1, __ATOMIC_RELAXED);
		if (ctx && ctx->progress && cp->report && cp->done != told) {
			uint64_t d = cp->done - told;

			told = cp->done;
			pthread_mutex_unlock(&cp->mu);
			ctx->progress(ctx->progress_arg, d, 0, 0, 0);
			pthread_mutex_lock(&cp->mu);
		}
	}
	pthread_mutex_unlock(&cp->mu);
	for (i = 0; i < cp->nth; i++)
		pthread_join(cp->th[i], NULL);
	cp->nth = 0;
	if (ctx && ctx->progress && cp->report && cp->done != told)
		ctx->progress(ctx->progress_arg, cp->done - told, 0, 0, 0);
}

int dc__cpool_wait(struct dc_cpool *cp, struct dc_ctx *ctx, int report)
{
	struct cjob *fail = NULL;
	size_t i;
	int err = 0;

	if (!cp)
		return 0;
	cp->report = report;
	join(cp, ctx);
	/* the first job, in submission order, that failed on its own (the
	 * others may only have been stopped) */
	for (i = 0; i < cp->n && !fail; i++)
		if (cp->jobs[i].err && cp->jobs[i].err != DC_EINTR)
			fail = &cp->jobs[i];
	for (i = 0; i < cp->n && !fail; i++)
		if (cp->jobs[i].err)
			fail = &cp->jobs[i];
	if (fail) {
		err = ctx->code = fail->err;
		memcpy(ctx->msg, fail->msg, sizeof(ctx->msg));
	} else if (ctx->interrupted) {
		err = dc__check_intr(ctx);
	}
	return err;
}

int dc__cpool_run(struct dc_cpool *cp, struct dc_ctx *ctx)
{
	int err;

	if (!cp || !cp->n)
		return 0;
	if ((err = dc__cpool_start(cp)) < 0)
		return err;
	return dc__cpool_wait(cp, ctx, 1);
}

void dc__cpool_free(struct dc_cpool *cp)
{
	size_t i;

	if (!cp)
		return;
	if (cp->nth) {		/* still running: the caller failed */
		__atomic_store_n(&cp->stop, 1, __ATOMIC_RELAXED);
		join(cp, NULL);
	}
	for (i = 0; i < cp->n; i++)
		if (cp->jobs[i].j.dst_own)
			close(cp->jobs[i].j.dstfd);
	pthread_mutex_destroy(&cp->mu);
	pthread_cond_destroy(&cp->cv);
	free(cp->th);
	free(cp->order);
	free(cp->jobs);
	free(cp);
}
