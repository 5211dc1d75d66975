#!/bin/bash
# The committed run fixtures (tests/fixtures/run-*) are what the binary
# writes today: `make fixtures FIXTURES_OUT=<tmp>` regenerates them and the
# two copies must agree on everything that does not depend on timing or the
# machine: the schema (meta.json's and `pmubench --schema`), every CSV's
# header line and row count, the keys of every row (kernel, variant, size,
# threads, thread, rep; summary: metric, unit, normalisation, samples,
# source) and the top-level meta.json keys.  A schema change without
# `make fixtures` fails here.  Output: ok / not ok lines.
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
BIN=build/test/pmubench
[ -x "$BIN" ] || { echo "not ok - fixtures: $BIN not built (make test-build)"; exit 0; }
if ! "$BIN" --schema >/dev/null 2>&1; then
	echo "skip - fixtures: $BIN prints no schema (pmubench --schema): the fixtures are schema 2"
	exit 0
fi
if ! $PY -c 'import pandas, numpy' 2>/dev/null; then
	echo "skip - fixtures: python3-pandas/numpy missing (make deps-test)"
	exit 0
fi
tmp=$(mktemp -d /tmp/pmb-fixtures-check-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if make --no-print-directory fixtures FIXTURES_OUT="$tmp" >"$tmp/make.log" 2>&1; then
	echo "ok - make fixtures FIXTURES_OUT=<tmp> regenerates the fixtures from $BIN"
else
	echo "not ok - make fixtures FIXTURES_OUT=<tmp> regenerates the fixtures from $BIN"
	sed 's/^/# /' "$tmp/make.log" | tail -20
	exit 0
fi

PYTHONPATH=scripts $PY - tests/fixtures "$tmp" "$BIN" <<'EOF'
import json, os, subprocess, sys
from pmubench.load import PmbError, load_run

committed, fresh, binary = sys.argv[1:4]
RAW_KEYS = ["flagset", "kernel", "variant", "size_bytes", "n_elems", "threads", "thread", "rep"]
SUM_KEYS = ["flagset", "kernel", "variant", "size_bytes", "n_elems", "threads", "thread",
            "metric", "unit", "normalisation", "samples", "source", "event"]


def check(name, ok, why=""):
    print("%s - fixtures: %s" % ("ok" if ok else "not ok", name))
    if not ok and why:
        for line in str(why).splitlines()[:12]:
            print("#   " + line)


def within(part, whole):
    """meta.json keeps the schema's names, types and units, not its prose:
    every key it has must hold what `pmubench --schema` says there."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(k in whole and within(v, whole[k])
                                               for k, v in part.items())
    if isinstance(part, list):
        return (isinstance(whole, list) and len(part) == len(whole)
                and all(within(a, b) for a, b in zip(part, whole)))
    return part == whole


# A metric computed from the clock (GB/s over net time) has no sample
# where the net time is 0, which depends on timing: its samples and
# source are not compared.
def summary_keys(df):
    timed_metrics = {m["name"] for m in schema["metrics"]
                     if m["provenance"] == "derived" and " ns" in m["formula"]}
    df = df.copy()
    timed = df["metric"].isin(timed_metrics)
    for c in ("samples", "source", "event"):
        df[c] = df[c].astype(str).where(~timed, "")
    return keys(df, SUM_KEYS)


def runs(d):
    return sorted(x for x in os.listdir(d) if x.startswith("run-") and os.path.isdir(os.path.join(d, x)))


def csv_shape(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines[0] if lines else "", len(lines)


def keys(df, cols):
    cols = [c for c in cols if c in df.columns]
    return sorted(tuple(str(v) for v in row) for row in df[cols].itertuples(index=False))


schema = json.loads(subprocess.run([binary, "--schema"], capture_output=True, text=True).stdout)
check("the same fixture directories", runs(committed) == runs(fresh),
      "committed %s\nfresh     %s" % (runs(committed), runs(fresh)))
for name in runs(committed):
    a, b = os.path.join(committed, name), os.path.join(fresh, name)
    if not os.path.isdir(b):
        continue
    fa, fb = sorted(os.listdir(a)), sorted(os.listdir(b))
    check("%s: the same files" % name, fa == fb, "committed %s\nfresh     %s" % (fa, fb))
    for f in fa:
        if f.endswith(".csv") and f in fb:
            ha, na = csv_shape(os.path.join(a, f))
            hb, nb = csv_shape(os.path.join(b, f))
            check("%s/%s: header line and %d lines as committed" % (name, f, na),
                  ha == hb and na == nb,
                  "header committed %r\n       fresh     %r\nlines %d vs %d" % (ha, hb, na, nb))
        elif f.endswith(".json") and f in fb:
            ma, mb = (json.load(open(os.path.join(d, f))) for d in (a, b))
            check("%s/%s: top-level keys as committed" % (name, f), sorted(ma) == sorted(mb),
                  "only committed: %s\nonly fresh: %s" % (sorted(set(ma) - set(mb)),
                                                           sorted(set(mb) - set(ma))))
            check("%s/%s: schema as committed and as pmubench --schema" % (name, f),
                  ma.get("schema") == mb.get("schema") == schema,
                  "schema_version committed %s, fresh %s, binary %s"
                  % ((ma.get("schema") or {}).get("schema_version"),
                     (mb.get("schema") or {}).get("schema_version"), schema.get("schema_version")))
    try:
        ra, rb = load_run(a, warn=lambda m: None), load_run(b, warn=lambda m: None)
    except PmbError as e:
        continue  # the damaged copies: their header and line counts are checked above
    check("%s: raw row keys as committed (%d rows)" % (name, len(ra.raw)),
          keys(ra.raw, RAW_KEYS) == keys(rb.raw, RAW_KEYS))
    check("%s: summary row keys, units, samples, sources as committed (%d rows)"
          % (name, len(ra.summary)), summary_keys(ra.summary) == summary_keys(rb.summary),
          "\n".join(str(x) for x in sorted(set(summary_keys(ra.summary))
                                           ^ set(summary_keys(rb.summary)))[:10]))
EOF
