/*
 * The registry writer: "docker://HOST[:PORT]/REPO[:TAG]". Blobs go up
 * as put_blob() gets them (HEAD first: a blob the repository has is not
 * sent; a blob in another repository of the registry is mounted), image
 * manifests by digest in put_image(), then in commit() the indexes and,
 * last, the tags: a failed push leaves no tag pointing at a partial
 * image. With one image (or index) selected it goes to REPO:TAG (TAG
 * defaults to its own tag, else "latest"); with several, DEST names a
 * prefix and each goes to PREFIX/<its repository>:<its tags>.
 */
#include "registry/registry.h"
#include "writers/writers.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct client {
	char *repo;
	struct dc_reg *g;
};

/* Where an image or index goes: repository and tags. */
struct target {
	const void *what;	/* the image or index */
	char *repo;
	char **tags;
	size_t ntags;
};

/* A blob sent (or found) in this push, and the repository it is in. */
struct sent {
	char digest[DC_DIGEST_MAX];
	const char *repo;
};

/* A blob a worker thread sends (reserve_send). */
struct upload {
	struct dc_reg *g;
	char digest[DC_DIGEST_MAX];
	int64_t size;
};

struct wpriv {
	struct dc_reg_ref ref;
	struct client *cl;
	size_t ncl;
	struct target *t;
	size_t nt;
	struct sent *sent;
	size_t nsent, capsent;
	struct upload **up;
	size_t nup;
};

static struct dc_reg *client(struct dc_writer *w, const char *repo, int *err)
{
	struct wpriv *p = w->priv;
	struct dc_reg_ref r;
	struct client *c;
	size_t i;

	for (i = 0; i < p->ncl; i++)
		if (!strcmp(p->cl[i].repo, repo))
			return p->cl[i].g;
	if (!(c = dc__reallocarray(w->ctx, p->cl, p->ncl + 1, sizeof(*c)))) {
		*err = DC_ENOMEM;
		return NULL;
	}
	p->cl = c;
	c = &p->cl[p->ncl];
	memset(c, 0, sizeof(*c));
	if (!(c->repo = dc__strdup(w->ctx, repo))) {
		*err = DC_ENOMEM;
		return NULL;
	}
	r = p->ref;
	r.repo = c->repo;
	if ((*err = dc__reg_new(w->ctx, &r, 1, &c->g)) < 0) {
		free(c->repo);
		return NULL;
	}
	p->ncl++;
	return c->g;
}

static struct target *target_of(struct wpriv *p, const void *what)
{
	size_t i;

	for (i = 0; i < p->nt; i++)
		if (p->t[i].what == what)
			return &p->t[i];
	return NULL;
}

/* The target of WHAT, tagged TAGS (familiar "name:tag"), for SINGLE or
 * a prefix push. */
static int add_target(struct dc_writer *w, const void *what, char **tags,
		      size_t ntags, int single)
{
	struct wpriv *p = w->priv;
	struct dc_ctx *ctx = w->ctx;
	struct target *t;
	size_t i;
	int err = 0;

	if (!(t = dc__reallocarray(ctx, p->t, p->nt + 1, sizeof(*t))))
		return DC_ENOMEM;
	p->t = t;
	t = &p->t[p->nt++];
	memset(t, 0, sizeof(*t));
	t->what = what;
	if (single) {
		struct dc_ref r;
		const char *tag = p->ref.tag;

		memset(&r, 0, sizeof(r));
		if (!tag && !p->ref.digest && ntags &&
		    dc__ref_parse(ctx, &r, tags[0]) == 0)
			tag = r.tag;
		if (!tag && !p->ref.digest)
			tag = "latest";
		if (!(t->repo = dc__strdup(ctx, p->ref.repo)) ||
		    (tag && (err = dc__tags_add(ctx, &t->tags, &t->ntags, tag)) < 0))
			err = DC_ENOMEM;
		dc__ref_release(&r);
		return err;
	}
	if (!ntags)
		return dc_error(ctx, DC_EINVAL,
				"'%s': an image without a tag has no repository to go to under this prefix (use --image or a DEST with a tag)",
				w->dest);
	for (i = 0; i < ntags && !err; i++) {
		struct dc_ref r;
		struct dc_buf b = DC_BUF_INIT;

		if ((err = dc__ref_parse(ctx, &r, tags[i])) < 0)
			break;
		if ((err = dc__buf_addf(ctx, &b, "%s/%s", p->ref.repo, r.path)) == 0) {
			if (!t->repo)
				t->repo = dc__buf_detach(&b, NULL);
			else if (strcmp(t->repo, b.data))
				err = dc_error(ctx, DC_EUNSUPPORTED,
					       "'%s': an image tagged in two repositories (%s): push it once per repository",
					       w->dest, tags[i]);
		}
		if (!err && r.tag)
			err = dc__tags_add(ctx, &t->tags, &t->ntags, r.tag);
		dc__buf_release(&b);
		dc__ref_release(&r);
	}
	return err;
}

