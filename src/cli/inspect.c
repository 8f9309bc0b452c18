/*
 * decant inspect [--json] [--config|--manifest|--index] SRC
 *
 * What skopeo inspect and crane config show: names, platform, the
 * config's run settings, each layer with the history entry that made
 * it, and sizes; or the exact bytes of one image's config, manifest or
 * index. Every string from the archive is escaped before it reaches the
 * terminal (esc()); JSON output is ASCII.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

enum { RAW_NONE, RAW_CONFIG, RAW_MANIFEST, RAW_INDEX };

enum { OPT_CONFIG = 256, OPT_MANIFEST, OPT_INDEX, OPT_IMAGE, OPT_MAXMEM };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "config", no_argument, NULL, OPT_CONFIG },
	{ "manifest", no_argument, NULL, OPT_MANIFEST },
	{ "index", no_argument, NULL, OPT_INDEX },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, 'p' },
	{ "max-memory", required_argument, NULL, OPT_MAXMEM },
	{ "help", no_argument, NULL, 'h' },
	REGISTRY_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* The run settings inspect shows: container config key, JSON key,
 * human label. */
static const struct field {
	const char *key, *json, *label;
} fields[] = {
	{ "Cmd", "cmd", "cmd" },
	{ "Entrypoint", "entrypoint", "entrypoint" },
	{ "Env", "env", "env" },
	{ "Labels", "labels", "labels" },
	{ "User", "user", "user" },
	{ "WorkingDir", "workingDir", "workdir" },
	{ "ExposedPorts", "exposedPorts", "ports" },
	{ "Volumes", "volumes", "volumes" },
	{ "StopSignal", "stopSignal", "stopsignal" },
	{ NULL, NULL, NULL }
};

/* An image's parsed config (NULL if it does not parse). */
static json_t *config_of(const struct dc_image *img)
{
	size_t n;
	const char *p = dc_image_config_raw(img, &n);

	return json_loadb(p, n, 0, NULL);
}

static const char *str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The history entry that made each layer: the non-empty entries in
 * order (borrowed from CFG; NULL past the end). */
static json_t *layer_history(json_t *cfg, size_t layer)
{
	json_t *h, *e;
	size_t i, k = 0;

	h = json_object_get(cfg, "history");
	json_array_foreach(h, i, e) {
		if (json_is_true(json_object_get(e, "empty_layer")))
			continue;
		if (k++ == layer)
			return e;
	}
	return NULL;
}

/* Sizes over the set: every blob once, and the layers more than one
 * image holds. */
struct sizes {
	int64_t total, shared;
};

static void set_sizes(const struct dc_set *set, struct sizes *s)
{
	size_t i, j, k, l, n = dc_set_count(set);

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++) {
		const struct dc_image *img = dc_set_image(set, i);

		s->total += dc_desc_size(dc_image_config(img)) +
			    dc_desc_size(dc_image_manifest(img));
		for (j = 0; j < dc_image_layer_count(img); j++) {
			const struct dc_desc *d = dc_image_layer(img, j);
			int seen = 0, other = 0;

			/* the first time this digest occurs in the set */
			for (k = 0; k <= i && !seen; k++) {
				const struct dc_image *o = dc_set_image(set, k);
				size_t lim = k == i ? j : dc_image_layer_count(o);

				for (l = 0; l < lim && !seen; l++)
					seen = !strcmp(dc_desc_digest(dc_image_layer(o, l)),
						       dc_desc_digest(d));
			}
			if (seen)
				continue;
			s->total += dc_desc_size(d);
			for (k = i + 1; k < n && !other; k++) {
				const struct dc_image *o = dc_set_image(set, k);

				for (l = 0; l < dc_image_layer_count(o) && !other; l++)
					other = !strcmp(dc_desc_digest(dc_image_layer(o, l)),
							dc_desc_digest(d));
			}
			if (other)
				s->shared += dc_desc_size(d);
		}
	}
}

/* Sum of the layer sizes, and uncompressed (-1 where unknown). */
static void image_sizes(const struct dc_image *img, int64_t *comp,
			int64_t *plain)
{
	size_t j;

	*comp = *plain = 0;
	for (j = 0; j < dc_image_layer_count(img); j++) {
		const struct dc_desc *l = dc_image_layer(img, j);

		*comp += dc_desc_size(l);
		if (*plain >= 0 && !strcmp(dc_desc_compression(l), "none"))
			*plain += dc_desc_size(l);
		else
			*plain = -1;
	}
}

/* ------------------------------------------------------------------ */
/* JSON */

