/*
 * Dockerfile instructions applied to a container config, as
 * `docker import --change` and `docker commit --change` do
 * (moby: daemon/builder/dockerfile BuildFromConfig; the parser and the
 * variable expansion are buildkit's frontend/dockerfile parser and
 * shell lexer).
 *
 * The allowed instructions are moby's: CMD, ENTRYPOINT, ENV, EXPOSE,
 * HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and WORKDIR
 * (dockerd 20.10 still refused STOPSIGNAL). Where it matters, behaviour
 * was checked against dockerd 20.10 (tests/e2e/t0090-rootfs-input.sh):
 * an empty CMD is the bare shell, an empty ENTRYPOINT is none, a change
 * set with no instruction at all is an error.
 * ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR expand $VAR,
 * ${VAR}, ${VAR:-word}, ${VAR:+word} and ${VAR:?word} from the config's
 * Env as it was before the instruction, and take quotes and backslash
 * escapes as the shell lexer does. A change may hold several lines, as
 * moby joins the changes into one Dockerfile.
 *
 * The result is laid out as Go marshals moby's container.Config: the
 * fields in declaration order, Go's zero values ("Env":null, ...), the
 * omitempty fields only when set, map keys sorted.
 */
#include "model/model.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "moby/moby.h"

struct strv {
	char **v;
	size_t n;
};

struct chg {
	struct dc_ctx *ctx;
	json_t *cfg;		/* the working config (any key order) */
	const char *change;	/* the change as given, for messages */
	int cmd_set;		/* a CMD came before (ENTRYPOINT keeps it) */
	size_t ninstr;		/* instructions seen in all the changes */
};

static int bad(struct chg *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct chg *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dc_error(c->ctx, DC_EINVAL, "--change '%.200s': %s", c->change,
			msg);
}

static int strv_push(struct dc_ctx *ctx, struct strv *s, const char *p,
		     size_t n)
{
	char **v = dc__reallocarray(ctx, s->v, s->n + 1, sizeof(*v));
	char *d;

	if (!v)
		return DC_ENOMEM;
	s->v = v;
	if (!(d = dc__calloc(ctx, 1, n + 1)))
		return DC_ENOMEM;
	if (n)
		memcpy(d, p, n);
	s->v[s->n++] = d;
	return 0;
}

static void strv_clear(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int is_space(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\v' || ch == '\f';
}

static const char *skip_space(const char *p)
{
	while (is_space((unsigned char)*p))
		p++;
	return p;
}

/* Split on runs of whitespace, as strings.Fields does. */
static int split_fields(struct dc_ctx *ctx, struct strv *out, const char *p)
{
	int err;

	for (;;) {
		const char *e;

		p = skip_space(p);
		if (!*p)
			return 0;
		for (e = p; *e && !is_space((unsigned char)*e); e++)
			;
		if ((err = strv_push(ctx, out, p, (size_t)(e - p))) < 0)
			return err;
		p = e;
	}
}

/* ------------------------------------------------------------------ */
/* The shell lexer's word processing (buildkit shell/lex.go) */

struct lex {
	struct chg *c;
	const char *p;
	const json_t *env;	/* the Env before the instruction */
};

static int lex_until(struct lex *l, int stop, struct dc_buf *out);

/* The value of NAME in Env; 1 if found. */
static int env_get(const json_t *env, const char *name, size_t n,
		   const char **val)
{
	size_t i;

	for (i = 0; i < json_array_size(env); i++) {
		const char *e = json_string_value(json_array_get(env, i));
		const char *eq;

		if (!e)
			continue;
		eq = strchr(e, '=');
		if (!eq) {
			if (strlen(e) == n && !memcmp(e, name, n)) {
				*val = "";
				return 1;
			}
			continue;
		}
		if ((size_t)(eq - e) == n && !memcmp(e, name, n)) {
			*val = eq + 1;
			return 1;
		}
	}
	*val = "";
	return 0;
}

static size_t lex_name(const char *p)
{
	size_t n = 0;

	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)p[n]))
			n++;
		return n;
	}
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	return n;
}

static int lex_dollar(struct lex *l, struct dc_buf *out)
{
	struct dc_ctx *ctx = l->c->ctx;
	struct dc_buf word = DC_BUF_INIT;
	const char *name, *val;
	size_t n;
	int found, mod, err;

	l->p++;		/* '$' */
	if (*l->p != '{') {
		name = l->p;
		n = lex_name(name);
		if (!n)
			return dc__buf_addstr(ctx, out, "$");
		l->p += n;
		env_get(l->env, name, n, &val);
		return dc__buf_addstr(ctx, out, val);
	}
	l->p++;		/* '{' */
	if (!*l->p)
		return bad(l->c, "missing '}' in a substitution");
	if (*l->p == '{' || *l->p == '}' || *l->p == ':')
		return bad(l->c, "bad substitution");
	name = l->p;
	n = lex_name(name);
	l->p += n;
	found = env_get(l->env, name, n, &val);
	if (*l->p == '}') {
		l->p++;
		return dc__buf_addstr(ctx, out, val);
	}
	if (*l->p == '?') {
		mod = '!';	/* ${name?word}: unset is an error */
		l->p++;
	} else if (*l->p == ':' && l->p[1]) {
		mod = l->p[1];
		l->p += 2;
	} else {
		return bad(l->c, *l->p && *l->p != ':' ?
			   "missing ':' in a substitution" :
			   "missing '}' in a substitution");
	}
	if (mod != '-' && mod != '+' && mod != '?' && mod != '!')
		return bad(l->c, "unsupported modifier (%c) in a substitution",
			   mod);
	if ((err = lex_until(l, '}', &word)) < 0)
		goto out;
	switch (mod) {
	case '-':
		err = dc__buf_addstr(ctx, out, *val ? val :
				     word.data ? word.data : "");
		break;
	case '+':
		err = dc__buf_addstr(ctx, out, !*val ? "" :
				     word.data ? word.data : "");
		break;
	default:	/* '?' (unset or empty), '!' (unset) */
		if (!found || (mod == '?' && !*val)) {
			err = bad(l->c, "%.*s: %s", (int)n, name,
				  word.len ? word.data :
				  "is not allowed to be unset");
			break;
		}
		err = dc__buf_addstr(ctx, out, val);
		break;
	}
out:
	dc__buf_release(&word);
	return err;
}

