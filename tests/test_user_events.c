/* Unit tests: the user's own events in --counters (pmb_user_events.c):
 * which items are events, their column names, the errors for bad names,
 * and the schema they extend (own raw column, <column>_per_elem metric with
 * the counters' normalisation, empty cell when not counted).  The PAPI
 * check of the name runs where the PAPI library loads.
 *
 * The schema is built once per process, so the tests that parse lists run
 * first and the last of them leaves the events the schema tests expect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_plan.h"
#include "pmb_schema.h"

static const char *column_of(const char *event)
{
	static char out[64];
	if (pmb_user_event_column(event, strlen(event), out, sizeof out) != 0)
		return NULL;
	return out;
}

static void test_column_rule(void **state)
{
	(void)state;
	assert_string_equal(column_of("PAPI_L1_TCM"), "papi_l1_tcm");
	assert_string_equal(column_of("perf::INSTRUCTIONS"), "perf_instructions");
	assert_string_equal(column_of("arm_ac57::INST_RETIRED"), "arm_ac57_inst_retired");
	assert_string_equal(column_of("perf_raw::r0008"), "perf_raw_r0008");
	assert_string_equal(column_of("perf::CYCLES:u=0"), "perf_cycles_u_0");
	assert_string_equal(column_of("DEMAND_DATA_CACHE_FILLS_FROM_SYSTEM:DRAM_IO_NEAR"),
			    "demand_data_cache_fills_from_system_dram_io_near");
	assert_string_equal(column_of("::A--B::"), "a_b"); /* no '_' at the ends, runs of one */
	assert_string_equal(column_of("0x11:K"), "ev_0x11_k"); /* a column starts with a letter */
	assert_null(column_of("::"));
	assert_non_null(strstr(pmb_error_message(), "no letter or digit"));
	char small[8];
	assert_int_equal(pmb_user_event_column("PAPI_L1_TCM", 11, small, sizeof small), -1);
	assert_non_null(strstr(pmb_error_message(), "longer than 7"));
}

static void test_event_like(void **state)
{
	(void)state;
	assert_true(pmb_user_event_like("PAPI_L1_TCM", 11));
	assert_true(pmb_user_event_like("perf::instructions", 18));
	assert_true(pmb_user_event_like("perf_raw::r08", 13));
	/* lower case without ':' is a built-in name (or its typo) */
	assert_false(pmb_user_event_like("cylces", 6));
	assert_false(pmb_user_event_like("r00c0", 5));
}

static void test_parse_events(void **state)
{
	(void)state;
	uint32_t m = 0;
	assert_int_equal(pmb_counter_parse_list("cycles,PAPI_L1_TCM,perf::INSTRUCTIONS", &m), 0);
	assert_int_equal(pmb_counter_n(), PMB_CTR_COUNT + 2);
	assert_int_equal(m, PMB_CTR_MASK(PMB_CTR_CYCLES) | PMB_CTR_MASK(PMB_CTR_COUNT) |
				    PMB_CTR_MASK(PMB_CTR_COUNT + 1));
	assert_string_equal(pmb_counter_info[PMB_CTR_COUNT].column, "papi_l1_tcm");
	assert_string_equal(pmb_counter_info[PMB_CTR_COUNT].papi_events, "PAPI_L1_TCM");
	assert_string_equal(pmb_counter_info[PMB_CTR_COUNT + 1].column, "perf_instructions");
	assert_string_equal(pmb_user_events_list(), "PAPI_L1_TCM,perf::INSTRUCTIONS");
	/* Mixed with a set; the same event twice is one column. */
	assert_int_equal(pmb_counter_parse_list("all,PAPI_L1_TCM,PAPI_L1_TCM", &m), 0);
	assert_int_equal(pmb_counter_n(), PMB_CTR_COUNT + 1);
	assert_int_equal(m, PMB_CTR_ALL_MASK | PMB_CTR_MASK(PMB_CTR_COUNT));
	/* The last list wins: no events left over from an earlier one. */
	assert_int_equal(pmb_counter_parse_list("cycles", &m), 0);
	assert_int_equal(pmb_counter_n(), PMB_CTR_COUNT);
	assert_string_equal(pmb_user_events_list(), "");
}

