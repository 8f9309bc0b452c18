#!/usr/bin/env bash
# ./build.sh        install missing build dependencies (Debian), then make
# ./build.sh test   also install the test tools, build, and run every test
#                   (the plain build and the ASan+UBSan build), then give
#                   each libFuzzer target a short run
set -eu -o pipefail
cd "$(dirname "$0")"

BUILD_PKGS="build-essential pkg-config libarchive-dev libjansson-dev libzstd-dev liblzma-dev zlib1g-dev libssl-dev libdeflate-dev libisal-dev libcurl4-openssl-dev libxxhash-dev"
TEST_PKGS="jq skopeo umoci oci-image-tool podman docker.io containerd runc busybox-static zstd gzip bzip2 xz-utils tar valgrind time python3 groff-base man-db bsdutils clang chromium zsh docker-registry apache2-utils openssl python3-cryptography curl"

missing() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
	done
}

install() {
	# shellcheck disable=SC2046
	set -- $(missing "$@")
	[ $# -gt 0 ] || return 0
	echo "build.sh: installing $*" >&2
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

case "${1:-build}" in
build)
	install $BUILD_PKGS
	make -j"$(nproc)"
	;;
test)
	install $BUILD_PKGS $TEST_PKGS
	# libFuzzer's runtime comes with clang's version
	install "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
	make -j"$(nproc)"
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	rc=0
	echo "== tests (plain build)"
	make -s check 2>&1 | tee "$log" || rc=1
	echo "== tests (ASan+UBSan build)"
	make -s -j"$(nproc)" SANITIZE=1 build/san/decant build/san/unit-tests build/san/fuzz-replay build/san/fuzz-replay-json \
		build/san/fuzz-replay-read-oci build/san/fuzz-replay-read-docker \
		build/san/fuzz-replay-read-legacy build/san/fuzz-replay-read-rootfs \
		build/san/fuzz-replay-squash build/san/fuzz-replay-registry
	make -s check SANITIZE=1 2>&1 | tee -a "$log" || rc=1
	echo "== libFuzzer targets (clang), ${FUZZ_SECONDS:-10} s each"
	if make -s -j"$(nproc)" fuzz >"$log.fuzz" 2>&1; then
		tests/fuzz/run-short.sh 2>&1 | tee -a "$log" || rc=1
	else
		cat "$log.fuzz"
		echo "not ok - fuzz: make fuzz failed" | tee -a "$log"
		rc=1
	fi
	rm -f "$log.fuzz"
	pass=$(grep -c '^ok ' "$log" || true)
	fail=$(grep -c '^not ok ' "$log" || true)
	skip=$(grep -c '^skip ' "$log" || true)
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ] || rc=1
	echo "$pass passed, $fail failed, $skip skipped"
	exit $rc
	;;
*)
	echo "usage: ./build.sh [test]" >&2
	exit 2
	;;
esac
