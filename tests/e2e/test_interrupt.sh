#!/usr/bin/env bash
# Interruption and resume: SIGINT / SIGTERM mid-sweep exit 130 / 143,
# keep every finished row whole, say complete=false and the signal in
# meta.json, name the run directory and the --resume command; --resume DIR
# then finishes the sweep without repeating a point and without rewriting
# a byte written before.  A hard kill (SIGKILL, half a row at the end of a
# file) resumes too.
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
BIN=$(readlink -f "$PMB_BIN")
[ -x "$BIN" ] || { echo "not ok - setup: $PMB_BIN missing; run make test-build"; exit 1; }
TMP=$(mktemp -d /tmp/pmb-interrupt.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# 18 points of about 0.1 s each: long enough to be hit mid-sweep.
SWEEP=(--backend timer --filter sum,branch/sorted_branchy,branch/random_branchy --sizes 4K,16K,64K
	--min-samples 20 --reps 20 --min-sample-ms 5 --point-seconds 10 --warmup-ms 1 --quiet)

ok() { echo "ok - $1"; }
notok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
}
check() { # NAME REASON...: ok when no reason is given
	local name=$1
	shift
	if [ $# -eq 0 ]; then ok "$name"; else notok "$name" "$@"; fi
}

# CSV_AWK and csv_ok FILE (every line whole and as wide as the header).
. tests/e2e/csv_lib.sh
# point_keys FILE: kernel,variant,size_bytes,threads[,thread,metric] per row.
point_keys() {
	awk "$CSV_AWK"'NR == 1 { n = csv($0, h); for (i = 1; i <= n; i++) col[h[i]] = i; next }
		{ csv($0, f); k = f[col["kernel"]] "/" f[col["variant"]] " " f[col["size_bytes"]] " t" f[col["threads"]]
		  if (full) k = k " " f[col["thread"]] " " f[col["metric"]]; print k }' full="${2:-}" "$1"
}
json_int() { sed -n "s/^  \"$2\": \\([0-9-]*\\),*$/\\1/p" "$1"; }
json_bool() { sed -n "s/^  \"$2\": \\(true\\|false\\),*$/\\1/p" "$1"; }

# start OUT [extra args]: the sweep in the background; waits until at
# least two points are in summary.csv.  Sets $pid and $dir.
start() {
	local out=$1
	shift
	mkdir -p "$out"
	"$BIN" "${SWEEP[@]}" --out "$out" "$@" >"$TMP/stdout" 2>"$TMP/stderr" &
	pid=$!
	dir=
	for _ in $(seq 300); do
		dir=$(ls -d "$out"/*/ 2>/dev/null | head -1)
		dir=${dir%/}
		if [ -n "$dir" ] && [ -f "$dir/summary.csv" ] && [ "$(wc -l <"$dir/summary.csv")" -gt 40 ]; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# prefix_sums DIR: md5 of every CSV, to compare the same bytes later.
prefix_sums() {
	for f in "$1"/*.csv; do
		echo "$(basename "$f") $(stat -c %s "$f") $(md5sum <"$f" | cut -c1-32)"
	done
}
# same_prefix DIR SUMS: each file still starts with the bytes it had.
same_prefix() {
	local name size sum
	while read -r name size sum; do
		[ "$(head -c "$size" "$1/$name" | md5sum | cut -c1-32)" = "$sum" ] || {
			echo "$name changed in its first $size bytes"
			return 1
		}
	done <<<"$2"
}
# once DIR: every (kernel, variant, size, threads, thread, metric) of
# summary.csv exactly once.
once() {
	[ -z "$(point_keys "$1/summary.csv" full | sort | uniq -d | head -3 | tee "$TMP/dups")" ]
}

interrupt_case() { # SIGNAL WANT_RC [extra sweep args]
	local sig=$1 want=$2
	shift 2
	local name="SIG$sig mid-sweep" why=()
	if ! start "$TMP/$sig" "$@"; then
		kill -KILL "$pid" 2>/dev/null
		notok "$name" "no rows appeared within 15 s"
		return
	fi
	kill -"$sig" "$pid"
	wait "$pid"
	local rc=$?
	local meta=$dir/meta.json
	[ "$rc" -eq "$want" ] || why+=("exit status $rc, want $want")
	local bad=0
	for f in "$dir"/*.csv; do csv_ok "$f" || { why+=("$(basename "$f") has a partial line"); bad=1; }; done
	[ "$(json_bool "$meta" complete)" = false ] || why+=("meta.json complete is not false")
	local signo
	signo=$(kill -l "$sig")
	[ "$(json_int "$meta" interrupted_by_signal)" = "$signo" ] ||
		why+=("meta.json interrupted_by_signal is not $signo")
	grep -qF "finished rows are kept in $dir" "$TMP/stderr" || why+=("stderr does not name $dir")
	grep -qF -- "--resume $dir" "$TMP/stderr" || why+=("stderr does not give the --resume command")
	check "$name: exit $want, whole rows, meta complete=false, resume hint" "${why[@]}"
	[ "${#why[@]}" -eq 0 ] || sed 's/^/#   stderr: /' "$TMP/stderr" | head -5

	why=()
	local sums total
	sums=$(prefix_sums "$dir")
	total=$(json_int "$meta" points_total)
	local done_before
	done_before=$(json_int "$meta" points_done)
	"$BIN" --resume "$dir" --quiet >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	[ "$rc" -eq 0 ] || why+=("resume exit status $rc")
	[ "$(json_bool "$meta" complete)" = true ] || why+=("meta.json complete is not true")
	[ "$(json_int "$meta" points_resumed)" = "$done_before" ] ||
		why+=("points_resumed $(json_int "$meta" points_resumed), want $done_before")
	[ "$(json_int "$meta" points_total)" = "$total" ] ||
		why+=("points_total $(json_int "$meta" points_total), want $total (same plan)")
	[ $(($(json_int "$meta" points_done) + done_before)) -eq "$total" ] ||
		why+=("points done now + before != $total")
	once "$dir" || why+=("a point is in summary.csv twice: $(cat "$TMP/dups")")
	local npoints
	npoints=$(point_keys "$dir/summary.csv" | sort -u | wc -l)
	[ "$npoints" -eq "$total" ] || why+=("summary.csv has $npoints points, want $total")
	same_prefix "$dir" "$sums" >"$TMP/changed" || why+=("$(cat "$TMP/changed")")
	for f in "$dir"/*.csv; do csv_ok "$f" || why+=("$(basename "$f") has a partial line"); done
	check "SIG$sig: --resume finishes all $total points once, earlier bytes unchanged" "${why[@]}"
	[ "${#why[@]}" -eq 0 ] || sed 's/^/#   stderr: /' "$TMP/stderr" | head -5
}

interrupt_case INT 130
interrupt_case TERM 143 --threads 1,2

# SIGKILL cannot be caught: meta.json stays as written at the start, and a
# write may be cut.  Add half a row by hand to be sure; --resume drops it.
why=()
if start "$TMP/KILL"; then
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	printf 'half,a,row' >>"$dir/summary.csv"
	f=$(ls "$dir"/size-*.csv | head -1)
	printf 'another,half' >>"$f"
	[ "$(json_bool "$dir/meta.json" complete)" = false ] || why+=("meta.json complete is not false")
	"$BIN" --resume "$dir" --quiet >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	[ "$rc" -eq 0 ] || why+=("resume exit status $rc")
	[ "$(json_bool "$dir/meta.json" complete)" = true ] || why+=("meta.json complete is not true")
	for f in "$dir"/*.csv; do csv_ok "$f" || why+=("$(basename "$f") has a partial line"); done
	! grep -q 'half' "$dir"/*.csv || why+=("the half rows are still there")
	once "$dir" || why+=("a point is in summary.csv twice")
else
	kill -KILL "$pid" 2>/dev/null
	why+=("no rows appeared within 15 s")
fi
check "SIGKILL with half rows: --resume drops them and completes" "${why[@]}"
[ "${#why[@]}" -eq 0 ] || sed 's/^/#   stderr: /' "$TMP/stderr" | head -5
