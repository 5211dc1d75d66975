#!/usr/bin/python3
"""Read one pmubench run directory into pandas frames: the one reader.

A run directory (results/<config>-<host>-<UTC timestamp>/) holds

    size-<bytes>.csv   raw samples, one row per thread and sample
    summary.csv        one row per point, thread and metric: the harness's
                       medians, CIs and spread
    meta.json          machine, compiler, counters, completeness and the schema

The harness owns every number and the schema that names them.  This module
takes the schema from the run's meta.json ("schema") or, for a run that does
not carry it, from the binary (`pmubench --schema`, found through $PMB_BIN,
build/test/pmubench or PATH), checks each file's header and types against it
and hands the frames over as written: no metric is recomputed here or in any
script.  Scripts compare runs (ratios, tests, CIs of ratios) and nothing else.

    from pmubench.load import load_run, group_rows
    run = load_run("results/x86-host-20260101T000000Z")
    run.raw, run.summary, run.meta, run.schema, run.warnings
    run.metrics()            # metric names, in the schema's order
    run.metric("ns_per_elem")  # the schema's entry: unit, normalisation, rows, ...

Bad input raises PmbError with a one-line message (what is wrong and how to
fix it); scripts print it and exit 2 instead of a traceback.  A last line
cut short by a kill is dropped with a warning.

Run as a module to check a run directory:  python3 -m pmubench.load RUN_DIR
"""

import argparse
import csv
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd

