/*
 * Reader for archives described by manifest.json alone: Docker 1.10-24
 * `docker save` (<v1id>/layer.tar, <config>.json), go-containerregistry
 * and kaniko tarballs (config "sha256:<hex>", "<hex>.tar.gz" layers),
 * and manifest.json-only exports. moby: image/tarexport/load.go.
 */

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "readers/readers.h"

static int docker_bid(struct dc_src *src)
{
	if (!dc__src_exists(src, "manifest.json"))
		return 0;
	/* an OCI layout with a manifest.json is the OCI reader's (80) */
	return 50;
}

/* "sha256:<hex>" if the file name carries the blob's own digest. */
static void digest_from_name(const char *path, char out[DC_DIGEST_MAX])
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 7 && !strcmp(base + n - 7, ".tar.gz"))
		n -= 7;
	out[0] = '\0';
	if (dc__is_hex64(base, n)) {
		memcpy(out, "sha256:", 7);
		memcpy(out + 7, base, 64);
		out[71] = '\0';
	}
}

/* The blob's size and its compression, from its first bytes. */
int dc__sniff_member(struct dc_src *src, const char *path, uint64_t *size,
		     enum dc_comp *comp)
{
	unsigned char magic[DC_SNIFF_LEN];
	struct dc_stream *s = NULL;
	size_t got = 0;
	int err;

	if ((err = dc__src_open(src, path, &s, size)) < 0)
		return err;
	while (got < sizeof(magic) && got < *size) {
		ssize_t r = dc__stream_read(s, magic + got, sizeof(magic) - got);

		if (r <= 0) {
			err = r < 0 ? dc_error_prefix(src->ctx, "'%s'", path) : 0;
			break;
		}
		got += (size_t)r;
	}
	dc__stream_close(s);
	*comp = dc__comp_sniff(magic, got);
	return err;
}

/*
 * Go's encoding/json matches an object key to a struct field exactly or
 * else case-insensitively (strings.EqualFold: ASCII letters, plus the
 * Kelvin sign for k and the long s for s), and the last matching key
 * wins. 1 if KEY is FIELD (ASCII) under that rule.
 */
static int go_key_matches(const char *key, const char *field)
{
	const unsigned char *k = (const unsigned char *)key;
	const char *f;

	for (f = field; *f; f++) {
		int c = *f | 0x20;	/* fields are ASCII letters */

		if ((*k | 0x20) == c && *k < 0x80) {
			k++;
		} else if (c == 'k' && k[0] == 0xe2 && k[1] == 0x84 &&
			   k[2] == 0xaa) {
			k += 3;		/* U+212A KELVIN SIGN */
		} else if (c == 's' && k[0] == 0xc5 && k[1] == 0xbf) {
			k += 2;		/* U+017F LATIN SMALL LETTER LONG S */
		} else {
			return 0;
		}
	}
	return *k == '\0';
}

/*
 * ITEM's value for FIELD as moby and containers/image (Go) read it, or
 * NULL. Two keys that both match FIELD (say "Config" and "config") give
 * an archive two meanings, one to Go and one to a reader that matches
 * exactly: refused.
 */
static int go_field(struct dc_ctx *ctx, json_t *item, const char *field,
		    size_t idx, json_t **out)
{
	const char *key, *first = NULL;
	json_t *v;

	*out = NULL;
	json_object_foreach(item, key, v) {
		if (!go_key_matches(key, field))
			continue;
		if (first)
			return dc_error(ctx, DC_EFORMAT,
					"'manifest.json': item %zu: keys \"%s\" and \"%s\" are one field to Go tools (docker load, skopeo), two to others: the archive means two things",
					idx, first, key);
		first = key;
		*out = v;
	}
	return 0;
}

