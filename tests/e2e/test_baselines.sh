#!/usr/bin/env bash
# End-to-end: baselines like criterion's.  --save-baseline NAME registers a
# finished run per machine; `make compare BASELINE=NAME` compares the newest
# run with it, and `make compare` alone with the previous run of the same
# config on this machine — both with make compare's one statistics rule.
set -u
cd "$(dirname "$0")/../.."
bin=${PMB_BIN:-build/test/pmubench}
tmp=$(mktemp -d /tmp/pmb-e2e-baseline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
out=$tmp/results
quick=(--sizes 16K --reps 6 --min-samples 6 --point-seconds 0.05 --warmup-ms 5 -q --out "$out")
host=$(hostname -s)

r1=$("$bin" --filter sum/index "${quick[@]}" --save-baseline main 2>"$tmp/r1.err")
check "--save-baseline main registers the run under .baselines/<host>/main" \
	'[ -d "$r1" ] && [ "$(readlink -f "$out/.baselines/$host/main")" = "$(readlink -f "$r1")" ] &&
	 [ "$(readlink "$out/.baselines/$host/main")" = "../../$(basename "$r1")" ]'
sleep 1
r3=$("$bin" --filter branch/sorted_branchy "${quick[@]}" 2>/dev/null)
sleep 1
r2=$("$bin" --filter sum/index "${quick[@]}" 2>/dev/null)
check "three more runs made" '[ -d "$r2" ] && [ -d "$r3" ]'

make --no-print-directory compare OUT="$out" COMPARE_ARGS=--color=never >"$tmp/prev.out" 2>"$tmp/prev.err"
check "make compare alone: A is the previous run of the same config, skipping other configs" \
	'[ $? -eq 0 ] && grep -q "A = previous run of config .adhoc. on $host: $r1" "$tmp/prev.err"'
make --no-print-directory compare OUT="$out" BASELINE=main COMPARE_ARGS=--color=never >"$tmp/base.out" 2>"$tmp/base.err"
check "make compare BASELINE=main compares the newest run with the saved one" \
	'[ $? -eq 0 ] && grep -q "A = baseline .main. of $host: $r1" "$tmp/base.err"'
make --no-print-directory compare A="$r1" B="$r2" COMPARE_ARGS=--color=never >"$tmp/ab.out" 2>&1
check "same table and verdicts as make compare A=... B=... (one statistics rule)" \
	'grep -q "sum/index/16KiB" "$tmp/ab.out" && diff <(grep -A3 "^Benchmark" "$tmp/ab.out") <(grep -A3 "^Benchmark" "$tmp/base.out") >/dev/null &&
	 diff <(grep -A3 "^Benchmark" "$tmp/ab.out") <(grep -A3 "^Benchmark" "$tmp/prev.out") >/dev/null'
echo "--- make compare BASELINE=main:"; cat "$tmp/base.err" "$tmp/base.out"

make --no-print-directory compare OUT="$out" BASELINE=nosuch >/dev/null 2>"$tmp/err"
check "an unknown baseline is an error listing the saved ones" \
	'[ $? -ne 0 ] && grep -q "no baseline .nosuch. for host .$host.*saved ones: main" "$tmp/err"'
make --no-print-directory compare OUT="$out" RUN="$r1" >/dev/null 2>"$tmp/err"
check "the first run of a config has no previous run: an error saying how to pick one" \
	'[ $? -ne 0 ] && grep -q "no earlier complete run of config" "$tmp/err"'
"$bin" --filter sum/index "${quick[@]}" --save-baseline ../x >/dev/null 2>"$tmp/err"
check "a baseline name with a path is refused before running" \
	'[ $? -eq 2 ] && grep -q "baseline name" "$tmp/err" && [ ! -e "$out/x" ] && [ "$(ls "$out" | wc -l)" = 3 ]'
"$bin" --filter sum/index "${quick[@]}" --save-baseline main >/dev/null 2>&1
check "saving the same name again moves it to the new run" \
	'[ "$(readlink -f "$out/.baselines/$host/main")" != "$(readlink -f "$r1")" ]'
