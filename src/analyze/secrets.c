/*
 * Secrets in file contents and config strings: private keys, cloud and
 * forge tokens, credential files. File contents stream through a window
 * of AN_WIN bytes that keeps the last AN_TOK bytes of the one before, so
 * a token split across reads is seen once, and memory stays bounded.
 * Credential files (by name) are read line by line, a line capped.
 */
#include "analyze/analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define AN_TOK 256		/* longest token matched */
#define AN_WIN (64u << 10)
#define AN_LINE (64u << 10)	/* a credential file's line, capped */

enum cred { CRED_NONE, CRED_NPMRC, CRED_PYPIRC, CRED_GITCRED,
	    CRED_DOCKERCFG, CRED_DOTENV };

struct an_scan {
	struct dc_ctx *ctx;
	dc_an_found_fn fn;
	void *arg;
	int err;
	int prev;		/* the byte before buf[0], or -1 */
	size_t len;
	unsigned char buf[AN_WIN + AN_TOK];
	enum cred cred;
	size_t llen;
	int lover;		/* the line ran past AN_LINE */
	char line[AN_LINE + 1];
};

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static int is_updig(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Count P's leading bytes in the class (alnum plus EXTRA), up to MAX. */
static size_t span(const unsigned char *p, size_t n, const char *extra,
		   size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++)
		if (!is_alnum(p[i]) && !(extra && p[i] && strchr(extra, p[i])))
			break;
	return i;
}

/*
 * A token starting at P (N bytes available, PREV the byte before or
 * -1): its length and KIND, or 0.
 */
static size_t token_at(const unsigned char *p, size_t n, int prev,
		       const char **kind)
{
	size_t k;

	if (prev >= 0 && (is_alnum(prev) || prev == '_'))
		if (p[0] != '-')
			return 0;
	switch (p[0]) {
	case 'A':
		if (n < 20 || p[2] != 'I' || p[3] != 'A' ||
		    (p[1] != 'K' && p[1] != 'S'))
			return 0;
		for (k = 4; k < 20; k++)
			if (!is_updig(p[k]))
				return 0;
		if (n > 20 && is_alnum(p[20]))
			return 0;
		*kind = "aws-access-key-id";
		return 20;
	case 'g':
		if (n >= 40 && p[1] == 'h' && strchr("pousr", p[2]) && p[2] &&
		    p[3] == '_') {
			k = span(p + 4, n - 4, NULL, AN_TOK - 5);
			if (k < 36)
				return 0;
			*kind = "github-token";
			return 4 + k;
		}
		if (n >= 33 && !memcmp(p, "github_pat_", 11)) {
			k = span(p + 11, n - 11, "_", AN_TOK - 12);
			if (k < 22)
				return 0;
			*kind = "github-token";
			return 11 + k;
		}
		if (n >= 26 && !memcmp(p, "glpat-", 6)) {
			k = span(p + 6, n - 6, "_-", AN_TOK - 7);
			if (k < 20)
				return 0;
			*kind = "gitlab-token";
			return 6 + k;
		}
		return 0;
	case 'x':
		if (n < 15 || memcmp(p, "xox", 3) || !p[3] ||
		    !strchr("baprs", p[3]) || p[4] != '-')
			return 0;
		k = span(p + 5, n - 5, "-", AN_TOK - 6);
		if (k < 10)
			return 0;
		*kind = "slack-token";
		return 5 + k;
	case '-':
		if (n < 32 || memcmp(p, "-----BEGIN ", 11))
			return 0;
		for (k = 11; k < n && k < 64 &&
		     ((p[k] >= 'A' && p[k] <= 'Z') || p[k] == ' '); k++)
			;
		if (k + 5 > n || memcmp(p + k, "-----", 5))
			return 0;
		if ((k >= 22 && !memcmp(p + k - 11, "PRIVATE KEY", 11)) ||
		    (k >= 28 && !memcmp(p + k - 17, "PRIVATE KEY BLOCK", 17))) {
			*kind = k >= 18 && !memcmp(p + 11, "OPENSSH", 7) ?
				"openssh-private-key" : "private-key";
			return k + 5;
		}
		return 0;
	}
	return 0;
}

