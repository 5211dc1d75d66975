#!/usr/bin/python3
"""Write one self-contained report.html for a pmubench run."""

import argparse
import base64
import datetime
import html
import io
import os
import sys

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pmubench.load import (CACHE_LEVELS, PmbError, fmt_bytes, group_rows,  # noqa: E402
                           load_run, metric_unit, scripts_main, thread_rows)
from pmubench import plot  # noqa: E402

# (family, numerator variant, denominator variant, what it shows)
HEADLINE_RATIOS = [
    ("traversal", "list_shuffled", "array", "pointer chasing in random order vs streaming"),
    ("traversal", "list_ordered", "array", "pointer chasing in memory order vs streaming"),
    ("alloc", "bad", "best", "worst vs best allocation pattern"),
    ("alloc", "better", "best", "improved vs best allocation pattern"),
    ("sum", "index", "pointer", "indexing vs pointer increment"),
    ("sum", "index_checked", "index", "cost of bounds checks"),
    ("stack_heap", "heap", "stack", "heap vs stack storage"),
    ("copy", "deep_copy", "borrow", "deep copy vs borrowing"),
    ("branch", "random_branchy", "sorted_branchy", "unpredictable vs predictable branches"),
]

CSS = """
:root { --fg:#1d2330; --muted:#5d6677; --faint:#8a93a3; --line:#e3e7ee;
  --bg:#ffffff; --panel:#f7f8fb; --accent:#2456a6; --ok:#1d7a46; --okbg:#e4f4ea;
  --bad:#b42318; --badbg:#fdecea; --warnbg:#fff6df; --warn:#8a5a00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; background:var(--bg); color:var(--fg);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
  "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 0 32px 64px; }
header.top { background: #1d2330; color: #fff; }
header.top .inner { max-width:1180px; margin:0 auto; padding: 28px 32px 22px; }
header.top h1 { margin:0; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
header.top .sub { color:#b8c1d1; margin-top: 4px; font-size: 14px; }
header.top .sub code { color:#dfe5ef; }
.badge { display:inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12.5px;
  font-weight: 600; vertical-align: 3px; margin-left: 10px; letter-spacing: .02em; }
.badge.ok { background: var(--okbg); color: var(--ok); }
.badge.bad { background: var(--badbg); color: var(--bad); }
.badge.sim { background: #ece7fb; color: #5b3cc4; }
nav { position: sticky; top:0; background: rgba(255,255,255,.96); border-bottom:1px solid var(--line);
  z-index: 2; }
nav .inner { max-width:1180px; margin:0 auto; padding: 10px 32px; font-size: 14px; }
nav a { color: var(--muted); text-decoration: none; margin-right: 18px; }
nav a:hover { color: var(--accent); }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line);
  font-weight: 650; letter-spacing: -0.005em; }
h3 { font-size: 16.5px; margin: 28px 0 10px; font-weight: 620; }
p.note, .note { color: var(--muted); font-size: 13.5px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 0.9em; }
table { border-collapse: collapse; margin: 6px 0 8px; font-size: 14px; }
/* Wide tables (many sizes, long flags) scroll inside their box, never the page. */
.scroll { overflow-x: auto; max-width: 100%; }
.grid2 > div { min-width: 0; }
details.noise { margin: 14px 0 4px; border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; }
details.noise > summary { cursor: pointer; color: var(--muted); font-size: 13.5px; }
ul.flagsets { margin: 0; padding-left: 18px; }
.scroll > table.kv { width: 100%; }
table.kv td { overflow-wrap: anywhere; }
figure.heatmap { overflow-x: auto; }
figure.heatmap img { width: auto; max-width: none; }
th, td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-weight: 600; color: var(--muted); font-size: 12.5px; text-transform: uppercase;
  letter-spacing: .04em; border-bottom: 2px solid #cfd5df; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:hover { background: var(--panel); }
table.kv th { text-transform:none; letter-spacing:0; font-size:14px; color: var(--muted);
  font-weight: 500; border-bottom: 1px solid var(--line); width: 190px; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap: 8px 40px; }
.small { font-size: 12px; color: var(--faint); }
.ratio { font-weight: 600; }
.ratio.big { color: var(--bad); }
.ratio.one { color: var(--muted); font-weight: 500; }
.missing { color: var(--faint); }
.warnings { background: var(--warnbg); border-left: 4px solid #e0a800; padding: 10px 16px 10px 30px;
  margin: 10px 0; color: var(--warn); font-size: 14px; border-radius: 0 6px 6px 0; }
.warnings li { margin: 2px 0; }
.plots { display:grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 18px 22px; margin: 8px 0 4px; }
figure { margin:0; background: #fff; border:1px solid var(--line); border-radius: 8px; padding: 8px; }
figure.wide { grid-column: 1 / -1; }
figure img { width:100%; height:auto; display:block; }
figcaption { font-size: 12.5px; color: var(--muted); padding: 4px 6px 0; }
.status-yes { color: var(--ok); font-weight: 600; }
.status-no { color: var(--bad); font-weight: 600; }
footer { margin-top: 48px; padding-top: 14px; border-top: 1px solid var(--line); color: var(--faint);
  font-size: 12.5px; }
@media (max-width: 820px) { .grid2, .plots { grid-template-columns: 1fr; } main { padding: 0 16px 48px; } }
@media print { nav { display:none; } figure { break-inside: avoid; } }
"""


