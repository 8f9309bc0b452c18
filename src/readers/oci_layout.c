/*
 * Reader for OCI image layouts, as a directory or a tar: plain layouts
 * (skopeo, umoci, BuildKit), Docker 25+ `docker save` and containerd
 * exports (a layout plus manifest.json). Blobs are addressed only
 * through validated digests, never through paths from the input.
 */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "readers/readers.h"

static int oci_bid(struct dc_src *src)
{
	if (dc__src_exists(src, "oci-layout") &&
	    dc__src_exists(src, "index.json"))
		return 80;
	return 0;
}

int dc__add_ref_tag(struct dc_ctx *ctx, struct dc_image *img, const char *s,
		    const char *what)
{
	struct dc_ref ref;
	char *fam = NULL;
	int err;

	if ((err = dc__ref_parse(ctx, &ref, s)) < 0) {
		/* the archive's reference is bad input, not a usage error */
		if (err == DC_EINVAL)
			ctx->code = DC_EFORMAT;
		return dc_error_prefix(ctx, "'%s'", what);
	}
	if (ref.digest && !ref.tag) {
		/* name@digest is not a tag */
		dc__ref_release(&ref);
		return 0;
	}
	if ((err = dc__ref_familiar(ctx, &ref, &fam)) == 0)
		err = dc__image_add_tag(ctx, img, fam);
	free(fam);
	dc__ref_release(&ref);
	return err;
}

static int blob_path(struct dc_ctx *ctx, const char *digest, char **out,
		     const char *prefix, const char *what)
{
	struct dc_buf b = DC_BUF_INIT;
	int err;

	*out = NULL;
	if (!dc__digest_valid(digest))
		return dc_error(ctx, DC_EFORMAT,
				"%s: digest '%s' is not a valid sha256 digest",
				what, digest ? digest : "(none)");
	if ((err = dc__buf_addf(ctx, &b, "%s%s", prefix,
				dc__digest_hex(digest))) < 0)
		return err;
	*out = dc__buf_detach(&b, NULL);
	return 0;
}

int dc__parse_desc(struct dc_ctx *ctx, json_t *j, struct dc_desc *d,
		   const char *prefix, const char *what)
{
	json_t *mt = json_object_get(j, "mediaType"),
	       *dg = json_object_get(j, "digest"),
	       *sz = json_object_get(j, "size");
	int err;

	memset(d, 0, sizeof(*d));
	d->size = -1;
	if (!json_is_object(j) || !json_is_string(dg) || !json_is_integer(sz) ||
	    json_integer_value(sz) < 0 || (mt && !json_is_string(mt)))
		return dc_error(ctx, DC_EFORMAT,
				"%s: descriptor needs a digest and a size", what);
	if ((err = blob_path(ctx, json_string_value(dg), &d->path, prefix,
			     what)) < 0)
		return err;
	memcpy(d->digest, json_string_value(dg), DC_DIGEST_MAX);
	d->size = json_integer_value(sz);
	if (mt && !(d->media_type = dc__strdup(ctx, json_string_value(mt)))) {
		dc__desc_release(d);
		return DC_ENOMEM;
	}
	return 0;
}

static int parse_desc(struct dc_ctx *ctx, json_t *j, struct dc_desc *d,
		      const char *what)
{
	return dc__parse_desc(ctx, j, d, "blobs/sha256/", what);
}

int dc__read_meta_blob(struct dc_reader *r, const struct dc_desc *d,
		       struct dc_buf *out)
{
	struct dc_ctx *ctx = r->ctx;
	char got[DC_DIGEST_MAX];
	int err;

	if (d->size > (int64_t)DC_MAX_JSON)
		return dc_error(ctx, DC_ELIMIT,
				"'%s': descriptor size %lld is over the %u-byte limit for metadata",
				d->path, (long long)d->size, DC_MAX_JSON);
	if ((err = dc__src_read_all(r->src, d->path, DC_MAX_JSON, out)) < 0)
		return err;
	if ((int64_t)out->len != d->size)
		return dc_error(ctx, DC_EDIGEST,
				"'%s': size is %zu bytes, its descriptor says %lld",
				d->path, out->len, (long long)d->size);
	dc__sha256_digest(out->data, out->len, got);
	if (strcmp(got, d->digest))
		return dc_error(ctx, DC_EDIGEST,
				"'%s': digest mismatch: content is %s",
				d->path, got);
	return 0;
}

