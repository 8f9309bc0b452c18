/*
 * --change instructions (src/transform/changes.c) and the rootfs reader
 * (src/readers/flat_export.c).
 */
#include "unit.h"

#include <jansson.h>

/* The all-zero container.Config, as moby's json.Marshal writes it. */
#define ZERO_CONFIG \
	"{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\"," \
	"\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false," \
	"\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null," \
	"\"Cmd\":null,\"Image\":\"\",\"Volumes\":null,\"WorkingDir\":\"\"," \
	"\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":null}"

/* Apply CHANGES (NULL-terminated) to IN (JSON text or NULL); the result
 * as compact JSON in *out (caller frees), or the error code. */
static int run(const char *in, const char *const *changes, char **out)
{
	json_t *j = NULL, *res = NULL;
	size_t n = 0;
	int err;

	*out = NULL;
	while (changes && changes[n])
		n++;
	if (in && !(j = json_loads(in, 0, NULL))) {
		unit_fail(__FILE__, __LINE__, "bad test input %s", in);
		return -100;
	}
	err = dc__changes_apply(unit_ctx(), &res, j, changes, n);
	if (!err)
		*out = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(res);
	json_decref(j);
	return err;
}

/* The JSON of one field of the result, or NULL if it is absent. */
static char *field(const char *json, const char *key)
{
	json_t *j = json_loads(json, 0, NULL), *v;
	char *s = NULL;

	v = json_object_get(j, key);
	if (v)
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
			       JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

TEST(changes_zero_config)
{
	char *out;

	CHECK_OK(run(NULL, NULL, &out));
	CHECK_STR(out, ZERO_CONFIG);
	free(out);
}

static const struct {
	const char *changes[4];
	const char *key;
	const char *want;	/* the field's JSON; NULL: absent */
} rows[] = {
	/* CMD and ENTRYPOINT: JSON and shell forms */
	{ { "CMD [\"/bin/cat\",\"/hello.txt\"]" }, "Cmd", "[\"/bin/cat\",\"/hello.txt\"]" },
	{ { "CMD echo hi" }, "Cmd", "[\"/bin/sh\",\"-c\",\"echo hi\"]" },
	{ { "cmd   echo  $HOME  " }, "Cmd", "[\"/bin/sh\",\"-c\",\"echo  $HOME\"]" },
	{ { "CMD [ -f x ] && y" }, "Cmd", "[\"/bin/sh\",\"-c\",\"[ -f x ] && y\"]" },
	{ { "CMD []" }, "Cmd", "[]" },
	{ { "CMD [\"a\"] trailing" }, "Cmd", "[\"a\"]" },
	{ { "ENTRYPOINT [\"/bin/sh\"]" }, "Entrypoint", "[\"/bin/sh\"]" },
	{ { "ENTRYPOINT top -b" }, "Entrypoint", "[\"/bin/sh\",\"-c\",\"top -b\"]" },
	{ { "CMD [\"x\"]", "ENTRYPOINT [\"e\"]" }, "Cmd", "[\"x\"]" },
	{ { "ENTRYPOINT [\"e\"]", "CMD [\"x\"]" }, "Cmd", "[\"x\"]" },
	{ { "CMD [\"x\"]\nENTRYPOINT [\"e\"]" }, "Cmd", "[\"x\"]" },
	/* empty commands, as dockerd 20.10 takes them */
	{ { "CMD" }, "Cmd", "[\"/bin/sh\",\"-c\"]" },
	{ { "ENTRYPOINT" }, "Entrypoint", "null" },
	{ { "ENTRYPOINT []" }, "Entrypoint", "null" },
	{ { "CMD [\"x\"]", "ENTRYPOINT" }, "Cmd", "[\"x\"]" },
	{ { "CMD -- --x" }, "Cmd", "[\"/bin/sh\",\"-c\",\"--x\"]" },
	/* ENV: new and legacy forms, quotes, escapes, expansion */
	{ { "ENV a=1 b=\"two words\" c='$a' d=\\$a" }, "Env",
	  "[\"a=1\",\"b=two words\",\"c=$a\",\"d=$a\"]" },
	{ { "ENV k hello world" }, "Env", "[\"k=hello world\"]" },
	{ { "ENV a=1", "ENV b=$a c=${a}x d=${nope:-def} e=${a:+set}" }, "Env",
	  "[\"a=1\",\"b=1\",\"c=1x\",\"d=def\",\"e=set\"]" },
	{ { "ENV a=1 b=$a" }, "Env", "[\"a=1\",\"b=\"]" },	/* before the instruction */
	{ { "ENV a=1 b=2", "ENV a=3" }, "Env", "[\"a=3\",\"b=2\"]" },
	{ { "ENV p=\"a\\\"b\\\\c\\d\"" }, "Env", "[\"p=a\\\"b\\\\c\\\\d\"]" },
	{ { "ENV e=" }, "Env", "[\"e=\"]" },
	{ { "ENV PATH=/usr/bin", "ENV PATH=$PATH:/opt/bin" }, "Env",
	  "[\"PATH=/usr/bin:/opt/bin\"]" },
	/* LABEL: a map, keys sorted */
	{ { "LABEL b=2 a=\"x y\"", "label legacy the value" }, "Labels",
	  "{\"a\":\"x y\",\"b\":\"2\",\"legacy\":\"the value\"}" },
	/* EXPOSE */
	{ { "EXPOSE 80 443/udp", "EXPOSE 53/UDP" }, "ExposedPorts",
	  "{\"443/udp\":{},\"53/udp\":{},\"80/tcp\":{}}" },
	{ { "EXPOSE 8000-8002/sctp" }, "ExposedPorts",
	  "{\"8000/sctp\":{},\"8001/sctp\":{},\"8002/sctp\":{}}" },
	{ { "ENV P=\"1 2\"", "EXPOSE $P" }, "ExposedPorts", "{\"1/tcp\":{},\"2/tcp\":{}}" },
	{ { "EXPOSE 1.2.3.4:8080:80/udp 90:91 [::1]:100:100" }, "ExposedPorts",
	  "{\"100/tcp\":{},\"80/udp\":{},\"91/tcp\":{}}" },
	/* VOLUME */
	{ { "VOLUME [\"/b\",\"/a\"]" }, "Volumes", "{\"/a\":{},\"/b\":{}}" },
	{ { "VOLUME /data /logs" }, "Volumes", "{\"/data\":{},\"/logs\":{}}" },
	/* USER, WORKDIR, STOPSIGNAL */
	{ { "USER 1000:1000" }, "User", "\"1000:1000\"" },
	{ { "ENV U=app", "USER $U" }, "User", "\"app\"" },
	{ { "WORKDIR /a", "WORKDIR b/../c", "WORKDIR ./d/" }, "WorkingDir", "\"/a/c/d\"" },
	{ { "WORKDIR rel" }, "WorkingDir", "\"/rel\"" },
	{ { "WORKDIR /abs//kept/" }, "WorkingDir", "\"/abs//kept/\"" },
	{ { "WORKDIR /a", "WORKDIR .." }, "WorkingDir", "\"/\"" },
	{ { "STOPSIGNAL SIGTERM" }, "StopSignal", "\"SIGTERM\"" },
	{ { "STOPSIGNAL 9" }, "StopSignal", "\"9\"" },
	{ { "STOPSIGNAL rtmin+3" }, "StopSignal", "\"rtmin+3\"" },
	{ { "CMD x" }, "StopSignal", NULL },	/* omitempty */
	{ { "CMD x" }, "ExposedPorts", NULL },
	/* HEALTHCHECK */
	{ { "HEALTHCHECK NONE" }, "Healthcheck", "{\"Test\":[\"NONE\"]}" },
	{ { "HEALTHCHECK CMD curl -f http://localhost/" }, "Healthcheck",
	  "{\"Test\":[\"CMD-SHELL\",\"curl -f http://localhost/\"]}" },
	{ { "HEALTHCHECK --interval=5m --timeout=3s --start-period=1.5s --retries=3 CMD [\"/bin/true\"]" },
	  "Healthcheck",
	  "{\"Test\":[\"CMD\",\"/bin/true\"],\"Interval\":300000000000,\"Timeout\":3000000000,"
	  "\"StartPeriod\":1500000000,\"Retries\":3}" },
	{ { "HEALTHCHECK --interval=1h30m10ms CMD x" }, "Healthcheck",
	  "{\"Test\":[\"CMD-SHELL\",\"x\"],\"Interval\":5400010000000}" },
	/* ONBUILD */
	{ { "ONBUILD RUN echo hi  ", "onbuild   COPY . /src" }, "OnBuild",
	  "[\"RUN echo hi  \",\"COPY . /src\"]" },	/* as moby, blanks kept */
	/* several lines, continuations, comments, blank changes */
	{ { "# comment\n\nENV a=1 \\\n  b=2\n", "" }, "Env", "[\"a=1\",\"b=2\"]" },
};

TEST(changes_table)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *out = NULL, *got;

		UNIT_CASE("row %zu: %s", i, rows[i].changes[0]);
		CHECK_OK(run(NULL, rows[i].changes, &out));
		if (!out)
			continue;
		got = field(out, rows[i].key);
		CHECK_STR(got, rows[i].want);
		free(got);
		free(out);
	}
}

