#!/usr/bin/python3
"""folded.py — the Python half of `make profile` and `make heap`.

Standard library only (Debian's python3), so it runs wherever the harness
builds.  Subcommands:

  fold [PERF_SCRIPT_TXT]          `perf script -F comm,ip,sym,dso` output (file or
                                  stdin) -> folded stacks on stdout, one line per
                                  distinct stack: "comm;root;...;leaf COUNT"
                                  (Brendan Gregg's stackcollapse format)
  html FOLDED TEMPLATE OUT [--title T]
                                  folded stacks -> flamegraph HTML: the vendored
                                  d3-flame-graph template with the stacks inlined
                                  as JSON (one file, no network)
  top REPORT_TXT [N]              the first N entries (default 5) of a
                                  `perf report --stdio --no-children -g none` file
  runfn FAMILY/VARIANT [KERNELS_DIR]
                                  name of the variant's run function, read from
                                  kernels/<family>.c (e.g. alloc/bad -> alloc_bad_run)
  dhat MAIN_RUN_DIR BASE_RUN_DIR RUNFN
                                  DHAT's figures (each dir's dhat.out and
                                  dhat-trace.log) next to the counting allocator's
                                  (size-*.csv); exit 0 when they agree, 1 when not
"""
import csv
import glob
import html
import json
import os
import re
import sys


# --- fold ---------------------------------------------------------------------

OFFSET = re.compile(r"\+0x[0-9a-f]+$")


def frame_name(rest):
    """'traversal_list_run+0x14 (/path/pmubench)' -> 'traversal_list_run'.

    Kernel frames get the `_[k]` suffix stackcollapse-perf.pl gives them, so
    they read (and colour) apart from user code; unknown symbols are named
    after their object, as stackcollapse-perf does."""
    dso = ""
    m = re.match(r"^(.*?)\s+\(([^()]*)\)$", rest)
    if m:
        rest, dso = m.group(1), m.group(2)
    sym = OFFSET.sub("", rest.strip())
    if sym in ("", "[unknown]"):
        sym = "[%s]" % os.path.basename(dso) if dso and dso != "[unknown]" else "[unknown]"
    if dso.startswith("[kernel") or dso.endswith(".ko"):
        sym += "_[k]"
    # ';' separates frames and ' ' the count: neither may appear in a name.
    return sym.replace(";", ":").replace(" ", "_")


def fold(lines):
    counts = {}
    comm, frames = None, []

    def flush():
        if comm is not None:
            key = ";".join([comm] + frames[::-1])
            counts[key] = counts.get(key, 0) + 1

    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            comm, frames = None, []
        elif line[0] in " \t":
            parts = line.strip().split(None, 1)  # address, symbol (dso)
            frames.append(frame_name(parts[1] if len(parts) > 1 else "[unknown]"))
        else:
            flush()  # a sample without a blank line before it
            # `-F comm,...`: the header line is the command name, which may
            # itself contain spaces; keep it whole as the root frame.
            comm, frames = line.strip().replace(";", ":").replace(" ", "_") or "[unknown]", []
    flush()
    return counts


def cmd_fold(args):
    src = open(args[0]) if args else sys.stdin
    for stack, n in sorted(fold(src).items()):
        print("%s %d" % (stack, n))
    return 0


# --- html ---------------------------------------------------------------------

def folded_to_tree(path):
    """The folded stacks as d3-flame-graph's tree.  The template draws with
    selfValue(true): a node's width is its own value plus its children's,
    so each stack's count goes to its leaf only (self time); adding it to
    every frame on the way would count parents twice."""
    root = {"name": "all", "value": 0, "children": []}
    index = {id(root): {}}
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, n = line.rpartition(" ")
        n = int(n)
        node = root
        for name in stack.split(";"):
            kids = index[id(node)]
            child = kids.get(name)
            if child is None:
                child = {"name": name, "value": 0, "children": []}
                node["children"].append(child)
                kids[name] = child
                index[id(child)] = {}
            node = child
        node["value"] += n
    return root


def cmd_html(args):
    title = "pmubench profile"
    if "--title" in args:
        i = args.index("--title")
        title = args[i + 1]
        args = args[:i] + args[i + 2:]
    folded, template, out = args
    tree = folded_to_tree(folded)
    page = open(template).read()
    for marker in ("/** @flamegraph_json **/", "/** @options_json **/"):
        if marker not in page:
            sys.exit("folded.py: %s has no %s marker: not the d3-flame-graph template" % (template, marker))
    # '</' inside a <script> would end it early; JSON allows '<\/'.
    stacks = json.dumps(tree, separators=(",", ":")).replace("</", "<\\/")
    options = json.dumps({"colorscheme": "blue-green", "context": title}).replace("</", "<\\/")
    page = page.replace("/** @flamegraph_json **/", stacks, 1)
    page = page.replace("/** @options_json **/", options, 1)
    page = page.replace("<title>Flame Graph</title>", "<title>%s</title>" % html.escape(title), 1)
    with open(out, "w") as f:
        f.write(page)
    return 0


