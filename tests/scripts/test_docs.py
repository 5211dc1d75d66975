"""The documentation points only inside the repository, at things that
exist: the links of every Markdown file git tracks (with their #anchors;
a URL or a path that leaves the repository fails), the source paths
README.md and docs/*.md name, and every README*.md mentioned anywhere."""

import glob
import os
import re
import subprocess
import unittest

from helpers import ROOT

DOCS = ["README.md"] + sorted(os.path.relpath(p, ROOT)
                              for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
OUTSIDE = ".." + "/shared"  # spelled apart so this file does not match itself
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
                  r"|^\s*\[[^\]\n]+\]:\s*(\S+)", re.M)
IMAGE = re.compile(r"!\[[^\]\n]*\]\(\s*([^)\s]+)\s*\)")
# Source-tree paths named in the text, e.g. `scripts/pmubench/load.py`;
# generated trees (build/, results/) and patterns (<name>, *, {a,b}) are not.
SOURCE_PATH = re.compile(r"(?<![\w/.<$-])((?:harness|kernels|scripts|tests|configs|docs)"
                         r"/[\w./-]*[\w/])(?![\w*<{$-])")
def tracked_markdown():
    files = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    return sorted(f for f in files if f and not f.startswith("tests/fixtures/"))


DOC_MENTION = re.compile(r"(?<![\w/.-])((?:docs/)?[\w-]+\.md|README[\w-]*\.md)\b")


