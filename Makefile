# decant: one non-recursive Makefile. Objects go under build/.
#   make                 build ./decant and libdecant.a
#   make check           unit tests, fuzz-corpus replay, end-to-end tests
#   make check SANITIZE=1   the same under ASan+UBSan
#   make fuzz CC=clang   libFuzzer targets under build/fuzz/
#   make install PREFIX=/usr/local [DESTDIR=...]

VERSION   := 0.1.0
PREFIX    ?= /usr/local
CC        ?= cc
PKGS      := libarchive jansson libzstd liblzma zlib libcrypto libcurl libxxhash
# libdeflate (optional): parallel gzip compression, levels 4-9; zlib otherwise
ifeq ($(shell pkg-config --exists libdeflate && echo y),y)
PKGS      += libdeflate
DEFLATE_CFLAGS := -DHAVE_LIBDEFLATE
endif
# ISA-L's igzip (optional): fast gzip levels 1-3 and streaming inflate
ifeq ($(shell pkg-config --exists libisal && echo y),y)
PKGS      += libisal
DEFLATE_CFLAGS += -DHAVE_ISAL
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)) $(DEFLATE_CFLAGS)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

WARN   := -std=c11 -Wall -Wextra -Wvla -Wstrict-prototypes -Wformat=2 \
          -Wno-unused-parameter
CFLAGS ?= -O2 -g
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
ifneq ($(SANITIZE),)
ifeq ($(SANITIZE),1)
override SANITIZE := address,undefined
endif
SANFLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS := -O1 -g
BUILD  ?= build/san
endif
BUILD  ?= build

ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) -fvisibility=hidden -D_GNU_SOURCE \
             -DDC_BUILDING -DDC_VERSION='"$(VERSION)"' -Iinclude -Isrc $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
LIBS = $(PKG_LIBS) -lpthread

LIB_SRCS :=
LIB_SRCS += src/util/ctx.c src/util/buf.c src/util/hash.c src/util/codec.c
LIB_SRCS += src/util/json.c src/util/stream.c src/util/src.c src/util/tar.c
LIB_SRCS += src/util/out.c src/util/tmpfile.c src/util/pgzip.c src/util/parts.c
LIB_SRCS += src/model/image.c src/model/ref.c src/model/platform.c src/model/inventory.c
LIB_SRCS += src/util/sindex.c
LIB_SRCS += src/moby/gojson.c src/moby/config.c src/moby/v1.c
LIB_SRCS += src/blob/blob.c src/blob/pool.c src/blob/thread.c
LIB_SRCS += src/readers/reader.c src/readers/docker_save.c src/readers/oci_layout.c
LIB_SRCS += src/readers/legacy.c src/writers/docker_legacy.c
LIB_SRCS += src/writers/writer.c src/writers/oci_layout.c src/writers/docker_archive.c
LIB_SRCS += src/transform/recompress.c src/transform/squash.c src/transform/select.c src/transform/edit.c
LIB_SRCS += src/convert/plan.c src/convert/early.c src/convert/driver.c src/writers/rootfs.c src/writers/tarlayout.c
LIB_SRCS += src/readers/flat_export.c src/model/changes.c
LIB_SRCS += src/readers/dir.c src/writers/dir.c
LIB_SRCS += src/readers/multi.c
LIB_SRCS += src/analyze/layer.c src/analyze/secrets.c src/analyze/tables.c src/analyze/analyze.c src/analyze/report.c src/analyze/rules.c src/analyze/api.c
LIB_SRCS += src/registry/parse.c src/registry/client.c src/readers/registry.c src/writers/registry.c

CLI_SRCS := src/cli/main.c src/cli/opts.c src/cli/cmd_convert.c \
            src/cli/cmd_verify.c src/cli/cmd_inventory.c \
            src/cli/progress.c src/cli/esc.c src/cli/cmd_analyze.c \
            src/cli/refs.c src/cli/suggest.c src/cli/help.c src/cli/inspect.c
UNIT_SRCS := $(wildcard tests/unit/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
DEPS := $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_OBJS:.o=.d)

LIBA   := $(BUILD)/libdecant.a
PROG   := $(BUILD)/decant
UNIT   := $(BUILD)/unit-tests
REPLAY := $(BUILD)/fuzz-replay
REPLAY_JSON := $(BUILD)/fuzz-replay-json
REPLAY_SQUASH := $(BUILD)/fuzz-replay-squash
REPLAY_INVENTORY := $(BUILD)/fuzz-replay-inventory
REPLAY_REGISTRY := $(BUILD)/fuzz-replay-registry
# a fuzz target per reader: fuzz_read.c built for that reader alone
FUZZ_RD_oci := oci
FUZZ_RD_docker := docker-archive
FUZZ_RD_legacy := docker-legacy-v1
FUZZ_RD_rootfs := rootfs
FUZZ_RD_dir := dir
FUZZ_READERS := oci docker legacy rootfs dir
REPLAY_READERS := $(FUZZ_READERS:%=$(BUILD)/fuzz-replay-read-%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%) \
             $(FUZZ_READERS:%=build/fuzz/fuzz_read_%)

.PHONY: FORCE all check check-unit check-e2e check-replay check-headers fuzz install clean
all: $(PROG) libdecant.a decant

decant: $(PROG)
	@if [ "$(BUILD)" = build ]; then cp $(PROG) decant; fi
libdecant.a: $(LIBA)
	@if [ "$(BUILD)" = build ]; then cp $(LIBA) libdecant.a; fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(PROG): $(CLI_OBJS) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(LIBA) $(LIBS)

