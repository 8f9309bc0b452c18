/*
 * Writing: round trips through every output format, read back and
 * verified (allocation failures: t_failalloc.c).
 */
#include "unit.h"

TEST(write_round_trip)
{
	static const struct {
		const char *format;
		enum dc_compress compress;
		const char *read_as;
	} rows[] = {
		{ "oci-archive", DC_COMPRESS_KEEP, "oci-archive" },
		{ "oci-archive", DC_COMPRESS_ZSTD, "oci-archive" },
		{ "oci", DC_COMPRESS_KEEP, "oci" },
		{ "oci", DC_COMPRESS_GZIP, "oci" },
		{ "docker-archive", DC_COMPRESS_KEEP, NULL },
		{ "docker-archive", DC_COMPRESS_NONE, NULL },
	};
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct rt t;
		struct dc_write_opts o;
		struct dc_reader *r = NULL;
		struct dc_set *set = NULL;
		const struct dc_image *img;

		UNIT_CASE("%s, compress %d", rows[i].format, rows[i].compress);
		if (rt_setup(&t, rows[i].format) < 0) {
			CHECK(!"setup");
			continue;
		}
		memset(&o, 0, sizeof(o));
		o.compress = rows[i].compress;
		CHECK_OK(write_from_memory(unit_ctx(), &t, rows[i].format, &o));
		CHECK_OK(dc_reader_open(unit_ctx(), &r, t.dest, NULL));
		if (r)
			CHECK_OK(dc_reader_load(r, &set));
		if (set) {
			if (rows[i].read_as)
				CHECK_STR(dc_set_format(set), rows[i].read_as);
			CHECK_EQ_INT(dc_set_count(set), 1);
			img = dc_set_image(set, 0);
			CHECK_STR(dc_image_tag(img, 0), "example.com/app:v1");
			CHECK_STR(dc_image_platform(img), "linux/amd64");
			CHECK_EQ_INT(dc_image_layer_count(img), 2);
			for (k = 0; k < 2 && k < dc_image_layer_count(img); k++) {
				const struct dc_desc *d = dc_image_layer(img, k);

				CHECK_STR(dc_desc_diff_id(d), t.l[k].diff_id);
				if (rows[i].compress == DC_COMPRESS_ZSTD)
					CHECK_STR(dc_desc_compression(d), "zstd");
				if (rows[i].compress == DC_COMPRESS_NONE)
					CHECK_STR(dc_desc_compression(d), "none");
				if (rows[i].compress == DC_COMPRESS_KEEP &&
				    strcmp(rows[i].format, "docker-archive"))
					CHECK_STR(dc_desc_digest(d), t.l[k].digest);
			}
			CHECK_OK(dc_reader_verify(r, set));
		}
		dc_set_free(set);
		dc_reader_free(r);
		rt_free(&t);
	}
}

TEST(write_failure_leaves_nothing)
{
	struct rt t;
	char bad[160];

	REQUIRE(rt_setup(&t, "oci-archive") == 0);
	/* an unknown format */
	CHECK_ERR(write_from_memory(unit_ctx(), &t, "tarball", NULL), DC_EINVAL);
	/* a destination in a directory that does not exist */
	snprintf(bad, sizeof(bad), "%s/no/such/dir/out.tar", t.dir);
	snprintf(t.dest, sizeof(t.dest), "%s", bad);
	CHECK(write_from_memory(unit_ctx(), &t, "oci-archive", NULL) < 0);
	CHECK_EQ_INT(dir_entries(t.dir), 0);
	rt_free(&t);
}
