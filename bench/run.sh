#!/bin/bash
# bench/run.sh [DATADIR]
#
# Runs every benchmark case one after the other (never two at once) and prints
# a markdown table: case | tool | median wall | min-max | MB/s | output size |
# peak RSS, followed by the targets of the performance issue with their
# measured ratios.
#
#   DATADIR   where bench/make-images.sh put big.tar and small64.tar
#             (default /var/tmp/decant-bench; run make-images.sh first)
#
# Environment:
#   DECANT=path      decant binary to measure (default: ./decant of this repo).
#                    It is copied to DATADIR/bin/decant first, so a rebuild
#                    during the run does not change what is measured.
#   DECANT_REV=rev   instead, build that git revision (e.g. HEAD) from
#                    "git archive" in DATADIR/build (make -j2; the work tree
#                    is not touched) and measure that. DECANT_REV=worktree
#                    builds a copy of the work tree's Makefile, src/ and
#                    include/ as they are now (uncommitted changes included).
#   RUNS=5           timed runs per case (hyperfine --runs)
#   SLOW_RUNS=3      timed runs for the cases that take > ~20 s
#   WARMUP=1         hyperfine --warmup
#   ROUNDS=1         run the whole list of cases this many times, one round
#                    after the other; the table pools the timed runs of all
#                    rounds (bench/report.sh), which evens out a machine whose
#                    load changes over time
#   ONLY=regex       run only the case ids that match (see CASES below)
#                    ("hostile": the hostile row, bench/hostile.sh)
#
# Timing: hyperfine, median of the timed runs. Before every run (warmups
# included) --prepare deletes the output, runs sync (so no run pays for the
# previous run's writeback) and reads the source archive to keep it in the
# page cache: every number is warm-cache input, output to the page cache of
# the same file system (DATADIR/out), plus whatever fsync the tool does.
# Peak RSS: one extra run, /usr/bin/time -f %M sh -c COMMAND (kB; the maximum
# over the process tree, which is the tool itself: sh is a few hundred kB).
# Output size: the sum of the sizes of the files written (du --apparent-size
# for a directory, without the directory entries).
#
# Results: DATADIR/results/<UTC time>/ holds env.txt, table.md and, per
# round, rN/ with hyperfine's JSON and the peak RSS of each case, and rows.tsv.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
DATA=${1:-/var/tmp/decant-bench}
RUNS=${RUNS:-5}
SLOW_RUNS=${SLOW_RUNS:-3}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-1}
ONLY=${ONLY:-.}

BIG=$DATA/big.tar
SMALL=$DATA/small64.tar
OUT=$DATA/out
RES=$DATA/results/$(date -u +%Y%m%dT%H%M%SZ)

for f in "$BIG" "$SMALL"; do
	[ -s "$f" ] || { echo "run.sh: $f missing; run bench/make-images.sh $DATA" >&2; exit 1; }
done
for t in hyperfine skopeo zstd pigz openssl jq /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "run.sh: $t not installed" >&2; exit 1; }
done

mkdir -p "$OUT" "$RES" "$DATA/bin"
if [ -n "${DECANT_REV:-}" ]; then
	rm -rf "$DATA/build"
	mkdir -p "$DATA/build"
	if [ "$DECANT_REV" = worktree ]; then
		REV="work tree at $(git -C "$ROOT" rev-parse --short HEAD)"
		if ! git -C "$ROOT" diff --quiet HEAD -- Makefile src include; then
			REV+=" + uncommitted diff sha256 $(git -C "$ROOT" diff HEAD -- Makefile src include | sha256sum | cut -c1-12)"
		fi
		REV+=", untracked: $(git -C "$ROOT" ls-files -o --exclude-standard -- src include | wc -l) files"
		tar -C "$ROOT" -cf - Makefile src include | tar -x -C "$DATA/build"
	else
		REV="git $(git -C "$ROOT" rev-parse --short "$DECANT_REV")"
		git -C "$ROOT" archive "$DECANT_REV" | tar -x -C "$DATA/build"
	fi
	make -C "$DATA/build" -j2 decant >&2
	DECANT=$DATA/build/decant