tests/unit/list.h: $(UNIT_SRCS)
	@grep -h '^TEST(' $(UNIT_SRCS) | sed 's/^TEST(\([a-z0-9_]*\)).*/T(\1)/' > $@.tmp
	@mv $@.tmp $@
$(BUILD)/tests/unit/main.o: tests/unit/list.h

$(UNIT): $(UNIT_OBJS) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJS) $(LIBA) $(LIBS)

$(REPLAY): tests/fuzz/replay.c tests/fuzz/fuzz_read.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/fuzz/replay.c tests/fuzz/fuzz_read.c $(LIBA) $(LIBS)
$(BUILD)/fuzz-replay-read-%: tests/fuzz/replay.c tests/fuzz/fuzz_read.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_READER='"$(FUZZ_RD_$*)"' $(ALL_LDFLAGS) -o $@ \
		tests/fuzz/replay.c tests/fuzz/fuzz_read.c $(LIBA) $(LIBS)
$(REPLAY_JSON): tests/fuzz/replay.c tests/fuzz/fuzz_json.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/fuzz/replay.c tests/fuzz/fuzz_json.c $(LIBA) $(LIBS)
$(REPLAY_SQUASH): tests/fuzz/replay.c tests/fuzz/fuzz_squash.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/fuzz/replay.c tests/fuzz/fuzz_squash.c $(LIBA) $(LIBS)
$(REPLAY_REGISTRY): tests/fuzz/replay.c tests/fuzz/fuzz_registry.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/fuzz/replay.c tests/fuzz/fuzz_registry.c $(LIBA) $(LIBS)

$(REPLAY_INVENTORY): tests/fuzz/replay.c tests/fuzz/fuzz_inventory.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/fuzz/replay.c tests/fuzz/fuzz_inventory.c $(LIBA) $(LIBS)

check-unit: $(UNIT)
	$(UNIT)
check-replay: $(REPLAY) $(REPLAY_JSON) $(REPLAY_READERS) $(REPLAY_SQUASH) $(REPLAY_INVENTORY) $(REPLAY_REGISTRY)
	$(REPLAY) testdata testdata/bad
	for r in $(REPLAY_READERS); do $$r testdata || exit 1; done
	$(REPLAY_JSON) testdata/fuzz-seeds/json testdata/fuzz-crashes/json
	$(REPLAY_SQUASH) testdata/fuzz-seeds/squash
	$(REPLAY_INVENTORY) testdata/fuzz-seeds/inventory testdata/fuzz-crashes/inventory
	$(REPLAY_REGISTRY) testdata/fuzz-seeds/registry
check-e2e: $(PROG)
	DECANT=$(abspath $(PROG)) tests/e2e/run.sh
check: $(PROG) $(UNIT) $(REPLAY) $(REPLAY_JSON) $(REPLAY_READERS) $(REPLAY_SQUASH) \
	$(REPLAY_INVENTORY) $(REPLAY_REGISTRY) \
		check-headers
	@DECANT=$(abspath $(PROG)) UNIT=$(abspath $(UNIT)) REPLAY=$(abspath $(REPLAY)) \
		REPLAY_JSON=$(abspath $(REPLAY_JSON)) REPLAY_SQUASH=$(abspath $(REPLAY_SQUASH)) \
		REPLAY_INVENTORY=$(abspath $(REPLAY_INVENTORY)) \
		REPLAY_REGISTRY=$(abspath $(REPLAY_REGISTRY)) \
		REPLAY_READERS="$(abspath $(REPLAY_READERS))" tests/run-all.sh

check-headers:
	@for h in include/decant/*.h; do \
		echo "#include \"$$h\"" | $(CC) -std=c11 -Wall -Wextra -Werror -I. -fsyntax-only -x c - || exit 1; \
	done

# libFuzzer targets: build/fuzz/fuzz_read (every reader, through
# detection), build/fuzz/fuzz_read_READER (one reader each: oci, docker,
# legacy, rootfs, dir), build/fuzz/fuzz_json (the JSON documents) and
# build/fuzz/fuzz_registry (what a registry sends the registry client)
fuzz: $(FUZZ_BINS)
FUZZ_CC = clang $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -DDC_BUILDING -DDC_VERSION='"$(VERSION)"' -Iinclude -Isrc $(PKG_CFLAGS)
build/fuzz/fuzz_read_%: tests/fuzz/fuzz_read.c $(LIB_SRCS)
	@mkdir -p build/fuzz
	$(FUZZ_CC) -DFUZZ_READER='"$(FUZZ_RD_$*)"' -o $@ $(LIB_SRCS) $< $(LIBS)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS)
	@mkdir -p build/fuzz
	$(FUZZ_CC) -o $@ $(LIB_SRCS) $< $(LIBS)

decant.pc: decant.pc.in Makefile FORCE
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@REQUIRES@|$(PKGS)|' $< > $@
FORCE:

install: all decant.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/decant $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 decant $(DESTDIR)$(PREFIX)/bin/decant
	install -m 0644 libdecant.a $(DESTDIR)$(PREFIX)/lib/libdecant.a
	install -m 0644 include/decant/*.h $(DESTDIR)$(PREFIX)/include/decant/
	install -m 0644 decant.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/decant.pc
	install -m 0644 decant.1 $(DESTDIR)$(PREFIX)/share/man/man1/decant.1
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 0644 contrib/completion/decant.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/decant
	install -m 0644 contrib/completion/_decant \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_decant

clean:
	rm -rf build decant libdecant.a decant.pc tests/unit/list.h

-include $(DEPS)
