#!/usr/bin/env bash
# Round trips between formats: blobs and configs must come back byte for
# byte wherever no recompression forced a change.
#
# What "byte-stable" can mean here:
#  - A config is never rewritten (tags live outside it), so the config digest,
#    i.e. the image ID, survives every hop.
#  - Uncompressed layers are never rewritten, so once a layer is a plain tar
#    (docker save, ctr export, docker-archive, skopeo's uncompressed layout)
#    its blob survives every hop.
#  - gzip layers survive hops that keep compression (oci <-> oci-archive),
#    but not a hop through docker-archive (uncompressed by default), and
#    recompressing them does not give skopeo's bytes back; what survives
#    is the diff_id.
#  - A manifest is rewritten when media types change (Docker schema2 to OCI,
#    a wrong +gzip label); after the first hop it is stable too.
. "$(dirname "$0")/lib.sh"

ML=$TESTDATA/docker-1.10/multilayer.tar
TWO=$TESTDATA/docker-1.10/two-images.tar
CTR=$TESTDATA/containerd/ctr-export.tar
SKD=$TESTDATA/oci/skopeo-dir
SKT=$TESTDATA/oci/skopeo.tar
SKU=$TESTDATA/oci/skopeo-uncompressed-dir
ID=$(cat "$TESTDATA/expected/multilayer.id")

fail() { echo "$*"; return 1; }
same() {
	[ "$1" = "$2" ] || { printf '%s\n  got:  %s\n  want: %s\n' "${3:-mismatch}" "$1" "$2"; return 1; }
}

# manifest_of DIR [N]: path of the Nth (default 0) manifest in index.json.
manifest_of() {
	echo "$1/blobs/sha256/$(jq -r ".manifests[${2:-0}].digest | ltrimstr(\"sha256:\")" "$1/index.json")"
}

# config_and_layers DIR: digests of the config and layer blobs of every
# manifest, one per line, sorted and unique.
config_and_layers() {
	local m
	for m in $(jq -r '.manifests[].digest | ltrimstr("sha256:")' "$1/index.json"); do
		jq -r '.config.digest, .layers[].digest' "$1/blobs/sha256/$m"
	done | sort -u
}

# same_blobs A B: every config and layer blob of A is in B with the same
# bytes, and the other way round.
same_blobs() {
	local b
	same "$(config_and_layers "$1")" "$(config_and_layers "$2")" "config and layer digests" || return 1
	for b in $(config_and_layers "$1"); do
		cmp "$1/blobs/sha256/${b#sha256:}" "$2/blobs/sha256/${b#sha256:}" || return 1
	done
}

# diff_ids DIR: the rootfs.diff_ids of the first image.
diff_ids() {
	jq -c .rootfs.diff_ids "$1/blobs/sha256/$(jq -r '.config.digest | ltrimstr("sha256:")' "$(manifest_of "$1")")"
}

# untar TAR DIR
untar() { mkdir "$2" && tar -xf "$1" -C "$2"; }


expect_success 'docker save -> oci -> docker-archive -> oci: identical layouts' '
	decant convert -q "$ML" oci:a
	decant convert -q a docker-archive:b.tar
	decant convert -q b.tar oci:c
	blobs_ok a
	blobs_ok c
	diff -r a c
	same "$(jq -r .config.digest "$(manifest_of c)")" "$ID" "image id"
	# the file lists of the blob stores are identical too
	same "$(ls c/blobs/sha256)" "$(ls a/blobs/sha256)" "blob lists"
	# and docker-archive is a fixed point
	decant convert -q b.tar docker-archive:b2.tar
	cmp b.tar b2.tar
	decant convert -q "$ML" docker-archive:direct.tar
	cmp b.tar direct.tar
'

expect_success 'docker save layers and config are the source'"'"'s bytes after three hops' '
	decant convert -q "$ML" oci-archive:a.tar
	decant convert -q a.tar docker-archive:b.tar
	decant convert -q b.tar oci:c
	tar -xOf "$ML" manifest.json >m.json
	tar -xOf "$ML" "$(jq -r ".[0].Config" m.json)" | cmp - "c/blobs/sha256/${ID#sha256:}"
	i=0
	for p in $(jq -r ".[0].Layers[]" m.json); do
		d=$(jq -r ".layers[$i].digest | ltrimstr(\"sha256:\")" "$(manifest_of c)")
		if [ "$(tar -tvf "$ML" "$p" | cut -c1)" = - ]; then
			tar -xOf "$ML" "$p" | cmp - "c/blobs/sha256/$d"
		fi
		i=$((i + 1))
	done
	[ "$i" = 10 ]
