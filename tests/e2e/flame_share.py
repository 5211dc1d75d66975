"""flame_share.py PAGE.html STACKS.folded FRAME — the share of the samples
that frame FRAME gets as drawn (headless Chromium renders the page; the
widths of the frame's rectangles over the root's) and as counted in the
folded stacks (stacks through FRAME over all).  Prints both, in percent:
`page 94.8 folded 94.8`.  Not a test itself: tests/e2e/test_profile.sh
compares them.  Exit 2 when Chromium is missing or renders nothing."""
import re
import shutil
import subprocess
import sys


def page_share(page, frame):
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome")
                    if shutil.which(b)), None)
    if not browser:
        sys.exit(2)
    frames = []
    for _ in range(3):  # a loaded machine sometimes dumps the DOM before the drawing
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000",
             "--window-size=1200,900", "--dump-dom", "file://" + page],
            capture_output=True, text=True, timeout=120).stdout
        frames = re.findall(r'name="([^"]*)" class="frame"><rect[^>]*width="([0-9.e+-]+)"', dom)
        if frames:
            break
    if not frames:
        sys.exit(2)
    root = float(frames[0][1])
    return 100.0 * sum(float(w) for n, w in frames if n == frame) / root


def folded_share(path, frame):
    total = through = 0
    for line in open(path):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        total += int(n)
        if frame in stack.split(";"):
            through += int(n)
    return 100.0 * through / total


if __name__ == "__main__":
    page, folded, frame = sys.argv[1:4]
    print("page %.2f folded %.2f" % (page_share(page, frame), folded_share(folded, frame)))
