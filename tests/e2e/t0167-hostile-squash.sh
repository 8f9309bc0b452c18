#!/usr/bin/env bash
# Hostile inputs for the squash engine (rootfs and --squash), issue 17
# items 5-10: many hardlinks, deep paths, a layer or an image listed
# many times, hardlinks whose targets are replaced (one spool file, not a
# descriptor each), entries through a symlink out of the root, and trees
# no filesystem holds (a file under a file, hardlink cycles, self-links,
# hardlinks to directories). Each runs in under 5 s and 64 MiB, and its
# output extracts with tar and Python's tarfile without writing outside
# the extraction directory, or it is refused naming the entry. The
# inputs are written by testdata/hostile/make-squash-hostile.sh.
. "$(dirname "$0")/lib.sh"

H=$T/hostile
ESC=$T/outside	# where the breakout inputs' symlinks point
MIB64=65536	# KiB, as /usr/bin/time -f %M reports
"$TESTDATA/hostile/make-squash-hostile.sh" "$H" "$ESC" >"$T/make.log" 2>&1 ||
	{ cat "$T/make.log"; echo "make-squash-hostile.sh failed"; exit 1; }

# run decant ARGS... (60 s at most); exit code in $rc, peak RSS (KiB)
# in $rss, seconds in $secs, stderr in err
measure() {
	rc=0
	s=$(date +%s%N)
	/usr/bin/time -f %M -o rss timeout 60 "$DECANT" "$@" >out 2>err || rc=$?
	secs=$((($(date +%s%N) - s) / 1000000))
	secs=$((secs / 1000)).$(printf %03d $((secs % 1000)))
	rss=$(tail -n 1 rss)
	echo "decant $*: exit $rc, ${secs} s, peak RSS $rss KiB"
	cat err
}

# exit 0 in under 5 s and 64 MiB
fast() {
	measure "$@"
	[ "$rc" = 0 ] && [ "$rss" -lt "$MIB64" ] &&
		[ "${secs%%.*}" -lt 5 ]
}

# exit 1 quickly, the message naming $1
refused() {
	want=$1
	shift
	measure "$@"
	[ "$rc" = 1 ] && grep -qF -- "$want" err && [ "$rss" -lt "$MIB64" ] &&
		[ "${secs%%.*}" -lt 5 ]
}

# refused naming $1, as rootfs and as --squash, input $2; nothing left
refused_both() {
	refused "$1" convert -q "$2" rootfs:root.tar && no_leftovers root.tar &&
		refused "$1" convert -q --squash "$2" oci-archive:o.tar &&
		no_leftovers o.tar
}

# TAR extracts with tar -x and with Python's tarfile (its default filter)
# into fresh directories, and nothing appears outside them
extracts_safely() {
	rm -rf x1 x2 "$ESC"
	mkdir x1 x2
	timeout 60 tar -xf "$1" -C x1
	timeout 60 python3 -W ignore -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    t.extractall(sys.argv[2])' "$1" x2
	if [ -e "$ESC" ]; then
		echo "written outside the extraction directory:"
		find "$ESC"
		return 1
	fi
}

expect_success 'item 5: 60,000 hardlinks, half materialized: fast, contents right' '
	fast convert -q "$H/hardlinks.tar" rootfs:root.tar &&
	extracts_safely root.tar &&
	for i in 0 49 50 99 12345 59999; do
		j=$((i % 100))
		[ "$(cat x1/h/$(printf %05d $i))" = "v1 $j" ]
	done &&
	[ "$(cat x1/f7)" = "v2 7" ] && [ "$(cat x1/f77)" = "v1 77" ] &&
	fast convert -q --squash "$H/hardlinks.tar" oci-archive:o.tar
' /usr/bin/time python3 bounds

expect_success 'item 6: 5,000 files at depth 2,000: fast' '
	fast convert -q "$H/deep.tar" rootfs:root.tar &&
	[ "$(timeout 60 tar -tf root.tar | grep -c "/f[0-9]*$")" = 5000 ] &&
	fast convert -q --squash "$H/deep.tar" oci-archive:o.tar
' /usr/bin/time python3 bounds

expect_success 'item 7: a layer listed 400 times is read once; an image listed 5,000 times squashed once' '
	fast convert -q "$H/layer-400.tar" rootfs:root.tar &&
	[ "$(timeout 60 tar -tvf root.tar | wc -l)" = 1 ] &&
	fast verify "$H/layer-400.tar" &&
	fast convert -q --squash "$H/image-5000.tar" oci-archive:o.tar &&
	timeout 60 python3 -c "import json, sys, tarfile
t = tarfile.open(sys.argv[1]); x = json.load(t.extractfile(\"index.json\"))
m = x[\"manifests\"]
assert len(m) == 5000, len(m)
assert len({d[\"digest\"] for d in m}) == 1
" o.tar
' /usr/bin/time python3 bounds

expect_success 'item 8: 2,000 materialized hardlinks under ulimit -n 1024' '
	(ulimit -n 1024 && fast convert -q "$H/spool-2000.tar" rootfs:root.tar) &&
	extracts_safely root.tar &&
	[ "$(cat x1/l0)" = "old 0" ] && [ "$(cat x1/l1999)" = "old 1999" ] &&
	[ "$(cat x1/t5)" = "new 5" ] &&
	(ulimit -n 1024 && fast convert -q --squash "$H/spool-2000.tar" oci-archive:o.tar)
' /usr/bin/time python3

expect_success 'item 9: a symlink out of the root is replaced by the directory above it' '
	fast convert -q "$H/symlink-up.tar" rootfs:root.tar &&
	! timeout 60 tar -tvf root.tar | grep -q "^l" &&
	extracts_safely root.tar &&
	[ -d x1/opt/app/evil-abs ] && [ -f x2/opt/app/evil-abs/escaped.txt ] &&
	fast convert -q --squash "$H/symlink-up.tar" oci-archive:o.tar
' /usr/bin/time python3

expect_success 'item 9: an entry through a symlink of its own layer is refused, naming it' '
	refused_both "opt/app/evil-abs/escaped.txt" "$H/symlink-same.tar"
' /usr/bin/time

expect_success 'item 9: a hardlink through a symlink out of the root is refused, naming it' '
	refused_both "'\''pw'\'': hardlink to '\''vdir/victim'\''" "$H/link-via-symlink.tar"
' /usr/bin/time

expect_success 'item 10: a file under a lower file: the upper directory replaces it' '
	fast convert -q "$H/file-dir-up.tar" rootfs:root.tar &&
	extracts_safely root.tar &&
	[ "$(cat x1/a/b)" = below ] && [ "$(cat x2/a/b)" = below ]
' /usr/bin/time python3

expect_success 'item 10: a file under a file of the same layer is refused, naming it' '
	refused_both "'\''a/b'\'': its parent '\''a'\'' is not a directory" "$H/file-dir-same.tar"
' /usr/bin/time

expect_success 'item 10: hardlink cycles, self-links and hardlinks to directories are refused' '
	refused_both "'\''s'\'': hardlink to '\''s'\'' makes a cycle" "$H/link-self.tar" &&
	refused_both "makes a cycle of hardlinks" "$H/link-cycle.tar" &&
	refused_both "'\''hd'\'': hardlink to the directory '\''d'\''" "$H/link-dir.tar"
' /usr/bin/time

finish
