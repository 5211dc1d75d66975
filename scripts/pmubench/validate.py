#!/usr/bin/python3
"""validate.py RUN_DIR — check a run against the counter signatures of
scripts/pmubench/signatures.py and print, for each one, "holds", "does not hold" or
"not measured (...)".

A hardware run (backend papi) is checked with each signature's
hw_tolerance (and hw_expect where the simulator's model differs from
hardware); signatures that describe only the model (hw_tolerance None) are
reported as "not checked on hardware".  Instruction and branch counts "as
compiled" are compared only when the run was built by gcc 12 with -O2 (no
-O3, no -march), as the table was recorded.  allocs are counted by the
wrapped allocator, not by the PMU, so they are checked on every machine.
A sim run is checked with the simulator tolerances.

Cache regimes come from the run's cache_level column: L1 -> l1, L2/L3 ->
mid, DRAM -> beyond; per kernel the size deepest inside each regime is used
(near L1/4; near sqrt(L1 x LLC); the largest).  A sim run made at
signatures.SIM_SIZES uses those sizes instead.

Exit status: 0 unless something measured does not hold (2 on a bad RUN_DIR).
"""

import json
import math
import os
import sys

from pmubench import signatures as S  # noqa: E402
from pmubench.load import PmbError  # noqa: E402

LEVEL_REGIME = {"L1": "l1", "L2": "mid", "L3": "mid", "DRAM": "beyond"}
AS_COMPILED_COLUMNS = ("instructions", "branches")


def pick_sizes(points, meta, sim):
    """{kernel: {regime: size_bytes}}"""
    by_kernel = {}
    for (k, size), d in points.items():
        by_kernel.setdefault(k, []).append((size, d.get("level", "")))
    if sim and all(any(sz == S.SIM_SIZES[r] for sz, _ in v) for v in by_kernel.values()
                   for r in S.REGIMES):
        return {k: dict(S.SIM_SIZES) for k in by_kernel}
    caches = meta.get("caches") or {}
    l1 = (caches.get("L1") or {}).get("size") or 32768
    llc_level = meta.get("llc_level") or 3
    llc = (caches.get("L%d" % llc_level) or {}).get("size") or 8 << 20
    target = {"l1": l1 / 4, "mid": math.sqrt(l1 * llc)}
    out = {}
    for k, v in by_kernel.items():
        out[k] = {}
        for r in S.REGIMES:
            cands = [sz for sz, lvl in v if LEVEL_REGIME.get(lvl) == r]
            if not cands:
                continue
            if r == "beyond":
                out[k][r] = max(cands)
            else:
                out[k][r] = min(cands, key=lambda sz: abs(math.log(sz / target[r])))
    return out


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    run = argv[1]
    try:
        with open(os.path.join(run, "meta.json")) as f:
            meta = json.load(f)
        points = S.load_summary(run)
    except (OSError, ValueError, PmbError) as e:
        print("validate: error: cannot read run %s: %s (give RUN=results/<run>)" % (run, e),
              file=sys.stderr)
        return 2
    backend = meta.get("backend", "?")
    sim = backend == "sim"
    hw = not sim
    counters = meta.get("counters") or {}
    compiler, cflags = meta.get("compiler", ""), meta.get("cflags", "")
    flags = cflags.split()
    as_compiled_ok = (compiler.startswith("gcc-12") and "-O2" in flags
                      and not any(f.startswith("-march") or f in ("-O3", "-Ofast") for f in flags))
    sizes = pick_sizes(points, meta, sim)

    print("validate: %s (backend %s, %s %s, %s tolerances)" % (
        run, backend, compiler, cflags, "hardware" if hw else "simulator"))
    if hw:
        for c in ("instructions", "l1d_misses", "llc_misses", "branches", "branch_misses"):
            info = counters.get(c) or {}
            print("  %-14s %s" % (c, info.get("event") if info.get("available") else
                                  "unavailable: " + (info.get("reason") or "not in meta.json")))

    def unavailable(column):
        if column == "allocs":
            return None
        info = counters.get(column) or {}
        if info.get("available"):
            return None
        return info.get("reason") or "not requested or not in meta.json"

    def value(kernel, regime, column):
        size = sizes.get(kernel, {}).get(regime)
        d = points.get((kernel, size)) if size else None
        if not d:
            return None, None, "no %s-regime size for %s in this run" % (regime, kernel)
        v = d.get(column)
        if v is None:
            return None, None, "no %s value at %s" % (column, S.human(size))
        return v, d["n"], S.human(size)

    counts = {"holds": 0, "does not hold": 0, "not measured": 0, "not checked": 0}

    def report(state, name, text):
        counts[state] += 1
        print("%-14s %s: %s" % (state, name, text))

    for s in S.SIGNATURES:
        name = S.sig_name(s)
        why = unavailable(s.column)
        if why:
            report("not measured", name, "counter unavailable: %s" % why)
            continue
        if hw and s.hw_tolerance is None:
            report("not checked", name, "model-only signature (%s)" % s.why)
            continue
        if hw and s.column in AS_COMPILED_COLUMNS and s.mode == "approx" and not as_compiled_ok:
            report("not checked", name, "counts recorded for gcc 12 -O2; this run: %s %s"
                   % (compiler, cflags))
            continue
        v, n, where = value(s.kernel, s.regime, s.column)
        if v is None:
            report("not measured", name, where)
            continue
        ok, text = S.check_sig(s, v, n, hw=hw)
        report("holds" if ok else "does not hold", name, "%s at %s" % (text, where))

    for r in S.RELATIONS:
        name = S.rel_name(r)
        why = unavailable(r.lhs[1]) or unavailable(r.rhs[1])
        if why:
            report("not measured", name, "counter unavailable: %s" % why)
            continue
        if hw and not S.rel_applies_hw(r):
            report("not checked", name, "model-only relation")
            continue
        a, _, wa = value(r.lhs[0], r.regime, r.lhs[1])
        b, _, wb = value(r.rhs[0], r.regime, r.rhs[1])
        if a is None or b is None:
            report("not measured", name, wa if a is None else wb)
            continue
        ok, text = S.check_rel(r, a, b, hw=hw)
        report("holds" if ok else "does not hold", name, "%s at %s" % (text, wa))

    if backend != "sim":
        for state, name, text in latency_checks(meta):
            report(state, name, text)

    print("validate: %d hold, %d do not hold, %d not measured, %d not checked" % (
        counts["holds"], counts["does not hold"], counts["not measured"], counts["not checked"]))
    return 1 if counts["does not hold"] else 0


