/*
 * Several sources as one: the union of their images (a bundle) and a
 * byte source that opens each blob from a source that holds it, found
 * by digest. Blobs are verified by the caller's descriptor as always;
 * the source's own descriptor only says where the bytes lie.
 */
#include "readers/readers.h"
#include "blob/blob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "readers/readers.h"

/* a blob one of the sources holds */
struct mblob {
	struct dc_desc d;	/* a copy of the source's descriptor */
	size_t src;		/* which source */
	size_t seq;		/* insertion order: the first source wins */
};

struct multi {
	struct dc_reader **r;
	size_t n;
	size_t nsrc;		/* r[0..nsrc) hold the images, then bases */
	struct dc_set **keep;	/* sets of base sources, owned */
	size_t nkeep;
	struct mblob *b;
	size_t nb, capb;
	int sorted;
	char label[512];
};

static int mblob_cmp(const void *a, const void *b)
{
	const struct mblob *x = a, *y = b;
	int c = strcmp(x->d.digest, y->d.digest);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void multi_close(struct dc_reader *r)
{
	struct multi *m = r->priv;
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		dc_reader_free(m->r[i]);
	free(m->r);
	for (i = 0; i < m->nkeep; i++)
		dc_set_free(m->keep[i]);
	free(m->keep);
	for (i = 0; i < m->nb; i++)
		dc__desc_release(&m->b[i].d);
	free(m->b);
	m->r = NULL;
	m->keep = NULL;
	m->b = NULL;
	m->n = m->nkeep = m->nb = 0;
}

static int multi_load(struct dc_reader *r, struct dc_set **out)
{
	(void)out;
	return dc_error(r->ctx, DC_EINVAL, "a merged source is loaded by dc_reader_merge");
}

const struct dc_reader_ops dc__reader_multi = {
	.name = "multi",
	.priv_size = sizeof(struct multi),
	.load = multi_load,
	.close = multi_close,
};

static int add_blob(struct dc_ctx *ctx, struct multi *m,
		    const struct dc_desc *d, size_t src)
{
	struct mblob *e;
	int err;

	if (!d->digest[0])
		return 0;
	if (m->nb == m->capb) {
		size_t cap = m->capb ? m->capb * 2 : 64;
		struct mblob *p = dc__reallocarray(ctx, m->b, cap, sizeof(*p));

		if (!p)
			return DC_ENOMEM;
		m->b = p;
		m->capb = cap;
	}
	e = &m->b[m->nb];
	if ((err = dc__desc_copy(ctx, &e->d, d)) < 0)
		return err;
	e->src = src;
	e->seq = m->nb++;
	m->sorted = 0;
	return 0;
}

/* every blob of SET's images that source R (number SRC) holds */
static int add_set_blobs(struct dc_ctx *ctx, struct multi *m,
			 const struct dc_set *set, const struct dc_reader *r,
			 size_t src)
{
	size_t i, j;
	int err = 0;

	for (i = 0; i < set->n && !err; i++) {
		const struct dc_image *img = set->img[i];

		err = add_blob(ctx, m, &img->manifest, src);
		if (!err)
			err = add_blob(ctx, m, &img->config, src);
		for (j = 0; j < img->nlayers && !err; j++)
			if (!dc__reader_absent_msg(r, img->layers[j].digest))
				err = add_blob(ctx, m, &img->layers[j], src);
	}
	return err;
}

static const struct mblob *find_blob(struct multi *m, const char *digest)
{
	size_t lo = 0, hi = m->nb;

	if (!m->sorted) {
		if (m->nb)
			qsort(m->b, m->nb, sizeof(*m->b), mblob_cmp);
		m->sorted = 1;
	}
	/* the first entry with DIGEST */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->b[mid].d.digest, digest) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->nb && !strcmp(m->b[lo].d.digest, digest) ? &m->b[lo] :
	       NULL;
}

/* the source of blob D as a byte source reporting to BS's context */
static int sub_bsrc(const struct dc_bsrc *bs, const struct dc_desc *d,
		    struct dc_bsrc *sub, const struct dc_desc **sd)
{
	struct dc_reader *r = bs->arg;
	struct multi *m = r->priv;
	const struct mblob *e = find_blob(m, d->digest);

	if (!e)
		return dc_error(bs->ctx, DC_ECORRUPT,
				"blob '%s': none of the sources holds it",
				d->digest);
	dc__reader_blobs(m->r[e->src], sub);
	sub->ctx = bs->ctx;
	*sd = &e->d;
	return 0;
}

static int multi_open(const struct dc_bsrc *bs, const struct dc_desc *d,
		      struct dc_stream **out)
{
	const struct dc_desc *sd;
	struct dc_bsrc sub;
	int err;

	if ((err = sub_bsrc(bs, d, &sub, &sd)) < 0)
		return err;
	if ((err = sub.open(&sub, sd, out)) < 0)
		return dc__error_in(bs->ctx, sub.label);
	return 0;
}