static const unsigned char starts[256] = {
	['A'] = 1, ['g'] = 1, ['x'] = 1, ['-'] = 1
};

#ifdef __SSE2__
#include <emmintrin.h>
#define STEP 16
/*
 * A bit per byte of P[0..16) where a token may start: "AK", "AS", "gh",
 * "gi", "gl", "xo" or "--" (P[16] is read too).
 */
static unsigned starts_mask(const unsigned char *p)
{
	__m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
#define EQ(v, c) _mm_cmpeq_epi8(v, _mm_set1_epi8(c))
	__m128i aws = _mm_and_si128(EQ(a, 'A'), _mm_or_si128(EQ(b, 'K'), EQ(b, 'S')));
	__m128i g = _mm_and_si128(EQ(a, 'g'), _mm_or_si128(
		_mm_or_si128(EQ(b, 'h'), EQ(b, 'i')), EQ(b, 'l')));
	__m128i x = _mm_and_si128(EQ(a, 'x'), EQ(b, 'o'));
	__m128i d = _mm_and_si128(EQ(a, '-'), EQ(b, '-'));
#undef EQ

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(aws, g),
							_mm_or_si128(x, d)));
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_SKIP 1
#define AVX2 __attribute__((target("avx2")))

/*
 * Past the 32-byte blocks of P[I..LIMIT) where no token starts (a pair
 * starts_mask() knows, or "AC", "A["; P[LIMIT] is read too): the index
 * of the first block where one may. A byte's class is LO[c & 15] &
 * HI[c >> 4], a bit per kind of token (A, g, x, -) for the first byte
 * and the same bit for the second bytes that may follow it; a pair may
 * start a token where the two share a bit. On the cores that have AVX2
 * (the scan is most of the analysis' own work).
 */
AVX2 static size_t skip_avx2(const unsigned char *p, size_t i, size_t limit)
{
#define TBL(...) _mm256_broadcastsi128_si256(_mm_setr_epi8(__VA_ARGS__))
	/* first: 'A' 0x41 1, 'g' 0x67 2, 'x' 0x78 4, '-' 0x2d 8 */
	const __m256i lo1 = TBL(0, 1, 0, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0, 8, 0, 0);
	const __m256i hi1 = TBL(0, 0, 8, 0, 1, 0, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0);
	/* second: 'K' 0x4b 'S' 0x53 1, 'h' 'i' 'l' 0x68 0x69 0x6c 2,
	 * 'o' 0x6f 4, '-' 0x2d 8 */
	const __m256i lo2 = TBL(0, 0, 0, 1, 0, 0, 0, 0, 2, 2, 0, 1, 2, 8, 0, 4);
	const __m256i hi2 = TBL(0, 0, 8, 0, 1, 1, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0);
#undef TBL
	const __m256i nib = _mm256_set1_epi8(15), zero = _mm256_setzero_si256();

	for (; i + 32 <= limit; i += 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 1));
		__m256i ca = _mm256_and_si256(
			_mm256_shuffle_epi8(lo1, _mm256_and_si256(a, nib)),
			_mm256_shuffle_epi8(hi1, _mm256_and_si256(
				_mm256_srli_epi16(a, 4), nib)));
		__m256i cb = _mm256_and_si256(
			_mm256_shuffle_epi8(lo2, _mm256_and_si256(b, nib)),
			_mm256_shuffle_epi8(hi2, _mm256_and_si256(
				_mm256_srli_epi16(b, 4), nib)));

		if ((unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
			    _mm256_and_si256(ca, cb), zero)) != 0xffffffffu)
			break;
	}
	return i;
}

static int have_avx2(void)
{
	static int have = -1;

	if (have < 0)
		have = __builtin_cpu_supports("avx2") ? 1 : 0;
	return have;
}
#endif
#else
#define STEP 8
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define HASZERO(v) (((v) - ONES) & ~(v) & HIGHS)

