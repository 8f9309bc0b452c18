#!/usr/bin/env bash
# The whole suite: unit tests, fuzz-corpus replay, end-to-end tests.
# Every line "ok ...", "not ok ..." or "skip ..." is one test; the last
# line of output is the total: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# the inputs must never be touched: checksum testdata before and after
sum_testdata() { find testdata -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum; }
before=$(sum_testdata)

{
	echo "# source layers"
	bash tests/check-layers.sh 2>&1
	echo "# unit tests"
	"${UNIT:?}" 2>&1
	echo "# fuzz corpus replay (testdata, testdata/bad)"
	"${REPLAY:?}" testdata testdata/bad 2>&1
	"${REPLAY_JSON:?}" testdata/fuzz-seeds/json testdata/fuzz-crashes/json 2>&1
	# the squash engine on the layer sets of testdata/fuzz-seeds/squash
	"${REPLAY_SQUASH:?}" testdata/fuzz-seeds/squash 2>&1
	# inventories and delta records, as a far side sends them back
	"${REPLAY_INVENTORY:?}" testdata/fuzz-seeds/inventory testdata/fuzz-crashes/inventory 2>&1
	# the registry client's parsers
	"${REPLAY_REGISTRY:?}" testdata/fuzz-seeds/registry 2>&1
	# the same inputs through each reader alone (its own fuzz target)
	for r in ${REPLAY_READERS:-}; do
		"$r" testdata 2>&1
	done
	echo "# end-to-end tests"
	DECANT="${DECANT:?}" bash tests/e2e/run.sh 2>&1
	if [ "$(sum_testdata)" = "$before" ]; then
		echo "ok - suite: no test modified testdata/"
	else
		echo "not ok - suite: a test modified testdata/ (see git status)"
	fi
} | tee "$log"

pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok ' "$log")
skip=$(grep -c '^skip ' "$log")
echo "# summary ($(basename "${DECANT:?}") at ${DECANT%/*}): $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