struct walk {
	struct dc_reader *r;
	struct dc_set *set;
	char (*stack)[DC_DIGEST_MAX];	/* indexes being walked: cycles */
	size_t skipped;			/* descriptors that are not images */
	char skipped_type[128];		/* the first one's media type */
	struct dc_index *cur;		/* the top-level index being walked */
	size_t added;			/* images added under it */
	int nested;			/* it holds indexes: never raw */
};

static void skip(struct walk *w, const char *mt)
{
	if (!w->skipped++)
		snprintf(w->skipped_type, sizeof(w->skipped_type), "%s",
			 mt ? mt : "(none)");
}

int dc__is_image_config(const char *mt)
{
	return !mt || !strcmp(mt, "application/vnd.oci.image.config.v1+json") ||
	       !strcmp(mt, "application/vnd.docker.container.image.v1+json");
}

static struct dc_image *find_image(struct dc_set *set, const char *digest)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->img[i]->manifest.digest, digest))
			return set->img[i];
	return NULL;
}

/* Names from index.json annotations, onto an image or an index. */
static int add_names(struct dc_ctx *ctx, struct dc_image *img,
		     struct dc_index *x, json_t *ann)
{
	json_t *cn = json_object_get(ann, "io.containerd.image.name"),
	       *rn = json_object_get(ann, "org.opencontainers.image.ref.name");
	const char *ref = json_string_value(rn);
	char **rname = x ? &x->ref_name : &img->ref_name;
	char ***srefs = x ? &x->src_refs : &img->src_refs;
	size_t *nsrefs = x ? &x->nsrc_refs : &img->nsrc_refs;
	int whole = ref && (strchr(ref, ':') || strchr(ref, '/')), err;
	struct dc_image tmp;

	if (x) {
		/* dc__add_ref_tag adds to an image: borrow one */
		memset(&tmp, 0, sizeof(tmp));
		tmp.index = x;
		img = &tmp;
	}
	if (json_is_string(cn)) {
		err = dc__add_ref_tag(ctx, img, json_string_value(cn),
				      "index.json: io.containerd.image.name");
		if (!err && whole)
			err = dc__tags_add(ctx, srefs, nsrefs, ref);
		return err;
	}
	if (!ref)
		return 0;
	/* Docker puts only the tag in ref.name; others a whole name:tag */
	if (whole) {
		int code = ctx->code;
		char msg[sizeof(ctx->msg)];

		memcpy(msg, ctx->msg, sizeof(msg));
		if ((err = dc__add_ref_tag(ctx, img, ref, "ref.name")) == 0)
			return dc__tags_add(ctx, srefs, nsrefs, ref);
		if (err == DC_ENOMEM)
			return err;
		ctx->code = code;	/* not a reference: keep it as a name */
		memcpy(ctx->msg, msg, sizeof(msg));
	}
	if (!*rname && !(*rname = dc__strdup(ctx, ref)))
		return DC_ENOMEM;
	return 0;
}

/*
 * *N = how many rootfs.diff_ids IMG's config lists, -1 if it has no
 * rootfs at all (an artifact's config, or the empty descriptor "{}").
 */
static int config_diff_ids(struct dc_ctx *ctx, const struct dc_image *img,
			   long *n)
{
	json_t *root = NULL, *rootfs;
	int err;

	*n = -1;
	if ((err = dc__json_parse(ctx, &root, &img->config_raw,
				  img->config.path)) < 0)
		return err;
	rootfs = json_object_get(root, "rootfs");
	if (json_is_object(rootfs))
		*n = (long)json_array_size(json_object_get(rootfs, "diff_ids"));
	json_decref(root);
	return 0;
}

/* IMG's layers as manifest.json lists them for the same config. */
static int layers_from_manifest_json(struct dc_reader *r, struct dc_image *img)
{
	struct dc_set *docker = NULL;
	size_t i, j;
	int err;

	if ((err = dc__set_new(r->ctx, &docker, "docker-archive")) < 0)
		return err;
	if ((err = dc__docker_load_into(r, docker)) < 0)
		goto out;
	for (i = 0; i < docker->n; i++) {
		struct dc_image *m = docker->img[i];

		if (strcmp(m->config.digest, img->config.digest) || !m->nlayers)
			continue;
		if (!(img->layers = dc__calloc(r->ctx, m->nlayers,
					       sizeof(*img->layers)))) {
			err = DC_ENOMEM;
			goto out;
		}
		for (j = 0; j < m->nlayers && !err; j++)
			err = dc__desc_copy(r->ctx, &img->layers[j], &m->layers[j]);
		img->nlayers = j;
		img->manifest_synth = 1;
		break;
	}
out:
	dc_set_free(docker);
	return err;
}

