/*
 * decant convert [OPTIONS] SRC... DEST
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

enum {
	OPT_IMAGE = 256, OPT_TAG, OPT_COMPRESS, OPT_LEVEL, OPT_THREADS,
	OPT_PROGRESS, OPT_SQUASH, OPT_SQUASH_LAST, OPT_CHANGE, OPT_PLATFORM,
	OPT_MAX_MEMORY, OPT_LABEL, OPT_ENV, OPT_CREATED, OPT_EXCLUDE_FROM,
	OPT_BASE, OPT_SPLIT
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
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "created", required_argument, NULL, OPT_CREATED },
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

/* What the options asked for. */
struct copts {
	struct dc_write_opts wo;
	const char **images;
	size_t nimages;
	char **changes;		/* owned */
	size_t nchanges;
	const char *tag, *platform, *created;
	int squash, level_set;
	size_t squash_last;
	const char **haves;	/* --exclude-from */
	size_t nhave;
	const char **bases;	/* --base, and room for an oci: store */
	size_t nbases;
};

static void copts_release(struct copts *o)
{
	size_t i;

	for (i = 0; i < o->nchanges; i++)
		free(o->changes[i]);
	free(o->changes);
	free(o->images);
	free(o->haves);
	free(o->bases);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int push(void *arr, size_t *n, size_t size, const void *item)
{
	char **a = arr, *p = realloc(*a, (*n + 1) * size);

	if (!p)
		return usage_error("out of memory");
	memcpy(p + *n * size, item, size);
	*a = p;
	(*n)++;
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
		    const char **select_platform, int *edit, int based,
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
		/* not a rootfs: --platform picks, --change edits the config */
		*select_platform = io->platform;
		*edit |= io->nchanges > 0;
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
			const char **select_platform, int *edit, const char **bases,
			size_t nbases, const char *store, int *based,
			struct dc_reader **r, struct dc_set **set)
{
	struct dc_reader **rs = NULL;
	struct dc_set **sets = NULL;
	size_t i, nstdin = 0;
	int ret = 0, delta = 0;

	for (i = 0; i < n; i++) {
		struct imgarg a;

		if ((ret = parse_src(args[i], &a)) != 0)
			return ret;
		nstdin += !strcmp(a.path, "-");
		arg_release(&a);
	}
	if (nstdin > 1)
		return usage_error("'-' (stdin) can be one source only");
	if (!(rs = calloc(n, sizeof(*rs))) || !(sets = calloc(n, sizeof(*sets)))) {
		ret = usage_error("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((ret = open_one(c, args[i], io, select_platform, edit, nbases > 0,
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

		/* a delta as a base gives what it holds */
		if (open_source_delta(c, bases[i], &br, &bs, NULL) < 0 ||
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

/* --label K=V, --env K=V as the instruction INSTR "K"="V" */
static int push_kv(struct copts *o, const char *instr, const char *opt,
		   const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *s, *p;
	size_t i, n = strlen(kv);

	if (!eq || eq == kv)
		return usage_error("--%s '%s': expected KEY=VALUE", opt, kv);
	if (strpbrk(kv, "\n\r"))
		return usage_error("--%s '%s': no line breaks", opt, kv);
	if (!(s = malloc(strlen(instr) + 2 * n + 8)))
		return usage_error("out of memory");
	p = s + sprintf(s, "%s \"", instr);
	for (i = 0; i < n; i++) {
		if (kv + i == eq) {
			p += sprintf(p, "\"=\"");
			continue;
		}
		if (kv[i] == '"' || kv[i] == '\\' || kv[i] == '$')
			*p++ = '\\';
		*p++ = kv[i];
	}
	strcpy(p, "\"");
	if (push(&o->changes, &o->nchanges, sizeof(*o->changes), &s) != 0) {
		free(s);
		return EXIT_USAGE;
	}
	return 0;
}

static int push_change(struct copts *o, const char *change)
{
	char *s = strdup(change);

	if (!s || push(&o->changes, &o->nchanges, sizeof(*o->changes), &s)) {
		free(s);
		return s ? EXIT_USAGE : usage_error("out of memory");
	}
	return 0;
}

static int parse_compress(struct copts *o, const char *arg)
{
	if (!strcmp(arg, "none"))
		o->wo.compress = DC_COMPRESS_NONE;
	else if (!strcmp(arg, "gzip"))
		o->wo.compress = DC_COMPRESS_GZIP;
	else if (!strcmp(arg, "zstd"))
		o->wo.compress = DC_COMPRESS_ZSTD;
	else
		return usage_error("--compress '%s': expected none, gzip or zstd",
				   arg);
	return 0;
}

/* One option; 0 or an exit code (-1: --help was printed). */
static int parse_one(struct cli *c, struct copts *o, int opt, char **argv)
{
	int n;

	switch (opt) {
	case OPT_IMAGE:
		return push(&o->images, &o->nimages, sizeof(*o->images), &optarg);
	case OPT_TAG:
		o->tag = optarg;
		return 0;
	case OPT_CHANGE:
		return push_change(o, optarg);
	case OPT_LABEL:
		return push_kv(o, "LABEL", "label", optarg);
	case OPT_ENV:
		return push_kv(o, "ENV", "env", optarg);
	case OPT_CREATED:
		o->created = optarg;
		return 0;
	case OPT_PLATFORM:
		o->platform = optarg;
		return 0;
	case OPT_COMPRESS:
		return parse_compress(o, optarg);
	case OPT_LEVEL:
		if (parse_int(optarg, 1, 22, &o->wo.level) < 0)
			return usage_error("--level '%s': expected 1-22", optarg);
		o->level_set = 1;
		return 0;
	case OPT_THREADS:
		if (parse_int(optarg, 1, 256, &o->wo.threads) < 0)
			return usage_error("--threads '%s': expected 1-256", optarg);
		return 0;
	case OPT_SQUASH:
		o->squash = 1;
		return 0;
	case OPT_SQUASH_LAST:
		if (parse_int(optarg, 1, 1 << 20, &n) < 0)
			return usage_error("--squash-last '%s': expected a layer count",
					   optarg);
		o->squash_last = (size_t)n;
		return 0;
	case OPT_PROGRESS:
		c->progress = 1;
		return 0;
	case OPT_MAX_MEMORY:
		return opt_max_memory(c, optarg);
	case OPT_SPLIT:
		if (parse_size(optarg, &o->wo.split_size) < 0)
			return usage_error("--split '%s': expected a size: bytes, or with K, M, G or T (binary: 4G is 4 GiB; FAT32 holds at most 4095M)",
					   optarg);
		return 0;
	case OPT_EXCLUDE_FROM:
		return push(&o->haves, &o->nhave, sizeof(*o->haves), &optarg);
	case OPT_BASE:
		return push(&o->bases, &o->nbases, sizeof(*o->bases), &optarg);
	case 'q':
		c->quiet = 1;
		return 0;
	case 'h':
		print_command_help("convert", stdout);
		return -1;
	default:
		if ((n = opt_registry(c, opt, optarg)) != 1)
			return n;
		return bad_option_in(argv, opt == ':', longopts);
	}
}

/* Options that contradict each other or mean nothing. */
static int check_opts(struct copts *o)
{
	if (o->squash && o->squash_last)
		return usage_error("--squash and --squash-last: choose one (--squash merges every layer)");
	if (o->level_set && o->wo.compress == DC_COMPRESS_KEEP)
		return usage_error("--level %d: no recompression asked for; add --compress gzip or --compress zstd",
				   o->wo.level);
	if (o->level_set && o->wo.compress == DC_COMPRESS_NONE)
		return usage_error("--level %d: --compress none has no level",
				   o->wo.level);
	if (o->wo.compress == DC_COMPRESS_GZIP && o->wo.level > 9)
		return usage_error("--level %d: gzip levels are 1-9", o->wo.level);
	o->wo.squash_last = o->squash ? SIZE_MAX : o->squash_last;
	return 0;
}

/* --squash-last N needs N layers in every image written. */
static int check_squash_last(const struct copts *o, const struct dc_set *set)
{
	size_t i;

	if (!o->squash_last)
		return 0;
	for (i = 0; i < dc_set_count(set); i++) {
		const struct dc_image *img = dc_set_image(set, i);
		size_t n = dc_image_layer_count(img);

		if (o->squash_last > n)
			return usage_error("--squash-last %zu: image %s has %zu layer%s (use --squash to merge all)",
					   o->squash_last, dc_image_id(img), n,
					   n == 1 ? "" : "s");
	}
	return 0;
}

/* A tar written to a terminal is noise: refuse, as docker save does. */
static int check_dest(const struct cli *c, const struct imgarg *d)
{
	if (!strcmp(d->path, "-") && isatty(1))
		return usage_error("refusing to write a %s archive to a terminal: redirect standard output (> FILE) or pipe it",
				   d->fmt);
	if (dest_name_notice(d) && !c->quiet)
		fprintf(stderr, "decant: note: oci:%s is a directory; for a tar file write oci-archive:%s\n",
			esc(d->path), esc(d->path));
	return 0;
}

/* Images the options pick, named as asked, with their configs edited. */
static int shape_set(struct cli *c, struct copts *o, const struct imgarg *s,
		     const struct imgarg *d, const char *select_platform,
		     int edit, struct dc_set *set)
{
	const char *pick[1];
	int ret;

	if (s->ref) {
		pick[0] = s->ref;
		if (dc_set_select(c->ctx, set, pick, 1) < 0)
			return fail(c);
	}
	if (dc_set_select(c->ctx, set, o->images, o->nimages) < 0 ||
	    (select_platform &&
	     dc_set_select_platform(c->ctx, set, select_platform) < 0))
		return fail(c);
	if ((ret = check_squash_last(o, set)) != 0)
		return ret;
	if (d->ref && dc_set_count(set) > 1 && !dc_image_index_digest(dc_set_image(set, 0)))
		return usage_error("'%s': a DEST reference names one image, the source has %zu (pick one with --image or SRC:REF)",
				   d->ref, dc_set_count(set));
	if ((o->tag && dc_set_retag(c->ctx, set, o->tag) < 0) ||
	    (d->ref && (strcmp(d->fmt, "oci") && strcmp(d->fmt, "oci-archive") ?
			dc_set_retag(c->ctx, set, d->ref) :
			dc_set_name_ref(c->ctx, set, d->ref)) < 0))
		return fail(c);
	if ((edit || o->created) &&
	    dc_set_edit_config(c->ctx, set, edit ?
			       (const char *const *)o->changes : NULL,
			       edit ? o->nchanges : 0, o->created) < 0)
		return fail(c);
	return 0;
}

/* After bad data: the bad parts of split sets among sources and bases */
static void blame_sources(struct cli *c, char **args, size_t n,
			  const struct copts *o)
{
	blame_parts(c, args, n);
	blame_parts(c, (char *const *)o->bases, o->nbases);
}

int cmd_convert(struct cli *c, int argc, char **argv)
{
	struct copts o;
	struct dc_import_opts io;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_inventory *have = NULL;
	struct imgarg s = { 0 }, d = { 0 };
	const char *select_platform = NULL, **bases;
	size_t i, nsrc;
	int opt, edit = 0, based = 0, ret = EXIT_OK;

	memset(&o, 0, sizeof(o));
	memset(&io, 0, sizeof(io));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1)
		if ((ret = parse_one(c, &o, opt, argv)) != 0) {
			if (ret < 0)
				ret = EXIT_OK;
			goto out;
		}
	if (argc - optind < 2) {
		ret = usage_error("convert needs SRC and DEST");
		goto out;
	}
	nsrc = (size_t)(argc - optind - 1);
	if ((ret = check_opts(&o)) != 0 ||
	    (ret = parse_dest(argv[argc - 1], &d)) != 0 ||
	    (nsrc == 1 && (ret = parse_src(argv[optind], &s)) != 0) ||
	    (ret = check_dest(c, &d)) != 0)
		goto out;
	/* one more for the oci: destination as a base */
	if (!(bases = realloc(o.bases, (o.nbases + 1) * sizeof(*bases)))) {
		ret = usage_error("out of memory");
		goto out;
	}
	o.bases = bases;
	/* --threads bounds every parallel stage, not only compression */
	dc_ctx_set_threads(c->ctx, o.wo.threads);
	/* from here: spooling a piped or compressed source is a phase */
	progress_start(c);
	/* a rootfs source gets --platform and --change in the config it
	 * makes, as docker import does; other sources pick a platform and
	 * have their configs edited. A delta written into the oci: layout
	 * that holds the rest needs no --base. */
	io.platform = o.platform;
	io.changes = (const char *const *)o.changes;
	io.nchanges = o.nchanges;
	if ((ret = open_sources(c, argv + optind, nsrc, &io, &select_platform,
				&edit, o.bases, o.nbases,
				!strcmp(d.fmt, "oci") && is_layout(d.path) ?
				d.path : NULL, &based, &r, &set)) != 0) {
		blame_sources(c, argv + optind, nsrc, &o);
		goto out;
	}
	if ((ret = shape_set(c, &o, &s, &d, select_platform, edit, set)) != 0)
		goto out;
	if (based && (ret = check_complete(c, r, set)) != 0)
		goto out;
	if (o.nhave) {
		if (dc_inventory_new(c->ctx, &have) < 0) {
			ret = fail(c);
			goto out;
		}
		for (i = 0; i < o.nhave && !ret; i++)
			ret = have_add(c, o.haves[i], have);
		if (ret)
			goto out;
		o.wo.exclude = have;
	}
	if (dc_write(c->ctx, r, set, d.fmt, d.path, &o.wo) < 0) {
		ret = fail(c);
		blame_sources(c, argv + optind, nsrc, &o);
		goto out;
	}
	progress_end(c);
	progress_summary(c, set, d.fmt, d.path);
out:
	progress_end(c);
	dc_set_free(set);
	dc_reader_free(r);
	dc_inventory_free(have);
	arg_release(&s);
	arg_release(&d);
	copts_release(&o);
	return ret;
}
