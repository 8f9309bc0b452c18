/*
 * Reader for containers/image `dir:` layouts (`skopeo copy ... dir:D`,
 * `podman save --format docker-dir`): a directory holding "version"
 * ("Directory Transport Version: 1.1\n"), "manifest.json" (one image
 * manifest, OCI or Docker schema 2, byte for byte as the source had it)
 * and every blob in a file named by its bare hex digest. When
 * manifest.json is a manifest list or an OCI index (`skopeo copy --all`),
 * each instance's manifest is "<hex>.manifest.json". The layout holds no
 * image names. containers/image: directory/directory_transport.go
 * (manifestPath, layerPath), directory/directory_dest.go (version).
 *
 * Also here: what a source that no reader takes looks like, for the
 * "unrecognized format" error.
 */

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "readers/readers.h"

#define DIR_BID 70	/* above docker-archive (50), below oci (80) */

static const char VERSION_PREFIX[] = "Directory Transport Version: 1.";

static int dir_bid(struct dc_src *src)
{
	struct dc_ctx *ctx = src->ctx;
	char buf[sizeof(VERSION_PREFIX) - 1], msg[sizeof(ctx->msg)];
	int code = ctx->code, ok;
	size_t got = 0;

	if (!dc__src_exists(src, "version") ||
	    !dc__src_exists(src, "manifest.json"))
		return 0;
	memcpy(msg, ctx->msg, sizeof(msg));
	ok = dc__src_peek(src, "version", buf, sizeof(buf), &got) == 0 &&
	     got == sizeof(buf) && !memcmp(buf, VERSION_PREFIX, sizeof(buf));
	/* a probe leaves no error behind; running out of memory stays */
	if (ctx->code != DC_ENOMEM) {
		ctx->code = code;
		memcpy(ctx->msg, msg, sizeof(msg));
	}
	return ok ? DIR_BID : 0;
}

/* 1 if config C has a rootfs (an image's config, not an artifact's). */
static int has_rootfs(struct dc_ctx *ctx, const struct dc_image *img,
		      int *yes)
{
	json_t *root = NULL;
	int err;

	*yes = 0;
	if ((err = dc__json_parse(ctx, &root, &img->config_raw,
				  img->config.path)) < 0)
		return err;
	*yes = json_is_object(json_object_get(root, "rootfs"));
	json_decref(root);
	return 0;
}

/*
 * The image manifest DOC (RAW, read from PATH) into SET, under index X.
 * 1: not an image (an attestation, a signature) under an index, skipped.
 */
static int load_image(struct dc_reader *r, struct dc_set *set,
		      struct dc_index *x, const char *path, struct dc_buf *raw,
		      json_t *doc)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_image *img = NULL;
	json_t *cfg = json_object_get(doc, "config"),
	       *layers = json_object_get(doc, "layers"),
	       *mt = json_object_get(doc, "mediaType");
	const char *type;
	size_t i;
	int err;

	if (json_integer_value(json_object_get(doc, "schemaVersion")) == 1)
		return dc_error(ctx, DC_EUNSUPPORTED,
				"'%s': a Docker schema 1 manifest (copy it with skopeo --format v2s2 first)",
				path);
	if (!json_is_object(cfg) || !json_is_array(layers) ||
	    (mt && !json_is_string(mt)))
		return dc_error(ctx, DC_EFORMAT,
				"'%s': manifest needs config and layers", path);
	type = json_string_value(json_object_get(cfg, "mediaType"));
	if (x && (json_object_get(doc, "artifactType") ||
		  !dc__is_image_config(type)))
		return 1;
	if (!dc__is_image_config(type))
		return dc_error(ctx, DC_EFORMAT,
				"'%s': not an image (config media type '%s')",
				path, type);
	if ((err = dc__image_new(ctx, &img)) < 0)
		return err;
	if (mt)
		type = json_string_value(mt);
	else if (type && strstr(type, "docker"))
		type = "application/vnd.docker.distribution.manifest.v2+json";
	else
		type = "application/vnd.oci.image.manifest.v1+json";
	if (!(img->manifest.media_type = dc__strdup(ctx, type)) ||
	    !(img->manifest.path = dc__strdup(ctx, path))) {
		err = DC_ENOMEM;
		goto fail;
	}
	dc__sha256_digest(raw->data, raw->len, img->manifest.digest);
	img->manifest.size = (int64_t)raw->len;
	img->manifest_raw = *raw;
	memset(raw, 0, sizeof(*raw));
	if ((err = dc__parse_desc(ctx, cfg, &img->config, "", path)) < 0 ||
	    (err = dc__read_meta_blob(r, &img->config, &img->config_raw)) < 0)
		goto fail;
	if (x) {
		int yes;

		if ((err = has_rootfs(ctx, img, &yes)) < 0)
			goto fail;
		if (!yes) {
			dc__image_free(img);
			return 1;
		}
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

		if ((err = dc__parse_desc(ctx, json_array_get(layers, i), l, "",
					  path)) < 0 ||
		    (err = dc__sniff_member(r->src, l->path, &size, &l->comp)) < 0)
			goto fail;
		if (size != (uint64_t)l->size) {
			err = dc_error(ctx, DC_EDIGEST,
				       "'%s': size is %llu bytes, the manifest says %lld",
				       l->path, (unsigned long long)size,
				       (long long)l->size);
			goto fail;
		}
	}
	if ((err = dc__image_parse_config(ctx, img, img->config.path)) < 0)
		goto fail;
	img->index = x;
	if ((err = dc__set_add(ctx, set, img)) < 0)
		goto fail;
	return 0;
