# Sourced by the end-to-end tests that check rows on disk (bad input,
# interruption): is a CSV file whole?  Not a test itself (no test_ prefix).

# CSV fields in awk (mawk has no FPAT): quoted fields may hold commas.
CSV_AWK='function csv(s, f,   i, c, q, n) {
	n = 1; q = 0; f[1] = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\"") q = !q
		else if (c == "," && !q) f[++n] = ""
		else f[n] = f[n] c
	}
	return n
}'
# csv_ok FILE: every line complete (ends in newline) and has as many
# fields as the header.
csv_ok() {
	[ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] &&
		awk "$CSV_AWK"'NR == 1 { n = csv($0, h) } csv($0, f) != n { bad = 1 } END { exit bad }' "$1"
}
