#!/usr/bin/env bash
# Flat rootfs tars (`docker export`, or any tar of files) as input: one image
# whose one layer is the whole tar, with a config like `docker import`'s.
# Checked with umoci (the unpacked tree is the source tree), against dockerd
# 20.10's own `docker import` (the committed fixture in testdata/flat/ and a
# live one), and by loading the result in a private dockerd (its config and
# its files, read without starting a container).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd.sh"

FLAT=$TESTDATA/flat

# The source tree: the busybox base layer of the docker-1.10 fixture (bin/sh
# and bin/cat are symlinks to bin/busybox) plus files, a relative and an
# absolute symlink, a hard link, an empty dir and unusual modes.
SRC=$T/src
mkdir -p "$SRC"
base=$(tar -xOf "$TESTDATA/docker-1.10/multilayer.tar" manifest.json | jq -r '.[0].Layers[0]')
tar -xOf "$TESTDATA/docker-1.10/multilayer.tar" "$base" | tar -xpf - -C "$SRC"
printf 'hello from a flat rootfs\n' >"$SRC/hello.txt"
mkdir -p "$SRC/srv/private" "$SRC/srv/empty"
printf 'secret\n' >"$SRC/srv/private/key"
chmod 0600 "$SRC/srv/private/key"
chmod 0750 "$SRC/srv/private"
printf '#!/bin/sh\necho run\n' >"$SRC/srv/run.sh"
chmod 0755 "$SRC/srv/run.sh"
ln -s ../hello.txt "$SRC/srv/rel-link"
ln -s /hello.txt "$SRC/srv/abs-link"
ln "$SRC/srv/run.sh" "$SRC/srv/run-hard.sh"
# GNU tar, "./"-prefixed names, as `tar -C dir .` makes them
tar -C "$SRC" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime=@946684800 -cf "$T/flat.tar" .
gzip -n -c "$T/flat.tar" >"$T/flat.tar.gz"
bzip2 -c "$T/flat.tar" >"$T/flat.tar.bz2"
xz -c "$T/flat.tar" >"$T/flat.tar.xz"
zstd -q -c "$T/flat.tar" >"$T/flat.tar.zst"
FLAT_SHA=sha256:$(sha256sum "$T/flat.tar" | cut -d' ' -f1)
export FLAT SRC FLAT_SHA

# A tree's names, types, modes, owners and link targets, and file contents.
tree_of() {
	(cd "$1" && find . -mindepth 1 -printf '%P %y %m %U:%G %l\n' | LC_ALL=C sort &&
		find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}
# The config of the first image of an OCI layout, raw.
oci_config() {
	m=$(jq -r '.manifests[0].digest' "$1/index.json")
	c=$(jq -r '.config.digest' "$1/blobs/sha256/${m#sha256:}")
	cat "$1/blobs/sha256/${c#sha256:}"
}
# The changes of the fixture, as --change arguments in the array CH.
fixture_changes() {
	CH=()
	while IFS= read -r c; do CH+=(--change "$c"); done <"$FLAT/changes.txt"
}

expect_success 'a plain tar reads as rootfs: one image, one layer that is the whole tar' '
	decant inspect --json "$T/flat.tar" >i.json
	jq -e ".format == \"rootfs\" and (.images | length) == 1" i.json
	jq -e --arg d "$FLAT_SHA" ".images[0].layers == [{digest: \$d,
		mediaType: \"application/vnd.oci.image.layer.v1.tar\",
		size: $(stat -c %s "$T/flat.tar"), diffId: \$d, compression: \"none\",
		createdBy: null}]" i.json
	jq -e ".images[0].tags == [] and .images[0].platform != \"\"" i.json
	decant inspect "$T/flat.tar" | grep -q "(rootfs)"
' jq

