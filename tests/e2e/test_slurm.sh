#!/usr/bin/env bash
# End-to-end against a real multi-node Slurm (docs/cluster.md): a 3-node
# cluster on this machine, every daemon in its own network + UTS namespace
# (tests/slurm/cluster.sh), then, inside the controller's namespace:
#   make slurm NODES=3 CONFIG=ci ARGS='--threads 1 --name ci-%N'
#        one array of 3 tasks, one per node; the node of task 1 is killed
#        mid-run (its slurmd and the job's processes: SIGKILL); task 2's run
#        is interrupted while its job still exits 0 (PMB_SLURM_FAIL_TASK=2,
#        PMB_SLURM_FAIL_MODE=zero)
#   make slurm-gather          reports both, with the reasons (node DOWN)
#   make slurm-resubmit JOB=   re-runs tasks 1-2 on the surviving nodes
#   make slurm-gather          3 complete runs, host + topology per node,
#                              grouped by CPU: the %N name tag makes two
#                              groups of one CPU model, compared with CIs,
#                              p-values and verdicts
# and checks that the cluster is gone afterwards (no daemons, namespaces,
# munge socket).  Installs slurm-wlm, munge, iproute2 when missing (root).  Prints
# `skip - slurm: <reason>` when this machine cannot create namespaces.
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
skip() { echo "skip - slurm: $*"; exit 0; }
T0=$(date +%s)

tmp=$(mktemp -d /tmp/pmb-e2e-slurm.XXXXXX)
chmod 755 "$tmp"
cdir=$tmp/cluster
out=$tmp/results  # on the one shared filesystem: visible to every node
cl() { tests/slurm/cluster.sh "$1" "$cdir" "${@:2}"; }
mk() { cl exec make --no-print-directory "$@" OUT="$out"; }
torn_down=0
cleanup() {
	if [ "$torn_down" = 0 ] && [ -f "$cdir/slurm.conf" ]; then
		cl stop
		left=$(cl leftovers)
		[ -z "$left" ] || { echo "not ok - teardown after a failure left: $left"; }
	fi
	if [ -n "${PMB_KEEP_SLURM_TEST:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT HUP

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, munged, slurmd)"
missing=$(for p in slurm-wlm munge iproute2; do dpkg-query -W -f='${Status}\n' $p 2>/dev/null | grep -q '^install ok installed$' || echo $p; done)
if [ -n "$missing" ]; then
	t0=$(date +%s)
	export DEBIAN_FRONTEND=noninteractive
	(apt-get install -y -qq $missing >"$tmp/apt.log" 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq $missing >"$tmp/apt.log" 2>&1; }) ||
		skip "apt-get install $missing failed: $(tail -1 "$tmp/apt.log")"
	echo "# installed $missing in $(($(date +%s) - t0)) s"
fi

# --- 0. the cluster ----------------------------------------------------------
t0=$(date +%s)
cl start 3 2>"$tmp/cluster.err"
rc=$?
sed 's/^/# /' "$tmp/cluster.err"
[ $rc = 3 ] && skip "$(tail -1 "$tmp/cluster.err")"
check "3-node cluster up (munged, slurmctld, 3 slurmd) in $(($(date +%s) - t0)) s" '[ $rc = 0 ]'
[ $rc = 0 ] || exit 0
id=$(sed -n 's/.*namespace \(pmb[0-9a-f]*\)-ctl.*/\1/p' "$tmp/cluster.err")
ncpu=$(nproc --all)
# every daemon: its own network and UTS namespace, not the host's
check "each daemon in its own network namespace (munged + slurmctld share ctl's), none in the host's" '
	host_ns=$(readlink /proc/self/ns/net)
	while read -r name pid; do echo "$name $(readlink /proc/$pid/ns/net)"; done <"$cdir/pids" >"$tmp/ns.txt"
	! grep -qF "$host_ns" "$tmp/ns.txt" && ! grep -q " $" "$tmp/ns.txt" &&
	[ "$(cut -d" " -f2 "$tmp/ns.txt" | sort -u | wc -l)" = 4 ] &&
	[ "$(sort -u "$tmp/ns.txt" | wc -l)" = 4 ]'
