/*
 * Writers for OCI image layouts: a directory ("oci"), a tar
 * ("oci-archive"), and the Docker 25+ `docker save` layout
 * ("docker-archive": the tar plus manifest.json and repositories).
 *
 * Tar entries are in lexical order (blobs/, blobs/sha256/<digest>...,
 * index.json, manifest.json, oci-layout, repositories) with fixed
 * owners and mtimes, so the same input gives the same bytes.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"
#include "writers/writers.h"

static const char OCI_LAYOUT[] = "{\"imageLayoutVersion\": \"1.0.0\"}";

static json_t *desc_json(const struct dc_desc *d)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= json_object_set_new(o, "mediaType", json_string(d->media_type));
	bad |= json_object_set_new(o, "digest", json_string(d->digest));
	bad |= json_object_set_new(o, "size", json_integer(d->size));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* index.json descriptors for DESC named by TAGS / REF_NAME */
static int add_named(struct dc_ctx *ctx, json_t *list, const struct dc_desc *desc,
		     char *const *tags, size_t ntags, const char *ref_name)
{
	size_t t;
	int err = 0;

	/* one descriptor per tag, as Docker 25+ and containerd do */
	for (t = 0; t < ntags && !err; t++) {
		struct dc_ref ref;
		char *norm = NULL;
		json_t *d, *ann;
		int bad = 0;

		if ((err = dc__ref_parse(ctx, &ref, tags[t])) < 0)
			break;
		err = dc__ref_normalized(ctx, &ref, &norm);
		if (!err) {
			d = desc_json(desc);
			ann = json_object();
			bad |= json_object_set_new(ann, "io.containerd.image.name",
						   json_string(norm));
			bad |= json_object_set_new(ann, "org.opencontainers.image.ref.name",
						   json_string(ref.tag ? ref.tag : "latest"));
			bad |= json_object_set_new(d, "annotations", ann);
			bad |= json_array_append_new(list, d);
			if (bad)
				err = dc__enomem(ctx);
		}
		free(norm);
		dc__ref_release(&ref);
	}
	if (!ntags && !err) {
		json_t *d = desc_json(desc);
		int bad = 0;

		if (ref_name) {
			json_t *ann = json_object();

			bad |= json_object_set_new(ann, "org.opencontainers.image.ref.name",
						   json_string(ref_name));
			bad |= json_object_set_new(d, "annotations", ann);
		}
		bad |= json_array_append_new(list, d);
		if (bad)
			err = dc__enomem(ctx);
	}
	return err;
}

int dc__oci_index_json(struct dc_ctx *ctx, struct dc_buf *out,
		       const struct dc_writer *w)
{
	json_t *idx = json_object(), *list = json_array();
	size_t i;
	int err = 0;

	if (json_object_set_new(idx, "schemaVersion", json_integer(2)) ||
	    json_object_set_new(idx, "mediaType",
				json_string("application/vnd.oci.image.index.v1+json")))
		err = dc__enomem(ctx);
	for (i = 0; i < w->nindexes && !err; i++)
		err = add_named(ctx, list, &w->indexes[i]->desc,
				w->indexes[i]->tags, w->indexes[i]->ntags,
				w->indexes[i]->ref_name);
	for (i = 0; i < w->nimages && !err; i++)
		if (!w->images[i]->index)
			err = add_named(ctx, list, &w->images[i]->manifest,
					w->images[i]->tags, w->images[i]->ntags,
					w->images[i]->ref_name);
	if (json_object_set_new(idx, "manifests", list) && !err)
		err = dc__enomem(ctx);
	if (!err)
		err = dc__json_dump(ctx, out, idx);
	json_decref(idx);
	return err;
}

/* ------------------------------------------------------------------ */
/* Directory */

struct dir_priv {
	char *tmp;			/* <dest>.tmp-XXXXXX */
	int dirfd;
	const struct dc_image **img;
	size_t n;
	/* adding to an existing layout: blobs go straight in (under temp
	 * names, renamed), index.json is replaced last */
	int append;
	char **added;			/* blobs we created, removed on abort */
	size_t nadded;
};

static int is_layout(int dirfd)
{
	struct stat st;

	return fstatat(dirfd, "oci-layout", &st, 0) == 0 && S_ISREG(st.st_mode) &&
	       fstatat(dirfd, "index.json", &st, 0) == 0 && S_ISREG(st.st_mode);
}

static int put_image_common(struct dc_writer *w, const struct dc_image *img,
			    const struct dc_image ***list, size_t *n)
{
	const struct dc_image **l = dc__reallocarray(w->ctx, *list, *n + 1,
						     sizeof(*l));

	if (!l)
		return DC_ENOMEM;
	l[(*n)++] = img;
	*list = l;
	return 0;
}