def esc(x):
    return html.escape("" if x is None else str(x))


def parse_utc(s):
    if not s:
        return None
    try:
        return datetime.datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    except ValueError:
        return None


def fmt_duration(a, b):
    if not a or not b:
        return ""
    sec = int((b - a).total_seconds())
    if sec < 0:
        return ""
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return ("%dh %02dm %02ds" % (h, m, s)) if h else ("%dm %02ds" % (m, s))


def fmt_val(x):
    """Median for tables: 4 significant digits, trailing zeros kept."""
    import math
    if x is None or x != x:
        return "\u2014"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if mag >= 6 or mag < -4:
        return "%.3e" % x
    return "%.*f" % (max(0, 3 - mag), x)


def svg_data_uri(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def png_data_uri(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def headline_ratios(run):
    """{flagset: [(label, what, {level: (ratio, size) or None})]} for the
    ratios whose variants exist; ratio of ns_per_elem medians at the largest
    size of each cache level, single thread."""
    s = run.summary
    s = s[(s["metric"] == "ns_per_elem") & (s["threads"] == 1)
          & (s["thread"] == 0) & (s["samples"] > 0) & s["median"].notna()]
    out = {}
    for flagset in sorted(s["flagset"].unique()):
        sf = s[s["flagset"] == flagset]
        rows = []
        for family, num, den, what in HEADLINE_RATIOS:
            a = sf[(sf["kernel"] == family) & (sf["variant"] == num)]
            b = sf[(sf["kernel"] == family) & (sf["variant"] == den)]
            if a.empty or b.empty:
                continue
            per_level = {}
            for level in CACHE_LEVELS:
                ma = a[a["cache_level"] == level].set_index("size_bytes")["median"]
                mb = b[b["cache_level"] == level].set_index("size_bytes")["median"]
                both = sorted(set(ma.index) & set(mb.index))
                if not both or not mb[both[-1]]:
                    per_level[level] = None
                    continue
                size = both[-1]
                per_level[level] = (float(ma[size]) / float(mb[size]), int(size))
            rows.append(("%s: %s / %s" % (family, num, den), what, per_level))
        if rows:
            out[flagset] = rows
    return out


def ratio_cell(v):
    if v is None:
        return '<td class="num missing">\u2014</td>'
    r, size = v
    cls = "ratio big" if round(r, 2) >= 2 else ("ratio one" if 0.95 <= r <= 1.05 else "ratio")
    return ('<td class="num"><span class="%s">%.2f\u00d7</span><br>'
            '<span class="small">at %s</span></td>' % (cls, r, esc(fmt_bytes(size))))


def section_headline(run):
    data = headline_ratios(run)
    parts = ['<h2 id="headline">Headline ratios</h2>']
    if not data:
        parts.append('<p class="note">None of the headline variant pairs were '
                     'measured in this run.</p>')
        return "\n".join(parts)
    parts.append('<p class="note">Ratio of median time per element '
                 '(<code>ns_per_elem</code>, one thread). For each cache level '
                 'the largest measured size that fits in that level is used. '
                 'Above 1\u00d7 the first variant is slower.</p>')
    levels = [lv for lv in CACHE_LEVELS
              if any(r[2].get(lv) for rows in data.values() for r in rows)]
    caches = run.caches()
    for flagset, rows in data.items():
        if len(data) > 1:
            parts.append("<h3>flagset <code>%s</code></h3>" % esc(flagset))
        head = "".join('<th class="num">%s%s</th>' % (
            esc(lv), ('<br><span class="small">\u2264 %s</span>' % esc(fmt_bytes(caches[lv])))
            if lv in caches else "") for lv in levels)
        parts.append('<table class="ratios"><thead><tr><th>ratio</th><th>what it shows</th>%s'
                     '</tr></thead><tbody>' % head)
        for label, what, per in rows:
            parts.append("<tr><td><code>%s</code></td><td class=\"note\">%s</td>%s</tr>"
                         % (esc(label), esc(what),
                            "".join(ratio_cell(per.get(lv)) for lv in levels)))
        parts.append("</tbody></table>")
    return "\n".join(parts)


def flagsets_html(run):
    """Every flag set of the run with the compiler and flags its rows carry."""
    items = []
    cols = [c for c in ("compiler", "cflags") if c in run.raw.columns]
    for flagset, g in run.raw.groupby("flagset", sort=True):
        builds = g[cols].drop_duplicates().astype(str).values.tolist()
        items.append("<li><b>%s</b>: %s</li>" % (esc(flagset), "; ".join(
            "%s <code>%s</code>" % (esc(b[0]), esc(b[1] if len(b) > 1 else "")) for b in builds)))
    return '<ul class="flagsets">%s</ul>' % "".join(items)


def section_flagsets(run, image_format):
    """Kernel x flag-set ratio heatmap, when the run holds several flag sets."""
    from pmubench import heatmap
    flagsets = sorted(run.raw["flagset"].unique())
    if len(flagsets) < 2:
        return ""
    ref = run.meta.get("flagset") if run.meta.get("flagset") in flagsets else flagsets[0]
    from pmubench.compare import groups, select
    cols = [(f, groups(select(run, f, f), "ns_per_elem")) for f in flagsets if f != ref]
    levels, rows, labels, cells = heatmap.matrix(
        cols, (ref, groups(select(run, ref, ref), "ns_per_elem")))
    if not levels:
        return ""
    fig = heatmap.figure(levels, rows, labels, cells, ref)
    uri = svg_data_uri(fig) if image_format == "svg" else png_data_uri(fig)
    plt.close(fig)
    return ('<h2 id="flagsets">Flag sets at a glance</h2><p class="note">Each cell: median '
            'time per element of the flag set (column) over flag set <code>%s</code>, at '
            'the largest size of each cache level, with the 95 %% bootstrap CI; red is '
            'slower, blue faster; \u2248 marks changes that <code>make compare</code> '
            'calls the same (p-value and noise threshold).</p><figure class="wide heatmap">'
            '<img alt="flag-set heatmap" src="%s"></figure>' % (esc(ref), uri))


def section_machine(run):
    m = run.meta
    started, finished = parse_utc(m.get("started_utc")), parse_utc(m.get("finished_utc"))
    rows = [
        ("Host", m.get("host")),
        ("CPU", m.get("cpu_model")),
        ("Cores", m.get("cores")),
        ("Virtual machine", {True: "yes \u2014 counters and timings may be "
                             "distorted by the hypervisor", False: "no"}.get(m.get("vm"), "unknown")),
        ("Counter backend", m.get("backend")),
        ("Compiler", m.get("compiler")),
        ("Flag set", m.get("flagset")),
        ("CFLAGS", m.get("cflags")),
        ("Flag sets", flagsets_html(run)),
        ("Command line", m.get("command_line")),
        ("Started (UTC)", m.get("started_utc")),
        ("Finished (UTC)", m.get("finished_utc") or "\u2014 (did not finish)"),
        ("Duration", fmt_duration(started, finished) or "\u2014"),
    ]
    mono = {"CFLAGS", "Command line", "Compiler"}
    if len(run.raw["flagset"].unique()) > 1:
        # One binary per flag set: the single-build rows would name only the first.
        rows = [r for r in rows if r[0] not in ("Compiler", "Flag set", "CFLAGS")]
    else:
        rows = [r for r in rows if r[0] != "Flag sets"]
    kv = "".join("<tr><th>%s</th><td>%s</td></tr>" % (
        esc(k), v if k == "Flag sets" else ("<code>%s</code>" % esc(v)) if k in mono and v
        else esc(v if v not in (None, "") else "\u2014"))
        for k, v in rows)
    caches = m.get("caches") or {}
    crow = []
    for level in sorted(caches):
        info = caches[level] if isinstance(caches[level], dict) else {"size": caches[level]}
        size, raw = info.get("size"), info.get("size_raw")
        note = ""
        try:
            if raw is not None and int(raw) != int(size):
                note = "OS value replaced by the sanitised size"
        except (TypeError, ValueError):
            pass
        extra = []
        for k, v in info.items():
            if k in ("size", "size_raw"):
                continue
            if k == "line":
                extra.append("%s B lines" % v)
            elif k == "ways":
                extra.append("%s-way" % v)
            else:
                extra.append("%s %s" % (k.replace("_", " "), v))
        extra = ", ".join(extra)
        crow.append('<tr><td>%s</td><td class="num">%s</td><td class="num">%s</td>'
                    '<td class="note">%s</td><td class="note">%s</td></tr>' % (
                        esc(level), esc(fmt_bytes(size)) if size else "\u2014",
                        esc(fmt_bytes(raw)) if raw else "\u2014", esc(extra), esc(note)))
    ctable = ('<table><thead><tr><th>level</th><th class="num">size used</th>'
              '<th class="num">reported by OS</th><th>details</th><th></th></tr></thead>'
              '<tbody>%s</tbody></table>' % "".join(crow)) if crow else \
        '<p class="note">meta.json lists no caches.</p>'
    warns = list(m.get("warnings") or [])
    wl = ""
    if warns:
        wl = ('<h3>Warnings recorded by the harness</h3><ul class="warnings">%s</ul>'
              % "".join("<li>%s</li>" % esc(w) for w in warns))
    return ('<h2 id="machine">Machine</h2><div class="grid2"><div><table class="kv">%s</table></div>'
            '<div><h3 style="margin-top:4px">Caches</h3>%s%s</div></div>' % (kv, ctable, wl))


def section_counters(run):
    counters = run.meta.get("counters") or {}
    raw = run.raw
    rows = []
    cols = run.counter_columns()
    names = cols + [c for c in counters if c not in cols]
    summary = run.summary
    for c in names:
        info = counters.get(c) if isinstance(counters.get(c), dict) else {}
        has_data = c in raw.columns and raw[c].notna().any()
        avail = info.get("available", has_data if c in raw.columns else None)
        if c not in counters and not has_data:
            avail = False
        # The source the harness recorded for the counter's metric rows.
        rows_c = summary[(summary["metric"] == c + "_per_elem") & (summary["samples"] > 0)]
        srcs = sorted(set(rows_c["source"].astype(str)) - {""}) if "source" in rows_c else []
        if not srcs and info.get("source"):
            srcs = [str(info["source"])]
        status = ('<span class="status-yes">counted</span>' if avail and has_data
                  else '<span class="status-no">not counted</span>')
        src = ", ".join(srcs)
        if set(srcs) & {"sim", "simulator"}:
            src = '<span class="badge sim" style="margin:0">simulated</span>'
        reason = info.get("reason") or ("" if has_data else "no samples in the size files")
        rows.append((not (avail and has_data), "<tr><td><code>%s</code></td><td>%s</td><td><code>%s</code>"
                     "</td><td>%s</td><td>%s</td></tr>" % (
                         esc(c), status, esc(info.get("event") or ""), src or "\u2014",
                         esc(reason) if reason else "")))
    rows.sort(key=lambda r: not r[0])  # unavailable first
    n_un = sum(1 for r in rows if r[0])
    intro = ('<p class="note">%d of %d counters were not counted; their '
             'columns are empty in the size files and they have no plots.</p>'
             % (n_un, len(rows)))
    return ('<h2 id="counters">Counters</h2>%s<table><thead><tr><th>counter</th><th>status</th>'
            '<th>event</th><th>source</th><th>reason</th></tr></thead><tbody>%s</tbody></table>'
            % (intro, "".join(r[1] for r in rows)))


def section_latency(run):
    """The per-level latency table as the harness detected it (meta.json
    latency_levels); nothing is recomputed here.  Empty without one."""
    table = run.meta.get("latency_levels") or {}
    levels = table.get("levels") or []
    if not levels:
        return ""
    rows = []
    for lv in levels:
        if not lv.get("found"):
            rows.append("<tr><td>%s</td><td colspan=4>no point in this level</td></tr>"
                        % esc(lv.get("level")))
            continue
        span = fmt_bytes(lv["size_lo"]) if lv["size_lo"] == lv["size_hi"] else \
            "%s–%s" % (fmt_bytes(lv["size_lo"]), fmt_bytes(lv["size_hi"]))
        hw = fmt_bytes(lv["cache_size_hwloc"]) if lv.get("cache_size_hwloc") else "—"
        rows.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s%s</td><td>%s</td></tr>" % (
            esc(lv["level"]), fmt_val(lv["ns"]),
            "—" if lv.get("ticks") is None else fmt_val(lv["ticks"]),
            esc(span), " (single point)" if lv.get("single_point") else "", esc(hw)))
    return ('<h2 id="latency">Latency per level</h2><p>%s, load-to-use latency per '
            'level: %s.</p><table><thead><tr><th>level</th><th>ns/load</th>'
            '<th>ticks/load</th><th>plateau sizes</th><th>hwloc size</th></tr></thead>'
            '<tbody>%s</tbody></table><p class="muted">Rule: %s</p>'
            % (esc(table.get("kernel", "latency/chase")), esc(table.get("text", "")),
               "".join(rows), esc(table.get("rule", ""))))


