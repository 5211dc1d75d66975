#!/usr/bin/env bash
# Bad input, case by case: every one must exit non-zero with ONE clear
# error line (what is wrong and how to fix it; asserted on a key phrase),
# no Python traceback, and no lost or half-written rows.  The table in
# docs/reliability.md lists the same cases and messages.
#
# Some cases need root (mount, chattr, sysctl, setpriv); they print
# `skip - ...` otherwise.
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
PYTHON=${PYTHON:-/usr/bin/python3}
BIN=$(readlink -f "$PMB_BIN")
[ -x "$BIN" ] || { echo "not ok - setup: $PMB_BIN missing; run make test-build"; exit 1; }

TMP=$(mktemp -d /tmp/pmb-bad-input.XXXXXX)
chmod 755 "$TMP" # `nobody` must reach its subdirectories
MOUNTS=()
PARANOID_SAVED=
cleanup() {
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	[ -n "$PARANOID_SAVED" ] && echo "$PARANOID_SAVED" >/proc/sys/kernel/perf_event_paranoid
	chattr -i "$TMP/immutable" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# Quick runs: timer backend, tiny samples.
FAST=(--backend timer --reps 2 --min-samples 1 --warmup-ms 0 --min-sample-ms 0.05
	--point-seconds 0.01 --quiet)
is_root() { [ "$(id -u)" = 0 ]; }
ncpu=$(nproc)

ok() { echo "ok - $1"; }
notok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
	[ -f "$TMP/err" ] && sed 's/^/#   stderr: /' "$TMP/err" | head -8
}
skip() { echo "skip - $1: $2"; }

# run CMD...: stdout in $TMP/out, stderr in $TMP/err, status in $rc.
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# The error lines of the last run (warnings and notes are not errors).
error_lines() { grep -cE '(^|: )error:|\*\*\* ' "$TMP/err"; }

