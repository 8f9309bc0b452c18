#!/usr/bin/env bash
# No traps: a tar is not written to a terminal, - is not read from one,
# contradictory options say why, typos get a "did you mean", SIGINT
# exits 130 and leaves nothing.
. "$(dirname "$0")/lib.sh"
ML=$TESTDATA/docker-1.10/multilayer.tar
TWO=$TESTDATA/docker-1.10/two-images.tar

expect_success 'a tar to a terminal is refused, as docker save does' '
	script -qec "$DECANT convert $ML docker-archive:-" /dev/null >tty.out || true
	grep -q "refusing to write a docker-archive archive to a terminal" tty.out
	script -qec "$DECANT convert -q $ML docker-archive:- | wc -c" /dev/null >ok.out
	[ "$(tr -d " \r\n" <ok.out)" -gt 10000 ]
' script

expect_success '- as SRC on a terminal fails with a hint, at once' '
	timeout 10 script -qec "$DECANT convert - oci:o" /dev/null >tty.out || true
	grep -q "standard input), which is a terminal" tty.out
	[ ! -e o ]
' script timeout

expect_success 'contradictory or meaningless options are usage errors that say why' '
	rc=0; decant convert --squash --squash-last 2 "$ML" oci:o 2>err || rc=$?
	[ $rc = 2 ] && grep -q "choose one" err
	rc=0; decant convert --level 3 "$ML" oci:o 2>err || rc=$?
	[ $rc = 2 ] && grep -q "no recompression asked for" err
	rc=0; decant convert --squash-last 99 "$ML" oci:o 2>err || rc=$?
	[ $rc = 2 ] && grep -q "has [0-9]* layers" err
	rc=0; decant convert --tag a:b "$TWO" oci:o 2>err || rc=$?
	[ $rc = 2 ] && grep -q "exactly one image, the source has 2" err
	[ ! -e o ]
'

expect_success '"did you mean" for a command, a format and an option' '
	rc=0; decant conver 2>err || rc=$?
	[ $rc = 2 ] && grep -q "did you mean .convert." err
	rc=0; decant --verison 2>err || rc=$?
	[ $rc = 2 ] && grep -q "did you mean .--version." err
	rc=0; decant convert "$ML" oci-achive:x 2>err || rc=$?
	[ $rc = 2 ] && grep -q "did you mean .oci-archive." err
	rc=0; decant convert --sqush "$ML" oci:x 2>err || rc=$?
	[ $rc = 2 ] && grep -q "did you mean .--squash." err
	rc=0; decant help conver 2>err || rc=$?
	[ $rc = 2 ]
'

expect_success 'SIGINT: exit 130, nothing left behind' '
	mkdir big
	head -c 100000000 /dev/urandom >big/blob
	tar cf big.tar big
	"$DECANT" convert -q --compress zstd --level 19 --threads 1 big.tar oci-archive:out.tar &
	pid=$!
	sleep 1
	kill -INT $pid
	rc=0; wait $pid || rc=$?
	[ $rc = 130 ]
	[ -z "$(ls | grep "out.tar")" ]
'

finish
