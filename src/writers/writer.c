/*
 * Writer core: plans the output images (media types, compression,
 * manifests), lists every blob once in digest order, and drives a
 * writer through begin / put_blob / put_image / commit, or abort.
 */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "banned.h"

static const struct dc_writer_ops *const writers[] = {
	&dc__writer_oci,
	&dc__writer_oci_archive,
	&dc__writer_docker_archive,
	&dc__writer_docker_legacy,
	NULL
};

static const struct dc_writer_ops *find_writer(const char *name)
{
	int i;

	for (i = 0; writers[i]; i++)
		if (!strcmp(writers[i]->name, name))
			return writers[i];
	return NULL;
}

int dc_write_format_known(const char *name)
{
	return find_writer(name) != NULL || !strcmp(name, "rootfs");
}

/* ------------------------------------------------------------------ */
/* Selection */

static int image_matches(struct dc_ctx *ctx, const struct dc_image *img,
			 size_t idx, const char *want)
{
	struct dc_ref ref;
	char *fam = NULL;
	size_t i;
	int hit = 0;

	if (want[0] == '@') {
		char *end;
		unsigned long n = strtoul(want + 1, &end, 10);

		return want[1] && !*end && n == idx;
	}
	if (dc__digest_valid(want))
		return !strcmp(img->manifest.digest, want) ||
		       !strcmp(img->config.digest, want) ||
		       (img->index && !strcmp(img->index->desc.digest, want));
	if (dc_image_ref_name(img) && !strcmp(dc_image_ref_name(img), want))
		return 1;
	if (dc__ref_parse(ctx, &ref, want) < 0)
		return -1;
	/* without a tag, ref_familiar adds ":latest": compared below as a
	 * name prefix, so a bare name matches every tag of that name */
	if (dc__ref_familiar(ctx, &ref, &fam) < 0) {
		dc__ref_release(&ref);
		return -1;
	}
	for (i = 0; i < dc_image_tag_count(img) && !hit; i++) {
		const char *t = dc_image_tag(img, i);

		if (ref.tag) {
			hit = !strcmp(t, fam);
		} else {
			size_t n = strlen(fam) - strlen(":latest");

			hit = !strncmp(t, fam, n) && t[n] == ':';
		}
	}
	free(fam);
	dc__ref_release(&ref);
	return hit;
}

/* If WANT names one tag ("name:tag"), *FAM is its familiar form. */
static int tag_ref(struct dc_ctx *ctx, const char *want, char **fam)
{
	struct dc_ref ref;
	int is_tag;

	*fam = NULL;
	if (want[0] == '@' || dc__digest_valid(want) ||
	    dc__ref_parse(ctx, &ref, want) < 0)
		return 0;
	is_tag = ref.tag && !ref.digest &&
		 dc__ref_familiar(ctx, &ref, fam) == 0;
	dc__ref_release(&ref);
	return is_tag;
}

/*
 * An image selected only by "name:tag" refs keeps only those tags, as
 * `docker save name:tag` does; one selected as a whole (digest, @N, a
 * bare name) keeps them all.
 */
static void keep_selected_tags(struct dc_ctx *ctx, struct dc_image *img,
			       const char *const *refs, size_t nrefs)
{
	size_t t, j, k = 0;

	for (t = 0; t < img->ntags; t++) {
		int hit = 0;

		for (j = 0; j < nrefs && !hit; j++) {
			char *fam;

			if (tag_ref(ctx, refs[j], &fam))
				hit = !strcmp(fam, img->tags[t]);
			free(fam);
		}
		if (hit)
			img->tags[k++] = img->tags[t];
		else
			free(img->tags[t]);
	}
	img->ntags = k;
}

int dc_set_select(struct dc_ctx *ctx, struct dc_set *set,
		  const char *const *refs, size_t nrefs)
{
	unsigned char *keep;	/* 0 no, 1 whole image, 2 by tag only */
	size_t i, j, k;
	int err = 0;

	if (!nrefs)
		return 0;
	if (!(keep = dc__calloc(ctx, set->n ? set->n : 1, 1)))
		return DC_ENOMEM;
	for (j = 0; j < nrefs; j++) {
		char *fam = NULL;
		int any = 0, by_tag = tag_ref(ctx, refs[j], &fam);

		free(fam);
		for (i = 0; i < set->n; i++) {
			int m = image_matches(ctx, set->img[i], i, refs[j]);

			if (m < 0) {
				err = dc_error(ctx, DC_EINVAL,
					       "--image '%s': not a reference, digest or @N",
					       refs[j]);
				goto out;
			}
			if (!m)
				continue;
			any = 1;
			if (!by_tag || set->img[i]->index ||
			    (dc_image_ref_name(set->img[i]) &&
			     !strcmp(dc_image_ref_name(set->img[i]), refs[j])))
				keep[i] = 1;
			else if (!keep[i])
				keep[i] = 2;
		}
		if (!any) {
			err = dc_error(ctx, DC_EINVAL,
				       "--image '%s': no such image in the source",
				       refs[j]);
			goto out;
		}
	}
	for (i = 0, k = 0; i < set->n; i++) {
		if (!keep[i]) {
			dc__image_free(set->img[i]);
			continue;
		}
		if (keep[i] == 2)
			keep_selected_tags(ctx, set->img[i], refs, nrefs);
		set->img[k++] = set->img[i];
	}
	set->n = k;
	dc__set_prune_indexes(set);
out:
	free(keep);
	return err;
}

