/*
 * The tar index (src/util/tar.c) and member access through a source
 * (src/util/src.c), over archives built in memory.
 */
#include "unit.h"

/* Open T as a memory source; NULL (and a recorded failure) on error. */
static struct dc_src *open_tar(const struct ubuf *t)
{
	struct dc_src *src = NULL;
	int err = dc__src_open_memory(unit_ctx(), &src, t->p, t->len);

	CHECKF(err == 0, "dc__src_open_memory: %d: %s", err,
	       dc_ctx_errmsg(unit_ctx()));
	return src;
}

/* NAME's content as a string, or NULL with the error code in *err. */
static char *read_member(struct dc_src *src, const char *name, int *err)
{
	struct dc_buf b = DC_BUF_INIT;

	*err = dc__src_read_all(src, name, 1 << 20, &b);
	if (*err) {
		dc__buf_release(&b);
		return NULL;
	}
	return dc__buf_detach(&b, NULL);
}

#define CHECK_MEMBER(src, name, want) do { \
	int e2_; \
	char *got_ = read_member((src), (name), &e2_); \
	CHECKF(e2_ == 0, "reading '%s': %d: %s", (name), e2_, \
	       dc_ctx_errmsg(unit_ctx())); \
	CHECK_STR(got_, (want)); \
	free(got_); \
} while (0)

#define CHECK_MEMBER_ERR(src, name, code, msg) do { \
	int e2_; \
	char *got_ = read_member((src), (name), &e2_); \
	CHECKF(e2_ == (code), "reading '%s': got %d, want %d: %s", (name), \
	       e2_, (code), dc_ctx_errmsg(unit_ctx())); \
	CHECK(got_ == NULL); \
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), (msg)); \
	free(got_); \
} while (0)

static const struct dc_member *member(struct dc_src *src, const char *name)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (!strcmp(src->m[i].name, name))
			return &src->m[i];
	return NULL;
}

TEST(tar_ustar_basic)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	const struct dc_member *m;
	char big[1500];
	size_t i;

	memset(big, 'B', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tarb_dir(&t, "./");
	tarb_str(&t, "a.txt", "alpha");
	tarb_dir(&t, "dir/");
	tarb_str(&t, "dir/b.txt", "bravo");
	tarb_str(&t, "./c.txt", "charlie");
	tarb_str(&t, "/d.txt", "delta");
	tarb_str(&t, "empty", "");
	tarb_str(&t, "big", big);
	tarb_header(&t, NULL, "fifo", '6', 0, NULL);
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_EQ_INT(src->n, 8);	/* "./" is dropped */
	for (i = 1; i < src->n; i++)
		CHECK(strcmp(src->m[i - 1].name, src->m[i].name) < 0);
	CHECK_MEMBER(src, "a.txt", "alpha");
	CHECK_MEMBER(src, "dir/b.txt", "bravo");
	CHECK_MEMBER(src, "./dir//b.txt", "bravo");
	CHECK_MEMBER(src, "c.txt", "charlie");
	CHECK_MEMBER(src, "d.txt", "delta");
	CHECK_MEMBER(src, "/d.txt", "delta");
	CHECK_MEMBER(src, "empty", "");
	CHECK_MEMBER(src, "big", big);
	CHECK(dc__src_exists(src, "a.txt"));
	CHECK(!dc__src_exists(src, "dir"));	/* not a regular file */
	CHECK(!dc__src_exists(src, "fifo"));
	CHECK(!dc__src_exists(src, "nope"));
	CHECK(!dc__src_exists(src, "a.txt/x"));
	CHECK_MEMBER_ERR(src, "nope", DC_ECORRUPT, "'nope': missing from the archive");
	CHECK_MEMBER_ERR(src, "dir", DC_ECORRUPT, "missing");
	CHECK_MEMBER_ERR(src, "fifo", DC_ECORRUPT, "missing");
	CHECK_MEMBER_ERR(src, "../a.txt", DC_ECORRUPT, "leads outside");
	m = member(src, "dir");
	CHECK(m && m->type == DC_M_DIR);
	m = member(src, "big");
	CHECK(m && m->type == DC_M_FILE && m->size == sizeof(big) - 1);
	CHECK(m && m->off % 512 == 0);
	m = member(src, "fifo");
	CHECK(m && m->type == DC_M_OTHER);
	dc__src_free(src);
	dc__src_free(NULL);
	ubuf_free(&t);
}