'

expect_success 'two images -> oci -> docker-archive -> oci: identical layouts' '
	decant convert -q "$TWO" oci:a
	decant convert -q a docker-archive:b.tar
	decant convert -q b.tar oci:c
	diff -r a c
	jq -e ".manifests | length == 3" c/index.json
'

expect_success 'uncompressed OCI -> docker-archive -> oci: config and layers kept' '
	decant convert -q "$SKU" docker-archive:b.tar
	decant convert -q b.tar oci:c
	blobs_ok c
	same_blobs "$SKU" c
	# the +gzip label is corrected once, then stable
	decant convert -q "$SKU" oci:direct
	diff -r direct c
	same "$(jq -r ".manifests[0].annotations[\"org.opencontainers.image.ref.name\"]" c/index.json)" 1.0 ref.name
'

expect_success 'ctr export -> oci -> docker-archive -> oci: stable from the 2nd step on' '
	decant convert -q "$CTR" oci:a
	decant convert -q a docker-archive:b.tar
	decant convert -q b.tar oci:c
	diff -r a c
	decant convert -q "$CTR" docker-archive:direct.tar
	cmp direct.tar b.tar
	# the ctr export blobs (config, layers) pass through unchanged
	untar "$CTR" src
	same_blobs src c
	# only the schema2 manifest was rewritten, as an OCI one
	jq -e ".mediaType == \"application/vnd.docker.distribution.manifest.v2+json\"" "$(manifest_of src)"
	jq -e ".mediaType == \"application/vnd.oci.image.manifest.v1+json\"" "$(manifest_of c)"
	same "$(jq -r .config.digest "$(manifest_of c)")" "$ID" "image id"
'

expect_success 'gzip OCI <-> oci-archive keeps every blob' '
	decant convert -q "$SKD" oci-archive:a.tar
	decant convert -q a.tar oci:b
	decant convert -q b oci-archive:c.tar
	cmp a.tar c.tar
	diff -r "$SKD/blobs" b/blobs
	same "$(jq -c ".manifests" b/index.json)" "$(jq -c ".manifests" "$SKD/index.json")" "index.json manifests"
	decant convert -q "$SKT" oci-archive:d.tar
	cmp a.tar d.tar
'

expect_success 'gzip OCI -> docker-archive -> oci: config and diff_ids kept' '
	decant convert -q "$SKD" docker-archive:b.tar
	decant convert -q b.tar oci:plain
	decant convert -q --compress gzip b.tar oci:gz
	blobs_ok plain
	blobs_ok gz
	cfg=$(jq -r .config.digest "$(manifest_of "$SKD")")
	for d in plain gz; do
		same "$(jq -r .config.digest "$(manifest_of $d)")" "$cfg" "config digest in $d"
		cmp "$SKD/blobs/sha256/${cfg#sha256:}" "$d/blobs/sha256/${cfg#sha256:}"
		same "$(diff_ids $d)" "$(diff_ids "$SKD")" "diff_ids in $d"
	done
	# decompressed, it is exactly what skopeo wrote uncompressed
	decant convert -q "$SKU" oci:sku
	diff -r sku plain
	# recompressed, each layer unpacks to the same tar as skopeo'"'"'s
	n=0
	for l in $(jq -r ".layers[].digest | ltrimstr(\"sha256:\")" "$(manifest_of gz)"); do
		o=$(jq -r ".layers[$n].digest | ltrimstr(\"sha256:\")" "$(manifest_of "$SKD")")
		cmp <(gzip -dc "gz/blobs/sha256/$l") <(gzip -dc "$SKD/blobs/sha256/$o")
		n=$((n + 1))
	done
	[ "$n" = 10 ]
'

expect_success 'gzip and zstd round trips come back to the uncompressed layout' '
	decant convert -q "$ML" oci:ref
	decant convert -q --compress zstd "$ML" oci:z
	decant convert -q --compress none z oci:back
	diff -r ref back
	decant convert -q --compress gzip "$ML" oci-archive:g.tar
	decant convert -q g.tar docker-archive:d.tar
	decant convert -q "$ML" docker-archive:direct.tar
	cmp d.tar direct.tar
	decant convert -q --compress gzip z oci:zg
	decant convert -q --compress gzip "$ML" oci:g
	diff -r g zg
' zstd

expect_success 'a pipeline through stdin and stdout gives the same layout' '
	decant convert -q "$ML" oci:ref
	decant convert -q "$ML" oci-archive:- | decant convert -q - docker-archive:- |
		decant convert -q - oci:piped
	diff -r ref piped
'

finish
