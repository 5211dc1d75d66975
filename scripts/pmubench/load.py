#!/usr/bin/python3
"""Read one pmubench run directory into pandas frames.

This is the only module that knows the on-disk layout of a run directory
(results/<config>-<host>-<UTC timestamp>/):

    size-<bytes>.csv   raw samples, one file per input size (schema_version 1)
    summary.csv        per-(kernel, variant, size, threads, thread, metric) stats
    meta.json          machine, compiler, counters, completeness

Every other script imports it:

    from pmubench.load import load_run, PmbError
    run = load_run("results/default-host-20250101T000000Z")
    run.raw        # DataFrame, one row per sample (all size files)
    run.summary    # DataFrame, tidy summary (recomputed from raw if missing)
    run.meta       # dict from meta.json ({} if missing)
    run.warnings   # list of strings also printed to stderr

Bad input raises PmbError with a one-line message (what is wrong and how to
fix it); scripts print it and exit non-zero instead of a traceback.  A run
killed mid-write (last line of a size file cut short) loses that line with a
warning.

Run as a script to check a run directory:  python3 -m pmubench.load RUN_DIR
"""

import argparse
import csv
import glob
import json
import math
import os
import re
import sys

import numpy as np
import pandas as pd

SCHEMA_VERSION = 1

RAW_COLUMNS = [
    "run_id", "flagset", "compiler", "cflags", "kernel", "variant", "size_bytes",
    "n_elems", "cache_level", "threads", "thread", "core", "rep", "iters",
    "ns", "tsc_ticks", "ns_per_elem", "cycles", "instructions", "l1d_misses",
    "l2_misses", "llc_misses", "branches", "branch_misses", "page_faults",
    "context_switches", "cpu_migrations", "task_clock_ns", "allocs",
    "counter_source", "counter_pass", "valid",
]

SUMMARY_COLUMNS = [
    "run_id", "flagset", "compiler", "cflags", "kernel", "variant", "size_bytes",
    "n_elems", "cache_level", "threads", "thread", "metric", "unit",
    "samples", "median", "ci_low", "ci_high", "mean", "stddev", "min", "max",
    "mad", "cv", "outliers", "counter_source", "valid",
]

# Counter columns in the raw files; EMPTY means "not counted".
COUNTER_COLUMNS = [
    "cycles", "instructions", "l1d_misses", "l2_misses", "llc_misses",
    "branches", "branch_misses", "page_faults", "context_switches",
    "cpu_migrations", "task_clock_ns", "allocs",
]

# metric name -> raw column it is derived from (per element per pass).
METRIC_SOURCE = {"ns_per_elem": "ns", "tsc_per_elem": "tsc_ticks"}
METRIC_SOURCE.update({c + "_per_elem": c for c in COUNTER_COLUMNS})
METRICS = list(METRIC_SOURCE)

METRIC_UNITS = {
    "ns_per_elem": "ns/elem", "tsc_per_elem": "ticks/elem",
    "cycles_per_elem": "cycles/elem", "instructions_per_elem": "instr/elem",
    "task_clock_ns_per_elem": "ns/elem",
    "l1d_misses_per_elem": "misses/elem", "l2_misses_per_elem": "misses/elem",
    "llc_misses_per_elem": "misses/elem", "branches_per_elem": "branches/elem",
    "branch_misses_per_elem": "misses/elem",
    "page_faults_per_elem": "faults/elem",
    "context_switches_per_elem": "switches/elem",
    "cpu_migrations_per_elem": "migrations/elem",
    "allocs_per_elem": "allocs/elem",
}

METRIC_LABELS = {
    "ns_per_elem": "time per element",
    "tsc_per_elem": "TSC ticks per element",
    "cycles_per_elem": "cycles per element",
    "instructions_per_elem": "instructions per element",
    "l1d_misses_per_elem": "L1D misses per element",
    "l2_misses_per_elem": "L2 misses per element",
    "llc_misses_per_elem": "LLC misses per element",
    "branches_per_elem": "branches per element",
    "branch_misses_per_elem": "branch misses per element",
    "page_faults_per_elem": "page faults per element",
    "context_switches_per_elem": "context switches per element",
    "cpu_migrations_per_elem": "CPU migrations per element",
    "task_clock_ns_per_elem": "task clock per element",
    "allocs_per_elem": "allocations per element",
}

