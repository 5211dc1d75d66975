#!/bin/sh
# The scenarios the emulated-PMU guest runs (tests/pmu/init passes the mode
# from the kernel command line); results go to /out/<run>/, one directory per
# pmubench run, checked on the host by tests/pmu/check_pmu.py.
#
#   pair    every kernel over /pmb/pmu.ini twice, 1 thread: min_sample_ms
#           0.5 (run sweep-a) and 1.0 (sweep-b), so most points have two
#           iteration counts and the host can split instructions into a
#           per-pass and a fixed part
#   extra   pair, plus: the pass rotation with one event per pass, the
#           automatic size list, a precise sum/index point at 4K, and
#           your own events: the Cortex-A57's native INST_RETIRED and its
#           raw code 0x08 beside the built-in instructions (userev)
#   smp     one sweep with 1 and 2 threads, two sizes (boot with -smp 2:
#           both vCPUs share one host thread, so this is the slow one)
mode=$1
bin=/usr/bin/pmubench
cfg=/pmb/pmu.ini
run() { # name args...
	name=$1
	shift
	echo "== $name: pmubench $*"
	mkdir -p "/out/$name"
	$bin --config $cfg --backend papi --run-dir "/out/$name" -q "$@" >"/out/$name.stdout" 2>"/out/$name.stderr"
	echo "$?" >"/out/$name.rc"
	tail -n 3 "/out/$name.stderr"
}
uname -a
cat /proc/cpuinfo | head -n 12
$bin --version
$bin --config $cfg --backend papi --list >/out/list.txt 2>&1
case $mode in
pair | extra)
	run sweep-a --threads 1 --min-sample-ms 0.5
	run sweep-b --threads 1 --min-sample-ms 1
	;;
smp) run sweep-smp --threads 1,2 --sizes 4K,64K ;;
*)
	echo "unknown mode '$mode'"
	exit 2
	;;
esac
[ "$mode" = extra ] || exit 0
run passes --filter sum/index --sizes 4K --threads 1 --max-events-per-pass 1 --min-samples 6 --reps 6
run auto --filter sum/index --sizes auto --max-size 4M --threads 1
run ci --filter sum/index --sizes 4K --threads 1 --target-ci 1 --min-samples 10 --reps 100
run userev --sizes 4K --threads 1 --counters cycles,instructions,arm_ac57::INST_RETIRED,perf_raw::r08
exit 0
