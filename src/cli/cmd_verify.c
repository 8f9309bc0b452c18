/*
 * decant verify [--json] SRC...: every blob of every source, every
 * problem reported, and which images it breaks.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct problem {
	const struct dc_desc *d;
	char *msg;
};

struct vres {
	struct problem *p;
	size_t n;
	size_t nblobs;
	int nomem;
};

static void on_blob(void *arg, const struct dc_desc *d, int code,
		    const char *msg)
{
	struct vres *v = arg;
	struct problem *p;

	v->nblobs++;
	if (!code)
		return;
	if (!(p = realloc(v->p, (v->n + 1) * sizeof(*p))) ||
	    !(p[v->n].msg = strdup(msg ? msg : "failed"))) {
		if (p)
			v->p = p;
		v->nomem = 1;
		return;
	}
	v->p = p;
	p[v->n++].d = d;
}

static int uses(const struct dc_image *img, const struct dc_desc *d)
{
	size_t j;

	for (j = 0; j < dc_image_layer_count(img); j++)
		if (!strcmp(dc_desc_digest(dc_image_layer(img, j)),
			    dc_desc_digest(d)))
			return 1;
	return 0;
}

static json_t *tags_json(const struct dc_image *img)
{
	json_t *a = json_array();
	size_t j;

	for (j = 0; j < dc_image_tag_count(img); j++)
		json_array_append_new(a, json_string(dc_image_tag(img, j)));
	return a;
}

/* One source's result as JSON: SET NULL when it did not load (ERR). */
static json_t *source_json(const char *label, const struct dc_set *set,
			   const struct vres *v, const char *err)
{
	json_t *o = json_object(), *imgs = json_array(), *probs = json_array();
	size_t i, k;

	json_object_set_new(o, "source", json_string(label));
	json_object_set_new(o, "format", set ? json_string(dc_set_format(set)) :
			    json_null());
	json_object_set_new(o, "ok", json_boolean(!err && !v->n));
	json_object_set_new(o, "error", err ? json_string(err) : json_null());
	json_object_set_new(o, "blobs_checked", json_integer((json_int_t)v->nblobs));
	for (k = 0; k < v->n; k++) {
		json_t *p = json_object(), *in = json_array();

		json_object_set_new(p, "digest", json_string(dc_desc_digest(v->p[k].d)));
		json_object_set_new(p, "size", json_integer(dc_desc_size(v->p[k].d)));
		json_object_set_new(p, "message", json_string(v->p[k].msg));
		for (i = 0; set && i < dc_set_count(set); i++)
			if (uses(dc_set_image(set, i), v->p[k].d))
				json_array_append_new(in, json_integer((json_int_t)i));
		json_object_set_new(p, "images", in);
		json_array_append_new(probs, p);
	}
	for (i = 0; set && i < dc_set_count(set); i++) {
		const struct dc_image *img = dc_set_image(set, i);
		json_t *o2 = json_object(), *bad = json_array();

		for (k = 0; k < v->n; k++)
			if (uses(img, v->p[k].d))
				json_array_append_new(bad, json_string(dc_desc_digest(v->p[k].d)));
		json_object_set_new(o2, "index", json_integer((json_int_t)i));
		json_object_set_new(o2, "tags", tags_json(img));
		json_object_set_new(o2, "id", json_string(dc_image_id(img)));
		json_object_set_new(o2, "ok", json_boolean(!json_array_size(bad)));
		json_object_set_new(o2, "bad_blobs", bad);
		json_array_append_new(imgs, o2);
	}
	json_object_set_new(o, "images", imgs);
	json_object_set_new(o, "problems", probs);
	return o;
}

/* Text: every problem, then (when it is not plain) which images each
 * breaks; or the "ok" line. */