/* parse must fail and name what is wrong. */
static void bad(const char *list, const char *want)
{
	uint32_t m = 77;
	pmb_error_clear();
	if (pmb_counter_parse_list(list, &m) != -1)
		fail_msg("'%s' was accepted", list);
	assert_int_equal(m, 77);
	if (!strstr(pmb_error_message(), want))
		fail_msg("'%s': message '%s' lacks '%s'", list, pmb_error_message(), want);
}

static void test_parse_errors(void **state)
{
	(void)state;
	bad("CYCLES", "would get the column 'cycles'");
	bad("CYCLES", "perf::CYCLES");
	bad("IPC", "column or metric 'ipc'");
	bad("NS", "column or metric 'ns'");
	bad("CYCLES_PER_ELEM", "column or metric 'cycles_per_elem'");
	bad("PAPI_L1_TCM,PAPI_L1_TCM_PER_ELEM", "column or metric 'papi_l1_tcm_per_elem'");
	bad("PAPI_L1_TCM_PER_ELEM,PAPI_L1_TCM", "column or metric 'papi_l1_tcm_per_elem'");
	bad("perf::INSTRUCTIONS,perf:INSTRUCTIONS", "both give the column or metric 'perf_instructions'");
	bad("PAPI L1", "the character ' '");
	bad("PAPI_L1_TCM;rm", "the character ';'");
	bad("A0,A1,A2,A3", "more than 3 own events");
	bad("A0,A1,A2,A3", "'A3' is one too many");
	char longname[80];
	memset(longname, 'X', 70);
	longname[70] = '\0';
	bad(longname, "longer than 63 characters");
	bad("cylces", "papi_native_avail");
	bad("::", "no letter or digit");
}

/* The PAPI backend refuses a name PAPI does not know, before anything is
 * measured, naming the event and the listing tools. */
static void test_papi_unknown_event(void **state)
{
	(void)state;
	void *h = dlopen("libpapi.so.7.0", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libpapi.so", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		print_message("# skip: no PAPI library to ask\n");
		skip();
	}
	dlclose(h);
	uint32_t m = 0;
	assert_int_equal(pmb_counter_parse_list("cycles,PAPI_NO_SUCH_EVENT_X", &m), 0);
	struct pmb_counter_plan plan = {.requested = m};
	pmb_error_clear();
	assert_int_equal(pmb_counter_backend_papi.init(&plan), -1);
	const char *msg = pmb_error_message();
	assert_non_null(strstr(msg, "PAPI does not know the event 'PAPI_NO_SUCH_EVENT_X'"));
	assert_non_null(strstr(msg, "papi_avail"));
	assert_non_null(strstr(msg, "papi_native_avail"));
	/* A preset PAPI knows passes the check: counted or empty with a
	 * reason, never an error. */
	assert_int_equal(pmb_counter_parse_list("PAPI_TOT_INS", &m), 0);
	plan = (struct pmb_counter_plan){.requested = m};
	assert_int_equal(pmb_counter_backend_papi.init(&plan), 0);
	int id = PMB_CTR_COUNT;
	if (plan.available & PMB_CTR_MASK(id))
		assert_string_equal(plan.event_name[id], "PAPI_TOT_INS");
	else
		assert_non_null(strstr(plan.reason[id], "PAPI_TOT_INS"));
	pmb_counter_backend_papi.fini();
}

/* Timer and sim backends keep a user event requested and say why it is
 * not counted. */
static void test_other_backends(void **state)
{
	(void)state;
	uint32_t m = 0;
	assert_int_equal(pmb_counter_parse_list("PAPI_TOT_INS", &m), 0);
	struct pmb_counter_plan plan = {.requested = m};
	assert_int_equal(pmb_counter_backend_timer.init(&plan), 0);
	assert_int_equal(plan.available, 0);
	assert_non_null(strstr(plan.reason[PMB_CTR_COUNT], "timer backend"));
}