static int lex_squote(struct lex *l, struct dc_buf *out)
{
	const char *e = strchr(++l->p, '\'');
	int err;

	if (!e)
		return bad(l->c, "unexpected end of statement while looking for matching single-quote");
	if ((err = dc__buf_add(l->c->ctx, out, l->p, (size_t)(e - l->p))) < 0)
		return err;
	l->p = e + 1;
	return 0;
}

static int lex_dquote(struct lex *l, struct dc_buf *out)
{
	int err;

	l->p++;
	for (;;) {
		char ch = *l->p;

		if (!ch)
			return bad(l->c, "unexpected end of statement while looking for matching double-quote");
		if (ch == '"') {
			l->p++;
			return 0;
		}
		if (ch == '$') {
			if ((err = lex_dollar(l, out)) < 0)
				return err;
			continue;
		}
		l->p++;
		if (ch == '\\') {
			if (!*l->p)
				continue;
			if (*l->p == '"' || *l->p == '$' || *l->p == '\\')
				ch = *l->p++;
		}
		if ((err = dc__buf_add(l->c->ctx, out, &ch, 1)) < 0)
			return err;
	}
}

/* Process up to STOP (consumed) or, with STOP 0, the end. */
static int lex_until(struct lex *l, int stop, struct dc_buf *out)
{
	int err;

	if ((err = dc__buf_add(l->c->ctx, out, "", 0)) < 0)
		return err;
	while (*l->p) {
		char ch = *l->p;

		if (stop && ch == stop) {
			l->p++;
			return 0;
		}
		if (ch == '$')
			err = lex_dollar(l, out);
		else if (ch == '\'')
			err = lex_squote(l, out);
		else if (ch == '"')
			err = lex_dquote(l, out);
		else {
			l->p++;
			if (ch == '\\') {
				if (!*l->p)
					break;
				ch = *l->p++;
			}
			err = dc__buf_add(l->c->ctx, out, &ch, 1);
		}
		if (err < 0)
			return err;
	}
	if (stop)
		return bad(l->c, "missing '%c' in a substitution", stop);
	return 0;
}

