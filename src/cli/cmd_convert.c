/*
 * decant convert [OPTIONS] SRC DEST
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

enum {
	OPT_IMAGE = 256, OPT_TAG, OPT_COMPRESS, OPT_LEVEL, OPT_THREADS,
	OPT_PROGRESS, OPT_SQUASH, OPT_SQUASH_LAST, OPT_CHANGE, OPT_PLATFORM,
	OPT_MAX_MEMORY, OPT_LABEL, OPT_ENV, OPT_CREATED
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
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
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
};

static void copts_release(struct copts *o)
{
	size_t i;

	for (i = 0; i < o->nchanges; i++)
		free(o->changes[i]);
	free(o->changes);
	free(o->images);
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
	case 'q':
		c->quiet = 1;
		return 0;
	case 'h':
		print_command_help("convert", stdout);
		return -1;
	default:
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

int cmd_convert(struct cli *c, int argc, char **argv)
{
	struct copts o;
	struct dc_import_opts io;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct imgarg s = { 0 }, d = { 0 };
	const char *select_platform = NULL;
	int opt, err, edit = 0, ret = EXIT_OK;

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
	if (argc - optind != 2) {
		ret = usage_error("convert needs SRC and DEST");
		goto out;
	}
	if ((ret = check_opts(&o)) != 0 ||
	    (ret = parse_dest(argv[optind + 1], &d)) != 0 ||
	    (ret = parse_src(argv[optind], &s)) != 0 ||
	    (ret = check_dest(c, &d)) != 0)
		goto out;
	/* --threads bounds every parallel stage, not only compression */
	dc_ctx_set_threads(c->ctx, o.wo.threads);
	/* from here: spooling a piped or compressed source is a phase */
	progress_start(c);
	if (source_open_arg(c, &s, &r) < 0) {
		ret = fail(c);
		goto out;
	}
	/* a rootfs source gets --platform and --change in the config it
	 * makes, as docker import does; other sources pick a platform and
	 * have their configs edited */
	io.platform = o.platform;
	io.changes = (const char *const *)o.changes;
	io.nchanges = o.nchanges;
	if ((io.platform || io.nchanges) &&
	    (err = dc_reader_set_import(r, &io)) < 0) {
		if (err != DC_EUNSUPPORTED) {
			ret = fail(c);
			goto out;
		}
		select_platform = io.platform;
		edit = io.nchanges > 0;
	}
	if (source_load(c, &r, &set) < 0) {
		ret = fail(c);
		goto out;
	}
	if ((ret = shape_set(c, &o, &s, &d, select_platform, edit, set)) != 0)
		goto out;
	if (dc_write(c->ctx, r, set, d.fmt, d.path, &o.wo) < 0) {
		ret = fail(c);
		goto out;
	}
	progress_end(c);
	progress_summary(c, set, d.fmt, d.path);
out:
	progress_end(c);
	dc_set_free(set);
	dc_reader_free(r);
	arg_release(&s);
	arg_release(&d);
	copts_release(&o);
	return ret;
}
