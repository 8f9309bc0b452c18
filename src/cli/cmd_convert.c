/*
 * decant convert [OPTIONS] SRC... DEST
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>

#include "cli/cli.h"

enum {
	OPT_IMAGE = 256, OPT_TAG, OPT_COMPRESS, OPT_LEVEL, OPT_THREADS,
	OPT_PROGRESS, OPT_SQUASH, OPT_SQUASH_LAST, OPT_CHANGE, OPT_PLATFORM,
	OPT_MAX_MEMORY, OPT_EXCLUDE_FROM, OPT_BASE, OPT_SPLIT
};

static const struct option longopts[] = {
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "compress", required_argument, NULL, OPT_COMPRESS },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "squash", no_argument, NULL, OPT_SQUASH },
	{ "squash-last", required_argument, NULL, OPT_SQUASH_LAST },
	{ "change", required_argument, NULL, OPT_CHANGE },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM },
	{ "base", required_argument, NULL, OPT_BASE },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	REGISTRY_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* Is PATH an OCI layout directory? */
static int is_layout(const char *path)
{
	struct stat st;
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s/oci-layout", path) >= (int)sizeof(buf))
		return 0;
	return stat(buf, &st) == 0 && S_ISREG(st.st_mode);
}

struct missing {
	const struct dc_set *set;
	size_t n;
};

static void on_missing(void *arg, const struct dc_desc *d)
{
	struct missing *m = arg;
	size_t i, j, k = 0;

	fprintf(stderr, "decant: error: missing blob %s (%lld bytes), needed by ",
		esc(dc_desc_digest(d)), (long long)dc_desc_size(d));
	for (i = 0; i < dc_set_count(m->set); i++) {
		const struct dc_image *img = dc_set_image(m->set, i);

		for (j = 0; j < dc_image_layer_count(img); j++)
			if (!strcmp(dc_desc_digest(dc_image_layer(img, j)),
				    dc_desc_digest(d)))
				break;
		if (j == dc_image_layer_count(img))
			continue;
		fprintf(stderr, "%s%s", k++ ? ", " : "",
			dc_image_tag_count(img) ? esc(dc_image_tag(img, 0)) :
			esc(dc_image_id(img)));
	}
	fputc('\n', stderr);
	m->n++;
}

/* Every layer of SET in a source or a base, else each one named. */
static int check_complete(struct cli *c, struct dc_reader *r,
			  const struct dc_set *set)
{
	struct missing m;
	int n;

	m.set = set;
	m.n = 0;
	if ((n = dc_reader_missing(r, set, on_missing, &m)) < 0)
		return fail(c);
	if (!n)
		return 0;
	fprintf(stderr, "decant: error: %d blob%s in neither the sources nor the base: nothing written\n",
		n, n == 1 ? "" : "s");
	return EXIT_FAIL;
}

/*
 * A delta without --base: fine when STORE (an oci: destination that
 * exists) may hold what it left out (*IS_DELTA), else say what it needs.
 */
static int check_delta(struct cli *c, struct dc_reader *r, const char *arg,
		       const char *store, int *is_delta)
{
	struct dc_inventory *rec = NULL;
	int ret = 0;

	if (dc_reader_delta(r, &rec) < 0)
		return fail(c);
	if (rec && store)
		*is_delta = 1;
	else if (rec) {
		fprintf(stderr, "decant: error: '%s' is a delta: %zu layer%s left out%s%s; give --base STORE (what it was made against), or write it into an oci: layout that has them\n",
			esc(arg), dc_inventory_count(rec),
			dc_inventory_count(rec) == 1 ? "" : "s",
			dc_inventory_name_count(rec) ? ", against " : "",
			dc_inventory_name_count(rec) ?
			esc(dc_inventory_name(rec, 0)) : "");
		ret = EXIT_FAIL;
	}
	dc_inventory_free(rec);
	return ret;
}

/*
 * Open and load one source, applying the import options IO: to a
 * rootfs source they make its config; for image sources --platform
 * picks from multi-platform indexes (*SELECT_PLATFORM). With BASED
 * (there is a --base) absent layers are let pass, to be filled from
 * the base; else a delta needs STORE. 0 or an exit code.
 */
static int open_one(struct cli *c, const char *arg,
		    const struct dc_import_opts *io,
		    const char **select_platform, int based,
		    const char *store, int *is_delta, struct dc_reader **r,
		    struct dc_set **set)
{
	int err, delta = 0;

