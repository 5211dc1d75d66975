#!/usr/bin/env bash
# Every `make ...` command shown in README.md or in `make help` is run by a
# test exactly as shown (issue 14).  README and `make help` are read as
# they are now, so the test follows their edits:
#   1. tests/e2e/doc_commands.py extracts the commands;
#   2. each must be in tests/doc_commands.txt and each entry there must
#      still be shown (both ways);
#   3. each entry's COMMAND must be the shown command with only its
#      placeholders filled;
#   4. the `run` entries are run here, in order (`make run CONFIG=x86`, the
#      main command, takes about 2 minutes); `in` entries are checked to be
#      in the test that runs them; `recipe` entries by `make -n`.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PYTHON=${PYTHON:-/usr/bin/python3}
REG=tests/doc_commands.txt
T=$(mktemp -d /tmp/pmb-doc-commands.XXXXXX)
trap 'rm -rf "$T"' EXIT
export T

ok() { echo "ok - $1"; }
notok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
}
check() { local n=$1; shift; if [ $# -eq 0 ]; then ok "$n"; else notok "$n" "$@"; fi; }
field() { awk -F ' [|] ' -v n="$2" '{ print $n }' <<<"$1"; }

# --- 1 and 2: shown <-> registry ------------------------------------------
make --no-print-directory help >"$T/help.txt" 2>&1 || notok "make help runs" "exit $?"
"$PYTHON" tests/e2e/doc_commands.py README.md "$T/help.txt" >"$T/shown"
grep -v '^#' "$REG" | grep -v '^\s*$' >"$T/reg"
cut -d'|' -f1 "$T/reg" | sed 's/ *$//' >"$T/reg.shown"
[ -s "$T/shown" ] || notok "commands extracted from README.md and make help" "none found"
while read -r cmd; do
	grep -qxF -- "$cmd" "$T/reg.shown" || notok "shown command '$cmd' has a test" \
		"add it to $REG with the test that runs it"
done <"$T/shown"
while read -r cmd; do
	grep -qxF -- "$cmd" "$T/shown" || notok "$REG entry '$cmd' is still shown in README.md or make help" \
		"remove the entry (or restore the command in the docs)"
done <"$T/reg.shown"
ok "README.md and make help show $(wc -l <"$T/shown") commands; $REG lists $(wc -l <"$T/reg") (checked both ways)"

# --- 3: each run command is the shown one, placeholders filled ---------------
# A placeholder (dir, <run>, results/<run>, results/<dir>, ...) matches one
# word; [X] matches X or nothing.
"$PYTHON" - "$T/reg" <<'EOF' >"$T/shape"
import re, sys
PLACEHOLDERS = ("results/<run>", "results/<dir>", "<run>", "dir", "...")
def pattern(shown):
    out = ""
    for part in re.split(r"(\[[^\]]*\])", shown):
        if part.startswith("["):  # optional: there or not (with its space)
            space = out.endswith(r"\ ")
            out = out[:-2] if space else out
            out += "(?:" + (r"\ " if space else "") + pattern(part[1:-1]) + ")?"
            continue
        words = []
        for w in part.split(" "):
            p = re.escape(w)
            for ph in PLACEHOLDERS:
                p = p.replace(re.escape(ph), r"\S+")
            if w.endswith("="):  # VAR= : any value
                p += r"\S*"
            words.append(p)
        out += r"\ ".join(words)
    return out
for line in open(sys.argv[1]):
    f = [x.strip() for x in line.rstrip("\n").split(" | ")]
    if f[1] == "run":
        ok = re.fullmatch(pattern(f[0]), f[3]) is not None
        print(("ok" if ok else "bad") + "\t" + f[0] + "\t" + f[3])
EOF
check "every run entry is its shown command with placeholders filled ($(grep -c '^ok' "$T/shape") entries)" \
	$(grep '^bad' "$T/shape" | cut -f2- | sed 's/\t/ is run as /' | tr ' ' '_')

# --- 4: run them ---------------------------------------------------------------
mkdir -p "$T/fixtures"
cp -r tests/fixtures/run-a tests/fixtures/run-b "$T/fixtures/"
# `make plot` without RUN: the newest sweep, not a newer profile or
# validate run (small fixtures: plotting the x86 run takes minutes).
mkdir -p "$T/plotroot"
cp -r tests/fixtures/run-a "$T/plotroot/x86-sweep"
sleep 1
cp -r tests/fixtures/run-b "$T/plotroot/x86-profile" && touch "$T/plotroot/x86-profile/perf.data"
cp -r tests/fixtures/run-b "$T/plotroot/validate-x"
newest() { ls -1dt "$1"/*/ 2>/dev/null | head -1 | sed 's:/$::'; }
# clean runs in a copy of the repository: it must not remove this build/.
git ls-files -z | (mkdir -p "$T/copy" && xargs -0 cp --parents -t "$T/copy") 2>/dev/null
mkdir -p "$T/copy/build/x86/default" && touch "$T/copy/build/x86/default/pmubench"

while IFS= read -r line; do
	shown=$(field "$line" 1)
	kind=$(field "$line" 2)
	case $kind in
	run)
		envs=$(field "$line" 3)
		cmd=$(field "$line" 4)
		[ "$envs" = - ] && envs=
		dir=$ROOT
		[ "$shown" = "make clean" ] && dir=$T/copy
		start=$(date +%s)
		(cd "$dir" && eval "env $envs $cmd") >"$T/out" 2>"$T/err" </dev/null
		rc=$?
		secs=$(($(date +%s) - start))
		why=()
		[ "$rc" -eq 0 ] || why+=("exit status $rc" "$(tail -5 "$T/err" | tr '\n' ' ')")
		case $shown in
		"make bench")
			# Its exit status is the verdict on this machine's goals
			# (a busy machine fails precision goals): the command works
			# when it measured and printed the table.
			b=$(newest "$T/bench")
			if [ -n "$b" ] && grep -q '^overall: \(PASS\|FAIL\)' "$b/bench.txt" 2>/dev/null &&
				grep -q '^P1 ' "$b/bench.txt"; then
				why=()
				[ "$rc" -eq 0 ] || echo "# make bench: $(grep '^overall:' "$b/bench.txt") on this machine (goals, not the command)"
			else
				why+=("no bench table in $T/bench")
			fi ;;
		"make run CONFIG=x86")
			X86=$(newest "$T/results")
			grep -q '"complete": true' "$X86/meta.json" 2>/dev/null || why+=("no complete run in $T/results")
			export X86 ;;
		"make plot")
			grep -qF "plotting the newest sweep, $T/plotroot/x86-sweep " "$T/err" ||
				why+=("does not name the newest sweep (x86-sweep; newer: a profile and a validate run)")
			[ -f "$T/plotroot/x86-sweep/report.html" ] || why+=("no report.html in x86-sweep") ;;
		"make run CONFIG=flags")
			FLAGS=$(newest "$T/flags")
			export FLAGS
			[ "$(ls "$FLAGS"/meta*.json 2>/dev/null | wc -l)" -ge 2 ] || why+=("no flag-set matrix run in $T/flags") ;;
		"make run CONFIG=sim")
			SIM=$(newest "$T/sim")
			export SIM
			grep -q '"backend": "sim"' "$SIM/meta.json" 2>/dev/null || why+=("no sim run in $T/sim") ;;
		"make run")
			grep -qF "no CONFIG given; using CONFIG=" "$T/out" || why+=("does not say which config it picked") ;;
		"make clean")
			[ ! -e "$T/copy/build" ] || why+=("build/ still there") ;;
		esac
		check "'$shown' runs as shown ($secs s${envs:+; env $envs})" "${why[@]}" ;;
	in)
		file=$(field "$line" 3)
		lit=$(field "$line" 4)
		why=()
		grep -qF -- "$lit" "$file" || why+=("$file does not contain: $lit")
		case $file in
		.ci/run) ;;
		tests/e2e/test_*.sh) ;;
		*) why+=("$file is not a test that make test runs") ;;
		esac
		check "'$shown' is run by $file ($lit)" "${why[@]}" ;;
	recipe)
		script=$(field "$line" 3)
		why=()
		eval "make -n --no-print-directory ${shown#make }" 2>&1 | grep -qF "$script" ||
			why+=("make -n ${shown#make } does not run $script")
		case $script in tests/e2e/test_*.sh) [ -f "$script" ] || why+=("$script missing") ;;
		*) why+=("$script is not run by make test") ;; esac
		check "'$shown' runs $script, which make test runs" "${why[@]}" ;;
	same)
		other=$(field "$line" 3)
		why=()
		grep -qxF -- "$other" "$T/reg.shown" || why+=("'$other' is not an entry")
		case $other in "$shown "*) ;; *) why+=("'$other' is not '$shown' with arguments") ;; esac
		check "'$shown' is the target of '$other'" "${why[@]}" ;;
	*) notok "$REG: '$shown' has an unknown kind '$kind'" ;;
	esac
done <"$T/reg"
