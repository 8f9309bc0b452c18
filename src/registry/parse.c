/*
 * What a registry client parses: references, auth challenges, token
 * answers, auth files and error bodies. Pure functions over capped
 * buffers, unit-tested and fuzzed.
 */
#include "registry/registry.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

void dc__reg_ref_release(struct dc_reg_ref *ref)
{
	free(ref->host);
	free(ref->name);
	free(ref->repo);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

int dc__reg_ref_parse(struct dc_ctx *ctx, struct dc_reg_ref *ref,
		      const char *s)
{
	struct dc_ref r;
	int err;

	memset(ref, 0, sizeof(*ref));
	if (!strncmp(s, "docker://", 9))
		s += 9;
	if ((err = dc__ref_parse(ctx, &r, s)) < 0)
		return err;
	err = DC_ENOMEM;
	if (!(ref->name = dc__strdup(ctx, r.domain)) ||
	    !(ref->host = dc__strdup(ctx, strcmp(r.domain, "docker.io") ?
				      r.domain : "registry-1.docker.io")) ||
	    !(ref->repo = dc__strdup(ctx, r.path)) ||
	    (r.tag && !(ref->tag = dc__strdup(ctx, r.tag))) ||
	    (r.digest && !(ref->digest = dc__strdup(ctx, r.digest))))
		goto out;
	err = 0;
out:
	if (err < 0)
		dc__reg_ref_release(ref);
	dc__ref_release(&r);
	return err;
}

int dc__reg_host_loopback(const char *host)
{
	char h[256];
	size_t n;
	const char *p;
	int dots = 0;

	if (host[0] == '[') {
		p = strchr(host, ']');
		return p && (size_t)(p - host - 1) == 3 && !strncmp(host + 1, "::1", 3);
	}
	if (!strcmp(host, "::1"))
		return 1;
	n = strcspn(host, ":");
	if (n >= sizeof(h))
		return 0;
	memcpy(h, host, n);
	h[n] = '\0';
	if (!strcmp(h, "localhost"))
		return 1;
	if (strncmp(h, "127.", 4))
		return 0;
	for (p = h; *p; p++) {
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			return 0;
	}
	return dots == 3;
}

/* ------------------------------------------------------------------ */
/* WWW-Authenticate */

void dc__reg_chal_release(struct dc_reg_chal *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

static int is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~/:", c));
}

/* One "key=value" pair at *P; value quoted (with \ escapes) or a token. */
static int chal_param(struct dc_ctx *ctx, const char **pp, char *key,
		      size_t keycap, char **val)
{
	const char *p = *pp, *k = p;
	struct dc_buf b = DC_BUF_INIT;
	size_t kl;
	int err;

	*val = NULL;
	while (is_tchar(*p) && *p != '/' && *p != ':')
		p++;
	kl = (size_t)(p - k);
	if (!kl || kl >= keycap)
		return 1;
	memcpy(key, k, kl);
	key[kl] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return 1;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if ((err = dc__buf_add(ctx, &b, "", 0)) < 0)
		return err;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if ((err = dc__buf_add(ctx, &b, p, 1)) < 0)
				goto fail;
		}
		if (*p != '"') {
			dc__buf_release(&b);
			return 1;
		}
		p++;
	} else {
		const char *v = p;

		while (is_tchar(*p) || *p == '=')
			p++;
		if ((err = dc__buf_add(ctx, &b, v, (size_t)(p - v))) < 0)
			goto fail;
	}
	if ((err = dc__buf_add(ctx, &b, "", 1)) < 0)
		goto fail;
	*val = dc__buf_detach(&b, NULL);
	*pp = p;
	return 0;
fail:
	dc__buf_release(&b);
	return err;
}

