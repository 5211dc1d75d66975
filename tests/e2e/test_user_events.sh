#!/usr/bin/env bash
# End-to-end: your own events in --counters (issue 15 item 4, docs/counters.md).
#   - a name PAPI does not know stops the run at start-up, naming the event
#     and papi_avail / papi_native_avail, before any run directory exists;
#   - a bad name or a column clash is a usage error naming the fix;
#   - an event PAPI knows but cannot count here (PAPI_L1_TCM without a PMU)
#     is an empty column (never 0) with its reason in meta.json; one it can
#     count (perf::TASK-CLOCK, the kernel's software event, through PAPI) is
#     a column of numbers whose aggregate row sums its threads;
#   - the files' headers are `--schema --counters ...`'s and meta.json's;
#     JSON carries <column>_per_elem; the loader, plot and compare read the
#     extra metric from the run's schema;
#   - user events pack into passes like built-in ones (--max-events-per-pass);
#   - a killed run with user events resumes exactly;
#   - under --backend timer the column is empty with the timer's reason.
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
BIN=$(readlink -f "$PMB_BIN")
[ -x "$BIN" ] || { echo "not ok - setup: $PMB_BIN missing; run make test-build"; exit 1; }
TMP=$(mktemp -d /tmp/pmb-e2e-events.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
. tests/e2e/csv_lib.sh
. tests/e2e/resume_lib.sh
PY=/usr/bin/python3

FAST=(--kernels sum/index --sizes 4K,8K --min-samples 4 --max-samples 4 --warmup-ms 0
	--min-sample-ms 0.05 --point-seconds 0.01 --quiet)

# --- names ----------------------------------------------------------------
run "$BIN" "${FAST[@]}" --counters 'PAPI L1' --out "$TMP/bad"
check "a space in an event name: usage error naming the character" \
	$([ "$rc" -eq 2 ] || echo "exit $rc, want 2") \
	$(grep -q "event 'PAPI L1' has the character ' '" "$TMP/err" || echo "no message")
run "$BIN" "${FAST[@]}" --counters CYCLES --out "$TMP/bad"
check "an event whose column is a built-in's: usage error with the pmu:: fix" \
	$([ "$rc" -eq 2 ] || echo "exit $rc, want 2") \
	$(grep -q "column 'cycles'.*perf::CYCLES" "$TMP/err" || echo "no message")

list=$("$BIN" --list --counters PAPI_TOT_INS 2>&1)
if grep -q "PAPI library not found" <<<"$list"; then
	skip "unknown event stops the run" "no PAPI library here to know event names"
else
	run "$BIN" "${FAST[@]}" --counters cycles,PAPI_NO_SUCH_EVENT --out "$TMP/bad"
	check "an event PAPI does not know stops the run at start-up, naming it and the fix" \
		$([ "$rc" -ne 0 ] || echo "exit 0") \
		$(grep -q "PAPI does not know the event 'PAPI_NO_SUCH_EVENT'.*papi_avail.*papi_native_avail" "$TMP/err" || echo "no message") \
		$([ -z "$(ls -A "$TMP/bad" 2>/dev/null)" ] || echo "a run directory was created")
fi

# --- a run: one event not countable here, one countable -------------------
EV=cycles,instructions,PAPI_L1_TCM,perf::TASK-CLOCK
run "$BIN" "${FAST[@]}" --threads 1,2 --counters "$EV" --format both --out "$TMP/r1"
d1=$(run_dir_of "$TMP/r1")
check "run with own events exits 0" $([ "$rc" -eq 0 ] && [ -n "$d1" ] || echo "exit $rc")
"$BIN" --schema --counters "$EV" >"$TMP/schema.json"
$PY - "$d1" "$TMP/schema.json" <<'PY'
import csv, glob, json, os, sys
sys.path.insert(0, "scripts")
from pmubench.load import load_run
d, schema = sys.argv[1], json.load(open(sys.argv[2]))
meta = json.load(open(os.path.join(d, "meta.json")))
def check(name, cond, why=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else " (%s)" % why))
raw_files = sorted(glob.glob(os.path.join(d, "size-*.csv")))
rows = [r for f in raw_files for r in csv.DictReader(open(f, newline=""))]
heads = [next(csv.reader(open(f, newline=""))) for f in raw_files]
sum_head = next(csv.reader(open(os.path.join(d, "summary.csv"), newline="")))
check("raw and summary headers are --schema --counters's and meta.json's",
      all(h == schema["headers"]["raw"] for h in heads)
      and sum_head == schema["headers"]["summary"]
      and meta["schema"]["headers"] == schema["headers"])
