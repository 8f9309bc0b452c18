/*
 * Writer for the Docker 1.10-24 `docker save` layout ("docker-legacy",
 * as moby@v24.0.9 image/tarexport/save.go writes it):
 *
 *   <v1id>/  <v1id>/VERSION ("1.0")  <v1id>/json  <v1id>/layer.tar
 *   <config hex>.json   manifest.json   repositories
 *
 * The v1 IDs and layer JSONs are those save.go makes (v1.CreateID), so
 * the output names match a real `docker save` of the same image. A
 * layer blob is stored once: a later directory with the same layer gets
 * layer.tar as a symlink "../<first v1id>/layer.tar", as save.go does.
 *
 * Tar order: layer directories and configs as their blobs arrive (in
 * digest order), then the directories whose layer.tar is a symlink,
 * then manifest.json and repositories. Loaders untar or index the whole
 * archive first, so the order is free. A squashed layer comes first,
 * its data on a 4 KiB boundary: into a file, the squash writes it in
 * place before the images (and so the v1 IDs) are known; its header is
 * filled in then, its directory's other entries written after it, and
 * the same order is kept when it is streamed.
 */
#include "writers/writers.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"
#include "moby/moby.h"

/*
 * A v1 directory. Its json is kept for an image's top layer only; a
 * lower layer's is made when it is written, from its v1 ID, its
 * parent's and the image's OS: tens of thousands of layers then cost
 * a hundred bytes each, not a kilobyte.
 */
struct ldir {
	char v1id[65];
	const char *digest;	/* its layer blob (borrowed from w->images) */
	struct dc_buf json;	/* <v1id>/json of a top layer */
	size_t owner;		/* the directory that holds layer.tar */
	size_t parent;		/* the one below, or NO_DIR */
	const char *os;		/* lower layers: the image's (in p->os) */
	int top;
	int written;
};

#define NO_DIR ((size_t)-1)

/* A squashed layer, written before the plan: its header's offset in the
 * file (AT), or -1 when it was streamed with its name. */
struct lsquash {
	char digest[DC_DIGEST_MAX];
	uint64_t size;
	int64_t at;
};

struct legacy_priv {
	struct dc_tarlayout tl;	/* first: the tar layout base's */
	int planned;
	struct ldir *d;		/* unique v1 directories, first seen first */
	size_t nd, dcap;
	/* constant-time lookups: an image may have thousands of layers */
	struct dc_sindex by_id;		/* d by v1 ID */
	struct dc_sindex by_blob;	/* d holding layer.tar, by digest */
	struct dc_sindex by_config;	/* w->images, by config digest */
	const struct dc_writer *w;
	char **os;		/* each image's OS, as Go decodes it */
	struct dc_buf scratch;	/* a lower layer's json, being written */
	size_t *layer_dir;	/* every image's layers, flattened: dir index */
	struct lsquash *sq;	/* their directories are written after them */
	size_t nsq, sq_done;
};

static const struct dc_tarlayout_ops legacy_naming;

static const char *key_v1id(const void *arg, size_t i)
{
	return ((const struct legacy_priv *)arg)->d[i].v1id;
}

static const char *key_blob(const void *arg, size_t i)
{
	return ((const struct legacy_priv *)arg)->d[i].digest;
}

static const char *key_config(const void *arg, size_t i)
{
	return ((const struct legacy_priv *)arg)->w->images[i]->config.digest;
}

static const char *image_name(const struct dc_image *img)
{
	return img->ntags ? img->tags[0] : img->config.digest;
}

/* The directory of layer V1ID over PARENT (NO_DIR at the bottom): CFG
 * for an image's top layer, else OS. */
