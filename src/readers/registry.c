/*
 * The registry reader: "docker://HOST[:PORT]/REPO[:TAG|@DIGEST]". load()
 * fetches the manifest (or index and its manifests) and the configs;
 * open_blob() streams a blob over HTTP, checked by the blob layer.
 */
#include "registry/registry.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "readers/readers.h"

struct rpriv {
	struct dc_reg_ref ref;
	struct dc_reg *g;
	char prefix[600];	/* descriptor paths: "NAME/REPO@sha256:" */
};

static int reg_bid(struct dc_src *src)
{
	/* a source made by dc_reader_open for a docker:// argument */
	return !src->mem && src->fd < 0 && src->dirfd < 0 && !src->n &&
	       src->label && !strncmp(src->label, "docker://", 9) ? 100 : 0;
}

static enum dc_comp mt_comp(const char *mt)
{
	if (!mt)
		return DC_COMP_NONE;
	if (strstr(mt, "gzip"))
		return DC_COMP_GZIP;
	if (strstr(mt, "zstd"))
		return DC_COMP_ZSTD;
	return DC_COMP_NONE;
}

/* The media type of a manifest the registry sent as MT (maybe "") */
static const char *doc_type(const char *mt, json_t *doc)
{
	const char *m = json_string_value(json_object_get(doc, "mediaType"));

	if (mt && (dc__media_is_manifest(mt) || dc__media_is_index(mt)))
		return mt;
	if (m)
		return m;
	return json_object_get(doc, "manifests") ? DC_MT_OCI_INDEX :
	       DC_MT_OCI_MANIFEST;
}

/* Image from manifest DOC (RAW, taken over); 1: not an image (skipped). */
static int load_image(struct dc_reader *r, const struct dc_desc *d,
		      struct dc_buf *raw, json_t *doc, struct dc_image **out)
{
	struct rpriv *p = r->priv;
	struct dc_ctx *ctx = r->ctx;
	struct dc_image *img = NULL;
	json_t *cfg = json_object_get(doc, "config"),
	       *layers = json_object_get(doc, "layers");
	char label[700], got[DC_DIGEST_MAX];
	size_t i;
	int err;

	*out = NULL;
	snprintf(label, sizeof(label), "%s@%s", dc__reg_label(p->g), d->digest);
	if (!json_is_object(cfg) || !json_is_array(layers))
		return dc_error(ctx, DC_EFORMAT,
				"'%s': manifest needs config and layers", label);
	if (json_is_string(json_object_get(doc, "artifactType")) ||
	    !dc__is_image_config(json_string_value(json_object_get(cfg, "mediaType"))))
		return 1;
	if ((err = dc__image_new(ctx, &img)) < 0)
		return err;
	if ((err = dc__desc_copy(ctx, &img->manifest, d)) < 0)
		goto fail;
	img->manifest_raw = *raw;
	memset(raw, 0, sizeof(*raw));
	if ((err = dc__parse_desc(ctx, cfg, &img->config, p->prefix, label)) < 0)
		goto fail;
	if (img->config.size > (int64_t)DC_MAX_JSON) {
		err = dc_error(ctx, DC_ELIMIT,
			       "'%s': config size %lld is over the %u-byte limit for metadata",
			       label, (long long)img->config.size, DC_MAX_JSON);
		goto fail;
	}
	if ((err = dc__reg_get_blob(p->g, ctx, img->config.digest,
				    (size_t)img->config.size,
				    &img->config_raw)) < 0) {
		if (err == DC_ELIMIT)
			err = dc_error(ctx, DC_EDIGEST,
				       "'%s': config is larger than its descriptor says",
				       img->config.path);
		goto fail;
	}
	dc__sha256_digest(img->config_raw.data ? img->config_raw.data : "",
			  img->config_raw.len, got);
	if ((int64_t)img->config_raw.len != img->config.size ||
	    strcmp(got, img->config.digest)) {
		err = dc_error(ctx, DC_EDIGEST,
			       "'%s': config does not match its descriptor (%zu bytes, %s)",
			       img->config.path, img->config_raw.len, got);
		goto fail;
	}
	img->nlayers = json_array_size(layers);
	if (img->nlayers &&
	    !(img->layers = dc__calloc(ctx, img->nlayers, sizeof(*img->layers)))) {
		err = DC_ENOMEM;
		goto fail;
	}
	for (i = 0; i < img->nlayers; i++) {
		struct dc_desc *l = &img->layers[i];

		if ((err = dc__parse_desc(ctx, json_array_get(layers, i), l,
					  p->prefix, label)) < 0)
			goto fail;
		l->comp = mt_comp(l->media_type);
	}
	if ((err = dc__image_parse_config(ctx, img, img->config.path)) < 0)
		goto fail;
	*out = img;
	return 0;
fail:
	dc__image_free(img);
	return err;
}