# --- top ----------------------------------------------------------------------

def report_entries(path):
    """(percent, symbol) for each entry of a flat perf report, in order."""
    out = []
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"^\s*([0-9.]+)%\s+.*?\[[.kgu]\]\s+(.*?)\s*$", line)
        if m:
            out.append((float(m.group(1)), m.group(2)))
    return out


def cmd_top(args):
    n = int(args[1]) if len(args) > 1 else 5
    for pct, sym in report_entries(args[0])[:n]:
        print("%6.2f%%  %s" % (pct, sym))
    return 0


# --- runfn --------------------------------------------------------------------

def run_function(kernel, kernels_dir="kernels"):
    family, _, variant = kernel.partition("/")
    path = os.path.join(kernels_dir, family + ".c")
    try:
        src = open(path).read()
    except OSError:
        return None
    # Plain initializers: { .family = "alloc", .variant = "bad", ... .run = alloc_bad_run, ... }
    for block in re.findall(r"\{[^{}]*\}", src):
        if re.search(r'\.variant\s*=\s*"%s"' % re.escape(variant), block):
            m = re.search(r"\.run\s*=\s*(\w+)", block)
            if m:
                return m.group(1)
    # Macro initializers: #define SUM_VARIANT(name, ...) ... .run = sum_##name##_run
    for macro, param, body in re.findall(
            r"#define\s+(\w+)\(\s*(\w+)[^)]*\)((?:[^\n]*\\\n)*[^\n]*)", src):
        m = re.search(r"\.run\s*=\s*([\w#]+)", body)
        if m and re.search(r"\b%s\(\s*%s\s*," % (macro, re.escape(variant)), src):
            return m.group(1).replace("##%s##" % param, variant).replace(
                "##" + param, variant).replace(param + "##", variant)
    return None


def cmd_runfn(args):
    fn = run_function(args[0], args[1] if len(args) > 1 else "kernels")
    if not fn:
        print("folded.py: no run function found for %s in kernels/" % args[0], file=sys.stderr)
        return 1
    print(fn)
    return 0


# --- dhat ---------------------------------------------------------------------

def fmt(n):
    return "{:,}".format(n)


def csv_rows(run_dir):
    rows = []
    for path in sorted(glob.glob(os.path.join(run_dir, "size-*.csv"))):
        with open(path, newline="") as f:
            rows += [r for r in csv.DictReader(f) if r.get("thread") not in ("-1", "")]
    return rows


TRACE_REALLOC = re.compile(r"^--\d+-- realloc\((0x[0-9A-Fa-f]+),(\d+)\)")


def trace_reallocs(path):
    """(realloc(NULL, n) calls, reallocs of a live block) in valgrind's
    --trace-malloc=yes log.  DHAT counts both as new blocks; the counting
    allocator counts the first as an alloc, the second as a realloc."""
    null = live = 0
    for line in open(path, errors="replace"):
        m = TRACE_REALLOC.match(line)
        if m:
            if int(m.group(1), 16) == 0:
                null += 1
            elif int(m.group(2)) > 0:
                live += 1
    return null, live


class HeapRun:
    def __init__(self, run_dir, runfn):
        self.dir = run_dir
        d = json.load(open(os.path.join(run_dir, "dhat.out")))
        ftbl, pps = d["ftbl"], d["pps"]
        # A frame reads "0x10A2B3: alloc_bad_run (alloc.c:180)".  The
        # measured passes are the run function called from measure() (its
        # frame is there when inlined too: valgrind reads inline info);
        # warm-up calls it from worker_main.
        run = {i for i, f in enumerate(ftbl) if re.search(r":\s%s\s\(" % re.escape(runfn), f)}
        meas = {i for i, f in enumerate(ftbl) if re.search(r":\smeasure\s\(", f)}
        wrap_re = {i for i, f in enumerate(ftbl) if re.search(r":\s__wrap_realloc\s\(", f)}

        def measured(fs):
            for k, i in enumerate(fs):
                if i in run:
                    return any(j in meas for j in fs[k + 1:])
            return False

        self.all = pps
        self.window = [pp for pp in pps if measured(pp["fs"])]
        # Realloc call sites: the executable's code reaches realloc only
        # through the counting allocator's __wrap_realloc.
        self.window_re = [pp for pp in self.window if wrap_re.intersection(pp["fs"])]
        self.window_other = [pp for pp in self.window if not wrap_re.intersection(pp["fs"])]
        self.realloc_null, self.realloc_live = trace_reallocs(os.path.join(run_dir, "dhat-trace.log"))
        self.rows = csv_rows(run_dir)
        if not self.rows:
            raise SystemExit("heap: error: no size-*.csv rows in %s" % run_dir)
        points = {(r["kernel"], r["variant"], r["size_bytes"]) for r in self.rows}
        if len(points) != 1:
            raise SystemExit("heap: error: %s has %d points (%s); give one KERNEL=family/variant"
                             % (run_dir, len(points), ", ".join("/".join(p) for p in sorted(points))))
        self.samples = len(self.rows)
        self.iters = sum(int(r["iters"]) for r in self.rows)
        self.allocs = sum(int(r["allocs"]) for r in self.rows)

    @staticmethod
    def tot(pps, key):
        return sum(pp.get(key, 0) for pp in pps)