/* ProcessWord: expand WORD against ENV; *out is owned by the caller. */
static int expand(struct chg *c, const json_t *env, const char *word,
		  char **out)
{
	struct lex l = { c, word, env };
	struct dc_buf b = DC_BUF_INIT;
	int err;

	*out = NULL;
	if ((err = lex_until(&l, 0, &b)) < 0) {
		dc__buf_release(&b);
		return err;
	}
	*out = dc__buf_detach(&b, NULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The Dockerfile parser's argument forms (buildkit parser) */

/*
 * Leading "--flag[=value]" words (extractBuilderFlags): quotes and
 * backslashes are taken out of them; "--" alone ends them. *rest is
 * what follows.
 */
static int parse_flags(struct chg *c, const char *p, struct strv *flags,
		       const char **rest)
{
	struct dc_buf w = DC_BUF_INIT;
	int err = 0;

	for (;;) {
		char quote = 0;
		int blank_ok = 0;

		p = skip_space(p);
		if (p[0] != '-' || p[1] != '-')
			break;
		w.len = 0;
		while (*p && (quote || !is_space((unsigned char)*p))) {
			char ch = *p++;

			if (quote && ch == quote) {
				quote = 0;
				continue;
			}
			if (!quote && (ch == '\'' || ch == '"')) {
				quote = ch;
				blank_ok = 1;
				continue;
			}
			if (ch == '\\') {
				if (!*p)
					continue;
				ch = *p++;
			}
			if ((err = dc__buf_add(c->ctx, &w, &ch, 1)) < 0)
				goto out;
		}
		if (w.len == 2 && !memcmp(w.data, "--", 2) && !quote)
			break;
		if ((w.len || blank_ok) &&
		    (err = strv_push(c->ctx, flags, w.data ? w.data : "",
				     w.len)) < 0)
			goto out;
	}
	*rest = p;
out:
	dc__buf_release(&w);
	return err;
}

/* Words as parseWords splits them: quotes and escapes are kept. */
static int parse_words(struct dc_ctx *ctx, const char *p, struct strv *out)
{
	struct dc_buf w = DC_BUF_INIT;
	int err = 0;

	for (;;) {
		char quote = 0;
		int blank_ok = 0;

		p = skip_space(p);
		if (!*p)
			break;
		w.len = 0;
		while (*p && (quote || !is_space((unsigned char)*p))) {
			char ch = *p++;

			if (!quote && (ch == '\'' || ch == '"')) {
				quote = ch;
				blank_ok = 1;
			} else if (quote && ch == quote) {
				quote = 0;
			} else if (ch == '\\' && quote != '\'') {
				if (!*p)
					continue;
				if ((err = dc__buf_add(ctx, &w, &ch, 1)) < 0)
					goto out;
				ch = *p++;
			}
			if ((err = dc__buf_add(ctx, &w, &ch, 1)) < 0)
				goto out;
		}
		if ((w.len || blank_ok) &&
		    (err = strv_push(ctx, out, w.data ? w.data : "", w.len)) < 0)
			goto out;
	}
out:
	dc__buf_release(&w);
	return err;
}

/*
 * The JSON form ["a", "b"] (parseJSON): *arr is NULL when REST is not a
 * JSON array, which makes it the shell form. Like Go's json.Decoder,
 * text after the array is ignored. An array holding a non-string is an
 * error, as in moby.
 */
static int parse_json(struct chg *c, const char *rest, json_t **arr)
{
	json_t *j;
	size_t i;

	*arr = NULL;
	rest = skip_space(rest);
	if (*rest != '[')
		return 0;
	j = json_loads(rest, JSON_DISABLE_EOF_CHECK, NULL);
	if (dc__json_oom_take()) {
		json_decref(j);
		return dc__enomem(c->ctx);
	}
	if (!json_is_array(j)) {
		json_decref(j);
		return 0;
	}
	for (i = 0; i < json_array_size(j); i++) {
		if (!json_is_string(json_array_get(j, i))) {
			json_decref(j);
			return bad(c, "the JSON array holds a non-string");
		}
	}
	*arr = j;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The instructions */

static json_t *cfg_env(struct chg *c)
{
	return json_object_get(c->cfg, "Env");
}

static int set_new(struct chg *c, const char *key, json_t *v)
{
	if (!v || json_object_set_new(c->cfg, key, v) < 0)
		return dc__enomem(c->ctx);
	return 0;
}

/* An object-valued field, created empty if it is null. */
static json_t *cfg_map(struct chg *c, const char *key)
{
	json_t *m = json_object_get(c->cfg, key);

	if (json_is_object(m))
		return m;
	if (set_new(c, key, json_object()) < 0)
		return NULL;
	return json_object_get(c->cfg, key);
}

/* CMD/ENTRYPOINT/HEALTHCHECK CMD: the JSON form or ["/bin/sh","-c",REST]. */
static int command_line(struct chg *c, const char *rest, json_t **out,
			int *is_json)
{
	json_t *arr, *sh;
	size_t i;
	int err, lost = 0;

	*out = NULL;
	if ((err = parse_json(c, rest, &arr)) < 0)
		return err;
	*is_json = arr != NULL;
	if (arr) {
		*out = arr;
		return 0;
	}
	if (!(arr = json_array()))
		return dc__enomem(c->ctx);
	sh = json_object_get(c->cfg, "Shell");
	if (json_array_size(sh)) {
		for (i = 0; i < json_array_size(sh); i++)
			lost |= json_array_append(arr, json_array_get(sh, i));
	} else {
		lost |= json_array_append_new(arr, json_string("/bin/sh"));
		lost |= json_array_append_new(arr, json_string("-c"));
	}
	if (lost || (*rest && json_array_append_new(arr, json_string(rest)) < 0)) {
		json_decref(arr);
		return dc__enomem(c->ctx);
	}
	*out = arr;
	return 0;
}

static int do_cmd(struct chg *c, const char *rest, int entrypoint)
{
	json_t *arr;
	int err, is_json;

	if ((err = command_line(c, rest, &arr, &is_json)) < 0)
		return err;
	/* as moby: an empty ENTRYPOINT ("ENTRYPOINT", "ENTRYPOINT []") is
	 * none at all, while an empty CMD is the bare shell or [] */
	if (entrypoint && (!*rest || (is_json && !json_array_size(arr)))) {
		json_decref(arr);
		arr = json_null();
	}
	if ((err = set_new(c, entrypoint ? "Entrypoint" : "Cmd", arr)) < 0)
		return err;
	if (!entrypoint)
		c->cmd_set = 1;
	else if (!c->cmd_set)
		/* a new ENTRYPOINT drops the CMD it did not come with */
		err = set_new(c, "Cmd", json_null());
	return err;
}

/* ENV and LABEL: "k=v k2=v2" or the legacy "k v w" (parseNameVal). */
static int name_vals(struct chg *c, const char *what, const char *rest,
		     struct strv *kv)
{
	struct strv words = { NULL, 0 };
	const json_t *env = cfg_env(c);
	size_t i;
	int err;

	if ((err = parse_words(c->ctx, rest, &words)) < 0)
		goto out;
	if (!words.n) {
		err = bad(c, "%s needs at least one argument", what);
		goto out;
	}
	if (!strchr(words.v[0], '=')) {
		/* legacy: the name, whitespace, then the rest of the line */
		const char *e = rest;

		while (*e && !is_space((unsigned char)*e))
			e++;
		if (!*skip_space(e)) {
			err = bad(c, "%s must have two arguments", what);
			goto out;
		}
		if ((err = strv_push(c->ctx, kv, rest, (size_t)(e - rest))) < 0 ||
		    (err = strv_push(c->ctx, kv, skip_space(e),
				     strlen(skip_space(e)))) < 0)
			goto out;
	} else {
		for (i = 0; i < words.n; i++) {
			char *eq = strchr(words.v[i], '=');

			if (!eq) {
				err = bad(c, "syntax error: no '=' in '%s' (the form is name=value)",
					  words.v[i]);
				goto out;
			}
			if ((err = strv_push(c->ctx, kv, words.v[i],
					     (size_t)(eq - words.v[i]))) < 0 ||
			    (err = strv_push(c->ctx, kv, eq + 1,
					     strlen(eq + 1))) < 0)
				goto out;
		}
	}
	/* expanded against the Env from before the instruction */
	for (i = 0; i < kv->n; i++) {
		char *x;

		if ((err = expand(c, env, kv->v[i], &x)) < 0)
			goto out;
		free(kv->v[i]);
		kv->v[i] = x;
		if (i % 2 == 0 && !*x) {
			err = bad(c, "%s names can not be blank", what);
			goto out;
		}
	}
out:
	strv_clear(&words);
	return err;
}

static int do_env(struct chg *c, const char *rest)
{
	struct strv kv = { NULL, 0 };
	struct dc_buf b = DC_BUF_INIT;
	json_t *env;
	size_t i, j, n;
	int err;

	if ((err = name_vals(c, "ENV", rest, &kv)) < 0)
		goto out;
	env = json_object_get(c->cfg, "Env");
	if (!json_is_array(env)) {
		if ((err = set_new(c, "Env", json_array())) < 0)
			goto out;
		env = json_object_get(c->cfg, "Env");
	}
	for (i = 0; i < kv.n; i += 2) {
		json_t *s;

		b.len = 0;
		if ((err = dc__buf_addf(c->ctx, &b, "%s=%s", kv.v[i],
					kv.v[i + 1])) < 0)
			goto out;
		if (!(s = json_string(b.data))) {
			err = dc__enomem(c->ctx);
			goto out;
		}
		n = strlen(kv.v[i]);
		for (j = 0; j < json_array_size(env); j++) {
			const char *e = json_string_value(json_array_get(env, j));

			if (e && !strncmp(e, kv.v[i], n) &&
			    (e[n] == '=' || !e[n]))
				break;
		}
		if (j < json_array_size(env))
			err = json_array_set_new(env, j, s);
		else
			err = json_array_append_new(env, s);
		if (err < 0) {
			err = dc__enomem(c->ctx);
			goto out;
		}
	}
out:
	dc__buf_release(&b);
	strv_clear(&kv);
	return err;
}

static int do_label(struct chg *c, const char *rest)
{
	struct strv kv = { NULL, 0 };
	json_t *m;
	size_t i;
	int err;

	if ((err = name_vals(c, "LABEL", rest, &kv)) < 0)
		goto out;
	if (!(m = cfg_map(c, "Labels"))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (i = 0; i < kv.n; i += 2)
		if (json_object_set_new(m, kv.v[i], json_string(kv.v[i + 1])) < 0) {
			err = dc__enomem(c->ctx);
			goto out;
		}
out:
	strv_clear(&kv);
	return err;
}

static int parse_port(const char *s, size_t n, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!n || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = v;
	return 0;
}

/*
 * "80", "443/udp", "8000-8002/tcp" (nat.ParsePortSpecs, which also takes
 * "[ip:]hostport:" mappings, of which EXPOSE keeps the container port)
 */
static int add_port(struct chg *c, json_t *set, const char *arg)
{
	const char *spec = strrchr(arg, ':') ? strrchr(arg, ':') + 1 : arg;
	const char *slash = strchr(spec, '/'), *dash;
	char proto[8], key[32];
	unsigned long lo, hi, p;
	size_t plen = slash ? (size_t)(slash - spec) : strlen(spec), i;

	if (slash && slash[1]) {
		if (strlen(slash + 1) >= sizeof(proto))
			return bad(c, "invalid proto '%s'", slash + 1);
		for (i = 0; slash[1 + i]; i++)
			proto[i] = (char)tolower((unsigned char)slash[1 + i]);
		proto[i] = '\0';
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") &&
		    strcmp(proto, "sctp"))
			return bad(c, "invalid proto '%s'", slash + 1);
	} else {
		memcpy(proto, "tcp", 4);
	}
	dash = memchr(spec, '-', plen);
	if (dash ? parse_port(spec, (size_t)(dash - spec), &lo) < 0 ||
		   parse_port(dash + 1, plen - (size_t)(dash - spec) - 1, &hi) < 0 :
		   parse_port(spec, plen, &lo) < 0)
		return bad(c, "invalid port '%s'", arg);
	if (!dash)
		hi = lo;
	if (hi < lo)
		return bad(c, "invalid port range '%s'", arg);
	for (p = lo; p <= hi; p++) {
		snprintf(key, sizeof(key), "%lu/%s", p, proto);
		if (json_object_set_new(set, key, json_object()) < 0)
			return dc__enomem(c->ctx);
	}
	return 0;
}

static int do_expose(struct chg *c, const char *rest)
{
	struct strv raw = { NULL, 0 }, ports = { NULL, 0 };
	json_t *set;
	size_t i;
	int err;

	if ((err = split_fields(c->ctx, &raw, rest)) < 0)
		goto out;
	if (!raw.n) {
		err = bad(c, "EXPOSE needs at least one argument");
		goto out;
	}
	/* EXPOSE $PORTS with PORTS="80 443" exposes both (moby) */
	for (i = 0; i < raw.n; i++) {
		char *x;

		if ((err = expand(c, cfg_env(c), raw.v[i], &x)) < 0)
			goto out;
		err = split_fields(c->ctx, &ports, x);
		free(x);
		if (err < 0)
			goto out;
	}
	if (!(set = cfg_map(c, "ExposedPorts"))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (i = 0; i < ports.n; i++)
		if ((err = add_port(c, set, ports.v[i])) < 0)
			goto out;
out:
	strv_clear(&raw);
	strv_clear(&ports);
	return err;
}

static int do_volume(struct chg *c, const char *rest)
{
	struct strv vols = { NULL, 0 };
	json_t *arr = NULL, *set;
	size_t i;
	int err;

	if ((err = parse_json(c, rest, &arr)) < 0)
		goto out;
	if (arr) {
		for (i = 0; i < json_array_size(arr); i++) {
			json_t *s = json_array_get(arr, i);

			if ((err = strv_push(c->ctx, &vols, json_string_value(s),
					     json_string_length(s))) < 0)
				goto out;
		}
	} else if ((err = split_fields(c->ctx, &vols, rest)) < 0) {
		goto out;
	}
	if (!vols.n) {
		err = bad(c, "VOLUME needs at least one argument");
		goto out;
	}
	if (!(set = cfg_map(c, "Volumes"))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (i = 0; i < vols.n; i++) {
		char *x;
		const char *b, *e;

		if ((err = expand(c, cfg_env(c), vols.v[i], &x)) < 0)
			goto out;
		b = skip_space(x);
		for (e = b + strlen(b); e > b && is_space((unsigned char)e[-1]); e--)
			;
		if (e == b) {
			free(x);
			err = bad(c, "VOLUME specified can not be an empty string");
			goto out;
		}
		x[e - x] = '\0';
		err = json_object_set_new(set, b, json_object());
		free(x);
		if (err < 0) {
			err = dc__enomem(c->ctx);
			goto out;
		}
	}
out:
	json_decref(arr);
	strv_clear(&vols);
	return err;
}

/* USER, WORKDIR, STOPSIGNAL: the rest of the line is one word. */
static int one_word(struct chg *c, const char *what, const char *rest,
		    char **out)
{
	*out = NULL;
	if (!*rest)
		return bad(c, "%s needs exactly one argument", what);
	return expand(c, cfg_env(c), rest, out);
}

/* filepath.Join("/", cur, rel), which also cleans the result */
static int join_workdir(struct chg *c, const char *cur, const char *rel,
			char **out)
{
	struct dc_buf in = DC_BUF_INIT;
	char *res = NULL, *p;
	size_t len = 0;
	int err;

	*out = NULL;
	if ((err = dc__buf_addf(c->ctx, &in, "/%s/%s", cur, rel)) < 0)
		goto out;
	if (!(res = dc__calloc(c->ctx, 1, in.len + 2))) {
		err = DC_ENOMEM;
		goto out;
	}
	for (p = in.data; *p;) {
		char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && res[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else if (n && !(n == 1 && p[0] == '.')) {
			res[len++] = '/';
			memcpy(res + len, p, n);
			len += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (!len)
		res[len++] = '/';
	res[len] = '\0';
	*out = res;
	res = NULL;
out:
	free(res);
	dc__buf_release(&in);
	return err;
}

static int do_workdir(struct chg *c, const char *rest)
{
	const char *cur = json_string_value(json_object_get(c->cfg, "WorkingDir"));
	char *dir = NULL, *joined = NULL;
	int err;

	if ((err = one_word(c, "WORKDIR", rest, &dir)) < 0)
		goto out;
	if (!*dir) {
		err = bad(c, "WORKDIR is empty");
		goto out;
	}
	/* moby keeps an absolute path as given and cleans a joined one */
	if (dir[0] != '/' &&
	    (err = join_workdir(c, cur ? cur : "", dir, &joined)) < 0)
		goto out;
	err = set_new(c, "WorkingDir", json_string(joined ? joined : dir));
out:
	free(dir);
	free(joined);
	return err;
}

/* moby pkg/signal (Linux): names with or without "SIG", or a number */
static const char *const signames[] = {
	"ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL",
	"INT", "IO", "IOT", "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT",
	"SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN",
	"TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
	"RTMIN", "RTMAX", NULL
};

static int signal_valid(const char *s)
{
	char up[16];
	size_t i;
	char *end;
	long v;

	if (isdigit((unsigned char)*s)) {
		v = strtol(s, &end, 10);
		return !*end && v > 0 && v < 256;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	if (strlen(s) >= sizeof(up))
		return 0;
	for (i = 0; s[i]; i++)
		up[i] = (char)toupper((unsigned char)s[i]);
	up[i] = '\0';
	for (i = 0; signames[i]; i++)
		if (!strcmp(up, signames[i]))
			return 1;
	/* RTMIN+1..RTMIN+15, RTMAX-14..RTMAX-1 */
	if ((!strncmp(up, "RTMIN+", 6) || !strncmp(up, "RTMAX-", 6)) &&
	    isdigit((unsigned char)up[6])) {
		v = strtol(up + 6, &end, 10);
		return !*end && v >= 1 && v <= (up[5] == '+' ? 15 : 14);
	}
	return 0;
}

static int do_user_stop(struct chg *c, const char *rest, int stopsignal)
{
	char *w = NULL;
	int err;

	if ((err = one_word(c, stopsignal ? "STOPSIGNAL" : "USER", rest,
			    &w)) < 0)
		goto out;
	if (stopsignal && !signal_valid(w)) {
		err = bad(c, "invalid signal '%s'", w);
		goto out;
	}
	err = set_new(c, stopsignal ? "StopSignal" : "User", json_string(w));
out:
	free(w);
	return err;
}

/* Go's time.ParseDuration, for the positive durations HEALTHCHECK takes */
static int parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
		{ "m", 60000000000LL }, { "h", 3600000000000LL }
	};
	const int64_t max = INT64_MAX;
	int64_t total = 0;

	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (*s == '+')
		s++;
	if (!*s)
		return -1;
	while (*s) {
		int64_t whole = 0, frac = 0, scale = 1, unit = 0, v;
		int digits = 0;
		size_t i, ul = 0;

		while (isdigit((unsigned char)*s)) {
			if (whole > (max - 9) / 10)
				return -1;
			whole = whole * 10 + (*s++ - '0');
			digits++;
		}
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s)) {
				if (scale < 1000000000000000LL) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
				s++;
				digits++;
			}
		}
		if (!digits)
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);

			if (!strncmp(s, units[i].unit, n) && n > ul &&
			    !isalpha((unsigned char)s[n])) {
				unit = units[i].ns;
				ul = n;
			}
		}
		if (!unit)
			return -1;
		s += ul;
		if (whole > max / unit)
			return -1;
		v = whole * unit + (int64_t)((double)frac * (double)unit /
					     (double)scale);
		if (v < 0 || total > max - v)
			return -1;
		total += v;
	}
	*out = total;
	return 0;
}

static int do_healthcheck(struct chg *c, const struct strv *flags,
			  const char *rest)
{
	static const char *const names[] = {
		"interval", "timeout", "start-period", "retries"
	};
	static const char *const keys[] = {
		"Interval", "Timeout", "StartPeriod", "Retries"
	};
	const char *val[4] = { NULL, NULL, NULL, NULL }, *cmd;
	char typ[16];
	json_t *hc = NULL, *arr = NULL, *test = NULL;
	size_t i, j, n;
	int err = 0, is_json, lost = 0;

	for (n = 0; rest[n] && !is_space((unsigned char)rest[n]); n++)
		;
	if (!n)
		return bad(c, "HEALTHCHECK needs at least one argument");
	if (n >= sizeof(typ))
		return bad(c, "unknown type '%.*s' in HEALTHCHECK (try CMD)",
			   (int)n, rest);
	for (i = 0; i < n; i++)
		typ[i] = (char)toupper((unsigned char)rest[i]);
	typ[n] = '\0';
	cmd = skip_space(rest + n);
	if (!(hc = json_object())) {
		err = dc__enomem(c->ctx);
		goto out;
	}
	if (!strcmp(typ, "NONE")) {
		if (*cmd || flags->n) {
			err = bad(c, "HEALTHCHECK NONE takes no arguments");
			goto out;
		}
		test = json_pack("[s]", "NONE");
		if (!test || json_object_set_new(hc, "Test", test) < 0) {
			err = dc__enomem(c->ctx);
			goto out;
		}
		err = set_new(c, "Healthcheck", hc);
		hc = NULL;
		goto out;
	}
	for (i = 0; i < flags->n; i++) {
		const char *f = flags->v[i] + 2, *eq = strchr(f, '=');
		size_t fl = eq ? (size_t)(eq - f) : strlen(f);

		for (j = 0; j < 4; j++)
			if (strlen(names[j]) == fl && !strncmp(f, names[j], fl))
				break;
		if (j == 4) {
			err = bad(c, "unknown flag '--%.*s'", (int)fl, f);
			goto out;
		}
		if (!eq) {
			err = bad(c, "flag '--%s' needs a value", names[j]);
			goto out;
		}
		if (val[j]) {
			err = bad(c, "flag '--%s' given twice", names[j]);
			goto out;
		}
		val[j] = eq + 1;
	}
	if (strcmp(typ, "CMD")) {
		err = bad(c, "unknown type '%s' in HEALTHCHECK (try CMD)", typ);
		goto out;
	}
	if (!*cmd) {
		err = bad(c, "missing command after HEALTHCHECK CMD");
		goto out;
	}
	if ((err = parse_json(c, cmd, &arr)) < 0)
		goto out;
	is_json = arr != NULL;
	if (is_json && !json_array_size(arr)) {
		err = bad(c, "missing command after HEALTHCHECK CMD");
		goto out;
	}
	if (!(test = json_array())) {
		err = dc__enomem(c->ctx);
		goto out;
	}
	lost |= json_array_append_new(test, json_string(is_json ? "CMD" : "CMD-SHELL"));
	if (is_json)
		lost |= json_array_extend(test, arr);
	else
		lost |= json_array_append_new(test, json_string(cmd));
	/* hc takes test, also when this fails */
	if (json_object_set_new(hc, "Test", test) < 0 || lost) {
		err = dc__enomem(c->ctx);
		goto out;
	}
	for (j = 0; j < 4; j++) {
		int64_t v;
		char *end;

		if (!val[j] || !*val[j])
			continue;
		if (j == 3) {
			v = strtoll(val[j], &end, 10);
			if (*end || v < 1 || v > INT32_MAX) {
				err = bad(c, "--retries must be at least 1 (not '%s')",
					  val[j]);
				goto out;
			}
		} else if (parse_duration(val[j], &v) < 0) {
			err = bad(c, "--%s '%s': invalid duration", names[j],
				  val[j]);
			goto out;
		} else if (v < 1000000) {
			err = bad(c, "--%s '%s': cannot be less than 1ms",
				  names[j], val[j]);
			goto out;
		}
		if (json_object_set_new(hc, keys[j], json_integer(v)) < 0) {
			err = dc__enomem(c->ctx);
			goto out;
		}
	}
	err = set_new(c, "Healthcheck", hc);
	hc = NULL;
out:
	json_decref(arr);
	json_decref(hc);
	return err;
}

static int do_onbuild(struct chg *c, const char *rest)
{
	json_t *ob;
	size_t n;
	int err;

	for (n = 0; rest[n] && !is_space((unsigned char)rest[n]); n++)
		;
	if (!n)
		return bad(c, "ONBUILD needs a trigger instruction");
	if ((n == 7 && !strncasecmp(rest, "ONBUILD", 7)))
		return bad(c, "chaining ONBUILD via 'ONBUILD ONBUILD' isn't allowed");
	if ((n == 4 && !strncasecmp(rest, "FROM", 4)) ||
	    (n == 10 && !strncasecmp(rest, "MAINTAINER", 10)))
		return bad(c, "%.*s isn't allowed as an ONBUILD trigger", (int)n,
			   rest);
	ob = json_object_get(c->cfg, "OnBuild");
	if (!json_is_array(ob)) {
		if ((err = set_new(c, "OnBuild", json_array())) < 0)
			return err;
		ob = json_object_get(c->cfg, "OnBuild");
	}
	if (json_array_append_new(ob, json_string(rest)) < 0)
		return dc__enomem(c->ctx);
	return 0;
}

/* Dockerfile instructions that are not allowed in a change */
static const char *const builder_only[] = {
	"ADD", "ARG", "COPY", "FROM", "MAINTAINER", "RUN", "SHELL", NULL
};

/* One logical line. */
static int apply_line(struct chg *c, const char *line)
{
	struct strv flags = { NULL, 0 };
	char ins[16];
	const char *rest, *p;
	char *body = NULL;
	size_t n, i;
	int err;

	c->ninstr++;
	p = skip_space(line);
	for (n = 0; p[n] && !is_space((unsigned char)p[n]); n++)
		;
	if (n >= sizeof(ins)) {
		err = bad(c, "unknown instruction");
		goto out;
	}
	for (i = 0; i < n; i++)
		ins[i] = (char)toupper((unsigned char)p[i]);
	ins[n] = '\0';
	if ((err = parse_flags(c, p + n, &flags, &rest)) < 0)
		goto out;
	/* the argument text, without surrounding whitespace */
	rest = skip_space(rest);
	n = strlen(rest);
	while (n && is_space((unsigned char)rest[n - 1]))
		n--;
	if (!(body = dc__calloc(c->ctx, 1, n + 1))) {
		err = DC_ENOMEM;
		goto out;
	}
	memcpy(body, rest, n);
	if (flags.n && strcmp(ins, "HEALTHCHECK")) {
		const char *f = flags.v[0], *eq = strchr(f, '=');

		err = bad(c, "unknown flag '%.*s'",
			  (int)(eq ? (size_t)(eq - f) : strlen(f)), f);
		goto out;
	}
	if (!strcmp(ins, "CMD"))
		err = do_cmd(c, body, 0);
	else if (!strcmp(ins, "ENTRYPOINT"))
		err = do_cmd(c, body, 1);
	else if (!strcmp(ins, "ENV"))
		err = do_env(c, body);
	else if (!strcmp(ins, "LABEL"))
		err = do_label(c, body);
	else if (!strcmp(ins, "EXPOSE"))
		err = do_expose(c, body);
	else if (!strcmp(ins, "VOLUME"))
		err = do_volume(c, body);
	else if (!strcmp(ins, "USER"))
		err = do_user_stop(c, body, 0);
	else if (!strcmp(ins, "STOPSIGNAL"))
		err = do_user_stop(c, body, 1);
	else if (!strcmp(ins, "WORKDIR"))
		err = do_workdir(c, body);
	else if (!strcmp(ins, "HEALTHCHECK"))
		err = do_healthcheck(c, &flags, body);
	else if (!strcmp(ins, "ONBUILD"))
		err = do_onbuild(c, rest);	/* moby keeps the original text */
	else {
		for (i = 0; builder_only[i]; i++)
			if (!strcmp(ins, builder_only[i]))
				break;
		if (builder_only[i])
			err = bad(c, "%s is not allowed in a change (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)",
				  ins);
		else
			err = bad(c, "unknown instruction");
	}
out:
	free(body);
	strv_clear(&flags);
	return err;
}

/*
 * A change as a small Dockerfile: lines, a backslash at the end of a
 * line continues it, blank lines and "#" comments are skipped.
 */
static int apply_change(struct chg *c, const char *change)
{
	struct dc_buf line = DC_BUF_INIT;
	const char *p = change;
	int err = 0;

	while (*p && !err) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p), t = n, lead = 0;

		while (t && (p[t - 1] == '\r' || p[t - 1] == ' ' ||
			     p[t - 1] == '\t'))
			t--;
		while (lead < t && (p[lead] == ' ' || p[lead] == '\t'))
			lead++;
		if (!line.len && (lead == t || p[lead] == '#')) {
			/* a blank line or a comment */
		} else if (e && t && p[t - 1] == '\\') {
			err = dc__buf_add(c->ctx, &line, p, t - 1);
		} else if (!(err = dc__buf_add(c->ctx, &line, p,
					       n && p[n - 1] == '\r' ? n - 1 : n))) {
			/* trailing blanks stay: ONBUILD keeps them, as moby */
			err = apply_line(c, line.data);
			line.len = 0;
		}
		p += n + (e != NULL);
	}
	if (!err && line.len)
		err = apply_line(c, line.data);
	dc__buf_release(&line);
	return err;
}

