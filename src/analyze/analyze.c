/*
 * The analysis driver: every image's layers read once, bottom up, each
 * entry's header into the tables, each file's content hashed and
 * scanned for secrets as it streams; then the config's strings.
 *
 * Layers are read on threads, two layers at a time on each (a clone of
 * the reader per layer, as the squash's first pass does; the two advance
 * together, so that their digests hash paired, as the copy pool's do),
 * and applied to the tables here in order, bottom up, as they complete:
 * the tables need the lower layers first, the reading does not.
 *
 * Contents are hashed for duplicates with XXH3-128 (with the size),
 * not SHA-256: duplicates are a report, no security decision rests on
 * them, and a second SHA-256 stream over every byte cost more than the
 * layer's own digest.
 */
#include "analyze/analyze.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#if defined(__x86_64__)
/* libxxhash's own dispatch: its AVX2/AVX-512 code where the core has it */
#include <xxh_x86dispatch.h>
#endif

#include "banned.h"

#define AN_THREADS_MAX 8

/* A reading slot's tools and the layer it reads. */
struct an_run {
	struct dc_ctx *ctx;
	struct dc_an_image *img;	/* config(): the image's secrets */
	const struct dc_image *src;
	struct an_scan *scan;
	XXH3_state_t *xh;		/* the current file's content */
	struct archive *aw;		/* squash header sizes */
	uint64_t written;
	int layer;
	struct an_lres *res;		/* NULL: the slot is free */
	struct an_source w;		/* the layer's source */
	struct an_layer *l;
	int in_data;			/* in the last entry's content */
	int64_t pos;			/* where the partner was at the start */
};

/* A layer as read, until it is applied. */
struct an_lres {
	struct dc_an_entry *e;
	size_t n, cap;
	struct dc_an_secret *sec;	/* .entry: index in e */
	size_t nsec;
	int64_t size_bytes, tar_bytes;
	uint64_t entries;
	int done;			/* under the pool's mutex */
	struct dc_err err;
};

static la_ssize_t count_write(struct archive *a, void *arg, const void *p,
			      size_t n)
{
	struct an_run *ar = arg;

	(void)a;
	(void)p;
	ar->written += n;
	return (la_ssize_t)n;
}

static int add_secret(struct dc_ctx *ctx, struct dc_an_secret **arr,
		      size_t *n, const char *kind, int where, int layer,
		      const char *path, const char *p, size_t len,
		      size_t entry)
{
	struct dc_an_secret *s;

	if (!(*n % 32)) {
		s = dc__reallocarray(ctx, *arr, *n + 32, sizeof(*s));
		if (!s)
			return DC_ENOMEM;
		*arr = s;
	}
	s = &(*arr)[*n];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->where = where;
	s->layer = layer;
	s->visible = 1;
	s->entry = entry;
	if (!(s->path = dc__strdup(ctx, path)) ||
	    !(s->redacted = dc__an_redact(p, len))) {
		free(s->path);
		return dc__enomem(ctx);
	}
	(*n)++;
	return 0;
}

static int file_found(void *arg, const char *kind, const char *p, size_t n)
{
	struct an_run *ar = arg;
	struct an_lres *res = ar->res;
	struct dc_an_entry *e = &res->e[res->n - 1];
	char *path = malloc(strlen(e->path) + 2);
	int err;

	if (!path)
		return dc__enomem(ar->ctx);
	path[0] = '/';
	memcpy(path + 1, e->path, strlen(e->path) + 1);
	err = add_secret(ar->ctx, &res->sec, &res->nsec, kind, AN_IN_FILE,
			 ar->layer, path, p, n, res->n - 1);
	free(path);
	return err;
}

