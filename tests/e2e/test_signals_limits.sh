#!/usr/bin/env bash
# Signals, limits and odd environments (issue 14): a run directory appears
# complete with meta.json or not at all, whatever signal comes when
# (SIGTERM in the first 100 ms, SIGPIPE from `2>&1 | head -2`, SIGHUP);
# `ulimit -v` gives "not enough memory for <size>: <what to do>"; a failing
# pthread_create gives an error and exit 1, not an abort; a disk filling
# while a size CSV's header is written leaves no empty file; every
# spelling of --config reads the file.  docs/reliability.md has the table.
set -u
cd "$(dirname "$0")/../.."
PMB_BIN=${PMB_BIN:-build/test/pmubench}
BIN=$(readlink -f "$PMB_BIN")
[ -x "$BIN" ] || { echo "not ok - setup: $PMB_BIN missing; run make test-build"; exit 1; }
TMP=$(mktemp -d /tmp/pmb-signals.XXXXXX)
MNT=
cleanup() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
. tests/e2e/csv_lib.sh
. tests/e2e/resume_lib.sh

FAST=(--backend timer --filter sum/index,sum/pointer --sizes 4K,8K --reps 3 --min-samples 3
	--warmup-ms 0 --min-sample-ms 0.05 --point-seconds 0.01)

