/*
 * Helpers for the unit tests: byte buffers, a tar builder, compression
 * and small image fixtures built in memory.
 */
#include "unit.h"

#include <dirent.h>
#include <stdarg.h>
#include <unistd.h>

void *unit_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "unit: out of memory\n");
		abort();
	}
	return p;
}

void ubuf_add(struct ubuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) {
			fprintf(stderr, "unit: out of memory\n");
			abort();
		}
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void ubuf_addstr(struct ubuf *b, const char *s)
{
	ubuf_add(b, s, strlen(s));
}

void ubuf_addf(struct ubuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *tmp;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	tmp = unit_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ubuf_add(b, tmp, (size_t)n);
	free(tmp);
}

void ubuf_free(struct ubuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------ */
/* Tar builder */

static void octal(unsigned char *p, size_t n, uint64_t v)
{
	p[--n] = '\0';
	while (n--) {
		p[n] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
}

void tarb_header(struct ubuf *t, const char *prefix, const char *name,
		 char type, uint64_t size, const char *link)
{
	unsigned char h[512];
	unsigned sum = 0;
	int i;

	memset(h, 0, sizeof(h));
	memcpy(h, name, strnlen(name, 100));
	octal(h + 100, 8, type == '5' ? 0755 : 0644);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size);
	octal(h + 136, 12, 946684800);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257, "ustar\0" "00", 8);
	if (prefix)
		memcpy(h + 345, prefix, strnlen(prefix, 155));
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	octal(h + 148, 7, sum);
	ubuf_add(t, h, sizeof(h));
}

void tarb_data(struct ubuf *t, const void *p, size_t n)
{
	static const unsigned char zero[512];

	ubuf_add(t, p, n);
	if (n % 512)
		ubuf_add(t, zero, 512 - n % 512);
}

void tarb_file(struct ubuf *t, const char *name, const void *p, size_t n)
{
	tarb_header(t, NULL, name, '0', n, NULL);
	tarb_data(t, p, n);
}

void tarb_str(struct ubuf *t, const char *name, const char *s)
{
	tarb_file(t, name, s, strlen(s));
}

void tarb_dir(struct ubuf *t, const char *name)
{
	tarb_header(t, NULL, name, '5', 0, NULL);
}

void tarb_symlink(struct ubuf *t, const char *name, const char *target)
{
	tarb_header(t, NULL, name, '2', 0, target);
}

void tarb_hardlink(struct ubuf *t, const char *name, const char *target)
{
	tarb_header(t, NULL, name, '1', 0, target);
}

void tarb_gnu_long(struct ubuf *t, char type, const char *longname)
{
	size_t n = strlen(longname) + 1;	/* GNU tar counts the NUL */

	tarb_header(t, NULL, "././@LongLink", type, n, NULL);
	tarb_data(t, longname, n);
}

void tarb_pax(struct ubuf *t, const char *key, const char *value)
{
	struct ubuf rec = { 0 };
	size_t base = strlen(key) + strlen(value) + 3, len = base;

	for (;;) {
		char tmp[32];
		size_t d = (size_t)snprintf(tmp, sizeof(tmp), "%zu", len);

		if (base + d == len)
			break;
		len = base + d;
	}
	ubuf_addf(&rec, "%zu %s=%s\n", len, key, value);
	tarb_header(t, NULL, "PaxHeaders/x", 'x', rec.len, NULL);
	tarb_data(t, rec.p, rec.len);
	ubuf_free(&rec);
}

void tarb_end(struct ubuf *t)
{
	static const unsigned char zero[1024];

	ubuf_add(t, zero, sizeof(zero));
}

/* ------------------------------------------------------------------ */

void unit_random(void *p, size_t n, uint32_t seed)
{
	unsigned char *b = p;
	uint32_t x = seed ? seed : 0x9e3779b9u;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)(x >> 24);
	}
}

static int sink_ubuf(void *arg, const void *p, size_t n)
{
	ubuf_add(arg, p, n);
	return 0;
}

