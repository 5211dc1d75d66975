# scripts/mk/validate.mk — `make validate`: check the counter signatures of
# scripts/pmubench/signatures.py on this machine's hardware counters.
# Included by the Makefile after its own variables (BIN, CONFIG, FLAGSET,
# OUT, PYTHON); docs/sim.md "make validate".
#
#   make validate                   papi run of every kernel (the config's
#                                   sizes, short sampling), then the checks
#   make validate RUN=results/<run> check an existing run (papi or sim)
#
# Each signature is printed as "holds", "does not hold", "not measured
# (counter unavailable: <reason from meta.json>)" or "not checked" (a
# model-only signature, or instruction counts of another compiler).  Exit 0
# unless something measured does not hold.  Without a PMU only allocs (the
# wrapped allocator) are measured.

# RUN counts only when given (command line or environment): the Makefile's
# own RUN defaults to the newest run, which may not be a validation run.
VALIDATE_RUN = $(if $(filter command line environment,$(origin RUN)),$(RUN))
# Medians are all the checks use: fewer samples than a sweep.
VALIDATE_ARGS ?= --min-samples 5 --reps 20 --point-seconds 0.2

.PHONY: validate
validate: $(if $(VALIDATE_RUN),,build)
	@set -e; run="$(VALIDATE_RUN)"; \
	if [ -z "$$run" ]; then \
	  echo "pmubench: validate: papi run of every kernel (CONFIG=$(CONFIG)) into $(OUT)/validate-*"; \
	  $(BIN) --config configs/$(CONFIG).ini --backend papi --threads 1 --flagset $(FLAGSET) \
	    --out $(OUT) --name validate -q $(VALIDATE_ARGS) >/dev/null; \
	  run=$$(ls -1dt $(OUT)/validate-*/ | head -n 1); \
	fi; \
	$(PMB_PY) pmubench.validate "$$run"
