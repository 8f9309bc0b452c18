/*
 * The analysis as JSON (schemaVersion 1, described in decant.1) and as
 * one self-contained HTML page: the same JSON inside, drawn by inline
 * script (an SVG chart of the layers, a tree per layer), no network.
 */
#include "analyze/analyze.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const char *type_name(int t)
{
	switch (t) {
	case AN_FILE: return "file";
	case AN_DIR: return "dir";
	case AN_SYMLINK: return "symlink";
	case AN_HARDLINK: return "hardlink";
	case AN_WHITEOUT: return "whiteout";
	case AN_OPAQUE: return "opaque";
	}
	return "other";
}

static const char *const fates[] = { "visible", "overwritten", "deleted" };
static const char *const wheres[] = { "file", "env", "label", "history" };

static json_t *jpath(const char *p)
{
	json_t *j;
	char *s = malloc(strlen(p) + 2);

	if (!s)
		return NULL;
	s[0] = '/';
	memcpy(s + 1, p, strlen(p) + 1);
	j = json_string(s);
	free(s);
	return j;
}

/* "xxh3-128:<32 hex digits>": a content hash, not a digest */
static json_t *jhash(const unsigned char *d)
{
	char s[9 + 32 + 1];
	size_t i;

	memcpy(s, "xxh3-128:", 9);
	for (i = 0; i < 16; i++) {
		s[9 + 2 * i] = "0123456789abcdef"[d[i] >> 4];
		s[10 + 2 * i] = "0123456789abcdef"[d[i] & 15];
	}
	s[41] = '\0';
	return json_string(s);
}