def section_completeness(run):
    m = run.meta
    raw = run.raw
    complete = m.get("complete")
    sizes = sorted(raw["size_bytes"].unique())
    pairs = raw.groupby(["kernel", "variant"])["size_bytes"].apply(set)
    gaps = ["%s/%s (missing %s)" % (k, v, ", ".join(fmt_bytes(x) for x in sorted(set(sizes) - got)))
            for (k, v), got in pairs.items() if set(sizes) - got]
    invalid = int((raw["valid"] != 1).sum())
    items = [
        ("Run complete", '<span class="status-yes">yes</span>' if complete is True else
         ('<span class="status-no">no</span> \u2014 the run stopped early; results cover '
          'only what was written' if complete is False else "unknown (meta.json missing)")),
        ("Sizes measured", esc(", ".join(fmt_bytes(s) for s in sizes))),
        ("Kernels / variants", "%d / %d" % (raw["kernel"].nunique(), len(pairs))),
        ("Samples", "{:,}".format(len(raw))),
        ("Failed self-check", '<span class="status-no">%d samples (valid=0)</span>' % invalid
         if invalid else '<span class="status-yes">none</span>'),
        ("Variants missing sizes", esc("; ".join(gaps)) if gaps else "none"),
    ]
    kv = "".join("<tr><th>%s</th><td>%s</td></tr>" % (esc(k), v) for k, v in items)
    lw = ""
    if run.warnings:
        lw = ('<h3>Found while reading the run</h3><ul class="warnings">%s</ul>'
              % "".join("<li>%s</li>" % esc(w) for w in run.warnings))
    return '<h2 id="completeness">Completeness</h2><table class="kv">%s</table>%s' % (kv, lw)