/* An archive of nothing but the root entry has no members. */
TEST(tar_only_root_entry)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	struct dc_reader *r = NULL;

	tarb_dir(&t, "./");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_EQ_INT(src->n, 0);
	CHECK(!dc__src_exists(src, "index.json"));
	CHECK_MEMBER_ERR(src, "index.json", DC_ECORRUPT, "missing");
	dc__src_free(src);
	/* whatever a reader makes of it, it fails or works cleanly */
	if (dc_reader_open_memory(unit_ctx(), &r, t.p, t.len) == 0) {
		struct dc_set *set = NULL;

		if (dc_reader_load(r, &set) == 0)
			dc_reader_verify(r, set);
		dc_set_free(set);
		dc_reader_free(r);
	}
	ubuf_free(&t);
}

TEST(tar_ustar_prefix)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	char name[101], prefix[156], full[300];

	memset(name, 'n', 100);
	name[100] = '\0';
	memset(prefix, 'p', 155);
	prefix[155] = '\0';
	/* a full 100-byte name and 155-byte prefix, no NULs */
	tarb_header(&t, prefix, name, '0', 3, NULL);
	tarb_data(&t, "xyz", 3);
	tarb_header(&t, "some/dir", "file.txt", '0', 2, NULL);
	tarb_data(&t, "ok", 2);
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	snprintf(full, sizeof(full), "%s/%s", prefix, name);
	CHECK_MEMBER(src, full, "xyz");
	CHECK_MEMBER(src, "some/dir/file.txt", "ok");
	dc__src_free(src);
	ubuf_free(&t);
}

static void long_name(char *buf, size_t n, char c)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (i % 20 == 19) ? '/' : c;
	buf[n] = '\0';
}

TEST(tar_gnu_long_names)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	char ln[301];
	const struct dc_member *m;

	long_name(ln, 300, 'g');
	tarb_gnu_long(&t, 'L', ln);
	tarb_header(&t, NULL, "truncated-name-ignored", '0', 4, NULL);
	tarb_data(&t, "long", 4);
	/* a symlink with a long name and a long target (the file above) */
	tarb_gnu_long(&t, 'L', "links/to-the-long-one");
	tarb_gnu_long(&t, 'K', ln);
	tarb_header(&t, NULL, "x", '2', 0, "short-target-ignored");
	/* the next member gets its own name again */
	tarb_str(&t, "after", "after");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_EQ_INT(src->n, 3);
	CHECK_MEMBER(src, ln, "long");
	m = member(src, "links/to-the-long-one");
	CHECK(m && m->type == DC_M_SYMLINK);
	CHECK_STR(m ? m->link : NULL, ln);
	/* the symlink is relative to links/: ../<ln> */
	CHECK_MEMBER_ERR(src, "links/to-the-long-one", DC_ECORRUPT, "missing");
	CHECK_MEMBER(src, "after", "after");
	CHECK(!member(src, "truncated-name-ignored"));
	CHECK(!member(src, "x"));
	dc__src_free(src);
	ubuf_free(&t);
}

TEST(tar_pax_records)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	char ln[301];
	const struct dc_member *m;

	long_name(ln, 300, 'p');
	tarb_pax(&t, "path", ln);
	tarb_header(&t, NULL, "ignored", '0', 3, NULL);
	tarb_data(&t, "pax", 3);
	/* linkpath */
	tarb_pax(&t, "linkpath", "/abs/../../" "target");
	tarb_header(&t, NULL, "lnk", '2', 0, "ignored");
	/* a PAX size overrides the header's */
	tarb_pax(&t, "size", "11");
	tarb_header(&t, NULL, "sized", '0', 0, NULL);
	tarb_data(&t, "hello world", 11);
	/* unknown keys and a global header are ignored */
	tarb_pax(&t, "mtime", "1234567890.123");
	tarb_header(&t, NULL, "g", 'g', 0, NULL);
	tarb_str(&t, "target", "T");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_MEMBER(src, ln, "pax");
	m = member(src, "lnk");
	CHECK(m && m->type == DC_M_SYMLINK);
	CHECK_STR(m ? m->link : NULL, "/abs/../../target");
	/* "/abs/../../target" climbs above the root */
	CHECK_MEMBER_ERR(src, "lnk", DC_ECORRUPT, "leads outside");
	CHECK_MEMBER(src, "sized", "hello world");
	CHECK_MEMBER(src, "target", "T");
	CHECK(!member(src, "ignored"));
	CHECK(!member(src, "g"));
	dc__src_free(src);
	ubuf_free(&t);
}

