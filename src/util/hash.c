/*
 * SHA-256 digests and digest string checks.
 *
 * On x86-64 with the SHA extensions the block function is our own, so
 * that two independent streams can go through it at once
 * (dc__hash_update2): SHA256RNDS2 is a long-latency instruction and one
 * stream leaves the unit idle half the time, so two interleaved streams
 * hash in about the time of one (3.1 GB/s against 1.8 GB/s on the Zen 4
 * of BENCHMARKS.md). Elsewhere OpenSSL's EVP does the work, one stream
 * at a time.
 */
#include "util/util.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(DC_NO_SHANI)
#define HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "banned.h"

struct dc_hash {
	EVP_MD_CTX *md;		/* NULL: the SHA extensions' path below */
	uint32_t st[8];
	uint64_t len;		/* bytes hashed */
	unsigned char blk[64];	/* a partial block */
	size_t nblk;
};

static const uint32_t sha_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#ifdef HAVE_SHANI
#define SHANI __attribute__((target("sha,sse4.1,ssse3")))

static const uint32_t shani_k[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* one lane's registers: the state as ABEF/CDGH and the message schedule */
struct shani_lane {
	__m128i s0, s1, w[4];
};

#define SHANI_LOAD(L, p, i, mask) \
	((L).w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p) + (i)), mask))

/* rounds 4g..4g+3; schedules the words the later groups need */
#define SHANI_GROUP(L, g) do {						\
	__m128i m_ = _mm_add_epi32((L).w[(g) & 3],			\
		_mm_load_si128((const __m128i *)shani_k + (g)));	\
	(L).s1 = _mm_sha256rnds2_epu32((L).s1, (L).s0, m_);		\
	if ((g) >= 3 && (g) <= 14) {					\
		__m128i t_ = _mm_alignr_epi8((L).w[(g) & 3],		\
					     (L).w[((g) + 3) & 3], 4);	\
		(L).w[((g) + 1) & 3] = _mm_sha256msg2_epu32(		\
			_mm_add_epi32((L).w[((g) + 1) & 3], t_),	\
			(L).w[(g) & 3]);				\
	}								\
	m_ = _mm_shuffle_epi32(m_, 0x0e);				\
	(L).s0 = _mm_sha256rnds2_epu32((L).s0, (L).s1, m_);		\
	if ((g) >= 1 && (g) <= 12)					\
		(L).w[((g) + 3) & 3] = _mm_sha256msg1_epu32(		\
			(L).w[((g) + 3) & 3], (L).w[(g) & 3]);		\
} while (0)

SHANI static inline void shani_in(struct shani_lane *L, const uint32_t st[8])
{
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st), 0xb1);
	__m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st + 1), 0x1b);

	L->s0 = _mm_alignr_epi8(t, s1, 8);	/* ABEF */
	L->s1 = _mm_blend_epi16(s1, t, 0xf0);	/* CDGH */
}

SHANI static inline void shani_out(const struct shani_lane *L, uint32_t st[8])
{
	__m128i t = _mm_shuffle_epi32(L->s0, 0x1b);	/* FEBA */
	__m128i s1 = _mm_shuffle_epi32(L->s1, 0xb1);	/* DCHG */

	_mm_storeu_si128((__m128i *)st, _mm_blend_epi16(t, s1, 0xf0));	/* DCBA */
	_mm_storeu_si128((__m128i *)st + 1, _mm_alignr_epi8(s1, t, 8));	/* HGFE */
}

#define SHANI_MASK _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL)

SHANI static void shani_blocks(uint32_t st[8], const unsigned char *p, size_t n)
{
	const __m128i mask = SHANI_MASK;
	struct shani_lane a;

	shani_in(&a, st);
	for (; n; n--, p += 64) {
		__m128i s0 = a.s0, s1 = a.s1;

		SHANI_LOAD(a, p, 0, mask); SHANI_LOAD(a, p, 1, mask);
		SHANI_LOAD(a, p, 2, mask); SHANI_LOAD(a, p, 3, mask);
		SHANI_GROUP(a, 0); SHANI_GROUP(a, 1); SHANI_GROUP(a, 2); SHANI_GROUP(a, 3);
		SHANI_GROUP(a, 4); SHANI_GROUP(a, 5); SHANI_GROUP(a, 6); SHANI_GROUP(a, 7);
		SHANI_GROUP(a, 8); SHANI_GROUP(a, 9); SHANI_GROUP(a, 10); SHANI_GROUP(a, 11);
		SHANI_GROUP(a, 12); SHANI_GROUP(a, 13); SHANI_GROUP(a, 14); SHANI_GROUP(a, 15);
		a.s0 = _mm_add_epi32(a.s0, s0);
		a.s1 = _mm_add_epi32(a.s1, s1);
	}
	shani_out(&a, st);
}

