/*
 * decant: convert and repackage container image archives.
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static struct dc_ctx *sig_ctx;
static volatile sig_atomic_t sig_got;	/* the signal that interrupted */

static void on_notice(void *arg, const char *msg)
{
	const struct cli *c = arg;

	if (!c->quiet) {
		progress_break();
		fprintf(stderr, "decant: note: %s\n", esc(msg));
	}
}

static void on_signal(int sig)
{
	int e = errno;

	sig_got = sig;
	if (sig_ctx)
		dc_ctx_interrupt(sig_ctx);
	errno = e;
}

int usage_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	progress_break();
	fprintf(stderr, "decant: error: %s\nTry 'decant --help'.\n", esc(msg));
	return EXIT_USAGE;
}

int fail(struct cli *c)
{
	int code = dc_ctx_errcode(c->ctx);

	if (c->usage_failed)
		return EXIT_USAGE;	/* the message is out */
	progress_break();
	fprintf(stderr, "decant: error: %s\n", esc(dc_ctx_errmsg(c->ctx)));
	if (code == DC_EINTR)	/* as a shell reports it: 128 + the signal */
		return sig_got ? 128 + sig_got : EXIT_INTR;
	return code == DC_EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

/* "'conver': unknown command; did you mean 'convert'?" */
static int unknown_command(const char *cmd)
{
	static const char *const words[] = {
		"convert", "inspect", "verify", "inventory", "analyze", "help", "--help", "--version",
		NULL
	};
	const char *near = suggest(cmd, words);

	if (near)
		return usage_error("'%s': unknown command; did you mean '%s'?",
				   cmd, near);
	return usage_error("'%s': unknown command", cmd);
}

int main(int argc, char **argv)
{
	struct cli c;
	struct sigaction sa;
	int ret;

	memset(&c, 0, sizeof(c));
	c.progress = -1;
	c.reg.tls_verify = 1;
	/* archive member names are bytes, mostly UTF-8: let libarchive
	 * convert them without loss (it falls back per entry otherwise) */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	if (argc < 2)
		return usage_error("no command given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc < 3)) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (print_command_help(argv[2], stdout) < 0)
			return unknown_command(argv[2]);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		print_version(stdout);
		return EXIT_OK;
	}
	if (dc_ctx_new(&c.ctx) < 0) {
		fputs("decant: error: out of memory\n", stderr);
		return EXIT_FAIL;
	}
	sig_ctx = c.ctx;
	dc_ctx_set_notice(c.ctx, on_notice, &c);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!strcmp(argv[1], "convert"))
		ret = cmd_convert(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "inspect"))
		ret = cmd_inspect(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "verify"))
		ret = cmd_verify(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "analyze"))
		ret = cmd_analyze(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "inventory"))
		ret = cmd_inventory(&c, argc - 1, argv + 1);
	else
		ret = unknown_command(argv[1]);
	sig_ctx = NULL;
	dc_ctx_free(c.ctx);
	return ret;
}
