#!/usr/bin/env bash
# End-to-end: --list for people and for tools.  --filter selects what is
# listed; --format json gives kernels (description, signature, sizes,
# traffic, source) and counters (available, event, pass, reason); --format
# names gives family/variant lines; all three come from the same tables.
set -u
cd "$(dirname "$0")/../.."
bin=${PMB_BIN:-build/test/pmubench}
tmp=$(mktemp -d /tmp/pmb-e2e-list.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

"$bin" --list --filter sum >"$tmp/text" 2>&1
check "--list --filter sum lists the 4 sum variants and nothing else" \
	'[ "$(grep -c "expect:" "$tmp/text")" = 4 ] && ! grep -q "^  branch/" "$tmp/text" && grep -q "^Counters" "$tmp/text"'
"$bin" --list --filter 'sum/index*,traversal' --format names >"$tmp/names" 2>&1
check "--format names prints family/variant lines only" \
	'[ "$(cat "$tmp/names" | tr "\n" " ")" = "sum/index sum/index_checked traversal/array traversal/list_ordered traversal/list_shuffled " ]'
"$bin" --list --format names >"$tmp/all-names"
"$bin" --list --format json >"$tmp/json"
/usr/bin/python3 - "$tmp/json" "$tmp/all-names" "$tmp/text" >"$tmp/py" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = open(sys.argv[2]).read().split()
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
check("JSON kernels = names form, in the same order", [k["name"] for k in d["kernels"]] == names and len(names) > 10)
check("each kernel has family, variant, description, signature, bytes_per_elem, source",
      all(k["family"] + "/" + k["variant"] == k["name"] and k["description"] and k["signature"]
          and k["bytes_per_elem"] > 0 and k["source"] == "built-in" for k in d["kernels"]))
check("traffic declared for the streaming kernels (sum 8 B/elem), null where not declared (alloc)",
      {k["name"]: k["traffic_bytes_per_elem"] for k in d["kernels"]}["sum/index"] == 8
      and {k["name"]: k["traffic_bytes_per_elem"] for k in d["kernels"]}["alloc/bad"] is None)
c = d["counters"]
check("every counter: available with event and pass, or not with a reason",
      len(c) >= 11 and all((x["available"] and x["event"] and x["pass"] >= 0 and not x["reason"]) or
                           (not x["available"] and x["reason"] and x["pass"] == -1) for x in c))
text = open(sys.argv[3]).read()
check("text and JSON agree on availability",
      all((" yes " in line) == x["available"] for x in c for line in text.splitlines()
          if line.split()[:1] == [x["name"]]))
check("backend named", d["backend"] == "papi")
PY
cat "$tmp/py"
"$bin" --list --filter 'nosuch*' >/dev/null 2>"$tmp/err"
check "--list with a filter matching nothing fails, listing what exists" '[ $? -eq 2 ] && grep -q "no kernel matches .nosuch\*.; available: empty/noop" "$tmp/err"'
"$bin" --format names --filter sum -q >/dev/null 2>"$tmp/err"
check "--format names without --list is refused" '[ $? -eq 2 ] && grep -q "use it with --list" "$tmp/err"'