/* ------------------------------------------------------------------ */
/* moby's container.Config, as encoding/json lays it out */

static int is_map(enum dc_gotype t)
{
	return t == DC_GO_SET || t == DC_GO_STRMAP;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of object M with its keys in byte order (Go sorts map keys). */
static json_t *sorted_copy(struct dc_ctx *ctx, json_t *m)
{
	const char **keys;
	const char *k;
	json_t *v, *out;
	size_t n = 0, i;

	if (!(keys = dc__calloc(ctx, json_object_size(m) + 1, sizeof(*keys))))
		return NULL;
	json_object_foreach(m, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	if ((out = json_object()))
		for (i = 0; i < n && out; i++)
			if (json_object_set(out, keys[i], json_object_get(m, keys[i])) < 0) {
				json_decref(out);
				out = NULL;
			}
	free(keys);
	return out;
}

static int is_empty(const json_t *v, enum dc_gotype t)
{
	switch (t) {
	case DC_GO_STR: return json_is_string(v) && !json_string_length(v);
	case DC_GO_BOOL: return json_is_false(v);
	case DC_GO_STRLIST:
	case DC_GO_STRSLICE: return json_is_array(v) && !json_array_size(v);
	case DC_GO_SET:
	case DC_GO_STRMAP: return json_is_object(v) && !json_object_size(v);
	default: return 0;
	}
}

static int canonical(struct dc_ctx *ctx, json_t *in, json_t **out)
{
	json_t *o = json_object(), *v;
	const char *k;
	size_t i;

	*out = NULL;
	if (!o)
		return dc__enomem(ctx);
	for (i = 0; i < dc__moby_nconfig_fields; i++) {
		const struct dc_moby_field *f = &dc__moby_config_fields[i];
		json_t *nv;

		v = json_object_get(in, f->name);
		if (!v || json_is_null(v) || (f->omitempty && is_empty(v, f->t))) {
			if (f->omitempty)
				continue;
			nv = f->t == DC_GO_STR ? json_string("") :
			     f->t == DC_GO_BOOL ? json_false() : json_null();
		} else if (is_map(f->t) && json_is_object(v)) {
			nv = sorted_copy(ctx, v);
		} else {
			nv = json_incref(v);
		}
		if (!nv || json_object_set_new(o, f->name, nv) < 0) {
			json_decref(o);
			return dc__enomem(ctx);
		}
	}
	/* fields moby's struct does not have stay, after its own */
	json_object_foreach(in, k, v) {
		if (!json_object_get(o, k)) {
			for (i = 0; i < dc__moby_nconfig_fields; i++)
				if (!strcmp(dc__moby_config_fields[i].name, k))
					break;
			if (i == dc__moby_nconfig_fields &&
			    json_object_set(o, k, v) < 0) {
				json_decref(o);
				return dc__enomem(ctx);
			}
		}
	}
	*out = o;
	return 0;
}

int dc__changes_apply(struct dc_ctx *ctx, struct json_t **out,
		      const struct json_t *in, const char *const *changes,
		      size_t n)
{
	struct chg c;
	size_t i;
	int err = 0;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.cfg = in ? json_deep_copy(in) : json_object();
	if (!c.cfg)
		return dc__enomem(ctx);
	if (!json_is_object(c.cfg)) {
		err = dc_error(ctx, DC_EINVAL, "container config is not an object");
		goto out;
	}
	for (i = 0; i < n && !err; i++) {
		c.change = changes[i];
		err = apply_change(&c, changes[i]);
	}
	if (!err && n && !c.ninstr) {
		/* moby: "file with no instructions" */
		c.change = changes[0];
		err = bad(&c, "no instruction");
	}
	if (!err)
		err = canonical(ctx, c.cfg, out);
out:
	json_decref(c.cfg);
	return err;
}
