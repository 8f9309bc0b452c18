/*
 * Selection: which images of a set go on (--image, --platform), and
 * their names (--tag). Each takes an image set and leaves the part of
 * it that was asked for.
 */
#include "model/model.h"
#include "transform/transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

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

int dc_set_name_ref(struct dc_ctx *ctx, struct dc_set *set, const char *name)
{
	struct dc_image *img;
	char ***refs, **ref_name;
	size_t *nrefs;
	int err;

	/* a reference with a tag or a registry: a tag, spelled as given */
	if (strchr(name, ':') || strchr(name, '/')) {
		if ((err = dc_set_retag(ctx, set, name)) < 0)
			return err;
		img = set->img[0];
		refs = img->index ? &img->index->src_refs : &img->src_refs;
		nrefs = img->index ? &img->index->nsrc_refs : &img->nsrc_refs;
		return dc__tags_add(ctx, refs, nrefs, name);
	}
	/* else a bare ref.name ("1.0"): no tag */
	if ((err = dc_set_retag(ctx, set, "x")) < 0)
		return err;
	img = set->img[0];
	if (img->index) {
		dc__tags_clear(&img->index->tags, &img->index->ntags);
		ref_name = &img->index->ref_name;
	} else {
		dc__tags_clear(&img->tags, &img->ntags);
		ref_name = &img->ref_name;
	}
	free(*ref_name);
	return (*ref_name = dc__strdup(ctx, name)) ? 0 : DC_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Platforms */

/* 2 exact, 1 matches (variant unasked or unknown), 0 no */
static int match(const struct dc_image *img, const struct dc_platform *p)
{
	return dc__platform_match(p, img->os, img->arch, img->variant);
}

/*
 * Pick one image per index into KEEP[]; with DROP_OTHERS also clear
 * KEEP[] for single images of another platform.
 */
static int choose_platform(struct dc_ctx *ctx, struct dc_image *const *img,
			   size_t n, const char *platform, unsigned char *keep)
{
	struct dc_platform want;
	char ws[128];
	size_t i, j;
	int host = !platform, any = 0;

	if (platform) {
		if (dc__platform_parse(ctx, &want, platform) < 0)
			return DC_EINVAL;
	} else {
		dc__platform_host(&want);
	}
	dc__platform_str(&want, ws, sizeof(ws));
	for (i = 0; i < n; i++) {
		const struct dc_index *x = img[i]->index;
		size_t best = n;
		int score = 0;

		if (!x) {
			keep[i] = host || match(img[i], &want);
			any |= keep[i];
			continue;
		}
		if (keep[i] != 0xff)
			continue;	/* this index is done */
		if (host && !x->complete && x->nimages == 1) {
			/* the one image the user picked out of it */
			keep[i] = 1;
			any = 1;
			continue;
		}
		for (j = i; j < n; j++) {
			int m;

			if (img[j]->index != x)
				continue;
			keep[j] = 0;
			m = match(img[j], &want);
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

int dc__select_for_target(struct dc_ctx *ctx, const struct dc_set *set,
			  int multi_platform, const struct dc_image ***out,
			  size_t *n)
{
	const struct dc_image **img = NULL;
	unsigned char *keep = NULL;
	size_t i;
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!(img = dc__calloc(ctx, set->n ? set->n : 1, sizeof(*img))) ||
	    !(keep = dc__calloc(ctx, set->n ? set->n : 1, 1))) {
		err = DC_ENOMEM;
		goto out;
	}
	memset(keep, 1, set->n);
	if (!multi_platform && set->nidx) {
		memset(keep, 0xff, set->n);
		if ((err = choose_platform(ctx, set->img, set->n, NULL, keep)) < 0)
			goto out;
	}
	for (i = 0; i < set->n; i++)
		if (keep[i])
			img[(*n)++] = set->img[i];
	*out = img;
	img = NULL;
out:
	free(img);
	free(keep);
	return err;
}
