import os
import re
import shutil
import subprocess
import tempfile
import unittest

from helpers import fixture, fixture_copy, run_script

def chromium():
    for b in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(b)
        if path:
            return path
    return None


def quiet(msg):
    pass


class PlotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.rundir = fixture_copy("run-a", os.path.join(cls.tmp, "run-a"))
        cls.p = run_script("pmubench/plot.py", cls.rundir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_expected_files(self):
        # timer backend: time per element and GB/s (from the declared
        # traffic) for every family, allocations where there are some
        # (stack_heap/heap: one per 16 elements); no plot of the declared
        # bytes per element, a constant of each kernel
        self.assertEqual(self.p.returncode, 0, self.p.stderr)
        got = set(os.listdir(os.path.join(self.rundir, "plots")))
        want = {"%s-%s.%s" % (fam, m, ext) for fam in ("traversal", "sum", "stack_heap")
                for m in ("ns_per_elem", "gb_per_s") for ext in ("png", "svg")}
        want |= {"stack_heap-allocs_per_elem.%s" % ext for ext in ("png", "svg")}
        self.assertEqual(got, want)

    def test_images_are_real(self):
        import matplotlib.image as mpimg
        import numpy as np
        img = mpimg.imread(os.path.join(self.rundir, "plots", "traversal-ns_per_elem.png"))
        self.assertGreater(img.shape[1], 500)
        colours = np.unique((img[..., :3] * 255).astype(int).reshape(-1, 3), axis=0)
        self.assertGreater(len(colours), 20)

    def test_lines_are_the_summary_medians(self):
        from pmubench import plot
        from pmubench.load import group_rows, load_run
        run = load_run(self.rundir, warn=quiet)
        fig = plot.figure(run, "traversal", "ns_per_elem")
        s = group_rows(run.summary)
        for line in fig.axes[0].get_lines():
            label = line.get_label()
            if label.startswith("_"):
                continue
            want = s[(s["kernel"] == "traversal") & (s["variant"] == label)
                     & (s["metric"] == "ns_per_elem")].sort_values("size_bytes")
            self.assertEqual(list(line.get_ydata()), list(want["median"]))

    def test_simulated_label_and_cache_lines(self):
        from pmubench import plot
        from pmubench.load import load_run
        run = load_run(fixture("run-sim"), warn=quiet)
        fig = plot.figure(run, "traversal", "l1d_misses_per_elem")
        ax = fig.axes[0]
        self.assertIn("(simulated)", ax.get_title(loc="left"))
        self.assertEqual(ax.get_xscale(), "log")
        texts = [t.get_text() for t in ax.texts]
        l1 = run.caches()["L1"]
        self.assertTrue(any(t.startswith("L1 ") for t in texts), texts)
        self.assertTrue(any(t.endswith(fmt_bytes(l1)) for t in texts), texts)
        fig_ns = plot.figure(run, "traversal", "ns_per_elem")
        self.assertNotIn("simulated", fig_ns.axes[0].get_title(loc="left"))

    def test_aggregate_rows_labelled(self):
        from pmubench import plot
        from pmubench.load import load_run
        run = load_run(fixture("run-2t"), warn=quiet)
        self.assertIn("group_ns_per_elem", plot.available_metrics(run, "sum"))
        self.assertNotIn("group_ns_per_elem",
                         plot.available_metrics(load_run(fixture("run-a"), warn=quiet), "sum"))
        fig = plot.figure(run, "sum", "ns_per_elem")
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        self.assertIn("index (2 threads: aggregate row)", legend)
        self.assertIn("index (1 thread)", legend)
        self.assertIn("per_elem", fig.axes[0].get_ylabel())

    def test_out_and_format(self):
        out = os.path.join(self.tmp, "o")
        p = run_script("pmubench/plot.py", self.rundir, "--out", out, "--format", "svg",
                       "--metric", "ns_per_elem", "-q")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(os.listdir(out)),
                         ["stack_heap-ns_per_elem.svg", "sum-ns_per_elem.svg",
                          "traversal-ns_per_elem.svg"])

    def test_bad_format(self):
        p = run_script("pmubench/plot.py", self.rundir, "--format", "gif")
        self.assertEqual(p.returncode, 2)
        self.assertIn("gif", p.stderr)

    def test_unknown_metric(self):
        p = run_script("pmubench/plot.py", self.rundir, "--metric", "nanos")
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown metric 'nanos'", p.stderr)

    def test_bad_run(self):
        with tempfile.TemporaryDirectory() as d:
            run = fixture_copy("run-a", os.path.join(d, "r"))
            with open(os.path.join(run, "meta.json"), "w") as f:
                f.write("{")
            p = run_script("pmubench/plot.py", run)
            self.assertEqual(p.returncode, 2)
            self.assertNotIn("Traceback", p.stderr)
            self.assertIn("meta.json", p.stderr)


