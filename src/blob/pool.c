/*
 * The blob pool: worker threads, one per core unless the context's
 * thread count says fewer (dc__threads), each taking the largest
 * job left. A job reads a source blob through its verifying stream
 * (size, digest, diff_id: DC_BLOB_DIFFID) and, when it has a
 * destination, writes every chunk it read: a blob whose place in the
 * output is reserved (a file of its own, or a byte range of a tar being
 * written) is then read once, hashed once and written once, several at
 * once. Without a destination it only verifies (verify, squash). A job
 * without a source blob copies a spool, already hashed when it was made.
 * Each worker runs two jobs at once so that it hashes two blobs in the
 * time of one (dc__hash_update2).
 *
 * Transfers (a blob from a registry, or sent to one) run on threads of
 * their own, one job each at a time, up to DC_XFER_MAX at once: they
 * wait on the network more than they use a core.
 *
 * dc__cpool_wait() reports progress and passes an interrupt on; the
 * first failure stops the others, and the lowest-numbered job that
 * really failed (not merely stopped) is the one reported.
 */
#include "blob/blob.h"

#include <errno.h>
#include <fcntl.h>
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
	/* a failure: its code, and its message made only then, so that a
	 * pool of many jobs costs no message buffer each */
	int errcode;
	char *errmsg;
};

struct dc_cpool {
	struct dc_bsrc bs;
	struct cjob *jobs;
	size_t n, cap;
	size_t *order;		/* copies, largest first */
	size_t ncopy;
	size_t *xorder;		/* transfers, largest first */
	size_t nx, xnext;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t *th;
	size_t nth;
	size_t nwant;		/* threads meant to run: set before they start */
	size_t next, running;
	int started, failed;
	volatile sig_atomic_t stop;
	uint64_t done;		/* bytes done, under mu */
	int report;		/* wait() reports them as progress */
	int keep_going;		/* a failure does not stop the others */
};

int dc__cpool_new(const struct dc_bsrc *bs, struct dc_cpool **out)
{
	struct dc_cpool *cp;

	if (!(*out = cp = dc__calloc(bs->ctx, 1, sizeof(*cp))))
		return DC_ENOMEM;
	cp->bs = *bs;
	pthread_mutex_init(&cp->mu, NULL);
	pthread_cond_init(&cp->cv, NULL);
	return 0;
}