/* Does the word hold one of the bytes tokens start with? */
static int word_has_start(uint64_t v)
{
	uint64_t a = v ^ ('A' * ONES), g = v ^ ('g' * ONES);
	uint64_t x = v ^ ('x' * ONES), d = v ^ ('-' * ONES);

	return (HASZERO(a) | HASZERO(g) | HASZERO(x) | HASZERO(d)) != 0;
}

static unsigned starts_mask(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return word_has_start(v) ? 0xff : 0;
}
#endif

/* Report the tokens starting in P[0..upto) (P has N bytes), a vector of
 * bytes at a time past those no token starts with; where it stopped
 * (past UPTO when a token runs on). */
static size_t scan_tokens(struct an_scan *s, const unsigned char *p, size_t n,
			size_t upto, int prev)
{
	size_t i = 0, m;
#ifdef HAVE_AVX2_SKIP
	size_t limit = upto < n ? upto : n - 1;	/* P[limit] is read */
	int avx2 = n && have_avx2();
#endif

	while (i < upto && !s->err) {
		const char *kind;
		unsigned mask;
		size_t base;

#ifdef HAVE_AVX2_SKIP
		if (avx2 && (i = skip_avx2(p, i, limit)) >= upto)
			break;
#endif
		mask = i + STEP <= upto && i + STEP < n ? starts_mask(p + i) :
		       (1u << (upto - i < STEP ? upto - i : STEP)) - 1;
		base = i;

		if (!mask) {
			i += STEP;
			continue;
		}
		i = base + STEP < upto ? base + STEP : upto;
		while (mask && !s->err) {
			size_t j = base + (size_t)__builtin_ctz(mask);

			mask &= mask - 1;
			if (j >= upto || !starts[p[j]])
				continue;
			if ((m = token_at(p + j, n - j, j ? p[j - 1] : prev,
					  &kind))) {
				s->err = s->fn(s->arg, kind, (const char *)p + j, m);
				i = j + m;
				break;
			}
		}
	}
	return i;
}

char *dc__an_redact(const char *secret, size_t len)
{
	/* short secrets show less: a third of them at most */
	size_t show = len >= 12 ? 4 : len / 3, i;
	char *out = malloc(show + 32);

	if (!out)
		return NULL;
	for (i = 0; i < show; i++) {
		unsigned char c = (unsigned char)secret[i];

		out[i] = c > ' ' && c < 0x7f && c != '"' && c != '\\' &&
			 c != '<' && c != '&' ? (char)c : '?';
	}
	snprintf(out + show, 32, "\xe2\x80\xa6(%zu)", len);
	return out;
}

int dc__an_keylike(const char *name, size_t n)
{
	static const char *const ends[] = { "_KEY", "_TOKEN", "_SECRET" };
	char up[128];
	size_t i;

	if (!n || n >= sizeof(up))
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!is_alnum((unsigned char)c) && c != '_')
			return 0;
		up[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
	}
	up[n] = '\0';
	if (strstr(up, "PASSWORD"))
		return 1;
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t k = strlen(ends[i]);

		if (n > k && !strcmp(up + n - k, ends[i]))
			return 1;
	}
	return 0;
}

int dc__an_scan_new(struct dc_ctx *ctx, struct an_scan **out)
{
	if (!(*out = dc__calloc(ctx, 1, sizeof(**out))))
		return DC_ENOMEM;
	(*out)->ctx = ctx;
	return 0;
}

void dc__an_scan_free(struct an_scan *s)
{
	free(s);
}

static enum cred cred_of(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t bl;

	base = base ? base + 1 : path;
	bl = strlen(base);
	if (!strcmp(base, ".npmrc"))
		return CRED_NPMRC;
	if (!strcmp(base, ".pypirc"))
		return CRED_PYPIRC;
	if (!strcmp(base, ".git-credentials"))
		return CRED_GITCRED;
	if (!strcmp(base, "config.json") && base - path >= 8 &&
	    !memcmp(base - 8, ".docker/", 8))
		return CRED_DOCKERCFG;
	if (!strcmp(base, ".env") || !strncmp(base, ".env.", 5) ||
	    (bl > 4 && !strcmp(base + bl - 4, ".env")))
		return CRED_DOTENV;
	return CRED_NONE;
}

