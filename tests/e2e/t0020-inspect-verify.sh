#!/usr/bin/env bash
# decant inspect --json and decant verify on every fixture, checked against
# what jq, tar and sha256sum read from the fixtures themselves.
. "$(dirname "$0")/lib.sh"

ML=$TESTDATA/docker-1.10/multilayer.tar
TWO=$TESTDATA/docker-1.10/two-images.tar
CTR=$TESTDATA/containerd/ctr-export.tar
SKD=$TESTDATA/oci/skopeo-dir
SKT=$TESTDATA/oci/skopeo.tar
SKU=$TESTDATA/oci/skopeo-uncompressed-dir
ID=$(cat "$TESTDATA/expected/multilayer.id")

# fail MSG: print MSG and return 1.
fail() { echo "$*"; return 1; }

# same A B: A and B are the same string, else say what differs.
same() {
	[ "$1" = "$2" ] || { printf '%s\n  got:  %s\n  want: %s\n' "${3:-mismatch}" "$1" "$2"; return 1; }
}

# Every image has a well-formed manifest, config and layers.
json_shape_ok() {
	jq -e '
	  def dg: type == "string" and test("^sha256:[0-9a-f]{64}$");
	  def desc: (.digest | dg) and (.size | type == "number" and . > 0)
	            and (.mediaType | type == "string" and length > 0);
	  (.images | type == "array" and length > 0) and
	  all(.images[];
	      (.tags | type == "array") and .platform == "linux/amd64" and
	      (.id | dg) and (.manifest | desc) and (.config | desc) and
	      (.layers | length > 0) and
	      all(.layers[]; desc and (.diffId | dg) and
	          (.compression | IN("none", "gzip", "zstd"))))' "$1" >/dev/null ||
		fail "$1: malformed inspect JSON"
}

# oci_manifest DIR: path of the manifest blob of the only index entry.
oci_manifest() {
	m=$(jq -r '.manifests | if length == 1 then .[0].digest else error("not 1 manifest") end' "$1/index.json")
	echo "$1/blobs/sha256/${m#sha256:}"
}

# check_oci_dir DIR JSON: decant's view of an OCI layout equals what the
# layout's own JSON says, and the compression is what the bytes are.
check_oci_dir() {
	d=$1 j=$2
	man=$(oci_manifest "$d")
	cfg=$d/blobs/sha256/$(jq -r '.config.digest | ltrimstr("sha256:")' "$man")
	same "$(jq -r '.images[0].manifest.digest' "$j")" "sha256:$(basename "$man")" "manifest digest"
	same "$(jq -r '.images[0].config.digest' "$j")" "$(jq -r .config.digest "$man")" "config digest"
	same "$(jq -r '.images[0].id' "$j")" "$(jq -r .config.digest "$man")" "image id"
	same "$(jq -c '[.images[0].layers[].digest]' "$j")" "$(jq -c '[.layers[].digest]' "$man")" "layer digests"
	same "$(jq -c '[.images[0].layers[].size]' "$j")" "$(jq -c '[.layers[].size]' "$man")" "layer sizes"
	same "$(jq -c '[.images[0].layers[].diffId]' "$j")" "$(jq -c .rootfs.diff_ids "$cfg")" "diff_ids"
	same "$(jq -r '.images[0].platform' "$j")" "$(jq -r '.os + "/" + .architecture' "$cfg")" "platform"
	n=$(jq '.images[0].layers | length' "$j")
	for i in $(seq 0 $((n - 1))); do
		dig=$(jq -r ".images[0].layers[$i].digest" "$j")
		b=$d/blobs/sha256/${dig#sha256:}
		same "$(stat -c %s "$b")" "$(jq -r ".images[0].layers[$i].size" "$j")" "size of $dig"
		magic=$(head -c 4 "$b" | od -An -tx1 | tr -d " \n")
		case $magic in
		1f8b*) want=gzip ;;
		28b52ffd) want=zstd ;;
		*) want=none ;;
		esac
		same "$(jq -r ".images[0].layers[$i].compression" "$j")" "$want" "compression of $dig"
	done
}


