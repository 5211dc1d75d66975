#!/usr/bin/env bash
# End-to-end: your own code under pmubench (docs/integrations.md).
#   - make help lists every target;
#   - make install into a DESTDIR under build/ gives the binary, the
#     headers, libpmubench and a pmubench.pc that pkg-config reads;
#   - a kernel plugin built out of the tree against the installed header
#     runs under --kernel-lib with the harness's rows, summary and meta;
#     broken plugins are refused with the file named;
#   - a program instrumented with pmb_region_begin/end writes rows of the
#     same schema into a run directory.
set -u
cd "$(dirname "$0")/../.."
bin=${PMB_BIN:-build/test/pmubench}
tmp=$(mktemp -d /tmp/pmb-e2e-integ.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
source tests/e2e/csv_lib.sh
quick=(--sizes 16K --reps 3 --min-samples 3 --point-seconds 0.05 --warmup-ms 5 -q)

# --- make help ---------------------------------------------------------------
make --no-print-directory help >"$tmp/help" 2>&1
missing=""
for t in $(sed -n 's/^\.PHONY: *//p' Makefile scripts/mk/*.mk); do
	grep -qw -- "$t" "$tmp/help" || missing="$missing $t"
done
check "make help lists every target (missing:${missing:- none})" '[ -z "$missing" ]'

# --- make install ------------------------------------------------------------
dest=$PWD/build/test/destdir
rm -rf "$dest"
make --no-print-directory install DESTDIR="$dest" PREFIX=/usr >"$tmp/install.log" 2>&1
rc=$?
check "make install DESTDIR=build/test/destdir PREFIX=/usr exits 0" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || tail -20 "$tmp/install.log"
check "installs pmubench, both headers, libpmubench and pmubench.pc" \
	'[ -x "$dest/usr/bin/pmubench" ] && [ -f "$dest/usr/include/pmubench/pmb_kernel.h" ] &&
	 [ -f "$dest/usr/include/pmubench/pmb_region.h" ] && [ -f "$dest/usr/lib/libpmubench.so.0" ] &&
	 [ -f "$dest/usr/lib/pkgconfig/pmubench.pc" ]'
pc() { PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config "$@"; }
check "pkg-config --cflags --libs pmubench points into the install" \
	'[ "$(echo $(pc --cflags --libs pmubench))" = "-I$dest/usr/include/pmubench -L$dest/usr/lib -lpmubench" ]'

# --- kernel plugin -----------------------------------------------------------
make --no-print-directory plugin-example >"$tmp/plugin-example.log" 2>&1
check "make plugin-example builds build/plugin-example/libpmb_dot.so" \
	'[ $? -eq 0 ] && [ -f build/plugin-example/libpmb_dot.so ]'
# Out of the tree for real: a copy in /tmp that sees only the install.
cp -r docs/examples/plugin "$tmp/plugin"
PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
	make --no-print-directory -C "$tmp/plugin" >"$tmp/plugin.log" 2>&1
check "the example plugin builds in /tmp against the installed header" '[ -f "$tmp/plugin/libpmb_dot.so" ]'
so=$tmp/plugin/libpmb_dot.so
"$bin" --kernel-lib "$so" --list >"$tmp/list" 2>&1
check "--list shows the plugin's variants" 'grep -q "dot/plain" "$tmp/list" && grep -q "dot/unroll2" "$tmp/list"'
run=$("$bin" --kernel-lib "$so" --filter dot,sum/index "${quick[@]}" --out "$tmp/res" 2>"$tmp/plugin.err")
check "a run with --kernel-lib exits 0" '[ $? -eq 0 ] && [ -d "$run" ]'
/usr/bin/python3 - "$run" "$so" >"$tmp/py" 2>&1 <<'PY'
import csv, json, os, sys
run, so = sys.argv[1:]
rows = list(csv.DictReader(open(os.path.join(run, "size-16384.csv"))))
summ = list(csv.DictReader(open(os.path.join(run, "summary.csv"))))
meta = json.load(open(os.path.join(run, "meta.json")))
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
dot = [r for r in rows if r["kernel"] == "dot"]
check("plugin rows: both variants, 3 samples each, valid, n_elems from bytes_per_elem 16",
      sorted({r["variant"] for r in dot}) == ["plain", "unroll2"] and len(dot) == 6
      and all(r["valid"] == "1" and r["n_elems"] == "1024" for r in dot))
check("plugin rows sit beside the built-in kernel's, same columns",
      any(r["kernel"] == "sum" for r in rows) and all(None not in r for r in rows))
check("plugin points have summary rows (ns_per_elem median)",
      {r["variant"] for r in summ if r["kernel"] == "dot" and r["metric"] == "ns_per_elem" and r["median"]} == {"plain", "unroll2"})
check("meta.json records the plugin file", meta["kernel_libs"] == [so])
PY
cat "$tmp/py"
check "plugin CSV files are whole" 'csv_ok "$run/size-16384.csv" && csv_ok "$run/summary.csv"'

# Broken plugins: refused before anything runs, the file and the fix named.
printf 'int unrelated = 1;\n' >"$tmp/nosym.c"
printf '#include <pmb_kernel.h>\nconst int pmb_plugin_abi = 999;\nconst struct pmb_kernel *const pmb_plugin_kernels = 0;\n' >"$tmp/oldabi.c"
printf '#include <pmb_kernel.h>\nstatic const struct pmb_kernel k[] = {{.family = "x", .variant = "y", .description = "d", .signature = "s", .bytes_per_elem = 8}, {0}};\nPMB_PLUGIN_KERNELS(k);\n' >"$tmp/incomplete.c"
for p in nosym oldabi incomplete; do
	cc -shared -fPIC $(pc --cflags pmubench) "$tmp/$p.c" -o "$tmp/$p.so"
done
refused() { # name file pattern
	"$bin" --kernel-lib "$2" --filter sum --out "$tmp/bad" -q >/dev/null 2>"$tmp/err"
	local rc=$? file=$2 pattern=$3
	check "$1" '[ $rc -eq 2 ] && grep -q -- "$pattern" "$tmp/err" && grep -qF -- "$file" "$tmp/err" && [ ! -e "$tmp/bad" ]'
}
refused "a missing plugin file is refused, nothing written" "$tmp/none.so" "cannot load"
refused "a library without the plugin symbols is refused" "$tmp/nosym.so" "PMB_PLUGIN_KERNELS"
refused "a plugin of another kernel ABI is refused" "$tmp/oldabi.so" "kernel ABI 999"
refused "a plugin variant without run() is refused" "$tmp/incomplete.so" "has no setup"
"$bin" --kernel-lib "$so" --kernel-lib "$so" --list >/dev/null 2>"$tmp/err"
check "the same family loaded twice is refused" '[ $? -eq 2 ] && grep -q "already exists" "$tmp/err"'

# --- regions in your own program ---------------------------------------------
make --no-print-directory region-example >"$tmp/region-example.log" 2>&1
check "make region-example builds build/region-example/demo" '[ $? -eq 0 ] && [ -x build/region-example/demo ]'
cp -r docs/examples/region "$tmp/region"
PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
	make --no-print-directory -C "$tmp/region" >"$tmp/region.log" 2>&1
check "the region example builds in /tmp against the installed library" '[ -x "$tmp/region/demo" ]'
PMB_RUN_DIR="$tmp/demo" LD_LIBRARY_PATH="$dest/usr/lib" "$tmp/region/demo" 4096 5 >"$tmp/demo.out" 2>"$tmp/demo.err"
check "the instrumented program exits 0 and names its run directory" '[ $? -eq 0 ] && grep -q "rows in $tmp/demo" "$tmp/demo.err"'
/usr/bin/python3 - "$tmp/demo" "$run" >"$tmp/py" 2>&1 <<'PY'
import csv, json, os, sys
demo, run = sys.argv[1:]
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
rows = list(csv.DictReader(open(os.path.join(demo, "size-32768.csv"))))
ref = open(os.path.join(run, "size-16384.csv")).readline()
check("region rows have the run's raw header", open(os.path.join(demo, "size-32768.csv")).readline() == ref)
fill = [r for r in rows if r["variant"] == "fill"]
summ = [r for r in rows if r["variant"] == "sum"]
check("5 rows per region, kernel = program name, n_elems 4096, valid",
      len(fill) == 5 and len(summ) == 5 and all(r["kernel"] == "demo" and r["n_elems"] == "4096" and r["valid"] == "1" for r in rows))
check("allocs counted inside regions (1 malloc per fill, 0 in sum)",
      all(r["allocs"] == "1" for r in fill) and all(r["allocs"] == "0" for r in summ))
check("reps numbered 0..4 per region", sorted(int(r["rep"]) for r in fill) == list(range(5)))
hw = ["cycles", "instructions", "l1d_misses"]
meta = json.load(open(os.path.join(demo, "meta.json")))
check("counters without a PMU are empty cells with the reason in meta.json",
      all((r[c] == "") == (not meta["counters"][c]["available"]) for r in rows for c in hw))
s = list(csv.DictReader(open(os.path.join(demo, "summary.csv"))))
check("each region has summary rows after close", {r["variant"] for r in s if r["metric"] == "ns_per_elem" and r["samples"] == "5"} == {"fill", "sum"})
check("meta.json of the region run is complete", meta["complete"] is True and meta["flagset"] == "region")
PY
cat "$tmp/py"

# Misuse is reported, never fatal, and leaves no row behind.
cat >"$tmp/misuse.c" <<'C'
#include <pmb_region.h>
#include <stdio.h>
int main(void)
{
	int a = pmb_region_begin("outer");
	int nested = pmb_region_begin("inner");
	int wrong = pmb_region_end("inner");
	int b = pmb_region_end("outer");
	int orphan = pmb_region_end("outer");
	printf("%d %d %d %d %d\n", a, nested, wrong, b, orphan);
	return 0;
}
C
cc $(pc --cflags pmubench) "$tmp/misuse.c" -o "$tmp/misuse" $(pc --libs pmubench)
# Into an existing pmubench run: its meta.json stays, ours goes beside it.
cp "$run/meta.json" "$tmp/meta.before"
PMB_RUN_DIR="$run" LD_LIBRARY_PATH="$dest/usr/lib" "$tmp/misuse" >"$tmp/misuse.out" 2>"$tmp/misuse.err"
check "nested begin and unmatched end return -1 with a message, the program goes on" \
	'[ "$(cat "$tmp/misuse.out")" = "0 -1 -1 0 -1" ] && grep -q "do not nest" "$tmp/misuse.err" && grep -q "without its begin" "$tmp/misuse.err"'
check "regions append to an existing run: meta.json kept, meta-region.json added, 1 outer row" \
	'cmp -s "$tmp/meta.before" "$run/meta.json" && [ -f "$run/meta-region.json" ] &&
	 [ "$(grep -c ",misuse,outer," "$run/size-0.csv")" = 1 ] && ! grep -q ",inner," "$run/size-0.csv" &&
	 csv_ok "$run/size-0.csv" && csv_ok "$run/summary.csv"'
