#!/bin/bash
# bench/bundle.sh [DATADIR]
#
# The air-gap bundle figures (issue: bundles, item 7), without the
# engines: 10 images on a common base (layers 1 and 2 of big.tar from
# bench/make-images.sh, 203 MB) with a top layer of their own (TOP_MB of
# pseudo-random bytes each), then an update in which each image changes
# its top layer. Prints, for decant:
#   bundle bytes vs the sum of the unique blobs
#   delta bytes vs the sum of the changed blobs
#   bundle write time vs a plain conversion of the same bytes
#   verify time vs sha256sum of the same file
#   reading a split set vs reading the joined file (verify of each)
#   peak RSS of each step
# Not measured here: docker save of the 10 images and skopeo sync to dir:
# (they need the images in a daemon / a registry).
set -eu
DATA=${1:-/var/tmp/decant-bench}
DECANT=${DECANT:-$(cd "$(dirname "$0")/.." && pwd)/decant}
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

# t CMD...: wall seconds and peak RSS (kB) of CMD, as "SECONDS RSS"
t() {
	sync
	/usr/bin/time -f "%e %M" -o time.out "$@" >/dev/null
	cat time.out
}
size() { stat -c %s "$1"; }

rm -rf bundle.tar again.tar delta.tar have.json split.tar.* out
v1=$(ls img?-v1.tar); v2=$(ls img?-v2.tar)
# shellcheck disable=SC2086
read -r tb rb < <(t "$DECANT" convert -q $v1 oci-archive:bundle.tar)
read -r ta ra < <(t "$DECANT" convert -q bundle.tar oci-archive:again.tar)
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
read -r tv rv < <(t "$DECANT" verify -q bundle.tar)
read -r ts _ < <(t sha256sum bundle.tar)
"$DECANT" convert -q --split 100M bundle.tar oci-archive:split.tar
cat split.tar.* >/dev/null
read -r tvs rvs < <(t "$DECANT" verify -q split.tar.000)
read -r tvj _ < <(t "$DECANT" verify -q bundle.tar)

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "| figure | value | target |"
echo "|---|---|---|"
echo "| bundle bytes / (unique blobs + manifests and configs) | $(size bundle.tar) / ($uniq + $meta) = $(pct "$(size bundle.tar)" $((uniq + meta))) | < 1.01 |"
echo "| delta bytes / changed blobs | $(size delta.tar) / $changed = $(pct "$(size delta.tar)" "$changed") | <= 1.02 |"
echo "| bundle write / plain conversion of the same bytes | ${tb}s / ${ta}s = $(pct "$tb" "$ta") | <= 1.2 |"
echo "| verify / sha256sum of the same file | ${tv}s / ${ts}s = $(pct "$tv" "$ts") (speed $(pct "$ts" "$tv") of sha256sum) | speed >= 0.9 |"
echo "| verify of a split set (100M parts) / of the joined file | ${tvs}s / ${tvj}s = $(pct "$tvs" "$tvj") | <= 1.1 |"
echo "| peak RSS (MiB): bundle, conversion, delta, verify, split verify | $((rb / 1024)), $((ra / 1024)), $((rd / 1024)), $((rv / 1024)), $((rvs / 1024)) | < 64 |"