# The time metrics of the medians table: per-thread work, and for
# multi-thread points the group's throughput (schema names).
TABLE_METRICS = ("ns_per_elem", "group_ns_per_elem")


# Threads listed one by one up to this many; more show the range.
PER_THREAD_LISTED = 4


def per_thread_row(run, family, flagset, variant, threads, sizes):
    """Each thread's own ns_per_elem median (summary.csv rows thread >= 0)
    under the aggregate, so an unbalanced group shows."""
    s = thread_rows(run.summary)
    s = s[(s["kernel"] == family) & (s["flagset"] == flagset) & (s["variant"] == variant)
          & (s["threads"] == threads) & (s["metric"] == "ns_per_elem") & (s["samples"] > 0)]
    listed = threads <= PER_THREAD_LISTED
    which = (", ".join(str(t) for t in range(threads)) if listed
             else "min\u2013max over 0\u2013%d" % (threads - 1))
    name = ('<code>%s</code> <span class="small">%d threads, per thread (thread %s):'
            ' <code>ns_per_elem</code></span>' % (esc(variant), threads, which))
    cells = []
    for z in sizes:
        g = s[s["size_bytes"] == z].sort_values("thread")
        if g.empty:
            cells.append('<td class="num missing">\u2014</td>')
        elif listed:
            cells.append('<td class="num">%s</td>' % " / ".join(fmt_val(v) for v in g["median"]))
        else:
            cells.append('<td class="num">%s\u2013%s</td>'
                         % (fmt_val(g["median"].min()), fmt_val(g["median"].max())))
    return "<tr><td>%s</td>%s</tr>" % (name, "".join(cells))


