# scripts/mk/fixtures.mk — `make fixtures`: the run fixtures of the script
# tests (tests/fixtures/run-*), regenerated from the real binary by
# tests/fixtures/make_fixtures.sh.  tests/e2e/test_fixtures.sh (part of
# `make test`) regenerates them into a temporary directory and checks them
# against the committed copy, so a schema change cannot pass unnoticed:
# after changing the schema, run `make fixtures` and commit the result.
#
#   make fixtures [FIXTURES_OUT=tests/fixtures]

FIXTURES_OUT ?= tests/fixtures

.PHONY: fixtures
fixtures: $(TEST_BUILD)/pmubench
	@tests/fixtures/make_fixtures.sh $(TEST_BUILD)/pmubench $(FIXTURES_OUT)
