#!/usr/bin/env bash
# decant analyze on an image built by a private dockerd with known waste
# (a 10 MB file written, then removed; a directory overwritten) and
# planted FAKE secrets (an AWS key id and a PEM private key in a file a
# later layer deletes; a GitHub-token-shaped build arg in the history).
# dive's figures are checked against tests/e2e/analyze/dive.py, which
# computes them from the layer tars the way dive does; the squash saving
# against a real squash; the secrets never appear in any output; a failed
# rule exits 3, broken input 1; the HTML page renders in headless
# Chromium without script errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd.sh"

FX=$T/fx
mkdir -p "$FX"
export DOCKER_BUILDKIT=0 DOCKER_CLI_HINTS=false
unset DOCKER_CONTEXT

# random parts: no secret-shaped literal in the repository
rnd() { head -c 4096 /dev/urandom | tr -dc "$1" | head -c "$2"; }
AWS=AKIA$(rnd 'A-Z0-9' 16)
GHP=ghp_$(rnd 'A-Za-z0-9' 36)
PEMBODY=MIIE$(rnd 'A-Za-z0-9' 60)
printf '%s\n' "$AWS" >"$FX/aws"
printf '%s\n' "$GHP" >"$FX/ghp"
printf '%s\n' "$PEMBODY" >"$FX/pem"

write_context() {
	mkdir -p "$1"
	{
		echo "aws_access_key_id = $AWS"
		echo "-----BEGIN RSA PRIVATE KEY-----"
		echo "$PEMBODY"
		echo "-----END RSA PRIVATE KEY-----"
	} >"$1/secret.txt"
	cat >"$1/Dockerfile" <<'DF'
FROM decant-test/multi:1.0
RUN busybox dd if=/dev/urandom of=/big bs=1048576 count=10 2>/dev/null
RUN rm /big
RUN mkdir -p /d/sub && echo one > /d/a && echo two > /d/sub/b
RUN rm -rf /d && mkdir /d && echo three > /d/a
COPY secret.txt /secret.txt
ARG GITHUB_TOKEN
RUN rm /secret.txt && test -n "$GITHUB_TOKEN"
DF
}

TOOLS="dockerd docker python3 jq"

have dockerd && have docker && fresh_daemon
expect_success 'build and save the test image' '
	docker load -i "$TESTDATA/docker-1.10/multilayer.tar"
	write_context ctx
	docker build -q --build-arg GITHUB_TOKEN=$(cat "$FX/ghp") -t analyze-test:1 ctx
	docker save -o "$FX/img.tar" analyze-test:1
' $TOOLS

expect_success 'dive figures equal an independent computation' '
	python3 "$TOP/tests/e2e/analyze/dive.py" "$FX/img.tar" | jq -S . >want.json
	decant analyze --json "$FX/img.tar" >"$FX/out.json"
	jq -S ".images[0] | {efficiency, wastedBytes, userWastedPercent,
		sizeBytes, userSizeBytes,
		inefficiencies: (.inefficiencies | map({key: .file,
			value: [.count, .sizeBytes]}) | from_entries),
		hidden: ([.hidden[] | [.layer, .path, .size]] | sort)}" \
		"$FX/out.json" >got.json
	diff -u want.json got.json
	# what the test image is about, exactly
	jq -e ".schemaVersion == 1" "$FX/out.json"
	jq -e ".inefficiencies[\"/big\"] == [2, 10485760]" want.json
	jq -e "[.hidden[] | select(.[1] == \"/big\" and .[2] == 10485760)] | length == 1" want.json
	jq -e "[.hidden[] | select(.[1] == \"/d/sub/b\" or .[1] == \"/secret.txt\")] | length == 2" want.json
	# the layer that wrote /big, with its history entry and counts
	jq -e ".images[0].layers[] | select(.createdBy // \"\" | test(\"dd if=/dev/urandom\"))
		| .added.files == 1 and .added.bytes == 10485760 and
		  .hiddenLater.bytes == 10485760" "$FX/out.json"
	jq -e ".images[0].layers[] | select(.createdBy // \"\" | test(\"rm /big\"))
		| .removed.files == 1 and .removed.bytes == 10485760" "$FX/out.json"
' $TOOLS

expect_success 'the same figures from every format, compressed or not' '
	fig=".images[0] | del(.layers[].compressedSize, .layers[].digest,
		.layers[].hiddenLater.compressedEstimate, .id)"
	jq -S "$fig" "$FX/out.json" >want
	decant convert -q --compress zstd "$FX/img.tar" oci-archive:zst.tar
	decant convert -q --compress gzip "$FX/img.tar" oci:gz
	decant convert -q "$FX/img.tar" docker-archive:da.tar
	for src in zst.tar oci:gz da.tar; do
		decant analyze --json "$src" | jq -S "$fig" >got
		diff -u want got
	done
' $TOOLS

