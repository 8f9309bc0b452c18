/*
 * Private header of src/transform/: selection and retagging (image set
 * -> image set), the squash engine, recompression and config edits.
 */
#ifndef DC_TRANSFORM_H
#define DC_TRANSFORM_H

#ifndef DC_BUILDING
#error "transform/transform.h is private to decant"
#endif

#include "model/model.h"
#include "blob/blob.h"

/* ------------------------------------------------------------------ */
/* Transforms */


/*
 * Re-encode layer D of BS to compression TO into an anonymous temp
 * file in SPOOLDIR (NULL: $TMPDIR), checking D's digest and diff_id on
 * the way. OUT gets the new digest, size, compression and media type.
 * CACHE (or NULL) holds an encoder to reuse, and gets this one back.
 */
int dc__transcode(const struct dc_bsrc *bs, const struct dc_desc *d,
		  enum dc_comp to, const struct dc_write_opts *opts,
		  const char *spooldir, struct dc_enc **cache, int *fd,
		  struct dc_desc *out);

/*
 * Squash layers [FROM, TO) of IMG into one layer compressed as COMP
 * (src/transform/squash.c), written to *FD if it is >= 0 (from its
 * offset on), else spooled to an anonymous temp file in SPOOLDIR whose
 * fd is returned in *FD. OUT_LABEL (or NULL) names the output in errors.
 * With FROM > 0 the whiteouts that may hide lower content are kept.
 * DIRECT 1: no one reads the output back, write it past the page cache
 * where it can (from a 4 KiB aligned offset); 2: the same for a member
 * of a tar being written, where a buffered fallback starts its writeback
 * as it goes. OUT gets digest, size, diff_id and compression
 * (no media type).
 */
int dc__squash(const struct dc_bsrc *bs, const struct dc_image *img,
	       size_t from, size_t to, enum dc_comp comp,
	       const struct dc_write_opts *o, const char *spooldir, const char *out_label, int direct,
	       int *fd, struct dc_desc *out);
/* IMG's config with layers FROM.. replaced by one layer DIFF_ID and their
 * history collapsed to one entry that keeps their created_by lines
 * (empty-layer entries kept). */
int dc__squash_config(struct dc_ctx *ctx, const struct dc_image *img,
		      size_t from, const char *diff_id, struct dc_buf *out);


/*
 * The images of SET a target takes, in set order: all of them for a
 * MULTI_PLATFORM target, else one per multi-platform index, the host's
 * (with a notice saying so). *OUT (the caller frees the array; the
 * images stay SET's) gets *N of them.
 */
int dc__select_for_target(struct dc_ctx *ctx, const struct dc_set *set,
			  int multi_platform, const struct dc_image ***out,
			  size_t *n);

#endif
