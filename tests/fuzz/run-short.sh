#!/usr/bin/env bash
# A short libFuzzer run of every target under build/fuzz/ (make fuzz), so
# that CI builds them and gives each a few seconds of new inputs:
#   tests/fuzz/run-short.sh [SECONDS]     (default 10, or $FUZZ_SECONDS)
# One line "ok - ..." or "not ok - ..." per target, as the rest of the
# suite prints. The corpus grows in a temp dir, never in testdata/; a
# crash input is kept in $FUZZ_ARTIFACTS (default: a temp dir) and named,
# and printed in base64 when it is small (a CI log is all CI leaves).
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${1:-${FUZZ_SECONDS:-10}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
art=${FUZZ_ARTIFACTS:-$(mktemp -d /tmp/decant-fuzz-artifacts.XXXXXX)}
mkdir -p "$art"
# -rss_limit_mb bounds what an input makes decant hold; ASan's quarantine
# of freed memory (256 MiB by default) would count towards it too
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=32"
rc=0
found=0
for t in build/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	found=1
	name=$(basename "$t")
	tmpdir=${TMPDIR:-/tmp}
	case $name in
	fuzz_json) seeds="testdata/fuzz-seeds/json testdata/fuzz-crashes/json" ;;
	fuzz_inventory) seeds="testdata/fuzz-seeds/inventory testdata/fuzz-crashes/inventory" ;;
	fuzz_registry) seeds="testdata/fuzz-seeds/registry" ;;
	fuzz_squash)
		seeds="testdata/fuzz-seeds/squash"
		# its spools: on a tmpfs where there is one
		[ -d /dev/shm ] && [ -w /dev/shm ] && tmpdir=/dev/shm
		;;
	*) seeds="testdata" ;;
	esac
	mkdir -p "$tmp/$name"
	# shellcheck disable=SC2086
	if TMPDIR=$tmpdir "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=256 \
		-max_len=1048576 -artifact_prefix="$art/$name-" \
		"$tmp/$name" $seeds >"$tmp/$name.log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$tmp/$name.log" | tail -1)
		echo "ok - fuzz: $name, ${secs}s: ${runs:-done}, no crash"
	else
		echo "not ok - fuzz: $name found a failure (input kept in $art):"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$tmp/$name.log" | head -20
		# a CI log is all that is left of a CI run: the input, if small
		for f in "$art/$name-"*; do
			[ -f "$f" ] && [ "$(stat -c %s "$f")" -le 16384 ] || continue
			echo "# $(basename "$f"), base64:"
			base64 -w 76 "$f" | sed 's/^/# /'
		done
		rc=1
	fi
done
if [ $found = 0 ]; then
	echo "not ok - fuzz: no target under build/fuzz (make fuzz)"
	rc=1
fi
[ -n "${FUZZ_ARTIFACTS:-}" ] || [ -n "$(ls -A "$art")" ] || rmdir "$art"
exit $rc
