/*
 * Readers: detection by bidding, loading, verification, over archives
 * built in memory (tests/unit/helpers.c).
 */
#include "unit.h"

#include <fcntl.h>
#include <unistd.h>

struct opened {
	struct dc_reader *r;
	struct dc_set *set;
};

/* Open and load; returns the first error (0 if both worked). */
static int open_load(const struct ubuf *t, struct opened *o)
{
	int err;

	memset(o, 0, sizeof(*o));
	err = dc_reader_open_memory(unit_ctx(), &o->r, t->p, t->len);
	if (err) {
		CHECK(o->r == NULL);
		return err;
	}
	err = dc_reader_load(o->r, &o->set);
	if (err)
		CHECK(o->set == NULL);
	return err;
}

static void closed(struct opened *o)
{
	dc_set_free(o->set);
	dc_reader_free(o->r);
	memset(o, 0, sizeof(*o));
}

static void two_layers(struct fx_layer l[2])
{
	fx_layer_make(&l[0], "a.txt", "layer one", DC_COMP_GZIP);
	fx_layer_make(&l[1], "b.txt", "layer two", DC_COMP_NONE);
}

static void free_layers(struct fx_layer *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fx_layer_free(&l[i]);
}

static void check_layers(const struct dc_image *img, const struct fx_layer *l,
			 size_t n)
{
	size_t i;

	CHECK_EQ_INT(dc_image_layer_count(img), n);
	for (i = 0; i < n && i < dc_image_layer_count(img); i++) {
		const struct dc_desc *d = dc_image_layer(img, i);

		UNIT_CASE("layer %zu", i);
		CHECK_STR(dc_desc_digest(d), l[i].digest);
		CHECK_STR(dc_desc_diff_id(d), l[i].diff_id);
		CHECK_EQ_INT(dc_desc_size(d), l[i].blob.len);
		CHECK_STR(dc_desc_compression(d),
			  dc__comp_name(dc__comp_sniff(l[i].blob.p, l[i].blob.len)));
	}
	UNIT_CASE("%s", "");
	CHECK(dc_image_layer(img, n) == NULL);
}

TEST(reader_bid_oci_archive)
{
	struct fx_layer l[2];
	struct ubuf t = { 0 };
	struct opened o;
	struct fx_oci opt = { .ref_name = "example.com/app:v1" };
	const struct dc_image *img;

	two_layers(l);
	fx_oci_tar(&t, l, 2, &opt);
	CHECK_OK(open_load(&t, &o));
	REQUIRE(o.set);
	CHECK_STR(dc_set_format(o.set), "oci-archive");
	CHECK_STR(o.r->ops->name, "oci");
	REQUIRE(dc_set_count(o.set) == 1);
	img = dc_set_image(o.set, 0);
	CHECK(dc_set_image(o.set, 1) == NULL);
	CHECK_STR(dc_image_platform(img), "linux/amd64");
	CHECK_EQ_INT(dc_image_tag_count(img), 1);
	CHECK_STR(dc_image_tag(img, 0), "example.com/app:v1");
	CHECK(dc_image_tag(img, 1) == NULL);
	CHECK_STR(dc_desc_media_type(dc_image_manifest(img)),
		  "application/vnd.oci.image.manifest.v1+json");
	CHECK(dc__digest_valid(dc_desc_digest(dc_image_manifest(img))));
	CHECK_STR(dc_image_id(img), dc_desc_digest(dc_image_config(img)));
	check_layers(img, l, 2);
	CHECK_OK(dc_reader_verify(o.r, o.set));
	closed(&o);
	free_layers(l, 2);
	ubuf_free(&t);
}

