#!/usr/bin/env bash
# Atomic output: interrupted or failing conversions leave nothing behind,
# and never touch an existing destination or the source.
. "$(dirname "$0")/lib.sh"

# a docker-save archive with one 96 MiB incompressible layer, made once
BIG=$T/big.tar
make_big() {
	d=$T/bigsrc
	mkdir -p "$d/l" "$d/a"
	head -c $((96 << 20)) /dev/urandom >"$d/l/blob"
	tar -C "$d/l" -cf "$d/layer.tar" blob
	h=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	mkdir "$d/a/$h"
	mv "$d/layer.tar" "$d/a/$h/layer.tar"
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$h" >"$d/a/c.json"
	printf '[{"Config":"c.json","RepoTags":["big/one:1"],"Layers":["%s/layer.tar"]}]' "$h" >"$d/a/manifest.json"
	tar -C "$d/a" -cf "$BIG" .
	rm -rf "$d"
}
make_big

# start a slow conversion (single-threaded zstd -19 of 96 MiB of random
# bytes: tens of seconds), signal it while
# it runs (recompression spools first, so the destination temp name may
# not exist yet: either way nothing may be left), check what is left
interrupt() {
	sig=$1 dest=$2
	"$DECANT" convert -q --compress zstd --level 19 --threads 1 "$BIG" "$dest" &
	pid=$!
	sleep 1
	kill -"$sig" $pid || { echo "finished before the signal"; return 1; }
	rc=0
	wait $pid || rc=$?
	# 128 + the signal number, as a shell reports it
	want=$((128 + $(kill -l "$sig")))
	[ "$rc" = "$want" ] || { echo "exit code $rc after SIG$sig"; return 1; }
}

expect_success 'SIGINT during an oci-archive conversion leaves nothing' '
	interrupt INT oci-archive:$PWD/out.tar 2>err &&
	grep -q "interrupted" err &&
	no_leftovers out.tar
'

expect_success 'SIGTERM during an oci conversion leaves nothing' '
	interrupt TERM oci:$PWD/out 2>err &&
	no_leftovers out
'

# Compressible bytes keep zstd -19 busy in its own calls once the input
# is read (16 MB of text: read at once, 10 s of compression here, and
# 6bb0f69 heard SIGTERM only at the end, 24 s later under load): the
# signal must be heard between two calls, each under a second.
expect_success 'SIGTERM while zstd -19 compresses what it has read: out within seconds' '
	head -c $((12 << 20)) /dev/urandom | base64 >text &&
	tar -cf text.tar text &&
	"$DECANT" convert -q --compress zstd --level 19 --threads 1 rootfs:text.tar oci:$PWD/z &
	pid=$! &&
	sleep 1 &&
	kill -TERM $pid &&
	t0=$(date +%s) &&
	rc=0 && { wait $pid || rc=$?; } &&
	[ $rc = 143 ] &&
	[ $(( $(date +%s) - t0 )) -le 6 ] &&
	no_leftovers z
' bounds

expect_success 'SIGINT keeps an existing destination file as it was' '
	echo precious >out.tar &&
	interrupt INT oci-archive:$PWD/out.tar 2>err &&
	[ "$(cat out.tar)" = precious ] &&
	! ls -a | grep -q "\.tmp-"
'

expect_success 'the source is never modified' '
	sum=$(sha256sum "$BIG") &&
	"$DECANT" convert -q --squash "$BIG" docker-archive:out.tar &&
	[ "$(sha256sum "$BIG")" = "$sum" ]
'

# write failures on a real small file system
mnt=$T/mnt
mkdir -p "$mnt"
mounted=0
if mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
	mounted=1
	at_exit "umount -l $mnt"
fi

expect_success 'disk full: exit 1, the path and the reason, nothing left' '
	if [ $mounted = 0 ]; then
		[ "${CI:-}" != true ] || { echo "cannot mount tmpfs under CI"; exit 1; }
		echo "no tmpfs: skipped"; exit 0
	fi
	rc=0
	"$DECANT" convert -q "$BIG" oci-archive:$mnt/out.tar 2>err || rc=$?
	cat err
	[ $rc = 1 ] &&
	grep -q "^decant: error: .*$mnt/out.tar.*No space left on device" err &&
	[ -z "$(ls -A $mnt)" ]
'

expect_success 'disk full into an oci directory: nothing left' '
	[ $mounted = 1 ] || exit 0
	rc=0
	"$DECANT" convert -q "$BIG" oci:$mnt/out 2>err || rc=$?
	[ $rc = 1 ] && grep -q "No space left on device" err &&
	[ -z "$(ls -A $mnt)" ]
'

# a squash writes its layer through threads (O_DIRECT where it can): a
# write failing there fails the conversion
expect_success 'disk full during a squash: exit 1, the path and the reason, nothing left' '
	[ $mounted = 1 ] || exit 0
	for dest in oci:$mnt/out rootfs:$mnt/out.tar oci-archive:$mnt/out.tar; do
		rc=0
		"$DECANT" convert -q --squash "$BIG" $dest 2>err || rc=$?
		cat err
		[ $rc = 1 ] &&
		grep -q "^decant: error: .${dest#*:}.: .*No space left on device" err &&
		[ -z "$(ls -A $mnt)" ] || return 1
	done
'

expect_success 'read-only destination: exit 1 naming the path' '
	[ $mounted = 1 ] || exit 0
	mount -o remount,ro "$mnt" &&
	rc=0 &&
	{ "$DECANT" convert -q "$TESTDATA/docker-1.10/multilayer.tar" oci-archive:$mnt/x.tar 2>err || rc=$?; } &&
	mount -o remount,rw "$mnt" &&
	cat err && [ $rc = 1 ] &&
	grep -q "^decant: error: .*$mnt/x.tar.*Read-only file system" err &&
	[ -z "$(ls -A $mnt)" ]
'

# A destination that is a device or a FIFO has no file to put in its
# place: decant writes into it, as into stdout. Renaming a temp file over
# /dev/null would replace the device (it did).
expect_success 'a device or FIFO destination is written into, not replaced' '
	S=$TESTDATA/docker-1.10/multilayer.tar
	decant convert -q "$S" docker-archive:file.tar
	for d in docker-archive oci-archive rootfs docker-legacy; do
		decant convert -q --squash "$S" $d:/dev/null
		[ -c /dev/null ]
	done
	! ls /dev | grep "^null\.tmp"
	mkfifo p
	cat p >fifo.tar &
	decant convert -q "$S" docker-archive:p
	wait $!
	[ -p p ]
	cmp file.tar fifo.tar
	[ "$(ls)" = "$(printf "fifo.tar\nfile.tar\np")" ]
'

finish
