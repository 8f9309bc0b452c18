#!/usr/bin/env python3
"""Make an OCI layout whose first layer is gzip-compressed and intact
(its digest and size are right) but whose config lies about its diff_id:
make_difflie.py SRC_LAYOUT DEST_LAYOUT. Only a reader that decompresses
the layer can tell."""
import hashlib, json, os, shutil, sys

src, dst = sys.argv[1:3]
shutil.copytree(src, dst)
blobs = os.path.join(dst, "blobs", "sha256")


def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def get(digest):
    with open(os.path.join(blobs, digest.split(":")[1]), "rb") as f:
        return f.read()


idx = json.load(open(os.path.join(dst, "index.json")))
m0 = idx["manifests"][0]
man = json.loads(get(m0["digest"]))
assert man["layers"][0]["mediaType"].endswith("gzip"), "needs a gzip layer"
cfg = json.loads(get(man["config"]["digest"]))
cfg["rootfs"]["diff_ids"][0] = "sha256:" + "0" * 64
c = json.dumps(cfg, separators=(",", ":")).encode()
man["config"]["digest"] = put(c)
man["config"]["size"] = len(c)
m = json.dumps(man, separators=(",", ":")).encode()
m0["digest"] = put(m)
m0["size"] = len(m)
idx["manifests"] = [m0]
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump(idx, f)