def cmd_dhat(args):
    main_dir, base_dir, runfn = args
    m, b = HeapRun(main_dir, runfn), HeapRun(base_dir, runfn)
    r0 = m.rows[0]
    kernel = "%s/%s" % (r0["kernel"], r0["variant"])
    t = HeapRun.tot
    print("heap: %s at %s B (n_elems %s): DHAT runs of %d and %d sample(s), %s and %s measured pass(es)"
          % (kernel, r0["size_bytes"], r0["n_elems"], m.samples, b.samples, fmt(m.iters), fmt(b.iters)))
    print("heap: DHAT profile: %s/dhat.out" % main_dir)
    print("      view it: open /usr/libexec/valgrind/dh_view.html in a browser, Load..., pick that file")
    print()
    w, c = 36, 15
    print("%-*s %*s %*s %*s" % (w, "", c, "DHAT process", c, "DHAT measured*", c, "counting alloc"))

    def line(label, a, b_, c_):
        print("%-*s %*s %*s %*s" % (w, label, c, a, c, b_, c, c_))

    for run, tag in ((m, "%d samples" % m.samples), (b, "%d sample" % b.samples)):
        line("run with %s, %s passes:" % (tag, fmt(run.iters)), "", "", "")
        line("  allocations (DHAT: blocks)", fmt(t(run.all, "tbk")), fmt(t(run.window, "tbk")),
             fmt(run.allocs))
        line("    of which at realloc call sites", "", fmt(t(run.window_re, "tbk")), "")
        line("  bytes allocated", fmt(t(run.all, "tb")), fmt(t(run.window, "tb")), "-")
        line("  peak live bytes (t-gmax)", fmt(t(run.all, "gb")), fmt(t(run.window, "gb")), "-")
        line("  peak live blocks (t-gmax)", fmt(t(run.all, "gbk")), fmt(t(run.window, "gbk")), "-")
        line("  realloc(NULL) / of a live block", "%s / %s" % (fmt(run.realloc_null), fmt(run.realloc_live)),
             "", "")
    print("* DHAT measured: allocation stacks with %s called from measure(): the" % runfn)
    print("  passes between the counting allocator's two reads (no warm-up, setup or harness).")
    print()
    d_other = t(m.window_other, "tbk") - t(b.window_other, "tbk")
    d_null = m.realloc_null - b.realloc_null
    d_allocs = m.allocs - b.allocs
    d_iters = m.iters - b.iters
    got = d_other + d_null
    print("compared: allocations in the %s measured passes the %d-sample run has over the 1-sample run"
          % (fmt(d_iters), m.samples))
    print("  DHAT: measured blocks at malloc/calloc/posix_memalign sites %s - %s = %s"
          % (fmt(t(m.window_other, "tbk")), fmt(t(b.window_other, "tbk")), fmt(d_other)))
    print("        + realloc(NULL) calls %s - %s = %s (DHAT also counts each realloc of a live"
          % (fmt(m.realloc_null), fmt(b.realloc_null), fmt(d_null)))
    print("        block as a block; the counting allocator does not)  ->  %s" % fmt(got))
    print("  counting allocator: sum of the CSV's allocs %s - %s  ->  %s"
          % (fmt(m.allocs), fmt(b.allocs), fmt(d_allocs)))
    ok = got == d_allocs
    if not m.window_re:
        # No realloc sites: the single run compares exactly, no difference needed.
        one = t(m.window, "tbk") == m.allocs
        print("  and in the %d-sample run alone (no realloc sites under %s): DHAT measured blocks %s"
              " vs CSV allocs %s: %s" % (m.samples, runfn, fmt(t(m.window, "tbk")), fmt(m.allocs),
                                        "equal" if one else "NOT equal"))
        ok = ok and one
    print("heap: %s: DHAT %s vs counting allocator %s allocations in %s passes"
          % ("agree" if ok else "DISAGREE", fmt(got), fmt(d_allocs), fmt(d_iters)))
    return 0 if ok else 1


def main(argv):
    cmds = {"fold": cmd_fold, "html": cmd_html, "top": cmd_top, "runfn": cmd_runfn, "dhat": cmd_dhat}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
