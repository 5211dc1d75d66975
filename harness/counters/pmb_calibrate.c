/* pmb_calibrate.c — verdicts, the calibration run, and its record
 * (pmb_calibrate.h says what is measured and why). */
#define _GNU_SOURCE
#include "pmb_calibrate.h"
#include "pmb_clock.h"
#include "pmb_error.h"
#include "pmb_kernel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAL_N (1u << 20)      /* loop iterations, bytes of the branchy kernel */
#define CAL_STEPS (1u << 16)  /* chase steps = lines of the big chase */
#define CAL_REPS 3            /* median of 3 per kernel and pass */
#define CAL_BIG_MAX (256ull << 20)

enum pmb_calib_verdict pmb_calib_judge(const struct pmb_calib_expect *want, double measured,
				       double control)
{
	if (!(want->expected > 0))
		return PMB_CALIB_NOT_CHECKED;
	if (measured < want->expected / 1000)
		return PMB_CALIB_READS_ZERO;
	double ratio = measured / want->expected;
	if (ratio < want->lo || ratio > want->hi)
		return PMB_CALIB_OFF_BY_FACTOR;
	if (!isnan(control) && want->control_max >= 0 && control > want->control_max)
		return PMB_CALIB_OFF_BY_FACTOR;
	return PMB_CALIB_VALIDATED;
}

const char *pmb_calib_verdict_name(enum pmb_calib_verdict v)
{
	static const char *const names[] = {"not_calibrated", "validated", "reads_zero",
					    "off_by_factor", "not_checked"};
	return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}

/* Median over CAL_REPS runs of fn, for each counter, each in its pass. */
struct run_ctx {
	const struct pmb_counter_backend *b;
	void *ts;
	int npasses;
};

static int measure(const struct run_ctx *rc, void (*fn)(void *), void *arg,
		   double out[PMB_CTR_COUNT])
{
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		out[i] = NAN;
	for (int p = 0; p < rc->npasses; p++) {
		double v[PMB_CTR_COUNT][CAL_REPS];
		struct pmb_counter_values vals = {0};
		for (int r = 0; r < CAL_REPS; r++) {
			if (rc->b->start(rc->ts, p) != 0)
				return -1;
			fn(arg);
			if (rc->b->stop_and_read(rc->ts, p, "calibration", &vals) != 0)
				return -1;
			for (int i = 0; i < PMB_CTR_COUNT; i++)
				v[i][r] = (double)vals.value[i];
		}
		for (int i = 0; i < PMB_CTR_COUNT; i++) {
			if (!(vals.counted & PMB_CTR_MASK(i)))
				continue;
			double *x = v[i]; /* median of 3 */
			double lo = fmin(x[0], x[1]), hi = fmax(x[0], x[1]);
			out[i] = fmax(lo, fmin(hi, x[2]));
		}
	}
	return 0;
}

struct chase_arg { struct pmb_calib_chase *c; };
struct branchy_arg { const uint8_t *bits; };
static void run_loop_n(void *a) { (void)a; pmb_calib_loop(CAL_N); }
static void run_loop_2n(void *a) { (void)a; pmb_calib_loop(2 * CAL_N); }
static void run_branchy(void *a) { pmb_calib_branchy(((struct branchy_arg *)a)->bits, CAL_N); }
static void run_chase(void *a) { pmb_calib_chase_run(((struct chase_arg *)a)->c, CAL_STEPS); }

static void set(struct pmb_calibration *cal, uint32_t hw, int id, const char *kernel,
		struct pmb_calib_expect want, double measured, double control)
{
	struct pmb_calib_entry *e = &cal->counter[id];
	if (!(hw & PMB_CTR_MASK(id)))
		return;
	snprintf(e->kernel, sizeof e->kernel, "%s", kernel);
	e->want = want;
	e->measured = measured;
	e->control = control;
	e->ratio = want.expected > 0 ? measured / want.expected : NAN;
	e->verdict = isnan(measured) ? PMB_CALIB_NOT_CHECKED : pmb_calib_judge(&want, measured, control);
	if (e->verdict == PMB_CALIB_OFF_BY_FACTOR && !isnan(control) && control > want.control_max)
		snprintf(e->detail, sizeof e->detail, "%.0f events on the control kernel, where at most %.0f may occur",
			 control, want.control_max);
	else if (e->verdict == PMB_CALIB_OFF_BY_FACTOR)
		snprintf(e->detail, sizeof e->detail, "measured/expected %.3g outside %.3g..%.3g",
			 e->ratio, want.lo, want.hi);
}

