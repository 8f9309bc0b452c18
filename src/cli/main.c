/*
 * decant: convert and repackage container image archives.
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static struct dc_ctx *sig_ctx;

static void on_notice(void *arg, const char *msg)
{
	const struct cli *c = arg;

	if (!c->quiet)
		fprintf(stderr, "decant: note: %s\n", esc(msg));
}

static void on_signal(int sig)
{
	int e = errno;

	(void)sig;
	if (sig_ctx)
		dc_ctx_interrupt(sig_ctx);
	errno = e;
}

void print_usage(FILE *f)
{
	fputs(
"Usage: decant convert [OPTIONS] SRC... DEST\n"
"                                           read every SRC, write one DEST\n"
"       decant inspect [--json] SRC         images, tags, platforms, layers\n"
"       decant verify [--json] SRC...       check every digest and size of\n"
"                                           every source; report every problem\n"
"                                           and the images it breaks\n"
"       decant inventory SRC... > have.json\n"
"                                           what a far side holds: digests,\n"
"                                           sizes, media types, no data\n"
"       decant analyze [--json | --html FILE] [--files] [--fail-on RULES]\n"
"                      [--rules FILE] SRC   waste, hidden files, secrets\n"
"       decant --help | --version\n"
"\n"
"SRC is a file, a directory or - (stdin), optionally prefixed FORMAT:.\n"
"Without a prefix the format is detected from the content. Whole-archive\n"
"gzip, bzip2, xz and zstd wrappers are read transparently.\n"
"DEST is FORMAT:PATH; PATH - writes a tar format to stdout.\n"
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
"  --level N          compression level (gzip 1-9, default 2; zstd 1-22,\n"
"                     default 3)\n"
"  --threads N        threads for copying, verifying, squashing and\n"
"                     compressing (default: all cores)\n"
"  --squash           merge all layers into one (whiteouts applied)\n"
"  --squash-last N    merge the top N layers into one, keep the rest\n"
"  --change 'INSTR ARGS'\n"
"                     (rootfs source) a Dockerfile instruction for the\n"
"                     config: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,\n"
"                     LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR\n"
"                     (repeatable, applied in order)\n"
"  --split SIZE       (tar outputs) write DEST.000, DEST.001, ... of SIZE\n"
"                     bytes each (K, M, G, T: binary; FAT32 takes at most\n"
"                     4095M) and DEST.sha256 for sha256sum -c; every\n"
"                     command reads the set by its first part, DEST.000\n"
"  --exclude-from HAVE\n"
"                     a delta: leave out every layer HAVE holds (an\n"
"                     archive, an OCI layout, or a decant inventory file;\n"
"                     repeatable); manifests and configs stay, and the\n"
"                     output records what it left out (decant inspect)\n"
"  --base STORE       fill a delta's left-out layers from STORE (any\n"
"                     source; repeatable), each verified; fails before\n"
"                     writing, naming every blob missing. A delta written\n"
"                     into an existing oci: layout takes them from there\n"
"  --platform OS/ARCH[/VARIANT]\n"
"                     multi-platform sources: keep only this platform\n"
"                     (single-platform targets default to the host's);\n"
"                     rootfs sources: the platform in the config\n"
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
"  --json             (inspect, verify) machine-readable output\n"
"  --max-memory SIZE  memory an input may make decant use (default 64M;\n"
"                     suffixes K, M, G): a decoder's window may take a\n"
"                     quarter of it, a tar's member index half\n"
"  --creds USER:PASSWORD\n"
"                     registry credentials (default: $REGISTRY_AUTH_FILE,\n"
"                     $XDG_RUNTIME_DIR/containers/auth.json,\n"
"                     ~/.docker/config.json)\n"
"  --authfile FILE    read registry credentials from FILE\n"
"  --tls-verify=false do not verify the registry's TLS certificate, and\n"
"                     allow plain HTTP (always allowed for loopback)\n"
"  --cert-dir DIR     extra CA certificates (*.crt) for registries\n"
"  -h, --help         this text\n"
"  -V, --version      the version\n"
"\n"
"Exit status: 0 success, 1 failure (bad input, I/O, verification),\n"
"2 usage error, 3 (analyze) a --fail-on rule failed. Outputs appear only\n"
"when complete.\n", f);
}

int usage_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "decant: error: %s\nTry 'decant --help'.\n", esc(msg));
	return EXIT_USAGE;
}

int fail(struct cli *c)
{
	int code = dc_ctx_errcode(c->ctx);

	fprintf(stderr, "decant: error: %s\n", esc(dc_ctx_errmsg(c->ctx)));
	return code == DC_EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct sigaction sa;
	int ret;

	memset(&c, 0, sizeof(c));
	c.progress = -1;
	c.reg.tls_verify = 1;
	/* archive member names are bytes, mostly UTF-8: let libarchive
	 * convert them without loss (it falls back per entry otherwise) */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	if (argc < 2)
		return usage_error("no command given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("decant %s\n", dc_version());
		return EXIT_OK;
	}
	if (dc_ctx_new(&c.ctx) < 0) {
		fputs("decant: error: out of memory\n", stderr);
		return EXIT_FAIL;
	}
	sig_ctx = c.ctx;
	dc_ctx_set_notice(c.ctx, on_notice, &c);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!strcmp(argv[1], "convert"))
		ret = cmd_convert(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "inspect"))
		ret = cmd_inspect(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "verify"))
		ret = cmd_verify(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "analyze"))
		ret = cmd_analyze(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "inventory"))
		ret = cmd_inventory(&c, argc - 1, argv + 1);
	else
		ret = usage_error("'%s': unknown command", argv[1]);
	sig_ctx = NULL;
	dc_ctx_free(c.ctx);
	return ret;
}
