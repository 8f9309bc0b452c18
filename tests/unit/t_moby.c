/*
 * The emulation of moby's quirks (src/moby/): Go encoding/json, the
 * container.Config table, chain IDs, v1 IDs and v1 image JSON. The
 * known values are real Docker outputs: testdata/docker-1.10 is a
 * `docker save` of dockerd 20.10.24, and the image IDs of
 * testdata/legacy are what that dockerd reported after `docker load`
 * (testdata/legacy/expected.ids).
 */
#include "unit.h"

#include <jansson.h>

#include "moby/moby.h"

/* ------------------------------------------------------------------ */
/* Go encoding/json */

/* What FN(w, ...) wrote, as a NUL-terminated string in B. */
#define ENCODE(b, call) do { \
	struct dc_gow w = { unit_ctx(), &(b), 0 }; \
	(b).len = 0; \
	call; \
	CHECK_OK(w.err); \
	CHECK_OK(dc__buf_add(unit_ctx(), &(b), "", 1)); \
} while (0)

TEST(moby_go_string)
{
	static const struct {
		const char *in;
		size_t n;	/* 0: strlen */
		const char *want;
	} cases[] = {
		{ "", 0, "\"\"" },
		{ "plain / text", 0, "\"plain / text\"" },
		{ "q\"b\\", 0, "\"q\\\"b\\\\\"" },
		/* HTML characters escaped, as json.Marshal does */
		{ "a<b>&c", 0, "\"a\\u003cb\\u003e\\u0026c\"" },
		/* \n \r \t short; \b \f (Go before 1.22) and the rest \u00XX */
		{ "\n\r\t\b\f\x01\x1f", 0,
		  "\"\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\"" },
		{ "nul\0x", 5, "\"nul\\u0000x\"" },
		/* DEL and other UTF-8 stay raw */
		{ "\x7f caf\xc3\xa9 \xf0\x9f\x98\x80", 0,
		  "\"\x7f caf\xc3\xa9 \xf0\x9f\x98\x80\"" },
		/* U+2028 and U+2029 escaped, their neighbour U+2027 not */
		{ "\xe2\x80\xa8|\xe2\x80\xa9|\xe2\x80\xa7", 0,
		  "\"\\u2028|\\u2029|\xe2\x80\xa7\"" },
		/* a cut sequence at the end is copied as it is */
		{ "x\xe2\x80", 0, "\"x\xe2\x80\"" },
	};
	struct dc_buf b = DC_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].n ? cases[i].n : strlen(cases[i].in);

		UNIT_CASE("%zu", i);
		ENCODE(b, dc__gow_strn(&w, cases[i].in, n));
		CHECK_STR(b.data, cases[i].want);
	}
	ENCODE(b, dc__gow_str(&w, NULL));
	CHECK_STR(b.data, "\"\"");
	dc__buf_release(&b);
}

TEST(moby_go_number)
{
	static const struct {
		long long v;
		const char *want;
	} ints[] = {
		{ 0, "0" }, { -1, "-1" }, { 30000000000LL, "30000000000" },
		{ 9223372036854775807LL, "9223372036854775807" },
		{ -9223372036854775807LL - 1, "-9223372036854775808" },
	};
	struct dc_buf b = DC_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		UNIT_CASE("%lld", ints[i].v);
		ENCODE(b, dc__gow_int(&w, ints[i].v));
		CHECK_STR(b.data, ints[i].want);
	}
	dc__buf_release(&b);
}

/* A json.RawMessage keeps its numbers and escapes as written. */
TEST(moby_go_compact)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "1", "1" },
		{ " [1, 2.50, -0, 1e3, 1E-2, true, null] ",
		  "[1,2.50,-0,1e3,1E-2,true,null]" },
		{ "{ \"a\" :\t{\"b\" :\r\n[ ] } }", "{\"a\":{\"b\":[]}}" },
		/* inside strings: blanks and escapes kept, HTML escaped */
		{ "\"a  b\\\" <\\/> \\u00e9\"",
		  "\"a  b\\\" \\u003c\\/\\u003e \\u00e9\"" },
		{ "{\"k&\": \"x<y>&z\"}",
		  "{\"k\\u0026\":\"x\\u003cy\\u003e\\u0026z\"}" },
		{ "\"\xe2\x80\xa8 \xe2\x80\xa9 \\u2028\"",
		  "\"\\u2028 \\u2029 \\u2028\"" },
		/* an escaped quote does not end the string */
		{ "[\"\\\\\", \" \\\" \" ]", "[\"\\\\\",\" \\\" \"]" },
	};
	struct dc_buf b = DC_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		UNIT_CASE("%s", cases[i].in);
		ENCODE(b, dc__gow_compact(&w, cases[i].in, strlen(cases[i].in)));
		CHECK_STR(b.data, cases[i].want);
	}
	dc__buf_release(&b);
}

