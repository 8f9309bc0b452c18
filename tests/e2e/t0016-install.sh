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

finish