def read(rel, root=ROOT):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def slug(heading):
    """GitHub's anchor for a heading: lower case, markup and punctuation
    dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: keep their text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(rel, root=ROOT):
    seen, out = {}, set()
    fenced = False
    for line in read(rel, root).splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced or not re.match(r"#{1,6} ", line):
            continue
        s = slug(line.lstrip("#"))
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else "%s-%d" % (s, n))
    return out


def tracked_text_files():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for rel in files:
        if not rel or rel.startswith(("tests/fuzz/corpus/", "tests/fixtures/")):
            continue
        path = os.path.join(ROOT, rel)
        if not os.path.isfile(path):
            continue
        try:
            yield rel, read(rel)
        except UnicodeDecodeError:
            continue


def link_problems(doc, text, root=ROOT):
    """(problems, links checked) for the Markdown text of file doc (a path
    relative to root): each link must be a path inside root that exists,
    with its #anchor when it names a heading.  A URL (http:, file:, ...)
    points outside the repository, and so does a path that leaves it."""
    root = os.path.realpath(root)
    bad = []
    targets = [a or b for a, b in LINK.findall(text)] + IMAGE.findall(text)
    for target in targets:
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
            bad.append("%s: %s points outside the repository (a URL)" % (doc, target))
            continue
        path, _, frag = target.partition("#")
        base = os.path.dirname(os.path.join(root, doc))
        dest = os.path.realpath(os.path.join(base, path)) if path else os.path.join(root, doc)
        if not (dest + os.sep).startswith(root + os.sep):
            bad.append("%s: %s points outside the repository" % (doc, target))
        elif not os.path.exists(dest):
            bad.append("%s: %s does not exist" % (doc, target))
        elif frag and dest.endswith(".md") and frag not in anchors(os.path.relpath(dest, root), root):
            bad.append("%s: %s: no heading with anchor #%s" % (doc, target, frag))
    return bad, len(targets)


class DocLinks(unittest.TestCase):
    def test_docs_exist(self):
        self.assertIn("README.md", DOCS)
        self.assertGreaterEqual(len(DOCS), 5, DOCS)

    def test_relative_links_resolve_inside_the_repository(self):
        bad = []
        checked = 0
        for doc in tracked_markdown():
            problems, n = link_problems(doc, read(doc))
            bad += problems
            checked += n
        self.assertGreater(checked, 10, "README.md and docs/ should link to each other")
        self.assertEqual(bad, [], "\n".join(bad))

    def test_source_paths_named_in_docs_exist(self):
        bad = []
        for doc in DOCS:
            for p in sorted(set(SOURCE_PATH.findall(read(doc)))):
                if not os.path.exists(os.path.join(ROOT, p)):
                    bad.append("%s: names %s, which does not exist" % (doc, p))
        self.assertEqual(bad, [], "\n".join(bad))

    def test_every_readme_mentioned_anywhere_exists(self):
        bad = []
        for rel, text in tracked_text_files():
            for m in sorted(set(DOC_MENTION.findall(text))):
                if m.startswith("README"):
                    if not os.path.exists(os.path.join(ROOT, m)):
                        bad.append("%s: mentions %s, which does not exist" % (rel, m))
        self.assertEqual(bad, [], "\n".join(bad))

    def test_nothing_points_at_the_shared_folder(self):
        bad = [rel for rel, text in tracked_text_files() if OUTSIDE in text]
        self.assertEqual(bad, [], "these files mention %s, outside the repository: %s"
                         % (OUTSIDE, ", ".join(bad)))

    def test_readme_is_short(self):
        n = read("README.md").count("\n")
        self.assertLessEqual(n, 300, "README.md has %d lines; move detail under docs/" % n)

    def test_readme_sample_header_is_the_binarys(self):
        """The CSV sample in README.md is what the binary writes now."""
        import json
        binary = os.environ.get("PMB_BIN") or os.path.join(ROOT, "build", "test", "pmubench")
        if not os.access(binary, os.X_OK):
            self.skipTest("no pmubench binary at %s (make test-build)" % binary)
        p = subprocess.run([binary, "--schema"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        raw = ",".join(json.loads(p.stdout)["headers"]["raw"])
        sample = [l for l in read("README.md").splitlines() if l.startswith("run_id,")]
        self.assertEqual(sample, [raw], "README.md's size-16384.csv sample has another header "
                         "than pmubench --schema; paste a row of a current run")

    def test_readme_lists_every_doc(self):
        readme = read("README.md")
        missing = [d for d in DOCS[1:] if "(%s)" % d not in readme]
        self.assertEqual(missing, [], "README.md's doc index lacks " + ", ".join(missing))


class LinkChecker(unittest.TestCase):
    """The checker itself fails where it must, on a scratch repository."""

    def setUp(self):
        import tempfile
        self.tmp = tempfile.TemporaryDirectory()
        self.root = os.path.join(self.tmp.name, "repo")
        os.makedirs(os.path.join(self.root, "docs"))
        with open(os.path.join(self.root, "docs", "a.md"), "w") as f:
            f.write("# Title\n\n## Some part\n")
        with open(os.path.join(self.root, "README.md"), "w") as f:
            f.write("# Readme\n")
        with open(os.path.join(self.tmp.name, "outside.md"), "w") as f:
            f.write("# Outside\n")
        os.symlink(os.path.join(self.tmp.name, "outside.md"),
                   os.path.join(self.root, "docs", "link.md"))

    def tearDown(self):
        self.tmp.cleanup()

    def problems(self, text):
        return link_problems("README.md", text, self.root)[0]

    def test_good_links_pass(self):
        self.assertEqual(self.problems("[a](docs/a.md) [b](docs/a.md#some-part) [c](#)"
                                       "\n[d]: docs/a.md\n"), [])

    def test_broken_link_fails(self):
        self.assertEqual(len(self.problems("see [x](docs/missing.md)")), 1)
        self.assertIn("does not exist", self.problems("see [x](docs/missing.md)")[0])
        self.assertIn("no heading", self.problems("[x](docs/a.md#nowhere)")[0])
        self.assertEqual(len(self.problems("[r]: docs/nope.md\n")), 1)

    def test_links_outside_the_repository_fail(self):
        for target in ("../outside.md", "docs/../../outside.md", "/etc/hostname",
                       "docs/link.md", "https://example.org/", "file:///etc/hostname"):
            got = self.problems("[x](%s)" % target)
            self.assertEqual(len(got), 1, target)
            self.assertIn("outside the repository", got[0])
        self.assertIn("outside", self.problems("[r]: ../outside.md\n")[0])
        self.assertIn("outside", self.problems("![img](../outside.png)")[0])


class Slug(unittest.TestCase):
    def test_github_rules(self):
        self.assertEqual(slug(" The instrument's own benchmark: `make bench`"),
                         "the-instruments-own-benchmark-make-bench")
        self.assertEqual(slug(" Measured on the development VM (2026-11-25)"),
                         "measured-on-the-development-vm-2026-11-25")


if __name__ == "__main__":
    unittest.main()
