/*
 * Writers for OCI image layouts: a directory ("oci"), a tar
 * ("oci-archive"), and the Docker 25+ `docker save` layout
 * ("docker-archive": the tar plus manifest.json and repositories).
 *
 * Tar entries are in lexical order (blobs/, blobs/sha256/<digest>...,
 * index.json, manifest.json, oci-layout, repositories) with fixed
 * owners and mtimes, so the same input gives the same bytes.
 */

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
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

/*
 * Names in index.json. Docker 25+ and containerd write the bare tag in
 * org.opencontainers.image.ref.name and the whole reference in
 * io.containerd.image.name; docker-archive keeps that. In oci and
 * oci-archive output both hold the whole normalized reference
 * ("docker.io/library/busybox:latest"), so that several images in one
 * layout are told apart by every reader: containers/image (skopeo,
 * podman: `oci:DIR:NAME` matches ref.name exactly; podman load prefers
 * io.containerd.image.name), umoci (--image DIR:NAME matches ref.name)
 * and containerd (`ctr images import` takes io.containerd.image.name,
 * else ref.name, prefixing a bare one). The source's own ref.name is
 * written back as it was: a whole reference spelled its way
 * ("busybox:latest"), or one that is no reference ("1.0").
 */
struct names {
	json_t *seen;		/* full name -> digest it was given to */
	int full;		/* oci, oci-archive: whole references */
};

static int add_one(struct dc_ctx *ctx, json_t *list, struct names *nm,
		   const struct dc_desc *desc, const char *ref_name,
		   const char *image_name)
{
	json_t *d = desc_json(desc), *ann, *was;
	int bad = 0;

	if (nm->full && ref_name) {
		was = json_object_get(nm->seen, ref_name);
		if (was && strcmp(json_string_value(was), desc->digest)) {
			json_decref(d);
			return dc_error(ctx, DC_EINVAL,
					"'%s': names two images (%s and %s)",
					ref_name, json_string_value(was),
					desc->digest);
		}
		if (was) {		/* the same image twice */
			json_decref(d);
			return 0;
		}
		bad |= json_object_set_new(nm->seen, ref_name,
					   json_string(desc->digest));
	}
	if (ref_name || image_name) {
		ann = json_object();
		if (image_name)
			bad |= json_object_set_new(ann, "io.containerd.image.name",
						   json_string(image_name));
		if (ref_name)
			bad |= json_object_set_new(ann, "org.opencontainers.image.ref.name",
						   json_string(ref_name));
		bad |= json_object_set_new(d, "annotations", ann);
	}
	bad |= json_array_append_new(list, d);
	return bad ? dc__enomem(ctx) : 0;
}

/* The one of the source's own ref.names (SRC, N) that is NORM, or NORM */
static const char *src_spelling(struct dc_ctx *ctx, char *const *src, size_t n,
				const char *norm)
{
	const char *found = NULL;
	size_t i;

	for (i = 0; i < n && !found; i++) {
		struct dc_ref ref;
		char *s = NULL;

		if (dc__ref_parse(ctx, &ref, src[i]) < 0)
			continue;	/* the reader took it as a reference */
		if (dc__ref_normalized(ctx, &ref, &s) == 0 && !strcmp(s, norm))
			found = src[i];
		free(s);
		dc__ref_release(&ref);
	}
	return found ? found : norm;
}

/* index.json descriptors for DESC named by TAGS / REF_NAME / SRC_REFS */
static int add_named(struct dc_ctx *ctx, json_t *list, struct names *nm,
		     const struct dc_desc *desc, char *const *tags,
		     size_t ntags, const char *ref_name, char *const *src_refs,
		     size_t nsrc_refs)
{
	size_t t;
	int err = 0;

	/* one descriptor per tag, as Docker 25+ and containerd do */
	for (t = 0; t < ntags && !err; t++) {
		struct dc_ref ref;
		char *norm = NULL;

		if ((err = dc__ref_parse(ctx, &ref, tags[t])) < 0)
			break;
		err = dc__ref_normalized(ctx, &ref, &norm);
		if (!err)
			err = add_one(ctx, list, nm, desc, nm->full ?
				      src_spelling(ctx, src_refs, nsrc_refs, norm) :
				      ref.tag ? ref.tag : "latest", norm);
		free(norm);
		dc__ref_release(&ref);
	}
	if (!ntags)
		err = add_one(ctx, list, nm, desc, ref_name, NULL);
	return err;
}

