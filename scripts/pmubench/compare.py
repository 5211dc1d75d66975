#!/usr/bin/python3
"""Compare two pmubench runs (or two flag sets of one run).

The figures are the harness's: each point's median and CI come from
summary.csv, its samples from the raw files' per-element metric columns.
The arithmetic here is the comparison only: the ratio of the two medians
and, per point, a test and a CI of that ratio.  The unit of the test is
the round (pmubench --rounds) when both runs measured the point in at
least two rounds: a Welch t-test and t CI on the logs of the rounds'
medians, so drift between rounds widens the CI; otherwise the sample: a
bootstrap CI and a Mann-Whitney U test (scipy.stats)."""

import argparse
import csv
import math
import os
import sys
import zlib

import numpy as np

from pmubench.load import (PmbError, fmt_bytes, group_rows, load_run, metric_label,
                           metric_unit, scripts_main)

KEY = ["kernel", "variant", "size_bytes", "threads"]
CSV_COLUMNS = ["kernel", "variant", "size_bytes", "cache_level", "threads",
               "metric", "samples_a", "samples_b", "median_a", "median_b",
               "ratio", "ci_low", "ci_high", "change_pct", "p_value", "q_value",
               "verdict", "unit", "rounds_a", "rounds_b"]

# The one rule (make compare, --fail-on-regression, compare_many,
# slurm-gather): a point is slower/faster only when all three hold.
DEFAULT_ALPHA = 0.05      # false-discovery rate over all points tested
DEFAULT_THRESHOLD = 5.0   # minimum effect, % of the baseline median


def bh_qvalues(pvalues):
    """Benjamini-Hochberg adjusted p-values (q-values): q_(i) = min over
    j >= i of m * p_(j) / j, capped at 1, for the m finite p-values (NaN
    stays NaN).  Rejecting q < alpha controls the false-discovery rate at
    alpha across all points.  scipy.stats.false_discovery_control (scipy
    >= 1.11) computes the same; Debian 12's scipy 1.10 lacks it, so it is
    used only where present."""
    p = np.asarray(pvalues, float)
    q = np.full(p.shape, math.nan)
    ok = np.isfinite(p)
    if not ok.any():
        return q
    try:
        from scipy.stats import false_discovery_control
        q[ok] = false_discovery_control(p[ok], method="bh")
        return q
    except ImportError:
        pass
    pv = p[ok]
    m = len(pv)
    order = np.argsort(pv)
    scaled = pv[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    q[ok] = out
    return q


def rule_text(alpha, threshold, ntested=None):
    """The rule in words, for summary lines and help."""
    over = "%d points" % ntested if ntested is not None else "all points"
    return ("Benjamini-Hochberg q < %g over %s (false-discovery rate), "
            "|change| > %g%% and the 95%% CI of B/A excluding 1"
            % (alpha, over, threshold))


def unit_text(rows):
    """What the tests and CIs were computed on, for the summary."""
    by_round = [r for r in rows if r.get("unit") == "round"]
    by_sample = sum(1 for r in rows if r.get("unit") == "sample")
    parts = []
    if by_round:
        ra = sorted({r["rounds_a"] for r in by_round})
        rb = sorted({r["rounds_b"] for r in by_round})
        parts.append("%d points on their rounds' medians (Welch t on logs; rounds: A %s, "
                     "B %s): drift between rounds is in the CI"
                     % (len(by_round), "/".join(map(str, ra)), "/".join(map(str, rb))))
    if by_sample:
        parts.append("%d points on their samples (Mann-Whitney U, bootstrap CI): only "
                     "the noise within one point's time is in the CI; run both with "
                     "--rounds 3 or more for a test that sees drift" % by_sample)
    return "tests: " + "; ".join(parts) if parts else "tests: none"


def mann_whitney_p(a, b):
    """Two-sided Mann-Whitney U p-value; 1.0 when it is undefined (all
    values tied), NaN when a side has no samples."""
    from scipy.stats import mannwhitneyu
    if len(a) < 1 or len(b) < 1:
        return math.nan
    if np.all(a == a[0]) and np.all(b == b[0]) and a[0] == b[0]:
        return 1.0
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p) else p


