# Sourced by the resume, signal and limit tests (not a test: no test_
# prefix): reporting helpers and the checks that a run directory is exact.
# Needs csv_lib.sh sourced first, $TMP and $BIN set.

ok() { echo "ok - $1"; }
notok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
	[ -f "$TMP/err" ] && sed 's/^/#   stderr: /' "$TMP/err" | grep -v warning: | head -6
}
skip() { echo "skip - $1: $2"; }
check() { # NAME REASON...: ok when no reason is given
	local name=$1
	shift
	if [ $# -eq 0 ]; then ok "$name"; else notok "$name" "$@"; fi
}
# run CMD...: stdout in $TMP/out, stderr in $TMP/err, status in $rc.
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}
json_int() { sed -n "s/^  \"$2\": \\([0-9-]*\\),*$/\\1/p" "$1"; }
json_bool() { sed -n "s/^  \"$2\": \\(true\\|false\\),*$/\\1/p" "$1"; }
run_dir_of() { ls -d "$1"/*/ 2>/dev/null | head -1 | sed 's:/$::'; }

# exact DIR: prints what is wrong with a finished run directory, nothing if
# it is exact: every CSV line whole; no raw sample key (flagset, kernel,
# variant, size, threads, thread, rep) twice; no summary row twice; every
# (point, thread) has as many raw rows as its summary's `samples`; the
# summary holds points_total points, each with all its rows; meta.json
# says complete.
exact() {
	local d=$1 f all group
	# Summary rows per point, from the schema: every metric on each thread
	# and aggregate row, group-only metrics once (pmubench --schema).
	read -r all group < <("${BIN:-build/test/pmubench}" --schema | /usr/bin/python3 -c \
		'import json,sys; m=json.load(sys.stdin)["metrics"]; print(sum(x["rows"]=="all" for x in m), sum(x["rows"]=="group" for x in m))')
	for f in "$d"/*.csv; do csv_ok "$f" || echo "$(basename "$f") has a partial or ragged line"; done
	[ "$(json_bool "$d/meta.json" complete)" = true ] || echo "meta.json complete is not true"
	awk -v all="$all" -v group="$group" "$CSV_AWK"'
		FNR == 1 { n = csv($0, h); delete col; for (i = 1; i <= n; i++) col[h[i]] = i
			   summary = ("metric" in col); next }
		{ csv($0, f)
		  p = f[col["flagset"]] " " f[col["kernel"]] "/" f[col["variant"]] " " f[col["size_bytes"]] " t" f[col["threads"]] " " f[col["thread"]]
		  if (summary) {
			k = p " " f[col["metric"]]
			if (seen[k]++) dup_s[k] = 1
			if (f[col["metric"]] == "ns_per_elem") samples[p] = f[col["samples"]]
			q = f[col["flagset"]] " " f[col["kernel"]] "/" f[col["variant"]] " " f[col["size_bytes"]] " " f[col["threads"]]
			pt[q]++; pthreads[q] = f[col["threads"]]
		  } else {
			k = p " rep" f[col["rep"]]
			if (raw_seen[k]++) dup_r[k] = 1
			raw[p]++
		  } }
		END {
			for (k in dup_r) { if (nd++ < 3) print "raw sample twice: " k }
			for (k in dup_s) { if (ns++ < 3) print "summary row twice: " k }
			for (p in samples) if (raw[p] != samples[p] && nm++ < 3)
				print p ": " raw[p] + 0 " raw rows under a summary of " samples[p]
			for (p in raw) if (!(p in samples) && nx++ < 3) print p ": raw rows without a summary"
			for (q in pt) { npt++; t = pthreads[q]; want = all * (t == 1 ? 1 : t + 1) + group
				if (pt[q] != want && np++ < 3)
					print q ": partial summary (" pt[q] " rows, want " want ")" }
			print "POINTS " npt + 0
		}' "$d"/summary.csv $(compgen -G "$d/size-*.csv") >"$TMP/exact.out"
	grep -v '^POINTS ' "$TMP/exact.out"
	local points total
	points=$(sed -n 's/^POINTS //p' "$TMP/exact.out")
	total=$(json_int "$d/meta.json" points_total)
	[ "$points" = "$total" ] || echo "summary.csv has $points points, meta.json points_total $total"
}
