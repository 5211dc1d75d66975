#!/usr/bin/env bash
# End-to-end: the CONFIG=ci sweep through the real binary, checked the way a
# user reads it: files per size, the documented header, every row valid,
# counters empty (never 0) when not counted with the reason in meta.json,
# per-thread rows on distinct cores plus the aggregate.
set -u
cd "$(dirname "$0")/../.."
bin=${PMB_BIN:-build/test/pmubench}
out=$(mktemp -d /tmp/pmb-e2e-ci.XXXXXX)
trap 'rm -rf "$out"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

# What every CI run needs: make run CONFIG=ci runs exactly this.
run_dir=$("$bin" --config configs/ci.ini --out "$out" -q 2>"$out/stderr")
rc=$?
check "ci sweep exits 0" '[ $rc -eq 0 ]'
check "prints the run directory" '[ -d "$run_dir" ]'
[ -d "$run_dir" ] || { cat "$out/stderr"; exit 0; }
check "run directory named <config>-<host>-<UTC time>" '[[ $(basename "$run_dir") =~ ^ci-[A-Za-z0-9_-]+-[0-9]{8}T[0-9]{6}Z$ ]]'
check "one CSV per size (4K, 256K, 4M)" '[ -f "$run_dir/size-4096.csv" ] && [ -f "$run_dir/size-262144.csv" ] && [ -f "$run_dir/size-4194304.csv" ]'

nkernels=$("$bin" --list | grep -c "expect:")
"$bin" --schema >"$out/schema.json"
/usr/bin/python3 - "$run_dir" "$nkernels" "$out/schema.json" >"$out/py" 2>&1 <<'PY'
import csv, glob, json, os, sys
import pandas as pd
run = sys.argv[1]
meta = json.load(open(os.path.join(run, "meta.json")))
schema = json.load(open(sys.argv[3]))
rows = []
for path in sorted(glob.glob(os.path.join(run, "size-*.csv"))):
    with open(path) as f:
        r = list(csv.DictReader(f))
        size = int(os.path.basename(path)[5:-4])
        assert all(int(x["size_bytes"]) == size for x in r), path
        rows += r
counters = ["cycles", "instructions", "l1d_misses", "l2_misses", "llc_misses", "branches",
            "branch_misses", "page_faults", "context_switches", "cpu_migrations", "task_clock_ns"]
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
# The header written is the one `pmubench --schema` declares, for every file.
headers = [next(csv.reader(open(p))) for p in glob.glob(os.path.join(run, "size-*.csv"))]
check("raw headers are pmubench --schema's", headers and all(h == schema["headers"]["raw"] for h in headers))
check("summary header is pmubench --schema's", next(csv.reader(open(os.path.join(run, "summary.csv")))) == schema["headers"]["summary"])
check("raw header holds the counters and their per-element metrics", all(c in headers[0] and c + "_per_elem" in headers[0] for c in counters))
check("meta.json schema_version is --schema's and complete", meta["schema_version"] == schema["schema_version"] and meta["schema"]["headers"] == schema["headers"] and [m["name"] for m in meta["schema"]["metrics"]] == [m["name"] for m in schema["metrics"]] and meta["complete"] is True)
# pandas reads thread and core as integers (-1 on the aggregate row).
df = pd.read_csv(glob.glob(os.path.join(run, "size-*.csv"))[0])
check("pandas loads thread and core as integers", str(df["thread"].dtype) == "int64" and str(df["core"].dtype) == "int64")
check("every row's self-check passed", rows and all(r["valid"] == "1" for r in rows))
kernels = {(r["kernel"], r["variant"]) for r in rows}
check("every kernel variant of --list ran", len(kernels) == int(sys.argv[2]))
check("ns and tsc_ticks always measured", all(int(r["ns"]) > 0 and int(r["tsc_ticks"]) > 0 for r in rows))
ok = True
for c in counters:
    info = meta["counters"][c]
    vals = [r[c] for r in rows if r["thread"] != "-1"]
    if info["available"]:
        ok &= any(v != "" for v in vals)
    else:
        # never a zero that was not counted, and a reason on record
        ok &= all(v == "" for v in vals) and len(info["reason"]) > 10
check("unavailable counters are empty cells with a reason in meta.json", ok)
two = [r for r in rows if r["threads"] == "2"]
cores = {(r["kernel"], r["variant"], r["size_bytes"], r["rep"]): set() for r in two if r["thread"] != "-1"}
for r in two:
    if r["thread"] != "-1":
        cores[(r["kernel"], r["variant"], r["size_bytes"], r["rep"])].add(r["core"])
check("2-thread samples run on 2 distinct cores", cores and all(len(v) == 2 for v in cores.values()))
agg = [r for r in two if r["thread"] == "-1"]
check("2-thread samples have an aggregate row (thread -1, core -1)", agg and all(r["core"] == "-1" for r in agg))
# Aggregate semantics: per-thread ns_per_elem vs the group's throughput.
ok = bool(agg)
for r in agg:
    net = max(float(r["ns"]) - float(r["overhead_ns"]), 0)
    per = net / (int(r["iters"]) * int(r["n_elems"]))
    ok &= abs(float(r["ns_per_elem"]) - per) <= 1e-5 * per + 1e-9
    ok &= abs(float(r["group_ns_per_elem"]) - per / 2) <= 1e-5 * per + 1e-9
check("aggregate ns_per_elem is per thread's elements, group_ns_per_elem per all elements", ok)
for c in counters:
    info = meta["counters"][c]
    ok &= info["status"] in ("counted", "unavailable", "not requested")
    ok &= (info["source"] != "none") == info["available"]
check("meta.json gives each counter a status and a source", ok)
levels = {r["size_bytes"]: r["cache_level"] for r in rows}
check("cache level recorded per size", levels.get("4096") == "L1")
allocs = {}
for r in rows:
    if r["thread"] == "0" and r["threads"] == "1":
        allocs.setdefault((r["kernel"], r["variant"], int(r["n_elems"])), set()).add(int(r["allocs"]) // int(r["iters"]))
n = 4096 // 24
check("alloc/best makes 3 allocations per pass", allocs.get(("alloc", "best", n)) == {3})
check("alloc/better makes n+1 allocations per pass", allocs.get(("alloc", "better", n)) == {n + 1})
check("sum/index makes no allocation", allocs.get(("sum", "index", 512)) == {0})
with open(os.path.join(run, "summary.csv")) as f:
    summ = list(csv.DictReader(f))
metrics = {r["metric"] for r in summ}
check("summary has ns_per_elem with CI columns", "ns_per_elem" in metrics and all(r["ci_low"] != "" for r in summ if r["metric"] == "ns_per_elem"))
check("summary has one row per point x metric", len(summ) == len({(r["kernel"], r["variant"], r["size_bytes"], r["threads"], r["thread"], r["metric"]) for r in summ}))
PY
cat "$out/py"
grep -q '^ok - ' "$out/py" || echo "not ok - python checks ran"

# Results are never overwritten: a second run makes a second directory.
run2=$("$bin" --config configs/ci.ini --filter empty --out "$out" -q 2>/dev/null)
check "a second run gets its own directory" '[ -d "$run2" ] && [ "$run2" != "$run_dir" ]'
