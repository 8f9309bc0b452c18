/*
 * Split sets (src/util/parts.c): --split output, read back across the
 * parts, and the errors that name a bad part.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* All of PATH into OUT; 0 or -1. */
static int slurp(const char *path, struct ubuf *out)
{
	FILE *f = fopen(path, "rb");
	char buf[4096];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ubuf_add(out, buf, n);
	fclose(f);
	return 0;
}

/* T's archive written whole (to T->dest) and split into 4 KiB parts
 * (to SET.000, ...). */
static void write_both(struct rt *t, char *set, size_t n)
{
	struct dc_write_opts o;

	memset(&o, 0, sizeof(o));
	CHECK_OK(write_from_memory(unit_ctx(), t, "oci-archive", NULL));
	snprintf(set, n, "%s", t->dest);
	snprintf(t->dest, sizeof(t->dest), "%s/set.tar", t->dir);
	o.split_size = 4096;
	CHECK_OK(write_from_memory(unit_ctx(), t, "oci-archive", &o));
	snprintf(t->dest, sizeof(t->dest), "%s", set);
	snprintf(set, n, "%s/set.tar", t->dir);
}

/* PATH read through a reader: N images, every blob verified */
static void read_verified(const char *path, size_t n)
{
	struct dc_reader *r = NULL;
	struct dc_set *s = NULL;

	CHECK_OK(dc_reader_open(unit_ctx(), &r, path, NULL));
	REQUIRE(r);
	CHECK_OK(dc_reader_load(r, &s));
	REQUIRE(s);
	CHECK_EQ_INT(dc_set_count(s), n);
	CHECK_OK(dc_reader_verify(r, s));
	dc_set_free(s);
	dc_reader_free(r);
}

static void on_part(void *arg, const char *part, const char *msg)
{
	(void)part;
	(void)msg;
	(*(int *)arg)++;
}

TEST(parts_split_and_read_back)
{
	struct rt t;
	struct ubuf whole = { 0 }, joined = { 0 }, one = { 0 };
	char set[256], p[300], stem[256];
	struct dc_parts *parts = NULL;
	size_t i, n = 0;
	int bad = 0;

	REQUIRE(rt_setup(&t, "tar") == 0);
	write_both(&t, set, sizeof(set));
	CHECK(slurp(t.dest, &whole) == 0);
	for (i = 0;; i++) {
		snprintf(p, sizeof(p), "%s.%03zu", set, i);
		if (access(p, F_OK))
			break;
		CHECK(slurp(p, &one) == 0);
		ubuf_add(&joined, one.p, one.len);
		one.len = 0;
		n++;
		if (!access(p, F_OK) && i > 0) {
			char prev[300];
			struct ubuf pb = { 0 };

			snprintf(prev, sizeof(prev), "%s.%03zu", set, i - 1);
			CHECK(slurp(prev, &pb) == 0);
			CHECK_EQ_INT(pb.len, 4096);
			ubuf_free(&pb);
		}
	}
	CHECK(n > 1);
	CHECK_EQ_INT(joined.len, whole.len);
	CHECK(joined.len == whole.len && !memcmp(joined.p, whole.p, whole.len));
	/* every part but the last is exactly SIZE */
	CHECK(whole.len > (n - 1) * 4096 && whole.len <= n * 4096);
	snprintf(p, sizeof(p), "%s.000", set);
	CHECK(dc__parts_name(p, stem, sizeof(stem)) == 1);
	CHECK_STR(stem, set);
	CHECK(dc__parts_name(t.dest, stem, sizeof(stem)) == 0);
	CHECK_OK(dc__parts_open(unit_ctx(), set, &parts));
	REQUIRE(parts);
	CHECK_EQ_INT(parts->total, whole.len);
	{
		/* a read at a boundary stops there; a stream crosses it */
		char buf[100];
		struct dc_stream *st = NULL;
		struct ubuf got = { 0 };
		ssize_t k;
		int fd;
		uint64_t off;

		CHECK_EQ_INT(dc__parts_pread(parts, buf, 100, 4096 - 50), 50);
		CHECK(!memcmp(buf, whole.p + 4096 - 50, 50));
		CHECK_OK(dc__stream_parts_range(unit_ctx(), &st, parts, 4096 - 50, 100));
		while ((k = dc__stream_read(st, buf, 7)) > 0)
			ubuf_add(&got, buf, (size_t)k);
		dc__stream_close(st);
		CHECK(got.len == 100 && !memcmp(got.p, whole.p + 4096 - 50, 100));
		ubuf_free(&got);
		CHECK(dc__parts_range(parts, 4096 - 50, 100, &fd, &off) == 1);
		CHECK(dc__parts_range(parts, 4096 + 10, 100, &fd, &off) == 0);
		CHECK_EQ_INT(off, 10);
	}
	dc__parts_free(parts);
	/* read through a reader, verified */
	read_verified(p, 1);
	CHECK_EQ_INT(dc_split_check(unit_ctx(), p, on_part, &bad), 0);
	CHECK_EQ_INT(bad, 0);
	ubuf_free(&whole);
	ubuf_free(&joined);
	ubuf_free(&one);
	rt_free(&t);
}

