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
"Usage: decant convert [OPTIONS] SRC... DEST\n"
"                                           read every SRC, write one DEST\n"
"       decant inspect [--json] SRC         images, config, history, sizes\n"
"       decant inspect --config|--manifest|--index SRC   exact bytes\n"
"       decant verify [--json] SRC...       check every digest and size of\n"
"                                           every source; report every problem\n"
"                                           and the images it breaks\n"
"       decant inventory SRC... > have.json\n"
"                                           what a far side holds: digests,\n"
"                                           sizes, media types, no data\n"
"       decant analyze [--json | --html FILE] [--files] [--fail-on RULES]\n"
"                      [--rules FILE] SRC   waste, hidden files, secrets\n"
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
"Several SRCs make one bundle: every image of every source, each blob\n"
"once, names as they were (two different images with one name is an\n"
"error); - may be one of them.\n"
"SRC and DEST may be a registry: docker://HOST[:PORT]/REPO[:TAG|@DIGEST].\n"
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
"  docker://        a registry (distribution API): pull and push; several\n"
"                   images go to docker://HOST/PREFIX/<repository>:<tag>\n"
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
"                     default 1; zstd 1-22, default 3)\n"
"  --threads N        threads for copying, verifying, squashing and\n"
"                     compressing (default: all cores), and registry\n"
"                     transfers (blobs, or parts of one) at once\n"
"                     (default: 4)\n"
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
"  --split SIZE       (tar outputs) write DEST.000, DEST.001, ... of SIZE\n"
"                     bytes each (K, M, G, T: binary; FAT32 takes at most\n"
"                     4095M) and DEST.sha256 for sha256sum -c; every\n"
"                     command reads the set by its first part, DEST.000\n"
"                     (also a set whose joined bytes are compressed)\n"
"  --exclude-from HAVE\n"
"                     a delta: leave out every layer HAVE holds (an\n"
"                     archive, an OCI layout, or a decant inventory file;\n"
"                     repeatable); manifests and configs stay, and the\n"
"                     output records what it left out (decant inspect)\n"
"  --base STORE       fill a delta's left-out layers from STORE (any\n"
"                     source, an earlier delta too; repeatable), each\n"
"                     verified; fails before\n"
"                     writing, naming every blob missing. A delta written\n"
"                     into an existing oci: layout takes them from there\n"
"\n"
"Analyze options:\n"
"  --json             machine-readable report (schemaVersion 1)\n"
"  --html FILE        one self-contained HTML page: layer chart, file trees\n"
"  --files            (--json) every entry of every layer too\n"
"  --fail-on RULE=VALUE[,RULE=VALUE...]\n"
"                     CI gate, exit 3 if a rule fails: lowestEfficiency,\n"
"                     highestWastedBytes, highestUserWastedPercent (dive's\n"
"                     rules), secrets (most secrets allowed); repeatable\n"
"  --rules FILE       the same rules from a .dive-ci file\n"
"\n"
"Common options:\n"
"  -q, --quiet        no progress, no summary\n"
"  --progress         show progress even when stderr is not a terminal\n"
"                     (then as plain lines)\n"
"  --json             (inspect, verify) machine-readable output\n"
"  --max-memory SIZE  memory an input may make decant use (default 64M;\n"
"                     suffixes K, M, G): a decoder's window may take a\n"
"                     quarter of it, a tar's member index half\n"
"  --creds USER:PASSWORD\n"
"                     registry credentials (default: $REGISTRY_AUTH_FILE,\n"
"                     $XDG_RUNTIME_DIR/containers/auth.json,\n"
"                     ~/.docker/config.json: auths, or the credential\n"
"                     helper it names, docker-credential-NAME)\n"
"  --authfile FILE    read registry credentials from FILE\n"
"  --tls-verify=false do not verify the registry's TLS certificate, and\n"
"                     allow plain HTTP (always allowed for loopback)\n"
"  --cert-dir DIR     extra CA certificates (*.crt) for registries, and a\n"
"                     client certificate (NAME.cert with NAME.key)\n"
"  -h, --help         this text\n"
"  -V, --version      the version, codecs and accelerations\n"
"\n"
"Exit status: 0 success, 1 failure (bad input, I/O, verification),\n"
"2 usage error, 3 (analyze) a --fail-on rule failed, 128+N interrupted\n"
"by signal N (130: SIGINT). Outputs appear only when complete.\n", f);
}

