#!/usr/bin/env bash
# podman loads what decant writes (docker-archive and oci-archive), sees the
# right image ID and layers and the right files (podman create + export: no
# container started), and runs it (one test).
. "$(dirname "$0")/lib.sh"

ML=$TESTDATA/docker-1.10/multilayer.tar
TWO=$TESTDATA/docker-1.10/two-images.tar
SKD=$TESTDATA/oci/skopeo-dir
ID=$(cat "$TESTDATA/expected/multilayer.id")
SMALL_ID=$(grep '^decant-test/small:2.0 ' "$TESTDATA/expected/two-images.ids" | cut -d' ' -f2)

# Each test gets its own podman storage in its work dir (vfs: no mounts to
# undo). --tmpdir keeps podman out of /run/libpod.
pm() {
	podman --root "$PWD/proot" --runroot "$PWD/prun" --tmpdir "$PWD/ptmp" \
		--storage-driver vfs --events-backend none --cgroup-manager cgroupfs "$@"
}

# pm_run IMAGE: run the image's default command. The sandbox this was
# written in lacks CAP_SYS_RESOURCE, so podman's default rlimits (raised
# above the hard limits) make runc fail; ask for lower ones.
# On a cgroup v1 hybrid host podman cannot start containers at all ("crun:
# cgroups in hybrid mode not supported"): say so.
pm_run() {
	pm run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$1" 2>pm_run.err || {
		cat pm_run.err
		if grep -q "hybrid mode not supported" pm_run.err; then
			echo "podman cannot start containers on this host (cgroup v1 hybrid)"
		fi
		return 1
	}
}

fail() { echo "$*"; return 1; }
same() {
	[ "$1" = "$2" ] || { printf '%s\n  got:  %s\n  want: %s\n' "${3:-mismatch}" "$1" "$2"; return 1; }
}

# diff_ids_of TAR CONFIG_DIGEST: the diff_ids in that config inside TAR.
diff_ids_of() {
	tar -xOf "$1" "blobs/sha256/${2#sha256:}" | jq -c .rootfs.diff_ids
}


expect_success 'docker-archive of a docker save tar: podman load, id and layers' '
	decant convert -q "$ML" docker-archive:out.tar
	pm load -q -i out.tar >load.txt
	grep -q "decant-test/multi:1.0" load.txt
	pm images --no-trunc --format "{{.ID}}" >ids.txt
	grep -qx "$ID" ids.txt || grep -qx "${ID#sha256:}" ids.txt
	pm images --format "{{.ID}}" | grep -q "^${ID:7:12}"
	pm image inspect decant-test/multi:1.0 >pi.json
	same "$(jq -r ".[0].Id" pi.json)" "${ID#sha256:}" "podman image Id"
	same "$(jq -c ".[0].RootFS.Layers" pi.json)" "$(diff_ids_of out.tar "$ID")" "RootFS layers"
	jq -e ".[0].RepoTags | any(endswith(\"decant-test/multi:1.0\"))" pi.json
	jq -e ".[0].Os == \"linux\" and .[0].Architecture == \"amd64\"" pi.json
	jq -e ".[0].Config.Env | index(\"DECANT_FIXTURE=multilayer\")" pi.json
	jq -e ".[0].Config.WorkingDir == \"/data\"" pi.json
' podman

# the one test that starts a container
expect_success 'podman runs the docker-archive image: output as docker run' '
	decant convert -q "$ML" docker-archive:out.tar
	pm load -q -i out.tar >/dev/null
	pm_run decant-test/multi:1.0 >run.txt
	cmp run.txt "$TESTDATA/expected/multilayer.txt"
' podman

expect_success 'oci-archive: podman load, id, layers, files' '
	decant convert -q "$ML" oci-archive:out.tar
	pm load -q -i out.tar >load.txt
	grep -q "decant-test/multi:1.0" load.txt
	pm image inspect decant-test/multi:1.0 >pi.json
	same "$(jq -r ".[0].Id" pi.json)" "${ID#sha256:}" "podman image Id"
	same "$(jq -c ".[0].RootFS.Layers" pi.json)" "$(diff_ids_of out.tar "$ID")" "RootFS layers"
	m=$(tar -xOf out.tar index.json | jq -r ".manifests[0].digest")
	same "$(jq -r ".[0].Digest" pi.json)" "$m" "podman Digest (the manifest)"
	image_says pm decant-test/multi:1.0 "$TESTDATA/expected/multilayer.txt"
' podman jq

expect_success 'zstd oci-archive: podman load, files' '
	decant convert -q --compress zstd "$ML" oci-archive:out.tar
	pm load -q -i out.tar >/dev/null
	same "$(pm image inspect --format "{{.Id}}" decant-test/multi:1.0)" "${ID#sha256:}" "podman image Id"
	image_says pm decant-test/multi:1.0 "$TESTDATA/expected/multilayer.txt"
' podman jq

expect_success 'two images, gzip docker-archive: all tags load, small has its files' '
	decant convert -q --compress gzip "$TWO" docker-archive:out.tar
	pm load -q -i out.tar >load.txt
	pm images --format "{{.Repository}}:{{.Tag}} {{.ID}}" >imgs.txt
	cat imgs.txt
	for tag in decant-test/multi:1.0 decant-test/multi:latest decant-test/small:2.0; do
		want=$(grep "^$tag " "$TESTDATA/expected/two-images.ids" | cut -d" " -f2)
		grep -Eq "(^|/)$tag ${want:7:12}" imgs.txt || fail "$tag not loaded with id $want"
	done
	same "$(pm image inspect --format "{{.Id}}" decant-test/small:2.0)" "${SMALL_ID#sha256:}" "small Id"
	image_says pm decant-test/small:2.0 "$TESTDATA/expected/small.txt"
' podman jq

expect_success 'docker-archive of skopeo'"'"'s OCI layout: podman loads it with its config' '
	cfg=$(jq -r .config.digest "$SKD/blobs/sha256/$(jq -r ".manifests[0].digest | ltrimstr(\"sha256:\")" "$SKD/index.json")")
	decant convert -q "$SKD" docker-archive:out.tar
	pm load -q -i out.tar >/dev/null
	pm images --no-trunc --format "{{.ID}}" | grep -q "${cfg#sha256:}"
	same "$(pm image inspect --format "{{json .RootFS.Layers}}" "${cfg#sha256:}" | jq -c .)" \
	     "$(diff_ids_of out.tar "$cfg")" "RootFS layers"
	image_says pm "${cfg#sha256:}" "$TESTDATA/expected/multilayer.txt"
' podman jq

finish
