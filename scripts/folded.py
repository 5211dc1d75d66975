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
  dhat DHAT_OUT RUN_DIR RUNFN [--warmup-passes N]
                                  DHAT's figures next to the counting allocator's
                                  for the same run; exit 0 when they agree, 1 when not
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
    root = {"name": "all", "value": 0, "children": []}
    index = {id(root): {}}
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, n = line.rpartition(" ")
        n = int(n)
        node = root
        node["value"] += n
        for name in stack.split(";"):
            kids = index[id(node)]
            child = kids.get(name)
            if child is None:
                child = {"name": name, "value": 0, "children": []}
                node["children"].append(child)
                kids[name] = child
                index[id(child)] = {}
            child["value"] += n
            node = child
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


def cmd_dhat(args):
    warmup_passes = 1
    if "--warmup-passes" in args:
        i = args.index("--warmup-passes")
        warmup_passes = int(args[i + 1])
        args = args[:i] + args[i + 2:]
    dhat_path, run_dir, runfn = args
    d = json.load(open(dhat_path))
    ftbl, pps = d["ftbl"], d["pps"]
    # A frame reads "0x10A2B3: alloc_bad_run (alloc.c:180)".
    pat = re.compile(r":\s%s\s\(" % re.escape(runfn))
    hits = [i for i, f in enumerate(ftbl) if pat.search(f)]
    hit = set(hits)
    mine = [pp for pp in pps if hit.intersection(pp["fs"])]

    def tot(pp_list, key):
        return sum(pp.get(key, 0) for pp in pp_list)

    rows = csv_rows(run_dir)
    if not rows:
        print("heap: error: no size-*.csv rows in %s" % run_dir, file=sys.stderr)
        return 2
    points = {(r["kernel"], r["variant"], r["size_bytes"]) for r in rows}
    if len(points) != 1:
        print("heap: error: the run has %d points (%s); give one KERNEL=family/variant and one SIZE"
              % (len(points), ", ".join("/".join(p) for p in sorted(points))), file=sys.stderr)
        return 2
    samples = len(rows)
    iters = [int(r["iters"]) for r in rows]
    allocs = [int(r["allocs"]) for r in rows]
    sum_iters, sum_allocs = sum(iters), sum(allocs)
    per_pass = {a / i for a, i in zip(allocs, iters) if i}
    n_elems = rows[0]["n_elems"]
    kernel = "%s/%s" % (rows[0]["kernel"], rows[0]["variant"])

    w = 26
    print("heap: %s at %s B (n_elems %s), %d sample(s), %d pass(es) measured + %d warm-up pass(es)"
          % (kernel, rows[0]["size_bytes"], n_elems, samples, sum_iters, warmup_passes))
    print("heap: DHAT profile: %s  (open in /usr/libexec/valgrind/dh_view.html)" % dhat_path)
    print()
    print("%-*s %18s %22s %22s" % (w, "", "DHAT: whole process", "DHAT: under " + runfn[:10] + "..",
                                  "counting allocator"))
    print("%-*s %18s %22s %22s" % (w, "allocations (blocks)", fmt(tot(pps, "tbk")), fmt(tot(mine, "tbk")),
                                  fmt(sum_allocs) + " (samples)"))
    print("%-*s %18s %22s %22s" % (w, "bytes allocated", fmt(tot(pps, "tb")), fmt(tot(mine, "tb")), "-"))
    print("%-*s %18s %22s %22s" % (w, "peak live bytes (t-gmax)", fmt(tot(pps, "gb")), fmt(tot(mine, "gb")), "-"))
    print("%-*s %18s %22s %22s" % (w, "blocks live at peak", fmt(tot(pps, "gbk")), fmt(tot(mine, "gbk")), "-"))
    print("%-*s %18s %22s %22s" % (w, "program points", fmt(len(pps)), fmt(len(mine)), "-"))
    print()
    if not hits:
        print("heap: note: no DHAT frame names %s (0 allocations under it, or symbols missing)" % runfn)
    if len(per_pass) > 1 or (per_pass and not float(next(iter(per_pass))).is_integer()):
        print("heap: DISAGREE: allocations per pass differ between samples (%s): "
              "the kernel does not allocate the same every pass" % sorted(per_pass))
        return 1
    pp_allocs = int(next(iter(per_pass))) if per_pass else 0
    expected = sum_allocs + warmup_passes * pp_allocs
    got = tot(mine, "tbk")
    print("compared: DHAT blocks allocated with %s on the stack = %s" % (runfn, fmt(got)))
    print("     vs.  counting allocator: sum of `allocs` over the %d sample(s) (%s passes) = %s"
          % (samples, fmt(sum_iters), fmt(sum_allocs)))
    print("          + %d warm-up pass(es) x %s allocs/pass (= allocs/iters) = %s"
          % (warmup_passes, fmt(pp_allocs), fmt(expected)))
    verdict = "agree" if got == expected else "DISAGREE"
    print("heap: %s: %s vs %s" % (verdict, fmt(got), fmt(expected)))
    return 0 if got == expected else 1


def main(argv):
    cmds = {"fold": cmd_fold, "html": cmd_html, "top": cmd_top, "runfn": cmd_runfn, "dhat": cmd_dhat}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
