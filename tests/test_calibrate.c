/* Unit tests of counter calibration (harness/counters/pmb_calibrate.c,
 * pmb_calib_record.c, pmb_calib_kernels.c) without a PMU: the verdict rule
 * on given expected/measured numbers, what a verdict does to the counter
 * plan, the record in JSON, the kernels' own results, and the whole run
 * through fake backends whose "hardware" counters read zero or a constant
 * (the way QEMU's unimplemented events behave). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmb_calibrate.h"
#include "pmb_error.h"
#include "pmb_json.h"

static const struct pmb_calib_expect ins = {3.0 * (1 << 20), 0.95, 1.05, -1};
static const struct pmb_calib_expect misp = {1 << 19, 0.6, 1.4, 0.05 * (1 << 20)};

static void test_judge(void **state)
{
	(void)state;
	/* exact, and at both edges of the accepted range */
	assert_int_equal(pmb_calib_judge(&ins, 3.0 * (1 << 20), NAN), PMB_CALIB_VALIDATED);
	assert_int_equal(pmb_calib_judge(&ins, 0.951 * 3 * (1 << 20), NAN), PMB_CALIB_VALIDATED);
	assert_int_equal(pmb_calib_judge(&ins, 1.049 * 3 * (1 << 20), NAN), PMB_CALIB_VALIDATED);
	/* QEMU's unimplemented events: exactly 0 */
	assert_int_equal(pmb_calib_judge(&ins, 0, NAN), PMB_CALIB_READS_ZERO);
	/* a handful where millions must occur is still zero */
	assert_int_equal(pmb_calib_judge(&ins, 3000, NAN), PMB_CALIB_READS_ZERO);
	assert_int_equal(pmb_calib_judge(&ins, 3200, NAN), PMB_CALIB_OFF_BY_FACTOR);
	/* counting twice (e.g. user + kernel, or 2 vCPUs' icount) */
	assert_int_equal(pmb_calib_judge(&ins, 6.0 * (1 << 20), NAN), PMB_CALIB_OFF_BY_FACTOR);
	assert_int_equal(pmb_calib_judge(&ins, 0.5 * 3 * (1 << 20), NAN), PMB_CALIB_OFF_BY_FACTOR);
	/* control kernel: about 0 must occur there */
	assert_int_equal(pmb_calib_judge(&misp, 1 << 19, 100), PMB_CALIB_VALIDATED);
	assert_int_equal(pmb_calib_judge(&misp, 1 << 19, 0.2 * (1 << 20)), PMB_CALIB_OFF_BY_FACTOR);
	/* nothing expected: not checked, whatever was read */
	struct pmb_calib_expect none = {0, 0.5, 2, -1};
	assert_int_equal(pmb_calib_judge(&none, 0, NAN), PMB_CALIB_NOT_CHECKED);
	assert_string_equal(pmb_calib_verdict_name(PMB_CALIB_READS_ZERO), "reads_zero");
	assert_string_equal(pmb_calib_verdict_name(PMB_CALIB_OFF_BY_FACTOR), "off_by_factor");
	assert_string_equal(pmb_calib_verdict_name(PMB_CALIB_VALIDATED), "validated");
}

/* The emulated PMU's layout: all hardware counters in pass 0, branches,
 * branch_misses and l1d_misses reading zero; page faults from
 * perf_event_open in pass 0 too. */