TEST(reader_oci_names)
{
	static const struct {
		const char *containerd, *ref;
		const char *tag;	/* NULL: no tag */
		const char *ref_name;	/* kept when not a reference */
	} rows[] = {
		{ NULL, NULL, NULL, NULL },
		{ NULL, "1.0", NULL, "1.0" },	/* Docker: tag only */
		{ NULL, "latest", NULL, "latest" },
		{ NULL, "busybox:1.36", "busybox:1.36", NULL },
		{ NULL, "docker.io/library/busybox:1.36", "busybox:1.36", NULL },
		{ NULL, "a/b", "a/b:latest", NULL },
		{ NULL, "Not A Ref:x", NULL, "Not A Ref:x" },
		{ "docker.io/decant-test/multi:1.0", "1.0", "decant-test/multi:1.0", NULL },
		{ "localhost:5000/x:y", NULL, "localhost:5000/x:y", NULL },
	};
	size_t i;
	struct fx_layer l[1];

	fx_layer_make(&l[0], "f", "x", DC_COMP_GZIP);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ubuf t = { 0 };
		struct opened o;
		struct fx_oci opt = { .containerd_name = rows[i].containerd,
				      .ref_name = rows[i].ref };
		const struct dc_image *img;

		UNIT_CASE("row %zu", i);
		fx_oci_tar(&t, l, 1, &opt);
		CHECK_OK(open_load(&t, &o));
		if (o.set && dc_set_count(o.set) == 1) {
			img = dc_set_image(o.set, 0);
			CHECK_EQ_INT(dc_image_tag_count(img), rows[i].tag ? 1 : 0);
			CHECK_STR(dc_image_tag(img, 0), rows[i].tag);
			CHECK_STR(o.set->img[0]->ref_name, rows[i].ref_name);
		} else {
			CHECK(!"one image");
		}
		closed(&o);
		ubuf_free(&t);
	}
	free_layers(l, 1);
}

/* Docker 25+ saves: an OCI layout plus manifest.json. */
TEST(reader_bid_oci_with_manifest_json)
{
	struct fx_layer l[2];
	struct ubuf t = { 0 };
	struct opened o;
	struct fx_oci opt = { .ref_name = "1.0", .manifest_json = 1,
			      .repo_tag = "decant-test/multi:1.0",
			      .no_index_mediatype = 1 };

	two_layers(l);
	fx_oci_tar(&t, l, 2, &opt);
	CHECK_OK(open_load(&t, &o));
	REQUIRE(o.set);
	CHECK_STR(o.r->ops->name, "oci");
	CHECK_STR(dc_set_format(o.set), "docker-archive");
	REQUIRE(dc_set_count(o.set) == 1);
	/* the tag comes from manifest.json's RepoTags */
	CHECK_EQ_INT(dc_image_tag_count(dc_set_image(o.set, 0)), 1);
	CHECK_STR(dc_image_tag(dc_set_image(o.set, 0), 0), "decant-test/multi:1.0");
	check_layers(dc_set_image(o.set, 0), l, 2);
	CHECK_OK(dc_reader_verify(o.r, o.set));
	closed(&o);
	free_layers(l, 2);
	ubuf_free(&t);
}

TEST(reader_bid_docker_archive)
{
	struct fx_layer l[2];
	struct ubuf t = { 0 };
	struct opened o;
	const struct dc_image *img;

	two_layers(l);
	fx_docker_tar(&t, l, 2, 0, "docker.io/library/busybox:latest");
	CHECK_OK(open_load(&t, &o));
	REQUIRE(o.set);
	CHECK_STR(o.r->ops->name, "docker-archive");
	CHECK_STR(dc_set_format(o.set), "docker-archive");
	REQUIRE(dc_set_count(o.set) == 1);
	img = dc_set_image(o.set, 0);
	CHECK_EQ_INT(dc_image_tag_count(img), 1);
	CHECK_STR(dc_image_tag(img, 0), "busybox:latest");
	check_layers(img, l, 2);
	/* the manifest is made by decant, and hashes to its digest */
	CHECK(o.set->img[0]->manifest_synth);
	{
		char d[DC_DIGEST_MAX];

		dc__sha256_digest(o.set->img[0]->manifest_raw.data,
				  o.set->img[0]->manifest_raw.len, d);
		CHECK_STR(dc_desc_digest(dc_image_manifest(img)), d);
	}
	CHECK_OK(dc_reader_verify(o.r, o.set));
	closed(&o);
	free_layers(l, 2);
	ubuf_free(&t);
}

TEST(reader_bid_docker_legacy)
{
	struct fx_layer l[2];
	struct ubuf t = { 0 };
	struct opened o;

	two_layers(l);
	fx_docker_tar(&t, l, 2, 1, "decant-test/multi:1.0");
	CHECK_OK(open_load(&t, &o));
	REQUIRE(o.set);
	CHECK_STR(dc_set_format(o.set), "docker-legacy");
	REQUIRE(dc_set_count(o.set) == 1);
	/* layer.tar names carry no digest: the gzip layer is hashed */
	check_layers(dc_set_image(o.set, 0), l, 2);
	CHECK_OK(dc_reader_verify(o.r, o.set));
	closed(&o);
	free_layers(l, 2);
	ubuf_free(&t);
}