check("own events have raw columns and <column>_per_elem metrics",
      {"papi_l1_tcm", "perf_task_clock"} <= set(schema["headers"]["raw"])
      and {"papi_l1_tcm_per_elem", "perf_task_clock_per_elem"}
      <= {m["name"] for m in schema["metrics"]})
c = meta["counters"]
l1 = c["papi_l1_tcm"]
check("meta.json counters.papi_l1_tcm names the event and its status",
      l1["event"] == "PAPI_L1_TCM" and l1.get("user_event") is True
      and l1["status"] in ("counted", "unavailable"), l1)
summ = [r for r in csv.DictReader(open(os.path.join(d, "summary.csv"), newline=""))]
bench = json.load(open(os.path.join(d, "benchmarks.json")))["benchmarks"]
if l1["status"] == "unavailable":
    check("not countable here: papi_l1_tcm empty in every raw row, never 0",
          rows and all(r["papi_l1_tcm"] == "" for r in rows))
    check("not countable here: the reason names the event and why",
          "PAPI_L1_TCM" in l1["reason"] and "cannot count" in l1["reason"], l1["reason"])
    s = [r for r in summ if r["metric"] == "papi_l1_tcm_per_elem"]
    check("not countable here: summary rows with 0 samples and no median",
          s and all(r["samples"] == "0" and r["median"] == "" for r in s))
    check("not countable here: JSON papi_l1_tcm_per_elem is null",
          all("papi_l1_tcm_per_elem" in b and b["papi_l1_tcm_per_elem"] is None for b in bench))
else:
    check("countable: papi_l1_tcm is a count in every raw row",
          all(r["papi_l1_tcm"].isdigit() for r in rows))
tc = c["perf_task_clock"]
if tc["status"] == "counted":
    check("perf::TASK-CLOCK through PAPI: source papi, a count in every row",
          tc["source"] == "papi" and all(r["perf_task_clock"].isdigit() for r in rows), tc)
    by = {}
    for r in rows:
        by.setdefault((r["size_bytes"], r["threads"], r["rep"]), {})[r["thread"]] = int(r["perf_task_clock"])
    agg = [v for v in by.values() if "-1" in v]
    check("aggregate row of an own event is the sum over threads",
          agg and all(v["-1"] == v["0"] + v["1"] for v in agg))
    s = [r for r in summ if r["metric"] == "perf_task_clock_per_elem" and r["thread"] != "-1"]
    check("summary perf_task_clock_per_elem: per element, source papi, event named",
          s and all(float(r["median"]) > 0 and r["source"] == "papi"
                    and r["event"] == "perf::TASK-CLOCK" and r["unit"] == "events/elem" for r in s))
    check("JSON carries perf_task_clock_per_elem as a number",
          all(isinstance(b.get("perf_task_clock_per_elem"), (int, float)) for b in bench))
else:
    print("skip - perf::TASK-CLOCK through PAPI: %s" % tc["reason"][:160])
run = load_run(d)
check("the loader lists the own metrics from the run's schema",
      {"papi_l1_tcm_per_elem", "perf_task_clock_per_elem"} <= set(run.metrics())
      and {"papi_l1_tcm", "perf_task_clock"} <= set(run.counter_columns()))
PY

# plot and compare read the extra metric from the runs' schemas
run "$BIN" "${FAST[@]}" --counters "$EV" --out "$TMP/r2"
d2=$(run_dir_of "$TMP/r2")
if [ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["perf_task_clock"]["status"])' "$d1/meta.json")" = counted ]; then
	run env PYTHONPATH=scripts $PY -m pmubench.plot "$d1" --out "$TMP/plots" --format png -q
	check "plot draws the own event's metric" \
		$([ "$rc" -eq 0 ] || echo "plot exit $rc") \
		$(ls "$TMP/plots" | grep -q "perf_task_clock_per_elem" || echo "no perf_task_clock_per_elem plot")
	run env PYTHONPATH=scripts $PY -m pmubench.compare "$d1" "$d2" --metric perf_task_clock_per_elem
	check "compare takes the own event's metric" \
		$([ "$rc" -eq 0 ] || echo "compare exit $rc") \
		$(grep -q "perf_task_clock_per_elem" "$TMP/out" || echo "metric not in output")
