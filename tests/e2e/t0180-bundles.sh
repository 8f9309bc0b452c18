#!/usr/bin/env bash
# Air-gap bundles: several sources into one archive (each blob once), a
# verify that reports every problem, split sets (NAME.000... and
# NAME.sha256), deltas against an inventory of what the far side holds
# and their application with --base. The first tests use the fixtures;
# the last build images on a shared base with a fresh dockerd and load
# the results in fresh daemons, a fresh podman store, skopeo and umoci.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd.sh"

TWO=$TESTDATA/docker-1.10/two-images.tar
D09=$TESTDATA/legacy/docker09.tar
SKO=$TESTDATA/oci/skopeo.tar
export TWO D09 SKO

# ids FILE: the sorted image IDs an archive holds
ids() { decant inspect --json "$1" | jq -r '.images[].id' | sort; }
# nblobs DIR: blobs of an OCI layout
nblobs() { ls "$1/blobs/sha256" | wc -l; }
# distinct layers and configs of the sources together
want_blobs() {
	for s in "$@"; do decant inspect --json "$s"; done |
		jq -r '.images[] | .config.digest, .layers[].digest' | sort -u | wc -l
}
# refused PATTERN OUT ARGS...: decant ARGS fails (exit 1) with an error
# matching PATTERN, and nothing is left at OUT
refused() {
	pat=$1 out=$2
	shift 2
	rc=0
	decant "$@" 2>err || rc=$?
	cat err
	[ $rc = 1 ] && grep -q "$pat" err && no_leftovers "$out"
}
export -f ids nblobs want_blobs refused

for fmt in oci oci-archive docker-archive docker-legacy; do
	export fmt
	expect_success "three sources -> $fmt: every image, verified" '
		decant convert "$TWO" "$D09" "$SKO" "$fmt:out"
		decant verify out
		[ "$(decant inspect --json out | jq ".images | length")" = 4 ]
		cat <(ids "$TWO") <(ids "$D09") <(ids "$SKO") | sort >want
		ids out >got
		cmp want got
		decant inspect --json out | jq -r ".images[].tags[]" | sort >tags
		grep -qx decant-test/multi:1.0 tags
		grep -qx decant-test/multi:latest tags
		grep -qx decant-test/small:2.0 tags
		grep -qx decant-test/docker09:0.9 tags
	' jq
done

expect_success 'bundle: a blob shared by sources is stored once' '
	decant convert "$TWO" "$D09" "$SKO" "$TESTDATA/docker-1.10/multilayer.tar" oci:out
	# multilayer.tar repeats two-images.tar first image: nothing more
	n=$(nblobs out)
	m=$(decant inspect --json out | jq -r ".images[].manifest.digest" | sort -u | wc -l)
	w=$(want_blobs "$TWO" "$D09" "$SKO")
	[ "$n" = $((w + m)) ] || { echo "$n blobs, want $w + $m manifests"; exit 1; }
	blobs_ok out
' jq

expect_success 'bundle: two different images with one name is an error naming both' '
	decant convert -q --image decant-test/small:2.0 --tag decant-test/multi:1.0 "$TWO" docker-archive:clash.tar
	rc=0
	decant convert "$TWO" clash.tar oci:out 2>err || rc=$?
	cat err
	[ $rc = 1 ]
	grep -q "decant-test/multi:1.0" err
	grep -q "two-images.tar" err
	grep -q "clash.tar" err
	no_leftovers out
'

expect_success 'bundle: stdin once only; --image selects across sources' '
	rc=0
	decant convert - - oci:out </dev/null 2>err || rc=$?
	[ $rc = 2 ] && grep -q "one source only" err
	decant convert --image decant-test/docker09:0.9 --image decant-test/small:2.0 "$TWO" - oci-archive:sel.tar <"$D09"
	[ "$(decant inspect --json sel.tar | jq ".images | length")" = 2 ]
' jq