static json_t *jfraction(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *fb(uint64_t files, uint64_t bytes)
{
	return json_pack("{sIsI}", "files", (json_int_t)files, "bytes",
			 (json_int_t)bytes);
}

json_t *dc__analyze_entry_json(const struct dc_an_entry *e, int full)
{
	json_t *o = json_object();

	json_object_set_new(o, "layer", json_integer(e->layer));
	json_object_set_new(o, "path", jpath(e->path));
	json_object_set_new(o, "type", json_string(type_name(e->type)));
	json_object_set_new(o, "size", json_integer(e->size));
	if (full && e->has_hash)
		json_object_set_new(o, "contentHash", jhash(e->hash));
	if (full && e->link)
		json_object_set_new(o, "linkTarget", jpath(e->link));
	json_object_set_new(o, "fate", json_string(fates[e->fate]));
	json_object_set_new(o, "hiddenBy", e->hidden_by < 0 ? json_null() :
			    json_integer(e->hidden_by));
	return o;
}

static json_t *layer_json(const struct dc_an_layer *ly, size_t i)
{
	json_t *o = json_object();

	json_object_set_new(o, "index", json_integer((json_int_t)i));
	json_object_set_new(o, "digest", json_string(ly->digest));
	json_object_set_new(o, "createdBy", ly->created_by ?
			    json_string(ly->created_by) : json_null());
	json_object_set_new(o, "compressedSize", json_integer(ly->compressed));
	json_object_set_new(o, "uncompressedSize", json_integer(ly->tar_bytes));
	json_object_set_new(o, "sizeBytes", json_integer(ly->size_bytes));
	json_object_set_new(o, "entries", json_integer((json_int_t)ly->entries));
	json_object_set_new(o, "added", fb(ly->added_files, ly->added_bytes));
	json_object_set_new(o, "modified", fb(ly->modified_files,
					      ly->modified_bytes));
	json_object_set_new(o, "removed", fb(ly->removed_files,
					     ly->removed_bytes));
	json_object_set_new(o, "hiddenLater", json_pack("{sIsIsI}",
		"files", (json_int_t)ly->hidden_files,
		"bytes", (json_int_t)ly->hidden_bytes,
		"compressedEstimate", (json_int_t)ly->hidden_compressed));
	return o;
}

struct verdicts {
	json_t *a;
	size_t image;
};

static void verdict_json(void *arg, const char *rule, const char *threshold,
			 int failed, const char *msg)
{
	struct verdicts *v = arg;
	json_t *o = json_pack("{sssssssi}", "rule", rule, "threshold",
			      threshold, "status", failed ? "fail" : "pass",
			      "image", (int)v->image);

	if (msg)
		json_object_set_new(o, "message", json_string(msg));
	json_array_append_new(v->a, o);
}

/* The verdicts of RULES on image I. */
static json_t *rules_json(const struct dc_an_rules *rules,
			  const struct dc_an_image *img, size_t i)
{
	struct verdicts v = { json_array(), i };

	dc_an_rules_check(rules, img, verdict_json, &v);
	return v.a;
}

static json_t *image_json(const struct dc_an_image *img, size_t ii,
			  const struct dc_an_rules *rules, int files)
{
	json_t *o = json_object(), *a;
	size_t i, j;

	json_object_set_new(o, "id", json_string(img->id));
	a = json_array();
	for (i = 0; i < img->ntags; i++)
		json_array_append_new(a, json_string(img->tags[i]));
	json_object_set_new(o, "tags", a);
	json_object_set_new(o, "efficiency", jfraction(img->efficiency));
	json_object_set_new(o, "sizeBytes", json_integer((json_int_t)img->size_bytes));
	json_object_set_new(o, "userSizeBytes",
			    json_integer((json_int_t)img->user_size_bytes));
	json_object_set_new(o, "wastedBytes",
			    json_integer((json_int_t)img->wasted_bytes));
	json_object_set_new(o, "userWastedPercent",
			    jfraction(img->user_wasted_percent));
	json_object_set_new(o, "hiddenFiles", json_integer((json_int_t)img->hidden_files));
	json_object_set_new(o, "hiddenBytes", json_integer((json_int_t)img->hidden_bytes));
	json_object_set_new(o, "duplicateBytes", json_integer((json_int_t)img->dup_bytes));
	json_object_set_new(o, "squash", json_pack("{sIsIsIsb}",
		"layersTarBytes", (json_int_t)img->layers_tar_bytes,
		"squashedTarBytes", (json_int_t)img->squash_tar_bytes,
		"savedBytes", (json_int_t)img->layers_tar_bytes -
			      (json_int_t)img->squash_tar_bytes,
		"exact", img->squash_exact));
	a = json_array();
	for (i = 0; i < img->nlayers; i++)
		json_array_append_new(a, layer_json(&img->layers[i], i));
	json_object_set_new(o, "layers", a);
	a = json_array();
	for (i = 0; i < img->nwaste; i++)
		json_array_append_new(a, json_pack("{sssIsI}",
			"file", img->waste[i].path,
			"count", (json_int_t)img->waste[i].count,
			"sizeBytes", (json_int_t)img->waste[i].bytes));
	json_object_set_new(o, "inefficiencies", a);
	a = json_array();
	for (i = 0; i < img->nent; i++) {
		const struct dc_an_entry *e = &img->ent[i];

		if (e->fate != AN_VISIBLE && e->type != AN_DIR &&
		    e->type != AN_WHITEOUT && e->type != AN_OPAQUE)
			json_array_append_new(a, dc__analyze_entry_json(e, 0));
	}
	json_object_set_new(o, "hidden", a);
	a = json_array();
	for (i = 0; i < img->ndups; i++) {
		const struct dc_an_dup *d = &img->dups[i];
		json_t *c = json_array(), *x = json_object();

		for (j = 0; j < d->n; j++) {
			const struct dc_an_entry *e = &img->ent[img->eidx[d->first + j]];

			json_array_append_new(c, json_pack("{sIso}", "layer",
				(json_int_t)e->layer, "path", jpath(e->path)));
		}
		json_object_set_new(x, "contentHash", jhash(d->hash));
		json_object_set_new(x, "size", json_integer(d->size));
		json_object_set_new(x, "count", json_integer((json_int_t)d->n));
		json_object_set_new(x, "wastedBytes",
				    json_integer(d->size * (json_int_t)(d->n - 1)));
		json_object_set_new(x, "copies", c);
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "duplicates", a);
	a = json_array();
	for (i = 0; i < img->nsecrets; i++) {
		const struct dc_an_secret *s = &img->secrets[i];

		json_array_append_new(a, json_pack("{sssssosssbss}",
			"kind", s->kind, "where", wheres[s->where],
			"layer", s->layer < 0 ? json_null() : json_integer(s->layer),
			"path", s->path, "visible", s->visible,
			"redacted", s->redacted));
	}
	json_object_set_new(o, "secrets", a);
	if (rules)
		json_object_set_new(o, "rules", rules_json(rules, img, ii));
	if (files) {
		a = json_array();
		for (i = 0; i < img->nent; i++)
			json_array_append_new(a, dc__analyze_entry_json(&img->ent[i], 1));
		json_object_set_new(o, "files", a);
	}
	return o;
}

int dc__analyze_json(struct dc_ctx *ctx, const struct dc_analysis *rep,
		     const struct dc_an_rules *rules, int files, json_t **out)
{
	json_t *o, *a;
	size_t i;

	/* jansson says nothing when it drops a member for lack of memory:
	 * its allocations are watched instead (dc__json_oom_take) */
	dc__json_oom_take();
	o = json_object();
	a = json_array();
	if (!o || !a) {
		json_decref(o);
		json_decref(a);
		return dc__enomem(ctx);
	}
	json_object_set_new(o, "schemaVersion", json_integer(1));
	json_object_set_new(o, "format", json_string(rep->format));
	for (i = 0; i < rep->n; i++)
		json_array_append_new(a, image_json(&rep->img[i], i, rules,
						    files));
	json_object_set_new(o, "images", a);
	if (dc__json_oom_take()) {
		json_decref(o);
		return dc__enomem(ctx);
	}
	*out = o;
	return 0;
}

#include "analyze/page.h"

/* Append J to OUT, compact, "/" escaped: "</script>" cannot appear. */
static int add_json(struct dc_ctx *ctx, struct dc_buf *out, json_t *j)
{
	char *s;
	int err;

	if (!j || !(s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER |
				   JSON_ESCAPE_SLASH | JSON_ENCODE_ANY))) {
		json_decref(j);
		return dc__enomem(ctx);
	}
	err = dc__buf_addstr(ctx, out, s);
	free(s);
	json_decref(j);
	return err;
}