def medians_table(run, family):
    s = group_rows(run.summary)
    s = s[(s["kernel"] == family) & s["metric"].isin(TABLE_METRICS) & (s["samples"] > 0)]
    # A single-thread point's group metric equals its per-thread one.
    s = s[(s["metric"] == "ns_per_elem") | (s["threads"] > 1)]
    if s.empty:
        return ""
    sizes = sorted(s["size_bytes"].unique())
    level_of = s.groupby("size_bytes")["cache_level"].first()
    multi_flags = s["flagset"].nunique() > 1
    head = "".join('<th class="num">%s<br><span class="small">%s</span></th>'
                   % (esc(fmt_bytes(z)), esc(level_of[z])) for z in sizes)
    body = []
    order = sorted(s.groupby(["flagset", "variant", "threads", "metric"]),
                   key=lambda kv: kv[0][:3] + (TABLE_METRICS.index(kv[0][3]),))
    for (flagset, variant, threads, metric), g in order:
        g = g.set_index("size_bytes")
        name = "<code>%s</code>" % esc(variant)
        if threads > 1:
            name += (' <span class="small">%d threads, aggregate row (thread -1):'
                     ' <code>%s</code></span>' % (threads, esc(metric)))
        if multi_flags:
            name += ' <span class="small">[%s]</span>' % esc(flagset)
        cells = []
        for z in sizes:
            if z not in g.index:
                cells.append('<td class="num missing">\u2014</td>')
                continue
            r = g.loc[z]
            ci = ""
            if r["ci_low"] == r["ci_low"] and r["ci_high"] == r["ci_high"]:
                ci = '<br><span class="small">%s\u2013%s</span>' % (
                    fmt_val(r["ci_low"]), fmt_val(r["ci_high"]))
            # Samples the harness discarded for preemption (summary.csv
            # `discarded`; runs written before it lack the column).
            dropped = r.get("discarded", 0)
            if dropped == dropped and dropped and dropped > 0:
                ci += '<br><span class="small">+%d preempted</span>' % int(dropped)
            cells.append('<td class="num">%s%s</td>' % (fmt_val(r["median"]), ci))
        body.append("<tr><td>%s</td>%s</tr>" % (name, "".join(cells)))
        if threads > 1 and metric == "ns_per_elem":
            body.append(per_thread_row(run, family, flagset, variant, threads, sizes))
    notes = "".join("<br><code>%s</code>: %s" % (esc(m), esc(run.metric(m).get("description", "")))
                    for m in TABLE_METRICS if m in set(s["metric"]))
    return ('<table><thead><tr><th>variant</th>%s</tr></thead><tbody>%s</tbody></table>'
            '<p class="note">Median ns per element from summary.csv; below it, the '
            '95 %% CI of the median; "+N preempted": samples discarded for a context '
            'switch or migration and retaken (summary.csv <code>discarded</code>).%s</p>' % (head, "".join(body), notes))


