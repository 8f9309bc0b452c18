/*
 * The blob layer: verified streams over any byte source, the copy and
 * verify pool, worker threads. Readers make byte sources; writers and
 * transforms read blobs through this API only, never through a reader.
 */
#ifndef DC_BLOB_H
#define DC_BLOB_H

#ifndef DC_BUILDING
#error "blob/blob.h is private to decant: build with -DDC_BUILDING"
#endif

#include <pthread.h>

#include "util/util.h"

/* What a blob is: media type, digest, size; a layer also its compression
 * and diff_id. The model's images are made of these. */
struct dc_desc {
	char *media_type;
	char digest[DC_DIGEST_MAX];	/* "" while unknown */
	int64_t size;			/* -1 while unknown */
	enum dc_comp comp;		/* layers: sniffed from the bytes */
	char diff_id[DC_DIGEST_MAX];	/* layers */
	char *path;			/* where the reader finds it */
	unsigned char digest_is_diff;	/* digest taken from the diff_id */
};

/* ------------------------------------------------------------------ */
/* Byte sources */

/*
 * Where blobs come from: a reader's archive or layout (dc__reader_blobs),
 * later a registry. A plain value: copy it freely. open() opens D's
 * stored bytes as they are (compressed or not, unchecked), reporting to
 * BS->ctx, which may be a worker thread's context (dc__bsrc_clone).
 * range() is optional: where D's bytes lie as one range of a file, *FD
 * (close it if *OWN), *OFF, *LEN; 1 if they do not; it is called on the
 * owner's thread only.
 */
struct dc_bsrc {
	struct dc_ctx *ctx;
	const char *label;	/* names the source in messages */
	int (*open)(const struct dc_bsrc *bs, const struct dc_desc *d,
		    struct dc_stream **out);
	int (*range)(const struct dc_bsrc *bs, const struct dc_desc *d,
		     int *fd, int *own, uint64_t *off, uint64_t *len);
	/* optional: bytes [OFF, OFF+LEN) of D's stored bytes (D's size
	 * known), each such stream on its own connection: exactly LEN bytes
	 * or a failure naming the blob. DC_EUNSUPPORTED when the source
	 * does not serve that range: open() the blob whole instead. */
	int (*open_range)(const struct dc_bsrc *bs, const struct dc_desc *d,
			  uint64_t off, uint64_t len, struct dc_stream **out);
	void *arg;		/* the maker's */
	/* blobs named by digest in a remote store (a registry): open()
	 * may run on several threads at once, each stream on its own
	 * connection, and a blob copied as it is is checked by digest
	 * and size (its diff_id where it is decompressed) */
	unsigned char remote;
};

/*
 * A copy of BS for a worker thread: it reports to TCTX, a fresh context
 * whose interrupt also follows *INTR and BS's context's, and which has
 * BS's context's thread count.
 */
void dc__bsrc_clone(const struct dc_bsrc *bs, struct dc_ctx *tctx,
		    struct dc_bsrc *out, const volatile sig_atomic_t *intr);
/* D's bytes as one range of a file (see range above); 1 if not. */
int dc__blob_range(const struct dc_bsrc *bs, const struct dc_desc *d,
		   int *fd, int *own, uint64_t *off, uint64_t *len);

/* ------------------------------------------------------------------ */
/* Verified streams */

enum dc_blob_flags {
	DC_BLOB_DIFFID = 1 << 0,	/* also check the layer's diff_id */
	/* a read's bytes are hashed later: by dc__blob_hash_along or
	 * dc__blob_hash_pair, else at the next read. The caller leaves them
	 * untouched until then. This lets one thread hash two streams at
	 * once (dc__hash_update2). */
	DC_BLOB_DEFER = 1 << 1
};

/*
 * Open blob D of BS and wrap it so that its size and digest (and with
 * DC_BLOB_DIFFID its diff_id) are checked as it streams: the read that
 * reaches the end fails with DC_EDIGEST naming the blob on a mismatch.
 */
int dc__blob_open(const struct dc_bsrc *bs, const struct dc_desc *d,
		  unsigned flags, struct dc_stream **out);
/* With DC_BLOB_DEFER: hash N bytes of P into H, and as many of the bytes
 * S read last as there are, both at once. */
void dc__blob_hash_along(struct dc_stream *s, struct dc_hash *h,
			 const void *p, size_t n);