/* Loop and branch kernels: instructions, branches, cycles, mispredictions. */
static int calibrate_core(const struct run_ctx *rc, uint32_t hw, struct pmb_calibration *cal)
{
	double n1[PMB_CTR_COUNT], n2[PMB_CTR_COUNT], rnd[PMB_CTR_COUNT], zero[PMB_CTR_COUNT];
	uint8_t *bits = calloc(2, CAL_N);
	if (!bits)
		return pmb_error("calibration: out of memory");
	uint64_t s = 42;
	for (uint32_t i = 0; i < CAL_N; i++)
		bits[i] = (uint8_t)(pmb_kernel_rand(&s) >> 63); /* seeded coin flips */
	struct branchy_arg ra = {bits}, za = {bits + CAL_N};
	int rc_ = measure(rc, run_loop_n, NULL, n1) || measure(rc, run_loop_2n, NULL, n2) ||
		  measure(rc, run_branchy, &ra, rnd) || measure(rc, run_branchy, &za, zero);
	free(bits);
	if (rc_)
		return -1;
	/* n and 2n: what starting, stopping and calling cost cancels out. */
	const char *loop = "loop 2n minus loop n (asm)";
	set(cal, hw, PMB_CTR_INSTRUCTIONS, loop, (struct pmb_calib_expect){3.0 * CAL_N, 0.95, 1.05, -1},
	    n2[PMB_CTR_INSTRUCTIONS] - n1[PMB_CTR_INSTRUCTIONS], NAN);
	set(cal, hw, PMB_CTR_BRANCHES, loop, (struct pmb_calib_expect){CAL_N, 0.9, 1.1, -1},
	    n2[PMB_CTR_BRANCHES] - n1[PMB_CTR_BRANCHES], NAN);
	/* Two chains of dependent adds: at least one cycle per iteration. */
	set(cal, hw, PMB_CTR_CYCLES, loop, (struct pmb_calib_expect){CAL_N, 0.9, 100, -1},
	    n2[PMB_CTR_CYCLES] - n1[PMB_CTR_CYCLES], NAN);
	set(cal, hw, PMB_CTR_BRANCH_MISSES, "branch on random bytes (asm; control: zeros)",
	    (struct pmb_calib_expect){CAL_N / 2.0, 0.6, 1.4, 0.05 * CAL_N},
	    rnd[PMB_CTR_BRANCH_MISSES], zero[PMB_CTR_BRANCH_MISSES]);
	return 0;
}