TEST(reader_bid_unknown)
{
	static const struct {
		const char *name;
		const char *members[3];
	} rows[] = {
		{ "oci-layout alone", { "oci-layout", NULL, NULL } },
		{ "index.json alone", { "index.json", NULL, NULL } },
		{ "oci-layout, no index", { "oci-layout", "blobs/sha256/x", NULL } },
	};
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ubuf t = { 0 };
		struct dc_reader *r = (struct dc_reader *)1;

		UNIT_CASE("%s", rows[i].name);
		for (k = 0; k < 3 && rows[i].members[k]; k++)
			tarb_str(&t, rows[i].members[k], "{}");
		tarb_end(&t);
		CHECK_ERR(dc_reader_open_memory(unit_ctx(), &r, t.p, t.len),
			  DC_EFORMAT);
		CHECK(r == NULL);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "unrecognized format");
		ubuf_free(&t);
	}
	/* a tar of plain files is a root filesystem (docker export) */
	{
		static const char *const names[] = { "hello.txt", "x/manifest.json",
						     "etc/repositories" };
		struct ubuf t = { 0 };
		struct opened o;

		UNIT_CASE("plain files");
		for (k = 0; k < 3; k++)
			tarb_str(&t, names[k], "{}");
		tarb_end(&t);
		CHECK_OK(open_load(&t, &o));
		if (o.set) {
			CHECK_STR(o.r->ops->name, "rootfs");
			CHECK_STR(dc_set_format(o.set), "rootfs");
			CHECK_EQ_INT(dc_set_count(o.set), 1);
			CHECK_OK(dc_reader_verify(o.r, o.set));
		}
		closed(&o);
		ubuf_free(&t);
	}
	/* manifest.json as a directory or a symlink to nothing */
	{
		struct ubuf t = { 0 };
		struct dc_reader *r = NULL;

		UNIT_CASE("manifest.json not a file");
		tarb_dir(&t, "manifest.json/");
		tarb_symlink(&t, "index.json", "nothing");
		tarb_str(&t, "oci-layout", "{}");
		tarb_end(&t);
		CHECK_ERR(dc_reader_open_memory(unit_ctx(), &r, t.p, t.len),
			  DC_EFORMAT);
		ubuf_free(&t);
	}
	/* a symlinked manifest.json is followed */
	{
		struct ubuf t = { 0 };
		struct opened o;

		UNIT_CASE("manifest.json symlink");
		tarb_str(&t, "real.json", "[]");
		tarb_symlink(&t, "manifest.json", "real.json");
		tarb_end(&t);
		CHECK_OK(open_load(&t, &o));
		CHECK(o.set && dc_set_count(o.set) == 0);
		closed(&o);
		ubuf_free(&t);
	}
}

TEST(reader_verify_corrupt_layer)
{
	int which;

	for (which = 1; which <= 2; which++) {
		struct fx_layer l[2];
		struct ubuf t = { 0 };
		struct opened o;
		struct fx_oci opt = { .corrupt_layer = which };
		int err;

		UNIT_CASE("layer %d", which - 1);
		two_layers(l);
		fx_oci_tar(&t, l, 2, &opt);
		CHECK_OK(open_load(&t, &o));	/* sizes are right; no data read */
		if (o.set) {
			err = dc_reader_verify(o.r, o.set);
			if (which == 1) {
				/* gzip: the decoder may notice first */
				CHECKF(err == DC_EDIGEST || err == DC_ECORRUPT,
				       "verify: %d: %s", err,
				       dc_ctx_errmsg(unit_ctx()));
			} else {
				CHECK_EQ_INT(err, DC_EDIGEST);
				CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "digest mismatch");
			}
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()),
				       l[which - 1].digest + 7);
		}
		closed(&o);
		free_layers(l, 2);
		ubuf_free(&t);
	}
}

/* Six layers of 1 KiB to 700 KiB: more jobs than verify's threads, so
 * each thread hashes two layers at once (pool.c, DC_BLOB_DEFER). Every
 * layer verifies, and a flipped byte in any one of them is reported as
 * that layer's. */