# whole_or_nothing OUT: prints what is wrong: an entry of OUT that is not a
# run directory with meta.json, a staging directory left, an empty file.
whole_or_nothing() {
	local e
	for e in "$1"/* "$1"/.[!.]*; do
		[ -e "$e" ] || continue
		case $(basename "$e") in
		.pmb-staging-*) echo "staging directory left: $(basename "$e")" ;;
		*) [ -f "$e/meta.json" ] || echo "$(basename "$e") has no meta.json" ;;
		esac
	done
	find "$1" -type f -empty | sed 's/^/empty file: /'
}

# --- signals at any moment ---------------------------------------------------
for sig in TERM HUP INT; do
	why=()
	signo=$(kill -l "$sig")
	for delay in 0 0.01 0.03 0.06 0.1 0.15 0.3; do
		out=$TMP/sig-$sig-$delay
		mkdir -p "$out"
		"$BIN" "${FAST[@]}" --sizes 4K,8K,16K --reps 10 --min-samples 10 --min-sample-ms 2 \
			--out "$out" >/dev/null 2>"$TMP/err" &
		pid=$!
		# Time from pmubench's start, not from bash's fork: a signal
		# before the exec kills only the forked shell.
		for _ in $(seq 200); do
			[ "$(readlink /proc/$pid/exe 2>/dev/null)" = "$BIN" ] && break
			sleep 0.005
		done
		sleep "$delay"
		kill -"$sig" "$pid" 2>/dev/null
		wait "$pid"
		rc=$?
		[ "$rc" -eq $((128 + signo)) ] || [ "$rc" -eq 0 ] || why+=("after ${delay}s: exit $rc, want $((128 + signo))")
		mapfile -t bad < <(whole_or_nothing "$out")
		[ ${#bad[@]} -eq 0 ] || why+=("after ${delay}s: ${bad[*]}")
		d=$(run_dir_of "$out")
		if [ -n "$d" ] && [ "$rc" -ne 0 ]; then
			[ "$(json_bool "$d/meta.json" complete)" = false ] || why+=("after ${delay}s: complete is not false")
			run "$BIN" --resume "$d" --quiet
			[ "$rc" -eq 0 ] || why+=("after ${delay}s: --resume exit $rc")
		elif [ -z "$d" ]; then
			grep -qF "interrupted by signal $signo before the run started; nothing was written" "$TMP/err" ||
				why+=("after ${delay}s: no run directory and no message saying so")
		fi
	done
	check "SIG$sig in the first 300 ms: exit $((128 + signo)), a run directory with meta.json or none, resumable" "${why[@]}"
done

why=()
out=$TMP/pipe
mkdir -p "$out"
"$BIN" "${FAST[@]}" --out "$out" 2>&1 | head -2 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 141 ] || [ "$rc" -eq 0 ] || why+=("exit $rc, want 141 (SIGPIPE handled) or 0")
mapfile -t bad < <(whole_or_nothing "$out")
why+=("${bad[@]}")
d=$(run_dir_of "$out")
if [ -n "$d" ] && [ "$rc" -ne 0 ]; then
	run "$BIN" --resume "$d" --quiet
	[ "$rc" -eq 0 ] || why+=("--resume exit $rc")
fi
check "SIGPIPE (2>&1 | head -2): a run directory with meta.json or none" "${why[@]}"

# --- memory limits -------------------------------------------------------------
run bash -c "ulimit -v 150000; exec \"$BIN\" ${FAST[*]} --sizes 64M --out $TMP/mem"
why=()
[ "$rc" -eq 2 ] || why+=("exit $rc, want 2")
grep -qF "error: not enough memory for 64 MiB x 1 thread" "$TMP/err" || why+=("no 'not enough memory for 64 MiB'")
grep -qF "under the address-space limit (ulimit -v); use smaller --sizes or fewer --threads, or raise ulimit -v" "$TMP/err" ||
	why+=("the message does not name ulimit -v and the fix")
check "ulimit -v below a size: the memory check respects RLIMIT_AS" "${why[@]}"

# Limits around what the kernels allocate as they run: each run either
# succeeds or says "not enough memory for <kernel> at <size>", never "the
# kernel is broken", never a signal.
why=()
hits=0
for kb in 130000 150000 170000 190000 230000; do
	run bash -c "ulimit -v $kb; exec \"$BIN\" --backend timer --filter copy,alloc,stack_heap --sizes 16M \
		--threads 1,2 --reps 2 --min-samples 1 --warmup-ms 0 --min-sample-ms 0.05 --point-seconds 0.01 \
		--quiet --out $TMP/mem2"
	[ "$rc" -lt 128 ] || why+=("ulimit -v $kb: killed by signal $((rc - 128))")
	if [ "$rc" -ne 0 ]; then
		if grep -q "error: not enough memory for" "$TMP/err" && grep -q "ulimit -v" "$TMP/err"; then
			hits=$((hits + 1))
		else
			why+=("ulimit -v $kb: exit $rc with: $(grep error: "$TMP/err" | head -1)")
		fi
	fi
done
[ "$hits" -gt 0 ] || why+=("no limit tried ran out of memory: the case was not exercised")
check "ulimit -v while kernels allocate: 'not enough memory for <kernel> at <size>: ...' ($hits of 5 limits)" "${why[@]}"

# pthread_create fails: each thread reserves a stack of `ulimit -s`; two of
# 1 GB do not fit under 1.8 GB of address space.
if [ "$(nproc)" -ge 2 ]; then
	run bash -c "ulimit -s 1000000; ulimit -v 1800000; exec \"$BIN\" ${FAST[*]} --filter sum/index --sizes 4K --threads 2 --quiet --out $TMP/thr"
	why=()
	[ "$rc" -eq 1 ] || why+=("exit $rc, want 1 (134 = abort)")
	grep -qF "error: cannot start thread" "$TMP/err" || why+=("no 'cannot start thread' error")
	grep -qF "lower --threads, or raise the limits on processes (ulimit -u) or memory (ulimit -v" "$TMP/err" ||
		why+=("the message gives no fix")
	check "pthread_create fails: clear error, exit 1" "${why[@]}"
else
	skip "pthread_create fails: clear error, exit 1" "needs 2 cpus"
fi

# --- a disk filling at every step of a run's start ----------------------------
if [ "$(id -u)" = 0 ] && MNT=$TMP/mnt && mkdir -p "$MNT" && mount -t tmpfs -o size=256k tmpfs "$MNT" 2>/dev/null; then
	why=()
	header_hit=0
	# meta.json (about 40 KB with its schema) comes first: up to 24 pages.
	for pages in 2 3 4 6 8 10 11 12 13 14 15 16 18 20 24; do
		rm -rf "${MNT:?}"/*
		rm -rf "$MNT"/.[!.]* 2>/dev/null
		avail=$(df -B1 --output=avail "$MNT" | tail -1)
		fill=$((avail - pages * 4096))
		[ "$fill" -gt 0 ] && head -c "$fill" /dev/zero >"$MNT/filler" 2>/dev/null
		mkdir -p "$MNT/out"
		run "$BIN" "${FAST[@]}" --quiet --out "$MNT/out"
		[ "$rc" -lt 128 ] || why+=("$pages pages: killed by signal $((rc - 128))")
		if [ "$rc" -ne 0 ]; then
			[ "$(grep -c 'error:' "$TMP/err")" -eq 1 ] || why+=("$pages pages: $(grep -c 'error:' "$TMP/err") error lines")
			grep -q "No space left on device" "$TMP/err" || why+=("$pages pages: $(grep error: "$TMP/err" | head -1)")
			grep -q "cannot write .*/size-[0-9]*\.csv: No space left on device; free space" "$TMP/err" &&
				header_hit=$((header_hit + 1))
		fi
		mapfile -t bad < <(whole_or_nothing "$MNT/out")
		[ ${#bad[@]} -eq 0 ] || why+=("$pages pages free: ${bad[*]}")
		for f in "$MNT"/out/*/*.csv; do
			[ -e "$f" ] && ! csv_ok "$f" && why+=("$pages pages: $(basename "$f") not whole")
		done
	done
	[ "$header_hit" -gt 0 ] || why+=("no fill level hit the size CSV header: the case was not exercised")
	check "disk full at each step of the start (tmpfs): no empty file, no half row, one error ($header_hit hit a size CSV header)" "${why[@]}"
	umount "$MNT" && MNT=
else
	skip "disk full while a size CSV header is written" "needs root to mount a small tmpfs"
fi

# --- every spelling of --config reads the file ---------------------------------
printf 'backend = timer\nkernels = sum/index\nsizes = 8K\nmax_samples = 2\nmin_samples = 1\nwarmup_ms = 0\nmin_sample_ms = 0.05\npoint_seconds = 0.01\n' >"$TMP/c.ini"
printf 'sizes = 4K\nfrobnicate = 1\n' >"$TMP/bad.ini"
for spelling in "--config F" "--config=F" "--conf F" "--conf=F" "-c F" "-cF" "-qcF"; do
	why=()
	read -r -a a <<<"${spelling//F/$TMP/bad.ini}"
	run "$BIN" "${a[@]}" --out "$TMP/conf"
	[ "$rc" -eq 2 ] && grep -qF "bad.ini:2: unknown key 'frobnicate'" "$TMP/err" ||
		why+=("a bad config was not read (exit $rc)")
	read -r -a a <<<"${spelling//F/$TMP/c.ini}"
	out=$TMP/conf-$(echo "$spelling" | tr -c 'a-zA-Z\n' _)
	run "$BIN" "${a[@]}" --quiet --out "$out"
	d=$(run_dir_of "$out")
	[ "$rc" -eq 0 ] || why+=("run exit $rc")
	[ -n "$d" ] && [ "$(basename "$d" | cut -d- -f1)" = c ] || why+=("run not named after the config")
	[ -n "$d" ] && [ "$(ls "$d" | grep -c '^size-')" = 1 ] && [ -f "$d/size-8192.csv" ] ||
		why+=("sizes of the config not used")
	check "'$spelling' reads the config file" "${why[@]}"
done
