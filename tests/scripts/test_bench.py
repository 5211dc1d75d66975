"""Pure functions of scripts/bench/bench.py: parsing, arithmetic, verdicts, table.
No timing is asserted here: `make bench` is the measurement."""

import csv
import math
import os
import tempfile
import unittest

from helpers import fixture, run_script  # also puts scripts/ on sys.path

from bench import bench

LIKWID_OUT = """\
Running without Marker API. Activate Marker API with -m on commandline.
Allocate: Process running on hwthread 0 (Domain S0) - Vector length 2048/16384 Offset 0 Alignment 512
--------------------------------------------------------------------------------
LIKWID MICRO BENCHMARK
Test: sum
--------------------------------------------------------------------------------
Using 1 work groups
Using 1 threads
--------------------------------------------------------------------------------
Group: 0 Thread 0 Global Thread 0 running on hwthread 1 - Vector length 2048 Offset 0
--------------------------------------------------------------------------------
Cycles:\t\t\t1153740
CPU Clock:\t\t2096019919
Cycle Clock:\t\t2096019919
Time:\t\t\t5.504432e-04 sec
Iterations:\t\t1000
Iterations per thread:\t1000
Inner loop executions:\t256
Size (Byte):\t\t16384
Size per thread:\t16384
Number of Flops:\t2048000
MFlops/s:\t\t3633.44
Data volume (Byte):\t16384000
MByte/s:\t\t29067.48
Cycles per update:\t0.576870
Cycles per cacheline:\t4.614960
Loads per update:\t1
Stores per update:\t0
Load bytes per element:\t8
"""


