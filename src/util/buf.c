/*
 * Growable buffers and allocation helpers (with failure injection).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static long fail_countdown;	/* 0 = off; tests only, single-threaded */

void dc__fail_alloc_at(long n)
{
	fail_countdown = n;
}

static int should_fail(void)
{
	if (fail_countdown <= 0)
		return 0;
	return --fail_countdown == 0;
}

void *dc__calloc(struct dc_ctx *ctx, size_t n, size_t size)
{
	void *p = should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);

	if (!p)
		dc__enomem(ctx);
	return p;
}

void *dc__reallocarray(struct dc_ctx *ctx, void *p, size_t n, size_t size)
{
	size_t bytes;
	void *q;

	if (size && n > SIZE_MAX / size) {
		dc__enomem(ctx);
		return NULL;
	}
	bytes = n * size;
	q = should_fail() ? NULL : realloc(p, bytes ? bytes : 1);
	if (!q)
		dc__enomem(ctx);
	return q;
}

char *dc__strdup(struct dc_ctx *ctx, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = dc__calloc(ctx, 1, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

static int grow(struct dc_ctx *ctx, struct dc_buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return dc__enomem(ctx);
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = dc__reallocarray(ctx, b->data, cap, 1);
	if (!p)
		return DC_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int dc__buf_add(struct dc_ctx *ctx, struct dc_buf *b, const void *p,
		size_t n)
{
	int err = grow(ctx, b, n);

	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int dc__buf_addstr(struct dc_ctx *ctx, struct dc_buf *b, const char *s)
{
	return dc__buf_add(ctx, b, s, strlen(s));
}

int dc__buf_addf(struct dc_ctx *ctx, struct dc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return dc_error(ctx, DC_EINVAL, "bad format string");
	if ((err = grow(ctx, b, (size_t)n)) < 0)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void dc__buf_release(struct dc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *dc__buf_detach(struct dc_buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