TEST(moby_go_time)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "2026-11-25T19:38:03.469152959Z",
		  "2026-11-25T19:38:03.469152959Z" },
		{ "2013-06-13T14:03:50.821769-07:00",
		  "2013-06-13T14:03:50.821769-07:00" },
		/* fraction: trailing zeros go, beyond ns is cut, ',' is '.' */
		{ "2015-11-21T12:30:00.500+02:00", "2015-11-21T12:30:00.5+02:00" },
		{ "2015-11-23T01:02:03.000000000-05:00",
		  "2015-11-23T01:02:03-05:00" },
		{ "2015-11-20T10:00:00.123456789012Z",
		  "2015-11-20T10:00:00.123456789Z" },
		{ "2015-11-20T10:00:00,25Z", "2015-11-20T10:00:00.25Z" },
		/* a zero offset is Z */
		{ "2015-11-20T10:00:00+00:00", "2015-11-20T10:00:00Z" },
		{ "2016-02-29T00:00:00Z", "2016-02-29T00:00:00Z" },
		/* anything else is Go's zero time */
		{ "2015-02-29T00:00:00Z", "0001-01-01T00:00:00Z" },
		{ "2015-11-20T24:00:00Z", "0001-01-01T00:00:00Z" },
		{ "2015-11-20 10:00:00Z", "0001-01-01T00:00:00Z" },
		{ "2015-11-20T10:00:00", "0001-01-01T00:00:00Z" },
		{ "2015-11-20T10:00:00+0200", "0001-01-01T00:00:00Z" },
		{ "", "0001-01-01T00:00:00Z" },
		{ NULL, "0001-01-01T00:00:00Z" },
	};
	char out[48];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		UNIT_CASE("%s", cases[i].in ? cases[i].in : "(null)");
		dc__go_time(cases[i].in, out, sizeof(out));
		CHECK_STR(out, cases[i].want);
	}
}

/* A map dumps its keys sorted by bytes, a struct in insertion order. */
TEST(moby_go_key_order)
{
	struct dc_gomap m = { unit_ctx(), NULL, 0 };
	struct dc_buf b = DC_BUF_INIT;

	CHECK_OK(dc__gomap_put(&m, "b", "1", 1));
	CHECK_OK(dc__gomap_put(&m, "a", "2", 1));
	CHECK_OK(dc__gomap_put(&m, "B<", "3", 1));
	CHECK_OK(dc__gomap_put(&m, "\xc3\xa9", "4", 1));
	CHECK_OK(dc__gomap_put(&m, "a", "5", 1));	/* replaces */
	CHECK_EQ_INT(m.n, 4);
	CHECK_OK(dc__gomap_dump(&m, &b, 0));
	CHECK_MEM(b.data, b.len, "{\"b\":1,\"a\":5,\"B\\u003c\":3,\"\xc3\xa9\":4}",
		  strlen("{\"b\":1,\"a\":5,\"B\\u003c\":3,\"\xc3\xa9\":4}"));
	dc__gomap_del(&m, "b");
	dc__gomap_del(&m, "none");
	b.len = 0;
	CHECK_OK(dc__gomap_dump(&m, &b, 1));
	CHECK_MEM(b.data, b.len, "{\"B\\u003c\":3,\"a\":5,\"\xc3\xa9\":4}",
		  strlen("{\"B\\u003c\":3,\"a\":5,\"\xc3\xa9\":4}"));
	dc__gomap_release(&m);
	b.len = 0;
	CHECK_OK(dc__gomap_dump(&m, &b, 1));
	CHECK_MEM(b.data, b.len, "{}", 2);
	dc__buf_release(&b);
}

/* json.Unmarshal into map[string]json.RawMessage, then json.Marshal */
TEST(moby_go_raw_members)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "{}", "{}" },
		{ " {\n \"b\" : 1 ,\"a\":{ \"x\" : \"<\" } }\n",
		  "{\"a\":{\"x\":\"\\u003c\"},\"b\":1}" },
		/* the last duplicate wins */
		{ "{\"dup\":1,\"dup\":[2]}", "{\"dup\":[2]}" },
		/* keys decoded, then encoded again */
		{ "{\"a\\/b\":1,\"k<ey>\":2,\"\\u00e9\":3,\"\\ud83d\\ude00\":4}",
		  "{\"a/b\":1,\"k\\u003cey\\u003e\":2,\"\xc3\xa9\":3,"
		  "\"\xf0\x9f\x98\x80\":4}" },
		/* a lone surrogate is U+FFFD */
		{ "{\"\\ud800\":1}", "{\"\xef\xbf\xbd\":1}" },
		{ "{\"\\n\\t\\\"\":1}", "{\"\\n\\t\\\"\":1}" },
	};
	struct dc_buf b = DC_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dc_gomap m = { unit_ctx(), NULL, 0 };

		UNIT_CASE("%s", cases[i].in);
		b.len = 0;
		CHECK_OK(dc__gomap_raw_members(&m, cases[i].in,
					       strlen(cases[i].in)));
		CHECK_OK(dc__gomap_dump(&m, &b, 1));
		CHECK_MEM(b.data, b.len, cases[i].want, strlen(cases[i].want));
		dc__gomap_release(&m);
	}
	{
		struct dc_gomap m = { unit_ctx(), NULL, 0 };

		UNIT_CASE("not an object");
		CHECK_ERR(dc__gomap_raw_members(&m, "[1]", 3), DC_EFORMAT);
		dc__gomap_release(&m);
	}
	dc__buf_release(&b);
}

/* Case-insensitive keys, the last one of the right type wins, null is
 * the zero value. */
