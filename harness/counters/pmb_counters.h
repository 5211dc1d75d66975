/* pmb_counters.h — the counter backend interface.
 *
 * A backend (PAPI, timer-only, simulated) is a table of a few functions.
 * The runner calls them the same way whichever is active; it never asks
 * which one it has.  Wall time and TSC ticks are measured by the runner
 * around every sample under every backend, so they are not counters here.
 *
 * Honesty rule: a counter that was not counted is absent from
 * pmb_counter_values.counted and ends up as an empty CSV cell, never 0.
 */
#ifndef PMB_COUNTERS_H
#define PMB_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* Fixed order = CSV column order (schema).  Append only. */
enum pmb_counter_id {
	PMB_CTR_CYCLES,
	PMB_CTR_INSTRUCTIONS,
	PMB_CTR_L1D_MISSES,
	PMB_CTR_L2_MISSES,
	PMB_CTR_LLC_MISSES,
	PMB_CTR_BRANCHES,
	PMB_CTR_BRANCH_MISSES,
	PMB_CTR_PAGE_FAULTS,
	PMB_CTR_CONTEXT_SWITCHES,
	PMB_CTR_CPU_MIGRATIONS,
	PMB_CTR_TASK_CLOCK_NS,
	PMB_CTR_COUNT
};

#define PMB_CTR_MASK(id) (1u << (id))
#define PMB_CTR_ALL_MASK ((1u << PMB_CTR_COUNT) - 1u)

struct pmb_counter_info {
	const char *column;      /* CSV column, e.g. "l1d_misses" */
	const char *papi_events; /* PAPI names to try in order, ','-separated */
	const char *description;
	const char *unit;        /* of one count: "cycles", "ns"; NULL = "events" */
};

extern const struct pmb_counter_info pmb_counter_info[PMB_CTR_COUNT];

/* Counters requested by default (all of them: hardware ones simply come out
 * unavailable, with a reason, where there is no PMU). */
#define PMB_CTR_DEFAULT_MASK PMB_CTR_ALL_MASK

#define PMB_COUNTER_REASON_MAX 320
#define PMB_COUNTER_PASSES_MAX PMB_CTR_COUNT

/* Filled by backend init: what can be counted here, in which pass, and why
 * not.  Events the hardware cannot count together go in separate passes
 * (never silent multiplexing); the runner rotates passes across samples, so
 * every pass measures the same work. */
struct pmb_counter_plan {
	uint32_t requested;                        /* mask asked for */
	int max_per_pass;                          /* events per pass at most, 0 = no cap (asked for) */
	uint32_t available;                        /* mask that will be counted */
	int npasses;                               /* >= 1 */
	int pass_of[PMB_CTR_COUNT];                /* pass index, -1 if unavailable */
	char event_name[PMB_CTR_COUNT][64];        /* backend's event actually used */
	char reason[PMB_CTR_COUNT][PMB_COUNTER_REASON_MAX]; /* why unavailable ("" if available) */
	char backend_version[64];                  /* e.g. "PAPI 7.0.0.0" */
	char note[256];                            /* one-line summary for stderr, may be "" */
};

struct pmb_counter_values {
	int64_t value[PMB_CTR_COUNT];
	uint32_t counted; /* mask of entries in value[] that were really counted */
};

struct pmb_counter_backend {
	const char *name; /* "papi", "timer", "sim" (--backend) */
	/* Process-wide, once, on the main thread before workers start.
	 * Decides plan->available / pass_of / reasons for plan->requested.
	 * Returns 0; -1 with pmb_error() set only when the backend cannot work
	 * at all (then the caller reports the error; it does not fall back
	 * silently). */
	int (*init)(struct pmb_counter_plan *plan);
	/* On each pinned worker thread, before its first sample. */
	int (*thread_open)(const struct pmb_counter_plan *plan, void **thread_state);
	/* Around one sample; values->counted says what this pass counted.
	 * The label names the sample (kernel/variant/size) for backends that
	 * keep their own records (the simulator); others ignore it. */
	int (*start)(void *thread_state, int pass);
	int (*stop_and_read)(void *thread_state, int pass, const char *label,
			     struct pmb_counter_values *values);
	void (*thread_close)(void *thread_state);
	void (*fini)(void);
	/* 1 when the counts do not depend on the schedule (the simulator):
	 * retaking a preempted sample would buy nothing there. */
	int schedule_independent;
};

extern const struct pmb_counter_backend pmb_counter_backend_papi;
extern const struct pmb_counter_backend pmb_counter_backend_timer;
extern const struct pmb_counter_backend pmb_counter_backend_sim;

/* Looks a backend up by name; NULL if unknown. */
const struct pmb_counter_backend *pmb_counter_backend_find(const char *name);

/* Parses "all" (old name: "default"), "none" or a comma list of column names into a
 * mask.  Returns 0, or -1 with pmb_error() naming the unknown counter and
 * listing the known ones. */
int pmb_counter_parse_list(const char *list, uint32_t *mask);

/* Where counter c's numbers come from under this plan: "papi",
 * "perf_event_open", "simulator", or "none" when it is not counted. */
const char *pmb_counter_source(const struct pmb_counter_plan *plan, const char *backend, int c);

/* Sets plan->requested, keeps plan->max_per_pass (also part of the
 * request) and clears the rest; the common start of init(). */
void pmb_counter_plan_reset(struct pmb_counter_plan *plan, uint32_t requested);

#endif
