#!/usr/bin/env python3
"""Make an OCI layout whose first layer is gzip-compressed and intact
(its digest and size are right) but whose config lies about its diff_id:
make_difflie.py SRC_LAYOUT DEST_LAYOUT. Only a reader that decompresses
the layer can tell."""
import json, sys

from oci_edit import Layout

src, dst = sys.argv[1:3]
lay = Layout(src, dst)
put, get = lay.put, lay.get
idx = lay.index()
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
lay.write_index(idx)