# expect NAME WANT_RC PHRASE CMD...: exit status WANT_RC ("nz" = any
# non-zero), exactly one error line, and that line contains PHRASE.
expect() {
	local name=$1 want=$2 phrase=$3
	shift 3
	run "$@"
	local why=()
	if [ "$want" = nz ]; then
		[ "$rc" -ne 0 ] || why+=("exit status 0, want non-zero")
	else
		[ "$rc" -eq "$want" ] || why+=("exit status $rc, want $want")
	fi
	local n
	n=$(error_lines)
	[ "$n" -eq 1 ] || why+=("$n error lines, want exactly 1")
	grep -qF -- "$phrase" "$TMP/err" || why+=("message lacks: $phrase")
	! grep -q Traceback "$TMP/err" || why+=("Python traceback")
	[ "$rc" -lt 128 ] || why+=("killed by signal $((rc - 128))")
	if [ ${#why[@]} -eq 0 ]; then ok "$name"; else notok "$name" "${why[@]}"; fi
}

# A usage error must not leave a run directory behind.
no_run_dir() {
	local name=$1 out=$2
	if [ -z "$(ls -A "$out" 2>/dev/null)" ]; then ok "$name: no run directory made"; else
		notok "$name: no run directory made" "found: $(ls "$out")"; fi
}

# CSV_AWK and csv_ok FILE (every line whole and as wide as the header).
. tests/e2e/csv_lib.sh

# --- command line ------------------------------------------------------------
run "$BIN" --help
if [ "$rc" -eq 0 ] && grep -q '^usage:' "$TMP/out" && [ ! -s "$TMP/err" ]; then ok "--help exits 0 with usage"; else
	notok "--help exits 0 with usage" "exit $rc"; fi
expect "unknown option exits 2 and points to --help" 2 "unknown option '--frobnicate'; see --help" \
	"$BIN" --frobnicate
expect "unknown short option" 2 "unknown option '-Z'; see --help" "$BIN" -Z
expect "option without its value" 2 "option '--sizes' needs a value; see --help" "$BIN" --sizes
expect "stray argument" 2 "unexpected argument 'sum'; options start with --" "$BIN" sum
mkdir -p "$TMP/o1"
expect "unknown kernel family (--filter)" 2 "no kernel matches 'nosuch'; available: empty/noop" \
	"$BIN" "${FAST[@]}" --filter nosuch --out "$TMP/o1"
expect "unknown variant (--filter)" 2 "no kernel matches 'sum/nosuch'; available:" \
	"$BIN" "${FAST[@]}" --filter sum/nosuch --out "$TMP/o1"
expect "unknown event (--events)" 2 "--events: unknown counter 'cyclez'; known counters: cycles," \
	"$BIN" "${FAST[@]}" --events cycles,cyclez --out "$TMP/o1"
expect "empty event in a list" 2 "empty counter name in 'cycles,,branches'" \
	"$BIN" "${FAST[@]}" --events cycles,,branches --out "$TMP/o1"
expect "unknown backend" 2 "--backend: unknown backend 'perfx'; use papi, timer or sim" \
	"$BIN" --backend perfx --out "$TMP/o1"
expect "size zero" 2 "--sizes: size '0' is zero; use bytes or a binary suffix" \
	"$BIN" "${FAST[@]}" --sizes 0 --out "$TMP/o1"
expect "size negative" 2 "--sizes: negative size '-4K'" "$BIN" "${FAST[@]}" --sizes 4K,-4K --out "$TMP/o1"
expect "size not a number" 2 "--sizes: size 'lots' is not a number" \
	"$BIN" "${FAST[@]}" --sizes lots --out "$TMP/o1"
expect "size with exponent (1e30)" 2 "--sizes: size '1e30' is not a plain number" \
	"$BIN" "${FAST[@]}" --sizes 1e30 --out "$TMP/o1"
expect "size overflowing uint64" 2 "size '99999999999999999999' is too large (over 64 GiB)" \
	"$BIN" "${FAST[@]}" --sizes 99999999999999999999 --out "$TMP/o1"
expect "size with unknown unit" 2 "size '4Q' has an unknown unit 'Q'" \
	"$BIN" "${FAST[@]}" --sizes 4Q --out "$TMP/o1"
expect "size range backwards" 2 "size range '8M:4K' runs backwards; write MIN:MAX" \
	"$BIN" "${FAST[@]}" --sizes 8M:4K --out "$TMP/o1"
expect "thread count zero" 2 "--threads: thread count out of range (got '0'); use 1 to" \
	"$BIN" "${FAST[@]}" --threads 0 --out "$TMP/o1"
expect "repetitions not a number" 2 "--reps: max_samples must be a whole number (got 'many')" \
	"$BIN" "${FAST[@]}" --reps many --out "$TMP/o1"
expect "min-samples above reps" 2 "min_samples (50) is larger than max_samples (10)" \
	"$BIN" --min-samples 50 --reps 10 --out "$TMP/o1"
expect "target-ci negative" 2 "--target-ci: target_ci (percent) out of range (got '-1')" \
	"$BIN" --target-ci -1 --out "$TMP/o1"
no_run_dir "usage errors" "$TMP/o1"

# --- machine limits ----------------------------------------------------------
mkdir -p "$TMP/o2"
expect "sweep above free memory (--sizes 60G)" 2 "is available; use smaller --sizes or fewer --threads" \
	"$BIN" "${FAST[@]}" --sizes 60G --out "$TMP/o2"
expect "more threads than cores" 2 "$((ncpu + 1)) threads asked for, but only $ncpu core" \
	"$BIN" "${FAST[@]}" --sizes 4K --threads $((ncpu + 1)) --out "$TMP/o2"
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	# taskset narrows the cpus like a cgroup cpuset does: 1 core usable.
	expect "threads beyond the cpus allowed (taskset -c 0)" 2 \
		"2 threads asked for, but only 1 core is usable here" \
		taskset -c 0 "$BIN" "${FAST[@]}" --sizes 4K --threads 2 --out "$TMP/o2"
else
	skip "threads beyond the cpus allowed (taskset -c 0)" "needs 2 cpus and taskset"
fi
no_run_dir "machine-limit errors" "$TMP/o2"

# --- configs -----------------------------------------------------------------
run make -s -n run CONFIG=nosuch
if [ "$rc" -ne 0 ] && grep -qF "unknown config 'nosuch'; available: " "$TMP/err" &&
	grep -q "x86" "$TMP/err" && [ "$(grep -c 'unknown config' "$TMP/err")" -eq 1 ]; then
	ok "make run CONFIG=nosuch lists the configs"
else notok "make run CONFIG=nosuch lists the configs" "exit $rc"; fi
cfg() { printf "$2" >"$TMP/$1"; }
cfg unknown.ini '# a comment\nsizes = 4K\nfrobnicate = 1\n'
expect "config: unknown key (file:line)" 2 "unknown.ini:3: unknown key 'frobnicate'; known keys: kernels," \
	"$BIN" --config "$TMP/unknown.ini" --out "$TMP/o1"
cfg noeq.ini 'sizes = 4K\nthreads 2\n'
expect "config: line without '='" 2 "noeq.ini:2: malformed line; write 'key = value'" \
	"$BIN" --config "$TMP/noeq.ini" --out "$TMP/o1"
cfg section.ini '# x\n[run]\nsizes = 4K\n'
expect "config: [section] line" 2 "section.ini:2: sections are not used ('[run]'); write plain key = value" \
	"$BIN" --config "$TMP/section.ini" --out "$TMP/o1"
cfg badval.ini 'sizes = 4K\nthreads = two\n'
expect "config: bad value" 2 "badval.ini:2: thread count must be a whole number (got 'two')" \
	"$BIN" --config "$TMP/badval.ini" --out "$TMP/o1"
cfg badsize.ini 'max_size = 1e30\n'
expect "config: overflowing size" 2 "badsize.ini:1: size '1e30' is not a plain number" \
	"$BIN" --config "$TMP/badsize.ini" --out "$TMP/o1"
printf 'sizes = 4K\n# %0300d\n' 0 >"$TMP/long.ini"
expect "config: line over 200 characters" 2 "long.ini:2: line too long" \
	"$BIN" --config "$TMP/long.ini" --out "$TMP/o1"
expect "config: missing file" 2 "cannot read config '$TMP/nosuch.ini': No such file or directory" \
	"$BIN" --config "$TMP/nosuch.ini" --out "$TMP/o1"
no_run_dir "config errors" "$TMP/o1"

# --- output directory --------------------------------------------------------
touch "$TMP/afile"
expect "--out is a file" 1 "--out '$TMP/afile' is not a directory; pass a directory" \
	"$BIN" "${FAST[@]}" --filter empty --sizes 4K --out "$TMP/afile"
expect "--out below a missing directory" 1 "cannot create results directory '$TMP/no/such': No such file or directory" \
	"$BIN" "${FAST[@]}" --filter empty --sizes 4K --out "$TMP/no/such"
if is_root && mkdir -p "$TMP/ro" && mount -t tmpfs -o ro,size=64k tmpfs "$TMP/ro" 2>/dev/null; then
	MOUNTS+=("$TMP/ro")
	expect "--out on a read-only file system" 1 "results directory '$TMP/ro' is not writable: Read-only file system" \
		"$BIN" "${FAST[@]}" --filter empty --sizes 4K --out "$TMP/ro"
else skip "--out on a read-only file system" "needs root to mount a read-only tmpfs"; fi
mkdir -p "$TMP/immutable"
if is_root && chattr +i "$TMP/immutable" 2>/dev/null; then
	expect "--out immutable (chattr +i)" 1 "results directory '$TMP/immutable' is not writable: Operation not permitted" \
		"$BIN" "${FAST[@]}" --filter empty --sizes 4K --out "$TMP/immutable"
	chattr -i "$TMP/immutable"
else skip "--out immutable (chattr +i)" "needs root and a file system with chattr"; fi
mkdir -p "$TMP/rootonly"
chmod 755 "$TMP/rootonly"
if is_root && command -v setpriv >/dev/null; then
	expect "--out not writable for the user (nobody)" 1 "results directory '$TMP/rootonly' is not writable: Permission denied" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN" "${FAST[@]}" --filter empty \
		--sizes 4K --out "$TMP/rootonly"
else skip "--out not writable for the user (nobody)" "needs root and setpriv"; fi

# Full disk: a 64 KiB tmpfs fills up mid-sweep.  One error, the rows
# written before are intact, no half row at the end of any file.
if is_root && mkdir -p "$TMP/full" && mount -t tmpfs -o size=64k tmpfs "$TMP/full" 2>/dev/null; then
	MOUNTS+=("$TMP/full")
	expect "--out fills up (64 KiB tmpfs)" 1 "No space left on device; free space or choose another --out" \
		"$BIN" "${FAST[@]}" --sizes 4K,8K,16K --out "$TMP/full"
	d=$(ls -d "$TMP"/full/*/ 2>/dev/null | head -1)
	bad=() rows=0
	for f in "$d"*.csv; do
		[ -e "$f" ] || continue
		csv_ok "$f" || bad+=("$(basename "$f") has a partial or malformed line")
		rows=$((rows + $(wc -l <"$f") - 1))
	done
	grep -qF "rows measured so far are kept in" "$TMP/err" || bad+=("stderr does not say where the rows are")
	[ "$rows" -gt 0 ] || bad+=("no rows kept")
	if [ ${#bad[@]} -eq 0 ]; then ok "full disk keeps $rows whole rows, no half row"; else
		notok "full disk keeps whole rows, no half row" "${bad[@]}"; fi
else skip "--out fills up (64 KiB tmpfs)" "needs root to mount a tmpfs"; fi

# --- run directories are never overwritten -----------------------------------
mkdir -p "$TMP/same"
"$BIN" "${FAST[@]}" --filter empty --sizes 4K --out "$TMP/same" >"$TMP/a.out" 2>/dev/null &
pa=$!
"$BIN" "${FAST[@]}" --filter empty --sizes 4K --out "$TMP/same" >"$TMP/b.out" 2>/dev/null &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
da=$(cat "$TMP/a.out") db=$(cat "$TMP/b.out")
if [ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] && [ -n "$da" ] && [ "$da" != "$db" ] &&
	[ "$(ls "$TMP/same" | wc -l)" -eq 2 ] && csv_ok "$da/summary.csv" && csv_ok "$db/summary.csv" &&
	[ "$(wc -l <"$da/summary.csv")" -eq "$(wc -l <"$db/summary.csv")" ]; then
	ok "two runs at the same time get distinct run directories"
else notok "two runs at the same time get distinct run directories" "rc $ra/$rb: '$da' '$db'"; fi
# --resume into a complete run: nothing to do, earlier bytes untouched.
if [ -n "$da" ] && [ -d "$da" ]; then
	before=$(cd "$da" && md5sum ./*.csv)
	run "$BIN" --resume "$da"
	after=$(cd "$da" && md5sum ./*.csv)
	if [ "$rc" -eq 0 ] && [ "$before" = "$after" ] && grep -q '"complete": true' "$da/meta.json"; then
		ok "--resume of a complete run rewrites no row"
	else notok "--resume of a complete run rewrites no row" "exit $rc"; fi
fi
expect "--resume of a directory that is not a run" 1 "--resume: '$TMP/o1' is not a pmubench run" \
	"$BIN" --resume "$TMP/o1"
expect "--resume of a file" 1 "--resume: '$TMP/afile' is not a run directory" "$BIN" --resume "$TMP/afile"
expect "--resume of a missing directory" 1 "--resume: '$TMP/nosuch' is not a run directory" \
	"$BIN" --resume "$TMP/nosuch"

# --- counters: permissions and a missing PAPI --------------------------------
if is_root && [ -w /proc/sys/kernel/perf_event_paranoid ] && command -v setpriv >/dev/null; then
	PARANOID_SAVED=$(cat /proc/sys/kernel/perf_event_paranoid)
	if echo 3 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null &&
		[ "$(cat /proc/sys/kernel/perf_event_paranoid)" = 3 ]; then
		mkdir -p "$TMP/par"
		chmod 777 "$TMP/par"
		# Graceful: the run completes without those counters and says why.
		run setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN" --backend papi \
			--events all --reps 2 --min-samples 1 --warmup-ms 0 --point-seconds 0.01 -q \
			--filter empty --sizes 4K --out "$TMP/par"
		d=$(ls -d "$TMP"/par/*/ 2>/dev/null | head -1)
		if [ "$rc" -eq 0 ] && [ -n "$d" ] && grep -q '"perf_event_paranoid": 3' "$d/meta.json" &&
			grep -q 'perf_event_paranoid is 3.*sysctl -w kernel.perf_event_paranoid=1' "$d/meta.json"; then
			ok "perf_event_paranoid=3: run completes, meta.json reason names the sysctl"
		else
			notok "perf_event_paranoid=3: run completes, meta.json reason names the sysctl" "exit $rc, dir '$d'"
		fi
		run setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN" --list --events all
		if [ "$rc" -eq 0 ] && grep -q 'page_faults .*no .*kernel.perf_event_paranoid is 3.*sysctl -w kernel.perf_event_paranoid=1' "$TMP/out"; then
			ok "perf_event_paranoid=3: --list explains the sysctl"
		else notok "perf_event_paranoid=3: --list explains the sysctl" "exit $rc"; fi
	else
		skip "perf_event_paranoid=3" "the kernel does not accept 3"
	fi
	echo "$PARANOID_SAVED" >/proc/sys/kernel/perf_event_paranoid
	PARANOID_SAVED=
else
	skip "perf_event_paranoid=3" "needs root, a writable sysctl and setpriv"
fi

mkdir -p "$TMP/nopapi"
run env PMB_PAPI_LIBRARY=/nonexistent/libpapi.so "$BIN" --backend papi --reps 2 --min-samples 1 \
	--warmup-ms 0 --point-seconds 0.01 -q --filter empty --sizes 4K --out "$TMP/nopapi"
d=$(ls -d "$TMP"/nopapi/*/ 2>/dev/null | head -1)
cyc=$(awk "$CSV_AWK"'NR == 1 { n = csv($0, h); for (i = 1; i <= n; i++) if (h[i] == "cycles") c = i; next }
	{ csv($0, f); print f[c] }' \
	"$d"size-4096.csv 2>/dev/null | sort -u | tr -d '\n')
if [ "$rc" -eq 0 ] && [ -n "$d" ] && [ -z "$cyc" ] && grep -q '"complete": true' "$d/meta.json" &&
	grep -q '"reason": "PAPI library not found (dlopen: /nonexistent/libpapi.so' "$d/meta.json"; then
	ok "PAPI library missing: run completes (exit 0), counters empty, reason in meta.json"
else notok "PAPI library missing: run completes (exit 0), counters empty, reason in meta.json" \
	"exit $rc, cycles values '$cyc'"; fi

# --- damaged results given to the scripts ------------------------------------
if "$PYTHON" -c 'import pandas, numpy, matplotlib' 2>/dev/null; then
	export PYTHONPATH=$PWD/scripts # the pmubench analysis package
	damage() { # NAME: a copy of the run-a fixture, then damaged by the caller
		rm -rf "$TMP/runs/$1"
		mkdir -p "$TMP/runs"
		cp -r tests/fixtures/run-a "$TMP/runs/$1"
		echo "$TMP/runs/$1"
	}
	d=$(damage truncated)
	f=$d/size-16384.csv
	head -c 45 tests/fixtures/run-a/size-16384.csv >"$f" # cut inside the header
	d2=$(damage garbage)
	sed -i '3i #@!garbage from a crashed writer' "$d2/size-16384.csv" # not the last line
	d3=$(damage empty)
	: >"$d3/size-524288.csv"
	d4=$(damage binary)
	head -c 2000 /dev/urandom >"$d4/summary.csv"
	d5=$(damage badmeta)
	echo '{"schema_version": 1, "run_id": ' >"$d5/meta.json"
	# Both scripts read through scripts/pmubench/load.py: every damage for
	# plot.py, the two CSV ones for compare.py (a Python start is seconds).
	# A damaged size file is skipped with a warning saying why (the other
	# sizes are still plotted); a damaged summary.csv or meta.json stops
	# the script with one error.
	expect_skip() { # NAME PHRASE CMD...: exit 0, a warning naming the file and the damage
		local name=$1 phrase=$2
		shift 2
		run "$@"
		local why=()
		[ "$rc" -eq 0 ] || why+=("exit status $rc, want 0")
		grep -qE "skipping size-[0-9]+\.csv: " "$TMP/err" || why+=("no 'skipping size-N.csv' warning")
		grep -qF -- "$phrase" "$TMP/err" || why+=("warning lacks: $phrase")
		! grep -q Traceback "$TMP/err" || why+=("Python traceback")
		if [ ${#why[@]} -eq 0 ]; then ok "$name"; else notok "$name" "${why[@]}"; fi
	}
	for c in "truncated:header does not match schema_version" "garbage:field(s), the header has" \
		"empty:file is empty" "binary:not UTF-8 text" "badmeta:meta.json: not valid JSON"; do
		case=${c%%:*} phrase=${c#*:}
		case $case in
		truncated | garbage | empty)
			expect_skip "plot.py: $case size file skipped, the rest plotted" "$phrase" \
				"$PYTHON" -m pmubench.plot "$TMP/runs/$case" ;;
		*) expect "plot.py: $case file" nz "$phrase" "$PYTHON" -m pmubench.plot "$TMP/runs/$case" ;;
		esac
		case $case in truncated | garbage)
			expect_skip "compare.py: $case size file skipped" "$phrase" "$PYTHON" -m pmubench.compare \
				"$TMP/runs/$case" tests/fixtures/run-b ;;
		esac
	done
	d6=$(damage alldamaged)
	for f in "$d6"/size-*.csv; do : >"$f"; done
	expect "plot.py: every size file damaged" nz "no readable size file" "$PYTHON" -m pmubench.plot "$d6"
	expect "plot.py: not a directory" nz "no such directory; pass a run directory" \
		"$PYTHON" -m pmubench.plot "$TMP/nosuch"
else
	skip "plot.py/compare.py on damaged CSVs" "pandas/numpy/matplotlib missing (make deps-test)"
fi