/* The normalized path of E, 1 to skip it (the root, AUFS metadata). */
static int entry_path(struct an_run *ar, struct archive_entry *e, char **out,
		      unsigned char *type)
{
	const char *name = archive_entry_pathname(e), *base;
	char *p = NULL;
	int err;

	*out = NULL;
	if (!name)
		return dc_error(ar->ctx, DC_ECORRUPT,
				"layer %d: entry without a name", ar->layer);
	while (*name == '/' || (name[0] == '.' && name[1] == '/'))
		name += name[0] == '.' ? 2 : 1;
	if (!*name || !strcmp(name, "."))
		return 1;
	if ((err = dc__path_clean(ar->ctx, &p, name, "layer entry")) < 0)
		return dc_error_prefix(ar->ctx, "layer %d ('%s')", ar->layer,
				       ar->src->layers[ar->layer].digest);
	base = strrchr(p, '/');
	base = base ? base + 1 : p;
	if ((!strncmp(base, ".wh..wh.", 8) && strcmp(base, ".wh..wh..opq")) ||
	    (!strncmp(p, ".wh..wh.", 8) && strcmp(p, ".wh..wh..opq"))) {
		free(p);
		return 1;
	}
	if (!strncmp(base, ".wh.", 4)) {
		/* the whiteout's target: "dir/.wh.x" -> "dir/x" */
		int opq = !strcmp(base, ".wh..wh..opq");
		size_t dl = (size_t)(base - p);

		if (opq)
			p[dl ? dl - 1 : 0] = '\0';
		else
			memmove(p + dl, base + 4, strlen(base + 4) + 1);
		*type = opq ? AN_OPAQUE : AN_WHITEOUT;
	} else {
		switch (archive_entry_filetype(e)) {
		case AE_IFREG:
			*type = archive_entry_hardlink(e) ? AN_HARDLINK : AN_FILE;
			break;
		case AE_IFDIR:
			*type = AN_DIR;
			break;
		case AE_IFLNK:
			*type = AN_SYMLINK;
			break;
		default:
			*type = archive_entry_hardlink(e) ? AN_HARDLINK : AN_OTHER;
		}
	}
	*out = p;
	return 0;
}

/*
 * The bytes a squash writes for E's header (named X's path). E itself is
 * renamed and emptied (the reader keeps its own count of the content
 * and its sparse map, and clears E at the next header): a clone of
 * every entry cost as much as the writing.
 */
static int header_bytes(struct an_run *ar, struct archive_entry *e,
			struct dc_an_entry *x)
{
	struct dc_buf name = DC_BUF_INIT;
	uint64_t before = ar->written;
	int err;

	if ((err = dc__buf_addstr(ar->ctx, &name, x->path)) < 0 ||
	    (x->type == AN_DIR && (err = dc__buf_add(ar->ctx, &name, "/", 1)) < 0))
		goto out;
	archive_entry_set_pathname(e, name.data);
	archive_entry_sparse_clear(e);
	archive_entry_set_size(e, 0);	/* no content written: only headers */
	if (x->link)
		archive_entry_set_hardlink(e, x->link);
	if (archive_write_header(ar->aw, e) < ARCHIVE_WARN ||
	    archive_write_finish_entry(ar->aw) < ARCHIVE_WARN) {
		err = dc_error(ar->ctx, DC_EFORMAT, "'%s': %s", x->path,
			       archive_error_string(ar->aw));
		goto out;
	}
	x->hdr = (uint32_t)(ar->written - before);
out:
	dc__buf_release(&name);
	return err;
}

/* The next block of the current file's content: hashed and scanned,
 * never kept. 1: more, <0 error. */
static int content_step(struct an_run *ar)
{
	struct dc_an_entry *x = &ar->res->e[ar->res->n - 1];
	XXH128_canonical_t c;
	const void *p;
	ssize_t got = dc__an_layer_data(ar->l, &p);
	int err;

	if (got > 0) {
		XXH3_128bits_update(ar->xh, p, (size_t)got);
		err = dc__an_scan_feed(ar->scan, p, (size_t)got);
		return err < 0 ? err : 1;
	}
	if (got < 0)
		return (int)got;
	ar->in_data = 0;
	if ((err = dc__an_scan_end(ar->scan)) < 0)
		return err;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(ar->xh));
	memcpy(x->hash, c.digest, sizeof(x->hash));
	x->has_hash = 1;
	return 1;
}

