/*
 * Replay a corpus through the fuzz target without libFuzzer (zstd's
 * regression_driver.c): built with gcc (and sanitizers under
 * SANITIZE=1) together with a tests/fuzz/fuzz_*.c target.
 *
 *   fuzz-replay PATH...
 *
 * Walks each directory recursively in sorted order, never following
 * symlinks, skipping README*, *.sh, *.md, *.stderr* and files over
 * 32 MiB, and feeds every regular file to LLVMFuzzerTestOneInput. Prints
 * "ok - replay: PATH" per file; a crash or sanitizer report aborts.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* the per-reader targets' replays say which reader they forced */
#ifdef FUZZ_READER
#define NAME "replay (" FUZZ_READER ")"
#else
#define NAME "replay"
#endif

#define REPLAY_MAX_SIZE (32u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int failures;

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static int skipped_name(const char *base)
{
	return !strncmp(base, "README", 6) || ends_with(base, ".sh") ||
	       ends_with(base, ".md") || ends_with(base, ".stderr") ||
	       strstr(base, ".stderr.") != NULL;
}

static void replay_file(const char *path, off_t size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t got;

	if (!f) {
		printf("not ok - " NAME ": %s\n# cannot open: %s\n", path,
		       strerror(errno));
		failures++;
		return;
	}
	/* a copy of exactly SIZE bytes, so ASan catches overreads */
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		fprintf(stderr, "fuzz-replay: out of memory\n");
		exit(2);
	}
	got = fread(buf, 1, (size_t)size, f);
	fclose(f);
	if (got != (size_t)size) {
		printf("not ok - " NAME ": %s\n# short read\n", path);
		failures++;
		free(buf);
		return;
	}
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	printf("ok - " NAME ": %s\n", path);
	fflush(stdout);
}

static void walk(const char *path, int top)
{
	struct stat st;
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (lstat(path, &st) < 0) {
		printf("not ok - " NAME ": %s\n# %s\n", path, strerror(errno));
		failures++;
		return;
	}
	if (S_ISLNK(st.st_mode))
		return;
	if (S_ISDIR(st.st_mode)) {
		struct dirent **ents;
		int n, i;

		n = scandir(path, &ents, NULL, alphasort);
		if (n < 0) {
			printf("not ok - " NAME ": %s\n# %s\n", path, strerror(errno));
			failures++;
			return;
		}
		for (i = 0; i < n; i++) {
			const char *nm = ents[i]->d_name;

			if (strcmp(nm, ".") && strcmp(nm, "..")) {
				size_t len = strlen(path) + strlen(nm) + 2;
				char *child = malloc(len);

				if (!child)
					exit(2);
				snprintf(child, len, "%s%s%s", path,
					 ends_with(path, "/") ? "" : "/", nm);
				walk(child, 0);
				free(child);
			}
			free(ents[i]);
		}
		free(ents);
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	if (!top && skipped_name(base))
		return;
	if (st.st_size > (off_t)REPLAY_MAX_SIZE)
		return;
	replay_file(path, st.st_size);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		walk(argv[i], 1);
	return failures ? 1 : 0;
}
