# scripts/mk/pmu.mk — the emulated-PMU guest (docs/pmu-emulated.md).
#
#   make test-pmu    build the aarch64 guest (cached in build/pmu/), boot it
#                    under QEMU with an emulated PMUv3 and check PAPI's counts
#   make pmu-image   only build the guest: kernel, initramfs
#
# The image is rebuilt only when its inputs change: the cross-built pmubench
# (make build CONFIG=aarch64 CROSS=aarch64-linux-gnu), the sysroot, the
# files in tests/pmu/ and this file.
.PHONY: test-pmu pmu-image deps-pmu
PMU_DIR := build/pmu
PMU_CROSS := aarch64-linux-gnu
PMU_BIN := build/$(PMU_CROSS)/aarch64/default/pmubench
DEPS_PMU := qemu-system-arm gcc-$(PMU_CROSS) binutils-$(PMU_CROSS) libc6-dev-arm64-cross cpio

deps-pmu:
	$(call install_missing,$(DEPS_PMU))
deps-test: deps-pmu

pmu-image: deps-pmu
	@$(MAKE) --no-print-directory build CONFIG=aarch64 CROSS=$(PMU_CROSS) >$(PMU_DIR)-build.log 2>&1 || \
	  { cat $(PMU_DIR)-build.log; exit 1; }
	@$(MAKE) --no-print-directory $(PMU_DIR)/vmlinuz $(PMU_DIR)/initrd.cpio.gz

# Debian's arm64 kernel: PL011 console, initrd, ARM_PMU and HW_PERF_EVENTS
# built in, so no modules are needed; only boot/vmlinuz-* is unpacked.
$(PMU_DIR)/vmlinuz: scripts/mk/pmu.mk scripts/cross/fetch-debs.sh
	@rm -rf $(PMU_DIR)/kernel && mkdir -p $(PMU_DIR)/kernel
	@PMB_DEB_FILTER='./boot/vmlinuz-*' scripts/cross/fetch-debs.sh arm64 $(PMU_DIR)/kernel \
	  linux-image-arm64-unsigned >$(PMU_DIR)/kernel/manifest
	@cp $(PMU_DIR)/kernel/boot/vmlinuz-* $@ && rm -rf $(PMU_DIR)/kernel/boot
	@echo "pmubench: guest kernel $$(cat $(PMU_DIR)/kernel/manifest)"

$(PMU_DIR)/busybox: scripts/mk/pmu.mk scripts/cross/fetch-debs.sh
	@rm -rf $(PMU_DIR)/bb && mkdir -p $(PMU_DIR)/bb
	@PMB_DEB_FILTER='./bin/busybox' scripts/cross/fetch-debs.sh arm64 $(PMU_DIR)/bb busybox-static >$(PMU_DIR)/bb/manifest
	@mv $(PMU_DIR)/bb/bin/busybox $@ && touch $@

$(PMU_DIR)/initrd.cpio.gz: $(PMU_BIN) $(PMU_DIR)/busybox build/sysroot-arm64/.stamp \
		$(wildcard tests/pmu/*) scripts/mk/pmu.mk
	@mkdir -p $(PMU_DIR)
	@tests/pmu/mkimage.sh $@ $(PMU_BIN) build/sysroot-arm64 $(PMU_DIR)/busybox
	@echo "pmubench: guest image $@ ($$(du -h $@ | cut -f1))"

test-pmu: deps-pmu
	@bash tests/e2e/test_pmu.sh
