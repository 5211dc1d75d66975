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

/* Fixed order = CSV column order (schema).  Append only.  The built-in
 * counters; ids PMB_CTR_COUNT..PMB_CTR_MAX-1 are the user's own events
 * (--counters PAPI_L1_TCM,perf::...), registered by pmb_counter_parse_list
 * (pmb_user_events.c) in the order given. */
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

/* At most this many user events per run.  Every sample row keeps a slot
 * for each (pmb_counter_values), so the number is kept small: a bigger row
 * moves the heap under the allocating kernels, which the simulator's
 * determinism check sees (tests/e2e/test_signatures.sh). */
#define PMB_CTR_USER_MAX 3
#define PMB_CTR_MAX (PMB_CTR_COUNT + PMB_CTR_USER_MAX)

#define PMB_CTR_MASK(id) (1u << (id))
/* The built-in counters ("all"). */
#define PMB_CTR_ALL_MASK ((1u << PMB_CTR_COUNT) - 1u)
/* Every id a plan may hold: built-in and user events. */
#define PMB_CTR_ANY_MASK ((1u << PMB_CTR_MAX) - 1u)

struct pmb_counter_info {
	const char *column;      /* CSV column, e.g. "l1d_misses" */
	const char *papi_events; /* PAPI names to try in order, ','-separated */
	const char *description;
	const char *unit;        /* of one count: "cycles", "ns"; NULL = "events" */
};

/* Built-in entries first, then the registered user events (column = the
 * safe name derived from the event, papi_events = the event as given).
 * A pointer to the built-in table, or to a heap copy that has the user
 * events after it: set only while options are parsed, before any thread
 * starts.  (Not a bigger static table: the simulator's L1 signatures see
 * where the harness's hot data lies, and a run without own events keeps
 * the layout it had.) */
extern const struct pmb_counter_info *pmb_counter_info;

/* Counters that exist in this run: PMB_CTR_COUNT + registered user events;
 * ids 0..pmb_counter_n()-1 are valid in pmb_counter_info. */
int pmb_counter_n(void);
/* 1 for a user event id. */
static inline int pmb_counter_is_user(int id)
{
	return id >= PMB_CTR_COUNT && id < PMB_CTR_MAX;
}

/* Counters requested by default (all of them: hardware ones simply come out
 * unavailable, with a reason, where there is no PMU). */
#define PMB_CTR_DEFAULT_MASK PMB_CTR_ALL_MASK

#define PMB_COUNTER_REASON_MAX 320
/* Passes stay at most 11 with own events too: the runner keeps an overhead
 * per thread and pass, and with --max-events-per-pass 1 an event beyond
 * the 11th pass is reported as having no pass left. */
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
	int pass_of[PMB_CTR_MAX];                  /* pass index, -1 if unavailable */
	char event_name[PMB_CTR_MAX][64];          /* backend's event actually used */
	char reason[PMB_CTR_MAX][PMB_COUNTER_REASON_MAX]; /* why unavailable ("" if available) */
	char backend_version[64];                  /* e.g. "PAPI 7.0.0.0" */
	char note[256];                            /* one-line summary for stderr, may be "" */
};

struct pmb_counter_values {
	int64_t value[PMB_CTR_MAX];
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

/* Parses "all" (old name: "default"), "none" or a comma list of built-in
 * column names, sets ("all" inside a list) and the user's own events
 * (PAPI presets, native or raw names: anything with an upper-case letter or
 * a ':') into a mask.  Replaces the user events of any earlier call: the
 * last list given wins.  Returns 0, or -1 with pmb_error() naming the bad
 * item and the fix. */
int pmb_counter_parse_list(const char *list, uint32_t *mask);

/* The user's own events (pmb_user_events.c). */
/* Forgets every registered user event (options back to defaults). */
void pmb_user_events_reset(void);
/* Registers an event name (as PAPI spells it) as the next user counter;
 * its column is pmb_user_event_column() of it.  Returns the counter id, or
 * -1 with pmb_error() set (bad characters, too long, column taken, too
 * many).  The same name twice gives the same id. */
int pmb_user_event_add(const char *event, size_t len);
/* The column name of an event: lower case, every run of characters other
 * than a-z and 0-9 becomes one '_', no '_' at either end, "ev_" in front
 * of a leading digit.  Returns 0, or -1 (pmb_error()) when nothing is
 * left or it does not fit out (size). */
int pmb_user_event_column(const char *event, size_t len, char *out, size_t size);
/* 1 when an item of a --counters list names an event rather than a
 * built-in counter: it has an upper-case letter or a ':'. */
int pmb_user_event_like(const char *item, size_t len);
/* Asks known() (the PAPI backend: does PAPI resolve the name?) about every
 * requested user event; the first it does not know is an error naming the
 * event, why (known's text) and papi_avail / papi_native_avail. */
int pmb_user_events_check(uint32_t requested,
			  int (*known)(const char *name, char *why, size_t size));
/* The registered events as given, ','-separated ("" if none): the run
 * identity that --resume compares. */
const char *pmb_user_events_list(void);

/* Where counter c's numbers come from under this plan: "papi",
 * "perf_event_open", "simulator", or "none" when it is not counted. */
const char *pmb_counter_source(const struct pmb_counter_plan *plan, const char *backend, int c);

/* Sets plan->requested, keeps plan->max_per_pass (also part of the
 * request) and clears the rest; the common start of init(). */
void pmb_counter_plan_reset(struct pmb_counter_plan *plan, uint32_t requested);

#endif
