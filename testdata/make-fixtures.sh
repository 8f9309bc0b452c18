#!/usr/bin/env bash
# Regenerate the container-image fixtures under testdata/ with real tools.
#
# Needs root and the Debian 12 packages docker.io (dockerd 20.10 + containerd
# 1.6 + ctr), skopeo, busybox-static (downloaded with apt-get download, not
# installed), gzip, zstd, tar. No registry access is needed.
#
#   testdata/make-fixtures.sh            # no-op if the fixtures already exist
#   FORCE=1 testdata/make-fixtures.sh    # rebuild everything (IDs will change!)
#
# Every fixture is regenerated together with the files in testdata/expected/
# that describe it, so they always agree with each other. Image and layer IDs
# depend on build time stamps, so a rebuild changes them; commit the whole
# testdata/ tree after a rebuild.
set -euo pipefail

TD=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TD/.." && pwd)
# shellcheck source=../tests/e2e/dockerd.sh
. "$REPO/tests/e2e/dockerd.sh"

OUTPUTS=(
    docker-1.10/multilayer.tar
    docker-1.10/multilayer.tar.gz
    docker-1.10/multilayer.tar.zst
    docker-1.10/two-images.tar
    containerd/ctr-export.tar
    oci/skopeo-dir/index.json
    oci/skopeo-uncompressed-dir/index.json
    oci/skopeo.tar
    expected/multilayer.txt
    expected/multilayer.id
    expected/multilayer.export.txt
    expected/two-images.ids
    expected/small.txt
    expected/tool-versions.txt
)

if [[ ${FORCE:-0} != 1 ]]; then
    missing=0
    for f in "${OUTPUTS[@]}"; do [[ -e $TD/$f ]] || missing=1; done
    if ((missing == 0)); then
        echo "make-fixtures: all fixtures present; set FORCE=1 to rebuild them"
        exit 0
    fi
fi

[[ $(id -u) == 0 ]] || { echo "make-fixtures: must run as root" >&2; exit 1; }
for t in dockerd docker ctr skopeo gzip zstd tar dpkg-deb apt-get; do
    command -v "$t" >/dev/null || { echo "make-fixtures: missing $t" >&2; exit 1; }
done

export TZ=UTC LC_ALL=C
export DOCKER_BUILDKIT=0            # legacy builder: one layer per RUN/COPY
export DOCKER_CLI_HINTS=false
unset DOCKER_CONTEXT DOCKER_HOST