expect_success 'verify reports every problem, per image, and --json' '
	decant convert -q "$TWO" "$D09" oci:bad
	b=$(decant inspect --json bad | jq -r ".images[] | select(.tags[0] == \"decant-test/docker09:0.9\") | .layers[0].digest")
	c=$(decant inspect --json bad | jq -r ".images[] | select(.tags[0] == \"decant-test/small:2.0\") | .layers[1].digest")
	printf X | dd of="bad/blobs/sha256/${b#sha256:}" bs=1 seek=10 conv=notrunc 2>/dev/null
	rm "bad/blobs/sha256/${c#sha256:}"
	rc=0
	decant verify bad 2>err || rc=$?
	cat err
	[ $rc = 1 ]
	grep -q "${b#sha256:}.*digest mismatch" err
	grep -q "${c#sha256:}.*missing" err
	grep -q "image @1 (decant-test/small:2.0): 1 bad layer" err
	grep -q "image @2 (decant-test/docker09:0.9): 1 bad layer" err
	rc=0
	decant verify --json bad "$TWO" >v.json || rc=$?
	[ $rc = 1 ]
	jq -e ".ok == false and (.sources[0].problems | length) == 2 and .sources[1].ok" v.json
	jq -e "[.sources[0].images[] | select(.ok)] | length == 1" v.json
' jq

# ------------------------------------------------------------------
# split sets

expect_success 'split: exact part sizes, sha256sum -c, same bytes as one file' '
	decant convert "$TWO" "$D09" docker-archive:whole.tar
	decant convert --split 100K "$TWO" "$D09" docker-archive:set.tar
	ls
	for p in set.tar.0*; do
		[ "$p" = "$(ls set.tar.0* | tail -1)" ] && break
		[ "$(stat -c %s "$p")" = 102400 ] || { echo "$p: $(stat -c %s "$p") bytes"; exit 1; }
	done
	sha256sum -c set.tar.sha256
	cat set.tar.0* | cmp - whole.tar
	ls -a | grep -v "^set.tar\.[0-9][0-9][0-9]$\|^set.tar.sha256$\|^whole.tar$\|^\.\.\?$" && exit 1
	true
'

expect_success 'split: inspect, verify and convert read the set by its first part' '
	decant convert --split 64K "$TWO" "$D09" oci-archive:set.tar
	decant inspect set.tar.000 | grep -q "4\|2 images"
	decant verify set.tar.000
	decant convert set.tar.000 docker-archive:back.tar
	decant verify back.tar
	cmp <(ids back.tar) <(cat <(ids "$TWO") <(ids "$D09") | sort)
	# sha256sum -c from elsewhere, and the set moved: still found
	mkdir moved && mv set.tar.* moved/ && (cd moved && sha256sum -c set.tar.sha256 >/dev/null)
	decant verify moved/set.tar.000
' jq

expect_success 'split: a truncated part is named, nothing written' '
	decant convert --split 64K "$TWO" docker-archive:set.tar
	truncate -s 1000 set.tar.001
	rc=0
	decant convert set.tar.000 oci:out 2>err || rc=$?
	cat err
	[ $rc = 1 ] && grep -q "set.tar.001" err
	no_leftovers out
	rc=0
	decant verify set.tar.000 2>err || rc=$?
	[ $rc = 1 ] && grep -q "set.tar.001" err
'

expect_success 'split: a missing part is named' '
	decant convert --split 64K "$TWO" docker-archive:set.tar
	rm set.tar.002
	rc=0
	decant inspect set.tar.000 2>err || rc=$?
	cat err
	[ $rc = 1 ] && grep -q "set.tar.002.*missing" err
	rc=0
	decant verify set.tar.000 2>err || rc=$?
	[ $rc = 1 ] && grep -q "set.tar.002.*missing" err
'

