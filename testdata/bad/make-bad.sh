#!/usr/bin/env bash
# Rebuild the malformed archives in testdata/bad/ (see testdata/README.md,
# "Malformed inputs"). Deterministic: the same python3 and gzip give the same
# bytes. Every file is derived from two tiny, valid, hand-made images
# (base-docker.tar, a Docker 1.10-24 save, and base-oci.tar, an OCI archive)
# with one 2 KiB layer, so each one is wrong in exactly one way.
#
# The *.stderr files (the expected messages) are written by hand, not here.
# oversized-json.tar (9 MiB) is not committed: tests/e2e/t0070-bad-input.sh
# builds it at test time with `make-bad.sh --oversized DIR`.
set -eu
cd "$(dirname "$0")"
export LC_ALL=C

python3 - "$@" <<'PY'
import gzip, hashlib, io, json, sys, tarfile

MTIME = 946684800  # 2000-01-01T00:00:00Z


def sha(b):
    return hashlib.sha256(b).hexdigest()


def js(o):
    return json.dumps(o, separators=(",", ":"), sort_keys=True).encode()


def member(name, data=b"", kind=tarfile.REGTYPE, link="", mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.mtime = MTIME
    ti.mode = 0o755 if kind == tarfile.DIRTYPE else mode
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.linkname = link
    buf = ti.tobuf(format=tarfile.USTAR_FORMAT, encoding="utf-8",
                   errors="strict")
    pad = (-len(data)) % 512 if kind == tarfile.REGTYPE else 0
    return buf + (data if kind == tarfile.REGTYPE else b"") + b"\0" * pad


def tar(members):
    return b"".join(members) + b"\0" * 1024


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- the image
LAYER = tar([member("hello.txt", b"hello from decant's bad-input fixtures\n")])
DIFF = "sha256:" + sha(LAYER)


def config(diff_ids):
    return js({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/cat", "/hello.txt"]},
        "created": "2000-01-01T00:00:00Z",
        "history": [{"created": "2000-01-01T00:00:00Z",
                     "created_by": "testdata/bad/make-bad.sh"}],
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    })


CONFIG = config([DIFF])
V1ID = sha(b"decant testdata/bad v1 id")
TAG = "decant-bad/base:1"


# ------------------------------------------ Docker 1.10-24 `docker save` base
def docker_tar(manifest=None, layer=LAYER, config_bytes=CONFIG, drop=(),
               extra=(), layer_member=None):
    """A docker save tar; DROP names members to leave out, EXTRA adds
    members at the end, LAYER_MEMBER replaces the layer.tar member."""
    cfg = sha(config_bytes) + ".json"
    if manifest is None:
        manifest = [{"Config": cfg, "RepoTags": [TAG],
                     "Layers": [V1ID + "/layer.tar"]}]
    mj = manifest if isinstance(manifest, bytes) else js(manifest)
    ms = [
        (V1ID + "/", member(V1ID + "/", kind=tarfile.DIRTYPE)),
        (V1ID + "/VERSION", member(V1ID + "/VERSION", b"1.0")),
        (V1ID + "/json", member(V1ID + "/json", js({
            "id": V1ID, "created": "2000-01-01T00:00:00Z", "os": "linux"}))),
        (V1ID + "/layer.tar", layer_member or
         member(V1ID + "/layer.tar", layer)),
        (cfg, member(cfg, config_bytes)),
        ("manifest.json", member("manifest.json", mj)),
        ("repositories", member("repositories", js(
            {"decant-bad/base": {"1": V1ID}}))),
    ]
    return tar([m for n, m in ms if n not in drop] + list(extra))


# ------------------------------------------------------- OCI archive base
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"


def desc(mt, data, **kw):
    d = {"mediaType": mt, "digest": "sha256:" + sha(data), "size": len(data)}
    d.update(kw)
    return d


def manifest(layer_desc=None, config_bytes=CONFIG):
    return js({
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": desc("application/vnd.oci.image.config.v1+json",
                       config_bytes),
        "layers": [layer_desc or
                   desc("application/vnd.oci.image.layer.v1.tar", LAYER)],
    })


MANIFEST = manifest()
REF = {"org.opencontainers.image.ref.name": "1"}


