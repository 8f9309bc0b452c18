/*
 * decant convert [OPTIONS] SRC DEST
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

enum {
	OPT_IMAGE = 256, OPT_TAG, OPT_COMPRESS, OPT_LEVEL, OPT_THREADS,
	OPT_PROGRESS, OPT_SQUASH, OPT_SQUASH_LAST, OPT_CHANGE, OPT_PLATFORM,
	OPT_MAX_MEMORY
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

int cmd_convert(struct cli *c, int argc, char **argv)
{
	const char *select_platform;
	struct dc_write_opts wo;
	struct dc_import_opts io;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	const char **images = NULL, **changes = NULL, *tag = NULL, *dest_path;
	const char *dest_fmt = NULL;
	size_t nimages = 0;
	int opt, err, ret = EXIT_OK;

	memset(&wo, 0, sizeof(wo));
	select_platform = NULL;
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
	if (argc - optind != 2) {
		ret = usage_error("convert needs SRC and DEST");
		goto out;
	}
	if (wo.compress == DC_COMPRESS_GZIP && wo.level > 9) {
		ret = usage_error("--level %d: gzip levels are 1-9", wo.level);
		goto out;
	}
	if ((ret = split_dest(argv[optind + 1], &dest_fmt, &dest_path)) != 0)
		goto out;
	io.changes = changes;
	/* --threads bounds every parallel stage, not only compression */
	dc_ctx_set_threads(c->ctx, wo.threads);
	if (source_open(c, argv[optind], &r) < 0) {
		ret = fail(c);
		goto out;
	}
	/* for a rootfs source, --platform and --change make its config;
	 * for image sources, --platform picks from multi-platform indexes */
	select_platform = NULL;
	if ((io.platform || io.nchanges) &&
	    (err = dc_reader_set_import(r, &io)) < 0) {
		if (err != DC_EUNSUPPORTED) {
			ret = fail(c);
			goto out;
		}
		if (io.nchanges) {
			ret = usage_error("--change is only for rootfs sources");
			goto out;
		}
		select_platform = io.platform;
	}
	if (source_load(c, &r, &set) < 0) {
		ret = fail(c);
		goto out;
	}
	if (dc_set_select(c->ctx, set, images, nimages) < 0 ||
	    (select_platform &&
	     dc_set_select_platform(c->ctx, set, select_platform) < 0) ||
	    (tag && dc_set_retag(c->ctx, set, tag) < 0)) {
		ret = fail(c);
		goto out;
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
	free(images);
	free(changes);
	return ret;
}