/*
 * The report with every entry (what the page's trees show), written an
 * entry at a time: a JSON tree of them all would take ten times the
 * bytes of its text.
 */
int dc__analyze_html(struct dc_ctx *ctx, const struct dc_analysis *rep,
		     struct dc_buf *out)
{
	size_t i, k;
	int err;

	if ((err = dc__buf_addstr(ctx, out, page_head)) < 0 ||
	    (err = dc__buf_addstr(ctx, out, "{\"schemaVersion\":1,\"format\":")) < 0 ||
	    (err = add_json(ctx, out, json_string(rep->format))) < 0 ||
	    (err = dc__buf_addstr(ctx, out, ",\"images\":[")) < 0)
		return err;
	for (i = 0; i < rep->n; i++) {
		const struct dc_an_image *img = &rep->img[i];

		if ((i && (err = dc__buf_addstr(ctx, out, ",")) < 0) ||
		    (err = add_json(ctx, out, image_json(img, i, NULL, 0))) < 0)
			return err;
		/* the object reopened for its files */
		out->data[--out->len] = '\0';
		if ((err = dc__buf_addstr(ctx, out, ",\"files\":[")) < 0)
			return err;
		for (k = 0; k < img->nent; k++)
			if ((k && (err = dc__buf_addstr(ctx, out, ",")) < 0) ||
			    (err = add_json(ctx, out,
				dc__analyze_entry_json(&img->ent[k], 1))) < 0)
				return err;
		if ((err = dc__buf_addstr(ctx, out, "]}")) < 0)
			return err;
	}
	if ((err = dc__buf_addstr(ctx, out, "]}")) < 0 ||
	    (err = dc__buf_addstr(ctx, out, page_tail)) < 0)
		return err;
	return 0;
}

