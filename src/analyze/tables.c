/*
 * The analysis tables, fed a layer at a time, bottom up.
 *
 * The real merge (as a squash or an unpacker sees the layers): a
 * ".wh.NAME" entry hides NAME and its subtree in the layers below, a
 * ".wh..wh..opq" entry the lower children of its directory, and an entry
 * at a path hides the lower entry there (a non-directory also the lower
 * subtree). Whiteouts act on lower layers only (image-spec layer.md).
 * Hidden entries still ship: they are the deleted-but-shipped files.
 *
 * dive's efficiency (wagoodman/dive, dive/filetree/efficiency.go), on
 * its own stack of trees, which differs from the real merge on purpose:
 *   - each layer is a tree of its entries; only its leaves count (a
 *     directory entry with entries below it in the same layer does not);
 *   - a leaf's size is its header's size; a whiteout leaf counts at its
 *     target's path, with the size of everything below the target in
 *     the stack of the lower layers if the target is a directory there,
 *     else 0; a whiteout whose target is missing there stops the layer's
 *     walk (depth first, children by name, children first): the leaves
 *     after it in that order do not count;
 *   - opaque markers are never added, but create their directory;
 *   - stacking a layer onto the lower ones removes whiteout targets and
 *     sets every node of the layer's tree: a directory created only
 *     implicitly (no entry of its own in that layer) loses its payload
 *     and with it its being a directory; a file over a directory keeps
 *     the directory's children;
 *   - for layer 0 the stack is the layer's own tree.
 * For every path: the sum of its leaves' sizes over all layers and the
 * smallest. Efficiency = sum of smallests / sum of sums (1 if 0); the
 * wasted bytes = the sums of the paths with two leaves or more.
 */
#include "analyze/analyze.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define NONE ((size_t)-1)

struct node {
	char *path;			/* "" for the root */
	struct node *parent, *kid, *next;
	/* the layer trees */
	int kid_layer;			/* last layer with entries below */
	int own_layer;			/* last layer with an entry here */
	int leaf_layer;			/* counted as a leaf in this layer */
	int64_t own_size;
	unsigned char own_dir;
	size_t own_ent;
	/* dive's stack */
	unsigned char dive, dive_dir;
	int64_t dsize;
	/* dive's efficiency data */
	uint32_t count;
	int64_t cum, min;
	/* the real merge */
	unsigned char live;
	size_t live_ent;
};

struct an_tables {
	struct dc_ctx *ctx;
	struct node **slot;
	size_t cap, n;
	struct node *root;
	struct dc_an_entry *ent;
	struct node **enode;
	size_t nent, entcap;
	struct node **marked;		/* nodes with entries below, this layer */
	size_t nmarked, markcap;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct node *map_find(struct an_tables *t, const char *path)
{
	size_t i;

	for (i = fnv(path) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->slot[i]->path, path))
			return t->slot[i];
	return NULL;
}

