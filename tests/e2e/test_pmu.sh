#!/usr/bin/env bash
# End-to-end on an emulated PMU (docs/pmu-emulated.md): the aarch64 build of
# pmubench runs in a QEMU guest whose ARMv8 PMUv3 counts instructions and
# cycles exactly (-icount shift=0), with the PAPI backend; the run
# directories come back over the serial console and tests/pmu/check_pmu.py
# checks them.  Three boots run side by side: extra and pair (1 vCPU: the
# exact counts, compared between boots) and smp (2 vCPUs, 1 and 2 threads).
# No QEMU or cross compiler, or no network for the first download: skip.
set -u
cd "$(dirname "$0")/../.."
name=pmu
for tool in qemu-system-aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-objdump cpio; do
	command -v "$tool" >/dev/null || { echo "skip - $name: $tool not installed (make deps-pmu installs it)"; exit 0; }
done
out=build/pmu/test
rm -rf "$out" && mkdir -p "$out"
start=$(date +%s)
# The cross build exactly as `make help` shows it, then the guest around it.
if ! { make build CONFIG=aarch64 CROSS=aarch64-linux-gnu && make --no-print-directory pmu-image; } >"$out/image.log" 2>&1; then
	if grep -q 'fetch-debs: error: .*(network?)' "$out/image.log"; then
		echo "skip - $name: cannot download Debian's arm64 packages (no network?): $(grep -m1 'fetch-debs: error' "$out/image.log")"
		exit 0
	fi
	tail -20 "$out/image.log"
	echo "not ok - $name: guest image builds (log: $out/image.log)"
	exit 0
fi
echo "ok - $name: guest image (aarch64 cross build, kernel, initramfs) in $(($(date +%s) - start)) s"
boot_start=$(date +%s)
pids=()
for b in "extra 1" "pair 1" "smp 2"; do
	set -- $b
	tests/pmu/boot.sh build/pmu "$2" "$1" "$out/$1" 2>"$out/$1.err" &
	pids+=($!)
done
i=0
for b in extra pair smp; do
	if wait "${pids[$i]}"; then echo "ok - $name: guest $b boots and sends its runs back"; else
		echo "not ok - $name: guest $b boots and sends its runs back ($(cat "$out/$b.err"))"; fi
	i=$((i + 1))
done
echo "# boots: $(($(date +%s) - boot_start)) s wall"
aarch64-linux-gnu-objdump -d --no-show-raw-insn build/aarch64-linux-gnu/aarch64/default/pmubench >"$out/pmubench.dis"
"${PYTHON:-/usr/bin/python3}" tests/pmu/check_pmu.py "$out" "$out/pmubench.dis" build/sysroot-arm64/manifest ||
	echo "not ok - $name: check_pmu.py ran to the end"
echo "# total: $(($(date +%s) - start)) s wall"