static int load_item(struct dc_reader *r, json_t *item, size_t idx,
		     struct dc_image **out, int *legacy_dirs)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_image *img = NULL;
	json_t *cfg = NULL, *tags = NULL, *layers = NULL;
	struct dc_buf absent = DC_BUF_INIT;	/* why layers are absent */
	size_t absent_at = 0;
	char label[64];
	size_t i;
	int err;

	*out = NULL;
	snprintf(label, sizeof(label), "manifest.json[%zu]", idx);
	if (json_is_object(item) &&
	    ((err = go_field(ctx, item, "Config", idx, &cfg)) < 0 ||
	     (err = go_field(ctx, item, "RepoTags", idx, &tags)) < 0 ||
	     (err = go_field(ctx, item, "Layers", idx, &layers)) < 0))
		return err;
	if (!json_is_object(item) || !json_is_string(cfg) ||
	    !(json_is_array(layers) || json_is_null(layers)) ||
	    !(json_is_array(tags) || json_is_null(tags) || !tags))
		return dc_error(ctx, DC_EFORMAT,
				"'manifest.json': item %zu: wrong shape (needs Config, Layers)",
				idx);
	if ((err = dc__image_new(ctx, &img)) < 0)
		return err;
	if ((err = dc__path_clean(ctx, &img->config.path,
				  json_string_value(cfg), label)) < 0)
		goto fail;
	if ((err = dc__src_read_all(r->src, img->config.path, DC_MAX_JSON,
				    &img->config_raw)) < 0)
		goto fail;
	dc__sha256_digest(img->config_raw.data, img->config_raw.len,
			  img->config.digest);
	img->config.size = (int64_t)img->config_raw.len;
	if (!(img->config.media_type = dc__strdup(ctx,
			"application/vnd.docker.container.image.v1+json"))) {
		err = DC_ENOMEM;
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
		const char *p = json_string_value(json_array_get(layers, i));
		uint64_t size;

		l->size = -1;
		if (!p) {
			err = dc_error(ctx, DC_EFORMAT,
				       "'manifest.json': item %zu: Layers[%zu] is not a string",
				       idx, i);
			goto fail;
		}
		if ((err = dc__path_clean(ctx, &l->path, p, label)) < 0)
			goto fail;
		if ((err = dc__sniff_member(r->src, l->path, &size, &l->comp)) < 0) {
			if (!r->absent_ok || err == DC_ENOMEM || err == DC_EINTR)
				goto fail;
			/* absent (a delta's): noted below, once its digest is
			 * known; taken for uncompressed, as docker save has it */
			if ((err = dc__buf_addstr(ctx, &absent, ctx->msg)) < 0 ||
			    (err = dc__buf_add(ctx, &absent, "", 1)) < 0)
				goto fail;
			ctx->code = 0;
			l->comp = DC_COMP_NONE;
			size = 0;
			l->size = -2;
		}
		if (l->size != -2)
			l->size = (int64_t)size;
		if (!(l->media_type = dc__strdup(ctx,
				dc__layer_media_type(l->comp, 0)))) {
			err = DC_ENOMEM;
			goto fail;
		}
		if (strlen(l->path) > 10 &&
		    !strcmp(l->path + strlen(l->path) - 10, "/layer.tar"))
			*legacy_dirs = 1;
	}
	if ((err = dc__image_parse_config(ctx, img, img->config.path)) < 0)
		goto fail;
	for (i = 0; i < img->nlayers; i++) {
		struct dc_desc *l = &img->layers[i];

		/* uncompressed: the blob is its own diff_id (checked as it
		 * streams); otherwise a name may carry the digest, else
		 * dc__set_resolve() hashes the blob */
		if (l->comp == DC_COMP_NONE) {
			memcpy(l->digest, l->diff_id, DC_DIGEST_MAX);
			l->digest_is_diff = 1;
		}
		else
			digest_from_name(l->path, l->digest);
		if (l->size == -2) {
			l->size = -1;
			if ((err = dc__reader_absent(r, l, absent.data +
						     absent_at)) < 0)
				goto fail;
			absent_at += strlen(absent.data + absent_at) + 1;
		}
	}
	for (i = 0; i < json_array_size(tags); i++) {
		const char *t = json_string_value(json_array_get(tags, i));

		if (!t) {
			err = dc_error(ctx, DC_EFORMAT,
				       "'manifest.json': item %zu: RepoTags[%zu] is not a string",
				       idx, i);
			goto fail;
		}
		if ((err = dc__add_ref_tag(ctx, img, t, "manifest.json")) < 0)
			goto fail;
	}
	img->manifest_synth = 1;
	*out = img;
	dc__buf_release(&absent);
	return 0;
fail:
	dc__buf_release(&absent);
	dc__image_free(img);
	return err;
}

int dc__docker_load_into(struct dc_reader *r, struct dc_set *set)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_buf b = DC_BUF_INIT;
	json_t *root = NULL;
	size_t i;
	int err, legacy = 0;

	if ((err = dc__src_read_all(r->src, "manifest.json", DC_MAX_JSON, &b)) < 0)
		goto out;
	if ((err = dc__json_parse(ctx, &root, &b, "manifest.json")) < 0)
		goto out;
	if (json_is_object(root) && json_object_get(root, "schemaVersion")) {
		/* a containers/image dir: layout without its "version" */
		err = dc__unrecognized(r->src,
			"'manifest.json' is one image manifest, not a list of images as docker save writes, and no 'version' file marks a containers/image dir: layout");
		goto out;
	}
	if (!json_is_array(root)) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'manifest.json': %s, expected an array of images",
			       json_is_null(root) ? "is null" : "wrong shape");
		goto out;
	}
	for (i = 0; i < json_array_size(root); i++) {
		struct dc_image *img;

		if ((err = load_item(r, json_array_get(root, i), i, &img,
				     &legacy)) < 0)
			goto out;
		if ((err = dc__set_add(ctx, set, img)) < 0) {
			dc__image_free(img);
			goto out;
		}
	}
	if (legacy) {
		free(set->format);
		if (!(set->format = dc__strdup(ctx, "docker-legacy")))
			err = DC_ENOMEM;
	}
out:
	json_decref(root);
	dc__buf_release(&b);
	return err;
}

static int docker_load(struct dc_reader *r, struct dc_set **out)
{
	int err;

	*out = NULL;
	if ((err = dc__set_new(r->ctx, out, "docker-archive")) < 0)
		return err;
	if ((err = dc__docker_load_into(r, *out)) < 0) {
		dc_set_free(*out);
		*out = NULL;
	}
	return err;
}

const struct dc_reader_ops dc__reader_docker = {
	.name = "docker-archive",
	.bid = docker_bid,
	.load = docker_load,
};
