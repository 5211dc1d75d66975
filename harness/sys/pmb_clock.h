/* pmb_clock.h — the two clocks read around every sample, under every
 * backend: wall nanoseconds from CLOCK_MONOTONIC_RAW (vDSO, ~23 ns here,
 * not slewed by NTP) and reference ticks from the TSC (rdtsc, ~10 ns) or
 * the aarch64 virtual counter.  Reference ticks are NOT core cycles: the
 * core clock may differ from the TSC rate, hence the column name tsc_ticks.
 * PAPI_get_real_nsec is not used: it costs a syscall (~236 ns here). */
#ifndef PMB_CLOCK_H
#define PMB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t pmb_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t pmb_clock_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	uint32_t lo, hi;
	/* lfence orders rdtsc after earlier loads retire, so the kernel's
	 * work is not still in flight when the clock is read. */
	__asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
#else
	return 0; /* no reference counter: the column stays empty */
#endif
}

/* 1 when pmb_clock_ticks reads a real counter on this architecture. */
int pmb_clock_has_ticks(void);

struct pmb_clock_calibration {
	double ns_resolution;     /* clock_getres of CLOCK_MONOTONIC_RAW */
	double ns_step;           /* smallest observed non-zero difference */
	double ns_read_cost;      /* median cost of one pmb_clock_ns() */
	double ticks_read_cost_ns;/* median cost of one pmb_clock_ticks() */
	double ticks_per_ns;      /* TSC rate, measured against the wall clock */
};

/* Measures the clocks once per run (~20 ms). */
void pmb_clock_calibrate(struct pmb_clock_calibration *cal);

#endif