TEST(changes_field_order)
{
	static const char *const ch[] = {
		"STOPSIGNAL TERM", "HEALTHCHECK NONE", "EXPOSE 80", "LABEL a=b",
		"ENV A=1", NULL
	};
	char *out;

	CHECK_OK(run(NULL, ch, &out));
	/* Go's declaration order, omitempty fields where they belong */
	CHECK_STR(out,
		  "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\","
		  "\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
		  "\"ExposedPorts\":{\"80/tcp\":{}},"
		  "\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"A=1\"],"
		  "\"Cmd\":null,\"Healthcheck\":{\"Test\":[\"NONE\"]},\"Image\":\"\","
		  "\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,"
		  "\"Labels\":{\"a\":\"b\"},\"StopSignal\":\"TERM\"}");
	free(out);
}

TEST(changes_on_existing_config)
{
	static const char *const ep[] = { "ENTRYPOINT [\"/e\"]", NULL };
	static const char *const env[] = { "ENV B=$A-2", "WORKDIR sub", NULL };
	char *out, *f;

	/* a new ENTRYPOINT drops the CMD it did not come with (moby) */
	CHECK_OK(run("{\"Cmd\":[\"c\"],\"Extra\":1}", ep, &out));
	f = field(out, "Cmd");
	CHECK_STR(f, "null");
	free(f);
	f = field(out, "Extra");	/* unknown fields are kept */
	CHECK_STR(f, "1");
	free(f);
	free(out);
	CHECK_OK(run("{\"Env\":[\"A=1\"],\"WorkingDir\":\"/w\"}", env, &out));
	f = field(out, "Env");
	CHECK_STR(f, "[\"A=1\",\"B=1-2\"]");
	free(f);
	f = field(out, "WorkingDir");
	CHECK_STR(f, "\"/w/sub\"");
	free(f);
	free(out);
}

