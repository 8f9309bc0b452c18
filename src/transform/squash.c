/*
 * Layer squashing: the layers of an image merged into one whose
 * filesystem is the one the unsquashed image shows when run.
 *
 * Pass 1 reads the layers' headers only (on threads, a layer each) and,
 * walking the layers top down, decides the winning entry of every path:
 *   - the topmost entry of a path wins; a layer must not repeat a path;
 *   - ".wh.NAME" hides NAME and its subtree in the layers below it;
 *   - ".wh..wh..opq" hides the lower layers' children of its directory;
 *   - a non-directory hides the lower layers' subtree at its path;
 *   - an entry below a path hides a lower non-directory (a file, a
 *     symlink) at that path: the upper directory replaces it, as Docker's
 *     overlay2 shows it (see hidden());
 *   - whiteouts affect lower layers only (image-spec layer.md), so a
 *     file in the same layer as its whiteout survives.
 * What no filesystem holds is refused, naming the entry, as moby's
 * applier fails on it: an entry below a file of its own layer, a
 * hardlink to a directory, to itself or in a cycle, and (squashing every
 * layer) a hardlink whose target is no regular file of the image. So is
 * an entry below a symlink of its own layer, which moby follows inside
 * its chroot but an extracting tar would follow out of the root (see
 * same_layer_parent()). The output then extracts into a directory without
 * writing outside it.
 * Pass 2 streams the layers bottom up, once each, and copies the
 * winners, while the blob pool verifies the layers' digests and diff_ids
 * on the other cores (from the start: pass 1 needs none of it). A
 * hardlink whose target was deleted or replaced above it is written as
 * a regular file with the content its target had in the link's layer.
 *
 * Uncompressed output to a file of our own goes through the ring (see
 * there): a thread hashes it, two write it, past the page cache where
 * no one reads it back. The content of the larger files of an
 * uncompressed layer lying in a seekable source is read straight into
 * the ring, the headers around it come from libarchive: pass 2 then
 * mostly walks headers. The bytes are those of the streamed output.
 *
 * Memory grows with the number of paths, never with layer bytes; time
 * with the bytes of the layers' names and their number (a path trie, the
 * hardlinks sorted), each layer digest read once however often it is
 * listed.
 */
#include "transform/transform.h"
#include "blob/blob.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define NO_LAYER (-1)
/* files this large are read from the source straight into the ring */
#define COPY_MIN (64u << 10)

struct node {
	struct node *parent;
	uint64_t hash;
	int win;	/* layer of the winning entry */
	int del;	/* path and subtree hidden in layers below this one */
	int opq;	/* children hidden in layers below this one */
	int dirup;	/* highest layer with an entry below this path */
	unsigned char win_dir;
	unsigned char mat;	/* winning hardlink to be materialized */
	int need_src;	/* materialize: content of this path as of layer <= */
	size_t link;	/* 1 + the index in q->links of its winning hardlink */
	size_t nlen;
	char name[];	/* the last component */
};

struct map {
	struct node **slot;
	size_t cap, n;
	struct node *root;	/* "" */
};

struct link {
	char *path;	/* the hardlink */
	char *target;
	int layer;
	size_t sp;	/* 1 + the index in q->spools of its content, or 0 */
};

/*
 * The content a target had in a layer, at OFF of the one spool file
 * all materialized hardlinks share (a file each ran out of descriptors:
 * issue 17, 2,000 links at ulimit -n 1024).
 */
struct spool {
	uint64_t off, size;
	size_t written;	/* 1 + the index of the link written with it, or 0 */
};

struct tidx {
	const char *target;
	size_t i;	/* in q->links */
};

struct squash {
	struct dc_ctx *ctx;
	const struct dc_bsrc *bs;	/* where the layers are read */
	const struct dc_image *img;
	int from, to;		/* layers [from, to) */
	int keep_wh;		/* keep whiteouts: layers remain below */
	const char *spooldir;
	struct map map;
	struct link *links;
	size_t nlinks, caplinks;
	struct link *all;	/* every hardlink entry in the range */
	size_t nall, capall;
	struct tidx *bytarget;	/* q->links, in target order */
	struct spool *spools;
	size_t nspools, capspools;
	int spool_fd;		/* -1 until a content is spooled */
	uint64_t spool_end;
	int *nwin;		/* by layer: entries winning there */
	int max_need;		/* highest layer a materialized link reads */
	int *twin;		/* by layer: the topmost layer with its digest */
	int *vlist;		/* the layers the ring verifies (one a digest) */
	int nvlist;
	/* output */
	struct archive *aw;
	struct dc_out out;
	int out_ok;
	struct dc_hash *h_diff, *h_blob;
	struct dc_enc *enc;
	int err;		/* first error from the write callback */
	char *buf;
	/* the output is a file of our own, written through the ring */
	struct ring *ring;
	int ring_verifies;	/* its hashing thread verifies layers [from, +n) */
	uint64_t skip;		/* callback bytes standing for a copied file */
};

/* ------------------------------------------------------------------ */
/*
 * Path map: a trie whose nodes are one path component each, kept in one
 * open-addressing table keyed by (parent, name). A path costs one walk
 * of its components, whatever its depth: a table keyed by whole paths
 * hashed every ancestor prefix of every entry again (issue 17: 5,000
 * files 2,000 deep took 30 s). A node that only leads to others (all
 * its fields unset) stands for no entry: map_get() says NULL for it.
 */

static uint64_t comp_hash(const struct node *parent, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)parent;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static int node_blank(const struct node *n)
{
	return n->win == NO_LAYER && n->del == NO_LAYER &&
	       n->opq == NO_LAYER && n->need_src == NO_LAYER && !n->mat;
}

static struct node *child(const struct map *m, const struct node *parent,
			  const char *s, size_t len)
{
	uint64_t h;
	size_t i;

	if (!m->cap)
		return NULL;
	h = comp_hash(parent, s, len);
	for (i = h & (m->cap - 1); m->slot[i]; i = (i + 1) & (m->cap - 1)) {
		struct node *n = m->slot[i];

		if (n->hash == h && n->parent == parent && n->nlen == len &&
		    !memcmp(n->name, s, len))
			return n;
	}
	return NULL;
}

/* The node of PATH, blank or not, or NULL. */
static struct node *map_find(const struct map *m, const char *path)
{
	struct node *n = m->root;

	while (n && *path) {
		const char *sl = strchr(path, '/');
		size_t len = sl ? (size_t)(sl - path) : strlen(path);

		n = child(m, n, path, len);
		path += len + (sl != NULL);
	}
	return n;
}

static struct node *map_get(struct map *m, const char *path)
{
	struct node *n = map_find(m, path);

	return n && !node_blank(n) ? n : NULL;
}

static int map_grow(struct dc_ctx *ctx, struct map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i, j;
	struct node **s = dc__calloc(ctx, cap, sizeof(*s));

	if (!s)
		return DC_ENOMEM;
	for (i = 0; i < m->cap; i++) {
		if (!m->slot[i])
			continue;
		for (j = m->slot[i]->hash & (cap - 1); s[j]; j = (j + 1) & (cap - 1))
			;
		s[j] = m->slot[i];
	}
	free(m->slot);
	m->slot = s;
	m->cap = cap;
	return 0;
}

static struct node *node_new(struct dc_ctx *ctx, struct node *parent,
			     const char *s, size_t len)
{
	struct node *n = dc__calloc(ctx, 1, sizeof(*n) + len + 1);

	if (!n)
		return NULL;
	n->parent = parent;
	n->nlen = len;
	memcpy(n->name, s, len);
	n->win = n->del = n->opq = n->need_src = n->dirup = NO_LAYER;
	return n;
}

/* The node of PATH, made (with its ancestors) if need be. */
static int map_put(struct dc_ctx *ctx, struct map *m, const char *path,
		   struct node **out)
{
	struct node *n;
	int err;

	if (!m->root && !(m->root = node_new(ctx, NULL, "", 0)))
		return DC_ENOMEM;
	n = m->root;
	while (*path) {
		const char *sl = strchr(path, '/');
		size_t len = sl ? (size_t)(sl - path) : strlen(path), i;
		struct node *c = child(m, n, path, len);

		if (!c) {
			if ((m->n + 1) * 4 > m->cap * 3 &&
			    (err = map_grow(ctx, m)) < 0)
				return err;
			if (!(c = node_new(ctx, n, path, len)))
				return DC_ENOMEM;
			c->hash = comp_hash(n, path, len);
			for (i = c->hash & (m->cap - 1); m->slot[i];
			     i = (i + 1) & (m->cap - 1))
				;
			m->slot[i] = c;
			m->n++;
		}
		n = c;
		path += len + (sl != NULL);
	}
	*out = n;
	return 0;
}

static void map_release(struct map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slot[i]);
	free(m->slot);
	free(m->root);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* Reading a layer with libarchive */

struct lr {
	struct dc_stream *s;
	char *buf;
	int err;
};

/*
 * Reads for libarchive, small: after a large file skipped (pass 1) or
 * copied (pass 2), a read fetches the next header and whatever follows
 * it. At 1 MiB, each of the bench image's 678 large files cost a 1 MiB
 * read for a 512-byte header, and pass 1 took 0.31-0.35 s, not 0.17-0.22.
 */
#define LR_HEADERS (64u << 10)

static la_ssize_t lr_read(struct archive *a, void *arg, const void **p)
{
	struct lr *l = arg;
	ssize_t got = dc__stream_read(l->s, l->buf, LR_HEADERS);

	(void)a;
	if (got < 0) {
		l->err = (int)got;
		return -1;
	}
	*p = l->buf;
	return got;
}

