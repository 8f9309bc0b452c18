#!/bin/bash
# bench/registry.sh [DATADIR]
#
# decant and skopeo side by side against the same loopback registry
# (Debian's docker-registry), one run each, one after the other:
#   push   an OCI layout with gzip layers (made from DATADIR/big.tar) to a
#          fresh repository
#   push-save  DATADIR/big.tar itself (a docker save, uncompressed layers),
#          gzip-compressed on the way as skopeo does by default
#   pull   that repository into an oci: layout
#   repush the same image again (every blob is there: HEAD only)
#   push-save-link, pull-link  push-save and pull through bench/throttle.py,
#          a proxy that carries LINK_MBIT (default 1000) megabits per
#          second each way: a registry across a network link, where a
#          push that compresses every layer before it sends one pays for
#          both one after the other (LINK_MBIT=0 leaves these out)
# Prints: case | tool | wall s | peak RSS MiB. DATADIR as for bench/run.sh
# (default /var/tmp/decant-bench, bench/make-images.sh makes big.tar).
# DECANT=path (default ./build/decant). ROUNDS=N (default 1) runs the
# push and pull pairs N times, the tools interleaved, each round against
# a fresh registry, and adds the median of each case: on a shared
# machine one run says little.
set -eu
cd "$(dirname "$0")/.."
data=${1:-/var/tmp/decant-bench}
decant=$(realpath "${DECANT:-build/decant}")
w=$(mktemp -d /var/tmp/decant-registry-bench.XXXXXX)
trap 'kill "$(cat "$w/pid" 2>/dev/null)" "$(cat "$w/tpid" 2>/dev/null)" 2>/dev/null; rm -rf "$w"' EXIT
link=${LINK_MBIT:-1000}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# a fresh registry (new port, empty storage) for each round: skopeo's
# blob-info cache would otherwise mount what an earlier round pushed
start_registry() {
	[ -s "$w/pid" ] && kill "$(cat "$w/pid")" 2>/dev/null && sleep 0.2
	[ -s "$w/tpid" ] && kill "$(cat "$w/tpid")" 2>/dev/null
	rm -rf "$w/data"
	port=$(free_port)
	cat >"$w/cfg.yml" <<CFG
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $w/data}}
http: {addr: 127.0.0.1:$port}
CFG
	docker-registry serve "$w/cfg.yml" >"$w/log" 2>&1 &
	echo $! >"$w/pid"
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
	R=127.0.0.1:$port
	[ "$link" = 0 ] && return
	lport=$(free_port)
	python3 bench/throttle.py "$lport" "$port" "$link" &
	echo $! >"$w/tpid"
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$lport/v2/" && break; sleep 0.1; done
	L=127.0.0.1:$lport
}
"$decant" convert -q --compress gzip "$data/big.tar" oci:"$w/src"
printf '| case | tool | wall s | peak RSS MiB |\n|---|---|---|---|\n'
t() { # CASE TOOL CMD...
	c=$1 tool=$2; shift 2
	sync
	/usr/bin/time -f "%e %M" -o "$w/time" "$@" >/dev/null 2>"$w/err" || { cat "$w/err"; exit 1; }
	read -r s kb <"$w/time"
	printf '| %s | %s | %s | %d |\n' "$c" "$tool" "$s" $((kb / 1024))
}
rounds=${ROUNDS:-1}
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
for i in $(seq "$rounds"); do
	start_registry
	t push skopeo skopeo copy -q --dest-tls-verify=false oci:"$w/src" docker://$R/sk:1
	t push decant "$decant" convert -q oci:"$w/src" docker://$R/dc:1
	t push-save skopeo skopeo copy -q --dest-tls-verify=false docker-archive:"$data/big.tar" docker://$R/sks:1
	t push-save decant "$decant" convert -q --compress gzip "$data/big.tar" docker://$R/dcs:1
	t pull skopeo skopeo copy -q --src-tls-verify=false docker://$R/sk:1 oci:"$w/sk-out"
	t pull decant "$decant" convert -q docker://$R/dc:1 oci:"$w/dc-out"
	rm -rf "$w/sk-out" "$w/dc-out"
	if [ "$link" != 0 ]; then
		t push-save-link skopeo skopeo copy -q --dest-tls-verify=false docker-archive:"$data/big.tar" docker://$L/skl:1
		t push-save-link decant "$decant" convert -q --compress gzip "$data/big.tar" docker://$L/dcl:1
		t pull-link skopeo skopeo copy -q --src-tls-verify=false docker://$L/sk:1 oci:"$w/sk-out"
		t pull-link decant "$decant" convert -q docker://$L/dc:1 oci:"$w/dc-out"
		rm -rf "$w/sk-out" "$w/dc-out"
	fi
done >"$w/runs"
cat "$w/runs"
t repush skopeo skopeo copy -q --dest-tls-verify=false oci:"$w/src" docker://$R/sk:1
t repush decant "$decant" convert -q oci:"$w/src" docker://$R/dc:1
if [ "$rounds" -gt 1 ]; then
	for c in push push-save pull push-save-link pull-link; do
		grep -q "^| $c |" "$w/runs" || continue
		for tool in skopeo decant; do
			m=$(grep "^| $c | $tool |" "$w/runs" | cut -d'|' -f4 | med)
			printf '| %s (median of %d) | %s | %s | |\n' "$c" "$rounds" "$tool" "$m"
		done
	done
fi
