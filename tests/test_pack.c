/* Unit tests of pass packing (harness/counters/pmb_pack.c) with fake PMUs:
 * a predicate that says which events can count together, as PAPI's real
 * event sets would, so the layout a PMU would get is checked here without
 * one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_options.h"
#include "pmb_pack.h"

/* The hardware counters in table order, as the PAPI backend packs them. */
static const int hw[] = {PMB_CTR_CYCLES,       PMB_CTR_INSTRUCTIONS, PMB_CTR_L1D_MISSES,
			 PMB_CTR_L2_MISSES,    PMB_CTR_LLC_MISSES,   PMB_CTR_BRANCHES,
			 PMB_CTR_BRANCH_MISSES};
#define NHW ((int)(sizeof hw / sizeof hw[0]))

struct fake_pmu {
	int fixed_mask;   /* counters with a dedicated counter (Intel fixed, ARM cycle) */
	int general;      /* general-purpose counters */
	int conflict[2];  /* two counters that never share, -1 if none */
	int calls;
	int bad_call;     /* a call whose members were not one pass's content */
	int pass_of[PMB_CTR_COUNT];
};

static int fake_fits(void *ctx, const int *members, int n, int extra)
{
	struct fake_pmu *pmu = ctx;
	int need = 0, fixed_used = 0;
	pmu->calls++;
	for (int i = 0; i <= n; i++) {
		int id = i < n ? members[i] : extra;
		if (i < n && pmu->pass_of[id] != pmu->pass_of[members[0]])
			pmu->bad_call = 1;
		if (i < n && id == extra)
			pmu->bad_call = 1;
		if ((pmu->fixed_mask & (1 << id)) && !(fixed_used & (1 << id)))
			fixed_used |= 1 << id;
		else
			need++;
		for (int j = 0; j < n; j++)
			if (id == pmu->conflict[0] && members[j] == pmu->conflict[1])
				return 0;
	}
	return need <= pmu->general;
}

static int pack(struct fake_pmu *pmu, int cap, int max_passes)
{
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		pmu->pass_of[i] = -2;
	return pmb_pack_passes(hw, NHW, cap, max_passes, fake_fits, pmu, pmu->pass_of);
}

/* A PMU with room for everything: one pass, cycles with instructions. */
static void test_pack_all_fit(void **state)
{
	(void)state;
	struct fake_pmu pmu = {.general = 8, .conflict = {-1, -1}};
	assert_int_equal(pack(&pmu, 0, PMB_COUNTER_PASSES_MAX), 1);
	for (int i = 0; i < NHW; i++)
		assert_int_equal(pmu.pass_of[hw[i]], 0);
	assert_false(pmu.bad_call);
	/* Counters outside ids are never touched. */
	assert_int_equal(pmu.pass_of[PMB_CTR_PAGE_FAULTS], -2);
}

/* Intel-like: cycles and instructions on fixed counters, 4 general ones.
 * Five general events: the fifth (branch_misses) gets pass 1. */
static void test_pack_intel_like(void **state)
{
	(void)state;
	struct fake_pmu pmu = {.fixed_mask = (1 << PMB_CTR_CYCLES) | (1 << PMB_CTR_INSTRUCTIONS),
			       .general = 4,
			       .conflict = {-1, -1}};
	assert_int_equal(pack(&pmu, 0, PMB_COUNTER_PASSES_MAX), 2);
	assert_int_equal(pmu.pass_of[PMB_CTR_CYCLES], 0);
	assert_int_equal(pmu.pass_of[PMB_CTR_INSTRUCTIONS], 0);
	assert_int_equal(pmu.pass_of[PMB_CTR_L1D_MISSES], 0);
	assert_int_equal(pmu.pass_of[PMB_CTR_L2_MISSES], 0);
	assert_int_equal(pmu.pass_of[PMB_CTR_LLC_MISSES], 0);
	assert_int_equal(pmu.pass_of[PMB_CTR_BRANCHES], 0);
	assert_int_equal(pmu.pass_of[PMB_CTR_BRANCH_MISSES], 1);
	assert_false(pmu.bad_call);
}

/* Cortex-A57 as QEMU emulates it: a cycle counter and 6 general ones. */
static void test_pack_cortex_a57(void **state)
{
	(void)state;
	struct fake_pmu pmu = {.fixed_mask = 1 << PMB_CTR_CYCLES, .general = 6,
			       .conflict = {-1, -1}};
	assert_int_equal(pack(&pmu, 0, PMB_COUNTER_PASSES_MAX), 1);
	for (int i = 0; i < NHW; i++)
		assert_int_equal(pmu.pass_of[hw[i]], 0);
}