expect_success 'the squash saving is that of a real squash' '
	jq -e ".images[0].squash.exact" "$FX/out.json"
	decant convert -q --squash --compress none "$FX/img.tar" oci:sq
	m=$(jq -r ".manifests[0].digest" sq/index.json | cut -d: -f2)
	got=$(jq -r ".layers[0].size" "sq/blobs/sha256/$m")
	want=$(jq -r ".images[0].squash.squashedTarBytes" "$FX/out.json")
	[ "$got" = "$want" ]
	# the sum of the layer tars, as python reads them (a layer saved twice is a
	# symlink to the first)
	sum=$(python3 "$TOP/tests/e2e/analyze/dive.py" --tar-bytes "$FX/img.tar")
	jq -e ".images[0].squash.layersTarBytes == $sum and
		.images[0].squash.savedBytes == $sum - $got" "$FX/out.json"
' $TOOLS

expect_success 'secrets: found where they are, reported redacted only' '
	jq -c "[.images[0].secrets[] | [.kind, .where, .path, .visible]] | sort" \
		"$FX/out.json" >got
	cat >want <<-W
	[["aws-access-key-id","file","/secret.txt",false],["github-token","history","created_by",true],["private-key","file","/secret.txt",false]]
	W
	diff -u want got
	jq -e ".images[0].secrets[] | select(.kind == \"aws-access-key-id\") |
		.redacted == \"AKIA\u2026(20)\"" "$FX/out.json"
	decant analyze "$FX/img.tar" >text.out
	decant analyze --json --files "$FX/img.tar" >files.json
	decant analyze --html page.html "$FX/img.tar" >/dev/null
	grep -q "aws-access-key-id" text.out
	for f in "$FX/aws" "$FX/ghp" "$FX/pem"; do
		for o in text.out "$FX/out.json" files.json page.html; do
			if grep -F "$(cat "$f")" "$o"; then
				echo "a secret in $o"; exit 1
			fi
		done
	done
' $TOOLS

expect_success 'rules: a failed one exits 3, passed ones 0, bad input 1' '
	rc=0; decant analyze --fail-on lowestEfficiency=0.99 "$FX/img.tar" >out || rc=$?
	[ $rc = 3 ]
	grep -q "FAIL: lowestEfficiency" out
	rc=0; decant analyze --json --fail-on secrets=0 "$FX/img.tar" >out.json 2>err || rc=$?
	[ $rc = 3 ]
	jq -e ".images[0].rules[0] | .rule == \"secrets\" and .status == \"fail\"" out.json
	decant analyze --fail-on "highestWastedBytes=1GB,lowestEfficiency=0.1,secrets=3" "$FX/img.tar" >out
	grep -q "PASS: highestWastedBytes" out
	printf "rules:\n  lowestEfficiency: 0.1\n  highestWastedBytes: 1MB\n  highestUserWastedPercent: disabled\n" >.dive-ci
	rc=0; decant analyze --rules .dive-ci "$FX/img.tar" >out || rc=$?
	[ $rc = 3 ]
	grep -q "FAIL: highestWastedBytes" out
	grep -q "PASS: lowestEfficiency" out
	rc=0; decant analyze "$TESTDATA/bad/digest-lie.tar" >out 2>err || rc=$?
	[ $rc = 1 ]
	rc=0; decant analyze --fail-on nosuchrule=1 "$FX/img.tar" 2>err || rc=$?
	[ $rc = 2 ]
' $TOOLS

expect_success 'names that need PAX headers: dive figures and the exact squash' '
	python3 "$TOP/tests/e2e/analyze/names.py" names.tar
	python3 "$TOP/tests/e2e/analyze/dive.py" names.tar |
		jq -S "{efficiency, wastedBytes, hidden}" >want
	decant analyze --json names.tar >out.json
	jq -S ".images[0] | {efficiency, wastedBytes,
		hidden: ([.hidden[] | [.layer, .path, .size]] | sort)}" out.json >got
	diff -u want got
	decant convert -q --squash --compress none names.tar oci:sq
	m=$(jq -r ".manifests[0].digest" sq/index.json | cut -d: -f2)
	jq -e ".images[0].squash | .exact and .squashedTarBytes == $(jq -r ".layers[0].size" "sq/blobs/sha256/$m")" out.json
' python3 jq

CHROME=chromium
have chromium || CHROME=chromium-browser
expect_success 'the HTML page renders in headless Chromium, chart and no script errors' '
	decant analyze --html page.html "$FX/img.tar"
	if grep -Eq "(src|href)=\"?https?:" page.html; then exit 1; fi
	timeout 120 $CHROME --headless --no-sandbox --disable-gpu \
		--dump-dom "file://$PWD/page.html" >dom.html 2>chrome.err ||
		{ tail -n 20 chrome.err; exit 1; }
	grep -q "<title>decant analyze: 1 image(s)</title>" dom.html
	if grep -q "<title>JSERROR" dom.html; then exit 1; fi
	grep -q "<svg" dom.html
	grep -q "hidden later" dom.html
	timeout 120 $CHROME --headless --no-sandbox --disable-gpu \
		--window-size=1200,900 --screenshot="$FX/page.png" \
		"file://$PWD/page.html" 2>>chrome.err ||
		{ tail -n 20 chrome.err; exit 1; }
	[ "$(head -c 8 "$FX/page.png" | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a ]
	cp page.html "$FX/page.html"
' $TOOLS $CHROME

finish