static int multi_range(const struct dc_bsrc *bs, const struct dc_desc *d,
		       int *fd, int *own, uint64_t *off, uint64_t *len)
{
	const struct dc_desc *sd;
	struct dc_bsrc sub;

	if (sub_bsrc(bs, d, &sub, &sd) < 0)
		return 1;	/* open() says why */
	return sub.range ? sub.range(&sub, sd, fd, own, off, len) : 1;
}

void dc__multi_blobs(struct dc_reader *r, struct dc_bsrc *out)
{
	struct multi *m = r->priv;

	/* sort now, on the owner's thread: workers only search */
	find_blob(m, "");
	memset(out, 0, sizeof(*out));
	out->ctx = r->ctx;
	out->label = m->label;
	out->open = multi_open;
	out->range = multi_range;
	out->arg = r;
}

int dc__multi_is_dest(const struct dc_reader *r, const char *dest,
		      int (*same)(const struct dc_reader *, const char *))
{
	const struct multi *m = r->priv;
	size_t i;

	for (i = 0; i < m->nsrc; i++)
		if (same(m->r[i], dest))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The union of the images */

/* What a name of IMG stands for: its index, else its config. */
static const char *identity(const struct dc_image *img)
{
	return img->index ? img->index->desc.digest : img->config.digest;
}

/* One image twice: the same index, or the same config (image ID) out
 * of any index, whatever its manifest's media types and compression */
static int same_image(const struct dc_image *a, const struct dc_image *b)
{
	if (!!a->index != !!b->index)
		return 0;
	if (a->index)
		return !strcmp(a->index->desc.digest, b->index->desc.digest) &&
		       !strcmp(a->manifest.digest, b->manifest.digest);
	return !strcmp(a->config.digest, b->config.digest);
}

struct merge {
	struct dc_ctx *ctx;
	struct dc_set *out;
	size_t *from;		/* source of each image of OUT */
	struct dc_reader **rs;
};

/* IMG of source S claims no name an image of another kept source
 * claims for something else */
static int check_names(struct merge *mg, const struct dc_image *img,
		       size_t s)
{
	size_t i, j, k;

	for (i = 0; i < mg->out->n; i++) {
		const struct dc_image *o = mg->out->img[i];

		if (!strcmp(identity(o), identity(img)))
			continue;
		for (j = 0; j < dc_image_tag_count(img); j++)
			for (k = 0; k < dc_image_tag_count(o); k++)
				if (!strcmp(dc_image_tag(img, j),
					    dc_image_tag(o, k)))
					return dc_error(mg->ctx, DC_EFORMAT,
							"'%s': two different images claim this name, in '%s' (%.19s) and in '%s' (%.19s)",
							dc_image_tag(img, j),
							mg->rs[mg->from[i]]->src->label,
							identity(o),
							mg->rs[s]->src->label,
							identity(img));
	}
	return 0;
}

/* Move the images and indexes of SET (source S) into the union. */
static int merge_one(struct merge *mg, struct dc_set *set, size_t s)
{
	struct dc_ctx *ctx = mg->ctx;
	struct dc_set *out = mg->out;
	size_t i, j, k;
	int err;

	for (i = 0; i < set->n; i++) {
		struct dc_image *img = set->img[i];

		if ((err = check_names(mg, img, s)) < 0)
			return err;
	}
	for (i = 0; i < set->n; i++) {
		struct dc_image *img = set->img[i];
		size_t *p;

		for (k = 0; k < out->n; k++)
			if (same_image(out->img[k], img))
				break;
		if (k < out->n) {
			/* one image twice: once, with all its names */
			for (j = 0; !img->index && j < img->ntags; j++)
				if ((err = dc__image_add_tag(ctx, out->img[k],
							     img->tags[j])) < 0)
					return err;
			if (img->index)
				img->index->nimages--;
			continue;
		}
		if (!(p = dc__reallocarray(ctx, mg->from, out->n + 1,
					   sizeof(*p))))
			return DC_ENOMEM;
		mg->from = p;
		if ((err = dc__set_add(ctx, out, img)) < 0)
			return err;
		set->img[i] = NULL;
		mg->from[out->n - 1] = s;
	}
	for (i = 0; i < set->nidx; i++) {
		struct dc_index **p;

		if (!set->idx[i]->nimages)
			continue;
		if (!(p = dc__reallocarray(ctx, out->idx, out->nidx + 1,
					   sizeof(*p))))
			return DC_ENOMEM;
		out->idx = p;
		out->idx[out->nidx++] = set->idx[i];
		set->idx[i] = NULL;
	}
	/* what was not moved is a duplicate: freed with SET */
	for (i = j = 0; i < set->n; i++)
		if (set->img[i])
			set->img[j++] = set->img[i];
	set->n = j;
	for (i = j = 0; i < set->nidx; i++)
		if (set->idx[i])
			set->idx[j++] = set->idx[i];
	set->nidx = j;
	return 0;
}

static void make_label(struct multi *m)
{
	size_t i, len = 0;

	for (i = 0; i < m->n && len + 8 < sizeof(m->label); i++) {
		const char *l = m->r[i]->src->label;
		int k = snprintf(m->label + len, sizeof(m->label) - len,
				 "%s%s", i ? ", " : "",
				 strcmp(l, "-") ? l : "stdin");

		if (k < 0 || (size_t)k >= sizeof(m->label) - len) {
			snprintf(m->label + len, sizeof(m->label) - len,
				 ", ...");
			break;
		}
		len += (size_t)k;
	}
}

int dc_reader_merge(struct dc_ctx *ctx, struct dc_reader **rs,
		    struct dc_set **sets, size_t n, struct dc_reader **out,
		    struct dc_set **set)
{
	struct dc_reader *r = NULL;
	struct multi *m = NULL;
	struct merge mg;
	size_t i, j;
	int err;

	*out = NULL;
	*set = NULL;
	memset(&mg, 0, sizeof(mg));
	mg.ctx = ctx;
	mg.rs = rs;
	ctx->code = 0;
	if (!n) {
		err = dc_error(ctx, DC_EINVAL, "no sources to merge");
		goto out;
	}
	if (!(r = dc__calloc(ctx, 1, sizeof(*r))) ||
	    !(r->priv = m = dc__calloc(ctx, 1, sizeof(*m))) ||
	    !(m->r = dc__calloc(ctx, n, sizeof(*m->r)))) {
		err = DC_ENOMEM;
		goto out;
	}
	r->ctx = ctx;
	r->ops = &dc__reader_multi;
	for (i = 0; i < n; i++)
		if (strcmp(sets[i]->format, sets[0]->format))
			break;
	if ((err = dc__set_new(ctx, &mg.out, i < n ? "mixed" :
			       sets[0]->format)) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((err = merge_one(&mg, sets[i], i)) < 0)
			goto out;
	for (i = 0; i < mg.out->n; i++) {
		struct dc_set one;
		struct dc_image *img = mg.out->img[i];

		memset(&one, 0, sizeof(one));
		one.img = &img;
		one.n = 1;
		if ((err = add_set_blobs(ctx, m, &one, rs[mg.from[i]],
					 mg.from[i])) < 0)
			goto out;
	}
	/* the readers are the merged one's from here on */
	for (i = 0; i < n; i++) {
		m->r[i] = rs[i];
		rs[i] = NULL;
	}
	m->n = m->nsrc = n;
	make_label(m);
	*out = r;
	*set = mg.out;
	r = NULL;
	mg.out = NULL;
out:
	for (j = 0; j < n; j++) {
		dc_set_free(sets[j]);
		sets[j] = NULL;
		dc_reader_free(rs[j]);
		rs[j] = NULL;
	}
	dc_set_free(mg.out);
	free(mg.from);
	dc_reader_free(r);
	return err;
}

int dc_reader_add_base(struct dc_reader *r, struct dc_reader *base,
		       struct dc_set *set)
{
	struct dc_ctx *ctx = r->ctx;
	struct multi *m = r->ops == &dc__reader_multi ? r->priv : NULL;
	struct dc_reader **pr = NULL;
	struct dc_set **ps = NULL;
	size_t nb0 = m ? m->nb : 0;
	int err;

	if (!m) {
		err = dc_error(ctx, DC_EINVAL, "a base is added to a merged source");
		goto fail;
	}
	if (!(pr = dc__reallocarray(ctx, m->r, m->n + 1, sizeof(*pr)))) {
		err = DC_ENOMEM;
		goto fail;
	}
	m->r = pr;
	if (!(ps = dc__reallocarray(ctx, m->keep, m->nkeep + 1, sizeof(*ps)))) {
		err = DC_ENOMEM;
		goto fail;
	}
	m->keep = ps;
	if ((err = add_set_blobs(ctx, m, set, base, m->n)) < 0)
		goto fail;
	m->r[m->n++] = base;
	m->keep[m->nkeep++] = set;
	return 0;
fail:
	/* no entry may name a source that is not there */
	while (m && m->nb > nb0)
		dc__desc_release(&m->b[--m->nb].d);
	dc_reader_free(base);
	dc_set_free(set);
	return err;
}

int dc_reader_missing(struct dc_reader *r, const struct dc_set *set,
		      dc_missing_fn fn, void *arg)
{
	struct multi *m = r->ops == &dc__reader_multi ? r->priv : NULL;
	size_t i, j, k, n = 0;

	for (i = 0; i < set->n; i++) {
		const struct dc_image *img = set->img[i];

		for (j = 0; j < img->nlayers; j++) {
			const struct dc_desc *l = &img->layers[j];
			int have = m ? find_blob(m, l->digest) != NULL :
				   !dc__reader_absent_msg(r, l->digest);

			if (have)
				continue;
			/* once per blob: the first image that needs it */
			for (k = 0; k <= i; k++) {
				const struct dc_image *o = set->img[k];
				size_t q, lim = k < i ? o->nlayers : j;

				for (q = 0; q < lim; q++)
					if (!strcmp(o->layers[q].digest, l->digest))
						break;
				if (q < lim)
					break;
			}
			if (k <= i)
				continue;
			fn(arg, l);
			n++;
		}
	}
	return (int)(n > INT32_MAX ? INT32_MAX : n);
}