static void lres_release(struct an_lres *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		free(res->e[i].path);
		free(res->e[i].link);
	}
	free(res->e);
	for (i = 0; i < res->nsec; i++) {
		free(res->sec[i].path);
		free(res->sec[i].redacted);
	}
	free(res->sec);
	res->e = NULL;
	res->sec = NULL;
	res->n = res->cap = res->nsec = 0;
}

/* Start reading layer L of AR->src through BS, into AR->res. */
static int layer_start(struct an_run *ar, const struct dc_bsrc *bs, int L)
{
	ar->layer = L;
	ar->in_data = 0;
	return dc__an_layer_open(bs, &ar->src->layers[L], &ar->l);
}

/* One step of AR's layer: an entry's header or a block of its content.
 * 1: more, 0: the end of the layer, <0: error. */
static int layer_step(struct an_run *ar)
{
	struct an_lres *res = ar->res;
	struct archive_entry *e;
	struct dc_an_entry *x;
	unsigned char type = 0;
	char *path = NULL;
	int err, got;

	if (ar->in_data)
		return content_step(ar);
	if ((got = dc__an_layer_next(ar->l, &e)) <= 0)
		return got;
	if ((err = dc__check_intr(ar->ctx)) < 0)
		return err;
	res->size_bytes += archive_entry_size(e);
	res->entries++;
	if ((err = entry_path(ar, e, &path, &type)) < 0)
		return err;
	if (err == 1)
		return 1;
	if (res->n == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 256;
		struct dc_an_entry *ne = dc__reallocarray(ar->ctx, res->e, cap,
							  sizeof(*ne));

		if (!ne) {
			free(path);
			return DC_ENOMEM;
		}
		res->e = ne;
		res->cap = cap;
	}
	x = &res->e[res->n++];
	memset(x, 0, sizeof(*x));
	x->path = path;
	x->type = type;
	x->size = archive_entry_size(e);
	if (x->size < 0)
		x->size = 0;
	if (type == AN_HARDLINK &&
	    (err = dc__path_clean(ar->ctx, &x->link, archive_entry_hardlink(e),
				  "hardlink target")) < 0)
		return err;
	if (type != AN_WHITEOUT && type != AN_OPAQUE &&
	    (err = header_bytes(ar, e, x)) < 0)
		return err;
	if (type == AN_FILE && x->size > 0) {
		dc__an_scan_begin(ar->scan, x->path, file_found, ar);
		XXH3_128bits_reset(ar->xh);
		ar->in_data = 1;
	}
	return 1;
}

/* The end of AR's layer, after ERR (<0: a failure, else the end):
 * read to the end, where the digests are checked. */
static int layer_end(struct an_run *ar, int err)
{
	int cerr = dc__an_layer_close(ar->l, err < 0 ? NULL :
				      &ar->res->tar_bytes);

	ar->l = NULL;
	return err < 0 ? err : cerr;
}

static int run_init(struct dc_ctx *ctx, struct an_run *ar)
{
	int err;

	memset(ar, 0, sizeof(*ar));
	ar->ctx = ctx;
	if ((err = dc__an_scan_new(ctx, &ar->scan)) < 0)
		return err;
	if (!(ar->xh = XXH3_createState()) || !(ar->aw = archive_write_new()))
		return dc__enomem(ctx);
	/* as the squash writes its tar */
	archive_write_set_format_pax_restricted(ar->aw);
	archive_write_set_bytes_per_block(ar->aw, 0);
	archive_write_set_bytes_in_last_block(ar->aw, 1);
	if (archive_write_open2(ar->aw, ar, NULL, count_write, NULL, NULL) !=
	    ARCHIVE_OK)
		return dc_error(ctx, DC_ENOMEM, "tar writer: %s",
				archive_error_string(ar->aw));
	return 0;
}

static void run_release(struct an_run *ar)
{
	if (ar->aw)
		archive_write_free(ar->aw);
	XXH3_freeState(ar->xh);
	dc__an_scan_free(ar->scan);
}

