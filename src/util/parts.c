/*
 * Split sets: NAME.000, NAME.001, ... (each of one size but the last)
 * and NAME.sha256, as `decant convert --split` writes them, read as one
 * file without joining them on disk: positioned reads and streams that
 * cross from one part to the next.
 */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

/* parts in one set at most: 1000 names (.000 to .999) */
#define MAX_PARTS 1000

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int dc__parts_name(const char *path, char *stem, size_t n)
{
	size_t len = strlen(path);
	char buf[4096];

	if (len < 5 || strcmp(path + len - 4, ".000") || len - 4 >= n ||
	    len + 8 > sizeof(buf))
		return 0;
	memcpy(stem, path, len - 4);
	stem[len - 4] = '\0';
	snprintf(buf, sizeof(buf), "%s.sha256", stem);
	if (exists(buf))
		return 1;
	snprintf(buf, sizeof(buf), "%s.001", stem);
	return exists(buf);
}

/* Which parts the set has: its .sha256 lists them; without one, .000 on
 * while they exist. */
static int listed(struct dc_ctx *ctx, const char *stem, size_t *n)
{
	char buf[4096], line[4352];
	const char *base = strrchr(stem, '/');
	FILE *f;
	size_t k = 0;

	base = base ? base + 1 : stem;
	snprintf(buf, sizeof(buf), "%s.sha256", stem);
	if (!(f = fopen(buf, "r"))) {
		for (k = 0; k < MAX_PARTS; k++) {
			snprintf(buf, sizeof(buf), "%s.%03zu", stem, k);
			if (!exists(buf))
				break;
		}
		*n = k;
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char want[4200];
		const char *name = line + 64;
		size_t l = strlen(line);

		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = '\0';
		if (l < 67 || line[64] != ' ')
			continue;
		name += (*name == ' ') + (name[1] == '*' || name[1] == ' ');
		snprintf(want, sizeof(want), "%s.%03zu", base, k);
		if (strcmp(name, want)) {
			fclose(f);
			return dc_error(ctx, DC_ECORRUPT,
					"'%s.sha256': lists '%s' where '%s' belongs",
					stem, name, want);
		}
		if (++k >= MAX_PARTS)
			break;
	}
	fclose(f);
	if (!k)
		return dc_error(ctx, DC_ECORRUPT, "'%s.sha256': lists no parts",
				stem);
	*n = k;
	return 0;
}

void dc__parts_free(struct dc_parts *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		if (p->part[i].fd >= 0)
			close(p->part[i].fd);
		free(p->part[i].name);
	}
	free(p->part);
	free(p);
}

int dc__parts_open(struct dc_ctx *ctx, const char *stem,
		   struct dc_parts **out)
{
	struct dc_parts *p;
	size_t n = 0, i;
	uint64_t at = 0;
	int err;

	*out = NULL;
	if ((err = listed(ctx, stem, &n)) < 0)
		return err;
	if (!(p = dc__calloc(ctx, 1, sizeof(*p))) ||
	    !(p->part = dc__calloc(ctx, n, sizeof(*p->part)))) {
		free(p);
		return DC_ENOMEM;
	}
	for (i = 0; i < n; i++)
		p->part[i].fd = -1;
	p->n = n;
	for (i = 0; i < n; i++) {
		struct dc_part *q = &p->part[i];
		char name[4096];
		struct stat st;

		snprintf(name, sizeof(name), "%s.%03zu", stem, i);
		if (!(q->name = dc__strdup(ctx, name))) {
			err = DC_ENOMEM;
			goto fail;
		}
		if ((q->fd = open(name, O_RDONLY | O_CLOEXEC)) < 0 ||
		    fstat(q->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s': part %zu of %zu is %s", name, i + 1, n,
				       errno == ENOENT ? "missing" :
				       "not a readable file");
			goto fail;
		}
		q->start = at;
		q->size = (uint64_t)st.st_size;
		at += q->size;
		/* every part but the last is as large as the first */
		if (i && i + 1 < n && q->size != p->part[0].size) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s': %llu bytes, the parts of this set are %llu: truncated, or from another set",
				       name, (unsigned long long)q->size,
				       (unsigned long long)p->part[0].size);
			goto fail;
		}
		if (i + 1 == n && n > 1 && q->size > p->part[0].size) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s': the last part is larger than the others: from another set",
				       name);
			goto fail;
		}
		if (!q->size) {
			err = dc_error(ctx, DC_ECORRUPT, "'%s': empty part", name);
			goto fail;
		}
	}
	p->total = at;
	*out = p;
	return 0;
