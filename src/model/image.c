/*
 * The image model: sets, images, descriptors.
 */
#include "model/model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

int dc__set_new(struct dc_ctx *ctx, struct dc_set **out, const char *format)
{
	struct dc_set *s = dc__calloc(ctx, 1, sizeof(*s));

	*out = NULL;
	if (!s)
		return DC_ENOMEM;
	if (!(s->format = dc__strdup(ctx, format))) {
		free(s);
		return DC_ENOMEM;
	}
	*out = s;
	return 0;
}

int dc__set_add(struct dc_ctx *ctx, struct dc_set *set, struct dc_image *img)
{
	struct dc_image **p = dc__reallocarray(ctx, set->img, set->n + 1,
					       sizeof(*p));

	if (!p)
		return DC_ENOMEM;
	set->img = p;
	set->img[set->n++] = img;
	return 0;
}

int dc__tags_add(struct dc_ctx *ctx, char ***tags, size_t *n, const char *tag)
{
	char **p;
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*tags)[i], tag))
			return 0;
	if (!(p = dc__reallocarray(ctx, *tags, *n + 1, sizeof(*p))))
		return DC_ENOMEM;
	*tags = p;
	if (!(p[*n] = dc__strdup(ctx, tag)))
		return DC_ENOMEM;
	(*n)++;
	return 0;
}

int dc__tags_add_all(struct dc_ctx *ctx, char ***tags, size_t *n,
		     char *const *src, size_t nsrc)
{
	size_t i;
	int err = 0;

	for (i = 0; i < nsrc && !err; i++)
		err = dc__tags_add(ctx, tags, n, src[i]);
	return err;
}

void dc__tags_clear(char ***tags, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*tags)[i]);
	free(*tags);
	*tags = NULL;
	*n = 0;
}

int dc__index_new(struct dc_ctx *ctx, struct dc_set *set,
		  struct dc_index **out)
{
	struct dc_index *x, **p;

	*out = NULL;
	if (!(x = dc__calloc(ctx, 1, sizeof(*x))))
		return DC_ENOMEM;
	if (!(p = dc__reallocarray(ctx, set->idx, set->nidx + 1, sizeof(*p)))) {
		free(x);
		return DC_ENOMEM;
	}
	set->idx = p;
	set->idx[set->nidx++] = x;
	x->desc.size = -1;
	*out = x;
	return 0;
}

void dc__index_free(struct dc_index *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->ntags; i++)
		free(x->tags[i]);
	free(x->tags);
	free(x->ref_name);
	dc__tags_clear(&x->src_refs, &x->nsrc_refs);
	dc__desc_release(&x->desc);
	dc__buf_release(&x->raw);
	free(x);
}

void dc__set_prune_indexes(struct dc_set *set)
{
	size_t i, k;

	/* an index that lost images no longer lists exactly what we hold */
	for (i = 0; i < set->nidx; i++) {
		set->idx[i]->pruned_from = set->idx[i]->nimages;
		set->idx[i]->nimages = 0;
	}
	for (i = 0; i < set->n; i++)
		if (set->img[i]->index)
			set->img[i]->index->nimages++;
	for (i = 0, k = 0; i < set->nidx; i++) {
		struct dc_index *x = set->idx[i];

		if (x->pruned_from && x->nimages < x->pruned_from)
			x->complete = 0;
		if (x->nimages)
			set->idx[k++] = x;
		else
			dc__index_free(x);
	}
	set->nidx = k;
}

void dc_set_free(struct dc_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		dc__image_free(set->img[i]);
	free(set->img);
	for (i = 0; i < set->nidx; i++)
		dc__index_free(set->idx[i]);
	free(set->idx);
	free(set->format);
	free(set->missing);
	free(set);
}

int dc__image_new(struct dc_ctx *ctx, struct dc_image **out)
{
	struct dc_image *img = dc__calloc(ctx, 1, sizeof(*img));

	*out = img;
	if (!img)
		return DC_ENOMEM;
	img->manifest.size = img->config.size = -1;
	return 0;
}

void dc__desc_release(struct dc_desc *d)
{
	free(d->media_type);
	free(d->path);
	d->media_type = d->path = NULL;
}

int dc__desc_copy(struct dc_ctx *ctx, struct dc_desc *dst,
		  const struct dc_desc *src)
{
	*dst = *src;
	dst->media_type = dst->path = NULL;
	if (src->media_type &&
	    !(dst->media_type = dc__strdup(ctx, src->media_type)))
		return DC_ENOMEM;
	if (src->path && !(dst->path = dc__strdup(ctx, src->path))) {
		dc__desc_release(dst);
		return DC_ENOMEM;
	}
	return 0;
}