TEST(reader_verify_paired)
{
	static const size_t sizes[] = { 700 << 10, 1 << 10, 300 << 10,
					(256 << 10) + 1, 65, 500 << 10 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	struct fx_layer l[N];
	char name[16];
	size_t i, k;
	int which;

	for (i = 0; i < N; i++) {
		char *text = unit_xmalloc(sizes[i] + 1);

		for (k = 0; k < sizes[i]; k++)
			text[k] = (char)('a' + (k * 7 + i + k / 4099) % 26);
		text[sizes[i]] = '\0';
		snprintf(name, sizeof(name), "f%zu", i);
		fx_layer_make(&l[i], name, text,
			      i % 3 == 1 ? DC_COMP_GZIP : DC_COMP_NONE);
		free(text);
	}
	for (which = 0; which <= N; which++) {
		struct ubuf t = { 0 };
		struct opened o;
		struct fx_oci opt = { .corrupt_layer = which };
		int err;

		UNIT_CASE("corrupt layer %d (0: none)", which);
		fx_oci_tar(&t, l, N, &opt);
		CHECK_OK(open_load(&t, &o));
		if (o.set) {
			err = dc_reader_verify(o.r, o.set);
			if (!which) {
				CHECK_OK(err);
			} else {
				CHECKF(err == DC_EDIGEST || err == DC_ECORRUPT,
				       "verify: %d: %s", err,
				       dc_ctx_errmsg(unit_ctx()));
				CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()),
					       l[which - 1].digest + 7);
			}
		}
		closed(&o);
		ubuf_free(&t);
	}
	free_layers(l, N);
}

/* A config whose diff_id does not match the layer's uncompressed bytes. */
TEST(reader_verify_bad_diff_id)
{
	static const enum dc_comp comps[] = { DC_COMP_GZIP, DC_COMP_ZSTD,
					      DC_COMP_NONE };
	const char *bad = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	size_t i;

	for (i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
		struct fx_layer l[1];
		struct ubuf t = { 0 };
		struct opened o;
		struct fx_oci opt = { .bad_diff_id = bad };

		UNIT_CASE("oci, %s layer", dc__comp_name(comps[i]));
		fx_layer_make(&l[0], "f", "content", comps[i]);
		fx_oci_tar(&t, l, 1, &opt);
		CHECK_OK(open_load(&t, &o));
		if (o.set) {
			CHECK_ERR(dc_reader_verify(o.r, o.set), DC_EDIGEST);
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "diff_id");
		}
		closed(&o);
		free_layers(l, 1);
		ubuf_free(&t);
	}
}

TEST(reader_verify_bad_diff_id_docker)
{
	struct fx_layer l[1];
	struct ubuf t = { 0 }, cfg = { 0 }, mj = { 0 };
	struct opened o;
	const char *bad = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	char name[256];

	/* uncompressed: the layer's digest is taken from the config */
	fx_layer_make(&l[0], "f", "content", DC_COMP_NONE);
	fx_config(&cfg, l, 1, bad);
	tarb_file(&t, "config.json", cfg.p, cfg.len);
	tarb_file(&t, "l/layer.tar", l[0].blob.p, l[0].blob.len);
	tarb_str(&t, "manifest.json",
		 "[{\"Config\":\"config.json\",\"RepoTags\":null,\"Layers\":[\"l/layer.tar\"]}]");
	tarb_end(&t);
	CHECK_OK(open_load(&t, &o));
	if (o.set) {
		CHECK_ERR(dc_reader_verify(o.r, o.set), DC_EDIGEST);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "l/layer.tar");
	}
	closed(&o);
	ubuf_free(&t);
	/* gzip named by a digest that is not its own */
	fx_layer_free(&l[0]);
	fx_layer_make(&l[0], "f", "content", DC_COMP_GZIP);
	ubuf_free(&cfg);
	fx_config(&cfg, l, 1, NULL);
	tarb_file(&t, "config.json", cfg.p, cfg.len);
	snprintf(name, sizeof(name), "%s.tar.gz", bad + 7);
	tarb_file(&t, name, l[0].blob.p, l[0].blob.len);
	ubuf_addf(&mj, "[{\"Config\":\"config.json\",\"Layers\":[\"%s\"]}]", name);
	tarb_file(&t, "manifest.json", mj.p, mj.len);
	tarb_end(&t);
	CHECK_OK(open_load(&t, &o));
	if (o.set) {
		CHECK_ERR(dc_reader_verify(o.r, o.set), DC_EDIGEST);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "digest mismatch");
	}
	closed(&o);
	ubuf_free(&t);
	ubuf_free(&mj);
	ubuf_free(&cfg);
	fx_layer_free(&l[0]);
}

/* Load-time errors, each from one edit of a valid OCI archive. */
struct oci_parts {
	struct ubuf cfg, man, idx;
	char cfg_d[DC_DIGEST_MAX], man_d[DC_DIGEST_MAX];
};

static void blob(struct ubuf *t, const char *digest, const void *p, size_t n)
{
	char name[256];

	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	tarb_file(t, name, p, n);
}

