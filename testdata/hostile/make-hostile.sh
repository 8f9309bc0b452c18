#!/usr/bin/env bash
# make-hostile.sh OUTDIR: write the hostile inputs of issue 17 (small
# files that once cost gigabytes, blocked, or printed raw control
# characters) into OUTDIR. Nothing here is committed but this script:
# each input is a few KB to a few hundred KB, made in seconds.
#
#   window-zstd.tar.zst   a docker save tar + 160 MiB of zeros, zstd --long=27
#                         (the frame declares a 128 MiB window)
#   window-xz.tar.xz      the same tar in xz whose block declares a 768 MiB
#                         dictionary (encoded with a small one, then the
#                         header's dictionary size raised: any decoder
#                         must honour what the header says)
#   window-layer/         OCI layout: one zstd layer, 128 MiB window
#   window-ok/            OCI layout: one zstd layer, 16 MiB window (the
#                         default limit), 160 MiB of zeros
#   many-names.tar.gz     a valid image + 20,000 empty members with 4,000-
#                         byte GNU long names (80 MB of names)
#   fifo/                 OCI layout whose manifest blob is a FIFO
#   fifo-layer/           OCI layout whose layer blob is a FIFO
#   control-chars.tar     docker save tar: config os/architecture hold ESC,
#                         CR, DEL and C1 characters
#   control-name.tar      docker save tar: a layer path holding ESC and CR
#                         (refused, and the message quotes it)
#   bad-repotag.tar       docker save tar: RepoTags ["INVALID:Tag"]
set -eu
out=${1:?usage: make-hostile.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export LC_ALL=C

# a layer tar holding one file of N MiB of zeros; its diff_id to FILE.diff
zeros_tar() {
	mkdir -p z.d
	truncate -s "$1M" z.d/zeros
	tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C z.d -cf - zeros
	rm -rf z.d
}

# docker save tar (on stdout) with one small layer, configurable through
# the environment: OS, ARCH, LAYER_PATH, TAGS (JSON), PAD_MIB (a zero
# member "pad" of that size after the image)
docker_tar() {
	python3 - <<'PY'
import hashlib, io, json, os, sys, tarfile
out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.GNU_FORMAT)
def add(name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0
    out.addfile(ti, io.BytesIO(data))
lb = io.BytesIO()
with tarfile.open(fileobj=lb, mode="w", format=tarfile.GNU_FORMAT) as lt:
    d = b"hello\n"; ti = tarfile.TarInfo("hello.txt"); ti.size = len(d)
    lt.addfile(ti, io.BytesIO(d))
layer = lb.getvalue()
diff = "sha256:" + hashlib.sha256(layer).hexdigest()
cfg = json.dumps({"architecture": os.environ.get("ARCH", "amd64"),
    "os": os.environ.get("OS", "linux"),
    "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
ch = hashlib.sha256(cfg).hexdigest()
lpath = os.environ.get("LAYER_PATH", diff[7:] + "/layer.tar")
add(ch + ".json", cfg)
add(diff[7:] + "/layer.tar", layer)
add("manifest.json", json.dumps([{"Config": ch + ".json",
    "RepoTags": json.loads(os.environ.get("TAGS", '["hostile:1"]')),
    "Layers": [lpath]}]).encode())
pad = int(os.environ.get("PAD_MIB", "0"))
if pad:
    class Zeros(io.RawIOBase):
        def readable(self):
            return True
        def readinto(self, b):
            b[:] = bytes(len(b)); return len(b)
    ti = tarfile.TarInfo("pad"); ti.size = pad << 20; ti.mtime = 0
    out.addfile(ti, io.BufferedReader(Zeros(), 1 << 20))
out.close()
PY
}

# oci_layout DIR MEDIATYPE < compressed layer, with its diff_id in $DIFF
oci_layout() {
	mkdir -p "$1/blobs/sha256"
	cat >layer.bin
	DIR=$1 MT=$2 python3 - <<'PY'
import hashlib, json, os
d = os.environ["DIR"]
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(d + "/blobs/sha256/" + h, "wb").write(b)
    return "sha256:" + h, len(b)
ld, ls = put(open("layer.bin", "rb").read())
cfg = json.dumps({"architecture": "amd64", "os": "linux",
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + os.environ["DIFF"]]}}).encode()
cd, cs = put(cfg)
m = json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": os.environ["MT"], "digest": ld, "size": ls}]}).encode()
md, ms = put(m)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType":
    "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
    "annotations": {"org.opencontainers.image.ref.name": "1"}}]},
    open(d + "/index.json", "w"))
