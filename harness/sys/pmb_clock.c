#include "pmb_clock.h"

#include <stdlib.h>

int pmb_clock_has_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
	return 1;
#else
	return 0;
#endif
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define CAL_ROUNDS 101
#define CAL_READS 1000

/* Cost of one read = a batch of back-to-back reads timed as a whole,
 * median over rounds: robust to the odd interrupt. */
static double read_cost_ns(int which)
{
	double cost[CAL_ROUNDS];
	volatile uint64_t sink = 0;
	for (int r = 0; r < CAL_ROUNDS; r++) {
		uint64_t t0 = pmb_clock_ns();
		for (int i = 0; i < CAL_READS; i++)
			sink += which ? pmb_clock_ticks() : pmb_clock_ns();
		cost[r] = (double)(pmb_clock_ns() - t0) / CAL_READS;
	}
	(void)sink;
	qsort(cost, CAL_ROUNDS, sizeof cost[0], compare_double);
	return cost[CAL_ROUNDS / 2];
}

void pmb_clock_calibrate(struct pmb_clock_calibration *cal)
{
	struct timespec res;
	clock_getres(CLOCK_MONOTONIC_RAW, &res);
	cal->ns_resolution = (double)res.tv_sec * 1e9 + (double)res.tv_nsec;

	uint64_t step = UINT64_MAX;
	for (int i = 0; i < 1000; i++) {
		uint64_t a = pmb_clock_ns(), b;
		while ((b = pmb_clock_ns()) == a)
			;
		if (b - a < step)
			step = b - a;
	}
	cal->ns_step = (double)step;
	cal->ns_read_cost = read_cost_ns(0);
	cal->ticks_read_cost_ns = pmb_clock_has_ticks() ? read_cost_ns(1) : 0.0;

	cal->ticks_per_ns = 0.0;
	if (pmb_clock_has_ticks()) {
		uint64_t n0 = pmb_clock_ns(), k0 = pmb_clock_ticks();
		while (pmb_clock_ns() - n0 < 10000000u) /* 10 ms */
			;
		uint64_t n1 = pmb_clock_ns(), k1 = pmb_clock_ticks();
		cal->ticks_per_ns = (double)(k1 - k0) / (double)(n1 - n0);
	}
}