static void parts_make(struct oci_parts *p, const struct fx_layer *l,
		       long layer_size_delta, long cfg_size_delta)
{
	memset(p, 0, sizeof(*p));
	fx_config(&p->cfg, l, 1, NULL);
	dc__sha256_digest(p->cfg.p, p->cfg.len, p->cfg_d);
	ubuf_addf(&p->man, "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
		  "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\","
		  "\"size\":%ld},\"layers\":[{\"mediaType\":\"x\",\"digest\":\"%s\","
		  "\"size\":%ld}]}", p->cfg_d, (long)p->cfg.len + cfg_size_delta,
		  l->digest, (long)l->blob.len + layer_size_delta);
	dc__sha256_digest(p->man.p, p->man.len, p->man_d);
}

static void parts_free(struct oci_parts *p)
{
	ubuf_free(&p->cfg);
	ubuf_free(&p->man);
	ubuf_free(&p->idx);
}

static void layout(struct ubuf *t, const char *oci_layout, const char *index,
		   const struct oci_parts *p, const struct fx_layer *l)
{
	tarb_str(t, "oci-layout", oci_layout);
	tarb_str(t, "index.json", index);
	blob(t, p->cfg_d, p->cfg.p, p->cfg.len);
	blob(t, p->man_d, p->man.p, p->man.len);
	blob(t, l->digest, l->blob.p, l->blob.len);
	tarb_end(t);
}

/* Copy TMPL replacing "@D" with DIGEST and "@S" with SIZE. */
static void subst(struct ubuf *out, const char *tmpl, const char *digest,
		  size_t size)
{
	const char *p;

	for (p = tmpl; *p; p++) {
		if (p[0] == '@' && p[1] == 'D') {
			ubuf_addstr(out, digest);
			p++;
		} else if (p[0] == '@' && p[1] == 'S') {
			ubuf_addf(out, "%zu", size);
			p++;
		} else {
			ubuf_add(out, p, 1);
		}
	}
}

TEST(reader_oci_load_errors)
{
	static const struct {
		const char *name;
		const char *layout;
		const char *index;	/* @D manifest digest, @S size */
		long layer_delta, cfg_delta;
		int want;
		const char *msg;
	} rows[] = {
		{ "valid", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"digest\":\"@D\",\"size\":@S}]}", 0, 0, 0, NULL },
		{ "layout version", "{\"imageLayoutVersion\":\"2.0.0\"}",
		  "{\"manifests\":[]}", 0, 0, DC_EUNSUPPORTED, "imageLayoutVersion" },
		{ "layout not json", "imageLayoutVersion",
		  "{\"manifests\":[]}", 0, 0, DC_EFORMAT, "'oci-layout'" },
		{ "index not object", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "[]", 0, 0, DC_EFORMAT, "not a JSON object" },
		{ "no manifests", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{}", 0, 0, DC_EFORMAT, "no \"manifests\"" },
		{ "manifests not array", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":{}}", 0, 0, DC_EFORMAT, "not an array" },
		{ "bad digest", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"digest\":\"sha256:../../x\",\"size\":1}]}", 0, 0,
		  DC_EFORMAT, "not a valid sha256 digest" },
		{ "negative size", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"digest\":\"@D\",\"size\":-1}]}", 0, 0,
		  DC_EFORMAT, "descriptor" },
		{ "wrong manifest size", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"digest\":\"@D\",\"size\":1@S}]}", 0, 0,
		  DC_EDIGEST, "size" },
		{ "missing manifest", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"size\":2}]}",
		  0, 0, DC_ECORRUPT, "missing from the archive" },
		{ "layer size", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"digest\":\"@D\",\"size\":@S}]}", 1, 0,
		  DC_EDIGEST, "the manifest says" },
		{ "config size", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"digest\":\"@D\",\"size\":@S}]}", 0, -1,
		  DC_EDIGEST, "size" },
		{ "only an artifact", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"mediaType\":\"application/vnd.example+json\","
		  "\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"size\":2}]}",
		  0, 0, DC_EFORMAT, "no images" },
		{ "artifact skipped", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":[{\"mediaType\":\"application/vnd.example+json\","
		  "\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"size\":2},"
		  "{\"digest\":\"@D\",\"size\":@S}]}",
		  0, 0, 0, NULL },
		{ "null manifests", "{\"imageLayoutVersion\":\"1.0.0\"}",
		  "{\"manifests\":null}", 0, 0, 0, NULL },
	};
	size_t i;
	struct fx_layer l;

	fx_layer_make(&l, "f", "x", DC_COMP_GZIP);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct oci_parts p;
		struct ubuf t = { 0 }, idx = { 0 };
		struct opened o;
		int err;

		UNIT_CASE("%s", rows[i].name);
		parts_make(&p, &l, rows[i].layer_delta, rows[i].cfg_delta);
		subst(&idx, rows[i].index, p.man_d, p.man.len);
		layout(&t, rows[i].layout, (char *)idx.p, &p, &l);
		err = open_load(&t, &o);
		CHECK_EQ_INT(err, rows[i].want);
		if (rows[i].msg)
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), rows[i].msg);
		closed(&o);
		ubuf_free(&t);
		ubuf_free(&idx);
		parts_free(&p);
	}
	fx_layer_free(&l);
}