#define SHANI_G2(g) do { SHANI_GROUP(a, g); SHANI_GROUP(b, g); } while (0)

SHANI static void shani_blocks2(uint32_t sa[8], const unsigned char *pa,
				uint32_t sb[8], const unsigned char *pb, size_t n)
{
	const __m128i mask = SHANI_MASK;
	struct shani_lane a, b;

	shani_in(&a, sa);
	shani_in(&b, sb);
	for (; n; n--, pa += 64, pb += 64) {
		__m128i a0 = a.s0, a1 = a.s1, b0 = b.s0, b1 = b.s1;

		SHANI_LOAD(a, pa, 0, mask); SHANI_LOAD(a, pa, 1, mask);
		SHANI_LOAD(a, pa, 2, mask); SHANI_LOAD(a, pa, 3, mask);
		SHANI_LOAD(b, pb, 0, mask); SHANI_LOAD(b, pb, 1, mask);
		SHANI_LOAD(b, pb, 2, mask); SHANI_LOAD(b, pb, 3, mask);
		SHANI_G2(0); SHANI_G2(1); SHANI_G2(2); SHANI_G2(3);
		SHANI_G2(4); SHANI_G2(5); SHANI_G2(6); SHANI_G2(7);
		SHANI_G2(8); SHANI_G2(9); SHANI_G2(10); SHANI_G2(11);
		SHANI_G2(12); SHANI_G2(13); SHANI_G2(14); SHANI_G2(15);
		a.s0 = _mm_add_epi32(a.s0, a0); a.s1 = _mm_add_epi32(a.s1, a1);
		b.s0 = _mm_add_epi32(b.s0, b0); b.s1 = _mm_add_epi32(b.s1, b1);
	}
	shani_out(&a, sa);
	shani_out(&b, sb);
}

static int accel = -1;		/* -1: not probed yet */

static int probe(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) ||
	    !(c & (1u << 9)) || !(c & (1u << 19)))	/* SSSE3, SSE4.1 */
		return 0;
	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	return (b >> 29) & 1;				/* SHA */
}

static int use_ni(void)
{
	int on = __atomic_load_n(&accel, __ATOMIC_RELAXED);

	if (on < 0) {
		on = probe();
		__atomic_store_n(&accel, on, __ATOMIC_RELAXED);
	}
	return on;
}

int dc__hash_accel(int on)
{
	if (on >= 0)
		__atomic_store_n(&accel, on ? probe() : 0, __ATOMIC_RELAXED);
	return use_ni();
}
#else
static void shani_blocks(uint32_t st[8], const unsigned char *p, size_t n)
{
	(void)st, (void)p, (void)n;
}

static void shani_blocks2(uint32_t sa[8], const unsigned char *pa,
			  uint32_t sb[8], const unsigned char *pb, size_t n)
{
	(void)sa, (void)pa, (void)sb, (void)pb, (void)n;
}

static int use_ni(void)
{
	return 0;
}

int dc__hash_accel(int on)
{
	(void)on;
	return 0;
}
#endif

static void ni_reset(struct dc_hash *h)
{
	memcpy(h->st, sha_iv, sizeof(h->st));
	h->len = 0;
	h->nblk = 0;
}

int dc__hash_new(struct dc_ctx *ctx, struct dc_hash **out)
{
	struct dc_hash *h = dc__calloc(ctx, 1, sizeof(*h));

	*out = NULL;
	if (!h)
		return DC_ENOMEM;
	if (use_ni()) {
		ni_reset(h);
	} else {
		h->md = EVP_MD_CTX_new();
		if (!h->md || !EVP_DigestInit_ex(h->md, EVP_sha256(), NULL)) {
			dc__hash_free(h);
			return dc__enomem(ctx);
		}
	}
	*out = h;
	return 0;
}

