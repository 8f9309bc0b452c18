#!/usr/bin/env python3
"""names.py OUT.tar: a docker save of two layers whose headers need PAX records
(a 150-byte name, a 300-byte path, non-ASCII and non-UTF-8 names, an xattr,
a large uid, a fractional mtime); the upper layer whites out the long name."""
import sys
import io, json, tarfile, hashlib
def layer(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
        for name, data, extra in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1000
            if data is None:
                ti.type = tarfile.DIRTYPE; ti.mode = 0o755
                t.addfile(ti)
            else:
                ti.size = len(data); ti.mode = 0o644
                for k, v in extra.items():
                    setattr(ti, k, v) if k != "pax" else ti.pax_headers.update(v)
                t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
long1 = "d/" + "n" * 150
long2 = "/".join(["sub%02d" % i for i in range(40)]) + "/f"
L0 = layer([("d", None, {}), (long1, b"x" * 1000, {}), (long2, b"y" * 513, {}),
            ("caf\u00e9", b"z", {}), ("bad\udcff\udcfename", b"q" * 7, {}),
            ("xattr", b"w", {"pax": {"SCHILY.xattr.user.foo": "bar"}}),
            ("biguid", b"u", {"uid": 3000000, "uname": "someone-with-a-long-user-name"}),
            ("frac", b"m", {"pax": {"mtime": "1000.5"}})])
L1 = layer([("d", None, {}), ("d/.wh." + "n" * 150, b"", {}), ("new", b"n" * 2000, {})])
layers = [L0, L1]
diff = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff},
                  "config": {}, "history": [{"created_by": "a"}, {"created_by": "b"}]}).encode()
ch = hashlib.sha256(cfg).hexdigest()
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w") as t:
    def add(n, d):
        ti = tarfile.TarInfo(n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
    paths = []
    for d, l in zip(diff, layers):
        p = d[7:] + "/layer.tar"; add(p, l); paths.append(p)
    add(ch + ".json", cfg)
    add("manifest.json", json.dumps([{"Config": ch + ".json", "RepoTags": ["names:1"], "Layers": paths}]).encode())
open(sys.argv[1], "wb").write(out.getvalue())
