#!/usr/bin/env bash
# The optional suite: archives written by other tools, a corpus outside the
# repository found through DECANT_SAMPLES=DIR (see its INDEX.md; every test
# here is skipped when it is not set). The valid
# ones inspect and convert to an OCI layout with the image IDs kept; the
# broken ones fail with exit 1 and one error line; formats decant does not
# read yet are listed in UNSUPPORTED_YET and reported as skipped.
. "$(dirname "$0")/lib.sh"

# Valid archives: docker-1.10, docker-25, containerd exports, OCI layouts
# (dirs and tars), go-containerregistry/kaniko tarballs.
CONVERTS="
anchore+stereoscope/pkg/image/oci/testdata/valid-oci.tar
aquasecurity+trivy/pkg/fanal/test/testdata/alpine-310.tar.gz
aquasecurity+trivy/pkg/fanal/test/testdata/alpine-311.tar.gz
aquasecurity+trivy/pkg/fanal/test/testdata/test.oci
aquasecurity+trivy/pkg/fanal/test/testdata/test_image_tag.oci
containers+image/docker/archive/fixtures/almostempty.tar
containers+skopeo/systemtest/testdata/docker-two-images.tar.xz
google+go-containerregistry/pkg/v1/layout/testdata/test_gc_index
google+go-containerregistry/pkg/v1/layout/testdata/test_index
google+go-containerregistry/pkg/v1/layout/testdata/test_index_one_image
google+go-containerregistry/pkg/v1/mutate/testdata/overwritten_file.tar
google+go-containerregistry/pkg/v1/mutate/testdata/source_image.tar
google+go-containerregistry/pkg/v1/mutate/testdata/source_image_with_empty_layer_history.tar
google+go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar
google+go-containerregistry/pkg/v1/mutate/testdata/whiteout_image.tar
google+go-containerregistry/pkg/v1/tarball/testdata/hello-world-v25.tar
google+go-containerregistry/pkg/v1/tarball/testdata/test_bundle.tar
google+go-containerregistry/pkg/v1/tarball/testdata/test_image_1.tar
google+go-containerregistry/pkg/v1/tarball/testdata/test_image_2.tar
google+go-containerregistry/pkg/v1/tarball/testdata/test_link.tar
google+go-containerregistry/pkg/v1/tarball/testdata/test_load_manifest.tar
oras-project+oras-go/content/oci/testdata/hello-world.tar
oras-project+oras-go/content/oci/testdata/hello-world-prefixed-path.tar
regclient+regclient/testdata/testrepo
wagoodman+dive/.data/test-docker-image.tar
wagoodman+dive/.data/test-kaniko-image.tar
wagoodman+dive/.data/test-oci-uncompressed-image.tar
wagoodman+dive/.data/test-oci-gzip-image.tar
wagoodman+dive/.data/test-oci-zstd-image.tar
wagoodman+dive/.data/test-oci-estargz-image.tar
moby+moby/integration-cli/testdata/emptyLayer.tar
google+go-containerregistry/pkg/v1/tarball/testdata/no_manifest.tar
wagoodman+dive/.data/test-uncompressed-image.tar
wagoodman+dive/.data/test-gzip-image.tar
wagoodman+dive/.data/test-zstd-image.tar
google+go-containerregistry/pkg/v1/tarball/testdata/content.tar
google+go-containerregistry/pkg/crane/testdata/content.tar.zst
regclient+regclient/testdata/layer.tar
regclient+regclient/testdata/layer-wh.tar
"