static int add_dir(struct dc_writer *w, const char *v1id, const char *digest,
		   json_t *cfg, size_t parent, const char *os, size_t *idx)
{
	struct legacy_priv *p = w->priv;
	struct ldir *d;
	size_t i;
	int err;

	/* save.go saveLayer: a v1 ID already saved is not saved again */
	i = dc__sindex_find(&p->by_id, key_v1id, p, v1id);
	if (i != DC_SINDEX_NONE) {
		*idx = i;
		return 0;
	}
	if (p->nd == p->dcap) {
		size_t nc = p->dcap ? 2 * p->dcap : 16;

		if (!(d = dc__reallocarray(w->ctx, p->d, nc, sizeof(*d))))
			return DC_ENOMEM;
		p->d = d;
		p->dcap = nc;
	}
	d = &p->d[p->nd];
	memset(d, 0, sizeof(*d));
	memcpy(d->v1id, v1id, 65);
	d->digest = digest;
	d->owner = p->nd;
	/* save.go diffIDPaths: the first directory with a layer keeps it */
	i = dc__sindex_find(&p->by_blob, key_blob, p, digest);
	if (i != DC_SINDEX_NONE)
		d->owner = i;
	else if ((err = dc__sindex_add(w->ctx, &p->by_blob, key_blob, p,
				   p->nd)) < 0)
		return err;
	if ((err = dc__sindex_add(w->ctx, &p->by_id, key_v1id, p, p->nd)) < 0)
		return err;
	*idx = p->nd++;
	d->parent = parent;
	d->top = cfg != NULL;
	d->os = os;
	if (d->top && (err = dc__v1_layer_json(w->ctx, &d->json, cfg, v1id,
			parent == NO_DIR ? NULL : p->d[parent].v1id,
			NULL)) < 0)
		return err;
	return 0;
}

