"""pmubench.load, the one reader: the schema comes from the run (or the
binary), the frames are the files as written, bad input is one clear error
or a warning."""

import csv
import io
import json
import os
import tempfile
import unittest
from contextlib import redirect_stderr

from helpers import ROOT, fixture, fixture_copy, run_script

from pmubench import load as pmb_load
from pmubench.load import PmbError, group_rows, load_run, thread_rows


def quiet():
    return lambda msg: None


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class LoadGoodRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.loaded = load_run(fixture("run-2t"), warn=quiet())

    def test_columns_are_the_schema(self):
        run = self.loaded
        with open(os.path.join(fixture("run-2t"), "size-16384.csv")) as f:
            header = f.readline().strip().split(",")
        self.assertEqual(list(run.raw.columns), header)
        self.assertEqual(run.schema.raw_header, header)
        self.assertEqual(run.metrics()[:2], ["ns_per_elem", "tsc_per_elem"])
        self.assertIn("group_ns_per_elem", run.metrics())
        self.assertEqual(run.warnings, [])

    def test_row_count(self):
        # stack_heap/heap and sum/index at 16K, 5 samples: 1 thread (1 row)
        # and 2 threads (2 thread rows + the aggregate row)
        self.assertEqual(len(self.loaded.raw), 2 * 5 * (1 + 3))

    def test_types(self):
        raw = self.loaded.raw
        self.assertEqual(raw["size_bytes"].dtype.kind, "i")
        self.assertEqual(raw["thread"].dtype.kind, "i")
        self.assertEqual(raw["core"].dtype.kind, "i")
        self.assertEqual(raw["ns_per_elem"].dtype.kind, "f")
        self.assertEqual(set(raw["thread"]), {-1, 0, 1})
        self.assertEqual(self.loaded.summary["thread"].dtype.kind, "i")

    def test_discarded_is_the_schema_integer_and_adds_up(self):
        # summary.csv `discarded` (issue 18): typed by the run's schema;
        # the group rows of all points add up to meta.json's total.
        for name in ("run-2t", "run-a"):
            run = load_run(fixture(name), warn=quiet())
            s = run.summary
            self.assertEqual(run.schema.columns["discarded"]["type"], "int")
            self.assertEqual(s["discarded"].dtype.kind, "i")
            g = group_rows(s[s["metric"] == "ns_per_elem"])
            self.assertEqual(int(g["discarded"].sum()),
                             run.meta["preemption"]["samples_discarded"], name)

    def test_group_and_thread_rows(self):
        raw = self.loaded.raw
        g = group_rows(raw)
        self.assertEqual(set(g[g["threads"] == 2]["thread"]), {-1})
        self.assertEqual(set(g[g["threads"] == 1]["thread"]), {0})
        self.assertEqual(len(g), 2 * 5 * 2)
        self.assertEqual(set(thread_rows(raw)["thread"]), {0, 1})

    def test_empty_counter_is_nan_not_zero(self):
        raw = self.loaded.raw
        self.assertTrue(raw["cycles"].isna().all())
        self.assertTrue(raw["cycles_per_elem"].isna().all())
        self.assertTrue(raw["allocs"].notna().all())
        self.assertFalse(self.loaded.counter_info("cycles")["available"])

    def test_summary_is_the_file(self):
        s = self.loaded.summary
        for r in csv_rows(os.path.join(fixture("run-2t"), "summary.csv")):
            if r["metric"] not in ("ns_per_elem", "group_ns_per_elem") or r["samples"] == "0":
                continue
            got = s[(s["kernel"] == r["kernel"]) & (s["variant"] == r["variant"])
                    & (s["threads"] == int(r["threads"])) & (s["thread"] == int(r["thread"]))
                    & (s["metric"] == r["metric"])]
            self.assertEqual(len(got), 1)
            self.assertEqual("%.6g" % got["median"].iloc[0], r["median"])
            self.assertEqual("%.6g" % got["ci_high"].iloc[0], r["ci_high"])

    def test_metric_entries(self):
        run = self.loaded
        self.assertEqual(run.metric("group_ns_per_elem")["normalisation"], "group_elem")
        self.assertEqual(pmb_load.metric_unit(run, "allocs_per_elem"), "allocs/elem")
        self.assertIn("per element of one thread's work",
                      pmb_load.metric_label(run, "ns_per_elem"))
        with self.assertRaises(PmbError) as cm:
            run.metric("nanos")
        self.assertIn("ns_per_elem", str(cm.exception))

    def test_counter_columns(self):
        cols = self.loaded.counter_columns()
        self.assertIn("cycles", cols)
        self.assertIn("allocs", cols)
        self.assertNotIn("ns", cols)

    def test_caches(self):
        caches = self.loaded.caches()
        self.assertIn("L1", caches)
        self.assertGreater(caches["L1"], 0)