static la_int64_t lr_skip(struct archive *a, void *arg, la_int64_t n)
{
	struct lr *l = arg;

	(void)a;
	return l->s->skip ? l->s->skip(l->s, n) : 0;
}

/* Open layer LAYER from BS (q->bs, or a clone on another thread). */
static int layer_open(struct squash *q, const struct dc_bsrc *bs, int layer,
		      int verify, struct archive **out, struct lr *l)
{
	const struct dc_desc *d = &q->img->layers[layer];
	struct archive *a;
	int err;

	*out = NULL;
	l->err = 0;
	if ((err = dc__blob_open_tar(bs, d, verify, &l->s)) < 0)
		return err;
	if (!(a = archive_read_new())) {
		dc__stream_close(l->s);
		l->s = NULL;
		return dc__enomem(bs->ctx);
	}
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_empty(a);
	archive_read_set_callback_data(a, l);
	archive_read_set_read_callback(a, lr_read);
	if (!verify)
		archive_read_set_skip_callback(a, lr_skip);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		err = l->err ? l->err :
		      dc_error(bs->ctx, DC_ECORRUPT, "layer '%s': not a tar: %s",
			       d->digest, archive_error_string(a));
		archive_read_free(a);
		dc__stream_close(l->s);
		l->s = NULL;
		return err;
	}
	*out = a;
	return 0;
}

/* Read to the end of the stream, where the verifier checks digests. */
static int layer_close(struct squash *q, struct archive *a, struct lr *l,
		       int drain)
{
	int err = 0;

	if (drain && l->s) {
		ssize_t got;

		while ((got = dc__stream_read(l->s, l->buf, 1 << 20)) > 0)
			;
		if (got < 0)
			err = (int)got;
	}
	if (a)
		archive_read_free(a);
	dc__stream_close(l->s);
	l->s = NULL;
	(void)q;
	return err;
}

/* next header: 1 = got one, 0 = end, <0 error */
static int next_header(struct squash *q, struct dc_ctx *ctx,
		       struct archive *a, struct lr *l, int layer,
		       struct archive_entry **e)
{
	int r = archive_read_next_header(a, e);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return 1;
	if (l->err)
		return l->err;
	return dc_error(ctx, DC_ECORRUPT, "layer %d ('%s'): %s", layer,
			q->img->layers[layer].digest, archive_error_string(a));
}

/* Normalized entry path; 1 = skip this entry (root, AUFS metadata). */
static int entry_path(struct squash *q, struct dc_ctx *ctx,
		      struct archive_entry *e, int layer, char **out)
{
	const char *name = archive_entry_pathname(e);
	char *p = NULL;
	const char *base;
	int err;

	*out = NULL;
	if (!name)
		return dc_error(ctx, DC_ECORRUPT,
				"layer %d: entry without a name", layer);
	while (*name == '/' || (name[0] == '.' && name[1] == '/'))
		name += name[0] == '.' ? 2 : 1;
	if (!*name || !strcmp(name, "."))
		return 1;
	if ((err = dc__path_clean(ctx, &p, name, "layer entry")) < 0)
		return dc_error_prefix(ctx, "layer %d ('%s')", layer,
				       q->img->layers[layer].digest);
	base = strrchr(p, '/');
	base = base ? base + 1 : p;
	/* AUFS bookkeeping: .wh..wh.plnk/, .wh..wh.aufs, .wh..wh.orph */
	if ((!strncmp(base, ".wh..wh.", 8) && strcmp(base, ".wh..wh..opq")) ||
	    (!strncmp(p, ".wh..wh.", 8) && strcmp(p, ".wh..wh..opq"))) {
		free(p);
		return 1;
	}
	*out = p;
	return 0;
}

/*
 * Is PATH (from layer L; DIR: a directory) hidden by anything above
 * layer L? A non-directory is also hidden by an entry below its path in
 * a layer above: the upper directory replaces it, as overlayfs shows a
 * lower file or symlink under an upper directory (moby's overlay2
 * applies each layer into a directory of its own, where the parent is
 * made: pkg/archive/diff.go UnpackLayer, moby v20.10.0). So no entry
 * passes through a lower symlink: issue 17, an entry written below
 * "evil -> /tmp" reached the host's /tmp on extraction.
 */
static int hidden(struct squash *q, const char *path, int layer, int dir)
{
	struct node *n = q->map.root;

	if (!n)
		return 0;
	if (n->opq > layer && strcmp(path, ".wh..wh..opq"))
		return 1;
	while (*path) {
		const char *sl = strchr(path, '/');
		size_t len = sl ? (size_t)(sl - path) : strlen(path);

		if (!(n = child(&q->map, n, path, len)))
			return 0;
		if (!sl)
			return n->win != NO_LAYER || n->del > layer ||
			       (!dir && n->dirup > layer);
		if (n->del > layer || n->opq > layer)
			return 1;
		path = sl + 1;
	}
	return 0;
}

static int is_whiteout(const char *path, const char **base_out)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	*base_out = base;
	return !strncmp(base, ".wh.", 4);
}

/*
 * Pass 1 reads the layers' headers on threads, one layer each, and
 * applies them top down here: libarchive's parsing is most of its time,
 * and the rules need the layers above first.
 */
struct p1rec {
	char *path;		/* normalized */
	char *link;		/* hardlink target as the tar has it, or NULL */
	unsigned char dir;
};

struct p1layer {
	struct p1rec *rec;
	size_t n, cap;
	int done;		/* under p1.mu */
	struct dc_err err;	/* the scan's failure */
};

