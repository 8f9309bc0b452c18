#!/usr/bin/env bash
# Rebuild the containers/image dir: layout seeds in read/ (see README.md):
# dir.tar, one image as `skopeo copy ... dir:D` lays it out (version,
# manifest.json, blobs named by bare hex digests), and dir-index.tar, an
# OCI index as manifest.json (`skopeo copy --all`) with one of its two
# instances present as <hex>.manifest.json. Deterministic: the same
# python3 gives the same bytes.
set -eu
cd "$(dirname "$0")/read"
export LC_ALL=C

python3 - <<'PY'
import gzip, hashlib, json, tarfile

MTIME = 946684800  # 2000-01-01T00:00:00Z


def sha(b):
    return hashlib.sha256(b).hexdigest()


def js(o):
    return json.dumps(o, separators=(",", ":"), sort_keys=True).encode()


def tar(files):
    """Members in name order, then the two end blocks (no record padding)."""
    out = b""
    for name in sorted(files):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime, ti.mode = len(files[name]), MTIME, 0o644
        ti.uname = ti.gname = ""
        out += ti.tobuf(format=tarfile.USTAR_FORMAT)
        out += files[name] + b"\0" * ((-len(files[name])) % 512)
    return out + b"\0" * 1024


def desc(mt, data, **kw):
    d = {"mediaType": mt, "digest": "sha256:" + sha(data), "size": len(data)}
    d.update(kw)
    return d


L1 = tar({"hello.txt": b"hello from a dir: layout\n"})
L2 = tar({"etc/motd": b"second layer\n"})
L2GZ = gzip.compress(L2, mtime=0)


def image(arch):
    cfg = js({"architecture": arch, "os": "linux",
              "config": {"Cmd": ["/bin/cat", "/hello.txt"]},
              "rootfs": {"type": "layers",
                         "diff_ids": ["sha256:" + sha(L1), "sha256:" + sha(L2)]}})
    man = js({"schemaVersion": 2,
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "config": desc("application/vnd.oci.image.config.v1+json", cfg),
              "layers": [desc("application/vnd.oci.image.layer.v1.tar", L1),
                         desc("application/vnd.oci.image.layer.v1.tar+gzip",
                              L2GZ)]})
    return cfg, man


VERSION = b"Directory Transport Version: 1.1\n"
cfg, man = image("amd64")
blobs = {sha(x): x for x in (cfg, L1, L2GZ)}
open("dir.tar", "wb").write(tar(dict(blobs, **{
    "manifest.json": man, "version": VERSION})))

cfg2, man2 = image("arm64")
idx = js({"schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "manifests": [
              desc("application/vnd.oci.image.manifest.v1+json", man,
                   platform={"architecture": "amd64", "os": "linux"}),
              desc("application/vnd.oci.image.manifest.v1+json", man2,
                   platform={"architecture": "arm64", "os": "linux"})]})
open("dir-index.tar", "wb").write(tar(dict(blobs, **{
    "manifest.json": idx, sha(man) + ".manifest.json": man,
    "version": VERSION})))
PY
