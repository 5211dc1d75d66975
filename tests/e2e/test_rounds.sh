#!/usr/bin/env bash
# --rounds R (issue 18): every point is visited R times, each round in its
# own seeded order with 1/R of the sample budget and a fresh setup; raw
# rows carry `round`; a point's summary is written after its last round
# from the samples of all rounds; a run interrupted mid-rounds resumes
# exactly (unfinished points are dropped and measured again, all rounds);
# resume with other rounds and bad values are refused with the fix; more
# rounds than max_samples are lowered to max_samples with a note.
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
BIN=$(readlink -f "$PMB_BIN")
[ -x "$BIN" ] || { echo "not ok - setup: $PMB_BIN missing; run make test-build"; exit 1; }
TMP=$(mktemp -d /tmp/pmb-rounds.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
. tests/e2e/csv_lib.sh
. tests/e2e/resume_lib.sh

FAST=(--backend timer --filter sum/index,branch/sorted_branchy --sizes 4K,8K --threads 1,2
	--rounds 3 --min-samples 6 --reps 9 --warmup-ms 0 --min-sample-ms 0.05
	--point-seconds 0.03)

# rounds_ok DIR R: per (point, thread) rows in every round 0..R-1; the
# summary's samples = all raw rows and its median = the median of all of
# them (within the CSV's 6 digits); with "order": rounds in another order
# than round 0 in some size file (a fresh run; a resumed one reruns few
# points, whose order may repeat by chance).
rounds_ok() { # DIR R [order]
	/usr/bin/python3 - "$1" "$2" "${3:-}" <<'PY'
import csv, glob, statistics, sys
d, R, check_order = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "order"
bad, raw, order = [], {}, {}
for f in sorted(glob.glob(d + "/size-*.csv")):
    for r in csv.DictReader(open(f)):
        k = (r["kernel"], r["variant"], r["size_bytes"], r["threads"], r["thread"])
        raw.setdefault(k, {}).setdefault(int(r["round"]), []).append(float(r["ns_per_elem"]))
        seq = order.setdefault((f, int(r["round"])), [])
        if not seq or seq[-1] != k[:4]:
            seq.append(k[:4])
for k, by in raw.items():
    if sorted(by) != list(range(R)):
        bad.append("%s: rounds %s, want 0..%d" % (k, sorted(by), R - 1))
for r in csv.DictReader(open(d + "/summary.csv")):
    if r["metric"] != "ns_per_elem":
        continue
    k = (r["kernel"], r["variant"], r["size_bytes"], r["threads"], r["thread"])
    allv = [x for v in raw.get(k, {}).values() for x in v]
    if int(r["samples"]) != len(allv):
        bad.append("%s: summary samples %s, raw rows %d" % (k, r["samples"], len(allv)))
    elif abs(float(r["median"]) - statistics.median(allv)) > 1e-5 * abs(float(r["median"])):
        bad.append("%s: summary median %s, median of all rounds' rows %g"
                   % (k, r["median"], statistics.median(allv)))
files = {f for f, _ in order}
if check_order and R > 1 and not any(order[(f, 0)] != order.get((f, n)) for f in files for n in range(1, R)
                     if len(order[(f, 0)]) > 1):
    bad.append("every round visited the points in round 0's order")
if bad:
    print("\n".join(bad))
PY
}

# 1. A whole run: rows per round, summary from all rounds.
run "$BIN" "${FAST[@]}" --out "$TMP/a" --quiet
d=$(run_dir_of "$TMP/a")
why=()
[ "$rc" -eq 0 ] || why+=("exit status $rc")
if [ -n "$d" ]; then
	mapfile -t bad < <(exact "$d"; rounds_ok "$d" 3 order)
	why+=("${bad[@]}")
	grep -q '"rounds": 3' "$d/meta.json" || why+=("meta.json options lack rounds 3")
else
	why+=("no run directory")
fi
check "rounds: rows in every round, summary from all of them, shuffled per round" "${why[@]}"

# 2. Each round has its share of the budget: 9 samples over 3 rounds, at
# most 3 a round (max_samples / rounds).
if [ -n "$d" ]; then
	most=$(awk "$CSV_AWK"'NR == 1 { n = csv($0, h); for (i = 1; i <= n; i++) c[h[i]] = i; next }
		{ csv($0, f); k = f[c["kernel"]] f[c["variant"]] f[c["threads"]] f[c["thread"]] f[c["round"]]
		  if (++m[k] > most) most = m[k] } END { print most + 0 }' "$d/size-4096.csv")
	check "rounds: each round takes its share (at most 3 of 9 samples)" \
		$([ "$most" -le 3 ] || echo "a round has $most rows")
fi

# 3. Interrupted in the middle of the rounds, then --resume: exact, every
# point with all its rounds; the points not finished ran again from a
# clean slate (no rep twice: exact).
SLOW=(--backend timer --filter sum/index,branch/sorted_branchy --sizes 4K,8K --threads 1
	--rounds 3 --min-samples 30 --reps 30 --warmup-ms 0 --min-sample-ms 3 --point-seconds 30)
for stop_in in 2 3; do
	name="rounds: SIGINT in round $stop_in of 3, then --resume is exact"
	"$BIN" "${SLOW[@]}" --out "$TMP/i$stop_in" >"$TMP/out" 2>"$TMP/err" &
	PID=$!
	for _ in $(seq 600); do
		grep -q "round $stop_in of 3" "$TMP/err" 2>/dev/null && break
		sleep 0.02
	done
	sleep 0.15
	kill -INT "$PID"
	wait "$PID"
	irc=$?
	PID=
	d=$(run_dir_of "$TMP/i$stop_in")
	why=()
	[ "$irc" -eq 130 ] || why+=("interrupted run exit status $irc, want 130")
	if [ -z "$d" ]; then
		check "$name" "${why[@]}" "no run directory"
		continue
	fi
	done_before=$(json_int "$d/meta.json" points_done)
	run "$BIN" --resume "$d" --quiet
	[ "$rc" -eq 0 ] || why+=("resume exit status $rc")
	mapfile -t bad < <(exact "$d"; rounds_ok "$d" 3)
	why+=("${bad[@]}")
	check "$name ($done_before of 4 points done before the resume)" "${why[@]}"
done

# 4. Resume with other rounds is refused, naming rounds.
d=$(run_dir_of "$TMP/a")
run "$BIN" --resume "$d" --rounds 2 --quiet
check "rounds: --resume with other --rounds refused, naming them" \
	$([ "$rc" -ne 0 ] && grep -q 'rounds' "$TMP/err" || echo "exit status $rc: $(head -c 300 "$TMP/err")")

# 5. Bad values: a clear error with the fix.
run "$BIN" "${FAST[@]}" --rounds 0 --out "$TMP/b"
check "rounds: --rounds 0 refused" \
	$([ "$rc" -eq 2 ] && grep -q 'rounds' "$TMP/err" || echo "exit status $rc: $(head -c 300 "$TMP/err")")
run "$BIN" "${FAST[@]}" --rounds 20 --out "$TMP/b"
d=$(run_dir_of "$TMP/b")
check "rounds: more rounds than max_samples lowered to max_samples, with a note" \
	$([ "$rc" -eq 0 ] && grep -q 'rounds lowered from 20 to 9' "$TMP/err" &&
		grep -q '"rounds": 9' "$d/meta.json" ||
		echo "exit status $rc: $(head -c 300 "$TMP/err")")

# 6. compare on two runs with rounds tests the rounds' medians (the CSV's
# unit column), and says so in its summary.
run "$BIN" "${FAST[@]}" --out "$TMP/a" --quiet
a=$(ls -d "$TMP"/a/*/ | head -1)
b=$(ls -d "$TMP"/a/*/ | tail -1)
PYTHONPATH=scripts /usr/bin/python3 -m pmubench.compare "$a" "$b" --csv "$TMP/cmp.csv" >"$TMP/out" 2>"$TMP/err"
crc=$?
units=$(tail -n +2 "$TMP/cmp.csv" 2>/dev/null | awk -F, '{print $18 "/" $19 "/" $20}' | sort -u | tr '\n' ' ')
check "rounds: compare tests round medians (unit round, 3 rounds a side)" \
	$([ "$crc" -eq 0 ] && [ "$a" != "$b" ] && [ "$units" = "round/3/3 " ] &&
		grep -q "on their rounds' medians" "$TMP/out" ||
		echo "exit $crc, units '$units': $(head -c 300 "$TMP/err")")