	if (source_open(c, arg, r) < 0)
		return fail(c);
	if (!based && (err = check_delta(c, *r, arg, store, &delta)) != 0)
		return err;
	if (based || delta)
		dc_reader_allow_absent(*r);
	*is_delta |= delta;
	if ((io->platform || io->nchanges) &&
	    (err = dc_reader_set_import(*r, io)) < 0) {
		if (err != DC_EUNSUPPORTED)
			return fail(c);
		if (io->nchanges)
			return usage_error("--change is only for rootfs sources");
		*select_platform = io->platform;
	}
	if (source_load(c, r, set) < 0)
		return fail(c);
	return 0;
}

/*
 * Every source of ARGS[0..N), as one reader and one set. With BASES
 * (NBASES of them), or a delta written into STORE, they fill left-out
 * layers: merged even when N is 1. *BASED says so.
 */
static int open_sources(struct cli *c, char **args, size_t n,
			const struct dc_import_opts *io,
			const char **select_platform, const char **bases,
			size_t nbases, const char *store, int *based,
			struct dc_reader **r, struct dc_set **set)
{
	struct dc_reader **rs = NULL;
	struct dc_set **sets = NULL;
	size_t i, nstdin = 0;
	int ret = 0, delta = 0;

	for (i = 0; i < n; i++) {
		const char *fmt, *path;

		split_src(args[i], &fmt, &path);
		nstdin += !strcmp(path, "-");
	}
	if (nstdin > 1)
		return usage_error("'-' (stdin) can be one source only");
	if (!(rs = calloc(n, sizeof(*rs))) || !(sets = calloc(n, sizeof(*sets)))) {
		ret = usage_error("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((ret = open_one(c, args[i], io, select_platform, nbases > 0,
				    store, &delta, &rs[i], &sets[i])) != 0)
			goto out;
	if (delta)
		bases[nbases++] = store;
	*based = nbases > 0;
	if (n == 1 && !nbases) {
		*r = rs[0];
		*set = sets[0];
		rs[0] = NULL;
		sets[0] = NULL;
		goto out;
	}
	c->src_label = NULL;
	if (dc_reader_merge(c->ctx, rs, sets, n, r, set) < 0) {
		ret = fail(c);
		goto out;
	}
	for (i = 0; i < nbases && !ret; i++) {
		struct dc_reader *br = NULL;
		struct dc_set *bs = NULL;

		if (open_source(c, bases[i], &br, &bs) < 0 ||
		    dc_reader_add_base(*r, br, bs) < 0)
			ret = fail(c);
	}
out:
	for (i = 0; rs && sets && i < n; i++) {
		dc_set_free(sets[i]);
		dc_reader_free(rs[i]);
	}
	free(rs);
	free(sets);
	return ret;
}