# Software counters count OS events: on kernels that do not cause them their
# plots show only noise (an occasional interrupt or fault), folded away.
SOFTWARE_COUNTERS = ("page_faults", "context_switches", "cpu_migrations")
# A kernel that causes the events counts more of them as its samples grow;
# noise stays at a handful per sample whatever the work.
NOISE_EVENTS_PER_SAMPLE = 2


def noise_only(run, family, metric):
    """True for a software counter whose median count per sample is at most
    NOISE_EVENTS_PER_SAMPLE at every point of the family: sporadic events,
    not the kernel's."""
    counter = metric[: -len("_per_elem")]
    if counter not in SOFTWARE_COUNTERS or counter not in run.raw.columns:
        return False
    raw = group_rows(run.raw[run.raw["kernel"] == family])
    med = raw.groupby(["flagset", "variant", "size_bytes", "threads"])[counter].median()
    med = med.dropna()
    return bool(len(med)) and bool((med <= NOISE_EVENTS_PER_SAMPLE).all())


def section_results(run, image_format):
    parts = ['<h2 id="results">Results by kernel family</h2>',
             '<p class="note">Lines are medians; shaded bands are the 95 % CI of '
             'the median; dashed verticals mark the cache sizes. Counters from the '
             'simulator are marked <span class="badge sim" style="margin:0">'
             'simulated</span> in the plot titles.</p>']
    n = 0
    for family in sorted(run.summary["kernel"].unique()):
        parts.append('<h3 id="fam-%s">%s</h3>' % (esc(plot.safe_name(family)), esc(family)))
        parts.append(medians_table(run, family))
        figs, folded, folded_names = [], [], []
        for metric in plot.available_metrics(run, family):
            wide = metric == "ns_per_elem"
            fig = plot.figure(run, family, metric,
                              figsize=(11.0, 4.4) if wide else (6.6, 3.7))
            uri = svg_data_uri(fig) if image_format == "svg" else png_data_uri(fig)
            plt.close(fig)
            sim = plot.is_simulated(run.summary[(run.summary["kernel"] == family)
                                                & (run.summary["metric"] == metric)], metric)
            cap = "%s \u2014 %s (%s, %s)%s" % (
                family, metric, metric_unit(run, metric),
                run.metric(metric).get("normalisation", ""), ", simulated" if sim else "")
            html_fig = ('<figure class="%s"><img alt="%s" src="%s"><figcaption>%s'
                        '</figcaption></figure>'
                        % ("wide" if metric == "ns_per_elem" else "", esc(cap), uri, esc(cap)))
            if noise_only(run, family, metric):
                folded.append(html_fig)
                folded_names.append(metric)
            else:
                figs.append(html_fig)
            n += 1
        parts.append('<div class="plots">%s</div>' % "".join(figs))
        if folded:
            parts.append('<details class="noise"><summary>%d software-counter plot%s '
                         'showing only noise (at most %d events per sample at every '
                         'point): %s</summary><div class="plots">%s</div></details>'
                         % (len(folded), "" if len(folded) == 1 else "s",
                            NOISE_EVENTS_PER_SAMPLE, esc(", ".join(folded_names)),
                            "".join(folded)))
    return "\n".join(parts), n


