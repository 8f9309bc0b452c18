/*
 * decant inventory SRC...: what a far side holds (digests, sizes, media
 * types, no data), for --exclude-from on the near side.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* An inventory file starts with '{'; anything else is a source. */
static int is_inventory_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : NULL;
	int ch;

	if (!f)
		return 0;
	while ((ch = getc(f)) == ' ' || ch == '\n' || ch == '\t' || ch == '\r')
		;
	fclose(f);
	return ch == '{';
}

/* Read PATH (at most CAP bytes) into *DATA, *N; 0 or -1 (errno). */
static int slurp(const char *path, size_t cap, char **data, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	int ok = 0;

	*data = NULL;
	if (!f)
		return -1;
	if ((buf = malloc(cap + 1))) {
		len = fread(buf, 1, cap + 1, f);
		ok = !ferror(f) && len <= cap;
	}
	fclose(f);
	if (!ok) {
		free(buf);
		return -1;
	}
	*data = buf;
	*n = len;
	return 0;
}

struct absent {
	struct dc_ctx *ctx;
	struct dc_inventory *inv;
	int err;
};

static void on_absent(void *arg, const struct dc_desc *d)
{
	struct absent *a = arg;

	if (!a->err)
		a->err = dc_inventory_add(a->ctx, a->inv, dc_desc_digest(d),
					  dc_desc_size(d), dc_desc_media_type(d));
}

/* A delta's blobs into INV: the layers R lacks (left out, for the far
 * side to fill from its base) are listed as not held. */
static int add_delta(struct cli *c, struct dc_inventory *inv,
		     struct dc_reader *r, const struct dc_set *set)
{
	struct absent a = { c->ctx, NULL, 0 };
	int n;

	if ((a.err = dc_inventory_new(c->ctx, &a.inv)) < 0)
		return a.err;
	if ((n = dc_reader_missing(r, set, on_absent, &a)) >= 0 && !a.err)
		a.err = dc_inventory_add_set_absent(c->ctx, inv, set, a.inv);
	dc_inventory_free(a.inv);
	return n < 0 ? n : a.err;
}

int have_add(struct cli *c, const char *arg, struct dc_inventory *inv)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_inventory *f = NULL;
	int ret = 0;

	if (is_inventory_file(arg)) {
		char *data;
		size_t n, i;

		if (slurp(arg, 8u << 20, &data, &n) < 0)
			return usage_error("'%s': cannot read the inventory (at most 8 MiB)",
					   arg);
		if (dc_inventory_parse(c->ctx, data, n, &f) < 0) {
			free(data);
			fprintf(stderr, "decant: error: '%s': %s\n", esc(arg),
				esc(dc_ctx_errmsg(c->ctx)));
			return EXIT_FAIL;
		}
		free(data);
		if (dc_inventory_add_name(c->ctx, inv, arg) < 0)
			ret = fail(c);
		for (i = 0; !ret && i < dc_inventory_count(f); i++) {
			const char *d, *mt;
			int64_t size;

			dc_inventory_get(f, i, &d, &size, &mt);
			if (dc_inventory_add(c->ctx, inv, d, size, mt) < 0)
				ret = fail(c);
		}
		dc_inventory_free(f);
		return ret;
	}
	/* a delta: what it holds, and apart what it left out */
	if (open_source_delta(c, arg, &r, &set, &f) < 0) {
		ret = fail(c);
		blame_parts(c, (char *const *)&arg, 1);
		return ret;
	}
	if (dc_inventory_add_name(c->ctx, inv, arg) < 0 ||
	    (f ? add_delta(c, inv, r, set) :
	     dc_inventory_add_set(c->ctx, inv, set)) < 0)
		ret = fail(c);
	dc_inventory_free(f);
	dc_set_free(set);
	dc_reader_free(r);
	return ret;
}

static const struct option longopts[] = {
	{ "max-memory", required_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int cmd_inventory(struct cli *c, int argc, char **argv)
{
	struct dc_inventory *inv = NULL;
	char *s = NULL;
	int opt, i, ret = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if ((ret = opt_max_memory(c, optarg)) != 0)
				return ret;
			break;
		case 'h':
			print_usage(stdout);
			return EXIT_OK;
		default:
			return bad_option(argv, opt == ':');
		}
	}
	if (argc - optind < 1)
		return usage_error("inventory needs a SRC");
	if (dc_inventory_new(c->ctx, &inv) < 0)
		return fail(c);
	for (i = optind; i < argc && !ret; i++)
		ret = have_add(c, argv[i], inv);
	if (!ret && dc_inventory_not_held_count(inv))
		fprintf(stderr, "decant: note: a delta refers to %zu blobs that it and the other sources do not hold: they are listed under \"notHeld\", not as held (inventory the delta's base with it to list them as held)\n",
			dc_inventory_not_held_count(inv));
	if (!ret && dc_inventory_json(c->ctx, inv, &s) < 0)
		ret = fail(c);
	if (!ret && (printf("%s\n", s) < 0 || fflush(stdout) != 0)) {
		fputs("decant: error: stdout: write failed\n", stderr);
		ret = EXIT_FAIL;
	}
	free(s);
	dc_inventory_free(inv);
	return ret;
}
