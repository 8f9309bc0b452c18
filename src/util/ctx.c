/*
 * The context: error messages, progress, interruption, thread count.
 */
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

int dc_ctx_new(struct dc_ctx **out)
{
	struct dc_ctx *ctx;

	dc__alloc_init();
	ctx = calloc(1, sizeof(*ctx));
	*out = ctx;
	return ctx ? 0 : DC_ENOMEM;
}

static void reg_opts_free(struct dc_ctx *ctx)
{
	if (ctx->reg_creds)
		explicit_bzero(ctx->reg_creds, strlen(ctx->reg_creds));
	free(ctx->reg_creds);
	free(ctx->reg_cert_dir);
	free(ctx->reg_auth_file);
	ctx->reg_creds = ctx->reg_cert_dir = ctx->reg_auth_file = NULL;
}

void dc_ctx_free(struct dc_ctx *ctx)
{
	if (ctx)
		reg_opts_free(ctx);
	free(ctx);
}

int dc_ctx_set_registry(struct dc_ctx *ctx, const struct dc_registry_opts *o)
{
	reg_opts_free(ctx);
	ctx->reg_tls_off = o && o->tls_verify == 0;
	if (!o)
		return 0;
	if ((o->creds && !(ctx->reg_creds = dc__strdup(ctx, o->creds))) ||
	    (o->cert_dir && !(ctx->reg_cert_dir = dc__strdup(ctx, o->cert_dir))) ||
	    (o->auth_file &&
	     !(ctx->reg_auth_file = dc__strdup(ctx, o->auth_file)))) {
		reg_opts_free(ctx);
		return DC_ENOMEM;
	}
	return 0;
}

const char *dc_ctx_errmsg(const struct dc_ctx *ctx)
{
	return ctx->msg[0] ? ctx->msg : "no error";
}

int dc_ctx_errcode(const struct dc_ctx *ctx)
{
	return ctx->code;
}

void dc_ctx_set_phase(struct dc_ctx *ctx, dc_phase_fn fn, void *arg)
{
	ctx->phase = fn;
	ctx->phase_arg = arg;
}

void dc_ctx_set_outline(struct dc_ctx *ctx, dc_outline_fn fn, void *arg)
{
	ctx->outline = fn;
	ctx->outline_arg = arg;
}

void dc__outline(struct dc_ctx *ctx, const char *name, uint64_t work)
{
	if (ctx->outline)
		ctx->outline(ctx->outline_arg, name, work);
}

void dc__phase(struct dc_ctx *ctx, const char *name, uint64_t total)
{
	if (ctx->phase)
		ctx->phase(ctx->phase_arg, name, total);
}

void dc__progress(struct dc_ctx *ctx, uint64_t n)
{
	if (ctx->progress && n)
		ctx->progress(ctx->progress_arg, n, 0, 0, 0);
}

void dc_ctx_set_progress(struct dc_ctx *ctx, dc_progress_fn fn, void *arg)
{
	ctx->progress = fn;
	ctx->progress_arg = arg;
}

void dc_ctx_set_notice(struct dc_ctx *ctx, dc_notice_fn fn, void *arg)
{
	ctx->notice = fn;
	ctx->notice_arg = arg;
}

void dc_ctx_set_threads(struct dc_ctx *ctx, int n)
{
	ctx->threads = n > 0 ? n : 0;
}

size_t dc__ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (size_t)n : 1;
}

size_t dc__threads(const struct dc_ctx *ctx)
{
	size_t n = dc__ncpu();

	/* a bound: more threads than cores would only take turns */
	return ctx->threads > 0 && (size_t)ctx->threads < n ?
	       (size_t)ctx->threads : n;
}

void dc_ctx_set_max_memory(struct dc_ctx *ctx, uint64_t bytes)
{
	ctx->max_memory = bytes;
}

uint64_t dc__max_memory(const struct dc_ctx *ctx)
{
	return ctx->max_memory ? ctx->max_memory : DC_MAX_MEMORY_DEFAULT;
}

const char *dc__mem_str(char *buf, size_t n, uint64_t bytes)
{
	if (bytes >= (1u << 20) && !(bytes & ((1u << 20) - 1)))
		snprintf(buf, n, "%llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes >= 1024 && !(bytes & 1023))
		snprintf(buf, n, "%llu KiB", (unsigned long long)(bytes >> 10));
	else
		snprintf(buf, n, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

void dc__notice(struct dc_ctx *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!ctx->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->notice(ctx->notice_arg, msg);
}

void dc_ctx_interrupt(struct dc_ctx *ctx)
{
	/* from a signal handler; worker threads read it too */
	__atomic_store_n(&ctx->interrupted, 1, __ATOMIC_RELAXED);
}

const char *dc_version(void)
{
	return DC_VERSION;
}

int dc_error(struct dc_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
	va_end(ap);
	ctx->code = code;
	return code;
}

int dc_error_prefix(struct dc_ctx *ctx, const char *fmt, ...)
{
	char pre[1024];
	size_t np, nm = strlen(ctx->msg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	np = strlen(pre) + 2;
	if (np + nm + 1 > sizeof(ctx->msg))
		nm = sizeof(ctx->msg) - np - 1;
	memmove(ctx->msg + np, ctx->msg, nm);
	memcpy(ctx->msg, pre, np - 2);
	memcpy(ctx->msg + np - 2, ": ", 2);
	ctx->msg[np + nm] = '\0';
	return ctx->code;
}

int dc__error_in(struct dc_ctx *ctx, const char *label)
{
	size_t n = strlen(label);

	if (ctx->code == DC_ENOMEM || ctx->code == DC_EINTR ||
	    (!strncmp(ctx->msg, label, n) && ctx->msg[n] == ':'))
		return ctx->code;
	return dc_error_prefix(ctx, "%s", label);
}

void dc__err_save(struct dc_err *e, int code, const struct dc_ctx *from)
{
	e->code = code;
	memcpy(e->msg, from->msg, sizeof(e->msg));
}

int dc__err_restore(struct dc_ctx *to, const struct dc_err *e)
{
	to->code = e->code;
	memcpy(to->msg, e->msg, sizeof(to->msg));
	return e->code;
}

int dc__enomem(struct dc_ctx *ctx)
{
	return dc_error(ctx, DC_ENOMEM, "out of memory");
}

int dc__check_intr(struct dc_ctx *ctx)
{
	/* the parents' flags are set by other threads */
	if (ctx->interrupted ||
	    (ctx->parent_intr &&
	     __atomic_load_n(ctx->parent_intr, __ATOMIC_RELAXED)) ||
	    (ctx->parent_intr2 &&
	     __atomic_load_n(ctx->parent_intr2, __ATOMIC_RELAXED)))
		return dc_error(ctx, DC_EINTR, "interrupted");
	return 0;
}

void dc__bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "decant: BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