int dc_set_retag(struct dc_ctx *ctx, struct dc_set *set, const char *tag)
{
	struct dc_ref ref;
	char *fam = NULL, ***tags, **ref_name;
	size_t i, *ntags;
	int err;

	/* one image, or the platform images of one index */
	if (!set->n || (set->n > 1 && !(set->nidx == 1 &&
					set->idx[0]->nimages == set->n)))
		return dc_error(ctx, DC_EINVAL,
				"--tag needs exactly one image, the source has %zu (use --image)",
				set->n);
	if (set->img[0]->index) {
		tags = &set->img[0]->index->tags;
		ntags = &set->img[0]->index->ntags;
		ref_name = &set->img[0]->index->ref_name;
	} else {
		tags = &set->img[0]->tags;
		ntags = &set->img[0]->ntags;
		ref_name = &set->img[0]->ref_name;
	}
	if ((err = dc__ref_parse(ctx, &ref, tag)) < 0)
		return dc_error_prefix(ctx, "--tag");
	if (ref.digest) {
		dc__ref_release(&ref);
		return dc_error(ctx, DC_EINVAL, "--tag '%s': a tag cannot hold a digest",
				tag);
	}
	err = dc__ref_familiar(ctx, &ref, &fam);
	dc__ref_release(&ref);
	if (err)
		return err;
	for (i = 0; i < *ntags; i++)
		free((*tags)[i]);
	*ntags = 0;
	free(*ref_name);
	*ref_name = NULL;
	if (set->img[0]->index)
		dc__tags_clear(&set->img[0]->index->src_refs,
			       &set->img[0]->index->nsrc_refs);
	else
		dc__tags_clear(&set->img[0]->src_refs, &set->img[0]->nsrc_refs);
	err = dc__tags_add(ctx, tags, ntags, fam);
	free(fam);
	return err;
}

/* ------------------------------------------------------------------ */
/* Platforms */

struct platform {
	char os[32], arch[32], variant[32];
};

static int parse_platform(const char *s, struct platform *p)
{
	const char *a = strchr(s, '/'), *v;

	memset(p, 0, sizeof(*p));
	if (!a || a == s || !a[1])
		return -1;
	v = strchr(a + 1, '/');
	if ((size_t)(a - s) >= sizeof(p->os) ||
	    (size_t)((v ? v : a + strlen(a)) - a - 1) >= sizeof(p->arch) ||
	    (v && (!v[1] || strlen(v + 1) >= sizeof(p->variant) || strchr(v + 1, '/'))))
		return -1;
	memcpy(p->os, s, (size_t)(a - s));
	memcpy(p->arch, a + 1, (size_t)((v ? v : a + strlen(a)) - a - 1));
	if (v)
		memcpy(p->variant, v + 1, strlen(v + 1));
	return 0;
}

/* This host, in Go's GOOS/GOARCH terms as images name platforms. */
static void host_platform(struct platform *p)
{
	struct utsname u;
	static const struct { const char *m, *arch, *variant; } map[] = {
		{ "x86_64", "amd64", "" }, { "aarch64", "arm64", "" },
		{ "armv7l", "arm", "v7" }, { "armv6l", "arm", "v6" },
		{ "i686", "386", "" }, { "i386", "386", "" },
		{ "ppc64le", "ppc64le", "" }, { "s390x", "s390x", "" },
		{ "riscv64", "riscv64", "" },
	};
	size_t i;

	memset(p, 0, sizeof(*p));
	memcpy(p->os, "linux", 6);
	memcpy(p->arch, "amd64", 6);
	if (uname(&u) < 0)
		return;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(u.machine, map[i].m)) {
			snprintf(p->arch, sizeof(p->arch), "%s", map[i].arch);
			snprintf(p->variant, sizeof(p->variant), "%s", map[i].variant);
		}
}

/* 2 exact, 1 matches (variant unasked or unknown), 0 no */
static int platform_match(const struct dc_image *img, const struct platform *p)
{
	if (!img->os || !img->arch || strcmp(img->os, p->os) ||
	    strcmp(img->arch, p->arch))
		return 0;
	if (!p->variant[0] || !img->variant)
		return 1 + (!p->variant[0] && !img->variant);
	return strcmp(img->variant, p->variant) ? 0 : 2;
}

static void platform_str(const struct platform *p, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "",
		 p->variant);
}

/*
 * Pick one image per index into KEEP[]; with DROP_OTHERS also clear
 * KEEP[] for single images of another platform.
 */
static int choose_platform(struct dc_ctx *ctx, struct dc_image *const *img,
			   size_t n, const char *platform, unsigned char *keep)
{
	struct platform want;
	char ws[128];
	size_t i, j;
	int host = !platform, any = 0;

	if (platform) {
		if (parse_platform(platform, &want) < 0)
			return dc_error(ctx, DC_EINVAL,
					"--platform '%s': expected OS/ARCH[/VARIANT]",
					platform);
	} else {
		host_platform(&want);
	}
	platform_str(&want, ws, sizeof(ws));
	for (i = 0; i < n; i++) {
		const struct dc_index *x = img[i]->index;
		size_t best = n;
		int score = 0;

		if (!x) {
			keep[i] = host || platform_match(img[i], &want);
			any |= keep[i];
			continue;
		}
		if (keep[i] != 0xff)
			continue;	/* this index is done */
		for (j = i; j < n; j++) {
			int m;

			if (img[j]->index != x)
				continue;
			keep[j] = 0;
			m = platform_match(img[j], &want);
			if (m > score) {
				score = m;
				best = j;
			}
		}
		if (best == n) {
			struct dc_buf have = DC_BUF_INIT;

			for (j = i; j < n; j++)
				if (img[j]->index == x)
					dc__buf_addf(ctx, &have, "%s%s",
						     have.len ? ", " : "",
						     img[j]->platform);
			dc_error(ctx, DC_EINVAL,
				 "index %s: no image for %s (it has %s)",
				 x->ntags ? x->tags[0] : x->ref_name ? x->ref_name :
				 x->desc.digest, ws,
				 have.data ? have.data : "none");
			dc__buf_release(&have);
			return DC_EINVAL;
		}
		keep[best] = 1;
		any = 1;
		if (host)
			dc__notice(ctx, "%s: picked %s (this host) from a multi-platform index; use --platform to choose",
				   x->ntags ? x->tags[0] : x->ref_name ? x->ref_name :
				   x->desc.digest,
				   img[best]->platform);
	}
	if (!any)
		return dc_error(ctx, DC_EINVAL, "--platform %s: no image for it",
				ws);
	return 0;
}

