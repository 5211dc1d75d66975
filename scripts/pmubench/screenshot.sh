#!/bin/sh
# screenshot.sh REPORT.html OUT.png — render a report in headless Chromium.
#
# Environment: WINDOW_SIZE (default 1280,2000), CHROMIUM (browser binary),
# SCREENSHOT_TIMEOUT seconds (default 60).
# Exit status: 0 written; 1 chromium failed; 2 bad usage or chromium missing.
set -u

usage() {
	cat <<USAGE
usage: scripts/pmubench/screenshot.sh REPORT.html OUT.png

Render REPORT.html (e.g. a run's report.html from scripts/pmubench/report.py) in
headless Chromium and save a PNG screenshot of the top WINDOW_SIZE pixels.

environment:
  WINDOW_SIZE          width,height in pixels (default 1280,2000)
  CHROMIUM             browser binary (default: chromium, chromium-browser,
                       google-chrome, whichever is found first)
  SCREENSHOT_TIMEOUT   seconds before giving up (default 60)

Installs nothing; on Debian: apt-get install -y chromium
USAGE
}

case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [ $# -ne 2 ]; then
	echo "screenshot.sh: error: expected 2 arguments (REPORT.html OUT.png), got $#; see --help" >&2
	exit 2
fi
report=$1
out=$2
if [ ! -f "$report" ]; then
	echo "screenshot.sh: error: $report: no such file; make it with: make plot RUN=RUN_DIR" >&2
	exit 2
fi
case "$out" in *.png|*.PNG) ;; *)
	echo "screenshot.sh: error: $out: output name must end in .png" >&2
	exit 2 ;;
esac

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
	for b in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
	done
fi
if [ -z "$browser" ] || ! command -v "$browser" >/dev/null 2>&1; then
	echo "screenshot.sh: error: chromium not found; install it (Debian/Ubuntu: apt-get install -y chromium)" >&2
	echo "or point CHROMIUM at a Chromium/Chrome binary" >&2
	exit 2
fi

abs_report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
out_dir=$(dirname "$out")
if [ ! -d "$out_dir" ]; then
	echo "screenshot.sh: error: directory $out_dir does not exist" >&2
	exit 2
fi
abs_out=$(cd "$out_dir" && pwd)/$(basename "$out")

profile=$(mktemp -d "${TMPDIR:-/tmp}/pmb-chromium.XXXXXX") || exit 1
trap 'rm -rf "$profile"' EXIT INT TERM
rm -f "$abs_out"

timeout "${SCREENSHOT_TIMEOUT:-60}" "$browser" --headless --no-sandbox --disable-gpu \
	--disable-background-networking --disable-component-update --disable-sync \
	--no-first-run --hide-scrollbars --user-data-dir="$profile" \
	--window-size="${WINDOW_SIZE:-1280,2000}" --screenshot="$abs_out" \
	"file://$abs_report" >"$profile/log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$abs_out" ]; then
	echo "screenshot.sh: error: chromium failed (exit $rc); its output:" >&2
	tail -n 20 "$profile/log" >&2
	exit 1
fi
echo "$out"