expect_success 'rootfs -> oci: the layer blob is the source tar; umoci unpacks the same tree' '
	decant convert --tag decant-test/flat:1 "$T/flat.tar" oci:out
	blobs_ok out
	cmp "$T/flat.tar" "out/blobs/sha256/${FLAT_SHA#sha256:}"
	[ "$(ls out/blobs/sha256 | wc -l)" = 3 ]
	umoci unpack --image out:docker.io/decant-test/flat:1 bundle >/dev/null
	tree_of "$SRC" >want
	tree_of bundle/rootfs >got
	diff -u want got
	# the hard link is one file in the unpacked tree
	[ "$(stat -c %i bundle/rootfs/srv/run.sh)" = "$(stat -c %i bundle/rootfs/srv/run-hard.sh)" ]
	[ "$(readlink bundle/rootfs/bin/sh)" = busybox ]
' umoci jq

expect_success 'a real docker export reads as the config docker import makes of it (testdata/flat)' '
	fixture_changes
	decant convert "${CH[@]}" "$FLAT/docker-export.tar" oci:out
	oci_config out >got.json
	# the same bytes but for the time (decant: SOURCE_DATE_EPOCH, docker:
	# now) and docker_version (which Docker 29 dropped too)
	norm() { sed -e "s/\"created\":\"[^\"]*\"/\"created\":\"T\"/g" -e "s/\"docker_version\":\"[^\"]*\",//"; }
	norm <"$FLAT/docker-import.config.json" >want.norm
	norm <got.json >got.norm
	diff -u want.norm got.norm
	# without SOURCE_DATE_EPOCH: the newest mtime in the tar
	newest=$(TZ=UTC tar --full-time -tvf "$FLAT/docker-export.tar" | awk "{print \$4 \"T\" \$5 \"Z\"}" | sort | tail -n1)
	grep -q "\"created\":\"$newest\"" got.json
	cmp "$FLAT/docker-export.tar" "out/blobs/sha256/$(sha256sum "$FLAT/docker-export.tar" | cut -d" " -f1)"
'

expect_success 'gzip, bzip2, xz and zstd wrappers and stdin give the same image' '
	decant inspect --json "$T/flat.tar" | jq -r ".images[0].manifest.digest" >want
	for f in flat.tar.gz flat.tar.bz2 flat.tar.xz flat.tar.zst; do
		decant inspect --json "$T/$f" | jq -r ".images[0].manifest.digest" >got
		cmp want got || { echo "$f differs"; exit 1; }
	done
	cat "$T/flat.tar.gz" | decant convert - oci:out
	jq -r ".manifests[0].digest" out/index.json >got
	cmp want got
	blobs_ok out
	cmp "$T/flat.tar" "out/blobs/sha256/${FLAT_SHA#sha256:}"
	cat "$T/flat.tar.zst" | decant convert - oci-archive:out.tar
	tar -xOf out.tar index.json | jq -r ".manifests[0].digest" >got
	cmp want got
' jq

expect_success 'deterministic: two runs are byte-identical; SOURCE_DATE_EPOCH sets created' '
	decant convert --change "CMD [\"/bin/true\"]" "$T/flat.tar" oci-archive:a.tar
	decant convert --change "CMD [\"/bin/true\"]" "$T/flat.tar.xz" oci-archive:b.tar
	cmp a.tar b.tar
	decant convert "$T/flat.tar" docker-archive:c.tar
	decant convert "$T/flat.tar" docker-archive:d.tar
	cmp c.tar d.tar
	SOURCE_DATE_EPOCH=1700000000 decant convert "$T/flat.tar" oci:e
	oci_config e | jq -e ".created == \"2023-11-14T22:13:20Z\" and
		.history == [{created: \"2023-11-14T22:13:20Z\", comment: \"Imported from -\"}]"
	mkdir x && tar -xf a.tar -C x
	newest=$(TZ=UTC tar --full-time -tvf "$T/flat.tar" | awk "{print \$4 \"T\" \$5 \"Z\"}" | sort | tail -n1)
	oci_config x | jq -e ".created == \"$newest\""
' jq

expect_success '--platform linux/arm64/v8 ends up in the config and in inspect' '
	decant convert --platform linux/arm64/v8 "$T/flat.tar" oci:out
	oci_config out | jq -e ".os == \"linux\" and .architecture == \"arm64\" and .variant == \"v8\""
	decant inspect --json out | jq -e ".images[0].platform == \"linux/arm64/v8\""
	decant convert --platform linux/x86_64 "$T/flat.tar" oci:amd
	oci_config amd | jq -e ".architecture == \"amd64\" and (has(\"variant\") | not)"
	decant convert --platform linux/arm "$T/flat.tar" oci:arm
	oci_config arm | jq -e ".architecture == \"arm\" and .variant == \"v7\""
	# the default is the host, in Go terms
	case $(uname -m) in
	x86_64) want=amd64 ;; aarch64) want=arm64 ;; *) want= ;;
	esac
	decant convert "$T/flat.tar" oci:host
	[ -z "$want" ] || oci_config host | jq -e --arg a "$want" ".architecture == \$a and .os == \"linux\""
