"""pmubench analysis package: reads run directories written by the harness
and plots, reports and compares them.  load.py is the one reader; every
other module imports it.  Each tool runs as a module with scripts/ on the
path, e.g.  PYTHONPATH=scripts /usr/bin/python3 -m pmubench.plot RUN_DIR
(the Makefile's `make plot`, `make compare`, `make validate` do this).
"""