int dc_set_select_platform(struct dc_ctx *ctx, struct dc_set *set,
			   const char *platform)
{
	unsigned char *keep;
	size_t i, k;
	int err;

	if (!set->n)
		return 0;
	if (!(keep = dc__calloc(ctx, set->n, 1)))
		return DC_ENOMEM;
	memset(keep, 0xff, set->n);
	if ((err = choose_platform(ctx, set->img, set->n, platform, keep)) < 0)
		goto out;
	for (i = 0, k = 0; i < set->n; i++) {
		struct dc_image *img = set->img[i];

		if (!keep[i]) {
			dc__image_free(img);
			continue;
		}
		if (img->index) {
			/* the chosen image takes the index's names */
			struct dc_index *x = img->index;

			img->index = NULL;
			for (size_t t = 0; t < x->ntags && !err; t++)
				err = dc__tags_add(ctx, &img->tags, &img->ntags,
						   x->tags[t]);
			if (!err && x->ref_name && !img->ref_name &&
			    !(img->ref_name = dc__strdup(ctx, x->ref_name)))
				err = DC_ENOMEM;
			if (!err)
				err = dc__tags_add_all(ctx, &img->src_refs,
						       &img->nsrc_refs, x->src_refs,
						       x->nsrc_refs);
		}
		set->img[k++] = img;
	}
	set->n = k;
	dc__set_prune_indexes(set);
out:
	free(keep);
	return err;
}

/* ------------------------------------------------------------------ */
/* Planning */

/* B_DONE: in the output already (a squash written into a tar) */
enum bkind { B_MEM, B_LAYER, B_SPOOL, B_DONE };

struct pblob {
	enum bkind kind;
	const struct dc_desc *src;	/* B_LAYER: the reader's descriptor */
	const struct dc_desc *out;	/* the written descriptor */
	const void *mem;		/* B_MEM */
	int fd;				/* B_SPOOL */
	size_t squash;			/* a squash: the how-manieth (1...) */
};

struct plan {
	struct dc_ctx *ctx;
	struct dc_image **img;		/* output images */
	size_t n;
	struct dc_index **idx;		/* output indexes */
	const struct dc_index **src_idx;	/* ... and where they come from */
	size_t nidx;
	struct pblob *b;
	size_t nb, capb;
	int *fds;			/* spool files to close */
	size_t nfds;
	struct tjob *jobs;		/* recompressions done up front */
	size_t njobs;
	struct dc_enc *enc;		/* kept from one layer to the next */
	const char *dest;		/* for messages */
	struct dc_writer *w;		/* begun: squashes may go straight in */
	size_t nsquash;
};

/* One layer recompressed on a worker thread before planning. */
struct tjob {
	const struct dc_desc *src;
	enum dc_comp to;
	int fd;				/* the spool, until the plan takes it */
	struct dc_desc out;
	int err;
	char msg[sizeof(((struct dc_ctx *)0)->msg)];
};

static void plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		dc__image_free(p->img[i]);
	free(p->img);
	for (i = 0; i < p->nidx; i++)
		dc__index_free(p->idx[i]);
	free(p->idx);
	free(p->src_idx);
	for (i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	free(p->fds);
	for (i = 0; i < p->njobs; i++)
		if (p->jobs[i].fd >= 0)
			close(p->jobs[i].fd);
	free(p->jobs);
	free(p->b);
	dc__enc_free(p->enc);
	p->enc = NULL;
}

static struct pblob *find_blob(struct plan *p, const char *digest)
{
	size_t i;

	for (i = 0; i < p->nb; i++)
		if (!strcmp(p->b[i].out->digest, digest))
			return &p->b[i];
	return NULL;
}

static int add_blob(struct plan *p, const struct pblob *b)
{
	if (find_blob(p, b->out->digest))
		return 0;
	if (p->nb == p->capb) {
		size_t nc = p->capb ? p->capb * 2 : 32;
		struct pblob *nb = dc__reallocarray(p->ctx, p->b, nc, sizeof(*nb));

		if (!nb)
			return DC_ENOMEM;
		p->b = nb;
		p->capb = nc;
	}
	p->b[p->nb++] = *b;
	return 0;
}

static const char OCI_MANIFEST[] = "application/vnd.oci.image.manifest.v1+json";
static const char OCI_CONFIG[] = "application/vnd.oci.image.config.v1+json";

/* Does the source manifest already say exactly what we will write? */
static int manifest_passes(const struct dc_image *src,
			   const struct dc_image *out)
{
	size_t i;

	if (src->manifest_synth || !src->manifest.media_type ||
	    strcmp(src->manifest.media_type, OCI_MANIFEST) ||
	    !src->config.media_type || strcmp(src->config.media_type, OCI_CONFIG))
		return 0;
	if (src->nlayers != out->nlayers)
		return 0;
	for (i = 0; i < src->nlayers; i++)
		if (!src->layers[i].media_type ||
		    strcmp(src->layers[i].media_type, out->layers[i].media_type) ||
		    strcmp(src->layers[i].digest, out->layers[i].digest))
			return 0;
	return 1;
}

static enum dc_comp target_comp(const struct dc_writer_ops *ops,
				const struct dc_write_opts *o, enum dc_comp c)
{
	switch (o->compress) {
	case DC_COMPRESS_NONE: return DC_COMP_NONE;
	case DC_COMPRESS_GZIP: return DC_COMP_GZIP;
	case DC_COMPRESS_ZSTD: return DC_COMP_ZSTD;
	case DC_COMPRESS_KEEP: break;
	}
	if (ops->caps & DC_WCAP_DOCKER_TYPES)
		return DC_COMP_NONE;	/* as `docker save` writes them */
	/* OCI layouts hold gzip and zstd; other codecs are decompressed */
	return c == DC_COMP_GZIP || c == DC_COMP_ZSTD ? c : DC_COMP_NONE;
}

