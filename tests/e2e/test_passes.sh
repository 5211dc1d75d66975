#!/usr/bin/env bash
# End-to-end: counters packed into passes and rotated across samples, through
# PAPI's real event sets.  Without a PMU the only events PAPI can count here
# are the kernel's software events (perf::PAGE-FAULTS, ...); the harness
# normally reads those through perf_event_open, so PMB_PERF_SW_FAIL=EACCES
# makes that route fail and hands them to PAPI.  Then:
#   - with no cap they share pass 0 (one PAPI event set), also when some
#     come from perf_event_open (PMB_PERF_SW_FAIL=EACCES:NAME,... fails
#     only those) and others from PAPI;
#   - with --max-events-per-pass 2 they rotate over 2 passes, each row's
#     counter_pass says which pass counted it, and exactly that pass's
#     cells are filled (the others empty, never 0).
set -u
cd "$(dirname "$0")/../.."
bin=${PMB_BIN:-build/test/pmubench}
out=$(mktemp -d /tmp/pmb-e2e-passes.XXXXXX)
trap 'rm -rf "$out"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

events=page_faults,context_switches,cpu_migrations,task_clock_ns
list=$(PMB_PERF_SW_FAIL=EACCES "$bin" --list --events $events 2>&1)
if ! grep -q 'page_faults  *yes  perf::PAGE-FAULTS' <<<"$list"; then
	echo "skip - passes through PAPI: PAPI cannot count perf::PAGE-FAULTS here ($(grep page_faults <<<"$list" | head -1 | cut -c1-160))"
	exit 0
fi
check "uncapped: the four PAPI events share pass 0" \
	'[ $(grep -c "perf::.*(pass 0)" <<<"$list") -eq 4 ]'
# Mixed sources: page faults and context switches from perf_event_open (not
# PAPI events), migrations and task clock through PAPI.  The PAPI events
# must share one pass: the perf_event_open ones never enter a PAPI set.
mixed=$(PMB_PERF_SW_FAIL=EACCES:CPU-MIGRATIONS,TASK-CLOCK "$bin" --list --events $events 2>&1)
check "mixed sources: PAPI's two events share pass 0 beside perf_event_open's" \
	'grep -q "page_faults .*perf_event_open:PAGE-FAULTS (pass 0)" <<<"$mixed" && grep -q "cpu_migrations .*perf::CPU-MIGRATIONS (pass 0)" <<<"$mixed" && grep -q "task_clock_ns .*perf::TASK-CLOCK (pass 0)" <<<"$mixed"'
# Software events are the kernel's own: nothing for calibration to check.
check "--list: calibration not run without a hardware counter" \
	'grep -q "^Calibration: not run: no hardware counter opened" <<<"$list"'
capped=$(PMB_PERF_SW_FAIL=EACCES "$bin" --list --events $events --max-events-per-pass 2 2>&1)
check "cap 2: two events in pass 0, two in pass 1, in table order" \
	'grep -q "page_faults .*(pass 0)" <<<"$capped" && grep -q "context_switches .*(pass 0)" <<<"$capped" && grep -q "cpu_migrations .*(pass 1)" <<<"$capped" && grep -q "task_clock_ns .*(pass 1)" <<<"$capped"'

run_dir=$(PMB_PERF_SW_FAIL=EACCES "$bin" --filter sum/index --sizes 4K --threads 1,2 \
	--events $events --max-events-per-pass 2 --min-samples 6 --reps 6 --warmup-ms 1 \
	--min-sample-ms 0.2 --point-seconds 0.05 --no-calibrate --out "$out" -q 2>"$out/stderr")
check "capped run exits 0" '[ -d "$run_dir" ]'
[ -d "$run_dir" ] || { sed 's/^/# /' "$out/stderr"; exit 0; }
/usr/bin/python3 - "$run_dir" <<'PY'
import csv, json, os, sys
run = sys.argv[1]
meta = json.load(open(os.path.join(run, "meta.json")))
rows = list(csv.DictReader(open(os.path.join(run, "size-4096.csv"))))
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
c = meta["counters"]
check("meta.json: 2 passes, cap 2, pass per counter",
      meta["counter_passes"] == 2 and meta["max_events_per_pass"] == 2
      and [c[k]["pass"] for k in ("page_faults", "context_switches", "cpu_migrations", "task_clock_ns")] == [0, 0, 1, 1])
passes = {0: ("page_faults", "context_switches"), 1: ("cpu_migrations", "task_clock_ns")}
check("meta.json: calibration switched off by --no-calibrate",
      meta["calibration"]["status"] == "not run: switched off (--no-calibrate)"
      and meta["calibration"]["counters"] == {})
check("rows rotate: rep r counted by pass r % 2",
      len(rows) >= 12 and all(int(r["counter_pass"]) == int(r["rep"]) % 2 for r in rows))
ok = True
for r in rows:
    p = int(r["counter_pass"])
    for q, cols in passes.items():
        for col in cols:
            filled = r[col] != ""
            ok &= filled == (q == p)
check("each row fills exactly its pass's cells (others empty, never 0)", ok)
check("task clock counted in pass 1 rows is positive",
      all(int(r["task_clock_ns"]) > 0 for r in rows if r["counter_pass"] == "1"))
PY