static const struct {
	const char *change;
	const char *msg;
} bad_rows[] = {
	{ "FOO x", "--change 'FOO x': unknown instruction" },
	{ "RUN echo", "--change 'RUN echo': RUN is not allowed in a change" },
	{ "FROM scratch", "FROM is not allowed" },
	{ "CMD [1, 2]", "non-string" },
	{ "CMD --foo bar", "unknown flag '--foo'" },
	{ "ENV", "ENV needs at least one argument" },
	{ "ENV k", "ENV must have two arguments" },
	{ "ENV a=1 b", "no '=' in 'b'" },
	{ "ENV =x", "ENV names can not be blank" },
	{ "ENV a=\"open", "matching double-quote" },
	{ "ENV a='open", "matching single-quote" },
	{ "ENV a=${b", "missing '}'" },
	{ "ENV a=${}", "bad substitution" },
	{ "ENV a=${b:*x}", "unsupported modifier" },
	{ "ENV a=\"${b:?must be set}\"", "b: must be set" },
	{ "ENV a=${b?}", "b: is not allowed to be unset" },
	{ "LABEL", "LABEL needs at least one argument" },
	{ "EXPOSE", "EXPOSE needs at least one argument" },
	{ "EXPOSE http", "invalid port 'http'" },
	{ "EXPOSE 70000", "invalid port '70000'" },
	{ "EXPOSE 80/icmp", "invalid proto 'icmp'" },
	{ "EXPOSE 90-80", "invalid port range '90-80'" },
	{ "VOLUME", "VOLUME needs at least one argument" },
	{ "VOLUME [\"\"]", "can not be an empty string" },
	{ "USER", "USER needs exactly one argument" },
	{ "WORKDIR", "WORKDIR needs exactly one argument" },
	{ "STOPSIGNAL SIGFOO", "invalid signal 'SIGFOO'" },
	{ "STOPSIGNAL 0", "invalid signal '0'" },
	{ "HEALTHCHECK", "HEALTHCHECK needs at least one argument" },
	{ "HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments" },
	{ "HEALTHCHECK CMD", "missing command after HEALTHCHECK CMD" },
	{ "HEALTHCHECK RUN x", "unknown type 'RUN'" },
	{ "HEALTHCHECK --bogus=1 CMD x", "unknown flag '--bogus'" },
	{ "HEALTHCHECK --interval CMD x", "'--interval' needs a value" },
	{ "HEALTHCHECK --interval=10 CMD x", "invalid duration" },
	{ "HEALTHCHECK --interval=10us CMD x", "less than 1ms" },
	{ "HEALTHCHECK --interval=0 CMD x", "less than 1ms" },
	{ "HEALTHCHECK --retries=0 CMD x", "--retries must be at least 1" },
	{ "ONBUILD ONBUILD CMD x", "chaining ONBUILD" },
	{ "ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger" },
};

