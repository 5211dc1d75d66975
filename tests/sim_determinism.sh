#!/bin/sh
# sim_determinism.sh — the sim backend gives the same counts in separate
# processes.  Runs test_counters_sim's "counts" mode (init under callgrind,
# sum 8 MiB twice, print the second region's counts) a few times and
# compares.  Usage: tests/sim_determinism.sh [path/to/test_counters_sim] [runs]
set -eu
bin=${1:-/tmp/test_counters_sim}
runs=${2:-3}
[ -x "$bin" ] || { echo "sim_determinism: $bin not built (see tests/test_counters_sim.c)" >&2; exit 2; }
first=
i=0
while [ "$i" -lt "$runs" ]; do
	# counts mode exits 7 on purpose: it proves the status crosses the
	# native supervisor process.
	rc=0
	out=$(PMB_TEST_MODE=counts "$bin") || rc=$?
	[ "$rc" -eq 7 ] || { echo "sim_determinism: run $i exited $rc" >&2; exit 1; }
	counts=$(printf '%s\n' "$out" | sed -n 2p)
	echo "run $i: $counts"
	if [ -z "$first" ]; then
		first=$counts
	elif [ "$counts" != "$first" ]; then
		echo "sim_determinism: run $i differs from run 0" >&2
		exit 1
	fi
	i=$((i + 1))
done
echo "sim_determinism: $runs runs identical"