TEST(moby_go_get)
{
	static const struct {
		const char *obj, *name;
		enum dc_gotype t;
		const char *want;	/* compact JSON, NULL: zero value */
	} cases[] = {
		{ "{\"Env\":[\"a\"]}", "Env", DC_GO_STRLIST, "[\"a\"]" },
		{ "{\"ENV\":[\"a\"],\"env\":[\"b\"]}", "Env", DC_GO_STRLIST,
		  "[\"b\"]" },
		/* a value of the wrong type is skipped */
		{ "{\"Env\":[\"a\"],\"env\":\"x\"}", "Env", DC_GO_STRLIST,
		  "[\"a\"]" },
		{ "{\"Env\":null}", "Env", DC_GO_STRLIST, NULL },
		{ "{\"Cmd\":\"echo hi\"}", "Cmd", DC_GO_STRSLICE, "\"echo hi\"" },
		{ "{\"Cmd\":[\"a\",1]}", "Cmd", DC_GO_STRSLICE, NULL },
		{ "{\"Cmd\":[\"a\",null]}", "Cmd", DC_GO_STRSLICE,
		  "[\"a\",null]" },
		{ "{\"Size\":1.5}", "Size", DC_GO_INT, NULL },
		{ "{\"Tty\":1}", "Tty", DC_GO_BOOL, NULL },
		{ "{\"config\":null}", "config", DC_GO_CONFIG, NULL },
		{ "{\"Labels\":{\"a\":\"1\"}}", "labels", DC_GO_STRMAP,
		  "{\"a\":\"1\"}" },
		{ "[1]", "x", DC_GO_STR, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *obj = json_loads(cases[i].obj, 0, NULL), *v;
		char *got;

		UNIT_CASE("%s %s", cases[i].obj, cases[i].name);
		REQUIRE(obj);
		v = dc__go_get(obj, cases[i].name, cases[i].t);
		got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		CHECK_STR(got, cases[i].want);
		free(got);
		json_decref(obj);
	}
	{
		json_t *obj = json_loads("{\"os\":\"linux\",\"OS\":7}", 0,
					 NULL);

		REQUIRE(obj);
		CHECK_STR(dc__go_get_str(obj, "Os"), "linux");
		CHECK_STR(dc__go_get_str(obj, "arch"), "");
		json_decref(obj);
	}
}

/* ------------------------------------------------------------------ */
/* container.Config */

TEST(moby_config_table)
{
	/* moby@v20.10.24 api/types/container/config.go, in order */
	static const struct {
		const char *name;
		int omitempty;
	} want[] = {
		{ "Hostname", 0 }, { "Domainname", 0 }, { "User", 0 },
		{ "AttachStdin", 0 }, { "AttachStdout", 0 },
		{ "AttachStderr", 0 }, { "ExposedPorts", 1 }, { "Tty", 0 },
		{ "OpenStdin", 0 }, { "StdinOnce", 0 }, { "Env", 0 },
		{ "Cmd", 0 }, { "Healthcheck", 1 }, { "ArgsEscaped", 1 },
		{ "Image", 0 }, { "Volumes", 0 }, { "WorkingDir", 0 },
		{ "Entrypoint", 0 }, { "NetworkDisabled", 1 },
		{ "MacAddress", 1 }, { "OnBuild", 0 }, { "Labels", 0 },
		{ "StopSignal", 1 }, { "StopTimeout", 1 }, { "Shell", 1 },
	};
	size_t i;

	REQUIRE(dc__moby_nconfig_fields == sizeof(want) / sizeof(want[0]));
	for (i = 0; i < dc__moby_nconfig_fields; i++) {
		UNIT_CASE("%s", want[i].name);
		CHECK_STR(dc__moby_config_fields[i].name, want[i].name);
		CHECK_EQ_INT(dc__moby_config_fields[i].omitempty,
			     want[i].omitempty);
	}
}

/* What --change (src/transform/changes.c, the table's other user) makes
 * of IN with no change: the fields in moby's order, Go's zero values. */
static char *changes_layout(const char *in)
{
	json_t *j = in ? json_loads(in, 0, NULL) : NULL, *res = NULL;
	char *s = NULL;

	if (!dc__changes_apply(unit_ctx(), &res, j, NULL, 0))
		s = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(res);
	json_decref(j);
	return s;
}

TEST(moby_config_marshal)
{
	static const struct {
		const char *in, *want;	/* WANT NULL: as changes_layout */
	} cases[] = {
		{ NULL, NULL },
		{ "{}", NULL },
		/* omitempty fields left out when empty */
		{ "{\"ExposedPorts\":{},\"Healthcheck\":null,\"ArgsEscaped\":false,"
		  "\"MacAddress\":\"\",\"Shell\":[],\"StopSignal\":\"\","
		  "\"NetworkDisabled\":false}", NULL },
		/* both users agree on a config as Docker writes it */
		{ "{\"Hostname\":\"h\",\"Domainname\":\"\",\"User\":\"u\","
		  "\"AttachStdin\":false,\"AttachStdout\":true,"
		  "\"AttachStderr\":false,\"ExposedPorts\":{\"80/tcp\":{}},"
		  "\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,"
		  "\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"],\"Image\":\"i\","
		  "\"Volumes\":{\"/d\":{}},\"WorkingDir\":\"/w\","
		  "\"Entrypoint\":[\"e\"],\"OnBuild\":[],"
		  "\"Labels\":{\"a\":\"1\"},\"StopSignal\":\"SIGTERM\"}", NULL },
		/* case-folded keys, a string Cmd, sorted maps, the optionals */
		{ "{\"user\":\"u\",\"cmd\":\"echo hi\",\"Labels\":{\"b\":\"2\","
		  "\"a\":\"1\"},\"ExposedPorts\":{\"80/tcp\":{},\"443/tcp\":{}},"
		  "\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],"
		  "\"Interval\":30000000000,\"Retries\":3,\"Timeout\":0},"
		  "\"StopTimeout\":10,\"Shell\":[\"/bin/sh\"],"
		  "\"ArgsEscaped\":true,\"Volumes\":{\"/d\":{}},\"Env\":[]}",
		  "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"u\","
		  "\"AttachStdin\":false,\"AttachStdout\":false,"
		  "\"AttachStderr\":false,\"ExposedPorts\":{\"443/tcp\":{},"
		  "\"80/tcp\":{}},\"Tty\":false,\"OpenStdin\":false,"
		  "\"StdinOnce\":false,\"Env\":[],\"Cmd\":[\"echo hi\"],"
		  "\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],"
		  "\"Interval\":30000000000,\"Retries\":3},\"ArgsEscaped\":true,"
		  "\"Image\":\"\",\"Volumes\":{\"/d\":{}},\"WorkingDir\":\"\","
		  "\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{\"a\":\"1\","
		  "\"b\":\"2\"},\"StopTimeout\":10,\"Shell\":[\"/bin/sh\"]}" },
	};
	struct dc_buf b = DC_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *in = cases[i].in ? json_loads(cases[i].in, 0, NULL)
					 : NULL;
		char *want = cases[i].want ? NULL : changes_layout(cases[i].in);

		UNIT_CASE("%zu", i);
		REQUIRE(!cases[i].in || in);
		CHECK(cases[i].want || want);
		ENCODE(b, dc__gow_config(&w, in));
		CHECK_STR(b.data, cases[i].want ? cases[i].want : want);
		free(want);
		json_decref(in);
	}
	dc__buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* chain IDs and v1 IDs */

