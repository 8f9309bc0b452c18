/*
 * Temporary names beside a destination, anonymous spool files, and
 * removal of partial output.
 */
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

static mode_t cur_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

#define TMP_SUFFIX ".tmp-XXXXXX"

/*
 * "<dest>.tmp-XXXXXX"; when that is too long for one name (a valid
 * 250-byte DEST), the end of DEST's last component is cut to make room
 * (whole UTF-8 characters): "<dest, shortened>.tmp-XXXXXX".
 */
static int tmp_name(struct dc_ctx *ctx, const char *dest, char **path)
{
	struct dc_buf b = DC_BUF_INIT;
	size_t n = strlen(dest), base, room = NAME_MAX - strlen(TMP_SUFFIX);
	int err;

	while (n > 1 && dest[n - 1] == '/')
		n--;
	for (base = n; base > 0 && dest[base - 1] != '/'; base--)
		;
	if (n - base > room) {
		n = base + room;
		while (n > base + 1 && (dest[n] & 0xc0) == 0x80)
			n--;	/* not inside a character */
	}
	if ((err = dc__buf_add(ctx, &b, dest, n)) < 0 ||
	    (err = dc__buf_addstr(ctx, &b, TMP_SUFFIX)) < 0) {
		dc__buf_release(&b);
		return err;
	}
	*path = dc__buf_detach(&b, NULL);
	return 0;
}

int dc__tmp_file(struct dc_ctx *ctx, const char *dest, char **path, int *fd)
{
	int err;

	*fd = -1;
	if ((err = tmp_name(ctx, dest, path)) < 0)
		return err;
	*fd = mkostemp(*path, O_CLOEXEC);
	if (*fd < 0) {
		err = dc_error(ctx, DC_EIO, "'%s': cannot create: %s", dest,
			       strerror(errno));
		free(*path);
		*path = NULL;
		return err;
	}
	fchmod(*fd, 0666 & ~cur_umask());
	return 0;
}

int dc__tmp_dir(struct dc_ctx *ctx, const char *dest, char **path)
{
	int err;

	if ((err = tmp_name(ctx, dest, path)) < 0)
		return err;
	if (!mkdtemp(*path)) {
		err = dc_error(ctx, DC_EIO, "'%s': cannot create: %s", dest,
			       strerror(errno));
		free(*path);
		*path = NULL;
		return err;
	}
	chmod(*path, 0777 & ~cur_umask());
	return 0;
}

int dc__tmp_anon(struct dc_ctx *ctx, const char *dir, int *fd)
{
	char path[4096];
	const char *d = dir;

	if (!d || !*d)
		d = getenv("TMPDIR");
	if (!d || !*d)
		d = "/var/tmp";
	*fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/decant-spool-XXXXXX", d);
	*fd = mkostemp(path, O_CLOEXEC);
	if (*fd < 0)
		return dc_error(ctx, DC_EIO, "'%s': cannot create a temp file: %s",
				d, strerror(errno));
	unlink(path);
	return 0;
}

static void rm_at(int dirfd, const char *name)
{
	struct stat st;
	int fd;
	DIR *dir;
	struct dirent *e;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(dirfd, name, 0);
		return;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		rm_at(fd, e->d_name);
	}
	closedir(dir);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

void dc__rm_rf(const char *path)
{
	rm_at(AT_FDCWD, path);
}

int dc__dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 0;
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}