# Physical bounds of the per-level latency table (meta.json latency_levels,
# detected by the harness).  TSC ticks run at about the nominal clock, so
# they stand in for cycles where no cycle counter exists.
L1_TICKS = (2.0, 8.0)     # "a few cycles": 3-5 on current x86 and Arm cores
DRAM_MIN_NS = 50.0


def latency_checks(meta):
    """[(state, name, text)] for the latency table: L1 a few cycles, the
    levels' latencies rising from L1 to DRAM, DRAM >= 50 ns."""
    table = meta.get("latency_levels") or {}
    levels = [lv for lv in table.get("levels") or [] if lv.get("found")]
    if not levels:
        return [("not measured", "latency levels",
                 "no latency/chase curve in this run (run latency/chase over a size sweep)")]
    out = []
    l1 = next((lv for lv in levels if lv["level"] == "L1"), None)
    if l1 is None:
        out.append(("not measured", "latency L1", "no L1 plateau found"))
    elif l1.get("ticks") is None:
        out.append(("not measured", "latency L1", "no tick counter in this run"))
    else:
        lo, hi = L1_TICKS
        ok = lo <= l1["ticks"] <= hi
        out.append(("holds" if ok else "does not hold", "latency L1",
                    "%.3g ticks (%.3g ns), want %g-%g ticks (a few cycles)"
                    % (l1["ticks"], l1["ns"], lo, hi)))
    for a, b in zip(levels, levels[1:]):
        ok = b["ns"] > a["ns"]
        out.append(("holds" if ok else "does not hold",
                    "latency %s < %s" % (a["level"], b["level"]),
                    "%.3g ns < %.3g ns" % (a["ns"], b["ns"])))
    dram = next((lv for lv in levels if lv["level"] == "DRAM"), None)
    if dram is None:
        out.append(("not measured", "latency DRAM",
                    "no size beyond the last cache in this run"))
    else:
        ok = dram["ns"] >= DRAM_MIN_NS
        out.append(("holds" if ok else "does not hold", "latency DRAM",
                    "%.3g ns, want >= %g ns" % (dram["ns"], DRAM_MIN_NS)))
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv))
