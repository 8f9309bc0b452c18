/*
 * The registry client: the distribution API over libcurl. Requests are
 * retried (bounded, with backoff) on 429, 5xx and dropped connections
 * when their body can be sent again; redirects are followed here, not by
 * curl, so that credentials never go to another host; a 401 is answered
 * once with basic credentials or a bearer token from the challenge's
 * realm. Credentials and tokens never appear in a message.
 */
#include "registry/registry.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include "banned.h"

struct dc_reg {
	struct dc_ctx *ctx;
	char *host, *name, *repo;
	char label[512];	/* HOST/REPO */
	char base[300];		/* "https://HOST" */
	int insecure;		/* TLS not verified */
	char *ca;		/* CA bundle: system + --cert-dir */
	size_t calen;
	char *cert, *key;	/* client certificate and key (paths) */
	char *user, *pass;
	int push;
	pthread_mutex_t mu;	/* guards authz: blob streams share it */
	char *authz;		/* "Authorization: ..." or NULL */
	int bearer;		/* the registry asked for a token */
	char *mount_from;	/* the repository the token also reads */
	int norange;		/* ranged GETs fell back once: not again */
	struct dc_reg_chal chal;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *dc__reg_label(const struct dc_reg *g)
{
	return g->label;
}

static void backoff(int attempt)
{
	struct timespec ts;
	long ms = 200L << (attempt < 5 ? attempt : 5);

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static int transient_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static int transient_curl(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_SEND_ERROR ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_PARTIAL_FILE || rc == CURLE_OPERATION_TIMEDOUT;
}

/* ------------------------------------------------------------------ */
/* Handles */

static void set_tls(struct dc_reg *g, CURL *e)
{
	if (g->cert) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, g->cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, g->key);
	}
	if (g->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		/* nothing to verify against: loading the system's CA
		 * bundle costs OpenSSL 3 some 30 ms of CPU per handle */
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	} else if (g->ca) {
		struct curl_blob b;

		b.data = g->ca;
		b.len = g->calen;
		b.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
}

static CURL *easy_new(struct dc_reg *g, const char *url, char *errbuf)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled connection: under 1 byte/s for a minute */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "decant/" DC_VERSION);
	/* blobs move in large reads and writes: fewer calls and copies than
	 * with curl's 16 KiB receive and 64 KiB send buffers */
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L << 10);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	errbuf[0] = '\0';
	set_tls(g, e);
	return e;
}

/* The Authorization header to send, copied under the lock, or NULL. */
static char *authz_get(struct dc_reg *g)
{
	char *s = NULL;

	pthread_mutex_lock(&g->mu);
	if (g->authz)
		s = strdup(g->authz);
	pthread_mutex_unlock(&g->mu);
	return s;
}

static struct curl_slist *headers(struct dc_reg *g, int nocred,
				  const char *accept, const char *ctype,
				  const char *range)
{
	struct curl_slist *h = NULL, *t;
	char line[512];
	char *az = nocred ? NULL : authz_get(g);

	/* no "Expect: 100-continue" wait before a body */
	h = curl_slist_append(h, "Expect:");
	if (h && az && (t = curl_slist_append(h, az)))
		h = t;
	if (h && accept) {
		snprintf(line, sizeof(line), "Accept: %s", accept);
		if ((t = curl_slist_append(h, line)))
			h = t;
	}
	if (h && ctype) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		if ((t = curl_slist_append(h, line)))
			h = t;
	}
	if (h && range && (t = curl_slist_append(h, range)))
		h = t;
	if (az) {
		explicit_bzero(az, strlen(az));
		free(az);
	}
	return h;
}

/* ------------------------------------------------------------------ */
/* URLs */

/* URL resolved against BASE into *out (curl's: curl_free). */
static int url_resolve(const char *base, const char *rel, char **out)
{
	CURLU *u = curl_url();
	int bad;

	*out = NULL;
	if (!u)
		return -1;
	bad = curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	      curl_url_set(u, CURLUPART_URL, rel, 0) != CURLUE_OK ||
	      curl_url_get(u, CURLUPART_URL, out, 0) != CURLUE_OK;
	curl_url_cleanup(u);
	return bad ? -1 : 0;
}

/* "scheme://host:port" of URL into OUT. */
static int url_origin(const char *url, char *out, size_t n)
{
	CURLU *u = curl_url();
	char *s = NULL, *h = NULL, *p = NULL;
	int bad;

	out[0] = '\0';
	if (!u)
		return -1;
	bad = curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	      curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	      curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	      curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK;
	if (!bad)
		snprintf(out, n, "%s://%s:%s", s, h, p);
	curl_free(s);
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return bad ? -1 : 0;
}

static int same_origin(const char *a, const char *b)
{
	char oa[320], ob[320];

	return url_origin(a, oa, sizeof(oa)) == 0 &&
	       url_origin(b, ob, sizeof(ob)) == 0 && !strcmp(oa, ob);
}

/* URL with "KEY=VALUE" (URL-encoded) added to its query. */
static int url_add_query(const char *url, const char *kv, char **out)
{
	CURLU *u = curl_url();
	int bad;

	*out = NULL;
	if (!u)
		return -1;
	bad = curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	      curl_url_set(u, CURLUPART_QUERY, kv,
			   CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
	      curl_url_get(u, CURLUPART_URL, out, 0) != CURLUE_OK;
	curl_url_cleanup(u);
	return bad ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* One request, retried, redirected and authenticated */

struct req {
	const char *method;	/* GET, HEAD, POST, PUT */
	char url[2048];
	const char *accept, *ctype;
	const void *body;	/* a body from memory */
	size_t blen;
	struct dc_stream *in;	/* or streamed: sent once, never retried */
	int64_t inlen;
	int in_err;
	int noauth;		/* a 401 is the answer (token requests) */
	struct dc_ctx *ctx;
	/* the answer */
	long status;
	struct dc_buf resp;
	size_t cap;		/* of resp; over it: DC_ELIMIT */
	int over;
	char location[2048];
	char ctype_resp[256];
	char digest[DC_DIGEST_MAX];
	char crange[128];	/* Content-Range */
	char *wwwauth;
	size_t bsent;
};

static void req_release(struct req *q)
{
	dc__buf_release(&q->resp);
	free(q->wwwauth);
	q->wwwauth = NULL;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct req *q = arg;
	size_t len = sz * n, k, v;
	char name[64];

	for (k = 0; k < len && p[k] != ':' && k < sizeof(name) - 1; k++)
		name[k] = (char)(p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]);
	name[k] = '\0';
	if (k >= len || p[k] != ':') {
		/* a status line: a new response (after a 100) */
		if (len > 5 && !strncmp(p, "HTTP/", 5)) {
			q->location[0] = q->ctype_resp[0] = q->digest[0] = '\0';
			q->crange[0] = '\0';
			free(q->wwwauth);
			q->wwwauth = NULL;
		}
		return len;
	}
	for (v = k + 1; v < len && (p[v] == ' ' || p[v] == '\t'); v++)
		;
	while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
			   p[len - 1] == ' '))
		len--;
	if (!strcmp(name, "location"))
		snprintf(q->location, sizeof(q->location), "%.*s",
			 (int)(len - v), p + v);
	else if (!strcmp(name, "content-type"))
		snprintf(q->ctype_resp, sizeof(q->ctype_resp), "%.*s",
			 (int)(len - v), p + v);
	else if (!strcmp(name, "docker-content-digest") && len - v < DC_DIGEST_MAX)
		snprintf(q->digest, sizeof(q->digest), "%.*s", (int)(len - v),
			 p + v);
	else if (!strcmp(name, "content-range"))
		snprintf(q->crange, sizeof(q->crange), "%.*s", (int)(len - v),
			 p + v);
	else if (!strcmp(name, "www-authenticate") && !q->wwwauth &&
		 len - v < 4096 && (q->wwwauth = malloc(len - v + 1))) {
		memcpy(q->wwwauth, p + v, len - v);
		q->wwwauth[len - v] = '\0';
	}
	return sz * n;
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct req *q = arg;
	size_t len = sz * n;

	if (q->resp.len + len > q->cap) {
		q->over = 1;
		return 0;	/* stop: curl fails with CURLE_WRITE_ERROR */
	}
	if (dc__buf_add(NULL, &q->resp, p, len) < 0)
		return 0;
	return len;
}