open(d + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
print(md[7:], ld[7:])
PY
	rm -f layer.bin
}

ZST=application/vnd.oci.image.layer.v1.tar+zstd
GZ=application/vnd.oci.image.layer.v1.tar+gzip

# 1. decoder windows
PAD_MIB=160 docker_tar | zstd -q --long=27 -c >window-zstd.tar.zst
PAD_MIB=160 docker_tar | xz -T1 -0 -c >window-xz.tar.xz
python3 - window-xz.tar.xz <<'PY'
import struct, sys, zlib
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
hs = (b[12] + 1) * 4				# block header size
assert b[13] == 0 and b[14] == 0x21 and b[15] == 1	# one filter, LZMA2, 1 byte
b[16] = 35					# dictionary: 3 << 28 = 768 MiB
b[12 + hs - 4:12 + hs] = struct.pack("<I", zlib.crc32(bytes(b[12:12 + hs - 4])))
open(p, "wb").write(b)
PY
for w in layer:27 ok:24; do
	name=${w%:*} wlog=${w#*:}
	# the tar is the same bytes each time: hash it, then compress it
	diff=$(zeros_tar 160 | sha256sum | cut -d' ' -f1)
	zeros_tar 160 | zstd -q --long="$wlog" -c >z.bin
	DIFF=$diff oci_layout "window-$name" "$ZST" <z.bin >/dev/null
	rm -f z.bin
done

# 2. the tar member index: a valid image, then the junk (the image's
# end-of-archive blocks dropped)
docker_tar >img.tar
python3 - <<'PY' | gzip -1 >many-names.tar.gz
import sys, tarfile
img = open("img.tar", "rb").read()
end = len(img)
while end >= 512 and img[end - 512:end] == bytes(512):
    end -= 512
sys.stdout.buffer.write(img[:end])
out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.GNU_FORMAT)
for i in range(20000):
    name = "/".join(("%05d" % i) + "x" * 194 for _ in range(20))	# 4,019 bytes
    ti = tarfile.TarInfo("junk/" + name)
    ti.mtime = 0
    out.addfile(ti)
out.close()
PY
rm -f img.tar

# 12. FIFOs where blobs should be
printf 'hello\n' >h.txt
tar --owner=0 --group=0 --numeric-owner --mtime=@0 -cf h.tar h.txt
diff=$(sha256sum <h.tar | cut -d' ' -f1)
gzip -n <h.tar >l.gz
for d in fifo fifo-layer; do
	ids=$(DIFF=$diff oci_layout "$d" "$GZ" <l.gz)
	man=${ids% *} lay=${ids#* }
	case $d in
	fifo) rm "$d/blobs/sha256/$man"; mkfifo "$d/blobs/sha256/$man" ;;
	fifo-layer) rm "$d/blobs/sha256/$lay"; mkfifo "$d/blobs/sha256/$lay" ;;
	esac
done
rm -f h.txt h.tar l.gz

# 13. control characters
OS=$'linux\e[2K\r' ARCH=$'amd64\x7f\xc2\x9b31m' docker_tar >control-chars.tar
LAYER_PATH=$'evil\e[2K\rok: verified/layer.tar' docker_tar >control-name.tar

# 14. an invalid RepoTags entry
TAGS='["INVALID:Tag"]' docker_tar >bad-repotag.tar
