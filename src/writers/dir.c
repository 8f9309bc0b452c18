/*
 * Writer for containers/image `dir:` layouts, as `skopeo copy ... dir:D`
 * makes them: "version", "manifest.json" (the image's manifest) and each
 * other blob in a file named by its bare hex digest. A dir: layout holds
 * one image and no names (containers/image directory/directory_dest.go).
 *
 * The layout is made under a temp name beside DEST and renamed into
 * place by commit. An existing empty directory is replaced then, and so
 * is an existing dir: layout (skopeo overwrites one too); anything else
 * at DEST is refused.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"
#include "writers/writers.h"

static const char VERSION[] = "Directory Transport Version: 1.1\n";

struct dirw {
	char *tmp;			/* <dest>.tmp-XXXXXX */
	int dirfd;
	const struct dc_image *img;
	int replace;			/* DEST is a dir: layout to replace */
};

/* 1 if PATH holds a dir: layout's version file. */
static int is_dir_layout(const char *path)
{
	char p[4096], buf[sizeof(VERSION)];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(p, sizeof(p), "%s/version", path) >= sizeof(p) ||
	    (fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)sizeof(VERSION) - 1 &&
	       !memcmp(buf, VERSION, sizeof(VERSION) - 1);
}

static int dirw_begin(struct dc_writer *w)
{
	struct dirw *p = w->priv;
	struct stat st;
	int err;

	p->dirfd = -1;
	if (lstat(w->dest, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return dc_error(w->ctx, DC_EINVAL,
					"'%s': exists and is not a directory",
					w->dest);
		if (is_dir_layout(w->dest))
			p->replace = 1;
		else if (!dc__dir_is_empty(w->dest))
			return dc_error(w->ctx, DC_EINVAL,
					"'%s': directory exists and is neither empty nor a dir: layout",
					w->dest);
	}
	if ((err = dc__tmp_dir(w->ctx, w->dest, &p->tmp)) < 0)
		return err;
	if ((p->dirfd = open(p->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return dc_error(w->ctx, DC_EIO, "'%s': %s", p->tmp,
				strerror(errno));
	return 0;
}

/* 1 if WANT is the image's manifest: manifest.json, not a blob file. */
static int is_manifest(const struct dc_writer *w, const struct dc_desc *want)
{
	return w->nimages && !strcmp(w->images[0]->manifest.digest, want->digest);
}

/* Write NAME from IN, or from [OFF, OFF+SIZE) of RFD when IN is NULL. */
static int put_file(struct dc_writer *w, const char *name, struct dc_stream *in,
		    int rfd, uint64_t off, int64_t size)
{
	struct dirw *p = w->priv;

	return dc__write_file_at(w, p->dirfd, name, name, in, rfd, off, size,
				 name);
}

static int dirw_put_blob(struct dc_writer *w, struct dc_stream *in,
			 const struct dc_desc *want)
{
	if (is_manifest(w, want))
		return 0;	/* the core reads it to its end all the same */
	return put_file(w, dc__digest_hex(want->digest), in, -1, 0, want->size);
}

static int dirw_put_blob_range(struct dc_writer *w, int fd, uint64_t off,
			       const struct dc_desc *want)
{
	return put_file(w, dc__digest_hex(want->digest), NULL, fd, off,
			want->size);
}

/* Each blob gets its file now, filled by the copy pool. */
static int dirw_reserve_blob(struct dc_writer *w, const struct dc_desc *want,
			     int *fd, uint64_t *off, int *own)
{
	struct dirw *p = w->priv;
	const char *name = dc__digest_hex(want->digest);

	if (is_manifest(w, want))
		return 1;
	/* read and write: the copy pool may read back what it wrote (a
	 * blob fetched in parts is hashed in order once they are in) */
	*fd = openat(p->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		     0644);
	if (*fd < 0)
		return dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, name,
				strerror(errno));
	*off = 0;
	*own = 1;
	return 0;
}

static int dirw_put_image(struct dc_writer *w, const struct dc_image *img)
{
	struct dirw *p = w->priv;

	if (p->img)
		DC_BUG("a dir: layout holds one image");
	p->img = img;
	return 0;
}

static int dirw_commit(struct dc_writer *w)
{
	struct dirw *p = w->priv;
	char *old = NULL;
	int err;

	if (!p->img)
		DC_BUG("dir: commit without an image");
	if ((err = dc__write_mem_at(w, p->dirfd, "manifest.json", p->img->manifest_raw.data,
			   p->img->manifest_raw.len)) < 0 ||
	    (err = dc__write_mem_at(w, p->dirfd, "version", VERSION, sizeof(VERSION) - 1)) < 0)
		return err;
	if (syncfs(p->dirfd) < 0)
		return dc_error(w->ctx, DC_EIO, "'%s': %s", p->tmp,
				strerror(errno));
	if (p->replace) {
		/* the old layout out of the way, the new one in, then the
		 * old one removed */
		if ((err = dc__tmp_dir(w->ctx, w->dest, &old)) < 0)
			return err;
		if (rename(w->dest, old) < 0) {
			err = dc_error(w->ctx, DC_EIO, "'%s': %s", w->dest,
				       strerror(errno));
			rmdir(old);
			free(old);
			return err;
		}
	} else if (dc__dir_is_empty(w->dest)) {
		rmdir(w->dest);
	}
	if (rename(p->tmp, w->dest) < 0) {
		err = dc_error(w->ctx, DC_EIO, "'%s': %s", w->dest,
			       strerror(errno));
		if (old)
			rename(old, w->dest);	/* the old layout back */
		free(old);
		return err;
	}
	if (old)
		dc__rm_rf(old);
	free(old);
	free(p->tmp);
	p->tmp = NULL;
	close(p->dirfd);
	p->dirfd = -1;
	return 0;
}

static void dirw_abort(struct dc_writer *w)
{
	struct dirw *p = w->priv;

	if (p->dirfd >= 0)
		close(p->dirfd);
	p->dirfd = -1;
	if (p->tmp)
		dc__rm_rf(p->tmp);
	free(p->tmp);
	p->tmp = NULL;
}

const struct dc_writer_ops dc__writer_dir = {
	.name = "dir",
	.priv_size = sizeof(struct dirw),
	.begin = dirw_begin,
	.put_blob = dirw_put_blob,
	.put_blob_range = dirw_put_blob_range,
	.reserve_blob = dirw_reserve_blob,
	.put_image = dirw_put_image,
	.commit = dirw_commit,
	.abort = dirw_abort,
};
