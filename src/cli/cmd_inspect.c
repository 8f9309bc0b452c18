/*
 * decant verify SRC (decant inspect is in inspect.c)
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct option longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, 'p' },
	{ "max-memory", required_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int parse(struct cli *c, int argc, char **argv, int *json,
		 const char *what)
{
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			if (!json)
				return usage_error("%s: --json is for inspect", what);
			*json = 1;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'p':
			c->progress = 1;
			break;
		case 'm':
			if ((ret = opt_max_memory(c, optarg)) != 0)
				return ret;
			break;
		case 'h':
			print_usage(stdout);
			return -1;
		default:
			return bad_option(argv, opt == ':');
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return usage_error("%s needs exactly one SRC", what);
	return 0;
}

int cmd_verify(struct cli *c, int argc, char **argv)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	size_t i, nl = 0;
	int ret;

	if ((ret = parse(c, argc, argv, NULL, "verify")) != 0)
		return ret < 0 ? EXIT_OK : ret;
	if (open_source(c, argv[optind], &r, &set) < 0)
		return fail(c);
	progress_start(c);
	if (dc_reader_verify(r, set) < 0) {
		progress_end(c);
		ret = fail(c);
	} else {
		progress_end(c);
		for (i = 0; i < dc_set_count(set); i++)
			nl += dc_image_layer_count(dc_set_image(set, i));
		if (!c->quiet)
			printf("%s: ok: %zu image%s, %zu layer%s verified\n",
			       esc(c->src_label), dc_set_count(set),
			       dc_set_count(set) == 1 ? "" : "s", nl,
			       nl == 1 ? "" : "s");
	}
	dc_set_free(set);
	dc_reader_free(r);
	return ret;
}