/* Real Docker JSON, byte for byte (generated from the fixtures). */
#define SMALL_CONFIG \
	"{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"Domain" \
	"name\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":f" \
	"alse,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false,\"St" \
	"dinOnce\":false,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/us" \
	"r/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"/bin/cat\",\"/small.txt\"" \
	"],\"Image\":\"sha256:6120d351b8410232f61e8dcd64a89b444b923797ea5c3" \
	"dd195e7e8a06f2c1228\",\"Volumes\":null,\"WorkingDir\":\"\",\"Entry" \
	"point\":null,\"OnBuild\":null,\"Labels\":null},\"container\":\"c61" \
	"7dee269a10bee88c5b83c053d26066c3f879048aaa5865826871a44cd4fab\",\"" \
	"container_config\":{\"Hostname\":\"c617dee269a1\",\"Domainname\":" \
	"\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":false,\"" \
	"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce" \
	"\":false,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:" \
	"/usr/bin:/sbin:/bin\"],\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) \",\"C" \
	"MD [\\\"/bin/cat\\\" \\\"/small.txt\\\"]\"],\"Image\":\"sha256:612" \
	"0d351b8410232f61e8dcd64a89b444b923797ea5c3dd195e7e8a06f2c1228\",\"" \
	"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\"" \
	":null,\"Labels\":{}},\"created\":\"2026-11-25T19:38:03.664982643Z" \
	"\",\"docker_version\":\"20.10.24+dfsg1\",\"history\":[{\"created\"" \
	":\"2026-11-25T19:38:01.939963305Z\",\"comment\":\"decant base from" \
	" busybox-static\"},{\"created\":\"2026-11-25T19:38:03.617764843Z\"" \
	",\"created_by\":\"/bin/sh -c #(nop) COPY file:f3114fb60fe41580a6b7" \
	"e95bd5bde08cca2aa282602db73bf28e87d70fc766d3 in /small.txt \"},{\"" \
	"created\":\"2026-11-25T19:38:03.664982643Z\",\"created_by\":\"/bin" \
	"/sh -c #(nop)  CMD [\\\"/bin/cat\\\" \\\"/small.txt\\\"]\",\"empty" \
	"_layer\":true}],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"," \
	"\"diff_ids\":[\"sha256:50de8d5d3349f65bfb6e7b71e1ac183009f2d2530ed" \
	"b2fec3edc0b60976456ad\",\"sha256:2c3822081cd056b29d328a5773ef7750b" \
	"9af6f026eb6f6ae54b6f0626fba5955\"]}}"

#define SMALL_BOTTOM_JSON \
	"{\"id\":\"0a85ec6451f74cf831909bd9848b5ea58d3d6e39678c73ba9eb20623" \
	"85986259\",\"created\":\"1970-01-01T00:00:00Z\",\"container_config" \
	"\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachSt" \
	"din\":false,\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":" \
	"false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\"" \
	":null,\"Image\":\"\",\"Volumes\":null,\"WorkingDir\":\"\",\"Entryp" \
	"oint\":null,\"OnBuild\":null,\"Labels\":null},\"os\":\"linux\"}"