WORK=$(mktemp -d /tmp/dcf.XXXXXX)   # short: holds dockerd's unix sockets
cleanup() {
    local rc=$?
    dockerd_stop "$WORK/d" || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

EPOCH=946684800   # 2000-01-01T00:00:00Z: mtime for every file we author

# ---------------------------------------------------------------- base rootfs
# busybox from the Debian archive (no registry reachable), imported with
# `docker import` as decant-base:1 (a single-layer image without history).
mkdir -p "$WORK/bb" "$WORK/rootfs"
(cd "$WORK/bb" && apt-get download busybox-static >/dev/null 2>&1)
dpkg-deb -x "$WORK"/bb/busybox-static_*.deb "$WORK/bb/x"
R=$WORK/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/opt/olddir/keep" "$R/data"
install -m 0755 "$WORK/bb/x/bin/busybox" "$R/bin/busybox"
for c in sh echo cat ls rm mkdir ln chmod true; do ln -s busybox "$R/bin/$c"; done
chmod 1777 "$R/tmp"
echo "decant base image (busybox-static from Debian)" >"$R/etc/decant-base"
echo "this file is deleted by a later layer" >"$R/etc/remove-me.txt"
echo "old x" >"$R/opt/olddir/x.txt"
echo "old y" >"$R/opt/olddir/keep/y.txt"
find "$R" -exec touch -h -d "@$EPOCH" {} +
tar -C "$R" --sort=name --numeric-owner --owner=0 --group=0 --mtime="@$EPOCH" \
    -cf "$WORK/base.tar" .

# ------------------------------------------------------------------- dockerd
# overlay2 (not the dockerd.sh default vfs): only overlay2 turns a directory
# that was removed and recreated into an opaque `.wh..wh..opq` whiteout; vfs
# emits one `.wh.<name>` per removed entry instead.
export DOCKERD_STORAGE_DRIVER=${DOCKERD_STORAGE_DRIVER:-overlay2}
dockerd_start "$WORK/d"
[[ $(docker info -f '{{.Driver}}') == "$DOCKERD_STORAGE_DRIVER" ]]
SOCK_CTRD=$WORK/d/exec/containerd/containerd.sock

docker import -m "decant base from busybox-static" "$WORK/base.tar" decant-base:1 >/dev/null

# ------------------------------------------------------ multilayer image
C=$WORK/ctx-multi
mkdir -p "$C/data/sub"
echo "hello from decant fixture" >"$C/hello.txt"
echo "file a" >"$C/data/a.txt"
echo "file b (deleted in a later layer)" >"$C/data/b.txt"
echo "file c" >"$C/data/sub/c.txt"
echo "same bytes twice" >"$C/dup.txt"
cat >"$C/Dockerfile" <<'EOF'
FROM decant-base:1
LABEL org.opencontainers.image.title="decant multilayer fixture"
ENV DECANT_FIXTURE=multilayer
# layer: a single file
COPY hello.txt /hello.txt
# layer: a directory tree
COPY data/ /data/
# layer: delete a file from the base layer and one from the COPY layer (whiteouts)
RUN rm /etc/remove-me.txt /data/b.txt
# layer: remove a directory from the base layer and recreate it (opaque dir?)
RUN rm -rf /opt/olddir && mkdir -p /opt/olddir && echo recreated > /opt/olddir/new.txt
# layer: symlinks (absolute and relative) and a hard link pair
RUN ln -s /hello.txt /hello-link && ln -s ../hello.txt /data/rel-link && echo hard > /data/h1 && ln /data/h1 /data/h2
# layer: metadata-only change (chmod of a lower-layer file and directory)
RUN chmod 0600 /data/a.txt && chmod 0750 /data/sub
# a RUN without file changes: recorded as an empty_layer in history only
RUN true
# add, delete, re-add the same file: the 1st and 3rd layer are byte-identical,
# so they share one diff_id (docker save then symlinks the second layer.tar)
COPY dup.txt /dup.txt
RUN rm /dup.txt
COPY dup.txt /dup.txt
WORKDIR /data
CMD ["/bin/sh","-c","cat /hello.txt"]
EOF
find "$C" -exec touch -h -d "@$EPOCH" {} +
docker build -q -t decant-test/multi:1.0 "$C" >/dev/null
docker tag decant-test/multi:1.0 decant-test/multi:latest

# ------------------------------------------------------ second small image
C=$WORK/ctx-small
mkdir -p "$C"
echo "small image says hi" >"$C/small.txt"
cat >"$C/Dockerfile" <<'EOF'
FROM decant-base:1
COPY small.txt /small.txt
CMD ["/bin/cat","/small.txt"]
EOF
find "$C" -exec touch -h -d "@$EPOCH" {} +
docker build -q -t decant-test/small:2.0 "$C" >/dev/null

# ------------------------------------------------------ docker save fixtures
rm -rf "$TD/docker-1.10" "$TD/containerd" "$TD/oci" "$TD/expected"
mkdir -p "$TD/docker-1.10" "$TD/containerd" "$TD/oci" "$TD/expected"

cd "$REPO"
docker save -o testdata/docker-1.10/multilayer.tar decant-test/multi:1.0
gzip -n -9 -c testdata/docker-1.10/multilayer.tar >testdata/docker-1.10/multilayer.tar.gz
zstd -q -19 -c testdata/docker-1.10/multilayer.tar >testdata/docker-1.10/multilayer.tar.zst
docker save -o testdata/docker-1.10/two-images.tar \
    decant-test/multi:1.0 decant-test/multi:latest decant-test/small:2.0

chmod 0644 testdata/docker-1.10/*.tar   # docker save -o creates 0600 files

# ------------------------------------------------------ expected outputs
docker run --rm decant-test/multi:1.0 >testdata/expected/multilayer.txt
docker run --rm decant-test/small:2.0 >testdata/expected/small.txt
docker inspect -f '{{.Id}}' decant-test/multi:1.0 >testdata/expected/multilayer.id
for t in decant-test/multi:1.0 decant-test/multi:latest decant-test/small:2.0; do
    echo "$t $(docker inspect -f '{{.Id}}' "$t")"
done >testdata/expected/two-images.ids
cid=$(docker create decant-test/multi:1.0)
docker export "$cid" | tar -tvf - | sort -k6 >testdata/expected/multilayer.export.txt
docker rm "$cid" >/dev/null

# ------------------------------------------------------ containerd / ctr
# dockerd 20.10 keeps images in its own store (`ctr -n moby images ls` is
# empty), so import the docker save archive into a separate namespace.
ctr -a "$SOCK_CTRD" -n moby images ls -q >"$WORK/moby-images"
if [[ -s $WORK/moby-images ]]; then
    echo "make-fixtures: note: containerd moby namespace is not empty" >&2
fi
ctr -a "$SOCK_CTRD" -n decant images import --all-platforms --no-unpack \
    testdata/docker-1.10/multilayer.tar >/dev/null
ctr -a "$SOCK_CTRD" -n decant images export \
    testdata/containerd/ctr-export.tar docker.io/decant-test/multi:1.0

# ------------------------------------------------------ skopeo (OCI)
skopeo copy -q docker-archive:testdata/docker-1.10/multilayer.tar \
    oci:testdata/oci/skopeo-dir:1.0
skopeo copy -q --dest-oci-accept-uncompressed-layers \
    docker-archive:testdata/docker-1.10/multilayer.tar \
    oci:testdata/oci/skopeo-uncompressed-dir:1.0
skopeo copy -q docker-archive:testdata/docker-1.10/multilayer.tar \
    oci-archive:testdata/oci/skopeo.tar:1.0

# ------------------------------------------------------ tool versions
{
    echo "dockerd: $(dockerd --version)"
    echo "docker client: $(docker version -f '{{.Client.Version}} (API {{.Client.APIVersion}})')"
    echo "docker server: $(docker version -f '{{.Server.Version}} (API {{.Server.APIVersion}})')"
    echo "docker storage driver: $(docker info -f '{{.Driver}}')"
    echo "containerd: $(containerd --version)"
    echo "ctr: $(ctr --version)"
    echo "runc: $(runc --version | head -n1)"
    echo "skopeo: $(skopeo --version)"
    echo "busybox-static: $(dpkg-deb -f "$WORK"/bb/busybox-static_*.deb Version)"
    echo "gzip: $(gzip --version | head -n1)"
    echo "zstd: $(zstd --version)"
    echo "tar: $(tar --version | head -n1)"
} >testdata/expected/tool-versions.txt

echo "make-fixtures: done"
du -sh testdata/docker-1.10 testdata/containerd testdata/oci testdata/expected
