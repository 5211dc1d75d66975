#!/usr/bin/env bash
# End-to-end against a real Slurm (docs/cluster.md): a single-node cluster on
# this machine (tests/slurm/cluster.sh: munged, slurmctld, slurmd), then
#   make slurm CONFIG=ci NODES=<host>,<host>   a 2-task array; task 1 is made
#                                              to fail (PMB_SLURM_FAIL_TASK=1,
#                                              PMB_SLURM_FAIL_MODE=zero: its
#                                              run is interrupted, the job
#                                              still exits 0)
#   make slurm-gather                          must report task 1 with its ids
#   make slurm-resubmit JOB=<id>               must re-run task 1 only
#   make slurm-gather                          2 complete runs, a comparison
# Installs slurm-wlm and munge when missing (root; about 80 s).  Prints
# `skip - slurm: <reason>` only when the daemons cannot start.  Both tasks
# land on the one node: not exclusive, TASK_CPUS = all CPUs, so they run one
# after the other.  Stops what it started (trap EXIT).
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
skip() { echo "skip - slurm: $*"; exit 0; }

tmp=$(mktemp -d /tmp/pmb-e2e-slurm.XXXXXX)
# OUT must be visible to the node: it is this machine, so any path will do.
out=$tmp/results
cleanup() {
	if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
		scancel --quiet --user=root 2>/dev/null
	fi
	tests/slurm/cluster.sh stop "$tmp/cluster" 2>/dev/null
	if [ -n "${PMB_KEEP_SLURM_TEST:-}" ]; then
		echo "# kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "needs root to install and start munged/slurmctld/slurmd"
missing=$(for p in slurm-wlm munge; do dpkg-query -W -f='${Status}\n' $p 2>/dev/null | grep -q '^install ok installed$' || echo $p; done)
if [ -n "$missing" ]; then
	t0=$(date +%s)
	export DEBIAN_FRONTEND=noninteractive
	(apt-get install -y -qq $missing >"$tmp/apt.log" 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq $missing >"$tmp/apt.log" 2>&1; }) ||
		skip "apt-get install $missing failed: $(tail -1 "$tmp/apt.log")"
	echo "# installed $missing in $(($(date +%s) - t0)) s"
fi

t0=$(date +%s)
if ! tests/slurm/cluster.sh start "$tmp/cluster" 2>"$tmp/cluster.err"; then
	skip "daemons did not start: $(tail -1 "$tmp/cluster.err")"
fi
export SLURM_CONF=$tmp/cluster/slurm.conf
echo "# cluster up in $(($(date +%s) - t0)) s"
host=$(hostname -s)
ncpu=$(nproc)
mk() { make --no-print-directory "$@" OUT="$out"; }

# --- 1. submit: 2 tasks on the one node, task 1 fails "silently" ----------
t0=$(date +%s)
PMB_SLURM_FAIL_TASK=1 PMB_SLURM_FAIL_MODE=zero \
	mk slurm CONFIG=ci NODES="$host,$host" EXCLUSIVE=0 TASK_CPUS="$ncpu" \
	TIME_LIMIT=10:00 >"$tmp/submit.out" 2>&1
rc=$?
cat "$tmp/submit.out" | sed 's/^/# /'
job=$(sed -n 's/.*submitted job array \([0-9]*\):.*/\1/p' "$tmp/submit.out")
check "make slurm submits one job array" '[ $rc -eq 0 ] && [ -n "$job" ]'
[ -n "$job" ] || exit 0
check "sbatch: one array of 2 tasks, not exclusive, --cpus-per-task=$ncpu" \
	'grep -q -- "--array=0-1 .*--cpus-per-task=$ncpu" "$tmp/submit.out" && ! grep -q -- "--exclusive" "$tmp/submit.out"'

timeout 200 make --no-print-directory slurm-gather JOB="$job" OUT="$out" >"$tmp/gather1.out" 2>"$tmp/gather1.err"
rc=$?
echo "# first gather after $(($(date +%s) - t0)) s (exit $rc):"
grep -E '^(job|  ok|  FAILED|  make|[0-9]+ task)' "$tmp/gather1.out" | sed 's/^/# /'
camp=$out/slurm-$job
check "gather fails (exit != 0) when a task failed" '[ $rc -ne 0 ]'
check "gather: task 0 complete" 'grep -q "^  ok *task 0  ${job}_0" "$tmp/gather1.out"'
check "gather reports failed task 1 with its job/task id" \
	'grep -qE "^  FAILED  task 1  ${job}_1 \(JobId [0-9]+\)" "$tmp/gather1.out"'
check "failure found from meta.json although Slurm says COMPLETED exit 0" \
	'grep "FAILED  task 1" "$tmp/gather1.out" | grep -q "incomplete (complete=false" && grep "FAILED  task 1" "$tmp/gather1.out" | grep -q "Slurm: COMPLETED exit 0:0"'
