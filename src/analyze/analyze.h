/*
 * Image analysis: per-layer tables, dive's waste figures, files hidden
 * but shipped, duplicate contents, the squash saving and secrets.
 *
 * dc__analyze() reads every layer of an image once, as a tar stream:
 * headers go into metadata tables, file contents are hashed (XXH3-128,
 * for duplicates) and scanned for secrets through a bounded window,
 * never held; the tables take the layers bottom up. The result is a report the caller prints; it never contains a
 * secret, only its redacted form.
 */
#ifndef DC_ANALYZE_H
#define DC_ANALYZE_H

#ifndef DC_BUILDING
#error "analyze.h is private to decant: build with -DDC_BUILDING"
#endif

#include "readers/readers.h"
#include "transform/transform.h"
#include "blob/blob.h"

struct json_t;
struct archive_entry;

enum dc_an_type { AN_FILE = 'f', AN_DIR = 'd', AN_SYMLINK = 'l',
		  AN_HARDLINK = 'h', AN_OTHER = 'o', AN_WHITEOUT = 'w',
		  AN_OPAQUE = 'q' };

/* how a layer's entry ends up in the final filesystem (enum dc_an_fate
 * of the public API) */
enum { AN_VISIBLE = DC_AN_VISIBLE, AN_OVERWRITTEN = DC_AN_OVERWRITTEN,
       AN_DELETED = DC_AN_DELETED };

/* One entry of one layer (whiteouts included). */
struct dc_an_entry {
	char *path;		/* "a/b", the whiteout's target for 'w'/'q' */
	char *link;		/* a hardlink's target, else NULL */
	int64_t size;		/* the tar header's size */
	uint32_t hdr;		/* header bytes a squash writes for it */
	int layer;
	int hidden_by;		/* layer that hid it, or -1 */
	unsigned char type;	/* enum dc_an_type */
	unsigned char fate;	/* AN_VISIBLE, ... */
	unsigned char has_hash;
	unsigned char hash[16];	/* XXH3-128 of the content (canonical) */
};

struct dc_an_layer {
	char *digest;
	char *created_by;	/* the history entry, or NULL if none */
	int64_t compressed;	/* blob size */
	int64_t tar_bytes;	/* uncompressed tar size */
	int64_t size_bytes;	/* dive's layer size: sum of entry sizes */
	uint64_t entries;
	uint64_t added_files, added_bytes;
	uint64_t modified_files, modified_bytes;
	uint64_t removed_files, removed_bytes;
	uint64_t hidden_files, hidden_bytes;	/* this layer's, hidden above */
	int64_t hidden_compressed;	/* their share of the blob (estimate) */
};

/* dive's inefficiency: a path with copies in several layers */
struct dc_an_waste {
	char *path;
	uint32_t count;
	int64_t bytes;		/* the copies' cumulative size */
};

/* Identical contents: the same size and XXH3-128 (a report, not a
 * security decision: a fast non-cryptographic hash is enough) */
struct dc_an_dup {
	unsigned char hash[16];
	int64_t size;
	size_t first, n;	/* entries eidx[first .. first+n) */
};

enum dc_an_where { AN_IN_FILE, AN_IN_ENV, AN_IN_LABEL, AN_IN_HISTORY };

struct dc_an_secret {
	const char *kind;	/* "aws-access-key-id", "private-key", ... */
	int where;		/* enum dc_an_where */
	int layer;		/* AN_IN_FILE: layer; AN_IN_HISTORY: entry */
	char *path;		/* file path, env name, label key */
	int visible;		/* still in the final filesystem / config */
	char *redacted;		/* first 4 chars + "…" + length */
	size_t entry;		/* AN_IN_FILE: its entry */
};

struct dc_an_image {
	char *id;
	char **tags;
	size_t ntags;
	struct dc_an_layer *layers;
	size_t nlayers;
	struct dc_an_entry *ent;	/* every entry, layer by layer */
	size_t nent;
	struct dc_an_waste *waste;	/* descending bytes */
	size_t nwaste;
	size_t *eidx;			/* entry indexes for dups */
	struct dc_an_dup *dups;		/* descending wasted bytes */
	size_t ndups;
	struct dc_an_secret *secrets;
	size_t nsecrets;
	/* dive's figures */
	double efficiency;
	uint64_t wasted_bytes;
	uint64_t size_bytes, user_size_bytes;
	double user_wasted_percent;	/* a fraction, NaN/Inf as dive */
	/* the rest */
	uint64_t hidden_files, hidden_bytes;
	uint64_t dup_bytes;		/* bytes of copies beyond the first */
	uint64_t layers_tar_bytes;	/* sum of the layers' tars */
	uint64_t squash_tar_bytes;	/* the squashed layer's tar */
	int squash_exact;		/* 0 if an entry made it an estimate */
};

/* The report (public: dc_analyze(), an opaque struct dc_analysis, and
 * accessors in api.c). */
struct dc_analysis {
	char *format;
	struct dc_an_image *img;
	size_t n;
};

/* Analyze every image of SET, reading layers through R. */
int dc__analyze(struct dc_reader *r, const struct dc_set *set,
		struct dc_analysis **out);
void dc__analyze_free(struct dc_analysis *rep);

/* ------------------------------------------------------------------ */
/* The tables (tables.c), fed one layer at a time, bottom up. */

