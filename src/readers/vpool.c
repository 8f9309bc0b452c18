/*
 * A pool of threads verifying blobs (size, digest, diff_id) while the
 * caller copies their bytes some other way: hashing and inflating then
 * run on the other cores. Each worker has its own context; the first
 * failure, in the order the blobs were given, is reported at the end.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

struct vjob {
	const struct dc_desc *d;
	int err;
	char msg[sizeof(((struct dc_ctx *)0)->msg)];
};

struct dc_vpool {
	pthread_mutex_t mu;
	struct dc_reader *r;
	struct vjob *jobs;
	size_t *order;		/* largest first: the longest sets the end */
	size_t n, next;
	pthread_t *th;
	size_t nth;
	volatile sig_atomic_t stop;	/* the caller failed: give up */
};

static void *vworker(void *arg)
{
	struct dc_vpool *vp = arg;
	char *buf = malloc(1 << 20);

	for (;;) {
		struct dc_ctx tctx;
		struct dc_src src;
		struct dc_reader r;
		struct dc_stream *s = NULL;
		struct vjob *j;
		ssize_t got;
		size_t i;

		pthread_mutex_lock(&vp->mu);
		i = vp->next++;
		pthread_mutex_unlock(&vp->mu);
		if (i >= vp->n)
			break;
		j = &vp->jobs[vp->order[i]];
		if (vp->r->ctx->interrupted)
			vp->stop = 1;
		dc__reader_clone(vp->r, &tctx, &src, &r, &vp->stop);
		if (!buf) {
			j->err = dc__enomem(&tctx);
		} else if ((j->err = dc__blob_open(&r, j->d, DC_BLOB_DIFFID, &s)) == 0) {
			while ((got = dc__stream_read(s, buf, 1 << 20)) > 0)
				;
			j->err = got < 0 ? (int)got : 0;
		}
		dc__stream_close(s);
		if (j->err)
			memcpy(j->msg, tctx.msg, sizeof(j->msg));
	}
	free(buf);
	return NULL;
}

static int cmp_size(const void *a, const void *b, void *arg)
{
	const struct vjob *jobs = arg;
	int64_t x = jobs[*(const size_t *)a].d->size;
	int64_t y = jobs[*(const size_t *)b].d->size;

	if (x != y)
		return x > y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int dc__vpool_start(struct dc_reader *r, const struct dc_desc *const *d,
		    size_t n, struct dc_vpool **out)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i, want = ncpu > 0 ? (size_t)ncpu : 1;
	struct dc_vpool *vp;

	*out = NULL;
	if (!(vp = dc__calloc(r->ctx, 1, sizeof(*vp))))
		return DC_ENOMEM;
	vp->r = r;
	pthread_mutex_init(&vp->mu, NULL);
	if (n && !(vp->jobs = dc__calloc(r->ctx, n, sizeof(*vp->jobs))))
		goto nomem;
	if (n && !(vp->order = dc__calloc(r->ctx, n, sizeof(*vp->order))))
		goto nomem;
	for (i = 0; i < n; i++) {
		vp->jobs[i].d = d[i];
		vp->order[i] = i;
	}
	if (n)
		qsort_r(vp->order, n, sizeof(*vp->order), cmp_size, vp->jobs);
	vp->n = n;
	if (want > n)
		want = n;
	if (want && !(vp->th = dc__calloc(r->ctx, want, sizeof(*vp->th))))
		goto nomem;
	for (i = 0; i < want; i++) {
		if (pthread_create(&vp->th[i], NULL, vworker, vp))
			break;
		vp->nth++;
	}
	if (!vp->nth)
		vworker(vp);	/* no threads: verify here and now */
	*out = vp;
	return 0;
nomem:
	pthread_mutex_destroy(&vp->mu);
	free(vp->order);
	free(vp->jobs);
	free(vp->th);
	free(vp);
	return DC_ENOMEM;
}

int dc__vpool_finish(struct dc_vpool *vp, struct dc_ctx *ctx)
{
	size_t i;
	int err = 0;

	if (!vp)
		return 0;
	for (i = 0; i < vp->nth; i++)
		pthread_join(vp->th[i], NULL);
	for (i = 0; i < vp->n && !err; i++) {
		if (vp->jobs[i].err && ctx) {
			err = vp->jobs[i].err;
			ctx->code = err;
			memcpy(ctx->msg, vp->jobs[i].msg, sizeof(ctx->msg));
		}
	}
	pthread_mutex_destroy(&vp->mu);
	free(vp->th);
	free(vp->order);
	free(vp->jobs);
	free(vp);
	return err;
}

void dc__vpool_stop(struct dc_vpool *vp)
{
	if (!vp)
		return;
	vp->stop = 1;
	dc__vpool_finish(vp, NULL);
}
