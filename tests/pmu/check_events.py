"""Checks of your own events and the derived metrics in the emulated-PMU
guest (called by check_pmu.py; docs/pmu-emulated.md, docs/counters.md).

Own events: run `userev` of boot extra counts the Cortex-A57's native
INST_RETIRED (arm_ac57::INST_RETIRED) and its raw code 0x08
(perf_raw::r08) beside the built-in instructions (PAPI_TOT_INS, itself
INST_RETIRED on ARMv8).  In one pass they count the same window, so each
column must equal `instructions` in every sample.

Derived metrics: summary.csv of sweep-a (boot extra) must carry each
metric whose inputs were counted, on every point, and leave it empty
(0 samples) where an input was not.  Under -icount shift=0 QEMU's cycle
counter is virtual time at 1 GHz and virtual time advances one ns per
instruction, so ipc is 1.0 by construction: checked exactly, and it says
nothing about a Cortex-A57.
"""

import math
import re

USER_COLUMNS = {"arm_ac57_inst_retired": "arm_ac57::INST_RETIRED", "perf_raw_r08": "perf_raw::r08"}


def check_user_events(run, report, thread_rows):
    meta = run.meta["counters"]
    ins_pass = meta["instructions"]["pass"]
    for col, event in USER_COLUMNS.items():
        c = meta.get(col, {})
        report(f"own event {event}: column {col}, counted by papi in the instructions' pass",
               c.get("status") == "counted" and c.get("source") == "papi" and c.get("event") == event
               and c.get("user_event") is True and c.get("pass") == ins_pass, str(c))
    rows = thread_rows(run)
    for col, event in USER_COLUMNS.items():
        if col not in rows:
            report(f"own event {event} equals instructions in every sample", False, "no column")
            continue
        same = rows[col].notna().all() and (rows[col] == rows["instructions"]).all()
        diff = (rows[col] - rows["instructions"]).abs().max()
        report(f"own event {event} equals instructions in every sample ({len(rows)} samples)",
               len(rows) > 0 and same, f"largest difference {diff}")
    s = run.summary
    s = s[s["thread"] == 0]
    per = s.pivot_table(index=["kernel", "variant", "size_bytes"], columns="metric", values="median")
    ok = all((per[f"{c}_per_elem"] == per["instructions_per_elem"]).all() for c in USER_COLUMNS)
    report("summary: <own column>_per_elem medians equal instructions_per_elem on every point", ok)
    return len(rows)


def _inputs(formula):
    """Counter columns of a ratio formula 'a / b', else []."""
    m = re.fullmatch(r"\s*([a-z0-9_]+)\s*/\s*([a-z0-9_]+)\s*", formula or "")
    return list(m.groups()) if m else []


def check_derived(run, report):
    """Returns {kernel/variant: {metric: median}} at the largest size."""
    s = run.summary
    s = s[s["thread"] == 0]
    counters = run.meta["counters"]
    points = s[["kernel", "variant", "size_bytes"]].drop_duplicates()
    derived = [m for m in run.schema.d["metrics"] if m["provenance"] in ("derived", "run")]
    report("schema lists the derived metrics ipc, branch_miss_ratio, l1d_miss_rate, "
           "llc_miss_ratio, traffic_bytes_per_elem, gb_per_s",
           {"ipc", "branch_miss_ratio", "l1d_miss_rate", "llc_miss_ratio",
            "traffic_bytes_per_elem", "gb_per_s"} <= {m["name"] for m in derived})
    for m in derived:
        rows = s[s["metric"] == m["name"]]
        ins = _inputs(m["formula"])
        if ins and all(i in counters for i in ins):
            have = all(counters[i]["available"] for i in ins)
            if have:
                report(f"{m['name']} ({m['formula']}): inputs counted, a value on every point",
                       len(rows) == len(points) and (rows["samples"] > 0).all())
            else:
                report(f"{m['name']} ({m['formula']}): an input not counted, empty on every point",
                       len(rows) == len(points) and (rows["samples"] == 0).all()
                       and rows["median"].isna().all())
    ipc = s[s["metric"] == "ipc"]
    report("ipc is exactly 1.0 on every point (-icount shift=0: cycles are virtual ns, "
           "one per instruction)",
           len(ipc) == len(points) and (ipc["min"] == 1.0).all() and (ipc["max"] == 1.0).all(),
           ipc[["kernel", "variant", "min", "max"]].head(3).to_dict("records"))
    t = s[s["metric"] == "traffic_bytes_per_elem"].set_index(["kernel", "variant", "size_bytes"])
    g = s[s["metric"] == "gb_per_s"].set_index(["kernel", "variant", "size_bytes"])
    report("gb_per_s has a value exactly where the kernel declares its traffic",
           ((t["samples"] > 0) == (g["samples"] > 0)).all() and (t["samples"] > 0).any())
    top = s[s["size_bytes"] == s["size_bytes"].max()]
    table = {}
    for (k, v), rows in top.groupby(["kernel", "variant"]):
        table[f"{k}/{v}"] = {m["name"]: float(rows.loc[rows["metric"] == m["name"], "median"].iloc[0])
                             for m in derived if (rows["metric"] == m["name"]).any()}
    return table


def print_table(table, size, nsamples):
    print(f"# own events: {nsamples} samples of arm_ac57::INST_RETIRED and perf_raw::r08, "
          "each equal to instructions")
    names = ["ipc", "traffic_bytes_per_elem", "gb_per_s", "branch_miss_ratio", "l1d_miss_rate",
             "llc_miss_ratio"]
    print(f"# derived metrics at {size} B (medians, boot extra sweep-a; empty = an input not counted):")
    print("#   %-28s %s" % ("kernel", " ".join(f"{n:>14s}" for n in names)))
    for kv in sorted(table):
        cells = []
        for n in names:
            x = table[kv].get(n, float("nan"))
            cells.append(f"{'empty':>14s}" if math.isnan(x) else f"{x:14.4g}")
        print("#   %-28s %s" % (kv, " ".join(cells)))
