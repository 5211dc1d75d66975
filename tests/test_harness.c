/* Unit tests of the harness modules that decide what is measured and how
 * it is reported: parsing, config, plan, statistics, CSV and JSON writers,
 * resume.  Statistics are checked on data with known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmb_error.h"
#include "pmb_json.h"
#include "pmb_options.h"
#include "pmb_parse.h"
#include "pmb_plan.h"
#include "pmb_report.h"
#include "pmb_resume.h"
#include "pmb_schema.h"
#include "pmb_csv.h"
#include "pmb_stats.h"

/* ---- sizes ---------------------------------------------------------------- */

static void test_parse_size_valid(void **state)
{
	(void)state;
	struct {
		const char *text;
		uint64_t bytes;
	} ok[] = {{"4096", 4096},     {"4K", 4096},       {"4k", 4096},         {"4KiB", 4096},
		  {"1.5M", 1572864},  {"2G", 2147483648u}, {"64", 64},          {" 32K", 32768},
		  {"128B", 128},      {"1MB", 1048576}};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t v = 0;
		assert_int_equal(pmb_parse_size(ok[i].text, &v), 0);
		assert_int_equal(v, ok[i].bytes);
	}
}

static void test_parse_size_invalid(void **state)
{
	(void)state;
	struct {
		const char *text;
		const char *phrase;
	} bad[] = {{"0", "zero"},
		   {"-4K", "negative"},
		   {"abc", "not a number"},
		   {"1e30", "not a plain number"},
		   {"99999999999999999999", "too large"},
		   {"", "empty"},
		   {"4Q", "unknown unit"},
		   {"32", "below the minimum"},
		   {"65G", "too large"},
		   {"4KiBx", "unknown unit"}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 12345;
		assert_int_equal(pmb_parse_size(bad[i].text, &v), -1);
		assert_non_null(strstr(pmb_error_message(), bad[i].phrase));
		/* Every message says how to write a size. */
		assert_non_null(strstr(pmb_error_message(), "e.g."));
		assert_int_equal(v, 12345);
	}
}

static void test_parse_size_list(void **state)
{
	(void)state;
	uint64_t s[PMB_MAX_SIZES];
	size_t n;
	int is_auto;
	assert_int_equal(pmb_parse_size_list("4K,1K,4K", s, PMB_MAX_SIZES, &n, &is_auto), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s[0], 1024);
	assert_int_equal(s[1], 4096);
	assert_false(is_auto);

	assert_int_equal(pmb_parse_size_list("1K:8K", s, PMB_MAX_SIZES, &n, &is_auto), 0);
	assert_int_equal(n, 4);
	assert_int_equal(s[3], 8192);
	assert_int_equal(pmb_parse_size_list("1K:6K", s, PMB_MAX_SIZES, &n, &is_auto), 0);
	assert_int_equal(n, 4); /* 1K 2K 4K and the end point 6K */
	assert_int_equal(s[3], 6144);

	assert_int_equal(pmb_parse_size_list("auto", s, PMB_MAX_SIZES, &n, &is_auto), 0);
	assert_true(is_auto);
	assert_int_equal(n, 0);

	assert_int_equal(pmb_parse_size_list("auto,4K", s, PMB_MAX_SIZES, &n, &is_auto), -1);
	assert_int_equal(pmb_parse_size_list("8K:1K", s, PMB_MAX_SIZES, &n, &is_auto), -1);
	assert_non_null(strstr(pmb_error_message(), "backwards"));
	assert_int_equal(pmb_parse_size_list(",", s, PMB_MAX_SIZES, &n, &is_auto), -1);
	assert_int_equal(pmb_parse_size_list("1K,x", s, PMB_MAX_SIZES, &n, &is_auto), -1);
	assert_int_equal(pmb_parse_size_list("64:64G", s, 8, &n, &is_auto), -1);
	assert_non_null(strstr(pmb_error_message(), "too many sizes"));
}