static json_t *desc_json(const struct dc_desc *d, int layer, json_t *hist)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= json_object_set_new(o, "digest", json_string(dc_desc_digest(d)));
	bad |= json_object_set_new(o, "mediaType", json_string(dc_desc_media_type(d)));
	bad |= json_object_set_new(o, "size", json_integer(dc_desc_size(d)));
	if (layer) {
		const char *diff = dc_desc_diff_id(d), *by = str_of(hist, "created_by");

		bad |= json_object_set_new(o, "diffId", diff ? json_string(diff) : json_null());
		bad |= json_object_set_new(o, "compression",
					   json_string(dc_desc_compression(d)));
		bad |= json_object_set_new(o, "createdBy", by ? json_string(by) : json_null());
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A set (ports, volumes) as a sorted list of its keys. */
static json_t *keys_of(json_t *obj)
{
	json_t *a = json_array(), *v;
	const char *k;

	json_object_foreach(obj, k, v)
		if (json_array_append_new(a, json_string(k)) < 0)
			break;
	return a;
}

static json_t *field_json(json_t *v)
{
	if (!v || json_is_null(v))
		return json_null();
	if (json_is_object(v)) {
		const char *k;
		json_t *x;

		/* Labels keep their values; ports and volumes are sets */
		json_object_foreach(v, k, x)
			if (!json_is_string(x))
				return keys_of(v);
	}
	return json_incref(v);
}

static json_t *history_json(json_t *cfg)
{
	json_t *out = json_array(), *e, *h = json_object_get(cfg, "history");
	size_t i, k = 0;
	int bad = 0;

	json_array_foreach(h, i, e) {
		json_t *o = json_object();
		int empty = json_is_true(json_object_get(e, "empty_layer"));
		const char *s;

		if ((s = str_of(e, "created")))
			bad |= json_object_set_new(o, "created", json_string(s));
		if ((s = str_of(e, "created_by")))
			bad |= json_object_set_new(o, "createdBy", json_string(s));
		if ((s = str_of(e, "author")))
			bad |= json_object_set_new(o, "author", json_string(s));
		if ((s = str_of(e, "comment")))
			bad |= json_object_set_new(o, "comment", json_string(s));
		bad |= json_object_set_new(o, "emptyLayer", json_boolean(empty));
		bad |= json_object_set_new(o, "layer", empty ? json_null() :
					   json_integer((json_int_t)k++));
		bad |= json_array_append_new(out, o);
	}
	(void)bad;
	return out;
}

static int image_json(const struct dc_image *img, json_t *o)
{
	json_t *tags = json_array(), *layers = json_array(), *cfg = config_of(img),
	       *run = json_object_get(cfg, "config"), *sz = json_object();
	int64_t comp, plain;
	size_t j;
	int bad = 0;

	for (j = 0; j < dc_image_tag_count(img); j++)
		bad |= json_array_append_new(tags, json_string(dc_image_tag(img, j)));
	bad |= json_object_set_new(o, "tags", tags);
	bad |= json_object_set_new(o, "refName", dc_image_ref_name(img) ?
				   json_string(dc_image_ref_name(img)) : json_null());
	bad |= json_object_set_new(o, "platform", json_string(dc_image_platform(img)));
	bad |= json_object_set_new(o, "index", dc_image_index_digest(img) ?
				   json_string(dc_image_index_digest(img)) : json_null());
	bad |= json_object_set_new(o, "id", json_string(dc_image_id(img)));
	bad |= json_object_set_new(o, "manifest", desc_json(dc_image_manifest(img), 0, NULL));
	bad |= json_object_set_new(o, "manifestSynthesized",
				   json_boolean(dc_image_manifest_synthesized(img)));
	bad |= json_object_set_new(o, "config", desc_json(dc_image_config(img), 0, NULL));
	bad |= json_object_set_new(o, "created", str_of(cfg, "created") ?
				   json_string(str_of(cfg, "created")) : json_null());
	bad |= json_object_set_new(o, "author", str_of(cfg, "author") ?
				   json_string(str_of(cfg, "author")) : json_null());
	bad |= json_object_set_new(o, "architecture", json_string(str_of(cfg, "architecture") ?
				   str_of(cfg, "architecture") : ""));
	bad |= json_object_set_new(o, "os", json_string(str_of(cfg, "os") ?
				   str_of(cfg, "os") : ""));
	bad |= json_object_set_new(o, "variant", str_of(cfg, "variant") ?
				   json_string(str_of(cfg, "variant")) : json_null());
	for (j = 0; fields[j].key; j++)
		bad |= json_object_set_new(o, fields[j].json,
					   field_json(json_object_get(run, fields[j].key)));
	for (j = 0; j < dc_image_layer_count(img); j++)
		bad |= json_array_append_new(layers, desc_json(dc_image_layer(img, j), 1,
							       layer_history(cfg, j)));
	bad |= json_object_set_new(o, "layers", layers);
	bad |= json_object_set_new(o, "history", history_json(cfg));
	image_sizes(img, &comp, &plain);
	bad |= json_object_set_new(sz, "layers", json_integer(comp));
	bad |= json_object_set_new(sz, "uncompressed", plain >= 0 ?
				   json_integer(plain) : json_null());
	bad |= json_object_set_new(o, "size", sz);
	json_decref(cfg);
	return bad;
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
	json_t *root = json_object(), *imgs = json_array(), *sz = json_object();
	struct sizes s;
	size_t i;
	char *out, *p;
	int bad = 0;

	bad |= json_object_set_new(root, "schemaVersion", json_integer(1));
	bad |= json_object_set_new(root, "format", json_string(dc_set_format(set)));
	if (delta)
		bad |= json_object_set_new(root, "delta", delta_json(delta));
	for (i = 0; i < dc_set_count(set); i++) {
		json_t *o = json_object();

		bad |= image_json(dc_set_image(set, i), o);
		bad |= json_array_append_new(imgs, o);
	}
	bad |= json_object_set_new(root, "images", imgs);
	set_sizes(set, &s);
	bad |= json_object_set_new(sz, "total", json_integer(s.total));
	bad |= json_object_set_new(sz, "shared", json_integer(s.shared));
	bad |= json_object_set_new(root, "size", sz);
	/* ASCII only: C1 controls become \u0080-\u009f; DEL, which
	 * jansson leaves alone, is escaped here (it occurs only in strings) */
	out = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				      JSON_ENSURE_ASCII);
	json_decref(root);
	if (!out) {
		fputs("decant: error: out of memory\n", stderr);
		return EXIT_FAIL;
	}
	for (p = out; *p; p++) {
		if (*p == 0x7f)
			fputs("\\u007f", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
	free(out);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Text */

/* V (a string, list or object) on one line, escaped */
static void print_value(const char *label, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i, n = 0;

	if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)) ||
	    (json_is_array(v) && !json_array_size(v)) ||
	    (json_is_object(v) && !json_object_size(v)))
		return;
	printf("  %s:%*s", label, (int)(10 - strlen(label)), "");
	if (json_is_string(v)) {
		printf("%s\n", esc(json_string_value(v)));
	} else if (json_is_array(v) && !strcmp(label, "env")) {
		json_array_foreach(v, i, x)
			printf("%s%s\n", i ? "             " : "",
			       esc(json_string_value(x) ? json_string_value(x) : ""));
	} else if (json_is_array(v)) {
		/* a command, as Docker shows it: JSON */
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);

		printf("%s\n", s ? esc(s) : "?");
		free(s);
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			printf("%s%s", n++ ? (json_is_string(x) ? "\n             " : ", ") : "",
			       esc(k));
			if (json_is_string(x))
				printf("=%s", esc(json_string_value(x)));
		}
		putchar('\n');
	}
}