static size_t on_read(char *p, size_t sz, size_t n, void *arg)
{
	struct req *q = arg;
	ssize_t got;

	if (q->body) {
		size_t k = q->blen - q->bsent < sz * n ? q->blen - q->bsent : sz * n;

		memcpy(p, (const char *)q->body + q->bsent, k);
		q->bsent += k;
		return k;
	}
	got = dc__stream_read(q->in, p, sz * n);
	if (got < 0) {
		q->in_err = (int)got;
		return CURL_READFUNC_ABORT;
	}
	q->bsent += (size_t)got;
	if (got > 0 && q->ctx->progress)
		q->ctx->progress(q->ctx->progress_arg, (uint64_t)got, 0, 0, 0);
	return (size_t)got;
}

static int authenticate(struct dc_reg *g, struct dc_ctx *ctx,
			const char *challenge, const char *extra_scope);

/* A transfer stops when the operation is interrupted. */
static int on_xfer(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		   curl_off_t un)
{
	struct dc_ctx *ctx = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return ctx->interrupted || (ctx->parent_intr && *ctx->parent_intr) ||
	       (ctx->parent_intr2 && *ctx->parent_intr2);
}

/* Run Q once: 0 and Q->status, or a transport error (message set). */
static int perform(struct dc_reg *g, struct req *q, int nocred,
		   CURLcode *rcp)
{
	struct dc_ctx *ctx = q->ctx;
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *h;
	CURL *e;
	CURLcode rc;

	*rcp = CURLE_OK;
	dc__buf_release(&q->resp);
	q->over = 0;
	q->bsent = 0;
	q->status = 0;
	if (!(e = easy_new(g, q->url, errbuf)))
		return dc__enomem(ctx);
	if (!(h = headers(g, nocred, q->accept, q->ctype, NULL))) {
		curl_easy_cleanup(e);
		return dc__enomem(ctx);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, q);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(q->method, "PUT") || !strcmp(q->method, "PATCH")) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, q);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(q->in ? q->inlen : (int64_t)q->blen));
		if (strcmp(q->method, "PUT"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q->method);
	} else if (!strcmp(q->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body ? q->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(q->body ? q->blen : 0));
	}
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, ctx);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &q->status);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	*rcp = rc;
	if (rc == CURLE_OK)
		return 0;
	if (q->in_err)
		return q->in_err;
	if (rc == CURLE_ABORTED_BY_CALLBACK && dc__check_intr(ctx) < 0)
		return ctx->code;
	if (q->over)
		return dc_error(ctx, DC_ELIMIT,
				"%s: answer over the %zu-byte limit", g->label,
				q->cap);
	if (rc == CURLE_OUT_OF_MEMORY)
		return dc__enomem(ctx);
	return dc_error(ctx, DC_EIO, "%s: %s", g->label,
			errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/*
 * Q with retries, redirects (GET and HEAD) and one answer to a 401.
 * 0 with Q->status set: the caller judges the status.
 */
static int request(struct dc_reg *g, struct req *q)
{
	struct dc_ctx *ctx = q->ctx;
	int tries = 0, redirects = 0, authed = 0, err;
	int replay = !q->in;
	/* an upload URL on another host gets no credentials either */
	int nocred = !same_origin(q->url, g->base);
	CURLcode rc;

	for (;;) {
		if ((err = dc__check_intr(ctx)) < 0)
			return err;
		err = perform(g, q, nocred, &rc);
		if (err < 0) {
			if (replay && transient_curl(rc) &&
			    ++tries < DC_REG_MAX_TRIES) {
				backoff(tries);
				continue;
			}
			return err;
		}
		if (q->status == 401 && !authed && !nocred && replay &&
		    !q->noauth) {
			authed = 1;
			if ((err = authenticate(g, ctx, q->wwwauth, NULL)) < 0)
				return err;
			continue;
		}
		if (transient_status(q->status) && replay &&
		    ++tries < DC_REG_MAX_TRIES) {
			backoff(tries);
			continue;
		}
		if (q->status >= 300 && q->status < 400 && q->status != 304 &&
		    (!strcmp(q->method, "GET") || !strcmp(q->method, "HEAD"))) {
			char *next = NULL;

			if (!q->location[0])
				return dc_error(ctx, DC_EIO,
						"%s: redirect %ld without a Location",
						g->label, q->status);
			if (++redirects > DC_REG_MAX_REDIRECTS)
				return dc_error(ctx, DC_EIO,
						"%s: more than %d redirects (a redirect loop?)",
						g->label, DC_REG_MAX_REDIRECTS);
			if (url_resolve(q->url, q->location, &next) < 0 ||
			    strlen(next) >= sizeof(q->url)) {
				curl_free(next);
				return dc_error(ctx, DC_EIO,
						"%s: bad redirect Location", g->label);
			}
			/* credentials stay with the registry's own host */
			if (!same_origin(next, g->base))
				nocred = 1;
			snprintf(q->url, sizeof(q->url), "%s", next);
			curl_free(next);
			continue;
		}
		return 0;
	}
}

/* A message for an unexpected status: "WHAT: STATUS on HOST/REPO: body". */
static int status_error(struct dc_reg *g, struct req *q, int code,
			const char *what)
{
	char msg[512];

	dc__reg_err_body(&q->resp, msg, sizeof(msg));
	if (q->status == 401)
		return dc_error(q->ctx, DC_EIO,
				"401 on %s: authentication required%s%s",
				g->label, msg[0] ? ": " : "", msg);
	if (q->status == 403)
		return dc_error(q->ctx, DC_EIO,
				"403 on %s: access denied%s%s", g->label,
				msg[0] ? ": " : "", msg);
	return dc_error(q->ctx, code, "%s: %s answered %ld%s%s", what,
			g->label, q->status, msg[0] ? ": " : "", msg);
}

static void req_init(struct req *q, struct dc_reg *g, struct dc_ctx *ctx,
		     const char *method, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->ctx = ctx;
	q->cap = cap;
	(void)g;
}

/* ------------------------------------------------------------------ */
/* Auth */

static int b64enc(struct dc_ctx *ctx, const char *s, char **out)
{
	size_t n = strlen(s);
	char *p = dc__malloc(ctx, 4 * ((n + 2) / 3) + 1);

	*out = p;
	if (!p)
		return DC_ENOMEM;
	EVP_EncodeBlock((unsigned char *)p, (const unsigned char *)s, (int)n);
	return 0;
}

static void authz_set(struct dc_reg *g, char *az)
{
	pthread_mutex_lock(&g->mu);
	if (g->authz) {
		explicit_bzero(g->authz, strlen(g->authz));
		free(g->authz);
	}
	g->authz = az;
	pthread_mutex_unlock(&g->mu);
}

static int basic_authz(struct dc_reg *g, struct dc_ctx *ctx)
{
	struct dc_buf b = DC_BUF_INIT;
	char *enc = NULL;
	int err;

	if ((err = dc__buf_addf(ctx, &b, "%s:%s", g->user, g->pass)) < 0)
		return err;
	err = b64enc(ctx, b.data, &enc);
	explicit_bzero(b.data, b.len);
	dc__buf_release(&b);
	if (err < 0)
		return err;
	err = dc__buf_addf(ctx, &b, "Authorization: Basic %s", enc);
	explicit_bzero(enc, strlen(enc));
	free(enc);
	if (err < 0)
		return err;
	authz_set(g, dc__buf_detach(&b, NULL));
	return 0;
}

/* Append "&scope=S" unless S is there already. */
static int add_scope(struct dc_ctx *ctx, struct dc_buf *u, const char *s)
{
	char *e;
	int err;

	if (!s || !*s)
		return 0;
	if (!(e = curl_easy_escape(NULL, s, 0)))
		return dc__enomem(ctx);
	err = dc__buf_addf(ctx, u, "&scope=%s", e);
	curl_free(e);
	return err;
}

/* A bearer token from C's realm for our repository (and EXTRA). */
static int get_token(struct dc_reg *g, struct dc_ctx *ctx,
		     const struct dc_reg_chal *c, const char *extra)
{
	struct dc_buf u = DC_BUF_INIT, b = DC_BUF_INIT;
	struct dc_reg tmp;
	struct req q;
	char *svc = NULL, *tok = NULL, scope[600];
	int err;

	if (!c->realm || (strncmp(c->realm, "https://", 8) &&
			  strncmp(c->realm, "http://", 7)))
		return dc_error(ctx, DC_EIO,
				"%s: the registry's token realm is not an http(s) URL",
				g->label);
	if (!strncmp(c->realm, "http://", 7) && g->user && !g->insecure) {
		char o[320];

		if (url_origin(c->realm, o, sizeof(o)) < 0 ||
		    !dc__reg_host_loopback(strstr(o, "://") + 3))
			return dc_error(ctx, DC_EIO,
					"%s: the token realm is plain HTTP: no credentials sent there without --tls-verify=false",
					g->label);
	}
	snprintf(scope, sizeof(scope), "repository:%s:%s", g->repo,
		 g->push ? "pull,push" : "pull");
	if ((err = dc__buf_addf(ctx, &u, "%s%s", c->realm,
				strchr(c->realm, '?') ? "&" : "?")) < 0)
		goto out;
	if (c->service) {
		if (!(svc = curl_easy_escape(NULL, c->service, 0))) {
			err = dc__enomem(ctx);
			goto out;
		}
		if ((err = dc__buf_addf(ctx, &u, "service=%s", svc)) < 0)
			goto out;
	}
	if ((err = add_scope(ctx, &u, scope)) < 0 ||
	    (c->scope && strcmp(c->scope, scope) &&
	     (err = add_scope(ctx, &u, c->scope)) < 0) ||
	    (err = add_scope(ctx, &u, extra)) < 0)
		goto out;
	if (u.len >= sizeof(q.url)) {
		err = dc_error(ctx, DC_EIO, "%s: token realm URL too long",
			       g->label);
		goto out;
	}
	req_init(&q, g, ctx, "GET", DC_MAX_JSON);
	q.noauth = 1;	/* a token server asking for a token: no loop */
	snprintf(q.url, sizeof(q.url), "%s", u.data);
	/* the realm may be another host: basic credentials go there (as
	 * the registry asks), but no token of ours */
	tmp = *g;
	tmp.authz = NULL;
	snprintf(tmp.base, sizeof(tmp.base), "%s", c->realm);
	if (pthread_mutex_init(&tmp.mu, NULL)) {
		err = dc__enomem(ctx);
		goto out;
	}
	if (g->user && (err = basic_authz(&tmp, ctx)) < 0) {
		pthread_mutex_destroy(&tmp.mu);
		goto out;
	}
	err = request(&tmp, &q);
	authz_set(&tmp, NULL);
	pthread_mutex_destroy(&tmp.mu);
	if (err < 0)
		goto qout;
	if (q.status == 401 || q.status == 403) {
		err = dc_error(ctx, DC_EIO, "401 on %s: authentication required%s",
			       g->label, g->user ? " (the token server refused the credentials)" : "");
		goto qout;
	}
	if (q.status != 200) {
		err = dc_error(ctx, DC_EIO, "%s: token server answered %ld",
			       g->label, q.status);
		goto qout;
	}
	if ((err = dc__reg_token_parse(ctx, &q.resp, &tok)) < 0) {
		dc_error_prefix(ctx, "%s", g->label);
		goto qout;
	}
	if ((err = dc__buf_addf(ctx, &b, "Authorization: Bearer %s", tok)) < 0)
		goto qout;
	authz_set(g, dc__buf_detach(&b, NULL));
qout:
	req_release(&q);
out:
	if (tok) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	curl_free(svc);
	dc__buf_release(&u);
	return err;
}

/* Answer a 401 whose challenge is HEADER (or the one seen last). */
static int authenticate(struct dc_reg *g, struct dc_ctx *ctx,
			const char *header, const char *extra)
{
	struct dc_reg_chal c;
	int err;

	memset(&c, 0, sizeof(c));
	if (!header)
		return dc_error(ctx, DC_EIO,
				"401 on %s: authentication required", g->label);
	if ((err = dc__reg_chal_parse(ctx, &c, header)) < 0)
		return dc_error_prefix(ctx, "%s", g->label);
	if (!strcmp(c.scheme, "bearer"))
		err = get_token(g, ctx, &c, extra);
	else if (!strcmp(c.scheme, "basic") && g->user)
		err = basic_authz(g, ctx);
	else if (!strcmp(c.scheme, "basic"))
		err = dc_error(ctx, DC_EIO,
			       "401 on %s: authentication required (no credentials: --creds or an auth file)",
			       g->label);
	else
		err = dc_error(ctx, DC_EUNSUPPORTED,
			       "401 on %s: auth scheme '%s' is not supported",
			       g->label, c.scheme);
	dc__reg_chal_release(&c);
	return err;
}

/* ------------------------------------------------------------------ */
/* Setup: credentials, CAs, ping */

static int read_file(struct dc_ctx *ctx, const char *path, size_t cap,
		     struct dc_buf *out)
{
	char buf[65536];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return 1;
	while ((got = read(fd, buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = dc_error(ctx, DC_EIO, "'%s': %s", path, strerror(errno));
			break;
		}
		if (out->len + (size_t)got > cap) {
			err = dc_error(ctx, DC_ELIMIT, "'%s': over %zu bytes", path, cap);
			break;
		}
		if ((err = dc__buf_add(ctx, out, buf, (size_t)got)) < 0)
			break;
	}
	close(fd);
	return err;
}

/*
 * Credential helper HELPER's credentials for this registry, as Docker
 * asks them: "docker-credential-HELPER get" (from $PATH) with the
 * server's name on stdin, its JSON answer on stdout. 1 with g->user and
 * g->pass, 0 when it has none ("credentials not found"), or an error
 * that names the helper and quotes the first line of its stderr (the
 * CLI escapes it), never its stdout (the secret). Its output, and its
 * exit, are waited for HELPER_TIMEOUT_MS at most: then it is killed.
 */
#define HELPER_MAX_OUT (64u << 10)
#define HELPER_TIMEOUT_MS 60000
static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L +
	       (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

static int creds_from_helper(struct dc_reg *g, struct dc_ctx *ctx,
			     const char *helper)
{
	char prog[96], label[128], errmsg[160];
	const char *server = strcmp(g->name, "docker.io") ?
			     g->name : "https://index.docker.io/v1/";
	char *argv[] = { prog, (char *)"get", NULL };
	struct dc_buf out = DC_BUF_INIT, eb = DC_BUF_INIT;
	int in[2] = { -1, -1 }, op[2] = { -1, -1 }, ep[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	struct timespec t0;
	int err = 0, status = 0, fa_ok = 0, spawned = 0;
	pid_t pid = -1;
	size_t i;

	snprintf(prog, sizeof(prog), "docker-credential-%s", helper);
	snprintf(label, sizeof(label), "credential helper %s", prog);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0 ||
	    pipe2(ep, O_CLOEXEC) < 0) {
		err = dc_error(ctx, DC_EIO, "%s: pipe: %s", label,
			       strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa)) {
		err = dc__enomem(ctx);
		goto out;
	}
	fa_ok = 1;
	if (posix_spawn_file_actions_adddup2(&fa, in[0], 0) ||
	    posix_spawn_file_actions_adddup2(&fa, op[1], 1) ||
	    posix_spawn_file_actions_adddup2(&fa, ep[1], 2)) {
		err = dc__enomem(ctx);
		goto out;
	}
	if ((errno = posix_spawnp(&pid, prog, &fa, NULL, argv, environ))) {
		err = dc_error(ctx, DC_EIO,
			       "%s (named in the auth file for %s): %s",
			       label, g->name, strerror(errno));
		goto out;
	}
	spawned = 1;
	close(in[0]);
	close(op[1]);
	close(ep[1]);
	in[0] = op[1] = ep[1] = -1;
	/* the name is short: a pipe holds it whole. A helper gone already
	 * must not kill the caller with SIGPIPE (the CLI ignores it; a
	 * library caller may not): blocked on this thread, and a pending
	 * one taken back. */
	{
		sigset_t pipe_set, old;
		struct timespec zero = { 0, 0 };
		ssize_t wn;

		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
		wn = write(in[1], server, strlen(server));
		if (wn < 0 && errno == EPIPE)
			(void)sigtimedwait(&pipe_set, NULL, &zero);
		else if (wn < 0)
			err = dc_error(ctx, DC_EIO, "%s: %s", label,
				       strerror(errno));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (err < 0)
			goto out;
	}
	close(in[1]);
	in[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (op[0] >= 0 || ep[0] >= 0) {
		struct pollfd pf[2] = { { op[0], POLLIN, 0 }, { ep[0], POLLIN, 0 } };
		long left;
		char buf[4096];

		left = HELPER_TIMEOUT_MS - ms_since(&t0);
		if (left <= 0) {
			err = dc_error(ctx, DC_EIO, "%s: no answer in %d s",
				       label, HELPER_TIMEOUT_MS / 1000);
			goto out;
		}
		if (poll(pf, 2, (int)left) < 0) {
			if (errno == EINTR && !(err = dc__check_intr(ctx)))
				continue;
			if (!err)
				err = dc_error(ctx, DC_EIO, "%s: %s", label,
					       strerror(errno));
			goto out;
		}
		for (i = 0; i < 2; i++) {
			int *fd = i ? &ep[0] : &op[0];
			struct dc_buf *b = i ? &eb : &out;
			ssize_t n;

			if (*fd < 0 || !pf[i].revents)
				continue;
			n = read(*fd, buf, sizeof(buf));
			if (n <= 0) {
				close(*fd);
				*fd = -1;
				continue;
			}
			if (b->len + (size_t)n > HELPER_MAX_OUT) {
				err = dc_error(ctx, DC_ELIMIT,
					       "%s: more than %u KiB of answer",
					       label, HELPER_MAX_OUT >> 10);
				goto out;
			}
			if ((err = dc__buf_add(ctx, b, buf, (size_t)n)) < 0)
				goto out;
		}
	}
	/* its output is over; it has the rest of the time to exit */
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			err = dc_error(ctx, DC_EIO, "%s: %s", label,
				       strerror(errno));
			goto out;
		}
		if (ms_since(&t0) >= HELPER_TIMEOUT_MS) {
			err = dc_error(ctx, DC_EIO, "%s: did not exit in %d s",
				       label, HELPER_TIMEOUT_MS / 1000);
			goto out;
		}
		if ((err = dc__check_intr(ctx)) < 0)
			goto out;
		{
			struct timespec ts = { 0, 5000000 };	/* 5 ms */

			nanosleep(&ts, NULL);
		}
	}
	spawned = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		/* Docker's helpers say so on stdout, and exit 1 */
		if (out.len && memmem(out.data, out.len,
				      "credentials not found", 21)) {
			err = 0;
			goto out;
		}
		/* its first line (the CLI escapes what reaches a terminal) */
		for (i = 0; i < eb.len && i < sizeof(errmsg) - 1 &&
			    eb.data[i] != '\n' && eb.data[i] != '\0'; i++)
			errmsg[i] = eb.data[i];
		errmsg[i] = '\0';
		err = dc_error(ctx, DC_EIO, "%s failed (%s %d)%s%s", label,
			       WIFEXITED(status) ? "exit status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
			       WTERMSIG(status), errmsg[0] ? ": " : "", errmsg);
		goto out;
	}
	if ((err = dc__reg_helper_parse(ctx, &out, label, &g->user,
					&g->pass)) < 0)
		goto out;
	err = 1;
out:
	if (spawned) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	if (out.data)
		explicit_bzero(out.data, out.len);
	dc__buf_release(&out);
	dc__buf_release(&eb);
	return err;
}

static int creds_from_files(struct dc_reg *g, struct dc_ctx *ctx)
{
	const char *env, *home;
	char paths[3][1024];
	size_t n = 0, i;
	int err = 0;

	if (ctx->reg_auth_file)
		snprintf(paths[n++], sizeof(paths[0]), "%s", ctx->reg_auth_file);
	else if ((env = getenv("REGISTRY_AUTH_FILE")) && *env)
		snprintf(paths[n++], sizeof(paths[0]), "%s", env);
	if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
		snprintf(paths[n++], sizeof(paths[0]), "%s/containers/auth.json", env);
	if ((env = getenv("DOCKER_CONFIG")) && *env)
		snprintf(paths[n++], sizeof(paths[0]), "%s/config.json", env);
	else if ((home = getenv("HOME")) && *home)
		snprintf(paths[n++], sizeof(paths[0]), "%s/.docker/config.json", home);
	for (i = 0; i < n; i++) {
		struct dc_buf b = DC_BUF_INIT;

		err = read_file(ctx, paths[i], DC_MAX_JSON, &b);
		if (err == 0)
			err = dc__reg_auth_parse(ctx, &b, paths[i], g->name,
						 &g->user, &g->pass);
		if (b.data)
			explicit_bzero(b.data, b.len);
		dc__buf_release(&b);
		if (err == 2) {
			char *helper = g->user;

			g->user = NULL;
			err = creds_from_helper(g, ctx, helper);
			free(helper);
			if (err < 0)
				return dc_error_prefix(ctx, "'%s'", paths[i]);
			return 0;	/* the helper decides: none is none */
		}
		if (err < 0)
			return err;
		if (err == 1 && g->user)
			return 0;
	}
	return 0;
}

static int creds_setup(struct dc_reg *g, struct dc_ctx *ctx)
{
	const char *c = ctx->reg_creds, *colon;

	if (!c)
		return creds_from_files(g, ctx);
	colon = strchr(c, ':');
	if (!colon || colon == c)
		return dc_error(ctx, DC_EINVAL, "--creds: expected USER:PASSWORD");
	if (!(g->user = dc__calloc(ctx, 1, (size_t)(colon - c) + 1)) ||
	    !(g->pass = dc__strdup(ctx, colon + 1)))
		return DC_ENOMEM;
	memcpy(g->user, c, (size_t)(colon - c));
	return 0;
}

/*
 * DIR's client certificate, as containers/image and Docker's certs.d
 * keep it: NAME.cert with its key NAME.key (the first NAME in byte
 * order, when there are several). 0 with none.
 */
static int client_cert(struct dc_reg *g, struct dc_ctx *ctx, const char *dir)
{
	char best[256] = "", path[4096];
	struct dirent *de;
	DIR *d;

	if (!(d = opendir(dir)))
		return dc_error(ctx, DC_EINVAL, "--cert-dir '%s': %s", dir,
				strerror(errno));
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 5 && n < sizeof(best) &&
		    !strcmp(de->d_name + n - 5, ".cert") &&
		    (!best[0] || strcmp(de->d_name, best) < 0))
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	if (!best[0])
		return 0;
	best[strlen(best) - 5] = '\0';
	snprintf(path, sizeof(path), "%s/%s.key", dir, best);
	if (access(path, R_OK) < 0)
		return dc_error(ctx, DC_EINVAL,
				"--cert-dir '%s': %s.cert has no %s.key beside it",
				dir, best, best);
	if (!(g->key = dc__strdup(ctx, path)))
		return DC_ENOMEM;
	snprintf(path, sizeof(path), "%s/%s.cert", dir, best);
	if (!(g->cert = dc__strdup(ctx, path)))
		return DC_ENOMEM;
	return 0;
}

