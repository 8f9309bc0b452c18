#!/usr/bin/env bash
# convert to oci, oci-archive and docker-archive, checked with jq, tar,
# gzip/zstd, oci-image-tool, umoci and skopeo.
. "$(dirname "$0")/lib.sh"

ML=$TESTDATA/docker-1.10/multilayer.tar
TWO=$TESTDATA/docker-1.10/two-images.tar
CTR=$TESTDATA/containerd/ctr-export.tar
SKD=$TESTDATA/oci/skopeo-dir
SKT=$TESTDATA/oci/skopeo.tar
SKU=$TESTDATA/oci/skopeo-uncompressed-dir
ID=$(cat "$TESTDATA/expected/multilayer.id")
SMALL_ID=$(grep '^decant-test/small:2.0 ' "$TESTDATA/expected/two-images.ids" | cut -d' ' -f2)
# the config digest skopeo wrote (skopeo rewrites the config)
SK_CFG=$(jq -r .config.digest "$SKD/blobs/sha256/$(jq -r '.manifests[0].digest | ltrimstr("sha256:")' "$SKD/index.json")")

OCI_INDEX=application/vnd.oci.image.index.v1+json
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_CONFIG=application/vnd.oci.image.config.v1+json
OCI_LAYER=application/vnd.oci.image.layer.v1.tar

fail() { echo "$*"; return 1; }
manifest_of() { echo "$1/blobs/sha256/$(jq -r ".manifests[0].digest" "$1/index.json" | cut -d: -f2)"; }
same() {
	[ "$1" = "$2" ] || { printf '%s\n  got:  %s\n  want: %s\n' "${3:-mismatch}" "$1" "$2"; return 1; }
}

# sniff FILE: none, gzip or zstd, from the magic bytes.
sniff() {
	local m
	m=$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')
	case $m in
	1f8b*) echo gzip ;;
	28b52ffd) echo zstd ;;
	*) echo none ;;
	esac
}

# unpack FILE: the uncompressed layer tar on stdout.
unpack() {
	case $(sniff "$1") in
	gzip) gzip -dc <"$1" ;;
	zstd) zstd -q -dc <"$1" ;;
	none) cat <"$1" ;;
	esac
}

# oci_ok DIR: an OCI layout whose JSON and blobs agree with each other:
# every blob hashes to its name; index, manifests and configs have OCI
# media types; each layer's media type says what its bytes are, passes
# gzip -t / zstd -t, and uncompresses to the diff_id in the config; no
# blob is left that nothing references.
oci_ok() {
	local d=$1 m man cfg i l mt sz diff b c
	blobs_ok "$d" || return 1
	jq -e '.imageLayoutVersion == "1.0.0"' "$d/oci-layout" >/dev/null ||
		fail "$d/oci-layout" || return 1
	jq -e --arg mt "$OCI_INDEX" '.schemaVersion == 2 and .mediaType == $mt and (.manifests | length > 0)' \
		"$d/index.json" >/dev/null || fail "$d/index.json: bad header" || return 1
	: >"$T/refd"
	for m in $(jq -r '.manifests[].digest | ltrimstr("sha256:")' "$d/index.json" | sort -u); do
		man=$d/blobs/sha256/$m
		echo "$m" >>"$T/refd"
		jq -e --arg mt "$OCI_MANIFEST" --arg ct "$OCI_CONFIG" \
			'.schemaVersion == 2 and .mediaType == $mt and .config.mediaType == $ct' \
			"$man" >/dev/null || fail "manifest $m: bad media types" || return 1
		same "$(jq -r --arg m "sha256:$m" '[.manifests[] | select(.digest == $m) | .size] | unique | join(",")' "$d/index.json")" \
			"$(stat -c %s "$man")" "index size of $m" || return 1
		cfg=$d/blobs/sha256/$(jq -r '.config.digest | ltrimstr("sha256:")' "$man")
		basename "$cfg" >>"$T/refd"
		same "$(jq -r .config.size "$man")" "$(stat -c %s "$cfg")" "config size" || return 1
		same "$(jq '.rootfs.diff_ids | length' "$cfg")" "$(jq '.layers | length' "$man")" "number of diff_ids" || return 1
		# one line per layer: digest, mediaType, size, diff_id
		jq -r '.layers[] | [(.digest | ltrimstr("sha256:")), .mediaType, .size] | @tsv' "$man" >"$T/layers"
		jq -r '.rootfs.diff_ids[]' "$cfg" | paste "$T/layers" - >"$T/layers2"
		i=0
		while IFS=$'\t' read -r l mt sz diff; do
			b=$d/blobs/sha256/$l
			echo "$l" >>"$T/refd"
			same "$sz" "$(stat -c %s "$b")" "size of layer $i" || return 1
			c=$(sniff "$b")
			case $c in
			gzip) same "$mt" "$OCI_LAYER+gzip" "mediaType of layer $i" && gzip -t <"$b" ;;
			zstd) same "$mt" "$OCI_LAYER+zstd" "mediaType of layer $i" && zstd -q -t <"$b" ;;
			none) same "$mt" "$OCI_LAYER" "mediaType of layer $i" && tar -tf "$b" >/dev/null ;;
			esac || return 1
			same "sha256:$(unpack "$b" | sha256sum | cut -d' ' -f1)" "$diff" "diff_id of layer $i" || return 1
			i=$((i + 1))
		done <"$T/layers2"
	done
	same "$(sort -u "$T/refd")" "$(ls "$d/blobs/sha256" | sort)" "blobs present vs referenced" || return 1
}

