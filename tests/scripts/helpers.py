"""Shared paths and a subprocess runner for the script tests."""

import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
PYTHON = "/usr/bin/python3"

sys.dont_write_bytecode = True  # keep __pycache__ out of scripts/
if SCRIPTS not in sys.path:  # the pmubench package and the tool folders
    sys.path.insert(0, SCRIPTS)


def fixture(name):
    return os.path.join(FIXTURES, name)


def run_script(name, *args, **kw):
    """Run scripts/<name> the way the Makefile does: pmubench/<tool>.py as
    `python3 -m pmubench.<tool>` with PYTHONPATH=scripts, other .py files
    with /usr/bin/python3, .sh with sh.  Returns CompletedProcess with text
    stdout/stderr."""
    path = os.path.join(SCRIPTS, name)
    if name.startswith("pmubench/") and name.endswith(".py"):
        cmd = [PYTHON, "-m", name[:-3].replace("/", ".")]
    elif name.endswith(".sh"):
        cmd = ["sh", path]
    else:
        cmd = [PYTHON, path]
    env = dict(os.environ, NO_COLOR="1", MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=SCRIPTS)
    env.update(kw.pop("env", {}))
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True,
                          text=True, env=env, timeout=kw.pop("timeout", 180), **kw)


TIME_METRICS = ("ns_per_elem", "group_ns_per_elem", "tsc_per_elem", "group_tsc_per_elem")
STAT_COLUMNS = ("median", "ci_low", "ci_high", "mean", "stddev", "min", "max", "mad")


def fixture_copy(name, dst, edit_meta=None):
    """Copy fixture run directory name to dst (a path that does not exist
    yet) and return dst; edit_meta(meta) may change its meta.json dict in
    place first (a test input that differs from the real run there only)."""
    import json
    import shutil
    shutil.copytree(fixture(name), dst)
    if edit_meta:
        path = os.path.join(dst, "meta.json")
        with open(path) as f:
            meta = json.load(f)
        edit_meta(meta)
        with open(path, "w") as f:
            json.dump(meta, f)
    return dst


def scaled_copy(src, dst, factors):
    """Copy run directory src to dst with the times of some variants
    multiplied: factors = {(kernel, variant): f} or {(flagset, kernel,
    variant): f}.  Scales the per-element
    time columns of the raw rows and the statistics of their summary rows,
    so compare sees a run exactly f times slower there (a test input made
    from a real run; nothing else in the files changes)."""
    import csv
    import shutil
    shutil.copytree(src, dst)

    def scale(cell, f):
        return cell if cell == "" else "%.6g" % (float(cell) * f)

    for name in os.listdir(dst):
        if not name.endswith(".csv"):
            continue
        path = os.path.join(dst, name)
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        head = rows[0]
        col = {c: i for i, c in enumerate(head)}
        for r in rows[1:]:
            f = factors.get((r[col["kernel"]], r[col["variant"]]),
                            factors.get((r[col["flagset"]], r[col["kernel"]], r[col["variant"]])))
            if f is None:
                continue
            if "metric" in col:  # summary.csv
                if r[col["metric"]] in TIME_METRICS:
                    for c in STAT_COLUMNS:
                        r[col[c]] = scale(r[col[c]], f)
            else:
                for c in TIME_METRICS:
                    r[col[c]] = scale(r[col[c]], f)
        with open(path, "w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    return dst