#define SMALL_TOP_JSON \
	"{\"id\":\"e1a92673037ba4033795353c90df12ca02e9d81baaa8026e630bcf06" \
	"8a357c4b\",\"parent\":\"0a85ec6451f74cf831909bd9848b5ea58d3d6e3967" \
	"8c73ba9eb2062385986259\",\"created\":\"2026-11-25T19:38:03.6649826" \
	"43Z\",\"container\":\"c617dee269a10bee88c5b83c053d26066c3f879048aa" \
	"a5865826871a44cd4fab\",\"container_config\":{\"Hostname\":\"c617de" \
	"e269a1\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false," \
	"\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":false,\"Open" \
	"Stdin\":false,\"StdinOnce\":false,\"Env\":[\"PATH=/usr/local/sbin:" \
	"/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"/bin/sh" \
	"\",\"-c\",\"#(nop) \",\"CMD [\\\"/bin/cat\\\" \\\"/small.txt\\\"]" \
	"\"],\"Image\":\"sha256:6120d351b8410232f61e8dcd64a89b444b923797ea5" \
	"c3dd195e7e8a06f2c1228\",\"Volumes\":null,\"WorkingDir\":\"\",\"Ent" \
	"rypoint\":null,\"OnBuild\":null,\"Labels\":{}},\"docker_version\":" \
	"\"20.10.24+dfsg1\",\"config\":{\"Hostname\":\"\",\"Domainname\":\"" \
	"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":false,\"At" \
	"tachStderr\":false,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\"" \
	":false,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/u" \
	"sr/bin:/sbin:/bin\"],\"Cmd\":[\"/bin/cat\",\"/small.txt\"],\"Image" \
	"\":\"sha256:6120d351b8410232f61e8dcd64a89b444b923797ea5c3dd195e7e8" \
	"a06f2c1228\",\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":n" \
	"ull,\"OnBuild\":null,\"Labels\":null},\"architecture\":\"amd64\"," \
	"\"os\":\"linux\"}"

#define D09_ROOT \
	"{\"id\":\"511136ea3c5a64f264b78b5433614aec563103b4d4702f3ba7d4d269" \
	"8e22c158\",\"comment\":\"Imported from -\",\"created\":\"2013-06-1" \
	"3T14:03:50.821769-07:00\",\"container_config\":{\"Hostname\":\"\"," \
	"\"Domainname\":\"\",\"User\":\"\",\"Memory\":0,\"MemorySwap\":0,\"" \
	"CpuShares\":0,\"AttachStdin\":false,\"AttachStdout\":false,\"Attac" \
	"hStderr\":false,\"ExposedPorts\":null,\"Tty\":false,\"OpenStdin\":" \
	"false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":null,\"Image\":\"\"" \
	",\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":null,\"Networ" \
	"kDisabled\":false,\"OnBuild\":null},\"docker_version\":\"0.4.0\"," \
	"\"architecture\":\"x86_64\",\"Size\":0}\015"

#define D09_TOP \
	"{\"id\":\"46af0962ab5afeb5ce6740d4d91652e69206fc991fd5328c1a94d364" \
	"ad00e457\",\"parent\":\"511136ea3c5a64f264b78b5433614aec563103b4d4" \
	"702f3ba7d4d2698e22c158\",\"created\":\"2014-04-07T02:45:52.6105044" \
	"84Z\",\"container\":\"e0f07f8d72cae171a3dcc35859960e7e956e0628bce6" \
	"fedc4122bf55b2c287c7\",\"container_config\":{\"Hostname\":\"888073" \
	"19f25e\",\"Domainname\":\"\",\"User\":\"\",\"Memory\":0,\"MemorySw" \
	"ap\":0,\"CpuShares\":0,\"AttachStdin\":false,\"AttachStdout\":fals" \
	"e,\"AttachStderr\":false,\"ExposedPorts\":null,\"Tty\":false,\"Ope" \
	"nStdin\":false,\"StdinOnce\":false,\"Env\":[\"HOME=/\",\"PATH=/usr" \
	"/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd" \
	"\":[\"/bin/sh\",\"-c\",\"sed -ri 's/^(%wheel.*)(ALL)$/\\\\1NOPASSW" \
	"D: \\\\2/' /etc/sudoers\"],\"Image\":\"def3f9165934325dfd027c86530" \
	"b2ea49bb57a0963eb1336b3a0415ff6fd56de\",\"Volumes\":null,\"Working" \
	"Dir\":\"\",\"Entrypoint\":null,\"NetworkDisabled\":false,\"OnBuild" \
	"\":[]},\"docker_version\":\"0.9.1-dev\",\"config\":{\"Hostname\":" \
	"\"88807319f25e\",\"Domainname\":\"\",\"User\":\"\",\"Memory\":0,\"" \
	"MemorySwap\":0,\"CpuShares\":0,\"AttachStdin\":false,\"AttachStdou" \
	"t\":false,\"AttachStderr\":false,\"ExposedPorts\":null,\"Tty\":fal" \
	"se,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"HOME=/\",\"P" \
	"ATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"" \
	"],\"Cmd\":null,\"Image\":\"def3f9165934325dfd027c86530b2ea49bb57a0" \
	"963eb1336b3a0415ff6fd56de\",\"Volumes\":null,\"WorkingDir\":\"\"," \
	"\"Entrypoint\":null,\"NetworkDisabled\":false,\"OnBuild\":[]},\"ar" \
	"chitecture\":\"amd64\",\"os\":\"linux\",\"Size\":3425}\015"