def schema_binary(test):
    """build/test/pmubench when it prints a schema, else skip the test."""
    binary = os.path.join(ROOT, "build", "test", "pmubench")
    if not os.access(binary, os.X_OK):
        test.skipTest("build/test/pmubench not built (make test-build)")
    try:
        pmb_load.binary_schema(binary)
    except PmbError as e:
        test.skipTest("build/test/pmubench prints no schema (%s)" % e)
    return binary


class SchemaSource(unittest.TestCase):
    def test_schema_of_the_run_matches_the_binary(self):
        binary = schema_binary(self)
        run = load_run(fixture("run-a"), warn=quiet())
        self.assertEqual(run.schema.d, pmb_load.binary_schema(binary))

    def test_meta_without_schema_uses_the_binary(self):
        binary = schema_binary(self)
        with tempfile.TemporaryDirectory() as d:
            run = fixture_copy("run-a", os.path.join(d, "r"),
                               lambda meta: meta.pop("schema"))
            old = os.environ.get("PMB_BIN")
            os.environ["PMB_BIN"] = binary
            try:
                self.assertEqual(len(load_run(run, warn=quiet()).raw), 50)
                os.environ["PMB_BIN"] = os.path.join(d, "nope")
                p = run_script("pmubench/load.py", run,
                               env={"PMB_BIN": os.path.join(d, "nope"), "PATH": "/usr/bin:/bin"})
            finally:
                if old is None:
                    del os.environ["PMB_BIN"]
                else:
                    os.environ["PMB_BIN"] = old
            # build/test/pmubench is still found when PMB_BIN is wrong
            self.assertEqual(p.returncode, 0, p.stderr)


    def test_schema_1_run_read_from_its_files(self):
        """A run written before pmubench --schema: no schema in meta.json,
        schema_version 1, 'all' on the aggregate row; the loader takes the
        headers from the files and the metrics from summary.csv."""
        with tempfile.TemporaryDirectory() as d:
            def schema_1(meta):
                del meta["schema"]
                meta["schema_version"] = 1
            run = fixture_copy("run-2t", os.path.join(d, "r"), schema_1)
            for name in ("size-16384.csv", "summary.csv"):
                p = os.path.join(run, name)
                with open(p, newline="") as f:
                    rows = list(csv.reader(f))
                col = rows[0].index("thread")
                for r in rows[1:]:
                    r[col] = "all" if r[col] == "-1" else r[col]
                with open(p, "w", newline="") as f:
                    csv.writer(f, lineterminator="\n").writerows(rows)
            loaded = load_run(run, warn=quiet())
            self.assertTrue(loaded.schema.inferred)
            self.assertEqual(set(loaded.raw["thread"]), {-1, 0, 1})
            self.assertTrue(loaded.raw["cycles"].isna().all())  # not counted: empty, NaN
            self.assertEqual(loaded.metrics()[0], "ns_per_elem")
            self.assertEqual(pmb_load.metric_unit(loaded, "allocs_per_elem"), "allocs/elem")
            self.assertEqual(len(group_rows(loaded.raw)), 2 * 5 * 2)


