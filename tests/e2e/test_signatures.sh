#!/usr/bin/env bash
# test_signatures.sh — every kernel's counter signature under the simulated
# backend (callgrind), asserted from the table in scripts/signatures.py.
#
# Runs $PMB_BIN --backend sim for all kernels at an L1 size (4K), a size
# between L1 and the simulated LL (256K) and one beyond it (4M), with the
# simulated caches fixed by PMB_SIM_I1/D1/LL (signatures.SIM_ENV: 32K 8-way
# L1s, 1M 16-way LL) so results do not depend on this machine's hwloc; then
# checks each signature and relation on summary.csv (`<counter>_per_elem`,
# median) and prints the measured per-element table.  A second run of a
# Determinism: two identical runs of a subset, compared sample by sample on
# the raw CSVs (identical commands: glibc malloc's path, and so the
# allocator kernels' counts, depends on the heap the earlier points left).
# Output: one `ok - ` / `not ok - ` / `skip - ` line per case (tests/run.sh).
# About 1.5 minutes on 2 cores.
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
PY=/usr/bin/python3

if ! command -v valgrind >/dev/null 2>&1; then
	echo "skip - signatures: valgrind not installed (apt-get install valgrind)"
	exit 0
fi
if [ ! -x "$PMB_BIN" ]; then
	echo "not ok - signatures: $PMB_BIN not built (make test-build)"
	exit 0
fi

tmp=$(mktemp -d /tmp/pmb-signatures-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# KEY=value lines for env(1) and the size list, from the table.
mapfile -t sim_env < <(cd scripts && $PY -c 'from pmubench import signatures as s
for k, v in s.SIM_ENV.items(): print("%s=%s" % (k, v))')
sizes=$(cd scripts && $PY -c 'from pmubench import signatures as s; print(",".join(str(s.SIM_SIZES[r]) for r in s.REGIMES))')
common=(--backend sim --threads 1 --sizes "$sizes" --reps 3 --min-samples 3
	--warmup-ms 0 --min-sample-ms 0 --point-seconds 0.001 --events default -q)

run() { # out-dir name [args...]
	local out=$1 name=$2
	shift 2
	local t0=$SECONDS
	env "${sim_env[@]}" "$PMB_BIN" "${common[@]}" --out "$out" --name "$name" "$@" \
		>"$out.stdout" 2>"$out.stderr"
	local rc=$?
	echo "# $name: exit $rc in $((SECONDS - t0)) s"
	return $rc
}

mkdir -p "$tmp/a" "$tmp/b" "$tmp/c"
if run "$tmp/a" sig-a; then
	echo "ok - signatures: sim run of every kernel at $sizes"
else
	echo "not ok - signatures: sim run of every kernel at $sizes"
	sed 's/^/# /' "$tmp/a.stderr" | tail -20
	exit 0
fi
# The determinism runs: a subset (CI budget) covering streaming, pointer
# chasing, data-dependent branches and the allocator, twice.
det_filter=sum/index,branch/random_branchy,traversal/list_shuffled,stack_heap/heap,alloc/bad
for d in b c; do
	if run "$tmp/$d" sig-det --filter "$det_filter"; then
		echo "ok - signatures: determinism run $d ($det_filter)"
	else
		echo "not ok - signatures: determinism run $d ($det_filter)"
		sed 's/^/# /' "$tmp/$d.stderr" | tail -20
	fi
done

run_a=$(ls -d "$tmp"/a/*/ | head -1)
run_b=$(ls -d "$tmp"/b/*/ 2>/dev/null | head -1)
run_c=$(ls -d "$tmp"/c/*/ 2>/dev/null | head -1)
grep -h 'sim:' "$tmp/a.stderr" | sed 's/^/# /'

PYTHONPATH=scripts $PY - "$run_a" "$run_b" "$run_c" <<'EOF'
import csv, glob, os, sys
from pmubench import signatures as S

run_a, run_b, run_c = sys.argv[1], sys.argv[2], sys.argv[3]
pts = S.load_summary(run_a)
size_of = S.SIM_SIZES
print("# measured per element (median of 3 one-pass samples; sim D1 32K/8, LL 1M/16, 64-byte lines):")
for line in S.format_table(pts, size_of).splitlines():
    print("#   " + line)

def val(kernel, regime, column):
    d = pts.get((kernel, size_of[regime]))
    return (d or {}).get(column), (d or {}).get("n")

for s in S.SIGNATURES:
    v, n = val(s.kernel, s.regime, s.column)
    name = S.sig_name(s)
    if v is None:
        print("not ok - %s: not measured" % name)
        continue
    ok, text = S.check_sig(s, v, n)
    print("%s - %s: %s" % ("ok" if ok else "not ok", name, text))

for r in S.RELATIONS:
    a, _ = val(r.lhs[0], r.regime, r.lhs[1])
    b, _ = val(r.rhs[0], r.regime, r.rhs[1])
    name = S.rel_name(r)
    if a is None or b is None:
        print("not ok - %s: not measured" % name)
        continue
    ok, text = S.check_rel(r, a, b)
    print("%s - %s: %s" % ("ok" if ok else "not ok", name, text))

# Determinism: the same point and sample number in two runs.
def raw(run):
    rows = {}
    for path in glob.glob(os.path.join(run, "size-*.csv")):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["kernel"], row["variant"], row["size_bytes"], row["thread"], row["rep"])
                rows[key] = row
    return rows

if run_b and run_c:
    ra, rb = raw(run_b), raw(run_c)
    common = sorted(set(ra) & set(rb))
    if not common:
        print("not ok - determinism: no common samples between the two runs")
    exact_bad, miss_bad, worst = [], [], {}
    for key in common:
        x, y = ra[key], rb[key]
        n = int(x["n_elems"]) * int(x["iters"])
        kernel = "%s/%s" % (key[0], key[1])
        allocating = S.ALLOCS[kernel](int(x["n_elems"])) > 0
        exact = ("allocs",) if allocating else S.EXACT_COLUMNS
        for c in exact:
            if x[c] != y[c]:
                exact_bad.append("%s %s: %s vs %s" % ("/".join(key), c, x[c], y[c]))
        near = S.MISS_COLUMNS + (tuple(c for c in S.EXACT_COLUMNS if c not in exact))
        for c in near:
            d = abs(int(x[c] or 0) - int(y[c] or 0))
            worst[c] = max(worst.get(c, (0, 0)), (d / n, d))
            if d > max(S.DETERMINISM_MISS_FLOOR, S.DETERMINISM_MISS_TOL * n):
                miss_bad.append("%s %s: %s vs %s" % ("/".join(key), c, x[c], y[c]))
    print("%s - determinism: %s identical in %d samples of two runs (instructions/branches: non-allocating kernels)%s" % (
        "not ok" if exact_bad else "ok", "/".join(S.EXACT_COLUMNS), len(common),
        "" if not exact_bad else ": " + "; ".join(exact_bad[:5])))
    print("%s - determinism: %s (+ allocating kernels' instructions/branches) within max(%d events, %s/elem) in %d samples (largest: %s)%s" % (
        "not ok" if miss_bad else "ok", "/".join(S.MISS_COLUMNS), S.DETERMINISM_MISS_FLOOR,
        S.DETERMINISM_MISS_TOL,
        len(common), ", ".join("%s %d (%.2g/elem)" % (c, v[1], v[0]) for c, v in sorted(worst.items())),
        "" if not miss_bad else ": " + "; ".join(miss_bad[:5])))
EOF
rc=$?
[ "$rc" -eq 0 ] || echo "not ok - signatures: checker exited $rc"
exit 0