struct an_tables;
int dc__an_tables_new(struct dc_ctx *ctx, struct an_tables **out);
void dc__an_tables_free(struct an_tables *t);
/*
 * Apply layer L's entries E[0..N) (in tar order; L one more than the
 * last call's): the real merge (whiteouts hide lower layers' entries),
 * dive's per-layer trees and its efficiency data. E's paths are
 * normalized, without the leading '/'; the entries are taken.
 */
int dc__an_tables_layer(struct an_tables *t, int L,
			struct dc_an_entry *e, size_t n,
			struct dc_an_layer *ly);
/* Fill IMG's entries, waste, dups and figures (the tables' entries are
 * moved into IMG). */
int dc__an_tables_finish(struct an_tables *t, struct dc_an_image *img);

/* ------------------------------------------------------------------ */
/* Secrets (secrets.c) */

typedef int (*dc_an_found_fn)(void *arg, const char *kind,
			      const char *secret, size_t len);

/* A scanner of a byte stream for tokens and keys, and for the
 * credential files NAME says it is (base name rules). */
struct an_scan;
int dc__an_scan_new(struct dc_ctx *ctx, struct an_scan **out);
void dc__an_scan_free(struct an_scan *s);
/* Start a file: PATH decides which credential rules apply. */
void dc__an_scan_begin(struct an_scan *s, const char *path,
		       dc_an_found_fn fn, void *arg);
/* The next N bytes of the file. */
int dc__an_scan_feed(struct an_scan *s, const void *p, size_t n);
int dc__an_scan_end(struct an_scan *s);
/* A complete string (a config value, a created_by). With ASSIGN,
 * NAME=VALUE words with key-like names count too. */
int dc__an_scan_string(struct an_scan *s, const char *str, int assign,
		       dc_an_found_fn fn, void *arg);
/* Is NAME key-like (*_KEY, *_TOKEN, *_SECRET, *PASSWORD*)? */
int dc__an_keylike(const char *name, size_t n);
/* "abcd…(N)" of SECRET; caller frees. */
char *dc__an_redact(const char *secret, size_t len);

/* ------------------------------------------------------------------ */
/* Layers as tar streams (layer.c, the only file calling the reader and
 * blob layers) */

/* BS for a worker thread: its own context, the same source, stopping
 * when *STOP is set or BS's context is interrupted. */
struct an_source {
	struct dc_ctx ctx;
	struct dc_bsrc bs;
};
void dc__an_source_clone(const struct dc_bsrc *bs, struct an_source *out,
			 const volatile sig_atomic_t *stop);
/* The source's name, for messages. */
const char *dc__an_source_label(const struct dc_reader *r);

struct an_layer;
int dc__an_layer_open(const struct dc_bsrc *bs, const struct dc_desc *d,
		      struct an_layer **out);
/* next header: 1 = got one, 0 = end, <0 error */
int dc__an_layer_next(struct an_layer *l, struct archive_entry **e);
/* The current entry's next block of content, at *P (borrowed until the
 * next call): >0 its length, 0 at the end, <0 error. */
ssize_t dc__an_layer_data(struct an_layer *l, const void **p);
/* The uncompressed bytes read so far. */
int64_t dc__an_layer_bytes(const struct an_layer *l);
/* Hash what A and B have read and not hashed yet, paired (two streams
 * hash in about the time of one): call it between steps of two layers
 * read on one thread. */
void dc__an_layer_pair(struct an_layer *a, struct an_layer *b);
/* read to the end (digests checked); the tar's size */
int dc__an_layer_close(struct an_layer *l, int64_t *tar_bytes);

/* ------------------------------------------------------------------ */
/* Reports (report.c) and CI rules (rules.c) */

/* The report as JSON (schemaVersion 1); RULES (or NULL) adds their
 * verdicts, FILES every entry. */
int dc__analyze_json(struct dc_ctx *ctx, const struct dc_analysis *rep,
		     const struct dc_an_rules *rules, int files,
		     struct json_t **out);
/* An entry as the JSON report's "files" have it (FULL: with its digest
 * and link target). */
struct json_t *dc__analyze_entry_json(const struct dc_an_entry *e,
				       int full);
/* One self-contained HTML page showing REP. */
int dc__analyze_html(struct dc_ctx *ctx, const struct dc_analysis *rep,
		     struct dc_buf *out);

enum dc_an_rule { AN_RULE_EFFICIENCY, AN_RULE_WASTED_BYTES,
		  AN_RULE_USER_WASTED, AN_RULE_SECRETS, AN_NRULES };

/* public as an opaque struct dc_an_rules */
struct dc_an_rules {
	int set[AN_NRULES];	/* 1 = enabled */
	double value[AN_NRULES];
	char text[AN_NRULES][32];	/* as given */
};
/* Parse "key=value[,key=value...]" into R; DC_EINVAL names a bad one. */
int dc__an_rules_parse(struct dc_ctx *ctx, struct dc_an_rules *r,
		       const char *spec);
/* A .dive-ci file: "rules:" then "key: value" lines. */
int dc__an_rules_file(struct dc_ctx *ctx, struct dc_an_rules *r,
		      const char *path);
/* Rule N on IMG: 1 failed (MSG says why), 0 passed. */
int dc__an_rule_eval(const struct dc_an_rules *r, int n,
		     const struct dc_an_image *img, char *msg, size_t len);
extern const char *const dc__an_rule_names[AN_NRULES];

#endif