static const char convert_help[] =
"Usage: decant convert [OPTIONS] SRC... DEST\n"
"\n"
"Read the images of every SRC and write them to DEST as FORMAT:PATH[:REF]\n"
"or docker://HOST/REPO[:TAG]. Layers are copied as they are unless\n"
"--compress or a squash asks for new ones; image IDs are kept unless the\n"
"config is edited. Several SRCs make one bundle, each blob once.\n"
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
"Air gap:\n"
"  --split SIZE             parts of SIZE bytes and a .sha256 file\n"
"  --exclude-from HAVE      a delta: leave out the layers HAVE holds\n"
"  --base STORE             fill a delta's left-out layers from STORE\n"
"Registry:\n"
"  --creds USER:PASS, --authfile FILE, --tls-verify=false, --cert-dir DIR\n"
"Output:\n"
"  -q, --quiet, --progress, --max-memory SIZE\n"
"\n"
"Examples:\n"
"  decant convert app.tar oci:app-oci                 docker save -> OCI\n"
"  decant convert oci:app-oci:1.0 docker-archive:app.tar:app:1.0\n"
"  decant convert --squash --change 'CMD [\"/app\"]' app.tar docker-archive:s.tar\n"
"  decant convert --compress zstd --level 19 app.tar oci-archive:app.oci.tar\n"
"  decant convert --platform linux/arm64 multi.tar docker-archive:arm.tar\n"
"  decant convert a.tar b.tar --split 4095M oci-archive:/media/usb/bundle.tar\n"
"  decant convert --exclude-from have.json a.tar b.tar docker-archive:delta.tar\n"
"  decant convert app.tar docker://registry.example:5000/app:1.0\n"
"  docker export c | decant convert --change 'CMD [\"sh\"]' - docker-archive:- | docker load\n";

static const char inspect_help[] =
"Usage: decant inspect [--json] [--config|--manifest|--index] SRC\n"
"\n"
"Show each image of SRC: names, platform, ID, config (created, author,\n"
"Cmd, Entrypoint, Env, Labels, User, WorkingDir, ports, volumes), its\n"
"layers with their history and sizes; a delta says what it left out.\n"
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
"  decant inspect --json app.tar | jq '.images[].id'\n"
"  decant inspect docker://registry.example:5000/app:1.0\n";

static const char verify_help[] =
"Usage: decant verify [--json] SRC...\n"
"\n"
"Read every blob of every SRC once and check its size and digest, and\n"
"each layer's diff_id. Every problem is reported, with the images it\n"
"breaks; a split set's bad parts are named. Exit 0 when all match, 1\n"
"otherwise.\n"
"\n"
"  --json        one document, schema decant-verify/1\n"
"\n"
"Examples:\n"
"  decant verify app.tar && echo intact\n"
"  decant verify --json /media/usb/bundle.tar.000 | jq .ok\n";

static const char inventory_help[] =
"Usage: decant inventory SRC... > have.json\n"
"\n"
"Print the digest, size and media type of every blob the sources hold\n"
"(schema decant-inventory/1), no data: what a far side has, for\n"
"decant convert --exclude-from on the near side. A delta lists what it\n"
"holds; the layers it left out are listed apart, under \"notHeld\", which\n"
"--exclude-from does not read: inventory the delta with its base.\n"
"\n"
"Example:\n"
"  decant inventory bundle.tar /srv/oci-store > have.json\n"
"  decant inventory bundle1.tar delta2.tar > have.json\n";

static const char analyze_help[] =
"Usage: decant analyze [--json [--files] | --html FILE] [--fail-on RULES]\n"
"                      [--rules FILE] SRC\n"
"\n"
"Read every layer of every image once and report what each layer costs,\n"
"dive's efficiency and wasted bytes, files hidden but still shipped,\n"
"duplicate contents, what --squash would save, and secrets (redacted).\n"
"A failed rule exits 3.\n"
"\n"
"Examples:\n"
"  decant analyze app.tar\n"
"  decant analyze --html report.html app.tar\n"
"  decant analyze --fail-on lowestEfficiency=0.9,secrets=0 app.tar\n";

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
	else if (!strcmp(cmd, "inventory"))
		fputs(inventory_help, f);
	else if (!strcmp(cmd, "analyze"))
		fputs(analyze_help, f);
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