void dc__image_free(struct dc_image *img)
{
	size_t i;

	if (!img)
		return;
	for (i = 0; i < img->ntags; i++)
		free(img->tags[i]);
	free(img->tags);
	free(img->ref_name);
	dc__tags_clear(&img->src_refs, &img->nsrc_refs);
	free(img->os);
	free(img->arch);
	free(img->variant);
	dc__desc_release(&img->manifest);
	dc__desc_release(&img->config);
	dc__buf_release(&img->manifest_raw);
	dc__buf_release(&img->config_raw);
	for (i = 0; img->layers && i < img->nlayers; i++)
		dc__desc_release(&img->layers[i]);
	free(img->layers);
	free(img);
}

int dc__image_add_tag(struct dc_ctx *ctx, struct dc_image *img,
		      const char *tag)
{
	if (img->index)
		return dc__tags_add(ctx, &img->index->tags, &img->index->ntags, tag);
	return dc__tags_add(ctx, &img->tags, &img->ntags, tag);
}

/* *OUT = a copy of string KEY, or NULL if absent; DC_ENOMEM on failure */
static int jstr(struct dc_ctx *ctx, json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!json_is_string(v) || !json_string_length(v))
		return 0;
	*out = dc__strdup(ctx, json_string_value(v));
	return *out ? 0 : DC_ENOMEM;
}

int dc__image_parse_config(struct dc_ctx *ctx, struct dc_image *img,
			   const char *label)
{
	json_t *root = NULL, *rootfs, *ids;
	size_t i;
	int err;

	if ((err = dc__json_parse(ctx, &root, &img->config_raw, label)) < 0)
		goto out;
	if (!json_is_object(root)) {
		err = dc_error(ctx, DC_EFORMAT, "'%s': config is not a JSON object",
			       label);
		goto out;
	}
	if ((err = jstr(ctx, root, "os", &img->os)) < 0 ||
	    (err = jstr(ctx, root, "architecture", &img->arch)) < 0 ||
	    (err = jstr(ctx, root, "variant", &img->variant)) < 0)
		goto out;
	snprintf(img->platform, sizeof(img->platform), "%s%s%s%s%s",
		 img->os ? img->os : "", img->arch ? "/" : "",
		 img->arch ? img->arch : "", img->variant ? "/" : "",
		 img->variant ? img->variant : "");
	rootfs = json_object_get(root, "rootfs");
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_object(rootfs) || !(json_is_array(ids) || json_is_null(ids))) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'%s': config has no rootfs.diff_ids", label);
		goto out;
	}
	if (!json_is_string(json_object_get(rootfs, "type")) ||
	    strcmp(json_string_value(json_object_get(rootfs, "type")), "layers")) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'%s': config rootfs.type is not \"layers\"", label);
		goto out;
	}
	if (json_array_size(ids) != img->nlayers) {
		err = dc_error(ctx, DC_ECORRUPT,
			       "'%s': config lists %zu diff_ids for %zu layers",
			       label, json_array_size(ids), img->nlayers);
		goto out;
	}
	for (i = 0; i < img->nlayers; i++) {
		const char *d = json_string_value(json_array_get(ids, i));

		if (!dc__digest_valid(d)) {
			err = dc_error(ctx, DC_EFORMAT,
				       "'%s': rootfs.diff_ids[%zu] is not a sha256 digest",
				       label, i);
			goto out;
		}
		memcpy(img->layers[i].diff_id, d, DC_DIGEST_MAX);
	}
out:
	json_decref(root);
	return err;
}

const char *dc__layer_media_type(enum dc_comp c, int docker)
{
	if (docker)
		return c == DC_COMP_NONE ?
		       "application/vnd.docker.image.rootfs.diff.tar" :
		       c == DC_COMP_ZSTD ?
		       "application/vnd.oci.image.layer.v1.tar+zstd" :
		       "application/vnd.docker.image.rootfs.diff.tar.gzip";
	switch (c) {
	case DC_COMP_GZIP: return "application/vnd.oci.image.layer.v1.tar+gzip";
	case DC_COMP_ZSTD: return "application/vnd.oci.image.layer.v1.tar+zstd";
	default: return "application/vnd.oci.image.layer.v1.tar";
	}
}

int dc__media_is_manifest(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.oci.image.manifest.v1+json") ||
		      !strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json"));
}

