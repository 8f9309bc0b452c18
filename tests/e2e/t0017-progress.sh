#!/usr/bin/env bash
# A progress line on stderr only when it is a terminal (or --progress),
# never with -q, and never on a pipe.
. "$(dirname "$0")/lib.sh"
ML=$TESTDATA/docker-1.10/multilayer.tar

expect_success 'on a terminal: phase, blob n/N, bytes, rate; a summary' '
	script -qec "$DECANT convert $ML oci:o" /dev/null >tty.out &&
	grep -q "decant: write  blob [0-9]*/[0-9]*  .*B / .*B  .*/s" tty.out &&
	grep -q "decant: wrote 1 image ([0-9a-f]\{12\}) to oci:o: " tty.out
' script

expect_success 'on a terminal with -q: nothing' '
	script -qec "$DECANT convert -q $ML oci:o" /dev/null >tty.out &&
	[ ! -s tty.out ]
' script

expect_success 'not a terminal: nothing; --progress forces it' '
	decant convert $ML oci:a 2>err && [ ! -s err ] &&
	decant convert --progress $ML oci:b 2>err &&
	grep -q "decant: write  blob .*/s" err &&
	! grep -q "$(printf "\r")" err
'

finish
