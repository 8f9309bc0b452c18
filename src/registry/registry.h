/*
 * Private header of src/registry/: a client of the distribution API
 * (the registry HTTP API v2) over libcurl, for the registry reader and
 * writer. One client speaks to one repository of one registry.
 */
#ifndef DC_REGISTRY_H
#define DC_REGISTRY_H

#ifndef DC_BUILDING
#error "registry/registry.h is private to decant"
#endif

#include "model/model.h"

/* Media types a manifest GET accepts, in order of preference. */
#define DC_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DC_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define DC_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DC_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* A blob at most this large is uploaded from memory (and retried). */
#define DC_REG_SMALL_BLOB (4u << 20)
/* Error and other bodies we only read for messages. */
#define DC_REG_MAX_ERRBODY (64u << 10)
/* Redirects followed per request, attempts per request. */
#define DC_REG_MAX_REDIRECTS 5
#define DC_REG_MAX_TRIES 5

/* ------------------------------------------------------------------ */
/* Parsers (pure: unit-tested and fuzzed) */

/* "docker://HOST[:PORT]/REPO[:TAG|@DIGEST]" or the same without the
 * scheme. HOST is what to connect to (docker.io: registry-1.docker.io),
 * NAME the familiar host for credentials and tags. */
struct dc_reg_ref {
	char *host;		/* "127.0.0.1:5000", "registry-1.docker.io" */
	char *name;		/* "127.0.0.1:5000", "docker.io" */
	char *repo;		/* "library/busybox" */
	char *tag;		/* NULL if none */
	char *digest;		/* NULL if none */
};
int dc__reg_ref_parse(struct dc_ctx *ctx, struct dc_reg_ref *ref,
		      const char *s);
void dc__reg_ref_release(struct dc_reg_ref *ref);
/* 1 if HOST (with or without a port) is localhost, 127.0.0.0/8 or ::1. */
int dc__reg_host_loopback(const char *host);

/* A WWW-Authenticate challenge: scheme "bearer" or "basic" (lower case),
 * params (NULL when absent). */
struct dc_reg_chal {
	char scheme[16];
	char *realm;
	char *service;
	char *scope;
	char *error;
};
int dc__reg_chal_parse(struct dc_ctx *ctx, struct dc_reg_chal *c,
		       const char *header);
void dc__reg_chal_release(struct dc_reg_chal *c);

/* The token of a token endpoint's JSON answer ("token" or
 * "access_token"); *out is the caller's. */
int dc__reg_token_parse(struct dc_ctx *ctx, const struct dc_buf *b,
			char **out);

/*
 * The credentials for registry NAME in an auth.json / config.json
 * document B (LABEL names it): *user and *pass (caller's), 1 when
 * found, 0 when the file has none for NAME; 2 when a credential helper
 * holds them (credHelpers for NAME, else credsStore when the file has
 * no auth for NAME): *user is the helper's name (letters, digits, '.',
 * '_', '-'; the program is docker-credential-NAME), *pass NULL.
 */
int dc__reg_auth_parse(struct dc_ctx *ctx, const struct dc_buf *b,
		       const char *label, const char *name, char **user,
		       char **pass);

/*
 * What a credential helper's "get" wrote (B; LABEL names the helper):
 * {"Username": ..., "Secret": ...}. 1 with *user and *pass (caller's);
 * an identity token (Username "<token>") is DC_EUNSUPPORTED.
 */
int dc__reg_helper_parse(struct dc_ctx *ctx, const struct dc_buf *b,
			 const char *label, char **user, char **pass);

/* A Content-Range value "bytes START-END/TOTAL", strictly: decimal
 * numbers, START <= END < TOTAL; -1 if it is not one. */
int dc__reg_crange_parse(const char *s, uint64_t *start, uint64_t *end,
			 uint64_t *total);

/* The message of a distribution error body ("CODE: message"), into
 * OUT (N bytes), "" when B is not one. */
void dc__reg_err_body(const struct dc_buf *b, char *out, size_t n);

/* ------------------------------------------------------------------ */
/* The client */

struct dc_reg;

/*
 * A client for REF's repository, configured from CTX's registry options
 * (dc_ctx_set_registry): credentials, TLS. PUSH asks for push access.
 * Pings /v2/ to find the scheme (https; http for loopback or insecure
 * registries) and the auth challenge.
 */
int dc__reg_new(struct dc_ctx *ctx, const struct dc_reg_ref *ref, int push,
		struct dc_reg **out);
void dc__reg_free(struct dc_reg *g);
/* "HOST/REPO", for messages */
const char *dc__reg_label(const struct dc_reg *g);

/*
 * GET manifest REF (a tag or a digest) into RAW (capped at DC_MAX_JSON);
 * *MT its media type (caller's), DIGEST its sha256 (checked against REF
 * when REF is a digest).
 */
int dc__reg_get_manifest(struct dc_reg *g, struct dc_ctx *ctx,
			 const char *ref, struct dc_buf *raw, char **mt,
			 char digest[DC_DIGEST_MAX]);
/* A small blob (a config) into OUT, at most CAP bytes; not checked. */
int dc__reg_get_blob(struct dc_reg *g, struct dc_ctx *ctx,
		     const char *digest, size_t cap, struct dc_buf *out);
/* Blob DIGEST as a stream (unchecked: the blob layer checks), reporting
 * to CTX; bounded memory. */
int dc__reg_open_blob(struct dc_reg *g, struct dc_ctx *ctx,
		      const char *digest, struct dc_stream **out);
/*
 * Bytes [OFF, OFF+LEN) of blob DIGEST (SIZE bytes in all) as a stream
 * that gives exactly LEN bytes or fails naming the blob (unchecked
 * otherwise: the caller hashes the whole). The answer has begun when it
 * returns: DC_EUNSUPPORTED, with the reason as the message, when the
 * registry does not serve the range (an answer other than 206 with
 * exactly that Content-Range and length, or a redirect to another host,
 * where ranges are not known to work); from then on every call on G
 * fails so at once. Take the blob whole then (dc__reg_open_blob).
 */
int dc__reg_open_blob_range(struct dc_reg *g, struct dc_ctx *ctx,
			    const char *digest, uint64_t size, uint64_t off,
			    uint64_t len, struct dc_stream **out);
/* 1 if the repository has blob DIGEST, 0 if not. */
int dc__reg_blob_exists(struct dc_reg *g, const char *digest);
/* Mount blob DIGEST from repository FROM of the same registry: 1 done,
 * 0 refused (upload it). */
int dc__reg_blob_mount(struct dc_reg *g, const char *digest,
		       const char *from);
/* Upload blob DIGEST of SIZE bytes read from IN, reporting to CTX (a
 * worker's: uploads of different blobs may run at once). A small blob
 * (DC_REG_SMALL_BLOB) goes in one PUT, a larger one streamed in one
 * PATCH and closed by a PUT; nothing is spooled. */
int dc__reg_put_blob(struct dc_reg *g, struct dc_ctx *ctx,
		     struct dc_stream *in, const char *digest, int64_t size);
/* PUT manifest P (N bytes, media type MT) as REF (a tag or digest). */
int dc__reg_put_manifest(struct dc_reg *g, const char *ref, const char *mt,
			 const void *p, size_t n);

#endif