check "each node answers to its own host name (UTS namespace), pinned to its CPU" '
	ok=1; for i in 1 2 3; do
		pid=$(awk -v h=node$i "\$1 == h {print \$2}" "$cdir/pids")
		[ "$(nsenter -t "$pid" -u hostname)" = node$i ] || ok=0
		[ "$(taskset -pc "$pid" | sed "s/.*: //")" = $((i - 1 < ncpu - 1 ? i - 1 : ncpu - 1)) ] || ok=0
	done; [ $ok = 1 ] && [ "$(hostname)" != node1 ]'
[ "$ncpu" -lt 3 ] && echo "# only $ncpu CPU(s): node$ncpu..node3 share CPU $((ncpu - 1))"
check "nothing of the cluster listens in the host's network namespace" '
	! ss -Hltnup 2>/dev/null | grep -E "pid=($(awk "{print \$2}" "$cdir/pids" | paste -sd"|"))," &&
	! ip -o link show | grep -q "$id"'
# (checked without sending anything from the host: a packet to 10.77.0.1
# from here would leave by the host's default route)
check "the namespaces have no route out and the host no address or route into them" '
	ok=1; for ns in $(ip netns list | awk -v p="$id-" "index(\$1, p) == 1 {print \$1}"); do
		[ -z "$(ip -n "$ns" route show | grep -v "^10\.77\.0\.0/24 dev eth0 ")" ] || ok=0
		ip -n "$ns" -o link show | grep -vqE "^[0-9]+: (lo|eth0@|br0|v(ctl|[0-9]+)@)" && ok=0
	done; [ $ok = 1 ] && ! ip -o addr show | grep -q " 10\.77\.0\." &&
	! ip route show | grep -q "^10\.77\.0\." && cl exec sinfo -h -o %D | grep -qx 3'

# --- 1. submit; kill node of task 1 mid-run; task 2 fails quietly ------------
# the nodes' type is this machine's: build its binary ahead with every CPU
# (as a site would on a login node of that type), not in the jobs on one
t0=$(date +%s)
bin=$(scripts/cluster/slurm-build.sh ci 2>"$tmp/build.err")
check "scripts/cluster/slurm-build.sh ci builds the node type's binary ahead ($(($(date +%s) - t0)) s)" \
	'[ -x "$bin/default/pmubench" ]'
[ -x "$bin/default/pmubench" ] || sed 's/^/# /' "$tmp/build.err"
t0=$(date +%s)
PMB_SLURM_FAIL_TASK=2 PMB_SLURM_FAIL_MODE=zero \
	mk slurm NODES=3 CONFIG=ci ARGS='--threads 1 --name ci-%N' TIME_LIMIT=5:00 \
	>"$tmp/submit.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/submit.out"
job=$(sed -n 's/.*submitted job array \([0-9]*\):.*/\1/p' "$tmp/submit.out")
check "make slurm NODES=3 submits one job array of 3 tasks, no requeue" \
	'[ $rc -eq 0 ] && [ -n "$job" ] && grep -q -- "--array=0-2 .*--no-requeue .*--exclusive" "$tmp/submit.out"'
[ -n "$job" ] || exit 0
camp=$out/slurm-$job
# wait until task 1 has written its first rows, then its node dies
victim="" i=0
while [ $(($(date +%s) - t0)) -lt 180 ]; do
	victim=$(sed -n 's/.*"host": "\([^"]*\)".*/\1/p' "$camp"/task-1/attempt-*.json 2>/dev/null | head -1)
	f=$(ls "$camp"/task-1/*/size-*.csv 2>/dev/null | head -1)
	[ -n "$victim" ] && [ -n "$f" ] && [ "$(wc -l <"$f")" -ge 2 ] && break
	sleep 0.1
done
echo "# task 1 on $victim wrote its first rows $(($(date +%s) - t0)) s after submission; killing $victim"
cl exec squeue -h -o '%i %T %N' | sed 's/^/# squeue: /'
check "the 3 tasks ran on 3 different nodes" \
	'[ "$(cl exec squeue -h -j "$job" -o %N | sort -u | grep -c node)" = 3 ] || [ "$(sed -n "s/.*\"host\": \"\([^\"]*\)\".*/\1/p" "$camp"/task-*/attempt-*.json | sort -u | wc -l)" = 3 ]'
cl kill-node "$victim"
for _ in $(seq 50); do [ -z "$(ip netns pids "$id-n${victim#node}")" ] && break; sleep 0.1; done
check "node $victim killed mid-run (slurmd and the job's processes gone)" \
	'[ -n "$victim" ] && [ -z "$(ip netns pids "$id-n${victim#node}")" ]'

timeout -k 5 240 tests/slurm/cluster.sh exec "$cdir" make --no-print-directory slurm-gather JOB="$job" OUT="$out" >"$tmp/gather1.out" 2>"$tmp/gather1.err"
rc=$?
echo "# first gather $(($(date +%s) - t0)) s after submission (exit $rc):"
sed 's/^/# /' "$tmp/gather1.out"
sed 's/^/# stderr: /' "$tmp/gather1.err"
check "gather fails (make: Error 1): 1 of 3 tasks complete" '[ $rc -ne 0 ] && grep -q "slurm-gather] Error 1" "$tmp/gather1.err" && grep -q "1 of 3 task(s) complete" "$tmp/gather1.out"'
check "gather reports killed task 1: node $victim DOWN, job NODE_FAIL, its incomplete run" \
	'grep -E "^  FAILED  task 1  ${job}_1 \(JobId [0-9]+\)  on $victim: node $victim is DOWN" "$tmp/gather1.out" | grep -q "incomplete (complete=false.*killed outright or its node lost).*NODE_FAIL"'
check "gather reports task 2 (its job reads COMPLETED exit 0, its run is incomplete)" \
	'grep "^  FAILED  task 2  ${job}_2" "$tmp/gather1.out" | grep -q "incomplete (complete=false.*interrupted by signal 2).*Slurm: COMPLETED exit 0:0"'
check "gather prints the re-submit command for tasks 1-2 only" \
	'grep -q "make slurm-resubmit JOB=$job OUT=$out" "$tmp/gather1.out" && grep -q "sbatch --array=1-2)" "$tmp/gather1.out"'
check "status.csv: task 0 complete, tasks 1 and 2 FAILED" \
	'grep -q "^0,complete,$job," "$camp/gather/status.csv" && grep -q "^1,FAILED,$job," "$camp/gather/status.csv" && grep -q "^2,FAILED,$job," "$camp/gather/status.csv"'

# --- 2. re-submit the failed tasks: they run on the surviving nodes ----------
mk slurm-resubmit JOB="$job" >"$tmp/resubmit.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/resubmit.out"
job2=$(sed -n 's/.*as job array \([0-9]*\)$/\1/p' "$tmp/resubmit.out")
check "make slurm-resubmit: a new array of tasks 1-2 (sbatch --array=1-2)" \
	'[ $rc -eq 0 ] && [ -n "$job2" ] && [ "$job2" != "$job" ] && grep -q -- "sbatch .*--array=1-2 " "$tmp/resubmit.out"'
timeout -k 5 240 tests/slurm/cluster.sh exec "$cdir" make --no-print-directory slurm-gather JOB="$job" OUT="$out" >"$tmp/gather2.out" 2>"$tmp/gather2.err"
rc=$?
echo "# second gather $(($(date +%s) - t0)) s after submission (exit $rc):"
sed 's/^/# /' "$tmp/gather2.out"
check "second gather exits 0: 3 of 3 tasks complete" '[ $rc -eq 0 ] && grep -q "3 of 3 task(s) complete" "$tmp/gather2.out"'
check "tasks 1 and 2 from the re-submission, not on the killed $victim" '
	grep -E "^  ok      task 1  ${job2}_1 " "$tmp/gather2.out" | grep -vq " on $victim " &&
	grep -E "^  ok      task 2  ${job2}_2 " "$tmp/gather2.out" | grep -vq " on $victim "'
check "task 0 ran once (one attempt, one run)" \
	'[ "$(ls "$camp"/task-0/attempt-*.json | wc -l)" = 1 ] && [ "$(ls -d "$camp"/task-0/*/ | wc -l)" = 1 ]'
# each complete run: its node's host name and CPU in meta.json
check "3 complete runs; meta.json: host = the node that ran it, topology = that node's CPU only" '
	/usr/bin/python3 - "$camp/gather/status.csv" "$ncpu" <<"PY"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = len(rows) == 3
for r in rows:
    m = json.load(open(r["run_dir"] + "/meta.json"))
    node = int(m["host"].replace("node", ""))
    ok &= (r["status"] == "complete" and m["complete"] is True
           and m["points_done"] == m["points_total"] > 0
           and m["host"] == r["host"] and "-%s-" % m["host"] in r["run_dir"]
           and m["cores"] == 1 and m["core_os_index"] == [min(node - 1, int(sys.argv[2]) - 1)])
    print("# task %s: host %s, cores %s, core_os_index %s, cpu_model %s, microcode %s"
          % (r["task"], m["host"], m["cores"], m["core_os_index"], m["cpu_model"],
             m.get("cpu_microcode")))
sys.exit(0 if ok else 1)
PY'
check "the victim left its incomplete run beside the re-run (nothing overwritten)" \
	'[ "$(ls -d "$camp"/task-1/*/ | wc -l)" = 2 ]'

# --- 3. comparing CPUs: two groups of one CPU model (name tags) --------------
check "grouped by CPU: 2 groups of one model, told apart by their name tags" '
	grep -qE "^M1 = .* \[name ci-node[0-9]\] \(baseline\): [12] run\(s\) on node[0-9]$" "$camp/gather/comparison.txt" &&
	grep -qE "^M2 = .* \[name ci-node[0-9]\]: [12] run\(s\) on node[0-9]$" "$camp/gather/comparison.txt" &&
	! grep -q "^M3 " "$camp/gather/comparison.txt"'
check "CPU x kernel table: ratio M2/M1 with 95% CI, p and verdict per point" '
	grep -qE "^Benchmark +M1 median +M2 median +M2/M1 +95% CI +p +verdict$" "$camp/gather/comparison.txt" &&
	grep -qE "^sum/index/4KiB +[0-9.]+ +[0-9.]+ +[0-9.]+ +\[[0-9.]+, [0-9.]+\] +[0-9.]+ +(same|slower|faster)$" "$camp/gather/comparison.txt" &&
	grep -qE "^M2 vs M1: [0-9]+ point\(s\): [0-9]+ slower, [0-9]+ faster, [0-9]+ same" "$camp/gather/comparison.txt"'
check "comparison.csv: one row per group x point, with verdicts; plot written" '
	head -1 "$camp/gather/comparison.csv" | grep -q "^group,cpu_model,cpu_microcode,name,runs,hosts,kernel" &&
	[ "$(cut -d, -f1 "$camp/gather/comparison.csv" | sort -u | wc -l)" -ge 3 ] &&
	grep -qE ",(same|slower|faster)$" "$camp/gather/comparison.csv" &&
	[ -s "$camp/gather/comparison-ns_per_elem.png" ]'
check "kernel x group heatmap written (2 groups) and named in the output" '
	[ -s "$camp/gather/heatmap-ns_per_elem.png" ] && grep -q "heatmap-ns_per_elem.png" "$tmp/gather2.out"'
# PMU: the gather says per node whether hardware counters counted
check "gather shows each node's counters and, without a PMU, why (as meta.json)" '
	ok=1; for d in $(grep -o "/[^ ]*/task-[0-9]/[^ ]*" "$tmp/gather2.out" | sort -u); do
		[ -f "$d/meta.json" ] || continue
		avail=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"counters\"][\"cycles\"][\"available\"])" "$d/meta.json")
		line=$(grep -A1 -F "$d" "$tmp/gather2.out" | tail -1)
		if [ "$avail" = False ]; then echo "$line" | grep -q "no hardware PMU: cycles not counted" || ok=0
		else echo "$line" | grep -q "no hardware PMU" && ok=0; fi
	done; [ $ok = 1 ] && grep -q "counters [0-9]*/[0-9]*" "$tmp/gather2.out"'

# docs/cluster.md's sbatch example is what slurm-submit --dry-run prints
doc=$(sed -n '/^sbatch --parsable/,/slurm-job.sh$/p' docs/cluster.md | tr -d '\\')
cl exec scripts/cluster/slurm-submit --config x86 --nodes 'node[01-04]' --partition bench --dry-run >"$tmp/dry.out" 2>&1
check "docs/cluster.md: the sbatch line of make slurm NODES=node[01-04] PARTITION=bench is --dry-run's" '
	miss=0; for w in $doc; do
		case $w in --chdir=*|--output=*) w=${w#*=}; w=${w#\$PWD}; w=${w#results} ;; esac
		grep -qF -- "$w" "$tmp/dry.out" || { echo "# not in --dry-run: $w"; miss=1; }
	done; [ -n "$doc" ] && [ $miss = 0 ]'

# --- 4. teardown ----------------------------------------------------------------
cl stop
torn_down=1
left=$(cl leftovers)
check "teardown: no daemon, namespace, bridge or munge socket left" '[ -z "$left" ] && [ -z "$(ip netns list | grep "^$id-")" ]'
[ -z "$left" ] || echo "$left" | sed 's/^/# left: /'
echo "# total $(($(date +%s) - T0)) s"
