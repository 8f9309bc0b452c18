/*
 * Help texts: the overview (decant --help) and one per command
 * (decant help CMD, decant CMD --help), with examples.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

void print_usage(FILE *f)
{
	fputs(
"Usage: decant convert [OPTIONS] SRC DEST   read SRC, write DEST\n"
"       decant inspect [--json] SRC         images, config, history, sizes\n"
"       decant inspect --config|--manifest|--index SRC   exact bytes\n"
"       decant verify SRC                   check every digest and size\n"
"       decant help COMMAND                 a command's options, examples\n"
"       decant --help | --version\n"
"\n"
"SRC is a file, a directory or - (stdin), optionally prefixed FORMAT:.\n"
"Without a prefix the format is detected from the content. Whole-archive\n"
"gzip, bzip2, xz and zstd wrappers are read transparently.\n"
"DEST is FORMAT:PATH; PATH - writes a tar format to stdout (not to a\n"
"terminal). As in skopeo, FORMAT:PATH:REF picks the image REF of a\n"
"source (oci, oci-archive: its ref.name; docker-archive: its tag) and\n"
"names the image written; a PATH that exists as given is taken whole.\n"
"\n"
"Formats:\n"
"  docker-archive   Docker 25+ save layout (OCI layout + manifest.json);\n"
"                   loads in every Docker since 1.10, podman, containerd\n"
"                   (zstd layers: Docker 23.0 and later)\n"
"  docker-legacy    Docker 1.10-24 save layout (read and written; pre-1.10\n"
"                   saves without manifest.json are read too)\n"
"  oci              OCI image layout directory\n"
"  oci-archive      OCI image layout as a tar\n"
"  rootfs           the merged filesystem as one tar, like docker export;\n"
"                   read as one image with one layer, like docker import\n"
"                   (any tar that holds no image is read as rootfs)\n"
"  dir              containers/image dir: layout (skopeo copy ... dir:D):\n"
"                   one image, blobs named by hex digest\n"
"\n"
"Convert options:\n"
"  --image REF        keep only this image: name:tag, name, digest or @N\n"
"                     (repeatable; default: every image)\n"
"  --tag NAME:TAG     replace the tags of the single selected image\n"
"  --compress none|gzip|zstd\n"
"                     recompress layers (default: keep the source's where\n"
"                     the target allows it; docker-archive: none); rootfs\n"
"                     output: compress the whole tar (default: none)\n"
"  --level N          compression level, with --compress (gzip 1-9,\n"
"                     default 2; zstd 1-22, default 3)\n"
"  --threads N        threads for copying, verifying, squashing and\n"
"                     compressing (default: all cores)\n"
"  --squash           merge all layers into one (whiteouts applied)\n"
"  --squash-last N    merge the top N layers into one, keep the rest\n"
"  --change 'INSTR ARGS'\n"
"                     a Dockerfile instruction for the config of every\n"
"                     image written: CMD, ENTRYPOINT, ENV, EXPOSE,\n"
"                     HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER,\n"
"                     VOLUME, WORKDIR (repeatable, applied in order)\n"
"  --label K=V, --env K=V\n"
"                     shorthands for --change 'LABEL K=V', 'ENV K=V'\n"
"  --created TIME     the config's creation time (RFC 3339)\n"
"  --platform OS/ARCH[/VARIANT]\n"
"                     multi-platform sources: keep only this platform\n"
"                     (single-platform targets default to the host's);\n"
"                     rootfs sources: the platform in the config\n"
"\n"
"Common options:\n"
"  -q, --quiet        no progress, no summary\n"
"  --progress         show progress even when stderr is not a terminal\n"
"                     (then as plain lines)\n"
"  --json             (inspect) machine-readable output\n"
"  --max-memory SIZE  memory an input may make decant use (default 64M;\n"
"                     suffixes K, M, G): a decoder's window may take a\n"
"                     quarter of it, a tar's member index half\n"
"  -h, --help         this text\n"
"  -V, --version      the version, codecs and accelerations\n"
"\n"
"Exit status: 0 success, 1 failure (bad input, I/O, verification),\n"
"2 usage error, 128+N interrupted by signal N (130: SIGINT). Outputs\n"
"appear only when complete.\n", f);
}

static const char convert_help[] =
"Usage: decant convert [OPTIONS] SRC DEST\n"
"\n"
"Read the images of SRC and write them to DEST as FORMAT:PATH[:REF].\n"
"Layers are copied as they are unless --compress or a squash asks for\n"
"new ones; image IDs are kept unless the config is edited.\n"
"\n"
"Selection:\n"
"  --image REF              keep this image (name:tag, name, digest, @N)\n"
"  --platform OS/ARCH[/V]   keep this platform of a multi-platform image\n"
"  --tag NAME:TAG           name the single image written\n"
"Layers:\n"
"  --compress none|gzip|zstd, --level N, --threads N\n"
"  --squash                 all layers into one\n"
"  --squash-last N          the top N layers into one (N <= layers)\n"
"Config (any source):\n"
"  --change 'INSTR ARGS'    CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,\n"
"                           LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,\n"
"                           WORKDIR, in Dockerfile syntax\n"
"  --label K=V, --env K=V   shorthands for LABEL and ENV\n"
"  --created TIME           creation time, RFC 3339\n"
"Output:\n"
"  -q, --quiet, --progress, --max-memory SIZE\n"
"\n"
"Examples:\n"
"  decant convert app.tar oci:app-oci                 docker save -> OCI\n"
"  decant convert oci:app-oci:1.0 docker-archive:app.tar:app:1.0\n"
"  decant convert --squash --change 'CMD [\"/app\"]' app.tar docker-archive:s.tar\n"
"  decant convert --compress zstd --level 19 app.tar oci-archive:app.oci.tar\n"
"  decant convert --platform linux/arm64 multi.tar docker-archive:arm.tar\n"
"  docker export c | decant convert --change 'CMD [\"sh\"]' - docker-archive:- | docker load\n";

static const char inspect_help[] =
"Usage: decant inspect [--json] [--config|--manifest|--index] SRC\n"
"\n"
"Show each image of SRC: names, platform, ID, config (created, author,\n"
"Cmd, Entrypoint, Env, Labels, User, WorkingDir, ports, volumes), its\n"
"layers with their history and sizes.\n"
"\n"
"  --json        machine-readable, schema in decant(1)\n"
"  --config      the config's exact bytes (one image: use --image)\n"
"  --manifest    the manifest's exact bytes\n"
"  --index       the multi-platform index's exact bytes\n"
"  --image REF   only this image\n"
"\n"
"Examples:\n"
"  decant inspect app.tar\n"
"  decant inspect --config oci:app-oci:1.0 | jq .config\n"
"  decant inspect --json app.tar | jq '.images[].id'\n";

static const char verify_help[] =
"Usage: decant verify SRC\n"
"\n"
"Read every blob of SRC once and check its size and digest, and each\n"
"layer's diff_id. Exit 0 when all match, 1 at the first that does not.\n"
"\n"
"Example:\n"
"  decant verify app.tar && echo intact\n";

static const char help_help[] =
"Usage: decant help [COMMAND]\n"
"\n"
"The overview, or COMMAND's options and examples (as decant COMMAND\n"
"--help).\n";

int print_command_help(const char *cmd, FILE *f)
{
	if (!strcmp(cmd, "convert"))
		fputs(convert_help, f);
	else if (!strcmp(cmd, "inspect"))
		fputs(inspect_help, f);
	else if (!strcmp(cmd, "verify"))
		fputs(verify_help, f);
	else if (!strcmp(cmd, "help"))
		fputs(help_help, f);
	else
		return -1;
	return 0;
}

void print_version(FILE *f)
{
	fprintf(f, "decant %s\n%s\n", dc_version(), dc_features());
}