static int map_grow(struct an_tables *t)
{
	size_t cap = t->cap * 2, i, j;
	struct node **s = dc__calloc(t->ctx, cap, sizeof(*s));

	if (!s)
		return DC_ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (!t->slot[i])
			continue;
		for (j = fnv(t->slot[i]->path) & (cap - 1); s[j]; j = (j + 1) & (cap - 1))
			;
		s[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = s;
	t->cap = cap;
	return 0;
}

static struct node *node_new(struct an_tables *t, const char *path,
			     size_t len)
{
	struct node *n = calloc(1, sizeof(*n));
	size_t i;

	if (!n || !(n->path = malloc(len + 1))) {
		free(n);
		dc__enomem(t->ctx);
		return NULL;
	}
	memcpy(n->path, path, len);
	n->path[len] = '\0';
	n->kid_layer = n->own_layer = n->leaf_layer = -1;
	n->min = -1;
	n->own_ent = n->live_ent = NONE;
	for (i = fnv(n->path) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		;
	t->slot[i] = n;
	t->n++;
	return n;
}

/* The node of PATH, made with its ancestors if missing; NULL: ENOMEM. */
static struct node *node_get(struct an_tables *t, const char *path)
{
	struct node *n = map_find(t, path), *p;
	const char *slash;
	char *dir;

	if (n)
		return n;
	if (t->n * 2 >= t->cap && map_grow(t) < 0)
		return NULL;
	slash = strrchr(path, '/');
	if (!slash) {
		p = t->root;
	} else {
		if (!(dir = dc__calloc(t->ctx, 1, (size_t)(slash - path) + 1)))
			return NULL;
		memcpy(dir, path, (size_t)(slash - path));
		p = node_get(t, dir);
		free(dir);
		if (!p)
			return NULL;
		if (t->n * 2 >= t->cap && map_grow(t) < 0)
			return NULL;
	}
	if (!(n = node_new(t, path, strlen(path))))
		return NULL;
	n->parent = p;
	n->next = p->kid;
	p->kid = n;
	return n;
}

int dc__an_tables_new(struct dc_ctx *ctx, struct an_tables **out)
{
	struct an_tables *t;

	*out = NULL;
	if (!(t = dc__calloc(ctx, 1, sizeof(*t))))
		return DC_ENOMEM;
	t->ctx = ctx;
	t->cap = 1024;
	if (!(t->slot = dc__calloc(ctx, t->cap, sizeof(*t->slot))) ||
	    !(t->root = node_new(t, "", 0))) {
		dc__an_tables_free(t);
		return DC_ENOMEM;
	}
	*out = t;
	return 0;
}

void dc__an_tables_free(struct an_tables *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; t->slot && i < t->cap; i++) {
		if (t->slot[i]) {
			free(t->slot[i]->path);
			free(t->slot[i]);
		}
	}
	for (i = 0; i < t->nent; i++) {
		free(t->ent[i].path);
		free(t->ent[i].link);
	}
	free(t->slot);
	free(t->ent);
	free(t->enode);
	free(t->marked);
	free(t);
}

static int is_dir(const struct dc_an_entry *e)
{
	return e->type == AN_DIR;
}

/* Mark N and its ancestors as having entries below them in layer L. */
static int mark_up(struct an_tables *t, struct node *n, int L)
{
	for (; n && n != t->root && n->kid_layer != L; n = n->parent) {
		if (t->nmarked == t->markcap) {
			size_t cap = t->markcap ? t->markcap * 2 : 256;
			struct node **m = dc__reallocarray(t->ctx, t->marked, cap,
							   sizeof(*m));

			if (!m)
				return DC_ENOMEM;
			t->marked = m;
			t->markcap = cap;
		}
		t->marked[t->nmarked++] = n;
		n->kid_layer = L;
	}
	return 0;
}

/* dive's order of a layer's tree: names compared component-wise */
static int dive_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = *a == '/' ? 1 : *a ? (unsigned char)*a + 1 : 0;
		int y = *b == '/' ? 1 : *b ? (unsigned char)*b + 1 : 0;

		if (x != y || !x)
			return x - y;
	}
}

/* A whiteout's name in the layer tree: "dir/.wh.base". */
static char *wh_key(struct an_tables *t, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
	char *k = dc__calloc(t->ctx, 1, strlen(path) + 5);

	if (!k)
		return NULL;
	memcpy(k, path, dl);
	memcpy(k + dl, ".wh.", 4);
	memcpy(k + dl + 4, path + dl, strlen(path + dl) + 1);
	return k;
}

static int64_t dive_subtree(const struct node *n)
{
	int64_t s = n->dsize;
	const struct node *k;

	for (k = n->kid; k; k = k->next)
		if (k->dive)
			s += dive_subtree(k);
	return s;
}

static void dive_remove(struct node *n)
{
	struct node *k;

	n->dive = 0;
	for (k = n->kid; k; k = k->next)
		if (k->dive)
			dive_remove(k);
}

/* Stack layer L's tree onto dive's stack: ADDS, or the whiteouts. */
static void dive_stack(struct an_tables *t, size_t base, size_t n, int adds)
{
	size_t i;

	for (i = base; i < base + n; i++) {
		struct dc_an_entry *e = &t->ent[i];
		struct node *nd = t->enode[i];

		if (e->type == AN_WHITEOUT) {
			if (!adds && nd->dive)
				dive_remove(nd);
			continue;
		}
		if (!adds)
			continue;
		nd->dive = 1;
		if (e->type == AN_OPAQUE) {
			if (nd->own_layer != e->layer)
				nd->dsize = 0, nd->dive_dir = 0;
			continue;
		}
		if (nd->own_ent == i) {
			nd->dsize = nd->own_size;
			nd->dive_dir = nd->own_dir;
		}
	}
	if (!adds)
		return;
	/* the layer's implicit directories: present, without a payload */
	for (i = 0; i < t->nmarked; i++) {
		struct node *m = t->marked[i];

		m->dive = 1;
		if (m->own_layer != t->ent[base].layer)
			m->dsize = 0, m->dive_dir = 0;
	}
}

