"""compare_many (what slurm-gather prints): runs grouped by CPU model, and
by microcode, CPU flags and run name where runs of one model differ; each
group against the baseline group with compare.decide's verdicts."""

import json
import math
import os
import shutil
import tempfile
import unittest

from helpers import fixture, run_script, scaled_copy

from pmubench import compare, compare_many
from pmubench.load import load_run


def facts(model="X", microcode="0x1", flags="a b", name="ci"):
    return {"cpu_model": model, "cpu_microcode": microcode,
            "cpu_flags": frozenset(flags.split()), "name": name}


class GroupLabels(unittest.TestCase):
    def labels(self, *fs):
        got = compare_many.group_labels(list(fs))
        return [got[compare_many.group_key(f)] for f in fs]

    def test_one_model_one_label(self):
        self.assertEqual(self.labels(facts(), facts()), ["X", "X"])

    def test_models_differ_only_models_named(self):
        self.assertEqual(self.labels(facts("X"), facts("Y", microcode="0x9")), ["X", "Y"])

    def test_microcode_named_where_it_differs(self):
        self.assertEqual(self.labels(facts(), facts(microcode="0x2")),
                         ["X [microcode 0x1]", "X [microcode 0x2]"])

    def test_flags_beyond_the_common_ones(self):
        self.assertEqual(self.labels(facts(flags="a b"), facts(flags="a b avx512f")),
                         ["X [flags common only]", "X [flags +avx512f]"])

    def test_name_tags_split_a_model(self):
        self.assertEqual(self.labels(facts(name="ci-node1"), facts(name="ci-node3")),
                         ["X [name ci-node1]", "X [name ci-node3]"])


class CompareMany(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pmb-many-")
        cls.dirs = {}
        # b: run-a with list_shuffled 100x slower, under another run name
        for name, factors, meta in (("a", {}, {}), ("a2", {}, {"host": "other"}),
                                    ("b", {("traversal", "list_shuffled"): 100.0},
                                     {"config": "tagged"})):
            d = scaled_copy(fixture("run-a"), os.path.join(cls.tmp, name), factors)
            path = os.path.join(d, "meta.json")
            with open(path) as f:
                m = json.load(f)
            m.update(meta)
            with open(path, "w") as f:
                json.dump(m, f)
            cls.dirs[name] = d

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_same_cpu_same_name_pooled(self):
        rows, models, base = compare_many.run_comparison(
            [self.dirs["a"], self.dirs["a2"]], out=None)
        self.assertEqual(len(models), 1)
        self.assertEqual(models[base]["runs"].__len__(), 2)
        self.assertTrue(all(r["verdict"] in ("baseline", "n/a") for r in rows))

    def test_name_tag_makes_two_groups_with_compare_verdicts(self):
        a, b = self.dirs["a"], self.dirs["b"]
        rows, models, base = compare_many.run_comparison([a, b], out=None)
        self.assertEqual(len(models), 2)
        self.assertTrue(base.endswith("[name fixture-run-a]"), base)
        other = [r for r in rows if r["group"] != base]
        # the same rule, the same data: compare.py's verdict on A vs B
        ga = compare.groups(compare.select(load_run(a), None, "A"), "ns_per_elem")
        gb = compare.groups(compare.select(load_run(b), None, "B"), "ns_per_elem")
        two = {(r["kernel"], r["variant"], r["size_bytes"], r["threads"]): r
               for r in compare.compare(ga, gb, "ns_per_elem", 1.0, 0.05, 1)}
        for r in other:
            key = (r["kernel"], r["variant"], r["size_bytes"], r["threads"])
            if key not in two:
                continue
            self.assertEqual(r["verdict"], two[key]["verdict"], key)
            if not math.isnan(r["ratio"]):
                self.assertAlmostEqual(r["ratio"], two[key]["ratio"], places=9)
        shuffled = [r for r in other if r["variant"] == "list_shuffled"]
        self.assertTrue(shuffled)
        for r in shuffled:
            self.assertEqual(r["verdict"], "slower")
            self.assertAlmostEqual(r["ratio"], 100.0, delta=0.01)
            self.assertLessEqual(r["ratio_ci_low"], 100.0 * 1.0001)
            self.assertLess(r["p_value"], 0.05)

    def test_heatmap_only_with_two_groups(self):
        one = os.path.join(self.tmp, "one.png")
        two = os.path.join(self.tmp, "two.png")
        compare_many.run_comparison([self.dirs["a"], self.dirs["a2"]], out=None,
                                    heatmap_path=one)
        compare_many.run_comparison([self.dirs["a"], self.dirs["b"]], out=None,
                                    heatmap_path=two)
        self.assertFalse(os.path.exists(one))
        with open(two, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_table_and_csv(self):
        out = os.path.join(self.tmp, "many.csv")
        p = run_script("pmubench/compare_many.py", self.dirs["a"], self.dirs["b"],
                       "--csv", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("M2 = %s [name tagged]" % load_run(self.dirs["a"]).meta["cpu_model"],
                      p.stdout)
        self.assertRegex(p.stdout, r"M2/M1 +95% CI +p +verdict")
        self.assertRegex(p.stdout, r"M2 vs M1: \d+ point\(s\): [1-9]\d* slower")
        with open(out) as f:
            head = f.readline().strip().split(",")
        self.assertEqual(head, compare_many.CSV_COLUMNS)


if __name__ == "__main__":
    unittest.main()