fail:
	dc__parts_free(p);
	return err;
}

/* The part holding byte OFF (OFF < total). */
static size_t part_at(const struct dc_parts *p, uint64_t off)
{
	size_t lo = 0, hi = p->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->part[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

ssize_t dc__parts_pread(const struct dc_parts *p, void *buf, size_t n,
			uint64_t off)
{
	const struct dc_part *q;
	ssize_t got;
	size_t i;

	if (off >= p->total || !n)
		return 0;
	i = part_at(p, off);
	q = &p->part[i];
	if (n > q->start + q->size - off)
		n = (size_t)(q->start + q->size - off);
	do
		got = pread(q->fd, buf, n, (off_t)(off - q->start));
	while (got < 0 && errno == EINTR);
	return got;
}

const char *dc__parts_name_at(const struct dc_parts *p, uint64_t off)
{
	return off < p->total ? p->part[part_at(p, off)].name : NULL;
}

int dc__parts_range(const struct dc_parts *p, uint64_t off, uint64_t len,
		    int *fd, uint64_t *poff)
{
	size_t i;

	if (off >= p->total)
		return 1;
	i = part_at(p, off);
	if (off + len > p->part[i].start + p->part[i].size)
		return 1;	/* it crosses into the next part */
	*fd = p->part[i].fd;
	*poff = off - p->part[i].start;
	return 0;
}

static ssize_t parts_pread(void *arg, void *buf, size_t n, uint64_t off)
{
	return dc__parts_pread(arg, buf, n, off);
}

static const char *parts_name_at(void *arg, uint64_t off)
{
	return dc__parts_name_at(arg, off);
}

static const struct dc_pread_ops parts_ops = {
	.pread = parts_pread,
	.name_at = parts_name_at,
	.what = "the split set",
	.short_hint = ": a part is truncated or missing",
};

int dc__stream_parts_range(struct dc_ctx *ctx, struct dc_stream **out,
			   const struct dc_parts *p, uint64_t off,
			   uint64_t len)
{
	return dc__stream_pread_range(ctx, out, &parts_ops, (void *)p, off,
				      len);
}

/* ------------------------------------------------------------------ */
/* Writing a split set */

static int write_all(struct dc_ctx *ctx, int fd, const void *p, size_t n,
		     const char *name)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return dc_error(ctx, DC_EIO, "'%s': write failed: %s",
					name, strerror(errno));
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* [OFF, OFF+LEN) of FD hashed into DIGEST and, with OUT >= 0, copied
 * there. */
static int copy_hash(struct dc_ctx *ctx, struct dc_hash *h, int fd,
		     uint64_t off, uint64_t len, int out, const char *name,
		     char *buf, size_t cap, char digest[DC_DIGEST_MAX])
{
	int err;

	while (len) {
		size_t n = len < cap ? (size_t)len : cap;
		ssize_t got = pread(fd, buf, n, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return dc_error(ctx, DC_EIO, "'%s': read failed: %s", name,
					got ? strerror(errno) : "short file");
		dc__hash_update(h, buf, (size_t)got);
		if (out >= 0 && (err = write_all(ctx, out, buf, (size_t)got,
						 name)) < 0)
			return err;
		if ((err = dc__check_intr(ctx)) < 0)
			return err;
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	dc__hash_final(h, digest);
	return 0;
}

int dc__parts_split(struct dc_ctx *ctx, const char *full, const char *dest,
		    uint64_t size)
{
	const char *base = strrchr(dest, '/');
	struct dc_hash *h = NULL;
	char (*digest)[DC_DIGEST_MAX] = NULL;
	char **tmp = NULL, *buf = NULL, name[4096], sumtmp[4200];
	struct stat st;
	size_t n = 0, k;
	int fd = -1, out = -1, err = 0, sumfd = -1;

	base = base ? base + 1 : dest;
	sumtmp[0] = '\0';
	if ((fd = open(full, O_RDWR | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		err = dc_error(ctx, DC_EIO, "'%s': %s", full, strerror(errno));
		goto out;
	}
	n = st.st_size ? (size_t)(((uint64_t)st.st_size + size - 1) / size) : 1;
	if (n > MAX_PARTS) {
		err = dc_error(ctx, DC_ELIMIT,
			       "--split %llu: %zu parts, at most %d (NAME.000 to NAME.999): a larger SIZE",
			       (unsigned long long)size, n, MAX_PARTS);
		goto out;
	}
	if (!(tmp = dc__calloc(ctx, n, sizeof(*tmp))) ||
	    !(digest = dc__calloc(ctx, n, sizeof(*digest))) ||
	    !(buf = dc__malloc(ctx, 1 << 20)) ||
	    (err = dc__hash_new(ctx, &h)) < 0) {
		err = err ? err : DC_ENOMEM;
		goto out;
	}
	/* the last part first, then the file is cut short: the set never
	 * takes much more room than the whole */
	for (k = n; k-- > 1;) {
		uint64_t off = (uint64_t)k * size;
		uint64_t len = (uint64_t)st.st_size - off < size ?
			       (uint64_t)st.st_size - off : size;

		snprintf(name, sizeof(name), "%s.%03zu", dest, k);
		if ((err = dc__tmp_file(ctx, name, &tmp[k], &out)) < 0)
			goto out;
		if ((err = copy_hash(ctx, h, fd, off, len, out, name, buf,
				     1 << 20, digest[k])) < 0)
			goto out;
		if (fsync(out) < 0 || close(out) < 0) {
			out = -1;
			err = dc_error(ctx, DC_EIO, "'%s': %s", name, strerror(errno));
			goto out;
		}
		out = -1;
		if (ftruncate(fd, (off_t)off) < 0) {
			err = dc_error(ctx, DC_EIO, "'%s': %s", full, strerror(errno));
			goto out;
		}
	}
	snprintf(name, sizeof(name), "%s.000", dest);
	if ((err = copy_hash(ctx, h, fd, 0, (uint64_t)st.st_size < size ?
			     (uint64_t)st.st_size : size, -1, name, buf, 1 << 20,
			     digest[0])) < 0)
		goto out;
	/* the checksums, as sha256sum writes them */
	snprintf(name, sizeof(name), "%s.sha256", dest);
	{
		char *p = NULL;

		if ((err = dc__tmp_file(ctx, name, &p, &sumfd)) < 0)
			goto out;
		snprintf(sumtmp, sizeof(sumtmp), "%s", p);
		free(p);
	}
	for (k = 0; k < n && !err; k++) {
		char line[4400];
		int l = snprintf(line, sizeof(line), "%s  %s.%03zu\n",
				 dc__digest_hex(digest[k]), base, k);

		err = write_all(ctx, sumfd, line, (size_t)l, name);
	}
	if (err)
		goto out;
	if (fsync(sumfd) < 0 || close(sumfd) < 0) {
		sumfd = -1;
		err = dc_error(ctx, DC_EIO, "'%s': %s", name, strerror(errno));
		goto out;
	}
	sumfd = -1;
	/* all written: now the names */
	for (k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "%s.%03zu", dest, k);
		if (rename(k ? tmp[k] : full, name) < 0) {
			err = dc_error(ctx, DC_EIO, "'%s': %s", name, strerror(errno));
			goto out;
		}
		if (k) {
			free(tmp[k]);
			tmp[k] = NULL;
		}
	}
	snprintf(name, sizeof(name), "%s.sha256", dest);
	if (rename(sumtmp, name) < 0) {
		err = dc_error(ctx, DC_EIO, "'%s': %s", name, strerror(errno));
		goto out;
	}
	sumtmp[0] = '\0';
	/* parts of an earlier, larger set by this name would follow ours */
	for (k = n; k < MAX_PARTS; k++) {
		snprintf(name, sizeof(name), "%s.%03zu", dest, k);
		if (unlink(name) < 0)
			break;
	}
out:
	if (out >= 0)
		close(out);
	if (sumfd >= 0)
		close(sumfd);
	if (sumtmp[0])
		unlink(sumtmp);
	if (fd >= 0)
		close(fd);
	for (k = 0; tmp && k < n; k++) {
		if (tmp[k]) {
			unlink(tmp[k]);
			free(tmp[k]);
		}
	}
	free(tmp);
	free(digest);
	free(buf);
	dc__hash_free(h);
	return err;
}

/* ------------------------------------------------------------------ */
/* Checking a split set against its .sha256 */

int dc_split_check(struct dc_ctx *ctx, const char *path, dc_part_fn fn,
		   void *arg)
{
	char stem[4096], sum[4200], line[4400], part[4400], msg[512];
	const char *slash;
	struct dc_hash *h = NULL;
	char *buf = NULL;
	FILE *f = NULL;
	size_t dirlen, k = 0;
	int bad = 0, err = 0;

	if (!dc__parts_name(path, stem, sizeof(stem)))
		return 0;
	slash = strrchr(stem, '/');
	dirlen = slash ? (size_t)(slash - stem) + 1 : 0;
	snprintf(sum, sizeof(sum), "%s.sha256", stem);
	if (!(f = fopen(sum, "r")))
		return 0;	/* nothing to check against but sizes */
	if ((err = dc__hash_new(ctx, &h)) < 0 ||
	    !(buf = dc__malloc(ctx, 1 << 20))) {
		err = err ? err : DC_ENOMEM;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		char want[DC_DIGEST_MAX], got[DC_DIGEST_MAX];
		const char *name = line + 64;
		size_t l = strlen(line);
		int fd;

		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = '\0';
		if (l < 67 || line[64] != ' ' || !dc__is_hex64(line, 64))
			continue;
		name += (*name == ' ') + (name[1] == '*' || name[1] == ' ');
		snprintf(want, sizeof(want), "sha256:%.64s", line);
		snprintf(part, sizeof(part), "%.*s%s", (int)dirlen, stem, name);
		k++;
		if ((fd = open(part, O_RDONLY | O_CLOEXEC)) < 0) {
			snprintf(msg, sizeof(msg), "missing (%s)", strerror(errno));
			fn(arg, part, msg);
			bad++;
			continue;
		}
		for (;;) {
			ssize_t n = read(fd, buf, 1 << 20);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n < 0) {
					snprintf(msg, sizeof(msg), "read failed: %s",
						 strerror(errno));
					fn(arg, part, msg);
					bad++;
				}
				break;
			}
			dc__hash_update(h, buf, (size_t)n);
			if ((err = dc__check_intr(ctx)) < 0) {
				close(fd);
				goto out;
			}
		}
		close(fd);
		dc__hash_final(h, got);
		if (strcmp(got, want)) {
			snprintf(msg, sizeof(msg),
				 "checksum mismatch: content is %.19s..., %s.sha256 says %.19s...: damaged, truncated, or from another set",
				 got, stem + dirlen, want);
			fn(arg, part, msg);
			bad++;
		}
	}
out:
	if (f)
		fclose(f);
	free(buf);
	dc__hash_free(h);
	return err < 0 ? err : bad;
}