check "gather prints the re-submit command for task 1 only" \
	'grep -q "make slurm-resubmit JOB=$job" "$tmp/gather1.out" && grep -q "sbatch --array=1)" "$tmp/gather1.out"'
check "the complete node's run is kept and compared" \
	'[ -s "$camp/gather/comparison.csv" ] && grep -q "^1 of 2\|1 of 2 task" "$tmp/gather1.out"'
check "status.csv lists both tasks" \
	'[ "$(grep -c "^0,complete,$job," "$camp/gather/status.csv")" = 1 ] && [ "$(grep -c "^1,FAILED,$job," "$camp/gather/status.csv")" = 1 ]'

# --- 2. re-submit only the failed task ---------------------------------------
mk slurm-resubmit JOB="$job" >"$tmp/resubmit.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/resubmit.out"
job2=$(sed -n 's/.*as job array \([0-9]*\)$/\1/p' "$tmp/resubmit.out")
check "make slurm-resubmit submits a new array" '[ $rc -eq 0 ] && [ -n "$job2" ] && [ "$job2" != "$job" ]'
check "re-submission is sbatch --array=1 (the failed task only)" \
	'grep -q -- "sbatch .*--array=1 " "$tmp/resubmit.out"'
tasks2=$(scontrol -o show job "$job2" 2>/dev/null | sed -n 's/.*ArrayTaskId=\([^ ]*\).*/\1/p' | sort -u | tr '\n' ' ')
check "Slurm holds only task 1 in the re-submission (ArrayTaskId: $tasks2)" '[ "$tasks2" = "1 " ]'

timeout 200 make --no-print-directory slurm-gather JOB="$job" OUT="$out" >"$tmp/gather2.out" 2>"$tmp/gather2.err"
rc=$?
echo "# second gather after $(($(date +%s) - t0)) s (exit $rc):"
grep -E '^(job|  ok|  FAILED|comparison)' "$tmp/gather2.out" | sed 's/^/# /'
check "second gather exits 0: 2 complete runs" '[ $rc -eq 0 ] && grep -q "2 of 2 task(s) complete" "$tmp/gather2.out"'
check "task 1 now from the re-submission ${job2}_1" 'grep -q "^  ok *task 1  ${job2}_1" "$tmp/gather2.out"'
check "task 0 was not re-run (one attempt)" \
	'[ "$(ls "$camp"/task-0/attempt-*.json | wc -l)" = 1 ] && [ "$(ls -d "$camp"/task-0/ci-*/ | wc -l)" = 1 ]'
check "two complete runs on disk (meta.json complete, all points)" '
	n=0; for m in "$camp"/task-*/ci-*/meta.json; do
		/usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); sys.exit(not (m[\"complete\"] is True and m[\"points_done\"] == m[\"points_total\"] > 0))" "$m" && n=$((n + 1))
	done; [ $n = 2 ]'
check "comparison table grouped by CPU model, with 2 runs" \
	'grep -q "^M1 = .*: 2 run(s) on $host" "$camp/gather/comparison.txt" && grep -q "^sum/index/4KiB " "$camp/gather/comparison.txt"'
check "comparison.csv has a row per CPU model x point" \
	'head -1 "$camp/gather/comparison.csv" | grep -q "^cpu_model,runs,hosts,kernel" && [ "$(wc -l <"$camp/gather/comparison.csv")" -gt 10 ]'
check "overlaid plot written" '[ -s "$camp/gather/comparison-ns_per_elem.png" ]'
check "built once per node type under build/slurm/" \
	'ls build/slurm/*/build/ci/*/pmubench >/dev/null 2>&1'

# --- 3. grouping by CPU model (no Slurm needed): a copy "from another CPU" --
r0=$(ls -d "$camp"/task-0/ci-*/ | head -1)
cp -r "$r0" "$tmp/other"
/usr/bin/python3 -c "import json,sys; p=sys.argv[1]; m=json.load(open(p)); m['cpu_model']='Other CPU 9000'; m['host']='elsewhere'; json.dump(m, open(p,'w'))" "$tmp/other/meta.json"
r1=$(ls -d "$camp"/task-1/ci-*/ | tail -1)  # the re-run (names sort by time)
PYTHONPATH=scripts /usr/bin/python3 -m pmubench.compare_many "$r0" "$r1" "$tmp/other" --csv "$tmp/many.csv" >"$tmp/many.txt" 2>&1
check "compare_many: 2 CPU models, the 2 same-model runs pooled" \
	'grep -q "^M1 = .*2 run(s)" "$tmp/many.txt" && grep -q "^M2 = Other CPU 9000: 1 run(s) on elsewhere" "$tmp/many.txt" && grep -q "M2/M1" "$tmp/many.txt"'
echo "# total $(($(date +%s) - t0)) s after the cluster came up"
