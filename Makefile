# sealbox - one binary, six applets. See README.md and docs/building.md.
#
#   make                      build ./sealbox (pulls in 'deps' first)
#   make test                 build and run every test; last line "N passed, N failed"
#   make SAN=1 test           the same under ASan + UBSan
#   make demo                 a full remote-support session on loopback
#   make fuzz                 libFuzzer targets (clang) in build/fuzz/
#   make bench [BB=name]      benchmarks (bench/*/run), printed side by side with peers
#   make APPLETS="hitc"       a binary with only the named applets
#   make STATIC=1             a static binary (musl)
#   make sizes                size per applet and library, budget, what grew (mk/sizes.sh)
#   make WOLFSSL=system       link Debian's libwolfssl instead of the tuned static one
#   make CROSS=arm-linux-gnueabihf-   cross-compile (docs/building.md)
#   make CROSS=... STATIC=1 cross-test   its unit tests and a session under qemu-user
#   make install DESTDIR=... PREFIX=/usr
#   make DATABOX_WEB=0        without databox's web app (no node/npm needed)

APPLETS ?= tunneld viewer mailgw databox hitc
WOLFSSL ?= static
SAN ?= 0
STATIC ?= 0
WERROR ?= 0
CROSS ?=
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/sealbox
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
# databox's web_root "auto" finds the web app at BINDIR/../share/sealbox/databox-web.
DATADIR := $(PREFIX)/share/sealbox
DATABOX_WEB ?= 1

# viewer-master / viewer-client live in one folder.
override APPLETS := $(sort $(patsubst viewer-%,viewer,$(APPLETS)))
KNOWN_APPLETS := tunneld viewer mailgw databox hitc
KNOWN_APPLETS_SORTED := $(sort $(KNOWN_APPLETS))
empty :=
space := $(empty) $(empty)
BAD_APPLETS := $(filter-out $(KNOWN_APPLETS),$(APPLETS))
ifneq ($(BAD_APPLETS),)
$(error unknown applet(s): $(BAD_APPLETS); known: $(KNOWN_APPLETS))
endif

CC := $(CROSS)gcc
ARCH := $(shell $(CC) -dumpmachine 2>/dev/null)
GNU_ARCH := $(ARCH)
# STATIC=1 links musl (the libraries built from Debian's sources into deps/musl-TRIPLET/):
# glibc's static getaddrinfo/getpwnam still load NSS modules at run time. On the host
# musl-gcc (musl-tools); for a target Debian's musl-dev:ARCH (multiarch), whose
# TRIPLET-gcc wrapper (arm-linux-musleabihf-gcc ...) drives the cross gcc with musl's
# specs; cross images too (their unit tests and a session pass under qemu-user,
# docs/building.md). LIBC=glibc STATIC=1 keeps glibc; dynamic builds are glibc.
LIBC ?= $(if $(filter 1,$(STATIC)),musl,glibc)
ifeq ($(LIBC),musl)
ifeq ($(CROSS),)
CC := musl-gcc
ARCH := $(subst -gnu,-musl,$(shell gcc -dumpmachine 2>/dev/null))
else
ARCH := $(subst -gnu,-musl,$(GNU_ARCH))
CC := $(ARCH)-gcc
endif
MUSL_PREFIX := deps/musl-$(ARCH)
endif

# Every configuration has its own object directory, so switching APPLETS, STATIC or CROSS
# never mixes objects and switching back is a relink at most:
#   build/rel, build/san, build/rel-static, build/rel-hitc, build/rel-<triplet>-static ...
ifeq ($(SAN),1)
VARIANT := san
else
VARIANT := rel
endif
ifneq ($(CROSS),)
VARIANT := $(VARIANT)-$(ARCH)
endif
ifeq ($(STATIC),1)
VARIANT := $(VARIANT)-static$(if $(filter glibc,$(LIBC)),-glibc)
endif
ifeq ($(WOLFSSL),system)
VARIANT := $(VARIANT)-syswolfssl
endif
ifneq ($(APPLETS),$(KNOWN_APPLETS_SORTED))
VARIANT := $(VARIANT)-$(subst $(space),_,$(APPLETS))
endif
B := build/$(VARIANT)
BIN := $(B)/sealbox
# ./sealbox is a copy of the last host build that is not a sanitizer or system-wolfSSL
# build (make, make STATIC=1, make APPLETS=hitc ...); build/.top names which one, so
# `make STATIC=1` after `make` replaces it and `make` afterwards puts the dynamic one back.
ifeq ($(SAN)$(CROSS)$(WOLFSSL),0static)
TOP_BIN := sealbox
$(shell mkdir -p build; [ "$$(cat build/.top 2>/dev/null)" = '$(B)' ] || echo '$(B)' > build/.top)
endif