def build(run, image_format="svg"):
    m = run.meta
    complete = m.get("complete")
    badge = ('<span class="badge ok">complete</span>' if complete is True else
             '<span class="badge bad">incomplete</span>' if complete is False else
             '<span class="badge bad">completeness unknown</span>')
    if str(m.get("backend", "")).lower() == "sim" or plot.is_simulated(run.summary, None):
        badge += '<span class="badge sim">simulated counters</span>'
    title = "pmubench \u2014 %s" % (m.get("config") or run.name)
    results, nfig = section_results(run, image_format)
    flagsets = section_flagsets(run, image_format)
    sub = " \u00b7 ".join(esc(x) for x in (
        m.get("host"), m.get("cpu_model"), m.get("compiler"), m.get("started_utc")) if x)
    generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title_text)s</title>
<style>%(css)s</style>
</head>
<body>
<header class="top"><div class="inner">
<h1>%(title)s%(badge)s</h1>
<div class="sub"><code>%(run_id)s</code><br>%(sub)s</div>
</div></header>
<nav><div class="inner">
<a href="#headline">Headline ratios</a>%(flagsets_nav)s<a href="#machine">Machine</a><a href="#results">Results</a><a href="#latency">Latency</a><a href="#counters">Counters</a><a href="#completeness">Completeness</a>
</div></nav>
<main>
%(headline)s
%(flagsets)s
%(machine)s
%(results)s
%(latency)s
%(counters)s
%(completeness)s
<footer>Generated by <code>pmubench.report</code> on %(generated)s from <code>%(path)s</code>
\u00b7 %(nfig)d plots \u00b7 schema_version %(sv)s. This file is self-contained: it loads nothing from the network.</footer>
</main>
</body>
</html>
""" % dict(title_text=esc(title), css=CSS, title=esc(title), badge=badge,
           run_id=esc(m.get("run_id") or run.name), sub=sub,
           headline=section_headline(run), flagsets=flagsets,
           flagsets_nav='<a href="#flagsets">Flag sets</a>' if flagsets else "",
           machine=section_machine(run),
           results=results, latency=section_latency(run), counters=section_counters(run),
           completeness=section_completeness(run), generated=esc(generated),
           path=esc(run.name), nfig=nfig, sv=esc(m.get("schema_version", "?")))
    return doc.replace("<table", '<div class="scroll"><table').replace("</table>", "</table></div>")


def main():
    ap = argparse.ArgumentParser(
        description="Write RUN_DIR/report.html: one self-contained page (inline "
                    "CSS, images embedded as data URIs, nothing loaded from the "
                    "network) with the machine summary from meta.json, headline "
                    "ratios at each cache level, medians and plots per kernel "
                    "family, the counters that were not counted and why, and "
                    "the run's completeness.",
        epilog="example: PYTHONPATH=scripts python3 -m pmubench.report results/default-host-20250301T100000Z"
               "\nthen:    scripts/pmubench/screenshot.sh RUN_DIR/report.html report.png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", metavar="RUN_DIR",
                    help="a run directory, results/<config>-<host>-<timestamp>/")
    ap.add_argument("-o", "--out", metavar="FILE",
                    help="output file (default: RUN_DIR/report.html)")
    ap.add_argument("--images", choices=("svg", "png"), default="svg",
                    help="embed plots as SVG (default, sharp at any zoom) or PNG "
                         "(smaller file)")
    args = ap.parse_args()
    run = load_run(args.run_dir)
    doc = build(run, args.images)
    out = args.out or os.path.join(args.run_dir, "report.html")
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write(doc)
    except OSError as e:
        raise PmbError("cannot write %s: %s; pass a writable path with --out"
                       % (out, e.strerror or e))
    print(out)
    return 0


if __name__ == "__main__":
    scripts_main(main)