RAW_INT_COLUMNS = ["size_bytes", "n_elems", "threads", "rep", "iters",
                   "counter_pass", "valid"]
RAW_FLOAT_COLUMNS = ["ns", "tsc_ticks", "ns_per_elem"] + COUNTER_COLUMNS
SUMMARY_INT_COLUMNS = ["size_bytes", "n_elems", "threads", "samples", "valid"]
SUMMARY_FLOAT_COLUMNS = ["median", "ci_low", "ci_high", "mean", "stddev",
                         "min", "max", "mad", "cv", "outliers"]

CACHE_LEVELS = ["L1", "L2", "L3", "DRAM"]


class PmbError(Exception):
    """Bad input: the message says what is wrong and how to fix it."""


def _default_warn(msg):
    print("warning: " + msg, file=sys.stderr)


class Run:
    """A loaded run directory."""

    def __init__(self, path, raw, summary, meta, warnings):
        self.path = path
        self.raw = raw
        self.summary = summary
        self.meta = meta
        self.warnings = warnings

    @property
    def name(self):
        return os.path.basename(os.path.normpath(self.path))

    def caches(self):
        """{'L1': sanitised size in bytes, ...} for levels meta.json knows."""
        out = {}
        for level, info in (self.meta.get("caches") or {}).items():
            if isinstance(info, dict):
                size = info.get("size")
            else:
                size = info
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


# --------------------------------------------------------------------------
# formatting helpers shared by the scripts

def fmt_bytes(n):
    """16384 -> '16 KiB', 8388608 -> '8 MiB', 1536 -> '1.5 KiB'."""
    n = float(n)
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            v = n / scale
            return ("%d %s" % (v, unit)) if v == int(v) else ("%.3g %s" % (v, unit))
    return "%d B" % n


def metric_label(metric):
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def metric_unit(metric):
    if metric in METRIC_UNITS:
        return METRIC_UNITS[metric]
    return "per elem"


def primary_rows(df):
    """Rows that stand for a whole sample: thread 'all' for multi-thread
    samples, thread 0 for single-thread ones."""
    thread = df["thread"].astype(str)
    return df[((df["threads"] > 1) & (thread == "all"))
              | ((df["threads"] <= 1) & (thread == "0"))]


def metric_values(raw, metric):
    """Per-sample values of a metric (Series aligned with raw; NaN when the
    counter was not counted)."""
    if metric not in METRIC_SOURCE:
        raise PmbError("unknown metric %r; choose one of: %s"
                       % (metric, ", ".join(METRICS)))
    if metric == "ns_per_elem":
        return raw["ns_per_elem"].astype(float)
    col = METRIC_SOURCE[metric]
    return raw[col].astype(float) / (raw["iters"].astype(float)
                                     * raw["n_elems"].astype(float))


# --------------------------------------------------------------------------
# reading

def _read_csv(path, expected, warn, allow_truncated):
    """Parse a CSV with the csv module; check the header and field counts.
    Returns (header, rows). A short last line is dropped with a warning
    when allow_truncated (run killed mid-write)."""
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
                       "writing it; re-run the benchmark or delete the file"
                       % path)
    lines = text.splitlines(keepends=True)
    ends_with_newline = text.endswith("\n")
    reader = csv.reader(lines)
    try:
        rows = list(reader)
    except csv.Error as e:
        raise PmbError("%s: line %d is not valid CSV (%s); the file is "
                       "corrupted: delete that line or re-run the benchmark"
                       % (path, reader.line_num, e))
    header = [h.strip() for h in rows[0]]
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    dup = sorted({c for c in header if header.count(c) > 1})
    if missing or dup:
        parts = []
        if missing:
            parts.append("missing column(s): " + ", ".join(missing))
        if extra:
            parts.append("unexpected column(s): " + ", ".join(extra))
        if dup:
            parts.append("duplicate column(s): " + ", ".join(dup))
        raise PmbError("%s: header does not match schema_version %d (%s); "
                       "the file is corrupted or was written by another "
                       "pmubench version: re-run the benchmark, or fix the "
                       "header line" % (path, SCHEMA_VERSION, "; ".join(parts)))
    if extra:
        warn("%s: ignoring unexpected column(s): %s" % (fname, ", ".join(extra)))
    body = []
    last = len(rows) - 1
    for i, row in enumerate(rows[1:], start=2):  # i = 1-based line number
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != len(header):
            if i - 1 == last and allow_truncated:
                warn("%s: dropping truncated last line %d (%d of %d fields%s); "
                     "the run was probably killed while writing it"
                     % (fname, i, len(row), len(header),
                        "" if ends_with_newline else ", no final newline"))
                continue
            raise PmbError("%s: line %d has %d field(s), the header has %d "
                           "(corrupted line: %r); delete that line or re-run "
                           "the benchmark"
                           % (path, i, len(row), len(header),
                              ",".join(row)[:60]))
        body.append(row)
    return header, body


