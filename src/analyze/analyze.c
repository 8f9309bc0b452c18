/*
 * The analysis driver: every image's layers read once, bottom up, each
 * entry's header into the tables, each file's content hashed and
 * scanned for secrets as it streams; then the config's strings.
 */
#include "analyze/analyze.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct an_run {
	struct dc_ctx *ctx;
	struct dc_an_image *img;
	struct an_scan *scan;
	struct dc_hash *h;
	/* the layer being read */
	struct dc_an_entry *e;
	size_t n, cap;
	size_t base;		/* global index of e[0] */
	int layer;
	/* squash header sizes */
	struct archive *aw;
	uint64_t written;
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

static int add_secret(struct an_run *ar, const char *kind, int where,
		      int layer, const char *path, const char *p, size_t len,
		      size_t entry)
{
	struct dc_an_image *img = ar->img;
	struct dc_an_secret *s;

	if (!(img->nsecrets % 32)) {
		s = dc__reallocarray(ar->ctx, img->secrets, img->nsecrets + 32,
				     sizeof(*s));
		if (!s)
			return DC_ENOMEM;
		img->secrets = s;
	}
	s = &img->secrets[img->nsecrets];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->where = where;
	s->layer = layer;
	s->visible = 1;
	s->entry = entry;
	if (!(s->path = dc__strdup(ar->ctx, path)) ||
	    !(s->redacted = dc__an_redact(p, len))) {
		free(s->path);
		return dc__enomem(ar->ctx);
	}
	img->nsecrets++;
	return 0;
}

static int file_found(void *arg, const char *kind, const char *p, size_t n)
{
	struct an_run *ar = arg;
	struct dc_an_entry *e = &ar->e[ar->n - 1];
	char *path = malloc(strlen(e->path) + 2);
	int err;

	if (!path)
		return dc__enomem(ar->ctx);
	path[0] = '/';
	memcpy(path + 1, e->path, strlen(e->path) + 1);
	err = add_secret(ar, kind, AN_IN_FILE, ar->layer, path, p, n,
			 ar->base + ar->n - 1);
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
				       ar->img->layers[ar->layer].digest);
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

/* The bytes a squash writes for E's header (named PATH). */
static int header_bytes(struct an_run *ar, struct archive_entry *e,
			struct dc_an_entry *x)
{
	struct archive_entry *c = archive_entry_clone(e);
	struct dc_buf name = DC_BUF_INIT;
	uint64_t before = ar->written;
	int err;

	if (!c)
		return dc__enomem(ar->ctx);
	if ((err = dc__buf_addstr(ar->ctx, &name, x->path)) < 0 ||
	    (x->type == AN_DIR && (err = dc__buf_add(ar->ctx, &name, "/", 1)) < 0))
		goto out;
	archive_entry_set_pathname(c, name.data);
	archive_entry_sparse_clear(c);
	archive_entry_set_size(c, 0);	/* no content written: only headers */
	if (x->link)
		archive_entry_set_hardlink(c, x->link);
	if (archive_write_header(ar->aw, c) < ARCHIVE_WARN ||
	    archive_write_finish_entry(ar->aw) < ARCHIVE_WARN) {
		err = dc_error(ar->ctx, DC_EFORMAT, "'%s': %s", x->path,
			       archive_error_string(ar->aw));
		goto out;
	}
	x->hdr = (uint32_t)(ar->written - before);
out:
	dc__buf_release(&name);
	archive_entry_free(c);
	return err;
}

/* A file's content: hashed and scanned, never kept. */
static int content(struct an_run *ar, struct an_layer *l,
		   struct dc_an_entry *x)
{
	char dg[DC_DIGEST_MAX];
	const char *hex;
	ssize_t got;
	size_t i;
	int err = 0;

	const void *p;