class LoadBadRuns(unittest.TestCase):
    def test_truncated_last_line_dropped_with_warning(self):
        warnings = []
        run = load_run(fixture("run-trunc"), warn=warnings.append)
        # 25 rows at 16 KiB, 24 whole rows at 512 KiB (the last one cut)
        self.assertEqual(len(run.raw), 49)
        self.assertEqual((run.raw["size_bytes"] == 524288).sum(), 24)
        self.assertTrue(any("truncated" in w and "size-524288.csv" in w for w in warnings),
                        warnings)

    def test_truncated_warning_printed_by_cli(self):
        p = run_script("pmubench/load.py", fixture("run-trunc"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("warning", p.stderr)
        self.assertIn("truncated", p.stderr)
        self.assertIn("49 samples", p.stdout)

    def test_missing_summary_names_the_fix(self):
        with tempfile.TemporaryDirectory() as d:
            run = fixture_copy("run-a", os.path.join(d, "r"))
            os.remove(os.path.join(run, "summary.csv"))
            with self.assertRaises(PmbError) as cm:
                load_run(run, warn=quiet())
            self.assertIn("summary.csv missing", str(cm.exception))
            self.assertIn("pmubench --resume", str(cm.exception))

    def test_wrong_header_skips_the_file_naming_the_column(self):
        warnings = []
        run = load_run(fixture("run-badheader"), warn=warnings.append)
        msg = "\n".join(w for w in warnings if w.startswith("skipping size-16384.csv"))
        self.assertIn("missing column(s): ns", msg)
        self.assertIn("nanos", msg)
        self.assertEqual(set(run.raw["size_bytes"]), {524288})

    def test_garbage_line_names_file_and_line(self):
        warnings = []
        load_run(fixture("run-garbage"), warn=warnings.append)
        msg = "\n".join(w for w in warnings if w.startswith("skipping size-16384.csv"))
        self.assertIn("line 6", msg)

    def test_cli_errors_have_no_traceback(self):
        with tempfile.TemporaryDirectory() as d:
            bad = fixture_copy("run-a", os.path.join(d, "bad"))
            with open(os.path.join(bad, "summary.csv"), "w") as f:
                f.write("kernel,nonsense\nx,y\n")
            for path in (bad, fixture("does-not-exist")):
                p = run_script("pmubench/load.py", path)
                self.assertEqual(p.returncode, 2, path)
                self.assertNotIn("Traceback", p.stderr)
                self.assertTrue(p.stderr.strip().splitlines()[-1].startswith("load.py: error: "),
                                p.stderr)

    def test_not_a_run_dir(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "meta.json"), "w") as f:
                json.dump(json.load(open(os.path.join(fixture("run-a"), "meta.json"))), f)
            with self.assertRaises(PmbError) as cm:
                load_run(d, warn=quiet())
            self.assertIn("no size-*.csv", str(cm.exception))

    def test_non_numeric_value(self):
        with tempfile.TemporaryDirectory() as d:
            run = fixture_copy("run-a", os.path.join(d, "r"))
            p = os.path.join(run, "size-16384.csv")
            with open(p) as f:
                lines = f.read().split("\n")
            head = lines[0].split(",")
            fields = lines[3].split(",")
            fields[head.index("ns")] = "12x4"
            lines[3] = ",".join(fields)
            with open(p, "w") as f:
                f.write("\n".join(lines))
            warnings = []
            loaded = load_run(run, warn=warnings.append)
            msg = "\n".join(w for w in warnings if w.startswith("skipping size-16384.csv"))
            self.assertIn("column ns", msg)
            self.assertIn("12x4", msg)
            self.assertEqual(set(loaded.raw["size_bytes"]), {524288})

    def test_bad_meta_json(self):
        with tempfile.TemporaryDirectory() as d:
            run = fixture_copy("run-a", os.path.join(d, "r"))
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