WARN := -Wall -Wextra -Wundef -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter \
	-Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT := -O2 -g -ffunction-sections -fdata-sections
# Static builds are the router images: sealbox's own code at -Os (65 KB less for the
# router set). Its hot paths are wolfSSL's assembly and the kernel's copies, which the
# flag does not touch; development builds keep -O2 for the relay benchmarks.
ifeq ($(STATIC),1)
OPT := -Os -g -ffunction-sections -fdata-sections
endif
ifeq ($(SAN),1)
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ENABLES := $(foreach a,$(KNOWN_APPLETS),-DENABLE_$(shell echo $(a) | tr a-z A-Z)=$(if $(filter $(a),$(APPLETS)),1,0))
CPPFLAGS_ALL := -I. -Iinclude -D_GNU_SOURCE -DSEALBOX_VERSION='"$(VERSION)"' $(ENABLES) \
	-DSEALBOX_TUNED_WOLFSSL=$(if $(filter system,$(WOLFSSL)),0,$(if $(filter-out hitc,$(APPLETS)),1,0))
CFLAGS_ALL := -std=c11 $(WARN) $(OPT) -MMD -MP $(CFLAGS)
LDFLAGS_ALL := $(OPT) -Wl,--gc-sections $(LDFLAGS)
ifeq ($(STATIC),1)
LDFLAGS_ALL += -static
endif

# The variables that name this configuration, for tests that run make themselves.
MAKEVARS := APPLETS="$(APPLETS)" STATIC=$(STATIC) LIBC=$(LIBC) SAN=$(SAN) WOLFSSL=$(WOLFSSL) CROSS=$(CROSS)

# wolfSSL: a tuned static build under deps/ (mk/deps.sh), or Debian's shared library.
ifeq ($(WOLFSSL),system)
WOLF_CFLAGS :=
WOLF_LIBS := -lwolfssl
DEPS_FLAGS := --system-wolfssl
WOLF_STAMP :=
else
# One cached wolfSSL per target, libc and feature set (mk/deps.sh --wolfssl-set):
# "small" (portable C, generic maths) when only hitc is compiled in, else "fast".
WOLF_SET := $(if $(filter-out hitc,$(APPLETS)),fast,small)
WOLF_PREFIX := deps/wolfssl-$(ARCH)$(if $(filter small,$(WOLF_SET)),-small)
WOLF_CFLAGS := -I$(WOLF_PREFIX)/include
# The small build's sp_int uses 64-bit digits on 64-bit targets (HAVE___UINT128_T from
# its config.h, which options.h does not carry): sealbox must see the same RsaKey.
ifeq ($(WOLF_SET)$(filter x86_64-% aarch64-%,$(ARCH)),small$(ARCH))
WOLF_CFLAGS += -DHAVE___UINT128_T=1
endif
WOLF_LIBS := $(WOLF_PREFIX)/lib/libwolfssl.a
DEPS_FLAGS := --wolfssl-set $(WOLF_SET)
WOLF_STAMP := $(WOLF_PREFIX)/.sealbox-stamp
endif
ifneq ($(CROSS),)
DEPS_FLAGS += --cross $(CROSS)
# The target's libevent/inih/jansson/sqlite come from Debian's packages for that
# architecture, unpacked by mk/deps.sh into a private sysroot (static archives only).
# (musl builds build them from source instead; mk/musl-libs.sh)
SYSROOT := deps/sysroot-$(GNU_ARCH)
# 64-bit off_t on 32-bit targets: files over 2 GiB (viewer get/put), and readdir on a
# filesystem with 64-bit directory cookies (under qemu-user on a 64-bit host, and on
# 64-bit kernels) instead of EOVERFLOW. No libevent API sealbox uses takes an off_t.
# (musl's off_t is always 64 bits.)
CPPFLAGS_ALL += -D_FILE_OFFSET_BITS=64
ifneq ($(LIBC),musl)
CPPFLAGS_ALL += -isystem $(SYSROOT)/usr/include -isystem $(SYSROOT)/usr/include/$(GNU_ARCH)
LDFLAGS_ALL += -L$(SYSROOT)/usr/lib/$(GNU_ARCH)
endif
endif

