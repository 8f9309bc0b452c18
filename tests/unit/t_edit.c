/*
 * Config edits on any image (src/transform/edit.c): only what changes
 * changes, in place; the digests follow.
 */
#include "unit.h"

#include <string.h>

#define CFG "{\"created\":\"2020-01-01T00:00:00Z\",\"architecture\":\"amd64\"," \
	"\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"]}," \
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"x-extra\":1}"

/* A set of one image with config CFG and no layers. */
static struct dc_set *one_image(void)
{
	struct dc_ctx *ctx = unit_ctx();
	struct dc_set *set = NULL;
	struct dc_image *img = NULL;

	if (dc__set_new(ctx, &set, "oci") < 0 || dc__image_new(ctx, &img) < 0 ||
	    dc__buf_addstr(ctx, &img->config_raw, CFG) < 0)
		return NULL;
	dc__sha256_digest(img->config_raw.data, img->config_raw.len,
			  img->config.digest);
	img->config.size = (int64_t)img->config_raw.len;
	if (dc__image_synth_manifest(ctx, img) < 0 || dc__set_add(ctx, set, img) < 0)
		return NULL;
	return set;
}

TEST(edit_changes_only_what_changes)
{
	const char *ch[] = { "LABEL a=b", "CMD [\"/app\"]" };
	struct dc_set *set = one_image();
	struct dc_image *img;
	char old_id[DC_DIGEST_MAX], want[DC_DIGEST_MAX];

	REQUIRE(set);
	img = set->img[0];
	memcpy(old_id, img->config.digest, sizeof(old_id));
	CHECK_OK(dc_set_edit_config(unit_ctx(), set, ch, 2, NULL));
	CHECK_STR(img->config_raw.data,
		  "{\"created\":\"2020-01-01T00:00:00Z\",\"architecture\":\"amd64\","
		  "\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"],\"Cmd\":[\"/app\"],"
		  "\"Labels\":{\"a\":\"b\"}},"
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"x-extra\":1}");
	dc__sha256_digest(img->config_raw.data, img->config_raw.len, want);
	CHECK_STR(img->config.digest, want);
	CHECK(strcmp(old_id, want) != 0);
	CHECK_CONTAINS(img->manifest_raw.data, want);
	dc_set_free(set);
}

TEST(edit_noop_keeps_bytes_and_created)
{
	const char *ch[] = { "ENV A=1" };
	struct dc_set *set = one_image();
	char id[DC_DIGEST_MAX];

	REQUIRE(set);
	memcpy(id, set->img[0]->config.digest, sizeof(id));
	CHECK_OK(dc_set_edit_config(unit_ctx(), set, ch, 1, NULL));
	CHECK_STR(set->img[0]->config.digest, id);
	CHECK_OK(dc_set_edit_config(unit_ctx(), set, NULL, 0,
				    "2024-05-06T07:08:09+02:00"));
	CHECK_CONTAINS(set->img[0]->config_raw.data,
		       "{\"created\":\"2024-05-06T07:08:09+02:00\",\"architecture\"");
	CHECK_ERR(dc_set_edit_config(unit_ctx(), set, NULL, 0, "yesterday"),
		  DC_EINVAL);
	dc_set_free(set);
}
