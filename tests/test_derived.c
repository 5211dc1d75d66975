/* test_derived.c — derived metrics (pmb_derived.c) on hand-made sample
 * rows: each formula, and the rule that a derived metric is empty when an
 * input is empty or its denominator is 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "pmb_derived.h"
#include "pmb_report.h"

static struct pmb_kernel kernel = {.family = "f", .variant = "v", .bytes_per_elem = 8,
				   .traffic_bytes = 16};
static struct pmb_point point = {.kernel = &kernel, .size_bytes = 8192, .n_elems = 1024,
				 .threads = 2};

static struct pmb_sample_row row_with(uint32_t counted)
{
	struct pmb_sample_row r;
	memset(&r, 0, sizeof r);
	r.point = &point;
	r.thread = 0;
	r.iters = 4;
	r.ns = 10000;
	r.overhead_ns = 1808; /* net 8192 ns */
	r.counters.counted = counted;
	r.counters.value[PMB_CTR_CYCLES] = 1000;
	r.counters.value[PMB_CTR_INSTRUCTIONS] = 2500;
	r.counters.value[PMB_CTR_BRANCHES] = 400;
	r.counters.value[PMB_CTR_BRANCH_MISSES] = 10;
	r.counters.value[PMB_CTR_L1D_MISSES] = 125;
	r.counters.value[PMB_CTR_L2_MISSES] = 50;
	r.counters.value[PMB_CTR_LLC_MISSES] = 5;
	return r;
}

static void test_ratios(void **state)
{
	(void)state;
	struct pmb_sample_row r = row_with(PMB_CTR_ALL_MASK);
	assert_float_equal(pmb_derived_value(&r, PMB_DER_IPC), 2.5, 1e-12);
	assert_float_equal(pmb_derived_value(&r, PMB_DER_BRANCH_MISS_RATIO), 0.025, 1e-12);
	assert_float_equal(pmb_derived_value(&r, PMB_DER_L1D_MISS_RATE), 0.05, 1e-12);
	assert_float_equal(pmb_derived_value(&r, PMB_DER_LLC_MISS_RATIO), 0.1, 1e-12);
	/* The summary sees them as metrics after the per-element ones. */
	assert_float_equal(pmb_report_metric_value(&r, PMB_METRIC_DERIVED0 + PMB_DER_IPC), 2.5,
			   1e-12);
	assert_string_equal(pmb_metric_name(PMB_METRIC_DERIVED0 + PMB_DER_IPC), "ipc");
}

static void test_empty_inputs(void **state)
{
	(void)state;
	/* instructions not counted: IPC and the L1D rate are empty, never 0. */
	struct pmb_sample_row r = row_with(PMB_CTR_ALL_MASK & ~PMB_CTR_MASK(PMB_CTR_INSTRUCTIONS));
	assert_true(isnan(pmb_derived_value(&r, PMB_DER_IPC)));
	assert_true(isnan(pmb_derived_value(&r, PMB_DER_L1D_MISS_RATE)));
	assert_float_equal(pmb_derived_value(&r, PMB_DER_BRANCH_MISS_RATIO), 0.025, 1e-12);
	/* A zero denominator is no measurement either. */
	r = row_with(PMB_CTR_ALL_MASK);
	r.counters.value[PMB_CTR_CYCLES] = 0;
	assert_true(isnan(pmb_derived_value(&r, PMB_DER_IPC)));
	r = row_with(0);
	for (int d = 0; d < PMB_DER_BYTES_PER_ELEM; d++)
		assert_true(isnan(pmb_derived_value(&r, d)));
}

static void test_traffic(void **state)
{
	(void)state;
	struct pmb_sample_row r = row_with(0);
	assert_float_equal(pmb_derived_value(&r, PMB_DER_BYTES_PER_ELEM), 16, 0);
	/* 16 B x 1024 elems x 4 passes over 8192 net ns = 8 bytes/ns = 8 GB/s. */
	assert_float_equal(pmb_derived_value(&r, PMB_DER_GBPS), 8.0, 1e-12);
	/* The aggregate row of 2 threads moved twice the bytes in its wall time. */
	r.thread = -1;
	assert_float_equal(pmb_derived_value(&r, PMB_DER_GBPS), 16.0, 1e-12);
	/* No declaration: empty. */
	kernel.traffic_bytes = 0;
	assert_true(isnan(pmb_derived_value(&r, PMB_DER_BYTES_PER_ELEM)));
	assert_true(isnan(pmb_derived_value(&r, PMB_DER_GBPS)));
	kernel.traffic_bytes = 16;
	/* A sample no longer than the empty-sample cost has no time to divide by. */
	r.ns = 1000;
	assert_true(isnan(pmb_derived_value(&r, PMB_DER_GBPS)));
}

static void test_table_complete(void **state)
{
	(void)state;
	for (int d = 0; d < PMB_DER_COUNT; d++) {
		assert_non_null(pmb_derived_info[d].name);
		assert_true(pmb_derived_info[d].unit[0] && pmb_derived_info[d].formula[0] &&
			    pmb_derived_info[d].description[0]);
		assert_string_equal(pmb_metric_unit(PMB_METRIC_DERIVED0 + d), pmb_derived_info[d].unit);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratios),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_traffic),
		cmocka_unit_test(test_table_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
