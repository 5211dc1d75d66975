import csv
import json
import os
import shutil
import tempfile
import unittest

from helpers import fixture, run_script


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def find(rows, kernel, variant, size, threads="1"):
    for r in rows:
        if (r["kernel"], r["variant"], r["size_bytes"], r["threads"]) == \
                (kernel, variant, str(size), threads):
            return r
    raise AssertionError("no row %s/%s/%s/%s" % (kernel, variant, size, threads))


class CompareFixtures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.csv = os.path.join(cls.tmp, "cmp.csv")
        cls.png = os.path.join(cls.tmp, "cmp.png")
        cls.p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"),
                           "--csv", cls.csv, "--plot", cls.png)
        cls.rows = read_csv(cls.csv) if os.path.exists(cls.csv) else []

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_exit_zero(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr)

    def test_all_common_benchmarks_compared(self):
        # 6 variants x 3 sizes single-thread + sum/index 2 threads x 3 sizes
        self.assertEqual(len(self.rows), 21)

    def test_two_times_slower(self):
        for size in (16384, 524288, 8388608):
            r = find(self.rows, "traversal", "list_shuffled", size)
            self.assertAlmostEqual(float(r["ratio"]), 2.00, delta=0.01)
            self.assertLess(float(r["p_value"]), 0.05)
            self.assertEqual(r["verdict"], "slower")
            self.assertLess(float(r["ci_low"]), 2.0)
            self.assertGreater(float(r["ci_high"]), 2.0)
            self.assertGreater(float(r["ci_low"]), 1.9)
            self.assertEqual(int(r["samples_a"]), 11)
            self.assertAlmostEqual(float(r["change_pct"]), 100.0, delta=0.5)

    def test_equal_is_same(self):
        for variant in ("array", "list_ordered"):
            r = find(self.rows, "traversal", variant, 524288)
            self.assertAlmostEqual(float(r["ratio"]), 1.0, places=6)
            self.assertEqual(r["verdict"], "same")
            self.assertGreater(float(r["p_value"]), 0.05)

    def test_small_change_under_threshold_is_same(self):
        r = find(self.rows, "sum", "pointer", 16384)
        self.assertAlmostEqual(float(r["ratio"]), 0.995, delta=0.001)
        self.assertEqual(r["verdict"], "same")

    def test_ten_percent_slower(self):
        r = find(self.rows, "sum", "index_checked", 8388608)
        self.assertAlmostEqual(float(r["ratio"]), 1.10, delta=0.005)
        self.assertEqual(r["verdict"], "slower")

    def test_multithread_compared_on_all_rows(self):
        r = find(self.rows, "sum", "index", 16384, threads="2")
        self.assertEqual(r["verdict"], "same")
        self.assertAlmostEqual(float(r["median_a"]), 0.12625, places=4)

    def test_terminal_table(self):
        out = self.p.stdout
        self.assertIn("traversal/list_shuffled/16KiB", out)
        self.assertIn("sum/index/16KiB/threads:2", out)
        self.assertIn("machine: Intel(R) Xeon(R) Gold 6230", out)
        self.assertNotIn("\033[", out)  # not a tty: no colour
        line = [l for l in out.splitlines() if l.startswith("traversal/list_shuffled/8MiB")][0]
        self.assertIn("2.000", line)
        self.assertIn("slower", line)
        self.assertIn("6 slower, 0 faster, 15 same", out)

    def test_plot_written(self):
        self.assertTrue(os.path.exists(self.png))
        self.assertGreater(os.path.getsize(self.png), 10000)

    def test_deterministic(self):
        csv2 = os.path.join(self.tmp, "again.csv")
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"), "--csv", csv2)
        self.assertEqual(p.returncode, 0)
        with open(self.csv) as a, open(csv2) as b:
            self.assertEqual(a.read(), b.read())


