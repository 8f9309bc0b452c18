/*
 * Directory sources (OCI layouts on disk): reading beneath the root
 * with openat2(RESOLVE_BENEATH), symlinks inside and outside.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Extract the regular files of tar T under DIR (made with mkdtemp). */
static int extract(const struct ubuf *t, const char *dir)
{
	struct dc_src *src = NULL;
	size_t i;
	int err = dc__src_open_memory(unit_ctx(), &src, t->p, t->len);

	if (err)
		return err;
	for (i = 0; i < src->n; i++) {
		const struct dc_member *m = &src->m[i];
		char path[4096], *slash;
		FILE *f;

		if (m->type != DC_M_FILE)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, m->name);
		for (slash = strchr(path + strlen(dir) + 1, '/'); slash;
		     slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			mkdir(path, 0755);
			*slash = '/';
		}
		if (!(f = fopen(path, "wb")))
			return -1;
		fwrite(t->p + m->off, 1, (size_t)m->size, f);
		fclose(f);
	}
	dc__src_free(src);
	return 0;
}

static void rm_rf(const char *dir)
{
	dc__rm_rf(dir);
}

struct layout {
	char dir[64];
	struct fx_layer l[2];
	char blob0[256];	/* path of layer 0's blob */
};

static int make_layout(struct layout *lo)
{
	struct ubuf t = { 0 };
	struct fx_oci opt = { .ref_name = "1.0" };

	snprintf(lo->dir, sizeof(lo->dir), "/tmp/decant-unit-XXXXXX");
	if (!mkdtemp(lo->dir))
		return -1;
	fx_layer_make(&lo->l[0], "a", "gzip layer", DC_COMP_GZIP);
	fx_layer_make(&lo->l[1], "b", "plain layer", DC_COMP_NONE);
	fx_oci_tar(&t, lo->l, 2, &opt);
	snprintf(lo->blob0, sizeof(lo->blob0), "%s/blobs/sha256/%s", lo->dir,
		 lo->l[0].digest + 7);
	if (extract(&t, lo->dir) < 0) {
		ubuf_free(&t);
		return -1;
	}
	ubuf_free(&t);
	return 0;
}

static void free_layout(struct layout *lo)
{
	rm_rf(lo->dir);
	fx_layer_free(&lo->l[0]);
	fx_layer_free(&lo->l[1]);
}

/* Open, load and verify DIR; the first error. */
static int load_verify(const char *dir, const char *want_format)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	int err;

	if ((err = dc_reader_open(unit_ctx(), &r, dir, NULL)) < 0)
		return err;
	if ((err = dc_reader_load(r, &set)) == 0) {
		if (want_format)
			CHECK_STR(dc_set_format(set), want_format);
		err = dc_reader_verify(r, set);
	}
	dc_set_free(set);
	dc_reader_free(r);
	return err;
}

TEST(dir_layout_reads)
{
	struct layout lo;

	REQUIRE(make_layout(&lo) == 0);
	CHECK_OK(load_verify(lo.dir, "oci"));
	free_layout(&lo);
}

TEST(dir_layout_symlinks)
{
	struct layout lo;
	char target[300];

	REQUIRE(make_layout(&lo) == 0);
	/* a relative symlink that stays inside is followed */
	snprintf(target, sizeof(target), "%s/blobs/moved", lo.dir);
	CHECK(rename(lo.blob0, target) == 0);
	CHECK(symlink("../moved", lo.blob0) == 0);
	CHECK_OK(load_verify(lo.dir, "oci"));
	/* one that leaves the layout is refused */
	unlink(lo.blob0);
	CHECK(symlink("/etc/hostname", lo.blob0) == 0);
	CHECK_ERR(load_verify(lo.dir, NULL), DC_ECORRUPT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "outside the layout");
	unlink(lo.blob0);
	CHECK(symlink("../../../../../../../../../etc/hostname", lo.blob0) == 0);
	CHECK_ERR(load_verify(lo.dir, NULL), DC_ECORRUPT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "outside the layout");
	/* a directory where a blob should be */
	unlink(lo.blob0);
	CHECK(mkdir(lo.blob0, 0755) == 0);
	CHECK_ERR(load_verify(lo.dir, NULL), DC_ECORRUPT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "not a regular file");
	rmdir(lo.blob0);
	/* missing */
	CHECK_ERR(load_verify(lo.dir, NULL), DC_ECORRUPT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "missing from the layout");
	free_layout(&lo);
}

TEST(dir_not_a_layout)
{
	char dir[] = "/tmp/decant-unit-XXXXXX";
	struct dc_reader *r = NULL;

	REQUIRE(mkdtemp(dir));
	CHECK_ERR(dc_reader_open(unit_ctx(), &r, dir, NULL), DC_EFORMAT);
	CHECK(r == NULL);
	rmdir(dir);
}
