#!/usr/bin/env bash
# The CLI leaks nothing and touches no uninitialized memory, on the main
# paths and on a failure (valgrind; the ASan run covers the rest).
. "$(dirname "$0")/lib.sh"

# valgrind cannot run a sanitizer build, which checks the same things
if ldd "$DECANT" 2>/dev/null | grep -q -e libasan -e libubsan; then
	echo "# $SCRIPT: $DECANT is a sanitizer build: valgrind runs on the plain build"
	exit 0
fi

vg() {
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		"$DECANT" "$@"
}
D=$TESTDATA/docker-1.10

expect_success 'inspect, verify' '
	vg inspect --json $D/two-images.tar >/dev/null &&
	vg verify -q $TESTDATA/oci/skopeo-dir
' valgrind

expect_success 'convert to every format' '
	vg convert -q $D/multilayer.tar.gz oci:o &&
	vg convert -q $TESTDATA/oci/skopeo.tar docker-archive:d.tar &&
	vg convert -q $D/two-images.tar oci-archive:o.tar &&
	vg convert -q $D/multilayer.tar rootfs:r.tar
' valgrind

expect_success 'squash and recompress' '
	vg convert -q --squash-last 3 --compress zstd $D/multilayer.tar oci:s
' valgrind

expect_success 'a failing conversion' '
	rc=0
	vg convert -q $TESTDATA/bad/digest-lie.tar oci:bad 2>err || rc=$?
	[ $rc = 1 ] && ! grep -q "==" err
' valgrind

finish