fail:
	dc__image_free(img);
	return err;
}

/* A manifest list or OCI index: the instances the directory holds. */
static int load_index(struct dc_reader *r, struct dc_set *set,
		      struct dc_buf *raw, json_t *doc, const char *mt)
{
	struct dc_ctx *ctx = r->ctx;
	json_t *list = json_object_get(doc, "manifests");
	struct dc_index *x;
	size_t i, added = 0;
	int err;

	if (!json_is_array(list))
		return dc_error(ctx, DC_EFORMAT,
				"'manifest.json': \"manifests\" is not an array");
	if ((err = dc__index_new(ctx, set, &x)) < 0)
		return err;
	if (!(x->desc.media_type = dc__strdup(ctx, mt)) ||
	    !(x->desc.path = dc__strdup(ctx, "manifest.json")))
		return DC_ENOMEM;
	dc__sha256_digest(raw->data, raw->len, x->desc.digest);
	x->desc.size = (int64_t)raw->len;
	for (i = 0; i < json_array_size(list); i++) {
		struct dc_buf b = DC_BUF_INIT;
		json_t *m = NULL;
		struct dc_desc d;
		char what[64], *path = NULL;

		snprintf(what, sizeof(what), "'manifest.json': manifests[%zu]", i);
		if ((err = dc__parse_desc(ctx, json_array_get(list, i), &d, "",
					  what)) < 0)
			return err;
		if ((d.media_type && !dc__media_is_manifest(d.media_type)) ||
		    (err = dc__buf_addf(ctx, &b, "%s.manifest.json",
					d.path)) < 0) {
			dc__desc_release(&d);
			if (err < 0)
				return err;
			continue;	/* attestations, nested lists */
		}
		path = dc__buf_detach(&b, NULL);
		free(d.path);
		d.path = path;
		/* skopeo copies the instances asked for, not always all */
		if (dc__src_exists(r->src, d.path) &&
		    (err = dc__read_meta_blob(r, &d, &b)) == 0 &&
		    (err = dc__json_parse(ctx, &m, &b, d.path)) == 0 &&
		    (err = load_image(r, set, x, d.path, &b, m)) == 0)
			added++;
		if (err > 0)
			err = 0;
		json_decref(m);
		dc__buf_release(&b);
		dc__desc_release(&d);
		if (err < 0)
			return err;
	}
	if (!added)
		return dc_error(ctx, DC_EFORMAT,
				"'manifest.json': a list of %zu manifests, none of them in the directory",
				json_array_size(list));
	x->complete = added == json_array_size(list);
	x->raw = *raw;
	memset(raw, 0, sizeof(*raw));
	return 0;
}