/* Nested indexes: up to DC_MAX_INDEX_DEPTH - 1 levels below index.json. */
static int nested(const struct fx_layer *l, int levels, int drop_manifest)
{
	struct oci_parts p;
	struct ubuf t = { 0 }, prev = { 0 }, idx = { 0 };
	char prev_d[DC_DIGEST_MAX];
	const char *prev_mt = "application/vnd.oci.image.manifest.v1+json";
	struct opened o;
	int i, err;

	parts_make(&p, l, 0, 0);
	tarb_str(&t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	blob(&t, p.cfg_d, p.cfg.p, p.cfg.len);
	if (!drop_manifest)
		blob(&t, p.man_d, p.man.p, p.man.len);
	blob(&t, l->digest, l->blob.p, l->blob.len);
	ubuf_add(&prev, p.man.p, p.man.len);
	memcpy(prev_d, p.man_d, sizeof(prev_d));
	for (i = 0; i < levels; i++) {
		ubuf_addf(&idx, "{\"schemaVersion\":2,\"mediaType\":"
			  "\"application/vnd.oci.image.index.v1+json\",\"manifests\":"
			  "[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
			  "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
			  prev_mt, prev_d, prev.len);
		dc__sha256_digest(idx.p, idx.len, prev_d);
		blob(&t, prev_d, idx.p, idx.len);
		ubuf_free(&prev);
		prev = idx;
		memset(&idx, 0, sizeof(idx));
		prev_mt = "application/vnd.oci.image.index.v1+json";
	}
	ubuf_addf(&idx, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\","
		  "\"digest\":\"%s\",\"size\":%zu,\"annotations\":"
		  "{\"io.containerd.image.name\":\"nested:%d\"}}]}",
		  prev_mt, prev_d, prev.len, levels);
	tarb_file(&t, "index.json", idx.p, idx.len);
	tarb_end(&t);
	err = open_load(&t, &o);
	if (!err && !drop_manifest) {
		CHECK_EQ_INT(dc_set_count(o.set), 1);
		if (dc_set_count(o.set) == 1) {
			char tag[32];

			/* annotations are inherited by nested manifests */
			snprintf(tag, sizeof(tag), "nested:%d", levels);
			CHECK_STR(dc_image_tag(dc_set_image(o.set, 0), 0), tag);
		}
	}
	if (!err && drop_manifest)
		CHECK_EQ_INT(dc_set_count(o.set), 0);
	closed(&o);
	ubuf_free(&t);
	ubuf_free(&prev);
	ubuf_free(&idx);
	parts_free(&p);
	return err;
}

TEST(reader_oci_nested_indexes)
{
	struct fx_layer l;
	int levels;

	fx_layer_make(&l, "f", "x", DC_COMP_GZIP);
	for (levels = 0; levels < DC_MAX_INDEX_DEPTH; levels++) {
		UNIT_CASE("%d levels", levels);
		CHECK_OK(nested(&l, levels, 0));
	}
	UNIT_CASE("%d levels", DC_MAX_INDEX_DEPTH);
	CHECK_ERR(nested(&l, DC_MAX_INDEX_DEPTH, 0), DC_ELIMIT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "nested deeper");
	UNIT_CASE("%d levels", 40);
	CHECK_ERR(nested(&l, 40, 0), DC_ELIMIT);
	/* a platform manifest that was not exported is skipped */
	UNIT_CASE("missing platform manifest");
	CHECK_OK(nested(&l, 1, 1));
	/* but one named by index.json itself is required */
	UNIT_CASE("missing top manifest");
	CHECK_ERR(nested(&l, 0, 1), DC_ECORRUPT);
	fx_layer_free(&l);
}

/* The same manifest listed twice is one image with both names. */
TEST(reader_oci_duplicate_manifest)
{
	struct oci_parts p;
	struct fx_layer l;
	struct ubuf t = { 0 }, idx = { 0 };
	struct opened o;

	fx_layer_make(&l, "f", "x", DC_COMP_GZIP);
	parts_make(&p, &l, 0, 0);
	ubuf_addf(&idx, "{\"manifests\":["
		  "{\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"a:1\"}},"
		  "{\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"b:2\"}}]}",
		  p.man_d, p.man.len, p.man_d, p.man.len);
	layout(&t, "{\"imageLayoutVersion\":\"1.0.0\"}", (char *)idx.p, &p, &l);
	CHECK_OK(open_load(&t, &o));
	if (o.set) {
		CHECK_EQ_INT(dc_set_count(o.set), 1);
		CHECK_EQ_INT(dc_image_tag_count(dc_set_image(o.set, 0)), 2);
		CHECK_STR(dc_image_tag(dc_set_image(o.set, 0), 0), "a:1");
		CHECK_STR(dc_image_tag(dc_set_image(o.set, 0), 1), "b:2");
	}
	closed(&o);
	ubuf_free(&t);
	ubuf_free(&idx);
	parts_free(&p);
	fx_layer_free(&l);
}

TEST(reader_docker_load_errors)
{
	static const struct {
		const char *name;
		const char *manifest;
		int want;
		const char *msg;
	} rows[] = {
		{ "valid", "[{\"Config\":\"c.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l.tar\"]}]", 0, NULL },
		{ "empty list", "[]", 0, NULL },
		{ "null layers", "[{\"Config\":\"c0.json\",\"Layers\":null}]", 0, NULL },
		{ "not json", "[{", DC_EFORMAT, "'manifest.json'" },
		{ "object", "{}", DC_EFORMAT, "expected an array" },
		{ "null", "null", DC_EFORMAT, "is null" },
		{ "item not object", "[1]", DC_EFORMAT, "wrong shape" },
		{ "no config", "[{\"Layers\":[]}]", DC_EFORMAT, "wrong shape" },
		{ "layers not array", "[{\"Config\":\"c.json\",\"Layers\":\"l.tar\"}]", DC_EFORMAT, "wrong shape" },
		{ "layer not string", "[{\"Config\":\"c.json\",\"Layers\":[1]}]", DC_EFORMAT, "not a string" },
		{ "tag not string", "[{\"Config\":\"c.json\",\"RepoTags\":[1],\"Layers\":[\"l.tar\"]}]", DC_EFORMAT, "RepoTags[0]" },
		{ "bad tag", "[{\"Config\":\"c.json\",\"RepoTags\":[\"Bad Tag\"],\"Layers\":[\"l.tar\"]}]", DC_EFORMAT, "invalid image reference" },
		{ "config traversal", "[{\"Config\":\"../c.json\",\"Layers\":[]}]", DC_ECORRUPT, "leads outside" },
		{ "layer traversal", "[{\"Config\":\"c.json\",\"Layers\":[\"/../l.tar\"]}]", DC_ECORRUPT, "leads outside" },
		{ "missing config", "[{\"Config\":\"nope.json\",\"Layers\":[]}]", DC_ECORRUPT, "'nope.json': missing" },
		{ "missing layer", "[{\"Config\":\"c.json\",\"Layers\":[\"nope.tar\"]}]", DC_ECORRUPT, "'nope.tar': missing" },
		{ "too few layers", "[{\"Config\":\"c.json\",\"Layers\":[]}]", DC_ECORRUPT, "diff_ids" },
		{ "too many layers", "[{\"Config\":\"c.json\",\"Layers\":[\"l.tar\",\"l.tar\"]}]", DC_ECORRUPT, "diff_ids" },
		{ "config not object", "[{\"Config\":\"bad1.json\",\"Layers\":[]}]", DC_EFORMAT, "not a JSON object" },
		{ "config no rootfs", "[{\"Config\":\"bad2.json\",\"Layers\":[]}]", DC_EFORMAT, "rootfs" },
		{ "config bad diff_id", "[{\"Config\":\"bad3.json\",\"Layers\":[\"l.tar\"]}]", DC_EFORMAT, "diff_ids[0]" },
		{ "config wrong rootfs type", "[{\"Config\":\"bad4.json\",\"Layers\":[]}]", DC_EFORMAT, "rootfs.type" },
	};
	struct fx_layer l;
	struct ubuf cfg = { 0 };
	size_t i;

	fx_layer_make(&l, "f", "x", DC_COMP_NONE);
	fx_config(&cfg, &l, 1, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ubuf t = { 0 };
		struct opened o;

		UNIT_CASE("%s", rows[i].name);
		tarb_file(&t, "c.json", cfg.p, cfg.len);
		tarb_str(&t, "c0.json", "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
		tarb_str(&t, "bad1.json", "[]");
		tarb_str(&t, "bad2.json", "{\"os\":\"linux\"}");
		tarb_str(&t, "bad3.json", "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:x\"]}}");
		tarb_str(&t, "bad4.json", "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}");
		tarb_file(&t, "l.tar", l.blob.p, l.blob.len);
		tarb_str(&t, "manifest.json", rows[i].manifest);
		tarb_end(&t);
		CHECK_EQ_INT(open_load(&t, &o), rows[i].want);
		if (rows[i].msg)
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), rows[i].msg);
		if (!rows[i].want && o.set && dc_set_count(o.set))
			CHECK_OK(dc_reader_verify(o.r, o.set));
		closed(&o);
		ubuf_free(&t);
	}
	ubuf_free(&cfg);
	fx_layer_free(&l);
}