# ref_names DIR: "ref.name containerd-name" of each index entry, sorted.
ref_names() {
	jq -r '.manifests[] | [.annotations["org.opencontainers.image.ref.name"] // "-",
		.annotations["io.containerd.image.name"] // "-"] | join(" ")' "$1/index.json" | sort
}

# rootfs_ok DIR: DIR holds the filesystem of decant-test/multi:1.0: exactly
# the paths and modes docker export showed (less what dockerd adds to every
# container), with the whiteouts applied, links and hard links intact.
rootfs_ok() {
	local r=$1 gone
	awk '{p = $6; sub(/\/$/, "", p); m = $1; sub(/^h/, "-", m); print m, p}' \
		"$TESTDATA/expected/multilayer.export.txt" |
		grep -Ev ' (\.dockerenv|dev|dev/.*|proc|sys|etc/(hostname|hosts|mtab|resolv\.conf))$' |
		LC_ALL=C sort -k2 >"$T/want.txt"
	(cd "$r" && find . -mindepth 1 -printf '%M %P\n') | LC_ALL=C sort -k2 >"$T/got.txt"
	diff -u "$T/want.txt" "$T/got.txt" || fail "rootfs differs from docker export" || return 1
	cmp "$r/hello.txt" "$TESTDATA/expected/multilayer.txt" || return 1
	for gone in etc/remove-me.txt data/b.txt opt/olddir/x.txt opt/olddir/keep; do
		[ ! -e "$r/$gone" ] && [ ! -L "$r/$gone" ] || fail "$gone survived its whiteout" || return 1
	done
	[ -z "$(find "$r" -name '.wh.*')" ] || fail "whiteout files left in rootfs" || return 1
	same "$(readlink "$r/hello-link")" /hello.txt "hello-link" || return 1
	same "$(readlink "$r/data/rel-link")" ../hello.txt "rel-link" || return 1
	same "$(stat -c %i "$r/data/h1")" "$(stat -c %i "$r/data/h2")" "h1/h2 hard link" || return 1
	same "$(stat -c %a "$r/tmp")" 1777 "tmp mode" || return 1
}

# tar_ok TAR: entries in C-sorted order, owned by 0/0, only files and dirs,
# no ./ or absolute or .. names.
tar_ok() {
	tar -tf "$1" >"$T/names"
	LC_ALL=C sort -c "$T/names" || fail "$1: entries not sorted" || return 1
	[ "$(tar --numeric-owner -tvf "$1" | awk '{print $2}' | sort -u)" = 0/0 ] ||
		fail "$1: owners not 0/0" || return 1
	[ -z "$(tar -tvf "$1" | cut -c1 | grep -v '[-d]' || true)" ] || fail "$1: odd entry types" || return 1
	! grep -Eq '^(\./|/)|(^|/)\.\.(/|$)' "$T/names" || fail "$1: bad entry names" || return 1
}