/* Completes a partial block from *P: after it, either nothing is left
 * in *N or no partial block is. */
static void ni_head(struct dc_hash *h, const unsigned char **p, size_t *n)
{
	size_t k;

	if (!h->nblk)
		return;
	k = 64 - h->nblk < *n ? 64 - h->nblk : *n;
	memcpy(h->blk + h->nblk, *p, k);
	h->nblk += k;
	*p += k;
	*n -= k;
	if (h->nblk == 64) {
		shani_blocks(h->st, h->blk, 1);
		h->nblk = 0;
	}
}

static void ni_rest(struct dc_hash *h, const unsigned char *p, size_t n)
{
	if (n >= 64) {
		shani_blocks(h->st, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	memcpy(h->blk, p, n);
	h->nblk = n;
}

void dc__hash_update(struct dc_hash *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	if (h->md) {
		EVP_DigestUpdate(h->md, p, n);
		return;
	}
	h->len += n;
	ni_head(h, &b, &n);
	if (n)
		ni_rest(h, b, n);
}

void dc__hash_update2(struct dc_hash *a, const void *pa, size_t na,
		      struct dc_hash *b, const void *pb, size_t nb)
{
	const unsigned char *x = pa, *y = pb;
	size_t k;

	if (a->md || b->md || !na || !nb) {
		dc__hash_update(a, pa, na);
		dc__hash_update(b, pb, nb);
		return;
	}
	a->len += na;
	b->len += nb;
	ni_head(a, &x, &na);
	ni_head(b, &y, &nb);
	k = (na < nb ? na : nb) / 64;
	if (k) {
		shani_blocks2(a->st, x, b->st, y, k);
		x += 64 * k;
		y += 64 * k;
		na -= 64 * k;
		nb -= 64 * k;
	}
	if (na)
		ni_rest(a, x, na);
	if (nb)
		ni_rest(b, y, nb);
}

static void ni_final(struct dc_hash *h, unsigned char md[32])
{
	uint64_t bits = h->len * 8;
	int i;

	h->blk[h->nblk++] = 0x80;
	if (h->nblk > 56) {
		memset(h->blk + h->nblk, 0, 64 - h->nblk);
		shani_blocks(h->st, h->blk, 1);
		h->nblk = 0;
	}
	memset(h->blk + h->nblk, 0, 56 - h->nblk);
	for (i = 0; i < 8; i++)
		h->blk[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	shani_blocks(h->st, h->blk, 1);
	for (i = 0; i < 32; i++)
		md[i] = (unsigned char)(h->st[i / 4] >> (24 - 8 * (i % 4)));
	ni_reset(h);
}

static void hexify(const unsigned char *md, char out[DC_DIGEST_MAX])
{
	static const char hx[] = "0123456789abcdef";
	char *o = out;
	int i;

	memcpy(o, "sha256:", 7);
	o += 7;
	for (i = 0; i < 32; i++) {
		*o++ = hx[md[i] >> 4];
		*o++ = hx[md[i] & 15];
	}
	*o = '\0';
}

void dc__hash_final(struct dc_hash *h, char out[DC_DIGEST_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!h->md) {
		ni_final(h, md);
	} else {
		EVP_DigestFinal_ex(h->md, md, &len);
		EVP_DigestInit_ex(h->md, EVP_sha256(), NULL);
	}
	hexify(md, out);
}

void dc__hash_free(struct dc_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

void dc__sha256_digest(const void *p, size_t n, char out[DC_DIGEST_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (use_ni()) {
		struct dc_hash h;

		memset(&h, 0, sizeof(h));
		ni_reset(&h);
		dc__hash_update(&h, p, n);
		ni_final(&h, md);
	} else {
		EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	}
	hexify(md, out);
}

int dc__is_hex64(const char *s, size_t n)
{
	size_t i;

	if (n != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int dc__digest_valid(const char *s)
{
	return s && strncmp(s, "sha256:", 7) == 0 &&
	       dc__is_hex64(s + 7, strlen(s + 7));
}

const char *dc__digest_hex(const char *digest)
{
	return digest + 7;
}