/* The system's CAs and DIR's *.crt as one PEM bundle. */
static int ca_setup(struct dc_reg *g, struct dc_ctx *ctx, const char *dir)
{
	struct dc_buf b = DC_BUF_INIT;
	char *def = NULL, path[4096];
	struct dirent *de;
	DIR *d;
	CURL *e;
	int err = 0;

	if (!(d = opendir(dir)))
		return dc_error(ctx, DC_EINVAL, "--cert-dir '%s': %s", dir,
				strerror(errno));
	if ((e = curl_easy_init())) {
		if (curl_easy_getinfo(e, CURLINFO_CAINFO, &def) == CURLE_OK &&
		    def && (err = read_file(ctx, def, 64u << 20, &b)) > 0)
			err = 0;
		curl_easy_cleanup(e);
	}
	while (!err && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".crt"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((err = dc__buf_add(ctx, &b, "\n", 1)) < 0 ||
		    (err = read_file(ctx, path, 1u << 20, &b)) < 0)
			break;
		err = 0;
	}
	closedir(d);
	if (err < 0) {
		dc__buf_release(&b);
		return err;
	}
	g->ca = dc__buf_detach(&b, &g->calen);
	return 0;
}

/* GET /v2/ on SCHEME (NULL: the one g->base has): 0 with the status in
 * *ST, or a transport error. */
