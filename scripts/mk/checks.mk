# scripts/mk/checks.mk — sanitizer, memcheck and fuzzing targets; the Makefile
# includes this after its own variables (LIB_SRC, WRAP, LIBS, HEADERS,
# compile_flags).  docs/reliability.md explains each.
#
#   make check-asan        ASan+UBSan build of pmubench and the cmocka tests
#                          (build/asan/), run them, plus a small sweep
#   make check-valgrind    cmocka tests and a sweep of every kernel under
#                          valgrind memcheck
#   make fuzz              libFuzzer targets (clang), FUZZ_SECONDS each
#   make fuzz-replay       replay tests/fuzz/corpus/ with ASan+UBSan (no clang
#                          needed); `make test` does this
.PHONY: check-asan check-asan-build check-valgrind fuzz fuzz-build fuzz-replay fuzz-replay-build

# --- AddressSanitizer + UndefinedBehaviorSanitizer ---------------------------
ASAN_BUILD := build/asan
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
# PAPI keeps its allocations in its own static data and PAPI_shutdown does
# not free them; dlclose then turns them into "direct leaks" in an unknown
# module (tests/valgrind.supp explains).  Sanitizer builds keep PAPI loaded
# (tests/fuzz/asan_keep_loaded.c wraps dlclose into a no-op), so those blocks
# stay reachable and leak checking stays on for everything else.
ASAN_LDFLAGS := -fsanitize=address,undefined -Wl,--wrap=dlclose
ASAN_TEST_SRC := $(filter-out tests/test_counters_sim.c,$(wildcard tests/test_*.c))
ASAN_TESTS := $(patsubst tests/%.c,$(ASAN_BUILD)/%,$(ASAN_TEST_SRC))
ASAN_LIB_OBJ = $(patsubst %.c,$(ASAN_BUILD)/obj/%.o,$(LIB_SRC)) $(ASAN_BUILD)/obj/tests/fuzz/asan_keep_loaded.o

$(ASAN_BUILD)/obj/%.o: %.c $(HEADERS) scripts/mk/checks.mk
	@mkdir -p $(dir $@)
	$(CC) $(call compile_flags,$(ASAN_CFLAGS)) $(shell pkg-config --cflags cmocka) -c $< -o $@

$(ASAN_BUILD)/pmubench: $(ASAN_LIB_OBJ) $(ASAN_BUILD)/obj/harness/pmb_main.o
	$(CC) $^ -o $@ $(ASAN_LDFLAGS) $(WRAP) $(LIBS)
$(ASAN_BUILD)/test_%: $(ASAN_LIB_OBJ) $(ASAN_BUILD)/obj/tests/test_%.o
	$(CC) $^ -o $@ $(ASAN_LDFLAGS) $(WRAP) $(LIBS) $(shell pkg-config --libs cmocka)

check-asan-build: $(ASAN_BUILD)/pmubench $(ASAN_TESTS)
check-asan: check-asan-build
	@PMB_ASAN_CMOCKA=1 bash tests/e2e/test_sanitizers.sh

# --- valgrind memcheck -------------------------------------------------------
# Uses the build/test binaries (-O2 -g): no separate build.
check-valgrind: test-build
	@bash tests/e2e/test_memcheck.sh

# --- fuzzing -----------------------------------------------------------------
# libFuzzer comes with clang 14 on Debian 12 (package libclang-rt-14-dev,
# pulled in by clang-14).  Targets: tests/fuzz/fuzz_<target>.c.
FUZZ_CC := clang
FUZZ_BUILD := build/fuzz
FUZZ_REPLAY_BUILD := build/fuzz-replay
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -Wno-unknown-warning-option -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_LIB_OBJ = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRC)) $(FUZZ_BUILD)/obj/tests/fuzz/asan_keep_loaded.o
REPLAY_LIB_OBJ = $(patsubst %.c,$(FUZZ_REPLAY_BUILD)/obj/%.o,$(LIB_SRC)) $(FUZZ_REPLAY_BUILD)/obj/tests/fuzz/asan_keep_loaded.o

$(FUZZ_BUILD)/obj/%.o: %.c $(HEADERS) scripts/mk/checks.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(call compile_flags,$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link) -c $< -o $@
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_LIB_OBJ) $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o
	$(FUZZ_CC) $^ -o $@ -fsanitize=fuzzer,address,undefined -Wl,--wrap=dlclose $(WRAP) $(LIBS)

# The replay build uses $(CC) (gcc by default) and a plain main: no
# libFuzzer needed, so `make test` runs the corpus on any machine.
$(FUZZ_REPLAY_BUILD)/obj/%.o: %.c $(HEADERS) scripts/mk/checks.mk
	@mkdir -p $(dir $@)
	$(CC) $(call compile_flags,$(filter-out -Wno-unknown-warning-option,$(FUZZ_FLAGS))) -c $< -o $@
$(FUZZ_REPLAY_BUILD)/replay_%: $(REPLAY_LIB_OBJ) $(FUZZ_REPLAY_BUILD)/obj/tests/fuzz/fuzz_%.o \
		$(FUZZ_REPLAY_BUILD)/obj/tests/fuzz/replay_main.o
	$(CC) $^ -o $@ $(ASAN_LDFLAGS) $(WRAP) $(LIBS)

fuzz-build: $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
# Each target runs FUZZ_SECONDS in one process (one core; no -jobs, which
# would write fuzz-N.log into the working directory), new inputs go to
# build/fuzz/new/<target>/; crashes are written as tests/fuzz/<target>/crash-*
# (git-ignored).  Keep what is worth keeping with `make fuzz-merge`.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/new/$$t tests/fuzz/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -timeout=10 -artifact_prefix=tests/fuzz/$$t/ -print_final_stats=1 \
	    $(FUZZ_BUILD)/new/$$t tests/fuzz/corpus/$$t || exit 1; \
	done
# Minimise the stored corpus together with what `make fuzz` found.
fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_BUILD)/merged/$$t; mkdir -p $(FUZZ_BUILD)/merged/$$t; \
	  $(FUZZ_BUILD)/fuzz_$$t -merge=1 -max_len=4096 $(FUZZ_BUILD)/merged/$$t \
	    tests/fuzz/corpus/$$t $(FUZZ_BUILD)/new/$$t 2>/dev/null || exit 1; \
	  rm -rf tests/fuzz/corpus/$$t; cp -r $(FUZZ_BUILD)/merged/$$t tests/fuzz/corpus/$$t; \
	  echo "fuzz-merge: $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) files"; \
	done
fuzz-replay-build: $(patsubst %,$(FUZZ_REPLAY_BUILD)/replay_%,$(FUZZ_TARGETS))
fuzz-replay: fuzz-replay-build
	@bash tests/e2e/test_fuzz_replay.sh
