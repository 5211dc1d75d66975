#!/bin/bash
# heap.sh — `make heap KERNEL=family/variant SIZE=bytes`: one point under
# valgrind DHAT, its figures printed next to the suite's counting allocator
# (the CSV `allocs` column) for the same run, with an exact agree/DISAGREE.
#
# usage: scripts/profile/heap.sh [--bin BIN] [--config FILE] [--out DIR] [--flagset NAME]
#                        [--samples N] KERNEL SIZE
#
# What is compared (docs/profile.md, "make heap"): DHAT sees the whole
# process (libc, hwloc, inih, the harness, setup, warm-up), the counting
# allocator only the measured passes.  So the point runs twice under DHAT,
# once with 1 sample and once with N, each sample exactly `iters` passes,
# warm-up exactly one pass (--warmup-ms 0) in both; everything but the extra
# samples is the same in both processes and cancels in the difference:
#
#   DHAT blocks(N) - DHAT blocks(1) - (reallocs of a live block(N) - (1))
#     == sum of `allocs` over the CSV rows (N) - the same (1)
#
# The realloc term is there because DHAT counts every realloc of a live
# block as a new block, while pmb_alloc_count.c counts it in `reallocs`,
# which the CSV does not report (realloc(NULL, n) is an alloc in both).
# Those reallocs are counted from valgrind's --trace-malloc=yes log of the
# same two processes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
samples=${HEAP_SAMPLES:-3}

tool=heap example="alloc/bad 4K" usage_lines='5,7'
# shellcheck source=scripts/profile/point_args.sh
. "$here/point_args.sh"
parse_point_args --samples samples "$@"
[[ $samples =~ ^[0-9]+$ ]] && [ "$samples" -ge 2 ] || die "--samples must be an integer >= 2 (got '$samples')"

command -v valgrind >/dev/null ||
	die "valgrind is not installed; install it: apt-get install valgrind (or make deps-test)"
valgrind --tool=dhat --version >/dev/null 2>&1 || die "valgrind has no DHAT tool (valgrind >= 3.15 needed)"

runfn=$(/usr/bin/python3 "$here/folded.py" runfn "$kernel" "$root/kernels") ||
	die "no kernel '$kernel' in kernels/ (list them with make list)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmb-heap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
out=$(cd "$out" && pwd)

# One DHAT run of the point with $1 samples; prints its run directory.
dhat_run() {
	local n=$1 tag=$2
	local cmd=("$bin")
	[ -n "$config" ] && cmd+=(--config "$config")
	[ -n "$flagset" ] && cmd+=(--flagset "$flagset")
	# timer backend: no counter library in the process (PAPI under valgrind
	# only adds noise); --min-sample-ms 0: one pass per sample; --target-ci 0
	# with min = max samples: exactly n samples; --rounds 1: one set-up, so
	# the two runs differ by exactly one sample.
	cmd+=(--filter "$kernel" --sizes "$size" --threads 1 --out "$out" --backend timer --rounds 1
	      --warmup-ms 0 --min-sample-ms 0 --min-samples "$n" --reps "$n" --target-ci 0
	      --name "heap-$tag" -q)
	if ! valgrind --tool=dhat --trace-malloc=yes --log-file="$tmp/$tag.log" \
		--dhat-out-file="$tmp/$tag.dhat" "${cmd[@]}" >"$tmp/$tag.stdout" 2>"$tmp/$tag.stderr"; then
		cat "$tmp/$tag.stderr" >&2
		die "pmubench failed under valgrind (command: valgrind --tool=dhat ${cmd[*]})"
	fi
	local dir
	dir=$(tail -n 1 "$tmp/$tag.stdout")
	[ -d "$dir" ] || die "pmubench printed no run directory (stdout: $(cat "$tmp/$tag.stdout"))"
	echo "$dir"
}

echo "heap: $kernel at $size under DHAT, twice (1 and $samples samples)..." >&2
base=$(dhat_run 1 base)
main=$(dhat_run "$samples" main)

# Keep everything in the main run's folder; the baseline run goes inside it.
mv "$tmp/main.dhat" "$main/dhat.out"
mv "$tmp/main.log" "$main/dhat-trace.log"
mv "$base" "$main/baseline"
mv "$tmp/base.dhat" "$main/baseline/dhat.out"
mv "$tmp/base.log" "$main/baseline/dhat-trace.log"

/usr/bin/python3 "$here/folded.py" dhat "$main" "$main/baseline" "$runfn"