TEST(tar_pax_corrupt)
{
	static const char *const bad[] = {
		"5 a=b",		/* no newline */
		"99 path=x\n",		/* length past the end */
		"x path=y\n",		/* no length */
		"0 path=y\n",
		"10 pathy\n\n",		/* no '=' */
		"12 size=abc\n",	/* not a number */
		"29 size=99999999999999999999\n",	/* overflows */
		"3\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ubuf t = { 0 };
		struct dc_src *src = NULL;

		UNIT_CASE("record '%s'", bad[i]);
		tarb_str(&t, "first", "1");
		tarb_header(&t, NULL, "PaxHeaders/x", 'x', strlen(bad[i]), NULL);
		tarb_data(&t, bad[i], strlen(bad[i]));
		tarb_str(&t, "second", "2");
		tarb_end(&t);
		CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, t.p, t.len),
			  DC_ECORRUPT);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "PAX");
		CHECK(!src);
		dc__src_free(src);
		ubuf_free(&t);
	}
}

TEST(tar_symlinks)
{
	struct ubuf t = { 0 };
	struct dc_src *src;

	tarb_str(&t, "target.txt", "target");
	tarb_str(&t, "dir/sub/file", "deep");
	tarb_symlink(&t, "rel", "target.txt");
	tarb_symlink(&t, "dir/up", "../target.txt");
	tarb_symlink(&t, "dir/sub/up2", "../../target.txt");
	tarb_symlink(&t, "dir/sib", "sub/file");
	tarb_symlink(&t, "dir/dot", "./sub/./file");
	tarb_symlink(&t, "abs", "/target.txt");
	tarb_symlink(&t, "dir/abs", "/dir/sub/file");
	tarb_symlink(&t, "chain1", "chain2");
	tarb_symlink(&t, "chain2", "dir/up");
	tarb_symlink(&t, "to-dir", "dir");
	tarb_symlink(&t, "dangling", "nothing-here");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_MEMBER(src, "rel", "target");
	CHECK_MEMBER(src, "dir/up", "target");
	CHECK_MEMBER(src, "dir/sub/up2", "target");
	CHECK_MEMBER(src, "dir/sib", "deep");
	CHECK_MEMBER(src, "dir/dot", "deep");
	CHECK_MEMBER(src, "abs", "target");
	CHECK_MEMBER(src, "dir/abs", "deep");
	CHECK_MEMBER(src, "chain1", "target");
	CHECK(dc__src_exists(src, "chain1"));
	CHECK(!dc__src_exists(src, "to-dir"));
	CHECK(!dc__src_exists(src, "dangling"));
	CHECK_MEMBER_ERR(src, "dangling", DC_ECORRUPT, "missing");
	CHECK_MEMBER_ERR(src, "to-dir", DC_ECORRUPT, "missing");
	dc__src_free(src);
	ubuf_free(&t);
}

TEST(tar_symlink_escape)
{
	static const struct {
		const char *name, *target;
	} rows[] = {
		{ "evil", "../etc/passwd" },
		{ "evil", "../../../../etc/passwd" },
		{ "dir/evil", "../../x" },
		{ "evil", "/../x" },
		{ "evil", "/a/../../x" },
		{ "evil", ".." },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ubuf t = { 0 };
		struct dc_src *src;

		UNIT_CASE("%s -> %s", rows[i].name, rows[i].target);
		tarb_str(&t, "x", "x");
		tarb_symlink(&t, rows[i].name, rows[i].target);
		tarb_end(&t);
		if (!(src = open_tar(&t))) {
			ubuf_free(&t);
			continue;
		}
		CHECK_MEMBER_ERR(src, rows[i].name, DC_ECORRUPT, "leads outside the archive");
		/* a probe reports "no" and leaves no error behind */
		unit_ctx()->code = 0;
		unit_ctx()->msg[0] = '\0';
		CHECK(!dc__src_exists(src, rows[i].name));
		CHECK_EQ_INT(dc_ctx_errcode(unit_ctx()), 0);
		CHECK_STR(dc_ctx_errmsg(unit_ctx()), "no error");
		dc__src_free(src);
		ubuf_free(&t);
	}
}

TEST(tar_symlink_loops)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	char name[32], target[32];
	int i;

	tarb_symlink(&t, "self", "self");
	tarb_symlink(&t, "a", "b");
	tarb_symlink(&t, "b", "a");
	tarb_symlink(&t, "d/x", "../d/x");
	/* 16 hops are allowed, 17 are not */
	for (i = 0; i < 17; i++) {
		snprintf(name, sizeof(name), "hop%02d", i);
		snprintf(target, sizeof(target), "hop%02d", i + 1);
		tarb_symlink(&t, name, target);
	}
	tarb_str(&t, "hop17", "end");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_MEMBER_ERR(src, "self", DC_ECORRUPT, "too many levels of symbolic links");
	CHECK_MEMBER_ERR(src, "a", DC_ECORRUPT, "too many levels");
	CHECK_MEMBER_ERR(src, "d/x", DC_ECORRUPT, "too many levels");
	CHECK(!dc__src_exists(src, "a"));
	CHECK_MEMBER(src, "hop01", "end");	/* 16 links */
	CHECK_MEMBER_ERR(src, "hop00", DC_ECORRUPT, "too many levels");
	dc__src_free(src);
	ubuf_free(&t);
}

