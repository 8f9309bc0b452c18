#!/usr/bin/env python3
"""Make a two-platform OCI layout (linux/amd64, linux/arm64) from a
one-image OCI layout: make_multiplatform.py SRC_LAYOUT DEST_LAYOUT TAG.
The arm64 image shares the layers; only its config differs."""
import json, sys

from oci_edit import Layout

src, dst, tag = sys.argv[1:4]
lay = Layout(src, dst)
put, get = lay.put, lay.get
idx = lay.index()
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
lay.write_index(top)
