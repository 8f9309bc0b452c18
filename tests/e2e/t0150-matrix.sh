#!/usr/bin/env bash
# Every reader x every writer on the fixtures. Each output is checked by a
# real consumer (umoci, oci-image-tool, skopeo, podman; docker in the last
# tests), and its merged filesystem must equal the source's, as umoci
# unpacks the source (independently of decant).
. "$(dirname "$0")/lib.sh"
TREE="python3 $TOP/tests/e2e/squash/tree.py"

# reader fixtures: name and path
SOURCES="
docker-1.10:$TESTDATA/docker-1.10/multilayer.tar
docker-1.10-zst:$TESTDATA/docker-1.10/multilayer.tar.zst
containerd:$TESTDATA/containerd/ctr-export.tar
oci-dir:$TESTDATA/oci/skopeo-dir
oci-tar:$TESTDATA/oci/skopeo.tar
pre-1.10:$TESTDATA/legacy/crafted.tar
rootfs:$TESTDATA/flat/docker-export.tar
"
WRITERS="oci oci-archive docker-archive docker-legacy rootfs"

# the reference tree of a source: skopeo (or the tar itself, for rootfs
# and pre-1.10 sources skopeo cannot read) then umoci unpack
reference() {
	name=$1 src=$2 out=$3
	case $name in
	rootfs)
		mkdir -p "$out/rootfs" && tar -C "$out/rootfs" -xpf "$src" ;;
	pre-1.10)
		# Docker's own legacy loader is the reference (t0080); here
		# umoci unpacks decant's plain OCI conversion
		"$DECANT" convert -q "$src" oci:ref-oci &&
		umoci unpack --image "ref-oci:$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' ref-oci/index.json)" \
			"$out" >/dev/null ;;
	oci-dir|oci-tar)
		skopeo copy -q "oci:${src}:1.0" oci:ref-oci:r >/dev/null 2>&1 ||
		skopeo copy -q "oci-archive:${src}:1.0" oci:ref-oci:r >/dev/null
		umoci unpack --image ref-oci:r "$out" >/dev/null ;;
	*)
		f=$src
		case $src in *.zst) zstd -dqc "$src" >src.tar; f=src.tar ;; esac
		skopeo copy -q "docker-archive:$f" oci:ref-oci:r >/dev/null &&
		umoci unpack --image ref-oci:r "$out" >/dev/null ;;
	esac
}

# the merged filesystem of an output, by its consumer
unpack_output() {
	fmt=$1 out=$2 dir=$3
	case $fmt in
	oci)
		oci-image-tool validate --type image "$out" >/dev/null &&
		umoci unpack --image "$out:docker.io/matrix/t:1" "$dir" >/dev/null ;;
	oci-archive)
		skopeo copy -q "oci-archive:$out:docker.io/matrix/t:1" oci:o2:r >/dev/null &&
		umoci unpack --image o2:r "$dir" >/dev/null ;;
	docker-archive|docker-legacy)
		skopeo copy -q "docker-archive:$out" oci:o2:r >/dev/null &&
		umoci unpack --image o2:r "$dir" >/dev/null ;;
	rootfs)
		mkdir -p "$dir/rootfs" && tar -C "$dir/rootfs" -xpf "$out" ;;
	esac
}

for s in $SOURCES; do
	name=${s%%:*} src=${s#*:}
	for w in $WRITERS; do
		ext=; [ $w = oci ] || ext=.tar
		expect_success "$name -> $w: the consumer reads it, same filesystem" '
			reference '"$name"' "'"$src"'" ref
			decant convert -q --image @0 --tag matrix/t:1 "'"$src"'" '"$w"':out'"$ext"'
			unpack_output '"$w"' out'"$ext"' got
			$TREE ref/rootfs >want.txt
			$TREE got/rootfs >got.txt
			diff -u want.txt got.txt
		' umoci skopeo oci-image-tool jq python3
	done
done

# docker: every docker output of every source loads in a fresh daemon,
# and rootfs output equals docker export of the same image
. "$(dirname "$0")/dockerd.sh"
dk=$(mktemp -d /tmp/dkm.XXXXXX)
started=0
if have dockerd && dockerd_start "$dk" >/dev/null 2>&1; then
	started=1
	at_exit "dockerd_stop $dk >/dev/null 2>&1; rm -rf $dk"
fi

expect_success 'rootfs output equals docker export, minus the init files' '
	[ $started = 1 ] || { echo "no dockerd"; exit 1; }
	docker load -q -i $TESTDATA/docker-1.10/multilayer.tar >/dev/null
	c=$(docker create decant-test/multi:1.0)
	docker export $c >export.tar
	docker rm $c >/dev/null
	decant convert -q $TESTDATA/docker-1.10/multilayer.tar rootfs:rootfs.tar
	mkdir a b
	tar -C a -xpf export.tar && tar -C b -xpf rootfs.tar
	x="--exclude .dockerenv --exclude etc/hostname --exclude etc/hosts"
	x="$x --exclude etc/resolv.conf --exclude etc/mtab --exclude dev"
	x="$x --exclude dev/* --exclude proc --exclude sys"
	$TREE $x a >want.txt && $TREE $x b >got.txt
	diff -u want.txt got.txt
' docker dockerd python3

expect_success 'docker outputs of every source load in dockerd, with their files' '
	[ $started = 1 ] || { echo "no dockerd"; exit 1; }
	for s in $SOURCES; do
		name=${s%%:*} src=${s#*:}
		for w in docker-archive docker-legacy; do
			decant convert -q --image @0 --tag "matrix/$name:$w" "$src" $w:o.tar
			docker load -q -i o.tar >/dev/null
			docker image inspect "matrix/$name:$w" >/dev/null
		done
	done
	image_says docker matrix/docker-1.10:docker-legacy $TESTDATA/expected/multilayer.txt
	image_says docker matrix/oci-dir:docker-archive $TESTDATA/expected/multilayer.txt
' docker dockerd jq

expect_success 'gzip and zstd docker-archive outputs load in dockerd, with their files' '
	[ $started = 1 ] || { echo "no dockerd"; exit 1; }
	for c in gzip zstd; do
		decant convert -q --compress $c --squash-last 2 --tag "matrix/$c:1" \
			$TESTDATA/docker-1.10/multilayer.tar docker-archive:c.tar
		docker load -q -i c.tar >/dev/null
		image_says docker matrix/$c:1 $TESTDATA/expected/multilayer.txt
	done
' docker dockerd jq

finish