/* A cap of 2 per pass: pairs in table order, rotation over 4 passes. */
static void test_pack_cap(void **state)
{
	(void)state;
	struct fake_pmu pmu = {.general = 8, .conflict = {-1, -1}};
	assert_int_equal(pack(&pmu, 2, PMB_COUNTER_PASSES_MAX), 4);
	for (int i = 0; i < NHW; i++)
		assert_int_equal(pmu.pass_of[hw[i]], i / 2);
	/* A cap of 1: one event per pass. */
	assert_int_equal(pack(&pmu, 1, PMB_COUNTER_PASSES_MAX), NHW);
	for (int i = 0; i < NHW; i++)
		assert_int_equal(pmu.pass_of[hw[i]], i);
	assert_false(pmu.bad_call);
}

/* Two events that conflict: the later one moves to pass 1, the events
 * after it still go back to pass 0 (first fit, not next fit). */
static void test_pack_conflict(void **state)
{
	(void)state;
	struct fake_pmu pmu = {.general = 8,
			       .conflict = {PMB_CTR_LLC_MISSES, PMB_CTR_L1D_MISSES}};
	assert_int_equal(pack(&pmu, 0, PMB_COUNTER_PASSES_MAX), 2);
	assert_int_equal(pmu.pass_of[PMB_CTR_L1D_MISSES], 0);
	assert_int_equal(pmu.pass_of[PMB_CTR_LLC_MISSES], 1);
	assert_int_equal(pmu.pass_of[PMB_CTR_BRANCHES], 0);
	assert_int_equal(pmu.pass_of[PMB_CTR_BRANCH_MISSES], 0);
}

/* No pass left: the counter is not placed (-1), never multiplexed. */
static void test_pack_passes_full(void **state)
{
	(void)state;
	struct fake_pmu pmu = {.general = 8, .conflict = {-1, -1}};
	assert_int_equal(pack(&pmu, 3, 2), 2);
	for (int i = 0; i < 6; i++)
		assert_int_equal(pmu.pass_of[hw[i]], i / 3);
	assert_int_equal(pmu.pass_of[PMB_CTR_BRANCH_MISSES], -1);
	/* Nothing to place: no pass, and the predicate is never asked. */
	pmu.calls = 0;
	assert_int_equal(pmb_pack_passes(hw, 0, 0, 4, fake_fits, &pmu, pmu.pass_of), 0);
	assert_int_equal(pmu.calls, 0);
}

/* --max-events-per-pass / max_events_per_pass and --no-calibrate /
 * calibrate: defaults, the command line, the config file, bad values. */
static void test_pack_options(void **state)
{
	(void)state;
	struct pmb_options o;
	pmb_options_defaults(&o);
	assert_int_equal(o.max_events_per_pass, 0);
	assert_int_equal(o.calibrate, 1);
	char *argv[] = {"pmubench", "--max-events-per-pass", "2", "--no-calibrate", NULL};
	assert_int_equal(pmb_options_parse(&o, 4, argv), 0);
	assert_int_equal(o.max_events_per_pass, 2);
	assert_int_equal(o.calibrate, 0);

	char path[] = "/tmp/pmb_test_pack_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("max_events_per_pass = 3\ncalibrate = false\n", f);
	fclose(f);
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_load_config(&o, path), 0);
	assert_int_equal(o.max_events_per_pass, 3);
	assert_int_equal(o.calibrate, 0);

	f = fopen(path, "w");
	fputs("max_events_per_pass = lots\n", f);
	fclose(f);
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_load_config(&o, path), -1);
	assert_non_null(strstr(pmb_error_message(), "max_events_per_pass"));
	unlink(path);

	char *neg[] = {"pmubench", "--max-events-per-pass", "-1", NULL};
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_parse(&o, 3, neg), -1);
	assert_non_null(strstr(pmb_error_message(), "--max-events-per-pass"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_all_fit),
		cmocka_unit_test(test_pack_intel_like),
		cmocka_unit_test(test_pack_cortex_a57),
		cmocka_unit_test(test_pack_cap),
		cmocka_unit_test(test_pack_conflict),
		cmocka_unit_test(test_pack_passes_full),
		cmocka_unit_test(test_pack_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
