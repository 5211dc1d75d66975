#!/usr/bin/python3
"""Compare N pmubench runs grouped by CPU (meta.json cpu_model, and the
microcode, CPU flags and run name where runs of one model differ).

A group of one run shows that run's summary.csv median and CI.  A group of
several runs shows the median of their pooled samples (the raw per-element
values the harness wrote) and the spread of the per-run medians, without a
CI.  Each group is compared with a baseline group the way compare.py
compares two runs: ratio of the medians with a seeded 95% bootstrap CI over
the pooled samples, a Mann-Whitney U p-value and compare.decide's verdict.  Used by scripts/cluster/slurm-gather to
compare the nodes of a cluster; works on any run directories.
"""

import argparse
import math
import os
import sys

import numpy as np

from pmubench.load import PmbError, load_run, metric_unit, scripts_main
from pmubench.compare import (DEFAULT_ALPHA, DEFAULT_THRESHOLD, bench_name, decide,
                              fmt_num, fmt_p, groups, key_seed, mann_whitney_p,
                              ratio_ci, rule_text, select, write_csv)

CSV_COLUMNS = ["group", "cpu_model", "cpu_microcode", "name", "runs", "hosts",
               "kernel", "variant", "size_bytes", "cache_level", "threads",
               "metric", "samples", "median", "ci_low", "ci_high",
               "run_median_min", "run_median_max", "baseline", "ratio",
               "ratio_ci_low", "ratio_ci_high", "p_value", "q_value", "change_pct",
               "verdict"]


def run_facts(run):
    """What decides a run's group: the CPU model, and where nodes of one
    model can still differ, microcode and CPU flags (meta.json, from
    /proc/cpuinfo), and the run's name (--name, default the config)."""
    m = run.meta
    return {"cpu_model": str(m.get("cpu_model") or "unknown CPU").strip(),
            "cpu_microcode": str(m.get("cpu_microcode") or ""),
            "cpu_flags": frozenset(str(m.get("cpu_flags") or "").split()),
            "name": str(m.get("config") or "")}


def group_labels(facts):
    """One label per distinct facts tuple: the CPU model, plus in brackets
    only what differs between runs of that model (microcode, flags beyond
    the ones all of them have, name)."""
    by_model = {}
    for f in facts:
        by_model.setdefault(f["cpu_model"], []).append(f)
    labels = {}
    for f in facts:
        same = by_model[f["cpu_model"]]
        extra = []
        if len({g["cpu_microcode"] for g in same}) > 1:
            extra.append("microcode %s" % (f["cpu_microcode"] or "?"))
        if len({g["cpu_flags"] for g in same}) > 1:
            common = frozenset.intersection(*[g["cpu_flags"] for g in same])
            more = sorted(f["cpu_flags"] - common)
            extra.append("flags " + ("?" if not f["cpu_flags"] else
                                     " ".join("+" + x for x in more[:6])
                                     + (" ..." if len(more) > 6 else "")
                                     if more else "common only"))
        if len({g["name"] for g in same}) > 1:
            extra.append("name %s" % f["name"])
        labels[group_key(f)] = f["cpu_model"] + (" [%s]" % ", ".join(extra) if extra else "")
    return labels


def group_key(f):
    return (f["cpu_model"], f["cpu_microcode"], f["cpu_flags"], f["name"])


def group_runs(runs, metric, flagset=None):
    """{label: {"runs": [Run], "facts": {...}, "points": {key: [point per
    run]}}} in first-seen order, one entry per group (run_facts); a point
    is compare.groups's (the summary's figures and the raw samples)."""
    facts = [run_facts(r) for r in runs]
    labels = group_labels(facts)
    models = {}
    for run, f in zip(runs, facts):
        g = groups(select(run, flagset, run.name), metric)
        m = models.setdefault(labels[group_key(f)], {"runs": [], "facts": f, "points": {}})
        m["runs"].append(run)
        for key, p in g.items():
            m["points"].setdefault(key, []).append(p)
    return models


