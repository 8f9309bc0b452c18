/*
 * The Docker parts of a docker-archive: manifest.json and repositories
 * (moby image/tarexport/save.go, Docker 25+).
 */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "writers/writers.h"

static json_t *blob_ref(const char *digest)
{
	char p[96];

	dc__blob_name(p, sizeof(p), digest);
	return json_string(p);
}

int dc__docker_manifest_json(struct dc_ctx *ctx, struct dc_buf *out,
			     const struct dc_image *const *img, size_t n)
{
	json_t *arr = json_array();
	size_t i, j;
	int err, bad = 0;

	for (i = 0; i < n; i++) {
		json_t *item = json_object(), *tags, *layers = json_array();

		bad |= json_object_set_new(item, "Config", blob_ref(img[i]->config.digest));
		if (img[i]->ntags) {
			tags = json_array();
			for (j = 0; j < img[i]->ntags; j++)
				bad |= json_array_append_new(tags, json_string(img[i]->tags[j]));
		} else {
			tags = json_null();
		}
		bad |= json_object_set_new(item, "RepoTags", tags);
		for (j = 0; j < img[i]->nlayers; j++)
			bad |= json_array_append_new(layers,
						     blob_ref(img[i]->layers[j].digest));
		bad |= json_object_set_new(item, "Layers", layers);
		bad |= json_array_append_new(arr, item);
	}
	err = bad ? dc__enomem(ctx) : dc__json_dump(ctx, out, arr);
	if (!err)
		err = dc__buf_add(ctx, out, "\n", 1);
	json_decref(arr);
	return err;
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
