/*
 * decant: analyzing images. Per layer what it adds, modifies and
 * removes; dive's waste figures; the files hidden by a later layer but
 * still shipped; duplicate contents; what a squash would save; secrets.
 *
 * dc_analyze() reads every layer once, verifying it as dc_reader_verify()
 * does, and keeps metadata only, never contents. No string this API
 * gives contains a secret: secrets, and the history entries that hold
 * one, come redacted ("AKIA…(20)").
 *
 * Everything a dc_analysis gives is borrowed and lives as long as it.
 */
#ifndef DECANT_ANALYZE_H
#define DECANT_ANALYZE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "image.h"
#include "read.h"

struct dc_analysis;		/* the report: every image of a set */
struct dc_an_image;		/* one image's analysis */
struct dc_an_layer;		/* one of its layers */
struct dc_an_entry;		/* one entry of a layer, whiteouts included */
struct dc_an_secret;		/* one secret found */
struct dc_an_rules;		/* CI rules (dive's, and "secrets") */

/*
 * Analyze every image of SET (R's, from dc_reader_load() or
 * dc_reader_merge()), reading its layers through R. A blob that does not
 * match its digest or size fails it (DC_EDIGEST), as malformed input
 * does (DC_ECORRUPT, DC_EFORMAT). *OUT is owned by the caller.
 */
DC_API int dc_analyze(struct dc_reader *r, const struct dc_set *set,
		      struct dc_analysis **out);
/* NULL-safe. */
DC_API void dc_analysis_free(struct dc_analysis *a);

/* The source format ("docker-archive", "oci", ...) and the images. */
DC_API const char *dc_analysis_format(const struct dc_analysis *a);
DC_API size_t dc_analysis_count(const struct dc_analysis *a);
DC_API const struct dc_an_image *dc_analysis_image(const struct dc_analysis *a,
						   size_t i);

/* ------------------------------------------------------------------ */
/* An image */

/* The image ID (config digest) and its tags. */
DC_API const char *dc_an_image_id(const struct dc_an_image *img);
DC_API size_t dc_an_image_tag_count(const struct dc_an_image *img);
DC_API const char *dc_an_image_tag(const struct dc_an_image *img, size_t i);

/*
 * dive's figures, computed as dive computes them (uncompressed sizes,
 * every path's copies across layers): the efficiency (0-1), the wasted
 * bytes, the bytes of all layers and of all but the first, and the
 * wasted bytes over the latter (a fraction: NaN or infinite when there
 * are no such bytes, as in dive).
 */
DC_API double dc_an_image_efficiency(const struct dc_an_image *img);
DC_API uint64_t dc_an_image_wasted_bytes(const struct dc_an_image *img);
DC_API uint64_t dc_an_image_size_bytes(const struct dc_an_image *img);
DC_API uint64_t dc_an_image_user_size_bytes(const struct dc_an_image *img);
DC_API double dc_an_image_user_wasted(const struct dc_an_image *img);

/* Files hidden by a later whiteout or overwrite, yet shipped: how many,
 * and their bytes. */
DC_API void dc_an_image_hidden(const struct dc_an_image *img,
			       uint64_t *files, uint64_t *bytes);
/* Identical contents (the same size and XXH3-128) at several paths or
 * layers: how many groups, and the bytes of the copies beyond the first. */
DC_API void dc_an_image_duplicates(const struct dc_an_image *img,
				   size_t *groups, uint64_t *bytes);
/* The layers' tars and the tar --squash would write instead: 1 when
 * *SQUASHED is exact, 0 when an entry made it an estimate. */
DC_API int dc_an_image_squash(const struct dc_an_image *img,
			      uint64_t *layers, uint64_t *squashed);

DC_API size_t dc_an_image_layer_count(const struct dc_an_image *img);
DC_API const struct dc_an_layer *dc_an_image_layer(const struct dc_an_image *img,
						   size_t i);

/* dive's inefficiencies, most bytes first: a PATH ("/a/b") with COUNT
 * copies across layers, of BYTES together. */
DC_API size_t dc_an_image_waste_count(const struct dc_an_image *img);
DC_API void dc_an_image_waste(const struct dc_an_image *img, size_t i,
			      const char **path, uint32_t *count,
			      uint64_t *bytes);

/* Every entry of every layer, layer by layer, in tar order. */
DC_API size_t dc_an_image_entry_count(const struct dc_an_image *img);
DC_API const struct dc_an_entry *dc_an_image_entry(const struct dc_an_image *img,
						   size_t i);

/* The secrets: in files (hidden ones too), then in the config. */
DC_API size_t dc_an_image_secret_count(const struct dc_an_image *img);
DC_API const struct dc_an_secret *dc_an_image_secret(const struct dc_an_image *img,
						     size_t i);

/* ------------------------------------------------------------------ */
/* A layer */

DC_API const char *dc_an_layer_digest(const struct dc_an_layer *ly);
/* The history entry that made it (redacted), or NULL. */
DC_API const char *dc_an_layer_created_by(const struct dc_an_layer *ly);
/* The blob's size, and its uncompressed tar's. */
DC_API int64_t dc_an_layer_compressed(const struct dc_an_layer *ly);
DC_API int64_t dc_an_layer_tar_bytes(const struct dc_an_layer *ly);

