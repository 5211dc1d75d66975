#!/usr/bin/env bash
# End-to-end (issue 13, "Done when"): a 2-thread run's figures are the same
# numbers wherever they are shown. The harness computes each number once
# (summary.csv); the console, the HTML report and `make compare` only print
# it. Checked to the precision each one prints:
#   - aggregate row (thread -1): ns_per_elem (one thread's work, the
#     group's wall time) and group_ns_per_elem (the group's throughput);
#   - per-thread rows (thread 0, 1): ns_per_elem, in summary.csv and in the
#     report (the console and compare show the aggregate only, by design:
#     docs/schema.md "Rows": the group row stands for the point).
# A second run B gives `make compare A=... B=...` something to compare.
set -u
cd "$(dirname "$0")/../.."
bin=${PMB_BIN:-build/test/pmubench}
out=$(mktemp -d /tmp/pmb-e2e-aggregate.XXXXXX)
trap 'rm -rf "$out"' EXIT

run() { # name -> run directory on stdout, console in $out/<name>.console
	"$bin" --backend timer --kernels sum/index --sizes 16K --threads 2 \
		--min-samples 5 --max-samples 5 --warmup-ms 0 --point-seconds 0.05 \
		--out "$out/results" --name "$1" 2>"$out/$1.console"
}
a=$(run A) || { echo "not ok - aggregate: run A failed: $(tail -3 "$out/A.console")"; exit 0; }
b=$(run B) || { echo "not ok - aggregate: run B failed: $(tail -3 "$out/B.console")"; exit 0; }
PYTHONPATH=scripts /usr/bin/python3 -m pmubench.report "$a" >"$out/report.log" 2>&1 ||
	echo "not ok - aggregate: pmubench.report failed: $(tail -3 "$out/report.log")"
# make compare, as `make help` shows it; the group metric through
# COMPARE_ARGS (extra options of pmubench.compare).
make -s --no-print-directory compare A="$a" B="$b" >"$out/compare.txt" 2>"$out/compare.err" ||
	echo "not ok - aggregate: make compare failed: $(tail -3 "$out/compare.err")"
make -s --no-print-directory compare A="$a" B="$b" COMPARE_ARGS='--metric group_ns_per_elem' \
	>"$out/compare_group.txt" 2>>"$out/compare.err" ||
	echo "not ok - aggregate: make compare --metric group_ns_per_elem failed: $(tail -3 "$out/compare.err")"

/usr/bin/python3 - "$a" "$b" "$out" <<'PY'
import csv, html, os, re, sys

a, b, out = sys.argv[1:4]


def check(name, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + "aggregate: " + name
          + ("" if cond else "  [%s]" % (detail,)))


def summary(run):
    """{(thread, metric): median} of the one point, read with csv only."""
    with open(os.path.join(run, "summary.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return {(int(r["thread"]), r["metric"]): float(r["median"])
            for r in rows if r["median"] != ""}


def same(printed, value):
    """printed is value to the digits it shows (%.4g, fixed decimals, ...)."""
    if printed is None:
        return False
    digits = len(printed.split(".")[1]) if "." in printed else 0
    return abs(float(printed) - value) <= 0.5 * 10 ** -digits * (1 + 1e-9)


sa, sb = summary(a), summary(b)
agg_ns, agg_group = sa.get((-1, "ns_per_elem")), sa.get((-1, "group_ns_per_elem"))
per_thread = [sa.get((t, "ns_per_elem")) for t in (0, 1)]
check("summary.csv has the aggregate row (thread -1) ns_per_elem and group_ns_per_elem",
      agg_ns is not None and agg_group is not None, sorted(sa))
check("summary.csv has per-thread ns_per_elem for threads 0 and 1",
      None not in per_thread, per_thread)
if agg_ns is None or agg_group is None or None in per_thread:
    sys.exit(0)
# The group's throughput is the same wall time over twice the elements.
check("group_ns_per_elem x 2 threads == aggregate ns_per_elem (one wall time)",
      abs(agg_group * 2 - agg_ns) <= 1e-5 * agg_ns, (agg_group, agg_ns))

# Console: "[1/1] sum/index ... t=2  ns_per_elem 0.285 +- 4.5%  group_ns_per_elem 0.1425"
con = open(os.path.join(out, "A.console")).read()
m = re.search(r"t=2\s+ns_per_elem (\S+) .*group_ns_per_elem (\S+)", con)
check("console shows the aggregate ns_per_elem of summary.csv",
      m and same(m.group(1), agg_ns), (m and m.group(1), agg_ns))
check("console shows the aggregate group_ns_per_elem of summary.csv",
      m and same(m.group(2), agg_group), (m and m.group(2), agg_group))

# Report: the medians table of family "sum".
page = open(os.path.join(a, "report.html")).read()


def report_cell(label):
    """The texts of the number cells in the row whose name has label."""
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        if label in html.unescape(re.sub(r"<[^>]+>", "", row)):
            cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
            return [html.unescape(re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]
    return None


for metric, value in (("ns_per_elem", agg_ns), ("group_ns_per_elem", agg_group)):
    cell = report_cell("aggregate row (thread -1): " + metric)
    check("report shows the aggregate %s of summary.csv" % metric,
          cell and same(cell[0].split()[0], value), (cell, value))
cell = report_cell("per thread (thread 0, 1): ns_per_elem")
shown = re.findall(r"[-0-9.]+(?:e[-+][0-9]+)?", cell[0]) if cell else []
check("report shows each thread's ns_per_elem of summary.csv (thread 0, 1)",
      len(shown) == 2 and all(same(p, v) for p, v in zip(shown, per_thread)),
      (shown, per_thread))


# make compare: "sum/index/16KiB/threads:2   0.2850   0.2777  0.974 ..."
def compare_line(name):
    text = open(os.path.join(out, name)).read()
    m = re.search(r"^sum/index/16KiB/threads:2\s+(\S+)\s+(\S+)", text, re.M)
    return m.groups() if m else (None, None)


for name, metric in (("compare.txt", "ns_per_elem"), ("compare_group.txt", "group_ns_per_elem")):
    pa, pb = compare_line(name)
    check("make compare shows A's and B's aggregate %s of summary.csv" % metric,
          same(pa, sa[(-1, metric)]) and same(pb, sb.get((-1, metric), float("nan"))),
          (pa, pb, sa[(-1, metric)], sb.get((-1, metric))))
PY
