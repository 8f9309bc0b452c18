/*
 * Fuzz target for the squash engine (src/transform/squash.c): pass 1's
 * whiteout and hardlink bookkeeping, pass 2's merge, materialized links
 * and the ring, on hostile layer tars.
 *
 * Input: one flags byte, then up to four layer tars, each behind a 2-byte
 * little-endian length (the last one takes what is left). The harness
 * wraps them in a docker-save archive whose digests match, so every layer
 * reaches the squash, and squashes it:
 *   flags bit 0: only the top two layers (the whiteouts below are kept)
 *   flags bit 1: gzip the squashed layer (the streamed path, no ring)
 * The squashed layer is spooled to $TMPDIR, then dropped: point it at a
 * tmpfs (tests/fuzz/run-short.sh uses /dev/shm).
 */
#include "util/util.h"
#include "blob/blob.h"
#include "model/model.h"
#include "moby/moby.h"
#include "readers/readers.h"
#include "transform/transform.h"
#include "writers/writers.h"
#include "convert/convert.h"
#include "blob/blob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LAYERS 4

static void squash(const struct tb *t, int flags)
{
	struct dc_ctx *ctx = NULL;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	struct dc_desc out;
	struct dc_bsrc bs;
	const struct dc_image *img;
	size_t from = 0;
	int fd = -1;

	if (dc_ctx_new(&ctx) < 0)
		return;
	if (dc_reader_open_memory(ctx, &r, t->p, t->len) == 0 &&
	    dc_reader_load(r, &set) == 0 && set->n && set->img[0]->nlayers) {
		img = set->img[0];
		if ((flags & 1) && img->nlayers > 2)
			from = img->nlayers - 2;
		memset(&out, 0, sizeof(out));
		dc__reader_blobs(r, &bs);
		if (dc__squash(&bs, img, from, img->nlayers,
			       flags & 2 ? DC_COMP_GZIP : DC_COMP_NONE, NULL,
			       NULL, NULL, 1, &fd, &out) == 0 && fd >= 0)
			close(fd);
		dc__desc_release(&out);
	}
	dc_set_free(set);
	dc_reader_free(r);
	dc_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb t = { 0 };
	char diff[MAX_LAYERS][DC_DIGEST_MAX], name[64];
	char cfg[1024], man[1024];
	size_t n = 0, i, at, len;
	int flags, ok = 1;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	/* split: 2-byte lengths, the last layer takes the rest */
	for (at = 0; n < MAX_LAYERS && ok;) {
		if (n < MAX_LAYERS - 1 && size - at >= 2) {
			len = (size_t)data[at] | (size_t)data[at + 1] << 8;
			at += 2;
			if (len > size - at)
				len = size - at;
		} else {
			len = size - at;
		}
		dc__sha256_digest(data + at, len, diff[n]);
		snprintf(name, sizeof(name), "%zu/layer.tar", n);
		ok &= tb_file(&t, name, data + at, len) == 0;
		n++;
		at += len;
		if (at >= size)
			break;
	}
	{
		int c = snprintf(cfg, sizeof(cfg),
				 "{\"architecture\":\"amd64\",\"os\":\"linux\","
				 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
		int m = snprintf(man, sizeof(man),
				 "[{\"Config\":\"config.json\",\"RepoTags\":"
				 "[\"fuzz/squash:1\"],\"Layers\":[");

		for (i = 0; i < n; i++) {
			c += snprintf(cfg + c, sizeof(cfg) - (size_t)c, "%s\"%s\"",
				      i ? "," : "", diff[i]);
			m += snprintf(man + m, sizeof(man) - (size_t)m,
				      "%s\"%zu/layer.tar\"", i ? "," : "", i);
		}
		snprintf(cfg + c, sizeof(cfg) - (size_t)c, "]}}");
		snprintf(man + m, sizeof(man) - (size_t)m, "]}]");
	}
	ok &= tb_file(&t, "config.json", cfg, strlen(cfg)) == 0;
	ok &= tb_file(&t, "manifest.json", man, strlen(man)) == 0;
	if (ok)
		squash(&t, flags);
	free(t.p);
	return 0;
}