static int load_manifest(struct walk *w, const struct dc_desc *d,
			 struct dc_buf *raw, json_t *m, json_t *ann)
{
	struct dc_ctx *ctx = w->r->ctx;
	struct dc_image *img;
	json_t *cfg = json_object_get(m, "config"),
	       *layers = json_object_get(m, "layers");
	size_t i;
	long ndiff;
	int err;

	if ((img = find_image(w->set, d->digest)))
		return w->cur ? 0 : add_names(ctx, img, NULL, ann);
	if (!json_is_object(cfg) || !json_is_array(layers))
		return dc_error(ctx, DC_EFORMAT,
				"'%s': manifest needs config and layers", d->path);
	if (json_is_string(json_object_get(m, "artifactType")) ||
	    !dc__is_image_config(json_string_value(json_object_get(cfg, "mediaType")))) {
		skip(w, json_string_value(json_object_get(m, "artifactType")) ?
		     json_string_value(json_object_get(m, "artifactType")) :
		     json_string_value(json_object_get(cfg, "mediaType")));
		return 0;
	}
	if ((err = dc__image_new(ctx, &img)) < 0)
		return err;
	if ((err = dc__desc_copy(ctx, &img->manifest, d)) < 0)
		goto fail;
	img->manifest_raw = *raw;
	memset(raw, 0, sizeof(*raw));
	if ((err = parse_desc(ctx, cfg, &img->config, d->path)) < 0 ||
	    (err = dc__read_meta_blob(w->r, &img->config, &img->config_raw)) < 0)
		goto fail;
	if ((err = config_diff_ids(ctx, img, &ndiff)) < 0)
		goto fail;
	if (!json_array_size(layers) && ndiff > 0 &&
	    dc__src_exists(w->r->src, "manifest.json")) {
		/* Docker 25.0.0 wrote OCI manifests without their layers
		 * (moby/moby#47065): manifest.json still lists them */
		if ((err = layers_from_manifest_json(w->r, img)) < 0)
			goto fail;
		if (img->nlayers)
			goto layers_done;
	}
	img->nlayers = json_array_size(layers);
	if (img->nlayers &&
	    !(img->layers = dc__calloc(ctx, img->nlayers, sizeof(*img->layers)))) {
		err = DC_ENOMEM;
		goto fail;
	}
	for (i = 0; i < img->nlayers; i++) {
		struct dc_desc *l = &img->layers[i];
		uint64_t size;

		if ((err = parse_desc(ctx, json_array_get(layers, i), l,
				      d->path)) < 0)
			goto fail;
		if ((err = dc__sniff_member(w->r->src, l->path, &size,
					    &l->comp)) < 0) {
			if (!w->r->absent_ok || err == DC_ENOMEM ||
			    err == DC_EINTR)
				goto fail;
			/* verify names it; a delta's base fills it */
			l->comp = dc__media_comp(l->media_type);
			if ((err = dc__reader_absent(w->r, l, ctx->msg)) < 0)
				goto fail;
			continue;
		}
		if (size != (uint64_t)l->size) {
			err = dc_error(ctx, DC_EDIGEST,
				       "'%s': size is %llu bytes, the manifest says %lld",
				       l->path, (unsigned long long)size,
				       (long long)l->size);
			if (!w->r->absent_ok ||
			    (err = dc__reader_absent(w->r, l, ctx->msg)) < 0)
				goto fail;
		}
	}
layers_done:
	if (ndiff < 0) {
		/* an empty or foreign config: not a runnable image */
		skip(w, "config without rootfs");
		dc__image_free(img);
		return 0;
	}
	if ((err = dc__image_parse_config(ctx, img, img->config.path)) < 0)
		goto fail;
	img->index = w->cur;
	if (!w->cur && (err = add_names(ctx, img, NULL, ann)) < 0)
		goto fail;
	if ((err = dc__set_add(ctx, w->set, img)) < 0)
		goto fail;
	w->added++;
	return 0;
fail:
	dc__image_free(img);
	return err;
}

static int walk_index(struct walk *w, json_t *index, const char *what,
		      int depth, json_t *parent_ann);