def fmt_bytes(n):
    from pmubench.load import fmt_bytes as f
    return f(n)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.rundir = fixture_copy("run-a", os.path.join(cls.tmp, "run-a"))
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
        # 3 families x (ns_per_elem, gb_per_s) + stack_heap allocs_per_elem
        self.assertEqual(len(imgs), 7)

    def test_headline_ratios_are_ratios_of_summary_medians(self):
        from pmubench.load import load_run
        s = load_run(self.rundir, warn=quiet).summary
        s = s[(s["metric"] == "ns_per_elem") & (s["kernel"] == "traversal")]
        med = {(r.variant, r.size_bytes): r.median for r in s.itertuples()}
        table = self.html[self.html.index('id="headline"'):self.html.index('id="machine"')]
        row = re.search(r"traversal: list_shuffled / array</code>.*?</tr>", table, re.S).group(0)
        got = re.findall(r"([0-9.]+)\u00d7", row)
        want = ["%.2f" % (med[("list_shuffled", z)] / med[("array", z)]) for z in (16384, 524288)]
        self.assertEqual(got, want)
        self.assertNotIn("alloc:", table)  # families absent from the run are skipped

    def test_machine_and_counters(self):
        h = self.html
        self.assertIn("AMD EPYC", h)
        counters = h[h.index('id="counters"'):h.index('id="completeness"')]
        self.assertIn("timer backend: counters not read", counters)
        self.assertIn("11 of 12 counters were not counted", counters)
        self.assertIn("complete</span>", h)

    def test_incomplete_run(self):
        d = fixture_copy("run-trunc", os.path.join(self.tmp, "run-inc"),
                         lambda meta: meta.update(complete=False))
        p = run_script("pmubench/report.py", d)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "report.html"), encoding="utf-8") as f:
            h = f.read()
        self.assertIn("incomplete", h)
        self.assertIn("dropping truncated last line", h)


class ReportThreads(unittest.TestCase):
    """The report shows a 2-thread point's figures as summary.csv has them,
    named as the schema names them."""

    def test_aggregate_and_throughput_rows(self):
        from pmubench.load import load_run
        with tempfile.TemporaryDirectory() as d:
            run = fixture_copy("run-2t", os.path.join(d, "run-2t"))
            p = run_script("pmubench/report.py", run)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(run, "report.html"), encoding="utf-8") as f:
                h = f.read()
            s = load_run(run, warn=quiet).summary
            fam = h[h.index('id="fam-stack_heap"'):]
            fam = fam[:fam.index("</table>")]
            for metric in ("ns_per_elem", "group_ns_per_elem"):
                m = re.search(r"2 threads, aggregate row \(thread -1\): <code>%s</code>"
                              r".*?<td class=\"num\">([0-9.]+)<br>" % metric, fam, re.S)
                self.assertIsNotNone(m, metric)
                want = s[(s["kernel"] == "stack_heap") & (s["threads"] == 2)
                         & (s["thread"] == -1) & (s["metric"] == metric)]["median"].iloc[0]
                self.assertAlmostEqual(float(m.group(1)), want, delta=abs(want) * 5e-4)
            self.assertIn("inverse throughput", h)


@unittest.skipUnless(chromium(), "chromium is not installed (apt-get install -y chromium)")
class ScreenshotTest(unittest.TestCase):
    def test_report_renders(self):
        import matplotlib.image as mpimg
        import numpy as np
        with tempfile.TemporaryDirectory() as d:
            run = fixture_copy("run-a", os.path.join(d, "run-a"))
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
            run = fixture_copy("run-a", os.path.join(d, "run-a"))
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
