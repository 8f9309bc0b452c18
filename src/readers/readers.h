/*
 * Helpers shared by the readers in src/readers/.
 */
#ifndef DC_READERS_H
#define DC_READERS_H

#include "model/model.h"
#include "blob/blob.h"

/* ------------------------------------------------------------------ */
/* Readers */

struct dc_reader;

/*
 * A reader knows one format. bid() looks at the source without
 * consuming it and scores what it verified (0 = not mine). load()
 * fills an image set whose descriptors carry the blob paths.
 * open_blob() may be NULL: the core then opens desc->path.
 */
struct dc_reader_ops {
	const char *name;
	size_t priv_size;
	int (*bid)(struct dc_src *src);
	int (*load)(struct dc_reader *r, struct dc_set **out);
	int (*open_blob)(struct dc_reader *r, const struct dc_desc *d,
			 struct dc_stream **out);
	/* optional: bytes [OFF, OFF+LEN) of D, as dc_bsrc's open_range */
	int (*open_blob_range)(struct dc_reader *r, const struct dc_desc *d,
			       uint64_t off, uint64_t len,
			       struct dc_stream **out);
	void (*close)(struct dc_reader *r);
};

struct dc_reader {
	struct dc_ctx *ctx;
	const struct dc_reader_ops *ops;
	struct dc_src *src;
	void *priv;
	int absent_ok;		/* dc_reader_allow_absent() */
	struct dc_absent *absent;	/* ... and the layers it let pass */
	size_t nabsent;
};

/* A layer a reader that allows it found absent or of the wrong size:
 * why (the load error it would have been), without the source's name */
struct dc_absent {
	char digest[DC_DIGEST_MAX];
	char *msg;
};
/* Note that layer D of R is absent or wrong for MSG (R->absent_ok);
 * clears CTX's error. */
int dc__reader_absent(struct dc_reader *r, const struct dc_desc *d,
		      const char *msg);
/* Why R's layer DIGEST was let pass, or NULL if it was not. */
const char *dc__reader_absent_msg(const struct dc_reader *r,
				  const char *digest);

extern const struct dc_reader_ops dc__reader_oci;
extern const struct dc_reader_ops dc__reader_docker;
extern const struct dc_reader_ops dc__reader_legacy;
extern const struct dc_reader_ops dc__reader_flat;

/*
 * R as the byte source its blobs are read from (src/blob/blob.h): OUT
 * is the caller's, valid while R is.
 */
struct dc_bsrc;
void dc__reader_blobs(struct dc_reader *r, struct dc_bsrc *out);

/* Several sources as one (src/readers/multi.c, dc_reader_merge): each
 * blob opened, by digest, from a source that holds it. */
extern const struct dc_reader_ops dc__reader_multi;
void dc__multi_blobs(struct dc_reader *r, struct dc_bsrc *out);
/* Is SAME(R', DEST) true for one of merged R's sources? */
int dc__multi_is_dest(const struct dc_reader *r, const char *dest,
		      int (*same)(const struct dc_reader *, const char *));
/* Open DATA with reader NAME ("oci", "docker-archive", ...) or fail:
 * no detection among the others (the per-reader fuzz targets). */
int dc__reader_open_memory_as(struct dc_ctx *ctx, struct dc_reader **out,
			      const void *data, size_t size, const char *name);

/* Compute digest and size of layers whose digest is unknown. */
int dc__set_resolve(struct dc_reader *r, struct dc_set *set);

/* Load manifest.json's images into SET (src/readers/docker_save.c). */
int dc__docker_load_into(struct dc_reader *r, struct dc_set *set);
/* Size and sniffed compression of a member. */
int dc__sniff_member(struct dc_src *src, const char *path, uint64_t *size,
		     enum dc_comp *comp);
/* Add REF (any reference form) to IMG's tags in familiar form. */
int dc__add_ref_tag(struct dc_ctx *ctx, struct dc_image *img, const char *ref,
		    const char *what);

/* registries: docker://HOST/REPO[:TAG] (src/readers/registry.c) */
extern const struct dc_reader_ops dc__reader_registry;
/* containers/image dir: layouts (src/readers/dir.c) */
extern const struct dc_reader_ops dc__reader_dir;
/* DC_EFORMAT "unrecognized format: WHAT; it holds 'a', 'b'": what SRC
 * looks like, by its top-level names, when no reader takes it. */
int dc__unrecognized(struct dc_src *src, const char *what);

/* Parse the JSON descriptor J into D (media type, digest, size); its
 * blob is PREFIX<hex> ("blobs/sha256/" in an OCI layout, "" in a dir:
 * layout). WHAT names J in errors (src/readers/oci_layout.c). */
struct json_t;
int dc__parse_desc(struct dc_ctx *ctx, struct json_t *j, struct dc_desc *d,
		   const char *prefix, const char *what);
/* Read the small blob D (a manifest, a config: at most DC_MAX_JSON
 * bytes) and check its size and digest. */
int dc__read_meta_blob(struct dc_reader *r, const struct dc_desc *d,
		       struct dc_buf *out);
/* Image configs; artifacts (SBOMs, signatures, Helm charts) are not. */
int dc__is_image_config(const char *mt);

#endif