static int dir_empty(const char *path)
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

static int dir_begin(struct dc_writer *w)
{
	struct dir_priv *p = w->priv;
	struct stat st;
	int err;

	p->dirfd = -1;
	if (lstat(w->dest, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return dc_error(w->ctx, DC_EINVAL,
					"'%s': exists and is not a directory",
					w->dest);
		p->dirfd = open(w->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p->dirfd >= 0 && is_layout(p->dirfd)) {
			p->append = 1;
			if ((mkdirat(p->dirfd, "blobs", 0755) < 0 && errno != EEXIST) ||
			    (mkdirat(p->dirfd, "blobs/sha256", 0755) < 0 &&
			     errno != EEXIST))
				return dc_error(w->ctx, DC_EIO, "'%s/blobs/sha256': %s",
						w->dest, strerror(errno));
			return 0;
		}
		if (p->dirfd >= 0)
			close(p->dirfd);
		p->dirfd = -1;
		if (!dir_empty(w->dest))
			return dc_error(w->ctx, DC_EINVAL,
					"'%s': directory exists and is neither empty nor an OCI layout",
					w->dest);
		/* empty: replaced at commit */
	}
	if ((err = dc__tmp_dir(w->ctx, w->dest, &p->tmp)) < 0)
		return err;
	p->dirfd = open(p->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0 || mkdirat(p->dirfd, "blobs", 0755) < 0 ||
	    mkdirat(p->dirfd, "blobs/sha256", 0755) < 0)
		return dc_error(w->ctx, DC_EIO, "'%s': %s", p->tmp,
				strerror(errno));
	return 0;
}

/* Write a file from IN, or from [OFF, OFF+SIZE) of RFD when IN is NULL. */
static int write_file_at(struct dc_writer *w, int dirfd, const char *name,
			 struct dc_stream *in, int rfd, uint64_t off,
			 int64_t size, const char *label)
{
	struct dc_out o;
	int fd, err;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, name,
				strerror(errno));
	if ((err = dc__out_init(w->ctx, &o, fd, w->dest)) == 0) {
		if (in)
			err = dc__copy_stream(&o, in, size, label);
		else
			err = dc__out_copy_range(&o, rfd, off, (uint64_t)size);
		if (!err)
			err = dc__out_flush(&o);
		dc__out_release(&o);
	}
	if (close(fd) < 0 && !err)
		err = dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, name,
			       strerror(errno));
	return err;
}

static int write_mem_at(struct dc_writer *w, int dirfd, const char *name,
			const void *p, size_t n)
{
	struct dc_stream *s;
	int err;

	if ((err = dc__stream_memory(w->ctx, &s, p, n)) < 0)
		return err;
	err = write_file_at(w, dirfd, name, s, -1, 0, (int64_t)n, name);
	dc__stream_close(s);
	return err;
}

static int dir_put(struct dc_writer *w, struct dc_stream *in, int rfd,
		   uint64_t off, const struct dc_desc *want)
{
	struct dir_priv *p = w->priv;
	char name[128], tmp[160];
	struct stat st;
	char **added;
	int err;

	dc__blob_name(name, sizeof(name), want->digest);
	if (!p->append)
		return write_file_at(w, p->dirfd, name, in, rfd, off, want->size,
				     want->digest);
	/* content-addressed: a blob already there is the same blob */
	if (fstatat(p->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == want->size)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", name, (long)getpid());
	unlinkat(p->dirfd, tmp, 0);
	if ((err = write_file_at(w, p->dirfd, tmp, in, rfd, off, want->size,
				 want->digest)) < 0) {
		unlinkat(p->dirfd, tmp, 0);
		return err;
	}
	if (!(added = dc__reallocarray(w->ctx, p->added, p->nadded + 1,
				       sizeof(*added))) ||
	    !(added[p->nadded] = dc__strdup(w->ctx, name))) {
		if (added)
			p->added = added;
		unlinkat(p->dirfd, tmp, 0);
		return DC_ENOMEM;
	}
	p->added = added;
	if (renameat(p->dirfd, tmp, p->dirfd, name) < 0) {
		free(added[p->nadded]);
		unlinkat(p->dirfd, tmp, 0);
		return dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, name,
				strerror(errno));
	}
	p->nadded++;
	return 0;
}

static int dir_put_blob(struct dc_writer *w, struct dc_stream *in,
			const struct dc_desc *want)
{
	return dir_put(w, in, -1, 0, want);
}

