/* test_latency.c — the per-level latency table's plateau detection on
 * synthetic curves, the idle-core ordering rule, and the preemption guard
 * (harness/output/pmb_latency_table.c, harness/run/pmb_cores.c,
 * harness/counters/pmb_preempt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pmb_cores.h"
#include "pmb_counters.h"
#include "pmb_latency_table.h"
#include "pmb_preempt.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#define KiB 1024ull
#define MiB (1024ull * 1024)

static const uint64_t caches[3] = {32 * KiB, 1 * MiB, 32 * MiB};

/* A latency curve shaped like a real one: flat levels, a transition point
 * past each cache size, a gently rising L3. */
static void fill_steps(struct pmb_latency_table *t, double noise)
{
	static const struct { uint64_t size; double ns; } pts[] = {
		{4 * KiB, 1.0},    {8 * KiB, 1.0},    {16 * KiB, 1.0},  {24 * KiB, 1.02},
		{48 * KiB, 2.9},   {128 * KiB, 4.0},  {256 * KiB, 4.1}, {512 * KiB, 4.3},
		{1536 * KiB, 9.0}, {4 * MiB, 15.0},   {8 * MiB, 16.0},  {16 * MiB, 17.5},
		{48 * MiB, 60.0},  {128 * MiB, 110},  {256 * MiB, 118}, {512 * MiB, 120},
	};
	memset(t, 0, sizeof *t);
	/* Added out of order, as interleaved points finish. */
	for (size_t k = 0; k < sizeof pts / sizeof pts[0]; k++) {
		size_t i = (k * 7) % (sizeof pts / sizeof pts[0]);
		double wobble = noise * ((i % 3) - 1.0); /* -noise, 0, +noise */
		pmb_latency_table_add(t, pts[i].size, pts[i].ns * (1 + wobble),
				      pts[i].ns * (1 + wobble) * 2.6);
	}
}

static void test_add_keeps_sizes_sorted_and_replaces(void **state)
{
	(void)state;
	struct pmb_latency_table t;
	memset(&t, 0, sizeof t);
	pmb_latency_table_add(&t, 8 * KiB, 2, 5);
	pmb_latency_table_add(&t, 4 * KiB, 1, 3);
	pmb_latency_table_add(&t, 8 * KiB, 7, 9);
	assert_int_equal(t.npoints, 2);
	assert_int_equal(t.pt[0].size, 4 * KiB);
	assert_true(t.pt[1].ns == 7);
}

static void test_step_curve_gives_four_levels(void **state)
{
	(void)state;
	struct pmb_latency_table t;
	fill_steps(&t, 0);
	pmb_latency_table_detect(&t, caches, 3);
	assert_int_equal(t.nlevels, 4);
	const char *names[4] = {"L1", "L2", "L3", "DRAM"};
	const double want[4] = {1.0, 4.1, 16.0, 118};
	for (int l = 0; l < 4; l++) {
		assert_string_equal(t.level[l].name, names[l]);
		assert_true(t.level[l].found);
		assert_false(t.level[l].single);
		if (fabs(t.level[l].ns - want[l]) > 1e-9)
			fail_msg("%s: %g ns, want %g", names[l], t.level[l].ns, want[l]);
		assert_true(fabs(t.level[l].ticks - want[l] * 2.6) < 1e-9);
	}
	/* The runs used stay inside their level and off the transitions. */
	assert_true(t.level[0].hi <= 32 * KiB);
	assert_true(t.level[1].lo >= 128 * KiB && t.level[1].hi <= 1 * MiB);
	assert_true(t.level[2].lo >= 4 * MiB && t.level[2].hi <= 32 * MiB);
	assert_true(t.level[3].lo >= 128 * MiB);
	assert_int_equal(t.level[1].cache_size, 1 * MiB);
	assert_non_null(strstr(t.text, "L1 1 ns (2.6 ticks), L2 4.1 ns"));
	assert_non_null(strstr(t.text, "DRAM 118 ns"));
}

static void test_noise_within_flat_band_is_one_plateau(void **state)
{
	(void)state;
	struct pmb_latency_table t;
	fill_steps(&t, 0.05);
	pmb_latency_table_detect(&t, caches, 3);
	const double want[4] = {1.0, 4.1, 16.0, 118};
	for (int l = 0; l < 4; l++) {
		assert_true(t.level[l].found);
		if (fabs(t.level[l].ns / want[l] - 1) > 0.06)
			fail_msg("%s: %g ns, want %g +- 6 %%", t.level[l].name, t.level[l].ns, want[l]);
		if (l)
			assert_true(t.level[l].ns > t.level[l - 1].ns);
	}
}

static void test_level_without_flat_run_takes_middle_point(void **state)
{
	(void)state;
	struct pmb_latency_table t;
	memset(&t, 0, sizeof t);
	/* One point per level, each far from its neighbours. */
	pmb_latency_table_add(&t, 8 * KiB, 1, NAN);
	pmb_latency_table_add(&t, 256 * KiB, 4, NAN);
	pmb_latency_table_add(&t, 8 * MiB, 15, NAN);
	pmb_latency_table_add(&t, 256 * MiB, 100, NAN);
	pmb_latency_table_detect(&t, caches, 3);
	for (int l = 0; l < 4; l++) {
		assert_true(t.level[l].found);
		assert_true(t.level[l].single);
		assert_int_equal(t.level[l].npoints, 1);
		assert_true(isnan(t.level[l].ticks));
	}
	assert_true(t.level[3].ns == 100);
	assert_null(strstr(t.text, "ticks")); /* no tick counter: ns only */
}

