#!/usr/bin/env bash
# Hostile inputs, round 2 (issue 17): decoder windows and the tar index
# stay under the memory limit or are refused naming it; SIGTERM ends a
# run blocked on a stalled stdout; FIFOs in a layout do not block; text
# from archives reaches the terminal escaped; a bad RepoTags entry is bad
# input; a 250-byte destination name works. The inputs are written by
# testdata/hostile/make-hostile.sh.
. "$(dirname "$0")/lib.sh"

H=$T/hostile
MIB64=65536	# KiB, as /usr/bin/time -f %M reports
"$TESTDATA/hostile/make-hostile.sh" "$H" >"$T/make.log" 2>&1 ||
	{ cat "$T/make.log"; echo "make-hostile.sh failed"; exit 1; }

# run CMD... under a 60 s timeout; exit code in $rc, peak RSS (KiB) in
# $rss, stderr in err
measure() {
	rc=0
	/usr/bin/time -f %M -o rss timeout 60 "$DECANT" "$@" >out 2>err || rc=$?
	rss=$(tail -n 1 rss)
	echo "decant $*: exit $rc, peak RSS $rss KiB"
}

# exit 1, a message naming the limit and --max-memory, and little memory
refused_small() {
	measure "$@"
	cat err
	[ "$rc" = 1 ] && grep -q "limit" err && grep -q -- "--max-memory" err &&
		[ "$rss" -lt "$MIB64" ]
}

expect_success 'a .tar.zst with a 128 MiB window (zstd --long=27) is refused under 64 MiB' '
	refused_small inspect "$H/window-zstd.tar.zst" &&
	grep -q "zstd window is over the 16 MiB limit" err &&
	refused_small verify - <"$H/window-zstd.tar.zst"
' /usr/bin/time zstd python3

expect_success 'a .tar.xz declaring a 768 MiB dictionary is refused under 64 MiB' '
	refused_small inspect "$H/window-xz.tar.xz" &&
	grep -q "xz dictionary (769 MiB) is over the 16 MiB limit" err
' /usr/bin/time xz python3

expect_success 'wrappers over the limit decode with a larger --max-memory' '
	measure inspect --max-memory 512M "$H/window-zstd.tar.zst" && [ "$rc" = 0 ] &&
	grep -q "hostile:1" out &&
	measure verify --max-memory 4G "$H/window-xz.tar.xz" && [ "$rc" = 0 ]
' /usr/bin/time zstd xz python3

expect_success 'a zstd layer with a 128 MiB window: verify and rootfs refused under 64 MiB' '
	refused_small verify "$H/window-layer" &&
	refused_small convert -q "$H/window-layer" rootfs:root.tar &&
	no_leftovers root.tar &&
	refused_small convert -q --compress gzip "$H/window-layer" oci-archive:o.tar &&
	no_leftovers o.tar
' /usr/bin/time zstd python3

expect_success 'a zstd layer at the limit (16 MiB window) verifies and converts under 64 MiB' '
	measure verify "$H/window-ok" && [ "$rc" = 0 ] && [ "$rss" -lt "$MIB64" ] &&
	measure convert -q "$H/window-ok" rootfs:root.tar && [ "$rc" = 0 ] &&
	[ "$rss" -lt "$MIB64" ] && tar -tvf root.tar | grep -q " zeros$"
' /usr/bin/time zstd python3 bounds

expect_success 'a tar index of 20,000 4 KB names is refused under 64 MiB' '
	refused_small inspect "$H/many-names.tar.gz" &&
	grep -q "tar member index .* over the 32 MiB limit" err &&
	measure inspect --max-memory 256M "$H/many-names.tar.gz" && [ "$rc" = 0 ]
' /usr/bin/time python3 bounds

expect_success '--max-memory takes a size from 1M' '
	for bad in 0 12 1k 0.5G 5X -1M; do
		rc=0; decant inspect --max-memory "$bad" "$H/window-ok" 2>err || rc=$?
		[ "$rc" = 2 ] || { echo "--max-memory $bad: exit $rc"; exit 1; }
	done &&
	for good in 1M 64m 2G 1024MiB 1048576; do
		decant inspect --max-memory "$good" "$H/window-ok" >/dev/null
	done
' python3