/* Bytes to FN; a refusal is DC_EIO. */
static int put(struct dc_ctx *ctx, dc_an_write_fn fn, void *arg,
	       const char *p, size_t n)
{
	if (fn(arg, p, n) < 0)
		return dc_error(ctx, DC_EIO, "writing the report failed");
	return 0;
}

static int puts_(struct dc_ctx *ctx, dc_an_write_fn fn, void *arg,
		 const char *s)
{
	return put(ctx, fn, arg, s, strlen(s));
}

/* S (then freed; NULL: out of memory), up to its closing brace with
 * OPEN (the object reopened for more members). */
static int put_str(struct dc_ctx *ctx, dc_an_write_fn fn, void *arg, char *s,
		   int open)
{
	const char *end;
	int err;

	if (!s)
		return dc__enomem(ctx);
	end = open ? strrchr(s, '}') : NULL;
	err = put(ctx, fn, arg, s, end ? (size_t)(end - s) : strlen(s));
	free(s);
	return err;
}

#define DUMP (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

/*
 * J (the report without files) with every image's entries, printed an
 * entry at a time: a JSON tree of them all would take ten times the
 * bytes of its text.
 */
static int json_files(struct dc_ctx *ctx, const struct dc_analysis *rep,
		      json_t *j, dc_an_write_fn fn, void *arg)
{
	json_t *imgs = json_incref(json_object_get(j, "images"));
	size_t i, k;
	int err;

	json_object_del(j, "images");
	if ((err = put_str(ctx, fn, arg, json_dumps(j, DUMP), 1)) < 0 ||
	    (err = puts_(ctx, fn, arg, ",\n  \"images\": [\n")) < 0)
		goto out;
	for (i = 0; i < rep->n; i++) {
		const struct dc_an_image *img = &rep->img[i];

		if ((err = put_str(ctx, fn, arg,
				   json_dumps(json_array_get(imgs, i), DUMP),
				   1)) < 0 ||
		    (err = puts_(ctx, fn, arg, ",\n  \"files\": [\n")) < 0)
			goto out;
		for (k = 0; k < img->nent; k++) {
			json_t *e = dc__analyze_entry_json(&img->ent[k], 1);
			char *s = e ? json_dumps(e, JSON_COMPACT |
						 JSON_PRESERVE_ORDER) : NULL;

			json_decref(e);
			if ((err = puts_(ctx, fn, arg, "    ")) < 0 ||
			    (err = put_str(ctx, fn, arg, s, 0)) < 0 ||
			    (err = puts_(ctx, fn, arg, k + 1 < img->nent ?
					 ",\n" : "\n")) < 0)
				goto out;
		}
		if ((err = puts_(ctx, fn, arg, i + 1 < rep->n ? "  ]\n},\n" :
				 "  ]\n}\n")) < 0)
			goto out;
	}
	err = puts_(ctx, fn, arg, "]\n}\n");
out:
	json_decref(imgs);
	return err;
}

int dc_analysis_json(struct dc_ctx *ctx, const struct dc_analysis *a,
		     const struct dc_an_rules *rules, unsigned flags,
		     dc_an_write_fn fn, void *arg)
{
	json_t *j = NULL;
	int err;

	if ((err = dc__analyze_json(ctx, a, rules, 0, &j)) < 0)
		return err;
	if (flags & DC_AN_JSON_FILES)
		err = json_files(ctx, a, j, fn, arg);
	else if ((err = put_str(ctx, fn, arg, json_dumps(j, DUMP), 0)) >= 0)
		err = puts_(ctx, fn, arg, "\n");
	json_decref(j);
	return err;
}

int dc_analysis_html(struct dc_ctx *ctx, const struct dc_analysis *a,
		     dc_an_write_fn fn, void *arg)
{
	struct dc_buf b = DC_BUF_INIT;
	int err;

	if ((err = dc__analyze_html(ctx, a, &b)) >= 0)
		err = put(ctx, fn, arg, b.data, b.len);
	dc__buf_release(&b);
	return err;
}