static int spool_dir(struct dc_ctx *ctx, const char *dest, char **out)
{
	char *copy;

	*out = NULL;
	if (dc__dest_is_stream(dest))	/* $TMPDIR, not /dev */
		return 0;
	if (!(copy = dc__strdup(ctx, dest)))
		return DC_ENOMEM;
	*out = dc__strdup(ctx, dirname(copy));
	free(copy);
	return *out ? 0 : DC_ENOMEM;
}

/* Keep a spool file open until the plan is released. */
static int keep_fd(struct plan *p, int fd)
{
	int *fds = dc__reallocarray(p->ctx, p->fds, p->nfds + 1, sizeof(*fds));

	if (!fds) {
		close(fd);
		return DC_ENOMEM;
	}
	p->fds = fds;
	p->fds[p->nfds++] = fd;
	return 0;
}

/* The output index for SRC's index, made on first use. */
static int out_index(struct plan *p, const struct dc_index *src,
		     struct dc_index **out)
{
	struct dc_ctx *ctx = p->ctx;
	struct dc_index *x;
	size_t i;
	void *np;
	int err = 0;

	for (i = 0; i < p->nidx; i++)
		if (p->src_idx[i] == src) {
			*out = p->idx[i];
			return 0;
		}
	if (!(x = dc__calloc(ctx, 1, sizeof(*x))))
		return DC_ENOMEM;
	for (i = 0; i < src->ntags && !err; i++)
		err = dc__tags_add(ctx, &x->tags, &x->ntags, src->tags[i]);
	if (!err && src->ref_name && !(x->ref_name = dc__strdup(ctx, src->ref_name)))
		err = DC_ENOMEM;
	if (!err)
		err = dc__tags_add_all(ctx, &x->src_refs, &x->nsrc_refs,
				       src->src_refs, src->nsrc_refs);
	if (!err && !(np = dc__reallocarray(ctx, p->idx, p->nidx + 1, sizeof(*p->idx))))
		err = DC_ENOMEM;
	else if (!err)
		p->idx = np;
	if (!err && !(np = dc__reallocarray(ctx, p->src_idx, p->nidx + 1,
					    sizeof(*p->src_idx))))
		err = DC_ENOMEM;
	else if (!err)
		p->src_idx = np;
	if (err) {
		dc__index_free(x);
		return err;
	}
	p->idx[p->nidx] = x;
	p->src_idx[p->nidx++] = src;
	*out = x;
	return 0;
}

static int plan_image(struct plan *p, struct dc_reader *r,
		      const struct dc_writer_ops *ops,
		      const struct dc_write_opts *o, const struct dc_image *src,
		      const char *spooldir, struct dc_image **out)
{
	struct dc_ctx *ctx = p->ctx;
	struct dc_image *img;
	size_t i, keep;
	int err;

	*out = NULL;
	if ((err = dc__image_new(ctx, &img)) < 0)
		return err;
	if (src->index && (ops->caps & DC_WCAP_MULTI_PLATFORM)) {
		if ((err = out_index(p, src->index, &img->index)) < 0)
			goto fail;
	} else {
		/* a single-platform target: the image takes the names */
		for (i = 0; i < dc_image_tag_count(src); i++)
			if ((err = dc__image_add_tag(ctx, img,
						     dc_image_tag(src, i))) < 0)
				goto fail;
		if (dc_image_ref_name(src) &&
		    !(img->ref_name = dc__strdup(ctx, dc_image_ref_name(src)))) {
			err = DC_ENOMEM;
			goto fail;
		}
		if ((err = src->index ?
		     dc__tags_add_all(ctx, &img->src_refs, &img->nsrc_refs,
				      src->index->src_refs, src->index->nsrc_refs) :
		     dc__tags_add_all(ctx, &img->src_refs, &img->nsrc_refs,
				      src->src_refs, src->nsrc_refs)) < 0)
			goto fail;
	}
	memcpy(img->platform, src->platform, sizeof(img->platform));
	if ((src->os && !(img->os = dc__strdup(ctx, src->os))) ||
	    (src->arch && !(img->arch = dc__strdup(ctx, src->arch))) ||
	    (src->variant && !(img->variant = dc__strdup(ctx, src->variant)))) {
		err = DC_ENOMEM;
		goto fail;
	}
	if ((err = dc__buf_add(ctx, &img->config_raw, src->config_raw.data,
			       src->config_raw.len)) < 0 ||
	    (err = dc__desc_copy(ctx, &img->config, &src->config)) < 0)
		goto fail;
	free(img->config.media_type);
	if (!(img->config.media_type = dc__strdup(ctx, OCI_CONFIG))) {
		err = DC_ENOMEM;
		goto fail;
	}
	keep = src->nlayers;
	if (o->squash_last && src->nlayers)
		keep = o->squash_last >= src->nlayers ? 0 :
		       src->nlayers - o->squash_last;
	img->nlayers = keep + (keep < src->nlayers);
	if (img->nlayers &&
	    !(img->layers = dc__calloc(ctx, img->nlayers, sizeof(*img->layers)))) {
		err = DC_ENOMEM;
		goto fail;
	}
	for (i = 0; i < img->nlayers; i++) {
		const struct dc_desc *sl = i < keep ? &src->layers[i] : NULL;
		struct dc_desc *ol = &img->layers[i];
		enum dc_comp to = target_comp(ops, o, sl ? sl->comp :
					      src->layers[src->nlayers - 1].comp);
		struct pblob b = { 0 };
		int fd = -1;

		if (!sl) {
			/* the squashed top layers: straight into a tar
			 * being written, else a spool; a spool the writer
			 * links into place is not read back: past the page
			 * cache */
			int in_tar = 0;

			if (p->w && ops->put_blob_open) {
				if ((err = ops->put_blob_open(p->w, &fd)) < 0)
					goto fail;
				in_tar = err == 0;
			}
			if ((err = dc__squash(r, src, keep, src->nlayers, to, o,
					      spooldir, strcmp(p->dest, "-") ?
					      p->dest : NULL,
					      in_tar ? 2 : ops->put_blob_file != NULL,
					      &fd, ol)) < 0)
				goto fail;
			b.squash = ++p->nsquash;
			if (in_tar) {
				/* the same blob may be in the plan already
				 * (another image's squash): taken back out,
				 * and add_blob() below skips it */
				if ((err = ops->put_blob_close(p->w,
						find_blob(p, ol->digest) ? NULL : ol)) < 0)
					goto fail;
				b.kind = B_DONE;
			} else {
				if ((err = keep_fd(p, fd)) < 0)
					goto fail;
				b.kind = B_SPOOL;
				b.fd = fd;
			}
			img->config_raw.len = 0;
			if ((err = dc__squash_config(ctx, src, keep, ol->diff_id,
						     &img->config_raw)) < 0)
				goto fail;
			dc__sha256_digest(img->config_raw.data, img->config_raw.len,
					  img->config.digest);
			img->config.size = (int64_t)img->config_raw.len;
		} else if (to == sl->comp) {
			if ((err = dc__desc_copy(ctx, ol, sl)) < 0)
				goto fail;
			b.kind = B_LAYER;
			b.src = sl;
		} else {
			/* the same layer may already be transcoded */
			size_t k;

			for (k = 0; k < p->nb; k++)
				if (p->b[k].kind == B_SPOOL && p->b[k].src &&
				    !strcmp(p->b[k].src->digest, sl->digest) &&
				    p->b[k].out->comp == to)
					break;
			if (k < p->nb) {
				if ((err = dc__desc_copy(ctx, ol, p->b[k].out)) < 0)
					goto fail;
				continue;
			}
			for (k = 0; k < p->njobs; k++)
				if (p->jobs[k].fd >= 0 && p->jobs[k].to == to &&
				    !strcmp(p->jobs[k].src->digest, sl->digest))
					break;
			if (k < p->njobs) {
				/* recompressed up front, with other layers */
				*ol = p->jobs[k].out;
				fd = p->jobs[k].fd;
				p->jobs[k].fd = -1;
				if ((err = keep_fd(p, fd)) < 0)
					goto fail;
			} else if ((err = dc__transcode(r, sl, to, o, spooldir,
							&p->enc, &fd, ol)) < 0 ||
				   (err = keep_fd(p, fd)) < 0) {
				goto fail;
			}
			b.kind = B_SPOOL;
			b.src = sl;
			b.fd = fd;
		}
		free(ol->media_type);
		free(ol->path);
		ol->path = NULL;
		ol->comp = to;
		if (!(ol->media_type = dc__strdup(ctx, dc__layer_media_type(to, 0)))) {
			err = DC_ENOMEM;
			goto fail;
		}
		b.out = ol;
		if ((err = add_blob(p, &b)) < 0)
			goto fail;
	}
	if (manifest_passes(src, img)) {
		if ((err = dc__desc_copy(ctx, &img->manifest, &src->manifest)) < 0 ||
		    (err = dc__buf_add(ctx, &img->manifest_raw,
				       src->manifest_raw.data,
				       src->manifest_raw.len)) < 0)
			goto fail;
	} else if ((err = dc__image_synth_manifest(ctx, img)) < 0) {
		goto fail;
	}
	*out = img;
	return 0;
fail:
	dc__image_free(img);
	return err;
}

