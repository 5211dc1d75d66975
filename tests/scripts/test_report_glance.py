"""Reports that compare at a glance (issue 15 item 6): the kernel x flag-set
heatmap, one colour per variant, scrolling tables, folded noise plots and
every flag set in the Machine box, on the flag-set fixture (written by the
real binary, tests/fixtures/make_fixtures.py)."""

import os
import re
import shutil
import tempfile
import unittest

from helpers import fixture, run_script

from pmubench import heatmap, plot, report
from pmubench.load import load_run


class GlanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.flags = load_run(fixture("run-flags"), warn=lambda m: None)
        cls.tmp = tempfile.mkdtemp()
        cls.rundir = os.path.join(cls.tmp, "run-flags")
        shutil.copytree(fixture("run-flags"), cls.rundir)
        cls.p = run_script("pmubench/report.py", cls.rundir)
        with open(os.path.join(cls.rundir, "report.html"), encoding="utf-8") as f:
            cls.html = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_heatmap_cells(self):
        raw = self.flags.raw
        levels, rows, labels, cells = heatmap.matrix(
            [("O3-native", raw[raw["flagset"] == "O3-native"])],
            ("O0", raw[raw["flagset"] == "O0"]))
        self.assertEqual(levels, ["L1"])
        self.assertEqual(rows, ["sum/index", "sum/pointer"])
        self.assertEqual(labels, ["O3-native"])
        c = cells["L1"][("sum/index", "O3-native")]
        # The fixture's medians: 0.25 ns/elem at -O3 against 0.75 at -O0.
        self.assertAlmostEqual(c["ratio"], 0.25 / 0.75, delta=0.01)
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
        self.assertRegex(box, r"<b>O0</b>: gcc-12\.2\.0 <code>-O0 -g</code>")
        self.assertRegex(box, r"<b>O3-native</b>: gcc-12\.2\.0 <code>-O3 -march=native -g</code>")

    def test_tables_scroll_in_their_box(self):
        tables = self.html.count("<table")
        self.assertGreater(tables, 3)
        self.assertEqual(self.html.count('<div class="scroll"><table'), tables)
        self.assertRegex(self.html, r"\.scroll \{ overflow-x: auto;")

    def test_one_colour_per_variant(self):
        colours = plot.variant_colours(self.flags)
        self.assertNotEqual(colours[("sum", "index")], colours[("sum", "pointer")])
        fig = plot.figure(self.flags, "sum", "ns_per_elem")
        by_label = {line.get_label(): line.get_color() for line in fig.axes[0].get_lines()
                    if not line.get_label().startswith("_")}
        # index in O0, O3-native, 1 and 2 threads: all the same colour.
        index = {c for label, c in by_label.items() if label.startswith("index")}
        self.assertEqual(len([label for label in by_label if label.startswith("index")]), 4)
        self.assertEqual(index, {colours[("sum", "index")]})

    def test_noise_only_software_counters(self):
        run = load_run(fixture("run-flags"), warn=lambda m: None)
        raw = run.raw
        primary = (raw["thread"].astype(str) == "0") | (raw["thread"].astype(str) == "all")
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