fi
cp "${DECANT:-$ROOT/decant}" "$DATA/bin/decant.new"
mv "$DATA/bin/decant.new" "$DATA/bin/decant"
D=$DATA/bin/decant

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	if [ -n "${DECANT_REV:-}" ]; then
		echo "decant: $("$D" --version 2>&1 | head -1), built from $REV, binary sha256 $(sha256sum "$D" | cut -c1-12)"
	elif [ -n "${DECANT:-}" ]; then
		echo "decant: $("$D" --version 2>&1 | head -1), binary $DECANT, sha256 $(sha256sum "$D" | cut -c1-12)"
	else
		echo "decant: $("$D" --version 2>&1 | head -1), $ROOT/decant, work tree at git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src include 2>/dev/null || echo ' + uncommitted changes in src/ include/'), binary sha256 $(sha256sum "$D" | cut -c1-12)"
	fi
	echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "ram: $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "fs: $(df -T "$DATA" | awk 'NR==2{print $1, $2}'), rotational=$(cat /sys/block/"$(basename "$(df "$DATA" | awk 'NR==2{print $1}')")"/queue/rotational 2>/dev/null || echo '?')"
	echo "kernel: $(uname -r)"
	echo "tools: $(hyperfine --version), skopeo $(skopeo --version | awk '{print $3}'), zstd $(zstd -V | grep -o 'v[0-9.]*'), pigz $(pigz -V 2>&1 | awk '{print $2}'), $(openssl version | awk '{print $1, $2}'), $(tar --version | head -1)"
	echo "big.tar: $(stat -c %s "$BIG") bytes, sha256 $(sha256sum "$BIG" | cut -c1-12)"
	echo "small64.tar: $(stat -c %s "$SMALL") bytes"
	echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RES/env.txt" >&2

cat "$BIG" "$SMALL" >/dev/null	# warm the page cache

# bench ID CASE TOOL INPUT OUTPATH NRUNS COMMAND
#   OUTPATH "-": the command writes nothing that is kept.
#   COMMAND containing a redirection or && runs under hyperfine's shell (whose
#   start-up hyperfine subtracts); others run directly (hyperfine -N).
bench() {
	local id=$1 case=$2 tool=$3 in=$4 outp=$5 n=$6 cmd=$7
	[[ $id =~ $ONLY ]] || return 0
	local prep="sync; cat $in >/dev/null"
	[ "$outp" = - ] || prep="rm -rf $outp; $prep"
	local hf=(-N)
	[[ $cmd != *[\>\&]* ]] || hf=()
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	echo "=== $id: $cmd" >&2
	if ! hyperfine "${hf[@]}" --style basic --warmup "$WARMUP" --runs "$n" \
		--prepare "sh -c '$prep'" --export-json "$R/$id.json" "$cmd" >&2; then
		echo "run.sh: $id FAILED" >&2
		printf '%s\t%s\t%s\tFAILED\t\t\t\t\t\t\t%s\n' "$id" "$case" "$tool" "$load" >>"$R/rows.tsv"
		return 0
	fi
	sh -c "$prep"
	/usr/bin/time -f %M -o "$R/$id.rss" sh -c "$cmd" >/dev/null
	local outb=-
	if [ "$outp" != - ]; then
		outb=$(find "$outp" -type f -printf '%s\n' | awk '{s+=$1} END{print s+0}')
	fi
	jq -r --arg id "$id" --arg case "$case" --arg tool "$tool" \
	   --arg inb "$(stat -c %s "$in")" --arg outb "$outb" \
	   --arg rss "$(tail -1 "$R/$id.rss")" --arg load "$load" \
	   '.results[0] | [$id, $case, $tool, .median, .min, .max, $inb, $outb,
	    $rss, (.times | length), $load] | @tsv' \
	   "$R/$id.json" >>"$R/rows.tsv"
}