static int reg_begin(struct dc_writer *w)
{
	struct wpriv *p = w->priv;
	struct dc_ctx *ctx = w->ctx;
	size_t i, top = w->nindexes;
	int err, single;

	if ((err = dc__reg_ref_parse(ctx, &p->ref, w->dest)) < 0)
		return dc_error_prefix(ctx, "'%s'", w->dest);
	for (i = 0; i < w->nimages; i++)
		if (!w->images[i]->index)
			top++;
	single = top == 1;
	if (!single && (p->ref.tag || p->ref.digest))
		return dc_error(ctx, DC_EINVAL,
				"'%s': one tag for %zu images: name a repository prefix without a tag, or select one image",
				w->dest, top);
	if (p->ref.digest)
		return dc_error(ctx, DC_EINVAL,
				"'%s': a push names a tag, not a digest", w->dest);
	for (i = 0; i < w->nindexes; i++)
		if ((err = add_target(w, w->indexes[i], w->indexes[i]->tags,
				      w->indexes[i]->ntags, single)) < 0)
			return err;
	for (i = 0; i < w->nimages; i++)
		if (!w->images[i]->index &&
		    (err = add_target(w, w->images[i], w->images[i]->tags,
				      w->images[i]->ntags, single)) < 0)
			return err;
	/* connect (and authenticate) before any blob is read */
	for (i = 0; i < p->nt; i++)
		if (!client(w, p->t[i].repo, &err))
			return err;
	return 0;
}

/* The repository an image goes to. */
static const char *image_repo(struct wpriv *p, const struct dc_image *img)
{
	struct target *t = target_of(p, img->index ? (const void *)img->index :
				     (const void *)img);

	return t ? t->repo : p->ref.repo;
}

/* The first image using blob DIGEST, or NULL (a manifest, an index). */
static const struct dc_image *blob_user(struct dc_writer *w,
					const char *digest)
{
	size_t i, j;

	for (i = 0; i < w->nimages; i++) {
		const struct dc_image *img = w->images[i];

		if (!strcmp(img->config.digest, digest))
			return img;
		for (j = 0; j < img->nlayers; j++)
			if (!strcmp(img->layers[j].digest, digest))
				return img;
	}
	return NULL;
}

static int note_sent(struct dc_writer *w, const char *digest,
		     const char *repo)
{
	struct wpriv *p = w->priv;

	if (p->nsent == p->capsent) {
		size_t cap = p->capsent ? p->capsent * 2 : 64;
		struct sent *s = dc__reallocarray(w->ctx, p->sent, cap, sizeof(*s));

		if (!s)
			return DC_ENOMEM;
		p->sent = s;
		p->capsent = cap;
	}
	snprintf(p->sent[p->nsent].digest, DC_DIGEST_MAX, "%s", digest);
	p->sent[p->nsent++].repo = repo;
	return 0;
}

static const char *sent_repo(struct wpriv *p, const char *digest)
{
	size_t i;

	for (i = 0; i < p->nsent; i++)
		if (!strcmp(p->sent[i].digest, digest))
			return p->sent[i].repo;
	return NULL;
}

/* The repository of the same registry a source descriptor names
 * ("NAME/REPO@sha256:..." from the registry reader), into OUT. */
