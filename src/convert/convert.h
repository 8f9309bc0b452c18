/*
 * Private header of src/convert/: the plan (what each output blob is and
 * where its bytes come from) and the driver that runs read -> transforms
 * -> write (dc_write).
 */
#ifndef DC_CONVERT_H
#define DC_CONVERT_H

#ifndef DC_BUILDING
#error "convert/convert.h is private to decant"
#endif

#include "readers/readers.h"
#include "transform/transform.h"
#include "writers/writers.h"

/* B_DONE: in the output already (a squash written into a tar) */
enum bkind { B_MEM, B_LAYER, B_SPOOL, B_DONE };

struct pblob {
	enum bkind kind;
	const struct dc_desc *src;	/* B_LAYER: the reader's descriptor */
	const struct dc_desc *out;	/* the written descriptor */
	const void *mem;		/* B_MEM */
	int fd;				/* B_SPOOL */
	size_t squash;			/* a squash: the how-manieth (1...) */
	int sent;			/* in the output already: an early send */
};

struct tjob;

struct plan {
	struct dc_ctx *ctx;
	struct dc_image **img;		/* output images */
	size_t n;
	struct dc_index **idx;		/* output indexes */
	const struct dc_index **src_idx;	/* ... and where they come from */
	size_t nidx;
	struct pblob *b;
	size_t nb, capb;
	struct dc_sindex bidx;		/* b by output digest, until sorted */
	int *fds;			/* spool files to close */
	size_t nfds;
	struct tjob *jobs;		/* recompressions done up front */
	size_t njobs;
	struct dc_enc *enc;		/* kept from one layer to the next */
	const char *dest;		/* for messages */
	struct dc_writer *w;		/* begun: squashes may go straight in */
	size_t nsquash;
	const struct dc_image *const *src;	/* img[i] is made from src[i] */
	/* optional, set by the caller: NAMED once every output image and
	 * index exists with its names but nothing planned yet (the
	 * pointers are final); SPOOLED when a layer's spool is complete,
	 * which may send it at once and set B->sent */
	int (*named)(void *arg, struct plan *p);
	int (*spooled)(void *arg, struct pblob *b);
	void *hook_arg;
};

/*
 * Plan writing images SRC[0..NSRC) from R with writer OPS to DEST: the
 * output images and indexes, and every blob once, squashed layers first
 * (in the order they were made), then in digest order. Layers to
 * recompress or squash are made now, into spool files (or, with P->w
 * begun, a squash straight into the writer's output). P is zeroed with
 * P->ctx set by the caller; dc__plan_release() frees it (also after a
 * failure).
 */
int dc__plan_build(struct plan *p, struct dc_reader *r,
		   const struct dc_writer_ops *ops,
		   const struct dc_image *const *src, size_t nsrc,
		   const struct dc_write_opts *o, const char *dest);
void dc__plan_release(struct plan *p);

/* Where spool files for DEST go: its directory (*OUT, the caller frees),
 * or NULL for $TMPDIR when DEST is a stream. */
int dc__spool_dir(struct dc_ctx *ctx, const char *dest, char **out);

/* How many bottom layers of N a --squash-last in O keeps as they are. */
size_t dc__squash_keep(const struct dc_write_opts *o, size_t n);

/*
 * Early sends (early.c): blobs a writer sends from worker threads (a
 * registry), sent while the plan goes on. dc__early_send() (on the
 * plan's thread) asks the writer whether it holds spooled blob B, else
 * starts sending B and sets B->sent either way; dc__early_wait() joins
 * every send and returns the first failure; dc__early_free() (NULL-safe)
 * stops and joins whatever still runs. W must be begun.
 */
struct dc_early;
int dc__early_new(struct dc_writer *w, const struct dc_bsrc *bs,
		  struct dc_early **out);
int dc__early_send(struct dc_early *e, struct pblob *b);
int dc__early_wait(struct dc_early *e, struct dc_ctx *ctx);
void dc__early_free(struct dc_early *e);

#endif
