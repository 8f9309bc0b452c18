#!/usr/bin/env bash
# Makes the fixtures in testdata/flat/ with a private dockerd (see
# testdata/README.md). Needs root, dockerd 20.10, the docker CLI and jq.
#
#   testdata/flat/make-flat.sh
#
# docker-export.tar          `docker export` of a container whose image is
#                            `docker import` of a tar holding hello.txt
# docker-import.config.json  the config `docker import` makes of
#                            docker-export.tar with the changes in
#                            changes.txt (one --change per line), raw
#                            from `docker save`
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../tests/e2e/dockerd.sh"
w=$(mktemp -d /tmp/flat.XXXXXX)
dk=$(mktemp -d /tmp/dk.XXXXXX)
trap 'dockerd_stop "$dk"; rm -rf "$dk" "$w"' EXIT
dockerd_start "$dk"

mkdir "$w/root"
printf 'hello from a flat rootfs\n' >"$w/root/hello.txt"
tar -C "$w/root" --owner=0 --group=0 --numeric-owner --mtime=@946684800 \
	-cf "$w/one.tar" hello.txt
docker import "$w/one.tar" decant-flat/one:1 >/dev/null
cid=$(docker create decant-flat/one:1 /hello.txt)
docker export -o "$w/export.tar" "$cid"
install -m 0644 "$w/export.tar" "$here/docker-export.tar"

changes=()
while IFS= read -r c; do
	changes+=(--change "$c")
done <"$here/changes.txt"
docker import "${changes[@]}" "$here/docker-export.tar" decant-flat/imported:1 >/dev/null
docker save -o "$w/save.tar" decant-flat/imported:1
cfg=$(tar -xOf "$w/save.tar" manifest.json | jq -r '.[0].Config')
tar -xOf "$w/save.tar" "$cfg" >"$here/docker-import.config.json"
docker version --format '{{.Server.Version}}' >"$here/docker-version.txt"
