/*
 * Reader for pre-1.10 `docker save` archives (Docker 1.9 and older): one
 * <id>/{VERSION,json,layer.tar} directory per layer, chained by
 * "parent", plus "repositories"; no manifest.json and no image config.
 *
 * The config is made the way Docker 20.10 makes it when it loads such
 * an archive (moby@v20.10.24 image/tarexport/load.go legacyLoadImage,
 * image/v1/imagev1.go MakeConfigFromV1Config and HistoryFromConfig), so
 * the image ID is the one `docker load` reports. That needs Go's
 * encoding/json byte for byte: src/moby/ emulates it (dc__v1_make_config).
 *
 * Layers are passed on as their bytes are: like `docker load`, a 0-byte
 * layer.tar gets the diff_id sha256("") and a truncated one the hash of
 * its bytes (the emptyLayer.tar sample has both; dockerd 20.10 reports
 * exactly these diff_ids). Go's archive/tar reads both as valid tars.
 */

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "moby/moby.h"
#include "readers/readers.h"

#define LEGACY_MAX_DEPTH 1000	/* parent chain; Docker stops at 125 */

struct node {
	char id[65];
	char parent[65];	/* "" at the root */
	struct dc_buf raw;	/* <id>/json */
	json_t *j;
	char *path;		/* <id>/layer.tar */
	uint64_t size;
	enum dc_comp comp;
	char digest[DC_DIGEST_MAX];
	char diff_id[DC_DIGEST_MAX];
	int hashed;
	int is_parent;		/* some node names it as parent */
	struct dc_image *img;	/* the image with this top layer */
	int visiting;
	/*
	 * Made once per layer, however many images share it: its parent
	 * (found when its chain is first walked), the length of its chain
	 * (0 until then), its history entry, and what an image config and
	 * layer list pay for its chain (COST, below).
	 */
	struct node *up;
	size_t depth;
	struct dc_buf hist;
	uint64_t cost;
};

struct legacy {
	struct dc_reader *r;
	struct node *n;		/* sorted by id */
	size_t nn;
	uint64_t spent;		/* COST of the images made so far */
	size_t nimg, maxn;	/* those images, their most layers */
};

/*
 * Images share their parents' layers, but each holds its own config and
 * layer list: a few thousand small layers, as a long chain with many
 * leaves, make millions of layer references. What they take is counted
 * (a layer's history entry and diff_id in the config, its descriptor in
 * the list) against an eighth of the memory limit: writers spend about
 * three times as much again on their manifests and tables.
 */
#define LAYER_REF_COST (sizeof(struct dc_desc) + 128)

static int legacy_bid_tar(struct dc_src *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		const char *name = src->m[i].name;

		if (strlen(name) == 69 && name[64] == '/' &&
		    !strcmp(name + 65, "json") && dc__is_hex64(name, 64))
			return 1;
	}
	return 0;
}

static int hex_dir_has_json(struct dc_src *src, const char *name)
{
	char p[80];

	if (strlen(name) != 64 || !dc__is_hex64(name, 64))
		return 0;
	snprintf(p, sizeof(p), "%s/json", name);
	return dc__src_exists(src, p);
}

