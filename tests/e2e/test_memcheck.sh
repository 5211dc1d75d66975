#!/usr/bin/env bash
# valgrind memcheck over the cmocka programs and pmubench (build/test/,
# -O2 -g): invalid reads/writes, uninitialised values and definite leaks
# fail (--errors-for-leak-kinds=definite --error-exitcode=1).
# tests/valgrind.supp holds the suppressions (none needed today).
#
# test_counters_sim is left out: the sim backend re-runs the program under
# valgrind's callgrind, and valgrind cannot run inside valgrind.
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
TMP=$(mktemp -d /tmp/pmb-memcheck.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
if ! command -v valgrind >/dev/null; then
	echo "skip - memcheck: valgrind not installed (make deps-test)"
	exit 0
fi
VG=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
	--error-exitcode=97 --suppressions=tests/valgrind.supp --child-silent-after-fork=yes)

ok() { echo "ok - $1"; }
notok() {
	echo "not ok - $1"
	grep -E -A15 '^==[0-9]+== [A-Z]' "$2" | head -40 | sed 's/^/#   /'
	tail -3 "$2" | sed 's/^/#   | /'
}
check() { # NAME WANT_RC CMD...
	local name=$1 want=$2
	shift 2
	local log=$TMP/${name//[^a-zA-Z0-9]/_}.log
	"${VG[@]}" "$@" >"$log" 2>&1
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "memcheck $name"; else
		notok "memcheck $name (exit $rc, want $want; 97 = valgrind found errors)" "$log"; fi
}

for t in build/test/test_*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	case $(basename "$t") in test_counters_sim) continue ;; esac
	check "$(basename "$t")" 0 "$t"
done
[ -x "$PMB_BIN" ] || { echo "not ok - memcheck pmubench: $PMB_BIN missing; run make test-build"; exit 1; }
QUICK=(--reps 2 --min-samples 1 --warmup-ms 0 --min-sample-ms 0.2 --point-seconds 0.01 --quiet)
check "pmubench: every kernel, papi backend, 1 and 2 threads" 0 "$PMB_BIN" "${QUICK[@]}" \
	--backend papi --events all --sizes 4K --threads 1,2 --out "$TMP/r"
check "pmubench: --list" 0 "$PMB_BIN" --list --events all
printf 'sizes = 4K\nthreads = two\n' >"$TMP/bad.ini"
check "pmubench: bad config" 2 "$PMB_BIN" --config "$TMP/bad.ini"
dir=$(ls -d "$TMP"/r/*/ | head -1)
check "pmubench: --resume of a complete run" 0 "$PMB_BIN" --resume "$dir"
