# point_args.sh — sourced by profile.sh and heap.sh: the command line both
# take to name one point,
#   [--bin BIN] [--config FILE] [--out DIR] [--flagset NAME] [--<extra> V] KERNEL SIZE
# Before sourcing, the script sets: here (its folder), tool (its make
# target, for messages), example (a KERNEL SIZE pair for the hint) and
# usage_lines (the sed range of its own header that is the usage text).
# Sourcing sets root (the repository) and the defaults of the options.

root=$(cd "$here/../.." && pwd)
bin=${PMB_BIN:-}
config=""
out=results
flagset=""

die() { echo "$tool: error: $*" >&2; exit 1; }
usage() { sed -n "${usage_lines}p" "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# parse_point_args EXTRA_OPTION EXTRA_VAR ARGS...: sets bin, config, out,
# flagset, kernel and size, and EXTRA_VAR from EXTRA_OPTION (checked by the
# caller); dies with the fix on anything else.
parse_point_args() {
	local extra_opt=$1 extra_var=$2
	shift 2
	local args=()
	while [ $# -gt 0 ]; do
		case $1 in
		--bin) bin=$2; shift 2 ;;
		--config) config=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--flagset) flagset=$2; shift 2 ;;
		"$extra_opt") printf -v "$extra_var" '%s' "$2"; shift 2 ;;
		-h|--help) usage ;;
		--) shift; args+=("$@"); break ;;
		-*) die "unknown option '$1'" ;;
		*) args+=("$1"); shift ;;
		esac
	done
	local ex_kernel=${example% *} ex_size=${example#* }
	[ ${#args[@]} -eq 2 ] || die "give KERNEL and SIZE: make $tool KERNEL=$ex_kernel SIZE=$ex_size (kernels: make list)"
	kernel=${args[0]} size=${args[1]}
	case $kernel in */*) ;; *) die "KERNEL must be family/variant (e.g. $ex_kernel), got '$kernel'" ;; esac
	case $kernel in *'*'*|*'?'*|*,*) die "KERNEL must name one variant, not a glob or list: '$kernel'" ;; esac
	[ -n "$bin" ] || bin=$root/build/x86/default/pmubench
	[ -x "$bin" ] || die "no pmubench at '$bin'; run make build (or give --bin / PMB_BIN)"
}
