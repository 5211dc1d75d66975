#!/usr/bin/python3
"""Plot a pmubench run: per kernel family, each metric against input size."""

import argparse
import os
import sys

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402
import numpy as np  # noqa: E402

from pmubench.load import (PmbError, fmt_bytes, group_rows, load_run,  # noqa: E402
                           metric_unit, scripts_main)

FORMATS = ("png", "svg", "pdf")

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
           "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

plt.rcParams.update({
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.25, "grid.linestyle": "-",
    "legend.frameon": False, "svg.fonttype": "path",
})


def size_ticks(lo, hi):
    """Power-of-two tick positions covering [lo, hi], at most ~12 of them."""
    a = int(np.floor(np.log2(lo)))
    b = int(np.ceil(np.log2(hi)))
    step = max(1, int(np.ceil((b - a + 1) / 12)))
    return [2.0 ** e for e in range(a, b + 1, step)]


def set_size_axis(ax, lo, hi, fontsize=8, sep=" "):
    """Working-set size on a log2 x axis over [lo, hi], power-of-two ticks
    labelled in KiB/MiB: every size plot of the scripts uses this one."""
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo, hi)
    ticks = size_ticks(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([fmt_bytes(t).replace(" ", sep) for t in ticks], fontsize=fontsize)


def is_simulated(rows, metric):
    """True when the summary rows' source (the harness's per-metric
    provenance) is the simulator."""
    src = rows["source"].astype(str) if "source" in rows else rows.get("counter_source")
    return src is not None and bool(src.isin(["sim", "simulator"]).any())


def is_clock(run, metric):
    return run.metric(metric).get("provenance") == "clock"


def default_skip(run, metric, multi_thread):
    """Plots left out unless --all-metrics: the same time in reference ticks,
    the group (throughput) metrics of a family without multi-thread
    points, where they equal the per-thread ones, and figures the kernel
    declares rather than measures (provenance "run": bytes per element)."""
    info = run.metric(metric)
    if info.get("provenance") == "run":
        return True
    if is_clock(run, metric) and str(info.get("unit", "")).startswith("ticks"):
        return True
    return info.get("normalisation") == "group_elem" and not multi_thread


def available_metrics(run, family=None, all_metrics=False):
    """Metrics with data for the family, in the schema's order. A counter is
    available when it has samples and meta.json does not say otherwise;
    all-zero counters are skipped unless all_metrics."""
    s = run.summary
    if family is not None:
        s = s[s["kernel"] == family]
    multi = bool((s["threads"] > 1).any())
    out = []
    for metric in run.metrics():
        if not all_metrics and default_skip(run, metric, multi):
            continue
        rows = s[s["metric"] == metric]
        rows = rows[(rows["samples"] > 0) & rows["median"].notna()]
        if rows.empty:
            continue
        if not is_clock(run, metric):
            info = run.counter_info(metric[: -len("_per_elem")])
            if info.get("available") is False:
                continue
            if not all_metrics and (rows["median"] == 0).all():
                continue
        out.append(metric)
    return out


# Flag sets and thread counts are told apart by line style and marker; the
# colour belongs to the variant alone.
LINESTYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P"]


def variant_colours(run):
    """{(family, variant): colour}: one colour per variant, the same in every
    plot of a run whatever metric or flag set (variants in sorted order
    within their family)."""
    out = {}
    pairs = run.summary[["kernel", "variant"]].drop_duplicates()
    for family, g in pairs.groupby("kernel"):
        for i, v in enumerate(sorted(g["variant"])):
            out[(family, v)] = PALETTE[i % len(PALETTE)]
    return out


def _series(rows):
    """[(label, threads, frame sorted by size, variant, flagset)] — one line
    per (flagset, variant, threads)."""
    multi_threads = rows["threads"].nunique() > 1
    multi_flags = rows["flagset"].nunique() > 1
    out = []
    for (flagset, variant, threads), g in rows.groupby(
            ["flagset", "variant", "threads"], sort=True):
        label = variant
        if multi_threads:
            label += (" (2+ threads: aggregate row)" if threads > 1 else " (1 thread)").replace("2+", str(threads))
        if multi_flags:
            label = "%s [%s]" % (label, flagset)
        out.append((label, threads, g.sort_values("size_bytes"), variant, flagset))
    return out


def figure(run, family, metric, ax=None, figsize=(8.4, 4.2)):
    """One figure: metric vs size for every variant of a family."""
    s = run.summary
    rows = group_rows(s[(s["kernel"] == family) & (s["metric"] == metric)])
    rows = rows[(rows["samples"] > 0) & rows["median"].notna()]
    if rows.empty:
        raise PmbError("no data for %s %s" % (family, metric))
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, dpi=110)
    sim = is_simulated(rows, metric)
    tag = " (simulated)" if sim else ""

    colours = variant_colours(run)
    flagsets = sorted(rows["flagset"].unique())
    for label, threads, g, variant, flagset in _series(rows):
        colour = colours.get((family, variant), PALETTE[0])
        fi = flagsets.index(flagset)
        x = g["size_bytes"].to_numpy(float)
        y = g["median"].to_numpy(float)
        lo = g["ci_low"].to_numpy(float)
        hi = g["ci_high"].to_numpy(float)
        style = LINESTYLES[(fi + (1 if threads > 1 else 0)) % len(LINESTYLES)]
        ax.plot(x, y, style, color=colour, marker=MARKERS[fi % len(MARKERS)], markersize=3.5,
                linewidth=1.6, label=label)
        ok = ~(np.isnan(lo) | np.isnan(hi))
        if ok.any():
            ax.fill_between(x[ok], lo[ok], hi[ok], color=colour, alpha=0.18,
                            linewidth=0)

    sizes = rows["size_bytes"].to_numpy(float)
    lo_x, hi_x = sizes.min(), sizes.max()
    caches = run.caches()
    vis = [(lvl, sz) for lvl, sz in sorted(caches.items(), key=lambda kv: kv[1])]
    if vis:
        lo_x = min(lo_x, min(sz for _, sz in vis))
        hi_x = max(hi_x, max(sz for _, sz in vis))
    set_size_axis(ax, lo_x / 1.5, hi_x * 1.5, fontsize=8.5, sep="\u2009")
    for lvl, sz in vis:
        ax.axvline(sz, color="#555555", linestyle=(0, (4, 3)), linewidth=0.9,
                   alpha=0.8, zorder=0)
        ax.annotate("%s %s" % (lvl, fmt_bytes(sz)), xy=(sz, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom",
                    fontsize=8, color="#444444", annotation_clip=False)

    ymin = np.nanmin(rows[["median", "ci_low"]].to_numpy(float))
    ymax = np.nanmax(rows[["median", "ci_high"]].to_numpy(float))
    if ymin > 0 and ymax / ymin > 30:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0, top=ymax * 1.12 if ymax > 0 else 1)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g" % v))
    ax.set_xlabel("working-set size")
    ax.set_ylabel("%s (%s)%s" % (metric_unit(run, metric),
                                 run.metric(metric).get("normalisation", ""), tag))
    ax.set_title("%s \u2014 %s%s" % (family, metric, tag),
                 loc="left", fontweight="bold", pad=16)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5,
              borderaxespad=0.0, handlelength=2.2)
    if fig is not None:
        fig.tight_layout()
    return fig


