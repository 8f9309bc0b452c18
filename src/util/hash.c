/*
 * SHA-256 digests (OpenSSL EVP) and digest string checks.
 */
#include "internal.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct dc_hash {
	EVP_MD_CTX *md;
};

int dc__hash_new(struct dc_ctx *ctx, struct dc_hash **out)
{
	struct dc_hash *h = dc__calloc(ctx, 1, sizeof(*h));

	*out = NULL;
	if (!h)
		return DC_ENOMEM;
	h->md = EVP_MD_CTX_new();
	if (!h->md || !EVP_DigestInit_ex(h->md, EVP_sha256(), NULL)) {
		dc__hash_free(h);
		return dc__enomem(ctx);
	}
	*out = h;
	return 0;
}

void dc__hash_update(struct dc_hash *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->md, p, n);
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

	EVP_DigestFinal_ex(h->md, md, &len);
	hexify(md, out);
	EVP_DigestInit_ex(h->md, EVP_sha256(), NULL);
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

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
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