/* The reading threads of one image. */
struct an_pool {
	struct dc_bsrc bs;
	const struct dc_image *src;
	struct an_lres *res;		/* by layer */
	struct an_run *runs;		/* two slots by thread */
	size_t *order;			/* the layers, largest first */
	size_t next;			/* in order, the next to read */
	size_t nrun;			/* slot pairs taken by threads */
	size_t nwant;			/* threads */
	volatile sig_atomic_t stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/*
 * The next layer for slot SLOT of a thread, largest first; nlayers when
 * none. A second slot takes one only once every thread has its first:
 * two layers on two cores are faster one on each than paired on one.
 */
static size_t take(struct an_pool *p, int slot)
{
	size_t i = p->src->nlayers;

	pthread_mutex_lock(&p->mu);
	if (p->next < p->src->nlayers && (!slot || p->next >= p->nwant))
		i = p->next++;
	pthread_mutex_unlock(&p->mu);
	return i;
}

/* AR's layer is over after ERR: its result goes to the applying thread. */
static void slot_done(struct an_pool *p, struct an_run *ar, int err)
{
	struct an_lres *res = ar->res;

	err = layer_end(ar, err);
	pthread_mutex_lock(&p->mu);
	if (err < 0) {
		dc__err_save(&res->err, err, &ar->w.ctx);
		__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
	}
	res->done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	ar->res = NULL;
}

static void *reader_main(void *arg)
{
	struct an_pool *p = arg;
	/* each thread its slots, by the order the threads start in */
	struct an_run *sl = &p->runs[2 * __atomic_fetch_add(&p->nrun, 1,
							    __ATOMIC_RELAXED)];
	int k, err;

	for (;;) {
		for (k = 0; k < 2; k++) {
			while (!sl[k].res) {
				size_t i = take(p, k);
				int L;

				if (i >= p->src->nlayers)
					break;
				L = (int)p->order[i];
				/* in step with the partner from where it is */
				sl[k].pos = sl[!k].res ? sl[!k].pos +
					dc__an_layer_bytes(sl[!k].l) : 0;
				dc__an_source_clone(&p->bs, &sl[k].w, &p->stop);
				sl[k].ctx = &sl[k].w.ctx;
				sl[k].res = &p->res[L];
				if ((err = layer_start(&sl[k], &sl[k].w.bs, L)) < 0)
					slot_done(p, &sl[k], err);
			}
		}
		if (!sl[0].res && !sl[1].res)
			break;
		/* the one behind steps: both read, and hash paired, in step */
		k = !sl[0].res || (sl[1].res &&
				   sl[1].pos + dc__an_layer_bytes(sl[1].l) <
				   sl[0].pos + dc__an_layer_bytes(sl[0].l));
		if ((err = layer_step(&sl[k])) <= 0)
			slot_done(p, &sl[k], err);
		else if (sl[0].res && sl[1].res)
			dc__an_layer_pair(sl[0].l, sl[1].l);
	}
	return NULL;
}

static int larger_first(const void *a, const void *b, void *arg)
{
	const struct dc_image *img = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int64_t sx = img->layers[x].size, sy = img->layers[y].size;

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x < y ? -1 : 1;
}

/*
 * Read SRC's layers on threads, largest first (the threads end closer
 * together), and apply them to T in order into IMG.
 */
static int read_layers(struct dc_reader *r, const struct dc_image *src,
		       struct dc_an_image *img, struct an_tables *t)
{
	struct dc_ctx *ctx = r->ctx;
	struct an_pool p;
	pthread_t tid[AN_THREADS_MAX];
	int want = (int)dc__threads(ctx), i, err = 0;
	size_t nth;
	size_t L, j, base = 0;

