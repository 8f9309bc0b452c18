/*
 * The decant command line: the only code that prints or exits.
 */
#ifndef DC_CLI_H
#define DC_CLI_H

#include <stdio.h>
#include "decant/decant.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_INTR = 130 };

struct cli {
	struct dc_ctx *ctx;
	struct dc_registry_opts reg;	/* --creds, --tls-verify, ... */
	int quiet;
	int progress;		/* 1 = on, 0 = off, -1 = if stderr is a tty */
	const char *src_label;
	int usage_failed;	/* a usage error was printed: fail() says 2 */
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

/* SRC or DEST as FORMAT:PATH[:REF] (src/cli/refs.c) */
struct imgarg {
	const char *fmt;	/* a known format, or NULL (SRC: detect) */
	const char *path;
	const char *ref;	/* the image to pick or name, or NULL */
	char *buf;		/* owns path and ref when split */
};
/* 0, or a usage error's exit code (printed) */
int parse_src(const char *arg, struct imgarg *a);
int parse_dest(const char *arg, struct imgarg *a);
void arg_release(struct imgarg *a);
/* 1 if an oci DEST is named like a tar file */
int dest_name_notice(const struct imgarg *a);

/* The word of LIST (NULL-terminated) WORD is a typo of, or NULL
 * (src/cli/suggest.c); suggest_n() takes WORD's length. */
const char *suggest(const char *word, const char *const *list);
const char *suggest_n(const char *word, size_t n, const char *const *list);

/* Help texts (src/cli/help.c): the overview, and a command's; 0 if
 * CMD is a command, else -1. */
void print_usage(FILE *f);
int print_command_help(const char *cmd, FILE *f);
void print_version(FILE *f);

/* "decant: error: MSG" and the exit code for the failure */
int fail(struct cli *c);
/* getopt's complaint, in our words */
int bad_option(char **argv, int missing_value);
/* the same with a "did you mean" from the long options OPTS */
struct option;
int bad_option_in(char **argv, int missing_value, const struct option *opts);
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));


/* Open SRC and load its images; the error is in c->ctx. */
int open_source(struct cli *c, const char *arg, struct dc_reader **r,
		struct dc_set **set);
/* open_source() that also reads a delta: what it holds (its left-out
 * layers absent, as dc_reader_missing() gives them); *DELTA (when not
 * NULL) is its record, or NULL for a complete source. */
int open_source_delta(struct cli *c, const char *arg, struct dc_reader **r,
		      struct dc_set **set, struct dc_inventory **delta);
/* The two steps of open_source(), for dc_reader_set_import() between
 * them; source_load() frees *r on failure. */
int source_open(struct cli *c, const char *arg, struct dc_reader **r);
int source_load(struct cli *c, struct dc_reader **r, struct dc_set **set);
/* After a failure reading ARGS[0..N) (bad data, c->ctx's error
 * printed): name each part of a split set among them that does not
 * match its .sha256 (damaged, truncated, swapped or from another set). */
void blame_parts(struct cli *c, char *const *args, size_t n);
/* source_open() of a parsed SRC */
int source_open_arg(struct cli *c, const struct imgarg *a,
		    struct dc_reader **r);

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
/* End an open progress line before a message (no-op otherwise). */
void progress_break(void);
/* The one-line summary after a write (where progress is shown). */
void progress_summary(struct cli *c, const struct dc_set *set,
		      const char *fmt, const char *path);

/* V bytes in decimal units for people: "812 B", "1.5 MB" (inspect,
 * analyze). */
void size_str(char *buf, size_t n, int64_t v);

#endif