expect_success 'split: swapped parts and a part from another set are named by verify and convert, nothing written' '
	decant convert --split 64K "$TWO" docker-archive:set.tar
	mv set.tar.001 t && mv set.tar.002 set.tar.001 && mv t set.tar.002
	rc=0
	decant verify set.tar.000 2>err || rc=$?
	cat err
	[ $rc = 1 ]
	grep -q "set.tar.001.*checksum mismatch.*breaks image" err
	grep -q "set.tar.002.*checksum mismatch" err
	rc=0
	decant convert set.tar.000 oci:out 2>err || rc=$?
	cat err
	[ $rc = 1 ]
	grep -q "set.tar.001.*checksum mismatch" err
	grep -q "set.tar.002.*checksum mismatch" err
	no_leftovers out
	mv set.tar.002 t && mv set.tar.001 set.tar.002 && mv t set.tar.001
	decant convert --split 64K "$D09" "$SKO" docker-archive:other.tar
	cp other.tar.000 set.tar.000
	rc=0
	decant verify set.tar.000 2>err || rc=$?
	[ $rc = 1 ] && grep -q "set.tar.000.*checksum mismatch" err
	refused "set.tar.000.*checksum mismatch.*from another set" out \
		convert set.tar.000 oci:out
	# a middle part of the same size from another set
	decant convert --split 64K "$TWO" docker-archive:set.tar
	cp other.tar.001 set.tar.001
	refused "set.tar.001.*checksum mismatch" out.tar \
		convert set.tar.000 docker-archive:out.tar
	# a part of another size from another set: named when the set is opened
	decant convert --split 32K "$D09" docker-archive:small.tar
	cp small.tar.000 set.tar.001
	refused "set.tar.001.*from another set" out.tar \
		convert set.tar.000 docker-archive:out.tar
'

expect_success 'split: a rootfs output, read back as a source from its first part' '
	decant convert --split 64K "$TESTDATA/docker-1.10/multilayer.tar" rootfs:fs.tar
	sha256sum -c fs.tar.sha256 >/dev/null
	decant inspect fs.tar.000 | grep -q "(rootfs)"
	decant convert fs.tar.000 oci:o
	decant verify o
'

# joined bytes compressed whole: `docker save | gzip | split`, sha256sum
# beside it as --split writes it
expect_success 'split: a compressed split set is read in place by every command' '
	decant convert "$TWO" "$D09" docker-archive:whole.tar
	for c in gzip bzip2 xz zstd; do
		$c -c whole.tar >w.$c
		split -b 50000 -d -a 3 w.$c set-$c.
		sha256sum set-$c.0* >set-$c.sha256
		[ "$(ls set-$c.0* | wc -l)" -gt 3 ]
		cmp <(ids set-$c.000) <(ids whole.tar)
		decant verify set-$c.000
		decant inventory set-$c.000 >inv-$c.json
		decant inventory whole.tar | jq .blobs | cmp - <(jq .blobs inv-$c.json)
		decant convert set-$c.000 oci:o-$c
		decant verify o-$c
		cmp <(ids o-$c) <(ids whole.tar)
	done
	# no joined copy and no decompressed file left behind
	ls -a | grep -v "^set-\|^w\.\|^whole.tar$\|^inv-\|^o-\|^\.\.\?$" && exit 1
	true
' jq

expect_success 'split: a damaged, missing or foreign part of a compressed set is named, nothing written' '
	decant convert "$TWO" "$D09" docker-archive:whole.tar
	gzip -c whole.tar >w.gz
	split -b 50000 -d -a 3 w.gz set.
	sha256sum set.0* >set.sha256
	cp set.002 keep
	printf X | dd of=set.002 bs=1 seek=100 conv=notrunc 2>/dev/null
	refused "set.002.*checksum mismatch" out convert set.000 oci:out
	rc=0
	decant verify set.000 2>err || rc=$?
	[ $rc = 1 ] && grep -q "set.002.*checksum mismatch" err
	cp keep set.002
	rm set.003
	rc=0
	decant inspect set.000 2>err || rc=$?
	cat err
	[ $rc = 1 ] && grep -q "set.003.*missing" err
	cp keep set.003
	refused "set.003.*checksum mismatch" out convert set.000 oci:out
