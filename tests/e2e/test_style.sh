#!/usr/bin/env bash
# Style limits of the C code (harness/, lib/, kernels/): no file over 500
# lines, no function over 80. Function extents come from universal-ctags
# (`--fields=+ne`: start line and end line of each definition), a real C
# parser rather than a brace counter that macros and #if blocks would fool.
#
# One line per file for its length and one per file for its functions; a
# function over the limit is its own `not ok` line naming file, line and
# function, so the fix is obvious: split it into functions whose names say
# what each part does.
#
# KNOWN lists files that another change is rewriting now; while they still
# break a limit they print `skip - ...: <reason>`, never ok. Delete an entry
# once its file is within the limits (the test then says so).
set -u
cd "$(dirname "$0")/../.."
max_file_lines=${PMB_STYLE_MAX_FILE_LINES:-500}
max_func_lines=${PMB_STYLE_MAX_FUNC_LINES:-80}
dirs=${PMB_STYLE_DIRS:-harness lib kernels}

# Files allowed past a limit for now, each with its reason (printed as a
# skip, so the exception stays visible).  Empty: every file keeps both.
declare -A KNOWN=()

if ! ctags --version 2>/dev/null | grep -q 'Universal Ctags'; then
	echo "skip - style: universal-ctags is not installed (apt-get install universal-ctags)"
	exit 0
fi

# shellcheck disable=SC2086 # $dirs is a list of folders
files=$(find $dirs -name '*.[ch]' | LC_ALL=C sort)
[ -n "$files" ] || { echo "not ok - style: no C files under $dirs"; exit 0; }

report() { # file verdict message
	local file=$1 verdict=$2 msg=$3
	if [ "$verdict" = ok ]; then
		echo "ok - style: $msg"
	elif [ -n "${KNOWN[$file]:-}" ]; then
		echo "skip - style: $msg: known, ${KNOWN[$file]}"
	else
		echo "not ok - style: $msg"
	fi
}

for f in $files; do
	n=$(wc -l <"$f")
	if [ "$n" -le "$max_file_lines" ]; then
		report "$f" ok "$f has $n lines (limit $max_file_lines)"
	else
		report "$f" bad "$f has $n lines (limit $max_file_lines); split it by concern"
	fi
	# name start end, one line per function definition
	funcs=$(ctags --languages=C --language-force=C --kinds-C=f --fields=+ne -x \
		--_xformat='%N %n %e' "$f" 2>/dev/null)
	if [ -z "$funcs" ]; then
		echo "ok - style: $f defines no functions"
		continue
	fi
	longest="" longest_n=0 over=0
	while read -r name start end; do
		if [ -z "$end" ] || [ "$end" = - ]; then
			report "$f" bad "$f:$start $name: ctags found no end line (unbalanced braces?)"
			over=1
			continue
		fi
		len=$((end - start + 1))
		if [ "$len" -gt "$longest_n" ]; then longest=$name longest_n=$len; fi
		if [ "$len" -gt "$max_func_lines" ]; then
			report "$f" bad "$f:$start $name() is $len lines (limit $max_func_lines)"
			over=1
		fi
	done <<<"$funcs"
	if [ "$over" -eq 0 ]; then
		echo "ok - style: functions of $f within $max_func_lines lines (longest: $longest, $longest_n)"
		if [ -n "${KNOWN[$f]:-}" ] && [ "$n" -le "$max_file_lines" ]; then
			echo "# $f is within the limits now; remove it from KNOWN in $0"
		fi
	fi
done