TEST(changes_no_instruction)
{
	static const char *const empty[] = { "", "# only a comment\n", NULL };
	char *out = NULL;

	/* moby: "file with no instructions"; one empty change among others
	 * is fine */
	CHECK_ERR(run(NULL, empty, &out), DC_EINVAL);
	CHECK_STR(dc_ctx_errmsg(unit_ctx()), "--change '': no instruction");
	free(out);
}

TEST(changes_errors)
{
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const char *ch[] = { "ENV ok=1", bad_rows[i].change, NULL };
		char *out = NULL;

		UNIT_CASE("%s", bad_rows[i].change);
		CHECK_ERR(run(NULL, ch, &out), DC_EINVAL);
		CHECK(out == NULL);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), bad_rows[i].msg);
		CHECK(!strncmp(dc_ctx_errmsg(unit_ctx()), "--change '", 10));
		free(out);
	}
}

/* ------------------------------------------------------------------ */
/* The rootfs reader */

static void flat_tar(struct ubuf *t)
{
	tarb_dir(t, "./");
	tarb_dir(t, "./etc/");
	tarb_str(t, "./etc/motd", "hello\n");
	tarb_symlink(t, "./motd", "etc/motd");
	tarb_hardlink(t, "./etc/motd2", "etc/motd");
	tarb_end(t);
}

static json_t *config_of(const struct dc_image *img)
{
	return json_loadb(img->config_raw.data, img->config_raw.len, 0, NULL);
}

