/*
 * Private header of src/writers/: the writer vtable, the state-checked
 * core that calls it (writer.c), and helpers shared by the writers.
 */
#ifndef DC_WRITERS_H
#define DC_WRITERS_H

#ifndef DC_BUILDING
#error "writers/writers.h is private to decant"
#endif

#include "model/model.h"
#include "blob/blob.h"

#include <stdio.h>

struct dc_writer;

enum dc_writer_caps {
	DC_WCAP_MULTI_IMAGE = 1 << 0,
	DC_WCAP_STDOUT = 1 << 1,	/* a tar format: "-" is stdout */
	DC_WCAP_DOCKER_TYPES = 1 << 2,	/* default to uncompressed layers */
	DC_WCAP_MULTI_PLATFORM = 1 << 3,	/* holds image indexes */
	/* the output is one image's merged filesystem (rootfs): one blob,
	 * all layers squashed, written with put_blob_open() */
	DC_WCAP_FLAT = 1 << 4,
	/* may leave out layers (a delta) and hold the record of it
	 * (w->note) as a file at its root */
	DC_WCAP_DELTA = 1 << 5,
	/* not a path (a registry): spool files go to $TMPDIR */
	DC_WCAP_REMOTE = 1 << 6
};

/*
 * A writer knows one format and only places bytes. The core calls
 * begin(), then put_blob() for every blob (layers, configs, manifests)
 * in digest order, each once, then put_image() for every image, then
 * commit(), which alone makes the output visible. On any failure it
 * calls abort(), which removes everything written. The core enforces
 * the order: every dc__writer_*() call checks the writer's state first
 * and a call out of order is a bug (DC_BUG), as libarchive's
 * archive_check_magic makes it.
 */
struct dc_writer_ops {
	const char *name;
	size_t priv_size;
	unsigned caps;
	int (*begin)(struct dc_writer *w);
	int (*put_blob)(struct dc_writer *w, struct dc_stream *in,
			const struct dc_desc *want);
	/* optional: the blob is [OFF, OFF+LEN) of FD, verified elsewhere */
	int (*put_blob_range)(struct dc_writer *w, int fd, uint64_t off,
			      const struct dc_desc *want);
	/* optional: the blob is all of FD, an anonymous spool file that the
	 * writer may keep (link into place) instead of copying */
	int (*put_blob_file)(struct dc_writer *w, int fd,
			     const struct dc_desc *want);
	/* optional: make room for blob WANT and say where its bytes go:
	 * *FD at *OFF (with *OWN, the caller closes *FD when done). The
	 * caller fills it before put_image(). Returns 1 when this writer
	 * cannot (e.g. a pipe): the caller then uses put_blob. */
	int (*reserve_blob)(struct dc_writer *w, const struct dc_desc *want,
			    int *fd, uint64_t *off, int *own);
	/* optional: blob WANT is sent later from a worker thread (a
	 * registry): *SEND(*ARG, TCTX, IN) sends it from IN, reporting to
	 * TCTX; it may run on several threads at once for different
	 * blobs, and runs before put_image(), also while has_blob() and
	 * reserve_send() are called for other blobs (a registry push is
	 * begun while it is planned: the images are then named, their
	 * layers filled in as they are made, and a blob's image is the
	 * first whose layers hold its digest). Returns 1 when this writer
	 * cannot: the caller then uses reserve_blob or put_blob. */
	int (*reserve_send)(struct dc_writer *w, const struct dc_desc *want,
			    int (**send)(void *arg, struct dc_ctx *tctx,
					 struct dc_stream *in),
			    void **arg);
	/* optional: a blob whose digest and size are not known yet (a
	 * squash) is written now, by the caller, at *FD's offset; then
	 * put_blob_close() with its descriptor, before anything else is
	 * written. Returns 1 when this writer cannot (a pipe). A writer
	 * that has it gets begin() before the images are planned, to
	 * take the squash at planning time: images are not set yet. */
	int (*put_blob_open)(struct dc_writer *w, int *fd);
	/* D NULL: the output holds the blob already, take it back out */
	int (*put_blob_close)(struct dc_writer *w, const struct dc_desc *d);
	/* optional: 1 if the output holds blob D already (a registry that
	 * has it, a layout appended to): it is neither read nor put; 0 if
	 * not. Asked only when the output or the source is remote. */
	int (*has_blob)(struct dc_writer *w, const struct dc_desc *d);
	int (*put_image)(struct dc_writer *w, const struct dc_image *img);
	int (*commit)(struct dc_writer *w);
	void (*abort)(struct dc_writer *w);
};

