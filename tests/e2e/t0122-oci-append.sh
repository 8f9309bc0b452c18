#!/usr/bin/env bash
# oci and oci-archive: every image has a name of its own (the whole
# reference in ref.name and io.containerd.image.name) that skopeo, umoci,
# podman and containerd all find; adding to a layout never loses or
# corrupts what it held (issue 16).
. "$(dirname "$0")/lib.sh"
TWO=$TESTDATA/docker-1.10/two-images.tar
M=docker.io/decant-test/multi
SM=docker.io/decant-test/small

same() {
	[ "$1" = "$2" ] || { printf '%s\n  got:  %s\n  want: %s\n' "${3:-mismatch}" "$1" "$2"; return 1; }
}

# refs DIR: "ref.name containerd-name" of each index.json entry, sorted
refs() {
	jq -r '.manifests[] | [.annotations["org.opencontainers.image.ref.name"] // "-",
		.annotations["io.containerd.image.name"] // "-"] | join(" ")' "$1/index.json" | sort
}

# digest_of DIR NAME: the digest index.json gives NAME
digest_of() {
	jq -r --arg n "$2" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n)][0].digest' "$1/index.json"
}

# many_images OUT NIMG NLAYERS [CORRUPT]: an oci-archive of NIMG images of
# NLAYERS one-file layers; CORRUPT: the last layer's bytes lie
many_images() {
	python3 - "$@" <<'EOF'
import hashlib, io, json, sys, tarfile
out, nimg, nlay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
corrupt = len(sys.argv) > 4
blobs = {}
def blob(b):
    d = hashlib.sha256(b).hexdigest()
    blobs[d] = b
    return {"digest": "sha256:" + d, "size": len(b)}
def member(tf, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data))
idx = []
for i in range(nimg):
    layers = []
    for j in range(nlay):
        bio = io.BytesIO()
        with tarfile.open(fileobj=bio, mode="w", format=tarfile.USTAR_FORMAT) as lt:
            member(lt, "f%d-%d" % (i, j), b"%d %d\n" % (i, j))
        d = blob(bio.getvalue())
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
        layers.append(d)
    cfg = {"architecture": "amd64", "os": "linux", "config": {},
           "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}
    c = blob(json.dumps(cfg).encode())
    c["mediaType"] = "application/vnd.oci.image.config.v1+json"
    m = blob(json.dumps({"schemaVersion": 2, "config": c, "layers": layers,
                         "mediaType": "application/vnd.oci.image.manifest.v1+json"}).encode())
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    m["annotations"] = {"org.opencontainers.image.ref.name": "example.com/many/img%d:1" % i}
    idx.append(m)
if corrupt:
    h = layers[-1]["digest"][7:]
    blobs[h] = blobs[h][:-1] + b"\1"
with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tf:
    member(tf, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    member(tf, "index.json", json.dumps({"schemaVersion": 2, "manifests": idx}).encode())
    for d in sorted(blobs):
        member(tf, "blobs/sha256/" + d, blobs[d])
EOF
}

expect_success 'each image named by its whole reference; skopeo and umoci find each' '
	decant convert -q "$TWO" oci:m
	decant convert -q "$TWO" oci-archive:m.tar
	same "$(refs m)" "$(printf "%s\n" "$M:1.0 $M:1.0" "$M:latest $M:latest" "$SM:2.0 $SM:2.0" | sort)" refs
	mkdir x && tar -xf m.tar -C x && diff -r m x
	for n in $M:1.0 $M:latest $SM:2.0; do
		want=$(digest_of m $n)
		same "$(skopeo inspect oci:m:$n | jq -r .Digest)" "$want" "skopeo oci $n"
		same "$(skopeo inspect oci-archive:m.tar:$n | jq -r .Digest)" "$want" "skopeo oci-archive $n"
	done
	same "$(umoci ls --layout m | sort)" "$(printf "%s\n" $M:1.0 $M:latest $SM:2.0 | sort)" "umoci ls"
	umoci unpack --rootless --image m:$SM:2.0 small >/dev/null
	cmp small/rootfs/small.txt "$TESTDATA/expected/small.txt"
	umoci unpack --rootless --image m:$M:1.0 multi >/dev/null
	cmp multi/rootfs/hello.txt "$TESTDATA/expected/multilayer.txt"
' skopeo umoci jq

expect_success 'podman loads each image under its own name' '
	decant convert -q "$TWO" oci-archive:m.tar
	decant convert -q --image @1 "$TWO" oci-archive:one.tar
	P="podman --root $PWD/pr --runroot $PWD/prr --storage-driver vfs"
	# podman load takes a one-image OCI archive only (of any maker):
	# several images are each fetched by name, by the same loader
	$P load -q -i one.tar | grep -qx "Loaded image: $SM:2.0"
	$P rmi -a -f >/dev/null
	for n in $M:1.0 $SM:2.0; do $P pull -q oci-archive:m.tar:$n >/dev/null; done
	same "$($P images --format "{{.Repository}}:{{.Tag}}" | sort)" "$(printf "%s\n" $M:1.0 $SM:2.0)" "podman images"
	m=$(tar -xOf m.tar index.json | jq -r --arg n $SM:2.0 "[.manifests[]|select(.annotations[\"org.opencontainers.image.ref.name\"]==\$n)][0].digest[7:]")
	same "sha256:$($P image inspect --format "{{.Id}}" $SM:2.0)" "$(tar -xOf m.tar blobs/sha256/$m | jq -r .config.digest)" "podman image id"
	$P rmi -a -f >/dev/null 2>&1 || true
' podman jq

expect_success 'ctr images import gives each image its own name' '
	decant convert -q "$TWO" oci-archive:m.tar
	d=$(mktemp -d /tmp/ctd.XXXXXX)
	at_exit "[ -s $d/pid ] && kill \$(cat $d/pid); sleep 1; rm -rf $d"
	cat >"$d/cfg.toml" <<-EOF
	version = 2
	root = "$d/root"
	state = "$d/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$d/sock"
	[ttrpc]
	  address = "$d/sock.ttrpc"
	EOF
	containerd --config "$d/cfg.toml" >"$d/log" 2>&1 &
	echo $! >"$d/pid"
	for i in $(seq 50); do [ -S "$d/sock" ] && break; sleep 0.2; done
	ctr -a "$d/sock" -n decant images import --all-platforms --no-unpack m.tar >/dev/null
	same "$(ctr -a "$d/sock" -n decant images ls -q | sort)" \
	     "$(printf "%s\n" $M:1.0 $M:latest $SM:2.0 | sort)" "ctr images"
	same "$(ctr -a "$d/sock" -n decant images ls | awk "\$1==\"$SM:2.0\"{print \$3}")" \
	     "$(tar -xOf m.tar index.json | jq -r --arg n $SM:2.0 "[.manifests[]|select(.annotations[\"io.containerd.image.name\"]==\$n)][0].digest")" "ctr digest"
	kill "$(cat "$d/pid")"