static int legacy_bid_dir(struct dc_src *src)
{
	struct dirent *de;
	DIR *d;
	int fd, found = 0;

	if ((fd = openat(src->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while (!found && (de = readdir(d)))
		found = hex_dir_has_json(src, de->d_name);
	closedir(d);
	return found;
}

static int legacy_bid(struct dc_src *src)
{
	if (dc__src_exists(src, "manifest.json"))
		return 0;	/* Docker 1.10+: the docker-archive reader's */
	if (src->is_dir ? legacy_bid_dir(src) : legacy_bid_tar(src))
		return 40;
	return 0;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->id,
		      ((const struct node *)b)->id);
}

static struct node *find_node(struct legacy *l, const char *id)
{
	struct node key;

	if (strlen(id) != 64)
		return NULL;
	memcpy(key.id, id, 65);
	return bsearch(&key, l->n, l->nn, sizeof(*l->n), cmp_node);
}

static int add_id(struct legacy *l, size_t *cap, const char *id)
{
	struct dc_ctx *ctx = l->r->ctx;

	if (l->nn == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct node *p = dc__reallocarray(ctx, l->n, nc, sizeof(*p));

		if (!p)
			return DC_ENOMEM;
		l->n = p;
		*cap = nc;
	}
	memset(&l->n[l->nn], 0, sizeof(l->n[0]));
	memcpy(l->n[l->nn].id, id, 64);
	l->n[l->nn].id[64] = '\0';
	l->nn++;
	return 0;
}

/* Every <64hex>/json in the source, sorted. */
static int list_ids(struct legacy *l)
{
	struct dc_src *src = l->r->src;
	size_t i, cap = 0;
	int err = 0;

	if (src->is_dir) {
		struct dirent *de;
		DIR *d;
		int fd;

		fd = openat(src->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || !(d = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			return dc_error(l->r->ctx, DC_EIO, "'%s': cannot list",
					src->label);
		}
		while (!err && (de = readdir(d)))
			if (hex_dir_has_json(src, de->d_name))
				err = add_id(l, &cap, de->d_name);
		closedir(d);
	} else {
		for (i = 0; i < src->n && !err; i++) {
			const char *name = src->m[i].name;

			if (strlen(name) == 69 && name[64] == '/' &&
			    !strcmp(name + 65, "json") && dc__is_hex64(name, 64))
				err = add_id(l, &cap, name);
		}
	}
	if (err)
		return err;
	if (!l->nn)
		return dc_error(l->r->ctx, DC_EFORMAT,
				"no '<id>/json' image directories");
	qsort(l->n, l->nn, sizeof(*l->n), cmp_node);
	return 0;
}

/* Read and parse <id>/json; note the parent. */
static int load_node(struct legacy *l, struct node *nd)
{
	struct dc_ctx *ctx = l->r->ctx;
	char path[80];
	const char *parent;
	int err;

	snprintf(path, sizeof(path), "%s/json", nd->id);
	if ((err = dc__src_read_all(l->r->src, path, DC_MAX_JSON, &nd->raw)) < 0 ||
	    (err = dc__json_parse(ctx, &nd->j, &nd->raw, path)) < 0)
		return err;
	if (!json_is_object(nd->j))
		return dc_error(ctx, DC_EFORMAT, "'%s': not a JSON object", path);
	/* load.go decodes struct{ OS, Parent string } */
	parent = dc__go_get_str(nd->j, "parent");
	if (*parent) {
		if (strlen(parent) != 64 || !dc__is_hex64(parent, 64))
			return dc_error(ctx, DC_EFORMAT,
					"'%s': parent '%s' is not a layer ID",
					path, parent);
		memcpy(nd->parent, parent, 65);
	}
	snprintf(path, sizeof(path), "%s/layer.tar", nd->id);
	if (!(nd->path = dc__strdup(ctx, path)))
		return DC_ENOMEM;
	return 0;
}

static int hash_sink(void *arg, const void *p, size_t n)
{
	dc__hash_update(arg, p, n);
	return 0;
}

/* digest and diff_id of a layer.tar: the latter through the decoder */
static int hash_layer(struct legacy *l, struct node *nd)
{
	struct dc_ctx *ctx = l->r->ctx;
	struct dc_stream *s = NULL;
	struct dc_hash *h = NULL, *dh = NULL;
	struct dc_dec *dec = NULL;
	char *buf = NULL;
	uint64_t size, got = 0;
	int err;

	if ((err = dc__sniff_member(l->r->src, nd->path, &nd->size,
				    &nd->comp)) < 0)
		goto out;
	if ((err = dc__hash_new(ctx, &h)) < 0)
		goto out;
	if (nd->comp != DC_COMP_NONE &&
	    ((err = dc__dec_new(ctx, &dec, nd->comp, nd->path)) < 0 ||
	     (err = dc__hash_new(ctx, &dh)) < 0))
		goto out;
	if (!(buf = dc__malloc(NULL, 1 << 16))) {
		err = dc__enomem(ctx);
		goto out;
	}
	if ((err = dc__src_open(l->r->src, nd->path, &s, &size)) < 0)
		goto out;
	for (;;) {
		ssize_t n;

		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
		if ((n = dc__stream_read(s, buf, 1 << 16)) < 0) {
			err = dc_error_prefix(ctx, "'%s'", nd->path);
			goto out;
		}
		if (!n)
			break;
		got += (uint64_t)n;
		dc__hash_update(h, buf, (size_t)n);
		if (dec && (err = dc__dec_push(dec, buf, (size_t)n, hash_sink,
					       dh)) < 0)
			goto out;
	}
	if (got != size) {
		err = dc_error(ctx, DC_ECORRUPT, "'%s': truncated", nd->path);
		goto out;
	}
	if (dec && (err = dc__dec_finish(dec)) < 0)
		goto out;
	dc__hash_final(h, nd->digest);
	if (dh)
		dc__hash_final(dh, nd->diff_id);
	else
		memcpy(nd->diff_id, nd->digest, DC_DIGEST_MAX);
	nd->hashed = 1;
out:
	dc__stream_close(s);
	dc__hash_free(h);
	dc__hash_free(dh);
	dc__dec_free(dec);
	free(buf);
	return err;
}

static int too_deep(struct dc_ctx *ctx, const struct node *top)
{
	return dc_error(ctx, DC_ELIMIT, "'%s/json': more than %d parent layers",
			top->id, LEGACY_MAX_DEPTH);
}

/*
 * The length of TOP's chain, into TOP->depth and that of every layer on
 * the way: the walk stops at a layer whose chain is known, so a chain
 * shared by many images is walked once.
 */
static int chain_depth(struct legacy *l, struct node *top)
{
	struct dc_ctx *ctx = l->r->ctx;
	struct node *nd = top, *last = NULL;
	size_t k = 0, below = 0;
	int err = 0;

	while (nd && !nd->depth) {
		if (nd->visiting) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s/json': parent chain loops back to '%s'",
				       last->id, nd->id);
			goto out;
		}
		if (k == LEGACY_MAX_DEPTH) {
			err = too_deep(ctx, top);
			goto out;
		}
		nd->visiting = 1;
		k++;
		last = nd;
		if (!nd->parent[0])
			break;
		if (!nd->up && !(nd->up = find_node(l, nd->parent))) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s/json': parent '%s' is missing from the archive",
				       nd->id, nd->parent);
			goto out;
		}
		nd = nd->up;
	}
	if (nd && nd->depth)	/* a known chain, below the path */
		below = nd->depth;
	if (k + below > LEGACY_MAX_DEPTH) {
		err = too_deep(ctx, top);
		goto out;
	}
	/* the path's layers, top first, get their chains' lengths */
	for (nd = top; k; nd = nd->up, k--)
		nd->depth = k + below;
