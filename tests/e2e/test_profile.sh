#!/usr/bin/env bash
# End-to-end: `make profile` and `make heap` (scripts/profile/profile.sh, heap.sh).
# A perf profile of traversal/list_shuffled names its run function among the
# top 5 self-time entries, and the flamegraph is one offline HTML file that
# names it too; DHAT agrees exactly with the counting allocator (the method:
# docs/profile.md) for alloc/bad, alloc/best, stack_heap/heap, copy/deep_copy.
# Each check prints `ok - ` / `not ok - ` / `skip - `; exits 0 unless broken.
set -u
cd "$(dirname "$0")/../.." || exit 1
if [ -n "${PMB_BIN:-}" ]; then
	bin=$PMB_BIN
elif [ -x build/test/pmubench ]; then
	bin=build/test/pmubench
else
	bin=build/x86/default/pmubench
fi
out=$(mktemp -d /tmp/pmb-e2e-profile.XXXXXX)
trap 'rm -rf "$out"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

if [ ! -x "$bin" ]; then
	echo "not ok - pmubench binary present ($bin): make test-build or make build"
	exit 0
fi

# flame_width NAME PAGE FOLDED FRAME: the frame's width in the page as
# Chromium draws it equals its share of the folded stacks (within 1 point).
flame_width() {
	local share
	share=$(/usr/bin/python3 tests/e2e/flame_share.py "$2" "$3" "$4")
	case $? in
	0) check "flamegraph width of $1 equals its share of the samples ($share)" \
		"awk -v s=\"\$share\" 'BEGIN { split(s, a, \" \"); d = a[2] - a[4]; exit !(d < 1 && d > -1) }'" ;;
	*) echo "skip - flamegraph width of $1: chromium missing or rendered nothing (apt-get install chromium)" ;;
	esac
}
# Without perf: parents must not count twice (d3-flame-graph reads self
# values); the kernel frame gets 95 % of 1000 samples, not 20 %.
printf 'pmubench;main;runner;traversal_list_run 900\npmubench;main;runner;traversal_list_run;memcpy 50\npmubench;main;other 50\n' >"$out/t.folded"
/usr/bin/python3 scripts/profile/folded.py html "$out/t.folded" scripts/profile/vendor/d3-flamegraph-base.html \
	"$out/t.html" --title t
flame_width "a frame with callees (synthetic stacks)" "$out/t.html" "$out/t.folded" traversal_list_run

# --- profile -------------------------------------------------------------------
kernel=traversal/list_shuffled
fn=$(/usr/bin/python3 scripts/profile/folded.py runfn "$kernel")
check "run function of $kernel found in kernels/ ($fn)" '[ "$fn" = traversal_list_run ]'
if ! command -v perf >/dev/null || ! perf record -q -e cpu-clock -o "$out/probe.data" -- true >/dev/null 2>&1; then
	echo "skip - profile: perf missing or not permitted here (apt-get install linux-perf; sysctl -w kernel.perf_event_paranoid=1)"
else
	run=$(scripts/profile/profile.sh --bin "$bin" --out "$out/prof" --seconds 2 "$kernel" 4M 2>"$out/profile.err")
	rc=$?
	check "profile exits 0" '[ $rc -eq 0 ]'
	check "profile prints the run directory" '[ -n "$run" ] && [ -d "$run" ]'
	[ $rc -eq 0 ] || sed 's/^/    /' "$out/profile.err"
	if [ -n "$run" ] && [ -d "$run" ]; then
		for f in perf.data perf-report.txt stacks.folded flamegraph.html size-4194304.csv; do
			check "run folder has $f" '[ -s "$run/$f" ]'
		done
		top=$(/usr/bin/python3 scripts/profile/folded.py top "$run/perf-report.txt" 5)
		check "$fn among the top 5 report entries" 'printf "%s\n" "$top" | grep -qw "$fn"'
		printf '%s\n' "$top" | sed 's/^/    /'
		samples=$(sed -n 's/^# Samples: \([0-9]*\)\(K\?\).*/\1\2/p' "$run/perf-report.txt")
		check "at least 500 samples ($samples)" '[[ $samples == *K ]] || [ "${samples:-0}" -ge 500 ]'
		check "folded stacks name $fn" 'grep -q ";$fn " "$run/stacks.folded"'
		html=$run/flamegraph.html
		check "flamegraph is self-contained (no http(s) src/href, no external script or stylesheet)" \
			'! grep -Eiq "(src|href)[[:space:]]*=[[:space:]]*[\"'"'"']?[[:space:]]*(https?:)?//" "$html" && ! grep -Eiq "<script[^>]+src|<link[^>]+stylesheet" "$html"'
		check "flamegraph has the d3-flame-graph code inlined" 'grep -q "window.flamegraph" "$html" && grep -q "d3-flame-graph" "$html"'
		check "flamegraph names $fn" 'grep -q "\"$fn\"" "$html"'
		check "flamegraph page title names kernel, size and event" \
			'grep -q "<title>pmubench $kernel at 4M (\(cycles\|cpu-clock\)," "$html"'
		flame_width "$fn in the profile's flamegraph" "$html" "$run/stacks.folded" "$fn"
	fi
fi

# --- heap ----------------------------------------------------------------------
if ! command -v valgrind >/dev/null; then
	echo "skip - heap: valgrind is not installed (apt-get install valgrind)"
	exit 0
fi
for k in alloc/bad alloc/best stack_heap/heap copy/deep_copy; do
	log=$out/heap-${k//\//_}.log
	scripts/profile/heap.sh --bin "$bin" --out "$out/heap" "$k" 4K >"$log" 2>&1
	rc=$?
	check "heap $k: DHAT agrees with the counting allocator" '[ $rc -eq 0 ] && grep -q "^heap: agree:" "$log"'
	grep '^heap: \(agree\|DISAGREE\|error\)' "$log" | sed 's/^/    /'
	[ $rc -eq 0 ] || tail -20 "$log" | sed 's/^/    /'
done
dir=$(ls -1d "$out"/heap/*/ 2>/dev/null | head -n 1)
check "heap keeps dhat.out (DHAT JSON) in the run folder" \
	'[ -n "$dir" ] && /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"mode\"] == \"heap\" and d[\"pps\"]" "$dir/dhat.out"'
exit 0