/* Chases: a big one (about 1 miss per step) and one inside L1 (about 0). */
static int calibrate_memory(const struct run_ctx *rc, uint32_t hw,
			    const struct pmb_topology_info *topo, uint64_t mem_available,
			    struct pmb_calibration *cal)
{
	uint64_t llc = pmb_topology_llc_size(topo), l1 = topo->cache[0].size;
	uint64_t l2 = topo->cache[1].size ? topo->cache[1].size : l1;
	uint64_t big = 4 * llc, cap = CAL_BIG_MAX;
	if (mem_available && mem_available / 8 < cap)
		cap = mem_available / 8;
	if (big > cap)
		big = cap;
	uint64_t small = l1 / 4 >= 128 ? l1 / 4 : 128;
	struct chase_arg ba = {pmb_calib_chase_new(big, CAL_STEPS, 7)};
	struct chase_arg sa = {pmb_calib_chase_new(small, small / 64, 11)};
	double b[PMB_CTR_COUNT], sm[PMB_CTR_COUNT];
	int rc_ = -1;
	if (!ba.c || !sa.c) {
		pmb_error("calibration: cannot map %llu bytes for the chase",
			  (unsigned long long)big);
	} else {
		pmb_calib_chase_run(sa.c, small / 64); /* warm: the small one must hit */
		rc_ = measure(rc, run_chase, &ba, b) || measure(rc, run_chase, &sa, sm) ? -1 : 0;
	}
	pmb_calib_chase_free(ba.c);
	pmb_calib_chase_free(sa.c);
	if (rc_)
		return -1;
	char kernel[48];
	snprintf(kernel, sizeof kernel, "chase %llu MiB (control: %llu KiB)",
		 (unsigned long long)(big >> 20), (unsigned long long)(small >> 10));
	double steps = CAL_STEPS, quiet = 0.1 * CAL_STEPS;
	set(cal, hw, PMB_CTR_L1D_MISSES, kernel, (struct pmb_calib_expect){steps, 0.5, 3, quiet},
	    b[PMB_CTR_L1D_MISSES], sm[PMB_CTR_L1D_MISSES]);
	if (big >= 4 * l2)
		set(cal, hw, PMB_CTR_L2_MISSES, kernel,
		    (struct pmb_calib_expect){steps * (1 - (double)l2 / big), 0.5, 3, quiet},
		    b[PMB_CTR_L2_MISSES], sm[PMB_CTR_L2_MISSES]);
	if (big >= 2 * llc)
		set(cal, hw, PMB_CTR_LLC_MISSES, kernel,
		    (struct pmb_calib_expect){steps * (1 - (double)llc / big), 0.4, 3, quiet},
		    b[PMB_CTR_LLC_MISSES], sm[PMB_CTR_LLC_MISSES]);
	for (int id = PMB_CTR_L2_MISSES; id <= PMB_CTR_LLC_MISSES; id++)
		if ((hw & PMB_CTR_MASK(id)) && cal->counter[id].verdict == PMB_CALIB_NONE) {
			cal->counter[id].verdict = PMB_CALIB_NOT_CHECKED;
			snprintf(cal->counter[id].detail, sizeof cal->counter[id].detail,
				 "the cache is too large to overflow within the 1 s budget (chase %llu MiB)",
				 (unsigned long long)(big >> 20));
		}
	return 0;
}

int pmb_calibrate(const struct pmb_counter_backend *b, const struct pmb_counter_plan *plan,
		  const struct pmb_topology_info *topo, uint64_t mem_available, int enabled,
		  struct pmb_calibration *cal)
{
	memset(cal, 0, sizeof *cal);
	uint32_t hw = plan->available & (PMB_CTR_MASK(PMB_CTR_PAGE_FAULTS) - 1);
	if (!enabled) {
		snprintf(cal->status, sizeof cal->status, "not run: switched off (--no-calibrate)");
		return 0;
	}
	if (b == &pmb_counter_backend_sim) {
		snprintf(cal->status, sizeof cal->status, "not run: simulated counters (backend sim)");
		return 0;
	}
	if (!hw) {
		snprintf(cal->status, sizeof cal->status, "not run: no hardware counter opened");
		return 0;
	}
	if (!mem_available) {
		long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
		mem_available = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
	}
	uint64_t t0 = pmb_clock_ns();
	struct run_ctx rc = {.b = b, .npasses = plan->npasses};
	if (b->thread_open(plan, &rc.ts) != 0)
		return -1;
	int err = 0;
	if (pmb_calib_counts_known)
		err = calibrate_core(&rc, hw, cal);
	if (!err)
		err = calibrate_memory(&rc, hw, topo, mem_available, cal);
	b->thread_close(rc.ts);
	if (err)
		return -1;
	for (int id = 0; id < PMB_CTR_COUNT; id++)
		if ((hw & PMB_CTR_MASK(id)) && cal->counter[id].verdict == PMB_CALIB_NONE) {
			cal->counter[id].verdict = PMB_CALIB_NOT_CHECKED;
			if (!cal->counter[id].detail[0])
				snprintf(cal->counter[id].detail, sizeof cal->counter[id].detail,
					 "no calibration kernel with known counts on this architecture");
		}
	cal->ran = 1;
	cal->seconds = (double)(pmb_clock_ns() - t0) / 1e9;
	snprintf(cal->status, sizeof cal->status, "ran");
	return 0;
}