static int walk_desc(struct walk *w, json_t *jd, const char *what, int depth,
		     json_t *parent_ann)
{
	struct dc_ctx *ctx = w->r->ctx;
	struct dc_desc d;
	struct dc_buf raw = DC_BUF_INIT;
	json_t *doc = NULL, *ann = json_object_get(jd, "annotations");
	const char *mt;
	int err, i;

	if ((err = parse_desc(ctx, jd, &d, what)) < 0)
		return err;
	if (d.media_type && !dc__media_is_manifest(d.media_type) &&
	    !dc__media_is_index(d.media_type)) {
		skip(w, d.media_type);	/* artifacts, attestations */
		goto out;
	}
	if (depth > 0 && !dc__src_exists(w->r->src, d.path)) {
		/* other platforms are often not exported: read past, but
		 * verify must not call it whole */
		struct dc_buf m = DC_BUF_INIT;

		if (!w->set->nmissing++ &&
		    (err = dc__buf_addf(ctx, &m, "'%s' (listed in %s)", d.path,
					what)) == 0)
			w->set->missing = dc__buf_detach(&m, NULL);
		dc__buf_release(&m);
		goto out;
	}
	if ((err = dc__read_meta_blob(w->r, &d, &raw)) < 0 ||
	    (err = dc__json_parse(ctx, &doc, &raw, d.path)) < 0)
		goto out;
	if (!json_is_object(doc)) {
		err = dc_error(ctx, DC_EFORMAT, "'%s': not a JSON object", d.path);
		goto out;
	}
	/* containerd 1.x omits mediaType in index.json: ask the blob */
	mt = d.media_type ? d.media_type :
	     json_string_value(json_object_get(doc, "mediaType"));
	if (!mt)
		mt = json_object_get(doc, "manifests") ?
		     "application/vnd.oci.image.index.v1+json" :
		     "application/vnd.oci.image.manifest.v1+json";
	if (!d.media_type && !(d.media_type = dc__strdup(ctx, mt))) {
		err = DC_ENOMEM;
		goto out;
	}
	if (!ann || !json_object_size(ann))
		ann = parent_ann;
	if (dc__media_is_manifest(mt)) {
		err = load_manifest(w, &d, &raw, doc, ann);
	} else if (dc__media_is_index(mt)) {
		if (depth + 1 >= DC_MAX_INDEX_DEPTH) {
			err = dc_error(ctx, DC_ELIMIT,
				       "'%s': image indexes nested deeper than %d",
				       d.path, DC_MAX_INDEX_DEPTH);
			goto out;
		}
		for (i = 0; i < depth; i++)
			if (!strcmp(w->stack[i], d.digest)) {
				err = dc_error(ctx, DC_ECORRUPT,
					       "'%s': image index cycle", d.path);
				goto out;
			}
		memcpy(w->stack[depth], d.digest, DC_DIGEST_MAX);
		if (depth == 0) {
			/* a multi-platform image: the index owns the names */
			struct dc_index *x;

			if ((err = dc__index_new(ctx, w->set, &x)) < 0 ||
			    (err = dc__desc_copy(ctx, &x->desc, &d)) < 0 ||
			    (err = add_names(ctx, NULL, x, ann)) < 0)
				goto out;
			x->raw = raw;
			memset(&raw, 0, sizeof(raw));
			w->cur = x;
			w->added = 0;
			w->nested = 0;
			err = walk_index(w, doc, d.path, depth + 1, NULL);
			x->complete = !err && !w->nested && w->added ==
				      json_array_size(json_object_get(doc, "manifests"));
			w->cur = NULL;
		} else {
			w->nested = 1;
			err = walk_index(w, doc, d.path, depth + 1, NULL);
		}
	}
out:
	json_decref(doc);
	dc__buf_release(&raw);
	dc__desc_release(&d);
	return err;
}

static int walk_index(struct walk *w, json_t *index, const char *what,
		      int depth, json_t *parent_ann)
{
	json_t *list = json_object_get(index, "manifests");
	char label[512];
	size_t i;
	int err;

	if (!json_is_array(list))
		return dc_error(w->r->ctx, DC_EFORMAT,
				"'%s': \"manifests\" is not an array", what);
	for (i = 0; i < json_array_size(list); i++) {
		snprintf(label, sizeof(label), "'%s': manifests[%zu]", what, i);
		if ((err = walk_desc(w, json_array_get(list, i), label, depth,
				     parent_ann)) < 0)
			return err;
	}
	return 0;
}