int dc__media_is_index(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
		      !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

/* {"mediaType":MT,"digest":DIGEST,"size":SIZE} */
static int add_desc(struct dc_ctx *ctx, struct dc_buf *b, const char *mt,
		    const char *digest, int64_t size)
{
	int err;

	if ((err = dc__buf_addstr(ctx, b, "{\"mediaType\":")) < 0 ||
	    (err = dc__json_add_str(ctx, b, mt)) < 0 ||
	    (err = dc__buf_addstr(ctx, b, ",\"digest\":")) < 0 ||
	    (err = dc__json_add_str(ctx, b, digest)) < 0)
		return err;
	return dc__buf_addf(ctx, b, ",\"size\":%lld}", (long long)size);
}

/*
 * The OCI manifest of IMG, written out as text: the same bytes as
 * jansson's compact dump of the same object, without the object (an
 * image of 50,000 layers made it 46 MB of nodes, issue 17's hostile
 * row).
 */
int dc__image_synth_manifest(struct dc_ctx *ctx, struct dc_image *img)
{
	struct dc_buf *b = &img->manifest_raw;
	size_t i;
	int err;

	b->len = 0;
	if ((err = dc__buf_addstr(ctx, b, "{\"schemaVersion\":2,\"mediaType\":"
				  "\"application/vnd.oci.image.manifest.v1+json\","
				  "\"config\":")) < 0 ||
	    (err = add_desc(ctx, b, "application/vnd.oci.image.config.v1+json",
			    img->config.digest, img->config.size)) < 0 ||
	    (err = dc__buf_addstr(ctx, b, ",\"layers\":[")) < 0)
		return err;
	for (i = 0; i < img->nlayers; i++) {
		const struct dc_desc *l = &img->layers[i];

		if (!l->digest[0])
			DC_BUG("layer %zu digest unknown when making a manifest", i);
		if (!l->media_type)
			return dc__enomem(ctx);	/* as a NULL json_string was */
		if ((i && (err = dc__buf_add(ctx, b, ",", 1)) < 0) ||
		    (err = add_desc(ctx, b, l->media_type, l->digest,
				    l->size)) < 0)
			return err;
	}
	if ((err = dc__buf_addstr(ctx, b, "]}")) < 0)
		return err;
	dc__sha256_digest(b->data, b->len, img->manifest.digest);
	img->manifest.size = (int64_t)b->len;
	free(img->manifest.media_type);
	if (!(img->manifest.media_type =
		      dc__strdup(ctx, "application/vnd.oci.image.manifest.v1+json")))
		return DC_ENOMEM;
	img->manifest_synth = 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public accessors */

const char *dc_set_format(const struct dc_set *set)
{
	return set->format;
}

size_t dc_set_count(const struct dc_set *set)
{
	return set->n;
}

const struct dc_image *dc_set_image(const struct dc_set *set, size_t i)
{
	return i < set->n ? set->img[i] : NULL;
}

size_t dc_image_tag_count(const struct dc_image *img)
{
	return img->index ? img->index->ntags : img->ntags;
}

const char *dc_image_tag(const struct dc_image *img, size_t i)
{
	if (img->index)
		return i < img->index->ntags ? img->index->tags[i] : NULL;
	return i < img->ntags ? img->tags[i] : NULL;
}

const char *dc_image_index_digest(const struct dc_image *img)
{
	return img->index ? img->index->desc.digest : NULL;
}

const char *dc_image_ref_name(const struct dc_image *img)
{
	return img->index ? img->index->ref_name : img->ref_name;
}

const char *dc_image_platform(const struct dc_image *img)
{
	return img->platform;
}

const struct dc_desc *dc_image_manifest(const struct dc_image *img)
{
	return &img->manifest;
}

const struct dc_desc *dc_image_config(const struct dc_image *img)
{
	return &img->config;
}

size_t dc_image_layer_count(const struct dc_image *img)
{
	return img->nlayers;
}

const struct dc_desc *dc_image_layer(const struct dc_image *img, size_t i)
{
	return i < img->nlayers ? &img->layers[i] : NULL;
}

const char *dc_image_id(const struct dc_image *img)
{
	return img->config.digest;
}

const char *dc_image_config_raw(const struct dc_image *img, size_t *len)
{
	*len = img->config_raw.len;
	return img->config_raw.data ? img->config_raw.data : "";
}

const char *dc_image_manifest_raw(const struct dc_image *img, size_t *len)
{
	*len = img->manifest_raw.len;
	return img->manifest_raw.data ? img->manifest_raw.data : "";
}

const char *dc_image_index_raw(const struct dc_image *img, size_t *len)
{
	*len = 0;
	if (!img->index || !img->index->raw.len)
		return NULL;
	*len = img->index->raw.len;
	return img->index->raw.data;
}

int dc_image_manifest_synthesized(const struct dc_image *img)
{
	return img->manifest_synth;
}

const char *dc_desc_media_type(const struct dc_desc *d)
{
	return d->media_type ? d->media_type : "";
}

const char *dc_desc_digest(const struct dc_desc *d)
{
	return d->digest;
}

int64_t dc_desc_size(const struct dc_desc *d)
{
	return d->size;
}

const char *dc_desc_diff_id(const struct dc_desc *d)
{
	return d->diff_id[0] ? d->diff_id : NULL;
}

const char *dc_desc_compression(const struct dc_desc *d)
{
	return dc__comp_name(d->comp);
}

enum dc_comp dc__media_comp(const char *mt)
{
	size_t n = mt ? strlen(mt) : 0;

	if (n >= 5 && !strcmp(mt + n - 5, "+gzip"))
		return DC_COMP_GZIP;
	if (n >= 5 && !strcmp(mt + n - 5, "+zstd"))
		return DC_COMP_ZSTD;
	if (n >= 6 && !strcmp(mt + n - 6, ".gzip"))	/* Docker's */
		return DC_COMP_GZIP;
	return DC_COMP_NONE;
}
