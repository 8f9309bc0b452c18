/*
 * SRC and DEST arguments in skopeo's syntax: FORMAT:PATH[:REF].
 *
 * A PATH that exists as given is the path, whatever colons it holds;
 * otherwise, for the formats that name images (oci, oci-archive,
 * docker-archive, docker-legacy), the first ':' after PATH's last '/'
 * ends the path and starts the reference. FORMAT itself must be known
 * when it is given; a near miss gets a "did you mean".
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static const char *const formats[] = {
	"dir", "docker-archive", "docker-legacy", "oci", "oci-archive", "rootfs",
	NULL
};

static const char *known(const char *s, size_t n)
{
	int i;

	for (i = 0; formats[i]; i++)
		if (strlen(formats[i]) == n && !strncmp(formats[i], s, n))
			return formats[i];
	return NULL;
}

static int takes_ref(const char *fmt)
{
	return fmt && (!strcmp(fmt, "oci") || !strcmp(fmt, "oci-archive") ||
		       !strcmp(fmt, "docker-archive") ||
		       !strcmp(fmt, "docker-legacy"));
}

void arg_release(struct imgarg *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

/*
 * Split A->path into path and reference when it does not exist as
 * given: at the first ':' whose left part exists, else at the first
 * ':' (a reference may hold more: "x:docker.io/library/busybox:1").
 */
static int split_ref(struct imgarg *a)
{
	struct stat st;
	const char *colon, *at = NULL;
	char *head;

	if (!takes_ref(a->fmt) || !strcmp(a->path, "-") ||
	    lstat(a->path, &st) == 0 || !(colon = strchr(a->path, ':')))
		return 0;
	if (!(a->buf = strdup(a->path)))
		return -1;
	for (head = a->buf + (colon - a->path); head && !at;
	     head = strchr(head + 1, ':')) {
		int found;

		*head = '\0';
		found = lstat(a->buf, &st) == 0;
		*head = ':';
		if (found)
			at = a->path + (head - a->buf);
	}
	if (!at)
		at = colon;
	a->buf[at - a->path] = '\0';
	a->ref = a->buf + (at - a->path) + 1;
	a->path = a->buf;
	return 0;
}

/* "'oci-achive': unknown format", with a suggestion */
static int bad_format(const char *s, size_t n, const char *what)
{
	char name[64];
	const char *near;

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	near = suggest(name, formats);
	if (near)
		return usage_error("'%s': unknown %s format; did you mean '%s'?",
				   name, what, near);
	return usage_error("'%s': unknown %s format (dir, docker-archive, docker-legacy, oci, oci-archive, rootfs)",
			   name, what);
}

int parse_src(const char *arg, struct imgarg *a)
{
	const char *colon = strchr(arg, ':');
	struct stat st;

	memset(a, 0, sizeof(*a));
	a->path = arg;
	if (!strncmp(arg, "docker://", 9))
		return 0;	/* a registry: the reader parses the reference */
	if (colon && (a->fmt = known(arg, (size_t)(colon - arg))))
		a->path = colon + 1;
	else if (colon && colon > arg &&
		 !memchr(arg, '/', (size_t)(colon - arg)) &&
		 lstat(arg, &st) < 0 &&
		 suggest_n(arg, (size_t)(colon - arg), formats))
		return bad_format(arg, (size_t)(colon - arg), "input");
	if (split_ref(a) < 0)
		return usage_error("out of memory");
	if (a->ref && !*a->ref)
		return usage_error("'%s': no reference after the path", arg);
	return 0;
}

int parse_dest(const char *arg, struct imgarg *a)
{
	const char *colon = strchr(arg, ':');
	size_t n;

	memset(a, 0, sizeof(*a));
	if (!strncmp(arg, "docker://", 9)) {
		if (!arg[9])
			return usage_error("'%s': no registry and repository after docker://",
					   arg);
		a->fmt = "docker";
		a->path = arg + 9;
		return 0;
	}
	if (!colon)
		return usage_error("'%s': DEST must be FORMAT:PATH (e.g. oci:./out)",
				   arg);
	n = (size_t)(colon - arg);
	if (!(a->fmt = known(arg, n)))
		return bad_format(arg, n, "output");
	if (!colon[1])
		return usage_error("'%s': no path after the format", arg);
	a->path = colon + 1;
	if (split_ref(a) < 0)
		return usage_error("out of memory");
	if (a->ref && !*a->ref)
		return usage_error("'%s': no reference after the path", arg);
	return 0;
}

/* "DIR.tar" as an oci directory: likely meant as oci-archive */
int dest_name_notice(const struct imgarg *a)
{
	size_t n = strlen(a->path);

	if (!a->fmt || strcmp(a->fmt, "oci") || n < 4)
		return 0;
	if (!strcmp(a->path + n - 4, ".tar") ||
	    (n > 7 && !strcmp(a->path + n - 7, ".tar.gz")))
		return 1;
	return 0;
}