#define CRAFTED_A \
	"{\n  \"id\": \"424ba65b7c7865a80661e1b7c9f4c93263f73502ab9289ce0c2" \
	"11bbe46d4fddd\",\n  \"docker_version\": \"1.9.1\",\n  \"created\":" \
	" \"2015-11-20T10:00:00.123456789012Z\",\n  \"author\": \"Decant <f" \
	"ixtures> & co\",\n  \"comment\": \"root \\u2028 sep, caf\\u00e9, c" \
	"af\303\251, slash \\/ ok\",\n  \"container_config\": {\"Cmd\": [\"" \
	"/bin/sh\", \"-c\", \"#(nop) ADD file:abc in /\"], \"Env\": null}," \
	"\n  \"architecture\": \"amd64\",\n  \"os\": \"linux\",\n  \"Size\"" \
	": 1234,\n  \"checksum\": \"tarsum.dev+sha256:e3b0\",\n  \"layer_id" \
	"\": \"sha256:deadbeef\",\n  \"throwaway\": true\n}\n"

#define CRAFTED_B \
	"{ \"parent\": \"424ba65b7c7865a80661e1b7c9f4c93263f73502ab9289ce0c" \
	"211bbe46d4fddd\",\n  \"Zeta\" : { \"b\" : [1, 2.50, -0, 1e3, 1E-2," \
	" true, null],  \"a\":\"x<y>&z\" },\n  \"id\":\"2dcdf2a4839e333744f" \
	"7986205cfd650620bc3f98071239fe1213667d3f44dc2\",\n  \"docker_versi" \
	"on\" :\"1.9.1\",\n  \"created\":\"2015-11-21T12:30:00.500+02:00\"," \
	"\n  \"container\": \"c0ffee\",\n  \"container_config\": {\"Hostnam" \
	"e\":\"h\",\"Cmd\":\"echo hi && true\",\"Image\":\"\",\"OnBuild\":n" \
	"ull},\n  \"config\": {\"Cmd\":[\"/bin/sh\",\"-c\",\"cat /b.txt\"]," \
	"\"Env\":[\"A=1\"], \"Labels\":{\"z\":\"1\",\"a\":\"2\"}, \"Exposed" \
	"Ports\":{\"80/tcp\":{}}},\n  \"a\\/b\": \"slash key\",\n  \"k<ey>" \
	"\": 1,\n  \"dup\": 1,\n  \"dup\": 2,\n  \"unicode\": \"\\ud83d\\ud" \
	"e00 \\u00e9 \303\251 \\u2029 \342\200\250 \\/\",\n  \"Size\": 99," \
	"\n  \"parent_id\": \"sha256:424ba65b7c7865a80661e1b7c9f4c93263f735" \
	"02ab9289ce0c211bbe46d4fddd\",\n  \"layer_id\": \"sha256:0123\",\n " \
	" \"os\": \"linux\",\n  \"architecture\": \"amd64\"\n}\n"

#define CRAFTED_C \
	"{\"id\":\"745438240125852cd6c4f88445be8f83421925e55a15d2f0808fc48f" \
	"57959d2c\",\"parent\":\"424ba65b7c7865a80661e1b7c9f4c93263f73502ab" \
	"9289ce0c211bbe46d4fddd\",\"docker_version\":\"1.8.3\",\"created\":" \
	"\"2015-11-22T00:00:00Z\",\"container_config\":{\"Cmd\":null},\"os" \
	"\":\"linux\",\"Memory\":0}\n"

#define CRAFTED_D \
	"{\"id\":\"b147b512565ef0ec215f7c7013313da572f56a4b1ccf2592733a6074" \
	"58059d63\",\"parent\":\"424ba65b7c7865a80661e1b7c9f4c93263f73502ab" \
	"9289ce0c211bbe46d4fddd\",\"docker_version\":\"1.8.2-dev\",\"create" \
	"d\":\"2015-11-23T01:02:03.000000000-05:00\",\n \"container_config" \
	"\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) CMD [\\\"x\\\"]\"],\"Memo" \
	"ry\":0,\"cpuShares\":5,\"ENV\":[\"X=1\"]},\n \"config\":{\"User\":" \
	"\"nobody\",\"ExposedPorts\":{\"443/tcp\":{},\"80/tcp\":{}},\"Volum" \
	"es\":{\"/data\":{}},\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\n   \"He" \
	"althcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":30000000000," \
	"\"Retries\":3},\"StopTimeout\":10,\"Shell\":[\"/bin/bash\",\"-c\"]" \
	",\n   \"StopSignal\":\"SIGTERM\",\"ArgsEscaped\":true,\"NetworkDis" \
	"abled\":false,\"MacAddress\":\"\",\"OnBuild\":[]},\n \"os\":\"linu" \
	"x\",\"architecture\":\"amd64\",\"variant\":\"\",\"Size\":5,\"check" \
	"sum\":\"x\"}\n"


/* testdata/docker-1.10/multilayer.tar: the rootfs diff_ids of
 * decant-test/multi:1.0 and the <v1id> directories of its manifest */