' jq

expect_success 'split: --split of a compressed rootfs, read back from its first part' '
	for c in gzip zstd; do
		decant convert -q --split 64K --compress $c --image decant-test/small:2.0 "$TWO" rootfs:fs-$c.tar.$c
		[ "$(ls fs-$c.tar.$c.0* | wc -l)" -gt 2 ]
		sha256sum -c fs-$c.tar.$c.sha256 >/dev/null
		cat fs-$c.tar.$c.0* | $c -dc | tar -t >/dev/null
		decant inspect fs-$c.tar.$c.000 | grep -q "(rootfs)"
		decant convert fs-$c.tar.$c.000 oci:o-$c
		decant verify o-$c
	done
	# the same filesystem both ways
	cmp <(decant inspect --json o-gzip | jq ".images[0].layers[0].diff_id") \
	    <(decant inspect --json o-zstd | jq ".images[0].layers[0].diff_id")
' jq

expect_success 'split: bad sizes and a directory format are usage errors' '
	rc=0; decant convert --split 12Q "$TWO" docker-archive:x.tar 2>/dev/null || rc=$?; [ $rc = 2 ]
	rc=0; decant convert --split 1G "$TWO" oci:x 2>/dev/null || rc=$?; [ $rc = 2 ]
	rc=0; decant convert --split 1G "$TWO" docker-archive:- >/dev/null 2>&1 || rc=$?; [ $rc = 2 ]
	decant convert --split 5000 "$TWO" docker-archive:x.tar && sha256sum -c x.tar.sha256 >/dev/null
'

# ------------------------------------------------------------------
# deltas

expect_success 'delta: inventory, small delta, inspect says so, applied with --base' '
	decant convert "$TWO" oci-archive:b1.tar
	decant inventory b1.tar >have.json
	jq -e ".schema == \"decant-inventory/1\" and (.blobs | length) > 0" have.json
	decant convert "$TWO" "$D09" --exclude-from have.json oci-archive:delta.tar
	# only what b1 lacks: the docker09 image layers, plus metadata
	big=$(tar -tvf delta.tar | awk "\$3 > 4096" | wc -l)
	n=$(tar -tf delta.tar | grep -c "^blobs/sha256/.")
	w=$(decant inspect --json "$D09" | jq ".images[0].layers | length")
	[ $((n)) -le $((w + 8)) ] || { echo "$n blobs in the delta"; exit 1; }
	decant inspect delta.tar | grep -q "^delta: .*left out, against have.json"
	decant inspect --json delta.tar | jq -e ".delta.excluded | length > 0"
	tar -xOf delta.tar decant-delta.json | jq -e ".schema == \"decant-delta/1\""
	# a delta verifies what it holds; what it left out is no problem
	decant verify delta.tar | grep -q "ok: a delta: .* left out"
	decant convert --base b1.tar delta.tar docker-archive:full.tar
	decant verify full.tar
	cmp <(ids full.tar) <(cat <(ids "$TWO") <(ids "$D09") | sort)
	rc=0
	decant convert delta.tar oci:x 2>err || rc=$?
	[ $rc = 1 ] && grep -q "is a delta" err
' jq

