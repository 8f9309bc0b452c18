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
 * their own, one task each at a time, up to DC_XFER_MAX at once: they
 * wait on the network more than they use a core. A large blob fetched
 * into its reserved place, from a source that serves byte ranges, is
 * several tasks: its parts come at once, each written at its offset,
 * and whichever part's thread is free hashes what is written in order
 * from the start (read back from the page cache); the blob counts as
 * written only once its whole digest and size are checked. When the
 * first part's answer is not the range asked, the blob comes whole on
 * one stream instead.
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
/* a blob this large is fetched in parts of at least CP_PART_MIN */
#define CP_RANGED_MIN (32u << 20)
#define CP_PART_MIN (16u << 20)

/* a blob fetched in parts: what its tasks share */
enum { RG_PROBE, RG_RANGES, RG_WHOLE };
struct rgroup {
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* the first part's answer is in */
	int state;		/* RG_*, under mu */
	unsigned nparts, left;	/* parts, parts not over */
	uint64_t unit;		/* part K is K+1 units long; the last also
				 * takes the remainder */
	uint64_t written[DC_XFER_MAX];	/* of each part, under mu */
	uint64_t hashed;	/* hashed in order from the start, under mu */
	int hashing;		/* a thread hashes: only one at a time */
	int failed;		/* the others stop */
	struct dc_hash *h;
};

struct cjob {
	struct dc_cjob j;
	size_t seq;		/* order of submission */
	struct rgroup *rg;	/* fetched in parts */
	/* a failure: its code, and its message made only then, so that a
	 * pool of many jobs costs no message buffer each */
	int errcode;
	char *errmsg;
};

/* a transfer: a job, or one part of a job fetched in parts */
struct xtask {
	size_t job;
	unsigned part;
	uint64_t len;
};

