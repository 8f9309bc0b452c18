#!/bin/bash
# bench/report.sh RESULTDIR...
#
# Prints the markdown results table and the target check for one or more
# result directories written by bench/run.sh. With several directories (for
# example, two complete runs on a busy machine) the timed runs of each case
# are pooled: "median wall" is the median over all of them, min - max their
# range, "CPU" the mean user+system time per run, and peak RSS the largest
# seen. The target check gives each ratio of pooled medians, then the same
# ratio in each directory (round) on its own.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 RESULTDIR..." >&2; exit 2; }
command -v jq >/dev/null || { echo "report.sh: jq not installed" >&2; exit 1; }

pooled=$(mktemp)
rounds=$(mktemp)
trap 'rm -f "$pooled" "$rounds"' EXIT

# id, round number, that round's median
k=0
for d in "$@"; do
	k=$((k + 1))
	for f in "$d"/*.json; do
		[ -e "$f" ] || continue
		printf '%s\t%s\t%s\n' "$(basename "$f" .json)" "$k" \
			"$(jq -r '.results[0].median' "$f")"
	done
done >"$rounds"

# case ids in the order of the first run that has them
ids=$(for d in "$@"; do awk -F'\t' 'NR > 1 {print $1}' "$d/rows.tsv"; done | awk '!seen[$0]++')

for id in $ids; do
	meta="" rss=0 jsons=() nfail=0
	for d in "$@"; do
		row=$(awk -F'\t' -v id="$id" '$1 == id' "$d/rows.tsv")
		[ -n "$row" ] || continue
		if [ "$(cut -f4 <<<"$row")" = FAILED ]; then
			nfail=$((nfail + 1))
			[ -n "$meta" ] || meta=$row
			continue
		fi
		meta=$row
		r=$(cut -f9 <<<"$row")
		[ "${r:-0}" -le "$rss" ] || rss=$r
		jsons+=("$d/$id.json")
	done
	IFS=$'\t' read -r _ case tool _ _ _ inb outb _ _ _ <<<"$meta"
	if [ ${#jsons[@]} -eq 0 ]; then
		printf '%s\t%s\t%s\tFAILED\t\t\t\t\t\t\t\t%s\n' "$id" "$case" "$tool" "$nfail" >>"$pooled"
		continue
	fi
	stats=$(jq -s -r '
		[.[].results[0]] as $r
		| ([$r[].times[]] | sort) as $t
		| ($t | length) as $n
		| (if $n % 2 == 1 then $t[($n - 1) / 2]
		   else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end) as $med
		| ([$r[] | (.user + .system) * (.times | length)] | add / $n) as $cpu
		| [$med, $t[0], $t[-1], $n, $cpu] | @tsv' "${jsons[@]}")
	IFS=$'\t' read -r med min max n cpu <<<"$stats"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$id" "$case" "$tool" "$med" "$min" "$max" "$n" "$cpu" "$inb" "$outb" "$rss" "$nfail" >>"$pooled"
done

# id case tool median min max n cpu inbytes outbytes rss_kb nfail
awk -F'\t' '
function t(s) { return s < 1 ? sprintf("%.0f ms", s * 1000) : sprintf("%.2f s", s) }
BEGIN {
	print "| case | tool | median wall | min – max (runs) | CPU user+sys | MB/s | output size | peak RSS |"
	print "|---|---|---:|---:|---:|---:|---:|---:|"
}
$4 == "FAILED" { printf "| %s | %s | FAILED | | | | | |\n", $2, $3; next }
{
	mbs = ($1 ~ /inspect/) ? "-" : sprintf("%.0f", $9 / 1e6 / $4)
	out = ($10 == "-") ? "-" : sprintf("%.1f MB", $10 / 1e6)
	printf "| %s | %s | %s | %s – %s (%d) | %s | %s | %s | %.1f MiB |\n",
		$2, $3, t($4), t($5), t($6), $7, t($8), mbs, out, $11 / 1024
}' "$pooled"

awk -F'\t' '
FNR == NR { rm[$1, $2] = $3; if ($2 > nr) nr = $2; next }
$4 != "FAILED" { m[$1] = $4; o[$1] = $10; r[$1] = $11 }
# the ratio A / B in each round that has both
function per_round(a, b,   k, s) {
	s = ""
	for (k = 1; k <= nr; k++)
		if (((a, k) in rm) && ((b, k) in rm) && rm[b, k] > 0)
			s = s (s == "" ? "" : ", ") sprintf("%.2f", rm[a, k] / rm[b, k])
	return s == "" ? "-" : s
}
function ratio(name, a, b, op, lim,   x, ok) {
	if (!((a in m) && (b in m))) { printf "| %s | not measured | | |\n", name; return }
	x = m[a] / m[b]
	ok = (op == "<=") ? (x <= lim) : (x >= lim)
	printf "| %s | %.2fx (%s / %s) | %s | %s |\n", name, x, a, b, per_round(a, b),
		lim ? (ok ? "met" : "**not met**") : "(no target)"
}
function abs_(name, a, lim) {
	if (!(a in m)) { printf "| %s | not measured | | |\n", name; return }
	printf "| %s | %.3f s | - | %s |\n", name, m[a], m[a] < lim ? "met" : "**not met**"
}
function size(name, a, b, lim,   x) {
	if (!((a in o) && (b in o))) { printf "| %s | not measured | | |\n", name; return }
	x = o[a] / o[b]
	printf "| %s | %+.1f%% (%s / %s) | - | %s |\n", name, (x - 1) * 100, a, b,
		lim ? (x <= lim ? "met" : "**not met**") : "(no target)"
}
END {
	print ""
	print "| target | measured (ratio of medians) | per round | |"
	print "|---|---|---|---|"
	ratio("-> oci: <= 1.5x openssl dgst -sha256", "d-oci", "base-sha256", "<=", 1.5)
	ratio("-> oci-archive: <= 1.5x openssl dgst -sha256", "d-ocitar", "base-sha256", "<=", 1.5)
	ratio("-> oci: >= 2x faster than skopeo -> oci:", "sk-oci", "d-oci", ">=", 2)
	ratio("-> oci-archive: >= 2x faster than skopeo -> oci:", "sk-oci", "d-ocitar", ">=", 2)
	ratio("-> oci-archive: >= 2x faster than skopeo -> oci-archive:", "sk-ocitar", "d-ocitar", ">=", 2)
	ratio("zstd: <= 1.2x zstd -T0 -3", "d-zstd", "base-zstd", "<=", 1.2)
	ratio("zstd: >= 2x faster than skopeo zstd", "sk-zstd", "d-zstd", ">=", 2)
	ratio("gzip: >= 2x faster than skopeo gzip", "sk-gzip", "d-gzip", ">=", 2)
	size("gzip: output <= 10% larger than skopeo gzip", "d-gzip", "sk-gzip", 1.10)
	size("gzip: output vs pigz -6", "d-gzip", "base-pigz", 0)
	ratio("gzip --level 6: speed vs skopeo gzip", "sk-gzip", "d-gzip6", ">=", 0)
	size("gzip --level 6: output vs skopeo gzip", "d-gzip6", "sk-gzip", 0)
	size("zstd: output vs zstd -T0 -3", "d-zstd", "base-zstd", 0)
	size("zstd: output vs skopeo zstd", "d-zstd", "sk-zstd", 0)
	abs_("inspect < 0.2 s", "d-inspect", 0.2)
	ratio("analyze <= 1.5x verify", "d-analyze", "d-verify", "<=", 1.5)
	ratio("--squash <= 2x plain -> oci:", "d-squash", "d-oci", "<=", 2)
	ratio("--squash <= 2x plain -> docker-archive:", "d-squashtar", "d-datar", "<=", 2)
	abs_("64-layer image -> oci: < 0.1 s", "d-small64", 0.1)
	worst = 0
	for (k in r) if (k ~ /^d-/ && r[k] > worst) { worst = r[k]; wk = k }
	if (worst)
		printf "| peak RSS < 64 MiB (every decant case) | max %.1f MiB (%s) | - | %s |\n",
			worst / 1024, wk, worst < 65536 ? "met" : "**not met**"
}' "$rounds" "$pooled"
