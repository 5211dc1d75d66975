"""doc_commands.py README.md HELP.txt — every `make ...` command shown to a
user, one per line: the lines of README's code blocks and its inline code
that start with `make `, and the commands in `make help`'s output (a
command ends at two spaces, `;` or ` (`; `a / b` lists expand to one command
each).  Not a test itself: tests/e2e/test_doc_commands.sh checks each
against tests/doc_commands.txt."""
import re
import sys


def readme_commands(text):
    out, in_block = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            cmd = re.sub(r"^\s*\$\s*", "", line).split("  #")[0].split(" # ")[0].strip()
            if cmd.startswith("make "):
                out.append(cmd)
            continue
        # `make` alone names the tool (a package table), not a command
        out += [c.strip() for c in re.findall(r"`(make [^`]*)`", line)]
    return out


def help_commands(text):
    out = []
    for line in text.splitlines():
        for seg in re.split(r"\s{2,}", line.strip()):
            m = re.search(r"(?:^|\s)(make(?: .*)?)$", seg)
            if not m:
                continue
            cmd = re.split(r";| \(", m.group(1))[0].rstrip("),")
            if cmd == "make":
                continue
            words = cmd.split(" / ")
            first = words[0]
            out.append(first)
            for alt in words[1:]:  # make deps / deps-test: one command each
                out.append("make " + alt.strip())
    return out


def main(readme, helptext):
    seen = []
    for cmd in readme_commands(open(readme).read()) + help_commands(open(helptext).read()):
        cmd = re.sub(r"\s+", " ", cmd)
        if cmd not in seen:
            seen.append(cmd)
    print("\n".join(seen))


if __name__ == "__main__":
    main(*sys.argv[1:3])