static void print_image(const struct dc_image *img, size_t i)
{
	const struct dc_desc *m = dc_image_manifest(img);
	json_t *cfg = config_of(img), *run = json_object_get(cfg, "config");
	int64_t comp, plain;
	char sz[32], usz[32];
	size_t j;

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
	printf("  manifest:  %s  %s%s\n", esc(dc_desc_digest(m)),
	       esc(dc_desc_media_type(m)),
	       dc_image_manifest_synthesized(img) ? "  (made by decant)" : "");
	print_value("created", json_object_get(cfg, "created"));
	print_value("author", json_object_get(cfg, "author"));
	for (j = 0; fields[j].key; j++)
		print_value(fields[j].label, json_object_get(run, fields[j].key));
	printf("  layers:\n    %-3s %-19s %-10s %-11s %-19s %s\n", "#", "DIGEST",
	       "SIZE", "COMPRESSION", "DIFF_ID", "CREATED BY");
	for (j = 0; j < dc_image_layer_count(img); j++) {
		const struct dc_desc *l = dc_image_layer(img, j);
		const char *diff = dc_desc_diff_id(l);
		const char *by = str_of(layer_history(cfg, j), "created_by");

		size_str(sz, sizeof(sz), dc_desc_size(l));
		printf("    %-3zu %.19s %-10s %-11s %-19.19s %.60s\n", j,
		       esc(dc_desc_digest(l)), sz, esc(dc_desc_compression(l)),
		       diff ? esc(diff) : "-", by ? esc(by) : "");
	}
	image_sizes(img, &comp, &plain);
	size_str(sz, sizeof(sz), comp);
	size_str(usz, sizeof(usz), plain);
	printf("    %zu layer%s, %s%s%s\n", dc_image_layer_count(img),
	       dc_image_layer_count(img) == 1 ? "" : "s", sz,
	       plain >= 0 && plain != comp ? ", uncompressed " : "",
	       plain >= 0 && plain != comp ? usz : "");
	json_decref(cfg);
}