int dc__oci_index_json(struct dc_ctx *ctx, struct dc_buf *out,
		       const struct dc_writer *w, int full_names)
{
	json_t *idx = json_object(), *list = json_array();
	struct names nm = { json_object(), full_names };
	size_t i;
	int err = 0;

	if (json_object_set_new(idx, "schemaVersion", json_integer(2)) ||
	    json_object_set_new(idx, "mediaType",
				json_string("application/vnd.oci.image.index.v1+json")))
		err = dc__enomem(ctx);
	for (i = 0; i < w->nindexes && !err; i++)
		err = add_named(ctx, list, &nm, &w->indexes[i]->desc,
				w->indexes[i]->tags, w->indexes[i]->ntags,
				w->indexes[i]->ref_name, w->indexes[i]->src_refs,
				w->indexes[i]->nsrc_refs);
	for (i = 0; i < w->nimages && !err; i++)
		if (!w->images[i]->index)
			err = add_named(ctx, list, &nm, &w->images[i]->manifest,
					w->images[i]->tags, w->images[i]->ntags,
					w->images[i]->ref_name, w->images[i]->src_refs,
					w->images[i]->nsrc_refs);
	if (json_object_set_new(idx, "manifests", list) && !err)
		err = dc__enomem(ctx);
	if (!err)
		err = dc__json_dump(ctx, out, idx);
	json_decref(idx);
	json_decref(nm.seen);
	return err;
}

/* ------------------------------------------------------------------ */
/* Directory */

/*
 * A new layout is made in <dest>.tmp-XXXXXX and renamed into place.
 * Adding to an existing one works in place, under an flock(2) on the
 * layout directory, so that two decants adding at once both get in:
 * blobs go in under temporary names and are renamed, index.json is
 * re-read under the lock and replaced last. Every file is reached from
 * the layout's own directory descriptors, never through a symbolic
 * link: a layout received from elsewhere cannot redirect a write.
 */
struct dir_priv {
	char *tmp;			/* <dest>.tmp-XXXXXX: a new layout */
	int dirfd;			/* the layout (or tmp) */
	int shafd;			/* its blobs/sha256 */
	int lockfd;			/* appending: holds the lock, or -1 */
	const struct dc_image **img;
	size_t n;
	int append;
	char **added;			/* blobs that were not there: removed on abort */
	size_t nadded;
	size_t reserved, max_reserved;	/* blob files open for the copy pool */
	size_t nreused;			/* blobs there already, verified */
	struct dc_buf reused;		/* ... their short digests */
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

/* *OUT = directory NAME under AT (made if missing), never a symlink. */
static int open_subdir(struct dc_writer *w, int at, const char *name,
		       const char *shown, int *out)
{
	struct stat st;

	if (mkdirat(at, name, 0755) < 0 && errno != EEXIST)
		return dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, shown,
				strerror(errno));
	*out = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*out >= 0)
		return 0;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return dc_error(w->ctx, DC_EINVAL,
				"'%s/%s': is a symbolic link: decant writes nothing outside the layout",
				w->dest, shown);
	return dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, shown,
			strerror(errno));
}

/*
 * flock FD, waiting (and saying so) while another process holds it;
 * polled, so that an interrupt still ends the wait. 1: flock does not
 * work here (some network filesystems refuse it on a directory).
 */
