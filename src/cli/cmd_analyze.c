/*
 * decant analyze [--json | --html FILE] [--files] [--fail-on RULES]
 *                [--rules FILE] SRC
 * Exit 0, 1 (broken input), 2 (usage) or 3 (a --fail-on rule failed).
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

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
	const struct dc_an_image *img = arg;
	int64_t x = dc_an_entry_size(dc_an_image_entry(img, *(const size_t *)a));
	int64_t y = dc_an_entry_size(dc_an_image_entry(img, *(const size_t *)b));

	if (x != y)
		return x > y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* The largest files hidden by a later layer. */
static void print_hidden(const struct dc_an_image *img)
{
	size_t ne = dc_an_image_entry_count(img);
	size_t *idx = malloc((ne + 1) * sizeof(*idx)), i, n = 0;

	if (!idx)
		return;
	for (i = 0; i < ne; i++) {
		const struct dc_an_entry *e = dc_an_image_entry(img, i);
		char t = dc_an_entry_type(e);

		if (dc_an_entry_fate(e) != DC_AN_VISIBLE && t != 'd' &&
		    t != 'w' && t != 'q')
			idx[n++] = i;
	}
	qsort_r(idx, n, sizeof(*idx), larger, (void *)img);
	for (i = 0; i < n && i < TOP; i++) {
		const struct dc_an_entry *e = dc_an_image_entry(img, idx[i]);

		printf("    layer %-3d %-10s /%s (%s in layer %d)\n",
		       dc_an_entry_layer(e), SZ((uint64_t)dc_an_entry_size(e)),
		       dc_an_entry_path(e), dc_an_entry_fate(e) == DC_AN_DELETED ?
		       "deleted" : "overwritten", dc_an_entry_hidden_by(e));
	}
	if (n > TOP)
		printf("    ... %zu more (--json lists them all)\n", n - TOP);
	free(idx);
}

/* "N / SIZE" of layer LY's changes of kind WHAT. */
static const char *changes(char *buf, size_t n, const struct dc_an_layer *ly,
			   enum dc_an_change what)
{
	uint64_t files, bytes;

	dc_an_layer_changes(ly, what, &files, &bytes);
	snprintf(buf, n, "%" PRIu64 " / %s", files, SZ(bytes));
	return buf;
}

static void print_image(const struct dc_an_image *img, size_t ii)
{
	size_t i, nl = dc_an_image_layer_count(img), nw, ndup, ns;
	uint64_t wasted = dc_an_image_wasted_bytes(img), files, bytes, lt, st;
	char p1[32];
	int exact;

	printf("\nimage @%zu  %s\n", ii, dc_an_image_id(img));
	printf("  tags:       ");
	for (i = 0; i < dc_an_image_tag_count(img); i++)
		printf("%s%s", i ? ", " : "", dc_an_image_tag(img, i));
	printf("%s\n", dc_an_image_tag_count(img) ? "" : "(none)");
	pct(p1, sizeof(p1), dc_an_image_user_wasted(img));
	printf("  efficiency: %.4f   wasted: %s (%" PRIu64 " B)   user wasted: %s\n",
	       dc_an_image_efficiency(img), SZ(wasted), wasted, p1);
	printf("  layers:\n    %-3s %-10s %-10s %-16s %-16s %-16s %s\n", "#",
	       "COMPRESSED", "TAR", "ADDED", "MODIFIED", "REMOVED", "CREATED BY");
	for (i = 0; i < nl; i++) {
		const struct dc_an_layer *l = dc_an_image_layer(img, i);
		const char *cb = dc_an_layer_created_by(l);
		char a[32], m[32], r[32];

		printf("    %-3zu %-10s %-10s %-16s %-16s %-16s ", i,
		       SZ((uint64_t)dc_an_layer_compressed(l)),
		       SZ((uint64_t)dc_an_layer_tar_bytes(l)),
		       changes(a, sizeof(a), l, DC_AN_ADDED),
		       changes(m, sizeof(m), l, DC_AN_MODIFIED),
		       changes(r, sizeof(r), l, DC_AN_REMOVED));
		one_line(cb ? cb : "-", 60);
		putchar('\n');
	}
	if ((nw = dc_an_image_waste_count(img))) {
		printf("  top wasted paths (copies in several layers):\n"
		       "    %-6s %-10s %s\n", "COPIES", "BYTES", "PATH");
		for (i = 0; i < nw && i < TOP; i++) {
			const char *path;
			uint32_t count;

			dc_an_image_waste(img, i, &path, &count, &bytes);
			printf("    %-6u %-10s %s\n", count, SZ(bytes), path);
		}
		if (nw > TOP)
			printf("    ... %zu more\n", nw - TOP);
	}
	dc_an_image_hidden(img, &files, &bytes);
	printf("  hidden but shipped: %" PRIu64 " files, %s (deleted or "
	       "overwritten in a later layer)\n", files, SZ(bytes));
	print_hidden(img);
	dc_an_image_duplicates(img, &ndup, &bytes);
	printf("  duplicate contents: %zu, %s in copies beyond the first\n",
	       ndup, SZ(bytes));
	exact = dc_an_image_squash(img, &lt, &st);
	printf("  squash would save: %s (layers %s, squashed %s%s)\n",
	       SZ(lt - st), SZ(lt), SZ(st), exact ? "" : ", an estimate");
	ns = dc_an_image_secret_count(img);
	printf("  secrets: %zu\n", ns);
	for (i = 0; i < ns; i++) {
		const struct dc_an_secret *s = dc_an_image_secret(img, i);
		const char *where = dc_an_secret_where(s);

		printf("    %-20s %-7s ", dc_an_secret_kind(s), where);
		if (dc_an_secret_layer(s) >= 0)
			printf("%s %d ", !strcmp(where, "history") ? "entry" :
			       "layer", dc_an_secret_layer(s));
		printf("%s  %s%s\n", dc_an_secret_path(s),
		       dc_an_secret_redacted(s), dc_an_secret_visible(s) ? "" :
		       "  (deleted, still shipped)");
	}
}

