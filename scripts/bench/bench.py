#!/usr/bin/python3
"""bench.py — `make bench`: pmubench measures itself on this machine.

Runs the built pmubench (and likwid-bench as a reference) and prints one
table: check, goal, measured value, PASS/FAIL.  The same rows go to
<out>/bench-<host>-<UTC>/bench.csv and bench.json (with every detail and
the pmubench run directories behind them).  docs/bench.md explains the
method; the goals are issue 4's:

  P1  overhead per sample <= 1.2 x (2 wall reads + 2 tick reads + one
      counter start/stop), from the empty kernel; empty kernel ~0 ns/elem
      after the overhead is subtracted
  P2  CV of ns/elem <= 1 % for the sum kernels at an L1 size (16K),
      <= 3 % at a DRAM size (256M, >= 4 x the 32 MiB L3); P2load the same
      while a spinning process of ours keeps the other core(s) busy
  P4  wall time of `make run CONFIG=x86` <= 300 s, of CONFIG=ci <= 60 s
  REF sum kernels against likwid-bench's `sum` at 16K, 1M, 64M
      (ratio pmubench ns/elem / likwid ns/elem; a reference, not a goal)

Exit status: 0 when every goal passed, 1 when one failed (the table is
printed either way), 2 on a usage or setup error.

Standard library only, so it runs before the test dependencies exist.
"""

import argparse
import csv
import datetime
import functools
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))  # the pmubench package: its loader

P1_RATIO_MAX = 1.2          # harness overhead / raw read cost
P1_EMPTY_MAX_NS = 0.01      # "~0 ns/elem" for the empty kernel
P1_RESIDUAL_MAX = 0.10      # 1-iteration empty sample, after subtraction, / overhead
P2_CV_MAX = {"L1": 0.01, "DRAM": 0.03}
P4_MAX_S = {"x86": 300.0, "ci": 60.0}

P1_SIZES = "1K,4K,16K,64K,256K,1M"
L1_SIZE = "16K"
DRAM_SIZE = "256M"          # >= 4 x the real L3 (32 MiB): hwloc's 508 MiB is bogus
REF_SIZES = ["16K", "1M", "64M"]
LIKWID_TEST = "sum"         # likwid 5.2 has no sum_int; `sum` is scalar double, 8 B/elem
LIKWID_REPEATS = 5
# When P2 fails with the config's parameters, the same run again under
# SCHED_FIFO (root only): no other task of this machine can preempt a sample,
# so what is left is the hypervisor's and the memory system's noise.  Longer
# or shorter samples (0.2 to 20 ms) were tried on the 2-vCPU VM and were no
# better: docs/bench.md "Measured on the development VM".
P2_RT_PREFIX = ["chrt", "-f", "10"]

SIZE_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


# --- pure helpers (tests/scripts/test_bench.py) -------------------------------

def parse_size(text):
    """'16K' -> 16384 (binary suffixes, as pmubench's --sizes)."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMG]?)(?:i?B)?\s*", text, re.I)
    if not m:
        raise ValueError("bad size %r" % text)
    return int(m.group(1)) * SIZE_SUFFIX[m.group(2).upper()]


def fmt_size(n):
    for suffix, mult in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= mult and n % mult == 0:
            return "%d%s" % (n // mult, suffix)
    return "%dB" % n


def fmt_ns(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 100:
        return "%.0f ns" % x
    if abs(x) >= 1:
        return "%.1f ns" % x
    return "%.3g ns" % x


def fmt_pct(x):
    return "n/a" if x is None or math.isnan(x) else "%.2f %%" % (100 * x)


def fmt_s(x):
    return "n/a" if x is None or math.isnan(x) else "%.1f s" % x


def judge(value, limit, absolute=False):
    """PASS when value <= limit (|value| with absolute); FAIL otherwise;
    'not measured' when value is missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not measured"
    v = abs(value) if absolute else value
    return "PASS" if v <= limit else "FAIL"


