/*
 * Writing: round trips through every output format, read back and
 * verified; allocation failures leave no output behind.
 */
#include "unit.h"

#include <dirent.h>
#include <unistd.h>

struct rt {
	char dir[64];
	char dest[256];
	struct fx_layer l[2];
	struct ubuf tar;
};

static int rt_setup(struct rt *t, const char *format)
{
	struct fx_oci opt = { .ref_name = "example.com/app:v1" };

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/decant-unit-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->dest, sizeof(t->dest), "%s/out.%s", t->dir, format);
	fx_layer_make(&t->l[0], "a", "gzip layer", DC_COMP_GZIP);
	fx_layer_make(&t->l[1], "b", "plain layer", DC_COMP_NONE);
	fx_oci_tar(&t->tar, t->l, 2, &opt);
	return 0;
}

static void rt_free(struct rt *t)
{
	dc__rm_rf(t->dir);
	fx_layer_free(&t->l[0]);
	fx_layer_free(&t->l[1]);
	ubuf_free(&t->tar);
}

/* Entries in DIR other than "." and "..". */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int write_from_memory(struct dc_ctx *ctx, const struct rt *t,
			     const char *format, const struct dc_write_opts *o)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	int err;

	if ((err = dc_reader_open_memory(ctx, &r, t->tar.p, t->tar.len)) == 0 &&
	    (err = dc_reader_load(r, &set)) == 0)
		err = dc_write(ctx, r, set, format, t->dest, o);
	dc_set_free(set);
	dc_reader_free(r);
	return err;
}

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

/* Make the Nth allocation fail while writing: an error or success,
 * never a crash, a leak or a partial output. */
TEST(failalloc_write)
{
	static const char *const formats[] = { "oci-archive", "oci",
					       "docker-archive" };
	size_t f;

	for (f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		struct rt t;
		long n;

		UNIT_CASE("%s", formats[f]);
		if (rt_setup(&t, formats[f]) < 0) {
			CHECK(!"setup");
			continue;
		}
		for (n = 1; n < 100000; n++) {
			struct dc_ctx *ctx;
			struct dc_write_opts o;
			int err, pending;
			void *p;

			memset(&o, 0, sizeof(o));
			o.threads = 1;
			if (dc_ctx_new(&ctx) < 0)
				abort();
			dc__fail_alloc_at(n);
			err = write_from_memory(ctx, &t, formats[f], &o);
			/* did the failure happen? */
			pending = 0;
			for (long k = 0; k < n; k++) {
				if (!(p = dc__calloc(ctx, 1, 1))) {
					pending = 1;
					break;
				}
				free(p);
			}
			dc__fail_alloc_at(0);
			if (err) {
				CHECKF(dir_entries(t.dir) == 0,
				       "n=%ld: failed (%s) but left output", n,
				       dc_ctx_errmsg(ctx));
			} else {
				CHECKF(dir_entries(t.dir) == 1,
				       "n=%ld: succeeded without output", n);
				dc__rm_rf(t.dest);
			}
			dc_ctx_free(ctx);
			if (pending) {
				CHECKF(err == 0, "n=%ld: no allocation failed, yet %d",
				       n, err);
				break;
			}
			if (unit_failed())
				break;
		}
		CHECK(n > 10);
		rt_free(&t);
	}
}