# Broken on purpose (or by accident), or holding no image at all.
FAILS="
aquasecurity+trivy/pkg/fanal/test/testdata/test_bad_index_json.oci
aquasecurity+trivy/pkg/fanal/test/testdata/test_no_valid_manifests.oci
aquasecurity+trivy/pkg/fanal/test/testdata/test_invalid_oci_image.oci
aquasecurity+trivy/pkg/fanal/test/testdata/test_index_json_dir.oci
containers+image/oci/layout/fixtures/delete_image_only_one_image
containers+image/oci/layout/fixtures/delete_image_multiple_images
containers+image/oci/layout/fixtures/delete_image_shared_blobs_dir
google+go-containerregistry/pkg/v1/tarball/testdata/null_manifest.tar
google+go-containerregistry/pkg/v1/layout/testdata/test_gc_image_unknown_mediatype
google+go-containerregistry/pkg/v1/layout/testdata/test_index_media_type
regclient+regclient/testdata/external
snyk+zip-slip-vulnerability/archives/zip-slip.tar
containers+image/oci/layout/fixtures/delete_image_two_identical_references
"
# Why, in order: index.json is "foobar"; index.json is {}; the only
# descriptor has an unknown media type and a missing blob; index.json is a
# directory; config size 585 vs 740 bytes; manifest 0dc27f… says its config
# (584 bytes) is 585; the blobs live in shared_blobs/, outside the layout;
# manifest.json is null; unknown media type only, blob missing; a Helm chart
# (no image); artifacts only; a member named ../../…/tmp/evil.txt; an
# uncompressed layer whose config diff_id is not its digest (fake content).

# Formats decant does not read yet: none now (pre-1.10 saves and flat
# rootfs tars joined CONVERTS). A new one goes here until its reader exists.
UNSUPPORTED_YET=""

# skip_unsupported PATH: a skip line in lib.sh's format, plus a note if the
# sample converts after all (then it belongs in CONVERTS).
skip_unsupported() {
	n_test=$((n_test + 1))
	echo "skip $n_test - $SCRIPT: $1 converts (format not implemented yet: issue 3)"
	[ -n "$SAMPLES" ] || return 0
	rm -rf "$T/work" && mkdir -p "$T/work"
	if "$DECANT" convert "$SAMPLES/$1" "oci:$T/work/out" >/dev/null 2>&1; then
		echo "# note: $1 converts now: move it from UNSUPPORTED_YET to CONVERTS"
	fi
}

for s in $CONVERTS; do
	expect_success "$s: inspect, convert to oci (IDs kept, blobs verified)" '
		src=$SAMPLES/'"$s"'
		[ -e "$src" ] || { echo "missing sample $src"; exit 1; }
		decant inspect "$src" >inspect.txt
		grep -q "^image @0" inspect.txt || { cat inspect.txt; exit 1; }
		decant inspect --json "$src" | jq -r ".images[].id" | sort -u >ids.src
		[ -s ids.src ]
		decant convert "$src" oci:out 2>err
		[ ! -s err ] || { echo "stderr on success:"; cat err; exit 1; }
		blobs_ok out
		decant verify out
		decant inspect --json out | jq -r ".images[].id" | sort -u >ids.out
		diff -u ids.src ids.out
	' jq samples
done

for s in $FAILS; do
	expect_success "$s: refused with exit 1 and one error line" '
		src=$SAMPLES/'"$s"'
		[ -e "$src" ] || { echo "missing sample $src"; exit 1; }
		rc=0
		decant convert "$src" oci:out 2>err || rc=$?
		[ "$rc" = 1 ] || { echo "convert: exit $rc, expected 1"; cat err; exit 1; }
		[ "$(wc -l <err)" = 1 ] && grep -q "^decant: error: " err ||
			{ echo "convert stderr is not one error line:"; cat err; exit 1; }
		no_leftovers out
		# inspect may list an empty archive, but must not crash or babble
		rc=0
		decant inspect "$src" >/dev/null 2>err || rc=$?
		case $rc in
		0) ;;
		1) [ "$(wc -l <err)" = 1 ] && grep -q "^decant: error: " err ||
			{ echo "inspect stderr:"; cat err; exit 1; } ;;
		*) echo "inspect: exit $rc"; cat err; exit 1 ;;
		esac
	' samples
done

for s in $UNSUPPORTED_YET; do
	skip_unsupported "$s"
done

finish
