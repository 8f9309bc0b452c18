/*
 * Image references, after distribution/reference: normalizing to
 * "docker.io/library/busybox:latest" and back to "busybox:latest".
 */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

void dc__ref_release(struct dc_ref *ref)
{
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

static char *dup_n(struct dc_ctx *ctx, const char *s, size_t n)
{
	char *p = dc__calloc(ctx, 1, n + 1);

	if (p)
		memcpy(p, s, n);
	return p;
}

static int lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/*
 * One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
 * (distribution/reference regexp.go).
 */
static int component_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (!n || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return 0;
	while (i < n) {
		if (lower_alnum(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i >= n || !lower_alnum(s[i]))
			return 0;
	}
	return 1;
}

static int path_ok(const char *s, size_t n)
{
	const char *end = s + n;

	if (!n)
		return 0;
	while (s < end) {
		const char *slash = memchr(s, '/', (size_t)(end - s));
		const char *ce = slash ? slash : end;

		if (!component_ok(s, (size_t)(ce - s)))
			return 0;
		if (!slash)
			break;
		s = slash + 1;
		if (s == end)
			return 0;	/* trailing '/' */
	}
	return 1;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* "[IPV6]" and an optional ":PORT": distribution/reference's
 * ipv6address, \[(?:[a-fA-F0-9:]+)\] (e.g. [::1]:5000) */
static int ipv6_domain_ok(const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	size_t i, hl;

	if (!close || close == s + 1)
		return 0;
	hl = (size_t)(close - s) + 1;
	for (i = 1; i < hl - 1; i++)
		if (!is_hex(s[i]) && s[i] != ':')
			return 0;
	if (!memchr(s + 1, ':', hl - 2))
		return 0;	/* "[abc]" is no address */
	if (hl == n)
		return 1;
	if (s[hl] != ':' || hl + 1 == n)
		return 0;
	for (i = hl + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* host name components (or an IPv6 address in brackets) and an
 * optional numeric port */
static int domain_ok(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t hl = colon ? (size_t)(colon - s) : n, i, start = 0;

	if (n && s[0] == '[')
		return ipv6_domain_ok(s, n);

	if (colon) {
		if (colon + 1 == s + n)
			return 0;
		for (i = hl + 1; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return 0;
	}
	if (!hl)
		return 0;
	for (i = 0; i <= hl; i++) {
		if (i < hl && s[i] != '.')
			continue;
		/* [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
		if (i == start || !alnum(s[start]) || !alnum(s[i - 1]))
			return 0;
		for (size_t k = start; k < i; k++)
			if (!alnum(s[k]) && s[k] != '-')
				return 0;
		start = i + 1;
	}
	return 1;
}

static int has_upper(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	return 0;
}

/* Is the first component, S[0..N), a domain? (distribution/reference) */
static int is_domain(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) ||
	       (n == 9 && !memcmp(s, "localhost", 9)) || has_upper(s, n);
}

static int tag_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > 128)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' ||
		      (i && (c == '.' || c == '-'))))
			return 0;
	}
	return 1;
}

#define NAME_MAX_LEN 255	/* distribution/reference NameTotalLengthMax */

int dc__ref_parse(struct dc_ctx *ctx, struct dc_ref *ref, const char *s)
{
	const char *at, *slash, *name_end, *colon, *rest = s, *p;
	size_t dl = 0;
	int err = DC_ENOMEM;

	memset(ref, 0, sizeof(*ref));
	if (!*s || strlen(s) > 1024)
		goto bad;
	at = strchr(s, '@');
	name_end = at ? at : s + strlen(s);
	if (at) {
		if (!dc__digest_valid(at + 1))
			goto bad;
		if (!(ref->digest = dc__strdup(ctx, at + 1)))
			goto fail;
	}
	/* the first component is a domain if it has '.' or ':', is
	 * "localhost", or has upper case (splitDockerDomain) */
	slash = memchr(s, '/', (size_t)(name_end - s));
	if (slash) {
		dl = (size_t)(slash - s);
		if (is_domain(s, dl)) {
			if (!domain_ok(s, dl))
				goto bad;
			if (!(ref->domain = dup_n(ctx, s, dl)))
				goto fail;
			rest = slash + 1;
		} else {
			dl = 0;
		}
	}
	/* a tag follows the last ':' after the last '/' */
	colon = NULL;
	{
		const char *last_slash = rest;

		for (p = rest; p < name_end; p++)
			if (*p == '/')
				last_slash = p;
		for (p = last_slash; p < name_end; p++)
			if (*p == ':') {
				if (colon)
					goto bad;	/* a:b:c */
				colon = p;
			}
	}
	if (colon) {
		if (!(ref->tag = dup_n(ctx, colon + 1, (size_t)(name_end - colon - 1))))
			goto fail;
		if (!tag_ok(ref->tag))
			goto bad;
		name_end = colon;
	}
	if (!path_ok(rest, (size_t)(name_end - rest)))
		goto bad;
	if (!ref->domain && !(ref->domain = dc__strdup(ctx, "docker.io")))
		goto fail;
	if (!strcmp(ref->domain, "index.docker.io")) {
		free(ref->domain);
		if (!(ref->domain = dc__strdup(ctx, "docker.io")))
			goto fail;
	}
	if (!strcmp(ref->domain, "docker.io") &&
	    !memchr(rest, '/', (size_t)(name_end - rest))) {
		struct dc_buf b = DC_BUF_INIT;

		if (dc__buf_addstr(ctx, &b, "library/") < 0 ||
		    dc__buf_add(ctx, &b, rest, (size_t)(name_end - rest)) < 0) {
			dc__buf_release(&b);
			goto fail;
		}
		ref->path = dc__buf_detach(&b, NULL);
	} else if (!(ref->path = dup_n(ctx, rest, (size_t)(name_end - rest)))) {
		goto fail;
	}
	/* the limit is on the normalized name, without tag or digest */
	if (strlen(ref->domain) + 1 + strlen(ref->path) > NAME_MAX_LEN)
		goto bad;
	return 0;
bad:
	err = dc_error(ctx, DC_EINVAL, "'%s': invalid image reference", s);
fail:
	dc__ref_release(ref);
	return err;
}

/*
 * The familiar form drops "docker.io/", except where the path's first
 * component would then read as a domain: docker.io/a.b/c printed as a.b/c
 * names another registry. (distribution's FamiliarString() drops it
 * there too; what decant prints must parse back to the same name.)
 */
static int build(struct dc_ctx *ctx, const struct dc_ref *ref, char **out,
		 int familiar)
{
	struct dc_buf b = DC_BUF_INIT;
	const char *path = ref->path;
	const char *slash = strchr(path, '/');
	int err = 0;

	*out = NULL;
	if (familiar && !strcmp(ref->domain, "docker.io") &&
	    !(slash && is_domain(path, (size_t)(slash - path)))) {
		if (!strncmp(path, "library/", 8) && !strchr(path + 8, '/'))
			path += 8;
	} else {
		err = dc__buf_addf(ctx, &b, "%s/", ref->domain);
	}
	if (!err)
		err = dc__buf_addf(ctx, &b, "%s:%s", path,
				   ref->tag ? ref->tag : "latest");
	if (err) {
		dc__buf_release(&b);
		return err;
	}
	*out = dc__buf_detach(&b, NULL);
	return 0;
}

int dc__ref_familiar(struct dc_ctx *ctx, const struct dc_ref *ref, char **out)
{
	return build(ctx, ref, out, 1);
}

int dc__ref_normalized(struct dc_ctx *ctx, const struct dc_ref *ref,
		       char **out)
{
	return build(ctx, ref, out, 0);
}