static const struct {
	const char *diff_id, *v1id;
} multi[] = {
	{ "sha256:50de8d5d3349f65bfb6e7b71e1ac183009f2d2530edb2fec3edc0b60976456ad",
	  "0a85ec6451f74cf831909bd9848b5ea58d3d6e39678c73ba9eb2062385986259" },
	{ "sha256:6ffb6818684e2a7e141c03833fce98b39437a54aeb12096d419b52560c02b67f",
	  "255dc4ac6a5ab81f85b0fbfdee29da135a8fb718e193865276a7a451e27f2963" },
	{ "sha256:3d563e13814aaaf26311b2210df6ba5a2c0eb02087828727437e3bc32aecf772",
	  "517d72aa82f65439b637de7ff5cf2731c9c64a0d627a5fa165445459b762b6ab" },
	{ "sha256:4f80d21574f929b6927760b64e9864d1f0297b629c774841333bcd0864af3695",
	  "0d08f48ad5263e280dd85e54f7cf37bf7ffc7a47c5d00203083772429b16e7ba" },
	{ "sha256:3f2515a3eb71de3a6283945b93be0a2ad85fe619aa223c1a10fe82df31b62f59",
	  "cfc73b86e71e528d050f97329b67ccc0be174b3e6c7a4e10bca1a592f10b9202" },
	{ "sha256:134441c04a4d81e0e6e9ad849160d9191f0b607c90a97bfab3dd5b0b228457ce",
	  "cd438afe727faaeddfa62d85d4f9a71e65fb10dcc806addc9058634873141e24" },
	{ "sha256:49de3a356f2f43186396f61e8c2654834881ffa925a4ac93b9b911b55acbf557",
	  "2650acf1130de3b80979f71d79037b83825f1a5691f30e44bf2294855d14bd9d" },
	{ "sha256:35007dd59e4b8754abbb3ac0fe3554b04fffefbdc04c69da0467f09d36bbc101",
	  "b4c50b170d7c9f5dd203acfd1dc46cb68b1a285a01cd7d673ccfef863db9460c" },
	{ "sha256:8ffb9876206394f4ecb74914ab3f958a8391a981e9379902d1444ed318af2d67",
	  "e7e67fac9101ebfcd2ea88cb2b8c6e55ecd258a04e258ec629561e77ec8ff4e1" },
	/* the top (e14a2ee8...) needs the image config: see moby_v1_top */
};

TEST(moby_chain_id)
{
	char chain[DC_DIGEST_MAX];

	/* the bottom layer's chain ID is its diff_id */
	dc__v1_chain_id(chain, NULL, multi[0].diff_id);
	CHECK_STR(chain, multi[0].diff_id);
	/* then sha256("<parent's chain ID> <diff_id>"), here in place */
	dc__v1_chain_id(chain, chain, multi[1].diff_id);
	CHECK_STR(chain, "sha256:9f959d8860fad96527550cab2557a989"
			 "96e0313e6b8cd39fe54ceb993bb945ae");
}

/* The v1 IDs `docker save` gave the layers below the top. */
TEST(moby_v1_ids)
{
	char chain[DC_DIGEST_MAX], id[65], parent[65] = "";
	size_t i;

	for (i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
		UNIT_CASE("layer %zu", i);
		dc__v1_chain_id(chain, i ? chain : NULL, multi[i].diff_id);
		CHECK_OK(dc__v1_create_id(unit_ctx(), id, NULL, chain,
					  i ? parent : NULL));
		CHECK_STR(id, multi[i].v1id);
		memcpy(parent, multi[i].v1id, 65);
	}
}


/* decant-test/small:2.0 of testdata/docker-1.10/two-images.tar: its
 * config, and the <v1id>/json of its two layers, bottom first */
static const char *const small_diff_ids[] = {
	"sha256:50de8d5d3349f65bfb6e7b71e1ac183009f2d2530edb2fec3edc0b60976456ad",
	"sha256:2c3822081cd056b29d328a5773ef7750b9af6f026eb6f6ae54b6f0626fba5955",
};
static const char *const small_v1ids[] = {
	"0a85ec6451f74cf831909bd9848b5ea58d3d6e39678c73ba9eb2062385986259",
	"e1a92673037ba4033795353c90df12ca02e9d81baaa8026e630bcf068a357c4b",
};

/* The top layer's v1 ID hashes the image config; every layer's JSON is
 * the V1Image save.go marshals. */
TEST(moby_v1_top)
{
	static const char *const want_json[] = { SMALL_BOTTOM_JSON,
						 SMALL_TOP_JSON };
	json_t *cfg = json_loads(SMALL_CONFIG, 0, NULL);
	struct dc_buf b = DC_BUF_INIT;
	char chain[DC_DIGEST_MAX], id[65];
	size_t i;

	REQUIRE(cfg);
	for (i = 0; i < 2; i++) {
		int top = i == 1;

		UNIT_CASE("layer %zu", i);
		dc__v1_chain_id(chain, i ? chain : NULL, small_diff_ids[i]);
		CHECK_OK(dc__v1_create_id(unit_ctx(), id, top ? cfg : NULL,
					  chain, i ? small_v1ids[0] : NULL));
		CHECK_STR(id, small_v1ids[i]);
		b.len = 0;
		CHECK_OK(dc__v1_layer_json(unit_ctx(), &b, top ? cfg : NULL,
					   small_v1ids[i],
					   i ? small_v1ids[0] : NULL,
					   top ? NULL :
					   dc__go_get_str(cfg, "os")));
		CHECK_MEM(b.data, b.len, want_json[i], strlen(want_json[i]));
	}
	json_decref(cfg);
	dc__buf_release(&b);
}