' jq

expect_success '--change variants end up in the config' '
	decant convert \
		--change "ENV A=1 B=\"two words\"" --change "ENV C=\${A}x" \
		--change "LABEL org.example.k=v" --change "EXPOSE 80 443/udp" \
		--change "VOLUME /data /logs" --change "USER 1000:1000" \
		--change "WORKDIR /app" --change "WORKDIR sub" \
		--change "STOPSIGNAL SIGINT" --change "ENTRYPOINT [\"/bin/sh\"]" \
		--change "cmd echo hi" \
		--change "HEALTHCHECK --interval=30s --retries=2 CMD [\"/bin/true\"]" \
		--change "ONBUILD RUN true" "$T/flat.tar" oci:out
	oci_config out | jq -c .config >cfg.json
	cat cfg.json
	jq -e ".Env == [\"A=1\", \"B=two words\", \"C=1x\"] and
		.Labels == {\"org.example.k\": \"v\"} and
		.ExposedPorts == {\"443/udp\": {}, \"80/tcp\": {}} and
		.Volumes == {\"/data\": {}, \"/logs\": {}} and
		.User == \"1000:1000\" and .WorkingDir == \"/app/sub\" and
		.StopSignal == \"SIGINT\" and .Entrypoint == [\"/bin/sh\"] and
		.Cmd == [\"/bin/sh\", \"-c\", \"echo hi\"] and
		.Healthcheck == {Test: [\"CMD\", \"/bin/true\"], Interval: 30000000000, Retries: 2} and
		.OnBuild == [\"RUN true\"]" cfg.json
	# no change: every field zero, as Go writes it
	decant convert "$T/flat.tar" oci:zero
	oci_config zero | jq -e ".config == .container_config and .config.Env == null and .config.Cmd == null"
' jq

expect_success 'bad --change and --platform: exit 2, the exact message, nothing written' '
	printf "decant: error: --change '\''FOO x'\'': unknown instruction\n" >want
	check_error 2 want convert --change "FOO x" "$T/flat.tar" oci:out
	no_leftovers out
	printf "decant: error: --change '\''RUN true'\'': RUN is not allowed in a change (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)\n" >want
	check_error 2 want convert --change "RUN true" "$T/flat.tar" oci-archive:out.tar
	no_leftovers out.tar
	printf "decant: error: --change '\''EXPOSE http'\'': invalid port '\''http'\''\n" >want
	check_error 2 want convert --change "ENV A=1" --change "EXPOSE http" "$T/flat.tar" oci:out
	printf "decant: error: --platform '\''linux'\'': expected OS/ARCH[/VARIANT]\n" >want
	check_error 2 want convert --platform linux "$T/flat.tar" oci:out
	no_leftovers out
	[ -z "$(ls -A | grep -v -x want)" ] || { ls -la; exit 1; }
'

expect_success '--change edits the config of other sources; --platform selects there' '
	decant convert -q --change "CMD x" "$TESTDATA/oci/skopeo.tar" oci:out
	blobs_ok out
	rm -rf out
	decant convert -q --platform linux/amd64 "$TESTDATA/docker-1.10/multilayer.tar" oci:out
	blobs_ok out
	rc=0
	decant convert -q --platform linux/arm64 "$TESTDATA/docker-1.10/multilayer.tar" oci:none 2>err || rc=$?
	[ "$rc" = 2 ] && grep -q "no image for" err
	no_leftovers none
'

expect_success 'the rootfs: prefix asserts the format, both ways' '
	decant convert "rootfs:$T/flat.tar.gz" oci:out
	blobs_ok out
	rc=0
	decant convert "rootfs:$TESTDATA/docker-1.10/multilayer.tar" oci:x 2>err || rc=$?
	[ "$rc" = 1 ] && grep -q "not a .rootfs. source (it reads as docker-archive)" err || { cat err; exit 1; }
	rc=0
	decant convert "oci:$T/flat.tar" oci:x 2>err || rc=$?
	[ "$rc" = 1 ] && grep -q "not a .oci. source (it reads as rootfs)" err || { cat err; exit 1; }
	rc=0
	decant convert "docker-archive:$T/flat.tar" oci:x 2>err || rc=$?
	[ "$rc" = 1 ] && grep -q "(it reads as rootfs)" err || { cat err; exit 1; }
	no_leftovers x
'

expect_success 'verify reads the layer; rootfs -> rootfs keeps the tree' '
	decant verify "$T/flat.tar.zst" >out.txt
	grep -q "ok: 1 image, 1 layer verified" out.txt
	decant convert "$T/flat.tar" rootfs:again.tar
	mkdir again && tar -xpf again.tar -C again
	tree_of "$SRC" >want
	tree_of again >got
	diff -u want got
'

# --- a private dockerd: the result loads, with its config and files ---------

DK=""
if have dockerd && have docker; then
	DK=$(mktemp -d /tmp/dk.XXXXXX)
	at_exit "dockerd_stop $DK; rm -rf $DK"
	if ! dockerd_start "$DK"; then
		echo "# dockerd_start failed in $DK"
		export DOCKER_HOST="unix://$DK/no-daemon"
	fi
fi

expect_success 'docker-archive with --change CMD loads in dockerd, its command reads its file' '
	decant convert --tag decant-test/flat:1 --change "CMD [\"/bin/cat\",\"/hello.txt\"]" \
		"$T/flat.tar.gz" docker-archive:out.tar
	docker load -i out.tar >load.out
	grep -qx "Loaded image: decant-test/flat:1" load.out
	image_says docker decant-test/flat:1 "$SRC/hello.txt"
	# the image ID docker reports is the config digest
	id=$(docker inspect -f "{{.Id}}" decant-test/flat:1)
	[ "$id" = "$(decant inspect --json out.tar | jq -r ".images[0].id")" ]
' dockerd docker jq

expect_success 'shell-form CMD, ENV, WORKDIR and USER: the config dockerd loads' '
	decant convert --tag decant-test/flat:2 --change "ENV GREETING=hi" \
		--change "WORKDIR /srv" --change "USER 1234" \
		--change "CMD echo \$GREETING; pwd; id -u" "$T/flat.tar" docker-archive:out.tar
	docker load -i out.tar >/dev/null
	docker image inspect decant-test/flat:2 |
		jq -c ".[0].Config | [.Cmd, (.Env | index(\"GREETING=hi\") != null), .WorkingDir, .User]" >got
	echo "[[\"/bin/sh\",\"-c\",\"echo \$GREETING; pwd; id -u\"],true,\"/srv\",\"1234\"]" >want
	diff -u want got
' dockerd docker jq

expect_success 'a fresh docker export reads back to what docker import makes of it' '
	docker load -i "$TESTDATA/docker-1.10/multilayer.tar" >/dev/null
	cid=$(docker create decant-test/multi:1.0)
	docker export -o exp.tar "$cid"
	docker rm "$cid" >/dev/null
	fixture_changes
	decant convert --tag decant-test/exp:1 "${CH[@]}" --change "CMD /bin/cat /hello.txt" \
		--change "ENTRYPOINT []" exp.tar docker-archive:out.tar
	docker load -i out.tar >/dev/null
	docker import "${CH[@]}" --change "CMD /bin/cat /hello.txt" --change "ENTRYPOINT []" \
		exp.tar decant-test/docker-imported:1 >/dev/null
	# the same layer and the same container config
	for f in "{{json .RootFS.Layers}}" "{{json .Config}}" "{{.Os}}/{{.Architecture}}"; do
		a=$(docker image inspect -f "$f" decant-test/exp:1)
		b=$(docker image inspect -f "$f" decant-test/docker-imported:1)
		[ "$a" = "$b" ] || { echo "$f: decant $a, docker $b"; exit 1; }
	done
	[ "$(docker image inspect -f "{{index .RootFS.Layers 0}}" decant-test/exp:1)" = \
	  "sha256:$(sha256sum exp.tar | cut -d" " -f1)" ]
	image_says docker decant-test/exp:1 "$TESTDATA/expected/multilayer.txt"
' dockerd docker jq

# Change sets (one change per line, sets separated by "--") that decant must
# turn into the very config dockerd 20.10 makes, or refuse as it does.
cat >"$T/change-sets" <<'SETS'
CMD []
--
CMD
--
ENTRYPOINT []
--
CMD ["x"]
ENTRYPOINT
--
CMD [ "a" , "b" ] trailing
--
ENV k hello   world
--
ENV a=1 b=$a
--
ENV a="x y" b=a\ b c=\"q\" d='$HOME' e="$NOPE-"
--
ENV x=1
ENV a=${x:-def} b=${x:+alt} c=$x$x d=${y:-def} e=${y:+alt}
--
ENV p="a\"b\\c\d" e= f=$
--
LABEL "a b"=c d="multi word" legacy
--
LABEL k the rest of the line
--
EXPOSE 80 443/udp 53/UDP 8000-8002 1.2.3.4:8080:81/udp 90:91
--
VOLUME /a /b
VOLUME ["/x", "/y"]
--
USER a b
--
WORKDIR /a
WORKDIR b/../c
WORKDIR ./d/
--
WORKDIR /abs//kept/
--
ENV HOME=/h
WORKDIR $HOME/x
USER ${U:-nobody}
--
HEALTHCHECK NONE
--
HEALTHCHECK --interval=5m --timeout=3s --start-period=1.5s --retries=3 CMD ["/bin/true"]
--
HEALTHCHECK --interval=1h30m10ms cmd curl -f http://x/
--
ONBUILD RUN echo hi  
onbuild   COPY . /src
--
cmd echo lower
--
CMD -- --x
--
CMD [1]
--
ENV =x
--
EXPOSE 70000
--
VOLUME [""]
--
HEALTHCHECK --interval=0 CMD x
--
ENV a=${b:?oops}
--
FOO x
SETS

expect_success 'change sets give the config docker import makes, or fail as it does' '
	tar -C "$SRC" -cf tiny.tar hello.txt
	ok=0
	while :; do
		args=()
		while IFS= read -r l && [ "$l" != "--" ]; do args+=(--change "$l"); done
		[ ${#args[@]} -gt 0 ] || break
		rm -rf out
		drc=0; docker import "${args[@]}" tiny.tar decant-test/diff:1 >/dev/null 2>derr || drc=$?
		orc=0; decant convert "${args[@]}" tiny.tar oci:out 2>oerr || orc=$?
		if [ $drc != 0 ] || [ $orc != 0 ]; then
			[ $drc != 0 ] && [ $orc = 2 ] ||
				{ echo "${args[*]}: docker $drc, decant $orc"; cat derr oerr; exit 1; }
			continue
		fi
		docker save decant-test/diff:1 >save.tar
		c=$(tar -xOf save.tar manifest.json | jq -r ".[0].Config")
		want=$(tar -xOf save.tar "$c" | jq -c .config)
		got=$(oci_config out | jq -c .config)
		[ "$want" = "$got" ] ||
			{ echo "${args[*]}:"; echo "docker $want"; echo "decant $got"; exit 1; }
		ok=$((ok + 1))
	done <"$T/change-sets"
	[ $ok -gt 20 ]
' dockerd docker jq

finish
