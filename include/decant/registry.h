/*
 * decant: options for registry sources and destinations
 * ("docker://HOST[:PORT]/REPO[:TAG|@DIGEST]").
 */
#ifndef DECANT_REGISTRY_H
#define DECANT_REGISTRY_H

#include "error.h"

struct dc_registry_opts {
	/* "USER:PASSWORD", or NULL: the auth files ($REGISTRY_AUTH_FILE,
	 * $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json) */
	const char *creds;
	/* a directory of extra CA certificates (*.crt), or NULL */
	const char *cert_dir;
	/* 1: verify TLS (the default); 0: do not, and allow plain HTTP */
	int tls_verify;
	/* an auth file read instead of $REGISTRY_AUTH_FILE, or NULL */
	const char *auth_file;
};

/*
 * Set how CTX talks to registries (copied; O NULL: the defaults, TLS
 * verified). Plain HTTP is used only for a loopback registry (localhost,
 * 127.0.0.0/8, ::1) or with tls_verify 0, when it does not speak TLS.
 */
DC_API int dc_ctx_set_registry(struct dc_ctx *ctx,
			       const struct dc_registry_opts *o);

#endif
