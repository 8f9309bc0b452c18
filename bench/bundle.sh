#!/bin/bash
# bench/bundle.sh [DATADIR]
#
# The air-gap bundle figures (issue 18, item 7): 10 images on a common
# base (layers 1 and 2 of big.tar from bench/make-images.sh, 203 MB) with
# a top layer of their own (TOP_MB of pseudo-random bytes each), then an
# update in which each image changes its top layer. Prints, for decant:
#   bundle bytes vs the sum of the unique blobs
#   delta bytes vs the sum of the changed blobs
#   bundle write time vs a plain conversion of the same bytes
#   verify time vs sha256sum of the same file
#   reading a split set vs reading the joined file (verify of each)
#   peak RSS of each step
# and, in the same run, beside the peers (PEERS=0 skips them):
#   docker save of the 10 images from a fresh dockerd (vfs, in W/dk; the
#     images loaded from decant's docker-archive bundle), and of the 10
#     updated ones (docker has no delta: it carries whole images)
#   skopeo sync --src yaml --dest dir of the same images from a loopback
#     docker-registry (decant pushes them there first): one dir: per
#     image, no sharing between images, no delta
# Their write time, bytes and peak RSS (the client's, and for docker
# save the daemon's, reset before the save through clear_refs).
# decant's timed pairs run alternately ROUNDS times (default 10), medians;
# the peers once each (they take seconds, decant tenths).
set -eu
DATA=${1:-/var/tmp/decant-bench}
HERE=$(cd "$(dirname "$0")" && pwd)
DECANT=${DECANT:-$HERE/../decant}
TOP_MB=${TOP_MB:-20}
W=$DATA/bundle
mkdir -p "$W"
cd "$W"
[ -f "$DATA/big.tar" ] || { echo "run bench/make-images.sh first"; exit 1; }

# the images: docker save layout (manifest.json), made by a small script
if [ ! -f img9-v2.tar ]; then
	l1=$(tar -xOf "$DATA/big.tar" manifest.json | jq -r '.[0].Layers[0]')
	l2=$(tar -xOf "$DATA/big.tar" manifest.json | jq -r '.[0].Layers[1]')
	tar -xOf "$DATA/big.tar" "$l1" >base1.tar
	tar -xOf "$DATA/big.tar" "$l2" >base2.tar
	python3 - "$TOP_MB" <<'EOF'
import hashlib, io, json, os, random, sys, tarfile
top_mb = int(sys.argv[1])
def sha(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return h.hexdigest()
def top_layer(path, seed):
    rnd = random.Random(seed)
    with tarfile.open(path, 'w', format=tarfile.PAX_FORMAT) as t:
        data = rnd.randbytes(top_mb << 20)
        ti = tarfile.TarInfo('app/data.bin'); ti.size = len(data); ti.mtime = 0
        t.addfile(ti, io.BytesIO(data))
bases = [('base1.tar', sha('base1.tar')), ('base2.tar', sha('base2.tar'))]
for ver in (1, 2):
    for i in range(10):
        top = 'top%d-v%d.tar' % (i, ver)
        top_layer(top, i * 1000 + ver)
        layers = bases + [(top, sha(top))]
        cfg = json.dumps({'architecture': 'amd64', 'os': 'linux',
                          'config': {'Cmd': ['/bin/true']},
                          'rootfs': {'type': 'layers',
                                     'diff_ids': ['sha256:' + h for _, h in layers]},
                          'history': [{'created_by': 'layer %d' % k} for k in range(3)]},
                         separators=(',', ':')).encode()
        ch = hashlib.sha256(cfg).hexdigest()
        man = json.dumps([{'Config': ch + '.json',
                           'RepoTags': ['bench/app%d:v%d' % (i, ver)],
                           'Layers': [h + '.tar' for _, h in layers]}]).encode()
        with tarfile.open('img%d-v%d.tar' % (i, ver), 'w') as t:
            for name, data in ((ch + '.json', cfg), ('manifest.json', man)):
                ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0
                t.addfile(ti, io.BytesIO(data))
            for p, h in layers:
                t.add(p, arcname=h + '.tar')
        os.unlink(top)
EOF
fi

# t CMD...: wall seconds (to the millisecond: /usr/bin/time has 10 ms
# steps, a tenth of a verify here) and peak RSS (kB) of CMD, as
# "SECONDS RSS"
t() {
	local s e
	sync
	s=$EPOCHREALTIME
	/usr/bin/time -f "%M" -o time.out "$@" >/dev/null
	e=$EPOCHREALTIME
	echo "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }') $(cat time.out)"
}
# ab 'CMD A' 'CMD B': A and B run alternately ROUNDS times (so that both
# see the same machine), as "MEDIAN-A RSS-A MEDIAN-B RSS-B" (RSS: the
# largest). Which goes first changes every round (A B, B A, ...): here
# the first of a pair was the slower by some 8 %, whichever it was.
ROUNDS=${ROUNDS:-10}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2 }'; }
ab() {
	local i a b ra=0 rb=0 x y
	: >ab.a
	: >ab.b
	for ((i = 0; i < ROUNDS; i++)); do
		if ((i % 2)); then
			read -r b y < <(eval "t $2")
			read -r a x < <(eval "t $1")
		else
			read -r a x < <(eval "t $1")
			read -r b y < <(eval "t $2")
		fi
		echo "$a" >>ab.a
		echo "$b" >>ab.b
		[ "$x" -gt "$ra" ] && ra=$x
		[ "$y" -gt "$rb" ] && rb=$y
	done
	echo "$(median ab.a) $ra $(median ab.b) $rb"
}
size() { stat -c %s "$1"; }