/* Leaves two events registered for the schema tests below. */
static void test_schema_columns(void **state)
{
	(void)state;
	uint32_t m = 0;
	assert_int_equal(pmb_counter_parse_list("all,PAPI_L1_TCM,perf::PAGE-FAULTS", &m), 0);
	int a = pmb_schema_column_index(PMB_IN_RAW, "task_clock_ns");
	int u0 = pmb_schema_column_index(PMB_IN_RAW, "papi_l1_tcm");
	int u1 = pmb_schema_column_index(PMB_IN_RAW, "perf_page_faults");
	int al = pmb_schema_column_index(PMB_IN_RAW, "allocs");
	/* raw counts after the built-in counters, before allocs */
	assert_int_equal(u0, a + 1);
	assert_int_equal(u1, a + 2);
	assert_int_equal(al, a + 3);
	assert_int_equal(pmb_schema_column_index(PMB_IN_SUMMARY, "papi_l1_tcm"), -1);
	assert_int_equal(pmb_schema_metric_find("papi_l1_tcm_per_elem"), PMB_METRIC_USER0);
	assert_int_equal(pmb_schema_metric_find("perf_page_faults_per_elem"), PMB_METRIC_USER0 + 1);
	assert_null(pmb_schema_metric(PMB_METRIC_USER0 + 2));
	const struct pmb_metric_def *d = pmb_schema_metric(PMB_METRIC_USER0);
	assert_int_equal(d->norm, PMB_NORM_PER_ELEM);
	assert_int_equal(d->prov, PMB_PROV_COUNTER);
	assert_string_equal(d->unit, "events/elem");
	assert_true(pmb_schema_column_index(PMB_IN_RAW, "papi_l1_tcm_per_elem") >= 0);
	assert_non_null(strstr(pmb_schema_header(PMB_IN_RAW), ",papi_l1_tcm,perf_page_faults,"));
	/* 22 built-in metrics + 2 own ones on a 1-thread point */
	struct pmb_point p = {.kernel = pmb_plan_kernel_at(0), .n_elems = 100, .threads = 1};
	assert_int_equal(pmb_schema_summary_rows(&p), 24);
}

static void test_values(void **state)
{
	(void)state;
	struct pmb_point p = {.kernel = pmb_plan_kernel_at(0), .size_bytes = 800, .n_elems = 100,
			      .threads = 2, .cache_level = 1};
	struct pmb_sample_row agg = {.point = &p, .thread = -1, .core = -1, .iters = 10};
	int u0 = PMB_CTR_COUNT, u1 = PMB_CTR_COUNT + 1;
	agg.counters.counted = PMB_CTR_MASK(u1);
	agg.counters.value[u0] = 0; /* not counted: must not come out as 0 */
	agg.counters.value[u1] = 4000;
	/* aggregate: summed count over both threads' elements, as built-ins */
	assert_true(fabs(pmb_report_metric_value(&agg, PMB_METRIC_USER0 + 1) - 2.0) < 1e-12);
	assert_true(isnan(pmb_report_metric_value(&agg, PMB_METRIC_USER0)));
	assert_true(isnan(pmb_report_metric_value(&agg, PMB_METRIC_USER0 + 2)));

	char buf[4096] = "";
	struct pmb_run_info run = {.run_id = "r", .flagset = "f", .backend = "papi"};
	FILE *f = fmemopen(buf, sizeof buf, "w");
	pmb_schema_write_raw_row(f, &run, &agg);
	fclose(f);
	/* cells: ... task_clock_ns, papi_l1_tcm (empty), perf_page_faults, allocs */
	assert_non_null(strstr(buf, ",,4000,0,"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_column_rule),
		cmocka_unit_test(test_event_like),
		cmocka_unit_test(test_parse_events),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_papi_unknown_event),
		cmocka_unit_test(test_other_backends),
		cmocka_unit_test(test_schema_columns),
		cmocka_unit_test(test_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
