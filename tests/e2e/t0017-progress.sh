#!/usr/bin/env bash
# A progress line on stderr only when it is a terminal (or --progress),
# never with -q, and never on a pipe.
. "$(dirname "$0")/lib.sh"
ML=$TESTDATA/docker-1.10/multilayer.tar

expect_success 'on a terminal: blob n/N, bytes, rate' '
	script -qec "$DECANT convert $ML oci:o" /dev/null >tty.out &&
	grep -q "decant: blob [0-9]*/[0-9]*  .*B / .*B  .*/s" tty.out
' script

expect_success 'on a terminal with -q: nothing' '
	script -qec "$DECANT convert -q $ML oci:o" /dev/null >tty.out &&
	[ ! -s tty.out ]
' script

expect_success 'not a terminal: nothing; --progress forces it' '
	decant convert $ML oci:a 2>err && [ ! -s err ] &&
	decant convert --progress $ML oci:b 2>err &&
	grep -q "decant: blob .*/s" err
'

finish
