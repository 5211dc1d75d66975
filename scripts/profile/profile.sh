#!/bin/bash
# profile.sh — `make profile KERNEL=family/variant SIZE=bytes`: one point run
# long enough to sample (pinned by the harness as always) under
# `perf record -g`, everything written into the run's folder:
#
#   perf.data          the samples (perf report -i <dir>/perf.data)
#   perf-report.txt    perf report --stdio --no-children, flat (self time)
#   perf-callers.txt   the same with call graphs (who called the hot code)
#   stacks.folded      folded stacks ("comm;root;...;leaf count")
#   flamegraph.html    d3-flame-graph, scripts inlined: opens offline
#
# usage: scripts/profile/profile.sh [--bin BIN] [--config FILE] [--out DIR] [--flagset NAME]
#                           [--seconds S] KERNEL SIZE
# env:   PROFILE_EVENT=cycles|cpu-clock (default: cycles where the hardware
#        counts it, else cpu-clock), PROFILE_CALLGRAPH=fp|dwarf (default fp:
#        the configs build with -fno-omit-frame-pointer), PROFILE_FREQ (Hz, 999)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seconds=${PROFILE_SECONDS:-3}
callgraph=${PROFILE_CALLGRAPH:-fp}
freq=${PROFILE_FREQ:-999}

tool=profile example="traversal/list_shuffled 64M" usage_lines='12,16'
# shellcheck source=scripts/profile/point_args.sh
. "$here/point_args.sh"
parse_point_args --seconds seconds "$@"
[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--seconds must be a number (got '$seconds')"

# (not `--list | grep -q`: grep -q exits at the first match and, with
# pipefail, the SIGPIPE'd writer would fail the pipeline)
kernels=$("$bin" --list 2>/dev/null || true)
grep -q "^  $kernel " <<<"$kernels" ||
	die "no kernel '$kernel' in $bin (list them with make list)"

# --- can perf sample here? -------------------------------------------------
if ! command -v perf >/dev/null || ! perf version >/dev/null 2>&1; then
	# Debian's /usr/bin/perf is a wrapper that fails when the perf for the
	# running kernel is missing.
	die "perf is not installed (or not for this kernel): apt-get install linux-perf"
fi
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo "?")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmb-profile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

event=${PROFILE_EVENT:-}
if [ -z "$event" ]; then
	# `perf stat -x,` prints "<not supported>" (VMs without a PMU) or
	# "<not counted>" instead of a number when cycles cannot be counted.
	if perf stat -x, -e cycles -- true 2>"$tmp/stat" >/dev/null &&
		grep -q '^[0-9]\+,[^,]*,cycles' "$tmp/stat"; then
		event=cycles
	else
		event=cpu-clock
		echo "profile: hardware 'cycles' not supported here ($(head -c 80 "$tmp/stat" | tr '\n' ' ')); sampling the software event cpu-clock" >&2
	fi
fi
if ! perf record -q -e "$event" -g -o "$tmp/probe.data" -- true >/dev/null 2>"$tmp/probe.err"; then
	cat "$tmp/probe.err" >&2
	if [ "$paranoid" != "?" ] && [ "$paranoid" -gt 1 ] && [ "$(id -u)" != 0 ]; then
		die "perf may not sample (kernel.perf_event_paranoid = $paranoid); as root: sysctl -w kernel.perf_event_paranoid=1 (or run as root)"
	fi
	die "perf record failed (perf_event_paranoid = $paranoid). In a container perf_event_open is often blocked: run with --privileged or --cap-add PERFMON/SYS_ADMIN, or on the host; else sysctl -w kernel.perf_event_paranoid=1"
fi

# --- the run ----------------------------------------------------------------
# One point for $seconds of sampling: a fixed number of samples of >= 50 ms
# each (min = max samples), so the harness never stops early on a reached
# CI, nor computes one after every sample (which would show in the profile).
nsamples=$(awk -v s="$seconds" 'BEGIN { n = int(s * 1000 / 50 + 0.999); print (n < 1 ? 1 : n) }')
mkdir -p "$out"
cmd=("$bin")
[ -n "$config" ] && cmd+=(--config "$config")
[ -n "$flagset" ] && cmd+=(--flagset "$flagset")
cmd+=(--filter "$kernel" --sizes "$size" --threads 1 --out "$out"
      --point-seconds "$seconds" --min-samples "$nsamples" --reps "$nsamples"
      --min-sample-ms 50 --warmup-ms 100 --rounds 1 -q)
echo "profile: perf record -e $event -g (--call-graph $callgraph, ${freq} Hz) -- ${cmd[*]}" >&2
if ! perf record -q -e "$event" -F "$freq" --call-graph "$callgraph" -o "$tmp/perf.data" \
	-- "${cmd[@]}" >"$tmp/stdout" 2>"$tmp/stderr"; then
	cat "$tmp/stderr" >&2
	die "the profiled run failed"
fi
run=$(tail -n 1 "$tmp/stdout")
[ -d "$run" ] || { cat "$tmp/stderr" >&2; die "pmubench printed no run directory (stdout: $(cat "$tmp/stdout"))"; }
ls "$run"/size-*.csv >/dev/null 2>&1 || die "$kernel matched no kernel (list them with make list)"
mv "$tmp/perf.data" "$run/perf.data"

# --- reports ----------------------------------------------------------------
perf report -i "$run/perf.data" --stdio --no-children -g none --percent-limit 0.1 \
	>"$run/perf-report.txt" 2>"$tmp/report.err" || { cat "$tmp/report.err" >&2; die "perf report failed"; }
perf report -i "$run/perf.data" --stdio --no-children -G --percent-limit 1 \
	>"$run/perf-callers.txt" 2>/dev/null || true
# --no-inline: perf 6.1 resolves inline frames with addr2line, per address,
# which takes minutes; the folded stacks name functions as perf report does.
perf script -i "$run/perf.data" -F comm,ip,sym,dso --no-inline 2>/dev/null |
	/usr/bin/python3 "$here/folded.py" fold >"$run/stacks.folded"
[ -s "$run/stacks.folded" ] || die "perf script gave no stacks (perf.data: $run/perf.data)"
/usr/bin/python3 "$here/folded.py" html "$run/stacks.folded" "$here/vendor/d3-flamegraph-base.html" \
	"$run/flamegraph.html" --title "pmubench $kernel at $size ($event, $(basename "$run"))"

# Human output on stderr; stdout is the run directory alone, as pmubench's.
{
	echo "profile: $(grep -m1 '^# Samples' "$run/perf-report.txt" | sed 's/^# //'); top entries by self time:"
	/usr/bin/python3 "$here/folded.py" top "$run/perf-report.txt" 10 | sed 's/^/  /'
	echo "profile: wrote perf.data perf-report.txt perf-callers.txt stacks.folded flamegraph.html into"
} >&2
echo "$run"