static void test_parse_numbers(void **state)
{
	(void)state;
	uint64_t u;
	assert_int_equal(pmb_parse_uint("17", "reps", 1, 100, &u), 0);
	assert_int_equal(u, 17);
	assert_int_equal(pmb_parse_uint("0", "reps", 1, 100, &u), -1);
	assert_int_equal(pmb_parse_uint("-3", "reps", 1, 100, &u), -1);
	assert_non_null(strstr(pmb_error_message(), "negative"));
	assert_int_equal(pmb_parse_uint("3x", "reps", 1, 100, &u), -1);
	assert_int_equal(pmb_parse_uint("99999999999999999999999", "reps", 1, 100, &u), -1);
	int t[PMB_MAX_THREAD_COUNTS];
	size_t n;
	assert_int_equal(pmb_parse_thread_list("1,2", t, PMB_MAX_THREAD_COUNTS, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(t[1], 2);
	assert_int_equal(pmb_parse_thread_list("0", t, PMB_MAX_THREAD_COUNTS, &n), -1);
	double d;
	assert_int_equal(pmb_parse_double("2.5", "x", 0, 10, &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(pmb_parse_double("nan", "x", 0, 10, &d), -1);
	assert_int_equal(pmb_parse_double("11", "x", 0, 10, &d), -1);
	char buf[32];
	assert_string_equal(pmb_format_size(49152, buf, sizeof buf), "48 KiB");
	assert_string_equal(pmb_format_size(1572864, buf, sizeof buf), "1.5 MiB");
}

/* ---- statistics ------------------------------------------------------------- */

static void test_stats_known_data(void **state)
{
	(void)state;
	double x[] = {9, 1, 8, 2, 7, 3, 6, 4, 5};
	struct pmb_summary s;
	pmb_stats_summarize(x, 9, 1, &s);
	assert_int_equal(s.n, 9);
	assert_true(s.median == 5);
	assert_true(s.mean == 5);
	assert_true(s.min == 1 && s.max == 9);
	/* sample stddev of 1..9 = sqrt(60/8) */
	assert_true(fabs(s.stddev - sqrt(7.5)) < 1e-12);
	assert_true(fabs(s.cv - sqrt(7.5) / 5) < 1e-12);
	assert_true(s.mad == 2); /* |x-5| = 0,1,1,2,2,3,3,4,4 */
	assert_int_equal(s.outliers_mild + s.outliers_severe, 0);
	assert_true(s.ci_low <= s.median && s.median <= s.ci_high);
	assert_true(s.ci_low >= 1 && s.ci_high <= 9);
	/* x is not reordered */
	assert_true(x[0] == 9 && x[1] == 1);

	double even[] = {4, 1, 3, 2};
	assert_true(pmb_stats_median(even, 4) == 2.5);
	double sorted[] = {0, 10};
	assert_true(pmb_stats_quantile_sorted(sorted, 2, 0.25) == 2.5);
}

static void test_stats_bootstrap(void **state)
{
	(void)state;
	double c[50];
	for (int i = 0; i < 50; i++)
		c[i] = 3.25;
	struct pmb_summary s;
	pmb_stats_summarize(c, 50, 7, &s);
	assert_true(s.ci_low == 3.25 && s.ci_high == 3.25);
	assert_true(s.stddev == 0 && s.cv == 0);

	/* A spread sample: the CI is deterministic for a seed, contains the
	 * median, and narrows as n grows (about 1/sqrt(n)). */
	double big[400];
	uint64_t r = 1;
	for (int i = 0; i < 400; i++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		big[i] = 100 + (double)(r >> 40) / (double)(1ull << 24); /* uniform [100,101) */
	}
	struct pmb_summary a, b, small;
	pmb_stats_summarize(big, 400, 11, &a);
	pmb_stats_summarize(big, 400, 11, &b);
	assert_true(a.ci_low == b.ci_low && a.ci_high == b.ci_high);
	assert_true(a.ci_low < a.median && a.median < a.ci_high);
	assert_true(a.mean_ci_low < a.mean && a.mean < a.mean_ci_high);
	pmb_stats_summarize(big, 25, 11, &small);
	assert_true((small.ci_high - small.ci_low) > 2 * (a.ci_high - a.ci_low));
	/* Uniform on [100,101): the true median 100.5 is inside the CI. */
	assert_true(a.ci_low < 100.5 && 100.5 < a.ci_high);

	struct pmb_summary e;
	pmb_stats_summarize(NULL, 0, 1, &e);
	assert_int_equal(e.n, 0);
	assert_true(isnan(e.median));
}

static void test_stats_outliers(void **state)
{
	(void)state;
	double x[] = {10, 10, 11, 11, 12, 12, 13, 13, 14, 30, 100};
	struct pmb_summary s;
	pmb_stats_summarize(x, 11, 1, &s);
	/* Q1 = 11, Q3 = 13.5, IQR = 2.5: 30 is past 3 IQR (21), severe;
	 * 100 too. */
	assert_int_equal(s.outliers_severe, 2);
	double y[] = {10, 10, 11, 11, 12, 12, 13, 13, 14, 18};
	pmb_stats_summarize(y, 10, 1, &s);
	/* Q1 = 11, Q3 = 13, IQR 2: 18 is past 16 (1.5 IQR) but not 19. */
	assert_int_equal(s.outliers_mild, 1);
	assert_int_equal(s.outliers_severe, 0);
}

static void test_stats_stopping_rule(void **state)
{
	(void)state;
	double tight[30], wide[30];
	for (int i = 0; i < 30; i++) {
		tight[i] = 100 + (i % 3) * 0.01;
		wide[i] = 100 + (i % 5) * 10;
	}
	assert_true(pmb_stats_median_ci_rel_halfwidth(tight, 30) < 0.001);
	assert_true(pmb_stats_median_ci_rel_halfwidth(wide, 30) > 0.05);
	assert_true(isinf(pmb_stats_median_ci_rel_halfwidth(tight, 5)));
}

/* ---- config and command line ------------------------------------------------ */

static char tmpdir[] = "/tmp/pmb-test-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_config_good(void **state)
{
	(void)state;
	const char *p = write_file("good.ini", "# comment\n"
					       "cc = gcc\n"
					       "cflags = -O2 -g\n"
					       "flags.O3-native = -O3 -march=native\n"
					       "kernels = sum,traversal/*\n"
					       "sizes = 4K,1M\n"
					       "threads = 1,2\n"
					       "events = none\n"
					       "backend = timer\n"
					       "target_ci = 2\n"
					       "min_samples = 3\n"
					       "interleave = no\n");
	struct pmb_options o;
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_load_config(&o, p), 0);
	assert_string_equal(o.kernels, "sum,traversal/*");
	assert_int_equal(o.nsizes, 2);
	assert_int_equal(o.sizes[1], 1048576);
	assert_int_equal(o.nthreads, 2);
	assert_int_equal(o.counters, 0);
	assert_string_equal(o.backend, "timer");
	assert_true(fabs(o.target_ci - 0.02) < 1e-12);
	assert_int_equal(o.min_samples, 3);
	assert_int_equal(o.interleave, 0);
	assert_string_equal(o.config_name, "good");
}

static void expect_config_error(const char *name, const char *text, const char *phrase)
{
	const char *p = write_file(name, text);
	struct pmb_options o;
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_load_config(&o, p), -1);
	if (!strstr(pmb_error_message(), phrase))
		fail_msg("'%s' does not contain '%s'", pmb_error_message(), phrase);
}

static void test_config_errors(void **state)
{
	(void)state;
	char where[300];
	snprintf(where, sizeof where, "%s/unknown.ini:3: unknown key 'sizs'", tmpdir);
	expect_config_error("unknown.ini", "# x\nkernels = *\nsizs = 4K\n", where);
	snprintf(where, sizeof where, "%s/noeq.ini:2: malformed line", tmpdir);
	expect_config_error("noeq.ini", "kernels = *\nthis line has no equals sign\n", where);
	expect_config_error("section.ini", "[run]\nkernels = *\n", "sections are not used");
	snprintf(where, sizeof where, "%s/badsize.ini:1: size 'lots'", tmpdir);
	expect_config_error("badsize.ini", "sizes = lots\n", where);
	expect_config_error("badevent.ini", "events = cycles,cylces\n", "cylces");
	expect_config_error("badbackend.ini", "backend = perf\n", "unknown backend 'perf'");
	expect_config_error("badbool.ini", "interleave = maybe\n", "yes or no");
	struct pmb_options o;
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_load_config(&o, "/nonexistent/x.ini"), -1);
	assert_non_null(strstr(pmb_error_message(), "cannot read config"));
}

static void test_cli(void **state)
{
	(void)state;
	const char *cfg = write_file("cli.ini", "sizes = 4K\nthreads = 2\nbackend = timer\n");
	/* The command line wins over the config, wherever --config stands. */
	char *argv[] = {"pmubench", "--sizes", "8K,16K", "--config", (char *)cfg, "-r", "7",
			"--min-samples", "2", NULL};
	struct pmb_options o;
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_parse(&o, 9, argv), 0);
	assert_int_equal(o.nsizes, 2);
	assert_int_equal(o.sizes[0], 8192);
	assert_int_equal(o.threads[0], 2);
	assert_int_equal(o.max_samples, 7);
	assert_int_equal(o.min_samples, 2);

	char *bad[] = {"pmubench", "--sizes", "0", NULL};
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_parse(&o, 3, bad), -1);
	assert_non_null(strstr(pmb_error_message(), "--sizes: size '0' is zero"));

	char *unknown[] = {"pmubench", "--frobnicate", NULL};
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_parse(&o, 2, unknown), -1);
	assert_non_null(strstr(pmb_error_message(), "unknown option '--frobnicate'"));

	char *missing[] = {"pmubench", "--sizes", NULL};
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_parse(&o, 2, missing), -1);
	assert_non_null(strstr(pmb_error_message(), "needs a value"));

	char *order[] = {"pmubench", "--min-samples", "50", "--reps", "10", NULL};
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_parse(&o, 5, order), -1);
	assert_non_null(strstr(pmb_error_message(), "larger than max_samples"));

	char *stray[] = {"pmubench", "sum", NULL};
	pmb_options_defaults(&o);
	assert_int_equal(pmb_options_parse(&o, 2, stray), -1);
	assert_non_null(strstr(pmb_error_message(), "unexpected argument 'sum'"));
}