# SIGTERM while blocked writing to a stdout nobody reads
sigterm_stalled() {
	mkfifo pipe
	# the reader opens the pipe and never reads
	sleep 30 <pipe & reader=$!
	"$DECANT" convert -q "$@" >pipe 2>err & pid=$!
	sleep 1
	kill -TERM "$pid"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	rc=0
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"; wait "$pid" || true
		kill "$reader" 2>/dev/null; wait "$reader" 2>/dev/null || true
		echo "$*: still running 2 s after SIGTERM"
		return 1
	fi
	wait "$pid" || rc=$?
	kill "$reader" 2>/dev/null; wait "$reader" 2>/dev/null || true
	rm -f pipe
	cat err
	[ "$rc" != 0 ] && grep -q interrupted err
}

expect_success 'SIGTERM ends a conversion blocked on a stalled stdout' '
	ML=$TESTDATA/docker-1.10/multilayer.tar &&
	sigterm_stalled "$ML" rootfs:- &&
	sigterm_stalled "$ML" oci-archive:- &&
	sigterm_stalled --compress gzip "$ML" docker-archive:- &&
	sigterm_stalled --squash "$ML" docker-legacy:-
' python3

expect_success 'a FIFO in a layout directory is refused at once, not waited on' '
	for a in "inspect $H/fifo" "verify $H/fifo" "verify $H/fifo-layer" \
		 "convert -q $H/fifo oci-archive:o.tar" \
		 "convert -q $H/fifo-layer rootfs:r.tar"; do
		rc=0; timeout 10 "$DECANT" $a 2>err || rc=$?
		cat err
		[ "$rc" = 1 ] || { echo "$a: exit $rc"; exit 1; }
		grep -q "not a regular file" err
	done &&
	no_leftovers o.tar && no_leftovers r.tar
' python3

# no raw C0 (but newline), DEL, or C1 (UTF-8 C2 80-9F) in FILE
no_controls() {
	! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$1") &&
	! LC_ALL=C grep -q $'"'"'\xc2[\x80-\x9f]'"'"' "$1"
}

expect_success 'inspect prints os/architecture with control characters escaped' '
	decant inspect "$H/control-chars.tar" >out &&
	cat -v out && no_controls out &&
	grep -qF "platform:  linux\x1b[2K\x0d/amd64\x7f\xc2\x9b31m" out
' python3

expect_success 'inspect --json leaves no raw control character either' '
	decant inspect --json "$H/control-chars.tar" >out &&
	cat -v out && no_controls out &&
	jq -e ".images[0].platform == \"linux\u001b[2K\r/amd64\u007f\u009b31m\"" out
' python3 jq

expect_success 'an error quoting a member name escapes its control characters' '
	rc=0; decant verify "$H/control-name.tar" >out 2>err || rc=$?
	cat -v err && [ "$rc" = 1 ] && no_controls err &&
	grep -qF "evil\x1b[2K\x0dok: verified/layer.tar" err && ! grep -q "^ok" out
' python3

expect_success 'an invalid RepoTags entry is bad input: exit 1, not 2' '
	for cmd in inspect verify; do
		rc=0; decant $cmd "$H/bad-repotag.tar" 2>err || rc=$?
		cat err; [ "$rc" = 1 ] || exit 1
		grep -q "INVALID:Tag.*invalid image reference" err
	done &&
	rc=0; decant convert -q "$H/bad-repotag.tar" oci-archive:o.tar 2>err || rc=$?
	[ "$rc" = 1 ] && no_leftovers o.tar
' python3

expect_success 'a valid 250-byte destination name is written' '
	ML=$TESTDATA/docker-1.10/multilayer.tar &&
	n=$(printf "%0250d" 0) &&
	for fmt in oci-archive docker-archive docker-legacy rootfs oci; do
		decant convert -q "$ML" "$fmt:$n" &&
		[ -e "$n" ] && [ "$(ls -A | wc -l)" = 1 ] && rm -rf "$n"
	done &&
	m=$(printf "%0200d" 0)$(printf "\xc3\xa9%.0s" $(seq 25)) &&
	decant convert -q "$ML" "oci-archive:$m" && [ -e "$m" ] &&
	[ "$(ls -A | wc -l)" = 1 ]
'

finish