static void print_table(const struct dc_set *set, const char *src,
			const struct dc_inventory *delta)
{
	struct sizes s;
	char t[32], sh[32];
	size_t i;

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
	for (i = 0; i < dc_set_count(set); i++)
		print_image(dc_set_image(set, i), i);
	if (dc_set_count(set) > 1) {
		set_sizes(set, &s);
		size_str(t, sizeof(t), s.total);
		size_str(sh, sizeof(sh), s.shared);
		printf("\ntotal:   %s, of which %s in layers shared between images\n",
		       t, sh);
	}
}

/* ------------------------------------------------------------------ */

static int print_raw(const struct dc_set *set, int what)
{
	static const char *const names[] = { "", "--config", "--manifest", "--index" };
	const struct dc_image *img;
	const char *p;
	size_t n;

	if (dc_set_count(set) != 1)
		return usage_error("%s: the source has %zu images; pick one with --image or FORMAT:PATH:REF",
				   names[what], dc_set_count(set));
	img = dc_set_image(set, 0);
	if (what == RAW_CONFIG)
		p = dc_image_config_raw(img, &n);
	else if (what == RAW_MANIFEST)
		p = dc_image_manifest_raw(img, &n);
	else if (!(p = dc_image_index_raw(img, &n))) {
		fputs("decant: error: --index: the image is not in a multi-platform index\n",
		      stderr);
		return EXIT_FAIL;
	}
	if (fwrite(p, 1, n, stdout) != n || fflush(stdout)) {
		fputs("decant: error: writing to standard output failed\n", stderr);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_inspect(struct cli *c, int argc, char **argv)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_inventory *delta = NULL;
	struct imgarg a = { 0 };
	const char *pick[2];
	size_t npick = 0;
	int opt, json = 0, raw = RAW_NONE, ret = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case OPT_CONFIG: raw = RAW_CONFIG; break;
		case OPT_MANIFEST: raw = RAW_MANIFEST; break;
		case OPT_INDEX: raw = RAW_INDEX; break;
		case OPT_IMAGE:
			if (npick)
				return usage_error("inspect: one --image");
			pick[npick++] = optarg;
			break;
		case 'q': c->quiet = 1; break;
		case 'p': c->progress = 1; break;
		case OPT_MAXMEM:
			if ((ret = opt_max_memory(c, optarg)) != 0)
				return ret;
			break;
		case 'h':
			print_command_help("inspect", stdout);
			return EXIT_OK;
		default:
			if ((ret = opt_registry(c, opt, optarg)) == 0)
				break;
			if (ret != 1)
				return ret;
			return bad_option_in(argv, opt == ':', longopts);
		}
	}
	if (argc - optind != 1)
		return usage_error("inspect needs exactly one SRC");
	if (json && raw)
		return usage_error("inspect: --json or --config/--manifest/--index, not both");
	if ((ret = parse_src(argv[optind], &a)) != 0)
		return ret;
	if (a.ref)
		pick[npick++] = a.ref;
	if (source_open_arg(c, &a, &r) < 0 ||
	    /* a delta lacks what it left out: say so, and against what */
	    dc_reader_delta(r, &delta) < 0) {
		ret = fail(c);
		goto out;
	}
	if (delta)
		dc_reader_allow_absent(r);
	if (source_load(c, &r, &set) < 0 ||
	    (npick && dc_set_select(c->ctx, set, pick, npick) < 0)) {
		ret = fail(c);
		blame_parts(c, argv + optind, 1);
		goto out;
	}
	if (raw)
		ret = print_raw(set, raw);
	else if (json)
		ret = print_json(set, delta);
	else
		print_table(set, c->src_label, delta);
out:
	dc_inventory_free(delta);
	dc_set_free(set);
	dc_reader_free(r);
	arg_release(&a);
	return ret;
}