/* The v1 directories of one image, bottom first. */
static int plan_image(struct dc_writer *w, size_t i, size_t *dirs)
{
	struct legacy_priv *p = w->priv;
	struct dc_ctx *ctx = w->ctx;
	const struct dc_image *img = w->images[i];
	json_t *cfg = NULL;
	char chain[DC_DIGEST_MAX], v1id[65], parent[65] = "";
	size_t j;
	int err;

	if (!img->nlayers)
		/* save.go: "empty export - not implemented" */
		return dc_error(ctx, DC_EUNSUPPORTED,
				"'%s': an image without layers cannot be saved as docker-legacy",
				image_name(img));
	if ((err = dc__json_parse(ctx, &cfg, &img->config_raw,
				  img->config.digest)) < 0)
		goto out;
	if (!(p->os[i] = dc__strdup(ctx, dc__go_get_str(cfg, "os")))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (j = 0; j < img->nlayers; j++) {
		const struct dc_desc *l = &img->layers[j];
		int top = j == img->nlayers - 1;

		if (!dc__digest_valid(l->diff_id)) {
			err = dc_error(ctx, DC_EFORMAT,
				       "'%s': layer %zu has no diff_id",
				       image_name(img), j);
			goto out;
		}
		dc__v1_chain_id(chain, j ? chain : NULL, l->diff_id);
		if ((err = dc__v1_create_id(ctx, v1id, top ? cfg : NULL, chain,
					    j ? parent : NULL)) < 0 ||
		    (err = add_dir(w, v1id, l->digest, top ? cfg : NULL,
				   j ? dirs[j - 1] : NO_DIR, p->os[i],
				   &dirs[j])) < 0)
			goto out;
		memcpy(parent, v1id, 65);
	}
out:
	json_decref(cfg);
	return err;
}

/* Free the planned directories (commit and abort). */
static void legacy_release(struct legacy_priv *p)
{
	size_t i;

	for (i = 0; i < p->nd; i++)
		dc__buf_release(&p->d[i].json);
	for (i = 0; p->os && p->w && i < p->w->nimages; i++)
		free(p->os[i]);
	free(p->os);
	p->os = NULL;
	dc__buf_release(&p->scratch);
	dc__sindex_release(&p->by_id);
	dc__sindex_release(&p->by_blob);
	dc__sindex_release(&p->by_config);
	free(p->d);
	free(p->layer_dir);
	free(p->sq);
	p->d = NULL;
	p->layer_dir = NULL;
	p->sq = NULL;
	p->nd = p->dcap = p->nsq = 0;
}

/* Every v1 directory, from w->images: once they are set. */
static int plan(struct dc_writer *w)
{
	struct legacy_priv *p = w->priv;
	size_t i, n = 0;
	int err;

	if (p->planned)
		return 0;
	p->planned = 1;
	p->w = w;
	for (i = 0; i < w->nimages; i++) {
		n += w->images[i]->nlayers;
		/* the first image with a config names its file */
		if (dc__sindex_find(&p->by_config, key_config, p,
				    w->images[i]->config.digest) ==
		    DC_SINDEX_NONE &&
		    (err = dc__sindex_add(w->ctx, &p->by_config, key_config, p,
				      i)) < 0)
			return err;
	}
	if (!(p->layer_dir = dc__calloc(w->ctx, n ? n : 1, sizeof(size_t))) ||
	    !(p->os = dc__calloc(w->ctx, w->nimages ? w->nimages : 1,
				 sizeof(*p->os))))
		return DC_ENOMEM;
	for (i = 0, n = 0; i < w->nimages; i++) {
		if ((err = plan_image(w, i, p->layer_dir + n)) < 0)
			return err;
		n += w->images[i]->nlayers;
	}
	return 0;
}

/* A squash gets begin() before the images are set: planned later. */
static int legacy_begin(struct dc_writer *w)
{
	struct legacy_priv *p = w->priv;
	int err;

	p->tl.ops = &legacy_naming;
	p->tl.f.fd = -1;
	if (w->images && (err = plan(w)) < 0)
		return err;
	return dc__outfile_open(w->ctx, &p->tl.f, w->dest);
}

/* <v1id>/, VERSION and json; then layer.tar is the caller's. */
static int write_dir(struct legacy_priv *p, struct ldir *d)
{
	struct dc_buf *json = &d->json;
	char name[128];
	int err;

	if (!d->top) {
		json = &p->scratch;
		json->len = 0;
		if ((err = dc__v1_layer_json(p->w->ctx, json, NULL, d->v1id,
				d->parent == NO_DIR ? NULL : p->d[d->parent].v1id,
				d->os)) < 0)
			return err;
	}
	snprintf(name, sizeof(name), "%s/", d->v1id);
	if ((err = dc__tarw_header(&p->tl.f.o, name, DC_M_DIR, 0, 0755, NULL)) < 0)
		return err;
	snprintf(name, sizeof(name), "%s/VERSION", d->v1id);
	if ((err = dc__tarw_file(&p->tl.f.o, name, "1.0", 3)) < 0)
		return err;
	snprintf(name, sizeof(name), "%s/json", d->v1id);
	if ((err = dc__tarw_file(&p->tl.f.o, name, json->data, json->len)) < 0)
		return err;
	d->written = 1;
	return 0;
}

/* The directory that holds layer blob DIGEST, NULL if none does. */
static struct ldir *owner_of(struct legacy_priv *p, const char *digest)
{
	size_t i = dc__sindex_find(&p->by_blob, key_blob, p, digest);

	return i == DC_SINDEX_NONE ? NULL : &p->d[i];
}

static int add_squash(struct dc_writer *w, const struct dc_desc *d,
		      int64_t at)
{
	struct legacy_priv *p = w->priv;
	struct lsquash *sq;

	if (!(sq = dc__reallocarray(w->ctx, p->sq, p->nsq + 1, sizeof(*sq))))
		return DC_ENOMEM;
	p->sq = sq;
	sq = &p->sq[p->nsq++];
	memcpy(sq->digest, d->digest, sizeof(sq->digest));
	sq->size = (uint64_t)d->size;
	sq->at = at;
	return 0;
}

/*
 * Once the plan is made and before anything else is written: the
 * squashed layers' headers get their names (written in place), and their
 * directories' other entries come after them.
 */
static int squash_dirs(struct dc_writer *w)
{
	struct legacy_priv *p = w->priv;
	char name[128];
	int err;

	if ((err = plan(w)) < 0)
		return err;
	for (; p->sq_done < p->nsq; p->sq_done++) {
		struct lsquash *sq = &p->sq[p->sq_done];
		struct ldir *dir = owner_of(p, sq->digest);

		if (!dir)
			DC_BUG("squashed layer %s has no directory", sq->digest);
		snprintf(name, sizeof(name), "%s/layer.tar", dir->v1id);
		if ((sq->at >= 0 &&
		     (err = dc__tarw_patch(&p->tl.f.o, (uint64_t)sq->at, name,
					   sq->size)) < 0) ||
		    (err = write_dir(p, dir)) < 0)
			return err;
	}
	return 0;
}

/*
 * The member blob WANT goes in: its layer directory's entries first,
 * then its header. 1 = the layout has no place for it (a manifest). A
 * squashed layer: its directory's entries come after it (squash_dirs).
 */
static int blob_header(struct dc_writer *w, const struct dc_desc *want)
{
	struct legacy_priv *p = w->priv;
	struct ldir *dir;
	char name[128] = "";
	int err;

	if ((err = plan(w)) < 0)
		return err;
	if (w->align_next) {
		if (!(dir = owner_of(p, want->digest)))
			DC_BUG("squashed layer %s has no directory", want->digest);
		snprintf(name, sizeof(name), "%s/layer.tar", dir->v1id);
		if ((err = add_squash(w, want, -1)) < 0)
			return err;
		/* as put_blob_open() and squash_dirs() write it */
		return dc__tarlayout_member(w, name, (uint64_t)want->size);
	}
	if ((err = squash_dirs(w)) < 0)
		return err;
	if ((dir = owner_of(p, want->digest))) {
		if ((err = write_dir(p, dir)) < 0)
			return err;
		snprintf(name, sizeof(name), "%s/layer.tar", dir->v1id);
	}
	if (!name[0] && dc__sindex_find(&p->by_config, key_config, p,
					want->digest) != DC_SINDEX_NONE)
		snprintf(name, sizeof(name), "%s.json",
			 dc__digest_hex(want->digest));
	if (!name[0])
		return 1;
	return dc__tarlayout_member(w, name, (uint64_t)want->size);
}

/* put_blob_open()'s layer: its header is written once the plan names
 * its directory (squash_dirs), before the output is complete. */
static int legacy_blob_close(struct dc_writer *w, const struct dc_desc *d,
			     uint64_t at)
{
	return add_squash(w, d, (int64_t)at);
}

static const struct dc_tarlayout_ops legacy_naming = {
	.header = blob_header,
	.close = legacy_blob_close,
};

static int legacy_put_image(struct dc_writer *w, const struct dc_image *img)
{
	(void)img;
	return squash_dirs(w);	/* every blob is in: nothing left out */
}

static void v1_names(void *arg, const struct dc_image *img, size_t j,
		     size_t k, char *buf, size_t n)
{
	const struct legacy_priv *p = arg;

	if (j == SIZE_MAX)
		snprintf(buf, n, "%s.json", dc__digest_hex(img->config.digest));
	else
		snprintf(buf, n, "%s/layer.tar", p->d[p->layer_dir[k]].v1id);
}

/* manifest.json as save.go's json.Encoder writes it (no Parent). */
static int manifest_json(struct dc_writer *w, struct dc_buf *out)
{
	return dc__docker_manifest_names(w->ctx, out, w->images, w->nimages,
					 v1_names, w->priv);
}

/* repositories: {"familiar/name":{"tag":"<top v1id>"}}, keys sorted */
static int repositories(struct dc_writer *w, struct dc_buf *out)
{
	struct legacy_priv *p = w->priv;
	json_t *repos = json_object();
	size_t i, j, k = 0;
	int err = 0;
	char *s;

	for (i = 0; i < w->nimages; i++) {
		const struct dc_image *img = w->images[i];
		const char *top;

		k += img->nlayers;
		top = p->d[p->layer_dir[k - 1]].v1id;
		for (j = 0; j < img->ntags; j++) {
			const char *t = img->tags[j];
			const char *colon = strrchr(t, ':');
			json_t *r;
			char *name;

			if (!colon || strchr(colon, '/') || strchr(t, '@'))
				continue;
			if (!(name = dc__calloc(w->ctx, 1, (size_t)(colon - t) + 1))) {
				err = DC_ENOMEM;
				goto out;
			}
			memcpy(name, t, (size_t)(colon - t));
			if (!(r = json_object_get(repos, name)) &&
			    json_object_set_new(repos, name, r = json_object()))
				r = NULL;	/* freed */
			if (!r || json_object_set_new(r, colon + 1, json_string(top))) {
				free(name);
				err = dc__enomem(w->ctx);
				goto out;
			}
			free(name);
		}
	}
	if (!json_object_size(repos))
		goto out;
	s = json_dumps(repos, JSON_COMPACT | JSON_SORT_KEYS);
	if (dc__json_oom_take() || !s) {
		free(s);
		err = dc__enomem(w->ctx);
		goto out;
	}
	err = dc__buf_addstr(w->ctx, out, s);
	free(s);
	if (!err)
		err = dc__buf_add(w->ctx, out, "\n", 1);
out:
	json_decref(repos);
	return err;
}

static int legacy_commit(struct dc_writer *w)
{
	struct legacy_priv *p = w->priv;
	struct dc_buf mj = DC_BUF_INIT, repos = DC_BUF_INIT;
	char name[128], link[128];
	size_t i;
	int err = squash_dirs(w);

	for (i = 0; i < p->nd && !err; i++) {
		struct ldir *d = &p->d[i];

		if (d->written)
			continue;
		if (d->owner == i)
			DC_BUG("layer blob %s never arrived", d->digest);
		snprintf(name, sizeof(name), "%s/layer.tar", d->v1id);
		snprintf(link, sizeof(link), "../%s/layer.tar",
			 p->d[d->owner].v1id);
		if ((err = write_dir(p, d)) == 0)
			err = dc__tarw_header(&p->tl.f.o, name, DC_M_SYMLINK, 0, 0777,
					      link);
	}
	if (err)
		goto out;
	if ((err = manifest_json(w, &mj)) < 0 ||
	    (err = dc__tarw_file(&p->tl.f.o, "manifest.json", mj.data, mj.len)) < 0 ||
	    (err = repositories(w, &repos)) < 0)
		goto out;
	if (repos.len &&
	    (err = dc__tarw_file(&p->tl.f.o, "repositories", repos.data,
				 repos.len)) < 0)
		goto out;
	if ((err = dc__tarw_end(&p->tl.f.o)) < 0 ||
	    (err = dc__outfile_commit(&p->tl.f)) < 0)
		goto out;
out:
	dc__buf_release(&mj);
	dc__buf_release(&repos);
	if (!err)
		legacy_release(p);
	return err;
}

static void legacy_abort(struct dc_writer *w)
{
	struct legacy_priv *p = w->priv;

	dc__outfile_abort(&p->tl.f);
	legacy_release(p);
}

/*
 * Order (enforced by the core): begin() opens the output and plans every
 * v1 directory from w->images; with a squash it comes before the images
 * are set, put_blob_open() and put_blob_close() take the squashed layers
 * into the file, and the first call after them plans. Then put_blob(),
 * put_blob_range() or reserve_blob() for each blob in digest order
 * writes layer directories and configs (reserved ones filled before
 * put_image()), put_image() writes what a squash left to write, commit()
 * adds the symlinked directories, manifest.json and repositories and
 * renames the temp file into place; abort() on any failure removes it.
 */
const struct dc_writer_ops dc__writer_docker_legacy = {
	.name = "docker-legacy",
	.priv_size = sizeof(struct legacy_priv),
	.caps = DC_WCAP_MULTI_IMAGE | DC_WCAP_STDOUT | DC_WCAP_DOCKER_TYPES,
	.begin = legacy_begin,
	.put_blob = dc__tarlayout_put_blob,
	.put_blob_range = dc__tarlayout_put_blob_range,
	.reserve_blob = dc__tarlayout_reserve_blob,
	.put_blob_open = dc__tarlayout_put_blob_open,
	.put_blob_close = dc__tarlayout_put_blob_close,
	.put_image = legacy_put_image,
	.commit = legacy_commit,
	.abort = legacy_abort,
};