expect_success 'inspect --json names each format' '
	for f in "$ML:docker-legacy" "$ML.gz:docker-legacy" "$ML.zst:docker-legacy" \
		"$TWO:docker-legacy" "$CTR:docker-archive" "$SKD:oci" \
		"$SKU:oci" "$SKT:oci-archive"; do
		decant inspect --json "${f%:*}" >j.json
		json_shape_ok j.json
		same "$(jq -r .format j.json)" "${f##*:}" "format of ${f%:*}"
	done
'

expect_success 'docker save tar: id, tags, platform, layers match the tar itself' '
	decant inspect --json "$ML" >j.json
	json_shape_ok j.json
	jq -e ".images | length == 1" j.json
	same "$(jq -r ".images[0].id" j.json)" "$ID" "image id"
	same "$(jq -r ".images[0].config.digest" j.json)" "$ID" "config digest"
	same "$(jq -c ".images[0].tags" j.json)" "[\"decant-test/multi:1.0\"]" tags
	same "$(jq -r ".images[0].platform" j.json)" linux/amd64 platform
	# independent: the config that manifest.json points at
	tar -xOf "$ML" manifest.json >m.json
	cfgname=$(jq -r ".[0].Config" m.json)
	tar -xOf "$ML" "$cfgname" >cfg.json
	same "sha256:$(sha256sum <cfg.json | cut -d" " -f1)" "$ID" "sha256 of $cfgname"
	same "$(jq -c ".images[0].config.size" j.json)" "$(stat -c %s cfg.json)" "config size"
	same "$(jq -c "[.images[0].layers[].diffId]" j.json)" "$(jq -c .rootfs.diff_ids cfg.json)" diff_ids
	jq -e ".images[0].layers | length == 10" j.json
	jq -e "all(.images[0].layers[]; .digest == .diffId and .compression == \"none\")" j.json
	# layer sizes: the layer.tar members (the 10th is a symlink to the 8th)
	jq -r ".[0].Layers[]" m.json >layers.txt
	[ "$(wc -l <layers.txt)" = 10 ]
	i=0
	while read -r p; do
		sz=$(jq -r ".images[0].layers[$i].size" j.json)
		dig=$(jq -r ".images[0].layers[$i].digest" j.json)
		if [ "$(tar -tvf "$ML" "$p" | cut -c1)" = - ]; then
			tar -xOf "$ML" "$p" >l.tar
			same "$(stat -c %s l.tar)" "$sz" "size of layer $i"
			same "sha256:$(sha256sum <l.tar | cut -d" " -f1)" "$dig" "digest of layer $i"
		fi
		i=$((i + 1))
	done <layers.txt
'

expect_success 'ctr export: same image as the docker save tar, docker media types' '
	decant inspect --json "$CTR" >c.json
	decant inspect --json "$ML" >d.json
	json_shape_ok c.json
	same "$(jq -r ".images[0].id" c.json)" "$ID" "image id"
	same "$(jq -c ".images[0].tags" c.json)" "[\"decant-test/multi:1.0\"]" tags
	same "$(jq -r ".images[0].platform" c.json)" linux/amd64 platform
	jq -e "all(.images[0].layers[]; .compression == \"none\" and .digest == .diffId)" c.json
	same "$(jq -c "[.images[0].layers[] | [.digest, .diffId, .size, .compression]]" c.json)" \
	     "$(jq -c "[.images[0].layers[] | [.digest, .diffId, .size, .compression]]" d.json)" "layers"
	# what the tar holds: the manifest blob index.json names
	tar -xOf "$CTR" index.json >idx.json
	mdig=$(jq -r ".manifests[0].digest" idx.json)
	same "$(jq -r ".images[0].manifest.digest" c.json)" "$mdig" "manifest digest"
	tar -xOf "$CTR" "blobs/sha256/${mdig#sha256:}" >man.json
	same "$(jq -r ".images[0].manifest.mediaType" c.json)" "$(jq -r .mediaType man.json)" "manifest mediaType"
	same "$(jq -c "[.images[0].layers[].digest]" c.json)" "$(jq -c "[.layers[].digest]" man.json)" "layer digests"
	same "$(jq -c "[.images[0].layers[].size]" c.json)" "$(jq -c "[.layers[].size]" man.json)" "layer sizes"
'

