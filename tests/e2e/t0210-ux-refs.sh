#!/usr/bin/env bash
# skopeo's FORMAT:PATH:REF as SRC (pick) and DEST (name), read back by
# skopeo; a path with a colon that exists is still a path; oci:x.tar
# gets a note.
. "$(dirname "$0")/lib.sh"
OCI=$TESTDATA/oci/skopeo.tar
TWO=$TESTDATA/docker-1.10/two-images.tar

expect_success 'oci:DIR:REF as DEST writes ref.name REF, not a directory named DIR:REF' '
	decant convert "$OCI" oci:x6:mytag
	[ -d x6 ] && [ ! -e x6:mytag ]
	jq -e ".manifests[0].annotations[\"org.opencontainers.image.ref.name\"] == \"mytag\"" x6/index.json
	skopeo inspect oci:x6:mytag >/dev/null
' skopeo jq

expect_success 'oci:DIR:REF as SRC picks that image; short forms match whole references' '
	decant convert "$OCI" oci:x6:1.0
	decant convert oci:x6:1.0 oci-archive:a.tar:busybox:latest
	skopeo inspect oci-archive:a.tar:busybox:latest >/dev/null
	decant convert oci-archive:a.tar:busybox:latest oci:b
	decant convert oci-archive:a.tar:docker.io/library/busybox:latest oci:c
	rc=0; decant convert oci:x6:nope oci:d 2>err || rc=$?
	[ $rc = 2 ] && grep -q "nope" err
' skopeo

expect_success 'docker-archive:FILE:REF names the image; skopeo reads it by that name' '
	decant convert "$OCI" docker-archive:d.tar:ux/app:3
	skopeo inspect docker-archive:d.tar:ux/app:3 | jq -e ".Name == \"docker.io/ux/app\""
	decant inspect docker-archive:d.tar:ux/app:3 | grep -q "tags:      ux/app:3"
	decant convert docker-archive:"$TWO":decant-test/small:1.0 oci:one 2>/dev/null ||
		decant convert "docker-archive:$TWO:@1" oci:one 2>/dev/null || true
' skopeo jq

expect_success 'a path that exists with a colon in its name is the path' '
	cp "$OCI" "a:b.tar"
	decant convert "oci-archive:a:b.tar" oci:plain
	decant inspect "a:b.tar" | grep -q "ref name:  1.0"
'

expect_success 'oci:out.tar gets a note suggesting oci-archive:' '
	decant convert "$OCI" oci:out.tar 2>err
	grep -q "oci-archive:out.tar" err
	[ -d out.tar ]
'

finish
