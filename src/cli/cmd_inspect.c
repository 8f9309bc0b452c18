/*
 * decant inspect [--json] SRC
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static json_t *desc_json(const struct dc_desc *d, int layer)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= json_object_set_new(o, "digest", json_string(dc_desc_digest(d)));
	bad |= json_object_set_new(o, "mediaType", json_string(dc_desc_media_type(d)));
	bad |= json_object_set_new(o, "size", json_integer(dc_desc_size(d)));
	if (layer) {
		const char *diff = dc_desc_diff_id(d);

		bad |= json_object_set_new(o, "diff_id", diff ? json_string(diff) : json_null());
		bad |= json_object_set_new(o, "compression",
					   json_string(dc_desc_compression(d)));
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* {"against": [...], "excluded": [{"digest", "size"}, ...]} */
static json_t *delta_json(const struct dc_inventory *d)
{
	json_t *o = json_object(), *a = json_array(), *x = json_array();
	size_t i;

	for (i = 0; i < dc_inventory_name_count(d); i++)
		json_array_append_new(a, json_string(dc_inventory_name(d, i)));
	for (i = 0; i < dc_inventory_count(d); i++) {
		json_t *b = json_object();
		const char *dg, *mt;
		int64_t size;

		dc_inventory_get(d, i, &dg, &size, &mt);
		json_object_set_new(b, "digest", json_string(dg));
		json_object_set_new(b, "size", json_integer(size));
		json_array_append_new(x, b);
	}
	json_object_set_new(o, "against", a);
	json_object_set_new(o, "excluded", x);
	return o;
}

