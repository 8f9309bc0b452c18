/*
 * Inventories and delta records (src/model/inventory.c).
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#define D0 "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static int parse(const char *s, struct dc_inventory **out)
{
	return dc_inventory_parse(unit_ctx(), s, strlen(s), out);
}

TEST(inventory_parse_ok)
{
	struct dc_inventory *inv = NULL;
	const char *d, *mt;
	int64_t size;

	CHECK_OK(parse("{\"schema\":\"decant-inventory/1\",\"sources\":[\"a.tar\"],"
		       "\"blobs\":[{\"digest\":\"" D1 "\",\"size\":7},"
		       "{\"digest\":\"" D0 "\",\"size\":3,\"mediaType\":\"x\"},"
		       "{\"digest\":\"" D1 "\",\"size\":7}]}", &inv));
	REQUIRE(inv);
	CHECK_EQ_INT(dc_inventory_count(inv), 2);
	dc_inventory_get(inv, 0, &d, &size, &mt);
	CHECK_STR(d, D0);
	CHECK_EQ_INT(size, 3);
	CHECK_STR(mt, "x");
	dc_inventory_get(inv, 1, &d, &size, &mt);
	CHECK_STR(d, D1);
	CHECK(mt == NULL);
	CHECK_EQ_INT(dc_inventory_name_count(inv), 1);
	CHECK_STR(dc_inventory_name(inv, 0), "a.tar");
	CHECK(dc__inventory_find(inv, D1) != NULL);
	CHECK(dc__inventory_find(inv, "sha256:2") == NULL);
	CHECK(!dc__inventory_is_delta(inv));
	dc_inventory_free(inv);
}

TEST(inventory_roundtrip_delta)
{
	struct dc_inventory *inv = NULL, *back = NULL;
	char *json = NULL;

	CHECK_OK(dc_inventory_new(unit_ctx(), &inv));
	REQUIRE(inv);
	dc__inventory_set_delta(inv);
	CHECK_OK(dc_inventory_add_name(unit_ctx(), inv, "have.json"));
	CHECK_OK(dc_inventory_add(unit_ctx(), inv, D1, 9, "m"));
	CHECK_OK(dc_inventory_json(unit_ctx(), inv, &json));
	REQUIRE(json);
	CHECK(strstr(json, "\"decant-delta/1\"") != NULL);
	CHECK(strstr(json, "\"excluded\"") != NULL);
	CHECK_OK(parse(json, &back));
	REQUIRE(back);
	CHECK(dc__inventory_is_delta(back));
	CHECK_EQ_INT(dc_inventory_count(back), 1);
	CHECK_STR(dc_inventory_name(back, 0), "have.json");
	free(json);
	dc_inventory_free(inv);
	dc_inventory_free(back);
}

TEST(inventory_parse_bad)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"schema\":\"decant-inventory/2\",\"blobs\":[]}",
		"{\"schema\":\"decant-inventory/1\"}",
		"{\"schema\":\"decant-inventory/1\",\"blobs\":{}}",
		"{\"schema\":\"decant-inventory/1\",\"blobs\":[1]}",
		"{\"schema\":\"decant-inventory/1\",\"blobs\":[{\"digest\":\"sha256:12\",\"size\":1}]}",
		"{\"schema\":\"decant-inventory/1\",\"blobs\":[{\"digest\":\"" D0 "\",\"size\":-1}]}",
		"{\"schema\":\"decant-inventory/1\",\"blobs\":[{\"digest\":\"" D0 "\",\"size\":\"1\"}]}",
		"{\"schema\":\"decant-inventory/1\",\"blobs\":[{\"digest\":\"" D0 "\",\"size\":1,\"mediaType\":2}]}",
		/* one digest, two sizes: a lie */
		"{\"schema\":\"decant-inventory/1\",\"blobs\":[{\"digest\":\"" D0 "\",\"size\":1},{\"digest\":\"" D0 "\",\"size\":2}]}",
		"{\"schema\":\"decant-inventory/1\",\"sources\":[1],\"blobs\":[]}",
		"{\"schema\":\"decant-delta/1\",\"blobs\":[]}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dc_inventory *inv = NULL;
		int err = parse(bad[i], &inv);

		CHECKF(err == DC_EFORMAT || err == DC_ELIMIT, "case %zu: %d", i, err);
		CHECK(inv == NULL);
		dc_inventory_free(inv);
	}
}

TEST(inventory_not_held)
{
	struct rt t;
	struct dc_reader *r = NULL;
	struct dc_set *s = NULL;
	struct dc_inventory *inv = NULL, *absent = NULL, *back = NULL;
	const struct dc_desc *l;
	char *json = NULL;
	size_t all;

	REQUIRE(rt_setup(&t, "tar") == 0);
	CHECK_OK(write_from_memory(unit_ctx(), &t, "oci-archive", NULL));
	CHECK_OK(dc_reader_open(unit_ctx(), &r, t.dest, NULL));
	REQUIRE(r);
	CHECK_OK(dc_reader_load(r, &s));
	REQUIRE(s);
	CHECK_OK(dc_inventory_new(unit_ctx(), &inv));
	CHECK_OK(dc_inventory_add_set(unit_ctx(), inv, s));
	all = dc_inventory_count(inv);
	CHECK_EQ_INT(dc_inventory_not_held_count(inv), 0);
	dc_inventory_free(inv);
	/* one layer absent: listed apart, not as held */
	l = dc_image_layer(dc_set_image(s, 0), 0);
	CHECK_OK(dc_inventory_new(unit_ctx(), &absent));
	CHECK_OK(dc_inventory_add(unit_ctx(), absent, dc_desc_digest(l),
				  dc_desc_size(l), NULL));
	CHECK_OK(dc_inventory_new(unit_ctx(), &inv));
	CHECK_OK(dc_inventory_add_set_absent(unit_ctx(), inv, s, absent));
	CHECK_EQ_INT(dc_inventory_count(inv), all - 1);
	CHECK(!dc_inventory_has(inv, dc_desc_digest(l)));
	CHECK_EQ_INT(dc_inventory_not_held_count(inv), 1);
	CHECK_OK(dc_inventory_json(unit_ctx(), inv, &json));
	REQUIRE(json);
	CHECK(strstr(json, "\"notHeld\"") != NULL);
	/* read back: the held blobs only */
	CHECK_OK(parse(json, &back));
	REQUIRE(back);
	CHECK_EQ_INT(dc_inventory_count(back), all - 1);
	CHECK(!dc_inventory_has(back, dc_desc_digest(l)));
	free(json);
	json = NULL;
	dc_inventory_free(back);
	/* another source holds it: held, nothing apart */
	CHECK_OK(dc_inventory_add_set(unit_ctx(), inv, s));
	CHECK_EQ_INT(dc_inventory_not_held_count(inv), 0);
	CHECK_OK(dc_inventory_json(unit_ctx(), inv, &json));
	REQUIRE(json);
	CHECK(strstr(json, "notHeld") == NULL);
	free(json);
	dc_inventory_free(inv);
	dc_inventory_free(absent);
	dc_set_free(s);
	dc_reader_free(r);
	rt_free(&t);
}
