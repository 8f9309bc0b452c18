/*
 * Growable buffers and allocation helpers (with failure injection).
 */
#include "util/util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static long fail_countdown;	/* 0 = off; set by tests only */

void dc__fail_alloc_at(long n)
{
	__atomic_store_n(&fail_countdown, n, __ATOMIC_RELAXED);
}

/* Atomic: worker threads allocate too. */
static int should_fail(void)
{
	if (__atomic_load_n(&fail_countdown, __ATOMIC_RELAXED) <= 0)
		return 0;
	return __atomic_sub_fetch(&fail_countdown, 1, __ATOMIC_RELAXED) == 0;
}

void *dc__malloc(struct dc_ctx *ctx, size_t n)
{
	void *p = should_fail() ? NULL : malloc(n ? n : 1);

	if (!p && ctx)
		dc__enomem(ctx);
	return p;
}

/* jansson's allocations go through the same failure injection. jansson
 * does not always report a failed allocation as such (a parse may fail
 * with a syntax error, or drop a value), so each thread notes one. */
static __thread int json_oom;

static void *json_malloc(size_t n)
{
	void *p = should_fail() ? NULL : malloc(n);

	if (!p)
		json_oom = 1;
	return p;
}

int dc__json_oom_take(void)
{
	int r = json_oom;

	json_oom = 0;
	return r;
}

static void json_hook(void)
{
	json_set_alloc_funcs(json_malloc, free);
}

void dc__alloc_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, json_hook);
	json_oom = 0;
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
