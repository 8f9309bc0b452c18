/*
 * Source and destination arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char *const formats[] = {
	"dir", "docker-archive", "docker-legacy", "oci", "oci-archive", "rootfs",
	NULL
};

/* The format named by the N bytes at S, or NULL: no copy to allocate. */
static const char *known(const char *s, size_t n)
{
	int i;

	for (i = 0; formats[i]; i++)
		if (strlen(formats[i]) == n && !strncmp(formats[i], s, n))
			return formats[i];
	return NULL;
}

void split_src(const char *arg, const char **fmt, const char **path)
{
	const char *colon = strchr(arg, ':');

	*fmt = NULL;
	*path = arg;
	if (colon && (*fmt = known(arg, (size_t)(colon - arg))))
		*path = colon + 1;
}

int split_dest(const char *arg, const char **fmt, const char **path)
{
	const char *colon = strchr(arg, ':');

	*fmt = NULL;
	*path = NULL;
	if (!strncmp(arg, "docker://", 9)) {
		if (!arg[9])
			return usage_error("'%s': no registry and repository after docker://",
					   arg);
		*fmt = "docker";
		*path = arg + 9;
		return 0;
	}
	if (!colon)
		return usage_error("'%s': DEST must be FORMAT:PATH (e.g. oci:./out)",
				   arg);
	if (!known(arg, (size_t)(colon - arg)))
		return usage_error("'%.*s': unknown output format (dir, docker-archive, docker-legacy, oci, oci-archive, rootfs)",
				   (int)(colon - arg), arg);
	if (!colon[1])
		return usage_error("'%s': no path after the format", arg);
	*fmt = known(arg, (size_t)(colon - arg));
	*path = colon + 1;
	return 0;
}

int source_open(struct cli *c, const char *arg, struct dc_reader **r)
{
	const char *fmt, *path;

	*r = NULL;
	split_src(arg, &fmt, &path);
	c->src_label = path;
	/* registry sources and destinations */
	if (dc_ctx_set_registry(c->ctx, &c->reg) < 0)
		return DC_ENOMEM;
	return dc_reader_open(c->ctx, r, path, fmt);
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

int open_source(struct cli *c, const char *arg, struct dc_reader **r,
		struct dc_set **set)
{
	int err;

	*set = NULL;
	if ((err = source_open(c, arg, r)) < 0)
		return err;
	return source_load(c, r, set);
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
	const char *arg = argv[optind - 1];

	if (missing_value)
		return usage_error("%s: option '%s' needs a value", argv[0], arg);
	return usage_error("%s: unknown option '%s'", argv[0], arg);
}