rm -rf bundle.tar again.tar delta.tar have.json split.tar.* out
v1=$(ls img?-v1.tar); v2=$(ls img?-v2.tar)
# shellcheck disable=SC2016
read -r tb rb ta ra < <(ab '"$DECANT" convert -q $v1 oci-archive:bundle.tar' \
			  '"$DECANT" convert -q bundle.tar oci-archive:again.tar')
uniq=$(( $(size base1.tar) + $(size base2.tar) ))
for i in $v1; do
	h=$(tar -xOf "$i" manifest.json | jq -r '.[0].Layers[2]')
	uniq=$((uniq + $(tar -tvf "$i" "$h" | awk '{print $3}')))
done
meta=$("$DECANT" inspect --json bundle.tar | jq '[.images[] | .manifest.size + .config.size] | add')
"$DECANT" inventory bundle.tar >have.json
# shellcheck disable=SC2086
read -r td rd < <(t "$DECANT" convert -q --exclude-from have.json $v2 oci-archive:delta.tar)
changed=0
for i in $v2; do
	h=$(tar -xOf "$i" manifest.json | jq -r '.[0].Layers[2]')
	changed=$((changed + $(tar -tvf "$i" "$h" | awk '{print $3}')))
done
cat bundle.tar >/dev/null
# shellcheck disable=SC2016
read -r tv rv ts _ < <(ab '"$DECANT" verify -q bundle.tar' 'sha256sum bundle.tar')
"$DECANT" convert -q --split 100M bundle.tar oci-archive:split.tar
cat split.tar.* >/dev/null
# shellcheck disable=SC2016
read -r tvs rvs tvj _ < <(ab '"$DECANT" verify -q split.tar.000' '"$DECANT" verify -q bundle.tar')

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
mb() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1e6 }'; }
echo "decant: medians of $ROUNDS alternating runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| figure | value | target |"
echo "|---|---|---|"
echo "| bundle bytes / (unique blobs + manifests and configs) | $(size bundle.tar) / ($uniq + $meta) = $(pct "$(size bundle.tar)" $((uniq + meta))) | < 1.01 |"
echo "| delta bytes / changed blobs | $(size delta.tar) / $changed = $(pct "$(size delta.tar)" "$changed") | <= 1.02 |"
echo "| bundle write / plain conversion of the same bytes | ${tb}s / ${ta}s = $(pct "$tb" "$ta") | <= 1.2 |"
echo "| verify / sha256sum of the same file | ${tv}s / ${ts}s = $(pct "$tv" "$ts") (speed $(pct "$ts" "$tv") of sha256sum) | speed >= 0.9 |"
echo "| verify of a split set (100M parts) / of the joined file | ${tvs}s / ${tvj}s = $(pct "$tvs" "$tvj") | <= 1.1 |"
echo "| peak RSS (MiB): bundle, conversion, delta, verify, split verify | $((rb / 1024)), $((ra / 1024)), $((rd / 1024)), $((rv / 1024)), $((rvs / 1024)) | < 64 |"

[ "${PEERS:-1}" = 1 ] || exit 0
for tool in dockerd docker skopeo docker-registry curl; do
	command -v $tool >/dev/null || { echo "no $tool: peers not measured"; exit 0; }
