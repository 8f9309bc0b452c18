/*
 * Fuzz target: any input through format detection and every reader.
 * Open the bytes as an archive in memory, load the image set, read
 * every accessor, verify every blob, free everything. Built with
 * FUZZ_READER defined to a reader's name (as the Makefile does for
 * build/fuzz/fuzz_read_oci, _docker, _legacy, _rootfs and _dir), it is that
 * one reader's target: no detection among the others.
 *
 * Built with libFuzzer by `make fuzz CC=clang` (build/fuzz/fuzz_read),
 * and with gcc into the corpus replayer by tests/fuzz/replay.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef FUZZ_READER
#include "util/util.h"
#include "blob/blob.h"
#include "model/model.h"
#include "moby/moby.h"
#include "readers/readers.h"
#include "transform/transform.h"
#include "writers/writers.h"
#include "convert/convert.h"
#else
#include "decant/decant.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch everything a reader produced, so that sanitizers see it. */
static size_t walk(const struct dc_set *set)
{
	size_t i, j, sum = strlen(dc_set_format(set));

	for (i = 0; i < dc_set_count(set); i++) {
		const struct dc_image *img = dc_set_image(set, i);
		const struct dc_desc *d;

		for (j = 0; j < dc_image_tag_count(img); j++)
			sum += strlen(dc_image_tag(img, j));
		sum += strlen(dc_image_platform(img)) + strlen(dc_image_id(img));
		d = dc_image_manifest(img);
		sum += strlen(dc_desc_media_type(d)) + strlen(dc_desc_digest(d)) +
		       (size_t)dc_desc_size(d);
		d = dc_image_config(img);
		sum += strlen(dc_desc_media_type(d)) + strlen(dc_desc_digest(d));
		for (j = 0; j < dc_image_layer_count(img); j++) {
			d = dc_image_layer(img, j);
			sum += strlen(dc_desc_media_type(d)) +
			       strlen(dc_desc_digest(d)) +
			       strlen(dc_desc_compression(d));
			if (dc_desc_diff_id(d))
				sum += strlen(dc_desc_diff_id(d));
		}
	}
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_ctx *ctx = NULL;
	struct dc_reader *r = NULL;
	struct dc_set *set = NULL;
	volatile size_t sink;

	if (dc_ctx_new(&ctx) < 0)
		return 0;
#ifdef FUZZ_READER
	/* one reader only: the fuzzer learns to pass its bid, not another's */
	if (dc__reader_open_memory_as(ctx, &r, data, size, FUZZ_READER) == 0 &&
#else
	if (dc_reader_open_memory(ctx, &r, data, size) == 0 &&
#endif
	    dc_reader_load(r, &set) == 0) {
		sink = walk(set);
		(void)sink;
		dc_reader_verify(r, set);
	}
	/* every failure leaves a message */
	if (dc_ctx_errcode(ctx) && !*dc_ctx_errmsg(ctx))
		__builtin_trap();
	dc_set_free(set);
	dc_reader_free(r);
	dc_ctx_free(ctx);
	return 0;
}