static int lock_wait(struct dc_writer *w, int fd)
{
	int told = 0, err;

	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return 1;
		if (!told++)
			dc__notice(w->ctx,
				   "'%s': another process is adding to this layout; waiting for it",
				   w->dest);
		if ((err = dc__check_intr(w->ctx)) < 0)
			return err;
		usleep(50 * 1000);
	}
	return 0;
}

static int lock_layout(struct dc_writer *w)
{
	struct dir_priv *p = w->priv;
	int err;

	if ((err = lock_wait(w, p->dirfd)) <= 0)
		return err;
	/* a lock file inside the layout, then */
	p->lockfd = openat(p->dirfd, ".decant-lock",
			   O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (p->lockfd < 0 || (err = lock_wait(w, p->lockfd)) > 0)
		return dc_error(w->ctx, DC_EIO, "'%s': cannot lock the layout: %s",
				w->dest, strerror(errno));
	return err;
}

static int dir_begin(struct dc_writer *w)
{
	struct dir_priv *p = w->priv;
	struct rlimit rl;
	struct stat st;
	int err, blobsfd = -1;

	p->dirfd = p->shafd = p->lockfd = -1;
	/* the copy pool holds each reserved blob's file open until it has
	 * run: leave most descriptors free, write the rest one at a time */
	p->max_reserved = 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < p->max_reserved)
		p->max_reserved = (size_t)(rl.rlim_cur / 4);
	if (lstat(w->dest, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return dc_error(w->ctx, DC_EINVAL,
					"'%s': exists and is not a directory",
					w->dest);
		p->dirfd = open(w->dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				O_CLOEXEC);
		if (p->dirfd >= 0 && is_layout(p->dirfd)) {
			p->append = 1;
			if ((err = lock_layout(w)) < 0 ||
			    (err = open_subdir(w, p->dirfd, "blobs", "blobs",
					       &blobsfd)) < 0)
				return err;
			err = open_subdir(w, blobsfd, "sha256", "blobs/sha256",
					  &p->shafd);
			close(blobsfd);
			return err;
		}
		if (p->dirfd >= 0)
			close(p->dirfd);
		p->dirfd = -1;
		if (!dc__dir_is_empty(w->dest))
			return dc_error(w->ctx, DC_EINVAL,
					"'%s': directory exists and is neither empty nor an OCI layout",
					w->dest);
		/* empty: replaced at commit */
	}
	if ((err = dc__tmp_dir(w->ctx, w->dest, &p->tmp)) < 0)
		return err;
	p->dirfd = open(p->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0 || mkdirat(p->dirfd, "blobs", 0755) < 0 ||
	    mkdirat(p->dirfd, "blobs/sha256", 0755) < 0 ||
	    (p->shafd = openat(p->dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY |
			       O_NOFOLLOW | O_CLOEXEC)) < 0)
		return dc_error(w->ctx, DC_EIO, "'%s': %s", p->tmp,
				strerror(errno));
	return 0;
}

/* 1 if blob file HEX under SHAFD is DIGEST, 0 if not (*WHY says how). */
static int blob_intact(struct dc_writer *w, int shafd, const char *hex,
		       const char *digest, const char **why)
{
	struct dc_hash *h = NULL;
	char got[DC_DIGEST_MAX], *buf = NULL;
	ssize_t r;
	int fd, err;

	*why = "it cannot be read";
	/* O_NONBLOCK: a FIFO in its place must not stall us */
	fd = openat(shafd, hex, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if ((err = dc__hash_new(w->ctx, &h)) < 0 ||
	    !(buf = dc__calloc(w->ctx, 1, 1u << 18))) {
		err = err < 0 ? err : DC_ENOMEM;
		goto out;
	}
	while ((r = read(fd, buf, 1u << 18)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;	/* err is 0: not intact */
		dc__hash_update(h, buf, (size_t)r);
		if ((err = dc__check_intr(w->ctx)) < 0)
			goto out;
	}
	dc__hash_final(h, got);
	*why = "its content does not match its digest";
	err = !strcmp(got, digest);
out:
	close(fd);
	free(buf);
	dc__hash_free(h);
	return err;
}

static int note_added(struct dc_writer *w, const char *hex)
{
	struct dir_priv *p = w->priv;
	char **added = dc__reallocarray(w->ctx, p->added, p->nadded + 1,
					sizeof(*added));

	if (!added)
		return DC_ENOMEM;
	p->added = added;
	if (!(added[p->nadded] = dc__strdup(w->ctx, hex)))
		return DC_ENOMEM;
	p->nadded++;
	return 0;
}

/*
 * Appending: is blob WANT there already? Content-addressed, it is
 * reused once its content proves to be that blob: 1 (counted for the
 * notice), 0 if not (*HAD: a file is in its place, *WHY says what is
 * wrong with it).
 */
static int dir_holds(struct dc_writer *w, const struct dc_desc *want,
		     int *had, const char **why)
{
	struct dir_priv *p = w->priv;
	const char *hex = dc__digest_hex(want->digest);
	char shown[128];
	struct stat st;
	int err;

	*why = NULL;
	*had = fstatat(p->shafd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!*had)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		*why = "it is a symbolic link";
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		dc__blob_name(shown, sizeof(shown), want->digest);
		return dc_error(w->ctx, DC_EINVAL, "'%s/%s': not a regular file",
				w->dest, shown);
	}
	if (st.st_size != want->size) {
		*why = "it has the wrong size";
		return 0;
	}
	if ((err = blob_intact(w, p->shafd, hex, want->digest, why)) <= 0)
		return err;
	if (p->nreused++ < 8 &&
	    (err = dc__buf_addf(w->ctx, &p->reused, "%s%.12s",
				p->reused.len ? ", " : "", hex)) < 0)
		return err;
	return 1;
}

static int dir_put(struct dc_writer *w, struct dc_stream *in, int rfd,
		   uint64_t off, const struct dc_desc *want)
{
	struct dir_priv *p = w->priv;
	const char *hex = dc__digest_hex(want->digest), *why = NULL;
	char shown[128], tmp[160];
	int err, had;

	dc__blob_name(shown, sizeof(shown), want->digest);
	if (!p->append)
		return dc__write_file_at(w, p->shafd, hex, shown, in, rfd, off,
				     want->size, want->digest);
	if ((err = dir_holds(w, want, &had, &why)) != 0)
		return err < 0 ? err : 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", hex, (long)getpid());
	unlinkat(p->shafd, tmp, 0);
	if ((err = dc__write_file_at(w, p->shafd, tmp, shown, in, rfd, off,
				 want->size, want->digest)) < 0)
		goto fail;
	if (had) {
		/* a bad copy gives way to a good one: nothing is lost */
		if (renameat(p->shafd, tmp, p->shafd, hex) < 0)
			goto fail_io;
		dc__notice(w->ctx, "'%s': replaced %s: %s", w->dest, shown, why);
		return 0;
	}
	if ((err = note_added(w, hex)) < 0)
		goto fail;
	if (renameat2(p->shafd, tmp, p->shafd, hex, RENAME_NOREPLACE) < 0) {
		free(p->added[--p->nadded]);
		if (errno != EEXIST)
			goto fail_io;
		unlinkat(p->shafd, tmp, 0);	/* someone else put it there */
	}
	return 0;
fail_io:
	err = dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, shown,
		       strerror(errno));
fail:
	unlinkat(p->shafd, tmp, 0);
	return err;
}

/* Appending from a registry: a blob the layout holds is not
 * downloaded (the driver asks only when the source is remote; from an
 * archive, the source blob is still read and checked). */
static int dir_has_blob(struct dc_writer *w, const struct dc_desc *d)
{
	struct dir_priv *p = w->priv;
	const char *why;
	int had;

	if (!p->append)
		return 0;
	return dir_holds(w, d, &had, &why);
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

/*
 * A new layout: a blob gets its file now, filled by the copy pool, up
 * to max_reserved of them (the pool holds them open until it runs);
 * the others are written and closed one at a time.
 */
static int dir_reserve_blob(struct dc_writer *w, const struct dc_desc *want,
			    int *fd, uint64_t *off, int *own)
{
	struct dir_priv *p = w->priv;
	char name[128];

	if (p->append || p->reserved >= p->max_reserved)
		return 1;	/* blobs appear under their name only whole */
	/* read and write: the copy pool may read back what it wrote (a
	 * blob fetched in parts is hashed in order once they are in) */
	*fd = openat(p->shafd, dc__digest_hex(want->digest),
		     O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*fd < 0) {
		dc__blob_name(name, sizeof(name), want->digest);
		return dc_error(w->ctx, DC_EIO, "'%s/%s': %s", w->dest, name,
				strerror(errno));
	}
	p->reserved++;
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
	char proc[64];
	struct stat st;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!p->append && fstat(fd, &st) == 0 && st.st_nlink == 0 &&
	    st.st_size == want->size &&
	    linkat(AT_FDCWD, proc, p->shafd, dc__digest_hex(want->digest),
		   AT_SYMLINK_FOLLOW) == 0) {
		fchmod(fd, 0644);
		return 0;
	}
	return dir_put(w, NULL, fd, 0, want);
}

/*
 * The name an index.json entry is known by: io.containerd.image.name,
 * else ref.name; a reference normalized ("busybox:latest" and
 * "docker.io/library/busybox:latest" are one). NULL: no name.
 */
static char *entry_name(struct dc_ctx *ctx, json_t *d)
{
	json_t *ann = json_object_get(d, "annotations");
	const char *s = json_string_value(json_object_get(ann,
					"io.containerd.image.name"));
	int code = ctx->code;
	char msg[sizeof(ctx->msg)], *norm = NULL;
	struct dc_ref ref;

	if (!s)
		s = json_string_value(json_object_get(ann,
					"org.opencontainers.image.ref.name"));
	if (!s)
		return NULL;
	/* a bare "1.0" is a tag of no name in particular */
	if (strchr(s, ':') || strchr(s, '/')) {
		memcpy(msg, ctx->msg, sizeof(msg));
		if (dc__ref_parse(ctx, &ref, s) == 0) {
			if (dc__ref_normalized(ctx, &ref, &norm) < 0)
				norm = NULL;
			dc__ref_release(&ref);
		}
		ctx->code = code;	/* not a reference: its own name */
		memcpy(ctx->msg, msg, sizeof(msg));
	}
	return norm ? norm : dc__strdup(ctx, s);
}

/*
 * The existing index.json with our descriptors added. An old entry
 * goes only when one of ours has its name (and the user hears of it
 * when that name now holds another image); entries of no name go only
 * when one of ours is the same descriptor.
 */
static int merge_index(struct dc_writer *w, int dirfd, struct dc_buf *ours)
{
	struct dc_ctx *ctx = w->ctx;
	struct dc_buf old = DC_BUF_INIT;
	json_t *oj = NULL, *nj = NULL, *olist, *nlist, *res = NULL;
	char **nnames = NULL;
	struct stat st;
	size_t i, j, nn = 0;
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
	nn = json_array_size(nlist);
	if (nn && !(nnames = dc__calloc(ctx, nn, sizeof(*nnames)))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (j = 0; j < nn; j++)
		nnames[j] = entry_name(ctx, json_array_get(nlist, j));
	res = json_array();
	for (i = 0; i < json_array_size(olist); i++) {
		json_t *d = json_array_get(olist, i), *nd = NULL;
		const char *od = json_string_value(json_object_get(d, "digest"));
		char *name = entry_name(ctx, d);

		for (j = 0; j < nn && !nd; j++) {
			json_t *c = json_array_get(nlist, j);
			const char *cd = json_string_value(json_object_get(c, "digest"));

			if (name ? nnames[j] && !strcmp(name, nnames[j]) :
			    !nnames[j] && od && cd && !strcmp(od, cd))
				nd = c;
		}
		if (!nd) {
			bad |= json_array_append(res, d);
		} else if (name && (!od || strcmp(od, json_string_value(
				json_object_get(nd, "digest"))))) {
			dc__notice(ctx, "'%s': replaced %s: it was %s", w->dest,
				   name, od ? od : "(no digest)");
		}
		free(name);
	}
	for (j = 0; j < nn; j++)
		bad |= json_array_append(res, json_array_get(nlist, j));
	bad |= json_object_set(nj, "manifests", res);
	ours->len = 0;
	err = bad ? dc__enomem(ctx) : dc__json_dump(ctx, ours, nj);
out:
	if (fd >= 0)
		close(fd);
	for (j = 0; j < nn && nnames; j++)
		free(nnames[j]);
	free(nnames);
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

/* Close the layout (which unlocks it) and forget the blobs added. */
static void dir_release(struct dir_priv *p)
{
	size_t i;

	for (i = 0; i < p->nadded; i++)
		free(p->added[i]);
	free(p->added);
	p->added = NULL;
	p->nadded = 0;
	if (p->shafd >= 0)
		close(p->shafd);
	if (p->lockfd >= 0)
		close(p->lockfd);
	if (p->dirfd >= 0)
		close(p->dirfd);
	p->shafd = p->lockfd = p->dirfd = -1;
	dc__buf_release(&p->reused);
	p->nreused = 0;
	free(p->img);
	p->img = NULL;
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
		/* index.json as it is now, under the lock */
		if ((err = dc__oci_index_json(w->ctx, &idx, w, 1)) < 0 ||
		    (err = merge_index(w, p->dirfd, &idx)) < 0)
			goto out;
		if ((err = dc__write_mem_at(w, p->dirfd, tmp, idx.data, idx.len)) < 0) {
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
		if (p->nreused)
			dc__notice(w->ctx, "'%s': reused %zu blob%s already there, content verified (%.*s%s)",
				   w->dest, p->nreused, p->nreused == 1 ? "" : "s",
				   (int)p->reused.len, p->reused.data ? p->reused.data : "",
				   p->nreused > 8 ? ", ..." : "");
		goto out;
	}
	if (w->note && (err = dc__write_mem_at(w, p->dirfd, DC_DELTA_NOTE, w->note,
					       w->note_len)) < 0)
		goto out;
	if ((err = dc__oci_index_json(w->ctx, &idx, w, 1)) < 0 ||
	    (err = dc__write_mem_at(w, p->dirfd, "index.json", idx.data, idx.len)) < 0 ||
	    (err = dc__write_mem_at(w, p->dirfd, "oci-layout", OCI_LAYOUT,
				strlen(OCI_LAYOUT))) < 0)
		goto out;
	if (dc__dir_is_empty(w->dest))
		rmdir(w->dest);
	if (syncfs(p->dirfd) < 0 || rename(p->tmp, w->dest) < 0) {
		err = errno == ENOTEMPTY || errno == EEXIST ?
		      dc_error(w->ctx, DC_EIO,
			       "'%s': made by another process meanwhile; nothing written (run again to add to it)",
			       w->dest) :
		      dc_error(w->ctx, DC_EIO, "'%s': %s", w->dest,
			       strerror(errno));
		goto out;
	}
	free(p->tmp);
	p->tmp = NULL;
out:
	dc__buf_release(&idx);
	if (!err)
		dir_release(p);
	return err;
}

static void dir_abort(struct dc_writer *w)
{
	struct dir_priv *p = w->priv;
	size_t i;

	/* appending: take back the blobs that were not there before,
	 * nothing else */
	for (i = 0; i < p->nadded; i++)
		if (p->shafd >= 0)
			unlinkat(p->shafd, p->added[i], 0);
	dir_release(p);
	if (p->tmp)
		dc__rm_rf(p->tmp);
	free(p->tmp);
	p->tmp = NULL;
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
	.has_blob = dir_has_blob,
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
	if ((err = dc__oci_index_json(w->ctx, &idx, w, !docker)) < 0 ||
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