def pooled(points):
    """(median, ci_low, ci_high, samples, per-run medians, pooled values) of
    one group at one key: one run's summary figures as they are; several
    runs' pooled samples' median, no CI."""
    have = [p for p in points if not math.isnan(p["median"])]
    if not have:
        return math.nan, math.nan, math.nan, 0, [], np.array([])
    values = np.concatenate([p["values"] for p in have])
    meds = [p["median"] for p in have]
    samples = sum(p["samples"] for p in have)
    if len(have) == 1:
        p = have[0]
        return p["median"], p["ci_low"], p["ci_high"], samples, meds, values
    med = float(np.median(values)) if len(values) else math.nan
    return med, math.nan, math.nan, samples, meds, values


def unit_of(models, metric):
    return metric_unit(next(iter(models.values()))["runs"][0], metric)


def hosts_of(m):
    return sorted({str(r.meta.get("host") or "?") for r in m["runs"]})


def compare_models(models, metric, baseline=None, seed=1, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD):
    """Tidy rows (CSV_COLUMNS), one per group x benchmark point; verdicts
    by compare.decide (the rule of make compare)."""
    names = list(models)
    if not names:
        raise PmbError("no runs to compare")
    if baseline is None:
        base = names[0]
    else:
        hits = [n for n in names if baseline.lower() in n.lower()]
        if len(hits) != 1:
            raise PmbError("--baseline %r matches %s; groups: %s"
                           % (baseline, "nothing" if not hits else "several",
                              "; ".join(names)))
        base = hits[0]
    keys = sorted({k for m in models.values() for k in m["points"]})
    levels = {k: p[0]["cache_level"] for m in models.values() for k, p in m["points"].items()}
    rows, contenders = [], []
    for key in keys:
        mb, _, _, _, _, b = pooled(models[base]["points"].get(key, []))
        for name in names:
            m = models[name]
            med, lo, hi, samples, run_meds, v = pooled(m["points"].get(key, []))
            kernel, variant, size, threads = key
            row = dict(group=name, cpu_model=m["facts"]["cpu_model"],
                       cpu_microcode=m["facts"]["cpu_microcode"],
                       name=m["facts"]["name"], runs=len(m["runs"]),
                       hosts=" ".join(hosts_of(m)),
                       kernel=kernel, variant=variant, size_bytes=int(size),
                       cache_level=levels.get(key, ""), threads=int(threads),
                       metric=metric, samples=samples, baseline=base,
                       median=math.nan, ci_low=math.nan, ci_high=math.nan,
                       run_median_min=math.nan, run_median_max=math.nan,
                       ratio=math.nan, ratio_ci_low=math.nan,
                       ratio_ci_high=math.nan, p_value=math.nan, q_value=math.nan,
                       change_pct=math.nan, verdict="n/a")
            rows.append(row)
            if math.isnan(med):
                continue
            row.update(median=med, ci_low=lo, ci_high=hi,
                       run_median_min=min(run_meds), run_median_max=max(run_meds))
            if math.isnan(mb):
                continue
            row["ratio"] = med / mb if mb else math.nan
            if name == base:
                row.update(ratio_ci_low=1.0, ratio_ci_high=1.0, p_value=1.0,
                           change_pct=0.0, verdict="baseline")
            else:
                rl, rh = ratio_ci(b, v, key_seed(seed, key))
                row.update(ratio_ci_low=rl, ratio_ci_high=rh,
                           p_value=mann_whitney_p(b, v))
                contenders.append(row)
    decide(contenders, alpha, threshold, ci=("ratio_ci_low", "ratio_ci_high"))
    return rows, base