/* The image IDs dockerd 20.10.24 gave pre-1.10 images after `docker
 * load` (testdata/legacy/expected.ids): the digest of the config that
 * MakeConfigFromV1Config makes. */
TEST(moby_v1_make_config)
{
	static const char d09_root_diff[] =
		"sha256:af3826bf8b23218af544bc27c3b106ba77f119dced5749010270318c6cd06dc4";
	static const char crafted_a_diff[] =
		"sha256:f6c47c1460afcf435ea693a3a981480880927f1b013d1761ace45deec540549e";
	static const struct {
		const char *name;
		const char *json[2], *diff_id[2];	/* bottom first */
		const char *want;
	} cases[] = {
		/* docker_version 0.9.1-dev: re-marshalled through V1Image */
		{ "docker09.tar decant-test/docker09:0.9",
		  { D09_ROOT, D09_TOP },
		  { d09_root_diff, "sha256:78eeafa78407c78ec33150a5798941cf"
				   "abb9c19ee83d90010461567d6861200e" },
		  "sha256:b5256cf06e5db2ce14423e5d9b1576a76e8c733c4d5af7049ce93b6881c7bc3c" },
		/* 1.9.1: the raw JSON, compacted, numbers and escapes kept */
		{ "crafted.tar decant-test/crafted:1.0",
		  { CRAFTED_A, CRAFTED_B },
		  { crafted_a_diff, "sha256:26f2590231abce01e5c77c14d9b7d834"
				    "97e36ac7f9eb5af88e19b91d57f9d58d" },
		  "sha256:429755c5d42a25ce5432506f5d9ac325b747d7a970078c45e21ccc23b3de2455" },
		/* 1.8.3, the boundary: raw */
		{ "crafted.tar C", { CRAFTED_A, CRAFTED_C },
		  { crafted_a_diff, "sha256:f36712cefa3c5ee6edeac31d4d6f491a"
				    "606255f0e719ed1daf5457ca001c9ce3" },
		  "sha256:9092c5f5a6fc7e3f7511138af3f114817f092c5ded6709f3df8774f36707e8dc" },
		/* 1.8.2-dev: re-marshalled, every optional Config field */
		{ "crafted.tar D", { CRAFTED_A, CRAFTED_D },
		  { crafted_a_diff, "sha256:5f70bf18a086007016e948b04aed3b82"
				    "103a36bea41755b6cddfaf10ace3c6ef" },
		  "sha256:f0f3488f8adf3ad2ff02866e401b2f72afccec1fd41284428f4ffce483932b4b" },
	};
	struct dc_buf out = DC_BUF_INIT;
	char d[DC_DIGEST_MAX];
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dc_v1_layer l[2];
		struct dc_buf hist[2] = { DC_BUF_INIT, DC_BUF_INIT };
		struct dc_buf raw = { (char *)cases[i].json[1],
				      strlen(cases[i].json[1]), 0 };

		UNIT_CASE("%s", cases[i].name);
		for (j = 0; j < 2; j++) {
			l[j].json = json_loads(cases[i].json[j], 0, NULL);
			l[j].diff_id = cases[i].diff_id[j];
			l[j].history = NULL;
			CHECK(l[j].json);
		}
		out.len = 0;
		if (l[0].json && l[1].json) {
			CHECK_OK(dc__v1_make_config(unit_ctx(), &out, l, 2,
						    &raw, "top/json"));
			dc__sha256_digest(out.data, out.len, d);
			CHECK_STR(d, cases[i].want);
			/* the same bytes from history entries made before */
			for (j = 0; j < 2; j++) {
				CHECK_OK(dc__v1_history(unit_ctx(), &hist[j],
							l[j].json));
				l[j].history = &hist[j];
			}
			out.len = 0;
			CHECK_OK(dc__v1_make_config(unit_ctx(), &out, l, 2,
						    &raw, "top/json"));
			dc__sha256_digest(out.data, out.len, d);
			CHECK_STR(d, cases[i].want);
		}
		for (j = 0; j < 2; j++) {
			json_decref(l[j].json);
			dc__buf_release(&hist[j]);
		}
	}
	dc__buf_release(&out);
}

TEST(moby_v1_make_config_error)
{
	struct dc_buf out = DC_BUF_INIT;
	struct dc_buf raw = { (char *)"[]", 2, 0 };
	struct dc_v1_layer l = { json_loads("{\"docker_version\":\"1.9\"}", 0,
					    NULL), "sha256:00", NULL };

	REQUIRE(l.json);
	CHECK_ERR(dc__v1_make_config(unit_ctx(), &out, &l, 1, &raw,
				     "abc/json"), DC_EFORMAT);
	CHECK_STR(dc_ctx_errmsg(unit_ctx()), "'abc/json': not a JSON object");
	json_decref(l.json);
	dc__buf_release(&out);
}
