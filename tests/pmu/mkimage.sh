#!/usr/bin/env bash
# mkimage.sh OUT.cpio.gz PMUBENCH SYSROOT BUSYBOX — the emulated-PMU guest's
# initramfs: busybox (static) as /init's shell, the cross C library and the
# sysroot's shared libraries (PAPI, libpfm4, hwloc, inih and what they link),
# PAPI's event table, pmubench and the guest scenario files (tests/pmu/).
set -euo pipefail
out=$1 bin=$2 sysroot=$3 busybox=$4
here=$(cd "$(dirname "$0")" && pwd)
triplet=aarch64-linux-gnu
cross_lib=/usr/$triplet/lib
root=$(mktemp -d "${out%/*}/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,lib/$triplet,proc,sys,dev,tmp,pmb,out,usr/share}
install -m 755 "$busybox" "$root/bin/busybox"
install -m 755 "$here/init" "$root/init"
install -m 644 "$here/guest.sh" "$here/pmu.ini" "$root/pmb/"
install -m 755 "$bin" "$root/usr/bin/pmubench"
# The C library of the cross toolchain is the same Debian glibc as arm64's.
cp -a "$cross_lib"/ld-linux-aarch64.so.1 "$root/lib/"
for l in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1; do
	cp -aL "$cross_lib/$l" "$root/lib/$triplet/"
done
# Shared libraries only (no headers, static archives, docs).
for d in lib/$triplet usr/lib/$triplet; do
	[ -d "$sysroot/$d" ] || continue
	mkdir -p "$root/$d"
	find "$sysroot/$d" -maxdepth 1 -name '*.so.*' -exec cp -a {} "$root/$d/" \;
done
cp -a "$sysroot/usr/share/papi" "$root/usr/share/"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
