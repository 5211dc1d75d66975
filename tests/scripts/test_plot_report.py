import os
import re
import shutil
import subprocess
import tempfile
import unittest

from helpers import fixture, run_script

COUNTED = ["cycles", "instructions", "l1d_misses", "llc_misses", "branches",
           "branch_misses", "task_clock_ns"]


def chromium():
    for b in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(b)
        if path:
            return path
    return None


class PlotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.rundir = os.path.join(cls.tmp, "run-a")
        shutil.copytree(fixture("run-a"), cls.rundir)
        cls.p = run_script("pmubench/plot.py", cls.rundir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_expected_files(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr)
        got = set(os.listdir(os.path.join(self.rundir, "plots")))
        want = set()
        for fam in ("traversal", "sum"):
            for m in ["ns"] + COUNTED:
                for ext in ("png", "svg"):
                    want.add("%s-%s_per_elem.%s" % (fam, m, ext))
        self.assertEqual(got, want)

    def test_unavailable_and_zero_counters_not_plotted(self):
        files = os.listdir(os.path.join(self.rundir, "plots"))
        self.assertFalse([f for f in files if "l2_misses" in f])
        self.assertFalse([f for f in files if "page_faults" in f])  # all zero

    def test_images_are_real(self):
        import matplotlib.image as mpimg
        import numpy as np
        img = mpimg.imread(os.path.join(self.rundir, "plots", "traversal-ns_per_elem.png"))
        self.assertGreater(img.shape[1], 500)
        colours = np.unique((img[..., :3] * 255).astype(int).reshape(-1, 3), axis=0)
        self.assertGreater(len(colours), 20)

    def test_simulated_label_and_cache_lines(self):
        with open(os.path.join(self.rundir, "plots", "traversal-cycles_per_elem.svg")) as f:
            svg = f.read()
        # SVG text is stored as paths: check the labels on the Figure itself.
        from pmubench import plot
        from pmubench.load import load_run
        run = load_run(self.rundir, warn=lambda m: None)
        fig = plot.figure(run, "traversal", "cycles_per_elem")
        ax = fig.axes[0]
        self.assertIn("(simulated)", ax.get_title(loc="left"))
        self.assertEqual(ax.get_xscale(), "log")
        texts = [t.get_text() for t in ax.texts]
        self.assertIn("L1 32 KiB", texts)
        self.assertIn("L3 32 MiB", texts)  # sanitised size, not 512 MiB
        labels = [l.get_text() for l in ax.get_xticklabels()]
        self.assertTrue(any("KiB" in l for l in labels) and any("MiB" in l for l in labels))
        fig_ns = plot.figure(run, "sum", "ns_per_elem")
        self.assertNotIn("simulated", fig_ns.axes[0].get_title(loc="left"))
        legend = [t.get_text() for t in fig_ns.axes[0].get_legend().get_texts()]
        self.assertIn("index (2 threads)", legend)
        self.assertIn("index (1 thread)", legend)
        self.assertTrue(svg.startswith("<?xml"))

    def test_out_and_format(self):
        out = os.path.join(self.tmp, "o")
        p = run_script("pmubench/plot.py", self.rundir, "--out", out, "--format", "svg",
                       "--metric", "ns_per_elem")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(os.listdir(out)),
                         ["sum-ns_per_elem.svg", "traversal-ns_per_elem.svg"])

    def test_bad_format(self):
        p = run_script("pmubench/plot.py", self.rundir, "--format", "gif")
        self.assertEqual(p.returncode, 2)
        self.assertIn("gif", p.stderr)

    def test_bad_run(self):
        p = run_script("pmubench/plot.py", fixture("run-badheader"))
        self.assertEqual(p.returncode, 2)
        self.assertNotIn("Traceback", p.stderr)
        self.assertIn("size-16384.csv", p.stderr)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.rundir = os.path.join(cls.tmp, "run-a")
        shutil.copytree(fixture("run-a"), cls.rundir)
        cls.p = run_script("pmubench/report.py", cls.rundir)
        cls.path = os.path.join(cls.rundir, "report.html")
        with open(cls.path, encoding="utf-8") as f:
            cls.html = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_written(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr)
        self.assertTrue(self.html.startswith("<!DOCTYPE html>"))

    def test_no_external_urls(self):
        refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', self.html)
        self.assertTrue(refs)
        for r in refs:
            self.assertFalse(r.startswith(("http://", "https://", "//")), r)
        self.assertNotIn("http://", self.html)
        self.assertNotIn("https://", self.html)
        self.assertNotRegex(self.html, r"<link[^>]+stylesheet")
        self.assertNotRegex(self.html, r"<script[^>]+src")

    def test_images_embedded(self):
        imgs = re.findall(r'<img [^>]*src="(data:image/svg\+xml;base64,[A-Za-z0-9+/=]+)"',
                          self.html)
        # 2 families x (ns + 7 counted counters)
        self.assertEqual(len(imgs), 16)

    def test_headline_ratios(self):
        table = self.html[self.html.index('id="headline"'):self.html.index('id="machine"')]
        row = re.search(r"traversal: list_shuffled / array</code>.*?</tr>", table, re.S).group(0)
        vals = re.findall(r"([0-9.]+)\u00d7", row)
        self.assertEqual(vals, ["2.00", "5.00", "8.00"])
        row = re.search(r"sum: index / pointer</code>.*?</tr>", table, re.S).group(0)
        self.assertEqual(re.findall(r"([0-9.]+)\u00d7", row), ["1.00", "1.00", "1.25"])
        row = re.search(r"sum: index_checked / index</code>.*?</tr>", table, re.S).group(0)
        self.assertEqual(re.findall(r"([0-9.]+)\u00d7", row), ["1.20", "1.50", "1.25"])
        # families absent from the run are skipped
        self.assertNotIn("alloc:", table)
        self.assertNotIn("branch:", table)

    def test_machine_and_counters(self):
        h = self.html
        self.assertIn("Intel(R) Xeon(R) Gold 6230", h)
        self.assertIn("512 MiB", h)  # raw L3 as reported by the OS
        self.assertIn("32 MiB", h)   # sanitised
        self.assertIn("-O2 -g -fno-omit-frame-pointer", h)
        self.assertIn("implausible", h)  # harness warning
        counters = h[h.index('id="counters"'):h.index('id="completeness"')]
        self.assertIn("PAPI_L2_DCM not supported by the simulator backend", counters)
        self.assertIn("1 of 12 counters were not counted", counters)
        self.assertIn("complete</span>", h)
        self.assertIn("4m 12s", h)

    def test_incomplete_run(self):
        d = os.path.join(self.tmp, "run-trunc")
        shutil.copytree(fixture("run-trunc"), d)
        p = run_script("pmubench/report.py", d)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "report.html"), encoding="utf-8") as f:
            h = f.read()
        self.assertIn("incomplete", h)
        self.assertIn("dropping truncated last line", h)

    def test_bad_run(self):
        p = run_script("pmubench/report.py", fixture("run-garbage"))
        self.assertEqual(p.returncode, 2)
        self.assertNotIn("Traceback", p.stderr)


