/*
 * Buffered output to a file descriptor; errors name the destination.
 */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

#define OUT_BUF (1u << 20)

int dc__out_init(struct dc_ctx *ctx, struct dc_out *o, int fd,
		 const char *label)
{
	memset(o, 0, sizeof(*o));
	o->ctx = ctx;
	o->fd = fd;
	o->label = label;
	o->cap = OUT_BUF;
	if (!(o->buf = dc__malloc(ctx, o->cap)))
		return DC_ENOMEM;
	return 0;
}

/*
 * Every WB_STEP bytes, ask the kernel to start writing back what we
 * wrote: the fsync or syncfs that makes the output durable at the end
 * then waits for the last few MiB instead of the whole file (on the
 * bench machine, a 1 GB syncfs went from 0.47 s to 0.02 s). Only a
 * hint: a pipe or a file system that refuses it turns it off.
 */
#define WB_STEP (8u << 20)

static void writeback(struct dc_out *o)
{
	if (o->wb_off || o->flushed - o->wb_mark < WB_STEP)
		return;
	if (sync_file_range(o->fd, (off_t)o->wb_mark,
			    (off_t)(o->flushed - o->wb_mark),
			    SYNC_FILE_RANGE_WRITE) < 0)
		o->wb_off = 1;
	o->wb_mark = o->flushed;
}

/* A thread may read FLUSHED to follow the file (squash does). */
static void advance(struct dc_out *o, uint64_t n)
{
	__atomic_store_n(&o->flushed, o->flushed + n, __ATOMIC_RELEASE);
}

/*
 * A signal interrupts a write blocked on a pipe whose reader stalled:
 * it returns EINTR, or how much it wrote before. Either way the
 * interrupt is checked before blocking again.
 */
static int write_all(struct dc_out *o, const unsigned char *p, size_t n)
{
	int err;

	while (n) {
		ssize_t w = write(o->fd, p, n);

		if ((w < 0 && errno == EINTR) || (w >= 0 && (size_t)w < n)) {
			if ((err = dc__check_intr(o->ctx)) < 0)
				return err;
			if (w < 0)
				continue;
		}
		if (w < 0)
			return dc_error(o->ctx, DC_EIO, "'%s': write failed: %s",
					o->label, strerror(errno));
		p += w;
		n -= (size_t)w;
		advance(o, (uint64_t)w);
	}
	writeback(o);
	return 0;
}

int dc__out_flush(struct dc_out *o)
{
	int err = write_all(o, o->buf, o->len);

	o->len = 0;
	return err;
}

int dc__out_write(struct dc_out *o, const void *p, size_t n)
{
	int err;

	o->written += n;
	if (o->len + n <= o->cap) {
		memcpy(o->buf + o->len, p, n);
		o->len += n;
		return 0;
	}
	if ((err = dc__out_flush(o)) < 0)
		return err;
	if (n >= o->cap)
		return write_all(o, p, n);
	memcpy(o->buf, p, n);
	o->len = n;
	return 0;
}

int dc__out_skip(struct dc_out *o, uint64_t len, uint64_t *at)
{
	off_t pos;
	int err;

	if ((err = dc__out_flush(o)) < 0)
		return err;
	if ((pos = lseek(o->fd, 0, SEEK_CUR)) < 0 ||
	    lseek(o->fd, (off_t)len, SEEK_CUR) < 0)
		return dc_error(o->ctx, DC_EIO, "'%s': seek failed: %s",
				o->label, strerror(errno));
	*at = (uint64_t)pos;
	o->written += len;
	advance(o, len);
	o->wb_mark = o->flushed;	/* the gap is someone else's */
	return 0;
}

void dc__out_adopt(struct dc_out *o, uint64_t len)
{
	o->written += len;
	advance(o, len);
	o->wb_mark = o->flushed;	/* the writer saw to its writeback */
}

int dc__out_truncate(struct dc_out *o, uint64_t at)
{
	int err;

	if ((err = dc__out_flush(o)) < 0)
		return err;
	if (ftruncate(o->fd, (off_t)at) < 0 ||
	    lseek(o->fd, (off_t)at, SEEK_SET) < 0)
		return dc_error(o->ctx, DC_EIO, "'%s': %s", o->label,
				strerror(errno));
	o->written = o->flushed = o->wb_mark = at;
	return 0;
}

