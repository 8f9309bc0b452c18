#!/usr/bin/env bash
# docker-legacy: reading pre-1.10 `docker save` archives (no manifest.json)
# with the image IDs Docker 20.10 gives them on `docker load`, and writing
# the Docker 1.10-24 layout with the v1 IDs `docker save` makes. Checked
# against real dockerd 20.10, podman, skopeo and umoci.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd.sh"

# from the optional corpus (DECANT_SAMPLES): tests using these need "samples"
EMPTY=$SAMPLES/moby+moby/integration-cli/testdata/emptyLayer.tar
# oci output names an image by its whole reference
CENTOS=docker.io/matthughes/library-centos:6-2015.03.20
LINK=$SAMPLES/google+go-containerregistry/pkg/v1/tarball/testdata/test_link.tar
TWO_XZ=$SAMPLES/containers+skopeo/systemtest/testdata/docker-two-images.tar.xz
LEG=$TESTDATA/legacy
ML=$TESTDATA/docker-1.10/multilayer.tar
TWO=$TESTDATA/docker-1.10/two-images.tar
SKD=$TESTDATA/oci/skopeo-dir
ML_ID=$(cat "$TESTDATA/expected/multilayer.id")

E3B0=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# expected_ids FILE: the image IDs dockerd reported for FILE, sorted
expected_ids() {
	grep "^$1 " "$LEG/expected.ids" | cut -d' ' -f3 | sort -u
}

# decant_ids SRC: the image IDs decant reads from SRC, sorted
decant_ids() {
	decant inspect --json "$1" | jq -r '.images[].id' | sort -u
}

# same_legacy_dirs OUT_DIR ORIG_DIR: same v1 directories, byte-identical
# json files and layer contents (following symlinks)
same_legacy_dirs() {
	(cd "$1" && ls -d */ | sort) >got.dirs
	(cd "$2" && ls -d */ | sort) >want.dirs
	diff want.dirs got.dirs
	for d in $(cat want.dirs); do
		cmp "$2/${d}json" "$1/${d}json"
		cmp "$2/${d}VERSION" "$1/${d}VERSION"
		cmp "$2/${d}layer.tar" "$1/${d}layer.tar"
	done
}

# manifest.json without the optional Parent, items sorted by Config
norm_manifest() {
	jq -S 'map(del(.Parent)) | sort_by(.Config)' "$1"
}


have_docker() { have dockerd && have docker; }
daemon_is_empty() {
	ids=$(docker images -a -q)
	[ -z "$ids" ] || { echo "daemon is not fresh: $ids"; return 1; }
}

# ---------------------------------------------------------------- reading

expect_success 'emptyLayer.tar: 3 layers as Docker hashes them, Docker'"'"'s image ID' '
	decant inspect --json "$EMPTY" >i.json
	[ "$(jq -r .format i.json)" = docker-legacy ]
	[ "$(jq ".images | length" i.json)" = 1 ]
	[ "$(jq -c ".images[0].tags" i.json)" = "[\"matthughes/library-centos:6-2015.03.20\"]" ]
	# the 512-byte truncated tar, the 0-byte layer.tar, a real one; the
	# diff_ids are those dockerd 20.10 reports (docker inspect RootFS)
	[ "$(jq -c "[.images[0].layers[].size]" i.json)" = "[512,0,10240]" ]
	jq -r ".images[0].layers[].diffId" i.json >diffs
	printf "%s\n" sha256:f624397841595b2369935cbd47fde10171ff91347afa9a5c793275d3765e8e0d \
		$E3B0 sha256:3b90aed61465a1f294fdd312108c1e7f476b3e1b7246c8eebc0f537dec42f2de >want
	diff want diffs
	[ "$(jq -r ".images[0].id" i.json)" = "$(expected_ids emptyLayer.tar)" ]
	decant verify "$EMPTY"
' jq samples