TEST(tar_hardlinks)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	const struct dc_member *m;

	tarb_str(&t, "data/h1", "hard");
	/* hardlink targets are relative to the archive root */
	tarb_hardlink(&t, "data/h2", "data/h1");
	tarb_hardlink(&t, "h3", "./data/h1");
	tarb_hardlink(&t, "h4", "/data/h1");
	tarb_hardlink(&t, "h5", "data/h2");	/* a link to a link */
	tarb_hardlink(&t, "missing", "data/nothing");
	tarb_hardlink(&t, "evil", "../data/h1");
	tarb_symlink(&t, "sym-to-hard", "data/h2");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	m = member(src, "data/h2");
	CHECK(m && m->type == DC_M_HARDLINK && m->size == 0);
	CHECK_MEMBER(src, "data/h2", "hard");
	CHECK_MEMBER(src, "h3", "hard");
	CHECK_MEMBER(src, "h4", "hard");
	CHECK_MEMBER(src, "h5", "hard");
	CHECK_MEMBER(src, "sym-to-hard", "hard");
	CHECK_MEMBER_ERR(src, "missing", DC_ECORRUPT, "missing");
	CHECK_MEMBER_ERR(src, "evil", DC_ECORRUPT, "leads outside");
	dc__src_free(src);
	ubuf_free(&t);
}

/* A hardlink header may carry a size (pax/star); it has no data. */
TEST(tar_hardlink_with_size)
{
	struct ubuf t = { 0 };
	struct dc_src *src;

	tarb_str(&t, "f", "data");
	tarb_header(&t, NULL, "h", '1', 4, "f");
	tarb_str(&t, "next", "next");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_MEMBER(src, "h", "data");
	CHECK_MEMBER(src, "next", "next");
	dc__src_free(src);
	ubuf_free(&t);
}

TEST(tar_truncated)
{
	struct ubuf t = { 0 };
	char data[3000];
	size_t cut;

	memset(data, 'd', sizeof(data));
	tarb_str(&t, "first", "1");		/* 0..1024 */
	tarb_file(&t, "second", data, sizeof(data));	/* 1024..1536+3072 */
	tarb_end(&t);
	for (cut = 1024 + 1; cut < 1024 + 512 + sizeof(data); cut += 211) {
		struct dc_src *src = NULL;

		UNIT_CASE("cut at %zu", cut);
		CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, t.p, cut),
			  DC_ECORRUPT);
		CHECK(!src);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "truncated");
		if (cut >= 1024 + 512)
			CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "'second'");
	}
	/* cut on a block boundary after a whole member: no end marker,
	 * which GNU tar also tolerates */
	{
		struct dc_src *src = NULL;
		int err;

		UNIT_CASE("no end marker");
		CHECK_OK(dc__src_open_memory(unit_ctx(), &src, t.p, 1024));
		if (src) {
			CHECK_MEMBER(src, "first", "1");
			dc__src_free(src);
		}
		(void)err;
	}
	/* a size far past the end */
	{
		struct ubuf h = { 0 };
		struct dc_src *src = NULL;

		UNIT_CASE("huge size");
		tarb_header(&h, NULL, "huge", '0', 077777777777ULL, NULL);
		tarb_data(&h, "x", 1);
		CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, h.p, h.len),
			  DC_ECORRUPT);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "truncated");
		ubuf_free(&h);
	}
	ubuf_free(&t);
}

TEST(tar_not_a_tar)
{
	static const struct {
		const char *name;
		size_t n;
		int fill;	/* -1 random, else the byte */
		int want;
		const char *msg;
	} rows[] = {
		{ "zero bytes", 0, 0, DC_EFORMAT, "not a tar" },
		{ "short", 100, 'x', DC_EFORMAT, "not a tar" },
		{ "511 bytes", 511, 0, DC_EFORMAT, "not a tar" },
		{ "zeros", 10240, 0, DC_EFORMAT, "empty archive" },
		{ "text", 4096, 'x', DC_EFORMAT, "unknown format" },
		{ "random", 4096, -1, DC_EFORMAT, "unknown format" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned char *p = unit_xmalloc(rows[i].n);
		struct dc_src *src = NULL;

		UNIT_CASE("%s", rows[i].name);
		if (rows[i].fill < 0)
			unit_random(p, rows[i].n, 5);
		else
			memset(p, rows[i].fill, rows[i].n);
		CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, p, rows[i].n),
			  rows[i].want);
		CHECK(!src);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), rows[i].msg);
		free(p);
	}
}