/* The familiar name:tag of the reference, or NULL (a digest only). */
static int ref_tag(struct dc_reader *r, char **out)
{
	struct rpriv *p = r->priv;
	struct dc_ctx *ctx = r->ctx;
	struct dc_buf b = DC_BUF_INIT;
	struct dc_ref ref;
	int err;

	*out = NULL;
	if (p->ref.digest && !p->ref.tag)
		return 0;
	if ((err = dc__buf_addf(ctx, &b, "%s/%s:%s", p->ref.name, p->ref.repo,
				p->ref.tag ? p->ref.tag : "latest")) < 0)
		return err;
	if ((err = dc__ref_parse(ctx, &ref, b.data)) == 0) {
		err = dc__ref_familiar(ctx, &ref, out);
		dc__ref_release(&ref);
	}
	dc__buf_release(&b);
	return err;
}

static int load_index(struct dc_reader *r, struct dc_set *set,
		      const struct dc_desc *d, struct dc_buf *raw, json_t *doc,
		      const char *tag)
{
	struct rpriv *p = r->priv;
	struct dc_ctx *ctx = r->ctx;
	json_t *list = json_object_get(doc, "manifests");
	struct dc_index *x;
	size_t i, added = 0;
	int err;

	if (!json_is_array(list))
		return dc_error(ctx, DC_EFORMAT,
				"'%s@%s': \"manifests\" is not an array",
				dc__reg_label(p->g), d->digest);
	if ((err = dc__index_new(ctx, set, &x)) < 0 ||
	    (err = dc__desc_copy(ctx, &x->desc, d)) < 0 ||
	    (tag && (err = dc__tags_add(ctx, &x->tags, &x->ntags, tag)) < 0))
		return err;
	x->raw = *raw;
	memset(raw, 0, sizeof(*raw));
	for (i = 0; i < json_array_size(list); i++) {
		struct dc_desc md;
		struct dc_buf mraw = DC_BUF_INIT;
		struct dc_image *img = NULL;
		json_t *mdoc = NULL;
		char what[700], *mt = NULL, dg[DC_DIGEST_MAX];

		snprintf(what, sizeof(what), "'%s@%s': manifests[%zu]",
			 dc__reg_label(p->g), d->digest, i);
		if ((err = dc__parse_desc(ctx, json_array_get(list, i), &md,
					  p->prefix, what)) < 0)
			return err;
		if (md.media_type && !dc__media_is_manifest(md.media_type)) {
			dc__desc_release(&md);
			continue;	/* nested indexes, artifacts */
		}
		if (md.size > (int64_t)DC_MAX_JSON) {
			err = dc_error(ctx, DC_ELIMIT, "%s: over the %u-byte limit for metadata",
				       what, DC_MAX_JSON);
			goto next;
		}
		if ((err = dc__reg_get_manifest(p->g, ctx, md.digest, &mraw, &mt,
						dg)) < 0)
			goto next;
		if ((int64_t)mraw.len != md.size) {
			err = dc_error(ctx, DC_EDIGEST,
				       "%s: %zu bytes, the index says %lld", what,
				       mraw.len, (long long)md.size);
			goto next;
		}
		if ((err = dc__json_parse(ctx, &mdoc, &mraw, what)) < 0)
			goto next;
		if (!md.media_type &&
		    !(md.media_type = dc__strdup(ctx, doc_type(mt, mdoc)))) {
			err = DC_ENOMEM;
			goto next;
		}
		if ((err = load_image(r, &md, &mraw, mdoc, &img)) < 0)
			goto next;
		if (img) {
			img->index = x;
			if ((err = dc__set_add(ctx, set, img)) < 0)
				dc__image_free(img);
			else
				added++;
		}
		err = 0;
next:
		json_decref(mdoc);
		free(mt);
		dc__buf_release(&mraw);
		dc__desc_release(&md);
		if (err < 0)
			return err;
	}
	x->complete = added == json_array_size(list);
	return 0;
}

