#!/usr/bin/env bash
# The test driver behind `make test`: runs every suite, counts test cases
# (not files), and ends with the plain closing line `N passed, N failed`.
#
# Suites, found by name so a new test file needs no edit here:
#   - cmocka programs: build/test/test_* (and build/asan/test_* when built)
#   - end-to-end scripts: tests/e2e/test_*.sh, each printing one line per
#     case: `ok - <name>`, `not ok - <name>` or `skip - <name>: <reason>`
#   - script tests: tests/scripts/test_*.py (unittest, Debian's python3)
# PMB_TEST_ONLY=<glob> runs only the suites whose name matches.
set -u
cd "$(dirname "$0")/.."
export PMB_BIN=${PMB_BIN:-build/test/pmubench}
export PYTHON=/usr/bin/python3
only=${PMB_TEST_ONLY:-*}
log_dir=build/test/logs
mkdir -p "$log_dir"
passed=0 failed=0 skipped=0
failed_names=()

count() { # suite-name passed failed skipped
	passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + $4))
	printf '%-40s %4d passed, %d failed%s\n' "$1" "$2" "$3" "$([ "$4" -gt 0 ] && echo ", $4 skipped")"
}

run_cmocka() {
	local bin=$1 name log rc
	name=$(basename "$(dirname "$bin")")/$(basename "$bin")
	[[ $name == $only ]] || return 0
	log="$log_dir/${name//\//_}.log"
	"$bin" >"$log" 2>&1
	rc=$?
	local ran ok bad
	ran=$(sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	bad=$((ran - ok))
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi # crashed before reporting
	if [ "$bad" -gt 0 ]; then
		failed_names+=("$name (log: $log)")
		grep -E '^\[  (FAILED|ERROR) |^\[  FAILED  \]|error:|Assertion' "$log" | head -20 | sed 's/^/    /'
	fi
	count "$name" "$ok" "$bad" 0
}

run_e2e() {
	local script=$1 name log
	name=e2e/$(basename "$script" .sh)
	[[ $name == $only ]] || return 0
	log="$log_dir/$(basename "$script" .sh).log"
	bash "$script" >"$log" 2>&1
	local rc=$? ok bad sk
	ok=$(grep -c '^ok - ' "$log")
	bad=$(grep -c '^not ok - ' "$log")
	sk=$(grep -c '^skip - ' "$log")
	if [ "$rc" -ne 0 ] || [ $((ok + bad + sk)) -eq 0 ]; then
		bad=$((bad + 1)) # the script broke, or tested nothing
		echo "    $script exited $rc after $ok ok, $bad not ok"
	fi
	if [ "$bad" -gt 0 ]; then
		failed_names+=("$name (log: $log)")
		grep '^not ok - ' "$log" | sed 's/^/    /'
		tail -5 "$log" | sed 's/^/    | /'
	fi
	grep '^skip - ' "$log" | sed 's/^/    /'
	count "$name" "$ok" "$bad" "$sk"
}

run_python() {
	local name=scripts/unittest log
	[[ $name == $only ]] || return 0
	compgen -G 'tests/scripts/test_*.py' >/dev/null || return 0
	log="$log_dir/scripts.log"
	"$PYTHON" -m unittest discover -s tests/scripts -p 'test_*.py' >"$log" 2>&1
	local rc=$? ran bad sk
	ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$log" | tail -1)
	ran=${ran:-0}
	bad=$(sed -n 's/.*FAILED (\(.*\))/\1/p' "$log" | tr ',' '\n' | sed -n 's/.*\(failures\|errors\)=\([0-9]*\).*/\2/p' | awk '{s+=$1} END {print s+0}')
	sk=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' "$log" | tail -1)
	sk=${sk:-0}
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
	if [ "$bad" -gt 0 ]; then
		failed_names+=("$name (log: $log)")
		grep -E '^(FAIL|ERROR):' "$log" | sed 's/^/    /'
	fi
	grep -E 'skipped ' "$log" | head -5 | sed 's/^/    /'
	count "$name" "$((ran - bad - sk))" "$bad" "$sk"
}

for dir in build/test build/asan; do
	for bin in "$dir"/test_*; do
		[ -x "$bin" ] && [ -f "$bin" ] && run_cmocka "$bin"
	done
done
for script in tests/e2e/test_*.sh; do
	[ -f "$script" ] && run_e2e "$script"
done
run_python

echo
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed suites:"
	printf '  %s\n' "${failed_names[@]}"
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