def format_table(rows, models, base, metric, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD):
    """Wide text table, CPU group x benchmark point: one line per point, per
    group its median and (against the baseline group) ratio, 95% CI, p and
    verdict; then the verdict counts per group."""
    names = list(models)
    tags = {n: "M%d" % (i + 1) for i, n in enumerate(names)}
    out = ["metric: %s (%s); medians pooled over the runs of each group; "
           "ratio = group / baseline (>1: slower than baseline); verdict "
           "as make compare: %s"
           % (metric, unit_of(models, metric), rule_text(alpha, threshold))]
    for n in names:
        m = models[n]
        out.append("%s = %s%s: %d run(s) on %s" % (
            tags[n], n, " (baseline)" if n == base else "", len(m["runs"]),
            ", ".join(hosts_of(m))))
    out.append("")
    by_key = {}
    for r in rows:
        by_key.setdefault((r["kernel"], r["variant"], r["size_bytes"],
                           r["threads"]), {})[r["group"]] = r
    head = ["Benchmark"]
    for n in names:
        head.append(tags[n] + " median")
        if n != base:
            head += [tags[n] + "/" + tags[base], "95% CI", "p", "verdict"]
    body = []
    for key in sorted(by_key):
        cells = by_key[key]
        first = next(iter(cells.values()))
        line = [bench_name(first)]
        for n in names:
            r = cells.get(n)
            line.append(fmt_num(r["median"]) if r else "-")
            if n != base:
                if r is None or math.isnan(r["ratio"]):
                    line += ["-", "-", "-", "n/a"]
                else:
                    ci = "-" if math.isnan(r["ratio_ci_low"]) else \
                        "[%.3f, %.3f]" % (r["ratio_ci_low"], r["ratio_ci_high"])
                    line += ["%.3f" % r["ratio"], ci, fmt_p(r["p_value"]), r["verdict"]]
        body.append(line)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]

    def fmt(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    out.append(fmt(head))
    out.append("-" * len(fmt(head)))
    out += [fmt(b) for b in body]
    for n in names:
        if n == base:
            continue
        v = [r["verdict"] for r in rows if r["group"] == n]
        out.append("%s vs %s: %d point(s): %d slower, %d faster, %d same%s" % (
            tags[n], tags[base], len(v), v.count("slower"), v.count("faster"),
            v.count("same"), ", %d without samples" % v.count("n/a") if v.count("n/a") else ""))
    return "\n".join(out) + "\n"


def plot_models(rows, models, metric, path):
    """One subplot per kernel family; colour = CPU model, line style and
    marker = variant (and thread count)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pmubench.plot import PALETTE, set_size_axis

    names = list(models)
    colour = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "v", "D", "x", "+", "*"]
    kernels = sorted({r["kernel"] for r in rows})
    if not kernels:
        raise PmbError("nothing to plot")
    cols = 1 if len(kernels) == 1 else 2
    nrows = (len(kernels) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(9.6 * cols, 4.0 * nrows),
                             dpi=100, squeeze=False)
    for ax, kernel in zip(axes.flat, kernels):
        krows = [r for r in rows if r["kernel"] == kernel and not math.isnan(r["median"])]
        series = sorted({(r["variant"], r["threads"]) for r in krows})
        multi = len({t for _, t in series}) > 1
        xs = []
        for i, (variant, threads) in enumerate(series):
            for n in names:
                pts = sorted((r["size_bytes"], r["median"]) for r in krows
                             if r["group"] == n and r["variant"] == variant
                             and r["threads"] == threads)
                if not pts:
                    continue
                x, y = zip(*pts)
                xs += x
                label = variant + (" (%d thr)" % threads if multi else "")
                ax.plot(x, y, styles[i % len(styles)], color=colour[n],
                        marker=markers[i % len(markers)], markersize=3.5,
                        linewidth=1.4,
                        label="%s \u2014 M%d" % (label, names.index(n) + 1))
        if xs:
            lo, hi = min(xs) / 1.5, max(xs) * 1.5
            set_size_axis(ax, lo, hi)
        ax.set_ylim(bottom=0)
        ax.set_title("%s \u2014 %s" % (kernel, metric), loc="left", fontweight="bold")
        ax.set_xlabel("working-set size")
        ax.set_ylabel(unit_of(models, metric))
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7, frameon=False, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    for ax in list(axes.flat)[len(kernels):]:
        ax.set_visible(False)
    fig.suptitle("   ".join("M%d = %s (%d run%s)" % (
        i + 1, n, len(models[n]["runs"]), "" if len(models[n]["runs"]) == 1 else "s")
        for i, n in enumerate(names)), fontsize=9)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except (OSError, ValueError) as e:
        raise PmbError("cannot write plot %s: %s" % (path, e))
    plt.close(fig)


def plot_heatmap(models, base, metric, path, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD,
                 seed=1):
    """The kernel x group view of pmubench.heatmap (the report's flag-set
    heatmap): one column per group against the baseline group, its runs'
    samples pooled; False when there is one group only."""
    import matplotlib.pyplot as plt
    from pmubench import heatmap
    if len(models) < 2:
        return False
    tags = {n: "M%d" % (i + 1) for i, n in enumerate(models)}

    def pooled_points(n):
        """The group's points as compare.groups gives them for one run."""
        out = {}
        for key, pts in models[n]["points"].items():
            med, lo, hi, samples, _, values = pooled(pts)
            out[key] = dict(median=med, ci_low=lo, ci_high=hi, samples=samples,
                            cache_level=pts[0]["cache_level"], values=values)
        return out
    # columns by tag (the labels can be long); the key in the title, as
    # the table's M1 = ... lines
    cols = [(tags[n], pooled_points(n)) for n in models if n != base]
    levels, rows, labels, cells = heatmap.matrix(cols, (tags[base], pooled_points(base)),
                                                 metric, alpha, threshold, seed)
    if not levels:
        return False
    fig = heatmap.figure(levels, rows, labels, cells, "%s = %s\n%s" % (
        tags[base], base, "\n".join("%s = %s" % (tags[n], n) for n in models if n != base)),
        metric)
    try:
        fig.savefig(path)
    except (OSError, ValueError) as e:
        raise PmbError("cannot write heatmap %s: %s" % (path, e))
    plt.close(fig)
    return True


def run_comparison(run_dirs, metric="ns_per_elem", baseline=None, flagset=None,
                   seed=1, csv_path=None, table_path=None, plot_path=None,
                   out=sys.stdout, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD,
                   heatmap_path=None):
    runs = [r if not isinstance(r, str) else load_run(r) for r in run_dirs]
    models = group_runs(runs, metric, flagset)
    rows, base = compare_models(models, metric, baseline, seed, alpha, threshold)
    if not any(not math.isnan(r["median"]) for r in rows):
        raise PmbError("metric %s has no samples in these runs; pick another "
                       "with --metric" % metric)
    text = format_table(rows, models, base, metric, alpha, threshold)
    if out is not None:
        out.write(text)
    if table_path:
        with open(table_path, "w") as f:
            f.write(text)
    if csv_path:
        write_csv(rows, csv_path, CSV_COLUMNS)
    if plot_path:
        plot_models(rows, models, metric, plot_path)
    if heatmap_path and not plot_heatmap(models, base, metric, heatmap_path,
                                         alpha, threshold, seed):
        heatmap_path = None
    return rows, models, base


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Compare N pmubench runs grouped by CPU (meta.json "
                    "cpu_model; microcode, cpu_flags and the run name where "
                    "they differ): runs of one group are pooled; each "
                    "group's median is compared with the baseline group's "
                    "(ratio, 95%% bootstrap CI, Mann-Whitney p, and the "
                    "verdict rule of compare.py).",
        epilog="example: compare_many.py results/slurm-42/task-*/ci-*/ "
               "--csv cmp.csv --plot cmp.png")
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    ap.add_argument("--metric", default="ns_per_elem", metavar="METRIC",
                    help="a metric of the runs' schema (default ns_per_elem)")
    ap.add_argument("--baseline", metavar="TEXT",
                    help="baseline group: a substring of its label "
                         "(default: the group of the first run)")
    ap.add_argument("--flagset", help="flag set to compare when runs hold several")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="PCT",
                    help="minimum effect in %%, as compare.py (default "
                    + "%g" % DEFAULT_THRESHOLD + ")")
    ap.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                    help="false-discovery rate, as compare.py (default "
                    + "%g" % DEFAULT_ALPHA + ")")
    ap.add_argument("--csv", metavar="OUT", help="write the tidy table as CSV")
    ap.add_argument("--plot", metavar="OUT", help="write the overlaid plot (.png/.svg/.pdf)")
    ap.add_argument("--heatmap", metavar="OUT",
                    help="write the kernel x group ratio heatmap (.png/.svg/.pdf; "
                         "two groups or more)")
    args = ap.parse_args(argv)
    run_comparison(args.runs, args.metric, args.baseline, args.flagset,
                   args.seed, args.csv, None, args.plot, alpha=args.alpha,
                   threshold=args.threshold, heatmap_path=args.heatmap)
    return 0


if __name__ == "__main__":
    scripts_main(main)
