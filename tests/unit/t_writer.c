/*
 * The writer core (src/writers/writer.c): it calls a writer's ops only
 * in the order the vtable's contract sets; a call out of order is a bug
 * (DC_BUG: abort), as libarchive's archive_check_magic makes it.
 */
#include "unit.h"
#include "writers/writers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* a writer that records its calls and fails the one named in fail_at */
static char calls[256];
static const char *fail_at = "";

static int rec(struct dc_writer *w, const char *name)
{
	size_t n = strlen(calls);

	snprintf(calls + n, sizeof(calls) - n, "%s%s", n ? " " : "", name);
	return strcmp(name, fail_at) ? 0 :
	       dc_error(w->ctx, DC_EIO, "'%s': failed", name);
}

static int t_begin(struct dc_writer *w) { return rec(w, "begin"); }
static int t_put_blob(struct dc_writer *w, struct dc_stream *in,
		      const struct dc_desc *want) { return rec(w, "blob"); }
static int t_open(struct dc_writer *w, int *fd) { *fd = -1; return rec(w, "open"); }
static int t_close(struct dc_writer *w, const struct dc_desc *d) { return rec(w, "close"); }
static int t_put_image(struct dc_writer *w, const struct dc_image *img) { return rec(w, "image"); }
static int t_commit(struct dc_writer *w) { return rec(w, "commit"); }
static void t_abort(struct dc_writer *w) { rec(w, "abort"); }

static const struct dc_writer_ops t_ops = {
	.name = "test",
	.priv_size = 8,
	.begin = t_begin,
	.put_blob = t_put_blob,
	.put_blob_open = t_open,
	.put_blob_close = t_close,
	.put_image = t_put_image,
	.commit = t_commit,
	.abort = t_abort,
};

TEST(writer_order_kept)
{
	struct dc_writer w;
	struct dc_desc d = { 0 };
	int fd;

	calls[0] = '\0';
	fail_at = "";
	REQUIRE(dc__writer_init(unit_ctx(), &w, &t_ops, "x") == 0);
	CHECK_OK(dc__writer_begin(&w));
	CHECK_OK(dc__writer_put_blob_open(&w, &fd));
	CHECK_OK(dc__writer_put_blob_close(&w, &d));
	CHECK_OK(dc__writer_put_blob(&w, NULL, &d));
	/* optional ops the writer lacks: 1, nothing called */
	CHECK_EQ_INT(dc__writer_put_blob_file(&w, -1, &d), 1);
	CHECK_EQ_INT(dc__writer_put_blob_range(&w, -1, 0, &d), 1);
	CHECK_EQ_INT(dc__writer_reserve_blob(&w, &d, &fd, NULL, NULL), 1);
	CHECK_OK(dc__writer_put_image(&w, NULL));
	CHECK_OK(dc__writer_put_image(&w, NULL));
	CHECK_OK(dc__writer_commit(&w));
	CHECK_EQ_INT(w.state, DC_W_DONE);
	dc__writer_release(&w);
	CHECK_STR(calls, "begin open close blob image image commit");
}

TEST(writer_failure_then_abort)
{
	struct dc_writer w;
	struct dc_desc d = { 0 };

	calls[0] = '\0';
	fail_at = "blob";
	REQUIRE(dc__writer_init(unit_ctx(), &w, &t_ops, "x") == 0);
	CHECK_OK(dc__writer_begin(&w));
	CHECK_ERR(dc__writer_put_blob(&w, NULL, &d), DC_EIO);
	CHECK_EQ_INT(w.state, DC_W_FAILED);
	dc__writer_abort(&w);
	dc__writer_abort(&w);	/* idempotent for the caller */
	dc__writer_release(&w);
	CHECK_STR(calls, "begin blob abort abort");

	/* before begin(), abort has nothing to remove */
	calls[0] = '\0';
	REQUIRE(dc__writer_init(unit_ctx(), &w, &t_ops, "x") == 0);
	dc__writer_abort(&w);
	dc__writer_release(&w);
	CHECK_STR(calls, "");
}

/* Run STEP(N) in a child: does it die of DC_BUG's abort? */
static int dies(int step)
{
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		struct dc_writer w;
		struct dc_desc d = { 0 };
		int fd, null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 2);	/* the BUG line */
		fail_at = "begin";
		if (dc__writer_init(unit_ctx(), &w, &t_ops, "x") < 0)
			_exit(3);
		switch (step) {
		case 0:		/* a blob before begin() */
			dc__writer_put_blob(&w, NULL, &d);
			break;
		case 1:		/* commit before begin() */
			dc__writer_commit(&w);
			break;
		case 2:		/* begin() twice */
			fail_at = "";
			dc__writer_begin(&w);
			dc__writer_begin(&w);
			break;
		case 3:		/* anything but abort after a failure */
			dc__writer_begin(&w);
			dc__writer_put_image(&w, NULL);
			break;
		case 4:		/* a blob while put_blob_open's is open */
			fail_at = "";
			dc__writer_begin(&w);
			dc__writer_put_blob_open(&w, &fd);
			dc__writer_put_blob(&w, NULL, &d);
			break;
		case 5:		/* a blob after the images */
			fail_at = "";
			dc__writer_begin(&w);
			dc__writer_put_image(&w, NULL);
			dc__writer_put_blob(&w, NULL, &d);
			break;
		case 6:		/* abort after commit */
			fail_at = "";
			dc__writer_begin(&w);
			dc__writer_commit(&w);
			dc__writer_abort(&w);
			break;
		case 7:		/* close without open */
			fail_at = "";
			dc__writer_begin(&w);
			dc__writer_put_blob_close(&w, &d);
			break;
		case 8:		/* not a writer */
			memset(&w, 0, sizeof(w));
			w.ops = &t_ops;
			dc__writer_begin(&w);
			break;
		}
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

TEST(writer_order_enforced)
{
	int step;

	for (step = 0; step <= 8; step++) {
		UNIT_CASE("step %d", step);
		CHECK_EQ_INT(dies(step), 1);
	}
}