expect_success 'skopeo oci dir: gzip layers, everything as the layout says' '
	decant inspect --json "$SKD" >j.json
	json_shape_ok j.json
	check_oci_dir "$SKD" j.json
	jq -e ".images[0].layers | length == 10" j.json
	jq -e "all(.images[0].layers[]; .compression == \"gzip\" and .digest != .diffId)" j.json
	for dig in $(jq -r ".images[0].layers[].digest" j.json | sort -u); do
		gzip -t <"$SKD/blobs/sha256/${dig#sha256:}"
	done
	same "$(jq -r ".images[0].id" j.json)" "$(jq -r ".images[0].config.digest" j.json)" "id"
'

expect_success 'skopeo oci archive: same as the dir except the format' '
	decant inspect --json "$SKD" >d.json
	decant inspect --json "$SKT" >t.json
	same "$(jq -r .format t.json)" oci-archive format
	same "$(jq -S "del(.format)" t.json)" "$(jq -S "del(.format)" d.json)" "JSON"
'

expect_success 'skopeo uncompressed dir: manifest says +gzip, bytes and decant say none' '
	man=$(oci_manifest "$SKU")
	jq -e "(.layers | length == 10) and all(.layers[]; .mediaType == \"application/vnd.oci.image.layer.v1.tar+gzip\")" "$man"
	decant inspect --json "$SKU" >j.json
	json_shape_ok j.json
	check_oci_dir "$SKU" j.json
	jq -e "all(.images[0].layers[]; .compression == \"none\" and .digest == .diffId)" j.json
	for dig in $(jq -r ".images[0].layers[].digest" j.json | sort -u); do
		b=$SKU/blobs/sha256/${dig#sha256:}
		! gzip -t <"$b" 2>/dev/null
		tar -tf "$b" >/dev/null
	done
'

expect_success 'two-images.tar: two images with the ids and tags docker reported' '
	decant inspect --json "$TWO" >j.json
	json_shape_ok j.json
	jq -e ".images | length == 2" j.json
	same "$(jq -r "[.images[].tags[]] | sort | join(\" \")" j.json)" \
	     "$(cut -d" " -f1 "$TESTDATA/expected/two-images.ids" | sort | tr "\n" " " | sed "s/ $//")" "all tags"
	while read -r tag id; do
		got=$(jq -r --arg t "$tag" "[.images[] | select(.tags | index(\$t))] | if length == 1 then .[0].id else \"\(length) images\" end" j.json)
		same "$got" "$id" "id of $tag"
	done <"$TESTDATA/expected/two-images.ids"
	jq -e "[.images[].layers | length] | sort == [2, 10]" j.json
	# the base layer is shared
	jq -e "(.images | map(.layers[0].digest) | unique | length) == 1" j.json
	jq -e "all(.images[]; .config.digest == .id)" j.json
	jq -e "all(.images[].layers[]; .compression == \"none\")" j.json
'

expect_success 'gzip and zstd wrapped tars give exactly the plain tar'"'"'s JSON' '
	decant inspect --json "$ML" >plain.json
	decant inspect --json "$ML.gz" >gz.json
	decant inspect --json "$ML.zst" >zst.json
	cmp plain.json gz.json
	cmp plain.json zst.json
	# and the wrappers really are wrappers
	gzip -dc "$ML.gz" | cmp - "$ML"
	zstd -dc "$ML.zst" | cmp - "$ML"
' zstd

expect_success 'inspect - reads stdin' '
	decant inspect --json "$ML" >plain.json
	cat "$ML" | decant inspect --json - >stdin.json
	cmp plain.json stdin.json
	decant inspect --json - <"$ML.zst" >zst.json
	cmp plain.json zst.json
	decant inspect --json "$SKT" >skt.json
	cat "$SKT" | decant inspect --json - >skt-stdin.json
	cmp skt.json skt-stdin.json
	cat "$CTR" | decant inspect --json - | jq -e ".format == \"docker-archive\" and .images[0].id == \"$ID\""
'

expect_success 'inspect without --json: a readable summary' '
	decant inspect "$ML" >out.txt
	grep -q "docker-legacy" out.txt
	grep -q "decant-test/multi:1.0" out.txt
	grep -q "$ID" out.txt
	grep -q "linux/amd64" out.txt
	grep -q "10 layers" out.txt
	decant inspect "$TWO" >two.txt
	grep -q "2 images" two.txt
	grep -q "decant-test/small:2.0" two.txt
'

expect_success 'inspect with an explicit FORMAT: prefix' '
	decant inspect --json "$ML" >a.json
	decant inspect --json "docker-legacy:$ML" >b.json
	cmp a.json b.json
	decant inspect --json "oci:$SKD" | jq -e ".format == \"oci\""
	decant inspect --json "oci-archive:$SKT" | jq -e ".format == \"oci-archive\""
'

expect_success 'verify succeeds on every fixture' '
	for f in "$ML" "$ML.gz" "$ML.zst" "$TWO" "$CTR" "$SKD" "$SKU" "$SKT"; do
		decant verify "$f" >out 2>err || { echo "verify $f failed:"; cat err; exit 1; }
	done
	decant verify - <"$ML"
	decant verify -q "$TWO" >out 2>err
	[ ! -s out ]
'

expect_success 'verify: a gzip layer with one byte changed (still valid gzip) fails naming it' '
	cp -r "$SKD" sk
	chmod -R u+w sk
	man=$(oci_manifest sk)
	dig=$(jq -r ".layers[3].digest" "$man")
	b=sk/blobs/sha256/${dig#sha256:}
	# byte 4 is the gzip header mtime: the data stays valid
	printf "\\001" | dd of="$b" bs=1 seek=4 conv=notrunc status=none
	gzip -t <"$b"
	! cmp -s "$b" "$SKD/blobs/sha256/${dig#sha256:}"
	rc=0
	decant verify sk >out 2>err || rc=$?
	same "$rc" 1 "exit code"
	grep -q "^decant: error: " err
	grep -q "${dig#sha256:}" err || fail "stderr does not name $dig: $(cat err)"
	# the fixture is untouched
	blobs_ok "$SKD"
'

expect_success 'verify: a flipped byte in an uncompressed layer fails naming it' '
	cp -r "$SKU" sk
	chmod -R u+w sk
	dig=$(jq -r ".layers[1].digest" "$(oci_manifest sk)")
	b=sk/blobs/sha256/${dig#sha256:}
	off=$(grep -abo "hello from decant" "$b" | head -n1 | cut -d: -f1)
	printf J | dd of="$b" bs=1 seek="$off" conv=notrunc status=none
	rc=0
	decant verify sk 2>err || rc=$?
	same "$rc" 1 "exit code"
	grep -q "${dig#sha256:}" err || fail "stderr does not name $dig: $(cat err)"
'

expect_success 'verify: a flipped byte in a docker save layer fails, from a file and stdin' '
	cp "$ML" c.tar
	off=$(grep -abo "hello from decant fixture" c.tar | head -n1 | cut -d: -f1)
	printf J | dd of=c.tar bs=1 seek="$off" conv=notrunc status=none
	! cmp -s c.tar "$ML"
	dig=$(decant inspect --json "$ML" | jq -r ".images[0].layers[1].digest")
	rc=0
	decant verify c.tar 2>err || rc=$?
	same "$rc" 1 "exit code"
	grep -q "${dig#sha256:}" err || fail "stderr does not name $dig: $(cat err)"
	rc=0
	decant verify - <c.tar 2>err || rc=$?
	same "$rc" 1 "exit code (stdin)"
	grep -q "${dig#sha256:}" err
'

expect_success 'verify: a changed config, a short and a missing blob each fail' '
	cp -r "$SKD" a
	chmod -R u+w a
	cfg=$(jq -r ".config.digest" "$(oci_manifest a)")
	sed -i "s/\"amd64\"/\"arm64\"/" "a/blobs/sha256/${cfg#sha256:}"
	rc=0
	decant verify a 2>err || rc=$?
	same "$rc" 1 "exit code (config)"
	grep -q "${cfg#sha256:}" err
	cp -r "$SKU" b
	chmod -R u+w b
	dig=$(jq -r ".layers[2].digest" "$(oci_manifest b)")
	truncate -s -512 "b/blobs/sha256/${dig#sha256:}"
	rc=0
	decant verify b 2>err || rc=$?
	same "$rc" 1 "exit code (short)"
	grep -q "${dig#sha256:}" err
	rm "b/blobs/sha256/${dig#sha256:}"
	rc=0
	decant verify b 2>err || rc=$?
	same "$rc" 1 "exit code (missing)"
	grep -q "${dig#sha256:}" err
'

finish
