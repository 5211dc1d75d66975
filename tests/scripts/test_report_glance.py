"""Reports that compare at a glance (issue 15 item 6): the kernel x flag-set
heatmap, one colour per variant, scrolling tables, folded noise plots and
every flag set in the Machine box, on the flag-set fixture (written by the
real binary, tests/fixtures/make_fixtures.sh: flag sets "first" and "second"
of one run), with flag set "second" of sum/index made 100x faster."""

import os
import re
import shutil
import tempfile
import unittest

from helpers import fixture, run_script, scaled_copy

from pmubench import heatmap, plot, report
from pmubench.compare import groups, select
from pmubench.load import load_run


class GlanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.rundir = scaled_copy(fixture("run-flags"), os.path.join(cls.tmp, "run-flags"),
                                 {("second", "sum", "index"): 0.01})
        cls.flags = load_run(cls.rundir, warn=lambda m: None)
        cls.p = run_script("pmubench/report.py", cls.rundir)
        with open(os.path.join(cls.rundir, "report.html"), encoding="utf-8") as f:
            cls.html = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_heatmap_cells(self):
        run = self.flags
        levels, rows, labels, cells = heatmap.matrix(
            [("second", groups(select(run, "second", "B"), "ns_per_elem"))],
            ("first", groups(select(run, "first", "A"), "ns_per_elem")))
        self.assertEqual(levels, ["L1"])
        self.assertEqual(rows, ["sum/index", "traversal/array"])
        self.assertEqual(labels, ["second"])
        c = cells["L1"][("sum/index", "second")]
        s = run.summary
        med = {f: s[(s["flagset"] == f) & (s["kernel"] == "sum") & (s["metric"] == "ns_per_elem")]
               ["median"].iloc[0] for f in ("first", "second")}
        self.assertAlmostEqual(c["ratio"], med["second"] / med["first"], places=9)
        self.assertLess(c["ratio"], 0.05)  # 100x faster than a run of the same build
        self.assertLessEqual(c["ci_low"], c["ratio"])
        self.assertGreaterEqual(c["ci_high"], c["ratio"])
        self.assertEqual(c["verdict"], "faster")
        self.assertEqual(c["size"], 16384)

    def test_report_sections(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr)
        self.assertIn('id="flagsets"', self.html)
        self.assertIn('alt="flag-set heatmap" src="data:image/svg+xml;base64,', self.html)
        # Machine box: every flag set with its compiler and flags.
        box = self.html[self.html.index('id="machine"'):self.html.index('id="results"')]
        cflags = self.flags.meta["cflags"]
        for fs in ("first", "second"):
            self.assertIn("<b>%s</b>: gcc-12.2.0 <code>%s</code>" % (fs, cflags), box)

    def test_tables_scroll_in_their_box(self):
        tables = self.html.count("<table")
        self.assertGreater(tables, 3)
        self.assertEqual(self.html.count('<div class="scroll"><table'), tables)
        self.assertRegex(self.html, r"\.scroll \{ overflow-x: auto;")

    def test_one_colour_per_variant(self):
        two = plot.variant_colours(load_run(fixture("run-a"), warn=lambda m: None))
        self.assertNotEqual(two[("sum", "index")], two[("sum", "pointer")])
        colours = plot.variant_colours(self.flags)
        fig = plot.figure(self.flags, "sum", "ns_per_elem")
        by_label = {line.get_label(): line.get_color() for line in fig.axes[0].get_lines()
                    if not line.get_label().startswith("_")}
        # index in both flag sets: the same colour.
        index = {c for label, c in by_label.items() if label.startswith("index")}
        self.assertEqual(len([label for label in by_label if label.startswith("index")]), 2)
        self.assertEqual(index, {colours[("sum", "index")]})

    def test_noise_only_software_counters(self):
        run = load_run(fixture("run-flags"), warn=lambda m: None)
        raw = run.raw
        primary = raw["thread"] <= 0  # thread 0, or the aggregate row (-1)
        # One context switch now and then: noise.
        raw.loc[primary, "context_switches"] = [i % 3 == 0 for i in range(int(primary.sum()))]
        self.assertTrue(report.noise_only(run, "sum", "context_switches_per_elem"))
        # Faults that grow with the work are the kernel's own: kept.
        raw.loc[primary, "page_faults"] = 500
        self.assertFalse(report.noise_only(run, "sum", "page_faults_per_elem"))
        # Hardware counters are never folded.
        self.assertFalse(report.noise_only(run, "sum", "cycles_per_elem"))
        self.assertEqual(re.findall(r'<details class="noise">', self.html), [])


if __name__ == "__main__":
    unittest.main()