void dc__an_scan_begin(struct an_scan *s, const char *path,
		       dc_an_found_fn fn, void *arg)
{
	s->fn = fn;
	s->arg = arg;
	s->err = 0;
	s->prev = -1;
	s->len = 0;
	s->cred = cred_of(path);
	s->llen = 0;
	s->lover = 0;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Report VALUE (up to the end of its token: END chars, or space). */
static void report_value(struct an_scan *s, const char *kind, const char *v,
			 const char *end)
{
	size_t n = 0;

	if (*v == '"' || *v == '\'') {
		const char *q = strchr(v + 1, *v);

		if (!q)
			return;
		v++;
		n = (size_t)(q - v);
	} else {
		while (v[n] && !strchr(end, v[n]))
			n++;
	}
	if (n && !s->err)
		s->err = s->fn(s->arg, kind, v, n);
}

/* An assignment NAME=VALUE at P with a key-like NAME: report VALUE. */
static void assignment(struct an_scan *s, const char *p, const char *kind,
		       const char *end)
{
	const char *eq = p;

	while (is_alnum((unsigned char)*eq) || *eq == '_')
		eq++;
	if (eq == p || !dc__an_keylike(p, (size_t)(eq - p)))
		return;
	eq = skip_ws(eq);
	if (*eq != '=')
		return;
	report_value(s, kind, skip_ws(eq + 1), end);
}

static void cred_line(struct an_scan *s, char *l)
{
	const char *p = skip_ws(l), *q;

	switch (s->cred) {
	case CRED_NPMRC:
		if ((q = strstr(p, "_authToken=")))
			report_value(s, "npm-token", q + 11, " \t\r");
		else if ((q = strstr(p, "_auth=")))
			report_value(s, "npm-token", q + 6, " \t\r");
		else if ((q = strstr(p, "_password=")))
			report_value(s, "npm-token", q + 10, " \t\r");
		break;
	case CRED_PYPIRC:
		if (strncmp(p, "password", 8))
			break;
		p = skip_ws(p + 8);
		if (*p == '=' || *p == ':')
			report_value(s, "pypi-password", skip_ws(p + 1), " \t\r");
		break;
	case CRED_GITCRED:
		/* scheme://user:password@host */
		if ((q = strstr(p, "://"))) {
			const char *at = strchr(q + 3, '@'), *c;

			c = strchr(q + 3, ':');
			if (at && c && c < at && !s->err)
				s->err = s->fn(s->arg, "git-credentials", c + 1,
					       (size_t)(at - c - 1));
		}
		break;
	case CRED_DOCKERCFG:
		for (q = p; (q = strstr(q, "\"auth\"")); q += 6) {
			const char *v = skip_ws(q + 6);

			if (*v == ':')
				report_value(s, "docker-auth", skip_ws(v + 1),
					     "\"");
		}
		break;
	case CRED_DOTENV:
		if (!strncmp(p, "export ", 7))
			p = skip_ws(p + 7);
		assignment(s, p, "env-assignment", " \t\r#");
		break;
	case CRED_NONE:
		break;
	}
}

static void cred_feed(struct an_scan *s, const unsigned char *p, size_t n)
{
	while (n && !s->err) {
		const unsigned char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n, room = AN_LINE - s->llen;

		if (k > room) {
			s->lover = 1;
			k = room;
		}
		memcpy(s->line + s->llen, p, k);
		s->llen += k;
		if (!nl)
			return;
		s->line[s->llen] = '\0';
		cred_line(s, s->line);
		s->llen = 0;
		s->lover = 0;
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
}

/* Scan the window's starts that have AN_TOK bytes after them (all at
 * the end), keep the rest for the next round. */
static void window(struct an_scan *s, int final)
{
	size_t upto = final ? s->len : s->len - AN_TOK;

	scan_tokens(s, s->buf, s->len, upto, s->prev);
	if (final)
		return;
	s->prev = s->buf[upto - 1];
	memmove(s->buf, s->buf + upto, s->len - upto);
	s->len -= upto;
}

int dc__an_scan_feed(struct an_scan *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	if (s->cred)
		cred_feed(s, p, n);
	if (n >= 2 * AN_TOK && !s->err) {
		/*
		 * A large block is scanned where it lies, not copied: only
		 * its first AN_TOK bytes join the window's rest (the starts
		 * there), and its last AN_TOK bytes stay for the next.
		 */
		size_t carry, e, at;
		int prev;

		if (s->len > AN_TOK)
			window(s, 0);
		carry = s->len;
		memcpy(s->buf + carry, p, AN_TOK);
		e = scan_tokens(s, s->buf, carry + AN_TOK, carry, s->prev);
		at = e > carry ? e - carry : 0;
		prev = at ? p[at - 1] : carry ? s->buf[carry - 1] : s->prev;
		if (at < n - AN_TOK && !s->err)
			scan_tokens(s, p + at, n - at, n - AN_TOK - at, prev);
		memcpy(s->buf, p + n - AN_TOK, AN_TOK);
		s->len = AN_TOK;
		s->prev = p[n - AN_TOK - 1];
		return s->err;
	}
	while (n && !s->err) {
		size_t k = sizeof(s->buf) - s->len;

		if (k > n)
			k = n;
		memcpy(s->buf + s->len, p, k);
		s->len += k;
		p += k;
		n -= k;
		if (s->len == sizeof(s->buf))
			window(s, 0);
	}
	return s->err;
}

int dc__an_scan_end(struct an_scan *s)
{
	if (!s->err)
		window(s, 1);
	if (s->cred && s->llen && !s->err) {
		s->line[s->llen] = '\0';
		cred_line(s, s->line);
	}
	return s->err;
}

/* Token matches in a string, so that assignments skip their values. */
struct strscan {
	dc_an_found_fn fn;
	void *arg;
	const char *base;
	size_t ranges[16][2];
	size_t n;
};

static int str_found(void *arg, const char *kind, const char *p, size_t n)
{
	struct strscan *t = arg;

	if (t->n < 16) {
		t->ranges[t->n][0] = (size_t)(p - t->base);
		t->ranges[t->n][1] = (size_t)(p - t->base) + n;
		t->n++;
	}
	return t->fn(t->arg, kind, p, n);
}

static int str_assign(void *arg, const char *kind, const char *p, size_t n)
{
	struct strscan *t = arg;
	size_t off = (size_t)(p - t->base), i;

	for (i = 0; i < t->n; i++)
		if (off < t->ranges[i][1] && off + n > t->ranges[i][0])
			return 0;	/* a token found already */
	return t->fn(t->arg, kind, p, n);
}

int dc__an_scan_string(struct an_scan *s, const char *str, int assign,
		       dc_an_found_fn fn, void *arg)
{
	struct strscan t;
	size_t n = strlen(str);
	const char *p;

	memset(&t, 0, sizeof(t));
	t.fn = fn;
	t.arg = arg;
	t.base = str;
	s->fn = str_found;
	s->arg = &t;
	s->err = 0;
	scan_tokens(s, (const unsigned char *)str, n, n, -1);
	if (!assign || s->err)
		return s->err;
	s->fn = str_assign;
	for (p = str; *p && !s->err; ) {
		int start = p == str || p[-1] == ' ' || p[-1] == '\t' ||
			    p[-1] == '\n' || p[-1] == ';' || p[-1] == '&';

		if (start && (is_alnum((unsigned char)*p) || *p == '_'))
			assignment(s, p, "key-assignment", " \t\r\n;&");
		p++;
	}
	return s->err;
}