/* SIZE: bytes, or with K, M, G or T (KiB, MiB, ...): 4096 bytes at least */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: return -1;
	}
	if (*end && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
		return -1;
	if (v > (UINT64_MAX >> shift) || (v << shift) < 4096)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cmd_convert(struct cli *c, int argc, char **argv)
{
	const char *select_platform = NULL;
	struct dc_write_opts wo;
	struct dc_import_opts io;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	const char **images = NULL, **changes = NULL, *tag = NULL, *dest_path;
	const char *dest_fmt = NULL, **haves = NULL, **bases = NULL;
	struct dc_inventory *have = NULL;
	size_t nimages = 0, nhave = 0, nbases = 0, i;
	int opt, ret = EXIT_OK, based = 0;

	memset(&wo, 0, sizeof(wo));
	memset(&io, 0, sizeof(io));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_IMAGE: {
			const char **p = realloc(images, (nimages + 1) *
						 sizeof(*images));

			if (!p) {
				ret = usage_error("out of memory");
				goto out;
			}
			images = p;
			images[nimages++] = optarg;
			break;
		}
		case OPT_TAG:
			tag = optarg;
			break;
		case OPT_SPLIT:
			if (parse_size(optarg, &wo.split_size) < 0) {
				ret = usage_error("--split '%s': expected a size: bytes, or with K, M, G or T (binary: 4G is 4 GiB; FAT32 holds at most 4095M)",
						  optarg);
				goto out;
			}
			break;
		case OPT_EXCLUDE_FROM:
		case OPT_BASE: {
			const char ***l = opt == OPT_BASE ? &bases : &haves;
			size_t *n = opt == OPT_BASE ? &nbases : &nhave;
			/* one more for the oci: destination as a base */
			const char **p = realloc(*l, (*n + 2) * sizeof(**l));

			if (!p) {
				ret = usage_error("out of memory");
				goto out;
			}
			*l = p;
			p[(*n)++] = optarg;
			break;
		}
		case OPT_CHANGE: {
			const char **p = realloc(changes, (io.nchanges + 1) *
						 sizeof(*changes));

			if (!p) {
				ret = usage_error("out of memory");
				goto out;
			}
			changes = p;
			changes[io.nchanges++] = optarg;
			break;
		}
		case OPT_PLATFORM:
			io.platform = optarg;
			break;
		case OPT_COMPRESS:
			if (!strcmp(optarg, "none"))
				wo.compress = DC_COMPRESS_NONE;
			else if (!strcmp(optarg, "gzip"))
				wo.compress = DC_COMPRESS_GZIP;
			else if (!strcmp(optarg, "zstd"))
				wo.compress = DC_COMPRESS_ZSTD;
			else {
				ret = usage_error("--compress '%s': expected none, gzip or zstd",
						  optarg);
				goto out;
			}
			break;
		case OPT_LEVEL:
			if (parse_int(optarg, 1, 22, &wo.level) < 0) {
				ret = usage_error("--level '%s': expected 1-22", optarg);
				goto out;
			}
			break;
		case OPT_THREADS:
			if (parse_int(optarg, 1, 256, &wo.threads) < 0) {
				ret = usage_error("--threads '%s': expected 1-256", optarg);
				goto out;
			}
			break;
		case OPT_SQUASH:
			wo.squash_last = SIZE_MAX;
			break;
		case OPT_SQUASH_LAST: {
			int n;

			if (parse_int(optarg, 1, 1 << 20, &n) < 0) {
				ret = usage_error("--squash-last '%s': expected a layer count",
						  optarg);
				goto out;
			}
			wo.squash_last = (size_t)n;
			break;
		}
		case OPT_PROGRESS:
			c->progress = 1;
			break;
		case OPT_MAX_MEMORY:
			if ((ret = opt_max_memory(c, optarg)) != 0)
				goto out;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'h':
			print_usage(stdout);
			goto out;
		default:
			if ((ret = opt_registry(c, opt, optarg)) == 0)
				break;
			ret = ret == 1 ? bad_option(argv, opt == ':') : ret;
			goto out;
		}
	}
	if (argc - optind < 2) {
		ret = usage_error("convert needs SRC and DEST");
		goto out;
	}
	if (!bases && !(bases = calloc(1, sizeof(*bases)))) {
		ret = usage_error("out of memory");
		goto out;
	}
	if (wo.compress == DC_COMPRESS_GZIP && wo.level > 9) {
		ret = usage_error("--level %d: gzip levels are 1-9", wo.level);
		goto out;
	}
	if ((ret = split_dest(argv[argc - 1], &dest_fmt, &dest_path)) != 0)
		goto out;
	io.changes = changes;
	/* --threads bounds every parallel stage, not only compression */
	dc_ctx_set_threads(c->ctx, wo.threads);
	/* a delta written into the oci: layout that holds the rest */
	if ((ret = open_sources(c, argv + optind, (size_t)(argc - optind - 1),
				&io, &select_platform, bases, nbases,
				dest_fmt && !strcmp(dest_fmt, "oci") &&
				is_layout(dest_path) ? dest_path : NULL,
				&based, &r, &set)) != 0)
		goto out;
	if (dc_set_select(c->ctx, set, images, nimages) < 0 ||
	    (select_platform &&
	     dc_set_select_platform(c->ctx, set, select_platform) < 0) ||
	    (tag && dc_set_retag(c->ctx, set, tag) < 0)) {
		ret = fail(c);
		goto out;
	}
	if (based && (ret = check_complete(c, r, set)) != 0)
		goto out;
	if (nhave) {
		if (dc_inventory_new(c->ctx, &have) < 0) {
			ret = fail(c);
			goto out;
		}
		for (i = 0; i < nhave && !ret; i++)
			ret = have_add(c, haves[i], have);
		if (ret)
			goto out;
		wo.exclude = have;
	}
	progress_start(c);
	if (dc_write(c->ctx, r, set, dest_fmt, dest_path, &wo) < 0) {
		progress_end(c);
		ret = fail(c);
		goto out;
	}
	progress_end(c);
out:
	dc_set_free(set);
	dc_reader_free(r);
	dc_inventory_free(have);
	free(images);
	free(changes);
	free(haves);
	free(bases);
	return ret;
}
