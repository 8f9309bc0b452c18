#!/usr/bin/env bash
# Malformed input (testdata/bad/, one file per failure class; see
# testdata/README.md): exit 1, exactly the one-line message in <name>.stderr,
# and nothing left at the destination. Also: a failed conversion leaves an
# existing destination alone, and a destination that is the source is refused.
. "$(dirname "$0")/lib.sh"

BAD=$TESTDATA/bad

# The messages name the source as given on the command line, so decant runs
# in testdata/bad with the bare file name; output goes to $T/work.
# bad_case NAME FILE: both an oci: directory and an oci-archive: tar.
bad_case() {
	expect_success "$1: exit 1, exact message, no output" '
		cd "$TESTDATA/bad"
		check_error 1 '"$1"'.stderr convert '"$2"' "oci:$T/work/out"
		no_leftovers "$T/work/out"
		check_error 1 '"$1"'.stderr convert '"$2"' "oci-archive:$T/work/out.tar"
		no_leftovers "$T/work/out.tar"
		[ -z "$(ls -A "$T/work")" ] || { ls -la "$T/work"; exit 1; }
	'
}

expect_success 'the bases of testdata/bad convert (each bad file breaks one thing)' '
	for b in base-docker base-oci; do
		decant convert "$TESTDATA/bad/$b.tar" "oci:$b"
		blobs_ok "$b"
		decant verify "$TESTDATA/bad/$b.tar"
	done
'

# containers
bad_case truncated-tar truncated-tar.tar
bad_case truncated-gzip truncated-gzip.tar.gz
bad_case empty-archive empty-archive.tar
bad_case empty-file empty-file.tar
bad_case not-a-tar not-a-tar.tar
# missing members
bad_case missing-layer missing-layer.tar
bad_case missing-config missing-config.tar
# lies
bad_case digest-lie digest-lie.tar
bad_case size-lie size-lie.tar
bad_case diffid-lie diffid-lie.tar
# paths and links
bad_case member-traversal member-traversal.tar
bad_case layers-traversal layers-traversal.tar
bad_case config-absolute config-absolute.tar
bad_case symlink-escape symlink-escape.tar
bad_case hardlink-escape hardlink-escape.tar
# JSON
bad_case invalid-json invalid-json.tar
bad_case manifest-object manifest-object.tar
bad_case index-manifests-string index-manifests-string.tar
# indexes
bad_case index-cycle index-cycle.tar
bad_case index-too-deep index-too-deep.tar
bad_case unknown-mediatype unknown-mediatype.tar
# archives with two meanings (also in t0124-hybrid-dir.sh)
bad_case hybrid-disagree hybrid-disagree.tar
bad_case hybrid-names hybrid-names.tar
bad_case hybrid-unlisted hybrid-unlisted.tar
bad_case manifest-key-case manifest-key-case.tar

expect_success 'oversized-json (9 MiB manifest.json, built now): exit 1, exact message, no output' '
	"$TESTDATA/bad/make-bad.sh" --oversized "$T/work"
	check_error 1 "$TESTDATA/bad/oversized-json.stderr" convert oversized-json.tar oci:out
	no_leftovers out
	check_error 1 "$TESTDATA/bad/oversized-json.stderr" convert oversized-json.tar oci-archive:out.tar
	no_leftovers out.tar
' python3

expect_success 'every bad file has its .stderr and a test here' '
	cd "$TESTDATA/bad"
	for f in *.tar *.tar.gz; do
		case $f in base-*) continue ;; esac
		n=${f%.gz}
		n=${n%.tar}
		[ -f "$n.stderr" ] || { echo "$f has no $n.stderr"; exit 1; }
		grep -q "^bad_case $n $f\$" "$TOP/tests/e2e/t0070-bad-input.sh" ||
			{ echo "$f has no bad_case line"; exit 1; }
	done
	for e in *.stderr; do
		[ "$(wc -l <"$e")" = 1 ] || { echo "$e is not one line"; exit 1; }
		grep -q "^decant: error: " "$e" || { echo "$e: wrong prefix"; exit 1; }
	done
