#!/usr/bin/env bash
# decant's docker-archive output must load in a real dockerd (20.10) with
# the right files (docker create + export: no container started; the first
# test alone runs one) and import into containerd (and run there). `docker load` skips layers the daemon already
# has, so every load check gets a daemon that has never seen the image: a
# fresh dockerd is started before each test, and the test proves the store is
# empty before loading.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd.sh"

have_docker() { have dockerd && have docker; }

# Fails unless the daemon holds no image at all.
daemon_is_empty() {
	ids=$(docker images -a -q)
	[ -z "$ids" ] || { echo "daemon is not fresh: $ids"; return 1; }
}

# run_is IMAGE EXPECTED_FILE: `docker run` prints exactly the expected text.
# The one docker test that starts a container; the others read files.
run_is() {
	docker run --rm --network none "$1" >run.out
	cmp "$2" run.out || { echo "docker run $1 printed:"; cat run.out; return 1; }
}

# id_is REF ID
id_is() {
	got=$(docker inspect -f '{{.Id}}' "$1")
	[ "$got" = "$2" ] || { echo "$1: image ID $got, expected $2"; return 1; }
}

have_docker && fresh_daemon
expect_success 'docker-1.10 multilayer -> docker-archive loads with the same ID and runs' '
	decant convert "$TESTDATA/docker-1.10/multilayer.tar" docker-archive:out.tar
	daemon_is_empty
	docker load -i out.tar >load.out
	cat load.out
	grep -qx "Loaded image: decant-test/multi:1.0" load.out
	id_is decant-test/multi:1.0 "$(cat "$TESTDATA/expected/multilayer.id")"
	run_is decant-test/multi:1.0 "$TESTDATA/expected/multilayer.txt"
' dockerd docker

have_docker && fresh_daemon
expect_success 'OCI skopeo dir (gzip layers) -> docker-archive --tag loads with its files' '
	src=$TESTDATA/oci/skopeo-dir
	m=$(jq -r ".manifests[0].digest" "$src/index.json")
	cfg=$(jq -r ".config.digest" "$src/blobs/sha256/${m#sha256:}")
	decant convert --tag decant-test/fromoci:1 "$src" docker-archive:out.tar
	daemon_is_empty
	docker load -i out.tar >load.out
	cat load.out
	grep -qx "Loaded image: decant-test/fromoci:1" load.out
	# The config bytes pass through, so the image ID is the OCI config digest.
	id_is decant-test/fromoci:1 "$cfg"
	image_says docker decant-test/fromoci:1 "$TESTDATA/expected/multilayer.txt"
' dockerd docker jq

have_docker && fresh_daemon
expect_success 'two-images.tar -> docker-archive: both images load with their IDs and files' '
	decant convert "$TESTDATA/docker-1.10/two-images.tar" docker-archive:out.tar
	daemon_is_empty
	docker load -i out.tar
	while read -r ref id; do
		id_is "$ref" "$id"
	done <"$TESTDATA/expected/two-images.ids"
	[ "$(docker images -q --no-trunc | sort -u | wc -l)" = 2 ]
	image_says docker decant-test/multi:1.0 "$TESTDATA/expected/multilayer.txt"
	image_says docker decant-test/multi:latest "$TESTDATA/expected/multilayer.txt"
	image_says docker decant-test/small:2.0 "$TESTDATA/expected/small.txt"
' dockerd docker jq

have_docker && fresh_daemon
expect_success 'docker-archive written to stdout, gzipped, loads with docker load' '
	decant convert "$TESTDATA/docker-1.10/multilayer.tar" docker-archive:- | gzip -n >out.tar.gz
	gzip -t out.tar.gz
	daemon_is_empty
	docker load -i out.tar.gz
	id_is decant-test/multi:1.0 "$(cat "$TESTDATA/expected/multilayer.id")"
	image_says docker decant-test/multi:1.0 "$TESTDATA/expected/multilayer.txt"
' dockerd docker gzip jq

# containerd (the one this dockerd runs) in its own namespace: the docker
# store above does not share content with it, and "t" is a new namespace.
expect_success 'docker-archive imports into containerd (ctr) and runs' '
	decant convert "$TESTDATA/docker-1.10/multilayer.tar" docker-archive:out.tar
	sock=$DK/exec/containerd/containerd.sock
	ctr() { command ctr -a "$sock" -n t "$@"; }
	[ -z "$(ctr images ls -q)" ]
	ctr images import out.tar
	ctr images ls -q >refs
	cat refs
	grep -qx docker.io/decant-test/multi:1.0 refs
	ctr images check >check.out
	grep "^docker.io/decant-test/multi:1.0 .* complete " check.out || { cat check.out; exit 1; }
	timeout 60 ctr -a "$sock" -n t run --rm docker.io/decant-test/multi:1.0 decant-t0060 >run.out
	cmp "$TESTDATA/expected/multilayer.txt" run.out
' dockerd docker ctr

finish
