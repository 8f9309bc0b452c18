/*
 * decant: error codes and the context that carries error messages.
 */
#ifndef DECANT_ERROR_H
#define DECANT_ERROR_H

#include <stddef.h>
#include <stdint.h>

#if defined(DC_BUILDING) && defined(__GNUC__)
#define DC_API __attribute__((visibility("default")))
#else
#define DC_API
#endif

/*
 * Fallible functions return 0 on success or one of these negative codes.
 * The message that explains the failure is in the context.
 */
enum dc_code {
	DC_OK = 0,
	DC_ENOMEM = -1,		/* out of memory */
	DC_EIO = -2,		/* read or write failed */
	DC_EFORMAT = -3,	/* not a format decant knows, or malformed */
	DC_ECORRUPT = -4,	/* member missing, truncated, inconsistent */
	DC_EDIGEST = -5,	/* a digest or size does not match */
	DC_EUNSUPPORTED = -6,	/* valid, but not supported */
	DC_ELIMIT = -7,		/* a cap was exceeded */
	DC_EINVAL = -8,		/* bad argument */
	DC_EINTR = -9		/* interrupted by a signal */
};

struct dc_ctx;

/* Progress callback: bytes done of total (total may be 0 if unknown),
 * blob n of N. Called from the thread doing the work. */
typedef void (*dc_progress_fn)(void *arg, uint64_t done, uint64_t total,
			       size_t blob, size_t nblobs);

/* Phase callback: an operation starts phase NAME ("spool", "recompress",
 * "squash", "write", "verify"), whose work is TOTAL bytes (0: unknown).
 * The progress calls that follow count this phase's bytes. */
typedef void (*dc_phase_fn)(void *arg, const char *name, uint64_t total);

/* Outline callback: before an operation runs the phases it planned, it
 * names each (as the phase callback will) with the WORK it expects: the
 * bytes its progress calls will count that take real time, i.e. what is
 * read, recompressed or squashed, not the copies of what an earlier phase
 * made (DC_WORK_UNKNOWN: not known in advance). A phase may be named more
 * than once; each time adds to it. Progress front ends sum the outline to
 * estimate the whole job. */
#define DC_WORK_UNKNOWN UINT64_MAX
typedef void (*dc_outline_fn)(void *arg, const char *name, uint64_t work);

/* Notice callback: a choice decant made that the user should know of
 * (e.g. which platform it picked from a multi-platform index). */
typedef void (*dc_notice_fn)(void *arg, const char *msg);

/* Create a context; *out is owned by the caller (dc_ctx_free). */
DC_API int dc_ctx_new(struct dc_ctx **out);
DC_API void dc_ctx_free(struct dc_ctx *ctx);

/* The message of the last error; borrowed, valid until the next call. */
DC_API const char *dc_ctx_errmsg(const struct dc_ctx *ctx);
DC_API int dc_ctx_errcode(const struct dc_ctx *ctx);

DC_API void dc_ctx_set_progress(struct dc_ctx *ctx, dc_progress_fn fn,
				void *arg);

DC_API void dc_ctx_set_notice(struct dc_ctx *ctx, dc_notice_fn fn, void *arg);

/* Where phases are reported (with the progress callback, which may then
 * be called from several threads at once: recompression workers). */
DC_API void dc_ctx_set_phase(struct dc_ctx *ctx, dc_phase_fn fn, void *arg);

/* Where the phases an operation plans are announced (dc_outline_fn). */
DC_API void dc_ctx_set_outline(struct dc_ctx *ctx, dc_outline_fn fn,
			       void *arg);

/* Worker threads every parallel stage (copying, verifying, squashing,
 * compressing) may use at most; a stage never runs more than one per
 * core. N <= 0: one per core (the default). */
DC_API void dc_ctx_set_threads(struct dc_ctx *ctx, int n);

/*
 * The memory an input may make decant spend, in bytes (0: the default,
 * DC_MAX_MEMORY_DEFAULT). A compressed stream whose window needs more
 * than a quarter of it, or a tar whose member index needs more than half
 * of it, is refused with DC_ELIMIT and a message naming the limit.
 */
#define DC_MAX_MEMORY_DEFAULT (64ull << 20)
DC_API void dc_ctx_set_max_memory(struct dc_ctx *ctx, uint64_t bytes);

/*
 * Ask a running operation to stop (async-signal-safe: only sets a flag).
 * The operation then fails with DC_EINTR and removes its partial output.
 */
DC_API void dc_ctx_interrupt(struct dc_ctx *ctx);

DC_API const char *dc_version(void);
/* The codecs and accelerations built in and in use on this machine, one
 * line ("zstd 1.5.5, zlib 1.3, xz 5.4.5, ISA-L igzip, libdeflate;
 * sha256: SHA extensions (in use)"); borrowed, static. */
DC_API const char *dc_features(void);

#endif