expect_success 'delta: its inventory lists what it holds, and apart what it refers to' '
	decant convert "$TWO" oci-archive:b1.tar
	decant inventory b1.tar >have.json
	decant convert "$TWO" "$D09" --exclude-from have.json oci-archive:delta.tar
	decant inventory delta.tar >dinv.json 2>err
	cat err
	grep -q "note: a delta refers to .* \"notHeld\"" err
	jq -e ".schema == \"decant-inventory/1\" and .sources == [\"delta.tar\"]" dinv.json
	# held: exactly the blobs in the delta
	jq -r ".blobs[].digest" dinv.json | sort >held
	tar -tf delta.tar | sed -n "s|^blobs/sha256/\(..*\)|sha256:\1|p" | sort >intar
	cmp held intar
	# not held: exactly what it left out, with sizes
	jq -r ".notHeld[].digest" dinv.json | sort >nh
	tar -xOf delta.tar decant-delta.json | jq -r ".excluded[].digest" | sort >ex
	cmp nh ex
	jq -e "[.notHeld[] | .size > 0] | all" dinv.json
	# with its base: every blob held, nothing apart, no note
	decant inventory b1.tar delta.tar >both.json 2>err
	[ ! -s err ]
	jq -e "has(\"notHeld\") | not" both.json
	cmp <(jq -r ".blobs[].digest" both.json | sort) \
	    <(cat <(jq -r ".blobs[].digest" have.json) held | sort -u)
	# carried back: the next delta against both leaves out every layer
	decant convert "$TWO" "$D09" --exclude-from both.json oci-archive:d2.tar
	[ "$(decant inspect --json d2.tar | jq "[.images[].layers[].digest] | unique | length")" = \
	  "$(decant inspect --json d2.tar | jq ".delta.excluded | length")" ]
	# against the delta'"'"'s inventory alone: what it only refers to travels again
	decant convert "$TWO" "$D09" --exclude-from dinv.json oci-archive:d3.tar
	decant convert --base b1.tar --base delta.tar d3.tar oci:full3 2>err || { cat err; exit 1; }
	decant verify full3
	# an inventory file with notHeld reads as its blobs only
	decant inventory dinv.json | jq -e "(.blobs | length) == $(jq ".blobs | length" dinv.json) and (has(\"notHeld\") | not)"
' jq

expect_success 'delta: against the wrong base fails before writing, listing every missing blob' '
	decant inventory "$TWO" >have.json
	decant convert "$TWO" "$D09" --exclude-from have.json docker-archive:delta.tar
	rc=0
	decant convert --base "$D09" delta.tar oci-archive:full.tar 2>err || rc=$?
	cat err
	[ $rc = 1 ]
	n=$(grep -c "^decant: error: missing blob sha256:.*needed by" err)
	w=$(decant inspect --json "$TWO" | jq "[.images[].layers[].digest] | unique | length")
	[ "$n" = "$w" ] || { echo "$n missing listed, $w expected"; exit 1; }
	grep -q "needed by decant-test/multi:1.0" err
	grep -q "nothing written" err
	no_leftovers full.tar
' jq

expect_success 'delta: an inventory that lies is a clear error, nothing written' '
	decant inventory "$TWO" >have.json
	d=$(jq -r ".blobs[0].digest" have.json)
	jq "(.blobs[0].size) |= . + 1" have.json >lie.json
	rc=0
	decant convert "$TWO" --exclude-from lie.json oci-archive:delta.tar 2>err || rc=$?
	cat err
	[ $rc = 1 ] && grep -q "inventory" err
	no_leftovers delta.tar
	echo "{\"schema\":\"decant-inventory/1\",\"blobs\":[{\"digest\":\"sha256:12\",\"size\":1}]}" >bad.json
	rc=0
	decant convert "$TWO" --exclude-from bad.json oci-archive:delta.tar 2>err || rc=$?
	[ $rc = 1 ] && grep -q "bad.json" err
	no_leftovers delta.tar
	# an inventory claiming blobs the far side lacks: the apply names them
	decant inventory "$D09" >have9.json
	jq ".blobs += $(decant inventory "$TWO" | jq .blobs)" have9.json >claims.json
	decant convert "$TWO" --exclude-from claims.json oci-archive:delta.tar
	rc=0
	decant convert --base "$D09" delta.tar oci:x 2>err || rc=$?
	[ $rc = 1 ] && grep -q "missing blob" err
	no_leftovers x
' jq

