#!/usr/bin/env bash
# The whole suite: unit tests, fuzz-corpus replay, end-to-end tests.
# Every line "ok ...", "not ok ..." or "skip ..." is one test; the last
# line of output is the total: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

{
	echo "# unit tests"
	"${UNIT:?}" 2>&1
	echo "# fuzz corpus replay (testdata, testdata/bad)"
	"${REPLAY:?}" testdata testdata/bad 2>&1
	echo "# end-to-end tests"
	DECANT="${DECANT:?}" bash tests/e2e/run.sh 2>&1
} | tee "$log"

pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok ' "$log")
skip=$(grep -c '^skip ' "$log")
echo "# summary ($(basename "${DECANT:?}") at ${DECANT%/*}): $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
