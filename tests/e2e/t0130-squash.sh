#!/usr/bin/env bash
# --squash / --squash-last without docker.
#
# Oracle: `umoci unpack` of the UNSQUASHED image, made an OCI layout by
# skopeo (not by decant), is the reference filesystem; the squashed image,
# unpacked by umoci the same way, must give the identical
# tests/e2e/squash/tree.py listing: every path with type, mode incl.
# setuid/setgid, uid:gid, size, content sha256, symlink target, hardlink
# group, xattrs (hex), device numbers, and the mtime of non-directories.
#
# No exception to "identical" is needed: umoci 0.4.7 running as root keeps
# device nodes, FIFOs, xattrs (security.capability, user.*), setuid bits,
# non-UTF-8 names and hardlink inodes (a hardlink to a lower layer's file is
# a link(2) in the rootfs, so it shares the inode, as in overlayfs).
# Directory mtimes are never compared (tree.py prints '-' for them): an
# unpacker touches a directory whenever it adds or removes a child.
#
# umoci applies whiteouts as image-spec layer.md says (checked first, in
# test 2): a whiteout hides lower layers only, so an upper file in the same
# layer survives whichever comes first in the tar; the opaque marker hides
# only lower-layer children. (Moby's UnpackLayer is order-dependent there;
# docker itself never writes a file and its whiteout in one
# layer, and t0135 compares against real docker.)
#
# The crafted images come from tests/e2e/squash/mklayers.py (deterministic).
. "$(dirname "$0")/lib.sh"

SQ=$TOP/tests/e2e/squash
FX=$T/fx                      # shared across tests: crafted images + references
mkdir -p "$FX"
GGCR=$SAMPLES/google+go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar
DIVE=$SAMPLES/wagoodman+dive/.data/test-docker-image.tar

tree() { python3 "$SQ/tree.py" --mtime "$1"; }

