/*
 * Progress on stderr: the phase (spool, decompress, recompress, squash,
 * write, verify), its bytes done and total, rate and time left, and the
 * job's time so far. On a terminal one line is redrawn (\r) and each
 * phase leaves its last state; elsewhere (--progress) plain lines, one
 * when a phase starts and ends and one every few seconds. Never with -q.
 * The library may report from several threads (recompression workers).
 * Once a conversion is planned, the library outlines its phases and the
 * work of each (dc_outline_fn): the line then also shows the whole job,
 * its bytes and the time left, the outlined work still to do taken at
 * the current phase's rate. The copies of what a phase made cost nothing
 * in that estimate, and a squash of compressed layers makes it unknown
 * until the squash is over.
 */
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

struct job_phase {
	char name[32];
	uint64_t work, done;
	int unknown;
};

#define MAX_JOB_PHASES 8

struct prog {
	pthread_mutex_t mu;
	struct job_phase job[MAX_JOB_PHASES];	/* the outline */
	size_t njob;
	int cur;			/* the phase in job[], or -1 */
	uint64_t job_done;		/* every phase's bytes */
	char phase[32];
	uint64_t done, total;		/* the phase's */
	size_t blob, nblobs;
	double start, ph_start, last;
	int shown;			/* a \r line is open */
	int plain;			/* not a terminal: whole lines */
	int on;
};

static struct prog P = { .mu = PTHREAD_MUTEX_INITIALIZER };

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

static void eta_str(char *buf, size_t n, double s)
{
	if (s < 100)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, n, "%dh%02dm", (int)(s / 3600),
			 (int)(s / 60) % 60);
}

/* "  job 1.2 GiB / 3.4 GiB  ETA 2m10s", or nothing when not outlined
 * (or the time left cannot be told: " ETA ?") */
static void job_str(char *buf, size_t n, double rate, int final)
{
	char d[32], t[32], e[32] = "?";
	uint64_t done = 0, work = 0, left = 0;
	double secs = 0;
	int known = rate > 0;
	size_t i;

	buf[0] = '\0';
	if (!P.njob || P.cur < 0)
		return;
	for (i = 0; i < P.njob; i++) {
		const struct job_phase *j = &P.job[i];
		uint64_t jd = j->done < j->work ? j->done : j->work;

		if (j->unknown) {
			/* the phase running tells its own size, if any */
			if ((int)i != P.cur || !P.total)
				known = 0;
			continue;
		}
		done += jd;
		work += j->work;
		if ((int)i != P.cur)
			left += j->work - jd;
	}
	/* the current phase: its own total where it has one */
	if (P.total > P.done && rate > 0)
		secs = (double)(P.total - P.done) / rate;
	else if (!P.total && !P.job[P.cur].unknown &&
		 P.job[P.cur].work > P.job[P.cur].done && rate > 0)
		secs = (double)(P.job[P.cur].work - P.job[P.cur].done) / rate;
	if (known)
		eta_str(e, sizeof(e), secs + (double)left / rate);
	human(d, sizeof(d), (double)done);
	human(t, sizeof(t), (double)work);
	snprintf(buf, n, "  job %s / %s%s%s", d, t, final ? "" : "  ETA ",
		 final ? "" : e);
}

/* The current phase's state; FINAL: it is over (ends the line). */
static void draw(int final)
{
	char d[32], t[48] = "", r[32], eta[32] = "", blobs[32] = "";
	char job[128], es[24];
	double t0 = now(), el = t0 - P.ph_start;
	double rate = el > 0 ? (double)P.done / el : 0;

	human(d, sizeof(d), (double)P.done);
	if (P.total) {
		human(t + 3, sizeof(t) - 3, (double)P.total);
		memcpy(t, " / ", 3);
	}
	human(r, sizeof(r), rate);
	if (!final && P.total > P.done && rate > 0) {
		eta_str(es, sizeof(es), (double)(P.total - P.done) / rate);
		snprintf(eta, sizeof(eta), "  ETA %s", es);
	}
	if (P.nblobs)
		snprintf(blobs, sizeof(blobs), "  blob %zu/%zu", P.blob, P.nblobs);
	job_str(job, sizeof(job), rate, final);
	fprintf(stderr, "%sdecant: %s%s  %s%s  %s/s%s  [%.1fs]%s%s",
		P.plain ? "" : "\r", P.phase[0] ? P.phase : "copy", blobs, d, t,
		r, eta, t0 - P.start, job,
		P.plain ? "\n" : final ? "\n" : "   ");
	P.shown = !P.plain && !final;
}