def index(descs):
    return js({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": descs})


INDEX = index([desc(MT_MANIFEST, MANIFEST, annotations=REF)])


def oci_tar(index_bytes=INDEX, blobs=None, manifest_json=None):
    """An OCI archive; BLOBS maps hex name -> content (default: the image).
    MANIFEST_JSON (bytes) makes it a Docker 25+ style archive."""
    if blobs is None:
        blobs = {sha(b): b for b in (LAYER, CONFIG, MANIFEST)}
    ms = [member("blobs/", kind=tarfile.DIRTYPE),
          member("blobs/sha256/", kind=tarfile.DIRTYPE)]
    ms += [member("blobs/sha256/" + h, blobs[h]) for h in sorted(blobs)]
    ms += [member("index.json", index_bytes)]
    if manifest_json is not None:
        ms += [member("manifest.json", manifest_json)]
    ms += [member("oci-layout", OCI_LAYOUT)]
    return tar(ms)


if sys.argv[1:2] == ["--oversized"]:
    # manifest.json of exactly 9 MiB (over the 8 MiB metadata cap): valid
    # JSON, one image whose RepoTags list is padded with tags, then spaces.
    m = [{"Config": sha(CONFIG) + ".json", "RepoTags": [TAG],
          "Layers": [V1ID + "/layer.tar"]}]
    s = js(m)
    size = 9 * 1024 * 1024
    tags = ['"decant-bad/pad:%07d"' % i for i in range(size // 25 - 20)]
    m_bytes = s.replace(b'["' + TAG.encode() + b'"]',
                        ("[" + ",".join(tags) + "]").encode())
    assert len(m_bytes) <= size
    m_bytes += b" " * (size - len(m_bytes))
    write(sys.argv[2] + "/oversized-json.tar", docker_tar(manifest=m_bytes))
    sys.exit(0)

# ------------------------------------------------------------------ controls
write("base-docker.tar", docker_tar())
write("base-oci.tar", oci_tar())

# ------------------------------------------------------- damaged containers
base = docker_tar()
# cut in the middle of the layer's data (the layer.tar member is the 4th)
layer_hdr = base.index(member(V1ID + "/layer.tar", LAYER)[:100])
write("truncated-tar.tar", base[:layer_hdr + 512 + 1000])
gz = gzip.compress(base, compresslevel=9, mtime=0)
write("truncated-gzip.tar.gz", gz[:len(gz) // 2])
write("empty-archive.tar", b"\0" * 1024)
write("empty-file.tar", b"")
rnd, h = b"", b"decant not-a-tar"
while len(rnd) < 1024:
    h = hashlib.sha256(h).digest()
    rnd += h
write("not-a-tar.tar", rnd)

# ---------------------------------------------------------- missing things
write("missing-layer.tar", docker_tar(drop=(V1ID + "/layer.tar",)))
write("missing-config.tar", docker_tar(drop=(sha(CONFIG) + ".json",)))

# -------------------------------------------------------------------- lies
# OCI: the layer blob's bytes differ from its name/digest (same size)
bad_layer = LAYER.replace(b"hello from", b"HELLO FROM")
write("digest-lie.tar", oci_tar(blobs={
    sha(LAYER): bad_layer, sha(CONFIG): CONFIG, sha(MANIFEST): MANIFEST}))
# OCI: the manifest says the layer is one byte longer than it is
m = manifest(desc("application/vnd.oci.image.layer.v1.tar", LAYER,
                  size=len(LAYER) + 1))
write("size-lie.tar", oci_tar(
    index([desc(MT_MANIFEST, m, annotations=REF)]),
    {sha(LAYER): LAYER, sha(CONFIG): CONFIG, sha(m): m}))
# docker: the config's diff_id is not the layer's digest
c = config(["sha256:" + sha(b"not the layer")])
write("diffid-lie.tar", docker_tar(config_bytes=c))

# ------------------------------------------------------- paths and links
write("member-traversal.tar", docker_tar(
    extra=[member("../evil", b"evil\n")]))
write("layers-traversal.tar", docker_tar(manifest=[{
    "Config": sha(CONFIG) + ".json", "RepoTags": [TAG],
    "Layers": ["../../etc/passwd"]}]))
write("config-absolute.tar", docker_tar(manifest=[{
    "Config": "/etc/passwd", "RepoTags": [TAG],
    "Layers": [V1ID + "/layer.tar"]}]))
write("symlink-escape.tar", docker_tar(layer_member=member(
    V1ID + "/layer.tar", kind=tarfile.SYMTYPE, link="../../../etc/passwd")))
write("hardlink-escape.tar", docker_tar(layer_member=member(
    V1ID + "/layer.tar", kind=tarfile.LNKTYPE, link="../../etc/passwd")))

# ------------------------------------------------------------------- JSON
good_mj = js([{"Config": sha(CONFIG) + ".json", "RepoTags": [TAG],
               "Layers": [V1ID + "/layer.tar"]}])
write("invalid-json.tar", docker_tar(manifest=good_mj[:-2]))
write("manifest-object.tar", docker_tar(manifest={
    "Config": sha(CONFIG) + ".json", "RepoTags": [TAG],
    "Layers": [V1ID + "/layer.tar"]}))
write("index-manifests-string.tar", oci_tar(index_bytes=js({
    "schemaVersion": 2, "mediaType": MT_INDEX,
    "manifests": "sha256:" + sha(MANIFEST)})))

# ---------------------------------------------------------------- indexes
# A real cycle needs a hash collision: index.json -> A -> B -> A, where A is
# honest and B is stored under a made-up name, so B's digest cannot match.
b_name = sha(b"decant: the index B, stored under a name it cannot hash to")
a = index([{"mediaType": MT_INDEX, "digest": "sha256:" + b_name,
            "size": 0}])  # size patched below
b = index([desc(MT_INDEX, a)])
a = index([{"mediaType": MT_INDEX, "digest": "sha256:" + b_name,
            "size": len(b)}])
b = index([desc(MT_INDEX, a)])
assert json.loads(a)["manifests"][0]["size"] == len(b)
write("index-cycle.tar", oci_tar(index([desc(MT_INDEX, a)]), {
    sha(a): a, b_name: b, sha(LAYER): LAYER, sha(CONFIG): CONFIG,
    sha(MANIFEST): MANIFEST}))
# nine honest nested indexes above the manifest (the limit is 8 levels)
blobs = {sha(x): x for x in (LAYER, CONFIG, MANIFEST)}
top = desc(MT_MANIFEST, MANIFEST)
for _ in range(9):
    i = index([top])
    blobs[sha(i)] = i
    top = desc(MT_INDEX, i)
top["annotations"] = REF
write("index-too-deep.tar", oci_tar(index([top]), blobs))
# the index's only descriptor has a media type no reader knows
u = js({"hello": "not an image"})
write("unknown-mediatype.tar", oci_tar(
    index([desc("application/x-decant-unknown", u, annotations=REF)]),
    {sha(u): u}))

# ------------------------------------------------- archives with two meanings
# the image of the bases, but another command: another config, another image
OTHER = js({
    "architecture": "amd64", "os": "linux",
    "config": {"Cmd": ["/bin/rm", "-rf", "/"]},
    "created": "2000-01-01T00:00:00Z",
    "history": [{"created": "2000-01-01T00:00:00Z",
                 "created_by": "testdata/bad/make-bad.sh"}],
    "rootfs": {"type": "layers", "diff_ids": [DIFF]},
})
# Docker 25 style: index.json holds the base image, manifest.json (what
# docker load and skopeo read) another
write("hybrid-disagree.tar", oci_tar(
    blobs={sha(x): x for x in (LAYER, CONFIG, MANIFEST, OTHER)},
    manifest_json=js([{"Config": "blobs/sha256/" + sha(OTHER),
                       "RepoTags": [TAG],
                       "Layers": ["blobs/sha256/" + sha(LAYER)]}])))
# "Config" and "config": Go's encoding/json takes the last key that
# matches case-insensitively ("config", the other image), jansson "Config"
write("manifest-key-case.tar", docker_tar(manifest=[{
    "Config": sha(CONFIG) + ".json", "RepoTags": [TAG],
    "Layers": [V1ID + "/layer.tar"], "config": sha(OTHER) + ".json"}],
    extra=[member(sha(OTHER) + ".json", OTHER)]))
# the same image, named differently by each
NAMED = index([desc(MT_MANIFEST, MANIFEST, annotations={
    "io.containerd.image.name": "docker.io/decant-bad/base:1",
    "org.opencontainers.image.ref.name": "1"})])
write("hybrid-names.tar", oci_tar(NAMED, manifest_json=js([{
    "Config": "blobs/sha256/" + sha(CONFIG), "RepoTags": ["decant-bad/other:2"],
    "Layers": ["blobs/sha256/" + sha(LAYER)]}])))
# a named image in index.json that manifest.json does not list
write("hybrid-unlisted.tar", oci_tar(NAMED, manifest_json=b"[]"))
PY