/* With DC_BLOB_DEFER: hash what A and B read last, both at once. */
void dc__blob_hash_pair(struct dc_stream *a, struct dc_stream *b);
/*
 * The checks of a verifying stream's end (DC_BLOB_DIFFID), for an
 * uncompressed blob D of BS read and hashed elsewhere: SIZE bytes whose
 * digest is GOT. 0, or DC_EDIGEST with the stream's message in CTX.
 */
int dc__blob_verdict(struct dc_ctx *ctx, const struct dc_bsrc *bs,
		     const struct dc_desc *d, uint64_t size, const char *got);

/* The same for blob D's stored bytes by digest and size only (any
 * compression): SIZE bytes whose digest is GOT. */
int dc__blob_verdict_stored(struct dc_ctx *ctx, const struct dc_bsrc *bs,
			    const struct dc_desc *d, uint64_t size,
			    const char *got);

/*
 * Open layer D as an uncompressed tar stream. With VERIFY, the blob's
 * digest and size and the tar's diff_id are checked as it streams (the
 * read that reaches the end fails on a mismatch); without, the raw
 * bytes are read (cheap skips on uncompressed seekable sources).
 */
int dc__blob_open_tar(const struct dc_bsrc *bs, const struct dc_desc *d,
		      int verify, struct dc_stream **out);

/* ------------------------------------------------------------------ */
/* Worker threads */

/*
 * Start FN(ARG) on threads TH[0..N): how many started (the caller runs
 * the work itself when none did). dc__threads_join waits for N of them.
 * dc__threads_run starts N, runs FN(ARG) here if none started, and
 * waits: the work must be shared out by ARG.
 */
size_t dc__threads_start(pthread_t *th, size_t n, void *(*fn)(void *),
			 void *arg);
void dc__threads_join(pthread_t *th, size_t n);
void dc__threads_run(size_t n, void *(*fn)(void *), void *arg);

/* ------------------------------------------------------------------ */
/* The copy and verify pool (src/blob/pool.c) */

/*
 * Worker threads, as many as the context allows (dc__threads), largest
 * job first. A job with D set reads blob D of the pool's byte source
 * through its verifying stream (size, digest, diff_id) and, when DSTFD
 * >= 0, writes what it reads there (one pass per blob); with DSTFD < 0
 * it only verifies. A job with D NULL copies [SRCOFF, SRCOFF+LEN) of
 * SRCFD as it is (a spool, hashed when it was made). Bytes go to DSTFD
 * at DSTOFF with pwrite; with DST_OWN the pool closes DSTFD.
 * start() starts the workers and returns; wait() waits for them (with
 * REPORT, the bytes done go to CTX's progress), passes an interrupt on,
 * and puts the first failure in CTX; run() is both. free() is NULL-safe,
 * stops and joins a pool still running, and closes owned descriptors.
 */
struct dc_cjob {
	const struct dc_desc *d;
	int srcfd;
	uint64_t srcoff;
	uint64_t len;
	int dstfd;
	int dst_own;
	uint64_t dstoff;
	const char *dst_label;	/* for messages; must outlive the pool */
	/* D is checked by digest and size only, not decompressed for its
	 * diff_id (a compressed blob copied as it is to or from a
	 * registry) */
	int digest_only;
	/* a transfer: SEND(SEND_ARG, TCTX, IN) takes the blob from IN (the
	 * verifying stream of D, or SRCFD's range), reporting to the
	 * worker's context TCTX; DSTFD is unused. Transfers run on threads
	 * of their own, up to DC_XFER_MAX at once (they wait on the
	 * network more than on a core). */
	int (*send)(void *send_arg, struct dc_ctx *tctx, struct dc_stream *in);
	void *send_arg;
};
#define DC_XFER_MAX 4
struct dc_cpool;
int dc__cpool_new(const struct dc_bsrc *bs, struct dc_cpool **out);
int dc__cpool_add(struct dc_cpool *cp, const struct dc_cjob *j);
int dc__cpool_start(struct dc_cpool *cp);
int dc__cpool_wait(struct dc_cpool *cp, struct dc_ctx *ctx, int report);
int dc__cpool_run(struct dc_cpool *cp, struct dc_ctx *ctx);
void dc__cpool_free(struct dc_cpool *cp);
/* A failed job no longer stops the others (a verify that reports
 * every problem); running out of memory or an interrupt still does.
 * After wait(), job I's (in order of adding) code and message (NULL
 * when the code is 0). */
void dc__cpool_keep_going(struct dc_cpool *cp);
int dc__cpool_result(const struct dc_cpool *cp, size_t i, const char **msg);
/* Add a job verifying blob D, writing nowhere. */
int dc__cpool_add_verify(struct dc_cpool *cp, const struct dc_desc *d);

#endif