/* Squashed layers first, as they were made (a tar output gets them
 * while it is planned, spooled or not), then digest order. */
static int cmp_blob(const void *a, const void *b)
{
	const struct pblob *x = a, *y = b;

	if (x->squash || y->squash) {
		if (!x->squash || !y->squash)
			return x->squash ? -1 : 1;
		return x->squash < y->squash ? -1 : x->squash > y->squash;
	}
	return strcmp(x->out->digest, y->out->digest);
}

static json_t *index_entry(const struct dc_image *img)
{
	json_t *o = json_object(), *pl = json_object();

	json_object_set_new(o, "mediaType", json_string(img->manifest.media_type));
	json_object_set_new(o, "digest", json_string(img->manifest.digest));
	json_object_set_new(o, "size", json_integer(img->manifest.size));
	json_object_set_new(pl, "architecture", json_string(img->arch ? img->arch : ""));
	json_object_set_new(pl, "os", json_string(img->os ? img->os : ""));
	if (img->variant)
		json_object_set_new(pl, "variant", json_string(img->variant));
	json_object_set_new(o, "platform", pl);
	return o;
}

/*
 * An output index passes through as the source's bytes when it lists
 * exactly the images written, unchanged; else a new OCI index lists
 * the images written.
 */
static int plan_index(struct plan *p, size_t k,
		      const struct dc_image *const *src)
{
	struct dc_ctx *ctx = p->ctx;
	struct dc_index *x = p->idx[k];
	const struct dc_index *sx = p->src_idx[k];
	json_t *root = NULL, *list;
	size_t i, n = 0;
	int same = sx->complete, err;

	for (i = 0; i < p->n; i++) {
		if (p->img[i]->index != x)
			continue;
		n++;
		if (strcmp(p->img[i]->manifest.digest, src[i]->manifest.digest))
			same = 0;
	}
	if (n != sx->nimages)
		same = 0;
	if (same) {
		if ((err = dc__desc_copy(ctx, &x->desc, &sx->desc)) < 0)
			return err;
		return dc__buf_add(ctx, &x->raw, sx->raw.data, sx->raw.len);
	}
	root = json_object();
	list = json_array();
	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType",
			    json_string("application/vnd.oci.image.index.v1+json"));
	for (i = 0; i < p->n; i++)
		if (p->img[i]->index == x)
			json_array_append_new(list, index_entry(p->img[i]));
	json_object_set_new(root, "manifests", list);
	err = dc__json_dump(ctx, &x->raw, root);
	json_decref(root);
	if (err)
		return err;
	dc__sha256_digest(x->raw.data, x->raw.len, x->desc.digest);
	x->desc.size = (int64_t)x->raw.len;
	if (!(x->desc.media_type =
		      dc__strdup(ctx, "application/vnd.oci.image.index.v1+json")))
		return DC_ENOMEM;
	return 0;
}

