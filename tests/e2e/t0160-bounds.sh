#!/usr/bin/env bash
# Decompression bombs stream in bounded memory; caps hold.
. "$(dirname "$0")/lib.sh"

# an OCI layout whose one layer is 512 MiB of zeros gzipped (about 0.5 MiB)
make_bomb() {
	mkdir -p bomb/blobs/sha256 lay
	head -c $((512 << 20)) /dev/zero >lay/zeros
	tar -C lay -cf - zeros | tee >(sha256sum | cut -d" " -f1 >diff) | gzip -1 >layer.gz
	rm -rf lay
	python3 - <<'PY'
import hashlib, json, os
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open("bomb/blobs/sha256/" + h, "wb").write(b)
    return "sha256:" + h, len(b)
lay = open("layer.gz", "rb").read()
ld, ls = put(lay)
diff = open("diff").read().strip()
cfg = json.dumps({"architecture": "amd64", "os": "linux",
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]}}).encode()
cd, cs = put(cfg)
m = json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}).encode()
md, ms = put(m)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType":
    "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
    "annotations": {"org.opencontainers.image.ref.name": "1"}}]},
    open("bomb/index.json", "w"))
open("bomb/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
	rm -f layer.gz diff
}

expect_success 'verifying a 512 MiB gzip bomb layer stays under 64 MiB' '
	make_bomb &&
	/usr/bin/time -f %M -o rss "$DECANT" verify -q bomb &&
	echo "peak RSS $(cat rss) KiB" &&
	[ "$(cat rss)" -lt 65536 ]
' python3 /usr/bin/time

expect_success 'converting it to uncompressed layers too (spooled, not held)' '
	make_bomb &&
	/usr/bin/time -f %M -o rss "$DECANT" convert -q --compress none bomb oci:o &&
	echo "peak RSS $(cat rss) KiB" &&
	[ "$(cat rss)" -lt 65536 ] && decant verify -q o
' python3 /usr/bin/time

expect_success 'JSON nested 10,000 deep is refused by the cap' '
	mkdir -p deep/blobs/sha256 &&
	python3 -c "print(\"[\" * 10000 + \"]\" * 10000)" >deep/index.json &&
	echo "{\"imageLayoutVersion\":\"1.0.0\"}" >deep/oci-layout &&
	rc=0 && { "$DECANT" inspect deep 2>err || rc=$?; } &&
	[ $rc = 1 ] && grep -q "nested deeper than 64 levels" err
' python3

finish
