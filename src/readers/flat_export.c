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
 *   created                     SOURCE_DATE_EPOCH, else the epoch:
 *                               unlike docker import, never "now", so
 *                               the same input gives the same image ID
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
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define FLAT_BID 10	/* below legacy (40), docker (50) and oci (80) */
/* moby api/server/router/image/image_routes.go: "Imported from " + the
 * fromSrc parameter, which the docker CLI sets to "-" for a local file */
#define DEFAULT_MESSAGE "Imported from -"

struct flat {
	int loaded;
	/* dc_reader_set_import(), owned copies; NULL: the defaults */
	char *os, *arch, *variant;
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
/* Platform */

static int plat_part_ok(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static char *lower_dup(struct dc_ctx *ctx, const char *s, size_t n)
{
	char *p = dc__calloc(ctx, 1, n + 1);
	size_t i;

	if (p)
		for (i = 0; i < n; i++)
			p[i] = (char)tolower((unsigned char)s[i]);
	return p;
}

/*
 * Normalize as containerd's platforms.Normalize does for the common
 * aliases (x86_64 is amd64, aarch64 is arm64, a bare arm is arm/v7),
 * keeping an explicit variant such as arm64/v8 as given.
 */
static int plat_normalize(struct dc_ctx *ctx, char **arch, char **variant)
{
	static const struct {
		const char *from, *to, *variant;
	} alias[] = {
		{ "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL },
		{ "aarch64", "arm64", NULL }, { "i386", "386", NULL },
		{ "i486", "386", NULL }, { "i586", "386", NULL },
		{ "i686", "386", NULL }, { "armhf", "arm", "v7" },
		{ "armel", "arm", "v6" },
	};
	size_t i;

	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		if (strcmp(*arch, alias[i].from))
			continue;
		free(*arch);
		if (!(*arch = dc__strdup(ctx, alias[i].to)))
			return DC_ENOMEM;
		if (alias[i].variant && !*variant &&
		    !(*variant = dc__strdup(ctx, alias[i].variant)))
			return DC_ENOMEM;
		break;
	}
	if (*variant && isdigit((unsigned char)**variant)) {
		/* "7" is "v7" */
		char *v = dc__calloc(ctx, 1, strlen(*variant) + 2);

		if (!v)
			return DC_ENOMEM;
		v[0] = 'v';
		memcpy(v + 1, *variant, strlen(*variant) + 1);
		free(*variant);
		*variant = v;
	}
	if (!strcmp(*arch, "arm") && !*variant &&
	    !(*variant = dc__strdup(ctx, "v7")))
		return DC_ENOMEM;
	return 0;
}

static int plat_parse(struct dc_ctx *ctx, const char *s, char **os,
		      char **arch, char **variant)
{
	const char *a = strchr(s, '/'), *v = a ? strchr(a + 1, '/') : NULL;
	int err;

	*os = *arch = *variant = NULL;
	if (!a || !plat_part_ok(s, (size_t)(a - s)) ||
	    !plat_part_ok(a + 1, v ? (size_t)(v - a - 1) : strlen(a + 1)) ||
	    (v && (!plat_part_ok(v + 1, strlen(v + 1)))))
		return dc_error(ctx, DC_EINVAL,
				"--platform '%s': expected OS/ARCH[/VARIANT]", s);
	if (!(*os = lower_dup(ctx, s, (size_t)(a - s))) ||
	    !(*arch = lower_dup(ctx, a + 1, v ? (size_t)(v - a - 1) :
					     strlen(a + 1))) ||
	    (v && !(*variant = lower_dup(ctx, v + 1, strlen(v + 1))))) {
		err = DC_ENOMEM;
		goto fail;
	}
	if ((err = plat_normalize(ctx, arch, variant)) < 0)
		goto fail;
	return 0;
fail:
	free(*os);
	free(*arch);
	free(*variant);
	*os = *arch = *variant = NULL;
	return err;
}

/* The host, in GOOS/GOARCH terms (containerd's platforms.DefaultSpec). */
static int plat_host(struct dc_ctx *ctx, char **os, char **arch,
		     char **variant)
{
	static const struct {
		const char *prefix, *arch, *variant;
	} machines[] = {
		{ "x86_64", "amd64", NULL }, { "aarch64", "arm64", NULL },
		{ "arm64", "arm64", NULL }, { "armv8l", "arm", "v7" },
		{ "armv7", "arm", "v7" }, { "armv6", "arm", "v6" },
		{ "armv5", "arm", "v5" }, { "i686", "386", NULL },
		{ "i586", "386", NULL }, { "i486", "386", NULL },
		{ "i386", "386", NULL }, { "ppc64le", "ppc64le", NULL },
		{ "ppc64", "ppc64", NULL }, { "s390x", "s390x", NULL },
		{ "riscv64", "riscv64", NULL }, { "mips64el", "mips64le", NULL },
		{ "mips64", "mips64", NULL }, { "loongarch64", "loong64", NULL },
	};
	struct utsname u;
	const char *a = NULL, *v = NULL;
	size_t i;

	*os = *arch = *variant = NULL;
	if (uname(&u) == 0) {
		a = u.machine;
		for (i = 0; i < sizeof(machines) / sizeof(machines[0]); i++)
			if (!strncmp(u.machine, machines[i].prefix,
				     strlen(machines[i].prefix))) {
				a = machines[i].arch;
				v = machines[i].variant;
				break;
			}
	}
	if (!(*os = dc__strdup(ctx, "linux")) ||
	    !(*arch = dc__strdup(ctx, a && *a ? a : "unknown")) ||
	    (v && !(*variant = dc__strdup(ctx, v)))) {
		free(*os);
		free(*arch);
		*os = *arch = NULL;
		return DC_ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Import options */

static void flat_reset(struct flat *f)
{
	free(f->os);
	free(f->arch);
	free(f->variant);
	free(f->message);
	json_decref(f->config);
	f->os = f->arch = f->variant = f->message = NULL;
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
	if (o && o->platform &&
	    (err = plat_parse(ctx, o->platform, &nf.os, &nf.arch,
			      &nf.variant)) < 0)
		goto fail;
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
	if (fstat(src->fd, &st) < 0) {
		err = dc_error(ctx, DC_EIO, "%s", strerror(errno));
		goto out;
	}
	*size = (uint64_t)st.st_size;
	if (!(buf = dc__calloc(ctx, 1, 1 << 20))) {
		err = DC_ENOMEM;
		goto out;
	}
	while (off < *size) {
		size_t want = *size - off < (1 << 20) ? (size_t)(*size - off) :
			      (1 << 20);
		ssize_t got = pread(src->fd, buf, want, (off_t)off);

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

/* RFC 3339 in UTC, as Go marshals a time.Time with whole seconds */
static void created_at(char out[32])
{
	time_t t = (time_t)dc__epoch();
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
	char *os = NULL, *arch = NULL, *variant = NULL, created[32];
	const char *msg = f->message ? f->message : DEFAULT_MESSAGE;
	int err, bad = 0;

	if (f->os) {
		os = f->os;
		arch = f->arch;
		variant = f->variant;
	} else if ((err = plat_host(ctx, &os, &arch, &variant)) < 0) {
		return err;
	}
	created_at(created);
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
	if (!f->os) {
		free(os);
		free(arch);
		free(variant);
	}
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
