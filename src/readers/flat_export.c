/*
 * Reader for flat root filesystem tars: `docker export` output, or any
 * plain tar of files. The whole tar, after the source
 * layer took off any gzip/bzip2/xz/zstd wrapper, becomes the one layer
 * of one image, as `docker import` makes it (moby:
 * daemon/images/image_import.go, graphdriver store): the layer is
 * uncompressed, its digest is its diff_id, and the config is
 * synthesized:
 *
 *   architecture, os, variant   dc_reader_set_import()'s platform, or
 *                               the host's in GOARCH terms
 *   comment                     the message; by default Docker's own,
 *                               "Imported from -", which `docker import`
 *                               writes for a local file and for stdin
 *   config                      the --change instructions applied to an
 *                               all-zero container config
 *   container_config            all zero (moby always writes it)
 *   created                     SOURCE_DATE_EPOCH, else the newest
 *                               mtime in the tar: unlike docker import,
 *                               never "now", so the same input gives
 *                               the same image ID
 *   history                     [{created, comment}]
 *   rootfs                      {type: layers, diff_ids: [the tar's]}
 *
 * moby marshals image.Image through a map, so the top-level keys are
 * sorted while "config" keeps Go's field order; so do we. There is no
 * docker_version (Docker 29 dropped it too). Otherwise the config is
 * byte for byte what dockerd 20.10 makes (testdata/flat/).
 *
 * The format is the fallback: it bids only for a tar that has none of
 * the members that mark an image archive, and lowest of all readers.
 */
#include "readers/readers.h"
#include "model/model.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define FLAT_BID 10	/* below legacy (40), docker (50) and oci (80) */
/* moby api/server/router/image/image_routes.go: "Imported from " + the
 * fromSrc parameter, which the docker CLI sets to "-" for a local file */
#define DEFAULT_MESSAGE "Imported from -"

struct flat {
	int loaded;
	/* dc_reader_set_import()'s platform; unset: the host's */
	struct dc_platform plat;
	int plat_set;
	char *message;		/* NULL: DEFAULT_MESSAGE; "": none */
	json_t *config;		/* the container config after the changes */
	uint64_t size;		/* of the tar, once loaded */
	char digest[DC_DIGEST_MAX];	/* of the tar, once loaded */
};

static int is_v1_dir_json(const char *name)
{
	return strlen(name) == 69 && name[64] == '/' &&
	       !strcmp(name + 65, "json") && dc__is_hex64(name, 64);
}

/*
 * Any member named like an image archive's metadata, whatever its type
 * or target, means the archive is not a filesystem: even a broken image
 * must not be imported as one. The member index is scanned directly,
 * without allocating, so that an allocation failure in a bid cannot
 * turn an image into a rootfs.
 */
static int flat_bid(struct dc_src *src)
{
	static const char *const marks[] = {
		"oci-layout", "index.json", "manifest.json", "repositories", NULL
	};
	size_t i, k;

	if (src->is_dir || !src->n)
		return 0;	/* no members (or only "./"): nothing to import */
	for (i = 0; i < src->n; i++) {
		const char *name = src->m[i].name;

		if (is_v1_dir_json(name))
			return 0;
		for (k = 0; marks[k]; k++)
			if (!strcmp(name, marks[k]))
				return 0;
	}
	return FLAT_BID;
}

/* ------------------------------------------------------------------ */
/* Import options */

static void flat_reset(struct flat *f)
{
	free(f->message);
	json_decref(f->config);
	f->plat_set = 0;
	f->message = NULL;
	f->config = NULL;
}

int dc_reader_set_import(struct dc_reader *r, const struct dc_import_opts *o)
{
	struct dc_ctx *ctx = r->ctx;
	struct flat *f = r->priv, nf;
	int err;

	memset(&nf, 0, sizeof(nf));
	if (r->ops != &dc__reader_flat)
		return dc_error(ctx, DC_EUNSUPPORTED,
				"import options apply to rootfs sources only (this one reads as %s)",
				r->ops->name);
	if (f->loaded)
		return dc_error(ctx, DC_EINVAL,
				"import options must be set before the source is loaded");
	if (o && o->platform) {
		if ((err = dc__platform_parse(ctx, &nf.plat, o->platform)) < 0)
			goto fail;
		nf.plat_set = 1;
	}
	if (o && o->message && !(nf.message = dc__strdup(ctx, o->message))) {
		err = DC_ENOMEM;
		goto fail;
	}
	if (o && o->nchanges &&
	    (err = dc__changes_apply(ctx, &nf.config, NULL, o->changes,
				     o->nchanges)) < 0)
		goto fail;
	flat_reset(f);
	*f = nf;
	return 0;
fail:
	flat_reset(&nf);
	return err;
}

