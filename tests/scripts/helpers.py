"""Shared paths and a subprocess runner for the script tests."""

import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
PYTHON = "/usr/bin/python3"

sys.dont_write_bytecode = True  # keep __pycache__ out of scripts/
if SCRIPTS not in sys.path:  # the pmubench package and the tool folders
    sys.path.insert(0, SCRIPTS)


def fixture(name):
    return os.path.join(FIXTURES, name)


def run_script(name, *args, **kw):
    """Run scripts/<name> the way the Makefile does: pmubench/<tool>.py as
    `python3 -m pmubench.<tool>` with PYTHONPATH=scripts, other .py files
    with /usr/bin/python3, .sh with sh.  Returns CompletedProcess with text
    stdout/stderr."""
    path = os.path.join(SCRIPTS, name)
    if name.startswith("pmubench/") and name.endswith(".py"):
        cmd = [PYTHON, "-m", name[:-3].replace("/", ".")]
    elif name.endswith(".sh"):
        cmd = ["sh", path]
    else:
        cmd = [PYTHON, path]
    env = dict(os.environ, NO_COLOR="1", MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=SCRIPTS)
    env.update(kw.pop("env", {}))
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True,
                          text=True, env=env, timeout=kw.pop("timeout", 180), **kw)