static int print_json(const struct dc_set *set,
		      const struct dc_inventory *delta)
{
	json_t *root = json_object(), *imgs = json_array();
	size_t i, j;
	char *s, *p;
	int bad = 0;

	bad |= json_object_set_new(root, "format", json_string(dc_set_format(set)));
	if (delta)
		bad |= json_object_set_new(root, "delta", delta_json(delta));
	for (i = 0; i < dc_set_count(set); i++) {
		const struct dc_image *img = dc_set_image(set, i);
		json_t *o = json_object(), *tags = json_array(), *layers = json_array();

		for (j = 0; j < dc_image_tag_count(img); j++)
			bad |= json_array_append_new(tags, json_string(dc_image_tag(img, j)));
		bad |= json_object_set_new(o, "tags", tags);
		bad |= json_object_set_new(o, "ref_name", dc_image_ref_name(img) ?
					   json_string(dc_image_ref_name(img)) : json_null());
		bad |= json_object_set_new(o, "platform", json_string(dc_image_platform(img)));
		bad |= json_object_set_new(o, "index", dc_image_index_digest(img) ?
					   json_string(dc_image_index_digest(img)) : json_null());
		bad |= json_object_set_new(o, "id", json_string(dc_image_id(img)));
		bad |= json_object_set_new(o, "manifest", desc_json(dc_image_manifest(img), 0));
		bad |= json_object_set_new(o, "config", desc_json(dc_image_config(img), 0));
		for (j = 0; j < dc_image_layer_count(img); j++)
			bad |= json_array_append_new(layers, desc_json(dc_image_layer(img, j), 1));
		bad |= json_object_set_new(o, "layers", layers);
		bad |= json_array_append_new(imgs, o);
	}
	bad |= json_object_set_new(root, "images", imgs);
	/* ASCII only: C1 controls become \u0080-\u009f; DEL, which
	 * jansson leaves alone, is escaped here (it occurs only in strings) */
	s = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				    JSON_ENSURE_ASCII);
	json_decref(root);
	if (!s) {
		fputs("decant: error: out of memory\n", stderr);
		return EXIT_FAIL;
	}
	for (p = s; *p; p++) {
		if (*p == 0x7f)
			fputs("\\u007f", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
	free(s);
	return EXIT_OK;
}

static void size_str(char *buf, size_t n, int64_t v)
{
	const char *u[] = { "B", "kB", "MB", "GB", "TB" };
	double d = (double)v;
	int i = 0;

	while (d >= 1000 && i < 4) {
		d /= 1000;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}

static void print_table(const struct dc_set *set, const char *src,
			const struct dc_inventory *delta)
{
	size_t i, j;

	printf("source:  %s (%s), %zu image%s\n", esc(src), esc(dc_set_format(set)),
	       dc_set_count(set), dc_set_count(set) == 1 ? "" : "s");
	if (delta) {
		int64_t total = 0, size;
		const char *dg, *mt;
		char sz[32];

		for (i = 0; i < dc_inventory_count(delta); i++) {
			dc_inventory_get(delta, i, &dg, &size, &mt);
			total += size;
		}
		size_str(sz, sizeof(sz), total);
		printf("delta:   %zu layer%s (%s) left out, against ",
		       dc_inventory_count(delta),
		       dc_inventory_count(delta) == 1 ? "" : "s", sz);
		for (i = 0; i < dc_inventory_name_count(delta); i++)
			printf("%s%s", i ? ", " : "",
			       esc(dc_inventory_name(delta, i)));
		printf("%s\n", i ? "" : "(unnamed)");
	}
	for (i = 0; i < dc_set_count(set); i++) {
		const struct dc_image *img = dc_set_image(set, i);
		const struct dc_desc *m = dc_image_manifest(img);
		int64_t total = 0;
		char sz[32];

		printf("\nimage @%zu\n", i);
		printf("  tags:      ");
		for (j = 0; j < dc_image_tag_count(img); j++)
			printf("%s%s", j ? ", " : "", esc(dc_image_tag(img, j)));
		printf("%s\n", dc_image_tag_count(img) ? "" : "(none)");
		if (dc_image_ref_name(img))
			printf("  ref name:  %s\n", esc(dc_image_ref_name(img)));
		printf("  platform:  %s\n", *dc_image_platform(img) ?
		       esc(dc_image_platform(img)) : "(unknown)");
		if (dc_image_index_digest(img))
			printf("  index:     %s (multi-platform)\n",
			       esc(dc_image_index_digest(img)));
		printf("  id:        %s\n", esc(dc_image_id(img)));
		printf("  manifest:  %s  %s\n", esc(dc_desc_digest(m)),
		       esc(dc_desc_media_type(m)));
		printf("  layers:\n    %-3s %-19s %-10s %-11s %s\n", "#", "DIGEST",
		       "SIZE", "COMPRESSION", "DIFF_ID");
		for (j = 0; j < dc_image_layer_count(img); j++) {
			const struct dc_desc *l = dc_image_layer(img, j);
			const char *diff = dc_desc_diff_id(l);

			size_str(sz, sizeof(sz), dc_desc_size(l));
			total += dc_desc_size(l);
			printf("    %-3zu %.19s %-10s %-11s %.19s\n", j,
			       esc(dc_desc_digest(l)), sz,
			       esc(dc_desc_compression(l)), diff ? esc(diff) : "-");
		}
		size_str(sz, sizeof(sz), total);
		printf("    %zu layer%s, %s\n", dc_image_layer_count(img),
		       dc_image_layer_count(img) == 1 ? "" : "s", sz);
	}
}

static const struct option longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, 'p' },
	{ "max-memory", required_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	REGISTRY_LONGOPTS,
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
			if ((ret = opt_registry(c, opt, optarg)) == 0)
				break;
			return ret == 1 ? bad_option(argv, opt == ':') : ret;
		}
	}
	if (argc - optind != 1)
		return usage_error("%s needs exactly one SRC", what);
	return 0;
}

int cmd_inspect(struct cli *c, int argc, char **argv)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_inventory *delta = NULL;
	int json = 0, ret;

	if ((ret = parse(c, argc, argv, &json, "inspect")) != 0)
		return ret < 0 ? EXIT_OK : ret;
	if (source_open(c, argv[optind], &r) < 0)
		return fail(c);
	/* a delta lacks what it left out: say so, and what it is against */
	if (dc_reader_delta(r, &delta) < 0) {
		dc_reader_free(r);
		return fail(c);
	}
	if (delta)
		dc_reader_allow_absent(r);
	if (source_load(c, &r, &set) < 0) {
		dc_inventory_free(delta);
		return fail(c);
	}
	if (json)
		ret = print_json(set, delta);
	else
		print_table(set, c->src_label, delta);
	dc_inventory_free(delta);
	dc_set_free(set);
	dc_reader_free(r);
	return ret;
}
