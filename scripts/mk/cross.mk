# scripts/mk/cross.mk — cross builds: `make build CONFIG=aarch64 CROSS=aarch64-linux-gnu`
# builds build/aarch64-linux-gnu/aarch64/<flagset>/pmubench on an x86 host.
#
# Compiler and C library: Debian's cross toolchain (host packages below).
# Libraries: Debian's own arm64 PAPI, hwloc and inih, unpacked (never
# installed) into build/sysroot-<debarch>/ by scripts/cross/fetch-debs.sh
# with a private apt state; the sysroot is rebuilt only when its package
# list or the fetch script changes.  docs/pmu-emulated.md has the details.

# Debian architecture of each supported triplet.
CROSS_DEBARCH.aarch64-linux-gnu := arm64
# The libraries pmubench builds against, their runtime packages and the
# shared libraries those link to (apt-get download does not follow
# dependencies; the linker needs them all to resolve DT_NEEDED).
CROSS_DEBS := libpapi-dev libpapi7.0 libsde1 libpfm4 libhwloc-dev libhwloc15 libudev1 libcap2 \
	libnuma1 libnuma-dev libltdl7 libltdl-dev libinih-dev libinih1 libinireader0

ifneq ($(CROSS),)
CROSS_ARCH := $(CROSS_DEBARCH.$(CROSS))
ifeq ($(CROSS_ARCH),)
  $(error unsupported CROSS=$(CROSS); supported: $(patsubst CROSS_DEBARCH.%,%,$(filter CROSS_DEBARCH.%,$(.VARIABLES))))
endif
DEPS_BUILD += gcc-$(CROSS) binutils-$(CROSS) libc6-dev-$(CROSS_ARCH)-cross
SYSROOT := build/sysroot-$(CROSS_ARCH)
CROSS_PKG_CONFIG = PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/$(CROSS)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(CURDIR)/$(SYSROOT) pkg-config
# pkg-config leaves out the system include directories; the sysroot's are not
# the cross compiler's, so it is named here.
PKG_CFLAGS = -I$(SYSROOT)/usr/include/$(CROSS) -I$(SYSROOT)/usr/include $(shell $(CROSS_PKG_CONFIG) --cflags hwloc inih papi 2>/dev/null)
PKG_LIBS = -L$(SYSROOT)/usr/lib/$(CROSS) -L$(SYSROOT)/lib/$(CROSS) \
	-Wl,-rpath-link,$(SYSROOT)/usr/lib/$(CROSS):$(SYSROOT)/lib/$(CROSS) \
	$(shell $(CROSS_PKG_CONFIG) --libs hwloc inih 2>/dev/null)

# Every object needs the sysroot's headers; the binary its libraries.
$(patsubst %.c,$(BUILD)/%.o,$(HARNESS_SRC) $(KERNEL_SRC)) $(BIN): | $(SYSROOT)/.stamp
endif

# The sysroot of a Debian architecture: rebuilt from scratch when the list or
# the script changes, so no stale file survives.  The manifest records what
# went in (package=version).
build/sysroot-%/.stamp: scripts/mk/cross.mk scripts/cross/fetch-debs.sh
	@rm -rf $(dir $@) && mkdir -p $(dir $@)
	@echo "pmubench: unpacking Debian $* packages into $(dir $@)"
	@scripts/cross/fetch-debs.sh $* $(dir $@) $(CROSS_DEBS) >$(dir $@)manifest.tmp
	@mv $(dir $@)manifest.tmp $(dir $@)manifest && touch $@
