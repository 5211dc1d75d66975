#!/usr/bin/env bash
# End-to-end: --format json|both writes benchmarks.json in Google
# Benchmark's layout, and Debian's unmodified compare.py (libbenchmark-tools)
# compares two pmubench runs as it compares two benchmark binaries' outputs.
set -u
cd "$(dirname "$0")/../.."
bin=${PMB_BIN:-build/test/pmubench}
tmp=$(mktemp -d /tmp/pmb-e2e-gbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
# Exactly 9 samples per point whatever the load (compare.py wants 9+ for its
# U test): a long budget and an unreachable CI target, capped by --reps.
args=(--filter sum/index,sum/unroll4 --sizes 16K --threads 1,2 --reps 9 --min-samples 9
	--point-seconds 5 --target-ci 0.001 --warmup-ms 5 --backend papi -q)

a=$("$bin" "${args[@]}" --format both --out "$tmp/a" 2>"$tmp/a.err")
check "run A with --format both exits 0" '[ $? -eq 0 ] && [ -f "$a/benchmarks.json" ] && [ -f "$a/summary.csv" ]'
b=$("$bin" "${args[@]}" --format json --out "$tmp/b" 2>"$tmp/b.err")
check "run B with --format json writes benchmarks.json and no CSV" \
	'[ $? -eq 0 ] && [ -f "$b/benchmarks.json" ] && ! ls "$b"/*.csv >/dev/null 2>&1 && [ -f "$b/meta.json" ]'

/usr/bin/python3 - "$a" >"$tmp/py" 2>&1 <<'PY'
import csv, json, os, statistics, sys
run = sys.argv[1]
d = json.load(open(os.path.join(run, "benchmarks.json")))
meta = json.load(open(os.path.join(run, "meta.json")))
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
ctx = d["context"]
check("context has Google Benchmark's keys (date, host_name, num_cpus, mhz_per_cpu, caches)",
      all(k in ctx for k in ("date", "host_name", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled", "caches", "library_build_type"))
      and ctx["host_name"] == meta["host"] and ctx["caches"][0]["level"] == 1 and ctx["caches"][0]["size"] > 0)
names = {e["run_name"] for e in d["benchmarks"]}
check("benchmark names family/variant/size/threads:T",
      names == {f"sum/{v}/16KiB/threads:{t}" for v in ("index", "unroll4") for t in (1, 2)})
rows = list(csv.DictReader(open(os.path.join(run, "size-16384.csv"))))
summ = list(csv.DictReader(open(os.path.join(run, "summary.csv"))))
ok_iter = ok_med = ok_null = True
for name in names:
    fam, var, _, th = name.split("/")
    t = th.split(":")[1]
    it = [e for e in d["benchmarks"] if e["name"] == name and e["run_type"] == "iteration"]
    group = "0" if t == "1" else ("all", "-1")
    csvrows = [r for r in rows if r["variant"] == var and r["threads"] == t and r["thread"] in group]
    ok_iter &= len(it) == len(csvrows) == 9 and all(e["time_unit"] == "ns" and e["iterations"] == int(r["iters"])
                                                   for e, r in zip(sorted(it, key=lambda e: e["repetition_index"]), sorted(csvrows, key=lambda r: int(r["rep"]))))
    aggs = {e["aggregate_name"]: e for e in d["benchmarks"] if e["run_name"] == name and e["run_type"] == "aggregate"}
    ok_iter &= set(aggs) == {"mean", "median", "stddev", "cv"} and all(e["name"] == name + "_" + k for k, e in aggs.items())
    # The median real_time is the harness's ns_per_elem median times the
    # elements of one pass: on the group row of T threads ns_per_elem is
    # the group's wall time per element of one thread's share (schema 2).
    s = [r for r in summ if r["variant"] == var and r["threads"] == t and r["thread"] in group and r["metric"] == "ns_per_elem"][0]
    per_pass = float(s["median"]) * int(s["n_elems"])
    ok_med &= abs(aggs["median"]["real_time"] - per_pass) <= 1e-4 * per_pass
    ok_med &= abs(aggs["median"]["ns_per_elem"] - float(s["median"])) <= 1e-5 * float(s["median"])
    for c, info in meta["counters"].items():
        key = c + "_per_elem"
        if not info["available"]:
            ok_null &= all(e.get(key, "absent") is None for e in it) and c in ctx["counters_not_counted"]
check("one iteration entry per sample (as the CSV's group rows) and mean/median/stddev/cv aggregates", ok_iter)
check("median real_time = ns_per_elem median x elements per pass (one number, two units)", ok_med)
check("counters not counted are null, their reason in context.counters_not_counted", ok_null)
PY
cat "$tmp/py"

# Debian's compare.py, unmodified, exactly as its README runs it.
compare=$(dpkg -L libbenchmark-tools 2>/dev/null | grep '/compare.py$' | head -n 1)
if [ -z "$compare" ]; then
	echo "skip - compare.py of libbenchmark-tools: package not installed (make deps-test installs it)"
else
	/usr/bin/python3 "$compare" benchmarks "$a/benchmarks.json" "$b/benchmarks.json" >"$tmp/compare.out" 2>&1
	rc=$?
	sed 's/\x1b\[[0-9;]*m//g' "$tmp/compare.out" >"$tmp/compare.txt"
	echo "--- compare.py benchmarks a.json b.json:"
	grep -E '^(Benchmark|sum/index/16KiB/threads:1(_median|_pvalue)? |OVERALL)' "$tmp/compare.txt"
	check "compare.py benchmarks a.json b.json exits 0" '[ $rc -eq 0 ]'
	check "compare.py prints a Time/CPU change for every point's median" \
		'[ "$(grep -cE "^sum/(index|unroll4)/16KiB/threads:[12]_median +[-+][0-9]+\.[0-9]{4} +[-+][0-9]+\.[0-9]{4} " "$tmp/compare.txt")" = 4 ]'
	check "compare.py runs its U test on the 9 samples of each side" \
		'[ "$(grep -cE "_pvalue +[0-9.]+ +[0-9.]+ +U Test, Repetitions: 9 vs 9" "$tmp/compare.txt")" = 4 ]'
	check "compare.py ends with the geometric mean" 'grep -qE "^OVERALL_GEOMEAN +[-+][0-9]" "$tmp/compare.txt"'
fi

# Resume keeps what the file holds; JSON alone cannot resume.
n0=$(grep -c '^    { "name"' "$a/benchmarks.json")
"$bin" --resume "$a" -q >/dev/null 2>"$tmp/resume.err"
check "--resume of a finished run keeps every JSON entry (4 points x (9 samples + 4 aggregates) = 52)" \
	'[ "$n0" -eq 52 ] && [ "$(grep -c "^    { \"name\"" "$a/benchmarks.json")" = "$n0" ] && /usr/bin/python3 -m json.tool "$a/benchmarks.json" >/dev/null'
"$bin" --resume "$b" --format json -q >/dev/null 2>"$tmp/resume.err"
check "--resume with --format json alone is refused, naming the fix" \
	'[ $? -eq 2 ] && grep -q "format both" "$tmp/resume.err"'
"$bin" --format yaml --filter sum -q >/dev/null 2>"$tmp/fmt.err"
check "an unknown --format is refused with the choices" '[ $? -eq 2 ] && grep -q "csv, json or both" "$tmp/fmt.err"'