def raw_read_cost(clocks):
    """The raw cost a sample wraps: 2 wall-clock reads + 2 tick reads + one
    counter start/stop, from meta.json's `clocks`.  Missing parts count 0."""
    def g(k):
        v = clocks.get(k)
        return float(v) if isinstance(v, (int, float)) and not math.isnan(v) else 0.0
    return 2 * g("wall_read_cost_ns") + 2 * g("ticks_read_cost_ns") + g("counter_start_stop_ns")


def parse_likwid(text):
    """Fields of one likwid-bench run (one work group, one thread)."""
    out = {}
    pats = {
        "time_s": r"^Time:\s+([0-9.eE+-]+)\s*sec",
        "cycles": r"^Cycles:\s+(\d+)",
        "cpu_clock_hz": r"^CPU Clock:\s+(\d+)",
        "iterations": r"^Iterations per thread:\s+(\d+)",
        "size_bytes": r"^Size per thread:\s+(\d+)",
        "mbyte_s": r"^MByte/s:\s+([0-9.eE+-]+)",
        "mflops_s": r"^MFlops/s:\s+([0-9.eE+-]+)",
        "cycles_per_update": r"^Cycles per update:\s+([0-9.eE+-]+)",
        "load_bytes_per_elem": r"^Load bytes per element:\s+(\d+)",
    }
    for key, pat in pats.items():
        m = re.search(pat, text, re.M)
        if m:
            out[key] = float(m.group(1))
    m = re.search(r"running on hwthread (\d+) - Vector length (\d+)", text)
    if m:
        out["hwthread"] = int(m.group(1))
        out["vector_length"] = int(m.group(2))
    return out


def likwid_ns_per_elem(parsed):
    """ns per element: Time / (iterations x vector length).  NaN when a
    field is missing."""
    try:
        n = parsed["iterations"] * parsed["vector_length"]
        return parsed["time_s"] * 1e9 / n if n > 0 else math.nan
    except KeyError:
        return math.nan


@functools.lru_cache(maxsize=8)
def read_run(run_dir):
    """A finished run through pmubench.load (the one reader): (summary, raw)
    as lists of dicts, numbers as numbers, NaN where a cell is empty."""
    from pmubench.load import load_run
    run = load_run(run_dir, warn=lambda m: None)
    return run.summary.to_dict("records"), run.raw.to_dict("records")


def read_summary(run_dir):
    return read_run(run_dir)[0]


def fnum(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def metric_rows(summary, metric="ns_per_elem", kernel=None):
    """Single-thread (thread 0) summary rows of one metric, keyed
    (kernel/variant, size_bytes)."""
    out = {}
    for r in summary:
        if r["metric"] != metric or int(r["thread"]) != 0 or int(r["threads"]) != 1:
            continue
        if kernel and r["kernel"] != kernel:
            continue
        out[("%s/%s" % (r["kernel"], r["variant"]), int(r["size_bytes"]))] = r
    return out


def robust_cv(median, mad):
    """1.4826 MAD / median: the CV a normal distribution with this MAD
    would have; insensitive to the odd preempted sample."""
    return 1.4826 * mad / median if median and not math.isnan(median) else math.nan


def preempted_split(raw):
    """Samples of one point split by the context_switches counter (the
    perf software counter, available even without a PMU): how many were
    switched out, and the CV and median of the others."""
    known = [r for r in raw if not math.isnan(fnum(r.get("context_switches")))]
    clean = [fnum(r["ns_per_elem"]) for r in known if fnum(r["context_switches"]) == 0]
    npre = len(known) - len(clean)
    cv = (statistics.stdev(clean) / statistics.mean(clean)
          if len(clean) > 1 and statistics.mean(clean) else math.nan)
    med = statistics.median(clean) if clean else math.nan
    if not known:
        text = "context switches not counted"
    elif len(clean) > 1:
        text = "%d/%d samples context-switched, CV of the others %s" % (
            npre, len(known), fmt_pct(cv))
    else:
        text = "%d/%d samples context-switched" % (npre, len(known))
    return {"preempted": npre, "counted": len(known), "cv_clean": cv,
            "median_clean": med, "text": text}


def sampled_seconds(raw_rows):
    """Seconds spent inside measured samples, per (kernel/variant, size),
    from raw rows (thread 0 only: threads of a point run side by side)."""
    out = {}
    for r in raw_rows:
        if int(r["thread"]) != 0:
            continue
        k = ("%s/%s" % (r["kernel"], r["variant"]), int(r["size_bytes"]))
        out[k] = out.get(k, 0.0) + fnum(r["ns"]) / 1e9
    return out


def read_raw(run_dir, size_bytes):
    return [r for r in read_run(run_dir)[1] if int(r["size_bytes"]) == size_bytes]


def format_table(rows):
    cols = [("id", "ID"), ("check", "check"), ("goal", "goal"),
            ("measured", "measured"), ("status", "result")]
    widths = [max(len(h), *(len(str(r[k])) for r in rows)) for k, h in cols]
    line = "  ".join("%-*s" % (w, h) for (k, h), w in zip(cols, widths))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join("%-*s" % (w, r[k]) for (k, h), w in zip(cols, widths)).rstrip())
    return "\n".join(out)


