#!/usr/bin/env bash
# Replays the fuzz corpus (tests/fuzz/corpus/<target>/) through each fuzz
# target built without libFuzzer (a plain main, tests/fuzz/replay_main.c)
# but with ASan+UBSan: `make fuzz-replay-build`, then one case per target.
# No clang needed; `make fuzz` (clang/libFuzzer) grows the corpus.
set -u
cd "$(dirname "$0")/../.."
TMP=$(mktemp -d /tmp/pmb-fuzz-replay.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if ! make -s fuzz-replay-build >"$TMP/build.log" 2>&1; then
	echo "not ok - fuzz replay build (make fuzz-replay-build)"
	tail -20 "$TMP/build.log" | sed 's/^/#   /'
	exit 1
fi
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	t=${t#fuzz_}
	corpus=tests/fuzz/corpus/$t
	n=$(ls "$corpus" 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "not ok - fuzz replay $t: no corpus in $corpus"
		continue
	fi
	build/fuzz-replay/replay_"$t" "$corpus" >"$TMP/$t.log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/$t.log"; then
		echo "ok - fuzz replay $t ($n inputs)"
	else
		echo "not ok - fuzz replay $t (exit $rc)"
		grep -E -A12 'ERROR: |runtime error:' "$TMP/$t.log" | head -30 | sed 's/^/#   /'
		tail -3 "$TMP/$t.log" | sed 's/^/#   | /'
	fi
done