static int dir_load(struct dc_reader *r, struct dc_set **out)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_buf b = DC_BUF_INIT;
	json_t *doc = NULL;
	const char *mt;
	int err;

	*out = NULL;
	if ((err = dc__set_new(ctx, out, "dir")) < 0)
		return err;
	if ((err = dc__src_read_all(r->src, "manifest.json", DC_MAX_JSON, &b)) < 0 ||
	    (err = dc__json_parse(ctx, &doc, &b, "manifest.json")) < 0)
		goto out;
	if (!json_is_object(doc)) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'manifest.json': not a JSON object (a dir: layout holds one manifest)");
		goto out;
	}
	mt = json_string_value(json_object_get(doc, "mediaType"));
	if (mt ? dc__media_is_index(mt) : json_object_get(doc, "manifests") != NULL)
		err = load_index(r, *out, &b, doc, mt ? mt :
				 "application/vnd.oci.image.index.v1+json");
	else
		err = load_image(r, *out, NULL, "manifest.json", &b, doc);
	if (!err)
		dc__set_prune_indexes(*out);
out:
	json_decref(doc);
	dc__buf_release(&b);
	if (err < 0) {
		dc_set_free(*out);
		*out = NULL;
	}
	return err;
}

const struct dc_reader_ops dc__reader_dir = {
	.name = "dir",
	.bid = dir_bid,
	.load = dir_load,
};

/* ------------------------------------------------------------------ */
/* What an unrecognized source looks like */

#define MAX_SHOWN 12	/* top-level names an error lists */

/* A printable copy of the first N bytes of S (escapes what is not). */
static char *printable(struct dc_ctx *ctx, const char *s, size_t n)
{
	struct dc_buf b = DC_BUF_INIT;
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		unsigned char c = (unsigned char)s[i];

		err = c >= 0x20 && c < 0x7f ? dc__buf_add(ctx, &b, s + i, 1) :
		      dc__buf_addf(ctx, &b, "\\x%02x", c);
	}
	if (err < 0) {
		dc__buf_release(&b);
		return NULL;
	}
	return dc__buf_detach(&b, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the first N bytes of NAME to the list V (*N names). */
static int add_name(struct dc_ctx *ctx, char ***v, size_t *nv,
		    const char *name, size_t n)
{
	char **p;

	if (!n)
		return 0;
	if (!(p = dc__reallocarray(ctx, *v, *nv + 1, sizeof(*p))))
		return DC_ENOMEM;
	*v = p;
	if (!(p[*nv] = printable(ctx, name, n)))
		return DC_ENOMEM;
	(*nv)++;
	return 0;
}

/* SRC's top-level names, sorted (a directory's come in any order). */
static int top_names(struct dc_src *src, char ***v, size_t *nv)
{
	struct dc_ctx *ctx = src->ctx;
	size_t i;
	int err = 0;

	if (src->is_dir) {
		struct dirent *de;
		DIR *d;
		int fd = openat(src->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || !(d = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
		while (!err && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				err = add_name(ctx, v, nv, de->d_name,
					       strlen(de->d_name));
		closedir(d);
	} else {
		for (i = 0; i < src->n && !err; i++) {
			const char *m = src->m[i].name, *slash = strchr(m, '/');

			err = add_name(ctx, v, nv, m,
				       slash ? (size_t)(slash - m) : strlen(m));
		}
	}
	if (*nv)
		qsort(*v, *nv, sizeof(**v), cmp_str);
	return err;
}

int dc__unrecognized(struct dc_src *src, const char *what)
{
	struct dc_ctx *ctx = src->ctx;
	struct dc_buf b = DC_BUF_INIT;
	char **v = NULL;
	size_t nv = 0, i, shown = 0, nhex = 0;
	int err;

	if ((err = top_names(src, &v, &nv)) == 0) {
		for (i = 0; i < nv && !err; i++) {
			if (i && !strcmp(v[i], v[i - 1]))
				continue;
			if (strlen(v[i]) == 64 && dc__is_hex64(v[i], 64)) {
				nhex++;		/* blobs: counted, not listed */
				continue;
			}
			if (shown++ == MAX_SHOWN) {
				err = dc__buf_addstr(ctx, &b, ", ...");
				break;
			}
			err = dc__buf_addf(ctx, &b, "%s'%s'", shown > 1 ? ", " : "",
					   v[i]);
		}
	}
	if (!err && nhex)
		err = dc__buf_addf(ctx, &b, "%s%zu name%s of 64 hex digits",
				   shown ? " and " : "", nhex, nhex == 1 ? "" : "s");
	if (!err)
		err = dc_error(ctx, DC_EFORMAT,
			       "unrecognized format: %s; it holds %s", what,
			       b.len ? b.data : "nothing");
	for (i = 0; i < nv; i++)
		free(v[i]);
	free(v);
	dc__buf_release(&b);
	return err;
}