/* Images still untagged get their RepoTags from manifest.json's MJ. */
static int tags_from_manifest_json(struct dc_reader *r, struct dc_set *set,
				   const struct dc_set *mj)
{
	size_t i, j, k;
	int err;

	for (i = 0; i < set->n; i++) {
		struct dc_image *img = set->img[i];

		if (img->ntags || img->index)
			continue;
		for (j = 0; j < mj->n; j++) {
			if (strcmp(mj->img[j]->config.digest, img->config.digest))
				continue;
			for (k = 0; k < mj->img[j]->ntags; k++)
				if ((err = dc__image_add_tag(r->ctx, img,
						mj->img[j]->tags[k])) < 0)
					return err;
		}
	}
	return 0;
}

/* Are IMG's layers (index.json) the ones manifest.json's M lists? *AT is
 * the first that differs (M's count when the counts differ). */
static int layers_agree(const struct dc_image *img, const struct dc_image *m,
			size_t *at)
{
	size_t i;

	*at = m->nlayers;
	if (img->nlayers != m->nlayers)
		return 0;
	for (i = 0; i < m->nlayers; i++) {
		const struct dc_desc *a = &img->layers[i], *b = &m->layers[i];

		if (strcmp(a->path, b->path) &&
		    (!b->digest[0] || strcmp(a->digest, b->digest))) {
			*at = i;
			return 0;
		}
	}
	return 1;
}

static int has_name(char *const *t, size_t nt, const char *name)
{
	size_t i;

	for (i = 0; i < nt; i++)
		if (!strcmp(t[i], name))
			return 1;
	return 0;
}

/*
 * Do the names T (index.json's for an image with config CONFIG) and the
 * RepoTags of manifest.json's items for that config agree? Either side
 * may have none (then the other names the image). *J is an item that
 * disagrees.
 */
static int names_agree(const struct dc_set *mj, const char *config,
		       char *const *t, size_t nt, size_t *j)
{
	size_t k, i, any = 0;

	for (k = 0; k < mj->n; k++) {
		const struct dc_image *m = mj->img[k];

		if (strcmp(m->config.digest, config) || !m->ntags)
			continue;
		any = 1;
		*j = k;
		for (i = 0; i < m->ntags; i++)
			if (nt && !has_name(t, nt, m->tags[i]))
				return 0;
	}
	for (i = 0; any && i < nt; i++) {
		for (k = 0; k < mj->n; k++)
			if (!strcmp(mj->img[k]->config.digest, config) &&
			    has_name(mj->img[k]->tags, mj->img[k]->ntags, t[i]))
				break;
		if (k == mj->n)
			return 0;
	}
	return 1;
}

static void names_str(char *buf, size_t n, char *const *t, size_t nt)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < nt && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s",
					i ? ", " : "", t[i]);
}

#define DISAGREE "'index.json' and 'manifest.json' disagree (decant reads index.json; docker load and skopeo read manifest.json): "

/*
 * A Docker 25+ archive is read through index.json, while Docker's own
 * loader and containers/image read manifest.json: both must describe
 * the same images (configs, layers, names), or the archive means one
 * thing to decant and another to them.
 */
static int check_hybrid(struct dc_ctx *ctx, const struct dc_set *set,
			const struct dc_set *mj)
{
	char a[256], b[256], *const *t;
	size_t i, j, k, at, nt;

	for (j = 0; j < mj->n; j++) {
		const struct dc_image *m = mj->img[j], *same = NULL, *found = NULL;

		for (i = 0; i < set->n && !found; i++) {
			if (strcmp(set->img[i]->config.digest, m->config.digest))
				continue;
			if (!same)
				same = set->img[i];
			if (layers_agree(set->img[i], m, &at))
				found = set->img[i];
		}
		if (!same)
			return dc_error(ctx, DC_ECORRUPT, DISAGREE
					"manifest.json[%zu] is image %s, which index.json does not hold",
					j, m->config.digest);
		if (!found) {
			layers_agree(same, m, &at);
			if (at == m->nlayers)
				return dc_error(ctx, DC_ECORRUPT, DISAGREE
						"image %s has %zu layers in index.json, %zu in manifest.json[%zu]",
						m->config.digest, same->nlayers,
						m->nlayers, j);
			return dc_error(ctx, DC_ECORRUPT, DISAGREE
					"image %s: layer %zu is '%s' in index.json, '%s' in manifest.json[%zu]",
					m->config.digest, at, same->layers[at].path,
					m->layers[at].path, j);
		}
		if (found->index) {
			t = found->index->tags;
			nt = found->index->ntags;
		} else {
			t = found->tags;
			nt = found->ntags;
		}
		k = j;
		if (names_agree(mj, m->config.digest, t, nt, &k))
			continue;
		names_str(a, sizeof(a), t, nt);
		names_str(b, sizeof(b), mj->img[k]->tags, mj->img[k]->ntags);
		return dc_error(ctx, DC_ECORRUPT, DISAGREE
				"image %s is '%s' in index.json, '%s' in manifest.json[%zu]",
				m->config.digest, a, b, k);
	}
	/* a named image that Docker would not load at all */
	for (i = 0; i < set->n; i++) {
		const struct dc_image *img = set->img[i];

		if (img->index || !img->ntags)
			continue;
		for (j = 0; j < mj->n; j++)
			if (!strcmp(mj->img[j]->config.digest, img->config.digest))
				break;
		if (j == mj->n) {
			names_str(a, sizeof(a), img->tags, img->ntags);
			return dc_error(ctx, DC_ECORRUPT, DISAGREE
					"index.json holds image %s ('%s'), which manifest.json does not list",
					img->config.digest, a);
		}
	}
	return 0;
}

