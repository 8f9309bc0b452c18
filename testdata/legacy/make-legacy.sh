#!/usr/bin/env bash
# Build the pre-1.10 `docker save` fixtures in testdata/legacy/ (see
# testdata/README.md). Deterministic: GNU tar, sorted names, mtime 0.
#
#   DECANT_SAMPLES=DIR testdata/legacy/make-legacy.sh
#
# docker09.tar: two genuine Docker 0.9 v1 layer JSONs and layers from
#   moby's tarsum testdata in the third-party corpus (DECANT_SAMPLES,
#   the directory the optional test suite reads), with the child's
#   "parent" pointed at the other one. docker_version < 1.8.3, so
#   Docker re-marshals the JSON through its V1Image struct.
# crafted.tar: hand-written JSONs for the corner cases of Docker's
#   config synthesis: raw-kept values (docker_version >= 1.8.3) with
#   odd numbers, <>& and U+2028/9 in strings, escaped and duplicate
#   keys, a string Cmd, RFC 3339 offsets and long fractions, a gzip
#   layer.tar, a pre-1.8.3 leaf with every optional container.Config
#   field, and two untagged leaves.
set -eu
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
samples=${DECANT_SAMPLES:?set DECANT_SAMPLES to the third-party corpus directory}
tarsum=$samples/moby+moby/daemon/builder/remotecontext/internal/tarsum/testdata
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

mktar() { # OUT DIR
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--format=gnu -C "$2" -cf "$1" .
}
hexid() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
layerdir() { # ID JSONFILE LAYERFILE
	mkdir -p "$w/out/$1"
	printf '1.0' >"$w/out/$1/VERSION"
	cp "$2" "$w/out/$1/json"
	cp "$3" "$w/out/$1/layer.tar"
}

# --- docker09.tar
root=511136ea3c5a64f264b78b5433614aec563103b4d4702f3ba7d4d2698e22c158
child=46af0962ab5afeb5ce6740d4d91652e69206fc991fd5328c1a94d364ad00e457
rm -rf "$w/out"
layerdir $root "$tarsum/$root/json" "$tarsum/$root/layer.tar"
sed "s/\"parent\":\"[0-9a-f]*\"/\"parent\":\"$root\"/" "$tarsum/$child/json" >"$w/child.json"
layerdir $child "$w/child.json" "$tarsum/$child/layer.tar"
printf '{"decant-test/docker09":{"0.9":"%s"}}\n' $child >"$w/out/repositories"
mktar "$here/docker09.tar" "$w/out"

# --- crafted.tar
A=$(hexid "decant legacy A")
B=$(hexid "decant legacy B")
C=$(hexid "decant legacy C")
D=$(hexid "decant legacy D")
rm -rf "$w/out" "$w/l"
mkdir -p "$w/l/a/etc" "$w/l/b" "$w/l/c"
echo "layer A" >"$w/l/a/etc/a.txt"
echo "layer B" >"$w/l/b/b.txt"
echo "layer C" >"$w/l/c/c.txt"
mktar "$w/a.tar" "$w/l/a"
gzip -n -9 <"$w/a.tar" >"$w/a.tar.gz"
mktar "$w/b.tar" "$w/l/b"
mktar "$w/c.tar" "$w/l/c"
head -c 1024 /dev/zero >"$w/d.tar"
ls=$(printf '\342\200\250')

cat >"$w/A.json" <<JSON
{
  "id": "$A",
  "docker_version": "1.9.1",
  "created": "2015-11-20T10:00:00.123456789012Z",
  "author": "Decant <fixtures> & co",
  "comment": "root \u2028 sep, caf\u00e9, café, slash \/ ok",
  "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) ADD file:abc in /"], "Env": null},
  "architecture": "amd64",
  "os": "linux",
  "Size": 1234,
  "checksum": "tarsum.dev+sha256:e3b0",
  "layer_id": "sha256:deadbeef",
  "throwaway": true
}
JSON
cat >"$w/B.json" <<JSON
{ "parent": "$A",
  "Zeta" : { "b" : [1, 2.50, -0, 1e3, 1E-2, true, null],  "a":"x<y>&z" },
  "id":"$B",
  "docker_version" :"1.9.1",
  "created":"2015-11-21T12:30:00.500+02:00",
  "container": "c0ffee",
  "container_config": {"Hostname":"h","Cmd":"echo hi && true","Image":"","OnBuild":null},
  "config": {"Cmd":["/bin/sh","-c","cat /b.txt"],"Env":["A=1"], "Labels":{"z":"1","a":"2"}, "ExposedPorts":{"80/tcp":{}}},
  "a\/b": "slash key",
  "k<ey>": 1,
  "dup": 1,
  "dup": 2,
  "unicode": "\ud83d\ude00 \u00e9 é \u2029 $ls \/",
  "Size": 99,
  "parent_id": "sha256:$A",
  "layer_id": "sha256:0123",
  "os": "linux",
  "architecture": "amd64"
}
JSON
cat >"$w/C.json" <<JSON
{"id":"$C","parent":"$A","docker_version":"1.8.3","created":"2015-11-22T00:00:00Z","container_config":{"Cmd":null},"os":"linux","Memory":0}
JSON
cat >"$w/D.json" <<JSON
{"id":"$D","parent":"$A","docker_version":"1.8.2-dev","created":"2015-11-23T01:02:03.000000000-05:00",
 "container_config":{"Cmd":["/bin/sh","-c","#(nop) CMD [\"x\"]"],"Memory":0,"cpuShares":5,"ENV":["X=1"]},
 "config":{"User":"nobody","ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Volumes":{"/data":{}},"Labels":{"b":"2","a":"1"},
   "Healthcheck":{"Test":["CMD","true"],"Interval":30000000000,"Retries":3},"StopTimeout":10,"Shell":["/bin/bash","-c"],
   "StopSignal":"SIGTERM","ArgsEscaped":true,"NetworkDisabled":false,"MacAddress":"","OnBuild":[]},
 "os":"linux","architecture":"amd64","variant":"","Size":5,"checksum":"x"}
JSON
layerdir $A "$w/A.json" "$w/a.tar.gz"
layerdir $B "$w/B.json" "$w/b.tar"
layerdir $C "$w/C.json" "$w/c.tar"
layerdir $D "$w/D.json" "$w/d.tar"
printf '{"decant-test/crafted":{"1.0":"%s","latest":"%s"}}\n' $B $B >"$w/out/repositories"
mktar "$here/crafted.tar" "$w/out"
