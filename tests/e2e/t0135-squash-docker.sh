#!/usr/bin/env bash
# --squash / --squash-last against real docker: the result must have
# exactly the filesystem that docker run/docker export shows for the
# original image.
#
# Daemon A (private, fresh) loads testdata/docker-1.10/multilayer.tar and
# builds squash-test/edge:1 on top of it with RUN steps that make docker
# write the hard cases itself (hardlinks whose target is deleted later,
# chmod/chown of lower files, a moved dir, file <-> dir replacements, an
# opaque dir, a device node and a FIFO). Daemon A records, for every image,
# its config and the `docker export` of a container (created, never
# started: no container runtime needed), then `docker save`s them. decant
# squashes the saves (docker-archive output) and a SECOND fresh daemon B
# loads them; config and export must be the same. Exports are compared as `tar -tvf` listings and as tree.py listings
# (content hashes, modes, owners, hardlink groups, xattrs, devices) of the
# export extracted as root. Both leave out what docker adds to every
# container: .dockerenv, etc/hostname, etc/hosts, etc/resolv.conf, etc/mtab,
# dev/*, proc/, sys/; and directory mtimes (the container's init layer
# touches /etc and /dev when it is created).
#
# The daemons use overlay2 (like testdata/make-fixtures.sh: copy-up hardlinks
# and opaque whiteouts) unless DOCKERD_STORAGE_DRIVER says otherwise; if
# overlay2 cannot start, vfs is used.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd.sh"

SQ=$TOP/tests/e2e/squash
FX=$T/fx
mkdir -p "$FX"
export DOCKER_BUILDKIT=0 DOCKER_CLI_HINTS=false
unset DOCKER_CONTEXT

have_docker() { have dockerd && have docker; }

daemon_is_empty() {
	ids=$(docker images -a -q)
	[ -z "$ids" ] || { echo "daemon is not fresh: $ids"; return 1; }
}

# The paths every container gets from docker itself.
EXCL='(\.dockerenv|etc/(hostname|hosts|resolv\.conf|mtab)|dev/.+|proc(/.*)?|sys(/.*)?)'

# export_of IMAGE OUT: OUT.tar (docker export), OUT.list (tar -tvf, sorted by
# name, directory dates blanked), OUT.tree (tree.py of the export extracted
# as root).
export_of() {
	cid=$(docker create "$1")
	docker export -o "$2.tar" "$cid"
	docker rm "$cid" >/dev/null
	tar --numeric-owner -tvf "$2.tar" |
		awk '{ if (substr($1, 1, 1) == "d") { $4 = "-"; $5 = "-" } print }' |
		grep -Ev " (\./)?$EXCL/?( -> .*| link to .*)?\$" |
		sort -k6 >"$2.list"
	rm -rf "$2.root"
	mkdir "$2.root"
	tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$2.tar" -C "$2.root"
	python3 "$SQ/tree.py" --mtime --exclude .dockerenv --exclude etc/hostname \
		--exclude etc/hosts --exclude etc/resolv.conf --exclude etc/mtab \
		--exclude 'dev/*' --exclude proc --exclude sys "$2.root" >"$2.tree"
	rm -rf "$2.root" "$2.tar"
}

# same_export WANT GOT: the listings of two export_of results are equal.
same_export() {
	rc=0
	diff -u "$1.list" "$2.list" >list.diff || { echo "tar -tvf listings differ:"; head -n 40 list.diff; rc=1; }
	diff -u "$1.tree" "$2.tree" >tree.diff || { echo "tree.py listings differ:"; head -n 40 tree.diff; rc=1; }
	return $rc
}

