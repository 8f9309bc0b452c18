/*
 * The public API of the analysis (include/decant/analyze.h): the report's
 * accessors and the rules, over the structs of analyze.h.
 */
#include "analyze/analyze.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

int dc_analyze(struct dc_reader *r, const struct dc_set *set,
	       struct dc_analysis **out)
{
	return dc__analyze(r, set, out);
}

void dc_analysis_free(struct dc_analysis *a)
{
	dc__analyze_free(a);
}

const char *dc_analysis_format(const struct dc_analysis *a)
{
	return a->format;
}

size_t dc_analysis_count(const struct dc_analysis *a)
{
	return a->n;
}

const struct dc_an_image *dc_analysis_image(const struct dc_analysis *a,
					    size_t i)
{
	return i < a->n ? &a->img[i] : NULL;
}

/* ------------------------------------------------------------------ */

const char *dc_an_image_id(const struct dc_an_image *img)
{
	return img->id;
}

size_t dc_an_image_tag_count(const struct dc_an_image *img)
{
	return img->ntags;
}

const char *dc_an_image_tag(const struct dc_an_image *img, size_t i)
{
	return i < img->ntags ? img->tags[i] : NULL;
}

double dc_an_image_efficiency(const struct dc_an_image *img)
{
	return img->efficiency;
}

uint64_t dc_an_image_wasted_bytes(const struct dc_an_image *img)
{
	return img->wasted_bytes;
}

uint64_t dc_an_image_size_bytes(const struct dc_an_image *img)
{
	return img->size_bytes;
}

uint64_t dc_an_image_user_size_bytes(const struct dc_an_image *img)
{
	return img->user_size_bytes;
}

double dc_an_image_user_wasted(const struct dc_an_image *img)
{
	return img->user_wasted_percent;
}

void dc_an_image_hidden(const struct dc_an_image *img, uint64_t *files,
			uint64_t *bytes)
{
	*files = img->hidden_files;
	*bytes = img->hidden_bytes;
}

void dc_an_image_duplicates(const struct dc_an_image *img, size_t *groups,
			    uint64_t *bytes)
{
	*groups = img->ndups;
	*bytes = img->dup_bytes;
}

int dc_an_image_squash(const struct dc_an_image *img, uint64_t *layers,
		       uint64_t *squashed)
{
	*layers = img->layers_tar_bytes;
	*squashed = img->squash_tar_bytes;
	return img->squash_exact;
}

size_t dc_an_image_layer_count(const struct dc_an_image *img)
{
	return img->nlayers;
}

const struct dc_an_layer *dc_an_image_layer(const struct dc_an_image *img,
					    size_t i)
{
	return i < img->nlayers ? &img->layers[i] : NULL;
}

size_t dc_an_image_waste_count(const struct dc_an_image *img)
{
	return img->nwaste;
}

void dc_an_image_waste(const struct dc_an_image *img, size_t i,
		       const char **path, uint32_t *count, uint64_t *bytes)
{
	*path = img->waste[i].path;
	*count = img->waste[i].count;
	*bytes = (uint64_t)img->waste[i].bytes;
}

size_t dc_an_image_entry_count(const struct dc_an_image *img)
{
	return img->nent;
}

const struct dc_an_entry *dc_an_image_entry(const struct dc_an_image *img,
					    size_t i)
{
	return i < img->nent ? &img->ent[i] : NULL;
}

size_t dc_an_image_secret_count(const struct dc_an_image *img)
{
	return img->nsecrets;
}

const struct dc_an_secret *dc_an_image_secret(const struct dc_an_image *img,
					      size_t i)
{
	return i < img->nsecrets ? &img->secrets[i] : NULL;
}

/* ------------------------------------------------------------------ */

const char *dc_an_layer_digest(const struct dc_an_layer *ly)
{
	return ly->digest;
}

const char *dc_an_layer_created_by(const struct dc_an_layer *ly)
{
	return ly->created_by;
}

int64_t dc_an_layer_compressed(const struct dc_an_layer *ly)
{
	return ly->compressed;
}

int64_t dc_an_layer_tar_bytes(const struct dc_an_layer *ly)
{
	return ly->tar_bytes;
}

void dc_an_layer_changes(const struct dc_an_layer *ly, enum dc_an_change what,
			 uint64_t *files, uint64_t *bytes)
{
	switch (what) {
	case DC_AN_ADDED:
		*files = ly->added_files;
		*bytes = ly->added_bytes;
		break;
	case DC_AN_MODIFIED:
		*files = ly->modified_files;
		*bytes = ly->modified_bytes;
		break;
	case DC_AN_REMOVED:
		*files = ly->removed_files;
		*bytes = ly->removed_bytes;
		break;
	case DC_AN_HIDDEN_LATER:
		*files = ly->hidden_files;
		*bytes = ly->hidden_bytes;
		break;
	default:
		*files = *bytes = 0;
	}
}

/* ------------------------------------------------------------------ */

const char *dc_an_entry_path(const struct dc_an_entry *e)
{
	return e->path;
}

char dc_an_entry_type(const struct dc_an_entry *e)
{
	return (char)e->type;
}

int dc_an_entry_layer(const struct dc_an_entry *e)
{
	return e->layer;
}

int64_t dc_an_entry_size(const struct dc_an_entry *e)
{
	return e->size;
}

enum dc_an_fate dc_an_entry_fate(const struct dc_an_entry *e)
{
	return (enum dc_an_fate)e->fate;
}

int dc_an_entry_hidden_by(const struct dc_an_entry *e)
{
	return e->hidden_by;
}

/* ------------------------------------------------------------------ */

const char *dc_an_secret_kind(const struct dc_an_secret *s)
{
	return s->kind;
}

const char *dc_an_secret_where(const struct dc_an_secret *s)
{
	static const char *const wheres[] = { "file", "env", "label",
					      "history" };

	return wheres[s->where];
}

int dc_an_secret_layer(const struct dc_an_secret *s)
{
	return s->layer;
}

const char *dc_an_secret_path(const struct dc_an_secret *s)
{
	return s->path;
}

int dc_an_secret_visible(const struct dc_an_secret *s)
{
	return s->visible;
}

const char *dc_an_secret_redacted(const struct dc_an_secret *s)
{
	return s->redacted;
}

/* ------------------------------------------------------------------ */

int dc_an_rules_new(struct dc_ctx *ctx, struct dc_an_rules **out)
{
	return (*out = dc__calloc(ctx, 1, sizeof(**out))) ? 0 : DC_ENOMEM;
}

void dc_an_rules_free(struct dc_an_rules *r)
{
	free(r);
}

int dc_an_rules_parse(struct dc_ctx *ctx, struct dc_an_rules *r,
		      const char *spec)
{
	return dc__an_rules_parse(ctx, r, spec);
}

int dc_an_rules_file(struct dc_ctx *ctx, struct dc_an_rules *r,
		     const char *path)
{
	return dc__an_rules_file(ctx, r, path);
}

int dc_an_rules_check(const struct dc_an_rules *r,
		      const struct dc_an_image *img, dc_an_verdict_fn fn,
		      void *arg)
{
	int n, failed = 0;

	for (n = 0; n < AN_NRULES; n++) {
		char msg[256] = "";
		int f;

		if (!r->set[n])
			continue;
		f = dc__an_rule_eval(r, n, img, msg, sizeof(msg));
		failed += f;
		if (fn)
			fn(arg, dc__an_rule_names[n], r->text[n], f,
			   f ? msg : NULL);
	}
	return failed;
}