expect_success 'delta: written into an oci: store that has the rest, no --base' '
	decant convert "$TWO" oci:store
	decant inventory store >have.json
	decant convert "$TWO" "$D09" --exclude-from have.json oci-archive:delta.tar
	decant convert delta.tar oci:store
	decant verify store
	[ "$(decant inspect --json store | jq ".images | length")" = 3 ]
	blobs_ok store
' jq

expect_success 'delta: docker-legacy cannot hold one (usage error)' '
	decant inventory "$TWO" >have.json
	rc=0
	decant convert --exclude-from have.json "$TWO" "$D09" docker-legacy:x.tar 2>err || rc=$?
	[ $rc = 2 ] && grep -q "cannot hold a delta" err
'

# ------------------------------------------------------------------
# real engines: three images on a shared base, a rebuild, a delta

have_docker() { have dockerd && have docker; }
export BB=$T/busybox.tar
tar -xOf "$TESTDATA/docker-1.10/multilayer.tar" \
	"$(tar -xOf "$TESTDATA/docker-1.10/multilayer.tar" manifest.json | jq -r '.[0].Layers[0]')" >"$BB" 2>/dev/null || true

# tag NAME: each image its own tag, so that an OCI ref.name alone
# tells them apart too
tag() { case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac; }
# build NAME TEXT: an image FROM the imported base, with one file
build() {
	mkdir -p "ctx-$1"
	printf '%s\n' "$2" >"ctx-$1/hello.txt"
	printf 'FROM decant-base:1\nCOPY hello.txt /hello.txt\nCMD ["/bin/cat", "/hello.txt"]\n' >"ctx-$1/Dockerfile"
	DOCKER_BUILDKIT=0 docker build -q -t "decant-bundle/$1:$(tag "$1")" "ctx-$1" >/dev/null 2>&1
}
pm() {
	podman --root "$PWD/proot" --runroot "$PWD/prun" --tmpdir "$PWD/ptmp" \
		--storage-driver vfs --events-backend none --cgroup-manager cgroupfs "$@"
}
export -f build pm tag

