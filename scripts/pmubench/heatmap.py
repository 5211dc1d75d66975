#!/usr/bin/python3
"""Kernel x flag-set (or x run / CPU) ratio heatmaps with CIs.

One panel per cache level: rows are family/variant, columns the flag sets
(or runs) compared with a reference, each cell the ratio of median
ns_per_elem (column / reference) at the largest size of that level both
measured, with the 95 % bootstrap CI and the verdict of compare.py's one
rule (compare.decide over all the cells together: Benjamini-Hochberg,
minimum effect, CI excluding 1), single thread.
Nothing is recomputed that the harness wrote: the medians are summary.csv's,
the samples the raw rows' per-element values, the ratio statistics
compare.py's.
"""

import math

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
import numpy as np  # noqa: E402

from pmubench.compare import DEFAULT_ALPHA, DEFAULT_THRESHOLD, compare, decide  # noqa: E402
from pmubench.load import CACHE_LEVELS, fmt_bytes  # noqa: E402


def _single_thread(points):
    """{(kernel, variant, size): point} of the single-thread points of a
    compare.groups dict, and {size: cache level}."""
    return ({(k[0], k[1], int(k[2])): p for k, p in points.items() if k[3] == 1},
            {int(k[2]): p["cache_level"] for k, p in points.items()})


def matrix(columns, reference, metric="ns_per_elem", alpha=DEFAULT_ALPHA,
           threshold=DEFAULT_THRESHOLD, seed=1):
    """columns: [(label, points)], reference: (label, points); points as
    compare.groups returns them for a side (one flag set or run) and one
    metric (compare_many pools a group's runs the same way).  Returns
    (levels, rows, labels, cells) with cells[level][(row, label)] =
    dict(ratio, ci_low, ci_high, verdict, size)."""
    ref, ref_levels = _single_thread(reference[1])
    cells, rows, tested = {}, set(), []
    for label, points in columns:
        g, _ = _single_thread(points)
        for level in CACHE_LEVELS:
            for kv in {(k[0], k[1]) for k in g}:
                sizes = [s for (k, v, s) in g if (k, v) == kv and ref_levels.get(s) == level
                         and (k, v, s) in ref]
                if not sizes:
                    continue
                size = max(sizes)
                key = (kv[0], kv[1], size, 1)
                r = compare({key: ref[(kv[0], kv[1], size)]}, {key: g[(kv[0], kv[1], size)]},
                            metric, threshold, alpha, seed)[0]
                if math.isnan(r["ratio"]):
                    continue
                cells.setdefault(level, {})[("%s/%s" % kv, label)] = r
                tested.append(r)
                rows.add("%s/%s" % kv)
    # The verdicts of all cells together: the false-discovery rate holds
    # over the whole heatmap, as over a make compare table.
    decide(tested, alpha, threshold)
    for level in cells:
        for k, r in cells[level].items():
            cells[level][k] = dict(ratio=r["ratio"], ci_low=r["ci_low"],
                                   ci_high=r["ci_high"], verdict=r["verdict"],
                                   size=int(r["size_bytes"]))
    levels = [lv for lv in CACHE_LEVELS if lv in cells]
    return levels, sorted(rows), [c[0] for c in columns], cells


def figure(levels, rows, labels, cells, reference_label, metric="ns_per_elem"):
    """A heatmap panel per cache level; red = slower than the reference."""
    n = len(levels)
    fig_w = 3.0 + n * (0.4 + 0.95 * len(labels))
    fig_h = 1.9 + 0.42 * len(rows)
    fig, axes = plt.subplots(1, n, figsize=(fig_w, fig_h), dpi=110, squeeze=False,
                             sharey=True, layout="constrained")
    vals = [c["ratio"] for lv in levels for c in cells[lv].values() if c["ratio"] > 0]
    span = max(1.5, max(max(vals), 1 / min(vals))) if vals else 2.0
    norm = LogNorm(vmin=1 / span, vmax=span)
    im = None
    for ax, level in zip(axes[0], levels):
        data = np.full((len(rows), len(labels)), np.nan)
        for i, r in enumerate(rows):
            for j, lab in enumerate(labels):
                c = cells[level].get((r, lab))
                if c and c["ratio"] > 0:
                    data[i, j] = c["ratio"]
        im = ax.imshow(np.ma.masked_invalid(data), cmap="RdBu_r", norm=norm, aspect="auto")
        ax.set_facecolor("#f0f0f0")
        for i, r in enumerate(rows):
            for j, lab in enumerate(labels):
                c = cells[level].get((r, lab))
                if not c:
                    ax.text(j, i, "\u2014", ha="center", va="center", fontsize=8, color="#888")
                    continue
                strong = abs(math.log(c["ratio"])) > math.log(span) * 0.55 if c["ratio"] > 0 else False
                ci = "" if math.isnan(c["ci_low"]) else "\n[%.2f, %.2f]" % (c["ci_low"], c["ci_high"])
                mark = "" if c["verdict"] in ("slower", "faster") else " \u2248"
                ax.text(j, i, "%.2f\u00d7%s%s" % (c["ratio"], mark, ci), ha="center",
                        va="center", fontsize=7, color="white" if strong else "#1d2330")
        sizes = sorted({c["size"] for c in cells[level].values()})
        ax.set_title("%s (%s)" % (level, ", ".join(fmt_bytes(s) for s in sizes)),
                     fontsize=9.5, loc="left")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(rows, fontsize=8)
        ax.grid(False)
        for s in ax.spines.values():
            s.set_visible(False)
    fig.suptitle("%s ratio to %s" % (metric, reference_label), fontsize=10, x=0.02,
                 ha="left", fontweight="bold")
    if im is not None:
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
        cb = fig.colorbar(im, ax=list(axes[0]), shrink=0.8, pad=0.02)
        cb.set_label("ratio (log scale)", fontsize=8)
        ticks = [t for t in (0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0) if 1 / span <= t <= span]
        cb.ax.yaxis.set_major_locator(FixedLocator(ticks))
        cb.ax.yaxis.set_minor_locator(NullLocator())
        cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g\u00d7" % v))
        cb.ax.tick_params(labelsize=7)
    return fig
