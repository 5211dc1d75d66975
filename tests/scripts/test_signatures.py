"""The signature table (scripts/pmubench/signatures.py) and `make validate`'s checker
(scripts/pmubench/validate.py) without running the simulator: table coverage, the
check semantics, and validate's verdicts on a synthetic run made on a
machine without a PMU.  The simulator itself is exercised by
tests/e2e/test_signatures.sh."""

import csv
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import helpers  # noqa: F401  (puts scripts/ on sys.path)
from pmubench import signatures as S

ROOT = helpers.ROOT
REASON = "PAPI_TOT_INS: Component containing event is disabled; VM without PMU"


class TestTable(unittest.TestCase):
    def test_every_kernel_regime_column_has_a_signature(self):
        have = {(s.kernel, s.regime, s.column) for s in S.SIGNATURES}
        missing = [(k, r, c) for k in S.KERNELS for r in S.REGIMES for c in S.COLUMNS
                   if (k, r, c) not in have]
        self.assertEqual(missing, [])

    def test_kernels_match_the_binary(self):
        binary = os.path.join(ROOT, os.environ.get("PMB_BIN", "build/test/pmubench"))
        if not os.access(binary, os.X_OK):
            self.skipTest("%s not built" % binary)
        out = subprocess.run([binary, "--list"], capture_output=True, text=True, timeout=60).stdout
        listed = set(re.findall(r"^  (\w+/\w+)\s", out, re.M))
        self.assertEqual(listed, set(S.KERNELS))

    def test_allocs_are_exact_and_checked_everywhere(self):
        for s in S.SIGNATURES:
            if s.column == "allocs":
                self.assertEqual(s.mode, "exact")
                self.assertIsNotNone(s.hw_tolerance, S.sig_name(s))
        f = S.ALLOCS["stack_heap/heap"]
        self.assertAlmostEqual(f(33), 3 / 33)
        self.assertAlmostEqual(S.ALLOCS["alloc/best"](170), 3 / 170)

    def test_relations_name_known_kernels(self):
        for r in S.RELATIONS:
            self.assertIn(r.lhs[0], S.KERNELS)
            self.assertIn(r.rhs[0], S.KERNELS)
            self.assertIn(r.lhs[1], S.COLUMNS)

    def test_sim_sizes_are_one_per_regime(self):
        self.assertEqual(sorted(S.SIM_SIZES), sorted(S.REGIMES))
        self.assertLess(S.SIM_SIZES["l1"], 32768)
        ll = int(S.SIM_ENV["PMB_SIM_LL"].split(",")[0])
        self.assertLess(32768, S.SIM_SIZES["mid"])
        self.assertLess(S.SIM_SIZES["mid"], ll)
        self.assertGreaterEqual(S.SIM_SIZES["beyond"], 4 * ll)


class TestChecks(unittest.TestCase):
    def sig(self, **kw):
        base = dict(kernel="sum/index", regime="mid", column="l1d_misses", mode="approx",
                    expect=0.125, tol=0.01, hw_tolerance=0.05, hw_expect=None, why="")
        base.update(kw)
        return S.Sig(**base)

    def test_approx_uses_hw_tolerance_on_hardware(self):
        s = self.sig()
        self.assertTrue(S.check_sig(s, 0.13, 1000)[0])
        self.assertFalse(S.check_sig(s, 0.16, 1000)[0])
        self.assertTrue(S.check_sig(s, 0.16, 1000, hw=True)[0])

    def test_hw_expect_overrides_on_hardware_only(self):
        s = self.sig(expect=0.125, hw_expect=0.0, tol=0.01, hw_tolerance=0.02)
        self.assertTrue(S.check_sig(s, 0.12, 10)[0])
        self.assertFalse(S.check_sig(s, 0.12, 10, hw=True)[0])
        self.assertTrue(S.check_sig(s, 0.01, 10, hw=True)[0])

    def test_exact_and_per_run(self):
        s = self.sig(column="allocs", mode="exact", expect=lambda n: (n + 1) / n)
        self.assertTrue(S.check_sig(s, 1.00293, 341)[0])
        self.assertFalse(S.check_sig(s, 1.0, 341)[0])
        s = self.sig(mode="per_run_max", expect=0.0, tol=64)
        self.assertTrue(S.check_sig(s, 0.0723, 512)[0])   # 37 per run
        self.assertFalse(S.check_sig(s, 0.2, 512)[0])

    def test_relations(self):
        r = S.Rel("beyond", ("traversal/list_shuffled", "llc_misses"), "gt", 3,
                  ("traversal/list_ordered", "llc_misses"), 0.0, 10, None, "")
        self.assertTrue(S.check_rel(r, 0.81, 0.25)[0])
        self.assertFalse(S.check_rel(r, 0.81, 0.25, hw=True)[0])
        self.assertTrue(S.check_rel(r, 0.9, 0.01, hw=True)[0])


