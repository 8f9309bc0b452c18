/*
 * Fuzz target for the JSON documents and references, without the tar
 * layer in the way: the first byte picks what the rest of the input is,
 * and this harness wraps it in a valid archive whose digests and sizes
 * match, so the fuzzer reaches the parsers behind them.
 *
 *   0  index.json of an OCI layout holding one valid image
 *   1  an image manifest, referenced from a generated index.json
 *   2  an image config, referenced from a generated manifest
 *   3  manifest.json of a docker-save archive with a config and a layer
 *   4  an image index (nested), referenced from index.json
 *   5  an image reference string (parse, familiar, normalized)
 *   6  any JSON document (parse and dump)
 */
#include "util/util.h"
#include "blob/blob.h"
#include "model/model.h"
#include "moby/moby.h"
#include "readers/readers.h"
#include "transform/transform.h"
#include "writers/writers.h"
#include "convert/convert.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int tb_str(struct tb *t, const char *name, const char *s)
{
	return tb_file(t, name, s, strlen(s));
}

static int tb_blob(struct tb *t, const void *p, size_t n, char *digest)
{
	char name[100];

	dc__sha256_digest(p, n, digest);
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	return tb_file(t, name, p, n);
}

/* A fixed layer: a tar holding one small file (its own diff_id). */
static const char *layer_tar(size_t *n)
{
	static unsigned char tar[2048];
	static int done;

	if (!done) {
		struct tb t = { 0 };

		if (tb_str(&t, "hello.txt", "hello\n") == 0 && t.len <= 1024) {
			memcpy(tar, t.p, t.len);
			/* two zero blocks end it */
		}
		free(t.p);
		done = 1;
	}
	*n = sizeof(tar);
	return (const char *)tar;
}

static void run_archive(const struct tb *t)
{
	struct dc_ctx *ctx = NULL;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;

	if (dc_ctx_new(&ctx) < 0)
		return;
	if (dc_reader_open_memory(ctx, &r, t->p, t->len) == 0 &&
	    dc_reader_load(r, &set) == 0)
		dc_reader_verify(r, set);
	dc_set_free(set);
	dc_reader_free(r);
	dc_ctx_free(ctx);
}

#define OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"

/* Fuzz one OCI document: MODE says which; the rest is generated. */
static void oci(int mode, const uint8_t *p, size_t n)
{
	struct tb t = { 0 };
	char layer_d[DC_DIGEST_MAX], cfg_d[DC_DIGEST_MAX], man_d[DC_DIGEST_MAX];
	char diff[DC_DIGEST_MAX], cfg[512], man[1024], idx[1024];
	size_t ln;
	const char *layer = layer_tar(&ln);
	const void *cfg_p = cfg, *man_p = man;
	size_t cfg_n, man_n;
	int ok = 1;

	dc__sha256_digest(layer, ln, diff);
	cfg_n = (size_t)snprintf(cfg, sizeof(cfg),
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
		"{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", diff);
	if (mode == 2) {
		cfg_p = p;
		cfg_n = n;
	}
	ok &= tb_str(&t, "oci-layout", OCI_LAYOUT) == 0;
	ok &= tb_blob(&t, layer, ln, layer_d) == 0;
	ok &= tb_blob(&t, cfg_p, cfg_n, cfg_d) == 0;
	man_n = (size_t)snprintf(man, sizeof(man),
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		"\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
		"\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\","
		"\"size\":%zu}]}", cfg_d, cfg_n, layer_d, ln);
	if (mode == 1) {
		man_p = p;
		man_n = n;
	}
	ok &= tb_blob(&t, man_p, man_n, man_d) == 0;
	if (mode == 0) {
		ok &= tb_file(&t, "index.json", p, n) == 0;
	} else if (mode == 4) {
		char nested_d[DC_DIGEST_MAX];

		ok &= tb_blob(&t, p, n, nested_d) == 0;
		snprintf(idx, sizeof(idx),
			 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\""
			 MT_INDEX "\",\"digest\":\"%s\",\"size\":%zu}]}",
			 nested_d, n);
		ok &= tb_str(&t, "index.json", idx) == 0;
	} else {
		snprintf(idx, sizeof(idx),
			 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\""
			 MT_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
			 "\"annotations\":{\"org.opencontainers.image.ref.name\":"
			 "\"fuzz:1\"}}]}", man_d, man_n);
		ok &= tb_str(&t, "index.json", idx) == 0;
	}
	if (ok)
		run_archive(&t);
	free(t.p);
}

static void docker(const uint8_t *p, size_t n)
{
	struct tb t = { 0 };
	char diff[DC_DIGEST_MAX], cfg[512];
	size_t ln;
	const char *layer = layer_tar(&ln);
	int ok = 1;

	dc__sha256_digest(layer, ln, diff);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
		 "{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", diff);
	ok &= tb_str(&t, "config.json", cfg) == 0;
	ok &= tb_file(&t, "layer/layer.tar", layer, ln) == 0;
	ok &= tb_file(&t, "manifest.json", p, n) == 0;
	if (ok)
		run_archive(&t);
	free(t.p);
}

static void reference(const uint8_t *p, size_t n)
{
	struct dc_ctx *ctx = NULL;
	struct dc_ref ref;
	char *s = malloc(n + 1), *a = NULL, *b = NULL;

	if (!s || dc_ctx_new(&ctx) < 0) {
		free(s);
		return;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	if (dc__ref_parse(ctx, &ref, s) == 0) {
		if (dc__ref_familiar(ctx, &ref, &a) == 0 &&
		    dc__ref_normalized(ctx, &ref, &b) == 0) {
			struct dc_ref again;
			char *c = NULL;

			/*
			 * What we print parses again, to the same thing.
			 * Build with -DFUZZ_NO_REF_ROUNDTRIP to fuzz past a
			 * known failure of this check.
			 */
#ifndef FUZZ_NO_REF_ROUNDTRIP
			if (dc__ref_parse(ctx, &again, a) != 0)
				__builtin_trap();
			if (dc__ref_normalized(ctx, &again, &c) == 0 &&
			    strcmp(b, c) != 0)
				__builtin_trap();
			free(c);
			dc__ref_release(&again);
#else
			(void)again;
			(void)c;
#endif
		}
		dc__ref_release(&ref);
	}
	free(a);
	free(b);
	free(s);
	dc_ctx_free(ctx);
}

static void json(const uint8_t *p, size_t n)
{
	struct dc_ctx *ctx = NULL;
	struct dc_buf b = { (char *)p, n, 0 }, out = DC_BUF_INIT;
	json_t *j = NULL;

	if (dc_ctx_new(&ctx) < 0)
		return;
	if (dc__json_parse(ctx, &j, &b, "fuzz.json") == 0) {
		dc__json_dump(ctx, &out, j);
		json_decref(j);
	}
	dc__buf_release(&out);
	dc_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 7) {
	case 0: case 1: case 2: case 4:
		oci(data[0] % 7, data + 1, size - 1);
		break;
	case 3:
		docker(data + 1, size - 1);
		break;
	case 5:
		reference(data + 1, size - 1);
		break;
	default:
		json(data + 1, size - 1);
		break;
	}
	return 0;
}