static int ping(struct dc_reg *g, struct dc_ctx *ctx, const char *scheme,
		long *st, CURLcode *rc)
{
	struct req q;
	int err;

	if (scheme)
		snprintf(g->base, sizeof(g->base), "%s://%s", scheme, g->host);
	req_init(&q, g, ctx, "GET", DC_REG_MAX_ERRBODY);
	snprintf(q.url, sizeof(q.url), "%s/v2/", g->base);
	err = perform(g, &q, 0, rc);
	*st = q.status;
	if (!err && q.status == 401 && q.wwwauth) {
		dc__reg_chal_release(&g->chal);
		err = dc__reg_chal_parse(ctx, &g->chal, q.wwwauth);
		if (!err && !strcmp(g->chal.scheme, "bearer"))
			g->bearer = 1;
	}
	req_release(&q);
	return err;
}

int dc__reg_new(struct dc_ctx *ctx, const struct dc_reg_ref *ref, int push,
		struct dc_reg **out)
{
	struct dc_reg *g;
	int loop, err, tries = 0;
	long st = 0;
	CURLcode rc;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return dc_error(ctx, DC_EIO, "libcurl: %s",
				curl_easy_strerror(curl_init_rc));
	if (!(g = dc__calloc(ctx, 1, sizeof(*g))))
		return DC_ENOMEM;
	if (pthread_mutex_init(&g->mu, NULL)) {
		free(g);
		return dc__enomem(ctx);
	}
	g->ctx = ctx;
	g->push = push;
	g->insecure = ctx->reg_tls_off;
	snprintf(g->label, sizeof(g->label), "%s/%s", ref->name, ref->repo);
	err = DC_ENOMEM;
	if (!(g->host = dc__strdup(ctx, ref->host)) ||
	    !(g->name = dc__strdup(ctx, ref->name)) ||
	    !(g->repo = dc__strdup(ctx, ref->repo)))
		goto fail;
	if ((err = creds_setup(g, ctx)) < 0)
		goto fail;
	if (ctx->reg_cert_dir && !g->insecure &&
	    (err = ca_setup(g, ctx, ctx->reg_cert_dir)) < 0)
		goto fail;
	if (ctx->reg_cert_dir &&
	    (err = client_cert(g, ctx, ctx->reg_cert_dir)) < 0)
		goto fail;
	/*
	 * https, and plain http only for a loopback or insecure registry
	 * that does not speak TLS (as Docker treats localhost). A loopback
	 * registry is asked over plain http first: a TLS handshake that
	 * fails costs OpenSSL 3 some 30 ms of CPU to load the CA bundle,
	 * a tenth of a whole pull. A TLS registry answers that request 400
	 * ("HTTP request to an HTTPS server") or not at all; the ping has
	 * no credentials.
	 */
	loop = dc__reg_host_loopback(g->host);
	for (;;) {
		if (loop && ping(g, ctx, "http", &st, &rc) == 0 && st != 400)
			err = 0;
		else
			err = ping(g, ctx, "https", &st, &rc);
		if (err < 0 && (loop || g->insecure) &&
		    (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_GOT_NOTHING ||
		     rc == CURLE_RECV_ERROR))
			err = ping(g, ctx, "http", &st, &rc);
		if (err < 0 && transient_curl(rc) && ++tries < DC_REG_MAX_TRIES) {
			backoff(tries);
			continue;
		}
		if (!err && transient_status(st) && ++tries < DC_REG_MAX_TRIES) {
			backoff(tries);
			continue;
		}
		break;
	}
	if (err < 0)
		goto fail;
	if (st != 200 && st != 401) {
		err = dc_error(ctx, DC_EIO,
			       "%s: /v2/ answered %ld: not a registry?",
			       g->host, st);
		goto fail;
	}
	/* ask for a token up front: no 401 round trip per request. Basic
	 * credentials are tried on /v2/ at once: a push that compresses
	 * its layers first would otherwise learn that they are wrong (or
	 * missing) only when the first one is done. */
	if (st == 401 && g->bearer)
		err = get_token(g, ctx, &g->chal, NULL);
	else if (st == 401 && g->user &&
		 (err = basic_authz(g, ctx)) == 0 &&
		 (err = ping(g, ctx, NULL, &st, &rc)) == 0 && st == 401)
		err = dc_error(ctx, DC_EIO,
			       "401 on %s: authentication required (the registry refused the credentials)",
			       g->label);
	else if (st == 401 && !strcmp(g->chal.scheme, "basic"))
		err = dc_error(ctx, DC_EIO,
			       "401 on %s: authentication required (no credentials: --creds or an auth file)",
			       g->label);
	if (err < 0)
		goto fail;
	*out = g;
	return 0;
fail:
	dc__reg_free(g);
	return err;
}