def write_run(d, allocs_override=None):
    """A papi run on a machine without a PMU: counters empty, allocs exact.
    The files are in the binary's dialect: meta.json and the schema (so the
    headers) from the run-a fixture, one of its size files, and a
    summary.csv whose rows carry the values validate checks."""
    with open(os.path.join(helpers.fixture("run-a"), "meta.json")) as f:
        meta = json.load(f)
    counters = {c: {"requested": True, "available": False, "event": "", "pass": -1,
                    "reason": REASON}
                for c in ("cycles", "instructions", "l1d_misses", "l2_misses", "llc_misses",
                          "branches", "branch_misses")}
    meta.update({"backend": "papi", "compiler": "gcc-12.2.0", "cflags": "-O2 -g",
                 "caches": {"L1": {"size": 32768}, "L2": {"size": 1 << 20},
                            "L3": {"size": 8 << 20}},
                 "llc_level": 3, "counters": counters})
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f)
    shutil.copy(os.path.join(helpers.fixture("run-a"), "size-16384.csv"), d)
    header = meta["schema"]["headers"]["summary"]
    sizes = ((8192, "L1"), (1 << 20, "L2"), (32 << 20, "DRAM"))
    bpe = {"alloc": 24, "copy": 33, "traversal": 16}
    with open(os.path.join(d, "summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, restval="", lineterminator="\n")
        w.writeheader()
        for k in S.KERNELS:
            fam, var = k.split("/")
            for size, level in sizes:
                n = size // bpe.get(fam, 8)
                for c in S.COLUMNS:
                    if c == "allocs":
                        v = S.ALLOCS[k](n)
                        if allocs_override and k == allocs_override:
                            v += 1
                        med = "%.6g" % v
                    else:
                        med = ""
                    w.writerow({"run_id": "r", "flagset": "default", "compiler": "gcc-12.2.0",
                                "kernel": fam, "variant": var, "size_bytes": size,
                                "n_elems": n, "cache_level": level, "threads": 1,
                                "thread": 0, "metric": c + "_per_elem", "unit": "events",
                                "samples": 5 if med else 0, "median": med, "valid": 1})


class TestValidate(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pmb-validate-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def validate(self):
        return helpers.run_script("pmubench/validate.py", self.dir, timeout=60)

    def test_no_pmu_reports_not_measured_and_checks_allocs(self):
        write_run(self.dir)
        p = self.validate()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("not measured   sum/index mid l1d_misses: counter unavailable: " + REASON,
                      p.stdout)
        self.assertIn("holds          alloc/bad beyond allocs", p.stdout)
        self.assertNotIn("does not hold ", p.stdout.replace("0 do not hold", ""))
        n_allocs = sum(1 for s in S.SIGNATURES if s.column == "allocs")
        self.assertIn("validate: %d hold, 0 do not hold" % n_allocs, p.stdout)

    def test_wrong_allocs_fail(self):
        write_run(self.dir, allocs_override="alloc/best")
        p = self.validate()
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("does not hold  alloc/best l1 allocs", p.stdout)

    def test_missing_run_is_an_error(self):
        p = helpers.run_script("pmubench/validate.py", os.path.join(self.dir, "nope"), timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot read run", p.stderr)


if __name__ == "__main__":
    unittest.main()