ifneq ($(MUSL_PREFIX),)
DEPS_FLAGS += --musl
CPPFLAGS_ALL += -isystem $(MUSL_PREFIX)/include
LDFLAGS_ALL += -L$(MUSL_PREFIX)/lib
endif

# Libraries each applet pulls in, so a router image carries only what it runs.
LIBS_databox := -lsqlite3 -ljansson
APPLET_LIBS := $(sort $(foreach a,$(APPLETS),$(LIBS_$(a))))
LIBS := $(APPLET_LIBS) -levent -linih $(WOLF_LIBS) -lm -lpthread

CORE_SRC := $(wildcard core/*.c)
NET_SRC := $(wildcard net/*.c)
CRYPTO_SRC := $(wildcard crypto/*.c)
APPLET_SRC := $(foreach a,$(APPLETS),$(wildcard applets/$(a)/*.c))
LIB_SRC := $(CORE_SRC) $(NET_SRC) $(CRYPTO_SRC) $(APPLET_SRC)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
MAIN_OBJ := $(B)/main.o

# Unit suites and fuzz targets that include an applet's headers ("applets/X/...") are
# built only when X is compiled in; the rest (core/, net/, crypto/) always.
OFF_APPLETS := $(filter-out $(APPLETS),$(KNOWN_APPLETS))
applet_tests = $(if $(OFF_APPLETS),$(filter-out $(shell grep -lE '^\#include "applets/($(subst $(space),|,$(OFF_APPLETS)))/' $(1) /dev/null),$(1)),$(1))
UNIT_SRC := $(call applet_tests,$(sort $(wildcard tests/unit/test_*.c)))
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/%.o) $(B)/tests/unit/runner.o
UNIT_BIN := $(B)/unit-tests
FUZZ_SRC_ALL := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRC := $(call applet_tests,$(FUZZ_SRC_ALL))
REPLAY_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/replay/%)
# Test drivers (tests/tools/X.c -> $(B)/tools/X) and benchmark drivers
# (bench/DIR/X.c -> $(B)/bench/X), each linked with the whole library.
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
BENCH_SRC := $(sort $(wildcard bench/*/*.c))
BENCH_BINS := $(addprefix $(B)/bench/,$(notdir $(BENCH_SRC:.c=)))

