"""make compare (pmubench.compare) on the fixtures the binary wrote: the
figures it shows are summary.csv's, its own arithmetic is the ratio, the
bootstrap CI of the ratio and the U test."""

import csv
import json
import math
import os
import shutil
import tempfile
import unittest

from helpers import fixture, run_script, scaled_copy

from pmubench.load import group_rows, load_run


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def find(rows, kernel, variant, size, threads="1"):
    for r in rows:
        if (r["kernel"], r["variant"], r["size_bytes"], r["threads"]) == \
                (kernel, variant, str(size), threads):
            return r
    raise AssertionError("no row %s/%s/%s/%s" % (kernel, variant, size, threads))


def summary_median(run_dir, kernel, variant, size, threads, metric="ns_per_elem"):
    """The median summary.csv holds for a point's group row (thread -1 when
    threads > 1), as text: what compare must show."""
    with open(os.path.join(run_dir, "summary.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if (r["kernel"], r["variant"], r["size_bytes"], r["threads"], r["metric"]) == \
                    (kernel, variant, str(size), str(threads), metric) and \
                    r["thread"] == ("-1" if threads > 1 else "0"):
                return r["median"]
    raise AssertionError("no summary row")


# run-b': run-a with list_shuffled 100x slower, sum/pointer 0.995x (inside
# the 1 % noise threshold), everything else as measured.
FACTORS = {("traversal", "list_shuffled"): 100.0, ("sum", "pointer"): 0.995}


class CompareScaled(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.b = scaled_copy(fixture("run-a"), os.path.join(cls.tmp, "run-b2"), FACTORS)
        cls.csv = os.path.join(cls.tmp, "cmp.csv")
        cls.png = os.path.join(cls.tmp, "cmp.png")
        cls.p = run_script("pmubench/compare.py", fixture("run-a"), cls.b,
                           "--csv", cls.csv, "--plot", cls.png)
        cls.rows = read_csv(cls.csv) if os.path.exists(cls.csv) else []

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_exit_zero(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr)

    def test_every_common_point_compared(self):
        s = group_rows(load_run(fixture("run-a"), warn=lambda m: None).summary)
        points = s[s["metric"] == "ns_per_elem"][["kernel", "variant", "size_bytes"]]
        self.assertEqual(len(self.rows), len(points.drop_duplicates()))

    def test_medians_are_the_summary_medians(self):
        for r in self.rows:
            self.assertEqual(r["median_a"], summary_median(
                fixture("run-a"), r["kernel"], r["variant"], r["size_bytes"], 1))
            self.assertEqual(r["median_b"], summary_median(
                self.b, r["kernel"], r["variant"], r["size_bytes"], 1))

    def test_hundred_times_slower(self):
        for size in (16384, 524288):
            r = find(self.rows, "traversal", "list_shuffled", size)
            self.assertAlmostEqual(float(r["ratio"]), 100.0, delta=0.01)
            self.assertLess(float(r["p_value"]), 0.05)
            self.assertEqual(r["verdict"], "slower")
            self.assertLessEqual(float(r["ci_low"]), 100.0 * 1.0001)
            self.assertGreaterEqual(float(r["ci_high"]), 100.0 * 0.9999)
            self.assertEqual(int(r["samples_a"]), 5)
            self.assertAlmostEqual(float(r["change_pct"]), 9900.0, delta=1)

    def test_unchanged_is_same(self):
        for kernel, variant in (("traversal", "array"), ("sum", "index")):
            for size in (16384, 524288):
                r = find(self.rows, kernel, variant, size)
                self.assertEqual(float(r["ratio"]), 1.0)
                self.assertEqual(float(r["p_value"]), 1.0)
                self.assertEqual(r["verdict"], "same")

    def test_small_change_under_threshold_is_same(self):
        r = find(self.rows, "sum", "pointer", 16384)
        self.assertAlmostEqual(float(r["ratio"]), 0.995, delta=0.0005)
        self.assertEqual(r["verdict"], "same")

    def test_terminal_table(self):
        out = self.p.stdout
        self.assertIn("traversal/list_shuffled/16KiB", out)
        self.assertIn("metric: ns_per_elem (per element of one thread's work", out)
        self.assertIn("machine: AMD EPYC", out)
        self.assertNotIn("\033[", out)  # not a tty: no colour
        line = [l for l in out.splitlines() if l.startswith("traversal/list_shuffled/512KiB")][0]
        self.assertIn("100.000", line)
        self.assertIn("slower", line)
        self.assertIn("10 tested: 2 slower, 0 faster, 8 same", out)

    def test_plot_written(self):
        self.assertTrue(os.path.exists(self.png))
        self.assertGreater(os.path.getsize(self.png), 10000)

    def test_deterministic(self):
        csv2 = os.path.join(self.tmp, "again.csv")
        p = run_script("pmubench/compare.py", fixture("run-a"), self.b, "--csv", csv2)
        self.assertEqual(p.returncode, 0)
        with open(self.csv) as a, open(csv2) as b:
            self.assertEqual(a.read(), b.read())

    def test_fail_on_regression(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), self.b,
                       "--fail-on-regression", "50")
        self.assertEqual(p.returncode, 1)
        self.assertIn("regression", p.stderr)
        self.assertIn("traversal/list_shuffled", p.stderr)
        self.assertNotIn("sum/pointer", p.stderr)
        p = run_script("pmubench/compare.py", fixture("run-a"), self.b,
                       "--fail-on-regression", "20000")
        self.assertEqual(p.returncode, 0, p.stderr)


class CompareThreads(unittest.TestCase):
    """A 2-thread point is compared on its aggregate row (thread -1), and the
    figure is the one summary.csv has there, for the per-thread metric and
    for the group (throughput) metric alike."""

    def test_aggregate_row_figures(self):
        with tempfile.TemporaryDirectory() as d:
            for metric in ("ns_per_elem", "group_ns_per_elem", "allocs_per_elem"):
                out = os.path.join(d, metric + ".csv")
                p = run_script("pmubench/compare.py", fixture("run-2t"), fixture("run-2t"),
                               "--metric", metric, "--csv", out)
                self.assertEqual(p.returncode, 0, p.stderr)
                rows = read_csv(out)
                self.assertEqual({r["threads"] for r in rows}, {"1", "2"})
                for r in rows:
                    want = summary_median(fixture("run-2t"), r["kernel"], r["variant"],
                                          r["size_bytes"], int(r["threads"]), metric)
                    self.assertEqual(r["median_a"], want, (metric, r))
                    self.assertEqual(r["verdict"], "same")
                    self.assertEqual(float(r["ratio"]), 1.0)
                self.assertIn("metric: %s (" % metric, p.stdout)

    def test_group_metric_is_throughput(self):
        run = load_run(fixture("run-2t"), warn=lambda m: None)
        s = group_rows(run.summary)
        two = s[(s["threads"] == 2) & (s["kernel"] == "stack_heap")]
        per = float(two[two["metric"] == "ns_per_elem"]["median"].iloc[0])
        grp = float(two[two["metric"] == "group_ns_per_elem"]["median"].iloc[0])
        # the harness's numbers, as written: two threads, twice the elements
        self.assertLess(grp, per)
        self.assertEqual(run.metric("group_ns_per_elem")["normalisation"], "group_elem")


class CompareExitCodes(unittest.TestCase):
    def test_non_overlapping_refused(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-c"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("share no kernel/variant/size", p.stderr)
        self.assertIn("copy/borrow", p.stderr)
        self.assertNotIn("Traceback", p.stderr)

    def test_flagsets_in_one_run(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "f.csv")
            p = run_script("pmubench/compare.py", fixture("run-flags"),
                           "--flagsets", "first,second", "--csv", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            rows = read_csv(out)
            self.assertEqual(len(rows), 2)
            run = load_run(fixture("run-flags"), warn=lambda m: None)
            s = run.summary
            for r in rows:
                for col, fs in (("median_a", "first"), ("median_b", "second")):
                    want = s[(s["flagset"] == fs) & (s["kernel"] == r["kernel"])
                             & (s["variant"] == r["variant"]) & (s["metric"] == "ns_per_elem")]
                    self.assertAlmostEqual(float(r[col]), float(want["median"].iloc[0]), places=12)
            self.assertIn("flag sets differ", p.stdout)

    def test_several_flagsets_need_choice(self):
        p = run_script("pmubench/compare.py", fixture("run-flags"), fixture("run-flags"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("--flagsets", p.stderr)

    def test_unknown_flagset(self):
        p = run_script("pmubench/compare.py", fixture("run-flags"), "--flagsets", "first,third")
        self.assertEqual(p.returncode, 2)
        self.assertIn("'third'", p.stderr)
        self.assertIn("second", p.stderr)

    def test_uncounted_metric_refused(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"),
                       "--metric", "l2_misses_per_elem")
        self.assertEqual(p.returncode, 2)
        self.assertIn("not counted", p.stderr)
        self.assertIn("timer backend", p.stderr)  # the reason meta.json gives

    def test_unknown_metric_lists_the_schema(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"),
                       "--metric", "nanoseconds")
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown metric 'nanoseconds'", p.stderr)
        self.assertIn("group_ns_per_elem", p.stderr)

    def test_damaged_size_file_skipped(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-badheader"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("skipping size-16384.csv", p.stderr)
        self.assertIn("nanos", p.stderr)
        self.assertNotIn("Traceback", p.stderr)

    def test_differences_announced(self):
        with tempfile.TemporaryDirectory() as d:
            b = os.path.join(d, "run-b")
            shutil.copytree(fixture("run-b"), b)
            with open(os.path.join(b, "meta.json")) as f:
                meta = json.load(f)
            meta["cpu_model"] = "AMD EPYC 7763 64-Core Processor"
            with open(os.path.join(b, "meta.json"), "w") as f:
                json.dump(meta, f)
            # Rows carry the flags they were built with (schema: cflags).
            for name in os.listdir(b):
                if name.endswith(".csv"):
                    path = os.path.join(b, name)
                    with open(path) as f:
                        text = f.read()
                    with open(path, "w") as f:
                        f.write(text.replace(meta["cflags"], "-O3 -march=native"))
            p = run_script("pmubench/compare.py", fixture("run-a"), b)
            self.assertEqual(p.returncode, 0, p.stderr)
            lines = p.stdout.splitlines()
            self.assertEqual(sum("machines differ" in l for l in lines), 1)
            self.assertEqual(sum("cflags differ" in l for l in lines), 1)
            self.assertIn("AMD EPYC 7763", p.stdout)

    def test_usage_error(self):
        p = run_script("pmubench/compare.py", fixture("run-a"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("--flagsets", p.stderr)

    def test_help(self):
        p = run_script("pmubench/compare.py", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("--fail-on-regression", p.stdout)
        self.assertIn("Mann-Whitney", p.stdout)
        self.assertIn("summary.csv", p.stdout)


class RatioCI(unittest.TestCase):
    def test_scipy_bootstrap_of_the_ratio(self):
        import numpy as np
        from pmubench.compare import ratio_ci
        a = np.array([1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98])
        lo, hi = ratio_ci(a, 2 * a, seed=7)
        self.assertLess(lo, 2.0)
        self.assertGreater(hi, 2.0)
        self.assertEqual((lo, hi), ratio_ci(a, 2 * a, seed=7))  # seeded
        self.assertTrue(all(math.isnan(x) for x in ratio_ci(a[:1], a, seed=1)))


if __name__ == "__main__":
    unittest.main()
