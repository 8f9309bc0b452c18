#!/usr/bin/env bash
# oci: into an existing layout; multi-platform indexes in and out.
. "$(dirname "$0")/lib.sh"
D=$TESTDATA/docker-1.10
MP=$SAMPLES/regclient+regclient/testdata/testrepo

expect_success 'oci: adds to an existing layout and reuses its blobs' '
	decant convert -q $D/multilayer.tar oci:lay &&
	n1=$(ls lay/blobs/sha256 | wc -l) &&
	decant convert -q --image decant-test/small:2.0 $D/two-images.tar oci:lay &&
	n2=$(ls lay/blobs/sha256 | wc -l) &&
	# small shares its base layer: 2 layers + config + manifest, minus 1
	[ $((n2 - n1)) = 3 ] &&
	[ "$(jq -r "[.manifests[].annotations[\"org.opencontainers.image.ref.name\"]]|join(\",\")" lay/index.json)" = \
	  "docker.io/decant-test/multi:1.0,docker.io/decant-test/small:2.0" ] &&
	blobs_ok lay &&
	decant verify -q lay &&
	skopeo inspect oci:lay:docker.io/decant-test/multi:1.0 >/dev/null &&
	skopeo inspect oci:lay:docker.io/decant-test/small:2.0 >/dev/null
' skopeo jq

expect_success 'oci: a ref name added again replaces the old entry' '
	decant convert -q $D/multilayer.tar oci:lay &&
	decant convert -q --tag decant-test/multi:1.0 $TESTDATA/oci/skopeo-dir oci:lay &&
	[ "$(jq ".manifests|length" lay/index.json)" = 1 ] &&
	[ "$(jq -r ".manifests[0].digest" lay/index.json)" = \
	  "$(jq -r ".manifests[0].digest" $TESTDATA/oci/skopeo-dir/index.json)" ]
' jq

expect_success 'oci: a failed add leaves the layout exactly as it was' '
	decant convert -q $D/multilayer.tar oci:lay &&
	(cd lay && find . -type f | sort | xargs sha256sum) >before &&
	! decant convert -q $TESTDATA/bad/digest-lie.tar oci:lay 2>/dev/null &&
	(cd lay && find . -type f | sort | xargs sha256sum) >after &&
	diff before after
'

expect_success 'oci: a directory that is not a layout is refused' '
	mkdir junk && echo x >junk/file &&
	rc=0 && { decant convert -q $D/multilayer.tar oci:junk 2>err || rc=$?; } &&
	[ $rc = 2 ] && grep -q "neither empty nor an OCI layout" err &&
	[ "$(ls junk)" = file ]
'

expect_success 'multi-platform indexes are kept, byte for byte when complete' '
	decant convert -q $MP oci:mp &&
	blobs_ok mp &&
	for t in b1 b2 b3; do
		want=$(jq -r ".manifests[]|select(.annotations[\"org.opencontainers.image.ref.name\"]==\"$t\")|.digest" $MP/index.json)
		got=$(jq -r ".manifests[]|select(.annotations[\"org.opencontainers.image.ref.name\"]==\"$t\")|.digest" mp/index.json)
		[ "$want" = "$got" ] || { echo "$t: $got != $want"; exit 1; }
	done &&
	[ "$(skopeo inspect --raw oci:mp:b1 | jq ".manifests|length")" = 4 ] &&
	skopeo copy -q --all oci:mp:b1 oci:copy:b1
' skopeo jq samples

expect_success 'a single-platform target picks the host platform and says so' '
	decant convert --image b1 $MP docker-archive:one.tar 2>err &&
	grep -q "^decant: note: .*picked linux/amd64 (this host)" err &&
	[ "$(tar -xOf one.tar manifest.json | jq length)" = 1 ] &&
	cfg=$(tar -xOf one.tar manifest.json | jq -r ".[0].Config") &&
	[ "$(tar -xOf one.tar $cfg | jq -r .architecture)" = amd64 ]
' jq samples

expect_success 'inspect shows the index of multi-platform images' '
	decant inspect --json $MP >i.json &&
	[ "$(jq "[.images[]|select(.refName==\"b1\")]|length" i.json)" = 4 ] &&
	[ "$(jq -r "[.images[]|select(.refName==\"b1\")|.index]|unique|length" i.json)" = 1 ]
' jq samples

expect_success '--image name:tag keeps only that tag; by name, id or @N all tags' '
	T2=$TESTDATA/docker-1.10/two-images.tar
	decant convert -q --image decant-test/multi:latest $T2 docker-archive:a.tar &&
	[ "$(tar -xOf a.tar manifest.json | jq -c ".[0].RepoTags")" = "[\"decant-test/multi:latest\"]" ] &&
	decant convert -q --image decant-test/multi $T2 docker-archive:b.tar &&
	[ "$(tar -xOf b.tar manifest.json | jq ".[0].RepoTags|length")" = 2 ] &&
	decant convert -q --image @0 $T2 docker-archive:c.tar &&
	[ "$(tar -xOf c.tar manifest.json | jq ".[0].RepoTags|length")" = 2 ] &&
	decant convert -q --image decant-test/multi:1.0 --image decant-test/multi:latest $T2 oci:d &&
	[ "$(jq ".manifests|length" d/index.json)" = 2 ]
' jq

finish