/* ------------------------------------------------------------------ */
/* Loading */

/* sha256 and length of the whole tar, read once */
static int hash_all(struct dc_reader *r, char digest[DC_DIGEST_MAX],
		    uint64_t *size)
{
	struct dc_ctx *ctx = r->ctx;
	struct dc_src *src = r->src;
	struct dc_hash *h = NULL;
	struct stat st;
	char *buf = NULL;
	uint64_t off = 0;
	int err;

	if ((err = dc__hash_new(ctx, &h)) < 0)
		return err;
	if (src->mem) {
		dc__hash_update(h, src->mem, src->memlen);
		*size = src->memlen;
		goto done;
	}
	if (src->parts) {
		*size = src->parts->total;	/* a split set */
	} else if (fstat(src->fd, &st) < 0) {
		err = dc_error(ctx, DC_EIO, "%s", strerror(errno));
		goto out;
	} else {
		*size = (uint64_t)st.st_size;
	}
	if (!(buf = dc__calloc(ctx, 1, 1 << 20))) {
		err = DC_ENOMEM;
		goto out;
	}
	while (off < *size) {
		size_t want = *size - off < (1 << 20) ? (size_t)(*size - off) :
			      (1 << 20);
		ssize_t got = src->parts ?
			      dc__parts_pread(src->parts, buf, want, off) :
			      pread(src->fd, buf, want, (off_t)off);

		if (got < 0 && errno == EINTR && !ctx->interrupted)
			continue;
		if (got <= 0) {
			err = dc_error(ctx, DC_EIO, "read failed: %s",
				       got < 0 ? strerror(errno) :
				       "unexpected end of file");
			goto out;
		}
		dc__hash_update(h, buf, (size_t)got);
		off += (uint64_t)got;
		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
	}
done:
	dc__hash_final(h, digest);
out:
	free(buf);
	dc__hash_free(h);
	return err;
}

/* RFC 3339 in UTC, as Go marshals a time.Time with whole seconds:
 * SOURCE_DATE_EPOCH, else the newest mtime in the tar */
static void created_at(const struct dc_src *src, char out[32])
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = (time_t)(sde && *sde ? dc__epoch() : src->max_mtime);
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static int set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v));
}

static int build_config(struct dc_reader *r, const char *diff_id,
			struct dc_buf *out)
{
	struct dc_ctx *ctx = r->ctx;
	struct flat *f = r->priv;
	json_t *root = NULL, *cfg = NULL, *zero = NULL, *hist, *h, *rootfs,
	       *ids;
	struct dc_platform host;
	const struct dc_platform *p = &f->plat;
	const char *os, *arch, *variant;
	char created[32];
	const char *msg = f->message ? f->message : DEFAULT_MESSAGE;
	int err, bad = 0;

	if (!f->plat_set) {
		dc__platform_host(&host);
		p = &host;
	}
	os = p->os;
	arch = p->arch;
	variant = p->variant[0] ? p->variant : NULL;
	created_at(r->src, created);
	if ((err = dc__changes_apply(ctx, &zero, NULL, NULL, 0)) < 0)
		goto out;
	if (f->config)
		cfg = json_incref(f->config);
	else if ((err = dc__changes_apply(ctx, &cfg, NULL, NULL, 0)) < 0)
		goto out;
	root = json_object();
	hist = json_array();
	h = json_object();
	rootfs = json_object();
	ids = json_array();
	if (!root || !hist || !h || !rootfs || !ids) {
		/* none is in ROOT yet */
		json_decref(hist);
		json_decref(h);
		json_decref(rootfs);
		json_decref(ids);
		err = dc__enomem(ctx);
		goto out;
	}
	/* keys in sorted order, as moby's image.Image marshals */
	bad |= set_str(root, "architecture", arch);
	if (*msg)	/* omitempty */
		bad |= set_str(root, "comment", msg);
	bad |= json_object_set(root, "config", cfg);
	bad |= json_object_set(root, "container_config", zero);
	bad |= set_str(root, "created", created);
	bad |= set_str(h, "created", created);
	if (*msg)
		bad |= set_str(h, "comment", msg);
	bad |= json_array_append_new(hist, h);
	bad |= json_object_set_new(root, "history", hist);
	bad |= set_str(root, "os", os);
	bad |= set_str(rootfs, "type", "layers");
	bad |= json_array_append_new(ids, json_string(diff_id));
	bad |= json_object_set_new(rootfs, "diff_ids", ids);
	bad |= json_object_set_new(root, "rootfs", rootfs);
	if (variant)
		bad |= set_str(root, "variant", variant);
	if (bad) {
		err = dc__enomem(ctx);
		goto out;
	}
	err = dc__json_dump(ctx, out, root);
out:
	json_decref(root);
	json_decref(cfg);
	json_decref(zero);
	return err;
}