	memset(&p, 0, sizeof(p));
	dc__reader_blobs(r, &p.bs);
	p.src = src;
	if (want > (int)src->nlayers)
		want = (int)src->nlayers;
	if (want > AN_THREADS_MAX)
		want = AN_THREADS_MAX;
	if (want < 1)
		want = 1;
	if (!(p.res = dc__calloc(ctx, src->nlayers + 1, sizeof(*p.res))) ||
	    !(p.runs = dc__calloc(ctx, 2 * (size_t)want, sizeof(*p.runs))) ||
	    !(p.order = dc__calloc(ctx, src->nlayers + 1, sizeof(size_t)))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (L = 0; L < src->nlayers; L++)
		p.order[L] = L;
	qsort_r(p.order, src->nlayers, sizeof(size_t), larger_first,
		(void *)src);
	p.nwant = (size_t)want;
	for (i = 0; i < 2 * want; i++) {
		if ((err = run_init(ctx, &p.runs[i])) < 0)
			goto out;
		p.runs[i].src = src;
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	nth = dc__threads_start(tid, (size_t)want, reader_main, &p);
	if (!nth)
		reader_main(&p);	/* no threads: every layer here */
	for (L = 0; L < src->nlayers; L++) {
		struct an_lres *res = &p.res[L];
		struct dc_an_layer *ly = &img->layers[L];

		pthread_mutex_lock(&p.mu);
		while (!res->done)
			pthread_cond_wait(&p.cv, &p.mu);
		pthread_mutex_unlock(&p.mu);
		if (res->err.code < 0) {
			err = dc__err_restore(ctx, &res->err);
			break;
		}
		ly->size_bytes = res->size_bytes;
		ly->entries = res->entries;
		ly->tar_bytes = res->tar_bytes;
		for (j = 0; j < res->nsec; j++) {
			struct dc_an_secret *s = &res->sec[j];

			if ((err = add_secret(ctx, &img->secrets, &img->nsecrets,
					      s->kind, s->where, s->layer,
					      s->path, "", 0, base + s->entry)) < 0)
				break;
			/* the redacted form as found */
			free(img->secrets[img->nsecrets - 1].redacted);
			img->secrets[img->nsecrets - 1].redacted = s->redacted;
			s->redacted = NULL;
		}
		if (err < 0 ||
		    (err = dc__an_tables_layer(t, (int)L, res->e, res->n, ly)) < 0)
			break;
		base += res->n;
		lres_release(res);
		img->size_bytes += (uint64_t)ly->size_bytes;
		if (L)
			img->user_size_bytes += (uint64_t)ly->size_bytes;
		img->layers_tar_bytes += (uint64_t)ly->tar_bytes;
	}
	if (err < 0)
		__atomic_store_n(&p.stop, 1, __ATOMIC_RELAXED);
	dc__threads_join(tid, nth);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
out:
	for (L = 0; p.res && L < src->nlayers; L++)
		lres_release(&p.res[L]);
	for (i = 0; p.runs && i < 2 * want; i++)
		run_release(&p.runs[i]);
	free(p.res);
	free(p.runs);
	free(p.order);
	return err;
}

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

struct cfg_found {
	struct an_run *ar;
	int where, layer;
	const char *path;
	/* the secrets' places in the string, to redact it */
	const char *base;
	size_t at[16][2];
	size_t n;
};

static int cfg_found(void *arg, const char *kind, const char *p, size_t n)
{
	struct cfg_found *c = arg;

	if (c->base && c->n < 16) {
		c->at[c->n][0] = (size_t)(p - c->base);
		c->at[c->n][1] = n;
		c->n++;
	}
	return add_secret(c->ar->ctx, &c->ar->img->secrets,
			  &c->ar->img->nsecrets, kind, c->where, c->layer,
			  c->path, p, n, (size_t)-1);
}

/* STR with the secrets F found in it redacted; caller frees. */
static char *redacted(struct dc_ctx *ctx, const char *str,
		      const struct cfg_found *f)
{
	struct dc_buf b = DC_BUF_INIT;
	size_t pos = 0, i, j, order[16];
	int err = 0;

	for (i = 0; i < f->n; i++)
		order[i] = i;
	for (i = 1; i < f->n; i++)	/* by offset; a handful at most */
		for (j = i; j > 0 && f->at[order[j]][0] < f->at[order[j - 1]][0]; j--) {
			size_t t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (i = 0; i < f->n && !err; i++) {
		size_t off = f->at[order[i]][0], len = f->at[order[i]][1];
		char *r;

		if (off < pos)
			continue;
		if (!(r = dc__an_redact(str + off, len))) {
			err = dc__enomem(ctx);
			break;
		}
		if ((err = dc__buf_add(ctx, &b, str + pos, off - pos)) >= 0)
			err = dc__buf_addstr(ctx, &b, r);
		free(r);
		pos = off + len;
	}
	if (!err)
		err = dc__buf_addstr(ctx, &b, str + pos);
	if (err < 0) {
		dc__buf_release(&b);
		return NULL;
	}
	return b.data ? dc__buf_detach(&b, NULL) : dc__strdup(ctx, "");
}

/* History (pairs with layers) and the config's secrets. */
static int config(struct an_run *ar, const struct dc_image *src, json_t **cfg)
{
	struct dc_an_image *img = ar->img;
	json_t *hist, *c, *v;
	size_t i, L = 0;
	int err;

	*cfg = NULL;
	if ((err = dc__json_parse(ar->ctx, cfg, &src->config_raw,
				  "image config")) < 0)
		return err;
	hist = json_object_get(*cfg, "history");
	for (i = 0; i < json_array_size(hist); i++) {
		json_t *h = json_array_get(hist, i);
		const char *cb = str_of(h, "created_by");
		struct cfg_found f;

		memset(&f, 0, sizeof(f));
		f.ar = ar;
		f.where = AN_IN_HISTORY;
		f.layer = (int)i;
		f.path = "created_by";
		f.base = cb;
		if (cb && (err = dc__an_scan_string(ar->scan, cb, 1, cfg_found,
						    &f)) < 0)
			return err;
		if (json_is_true(json_object_get(h, "empty_layer")))
			continue;
		/* layers pair with the history entries that made one; the
		 * report shows them with their secrets redacted */
		if (L < img->nlayers && cb &&
		    !(img->layers[L].created_by = redacted(ar->ctx, cb, &f)))
			return DC_ENOMEM;
		L++;
	}
	c = json_object_get(*cfg, "config");
	v = json_object_get(c, "Env");
	for (i = 0; i < json_array_size(v); i++) {
		const char *s = json_string_value(json_array_get(v, i));
		const char *eq = s ? strchr(s, '=') : NULL;
		char name[128];
		struct cfg_found f = { ar, AN_IN_ENV, -1, name, NULL, { { 0 } }, 0 };

		if (!eq || (size_t)(eq - s) >= sizeof(name))
			continue;
		memcpy(name, s, (size_t)(eq - s));
		name[eq - s] = '\0';
		if ((err = dc__an_scan_string(ar->scan, s, 1, cfg_found, &f)) < 0)
			return err;
	}
	v = json_object_get(c, "Labels");
	if (json_is_object(v)) {
		const char *key;
		json_t *val;

		json_object_foreach(v, key, val) {
			struct cfg_found f = { ar, AN_IN_LABEL, -1, key, NULL,
					       { { 0 } }, 0 };
			struct dc_buf kv = DC_BUF_INIT;

			if (!json_is_string(val))
				continue;
			if ((err = dc__buf_addf(ar->ctx, &kv, "%s=%s", key,
						json_string_value(val))) < 0)
				return err;
			/* "key=value" with no spaces in key: one assignment */
			err = dc__an_scan_string(ar->scan, kv.data,
						 !strpbrk(key, " \t"), cfg_found, &f);
			dc__buf_release(&kv);
			if (err < 0)
				return err;
		}
	}
	return 0;
}


static int analyze_image(struct dc_reader *r, const struct dc_image *src,
			 struct dc_an_image *img)
{
	struct dc_ctx *ctx = r->ctx;
	struct an_tables *t = NULL;
	struct an_run ar;
	json_t *cfg = NULL;
	size_t i, L;
	int err;

	if ((err = run_init(ctx, &ar)) < 0)
		goto out;
	ar.img = img;
	ar.src = src;
	if (!(img->id = dc__strdup(ctx, src->config.digest))) {
		err = DC_ENOMEM;
		goto out;
	}
	if (src->ntags || (src->index && src->index->ntags)) {
		char **tags = src->ntags ? src->tags : src->index->tags;
		size_t nt = src->ntags ? src->ntags : src->index->ntags;

		if (!(img->tags = dc__calloc(ctx, nt, sizeof(char *)))) {
			err = DC_ENOMEM;
			goto out;
		}
		for (i = 0; i < nt; i++, img->ntags++) {
			if (!(img->tags[i] = dc__strdup(ctx, tags[i]))) {
				err = DC_ENOMEM;
				goto out;
			}
		}
	}
	if (!(img->layers = dc__calloc(ctx, src->nlayers + 1,
				       sizeof(*img->layers)))) {
		err = DC_ENOMEM;
		goto out;
	}
	img->nlayers = src->nlayers;
	for (L = 0; L < src->nlayers; L++) {
		img->layers[L].compressed = src->layers[L].size;
		if (!(img->layers[L].digest = dc__strdup(ctx,
						src->layers[L].digest))) {
			err = DC_ENOMEM;
			goto out;
		}
	}
	if ((err = config(&ar, src, &cfg)) < 0 ||
	    (err = dc__an_tables_new(ctx, &t)) < 0 ||
	    (err = read_layers(r, src, img, t)) < 0 ||
	    (err = dc__an_tables_finish(t, img)) < 0)
		goto out;
	img->user_wasted_percent = (double)img->wasted_bytes /
				   (double)img->user_size_bytes;
	for (i = 0; i < img->nsecrets; i++) {
		struct dc_an_secret *s = &img->secrets[i];

		if (s->where == AN_IN_FILE)
			s->visible = img->ent[s->entry].fate == AN_VISIBLE;
	}
out:
	run_release(&ar);
	dc__an_tables_free(t);
	json_decref(cfg);
	return err;
}

int dc__analyze(struct dc_reader *r, const struct dc_set *set,
		struct dc_analysis **out)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_analysis *rep;
	size_t i;
	int err = 0;

	*out = NULL;
	if (!(rep = dc__calloc(ctx, 1, sizeof(*rep))))
		return DC_ENOMEM;
	if (!(rep->format = dc__strdup(ctx, set->format)) ||
	    !(rep->img = dc__calloc(ctx, set->n + 1, sizeof(*rep->img)))) {
		err = dc__enomem(ctx);
		goto out;
	}
	for (i = 0; i < set->n; i++) {
		rep->n++;
		if ((err = analyze_image(r, set->img[i], &rep->img[i])) < 0) {
			err = dc__error_in(ctx, dc__an_source_label(r));
			goto out;
		}
	}
	*out = rep;
	rep = NULL;
out:
	dc__analyze_free(rep);
	return err;
}

void dc__analyze_free(struct dc_analysis *rep)
{
	size_t i, j;

	if (!rep)
		return;
	for (i = 0; i < rep->n; i++) {
		struct dc_an_image *img = &rep->img[i];

		free(img->id);
		for (j = 0; j < img->ntags; j++)
			free(img->tags[j]);
		free(img->tags);
		for (j = 0; j < img->nlayers; j++) {
			free(img->layers[j].digest);
			free(img->layers[j].created_by);
		}
		free(img->layers);
		for (j = 0; j < img->nent; j++) {
			free(img->ent[j].path);
			free(img->ent[j].link);
		}
		free(img->ent);
		for (j = 0; j < img->nwaste; j++)
			free(img->waste[j].path);
		free(img->waste);
		free(img->eidx);
		free(img->dups);
		for (j = 0; j < img->nsecrets; j++) {
			free(img->secrets[j].path);
			free(img->secrets[j].redacted);
		}
		free(img->secrets);
	}
	free(rep->img);
	free(rep->format);
	free(rep);
}
