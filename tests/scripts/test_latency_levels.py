"""make validate's checks of the per-level latency table (meta.json
latency_levels, written by the harness): L1 a few cycles, monotonic,
DRAM >= 50 ns.  Synthetic tables; the detection itself is unit-tested in C
(tests/test_latency.c)."""

import unittest

import helpers  # noqa: F401  (puts scripts/ on sys.path)
from pmubench import validate as V


def meta(*levels):
    return {"latency_levels": {"levels": [
        dict(level=n, found=True, ns=ns, ticks=t) for n, ns, t in levels]}}


GOOD = (("L1", 1.1, 2.9), ("L2", 3.9, 10.1), ("L3", 16.0, 41.0), ("DRAM", 110.0, 285.0))


def states(m):
    return {name: state for state, name, _ in V.latency_checks(m)}


class LatencyChecks(unittest.TestCase):
    def test_plausible_table_holds(self):
        s = states(meta(*GOOD))
        self.assertEqual(set(s.values()), {"holds"}, s)
        self.assertEqual(len(s), 5)  # L1, three steps, DRAM

    def test_slow_l1_does_not_hold(self):
        s = states(meta(("L1", 5.0, 13.0), *GOOD[1:]))
        self.assertEqual(s["latency L1"], "does not hold")

    def test_not_monotonic_does_not_hold(self):
        s = states(meta(GOOD[0], ("L2", 20.0, 52.0), GOOD[2], GOOD[3]))
        self.assertEqual(s["latency L2 < L3"], "does not hold")

    def test_fast_dram_does_not_hold(self):
        s = states(meta(*GOOD[:3], ("DRAM", 30.0, 78.0)))
        self.assertEqual(s["latency DRAM"], "does not hold")

    def test_missing_table_is_not_measured(self):
        self.assertEqual([c[0] for c in V.latency_checks({})], ["not measured"])
        s = states(meta(*GOOD[:3]))
        self.assertEqual(s["latency DRAM"], "not measured")


if __name__ == "__main__":
    unittest.main()


class ReportSection(unittest.TestCase):
    """report.py shows the harness's table as it is (no recomputation)."""

    def test_section_shows_levels(self):
        from pmubench import report

        class Run:
            meta = {"latency_levels": {
                "kernel": "latency/chase", "text": "L1 1.1 ns (2.9 ticks), DRAM 110 ns",
                "rule": "flat runs", "levels": [
                    dict(level="L1", found=True, ns=1.1, ticks=2.9, size_lo=8192,
                         size_hi=16384, cache_size_hwloc=32768, single_point=False),
                    dict(level="L2", found=False),
                    dict(level="DRAM", found=True, ns=110.0, ticks=None,
                         size_lo=1 << 28, size_hi=1 << 28, cache_size_hwloc=0,
                         single_point=True)]}}
        html = report.section_latency(Run())
        self.assertIn('id="latency"', html)
        self.assertIn("L1 1.1 ns (2.9 ticks), DRAM 110 ns", html)
        self.assertIn("8 KiB\u201316 KiB", html)
        self.assertIn("single point", html)
        self.assertIn("no point in this level", html)

    def test_no_table_no_section(self):
        from pmubench import report

        class Run:
            meta = {}
        self.assertEqual(report.section_latency(Run()), "")