static int flat_load(struct dc_reader *r, struct dc_set **out)
{
	struct dc_ctx *ctx = r->ctx;
	struct flat *f = r->priv;
	struct dc_image *img = NULL;
	struct dc_desc *l;
	char digest[DC_DIGEST_MAX];
	uint64_t size = 0;
	int err;

	*out = NULL;
	f->loaded = 1;
	if ((err = hash_all(r, digest, &size)) < 0)
		return err;
	f->size = size;
	memcpy(f->digest, digest, DC_DIGEST_MAX);
	if ((err = dc__image_new(ctx, &img)) < 0)
		return err;
	if (!(img->layers = dc__calloc(ctx, 1, sizeof(*img->layers)))) {
		err = DC_ENOMEM;
		goto fail;
	}
	img->nlayers = 1;
	l = &img->layers[0];
	l->comp = DC_COMP_NONE;
	l->size = (int64_t)size;
	memcpy(l->digest, digest, DC_DIGEST_MAX);
	if (!(l->media_type = dc__strdup(ctx,
			dc__layer_media_type(DC_COMP_NONE, 0)))) {
		err = DC_ENOMEM;
		goto fail;
	}
	if ((err = build_config(r, digest, &img->config_raw)) < 0)
		goto fail;
	dc__sha256_digest(img->config_raw.data, img->config_raw.len,
			  img->config.digest);
	img->config.size = (int64_t)img->config_raw.len;
	if (!(img->config.media_type = dc__strdup(ctx,
			"application/vnd.oci.image.config.v1+json"))) {
		err = DC_ENOMEM;
		goto fail;
	}
	/* sets the layer's diff_id from the config we just made */
	if ((err = dc__image_parse_config(ctx, img, "rootfs config")) < 0)
		goto fail;
	img->manifest_synth = 1;	/* dc__set_resolve() makes it */
	if ((err = dc__set_new(ctx, out, "rootfs")) < 0)
		goto fail;
	if ((err = dc__set_add(ctx, *out, img)) < 0) {
		dc_set_free(*out);
		*out = NULL;
		goto fail;
	}
	return 0;
fail:
	dc__image_free(img);
	return err;
}

static int flat_open_blob(struct dc_reader *r, const struct dc_desc *d,
			  struct dc_stream **out)
{
	struct flat *f = r->priv;

	/* the one blob that is not in memory is the layer: the whole tar */
	if (!f->digest[0] || strcmp(d->digest, f->digest))
		return dc_error(r->ctx, DC_ECORRUPT, "blob '%s': not in a rootfs source",
				d->digest);
	if (r->src->mem)
		return dc__stream_memory(r->ctx, out, r->src->mem,
					 r->src->memlen);
	if (r->src->parts)
		return dc__stream_parts_range(r->ctx, out, r->src->parts, 0,
					      f->size);
	return dc__stream_fd_range(r->ctx, out, r->src->fd, 0, f->size, 0);
}

static void flat_close(struct dc_reader *r)
{
	if (r->priv)
		flat_reset(r->priv);
}

const struct dc_reader_ops dc__reader_flat = {
	.name = "rootfs",
	.priv_size = sizeof(struct flat),
	.bid = flat_bid,
	.load = flat_load,
	.open_blob = flat_open_blob,
	.close = flat_close,
};