static int dir_put_blob_range(struct dc_writer *w, int fd, uint64_t off,
			      const struct dc_desc *want)
{
	return dir_put(w, NULL, fd, off, want);
}

/* A new layout: each blob gets its file now, filled by the copy pool. */
static int dir_reserve_blob(struct dc_writer *w, const struct dc_desc *want,
			    int *fd, uint64_t *off, int *own)
{
	struct dir_priv *p = w->priv;
	char name[128];

	if (p->append)
		return 1;	/* blobs appear under their name only whole */
	dc__blob_name(name, sizeof(name), want->digest);
	*fd = openat(p->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		     0644);
	if (*fd < 0)
		return dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, name,
				strerror(errno));
	*off = 0;
	*own = 1;
	return 0;
}

/*
 * A spool made with O_TMPFILE beside the destination can be linked into
 * place (linkat through /proc/self/fd needs no privilege): no copy of a
 * squashed or recompressed layer. Anything else is copied.
 */
static int dir_put_blob_file(struct dc_writer *w, int fd,
			     const struct dc_desc *want)
{
	struct dir_priv *p = w->priv;
	char name[128], proc[64];
	struct stat st;

	dc__blob_name(name, sizeof(name), want->digest);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (p->append && fstatat(p->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return dir_put(w, NULL, fd, 0, want);	/* already there */
	if (!p->append && fstat(fd, &st) == 0 && st.st_nlink == 0 &&
	    st.st_size == want->size &&
	    linkat(AT_FDCWD, proc, p->dirfd, name, AT_SYMLINK_FOLLOW) == 0) {
		fchmod(fd, 0644);
		return 0;
	}
	return dir_put(w, NULL, fd, 0, want);
}

/*
 * The existing index.json with our descriptors added; an old entry
 * with the same ref.name loses it (as skopeo does), others stay.
 */
static int merge_index(struct dc_writer *w, int dirfd, struct dc_buf *ours)
{
	struct dc_ctx *ctx = w->ctx;
	struct dc_buf old = DC_BUF_INIT;
	json_t *oj = NULL, *nj = NULL, *olist, *nlist, *res = NULL;
	struct stat st;
	size_t i, j;
	int fd = -1, err = 0, bad = 0;

	fd = openat(dirfd, "index.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = dc_error(ctx, DC_EIO, "'%s/index.json': %s", w->dest,
			       strerror(errno));
		goto out;
	}
	if (st.st_size > (off_t)DC_MAX_JSON) {
		err = dc_error(ctx, DC_ELIMIT, "'%s/index.json': too large", w->dest);
		goto out;
	}
	for (;;) {
		char b[65536];
		ssize_t r = read(fd, b, sizeof(b));

		if (r < 0) {
			err = dc_error(ctx, DC_EIO, "'%s/index.json': %s", w->dest,
				       strerror(errno));
			goto out;
		}
		if (!r)
			break;
		if ((err = dc__buf_add(ctx, &old, b, (size_t)r)) < 0)
			goto out;
	}
	if ((err = dc__json_parse(ctx, &oj, &old, "index.json")) < 0 ||
	    (err = dc__json_parse(ctx, &nj, ours, "index.json")) < 0)
		goto out;
	olist = json_object_get(oj, "manifests");
	nlist = json_object_get(nj, "manifests");
	if (!json_is_object(oj) || !(json_is_array(olist) || json_is_null(olist))) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'%s/index.json': not an image index", w->dest);
		goto out;
	}
	res = json_array();
	for (i = 0; i < json_array_size(olist); i++) {
		json_t *d = json_array_get(olist, i);
		const char *rn = json_string_value(json_object_get(
			json_object_get(d, "annotations"),
			"org.opencontainers.image.ref.name"));
		int dup = 0;

		for (j = 0; rn && j < json_array_size(nlist) && !dup; j++) {
			const char *nr = json_string_value(json_object_get(
				json_object_get(json_array_get(nlist, j), "annotations"),
				"org.opencontainers.image.ref.name"));

			dup = nr && !strcmp(nr, rn);
		}
		if (!dup)
			bad |= json_array_append(res, d);
	}
	for (j = 0; j < json_array_size(nlist); j++)
		bad |= json_array_append(res, json_array_get(nlist, j));
	bad |= json_object_set(nj, "manifests", res);
	ours->len = 0;
	err = bad ? dc__enomem(ctx) : dc__json_dump(ctx, ours, nj);
out:
	if (fd >= 0)
		close(fd);
	json_decref(res);
	json_decref(oj);
	json_decref(nj);
	dc__buf_release(&old);
	return err;
}

