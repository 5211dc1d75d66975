#!/usr/bin/env bash
# boot.sh IMAGE_DIR SMP MODE OUT — boot the emulated-PMU guest once and bring
# its /out back into OUT/guest/ (console log in OUT/console.log).
#
# -cpu cortex-a57: a core libpfm4 knows (PMU arm_ac57); -icount shift=0
# makes instructions and cycles count exactly (1 instruction = 1 ns of
# virtual time); perf_event_paranoid=1 because Debian's default 3 makes PAPI
# disable its perf_event component.  -nic none avoids a missing-ROM error.
set -uo pipefail
img=$1 smp=$2 mode=$3 out=$4
mkdir -p "$out/guest"
# A guest's work is ~20 s of CPU; on a loaded host wall time can be ten times
# that, so a hang is caught by CPU time (SIGXCPU) and a generous wall limit.
(ulimit -t "${PMB_PMU_CPU_SECONDS:-300}"
exec timeout "${PMB_PMU_TIMEOUT:-1500}" qemu-system-aarch64 -M virt -cpu cortex-a57 -smp "$smp" -m 1024 \
	-nographic -nic none -icount shift=0 -no-reboot \
	-kernel "$img/vmlinuz" -initrd "$img/initrd.cpio.gz" \
	-append "console=ttyAMA0 panic=-1 quiet sysctl.kernel.perf_event_paranoid=1 pmb.mode=$mode" \
	</dev/null >"$out/console.log" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
	echo "boot.sh: qemu exited $rc (124: wall time limit; 137 or 152: CPU time limit); console: $out/console.log" >&2
	exit 1
fi
tr -d '\r' <"$out/console.log" | sed -n '/^PMB-TAR-BEGIN$/,/^PMB-TAR-END$/p' | sed '1d;$d' |
	base64 -d | tar -xz -C "$out/guest" || {
	echo "boot.sh: no result archive on the console; see $out/console.log" >&2
	exit 1
}