TEST(tar_corrupt_header)
{
	struct ubuf t = { 0 };
	struct dc_src *src = NULL;

	tarb_str(&t, "first", "1");
	tarb_str(&t, "second", "2");
	tarb_end(&t);
	/* break the second header's checksum */
	t.p[1024 + 150] ^= 1;
	CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, t.p, t.len), DC_ECORRUPT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "bad checksum");
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "1024");
	t.p[1024 + 150] ^= 1;
	/* a size field with a non-octal digit */
	memcpy(t.p + 1024 + 124, "0000000009x", 11);
	{
		unsigned sum = 0;
		int i;

		memset(t.p + 1024 + 148, ' ', 8);
		for (i = 0; i < 512; i++)
			sum += t.p[1024 + i];
		snprintf((char *)t.p + 1024 + 148, 8, "%06o", sum);
	}
	CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, t.p, t.len), DC_ECORRUPT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "bad size");
	ubuf_free(&t);
}

TEST(tar_base256_size)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	unsigned char *h;
	unsigned sum = 0;
	int i;

	tarb_header(&t, NULL, "b256", '0', 0, NULL);
	h = t.p;
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[135] = 5;
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	tarb_data(&t, "12345", 5);
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_MEMBER(src, "b256", "12345");
	dc__src_free(src);
	ubuf_free(&t);
}

TEST(tar_duplicates_last_wins)
{
	struct ubuf t = { 0 };
	struct dc_src *src;

	tarb_str(&t, "dup", "first");
	tarb_str(&t, "other", "o");
	tarb_str(&t, "./dup", "second");
	tarb_str(&t, "dup", "third");
	tarb_str(&t, "lnk", "a file first");
	tarb_symlink(&t, "lnk", "other");
	tarb_symlink(&t, "lnk2", "other");
	tarb_str(&t, "lnk2", "a file last");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_EQ_INT(src->n, 4);
	CHECK_MEMBER(src, "dup", "third");
	CHECK_MEMBER(src, "lnk", "o");
	CHECK_MEMBER(src, "lnk2", "a file last");
	dc__src_free(src);
	ubuf_free(&t);
}

TEST(tar_bad_member_names)
{
	static const char *const bad[] = { "../evil", "a/../../evil", "a\\b" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ubuf t = { 0 };
		struct dc_src *src = NULL;

		UNIT_CASE("%s", bad[i]);
		tarb_str(&t, "fine", "1");
		tarb_str(&t, bad[i], "x");
		tarb_end(&t);
		CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, t.p, t.len),
			  DC_ECORRUPT);
		CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "member name");
		CHECK(!src);
		ubuf_free(&t);
	}
}

TEST(tar_meta_limits)
{
	struct ubuf t = { 0 };
	struct dc_src *src = NULL;
	size_t n = (1 << 20) + 1;
	char *big = unit_xmalloc(n);

	memset(big, 'a', n);
	tarb_header(&t, NULL, "././@LongLink", 'L', n, NULL);
	tarb_data(&t, big, n);
	tarb_str(&t, "x", "x");
	tarb_end(&t);
	CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, t.p, t.len), DC_ELIMIT);
	CHECK(!src);
	ubuf_free(&t);
	/* a 5000-byte GNU name is over DC_MAX_NAME */
	big[5000] = '\0';
	tarb_gnu_long(&t, 'L', big);
	tarb_str(&t, "x", "x");
	tarb_end(&t);
	CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, t.p, t.len), DC_ELIMIT);
	ubuf_free(&t);
	free(big);
}

