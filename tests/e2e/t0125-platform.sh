#!/usr/bin/env bash
# --platform: one parser and normalizer for every source. linux/x86_64,
# amd64 and linux/amd64 name one platform; so do linux/arm64/v8 and arm64;
# for a multi-platform OCI source they select, for a rootfs source they
# make the config.
. "$(dirname "$0")/lib.sh"

D=$TESTDATA/docker-1.10
MP=$T/mp

# A multi-platform OCI layout made from the docker-1.10 fixture: an index
# of its image (linux/amd64) and a copy whose config says linux/arm64/v8.
blob_put() {
	h=$(sha256sum "$1" | cut -d' ' -f1)
	mv "$1" "$MP/blobs/sha256/$h"
	echo "$h $(stat -c %s "$MP/blobs/sha256/$h")"
}
make_mp() {
	decant convert -q "$D/multilayer.tar" "oci:$MP"
	AMD=$(jq -r '.manifests[0].digest' "$MP/index.json")
	amd_size=$(stat -c %s "$MP/blobs/sha256/${AMD#sha256:}")
	c=$(jq -r '.config.digest' "$MP/blobs/sha256/${AMD#sha256:}")
	jq -c '.architecture = "arm64" | .variant = "v8"' \
		"$MP/blobs/sha256/${c#sha256:}" >"$T/cfg"
	read -r ch cs <<<"$(blob_put "$T/cfg")"
	jq -c --arg d "sha256:$ch" --argjson s "$cs" '.config.digest = $d | .config.size = $s' \
		"$MP/blobs/sha256/${AMD#sha256:}" >"$T/man"
	read -r mh ms <<<"$(blob_put "$T/man")"
	ARM=sha256:$mh
	jq -n -c --arg a "$AMD" --argjson asz "$amd_size" --arg b "$ARM" --argjson bsz "$ms" '
		{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
		 manifests: [
		  {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $asz,
		   platform: {architecture: "amd64", os: "linux"}},
		  {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $bsz,
		   platform: {architecture: "arm64", os: "linux", variant: "v8"}}]}' >"$T/idx"
	read -r ih is <<<"$(blob_put "$T/idx")"
	jq -n -c --arg d "sha256:$ih" --argjson s "$is" '
		{schemaVersion: 2, manifests: [
		  {mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
		   annotations: {"org.opencontainers.image.ref.name": "1.0"}}]}' >"$MP/index.json"
}
have jq && make_mp
export AMD ARM

# The architecture in the config of the one image of a docker-archive.
docker_arch() {
	cfg=$(tar -xOf "$1" manifest.json | jq -r '.[0].Config')
	tar -xOf "$1" "$cfg" | jq -r '.architecture + (if .variant then "/" + .variant else "" end)'
}