int dc__reg_chal_parse(struct dc_ctx *ctx, struct dc_reg_chal *c,
		       const char *h)
{
	const char *p = h, *s;
	size_t n, i;
	int err;

	memset(c, 0, sizeof(*c));
	while (*p == ' ' || *p == '\t')
		p++;
	s = p;
	while (is_tchar(*p))
		p++;
	n = (size_t)(p - s);
	if (!n || n >= sizeof(c->scheme))
		return dc_error(ctx, DC_EFORMAT,
				"WWW-Authenticate: no auth scheme");
	for (i = 0; i < n; i++)
		c->scheme[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	c->scheme[n] = '\0';
	for (;;) {
		char key[32], *val;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if ((err = chal_param(ctx, &p, key, sizeof(key), &val)) < 0)
			goto fail;
		if (err > 0)
			break;	/* another challenge, or junk: stop here */
		for (i = 0; key[i]; i++)
			if (key[i] >= 'A' && key[i] <= 'Z')
				key[i] = (char)(key[i] + 32);
		if (!strcmp(key, "realm") && !c->realm)
			c->realm = val;
		else if (!strcmp(key, "service") && !c->service)
			c->service = val;
		else if (!strcmp(key, "scope") && !c->scope)
			c->scope = val;
		else if (!strcmp(key, "error") && !c->error)
			c->error = val;
		else
			free(val);
	}
	return 0;
fail:
	dc__reg_chal_release(c);
	return err;
}

/* ------------------------------------------------------------------ */
/* JSON answers */

int dc__reg_token_parse(struct dc_ctx *ctx, const struct dc_buf *b,
			char **out)
{
	json_t *j = NULL, *t;
	int err;

	*out = NULL;
	if ((err = dc__json_parse(ctx, &j, b, "token answer")) < 0)
		return err;
	t = json_object_get(j, "token");
	if (!json_is_string(t) || !json_string_length(t))
		t = json_object_get(j, "access_token");
	if (!json_is_string(t) || !json_string_length(t))
		err = dc_error(ctx, DC_EFORMAT, "token answer: no token");
	else if (!(*out = dc__strdup(ctx, json_string_value(t))))
		err = DC_ENOMEM;
	json_decref(j);
	return err;
}

void dc__reg_err_body(const struct dc_buf *b, char *out, size_t n)
{
	json_error_t je;
	json_t *j, *e;
	const char *code, *msg;

	out[0] = '\0';
	if (!b->len || b->len > DC_REG_MAX_ERRBODY)
		return;
	j = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &je);
	e = json_array_get(json_object_get(j, "errors"), 0);
	code = json_string_value(json_object_get(e, "code"));
	msg = json_string_value(json_object_get(e, "message"));
	if (code || msg)
		snprintf(out, n, "%s%s%s", code ? code : "",
			 code && msg ? ": " : "", msg ? msg : "");
	json_decref(j);
	(void)dc__json_oom_take();
}