/* ---- plan ------------------------------------------------------------------- */

static struct pmb_topology_info fake_topology(void)
{
	struct pmb_topology_info t;
	memset(&t, 0, sizeof t);
	t.ncores = 2;
	t.core_os_index[0] = 0;
	t.core_os_index[1] = 1;
	t.cache[0] = (struct pmb_cache_level){.level = 1, .size_raw = 48 << 10, .size = 48 << 10,
					      .line_size = 64, .assoc = 12};
	t.cache[1] = (struct pmb_cache_level){.level = 2, .size_raw = 1 << 20, .size = 1 << 20,
					      .line_size = 64, .assoc = 8};
	t.cache[2] = (struct pmb_cache_level){.level = 3, .size_raw = 32 << 20, .size = 32 << 20,
					      .line_size = 64, .assoc = 16};
	t.llc_level = 3;
	return t;
}

static int has_size(const uint64_t *s, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == v)
			return 1;
	return 0;
}

static void test_plan_auto_sizes(void **state)
{
	(void)state;
	struct pmb_topology_info t = fake_topology();
	uint64_t s[PMB_MAX_SIZES];
	size_t n = pmb_plan_auto_sizes(&t, 128ull << 20, s, PMB_MAX_SIZES);
	/* geometric x4 from 1 KiB, 3/4 and 3/2 of each level, 4 x LLC */
	uint64_t want[] = {1024,      4096,      16384,     36864,     65536,   73728,
			   786432,    1048576,   1572864,   4194304,   16777216, 25165824,
			   50331648,  67108864,  134217728};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!has_size(s, n, want[i]))
			fail_msg("auto sweep lacks %llu", (unsigned long long)want[i]);
	for (size_t i = 1; i < n; i++)
		assert_true(s[i - 1] < s[i]);
	assert_int_equal(s[n - 1], 128ull << 20);
	/* capped */
	n = pmb_plan_auto_sizes(&t, 8ull << 20, s, PMB_MAX_SIZES);
	assert_int_equal(s[n - 1], 8ull << 20);
	assert_int_equal(pmb_topology_cache_level_for(&t, 48 << 10), 1);
	assert_int_equal(pmb_topology_cache_level_for(&t, (48 << 10) + 1), 2);
	assert_int_equal(pmb_topology_cache_level_for(&t, 64ull << 20), 4);
}