struct tpool {
	pthread_mutex_t mu;
	struct plan *p;
	struct dc_reader *r;
	const struct dc_write_opts *o;
	const char *spooldir;
	size_t next;
};

static void *tworker(void *arg)
{
	struct tpool *tp = arg;

	for (;;) {
		struct dc_ctx tctx;
		struct dc_src src;
		struct dc_reader r;
		struct tjob *j;
		size_t i;

		pthread_mutex_lock(&tp->mu);
		i = tp->next++;
		pthread_mutex_unlock(&tp->mu);
		if (i >= tp->p->njobs)
			break;
		j = &tp->p->jobs[i];
		dc__reader_clone(tp->r, &tctx, &src, &r,
				 &tp->r->ctx->interrupted);
		j->err = dc__transcode(&r, j->src, j->to, tp->o, tp->spooldir,
				       NULL, &j->fd, &j->out);
		if (j->err)
			memcpy(j->msg, tctx.msg, sizeof(j->msg));
	}
	return NULL;
}

/*
 * Several layers to recompress, some of them compressed: do them at once,
 * each with its share of the compression threads, before planning picks
 * up their spools. Decoding a layer is serial (one inflate or zstd stream
 * per layer), so one layer at a time would leave a core waiting on it.
 *
 * When no layer needs decoding, one layer at a time with every thread is
 * faster: the encoder's own workers then keep all cores busy to the end
 * of the last layer, instead of one core finishing the largest layer
 * alone, and one multi-threaded context costs less CPU than several
 * single-worker ones (bench/: 1 GB, 5 layers, zstd -3 on 2 cores: 2.57 s
 * and 4.3 s user instead of 3.08 s and 5.1 s).
 */
static int transcode_up_front(struct plan *p, struct dc_reader *r,
			      const struct dc_writer_ops *ops,
			      const struct dc_image *const *src, size_t nsrc,
			      const struct dc_write_opts *o, const char *spooldir)
{
	struct dc_ctx *ctx = p->ctx;
	struct dc_write_opts jo = *o;
	struct tpool tp;
	pthread_t th[8];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i, j, k, nth = 0, cpus = ncpu > 0 ? (size_t)ncpu : 1, want;
	int err = 0;

	for (i = 0; i < nsrc; i++) {
		const struct dc_image *img = src[i];
		size_t keep = img->nlayers;

		if (o->squash_last && img->nlayers)
			keep = o->squash_last >= img->nlayers ? 0 :
			       img->nlayers - o->squash_last;
		for (j = 0; j < keep; j++) {
			const struct dc_desc *l = &img->layers[j];
			enum dc_comp to = target_comp(ops, o, l->comp);
			struct tjob *nj;

			if (to == l->comp)
				continue;
			for (k = 0; k < p->njobs; k++)
				if (p->jobs[k].to == to &&
				    !strcmp(p->jobs[k].src->digest, l->digest))
					break;
			if (k < p->njobs)
				continue;
			if (!(nj = dc__reallocarray(ctx, p->jobs, p->njobs + 1,
						    sizeof(*nj))))
				return DC_ENOMEM;
			p->jobs = nj;
			memset(&nj[p->njobs], 0, sizeof(*nj));
			nj[p->njobs].src = l;
			nj[p->njobs].to = to;
			nj[p->njobs].fd = -1;
			p->njobs++;
		}
	}
	if (p->njobs < 2)
		return 0;	/* one layer: it gets every thread itself */
	for (i = 0; i < p->njobs; i++)
		if (p->jobs[i].src->comp != DC_COMP_NONE)
			break;
	if (i == p->njobs)
		return 0;	/* nothing to decode: one after the other */
	want = p->njobs < cpus ? p->njobs : cpus;
	if (want > sizeof(th) / sizeof(th[0]))
		want = sizeof(th) / sizeof(th[0]);
	jo.threads = (int)((o->threads > 0 ? (size_t)o->threads : cpus) / want);
	if (jo.threads < 1)
		jo.threads = 1;
	memset(&tp, 0, sizeof(tp));
	pthread_mutex_init(&tp.mu, NULL);
	tp.p = p;
	tp.r = r;
	tp.o = &jo;
	tp.spooldir = spooldir;
	for (i = 0; i < want; i++) {
		if (pthread_create(&th[i], NULL, tworker, &tp))
			break;
		nth++;
	}
	if (!nth)
		tworker(&tp);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&tp.mu);
	for (i = 0; i < p->njobs && !err; i++) {
		if (p->jobs[i].err) {
			err = ctx->code = p->jobs[i].err;
			memcpy(ctx->msg, p->jobs[i].msg, sizeof(ctx->msg));
		}
	}
	return err;
}

static int plan_build(struct plan *p, struct dc_reader *r,
		      const struct dc_writer_ops *ops,
		      const struct dc_image *const *src, size_t nsrc,
		      const struct dc_write_opts *o, const char *dest)
{
	struct dc_ctx *ctx = p->ctx;
	char *spooldir = NULL;
	size_t i;
	int err;

	p->dest = dest;
	if ((err = spool_dir(ctx, dest, &spooldir)) < 0)
		return err;
	if (nsrc && !(p->img = dc__calloc(ctx, nsrc, sizeof(*p->img)))) {
		err = DC_ENOMEM;
		goto out;
	}
	if ((err = transcode_up_front(p, r, ops, src, nsrc, o, spooldir)) < 0)
		goto out;
	for (i = 0; i < nsrc; i++) {
		if ((err = plan_image(p, r, ops, o, src[i], spooldir,
				      &p->img[i])) < 0)
			goto out;
		p->n++;
	}
	for (i = 0; i < p->nidx; i++) {
		struct pblob x = { B_MEM, NULL, &p->idx[i]->desc, NULL, -1, 0 };

		if ((err = plan_index(p, i, src)) < 0)
			goto out;
		x.mem = p->idx[i]->raw.data;
		if ((err = add_blob(p, &x)) < 0)
			goto out;
	}
	for (i = 0; i < p->n; i++) {
		struct dc_image *img = p->img[i];
		struct pblob c = { B_MEM, NULL, &img->config, img->config_raw.data, -1, 0 };
		struct pblob m = { B_MEM, NULL, &img->manifest, img->manifest_raw.data, -1, 0 };

		if ((err = add_blob(p, &c)) < 0 || (err = add_blob(p, &m)) < 0)
			goto out;
	}
	qsort(p->b, p->nb, sizeof(*p->b), cmp_blob);
out:
	free(spooldir);
	return err;
}