TEST(src_read_all_cap_and_peek)
{
	struct ubuf t = { 0 };
	struct dc_src *src;
	struct dc_buf b = DC_BUF_INIT;
	char buf[16];
	size_t got;

	tarb_str(&t, "ten", "0123456789");
	tarb_str(&t, "two", "ab");
	tarb_str(&t, "zero", "");
	tarb_end(&t);
	REQUIRE((src = open_tar(&t)));
	CHECK_ERR(dc__src_read_all(src, "ten", 9, &b), DC_ELIMIT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "'ten'");
	CHECK_OK(dc__src_read_all(src, "ten", 10, &b));
	CHECK_EQ_INT(b.len, 10);
	dc__buf_release(&b);
	/* an empty member reads as an empty, NUL-terminated buffer */
	CHECK_OK(dc__src_read_all(src, "zero", 10, &b));
	CHECK_EQ_INT(b.len, 0);
	CHECK(b.data && b.data[0] == '\0');
	dc__buf_release(&b);
	CHECK_OK(dc__src_peek(src, "ten", buf, 4, &got));
	CHECK_EQ_INT(got, 4);
	CHECK_MEM(buf, 4, "0123", 4);
	CHECK_OK(dc__src_peek(src, "two", buf, 6, &got));
	CHECK_EQ_INT(got, 2);
	CHECK_ERR(dc__src_peek(src, "none", buf, 6, &got), DC_ECORRUPT);
	CHECK_EQ_INT(got, 0);
	dc__src_free(src);
	ubuf_free(&t);
}

/* ------------------------------------------------------------------ */
/* The writer, read back by the index and by libarchive */

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

static int tmpfd(void)
{
	char path[] = "/tmp/decant-unit-XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

static void slurp(int fd, struct ubuf *out)
{
	char buf[65536];
	ssize_t r;
	off_t off = 0;

	while ((r = pread(fd, buf, sizeof(buf), off)) > 0) {
		ubuf_add(out, buf, (size_t)r);
		off += r;
	}
}

TEST(tarw_roundtrip)
{
	struct dc_out o;
	struct ubuf t = { 0 };
	struct dc_src *src;
	char ln[251], lk[201];
	int fd = tmpfd();
	const struct dc_member *m;
	struct archive *a;
	struct archive_entry *e;
	int seen = 0;

	REQUIRE(fd >= 0);
	long_name(ln, 250, 'w');
	long_name(lk, 200, 'k');
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CHECK_OK(dc__out_init(unit_ctx(), &o, fd, "out.tar"));
	CHECK_OK(dc__tarw_header(&o, "dir", DC_M_DIR, 0, 0755, NULL));
	CHECK_OK(dc__tarw_file(&o, "dir/file.txt", "content", 7));
	CHECK_OK(dc__tarw_file(&o, ln, "long", 4));
	CHECK_OK(dc__tarw_file(&o, "empty", "", 0));
	CHECK_OK(dc__tarw_header(&o, "sym", DC_M_SYMLINK, 0, 0777, "dir/file.txt"));
	CHECK_OK(dc__tarw_header(&o, "longsym", DC_M_SYMLINK, 0, 0777, lk));
	CHECK_OK(dc__tarw_header(&o, "hard", DC_M_HARDLINK, 0, 0644, "dir/file.txt"));
	CHECK_OK(dc__tarw_end(&o));
	CHECK_OK(dc__out_flush(&o));
	CHECK_EQ_U64(o.written % 512, 0);
	dc__out_release(&o);
	slurp(fd, &t);
	close(fd);
	CHECK_EQ_U64(t.len, o.written);
	REQUIRE((src = open_tar(&t)));
	CHECK_MEMBER(src, "dir/file.txt", "content");
	CHECK_MEMBER(src, ln, "long");
	CHECK_MEMBER(src, "empty", "");
	CHECK_MEMBER(src, "sym", "content");
	CHECK_MEMBER(src, "hard", "content");
	m = member(src, "longsym");
	CHECK_STR(m ? m->link : NULL, lk);
	m = member(src, "dir");
	CHECK(m && m->type == DC_M_DIR);
	dc__src_free(src);

	/* libarchive agrees */
	REQUIRE((a = archive_read_new()));
	archive_read_support_format_tar(a);
	CHECK_EQ_INT(archive_read_open_memory(a, t.p, t.len), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);

		seen++;
		CHECK_EQ_INT(archive_entry_mtime(e), 1700000000);
		CHECK_EQ_INT(archive_entry_uid(e), 0);
		if (!strcmp(p, ln)) {
			CHECK_EQ_INT(archive_entry_size(e), 4);
		} else if (!strcmp(p, "longsym")) {
			CHECK_STR(archive_entry_symlink(e), lk);
		} else if (!strcmp(p, "hard")) {
			CHECK_STR(archive_entry_hardlink(e), "dir/file.txt");
		} else if (!strcmp(p, "dir")) {
			CHECK_EQ_INT(archive_entry_filetype(e), AE_IFDIR);
			CHECK_EQ_INT(archive_entry_perm(e), 0755);
		}
	}
	CHECK_EQ_INT(seen, 7);
	archive_read_free(a);
	ubuf_free(&t);
}

