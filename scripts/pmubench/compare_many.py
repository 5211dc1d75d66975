#!/usr/bin/python3
"""Compare N pmubench runs grouped by CPU model (meta.json cpu_model).

Runs of the same CPU model are pooled (their samples together, plus the
spread of the per-run medians); each model is compared with a baseline model
the way compare.py compares two runs: median ratio with a seeded 95%
bootstrap CI and a Mann-Whitney U p-value.  Used by scripts/cluster/slurm-gather to
compare the nodes of a cluster; works on any run directories.
"""

import argparse
import math
import os
import sys

import numpy as np  # noqa: E402

from pmubench.load import (METRICS, PmbError, bootstrap_median_ci,  # noqa: E402
                      load_run, metric_unit, scripts_main)
from pmubench.compare import (write_csv, bench_name, fmt_num, fmt_p, groups, key_seed,  # noqa: E402
                     mann_whitney_p, ratio_ci, select)

CSV_COLUMNS = ["cpu_model", "runs", "hosts", "kernel", "variant", "size_bytes",
               "cache_level", "threads", "metric", "samples", "median",
               "ci_low", "ci_high", "run_median_min", "run_median_max",
               "baseline", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value"]


def model_of(run):
    return str(run.meta.get("cpu_model") or "unknown CPU").strip()


def group_runs(runs, metric, flagset=None):
    """{cpu_model: {"runs": [Run], "values": {key: [array per run]},
    "levels": {key: level}}} in first-seen order."""
    models = {}
    for run in runs:
        raw = select(run, flagset, run.name)
        g, levels = groups(raw, metric)
        m = models.setdefault(model_of(run), {"runs": [], "values": {}, "levels": {}})
        m["runs"].append(run)
        for key, v in g.items():
            m["values"].setdefault(key, []).append(v)
        m["levels"].update(levels)
    return models


def compare_models(models, metric, baseline=None, seed=1):
    """Tidy rows (CSV_COLUMNS), one per model x benchmark point."""
    names = list(models)
    if not names:
        raise PmbError("no runs to compare")
    if baseline is None:
        base = names[0]
    else:
        hits = [n for n in names if baseline.lower() in n.lower()]
        if len(hits) != 1:
            raise PmbError("--baseline %r matches %s; CPU models: %s"
                           % (baseline, "nothing" if not hits else "several",
                              "; ".join(names)))
        base = hits[0]
    rng = np.random.default_rng(seed)
    keys = sorted({k for m in models.values() for k in m["values"]})
    levels = {}
    for m in models.values():
        levels.update(m["levels"])
    rows = []
    for key in keys:
        bvals = models[base]["values"].get(key)
        b = np.concatenate(bvals) if bvals else np.array([])
        for name in names:
            m = models[name]
            per_run = [v for v in m["values"].get(key, []) if len(v)]
            v = np.concatenate(per_run) if per_run else np.array([])
            kernel, variant, size, threads = key
            row = dict(cpu_model=name, runs=len(m["runs"]),
                       hosts=" ".join(sorted({str(r.meta.get("host") or "?")
                                              for r in m["runs"]})),
                       kernel=kernel, variant=variant, size_bytes=int(size),
                       cache_level=levels.get(key, ""), threads=int(threads),
                       metric=metric, samples=len(v), baseline=base)
            if not len(v):
                row.update(median=math.nan, ci_low=math.nan, ci_high=math.nan,
                           run_median_min=math.nan, run_median_max=math.nan,
                           ratio=math.nan, ratio_ci_low=math.nan,
                           ratio_ci_high=math.nan, p_value=math.nan)
                rows.append(row)
                continue
            med = float(np.median(v))
            lo, hi = bootstrap_median_ci(v, rng)
            run_meds = [float(np.median(x)) for x in per_run]
            row.update(median=med, ci_low=lo, ci_high=hi,
                       run_median_min=min(run_meds), run_median_max=max(run_meds))
            if len(b):
                mb = float(np.median(b))
                row["ratio"] = med / mb if mb else math.nan
                if name == base:
                    row.update(ratio_ci_low=1.0, ratio_ci_high=1.0, p_value=1.0)
                else:
                    rl, rh = ratio_ci(b, v, key_seed(seed, key))
                    row.update(ratio_ci_low=rl, ratio_ci_high=rh,
                               p_value=mann_whitney_p(b, v))
            else:
                row.update(ratio=math.nan, ratio_ci_low=math.nan,
                           ratio_ci_high=math.nan, p_value=math.nan)
            rows.append(row)
    return rows, base


def format_table(rows, models, base, metric):
    """Wide text table: one line per benchmark point, per CPU model its
    median (and ratio to the baseline model)."""
    names = list(models)
    tags = {n: "M%d" % (i + 1) for i, n in enumerate(names)}
    out = ["metric: %s (%s); medians pooled over the runs of each CPU model; "
           "ratio = model / baseline (>1: slower than baseline)"
           % (metric, metric_unit(metric))]
    for n in names:
        m = models[n]
        hosts = sorted({str(r.meta.get("host") or "?") for r in m["runs"]})
        out.append("%s = %s%s: %d run(s) on %s" % (
            tags[n], n, " (baseline)" if n == base else "", len(m["runs"]),
            ", ".join(hosts)))
    out.append("")
    by_key = {}
    for r in rows:
        by_key.setdefault((r["kernel"], r["variant"], r["size_bytes"],
                           r["threads"]), {})[r["cpu_model"]] = r
    head = ["Benchmark"]
    for n in names:
        head.append(tags[n] + " median")
        if n != base:
            head += [tags[n] + "/" + tags[base], "95% CI", "p"]
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
                    line += ["-", "-", "-"]
                else:
                    ci = "-" if math.isnan(r["ratio_ci_low"]) else \
                        "[%.3f, %.3f]" % (r["ratio_ci_low"], r["ratio_ci_high"])
                    line += ["%.3f" % r["ratio"], ci, fmt_p(r["p_value"])]
        body.append(line)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]

    def fmt(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    out.append(fmt(head))
    out.append("-" * len(fmt(head)))
    out += [fmt(b) for b in body]
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
                             if r["cpu_model"] == n and r["variant"] == variant
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
        ax.set_ylabel(metric_unit(metric))
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


def run_comparison(run_dirs, metric="ns_per_elem", baseline=None, flagset=None,
                   seed=1, csv_path=None, table_path=None, plot_path=None,
                   out=sys.stdout):
    runs = [r if not isinstance(r, str) else load_run(r) for r in run_dirs]
    models = group_runs(runs, metric, flagset)
    rows, base = compare_models(models, metric, baseline, seed)
    if not any(not math.isnan(r["median"]) for r in rows):
        raise PmbError("metric %s has no samples in these runs; pick another "
                       "with --metric" % metric)
    text = format_table(rows, models, base, metric)
    if out is not None:
        out.write(text)
    if table_path:
        with open(table_path, "w") as f:
            f.write(text)
    if csv_path:
        write_csv(rows, csv_path, CSV_COLUMNS)
    if plot_path:
        plot_models(rows, models, metric, plot_path)
    return rows, models, base


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Compare N pmubench runs grouped by CPU model "
                    "(meta.json cpu_model): runs of one model are pooled; "
                    "each model's median is compared with the baseline "
                    "model's (ratio, 95%% bootstrap CI, Mann-Whitney p).",
        epilog="example: compare_many.py results/slurm-42/task-*/ci-*/ "
               "--csv cmp.csv --plot cmp.png")
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    ap.add_argument("--metric", default="ns_per_elem", choices=METRICS, metavar="METRIC")
    ap.add_argument("--baseline", metavar="TEXT",
                    help="baseline CPU model: a substring of its name "
                         "(default: the model of the first run)")
    ap.add_argument("--flagset", help="flag set to compare when runs hold several")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", metavar="OUT", help="write the tidy table as CSV")
    ap.add_argument("--plot", metavar="OUT", help="write the overlaid plot (.png/.svg/.pdf)")
    args = ap.parse_args(argv)
    run_comparison(args.runs, args.metric, args.baseline, args.flagset,
                   args.seed, args.csv, None, args.plot)
    return 0


if __name__ == "__main__":
    scripts_main(main)
