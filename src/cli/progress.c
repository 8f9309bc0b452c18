/*
 * A progress line on stderr: blob n/N, bytes, rate. Only when stderr is
 * a terminal (or --progress), never with -q.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

struct prog {
	uint64_t done, total;
	size_t blob, nblobs;
	double start, last;
	int shown;
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
	char d[32], t[32], r[32];
	double el = now() - P.start;

	human(d, sizeof(d), (double)P.done);
	human(t, sizeof(t), (double)P.total);
	human(r, sizeof(r), el > 0 ? (double)P.done / el : 0);
	fprintf(stderr, "\rdecant: blob %zu/%zu  %s / %s  %s/s   %s", P.blob,
		P.nblobs, d, t, r, final ? "\n" : "");
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
	if (t - P.last >= 0.2 || blob) {
		P.last = t;
		draw(0);
	}
}

void progress_start(struct cli *c)
{
	int on = c->progress == 1 || (c->progress == -1 && isatty(2));

	if (c->quiet || !on)
		return;
	P.start = P.last = now();
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