done
echo
echo "load average before the peers: $(cut -d' ' -f1-3 /proc/loadavg)"

# the images in a fresh dockerd, from decant's docker-archive bundles
# shellcheck disable=SC1091
. "$HERE/../tests/e2e/dockerd.sh"
DK=$W/dk
REG=$W/reg
cleanup() {
	dockerd_stop "$DK" >/dev/null 2>&1 || true
	[ -s "$REG/pid" ] && kill "$(cat "$REG/pid")" 2>/dev/null
	rm -rf "$DK" "$REG" "$W/sko1" "$W/sko2"
}
trap cleanup EXIT
cleanup
# shellcheck disable=SC2086
"$DECANT" convert -q $v1 docker-archive:load1.tar
# shellcheck disable=SC2086
"$DECANT" convert -q $v2 docker-archive:load2.tar
dockerd_start "$DK" >/dev/null
docker load -q -i load1.tar >/dev/null
docker load -q -i load2.tar >/dev/null
names() { for i in 0 1 2 3 4 5 6 7 8 9; do echo "bench/app$i:$1"; done; }
dpid=$(cat "$DK/pid")
# DAEMON_RSS: peak RSS (kB) of dockerd since the last reset
reset_peak() { echo 5 >"/proc/$dpid/clear_refs"; }
daemon_peak() { awk '/^VmHWM/ { print $2 }' "/proc/$dpid/status"; }
rm -f save1.tar save2.tar
reset_peak
# shellcheck disable=SC2046
read -r tds rds < <(t docker save -o save1.tar $(names v1))
dds=$(daemon_peak)
reset_peak
# shellcheck disable=SC2046
read -r tds2 _ < <(t docker save -o save2.tar $(names v2))
dds2=$(daemon_peak)
# the daemon stays up (idle) until the end: removing its vfs tree (some
# 700,000 files) takes minutes of disk time, after the figures

# the images in a loopback registry, synced to dir: by skopeo
mkdir -p "$REG/data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: "127.0.0.1:%s"}\n' \
	"$REG/data" "$port" >"$REG/cfg.yml"
docker-registry serve "$REG/cfg.yml" >"$REG/log" 2>&1 &
echo $! >"$REG/pid"
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
	sleep 0.1
done
for ver in v1 v2; do
	for n in $(names $ver); do
		"$DECANT" convert -q --image "$n" "load${ver#v}.tar" "docker://127.0.0.1:$port/$n"
	done
	{
		echo "127.0.0.1:$port:"
		echo "  tls-verify: false"
		echo "  images:"
		for i in 0 1 2 3 4 5 6 7 8 9; do echo "    bench/app$i: [$ver]"; done
	} >"sync-$ver.yaml"
done
sync
read -r tss rss < <(t skopeo sync --src yaml --dest dir sync-v1.yaml "$W/sko1" 2>sko.log)
read -r tss2 _ < <(t skopeo sync --src yaml --dest dir sync-v2.yaml "$W/sko2" 2>>sko.log)
sko1=$(du -sb "$W/sko1" | cut -f1)
sko2=$(du -sb "$W/sko2" | cut -f1)
echo "load average after the peers: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "| 10 images | decant bundle (oci-archive) | docker save | skopeo sync to dir: |"
echo "|---|---:|---:|---:|"
echo "| bytes | $(mb "$(size bundle.tar)") MB | $(mb "$(size save1.tar)") MB | $(mb "$sko1") MB |"
echo "| / unique blobs + metadata | $(pct "$(size bundle.tar)" $((uniq + meta))) | $(pct "$(size save1.tar)" $((uniq + meta))) | $(pct "$sko1" $((uniq + meta))) |"
echo "| write time | ${tb} s | ${tds} s | ${tss} s |"
echo "| peak RSS | $((rb / 1024)) MiB | client $((rds / 1024)) MiB, dockerd $((dds / 1024)) MiB | $((rss / 1024)) MiB |"
echo "| update: bytes carried | delta $(mb "$(size delta.tar)") MB | $(mb "$(size save2.tar)") MB (whole images) | $(mb "$sko2") MB (whole images) |"
echo "| update / changed blobs | $(pct "$(size delta.tar)" "$changed") | $(pct "$(size save2.tar)" "$changed") | $(pct "$sko2" "$changed") |"
echo "| update: write time, peak RSS | ${td} s, $((rd / 1024)) MiB | ${tds2} s, dockerd $((dds2 / 1024)) MiB | ${tss2} s |"