static void cb(void *arg, uint64_t done, uint64_t total, size_t blob,
	       size_t nblobs)
{
	double t;

	(void)arg;
	pthread_mutex_lock(&P.mu);
	if (blob) {
		P.blob = blob;
		P.nblobs = nblobs;
		if (total)
			P.total = total;
	}
	P.done += done;
	P.job_done += done;
	if (P.cur >= 0)
		P.job[P.cur].done += done;
	t = now();
	if (P.plain ? t - P.last >= 5 : t - P.last >= 0.2 || blob) {
		P.last = t;
		draw(0);
	}
	pthread_mutex_unlock(&P.mu);
}

static int job_find(const char *name)
{
	size_t i;

	for (i = 0; i < P.njob; i++)
		if (!strcmp(P.job[i].name, name))
			return (int)i;
	return -1;
}

static void outline_cb(void *arg, const char *name, uint64_t work)
{
	int i;

	(void)arg;
	pthread_mutex_lock(&P.mu);
	if ((i = job_find(name)) < 0 && P.njob < MAX_JOB_PHASES) {
		i = (int)P.njob++;
		memset(&P.job[i], 0, sizeof(P.job[i]));
		snprintf(P.job[i].name, sizeof(P.job[i].name), "%s", name);
	}
	if (i >= 0) {
		if (work == DC_WORK_UNKNOWN)
			P.job[i].unknown = 1;
		else
			P.job[i].work += work;
	}
	pthread_mutex_unlock(&P.mu);
}

static void phase_cb(void *arg, const char *name, uint64_t total)
{
	(void)arg;
	pthread_mutex_lock(&P.mu);
	if (P.phase[0])
		draw(1);	/* the last state of the phase before */
	snprintf(P.phase, sizeof(P.phase), "%s", name);
	P.cur = job_find(name);
	P.done = 0;
	P.total = total;
	P.blob = P.nblobs = 0;
	P.ph_start = P.last = now();
	draw(0);
	pthread_mutex_unlock(&P.mu);
}

void progress_start(struct cli *c)
{
	int on = c->progress == 1 || (c->progress == -1 && isatty(2));

	pthread_mutex_lock(&P.mu);
	P.job_done = P.done = P.total = 0;
	P.blob = P.nblobs = 0;
	P.phase[0] = '\0';
	P.shown = P.on = 0;
	P.njob = 0;
	P.cur = -1;
	P.start = P.ph_start = P.last = now();
	pthread_mutex_unlock(&P.mu);
	if (c->quiet || !on)
		return;
	P.on = 1;
	P.plain = !isatty(2);
	dc_ctx_set_progress(c->ctx, cb, NULL);
	dc_ctx_set_phase(c->ctx, phase_cb, NULL);
	dc_ctx_set_outline(c->ctx, outline_cb, NULL);
}

void progress_end(struct cli *c)
{
	pthread_mutex_lock(&P.mu);
	if (P.phase[0]) {
		if (P.total && P.done > P.total)
			P.done = P.total;
		draw(1);
	}
	P.shown = 0;
	P.phase[0] = '\0';
	pthread_mutex_unlock(&P.mu);
	dc_ctx_set_progress(c->ctx, NULL, NULL);
	dc_ctx_set_phase(c->ctx, NULL, NULL);
	dc_ctx_set_outline(c->ctx, NULL, NULL);
}

static uint64_t dir_bytes;

static int add_file(const char *path, const struct stat *st, int type,
		    struct FTW *f)
{
	(void)path, (void)f;
	if (type == FTW_F && S_ISREG(st->st_mode))
		dir_bytes += (uint64_t)st->st_size;
	return 0;
}

/* "decant: wrote 1 image (1234abcd5678) to oci:out: 5.1 MiB read,
 * 5.2 MiB written, 0.4 s", where progress is shown */
void progress_summary(struct cli *c, const struct dc_set *set,
		      const char *fmt, const char *path)
{
	char in[32], out[32] = "?", ids[160] = "";
	size_t i, n = dc_set_count(set), k = 0;
	struct stat st;
	int have;

	(void)c;
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
	human(in, sizeof(in), (double)P.job_done);
	have = strcmp(path, "-") && stat(path, &st) == 0;
	if (have && S_ISREG(st.st_mode)) {
		human(out, sizeof(out), (double)st.st_size);
	} else if (have && S_ISDIR(st.st_mode)) {
		dir_bytes = 0;
		if (nftw(path, add_file, 16, FTW_PHYS) == 0)
			human(out, sizeof(out), (double)dir_bytes);
	}
	fprintf(stderr, "decant: wrote %zu image%s (%s) to %s:%s: %s processed, %s written, %.1f s\n",
		n, n == 1 ? "" : "s", ids, fmt, esc(path), in,
		strcmp(out, "?") ? out : "-", now() - P.start);
}

void progress_break(void)
{
	pthread_mutex_lock(&P.mu);
	if (P.shown)
		fputc('\n', stderr);
	P.shown = 0;
	pthread_mutex_unlock(&P.mu);
}
