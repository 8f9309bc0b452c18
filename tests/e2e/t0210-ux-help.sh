#!/usr/bin/env bash
# Help per command with examples, --version lists codecs, shell
# completion, inspect shows the config, history and raw bytes, progress
# in a pseudo-terminal, squash history.
. "$(dirname "$0")/lib.sh"
ML=$TESTDATA/docker-1.10/multilayer.tar
OCI=$TESTDATA/oci/skopeo.tar
TWO=$TESTDATA/docker-1.10/two-images.tar

expect_success 'decant help convert = decant convert --help, with examples' '
	decant help convert >a
	decant convert --help >b
	cmp a b
	grep -q "^Examples:" a
	grep -q -- "--squash --change" a
	decant help inspect | grep -q -- "--config"
	decant inspect --help | grep -q -- "--manifest"
'

expect_success '--version lists the codecs and the SHA-256 implementation' '
	decant --version >v
	sed -n 2p v | grep -q "zstd [0-9]"
	sed -n 2p v | grep -q "sha256: "
'

expect_success 'bash completion completes commands, options and formats' '
	. "$TOP/contrib/completion/decant.bash"
	COMP_WORDS=(decant con); COMP_CWORD=1; _decant || :
	[ "${COMPREPLY[*]}" = convert ]
	COMP_WORDS=(decant convert --squ); COMP_CWORD=2; _decant || :
	[ "${COMPREPLY[*]}" = "--squash --squash-last" ]
	COMP_WORDS=(decant convert oci-a); COMP_CWORD=2; _decant || :
	[ "${COMPREPLY[*]}" = "oci-archive:" ]
' bash

expect_success 'zsh completion parses' '
	zsh -n "$TOP/contrib/completion/_decant"
' zsh

expect_success 'inspect: config, history beside each layer, sizes, made manifests' '
	decant inspect "$OCI" >i.txt
	grep -q "^  cmd: " i.txt
	grep -q "^  workdir: *\/data" i.txt
	grep -q "^  env: *PATH=" i.txt
	grep -q "COPY file:" i.txt
	decant inspect "$ML" | grep -q "(made by decant)"
	decant inspect "$TWO" | grep -q "shared between images"
	decant inspect --json "$OCI" >i.json
	jq -e ".schemaVersion == 1 and .images[0].workingDir == \"/data\" and
		.images[0].manifestSynthesized == false and
		(.images[0].layers[1].createdBy | test(\"COPY\")) and
		(.images[0].history | length) > 0 and .size.total > 0" i.json
	# one naming style: camelCase keys
	! jq -r "[paths | .[] | strings] | unique | .[]" i.json | grep -q _
' jq

expect_success 'inspect --config/--manifest/--index print the exact bytes' '
	decant convert "$OCI" oci:o
	m=$(jq -r ".manifests[0].digest" o/index.json)
	decant inspect --manifest oci:o | cmp - "o/blobs/sha256/${m#sha256:}"
	c=$(jq -r .config.digest "o/blobs/sha256/${m#sha256:}")
	decant inspect --config oci:o | cmp - "o/blobs/sha256/${c#sha256:}"
	rc=0; decant inspect --config "$TWO" 2>err || rc=$?
	[ $rc = 2 ] && grep -q "2 images" err
	decant inspect --config --image @1 "$TWO" | jq -e .rootfs >/dev/null
	rc=0; decant inspect --index "$OCI" 2>err || rc=$?
	[ $rc = 1 ]
' jq

expect_success 'inspect escapes control characters from the archive' '
	decant convert --label "$(printf "k=a\033[31mb")" "$OCI" oci:e
	decant inspect oci:e >e.txt
	! grep -q "$(printf "\033")" e.txt
	grep -q "a\\\\x1b\[31mb" e.txt
'

expect_success 'progress in a pseudo-terminal: recompress and write phases, a summary' '
	script -qfc "$DECANT convert --compress zstd $ML oci:p" /dev/null >tty.out
	grep -q "decant: recompress " tty.out
	grep -q "decant: write  blob [0-9]*/[0-9]*" tty.out
	grep -q "decant: wrote 1 image" tty.out
	decant convert --progress --squash "$ML" oci:q 2>plain.err
	grep -q "^decant: squash " plain.err
	! grep -q "$(printf "\r")" plain.err
	decant convert -q --compress zstd "$ML" oci:r 2>q.err
	[ ! -s q.err ]
' script

# The whole job: its work is outlined once planned. Recompressing every
# layer of ML: the job is the layers' bytes, counted once each (read from
# manifest.json here, by Python), with a time left while it runs.
human_size() {
	python3 -c 'import sys
v = float(sys.argv[1]); u = ["B", "KiB", "MiB", "GiB"]; i = 0
while v >= 1024 and i < 3:
	v /= 1024; i += 1
print(("%.1f %s" if i else "%.0f %s") % (v, u[i]))' "$1"
}
expect_success 'progress: the whole job, its bytes and time left, beside each phase' '
	n=$(python3 -c "import json, sys, tarfile
t = tarfile.open(sys.argv[1])
m = json.load(t.extractfile(\"manifest.json\"))
print(sum(t.getmember(l).size for l in {l for i in m for l in i[\"Layers\"]}))" "$ML") &&
	h=$(human_size $n) &&
	decant convert --progress --compress zstd "$ML" oci:j 2>job.err &&
	grep "^decant: recompress " job.err | head -1 | grep -q "  job 0 B / $h  ETA " &&
	grep "^decant: recompress " job.err | tail -1 | grep -q "  job $h / $h\$" &&
	grep -q "^decant: write .*  job $h / $h" job.err &&
	decant convert --progress "$ML" oci:k 2>copy.err &&
	grep -q "^decant: write  blob .*  job $h / $h" copy.err
'

expect_success 'squash keeps the story: created_by lines joined, inspect numbering' '
	decant convert --squash "$OCI" oci:s
	decant inspect --config oci:s >c.json
	jq -e "[.history[] | select(.empty_layer != true)] | length == 1" c.json
	jq -r "[.history[] | select(.empty_layer != true)][0].created_by" c.json >by
	grep -q "^decant squash: layers 0-9: " by
	grep -q "COPY file:17287ff652577efe" by
	grep -q "rm /dup.txt" by
	decant convert --squash-last 2 "$OCI" oci:t
	decant inspect --config oci:t | jq -r "[.history[] | select(.empty_layer != true)][-1].created_by" |
		grep -q "^decant squash: layers 8-9: "
' jq

finish