struct verdicts {
	FILE *f;
	int quiet;
};

static void print_verdict(void *arg, const char *rule, const char *threshold,
			  int failed, const char *msg)
{
	struct verdicts *v = arg;

	if (failed || !v->quiet)
		fprintf(v->f, "  %s: %s: %s%s%s\n", failed ? "FAIL" : "PASS",
			rule, threshold, failed ? ": " : "", msg ? msg : "");
}

/* The verdicts of RULES on every image of A, printed to F (only the
 * failed ones with QUIET): 1 if one failed. */
static int check_rules(const struct dc_an_rules *rules,
		       const struct dc_analysis *a, FILE *f, int quiet)
{
	struct verdicts v = { f, quiet };
	size_t i;
	int failed = 0;

	for (i = 0; i < dc_analysis_count(a); i++)
		failed |= dc_an_rules_check(rules, dc_analysis_image(a, i),
					    print_verdict, &v) > 0;
	return failed;
}

static int to_file(void *arg, const void *p, size_t n)
{
	return fwrite(p, 1, n, arg) == n ? 0 : -1;
}

/* The HTML page to PATH, which appears only complete: written under a
 * temporary name. EXIT_OK or EXIT_FAIL (said why). */
static int write_html(struct cli *c, const struct dc_analysis *a,
		      const char *path)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 16);
	FILE *f = NULL;
	int err = DC_EIO, ok;

	if (tmp) {
		snprintf(tmp, pl + 16, "%s.tmp-%ld", path, (long)getpid());
		f = fopen(tmp, "w");
	}
	if (f) {
		err = dc_analysis_html(c->ctx, a, to_file, f);
		ok = (fclose(f) == 0) && err >= 0;
		if (ok && rename(tmp, path) == 0) {
			free(tmp);
			return EXIT_OK;
		}
		unlink(tmp);
	}
	free(tmp);
	if (err < 0 && err != DC_EIO)
		return fail(c);
	fprintf(stderr, "decant: error: '%s': cannot write\n", path);
	return EXIT_FAIL;
}

int cmd_analyze(struct cli *c, int argc, char **argv)
{
	struct dc_an_rules *rules = NULL;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_analysis *rep = NULL;
	const char *html = NULL;
	int json = 0, files = 0, any_rule = 0, opt, ret = EXIT_OK;
	size_t i;

	if (dc_an_rules_new(c->ctx, &rules) < 0)
		return fail(c);
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
			if (dc_an_rules_parse(c->ctx, rules, optarg) < 0) {
				ret = usage_error("--fail-on: %s",
						  dc_ctx_errmsg(c->ctx));
				goto out;
			}
			any_rule = 1;
			break;
		case OPT_RULES:
			if (dc_an_rules_file(c->ctx, rules, optarg) < 0) {
				ret = usage_error("--rules: %s",
						  dc_ctx_errmsg(c->ctx));
				goto out;
			}
			any_rule = 1;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'h':
			print_usage(stdout);
			goto out;
		default:
			ret = bad_option(argv, opt == ':');
			goto out;
		}
	}
	if (argc - optind != 1)
		ret = usage_error("analyze needs exactly one SRC");
	else if (json && html)
		ret = usage_error("analyze: --json and --html exclude each other");
	else if (files && !json)
		ret = usage_error("analyze: --files is for --json");
	if (ret != EXIT_OK)
		goto out;
	if (open_source(c, argv[optind], &r, &set) < 0 ||
	    dc_analyze(r, set, &rep) < 0) {
		ret = fail(c);
		goto out;
	}
	if (json) {
		/* the verdicts go to stderr: stdout is the JSON */
		if (any_rule && check_rules(rules, rep, stderr, c->quiet))
			ret = EXIT_RULE;
		if (dc_analysis_json(c->ctx, rep, any_rule ? rules : NULL,
				     files ? DC_AN_JSON_FILES : 0, to_file,
				     stdout) < 0)
			ret = fail(c);
		goto out;
	}
	if (html) {
		if ((ret = write_html(c, rep, html)) != EXIT_OK)
			goto out;
		if (!c->quiet)
			printf("%s: written\n", html);
		if (any_rule && check_rules(rules, rep, stdout, c->quiet))
			ret = EXIT_RULE;
		goto out;
	}
	printf("source:  %s (%s), %zu image%s\n", c->src_label,
	       dc_analysis_format(rep), dc_analysis_count(rep),
	       dc_analysis_count(rep) == 1 ? "" : "s");
	for (i = 0; i < dc_analysis_count(rep); i++)
		print_image(dc_analysis_image(rep, i), i);
	if (any_rule) {
		printf("\nrules:\n");
		if (check_rules(rules, rep, stdout, 0))
			ret = EXIT_RULE;
	}
out:
	dc_analysis_free(rep);
	dc_an_rules_free(rules);
	dc_set_free(set);
	dc_reader_free(r);
	return ret;
}