out:
	for (nd = top; nd && nd->visiting; nd = nd->up)
		nd->visiting = 0;
	return err;
}

/* The bottom-first chain of TOP: OUT[0..*n). */
static int chain(struct legacy *l, struct node *top, struct node ***out,
		 size_t *n)
{
	struct node **c, *nd;
	size_t i;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = chain_depth(l, top)) < 0)
		return err;
	if (!(c = dc__calloc(l->r->ctx, top->depth, sizeof(*c))))
		return DC_ENOMEM;
	for (nd = top, i = top->depth; i; nd = nd->up)
		c[--i] = nd;
	*out = c;
	*n = top->depth;
	return 0;
}

/*
 * What the image with TOP's chain C[0..n) costs: its layers' history
 * entries and diff_ids, each made and summed once per layer, and n
 * descriptors. Refused past an eighth of the memory limit, counted over
 * every image of the archive.
 */
static int charge(struct legacy *l, struct node *top, struct node **c,
		  size_t n)
{
	struct dc_ctx *ctx = l->r->ctx;
	uint64_t cost, max = dc__max_memory(ctx) / 8;
	char lim[32], all[32];
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		struct node *nd = c[i];

		if (nd->cost)
			continue;
		if ((err = dc__v1_history(ctx, &nd->hist, nd->j)) < 0)
			return err;
		nd->cost = (i ? c[i - 1]->cost : 0) + nd->hist.len +
			   strlen(nd->diff_id) + 2 + LAYER_REF_COST;
	}
	cost = top->cost + top->raw.len;
	if (cost > max || l->spent + cost > max)
		return dc_error(ctx, DC_ELIMIT,
				"'%s/json': the configs and layer lists of its images (%zu so far, up to %zu layers each) are over the %s limit for a pre-1.10 archive, an eighth of --max-memory (%s); raise --max-memory to read it",
				top->id, l->nimg + 1, l->maxn > n ? l->maxn : n,
				dc__mem_str(lim, sizeof(lim), max),
				dc__mem_str(all, sizeof(all),
					    dc__max_memory(ctx)));
	l->spent += cost;
	l->nimg++;
	if (n > l->maxn)
		l->maxn = n;
	return 0;
}

