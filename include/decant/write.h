/*
 * decant: selecting, transforming and writing images.
 */
#ifndef DECANT_WRITE_H
#define DECANT_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "image.h"
#include "read.h"
#include "inventory.h"

enum dc_compress {
	DC_COMPRESS_KEEP = 0,	/* what the source has, where allowed */
	DC_COMPRESS_NONE,
	DC_COMPRESS_GZIP,
	DC_COMPRESS_ZSTD
};

struct dc_write_opts {
	enum dc_compress compress;
	int level;		/* 0 = the codec's default */
	int threads;		/* 0 = all cores */
	/* squash the top N layers into one: 0 = no squash, SIZE_MAX = all
	 * (N larger than the layer count squashes all) */
	size_t squash_last;
	/*
	 * A delta: leave out every layer this inventory holds (what the far
	 * side has; manifests, configs and indexes are always written) and
	 * keep a record of what was left out, and against what, in the
	 * output (decant-delta.json at its root: dc_reader_delta() reads
	 * it). OCI layouts and docker-archive only. A layer the inventory
	 * lists with another size is an error (the inventory lies).
	 */
	const struct dc_inventory *exclude;
	/*
	 * Tar outputs: write DEST.000, DEST.001, ... of this many bytes
	 * each (the last smaller) and DEST.sha256, which `sha256sum -c`
	 * checks from DEST's directory; 0 = one file. Every reader takes
	 * the set by its first part. All appear only on success.
	 */
	uint64_t split_size;
};

/*
 * Keep only the images that match one of REFS (a tag "name:tag", a name,
 * a manifest or config digest, or "@N" for the N-th image, 0-based).
 * Fails with DC_EINVAL naming a ref that matched nothing.
 */
DC_API int dc_set_select(struct dc_ctx *ctx, struct dc_set *set,
			 const char *const *refs, size_t nrefs);

/*
 * Resolve multi-platform indexes to one image each: the one for
 * PLATFORM ("os/arch[/variant]"; NULL = this host's), which takes the
 * index's tags. With a PLATFORM, single images of another platform are
 * dropped too. Fails naming the index when none matches.
 */
DC_API int dc_set_select_platform(struct dc_ctx *ctx, struct dc_set *set,
				  const char *platform);

/*
 * Edit the config of every image of SET: CHANGES (N Dockerfile
 * instructions, as dc_reader_set_import() takes them) applied to its
 * container config in order, and CREATED (RFC 3339, or NULL) as its
 * creation time. A config is written again only when it changes, and
 * then only its changed members; its digest, the image's manifest and
 * the index that lists it follow. A bad change or time is DC_EINVAL.
 */
DC_API int dc_set_edit_config(struct dc_ctx *ctx, struct dc_set *set,
			      const char *const *changes, size_t n,
			      const char *created);

/* Replace the tags of the set's single image with TAG ("name:tag"). */
DC_API int dc_set_retag(struct dc_ctx *ctx, struct dc_set *set,
			const char *tag);

/*
 * Name the set's single image NAME as skopeo's oci:PATH:NAME does: a
 * reference with a tag or registry ("app:1", "example.com/app") is its
 * tag, and an OCI layout's ref.name spells it as given; anything else
 * ("1.0", "mytag") is a bare OCI ref.name, and no tag.
 */
DC_API int dc_set_name_ref(struct dc_ctx *ctx, struct dc_set *set,
			   const char *name);

/*
 * Write SET, reading blobs from R, as FORMAT ("oci", "oci-archive",
 * "docker-archive") to DEST (a path; "-" is stdout for tar formats).
 * SET is R's (dc_reader_load), or, for a bundle of several sources, the
 * set dc_reader_merge() made with R.
 * The output appears only on success: it is written under a temporary
 * name and renamed; on any failure nothing is left behind.
 */
DC_API int dc_write(struct dc_ctx *ctx, struct dc_reader *r,
		    const struct dc_set *set, const char *format,
		    const char *dest, const struct dc_write_opts *opts);

/* Is NAME a known output format? */
DC_API int dc_write_format_known(const char *name);

#endif