void dc__out_release(struct dc_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

int dc__out_copy_range(struct dc_out *o, int fd, uint64_t off, uint64_t len)
{
	loff_t in = (loff_t)off;
	int use_cfr = 1, use_sf = 1, err;

	if ((err = dc__out_flush(o)) < 0)
		return err;
	o->written += len;
	while (len) {
		size_t chunk = len > (64u << 20) ? (64u << 20) : (size_t)len;
		ssize_t n = -1;

		if ((err = dc__check_intr(o->ctx)) < 0)
			return err;
		if (use_cfr) {
			n = copy_file_range(fd, &in, o->fd, NULL, chunk, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
				      errno == ENOSYS || errno == EOPNOTSUPP ||
				      errno == EBADF)) {
				use_cfr = 0;
				continue;
			}
		} else if (use_sf) {
			off_t so = (off_t)in;

			n = sendfile(o->fd, fd, &so, chunk);
			if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
				use_sf = 0;
				continue;
			}
			if (n > 0)
				in = (loff_t)so;
		} else {
			char *buf = (char *)o->buf;
			size_t c = chunk > o->cap ? o->cap : chunk;

			n = pread(fd, buf, c, (off_t)in);
			if (n > 0) {
				size_t done = 0;

				while (done < (size_t)n) {
					ssize_t w = write(o->fd, buf + done, (size_t)n - done);

					if ((err = dc__check_intr(o->ctx)) < 0)
						return err;
					if (w < 0 && errno == EINTR)
						continue;
					if (w < 0)
						return dc_error(o->ctx, DC_EIO,
								"'%s': write failed: %s",
								o->label, strerror(errno));
					done += (size_t)w;
				}
				in += n;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dc_error(o->ctx, DC_EIO, "'%s': write failed: %s",
					o->label, strerror(errno));
		if (n == 0)
			return dc_error(o->ctx, DC_ECORRUPT,
					"unexpected end of file (%llu bytes missing)",
					(unsigned long long)len);
		len -= (uint64_t)n;
		advance(o, (uint64_t)n);
		writeback(o);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* An output file under a temp name, renamed into place on commit */

int dc__dest_is_stream(const char *dest)
{
	struct stat st;

	return !strcmp(dest, "-") ||
	       (stat(dest, &st) == 0 && !S_ISREG(st.st_mode) &&
		!S_ISDIR(st.st_mode));
}

int dc__outfile_open(struct dc_ctx *ctx, struct dc_outfile *f,
		     const char *dest)
{
	struct stat st;
	int err;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->dest = dest;
	if (!strcmp(dest, "-")) {
		f->fd = 1;
	} else if (stat(dest, &st) == 0 && S_ISDIR(st.st_mode)) {
		return dc_error(ctx, DC_EINVAL, "'%s': is a directory", dest);
	} else if (dc__dest_is_stream(dest)) {
		/* no file to put in its place: renaming over /dev/null
		 * would replace the device */
		if ((f->fd = open(dest, O_WRONLY | O_CLOEXEC)) < 0)
			return dc_error(ctx, DC_EIO, "'%s': %s", dest,
					strerror(errno));
		f->own = 1;
	} else if ((err = dc__tmp_file(ctx, dest, &f->tmp, &f->fd)) < 0) {
		return err;
	}
	if ((err = dc__out_init(ctx, &f->o, f->fd,
				f->tmp || f->own ? dest : "stdout")) < 0)
		return err;
	f->out_ok = 1;
	return 0;
}

int dc__outfile_commit(struct dc_outfile *f)
{
	struct dc_ctx *ctx = f->o.ctx;
	int err;

	if ((err = dc__out_flush(&f->o)) < 0)
		return err;
	if (f->tmp) {
		int fd = f->fd;

		f->fd = -1;
		if (fsync(fd) < 0 || close(fd) < 0 || rename(f->tmp, f->dest) < 0)
			return dc_error(ctx, DC_EIO, "'%s': %s", f->dest,
					strerror(errno));
		free(f->tmp);
		f->tmp = NULL;
	} else if (f->own) {
		int fd = f->fd;

		f->fd = -1;
		f->own = 0;
		if (close(fd) < 0)
			return dc_error(ctx, DC_EIO, "'%s': %s", f->dest,
					strerror(errno));
	}
	dc__out_release(&f->o);
	f->out_ok = 0;
	return 0;
}

void dc__outfile_abort(struct dc_outfile *f)
{
	if (f->out_ok)
		dc__out_release(&f->o);
	f->out_ok = 0;
	if (f->tmp) {
		if (f->fd >= 0)
			close(f->fd);
		unlink(f->tmp);
		free(f->tmp);
		f->tmp = NULL;
	} else if (f->own && f->fd >= 0) {
		close(f->fd);
	}
	f->own = 0;
	f->fd = -1;
}
