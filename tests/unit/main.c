/*
 * The unit test runner. list.h (generated from the TEST( lines) has one
 * T(name) per test. Prints one TAP-like line per test:
 *   ok - unit: NAME
 *   not ok - unit: NAME
 *   # diagnostics...
 * and exits 1 if any test failed.
 *
 *   unit-tests [NAME...]     run only the named tests
 *   unit-tests -l            list the tests
 *   UNIT_NOFORK=1            run in-process (for gdb)
 *   UNIT_TIMEOUT=SECONDS     per-test alarm in the child (default 120)
 */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#define T(name) void test_##name(void);
#include "list.h"
#undef T

struct unit_test {
	const char *name;
	void (*fn)(void);
};

static const struct unit_test tests[] = {
#define T(name) { #name, test_##name },
#include "list.h"
#undef T
};

static char diag[1 << 16];
static size_t diag_len;
static char cur_case[256];
static int cur_failed;
static struct dc_ctx *cur_ctx;

static void diag_add(const char *fmt, va_list ap)
{
	int n;

	if (diag_len >= sizeof(diag) - 1)
		return;
	n = vsnprintf(diag + diag_len, sizeof(diag) - diag_len, fmt, ap);
	if (n > 0)
		diag_len += (size_t)n < sizeof(diag) - diag_len ?
			    (size_t)n : sizeof(diag) - diag_len - 1;
}

static void diag_addf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(fmt, ap);
	va_end(ap);
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	cur_failed = 1;
	diag_addf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	diag_add(fmt, ap);
	va_end(ap);
	if (cur_case[0])
		diag_addf(" [case: %s]", cur_case);
	diag_addf("\n");
}

void unit_case(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cur_case, sizeof(cur_case), fmt, ap);
	va_end(ap);
}

struct dc_ctx *unit_ctx(void)
{
	if (!cur_ctx && dc_ctx_new(&cur_ctx) < 0) {
		fprintf(stderr, "unit: out of memory\n");
		abort();
	}
	return cur_ctx;
}

int unit_failed(void)
{
	return cur_failed;
}

static void run_one(const struct unit_test *t)
{
	cur_failed = 0;
	cur_case[0] = '\0';
	diag_len = 0;
	diag[0] = '\0';
	t->fn();
	dc__fail_alloc_at(0);
	dc_ctx_free(cur_ctx);
	cur_ctx = NULL;
}

static void report(const char *name, int ok, const char *extra)
{
	printf("%s - unit: %s\n", ok ? "ok" : "not ok", name);
	if (!ok) {
		fputs(diag, stdout);
		if (extra)
			printf("# %s\n", extra);
	}
	fflush(stdout);
}

/* Run T in a child; the child sends its diagnostics through a pipe. */
static int run_forked(const struct unit_test *t, unsigned timeout)
{
	int fds[2], status;
	pid_t pid;
	char extra[128];

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		perror("unit: fork");
		exit(2);
	}
	if (pid == 0) {
		size_t off = 0;

		close(fds[0]);
		alarm(timeout);
		run_one(t);
		while (off < diag_len) {
			ssize_t w = write(fds[1], diag + off, diag_len - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(fds[1]);
		/* exit(), not _exit(): LeakSanitizer checks at exit */
		exit(cur_failed ? 1 : 0);
	}
	close(fds[1]);
	diag_len = 0;
	for (;;) {
		ssize_t r = read(fds[0], diag + diag_len,
				 sizeof(diag) - 1 - diag_len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		diag_len += (size_t)r;
	}
	diag[diag_len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("unit: waitpid");
			exit(2);
		}
	extra[0] = '\0';
	if (WIFSIGNALED(status))
		snprintf(extra, sizeof(extra), "killed by signal %d%s",
			 WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	else if (WEXITSTATUS(status) != 0 &&
		 (WEXITSTATUS(status) != 1 || !diag_len))
		snprintf(extra, sizeof(extra),
			 "exit status %d (a sanitizer report is on stderr)",
			 WEXITSTATUS(status));
	report(t->name, WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       extra[0] ? extra : NULL);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
	size_t i, n = sizeof(tests) / sizeof(tests[0]);
	int nofork = getenv("UNIT_NOFORK") && *getenv("UNIT_NOFORK") &&
		     strcmp(getenv("UNIT_NOFORK"), "0");
	unsigned timeout = getenv("UNIT_TIMEOUT") ?
			   (unsigned)atoi(getenv("UNIT_TIMEOUT")) : 120;
	int failed = 0, ran = 0, a;

	if (argc > 1 && !strcmp(argv[1], "-l")) {
		for (i = 0; i < n; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	for (a = 1; a < argc; a++) {
		for (i = 0; i < n; i++)
			if (!strcmp(argv[a], tests[i].name))
				break;
		if (i == n) {
			fprintf(stderr, "unit-tests: no test named '%s'\n",
				argv[a]);
			return 2;
		}
	}
	for (i = 0; i < n; i++) {
		int ok;

		if (argc > 1) {
			for (a = 1; a < argc; a++)
				if (!strcmp(argv[a], tests[i].name))
					break;
			if (a == argc)
				continue;
		}
		ran++;
		if (nofork) {
			run_one(&tests[i]);
			ok = !cur_failed;
			report(tests[i].name, ok, NULL);
		} else {
			ok = run_forked(&tests[i], timeout);
		}
		failed += !ok;
	}
	if (!ran) {
		fprintf(stderr, "unit-tests: no tests\n");
		return 2;
	}
	return failed ? 1 : 0;
}