struct p1 {
	struct squash *q;
	struct p1layer *ly;	/* by layer */
	int next;		/* the next layer to scan, top down */
	volatile sig_atomic_t stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

#define P1_THREADS_MAX 8

/* The entries of layer L as pass 1 needs them, into LY. */
static int scan_layer(struct squash *q, const struct dc_bsrc *bs, int L,
		      char *buf, struct p1layer *ly)
{
	struct dc_ctx *ctx = bs->ctx;
	struct archive *a = NULL;
	struct archive_entry *e;
	struct lr l = { NULL, buf, 0 };
	int err, got;

	if ((err = layer_open(q, bs, L, 0, &a, &l)) < 0)
		return err;
	while ((got = next_header(q, ctx, a, &l, L, &e)) == 1) {
		const char *link = archive_entry_hardlink(e);
		struct p1rec *rc;
		char *path = NULL;

		if ((err = dc__check_intr(ctx)) < 0 ||
		    (err = entry_path(q, ctx, e, L, &path)) < 0)
			goto out;
		if (err == 1)
			continue;	/* the root, AUFS metadata */
		if (ly->n == ly->cap) {
			size_t cap = ly->cap ? ly->cap * 2 : 256;
			struct p1rec *nr = dc__reallocarray(ctx, ly->rec, cap,
							    sizeof(*nr));

			if (!nr) {
				free(path);
				err = DC_ENOMEM;
				goto out;
			}
			ly->rec = nr;
			ly->cap = cap;
		}
		rc = &ly->rec[ly->n++];
		rc->path = path;
		rc->dir = archive_entry_filetype(e) == AE_IFDIR;
		rc->link = NULL;
		if (link && !(rc->link = dc__strdup(ctx, link))) {
			err = DC_ENOMEM;
			goto out;
		}
	}
	err = got < 0 ? got : 0;
out:
	layer_close(q, a, &l, 0);
	return err;
}

static void *p1_main(void *arg)
{
	struct p1 *p = arg;
	struct squash *q = p->q;
	char *buf = dc__malloc(NULL, LR_HEADERS);

	for (;;) {
		struct dc_ctx tctx;
		struct dc_bsrc bs;
		struct p1layer *ly;
		int L, err;

		pthread_mutex_lock(&p->mu);
		L = p->next--;
		pthread_mutex_unlock(&p->mu);
		if (L < q->from)
			break;
		ly = &p->ly[L];
		dc__bsrc_clone(q->bs, &tctx, &bs, &p->stop);
		if (q->twin[L] != L)	/* its twin above is scanned */
			err = 0;
		else
			err = buf ? scan_layer(q, &bs, L, buf, ly) :
			      dc__enomem(&tctx);
		pthread_mutex_lock(&p->mu);
		if (err < 0) {
			dc__err_save(&ly->err, err, &tctx);
			__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
		}
		ly->done = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	free(buf);
	return NULL;
}

static void p1_release(struct p1layer *ly)
{
	size_t i;

	for (i = 0; i < ly->n; i++) {
		free(ly->rec[i].path);
		free(ly->rec[i].link);
	}
	free(ly->rec);
	ly->rec = NULL;
	ly->n = ly->cap = 0;
}

static int pass1_apply(struct squash *q, int L, struct p1layer *ly);
static int cmp_int(const void *a, const void *b);

/*
 * Layer L was interrupted: by a signal, or by the failure of a layer
 * below it, scanned at the same time. The failing layer, if any, tells
 * why (the others stop soon once one failed).
 */
static struct p1layer *p1_cause(struct p1 *p, int from, int L)
{
	int k;

	for (k = L - 1; k >= from; k--) {
		struct p1layer *ly = &p->ly[k];

		pthread_mutex_lock(&p->mu);
		while (!ly->done)
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
		if (ly->err.code < 0 && ly->err.code != DC_EINTR)
			return ly;
	}
	return &p->ly[L];
}

static int pass1(struct squash *q)
{
	struct p1 p;
	pthread_t th[P1_THREADS_MAX];
	size_t want = dc__threads(q->ctx), nth;
	int L, err = 0;

	memset(&p, 0, sizeof(p));
	p.q = q;
	p.next = q->to - 1;
	if (!(p.ly = dc__calloc(q->ctx, q->img->nlayers, sizeof(*p.ly))))
		return DC_ENOMEM;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	if (want > (size_t)(q->to - q->from))
		want = (size_t)(q->to - q->from);
	if (want > P1_THREADS_MAX)
		want = P1_THREADS_MAX;
	if (!(nth = dc__threads_start(th, want, p1_main, &p)))
		p1_main(&p);	/* no threads: every layer here, first */
	for (L = q->to - 1; L >= q->from; L--) {
		struct p1layer *ly = &p.ly[L];

		pthread_mutex_lock(&p.mu);
		while (!ly->done)
			pthread_cond_wait(&p.cv, &p.mu);
		pthread_mutex_unlock(&p.mu);
		if (ly->err.code == DC_EINTR)
			ly = p1_cause(&p, q->from, L);
		if (ly->err.code < 0) {
			err = dc__err_restore(q->ctx, &ly->err);
			break;
		}
		/* a layer listed again: its topmost twin's entries */
		if ((err = pass1_apply(q, L, &p.ly[q->twin[L]])) < 0)
			break;
		if (bsearch(&L, q->vlist, (size_t)q->nvlist, sizeof(L), cmp_int))
			p1_release(&p.ly[q->twin[L]]);	/* the lowest twin */
	}
	if (err < 0)
		__atomic_store_n(&p.stop, 1, __ATOMIC_RELAXED);
	dc__threads_join(th, nth);
	for (L = q->from; L < q->to; L++)
		p1_release(&p.ly[L]);
	free(p.ly);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	return err;
}

/*
 * N (at PATH) won in layer L: its ancestors hold an entry from L, and
 * no ancestor may be a non-directory of the same layer, nor may N be one
 * with an entry of L below it. Below a file, no filesystem holds that
 * tree: moby's applier fails on it (the parent is not a directory:
 * pkg/archive/diff.go UnpackLayer opens the path through its parent).
 * Below a symlink, moby follows the link, safely only because it applies
 * layers chrooted into the root (pkg/chrootarchive); a tar extracted
 * elsewhere would follow it out of the root, so this refuses it.
 */
/* The length of PATH's prefix that ancestor A of N (at PATH) stands for. */
static size_t parent_len(const char *path, const struct node *n,
			 const struct node *a)
{
	size_t len = strlen(path);

	for (; n && n != a; n = n->parent)
		len -= n->nlen + (len > n->nlen);
	return len;
}

static int same_layer_parent(struct squash *q, struct node *n, int L,
			     const char *path)
{
	struct node *a;

	if (!n->win_dir && n->dirup == L)
		return dc_error(q->ctx, DC_ECORRUPT,
				"layer %d ('%s'): '%s' is not a directory but the "
				"layer has entries below it", L,
				q->img->layers[L].digest, path);
	for (a = n->parent; a && a != q->map.root; a = a->parent) {
		if (a->win == L && !a->win_dir)
			return dc_error(q->ctx, DC_ECORRUPT,
					"layer %d ('%s'): '%s': its parent '%.*s' is "
					"not a directory in the same layer", L,
					q->img->layers[L].digest, path,
					(int)parent_len(path, n, a), path);
	}
	/* an ancestor set already has its own set too: amortized O(1) */
	for (a = n->parent; a && a->dirup == NO_LAYER; a = a->parent)
		a->dirup = L;
	return 0;
}

/* Room for element N of *P (CAP of SIZE bytes): *P, grown to twice its
 * size if need be, or NULL. */
static void *grow(struct dc_ctx *ctx, void **p, size_t *cap, size_t n,
		  size_t size)
{
	if (n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *np = dc__reallocarray(ctx, *p, nc, size);

		if (!np)
			return NULL;
		*p = np;
		*cap = nc;
	}
	return *p;
}

/* Pass 1 for layer L, from its scanned entries LY (top down). */
static int pass1_apply(struct squash *q, int L, struct p1layer *ly)
{
	struct dc_ctx *ctx = q->ctx;
	size_t i;
	int err = 0;

	for (i = 0; i < ly->n; i++) {
		struct p1rec *rc = &ly->rec[i];
		char *path = rc->path;
		const char *base;
		struct node *n;

		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
		if (is_whiteout(path, &base)) {
			size_t dl = (size_t)(base - path);
			struct dc_buf t = DC_BUF_INIT;

			if (!strcmp(base, ".wh.")) {
				err = dc_error(ctx, DC_ECORRUPT,
					       "layer %d: invalid whiteout '%s'",
					       L, path);
				goto out;
			}
			if (hidden(q, path, L, 1))
				continue;
			if (!strcmp(base, ".wh..wh..opq")) {
				if (dl) {
					if ((err = dc__buf_add(ctx, &t, path, dl - 1)) < 0)
						goto out;
				} else if ((err = dc__buf_add(ctx, &t, "", 0)) < 0) {
					goto out;
				}
				err = map_put(ctx, &q->map, t.data, &n);
				if (!err && n->opq == NO_LAYER)
					n->opq = L;
			} else {
				if ((err = dc__buf_add(ctx, &t, path, dl)) == 0)
					err = dc__buf_addstr(ctx, &t, base + 4);
				if (!err)
					err = map_put(ctx, &q->map, t.data, &n);
				if (!err && n->del == NO_LAYER)
					n->del = L;
			}
			dc__buf_release(&t);
			if (err < 0)
				goto out;
			if (q->keep_wh) {
				if ((err = map_put(ctx, &q->map, path, &n)) < 0)
					goto out;
				if (n->win == NO_LAYER) {
					n->win = L;
					q->nwin[L]++;
				}
			}
			continue;
		}
		if (rc->link) {
			struct link *al = grow(ctx, (void **)&q->all, &q->capall,
					       q->nall, sizeof(*al));
			char *t = NULL;

			if (!al) {
				err = DC_ENOMEM;
				goto out;
			}
			if ((err = dc__path_clean(ctx, &t, rc->link,
						  "hardlink target")) < 0)
				goto out;
			al = &q->all[q->nall];
			memset(al, 0, sizeof(*al));
			if (!(al->path = dc__strdup(ctx, path))) {
				free(t);
				err = DC_ENOMEM;
				goto out;
			}
			q->nall++;
			al->target = t;
			al->layer = L;
		}
		if (hidden(q, path, L, rc->dir))
			continue;
		if ((err = map_put(ctx, &q->map, path, &n)) < 0)
			goto out;
		n->win = L;
		n->win_dir = rc->dir;
		q->nwin[L]++;
		if (!n->win_dir && n->del == NO_LAYER)
			n->del = L;
		if ((err = same_layer_parent(q, n, L, path)) < 0)
			goto out;
		if (rc->link) {
			struct link *lk;
			char *t = NULL;

			if ((err = dc__path_clean(ctx, &t, rc->link,
						  "hardlink target")) < 0) {
				err = dc_error_prefix(ctx, "layer %d", L);
				goto out;
			}
			if (!grow(ctx, (void **)&q->links, &q->caplinks, q->nlinks,
				  sizeof(*lk))) {
				free(t);
				err = DC_ENOMEM;
				goto out;
			}
			lk = &q->links[q->nlinks++];
			memset(lk, 0, sizeof(*lk));
			lk->target = t;
			lk->layer = L;
			if (!(lk->path = dc__strdup(ctx, path))) {
				err = DC_ENOMEM;
				goto out;
			}
			n->link = q->nlinks;	/* 1 + its index */
		}
	}
	return 0;
out:
	return err;
}

static int cmp_all(const void *a, const void *b)
{
	const struct link *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->layer > y->layer) - (x->layer < y->layer);
}

static int cmp_target(const void *a, const void *b)
{
	const struct tidx *x = a, *y = b;
	int c = strcmp(x->target, y->target);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * The first of the N elements of SIZE bytes at BASE, sorted by the
 * string pointer at offset OFF of each, whose string is KEY, or N.
 */
static size_t str_lower(const void *base, size_t n, size_t size, size_t off,
			const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s;

		memcpy(&s, (const char *)base + mid * size + off, sizeof(s));
		if (strcmp(s, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first of the Q->all entries at PATH (sorted by path), or NALL. */
static size_t all_first(const struct squash *q, const char *path)
{
	return str_lower(q->all, q->nall, sizeof(*q->all),
			 offsetof(struct link, path), path);
}

/* The first of the Q->bytarget entries whose target is PATH, or NLINKS. */
static size_t target_first(const struct squash *q, const char *path)
{
	return str_lower(q->bytarget, q->nlinks, sizeof(*q->bytarget),
			 offsetof(struct tidx, target), path);
}

/* Was a parent of PATH deleted, replaced or made opaque above LAYER? */
static int parent_hidden(struct squash *q, const char *path, int layer)
{
	struct node *n = q->map.root;

	if (!n)
		return 0;
	if (n->opq > layer)
		return 1;
	for (;;) {
		const char *sl = strchr(path, '/');

		if (!sl || !(n = child(&q->map, n, path, (size_t)(sl - path))))
			return 0;
		if (n->del > layer || n->opq > layer)
			return 1;
		path = sl + 1;
	}
}

/*
 * Winning hardlinks whose targets, followed through winning hardlinks,
 * come back to them (a link to itself, a cycle) are refused: moby's
 * applier cannot make them either (link() finds no target; an entry
 * being extracted is removed first: pkg/archive/diff.go UnpackLayer,
 * moby v20.10.0), nor can tar.
 */
static int check_cycles(struct squash *q)
{
	unsigned char *st = dc__calloc(q->ctx, q->nlinks ? q->nlinks : 1, 1);
	size_t i, *path = dc__calloc(q->ctx, q->nlinks ? q->nlinks : 1,
				      sizeof(*path));
	int err = 0;

	if (!st || !path) {
		err = DC_ENOMEM;
		goto out;
	}
	for (i = 0; i < q->nlinks && !err; i++) {
		size_t cur = i, np = 0, k;

		while (!st[cur]) {
			struct node *t = map_get(&q->map, q->links[cur].target);

			st[cur] = 1;
			path[np++] = cur;
			if (!t || !t->link || t->win > q->links[cur].layer)
				break;
			if (st[t->link - 1] == 1) {
				err = dc_error(q->ctx, DC_ECORRUPT,
					       "layer %d: '%s': hardlink to '%s' "
					       "makes a cycle of hardlinks",
					       q->links[cur].layer,
					       q->links[cur].path,
					       q->links[cur].target);
				break;
			}
			cur = t->link - 1;
		}
		for (k = 0; k < np; k++)
			st[path[k]] = 2;
	}
out:
	free(st);
	free(path);
	return err;
}

/*
 * A hardlink keeps pointing at its target if the target's winning entry
 * is the one the link saw: at or below the link's layer. Otherwise its
 * content, as of the link's layer, is spooled in pass 2.
 */
static int resolve_links(struct squash *q, int *lowest)
{
	size_t i;
	int err;

	*lowest = q->from;
	q->max_need = NO_LAYER;
	if ((err = check_cycles(q)) < 0)
		return err;
	if (q->nall)
		qsort(q->all, q->nall, sizeof(*q->all), cmp_all);
	for (i = 0; i < q->nlinks; i++) {
		struct link *lk = &q->links[i];
		struct node *t = map_get(&q->map, lk->target), *p;
		int hops;

		/* a target whose own entry is a hardlink: follow the chain */
		for (hops = 0; hops < 16; hops++) {
			size_t j, best = (size_t)-1;

			if (t && t->win != NO_LAYER && t->win <= lk->layer)
				break;
			for (j = all_first(q, lk->target);
			     j < q->nall && !strcmp(q->all[j].path, lk->target) &&
			     q->all[j].layer <= lk->layer; j++)
				best = j;
			if (best == (size_t)-1)
				break;
			{
				char *nt = dc__strdup(q->ctx, q->all[best].target);

				if (!nt)
					return DC_ENOMEM;
				free(lk->target);
				lk->target = nt;
			}
			t = map_get(&q->map, lk->target);
		}
		if (t && t->win != NO_LAYER && t->win <= lk->layer && t->win_dir)
			/* link() refuses a directory, so does moby's applier */
			return dc_error(q->ctx, DC_ECORRUPT,
					"layer %d: '%s': hardlink to the directory '%s'",
					lk->layer, lk->path, lk->target);
		if (t && t->win != NO_LAYER && t->win <= lk->layer)
			continue;
		if (!t && q->from > 0 && !parent_hidden(q, lk->target, lk->layer))
			/* in the kept layers: untouched unless a parent of it
			 * was deleted, replaced or made opaque above the link */
			continue;
		if ((err = map_put(q->ctx, &q->map, lk->path, &p)) < 0 ||
		    (err = map_put(q->ctx, &q->map, lk->target, &t)) < 0)
			return err;
		p->mat = 1;
		if (t->need_src < lk->layer)
			t->need_src = lk->layer;
		if (q->max_need < lk->layer)
			q->max_need = lk->layer;
		*lowest = 0;
	}
	if (q->nlinks) {
		if (!(q->bytarget = dc__calloc(q->ctx, q->nlinks,
					       sizeof(*q->bytarget))))
			return DC_ENOMEM;
		for (i = 0; i < q->nlinks; i++) {
			q->bytarget[i].target = q->links[i].target;
			q->bytarget[i].i = i;
		}
		qsort(q->bytarget, q->nlinks, sizeof(*q->bytarget), cmp_target);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The ring */

/*
 * The ring: uncompressed output to a file of our own goes through a few
 * large aligned buffers. Pass 2 fills them in order (headers from
 * libarchive, the content of large files straight from the source with
 * pread), one thread hashes them in order for the diff_id, two others
 * write them at their offsets. With DIRECT the writes bypass the page
 * cache (O_DIRECT): on the bench VM, fresh page-cache pages cost up to
 * 1 s per GB when the host has reclaimed the guest's free memory, and
 * no one reads an OCI blob or a rootfs file back. Where O_DIRECT is
 * refused, the writes are buffered.
 *
 * When every squashed layer is uncompressed, the ring also verifies
 * them (size, digest, diff_id), instead of the blob pool: a thread reads
 * the layers in order, and the hashing thread hashes each chunk of them
 * together with as much output (dc__hash_update2): both come at about
 * the same pace, and two streams cost a core little more than one. The
 * output never waits for the input; while no output is ready, the input
 * is hashed on its own, and what is left of it at the end. Pass 1 then
 * has every core to itself. On the bench VM: pass 1 0.17 -> 0.09 s,
 * the squash of the 1 GB image 1.03 -> 0.85 s, 1.7 -> 1.45 CPU-s.
 */
#define RING_N 16
#define RING_CAP (1u << 20)
#define DIO_ALIGN 4096u
#define RING_WRITERS 2		/* writes in flight */
#define VER_CHUNK RING_CAP	/* the input, read to be verified */
#define VER_N 4

struct ring {
	struct squash *q;
	int fd;
	uint64_t base;		/* where the output starts in FD */
	int final;		/* the output itself (DIRECT asked for) */
	int direct;		/* O_DIRECT is on */
	unsigned char *mem;	/* RING_N buffers of RING_CAP */
	size_t len[RING_N];
	size_t fill;		/* bytes in buffer SEQ */
	uint64_t seq;		/* the buffer being filled */
	uint64_t ready;		/* buffers [0, ready) are filled */
	uint64_t hashed, wrote;	/* buffers [0, n) hashed, written */
	uint64_t wnext;		/* the next buffer for a writer */
	unsigned char wdone[RING_N];	/* written, past WROTE */
	int last;		/* READY is all */
	int stop;		/* a failure: everyone out */
	int werr;		/* errno of the failed write */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th[2 + RING_WRITERS];
	int nth;
	/* verifying layers [q->from, + nv): a reader thread reads them
	 * into VER_N buffers, the hashing thread hashes them */
	size_t nv;
	unsigned char *vmem;
	size_t vlen[VER_N];	/* bytes read; 0: the layer's end */
	uint64_t vread, vused;	/* buffers [0, vread) read, [0, vused) hashed */
	struct dc_err verr;	/* verification failed (code < 0) */
	volatile sig_atomic_t vintr;	/* the ring stops: so does it */
	struct dc_ctx vctx;	/* the reader's */
	struct dc_bsrc vbs;
	/* the hashing thread's: layer hl, HGOT bytes of it hashed, the
	 * first HOFF of buffer vused among them */
	size_t hl, hoff;
	uint64_t hgot;
	struct dc_hash *hh;
	struct dc_ctx hctx;
};

static unsigned char *ring_buf(struct ring *g, uint64_t i)
{
	return g->mem + (size_t)(i % RING_N) * RING_CAP;
}

static void ring_done(struct ring *g, uint64_t *done)
{
	pthread_mutex_lock(&g->mu);
	(*done)++;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* A verification failure (why in CTX) stops the ring; ring_error tells. */
static void ver_fail(struct ring *g, int err, const struct dc_ctx *ctx)
{
	pthread_mutex_lock(&g->mu);
	if (!g->verr.code)
		dc__err_save(&g->verr, err, ctx);
	g->stop = 1;
	g->vintr = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static unsigned char *ver_buf(struct ring *g, uint64_t i)
{
	return g->vmem + (size_t)(i % VER_N) * VER_CHUNK;
}

/* The reader: the layers' raw bytes, in order, a chunk a buffer. */
static void *ver_read_main(void *arg)
{
	struct ring *g = arg;
	const struct dc_image *img = g->q->img;
	size_t L;

	for (L = 0; L < g->nv; L++) {
		struct dc_stream *s;
		int err;

		if ((err = dc__blob_open_tar(&g->vbs, &img->layers[g->q->vlist[L]],
					     0, &s)) < 0) {
			ver_fail(g, err, &g->vctx);
			return NULL;
		}
		for (;;) {
			uint64_t k;
			ssize_t got;
			int stop;

			pthread_mutex_lock(&g->mu);
			while (!g->stop && g->vread - g->vused >= VER_N)
				pthread_cond_wait(&g->cv, &g->mu);
			k = g->vread;
			stop = g->stop;
			pthread_mutex_unlock(&g->mu);
			got = stop ? 0 : dc__stream_read(s, ver_buf(g, k), VER_CHUNK);
			if (stop || got < 0) {
				if (got < 0)
					ver_fail(g, (int)got, &g->vctx);
				dc__stream_close(s);
				return NULL;
			}
			pthread_mutex_lock(&g->mu);
			g->vlen[k % VER_N] = (size_t)got;
			g->vread++;
			pthread_cond_broadcast(&g->cv);
			pthread_mutex_unlock(&g->mu);
			if (!got)
				break;
		}
		dc__stream_close(s);
	}
	return NULL;
}

/*
 * The input the hashing thread is to hash next, at *P: how many bytes,
 * 0 when none is read yet or all is done (or verification failed).
 * Buffers hashed and layer ends are dealt with on the way.
 */
static size_t ver_avail(struct ring *g, const unsigned char **p)
{
	for (;;) {
		uint64_t k;
		size_t len;
		int have;

		pthread_mutex_lock(&g->mu);
		have = g->vused < g->vread && !g->verr.code;
		k = g->vused;
		pthread_mutex_unlock(&g->mu);
		if (!have)
			return 0;
		len = g->vlen[k % VER_N];
		if (len > g->hoff) {
			*p = ver_buf(g, k) + g->hoff;
			return len - g->hoff;
		}
		if (!len) {	/* layer hl is read: as expected? */
			char dig[DC_DIGEST_MAX];
			int err;

			dc__hash_final(g->hh, dig);
			if ((err = dc__blob_verdict(&g->hctx, g->q->bs,
						    &g->q->img->layers[g->q->vlist[g->hl]],
						    g->hgot, dig)) < 0) {
				ver_fail(g, err, &g->hctx);
				return 0;
			}
			g->hl++;
			g->hgot = 0;
		}
		g->hoff = 0;
		pthread_mutex_lock(&g->mu);
		g->vused++;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
}

/* Hash N bytes of output, each beside a byte of the input if one is
 * read: the output never waits for the input. */
static void hash_out(struct ring *g, const unsigned char *p, size_t n)
{
	struct dc_hash *h = g->q->h_diff;

	while (n) {
		const unsigned char *in;
		size_t k = g->nv ? ver_avail(g, &in) : 0;

		if (!k) {
			dc__hash_update(h, p, n);
			return;
		}
		if (k > n)
			k = n;
		dc__hash_update2(g->hh, in, k, h, p, k);
		g->hoff += k;
		g->hgot += k;
		p += k;
		n -= k;
	}
}

/* Hash what input is read, on its own; 0 = none was. */
static int hash_in(struct ring *g)
{
	const unsigned char *in;
	size_t k = ver_avail(g, &in);

	if (!k)
		return 0;
	dc__hash_update(g->hh, in, k);
	g->hoff += k;
	g->hgot += k;
	return 1;
}

static void *ring_hash_main(void *arg)
{
	struct ring *g = arg;
	int ok;

	for (;;) {
		uint64_t i;

		pthread_mutex_lock(&g->mu);
		while (!g->stop && g->hashed >= g->ready && !g->last) {
			/* no output to hash: input then, once pass 2 is on */
			if (g->ready && g->vused < g->vread) {
				pthread_mutex_unlock(&g->mu);
				hash_in(g);
				pthread_mutex_lock(&g->mu);
				continue;
			}
			pthread_cond_wait(&g->cv, &g->mu);
		}
		if (g->stop || g->hashed >= g->ready) {
			ok = !g->stop;
			pthread_mutex_unlock(&g->mu);
			break;
		}
		i = g->hashed;
		pthread_mutex_unlock(&g->mu);
		hash_out(g, ring_buf(g, i), g->len[i % RING_N]);
		ring_done(g, &g->hashed);
	}
	/* the output is all hashed: the rest of the input on its own */
	while (ok && g->hl < g->nv) {
		pthread_mutex_lock(&g->mu);
		while (!g->stop && g->vused >= g->vread)
			pthread_cond_wait(&g->cv, &g->mu);
		ok = !g->stop;
		pthread_mutex_unlock(&g->mu);
		if (ok)
			hash_in(g);
	}
	return NULL;
}

/* Turn O_DIRECT off (both writers may ask); 0 or an errno. */
static int ring_buffered(struct ring *g)
{
	int fl, e = 0;

	pthread_mutex_lock(&g->mu);
	if ((fl = fcntl(g->fd, F_GETFL)) < 0 ||
	    ((fl & O_DIRECT) && fcntl(g->fd, F_SETFL, fl & ~O_DIRECT) < 0))
		e = errno;
	else
		__atomic_store_n(&g->direct, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&g->mu);
	return e;
}

/* Write the IOV (N buffers) at AT, all of it; 0 or an errno. */
static int ring_pwritev(struct ring *g, struct iovec *iov, int n, off_t at)
{
	int retried = 0;

	while (n) {
		ssize_t w = pwritev(g->fd, iov, n, at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EINVAL && g->final && !retried) {
			/* an alignment this file system will not take
			 * with O_DIRECT: buffered, then */
			int e = ring_buffered(g);

			if (e)
				return e;
			retried = 1;
			continue;
		}
		if (w <= 0)
			return w < 0 ? errno : EIO;
		at += w;
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Several buffers a write: deeper queues, fewer calls. */
#define RING_BATCH 4

static void *ring_write_main(void *arg)
{
	struct ring *g = arg;

	for (;;) {
		struct iovec iov[RING_BATCH];
		uint64_t i, k, j;
		int e;

		pthread_mutex_lock(&g->mu);
		while (!g->stop && g->wnext >= g->ready && !g->last)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->stop || g->wnext >= g->ready) {
			pthread_mutex_unlock(&g->mu);
			break;
		}
		i = g->wnext;
		k = g->ready - i < RING_BATCH ? g->ready - i : RING_BATCH;
		g->wnext += k;
		pthread_mutex_unlock(&g->mu);
		for (j = 0; j < k; j++) {
			iov[j].iov_base = ring_buf(g, i + j);
			/* the last one padded to a whole block (ring_end) */
			iov[j].iov_len = (g->len[(i + j) % RING_N] + DIO_ALIGN - 1) &
					 ~(size_t)(DIO_ALIGN - 1);
		}
		e = ring_pwritev(g, iov, (int)k, (off_t)(g->base + i * RING_CAP));
		/* buffered after all, into the output: start its writeback,
		 * so that the final sync waits for the tail only */
		if (!e && g->final && !__atomic_load_n(&g->direct, __ATOMIC_RELAXED))
			(void)sync_file_range(g->fd, (off_t)(g->base + i * RING_CAP),
					      (off_t)(k * RING_CAP),
					      SYNC_FILE_RANGE_WRITE);
		if (e) {
			pthread_mutex_lock(&g->mu);
			g->werr = e;
			g->stop = 1;
			pthread_cond_broadcast(&g->cv);
			pthread_mutex_unlock(&g->mu);
			break;
		}
		pthread_mutex_lock(&g->mu);
		for (j = 0; j < k; j++)
			g->wdone[(i + j) % RING_N] = 1;
		while (g->wrote < g->wnext && g->wdone[g->wrote % RING_N])
			g->wdone[g->wrote++ % RING_N] = 0;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
	return NULL;
}

static int ring_error(struct ring *g)
{
	struct squash *q = g->q;

	if (g->verr.code)
		return dc__err_restore(q->ctx, &g->verr);
	return dc_error(q->ctx, DC_EIO, "'%s': write failed: %s", q->out.label,
			g->werr ? strerror(g->werr) : "interrupted");
}

/* Hand buffer SEQ over and wait for the next one to be free. */
static int ring_submit(struct ring *g)
{
	int stop;

	pthread_mutex_lock(&g->mu);
	g->len[g->seq % RING_N] = g->fill;
	g->ready = g->seq + 1;
	pthread_cond_broadcast(&g->cv);
	while (!g->stop && (g->hashed + RING_N <= g->ready ||
			    g->wrote + RING_N <= g->ready))
		pthread_cond_wait(&g->cv, &g->mu);
	stop = g->stop;
	pthread_mutex_unlock(&g->mu);
	g->seq++;
	g->fill = 0;
	return stop ? ring_error(g) : 0;
}

static int ring_put(struct ring *g, const void *p, size_t n)
{
	int err;

	while (n) {
		size_t c = RING_CAP - g->fill;

		if (!c) {
			if ((err = ring_submit(g)) < 0)
				return err;
			continue;
		}
		if (c > n)
			c = n;
		memcpy(ring_buf(g, g->seq) + g->fill, p, c);
		g->fill += c;
		g->q->out.written += c;	/* bytes handed to the ring */
		p = (const char *)p + c;
		n -= c;
	}
	return 0;
}

/* LEN bytes of FD at OFF, read straight into the ring. */
static int ring_pread(struct ring *g, int fd, uint64_t off, uint64_t len)
{
	int err;

	while (len) {
		size_t c = RING_CAP - g->fill;
		ssize_t got;

		if (!c) {
			if ((err = ring_submit(g)) < 0)
				return err;
			continue;
		}
		if (c > len)
			c = (size_t)len;
		got = pread(fd, ring_buf(g, g->seq) + g->fill, c, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return dc_error(g->q->ctx, got < 0 ? DC_EIO : DC_ECORRUPT,
					"reading a layer: %s", got < 0 ?
					strerror(errno) : "unexpected end of file");
		g->fill += (size_t)got;
		g->q->out.written += (uint64_t)got;
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	return 0;
}

/* A file of our own: regular, empty, at offset 0, not O_APPEND. */
/* A regular file whose end we are at: the output goes there. */
static int can_ring(int fd)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && !(fl & O_APPEND) && fstat(fd, &st) == 0 &&
	       S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == st.st_size;
}

static int ring_start(struct squash *q, int direct)
{
	struct ring *g = dc__calloc(q->ctx, 1, sizeof(*g));
	void *mem = NULL;

	if (!g)
		return DC_ENOMEM;
	if (posix_memalign(&mem, DIO_ALIGN, (size_t)RING_N * RING_CAP) ||
	    (q->ring_verifies &&
	     (!(g->vmem = dc__malloc(NULL, (size_t)VER_N * VER_CHUNK)) ||
	      dc__hash_new(q->ctx, &g->hh) < 0))) {
		free(g->vmem);
		free(mem);
		free(g);
		return dc__enomem(q->ctx);
	}
	if (q->ring_verifies) {
		g->nv = (size_t)q->nvlist;
		dc__bsrc_clone(q->bs, &g->vctx, &g->vbs, &g->vintr);
	}
	g->q = q;
	g->fd = q->out.fd;
	g->base = (uint64_t)lseek(g->fd, 0, SEEK_CUR);	/* can_ring() */
	g->mem = mem;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->final = direct != 0;
	if (direct && g->base % DIO_ALIGN == 0) {
		int fl = fcntl(g->fd, F_GETFL);

		g->direct = fl >= 0 && fcntl(g->fd, F_SETFL, fl | O_DIRECT) == 0;
	}
	q->ring = g;
	/* a pipeline of fixed shape, not a share of the cores: one hashing
	 * thread, the writers, the verifying reader */
	if (!dc__threads_start(g->th, 1, ring_hash_main, g))
		return dc_error(q->ctx, DC_ENOMEM, "cannot start a thread");
	g->nth = 1 + (int)dc__threads_start(&g->th[1], RING_WRITERS,
					    ring_write_main, g);
	if (g->nth < 1 + RING_WRITERS)
		return dc_error(q->ctx, DC_ENOMEM, "cannot start a thread");
	if (g->nv) {
		if (!dc__threads_start(&g->th[g->nth], 1, ver_read_main, g))
			return dc_error(q->ctx, DC_ENOMEM,
					"cannot start a thread");
		g->nth++;
	}
	return 0;
}

/*
 * With OK, hand over the last buffer and wait until all is hashed and
 * written; without, stop the threads. Frees the ring either way.
 */
static int ring_end(struct squash *q, int ok)
{
	struct ring *g = q->ring;
	int err = 0;

	if (!g)
		return 0;
	if (ok && g->fill) {
		/* a whole number of blocks for O_DIRECT, cut back below */
		size_t pad = (DIO_ALIGN - g->fill % DIO_ALIGN) % DIO_ALIGN;

		memset(ring_buf(g, g->seq) + g->fill, 0, pad);
		if ((err = ring_submit(g)) < 0)
			ok = 0;
	}
	pthread_mutex_lock(&g->mu);
	if (ok)
		g->last = 1;
	else
		g->stop = g->vintr = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	dc__threads_join(g->th, (size_t)g->nth);
	if (ok && (g->stop || g->hashed != g->ready || g->wrote != g->ready ||
		   g->hl != g->nv))
		err = ring_error(g);
	if (g->direct) {
		int fl = fcntl(g->fd, F_GETFL);

		if (fl >= 0)
			fcntl(g->fd, F_SETFL, fl & ~O_DIRECT);
	}
	/* the padding off, the offset where a streamed write leaves it */
	if (!err && ok &&
	    (ftruncate(g->fd, (off_t)(g->base + q->out.written)) < 0 ||
	     lseek(g->fd, (off_t)(g->base + q->out.written), SEEK_SET) < 0))
		err = dc_error(q->ctx, DC_EIO, "'%s': %s", q->out.label,
			       strerror(errno));
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	dc__hash_free(g->hh);
	free(g->vmem);
	free(g->mem);
	free(g);
	q->ring = NULL;
	return err;
}

/* ------------------------------------------------------------------ */
/* Output */

static int out_file(void *arg, const void *p, size_t n)
{
	struct squash *q = arg;

	if (q->h_blob)
		dc__hash_update(q->h_blob, p, n);
	return dc__out_write(&q->out, p, n);
}

static la_ssize_t aw_write(struct archive *a, void *arg, const void *p,
			   size_t n)
{
	struct squash *q = arg;
	int err;

	(void)a;
	dc__progress(q->ctx, n);	/* the squashed tar, as it grows */
	if (q->ring) {
		/* the stand-in zeros of a copied file are dropped: its
		 * content is in the ring already */
		size_t k = q->skip < n ? (size_t)q->skip : n;

		q->skip -= k;
		if (n > k && (err = ring_put(q->ring, (const char *)p + k,
					     n - k)) < 0) {
			q->err = err;
			return -1;
		}
		return (la_ssize_t)n;
	}
	dc__hash_update(q->h_diff, p, n);
	err = q->enc ? dc__enc_push(q->enc, p, n, out_file, q)
		     : out_file(q, p, n);
	if (err < 0) {
		q->err = err;
		return -1;
	}
	return (la_ssize_t)n;
}

static int aw_error(struct squash *q)
{
	if (q->err)
		return q->err;
	return dc_error(q->ctx, DC_EIO, "writing the squashed layer: %s",
			archive_error_string(q->aw));
}

/* Write N zero bytes (a sparse file's hole, written out). */
static int write_zeros(struct squash *q, int64_t n)
{
	static const char zero[65536];

	while (n > 0) {
		size_t c = n > (int64_t)sizeof(zero) ? sizeof(zero) : (size_t)n;

		if (archive_write_data(q->aw, zero, c) < 0)
			return aw_error(q);
		n -= (int64_t)c;
	}
	return 0;
}

/* Copy an entry's data to the output (WRITE), to the spool at SPOOL
 * (>= 0), or both. */
static int copy_data(struct squash *q, struct archive *a, struct lr *l,
		     int write, int64_t spool, int L, int64_t size)
{
	int64_t pos = 0;
	int err;

	for (;;) {
		const void *p;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(a, &p, &n, &off);

		if (r == ARCHIVE_EOF)
			return write ? write_zeros(q, size - pos) : 0;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return l->err ? l->err :
			       dc_error(q->ctx, DC_ECORRUPT, "layer %d ('%s'): %s",
					L, q->img->layers[L].digest,
					archive_error_string(a));
		if (off < pos || (uint64_t)off + n > (uint64_t)size)
			return dc_error(q->ctx, DC_ECORRUPT,
					"layer %d ('%s'): bad sparse map", L,
					q->img->layers[L].digest);
		if (write && ((err = write_zeros(q, off - pos)) < 0 ||
			      archive_write_data(q->aw, p, n) < 0))
			return err < 0 ? err : aw_error(q);
		pos = off + (int64_t)n;
		if (spool >= 0 && pwrite(q->spool_fd, p, n, spool + off) != (ssize_t)n)
			return dc_error(q->ctx, DC_EIO,
					"spooling a hardlink target: %s",
					strerror(errno));
	}
}

static int write_entry(struct squash *q, struct archive_entry *e,
		       const char *path)
{
	struct dc_buf name = DC_BUF_INIT;
	int err;

	/* normalized names; directories end in '/' as moby writes them */
	if ((err = dc__buf_addstr(q->ctx, &name, path)) < 0 ||
	    (archive_entry_filetype(e) == AE_IFDIR &&
	     (err = dc__buf_add(q->ctx, &name, "/", 1)) < 0))
		goto out;
	archive_entry_set_pathname(e, name.data);
	/* holes are written out as zeros: sparse files become plain */
	archive_entry_sparse_clear(e);
	if (archive_entry_hardlink(e)) {
		char *t = NULL;

		if ((err = dc__path_clean(q->ctx, &t, archive_entry_hardlink(e),
					  "hardlink target")) < 0)
			goto out;
		archive_entry_set_hardlink(e, t);
		free(t);
	}
	if (archive_write_header(q->aw, e) < ARCHIVE_WARN)
		err = aw_error(q);
out:
	dc__buf_release(&name);
	return err;
}

/*
 * PATH (a regular file of layer L) is the content the materialized
 * links to it from layer L and above need (until a layer above has it
 * again): spooled once for all of them. *OFF: where, or -1.
 */
static int spool_target(struct squash *q, const char *path, int L,
			uint64_t size, int64_t *off)
{
	size_t j = target_first(q, path), sp = 0;
	int err;

	*off = -1;
	for (; j < q->nlinks && !strcmp(q->bytarget[j].target, path); j++) {
		struct link *lk = &q->links[q->bytarget[j].i];

		if (lk->layer < L)
			continue;
		if (!sp) {
			struct spool *ns;

			if (q->spool_fd < 0 &&
			    (err = dc__tmp_anon(q->ctx, q->spooldir, &q->spool_fd)) < 0)
				return err;
			if (!grow(q->ctx, (void **)&q->spools, &q->capspools,
				  q->nspools, sizeof(*ns)))
				return DC_ENOMEM;
			ns = &q->spools[q->nspools++];
			ns->off = q->spool_end;
			ns->size = size;
			ns->written = 0;
			q->spool_end += size;
			/* a hole at the end reads as zeros too */
			if (ftruncate(q->spool_fd, (off_t)q->spool_end) < 0)
				return dc_error(q->ctx, DC_EIO,
						"spooling a hardlink target: %s",
						strerror(errno));
			sp = q->nspools;
			*off = (int64_t)ns->off;
		}
		lk->sp = sp;
	}
	return 0;
}

/* The materialized hardlink LK (at PATH, entry E): its content, or a
 * hardlink to the link written with the same content before. */
static int write_materialized(struct squash *q, struct archive_entry *e,
			      const char *path, struct link *lk)
{
	struct spool *sp = &q->spools[lk->sp - 1];
	struct dc_stream *s = NULL;
	uint64_t left;
	int err;

	if (sp->written) {
		archive_entry_set_hardlink(e, q->links[sp->written - 1].path);
		archive_entry_set_size(e, 0);
		return write_entry(q, e, path);
	}
	sp->written = (size_t)(lk - q->links) + 1;
	archive_entry_set_hardlink(e, NULL);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)sp->size);
	if ((err = write_entry(q, e, path)) < 0)
		return err;
	if ((err = dc__stream_fd_range(q->ctx, &s, q->spool_fd, (int64_t)sp->off,
				       (int64_t)sp->size, 0)) < 0)
		return err;
	for (left = sp->size; left;) {
		ssize_t got = dc__stream_read(s, q->buf + (1 << 20), 1 << 20);

		if (got <= 0) {
			err = got < 0 ? (int)got : DC_EIO;
			break;
		}
		if (archive_write_data(q->aw, q->buf + (1 << 20),
				       (size_t)got) < 0) {
			err = aw_error(q);
			break;
		}
		left -= (uint64_t)got;
	}
	dc__stream_close(s);
	return err;
}

/*
 * Copy the content of a file at OFF of layer L, which lies at RAWOFF of
 * RAWFD, after its header. libarchive is fed zeros for it, which the
 * callback drops, so that it pads and goes on as it would have.
 */
static int copy_file(struct squash *q, int L, int rawfd, uint64_t rawoff,
		     uint64_t rawlen, uint64_t off, uint64_t size)
{
	int err;

	if (off > rawlen || size > rawlen - off)
		return dc_error(q->ctx, DC_ECORRUPT,
				"layer %d ('%s'): an entry runs past the end",
				L, q->img->layers[L].digest);
	if ((err = ring_pread(q->ring, rawfd, rawoff + off, size)) < 0)
		return err;
	q->skip = size;
	if ((err = write_zeros(q, (int64_t)size)) < 0)
		return err;
	if (q->skip)
		DC_BUG("squash: %llu bytes of a copied file left",
		       (unsigned long long)q->skip);
	return 0;
}

static int pass2_layer(struct squash *q, int L)
{
	const struct dc_desc *d = &q->img->layers[L];
	int rawfd = -1, rawown = 0;
	uint64_t rawoff = 0, rawlen = 0;
	struct dc_ctx *ctx = q->ctx;
	struct archive *a = NULL;
	struct archive_entry *e;
	struct lr l = { NULL, q->buf, 0 };
	char *path = NULL;
	int err, r;

	/* unverified: the pool in dc__squash() verifies it meanwhile */
	if ((err = layer_open(q, q->bs, L, 0, &a, &l)) < 0)
		return err;
	/* an uncompressed layer lying in a seekable source, as it is */
	if (q->ring && L >= q->from && d->comp == DC_COMP_NONE &&
	    dc__blob_range(q->bs, d, &rawfd, &rawown, &rawoff,
			   &rawlen) == 0 && rawlen != (uint64_t)d->size) {
		if (rawown)
			close(rawfd);
		rawfd = -1;
	}
	while ((r = next_header(q, ctx, a, &l, L, &e)) == 1) {
		struct node *n;
		struct link *lk;
		int64_t spool = -1;
		int write;

		free(path);
		path = NULL;
		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
		if ((err = entry_path(q, ctx, e, L, &path)) < 0)
			goto out;
		if (err == 1)
			continue;
		n = map_get(&q->map, path);
		write = L >= q->from && n && n->win == L;
		lk = write && n->link ? &q->links[n->link - 1] : NULL;
		/* content a materialized hardlink above will need */
		if (n && n->need_src >= L && archive_entry_filetype(e) == AE_IFREG &&
		    !archive_entry_hardlink(e) &&
		    (err = spool_target(q, path, L,
					(uint64_t)archive_entry_size(e), &spool)) < 0)
			goto out;
		if (write && n->mat) {
			if (lk && lk->sp)
				err = write_materialized(q, e, path, lk);
			else if (lk && q->from == 0)
				/* moby's applier fails on it (link() finds no
				 * target), tar would link what the target's
				 * parents lead to: refused */
				err = dc_error(ctx, DC_ECORRUPT,
					       "layer %d: '%s': hardlink to '%s', "
					       "which is no regular file of the "
					       "image at that layer", L, path,
					       lk->target);
			else	/* the target never existed: keep the link */
				err = write_entry(q, e, path);
			if (err < 0)
				goto out;
			continue;
		}
		if (lk && archive_entry_hardlink(e))
			/* the target may have been retargeted along a chain */
			archive_entry_set_hardlink(e, lk->target);
		if (write && spool < 0 && rawfd >= 0 &&
		    archive_entry_filetype(e) == AE_IFREG &&
		    !archive_entry_hardlink(e) &&
		    archive_entry_sparse_count(e) == 0 &&
		    archive_entry_size(e) >= (la_int64_t)COPY_MIN) {
			/* the content starts where the header ended */
			la_int64_t off = archive_filter_bytes(a, 0);

			if ((err = write_entry(q, e, path)) < 0 ||
			    (err = copy_file(q, L, rawfd, rawoff, rawlen,
					     (uint64_t)off,
					     (uint64_t)archive_entry_size(e))) < 0)
				goto out;
			continue;
		}
		if (write && (err = write_entry(q, e, path)) < 0)
			goto out;
		if ((write || spool >= 0) && archive_entry_size(e) > 0 &&
		    (err = copy_data(q, a, &l, write, spool, L,
				     archive_entry_size(e))) < 0)
			goto out;
	}
	err = r < 0 ? r : 0;
out:
	free(path);
	if (rawfd >= 0 && rawown)
		close(rawfd);
	{
		int e2 = layer_close(q, a, &l, err == 0);

		if (!err)
			err = e2;
	}
	return err;
}

static int out_open(struct squash *q, enum dc_comp comp,
		    const struct dc_write_opts *o, int fd, const char *label,
		    int direct)
{
	struct dc_ctx *ctx = q->ctx;
	int err;

	if (fd < 0 && (err = dc__tmp_anon(ctx, q->spooldir, &fd)) < 0)
		return err;
	if ((err = dc__out_init(ctx, &q->out, fd, label)) < 0) {
		close(fd);
		return err;
	}
	q->out_ok = 1;
	/* uncompressed, the blob digest is the diff_id: hash once */
	if ((err = dc__hash_new(ctx, &q->h_diff)) < 0 ||
	    (comp != DC_COMP_NONE && (err = dc__hash_new(ctx, &q->h_blob)) < 0))
		return err;
	if (comp != DC_COMP_NONE &&
	    (err = dc__enc_new(ctx, &q->enc, comp, o ? o->level : 0,
			       o ? o->threads : 0)) < 0)
		return err;
	if (!(q->aw = archive_write_new()))
		return dc__enomem(ctx);
	archive_write_set_format_pax_restricted(q->aw);
	archive_write_set_bytes_in_last_block(q->aw, 1);
	if (comp == DC_COMP_NONE && can_ring(q->out.fd)) {
		/* unblocked: a header reaches the ring before the content
		 * read in after it */
		archive_write_set_bytes_per_block(q->aw, 0);
		if ((err = ring_start(q, direct)) < 0)
			return err;
	}
	if (archive_write_open2(q->aw, q, NULL, aw_write, NULL, NULL) != ARCHIVE_OK)
		return aw_error(q);
	return 0;
}

/*
 * A layer listed more than once (by digest) is verified and scanned
 * once: q->twin[L] is the topmost layer with L's digest (L itself for
 * the first), and the ring verifies q->vlist. Pass 2 reads only layers
 * with an entry that wins, or content a hardlink needs. (issue 17: a
 * layer listed 400 times was decompressed and hashed 400 times.)
 */
struct tw {
	const char *digest;
	int L;
};

static int cmp_twin(const void *a, const void *b)
{
	const struct tw *x = a, *y = b;
	int c = strcmp(x->digest, y->digest);

	return c ? c : (x->L > y->L) - (x->L < y->L);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Twins among layers [A, B), through ORD (room for B - A). */
static void twins_in(struct squash *q, struct tw *ord, int a, int b,
		     int verify)
{
	int i, j, k, n = b - a;

	for (i = 0; i < n; i++) {
		ord[i].digest = q->img->layers[a + i].digest;
		ord[i].L = a + i;
	}
	qsort(ord, (size_t)n, sizeof(*ord), cmp_twin);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(ord[j].digest, ord[i].digest); j++)
			;
		/* ord[i..j) share a digest, in layer order */
		for (k = i; k < j; k++)
			q->twin[ord[k].L] = ord[j - 1].L;
		if (verify)
			q->vlist[q->nvlist++] = ord[i].L;
	}
	if (verify)
		qsort(q->vlist, (size_t)q->nvlist, sizeof(*q->vlist), cmp_int);
}

static int find_twins(struct squash *q)
{
	size_t n = q->img->nlayers ? q->img->nlayers : 1;
	struct tw *ord;

	if (!(q->twin = dc__calloc(q->ctx, n, sizeof(*q->twin))) ||
	    !(q->nwin = dc__calloc(q->ctx, n, sizeof(*q->nwin))) ||
	    !(q->vlist = dc__calloc(q->ctx, n, sizeof(*q->vlist))) ||
	    !(ord = dc__calloc(q->ctx, n, sizeof(*ord))))
		return DC_ENOMEM;
	/* the kept layers below only count among themselves */
	twins_in(q, ord, 0, q->from, 0);
	twins_in(q, ord, q->from, q->to, 1);
	free(ord);
	return 0;
}

int dc__squash(const struct dc_bsrc *bs, const struct dc_image *img,
	       size_t from, size_t to, enum dc_comp comp,
	       const struct dc_write_opts *o, const char *spooldir, const char *out_label, int direct,
	       int *fd, struct dc_desc *out)
{
	struct squash q;
	size_t i;
	int L, lowest, err;

	int given = *fd;
	struct dc_cpool *pool = NULL, *low = NULL;

	*fd = -1;
	memset(&q, 0, sizeof(q));
	q.ctx = bs->ctx;
	q.bs = bs;
	q.img = img;
	q.from = (int)from;
	q.to = (int)to;
	q.keep_wh = from > 0;
	q.spooldir = spooldir;
	q.spool_fd = -1;
	if (from >= to || to > img->nlayers)
		DC_BUG("squash range [%zu, %zu) of %zu layers", from, to,
		       img->nlayers);
	if (!(q.buf = dc__malloc(NULL, 2u << 20))) {
		err = dc__enomem(q.ctx);
		goto out;
	}
	/* uncompressed layers into the ring: its hashing thread verifies
	 * them in pass 2. Else the pool does, while pass 1 reads their
	 * headers and pass 2 copies. Nothing is returned unverified. */
	if (comp == DC_COMP_NONE && (given < 0 || can_ring(given))) {
		q.ring_verifies = q.to - q.from;
		for (L = q.from; L < q.to; L++)
			if (img->layers[L].comp != DC_COMP_NONE)
				q.ring_verifies = 0;
	}
	if ((err = find_twins(&q)) < 0)
		goto out;
	if ((err = dc__cpool_new(bs, &pool)) < 0)
		goto out;
	for (L = q.from + q.ring_verifies; L < q.to; L++)
		if (q.twin[L] == L &&
		    (err = dc__cpool_add_verify(pool, &img->layers[L])) < 0)
			goto out;
	if ((err = dc__cpool_start(pool)) < 0)
		goto out;
	if ((err = pass1(&q)) < 0) {
		err = dc__error_in(q.ctx, bs->label);
		goto out;
	}
	if ((err = resolve_links(&q, &lowest)) < 0) {
		err = dc__error_in(q.ctx, bs->label);
		goto out;
	}
	if ((err = out_open(&q, comp, o, given,
			    out_label ? out_label : "squashed layer", direct)) < 0)
		goto out;
	if (q.ring_verifies && !q.ring)
		DC_BUG("squash: no ring to verify the layers");
	/* kept layers read for a hardlink's content: verified too */
	if (lowest < q.from) {
		if ((err = dc__cpool_new(bs, &low)) < 0)
			goto out;
		for (L = lowest; L < q.from; L++)
			if (q.twin[L] == L &&
			    (err = dc__cpool_add_verify(low, &img->layers[L])) < 0)
				goto out;
		if ((err = dc__cpool_start(low)) < 0)
			goto out;
	}
	for (L = lowest; L < q.to; L++)
		if ((q.nwin[L] || L <= q.max_need) &&
		    (err = pass2_layer(&q, L)) < 0) {
			if (!q.err && err != DC_EIO)
				err = dc__error_in(q.ctx, bs->label);
			goto out;
		}
	if (archive_write_close(q.aw) != ARCHIVE_OK) {
		err = aw_error(&q);
		goto out;
	}
	if (q.enc && (err = dc__enc_finish(q.enc, out_file, &q)) < 0)
		goto out;
	if ((err = dc__out_flush(&q.out)) < 0 ||
	    (err = ring_end(&q, 1)) < 0 ||
	    (err = dc__cpool_wait(pool, q.ctx, 0)) < 0 ||
	    (err = dc__cpool_wait(low, q.ctx, 0)) < 0)
		goto out;
	memset(out, 0, sizeof(*out));
	dc__hash_final(q.h_diff, out->diff_id);
	if (q.h_blob)
		dc__hash_final(q.h_blob, out->digest);
	else
		memcpy(out->digest, out->diff_id, DC_DIGEST_MAX);
	out->size = (int64_t)q.out.written;
	out->comp = comp;
	*fd = q.out.fd;
	q.out.fd = -1;
out:
	ring_end(&q, 0);
	dc__cpool_free(pool);	/* still running after a failure: stopped */
	dc__cpool_free(low);
	if (q.aw)
		archive_write_free(q.aw);
	if (q.out_ok) {
		if (q.out.fd >= 0 && q.out.fd != given)
			close(q.out.fd);
		dc__out_release(&q.out);
	}
	dc__enc_free(q.enc);
	dc__hash_free(q.h_diff);
	dc__hash_free(q.h_blob);
	for (i = 0; i < q.nlinks; i++) {
		free(q.links[i].path);
		free(q.links[i].target);
	}
	free(q.links);
	free(q.bytarget);
	free(q.spools);
	if (q.spool_fd >= 0)
		close(q.spool_fd);
	free(q.nwin);
	free(q.twin);
	free(q.vlist);
	for (i = 0; i < q.nall; i++) {
		free(q.all[i].path);
		free(q.all[i].target);
	}
	free(q.all);
	map_release(&q.map);
	free(q.buf);
	return err;
}

/* ------------------------------------------------------------------ */
/* The config of a squashed image */

/* The longest created_by a squash writes: the lines it replaces are
 * joined up to here (Docker's history has no limit of its own, but
 * `docker history` and every config reader carry it in memory). */
#define SQUASH_BY_MAX 8192

/*
 * The history entry of a squashed layer: created when the newest of
 * them was (deterministic), and created_by naming the layers as
 * `decant inspect` numbers them (from 0) followed by the created_by
 * lines of the entries it replaces, joined with "; " and cut at
 * SQUASH_BY_MAX bytes (on a UTF-8 boundary, marked with "...").
 */
static json_t *squash_entry(json_t *last, const struct dc_buf *joined,
			    size_t from, size_t n)
{
	json_t *e = json_object();
	char by[SQUASH_BY_MAX + 64];
	size_t len, take;
	int bad = 0;

	if (last && json_object_get(last, "created"))
		bad |= json_object_set(e, "created", json_object_get(last, "created"));
	len = (size_t)snprintf(by, sizeof(by), from + 1 == n ?
			       "decant squash: layer %zu" :
			       "decant squash: layers %zu-%zu", from, n - 1);
	if (joined->len) {
		take = joined->len;
		if (take > SQUASH_BY_MAX) {
			take = SQUASH_BY_MAX;
			while (take && ((unsigned char)joined->data[take] & 0xc0) == 0x80)
				take--;
		}
		memcpy(by + len, ": ", 2);
		memcpy(by + len + 2, joined->data, take);
		len += 2 + take;
		if (take < joined->len) {
			memcpy(by + len, "...", 3);
			len += 3;
		}
		by[len] = '\0';
	}
	bad |= json_object_set_new(e, "created_by", json_stringn(by, len));
	bad |= json_object_set_new(e, "comment", json_string("squashed by decant"));
	if (bad) {
		json_decref(e);
		return NULL;
	}
	return e;
}

/* Add H's created_by to the lines a squash replaces. */
static int join_by(struct dc_ctx *ctx, struct dc_buf *joined, json_t *h)
{
	const char *by = json_string_value(json_object_get(h, "created_by"));
	int err;

	if (!by || !*by || joined->len > SQUASH_BY_MAX)
		return 0;
	if (joined->len && (err = dc__buf_add(ctx, joined, "; ", 2)) < 0)
		return err;
	return dc__buf_add(ctx, joined, by, strlen(by));
}

int dc__squash_config(struct dc_ctx *ctx, const struct dc_image *img,
		      size_t from, const char *diff_id, struct dc_buf *out)
{
	json_t *root = NULL, *rootfs, *ids, *hist, *nh = NULL, *last = NULL;
	struct dc_buf joined = DC_BUF_INIT;
	size_t i, nonempty = 0;
	int err, bad = 0;

	if ((err = dc__json_parse(ctx, &root, &img->config_raw,
				  img->config.digest)) < 0)
		return err;
	rootfs = json_object_get(root, "rootfs");
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids)) {
		err = dc_error(ctx, DC_EFORMAT, "config '%s': no rootfs.diff_ids",
			       img->config.digest);
		goto out;
	}
	while (json_array_size(ids) > from)
		json_array_remove(ids, from);
	bad |= json_array_append_new(ids, json_string(diff_id));
	hist = json_object_get(root, "history");
	if (json_is_array(hist)) {
		/* keep empty-layer entries and those of kept layers; one
		 * entry, where the last squashed one was, stands for the rest */
		int added = 0;

		nh = json_array();
		for (i = 0; i < json_array_size(hist); i++) {
			json_t *h = json_array_get(hist, i);

			if (json_is_true(json_object_get(h, "empty_layer"))) {
				bad |= json_array_append(nh, h);
				continue;
			}
			if (nonempty++ < from) {
				bad |= json_array_append(nh, h);
				continue;
			}
			json_decref(last);
			last = json_incref(h);
			if ((err = join_by(ctx, &joined, h)) < 0)
				goto out;
			if (nonempty == img->nlayers) {
				bad |= json_array_append_new(nh, squash_entry(last, &joined,
									      from, img->nlayers));
				added = 1;
			}
		}
		if (!added)
			bad |= json_array_append_new(nh, squash_entry(last, &joined, from,
								      img->nlayers));
		bad |= json_object_set(root, "history", nh);
	}
	out->len = 0;
	err = bad ? dc__enomem(ctx) : dc__json_dump(ctx, out, root);
out:
	dc__buf_release(&joined);
	json_decref(last);
	json_decref(nh);
	json_decref(root);
	return err;
}