static void source_text(struct cli *c, const char *label,
			const struct dc_set *set, const struct vres *v,
			int several)
{
	size_t i, j, k, nl = 0, nbad;

	for (k = 0; k < v->n; k++)
		fprintf(stderr, "decant: error: %s\n", esc(v->p[k].msg));
	if (v->n && (several || dc_set_count(set) > 1)) {
		for (i = 0; i < dc_set_count(set); i++) {
			const struct dc_image *img = dc_set_image(set, i);

			for (k = nbad = 0; k < v->n; k++)
				nbad += (size_t)uses(img, v->p[k].d);
			if (!nbad)
				continue;
			fprintf(stderr, "decant: error: %s: image @%zu (", esc(label), i);
			for (j = 0; j < dc_image_tag_count(img); j++)
				fprintf(stderr, "%s%s", j ? ", " : "",
					esc(dc_image_tag(img, j)));
			fprintf(stderr, "%s): %zu bad layer%s\n",
				dc_image_tag_count(img) ? "" : esc(dc_image_id(img)),
				nbad, nbad == 1 ? "" : "s");
		}
	}
	if (v->n || c->quiet)
		return;
	for (i = 0; i < dc_set_count(set); i++)
		nl += dc_image_layer_count(dc_set_image(set, i));
	printf("%s: ok: %zu image%s, %zu layer%s verified\n", esc(label),
	       dc_set_count(set), dc_set_count(set) == 1 ? "" : "s", nl,
	       nl == 1 ? "" : "s");
}

static void vres_release(struct vres *v)
{
	size_t k;

	for (k = 0; k < v->n; k++)
		free(v->p[k].msg);
	free(v->p);
	memset(v, 0, sizeof(*v));
}

static const struct option longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, 'p' },
	{ "max-memory", required_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* One source: 0 (ok), EXIT_FAIL (problems) or an exit code. */
static int verify_one(struct cli *c, const char *arg, int json, int several,
		      json_t *out)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct vres v;
	int n, ret = EXIT_OK;

	memset(&v, 0, sizeof(v));
	if (source_open(c, arg, &r) == 0)
		dc_reader_allow_absent(r);	/* reported with the others */
	if (!r || source_load(c, &r, &set) < 0) {
		if (!json)
			return fail(c);
		json_array_append_new(out, source_json(c->src_label, NULL, &v,
						       dc_ctx_errmsg(c->ctx)));
		return dc_ctx_errcode(c->ctx) == DC_EINVAL ? EXIT_USAGE :
		       EXIT_FAIL;
	}
	progress_start(c);
	n = dc_reader_verify_each(r, set, on_blob, &v);
	progress_end(c);
	if (n < 0 || v.nomem) {
		ret = n < 0 ? fail(c) : usage_error("out of memory");
		goto out;
	}
	if (json)
		json_array_append_new(out, source_json(c->src_label, set, &v, NULL));
	else
		source_text(c, c->src_label, set, &v, several);
	ret = v.n ? EXIT_FAIL : EXIT_OK;
out:
	vres_release(&v);
	dc_set_free(set);
	dc_reader_free(r);
	return ret;
}

int cmd_verify(struct cli *c, int argc, char **argv)
{
	json_t *root = NULL, *srcs = NULL;
	int opt, json = 0, ret = EXIT_OK, i, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
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
			return EXIT_OK;
		default:
			return bad_option(argv, opt == ':');
		}
	}
	if (argc - optind < 1)
		return usage_error("verify needs a SRC");
	if (json && (!(root = json_object()) || !(srcs = json_array()))) {
		json_decref(root);
		return usage_error("out of memory");
	}
	for (i = optind; i < argc; i++) {
		r = verify_one(c, argv[i], json, argc - optind > 1, srcs);
		if (r > ret)
			ret = r;
	}
	if (json) {
		char *s;

		json_object_set_new(root, "schema", json_string("decant-verify/1"));
		json_object_set_new(root, "ok", json_boolean(ret == EXIT_OK));
		json_object_set_new(root, "sources", srcs);
		s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			       JSON_ENSURE_ASCII);
		if (!s)
			ret = usage_error("out of memory");
		else
			printf("%s\n", s);
		free(s);
		json_decref(root);
	}
	return ret;
}
