#!/usr/bin/env bash
# bench/ab.sh OLD NEW [ROUNDS]: the same cases with two decant binaries,
# interleaved run by run (OLD, NEW, OLD, NEW, ...) so that both see the
# same machine; prints per case the median wall time of each, NEW/OLD,
# and the peak RSS of each. Inputs from bench/make-images.sh.
# Example: a restructuring must stay within 5 % of the commit before it:
#   git worktree add /tmp/old REV && make -C /tmp/old -j2
#   bench/ab.sh /tmp/old/build/decant build/decant 7
set -eu
old=${1:?old decant}; new=${2:?new decant}; rounds=${3:-5}
D=${BENCH_DIR:-/var/tmp/decant-bench}
B=$D/big.tar S=$D/small64.tar O=$D/ab-out
[ -f "$B" ] && [ -f "$S" ] || { echo "ab.sh: run bench/make-images.sh first" >&2; exit 2; }
cases=(
	"-> oci:|convert -q $B oci:$O/x"
	"-> oci-archive:|convert -q $B oci-archive:$O/x"
	"-> docker-archive:|convert -q $B docker-archive:$O/x"
	"squash -> oci:|convert -q --squash $B oci:$O/x"
	"squash -> docker-archive:|convert -q --squash $B docker-archive:$O/x"
	"zstd -> oci:|convert -q --compress zstd $B oci:$O/x"
	"gzip -> oci:|convert -q --compress gzip $B oci:$O/x"
	"verify|verify -q $B"
	"analyze|analyze $B"
	"64 layers -> oci:|convert -q $S oci:$O/x"
)
mkdir -p "$O"
res=$(mktemp); trap 'rm -rf "$res" "$O"' EXIT
cat "$B" "$S" >/dev/null
for ((r = 1; r <= rounds; r++)); do
	for c in "${cases[@]}"; do
		name=${c%%|*}; args=${c#*|}
		for which in old new; do
			bin=$old; [ $which = new ] && bin=$new
			rm -rf "$O/x"; sync
			# shellcheck disable=SC2086
			/usr/bin/time -f "%e %M" -o "$res.t" "$bin" $args >/dev/null
			echo "$name|$which|$(cat "$res.t")" >>"$res"
		done
	done
done
printf '%-28s %10s %10s %8s %10s %10s\n' case old new new/old "old RSS" "new RSS"
for c in "${cases[@]}"; do
	name=${c%%|*}
	python3 - "$res" "$name" <<'PY'
import sys, statistics as st
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
name = sys.argv[2]
t = {w: [float(x.split()[0]) for n, w2, x in rows if n == name and w2 == w] for w in ("old", "new")}
m = {w: max(int(x.split()[1]) for n, w2, x in rows if n == name and w2 == w) for w in ("old", "new")}
o, n = st.median(t["old"]), st.median(t["new"])
print(f"{name:<28} {o:9.3f}s {n:9.3f}s {n/o:8.3f} {m['old']/1024:8.1f}Mi {m['new']/1024:8.1f}Mi")
PY
done
