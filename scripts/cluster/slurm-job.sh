#!/bin/bash
# pmubench on one Slurm node: the batch script of `make slurm` (one array
# task per node).  scripts/cluster/slurm-submit submits it as
#
#   sbatch --array=0-<N-1> --exclusive --partition=P --chdir=<repo> \
#          --output=<OUT>/slurm-%A/task-%a/slurm-%A_%a.out scripts/cluster/slurm-job.sh
#
# with PMB_SLURM_* in the environment, then pins task i to node i of NODES.
# Each task: builds pmubench once per node type (slurm-build.sh:
# flock-serialised, in build/slurm/<arch>-<cpu model>/build/), runs `make run` into
# <campaign>/task-<id>/<config>-<host>-<UTC time>/ and records the attempt
# in <campaign>/task-<id>/attempt-<jobid>.json.  The repository must be on
# storage shared by the submit host and all nodes.
#SBATCH --job-name=pmubench
#SBATCH --nodes=1
#SBATCH --ntasks=1
set -u

cfg=${PMB_SLURM_CONFIG:?set by scripts/cluster/slurm-submit}
task=${SLURM_ARRAY_TASK_ID:-0}
array_job=${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-manual}}
job=${SLURM_JOB_ID:-manual}
camp=${PMB_SLURM_CAMPAIGN:-${PMB_SLURM_OUT:-results}/slurm-$array_job}
tdir=$camp/task-$task
mkdir -p "$tdir"
# the node type (host, cpu_model, key) and its build: slurm-build.sh
# (the batch script runs from a copy in Slurm's spool: source by the repo
# path; --chdir put us there)
repo=$(pwd)
. "$repo/scripts/cluster/slurm-build.sh"
pmb_node_type
tree=build/slurm/$key
build=$tree/build/$cfg

json_str() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
record() { # status exit_code run_dir note
	cat >"$tdir/attempt-$job.json.tmp" <<JSON
{"array_job_id": "$array_job", "array_task_id": $task, "job_id": "$job",
 "host": $(json_str "$host"), "cpu_model": $(json_str "$cpu_model"),
 "build_dir": $(json_str "$build"), "config": $(json_str "$cfg"),
 "started_utc": "$started", "finished_utc": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "status": "$1", "exit_code": $2, "run_dir": $(json_str "$3"), "note": $(json_str "$4")}
JSON
	mv -f "$tdir/attempt-$job.json.tmp" "$tdir/attempt-$job.json"
}
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
record running 0 "" ""
echo "pmubench-slurm: job $array_job task $task (JobId $job) on $host ($cpu_model); build $build; out $tdir"

# 1. build, serialised per node type (same-type tasks share the binary)
if ! pmb_build "$repo" "$tree" "$cfg"; then
	record failed 1 "" "make build failed on $host"
	echo "pmubench-slurm: error: make build CONFIG=$cfg failed on $host" >&2
	exit 1
fi

# 2. run, in a job step that leaves the pinning to hwloc (--cpu-bind=none)
case $tdir in /*) ;; *) tdir=$repo/$tdir ;; esac
# %N in ARGS: this node's short host name (as in sbatch file names), e.g.
# ARGS='--name ci-%N' gives each node's run its own name (and gather group)
args=${PMB_SLURM_ARGS:-}
args=${args//%N/$host}
cmd=(make -s -C "$tree" run CONFIG="$cfg" OUT="$tdir" ARGS="-q $args")
srun=()
if [ -n "${SLURM_JOB_ID:-}" ] && command -v srun >/dev/null; then
	# the step gets every CPU of the allocation (a default step has one CPU,
	# and task/cgroup would confine the threads to it); hwloc pins
	srun=(srun --ntasks=1 --nodes=1 --cpus-per-task="${SLURM_CPUS_ON_NODE:-1}"
	      --cpu-bind=none --job-name=pmubench-run)
fi
# Test only (tests/e2e/test_slurm.sh): PMB_SLURM_FAIL_TASK=<id>[,<id>...]
# interrupts those tasks' runs (SIGINT) once their first rows are written,
# leaving an incomplete run (complete=false), as a lost node would;
# PMB_SLURM_FAIL_MODE=zero then exits 0 anyway, like a failed step under a
# job that reads COMPLETED, exit 0.
fail=0
case ",${PMB_SLURM_FAIL_TASK:-}," in *",$task,"*) fail=1 ;; esac
if [ "$fail" = 1 ]; then
	echo "pmubench-slurm: PMB_SLURM_FAIL_TASK: interrupting this task's run on purpose" >&2
	setsid "${cmd[@]}" >"$tdir/stdout-$job.txt" &  # no srun: its own process group
	pid=$!
	for _ in $(seq 1800); do  # up to 3 min on a loaded machine
		for f in "$tdir"/*/size-*.csv; do  # a first row written
			[ -f "$f" ] && [ "$(wc -l <"$f")" -ge 2 ] && break 2
		done
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -INT -- "-$pid" 2>/dev/null
	wait "$pid"
	rc=$?
else
	"${srun[@]}" "${cmd[@]}" >"$tdir/stdout-$job.txt"
	rc=$?
fi
run_dir=$(tail -n 1 "$tdir/stdout-$job.txt" 2>/dev/null)
if [ -z "$run_dir" ] || [ ! -d "$run_dir" ]; then
	# failed before printing it: the newest run directory of this task
	run_dir=$(ls -1dt "$tdir"/*/ 2>/dev/null | head -n 1)
	run_dir=${run_dir%/}
fi
if [ "$rc" -eq 0 ]; then
	record finished 0 "$run_dir" ""
	echo "pmubench-slurm: task $task done: $run_dir"
else
	record failed "$rc" "$run_dir" "make run exited $rc"
	echo "pmubench-slurm: error: task $task: make run exited $rc (rows kept in ${run_dir:-nothing})" >&2
fi
[ "$fail" = 1 ] && [ "${PMB_SLURM_FAIL_MODE:-exit}" = zero ] && exit 0
exit "$rc"