class CompareExitCodes(unittest.TestCase):
    def test_fail_on_regression_50_exits_1(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"),
                       "--fail-on-regression", "50")
        self.assertEqual(p.returncode, 1)
        self.assertIn("regression", p.stderr)
        self.assertIn("traversal/list_shuffled", p.stderr)
        self.assertNotIn("index_checked", p.stderr)  # +10% < 50%

    def test_fail_on_regression_150_exits_0(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"),
                       "--fail-on-regression", "150")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_fail_on_regression_5_catches_ten_percent(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"),
                       "--fail-on-regression", "5")
        self.assertEqual(p.returncode, 1)
        self.assertIn("index_checked", p.stderr)

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
                           "--flagsets", "O3-native,O0", "--csv", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            rows = read_csv(out)
            self.assertEqual(len(rows), 3)
            for r in rows:
                self.assertAlmostEqual(float(r["ratio"]), 3.0, delta=0.01)
                self.assertEqual(r["verdict"], "slower")
            self.assertIn("flag sets differ", p.stdout)

    def test_several_flagsets_need_choice(self):
        p = run_script("pmubench/compare.py", fixture("run-flags"), fixture("run-flags"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("--flagsets", p.stderr)

    def test_unknown_flagset(self):
        p = run_script("pmubench/compare.py", fixture("run-flags"), "--flagsets", "O0,O9")
        self.assertEqual(p.returncode, 2)
        self.assertIn("'O9'", p.stderr)
        self.assertIn("O3-native", p.stderr)

    def test_uncounted_metric_refused(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"),
                       "--metric", "l2_misses_per_elem")
        self.assertEqual(p.returncode, 2)
        self.assertIn("not counted", p.stderr)
        self.assertIn("PAPI_L2_DCM", p.stderr)

    def test_other_metric(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "c.csv")
            p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-b"),
                           "--metric", "cycles_per_elem", "--csv", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            r = find(read_csv(out), "traversal", "list_shuffled", 16384)
            self.assertAlmostEqual(float(r["ratio"]), 2.0, delta=0.01)
            self.assertAlmostEqual(float(r["median_a"]), 3.0, delta=0.01)

    def test_bad_input_no_traceback(self):
        p = run_script("pmubench/compare.py", fixture("run-a"), fixture("run-badheader"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("size-16384.csv", p.stderr)
        self.assertIn("ns", p.stderr)
        self.assertNotIn("Traceback", p.stderr)

    def test_differences_announced(self):
        with tempfile.TemporaryDirectory() as d:
            b = os.path.join(d, "run-b")
            shutil.copytree(fixture("run-b"), b)
            with open(os.path.join(b, "meta.json")) as f:
                meta = json.load(f)
            meta["cpu_model"] = "AMD EPYC 7763 64-Core Processor"
            meta["cflags"] = "-O3 -march=native"
            with open(os.path.join(b, "meta.json"), "w") as f:
                json.dump(meta, f)
            # Rows carry the flags they were built with (schema: cflags).
            for name in os.listdir(b):
                if name.endswith(".csv"):
                    path = os.path.join(b, name)
                    with open(path) as f:
                        text = f.read()
                    with open(path, "w") as f:
                        f.write(text.replace("-O2 -g -fno-omit-frame-pointer",
                                             "-O3 -march=native"))
            p = run_script("pmubench/compare.py", fixture("run-a"), b)
            self.assertEqual(p.returncode, 0, p.stderr)
            lines = p.stdout.splitlines()
            self.assertEqual(sum("machines differ" in l for l in lines), 1)
            self.assertEqual(sum("cflags differ" in l for l in lines), 1)
            self.assertIn("AMD EPYC", p.stdout)

    def test_usage_error(self):
        p = run_script("pmubench/compare.py", fixture("run-a"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("--flagsets", p.stderr)

    def test_help(self):
        p = run_script("pmubench/compare.py", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("--fail-on-regression", p.stdout)
        self.assertIn("Mann-Whitney", p.stdout)


if __name__ == "__main__":
    unittest.main()