' containerd ctr jq

expect_success 'adding an image with the same tag keeps the others (item 1)' '
	decant convert -q --image @0 --tag ux/app:1 "$TWO" oci:l
	decant convert -q --image @1 --tag ux/flat:1 "$TWO" oci:l
	same "$(refs l)" "$(printf "%s\n" "docker.io/ux/app:1 docker.io/ux/app:1" "docker.io/ux/flat:1 docker.io/ux/flat:1")" refs
	old=$(digest_of l docker.io/ux/app:1)
	decant convert --image @1 --tag ux/app:1 "$TWO" oci:l 2>err
	grep -q "^decant: note: .l.: replaced docker.io/ux/app:1: it was $old" err
	same "$(jq ".manifests|length" l/index.json)" 2 entries
	same "$(digest_of l docker.io/ux/app:1)" "$(digest_of l docker.io/ux/flat:1)" "replaced entry"
	decant verify -q l
' jq

expect_success 'a source ref.name that is a whole reference is kept (item 3)' '
	decant convert -q --image @1 "$TWO" oci:src
	jq ".manifests[0].annotations = {\"org.opencontainers.image.ref.name\": \"localhost/corpus/a-multi:1.0\"}" \
		src/index.json >i && mv i src/index.json
	decant convert -q src oci:out
	same "$(refs out)" "localhost/corpus/a-multi:1.0 localhost/corpus/a-multi:1.0" refs
	skopeo inspect oci:out:localhost/corpus/a-multi:1.0 >/dev/null
	# spelled as the source spelled it, not normalized
	jq ".manifests[0].annotations = {\"org.opencontainers.image.ref.name\": \"decant-test/small:2.0\"}" \
		src/index.json >i && mv i src/index.json
	decant convert -q src oci:out2
	same "$(refs out2)" "decant-test/small:2.0 $SM:2.0" refs
	skopeo inspect oci:out2:decant-test/small:2.0 >/dev/null
	# a name that is no reference is kept as it was
	jq ".manifests[0].annotations = {\"org.opencontainers.image.ref.name\": \"v1\"}" \
		src/index.json >i && mv i src/index.json
	decant convert -q src oci-archive:out.tar
	same "$(tar -xOf out.tar index.json | jq -r ".manifests[0].annotations|to_entries|map(.key+\"=\"+.value)|join(\" \")")" \
	     "org.opencontainers.image.ref.name=v1" annotations
' skopeo jq