static void test_plan_build(void **state)
{
	(void)state;
	struct pmb_topology_info t = fake_topology();
	struct pmb_options o;
	pmb_options_defaults(&o);
	char *argv[] = {"pmubench", "--filter", "sum/index,traversal", "--sizes", "4K,64K",
			"--threads", "1,2", NULL};
	assert_int_equal(pmb_options_parse(&o, 7, argv), 0);
	struct pmb_plan plan;
	assert_int_equal(pmb_plan_build(&plan, &o, &t, 16ull << 30), 0);
	/* sum/index + 3 traversal variants, 2 sizes, 2 thread counts */
	assert_int_equal(plan.npoints, 4 * 2 * 2);
	size_t l1 = 0;
	for (size_t i = 0; i < plan.npoints; i++) {
		const struct pmb_point *p = &plan.points[i];
		assert_int_equal(p->n_elems, p->size_bytes / p->kernel->bytes_per_elem);
		l1 += p->cache_level == 1;
	}
	assert_int_equal(l1, plan.npoints / 2);
	pmb_plan_free(&plan);

	pmb_options_defaults(&o);
	char *many[] = {"pmubench", "--threads", "3", NULL};
	assert_int_equal(pmb_options_parse(&o, 3, many), 0);
	assert_int_equal(pmb_plan_build(&plan, &o, &t, 16ull << 30), -1);
	assert_non_null(strstr(pmb_error_message(), "3 threads asked for"));
	assert_non_null(strstr(pmb_error_message(), "2 cores"));

	pmb_options_defaults(&o);
	char *badcore[] = {"pmubench", "--cores", "5", NULL};
	assert_int_equal(pmb_options_parse(&o, 3, badcore), 0);
	assert_int_equal(pmb_plan_build(&plan, &o, &t, 16ull << 30), -1);
	assert_non_null(strstr(pmb_error_message(), "cpu 5 is not a core this process may use; usable: 0,1"));
	pmb_options_defaults(&o);
	char *fewcores[] = {"pmubench", "--cores", "1", "--threads", "1,2", NULL};
	assert_int_equal(pmb_options_parse(&o, 5, fewcores), 0);
	assert_int_equal(pmb_plan_build(&plan, &o, &t, 16ull << 30), -1);
	assert_non_null(strstr(pmb_error_message(), "--cores lists 1"));
	pmb_options_defaults(&o);
	char *okcore[] = {"pmubench", "--cores", "1", NULL};
	assert_int_equal(pmb_options_parse(&o, 3, okcore), 0);
	assert_int_equal(pmb_plan_core_for(&o, &t, 0), 1);
	pmb_options_defaults(&o);
	assert_int_equal(pmb_plan_core_for(&o, &t, 1), 1);
	char *twice[] = {"pmubench", "--cores", "0,0", NULL};
	assert_int_equal(pmb_options_parse(&o, 3, twice), -1);
	assert_non_null(strstr(pmb_error_message(), "listed twice"));

	pmb_options_defaults(&o);
	char *nomatch[] = {"pmubench", "--filter", "sum,nope/*", NULL};
	assert_int_equal(pmb_options_parse(&o, 3, nomatch), 0);
	assert_int_equal(pmb_plan_build(&plan, &o, &t, 16ull << 30), -1);
	assert_non_null(strstr(pmb_error_message(), "no kernel matches 'nope/*'"));
	assert_non_null(strstr(pmb_error_message(), "sum/index"));

	pmb_options_defaults(&o);
	char *huge[] = {"pmubench", "--sizes", "8G", NULL};
	assert_int_equal(pmb_options_parse(&o, 3, huge), 0);
	assert_int_equal(pmb_plan_build(&plan, &o, &t, 4ull << 30), -1);
	assert_non_null(strstr(pmb_error_message(), "only 4 GiB is available"));

	/* Interleaving is a seeded shuffle: same seed, same order. */
	pmb_options_defaults(&o);
	struct pmb_plan a, b;
	assert_int_equal(pmb_plan_build(&a, &o, &t, 16ull << 30), 0);
	assert_int_equal(pmb_plan_build(&b, &o, &t, 16ull << 30), 0);
	assert_int_equal(a.npoints, b.npoints);
	int same = 1, ordered = 1;
	for (size_t i = 0; i < a.npoints; i++) {
		same &= a.points[i].kernel == b.points[i].kernel &&
			a.points[i].size_bytes == b.points[i].size_bytes;
		if (i && a.points[i].kernel == a.points[i - 1].kernel)
			ordered &= a.points[i].size_bytes > a.points[i - 1].size_bytes;
	}
	assert_true(same);
	assert_false(ordered);
	pmb_plan_free(&a);
	pmb_plan_free(&b);
}

/* ---- writers ------------------------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_json_escaping(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof path, "%s/x.json", tmpdir);
	FILE *f = fopen(path, "w");
	struct pmb_json j;
	pmb_json_begin(&j, f);
	pmb_json_string(&j, "s", "a\"b\\c\nd\x01");
	pmb_json_array(&j, "a");
	pmb_json_int(&j, NULL, 1);
	pmb_json_double(&j, NULL, NAN);
	pmb_json_close(&j);
	pmb_json_object(&j, "o");
	pmb_json_bool(&j, "t", 1);
	pmb_json_close(&j);
	pmb_json_end(&j);
	fclose(f);
	char *text = slurp(path);
	assert_non_null(strstr(text, "\"s\": \"a\\\"b\\\\c\\nd\\u0001\""));
	assert_non_null(strstr(text, "null"));
	assert_non_null(strstr(text, "\"t\": true"));
	/* Python's json module must accept it. */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' %s",
		 path);
	assert_int_equal(system(cmd), 0);
}

static const struct pmb_kernel *find_kernel(const char *family, const char *variant)
{
	for (size_t i = 0; i < pmb_plan_kernel_count(); i++) {
		const struct pmb_kernel *k = pmb_plan_kernel_at(i);
		if (!strcmp(k->family, family) && !strcmp(k->variant, variant))
			return k;
	}
	return NULL;
}

static void test_csv_reporter(void **state)
{
	(void)state;
	char dir[256];
	snprintf(dir, sizeof dir, "%s/run", tmpdir);
	assert_int_equal(mkdir(dir, 0777), 0);
	struct pmb_run_info run = {.flagset = "default", .compiler = "gcc-x",
				   .cflags = "-O2 -Wl,\"x\"", .backend = "papi",
				   .has_ticks = 1};
	snprintf(run.run_id, sizeof run.run_id, "r1");
	snprintf(run.run_dir, sizeof run.run_dir, "%s", dir);
	struct pmb_point p = {.kernel = find_kernel("sum", "index"), .size_bytes = 4096,
			      .n_elems = 512, .threads = 1, .cache_level = 1};
	assert_non_null(p.kernel);
	struct pmb_reporter rep;
	assert_int_equal(pmb_report_csv_open(&rep, &run), 0);
	struct pmb_sample_row row = {.point = &p, .thread = 0, .core = 1, .rep = 0, .round = 2, .iters = 10,
				     .ns = 5120 + 100, .tsc_ticks = 9999, .overhead_ns = 100,
				     .allocs = 0, .counter_pass = 0, .valid = 1};
	row.counters.value[PMB_CTR_PAGE_FAULTS] = 7;
	row.counters.value[PMB_CTR_CYCLES] = 0; /* a value present but not counted */
	row.counters.counted = PMB_CTR_MASK(PMB_CTR_PAGE_FAULTS);
	assert_int_equal(rep.sample(rep.self, &run, &row), 0);
	struct pmb_point_summary s;
	memset(&s, 0, sizeof s);
	s.point = &p;
	s.valid = 1;
	s.discarded = 3; /* summary.csv `discarded`: on every metric row */
	double ns = pmb_report_metric_value(&row, PMB_METRIC_NS);
	assert_true(fabs(ns - 1.0) < 1e-12); /* (5220 - 100) / (10 * 512) */
	assert_true(isnan(pmb_report_metric_value(&row, PMB_METRIC_COUNTER0 + PMB_CTR_CYCLES)));
	pmb_stats_summarize(&ns, 1, 1, &s.metric[PMB_METRIC_NS]);
	assert_int_equal(rep.point(rep.self, &run, &s), 0);
	rep.close(rep.self);

	char path[300];
	snprintf(path, sizeof path, "%s/size-4096.csv", dir);
	char *text = slurp(path);
	assert_non_null(text);
	/* The header is the schema's, and starts as documented. */
	assert_true(!strncmp(text, pmb_schema_header(PMB_IN_RAW), strlen(pmb_schema_header(PMB_IN_RAW))));
	assert_non_null(strstr(text, "run_id,flagset,compiler,cflags,kernel,variant,size_bytes,n_elems,"
				     "cache_level,threads,thread,core,rep,round,iters,ns,tsc_ticks,"));
	/* flags quoted, inner quotes doubled (RFC 4180) */
	assert_non_null(strstr(text, "\nr1,default,gcc-x,\"-O2 -Wl,\"\"x\"\"\",sum,index,4096,512,L1,1,0,1,0,2,10,5220,9999,"));
	char *line = strchr(text, '\n') + 1;
	line[strcspn(line, "\n")] = '\0';
	char *f[128];
	assert_int_equal(pmb_csv_split(line, f, 128), (int)pmb_schema_ncolumns(PMB_IN_RAW));
#define CELL(name) f[pmb_schema_column_index(PMB_IN_RAW, name)]
	assert_string_equal(CELL("cflags"), "-O2 -Wl,\"x\"");
	assert_string_equal(CELL("round"), "2"); /* --rounds: the row's visit of the point */
	assert_string_equal(CELL("cycles"), ""); /* not counted: empty cell, never 0 */
	assert_string_equal(CELL("page_faults"), "7");
	assert_string_equal(CELL("ns_per_elem"), "1"); /* (5220 - 100) / (10 * 512) */
	assert_string_equal(CELL("group_ns_per_elem"), "1"); /* one thread: the group row */
	assert_string_equal(CELL("page_faults_per_elem"), "0.00136719");
	assert_string_equal(CELL("cycles_per_elem"), "");
	assert_string_equal(CELL("thread"), "0");
	assert_string_equal(CELL("core"), "1");
	assert_string_equal(CELL("valid"), "1");
#undef CELL
	snprintf(path, sizeof path, "%s/summary.csv", dir);
	text = slurp(path);
	assert_non_null(strstr(text, ",sum,index,4096,512,L1,1,0,ns_per_elem,ns/elem,per_elem,1,3,1,"));
	assert_non_null(strstr(text, ",ns_per_elem,ns/elem,per_elem,1,3,1,1,1,1,0,1,1,0,0,0,clock,CLOCK_MONOTONIC_RAW,1\n"));
	assert_non_null(strstr(text, ",cycles_per_elem,cycles/elem,per_elem,0,3,,,,,,,,,,,,,1\n"));

	/* Appending again keeps the first rows and writes no second header. */
	assert_int_equal(pmb_report_csv_open(&rep, &run), 0);
	assert_int_equal(rep.sample(rep.self, &run, &row), 0);
	rep.close(rep.self);
	snprintf(path, sizeof path, "%s/size-4096.csv", dir);
	text = slurp(path);
	int headers = 0, rows = 0;
	for (char *l = text; (l = strstr(l, "\n")); l++)
		rows++;
	for (char *l = text; (l = strstr(l, "run_id,")); l++)
		headers++;
	assert_int_equal(headers, 1);
	assert_int_equal(rows, 3);

	/* Resume: the summary's point is marked done, others not. */
	struct pmb_options o;
	pmb_options_defaults(&o);
	char *argv[] = {"pmubench", "--filter", "sum/index", "--sizes", "4K,8K", NULL};
	assert_int_equal(pmb_options_parse(&o, 5, argv), 0);
	struct pmb_topology_info t = fake_topology();
	struct pmb_plan plan;
	assert_int_equal(pmb_plan_build(&plan, &o, &t, 16ull << 30), 0);
	size_t done, dropped;
	assert_int_equal(pmb_resume_prepare(dir, "O0", &plan, &done, &dropped), 0);
	assert_int_equal(done, 0); /* another flag set's rows */
	assert_int_equal(pmb_resume_prepare(dir, "default", &plan, &done, &dropped), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(done, 1);
	for (size_t i = 0; i < plan.npoints; i++)
		assert_int_equal(plan.points[i].done, plan.points[i].size_bytes == 4096);
	pmb_plan_free(&plan);
}

static void test_csv_unwritable(void **state)
{
	(void)state;
	struct pmb_run_info run = {.flagset = "d", .compiler = "c", .backend = "papi"};
	snprintf(run.run_dir, sizeof run.run_dir, "%s/does-not-exist", tmpdir);
	struct pmb_reporter rep;
	assert_int_equal(pmb_report_csv_open(&rep, &run), -1);
	assert_non_null(strstr(pmb_error_message(), "cannot open"));
	assert_non_null(strstr(pmb_error_message(), "--out"));
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_valid),
		cmocka_unit_test(test_parse_size_invalid),
		cmocka_unit_test(test_parse_size_list),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_stats_known_data),
		cmocka_unit_test(test_stats_bootstrap),
		cmocka_unit_test(test_stats_outliers),
		cmocka_unit_test(test_stats_stopping_rule),
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_plan_auto_sizes),
		cmocka_unit_test(test_plan_build),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_csv_reporter),
		cmocka_unit_test(test_csv_unwritable),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return failed ? 1 : 0;
}
