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
    index register) over the kernel's bytes per element; in a pointer chase
    each load whose address register was last written by a load (round the
    loop) and whose result is next used as an address is one element (a
    payload load beside the chain is not).

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


def _writes(mn, ops):
    """{register: "load" | "other"} this instruction writes."""
    if mn.startswith("ld") and "[" in ops:
        out = {r: "load" for r in _regs(ops[: ops.index("[")])}
        m = MEM.search(ops)
        if m and (m.group(5) or m.group(6) is not None):
            out[m.group(1)] = "other"  # pre/post-index writeback of the base
        return out
    if mn.startswith(("st", "b", "cmp", "cmn", "tst", "cb", "tb", "nop", "ret")):
        return {}
    regs = _regs(ops)
    return {regs[0]: "other"} if regs else {}


def _feeds_address(body, i, reg):
    """Whether reg, loaded by instruction i, is next used as a load's
    address register (round the loop) before anything overwrites it."""
    for k in range(1, len(body) + 1):
        _, mn, ops = body[(i + k) % len(body)]
        m = MEM.search(ops) if mn.startswith("ld") else None
        if m and m.group(1) == reg:
            return True
        if reg in _writes(mn, ops):
            return False
    return False


def advance_bytes(body):
    """(bytes the loop's walk advances per iteration, None) or, for a pointer
    chase, (None, pointer loads per iteration); (None, None) if no load walks."""
    adds = {}
    for _, mn, ops in body:
        m = re.match(r"^(x\d+),\s*(x\d+),\s*#(\w+)$", ops)
        if mn == "add" and m and m.group(1) == m.group(2):
            adds[m.group(1)] = adds.get(m.group(1), 0) + _imm(m.group(3))
    best, chase = None, 0
    for i, (_, mn, ops) in enumerate(body):
        if not mn.startswith("ld"):
            continue
        m = MEM.search(ops)
        if not m:
            continue
        base, index, shift, _, _, post = m.groups()
        # The last write of the base before this load, round the loop.
        last = next((w[base] for k in range(1, len(body) + 1)
                     for w in [_writes(*body[i - k][1:])] if base in w), None)
        if last == "load":
            # The address came from a load: a pointer step if what it loads
            # is itself an address (a payload load beside the chain is not).
            chase += any(_feeds_address(body, i, d) for d in _writes(mn, ops))
            continue
        step = None
        if post is not None:
            step = _imm(post)
        elif index and index in adds:
            step = adds[index] << int(shift or 0)
        elif base in adds:
            step = adds[base]
        if step is not None and (best is None or step > best):
            best = step
    if chase:
        return None, chase
    return best, None


def per_element(insns, elem_bytes):
    """(fewest, most) instructions per element of the loop covering the most
    elements per iteration, and a one-line description; None if no loop."""
    best = None
    for body in loops(insns):
        step, chase = advance_bytes(body)
        if step is None and chase is None:
            continue
        elems = float(chase) if chase else step / elem_bytes
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
                + (f" per {chase} pointer step(s)" if chase else f" per {elems:g} element(s) ({step} bytes)"))
        if best is None or cand[:2] > best[:2]:
            best = cand
    if best is None:
        return None
    return best[2], best[3], best[4]


def run_function(funcs, family, variant):
    """The run function of family/variant: <family>_<variant>_run, else the
    longest <f>[_<part>]_run where <f> starts the family's name and <part> is
    in the variant's (branch_branchy_run serves sorted_ and random_branchy,
    lat_run every latency variant)."""
    exact = f"{family}_{variant}_run"
    if exact in funcs:
        return exact
    cands = []
    for f in funcs:
        if not f.endswith("_run"):
            continue
        head, _, part = f[:-4].partition("_")
        if head and family.startswith(head) and part in variant:
            cands.append(f)
    return max(cands, key=len) if cands else None
