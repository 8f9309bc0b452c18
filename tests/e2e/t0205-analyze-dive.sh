#!/usr/bin/env bash
# decant analyze on dive's own test images (the optional suite: skipped
# unless DECANT_SAMPLES is set). dive is not packaged for Debian, so its
# expected values are taken from its repository (wagoodman/dive at
# d6c6919): dive/image/docker/image_archive_analysis_test.go (efficiency,
# sizes, wasted bytes and user wasted percent of test-docker-image.tar),
# cmd/dive/cli/internal/command/export/testdata/snapshots/export_test.snap
# (its inefficient files), cmd/dive/cli/internal/command/ci/evaluator_test.go
# (the rules' verdicts on it), and Taskfile.yaml's ci-test-*-run, which
# run `dive --ci --ci-config .data/.dive-ci` on the kaniko and OCI images
# and expect them to pass. Every image is also checked against
# tests/e2e/analyze/dive.py, which computes dive's figures from the layer
# tars itself.
. "$(dirname "$0")/lib.sh"

DATA=$SAMPLES/wagoodman+dive/.data

# dive's .data/.dive-ci as it is (its plugin rule skipped)
dive_ci() {
	cat >.dive-ci <<-'EOF'
	---
	plugins:
	  - plugin1

	rules:
	  # If the efficiency is measured below X%, mark as failed. (expressed as a percentage between 0-1)
	  lowestEfficiency: 0.95

	  # If the amount of wasted space is at least X or larger than X, mark as failed. (expressed in B, KB, MB, and GB)
	  highestWastedBytes: 20Mb

	  # If the amount of wasted space makes up for X% of the image, mark as failed. (fail if the threshold is met or crossed; expressed as a percentage between 0-1)
	  highestUserWastedPercent: 0.5

	  plugin1/rule1: error
	EOF
}

# decant's dive figures of image 0 of $1, as dive.py prints them
figures() {
	decant analyze --json "$1" | jq -S ".images[0] | {efficiency, wastedBytes,
		userWastedPercent, sizeBytes, userSizeBytes,
		inefficiencies: (.inefficiencies | map({key: .file,
			value: [.count, .sizeBytes]}) | from_entries),
		hidden: ([.hidden[] | [.layer, .path, .size]] | sort)}"
}

expect_success 'test-docker-image.tar: dive figures exactly as dive'"'"'s own tests expect' '
	decant analyze --json "$DATA/test-docker-image.tar" >out.json
	jq -e ".images[0] | .efficiency == 0.9844212134184309 and
		.sizeBytes == 1220598 and .userSizeBytes == 66237 and
		.wastedBytes == 32025 and .userWastedPercent == 0.4834911001404049" out.json
	jq -c "[.images[0].inefficiencies[] | [.file, .count, .sizeBytes]] | sort" out.json >got
	echo "[[\"/root/example/somefile1.txt\",2,12810],[\"/root/example/somefile3.txt\",2,6405],[\"/root/saved.txt\",2,12810]]" >want
	diff -u want got
	python3 "$TOP/tests/e2e/analyze/dive.py" "$DATA/test-docker-image.tar" | jq -S . >want.json
	figures "$DATA/test-docker-image.tar" >got.json
	diff -u want.json got.json
' python3 jq samples

expect_success 'test-docker-image.tar: dive'"'"'s rule verdicts, and its CI config passes' '
	verdicts() {
		rc=0
		decant analyze --fail-on "lowestEfficiency=$1,highestWastedBytes=$2,highestUserWastedPercent=$3" \
			"$DATA/test-docker-image.tar" >out || rc=$?
		{ grep -o "^  [A-Z]*: [A-Za-z]*" out || true; } | tr "\n" " " | tr -s " " >got
		echo "$rc" >>got
	}
	verdicts 0.99 1B 0.01
	echo " FAIL: lowestEfficiency FAIL: highestWastedBytes FAIL: highestUserWastedPercent 3" >want
	diff -u want got
	verdicts 0.9 50kB 0.5
	echo " PASS: lowestEfficiency PASS: highestWastedBytes PASS: highestUserWastedPercent 0" >want
	diff -u want got
	verdicts 0.9 1B 0.5
	echo " PASS: lowestEfficiency FAIL: highestWastedBytes PASS: highestUserWastedPercent 3" >want
	diff -u want got
	verdicts disabled disabled disabled
	echo "0" >want
	diff -u want got
	dive_ci
	decant analyze --rules .dive-ci "$DATA/test-docker-image.tar" >out
	[ "$(grep -c "^  PASS: " out)" = 3 ]
' samples

expect_success 'test-kaniko-image.tar (14 gzip layers named by digest): dive figures, dive CI passes' '
	python3 "$TOP/tests/e2e/analyze/dive.py" "$DATA/test-kaniko-image.tar" | jq -S . >want.json
	figures "$DATA/test-kaniko-image.tar" >got.json
	diff -u want.json got.json
	jq -e ".efficiency == 0.9793688490216431 and .sizeBytes == 1326410 and
		.userSizeBytes == 94677 and .wastedBytes == 46245 and
		(.hidden | length) == 5" got.json
	decant analyze --json "$DATA/test-kaniko-image.tar" >out.json
	jq -e ".images[0] | (.layers | length) == 14 and .squash.exact and
		.squash.layersTarBytes == $(python3 "$TOP/tests/e2e/analyze/dive.py" --tar-bytes "$DATA/test-kaniko-image.tar")" out.json
	dive_ci
	decant analyze -q --rules .dive-ci "$DATA/test-kaniko-image.tar" >out
' python3 jq samples

expect_success 'test-oci-*-image.tar (uncompressed, gzip, zstd, estargz): one README, no waste, dive CI passes' '
	# the README the image holds, as GNU tar lists the same build flat
	size=$(tar -tvf "$DATA/test-uncompressed-image.tar" README.md | awk "{print \$3}")
	[ "$size" = 11189 ]
	dive_ci
	for alg in uncompressed gzip zstd estargz; do
		f=$DATA/test-oci-$alg-image.tar
		python3 "$TOP/tests/e2e/analyze/dive.py" "$f" | jq -S . >want.json
		figures "$f" >got.json
		diff -u want.json got.json
		jq -e ".efficiency == 1 and .wastedBytes == 0 and .sizeBytes == $size and
			.userSizeBytes == 0 and .userWastedPercent == null" got.json
		decant analyze --json "$f" >out.json
		jq -e ".format == \"oci-archive\" and (.images[0].layers | length) == 1 and
			.images[0].squash.layersTarBytes == $(python3 "$TOP/tests/e2e/analyze/dive.py" --tar-bytes "$f")" out.json
		decant analyze -q --rules .dive-ci "$f" >out
	done
' python3 jq zstd tar samples

finish
