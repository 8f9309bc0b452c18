# Shared setup for the end-to-end tests (git's test-lib, in small).
#
#   . "$(dirname "$0")/lib.sh"
#   expect_success 'title' 'shell body' [TOOL...]
#   expect_failure_exact 'title' CODE EXPECTED_STDERR_FILE -- decant ARGS...
#   finish
#
# A test whose TOOL is missing is skipped, except under CI=true, where a
# missing tool is a failure: CI must have every real consumer installed.
# The TOOL "samples" marks a test of the optional suite over archives other
# tools wrote (a third-party corpus, not in the repository): it runs only
# when DECANT_SAMPLES=DIR names that corpus, found as $SAMPLES, and is
# skipped otherwise, under CI=true too (.ci/run sets DECANT_SAMPLES).
# Each test body runs in a subshell with `set -eu` in a fresh $T/work dir.
set -eu
export LC_ALL=C TZ=UTC
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TESTDATA=$TOP/testdata
: "${DECANT:=$TOP/decant}"
SAMPLES=""
if [ -n "${DECANT_SAMPLES:-}" ]; then
	SAMPLES=$(cd "$DECANT_SAMPLES" 2>/dev/null && pwd) || {
		echo "not ok - $(basename "$0" .sh): DECANT_SAMPLES=$DECANT_SAMPLES is not a directory"
		exit 1
	}
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/decant-e2e.XXXXXX")
SCRIPT=$(basename "$0" .sh)
n_test=0
n_fail=0
_cleanup_hooks=""

at_exit() { _cleanup_hooks="$1; $_cleanup_hooks"; }
_cleanup() {
	eval "$_cleanup_hooks" || true
	rm -rf "$T" 2>/dev/null || { chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"; } || true
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

have() { command -v "$1" >/dev/null 2>&1; }

decant() { "$DECANT" "$@"; }

# Peak RSS and time are decant's own only in the plain build: ASan's
# shadow memory and quarantine, and its slower code, are not decant's.
# A test of resource bounds lists "bounds" and is skipped there.
sanitized() {
	[ -n "${DECANT_SANITIZED:-}" ] || ldd "$DECANT" 2>/dev/null | grep -q 'libasan\|libubsan'
}

# Can a server listen on [::1]? (containers may have no IPv6)
ipv6_loopback() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null
}

_missing() {
	for t in "$@"; do
		case $t in
		samples) [ -n "$SAMPLES" ] || { echo "$t"; return 0; } ;;
		bounds) sanitized && { echo "$t"; return 0; } ;;
		ipv6) ipv6_loopback || { echo "$t"; return 0; } ;;
		cores2) [ "$(nproc)" -ge 2 ] || { echo "$t"; return 0; } ;;
		*) have "$t" || { echo "$t"; return 0; } ;;
		esac
	done
	return 1
}

expect_success() {
	title=$1 body=$2
	shift 2
	n_test=$((n_test + 1))
	if m=$(_missing "$@"); then
		if [ "$m" = samples ]; then
			echo "skip $n_test - $SCRIPT: $title (optional suite: DECANT_SAMPLES not set)"
		elif [ "$m" = ipv6 ]; then
			echo "skip $n_test - $SCRIPT: $title (this machine has no IPv6 loopback)"
		elif [ "$m" = cores2 ]; then
			echo "skip $n_test - $SCRIPT: $title (a blob comes in parts only with 2 cores or more)"
		elif [ "$m" = bounds ]; then
			echo "skip $n_test - $SCRIPT: $title (resource bounds are measured on the plain build, not under a sanitizer)"
		elif [ "${CI:-}" = true ]; then
			echo "not ok $n_test - $SCRIPT: $title (missing tool '$m' under CI)"
			n_fail=$((n_fail + 1))
		else
			echo "skip $n_test - $SCRIPT: $title (missing tool '$m')"
		fi
		return 0
	fi
	rm -rf "$T/work"
	mkdir -p "$T/work"
	# not inside `if`: bash ignores set -e in a condition, so only the
	# body's last command would count
	set +e
	(
		cd "$T/work" || exit 1
		set -eu -o pipefail
		eval "$body"
	) >"$T/log" 2>&1
	rc=$?
	set -e
	if [ "$rc" = 0 ]; then
		echo "ok $n_test - $SCRIPT: $title"
	else
		echo "not ok $n_test - $SCRIPT: $title"
		sed 's/^/#   /' "$T/log" | tail -n 40
		n_fail=$((n_fail + 1))
	fi
}

# Run decant, expecting exit CODE and exactly the stderr in FILE.
# Also asserts that DEST (if given with dest=PATH) does not exist after.
check_error() {
	code=$1 want=$2
	shift 2
	rc=0
	"$DECANT" "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" != "$code" ]; then
		echo "exit code $rc, expected $code; stderr:"
		cat "$T/err"
		return 1
	fi
	if ! diff -u "$want" "$T/err"; then
		echo "stderr differs from $want"
		return 1
	fi
}

# Files named like "<dest>.tmp-*" left beside DEST mean partial output.
no_leftovers() {
	d=$(dirname "$1")
	b=$(basename "$1")
	if [ -e "$1" ]; then echo "'$1' exists"; return 1; fi
	if ls -a "$d" | grep -q "^$b\.tmp-"; then echo "temp file left in $d"; return 1; fi
}

# image_says ENGINE IMAGE WANT_FILE: what IMAGE's default command prints
# is WANT_FILE, found without starting a container (no container runtime
# needed). The test images run `cat FILE` (["/bin/sh","-c","cat /hello.txt"]
# or ["/bin/cat","/small.txt"]): the command comes from `ENGINE image
# inspect`, FILE from `ENGINE create` + `ENGINE export`. ENGINE is docker or
# a podman wrapper (a command or a function).
image_says() {
	_eng=$1 _img=$2 _want=$3
	_f=$("$_eng" image inspect "$_img" | jq -r '.[0].Config |
		(.Entrypoint // []) + (.Cmd // []) |
		if .[0:2] == ["/bin/sh", "-c"] then .[2] | split(" ") else . end |
		if length == 2 and (.[0] == "cat" or .[0] == "/bin/cat") and
		   (.[1] | startswith("/")) then .[1]
		else error("the command is not cat /FILE: \(.)") end') || return 1
	_cid=$("$_eng" create "$_img") || return 1
	_rc=0
	"$_eng" export "$_cid" | tar -xOf - "${_f#/}" >image_says.out || _rc=1
	"$_eng" rm "$_cid" >/dev/null || _rc=1
	[ $_rc = 0 ] || { echo "$_img: no $_f in its export"; return 1; }
	cmp "$_want" image_says.out ||
		{ echo "$_img: its command would print:"; cat image_says.out; return 1; }
}

# sha256sum of every blob must equal its file name.
blobs_ok() {
	for f in "$1"/blobs/sha256/*; do
		h=$(sha256sum "$f" | cut -d' ' -f1)
		[ "$h" = "$(basename "$f")" ] || { echo "blob $f hashes to $h"; return 1; }
	done
}

finish() {
	echo "# $SCRIPT: $n_test tests, $n_fail failed"
	[ "$n_fail" = 0 ]
}