struct leaf {
	struct node *n;		/* the path counted */
	int64_t size;
	char *key;		/* its name in the layer tree, whiteouts only */
};

static void count_leaf(struct node *n, int64_t s)
{
	n->cum += s;
	if (n->min < 0 || s < n->min)
		n->min = s;
	n->count++;
}

/* dive's efficiency visit of layer L's tree (entries [BASE, BASE+N)). */
static int dive_layer(struct an_tables *t, int L, size_t base, size_t n)
{
	struct leaf *lv = dc__calloc(t->ctx, n + 1, sizeof(*lv));
	const char *stop = NULL;
	char *stopk = NULL;
	size_t i, nl = 0;
	int err = 0;

	if (!lv)
		return DC_ENOMEM;
	for (i = base; i < base + n; i++) {
		struct dc_an_entry *e = &t->ent[i];
		struct node *nd = t->enode[i];

		if (e->type == AN_WHITEOUT) {
			if (!(lv[nl].key = wh_key(t, nd->path))) {
				err = DC_ENOMEM;
				goto out;
			}
			lv[nl].n = nd;
			if (nd->dive)
				lv[nl].size = nd->dive_dir ? dive_subtree(nd) : 0;
			else if (!stop || dive_cmp(lv[nl].key, stop) < 0)
				stop = lv[nl].key;	/* GetNode fails */
			nl++;
			continue;
		}
		if (nd->kid_layer == L || nd->leaf_layer == L || nd == t->root)
			continue;
		if (e->type == AN_OPAQUE && nd->own_layer == L)
			continue;	/* its own entry counts */
		nd->leaf_layer = L;
		lv[nl].n = nd;
		lv[nl].size = e->type == AN_OPAQUE ? 0 : nd->own_size;
		nl++;
	}
	if (stop && !(stopk = dc__strdup(t->ctx, stop))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (i = 0; i < nl; i++) {
		const char *k = lv[i].key ? lv[i].key : lv[i].n->path;

		if (!stopk || dive_cmp(k, stopk) < 0)
			count_leaf(lv[i].n, lv[i].size);
	}
out:
	for (i = 0; i < nl; i++)
		free(lv[i].key);
	free(lv);
	free(stopk);
	return err;
}

/* Hide the live entries of N's subtree (N too with SELF) below L. */
static void hide(struct an_tables *t, struct node *n, int self, int L,
		 int fate, struct dc_an_layer *ly)
{
	struct node *k;

	if (self && n->live) {
		if (n->live_ent != NONE) {
			struct dc_an_entry *e = &t->ent[n->live_ent];

			if (e->layer < L && e->fate == AN_VISIBLE) {
				e->fate = (unsigned char)fate;
				e->hidden_by = L;
				if (!is_dir(e) && fate == AN_DELETED && ly) {
					ly->removed_files++;
					ly->removed_bytes += (uint64_t)e->size;
				}
			}
		}
		n->live = 0;
		n->live_ent = NONE;
	}
	for (k = n->kid; k; k = k->next)
		if (k->live)
			hide(t, k, 1, L, fate, ly);
}

static void merge_layer(struct an_tables *t, int L, size_t base, size_t n,
			struct dc_an_layer *ly)
{
	size_t i;

	for (i = base; i < base + n; i++) {
		if (t->ent[i].type == AN_WHITEOUT)
			hide(t, t->enode[i], 1, L, AN_DELETED, ly);
		else if (t->ent[i].type == AN_OPAQUE)
			hide(t, t->enode[i], 0, L, AN_DELETED, ly);
	}
	for (i = base; i < base + n; i++) {
		struct dc_an_entry *e = &t->ent[i];
		struct node *nd = t->enode[i], *p;

		if (e->type == AN_WHITEOUT || e->type == AN_OPAQUE)
			continue;
		if (nd->live && nd->live_ent != NONE) {
			struct dc_an_entry *o = &t->ent[nd->live_ent];

			o->fate = AN_OVERWRITTEN;
			o->hidden_by = L;
			if (!is_dir(e) && is_dir(o))
				hide(t, nd, 0, L, AN_OVERWRITTEN, NULL);
			if (!is_dir(e)) {
				ly->modified_files++;
				ly->modified_bytes += (uint64_t)e->size;
			}
		} else if (!is_dir(e)) {
			ly->added_files++;
			ly->added_bytes += (uint64_t)e->size;
		}
		nd->live = 1;
		nd->live_ent = i;
		for (p = nd->parent; p && p != t->root && !p->live; p = p->parent)
			p->live = 1;
	}
}

int dc__an_tables_layer(struct an_tables *t, int L, struct dc_an_entry *e,
			size_t n, struct dc_an_layer *ly)
{
	size_t base = t->nent, i;
	int err = 0;

	if (t->nent + n > t->entcap) {
		size_t cap = t->entcap ? t->entcap : 1024;
		struct dc_an_entry *ne;
		struct node **nn;

		while (cap < t->nent + n)
			cap *= 2;
		if (!(ne = dc__reallocarray(t->ctx, t->ent, cap, sizeof(*ne))))
			goto nomem;
		t->ent = ne;
		if (!(nn = dc__reallocarray(t->ctx, t->enode, cap, sizeof(*nn))))
			goto nomem;
		t->enode = nn;
		t->entcap = cap;
	}
	for (i = 0; i < n; i++) {
		e[i].layer = L;
		e[i].hidden_by = -1;
		e[i].fate = AN_VISIBLE;
		t->ent[t->nent++] = e[i];
		e[i].path = NULL;
		e[i].link = NULL;
	}
	t->nmarked = 0;
	for (i = base; i < t->nent; i++) {
		struct dc_an_entry *x = &t->ent[i];
		struct node *nd = node_get(t, x->path);

		if (!nd)
			goto nomem;
		t->enode[i] = nd;
		if ((err = mark_up(t, nd->parent, L)) < 0)
			return err;
		if (x->type != AN_WHITEOUT && x->type != AN_OPAQUE) {
			nd->own_layer = L;
			nd->own_ent = i;
			nd->own_size = x->size;
			nd->own_dir = is_dir(x);
		}
	}
	if (n) {
		if (L == 0)
			dive_stack(t, base, n, 1);
		if ((err = dive_layer(t, L, base, n)) < 0)
			return err;
		dive_stack(t, base, n, 0);
		if (L > 0)
			dive_stack(t, base, n, 1);
	}
	merge_layer(t, L, base, n, ly);
	return 0;
nomem:
	return dc__enomem(t->ctx);
}

static int cmp_waste(const void *a, const void *b)
{
	const struct dc_an_waste *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->path, y->path);
}

