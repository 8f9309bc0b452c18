#!/usr/bin/env bash
# Archives that must not mean two things (Docker 25+ hybrids whose
# index.json and manifest.json disagree, manifest.json keys that Go
# matches case-insensitively), notes on zstd layers for Docker and on
# rootfs --compress, and containers/image dir: layouts read and written.
. "$(dirname "$0")/lib.sh"
BAD=$TESTDATA/bad
M=$TESTDATA/docker-1.10/multilayer.tar

# ------------------------------------------------------------- hybrids
# bad_hybrid NAME: exit 1 with exactly NAME.stderr, for convert (into oci:
# and docker-archive:) and verify, nothing left behind
bad_hybrid() {
	expect_success "$1: refused, naming the disagreement" '
		cd "$BAD"
		check_error 1 '"$1"'.stderr convert '"$1"'.tar "oci:$T/work/out"
		no_leftovers "$T/work/out"
		check_error 1 '"$1"'.stderr convert '"$1"'.tar "docker-archive:$T/work/out.tar"
		no_leftovers "$T/work/out.tar"
		rc=0; decant verify '"$1"'.tar >/dev/null 2>&1 || rc=$?
		[ $rc = 1 ]
	'
}
bad_hybrid hybrid-disagree
bad_hybrid hybrid-names
bad_hybrid hybrid-unlisted
bad_hybrid manifest-key-case

expect_success 'skopeo sees the image decant refuses to guess (the two meanings are real)' '
	skopeo inspect --config docker-archive:$BAD/hybrid-disagree.tar | jq -c .config.Cmd >a
	skopeo inspect --config docker-archive:$BAD/manifest-key-case.tar | jq -c .config.Cmd >b
	echo "[\"/bin/rm\",\"-rf\",\"/\"]" >want
	cmp a want && cmp b want
' skopeo jq

expect_success 'hybrids that agree still read: decant, ctr and Docker 25 style' '
	decant convert -q $M docker-archive:d25.tar
	decant verify -q d25.tar
	decant verify -q $TESTDATA/containerd/ctr-export.tar
	decant verify -q $TESTDATA/fuzz-seeds/read/oci-docker25.tar
	if [ -d "$SAMPLES" ]; then
		# a partial layout (other platforms not exported): it reads,
		# but verify rightly calls it incomplete
		decant inspect $SAMPLES/oras-project+oras-go/content/oci/testdata/hello-world.tar >/dev/null
		decant verify -q $SAMPLES/google+go-containerregistry/pkg/v1/tarball/testdata/hello-world-v25.tar
	fi
'

expect_success 'an image under several names: one manifest.json item per name agrees too' '
	decant convert -q $TESTDATA/docker-1.10/two-images.tar docker-archive:t.tar
	mkdir x && tar -C x -xf t.tar
	python3 - <<'"'"'PY'"'"'
import json
m = json.load(open("x/manifest.json"))
out = []
for i in m:
    for t in i["RepoTags"]:
        out.append(dict(i, RepoTags=[t]))
assert len(out) == 3
json.dump(out, open("x/manifest.json", "w"))
PY
	tar -C x -cf split.tar .
	decant verify -q split.tar
	[ "$(decant inspect --json split.tar | jq ".images[0].tags|length")" = 2 ]
' python3 jq

# manifest.json keyed as Go reads it: KEYS is a python dict literal
# mapping our field names to the keys to use
go_keys_tar() {
	mkdir x && tar -C x -xf $BAD/base-docker.tar
	python3 - "$1" <<'PY'
import json, sys
keys = eval(sys.argv[1])
m = json.load(open("x/manifest.json"))
json.dump([{keys.get(k, k): v for k, v in i.items()} for i in m],
          open("x/manifest.json", "w"), ensure_ascii=False)
PY
	tar -C x -cf go.tar .
	rm -rf x
}

expect_success 'manifest.json keys match as in Go: any case, and the long s for s' '
	go_keys_tar "{\"Config\": \"config\", \"Layers\": \"LAYERS\", \"RepoTags\": \"repotags\"}"
	decant inspect --json go.tar >i.json
	[ "$(jq -r ".images[0].tags[0]" i.json)" = decant-bad/base:1 ]
	rm go.tar
	go_keys_tar "{\"Layers\": \"Layer\u017f\", \"RepoTags\": \"Repotag\u017f\"}"
	decant verify -q go.tar
	rm go.tar
	go_keys_tar "{\"Layers\": \"layers\", \"RepoTags\": \"RepoTags\"}"
	decant verify -q go.tar
' python3 jq

expect_success 'manifest.json keys: two that Go reads as one (Layers, Layer<long s>) are refused' '
	mkdir x && tar -C x -xf $BAD/base-docker.tar
	python3 - <<'"'"'PY'"'"'
import json
m = json.load(open("x/manifest.json"))
m[0]["Layer\u017f"] = m[0]["Layers"]
json.dump(m, open("x/manifest.json", "w"), ensure_ascii=False)
PY
	tar -C x -cf two.tar .
	rc=0; decant convert two.tar oci:o 2>err || rc=$?
	[ $rc = 1 ]
	grep -q "keys \"Layers\" and \"Layer" err
	grep -q "the archive means two things" err
' python3

# ------------------------------------------------ notes on compression
expect_success 'zstd layers into docker-archive and docker-legacy: a note naming Docker 23.0' '
	for f in docker-archive docker-legacy; do
		decant convert --compress zstd $M $f:z.tar 2>err
		grep -q "^decant: note: .$f.: zstd layers load only in Docker 23.0 and later" err
		decant convert -q --compress zstd $M $f:z.tar 2>err
		[ ! -s err ]
		decant convert --compress gzip $M $f:g.tar 2>err
		! grep -q zstd err
	done
	decant convert --compress zstd $M oci-archive:o.tar 2>err
	! grep -q "Docker 23.0" err
