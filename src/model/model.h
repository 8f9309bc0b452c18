/*
 * Private header of src/model/: the image set (images, indexes, their
 * descriptors), references and platforms. Readers fill it, transforms
 * and writers read it.
 */
#ifndef DC_MODEL_H
#define DC_MODEL_H

#ifndef DC_BUILDING
#error "model/model.h is private to decant"
#endif

#include "blob/blob.h"

/* ------------------------------------------------------------------ */
/* The model */


/*
 * A multi-platform image index (OCI index or Docker manifest list). It
 * owns the tags; its platform images point at it.
 */
struct dc_index {
	char **tags;
	size_t ntags;
	char *ref_name;
	char **src_refs;	/* as struct dc_image's */
	size_t nsrc_refs;
	struct dc_desc desc;
	struct dc_buf raw;
	int complete;		/* raw lists exactly the images we hold */
	size_t nimages;		/* images of the set that point here */
	size_t pruned_from;	/* nimages before the last prune */
};

struct dc_image {
	struct dc_index *index;	/* borrowed from the set, or NULL */
	char **tags;		/* familiar references */
	size_t ntags;
	char *ref_name;		/* OCI ref.name that is not a reference */
	/* OCI ref.names that are whole references, spelled as the source
	 * spelled them: oci output writes a tag's name back unchanged */
	char **src_refs;
	size_t nsrc_refs;
	char *os, *arch, *variant;
	char platform[96];
	struct dc_desc manifest;
	struct dc_buf manifest_raw;
	int manifest_synth;	/* manifest made by decant, not the source */
	struct dc_desc config;
	struct dc_buf config_raw;
	struct dc_desc *layers;
	size_t nlayers;
};

struct dc_set {
	char *format;
	struct dc_image **img;
	size_t n;
	struct dc_index **idx;
	size_t nidx;
	/* descriptors in an index whose blob the source lacks (read past,
	 * as other platforms often are not exported; verify fails on them):
	 * how many, and the first, as "'BLOB' (listed in WHERE)" */
	size_t nmissing;
	char *missing;
};

int dc__index_new(struct dc_ctx *ctx, struct dc_set *set,
		  struct dc_index **out);
void dc__index_free(struct dc_index *x);
/* Add TAG to a tag list (no duplicates). */
int dc__tags_add(struct dc_ctx *ctx, char ***tags, size_t *n, const char *tag);
/* Add every one of SRC's N tags to a tag list. */
int dc__tags_add_all(struct dc_ctx *ctx, char ***tags, size_t *n,
		     char *const *src, size_t nsrc);
/* Free a tag list and empty it. */
void dc__tags_clear(char ***tags, size_t *n);
/* Drop indexes no image points to any more. */
void dc__set_prune_indexes(struct dc_set *set);

int dc__set_new(struct dc_ctx *ctx, struct dc_set **out, const char *format);
int dc__set_add(struct dc_ctx *ctx, struct dc_set *set, struct dc_image *img);
int dc__image_new(struct dc_ctx *ctx, struct dc_image **out);
void dc__image_free(struct dc_image *img);
int dc__image_add_tag(struct dc_ctx *ctx, struct dc_image *img,
		      const char *tag);
void dc__desc_release(struct dc_desc *d);
int dc__desc_copy(struct dc_ctx *ctx, struct dc_desc *dst,
		  const struct dc_desc *src);
/* What a delta keeps of what it left out, at its root */
#define DC_DELTA_NOTE "decant-delta.json"

/* An inventory's blob (src/model/inventory.c) */
struct dc_inv_blob {
	char digest[DC_DIGEST_MAX];
	int64_t size;
	char *media_type;	/* or NULL */
};
const struct dc_inv_blob *dc__inventory_find(const struct dc_inventory *inv,
					     const char *digest);
/* the I-th blob in digest order */
const struct dc_inv_blob *dc__inventory_blob(const struct dc_inventory *inv,
					     size_t i);
