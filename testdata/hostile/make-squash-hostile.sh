#!/usr/bin/env bash
# make-squash-hostile.sh OUTDIR [ESCAPE_DIR]: write the hostile inputs of
# issue 17 items 5-10 (the squash engine: rootfs and --squash) into
# OUTDIR, docker save tars of a few KB to a few MB, made in seconds.
# ESCAPE_DIR (default /tmp/decant-escape) is the absolute directory the
# symlinks of the breakout inputs point at.
#
#   hardlinks.tar      60,000 hardlinks to 100 files, half of these
#                      replaced in the layer above (gzip layers)
#   deep.tar           5,000 empty files at depth 2,000 (gzip layer)
#   layer-400.tar      one layer (16 MiB of zeros, gzip) listed 400 times
#   image-5000.tar     one image listed 5,000 times in manifest.json,
#                      5,000 tags
#   spool-2000.tar     2,000 hardlinks whose targets the next layer
#                      replaces (run under ulimit -n 1024)
#   symlink-up.tar     opt/app/evil-abs -> ESCAPE_DIR, and in the layer
#                      above opt/app/evil-abs/escaped.txt
#   symlink-same.tar   the same in one layer
#   link-via-symlink.tar  vdir -> ESCAPE_DIR, pw hardlink to vdir/victim
#   file-dir-up.tar    a file a, and in the layer above a/b
#   file-dir-same.tar  the same in one layer
#   link-self.tar      s hardlink to s
#   link-cycle.tar     x hardlink to y, y hardlink to x
#   link-dir.tar       d/ and hd hardlink to d
set -eu
out=${1:?usage: make-squash-hostile.sh OUTDIR [ESCAPE_DIR]}
export ESCAPE=${2:-/tmp/decant-escape}
mkdir -p "$out"
cd "$out"
export LC_ALL=C
python3 - <<'PY'
import gzip, hashlib, io, json, os, tarfile

ESC = os.environ["ESCAPE"]

def ti(name, kind="f", data=b"", link=""):
    t = tarfile.TarInfo(name)
    t.mtime = 0
    t.mode = 0o755 if kind == "d" else 0o644
    if kind == "d":
        t.type = tarfile.DIRTYPE
    elif kind == "s":
        t.type = tarfile.SYMTYPE
        t.linkname = link
    elif kind == "h":
        t.type = tarfile.LNKTYPE
        t.linkname = link
    else:
        t.size = len(data)
    return t, (io.BytesIO(data) if kind == "f" else None)

def layer(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            t.addfile(*ti(*e))
    return b.getvalue()

def save(name, layers, gz=False, refs=None, nimages=1):
    """layers: list of raw tars; refs: layer index list (default each)"""
    refs = refs if refs is not None else list(range(len(layers)))
    diffs = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diffs[i] for i in refs]},
        "history": [{"created_by": "layer %d" % i} for i in refs]}).encode()
    ch = hashlib.sha256(cfg).hexdigest()
    with tarfile.open(name, "w", format=tarfile.GNU_FORMAT) as out:
        def add(n, data):
            t = tarfile.TarInfo(n); t.size = len(data); t.mtime = 0
            out.addfile(t, io.BytesIO(data))
        add(ch + ".json", cfg)
        paths = []
        for l, d in zip(layers, diffs):
            p = d[7:] + "/layer.tar"
            add(p, gzip.compress(l, 6, mtime=0) if gz else l)
            paths.append(p)
        items = [{"Config": ch + ".json", "RepoTags": ["hostile/sq:%d" % k],
                  "Layers": [paths[i] for i in refs]} for k in range(nimages)]
        add("manifest.json", json.dumps(items).encode())

# 5: hardlinks
files = [("f%d" % i, "f", b"v1 %d\n" % i) for i in range(100)]
links = [("h/%05d" % i, "h", b"", "f%d" % (i % 100)) for i in range(60000)]
save("hardlinks.tar", [layer(files + links),
     layer([("f%d" % i, "f", b"v2 %d\n" % i) for i in range(50)])], gz=True)

# 6: deep
deep = "/".join(["d"] * 2000)
save("deep.tar", [layer([(deep + "/f%d" % i, "f") for i in range(5000)])], gz=True)

# 7: one layer 400 times; one image 5,000 times
save("layer-400.tar", [layer([("zeros", "f", bytes(16 << 20))])], gz=True,
     refs=[0] * 400)
save("image-5000.tar", [layer([("hello.txt", "f", b"hello\n")])], nimages=5000)

# 8: 2,000 materialized hardlinks
save("spool-2000.tar", [
    layer([("t%d" % i, "f", b"old %d\n" % i) for i in range(2000)] +
          [("l%d" % i, "h", b"", "t%d" % i) for i in range(2000)]),
    layer([("t%d" % i, "f", b"new %d\n" % i) for i in range(2000)])])

# 9: through a symlink out of the root
sym = [("opt", "d"), ("opt/app", "d"), ("opt/app/evil-abs", "s", b"", ESC)]
esc = [("opt/app/evil-abs/escaped.txt", "f", b"escaped\n")]
save("symlink-up.tar", [layer(sym), layer(esc)])
save("symlink-same.tar", [layer(sym + esc)])
save("link-via-symlink.tar", [layer([("vdir", "s", b"", ESC),
                                     ("pw", "h", b"", "vdir/victim")])])

# 10: trees no filesystem holds
save("file-dir-up.tar", [layer([("a", "f", b"file\n")]),
                         layer([("a/b", "f", b"below\n")])])
save("file-dir-same.tar", [layer([("a", "f", b"file\n"), ("a/b", "f", b"below\n")])])
save("link-self.tar", [layer([("s", "h", b"", "s")])])
save("link-cycle.tar", [layer([("x", "h", b"", "y"), ("y", "h", b"", "x")])])
save("link-dir.tar", [layer([("d", "d"), ("hd", "h", b"", "d")])])
PY