expect_success 'crafted and Docker 0.9 legacy fixtures: the IDs dockerd 20.10 reported' '
	for f in crafted.tar docker09.tar; do
		decant_ids "$LEG/$f" >got
		expected_ids $f >want
		diff want got
	done
	# untagged leaves are images too; tags come from repositories
	decant inspect --json "$LEG/crafted.tar" >i.json
	[ "$(jq "[.images[] | select(.tags == [])] | length" i.json)" = 2 ]
	jq -r ".images[].tags[]" i.json | sort >tags
	printf "decant-test/crafted:1.0\ndecant-test/crafted:latest\n" | cmp - tags
	# a gzip layer.tar: digest of the bytes, diff_id of the tar
	[ "$(jq -r "[.images[0].layers[] | select(.compression == \"gzip\")] | length" i.json)" = 1 ]
	decant verify "$LEG/crafted.tar"
' jq

expect_success 'legacy sources: gzip-wrapped' '
	gzip -n -c "$LEG/crafted.tar" >c.tar.gz
	decant_ids c.tar.gz >got
	expected_ids crafted.tar | diff - got
' jq gzip

expect_success 'legacy sources: as a directory, and with a format prefix' '
	mkdir d
	tar -xf "$EMPTY" -C d
	[ "$(decant_ids d)" = "$(expected_ids emptyLayer.tar)" ]
	decant inspect --json docker-legacy:"$EMPTY" >/dev/null
	rc=0
	decant inspect oci:"$EMPTY" 2>err || rc=$?
	[ $rc = 1 ]
	grep -q "docker-legacy-v1" err
' jq samples

expect_success 'emptyLayer.tar -> oci: valid layout, umoci unpacks it' '
	decant convert "$EMPTY" oci:out
	blobs_ok out
	m=$(jq -r ".manifests[0].digest" out/index.json)
	[ "$(jq -r ".manifests[0].annotations[\"org.opencontainers.image.ref.name\"]" out/index.json)" = $CENTOS ]
	mf=out/blobs/sha256/${m#sha256:}
	[ "$(jq ".layers | length" $mf)" = 3 ]
	cfg=$(jq -r .config.digest $mf)
	[ "$cfg" = "$(expected_ids emptyLayer.tar)" ]
	# uncompressed layers: each digest is its diff_id
	jq -r ".layers[].digest" $mf >digests
	jq -r ".rootfs.diff_ids[]" out/blobs/sha256/${cfg#sha256:} | diff digests -
	[ "$(jq -c "[.history[].created_by]" out/blobs/sha256/${cfg#sha256:})" = "[null,\"/bin/sh -c #(nop) MAINTAINER The CentOS Project <cloud-ops@centos.org> - ami_creator\",\"/bin/sh -c #(nop) ADD file:2b2b26209d285cd1a96e8168dfb25338aa09155d0a9a6ed54a94be0bd9914461 in /\"]" ]
	oci-image-tool validate --type image --ref name=$CENTOS out
	umoci unpack --rootless --image out:$CENTOS bundle >/dev/null
	[ "$(cat bundle/rootfs/tmp/foo)" = "$(tar -xOf "$EMPTY" 25445a0fc5025c3917a0cd6e307d92322540e0da691614312ddea22511b71513/layer.tar | tar -xOf - tmp/foo)" ]
' jq umoci oci-image-tool samples

expect_success 'broken legacy archives fail naming the member' '
	A=$(printf a | sha256sum | cut -c1-64)
	B=$(printf b | sha256sum | cut -c1-64)
	mk() { # ID PARENT
		mkdir -p x/$1
		printf 1.0 >x/$1/VERSION
		printf "{\"id\":\"%s\",\"parent\":\"%s\"}" $1 $2 >x/$1/json
		: >x/$1/layer.tar
	}
	expect_fail() { # TAR PATTERN
		rc=0
		decant inspect "$1" 2>err || rc=$?
		cat err
		[ $rc = 1 ]
		grep -q -- "$2" err
	}
	mk $A $B
	tar -cf missing.tar -C x .
	expect_fail missing.tar "'"'"'$A/json'"'"': parent '"'"'$B'"'"' is missing from the archive"
	mk $B $A
	printf "{\"x\":{\"1\":\"%s\"}}" $A >x/repositories
	tar -cf loop.tar -C x .
	expect_fail loop.tar "parent chain loops back to"
	rm -rf x
	mk $A ""
	printf "{\"x\":{\"1\":\"%s\"}}" $B >x/repositories
	tar -cf repo.tar -C x .
	expect_fail repo.tar "'"'"'repositories'"'"': '"'"'x:1'"'"' points to '"'"'$B'"'"', which is not in the archive"
'

if have_docker; then fresh_daemon; fi
# SRCS: the originals to load
LOAD_ORIGINALS='
	for f in $SRCS; do
		docker rmi -f $(docker images -a -q) >/dev/null 2>&1 || true
		daemon_is_empty
		docker load -i "$f"
		docker images -a --no-trunc -q | sort -u >docker.ids
		decant_ids "$f" >decant.ids
		# every image decant reads is one dockerd made (dockerd also
		# keeps one per intermediate layer)
		comm -23 decant.ids docker.ids >missing
		[ ! -s missing ] || { echo "$f: not in dockerd:"; cat missing; exit 1; }
		# and the tags point where decant says
		decant inspect --json "$f" | jq -r ".images[] | .id as \$i | .tags[] | \"\(.) \(\$i)\"" |
		while read -r ref id; do
			[ "$(docker inspect -f "{{.Id}}" "$ref")" = "$id" ]
		done
	done
'
expect_success 'dockerd 20.10 loads the legacy originals with the IDs decant reads' \
	"SRCS='$LEG/crafted.tar $LEG/docker09.tar'; $LOAD_ORIGINALS" dockerd docker jq
expect_success 'dockerd 20.10 loads emptyLayer.tar with the ID decant reads' \
	"SRCS='$EMPTY'; $LOAD_ORIGINALS" dockerd docker jq samples

if have_docker; then fresh_daemon; fi
expect_success 'docker save of the loaded legacy fixtures: the v1 directories decant writes' '
	# dockerd computes v1 IDs from configs with Go-escaped strings, odd
	# numbers, every optional container.Config field; decant must agree
	for f in crafted.tar docker09.tar; do
		docker load -i "$LEG/$f"
		for id in $(decant_ids "$LEG/$f"); do
			rm -rf d g
			mkdir d g
			docker save "$id" | tar -xf - -C d
			decant convert --image "$id" "$LEG/$f" docker-legacy:o.tar
			tar -xf o.tar -C g
			same_legacy_dirs g d
			cmp d/${id#sha256:}.json g/${id#sha256:}.json
			# saved by ID: no tags on either side
			diff <(jq -S "map(.RepoTags = null)" d/manifest.json) \
				<(jq -S "map(.RepoTags = null)" g/manifest.json)
		done
	done
' dockerd docker jq

if have_docker; then fresh_daemon; fi
expect_success 'random legacy archives: dockerd'"'"'s image IDs, and docker save = decant docker-legacy' '
	mkdir r
	python3 "$LEG/gen-random.py" r 80 24
	for i in $(seq 0 23); do
		f=r/img$i.tar
		docker load -i $f >/dev/null
		want=$(docker inspect -f "{{.Id}}" fz/img:$i)
		got=$(decant inspect --json $f | jq -r ".images[] | select(.tags | index(\"fz/img:$i\")) | .id")
		[ "$want" = "$got" ] || { echo "img$i: dockerd $want, decant $got"; exit 1; }
		rm -rf d g
		mkdir d g
		docker save fz/img:$i | tar -xf - -C d 2>/dev/null
		decant convert $f docker-legacy:o.tar
		tar -xf o.tar -C g 2>/dev/null
		diff -r d g
	done
' dockerd docker jq python3

if have_docker; then fresh_daemon; fi
expect_success 'emptyLayer.tar -> docker-archive and -> docker-legacy load with Docker'"'"'s ID' '
	decant convert "$EMPTY" docker-archive:da.tar
	decant convert "$EMPTY" docker-legacy:lg.tar
	want=$(expected_ids emptyLayer.tar)
	for t in da.tar lg.tar; do
		docker rmi -f $(docker images -a -q) >/dev/null 2>&1 || true
		daemon_is_empty
		docker load -i $t
		[ "$(docker inspect -f "{{.Id}}" matthughes/library-centos:6-2015.03.20)" = "$want" ]
	done
	# what dockerd saves of it is what decant wrote, file for file
	mkdir saved mine
	docker save matthughes/library-centos:6-2015.03.20 | tar -xf - -C saved
	tar -xf lg.tar -C mine
	diff -r saved mine
' dockerd docker samples

# ---------------------------------------------------------------- writing

expect_success 'multilayer.tar -> docker-legacy: the same v1 IDs, JSONs and manifest as docker save' '
	decant convert "$ML" docker-legacy:out.tar
	mkdir got want
	tar -xf out.tar -C got
	tar -xf "$ML" -C want
	same_legacy_dirs got want
	cmp want/manifest.json got/manifest.json
	cmp want/repositories got/repositories
	cmp want/${ML_ID#sha256:}.json got/${ML_ID#sha256:}.json
	# the repeated dup.txt layer is a symlink to its first directory
	tar -tvf out.tar | grep "^l" >links
	[ $(wc -l <links) = 1 ]
	grep -q "/layer.tar -> \.\./[0-9a-f]\{64\}/layer.tar$" links
	# the tar is well formed for an independent reader
	tar -tf out.tar >/dev/null
' jq

# SRCS: the Docker saves to write back
SAME_V1_IDS='
	for src in $SRCS; do
		rm -rf got want
		mkdir got want
		decant convert "$src" docker-legacy:out.tar
		tar -xf out.tar -C got
		case $src in
		*.xz) xz -dc "$src" | tar -xf - -C want ;;
		*) tar -xf "$src" -C want ;;
		esac
		same_legacy_dirs got want
		# docker save writes items in map order; Parent is not modelled
		diff <(norm_manifest want/manifest.json) <(norm_manifest got/manifest.json)
		diff <(jq -S . want/repositories) <(jq -S . got/repositories)
	done
'
expect_success 'two-images.tar keeps its v1 IDs' "SRCS='$TWO'; $SAME_V1_IDS" jq
expect_success 'real Docker saves (test_link, docker-two-images) keep their v1 IDs' \
	"SRCS='$LINK $TWO_XZ'; $SAME_V1_IDS" jq xz samples

expect_success 'docker-legacy output: skopeo inspects it, decant reads it back, stdout works' '
	decant convert "$TWO" docker-legacy:out.tar
	skopeo inspect docker-archive:out.tar:decant-test/multi:1.0 >s.json
	skopeo inspect --config docker-archive:out.tar:decant-test/multi:1.0 >/dev/null
	[ "$(jq ".Layers | length" s.json)" = 10 ]
	decant inspect --json out.tar >i.json
	[ "$(jq -r .format i.json)" = docker-legacy ]
	decant_ids out.tar >got
	decant_ids "$TWO" | diff - got
	decant verify out.tar
	decant convert "$ML" docker-legacy:- >stdout.tar
	tar -xOf stdout.tar manifest.json | cmp - <(tar -xOf "$ML" manifest.json)
	# refusing a directory destination leaves nothing behind
	mkdir isdir
	rc=0
	decant convert "$ML" docker-legacy:isdir 2>err || rc=$?
	[ $rc != 0 ]
	grep -q "is a directory" err
	if ls -a . | grep -q "^isdir\.tmp-"; then echo "temp file left"; exit 1; fi
' skopeo jq

expect_success 'a legacy (pre-1.10) source written as docker-legacy keeps its ID' '
	decant convert "$EMPTY" docker-legacy:e.tar
	[ "$(decant_ids e.tar)" = "$(expected_ids emptyLayer.tar)" ]
' jq samples

# Into a file, the layers are copied into gaps left after their headers,
# several at once, verified as they go (a squashed layer is copied in by the
# kernel); into a pipe they are streamed. The bytes must be the same.
expect_success 'docker-legacy into a file is stdout byte for byte; a bad layer fails it' '
	for args in "$TWO" "$ML" "--squash $ML" "--squash-last 2 $TWO" \
		    "--tag decant-test/fromoci:1 $SKD"; do
		rm -f f.tar p.tar
		decant convert -q $args docker-legacy:f.tar
		decant convert -q $args docker-legacy:- >p.tar
		cmp f.tar p.tar || { echo "differs: $args"; exit 1; }
		decant verify f.tar >/dev/null
	done
	# one byte flipped in the middle of the first layer
	python3 - "$ML" bad.tar <<-PY
	import json, sys, tarfile
	src, out = sys.argv[1], sys.argv[2]
	data = bytearray(open(src, "rb").read())
	with tarfile.open(src) as t:
	    m = t.getmember(json.load(t.extractfile("manifest.json"))[0]["Layers"][0])
	data[m.offset_data + m.size // 2] ^= 0x20
	open(out, "wb").write(data)
	PY
	rc=0
	decant convert -q bad.tar docker-legacy:o.tar 2>err || rc=$?
	[ $rc = 1 ] && grep -q "diff_id mismatch" err || { echo "exit $rc"; cat err; exit 1; }
	no_leftovers o.tar
' python3

expect_success 'OCI skopeo-dir (gzip layers) -> docker-legacy: uncompressed layer.tar files' '
	decant convert --tag decant-test/fromoci:1 "$SKD" docker-legacy:out.tar
	mkdir x
	tar -xf out.tar -C x
	cfg=$(jq -r ".[0].Config" x/manifest.json)
	jq -r ".[0].Layers[]" x/manifest.json >layers
	jq -r ".rootfs.diff_ids[]" x/$cfg >diffs
	while read -r l; do
		sha256sum <x/$l | sed "s/^/sha256:/; s/ .*//"
		tar -tf x/$l >/dev/null
	done <layers >hashes
	diff diffs hashes
	[ "$(jq -c ".[0].RepoTags" x/manifest.json)" = "[\"decant-test/fromoci:1\"]" ]
	grep -q "\"decant-test/fromoci\":{\"1\":\"" x/repositories
' jq

if have_docker; then fresh_daemon; fi
expect_success 'docker-legacy loads in dockerd 20.10 with its image ID and files' '
	decant convert "$ML" docker-legacy:out.tar
	daemon_is_empty
	docker load -i out.tar >load.out
	cat load.out
	grep -qx "Loaded image: decant-test/multi:1.0" load.out
	[ "$(docker inspect -f "{{.Id}}" decant-test/multi:1.0)" = "$ML_ID" ]
	image_says docker decant-test/multi:1.0 "$TESTDATA/expected/multilayer.txt"
' dockerd docker jq

if have_docker; then fresh_daemon; fi
expect_success 'two-images.tar -> docker-legacy: both images load with their IDs' '
	decant convert "$TWO" docker-legacy:out.tar
	daemon_is_empty
	docker load -i out.tar
	while read -r ref id; do
		[ "$(docker inspect -f "{{.Id}}" "$ref")" = "$id" ]
	done <"$TESTDATA/expected/two-images.ids"
	image_says docker decant-test/small:2.0 "$TESTDATA/expected/small.txt"
' dockerd docker jq

# A squash written straight into the tar (its header filled in afterwards,
# its directory's entries after it) is what dockerd loads, with its files.
if have_docker; then fresh_daemon; fi
expect_success '--squash -> docker-legacy: dockerd loads it, one layer, the same files' '
	decant convert --squash "$ML" docker-legacy:sq.tar
	cfg=$(tar -xOf sq.tar manifest.json | jq -r ".[0].Config")
	[ "$(tar -xOf sq.tar manifest.json | jq ".[0].Layers | length")" = 1 ]
	daemon_is_empty
	docker load -i sq.tar
	[ "$(docker inspect -f "{{.Id}}" decant-test/multi:1.0)" = "sha256:${cfg%.json}" ]
	[ "$(docker inspect -f "{{len .RootFS.Layers}}" decant-test/multi:1.0)" = 1 ]
	image_says docker decant-test/multi:1.0 "$TESTDATA/expected/multilayer.txt"
' dockerd docker jq

if have_docker; then fresh_daemon; fi
expect_success 'OCI skopeo-dir -> docker-legacy loads in dockerd with its files' '
	cfg=$(jq -r .config.digest "$SKD/blobs/sha256/$(jq -r ".manifests[0].digest | ltrimstr(\"sha256:\")" "$SKD/index.json")")
	decant convert --tag decant-test/fromoci:1 "$SKD" docker-legacy:out.tar
	daemon_is_empty
	docker load -i out.tar
	[ "$(docker inspect -f "{{.Id}}" decant-test/fromoci:1)" = "$cfg" ]
	image_says docker decant-test/fromoci:1 "$TESTDATA/expected/multilayer.txt"
' dockerd docker jq

expect_success 'podman loads docker-legacy output with the image IDs' '
	pm() {
		podman --root "$PWD/proot" --runroot "$PWD/prun" --tmpdir "$PWD/ptmp" \
			--storage-driver vfs --events-backend none --cgroup-manager cgroupfs "$@"
	}
	decant convert "$TWO" docker-legacy:out.tar
	pm load -i out.tar
	while read -r ref id; do
		[ "$(pm image inspect -f "{{.Id}}" "localhost/$ref")" = "${id#sha256:}" ]
	done <"$TESTDATA/expected/two-images.ids"
	pm rmi -a -f >/dev/null
' podman

finish
