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

struct badpart {
	char *part;
	char *msg;
};

struct vres {
	struct problem *p;
	size_t n;
	/* a delta's record: what it left out is not a problem */
	const struct dc_inventory *delta;
	size_t nleft;
	struct badpart *bp;	/* parts of a split set that do not match */
	size_t nbp;
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
	if (v->delta && dc_inventory_has(v->delta, dc_desc_digest(d)) &&
	    code == DC_ECORRUPT) {
		v->nblobs--;
		v->nleft++;
		return;
	}
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

static void on_part(void *arg, const char *part, const char *msg)
{
	struct vres *v = arg;
	struct badpart *p = realloc(v->bp, (v->nbp + 1) * sizeof(*p));

	if (!p) {
		v->nomem = 1;
		return;
	}
	v->bp = p;
	p[v->nbp].part = strdup(part);
	p[v->nbp].msg = strdup(msg);
	if (!p[v->nbp].part || !p[v->nbp].msg) {
		free(p[v->nbp].part);
		free(p[v->nbp].msg);
		v->nomem = 1;
		return;
	}
	v->nbp++;
}

/* Does a bad part hold any of IMG's bytes? */
static int in_part(struct dc_reader *r, const struct dc_image *img,
		   const char *part)
{
	size_t j;

	if (dc_reader_blob_in_part(r, dc_image_manifest(img), part) ||
	    dc_reader_blob_in_part(r, dc_image_config(img), part))
		return 1;
	for (j = 0; j < dc_image_layer_count(img); j++)
		if (dc_reader_blob_in_part(r, dc_image_layer(img, j), part))
			return 1;
	return 0;
}

/* The bad parts, each with the images it breaks (R and SET NULL when
 * the source did not load). */
static void parts_text(struct dc_reader *r, const struct dc_set *set,
		       const struct vres *v)
{
	size_t k, i, n;

	for (k = 0; k < v->nbp; k++) {
		fprintf(stderr, "decant: error: '%s': %s", esc(v->bp[k].part),
			esc(v->bp[k].msg));
		for (i = n = 0; set && i < dc_set_count(set); i++) {
			const struct dc_image *img = dc_set_image(set, i);

			if (!in_part(r, img, v->bp[k].part))
				continue;
			fprintf(stderr, "%s@%zu %s", n++ ? ", " : "; it breaks image ",
				i, dc_image_tag_count(img) ?
				esc(dc_image_tag(img, 0)) : esc(dc_image_id(img)));
		}
		fputc('\n', stderr);
	}
}

static json_t *parts_json(struct dc_reader *r, const struct dc_set *set,
			  const struct vres *v)
{
	json_t *a = json_array();
	size_t k, i;

	for (k = 0; k < v->nbp; k++) {
		json_t *o = json_object(), *in = json_array();

		json_object_set_new(o, "part", json_string(v->bp[k].part));
		json_object_set_new(o, "message", json_string(v->bp[k].msg));
		for (i = 0; set && i < dc_set_count(set); i++)
			if (in_part(r, dc_set_image(set, i), v->bp[k].part))
				json_array_append_new(in, json_integer((json_int_t)i));
		json_object_set_new(o, "images", in);
		json_array_append_new(a, o);
	}
	return a;
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
	json_object_set_new(o, "left_out", json_integer((json_int_t)v->nleft));
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
	if (v->nleft) {
		printf("%s: ok: a delta: %zu image%s, %zu layer%s verified, %zu left out\n",
		       esc(label), dc_set_count(set),
		       dc_set_count(set) == 1 ? "" : "s", v->nblobs,
		       v->nblobs == 1 ? "" : "s", v->nleft);
		return;
	}
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
	for (k = 0; k < v->nbp; k++) {
		free(v->bp[k].part);
		free(v->bp[k].msg);
	}
	free(v->bp);
	memset(v, 0, sizeof(*v));
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

/* The parts of a split set at PATH against its .sha256, into V (the
 * context's error stays as it is unless checking fails: <0). */
static int check_parts(struct cli *c, const char *path, struct vres *v)
{
	int n = dc_split_check(c->ctx, path, on_part, v);

	return n < 0 ? n : 0;
}

/* One source: 0 (ok), EXIT_FAIL (problems) or an exit code. */
static int verify_one(struct cli *c, const char *arg, int json, int several,
		      json_t *out)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_inventory *delta = NULL;
	struct imgarg va;
	const char *path;
	json_t *o;
	struct vres v;
	int n, ret = EXIT_OK;

	memset(&v, 0, sizeof(v));
	if ((ret = parse_src(arg, &va)) != 0)
		return ret;
	path = va.path;
	if (source_open(c, arg, &r) == 0) {
		dc_reader_allow_absent(r);	/* reported with the others */
		if (dc_reader_delta(r, &delta) < 0) {
			ret = fail(c);
			goto out;
		}
		v.delta = delta;
	}
	if (!r || source_load(c, &r, &set) < 0) {
		ret = dc_ctx_errcode(c->ctx) == DC_EINVAL ? EXIT_USAGE : EXIT_FAIL;
		/* a split set: which parts are bad (keeping the error) */
		if (check_parts(c, path, &v) < 0) {
			ret = fail(c);
			goto out;
		}
		if (!json) {
			parts_text(NULL, NULL, &v);
			fail(c);
			goto out;
		}
		o = source_json(c->src_label, NULL, &v, dc_ctx_errmsg(c->ctx));
		json_object_set_new(o, "parts", parts_json(NULL, NULL, &v));
		json_array_append_new(out, o);
		goto out;
	}
	progress_start(c);
	n = dc_reader_verify_each(r, set, on_blob, &v);
	progress_end(c);
	if (n < 0 || v.nomem) {
		ret = n < 0 ? fail(c) : usage_error("out of memory");
		goto out;
	}
	/* a split set with bad blobs: which parts are bad. (When every blob
	 * is good the parts are not read again: sha256sum -c does that.) */
	if (v.n && (check_parts(c, path, &v) < 0 || v.nomem)) {
		ret = v.nomem ? usage_error("out of memory") : fail(c);
		goto out;
	}
	if (json) {
		o = source_json(c->src_label, set, &v, NULL);
		json_object_set_new(o, "parts", parts_json(r, set, &v));
		if (v.nbp)
			json_object_set_new(o, "ok", json_false());
		json_array_append_new(out, o);
	} else {
		if (v.nbp && !v.n)
			c->quiet++;	/* no "ok" line for a set with bad parts */
		source_text(c, c->src_label, set, &v, several);
		if (v.nbp && !v.n)
			c->quiet--;
		parts_text(r, set, &v);
	}
	ret = v.n || v.nbp ? EXIT_FAIL : EXIT_OK;
out:
	arg_release(&va);
	vres_release(&v);
	dc_inventory_free(delta);
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
			if ((ret = opt_registry(c, opt, optarg)) == 0)
				break;
			return ret == 1 ? bad_option(argv, opt == ':') : ret;
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
