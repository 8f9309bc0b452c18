/*
 * Digests: SHA-256 known answers, digest string checks, incremental
 * hashing.
 */
#include "unit.h"

#include <openssl/evp.h>

static const struct {
	const char *in;
	const char *want;
} sha_vectors[] = {
	{ "", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "The quick brown fox jumps over the lazy dog",
	  "sha256:d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592" },
};

TEST(digest_sha256_vectors)
{
	char out[DC_DIGEST_MAX];
	size_t i;

	for (i = 0; i < sizeof(sha_vectors) / sizeof(sha_vectors[0]); i++) {
		UNIT_CASE("\"%s\"", sha_vectors[i].in);
		memset(out, 'X', sizeof(out));
		dc__sha256_digest(sha_vectors[i].in, strlen(sha_vectors[i].in),
				  out);
		CHECK_STR(out, sha_vectors[i].want);
		CHECK_EQ_INT(strlen(out), DC_DIGEST_MAX - 1);
		CHECK(dc__digest_valid(out));
	}
}

TEST(digest_sha256_million_a)
{
	size_t n = 1000000;
	char *p = unit_xmalloc(n), out[DC_DIGEST_MAX];

	memset(p, 'a', n);
	dc__sha256_digest(p, n, out);
	CHECK_STR(out, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(p);
}

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct {
	const char *in;
	int valid;
} digest_rows[] = {
	{ "sha256:" HEX64, 1 },
	{ "sha256:0000000000000000000000000000000000000000000000000000000000000000", 1 },
	{ "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 0 },
	{ "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85E", 0 },
	{ "SHA256:" HEX64, 0 },
	{ "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", 0 },
	{ "sha256:" HEX64 "0", 0 },
	{ "sha256:" HEX64 " ", 0 },
	{ "sha256:" HEX64 "\n", 0 },
	{ "sha256:", 0 },
	{ "sha256", 0 },
	{ "", 0 },
	{ HEX64, 0 },
	{ ":" HEX64, 0 },
	{ "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", 0 },
	{ "sha512:" HEX64, 0 },
	{ "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0 },
	{ "sha256:-3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0 },
	{ " sha256:" HEX64, 0 },
	{ "sha256: " HEX64, 0 },
	{ "sha256:../../../../../../../../../../../../../../../../etc/passwd00", 0 },
};

TEST(digest_valid_table)
{
	size_t i;

	for (i = 0; i < sizeof(digest_rows) / sizeof(digest_rows[0]); i++) {
		UNIT_CASE("row %zu \"%s\"", i, digest_rows[i].in);
		CHECK_EQ_INT(dc__digest_valid(digest_rows[i].in),
			     digest_rows[i].valid);
	}
	UNIT_CASE("NULL");
	CHECK_EQ_INT(dc__digest_valid(NULL), 0);
	CHECK_STR(dc__digest_hex("sha256:" HEX64), HEX64);
}

TEST(digest_is_hex64)
{
	CHECK(dc__is_hex64(HEX64, 64));
	CHECK(!dc__is_hex64(HEX64, 63));
	CHECK(!dc__is_hex64(HEX64 "0", 65));
	CHECK(!dc__is_hex64("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 64));
	/* only N bytes are looked at: a hex prefix of a longer string */
	CHECK(dc__is_hex64(HEX64 ".tar.gz", 64));
}

/* Incremental hashing equals one-shot for every split point, and
 * final resets the hash for reuse. */
TEST(hash_incremental)
{
	unsigned char data[1500];
	char one[DC_DIGEST_MAX], inc[DC_DIGEST_MAX];
	struct dc_hash *h = NULL;
	size_t cut, i;

	unit_random(data, sizeof(data), 42);
	dc__sha256_digest(data, sizeof(data), one);
	CHECK_OK(dc__hash_new(unit_ctx(), &h));
	REQUIRE(h);
	for (cut = 0; cut <= sizeof(data); cut += 37) {
		UNIT_CASE("cut at %zu", cut);
		dc__hash_update(h, data, cut);
		dc__hash_update(h, data + cut, sizeof(data) - cut);
		dc__hash_final(h, inc);
		CHECK_STR(inc, one);
	}
	/* byte by byte */
	UNIT_CASE("byte by byte");
	for (i = 0; i < sizeof(data); i++)
		dc__hash_update(h, data + i, 1);
	dc__hash_final(h, inc);
	CHECK_STR(inc, one);
	/* after final, the hash starts over: empty input */
	UNIT_CASE("reset");
	dc__hash_final(h, inc);
	CHECK_STR(inc, "sha256:" HEX64);
	/* zero-length updates change nothing */
	dc__hash_update(h, "abc", 0);
	dc__hash_update(h, "abc", 3);
	dc__hash_update(h, "", 0);
	dc__hash_final(h, inc);
	CHECK_STR(inc, sha_vectors[1].want);
	dc__hash_free(h);
	dc__hash_free(NULL);
}

/* OpenSSL's one-shot digest: the reference for our own block function */
static void ref_sha256(const void *p, size_t n, char out[DC_DIGEST_MAX])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hx[md[i] >> 4];
		out[8 + 2 * i] = hx[md[i] & 15];
	}
	out[71] = '\0';
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Two streams fed together in random pieces (partial blocks, empty
 * pieces, one stream ending first) give each its own digest; so do the
 * known answers. With A and B from either path: the SHA extensions or
 * OpenSSL, whichever this CPU allows, and the two mixed. */
static void check_update2(int accel_a, int accel_b, uint32_t seed)
{
	static unsigned char x[70001], y[50003];
	char want_x[DC_DIGEST_MAX], want_y[DC_DIGEST_MAX];
	char got_x[DC_DIGEST_MAX], got_y[DC_DIGEST_MAX];
	struct dc_hash *a = NULL, *b = NULL;
	size_t i, ox = 0, oy = 0;
	uint32_t s = seed;

	unit_random(x, sizeof(x), seed);
	unit_random(y, sizeof(y), seed + 1);
	ref_sha256(x, sizeof(x), want_x);
	ref_sha256(y, sizeof(y), want_y);
	dc__hash_accel(accel_a);
	CHECK_OK(dc__hash_new(unit_ctx(), &a));
	dc__hash_accel(accel_b);
	CHECK_OK(dc__hash_new(unit_ctx(), &b));
	dc__hash_accel(1);
	REQUIRE(a && b);
	while (ox < sizeof(x) || oy < sizeof(y)) {
		/* mostly big pieces, some tiny ones, some empty */
		size_t nx = lcg(&s) % 8 ? lcg(&s) % 9000 : lcg(&s) % 70;
		size_t ny = lcg(&s) % 8 ? lcg(&s) % 9000 : lcg(&s) % 70;

		nx = nx > sizeof(x) - ox ? sizeof(x) - ox : nx;
		ny = ny > sizeof(y) - oy ? sizeof(y) - oy : ny;
		dc__hash_update2(a, x + ox, nx, b, y + oy, ny);
		ox += nx;
		oy += ny;
	}
	dc__hash_final(a, got_x);
	dc__hash_final(b, got_y);
	CHECK_STR(got_x, want_x);
	CHECK_STR(got_y, want_y);
	/* after final both start over */
	for (i = 0; i < sizeof(sha_vectors) / sizeof(sha_vectors[0]); i++) {
		const char *v = sha_vectors[i].in;

		dc__hash_update2(a, v, strlen(v), b, v, strlen(v) / 2);
		dc__hash_update(b, v + strlen(v) / 2, strlen(v) - strlen(v) / 2);
		dc__hash_final(a, got_x);
		dc__hash_final(b, got_y);
		CHECK_STR(got_x, sha_vectors[i].want);
		CHECK_STR(got_y, sha_vectors[i].want);
	}
	dc__hash_free(a);
	dc__hash_free(b);
}

TEST(hash_update2)
{
	uint32_t seed;

	for (seed = 1; seed <= 20; seed++) {
		UNIT_CASE("seed %u, %s", seed, dc__hash_accel(-1) ?
			  "SHA extensions" : "OpenSSL");
		check_update2(1, 1, seed);
		UNIT_CASE("seed %u, OpenSSL", seed);
		check_update2(0, 0, seed);
		UNIT_CASE("seed %u, mixed", seed);
		check_update2(1, 0, seed);
		check_update2(0, 1, seed);
	}
}

/* Every length around the block and padding boundaries, both paths,
 * against OpenSSL; and the one-shot digest too. */
TEST(hash_lengths)
{
	static unsigned char data[300];
	char want[DC_DIGEST_MAX], got[DC_DIGEST_MAX];
	struct dc_hash *h = NULL;
	size_t n;
	int on;

	unit_random(data, sizeof(data), 7);
	for (on = 1; on >= 0; on--) {
		dc__hash_accel(on);
		CHECK_OK(dc__hash_new(unit_ctx(), &h));
		REQUIRE(h);
		for (n = 0; n < sizeof(data); n++) {
			UNIT_CASE("%zu bytes, accel %d", n, on);
			ref_sha256(data, n, want);
			dc__hash_update(h, data, n / 3);
			dc__hash_update(h, data + n / 3, n - n / 3);
			dc__hash_final(h, got);
			CHECK_STR(got, want);
			dc__sha256_digest(data, n, got);
			CHECK_STR(got, want);
		}
		dc__hash_free(h);
		h = NULL;
	}
	dc__hash_accel(1);
}
