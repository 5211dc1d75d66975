#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer: builds build/asan/ (make
# check-asan-build, scripts/mk/checks.mk) and runs the asan pmubench over every
# kernel (PAPI and timer backends, 1 and 2 threads), through bad input, an
# interruption and a resume.  Any sanitizer report fails the case.
#
# The cmocka programs build/asan/test_* are run by tests/run.sh like those
# in build/test/ (`make test` builds them first).  This script runs them
# itself only when it had to (re)build them, or with PMB_ASAN_CMOCKA=1
# (`make check-asan`), so they do not run twice.
set -u
cd "$(dirname "$0")/../.."
TMP=$(mktemp -d /tmp/pmb-asan.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
ASAN=build/asan
# Leak checking stays on: the build keeps PAPI loaded (tests/fuzz/
# asan_keep_loaded.c), so PAPI's never-freed blocks are reachable.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

ok() { echo "ok - $1"; }
notok() {
	echo "not ok - $1"
	[ -n "${2:-}" ] && grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY' "$2" |
		head -30 | sed 's/^/#   /'
	[ -n "${2:-}" ] && tail -3 "$2" | sed 's/^/#   | /'
}
clean_log() { ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|Sanitizer:' "$1"; }

run_cmocka=${PMB_ASAN_CMOCKA:-}
if [ -z "$run_cmocka" ]; then
	if make -q check-asan-build >/dev/null 2>&1; then run_cmocka=0; else run_cmocka=1; fi
fi
if ! make -s check-asan-build >"$TMP/build.log" 2>&1; then
	echo "not ok - asan build (make check-asan-build)"
	tail -20 "$TMP/build.log" | sed 's/^/#   /'
	exit 1
fi
echo "ok - asan build (make check-asan-build)"

if [ "$run_cmocka" = 1 ]; then
	for t in "$ASAN"/test_*; do
		[ -x "$t" ] || continue
		log=$TMP/$(basename "$t").log
		"$t" >"$log" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ] && clean_log "$log"; then ok "asan $(basename "$t")"; else
			notok "asan $(basename "$t") (exit $rc)" "$log"; fi
	done
else
	echo "# asan cmocka programs: run by tests/run.sh from $ASAN/ (PMB_ASAN_CMOCKA=1 runs them here)"
fi

BIN=$ASAN/pmubench
QUICK=(--reps 3 --min-samples 2 --warmup-ms 1 --min-sample-ms 0.2 --point-seconds 0.02 --quiet)
sweep() { # NAME WANT_RC ARGS...
	local name=$1 want=$2
	shift 2
	local log=$TMP/${name//[^a-zA-Z0-9]/_}.log
	"$BIN" "$@" >"$log" 2>&1
	local rc=$?
	if [ "$rc" -eq "$want" ] && clean_log "$log"; then ok "asan pmubench: $name"; else
		notok "asan pmubench: $name (exit $rc, want $want)" "$log"; fi
}
sweep "every kernel, papi backend, 1 and 2 threads" 0 "${QUICK[@]}" --backend papi --events all \
	--sizes 4K,64K --threads 1,2 --out "$TMP/r1"
sweep "every kernel, timer backend" 0 "${QUICK[@]}" --backend timer --sizes 16K --out "$TMP/r1"
sweep "--list" 0 --list --events all
printf 'sizes = 4K\n[x]\n' >"$TMP/bad.ini"
sweep "bad config" 2 --config "$TMP/bad.ini"
sweep "bad sizes" 2 --sizes 4K,1e30
sweep "unknown option" 2 --frobnicate

# Interrupt, then resume (signal handler, partial-line cut, args reload).
mkdir -p "$TMP/r2"
"$BIN" --backend timer --filter sum --sizes 4K,16K,64K --min-samples 10 --reps 10 --min-sample-ms 5 \
	--point-seconds 10 --warmup-ms 1 --quiet --out "$TMP/r2" >"$TMP/int.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
	f=$(ls "$TMP"/r2/*/summary.csv 2>/dev/null | head -1)
	[ -n "$f" ] && [ "$(wc -l <"$f")" -gt 20 ] && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
dir=$(dirname "$(ls "$TMP"/r2/*/summary.csv | head -1)")
if [ "$rc" -eq 130 ] && clean_log "$TMP/int.log"; then ok "asan pmubench: SIGINT mid-sweep"; else
	notok "asan pmubench: SIGINT mid-sweep (exit $rc, want 130)" "$TMP/int.log"; fi
printf 'half,a,row' >>"$dir/summary.csv"
sweep "--resume after SIGINT" 0 --resume "$dir"
