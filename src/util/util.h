/*
 * util: the context and its errors, capped buffers and allocation,
 * digests, codecs, JSON, streams, sources (a directory or a tar), output
 * files and the tar writer. It knows no images and calls nothing above
 * it. Not installed.
 */
#ifndef DC_UTIL_H
#define DC_UTIL_H

#ifndef DC_BUILDING
#error "util/util.h is private to decant: build with -DDC_BUILDING"
#endif

#define _GNU_SOURCE 1
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "decant/decant.h"

#define DC_BUG(...) dc__bug(__FILE__, __LINE__, __VA_ARGS__)
void dc__bug(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/* ------------------------------------------------------------------ */
/* Context and errors */

struct dc_ctx {
	int code;
	char msg[2048];
	dc_notice_fn notice;
	void *notice_arg;
	dc_progress_fn progress;
	void *progress_arg;
	dc_phase_fn phase;
	void *phase_arg;
	dc_outline_fn outline;
	void *outline_arg;
	volatile sig_atomic_t interrupted;
	/* a worker thread's context also obeys its pool's stop flag and
	 * the parent context's interrupt */
	const volatile sig_atomic_t *parent_intr;
	const volatile sig_atomic_t *parent_intr2;
	int threads;		/* worker threads at most; 0 = one per core */
	uint64_t max_memory;	/* dc_ctx_set_max_memory(); 0: default */
	/* dc_ctx_set_registry(): owned copies, NULL when unset */
	char *reg_creds;
	char *reg_cert_dir;
	char *reg_auth_file;
	int reg_tls_off;
};

/* Report the start of phase NAME of TOTAL bytes (0: unknown), and N
 * bytes of work done in it. */
void dc__phase(struct dc_ctx *ctx, const char *name, uint64_t total);
void dc__progress(struct dc_ctx *ctx, uint64_t n);
/* Announce that phase NAME will run, with WORK bytes (dc_outline_fn). */
void dc__outline(struct dc_ctx *ctx, const char *name, uint64_t work);

/* Set the context's error and return CODE (git's error() idiom). */
int dc_error(struct dc_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prepend "PREFIX: " to the current message; returns the current code. */
int dc_error_prefix(struct dc_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int dc__enomem(struct dc_ctx *ctx);
/* Tell the user something they should know (a choice made for them). */
void dc__notice(struct dc_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix the message with "LABEL: " unless it already starts so;
 * returns the current code (source errors name the archive once). */
int dc__error_in(struct dc_ctx *ctx, const char *label);
int dc__check_intr(struct dc_ctx *ctx);
/* What an input may make us spend (dc_ctx_set_max_memory()): a decoder's
 * window at most a quarter of it, a tar's member index half of it. */
uint64_t dc__max_memory(const struct dc_ctx *ctx);
/* Fill BUF with "N MiB"-style text for the limit in messages. */
const char *dc__mem_str(char *buf, size_t n, uint64_t bytes);

/*
 * An error carried from a worker thread's context to its caller's:
 * dc__err_save keeps CODE and FROM's message, dc__err_restore puts them
 * in TO and returns the code.
 */
struct dc_err {
	int code;
	char msg[sizeof(((struct dc_ctx *)0)->msg)];
};
void dc__err_save(struct dc_err *e, int code, const struct dc_ctx *from);
int dc__err_restore(struct dc_ctx *to, const struct dc_err *e);

/* Online cores (at least 1), and how many worker threads a parallel
 * stage of CTX runs: one per core, fewer if CTX's thread count
 * (dc_ctx_set_threads) says so. */
size_t dc__ncpu(void);
size_t dc__threads(const struct dc_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Caps on untrusted input. Documented in the man page. */

#define DC_MAX_JSON		(8u << 20)	/* any JSON document */
#define DC_MAX_JSON_DEPTH	64		/* nesting of any JSON document */
#define DC_MAX_INDEX_DEPTH	8		/* nested image indexes */
#define DC_MAX_SYMLINKS		16		/* in-archive symlink hops */
#define DC_MAX_MEMBERS		(1u << 22)	/* tar members in a source */
#define DC_MAX_NAME		4096		/* member name length */

/* ------------------------------------------------------------------ */
/* Growable byte buffer with a mandatory cap */

struct dc_buf {
	char *data;
	size_t len;
	size_t cap;
};
#define DC_BUF_INIT { NULL, 0, 0 }

int dc__buf_add(struct dc_ctx *ctx, struct dc_buf *b, const void *p,
		size_t n);
int dc__buf_addstr(struct dc_ctx *ctx, struct dc_buf *b, const char *s);
int dc__buf_addf(struct dc_ctx *ctx, struct dc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dc__buf_release(struct dc_buf *b);
/* Take ownership of the bytes; the buffer is left empty. */
char *dc__buf_detach(struct dc_buf *b, size_t *len);

char *dc__strdup(struct dc_ctx *ctx, const char *s);
void *dc__calloc(struct dc_ctx *ctx, size_t n, size_t size);
void *dc__reallocarray(struct dc_ctx *ctx, void *p, size_t n, size_t size);

/* malloc with failure injection; on failure an error in CTX unless NULL. */
void *dc__malloc(struct dc_ctx *ctx, size_t n);
/* Failure injection for tests: the Nth allocation from now fails. */
void dc__fail_alloc_at(long n);
/* Route jansson's allocations through the failure injection (once). */
void dc__alloc_init(void);
/* Did a jansson allocation fail on this thread since the last call (or
 * since dc_ctx_new)? Parses and dumps check it: one that failed while a
 * JSON value was built shows when the value is written. */
int dc__json_oom_take(void);

/*
 * An index of strings held elsewhere, by entry number (sindex.c): a
 * table of many layers or blobs finds an entry by its digest or ID in
 * constant time instead of a scan. KEY(ARG, i) is entry i's string; it
 * must not change while indexed. Initialize as DC_SINDEX_INIT.
 */
struct dc_sindex {
	size_t *slot;		/* entry + 1, 0 when empty */
	size_t cap, n;
};
#define DC_SINDEX_INIT { NULL, 0, 0 }
#define DC_SINDEX_NONE ((size_t)-1)
typedef const char *(*dc_sindex_key_fn)(const void *arg, size_t i);

/* The entry whose string is K, or DC_SINDEX_NONE. */
size_t dc__sindex_find(const struct dc_sindex *x, dc_sindex_key_fn key,
		       const void *arg, const char *k);
/* Index entry I, whose string is not indexed yet. */
int dc__sindex_add(struct dc_ctx *ctx, struct dc_sindex *x,
		   dc_sindex_key_fn key, const void *arg, size_t i);
void dc__sindex_release(struct dc_sindex *x);

/* ------------------------------------------------------------------ */
/* Digests */

#define DC_DIGEST_MAX 72	/* "sha256:" + 64 hex + NUL */

struct dc_hash;
int dc__hash_new(struct dc_ctx *ctx, struct dc_hash **out);
void dc__hash_update(struct dc_hash *h, const void *p, size_t n);
/* Both updates at once: on x86-64 with the SHA extensions the two
 * streams share the time of one (hash.c). */
void dc__hash_update2(struct dc_hash *a, const void *pa, size_t na,
		      struct dc_hash *b, const void *pb, size_t nb);
/* Tests: ON 0 turns the SHA extensions off for hashes made after it, 1
 * back on where the CPU has them, -1 leaves it; returns whether they are
 * used. */
int dc__hash_accel(int on);
/* Writes "sha256:<hex>" to OUT and resets the hash. */
void dc__hash_final(struct dc_hash *h, char out[DC_DIGEST_MAX]);
void dc__hash_free(struct dc_hash *h);
void dc__sha256_digest(const void *p, size_t n, char out[DC_DIGEST_MAX]);

/* 1 if S is "sha256:" followed by 64 lowercase hex digits. */
int dc__digest_valid(const char *s);
/* The 64-hex part of a valid digest. */
const char *dc__digest_hex(const char *digest);
/* 1 if S is exactly 64 lowercase hex digits (N bytes checked). */
int dc__is_hex64(const char *s, size_t n);

/* ------------------------------------------------------------------ */
/* Compression */

enum dc_comp {
	DC_COMP_NONE = 0,
	DC_COMP_GZIP,
	DC_COMP_BZIP2,
	DC_COMP_XZ,
	DC_COMP_ZSTD
};
#define DC_SNIFF_LEN 6

enum dc_comp dc__comp_sniff(const void *p, size_t n);
const char *dc__comp_name(enum dc_comp c);

/*
 * A push decoder: bytes in, decompressed bytes out through SINK.
 * Used to compute a diff_id while copying a compressed layer.
 */
typedef int (*dc_sink_fn)(void *arg, const void *p, size_t n);
struct dc_dec;
int dc__dec_new(struct dc_ctx *ctx, struct dc_dec **out, enum dc_comp c,
		const char *label);
int dc__dec_push(struct dc_dec *d, const void *p, size_t n, dc_sink_fn sink,
		 void *arg);
/* Checks that the compressed stream ended cleanly. */
int dc__dec_finish(struct dc_dec *d);
void dc__dec_free(struct dc_dec *d);

/*
 * Parallel gzip (src/util/pgzip.c), when built with libdeflate or ISA-L.
 * The default level, 1, is libdeflate's fastest: the same bytes on every
 * run and host (BENCHMARKS.md has the figures).
 */
#define DC_GZIP_DEFAULT_LEVEL 1
struct dc_pgzip;
int dc__pgzip_new(struct dc_ctx *ctx, struct dc_pgzip **out, int level,
		  int threads);
int dc__pgzip_push(struct dc_pgzip *g, const void *p, size_t n,
		   dc_sink_fn sink, void *arg);
int dc__pgzip_finish(struct dc_pgzip *g, dc_sink_fn sink, void *arg);
void dc__pgzip_free(struct dc_pgzip *g);
void dc__pgzip_set_ctx(struct dc_pgzip *g, struct dc_ctx *ctx);
/*
 * Tests: the next dc__pgzip_new() starts at most MAX_THREADS workers
 * (as if thread creation failed; -1: no limit), and the compressors of
 * BAD_COMPS of them fail to set up. The bytes must not change.
 */
void dc__pgzip_test_faults(int max_threads, int bad_comps);

/* Push encoders; LEVEL 0 and THREADS 0 take the defaults. */
struct dc_enc;
int dc__enc_new(struct dc_ctx *ctx, struct dc_enc **out, enum dc_comp c,
		int level, int threads);
int dc__enc_push(struct dc_enc *e, const void *p, size_t n, dc_sink_fn sink,
		 void *arg);
int dc__enc_finish(struct dc_enc *e, dc_sink_fn sink, void *arg);
void dc__enc_free(struct dc_enc *e);
/*
 * 1 when E (finished, or NULL) was made for the same C, LEVEL and
 * THREADS and is now ready for a new stream reporting to CTX: its
 * threads and buffers are kept, which spares a fresh allocation (and
 * the page faults) per layer. 0: make a new one.
 */
int dc__enc_reuse(struct dc_enc *e, struct dc_ctx *ctx, enum dc_comp c,
		  int level, int threads);

/* ------------------------------------------------------------------ */
/* JSON (jansson), always parsed from a capped buffer */

struct json_t;
/* Parse B as JSON (checks the nesting cap first); LABEL names it. */
int dc__json_parse(struct dc_ctx *ctx, struct json_t **out,
		   const struct dc_buf *b, const char *label);
/* Serialize compactly with keys in insertion order, as Go does. Fails
 * with DC_ENOMEM if a jansson allocation on this thread failed since the
 * last parse or dump: J may lack a member. */
int dc__json_dump(struct dc_ctx *ctx, struct dc_buf *out,
		  const struct json_t *j);
/* Append S to B as a JSON string, the bytes jansson's dump writes for
 * it: for JSON written as text, without a tree (a list of 50,000 layers
 * as jansson nodes took 46 MB). */
int dc__json_add_str(struct dc_ctx *ctx, struct dc_buf *b, const char *s);

/* ------------------------------------------------------------------ */
/* Streams */

struct dc_stream {
	struct dc_ctx *ctx;
	/* >0 bytes read, 0 at the end, <0 a DC_E* code (message set) */
	ssize_t (*read)(struct dc_stream *s, void *buf, size_t n);
	void (*close)(struct dc_stream *s);	/* frees S */
	/* optional: skip up to N bytes cheaply; returns bytes skipped */
	int64_t (*skip)(struct dc_stream *s, int64_t n);
	void *priv;
};

static inline ssize_t dc__stream_read(struct dc_stream *s, void *buf,
				      size_t n)
{
	return s->read(s, buf, n);
}
void dc__stream_close(struct dc_stream *s);	/* NULL-safe */
/* Read S to its end (where verifying streams check): 0 or the error. */
int dc__stream_drain(struct dc_stream *s);
/* A stream over bytes the caller keeps alive. */
int dc__stream_memory(struct dc_ctx *ctx, struct dc_stream **out,
		      const void *p, size_t n);
/*
 * A stream over [off, off+len) of anything read by position: OPS->pread
 * (ARG, BUF, N, OFF) reads as pread(2) does (-1 with errno; a read cut
 * short by EINTR is tried again unless interrupted). Messages name
 * OPS->name_at(ARG, OFF) when given; a short source is "unexpected end
 * of WHAT (N bytes missing)HINT". OPS->release(ARG), when given, runs
 * at close (and on failure here).
 */
struct dc_pread_ops {
	ssize_t (*pread)(void *arg, void *buf, size_t n, uint64_t off);
	const char *(*name_at)(void *arg, uint64_t off);
	void (*release)(void *arg);
	const char *what;
	const char *short_hint;
};
int dc__stream_pread_range(struct dc_ctx *ctx, struct dc_stream **out,
			   const struct dc_pread_ops *ops, void *arg,
			   uint64_t off, uint64_t len);
/* A stream over [off, off+len) of FD (pread; FD is closed at the end
 * with OWN_FD, and on failure). */
int dc__stream_fd_range(struct dc_ctx *ctx, struct dc_stream **out, int fd,
			uint64_t off, uint64_t len, int own_fd);

/*
 * Pull-decompress IN (taken over, closed with the result) as compression
 * C. Output is produced in the caller's buffer, so memory stays bounded
 * whatever the compression ratio.
 */
int dc__stream_decode(struct dc_ctx *ctx, struct dc_stream *in,
		      enum dc_comp c, const char *label,
		      struct dc_stream **out);
/* The same for a whole-archive zstd or xz wrapper; messages name no
 * label (the caller prefixes the source's). */
int dc__stream_unwrap(struct dc_ctx *ctx, struct dc_stream *in,
		      enum dc_comp c, struct dc_stream **out);
/* The largest window a decoder may hold (a quarter of the memory
 * limit), and the DC_ELIMIT error for WHAT ("the zstd window") over it,
 * NEED bytes if known (else 0); LABEL may be NULL. */
uint64_t dc__window_max(const struct dc_ctx *ctx);
int dc__window_error(struct dc_ctx *ctx, const char *label, const char *what,
		     uint64_t need);

/* ------------------------------------------------------------------ */
/* Sources: a directory, or a tar (spooled if compressed or a pipe) */

enum dc_mtype {
	DC_M_FILE = 0,
	DC_M_DIR,
	DC_M_SYMLINK,
	DC_M_HARDLINK,
	DC_M_OTHER
};

struct dc_member {
	char *name;		/* normalized: no "./", no leading "/" */
	char *link;		/* symlink or hardlink target, or NULL */
	enum dc_mtype type;
	uint64_t off;		/* data offset in the tar */
	uint64_t size;
};

/* A split set (src/util/parts.c): NAME.000, NAME.001, ... as one file */
struct dc_part {
	char *name;
	int fd;
	uint64_t start;		/* where it begins in the joined bytes */
	uint64_t size;
};
struct dc_parts {
	struct dc_part *part;
	size_t n;
	uint64_t total;
};
/* Is PATH the first part of a split set (NAME.000 with a NAME.sha256 or
 * a NAME.001 beside it)? 1 with NAME in STEM (N bytes), else 0. */
int dc__parts_name(const char *path, char *stem, size_t n);
/* Open the parts of STEM (those its .sha256 lists, else .000 on): a part
 * missing, or of another size than the first (but the last), fails
 * naming it. */
int dc__parts_open(struct dc_ctx *ctx, const char *stem,
		   struct dc_parts **out);
void dc__parts_free(struct dc_parts *p);
/* pread across the parts: at most to the end of the part OFF is in */
ssize_t dc__parts_pread(const struct dc_parts *p, void *buf, size_t n,
			uint64_t off);
/* The name of the part that holds byte OFF, or NULL. */
const char *dc__parts_name_at(const struct dc_parts *p, uint64_t off);
/* [OFF, OFF+LEN) inside one part: its *FD (not to close) at *POFF; 1
 * when it crosses parts. */
int dc__parts_range(const struct dc_parts *p, uint64_t off, uint64_t len,
		    int *fd, uint64_t *poff);
/* Cut file FULL into DEST.000, DEST.001, ... of SIZE bytes each (the
 * last smaller) and write DEST.sha256 for `sha256sum -c`: parts under
 * temp names, renamed when all are written (FULL becomes DEST.000); on
 * failure the temp names are removed (FULL is the caller's). */
int dc__parts_split(struct dc_ctx *ctx, const char *full, const char *dest,
		    uint64_t size);
struct dc_stream;
int dc__stream_parts_range(struct dc_ctx *ctx, struct dc_stream **out,
			   const struct dc_parts *p, uint64_t off,
			   uint64_t len);

struct dc_src {
	struct dc_ctx *ctx;
	struct dc_parts *parts;	/* a split set, read as one file */
	char *label;		/* the path the user gave, for messages */
	int is_stdin;
	int is_dir;
	int dirfd;
	int fd;			/* seekable tar */
	char *spool;		/* temp file to unlink, or NULL */
	enum dc_comp wrapper;	/* outer compression */
	const unsigned char *mem;	/* memory source */
	size_t memlen;
	struct dc_member *m;	/* sorted by name */
	size_t n;
	uint64_t max_mtime;	/* the newest member's mtime (tar sources) */
};

int dc__src_open_path(struct dc_ctx *ctx, struct dc_src **out,
		      const char *path);
int dc__src_open_memory(struct dc_ctx *ctx, struct dc_src **out,
			const void *p, size_t n);
void dc__src_free(struct dc_src *src);

/*
 * Normalize an archive path: strip "./" and leading "/", collapse "//"
 * and "." components. Refuses "..", backslashes and empty names with
 * DC_ECORRUPT naming WHAT. *out is owned by the caller.
 */
int dc__path_clean(struct dc_ctx *ctx, char **out, const char *name,
		   const char *what);

/* 1 if NAME exists as a regular file (after in-archive symlinks). */
int dc__src_exists(struct dc_src *src, const char *name);
/*
 * Open NAME for reading, following symlinks inside the archive only.
 * A missing member is DC_ECORRUPT "'NAME': missing from the archive".
 */
int dc__src_open(struct dc_src *src, const char *name,
		 struct dc_stream **out, uint64_t *size);
/* Where member NAME of a tar lies: [*OFF, *OFF+*LEN); 1 if NAME is
 * not a member (or SRC is not a tar). */
int dc__src_member(struct dc_src *src, const char *name, uint64_t *off,
		   uint64_t *len);
/* Read all of NAME, refusing more than CAP bytes with DC_ELIMIT. */
int dc__src_read_all(struct dc_src *src, const char *name, size_t cap,
		     struct dc_buf *out);
/*
 * Where NAME's bytes lie as one range of a file: *FD (close it if
 * *OWN), *OFF, *LEN. 1 if they do not (memory sources).
 */
int dc__src_range(struct dc_src *src, const char *name, int *fd, int *own,
		  uint64_t *off, uint64_t *len);

/* Read up to N leading bytes of NAME; *got is how many. */
int dc__src_peek(struct dc_src *src, const char *name, void *buf, size_t n,
		 size_t *got);

/* Tar index over a seekable fd or memory (src/util/tar.c). */
int dc__tar_index(struct dc_src *src);

/* ------------------------------------------------------------------ */
/* Output: a buffered fd with the path for messages */

struct dc_out {
	struct dc_ctx *ctx;
	int fd;
	const char *label;
	unsigned char *buf;
	size_t len;
	size_t cap;
	uint64_t written;
	uint64_t flushed;	/* bytes handed to write() */
	uint64_t wb_mark;	/* writeback asked for up to here */
	int wb_off;		/* not a file sync_file_range works on */
};

int dc__out_init(struct dc_ctx *ctx, struct dc_out *o, int fd,
		 const char *label);
int dc__out_write(struct dc_out *o, const void *p, size_t n);
int dc__out_flush(struct dc_out *o);
/* Flush, then copy LEN bytes of FD from OFF in the kernel where it can
 * (copy_file_range, sendfile), else through a buffer. */
int dc__out_copy_range(struct dc_out *o, int fd, uint64_t off, uint64_t len);
/* Leave LEN bytes for someone else to fill (a seekable file only): *AT
 * is where they start. */
int dc__out_skip(struct dc_out *o, uint64_t len, uint64_t *at);
/* LEN bytes were written at the fd's offset by someone else (after a
 * flush), and the offset moved past them: count them as written. */
void dc__out_adopt(struct dc_out *o, uint64_t len);
/* Flush, then cut the file back to AT (a seekable file only). */
int dc__out_truncate(struct dc_out *o, uint64_t at);
void dc__out_release(struct dc_out *o);

/*
 * An output file: DEST under a temp name beside it, renamed into place
 * by commit(); abort() removes it. DEST "-" is stdout, and a DEST that
 * is a device or a FIFO (/dev/null, a named pipe) is written into the
 * same way: nothing to undo.
 */
struct dc_outfile {
	struct dc_out o;
	const char *dest;
	char *tmp;
	int fd;
	int own;		/* FD is a device or FIFO we opened */
	int out_ok;
};
int dc__outfile_open(struct dc_ctx *ctx, struct dc_outfile *f,
		     const char *dest);
int dc__outfile_commit(struct dc_outfile *f);
void dc__outfile_abort(struct dc_outfile *f);	/* idempotent */
/* DEST is "-", or a device or FIFO that dc__outfile_open writes into. */
int dc__dest_is_stream(const char *dest);

/* Deterministic tar writer over a dc_out (src/util/tar.c). */
int dc__tarw_header(struct dc_out *o, const char *name, enum dc_mtype type,
		    uint64_t size, unsigned mode, const char *link);
int dc__tarw_pad(struct dc_out *o, uint64_t size);
int dc__tarw_file(struct dc_out *o, const char *name, const void *p,
		  size_t n);
int dc__tarw_end(struct dc_out *o);
/* A member whose size is not known yet: a block of zeros now, in its
 * place; once its data is written, dc__tarw_patch writes the header
 * (name, size: one block whatever the size) at AT, through O's fd. */
int dc__tarw_placeholder(struct dc_out *o);
/* Before a member header: a PAX header with a comment, if needed, so that
 * the member's data starts at a multiple of ALIGN (a multiple of 512) in
 * the stream O writes (O->written is its offset). */
int dc__tarw_align(struct dc_out *o, unsigned align);
/* A member written by someone else into F (a squash, put_blob_open):
 * its data aligned to ALIGN, a placeholder header, all flushed; *FD is
 * where to write it. *FROM is where it began (dc__out_truncate takes it
 * back out), *AT its header's offset for dc__tarw_patch. 1 = F is no
 * file of our own (a pipe, a device). */
int dc__tarw_open_member(struct dc_outfile *f, unsigned align,
			 uint64_t *from, uint64_t *at, int *fd);
/* The header dc__tarw_patch writes (one block, base-256 past 8 GiB; NAME
 * fits 100 bytes), written now: a streamed squash, byte for byte the
 * one written in place. */
int dc__tarw_header1(struct dc_out *o, const char *name, uint64_t size);
/* After a member's header in F: a gap of SIZE bytes (padded) that
 * someone else fills at *FD, *OFF (reserve_blob; *OWN is 0). */
int dc__tarw_reserve(struct dc_outfile *f, uint64_t size, int *fd,
		     uint64_t *off, int *own);
int dc__tarw_patch(struct dc_out *o, uint64_t at, const char *name,
		   uint64_t size);
/* mtime for entries decant creates: SOURCE_DATE_EPOCH or 0 */
uint64_t dc__epoch(void);

/* Temp names next to a destination: "<dest>.tmp-XXXXXX". */
int dc__tmp_file(struct dc_ctx *ctx, const char *dest, char **path, int *fd);
int dc__tmp_dir(struct dc_ctx *ctx, const char *dest, char **path);
/* Temp file for spooling in $TMPDIR (or DIR if given); unlinked at once. */
int dc__tmp_anon(struct dc_ctx *ctx, const char *dir, int *fd);
/* rm -rf that never follows symlinks; errors ignored. */
void dc__rm_rf(const char *path);
/* 1 if PATH is a directory with nothing in it. */
int dc__dir_is_empty(const char *path);

#endif