# Display order of the cache_level column's values (labels, not numbers).
CACHE_LEVELS = ["L1", "L2", "L3", "DRAM"]
# The columns the scripts themselves rely on (the rest is the schema's).
KEY_COLUMNS = ["kernel", "variant", "size_bytes", "threads", "thread"]
# Integers in every row (thread -1 = the aggregate row), checked on load.
INT_KEYS = ["size_bytes", "threads", "thread"]
SUMMARY_NEEDS = KEY_COLUMNS + ["metric", "unit", "samples", "median", "ci_low", "ci_high"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class PmbError(Exception):
    """Bad input: the message says what is wrong and how to fix it."""


def _default_warn(msg):
    print("warning: " + msg, file=sys.stderr)


# --------------------------------------------------------------------------
# the schema (owned by the harness)

def find_binary():
    """A pmubench binary to ask for its schema, or None."""
    for cand in (os.environ.get("PMB_BIN"), os.path.join(ROOT, "build", "test", "pmubench"),
                 shutil.which("pmubench")):
        if cand and os.access(cand, os.X_OK):
            return cand
    for cand in sorted(glob.glob(os.path.join(ROOT, "build", "*", "*", "pmubench"))):
        if os.access(cand, os.X_OK):
            return cand
    return None


def binary_schema(binary=None):
    """`pmubench --schema` as a dict."""
    binary = binary or find_binary()
    if not binary:
        raise PmbError("no pmubench binary to read the schema from; build one "
                       "(make build) or set PMB_BIN=<path to pmubench>")
    try:
        p = subprocess.run([binary, "--schema"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PmbError("%s --schema failed: %s" % (binary, e))
    if p.returncode != 0:
        raise PmbError("%s --schema exited %d (%s); rebuild it: make build"
                       % (binary, p.returncode, p.stderr.strip()[:200]))
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        raise PmbError("%s --schema printed no valid JSON (%s)" % (binary, e))


def _check_schema(schema, where):
    try:
        heads = schema["headers"]
        ok = (isinstance(heads["raw"], list) and isinstance(heads["summary"], list)
              and isinstance(schema["metrics"], list))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise PmbError("%s: the schema has no headers.raw/headers.summary/metrics; "
                       "the run was written by another pmubench version: re-run it" % where)
    return schema


class Schema:
    """The harness's description of the files: headers, column types, metrics."""

    inferred = False

    def __init__(self, d):
        self.d = d
        self.version = d.get("schema_version")
        self.raw_header = list(d["headers"]["raw"])
        self.summary_header = list(d["headers"]["summary"])
        self.types = {}
        for key in ("raw_columns", "summary_columns"):
            for c in d.get(key) or []:
                self.types[c["name"]] = c.get("type", "string")
        self.metrics = [m["name"] for m in d["metrics"]]
        self.metric_info = {m["name"]: m for m in d["metrics"]}
        self.columns = {c["name"]: c for key in ("raw_columns", "summary_columns")
                        for c in d.get(key) or []}

    def numeric(self, name):
        return self.types.get(name) in ("int", "float")


def _first_line(path):
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            return next(csv.reader([f.readline()]), [])
    except OSError:
        return []


class InferredSchema(Schema):
    """For a schema-1 run (written before pmubench --schema, no schema in its
    meta.json, and no binary that prints one): the headers as the files
    have them, numbers where every cell is one, the aggregate row's thread
    'all' read as -1, and the metrics and units summary.csv names.  Nothing
    about the columns is written down here."""

    inferred = True

    def __init__(self, run_dir, version):
        sizes = sorted(glob.glob(os.path.join(run_dir, "size-*.csv")))
        raw = _first_line(sizes[0]) if sizes else []
        summary_path = os.path.join(run_dir, "summary.csv")
        metrics, units = [], {}
        try:
            with open(summary_path, newline="", encoding="utf-8", errors="replace") as f:
                for row in csv.DictReader(f):
                    m = row.get("metric")
                    if m and m not in units:
                        metrics.append(m)
                        units[m] = row.get("unit", "")
        except (OSError, csv.Error):
            pass
        Schema.__init__(self, {
            "schema_version": version,
            "headers": {"raw": [h.strip() for h in raw],
                        "summary": [h.strip() for h in _first_line(summary_path)]},
            "metrics": [{"name": m, "unit": units[m]} for m in metrics]})


# --------------------------------------------------------------------------
# the run

class Run:
    """A loaded run directory."""

    def __init__(self, path, raw, summary, meta, schema, warnings):
        self.path = path
        self.raw = raw
        self.summary = summary
        self.meta = meta
        self.schema = schema
        self.warnings = warnings

    @property
    def name(self):
        return os.path.basename(os.path.normpath(self.path))

    def metrics(self):
        """Metric names in the schema's order."""
        return list(self.schema.metrics)

    def metric(self, name):
        """The schema's entry for a metric; PmbError when the run has none."""
        info = self.schema.metric_info.get(name)
        if info is None:
            raise PmbError("unknown metric %r; this run has: %s"
                           % (name, ", ".join(self.schema.metrics)))
        return info

    def caches(self):
        """{'L1': size in bytes, ...} for the levels meta.json knows."""
        out = {}
        for level, info in (self.meta.get("caches") or {}).items():
            size = info.get("size") if isinstance(info, dict) else info
            try:
                size = int(size)
            except (TypeError, ValueError):
                continue
            if size > 0:
                out[level] = size
        return out

    def counter_info(self, counter):
        """meta.json's entry for a counter (e.g. 'cycles'), or {}."""
        info = (self.meta.get("counters") or {}).get(counter)
        return info if isinstance(info, dict) else {}

    def counter_columns(self):
        """Raw columns filled by a counter source or the allocator, in file order."""
        out = []
        for c in self.schema.raw_header:
            col = self.schema.columns.get(c) or {}
            # counts with a unit; counter_pass (which pass) is not one
            if col.get("provenance") in ("counter", "allocator") and col.get("unit"):
                out.append(c)
        return out


# --------------------------------------------------------------------------
# rows and labels (selection and formatting only)

def group_rows(df):
    """The rows that stand for a whole point (the schema's "group" rows): the
    aggregate row (thread -1) of a multi-thread point, thread 0 of a
    single-thread one."""
    return df[((df["threads"] > 1) & (df["thread"] == -1))
              | ((df["threads"] <= 1) & (df["thread"] == 0))]


def thread_rows(df):
    """Per-thread rows (thread 0..threads-1), without the aggregate."""
    return df[df["thread"] >= 0]


def fmt_bytes(n):
    """16384 -> '16 KiB', 8388608 -> '8 MiB', 1536 -> '1.5 KiB'."""
    n = float(n)
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            v = n / scale
            return ("%d %s" % (v, unit)) if v == int(v) else ("%.3g %s" % (v, unit))
    return "%d B" % n


def metric_unit(run, metric):
    return run.metric(metric).get("unit", "")


def metric_label(run, metric):
    """The schema's name, with its normalisation: 'ns_per_elem (per element of
    one thread's work)'."""
    info = run.metric(metric)
    norm = info.get("normalisation", "")
    text = (run.schema.d.get("normalisations") or {}).get(norm, norm)
    return "%s (%s)" % (metric, text) if text else metric


# --------------------------------------------------------------------------
# reading

def _read_csv(path, expected, warn, version="?"):
    """Parse a CSV with the csv module; check header and field counts.
    Returns (header, rows).  A short last line is dropped with a warning
    (the run was killed while writing it)."""
    fname = os.path.basename(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise PmbError("%s: not UTF-8 text (%s); the file is corrupted, "
                       "re-run the benchmark or delete it" % (path, e))
    except OSError as e:
        raise PmbError("%s: cannot read: %s" % (path, e.strerror or e))
    if not text.strip():
        raise PmbError("%s: file is empty; the run was probably killed before "
                       "writing it; re-run the benchmark or delete the file" % path)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        rows = list(reader)
    except csv.Error as e:
        raise PmbError("%s: line %d is not valid CSV (%s); the file is "
                       "corrupted: delete that line or re-run the benchmark"
                       % (path, reader.line_num, e))
    header = [h.strip() for h in rows[0]]
    if header != expected:
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        parts = []
        if missing:
            parts.append("missing column(s): " + ", ".join(missing))
        if extra:
            parts.append("unexpected column(s): " + ", ".join(extra))
        if not parts:
            parts.append("columns in another order")
        raise PmbError("%s: header does not match schema_version %s (%s); the file "
                       "is corrupted or was written by another pmubench version: "
                       "re-run the benchmark, or fix the header line"
                       % (path, version, "; ".join(parts)))
    body = []
    last = len(rows) - 1
    for i, row in enumerate(rows[1:], start=2):  # i = 1-based line number
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            if i - 1 == last:
                warn("%s: dropping truncated last line %d (%d of %d fields%s); "
                     "the run was probably killed while writing it"
                     % (fname, i, len(row), len(header),
                        "" if text.endswith("\n") else ", no final newline"))
                continue
            raise PmbError("%s: line %d has %d field(s), the header has %d "
                           "(corrupted line: %r); delete that line or re-run "
                           "the benchmark" % (path, i, len(row), len(header),
                                              ",".join(row)[:60]))
        body.append(row)
    return header, body


def _frame(path, header, rows, schema):
    df = pd.DataFrame(rows, columns=header, dtype=str)
    if schema.inferred:
        if "thread" in df:
            df["thread"] = df["thread"].str.strip().replace({"all": "-1"})
        for col in header:  # a number wherever every cell is one (an empty
            s = df[col].str.strip()  # column: a counter that was not counted)
            num = pd.to_numeric(s.where(s != "", None), errors="coerce")
            if col in INT_KEYS or (num.notna() | (s == "")).all():
                schema.types[col] = "int" if (num.dropna() % 1 == 0).all() else "float"
    for col in header:
        if not schema.numeric(col):
            continue
        s = df[col].str.strip()
        num = pd.to_numeric(s.where(s != "", None), errors="coerce")
        bad = num.isna() & (s != "")
        if bad.any():
            idx = int(np.flatnonzero(bad.to_numpy())[0])
            raise PmbError("%s: column %s, data row %d: %r is not a number; "
                           "the file is corrupted: fix or delete that line, "
                           "or re-run the benchmark" % (path, col, idx + 1, s.iloc[idx][:40]))
        if schema.types[col] == "int" and not num.isna().any():
            df[col] = num.astype("int64")
        else:
            df[col] = num.astype(float)
    for col in INT_KEYS:
        if col in df and df[col].dtype.kind not in "iu":
            raise PmbError("%s: column %s holds empty or non-integer cells; the "
                           "file is corrupted: re-run the benchmark" % (path, col))
    return df


def _load_meta(run_dir, warn):
    path = os.path.join(run_dir, "meta.json")
    if not os.path.exists(path):
        warn("%s: meta.json missing; machine details and cache sizes unknown" % run_dir)
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise PmbError("%s: not valid JSON (%s); the file is corrupted: fix "
                       "it or re-run the benchmark" % (path, e))
    except OSError as e:
        raise PmbError("%s: cannot read: %s" % (path, e.strerror or e))
    if not isinstance(meta, dict):
        raise PmbError("%s: expected a JSON object at the top level" % path)
    if meta.get("complete") is False:
        warn("%s: run is marked incomplete (complete=false in meta.json)"
             % os.path.basename(os.path.normpath(run_dir)))
    return meta


def _run_schema(run_dir, meta):
    """The run's own schema (meta.json), else the binary's when it writes the
    run's schema_version, else the one the files show (schema 1)."""
    if isinstance(meta.get("schema"), dict):
        return Schema(_check_schema(meta["schema"], os.path.join(run_dir, "meta.json")))
    sv = meta.get("schema_version")
    try:
        d = _check_schema(binary_schema(), "pmubench --schema")
    except PmbError:
        d = None
    if d is not None and (sv is None or sv == d.get("schema_version")):
        return Schema(d)
    return InferredSchema(run_dir, sv)


def _size_key(path):
    m = re.search(r"size-(\d+)\.csv$", path)
    return int(m.group(1)) if m else -1


def load_raw(run_dir, schema, warn=_default_warn):
    files = sorted(glob.glob(os.path.join(run_dir, "size-*.csv")), key=_size_key)
    if not files:
        raise PmbError("%s: no size-*.csv files; is this a run directory "
                       "(results/<config>-<host>-<timestamp>/)?" % run_dir)
    frames, damaged = [], []
    for path in files:
        # One damaged size file (a disk that filled, a crash) costs its own
        # size, not the whole run: it is skipped, and the warning says why.
        try:
            header, rows = _read_csv(path, schema.raw_header, warn, schema.version)
            if not rows:
                warn("%s: no samples (header only)" % os.path.basename(path))
                continue
            frames.append(_frame(path, header, rows, schema))
        except PmbError as e:
            damaged.append(str(e))
            warn("skipping %s: %s" % (os.path.basename(path), e))
    if not frames:
        if damaged:
            raise PmbError("%s: no readable size file: %s" % (run_dir, "; ".join(damaged)))
        raise PmbError("%s: size files hold no samples; the run was killed "
                       "before measuring anything: re-run it" % run_dir)
    raw = pd.concat(frames, ignore_index=True)
    bad = int((raw["valid"] != 1).sum()) if "valid" in raw else 0
    if bad:
        warn("%s: %d sample(s) failed the kernel self-check (valid=0)"
             % (os.path.basename(os.path.normpath(run_dir)), bad))
    return raw


def load_summary(run_dir, schema, warn=_default_warn):
    path = os.path.join(run_dir, "summary.csv")
    if not os.path.exists(path):
        raise PmbError("%s: summary.csv missing: the run stopped before its first "
                       "point was summarised; finish it with: pmubench --resume %s"
                       % (run_dir, run_dir))
    missing = [c for c in SUMMARY_NEEDS if c not in schema.summary_header]
    if missing:
        raise PmbError("%s: the schema has no summary column(s) %s; these scripts "
                       "need them" % (path, ", ".join(missing)))
    header, rows = _read_csv(path, schema.summary_header, warn, schema.version)
    return _frame(path, header, rows, schema)


def load_run(run_dir, warn=None):
    """Load a run directory.  Raises PmbError on bad input."""
    if not os.path.isdir(run_dir):
        what = "not a directory" if os.path.exists(run_dir) else "no such directory"
        raise PmbError("%s: %s; pass a run directory such as "
                       "results/<config>-<host>-<timestamp>/" % (run_dir, what))
    warnings = []

    def _warn(msg):
        warnings.append(msg)
        (warn or _default_warn)(msg)

    meta = _load_meta(run_dir, _warn)
    schema = _run_schema(run_dir, meta)
    raw = load_raw(run_dir, schema, _warn)
    summary = load_summary(run_dir, schema, _warn)
    return Run(run_dir, raw, summary, meta, schema, warnings)


def scripts_main(main):
    """Run main(); turn PmbError into 'prog: error: msg' and exit 2."""
    prog = os.path.basename(sys.argv[0])
    try:
        sys.exit(main())
    except PmbError as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


def _main():
    ap = argparse.ArgumentParser(
        description="Check a pmubench run directory: every size-*.csv and "
                    "summary.csv against the schema the run carries in "
                    "meta.json (or `pmubench --schema`).",
        epilog="Exit status: 0 when the run loads (warnings go to stderr), "
               "2 when it cannot be read.")
    ap.add_argument("run_dir", metavar="RUN_DIR", help="results/<config>-<host>-<timestamp>/")
    args = ap.parse_args()
    run = load_run(args.run_dir)
    raw = run.raw
    print("%s: schema %s, %d samples, %d kernel(s), %d variant(s), %d size(s), "
          "%d summary rows, complete=%s"
          % (run.name, run.schema.version, len(raw), raw["kernel"].nunique(),
             raw.groupby(["kernel", "variant"]).ngroups, raw["size_bytes"].nunique(),
             len(run.summary), run.meta.get("complete", "unknown")))
    return 0


if __name__ == "__main__":
    scripts_main(_main)
