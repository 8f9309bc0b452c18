/*
 * The Docker parts of a docker-archive: manifest.json and repositories
 * (moby image/tarexport/save.go, Docker 25+).
 */

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "writers/writers.h"

/*
 * manifest.json, written as text: an image of tens of thousands of
 * layers would otherwise be that many jansson nodes (issue 17's
 * hostile row). The bytes are those of jansson's compact dump.
 */
int dc__docker_manifest_names(struct dc_ctx *ctx, struct dc_buf *out,
			      const struct dc_image *const *img, size_t n,
			      dc_docker_name_fn *name, void *arg)
{
	char p[128];
	size_t i, j, k = 0;
	int err = dc__buf_add(ctx, out, "[", 1);

	for (i = 0; i < n && !err; i++) {
		name(arg, img[i], SIZE_MAX, k, p, sizeof(p));
		if ((err = dc__buf_addstr(ctx, out, i ? ",{\"Config\":" :
					  "{\"Config\":")) < 0 ||
		    (err = dc__json_add_str(ctx, out, p)) < 0 ||
		    (err = dc__buf_addstr(ctx, out, ",\"RepoTags\":")) < 0)
			break;
		if (!img[i]->ntags)
			err = dc__buf_addstr(ctx, out, "null");
		for (j = 0; j < img[i]->ntags && !err; j++)
			if ((err = dc__buf_add(ctx, out, j ? "," : "[", 1)) == 0)
				err = dc__json_add_str(ctx, out, img[i]->tags[j]);
		if (!err && img[i]->ntags)
			err = dc__buf_add(ctx, out, "]", 1);
		if (!err)
			err = dc__buf_addstr(ctx, out, ",\"Layers\":[");
		for (j = 0; j < img[i]->nlayers && !err; j++, k++) {
			name(arg, img[i], j, k, p, sizeof(p));
			if (!j || (err = dc__buf_add(ctx, out, ",", 1)) == 0)
				err = dc__json_add_str(ctx, out, p);
		}
		if (!err)
			err = dc__buf_addstr(ctx, out, "]}");
	}
	if (!err)
		err = dc__buf_addstr(ctx, out, "]\n");
	return err;
}

static void blob_names(void *arg, const struct dc_image *img, size_t j,
		       size_t k, char *buf, size_t n)
{
	(void)arg;
	(void)k;
	dc__blob_name(buf, n, j == SIZE_MAX ? img->config.digest :
			      img->layers[j].digest);
}

int dc__docker_manifest_json(struct dc_ctx *ctx, struct dc_buf *out,
			     const struct dc_image *const *img, size_t n)
{
	return dc__docker_manifest_names(ctx, out, img, n, blob_names, NULL);
}

int dc__docker_repositories(struct dc_ctx *ctx, struct dc_buf *out,
			    const struct dc_image *const *img, size_t n)
{
	json_t *repos = json_object();
	size_t i, j;
	int err = 0, any = 0;

	for (i = 0; i < n; i++) {
		const char *top;

		if (!img[i]->nlayers)
			continue;
		top = dc__digest_hex(img[i]->layers[img[i]->nlayers - 1].diff_id);
		for (j = 0; j < img[i]->ntags; j++) {
			const char *t = img[i]->tags[j];
			const char *colon = strrchr(t, ':');
			char *name;
			json_t *r;

			if (!colon || strchr(colon, '/'))
				continue;
			if (!(name = dc__calloc(ctx, 1, (size_t)(colon - t) + 1))) {
				err = DC_ENOMEM;
				goto out;
			}
			memcpy(name, t, (size_t)(colon - t));
			r = json_object_get(repos, name);
			if (!r && json_object_set_new(repos, name, r = json_object()))
				r = NULL;	/* freed */
			if (!r || json_object_set_new(r, colon + 1, json_string(top))) {
				free(name);
				err = dc__enomem(ctx);
				goto out;
			}
			free(name);
			any = 1;
		}
	}
	if (any) {
		err = dc__json_dump(ctx, out, repos);
		if (!err)
			err = dc__buf_add(ctx, out, "\n", 1);
	}
out:
	json_decref(repos);
	return err;
}