	dc__an_scan_begin(ar->scan, x->path, file_found, ar);
	while ((got = dc__an_layer_data(l, &p, ar->h)) > 0)
		if ((err = dc__an_scan_feed(ar->scan, p, (size_t)got)) < 0)
			return err;
	if (got < 0)
		return (int)got;
	if ((err = dc__an_scan_end(ar->scan)) < 0)
		return err;
	dc__hash_final(ar->h, dg);
	hex = dc__digest_hex(dg);
	for (i = 0; i < 32; i++) {
		unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
		unsigned lo = (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10);

		x->digest[i] = (unsigned char)(hi << 4 | lo);
	}
	x->has_digest = 1;
	return 0;
}

static int read_layer(struct an_run *ar, struct dc_reader *r,
		      const struct dc_desc *d, struct dc_an_layer *ly)
{
	struct an_layer *l = NULL;
	struct archive_entry *e;
	int err, got;

	if ((err = dc__an_layer_open(r, d, &l)) < 0)
		return err;
	while ((got = dc__an_layer_next(l, &e)) == 1) {
		struct dc_an_entry *x;
		unsigned char type = 0;
		char *path = NULL;

		if ((err = dc__check_intr(ar->ctx)) < 0)
			goto out;
		ly->size_bytes += archive_entry_size(e);
		ly->entries++;
		if ((err = entry_path(ar, e, &path, &type)) < 0)
			goto out;
		if (err == 1)
			continue;
		if (ar->n == ar->cap) {
			size_t cap = ar->cap ? ar->cap * 2 : 256;
			struct dc_an_entry *ne = dc__reallocarray(ar->ctx, ar->e,
							cap, sizeof(*ne));

			if (!ne) {
				free(path);
				err = DC_ENOMEM;
				goto out;
			}
			ar->e = ne;
			ar->cap = cap;
		}
		x = &ar->e[ar->n++];
		memset(x, 0, sizeof(*x));
		x->path = path;
		x->type = type;
		x->size = archive_entry_size(e);
		if (x->size < 0)
			x->size = 0;
		if (type == AN_HARDLINK &&
		    (err = dc__path_clean(ar->ctx, &x->link,
					  archive_entry_hardlink(e),
					  "hardlink target")) < 0)
			goto out;
		if (type != AN_WHITEOUT && type != AN_OPAQUE &&
		    (err = header_bytes(ar, e, x)) < 0)
			goto out;
		if (type == AN_FILE && x->size > 0 &&
		    (err = content(ar, l, x)) < 0)
			goto out;
	}
	err = got < 0 ? got : 0;
out:
	{
		int cerr = dc__an_layer_close(l, err < 0 ? NULL : &ly->tar_bytes);

		if (!err)
			err = cerr;
	}
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
	return add_secret(c->ar, kind, c->where, c->layer, c->path, p, n,
			  (size_t)-1);
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
static int config(struct an_run *ar, struct dc_image *src, json_t **cfg)
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

static int analyze_image(struct an_run *ar, struct dc_reader *r,
			 struct dc_image *src)
{
	struct dc_an_image *img = ar->img;
	struct an_tables *t = NULL;
	json_t *cfg = NULL;
	size_t i, L;
	int err;

	if (!(img->id = dc__strdup(ar->ctx, src->config.digest)))
		return DC_ENOMEM;
	if (src->ntags || (src->index && src->index->ntags)) {
		char **tags = src->ntags ? src->tags : src->index->tags;
		size_t nt = src->ntags ? src->ntags : src->index->ntags;

		if (!(img->tags = dc__calloc(ar->ctx, nt, sizeof(char *))))
			return DC_ENOMEM;
		for (i = 0; i < nt; i++, img->ntags++)
			if (!(img->tags[i] = dc__strdup(ar->ctx, tags[i])))
				return DC_ENOMEM;
	}
	if (!(img->layers = dc__calloc(ar->ctx, src->nlayers + 1,
				       sizeof(*img->layers))))
		return DC_ENOMEM;
	img->nlayers = src->nlayers;
	for (L = 0; L < src->nlayers; L++) {
		img->layers[L].compressed = src->layers[L].size;
		if (!(img->layers[L].digest = dc__strdup(ar->ctx,
						src->layers[L].digest)))
			return DC_ENOMEM;
	}
	if ((err = config(ar, src, &cfg)) < 0)
		goto out;
	if ((err = dc__an_tables_new(ar->ctx, &t)) < 0)
		goto out;
	for (L = 0; L < src->nlayers; L++) {
		struct dc_an_layer *ly = &img->layers[L];

		ar->layer = (int)L;
		ar->n = 0;
		if ((err = read_layer(ar, r, &src->layers[L], ly)) < 0 ||
		    (err = dc__an_tables_layer(t, (int)L, ar->e, ar->n, ly)) < 0)
			goto out;
		ar->base += ar->n;
		ar->n = 0;
		img->size_bytes += (uint64_t)ly->size_bytes;
		if (L)
			img->user_size_bytes += (uint64_t)ly->size_bytes;
		img->layers_tar_bytes += (uint64_t)ly->tar_bytes;
	}
	if ((err = dc__an_tables_finish(t, img)) < 0)
		goto out;
	img->user_wasted_percent = (double)img->wasted_bytes /
				   (double)img->user_size_bytes;
	for (i = 0; i < img->nsecrets; i++) {
		struct dc_an_secret *s = &img->secrets[i];

		if (s->where == AN_IN_FILE)
			s->visible = img->ent[s->entry].fate == AN_VISIBLE;
	}
out:
	for (i = 0; i < ar->n; i++) {
		free(ar->e[i].path);
		free(ar->e[i].link);
	}
	ar->n = 0;
	dc__an_tables_free(t);
	json_decref(cfg);
	return err;
}

int dc__analyze(struct dc_reader *r, const struct dc_set *set,
		struct dc_an_report **out)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_an_report *rep;
	struct an_run ar;
	size_t i;
	int err;

	*out = NULL;
	memset(&ar, 0, sizeof(ar));
	ar.ctx = ctx;
	if (!(rep = dc__calloc(ctx, 1, sizeof(*rep))))
		return DC_ENOMEM;
	if (!(rep->format = dc__strdup(ctx, set->format)) ||
	    !(rep->img = dc__calloc(ctx, set->n + 1, sizeof(*rep->img)))) {
		err = dc__enomem(ctx);
		goto out;
	}
	if ((err = dc__an_scan_new(ctx, &ar.scan)) < 0 ||
	    (err = dc__hash_new(ctx, &ar.h)) < 0)
		goto out;
	if (!(ar.aw = archive_write_new())) {
		err = dc__enomem(ctx);
		goto out;
	}
	/* as the squash writes its tar */
	archive_write_set_format_pax_restricted(ar.aw);
	archive_write_set_bytes_per_block(ar.aw, 0);
	archive_write_set_bytes_in_last_block(ar.aw, 1);
	if (archive_write_open2(ar.aw, &ar, NULL, count_write, NULL, NULL) !=
	    ARCHIVE_OK) {
		err = dc_error(ctx, DC_ENOMEM, "tar writer: %s",
			       archive_error_string(ar.aw));
		goto out;
	}
	for (i = 0; i < set->n; i++) {
		ar.img = &rep->img[i];
		ar.base = 0;
		rep->n++;
		if ((err = analyze_image(&ar, r, set->img[i])) < 0) {
			err = dc__error_in(ctx, r->src->label);
			goto out;
		}
	}
	*out = rep;
	rep = NULL;
out:
	if (ar.aw)
		archive_write_free(ar.aw);
	free(ar.e);
	dc__hash_free(ar.h);
	dc__an_scan_free(ar.scan);
	dc__analyze_free(rep);
	return err;
}

void dc__analyze_free(struct dc_an_report *rep)
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
