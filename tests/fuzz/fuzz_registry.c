/*
 * Fuzz target for what a registry (or the user's auth files) sends the
 * registry client: the first byte picks the parser, the rest is its
 * input.
 *
 *   0  a WWW-Authenticate header
 *   1  a token endpoint's JSON answer
 *   2  an auth.json / config.json document (for hosts "h" and docker.io),
 *      and a credential helper's answer
 *   3  a distribution error body
 *   4  a docker:// reference
 *   5  a host name (the loopback rule)
 *   6  a Content-Range header value
 */
#include "util/util.h"
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_ctx *ctx;
	struct dc_buf b;
	char *s, msg[256];

	if (size < 1 || size > (1u << 20) || dc_ctx_new(&ctx) < 0)
		return 0;
	if (!(s = malloc(size))) {
		dc_ctx_free(ctx);
		return 0;
	}
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	b.data = s;
	b.len = size - 1;
	b.cap = size;
	switch (data[0] % 7) {
	case 0: {
		struct dc_reg_chal c;

		if (dc__reg_chal_parse(ctx, &c, s) == 0)
			dc__reg_chal_release(&c);
		break;
	}
	case 1: {
		char *t = NULL;

		if (dc__reg_token_parse(ctx, &b, &t) == 0)
			free(t);
		break;
	}
	case 2: {
		char *u = NULL, *p = NULL;

		if (dc__reg_auth_parse(ctx, &b, "auth.json", "h", &u, &p) > 0) {
			free(u);
			free(p);
		}
		if (dc__reg_auth_parse(ctx, &b, "auth.json", "docker.io", &u, &p) > 0) {
			free(u);
			free(p);
		}
		if (dc__reg_helper_parse(ctx, &b, "helper", &u, &p) == 1) {
			free(u);
			free(p);
		}
		break;
	}
	case 3:
		dc__reg_err_body(&b, msg, sizeof(msg));
		break;
	case 4: {
		struct dc_reg_ref r;

		if (dc__reg_ref_parse(ctx, &r, s) == 0)
			dc__reg_ref_release(&r);
		break;
	}
	case 5:
		(void)dc__reg_host_loopback(s);
		break;
	case 6: {
		uint64_t st, e, t;

		if (dc__reg_crange_parse(s, &st, &e, &t) == 0 &&
		    (st > e || e >= t))
			abort();
		break;
	}
	}
	free(s);
	dc_ctx_free(ctx);
	return 0;
}