static int dir_put_image(struct dc_writer *w, const struct dc_image *img)
{
	struct dir_priv *p = w->priv;

	return put_image_common(w, img, &p->img, &p->n);
}

static int dir_commit(struct dc_writer *w)
{
	struct dir_priv *p = w->priv;
	struct dc_buf idx = DC_BUF_INIT;
	int err;

	if (p->append) {
		char tmp[64];

		snprintf(tmp, sizeof(tmp), "index.json.tmp-%ld", (long)getpid());
		unlinkat(p->dirfd, tmp, 0);
		if ((err = dc__oci_index_json(w->ctx, &idx, w)) < 0 ||
		    (err = merge_index(w, p->dirfd, &idx)) < 0)
			goto out;
		if ((err = write_mem_at(w, p->dirfd, tmp, idx.data, idx.len)) < 0) {
			unlinkat(p->dirfd, tmp, 0);
			goto out;
		}
		if (syncfs(p->dirfd) < 0 ||
		    renameat(p->dirfd, tmp, p->dirfd, "index.json") < 0) {
			err = dc_error(w->ctx, DC_EIO, "'%s/index.json': %s",
				       w->dest, strerror(errno));
			unlinkat(p->dirfd, tmp, 0);
			goto out;
		}
		goto out;
	}
	if (w->note && (err = write_mem_at(w, p->dirfd, DC_DELTA_NOTE, w->note,
					   w->note_len)) < 0)
		goto out;
	if ((err = dc__oci_index_json(w->ctx, &idx, w)) < 0 ||
	    (err = write_mem_at(w, p->dirfd, "index.json", idx.data, idx.len)) < 0 ||
	    (err = write_mem_at(w, p->dirfd, "oci-layout", OCI_LAYOUT,
				strlen(OCI_LAYOUT))) < 0)
		goto out;
	if (dir_empty(w->dest))
		rmdir(w->dest);
	if (syncfs(p->dirfd) < 0 || rename(p->tmp, w->dest) < 0) {
		err = dc_error(w->ctx, DC_EIO, "'%s': %s", w->dest,
			       strerror(errno));
		goto out;
	}
	free(p->tmp);
	p->tmp = NULL;
out:
	dc__buf_release(&idx);
	if (!err) {
		size_t i;

		close(p->dirfd);
		free(p->img);
		p->dirfd = -1;
		p->img = NULL;
		for (i = 0; i < p->nadded; i++)
			free(p->added[i]);
		free(p->added);
		p->added = NULL;
		p->nadded = 0;
	}
	return err;
}

static void dir_abort(struct dc_writer *w)
{
	struct dir_priv *p = w->priv;
	size_t i;

	/* appending: take back the blobs we added, nothing else */
	for (i = 0; i < p->nadded; i++) {
		if (p->dirfd >= 0)
			unlinkat(p->dirfd, p->added[i], 0);
		free(p->added[i]);
	}
	free(p->added);
	p->added = NULL;
	p->nadded = 0;
	if (p->dirfd >= 0)
		close(p->dirfd);
	p->dirfd = -1;
	if (p->tmp)
		dc__rm_rf(p->tmp);
	free(p->tmp);
	free(p->img);
	p->tmp = NULL;
	p->img = NULL;
}

const struct dc_writer_ops dc__writer_oci = {
	.name = "oci",
	.priv_size = sizeof(struct dir_priv),
	.caps = DC_WCAP_MULTI_IMAGE | DC_WCAP_MULTI_PLATFORM | DC_WCAP_DELTA,
	.begin = dir_begin,
	.put_blob = dir_put_blob,
	.put_blob_range = dir_put_blob_range,
	.put_blob_file = dir_put_blob_file,
	.reserve_blob = dir_reserve_blob,
	.put_image = dir_put_image,
	.commit = dir_commit,
	.abort = dir_abort,
};

/* ------------------------------------------------------------------ */
/* Tar: oci-archive and docker-archive */

struct tar_priv {
	struct dc_tarlayout tl;		/* first: the tar layout base's */
	const struct dc_image **img;
	size_t n;
};

/* Every blob is "blobs/sha256/<hex>". */
static int tar_blob_header(struct dc_writer *w, const struct dc_desc *want)
{
	char name[128];

	dc__blob_name(name, sizeof(name), want->digest);
	return dc__tarlayout_member(w, name, (uint64_t)want->size);
}

static int tar_blob_close(struct dc_writer *w, const struct dc_desc *d,
			  uint64_t at)
{
	struct tar_priv *p = w->priv;
	char name[128];

	dc__blob_name(name, sizeof(name), d->digest);
	return dc__tarw_patch(&p->tl.f.o, at, name, (uint64_t)d->size);
}

