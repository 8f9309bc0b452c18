#!/usr/bin/env bash
# Write the hostile-shape seeds of squash/ (see README.md) for
# fuzz_squash: long names, deep paths, many hardlinks (their targets
# replaced above), entries through a symlink, files under files,
# hardlink cycles and self-links. Each is a flags byte, then layer tars
# behind 2-byte little-endian lengths, the last one taking the rest
# (tests/fuzz/fuzz_squash.c). Deterministic: the same python3 gives the
# same bytes.
set -eu
cd "$(dirname "$0")/squash"
export LC_ALL=C

python3 - <<'PY'
import io, struct, tarfile


def layer(entries, fmt=tarfile.PAX_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for e in entries:
            name, kind = e[0], e[1]
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            ti.mode = 0o755 if kind == "d" else 0o644
            data = None
            if kind == "d":
                ti.type = tarfile.DIRTYPE
            elif kind in ("s", "h"):
                ti.type = tarfile.SYMTYPE if kind == "s" else tarfile.LNKTYPE
                ti.linkname = e[2]
            else:
                data = e[2] if len(e) > 2 else b""
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    raw = b.getvalue()
    # the record padding cut to the two end blocks
    end = len(raw)
    while end >= 512 and raw[end - 512:end] == bytes(512):
        end -= 512
    return raw[:end] + bytes(1024)


def seed(name, layers, flags=0):
    out = bytes([flags])
    for i, l in enumerate(layers):
        if i < len(layers) - 1:
            assert len(l) < 65536, (name, len(l))
            out += struct.pack("<H", len(l))
        out += l
    with open(name, "wb") as f:
        f.write(out)


long1 = "l" * 250 + "/" + "n" * 300
seed("hostile-longnames", [
    layer([(long1, "f", b"pax\n"), ("g" * 200 + "/x", "f", b"gnu\n")],
          tarfile.GNU_FORMAT),
    layer([(long1[:251] + ".wh." + "n" * 300, "f"),
           ("h" * 120, "h", "g" * 200 + "/x")])])
deep = "/".join(["d"] * 150)
seed("hostile-deep", [
    layer([(deep + "/f%d" % i, "f") for i in range(8)]),
    layer([(deep[:200] + "/.wh..wh..opq", "f"), (deep + "/f1", "f", b"up\n")])])
seed("hostile-hardlinks", [
    layer([("t%d" % i, "f", b"old %d\n" % i) for i in range(8)] +
          [("l/%d" % i, "h", "t%d" % (i % 8)) for i in range(48)]),
    layer([("t%d" % i, "f", b"new %d\n" % i) for i in range(4)] +
          [("m/%d" % i, "h", "l/%d" % i) for i in range(20)])])
seed("hostile-breakout", [
    layer([("opt", "d"), ("opt/evil", "s", "/tmp"), ("vdir", "s", "/etc"),
           ("pw", "h", "vdir/passwd")]),
    layer([("opt/evil/escaped.txt", "f", b"x\n")])])
seed("hostile-filedir", [
    layer([("a", "f", b"file\n"), ("c", "s", "a")]),
    layer([("a/b", "f", b"below\n"), ("c/d", "f", b"x\n")])])
seed("hostile-cycles", [
    layer([("x", "h", "y"), ("y", "h", "x"), ("s", "h", "s"), ("d", "d"),
           ("hd", "h", "d")])])
PY
