# scripts/mk/profile.mk — `make profile` and `make heap` (docs/profile.md).
# Included by the Makefile after its build section: uses $(BIN), $(CONFIG),
# $(FLAGSET), $(OUT) and the `build` target from there.
#
#   make profile KERNEL=traversal/list_shuffled SIZE=64M [CONFIG=x86] [PROFILE_SECONDS=3]
#   make heap    KERNEL=alloc/bad SIZE=4K [CONFIG=x86] [HEAP_SAMPLES=3]

PROFILE_SECONDS ?= 3
HEAP_SAMPLES ?= 3
DEPS_PROFILE := linux-perf valgrind

define profile_need_point
	@test -n "$(KERNEL)" -a -n "$(SIZE)" || { echo "pmubench: error: give one point: make $(1) KERNEL=family/variant SIZE=bytes (e.g. KERNEL=$(2) SIZE=$(3)); kernels: make list" >&2; exit 1; }
endef

.PHONY: profile heap deps-profile
deps-profile:
	$(call install_missing,$(DEPS_PROFILE))

profile: build
	$(call profile_need_point,profile,traversal/list_shuffled,64M)
	@scripts/profile/profile.sh --bin $(BIN) --config configs/$(CONFIG).ini --flagset $(FLAGSET) \
	  --out $(OUT) --seconds $(PROFILE_SECONDS) $(KERNEL) $(SIZE)

heap: build
	$(call profile_need_point,heap,alloc/bad,4K)
	@scripts/profile/heap.sh --bin $(BIN) --config configs/$(CONFIG).ini --flagset $(FLAGSET) \
	  --out $(OUT) --samples $(HEAP_SAMPLES) $(KERNEL) $(SIZE)