static const struct dc_tarlayout_ops tar_naming = {
	.header = tar_blob_header,
	.close = tar_blob_close,
};

static int tar_begin(struct dc_writer *w)
{
	struct tar_priv *p = w->priv;
	int err;

	p->tl.ops = &tar_naming;
	if ((err = dc__outfile_open(w->ctx, &p->tl.f, w->dest)) < 0 ||
	    (err = dc__tarw_header(&p->tl.f.o, "blobs/", DC_M_DIR, 0, 0755, NULL)) < 0)
		return err;
	return dc__tarw_header(&p->tl.f.o, "blobs/sha256/", DC_M_DIR, 0, 0755, NULL);
}

static int tar_put_image(struct dc_writer *w, const struct dc_image *img)
{
	struct tar_priv *p = w->priv;

	return put_image_common(w, img, &p->img, &p->n);
}

static int tar_finish(struct dc_writer *w, int docker)
{
	struct tar_priv *p = w->priv;
	struct dc_buf idx = DC_BUF_INIT, mj = DC_BUF_INIT, repos = DC_BUF_INIT;
	int err;

	if (w->note && (err = dc__tarw_file(&p->tl.f.o, DC_DELTA_NOTE, w->note,
					    w->note_len)) < 0)
		goto out;
	if ((err = dc__oci_index_json(w->ctx, &idx, w)) < 0 ||
	    (err = dc__tarw_file(&p->tl.f.o, "index.json", idx.data, idx.len)) < 0)
		goto out;
	if (docker) {
		if ((err = dc__docker_manifest_json(w->ctx, &mj, p->img, p->n)) < 0 ||
		    (err = dc__tarw_file(&p->tl.f.o, "manifest.json", mj.data, mj.len)) < 0)
			goto out;
	}
	if ((err = dc__tarw_file(&p->tl.f.o, "oci-layout", OCI_LAYOUT,
				 strlen(OCI_LAYOUT))) < 0)
		goto out;
	if (docker) {
		if ((err = dc__docker_repositories(w->ctx, &repos, p->img,
						   p->n)) < 0)
			goto out;
		if (repos.len &&
		    (err = dc__tarw_file(&p->tl.f.o, "repositories", repos.data,
					 repos.len)) < 0)
			goto out;
	}
	if ((err = dc__tarw_end(&p->tl.f.o)) < 0 ||
	    (err = dc__outfile_commit(&p->tl.f)) < 0)
		goto out;
	free(p->img);
	p->img = NULL;
out:
	dc__buf_release(&idx);
	dc__buf_release(&mj);
	dc__buf_release(&repos);
	return err;
}

static int oci_tar_commit(struct dc_writer *w)
{
	return tar_finish(w, 0);
}

static int docker_commit(struct dc_writer *w)
{
	return tar_finish(w, 1);
}

static void tar_abort(struct dc_writer *w)
{
	struct tar_priv *p = w->priv;

	dc__outfile_abort(&p->tl.f);
	free(p->img);
	p->img = NULL;
}

const struct dc_writer_ops dc__writer_oci_archive = {
	.name = "oci-archive",
	.priv_size = sizeof(struct tar_priv),
	.caps = DC_WCAP_MULTI_IMAGE | DC_WCAP_STDOUT | DC_WCAP_MULTI_PLATFORM |
		DC_WCAP_DELTA,
	.begin = tar_begin,
	.put_blob = dc__tarlayout_put_blob,
	.put_blob_range = dc__tarlayout_put_blob_range,
	.reserve_blob = dc__tarlayout_reserve_blob,
	.put_blob_open = dc__tarlayout_put_blob_open,
	.put_blob_close = dc__tarlayout_put_blob_close,
	.put_image = tar_put_image,
	.commit = oci_tar_commit,
	.abort = tar_abort,
};

const struct dc_writer_ops dc__writer_docker_archive = {
	.name = "docker-archive",
	.priv_size = sizeof(struct tar_priv),
	.caps = DC_WCAP_MULTI_IMAGE | DC_WCAP_STDOUT | DC_WCAP_DOCKER_TYPES |
		DC_WCAP_DELTA,
	.begin = tar_begin,
	.put_blob = dc__tarlayout_put_blob,
	.put_blob_range = dc__tarlayout_put_blob_range,
	.reserve_blob = dc__tarlayout_reserve_blob,
	.put_blob_open = dc__tarlayout_put_blob_open,
	.put_blob_close = dc__tarlayout_put_blob_close,
	.put_image = tar_put_image,
	.commit = docker_commit,
	.abort = tar_abort,
};