static int source_repo(struct wpriv *p, const struct dc_desc *d, char *out,
		       size_t n)
{
	const char *at, *path = d->path;
	size_t nl = strlen(p->ref.name);

	if (!path || !(at = strstr(path, "@sha256:")) ||
	    strncmp(path, p->ref.name, nl) || path[nl] != '/' ||
	    (size_t)(at - path - nl - 1) >= n)
		return 0;
	snprintf(out, n, "%.*s", (int)(at - path - nl - 1), path + nl + 1);
	return 1;
}

/* Make blob D present in REPO (G): HEAD, then a mount from FROM. 1 if it
 * is there now, 0 if it must be sent. */
static int have_blob(struct dc_reg *g, const char *repo,
		     const struct dc_desc *d, const char *from)
{
	int err = dc__reg_blob_exists(g, d->digest);

	if (err != 0 || !from || !strcmp(from, repo))
		return err;
	return dc__reg_blob_mount(g, d->digest, from);
}

/* HEAD, then a mount: 1 if the repository has blob WANT now, 0 if it
 * must be sent. A blob no image uses (a manifest, an index) goes up in
 * put_image or commit: 1. */
/* The repository blob DIGEST goes to and its client: 0, or 1 when no
 * image of the output uses it, or an error. */
static int blob_client(struct dc_writer *w, const char *digest,
		       const char **repo, struct dc_reg **g)
{
	const struct dc_image *img = blob_user(w, digest);
	int err = 0;

	if (!img)
		return 1;
	*repo = image_repo(w->priv, img);
	if (!(*g = client(w, *repo, &err)))
		return err;
	return 0;
}

static int reg_has_blob(struct dc_writer *w, const struct dc_desc *want)
{
	struct wpriv *p = w->priv;
	const char *repo;
	char from[512];
	struct dc_reg *g;
	int err;

	if ((err = blob_client(w, want->digest, &repo, &g)) != 0)
		return err;
	err = have_blob(g, repo, want,
			source_repo(p, want, from, sizeof(from)) ? from : NULL);
	if (err > 0 && (err = note_sent(w, want->digest, repo)) == 0)
		err = 1;
	return err;
}

/* After reg_has_blob said 0: the blob goes up. */
static int reg_put_blob(struct dc_writer *w, struct dc_stream *in,
			const struct dc_desc *want)
{
	const char *repo;
	struct dc_reg *g;
	int err;

	if ((err = blob_client(w, want->digest, &repo, &g)) != 0)
		return err < 0 ? err : 0;
	if ((err = dc__reg_put_blob(g, w->ctx, in, want->digest,
				    want->size)) < 0)
		return err;
	return note_sent(w, want->digest, repo);
}

static int send_upload(void *arg, struct dc_ctx *tctx, struct dc_stream *in)
{
	struct upload *u = arg;

	return dc__reg_put_blob(u->g, tctx, in, u->digest, u->size);
}

/* After reg_has_blob said 0: the blob goes up from a worker thread,
 * several at once (each request its own connection). */
static int reg_reserve_send(struct dc_writer *w, const struct dc_desc *want,
			    int (**send)(void *, struct dc_ctx *,
					 struct dc_stream *),
			    void **arg)
{
	struct wpriv *p = w->priv;
	struct upload **up, *u;
	const char *repo;
	struct dc_reg *g;
	int err;

	if ((err = blob_client(w, want->digest, &repo, &g)) != 0)
		return err;
	if (!(up = dc__reallocarray(w->ctx, p->up, p->nup + 1, sizeof(*up))))
		return DC_ENOMEM;
	p->up = up;
	if (!(u = dc__calloc(w->ctx, 1, sizeof(*u))))
		return DC_ENOMEM;
	p->up[p->nup++] = u;
	u->g = g;
	snprintf(u->digest, sizeof(u->digest), "%s", want->digest);
	u->size = want->size;
	*send = send_upload;
	*arg = u;
	return note_sent(w, want->digest, repo);
}

/* The blobs of IMG in its repository (sent to another one: mounted). */
static int image_blobs(struct dc_writer *w, struct dc_reg *g,
		       const char *repo, const struct dc_image *img)
{
	struct wpriv *p = w->priv;
	size_t j;
	int err;

	for (j = 0; j <= img->nlayers; j++) {
		const struct dc_desc *d = j ? &img->layers[j - 1] : &img->config;
		const char *from = sent_repo(p, d->digest);

		if (!from || !strcmp(from, repo))
			continue;
		if ((err = have_blob(g, repo, d, from)) < 0)
			return err;
		if (!err)
			return dc_error(w->ctx, DC_EIO,
					"blob upload rejected: %s/%s refused to mount %s from %s",
					p->ref.name, repo, d->digest, from);
	}
	return 0;
}