void dc__reg_free(struct dc_reg *g)
{
	if (!g)
		return;
	authz_set(g, NULL);
	pthread_mutex_destroy(&g->mu);
	if (g->pass)
		explicit_bzero(g->pass, strlen(g->pass));
	free(g->pass);
	free(g->user);
	free(g->host);
	free(g->name);
	free(g->repo);
	free(g->ca);
	free(g->cert);
	free(g->key);
	free(g->mount_from);
	dc__reg_chal_release(&g->chal);
	free(g);
}

/* ------------------------------------------------------------------ */
/* Manifests and small blobs */

static int is_digest_ref(const char *ref)
{
	return !strncmp(ref, "sha256:", 7);
}

int dc__reg_get_manifest(struct dc_reg *g, struct dc_ctx *ctx,
			 const char *ref, struct dc_buf *raw, char **mt,
			 char digest[DC_DIGEST_MAX])
{
	struct req q;
	int err = 0;

	*mt = NULL;
	req_init(&q, g, ctx, "GET", DC_MAX_JSON);
	q.accept = DC_MT_OCI_MANIFEST ", " DC_MT_DOCKER_MANIFEST ", "
		   DC_MT_OCI_INDEX ", " DC_MT_DOCKER_LIST;
	snprintf(q.url, sizeof(q.url), "%s/v2/%s/manifests/%s", g->base,
		 g->repo, ref);
	if ((err = request(g, &q)) < 0) {
		if (err == DC_ELIMIT)
			err = dc_error(ctx, DC_ELIMIT,
				       "%s: manifest %s is over the %u-byte limit for metadata",
				       g->label, ref, DC_MAX_JSON);
		goto out;
	}
	if (q.status == 404) {
		err = dc_error(ctx, DC_EFORMAT, "manifest unknown: %s (on %s)",
			       ref, g->label);
		goto out;
	}
	if (q.status != 200) {
		err = status_error(g, &q, DC_EIO, "manifest GET");
		goto out;
	}
	dc__sha256_digest(q.resp.data ? q.resp.data : "", q.resp.len, digest);
	if (is_digest_ref(ref) && strcmp(digest, ref)) {
		err = dc_error(ctx, DC_EDIGEST,
			       "%s: manifest %s: digest mismatch: content is %s",
			       g->label, ref, digest);
		goto out;
	}
	{
		size_t n = strcspn(q.ctype_resp, "; ");

		q.ctype_resp[n] = '\0';
	}
	if (!(*mt = dc__strdup(ctx, q.ctype_resp))) {
		err = DC_ENOMEM;
		goto out;
	}
	*raw = q.resp;
	memset(&q.resp, 0, sizeof(q.resp));
out:
	req_release(&q);
	return err;
}