@unittest.skipUnless(chromium(), "chromium is not installed (apt-get install -y chromium)")
class ScreenshotTest(unittest.TestCase):
    def test_report_renders(self):
        import matplotlib.image as mpimg
        import numpy as np
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "run-a")
            shutil.copytree(fixture("run-a"), run)
            self.assertEqual(run_script("pmubench/report.py", run).returncode, 0)
            png = os.path.join(d, "shot.png")
            p = run_script("pmubench/screenshot.sh", os.path.join(run, "report.html"), png,
                           env={"WINDOW_SIZE": "1280,2000"})
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertGreater(os.path.getsize(png), 50 * 1024)
            img = mpimg.imread(png)
            self.assertEqual(img.shape[:2], (2000, 1280))
            px = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
            colours = np.unique(px, axis=0)
            self.assertGreater(len(colours), 200)
            # the dark header band is at the top, white page below it
            self.assertLess(img[20, 640, :3].mean(), 0.3)
            self.assertGreater(img[1000, 20, :3].mean(), 0.9)

    def test_direct_chromium_command(self):
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "run-a")
            shutil.copytree(fixture("run-a"), run)
            run_script("pmubench/report.py", run)
            png = os.path.join(d, "x.png")
            prof = os.path.join(d, "profile")
            subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", "--no-first-run", "--user-data-dir=" + prof,
                            "--screenshot=" + png, "--window-size=1280,2000",
                            "file://" + os.path.join(run, "report.html")],
                           capture_output=True, timeout=120)
            self.assertTrue(os.path.exists(png))
            self.assertGreater(os.path.getsize(png), 50 * 1024)


class ScreenshotScriptErrors(unittest.TestCase):
    def test_missing_chromium_exits_2(self):
        with tempfile.TemporaryDirectory() as d:
            report = os.path.join(d, "r.html")
            with open(report, "w") as f:
                f.write("<html></html>")
            p = run_script("pmubench/screenshot.sh", report, os.path.join(d, "o.png"),
                           env={"CHROMIUM": "/nonexistent/chromium"})
            self.assertEqual(p.returncode, 2)
            self.assertIn("apt-get install -y chromium", p.stderr)

    def test_usage(self):
        p = run_script("pmubench/screenshot.sh")
        self.assertEqual(p.returncode, 2)
        self.assertIn("expected 2 arguments", p.stderr)


if __name__ == "__main__":
    unittest.main()