/* Through the path API: compressed wrappers and format names. */
static char *write_tmp(const void *p, size_t n)
{
	char *path = unit_xmalloc(64);
	int fd;

	snprintf(path, 64, "/tmp/decant-unit-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		fprintf(stderr, "unit: cannot write %s\n", path);
		abort();
	}
	close(fd);
	return path;
}

TEST(reader_open_path)
{
	static const struct {
		enum dc_comp wrap;
		const char *format;
		int want;
		const char *set_format;
	} rows[] = {
		{ DC_COMP_NONE, NULL, 0, "oci-archive" },
		{ DC_COMP_GZIP, NULL, 0, "oci-archive" },
		{ DC_COMP_ZSTD, NULL, 0, "oci-archive" },
		{ DC_COMP_NONE, "oci", 0, "oci-archive" },
		{ DC_COMP_NONE, "oci-archive", 0, "oci-archive" },
		{ DC_COMP_NONE, "docker-archive", 0, "oci-archive" },
		{ DC_COMP_NONE, "docker-legacy", DC_EFORMAT, NULL },
		{ DC_COMP_NONE, "tarball", DC_EINVAL, NULL },
	};
	struct fx_layer l[2];
	struct ubuf t = { 0 };
	size_t i;

	two_layers(l);
	fx_oci_tar(&t, l, 2, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ubuf z = { 0 };
		struct dc_reader *r = NULL;
		struct dc_set *set = NULL;
		char *path;
		int err;

		UNIT_CASE("%s, format %s", dc__comp_name(rows[i].wrap),
			  rows[i].format ? rows[i].format : "(detect)");
		if (rows[i].wrap == DC_COMP_NONE)
			ubuf_add(&z, t.p, t.len);
		else
			unit_compress(rows[i].wrap, t.p, t.len, &z);
		path = write_tmp(z.p, z.len);
		err = dc_reader_open(unit_ctx(), &r, path, rows[i].format);
		CHECK_EQ_INT(err, rows[i].want);
		if (!err) {
			CHECK_OK(dc_reader_load(r, &set));
			if (set) {
				CHECK_STR(dc_set_format(set), rows[i].set_format);
				CHECK_OK(dc_reader_verify(r, set));
			}
			CHECK_EQ_INT(r->src->wrapper, rows[i].wrap);
		}
		dc_set_free(set);
		dc_reader_free(r);
		unlink(path);
		free(path);
		ubuf_free(&z);
	}
	/* a missing file, and a corrupt wrapper */
	{
		struct dc_reader *r = NULL;
		struct ubuf z = { 0 };
		char *path;

		UNIT_CASE("missing");
		CHECK_ERR(dc_reader_open(unit_ctx(), &r, "/nonexistent/x.tar", NULL),
			  DC_EIO);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "/nonexistent/x.tar");
		UNIT_CASE("truncated gzip wrapper");
		unit_compress(DC_COMP_GZIP, t.p, t.len, &z);
		path = write_tmp(z.p, z.len / 2);
		CHECK_ERR(dc_reader_open(unit_ctx(), &r, path, NULL), DC_ECORRUPT);
		CHECK(r == NULL);
		unlink(path);
		free(path);
		ubuf_free(&z);
	}
	free_layers(l, 2);
	ubuf_free(&t);
}
