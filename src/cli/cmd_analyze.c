/*
 * decant analyze [--json | --html FILE] [--files] [--fail-on RULES]
 *                [--rules FILE] SRC
 * Exit 0, 1 (broken input), 2 (usage) or 3 (a --fail-on rule failed).
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "analyze/analyze.h"

enum { EXIT_RULE = 3 };
enum { OPT_JSON = 256, OPT_HTML, OPT_FILES, OPT_FAIL_ON, OPT_RULES };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "files", no_argument, NULL, OPT_FILES },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* A size for printing: one of 8 rotating buffers, for one printf. */
static const char *SZ(uint64_t v)
{
	static char sz[8][32];
	static unsigned i;

	i = (i + 1) % 8;
	size_str(sz[i], sizeof(sz[i]), (int64_t)v);
	return sz[i];
}

static void pct(char *buf, size_t n, double v)
{
	if (isfinite(v))
		snprintf(buf, n, "%.2f %%", v * 100);
	else
		snprintf(buf, n, "n/a");
}

/* One line of S: at most N bytes, control characters as spaces. */
static void one_line(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i < n; i++)
		putchar((unsigned char)s[i] < ' ' ? ' ' : s[i]);
	if (s[i])
		fputs("...", stdout);
}

#define TOP 10

static int larger(const void *a, const void *b, void *arg)
{
	const struct dc_an_entry *ent = arg;
	int64_t x = ent[*(const size_t *)a].size;
	int64_t y = ent[*(const size_t *)b].size;

	if (x != y)
		return x > y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* The largest files hidden by a later layer. */
static void print_hidden(const struct dc_an_image *img)
{
	size_t *idx = malloc((img->nent + 1) * sizeof(*idx)), i, n = 0;

	if (!idx)
		return;
	for (i = 0; i < img->nent; i++) {
		const struct dc_an_entry *e = &img->ent[i];

		if (e->fate != AN_VISIBLE && e->type != AN_DIR &&
		    e->type != AN_WHITEOUT && e->type != AN_OPAQUE)
			idx[n++] = i;
	}
	qsort_r(idx, n, sizeof(*idx), larger, img->ent);
	for (i = 0; i < n && i < TOP; i++) {
		const struct dc_an_entry *e = &img->ent[idx[i]];

		printf("    layer %-3d %-10s /%s (%s in layer %d)\n", e->layer,
		       SZ((uint64_t)e->size), e->path, e->fate == AN_DELETED ?
		       "deleted" : "overwritten", e->hidden_by);
	}
	if (n > TOP)
		printf("    ... %zu more (--json lists them all)\n", n - TOP);
	free(idx);
}

static void print_image(const struct dc_an_image *img, size_t ii)
{
	static const char *const wheres[] = { "file", "env", "label", "history" };
	char p1[32];
	size_t i;

	printf("\nimage @%zu  %s\n", ii, img->id);
	printf("  tags:       ");
	for (i = 0; i < img->ntags; i++)
		printf("%s%s", i ? ", " : "", img->tags[i]);
	printf("%s\n", img->ntags ? "" : "(none)");
	pct(p1, sizeof(p1), img->user_wasted_percent);
	printf("  efficiency: %.4f   wasted: %s (%" PRIu64 " B)   user wasted: %s\n",
	       img->efficiency, SZ(img->wasted_bytes), img->wasted_bytes, p1);
	printf("  layers:\n    %-3s %-10s %-10s %-16s %-16s %-16s %s\n", "#",
	       "COMPRESSED", "TAR", "ADDED", "MODIFIED", "REMOVED", "CREATED BY");
	for (i = 0; i < img->nlayers; i++) {
		const struct dc_an_layer *l = &img->layers[i];
		char a[32], m[32], r[32];

		snprintf(a, sizeof(a), "%" PRIu64 " / %s", l->added_files, SZ(l->added_bytes));
		snprintf(m, sizeof(m), "%" PRIu64 " / %s", l->modified_files, SZ(l->modified_bytes));
		snprintf(r, sizeof(r), "%" PRIu64 " / %s", l->removed_files, SZ(l->removed_bytes));
		printf("    %-3zu %-10s %-10s %-16s %-16s %-16s ", i,
		       SZ(l->compressed), SZ(l->tar_bytes), a, m, r);
		one_line(l->created_by ? l->created_by : "-", 60);
		putchar('\n');
	}
	if (img->nwaste) {
		printf("  top wasted paths (copies in several layers):\n"
		       "    %-6s %-10s %s\n", "COPIES", "BYTES", "PATH");
		for (i = 0; i < img->nwaste && i < TOP; i++)
			printf("    %-6u %-10s %s\n", img->waste[i].count,
			       SZ(img->waste[i].bytes), img->waste[i].path);
		if (img->nwaste > TOP)
			printf("    ... %zu more\n", img->nwaste - TOP);
	}
	printf("  hidden but shipped: %" PRIu64 " files, %s (deleted or "
	       "overwritten in a later layer)\n", img->hidden_files,
	       SZ(img->hidden_bytes));
	print_hidden(img);
	printf("  duplicate contents: %zu, %s in copies beyond the first\n",
	       img->ndups, SZ(img->dup_bytes));
	printf("  squash would save: %s (layers %s, squashed %s%s)\n",
	       SZ(img->layers_tar_bytes - img->squash_tar_bytes),
	       SZ(img->layers_tar_bytes), SZ(img->squash_tar_bytes),
	       img->squash_exact ? "" : ", an estimate");
	printf("  secrets: %zu\n", img->nsecrets);
	for (i = 0; i < img->nsecrets; i++) {
		const struct dc_an_secret *s = &img->secrets[i];

		printf("    %-20s %-7s ", s->kind, wheres[s->where]);
		if (s->layer >= 0)
			printf("%s %d ", s->where == AN_IN_HISTORY ? "entry" :
			       "layer", s->layer);
		printf("%s  %s%s\n", s->path, s->redacted,
		       s->visible ? "" : "  (deleted, still shipped)");
	}
}

static int eval_rules(const struct dc_an_rules *rules, int any,
		      const struct dc_an_report *rep, json_t *j, int quiet)
{
	int failed = 0;
	size_t i;
	int n;

	if (!any)
		return 0;
	for (i = 0; i < rep->n; i++) {
		json_t *a = json_array();

		for (n = 0; n < AN_NRULES; n++) {
			char msg[256] = "";
			int f;

			if (!rules->set[n])
				continue;
			f = dc__an_rule_eval(rules, n, &rep->img[i], msg, sizeof(msg));
			failed |= f;
			json_array_append_new(a, json_pack("{sssssssi}",
				"rule", dc__an_rule_names[n],
				"threshold", rules->text[n],
				"status", f ? "fail" : "pass",
				"image", (int)i));
			if (f)
				json_object_set_new(json_array_get(a, json_array_size(a) - 1),
						    "message", json_string(msg));
			if (f || !quiet)
				fprintf(j ? stderr : stdout, "  %s: %s: %s%s%s\n",
					f ? "FAIL" : "PASS", dc__an_rule_names[n],
					rules->text[n], f ? ": " : "", msg);
		}
		if (j)
			json_object_set_new(json_array_get(json_object_get(j, "images"), i),
					    "rules", a);
		else
			json_decref(a);
	}
	return failed;
}

/* S without its closing brace (and what follows it). */
static void put_open(const char *s)
{
	const char *end = strrchr(s, '}');

	fwrite(s, 1, end ? (size_t)(end - s) : strlen(s), stdout);
}

/*
 * J (the report without files), with every image's files printed an
 * entry at a time: a JSON tree of them all would take ten times the
 * bytes of its text.
 */
static int print_json_files(json_t *j, const struct dc_an_report *rep)
{
	json_t *imgs = json_incref(json_object_get(j, "images"));
	size_t i, k;
	char *s;

	json_object_del(j, "images");
	if (!(s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		goto fail;
	put_open(s);
	free(s);
	fputs(",\n  \"images\": [\n", stdout);
	for (i = 0; i < rep->n; i++) {
		const struct dc_an_image *img = &rep->img[i];

		if (!(s = json_dumps(json_array_get(imgs, i),
				     JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
			goto fail;
		put_open(s);
		free(s);
		fputs(",\n  \"files\": [\n", stdout);
		for (k = 0; k < img->nent; k++) {
			json_t *e = dc__analyze_entry_json(&img->ent[k], 1);

			s = e ? json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
			json_decref(e);
			if (!s)
				goto fail;
			printf("    %s%s\n", s, k + 1 < img->nent ? "," : "");
			free(s);
		}
		printf("  ]\n}%s\n", i + 1 < rep->n ? "," : "");
	}
	fputs("]\n}\n", stdout);
	json_decref(imgs);
	return EXIT_OK;
fail:
	json_decref(imgs);
	fputs("decant: error: out of memory\n", stderr);
	return EXIT_FAIL;
}

/* FILE appears only complete: written under a temporary name. */
static int write_file(const char *path, const char *data, size_t n)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 16);
	FILE *f;
	int ok;

	if (!tmp)
		return -1;
	snprintf(tmp, pl + 16, "%s.tmp-%ld", path, (long)getpid());
	if (!(f = fopen(tmp, "w"))) {
		free(tmp);
		return -1;
	}
	ok = fwrite(data, 1, n, f) == n;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int cmd_analyze(struct cli *c, int argc, char **argv)
{
	struct dc_an_rules rules;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_an_report *rep = NULL;
	const char *html = NULL;
	json_t *j = NULL;
	int json = 0, files = 0, any_rule = 0, opt, ret = EXIT_OK, i;

	memset(&rules, 0, sizeof(rules));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_HTML:
			html = optarg;
			break;
		case OPT_FILES:
			files = 1;
			break;
		case OPT_FAIL_ON:
			if (dc__an_rules_parse(c->ctx, &rules, optarg) < 0)
				return usage_error("--fail-on: %s",
						   dc_ctx_errmsg(c->ctx));
			any_rule = 1;
			break;
		case OPT_RULES:
			if (dc__an_rules_file(c->ctx, &rules, optarg) < 0)
				return usage_error("--rules: %s",
						   dc_ctx_errmsg(c->ctx));
			any_rule = 1;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'h':
			print_usage(stdout);
			return EXIT_OK;
		default:
			return bad_option(argv, opt == ':');
		}
	}
	if (argc - optind != 1)
		return usage_error("analyze needs exactly one SRC");
	if (json && html)
		return usage_error("analyze: --json and --html exclude each other");
	if (files && !json)
		return usage_error("analyze: --files is for --json");
	if (open_source(c, argv[optind], &r, &set) < 0)
		return fail(c);
	if (dc__analyze(r, set, &rep) < 0) {
		ret = fail(c);
		goto out;
	}
	if (json) {
		char *s;

		if (dc__analyze_json(c->ctx, rep, 0, &j) < 0) {
			ret = fail(c);
			goto out;
		}
		if (eval_rules(&rules, any_rule, rep, j, c->quiet))
			ret = EXIT_RULE;
		if (files) {
			int r2 = print_json_files(j, rep);

			if (r2 != EXIT_OK)
				ret = r2;
			goto out;
		}
		if (!(s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
			ret = EXIT_FAIL;
			goto out;
		}
		puts(s);
		free(s);
		goto out;
	}
	if (html) {
		struct dc_buf b = DC_BUF_INIT;

		if (dc__analyze_html(c->ctx, rep, &b) < 0) {
			dc__buf_release(&b);
			ret = fail(c);
			goto out;
		}
		if (write_file(html, b.data, b.len) < 0) {
			fprintf(stderr, "decant: error: '%s': cannot write\n", html);
			dc__buf_release(&b);
			ret = EXIT_FAIL;
			goto out;
		}
		dc__buf_release(&b);
		if (!c->quiet)
			printf("%s: written\n", html);
		if (eval_rules(&rules, any_rule, rep, NULL, c->quiet))
			ret = EXIT_RULE;
		goto out;
	}
	printf("source:  %s (%s), %zu image%s\n", c->src_label, rep->format,
	       rep->n, rep->n == 1 ? "" : "s");
	for (i = 0; i < (int)rep->n; i++)
		print_image(&rep->img[i], (size_t)i);
	if (any_rule)
		printf("\nrules:\n");
	if (eval_rules(&rules, any_rule, rep, NULL, 0))
		ret = EXIT_RULE;
out:
	json_decref(j);
	dc__analyze_free(rep);
	dc_set_free(set);
	dc_reader_free(r);
	return ret;
}
