import io
import os
import shutil
import tempfile
import unittest
from contextlib import redirect_stderr

from helpers import fixture, run_script

from pmubench import load as pmb_load
from pmubench.load import PmbError, load_run


def quiet():
    return lambda msg: None


class LoadGoodRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.loaded = load_run(fixture("run-a"), warn=quiet())

    def test_raw_shape_and_columns(self):
        raw = self.loaded.raw
        self.assertEqual(list(raw.columns), pmb_load.RAW_COLUMNS)
        # 6 single-thread variants x 3 sizes x 11 reps + sum/index 2 threads
        # x 3 rows (0, 1, all) x 3 sizes x 11 reps
        self.assertEqual(len(raw), 6 * 3 * 11 + 3 * 3 * 11)
        self.assertEqual(sorted(raw["size_bytes"].unique()), [16384, 524288, 8388608])
        self.assertEqual(self.loaded.warnings, [])

    def test_types(self):
        raw = self.loaded.raw
        self.assertEqual(raw["size_bytes"].dtype.kind, "i")
        self.assertEqual(raw["ns"].dtype.kind, "f")
        self.assertEqual(set(raw["thread"]), {"0", "1", "all"})

    def test_empty_counter_is_nan_not_zero(self):
        raw = self.loaded.raw
        self.assertTrue(raw["l2_misses"].isna().all())
        self.assertTrue(raw["cycles"].notna().all())
        self.assertFalse(self.loaded.counter_info("l2_misses")["available"])

    def test_summary_matches_raw(self):
        s = self.loaded.summary
        row = s[(s["kernel"] == "traversal") & (s["variant"] == "list_shuffled")
                & (s["size_bytes"] == 8388608) & (s["metric"] == "ns_per_elem")]
        self.assertEqual(len(row), 1)
        self.assertAlmostEqual(row["median"].iloc[0], 6.40, places=6)
        self.assertEqual(row["samples"].iloc[0], 11)
        l2 = s[s["metric"] == "l2_misses_per_elem"]
        self.assertTrue((l2["samples"] == 0).all())
        self.assertTrue(l2["median"].isna().all())

    def test_caches_sanitised(self):
        self.assertEqual(self.loaded.caches(), {"L1": 32768, "L2": 1048576, "L3": 33554432})

    def test_metric_values(self):
        raw = pmb_load.primary_rows(self.loaded.raw)
        v = pmb_load.metric_values(raw, "cycles_per_elem")
        # fixture: cycles = 3 * ns
        self.assertAlmostEqual((v / raw["ns_per_elem"]).median(), 3.0, places=4)


class LoadBadRuns(unittest.TestCase):
    def test_truncated_last_line_dropped_with_warning(self):
        warnings = []
        run = load_run(fixture("run-trunc"), warn=warnings.append)
        # 11 samples at 16 KiB, 10 whole samples at 512 KiB (11th cut)
        self.assertEqual(len(run.raw), 21)
        self.assertEqual((run.raw["size_bytes"] == 524288).sum(), 10)
        self.assertTrue(any("truncated" in w and "size-524288.csv" in w for w in warnings),
                        warnings)
        # summary.csv is missing: recomputed from raw, with a warning
        self.assertTrue(any("summary.csv missing" in w for w in warnings))
        s = run.summary
        m = s[(s["size_bytes"] == 16384) & (s["metric"] == "ns_per_elem")]["median"]
        self.assertAlmostEqual(float(m.iloc[0]), 0.5, places=6)

    def test_truncated_warning_printed_by_cli(self):
        p = run_script("pmubench/load.py", fixture("run-trunc"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("warning", p.stderr)
        self.assertIn("truncated", p.stderr)
        self.assertIn("21 samples", p.stdout)

    def test_wrong_header_names_file_and_column(self):
        with self.assertRaises(PmbError) as cm:
            load_run(fixture("run-badheader"), warn=quiet())
        msg = str(cm.exception)
        self.assertIn("size-16384.csv", msg)
        self.assertIn("missing column(s): ns", msg)
        self.assertIn("nanos", msg)

    def test_garbage_line_names_file_and_line(self):
        with self.assertRaises(PmbError) as cm:
            load_run(fixture("run-garbage"), warn=quiet())
        msg = str(cm.exception)
        self.assertIn("size-16384.csv", msg)
        self.assertIn("line 6", msg)

    def test_cli_errors_have_no_traceback(self):
        for name in ("run-badheader", "run-garbage", "does-not-exist"):
            p = run_script("pmubench/load.py", fixture(name))
            self.assertEqual(p.returncode, 2, name)
            self.assertNotIn("Traceback", p.stderr)
            # warnings (a damaged size file skipped) may come first
            self.assertTrue(p.stderr.strip().splitlines()[-1].startswith("load.py: error: "),
                            p.stderr)

    def test_not_a_run_dir(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(PmbError) as cm:
                load_run(d, warn=quiet())
            self.assertIn("no size-*.csv", str(cm.exception))

    def test_non_numeric_value(self):
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "r")
            shutil.copytree(fixture("run-trunc"), run)
            p = os.path.join(run, "size-16384.csv")
            with open(p) as f:
                lines = f.read().split("\n")
            fields = lines[3].split(",")
            fields[14] = "12x4"  # ns
            lines[3] = ",".join(fields)
            with open(p, "w") as f:
                f.write("\n".join(lines))
            # The damaged size file is skipped, the warning says why; the
            # other sizes load.
            warnings = []
            loaded = load_run(run, warn=warnings.append)
            msg = "\n".join(w for w in warnings if w.startswith("skipping size-16384.csv"))
            self.assertIn("column ns", msg)
            self.assertIn("12x4", msg)
            self.assertEqual(set(loaded.raw["size_bytes"]), {524288})

    def test_bad_meta_json(self):
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "r")
            shutil.copytree(fixture("run-trunc"), run)
            with open(os.path.join(run, "meta.json"), "w") as f:
                f.write("{not json")
            with self.assertRaises(PmbError) as cm:
                load_run(run, warn=quiet())
            self.assertIn("meta.json", str(cm.exception))

    def test_default_warning_goes_to_stderr(self):
        buf = io.StringIO()
        with redirect_stderr(buf):
            load_run(fixture("run-trunc"))
        self.assertIn("warning: size-524288.csv: dropping truncated last line", buf.getvalue())


if __name__ == "__main__":
    unittest.main()