RESAMPLES = 2000  # bootstrap resamples of a ratio (--resamples)


def ratio_ci(a, b, seed, n_resamples=RESAMPLES, conf=0.95):
    """Percentile bootstrap CI of median(b)/median(a), the samples of a and b
    resampled independently (scipy.stats.bootstrap, seeded: deterministic).
    The one bootstrap in the scripts: a CI of a ratio between two runs,
    which no single run's summary can give."""
    from scipy.stats import bootstrap
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan

    def ratio(x, y, axis=-1):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.median(y, axis=axis) / np.median(x, axis=axis)

    res = bootstrap((np.asarray(a, float), np.asarray(b, float)), ratio, vectorized=True,
                    paired=False, n_resamples=n_resamples, confidence_level=conf,
                    method="percentile", random_state=np.random.default_rng(seed))
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.nan, math.nan
    return lo, hi


MIN_ROUNDS = 2  # rounds a side needs for the round-level test


def round_test(a, b, conf=0.95):
    """Round-level test of B/A from the per-round medians a and b (each >= 2):
    Welch's t-test on their logs (scipy.stats.ttest_ind, equal_var=False)
    and the Welch t interval of the mean log difference, exponentiated: a
    CI of the geometric-mean ratio of round medians.  The rounds of a run
    are spread over its time span, so the machine's drift between them is
    in their spread and widens the CI; the samples of one round cannot
    show it.  Returns (p, lo, hi)."""
    from scipy.stats import t as student_t, ttest_ind
    la, lb = np.log(np.asarray(a, float)), np.log(np.asarray(b, float))
    if not (np.all(np.isfinite(la)) and np.all(np.isfinite(lb))):
        return math.nan, math.nan, math.nan
    va, vb = la.var(ddof=1) / len(la), lb.var(ddof=1) / len(lb)
    diff = float(lb.mean() - la.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        r = math.exp(diff)
        return (1.0 if diff == 0 else 0.0), r, r
    p = float(ttest_ind(lb, la, equal_var=False).pvalue)
    df = (va + vb) ** 2 / (va ** 2 / (len(la) - 1) + vb ** 2 / (len(lb) - 1))
    h = float(student_t.ppf(0.5 + conf / 2, df)) * se
    return p, math.exp(diff - h), math.exp(diff + h)


def round_medians(raw, metric, key):
    """{key: per-round medians} of a side's group rows, for points measured
    in several rounds (the raw `round` column; runs without it: {})."""
    if "round" not in raw.columns or metric not in raw.columns:
        return {}
    out = {}
    for k, g in raw.groupby(KEY + ["round"], sort=True)[metric]:
        v = g.dropna()
        if len(v):
            out.setdefault(tuple(k[:-1]), []).append(float(np.median(v)))
    return {k: np.array(v) for k, v in out.items()}


def key_seed(seed, key):
    return (seed * 1000003 + zlib.crc32(repr(key).encode())) & 0xFFFFFFFF


class Side:
    """One side of a comparison: a run's group rows (summary and raw) of one
    flag set."""

    def __init__(self, run, summary, raw):
        self.run, self.summary, self.raw = run, summary, raw


def select(run, flagset, which):
    flagsets = sorted(run.summary["flagset"].unique())
    s, raw = run.summary, run.raw
    if flagset is not None:
        if flagset not in flagsets:
            raise PmbError("run %s (%s) has no flagset %r; it has: %s"
                           % (which, run.name, flagset, ", ".join(flagsets)))
        s, raw = s[s["flagset"] == flagset], raw[raw["flagset"] == flagset]
    elif len(flagsets) > 1:
        raise PmbError("run %s (%s) holds several flagsets (%s); choose two "
                       "with --flagsets X,Y" % (which, run.name, ", ".join(flagsets)))
    raw = group_rows(raw)
    nbad = int((raw["valid"] != 1).sum())
    if nbad:
        print("note: run %s: %d sample(s) failed the self-check; the tests leave "
              "them out" % (which, nbad), file=sys.stderr)
    return Side(run, group_rows(s), raw[raw["valid"] == 1])


def groups(side, metric):
    """{key: point} for one metric; a point is the summary's figures
    (median, ci_low, ci_high, samples, cache_level), "values", the
    metric's per-sample values from the raw rows, and "rounds", the
    medians of its samples per round (for the tests)."""
    side.run.metric(metric)  # an unknown metric is an error naming the run's
    s = side.summary[side.summary["metric"] == metric]
    raw = side.raw
    values = {}
    if metric in raw.columns:
        for key, g in raw.groupby(KEY, sort=True):
            values[key] = g[metric].dropna().to_numpy(float)
    rounds = round_medians(raw, metric, KEY)
    out = {}
    for r in s.itertuples(index=False):
        key = (r.kernel, r.variant, int(r.size_bytes), int(r.threads))
        have = r.samples > 0 and not math.isnan(r.median)
        out[key] = dict(median=float(r.median) if have else math.nan,
                        ci_low=float(r.ci_low) if have else math.nan,
                        ci_high=float(r.ci_high) if have else math.nan,
                        samples=int(r.samples), cache_level=r.cache_level,
                        values=values.get(key, np.array([])) if have else np.array([]),
                        rounds=rounds.get(key, np.array([])) if have else np.array([]))
    return out


def describe(run, raw, flagset):
    m = run.meta
    compilers = sorted(raw["compiler"].unique())
    return {
        "cpu_model": m.get("cpu_model") or "unknown CPU",
        "compiler": ", ".join(compilers) or m.get("compiler", "?"),
        # Rows carry their exact flags: two flag sets of one run differ here.
        "cflags": ", ".join(sorted(raw["cflags"].dropna().astype(str).unique()))
        if "cflags" in raw else (m.get("cflags") or ""),
        "flagset": flagset or ", ".join(sorted(raw["flagset"].unique())),
        "run_id": ", ".join(sorted(raw["run_id"].unique())) or m.get("run_id", "?"),
    }


def compare(ga, gb, metric, threshold, alpha, seed, n_resamples=RESAMPLES):
    rows = []
    for key in sorted(set(ga) & set(gb)):
        pa, pb = ga[key], gb[key]
        a, b = pa["values"], pb["values"]
        kernel, variant, size, threads = key
        row = dict(kernel=kernel, variant=variant, size_bytes=int(size),
                   cache_level=pa["cache_level"], threads=int(threads),
                   metric=metric, samples_a=pa["samples"], samples_b=pb["samples"])
        if math.isnan(pa["median"]) or math.isnan(pb["median"]):
            row.update(median_a=math.nan, median_b=math.nan, ratio=math.nan,
                       ci_low=math.nan, ci_high=math.nan, change_pct=math.nan,
                       p_value=math.nan, verdict="n/a")
            rows.append(row)
            continue
        ma, mb = pa["median"], pb["median"]
        ratio = mb / ma if ma else (1.0 if mb == ma else math.inf)
        ra, rb = pa.get("rounds", ()), pb.get("rounds", ())
        if len(ra) >= MIN_ROUNDS and len(rb) >= MIN_ROUNDS:
            p, lo, hi = round_test(ra, rb)
            unit = "round"
        else:
            lo, hi = ratio_ci(a, b, key_seed(seed, key), n_resamples)
            p = mann_whitney_p(a, b)
            unit = "sample"
        row.update(median_a=ma, median_b=mb, ratio=ratio, ci_low=lo,
                   ci_high=hi, change_pct=(ratio - 1) * 100, p_value=p,
                   unit=unit, rounds_a=len(ra), rounds_b=len(rb))
        rows.append(row)
    return decide(rows, alpha, threshold)


def decide(rows, alpha, threshold, ci=("ci_low", "ci_high")):
    """The one significance rule (make compare, --fail-on-regression,
    compare_many, slurm-gather).  Over the rows with a ratio: q_value = the
    Benjamini-Hochberg adjustment of their p_values taken together; verdict
    'slower'/'faster' when q < alpha, |ratio - 1| > threshold % and the
    ratio's CI (keys `ci`) lies wholly on that side of 1, else 'same'; rows
    without samples (NaN ratio) get 'n/a'.  Sets change_pct, q_value and
    verdict; returns rows."""
    tested = [r for r in rows if r.get("ratio") is not None
              and not math.isnan(r.get("ratio", math.nan))]
    q = bh_qvalues([r.get("p_value", math.nan) for r in tested])
    for row, qv in zip(tested, q):
        row["q_value"] = float(qv)
    for row in rows:
        ratio = row.get("ratio", math.nan)
        if ratio is None or math.isnan(ratio):
            row.update(change_pct=math.nan, q_value=math.nan, verdict="n/a")
            continue
        row["change_pct"] = change = (ratio - 1) * 100
        qv = row["q_value"]
        lo, hi = row.get(ci[0], math.nan), row.get(ci[1], math.nan)
        verdict = "same"
        if not math.isnan(qv) and qv < alpha and abs(change) > threshold:
            if ratio > 1 and lo > 1:
                verdict = "slower"
            elif ratio < 1 and hi < 1:
                verdict = "faster"
        row["verdict"] = verdict
    return rows


def bench_name(r):
    name = "%s/%s/%s" % (r["kernel"], r["variant"],
                         fmt_bytes(r["size_bytes"]).replace(" ", ""))
    if r["threads"] > 1:
        name += "/threads:%d" % r["threads"]
    return name


def fmt_num(x, digits=4):
    """Four significant digits, trailing zeros kept: 1.000, 0.2500, 12.80."""
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "-"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if mag >= digits + 2 or mag < -4:
        return "%.*e" % (digits - 1, x)
    return "%.*f" % (max(0, digits - 1 - mag), x)


def fmt_p(p):
    if math.isnan(p):
        return "-"
    return "%.4f" % p if p >= 1e-4 else "%.1e" % p


COLOURS = {"slower": "\033[31m", "faster": "\033[32m", "same": "",
           "n/a": "\033[2m"}
RESET = "\033[0m"


def print_table(rows, unit, colour, out=sys.stdout):
    head = ["Benchmark", "A " + unit, "B " + unit, "B/A", "95% CI",
            "change", "p-value", "q-value", "verdict"]
    body = []
    for r in rows:
        ci = "-" if math.isnan(r["ci_low"]) else \
            "[%.3f, %.3f]" % (r["ci_low"], r["ci_high"])
        body.append([bench_name(r), fmt_num(r["median_a"]),
                     fmt_num(r["median_b"]),
                     "-" if math.isnan(r["ratio"]) else "%.3f" % r["ratio"],
                     ci,
                     "-" if math.isnan(r["change_pct"]) else "%+.1f%%" % r["change_pct"],
                     fmt_p(r["p_value"]), fmt_p(r.get("q_value", math.nan)),
                     r["verdict"]])
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    left = {0, 8}

    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    print(line(head), file=out)
    print("-" * len(line(head)), file=out)
    for r, cells in zip(rows, body):
        text = line(cells)
        c = COLOURS.get(r["verdict"], "") if colour else ""
        print(c + text + (RESET if c else ""), file=out)


def write_csv(rows, path, columns=None):
    """Rows as CSV (NaN -> empty cell) to path, or stdout for "-"."""
    columns = columns or CSV_COLUMNS

    def cell(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else "%.6g" % v
        return v

    def write(f):
        w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: cell(r.get(k, "")) for k in columns})

    if path == "-":
        write(sys.stdout)
        return
    try:
        with open(path, "w", newline="") as f:
            write(f)
    except OSError as e:
        raise PmbError("cannot write %s: %s; pass a writable path to --csv"
                       % (path, e.strerror or e))


