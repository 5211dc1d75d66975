/* pmb_calibrate.h — hardware counters that prove themselves before a sweep.
 *
 * Each hardware counter that opened is read around calibration kernels
 * whose counts are known by construction (pmb_calib_kernels.c):
 *   - a loop of n iterations, 3 instructions and 1 conditional branch each
 *     (inline asm on x86-64 and aarch64), run at n and 2n so that the
 *     constant cost of starting and stopping cancels: instructions 3n,
 *     branches n, cycles at least n;
 *   - a branch on seeded random bytes minus the same on zeros: n/2
 *     mispredictions;
 *   - a random chase over K lines spread through a buffer of 4 x the LLC:
 *     K L1d and L2 misses, K (1 - LLC/buffer) LLC misses; and the same chase
 *     inside a quarter of L1 (warm), where about 0 must occur.
 * Verdicts: validated (measured/expected inside the counter's accepted
 * range), reads_zero (under 1/1000 of what must occur: the counter is then
 * unavailable, its column empty with that reason, never a measured zero),
 * off_by_factor (kept, flagged), not_checked (no kernel for it here).
 * Software counters are the kernel's own and are not calibrated. */
#ifndef PMB_CALIBRATE_H
#define PMB_CALIBRATE_H

#include "pmb_counters.h"
#include "pmb_json.h"
#include "pmb_topology.h"

enum pmb_calib_verdict {
	PMB_CALIB_NONE,          /* not calibrated (not a hardware counter, not available) */
	PMB_CALIB_VALIDATED,
	PMB_CALIB_READS_ZERO,
	PMB_CALIB_OFF_BY_FACTOR,
	PMB_CALIB_NOT_CHECKED,   /* no calibration kernel for it on this machine */
};

/* What one counter must read on its kernel. */
struct pmb_calib_expect {
	double expected;    /* events that must occur (> 0) */
	double lo, hi;      /* accepted range of measured / expected */
	double control_max; /* most events allowed on the control kernel, < 0: none */
};

struct pmb_calib_entry {
	enum pmb_calib_verdict verdict;
	struct pmb_calib_expect want;
	double measured, ratio;
	double control;     /* on the control kernel, NaN if none */
	char kernel[64];    /* which calibration kernel */
	char detail[160];   /* why not checked, or what is off */
};

struct pmb_calibration {
	int ran;
	char status[160];   /* "ran", or "not run: <why>" */
	double seconds;
	struct pmb_calib_entry counter[PMB_CTR_COUNT];
};

/* The verdict rule, pure (unit-tested): reads_zero below expected/1000,
 * validated when lo <= measured/expected <= hi and the control kernel
 * (when given, control not NaN) read at most control_max, else
 * off_by_factor. */
enum pmb_calib_verdict pmb_calib_judge(const struct pmb_calib_expect *want, double measured,
				       double control);

const char *pmb_calib_verdict_name(enum pmb_calib_verdict v);

/* Runs the calibration on the calling thread for the plan's available
 * hardware counters.  enabled = 0 (--no-calibrate) or nothing to calibrate
 * leaves cal->ran = 0 with the reason in status.  Returns 0, or -1 with
 * pmb_error() when the backend fails. */
int pmb_calibrate(const struct pmb_counter_backend *b, const struct pmb_counter_plan *plan,
		  const struct pmb_topology_info *topo, uint64_t mem_available, int enabled,
		  struct pmb_calibration *cal);

/* Counters found reading zero become unavailable, with the reason; the
 * others are kept.  Pure.  Returns the mask removed. */
uint32_t pmb_calibration_apply(const struct pmb_calibration *cal, struct pmb_counter_plan *plan);

/* A warning (stderr and meta.json) per counter off by a factor. */
void pmb_calibration_warn(const struct pmb_calibration *cal);

/* meta.json: "calibration": {status, seconds, counters: {name: {...}}}. */
void pmb_calibration_write_json(struct pmb_json *j, const struct pmb_calibration *cal);

/* One line per calibrated counter for --list, "" if none. */
void pmb_calibration_describe(const struct pmb_calibration *cal, int id, char *buf, size_t len);

/* The calibration kernels (pmb_calib_kernels.c).  counts_known: the loop
 * and branch kernels are inline asm here (x86-64, aarch64), so their counts
 * are known by construction; elsewhere they are not. */
extern const int pmb_calib_counts_known;
void pmb_calib_loop(uint64_t n);                        /* 3n instructions, n branches */
uint64_t pmb_calib_branchy(const uint8_t *bits, uint64_t n); /* one data branch per byte */
struct pmb_calib_chase;
struct pmb_calib_chase *pmb_calib_chase_new(uint64_t bytes, uint64_t lines, uint64_t seed);
void pmb_calib_chase_run(struct pmb_calib_chase *c, uint64_t steps);
void pmb_calib_chase_free(struct pmb_calib_chase *c);

#endif
