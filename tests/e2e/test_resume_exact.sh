#!/usr/bin/env bash
# Resume is exact (issue 14): a point is done only when its raw rows and
# then all its summary rows are on disk; a resumed point starts from a
# clean slate (no sample twice, never more raw rows than its summary
# counts); resume refuses another plan, options, config, compiler, cflags
# or commit, naming what differs; one process per run directory (flock);
# the sim backend's valgrind child dies with its parent and leaves no
# temporary directory.  docs/reliability.md has the table.
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
BIN=$(readlink -f "$PMB_BIN")
[ -x "$BIN" ] || { echo "not ok - setup: $PMB_BIN missing; run make test-build"; exit 1; }
TMP=$(mktemp -d /tmp/pmb-resume.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
. tests/e2e/csv_lib.sh
. tests/e2e/resume_lib.sh

# Short points, several threads counts: 2 kernels x 2 sizes x 2 thread counts.
FAST=(--backend timer --filter sum/index,branch/sorted_branchy --sizes 4K,8K --threads 1,2
	--reps 4 --min-samples 4 --warmup-ms 0 --min-sample-ms 0.05 --point-seconds 0.01 --quiet)
# Long points (about 1 s each), to be hit mid-point.
SLOW=(--backend timer --filter sum/index,sum/unroll4 --sizes 16K,32K --reps 400 --min-samples 200
	--warmup-ms 1 --min-sample-ms 5 --point-seconds 10 --quiet)

# resume_ok NAME DIR: --resume DIR (no limit) finishes and the run is exact.
resume_ok() {
	local name=$1 d=$2 why=()
	run "$BIN" --resume "$d"
	[ "$rc" -eq 0 ] || why+=("resume exit status $rc")
	mapfile -t bad < <(exact "$d")
	why+=("${bad[@]}")
	check "$name" "${why[@]}"
}

# --- a point is done only when its rows and summary are durable ------------
out=$TMP/nofile
mkdir -p "$out"
(ulimit -n 5; exec "$BIN" "${FAST[@]}" --out "$out") >"$TMP/out" 2>"$TMP/err"
rc=$?
d=$(run_dir_of "$out")
why=()
[ "$rc" -eq 1 ] || why+=("exit status $rc, want 1")
grep -qF "Too many open files; raise the open-file limit (ulimit -n" "$TMP/err" || why+=("no ulimit -n message")
[ -n "$d" ] && [ -f "$d/meta.json" ] || why+=("no run directory with meta.json")
if [ -n "$d" ]; then
	mapfile -t bad < <(exact "$d" | grep -v 'complete is not true\|points_total\|raw rows without a summary')
	why+=("${bad[@]}")
fi
check "ulimit -n 5: no summary for a point whose rows were not written" "${why[@]}"
[ -z "$d" ] || resume_ok "ulimit -n 5: --resume then measures every point once" "$d"

# The limit: meta.json of an unlimited run of the same plan fits, with
# 2 KiB to spare; summary.csv must not (else the case cannot happen here).
out=$TMP/fsize-sizing
mkdir -p "$out"
run "$BIN" "${FAST[@]}" --out "$out"
d=$(run_dir_of "$out")
meta_kib=$(( ($(stat -c %s "$d/meta.json" 2>/dev/null || echo 0) + 2048 + 1023) / 1024 ))
sum_kib=$(( $(stat -c %s "$d/summary.csv" 2>/dev/null || echo 0) / 1024 ))
out=$TMP/fsize
mkdir -p "$out"
if [ "$sum_kib" -le "$meta_kib" ]; then
	echo "skip - ulimit -f (SIGXFSZ): summary.csv ($sum_kib KiB) is no larger than meta.json ($meta_kib KiB) for this plan"
else
	(ulimit -f "$meta_kib"; exec "$BIN" "${FAST[@]}" --out "$out") >"$TMP/out" 2>"$TMP/err"
	rc=$?
	d=$(run_dir_of "$out")
	why=()
	[ "$rc" -eq 1 ] || why+=("exit status $rc, want 1 (153 = killed by SIGXFSZ)")
	grep -qF "File too large; the file size limit is reached (ulimit -f)" "$TMP/err" || why+=("no ulimit -f message")
	if [ -n "$d" ]; then
		mapfile -t bad < <(exact "$d" | grep -v 'complete is not true\|points_total\|raw rows without a summary')
		why+=("${bad[@]}")
	else why+=("no run directory"); fi
	check "ulimit -f (SIGXFSZ): clear message, whole rows, no half summary" "${why[@]}"
	[ -z "$d" ] || resume_ok "ulimit -f: --resume then measures every point once" "$d"
fi

# A partial summary (as an older pmubench or a crash could leave): the
# point runs again, its old rows dropped.
out=$TMP/partial
mkdir -p "$out"
run "$BIN" "${FAST[@]}" --out "$out"
d=$(run_dir_of "$out")
if [ "$rc" -eq 0 ] && [ -n "$d" ]; then
	head -n -9 "$d/summary.csv" >"$TMP/s" && cat "$TMP/s" >"$d/summary.csv"
	resume_ok "partial summary of a point: --resume redoes that point, rows not mixed" "$d"
else
	notok "partial summary of a point: --resume redoes that point, rows not mixed" "first run exit $rc"
fi

# SIGKILL mid-point: the point's rows so far are dropped on resume.
out=$TMP/kill
mkdir -p "$out"
"$BIN" "${SLOW[@]}" --out "$out" >"$TMP/out" 2>"$TMP/err" &
pid=$!
PIDS+=("$pid")
hit=0
for _ in $(seq 400); do
	d=$(run_dir_of "$out")
	if [ -n "$d" ] && [ "$(wc -l <"$d/summary.csv" 2>/dev/null || echo 0)" -gt 14 ] &&
		[ "$(cat "$d"/size-*.csv 2>/dev/null | wc -l)" -gt 215 ]; then
		hit=1
		break
	fi
	sleep 0.05
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [ "$hit" = 1 ]; then
	resume_ok "SIGKILL mid-point: --resume drops the point's partial rows (no duplicate sample keys)" "$d"
else
	notok "SIGKILL mid-point: --resume drops the point's partial rows (no duplicate sample keys)" \
		"the run did not reach its second point within 20 s"
fi

# --- resume refuses what it cannot continue ---------------------------------
out=$TMP/ident
mkdir -p "$out"
printf 'backend = timer\nkernels = sum/index\nsizes = 4K,8K\nmax_samples = 3\nmin_samples = 3\nwarmup_ms = 0\nmin_sample_ms = 0.05\npoint_seconds = 0.01\n' >"$TMP/id.ini"
run "$BIN" --config "$TMP/id.ini" --out "$out" --quiet
d=$(run_dir_of "$out")
refuse() { # NAME PHRASE CMD...
	local name=$1 phrase=$2 why=()
	shift 2
	local before
	before=$(md5sum "$d"/*.csv "$d"/meta.json | md5sum)
	run "$@"
	[ "$rc" -eq 1 ] || why+=("exit status $rc, want 1")
	grep -qF -- "--resume: refusing to mix results in $d" "$TMP/err" || why+=("no refusal naming the run")
	grep -qF -- "$phrase" "$TMP/err" || why+=("message lacks: $phrase")
	[ "$(md5sum "$d"/*.csv "$d"/meta.json | md5sum)" = "$before" ] || why+=("the run's files changed")
	check "resume refuses $name" "${why[@]}"
}
if [ "$rc" -ne 0 ] || [ -z "$d" ]; then
	notok "resume identity: first run" "exit $rc"
else
	refuse "other options (--min-sample-ms 1)" "different measurement options" \
		"$BIN" --resume "$d" --min-sample-ms 1
	refuse "another plan (--sizes 16K)" "different plan (kernels x sizes x threads)" \
		"$BIN" --resume "$d" --sizes 16K
	refuse "another backend (--backend papi)" "different measurement options" \
		"$BIN" --resume "$d" --backend papi
	cp "$TMP/id.ini" "$TMP/id.saved"
	printf 'seed = 7\n' >>"$TMP/id.ini"
	refuse "an edited config" "different config file or config contents" "$BIN" --resume "$d"
	cp "$TMP/id.saved" "$TMP/id.ini"
	# A binary built with other flags, another compiler or from another
	# commit: the run's identity file records what built it.
	id=$d/.pmubench-identity-default
	cp "$id" "$TMP/id.keep"
	for key in cflags:"different compiler flags (cflags)" compiler:"different compiler" \
		commit:"different git commit of the binary"; do
		k=${key%%:*}
		sed -i "s|^$k=.*|$k=other-$k|" "$id"
		refuse "a binary with another $k" "${key#*:} (run: 'other-$k'" "$BIN" --resume "$d"
		cp "$TMP/id.keep" "$id"
	done
	run "$BIN" --resume "$d" --quiet
	check "resume with the same binary, config and options is accepted" \
		$([ "$rc" -eq 0 ] || echo "exit status $rc")
fi

# --- one process per run directory -----------------------------------------
out=$TMP/lock
mkdir -p "$out"
"$BIN" "${SLOW[@]}" --out "$out" >"$TMP/lock.out" 2>"$TMP/lock.err" &
pid=$!
PIDS+=("$pid")
d=
for _ in $(seq 200); do
	d=$(run_dir_of "$out")
	[ -n "$d" ] && [ -f "$d/summary.csv" ] && break
	sleep 0.05
done
why=()
if [ -n "$d" ]; then
	run "$BIN" --resume "$d"
	[ "$rc" -eq 1 ] || why+=("second process exit status $rc, want 1")
	grep -qF "run directory '$d' is in use by another pmubench (pid $pid)" "$TMP/err" ||
		why+=("message does not name the directory and pid $pid")
	run "$BIN" "${SLOW[@]}" --run-dir "$d"
	[ "$rc" -eq 1 ] || why+=("--run-dir on it: exit status $rc, want 1")
	grep -qF "is in use by another pmubench" "$TMP/err" || why+=("--run-dir: no 'in use' message")
else
	why+=("the first run made no directory within 10 s")
fi
kill -INT "$pid" 2>/dev/null
wait "$pid"
[ -z "$d" ] || resume_ok "run directory locked: after the first stops, --resume completes it exactly" "$d"
check "run directory locked: a second run or resume exits with 'in use by another pmubench (pid N)'" "${why[@]}"

# Two --run-dir runs of one new directory started together: one wins.
out=$TMP/race/run
"$BIN" "${FAST[@]}" --run-dir "$out" >"$TMP/r1.out" 2>"$TMP/r1.err" &
p1=$!
"$BIN" "${FAST[@]}" --run-dir "$out" >"$TMP/r2.out" 2>"$TMP/r2.err" &
p2=$!
wait "$p1"
r1=$?
wait "$p2"
r2=$?
why=()
[ $((r1 == 0 ? 1 : 0)) -ne $((r2 == 0 ? 1 : 0)) ] || why+=("exit statuses $r1 and $r2: want one 0 and one 1")
grep -hqE "already has results of flag set 'default'|is in use by another pmubench|the name is taken" \
	"$TMP/r1.err" "$TMP/r2.err" || why+=("the loser gives no clear message")
mapfile -t bad < <(exact "$out")
why+=("${bad[@]}")
[ -z "$(ls -A "$TMP/race" | grep '^\.pmb-staging')" ] || why+=("a staging directory was left")
check "two --run-dir runs at once: one runs, the other exits with a clear message" "${why[@]}"

# --- the sim backend's valgrind child ----------------------------------------
# sim_dir_of PID: the pmb-sim-* directory of valgrind child PID.
sim_dir_of() { dirname "$(ls /tmp/pmb-sim-*/valgrind."$1".log 2>/dev/null | head -1)"; }
sim_case() { # SIGNAL NAME
	local sig=$1 name=$2 why=()
	out=$TMP/sim-$sig
	mkdir -p "$out"
	"$BIN" --backend sim --filter sum/index --sizes 4K,8K,16K,32K --reps 30 --min-samples 30 \
		--warmup-ms 1 --min-sample-ms 1 --point-seconds 10 --quiet --out "$out" \
		>"$TMP/out" 2>"$TMP/err" &
	local pid=$! child= simdir= d=
	PIDS+=("$pid")
	for _ in $(seq 600); do
		d=$(run_dir_of "$out")
		child=$(pgrep -P "$pid" | head -1)
		[ -n "$child" ] && [ -z "$simdir" ] && simdir=$(sim_dir_of "$child")
		[ -n "$d" ] && [ "$(wc -l <"$d/summary.csv" 2>/dev/null || echo 0)" -gt 14 ] && break
		sleep 0.1
	done
	if [ -z "$child" ] || [ -z "$d" ]; then
		kill -KILL "$pid" $child 2>/dev/null
		notok "$name" "the sim run did not start (valgrind child '$child', run '$d')"
		return
	fi
	kill -"$sig" "$pid"
	wait "$pid"
	local rc=$?
	for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$child" 2>/dev/null && { why+=("valgrind child $child still alive 10 s later"); kill -KILL "$child"; }
	local n1 n2
	n1=$(wc -l <"$d/summary.csv")
	sleep 1
	n2=$(wc -l <"$d/summary.csv")
	[ "$n1" = "$n2" ] || why+=("summary.csv still growing ($n1 -> $n2 lines)")
	[ -n "$simdir" ] || why+=("could not find the pmb-sim-* directory of pid $child")
	[ -n "$simdir" ] && [ -e "$simdir" ] && why+=("$simdir left behind")
	[ "$(json_bool "$d/meta.json" complete)" = false ] || why+=("meta.json complete is not false")
	if [ "$sig" = INT ]; then
		[ "$rc" -eq 130 ] || why+=("exit status $rc, want 130")
		[ "$(json_int "$d/meta.json" interrupted_by_signal)" = 2 ] || why+=("meta.json interrupted_by_signal is not 2")
	fi
	check "$name" "${why[@]}"
	if [ "$sig" = KILL ]; then
		resume_ok "sim: --resume after the parent was killed completes exactly" "$d"
	fi
}
if command -v valgrind >/dev/null; then
	sim_case KILL "sim: SIGKILL of the parent stops valgrind (PR_SET_PDEATHSIG), no pmb-sim-* left"
	sim_case INT "sim: kill -INT of the parent is forwarded (exit 130), no pmb-sim-* left"
else
	skip "sim: valgrind child dies with its parent" "valgrind not installed"
fi