int dc__reg_get_blob(struct dc_reg *g, struct dc_ctx *ctx,
		     const char *digest, size_t cap, struct dc_buf *out)
{
	struct req q;
	int err;

	req_init(&q, g, ctx, "GET", cap);
	snprintf(q.url, sizeof(q.url), "%s/v2/%s/blobs/%s", g->base, g->repo,
		 digest);
	if ((err = request(g, &q)) < 0)
		goto out;
	if (q.status == 404) {
		err = dc_error(ctx, DC_ECORRUPT, "blob unknown: %s (on %s)",
			       digest, g->label);
		goto out;
	}
	if (q.status != 200) {
		err = status_error(g, &q, DC_EIO, "blob GET");
		goto out;
	}
	*out = q.resp;
	memset(&q.resp, 0, sizeof(q.resp));
out:
	req_release(&q);
	return err;
}

/* ------------------------------------------------------------------ */
/* Streamed blob GET: curl's multi interface pulled by read() through a
 * bounded buffer; a full buffer pauses the transfer */

#define BS_CAP (1u << 20)

struct bstream {
	struct dc_stream s;
	struct dc_reg *g;
	CURLM *m;
	CURL *e;
	struct curl_slist *h;
	char url[2048];
	char errbuf[CURL_ERROR_SIZE];
	struct req q;		/* headers of the answer, error bodies */
	char *buf;
	size_t off, len;
	int paused, running, finished, nocred, authed;
	int done;		/* the transfer ended with rc */
	CURLcode rc;
	int tries, redirects;
	uint64_t delivered;	/* bytes handed out: a retry resumes here */
	int resumed;		/* this transfer asked for a Range */
	int restarted;		/* a resume was answered from the start */
	/* a ranged GET: bytes [roff, roff+rlen) of a blob of TOTAL */
	int ranged;
	uint64_t roff, rlen, total;
	int checked;		/* the answer's range was checked */
	int badrange;		/* ... and was not the one asked: WHY */
	char why[256];
	char digest[DC_DIGEST_MAX];
};

/*
 * The first body bytes of answer ST to a transfer that asked for a
 * range (a part, or a resume at b->delivered): 0 if it is the range
 * asked, else -1 with the reason in b->why (b->restarted for a resume
 * answered from the start).
 */