O=$OUT
for ((round = 1; round <= ROUNDS; round++)); do
	R=$RES/r$round
	mkdir -p "$R"
	printf 'id\tcase\ttool\tmedian\tmin\tmax\tinbytes\toutbytes\trss_kb\truns\tload\n' >"$R/rows.tsv"
	echo "##### round $round of $ROUNDS, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	# Cases that are compared run next to each other, because the host's
	# speed drifts over minutes: in the run at f81854f, decant's zstd ran
	# right after 5 minutes of pigz and took 3.2 s; next to zstd -T0 and
	# skopeo, minutes later, 2.4-2.8 s. The slow pigz baselines come last.
	# --- copies: the hash baseline, decant, skopeo ----------------------------
	bench base-cp        "copy"             "cp"                     "$BIG" "$O/cp.tar"   "$RUNS" "cp $BIG $O/cp.tar"
	bench base-cp-fsync  "copy + fsync"     "cp && sync FILE"        "$BIG" "$O/cp.tar"   "$RUNS" "cp $BIG $O/cp.tar && sync $O/cp.tar"
	bench base-sha256    "sha256"           "openssl dgst -sha256"   "$BIG" -             "$RUNS" "openssl dgst -sha256 $BIG"
	bench d-oci          "-> oci:"          "decant"  "$BIG" "$O/d-oci"      "$RUNS" "$D convert -q $BIG oci:$O/d-oci"
	bench d-squash       "squash -> oci:"   "decant --squash"        "$BIG" "$O/d-squash" "$RUNS" "$D convert -q --squash $BIG oci:$O/d-squash"
	bench sk-oci         "-> oci:"          "skopeo"  "$BIG" "$O/sk-oci"     "$RUNS" "skopeo copy -q --dest-oci-accept-uncompressed-layers docker-archive:$BIG oci:$O/sk-oci"
	bench d-ocitar       "-> oci-archive:"  "decant"  "$BIG" "$O/d-oci.tar"  "$RUNS" "$D convert -q $BIG oci-archive:$O/d-oci.tar"
	bench sk-ocitar      "-> oci-archive:"  "skopeo"  "$BIG" "$O/sk-oci.tar" "$RUNS" "skopeo copy -q --dest-oci-accept-uncompressed-layers docker-archive:$BIG oci-archive:$O/sk-oci.tar"
	bench d-datar        "-> docker-archive:" "decant"               "$BIG" "$O/d-da.tar"   "$RUNS" "$D convert -q $BIG docker-archive:$O/d-da.tar"
	bench d-squashtar    "squash -> docker-archive:" "decant --squash"   "$BIG" "$O/d-squash.tar" "$RUNS" "$D convert -q --squash $BIG docker-archive:$O/d-squash.tar"
	# --- compression --------------------------------------------------------
	bench base-zstd      "zstd -3"          "zstd -T0 -3"            "$BIG" "$O/big.zst"  "$RUNS" "zstd -q -T0 -3 -c $BIG >$O/big.zst"
	bench d-zstd         "zstd -> oci:"     "decant --compress zstd" "$BIG" "$O/d-zstd" "$RUNS" "$D convert -q --compress zstd $BIG oci:$O/d-zstd"
	bench sk-zstd        "zstd -> oci:"     "skopeo --dest-compress-format zstd" "$BIG" "$O/sk-zstd" "$SLOW_RUNS" "skopeo copy -q --dest-compress-format zstd docker-archive:$BIG oci:$O/sk-zstd"
	bench d-gzip         "gzip -> oci:"     "decant --compress gzip" "$BIG" "$O/d-gzip" "$SLOW_RUNS" "$D convert -q --compress gzip $BIG oci:$O/d-gzip"
	bench sk-gzip        "gzip -> oci:"     "skopeo --dest-compress-format gzip" "$BIG" "$O/sk-gzip" "$SLOW_RUNS" "skopeo copy -q --dest-compress-format gzip docker-archive:$BIG oci:$O/sk-gzip"
	bench d-gzip6        "gzip -6 -> oci:"  "decant --compress gzip --level 6" "$BIG" "$O/d-gzip6" "$SLOW_RUNS" "$D convert -q --compress gzip --level 6 $BIG oci:$O/d-gzip6"
	# --- metadata, small images ----------------------------------------------
	bench d-inspect      "inspect"          "decant inspect"         "$BIG" -         "$RUNS" "$D inspect $BIG"
	bench d-verify       "verify"           "decant verify"          "$BIG" -         "$RUNS" "$D verify $BIG"
	bench d-analyze      "analyze"          "decant analyze"         "$BIG" -         "$RUNS" "$D analyze $BIG"
	bench d-small64      "64 layers -> oci:" "decant"                "$SMALL" "$O/d-s64" "$RUNS" "$D convert -q $SMALL oci:$O/d-s64"
	bench sk-small64     "64 layers -> oci:" "skopeo"                "$SMALL" "$O/sk-s64" "$RUNS" "skopeo copy -q --dest-oci-accept-uncompressed-layers docker-archive:$SMALL oci:$O/sk-s64"
	# --- slow baselines -----------------------------------------------------
	bench base-pigz      "gzip -6"          "pigz -6 (2 threads)"    "$BIG" "$O/big.gz"   "$SLOW_RUNS" "pigz -6 -c $BIG >$O/big.gz"
	bench base-pigz1     "gzip -6"          "pigz -p1 -6 (1 thread)" "$BIG" "$O/big.gz"   "$SLOW_RUNS" "pigz -p1 -6 -c $BIG >$O/big.gz"
done
rm -rf "${OUT:?}"/*

# --- report --------------------------------------------------------------
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RES/env.txt" >&2
"$HERE/report.sh" "$RES"/r* >"$RES/table.md"
# --- the hostile row: small inputs that once cost minutes or gigabytes -----
if [[ hostile =~ $ONLY ]]; then
	echo "=== hostile: bench/hostile.sh" >&2
	{ echo; echo "hostile inputs (target: under 5 s and 64 MiB, or refused):"; echo
	  DECANT=$D "$HERE/hostile.sh" "$DATA" || echo "(some missed)"; } >>"$RES/table.md"
fi
echo >&2
cat "$RES/env.txt"
echo
cat "$RES/table.md"
echo
echo "results: $RES"