class Sizes(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(bench.parse_size("16K"), 16384)
        self.assertEqual(bench.parse_size("256M"), 256 << 20)
        self.assertEqual(bench.parse_size("1g"), 1 << 30)
        self.assertEqual(bench.parse_size("4096"), 4096)
        self.assertEqual(bench.parse_size("64MiB"), 64 << 20)
        with self.assertRaises(ValueError):
            bench.parse_size("16Q")

    def test_format_round_trip(self):
        for s in ("1K", "16K", "1M", "64M", "256M", "2G", "1000B"):
            self.assertEqual(bench.fmt_size(bench.parse_size(s.rstrip("B"))), s)


class Likwid(unittest.TestCase):
    def test_parse_fields(self):
        p = bench.parse_likwid(LIKWID_OUT)
        self.assertEqual(p["iterations"], 1000)
        self.assertEqual(p["vector_length"], 2048)
        self.assertEqual(p["hwthread"], 1)  # the group line, not the allocation line
        self.assertEqual(p["size_bytes"], 16384)
        self.assertAlmostEqual(p["time_s"], 5.504432e-4)
        self.assertAlmostEqual(p["mbyte_s"], 29067.48)

    def test_ns_per_elem(self):
        ns = bench.likwid_ns_per_elem(bench.parse_likwid(LIKWID_OUT))
        self.assertAlmostEqual(ns, 5.504432e-4 * 1e9 / (1000 * 2048))

    def test_error_output_gives_nan(self):
        p = bench.parse_likwid("Error: Unknown test case sum_int\n")
        self.assertTrue(math.isnan(bench.likwid_ns_per_elem(p)))


class Verdicts(unittest.TestCase):
    def test_judge(self):
        self.assertEqual(bench.judge(1.19, 1.2), "PASS")
        self.assertEqual(bench.judge(1.2, 1.2), "PASS")
        self.assertEqual(bench.judge(1.21, 1.2), "FAIL")
        self.assertEqual(bench.judge(-0.5, 0.1, absolute=True), "FAIL")
        self.assertEqual(bench.judge(-0.05, 0.1, absolute=True), "PASS")
        self.assertEqual(bench.judge(math.nan, 1), "not measured")
        self.assertEqual(bench.judge(None, 1), "not measured")

    def test_overall_ignores_reference_and_unmeasured(self):
        rows = [{"status": "PASS"}, {"status": "ref"}, {"status": "not measured"}]
        self.assertEqual(bench.overall(rows), "PASS")
        self.assertEqual(bench.overall(rows + [{"status": "FAIL"}]), "FAIL")

    def test_raw_read_cost(self):
        clocks = {"wall_read_cost_ns": 26.0, "ticks_read_cost_ns": 18.0,
                  "counter_start_stop_ns": 6000.0}
        self.assertEqual(bench.raw_read_cost(clocks), 2 * 26 + 2 * 18 + 6000)
        # A missing or null part (JSON null -> None) counts as 0.
        self.assertEqual(bench.raw_read_cost({"wall_read_cost_ns": 20,
                                              "counter_start_stop_ns": None}), 40)

    def test_robust_cv(self):
        self.assertAlmostEqual(bench.robust_cv(2.0, 0.02), 1.4826 * 0.01)
        self.assertTrue(math.isnan(bench.robust_cv(0.0, 1.0)))


class Summary(unittest.TestCase):
    """bench reads runs through pmubench.load: the binary's fixture."""

    def test_metric_rows_keeps_single_thread_ns(self):
        rows = bench.metric_rows(bench.read_summary(fixture("run-2t")))
        self.assertEqual(sorted(rows), [("stack_heap/heap", 16384), ("sum/index", 16384)])
        r = rows[("sum/index", 16384)]
        self.assertEqual((r["threads"], r["thread"], r["metric"]), (1, 0, "ns_per_elem"))
        with open(os.path.join(fixture("run-2t"), "summary.csv"), newline="") as f:
            cv = [x["cv"] for x in csv.DictReader(f)
                  if (x["kernel"], x["variant"], x["threads"], x["thread"], x["metric"])
                  == ("sum", "index", "1", "0", "ns_per_elem")]
        self.assertEqual(["%.6g" % r["cv"]], cv)
        only_sum = bench.metric_rows(bench.read_summary(fixture("run-2t")), kernel="sum")
        self.assertEqual(list(only_sum), [("sum/index", 16384)])


class RawRows(unittest.TestCase):
    @staticmethod
    def row(ns_per_elem, cs, thread=0, ns=1000, kernel="sum", variant="index", size=16384):
        return {"ns_per_elem": ns_per_elem, "context_switches": cs, "thread": thread,
                "ns": ns, "kernel": kernel, "variant": variant, "size_bytes": size}

    def test_preempted_split(self):
        raw = [self.row(1.0, 0), self.row(1.0, 0), self.row(1.0, 0), self.row(9.0, 2)]
        p = bench.preempted_split(raw)
        self.assertEqual((p["preempted"], p["counted"]), (1, 4))
        self.assertEqual(p["cv_clean"], 0.0)
        self.assertEqual(p["median_clean"], 1.0)
        self.assertIn("1/4 samples context-switched", p["text"])

    def test_preempted_split_without_counter(self):
        p = bench.preempted_split([self.row(1.0, math.nan), self.row(2.0, math.nan)])
        self.assertEqual(p["counted"], 0)
        self.assertEqual(p["text"], "context switches not counted")
        self.assertTrue(math.isnan(p["cv_clean"]))

    def test_sampled_seconds_counts_thread_0(self):
        raw = [self.row(1, 0, ns=500000000), self.row(1, 0, ns=250000000),
               self.row(1, 0, thread=1, ns=900000000),
               self.row(1, 0, thread=-1, ns=900000000),
               self.row(1, 0, variant="unroll4", size=4096, ns=1000000000)]
        sec = bench.sampled_seconds(raw)
        self.assertEqual(sec, {("sum/index", 16384): 0.75, ("sum/unroll4", 4096): 1.0})

    def test_read_raw_of_a_run(self):
        raw = bench.read_raw(fixture("run-2t"), 16384)
        self.assertEqual(len(raw), 40)
        self.assertEqual({r["thread"] for r in raw}, {-1, 0, 1})


class Table(unittest.TestCase):
    def test_columns_align(self):
        rows = [{"id": "P1", "check": "overhead", "goal": "<= 1.2x", "measured": "0.9x",
                 "status": "PASS"},
                {"id": "P2", "check": "CV ns/elem sum/index 16K (L1)", "goal": "<= 1 %",
                 "measured": "2.50 %", "status": "FAIL"}]
        lines = bench.format_table(rows).splitlines()
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[0].startswith("ID"))
        col = lines[0].index("result")
        self.assertEqual(lines[2][col:], "PASS")
        self.assertEqual(lines[3][col:], "FAIL")


class CommandLine(unittest.TestCase):
    def test_help(self):
        p = run_script("bench/bench.py", "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--quick", p.stdout)

    def test_missing_binary_is_a_usage_error(self):
        with tempfile.TemporaryDirectory() as out:
            p = run_script("bench/bench.py", "--bin", os.path.join(out, "nope"), "--out", out)
            self.assertEqual(p.returncode, 2)
            self.assertIn("not built", p.stderr)
            self.assertEqual(os.listdir(out), [])  # nothing measured, nothing written


if __name__ == "__main__":
    unittest.main()


class BackgroundLoadTest(unittest.TestCase):
    """P2load's spinner: one busy process per cpu, gone afterwards."""

    def test_keeps_first_cpu_free(self):
        self.assertEqual(bench.load_cpus({0, 1}), [1])
        self.assertEqual(bench.load_cpus({3, 1, 2}), [2, 3])
        self.assertEqual(bench.load_cpus({0}), [])

    def test_spins_and_stops(self):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        with bench.BackgroundLoad([cpu]) as bg:
            p = bg.procs[0]
            self.assertIsNone(p.poll())  # running
            self.assertEqual(os.sched_getaffinity(p.pid), {cpu})
        self.assertIsNotNone(p.poll())  # stopped
