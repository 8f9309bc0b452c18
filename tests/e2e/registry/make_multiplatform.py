#!/usr/bin/env python3
"""Make a two-platform OCI layout (linux/amd64, linux/arm64) from a
one-image OCI layout: make_multiplatform.py SRC_LAYOUT DEST_LAYOUT TAG.
The arm64 image shares the layers; only its config differs."""
import hashlib, json, os, shutil, sys

src, dst, tag = sys.argv[1:4]
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
cfg = json.loads(get(man["config"]["digest"]))
cfg["architecture"] = "arm64"
cfg["variant"] = "v8"
c1 = json.dumps(cfg, separators=(",", ":")).encode()
man["config"] = dict(man["config"], digest=put(c1), size=len(c1))
m1 = json.dumps(man, separators=(",", ":")).encode()
mt = "application/vnd.oci.image.manifest.v1+json"
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [
             {"mediaType": mt, "digest": m0["digest"], "size": m0["size"],
              "platform": {"architecture": "amd64", "os": "linux"}},
             {"mediaType": mt, "digest": put(m1), "size": len(m1),
              "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}]}
ib = json.dumps(index, separators=(",", ":")).encode()
top = {"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(ib),
     "size": len(ib), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump(top, f)
