/*
 * Buffered output to a file descriptor; errors name the destination.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

#define OUT_BUF (1u << 20)

int dc__out_init(struct dc_ctx *ctx, struct dc_out *o, int fd,
		 const char *label)
{
	memset(o, 0, sizeof(*o));
	o->ctx = ctx;
	o->fd = fd;
	o->label = label;
	o->cap = OUT_BUF;
	if (!(o->buf = malloc(o->cap)))
		return dc__enomem(ctx);
	return 0;
}

static int write_all(struct dc_out *o, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(o->fd, p, n);

		if (w < 0 && errno == EINTR && !o->ctx->interrupted)
			continue;
		if (w < 0)
			return dc_error(o->ctx, DC_EIO, "'%s': write failed: %s",
					o->label, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int dc__out_flush(struct dc_out *o)
{
	int err = write_all(o, o->buf, o->len);

	o->len = 0;
	return err;
}

int dc__out_write(struct dc_out *o, const void *p, size_t n)
{
	int err;

	o->written += n;
	if (o->len + n <= o->cap) {
		memcpy(o->buf + o->len, p, n);
		o->len += n;
		return 0;
	}
	if ((err = dc__out_flush(o)) < 0)
		return err;
	if (n >= o->cap)
		return write_all(o, p, n);
	memcpy(o->buf, p, n);
	o->len = n;
	return 0;
}

void dc__out_release(struct dc_out *o)
{
	free(o->buf);
	o->buf = NULL;
}