expect_success 'the fixture: one index of linux/amd64 and linux/arm64/v8' '
	decant inspect --json "$MP" >i.json
	[ "$(jq -r "[.images[].platform] | sort | join(\",\")" i.json)" = "linux/amd64,linux/arm64/v8" ]
	decant verify -q "$MP"
' jq

expect_success '--platform linux/x86_64, amd64, linux/amd64 select the amd64 image of an OCI source' '
	for p in linux/x86_64 amd64 linux/amd64 x86_64 LINUX/AMD64; do
		decant convert -q --platform "$p" "$MP" docker-archive:a.tar
		[ "$(docker_arch a.tar)" = amd64 ] || { echo "$p: $(docker_arch a.tar)"; exit 1; }
		decant convert -q --platform "$p" "$MP" oci:o
		[ "$(jq -r "[.manifests[].digest] | join(\",\")" o/index.json)" = "$AMD" ] ||
			{ echo "$p: oci"; cat o/index.json; exit 1; }
		blobs_ok o
		rm -rf a.tar o
	done
' jq

expect_success '--platform linux/arm64/v8, arm64, linux/arm64 select the arm64 image' '
	for p in linux/arm64/v8 arm64 linux/arm64 linux/aarch64 aarch64 linux/arm64/8; do
		decant convert -q --platform "$p" "$MP" docker-archive:a.tar
		[ "$(docker_arch a.tar)" = arm64/v8 ] || { echo "$p: $(docker_arch a.tar)"; exit 1; }
		decant convert -q --platform "$p" "$MP" oci:o
		[ "$(jq -r "[.manifests[].digest] | join(\",\")" o/index.json)" = "$ARM" ] ||
			{ echo "$p: oci"; exit 1; }
		rm -rf a.tar o
	done
' jq

expect_success 'a platform the index lacks: exit 2, nothing written' '
	rc=0
	decant convert -q --platform linux/s390x "$MP" oci:none 2>err || rc=$?
	[ "$rc" = 2 ] && grep -q "no image for linux/s390x (it has linux/amd64, linux/arm64/v8)" err ||
		{ cat err; exit 1; }
	no_leftovers none
' jq

expect_success 'the same strings make the same config for a rootfs source' '
	mkdir tree && echo hi >tree/hello.txt && tar -cf flat.tar -C tree .
	for p in linux/x86_64 amd64 linux/amd64; do
		decant convert -q --platform "$p" flat.tar docker-archive:a.tar
		[ "$(docker_arch a.tar)" = amd64 ] || { echo "$p: $(docker_arch a.tar)"; exit 1; }
	done
	for p in arm64 linux/arm64 aarch64; do
		decant convert -q --platform "$p" flat.tar docker-archive:a.tar
		[ "$(docker_arch a.tar)" = arm64 ] || { echo "$p: $(docker_arch a.tar)"; exit 1; }
	done
	# an explicit variant is kept in the config, as docker import keeps it
	decant convert -q --platform linux/arm64/v8 flat.tar docker-archive:a.tar
	[ "$(docker_arch a.tar)" = arm64/v8 ]
' jq

expect_success 'a bad --platform: exit 2 and the same message for every source' '
	mkdir tree && echo hi >tree/hello.txt && tar -cf flat.tar -C tree .
	for p in linux linux/ /amd64 linux/arm/v7/x notanarch; do
		printf "decant: error: --platform '\''%s'\'': expected OS/ARCH[/VARIANT]\n" "$p" >want
		check_error 2 want convert --platform "$p" flat.tar oci:out
		no_leftovers out
		check_error 2 want convert --platform "$p" "$MP" oci:out
		no_leftovers out
		check_error 2 want convert --platform "$p" "$D/multilayer.tar" oci:out
		no_leftovers out
	done
' jq


# issue 16, item 4: one image picked out of an index is written as that
# image: every blob it references is there, and consumers address it
expect_success '--image @N out of a multi-platform index into oci: a whole layout of that image' '
	decant convert -q --image @1 "$MP" oci:one
	decant verify -q one
	[ "$(jq -r ".manifests|length" one/index.json)" = 1 ]
	[ "$(jq -r ".manifests[0].digest" one/index.json)" = "$ARM" ]
	for b in $(jq -r ".manifests[].digest" one/index.json); do
		[ -f "one/blobs/sha256/${b#sha256:}" ]
	done
	[ "$(skopeo inspect oci:one:1.0 | jq -r .Architecture)" = arm64 ]
	umoci ls --layout one | grep -qx 1.0
	decant convert -q --image "$ARM" "$MP" oci-archive:one.tar
	decant verify -q one.tar
' jq skopeo umoci

expect_success '--image @N into docker-archive takes the image chosen, whatever the host' '
	decant convert -q --image @1 "$MP" docker-archive:a1.tar
	[ "$(docker_arch a1.tar)" = arm64/v8 ]
' jq

expect_success 'the whole index into oci keeps both platforms and verifies' '
	decant convert -q "$MP" oci:both
	decant verify -q both
	[ "$(decant inspect --json both | jq -r "[.images[].platform]|sort|join(\",\")")" = linux/amd64,linux/arm64/v8 ]
' jq

finish
