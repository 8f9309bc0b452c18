/*
 * Sources. A source is a directory (an OCI layout) or a tar archive.
 * A tar that is compressed or not seekable (a pipe) is first spooled,
 * uncompressed, to an anonymous temp file; then every source is read
 * the same way: a header-only index, and member data by pread.
 */
#include "util/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "banned.h"

/* Resolve "." and ".."; ".." above the top fails (escapes). */
static int path_norm(struct dc_ctx *ctx, char **out, const char *name,
		     int allow_dotdot, const char *what, const char *orig)
{
	size_t n = strlen(name), len = 0;
	char *res;
	const char *p = name;

	*out = NULL;
	if (n > DC_MAX_NAME)
		return dc_error(ctx, DC_ELIMIT, "%s '%.64s...': too long", what,
				orig);
	if (!(res = dc__calloc(ctx, 1, n + 1)))
		return DC_ENOMEM;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t cl = e ? (size_t)(e - p) : strlen(p);

		if (cl == 0 || (cl == 1 && p[0] == '.')) {
			/* skip */
		} else if (cl == 2 && p[0] == '.' && p[1] == '.') {
			if (!allow_dotdot || len == 0) {
				free(res);
				return dc_error(ctx, DC_ECORRUPT,
						"%s '%s': leads outside the archive",
						what, orig);
			}
			while (len > 0 && res[len - 1] != '/')
				len--;
			if (len > 0)
				len--;	/* the '/' */
		} else {
			if (len)
				res[len++] = '/';
			memcpy(res + len, p, cl);
			len += cl;
		}
		p += cl;
		if (*p == '/')
			p++;
	}
	res[len] = '\0';
	*out = res;
	return 0;
}

int dc__path_clean(struct dc_ctx *ctx, char **out, const char *name,
		   const char *what)
{
	int err;

	*out = NULL;
	if (strchr(name, '\\'))
		return dc_error(ctx, DC_ECORRUPT, "%s '%s': contains a backslash",
				what, name);
	if ((err = path_norm(ctx, out, name, 0, what, name)) < 0)
		return err;
	if (!**out) {
		free(*out);
		*out = NULL;
		return dc_error(ctx, DC_ECORRUPT, "%s '%s': empty path", what,
				name);
	}
	return 0;
}

static int cmp_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct dc_member *)elem)->name);
}

static const struct dc_member *find(struct dc_src *src, const char *name)
{
	if (!src->n)
		return NULL;
	return bsearch(name, src->m, src->n, sizeof(*src->m), cmp_key);
}

/*
 * Find NAME's data member, following symlinks and hardlinks inside the
 * archive. *m is NULL if it does not exist (not an error here).
 */
static int resolve(struct dc_src *src, const char *name,
		   const struct dc_member **mout)
{
	struct dc_ctx *ctx = src->ctx;
	char *cur = NULL, *next = NULL;
	const struct dc_member *m;
	int hops, err;

	*mout = NULL;
	if ((err = dc__path_clean(ctx, &cur, name, "path")) < 0)
		return err;
	for (hops = 0;; hops++) {
		m = find(src, cur);
		if (!m || (m->type != DC_M_SYMLINK && m->type != DC_M_HARDLINK))
			break;
		if (hops >= DC_MAX_SYMLINKS) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s': too many levels of symbolic links",
				       name);
			goto out;
		}
		if (m->type == DC_M_HARDLINK || m->link[0] == '/') {
			err = path_norm(ctx, &next, m->link, 1, "link target",
					m->link);
		} else {
			struct dc_buf j = DC_BUF_INIT;
			const char *slash = strrchr(cur, '/');

			if (slash)
				err = dc__buf_add(ctx, &j, cur,
						  (size_t)(slash - cur + 1));
			else
				err = 0;
			if (!err)
				err = dc__buf_addstr(ctx, &j, m->link);
			if (!err)
				err = path_norm(ctx, &next, j.data, 1,
						"link target", m->link);
			dc__buf_release(&j);
		}
		if (err == DC_ENOMEM)
			goto out;
		if (err < 0) {
			err = dc_error(ctx, DC_ECORRUPT,
				       "'%s': link to '%s' leads outside the archive",
				       m->name, m->link);
			goto out;
		}
		free(cur);
		cur = next;
		next = NULL;
	}
	if (m && m->type != DC_M_FILE)
		m = NULL;
	*mout = m;