def _frame(path, header, rows, columns, int_cols, float_cols):
    fname = os.path.basename(path)
    df = pd.DataFrame(rows, columns=header, dtype=str)
    df = df[columns].copy()
    for col in columns:
        df[col] = df[col].str.strip()
    for col in int_cols + float_cols:
        s = df[col]
        num = pd.to_numeric(s.where(s != "", None), errors="coerce")
        bad = num.isna() & (s != "")
        if bad.any():
            idx = int(np.flatnonzero(bad.to_numpy())[0])
            raise PmbError("%s: column %s, data row %d: %r is not a number; "
                           "the file is corrupted: fix or delete that line, "
                           "or re-run the benchmark"
                           % (path, col, idx + 1, s.iloc[idx][:40]))
        if col in int_cols:
            if num.isna().any():
                idx = int(np.flatnonzero(num.isna().to_numpy())[0])
                raise PmbError("%s: column %s, data row %d is empty but must "
                               "hold a number; the file is corrupted"
                               % (path, col, idx + 1))
            df[col] = num.astype("int64")
        else:
            df[col] = num.astype(float)
    return df


def _load_meta(run_dir, warn):
    path = os.path.join(run_dir, "meta.json")
    if not os.path.exists(path):
        warn("%s: meta.json missing; machine details and cache sizes unknown"
             % run_dir)
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
    sv = meta.get("schema_version")
    if sv is not None and sv != SCHEMA_VERSION:
        raise PmbError("%s: schema_version is %r but these scripts read "
                       "version %d; use the scripts from the pmubench "
                       "version that wrote the run" % (path, sv, SCHEMA_VERSION))
    if meta.get("complete") is False:
        warn("%s: run is marked incomplete (complete=false in meta.json)"
             % os.path.basename(os.path.normpath(run_dir)))
    return meta


def _size_key(path):
    m = re.search(r"size-(\d+)\.csv$", path)
    return int(m.group(1)) if m else -1


def load_raw(run_dir, warn=_default_warn):
    files = sorted(glob.glob(os.path.join(run_dir, "size-*.csv")), key=_size_key)
    if not files:
        raise PmbError("%s: no size-*.csv files; is this a run directory "
                       "(results/<config>-<host>-<timestamp>/)?" % run_dir)
    frames, damaged = [], []
    for path in files:
        # One damaged size file (a disk that filled, a crash) costs its own
        # size, not the whole run: it is skipped, and the warning says why.
        try:
            header, rows = _read_csv(path, RAW_COLUMNS, warn, allow_truncated=True)
            if not rows:
                warn("%s: no samples (header only)" % os.path.basename(path))
                continue
            frames.append(_frame(path, header, rows, RAW_COLUMNS,
                                 RAW_INT_COLUMNS, RAW_FLOAT_COLUMNS))
        except PmbError as e:
            damaged.append(str(e))
            warn("skipping %s: %s" % (os.path.basename(path), e))
    if not frames:
        if damaged:
            raise PmbError("%s: no readable size file: %s" % (run_dir, "; ".join(damaged)))
        raise PmbError("%s: size files hold no samples; the run was killed "
                       "before measuring anything: re-run it" % run_dir)
    raw = pd.concat(frames, ignore_index=True)
    bad = int((raw["valid"] != 1).sum())
    if bad:
        warn("%s: %d sample(s) failed the kernel self-check (valid=0)"
             % (os.path.basename(os.path.normpath(run_dir)), bad))
    return raw