/* ------------------------------------------------------------------ */
/* Driving a writer */

int dc__copy_stream(struct dc_out *o, struct dc_stream *in, int64_t size,
		    const char *label)
{
	struct dc_ctx *ctx = o->ctx;
	char *buf = malloc(1 << 20);
	uint64_t n = 0;
	int err = 0;

	if (!buf)
		return dc__enomem(ctx);
	for (;;) {
		ssize_t got = dc__stream_read(in, buf, 1 << 20);

		if (got < 0) {
			err = (int)got;
			break;
		}
		if (!got)
			break;
		n += (uint64_t)got;
		if (size >= 0 && n > (uint64_t)size) {
			err = dc_error(ctx, DC_EDIGEST,
				       "'%s': more than the %lld bytes expected",
				       label, (long long)size);
			break;
		}
		if ((err = dc__out_write(o, buf, (size_t)got)) < 0)
			break;
		if (ctx->progress)
			ctx->progress(ctx->progress_arg, (uint64_t)got, 0, 0, 0);
	}
	if (!err && size >= 0 && n != (uint64_t)size)
		err = dc_error(ctx, DC_EDIGEST,
			       "'%s': %llu bytes, expected %lld", label,
			       (unsigned long long)n, (long long)size);
	free(buf);
	return err;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int open_blob(struct dc_reader *r, const struct pblob *b,
		     struct dc_stream **s)
{
	switch (b->kind) {
	case B_MEM:
		return dc__stream_memory(r->ctx, s, b->mem, (size_t)b->out->size);
	case B_LAYER:
		return dc__blob_open(r, b->src, DC_BLOB_DIFFID, s);
	case B_SPOOL:
		return dc__stream_fd_range(r->ctx, s, b->fd, 0,
					   (uint64_t)b->out->size, 0);
	case B_DONE:
		break;
	}
	return DC_EINVAL;
}

/*
 * "rootfs": the image's merged filesystem as one tar, as `docker export`
 * gives it (without the container's init files). It is not a layout,
 * so it bypasses the writer vtable: the squash engine writes straight
 * into the temp file that becomes DEST.
 */
static int write_rootfs(struct dc_ctx *ctx, struct dc_reader *r,
			const struct dc_image *const *imgs, size_t n,
			const char *dest, const struct dc_write_opts *o)
{
	struct dc_outfile f;
	struct dc_desc d;
	char *spooldir = NULL;
	enum dc_comp comp;
	int fd, err;

	if (n != 1)
		return dc_error(ctx, DC_EINVAL,
				"'rootfs' holds one image, the selection has %zu (use --image)",
				n);
	if (!imgs[0]->nlayers)
		return dc_error(ctx, DC_EINVAL, "the image has no layers");
	comp = o->compress == DC_COMPRESS_GZIP ? DC_COMP_GZIP :
	       o->compress == DC_COMPRESS_ZSTD ? DC_COMP_ZSTD : DC_COMP_NONE;
	if ((err = dc__outfile_open(ctx, &f, dest)) < 0 ||
	    (err = spool_dir(ctx, dest, &spooldir)) < 0)
		goto out;
	/* the squash engine writes straight into the output file */
	fd = f.fd;
	if ((err = dc__squash(r, imgs[0], 0, imgs[0]->nlayers, comp, o, spooldir,
			      f.tmp || f.own ? dest : "stdout", 1, &fd, &d)) < 0)
		goto out;
	err = dc__outfile_commit(&f);
out:
	if (err < 0)
		dc__outfile_abort(&f);
	free(spooldir);
	return err;
}

int dc_write(struct dc_ctx *ctx, struct dc_reader *r,
	     const struct dc_set *set, const char *format, const char *dest,
	     const struct dc_write_opts *opts)
{
	static const struct dc_write_opts defaults;
	const struct dc_writer_ops *ops = find_writer(format);
	struct dc_writer w;
	struct plan p;
	const struct dc_image **srcs = NULL;
	unsigned char *keep = NULL;
	struct dc_cpool *cp = NULL;
	uint64_t total = 0;
	size_t i, nsrcs = 0;
	int err;

	memset(&p, 0, sizeof(p));
	memset(&w, 0, sizeof(w));
	p.ctx = ctx;
	if (!opts)
		opts = &defaults;
	if (!ops && strcmp(format, "rootfs"))
		return dc_error(ctx, DC_EINVAL, "'%s': unknown output format",
				format);
	if (ops && !strcmp(dest, "-") && !(ops->caps & DC_WCAP_STDOUT))
		return dc_error(ctx, DC_EINVAL,
				"'%s' output is a directory and cannot go to stdout",
				format);
	if (!set->n)
		return dc_error(ctx, DC_EFORMAT, "the source holds no images");
	if (!r->src->mem && !r->src->is_stdin && strcmp(dest, "-") &&
	    (!strcmp(r->src->label, dest) || same_file(r->src->label, dest)))
		return dc_error(ctx, DC_EINVAL,
				"'%s': the destination is the source", dest);
	/* single-platform targets take one image per index */
	if (!(srcs = dc__calloc(ctx, set->n, sizeof(*srcs))) ||
	    !(keep = dc__calloc(ctx, set->n, 1))) {
		err = DC_ENOMEM;
		goto out;
	}
	memset(keep, 1, set->n);
	if (!(ops && (ops->caps & DC_WCAP_MULTI_PLATFORM)) && set->nidx) {
		memset(keep, 0xff, set->n);
		if ((err = choose_platform(ctx, set->img, set->n, NULL, keep)) < 0)
			goto out;
	}
	for (i = 0; i < set->n; i++)
		if (keep[i])
			srcs[nsrcs++] = set->img[i];
	if (!ops) {
		err = write_rootfs(ctx, r, srcs, nsrcs, dest, opts);
		goto out;
	}
	if (nsrcs > 1 && !(ops->caps & DC_WCAP_MULTI_IMAGE)) {
		err = dc_error(ctx, DC_EINVAL,
			       "'%s' holds one image, the selection has %zu (use --image)",
			       format, nsrcs);
		goto out;
	}
	w.ctx = ctx;
	w.ops = ops;
	w.dest = dest;
	if (ops->priv_size && !(w.priv = dc__calloc(ctx, 1, ops->priv_size))) {
		err = DC_ENOMEM;
		goto out;
	}
	/* a squash goes straight into a tar: begun before planning */
	if (ops->put_blob_open && opts->squash_last) {
		if ((err = ops->begin(&w)) < 0)
			goto fail;
		w.state = DC_W_BLOBS;
		p.w = &w;
	}
	if ((err = plan_build(&p, r, ops, srcs, nsrcs, opts, dest)) < 0) {
		if (p.w)
			goto fail;
		goto out;
	}
	dc__enc_free(p.enc);	/* recompression is over: its threads too */
	p.enc = NULL;
	w.images = (const struct dc_image *const *)p.img;
	w.nimages = p.n;
	w.indexes = (const struct dc_index *const *)p.idx;
	w.nindexes = p.nidx;
	for (i = 0; i < p.nb; i++)
		if (p.b[i].kind != B_DONE)
			total += (uint64_t)p.b[i].out->size;
	if ((err = dc__cpool_new(r, &cp)) < 0) {
		if (p.w)
			goto fail;
		goto out;
	}
	if (!p.w && (err = ops->begin(&w)) < 0)
		goto fail;
	w.state = DC_W_BLOBS;
	for (i = 0; i < p.nb; i++) {
		struct dc_stream *s = NULL;
		struct dc_cjob job;
		int rfd = -1, own = 0;
		uint64_t roff = 0, rlen = 0;

		if ((err = dc__check_intr(ctx)) < 0)
			goto fail;
		if (p.b[i].kind == B_DONE)
			continue;
		w.align_next = p.b[i].squash != 0;
		if (ctx->progress)
			ctx->progress(ctx->progress_arg, 0, total, i + 1, p.nb);
		if (p.b[i].kind == B_SPOOL && ops->put_blob_file) {
			/* spooled (recompressed, squashed), already hashed:
			 * the writer may link it into place */
			if ((err = ops->put_blob_file(&w, p.b[i].fd, p.b[i].out)) < 0)
				goto fail;
			if (ctx->progress)
				ctx->progress(ctx->progress_arg,
					      (uint64_t)p.b[i].out->size, 0, 0, 0);
			continue;
		}
		/* a layer lying as a byte range of the source, or a spool: the
		 * copy pool fills its place in one pass, several at once */
		memset(&job, 0, sizeof(job));
		job.srcfd = -1;
		if (p.b[i].kind == B_SPOOL) {
			job.srcfd = p.b[i].fd;
			job.len = (uint64_t)p.b[i].out->size;
		} else if (p.b[i].kind == B_LAYER && !r->ops->open_blob &&
			   dc__src_range(r->src, p.b[i].src->path, &rfd, &own,
					 &roff, &rlen) == 0) {
			if (own)
				close(rfd);
			if (rlen == (uint64_t)p.b[i].src->size) {
				job.d = p.b[i].src;
				job.len = rlen;
			}
		}
		if ((job.d || job.srcfd >= 0) && ops->reserve_blob) {
			err = ops->reserve_blob(&w, p.b[i].out, &job.dstfd,
						&job.dstoff, &job.dst_own);
			if (err < 0)
				goto fail;
			if (err == 0) {
				job.dst_label = w.dest;
				if ((err = dc__cpool_add(cp, &job)) < 0) {
					if (job.dst_own)
						close(job.dstfd);
					goto fail;
				}
				continue;
			}
		}
		if (p.b[i].kind == B_SPOOL && ops->put_blob_range) {
			if ((err = ops->put_blob_range(&w, p.b[i].fd, 0,
						       p.b[i].out)) < 0)
				goto fail;
			if (ctx->progress)
				ctx->progress(ctx->progress_arg,
					      (uint64_t)p.b[i].out->size, 0, 0, 0);
			continue;
		}
		/* everything else streams through here, verified as it goes */
		if ((err = open_blob(r, &p.b[i], &s)) < 0)
			goto fail;
		err = ops->put_blob(&w, s, p.b[i].out);
		/* a writer may skip a blob it holds already: the source is
		 * still read to its end, where it is checked */
		if (!err)
			err = dc__stream_drain(s);
		dc__stream_close(s);
		if (err < 0)
			goto fail;
	}
	if ((err = dc__cpool_run(cp, ctx)) < 0)
		goto fail;
	w.state = DC_W_IMAGES;
	for (i = 0; i < p.n; i++)
		if ((err = ops->put_image(&w, p.img[i])) < 0)
			goto fail;
	if ((err = dc__check_intr(ctx)) < 0 || (err = ops->commit(&w)) < 0)
		goto fail;
	w.state = DC_W_DONE;
	goto out;
fail:
	w.state = DC_W_FAILED;
	if (w.priv)
		ops->abort(&w);
out:
	dc__cpool_free(cp);
	plan_release(&p);
	free(w.priv);
	free(srcs);
	free(keep);
	return err;
}