TEST(tarw_big_size_uses_pax)
{
	struct dc_out o;
	struct ubuf t = { 0 };
	int fd = tmpfd();
	uint64_t big = 1ULL << 34;	/* 16 GiB: over 11 octal digits */

	REQUIRE(fd >= 0);
	CHECK_OK(dc__out_init(unit_ctx(), &o, fd, "out.tar"));
	CHECK_OK(dc__tarw_header(&o, "huge", DC_M_FILE, big, 0644, NULL));
	CHECK_OK(dc__out_flush(&o));
	dc__out_release(&o);
	slurp(fd, &t);
	close(fd);
	REQUIRE(t.len == 3 * 512);
	CHECK_EQ_INT(t.p[156], 'x');
	CHECK(strstr((char *)t.p + 512, "size=17179869184\n") != NULL);
	CHECK_EQ_INT(t.p[1024 + 156], '0');
	CHECK_STR((char *)t.p + 1024, "huge");
	ubuf_free(&t);
}

/* A member written in place after a placeholder header (a squash going
 * straight into a tar): patched, it reads back like any other, by our
 * index and by libarchive; and a size past 8 GiB is GNU base-256 in the
 * same one block. */
TEST(tarw_placeholder_patch)
{
	static const char name[] = "blobs/sha256/"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct dc_out o;
	struct ubuf t = { 0 };
	struct dc_src *src;
	struct archive *a;
	struct archive_entry *e;
	unsigned char h[512];
	uint64_t at, big = (1ULL << 33) + 12345, v = 0;
	unsigned sum = 0, want;
	int fd = tmpfd(), i, seen = 0;

	REQUIRE(fd >= 0);
	CHECK_OK(dc__out_init(unit_ctx(), &o, fd, "out.tar"));
	CHECK_OK(dc__tarw_file(&o, "before", "b", 1));
	at = o.written;
	CHECK_OK(dc__tarw_placeholder(&o));
	CHECK_OK(dc__out_flush(&o));
	CHECK_EQ_U64(lseek(fd, 0, SEEK_CUR), at + 512);
	REQUIRE(write(fd, "hello", 5) == 5);	/* someone else's bytes */
	CHECK_OK(dc__tarw_patch(&o, at, name, 5));
	dc__out_adopt(&o, 5);
	CHECK_OK(dc__tarw_pad(&o, 5));
	CHECK_OK(dc__tarw_file(&o, "after", "a", 1));
	CHECK_OK(dc__tarw_end(&o));
	CHECK_OK(dc__out_flush(&o));
	slurp(fd, &t);
	CHECK_EQ_U64(t.len, o.written);
	REQUIRE((src = open_tar(&t)));
	CHECK_MEMBER(src, "before", "b");
	CHECK_MEMBER(src, name, "hello");
	CHECK_MEMBER(src, "after", "a");
	dc__src_free(src);
	REQUIRE((a = archive_read_new()));
	archive_read_support_format_tar(a);
	CHECK_EQ_INT(archive_read_open_memory(a, t.p, t.len), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		seen++;
		if (!strcmp(archive_entry_pathname(e), name))
			CHECK_EQ_INT(archive_entry_size(e), 5);
	}
	CHECK_EQ_INT(seen, 3);
	archive_read_free(a);
	ubuf_free(&t);

	/* 8 GiB and more: base-256, still one block, a valid checksum */
	CHECK_OK(dc__tarw_patch(&o, at, name, big));
	REQUIRE(pread(fd, h, 512, (off_t)at) == 512);
	CHECK_EQ_INT(h[124], 0x80);
	for (i = 125; i < 136; i++)
		v = v << 8 | h[i];
	CHECK_EQ_U64(v, big);
	want = (unsigned)strtoul((char *)h + 148, NULL, 8);
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	CHECK_EQ_INT(sum, want);
	dc__out_release(&o);
	close(fd);

	/* written now, streamed: the same block, whatever the size */
	{
		const uint64_t sizes[] = { 0, 5, 077777777777ULL,
					   077777777777ULL + 1, big };
		unsigned char p1[512];
		size_t k;

		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			REQUIRE((fd = tmpfd()) >= 0);
			CHECK_OK(dc__out_init(unit_ctx(), &o, fd, "s.tar"));
			CHECK_OK(dc__tarw_header1(&o, name, sizes[k]));
			CHECK_OK(dc__tarw_placeholder(&o));
			CHECK_OK(dc__out_flush(&o));
			CHECK_OK(dc__tarw_patch(&o, 512, name, sizes[k]));
			REQUIRE(pread(fd, h, 512, 0) == 512);
			REQUIRE(pread(fd, p1, 512, 512) == 512);
			CHECK(!memcmp(h, p1, 512));
			dc__out_release(&o);
			close(fd);
		}
	}
}