# Objects and binaries depend on this stamp, rewritten only when the compile or link
# flags change (CFLAGS=, LDFLAGS=, a new wolfSSL feature set, ...): each configuration
# has its own build directory, the stamp catches what the directory name does not.
CONFIG_LINE := LIBC=$(LIBC) STATIC=$(STATIC) $(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(WOLF_CFLAGS) LINK: $(LDFLAGS_ALL) $(LIBS)
CONFIG_STAMP := $(B)/.config
$(shell mkdir -p $(B); [ "$$(cat $(CONFIG_STAMP) 2>/dev/null)" = '$(CONFIG_LINE)' ] || echo '$(CONFIG_LINE)' > $(CONFIG_STAMP))
# The same for the list of unit suites (a removed test file must leave the runner).
SUITES_STAMP := $(B)/.suites
$(shell [ "$$(cat $(SUITES_STAMP) 2>/dev/null)" = '$(UNIT_SRC)' ] || echo '$(UNIT_SRC)' > $(SUITES_STAMP))

.SECONDARY:
.PHONY: all web deps test-deps test test-bins cross-test cross-test-run sizes build-bin print-bin unit fuzz demo install clean distclean lint-layers bench help

# databox's web app (applets/databox/web, docs/databox-web.md): bundled by esbuild from
# the npm modules pinned in its package-lock.json into build/web.
WEB_DIR := applets/databox/web
WEB_OUT := build/web
WEB_STAMP := $(if $(and $(filter databox,$(APPLETS)),$(filter 1,$(DATABOX_WEB))),$(WEB_OUT)/.well-known/databox-web.json)
WEB_SRC := $(wildcard $(WEB_DIR)/src/*.js $(WEB_DIR)/src/*/*.js) $(WEB_DIR)/style.css $(WEB_DIR)/build.mjs

all: $(BIN) $(TOP_BIN) $(WEB_STAMP)

ifneq ($(TOP_BIN),)
$(TOP_BIN): $(BIN) build/.top
	cp -f $(BIN) $@
endif

web: $(WEB_OUT)/.well-known/databox-web.json
$(WEB_DIR)/node_modules/.package-lock.json: $(WEB_DIR)/package-lock.json mk/web-deps.sh
	@sh mk/web-deps.sh
$(WEB_OUT)/.well-known/databox-web.json: $(WEB_SRC) $(WEB_DIR)/node_modules/.package-lock.json
	cd $(WEB_DIR) && node build.mjs $(abspath $(WEB_OUT))

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

# 'deps' is cheap when everything is there (one dpkg-query and a stamp check).
deps:
	@sh mk/deps.sh $(DEPS_FLAGS)
test-deps:
	@sh mk/deps.sh --test $(DEPS_FLAGS)

DEP_STAMPS := $(WOLF_STAMP) $(if $(CROSS),deps/sysroot-$(GNU_ARCH)/.sealbox-stamp) \
	$(if $(MUSL_PREFIX),$(MUSL_PREFIX)/.sealbox-stamp)
# One run for all stamps (&:, never two deps builds at once under -j), again whenever
# mk/deps.sh or mk/musl-libs.sh changed (new wolfSSL flags), which rebuilds only what
# changed and touches the stamps; the binaries relink when the wolfSSL archive changed.
WOLF_ARCHIVE := $(filter %.a,$(WOLF_LIBS))
ifneq ($(strip $(DEP_STAMPS)),)
$(DEP_STAMPS) &: mk/deps.sh mk/musl-libs.sh
	@sh mk/deps.sh $(DEPS_FLAGS)
endif
ifneq ($(WOLF_ARCHIVE),)
# (read after the deps step, which may have rebuilt it)
$(WOLF_ARCHIVE): $(WOLF_STAMP) ;
endif

# Layering rule: only crypto/ includes wolfSSL, only net/ includes libevent.
lint-layers:
	@sh mk/lint-layers.sh

$(B)/.layers-ok: $(LIB_SRC) $(wildcard core/*.h net/*.h crypto/*.h include/*.h applets/*/*.h) main.c mk/lint-layers.sh
	@mkdir -p $(B)
	@sh mk/lint-layers.sh
	@touch $@

# The linker map (BIN.map) is what `make sizes` splits per library.
$(BIN): $(B)/.layers-ok $(MAIN_OBJ) $(LIB_OBJ) $(CONFIG_STAMP) $(WOLF_ARCHIVE)
	$(CC) $(LDFLAGS_ALL) -Wl,-Map=$@.map -o $@ $(MAIN_OBJ) $(LIB_OBJ) $(LIBS)

$(B)/crypto/%.o: crypto/%.c $(CONFIG_STAMP) | $(DEP_STAMPS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(WOLF_CFLAGS) $(CFLAGS_ALL) -c -o $@ $<

$(B)/%.o: %.c $(CONFIG_STAMP) | $(DEP_STAMPS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

# The unit runner finds its suites by file name: tests/unit/test_foo.c defines
# unit_suite_foo. No shared list to edit.
$(B)/tests/unit/suites.h: $(UNIT_SRC) $(SUITES_STAMP)
	@mkdir -p $(dir $@)
	@for f in $(UNIT_SRC); do n=$$(basename $$f .c); echo "SUITE($${n#test_})"; done > $@

$(B)/tests/unit/runner.o: tests/unit/runner.c $(B)/tests/unit/suites.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) -I$(B)/tests/unit $(CFLAGS_ALL) -c -o $@ $<

$(B)/tests/%.o: tests/%.c $(CONFIG_STAMP) | $(DEP_STAMPS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(WOLF_CFLAGS) $(CFLAGS_ALL) -c -o $@ $<

$(UNIT_BIN): $(UNIT_OBJ) $(LIB_OBJ) $(CONFIG_STAMP) $(WOLF_ARCHIVE)
	$(CC) $(LDFLAGS_ALL) -o $@ $(UNIT_OBJ) $(LIB_OBJ) $(LIBS)

# Fuzz targets replayed over their corpus in every test run (no clang needed).
$(B)/replay/%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay.o $(LIB_OBJ) $(CONFIG_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(B)/tests/fuzz/replay.o $(LIB_OBJ) $(LIBS)

$(B)/tools/%: $(B)/tests/tools/%.o $(LIB_OBJ) $(CONFIG_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(LIB_OBJ) $(LIBS)

define bench_rule
$(B)/bench/$(notdir $(1:.c=)): $(B)/$(1:.c=.o) $$(LIB_OBJ)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$< $$(LIB_OBJ) $$(LIBS)
endef
$(foreach f,$(BENCH_SRC),$(eval $(call bench_rule,$(f))))

unit: $(UNIT_BIN)
test-bins: $(BIN) $(TOP_BIN) $(UNIT_BIN) $(REPLAY_BINS) $(TOOL_BINS) $(WEB_STAMP)

# The replay directory is emptied first: a target of another applet set must not run.
# MAKEVARS lets tests that call make (install.sh, sizes.sh) build the same configuration.
test: test-deps
	@$(MAKE) --no-print-directory test-bins
	@SEALBOX=$(abspath $(BIN)) DATABOX_WEB_BUILD=$(if $(WEB_STAMP),$(abspath $(WEB_OUT))) UNIT_TESTS=$(abspath $(UNIT_BIN)) REPLAY_DIR=$(abspath $(B)/replay) \
		TOOLS=$(abspath $(B)/tools) SAN=$(SAN) WOLFSSL=$(WOLFSSL) APPLETS='$(APPLETS)' \
		MAKEVARS='$(MAKEVARS)' sh tests/run.sh

# A cross-built binary under qemu-user-static: the unit tests and one loopback session
# (make CROSS=arm-linux-gnueabihf- STATIC=1 cross-test; static, so qemu needs no sysroot).
QEMU ?= qemu-$(firstword $(subst -, ,$(ARCH)))-static
# A target whose toolchain, musl or libraries cannot be installed here is one skip line;
# with CROSS_REQUIRE=1 (CI) that skip is a failure, so a broken toolchain cannot pass.
CROSS_REQUIRE ?= 0
CROSS_SKIP = skip() { if [ "$(CROSS_REQUIRE)" = 1 ]; then echo "not ok - $$* (CROSS_REQUIRE=1)"; exit 1; fi; \
	echo "skip - $$*"; exit 0; }
# Two steps: the deps step may install the cross gcc, and ARCH, CC and QEMU are computed
# from it when make reads this file, so the build runs in a make started afterwards.
cross-test:
	@$(CROSS_SKIP); [ -n "$(CROSS)" ] || skip "cross-test: no CROSS= given"; \
	sh mk/deps.sh $(DEPS_FLAGS) || skip "cross $(CROSS) ($(LIBC)): mk/deps.sh could not provide its toolchain or libraries"; \
	$(MAKE) --no-print-directory cross-test-run
cross-test-run:
	@$(CROSS_SKIP); command -v $(CC) >/dev/null 2>&1 || skip "cross $(CROSS): $(CC) not installed"; \
	command -v $(QEMU) >/dev/null 2>&1 || skip "cross $(CROSS): $(QEMU) not installed"; \
	$(MAKE) --no-print-directory $(BIN) $(UNIT_BIN) || exit 1; \
	SEALBOX=$(abspath $(BIN)) UNIT_TESTS=$(abspath $(UNIT_BIN)) QEMU=$(QEMU) sh tests/cross/run.sh

# libFuzzer builds: everything compiled again with clang and the fuzzer runtime.
FUZZ_B := build/fuzz
# -fno-sanitize-recover: undefined behaviour stops the run and leaves a crash file, as a
# memory error does (recovered, UBSan only prints, and the input is not kept)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(CPPFLAGS_ALL) $(WOLF_CFLAGS)
fuzz: deps
	@mkdir -p $(FUZZ_B)
	@# objects built with other flags are built again (the loop below looks at dates only)
	@[ "$$(cat $(FUZZ_B)/flags 2>/dev/null)" = "$(FUZZ_CFLAGS)" ] || { rm -f $(FUZZ_B)/*.o; echo "$(FUZZ_CFLAGS)" >$(FUZZ_B)/flags; }
	@for f in $(LIB_SRC) $(FUZZ_SRC); do \
		o=$(FUZZ_B)/$$(echo $$f | tr / _).o; \
		[ $$o -nt $$f ] || clang $(FUZZ_CFLAGS) -c -o $$o $$f || exit 1; \
	done
	@for f in $(FUZZ_SRC); do \
		n=$$(basename $$f .c); libs=""; \
		for s in $(LIB_SRC); do libs="$$libs $(FUZZ_B)/$$(echo $$s | tr / _).o"; done; \
		clang -fsanitize=fuzzer $(FUZZ_SAN) -o $(FUZZ_B)/$$n $(FUZZ_B)/tests_fuzz_$$n.c.o $$libs $(LIBS) || exit 1; \
		echo "built $(FUZZ_B)/$$n (corpus: tests/fuzz/corpus/$${n#fuzz_}/)"; \
	done

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@SEALBOX=$(abspath $(BIN)) sh tests/demo.sh

# Benchmarks print figures side by side with a peer; they never fail a build.
bench:
	@sh mk/deps.sh --bench $(DEPS_FLAGS)
	@$(MAKE) --no-print-directory $(BIN) $(BENCH_BINS) $(TOOL_BINS)
	@for b in bench/*/run; do [ -n "$(BB)" ] && case $$b in *$(BB)*) ;; *) continue ;; esac; \
		echo "== $$b"; SEALBOX=$(abspath $(BIN)) BENCH_BIN=$(abspath $(B)/bench) TOOLS=$(abspath $(B)/tools) sh $$b; done

# Only what the binary contains: the links from --list, the manuals and units of the
# compiled applets (the units' Documentation= points at the installed manual).
# make sizes: every configuration of the issue's table (static unless SIZES_STATIC=0), its
# text/data/bss and stripped size against mk/size-budget.txt, the split per library of
# the whole set, and what grew since the previous make sizes. Each configuration has its
# own build directory, so a second run only relinks what changed.
SIZES_STATIC ?= 1
SIZE_SETS := all tunneld+viewer+mailgw+hitc tunneld viewer mailgw databox hitc
sizes:
	@bins=""; for set in $(SIZE_SETS); do \
		a=$$(echo $$set | tr + ' '); [ $$set = all ] && a="$(KNOWN_APPLETS)"; \
		$(MAKE) --no-print-directory -s APPLETS="$$a" STATIC=$(SIZES_STATIC) CROSS=$(CROSS) \
			WOLFSSL=$(WOLFSSL) build-bin >/dev/null || exit 1; \
		bins="$$bins $$($(MAKE) --no-print-directory -s APPLETS="$$a" STATIC=$(SIZES_STATIC) \
			CROSS=$(CROSS) WOLFSSL=$(WOLFSSL) print-bin)"; \
	done; \
	CROSS=$(CROSS) sh mk/sizes.sh table $$bins; echo; \
	set -- $$bins; CROSS=$(CROSS) sh mk/sizes.sh libs $$1; echo; \
	for b in $$bins; do CROSS=$(CROSS) sh mk/sizes.sh diff $$b $$(basename $$(dirname $$b)); done; \
	if [ -z "$(CROSS)" ]; then echo; sh mk/rss.sh $$1; fi
build-bin: $(BIN)
print-bin:
	@echo $(BIN)

install: $(BIN) $(WEB_STAMP)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/sealbox $(DESTDIR)$(SYSTEMDDIR) \
		$(DESTDIR)$(DOCDIR)
	@if [ -n "$(WEB_STAMP)" ]; then d=$(DESTDIR)$(DATADIR)/databox-web; rm -rf $$d; \
		install -d $$d/assets $$d/.well-known; \
		for f in $$(cd $(WEB_OUT) && find . -type f); do install -m 0644 $(WEB_OUT)/$$f $$d/$$f; done; \
		echo "installed databox's web app in $$d"; fi
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/sealbox
	@for a in $$($(abspath $(BIN)) --list); do \
		ln -sf sealbox $(DESTDIR)$(PREFIX)/bin/$$a; done
	@for f in etc/*.ini; do [ -f $$f ] || continue; \
		[ -e $(DESTDIR)$(SYSCONFDIR)/sealbox/$$(basename $$f) ] || \
		install -m 0644 $$f $(DESTDIR)$(SYSCONFDIR)/sealbox/; done
	@for a in $(APPLETS); do \
		[ -f docs/$$a.md ] && install -m 0644 docs/$$a.md $(DESTDIR)$(DOCDIR)/; \
		f=etc/systemd/sealbox-$$a.service; [ -f $$f ] || continue; \
		sed 's|@BINDIR@|$(PREFIX)/bin|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g; s|@DOCDIR@|$(DOCDIR)|g' $$f > \
		$(DESTDIR)$(SYSTEMDDIR)/$$(basename $$f); done; true

clean:
	rm -rf build sealbox

distclean: clean
	rm -rf deps

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(TOOL_SRC:tests/%.c=$(B)/tests/%.d)
