/*
 * The decant command line: the only code that prints or exits.
 */
#ifndef DC_CLI_H
#define DC_CLI_H

#include <stdio.h>
#include "decant/decant.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
	struct dc_ctx *ctx;
	struct dc_registry_opts reg;	/* --creds, --tls-verify, ... */
	int quiet;
	int progress;		/* 1 = on, 0 = off, -1 = if stderr is a tty */
	const char *src_label;
};

int cmd_convert(struct cli *c, int argc, char **argv);
int cmd_inspect(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);
int cmd_analyze(struct cli *c, int argc, char **argv);
int cmd_inventory(struct cli *c, int argc, char **argv);

/* Add what ARG holds to INV: an inventory file (JSON), or any source's
 * blobs. 0 or an exit code (the message printed). */
struct dc_inventory;
int have_add(struct cli *c, const char *arg, struct dc_inventory *inv);

/* "decant: error: MSG" and the exit code for the failure */
int fail(struct cli *c);
/* getopt's complaint, in our words */
int bad_option(char **argv, int missing_value);
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_usage(FILE *f);

/* Split "FORMAT:PATH" when FORMAT is known; else *fmt = NULL. */
void split_src(const char *arg, const char **fmt, const char **path);
int split_dest(const char *arg, const char **fmt, const char **path);

/* Open SRC and load its images; the error is in c->ctx. */
int open_source(struct cli *c, const char *arg, struct dc_reader **r,
		struct dc_set **set);
/* The two steps of open_source(), for dc_reader_set_import() between
 * them; source_load() frees *r on failure. */
int source_open(struct cli *c, const char *arg, struct dc_reader **r);
int source_load(struct cli *c, struct dc_reader **r, struct dc_set **set);

/* S with control characters and bytes that are not UTF-8 as \xNN, in
 * one of a few rotating thread-local buffers (valid until the fourth
 * next call on the thread); NULL for NULL. */
const char *esc(const char *s);
/* The same into OUT (CAP bytes, NUL-terminated, cut short if needed);
 * returns the length. */
size_t esc_to(char *out, size_t cap, const char *in);

/* The registry options of every command, in its getopt longopts */
enum { OPT_CREDS = 900, OPT_TLS_VERIFY, OPT_CERT_DIR, OPT_AUTHFILE };
#define REGISTRY_LONGOPTS \
	{ "creds", required_argument, NULL, OPT_CREDS }, \
	{ "tls-verify", optional_argument, NULL, OPT_TLS_VERIFY }, \
	{ "cert-dir", required_argument, NULL, OPT_CERT_DIR }, \
	{ "authfile", required_argument, NULL, OPT_AUTHFILE }
/* OPT one of them: 0, or a usage error's exit code; 1: not one */
int opt_registry(struct cli *c, int opt, const char *arg);

/* --max-memory SIZE: 0, or a usage error's exit code */
int opt_max_memory(struct cli *c, const char *arg);

void progress_start(struct cli *c);
void progress_end(struct cli *c);

#endif
