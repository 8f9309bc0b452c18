#!/usr/bin/env bash
# Writes a docker-archive (`docker save` 1.10+ layout, tar on stdout) of
# one image with N layers (issue 17, item 4): N different one-file
# layers, or with "same" one layer listed N times.
#
#   make-many-layers.sh N [same] >many.tar
set -eu
exec python3 - "${1:-25000}" "${2:-}" <<'PY'
import hashlib, io, json, sys, tarfile

n, same = int(sys.argv[1]), sys.argv[2] == "same"
out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.GNU_FORMAT)

def add(name, data):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
    out.addfile(ti, io.BytesIO(data))

def layer_tar(k):
    ti = tarfile.TarInfo("f%d" % k)
    ti.mode, ti.mtime = 0o644, 0
    return ti.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024

names, diffs = [], []
for k in range(1 if same else n):
    b = layer_tar(k)
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    add("l%d/layer.tar" % k, b)
    names.append("l%d/layer.tar" % k)
    diffs.append(d)
if same:
    names, diffs = names * n, diffs * n
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {}, "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
ch = hashlib.sha256(cfg).hexdigest()
add(ch + ".json", cfg)
add("manifest.json", json.dumps([{"Config": ch + ".json",
    "RepoTags": ["many:latest"], "Layers": names}]).encode())
out.close()
PY
