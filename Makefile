# pmubench — `make run CONFIG=x86` and `make test` are all a new machine needs.
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# --- configuration -----------------------------------------------------------
# A config is configs/<name>.ini: `key = value` lines that this Makefile
# includes (build keys) and pmubench reads with libinih (run keys).
CONFIGS := $(sort $(basename $(notdir $(wildcard configs/*.ini))))
ARCH := $(shell uname -m)
ifeq ($(origin CONFIG),undefined)
  ifeq ($(ARCH),x86_64)
    CONFIG := x86
  else ifeq ($(ARCH),aarch64)
    CONFIG := aarch64
  else
    CONFIG := generic
  endif
  CONFIG_PICKED := 1
endif
ifeq ($(wildcard configs/$(CONFIG).ini),)
  $(error unknown config '$(CONFIG)'; available: $(CONFIGS) (configs/<name>.ini))
endif
include configs/$(CONFIG).ini

# Standard variables win over the config: make CC=clang CFLAGS='-O3'.
# CROSS=<triplet> cross-compiles with Debian's <triplet>-gcc against an
# unpacked sysroot (scripts/mk/cross.mk; docs/pmu-emulated.md).
CROSS ?=
ifeq ($(origin CC),default)
  CC := $(if $(CROSS),$(CROSS)-$(cc),$(cc))
endif
# CFLAGS given by the user make one flag set, "custom"; otherwise the
# config's flag sets (flagsets = a b; flags.a = ...; cc.a = ...).
ifneq ($(filter command line environment,$(origin CFLAGS)),)
  FLAGSETS := custom
else
  FLAGSETS := $(or $(flagsets),default)
endif
CFLAGS ?= $(cflags)
LDFLAGS ?=
PREFIX ?= /usr/local
DESTDIR ?=
FLAGSET ?= $(firstword $(FLAGSETS))
# The harness (timing, counters, output) is built with the config's cflags
# whatever the flag set, so a flag set changes the code under test only.
HARNESS_CFLAGS ?= $(if $(filter custom,$(FLAGSETS)),$(CFLAGS),$(cflags))
flagset_cc = $(or $(cc.$(1)),$(CC))
flagset_cflags = $(if $(filter custom,$(1)),$(CFLAGS),$(or $(flags.$(1)),$(CFLAGS)))
PYTHON := /usr/bin/python3
# The analysis tools are modules of the package scripts/pmubench/.
PMB_PY := PYTHONPATH=scripts $(PYTHON) -m
OUT ?= results

# --- dependencies (Debian) ---------------------------------------------------
# Each package and why: README.md "Dependencies".
DEPS_BUILD := gcc make pkg-config libpapi-dev libhwloc-dev libinih-dev \
	$(sort $(filter clang,$(foreach fs,$(FLAGSETS),$(cc.$(fs)))))
DEPS_RUN := papi-tools hwloc
DEPS_TEST := libcmocka-dev valgrind universal-ctags libbenchmark-tools python3-matplotlib python3-pandas python3-scipy python3-numpy \
	chromium
DEPS_BENCH := likwid
DEPS_BROWSER := chromium

# Quick when all is present: one dpkg-query for the lot; apt-get only for
# what is missing (and `apt-get update` only then).
define install_missing
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "pmubench: installing missing Debian packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "pmubench: error: not root; run: sudo apt-get install -y" $$missing >&2; exit 1; \
	  fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { echo "pmubench: error: apt-get install failed for:" $$missing >&2; exit 1; }; \
	fi
endef

.PHONY: deps deps-test deps-bench deps-browser
deps:
	$(call install_missing,$(DEPS_BUILD) $(DEPS_RUN))
deps-test: deps
	$(call install_missing,$(DEPS_TEST))
deps-bench: deps-test
	$(call install_missing,$(DEPS_BENCH))
deps-browser:
	$(call install_missing,$(DEPS_BROWSER))

# --- build -------------------------------------------------------------------
# gcc's -Wformat-truncation flags every bounded snprintf; clang lacks it.
WARN := -Wall -Wextra $(shell $(CC) -Werror -Wno-format-truncation -x c -fsyntax-only /dev/null 2>/dev/null && echo -Wno-format-truncation)
PKG_CFLAGS = $(shell pkg-config --cflags hwloc inih papi 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs hwloc inih 2>/dev/null)
# PAPI is loaded with dlopen (harness/pmb_counters_papi.c): a machine
# without it still runs, with every counter empty and the reason recorded.
LIBS = $(PKG_LIBS) -ldl -lpthread -lm
# The counting allocator behind the `allocs` column.
WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=strdup
GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
PMB_VERSION := 0.1.0

HARNESS_DIRS := harness $(sort $(dir $(wildcard harness/*/*.c)))
HARNESS_SRC := $(wildcard harness/*.c harness/*/*.c)
KERNEL_SRC := $(wildcard kernels/*.c)
LIB_SRC := $(filter-out harness/pmb_main.c,$(HARNESS_SRC)) $(KERNEL_SRC)
HEADERS := $(wildcard harness/*.h harness/*/*.h kernels/*.h)

BUILD := build/$(if $(CROSS),$(CROSS)/)$(CONFIG)/$(FLAGSET)
BIN := $(BUILD)/pmubench

# compile_flags(flags[, flags recorded as the run's cflags])
define compile_flags
-std=gnu11 $(1) $(WARN) $(patsubst %,-I%,$(HARNESS_DIRS)) -Ikernels $(PKG_CFLAGS) \
  -DPMB_GIT_COMMIT='"$(GIT_COMMIT)"' -DPMB_VERSION='"$(PMB_VERSION)"' -DPMB_CFLAGS='"$(strip $(or $(2),$(1)))"'
endef

# One binary per flag set: build/<config>/<flagset>/pmubench.
.PHONY: build build-one
build: deps
	@$(foreach fs,$(FLAGSETS),$(MAKE) --no-print-directory build-one CONFIG=$(CONFIG) FLAGSET=$(fs) \
	  CC='$(call flagset_cc,$(fs))' CFLAGS='$(call flagset_cflags,$(fs))' \
	  HARNESS_CFLAGS='$(HARNESS_CFLAGS)' &&) true
build-one: $(BIN)
	@echo "built $(BIN) ($(CC) $(CFLAGS))"

$(BUILD)/kernels/%.o: kernels/%.c $(HEADERS) Makefile configs/$(CONFIG).ini
	@mkdir -p $(dir $@)
	$(CC) $(call compile_flags,$(CFLAGS)) -c $< -o $@
$(BUILD)/harness/%.o: harness/%.c $(HEADERS) Makefile configs/$(CONFIG).ini
	@mkdir -p $(dir $@)
	$(CC) $(call compile_flags,$(HARNESS_CFLAGS),$(CFLAGS)) -c $< -o $@

$(BIN): $(patsubst %.c,$(BUILD)/%.o,$(HARNESS_SRC) $(KERNEL_SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(WRAP) $(LIBS)

# libpmubench: pmb_region_begin/end for your own program (lib/pmb_region.h),
# the harness's counters, clocks, stats and CSV reporter without its runner
# and kernels.  Hidden visibility: only the pmb_region_* API (and the
# counting malloc of lib/pmb_region_alloc.c) is exported; initial-exec TLS
# because malloc itself reads the thread's counts.
LIBPMB_SRC := $(filter-out harness/pmb_main.c harness/run/pmb_runner.c harness/run/pmb_runner_stop.c harness/run/pmb_sweep.c harness/run/pmb_resume.c \
	harness/run/pmb_plan.c harness/run/pmb_plugin.c harness/output/pmb_list.c,$(HARNESS_SRC)) \
	$(wildcard lib/*.c)
LIBPMB := build/lib/libpmubench.so
LIBPMB_SONAME := libpmubench.so.0
$(LIBPMB): $(patsubst %.c,build/lib/obj/%.o,$(LIBPMB_SRC))
	$(CC) -shared -Wl,-soname,$(LIBPMB_SONAME) -Wl,--no-undefined $^ -o $@ $(LIBS)
	ln -sf libpmubench.so $(dir $@)$(LIBPMB_SONAME)
build/lib/obj/%.o: %.c $(HEADERS) lib/pmb_region.h Makefile
	@mkdir -p $(dir $@)
	$(CC) $(call compile_flags,$(cflags)) -Ilib -fPIC -fvisibility=hidden -ftls-model=initial-exec -c $< -o $@
.PHONY: lib
lib: deps $(LIBPMB)

# --- run ---------------------------------------------------------------------
.PHONY: run list
# Several flag sets share one run directory (--run-dir), one after the
# other on the same pinned cores.
RUN_DIR := $(OUT)/$(CONFIG)-$(shell hostname -s)-$(shell date -u +%Y%m%dT%H%M%SZ)
run: build
	@$(if $(CONFIG_PICKED),echo "pmubench: no CONFIG given; using CONFIG=$(CONFIG) for $(ARCH) (available: $(CONFIGS))";)
ifeq ($(words $(FLAGSETS)),1)
	build/$(CONFIG)/$(FLAGSETS)/pmubench --config configs/$(CONFIG).ini --flagset $(FLAGSETS) --out $(OUT) $(ARGS)
else
	$(foreach fs,$(FLAGSETS),build/$(CONFIG)/$(fs)/pmubench --config configs/$(CONFIG).ini --flagset $(fs) --run-dir $(RUN_DIR) $(ARGS) &&) true
	@echo "$(RUN_DIR)"
endif

list: build
	build/$(CONFIG)/$(FLAGSET)/pmubench --config configs/$(CONFIG).ini --list

# --- tests -------------------------------------------------------------------
TEST_BUILD := build/test
TEST_CFLAGS := -O2 -g -Werror
TEST_BINS := $(patsubst tests/%.c,$(TEST_BUILD)/%,$(wildcard tests/test_*.c)) $(TEST_BUILD)/pmubench

$(TEST_BUILD)/obj/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(call compile_flags,$(TEST_CFLAGS)) $(shell pkg-config --cflags cmocka) -c $< -o $@

TEST_LIB_OBJ = $(patsubst %.c,$(TEST_BUILD)/obj/%.o,$(LIB_SRC))
$(TEST_BUILD)/pmubench: $(TEST_LIB_OBJ) $(TEST_BUILD)/obj/harness/pmb_main.o
	$(CC) $^ -o $@ $(WRAP) $(LIBS)
$(TEST_BUILD)/test_%: $(TEST_LIB_OBJ) $(TEST_BUILD)/obj/tests/test_%.o
	$(CC) $^ -o $@ $(WRAP) $(LIBS) $(shell pkg-config --libs cmocka)

.PHONY: test test-build
test-build: deps-test $(TEST_BINS)
# The asan cmocka programs are built first; tests/run.sh runs every
# build/*/test_* it finds (scripts/mk/checks.mk has the sanitizer builds).
test: test-build check-asan-build
	@tests/run.sh

# --- scripts -----------------------------------------------------------------
# Without RUN: the newest *sweep* under $(OUT), named on stderr.  Not a
# profile (perf.data), heap (dhat.out), validate-* or bench-* run, nor a
# directory without summary.csv and meta.json.
NEWEST_SWEEP = for d in $$(ls -1dt $(OUT)/*/ 2>/dev/null); do d=$${d%/}; \
	  [ -f "$$d/summary.csv" ] && [ -f "$$d/meta.json" ] && [ ! -e "$$d/perf.data" ] && \
	  [ ! -e "$$d/dhat.out" ] || continue; \
	  case $${d\#\#*/} in validate-*|bench-*) continue;; esac; echo "$$d"; break; done
.PHONY: plot report compare
plot: deps-test
	@run='$(RUN)'; if [ -z "$$run" ]; then run=$$($(NEWEST_SWEEP)); \
	  test -n "$$run" || { echo "pmubench: error: no sweep in $(OUT)/ (profile, heap, validate and bench runs are not sweeps); make run first, or give RUN=results/<dir>" >&2; exit 1; }; \
	  echo "pmubench: plotting the newest sweep, $$run (RUN=results/<dir> for another)" >&2; fi; \
	  $(PMB_PY) pmubench.plot "$$run" && $(PMB_PY) pmubench.report "$$run"
report: plot
# FLAGSETS counts only when given: otherwise it is the config's list.
COMPARE_FLAGSETS = $(if $(filter command line environment,$(origin FLAGSETS)),$(FLAGSETS))
# Without A: B is RUN (given) or the newest run; A is BASELINE=NAME (saved
# with --save-baseline) or the previous run of B's config on this machine.
GIVEN_RUN = $(if $(filter command line environment,$(origin RUN)),$(RUN))
compare: deps-test
	$(PMB_PY) pmubench.compare $(if $(A),$(A) $(B),--results $(OUT) $(if $(BASELINE),--baseline $(BASELINE)) \
	  $(if $(GIVEN_RUN),--run $(GIVEN_RUN))) $(if $(COMPARE_FLAGSETS),--flagsets $(COMPARE_FLAGSETS)) $(COMPARE_ARGS)

# Targets of one concern each, all in scripts/mk/: profile/heap, validate,
# bench, slurm, and checks (sanitizers, memcheck, fuzzing).
include $(wildcard scripts/mk/*.mk)

# --- install / clean ---------------------------------------------------------
.PHONY: install clean help plugin-example region-example
# The binary, libpmubench (regions), the two public headers (pmb_kernel.h
# for plugins, pmb_region.h for regions) and pmubench.pc for pkg-config.
install: build $(LIBPMB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/pmubench \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pmubench
	install -m 644 kernels/pmb_kernel.h lib/pmb_region.h $(DESTDIR)$(PREFIX)/include/pmubench/
	install -m 755 $(LIBPMB) $(DESTDIR)$(PREFIX)/lib/$(LIBPMB_SONAME)
	ln -sf $(LIBPMB_SONAME) $(DESTDIR)$(PREFIX)/lib/libpmubench.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(PMB_VERSION)|' lib/pmubench.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/pmubench.pc

# Template for your own code, built outside the tree against an install in
# build/sdk (pkg-config with a sysroot, as a cross build would):
#   make plugin-example   docs/examples/plugin -> build/plugin-example/libpmb_dot.so
#   make region-example   docs/examples/region -> build/region-example/demo
SDK := $(abspath build/sdk)
SDK_PKG_CONFIG := PKG_CONFIG_PATH=$(SDK)/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(SDK)
plugin-example region-example: %-example:
	@$(MAKE) --no-print-directory install DESTDIR=$(SDK) PREFIX=/usr >/dev/null
	@rm -rf build/$*-example && cp -r docs/examples/$* build/$*-example
	$(SDK_PKG_CONFIG) $(MAKE) --no-print-directory -C build/$*-example
	@echo "pmubench: built build/$*-example; run it with:"
	@$(if $(filter plugin,$*),echo "  $(BIN) --kernel-lib build/plugin-example/libpmb_dot.so --filter dot",\
	  echo "  PMB_RUN_DIR=results/demo LD_LIBRARY_PATH=$(SDK)/usr/lib build/region-example/demo")

clean:
	rm -rf build

help:
	@echo "pmubench — hardware performance-counter microbenchmarks"
	@echo
	@echo "  make run CONFIG=x86     install deps, build, run the sweep into $(OUT)/<run>/"
	@echo "  make test               build and run the whole test suite"
	@echo "  make list               kernels, variants, counters available here and why not"
	@echo "  make plot [RUN=dir]     plots + report.html for a run (default: newest)"
	@echo "  make compare A=dir B=dir  ratios with CIs and Mann-Whitney p-values"
	@echo "  make compare [BASELINE=name]   newest run vs a saved baseline (--save-baseline)"
	@echo "                          or, without BASELINE, vs the previous run of its config"
	@echo "  make run CONFIG=flags   the compiler-flag matrix; then make compare A=dir FLAGSETS=O0,O3-native"
	@echo "  make profile KERNEL=traversal/list_shuffled SIZE=64M   perf + flamegraph of one point"
	@echo "  make heap KERNEL=alloc/bad SIZE=4K   DHAT heap profile vs the counting allocator"
	@echo "  make run CONFIG=sim     simulated cache/branch counters (callgrind)"
	@echo "  make validate [RUN=dir]  check each kernel's counter signature on this hardware"
	@echo "  make bench              the instrument's own benchmark (overhead, precision, cost)"
	@echo "  make slurm NODES=...    run on every node of a Slurm cluster; slurm-gather compares"
	@echo "  make check-asan          ASan+UBSan build and tests (part of make test)"
	@echo "  make check-valgrind      valgrind memcheck of the tests and a sweep (part of make test)"
	@echo "  make fuzz [FUZZ_SECONDS=60]   libFuzzer targets (clang), FUZZ_SECONDS each"
	@echo "  make test-pmu           PAPI on an emulated PMU: aarch64 guest under QEMU (part of make test)"
	@echo "  make build CONFIG=aarch64 CROSS=aarch64-linux-gnu   cross build with Debian's arm64 libraries"
	@echo "  make report [RUN=dir]   the same as make plot (plots + report.html)"
	@echo "  make slurm-gather / slurm-resubmit   collect a cluster run / rerun its failed nodes"
	@echo "  make install [PREFIX=/usr/local DESTDIR=]   binary, libpmubench, headers, pmubench.pc"
	@echo "  make lib                build/lib/libpmubench.so (pmb_region_begin/end for your program)"
	@echo "  make plugin-example     build docs/examples/plugin out of tree: a --kernel-lib kernel"
	@echo "  make region-example     build docs/examples/region out of tree: a region-instrumented program"
	@echo "  make deps / deps-test / deps-bench / deps-browser / deps-profile / deps-pmu   install Debian packages"
	@echo "  make fixtures           regenerate tests/fixtures/run-* from the real binary (after a schema change)"
	@echo "  make clean              remove build/ (results/ stay)"
	@echo "  make help               this list"
	@echo "  building blocks: build build-one test-build check-asan-build fuzz-build fuzz-replay"
	@echo "                   fuzz-replay-build fuzz-merge pmu-image"
	@echo
	@echo "  configs: $(CONFIGS)   (CONFIG=$(CONFIG)$(if $(CONFIG_PICKED), picked for $(ARCH)))"
	@echo "  extra harness options: make run ARGS='--filter sum --sizes 4K,1M'"
.SECONDARY:
