/* Unit tests: the schema table, RFC 4180 quoting and splitting, names that
 * must not break paths, and the aggregate metrics' normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pmb_csv.h"
#include "pmb_error.h"
#include "pmb_options.h"
#include "pmb_plan.h"
#include "pmb_schema.h"

static char *put_to_string(const char *cell)
{
	static char buf[256];
	memset(buf, 0, sizeof buf);
	FILE *f = fmemopen(buf, sizeof buf, "w");
	pmb_csv_put(f, cell);
	fclose(f);
	return buf;
}

static void test_csv_quoting(void **state)
{
	(void)state;
	assert_string_equal(put_to_string("plain"), "plain");
	assert_string_equal(put_to_string(""), "");
	assert_string_equal(put_to_string("a,b"), "\"a,b\"");
	assert_string_equal(put_to_string("say \"hi\""), "\"say \"\"hi\"\"\"");
	assert_string_equal(put_to_string("two\nlines"), "\"two\nlines\"");
	assert_string_equal(put_to_string("cr\r"), "\"cr\r\"");
	assert_false(pmb_csv_needs_quotes("-O2 -g"));
	assert_true(pmb_csv_needs_quotes("-Wl,--as-needed"));
}

static void test_csv_round_trip(void **state)
{
	(void)state;
	const char *cells[] = {"run,1", "O2,\"fast\"", "", "plain", "\"", ",", "x\"\"y"};
	size_t n = sizeof cells / sizeof cells[0];
	char line[512];
	FILE *f = fmemopen(line, sizeof line, "w");
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		pmb_csv_put(f, cells[i]);
	}
	fclose(f);
	char *fields[16];
	assert_int_equal(pmb_csv_split(line, fields, 16), (int)n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(fields[i], cells[i]);
}

static void test_csv_split_bad(void **state)
{
	(void)state;
	char open_quote[] = "a,\"never closed";
	char *fields[8];
	assert_int_equal(pmb_csv_split(open_quote, fields, 8), -1);
	char trailing[] = "\"q\"x,b";
	assert_int_equal(pmb_csv_split(trailing, fields, 8), -1);
	char empty_last[] = "a,";
	assert_int_equal(pmb_csv_split(empty_last, fields, 8), 2);
	assert_string_equal(fields[1], "");
}

static void test_schema_tables(void **state)
{
	(void)state;
	size_t nraw = pmb_schema_ncolumns(PMB_IN_RAW);
	size_t nsum = pmb_schema_ncolumns(PMB_IN_SUMMARY);
	assert_true(nraw > 20 && nsum > 20);
	/* Header = column names in order, comma-separated. */
	char expect[4096] = "";
	for (size_t i = 0; i < nraw; i++) {
		strcat(expect, pmb_schema_column(PMB_IN_RAW, i)->name);
		strcat(expect, i + 1 < nraw ? "," : "\n");
	}
	assert_string_equal(pmb_schema_header(PMB_IN_RAW), expect);
	/* Every counter has a raw column and a per-element metric that is a
	 * raw column too (raw rows carry what the summary summarises). */
	for (int c = 0; c < PMB_CTR_COUNT; c++) {
		char name[64];
		assert_true(pmb_schema_column_index(PMB_IN_RAW, pmb_counter_info[c].column) >= 0);
		snprintf(name, sizeof name, "%s_per_elem", pmb_counter_info[c].column);
		int m = pmb_schema_metric_find(name);
		assert_int_equal(m, PMB_METRIC_COUNTER0 + c);
		assert_true(pmb_schema_column_index(PMB_IN_RAW, name) >= 0);
	}
	for (int m = 0; m < PMB_METRIC_COUNT; m++) {
		const struct pmb_metric_def *d = pmb_schema_metric(m);
		if (m >= PMB_METRIC_USER0) { /* no user events in this program */
			assert_null(d);
			continue;
		}
		assert_non_null(d);
		if (d->prov != PMB_PROV_DERIVED)
			assert_true(strstr(d->unit, "/elem") != NULL);
		assert_true(d->formula[0] && d->description[0]);
		assert_true(pmb_schema_column_index(PMB_IN_RAW, d->name) >= 0);
		assert_int_equal(pmb_schema_column_index(PMB_IN_SUMMARY, d->name), -1);
	}
	assert_int_equal(pmb_schema_metric(PMB_METRIC_GROUP_NS)->norm, PMB_NORM_GROUP_ELEM);
	assert_int_equal(pmb_schema_metric(PMB_METRIC_GROUP_NS)->scope, PMB_SCOPE_GROUP);
	assert_int_equal(pmb_schema_metric(PMB_METRIC_NS)->norm, PMB_NORM_PER_ELEM);
	assert_null(pmb_schema_metric(PMB_METRIC_COUNT));
	assert_int_equal(pmb_schema_metric_find("no_such_metric"), -1);
	/* thread and core are integers in both files where present. */
	assert_int_equal(pmb_schema_column(PMB_IN_RAW, pmb_schema_column_index(PMB_IN_RAW, "thread"))->type,
			 PMB_TYPE_INT);
	assert_int_equal(pmb_schema_column(PMB_IN_RAW, pmb_schema_column_index(PMB_IN_RAW, "core"))->type,
			 PMB_TYPE_INT);
	assert_true(pmb_schema_column_index(PMB_IN_SUMMARY, "source") >= 0);
	assert_int_equal(pmb_schema_column_index(PMB_IN_RAW, "counter_source"), -1);
}

static const struct pmb_kernel *any_kernel(void)
{
	return pmb_plan_kernel_at(0);
}

/* The 2-thread case of the issue: per-thread and group metrics differ by
 * the thread count for time, not for counts. */
static void test_aggregate_metrics(void **state)
{
	(void)state;
	struct pmb_point p = {.kernel = any_kernel(), .size_bytes = 16384, .n_elems = 2048,
			      .threads = 2, .cache_level = 1};
	struct pmb_sample_row agg = {.point = &p, .thread = -1, .core = -1, .iters = 10,
				     .ns = 20480 + 100, .tsc_ticks = 40960 + 50,
				     .overhead_ns = 100, .overhead_ticks = 50, .allocs = 2560};
	agg.counters.counted = PMB_CTR_MASK(PMB_CTR_PAGE_FAULTS);
	agg.counters.value[PMB_CTR_PAGE_FAULTS] = 4096;
	assert_true(fabs(pmb_report_metric_value(&agg, PMB_METRIC_NS) - 1.0) < 1e-12);
	assert_true(fabs(pmb_report_metric_value(&agg, PMB_METRIC_GROUP_NS) - 0.5) < 1e-12);
	assert_true(fabs(pmb_report_metric_value(&agg, PMB_METRIC_TSC) - 2.0) < 1e-12);
	assert_true(fabs(pmb_report_metric_value(&agg, PMB_METRIC_GROUP_TSC) - 1.0) < 1e-12);
	/* sums over both threads, divided by both threads' elements */
	assert_true(fabs(pmb_report_metric_value(&agg, PMB_METRIC_ALLOCS) - 0.0625) < 1e-12);
	assert_true(fabs(pmb_report_metric_value(&agg, PMB_METRIC_COUNTER0 + PMB_CTR_PAGE_FAULTS) -
			 0.1) < 1e-12);
	assert_true(isnan(pmb_report_metric_value(&agg, PMB_METRIC_COUNTER0 + PMB_CTR_CYCLES)));

	/* A thread row: per-element of its own work; no group metric. */
	struct pmb_sample_row t0 = agg;
	t0.thread = 0;
	t0.core = 3;
	t0.allocs = 1280;
	assert_true(fabs(pmb_report_metric_value(&t0, PMB_METRIC_NS) - 1.0) < 1e-12);
	assert_true(isnan(pmb_report_metric_value(&t0, PMB_METRIC_GROUP_NS)));
	assert_true(fabs(pmb_report_metric_value(&t0, PMB_METRIC_ALLOCS) - 0.0625) < 1e-12);
	assert_false(pmb_schema_is_group_row(&p, 0));
	assert_true(pmb_schema_is_group_row(&p, -1));

	/* One thread: thread 0 is the group; both readings agree. */
	p.threads = 1;
	assert_true(pmb_schema_is_group_row(&p, 0));
	assert_true(fabs(pmb_report_metric_value(&t0, PMB_METRIC_GROUP_NS) - 1.0) < 1e-12);
}

