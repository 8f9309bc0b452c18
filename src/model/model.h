/*
 * Private header of src/model/: the parts of the model that have a
 * module of their own. The image set itself is still in internal.h.
 */
#ifndef DC_MODEL_H
#define DC_MODEL_H

#ifndef DC_BUILDING
#error "model/model.h is private to decant"
#endif

#include "internal.h"

/* ------------------------------------------------------------------ */
/* Platforms (src/model/platform.c) */

/*
 * A platform in Go's GOOS/GOARCH terms, as images name them: "linux",
 * "amd64", "" or "v7". Normalized as containerd's platforms.Normalize
 * does for the common aliases: lower case, x86_64 is amd64, aarch64 is
 * arm64, i686 is 386, a variant "7" is "v7" and a bare arm is arm/v7.
 * An explicit variant such as arm64/v8 is kept as given; matching
 * treats arm64/v8 and arm64 as the same platform.
 */
struct dc_platform {
	char os[32], arch[32], variant[32];
};

/*
 * Parse and normalize S, "OS/ARCH[/VARIANT]" or a bare known
 * architecture ("amd64", "arm64", "x86_64": os "linux"). A bad string
 * is DC_EINVAL "--platform 'S': expected OS/ARCH[/VARIANT]".
 */
int dc__platform_parse(struct dc_ctx *ctx, struct dc_platform *p,
		       const char *s);
/* This host, in GOOS/GOARCH terms (containerd's platforms.DefaultSpec). */
void dc__platform_host(struct dc_platform *p);
/*
 * How well an image's platform (OS, ARCH, VARIANT as its config says,
 * each may be NULL) fits WANT: 2 exactly, 1 compatibly (a variant
 * unasked or unknown, or an older arm variant), 0 not.
 */
int dc__platform_match(const struct dc_platform *want, const char *os,
		       const char *arch, const char *variant);
/* "os/arch[/variant]" into BUF of N bytes (truncated to fit). */
void dc__platform_str(const struct dc_platform *p, char *buf, size_t n);

#endif