/*
 * NEW -begin-> BLOBS; BLOBS -put_blob_open-> OPEN -put_blob_close->
 * BLOBS; BLOBS or IMAGES -put_image-> IMAGES; BLOBS or IMAGES -commit->
 * DONE. A call that fails leaves FAILED, where abort() alone is
 * allowed; abort() leaves FAILED too.
 */
enum dc_writer_state {
	DC_W_NEW = 0,
	DC_W_BLOBS,
	DC_W_OPEN,
	DC_W_IMAGES,
	DC_W_DONE,
	DC_W_FAILED
};

struct dc_writer {
	unsigned magic;		/* DC_WRITER_MAGIC once set up */
	struct dc_ctx *ctx;
	const struct dc_writer_ops *ops;
	const char *dest;	/* "-" for stdout */
	const char *src_path;	/* refuse writing over it */
	enum dc_writer_state state;
	/* every output image, before begin() (named, with their indexes;
	 * final by the first put_image()): put_image() will be called for
	 * each of them in this order */
	const struct dc_image *const *images;
	size_t nimages;
	const struct dc_index *const *indexes;	/* for OCI layouts */
	size_t nindexes;
	/* the written descriptor of a blob -> is it a layer? (for writers
	 * that place layers and configs differently) */
	void *priv;
	/* the blob put next is a squashed layer: a tar writer starts its
	 * data on a 4 KiB boundary, as put_blob_open() does */
	int align_next;
	/* DC_WCAP_DELTA: the delta's record (DC_DELTA_NOTE), or NULL */
	const char *note;
	size_t note_len;
};

extern const struct dc_writer_ops dc__writer_oci;
extern const struct dc_writer_ops dc__writer_oci_archive;
extern const struct dc_writer_ops dc__writer_docker_archive;
extern const struct dc_writer_ops dc__writer_docker_legacy;
extern const struct dc_writer_ops dc__writer_rootfs;

/* ------------------------------------------------------------------ */
/* The core (src/writers/writer.c) */

/* The writer for output format NAME, or NULL. */
const struct dc_writer_ops *dc__writer_find(const char *name);

/*
 * Set W up for OPS writing to DEST (borrowed), state NEW. Fails only
 * without memory. dc__writer_release() (NULL-safe, any state) frees
 * what it holds; it does not abort: call dc__writer_abort() first.
 */
int dc__writer_init(struct dc_ctx *ctx, struct dc_writer *w,
		    const struct dc_writer_ops *ops, const char *dest);
void dc__writer_release(struct dc_writer *w);

/*
 * The images and indexes put_image() will get (borrowed: they must
 * outlive W), before begin() or, for a writer begun before planning
 * (put_blob_open), before the first put_image(). A writer begun while
 * planning (a registry) gets them named, then again when planned.
 */
void dc__writer_set_images(struct dc_writer *w,
			   const struct dc_image *const *img, size_t n,
			   const struct dc_index *const *idx, size_t nidx);

/* Calls into the writer's ops, each checking the state first. The
 * optional ones return 1 when the writer lacks them. */
int dc__writer_begin(struct dc_writer *w);
int dc__writer_put_blob(struct dc_writer *w, struct dc_stream *in,
			const struct dc_desc *want);
int dc__writer_put_blob_range(struct dc_writer *w, int fd, uint64_t off,
			      const struct dc_desc *want);
int dc__writer_put_blob_file(struct dc_writer *w, int fd,
			     const struct dc_desc *want);
int dc__writer_reserve_blob(struct dc_writer *w, const struct dc_desc *want,
			    int *fd, uint64_t *off, int *own);
int dc__writer_put_blob_open(struct dc_writer *w, int *fd);
int dc__writer_put_blob_close(struct dc_writer *w, const struct dc_desc *d);
int dc__writer_has_blob(struct dc_writer *w, const struct dc_desc *d);
int dc__writer_reserve_send(struct dc_writer *w, const struct dc_desc *want,
			    int (**send)(void *, struct dc_ctx *,
					 struct dc_stream *),
			    void **arg);
int dc__writer_put_image(struct dc_writer *w, const struct dc_image *img);
int dc__writer_commit(struct dc_writer *w);
/* Removes partial output; a no-op before begin(). Not after commit. */
void dc__writer_abort(struct dc_writer *w);

/* ------------------------------------------------------------------ */
/* The tar layout base (src/writers/tarlayout.c) */

/*
 * The tar writers (oci-archive, docker-archive, docker-legacy) keep
 * every blob as a member of one tar. A writer's priv starts with a
 * struct dc_tarlayout whose ops name the members; its vtable takes
 * put_blob, put_blob_range, reserve_blob, put_blob_open and
 * put_blob_close from here.
 */