static void test_raw_row_cells(void **state)
{
	(void)state;
	struct pmb_point p = {.kernel = any_kernel(), .size_bytes = 4096, .n_elems = 512,
			      .threads = 2, .cache_level = 1};
	struct pmb_run_info run = {.flagset = "O2,\"x\"", .compiler = "gcc", .cflags = "-O2",
				   .backend = "timer", .has_ticks = 1};
	snprintf(run.run_id, sizeof run.run_id, "a,b-host-t");
	struct pmb_sample_row agg = {.point = &p, .thread = -1, .core = 5, .iters = 1,
				     .ns = 1024, .valid = 1};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	pmb_schema_write_raw_row(f, &run, &agg);
	fclose(f);
	assert_int_equal(text[len - 1], '\n');
	text[len - 1] = '\0';
	char *cells[128];
	assert_int_equal(pmb_csv_split(text, cells, 128), (int)pmb_schema_ncolumns(PMB_IN_RAW));
	assert_string_equal(cells[pmb_schema_column_index(PMB_IN_RAW, "run_id")], "a,b-host-t");
	assert_string_equal(cells[pmb_schema_column_index(PMB_IN_RAW, "flagset")], "O2,\"x\"");
	assert_string_equal(cells[pmb_schema_column_index(PMB_IN_RAW, "thread")], "-1");
	assert_string_equal(cells[pmb_schema_column_index(PMB_IN_RAW, "core")], "-1");
	assert_string_equal(cells[pmb_schema_column_index(PMB_IN_RAW, "ns_per_elem")], "2");
	assert_string_equal(cells[pmb_schema_column_index(PMB_IN_RAW, "group_ns_per_elem")], "1");
	assert_string_equal(cells[pmb_schema_column_index(PMB_IN_RAW, "cycles")], "");
	free(text);
}

static void test_name_validation(void **state)
{
	(void)state;
	assert_int_equal(pmb_options_check_name("O3-native_2", "flagset"), 0);
	assert_int_equal(pmb_options_check_name("with,comma \"q\"", "flagset"), 0);
	assert_int_equal(pmb_options_check_name("a/b", "flagset"), -1);
	assert_non_null(strstr(pmb_error_message(), "'/'"));
	assert_non_null(strstr(pmb_error_message(), "use '-' or '_'"));
	assert_int_equal(pmb_options_check_name("..", "name"), -1);
	assert_non_null(strstr(pmb_error_message(), "'..'"));
	assert_int_equal(pmb_options_check_name("a\tb", "name"), -1);
	assert_non_null(strstr(pmb_error_message(), "control character"));
	assert_int_equal(pmb_options_check_name("", "name"), -1);

	struct pmb_options o;
	pmb_options_defaults(&o);
	char *bad_name[] = {"pmubench", "--name", "../up", NULL};
	assert_int_equal(pmb_options_parse(&o, 3, bad_name), -1);
	assert_non_null(strstr(pmb_error_message(), "--name"));
	pmb_options_defaults(&o);
	char *bad_flagset[] = {"pmubench", "--flagset=x/y", NULL};
	assert_int_equal(pmb_options_parse(&o, 2, bad_flagset), -1);
	assert_non_null(strstr(pmb_error_message(), "--flagset"));
	pmb_options_defaults(&o);
	char *good[] = {"pmubench", "--name", "a,\"b\"", "--flagset", "c,d", NULL};
	assert_int_equal(pmb_options_parse(&o, 5, good), 0);
	assert_string_equal(o.config_name, "a,\"b\"");
	assert_string_equal(o.flagset, "c,d");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_quoting),
		cmocka_unit_test(test_csv_round_trip),
		cmocka_unit_test(test_csv_split_bad),
		cmocka_unit_test(test_schema_tables),
		cmocka_unit_test(test_aggregate_metrics),
		cmocka_unit_test(test_raw_row_cells),
		cmocka_unit_test(test_name_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