'

expect_success 'rootfs --compress compresses the whole tar; a name that says otherwise gets a note' '
	decant convert --compress gzip $M rootfs:r.tar.gz 2>err
	[ ! -s err ]
	gzip -t r.tar.gz
	decant convert --compress zstd $M rootfs:r.tar.zst 2>err
	[ ! -s err ]
	zstd -qt r.tar.zst
	decant convert --compress gzip $M rootfs:r.tar 2>err
	grep -q "^decant: note: .r.tar.: --compress gzip compresses the whole rootfs tar, but the name says uncompressed (name it .tar.gz)" err
	gzip -t <r.tar
	decant convert $M rootfs:plain.tar.gz 2>err
	grep -q "^decant: note: .plain.tar.gz.: the name says gzip, but the rootfs tar is not compressed" err
	tar -tf plain.tar.gz >/dev/null
	decant convert --compress gzip $M rootfs:- 2>err | gzip -t
	[ ! -s err ]
' zstd

# ------------------------------------------------------- dir: layouts
expect_success 'skopeo dir: layouts read (OCI and Docker schema 2 manifests)' '
	skopeo copy -q oci-archive:$TESTDATA/oci/skopeo.tar dir:d
	skopeo copy -q --format v2s2 oci-archive:$TESTDATA/oci/skopeo.tar dir:v
	for s in d v dir:d; do
		decant inspect --json $s >i.json
		[ "$(jq -r .format i.json)" = dir ]
		[ "$(jq ".images[0].layers|length" i.json)" = 10 ]
		[ "$(jq -r ".images[0].id" i.json)" = "$(jq -r .config.digest d/manifest.json)" ]
		decant verify -q $s
	done
	decant convert -q d oci:o
	blobs_ok o
	skopeo inspect oci:o >/dev/null
	decant convert -q v docker-archive:v.tar
	skopeo inspect docker-archive:v.tar >/dev/null
' skopeo jq

expect_success 'podman save --format docker-dir reads, with the image ID docker gave it' '
	p="podman --root $T/work/root --runroot $T/work/run --storage-driver vfs"
	$p load -q -i $M >/dev/null
	$p save -q --format docker-dir -o pd decant-test/multi:1.0
	decant inspect --json pd >i.json
	[ "$(jq -r ".images[0].id" i.json)" = "$(cat $TESTDATA/expected/multilayer.id)" ]
	decant verify -q pd
	$p rmi -a -f >/dev/null 2>&1 || true
	rm -rf root run
' podman jq

expect_success 'dir: layouts with a manifest list (skopeo copy --all), some instances absent' '
	decant inspect --json $TESTDATA/fuzz-seeds/read/dir-index.tar >i.json
	[ "$(jq ".images|length" i.json)" = 1 ]
	[ "$(jq -r ".images[0].platform" i.json)" = linux/amd64 ]
	decant verify -q $TESTDATA/fuzz-seeds/read/dir-index.tar
	decant convert -q --platform linux/amd64 $TESTDATA/fuzz-seeds/read/dir-index.tar oci-archive:o.tar
	decant verify -q o.tar
' jq

expect_success 'dir: output is what skopeo reads and copies' '
	decant convert -q $M dir:e
	printf "Directory Transport Version: 1.1\n" >want
	cmp want e/version
	for f in e/*; do
		case $f in e/version|e/manifest.json) continue;; esac
		[ "$(sha256sum <"$f" | cut -d" " -f1)" = "$(basename "$f")" ]
	done
	[ "$(jq -r .config.digest e/manifest.json)" = "$(cat $TESTDATA/expected/multilayer.id)" ]
	skopeo inspect dir:e >/dev/null
	skopeo copy -q dir:e oci:f:x
	decant verify -q f
	decant inspect --json e >i.json
	[ "$(jq -r ".images[0].id" i.json)" = "$(cat $TESTDATA/expected/multilayer.id)" ]
	decant convert -q --compress zstd e dir:e2
	decant convert -q --compress zstd e dir:e2
	skopeo copy -q dir:e2 oci:g:x
	decant verify -q g
' skopeo jq

expect_success 'dir: output holds one image; an unrelated directory is not replaced' '
	rc=0; decant convert $TESTDATA/docker-1.10/two-images.tar dir:two 2>err || rc=$?
	[ $rc = 2 ]
	grep -q "^decant: error: .dir. holds one image, the selection has 2 (use --image)" err
	no_leftovers two
	decant convert -q --image decant-test/small:2.0 $TESTDATA/docker-1.10/two-images.tar dir:two
	decant verify -q two
	mkdir keep && echo mine >keep/file
	rc=0; decant convert $M dir:keep 2>err || rc=$?
	[ $rc = 2 ]
	grep -q "neither empty nor a dir: layout" err
	[ "$(cat keep/file)" = mine ]
	mkdir empty
	decant convert -q $M dir:empty
	decant verify -q empty
'

expect_success 'a layout decant does not know: "unrecognized format" and what it holds' '
	decant convert -q $M dir:d
	rm d/version
	rc=0; decant inspect d 2>err || rc=$?
	[ $rc = 1 ]
	grep -q "^decant: error: d: unrecognized format: .manifest.json. is one image manifest" err
	grep -q "it holds .manifest.json. and 10 names of 64 hex digits$" err
	mkdir other && touch other/a other/b && mkdir other/sub
	rc=0; decant inspect other 2>err || rc=$?
	[ $rc = 1 ]
	echo "decant: error: other: unrecognized format: not an OCI layout, docker save or dir: layout; it holds '"'"'a'"'"', '"'"'b'"'"', '"'"'sub'"'"'" >want
	diff want err
'

finish