have_docker && fresh_daemon
expect_success 'engines: near side builds 3 images, bundles, rebuilds one, makes a delta' '
	docker import "$BB" decant-base:1 >/dev/null
	build a "image a"
	build b "image b"
	build c "image c"
	mkdir -p "$T/near"
	for i in a b c; do
		docker save "decant-bundle/$i:$(tag $i)" >"$T/near/$i.tar"
		docker inspect -f "{{.Id}}" "decant-bundle/$i:$(tag $i)" >"$T/near/$i.id"
	done
	decant convert "$T/near/a.tar" "$T/near/b.tar" "$T/near/c.tar" docker-archive:"$T/near/bundle1.tar"
	decant convert "$T/near/a.tar" "$T/near/b.tar" "$T/near/c.tar" oci:"$T/near/bundle1.oci"
	decant convert "$T/near/a.tar" "$T/near/b.tar" "$T/near/c.tar" oci-archive:"$T/near/bundle1-oci.tar"
	# the shared base layer is stored once
	base=$(decant inspect --json "$T/near/a.tar" | jq -r ".images[0].layers[0].digest")
	[ "$(tar -tf "$T/near/bundle1.tar" | grep -c "${base#sha256:}")" = 1 ]
	decant inventory "$T/near/bundle1.tar" >"$T/near/have.json"
	build c "image c, rebuilt"
	docker save decant-bundle/c:3 >"$T/near/c2.tar"
	docker inspect -f "{{.Id}}" decant-bundle/c:3 >"$T/near/c2.id"
	decant convert --exclude-from "$T/near/have.json" "$T/near/a.tar" "$T/near/b.tar" "$T/near/c2.tar" docker-archive:"$T/near/delta.tar"
	# the delta holds one changed layer, the bundle all of them
	dl=$(tar -tvf "$T/near/delta.tar" | grep "blobs/sha256/." | awk "{s+=\$3} END {print s}")
	fl=$(stat -c %s "$T/near/bundle1.tar")
	echo "delta blobs $dl bytes, bundle $fl bytes"
	[ "$dl" -lt $((fl / 4)) ]
	# left out: the base and the top layers of a and b; in it: the new layer of c
	# layer with the three manifests and configs
	decant inspect "$T/near/delta.tar" | grep "^delta:"
	decant inspect "$T/near/delta.tar" | grep -q "^delta: *3 layers"
	[ "$(tar -tf "$T/near/delta.tar" | grep -c "^blobs/sha256/.")" = 7 ]
' dockerd docker jq

have_docker && fresh_daemon
expect_success 'engines: the bundle loads on a fresh daemon with every tag and ID' '
	[ -z "$(docker images -a -q)" ]
	docker load -i "$T/near/bundle1.tar" >load.out
	cat load.out
	for i in a b c; do
		grep -qx "Loaded image: decant-bundle/$i:$(tag $i)" load.out
		[ "$(docker inspect -f "{{.Id}}" "decant-bundle/$i:$(tag $i)")" = "$(cat "$T/near/$i.id")" ]
	done
' dockerd docker

# the containerd this dockerd runs, in a namespace of its own
expect_success 'engines: the bundle imports into containerd (ctr), all three complete' '
	sock=$DK/exec/containerd/containerd.sock
	ctr() { command ctr -a "$sock" -n bundle "$@"; }
	[ -z "$(ctr images ls -q)" ]
	ctr images import "$T/near/bundle1.tar"
	ctr images check >check.out
	cat check.out
	for i in a b c; do
		grep -q "^docker.io/decant-bundle/$i:$(tag $i) .* complete " check.out
	done
' dockerd docker ctr

have_docker && fresh_daemon
expect_success 'engines: far side holds bundle 1, applies the delta: IDs as on the near side' '
	[ -z "$(docker images -a -q)" ]
	docker load -i "$T/near/bundle1.tar" >/dev/null
	decant convert --base "$T/near/bundle1.tar" "$T/near/delta.tar" docker-archive:full.tar
	docker load -i full.tar
	for i in a b; do
		[ "$(docker inspect -f "{{.Id}}" "decant-bundle/$i:$(tag $i)")" = "$(cat "$T/near/$i.id")" ]
	done
	[ "$(docker inspect -f "{{.Id}}" decant-bundle/c:3)" = "$(cat "$T/near/c2.id")" ]
	id=$(docker create decant-bundle/c:3)
	docker export "$id" | tar -xOf - hello.txt | grep -qx "image c, rebuilt"
	# the wrong base: nothing written, every missing blob named
	rc=0
	decant convert --base "$D09" "$T/near/delta.tar" docker-archive:wrong.tar 2>err || rc=$?
	[ $rc = 1 ] && grep -q "missing blob" err && no_leftovers wrong.tar
' dockerd docker

expect_success 'engines: podman loads the bundle on a fresh store, all three, same IDs' '
	pm load -i "$T/near/bundle1.tar" >load.out 2>&1 || { cat load.out; exit 1; }
	pm images --format "{{.Repository}}:{{.Tag}}" | sort >got
	cat got
	for i in a b c; do
		grep -q "decant-bundle/$i:$(tag $i)" got
		id=$(pm image inspect --format "{{.Id}}" "decant-bundle/$i:$(tag $i)")
		[ "sha256:$id" = "$(cat "$T/near/$i.id")" ]
	done
' podman

expect_success 'engines: skopeo and umoci read the oci bundle by name' '
	# by the whole reference, as oci layouts name images (README)
	for i in a b c; do
		skopeo inspect --raw "oci:$T/near/bundle1.oci:docker.io/decant-bundle/$i:$(tag $i)"
	done >raw
	[ "$(jq -r .config.digest raw | sort -u | wc -l)" = 3 ]
	umoci ls --layout "$T/near/bundle1.oci" | sort >got
	cat got
	[ "$(wc -l <got)" -ge 3 ]
' skopeo umoci jq

finish