/* dc__tarw_align: from every block position, the next member's data
 * starts on a 4 KiB boundary, and readers skip the padding header. */
TEST(tarw_align)
{
	static const char zero[4096];
	size_t pos;

	for (pos = 0; pos <= 8192; pos += 512) {
		struct dc_out o;
		struct ubuf t = { 0 };
		struct dc_src *src;
		const struct dc_member *m;
		struct archive *a;
		struct archive_entry *e;
		int fd = tmpfd(), seen = 0;
		size_t left;

		UNIT_CASE("at %zu", pos);
		REQUIRE(fd >= 0);
		CHECK_OK(dc__out_init(unit_ctx(), &o, fd, "out.tar"));
		/* POS bytes of members before it: empty files */
		for (left = pos; left; left -= 512)
			CHECK_OK(dc__tarw_header(&o, "pad", DC_M_FILE, 0, 0644, NULL));
		CHECK_OK(dc__tarw_align(&o, 4096));
		CHECK_EQ_U64((o.written + 512) % 4096, 0);
		CHECK(o.written - pos <= 512 + 4096);
		CHECK_OK(dc__tarw_file(&o, "big", zero, sizeof(zero)));
		CHECK_OK(dc__tarw_end(&o));
		CHECK_OK(dc__out_flush(&o));
		dc__out_release(&o);
		slurp(fd, &t);
		close(fd);
		REQUIRE((src = open_tar(&t)));
		m = member(src, "big");
		CHECK(m && m->size == 4096);
		dc__src_free(src);
		REQUIRE((a = archive_read_new()));
		archive_read_support_format_tar(a);
		CHECK_EQ_INT(archive_read_open_memory(a, t.p, t.len), ARCHIVE_OK);
		while (archive_read_next_header(a, &e) == ARCHIVE_OK)
			if (!strcmp(archive_entry_pathname(e), "big"))
				seen++;
		CHECK_EQ_INT(seen, 1);
		archive_read_free(a);
		ubuf_free(&t);
	}
}

TEST(tarw_epoch)
{
	static const struct {
		const char *v;
		uint64_t want;
	} rows[] = {
		{ NULL, 0 }, { "", 0 }, { "0", 0 }, { "123", 123 },
		{ "1700000000", 1700000000 }, { "12x", 0 }, { "abc", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		UNIT_CASE("SOURCE_DATE_EPOCH=%s", rows[i].v ? rows[i].v : "(unset)");
		if (rows[i].v)
			setenv("SOURCE_DATE_EPOCH", rows[i].v, 1);
		else
			unsetenv("SOURCE_DATE_EPOCH");
		CHECK_EQ_U64(dc__epoch(), rows[i].want);
	}
}

/* A write error names the destination. */
TEST(out_write_error)
{
	struct dc_out o;
	int fds[2];
	char buf[4096];

	REQUIRE(pipe(fds) == 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	memset(buf, 0, sizeof(buf));
	CHECK_OK(dc__out_init(unit_ctx(), &o, fds[1], "dest.tar"));
	CHECK_OK(dc__out_write(&o, buf, sizeof(buf)));	/* buffered */
	CHECK_ERR(dc__out_flush(&o), DC_EIO);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "'dest.tar'");
	dc__out_release(&o);
	close(fds[1]);
}

/* The index may take half of the memory limit, names included. */
TEST(tar_index_budget)
{
	struct ubuf t = { 0 };
	struct dc_src *src = NULL;
	char ln[3001], num[16];
	int i;

	for (i = 0; i < 300; i++) {
		long_name(ln, 3000, 'n');
		snprintf(num, sizeof(num), "%06d", i);
		memcpy(ln, num, 6);	/* distinct names */
		tarb_gnu_long(&t, 'L', ln);
		tarb_header(&t, NULL, "x", '0', 0, NULL);
	}
	tarb_end(&t);
	/* 300 names of 3,000 bytes: over 512 KiB, under 1 MiB */
	dc_ctx_set_max_memory(unit_ctx(), 1u << 20);
	CHECK_ERR(dc__src_open_memory(unit_ctx(), &src, t.p, t.len), DC_ELIMIT);
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "over the 512 KiB limit");
	CHECK_CONTAINS(dc_ctx_errmsg(unit_ctx()), "raise --max-memory");
	dc_ctx_set_max_memory(unit_ctx(), 2u << 20);
	CHECK_OK(dc__src_open_memory(unit_ctx(), &src, t.p, t.len));
	CHECK(src && src->n == 300);
	dc_ctx_set_max_memory(unit_ctx(), 0);
	dc__src_free(src);
	ubuf_free(&t);
}
