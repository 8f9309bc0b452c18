#!/bin/bash
# bench/hostile.sh [DATADIR]
#
# The hostile row: every input that testdata/hostile/make-*.sh writes,
# run through the commands that once cost minutes or gigabytes (issue
# 17), each once under /usr/bin/time. Prints a markdown table: input |
# command | exit | wall | peak RSS | verdict. The target: under 5 s and
# 64 MiB, or refused (exit 1 with a message) under 64 MiB; "MISSED"
# otherwise. Exit 1 when any row missed.
#
#   DATADIR   the inputs go to DATADIR/hostile/<generator>/ (default
#             /var/tmp/decant-bench); made once, kept
#   DECANT    binary to measure (default ./decant of this repo)
#
# Hooks: cases_<generator> (the script's name, without make- and .sh,
# '-' as '_') lists the cases of a generator's inputs, one `hcase INPUT
# ARGS...` a line; a generator without one gets a row saying so.
# gen_<generator> DIR SCRIPT makes the inputs of a generator that does
# not take a directory (one that writes a tar on stdout); without it the
# generator runs as SCRIPT DIR. Add the functions next to the others
# when a new make-*.sh lands.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
DATA=${1:-/var/tmp/decant-bench}/hostile
D=${DECANT:-$ROOT/decant}
LIMIT_KB=65536
LIMIT_MS=5000
missed=0

command -v /usr/bin/time >/dev/null || { echo "hostile.sh: /usr/bin/time not installed" >&2; exit 1; }
mkdir -p "$DATA"
OUT=$(mktemp -d "$DATA/out.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

# hcase INPUT ARGS...: one row; "@OUT" in ARGS is a fresh output path
hcase() {
	local in=$1 rc=0 s ms rss verdict
	shift
	local args=("${@//@OUT/$OUT/o}")
	rm -rf "$OUT"/o*
	s=$(date +%s%N)
	/usr/bin/time -f %M -o "$OUT/rss" timeout 120 "$D" "${args[@]}" \
		>/dev/null 2>"$OUT/err" <"${STDIN:-/dev/null}" || rc=$?
	ms=$((($(date +%s%N) - s) / 1000000))
	rss=$(tail -n 1 "$OUT/rss")
	if [ "$rc" = 0 ] && [ "$ms" -lt $LIMIT_MS ] && [ "$rss" -lt $LIMIT_KB ]; then
		verdict=ok
	elif [ "$rc" = 1 ] && [ -s "$OUT/err" ] && [ "$rss" -lt $LIMIT_KB ]; then
		verdict="refused: $(head -c 100 "$OUT/err" | tr '\n|' '  ')"
	else
		verdict=MISSED
		missed=1
	fi
	printf '| %s | %s | %s | %d.%03d s | %d MiB | %s |\n' "$in" \
		"${args[*]//$DATA\//}" "$rc" $((ms / 1000)) $((ms % 1000)) \
		$((rss / 1024)) "$verdict"
}

# testdata/hostile/make-squash-hostile.sh: issue 17 items 5-10
cases_squash_hostile() {
	local h=$1 f
	for f in hardlinks deep layer-400 spool-2000 symlink-up symlink-same \
		link-via-symlink file-dir-up file-dir-same link-self link-cycle \
		link-dir; do
		hcase "$f.tar" convert -q "$h/$f.tar" rootfs:@OUT.tar
	done
	hcase hardlinks.tar convert -q --squash "$h/hardlinks.tar" oci-archive:@OUT.tar
	hcase deep.tar convert -q --squash "$h/deep.tar" oci-archive:@OUT.tar
	hcase layer-400.tar verify "$h/layer-400.tar"
	hcase image-5000.tar convert -q --squash "$h/image-5000.tar" oci-archive:@OUT.tar
	hcase image-5000.tar convert -q --squash "$h/image-5000.tar" docker-archive:@OUT.tar
}

# testdata/hostile/make-legacy-fanout.sh and make-many-layers.sh: issue 17
# items 3 and 4, as tests/e2e/t0166-hostile-legacy.sh makes them
gen_legacy_fanout() {
	mkdir -p "$1" && bash "$2" 999 1000 | gzip -1 >"$1/fan.tar.gz" &&
		bash "$2" 999 12 >"$1/fan12.tar"
}
cases_legacy_fanout() {
	hcase fan.tar.gz inspect "$1/fan.tar.gz"
	hcase fan.tar.gz convert -q "$1/fan.tar.gz" oci:@OUT
	hcase fan12.tar inspect "$1/fan12.tar"
	hcase fan12.tar convert -q "$1/fan12.tar" oci:@OUT
	hcase fan12.tar convert -q "$1/fan12.tar" docker-legacy:@OUT.tar
}
gen_many_layers() {
	mkdir -p "$1" && bash "$2" 25000 >"$1/many.tar" &&
		bash "$2" 50000 same >"$1/same.tar"
}
cases_many_layers() {
	local f
	for f in oci-archive docker-archive docker-legacy; do
		hcase many.tar convert -q "$1/many.tar" $f:@OUT.tar
	done
	hcase same.tar convert -q "$1/same.tar" docker-legacy:@OUT.tar
}

# testdata/hostile/make-hostile.sh: issue 17 items 1, 2, 12
cases_hostile() {
	local h=$1
	hcase window-zstd.tar.zst inspect "$h/window-zstd.tar.zst"
	hcase window-xz.tar.xz inspect "$h/window-xz.tar.xz"
	hcase window-layer verify "$h/window-layer"
	hcase window-layer convert -q "$h/window-layer" rootfs:@OUT.tar
	hcase window-ok convert -q "$h/window-ok" rootfs:@OUT.tar
	hcase many-names.tar.gz inspect "$h/many-names.tar.gz"
	hcase fifo inspect "$h/fifo"
}

echo "| input | command | exit | wall | peak RSS | verdict |"
echo "|---|---|---:|---:|---:|---|"
for g in "$ROOT"/testdata/hostile/make-*.sh; do
	name=$(basename "$g" .sh)
	name=${name#make-}
	dir=$DATA/$name
	if [ ! -e "$dir/.done" ]; then
		rm -rf "$dir"
		gen=gen_${name//-/_}
		if declare -F "$gen" >/dev/null; then
			"$gen" "$dir" "$g"
		else
			"$g" "$dir"
		fi >"$DATA/$name.log" 2>&1 ||
			{ echo "| $name | (generator failed: $DATA/$name.log) | | | | MISSED |"; missed=1; continue; }
		touch "$dir/.done"
	fi
	fn=cases_${name//-/_}
	if declare -F "$fn" >/dev/null; then
		"$fn" "$dir"
	else
		echo "| $name/* | (no cases listed: add $fn to bench/hostile.sh) | | | | |"
	fi
done
exit $missed