TEST(rootfs_read_defaults)
{
	struct ubuf t = { 0 };
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	const struct dc_image *img;
	const struct dc_desc *l;
	char want[DC_DIGEST_MAX], *hist;
	json_t *cfg;

	unsetenv("SOURCE_DATE_EPOCH");
	flat_tar(&t);
	dc__sha256_digest(t.p, t.len, want);
	CHECK_OK(dc_reader_open_memory(unit_ctx(), &r, t.p, t.len));
	REQUIRE(r);
	CHECK_OK(dc_reader_load(r, &set));
	REQUIRE(set);
	CHECK_STR(dc_set_format(set), "rootfs");
	REQUIRE(dc_set_count(set) == 1);
	img = dc_set_image(set, 0);
	CHECK_EQ_INT(dc_image_tag_count(img), 0);
	REQUIRE(dc_image_layer_count(img) == 1);
	l = dc_image_layer(img, 0);
	CHECK_STR(dc_desc_digest(l), want);
	CHECK_STR(dc_desc_diff_id(l), want);
	CHECK_EQ_INT(dc_desc_size(l), t.len);
	CHECK_STR(dc_desc_compression(l), "none");
	CHECK_STR(dc_desc_media_type(l), "application/vnd.oci.image.layer.v1.tar");
	CHECK_STR(dc_desc_media_type(dc_image_manifest(img)),
		  "application/vnd.oci.image.manifest.v1+json");
	cfg = config_of(img);
	REQUIRE(cfg);
	CHECK_STR(json_string_value(json_object_get(cfg, "os")), "linux");
	/* without SOURCE_DATE_EPOCH: the newest mtime in the tar */
	CHECK_STR(json_string_value(json_object_get(cfg, "created")),
		  "2000-01-01T00:00:00Z");
	CHECK_STR(json_string_value(json_object_get(cfg, "comment")),
		  "Imported from -");
	hist = json_dumps(json_object_get(cfg, "history"), JSON_COMPACT);
	CHECK_STR(hist, "[{\"created\":\"2000-01-01T00:00:00Z\",\"comment\":\"Imported from -\"}]");
	free(hist);
	CHECK(img->config_raw.data[0] == '{' &&
	      !strncmp(img->config_raw.data, "{\"architecture\":", 16));
	CHECK_CONTAINS(img->config_raw.data, "\"config\":" ZERO_CONFIG
		       ",\"container_config\":" ZERO_CONFIG ",\"created\":");
	json_decref(cfg);
	/* the layer streams back as the whole tar, checked */
	CHECK_OK(dc_reader_verify(r, set));
	dc_set_free(set);
	dc_reader_free(r);
	ubuf_free(&t);
}

TEST(rootfs_read_import_opts)
{
	static const char *const ch[] = { "CMD [\"/bin/cat\",\"/etc/motd\"]",
					  "ENV A=1" };
	struct dc_import_opts o = { "linux/arm64/v8", ch, 2, "my message" };
	struct ubuf t = { 0 };
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	const struct dc_image *img;
	json_t *cfg;
	char *s;

	setenv("SOURCE_DATE_EPOCH", "86400", 1);
	flat_tar(&t);
	CHECK_OK(dc_reader_open_memory(unit_ctx(), &r, t.p, t.len));
	REQUIRE(r);
	CHECK_OK(dc_reader_set_import(r, &o));
	CHECK_OK(dc_reader_load(r, &set));
	REQUIRE(set);
	img = dc_set_image(set, 0);
	CHECK_STR(dc_image_platform(img), "linux/arm64/v8");
	cfg = config_of(img);
	REQUIRE(cfg);
	CHECK_STR(json_string_value(json_object_get(cfg, "architecture")), "arm64");
	CHECK_STR(json_string_value(json_object_get(cfg, "variant")), "v8");
	CHECK_STR(json_string_value(json_object_get(cfg, "comment")), "my message");
	CHECK_STR(json_string_value(json_object_get(cfg, "created")),
		  "1970-01-02T00:00:00Z");
	s = json_dumps(json_object_get(json_object_get(cfg, "config"), "Cmd"),
		       JSON_COMPACT);
	CHECK_STR(s, "[\"/bin/cat\",\"/etc/motd\"]");
	free(s);
	s = json_dumps(json_object_get(cfg, "history"), JSON_COMPACT);
	CHECK_STR(s, "[{\"created\":\"1970-01-02T00:00:00Z\",\"comment\":\"my message\"}]");
	free(s);
	json_decref(cfg);
	/* too late once loaded */
	CHECK_ERR(dc_reader_set_import(r, &o), DC_EINVAL);
	dc_set_free(set);
	dc_reader_free(r);
	ubuf_free(&t);
	unsetenv("SOURCE_DATE_EPOCH");
}