# Paths inside an OCI layout DIR (first manifest of index.json).
manifest_of() { echo "$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)"; }
config_of() { echo "$1/blobs/sha256/$(jq -r '.config.digest' "$(manifest_of "$1")" | cut -d: -f2)"; }
top_layer_of() { echo "$1/blobs/sha256/$(jq -r '.layers[-1].digest' "$(manifest_of "$1")" | cut -d: -f2)"; }
refname_of() { jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$1/index.json"; }

# unpack OCI_DIR OUT.tree: umoci unpack of the layout's first image, listed.
unpack() {
	rm -rf "$2.bundle"
	umoci unpack --image "$1:$(refname_of "$1")" "$2.bundle" >"$2.umoci.log" 2>&1 ||
		{ cat "$2.umoci.log"; echo "umoci unpack of $1 failed"; return 1; }
	tree "$2.bundle/rootfs" >"$2"
	rm -rf "$2.bundle"
}

# reference DOCKER_ARCHIVE OUT.tree: skopeo -> OCI, umoci unpack, list.
reference() {
	rm -rf "$2.oci"
	skopeo copy -q "docker-archive:$1" "oci:$2.oci:ref"
	unpack "$2.oci" "$2"
	rm -rf "$2.oci"
}

# same_tree WANT GOT: identical listings, else show the difference.
same_tree() {
	diff -u "$1" "$2" >tree.diff || {
		echo "tree listings differ (- reference, + squashed):"
		head -n 60 tree.diff
		return 1
	}
}

# The config of a docker-archive SRC.
archive_config() { tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Config')"; }

# check_config ORIG_CONFIG OCI_DIR KEEP: the squashed image's config keeps
# the KEEP lower diff_ids and adds one; history keeps every empty_layer entry,
# the KEEP lower layers' entries, and has one entry for the squashed range.
check_config() {
	orig=$1 dir=$2 keep=$3
	cfg=$(config_of "$dir")
	jq -e --argjson k "$keep" --slurpfile o "$orig" '
		($o[0].rootfs.diff_ids) as $od
		| .rootfs.diff_ids | length == $k + 1 and .[:$k] == $od[:$k]' "$cfg" >/dev/null ||
		{ echo "diff_ids: $(jq -c .rootfs.diff_ids "$cfg")"; return 1; }
	jq -e --argjson k "$keep" --slurpfile o "$orig" '
		([$o[0].history[] | select(.empty_layer == true)]) as $oe
		| ([$o[0].history[] | select(.empty_layer != true)]) as $on
		| [.history[] | select(.empty_layer == true)] == $oe
		  and ([.history[] | select(.empty_layer != true)] | length == $k + 1)
		  and ([.history[] | select(.empty_layer != true)][:$k] == $on[:$k])' "$cfg" >/dev/null ||
		{ echo "history:"; jq -c '.history[]' "$cfg"; return 1; }
	# the manifest lists one layer per diff_id; the new diff_id is the
	# uncompressed layer's sha256
	n=$(jq '.layers | length' "$(manifest_of "$dir")")
	[ "$n" = $((keep + 1)) ] || { echo "manifest has $n layers"; return 1; }
	want=$(jq -r '.rootfs.diff_ids[-1]' "$cfg")
	got=sha256:$(zstd -dcf <"$(top_layer_of "$dir")" | gzip -dcf | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || { echo "squashed layer hashes to $got, diff_id $want"; return 1; }
}

# no_whiteouts TARFILE: a squashed layer or rootfs without lower layers
# must not hold a single whiteout.
no_whiteouts() {
	if tar -tf "$1" 2>/dev/null | grep -E '(^|/)\.wh\.'; then
		echo "whiteouts left in $1"
		return 1
	fi
}

TOOLS="python3 umoci skopeo jq zstd gzip"

expect_success 'mklayers.py crafts deterministic images' '
	for i in edge hlgroup hlchain rootopq bigfiles; do
		python3 "$SQ/mklayers.py" --image $i "$FX/$i.tar"
	done
	python3 "$SQ/mklayers.py" again.tar
	cmp "$FX/edge.tar" again.tar
	tar -xOf "$FX/edge.tar" manifest.json | jq -e ".[0].RepoTags == [\"squash/edge:1\"] and (.[0].Layers | length == 6)"
	archive_config "$FX/edge.tar" >"$FX/edge.config.json"
	jq -e "[.history[] | select(.empty_layer == true)] | length == 3" "$FX/edge.config.json"
' python3 jq

expect_success 'reference: umoci applies whiteouts, opaque dirs and links per spec' '
	reference "$FX/edge.tar" "$FX/edge.ref"
	R=$FX/edge.ref
	cat "$R"
	# has PATH TYPE [FIELD=VALUE...] / gone PATH
	has() { line=$(P="$1" awk -F"\t" "\$1 == ENVIRON[\"P\"]" "$R"); [ -n "$line" ] || { echo "missing $1"; return 1; }
		[ "$(echo "$line" | cut -f2)" = "$2" ] || { echo "$1: not type $2: $line"; return 1; }
		shift 2; for kv in "$@"; do f=${kv%%=*} v=${kv#*=}
			[ "$(echo "$line" | cut -f"$f")" = "$v" ] || { echo "$1: field $f != $v: $line"; return 1; }; done; }
	gone() { ! P="$1" awk -F"\t" "\$1 == ENVIRON[\"P\"] || index(\$1, ENVIRON[\"P\"] \"/\") == 1" "$R" | grep -q . || { echo "$1 should be gone"; return 1; }; }
	sha() { printf "%s" "$1" | sha256sum | cut -d" " -f1; }
	gone etc/gone.txt; has etc/passwd f
	gone olddir
	gone opq/old1; gone opq/oldsub/old2; has opq d 3=0750; has opq/new f; has opq/oldsub/new2 f
	gone redo/x; has redo d 3=0700; has redo/y f; has redo/z f
	has f2d d 3=0700; has f2d/inner f
	has d2f f; gone d2f/child; gone d2f/grand
	has sym f 6=$(sha "regular file that was a symlink
")
	has same/a f 6=$(sha "upper a (file before its whiteout)
")
	has same/b f 6=$(sha "upper b (file after its whiteout)
")
	gone hl/victim
	has hl/xlink f 3=0600 7=- 6=$(sha "victim content, deleted in L4
")
	gone ddel; has hl/dlink f 7=- 6=$(sha "ddel/t content
")
	has hl/orig f 3=0640 4=7:8 7=hl/link1; has hl/link2 f 7=hl/link1; has hl/xlink2 f 7=hl/link1
	has etc/chmod-me f 3=0600 4=1000:1000
	has bin d 3=0711; has bin/su f 3=4755; has bin/sg f 3=0755 4=0:42
	has bin/ping f 8=security.capability=0100000200200000000000000000000000000000,user.foo=626172
	has dev/mydev c 6=1,3 3=0666; has dev/fifo p 3=0620
	has "names/caf\xc3\xa9" f 8=user.name=636166c3a9
	has "names/bad-\xff\xfe-name" f
	has long/$(printf "n%.0s" $(seq 150)) f
	grep -q "^long/d\{100\}/e\{100\}/f\{120\}\.txt	f	" "$R"
	has long/hl-to-long f
	has top.txt f
	! grep -q "\.wh\." "$R"
' $TOOLS

expect_success '--squash: umoci unpack equals the unsquashed reference' '
	decant convert --squash "$FX/edge.tar" oci:s
	unpack s got.tree
	same_tree "$FX/edge.ref" got.tree
	check_config "$FX/edge.config.json" s 0
	jq -e ".history[-1].created_by == \"CMD [\\\"/bin/sh\\\"]\" and .history[-1].empty_layer" "$(config_of s)"
	no_whiteouts "$(top_layer_of s)"
	blobs_ok s
' $TOOLS

# Every split point of the 6 layers (N = 6 is a full squash): the kept
# layers are byte-identical, and the squashed layer must keep exactly the
# whiteouts that still hide something in them.
for n in 1 2 3 4 5 6; do
	expect_success "--squash-last $n: same filesystem, diff_ids and history" '
		decant convert --squash-last '"$n"' "$FX/edge.tar" oci:s
		keep=$((6 - '"$n"')); [ $keep -ge 0 ] || keep=0
		unpack s got.tree
		same_tree "$FX/edge.ref" got.tree
		check_config "$FX/edge.config.json" s $keep
		[ $keep -gt 0 ] || no_whiteouts "$(top_layer_of s)"
		blobs_ok s
	' $TOOLS
done

expect_success '--squash-last 7 of 6 layers: a usage error that says why, nothing written' '
	rc=0
	decant convert --squash-last 7 "$FX/edge.tar" oci:s 2>err || rc=$?
	[ $rc = 2 ] && grep -q "has 6 layers (use --squash" err
	[ ! -e s ]
'

expect_success '--squash to docker-archive reads back (skopeo) with the same filesystem' '
	decant convert --squash "$FX/edge.tar" docker-archive:s.tar
	tar -xOf s.tar manifest.json | jq -e ".[0].RepoTags == [\"squash/edge:1\"] and (.[0].Layers | length == 1)"
	reference s.tar got.tree
	same_tree "$FX/edge.ref" got.tree
' $TOOLS

for c in gzip zstd; do
	expect_success "--squash --compress $c: valid $c, +$c media type, same content" '
		c='"$c"'
		decant convert --squash "$FX/edge.tar" oci:plain
		decant convert --squash --compress $c --level 9 --threads 2 "$FX/edge.tar" oci:z
		jq -e ".layers[0].mediaType == \"application/vnd.oci.image.layer.v1.tar+$c\"" "$(manifest_of z)"
		$c -t "$(top_layer_of z)"
		# decompresses to the very bytes of the uncompressed squash
		$c -dc <"$(top_layer_of z)" | cmp - "$(top_layer_of plain)"
		check_config "$FX/edge.config.json" z 0
		blobs_ok z
		# umoci 0.4.7 reads gzip layers but not zstd ones
		if [ $c = gzip ]; then unpack z got.tree; same_tree "$FX/edge.ref" got.tree; fi
	' $TOOLS
done

expect_success '--squash --compress zstd is deterministic (also with --threads 2)' '
	decant convert --squash --compress zstd "$FX/edge.tar" oci:a
	decant convert --squash --compress zstd "$FX/edge.tar" oci:b
	diff -r a b
	decant convert --squash --compress zstd --threads 2 "$FX/edge.tar" oci:c
	decant convert --squash --compress zstd --threads 2 "$FX/edge.tar" oci:d
	diff -r c d
	decant convert --squash --compress zstd "$FX/edge.tar" docker-archive:a.tar
	decant convert --squash --compress zstd "$FX/edge.tar" docker-archive:b.tar
	cmp a.tar b.tar
' $TOOLS

expect_success 'rootfs: output is the reference tree, without whiteouts' '
	decant convert "$FX/edge.tar" rootfs:r.tar
	no_whiteouts r.tar
	mkdir r
	tar --xattrs --xattrs-include="*" --numeric-owner -xpf r.tar -C r 2>tar.err || { cat tar.err; exit 1; }
	tree r >got.tree
	same_tree "$FX/edge.ref" got.tree
	# with --squash too, and zstd-compressed: the same tar inside
	decant convert --squash --compress zstd "$FX/edge.tar" rootfs:r.tar.zst
	zstd -t r.tar.zst
	zstd -dc r.tar.zst | cmp - r.tar
' $TOOLS

# --- hardlinks that lose their target (mklayers.py --image hlgroup/hlchain)

expect_success 'hardlinks sharing a deleted/replaced target stay one inode' '
	reference "$FX/hlgroup.tar" ref.tree
	cat ref.tree
	# the reference: b+c and b2+c2 are groups, w has the old content of v
	grep -q "^b	.*	b	-	" ref.tree
	grep -q "^c	.*	b	-	" ref.tree
	grep -q "^b2	f	0644	.*	b2	-	" ref.tree
	grep -q "^w	f	.*	-	-	" ref.tree
	decant convert --squash "$FX/hlgroup.tar" oci:s
	unpack s got.tree
	same_tree ref.tree got.tree
' $TOOLS

expect_success 'a hardlink to a path that is itself a hardlink entry survives its deletion' '
	reference "$FX/hlchain.tar" ref.tree
	grep -q "^c	f	.*	a	-	" ref.tree
	decant convert --squash "$FX/hlchain.tar" oci:s
	unpack s got.tree
	same_tree ref.tree got.tree
	decant convert --squash-last 2 "$FX/hlchain.tar" oci:s2
	unpack s2 got2.tree
	same_tree ref.tree got2.tree
' $TOOLS

# Output to a file of our own goes through the squash ring: one thread
# hashes it, two write it, with O_DIRECT into a file no one reads back (an
# OCI blob, a rootfs tar), buffered into a spool that a tar writer copies.
# Files of 64 KiB and more in an uncompressed layer of a seekable source
# are read straight into the ring after the header libarchive wrote;
# everything else is streamed. Every way in and out must give the same
# bytes: a pipe (no ring), gzip layers (no byte range to read), an OCI
# directory (a file per layer), a docker-archive (ranges of one file), an
# oci-archive (buffered, into the tar being written), and a tmpfs (another
# file system for O_DIRECT). The tar is not a whole number of 4 KiB blocks, so the padded
# last O_DIRECT write is cut back.
expect_success 'squash copies large files file to file: the same bytes every way' '
	B=$FX/bigfiles.tar
	reference "$B" ref.tree
	grep -q "^gnu/g\{120\}	f	" ref.tree
	grep -q "^big/lnk	f	0640	.*	-	-	" ref.tree
	! grep -q "^big/gone	" ref.tree
	decant convert --squash "$B" oci:s
	unpack s got.tree
	same_tree ref.tree got.tree
	decant convert -q "$B" rootfs:file.tar
	[ $(($(stat -c %s file.tar) % 4096)) != 0 ]
	decant convert -q "$B" rootfs:- | cat >pipe.tar
	cmp file.tar pipe.tar
	decant convert -q --compress gzip "$B" oci:gz
	decant convert -q gz rootfs:gz.tar
	cmp file.tar gz.tar
	decant convert -q "$B" oci:dir
	decant convert -q dir rootfs:dir.tar
	cmp file.tar dir.tar
	# the squashed layer of the layout is that tar, digest and all
	cmp file.tar "$(top_layer_of s)"
	[ "sha256:$(sha256sum <file.tar | cut -d" " -f1)" = "$(jq -r ".rootfs.diff_ids[0]" "$(config_of s)")" ]
	# straight into a tar, at an offset that is no multiple of 4 KiB
	decant convert -q --squash "$B" oci-archive:s.tar
	mkdir sx && tar -xf s.tar -C sx
	cmp file.tar "$(top_layer_of sx)"
	# another file system
	mkdir mnt
	if mount -t tmpfs -o size=64m tmpfs mnt 2>/dev/null; then
		rc=0
		{ decant convert -q "$B" rootfs:mnt/t.tar &&
		  decant convert -q --squash "$B" oci:mnt/s &&
		  decant convert -q --squash "$B" oci-archive:mnt/s.tar &&
		  mkdir mx && tar -xf mnt/s.tar -C mx &&
		  cmp file.tar mnt/t.tar && cmp file.tar "$(top_layer_of mnt/s)" &&
		  cmp file.tar "$(top_layer_of mx)"; } || rc=1
		umount mnt
		[ $rc = 0 ]
	else
		[ "${CI:-}" != true ] || { echo "cannot mount tmpfs under CI"; exit 1; }
		echo "no tmpfs: that part skipped"
	fi
' $TOOLS

# corrupt SRC OUT N PATH: SRC (a docker save) with one byte flipped in the
# middle of PATH's content in layer N, the tars still well-formed.
corrupt() {
	python3 - "$@" <<-'PY'
	import io, json, sys, tarfile
	src, out, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
	data = bytearray(open(src, 'rb').read())
	with tarfile.open(src) as t:
	    m = t.getmember(json.load(t.extractfile('manifest.json'))[0]['Layers'][n])
	with tarfile.open(fileobj=io.BytesIO(bytes(data[m.offset_data:m.offset_data + m.size]))) as l:
	    e = l.getmember(path)
	data[m.offset_data + e.offset_data + e.size // 2] ^= 0x20
	open(out, 'wb').write(data)
	PY
}

# Uncompressed layers are verified by the thread that hashes the squashed
# layer as it is written (compressed ones, or compressed output, by the blob
# pool): either way every byte of every layer counts, the bytes the squash
# drops too, and a failure leaves nothing behind.
expect_success 'a squash verifies every layer, what it drops too: one flipped byte fails it' '
	B=$FX/bigfiles.tar
	L0=$(tar -xOf "$B" manifest.json | jq -r ".[0].Layers[0]")
	L1=$(tar -xOf "$B" manifest.json | jq -r ".[0].Layers[1]")
	q=$(printf "\\047")	# the quote around a name in a message
	corrupt "$B" c-kept.tar 0 big/a		# copied into the squashed layer
	corrupt "$B" c-gone.tar 0 big/gone	# deleted by layer 1: never copied
	corrupt "$B" c-top.tar 1 gnu/after
	for c in kept:$L0 gone:$L0 top:$L1; do
		f=c-${c%%:*}.tar want="$f: $q${c#*:}$q: diff_id mismatch: "
		for dest in oci:o oci-archive:o.tar docker-archive:o.tar; do
			for opt in --squash "--squash --compress gzip"; do
				rc=0
				decant convert -q $opt $f $dest 2>err || rc=$?
				[ $rc = 1 ] && grep -qF "$want" err ||
					{ echo "$opt $f $dest: exit $rc"; cat err; exit 1; }
				no_leftovers "${dest#*:}"
			done
		done
	done
	# from stdin (spooled first), and the top layer only
	rc=0
	decant convert -q --squash - oci:o <c-gone.tar 2>err || rc=$?
	[ $rc = 1 ] && grep -qF "$L0$q: diff_id mismatch: " err
	rc=0
	decant convert -q --squash-last 1 c-top.tar oci:o 2>err || rc=$?
	[ $rc = 1 ] && grep -qF "$L1$q: diff_id mismatch: " err
	no_leftovers o
	# an OCI layout whose first layer has a byte more than its descriptor
	decant convert -q "$B" oci:src
	l=$(jq -r ".layers[0].digest" "$(manifest_of src)")
	n=$(jq -r ".layers[0].size" "$(manifest_of src)")
	printf x >>"src/blobs/sha256/${l#sha256:}"
	rc=0
	decant convert -q --squash src oci:o 2>err || rc=$?
	[ $rc = 1 ] && grep -qF "${l#sha256:}$q: size is $((n + 1)) bytes" err ||
		{ echo "exit $rc"; cat err; exit 1; }
	no_leftovers o
	# and the sound archive still squashes
	decant convert -q --squash "$B" oci:o && blobs_ok o
' python3 jq

# A squash into a tar file goes straight into it: a header block left for
# the member (after a PAX comment that puts its data on a 4 KiB boundary,
# for O_DIRECT), the layer written after it, the header filled in once its
# digest and size are known. Into stdout it is spooled first. Either way the
# tar must be the same bytes, each blob hashing to its name (GNU tar reads
# the members, sha256sum checks them), the squashed layer the same bytes as
# in an OCI directory, and skopeo must read it.
for fmt in oci-archive docker-archive; do
	expect_success "--squash into $fmt: the layer written in place, every blob its digest" '
		fmt='"$fmt"'
		B=$FX/bigfiles.tar
		for c in none gzip zstd; do
			for sq in --squash "--squash-last 1"; do
				rm -rf d x.tar p.tar xd
				decant convert -q $sq --compress $c "$B" oci:d
				decant convert -q $sq --compress $c "$B" $fmt:x.tar
				decant convert -q $sq --compress $c "$B" $fmt:- >p.tar
				# the same bytes: squashes first either way
				cmp x.tar p.tar
				tar -tvf x.tar >x.list
				mkdir xd
				tar -xf x.tar -C xd
				blobs_ok xd
				cmp "$(top_layer_of d)" "$(top_layer_of xd)"
				# its data starts on a 4 KiB boundary (O_DIRECT)
				python3 -c "import sys, tarfile
m = tarfile.open(sys.argv[1]).getmember(sys.argv[2])
sys.exit(m.offset_data % 4096)" x.tar "blobs/sha256/$(basename "$(top_layer_of d)")"
				# skopeo reads it (a docker-archive gives it the
				# uncompressed digests): as many layers
				skopeo copy -q "$fmt:x.tar" dir:sk
				[ "$(jq ".layers | length" sk/manifest.json)" = \
				  "$(jq ".layers | length" "$(manifest_of d)")" ]
				rm -rf sk
			done
		done
		# the squash is the first member after blobs/ and blobs/sha256/
		sed -n 3p x.list | grep -q "blobs/sha256/$(basename "$(top_layer_of d)")$"
	' $TOOLS
done

expect_success "--squash of two images into one tar: both layers written in place" '
	S=$TESTDATA/docker-1.10/two-images.tar
	decant convert -q --squash "$S" oci:d
	# multi (two tags) and small: two squashed layers
	for m in $(jq -r ".manifests[].digest" d/index.json | cut -d: -f2); do
		jq -r ".layers[0].digest" d/blobs/sha256/$m | cut -d: -f2
	done | sort -u >layers
	[ $(wc -l <layers) = 2 ]
	for fmt in oci-archive docker-archive; do
		rm -rf x.tar xd
		decant convert -q --squash "$S" $fmt:x.tar
		mkdir xd
		tar -xf x.tar -C xd
		blobs_ok xd
		for l in $(cat layers); do
			cmp d/blobs/sha256/$l xd/blobs/sha256/$l
			# the squashes are the first blobs of the tar
			tar -tf x.tar | sed -n 3,4p | grep -q "^blobs/sha256/$l$"
		done
		[ $(tar -tf x.tar | grep -c "^blobs/sha256/.") = $(ls xd/blobs/sha256 | wc -l) ]
		# skopeo reads each image out of it
		if [ $fmt = oci-archive ]; then
			refs="docker.io/decant-test/multi:1.0 docker.io/decant-test/small:2.0"; else
			refs="decant-test/multi:1.0 decant-test/small:2.0"; fi
		for ref in $refs; do
			rm -rf sk
			skopeo copy -q "$fmt:x.tar:$ref" oci:sk:x
			jq -r ".manifests[0].digest" sk/index.json
		done
		rm -rf sk
	done
' $TOOLS

expect_success "two images with the same layers: their squash is in the tar once" '
	mkdir a
	tar -xf "$TESTDATA/docker-1.10/multilayer.tar" -C a
	c=$(jq -r ".[0].Config" a/manifest.json)
	jq -c ".config.Labels.other = \"yes\"" "a/$c" >new.json
	h=$(sha256sum new.json | cut -d" " -f1)
	mv new.json "a/$h.json"
	jq -c ". + [.[0] | .Config = \"$h.json\" | .RepoTags = [\"other/img:1\"]]" a/manifest.json >m.json
	mv m.json a/manifest.json
	tar -C a -cf two.tar .
	for fmt in oci-archive docker-archive; do
		rm -rf x.tar p.tar xd
		decant convert -q --squash two.tar $fmt:x.tar
		decant convert -q --squash two.tar $fmt:- >p.tar
		cmp x.tar p.tar
		[ -z "$(tar -tf x.tar | sort | uniq -d)" ]
		mkdir xd
		tar -xf x.tar -C xd
		blobs_ok xd
		[ "$(jq -r ".manifests | length" xd/index.json)" -ge 2 ]
		for m in $(jq -r ".manifests[].digest" xd/index.json | cut -d: -f2); do
			jq -r ".layers[0].digest" xd/blobs/sha256/$m
		done | sort -u >layers
		[ $(wc -l <layers) = 1 ]
	done
	# docker-legacy: one layer.tar; the other image has a symlink to it
	decant convert -q --squash two.tar docker-legacy:x.tar
	decant convert -q --squash two.tar docker-legacy:- | cmp - x.tar
	[ -z "$(tar -tf x.tar | sort | uniq -d)" ]
	[ "$(tar -tvf x.tar | grep -c "^-.*/layer.tar$")" = 1 ]
	[ "$(tar -tvf x.tar | grep -c "^l.*/layer.tar -> ")" = 1 ]
	decant verify x.tar
' $TOOLS

expect_success 'an opaque whiteout at the layer root hides every lower path' '
	reference "$FX/rootopq.tar" ref.tree
	[ "$(cut -f1 ref.tree)" = b ]
	decant convert --squash "$FX/rootopq.tar" oci:s
	unpack s got.tree
	same_tree ref.tree got.tree
' $TOOLS

# --- real images

# squash_matches SRC [SQUASH-OPTION...]: squashing SRC changes nothing that
# umoci unpack shows.
squash_matches() {
	src=$1
	shift
	[ -s ref.tree ] || reference "$src" ref.tree
	rm -rf s
	decant convert "$@" "$src" oci:s
	unpack s got.tree
	same_tree ref.tree got.tree
}

expect_success 'testdata multilayer.tar (docker-built whiteouts, opaque dir): --squash, --squash-last 2/4' '
	src=$TESTDATA/docker-1.10/multilayer.tar
	squash_matches "$src" --squash
	no_whiteouts "$(top_layer_of s)"
	archive_config "$src" >orig.json
	check_config orig.json s 0
	squash_matches "$src" --squash-last 2
	check_config orig.json s 8
	squash_matches "$src" --squash-last 4
	check_config orig.json s 6
	# the facts the fixture was made for
	! grep -q "^etc/remove-me.txt	" ref.tree
	! grep -q "^opt/olddir/x.txt	" ref.tree
	grep -q "^opt/olddir/new.txt	" ref.tree
	grep -q "^data/a.txt	f	0600	" ref.tree
' $TOOLS

expect_success 'ggcr whiteout_dir.tar (dir whiteout, then the dir re-created): --squash' '
	squash_matches "$GGCR" --squash
	[ "$(cut -f1 ref.tree | tr "\n" " ")" = "a a/baz b b/bar " ]
	squash_matches "$GGCR" --squash-last 2
' $TOOLS samples

expect_success 'dive test-docker-image.tar (14 layers, mode-0000 whiteouts): --squash' '
	squash_matches "$DIVE" --squash
	no_whiteouts "$(top_layer_of s)"
	squash_matches "$DIVE" --squash-last 5
' $TOOLS samples

finish