static void qemu_plan(struct pmb_counter_plan *plan, struct pmb_calibration *cal)
{
	memset(plan, 0, sizeof *plan);
	memset(cal, 0, sizeof *cal);
	int ids[] = {PMB_CTR_CYCLES, PMB_CTR_INSTRUCTIONS, PMB_CTR_L1D_MISSES, PMB_CTR_BRANCHES,
		     PMB_CTR_BRANCH_MISSES, PMB_CTR_PAGE_FAULTS};
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		plan->pass_of[i] = -1;
	for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
		plan->available |= PMB_CTR_MASK(ids[k]);
		plan->pass_of[ids[k]] = 0;
		snprintf(plan->event_name[ids[k]], sizeof plan->event_name[0], "EV%d", ids[k]);
	}
	plan->requested = plan->available;
	plan->npasses = 1;
	cal->ran = 1;
	struct pmb_calib_entry ok = {.verdict = PMB_CALIB_VALIDATED, .want = ins,
				     .measured = 3.0 * (1 << 20), .ratio = 1, .kernel = "loop"};
	struct pmb_calib_entry zero = {.verdict = PMB_CALIB_READS_ZERO, .want = misp,
				       .measured = 0, .ratio = 0, .kernel = "branchy"};
	cal->counter[PMB_CTR_INSTRUCTIONS] = ok;
	cal->counter[PMB_CTR_CYCLES] = ok;
	cal->counter[PMB_CTR_BRANCHES] = zero;
	cal->counter[PMB_CTR_BRANCH_MISSES] = zero;
	cal->counter[PMB_CTR_L1D_MISSES] = zero;
}

static void test_apply_reads_zero(void **state)
{
	(void)state;
	struct pmb_counter_plan plan;
	struct pmb_calibration cal;
	qemu_plan(&plan, &cal);
	uint32_t removed = pmb_calibration_apply(&cal, &plan);
	uint32_t zero = PMB_CTR_MASK(PMB_CTR_BRANCHES) | PMB_CTR_MASK(PMB_CTR_BRANCH_MISSES) |
			PMB_CTR_MASK(PMB_CTR_L1D_MISSES);
	assert_int_equal(removed, zero);
	assert_int_equal(plan.available & zero, 0);
	assert_true(plan.available & PMB_CTR_MASK(PMB_CTR_INSTRUCTIONS));
	assert_true(plan.available & PMB_CTR_MASK(PMB_CTR_CYCLES));
	assert_true(plan.available & PMB_CTR_MASK(PMB_CTR_PAGE_FAULTS));
	assert_int_equal(plan.pass_of[PMB_CTR_BRANCHES], -1);
	assert_int_equal(plan.pass_of[PMB_CTR_CYCLES], 0);
	assert_non_null(strstr(plan.reason[PMB_CTR_BRANCH_MISSES], "reads 0 where 524288 events must occur"));
	assert_non_null(strstr(plan.reason[PMB_CTR_BRANCH_MISSES], "EV6"));
	assert_non_null(strstr(plan.note, "calibration: l1d_misses, branches, branch_misses read zero"));
	assert_int_equal(plan.npasses, 1);
	/* Applying again changes nothing. */
	assert_int_equal(pmb_calibration_apply(&cal, &plan), 0);
}

/* A pass left empty is dropped and the later ones renumbered. */
static void test_apply_compacts_passes(void **state)
{
	(void)state;
	struct pmb_counter_plan plan;
	struct pmb_calibration cal;
	qemu_plan(&plan, &cal);
	plan.pass_of[PMB_CTR_BRANCHES] = 1;       /* alone in pass 1: emptied */
	plan.pass_of[PMB_CTR_L1D_MISSES] = 2;     /* with llc_misses in pass 2 */
	plan.available |= PMB_CTR_MASK(PMB_CTR_LLC_MISSES);
	plan.pass_of[PMB_CTR_LLC_MISSES] = 2;
	plan.npasses = 3;
	pmb_calibration_apply(&cal, &plan);
	assert_int_equal(plan.npasses, 2);
	assert_int_equal(plan.pass_of[PMB_CTR_CYCLES], 0);
	assert_int_equal(plan.pass_of[PMB_CTR_LLC_MISSES], 1);
	assert_int_equal(plan.pass_of[PMB_CTR_BRANCHES], -1);
	assert_int_equal(plan.pass_of[PMB_CTR_PAGE_FAULTS], 0);
}