struct dc_cpool {
	struct dc_bsrc bs;
	struct cjob *jobs;
	size_t n, cap;
	size_t *order;		/* copies, largest first */
	size_t ncopy;
	struct xtask *xorder;	/* transfers, largest first */
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

/* The slot takes job CJ, not opened yet. */
static int slot_init(struct dc_cpool *cp, struct slot *sl, struct cjob *cj)
{
	sl->cj = cj;
	sl->s = NULL;
	sl->at = sl->synced = 0;
	sl->got = 0;
	dc__bsrc_clone(&cp->bs, &sl->tctx, &sl->bs, &cp->stop);
	/* allocated when first used: a slot may never be */
	if (!sl->buf && !(sl->buf = dc__malloc(NULL, CP_CHUNK)))
		return dc__enomem(&sl->tctx);
	return 0;
}

static int slot_start(struct dc_cpool *cp, struct slot *sl, struct cjob *cj,
		      int defer)
{
	int err;

	if ((err = slot_init(cp, sl, cj)) < 0)
		return err;
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

/* ------------------------------------------------------------------ */
/* A blob fetched in parts */

/* a sibling failed: this part stops, reporting nothing of its own */
#define RG_STOPPED 1

/*
 * Parts grow: all start at once and come at about the same rate, so
 * each ends after the one before it, and the hashing, which must go in
 * order, follows the bytes as they land instead of taking all but the
 * first part after the last byte.
 */
static uint64_t part_off(const struct cjob *cj, unsigned k)
{
	return (uint64_t)k * (k + 1) / 2 * cj->rg->unit;
}

static uint64_t part_len(const struct cjob *cj, unsigned k)
{
	return k + 1 < cj->rg->nparts ? (uint64_t)(k + 1) * cj->rg->unit :
	       cj->j.len - part_off(cj, k);
}

/* Part K of CJ failed with ERR (message in CTX): the first failure is
 * the job's, and the pool stops as for any job. */
static void part_fail(struct dc_cpool *cp, struct cjob *cj,
		      struct dc_ctx *ctx, int err)
{
	struct rgroup *rg = cj->rg;

	pthread_mutex_lock(&rg->mu);
	__atomic_store_n(&rg->failed, 1, __ATOMIC_RELAXED);
	if (!cj->errcode) {
		cj->errcode = err;
		cj->errmsg = dc__strdup(NULL, ctx->msg);
	}
	pthread_mutex_unlock(&rg->mu);
	pthread_mutex_lock(&cp->mu);
	cp->failed = 1;
	if (!cp->keep_going || err == DC_EINTR || err == DC_ENOMEM)
		__atomic_store_n(&cp->stop, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&cp->mu);
}

/* Where the bytes written without a gap from the start end (under mu). */
static uint64_t rg_contig(const struct cjob *cj)
{
	const struct rgroup *rg = cj->rg;
	unsigned k;

	for (k = 0; k < rg->nparts; k++)
		if (rg->written[k] < part_len(cj, k))
			return part_off(cj, k) + rg->written[k];
	return cj->j.len;
}

/*
 * Hash what is written in order and not hashed yet, unless another
 * thread does: JUST (N bytes at offset AT of the blob) is what this
 * thread wrote last, still in its buffer; the rest is read back.
 */
static int rg_hash(struct cjob *cj, struct slot *sl, uint64_t at, size_t n)
{
	struct rgroup *rg = cj->rg;
	const struct dc_cjob *j = &cj->j;
	int err = 0;

	pthread_mutex_lock(&rg->mu);
	while (!rg->hashing && !rg->failed && !err) {
		uint64_t from = rg->hashed, to = rg_contig(cj);

		if (to <= from)
			break;
		rg->hashing = 1;
		pthread_mutex_unlock(&rg->mu);
		if (n && from == at) {
			size_t k = to - from < n ? (size_t)(to - from) : n;

			dc__hash_update(rg->h, sl->buf, k);
			from += k;
		}
		n = 0;	/* the buffer is reused below */
		while (from < to && !err) {
			size_t k = to - from < CP_CHUNK ? (size_t)(to - from) :
				   CP_CHUNK;
			ssize_t got = pread(j->dstfd, sl->buf, k,
					    (off_t)(j->dstoff + from));

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				err = dc_error(&sl->tctx, DC_EIO,
					       "'%s': read back failed: %s",
					       j->dst_label, got < 0 ?
					       strerror(errno) : "end of file");
			else {
				dc__hash_update(rg->h, sl->buf, (size_t)got);
				from += (uint64_t)got;
			}
		}
		pthread_mutex_lock(&rg->mu);
		rg->hashing = 0;
		rg->hashed = from;
	}
	pthread_mutex_unlock(&rg->mu);
	return err;
}

/* Part K of CJ: its range, written at its offset as it comes. */
static int part_fetch(struct dc_cpool *cp, struct slot *sl, struct cjob *cj,
		      unsigned k)
{
	struct rgroup *rg = cj->rg;
	const struct dc_cjob *j = &cj->j;
	struct dc_ctx *ctx = &sl->tctx;
	uint64_t off = part_off(cj, k), len = part_len(cj, k);
	int err = 0;

	/* sl->at: where in the blob the next bytes go */
	sl->at = sl->synced = off;
	for (;;) {
		if (__atomic_load_n(&rg->failed, __ATOMIC_RELAXED))
			return RG_STOPPED;
		if ((sl->got = dc__stream_read(sl->s, sl->buf, CP_CHUNK)) < 0)
			return (int)sl->got;
		if (!sl->got)
			break;
		if ((uint64_t)sl->got > off + len - sl->at)
			return dc_error(ctx, DC_EDIGEST,
					"'%s': bytes %llu-%llu: more than asked (blob %s)",
					j->dst_label, (unsigned long long)off,
					(unsigned long long)(off + len - 1),
					j->d->digest);
		if ((err = slot_write(cp, sl)) < 0)
			return err;
		pthread_mutex_lock(&rg->mu);
		rg->written[k] = sl->at - off;
		pthread_mutex_unlock(&rg->mu);
		if ((err = rg_hash(cj, sl, sl->at - (uint64_t)sl->got,
				   (size_t)sl->got)) < 0)
			return err;
	}
	if (sl->at != off + len)
		return dc_error(ctx, DC_EDIGEST,
				"'%s': bytes %llu-%llu: %llu bytes, expected %llu (blob %s)",
				j->dst_label, (unsigned long long)off,
				(unsigned long long)(off + len - 1),
				(unsigned long long)(sl->at - off),
				(unsigned long long)len, j->d->digest);
	return 0;
}

/* The first part's answer says how the blob comes: in parts, or whole
 * on this thread (the other parts then do nothing). */
static int part_first(struct dc_cpool *cp, struct slot *sl, struct cjob *cj)
{
	struct rgroup *rg = cj->rg;
	int err, state;

	err = sl->bs.open_range(&sl->bs, cj->j.d, 0, part_len(cj, 0), &sl->s);
	state = err == DC_EUNSUPPORTED ? RG_WHOLE : RG_RANGES;
	pthread_mutex_lock(&rg->mu);
	rg->state = state;
	pthread_cond_broadcast(&rg->cv);
	pthread_mutex_unlock(&rg->mu);
	if (state == RG_RANGES)
		return err < 0 ? err : part_fetch(cp, sl, cj, 0);
	/* whole, through the verifying stream, as any transfer */
	if ((err = slot_start(cp, sl, cj, 0)) < 0)
		return err;
	while ((err = slot_read(sl)) == 0 && sl->got &&
	       (err = slot_write(cp, sl)) == 0)
		;
	return err;
}

/* Task K of CJ, a blob fetched in parts; the last task to end checks
 * the whole blob. */
static void part_run(struct dc_cpool *cp, struct slot *sl, struct cjob *cj,
		     unsigned k)
{
	struct rgroup *rg = cj->rg;
	const struct dc_cjob *j = &cj->j;
	char got[DC_DIGEST_MAX];
	int err, state, last;

	if ((err = slot_init(cp, sl, cj)) < 0)
		goto end;
	if (!k) {
		err = part_first(cp, sl, cj);
		goto end;
	}
	pthread_mutex_lock(&rg->mu);
	while (rg->state == RG_PROBE)
		pthread_cond_wait(&rg->cv, &rg->mu);
	state = rg->state;
	pthread_mutex_unlock(&rg->mu);
	if (state == RG_WHOLE || __atomic_load_n(&rg->failed, __ATOMIC_RELAXED))
		goto end;
	if ((err = sl->bs.open_range(&sl->bs, j->d, part_off(cj, k),
				     part_len(cj, k), &sl->s)) == 0)
		err = part_fetch(cp, sl, cj, k);
end:
	dc__stream_close(sl->s);
	sl->s = NULL;
	if (err < 0)
		part_fail(cp, cj, &sl->tctx, err);
	pthread_mutex_lock(&rg->mu);
	if (rg->state == RG_PROBE) {	/* the first part failed early */
		rg->state = RG_RANGES;
		pthread_cond_broadcast(&rg->cv);
	}
	last = !--rg->left;
	state = rg->state;
	pthread_mutex_unlock(&rg->mu);
	if (!last)
		goto out;
	/* every part is over: no other thread touches the blob now */
	err = 0;
	if (!rg->failed && state == RG_RANGES &&
	    (err = rg_hash(cj, sl, 0, 0)) == 0) {
		dc__hash_final(rg->h, got);
		err = j->digest_only ?
		      dc__blob_verdict_stored(&sl->tctx, &sl->bs, j->d,
					      rg->hashed, got) :
		      dc__blob_verdict(&sl->tctx, &sl->bs, j->d, rg->hashed,
				       got);
	}
	if (cj->j.dst_own) {
		if (close(cj->j.dstfd) < 0 && !err)
			err = dc_error(&sl->tctx, DC_EIO, "'%s': %s",
				       cj->j.dst_label, strerror(errno));
		cj->j.dst_own = 0;
	}
	if (err < 0)
		part_fail(cp, cj, &sl->tctx, err);
out:
	sl->cj = NULL;
}

/*
 * K > 1 when job CJ is fetched in K parts, at most PCAP: a large blob
 * of a source serving ranges, into a reserved place that can be read
 * back, checked by digest (and by diff_id only when that is its
 * digest), and larger than the other transfers (ALL bytes with it)
 * spread over the other PCAP - 1 threads: one that would be left
 * coming alone at the end. Parts of a blob that is not cost CPU (more
 * requests, the bytes read back to be hashed) and save no time.
 */
static unsigned parts_of(const struct dc_cpool *cp, const struct cjob *cj,
			 size_t pcap, uint64_t all)
{
	const struct dc_cjob *j = &cj->j;
	uint64_t k;

	if (pcap < 2 || j->len * (pcap - 1) <= all - j->len)
		return 1;
	if (!cp->bs.open_range || !cp->bs.remote || !j->d || j->send ||
	    j->srcfd >= 0 || j->dstfd < 0 || j->len < CP_RANGED_MIN ||
	    j->d->size != (int64_t)j->len ||
	    (!j->digest_only && j->d->comp != DC_COMP_NONE) ||
	    (fcntl(j->dstfd, F_GETFL) & O_ACCMODE) != O_RDWR)
		return 1;	/* the last is hashed by reading it back */
	k = j->len / CP_PART_MIN;
	return (unsigned)(k < pcap ? k : pcap);
}

/* ------------------------------------------------------------------ */

static struct xtask *xtake(struct dc_cpool *cp)
{
	struct xtask *t = NULL;

	pthread_mutex_lock(&cp->mu);
	if (cp->xnext < cp->nx && !cp->stop)
		t = &cp->xorder[cp->xnext++];
	pthread_mutex_unlock(&cp->mu);
	return t;
}

/* A transfer thread: one task at a time, start to end. */
static void *xworker(void *arg)
{
	struct dc_cpool *cp = arg;
	struct slot sl;
	struct xtask *t;
	struct cjob *cj;
	int err;

	memset(&sl, 0, sizeof(sl));
	while ((t = xtake(cp))) {
		cj = &cp->jobs[t->job];
		if (cj->rg) {
			part_run(cp, &sl, cj, t->part);
			continue;
		}
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

/* tasks: largest first, then in order of jobs and parts (a job's
 * first part is taken before its others) */
static int cmp_task(const void *a, const void *b)
{
	const struct xtask *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	if (x->job != y->job)
		return x->job < y->job ? -1 : 1;
	return x->part < y->part ? -1 : x->part > y->part;
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

/* Job I, a transfer, as its tasks (one, or its parts) at the end of the
 * pool's list; PCAP and ALL as for parts_of(). */
static int add_tasks(struct dc_cpool *cp, size_t i, size_t pcap,
		     uint64_t all)
{
	struct cjob *cj = &cp->jobs[i];
	unsigned k, n = parts_of(cp, cj, pcap, all);
	struct rgroup *rg;

	if (n > 1) {
		if (!(rg = dc__calloc(cp->bs.ctx, 1, sizeof(*rg))))
			return DC_ENOMEM;
		pthread_mutex_init(&rg->mu, NULL);
		pthread_cond_init(&rg->cv, NULL);
		cj->rg = rg;
		rg->nparts = rg->left = n;
		rg->unit = cj->j.len / ((uint64_t)n * (n + 1) / 2);
		if (dc__hash_new(cp->bs.ctx, &rg->h) < 0)
			return DC_ENOMEM;
	}
	for (k = 0; k < n; k++) {
		struct xtask *t = &cp->xorder[cp->nx++];

		t->job = i;
		t->part = k;
		/* a job's parts are taken together, the first first */
		t->len = cj->j.len / n;
	}
	return 0;
}

int dc__cpool_start(struct dc_cpool *cp)
{
	struct dc_ctx *ctx = cp->bs.ctx;
	size_t i, want = dc__threads(ctx), xwant = DC_XFER_MAX, nth, pcap;
	uint64_t all = 0;
	int err;

	cp->started = 1;
	if (!cp->n)
		return 0;
	/* --threads bounds transfers too */
	if (ctx->threads > 0 && (size_t)ctx->threads < xwant)
		xwant = (size_t)ctx->threads;
	/* parts of a blob at once: no more than there are cores to take
	 * them in and hash them (on 2 cores, 4 parts cost more CPU than
	 * they saved: BENCHMARKS.md) */
	pcap = want < xwant ? want : xwant;
	if (!(cp->order = dc__calloc(ctx, cp->n, sizeof(*cp->order))) ||
	    !(cp->xorder = dc__calloc(ctx, cp->n * DC_XFER_MAX,
				      sizeof(*cp->xorder))))
		return DC_ENOMEM;
	for (i = 0; i < cp->n; i++)
		if (is_xfer(cp, &cp->jobs[i]))
			all += cp->jobs[i].j.len;
	for (i = 0; i < cp->n; i++) {
		if (!is_xfer(cp, &cp->jobs[i]))
			cp->order[cp->ncopy++] = i;
		else if ((err = add_tasks(cp, i, pcap, all)) < 0)
			return err;
	}
	qsort_r(cp->order, cp->ncopy, sizeof(*cp->order), cmp_size, cp->jobs);
	qsort(cp->xorder, cp->nx, sizeof(*cp->xorder), cmp_task);
	if (want > cp->ncopy)
		want = cp->ncopy;
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
		struct rgroup *rg = cp->jobs[i].rg;

		if (cp->jobs[i].j.dst_own)
			close(cp->jobs[i].j.dstfd);
		free(cp->jobs[i].errmsg);
		if (rg) {
			pthread_mutex_destroy(&rg->mu);
			pthread_cond_destroy(&rg->cv);
			dc__hash_free(rg->h);
			free(rg);
		}
	}
	pthread_mutex_destroy(&cp->mu);
	pthread_cond_destroy(&cp->cv);
	free(cp->th);
	free(cp->order);
	free(cp->xorder);
	free(cp->jobs);
	free(cp);
}
