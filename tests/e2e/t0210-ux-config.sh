#!/usr/bin/env bash
# Config edits on any source (--change, --label, --env, --created), in one
# step with a squash; only what changes changes; docker loads the result
# with the new Cmd, Labels and Env; a rootfs import is created when its
# newest file was, not in 1970.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd.sh"
ML=$TESTDATA/docker-1.10/multilayer.tar
OCI=$TESTDATA/oci/skopeo.tar
FLAT=$TESTDATA/flat/docker-export.tar

# config_of DIR: the config of an oci layout's only image
config_of() {
	m=$(jq -r '.manifests[0].digest' "$1/index.json")
	c=$(jq -r .config.digest "$1/blobs/sha256/${m#sha256:}")
	cat "$1/blobs/sha256/${c#sha256:}"
}

expect_success '--change, --label, --env, --created on an image source' '
	decant convert --change "CMD [\"/app\"]" --label a=b --env "X=\$y\"z" \
		--created 2024-01-02T03:04:05Z "$OCI" oci:o
	blobs_ok o
	config_of o >c.json
	jq -e ".config.Cmd == [\"/app\"] and .config.Labels.a == \"b\" and
		(.config.Env | index(\"X=\$y\\\"z\")) != null and
		.created == \"2024-01-02T03:04:05Z\"" c.json
	decant verify oci:o
' jq

expect_success 'the other keys keep their order and bytes; the digests follow' '
	decant convert "$OCI" oci:a
	decant convert --label a=b "$OCI" oci:b
	config_of a >a.json
	config_of b >b.json
	[ "$(jq -c "keys_unsorted" a.json)" = "$(jq -c "keys_unsorted" b.json)" ]
	[ "$(jq -c "del(.config)" a.json)" = "$(jq -c "del(.config)" b.json)" ]
	[ "$(jq -c ".config | keys_unsorted" a.json)" = "$(jq -c ".config | keys_unsorted" b.json)" ]
	# the key order inside config is the source'"'"'s
	[ "$(jq -c ".config | del(.Labels)" a.json)" = "$(jq -c ".config | del(.Labels)" b.json)" ]
	id=sha256:$(sha256sum <b.json | cut -d" " -f1)
	[ "$(decant inspect --json oci:b | jq -r ".images[0].id")" = "$id" ]
	m=$(jq -r ".manifests[0].digest" b/index.json)
	jq -e --arg id "$id" ".config.digest == \$id" "b/blobs/sha256/${m#sha256:}"
' jq

expect_success 'a change that changes nothing keeps the bytes (and the image ID)' '
	decant convert "$OCI" oci:a
	decant convert --change "WORKDIR /data" "$OCI" oci:b
	cmp a/index.json b/index.json
'

expect_success 'a bad --created, --label or --change is a usage error' '
	rc=0; decant convert --created yesterday "$OCI" oci:x 2>err || rc=$?
	[ $rc = 2 ] && grep -q "RFC 3339" err
	rc=0; decant convert --label novalue "$OCI" oci:x 2>err || rc=$?
	[ $rc = 2 ] && grep -q "KEY=VALUE" err
	rc=0; decant convert --change "RUN true" "$OCI" oci:x 2>err || rc=$?
	[ $rc = 2 ]
	[ ! -e x ]
'

expect_success 'rootfs import: created is the newest mtime, or SOURCE_DATE_EPOCH' '
	unset SOURCE_DATE_EPOCH
	decant convert "$FLAT" oci:r
	newest=$(TZ=UTC tar --full-time -tvf "$FLAT" | awk "{print \$4 \"T\" \$5 \"Z\"}" | sort | tail -n1)
	config_of r | jq -e --arg t "$newest" ".created == \$t"
	SOURCE_DATE_EPOCH=1700000000 decant convert "$FLAT" oci:s
	config_of s | jq -e ".created == \"2023-11-14T22:13:20Z\""
' jq

have dockerd && have docker && fresh_daemon
expect_success 'docker loads --squash --change in one step: new Cmd, Labels, Env; not 56 years ago' '
	decant convert --squash --change "CMD [\"/bin/cat\",\"/hello.txt\"]" \
		--label org.example.rev=42 --env MODE=prod --tag ux/sq:1 \
		"$ML" docker-archive:sq.tar
	docker load -i sq.tar
	docker image inspect ux/sq:1 >i.json
	jq -e ".[0].Config.Cmd == [\"/bin/cat\",\"/hello.txt\"] and
		.[0].Config.Labels[\"org.example.rev\"] == \"42\" and
		(.[0].Config.Env | index(\"MODE=prod\")) != null and
		(.[0].RootFS.Layers | length) == 1" i.json
	unset SOURCE_DATE_EPOCH
	decant convert --tag ux/flat:1 "$FLAT" docker-archive:flat.tar
	docker load -i flat.tar
	docker images ux/flat:1 >images.txt
	cat images.txt
	! grep -q "years ago" images.txt
' dockerd docker jq

finish