def overall(rows):
    """'FAIL' if a goal row failed, else 'PASS' (reference and not-measured
    rows do not decide)."""
    return "FAIL" if any(r["status"] == "FAIL" for r in rows) else "PASS"


# --- machine state -------------------------------------------------------------

def cpu_times():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    total = sum(vals[:8])
    return total - idle, total


class Load:
    """Other work on the machine while a block runs: CPU busy time of the
    whole machine minus that of our own (waited-for) children, in cores."""

    def __enter__(self):
        self.t0 = time.monotonic()
        self.c0 = cpu_times()
        t = os.times()
        self.own0 = t.children_user + t.children_system + t.user + t.system
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.t0
        busy1, total1 = cpu_times()
        t = os.times()
        own = t.children_user + t.children_system + t.user + t.system - self.own0
        hz = os.sysconf("SC_CLK_TCK")
        busy = (busy1 - self.c0[0]) / hz
        self.own_cores = own / self.wall if self.wall > 0 else math.nan
        self.other_cores = max(0.0, busy - own) / self.wall if self.wall > 0 else math.nan
        return False

    def info(self):
        return {"wall_s": round(self.wall, 3), "own_cores": round(self.own_cores, 2),
                "other_cores": round(self.other_cores, 2)}


class BackgroundLoad:
    """One spinning process pinned to each of `cpus` while a block runs:
    the "other core busy" of P2load.  Started and stopped here, by pid."""

    SPIN = "while True: pass\n"

    def __init__(self, cpus):
        self.cpus = sorted(cpus)
        self.procs = []

    def __enter__(self):
        for c in self.cpus:
            # Pinned before exec, so it never runs anywhere else.
            self.procs.append(subprocess.Popen(
                [sys.executable, "-c", self.SPIN],
                preexec_fn=lambda c=c: os.sched_setaffinity(0, {c})))
        time.sleep(0.3)  # running before pmubench looks for an idle core
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()
        return False


def load_cpus(allowed):
    """The cpus P2load keeps busy: all allowed but the first, which stays
    for pmubench (which should find it by itself as the least busy)."""
    allowed = sorted(allowed)
    return allowed[1:]


def machine_context():
    ctx = {"host": socket.gethostname(), "cpus": os.cpu_count()}
    try:
        with open("/proc/loadavg") as f:
            ctx["loadavg"] = f.read().split()[:3]
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            ctx["cpu_model"] = m.group(1) if m else ""
    except OSError:
        pass
    with Load() as ld:
        time.sleep(1.0)
    ctx["other_cores_before"] = round(ld.other_cores, 2)
    return ctx


