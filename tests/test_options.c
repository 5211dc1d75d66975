/* Unit tests: the option table (pmb_options.c) drives the config keys, the
 * long and short options and --help; every spelling of --config reads the
 * file; old spellings are aliases of one setting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_options.h"

static char tmpdir[] = "/tmp/pmb-test-options-XXXXXX";
static char cfg[300];

static int parse(struct pmb_options *o, int argc, char **argv)
{
	pmb_options_defaults(o);
	return pmb_options_parse(o, argc, argv);
}

/* Each spelling getopt accepts for --config must read the file. */
static void test_config_spellings(void **state)
{
	(void)state;
	char joined_long[400], joined_short[400], bundled[400];
	snprintf(joined_long, sizeof joined_long, "--config=%s", cfg);
	snprintf(joined_short, sizeof joined_short, "-c%s", cfg);
	snprintf(bundled, sizeof bundled, "-qc%s", cfg);
	char *forms[][3] = {
		{"pmubench", "--config", cfg}, {"pmubench", joined_long, NULL},
		{"pmubench", joined_short, NULL}, {"pmubench", "-c", cfg},
		{"pmubench", "--conf", cfg}, {"pmubench", bundled, NULL},
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct pmb_options o;
		char *argv[] = {forms[i][0], forms[i][1], forms[i][2], NULL};
		int argc = forms[i][2] ? 3 : 2;
		assert_int_equal(parse(&o, argc, argv), 0);
		if (o.max_samples != 7 || strcmp(o.kernels, "sum/*") != 0)
			fail_msg("spelling %zu (%s) did not read the config", i, forms[i][1]);
		assert_string_equal(o.config_name, "opts");
	}
}

/* Every setting: its config key and its long option (key with '-') set it
 * alike, and the --no- form of a yes/no setting clears it. */
static void test_table_names(void **state)
{
	(void)state;
	const struct pmb_option_def *d;
	for (size_t i = 0; (d = pmb_option_at(i)); i++) {
		char lng[64];
		snprintf(lng, sizeof lng, "%s", d->name);
		for (char *c = lng; *c; c++)
			if (*c == '_')
				*c = '-';
		assert_ptr_equal(pmb_option_find(lng, PMB_OPT_CLI), (d->where & PMB_OPT_CLI) ? d : NULL);
		assert_ptr_equal(pmb_option_find(d->name, PMB_OPT_CONFIG),
				 (d->where & PMB_OPT_CONFIG) ? d : NULL);
		assert_non_null(d->help);
		assert_non_null(d->group);
	}
	struct pmb_options o;
	char *argv[] = {"pmubench", "--max-samples", "9", "--min-samples=2", "--no-interleave",
			"--no-calibrate", "--max-size", "1M", NULL};
	assert_int_equal(parse(&o, 8, argv), 0);
	assert_int_equal(o.max_samples, 9);
	assert_int_equal(o.min_samples, 2);
	assert_int_equal(o.interleave, 0);
	assert_int_equal(o.calibrate, 0);
	assert_int_equal(o.max_size, 1u << 20);
	char *yes[] = {"pmubench", "--no-interleave", "--interleave", NULL};
	assert_int_equal(parse(&o, 3, yes), 0);
	assert_int_equal(o.interleave, 1);
	/* command-line-only settings are not config keys */
	assert_null(pmb_option_find("resume", PMB_OPT_CONFIG));
	assert_null(pmb_option_find("name", PMB_OPT_CONFIG));
}

/* Old spellings are aliases of the one setting, and errors name the
 * spelling typed. */
static void test_aliases(void **state)
{
	(void)state;
	struct pmb_options o;
	char *old[] = {"pmubench", "--filter", "sum", "--events", "cycles", "--reps", "15", NULL};
	assert_int_equal(parse(&o, 7, old), 0);
	assert_string_equal(o.kernels, "sum");
	assert_int_equal(o.counters, PMB_CTR_MASK(PMB_CTR_CYCLES));
	assert_int_equal(o.max_samples, 15);
	char *short_forms[] = {"pmubench", "-f", "copy", "-e", "none", "-r", "16", NULL};
	assert_int_equal(parse(&o, 7, short_forms), 0);
	assert_string_equal(o.kernels, "copy");
	assert_int_equal(o.counters, 0);
	assert_int_equal(o.max_samples, 16);
	assert_ptr_equal(pmb_option_find("events", PMB_OPT_CONFIG),
			 pmb_option_find("counters", PMB_OPT_CONFIG));
	assert_null(pmb_option_find("reps", PMB_OPT_CONFIG));
	char *bad_old[] = {"pmubench", "--events", "cyclez", NULL};
	assert_int_equal(parse(&o, 3, bad_old), -1);
	assert_non_null(strstr(pmb_error_message(), "--events: unknown counter 'cyclez'"));
	char *bad_new[] = {"pmubench", "--counters=cyclez", NULL};
	assert_int_equal(parse(&o, 2, bad_new), -1);
	assert_non_null(strstr(pmb_error_message(), "--counters: unknown counter 'cyclez'"));
	/* "default" is the old name of "all" */
	uint32_t a, d;
	assert_int_equal(pmb_counter_parse_list("all", &a), 0);
	assert_int_equal(pmb_counter_parse_list("default", &d), 0);
	assert_int_equal(a, d);
}

/* --help is generated from the table: every command-line setting is in
 * it, with its short letter, and the aliases are documented. */
static void test_help_lists_table(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof path, "%s/help.txt", tmpdir);
	fflush(stdout);
	int saved = dup(1);
	assert_non_null(freopen(path, "w", stdout));
	pmb_options_print_help("pmubench");
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	FILE *f = fopen(path, "r");
	static char text[16384];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	const struct pmb_option_def *d;
	for (size_t i = 0; (d = pmb_option_at(i)); i++) {
		if (!(d->where & PMB_OPT_CLI))
			continue;
		char want[80];
		snprintf(want, sizeof want, "--%s%s", d->is_bool ? "[no-]" : "", d->name);
		for (char *c = want; *c; c++)
			if (*c == '_')
				*c = '-';
		if (!strstr(text, want))
			fail_msg("--help lacks %s", want);
		if (d->short_name) {
			snprintf(want, sizeof want, "-%c, ", d->short_name);
			assert_non_null(strstr(text, want));
		}
	}
	for (int c = 0; c < PMB_CTR_COUNT; c++)
		assert_non_null(strstr(text, pmb_counter_info[c].column));
	assert_non_null(strstr(text, "--filter (= --kernels)"));
	assert_non_null(strstr(text, "--reps (= --max-samples)"));
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(cfg, sizeof cfg, "%s/opts.ini", tmpdir);
	FILE *f = fopen(cfg, "w");
	fputs("kernels = sum/*\nmax_samples = 7\nmin_samples = 2\n", f);
	fclose(f);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_spellings),
		cmocka_unit_test(test_table_names),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_help_lists_table),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return failed ? 1 : 0;
}