enum dc_an_change {
	DC_AN_ADDED,		/* paths new in this layer */
	DC_AN_MODIFIED,		/* paths a lower layer had */
	DC_AN_REMOVED,		/* paths its whiteouts remove */
	DC_AN_HIDDEN_LATER	/* its files a later layer hides */
};
/* How many files of kind WHAT, and their bytes. */
DC_API void dc_an_layer_changes(const struct dc_an_layer *ly,
				enum dc_an_change what, uint64_t *files,
				uint64_t *bytes);

/* ------------------------------------------------------------------ */
/* An entry */

enum dc_an_fate {
	DC_AN_VISIBLE = 0,	/* in the final filesystem */
	DC_AN_OVERWRITTEN = 1,	/* replaced by a later layer's */
	DC_AN_DELETED = 2	/* removed by a later whiteout */
};

/* Its path, normalized, without the leading '/' (a whiteout's: the path
 * it removes). */
DC_API const char *dc_an_entry_path(const struct dc_an_entry *e);
/* 'f' file, 'd' directory, 'l' symlink, 'h' hardlink, 'o' other, 'w'
 * whiteout, 'q' opaque-directory marker. */
DC_API char dc_an_entry_type(const struct dc_an_entry *e);
DC_API int dc_an_entry_layer(const struct dc_an_entry *e);
DC_API int64_t dc_an_entry_size(const struct dc_an_entry *e);
DC_API enum dc_an_fate dc_an_entry_fate(const struct dc_an_entry *e);
/* The layer that hid it, or -1. */
DC_API int dc_an_entry_hidden_by(const struct dc_an_entry *e);

/* ------------------------------------------------------------------ */
/* A secret */

/* "private-key", "aws-access-key-id", "github-token", ... */
DC_API const char *dc_an_secret_kind(const struct dc_an_secret *s);
/* "file", "env", "label" or "history" (a created_by: build arguments) */
DC_API const char *dc_an_secret_where(const struct dc_an_secret *s);
/* where "file": the layer; "history": the history entry; else -1 */
DC_API int dc_an_secret_layer(const struct dc_an_secret *s);
/* the file ("/a/b"), the variable, the label or "created_by" */
DC_API const char *dc_an_secret_path(const struct dc_an_secret *s);
/* still in the final filesystem (or the config) */
DC_API int dc_an_secret_visible(const struct dc_an_secret *s);
/* its first characters, an ellipsis and its length */
DC_API const char *dc_an_secret_redacted(const struct dc_an_secret *s);

/* ------------------------------------------------------------------ */
/* CI rules */

DC_API int dc_an_rules_new(struct dc_ctx *ctx, struct dc_an_rules **out);
/* NULL-safe. */
DC_API void dc_an_rules_free(struct dc_an_rules *r);
/*
 * Set rules from "RULE=VALUE[,RULE=VALUE...]": lowestEfficiency (fail
 * below, 0-1), highestWastedBytes (fail above; "20MB", "1.5GiB"),
 * highestUserWastedPercent (fail above, 0-1), secrets (fail if more are
 * found); "disabled" turns one off. DC_EINVAL names a bad one.
 */
DC_API int dc_an_rules_parse(struct dc_ctx *ctx, struct dc_an_rules *r,
			     const char *spec);
/* Set the rules of a dive CI file (.dive-ci: "rules:", then "RULE:
 * VALUE" lines; a plugin's "PLUGIN/RULE" is skipped). DC_EINVAL names a
 * bad rule or an unreadable file. */
DC_API int dc_an_rules_file(struct dc_ctx *ctx, struct dc_an_rules *r,
			    const char *path);

/* A rule's verdict: its name, its threshold as given, whether it failed
 * and, if it did, why (MSG; NULL when it passed). */
typedef void (*dc_an_verdict_fn)(void *arg, const char *rule,
				 const char *threshold, int failed,
				 const char *msg);
/* Check R's rules on IMG in their order, FN for each (may be NULL);
 * returns how many failed. */
DC_API int dc_an_rules_check(const struct dc_an_rules *r,
			     const struct dc_an_image *img,
			     dc_an_verdict_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* Reports */

/* Where a report goes: N bytes at P; <0 to stop (the report then fails
 * with DC_EIO). */
typedef int (*dc_an_write_fn)(void *arg, const void *p, size_t n);

enum dc_an_json_flags {
	DC_AN_JSON_FILES = 1 << 0	/* every entry of every layer */
};

/*
 * The report as JSON (schemaVersion 1, decant(1) describes it), written
 * to FN a piece at a time (with DC_AN_JSON_FILES, an entry at a time:
 * the text is never whole in memory). With RULES (or NULL), each image
 * carries its "rules" verdicts.
 */
DC_API int dc_analysis_json(struct dc_ctx *ctx, const struct dc_analysis *a,
			    const struct dc_an_rules *rules, unsigned flags,
			    dc_an_write_fn fn, void *arg);

/* The report as one self-contained HTML page (no network): a chart of
 * the layers' sizes and what later layers hide, the figures, the
 * secrets and a tree of each layer's files. */
DC_API int dc_analysis_html(struct dc_ctx *ctx, const struct dc_analysis *a,
			    dc_an_write_fn fn, void *arg);

#endif
