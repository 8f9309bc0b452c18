/*
 * Image references, after distribution/reference: normalizing to
 * "docker.io/library/busybox:latest" and back to "busybox:latest".
 */
#include "internal.h"

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

static int path_ok(const char *s, size_t n)
{
	/* components of [a-z0-9] separated by one of ".", "_", "__", "-+" */
	size_t i;
	int prev_sep = 1;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			prev_sep = 0;
		} else if (c == '/' || c == '.' || c == '_' || c == '-') {
			if (prev_sep && !(c == '_' && i && s[i - 1] == '_') &&
			    !(c == '-' && i && s[i - 1] == '-'))
				return 0;
			prev_sep = 1;
		} else {
			return 0;
		}
	}
	return !prev_sep;
}

static int has_upper(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	return 0;
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

int dc__ref_parse(struct dc_ctx *ctx, struct dc_ref *ref, const char *s)
{
	const char *at, *slash, *name_end, *colon;
	const char *rest = s;
	int err = DC_ENOMEM;

	memset(ref, 0, sizeof(*ref));
	if (!*s || strlen(s) > 255)
		goto bad;
	at = strchr(s, '@');
	name_end = at ? at : s + strlen(s);
	if (at) {
		if (!dc__digest_valid(at + 1))
			goto bad;
		if (!(ref->digest = dc__strdup(ctx, at + 1)))
			goto fail;
	}
	/* a domain is the first component if it has '.', ':' or is localhost */
	slash = memchr(s, '/', (size_t)(name_end - s));
	if (slash) {
		size_t dl = (size_t)(slash - s);

		if (memchr(s, '.', dl) || memchr(s, ':', dl) ||
		    (dl == 9 && !memcmp(s, "localhost", 9)) ||
		    has_upper(s, dl)) {
			if (!(ref->domain = dup_n(ctx, s, dl)))
				goto fail;
			rest = slash + 1;
		}
	}
	/* a tag follows the last ':' after the last '/' */
	colon = NULL;
	{
		const char *p, *last_slash = rest;

		for (p = rest; p < name_end; p++)
			if (*p == '/')
				last_slash = p;
		for (p = last_slash; p < name_end; p++)
			if (*p == ':')
				colon = p;
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
	if (!ref->domain) {
		if (!(ref->domain = dc__strdup(ctx, "docker.io")))
			goto fail;
	}
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
	return 0;
bad:
	err = dc_error(ctx, DC_EINVAL, "'%s': invalid image reference", s);
fail:
	dc__ref_release(ref);
	return err;
}

static int build(struct dc_ctx *ctx, const struct dc_ref *ref, char **out,
		 int familiar)
{
	struct dc_buf b = DC_BUF_INIT;
	const char *path = ref->path;
	int err = 0;

	*out = NULL;
	if (familiar && !strcmp(ref->domain, "docker.io")) {
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