def plot_overlay(ga, gb, metric, unit, label_a, label_b, caches, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pmubench.plot import PALETTE, set_size_axis

    keys = sorted(set(ga) | set(gb))
    kernels = sorted({k[0] for k in keys})
    n = len(kernels)
    cols = 1 if n == 1 else 2
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(9.6 * cols, 4.2 * nrows),
                             dpi=110, squeeze=False)
    for ax, kernel in zip(axes.flat, kernels):
        series = sorted({(k[1], k[3]) for k in keys if k[0] == kernel})
        multi = len({t for _, t in series}) > 1
        xs_all = []
        for i, (variant, threads) in enumerate(series):
            colour = PALETTE[i % len(PALETTE)]
            label = variant + (" (%d thr)" % threads if multi else "")
            for g, style, tag, mk in ((ga, "-", label_a, "o"), (gb, "--", label_b, "s")):
                pts = sorted((k[2], p["median"]) for k, p in g.items()
                             if k[0] == kernel and k[1] == variant
                             and k[3] == threads and not math.isnan(p["median"]))
                if not pts:
                    continue
                x, y = zip(*pts)
                xs_all.extend(x)
                ax.plot(x, y, style, color=colour, marker=mk, markersize=3.5,
                        linewidth=1.5, label="%s \u2014 %s" % (label, tag))
        if xs_all:
            lo, hi = min(xs_all) / 1.5, max(xs_all) * 1.5
            set_size_axis(ax, lo, hi)
            for lvl, sz in sorted(caches.items(), key=lambda kv: kv[1]):
                if lo <= sz <= hi:
                    ax.axvline(sz, color="#666", linestyle=":", linewidth=0.9)
                    ax.annotate(lvl, xy=(sz, 1.0), xycoords=("data", "axes fraction"),
                                xytext=(2, -2), textcoords="offset points",
                                va="top", fontsize=8, color="#555")
        ax.set_ylim(bottom=0)
        ax.set_title("%s \u2014 %s" % (kernel, metric), loc="left", fontweight="bold")
        ax.set_xlabel("working-set size")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7.5, frameon=False, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle("solid: A = %s    dashed: B = %s" % (label_a, label_b), fontsize=9)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except (OSError, ValueError) as e:
        raise PmbError("cannot write plot %s: %s (use a .png, .svg or .pdf "
                       "name in a writable directory)" % (path, e))
    plt.close(fig)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description="Compare two pmubench runs A and B (or two flag sets of "
                    "one run). For each kernel x variant x size x threads "
                    "present in both: the medians of summary.csv, the ratio "
                    "B/A with a 95% CI and a two-sided p-value: from the "
                    "rounds' medians (Welch t on logs) when both runs have "
                    ">= 2 rounds (pmubench --rounds), else from the raw "
                    "samples (seeded bootstrap, Mann-Whitney U); its Benjamini-Hochberg "
                    "q-value over all points compared, and a verdict: "
                    "'slower'/'faster' when q < ALPHA, |B/A - 1| > THRESHOLD % "
                    "and the CI of B/A excludes 1, else 'same' (two runs of one "
                    "build: no verdicts but by chance at rate ALPHA overall). "
                    "Multi-thread points are compared on their aggregate rows "
                    "(thread -1).",
        epilog="examples (PYTHONPATH=scripts python3 -m pmubench.compare ...):\n"
               "  compare results/run-old results/run-new\n"
               "  compare results/run --flagsets O0,O3-native --csv cmp.csv\n"
               "  compare A B --fail-on-regression 5    # CI gate\n"
               "exit status: 0 ok; 1 a significant slowdown exceeds "
               "--fail-on-regression; 2 bad input.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", metavar="A", nargs="?",
                    help="baseline run directory (omitted: --baseline NAME, else "
                         "the previous run of B's config on B's machine)")
    ap.add_argument("b", metavar="B", nargs="?",
                    help="contender run directory (omit with --flagsets to "
                         "compare two flag sets inside A)")
    ap.add_argument("--flagsets", metavar="X,Y",
                    help="compare flagset X (baseline, from A) with flagset Y "
                         "(from B, or from A when B is omitted)")
    ap.add_argument("--baseline", metavar="NAME",
                    help="A = the run saved with pmubench --save-baseline NAME "
                         "on B's machine")
    ap.add_argument("--results", metavar="DIR", default="results",
                    help="where runs and .baselines/ live when A is omitted "
                         "(default results)")
    ap.add_argument("--run", metavar="DIR",
                    help="B when A is omitted (default: the newest run in --results)")
    ap.add_argument("--metric", default="ns_per_elem", metavar="METRIC",
                    help="metric to compare, a name of the run's schema "
                         "(pmubench --schema; default ns_per_elem)")
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                    metavar="PCT",
                    help="minimum effect in %%: smaller changes are 'same' "
                         "(default " + "%g" % DEFAULT_THRESHOLD + ")")
    ap.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                    help="false-discovery rate over all points compared "
                         "(Benjamini-Hochberg on the U tests' p-values; "
                         "default %g)" % DEFAULT_ALPHA)
    ap.add_argument("--seed", type=int, default=1,
                    help="bootstrap seed (default 1; same seed, same CIs)")
    ap.add_argument("--resamples", type=int, default=RESAMPLES,
                    help="bootstrap resamples for the CI of each ratio "
                         "(default %d)" % RESAMPLES)
    ap.add_argument("--csv", metavar="OUT", help="also write the table as CSV "
                    "('-' for stdout, replacing the table)")
    ap.add_argument("--plot", metavar="OUT",
                    help="write an overlaid plot of both runs (.png/.svg/.pdf)")
    ap.add_argument("--fail-on-regression", type=float, metavar="PCT",
                    help="exit 1 if any point is 'slower' by the rule above "
                         "with a slowdown over PCT %% (the rule's threshold is "
                         "raised to PCT when PCT is larger)")
    ap.add_argument("--color", choices=("auto", "always", "never"),
                    default="auto", help="colour the verdicts (default: auto, "
                    "only on a terminal and without NO_COLOR)")
    args = ap.parse_args(argv)
    if args.a is not None and (args.baseline or args.run):
        ap.error("--baseline and --run choose A and B: give them without A B")
    if args.a is not None and args.b is None and not args.flagsets:
        ap.error("give two run directories A B, or one run directory with "
                 "--flagsets X,Y, or none (the previous run, or --baseline NAME)")
    if args.flagsets:
        parts = [p.strip() for p in args.flagsets.split(",")]
        if len(parts) != 2 or not all(parts):
            ap.error("--flagsets takes two names separated by a comma, e.g. "
                     "--flagsets O0,O3-native")
        args.flagsets = parts
    if args.plot and os.path.splitext(args.plot)[1].lower() not in (".png", ".svg", ".pdf"):
        ap.error("--plot %s: name the file .png, .svg or .pdf" % args.plot)
    if not 0 < args.alpha < 1:
        ap.error("--alpha must be between 0 and 1 (e.g. 0.05)")
    if args.threshold < 0:
        ap.error("--threshold must be >= 0 (a percentage, e.g. 1)")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.a is None:
        from pmubench.baseline import resolve
        args.a, args.b, how = resolve(args.results, args.baseline, args.run)
        print("A = %s: %s" % (how, args.a), file=sys.stderr)
    same_run = args.b is None or os.path.realpath(args.b) == os.path.realpath(args.a)
    run_a = load_run(args.a)
    run_b = run_a if same_run else load_run(args.b)
    fa, fb = args.flagsets or (None, None)
    side_a = select(run_a, fa, "A")
    side_b = select(run_b, fb, "B")
    label_a = run_a.name + (" [%s]" % fa if fa else "")
    label_b = run_b.name + (" [%s]" % fb if fb else "")

    ga = groups(side_a, args.metric)
    gb = groups(side_b, args.metric)
    common = set(ga) & set(gb)
    if not common:
        def what(g):
            ks = sorted({"%s/%s" % (k[0], k[1]) for k in g})
            sz = sorted({k[2] for k in g})
            return "%s at %s" % (", ".join(ks) or "nothing",
                                 ", ".join(fmt_bytes(s) for s in sz) or "no size")
        raise PmbError("runs share no kernel/variant/size/threads to compare: "
                       "A (%s) has %s; B (%s) has %s. Compare runs of the same "
                       "config, or pick flag sets with --flagsets"
                       % (label_a, what(ga), label_b, what(gb)))

    if args.fail_on_regression is not None:
        args.threshold = max(args.threshold, args.fail_on_regression)
    rows = compare(ga, gb, args.metric, args.threshold, args.alpha, args.seed,
                   args.resamples)
    counted = [r for r in rows if r["verdict"] != "n/a"]
    if not counted:
        side = "A" if all(r["samples_a"] == 0 for r in rows) else "B"
        run = run_a if side == "A" else run_b
        counter = args.metric[: -len("_per_elem")]
        reason = run.counter_info(counter).get("reason") or "no samples in summary.csv"
        raise PmbError("metric %s was not counted in run %s (%s); pick another "
                       "with --metric" % (args.metric, side, reason))

    da, db = describe(run_a, side_a.raw, fa), describe(run_b, side_b.raw, fb)
    to_stdout = args.csv != "-"
    out = sys.stdout if to_stdout else sys.stderr
    print("A: %s  (%s, %s)" % (label_a, da["run_id"], da["compiler"]), file=out)
    print("B: %s  (%s, %s)" % (label_b, db["run_id"], db["compiler"]), file=out)
    if da["cpu_model"] != db["cpu_model"]:
        print("note: machines differ: A %s, B %s"
              % (da["cpu_model"], db["cpu_model"]), file=out)
    else:
        print("machine: %s" % da["cpu_model"], file=out)
    if da["compiler"] != db["compiler"]:
        print("note: compilers differ: A %s, B %s"
              % (da["compiler"], db["compiler"]), file=out)
    if same_run and fa:
        print("note: flag sets differ: A %s, B %s (same run)" % (fa, fb), file=out)
    elif da["cflags"] != db["cflags"]:
        print("note: cflags differ: A '%s', B '%s'"
              % (da["cflags"], db["cflags"]), file=out)
    print("metric: %s, %s; medians and CIs of summary.csv, on the rows that "
          "stand for each point (thread -1 when threads > 1)"
          % (metric_label(run_a, args.metric), metric_unit(run_a, args.metric)), file=out)
    print("ratio B/A, >1 means B is larger (slower for a time)", file=out)
    only_a, only_b = len(set(ga) - common), len(set(gb) - common)
    print("", file=out)

    colour = (args.color == "always"
              or (args.color == "auto" and out.isatty()
                  and not os.environ.get("NO_COLOR")))
    print_table(rows, metric_unit(run_a, args.metric), colour, out)
    n = {v: sum(1 for r in rows if r["verdict"] == v)
         for v in ("slower", "faster", "same", "n/a")}
    print("", file=out)
    ntested = len(rows) - n["n/a"]
    summary = ("%d tested: %d slower, %d faster, %d same (rule: %s)"
               % (ntested, n["slower"], n["faster"], n["same"],
                  rule_text(args.alpha, args.threshold, ntested)))
    if n["n/a"]:
        summary += ", %d without samples" % n["n/a"]
    if only_a or only_b:
        summary += "; %d only in A, %d only in B (not compared)" % (only_a, only_b)
    print(summary, file=out)
    print(unit_text(rows), file=out)

    if args.csv:
        write_csv(rows, args.csv)
    if args.plot:
        caches = run_a.caches()
        plot_overlay(ga, gb, args.metric, metric_unit(run_a, args.metric), label_a, label_b,
                     caches, args.plot)
        print("plot: %s" % args.plot, file=out)

    if args.fail_on_regression is not None:
        bad = [r for r in rows if r["verdict"] == "slower"
               and r["change_pct"] > args.fail_on_regression]
        if bad:
            print("regression: %d benchmark(s) significantly slower by more "
                  "than %g%%: %s"
                  % (len(bad), args.fail_on_regression,
                     ", ".join("%s (%+.1f%%)" % (bench_name(r), r["change_pct"])
                               for r in bad)), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    scripts_main(main)
