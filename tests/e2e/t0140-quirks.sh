#!/usr/bin/env bash
# Producer quirks decant must read: Docker 25+ `docker save` (graphdriver
# store) and Docker with the containerd image store.
. "$(dirname "$0")/lib.sh"
D=$TESTDATA/docker-1.10

# Docker 25.0.0: the OCI manifest has no layers (moby/moby#47065); only
# manifest.json lists them. Made from a Docker 25-style archive by
# emptying the manifest's layers and fixing the digests that name it.
make_v2500() {
	decant convert -q $D/multilayer.tar docker-archive:v25.tar
	mkdir x && tar -C x -xf v25.tar
	python3 - <<'PY'
import hashlib, json, os
idx = json.load(open("x/index.json"))
old = idx["manifests"][0]["digest"].split(":")[1]
m = json.load(open("x/blobs/sha256/" + old))
m["layers"] = []
b = json.dumps(m, separators=(",", ":")).encode()
new = hashlib.sha256(b).hexdigest()
open("x/blobs/sha256/" + new, "wb").write(b)
os.remove("x/blobs/sha256/" + old)
for d in idx["manifests"]:
    d["digest"], d["size"] = "sha256:" + new, len(b)
json.dump(idx, open("x/index.json", "w"), separators=(",", ":"))
PY
	tar -C x -cf v2500.tar .
}

expect_success 'Docker 25.0.0 archives: layers come from manifest.json' '
	make_v2500 &&
	decant inspect --json v2500.tar >i.json &&
	[ "$(jq ".images[0].layers|length" i.json)" = 10 ] &&
	[ "$(jq -r ".images[0].id" i.json)" = "$(cat $TESTDATA/expected/multilayer.id)" ] &&
	decant convert -q v2500.tar oci:o && blobs_ok o &&
	m=$(jq -r ".manifests[0].digest" o/index.json | cut -d: -f2) &&
	[ "$(jq ".layers|length" o/blobs/sha256/$m)" = 10 ] &&
	decant verify -q o
' jq python3

expect_success 'Docker 25.0.0-25.0.2 untagged saves: "manifests": null' '
	decant inspect --json $SAMPLES/google+go-containerregistry/pkg/v1/tarball/testdata/hello-world-v25.tar >i.json &&
	[ "$(jq ".images|length" i.json)" = 1 ] &&
	[ "$(jq -r ".images[0].platform" i.json)" = linux/arm64 ]
' jq samples

expect_success 'containerd 1.x exports: no mediaType, missing platforms skipped' '
	decant inspect --json $SAMPLES/oras-project+oras-go/content/oci/testdata/hello-world.tar >i.json &&
	[ "$(jq ".images|length" i.json)" = 1 ] &&
	[ "$(jq -r ".images[0].platform" i.json)" = linux/amd64 ] &&
	[ "$(jq -r ".images[0].tags[0]" i.json)" = hello-world:latest ] &&
	decant convert -q $SAMPLES/oras-project+oras-go/content/oci/testdata/hello-world.tar oci:o &&
	blobs_ok o
' jq samples

expect_success 'kaniko / go-containerregistry tarballs' '
	decant convert -q $SAMPLES/wagoodman+dive/.data/test-kaniko-image.tar oci:o &&
	blobs_ok o && decant verify -q o &&
	[ "$(jq ".layers|length" o/blobs/sha256/$(jq -r ".manifests[0].digest" o/index.json | cut -d: -f2))" = 14 ]
' jq samples

expect_success 'bzip2 and xz wrappers, and stdin' '
	bzip2 -c $D/multilayer.tar >m.tar.bz2 && xz -T1 -c $D/multilayer.tar >m.tar.xz &&
	for f in m.tar.bz2 m.tar.xz; do
		[ "$(decant inspect --json $f | jq -r ".images[0].id")" = "$(cat $TESTDATA/expected/multilayer.id)" ] || exit 1
	done &&
	xz -dc m.tar.xz | decant convert -q - oci-archive:o.tar &&
	decant verify -q o.tar
' jq bzip2 xz

finish