else
	skip "plot and compare of an own event" "perf::TASK-CLOCK not counted through PAPI here"
fi

# --- passes ----------------------------------------------------------------
SW=perf::PAGE-FAULTS,perf::TASK-CLOCK,perf::CPU-MIGRATIONS
capped=$("$BIN" --list --counters "$SW" --max-events-per-pass 2 2>&1)
if ! grep -q "perf_page_faults  *yes" <<<"$capped"; then
	skip "own events packed into passes" "PAPI cannot count perf::PAGE-FAULTS here"
else
	check "own events pack first fit: two in pass 0, the third in pass 1" \
		$(grep -q "perf_page_faults .*(pass 0)" <<<"$capped" && grep -q "perf_task_clock .*(pass 0)" <<<"$capped" && grep -q "perf_cpu_migrations .*(pass 1)" <<<"$capped" || echo "passes: $(grep -c 'pass' <<<"$capped")")
	run "$BIN" "${FAST[@]}" --counters "$SW" --max-events-per-pass 2 --out "$TMP/p"
	dp=$(run_dir_of "$TMP/p")
	bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		{ p = $col["counter_pass"]; a = $col["perf_task_clock"]; b = $col["perf_cpu_migrations"]
		  if ((p == 0 && (a == "" || b != "")) || (p == 1 && (a != "" || b == ""))) n++ }
		END { print n + 0 }' "$dp"/size-4096.csv)
	check "each row fills exactly its pass's own-event cells" $([ "$bad" = 0 ] || echo "$bad rows wrong")
fi

# --- resume ------------------------------------------------------------------
SLOW=(--backend papi --kernels sum/index,sum/unroll4 --sizes 16K,32K --max-samples 200 --min-samples 100
	--warmup-ms 1 --min-sample-ms 2 --point-seconds 10 --quiet --counters "all,$EV")
"$BIN" "${SLOW[@]}" --out "$TMP/res" >/dev/null 2>"$TMP/err" &
pid=$!
PIDS+=("$pid")
for _ in $(seq 1 300); do
	dr=$(run_dir_of "$TMP/res")
	[ -n "$dr" ] && [ -f "$dr/summary.csv" ] && [ "$(wc -l <"$dr/summary.csv")" -gt 1 ] && break
	sleep 0.1
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
dr=$(run_dir_of "$TMP/res")
# exact() asks the binary for the run's metrics: give it the run's events.
printf '#!/bin/sh\nexec "%s" --counters "%s" "$@"\n' "$BIN" "all,$EV" >"$TMP/schema_bin"
chmod +x "$TMP/schema_bin"
if [ -z "$dr" ]; then
	notok "killed run with own events left a run directory"
else
	run "$BIN" --resume "$dr"
	why=()
	[ "$rc" -eq 0 ] || why+=("resume exit status $rc")
	mapfile -t bad < <(BIN=$TMP/schema_bin exact "$dr")
	why+=("${bad[@]}")
	grep -q ',perf_task_clock,' "$dr/size-16384.csv" || why+=("own column missing after resume")
	check "a killed run with own events resumes exactly" "${why[@]}"
fi

# --- other backends -------------------------------------------------------------
run "$BIN" "${FAST[@]}" --backend timer --counters PAPI_L1_TCM --out "$TMP/t"
dt=$(run_dir_of "$TMP/t")
why=()
[ "$rc" -eq 0 ] || why+=("exit $rc")
$PY - "$dt" >"$TMP/py" 2>&1 <<'PY' || why+=("$(tail -1 "$TMP/py")")
import csv, glob, json, os, sys
d = sys.argv[1]
c = json.load(open(os.path.join(d, "meta.json")))["counters"]["papi_l1_tcm"]
assert c["status"] == "unavailable" and "timer backend" in c["reason"], c
rows = [r for f in glob.glob(os.path.join(d, "size-*.csv")) for r in csv.DictReader(open(f))]
assert rows and all(r["papi_l1_tcm"] == "" for r in rows), "cells not empty"
PY
check "--backend timer: own event empty with the timer's reason" "${why[@]}"
run "$BIN" --kernels sum/index --sizes 4K --min-samples 3 --max-samples 3 --warmup-ms 0 \
	--backend timer --counters PAPI_L1_TCM --out "$TMP/t2"
check "console: each point's line names the own event's metric (empty when not counted)" \
	$(grep -q "^\[ *1/1\] sum/index .* papi_l1_tcm_per_elem empty" "$TMP/err" || echo "no such line")
