#!/usr/bin/env bash
# The command-line contract: help, version, exit codes, usage errors.
. "$(dirname "$0")/lib.sh"

ML=$TESTDATA/docker-1.10/multilayer.tar

# run_rc CODE ARGS...: run decant, which must exit with CODE; stdout in
# ./out, stderr in ./err.
run_rc() {
	want=$1
	shift
	rc=0
	"$DECANT" "$@" >out 2>err || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "decant $*: exit $rc, expected $want; stderr:"
		cat err
		return 1
	fi
}

# A usage error: exit 2, nothing on stdout, a "decant: error:" line first
# on stderr, and no file left in the cwd.
usage_err() {
	run_rc 2 "$@" || return 1
	[ ! -s out ] || { echo "stdout not empty:"; cat out; return 1; }
	head -n1 err | grep -q '^decant: error: ' ||
		{ echo "stderr does not start with 'decant: error:':"; cat err; return 1; }
	left=$(find . -mindepth 1 -maxdepth 1 ! -name out ! -name err)
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
}


expect_success '--help exits 0 and names every command, format and option' '
	run_rc 0 --help
	[ ! -s err ]
	for w in "decant convert" "decant inspect" "decant verify" \
		docker-archive docker-legacy " oci " oci-archive \
		--image --tag --compress --level --threads --json --quiet \
		--progress --version "Exit status"; do
		grep -q -e "$w" out || { echo "--help lacks \"$w\""; exit 1; }
	done
	cp out help.txt
	run_rc 0 -h
	cmp out help.txt
	run_rc 0 help
	cmp out help.txt
'

expect_success '--version and -V print "decant X.Y.Z" and the codecs built in' '
	run_rc 0 --version
	[ ! -s err ]
	[ "$(wc -l <out)" = 2 ]
	head -n1 out | grep -Eq "^decant [0-9]+\.[0-9]+\.[0-9]+$"
	sed -n 2p out | grep -q "^zstd [0-9.]*, zlib "
	cp out v.txt
	run_rc 0 -V
	cmp out v.txt
'

expect_success 'no arguments: usage error' '
	usage_err
'

expect_success 'unknown command: usage error naming it, with the --help hint' '
	usage_err frobnicate x
	grep -q frobnicate err
	grep -q "decant --help" err
	usage_err --level 3
'

expect_success 'convert with a wrong number of arguments: usage error' '
	usage_err convert
	usage_err convert "$ML"
	# several SRCs make one bundle: the last argument is DEST
	usage_err convert "$ML" "$ML" "$ML"
'

expect_success 'inspect needs exactly one SRC, verify at least one' '
	usage_err inspect
	usage_err verify
	usage_err inspect "$ML" "$ML"
	decant verify -q "$ML" "$ML"
	decant verify --json "$ML" | jq -e .ok
' jq

expect_success 'DEST without FORMAT: is a usage error and writes nothing' '
	usage_err convert "$ML" out.tar
	usage_err convert "$ML" ./dir
	usage_err convert "$ML" oci:
'

expect_success 'unknown output format: usage error, nothing written' '
	usage_err convert "$ML" tarball:x.tar
	grep -q tarball err
	usage_err convert "$ML" OCI:x
'

expect_success 'oci (a directory) to stdout: usage error' '
	usage_err convert "$ML" oci:-
'

expect_success '--compress bogus: usage error' '
	usage_err convert --compress bogus "$ML" oci:x
	grep -q bogus err
	usage_err convert --compress "" "$ML" oci:x
	usage_err convert --compress GZIP "$ML" oci:x
'

expect_success '--level outside gzip 1-9 / zstd 1-22: usage error' '
	usage_err convert --compress gzip --level 0 "$ML" oci:x
	usage_err convert --compress gzip --level 10 "$ML" oci:x
	usage_err convert --compress gzip --level abc "$ML" oci:x
	usage_err convert --compress zstd --level 0 "$ML" oci:x
	usage_err convert --compress zstd --level 23 "$ML" oci:x
	usage_err convert --compress zstd --level -1 "$ML" oci:x
'

expect_success '--level at the documented limits is accepted' '
	run_rc 0 convert -q --compress gzip --level 9 "$ML" oci:g9
	run_rc 0 convert -q --compress zstd --level 22 "$ML" oci:z19
	blobs_ok g9
	blobs_ok z19
'

expect_success '--threads 0 and unknown options: usage errors' '
	usage_err convert --threads 0 "$ML" oci:x
	usage_err convert --threads many "$ML" oci:x
	run_rc 2 convert --no-such-option "$ML" oci:x
	[ ! -s out ]
	grep -q "decant --help" err
	[ ! -e x ]
'

expect_success '--tag with several selected images: usage error, no output' '
	usage_err convert --tag foo/bar:baz "$TESTDATA/docker-1.10/two-images.tar" oci:x
'

expect_success '--tag with an invalid reference: usage error' '
	usage_err convert --tag "Foo/Bar:baz" "$ML" oci:x
	usage_err convert --tag "a:b:c" "$ML" oci:x
	usage_err convert --tag "" "$ML" oci:x
'

expect_success 'inspect of a nonexistent path: exit 1, decant: error: naming it' '
	run_rc 1 inspect "$T/no/such/file.tar"
	[ ! -s out ]
	head -n1 err | grep -q "^decant: error: "
	grep -q "no/such/file.tar" err
	run_rc 1 inspect --json "$T/no/such/file.tar"
	[ ! -s out ]
	head -n1 err | grep -q "^decant: error: "
'

expect_success 'verify and convert of a nonexistent path: exit 1, no output' '
	run_rc 1 verify "$T/nope.tar"
	head -n1 err | grep -q "^decant: error: "
	run_rc 1 convert "$T/nope.tar" oci-archive:o.tar
	head -n1 err | grep -q "^decant: error: "
	no_leftovers o.tar
	run_rc 1 convert "$T/nope.tar" oci:o
	no_leftovers o
'

expect_success 'SRC with the wrong FORMAT: prefix fails with exit 1' '
	run_rc 1 inspect "oci:$ML"
	head -n1 err | grep -q "^decant: error: "
	run_rc 1 convert "docker-legacy:$TESTDATA/oci/skopeo-dir" oci:o
	head -n1 err | grep -q "^decant: error: "
	no_leftovers o
'

expect_success 'DEST that is the SRC is refused and SRC is untouched' '
	cp "$ML" self.tar
	rc=0
	decant convert self.tar docker-archive:self.tar 2>err || rc=$?
	[ "$rc" = 1 ] || [ "$rc" = 2 ]
	grep -q "^decant: error: " err
	cmp self.tar "$ML"
'

expect_success 'convert --help prints the usage on stdout, exit 0' '
	run_rc 0 convert --help
	grep -q "^Usage: decant convert" out
'

finish
