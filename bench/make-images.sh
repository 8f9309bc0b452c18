#!/bin/bash
# bench/make-images.sh [OUTDIR]
#
# Builds the benchmark images deterministically, with no network except apt:
#
#   OUTDIR/big.tar      ~1.0 GB docker save (Docker 1.10-24 layout), 5 layers,
#                       33,503 files, made from the contents of real Debian
#                       packages (apt-get download + dpkg-deb -x)
#   OUTDIR/small64.tar  docker save of 64 small layers (3 files each)
#
# The .deb files are cached in OUTDIR/debs. Every step is skipped when its
# output is already there; delete a file to rebuild it. The package versions
# are pinned (PKGS below); when the Debian mirror drops one of them, the
# download fails and says so: update the pin, and the image's digest changes.
#
# Requires: apt-get, dpkg-deb, GNU tar, sha256sum. Runs as any user that can
# write OUTDIR (apt-get download does not need root).
set -euo pipefail

OUTDIR=${1:-/var/tmp/decant-bench}
DEBS=$OUTDIR/debs
WORK=$OUTDIR/work

# package=version (Debian 12 "bookworm" main/security, amd64)
PKGS=(
	linux-headers-6.1.0-55-common=6.1.192-1
	ruby3.1-doc=3.1.7+really3.1.2-0+deb12u1
	golang-1.19-src=1.19.8-2
	golang-1.19-go=1.19.8-2
	libllvm15=1:15.0.6-4+b1
	libclang1-15=1:15.0.6-4+b1
	firefox-esr=153.7.0esr-1~deb12u1
)
# layer N (1-based) = these packages; layer 5 also deletes
# usr/share/go-1.19/test (from layer 2) with a whiteout, like an
# "rm -rf tests" step in a Dockerfile.
LAYER_PKGS=(
	"linux-headers-6.1.0-55-common ruby3.1-doc"
	"golang-1.19-src"
	"golang-1.19-go"
	"libllvm15 libclang1-15"
	"firefox-esr"
)

# Deterministic tar: sorted names, fixed times and owners, no PAX headers
# that carry the pid or atime/ctime.
dtar() {
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
	    --format=pax \
	    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	    "$@"
}