TEST(rootfs_platforms)
{
	static const struct {
		const char *in;
		const char *want;	/* NULL: DC_EINVAL */
	} prow[] = {
		{ "linux/amd64", "linux/amd64" },
		{ "linux/x86_64", "linux/amd64" },
		{ "Linux/AARCH64", "linux/arm64" },
		{ "linux/arm64/v8", "linux/arm64/v8" },
		{ "linux/arm", "linux/arm/v7" },
		{ "linux/arm/6", "linux/arm/v6" },
		{ "linux/armhf", "linux/arm/v7" },
		{ "linux/386", "linux/386" },
		{ "windows/amd64", "windows/amd64" },
		{ "linux", NULL },
		{ "linux/", NULL },
		{ "/amd64", NULL },
		{ "linux/amd64/", NULL },
		{ "linux/amd64/v1/x", NULL },
		{ "linux/am d64", NULL },
	};
	struct ubuf t = { 0 };
	size_t i;

	flat_tar(&t);
	for (i = 0; i < sizeof(prow) / sizeof(prow[0]); i++) {
		struct dc_import_opts o = { prow[i].in, NULL, 0, NULL };
		struct dc_reader *r = NULL;
		struct dc_set *set = NULL;

		UNIT_CASE("%s", prow[i].in);
		CHECK_OK(dc_reader_open_memory(unit_ctx(), &r, t.p, t.len));
		if (!r)
			continue;
		if (!prow[i].want) {
			CHECK_ERR(dc_reader_set_import(r, &o), DC_EINVAL);
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()),
				       "expected OS/ARCH[/VARIANT]");
		} else {
			CHECK_OK(dc_reader_set_import(r, &o));
			CHECK_OK(dc_reader_load(r, &set));
			if (set)
				CHECK_STR(dc_image_platform(dc_set_image(set, 0)),
					  prow[i].want);
		}
		dc_set_free(set);
		dc_reader_free(r);
	}
	ubuf_free(&t);
}

TEST(rootfs_bid)
{
	static const struct {
		const char *name;
		const char *members[3];
		int rootfs;
	} brow[] = {
		{ "plain files", { "hello.txt", "etc/passwd", NULL }, 1 },
		{ "manifest.json in a dir", { "x/manifest.json", NULL, NULL }, 1 },
		{ "oci-layout alone", { "oci-layout", NULL, NULL }, 0 },
		{ "index.json alone", { "index.json", NULL, NULL }, 0 },
		{ "repositories alone", { "repositories", NULL, NULL }, 0 },
	};
	size_t i, k;

	for (i = 0; i < sizeof(brow) / sizeof(brow[0]); i++) {
		struct ubuf t = { 0 };
		struct dc_reader *r = NULL;
		struct dc_set *set = NULL;
		int err;

		UNIT_CASE("%s", brow[i].name);
		for (k = 0; k < 3 && brow[i].members[k]; k++)
			tarb_str(&t, brow[i].members[k], "{}");
		tarb_end(&t);
		err = dc_reader_open_memory(unit_ctx(), &r, t.p, t.len);
		if (brow[i].rootfs) {
			CHECK_OK(err);
			if (r && dc_reader_load(r, &set) == 0)
				CHECK_STR(dc_set_format(set), "rootfs");
		} else {
			CHECK_ERR(err, DC_EFORMAT);
		}
		dc_set_free(set);
		dc_reader_free(r);
		ubuf_free(&t);
	}
}