/* Make INV a delta's record (schema decant-delta/1). */
int dc__inventory_set_delta(struct dc_inventory *inv);
int dc__inventory_is_delta(const struct dc_inventory *inv);

/* The compression a layer media type MT names (for a layer whose bytes
 * are not at hand to sniff). */
enum dc_comp dc__media_comp(const char *mt);
/*
 * Fill os/arch/variant/platform and check rootfs.diff_ids against the
 * layers (setting each layer's diff_id) from img->config_raw.
 */
int dc__image_parse_config(struct dc_ctx *ctx, struct dc_image *img,
			   const char *label);
/* Build an OCI manifest for IMG's config and layers into manifest_raw. */
int dc__image_synth_manifest(struct dc_ctx *ctx, struct dc_image *img);
/* Truthful layer media type for a compression, OCI or Docker flavour. */
const char *dc__layer_media_type(enum dc_comp c, int docker);
int dc__media_is_manifest(const char *mt);
int dc__media_is_index(const char *mt);

/* References (src/model/ref.c) */
struct dc_ref {
	char *domain;		/* "docker.io", "example.com:5000" */
	char *path;		/* "library/busybox" */
	char *tag;		/* NULL if none */
	char *digest;		/* NULL if none */
};
int dc__ref_parse(struct dc_ctx *ctx, struct dc_ref *ref, const char *s);
void dc__ref_release(struct dc_ref *ref);
/* "busybox:latest", "example.com/x:y" (tag defaults to "latest") */
int dc__ref_familiar(struct dc_ctx *ctx, const struct dc_ref *ref,
		     char **out);
/* "docker.io/library/busybox:latest" */
int dc__ref_normalized(struct dc_ctx *ctx, const struct dc_ref *ref,
		       char **out);

/* ------------------------------------------------------------------ */
/* Platforms (src/model/platform.c) */

/*
 * A platform in Go's GOOS/GOARCH terms, as images name them: "linux",
 * "amd64", "" or "v7". Normalized as containerd's platforms.Normalize
 * does for the common aliases: lower case, x86_64 is amd64, aarch64 is
 * arm64, i686 is 386, a variant "7" is "v7" and a bare arm is arm/v7.
 * An explicit variant such as arm64/v8 is kept as given; matching
 * treats arm64/v8 and arm64 as the same platform.
 */
struct dc_platform {
	char os[32], arch[32], variant[32];
};

/*
 * Parse and normalize S, "OS/ARCH[/VARIANT]" or a bare known
 * architecture ("amd64", "arm64", "x86_64": os "linux"). A bad string
 * is DC_EINVAL "--platform 'S': expected OS/ARCH[/VARIANT]".
 */
int dc__platform_parse(struct dc_ctx *ctx, struct dc_platform *p,
		       const char *s);
/* This host, in GOOS/GOARCH terms (containerd's platforms.DefaultSpec). */
void dc__platform_host(struct dc_platform *p);
/*
 * How well an image's platform (OS, ARCH, VARIANT as its config says,
 * each may be NULL) fits WANT: 2 exactly, 1 compatibly (a variant
 * unasked or unknown, or an older arm variant), 0 not.
 */
int dc__platform_match(const struct dc_platform *want, const char *os,
		       const char *arch, const char *variant);
/* "os/arch[/variant]" into BUF of N bytes (truncated to fit). */
void dc__platform_str(const struct dc_platform *p, char *buf, size_t n);

struct json_t;
/*
 * Apply CHANGES, Dockerfile instructions as `docker import --change`
 * takes them, to the container config IN (NULL: an all-zero one). *out
 * is a new container config laid out as Go marshals moby's
 * container.Config (src/model/changes.c). A bad change is DC_EINVAL
 * "--change 'CHANGE': problem".
 */
int dc__changes_apply(struct dc_ctx *ctx, struct json_t **out,
		      const struct json_t *in, const char *const *changes,
		      size_t n);

#endif