static void test_json_and_describe(void **state)
{
	(void)state;
	struct pmb_counter_plan plan;
	struct pmb_calibration cal;
	qemu_plan(&plan, &cal);
	snprintf(cal.status, sizeof cal.status, "ran");
	cal.seconds = 0.25;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct pmb_json j;
	pmb_json_begin(&j, f);
	pmb_calibration_write_json(&j, &cal);
	pmb_json_end(&j);
	fclose(f);
	assert_non_null(strstr(text, "\"calibration\""));
	assert_non_null(strstr(text, "\"status\": \"ran\""));
	assert_non_null(strstr(text, "\"branch_misses\": {"));
	assert_non_null(strstr(text, "\"verdict\": \"reads_zero\""));
	assert_non_null(strstr(text, "\"verdict\": \"validated\""));
	assert_non_null(strstr(text, "\"expected\": 3145728"));
	assert_null(strstr(text, "\"page_faults\"")); /* software: not calibrated */
	free(text);
	char line[300];
	pmb_calibration_describe(&cal, PMB_CTR_INSTRUCTIONS, line, sizeof line);
	assert_string_equal(line, "calibration: validated, measured 3145728 / expected 3145728 = 1.000 on loop");
	pmb_calibration_describe(&cal, PMB_CTR_PAGE_FAULTS, line, sizeof line);
	assert_string_equal(line, "");
}

/* The kernels compute what they claim (their counts are what the PMU must
 * see; here at least their results and termination). */
static void test_kernels(void **state)
{
	(void)state;
	pmb_calib_loop(0);
	pmb_calib_loop(1000);
	uint8_t bits[1000];
	for (int i = 0; i < 1000; i++)
		bits[i] = (uint8_t)(i % 3 == 0);
	assert_int_equal(pmb_calib_branchy(bits, 1000), 334);
	assert_int_equal(pmb_calib_branchy(bits, 0), 0);
	/* The chase follows its pointers (a broken link would crash here). */
	struct pmb_calib_chase *c = pmb_calib_chase_new(1 << 20, 1024, 3);
	assert_non_null(c);
	pmb_calib_chase_run(c, 3 * 1024);
	pmb_calib_chase_free(c);
	assert_null(pmb_calib_chase_new(1 << 10, 1024, 3)); /* slots under a line */
#if defined(__x86_64__) || defined(__aarch64__)
	assert_int_equal(pmb_calib_counts_known, 1);
#endif
}

/* ---- the whole run through fake backends ---------------------------------- */

static int64_t fake_value; /* what every counter reads */
static int fake_fail_start;

static int fake_init(struct pmb_counter_plan *plan) { (void)plan; return 0; }
static int fake_open(const struct pmb_counter_plan *plan, void **ts)
{
	*ts = (void *)plan;
	return 0;
}
static int fake_start(void *ts, int pass)
{
	(void)ts;
	(void)pass;
	return fake_fail_start ? -1 : 0;
}
static int fake_stop(void *ts, int pass, const char *label, struct pmb_counter_values *v)
{
	const struct pmb_counter_plan *plan = ts;
	(void)label;
	v->counted = 0;
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		if ((plan->available & PMB_CTR_MASK(i)) && plan->pass_of[i] == pass) {
			v->value[i] = fake_value;
			v->counted |= PMB_CTR_MASK(i);
		}
	return 0;
}
static void fake_close(void *ts) { (void)ts; }
static void fake_fini(void) {}

static const struct pmb_counter_backend fake = {"fake", fake_init, fake_open, fake_start,
						fake_stop, fake_close, fake_fini, 0};

static struct pmb_topology_info small_topology(void)
{
	struct pmb_topology_info t;
	memset(&t, 0, sizeof t);
	t.cache[0].size = 32 << 10;
	t.cache[1].size = 1 << 20;
	t.cache[2].size = 4 << 20;
	t.llc_level = 3;
	return t;
}

static void test_run_not_run(void **state)
{
	(void)state;
	struct pmb_counter_plan plan;
	struct pmb_calibration cal;
	struct pmb_topology_info t = small_topology();
	memset(&plan, 0, sizeof plan);
	plan.npasses = 1;
	plan.available = PMB_CTR_MASK(PMB_CTR_PAGE_FAULTS); /* software only: this VM */
	assert_int_equal(pmb_calibrate(&fake, &plan, &t, 0, 1, &cal), 0);
	assert_int_equal(cal.ran, 0);
	assert_string_equal(cal.status, "not run: no hardware counter opened");
	plan.available |= PMB_CTR_MASK(PMB_CTR_CYCLES);
	assert_int_equal(pmb_calibrate(&fake, &plan, &t, 0, 0, &cal), 0);
	assert_string_equal(cal.status, "not run: switched off (--no-calibrate)");
	assert_int_equal(pmb_calibrate(&pmb_counter_backend_sim, &plan, &t, 0, 1, &cal), 0);
	assert_non_null(strstr(cal.status, "simulated"));
}