/* ------------------------------------------------------------------ */
/* auth.json and ~/.docker/config.json */

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64 S into a NUL-terminated *out; 1 if S is not base64. */
static int b64dec(struct dc_ctx *ctx, const char *s, char **out)
{
	size_t n = strlen(s), i, o = 0;
	unsigned acc = 0;
	int bits = 0;
	char *p;

	*out = NULL;
	while (n && s[n - 1] == '=')
		n--;
	if (!(p = dc__malloc(ctx, n * 3 / 4 + 2)))
		return DC_ENOMEM;
	for (i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);

		if (v < 0) {
			free(p);
			return 1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	p[o] = '\0';
	if (memchr(p, '\0', o)) {
		free(p);
		return 1;
	}
	*out = p;
	return 0;
}

/* The "auths" key for registry NAME: exact, or as a URL. */
static json_t *auth_entry(json_t *auths, const char *name)
{
	const char *key;
	json_t *v;

	if ((v = json_object_get(auths, name)))
		return v;
	json_object_foreach(auths, key, v) {
		const char *k = key;
		size_t n = strlen(name);

		if (!strncmp(k, "https://", 8))
			k += 8;
		else if (!strncmp(k, "http://", 7))
			k += 7;
		if (!strcmp(name, "docker.io") &&
		    (!strncmp(k, "index.docker.io", 15) ||
		     !strncmp(k, "registry-1.docker.io", 20)) &&
		    (!k[k[0] == 'i' ? 15 : 20] || k[k[0] == 'i' ? 15 : 20] == '/'))
			return v;
		if (!strncmp(k, name, n) && (!k[n] || k[n] == '/'))
			return v;
	}
	return NULL;
}

int dc__reg_auth_parse(struct dc_ctx *ctx, const struct dc_buf *b,
		       const char *label, const char *name, char **user,
		       char **pass)
{
	json_t *j = NULL, *e, *a, *helpers, *h;
	char *dec = NULL, *colon;
	int err;

	*user = *pass = NULL;
	if ((err = dc__json_parse(ctx, &j, b, label)) < 0)
		return err;
	if (!json_is_object(j)) {
		err = dc_error(ctx, DC_EFORMAT, "'%s': not a JSON object", label);
		goto out;
	}
	e = auth_entry(json_object_get(j, "auths"), name);
	a = json_object_get(e, "auth");
	helpers = json_object_get(j, "credHelpers");
	h = json_object_get(helpers, name);
	if (!json_is_string(h) && !json_is_string(a))
		h = json_object_get(j, "credsStore");
	if (json_is_string(h) && json_string_length(h)) {
		const char *v = json_string_value(h);
		size_t i, n = json_string_length(h);

		for (i = 0; i < n && n <= 64; i++)
			if (!((v[i] >= 'a' && v[i] <= 'z') ||
			      (v[i] >= 'A' && v[i] <= 'Z') ||
			      (v[i] >= '0' && v[i] <= '9') ||
			      v[i] == '.' || v[i] == '_' || v[i] == '-'))
				break;
		if (i != n || n > 64) {
			err = dc_error(ctx, DC_EFORMAT,
				       "'%s': the credential helper for %s is not a plain name",
				       label, name);
			goto out;
		}
		if (!(*user = dc__strdup(ctx, v))) {
			err = DC_ENOMEM;
			goto out;
		}
		err = 2;
		goto out;
	}
	if (!json_is_string(a) || !json_string_length(a))
		goto out;	/* err 0: none */
	if ((err = b64dec(ctx, json_string_value(a), &dec)) < 0)
		goto out;
	if (err > 0 || !(colon = strchr(dec, ':'))) {
		err = dc_error(ctx, DC_EFORMAT,
			       "'%s': the auth of %s is not base64 of USER:PASS",
			       label, name);
		goto out;
	}
	*colon = '\0';
	if (!(*user = dc__strdup(ctx, dec)) ||
	    !(*pass = dc__strdup(ctx, colon + 1))) {
		free(*user);
		*user = NULL;
		err = DC_ENOMEM;
		goto out;
	}
	err = 1;
out:
	if (dec) {
		explicit_bzero(dec, strlen(dec));
		free(dec);
	}
	json_decref(j);
	return err;
}

int dc__reg_helper_parse(struct dc_ctx *ctx, const struct dc_buf *b,
			 const char *label, char **user, char **pass)
{
	json_t *j = NULL, *u, *s;
	int err;

	*user = *pass = NULL;
	if ((err = dc__json_parse(ctx, &j, b, label)) < 0)
		return err;
	u = json_object_get(j, "Username");
	s = json_object_get(j, "Secret");
	if (!json_is_object(j) || !json_is_string(u) || !json_is_string(s) ||
	    !json_string_length(u) || !json_string_length(s) ||
	    strlen(json_string_value(u)) != json_string_length(u) ||
	    strlen(json_string_value(s)) != json_string_length(s)) {
		err = dc_error(ctx, DC_EFORMAT,
			       "%s: its answer has no Username and Secret",
			       label);
	} else if (!strcmp(json_string_value(u), "<token>")) {
		err = dc_error(ctx, DC_EUNSUPPORTED,
			       "%s: an identity token (Username <token>) is not supported yet: use --creds USER:PASS",
			       label);
	} else if (!(*user = dc__strdup(ctx, json_string_value(u))) ||
		   !(*pass = dc__strdup(ctx, json_string_value(s)))) {
		free(*user);
		*user = NULL;
		err = DC_ENOMEM;
	} else {
		err = 1;
	}
	json_decref(j);
	return err;
}

/* A decimal number of at most 18 digits at *P, moving *P past it. */
static int crange_num(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	size_t n = 0;

	while (*s >= '0' && *s <= '9' && n < 18) {
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
		n++;
	}
	if (!n || (*s >= '0' && *s <= '9'))
		return -1;
	*p = s;
	*out = v;
	return 0;
}

int dc__reg_crange_parse(const char *s, uint64_t *start, uint64_t *end,
			 uint64_t *total)
{
	if (strncmp(s, "bytes ", 6))
		return -1;
	s += 6;
	while (*s == ' ')
		s++;
	if (crange_num(&s, start) < 0 || *s++ != '-' ||
	    crange_num(&s, end) < 0 || *s++ != '/' ||
	    crange_num(&s, total) < 0 || *s)
		return -1;
	if (*start > *end || *end >= *total)
		return -1;
	return 0;
}
