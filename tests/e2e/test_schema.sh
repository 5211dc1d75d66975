#!/usr/bin/env bash
# End-to-end: `pmubench --schema` is the one description of the output.
# The headers written are the ones it declares, docs/schema.md names every
# column and metric it lists, cells with commas and quotes (flag set, run
# name, config file name) survive a round trip through Python's csv module
# and pandas, and names that would break paths are refused with the fix.
set -u
cd "$(dirname "$0")/../.."
bin=${PMB_BIN:-build/test/pmubench}
out=$(mktemp -d /tmp/pmb-e2e-schema.XXXXXX)
trap 'rm -rf "$out"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

"$bin" --schema >"$out/schema.json"
check "--schema exits 0" '[ $? -eq 0 ]'

# A config whose file name holds a comma; a flag set with a comma and a quote.
cfg="$out/odd,name.ini"
printf 'kernels = sum/index\nsizes = 4K\nthreads = 1,2\nbackend = timer\nmin_samples = 3\nmax_samples = 3\nwarmup_ms = 0\npoint_seconds = 0.01\n' >"$cfg"
run_dir=$("$bin" --config "$cfg" --flagset 'O2,"fast"' --out "$out/r" -q 2>"$out/stderr")
check "run with a comma and quotes in names exits 0" '[ -d "$run_dir" ]'
[ -d "$run_dir" ] || cat "$out/stderr"
run2=$("$bin" --config "$cfg" --name 'my,"run"' --out "$out/r" -q 2>>"$out/stderr")
check "--name with a comma and quotes exits 0" '[ -d "$run2" ]'

/usr/bin/python3 - "$out/schema.json" "$run_dir" "$run2" docs/schema.md >"$out/py" 2>&1 <<'PY'
import csv, glob, json, os, sys
import pandas as pd
schema = json.load(open(sys.argv[1]))
run, run2, doc = sys.argv[2], sys.argv[3], open(sys.argv[4]).read()
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
check("--schema has schema_version, headers, columns and metrics",
      isinstance(schema["schema_version"], int) and schema["headers"]["raw"]
      and schema["headers"]["summary"] and schema["metrics"])
raw = schema["headers"]["raw"]
check("raw columns of --schema are its raw header",
      [c["name"] for c in schema["raw_columns"]] == raw)
check("every metric is a raw column (raw rows carry the per-element values)",
      all(m["name"] in raw for m in schema["metrics"]))
check("every column and metric has a unit, normalisation and provenance",
      all("unit" in c and c["normalisation"] and c["provenance"]
          for c in schema["raw_columns"] + schema["summary_columns"] + schema["metrics"]))
names = set(raw) | set(schema["headers"]["summary"]) | {m["name"] for m in schema["metrics"]}
missing = sorted(n for n in names if "`%s`" % n not in doc)
check("docs/schema.md names every column and metric (missing: %s)" % missing, not missing)
check("docs/schema.md documents this schema_version",
      "CSV schema (version %d)" % schema["schema_version"] in doc)
for d, field, want in ((run, "flagset", 'O2,"fast"'), (run2, "run_id", None)):
    files = sorted(glob.glob(os.path.join(d, "size-*.csv"))) + [os.path.join(d, "summary.csv")]
    ok = True
    for path in files:
        rows = list(csv.reader(open(path, newline="")))
        hdr = schema["headers"]["summary" if path.endswith("summary.csv") else "raw"]
        ok &= rows[0] == hdr and all(len(r) == len(hdr) for r in rows)
        i = hdr.index(field)
        vals = {r[i] for r in rows[1:]}
        ok &= vals == {want if want else os.path.basename(d)}
    check("%s with comma and quotes round-trips in %s (csv module)" % (field, os.path.basename(d)), ok)
df = pd.read_csv(glob.glob(os.path.join(run, "size-*.csv"))[0])
check("pandas: flagset cell intact", set(df["flagset"]) == {'O2,"fast"'})
check("pandas: config name with a comma in run_id",
      all(r.startswith("odd,name-") for r in df["run_id"]))
check("pandas: thread and core are int64, -1 on the aggregate row",
      str(df["thread"].dtype) == "int64" and str(df["core"].dtype) == "int64"
      and set(df.loc[df["threads"] == 2, "thread"]) == {-1, 0, 1}
      and set(df.loc[df["thread"] == -1, "core"]) == {-1})
s = pd.read_csv(os.path.join(run, "summary.csv"))
check("pandas: summary thread is int64", str(s["thread"].dtype) == "int64")
group = s[(s["metric"] == "group_ns_per_elem")]
check("group_ns_per_elem only on group rows (thread 0 of 1, -1 of 2)",
      set(zip(group["threads"], group["thread"])) == {(1, 0), (2, -1)})
PY
cat "$out/py"
grep -q '^ok - ' "$out/py" || echo "not ok - python checks ran"

# Names that would leave the run directory or break a file name.
for bad in 'a/b' '..' $'tab\there'; do
	for opt in --name --flagset; do
		msg=$("$bin" $opt "$bad" --schema 2>&1 >/dev/null)
		rc=$?
		check "$opt $(printf %q "$bad") refused with the fix" \
			'[ $rc -eq 2 ] && [[ $msg == *"use "* ]]'
	done
done
mkdir -p "$out/c"
printf 'backend = timer\n' >"$out/c/$(printf 'bad\001').ini"
msg=$("$bin" --config "$out/c/$(printf 'bad\001').ini" --list 2>&1 >/dev/null)
check "a config file name with a control character is refused, naming --name" \
	'[ $? -eq 2 ] && [[ $msg == *"pass --name"* ]]'