'

expect_success 'a failed conversion leaves an existing oci-archive destination untouched' '
	for b in digest-lie missing-layer truncated-tar; do
		printf "precious\n" >out.tar
		rc=0
		decant convert "$TESTDATA/bad/$b.tar" oci-archive:out.tar 2>err || rc=$?
		[ "$rc" = 1 ] || { echo "$b: exit $rc"; cat err; exit 1; }
		[ "$(cat out.tar)" = precious ] || { echo "$b: out.tar was changed"; exit 1; }
		[ -z "$(ls -A | grep -v -x -e out.tar -e err)" ] || { echo "$b left:"; ls -la; exit 1; }
	done
'

# (decant refuses a non-empty directory for now, exit 2; once it adds to an
# existing layout, the failure must still leave it alone.)
expect_success 'a failed conversion into an existing oci layout leaves it as it was' '
	decant convert "$TESTDATA/bad/base-oci.tar" oci:lay
	snap() { (cd lay && find . -printf "%p %s %m\n" | sort && find . -type f -exec sha256sum {} + | sort); }
	snap >before
	for b in digest-lie size-lie missing-layer; do
		rc=0
		decant convert "$TESTDATA/bad/$b.tar" oci:lay 2>err || rc=$?
		case $rc in 1|2) ;; *) echo "$b: exit $rc"; cat err; exit 1 ;; esac
		snap >after
		diff -u before after || { echo "$b changed the layout"; exit 1; }
		[ -z "$(ls -A | grep -v -x -e lay -e err -e before -e after)" ] || { ls -la; exit 1; }
	done
'

# A destination that is the source, by any name, is refused before anything
# is written: exit 1 or 2, one error line, the source byte-identical.
expect_success 'a destination that is the source is refused (tar, by name, ./name, symlink, hardlink)' '
	refused() { # SRC DEST...
		src=$1
		shift
		cp "$src" copy
		rc=0
		decant convert "$@" 2>err || rc=$?
		case $rc in 1|2) ;; *) echo "$*: exit $rc"; exit 1 ;; esac
		[ "$(wc -l <err)" = 1 ] && grep -q "^decant: error: " err || { cat err; exit 1; }
		cmp "$src" copy || { echo "$*: the source was changed"; exit 1; }
		! ls -A | grep -q "\.tmp-" || { echo "$*: temp file left"; ls -la; exit 1; }
		rm copy
	}
	cp "$TESTDATA/bad/base-oci.tar" in.tar
	refused in.tar in.tar oci-archive:in.tar
	refused in.tar in.tar oci-archive:./in.tar
	refused in.tar in.tar "oci-archive:$PWD/in.tar"
	refused in.tar in.tar docker-archive:in.tar
	ln -s in.tar sym.tar
	refused in.tar in.tar oci-archive:sym.tar
	refused in.tar sym.tar oci-archive:in.tar
	ln in.tar hard.tar
	refused in.tar in.tar oci-archive:hard.tar
'

expect_success 'an oci layout converted into itself is refused and unchanged' '
	decant convert "$TESTDATA/bad/base-oci.tar" oci:lay
	(cd lay && find . -type f -exec sha256sum {} + | sort) >before
	rc=0
	decant convert lay oci:lay 2>err || rc=$?
	case $rc in 1|2) ;; *) echo "exit $rc"; exit 1 ;; esac
	[ "$(wc -l <err)" = 1 ] && grep -q "^decant: error: " err || { cat err; exit 1; }
	rc=0
	decant convert oci:lay oci:./lay/ 2>err || rc=$?
	case $rc in 1|2) ;; *) echo "oci:./lay/: exit $rc"; exit 1 ;; esac
	(cd lay && find . -type f -exec sha256sum {} + | sort) >after
	diff -u before after
'

expect_success 'nothing was written into testdata/bad' '
	cd "$TESTDATA/bad"
	! ls -A | grep -v -E "^(make-bad\.sh|[a-z0-9-]+\.(tar|tar\.gz|stderr))\$"
	! ls -A | grep -q "\.tmp-"
'

finish