log() { printf 'make-images: %s\n' "$*" >&2; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

fetch_debs() {
	mkdir -p "$DEBS"
	local spec pkg ver fver f missing=()
	for spec in "${PKGS[@]}"; do
		pkg=${spec%%=*}
		ver=${spec#*=}
		fver=${ver/:/%3a}
		f=$(ls "$DEBS/${pkg}_${fver}_"*.deb 2>/dev/null | head -1 || true)
		[ -n "$f" ] || missing+=("$spec")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "apt-get download ${missing[*]}"
		(cd "$DEBS" && apt-get download "${missing[@]}") || {
			log "apt-get download failed; is a pinned version gone from the mirror?"
			log "see 'apt-cache policy PKG' and update PKGS in $0"
			exit 1
		}
	fi
}

deb_of() {	# package name -> cached .deb path
	local spec ver
	for spec in "${PKGS[@]}"; do
		if [ "${spec%%=*}" = "$1" ]; then
			ver=${spec#*=}
			ls "$DEBS/${1}_${ver/:/%3a}_"*.deb
			return
		fi
	done
	log "no pinned version for $1"
	exit 1
}

# assemble_save OUT NAME:TAG LAYERTAR... : a Docker 1.10-24 "docker save"
# archive (<v1id>/{VERSION,json,layer.tar}, <config>.json, manifest.json,
# repositories) around the given layer tars. Each layer's history entry says
# what it holds (HISTORY_N variables, optional).
assemble_save() {
	local out=$1 ref=$2
	shift 2
	local name=${ref%:*} tag=${ref##*:}
	local stage=$out.stage
	rm -rf "$stage"
	mkdir -p "$stage"

	local diffids="" hist="" parent="" v1id="" layers="" i=0 lt d
	for lt in "$@"; do
		i=$((i + 1))
		d=$(sha256 "$lt")
		v1id=$(printf '%s\n%s\n' "$parent" "$d" | sha256sum | cut -d' ' -f1)
		mkdir "$stage/$v1id"
		ln "$lt" "$stage/$v1id/layer.tar" 2>/dev/null || cp "$lt" "$stage/$v1id/layer.tar"
		printf '1.0' >"$stage/$v1id/VERSION"
		if [ -n "$parent" ]; then
			printf '{"id":"%s","parent":"%s","created":"1970-01-01T00:00:00Z","container_config":{"Cmd":null},"os":"linux"}' \
				"$v1id" "$parent" >"$stage/$v1id/json"
		else
			printf '{"id":"%s","created":"1970-01-01T00:00:00Z","container_config":{"Cmd":null},"os":"linux"}' \
				"$v1id" >"$stage/$v1id/json"
		fi
		local hv="HISTORY_$i"
		diffids+="${diffids:+,}\"sha256:$d\""
		hist+="${hist:+,}{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"/bin/sh -c #(nop) ADD ${!hv:-layer $i} /\"}"
		layers+="${layers:+,}\"$v1id/layer.tar\""
		parent=$v1id
	done

	local config
	config=$(printf '{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"created":"1970-01-01T00:00:00Z","history":[%s],"os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$hist" "$diffids")
	local chex
	chex=$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)
	printf '%s' "$config" >"$stage/$chex.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' \
		"$chex" "$ref" "$layers" >"$stage/manifest.json"
	printf '{"%s":{"%s":"%s"}}\n' "$name" "$tag" "$v1id" >"$stage/repositories"

	(cd "$stage" && dtar -cf "$out.tmp" -- *)
	mv "$out.tmp" "$out"
	rm -rf "$stage"
}

make_big() {
	local out=$OUTDIR/big.tar
	if [ -s "$out" ]; then
		log "$out exists, skipped"
		return
	fi
	fetch_debs
	rm -rf "$WORK"
	mkdir -p "$WORK"
	local i pkg layers=()
	for i in 1 2 3 4 5; do
		local root=$WORK/layer$i
		mkdir -p "$root"
		for pkg in ${LAYER_PKGS[$((i - 1))]}; do
			log "layer $i: dpkg-deb -x $pkg"
			dpkg-deb -x "$(deb_of "$pkg")" "$root"
		done
		if [ "$i" = 5 ]; then
			mkdir -p "$root/usr/share/go-1.19"
			: >"$root/usr/share/go-1.19/.wh.test"
		fi
		log "layer $i: tar"
		(cd "$root" && dtar -cf "$WORK/layer$i.tar" -- *)
		rm -rf "$root"
		layers+=("$WORK/layer$i.tar")
		export "HISTORY_$i=${LAYER_PKGS[$((i - 1))]// /+}"
	done
	log "assembling $out"
	assemble_save "$out" bench/big:latest "${layers[@]}"
	rm -rf "$WORK"
}

make_small64() {
	local out=$OUTDIR/small64.tar
	if [ -s "$out" ]; then
		log "$out exists, skipped"
		return
	fi
	fetch_debs
	rm -rf "$WORK"
	mkdir -p "$WORK/src"
	log "small64: 64 layers of 3 files from linux-headers"
	dpkg-deb -x "$(deb_of linux-headers-6.1.0-55-common)" "$WORK/src"
	local files=()
	mapfile -t files < <(cd "$WORK/src" &&
		find usr/src/linux-headers-6.1.0-55-common/include/uapi/linux \
		     -type f -name '*.h' | LC_ALL=C sort | head -192)
	local i j layers=()
	for i in $(seq 1 64); do
		local root=$WORK/l$i
		mkdir -p "$root"
		for j in 0 1 2; do
			local f=${files[$(((i - 1) * 3 + j))]}
			mkdir -p "$root/$(dirname "$f")"
			cp -p "$WORK/src/$f" "$root/$f"
		done
		(cd "$root" && dtar -cf "$WORK/l$i.tar" -- *)
		rm -rf "$root"
		layers+=("$WORK/l$i.tar")
		unset "HISTORY_$i"
	done
	assemble_save "$out" bench/small64:latest "${layers[@]}"
	rm -rf "$WORK"
}

mkdir -p "$OUTDIR"
make_big
make_small64
for f in big.tar small64.tar; do
	printf '%s  %s  %s bytes\n' "$(sha256 "$OUTDIR/$f")" "$OUTDIR/$f" \
		"$(stat -c %s "$OUTDIR/$f")"
done