void unit_compress(enum dc_comp c, const void *p, size_t n, struct ubuf *out)
{
	struct dc_ctx *ctx;
	struct dc_enc *e = NULL;

	if (dc_ctx_new(&ctx) < 0 || dc__enc_new(ctx, &e, c, 0, 0) < 0 ||
	    dc__enc_push(e, p, n, sink_ubuf, out) < 0 ||
	    dc__enc_finish(e, sink_ubuf, out) < 0) {
		fprintf(stderr, "unit: compression failed\n");
		abort();
	}
	dc__enc_free(e);
	dc_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Image fixtures */

void fx_layer_make(struct fx_layer *l, const char *file, const char *text,
		   enum dc_comp comp)
{
	struct ubuf tar = { 0 };

	memset(l, 0, sizeof(*l));
	tarb_str(&tar, file, text);
	tarb_end(&tar);
	dc__sha256_digest(tar.p, tar.len, l->diff_id);
	if (comp == DC_COMP_NONE) {
		l->blob = tar;
	} else {
		unit_compress(comp, tar.p, tar.len, &l->blob);
		ubuf_free(&tar);
	}
	dc__sha256_digest(l->blob.p, l->blob.len, l->digest);
}

void fx_layer_free(struct fx_layer *l)
{
	ubuf_free(&l->blob);
}

void fx_config(struct ubuf *out, const struct fx_layer *l, size_t n,
	       const char *override_diff_id)
{
	size_t i;

	ubuf_addstr(out, "{\"architecture\":\"amd64\",\"os\":\"linux\","
			 "\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
	for (i = 0; i < n; i++)
		ubuf_addf(out, "%s\"%s\"", i ? "," : "",
			  override_diff_id && i == 0 ? override_diff_id :
			  l[i].diff_id);
	ubuf_addstr(out, "]}}");
}

static const char *layer_mt(const struct fx_layer *l)
{
	switch (dc__comp_sniff(l->blob.p, l->blob.len)) {
	case DC_COMP_GZIP: return "application/vnd.oci.image.layer.v1.tar+gzip";
	case DC_COMP_ZSTD: return "application/vnd.oci.image.layer.v1.tar+zstd";
	default: return "application/vnd.oci.image.layer.v1.tar";
	}
}

static void blob_member(struct ubuf *t, const char *digest, const void *p,
			size_t n)
{
	char name[128];

	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	tarb_file(t, name, p, n);
}

void fx_oci_tar(struct ubuf *t, const struct fx_layer *l, size_t n,
		const struct fx_oci *o)
{
	static const struct fx_oci defaults;
	struct ubuf cfg = { 0 }, man = { 0 }, idx = { 0 }, ann = { 0 };
	char cfg_d[DC_DIGEST_MAX], man_d[DC_DIGEST_MAX];
	size_t i;

	if (!o)
		o = &defaults;
	fx_config(&cfg, l, n, o->bad_diff_id);
	dc__sha256_digest(cfg.p, cfg.len, cfg_d);
	ubuf_addf(&man, "{\"schemaVersion\":2,"
		  "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		  "\"digest\":\"%s\",\"size\":%zu},\"layers\":[", cfg_d, cfg.len);
	for (i = 0; i < n; i++)
		ubuf_addf(&man, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
			  i ? "," : "", layer_mt(&l[i]), l[i].digest,
			  l[i].blob.len);
	ubuf_addstr(&man, "]}");
	dc__sha256_digest(man.p, man.len, man_d);

	if (o->ref_name || o->containerd_name) {
		ubuf_addstr(&ann, ",\"annotations\":{");
		if (o->containerd_name)
			ubuf_addf(&ann, "\"io.containerd.image.name\":\"%s\"%s",
				  o->containerd_name, o->ref_name ? "," : "");
		if (o->ref_name)
			ubuf_addf(&ann, "\"org.opencontainers.image.ref.name\":\"%s\"",
				  o->ref_name);
		ubuf_addstr(&ann, "}");
	}
	ubuf_addf(&idx, "{\"schemaVersion\":2,%s\"manifests\":[{"
		  "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		  "\"digest\":\"%s\",\"size\":%zu%s}]}",
		  o->no_index_mediatype ? "" :
		  "\"mediaType\":\"application/vnd.oci.image.index.v1+json\",",
		  man_d, man.len, ann.p ? (char *)ann.p : "");

	tarb_str(t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	tarb_file(t, "index.json", idx.p, idx.len);
	tarb_dir(t, "blobs/");
	tarb_dir(t, "blobs/sha256/");
	blob_member(t, cfg_d, cfg.p, cfg.len);
	blob_member(t, man_d, man.p, man.len);
	for (i = 0; i < n; i++) {
		if (o->corrupt_layer && i == (size_t)o->corrupt_layer - 1) {
			unsigned char *c = unit_xmalloc(l[i].blob.len);

			memcpy(c, l[i].blob.p, l[i].blob.len);
			c[l[i].blob.len - 1] ^= 0x55;
			blob_member(t, l[i].digest, c, l[i].blob.len);
			free(c);
		} else {
			blob_member(t, l[i].digest, l[i].blob.p, l[i].blob.len);
		}
	}
	if (o->manifest_json) {
		struct ubuf mj = { 0 };

		ubuf_addf(&mj, "[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[",
			  cfg_d + 7);
		if (o->repo_tag)
			ubuf_addf(&mj, "\"%s\"", o->repo_tag);
		ubuf_addstr(&mj, "],\"Layers\":[");
		for (i = 0; i < n; i++)
			ubuf_addf(&mj, "%s\"blobs/sha256/%s\"", i ? "," : "",
				  l[i].digest + 7);
		ubuf_addstr(&mj, "]}]");
		tarb_file(t, "manifest.json", mj.p, mj.len);
		ubuf_free(&mj);
	}
	tarb_end(t);
	ubuf_free(&cfg);
	ubuf_free(&man);
	ubuf_free(&idx);
	ubuf_free(&ann);
}

void fx_docker_tar(struct ubuf *t, const struct fx_layer *l, size_t n,
		   int legacy, const char *repo_tag)
{
	struct ubuf cfg = { 0 }, mj = { 0 };
	char cfg_d[DC_DIGEST_MAX], name[256];
	size_t i;

	fx_config(&cfg, l, n, NULL);
	dc__sha256_digest(cfg.p, cfg.len, cfg_d);
	snprintf(name, sizeof(name), "%s.json", cfg_d + 7);
	tarb_file(t, name, cfg.p, cfg.len);
	ubuf_addf(&mj, "[{\"Config\":\"%s\",\"RepoTags\":[", name);
	if (repo_tag)
		ubuf_addf(&mj, "\"%s\"", repo_tag);
	ubuf_addstr(&mj, "],\"Layers\":[");
	for (i = 0; i < n; i++) {
		if (legacy)
			snprintf(name, sizeof(name), "%064zu/layer.tar", i);
		else
			snprintf(name, sizeof(name), "%s.tar%s", l[i].digest + 7,
				 dc__comp_sniff(l[i].blob.p, l[i].blob.len) ==
				 DC_COMP_GZIP ? ".gz" : "");
		if (legacy) {
			char dir[128];

			snprintf(dir, sizeof(dir), "%064zu/", i);
			tarb_dir(t, dir);
		}
		tarb_file(t, name, l[i].blob.p, l[i].blob.len);
		ubuf_addf(&mj, "%s\"%s\"", i ? "," : "", name);
	}
	ubuf_addstr(&mj, "]}]");
	tarb_file(t, "manifest.json", mj.p, mj.len);
	tarb_end(t);
	ubuf_free(&cfg);
	ubuf_free(&mj);
}

void fx_dir_tar(struct ubuf *t, const struct fx_layer *l, size_t n)
{
	struct ubuf cfg = { 0 }, man = { 0 };
	char cfg_d[DC_DIGEST_MAX];
	size_t i;

	fx_config(&cfg, l, n, NULL);
	dc__sha256_digest(cfg.p, cfg.len, cfg_d);
	ubuf_addf(&man, "{\"schemaVersion\":2,"
		  "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		  "\"digest\":\"%s\",\"size\":%zu},\"layers\":[", cfg_d, cfg.len);
	for (i = 0; i < n; i++)
		ubuf_addf(&man, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
			  i ? "," : "", layer_mt(&l[i]), l[i].digest,
			  l[i].blob.len);
	ubuf_addstr(&man, "]}");
	tarb_str(t, "version", "Directory Transport Version: 1.1\n");
	tarb_file(t, "manifest.json", man.p, man.len);
	tarb_file(t, cfg_d + 7, cfg.p, cfg.len);
	for (i = 0; i < n; i++)
		tarb_file(t, l[i].digest + 7, l[i].blob.p, l[i].blob.len);
	tarb_end(t);
	ubuf_free(&cfg);
	ubuf_free(&man);
}

/* ------------------------------------------------------------------ */
/* Writing round trips */

int rt_setup(struct rt *t, const char *format)
{
	struct fx_oci opt = { .ref_name = "example.com/app:v1" };

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/decant-unit-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->dest, sizeof(t->dest), "%s/out.%s", t->dir, format);
	fx_layer_make(&t->l[0], "a", "gzip layer", DC_COMP_GZIP);
	fx_layer_make(&t->l[1], "b", "plain layer", DC_COMP_NONE);
	fx_oci_tar(&t->tar, t->l, 2, &opt);
	return 0;
}

void rt_free(struct rt *t)
{
	dc__rm_rf(t->dir);
	fx_layer_free(&t->l[0]);
	fx_layer_free(&t->l[1]);
	ubuf_free(&t->tar);
}

/* Entries in DIR other than "." and "..". */
int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

int write_from_memory(struct dc_ctx *ctx, const struct rt *t,
			     const char *format, const struct dc_write_opts *o)
{
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	int err;

	if ((err = dc_reader_open_memory(ctx, &r, t->tar.p, t->tar.len)) == 0 &&
	    (err = dc_reader_load(r, &set)) == 0)
		err = dc_write(ctx, r, set, format, t->dest, o);
	dc_set_free(set);
	dc_reader_free(r);
	return err;
}