# skopeo_ok TRANSPORT:REF DIR REF: skopeo sees the manifest index.json names
# for REF, with its layers.
skopeo_ok() {
	local m
	skopeo inspect "$1" >"$T/sk.json" || return 1
	m=$(jq -r --arg r "$3" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)][0].digest' "$2/index.json")
	same "$(jq -r .Digest "$T/sk.json")" "$m" "skopeo Digest" || return 1
	same "$(jq -c .Layers "$T/sk.json")" "$(jq -c '[.layers[].digest]' "$2/blobs/sha256/${m#sha256:}")" "skopeo Layers" || return 1
	same "$(jq -r '.Os + "/" + .Architecture' "$T/sk.json")" linux/amd64 "skopeo platform" || return 1
}

# config_of DIR REF: the config digest of the manifest tagged REF.
config_of() {
	local m
	m=$(jq -r --arg r "$2" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)][0].digest | ltrimstr("sha256:")' "$1/index.json")
	jq -r .config.digest "$1/blobs/sha256/$m"
}


# check_fixture SRC WANT_CONFIG REFS: convert SRC to oci and oci-archive and
# run every consumer on the result. REFS: the "ref.name containerd-name"
# lines index.json must hold; the first ref.name is the one looked up.
check_fixture() {
	local src=$1 cfg=$2 refs=$3 n=${3%% *}
	decant convert -q "$src" oci:out
	decant convert -q "$src" oci-archive:out.tar
	oci_ok out
	same "$(ref_names out)" "$refs" "index.json annotations"
	same "$(config_of out "$n")" "$cfg" "config digest (image id)"
	oci-image-tool validate --type image out
	oci-image-tool validate --type image --ref "name=$n" out
	umoci unpack --image "out:$n" bundle >/dev/null
	rootfs_ok bundle/rootfs
	skopeo_ok "oci:out:$n" out "$n"
	skopeo_ok "oci-archive:out.tar:$n" out "$n"
	tar_ok out.tar
	mkdir x
	tar -xf out.tar -C x
	diff -r x out
}

MULTI_REFS='1.0 docker.io/decant-test/multi:1.0'
# oci and oci-archive name an image by its whole reference in both
M=docker.io/decant-test/multi
SM=docker.io/decant-test/small
OCI_MULTI_REFS="$M:1.0 $M:1.0"

expect_success 'docker save tar -> oci, oci-archive: valid, runnable, id kept' '
	check_fixture "$ML" "$ID" "$OCI_MULTI_REFS"
' oci-image-tool umoci skopeo

expect_success 'zstd-wrapped docker save tar -> oci: same output as the plain tar' '
	decant convert -q "$ML" oci:plain
	decant convert -q "$ML.zst" oci:zst
	decant convert -q - oci:from-stdin <"$ML.gz"
	diff -r plain zst
	diff -r plain from-stdin
' zstd

expect_success 'ctr export -> oci, oci-archive: docker media types become OCI' '
	check_fixture "$CTR" "$ID" "$OCI_MULTI_REFS"
	# the config bytes are the ones in the source tar
	tar -xOf "$CTR" "blobs/sha256/${ID#sha256:}" | cmp - "out/blobs/sha256/${ID#sha256:}"
' oci-image-tool umoci skopeo

expect_success 'skopeo oci dir -> oci, oci-archive: gzip layers and every blob kept' '
	check_fixture "$SKD" "$SK_CFG" "1.0 -"
	# nothing to change: the very same blobs
	diff -r "$SKD/blobs" out/blobs
	jq -e "all(.manifests[]; .mediaType == \"$OCI_MANIFEST\")" out/index.json
' oci-image-tool umoci skopeo