static void test_curve_ending_in_llc_has_no_dram(void **state)
{
	(void)state;
	struct pmb_latency_table t;
	memset(&t, 0, sizeof t);
	static const uint64_t two_levels[3] = {48 * KiB, 2 * MiB, 0};
	pmb_latency_table_add(&t, 8 * KiB, 1.2, 4);
	pmb_latency_table_add(&t, 16 * KiB, 1.2, 4);
	pmb_latency_table_add(&t, 512 * KiB, 5, 15);
	pmb_latency_table_add(&t, 1 * MiB, 5.2, 16);
	pmb_latency_table_detect(&t, two_levels, 2);
	assert_int_equal(t.nlevels, 3); /* L1, L2, DRAM */
	assert_true(t.level[0].found && t.level[1].found);
	assert_false(t.level[2].found);
	assert_string_equal(t.level[2].name, "DRAM");
	assert_null(strstr(t.text, "DRAM"));
}

/* The VM case: hwloc says 32 MiB of L3 but the curve is DRAM-like from
 * 16M on.  The flat run 16M-64M goes past the L3 size, so it is DRAM's,
 * and the L3 keeps its short run at 4M-8M. */
static void test_run_past_a_cache_size_belongs_to_the_next_level(void **state)
{
	(void)state;
	struct pmb_latency_table t;
	memset(&t, 0, sizeof t);
	static const struct { uint64_t size; double ns; } pts[] = {
		{8 * KiB, 1.1},  {16 * KiB, 1.1}, {128 * KiB, 3.9}, {256 * KiB, 3.9},
		{2 * MiB, 13},   {4 * MiB, 19.6}, {8 * MiB, 20.5},  {16 * MiB, 184},
		{32 * MiB, 165}, {64 * MiB, 181}, {256 * MiB, 422},
	};
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++)
		pmb_latency_table_add(&t, pts[i].size, pts[i].ns, NAN);
	pmb_latency_table_detect(&t, caches, 3);
	assert_true(t.level[2].found);
	assert_int_equal(t.level[2].lo, 4 * MiB);
	assert_int_equal(t.level[2].hi, 8 * MiB);
	assert_true(fabs(t.level[2].ns - 20.05) < 1e-9);
	assert_int_equal(t.level[3].lo, 16 * MiB);
	assert_int_equal(t.level[3].hi, 64 * MiB);
	assert_true(t.level[3].ns == 181);
	assert_false(t.level[3].single);
}

static void test_cores_least_busy_first(void **state)
{
	(void)state;
	int order[4];
	const double busy[2] = {0.95, 0.02};
	pmb_cores_order(busy, 2, order);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 0);
	/* Within the margin: topology order, so a quiet machine always gets
	 * the same cores. */
	const double close[3] = {0.06, 0.0, 0.04};
	pmb_cores_order(close, 3, order);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	/* Unknown (-1) goes last. */
	const double unknown[3] = {-1, 0.5, 0.1};
	pmb_cores_order(unknown, 3, order);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
}

static void test_cores_obeys_option(void **state)
{
	(void)state;
	struct pmb_options opt;
	pmb_options_defaults(&opt);
	opt.cores[0] = 1;
	opt.ncores = 1;
	struct pmb_topology_info topo;
	memset(&topo, 0, sizeof topo);
	topo.ncores = 2;
	topo.core_os_index[1] = 1;
	struct pmb_core_choice c;
	pmb_cores_choose(&opt, &topo, 1, 10, &c);
	assert_string_equal(c.how, "--cores");
	assert_int_equal(c.ncores, 1);
	assert_int_equal(c.cores[0], 1);
	assert_int_equal(opt.cores[0], 1);
}

/* The guard must see the switch of a thread that sleeps (a voluntary
 * context switch is one the kernel always counts). */
static void test_guard_counts_a_sleep(void **state)
{
	(void)state;
	char how[512];
	if (!pmb_preempt_probe(&pmb_counter_backend_timer, how, sizeof how)) {
		skip(); /* software counters unavailable here: the probe said why */
		return;
	}
	struct pmb_preempt *g = pmb_preempt_open();
	assert_non_null(g);
	pmb_preempt_start(g);
	usleep(2000);
	assert_true(pmb_preempt_stop(g) >= 1);
	pmb_preempt_close(g);
	/* A NULL guard (off) counts nothing and does not crash. */
	pmb_preempt_start(NULL);
	assert_int_equal(pmb_preempt_stop(NULL), 0);
}

static void test_guard_off_for_simulator(void **state)
{
	(void)state;
	char how[512];
	assert_int_equal(pmb_preempt_probe(&pmb_counter_backend_sim, how, sizeof how), 0);
	assert_non_null(strstr(how, "off"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_keeps_sizes_sorted_and_replaces),
		cmocka_unit_test(test_step_curve_gives_four_levels),
		cmocka_unit_test(test_noise_within_flat_band_is_one_plateau),
		cmocka_unit_test(test_level_without_flat_run_takes_middle_point),
		cmocka_unit_test(test_curve_ending_in_llc_has_no_dram),
		cmocka_unit_test(test_run_past_a_cache_size_belongs_to_the_next_level),
		cmocka_unit_test(test_cores_least_busy_first),
		cmocka_unit_test(test_cores_obeys_option),
		cmocka_unit_test(test_guard_counts_a_sleep),
		cmocka_unit_test(test_guard_off_for_simulator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