static int make_image(struct legacy *l, struct node *top,
		      struct dc_image **out)
{
	struct dc_ctx *ctx = l->r->ctx;
	struct dc_image *img = NULL;
	struct node **c = NULL;
	struct dc_v1_layer *v1 = NULL;
	char label[128];
	size_t n, i;
	int err;

	*out = NULL;
	if ((err = chain(l, top, &c, &n)) < 0)
		return err;
	for (i = 0; i < n; i++)
		if (!c[i]->hashed && (err = hash_layer(l, c[i])) < 0)
			goto out;
	if ((err = charge(l, top, c, n)) < 0 ||
	    (err = dc__image_new(ctx, &img)) < 0)
		goto out;
	if (!(v1 = dc__calloc(ctx, n, sizeof(*v1)))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		v1[i].json = c[i]->j;
		v1[i].diff_id = c[i]->diff_id;
		v1[i].history = &c[i]->hist;
	}
	snprintf(label, sizeof(label), "%s/json", top->id);
	if ((err = dc__v1_make_config(ctx, &img->config_raw, v1, n,
				      &top->raw, label)) < 0)
		goto out;
	dc__sha256_digest(img->config_raw.data, img->config_raw.len,
			  img->config.digest);
	img->config.size = (int64_t)img->config_raw.len;
	if (!(img->config.media_type = dc__strdup(ctx,
			"application/vnd.docker.container.image.v1+json")) ||
	    !(img->layers = dc__calloc(ctx, n, sizeof(*img->layers)))) {
		err = DC_ENOMEM;
		goto out;
	}
	img->nlayers = n;
	for (i = 0; i < n; i++) {
		struct dc_desc *d = &img->layers[i];

		d->size = (int64_t)c[i]->size;
		d->comp = c[i]->comp;
		memcpy(d->digest, c[i]->digest, DC_DIGEST_MAX);
		if (!(d->path = dc__strdup(ctx, c[i]->path)) ||
		    !(d->media_type = dc__strdup(ctx,
				dc__layer_media_type(d->comp, 0)))) {
			err = DC_ENOMEM;
			goto out;
		}
	}
	snprintf(label, sizeof(label), "config made from '%s/json'", top->id);
	if ((err = dc__image_parse_config(ctx, img, label)) < 0)
		goto out;
	img->manifest_synth = 1;
	*out = img;
	img = NULL;
out:
	dc__image_free(img);
	free(v1);
	free(c);
	return err;
}

/* The image whose top layer is TOP, made once. */
static int image_for(struct legacy *l, struct dc_set *set, struct node *top,
		     struct dc_image **out)
{
	struct dc_image *img;
	int err;

	if ((*out = top->img))
		return 0;
	if ((err = make_image(l, top, &img)) < 0)
		return err;
	if ((err = dc__set_add(l->r->ctx, set, img)) < 0) {
		dc__image_free(img);
		return err;
	}
	*out = top->img = img;
	return 0;
}