expect_success 'skopeo oci archive -> oci: same as from the dir' '
	decant convert -q "$SKD" oci:a
	decant convert -q "$SKT" oci:b
	diff -r a b
	diff -r "$SKD/blobs" b/blobs
'

expect_success 'skopeo uncompressed dir -> oci: the +gzip lie is corrected' '
	check_fixture "$SKU" "$SK_CFG" "1.0 -"
	m=$(jq -r ".manifests[0].digest | ltrimstr(\"sha256:\")" out/index.json)
	jq -e "all(.layers[]; .mediaType == \"$OCI_LAYER\")" "out/blobs/sha256/$m"
	# layer and config blobs are the source'"'"'s bytes
	for b in $(jq -r ".config.digest, .layers[].digest | ltrimstr(\"sha256:\")" "out/blobs/sha256/$m"); do
		cmp "$SKU/blobs/sha256/$b" "out/blobs/sha256/$b"
	done
' oci-image-tool umoci skopeo

expect_success 'two-images.tar -> oci: three refs, two images, shared base blob' '
	decant convert -q "$TWO" oci:out
	oci_ok out
	same "$(ref_names out)" "$(printf "%s\n" "$M:1.0 $M:1.0" \
		"$SM:2.0 $SM:2.0" "$M:latest $M:latest" | sort)" refs
	same "$(config_of out $M:1.0)" "$ID" "multi id"
	same "$(config_of out $M:latest)" "$ID" "multi:latest id"
	same "$(config_of out $SM:2.0)" "$SMALL_ID" "small id"
	oci-image-tool validate --type image out
	umoci unpack --image out:$SM:2.0 small >/dev/null
	cmp small/rootfs/small.txt "$TESTDATA/expected/small.txt"
	[ ! -e small/rootfs/hello.txt ]
	skopeo_ok oci:out:$SM:2.0 out $SM:2.0
	skopeo_ok oci:out:$M:latest out $M:latest
' oci-image-tool umoci skopeo

expect_success 'stdin source: a DEST path named "stdin" is not the source' '
	decant convert -q "$ML" oci:plain
	decant convert -q - oci:stdin <"$ML"
	diff -r plain stdin
	decant convert -q "$ML" oci-archive:plain.tar
	rm -rf stdin
	decant convert -q - oci-archive:stdin <"$ML"
	cmp plain.tar stdin
'

expect_success 'oci-archive:- writes the same bytes as oci-archive:FILE' '
	decant convert -q "$ML" oci-archive:file.tar
	decant convert -q "$ML" oci-archive:- >stdout.tar
	cmp file.tar stdout.tar
	decant convert -q "$SKD" docker-archive:file2.tar
	decant convert -q "$SKD" docker-archive:- | cmp - file2.tar
	cat "$ML" | decant convert -q - oci-archive:- | cmp - file.tar
	# a file gets its blobs from the copy pool, into gaps left after
	# their headers; a pipe gets them in order: the same bytes
	decant convert -q --compress zstd "$ML" oci-archive:z.tar
	decant convert -q --compress zstd "$ML" oci-archive:- | cmp - z.tar
	decant convert -q --squash-last 2 "$SKD" docker-archive:s.tar
	decant convert -q --squash-last 2 "$SKD" docker-archive:- | cmp - s.tar
	tar -tf z.tar >/dev/null && tar -tf s.tar >/dev/null
'

expect_success 'output is deterministic: twice the same bytes, also compressed' '
	for c in "" "--compress gzip" "--compress zstd"; do
		decant convert -q $c "$TWO" oci-archive:a.tar
		decant convert -q $c "$TWO" oci-archive:b.tar
		cmp a.tar b.tar
		decant convert -q $c --threads 1 "$TWO" oci-archive:c.tar
		cmp a.tar c.tar
		decant convert -q $c "$SKD" docker-archive:d1.tar
		decant convert -q $c "$SKD" docker-archive:d2.tar
		cmp d1.tar d2.tar
		rm -f a.tar b.tar c.tar d1.tar d2.tar
	done
	decant convert -q "$ML" oci:o1
	decant convert -q "$ML" oci:o2
	diff -r o1 o2