static void test_run_fake_pmu(void **state)
{
	(void)state;
	struct pmb_counter_plan plan;
	struct pmb_calibration cal;
	struct pmb_topology_info t = small_topology();
	memset(&plan, 0, sizeof plan);
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		plan.pass_of[i] = -1;
	/* Hardware counters over two passes, as a 4-counter PMU would. */
	for (int i = 0; i < PMB_CTR_PAGE_FAULTS; i++) {
		plan.available |= PMB_CTR_MASK(i);
		plan.pass_of[i] = i < 4 ? 0 : 1;
	}
	plan.npasses = 2;

	/* Everything reads 0: every checked counter reads zero. */
	fake_value = 0;
	assert_int_equal(pmb_calibrate(&fake, &plan, &t, 0, 1, &cal), 0);
	assert_int_equal(cal.ran, 1);
	assert_string_equal(cal.status, "ran");
	print_message("# calibration of the zero PMU took %.3f s\n", cal.seconds);
	for (int i = 0; i < PMB_CTR_PAGE_FAULTS; i++) {
		print_message("# %s: %s (%s)\n", pmb_counter_info[i].column,
			      pmb_calib_verdict_name(cal.counter[i].verdict), cal.counter[i].kernel);
		if (pmb_calib_counts_known || (i >= PMB_CTR_L1D_MISSES && i <= PMB_CTR_LLC_MISSES))
			assert_int_equal(cal.counter[i].verdict, PMB_CALIB_READS_ZERO);
	}
	assert_int_equal(cal.counter[PMB_CTR_PAGE_FAULTS].verdict, PMB_CALIB_NONE);

	/* A constant: n and 2n read alike, so the loop counters read zero
	 * (nothing scales with the work); the chase counters read the
	 * constant, far from one miss per step. */
	fake_value = 7;
	assert_int_equal(pmb_calibrate(&fake, &plan, &t, 0, 1, &cal), 0);
	if (pmb_calib_counts_known)
		assert_int_equal(cal.counter[PMB_CTR_INSTRUCTIONS].verdict, PMB_CALIB_READS_ZERO);
	assert_int_equal(cal.counter[PMB_CTR_L1D_MISSES].verdict, PMB_CALIB_READS_ZERO);
	fake_value = 1 << 20; /* 16 x the chase's steps: counts too much */
	assert_int_equal(pmb_calibrate(&fake, &plan, &t, 0, 1, &cal), 0);
	assert_int_equal(cal.counter[PMB_CTR_L1D_MISSES].verdict, PMB_CALIB_OFF_BY_FACTOR);
	/* Kept, flagged: a warning names it (stderr and meta.json). */
	size_t before = pmb_warn_count();
	pmb_log_set_quiet(1);
	pmb_calibration_warn(&cal);
	assert_true(pmb_warn_count() > before);
	int named = 0;
	for (size_t w = before; w < pmb_warn_count(); w++)
		named |= strstr(pmb_warn_get(w), "l1d_misses is off by a factor") != NULL;
	assert_true(named);

	/* A backend that fails: an error, not a verdict. */
	fake_fail_start = 1;
	assert_int_equal(pmb_calibrate(&fake, &plan, &t, 0, 1, &cal), -1);
	fake_fail_start = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_apply_reads_zero),
		cmocka_unit_test(test_apply_compacts_passes),
		cmocka_unit_test(test_json_and_describe),
		cmocka_unit_test(test_kernels),
		cmocka_unit_test(test_run_not_run),
		cmocka_unit_test(test_run_fake_pmu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