int dc__cpool_add(struct dc_cpool *cp, const struct dc_cjob *j)
{
	if (cp->n == cp->cap) {
		size_t cap = cp->cap ? cp->cap * 2 : 16;
		struct cjob *nj = dc__reallocarray(cp->bs.ctx, cp->jobs, cap,
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

/* a job in a worker: a worker reads a chunk of each of its two, hashes
 * both chunks at once, then writes them */
struct slot {
	struct cjob *cj;	/* NULL: free */
	struct dc_ctx tctx;
	struct dc_bsrc bs;	/* the pool's, reporting to TCTX */
	struct dc_stream *s;
	uint64_t at, synced;
	ssize_t got;		/* of the last read: >0, 0 at the end, <0 */
	char *buf;
};

static int slot_start(struct dc_cpool *cp, struct slot *sl, struct cjob *cj,
		      int defer)
{
	sl->cj = cj;
	sl->s = NULL;
	sl->at = sl->synced = 0;
	sl->got = 0;
	dc__bsrc_clone(&cp->bs, &sl->tctx, &sl->bs, &cp->stop);
	/* allocated when first used: a slot may never be */
	if (!sl->buf && !(sl->buf = dc__malloc(NULL, CP_CHUNK)))
		return dc__enomem(&sl->tctx);
	if (cj->j.d)
		return dc__blob_open(&sl->bs, cj->j.d,
				     (cj->j.digest_only ? 0 : DC_BLOB_DIFFID) |
				     (defer ? DC_BLOB_DEFER : 0), &sl->s);
	return 0;
}

/* Reads the slot's next chunk into sl->got; <0 on failure. */
static int slot_read(struct slot *sl)
{
	struct dc_ctx *ctx = &sl->tctx;
	const struct dc_cjob *j = &sl->cj->j;
	size_t want = CP_CHUNK;
	int err;

	if (sl->s) {
		sl->got = dc__stream_read(sl->s, sl->buf, want);
		return sl->got < 0 ? (int)sl->got : 0;
	}
	for (;;) {
		if ((err = dc__check_intr(ctx)) < 0)
			return err;
		if (want > j->len - sl->at)
			want = (size_t)(j->len - sl->at);
		if (!want) {
			sl->got = 0;
			return 0;
		}
		sl->got = pread(j->srcfd, sl->buf, want,
				(off_t)(j->srcoff + sl->at));
		if (sl->got < 0 && errno == EINTR)
			continue;
		if (sl->got <= 0)
			return dc_error(ctx, DC_EIO, "'%s': read failed: %s",
					j->dst_label, sl->got < 0 ?
					strerror(errno) : "unexpected end of file");
		return 0;
	}
}

/* Writes what the slot read last. */
static int slot_write(struct dc_cpool *cp, struct slot *sl)
{
	const struct dc_cjob *j = &sl->cj->j;
	uint64_t n = (uint64_t)sl->got;
	int err;

	/* the verifying stream has checked the size against the
	 * descriptor: a blob never writes past its reservation */
	if (j->dstfd >= 0 &&
	    (err = pwrite_all(&sl->tctx, j, sl->buf, (size_t)n, sl->at)) < 0)
		return err;
	sl->at += n;
	add_done(cp, n);
	/* start writing back what is written: the final fsync or syncfs
	 * then waits for the tail, not for every byte */
	if (j->dstfd >= 0 && sl->at - sl->synced >= CP_WRITEBACK) {
		sync_file_range(j->dstfd, (off_t)(j->dstoff + sl->synced),
				(off_t)(sl->at - sl->synced),
				SYNC_FILE_RANGE_WRITE);
		sl->synced = sl->at;
	}
	return 0;
}

/* The slot's job is over, with ERR: record it and free the slot. */
static void slot_end(struct dc_cpool *cp, struct slot *sl, int err)
{
	struct cjob *cj = sl->cj;
	const struct dc_cjob *j = &cj->j;

	dc__stream_close(sl->s);
	sl->s = NULL;
	if (!err && j->dstfd >= 0 && sl->at != j->len)
		err = dc_error(&sl->tctx, DC_EDIGEST,
			       "'%s': %llu bytes, expected %llu", j->dst_label,
			       (unsigned long long)sl->at,
			       (unsigned long long)j->len);
	if (cj->j.dst_own) {
		if (close(cj->j.dstfd) < 0 && !err)
			err = dc_error(&sl->tctx, DC_EIO, "'%s': %s",
				       cj->j.dst_label, strerror(errno));
		cj->j.dst_own = 0;
	}
	if (err) {
		cj->errcode = err;
		cj->errmsg = dc__strdup(&sl->tctx, sl->tctx.msg);
		pthread_mutex_lock(&cp->mu);
		cp->failed = 1;
		if (!cp->keep_going || err == DC_EINTR || err == DC_ENOMEM)
			__atomic_store_n(&cp->stop, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&cp->mu);
	}
	sl->cj = NULL;
}

/*
 * The next copy, largest first; NULL when there is none. A second slot
 * takes one only once every thread has had its first: two jobs on two
 * cores are faster one on each than paired on one.
 */
static struct cjob *take(struct dc_cpool *cp, size_t slot)
{
	struct cjob *cj = NULL;

	pthread_mutex_lock(&cp->mu);
	if (cp->next < cp->ncopy && (!slot || cp->next >= cp->nwant))
		cj = &cp->jobs[cp->order[cp->next++]];
	pthread_mutex_unlock(&cp->mu);
	return cj;
}

static void *cworker(void *arg)
{
	struct dc_cpool *cp = arg;
	struct slot sl[2];
	size_t k;

	memset(sl, 0, sizeof(sl));
	for (;;) {
		int busy = 0, err;

		for (k = 0; k < 2; k++) {
			while (!sl[k].cj) {
				struct cjob *cj = take(cp, k);

				if (!cj)
					break;
				if ((err = slot_start(cp, &sl[k], cj, 1)) < 0)
					slot_end(cp, &sl[k], err);
			}
			if (sl[k].cj) {
				busy = 1;
				if ((err = slot_read(&sl[k])) < 0)
					slot_end(cp, &sl[k], err);
			}
		}
		if (!busy)
			break;
		if (sl[0].cj && sl[1].cj && sl[0].s && sl[1].s)
			dc__blob_hash_pair(sl[0].s, sl[1].s);
		for (k = 0; k < 2; k++) {
			if (!sl[k].cj)
				continue;
			if (!sl[k].got)
				slot_end(cp, &sl[k], 0);
			else if ((err = slot_write(cp, &sl[k])) < 0)
				slot_end(cp, &sl[k], err);
		}
	}
	for (k = 0; k < 2; k++)
		free(sl[k].buf);
	pthread_mutex_lock(&cp->mu);
	cp->running--;
	pthread_cond_broadcast(&cp->cv);
	pthread_mutex_unlock(&cp->mu);
	return NULL;
}

/* A transfer's stream counted as it is read, for progress. */
struct cstream {
	struct dc_stream s;
	struct dc_stream *in;
	struct dc_cpool *cp;
};

static ssize_t cs_read(struct dc_stream *s, void *buf, size_t n)
{
	struct cstream *c = (struct cstream *)s;
	ssize_t got = dc__stream_read(c->in, buf, n);

	if (got > 0)
		add_done(c->cp, (uint64_t)got);
	return got;
}

static void cs_close(struct dc_stream *s)
{
	(void)s;	/* on the stack; the slot closes what it wraps */
}

/* The slot's transfer goes to its SEND: from the blob's verifying
 * stream (read to its end after, where it is checked) or a spool. */
static int xsend(struct dc_cpool *cp, struct slot *sl)
{
	const struct dc_cjob *j = &sl->cj->j;
	struct cstream c;
	int err;

	if (!sl->s && (err = dc__stream_fd_range(&sl->tctx, &sl->s, j->srcfd,
						 j->srcoff, j->len, 0)) < 0)
		return err;
	memset(&c, 0, sizeof(c));
	c.s.ctx = &sl->tctx;
	c.s.read = cs_read;
	c.s.close = cs_close;
	c.in = sl->s;
	c.cp = cp;
	if ((err = j->send(j->send_arg, &sl->tctx, &c.s)) < 0)
		return err;
	return dc__stream_drain(&c.s);
}

static struct cjob *xtake(struct dc_cpool *cp)
{
	struct cjob *cj = NULL;

	pthread_mutex_lock(&cp->mu);
	if (cp->xnext < cp->nx && !cp->stop)
		cj = &cp->jobs[cp->xorder[cp->xnext++]];
	pthread_mutex_unlock(&cp->mu);
	return cj;
}

/* A transfer thread: one job at a time, start to end. */
static void *xworker(void *arg)
{
	struct dc_cpool *cp = arg;
	struct slot sl;
	struct cjob *cj;
	int err;

	memset(&sl, 0, sizeof(sl));
	while ((cj = xtake(cp))) {
		if ((err = slot_start(cp, &sl, cj, 0)) == 0) {
			if (cj->j.send) {
				err = xsend(cp, &sl);
			} else {
				while ((err = slot_read(&sl)) == 0 && sl.got &&
				       (err = slot_write(cp, &sl)) == 0)
					;
			}
		}
		slot_end(cp, &sl, err);
	}
	free(sl.buf);
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

/* A transfer: it waits on a registry, not on a core. */
static int is_xfer(const struct dc_cpool *cp, const struct cjob *cj)
{
	return cj->j.send || (cj->j.d && cp->bs.remote && cj->j.srcfd < 0);
}

int dc__cpool_start(struct dc_cpool *cp)
{
	struct dc_ctx *ctx = cp->bs.ctx;
	size_t i, want = dc__threads(ctx), xwant = DC_XFER_MAX, nth;

	cp->started = 1;
	if (!cp->n)
		return 0;
	if (!(cp->order = dc__calloc(ctx, cp->n, sizeof(*cp->order))) ||
	    !(cp->xorder = dc__calloc(ctx, cp->n, sizeof(*cp->xorder))))
		return DC_ENOMEM;
	for (i = 0; i < cp->n; i++) {
		if (is_xfer(cp, &cp->jobs[i]))
			cp->xorder[cp->nx++] = i;
		else
			cp->order[cp->ncopy++] = i;
	}
	qsort_r(cp->order, cp->ncopy, sizeof(*cp->order), cmp_size, cp->jobs);
	qsort_r(cp->xorder, cp->nx, sizeof(*cp->xorder), cmp_size, cp->jobs);
	if (want > cp->ncopy)
		want = cp->ncopy;
	/* --threads bounds transfers too */
	if (ctx->threads > 0 && (size_t)ctx->threads < xwant)
		xwant = (size_t)ctx->threads;
	if (xwant > cp->nx)
		xwant = cp->nx;
	if (!(cp->th = dc__calloc(ctx, want + xwant, sizeof(*cp->th))))
		return DC_ENOMEM;
	cp->running = want + xwant;	/* before any worker can finish */
	cp->nwant = want;
	nth = dc__threads_start(cp->th, want, cworker, cp);
	if (nth == want)
		nth += dc__threads_start(cp->th + nth, xwant, xworker, cp);
	cp->nth = nth;
	pthread_mutex_lock(&cp->mu);
	cp->running -= want + xwant - nth;
	pthread_mutex_unlock(&cp->mu);
	if (nth < want + xwant) {
		/* threads ran out: do the rest here and now */
		pthread_mutex_lock(&cp->mu);
		cp->running += 2;
		pthread_mutex_unlock(&cp->mu);
		cworker(cp);
		xworker(cp);
	}
	return 0;
}

/* Wait for the workers; with CTX, report progress and pass SIGINT on. */
static void join(struct dc_cpool *cp, struct dc_ctx *ctx)
{
	uint64_t told = 0;

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
	dc__threads_join(cp->th, cp->nth);
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
		if (cp->jobs[i].errcode && cp->jobs[i].errcode != DC_EINTR)
			fail = &cp->jobs[i];
	for (i = 0; i < cp->n && !fail; i++)
		if (cp->jobs[i].errcode)
			fail = &cp->jobs[i];
	if (fail)
		err = dc_error(ctx, fail->errcode, "%s",
			       fail->errmsg ? fail->errmsg : "out of memory");
	else if (ctx->interrupted) {
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

void dc__cpool_keep_going(struct dc_cpool *cp)
{
	cp->keep_going = 1;
}

int dc__cpool_result(const struct dc_cpool *cp, size_t i, const char **msg)
{
	const struct cjob *cj = &cp->jobs[i];

	*msg = !cj->errcode ? NULL : cj->errmsg ? cj->errmsg : "out of memory";
	return cj->errcode;
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
	for (i = 0; i < cp->n; i++) {
		if (cp->jobs[i].j.dst_own)
			close(cp->jobs[i].j.dstfd);
		free(cp->jobs[i].errmsg);
	}
	pthread_mutex_destroy(&cp->mu);
	pthread_cond_destroy(&cp->cv);
	free(cp->th);
	free(cp->order);
	free(cp->xorder);
	free(cp->jobs);
	free(cp);
}