/* index.json's images SET checked against manifest.json's, whose tags
 * name the images index.json leaves untagged. */
static int hybrid(struct dc_reader *r, struct dc_set *set)
{
	struct dc_set *mj = NULL;
	int err;

	if ((err = dc__set_new(r->ctx, &mj, "docker-archive")) < 0)
		return err;
	if ((err = dc__docker_load_into(r, mj)) == 0 &&
	    (err = check_hybrid(r->ctx, set, mj)) == 0)
		err = tags_from_manifest_json(r, set, mj);
	dc_set_free(mj);
	return err;
}

static int oci_load(struct dc_reader *r, struct dc_set **out)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_buf b = DC_BUF_INIT;
	json_t *layout = NULL, *index = NULL, *v;
	char stack[DC_MAX_INDEX_DEPTH][DC_DIGEST_MAX];
	struct walk w;
	int err, has_mj = dc__src_exists(r->src, "manifest.json");
	const char *fmt = r->src->is_dir ? "oci" :
			  has_mj ? "docker-archive" : "oci-archive";

	*out = NULL;
	if ((err = dc__set_new(ctx, out, fmt)) < 0)
		return err;
	if ((err = dc__src_read_all(r->src, "oci-layout", 65536, &b)) < 0 ||
	    (err = dc__json_parse(ctx, &layout, &b, "oci-layout")) < 0)
		goto out;
	v = json_object_get(layout, "imageLayoutVersion");
	if (!json_is_string(v) || strcmp(json_string_value(v), "1.0.0")) {
		err = dc_error(ctx, DC_EUNSUPPORTED,
			       "'oci-layout': imageLayoutVersion is not \"1.0.0\"");
		goto out;
	}
	if ((err = dc__src_read_all(r->src, "index.json", DC_MAX_JSON, &b)) < 0 ||
	    (err = dc__json_parse(ctx, &index, &b, "index.json")) < 0)
		goto out;
	if (!json_is_object(index)) {
		err = dc_error(ctx, DC_EFORMAT, "'index.json': not a JSON object");
		goto out;
	}
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.set = *out;
	w.stack = stack;
	v = json_object_get(index, "manifests");
	if (json_is_null(v) && has_mj) {
		/* Docker 25.0.0-25.0.2 untagged saves, moby/moby#47210 */
		err = dc__docker_load_into(r, *out);
		goto out;
	}
	if (!v) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'index.json': no \"manifests\" list");
		goto out;
	}
	if (json_is_null(v))
		goto out;
	if ((err = walk_index(&w, index, "index.json", 0, NULL)) < 0)
		goto out;
	dc__set_prune_indexes(*out);
	if (!(*out)->n && w.skipped) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'index.json': no images (skipped %zu descriptor%s of unknown media type '%s')",
			       w.skipped, w.skipped == 1 ? "" : "s",
			       w.skipped_type);
		goto out;
	}
	if (has_mj)
		err = hybrid(r, *out);
out:
	json_decref(layout);
	json_decref(index);
	dc__buf_release(&b);
	if (err < 0) {
		dc_set_free(*out);
		*out = NULL;
	}
	return err;
}

const struct dc_reader_ops dc__reader_oci = {
	.name = "oci",
	.bid = oci_bid,
	.load = oci_load,
};
