/*
 * Names in an OCI layout's index.json (src/writers/oci_layout.c): oci
 * and oci-archive give each tag its whole reference in ref.name,
 * docker-archive the bare tag as Docker does; a source's own ref.name
 * comes back as it was.
 */
#include "unit.h"

#include <jansson.h>

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const struct {
	const char *tag;	/* NULL: untagged */
	const char *src_ref;	/* the source's whole-reference ref.name */
	const char *ref_name;	/* the source's ref.name that is none */
	int full;
	const char *want_ref, *want_cd;	/* "-": absent */
} name_rows[] = {
	{ "busybox:latest", NULL, NULL, 1, "docker.io/library/busybox:latest", "docker.io/library/busybox:latest" },
	{ "busybox:latest", NULL, NULL, 0, "latest", "docker.io/library/busybox:latest" },
	{ "ux/app:1", NULL, NULL, 1, "docker.io/ux/app:1", "docker.io/ux/app:1" },
	{ "localhost/corpus/a:1.0", "localhost/corpus/a:1.0", NULL, 1, "localhost/corpus/a:1.0", "localhost/corpus/a:1.0" },
	{ "busybox:latest", "busybox:latest", NULL, 1, "busybox:latest", "docker.io/library/busybox:latest" },
	{ "busybox:latest", "docker.io/library/busybox:latest", NULL, 1, "docker.io/library/busybox:latest", "docker.io/library/busybox:latest" },
	{ "busybox:latest", "alpine:3", NULL, 1, "docker.io/library/busybox:latest", "docker.io/library/busybox:latest" },
	{ NULL, NULL, "1.0", 1, "1.0", "-" },
	{ NULL, NULL, "1.0", 0, "1.0", "-" },
	{ NULL, NULL, NULL, 1, "-", "-" },
};

static const char *ann(json_t *idx, size_t i, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(
		json_array_get(json_object_get(idx, "manifests"), i),
		"annotations"), key));

	return s ? s : "-";
}

static int index_of(struct dc_ctx *ctx, struct dc_image **img, size_t n,
		    int full, json_t **out)
{
	struct dc_writer w;
	struct dc_buf b = DC_BUF_INIT;
	int err;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.images = (const struct dc_image *const *)img;
	w.nimages = n;
	*out = NULL;
	if ((err = dc__oci_index_json(ctx, &b, &w, full)) == 0)
		err = dc__json_parse(ctx, out, &b, "index.json");
	dc__buf_release(&b);
	return err;
}

static struct dc_image *image(struct dc_ctx *ctx, const char *digest)
{
	struct dc_image *img = NULL;

	if (dc__image_new(ctx, &img) < 0)
		return NULL;
	img->manifest.media_type = strdup("application/vnd.oci.image.manifest.v1+json");
	memcpy(img->manifest.digest, digest, strlen(digest) + 1);
	img->manifest.size = 10;
	return img;
}

TEST(oci_index_names)
{
	struct dc_ctx *ctx = unit_ctx();
	size_t i;

	for (i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++) {
		struct dc_image *img = image(ctx, DA);
		json_t *idx = NULL;

		UNIT_CASE("%zu", i);
		REQUIRE(img);
		if (name_rows[i].tag)
			CHECK_OK(dc__image_add_tag(ctx, img, name_rows[i].tag));
		if (name_rows[i].src_ref)
			CHECK_OK(dc__tags_add(ctx, &img->src_refs, &img->nsrc_refs,
					      name_rows[i].src_ref));
		if (name_rows[i].ref_name)
			img->ref_name = strdup(name_rows[i].ref_name);
		CHECK_OK(index_of(ctx, &img, 1, name_rows[i].full, &idx));
		CHECK_STR(ann(idx, 0, "org.opencontainers.image.ref.name"),
			  name_rows[i].want_ref);
		CHECK_STR(ann(idx, 0, "io.containerd.image.name"),
			  name_rows[i].want_cd);
		json_decref(idx);
		dc__image_free(img);
	}
}

/* two images under one name cannot both be addressed by it */
TEST(oci_index_names_unique)
{
	struct dc_ctx *ctx = unit_ctx();
	struct dc_image *img[2] = { image(ctx, DA), image(ctx, DB) };
	json_t *idx = NULL;

	REQUIRE(img[0] && img[1]);
	CHECK_OK(dc__image_add_tag(ctx, img[0], "ux/app:1"));
	CHECK_OK(dc__image_add_tag(ctx, img[1], "ux/flat:1"));
	CHECK_OK(index_of(ctx, img, 2, 1, &idx));
	CHECK_EQ_INT(json_array_size(json_object_get(idx, "manifests")), 2);
	json_decref(idx);
	/* Docker's bare tags may repeat; whole references may not */
	CHECK_OK(dc__image_add_tag(ctx, img[1], "docker.io/ux/app:1"));
	CHECK_OK(index_of(ctx, img, 2, 0, &idx));
	json_decref(idx);
	CHECK_ERR(index_of(ctx, img, 2, 1, &idx), DC_EINVAL);
	dc__image_free(img[0]);
	dc__image_free(img[1]);
}