# --- running things ------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.dir = os.path.join(args.out, "bench-%s-%s" % (socket.gethostname(), stamp))
        os.makedirs(os.path.join(self.dir, "runs"), exist_ok=True)
        self.rows = []
        self.details = {}
        self.log = open(os.path.join(self.dir, "bench.log"), "w")

    def say(self, msg):
        if not self.args.quiet:
            print("bench: " + msg, file=sys.stderr, flush=True)
        self.log.write(msg + "\n")
        self.log.flush()

    def add(self, id_, check, goal, measured, status, **detail):
        self.rows.append({"id": id_, "check": check, "goal": goal, "measured": measured,
                          "status": status, "detail": detail})

    def pmubench(self, name, extra, prefix=()):
        """Run the binary with the bench config; returns (run_dir, meta,
        summary, Load) or raises RuntimeError with the tail of stderr."""
        out = os.path.join(self.dir, "runs", name)
        # One round: the goals are about the samples of one visit of a
        # point (its CV, its overhead); the config's --rounds would mix in
        # the drift between visits.
        cmd = list(prefix) + [self.args.bin, "--config", self.args.config, "--out", out,
                              "-q", "--rounds", "1"] + extra
        self.say("$ " + " ".join(cmd))
        with Load() as ld:
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        with open(os.path.join(self.dir, "runs", name + ".stderr"), "w") as f:
            f.write(p.stderr)
        lines = p.stdout.strip().splitlines()
        run_dir = os.path.join(ROOT, lines[-1]) if lines else ""
        if not run_dir or not os.path.isdir(run_dir):
            raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode,
                                                     p.stderr.strip()[-500:]))
        with open(os.path.join(run_dir, "meta.json")) as f:
            meta = json.load(f)
        summary = read_summary(run_dir)
        if p.returncode != 0:
            self.say("warning: %s exited %d: %s" % (name, p.returncode, p.stderr.strip()[-300:]))
        self.say("  %s: %.1f s, other load %.2f cores" % (name, ld.wall, ld.other_cores))
        return run_dir, meta, summary, ld

    # --- P1 ---------------------------------------------------------------------
    def p1(self):
        backends = [self.args.backend] + (["timer"] if self.args.backend != "timer" else [])
        for backend in backends:
            tag = "P1" if backend == self.args.backend else "P1t"
            try:
                run_dir, meta, summary, ld = self.pmubench(
                    "p1-empty-" + backend,
                    ["--filter", "empty", "--sizes", P1_SIZES, "--backend", backend])
            except RuntimeError as e:
                self.add(tag, "overhead/sample vs raw reads (%s)" % backend,
                         "<= %.1fx" % P1_RATIO_MAX, "not measured: %s" % e, "not measured")
                continue
            clocks = meta.get("clocks", {})
            ref = raw_read_cost(clocks)
            ovh = fnum(clocks.get("sample_overhead_ns_median"))
            ratio = ovh / ref if ref > 0 else math.nan
            self.add(tag, "overhead/sample vs 2 wall + 2 tick reads + start/stop (%s)" % backend,
                     "<= %.1fx" % P1_RATIO_MAX,
                     "%.2fx (%s / %s = 2x%.1f + 2x%.1f + %.0f)" % (
                         ratio, fmt_ns(ovh), fmt_ns(ref), fnum(clocks.get("wall_read_cost_ns")),
                         fnum(clocks.get("ticks_read_cost_ns")),
                         fnum(clocks.get("counter_start_stop_ns"))),
                     judge(ratio, P1_RATIO_MAX), run_dir=run_dir, clocks=clocks,
                     raw_cost_ns=ref, overhead_ns=ovh, ratio=ratio, load=ld.info())
            if backend != self.args.backend:
                continue
            # Empty kernel after subtraction, with the config's sampling.
            rows = metric_rows(summary, kernel="empty")
            per_size = {fmt_size(s): {"ns_per_elem": fnum(r["median"]),
                                      "ns_per_call": fnum(r["median"]) * int(r["n_elems"])}
                        for (k, s), r in sorted(rows.items(), key=lambda kv: kv[0][1])}
            worst = max((v["ns_per_elem"] for v in per_size.values()), default=math.nan)
            at = [k for k, v in per_size.items() if v["ns_per_elem"] == worst]
            best = min(per_size, key=lambda k: per_size[k]["ns_per_elem"], default=None)
            calls = [v["ns_per_call"] for v in per_size.values()]
            self.add("P1b", "empty kernel ns/elem after subtraction, sizes %s" % P1_SIZES,
                     "~0: <= %g at every size" % P1_EMPTY_MAX_NS,
                     "max %.2g ns/elem at %s, min %.2g at %s (per pass %s..%s: the call, "
                     "not subtracted)" % (
                         worst, at[0] if at else "?",
                         per_size[best]["ns_per_elem"] if best else math.nan, best or "?",
                         fmt_ns(min(calls, default=math.nan)), fmt_ns(max(calls, default=math.nan))),
                     judge(worst, P1_EMPTY_MAX_NS, absolute=True), per_size=per_size)
            # 1-iteration samples: the subtraction itself is visible.
            try:
                run_dir1, meta1, summary1, ld1 = self.pmubench(
                    "p1-empty-1iter-" + backend,
                    ["--filter", "empty", "--sizes", P1_SIZES, "--backend", backend,
                     "--min-sample-ms", "0", "--min-samples", "30", "--reps", "100"])
            except RuntimeError as e:
                self.add("P1c", "1-iteration empty sample, residual after subtraction",
                         "|r| <= %d %% of overhead" % (100 * P1_RESIDUAL_MAX),
                         "not measured: %s" % e, "not measured")
                continue
            ovh1 = fnum(meta1.get("clocks", {}).get("sample_overhead_ns_median"))
            raw_ns = []
            for s in (parse_size(x) for x in P1_SIZES.split(",")):
                raw_ns += [fnum(r["ns"]) for r in read_raw(run_dir1, s)
                           if int(r["iters"]) == 1 and int(r["thread"]) == 0]
            med = statistics.median(raw_ns) if raw_ns else math.nan
            resid = med - ovh1
            rel = resid / ovh1 if ovh1 else math.nan
            self.add("P1c", "1-iteration empty sample: median raw ns - overhead",
                     "|r| <= %d %% of overhead" % (100 * P1_RESIDUAL_MAX),
                     "%s (%+.1f %% of %s; %d samples)" % (fmt_ns(resid), 100 * rel,
                                                           fmt_ns(ovh1), len(raw_ns)),
                     judge(rel, P1_RESIDUAL_MAX, absolute=True), run_dir=run_dir1,
                     median_raw_ns=med, overhead_ns=ovh1, residual_ns=resid,
                     clocks=meta1.get("clocks", {}), load=ld1.info())

    # --- P2 and the likwid reference share one run --------------------------------
    def sum_run(self, name, extra, prefix=()):
        sizes = sorted({parse_size(s) for s in [L1_SIZE, DRAM_SIZE] + REF_SIZES})
        return self.pmubench(name, ["--filter", "sum", "--sizes",
                                    ",".join(fmt_size(s) for s in sizes)] + extra, prefix)

    def p2_rows(self, tag, summary, params, run_dir, ld):
        rows = metric_rows(summary, kernel="sum")
        failed = False
        for label, size in (("L1", L1_SIZE), ("DRAM", DRAM_SIZE)):
            sb = parse_size(size)
            for (kv, s), r in sorted(rows.items()):
                if s != sb:
                    continue
                cv = fnum(r["cv"])
                med = fnum(r["median"])
                rcv = robust_cv(med, fnum(r["mad"]))
                variant = kv.split("/", 1)[1]
                raw = [x for x in read_raw(run_dir, sb)
                       if x["variant"] == variant and int(x["thread"]) == 0]
                pre = preempted_split(raw)
                st = judge(cv, P2_CV_MAX[label])
                failed |= st == "FAIL"
                self.add(tag, "CV ns/elem %s %s (%s)" % (kv, size, label),
                         "<= %g %%" % (100 * P2_CV_MAX[label]),
                         "%s (n=%s, median %.4g ns/elem; %s)" % (
                             fmt_pct(cv), r["samples"], med, pre["text"]),
                         st, params=params, run_dir=run_dir, cv=cv, robust_cv=rcv,
                         preempted=pre["preempted"], cv_not_preempted=pre["cv_clean"],
                         median_not_preempted=pre["median_clean"],
                         median=med, ci_low=fnum(r["ci_low"]), ci_high=fnum(r["ci_high"]),
                         samples=int(r["samples"]), outliers=r["outliers"],
                         min=fnum(r["min"]), max=fnum(r["max"]), load=ld.info())
        return failed

    def p2_and_ref(self, p2=True, ref=True):
        try:
            run_dir, meta, summary, ld = self.sum_run("p2-sum", [])
        except RuntimeError as e:
            self.add("P2", "CV ns/elem, sum kernels", "<= 1 % L1, <= 3 % DRAM",
                     "not measured: %s" % e, "not measured")
            return
        s = meta.get("sampling", {})
        params = "config %s: min_sample_ms %g, samples %d..%d, target_ci %g %%, point %g s" % (
            os.path.basename(self.args.config), s.get("min_sample_ms", math.nan),
            s.get("min_samples", 0), s.get("max_samples", 0),
            100 * s.get("target_ci_rel", math.nan), s.get("point_seconds", math.nan))
        self.details["p2_params"] = params
        failed = p2 and self.p2_rows("P2", summary, params, run_dir, ld)
        if failed and not self.args.no_p2_rt:
            if os.geteuid() != 0 or not shutil.which(P2_RT_PREFIX[0]):
                self.say("P2 failed; not retried under SCHED_FIFO (needs root and chrt)")
            else:
                self.say("P2 failed with the config's parameters; again under " +
                         " ".join(P2_RT_PREFIX))
                try:
                    run_dir2, meta2, summary2, ld2 = self.sum_run("p2-sum-fifo", [],
                                                                  P2_RT_PREFIX)
                    self.p2_rows("P2rt", summary2, params + ", under " + " ".join(P2_RT_PREFIX),
                                 run_dir2, ld2)
                except RuntimeError as e:
                    self.say("SCHED_FIFO P2 run failed: %s" % e)
        if p2:
            self.p2_loaded(params)
        if ref:
            self.likwid_ref(run_dir, meta, summary)

    def p2_loaded(self, params):
        """P2 again with the other core(s) spinning: preempted samples are
        discarded and retaken by the harness, and it picks the idle core."""
        cpus = load_cpus(os.sched_getaffinity(0))
        if not cpus:
            self.add("P2load", "CV ns/elem, sum kernels, other core busy",
                     "<= 1 % L1, <= 3 % DRAM", "not measured: only one cpu", "not measured")
            return
        try:
            with BackgroundLoad(cpus):
                run_dir, meta, summary, ld = self.sum_run("p2-sum-loaded", [])
        except RuntimeError as e:
            self.add("P2load", "CV ns/elem, sum kernels, other core busy",
                     "<= 1 % L1, <= 3 % DRAM", "not measured: %s" % e, "not measured")
            return
        chosen = meta.get("core_choice") or {}
        pre = meta.get("preemption") or {}
        self.details["p2load"] = {"spinning_cpus": cpus, "core_choice": chosen,
                                  "preemption": pre}
        self.p2_rows("P2load", summary,
                     "%s; spinning on cpu %s, pmubench ran on cpu %s (%s); %s samples "
                     "discarded for preemption" % (
                         params, ",".join(map(str, cpus)),
                         ",".join(map(str, chosen.get("cores", []))) or "?",
                         chosen.get("how", "?"), pre.get("samples_discarded", "?")),
                     run_dir, ld)

    # --- likwid reference ----------------------------------------------------------
    def likwid_ref(self, run_dir, meta, summary):
        rows = metric_rows(summary, kernel="sum")
        core = (meta.get("core_os_index") or [0])[0]
        exe = shutil.which("likwid-bench")
        for size in REF_SIZES:
            sb = parse_size(size)
            pmb = {kv: fnum(r["median"]) for (kv, s), r in rows.items() if s == sb}
            if not exe:
                self.add("REF", "sum %s vs likwid-bench %s" % (size, LIKWID_TEST), "reference",
                         "not measured: likwid-bench not installed (make deps-bench)",
                         "not measured", pmubench=pmb)
                continue
            cmd = [exe, "-t", LIKWID_TEST, "-w", "S0:%dB:1" % sb]
            runs, err = [], ""
            for _ in range(LIKWID_REPEATS):
                self.say("$ " + " ".join(cmd))
                try:
                    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                except subprocess.TimeoutExpired:
                    err = "timed out after 120 s"
                    break
                text = p.stdout + p.stderr
                with open(os.path.join(self.dir, "runs", "likwid-%s.txt" % size), "a") as f:
                    f.write(text)
                parsed = parse_likwid(text)
                ns = likwid_ns_per_elem(parsed)
                if p.returncode != 0 or math.isnan(ns):
                    err = "exit %d: %s" % (p.returncode, text.strip().splitlines()[-1] if text.strip() else "")
                    break
                parsed["ns_per_elem"] = ns
                runs.append(parsed)
            if not runs:
                self.add("REF", "sum %s vs likwid-bench %s" % (size, LIKWID_TEST), "reference",
                         "not measured: %s" % err, "not measured", pmubench=pmb)
                continue
            lk = statistics.median(r["ns_per_elem"] for r in runs)
            ratios = {kv: v / lk for kv, v in pmb.items()}
            hw = sorted({r.get("hwthread") for r in runs})
            same_core = hw == [core]
            like = ratios.get("sum/unroll4", math.nan)
            idx = ratios.get("sum/index", math.nan)
            self.add("REF", "sum %s: pmubench / likwid-bench %s ns/elem" % (size, LIKWID_TEST),
                     "reference (~1 for unroll4)",
                     "unroll4 %.2fx (%.4g / %.4g), index %.2fx%s" % (
                         like, pmb.get("sum/unroll4", math.nan), lk, idx,
                         "" if same_core else " [likwid on hwthread %s, pmubench core %s]" % (hw, core)),
                     "ref", likwid_ns_per_elem=lk,
                     likwid_runs=[r["ns_per_elem"] for r in runs], pmubench_ns_per_elem=pmb,
                     ratios=ratios, likwid_hwthread=hw, pmubench_core=core,
                     likwid_cmd=" ".join(cmd))

    # --- P4 ---------------------------------------------------------------------
    def make_env(self):
        env = dict(os.environ)
        for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
            env.pop(k, None)
        return env

    def p4(self, config):
        env = self.make_env()
        self.say("$ make build CONFIG=%s (not timed)" % config)
        b = subprocess.run(["make", "-s", "build", "CONFIG=" + config], cwd=ROOT, env=env,
                           capture_output=True, text=True)
        if b.returncode != 0:
            self.add("P4", "wall time of make run CONFIG=%s" % config,
                     "<= %.0f s" % P4_MAX_S[config],
                     "not measured: build failed: %s" % b.stderr.strip()[-200:], "not measured")
            return
        tmp = tempfile.mkdtemp(prefix="pmb-bench-%s-" % config)
        cmd = ["make", "run", "CONFIG=" + config, "OUT=" + tmp, "ARGS=-q"]
        self.say("$ " + " ".join(cmd) + "   (timed)")
        with Load() as ld:
            p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        with open(os.path.join(self.dir, "runs", "p4-%s.log" % config), "w") as f:
            f.write(p.stdout + p.stderr)
        detail = {"cmd": " ".join(cmd), "exit": p.returncode, "load": ld.info()}
        where = ""
        for d in os.listdir(tmp):
            m = os.path.join(tmp, d, "meta.json")
            if not os.path.exists(m):
                continue
            with open(m) as f:
                meta = json.load(f)
            detail.update(points=meta.get("points_done"), complete=meta.get("complete"),
                          started=meta.get("started_utc"), finished=meta.get("finished_utc"))
            shutil.copy(m, os.path.join(self.dir, "runs", "p4-%s-meta.json" % config))
            # Where the time went: seconds inside samples, by size.
            sec = sampled_seconds(read_run(os.path.join(tmp, d))[1])
            by_size = {}
            for (k, sz), v in sec.items():
                by_size[sz] = by_size.get(sz, 0.0) + v
            total = sum(by_size.values())
            top = sorted(by_size, reverse=True)[:3]
            detail.update(sampled_s=total,
                          sampled_s_by_size={fmt_size(k): round(v, 2)
                                             for k, v in sorted(by_size.items())},
                          slowest_points=[["%s %s" % (k, fmt_size(sz)), round(v, 2)]
                                          for (k, sz), v in sorted(sec.items(),
                                                                   key=lambda kv: -kv[1])[:5]])
            if total > 0:
                where = "; %.0f s inside samples, %.0f s of them at %s" % (
                    total, sum(by_size[t] for t in top), "+".join(fmt_size(t) for t in sorted(top)))
        shutil.rmtree(tmp, ignore_errors=True)
        status = judge(ld.wall, P4_MAX_S[config]) if p.returncode == 0 else "FAIL"
        self.add("P4", "wall time of make run CONFIG=%s" % config, "<= %.0f s" % P4_MAX_S[config],
                 "%s (%s points%s%s; other load %.2f cores)" % (
                     fmt_s(ld.wall), detail.get("points", "?"),
                     "" if p.returncode == 0 else ", exit %d" % p.returncode, where,
                     ld.other_cores),
                 status, wall_s=ld.wall, **detail)

    # --- output -------------------------------------------------------------------
    def write(self, context):
        table = format_table(self.rows)
        verdict = overall(self.rows)
        with open(os.path.join(self.dir, "bench.txt"), "w") as f:
            f.write(table + "\n\noverall: %s\n" % verdict)
        with open(os.path.join(self.dir, "bench.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "check", "goal", "measured", "status"])
            for r in self.rows:
                w.writerow([r["id"], r["check"], r["goal"], r["measured"], r["status"]])
        with open(os.path.join(self.dir, "bench.json"), "w") as f:
            json.dump({"context": context, "overall": verdict, "rows": self.rows,
                       "details": self.details}, f, indent=2, default=str)
        return table, verdict


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/x86/default/pmubench", help="built pmubench")
    ap.add_argument("--config", default="configs/x86.ini",
                    help="config whose sampling parameters P1, P2 and REF use")
    ap.add_argument("--backend", default="papi", help="counter backend for P1/P2 (papi)")
    ap.add_argument("--out", default="results", help="results root (bench-<host>-<UTC>/ below)")
    ap.add_argument("--quick", action="store_true",
                    help="skip the long P4 measurement of `make run CONFIG=x86`")
    ap.add_argument("--only", default="P1,P2,REF,P4",
                    help="comma list of parts to run (P1, P2, REF, P4)")
    ap.add_argument("--no-p2-rt", action="store_true",
                    help="do not retry P2 under SCHED_FIFO (chrt) when it fails")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)
    # Paths as the caller meant them, then work from the repository root
    # (make runs from there; pmubench's configs and `make run` need it).
    args.bin, args.config, args.out = (os.path.abspath(x) for x in
                                       (args.bin, args.config, args.out))
    os.chdir(ROOT)
    if not os.access(args.bin, os.X_OK):
        print("bench: error: %s is not built; run make build (or make bench)" % args.bin,
              file=sys.stderr)
        return 2
    parts = {p.strip().upper() for p in args.only.split(",") if p.strip()}
    b = Bench(args)
    context = machine_context()
    context["bin"] = args.bin
    context["config"] = args.config
    context["started_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    b.say("results in %s; load average %s, other work %.2f cores before start" % (
        b.dir, " ".join(context.get("loadavg", [])), context["other_cores_before"]))
    if "P1" in parts:
        b.p1()
    if "P2" in parts or "REF" in parts:
        b.p2_and_ref(p2="P2" in parts, ref="REF" in parts)
    if "P4" in parts:
        if args.quick:
            b.add("P4", "wall time of make run CONFIG=x86", "<= 300 s",
                  "skipped (BENCH_QUICK)", "not measured")
        else:
            b.p4("x86")
        b.p4("ci")
    context["finished_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    table, verdict = b.write(context)
    print(table)
    shown = os.path.relpath(b.dir, ROOT)
    print("\noverall: %s   (details: %s/bench.json)" % (
        verdict, b.dir if shown.startswith("..") else shown))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
