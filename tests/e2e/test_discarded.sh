#!/usr/bin/env bash
# summary.csv `discarded` (issue 18): the samples discarded for a context
# switch or migration and retaken, per point and thread.  A busy loop on
# the core of thread 0 forces preemptions; then the group rows' counts add
# up to meta.json preemption.samples_discarded, are > 0, are the same on
# every metric row of a (point, thread), and a thread row never counts
# more than its group row (nor the thread rows together less).
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
BIN=$(readlink -f "$PMB_BIN")
[ -x "$BIN" ] || { echo "not ok - setup: $PMB_BIN missing; run make test-build"; exit 1; }
TMP=$(mktemp -d /tmp/pmb-discarded.XXXXXX)
LOAD=
cleanup() {
	[ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
. tests/e2e/csv_lib.sh
. tests/e2e/resume_lib.sh

# The two first cores this process may use.
mapfile -t CORES < <(/usr/bin/python3 -c 'import os; print(*sorted(os.sched_getaffinity(0))[:2], sep="\n")')
if [ "${#CORES[@]}" -lt 2 ]; then
	skip "discarded column" "needs 2 usable cores"
	exit 0
fi
taskset -c "${CORES[0]}" sh -c 'while :; do :; done' &
LOAD=$!
run "$BIN" --backend timer --filter sum/index,branch/sorted_branchy --sizes 4K,64K --threads 1,2 \
	--cores "${CORES[0]},${CORES[1]}" --min-samples 6 --reps 6 --warmup-ms 1 \
	--min-sample-ms 2 --point-seconds 0.2 --out "$TMP/r"
kill "$LOAD" 2>/dev/null
wait "$LOAD" 2>/dev/null
LOAD=
d=$(run_dir_of "$TMP/r")
if [ "$rc" -ne 0 ] || [ -z "$d" ]; then
	notok "discarded: run under load exits 0" "exit status $rc"
	exit 0
fi
if grep -q 'preemption guard' "$TMP/err"; then
	skip "discarded column" "$(grep 'preemption guard' "$TMP/err" | head -1)"
	exit 0
fi
/usr/bin/python3 - "$d" >"$TMP/py" 2>&1 <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/summary.csv")))
meta = json.load(open(d + "/meta.json"))
bad = []
if "discarded" not in rows[0]:
    print("no discarded column in summary.csv"); sys.exit(1)
per = {}
for r in rows:
    key = (r["kernel"], r["variant"], r["size_bytes"], int(r["threads"]), int(r["thread"]))
    per.setdefault(key, set()).add(int(r["discarded"]))
for k, v in per.items():
    if len(v) != 1:
        bad.append("%s: discarded differs between metric rows: %s" % (k, sorted(v)))
group = {k[:4]: min(v) for k, v in per.items()
         if (k[3] == 1 and k[4] == 0) or (k[3] > 1 and k[4] == -1)}
total = sum(group.values())
want = meta["preemption"]["samples_discarded"]
if total != want:
    bad.append("group rows sum to %d, meta.json samples_discarded %d" % (total, want))
if total == 0:
    bad.append("no sample discarded with a busy loop on core of thread 0")
for q, g in group.items():
    if q[3] == 1:
        continue
    threads = [min(per[q + (t,)]) for t in range(q[3])]
    if max(threads) > g or sum(threads) < g:
        bad.append("%s: thread rows %s against group row %d" % (q, threads, g))
print("\n".join(bad) or "ok total=%d" % total)
sys.exit(1 if bad else 0)
PY
if [ $? -eq 0 ]; then ok "discarded: per point and thread, sums to meta.json under load ($(cat "$TMP/py"))"
else notok "discarded: per point and thread, sums to meta.json under load" "$(cat "$TMP/py")"; fi

# The console shows it too: "(+N preempted)" on the lines of those points.
if grep -q 'preempted)' "$TMP/err" || ! grep -q '"samples_discarded": [1-9]' "$d/meta.json"; then
	ok "discarded: console names preempted samples"
else
	notok "discarded: console names preempted samples" "no (+N preempted) in stderr"
fi