static const char *manifest_type(const struct dc_desc *d, const char *dflt)
{
	return d->media_type ? d->media_type : dflt;
}

static int reg_put_image(struct dc_writer *w, const struct dc_image *img)
{
	struct wpriv *p = w->priv;
	const char *repo = image_repo(p, img);
	struct dc_reg *g;
	int err = 0;

	if (!(g = client(w, repo, &err)))
		return err;
	if ((err = image_blobs(w, g, repo, img)) < 0)
		return err;
	return dc__reg_put_manifest(g, img->manifest.digest,
				    manifest_type(&img->manifest, DC_MT_OCI_MANIFEST),
				    img->manifest_raw.data, img->manifest_raw.len);
}

static int reg_commit(struct dc_writer *w)
{
	struct wpriv *p = w->priv;
	size_t i, j;
	int err = 0;

	/* indexes after their manifests */
	for (i = 0; i < w->nindexes; i++) {
		const struct dc_index *x = w->indexes[i];
		struct target *t = target_of(p, x);
		struct dc_reg *g;

		if (!t || !(g = client(w, t->repo, &err)))
			return err;
		if ((err = dc__reg_put_manifest(g, x->desc.digest,
						manifest_type(&x->desc, DC_MT_OCI_INDEX),
						x->raw.data, x->raw.len)) < 0)
			return err;
	}
	/* tags last */
	for (i = 0; i < p->nt; i++) {
		struct target *t = &p->t[i];
		const struct dc_buf *raw;
		const struct dc_desc *d;
		struct dc_reg *g;
		size_t k;

		for (k = 0; k < w->nindexes && t->what != w->indexes[k]; k++)
			;
		if (k < w->nindexes) {
			raw = &w->indexes[k]->raw;
			d = &w->indexes[k]->desc;
		} else {
			raw = &((const struct dc_image *)t->what)->manifest_raw;
			d = &((const struct dc_image *)t->what)->manifest;
		}
		if (!(g = client(w, t->repo, &err)))
			return err;
		for (j = 0; j < t->ntags; j++)
			if ((err = dc__reg_put_manifest(g, t->tags[j],
							manifest_type(d, DC_MT_OCI_MANIFEST),
							raw->data, raw->len)) < 0)
				return err;
	}
	return 0;
}

static void reg_release(struct wpriv *p)
{
	size_t i, j;

	for (i = 0; i < p->ncl; i++) {
		dc__reg_free(p->cl[i].g);
		free(p->cl[i].repo);
	}
	free(p->cl);
	for (i = 0; i < p->nt; i++) {
		for (j = 0; j < p->t[i].ntags; j++)
			free(p->t[i].tags[j]);
		free(p->t[i].tags);
		free(p->t[i].repo);
	}
	free(p->t);
	free(p->sent);
	for (i = 0; i < p->nup; i++)
		free(p->up[i]);
	free(p->up);
	dc__reg_ref_release(&p->ref);
	memset(p, 0, sizeof(*p));
}

static int reg_commit_release(struct dc_writer *w)
{
	int err = reg_commit(w);

	reg_release(w->priv);
	return err;
}

/* Blobs sent stay (the registry collects unreferenced ones); no tag
 * was pushed, so nothing names a partial image. */
static void reg_abort(struct dc_writer *w)
{
	reg_release(w->priv);
}

const struct dc_writer_ops dc__writer_registry = {
	.name = "docker",
	.priv_size = sizeof(struct wpriv),
	.caps = DC_WCAP_MULTI_IMAGE | DC_WCAP_MULTI_PLATFORM | DC_WCAP_REMOTE,
	.begin = reg_begin,
	.put_blob = reg_put_blob,
	.has_blob = reg_has_blob,
	.reserve_send = reg_reserve_send,
	.put_image = reg_put_image,
	.commit = reg_commit_release,
	.abort = reg_abort,
};
