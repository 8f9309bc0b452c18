#!/usr/bin/env bash
# Writes a pre-1.10 `docker save` archive (tar on stdout) whose DEPTH
# layers form one v1 parent chain with FANOUT leaves on its top, each
# leaf tagged in "repositories": every leaf is an image of DEPTH + 1
# layers, so the images share the chain (issue 17, item 3). Layers are
# empty layer.tar files: a small archive whose images hold FANOUT x
# (DEPTH + 1) layer references.
#
#   make-legacy-fanout.sh DEPTH FANOUT >fanout.tar
set -eu
exec python3 - "${1:-999}" "${2:-1000}" <<'PY'
import io, json, sys, tarfile

depth, fanout = int(sys.argv[1]), int(sys.argv[2])
out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.GNU_FORMAT)

def add(name, data=b"", isdir=False):
    ti = tarfile.TarInfo(name)
    ti.mtime = 0
    if isdir:
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        out.addfile(ti)
    else:
        ti.size, ti.mode = len(data), 0o644
        out.addfile(ti, io.BytesIO(data))

def layer(n, parent):
    i = "%064x" % n
    j = {"id": i, "created": "2015-01-01T00:00:00Z", "os": "linux",
         "architecture": "amd64"}
    if parent:
        j["parent"] = "%064x" % parent
    add(i, isdir=True)
    add(i + "/VERSION", b"1.0\n")
    add(i + "/json", json.dumps(j).encode())
    add(i + "/layer.tar")
    return i

for n in range(1, depth + 1):
    layer(n, n - 1)
tags = {}
for k in range(1, fanout + 1):
    tags["t%d" % k] = layer(depth + k, depth)
add("repositories", json.dumps({"fanout": tags}).encode())
out.close()
PY
