#!/usr/bin/python3
"""Baselines like criterion's, for `make compare`.

A run saved with `pmubench --save-baseline NAME` is registered as
<results>/.baselines/<host>/NAME, a symlink to its run directory (written by
the harness, harness/run/pmb_baseline.c).  This module finds what to
compare when no A is given:

  * baseline NAME of the machine that ran B, or
  * the previous run of the same config on the same machine: same config
    name, host, kernel filter, sizes and thread counts, started before B,
    complete.

B is the newest run in <results> unless given.  The comparison itself is
pmubench.compare's (one statistics rule)."""

import glob
import json
import os

from pmubench.load import PmbError

BASELINES = ".baselines"


def _meta(run_dir):
    path = os.path.join(run_dir, "meta.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def runs(results):
    """Run directories under results (those with a meta.json), oldest first."""
    out = []
    for d in glob.glob(os.path.join(results, "*", "")):
        meta = _meta(d)
        if isinstance(meta, dict):
            out.append((meta.get("started_utc", ""), os.path.normpath(d), meta))
    return sorted(out, key=lambda t: (t[0], t[1]))


def newest_run(results):
    found = runs(results)
    if not found:
        raise PmbError("no run in %s/; make run first, or give RUN=<dir>" % results)
    return found[-1][1]


def identity(meta):
    """What makes two runs 'the same config' on one machine."""
    opts = meta.get("options") or {}
    return (meta.get("config"), meta.get("host"),
            opts.get("kernels", meta.get("kernels", meta.get("kernels_filter"))),
            tuple(opts.get("sizes", meta.get("sizes")) or ()),
            tuple(opts.get("threads", meta.get("threads")) or ()))


def previous_run(results, run_dir):
    meta = _meta(run_dir)
    if not isinstance(meta, dict):
        raise PmbError("%s: no readable meta.json; is it a run directory?" % run_dir)
    want = identity(meta)
    me = os.path.realpath(run_dir)
    before = [(t, d) for t, d, m in runs(results)
              if os.path.realpath(d) != me and t < meta.get("started_utc", "")
              and m.get("complete") and identity(m) == want]
    if not before:
        raise PmbError("no earlier complete run of config %r on host %r with the "
                       "same kernels, sizes and threads in %s/ to compare %s with; "
                       "run it again (make run), or name one: make compare A=<dir> "
                       "B=<dir> or BASELINE=<name>"
                       % (want[0], want[1], results, os.path.basename(run_dir)))
    return before[-1][1]


def baseline_run(results, name, host):
    link = os.path.join(results, BASELINES, host or "", name)
    if not os.path.isdir(link):
        known = sorted(os.listdir(os.path.join(results, BASELINES, host or ""))) \
            if os.path.isdir(os.path.join(results, BASELINES, host or "")) else []
        raise PmbError("no baseline %r for host %r in %s/%s/; saved ones: %s "
                       "(save one with: make run ARGS='--save-baseline %s')"
                       % (name, host, results, BASELINES,
                          ", ".join(known) or "none", name))
    return os.path.normpath(os.path.join(os.path.dirname(link), os.readlink(link))) \
        if os.path.islink(link) else link


def resolve(results, baseline=None, run=None):
    """(A, B, how A was chosen) for make compare without A."""
    b = run or newest_run(results)
    meta = _meta(b) or {}
    if baseline:
        return baseline_run(results, baseline, meta.get("host")), b, \
            "baseline %r of %s" % (baseline, meta.get("host"))
    return previous_run(results, b), b, "previous run of config %r on %s" % (
        meta.get("config"), meta.get("host"))
