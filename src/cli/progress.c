/*
 * A progress line on stderr: blob n/N, bytes, rate. Only when stderr is
 * a terminal (or --progress), never with -q.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

struct prog {
	uint64_t done, total;
	size_t blob, nblobs;
	double start, last;
	int shown;
	int plain;		/* not a terminal: whole lines, no \r */
	int on;
};

static struct prog P;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(char *buf, size_t n, double v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void draw(int final)
{
	char d[32], t[32], r[32], eta[32] = "";
	double el = now() - P.start, rate = el > 0 ? (double)P.done / el : 0;

	human(d, sizeof(d), (double)P.done);
	human(t, sizeof(t), (double)P.total);
	human(r, sizeof(r), rate);
	if (!final && P.total > P.done && rate > 0)
		snprintf(eta, sizeof(eta), "  ETA %.0fs",
			 (double)(P.total - P.done) / rate);
	fprintf(stderr, "%sdecant: blob %zu/%zu  %s / %s  %s/s%s   %s",
		P.plain ? "" : "\r", P.blob, P.nblobs, d, t, r, eta,
		final || P.plain ? "\n" : "");
	P.shown = 1;
}

static void cb(void *arg, uint64_t done, uint64_t total, size_t blob,
	       size_t nblobs)
{
	double t;

	(void)arg;
	if (blob) {
		P.blob = blob;
		P.nblobs = nblobs;
		if (total)
			P.total = total;
	}
	P.done += done;
	t = now();
	/* plain lines: one per blob and every few seconds */
	if (P.plain ? t - P.last >= 5 || blob : t - P.last >= 0.2 || blob) {
		P.last = t;
		draw(0);
	}
}

void progress_start(struct cli *c)
{
	int on = c->progress == 1 || (c->progress == -1 && isatty(2));

	memset(&P, 0, sizeof(P));
	P.start = P.last = now();
	if (c->quiet || !on)
		return;
	P.on = 1;
	P.plain = !isatty(2);
	dc_ctx_set_progress(c->ctx, cb, NULL);
}

void progress_end(struct cli *c)
{
	if (P.shown) {
		if (P.total && P.done > P.total)
			P.done = P.total;
		draw(1);
	}
	P.shown = 0;
	dc_ctx_set_progress(c->ctx, NULL, NULL);
}

/* "decant: wrote 1 image (sha256:1234abcd5678) to oci:out: 5.1 MiB
 * read, 5.2 MiB written, 0.4 s", where progress is shown */
void progress_summary(struct cli *c, const struct dc_set *set,
		      const char *fmt, const char *path)
{
	char in[32], out[32] = "?", ids[160] = "";
	size_t i, n = dc_set_count(set), k = 0;
	struct stat st;

	if (!P.on)
		return;
	for (i = 0; i < n && k + 24 < sizeof(ids); i++) {
		const char *id = dc_image_id(dc_set_image(set, i));
		const char *hex = strchr(id, ':');

		k += (size_t)snprintf(ids + k, sizeof(ids) - k, "%s%.12s",
				      i ? ", " : "", hex ? hex + 1 : id);
	}
	if (i < n)
		snprintf(ids + k, sizeof(ids) - k, ", ...");
	human(in, sizeof(in), (double)P.done);
	if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISREG(st.st_mode))
		human(out, sizeof(out), (double)st.st_size);
	fprintf(stderr, "decant: wrote %zu image%s (%s) to %s:%s: %s read, %s written, %.1f s\n",
		n, n == 1 ? "" : "s", ids, fmt, esc(path), in, out, now() - P.start);
}