static int bs_check_range(struct bstream *b, long st)
{
	uint64_t want = b->roff + b->delivered, s, e, t;
	uint64_t end = b->ranged ? b->roff + b->rlen - 1 : 0;
	curl_off_t cl = -1;

	if (st == 200) {
		if (!b->ranged) {
			b->restarted = 1;
			return -1;
		}
		snprintf(b->why, sizeof(b->why), "answered 200, not 206");
		return -1;
	}
	curl_easy_getinfo(b->e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (dc__reg_crange_parse(b->q.crange, &s, &e, &t) < 0 || s != want ||
	    (b->ranged && (e != end || t != b->total)) ||
	    (cl >= 0 && (uint64_t)cl != e - s + 1)) {
		char cr[64];
		size_t i;

		/* the registry's bytes, printable only */
		snprintf(cr, sizeof(cr), "%.60s", b->q.crange);
		for (i = 0; cr[i]; i++)
			if (cr[i] < ' ' || cr[i] > '~')
				cr[i] = '?';
		if (cl >= 0)
			snprintf(b->why, sizeof(b->why),
				 "answered 206 with Content-Range '%s' and Content-Length %lld",
				 cr, (long long)cl);
		else
			snprintf(b->why, sizeof(b->why),
				 "answered 206 with Content-Range '%s'", cr);
		return -1;
	}
	return 0;
}

static size_t bs_body(char *p, size_t sz, size_t n, void *arg)
{
	struct bstream *b = arg;
	size_t len = sz * n;
	long st = 0;

	curl_easy_getinfo(b->e, CURLINFO_RESPONSE_CODE, &st);
	if (st != 200 && st != 206) {
		if (b->q.resp.len + len <= DC_REG_MAX_ERRBODY)
			(void)dc__buf_add(NULL, &b->q.resp, p, len);
		return len;
	}
	if (!b->checked && (b->ranged || b->resumed)) {
		b->checked = 1;
		if (bs_check_range(b, st) < 0) {
			b->badrange = !b->restarted;
			return 0;	/* stop: CURLE_WRITE_ERROR */
		}
	}
	if (b->ranged && b->delivered + (b->len - b->off) + len > b->rlen) {
		snprintf(b->why, sizeof(b->why), "sent more than the range");
		b->badrange = 1;
		return 0;
	}
	if (b->off) {
		memmove(b->buf, b->buf + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (BS_CAP - b->len < len) {
		b->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	return sz * n;
}

static void bs_stop(struct bstream *b)
{
	if (b->e) {
		curl_multi_remove_handle(b->m, b->e);
		curl_easy_cleanup(b->e);
		b->e = NULL;
	}
	curl_slist_free_all(b->h);
	b->h = NULL;
}

static int bs_start(struct bstream *b)
{
	struct dc_ctx *ctx = b->s.ctx;
	char range[64];

	bs_stop(b);
	req_release(&b->q);
	b->q.location[0] = b->q.ctype_resp[0] = '\0';
	b->paused = b->finished = b->done = b->checked = 0;
	range[0] = '\0';
	b->resumed = b->delivered > 0;
	if (b->ranged)
		snprintf(range, sizeof(range), "Range: bytes=%llu-%llu",
			 (unsigned long long)(b->roff + b->delivered),
			 (unsigned long long)(b->roff + b->rlen - 1));
	else if (b->delivered)
		snprintf(range, sizeof(range), "Range: bytes=%llu-",
			 (unsigned long long)b->delivered);
	if (!(b->e = easy_new(b->g, b->url, b->errbuf)) ||
	    !(b->h = headers(b->g, b->nocred, NULL, NULL,
			     range[0] ? range : NULL)))
		return dc__enomem(ctx);
	curl_easy_setopt(b->e, CURLOPT_HTTPHEADER, b->h);
	curl_easy_setopt(b->e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(b->e, CURLOPT_HEADERDATA, &b->q);
	curl_easy_setopt(b->e, CURLOPT_WRITEFUNCTION, bs_body);
	curl_easy_setopt(b->e, CURLOPT_WRITEDATA, b);
	if (curl_multi_add_handle(b->m, b->e) != CURLM_OK)
		return dc__enomem(ctx);
	b->running = 1;
	return 0;
}

/* The answer was not the range asked: DC_EUNSUPPORTED for a part's
 * first answer (the caller takes the blob whole; G asks for no range
 * again), DC_EIO for a resume. */
static int range_error(struct bstream *b)
{
	struct dc_ctx *ctx = b->s.ctx;

	if (!b->ranged || b->delivered)
		return dc_error(ctx, DC_EIO,
				"%s: blob %s: the resume at byte %llu was %s",
				b->g->label, b->digest,
				(unsigned long long)(b->roff + b->delivered),
				b->why);
	__atomic_store_n(&b->g->norange, 1, __ATOMIC_RELAXED);
	return dc_error(ctx, DC_EUNSUPPORTED,
			"%s: blob %s: the request for bytes %llu-%llu was %s",
			b->g->label, b->digest, (unsigned long long)b->roff,
			(unsigned long long)(b->roff + b->rlen - 1), b->why);
}

/* The transfer ended with RC: go on (0 and a new transfer, or the end
 * with b->finished), or fail. */
static int bs_done(struct bstream *b, CURLcode rc)
{
	struct dc_ctx *ctx = b->s.ctx;
	struct dc_reg *g = b->g;
	long st = 0;
	int err;

	curl_easy_getinfo(b->e, CURLINFO_RESPONSE_CODE, &st);
	b->q.status = st;
	if (b->badrange)
		return range_error(b);
	if (b->restarted)
		return dc_error(ctx, DC_EIO,
				"%s: blob %s: the download broke off after %llu bytes, and the registry answered the resume from the start",
				g->label, b->digest,
				(unsigned long long)b->delivered);
	if (rc != CURLE_OK) {
		if (transient_curl(rc) && ++b->tries < DC_REG_MAX_TRIES) {
			backoff(b->tries);
			return bs_start(b);	/* resumes at b->delivered */
		}
		return dc_error(ctx, DC_EIO, "%s: blob %s: %s", g->label,
				b->digest, b->errbuf[0] ? b->errbuf :
				curl_easy_strerror(rc));
	}
	if (st == 200 || st == 206) {
		if (b->ranged && b->delivered != b->rlen)
			return dc_error(ctx, DC_EIO,
					"%s: blob %s: bytes %llu-%llu: the answer ended after %llu bytes",
					g->label, b->digest,
					(unsigned long long)b->roff,
					(unsigned long long)(b->roff + b->rlen - 1),
					(unsigned long long)b->delivered);
		b->finished = 1;
		return 0;
	}
	if (st == 401 && !b->authed && !b->nocred) {
		b->authed = 1;
		if ((err = authenticate(g, ctx, b->q.wwwauth, NULL)) < 0)
			return err;
		return bs_start(b);
	}
	if (transient_status(st) && ++b->tries < DC_REG_MAX_TRIES) {
		backoff(b->tries);
		return bs_start(b);
	}
	if (st >= 300 && st < 400 && b->q.location[0]) {
		char *next = NULL;

		if (++b->redirects > DC_REG_MAX_REDIRECTS)
			return dc_error(ctx, DC_EIO,
					"%s: more than %d redirects (a redirect loop?)",
					g->label, DC_REG_MAX_REDIRECTS);
		if (url_resolve(b->url, b->q.location, &next) < 0 ||
		    strlen(next) >= sizeof(b->url)) {
			curl_free(next);
			return dc_error(ctx, DC_EIO, "%s: bad redirect Location",
					g->label);
		}
		if (!same_origin(next, g->base)) {
			b->nocred = 1;
			if (b->ranged) {
				curl_free(next);
				snprintf(b->why, sizeof(b->why),
					 "redirected to another host");
				return range_error(b);
			}
		}
		snprintf(b->url, sizeof(b->url), "%s", next);
		curl_free(next);
		return bs_start(b);
	}
	if (st == 404)
		return dc_error(ctx, DC_ECORRUPT, "blob unknown: %s (on %s)",
				b->digest, g->label);
	if (b->ranged && !b->delivered && st >= 400 && st < 500 &&
	    st != 401 && st != 403 && st != 429) {
		snprintf(b->why, sizeof(b->why), "answered %ld", st);
		return range_error(b);	/* 416, 400: ranges not understood */
	}
	b->q.ctx = ctx;
	return status_error(g, &b->q, DC_EIO, "blob GET");
}

/* Until bytes are buffered or the blob is over: 0, or an error. */
static int bs_fill(struct bstream *b)
{
	struct dc_stream *s = &b->s;
	int err;

	for (;;) {
		if (b->len > b->off)
			return 0;
		b->off = b->len = 0;
		if (b->finished)
			return 0;
		if ((err = dc__check_intr(s->ctx)) < 0)
			return err;
		if (b->paused) {
			b->paused = 0;
			curl_easy_pause(b->e, CURLPAUSE_CONT);
			continue;
		}
		if (b->done) {
			/* the answer is over and all of it handed out */
			b->done = 0;
			if ((err = bs_done(b, b->rc)) < 0)
				return err;
			continue;
		}
		{
			int running = 0, left;
			CURLMsg *msg;

			if (curl_multi_perform(b->m, &running) != CURLM_OK)
				return dc_error(s->ctx, DC_EIO, "%s: libcurl failed",
						b->g->label);
			while ((msg = curl_multi_info_read(b->m, &left)))
				if (msg->msg == CURLMSG_DONE && msg->easy_handle == b->e) {
					b->done = 1;
					b->rc = msg->data.result;
				}
			if (b->len > b->off || b->done || b->paused)
				continue;
			curl_multi_poll(b->m, NULL, 0, 1000, NULL);
		}
	}
}

static ssize_t bs_read(struct dc_stream *s, void *out, size_t n)
{
	struct bstream *b = (struct bstream *)s;
	size_t k;
	int err;

	if ((err = bs_fill(b)) < 0)
		return err;
	k = b->len - b->off < n ? b->len - b->off : n;
	memcpy(out, b->buf + b->off, k);
	b->off += k;
	b->delivered += k;
	return (ssize_t)k;
}

static void bs_close(struct dc_stream *s)
{
	struct bstream *b = (struct bstream *)s;

	bs_stop(b);
	if (b->m)
		curl_multi_cleanup(b->m);
	req_release(&b->q);
	free(b->buf);
	free(b);
}

static int open_blob(struct dc_reg *g, struct dc_ctx *ctx, const char *digest,
		     struct bstream **out)
{
	struct bstream *b;

	*out = NULL;
	if (!(b = dc__calloc(ctx, 1, sizeof(*b))))
		return DC_ENOMEM;
	b->s.ctx = ctx;
	b->s.read = bs_read;
	b->s.close = bs_close;
	b->g = g;
	b->q.ctx = ctx;
	snprintf(b->digest, sizeof(b->digest), "%s", digest);
	snprintf(b->url, sizeof(b->url), "%s/v2/%s/blobs/%s", g->base, g->repo,
		 digest);
	if (!(b->buf = dc__malloc(ctx, BS_CAP)) || !(b->m = curl_multi_init())) {
		bs_close(&b->s);
		return dc__enomem(ctx);
	}
	*out = b;
	return 0;
}

int dc__reg_open_blob(struct dc_reg *g, struct dc_ctx *ctx,
		      const char *digest, struct dc_stream **out)
{
	struct bstream *b;
	int err;

	*out = NULL;
	if ((err = open_blob(g, ctx, digest, &b)) < 0)
		return err;
	if ((err = bs_start(b)) < 0) {
		bs_close(&b->s);
		return err;
	}
	*out = &b->s;
	return 0;
}

int dc__reg_open_blob_range(struct dc_reg *g, struct dc_ctx *ctx,
			    const char *digest, uint64_t size, uint64_t off,
			    uint64_t len, struct dc_stream **out)
{
	struct bstream *b;
	int err;

	*out = NULL;
	if (!len || off + len > size)
		DC_BUG("range %llu+%llu of a %llu-byte blob",
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)size);
	if (__atomic_load_n(&g->norange, __ATOMIC_RELAXED))
		return dc_error(ctx, DC_EUNSUPPORTED,
				"%s: blob %s: the registry did not serve a range before",
				g->label, digest);
	if ((err = open_blob(g, ctx, digest, &b)) < 0)
		return err;
	b->ranged = 1;
	b->roff = off;
	b->rlen = len;
	b->total = size;
	/* the answer's first bytes say whether it is the range asked */
	if ((err = bs_start(b)) < 0 || (err = bs_fill(b)) < 0) {
		bs_close(&b->s);
		return err;
	}
	*out = &b->s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Push */

int dc__reg_blob_exists(struct dc_reg *g, const char *digest)
{
	struct req q;
	int err;

	req_init(&q, g, g->ctx, "HEAD", DC_REG_MAX_ERRBODY);
	snprintf(q.url, sizeof(q.url), "%s/v2/%s/blobs/%s", g->base, g->repo,
		 digest);
	if ((err = request(g, &q)) == 0) {
		if (q.status == 200)
			err = 1;
		else if (q.status != 404)
			err = status_error(g, &q, DC_EIO, "blob HEAD");
	}
	req_release(&q);
	return err;
}

/* POST an upload (with QUERY): the status, and the Location into LOC. */
static int upload_post(struct dc_reg *g, struct dc_ctx *ctx,
		       const char *query, struct req *q)
{
	req_init(q, g, ctx, "POST", DC_REG_MAX_ERRBODY);
	snprintf(q->url, sizeof(q->url), "%s/v2/%s/blobs/uploads/%s", g->base,
		 g->repo, query);
	return request(g, q);
}

/* The upload URL of answer Q (its Location resolved against its URL),
 * with KV added to its query when KV is set, into URL. */
static int upload_url(struct dc_reg *g, struct dc_ctx *ctx,
		      const struct req *q, const char *kv, char *url, size_t n)
{
	char *abs = NULL, *u = NULL;
	int bad;

	bad = !q->location[0] || url_resolve(q->url, q->location, &abs) < 0 ||
	      (kv && url_add_query(abs, kv, &u) < 0);
	if (!bad && strlen(u ? u : abs) >= n)
		bad = 1;
	if (!bad)
		snprintf(url, n, "%s", u ? u : abs);
	curl_free(abs);
	curl_free(u);
	if (bad)
		return dc_error(ctx, DC_EIO,
				"blob upload rejected: %s gave a bad upload URL",
				g->label);
	return 0;
}

int dc__reg_blob_mount(struct dc_reg *g, const char *digest, const char *from)
{
	struct dc_buf qs = DC_BUF_INIT;
	struct req q;
	char *f;
	int err;

	/* a token for this repository may not read FROM: ask for one that
	 * does (a refusal is no error: the blob is then uploaded) */
	if (g->bearer && (!g->mount_from || strcmp(g->mount_from, from))) {
		char scope[600];

		free(g->mount_from);
		if (!(g->mount_from = dc__strdup(g->ctx, from)))
			return DC_ENOMEM;
		snprintf(scope, sizeof(scope), "repository:%s:pull", from);
		if (get_token(g, g->ctx, &g->chal, scope) == DC_ENOMEM)
			return DC_ENOMEM;
	}
	if (!(f = curl_easy_escape(NULL, from, 0)))
		return dc__enomem(g->ctx);
	err = dc__buf_addf(g->ctx, &qs, "?mount=%s&from=%s", digest, f);
	curl_free(f);
	if (err < 0)
		return err;
	err = upload_post(g, g->ctx, qs.data, &q);
	dc__buf_release(&qs);
	if (err == 0)
		err = q.status == 201;	/* 202: refused, an upload began */
	req_release(&q);
	return err;
}

/* Read all of IN (SIZE bytes, DIGEST) into MEM. */
static int read_small(struct dc_ctx *ctx, struct dc_stream *in,
		      const char *digest, int64_t size, struct dc_buf *mem)
{
	char buf[65536];
	ssize_t got;
	int err;

	while ((got = dc__stream_read(in, buf, sizeof(buf))) > 0) {
		if (mem->len + (size_t)got > (size_t)size)
			return dc_error(ctx, DC_EDIGEST,
					"blob %s: more than the %lld bytes expected",
					digest, (long long)size);
		if ((err = dc__buf_add(ctx, mem, buf, (size_t)got)) < 0)
			return err;
	}
	return got < 0 ? (int)got : 0;
}

/*
 * A small blob goes up in one PUT from memory (POST, then PUT with the
 * body: retried like any request); a large one is streamed in one
 * PATCH without a Content-Range (the distribution API's streamed
 * upload), straight from IN without spooling, then closed with an
 * empty PUT naming its digest.
 */
int dc__reg_put_blob(struct dc_reg *g, struct dc_ctx *ctx,
		     struct dc_stream *in, const char *digest, int64_t size)
{
	struct dc_buf mem = DC_BUF_INIT;
	struct req q, p, f;
	char kv[128];
	int err, small = size >= 0 && size <= (int64_t)DC_REG_SMALL_BLOB;

	memset(&p, 0, sizeof(p));
	memset(&f, 0, sizeof(f));
	snprintf(kv, sizeof(kv), "digest=%s", digest);
	if ((err = upload_post(g, ctx, "", &q)) < 0)
		goto out;
	if (q.status != 202 || !q.location[0]) {
		err = status_error(g, &q, DC_EIO, "blob upload rejected: POST");
		goto out;
	}
	if (small) {
		/* from memory, so that it can be sent again */
		req_init(&p, g, ctx, "PUT", DC_REG_MAX_ERRBODY);
		if ((err = upload_url(g, ctx, &q, kv, p.url, sizeof(p.url))) < 0 ||
		    (err = read_small(ctx, in, digest, size, &mem)) < 0)
			goto out;
		p.body = mem.data ? mem.data : "";
		p.blen = mem.len;
		if (ctx->progress && mem.len)
			ctx->progress(ctx->progress_arg, mem.len, 0, 0, 0);
	} else {
		req_init(&f, g, ctx, "PATCH", DC_REG_MAX_ERRBODY);
		if ((err = upload_url(g, ctx, &q, NULL, f.url, sizeof(f.url))) < 0)
			goto out;
		f.ctype = "application/octet-stream";
		f.in = in;
		f.inlen = size;
		if ((err = request(g, &f)) < 0)
			goto out;
		if (f.status != 202 && f.status != 204) {
			err = status_error(g, &f, DC_EIO,
					   "blob upload rejected: PATCH");
			goto out;
		}
		req_init(&p, g, ctx, "PUT", DC_REG_MAX_ERRBODY);
		if ((err = upload_url(g, ctx, f.location[0] ? &f : &q, kv,
				      p.url, sizeof(p.url))) < 0)
			goto out;
		p.body = "";
		p.blen = 0;
	}
	p.ctype = "application/octet-stream";
	if ((err = request(g, &p)) < 0)
		goto out;
	if (p.status != 201) {
		err = status_error(g, &p, DC_EIO, "blob upload rejected: PUT");
		goto out;
	}
out:
	dc__buf_release(&mem);
	req_release(&q);
	req_release(&p);
	req_release(&f);
	return err;
}

int dc__reg_put_manifest(struct dc_reg *g, const char *ref, const char *mt,
			 const void *p, size_t n)
{
	struct req q;
	int err;

	req_init(&q, g, g->ctx, "PUT", DC_REG_MAX_ERRBODY);
	snprintf(q.url, sizeof(q.url), "%s/v2/%s/manifests/%s", g->base,
		 g->repo, ref);
	q.ctype = mt;
	q.body = p;
	q.blen = n;
	if ((err = request(g, &q)) == 0 && q.status != 201)
		err = status_error(g, &q, DC_EIO, "manifest upload rejected: PUT");
	req_release(&q);
	return err;
}