' zstd

expect_success 'SOURCE_DATE_EPOCH sets the tar mtimes, otherwise they are fixed' '
	decant convert -q "$ML" oci-archive:a.tar
	sleep 1
	decant convert -q "$ML" oci-archive:b.tar
	cmp a.tar b.tar
	[ "$(tar --full-time -tvf a.tar | awk "{print \$4, \$5}" | sort -u | wc -l)" = 1 ]
	SOURCE_DATE_EPOCH=86400 decant convert -q "$ML" oci-archive:c.tar
	[ "$(tar --full-time -tvf c.tar | awk "{print \$4, \$5}" | sort -u)" = "1970-01-02 00:00:00" ]
'

expect_success 'docker-archive: manifest.json, repositories, OCI layout, skopeo reads it' '
	decant convert -q "$ML" docker-archive:out.tar
	tar_ok out.tar
	tar -tf out.tar >names
	for f in manifest.json repositories oci-layout index.json; do
		grep -qx "$f" names || fail "no $f in the archive"
	done
	tar -xOf out.tar manifest.json >m.json
	jq -e "length == 1 and .[0].RepoTags == [\"decant-test/multi:1.0\"] and (.[0].Layers | length == 10)" m.json
	for p in $(jq -r ".[0].Config, .[0].Layers[]" m.json); do
		grep -qx "$p" names || fail "$p named in manifest.json is not in the tar"
	done
	same "$(jq -r ".[0].Config" m.json)" "blobs/sha256/${ID#sha256:}" Config
	mkdir x
	tar -xf out.tar -C x
	oci_ok x
	same "$(ref_names x)" "$MULTI_REFS" refs
	cfg=x/$(jq -r ".[0].Config" m.json)
	# uncompressed layers by default: blob digests are the diff_ids
	same "$(jq -r ".[0].Layers[] | ltrimstr(\"blobs/sha256/\")" m.json | sed "s/^/sha256:/")" \
	     "$(jq -r ".rootfs.diff_ids[]" "$cfg")" "layers vs diff_ids"
	for p in $(jq -r ".[0].Layers[]" m.json | sort -u); do
		same "$(sniff "x/$p")" none "compression of $p"
	done
	jq -e --arg top "$(jq -r ".[0].Layers[-1] | ltrimstr(\"blobs/sha256/\")" m.json)" \
		". == {\"decant-test/multi\": {\"1.0\": \$top}}" x/repositories
	skopeo inspect docker-archive:out.tar >sk.json
	same "$(jq -c .Layers sk.json)" "$(jq -c .rootfs.diff_ids "$cfg")" "skopeo Layers"
	skopeo inspect --raw --config docker-archive:out.tar | cmp - "$cfg"
	oci-image-tool validate --type image x
' skopeo oci-image-tool

expect_success 'docker-archive from gzip OCI: layers uncompressed, config kept' '
	decant convert -q "$SKD" docker-archive:out.tar
	mkdir x
	tar -xf out.tar -C x
	oci_ok x
	tar -xOf out.tar manifest.json >m.json
	same "$(jq -r ".[0].Config" m.json)" "blobs/sha256/${SK_CFG#sha256:}" Config
	cmp "x/blobs/sha256/${SK_CFG#sha256:}" "$SKD/blobs/sha256/${SK_CFG#sha256:}"
	jq -e ".[0].RepoTags | . == null or . == []" m.json
	same "$(jq -r ".[0].Layers[] | ltrimstr(\"blobs/sha256/\")" m.json | sed "s/^/sha256:/")" \
	     "$(jq -r ".rootfs.diff_ids[]" "x/blobs/sha256/${SK_CFG#sha256:}")" "layers vs diff_ids"
	skopeo inspect docker-archive:out.tar | jq -e ".Layers | length == 10"
' skopeo

expect_success 'docker-archive from two-images.tar: both images, all tags' '
	decant convert -q "$TWO" docker-archive:out.tar
	tar -xOf out.tar manifest.json >m.json
	jq -e "length == 2" m.json
	same "$(jq -r "[.[].RepoTags[]] | sort | join(\" \")" m.json)" \
	     "decant-test/multi:1.0 decant-test/multi:latest decant-test/small:2.0" RepoTags
	same "$(jq -r "[.[].Config] | sort | join(\" \")" m.json)" \
	     "blobs/sha256/${ID#sha256:} blobs/sha256/${SMALL_ID#sha256:}" Configs
	tar -tf out.tar >names
	for p in $(jq -r ".[] | .Config, .Layers[]" m.json); do grep -qx "$p" names; done
	tar -xOf out.tar repositories | jq -e "keys == [\"decant-test/multi\", \"decant-test/small\"] and (.\"decant-test/multi\" | keys == [\"1.0\", \"latest\"])"
	skopeo inspect docker-archive:out.tar:decant-test/small:2.0 | jq -e ".Layers | length == 2"
' skopeo

expect_success '--compress gzip to oci: gzip layers, same diff_ids and config' '
	decant convert -q --compress gzip "$ML" oci:out
	oci_ok out
	m=$(jq -r ".manifests[0].digest | ltrimstr(\"sha256:\")" out/index.json)
	jq -e "(.layers | length == 10) and all(.layers[]; .mediaType == \"$OCI_LAYER+gzip\")" "out/blobs/sha256/$m"
	for l in $(jq -r ".layers[].digest | ltrimstr(\"sha256:\")" "out/blobs/sha256/$m"); do
		same "$(sniff "out/blobs/sha256/$l")" gzip "layer $l"
	done
	same "$(config_of out $M:1.0)" "$ID" "config digest"
	oci-image-tool validate --type image out
	umoci unpack --image out:$M:1.0 bundle >/dev/null
	rootfs_ok bundle/rootfs
	skopeo_ok oci:out:$M:1.0 out $M:1.0
	decant convert -q --compress gzip --level 1 "$ML" oci:fast
	oci_ok fast
	same "$(config_of fast $M:1.0)" "$ID" "config digest (level 1)"
' oci-image-tool umoci skopeo

# levels 1-3 are ISA-L igzip, 4-9 libdeflate: gzip(1) and sha256sum, not
# decant, check that every layer inflates to its diff_id
expect_success '--compress gzip at levels 1-9: gzip -t passes, gunzip gives the diff_ids' '
	for lvl in 1 2 3 4 6 9; do
		rm -rf "l$lvl"
		decant convert -q --compress gzip --level $lvl "$ML" "oci:l$lvl"
		m=$(jq -r ".manifests[0].digest | ltrimstr(\"sha256:\")" "l$lvl/index.json")
		c=$(jq -r ".config.digest | ltrimstr(\"sha256:\")" "l$lvl/blobs/sha256/$m")
		jq -r ".layers[].digest | ltrimstr(\"sha256:\")" "l$lvl/blobs/sha256/$m" >layers
		jq -r ".rootfs.diff_ids[] | ltrimstr(\"sha256:\")" "l$lvl/blobs/sha256/$c" >diffs
		same "$(wc -l <layers)" "$(wc -l <diffs)" "level $lvl: layer count"
		paste layers diffs | while read -r l d; do
			f="l$lvl/blobs/sha256/$l"
			same "$(sha256sum <"$f" | cut -c1-64)" "$l" "level $lvl: blob digest"
			gzip -t "$f"
			same "$(gzip -dc "$f" | sha256sum | cut -c1-64)" "$d" "level $lvl: diff_id"
		done
	done
'

expect_success '--compress zstd to oci: zstd layers, same diff_ids and config' '
	decant convert -q --compress zstd "$SKD" oci:out
	oci_ok out
	m=$(jq -r ".manifests[0].digest | ltrimstr(\"sha256:\")" out/index.json)
	jq -e "(.layers | length == 10) and all(.layers[]; .mediaType == \"$OCI_LAYER+zstd\")" "out/blobs/sha256/$m"
	for l in $(jq -r ".layers[].digest | ltrimstr(\"sha256:\")" "out/blobs/sha256/$m"); do
		same "$(sniff "out/blobs/sha256/$l")" zstd "layer $l"
		zstd -q -t <"out/blobs/sha256/$l"
	done
	same "$(config_of out 1.0)" "$SK_CFG" "config digest"
	skopeo_ok oci:out:1.0 out 1.0
	# oci-image-tool 1.0.0-rc1 does not know the +zstd media type, and
	# umoci 0.4 cannot read zstd layers; skopeo turns them into gzip
	skopeo copy -q --dest-compress-format gzip oci:out:1.0 oci:viaskopeo:1.0
	umoci unpack --image viaskopeo:1.0 bundle >/dev/null
	rootfs_ok bundle/rootfs
' zstd oci-image-tool umoci skopeo

expect_success '--compress none from gzip OCI: uncompressed, diff_id == digest' '
	decant convert -q --compress none "$SKD" oci-archive:out.tar
	mkdir x
	tar -xf out.tar -C x
	oci_ok x
	m=$(jq -r ".manifests[0].digest | ltrimstr(\"sha256:\")" x/index.json)
	same "$(jq -r "[.layers[].digest] | join(\" \")" "x/blobs/sha256/$m")" \
	     "$(jq -r ".rootfs.diff_ids | join(\" \")" "x/blobs/sha256/${SK_CFG#sha256:}")" "digests vs diff_ids"
	skopeo inspect oci-archive:out.tar:1.0 >/dev/null
' skopeo

expect_success '--image selects one image: by name:tag, by @N, by id' '
	decant convert -q --image decant-test/small:2.0 "$TWO" oci:a
	oci_ok a
	same "$(ref_names a)" "$SM:2.0 $SM:2.0" refs
	same "$(config_of a $SM:2.0)" "$SMALL_ID" "small id"
	[ "$(ls a/blobs/sha256 | wc -l)" = 4 ]
	[ ! -e "a/blobs/sha256/${ID#sha256:}" ]
	decant convert -q --image @1 "$TWO" oci:b
	diff -r a b
	decant convert -q --image "$SMALL_ID" "$TWO" oci:c
	diff -r a c
	decant convert -q --image @0 "$TWO" docker-archive:d.tar
	tar -xOf d.tar manifest.json | jq -e "length == 1 and .[0].Config == \"blobs/sha256/${ID#sha256:}\""
	decant convert -q --image decant-test/multi:latest "$TWO" docker-archive:e.tar
	tar -xOf e.tar manifest.json | jq -e ".[0].Config == \"blobs/sha256/${ID#sha256:}\" and (.[0].RepoTags | index(\"decant-test/multi:latest\"))"
'

expect_success '--image that matches nothing: exit 2, no output' '
	rc=0
	decant convert -q --image nosuch:tag "$TWO" oci:out 2>err || rc=$?
	same "$rc" 2 "exit code"
	grep -q "nosuch:tag" err
	no_leftovers out
	rc=0
	decant convert -q --image @2 "$TWO" oci-archive:out.tar 2>err || rc=$?
	same "$rc" 2 "exit code"
	no_leftovers out.tar
	[ -z "$(ls -A)" ] || [ "$(ls -A)" = err ]
'

expect_success '--tag renames: index.json, manifest.json, repositories; id kept' '
	decant convert -q --tag foo/bar:baz "$ML" oci:out
	oci_ok out
	same "$(ref_names out)" "docker.io/foo/bar:baz docker.io/foo/bar:baz" refs
	same "$(config_of out docker.io/foo/bar:baz)" "$ID" "config digest"
	decant convert -q --image decant-test/multi:1.0 --tag foo/bar:baz "$TWO" docker-archive:out.tar
	tar -xOf out.tar manifest.json | jq -e ".[0].RepoTags == [\"foo/bar:baz\"] and length == 1"
	tar -xOf out.tar repositories | jq -e "keys == [\"foo/bar\"] and (.\"foo/bar\" | keys == [\"baz\"])"
	tar -xOf out.tar index.json | jq -e "[.manifests[].annotations[\"io.containerd.image.name\"]] == [\"docker.io/foo/bar:baz\"]"
	skopeo inspect oci:out:docker.io/foo/bar:baz >/dev/null
' skopeo

expect_success 'a corrupt source fails with exit 1 and leaves no output' '
	cp "$ML" c.tar
	off=$(grep -abo "hello from decant fixture" c.tar | head -n1 | cut -d: -f1)
	printf J | dd of=c.tar bs=1 seek="$off" conv=notrunc status=none
	for dest in oci:o oci-archive:o.tar docker-archive:d.tar; do
		rc=0
		decant convert -q c.tar "$dest" 2>err || rc=$?
		same "$rc" 1 "exit code for $dest"
		grep -q "^decant: error: " err
		no_leftovers "${dest#*:}"
	done
	rc=0
	decant convert -q c.tar oci-archive:- >stdout.tar 2>err || rc=$?
	same "$rc" 1 "exit code for stdout"
'

# An uncompressed layer that is compressed is hashed on a thread of its own
# from the very buffers the compressor reads: the check must still fail the
# conversion, name the layer, and leave nothing behind, whatever the target.
expect_success '--compress checks each uncompressed layer it compresses: a flipped byte fails it' '
	cp "$ML" c.tar
	off=$(grep -abo "hello from decant fixture" c.tar | head -n1 | cut -d: -f1)
	printf J | dd of=c.tar bs=1 seek="$off" conv=notrunc status=none
	q=$(printf "\\047")
	# the layer that holds the flipped byte: the one whose diff_id changed
	for l in $(tar -xOf c.tar manifest.json | jq -r ".[0].Layers[]"); do
		a=$(tar -xOf "$ML" "$l" | sha256sum | cut -c1-64)
		b=$(tar -xOf c.tar "$l" | sha256sum | cut -c1-64)
		[ "$a" = "$b" ] || { bad=$l got=$b; }
	done
	want="$q$bad$q: diff_id mismatch: uncompressed content is sha256:$got, config says sha256:"
	for c in gzip zstd; do
		for dest in oci:o oci-archive:o.tar; do
			rc=0
			decant convert -q --compress $c c.tar $dest 2>err || rc=$?
			[ $rc = 1 ] && grep -qF "$want" err ||
				{ echo "$c $dest: exit $rc"; cat err; exit 1; }
			no_leftovers "${dest#*:}"
		done
		rc=0
		decant convert -q --compress $c - oci-archive:- <c.tar >/dev/null 2>err || rc=$?
		[ $rc = 1 ] && grep -qF "$want" err ||
			{ echo "$c stdin: exit $rc"; cat err; exit 1; }
	done
	# an OCI layout of uncompressed layers: a byte too many, a byte changed
	decant convert -q "$ML" oci:src
	cp -r src src2
	l=$(jq -r ".layers[0].digest" "$(manifest_of src)")
	n=$(jq -r ".layers[0].size" "$(manifest_of src)")
	printf x >>"src/blobs/sha256/${l#sha256:}"
	printf J | dd of="src2/blobs/sha256/${l#sha256:}" bs=1 seek=$((n / 2)) conv=notrunc status=none
	for c in gzip zstd; do
		rc=0
		decant convert -q --compress $c src oci:o 2>err || rc=$?
		[ $rc = 1 ] && grep -qF "${l#sha256:}$q: size is $((n + 1)) bytes" err ||
			{ echo "$c size: exit $rc"; cat err; exit 1; }
		no_leftovers o
		rc=0
		decant convert -q --compress $c src2 oci:o 2>err || rc=$?
		[ $rc = 1 ] && grep -qF "${l#sha256:}$q: digest mismatch: content is sha256:" err ||
			{ echo "$c digest: exit $rc"; cat err; exit 1; }
		no_leftovers o
	done
	# the sound archive still converts, and its layers are checked
	decant convert -q --compress zstd "$ML" oci:o && blobs_ok o
	decant verify oci:o
' jq

finish