TEST(rootfs_import_opts_need_rootfs)
{
	struct fx_layer l;
	struct ubuf t = { 0 };
	struct dc_reader *r = NULL;
	struct dc_import_opts o = { "linux/amd64", NULL, 0, NULL };

	fx_layer_make(&l, "a.txt", "x", DC_COMP_NONE);
	fx_docker_tar(&t, &l, 1, 0, "x:1");
	CHECK_OK(dc_reader_open_memory(unit_ctx(), &r, t.p, t.len));
	if (r)
		CHECK_ERR(dc_reader_set_import(r, &o), DC_EUNSUPPORTED);
	dc_reader_free(r);
	fx_layer_free(&l);
	ubuf_free(&t);
}

TEST(rootfs_bad_change_before_load)
{
	static const char *const ch[] = { "FOO x" };
	struct dc_import_opts o = { NULL, ch, 1, NULL };
	struct ubuf t = { 0 };
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;

	flat_tar(&t);
	CHECK_OK(dc_reader_open_memory(unit_ctx(), &r, t.p, t.len));
	REQUIRE(r);
	CHECK_ERR(dc_reader_set_import(r, &o), DC_EINVAL);
	CHECK_STR(dc_ctx_errmsg(unit_ctx()), "--change 'FOO x': unknown instruction");
	/* a failed call leaves the reader usable with its defaults */
	CHECK_OK(dc_reader_load(r, &set));
	dc_set_free(set);
	dc_reader_free(r);
	ubuf_free(&t);
}

/* Did the injected failure happen? Consumes the countdown. */
static int fired(struct dc_ctx *ctx, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		void *p = dc__calloc(ctx, 1, 1);

		if (!p) {
			dc__fail_alloc_at(0);
			return 0;
		}
		free(p);
	}
	dc__fail_alloc_at(0);
	return 1;
}

/* Every allocation failure on the rootfs path fails cleanly as
 * DC_ENOMEM (curl's torture mode; LSan checks leaks at exit). */
TEST(rootfs_failalloc)
{
	static const char *const ch[] = { "CMD [\"/x\"]", "ENV A=1 B=\"$A 2\"",
					  "LABEL a=b", "EXPOSE 80",
					  "HEALTHCHECK --retries=2 CMD true" };
	struct dc_import_opts o = { "linux/arm/7", ch, 5, "m" };
	struct ubuf t = { 0 };
	long n;

	flat_tar(&t);
	for (n = 1; n < 100000; n++) {
		struct dc_ctx *ctx;
		struct dc_reader *r = NULL;
		struct dc_set *set = NULL;
		int err, hit;
		char msg[512];

		if (dc_ctx_new(&ctx) < 0)
			abort();
		dc__fail_alloc_at(n);
		err = dc_reader_open_memory(ctx, &r, t.p, t.len);
		if (!err)
			err = dc_reader_set_import(r, &o);
		if (!err)
			err = dc_reader_load(r, &set);
		if (!err)
			err = dc_reader_verify(r, set);
		hit = fired(ctx, n);
		snprintf(msg, sizeof(msg), "%s", dc_ctx_errmsg(ctx));
		UNIT_CASE("n=%ld", n);
		if (!err && set)
			CHECK_STR(dc_set_format(set), "rootfs");
		dc_set_free(set);
		dc_reader_free(r);
		dc_ctx_free(ctx);
		if (!hit) {
			/* the countdown is still pending: a full run */
			CHECK_EQ_INT(err, 0);
			break;
		}
		/* 0: a failure in another reader's bid, where
		 * dc__src_exists() takes it for "no such member"; the
		 * source still reads as rootfs (checked above) */
		CHECKF(err == DC_ENOMEM || err == 0, "n=%ld: %d %s", n, err, msg);
	}
	CHECK(n > 10 && n < 100000);
	ubuf_free(&t);
}
