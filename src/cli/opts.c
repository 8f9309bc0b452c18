/*
 * Source and destination arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int source_open(struct cli *c, const char *arg, struct dc_reader **r)
{
	struct imgarg a;
	int err;

	*r = NULL;
	if (parse_src(arg, &a) != 0) {
		c->usage_failed = 1;	/* said why already */
		return -1;
	}
	err = source_open_arg(c, &a, r);
	arg_release(&a);
	return err;
}

int source_open_arg(struct cli *c, const struct imgarg *a,
		    struct dc_reader **r)
{
	*r = NULL;
	c->src_label = a->path;
	if (!strcmp(a->path, "-") && isatty(0)) {
		fprintf(stderr, "decant: error: SRC is - (standard input), which is a terminal; pipe an archive in (e.g. docker save IMAGE | decant ...) or name a file\n");
		c->usage_failed = 1;
		return -1;
	}
	/* registry sources and destinations */
	if (dc_ctx_set_registry(c->ctx, &c->reg) < 0)
		return DC_ENOMEM;
	return dc_reader_open(c->ctx, r, a->path, a->fmt);
}

int source_load(struct cli *c, struct dc_reader **r, struct dc_set **set)
{
	int err;

	(void)c;
	*set = NULL;
	if ((err = dc_reader_load(*r, set)) < 0) {
		dc_reader_free(*r);
		*r = NULL;
	}
	return err;
}

static void blame_part(void *arg, const char *part, const char *msg)
{
	(void)arg;
	fprintf(stderr, "decant: error: %s: %s\n", esc(part), esc(msg));
}

void blame_parts(struct cli *c, char *const *args, size_t n)
{
	int code = dc_ctx_errcode(c->ctx);
	size_t i;

	if (code != DC_ECORRUPT && code != DC_EDIGEST)
		return;
	for (i = 0; i < n; i++) {
		struct imgarg a;

		if (parse_src(args[i], &a) != 0)
			continue;
		if (dc_split_check(c->ctx, a.path, blame_part, NULL) < 0)
			fprintf(stderr, "decant: error: %s\n",
				esc(dc_ctx_errmsg(c->ctx)));
		arg_release(&a);
	}
}

int open_source(struct cli *c, const char *arg, struct dc_reader **r,
		struct dc_set **set)
{
	int err;

	*set = NULL;
	if ((err = source_open(c, arg, r)) < 0)
		return err;
	return source_load(c, r, set);
}

int open_source_delta(struct cli *c, const char *arg, struct dc_reader **r,
		      struct dc_set **set, struct dc_inventory **delta)
{
	struct dc_inventory *d = NULL;
	int err;

	*set = NULL;
	if (delta)
		*delta = NULL;
	if ((err = source_open(c, arg, r)) < 0)
		return err;
	if ((err = dc_reader_delta(*r, &d)) < 0) {
		dc_reader_free(*r);
		*r = NULL;
		return err;
	}
	if (d)
		dc_reader_allow_absent(*r);
	if ((err = source_load(c, r, set)) < 0 || !delta)
		dc_inventory_free(d);
	else
		*delta = d;
	return err;
}

int opt_registry(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CREDS:
		if (!strchr(arg, ':') || *arg == ':')
			return usage_error("--creds: expected USER:PASSWORD");
		c->reg.creds = arg;
		return 0;
	case OPT_TLS_VERIFY:
		if (!arg || !strcmp(arg, "true"))
			c->reg.tls_verify = 1;
		else if (!strcmp(arg, "false"))
			c->reg.tls_verify = 0;
		else
			return usage_error("--tls-verify='%s': expected true or false",
					   arg);
		return 0;
	case OPT_CERT_DIR:
		c->reg.cert_dir = arg;
		return 0;
	case OPT_AUTHFILE:
		c->reg.auth_file = arg;
		return 0;
	}
	return 1;
}

/* SIZE: digits and an optional K, M or G (binary: KiB, MiB, GiB) */
int opt_max_memory(struct cli *c, const char *arg)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (end != arg && *end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: shift = -1; break;
		}
		if (shift > 0 && end[1] && strcmp(end + 1, "iB") &&
		    strcmp(end + 1, "B"))
			shift = -1;
	}
	if (end == arg || *arg == '-' || errno || shift < 0 ||
	    v > (1ull << 40) >> shift || (v << shift) < (1ull << 20))
		return usage_error("--max-memory '%s': expected a size from 1M to 1024G (e.g. 256M)",
				   arg);
	dc_ctx_set_max_memory(c->ctx, (uint64_t)v << shift);
	return 0;
}

int bad_option(char **argv, int missing_value)
{
	return bad_option_in(argv, missing_value, NULL);
}

int bad_option_in(char **argv, int missing_value, const struct option *opts)
{
	const char *arg = argv[optind - 1], *near = NULL, *names[64];
	size_t n = 0, len;

	if (missing_value)
		return usage_error("%s: option '%s' needs a value", argv[0], arg);
	if (opts && !strncmp(arg, "--", 2)) {
		for (; opts->name && n + 1 < sizeof(names) / sizeof(*names); opts++)
			names[n++] = opts->name;
		names[n] = NULL;
		len = strcspn(arg + 2, "=");
		near = suggest_n(arg + 2, len, names);
	}
	if (near)
		return usage_error("%s: unknown option '%s'; did you mean '--%s'?",
				   argv[0], arg, near);
	return usage_error("%s: unknown option '%s'", argv[0], arg);
}

void size_str(char *buf, size_t n, int64_t v)
{
	const char *u[] = { "B", "kB", "MB", "GB", "TB" };
	double d = (double)v;
	int i = 0;

	while (d >= 1000 && i < 4) {
		d /= 1000;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}