expect_success 'a layout whose blobs directory is a symlink is refused (item 5)' '
	decant convert -q --image @0 "$TWO" oci:l
	mkdir outside
	mv l/blobs/sha256 l/real && ln -s ../../outside l/blobs/sha256
	rc=0 && { decant convert -q --image @1 "$TWO" oci:l 2>err || rc=$?; }
	[ $rc != 0 ] && grep -q "blobs/sha256.: is a symbolic link" err
	same "$(ls outside | wc -l)" 0 "files written outside"
	rm l/blobs/sha256 && mv l/real l/blobs/sha256
	mv l/blobs l/realblobs && ln -s ../outside l/blobs
	rc=0 && { decant convert -q --image @1 "$TWO" oci:l 2>err || rc=$?; }
	[ $rc != 0 ] && grep -q "blobs.: is a symbolic link" err
	same "$(ls outside | wc -l)" 0 "files written outside"
'

expect_success 'a failed add deletes no blob that was there (item 6)' '
	decant convert -q --image @0 "$TWO" oci:l
	# a blob both images share, kept as a symlink inside the layout
	b=$(ls -S l/blobs/sha256 | while read -r f; do
		grep -q "$f" l/blobs/sha256/$(jq -r ".manifests[0].digest[7:]" l/index.json) && echo $f && break; done)
	mv l/blobs/sha256/$b l/keep && ln -s ../../keep l/blobs/sha256/$b
	# index.json as a symlink: the add fails at its very end
	mv l/index.json l/idx.json && ln -s idx.json l/index.json
	! decant convert -q --image @1 "$TWO" oci:l 2>/dev/null
	rm l/index.json && mv l/idx.json l/index.json
	decant verify -q l
' jq

expect_success 'concurrent adds all land (item 7)' '
	for round in 1 2 3; do
		rm -rf l
		decant convert -q --image @1 "$TWO" oci:l
		for k in 1 2 3 4; do
			decant convert -q --image @0 --tag ux/app$k:1 "$TWO" oci:l &
		done
		wait
		same "$(jq ".manifests|length" l/index.json)" 5 "entries after round $round"
		decant verify -q l
	done
' jq

expect_success 'an add waits for the lock on the layout and says so (item 7)' '
	decant convert -q --image @1 "$TWO" oci:l
	flock l sleep 2 &
	sleep 0.5
	decant convert --image @0 "$TWO" oci:l 2>err
	wait
	grep -q "^decant: note: .l.: another process is adding to this layout; waiting for it" err
	same "$(jq ".manifests|length" l/index.json)" 3 entries
' flock jq

expect_success 'a blob already there is reused only when its content is right (item 8)' '
	decant convert -q --image @0 "$TWO" oci:l
	b=$(ls -S l/blobs/sha256 | head -1)
	head -c "$(stat -c %s l/blobs/sha256/$b)" /dev/zero >l/blobs/sha256/$b
	! decant verify -q l 2>/dev/null
	decant convert --image @0 --tag x/y:1 "$TWO" oci:l 2>err
	grep -q "replaced blobs/sha256/$b: its content does not match its digest" err
	grep -q "reused [0-9]* blobs already there, content verified" err
	decant verify -q l
'

expect_success 'oci output of 1,100 blobs at ulimit -n 1024 (item 9)' '
	many_images many.tar 10 110
	many_images bad.tar 10 110 corrupt
	(ulimit -n 1024 && decant convert -q many.tar oci:o)
	decant verify -q o
	same "$(ls o/blobs/sha256 | wc -l)" 1120 blobs
	# a failure still cleans up
	rc=0 && { (ulimit -n 1024 && decant convert -q bad.tar oci:p) 2>err || rc=$?; }
	[ $rc = 1 ] && grep -q "digest" err && ! grep -q "Too many open files" err
	same "$(ls -d p p.tmp-* 2>/dev/null | wc -l)" 0 leftovers
' python3

expect_success 'verify fails on a missing blob at any depth' '
	decant convert -q --image @1 "$TWO" oci:l
	m=$(jq -c ".manifests[0] | del(.annotations)" l/index.json)
	gone="{\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\", \"digest\": \"sha256:$(printf %064d 7)\", \"size\": 10, \"platform\": {\"os\": \"linux\", \"architecture\": \"arm64\"}}"
	# an index listing the manifest and one that is not there ...
	echo "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.index.v1+json\", \"manifests\": [$m, $gone]}" >i1
	h1=$(sha256sum i1 | cut -c1-64) && cp i1 l/blobs/sha256/$h1
	# ... inside another index
	echo "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.index.v1+json\", \"manifests\": [{\"mediaType\": \"application/vnd.oci.image.index.v1+json\", \"digest\": \"sha256:$h1\", \"size\": $(stat -c %s i1)}]}" >i2
	h2=$(sha256sum i2 | cut -c1-64) && cp i2 l/blobs/sha256/$h2
	for h in $h1 $h2; do
		cp -r l l$h
		echo "{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"application/vnd.oci.image.index.v1+json\", \"digest\": \"sha256:$h\", \"size\": $(stat -c %s l/blobs/sha256/$h)}]}" >l$h/index.json
		rc=0 && { decant verify l$h 2>err || rc=$?; }
		[ $rc = 1 ] && grep -q "$(printf %064d 7).* blob missing" err
	done
' jq

finish
