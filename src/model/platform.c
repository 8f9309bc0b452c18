/*
 * Platforms: one parser, one normalizer and one host table for every
 * source and target, after containerd's platforms package (Parse,
 * Normalize, DefaultSpec, Only).
 */
#include "model/model.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "banned.h"

static const struct {
	const char *from, *to, *variant;
} arch_alias[] = {
	{ "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL },
	{ "aarch64", "arm64", NULL }, { "i386", "386", NULL },
	{ "i486", "386", NULL }, { "i586", "386", NULL },
	{ "i686", "386", NULL }, { "armhf", "arm", "v7" },
	{ "armel", "arm", "v6" },
};

/* what a bare "--platform ARCH" may name (after the aliases) */
static const char *const known_arch[] = {
	"386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle",
	"mips64", "mips64le", "ppc64", "ppc64le", "riscv64", "s390x",
};

/* uname's machine (a prefix of it) in GOARCH terms */
static const struct {
	const char *prefix, *arch, *variant;
} host_machine[] = {
	{ "x86_64", "amd64", NULL }, { "aarch64", "arm64", NULL },
	{ "arm64", "arm64", NULL }, { "armv8l", "arm", "v7" },
	{ "armv7", "arm", "v7" }, { "armv6", "arm", "v6" },
	{ "armv5", "arm", "v5" }, { "i686", "386", NULL },
	{ "i586", "386", NULL }, { "i486", "386", NULL },
	{ "i386", "386", NULL }, { "ppc64le", "ppc64le", NULL },
	{ "ppc64", "ppc64", NULL }, { "s390x", "s390x", NULL },
	{ "riscv64", "riscv64", NULL }, { "mips64el", "mips64le", NULL },
	{ "mips64", "mips64", NULL }, { "loongarch64", "loong64", NULL },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int part_ok(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* S[0..N) in lower case into DST of 32 bytes; -1 if it does not fit */
static int part_copy(char dst[32], const char *s, size_t n)
{
	size_t i;

	if (n >= 32)
		return -1;
	for (i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[n] = '\0';
	return 0;
}

/*
 * The aliases and "7" for "v7"; with DEFAULTS also what an alias or a
 * bare arm implies for an unset variant (a request; an image's unset
 * variant stays unknown).
 */
static void normalize(struct dc_platform *p, int defaults)
{
	size_t i, n;

	for (i = 0; i < NELEM(arch_alias); i++) {
		if (strcmp(p->arch, arch_alias[i].from))
			continue;
		snprintf(p->arch, sizeof(p->arch), "%s", arch_alias[i].to);
		if (defaults && arch_alias[i].variant && !p->variant[0])
			snprintf(p->variant, sizeof(p->variant), "%s",
				 arch_alias[i].variant);
		break;
	}
	n = strlen(p->variant);
	if (n && n + 1 < sizeof(p->variant) &&
	    isdigit((unsigned char)p->variant[0])) {
		memmove(p->variant + 1, p->variant, n + 1);
		p->variant[0] = 'v';
	}
	if (defaults && !strcmp(p->arch, "arm") && !p->variant[0])
		memcpy(p->variant, "v7", 3);
}

static int known(const char *arch)
{
	size_t i;

	for (i = 0; i < NELEM(known_arch); i++)
		if (!strcmp(arch, known_arch[i]))
			return 1;
	return 0;
}

int dc__platform_parse(struct dc_ctx *ctx, struct dc_platform *p,
		       const char *s)
{
	const char *a = strchr(s, '/'), *v = a ? strchr(a + 1, '/') : NULL;
	size_t na = a ? (size_t)((v ? v : a + strlen(a)) - a - 1) : 0;

	memset(p, 0, sizeof(*p));
	if (!a) {
		/* a bare architecture, as containerd's Parse takes it */
		if (part_ok(s, strlen(s)) &&
		    part_copy(p->arch, s, strlen(s)) == 0) {
			normalize(p, 1);
			if (known(p->arch)) {
				memcpy(p->os, "linux", 6);
				return 0;
			}
		}
		goto bad;
	}
	if (!part_ok(s, (size_t)(a - s)) || !part_ok(a + 1, na) ||
	    (v && !part_ok(v + 1, strlen(v + 1))) ||
	    part_copy(p->os, s, (size_t)(a - s)) < 0 ||
	    part_copy(p->arch, a + 1, na) < 0 ||
	    (v && part_copy(p->variant, v + 1, strlen(v + 1)) < 0))
		goto bad;
	normalize(p, 1);
	return 0;
bad:
	memset(p, 0, sizeof(*p));
	return dc_error(ctx, DC_EINVAL,
			"--platform '%s': expected OS/ARCH[/VARIANT]", s);
}

void dc__platform_host(struct dc_platform *p)
{
	struct utsname u;
	const char *a = "unknown", *v = NULL;
	size_t i, n;

	memset(p, 0, sizeof(*p));
	memcpy(p->os, "linux", 6);
	if (uname(&u) == 0) {
		if (u.machine[0])
			a = u.machine;
		for (i = 0; i < NELEM(host_machine); i++)
			if (!strncmp(u.machine, host_machine[i].prefix,
				     strlen(host_machine[i].prefix))) {
				a = host_machine[i].arch;
				v = host_machine[i].variant;
				break;
			}
	}
	n = strlen(a) < sizeof(p->arch) ? strlen(a) : sizeof(p->arch) - 1;
	memcpy(p->arch, a, n);
	if (v)
		snprintf(p->variant, sizeof(p->variant), "%s", v);
}

/* arm64/v8 is arm64: the variant every arm64 has */
static const char *variant_of(const struct dc_platform *p)
{
	if (!strcmp(p->arch, "arm64") && !strcmp(p->variant, "v8"))
		return "";
	return p->variant;
}

int dc__platform_match(const struct dc_platform *want, const char *os,
		       const char *arch, const char *variant)
{
	struct dc_platform img;
	const char *wv, *iv;

	memset(&img, 0, sizeof(img));
	if (!os || !arch || part_copy(img.os, os, strlen(os)) < 0 ||
	    part_copy(img.arch, arch, strlen(arch)) < 0 ||
	    (variant && part_copy(img.variant, variant, strlen(variant)) < 0))
		return 0;
	normalize(&img, 0);
	if (strcmp(img.os, want->os) || strcmp(img.arch, want->arch))
		return 0;
	wv = variant_of(want);
	iv = variant_of(&img);
	if (!*wv || !*iv)
		return 1 + (!*wv && !*iv);
	if (!strcmp(wv, iv))
		return 2;
	/* arm/v7 runs arm/v6 and arm/v5 images (containerd's Only) */
	if (!strcmp(want->arch, "arm") && wv[0] == 'v' && iv[0] == 'v' &&
	    isdigit((unsigned char)wv[1]) && isdigit((unsigned char)iv[1]) &&
	    !wv[2] && !iv[2] && iv[1] < wv[1])
		return 1;
	return 0;
}

void dc__platform_str(const struct dc_platform *p, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "",
		 p->variant);
}
