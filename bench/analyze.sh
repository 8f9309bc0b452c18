#!/usr/bin/env bash
# bench/analyze.sh [DECANT] [ROUNDS]: decant analyze against decant verify
# of the same 1 GB image, alternating run by run (verify, analyze,
# verify, ...) so that both see the same machine. Prints for each the
# median wall time, median CPU time (user + system) and peak RSS, the
# analyze/verify ratios, and the load average before and after. The
# target: analyze within 1.5x verify's time, under 64 MiB.
set -eu
bin=${1:-build/decant}; rounds=${2:-7}
D=${BENCH_DIR:-/var/tmp/decant-bench}
B=$D/big.tar
[ -f "$B" ] || { echo "analyze.sh: run bench/make-images.sh first" >&2; exit 2; }
res=$(mktemp); trap 'rm -f "$res" "$res.t"' EXIT
cat "$B" >/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
	for c in verify analyze; do
		/usr/bin/time -f "%e %U %S %M" -o "$res.t" \
			nice -n "${NICE:-0}" "$bin" "$c" "$B" >/dev/null
		echo "$c $(cat "$res.t")" >>"$res"
	done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$res" "$rounds" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
f = {}
for c in ("verify", "analyze"):
    r = [x for x in rows if x[0] == c]
    f[c] = (st.median(float(x[1]) for x in r),
            st.median(float(x[2]) + float(x[3]) for x in r),
            max(int(x[4]) for x in r) / 1024)
    print(f"{c:<8} wall {f[c][0]:6.3f} s  cpu {f[c][1]:6.3f} s  "
          f"peak RSS {f[c][2]:5.1f} MiB  ({sys.argv[2]} runs, medians)")
v, a = f["verify"], f["analyze"]
print(f"analyze/verify: wall {a[0] / v[0]:.2f}x  cpu {a[1] / v[1]:.2f}x")
PY