write_dockerfile() {
	mkdir -p "$1"
	cat >"$1/Dockerfile" <<'EOF'
FROM decant-test/multi:1.0
# hardlinks within a layer, and to a lower file (overlay2 copies it up)
RUN echo shared > /h1 && ln /h1 /h2 && ln /h1 /h3 && ln /hello.txt /hl-hello && echo solo > /solo && ln /solo /solo-link
# delete the link targets: h2+h3 stay one inode, hl-hello and solo-link keep the content
RUN rm /h1 /solo /hello.txt
# chmod/chown of lower files and a lower dir; setuid and setgid files
RUN chmod 0640 /etc/decant-base && busybox chown 12:34 /opt/olddir/new.txt && chmod 2750 /data/sub && echo s > /suid && chmod 4755 /suid
# mv a lower dir
RUN busybox mv /data/sub /moved-sub
# file -> dir, dir -> file
RUN rm /dup.txt && mkdir -p /dup.txt/inner && echo in > /dup.txt/inner/f && rm -rf /opt/olddir && echo now-a-file > /opt/olddir
# a dir removed and recreated (opaque with overlay2); a device node, a FIFO
RUN rm -rf /data && mkdir -p /data/sub && echo new > /data/new.txt && mkdir /nodes && busybox mknod /nodes/null c 1 3 && busybox mkfifo /nodes/fifo
ENV SQUASH_TEST=1
CMD ["/bin/sh", "-c", "cat /h2 /h3 /hl-hello /solo-link /dup.txt/inner/f /opt/olddir /data/new.txt; busybox stat -c '%n %a %u:%g %s %F' /h2 /h3 /hl-hello /solo-link /etc/decant-base /opt /moved-sub /moved-sub/c.txt /dup.txt /opt/olddir /nodes/null /nodes/fifo /suid /data /data/sub /etc/remove-me.txt; ls -a /data /opt /moved-sub /"]
EOF
}

TOOLS="dockerd docker python3 jq"

# ------------------------------------------------------------- daemon A
have_docker && fresh_daemon overlay2
expect_success 'daemon A: load multilayer.tar, build squash-test/edge:1, record config + export, save' '
	daemon_is_empty
	docker load -i "$TESTDATA/docker-1.10/multilayer.tar"
	write_dockerfile ctx
	find ctx -exec touch -h -d @946684800 {} +
	docker build -q -t squash-test/edge:1 ctx
	for img in decant-test/multi:1.0 squash-test/edge:1; do
		n=$(echo "$img" | tr /: __)
		export_of "$img" "$FX/$n.orig"
		docker inspect -f "{{json .Config}}" "$img" >"$FX/$n.config"
		docker save -o "$FX/$n.tar" "$img"
	done
	docker inspect -f "{{len .RootFS.Layers}}" squash-test/edge:1 >"$FX/edge.nlayers"
	# the built layers hold what this test is about
	[ "$(cat "$FX/edge.nlayers")" = 16 ]
	l=$FX/squash-test_edge_1.orig.list
	grep -Eq "^-rw-r--r-- 0/0 +7 [^ ]+ [^ ]+ h2\$" "$l"
	grep -Eq "^-rw-r--r-- 0/0 +11 [^ ]+ [^ ]+ opt/olddir\$" "$l"
	if grep " etc/remove-me.txt\$" "$l"; then exit 1; fi
	# docker export shows h2+h3 as one inode: a hardlink in the tar
	grep -q "^h.* h3 link to h2$" "$FX/squash-test_edge_1.orig.list"
' $TOOLS

# decant squashes the saves (no daemon needed).
expect_success 'decant --squash / --squash-last 3 of the saves (docker-archive)' '
	for n in decant-test_multi_1.0 squash-test_edge_1; do
		decant convert --squash --tag squashed/$n:full "$FX/$n.tar" "docker-archive:$FX/$n.full.tar"
		decant convert --squash-last 3 --tag squashed/$n:last3 "$FX/$n.tar" "docker-archive:$FX/$n.last3.tar"
	done
	ls -l "$FX"
' $TOOLS

# ------------------------------------------------------------- daemon B
have_docker && fresh_daemon overlay2
expect_success 'daemon B (fresh) loads the squashed images' '
	daemon_is_empty
	for f in "$FX"/*.full.tar "$FX"/*.last3.tar; do docker load -i "$f"; done
	docker images
	[ "$(docker inspect -f "{{len .RootFS.Layers}}" squashed/decant-test_multi_1.0:full)" = 1 ]
	[ "$(docker inspect -f "{{len .RootFS.Layers}}" squashed/decant-test_multi_1.0:last3)" = 8 ]
	[ "$(docker inspect -f "{{len .RootFS.Layers}}" squashed/squash-test_edge_1:full)" = 1 ]
	[ "$(docker inspect -f "{{len .RootFS.Layers}}" squashed/squash-test_edge_1:last3)" = $(( $(cat "$FX/edge.nlayers") - 2 )) ]
' $TOOLS

for n in decant-test_multi_1.0 squash-test_edge_1; do
	for v in full last3; do
		expect_success "$n $v: the same config, docker export is the same" '
			n='"$n"' v='"$v"'
			img=squashed/$n:$v
			rc=0
			docker inspect -f "{{json .Config}}" "$img" >config
			diff -u "$FX/$n.config" config || rc=1
			export_of "$img" got
			same_export "$FX/$n.orig" got || rc=1
			exit $rc
		' $TOOLS
	done
done

finish