struct dc_tarlayout_ops {
	/* Write the member header of blob WANT (dc__tarlayout_member with
	 * the layout's name for it): 0, or 1 when the layout has no place
	 * for WANT, which is then skipped. */
	int (*header)(struct dc_writer *w, const struct dc_desc *want);
	/* put_blob_open()'s blob is D, its header block at AT: name it */
	int (*close)(struct dc_writer *w, const struct dc_desc *d,
		     uint64_t at);
};

struct dc_tarlayout {
	struct dc_outfile f;
	const struct dc_tarlayout_ops *ops;	/* set before begin() returns */
	uint64_t open_from;	/* where put_blob_open's output began */
	uint64_t open_at;	/* ... and its member header */
};

/* A squashed layer's data starts on a 4 KiB boundary: the squash can
 * write it with O_DIRECT, and stdout gets the same bytes as a file. */
#define DC_TAR_ALIGN 4096u

/* The header of member NAME of SIZE bytes; a squashed layer's
 * (w->align_next) aligned, as put_blob_open() writes it. */
int dc__tarlayout_member(struct dc_writer *w, const char *name,
			 uint64_t size);
int dc__tarlayout_put_blob(struct dc_writer *w, struct dc_stream *in,
			   const struct dc_desc *want);
int dc__tarlayout_put_blob_range(struct dc_writer *w, int fd, uint64_t off,
				 const struct dc_desc *want);
int dc__tarlayout_reserve_blob(struct dc_writer *w, const struct dc_desc *want,
			       int *fd, uint64_t *off, int *own);
int dc__tarlayout_put_blob_open(struct dc_writer *w, int *fd);
int dc__tarlayout_put_blob_close(struct dc_writer *w, const struct dc_desc *d);

/* ------------------------------------------------------------------ */
/* Shared by the writers */

/*
 * Copy IN to O, reading until the end (which is where a verifying
 * stream checks its digest); fails unless exactly SIZE bytes came.
 */
int dc__copy_stream(struct dc_out *o, struct dc_stream *in, int64_t size,
		    const char *label);

/* Shared by the OCI-layout writers: index.json for the writer's images
 * and multi-platform indexes. FULL_NAMES: ref.name holds the whole
 * normalized reference (oci, oci-archive), else the bare tag as Docker
 * writes it (docker-archive). */
int dc__oci_index_json(struct dc_ctx *ctx, struct dc_buf *out,
		       const struct dc_writer *w, int full_names);

/* "blobs/sha256/<hex>": where an OCI layout (directory or tar) keeps
 * the blob DIGEST. N of 96 is enough for any digest we accept. */
static inline void dc__blob_name(char *buf, size_t n, const char *digest)
{
	snprintf(buf, n, "blobs/sha256/%s", dc__digest_hex(digest));
}

/* manifest.json as Docker 25+ writes it: Config, RepoTags, Layers. */
int dc__docker_manifest_json(struct dc_ctx *ctx, struct dc_buf *out,
			     const struct dc_image *const *img, size_t n);
/* The same shape with the member names NAME gives: IMG's config (J ==
 * SIZE_MAX) or layer J, the K-th layer over all images so far, into
 * BUF of N bytes. */
typedef void dc_docker_name_fn(void *arg, const struct dc_image *img,
			       size_t j, size_t k, char *buf, size_t n);
int dc__docker_manifest_names(struct dc_ctx *ctx, struct dc_buf *out,
			      const struct dc_image *const *img, size_t n,
			      dc_docker_name_fn *name, void *arg);
/* repositories: {"name":{"tag":"<top layer diff_id hex>"}}; empty if
 * no image is tagged. */
int dc__docker_repositories(struct dc_ctx *ctx, struct dc_buf *out,
			    const struct dc_image *const *img, size_t n);

/* containers/image dir: layouts (src/writers/dir.c) */
extern const struct dc_writer_ops dc__writer_dir;
/* registries: docker://HOST/REPO[:TAG] (src/writers/registry.c) */
extern const struct dc_writer_ops dc__writer_registry;

/* Shared by the directory writers (oci, dir): write file NAME under
 * DIRFD (SHOWN in messages, never through a symlink) from IN, or from
 * [OFF, OFF+SIZE) of RFD when IN is NULL; closed when written. */
int dc__write_file_at(struct dc_writer *w, int dirfd, const char *name,
		      const char *shown, struct dc_stream *in, int rfd,
		      uint64_t off, int64_t size, const char *label);
/* The same from N bytes at P. */
int dc__write_mem_at(struct dc_writer *w, int dirfd, const char *name,
		     const void *p, size_t n);

#endif