/* repositories: {"name":{"tag":"<id>"}}, tags in file order */
static int load_repositories(struct legacy *l, struct dc_set *set)
{
	struct dc_ctx *ctx = l->r->ctx;
	struct dc_buf b = DC_BUF_INIT, ref = DC_BUF_INIT;
	json_t *root = NULL, *tags, *id;
	const char *name, *tag;
	int err;

	if (!dc__src_exists(l->r->src, "repositories"))
		return 0;
	if ((err = dc__src_read_all(l->r->src, "repositories", DC_MAX_JSON,
				    &b)) < 0 ||
	    (err = dc__json_parse(ctx, &root, &b, "repositories")) < 0)
		goto out;
	if (!json_is_object(root)) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'repositories': not a JSON object");
		goto out;
	}
	json_object_foreach(root, name, tags) {
		if (!json_is_object(tags)) {
			err = dc_error(ctx, DC_EFORMAT,
				       "'repositories': '%s' is not an object of tags",
				       name);
			goto out;
		}
		json_object_foreach(tags, tag, id) {
			struct dc_image *img;
			struct node *nd;

			ref.len = 0;
			if ((err = dc__buf_addf(ctx, &ref, "%s:%s", name, tag)) < 0)
				goto out;
			if (!json_is_string(id) ||
			    !(nd = find_node(l, json_string_value(id)))) {
				/* load.go: "invalid target ID" */
				err = dc_error(ctx, DC_ECORRUPT,
					       "'repositories': '%s' points to '%s', which is not in the archive",
					       ref.data, json_is_string(id) ?
					       json_string_value(id) : "(not a string)");
				goto out;
			}
			if ((err = image_for(l, set, nd, &img)) < 0 ||
			    (err = dc__add_ref_tag(ctx, img, ref.data,
						   "repositories")) < 0)
				goto out;
		}
	}
out:
	json_decref(root);
	dc__buf_release(&b);
	dc__buf_release(&ref);
	return err;
}

static int legacy_load(struct dc_reader *r, struct dc_set **out)
{
	struct dc_ctx *ctx = r->ctx;
	struct legacy l = { r, NULL, 0, 0, 0, 0 };
	struct dc_set *set = NULL;
	size_t i;
	int err;

	*out = NULL;
	if ((err = dc__set_new(ctx, &set, "docker-legacy")) < 0)
		return err;
	if ((err = list_ids(&l)) < 0)
		goto out;
	for (i = 0; i < l.nn; i++)
		if ((err = load_node(&l, &l.n[i])) < 0)
			goto out;
	for (i = 0; i < l.nn; i++) {
		struct node *p = l.n[i].parent[0] ? find_node(&l, l.n[i].parent)
						   : NULL;

		if (p)
			p->is_parent = 1;
	}
	if ((err = load_repositories(&l, set)) < 0)
		goto out;
	/*
	 * Untagged leaves are images too: `docker save <id>` before 1.10
	 * wrote no repositories entry for them, and load.go loads every
	 * directory.
	 */
	for (i = 0; i < l.nn; i++) {
		struct dc_image *img;

		if (!l.n[i].is_parent && !l.n[i].img &&
		    (err = image_for(&l, set, &l.n[i], &img)) < 0)
			goto out;
	}
	if (!set->n)
		err = dc_error(ctx, DC_ECORRUPT,
			       "every layer is some layer's parent: no image to load");
out:
	for (i = 0; i < l.nn; i++) {
		dc__buf_release(&l.n[i].raw);
		dc__buf_release(&l.n[i].hist);
		json_decref(l.n[i].j);
		free(l.n[i].path);
	}
	free(l.n);
	if (err) {
		dc_set_free(set);
		return err;
	}
	*out = set;
	return 0;
}

const struct dc_reader_ops dc__reader_legacy = {
	.name = "docker-legacy-v1",
	.bid = legacy_bid,
	.load = legacy_load,
};