/* the same content: size and hash */
static int same_content(const struct dc_an_entry *x,
			const struct dc_an_entry *y)
{
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return memcmp(x->hash, y->hash, sizeof(x->hash));
}

static int cmp_content(const void *a, const void *b, void *arg)
{
	const struct dc_an_entry *ent = arg;
	int c = same_content(&ent[*(const size_t *)a], &ent[*(const size_t *)b]);

	if (c)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int cmp_dup(const void *a, const void *b)
{
	const struct dc_an_dup *x = a, *y = b;
	uint64_t wx = (uint64_t)x->size * (x->n - 1);
	uint64_t wy = (uint64_t)y->size * (y->n - 1);

	if (wx != wy)
		return wx < wy ? 1 : -1;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return memcmp(x->hash, y->hash, sizeof(x->hash));
}

static int finish_dups(struct an_tables *t, struct dc_an_image *img)
{
	size_t i, j, n = 0;

	if (!(img->eidx = dc__calloc(t->ctx, t->nent + 1, sizeof(size_t))))
		return DC_ENOMEM;
	for (i = 0; i < t->nent; i++)
		if (t->ent[i].has_hash && t->ent[i].size > 0)
			img->eidx[n++] = i;
	qsort_r(img->eidx, n, sizeof(size_t), cmp_content, t->ent);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !same_content(&t->ent[img->eidx[i]],
						       &t->ent[img->eidx[j]]); j++)
			;
		if (j - i < 2)
			continue;
		if (!(img->ndups % 64)) {
			struct dc_an_dup *d = dc__reallocarray(t->ctx, img->dups,
				img->ndups + 64, sizeof(*d));

			if (!d)
				return DC_ENOMEM;
			img->dups = d;
		}
		memcpy(img->dups[img->ndups].hash, t->ent[img->eidx[i]].hash,
		       sizeof(img->dups->hash));
		img->dups[img->ndups].size = t->ent[img->eidx[i]].size;
		img->dups[img->ndups].first = i;
		img->dups[img->ndups].n = j - i;
		img->dup_bytes += (uint64_t)t->ent[img->eidx[i]].size * (j - i - 1);
		img->ndups++;
	}
	if (img->ndups)
		qsort(img->dups, img->ndups, sizeof(*img->dups), cmp_dup);
	return 0;
}

