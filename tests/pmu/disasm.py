#!/usr/bin/python3
"""Instructions per element implied by the compiled code of a kernel.

Reads `aarch64-linux-gnu-objdump -d --no-show-raw-insn` of the pmubench
binary, finds a kernel's run function, its innermost loops (a backward
branch and its target), and for the loop that covers the most elements per
iteration returns (fewest, most) instructions per element:

  - instructions per iteration: the loop's instructions; a forward branch
    inside the loop (the data-dependent `b.le` of branch/*_branchy) can skip
    some, hence a range;
  - elements per iteration: how far the loop's walk advances per iteration
    (post-index `[xB], #imm`, `add xR, xR, #imm` on a load's base or scaled
    index register) over the kernel's bytes per element; a load that
    overwrites its own base register is a pointer chase: one element.

Nothing here knows a kernel's expected count: it comes from the binary.
"""

import re

BRANCHES = re.compile(r"^(b|b\.\w+|cbz|cbnz|tbz|tbnz)$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
FUNC = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
MEM = re.compile(r"\[(\w+)(?:,\s*(\w+)(?:,\s*lsl\s*#(\d+))?)?(?:,\s*#(-?\w+))?\](!?)(?:,\s*#(-?\w+))?")


def _imm(text):
    return int(text, 0)


def parse(objdump_text):
    """{function name: [(address, mnemonic, operands)]}"""
    funcs, cur = {}, None
    for line in objdump_text.splitlines():
        m = FUNC.match(line)
        if m:
            cur = funcs.setdefault(m.group(2), [])
            continue
        m = INSN.match(line)
        if m and cur is not None:
            ops = m.group(3).split("//")[0].strip()
            cur.append((int(m.group(1), 16), m.group(2), ops))
    return funcs


def _target(mnemonic, ops):
    if not BRANCHES.match(mnemonic):
        return None
    m = re.search(r"\b([0-9a-f]+) <", ops)
    return int(m.group(1), 16) if m else None


def loops(insns):
    """Innermost loops: lists of instructions from a backward branch's target
    to the branch, containing no other backward branch."""
    found = []
    for i, (addr, mn, ops) in enumerate(insns):
        t = _target(mn, ops)
        if t is not None and t < addr and t >= insns[0][0]:
            body = [x for x in insns if t <= x[0] <= addr]
            found.append(body)
    inner = []
    for body in found:
        lo, hi = body[0][0], body[-1][0]
        nested = any(b is not body and lo <= b[0][0] and b[-1][0] <= hi and (b[0][0], b[-1][0]) != (lo, hi)
                     for b in found)
        if not nested:
            inner.append(body)
    return inner


def _regs(ops):
    return re.findall(r"\b([xw]\d+|sp)\b", ops)


def advance_bytes(body):
    """Bytes the loop's walk advances per iteration, or 0 for a pointer
    chase (one element per iteration), or None if no load walks."""
    adds = {}
    for _, mn, ops in body:
        m = re.match(r"^(x\d+),\s*(x\d+),\s*#(\w+)$", ops)
        if mn == "add" and m and m.group(1) == m.group(2):
            adds[m.group(1)] = adds.get(m.group(1), 0) + _imm(m.group(3))
    best = None
    for _, mn, ops in body:
        if not mn.startswith("ld"):
            continue
        m = MEM.search(ops)
        if not m:
            continue
        base, index, shift, _, _, post = m.groups()
        dests = _regs(ops[: ops.index("[")])
        written_elsewhere = any(_regs(o)[:1] == [base] for _, n, o in body
                                if not n.startswith(("ld", "st", "b", "c", "t")))
        if base in dests and not written_elsewhere:
            return 0  # the load alone replaces its base: a pointer chase
        step = None
        if post is not None:
            step = _imm(post)
        elif index and index in adds:
            step = adds[index] << int(shift or 0)
        elif base in adds:
            step = adds[base]
        if step is not None and (best is None or step > best):
            best = step
    return best


def per_element(insns, elem_bytes):
    """(fewest, most) instructions per element of the loop covering the most
    elements per iteration, and a one-line description; None if no loop."""
    best = None
    for body in loops(insns):
        step = advance_bytes(body)
        if step is None:
            continue
        elems = 1.0 if step == 0 else step / elem_bytes
        n = len(body)
        lo_addr, hi_addr = body[0][0], body[-1][0]
        skip = 0
        for addr, mn, ops in body:
            t = _target(mn, ops)
            if t is not None and addr < t <= hi_addr:
                skip += (t - addr) // 4 - 1
        cand = (elems, n, (n - skip) / elems, n / elems,
                f"loop {lo_addr:x}-{hi_addr:x}: {n} instructions"
                + (f" ({n - skip} when the forward branch skips)" if skip else "")
                + (" per element (pointer chase)" if step == 0 else f" per {elems:g} element(s) ({step} bytes)"))
        if best is None or cand[:2] > best[:2]:
            best = cand
    if best is None:
        return None
    return best[2], best[3], best[4]


def run_function(funcs, family, variant):
    """The run function of family/variant: <family>_<variant>_run, or the
    family's run function whose name part is in the variant's name
    (branch_branchy_run serves sorted_branchy and random_branchy)."""
    exact = f"{family}_{variant}_run"
    if exact in funcs:
        return exact
    prefix = family + "_"
    cands = [f for f in funcs if f.startswith(prefix) and f.endswith("_run")
             and f[len(prefix):-4] in variant]
    return max(cands, key=len) if cands else None
