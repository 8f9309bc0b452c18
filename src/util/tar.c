/*
 * Tar: a header-only index over a seekable archive (no data is read,
 * so indexing a 20 GB archive reads a few KB per member), and a small
 * deterministic writer.
 *
 * The reader understands what the producers we know write: POSIX ustar
 * with prefix, GNU long names ('L'/'K') and base-256 sizes, PAX 'x'
 * records (path, linkpath, size), and ignores PAX 'g' (as moby does).
 */
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

#define BLK 512

static int src_pread(struct dc_src *src, void *buf, size_t n, uint64_t off,
		     size_t *got)
{
	*got = 0;
	if (src->mem) {
		if (off >= src->memlen)
			return 0;
		if (n > src->memlen - off)
			n = (size_t)(src->memlen - off);
		memcpy(buf, src->mem + off, n);
		*got = n;
		return 0;
	}
	while (*got < n) {
		ssize_t r = src->parts ?
			    dc__parts_pread(src->parts, (char *)buf + *got,
					    n - *got, off + *got) :
			    pread(src->fd, (char *)buf + *got, n - *got,
				  (off_t)(off + *got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return dc_error(src->ctx, DC_EIO, "read failed: %s",
					strerror(errno));
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static uint64_t src_size(struct dc_src *src)
{
	off_t end;

	if (src->mem)
		return src->memlen;
	if (src->parts)
		return src->parts->total;
	end = lseek(src->fd, 0, SEEK_END);
	return end < 0 ? 0 : (uint64_t)end;
}

/* Octal (space/NUL padded) or GNU base-256. -1 if malformed. */
static int64_t parse_num(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i = 0;

	if (p[0] & 0x80) {
		if (p[0] & 0x40)
			return -1;	/* negative */
		v = p[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v > (UINT64_MAX >> 9))
				return -1;
			v = (v << 8) | p[i];
		}
		return v > INT64_MAX ? -1 : (int64_t)v;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\0'))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 4))
			return -1;
		v = (v << 3) | (uint64_t)(p[i] - '0');
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\0')
			return -1;
	return v > INT64_MAX ? -1 : (int64_t)v;
}

static int checksum_ok(const unsigned char *h)
{
	int64_t want = parse_num(h + 148, 8);
	uint64_t u = 0;
	int64_t s = 0;
	int i;

	for (i = 0; i < BLK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];

		u += c;
		s += (signed char)c;
	}
	return want >= 0 && ((uint64_t)want == u || want == s);
}

static int all_zero(const unsigned char *h)
{
	int i;

	for (i = 0; i < BLK; i++)
		if (h[i])
			return 0;
	return 1;
}

static char *field_str(const unsigned char *p, size_t n)
{
	size_t len = strnlen((const char *)p, n);
	char *s = dc__malloc(NULL, len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* Read a member's data (a long name or PAX block), capped. */
static int read_meta(struct dc_src *src, uint64_t off, int64_t size,
		     struct dc_buf *b)
{
	char tmp[BLK];
	uint64_t left;
	int err;

	b->len = 0;
	if (size < 0 || size > 1 << 20)
		return dc_error(src->ctx, DC_ELIMIT,
				"tar extended header at offset %llu too large",
				(unsigned long long)off);
	for (left = (uint64_t)size; left;) {
		size_t want = left > sizeof(tmp) ? sizeof(tmp) : (size_t)left;
		size_t got;

		if ((err = src_pread(src, tmp, want, off, &got)) < 0)
			return err;
		if (got != want)
			return dc_error(src->ctx, DC_ECORRUPT,
					"truncated archive: tar extended header at offset %llu",
					(unsigned long long)off);
		if ((err = dc__buf_add(src->ctx, b, tmp, got)) < 0)
			return err;
		off += got;
		left -= got;
	}
	if (!b->data && (err = dc__buf_add(src->ctx, b, "", 0)) < 0)
		return err;
	return 0;
}

/* PAX records "LEN key=value\n": keep path, linkpath and size. */
static int parse_pax(struct dc_src *src, const struct dc_buf *b,
		     char **path, char **link, int64_t *size, uint64_t off)
{
	size_t pos = 0;

	while (pos < b->len) {
		size_t len = 0, i = pos, klen;
		const char *rec, *eq, *val;

		while (i < b->len && b->data[i] >= '0' && b->data[i] <= '9') {
			len = len * 10 + (size_t)(b->data[i] - '0');
			if (len > b->len)
				break;
			i++;
		}
		if (i >= b->len || b->data[i] != ' ' || len == 0 ||
		    len > b->len - pos || b->data[pos + len - 1] != '\n')
			return dc_error(src->ctx, DC_ECORRUPT,
					"corrupt PAX header at offset %llu",
					(unsigned long long)off);
		rec = b->data + i + 1;
		eq = memchr(rec, '=', (size_t)(b->data + pos + len - 1 - rec));
		if (!eq)
			return dc_error(src->ctx, DC_ECORRUPT,
					"corrupt PAX record at offset %llu",
					(unsigned long long)off);
		klen = (size_t)(eq - rec);
		val = eq + 1;
		{
			size_t vlen = (size_t)(b->data + pos + len - 1 - val);
			char *v = dc__malloc(src->ctx, vlen + 1);

			if (!v)
				return DC_ENOMEM;
			memcpy(v, val, vlen);
			v[vlen] = '\0';
			if (klen == 4 && !memcmp(rec, "path", 4)) {
				free(*path);
				*path = v;
			} else if (klen == 8 && !memcmp(rec, "linkpath", 8)) {
				free(*link);
				*link = v;
			} else if (klen == 4 && !memcmp(rec, "size", 4)) {
				char *end;
				unsigned long long n = strtoull(v, &end, 10);
				int bad = !*v || *end || n > INT64_MAX;

				free(v);
				if (bad)
					return dc_error(src->ctx, DC_ECORRUPT,
							"corrupt PAX size at offset %llu",
							(unsigned long long)off);
				*size = (int64_t)n;
			} else {
				free(v);
			}
		}
		pos += len;
	}
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	const struct dc_member *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	/* later members win: keep archive order among equal names */
	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * What the index holds: the table (as grown, by doubling) and each
 * name and link with malloc's overhead. Half of the memory limit may go
 * to it: 150,000 members of 4 KiB names would otherwise take 600 MB.
 */
#define MALLOC_OVERHEAD 16

static int index_budget(struct dc_src *src, uint64_t *used, size_t cap,
			const char *name, const char *link)
{
	uint64_t max = dc__max_memory(src->ctx) / 2;
	char lim[32], all[32];

	*used += strlen(name) + 1 + MALLOC_OVERHEAD;
	if (link)
		*used += strlen(link) + 1 + MALLOC_OVERHEAD;
	if (*used + (uint64_t)cap * sizeof(struct dc_member) <= max)
		return 0;
	return dc_error(src->ctx, DC_ELIMIT,
			"the tar member index (%zu members so far) is over the %s limit, half of --max-memory (%s); raise --max-memory to read it",
			src->n, dc__mem_str(lim, sizeof(lim), max),
			dc__mem_str(all, sizeof(all), dc__max_memory(src->ctx)));
}

static int add_member(struct dc_src *src, size_t *cap, uint64_t *used,
		      char *name, char *link, enum dc_mtype type,
		      uint64_t off, uint64_t size)
{
	struct dc_member *m;
	char *clean = NULL;
	size_t nc;
	int err;

	if (src->n >= DC_MAX_MEMBERS) {
		err = dc_error(src->ctx, DC_ELIMIT,
			       "more than %u members in the archive",
			       DC_MAX_MEMBERS);
		goto fail;
	}
	/* the root entry "./" and empty names carry nothing we use */
	if (!*name || !strcmp(name, ".") || !strcmp(name, "./") ||
	    !strcmp(name, "/")) {
		free(name);
		free(link);
		return 0;
	}
	if ((err = dc__path_clean(src->ctx, &clean, name, "member name")) < 0)
		goto fail;
	free(name);
	name = NULL;
	nc = src->n < *cap ? *cap : *cap ? *cap * 2 : 64;
	if ((err = index_budget(src, used, nc, clean, link)) < 0)
		goto fail;
	if (nc != *cap) {
		m = dc__reallocarray(src->ctx, src->m, nc, sizeof(*m));
		if (!m) {
			err = DC_ENOMEM;
			goto fail;
		}
		src->m = m;
		*cap = nc;
	}
	m = &src->m[src->n++];
	m->name = clean;
	m->link = link;
	m->type = type;
	m->off = off;
	m->size = size;
	return 0;
fail:
	free(clean);
	free(name);
	free(link);
	return err;
}

int dc__tar_index(struct dc_src *src)
{
	struct dc_ctx *ctx = src->ctx;
	unsigned char h[BLK];
	struct dc_buf meta = DC_BUF_INIT;
	char *pax_path = NULL, *pax_link = NULL, *gnu_name = NULL,
	     *gnu_link = NULL;
	int64_t pax_size = -1;
	uint64_t pos = 0, total = src_size(src), used = 0;
	size_t cap = 0, i, j;
	int err = 0, first = 1;

	for (;;) {
		size_t got;
		int64_t size;
		uint64_t data, skip;
		char type;

		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
		if ((err = src_pread(src, h, BLK, pos, &got)) < 0)
			goto out;
		if (got == 0 && !first)
			break;	/* no end-of-archive marker: tolerated */
		if (got < BLK) {
			err = first ? dc_error(ctx, DC_EFORMAT,
					       "not a tar archive (%zu bytes)", got)
				    : dc_error(ctx, DC_ECORRUPT,
					       "truncated archive: partial tar header at offset %llu",
					       (unsigned long long)pos);
			goto out;
		}
		if (all_zero(h)) {
			if (first) {
				err = dc_error(ctx, DC_EFORMAT,
					       "empty archive: no members");
				goto out;
			}
			break;
		}
		if (!checksum_ok(h)) {
			err = first ? dc_error(ctx, DC_EFORMAT,
					       "unknown format: not a tar archive, OCI layout or compressed archive")
				    : dc_error(ctx, DC_ECORRUPT,
					       "corrupt tar header at offset %llu (bad checksum)",
					       (unsigned long long)pos);
			goto out;
		}
		first = 0;
		size = pax_size >= 0 ? pax_size : parse_num(h + 124, 12);
		if (size < 0) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "corrupt tar header at offset %llu (bad size)",
				       (unsigned long long)pos);
			goto out;
		}
		type = (char)h[156];
		data = pos + BLK;
		skip = type == '1' || type == '2' || type == '3' ||
		       type == '4' || type == '5' || type == '6' ? 0 :
		       (uint64_t)size;
		if (skip > total || data > total - skip) {
			char *nm = gnu_name ? gnu_name : pax_path;
			char nb[101];

			if (!nm) {
				memcpy(nb, h, 100);
				nb[100] = '\0';
				nm = nb;
			}
			err = dc_error(ctx, DC_ECORRUPT,
				       "truncated archive: member '%s' needs %lld bytes, %llu left",
				       nm, (long long)size,
				       (unsigned long long)(total - data));
			goto out;
		}
		if (type == 'x' || type == 'L' || type == 'K') {
			if ((err = read_meta(src, data, size, &meta)) < 0)
				goto out;
			if (type == 'x')
				err = parse_pax(src, &meta, &pax_path, &pax_link,
						&pax_size, pos);
			else if (type == 'L') {
				free(gnu_name);
				gnu_name = field_str((unsigned char *)meta.data, meta.len);
				err = gnu_name ? 0 : dc__enomem(ctx);
			} else {
				free(gnu_link);
				gnu_link = field_str((unsigned char *)meta.data, meta.len);
				err = gnu_link ? 0 : dc__enomem(ctx);
			}
			if (err < 0)
				goto out;
		} else if (type == 'g') {
			/* global PAX records: ignored, as moby does */
		} else {
			char *name, *link = NULL;
			enum dc_mtype mt;
			int64_t mtime = parse_num(h + 136, 12);

			if (mtime > 0 && (uint64_t)mtime > src->max_mtime)
				src->max_mtime = (uint64_t)mtime;

			if (pax_path) {
				name = pax_path;
				pax_path = NULL;
			} else if (gnu_name) {
				name = gnu_name;
				gnu_name = NULL;
			} else if (!memcmp(h + 257, "ustar\0", 6) && h[345]) {
				char *pre = field_str(h + 345, 155);
				char *nm = field_str(h, 100);
				size_t a, b;

				name = NULL;
				if (pre && nm) {
					a = strlen(pre);
					b = strlen(nm);
					name = dc__malloc(NULL, a + b + 2);
					if (name) {
						memcpy(name, pre, a);
						name[a] = '/';
						memcpy(name + a + 1, nm, b + 1);
					}
				}
				free(pre);
				free(nm);
			} else {
				name = field_str(h, 100);
			}
			if (!name) {
				err = dc__enomem(ctx);
				goto out;
			}
			switch (type) {
			case '0': case '\0': case '7': mt = DC_M_FILE; break;
			case '1': mt = DC_M_HARDLINK; break;
			case '2': mt = DC_M_SYMLINK; break;
			case '5': mt = DC_M_DIR; break;
			default: mt = DC_M_OTHER; break;
			}
			if (mt == DC_M_HARDLINK || mt == DC_M_SYMLINK) {
				if (pax_link) {
					link = pax_link;
					pax_link = NULL;
				} else if (gnu_link) {
					link = gnu_link;
					gnu_link = NULL;
				} else {
					link = field_str(h + 157, 100);
				}
				if (!link) {
					free(name);
					err = dc__enomem(ctx);
					goto out;
				}
			}
			err = add_member(src, &cap, &used, name, link, mt, data,
					 mt == DC_M_FILE ? (uint64_t)size : 0);
			if (err < 0)
				goto out;
			free(pax_path);
			free(pax_link);
			free(gnu_name);
			free(gnu_link);
			pax_path = pax_link = gnu_name = gnu_link = NULL;
			pax_size = -1;
		}
		pos = data + ((skip + BLK - 1) / BLK) * BLK;
	}
	/* sort by name; among duplicates the last in the archive wins */
	if (src->n)
		qsort(src->m, src->n, sizeof(*src->m), cmp_member);
	for (i = 0, j = 0; i < src->n; i++) {
		if (i + 1 < src->n && !strcmp(src->m[i].name, src->m[i + 1].name)) {
			free(src->m[i].name);
			free(src->m[i].link);
			continue;
		}
		src->m[j++] = src->m[i];
	}
	src->n = j;
out:
	free(pax_path);
	free(pax_link);
	free(gnu_name);
	free(gnu_link);
	dc__buf_release(&meta);
	return err;
}

/* ------------------------------------------------------------------ */
/* Writer */

uint64_t dc__epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return 0;
	v = strtoull(s, &end, 10);
	return *end ? 0 : (uint64_t)v;
}

static void put_octal(unsigned char *p, size_t n, uint64_t v)
{
	p[--n] = '\0';
	while (n--) {
		p[n] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
}

static int pax_record(struct dc_ctx *ctx, struct dc_buf *b, const char *key,
		      const char *val)
{
	size_t base = strlen(key) + strlen(val) + 3, len = base, digits;

	/* the length includes its own digits */
	for (;;) {
		char tmp[32];

		digits = (size_t)snprintf(tmp, sizeof(tmp), "%zu", len);
		if (base + digits == len)
			break;
		len = base + digits;
	}
	return dc__buf_addf(ctx, b, "%zu %s=%s\n", len, key, val);
}

/* A one-block header; a SIZE past octal's 11 digits in GNU base-256. */
static void format_header(unsigned char h[BLK], const char *name, char type,
			  uint64_t size, unsigned mode, const char *link)
{
	unsigned sum = 0;
	int i;

	memset(h, 0, BLK);
	memcpy(h, name, strnlen(name, 100));
	put_octal(h + 100, 8, mode);
	put_octal(h + 108, 8, 0);
	put_octal(h + 116, 8, 0);
	if (size > 077777777777ULL) {
		h[124] = 0x80;
		for (i = 11; i > 0; i--, size >>= 8)
			h[124 + i] = (unsigned char)size;
	} else {
		put_octal(h + 124, 12, size);
	}
	put_octal(h + 136, 12, dc__epoch());
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	for (i = 0; i < BLK; i++)
		sum += h[i];
	put_octal(h + 148, 7, sum);
	h[155] = ' ';
}

static int raw_header(struct dc_out *o, const char *name, char type,
		      uint64_t size, unsigned mode, const char *link)
{
	unsigned char h[BLK];

	format_header(h, name, type, size, mode, link);
	return dc__out_write(o, h, BLK);
}

int dc__tarw_align(struct dc_out *o, unsigned align)
{
	uint64_t pos = o->written;
	size_t len, fill, digits;
	char *rec;
	int err;

	if (pos % BLK || align % BLK || (pos + BLK) % align == 0)
		return 0;
	/* a PAX header whose one "comment" record (ignored by readers)
	 * fills whole blocks up to where the next header must start */
	len = (size_t)((align - (pos + 2 * BLK) % align) % align);
	if (!len)
		len = align;
	digits = len >= 1000 ? 4 : 3;	/* 512 <= len <= 4096 */
	fill = len - digits - sizeof(" comment=\n") + 1;
	if (!(rec = dc__malloc(o->ctx, len + 1)))
		return DC_ENOMEM;
	snprintf(rec, len + 1, "%zu comment=%*s\n", len, (int)fill, "");
	memset(rec + digits + 9, '.', fill);
	if ((err = raw_header(o, "PaxHeader", 'x', len, 0644, NULL)) == 0)
		err = dc__out_write(o, rec, len);
	free(rec);
	return err;
}

int dc__tarw_placeholder(struct dc_out *o)
{
	static const unsigned char zero[BLK];

	return dc__out_write(o, zero, BLK);
}

int dc__tarw_open_member(struct dc_outfile *f, unsigned align,
			 uint64_t *from, uint64_t *at, int *fd)
{
	struct dc_out *o = &f->o;
	off_t here;
	int err;

	if (!f->tmp)
		return 1;	/* a pipe or a device: not seekable */
	*from = o->written;
	if ((err = dc__tarw_align(o, align)) < 0 ||
	    (err = dc__tarw_placeholder(o)) < 0 ||
	    (err = dc__out_flush(o)) < 0)
		return err;
	if ((here = lseek(f->fd, 0, SEEK_CUR)) < BLK)
		return dc_error(o->ctx, DC_EIO, "'%s': %s", o->label,
				here < 0 ? strerror(errno) : "not at a member");
	*at = (uint64_t)here - BLK;
	*fd = f->fd;
	return 0;
}

int dc__tarw_reserve(struct dc_outfile *f, uint64_t size, int *fd,
		     uint64_t *off, int *own)
{
	int err;

	if ((err = dc__out_skip(&f->o, size, off)) < 0)
		return err;
	*fd = f->fd;
	*own = 0;
	return dc__tarw_pad(&f->o, size);
}

int dc__tarw_patch(struct dc_out *o, uint64_t at, const char *name,
		   uint64_t size)
{
	unsigned char h[BLK];
	ssize_t w;

	if (strlen(name) > 100)
		DC_BUG("tar name '%s' does not fit a header", name);
	format_header(h, name, '0', size, 0644, NULL);
	do
		w = pwrite(o->fd, h, BLK, (off_t)at);
	while (w < 0 && errno == EINTR);
	if (w != BLK)
		return dc_error(o->ctx, DC_EIO, "'%s': write failed: %s",
				o->label, w < 0 ? strerror(errno) : "short write");
	return 0;
}

int dc__tarw_header1(struct dc_out *o, const char *name, uint64_t size)
{
	if (strlen(name) > 100)
		DC_BUG("tar name '%s' does not fit a header", name);
	return raw_header(o, name, '0', size, 0644, NULL);
}

int dc__tarw_header(struct dc_out *o, const char *name, enum dc_mtype type,
		    uint64_t size, unsigned mode, const char *link)
{
	char t = type == DC_M_DIR ? '5' : type == DC_M_SYMLINK ? '2' :
		 type == DC_M_HARDLINK ? '1' : '0';
	int err;

	if (strlen(name) > 100 || (link && strlen(link) > 100) ||
	    size > 077777777777ULL) {
		struct dc_buf pax = DC_BUF_INIT;
		char num[32];

		if (strlen(name) > 100)
			err = pax_record(o->ctx, &pax, "path", name);
		else
			err = 0;
		if (!err && link && strlen(link) > 100)
			err = pax_record(o->ctx, &pax, "linkpath", link);
		if (!err && size > 077777777777ULL) {
			snprintf(num, sizeof(num), "%llu",
				 (unsigned long long)size);
			err = pax_record(o->ctx, &pax, "size", num);
		}
		if (!err)
			err = raw_header(o, "PaxHeader", 'x', pax.len, 0644,
					 NULL);
		if (!err)
			err = dc__out_write(o, pax.data, pax.len);
		if (!err)
			err = dc__tarw_pad(o, pax.len);
		dc__buf_release(&pax);
		if (err)
			return err;
		if (size > 077777777777ULL)
			size = 0;	/* the PAX size record rules */
	}
	return raw_header(o, name, t, size, mode, link);
}

int dc__tarw_pad(struct dc_out *o, uint64_t size)
{
	static const unsigned char zero[BLK];
	size_t pad = (size_t)((BLK - size % BLK) % BLK);

	return pad ? dc__out_write(o, zero, pad) : 0;
}

int dc__tarw_file(struct dc_out *o, const char *name, const void *p,
		  size_t n)
{
	int err;

	if ((err = dc__tarw_header(o, name, DC_M_FILE, n, 0644, NULL)) < 0 ||
	    (err = dc__out_write(o, p, n)) < 0)
		return err;
	return dc__tarw_pad(o, n);
}

int dc__tarw_end(struct dc_out *o)
{
	static const unsigned char zero[2 * BLK];

	return dc__out_write(o, zero, sizeof(zero));
}
