# scripts/mk/bench.mk — `make bench`: pmubench's own benchmark (docs/bench.md).
# Included by the Makefile after its build section: uses $(BIN), $(CONFIG),
# $(PYTHON), $(OUT) and the `build` and `deps-bench` targets from there.
#
#   make bench                   P1 overhead, P2 precision, likwid-bench
#                                reference, P4 cost of CONFIG=x86 and CONFIG=ci
#   make bench BENCH_QUICK=1     the same without the long CONFIG=x86 sweep
#   make bench BENCH_ARGS='--only P1,P2'   any scripts/bench/bench.py option
#
# Prints the table (goal, measured, PASS/FAIL) and writes it with every
# detail to $(OUT)/bench-<host>-<UTC>/bench.{txt,csv,json}.  Exits 1 when a
# goal failed.

BENCH_QUICK ?=
BENCH_ARGS ?=

.PHONY: bench
bench: build deps-bench
	$(PYTHON) scripts/bench/bench.py --bin $(BIN) --config configs/$(CONFIG).ini --out $(OUT) \
	  $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(BENCH_ARGS)