TEST(parts_bad_parts_are_named)
{
	struct rt t;
	char set[256], p0[300], p1[300], p2[300];
	struct dc_reader *r = NULL;
	int bad = 0;

	REQUIRE(rt_setup(&t, "tar") == 0);
	write_both(&t, set, sizeof(set));
	snprintf(p0, sizeof(p0), "%s.000", set);
	snprintf(p1, sizeof(p1), "%s.001", set);
	snprintf(p2, sizeof(p2), "%s.002", set);
	REQUIRE(access(p2, F_OK) == 0);
	/* swapped: sizes agree, checksums do not */
	CHECK(rename(p1, "/tmp/decant-unit-swap") == 0);
	CHECK(rename(p0, p1) == 0);
	CHECK(rename("/tmp/decant-unit-swap", p0) == 0);
	CHECK_EQ_INT(dc_split_check(unit_ctx(), p0, on_part, &bad), 2);
	CHECK_EQ_INT(bad, 2);
	CHECK(rename(p1, "/tmp/decant-unit-swap") == 0);
	CHECK(rename(p0, p1) == 0);
	CHECK(rename("/tmp/decant-unit-swap", p0) == 0);
	/* truncated */
	CHECK(truncate(p1, 100) == 0);
	CHECK_ERR(dc_reader_open(unit_ctx(), &r, p0, NULL), DC_ECORRUPT);
	CHECK(strstr(dc_ctx_errmsg(unit_ctx()), ".001") != NULL);
	dc_reader_free(r);
	r = NULL;
	/* missing */
	CHECK(unlink(p1) == 0);
	CHECK_ERR(dc_reader_open(unit_ctx(), &r, p0, NULL), DC_ECORRUPT);
	CHECK(strstr(dc_ctx_errmsg(unit_ctx()), ".001': part 2 of") != NULL);
	CHECK(strstr(dc_ctx_errmsg(unit_ctx()), "missing") != NULL);
	dc_reader_free(r);
	rt_free(&t);
}

/* DATA[0..N) as STEM.000, STEM.001, ... of SIZE bytes each but the last
 * (as split(1) cuts `docker save | gzip`); how many parts. */
static size_t cut(const char *stem, const unsigned char *data, size_t n,
		  size_t size)
{
	size_t k = 0, off;

	for (off = 0; off < n; off += size, k++) {
		char p[340];
		FILE *f;

		snprintf(p, sizeof(p), "%s.%03zu", stem, k % 1000);
		if (!(f = fopen(p, "wb")))
			return 0;
		CHECK(fwrite(data + off, 1, n - off < size ? n - off : size, f) > 0);
		fclose(f);
	}
	return k;
}

TEST(parts_compressed_set_read_in_place)
{
	static const enum dc_comp comps[] = {
		DC_COMP_GZIP, DC_COMP_ZSTD,
	};
	struct rt t;
	struct ubuf whole = { 0 };
	size_t i;

	REQUIRE(rt_setup(&t, "tar") == 0);
	CHECK_OK(write_from_memory(unit_ctx(), &t, "oci-archive", NULL));
	CHECK(slurp(t.dest, &whole) == 0);
	for (i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
		struct ubuf z = { 0 };
		struct dc_reader *r = NULL;
		char stem[300], p0[340], last[340];
		size_t n;

		unit_case("%s", dc__comp_name(comps[i]));
		unit_compress(comps[i], whole.p, whole.len, &z);
		snprintf(stem, sizeof(stem), "%s/z%zu.tar", t.dir, i);
		n = cut(stem, z.p, z.len, z.len / 4 + 1);
		CHECK(n > 2);
		snprintf(p0, sizeof(p0), "%s.000", stem);
		read_verified(p0, 1);
		/* the last part cut short: the set's compressed data ends early */
		snprintf(last, sizeof(last), "%s.%03zu", stem, (n - 1) % 1000);
		CHECK(truncate(last, 1) == 0);
		CHECK(dc_reader_open(unit_ctx(), &r, p0, NULL) < 0);
		CHECK(strstr(dc_ctx_errmsg(unit_ctx()), "compressed split set of") != NULL);
		dc_reader_free(r);
		ubuf_free(&z);
	}
	ubuf_free(&whole);
	rt_free(&t);
}