out:
	free(cur);
	free(next);
	return err;
}

/*
 * openat2(RESOLVE_BENEATH) by hand: resolve NAME one component at a
 * time, following symlinks as paths inside the root; -1 with EXDEV if
 * one leads out. Used only where openat2 does not exist.
 */
static int open_beneath(struct dc_src *src, const char *name)
{
	char cur[DC_MAX_NAME + 1], next[DC_MAX_NAME * 2 + 2], link[DC_MAX_NAME + 1];
	int hops = 0;

	if (strlen(name) > DC_MAX_NAME) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(cur, name, strlen(name) + 1);
	for (;;) {
		size_t done = 0, n = strlen(cur);
		int changed = 0;

		while (done < n && !changed) {
			const char *slash = strchr(cur + done, '/');
			size_t end = slash ? (size_t)(slash - cur) : n;
			struct stat st;
			ssize_t ll;
			char *res = NULL;
			char save = cur[end];

			cur[end] = '\0';
			if (fstatat(src->dirfd, cur, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return -1;
			if (S_ISLNK(st.st_mode)) {
				struct dc_ctx tmp;

				if (++hops > DC_MAX_SYMLINKS) {
					errno = ELOOP;
					return -1;
				}
				ll = readlinkat(src->dirfd, cur, link, sizeof(link) - 1);
				if (ll < 0)
					return -1;
				link[ll] = '\0';
				if (link[0] == '/') {
					errno = EXDEV;
					return -1;
				}
				/* dir(cur) + link + rest */
				{
					char *sl = strrchr(cur, '/');
					size_t dl = sl ? (size_t)(sl - cur + 1) : 0;

					cur[end] = save;
					snprintf(next, sizeof(next), "%.*s%s%s", (int)dl,
						 cur, link, cur + end);
				}
				memset(&tmp, 0, sizeof(tmp));
				if (path_norm(&tmp, &res, next, 1, "link", next) < 0) {
					errno = EXDEV;
					return -1;
				}
				if (strlen(res) > DC_MAX_NAME) {
					free(res);
					errno = ENAMETOOLONG;
					return -1;
				}
				memcpy(cur, res, strlen(res) + 1);
				free(res);
				changed = 1;
				break;
			}
			cur[end] = save;
			done = end + 1;
		}
		if (!changed)
			return openat(src->dirfd, cur, O_RDONLY | O_CLOEXEC |
				      O_NOFOLLOW | O_NONBLOCK);
	}
}

/*
 * Directory layouts: open beneath the root; links may not lead out.
 * O_NONBLOCK: a FIFO where a file should be opens at once (and is then
 * refused as not a regular file) instead of waiting for a writer.
 */
static int dir_open(struct dc_src *src, const char *name, int *fd)
{
	struct open_how how;
	char *clean = NULL;
	int err;

	*fd = -1;
	if ((err = dc__path_clean(src->ctx, &clean, name, "path")) < 0)
		return err;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	*fd = (int)syscall(SYS_openat2, src->dirfd, clean, &how, sizeof(how));
	if (*fd < 0 && errno == ENOSYS)
		*fd = open_beneath(src, clean);	/* before Linux 5.6, valgrind */
	if (*fd < 0) {
		if (errno == EXDEV)
			err = dc_error(src->ctx, DC_ECORRUPT,
				       "'%s': a link leads outside the layout",
				       clean);
		else if (errno == ENOENT || errno == ENOTDIR)
			err = 1;	/* missing */
		else
			err = dc_error(src->ctx, DC_EIO, "'%s': %s", clean,
				       strerror(errno));
	} else {
		int fl = fcntl(*fd, F_GETFL);

		if (fl >= 0)
			fcntl(*fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	free(clean);
	return err;
}

int dc__src_exists(struct dc_src *src, const char *name)
{
	const struct dc_member *m;
	struct dc_ctx *ctx = src->ctx;
	int code = ctx->code, fd, ok;
	char msg[sizeof(ctx->msg)];

	memcpy(msg, ctx->msg, sizeof(msg));

	if (src->is_dir) {
		struct stat st;

		ok = dir_open(src, name, &fd) == 0 && fstat(fd, &st) == 0 &&
		     S_ISREG(st.st_mode);
		if (fd >= 0)
			close(fd);
	} else {
		ok = resolve(src, name, &m) == 0 && m;
	}
	/* a probe leaves no error behind, but running out of memory is
	 * not "missing": it stays, and the caller checks for it */
	if (ctx->code != DC_ENOMEM) {
		ctx->code = code;
		memcpy(ctx->msg, msg, sizeof(msg));
	}
	return ok;
}

int dc__src_open(struct dc_src *src, const char *name,
		 struct dc_stream **out, uint64_t *size)
{
	const struct dc_member *m;
	int err, fd;

	*out = NULL;
	if (src->is_dir) {
		struct stat st;

		if ((err = dir_open(src, name, &fd)) < 0)
			return err;
		if (err > 0)
			return dc_error(src->ctx, DC_ECORRUPT,
					"'%s': missing from the layout", name);
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return dc_error(src->ctx, DC_ECORRUPT,
					"'%s': not a regular file", name);
		}
		*size = (uint64_t)st.st_size;
		return dc__stream_fd_range(src->ctx, out, fd, 0, *size, 1);
	}
	if ((err = resolve(src, name, &m)) < 0)
		return err;
	if (!m)
		return dc_error(src->ctx, DC_ECORRUPT,
				"'%s': missing from the archive", name);
	*size = m->size;
	if (src->mem)
		return dc__stream_memory(src->ctx, out, src->mem + m->off,
					 (size_t)m->size);
	if (src->parts)
		return dc__stream_parts_range(src->ctx, out, src->parts, m->off,
					      m->size);
	return dc__stream_fd_range(src->ctx, out, src->fd, m->off, m->size, 0);
}

int dc__src_range(struct dc_src *src, const char *name, int *fd, int *own,
		  uint64_t *off, uint64_t *len)
{
	const struct dc_member *m;
	struct stat st;
	int err;

	*fd = -1;
	*own = 0;
	if (src->mem)
		return 1;
	if (src->is_dir) {
		if ((err = dir_open(src, name, fd)) != 0)
			return err < 0 ? err : 1;
		if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(*fd);
			*fd = -1;
			return 1;
		}
		*own = 1;
		*off = 0;
		*len = (uint64_t)st.st_size;
		return 0;
	}
	if ((err = resolve(src, name, &m)) < 0)
		return err;
	if (!m)
		return 1;
	*len = m->size;
	if (src->parts)
		return dc__parts_range(src->parts, m->off, m->size, fd, off);
	*fd = src->fd;
	*off = m->off;
	return 0;
}

int dc__src_member(struct dc_src *src, const char *name, uint64_t *off,
		   uint64_t *len)
{
	const struct dc_member *m;
	int err;

	if (src->is_dir || src->mem)
		return 1;
	if ((err = resolve(src, name, &m)) < 0)
		return err;
	if (!m)
		return 1;
	*off = m->off;
	*len = m->size;
	return 0;
}

int dc__src_read_all(struct dc_src *src, const char *name, size_t cap,
		     struct dc_buf *out)
{
	struct dc_stream *s = NULL;
	uint64_t size;
	char tmp[65536];
	int err;

	out->len = 0;
	if ((err = dc__src_open(src, name, &s, &size)) < 0)
		return err;
	if (size > cap) {
		err = dc_error(src->ctx, DC_ELIMIT,
			       "'%s': %llu bytes is over the %zu-byte limit for metadata",
			       name, (unsigned long long)size, cap);
		goto out;
	}
	for (;;) {
		ssize_t got = dc__stream_read(s, tmp, sizeof(tmp));

		if (got < 0) {
			err = dc_error_prefix(src->ctx, "'%s'", name);
			goto out;
		}
		if (!got)
			break;
		if ((err = dc__buf_add(src->ctx, out, tmp, (size_t)got)) < 0)
			goto out;
	}
	if (!out->data)
		err = dc__buf_add(src->ctx, out, "", 0);
out:
	dc__stream_close(s);
	return err;
}

int dc__src_peek(struct dc_src *src, const char *name, void *buf, size_t n,
		 size_t *got)
{
	struct dc_stream *s = NULL;
	uint64_t size;
	int err;

	*got = 0;
	if ((err = dc__src_open(src, name, &s, &size)) < 0)
		return err;
	while (*got < n && (uint64_t)*got < size) {
		ssize_t r = dc__stream_read(s, (char *)buf + *got, n - *got);

		if (r < 0) {
			err = dc_error_prefix(src->ctx, "'%s'", name);
			break;
		}
		if (!r)
			break;
		*got += (size_t)r;
	}
	dc__stream_close(s);
	return err;
}

/* ------------------------------------------------------------------ */
/* Opening */

static int copy_fd(struct dc_ctx *ctx, int from, int to, const char *label)
{
	char *buf = dc__malloc(ctx, 1 << 20);
	int err = 0;

	if (!buf)
		return DC_ENOMEM;
	for (;;) {
		ssize_t r = read(from, buf, 1 << 20), w, done = 0;

		if (r < 0 && errno == EINTR && !ctx->interrupted)
			continue;
		if (r < 0) {
			err = errno == EINTR ? dc__check_intr(ctx) :
			      dc_error(ctx, DC_EIO, "read failed: %s",
				       strerror(errno));
			break;
		}
		if (r == 0)
			break;
		dc__progress(ctx, (uint64_t)r);
		while (done < r) {
			w = write(to, buf + done, (size_t)(r - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				err = dc_error(ctx, DC_EIO,
					       "spooling to a temp file: %s",
					       strerror(errno));
				goto out;
			}
			done += w;
		}
		if ((err = dc__check_intr(ctx)) < 0)
			break;
	}
out:
	free(buf);
	return err;
}

static int write_all(struct dc_ctx *ctx, int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return dc_error(ctx, DC_EIO,
					"decompressing to a temp file: %s",
					strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * zstd and xz wrappers are decoded here, not by libarchive: the input
 * chooses their windows (up to 2 GiB, 1.5 GiB), and ours are capped.
 * Takes RAW.
 */
static int unwrap_capped(struct dc_src *src, struct dc_stream *raw, int fd,
			 char *buf)
{
	struct dc_ctx *ctx = src->ctx;
	struct dc_stream *s = NULL;
	int err;

	if ((err = dc__stream_unwrap(ctx, raw, src->wrapper, &s)) < 0)
		return err;
	for (;;) {
		ssize_t r = dc__stream_read(s, buf, 1 << 20);

		if (r < 0) {
			err = (int)r;
			break;
		}
		if (r == 0)
			break;
		if ((err = write_all(ctx, fd, buf, (size_t)r)) < 0 ||
		    (err = dc__check_intr(ctx)) < 0)
			break;
		dc__progress(ctx, (uint64_t)r);
	}
	dc__stream_close(s);
	return err;
}

/* libarchive's input for a gzip or bzip2 wrapper: a stream */
struct la_in {
	struct dc_stream *s;
	char buf[1 << 20];	/* as archive_read_open_fd's blocks were */
	int err;	/* the stream's failure; its message is in the context */
};

static la_ssize_t la_read(struct archive *a, void *arg, const void **p)
{
	struct la_in *in = arg;
	ssize_t r = dc__stream_read(in->s, in->buf, sizeof(in->buf));

	*p = in->buf;
	if (r < 0) {
		in->err = (int)r;
		archive_set_error(a, EIO, "read failed");
		return -1;
	}
	return r;
}

/*
 * Decompress a gzip/bzip2/xz/zstd wrapper, read from RAW (a file, or the
 * parts of a split set: taken, closed here), into an anonymous temp file.
 */
static int unwrap(struct dc_src *src, struct dc_stream *raw, int *outfd)
{
	struct dc_ctx *ctx = src->ctx;
	struct archive *a = NULL;
	struct archive_entry *e;
	struct la_in *in = NULL;
	char *buf = NULL;
	int err = 0, fd = -1;

	*outfd = -1;
	if (!(buf = dc__malloc(NULL, 1 << 20))) {
		err = dc__enomem(ctx);
		goto out;
	}
	if (src->wrapper == DC_COMP_ZSTD || src->wrapper == DC_COMP_XZ) {
		if ((err = dc__tmp_anon(ctx, NULL, &fd)) < 0)
			goto out;
		err = unwrap_capped(src, raw, fd, buf);
		raw = NULL;
		if (err < 0)
			goto out;
		*outfd = fd;
		fd = -1;
		goto out;
	}
	/* gzip (32 KiB window) and bzip2 (900 KB blocks): bounded memory */
	if (!(a = archive_read_new()) ||
	    !(in = dc__calloc(NULL, 1, sizeof(*in)))) {
		err = dc__enomem(ctx);
		goto out;
	}
	in->s = raw;
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, in, NULL, la_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		err = in->err ? in->err :
		      dc_error(ctx, DC_ECORRUPT, "cannot decompress: %s",
			       archive_error_string(a));
		goto out;
	}
	if ((err = dc__tmp_anon(ctx, NULL, &fd)) < 0)
		goto out;
	for (;;) {
		la_ssize_t r = archive_read_data(a, buf, 1 << 20);

		if (r < 0) {
			err = in->err ? in->err :
			      dc_error(ctx, DC_ECORRUPT,
				       "truncated or corrupt %s data: %s",
				       dc__comp_name(src->wrapper),
				       archive_error_string(a));
			goto out;
		}
		if (r == 0)
			break;
		if ((err = write_all(ctx, fd, buf, (size_t)r)) < 0)
			goto out;
		dc__progress(ctx, (uint64_t)r);
		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
	}
	*outfd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (a)
		archive_read_free(a);
	free(in);
	dc__stream_close(raw);
	return err;
}

static int src_alloc(struct dc_ctx *ctx, struct dc_src **out,
		     const char *label)
{
	struct dc_src *src = dc__calloc(ctx, 1, sizeof(*src));

	*out = NULL;
	if (!src)
		return DC_ENOMEM;
	src->ctx = ctx;
	src->fd = -1;
	src->dirfd = -1;
	if (!(src->label = dc__strdup(ctx, label))) {
		free(src);
		return DC_ENOMEM;
	}
	*out = src;
	return 0;
}

/* PATH as the first part of a split set: 1 (opened and indexed), 0 (it
 * is not one), or an error. A set whose joined bytes are compressed is
 * decompressed as it is read across the parts, as a compressed file is. */
static int open_parts(struct dc_src *src, const char *path)
{
	unsigned char magic[DC_SNIFF_LEN];
	struct dc_stream *raw = NULL;
	char stem[4096];
	ssize_t got;
	int err;

	if (!dc__parts_name(path, stem, sizeof(stem)))
		return 0;
	if ((err = dc__parts_open(src->ctx, stem, &src->parts)) < 0)
		return err;
	got = dc__parts_pread(src->parts, magic, sizeof(magic), 0);
	src->wrapper = dc__comp_sniff(magic, got > 0 ? (size_t)got : 0);
	if (src->wrapper != DC_COMP_NONE) {
		dc__phase(src->ctx, "decompress", 0);
		if ((err = dc__stream_parts_range(src->ctx, &raw, src->parts, 0,
						  src->parts->total)) < 0)
			return err;
		if ((err = unwrap(src, raw, &src->fd)) < 0)
			return err != DC_ECORRUPT ? err :
			       dc_error_prefix(src->ctx,
					       "%s-compressed split set of %zu parts (%s.000 to .%03zu)",
					       dc__comp_name(src->wrapper),
					       src->parts->n, stem,
					       src->parts->n - 1);
		dc__parts_free(src->parts);
		src->parts = NULL;
	}
	if ((err = dc__tar_index(src)) < 0)
		return err;
	return 1;
}

int dc__src_open_path(struct dc_ctx *ctx, struct dc_src **out,
		      const char *path)
{
	struct dc_src *src;
	struct stat st;
	unsigned char magic[DC_SNIFF_LEN];
	ssize_t got;
	int err, fd = -1;

	*out = NULL;
	if ((err = src_alloc(ctx, &src, strcmp(path, "-") ? path : "stdin")) < 0)
		return err;
	src->is_stdin = !strcmp(path, "-");
	if (!src->is_stdin && (err = open_parts(src, path)) != 0) {
		if (err < 0)
			goto fail;
		*out = src;
		return 0;
	}
	if (src->is_stdin)
		fd = dup(0);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = dc_error(ctx, DC_EIO, "%s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		src->is_dir = 1;
		src->dirfd = fd;
		*out = src;
		return 0;
	}
	if (!S_ISREG(st.st_mode) || lseek(fd, 0, SEEK_SET) < 0) {
		/* a pipe: spool it so that it can be read like a file */
		int tmp;

		if ((err = dc__tmp_anon(ctx, NULL, &tmp)) < 0)
			goto fail;
		dc__phase(ctx, "spool", 0);
		err = copy_fd(ctx, fd, tmp, src->label);
		close(fd);
		fd = tmp;
		if (err < 0)
			goto fail;
	}
	got = pread(fd, magic, sizeof(magic), 0);
	src->wrapper = dc__comp_sniff(magic, got > 0 ? (size_t)got : 0);
	if (src->wrapper != DC_COMP_NONE) {
		struct dc_stream *raw = NULL;
		int plain;

		dc__phase(ctx, "decompress", 0);
		if (fstat(fd, &st) < 0) {
			err = dc_error(ctx, DC_EIO, "%s", strerror(errno));
			goto fail;
		}
		if ((err = dc__stream_fd_range(ctx, &raw, fd, 0,
					       (uint64_t)st.st_size, 0)) < 0 ||
		    (err = unwrap(src, raw, &plain)) < 0)
			goto fail;
		close(fd);
		fd = plain;
	}
	src->fd = fd;
	fd = -1;
	if ((err = dc__tar_index(src)) < 0)
		goto fail;
	*out = src;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	dc__src_free(src);
	return err;
}

int dc__src_open_memory(struct dc_ctx *ctx, struct dc_src **out,
			const void *p, size_t n)
{
	struct dc_src *src;
	int err;

	*out = NULL;
	if ((err = src_alloc(ctx, &src, "memory")) < 0)
		return err;
	src->mem = p;
	src->memlen = n;
	if ((err = dc__tar_index(src)) < 0) {
		dc__src_free(src);
		return err;
	}
	*out = src;
	return 0;
}

void dc__src_free(struct dc_src *src)
{
	size_t i;

	if (!src)
		return;
	dc__parts_free(src->parts);
	for (i = 0; i < src->n; i++) {
		free(src->m[i].name);
		free(src->m[i].link);
	}
	free(src->m);
	if (src->fd >= 0)
		close(src->fd);
	if (src->dirfd >= 0)
		close(src->dirfd);
	free(src->label);
	free(src);
}
