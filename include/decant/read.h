/*
 * decant: opening a source and reading its images.
 */
#ifndef DECANT_READ_H
#define DECANT_READ_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "image.h"

struct dc_reader;

/*
 * Open SRC: a directory, a file, or "-" for standard input. FORMAT is a
 * reader name ("oci", "docker-archive", ...) or NULL to detect the format
 * from the content. Compressed wrappers (gzip, bzip2, xz, zstd) are
 * decompressed transparently. On success *out is owned by the caller.
 */
DC_API int dc_reader_open(struct dc_ctx *ctx, struct dc_reader **out,
			  const char *src, const char *format);

/* The same, over a tar archive held in memory (the fuzzers use it). */
DC_API int dc_reader_open_memory(struct dc_ctx *ctx, struct dc_reader **out,
				 const void *data, size_t size);

/*
 * How a rootfs source (a flat filesystem tar, as `docker export` writes
 * it) becomes an image, as `docker import` makes it. Any field may be
 * NULL/0.
 */
struct dc_import_opts {
	const char *platform;		/* "os/arch[/variant]" or NULL (host) */
	const char *const *changes;	/* Dockerfile instructions */
	size_t nchanges;
	const char *message;		/* the comment (NULL: "Imported from -",
					 * as docker import writes) */
};

/*
 * Set R's import options (copied; they replace earlier ones), between
 * dc_reader_open() and dc_reader_load(). The changes are CMD,
 * ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL,
 * USER, VOLUME and WORKDIR instructions in Dockerfile syntax, applied in
 * order. Fails with DC_EUNSUPPORTED if R's source is not a rootfs, and
 * with DC_EINVAL for a bad platform or change ("--change 'FOO x':
 * unknown instruction").
 */
DC_API int dc_reader_set_import(struct dc_reader *r,
				const struct dc_import_opts *o);

/*
 * Before dc_reader_load(): a layer that is absent from the source or
 * not of its size does not fail the load (OCI layouts; other formats
 * still fail). dc_reader_verify_each() then reports it, and a delta's
 * base (dc_reader_add_base) may fill it.
 */
DC_API void dc_reader_allow_absent(struct dc_reader *r);

/* Parse the source's metadata into an image set (*out owned by caller). */
DC_API int dc_reader_load(struct dc_reader *r, struct dc_set **out);

/*
 * Stream every blob of SET once and check its size and digest, and for
 * layers the diff_id. Returns the first failure.
 */
DC_API int dc_reader_verify(struct dc_reader *r, const struct dc_set *set);

/*
 * Several sources as one, for a bundle: *OUT reads every blob of every
 * source (dc_write(), dc_reader_verify()), *SET holds every image of
 * SETS[0..N) (each loaded from RS[i]) with the names it had. An image
 * found in several sources (the same manifest) is kept once with all its
 * names; a blob is opened, by its digest, from the first source that
 * holds it. Two different images (configs or indexes differ) claiming
 * one name is a DC_EFORMAT error naming both sources. Takes ownership of
 * RS[i] and SETS[i], also on failure (they are set to NULL). *SET may
 * be selected and retagged as any set.
 */
DC_API int dc_reader_merge(struct dc_ctx *ctx, struct dc_reader **rs,
			   struct dc_set **sets, size_t n,
			   struct dc_reader **out, struct dc_set **set);

/*
 * Let merged reader R also open the blobs of BASE (whose images SET
 * holds) without adding its images: the store that fills a delta's
 * left-out blobs. Takes ownership of BASE and SET, also on failure.
 */
DC_API int dc_reader_add_base(struct dc_reader *r, struct dc_reader *base,
			      struct dc_set *set);

/*
 * Like dc_reader_verify(), but going on after a failure, so that every
 * problem is found: FN(ARG, D, CODE, MSG) for every distinct layer D of
 * SET, in image and layer order, CODE 0 when it is fine, else the
 * failure (DC_EDIGEST, DC_ECORRUPT, ...) and its message. Returns the
 * number of blobs that failed, or a negative code when verifying could
 * not go on (out of memory, interrupted).
 */
typedef void (*dc_verify_fn)(void *arg, const struct dc_desc *d, int code,
			     const char *msg);
DC_API int dc_reader_verify_each(struct dc_reader *r, const struct dc_set *set,
				 dc_verify_fn fn, void *arg);

/*
 * Is R's source a delta (written with dc_write_opts.exclude)? *OUT is
 * its record of the layers it left out and what it is against (free
 * with dc_inventory_free), or NULL when the source is complete.
 */
struct dc_inventory;
DC_API int dc_reader_delta(struct dc_reader *r, struct dc_inventory **out);

/*
 * The layers of SET that R cannot give: absent from its sources (a
 * delta's left-out layers, dc_reader_allow_absent) and from every base.
 * FN(ARG, D) once for each; returns how many. Check it before writing a
 * delta out, so that nothing is written when the base lacks a blob.
 */
typedef void (*dc_missing_fn)(void *arg, const struct dc_desc *d);
DC_API int dc_reader_missing(struct dc_reader *r, const struct dc_set *set,
			     dc_missing_fn fn, void *arg);

/*
 * When PATH is the first part of a split set (NAME.000 beside a
 * NAME.sha256): check every part that NAME.sha256 lists, reading each
 * whole, and call FN(ARG, PART, MSG) for each that is missing or does
 * not match (decant verify does it when a blob of the set fails). Returns how many did not (0 also for any other PATH), or a
 * negative code when checking could not go on.
 */
typedef void (*dc_part_fn)(void *arg, const char *part, const char *msg);
DC_API int dc_split_check(struct dc_ctx *ctx, const char *path,
			  dc_part_fn fn, void *arg);

/*
 * Does blob D of R's source lie, wholly or partly, in the part named
 * PART of its split set (as dc_split_check() names it)? 0 when R's
 * source is not a split set.
 */
DC_API int dc_reader_blob_in_part(struct dc_reader *r, const struct dc_desc *d,
				  const char *part);

/* NULL-safe; removes any temp files the reader made. */
DC_API void dc_reader_free(struct dc_reader *r);

#endif
