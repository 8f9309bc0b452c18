#!/usr/bin/env bash
# make install: binary, library, headers, man page and pkg-config file,
# and a program built against the installed library works.
. "$(dirname "$0")/lib.sh"

expect_success 'make install PREFIX=... installs everything' '
	make -s -C "$TOP" install PREFIX="$T/p" >/dev/null &&
	for f in bin/decant lib/libdecant.a lib/pkgconfig/decant.pc \
		 include/decant/decant.h include/decant/read.h \
		 share/man/man1/decant.1 share/bash-completion/completions/decant \
		 share/zsh/site-functions/_decant; do
		[ -s "$T/p/$f" ] || { echo "missing $f"; exit 1; }
	done &&
	"$T/p/bin/decant" --version | grep -q "^decant " &&
	man -l "$T/p/share/man/man1/decant.1" 2>/dev/null | grep -q "decant convert" || true
' make

expect_success 'a program builds against it with pkg-config and reads an image' '
	make -s -C "$TOP" install PREFIX="$T/p" >/dev/null &&
	cat >prog.c <<-EOC
	#include <stdio.h>
	#include <decant/decant.h>
	int main(int argc, char **argv)
	{
		struct dc_ctx *ctx;
		struct dc_reader *r;
		struct dc_set *set;

		if (dc_ctx_new(&ctx) < 0 || dc_reader_open(ctx, &r, argv[1], NULL) < 0 ||
		    dc_reader_load(r, &set) < 0) {
			fprintf(stderr, "%s\n", dc_ctx_errmsg(ctx));
			return 1;
		}
		printf("%s %zu %s\n", dc_set_format(set), dc_set_count(set),
		       dc_image_id(dc_set_image(set, 0)));
		dc_set_free(set);
		dc_reader_free(r);
		dc_ctx_free(ctx);
		return argc > 2;
	}
	EOC
	export PKG_CONFIG_PATH="$T/p/lib/pkgconfig" &&
	cc -o prog prog.c $(pkg-config --cflags --libs decant) &&
	./prog "$TESTDATA/docker-1.10/multilayer.tar" >out &&
	[ "$(cat out)" = "docker-legacy 1 $(cat "$TESTDATA/expected/multilayer.id")" ]
' make cc pkg-config

expect_success 'a program analyzes an image through the public API, as decant analyze does' '
	make -s -C "$TOP" install PREFIX="$T/p" >/dev/null &&
	cat >an.c <<-EOC
	#include <inttypes.h>
	#include <stdio.h>
	#include <decant/decant.h>
	static int out(void *arg, const void *p, size_t n)
	{
		return fwrite(p, 1, n, arg) == n ? 0 : -1;
	}
	int main(int argc, char **argv)
	{
		struct dc_ctx *ctx;
		struct dc_reader *r;
		struct dc_set *set;
		struct dc_analysis *a;
		const struct dc_an_image *img;
		uint64_t files, bytes;

		if (dc_ctx_new(&ctx) < 0 || dc_reader_open(ctx, &r, argv[1], NULL) < 0 ||
		    dc_reader_load(r, &set) < 0 || dc_analyze(r, set, &a) < 0) {
			fprintf(stderr, "%s\n", dc_ctx_errmsg(ctx));
			return 1;
		}
		img = dc_analysis_image(a, 0);
		dc_an_image_hidden(img, &files, &bytes);
		printf("%zu %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %zu\n",
		       dc_an_image_layer_count(img), dc_an_image_id(img),
		       dc_an_image_wasted_bytes(img), files, bytes,
		       dc_an_image_secret_count(img));
		if (argc > 2 && dc_analysis_json(ctx, a, NULL, 0, out, stderr) < 0)
			return 1;
		dc_analysis_free(a);
		dc_set_free(set);
		dc_reader_free(r);
		dc_ctx_free(ctx);
		return 0;
	}
	EOC
	export PKG_CONFIG_PATH="$T/p/lib/pkgconfig" &&
	cc -o an an.c $(pkg-config --cflags --libs decant) &&
	./an "$TESTDATA/docker-1.10/multilayer.tar" json >got 2>got.json &&
	decant analyze --json "$TESTDATA/docker-1.10/multilayer.tar" >want.json &&
	cmp want.json got.json &&
	jq -r ".images[0] | \"\(.layers | length) \(.id) \(.wastedBytes) \(.hiddenFiles) \(.hiddenBytes) \(.secrets | length)\"" want.json >want &&
	diff -u want got
' make cc pkg-config jq

finish
