/*
 * Byte streams over memory and file ranges.
 */
#include "util/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

void dc__stream_close(struct dc_stream *s)
{
	if (s)
		s->close(s);
}

struct mem_stream {
	struct dc_stream s;
	const unsigned char *p;
	size_t left;
};

static ssize_t mem_read(struct dc_stream *s, void *buf, size_t n)
{
	struct mem_stream *m = (struct mem_stream *)s;

	if (n > m->left)
		n = m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

static int64_t mem_skip(struct dc_stream *s, int64_t n)
{
	struct mem_stream *m = (struct mem_stream *)s;

	if (n < 0)
		return 0;
	if ((uint64_t)n > m->left)
		n = (int64_t)m->left;
	m->p += n;
	m->left -= (size_t)n;
	return n;
}

static void mem_close(struct dc_stream *s)
{
	free(s);
}

int dc__stream_drain(struct dc_stream *s)
{
	char buf[1 << 16];
	ssize_t got;

	while ((got = dc__stream_read(s, buf, sizeof(buf))) > 0)
		;
	return got < 0 ? (int)got : 0;
}

int dc__stream_memory(struct dc_ctx *ctx, struct dc_stream **out,
		      const void *p, size_t n)
{
	struct mem_stream *m = dc__calloc(ctx, 1, sizeof(*m));

	*out = NULL;
	if (!m)
		return DC_ENOMEM;
	m->s.ctx = ctx;
	m->s.read = mem_read;
	m->s.close = mem_close;
	m->s.skip = mem_skip;
	m->p = p;
	m->left = n;
	*out = &m->s;
	return 0;
}

/* A byte range of anything read by position: a file, a split set. */
struct range_stream {
	struct dc_stream s;
	const struct dc_pread_ops *ops;
	void *arg;
	uint64_t off;
	uint64_t left;
};

static ssize_t range_read(struct dc_stream *s, void *buf, size_t n)
{
	struct range_stream *f = (struct range_stream *)s;
	const struct dc_pread_ops *ops = f->ops;
	ssize_t got;

	if (n > f->left)
		n = (size_t)f->left;
	if (!n)
		return 0;
	do
		got = ops->pread(f->arg, buf, n, f->off);
	while (got < 0 && errno == EINTR && !s->ctx->interrupted);
	if (got < 0) {
		if (ops->name_at)
			return dc_error(s->ctx, DC_EIO, "'%s': read failed: %s",
					ops->name_at(f->arg, f->off),
					strerror(errno));
		return dc_error(s->ctx, DC_EIO, "read failed: %s",
				strerror(errno));
	}
	if (got == 0)
		return dc_error(s->ctx, DC_ECORRUPT,
				"unexpected end of %s (%llu bytes missing)%s",
				ops->what, (unsigned long long)f->left,
				ops->short_hint ? ops->short_hint : "");
	f->off += (uint64_t)got;
	f->left -= (uint64_t)got;
	return got;
}

static int64_t range_skip(struct dc_stream *s, int64_t n)
{
	struct range_stream *f = (struct range_stream *)s;

	if (n < 0)
		return 0;
	if ((uint64_t)n > f->left)
		n = (int64_t)f->left;
	f->off += (uint64_t)n;
	f->left -= (uint64_t)n;
	return n;
}

static void range_close(struct dc_stream *s)
{
	struct range_stream *f = (struct range_stream *)s;

	if (f->ops->release)
		f->ops->release(f->arg);
	free(f);
}

int dc__stream_pread_range(struct dc_ctx *ctx, struct dc_stream **out,
			   const struct dc_pread_ops *ops, void *arg,
			   uint64_t off, uint64_t len)
{
	struct range_stream *f = dc__calloc(ctx, 1, sizeof(*f));

	*out = NULL;
	if (!f) {
		if (ops->release)
			ops->release(arg);
		return DC_ENOMEM;
	}
	f->s.ctx = ctx;
	f->s.read = range_read;
	f->s.close = range_close;
	f->s.skip = range_skip;
	f->ops = ops;
	f->arg = arg;
	f->off = off;
	f->left = len;
	*out = &f->s;
	return 0;
}

/* a file descriptor as the ARG of dc_pread_ops */
static ssize_t fd_pread(void *arg, void *buf, size_t n, uint64_t off)
{
	return pread((int)(intptr_t)arg, buf, n, (off_t)off);
}

static void fd_release(void *arg)
{
	close((int)(intptr_t)arg);
}

static const struct dc_pread_ops fd_ops = {
	.pread = fd_pread,
	.what = "file",
};

static const struct dc_pread_ops fd_own_ops = {
	.pread = fd_pread,
	.release = fd_release,
	.what = "file",
};

int dc__stream_fd_range(struct dc_ctx *ctx, struct dc_stream **out, int fd,
			uint64_t off, uint64_t len, int own_fd)
{
	return dc__stream_pread_range(ctx, out, own_fd ? &fd_own_ops : &fd_ops,
				      (void *)(intptr_t)fd, off, len);
}