def make_figures(run, all_metrics=False, metrics=None):
    """Yield (family, metric, Figure) for every plot of the run."""
    for family in sorted(run.summary["kernel"].unique()):
        for metric in available_metrics(run, family, all_metrics):
            if metrics and metric not in metrics:
                continue
            yield family, metric, figure(run, family, metric)


def safe_name(s):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(s))


def main():
    ap = argparse.ArgumentParser(
        description="Plot a pmubench run: for each kernel family, the median "
                    "of each metric against working-set size (log2 axis), one "
                    "line per variant (and per thread count), a shaded 95% "
                    "bootstrap CI of the median, and dashed lines at the "
                    "L1/L2/L3 sizes from meta.json. Plots time per element "
                    "and every counter that was counted; counters from the "
                    "simulator are labelled '(simulated)'.",
        epilog="Writes <out>/<family>-<metric>.<format>, e.g. "
               "plots/traversal-ns_per_elem.png. Counters that were not "
               "counted (or are zero everywhere, unless --all-metrics) get "
               "no plot.\nexample: PYTHONPATH=scripts python3 -m pmubench.plot results/default-host-"
               "20250301T100000Z --format png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", metavar="RUN_DIR",
                    help="a run directory, results/<config>-<host>-<timestamp>/")
    ap.add_argument("--out", metavar="DIR",
                    help="output directory (default: RUN_DIR/plots)")
    ap.add_argument("--format", default="png,svg", metavar="FMT[,FMT]",
                    help="comma-separated image formats: png, svg, pdf "
                         "(default: png,svg)")
    ap.add_argument("--metric", action="append", metavar="METRIC",
                    help="plot only this metric of the run's schema "
                         "(repeatable); default: the time metrics and every "
                         "available counter")
    ap.add_argument("--all-metrics", action="store_true",
                    help="also plot the tick-based metrics, group metrics of "
                         "single-thread families and counters whose medians "
                         "are all zero")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="do not list the files written")
    args = ap.parse_args()

    formats = [f.strip().lower().lstrip(".") for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        ap.error("unknown --format %s; use a comma-separated list of %s"
                 % (",".join(bad) or "(empty)", ", ".join(FORMATS)))

    run = load_run(args.run_dir)
    for m in args.metric or []:
        run.metric(m)  # an unknown name is an error listing the run's metrics
    out = args.out or os.path.join(args.run_dir, "plots")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise PmbError("cannot create output directory %s: %s; pass a "
                       "writable one with --out" % (out, e.strerror or e))
    written = 0
    for family, metric, fig in make_figures(run, args.all_metrics, args.metric):
        for fmt in formats:
            path = os.path.join(out, "%s-%s.%s" % (safe_name(family), metric, fmt))
            try:
                fig.savefig(path, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
            except OSError as e:
                raise PmbError("cannot write %s: %s" % (path, e.strerror or e))
            written += 1
            if not args.quiet:
                print(path)
        plt.close(fig)
    if not written:
        raise PmbError("%s: nothing to plot (no metric has data)" % args.run_dir)
    return 0


if __name__ == "__main__":
    scripts_main(main)