#define ROUND512(x) (((x) + 511) & ~(uint64_t)511)

int dc__an_tables_finish(struct an_tables *t, struct dc_an_image *img)
{
	uint64_t minsum = 0, cumsum = 0;
	size_t i;
	int err;

	for (i = 0; i < t->cap; i++) {
		struct node *n = t->slot[i];

		if (!n || !n->count)
			continue;
		minsum += (uint64_t)n->min;
		cumsum += (uint64_t)n->cum;
		if (n->count < 2)
			continue;
		img->wasted_bytes += (uint64_t)n->cum;
		if (!(img->nwaste % 256)) {
			struct dc_an_waste *w = dc__reallocarray(t->ctx, img->waste,
				img->nwaste + 256, sizeof(*w));

			if (!w)
				return DC_ENOMEM;
			img->waste = w;
		}
		img->waste[img->nwaste].path = n->path;
		img->waste[img->nwaste].count = n->count;
		img->waste[img->nwaste].bytes = n->cum;
		img->nwaste++;
	}
	img->efficiency = cumsum ? (double)minsum / (double)cumsum : 1.0;
	for (i = 0; i < img->nwaste; i++) {
		char *p = malloc(strlen(img->waste[i].path) + 2);

		if (!p) {
			img->nwaste = i;
			return dc__enomem(t->ctx);
		}
		p[0] = '/';
		memcpy(p + 1, img->waste[i].path, strlen(img->waste[i].path) + 1);
		img->waste[i].path = p;
	}
	if (img->nwaste)
		qsort(img->waste, img->nwaste, sizeof(*img->waste), cmp_waste);
	/* the squashed layer: the visible entries as a squash writes them */
	img->squash_tar_bytes = 1024;
	img->squash_exact = 1;
	for (i = 0; i < t->nent; i++) {
		struct dc_an_entry *e = &t->ent[i];

		if (e->type == AN_WHITEOUT || e->type == AN_OPAQUE)
			continue;
		if (e->fate != AN_VISIBLE) {
			if (!is_dir(e)) {
				img->hidden_files++;
				img->hidden_bytes += (uint64_t)e->size;
				img->layers[e->layer].hidden_files++;
				img->layers[e->layer].hidden_bytes += (uint64_t)e->size;
			}
			continue;
		}
		img->squash_tar_bytes += e->hdr;
		if (e->type != AN_HARDLINK && e->type != AN_DIR &&
		    e->type != AN_SYMLINK)
			img->squash_tar_bytes += ROUND512((uint64_t)e->size);
		/* past 8 GiB a pax size record; a hardlink whose target was
		 * hidden above it is written with the target's content */
		if (e->size >= ((int64_t)1 << 33))
			img->squash_exact = 0;
		if (e->type == AN_HARDLINK && e->link) {
			struct node *tg = map_find(t, e->link);

			if (!tg || !tg->live || tg->live_ent == NONE ||
			    t->ent[tg->live_ent].layer > e->layer)
				img->squash_exact = 0;
		}
	}
	for (i = 0; i < img->nlayers; i++) {
		struct dc_an_layer *ly = &img->layers[i];

		if (ly->tar_bytes > 0)
			ly->hidden_compressed = (int64_t)((double)ly->hidden_bytes *
				(double)ly->compressed / (double)ly->tar_bytes);
	}
	if ((err = finish_dups(t, img)) < 0)
		return err;
	img->ent = t->ent;
	img->nent = t->nent;
	t->ent = NULL;
	t->nent = t->entcap = 0;
	return 0;
}