static int reg_load(struct dc_reader *r, struct dc_set **out)
{
	struct rpriv *p = r->priv;
	struct dc_ctx *ctx = r->ctx;
	struct dc_set *set = NULL;
	struct dc_buf raw = DC_BUF_INIT;
	struct dc_desc d;
	json_t *doc = NULL;
	char *mt = NULL, *tag = NULL;
	const char *ref, *type;
	int err;

	*out = NULL;
	memset(&d, 0, sizeof(d));
	if ((err = dc__reg_ref_parse(ctx, &p->ref, r->src->label)) < 0)
		return err;
	snprintf(p->prefix, sizeof(p->prefix), "%s/%s@sha256:", p->ref.name,
		 p->ref.repo);
	if ((err = dc__reg_new(ctx, &p->ref, 0, &p->g)) < 0)
		return err;
	ref = p->ref.digest ? p->ref.digest : p->ref.tag ? p->ref.tag : "latest";
	if ((err = dc__set_new(ctx, &set, "registry")) < 0 ||
	    (err = ref_tag(r, &tag)) < 0 ||
	    (err = dc__reg_get_manifest(p->g, ctx, ref, &raw, &mt, d.digest)) < 0 ||
	    (err = dc__json_parse(ctx, &doc, &raw, ref)) < 0)
		goto out;
	if (!json_is_object(doc)) {
		err = dc_error(ctx, DC_EFORMAT, "'%s': manifest is not a JSON object",
			       ref);
		goto out;
	}
	type = doc_type(mt, doc);
	d.size = (int64_t)raw.len;
	if (!(d.media_type = dc__strdup(ctx, type))) {
		err = DC_ENOMEM;
		goto out;
	}
	if (dc__media_is_index(type)) {
		err = load_index(r, set, &d, &raw, doc, tag);
	} else if (dc__media_is_manifest(type)) {
		struct dc_image *img = NULL;

		if ((err = load_image(r, &d, &raw, doc, &img)) < 0)
			goto out;
		if (!img) {
			err = dc_error(ctx, DC_EUNSUPPORTED,
				       "'%s': an artifact, not an image", ref);
			goto out;
		}
		if ((tag && (err = dc__image_add_tag(ctx, img, tag)) < 0) ||
		    (err = dc__set_add(ctx, set, img)) < 0) {
			dc__image_free(img);
			goto out;
		}
	} else {
		err = dc_error(ctx, DC_EUNSUPPORTED,
			       "'%s': manifest type '%s' is not supported", ref,
			       type);
	}
out:
	json_decref(doc);
	dc__buf_release(&raw);
	dc__desc_release(&d);
	free(mt);
	free(tag);
	if (err < 0) {
		dc_set_free(set);
		return err;
	}
	*out = set;
	return 0;
}

static int reg_open_blob(struct dc_reader *r, const struct dc_desc *d,
			 struct dc_stream **out)
{
	struct rpriv *p = r->priv;

	return dc__reg_open_blob(p->g, r->ctx, d->digest, out);
}

static int reg_open_blob_range(struct dc_reader *r, const struct dc_desc *d,
			       uint64_t off, uint64_t len,
			       struct dc_stream **out)
{
	struct rpriv *p = r->priv;

	return dc__reg_open_blob_range(p->g, r->ctx, d->digest,
				       (uint64_t)d->size, off, len, out);
}

static void reg_close(struct dc_reader *r)
{
	struct rpriv *p = r->priv;

	if (!p)
		return;
	dc__reg_free(p->g);
	dc__reg_ref_release(&p->ref);
}

const struct dc_reader_ops dc__reader_registry = {
	.name = "registry",
	.priv_size = sizeof(struct rpriv),
	.bid = reg_bid,
	.load = reg_load,
	.open_blob = reg_open_blob,
	.open_blob_range = reg_open_blob_range,
	.close = reg_close,
};