def load_summary(run_dir, raw, warn=_default_warn):
    path = os.path.join(run_dir, "summary.csv")
    if not os.path.exists(path):
        warn("%s: summary.csv missing (run incomplete?); computing medians "
             "and CIs from the raw samples"
             % os.path.basename(os.path.normpath(run_dir)))
        return summarize(raw)
    header, rows = _read_csv(path, SUMMARY_COLUMNS, warn, allow_truncated=True)
    return _frame(path, header, rows, SUMMARY_COLUMNS,
                  SUMMARY_INT_COLUMNS, SUMMARY_FLOAT_COLUMNS)


def load_run(run_dir, warn=None):
    """Load a run directory. Raises PmbError on bad input."""
    if not os.path.isdir(run_dir):
        if os.path.exists(run_dir):
            raise PmbError("%s: not a directory; pass a run directory such as "
                           "results/<config>-<host>-<timestamp>/" % run_dir)
        raise PmbError("%s: no such directory; pass a run directory such as "
                       "results/<config>-<host>-<timestamp>/" % run_dir)
    warnings = []

    def _warn(msg):
        warnings.append(msg)
        (warn or _default_warn)(msg)

    meta = _load_meta(run_dir, _warn)
    raw = load_raw(run_dir, _warn)
    summary = load_summary(run_dir, raw, _warn)
    return Run(run_dir, raw, summary, meta, warnings)


# --------------------------------------------------------------------------
# statistics (also used to write fixtures and when summary.csv is missing)

def bootstrap_median_ci(values, rng, n_boot=2000, conf=0.95):
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        m = float(np.median(v)) if len(v) else math.nan
        return m, m
    idx = rng.integers(0, len(v), size=(n_boot, len(v)))
    meds = np.median(v[idx], axis=1)
    a = (1 - conf) / 2
    return float(np.quantile(meds, a)), float(np.quantile(meds, 1 - a))


def summarize(raw, seed=1):
    """Tidy summary (SUMMARY_COLUMNS) computed from raw samples."""
    rng = np.random.default_rng(seed)
    keys = ["run_id", "flagset", "compiler", "cflags", "kernel", "variant", "size_bytes",
            "n_elems", "cache_level", "threads", "thread"]
    out = []
    for key, g in raw.groupby(keys, sort=True, dropna=False):
        src = g["counter_source"].iloc[0]
        valid = int((g["valid"] == 1).all())
        for metric in METRICS:
            vals = metric_values(g, metric).dropna().to_numpy()
            row = dict(zip(keys, key))
            row.update(metric=metric, unit=metric_unit(metric),
                       samples=len(vals), valid=valid,
                       counter_source="" if metric in ("ns_per_elem", "tsc_per_elem") else src)
            if len(vals):
                med = float(np.median(vals))
                lo, hi = bootstrap_median_ci(vals, rng)
                mad = float(np.median(np.abs(vals - med)))
                mean = float(np.mean(vals))
                sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
                q1, q3 = np.quantile(vals, [0.25, 0.75])
                iqr = q3 - q1
                outl = int(((vals < q1 - 1.5 * iqr) | (vals > q3 + 1.5 * iqr)).sum())
                row.update(median=med, ci_low=lo, ci_high=hi, mean=mean,
                           stddev=sd, min=float(vals.min()), max=float(vals.max()),
                           mad=mad, cv=(sd / mean if mean else math.nan),
                           outliers=outl)
            else:
                row.update({k: math.nan for k in SUMMARY_FLOAT_COLUMNS})
            out.append(row)
    df = pd.DataFrame(out, columns=SUMMARY_COLUMNS)
    df["counter_source"] = df["counter_source"].fillna("")
    return df


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
        description="Check and summarise a pmubench run directory: validates "
                    "every size-*.csv and summary.csv against schema_version "
                    "%d and reads meta.json." % SCHEMA_VERSION,
        epilog="Exit status: 0 when the run loads (warnings go to stderr), "
               "2 when it cannot be read.")
    ap.add_argument("run_dir", metavar="RUN_DIR",
                    help="results/<config>-<host>-<timestamp>/")
    args = ap.parse_args()
    run = load_run(args.run_dir)
    raw = run.raw
    print("%s: %d samples, %d kernel(s), %d variant(s), %d size(s), "
          "%d summary rows, complete=%s"
          % (run.name, len(raw), raw["kernel"].nunique(),
             raw.groupby(["kernel", "variant"]).ngroups,
             raw["size_bytes"].nunique(), len(run.summary),
             run.meta.get("complete", "unknown")))
    return 0


if __name__ == "__main__":
    scripts_main(_main)
