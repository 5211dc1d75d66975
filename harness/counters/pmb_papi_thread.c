/* pmb_papi_thread.c — the per-thread half of the PAPI backend: each worker
 * registers with PAPI and owns one event set per pass, built from the plan
 * that pmb_counters_papi.c decided on the main thread.  Software counters
 * from perf_event_open (pmb_perf_sw.c) bracket pass 0's PAPI events, so that
 * their ioctls stay out of the hardware counts. */
#include "pmb_error.h"
#include "pmb_papi.h"
#include "pmb_perf_sw.h"

#include <stdlib.h>

struct papi_thread {
	int registered;
	int npasses;
	int set[PMB_COUNTER_PASSES_MAX];
	int nevents[PMB_COUNTER_PASSES_MAX];
	int ids[PMB_COUNTER_PASSES_MAX][PMB_CTR_MAX]; /* in PAPI_stop order */
	uint32_t mask[PMB_COUNTER_PASSES_MAX];
	int running; /* pass started and not stopped, -1 if none */
	struct pmb_perf_sw *sw; /* perf_event_open fallback group (pass 0), or NULL */
};

void pmb_papi_thread_close(void *state)
{
	struct papi_thread *t = state;
	long long buf[PMB_CTR_MAX * 2];

	if (!t)
		return;
	if (t->running >= 0)
		pmb_papi.stop(t->set[t->running], buf);
	for (int p = 0; p < t->npasses; p++) {
		if (t->set[p] == PAPI_NULL)
			continue;
		pmb_papi.cleanup_eventset(t->set[p]);
		pmb_papi.destroy_eventset(&t->set[p]);
	}
	if (t->registered)
		pmb_papi.unregister_thread();
	pmb_perf_sw_close(t->sw);
	free(t);
}

int pmb_papi_thread_open(const struct pmb_counter_plan *plan, void **state)
{
	struct papi_thread *t = calloc(1, sizeof *t);
	int ret;

	*state = NULL;
	if (!t)
		return pmb_error("cannot allocate PAPI thread state: out of memory");
	t->running = -1;
	t->npasses = plan->npasses > 0 ? plan->npasses : 1;
	if (t->npasses > PMB_COUNTER_PASSES_MAX) {
		free(t);
		return pmb_error("counter plan has %d passes, more than %d; the plan is corrupt",
				 plan->npasses, PMB_COUNTER_PASSES_MAX);
	}
	for (int p = 0; p < PMB_COUNTER_PASSES_MAX; p++)
		t->set[p] = PAPI_NULL;

	uint32_t sw = pmb_perf_sw_plan_mask(plan);
	if (sw && pmb_perf_sw_open(sw, &t->sw) < 0) {
		free(t);
		return -1;
	}

	/* Nothing for PAPI to count: stay away from it, as it may not even
	 * be loaded, and let start/stop report only the fallback's counts. */
	if (!pmb_papi_ready || !(plan->available & ~sw)) {
		*state = t;
		return 0;
	}

	ret = pmb_papi.register_thread();
	if (ret != PAPI_OK) {
		pmb_perf_sw_close(t->sw);
		free(t);
		return pmb_error("cannot register worker thread with PAPI: %s; run with --backend=timer to skip counters",
				 pmb_papi_text(ret));
	}
	t->registered = 1;

	for (int p = 0; p < t->npasses; p++) {
		ret = pmb_papi.create_eventset(&t->set[p]);
		if (ret != PAPI_OK) {
			pmb_papi_thread_close(t);
			return pmb_error("cannot create PAPI event set for pass %d: %s; run with --backend=timer to skip counters",
					 p, pmb_papi_text(ret));
		}
		for (int i = 0; i < PMB_CTR_MAX; i++) {
			if (!(plan->available & ~sw & PMB_CTR_MASK(i)) || plan->pass_of[i] != p)
				continue;
			ret = pmb_papi.add_named_event(t->set[p], plan->event_name[i]);
			if (ret != PAPI_OK) {
				pmb_papi_thread_close(t);
				return pmb_error("cannot add PAPI event %s on worker thread: %s; leave %s out with --counters",
						 plan->event_name[i], pmb_papi_text(ret), pmb_counter_info[i].column);
			}
			t->ids[p][t->nevents[p]++] = i;
			t->mask[p] |= PMB_CTR_MASK(i);
		}
	}
	*state = t;
	return 0;
}

int pmb_papi_start(void *state, int pass)
{
	struct papi_thread *t = state;
	int ret;

	if (!t)
		return pmb_error("PAPI counters started without thread_open; call thread_open on this thread first");
	if (pass < 0 || pass >= t->npasses)
		return pmb_error("PAPI pass %d does not exist (the plan has %d)", pass, t->npasses);
	/* The fallback group brackets PAPI's events, so that its ioctls
	 * stay out of the hardware counts. */
	if (pass == 0 && t->sw && pmb_perf_sw_start(t->sw) < 0)
		return -1;
	if (!t->nevents[pass])
		return 0;
	/* PAPI_start zeroes the counters, so no separate reset (and no
	 * extra ~850 ns syscall) inside the measured region. */
	ret = pmb_papi.start(t->set[pass]);
	if (ret != PAPI_OK)
		return pmb_error("cannot start PAPI counters (pass %d): %s; run with --backend=timer to skip counters",
				 pass, pmb_papi_text(ret));
	t->running = pass;
	return 0;
}

int pmb_papi_stop_and_read(void *state, int pass, const char *label,
			      struct pmb_counter_values *values)
{
	struct papi_thread *t = state;
	long long buf[PMB_CTR_MAX * 2];
	int ret;

	(void)label;
	values->counted = 0;
	if (!t)
		return pmb_error("PAPI counters read without thread_open; call thread_open on this thread first");
	if (pass < 0 || pass >= t->npasses)
		return pmb_error("PAPI pass %d does not exist (the plan has %d)", pass, t->npasses);
	if (t->nevents[pass]) {
		if (t->running != pass)
			return pmb_error("PAPI pass %d read without being started; call start(%d) first", pass, pass);
		t->running = -1;
		ret = pmb_papi.stop(t->set[pass], buf);
		if (ret != PAPI_OK)
			return pmb_error("cannot stop PAPI counters (pass %d): %s; run with --backend=timer to skip counters",
					 pass, pmb_papi_text(ret));
		/* perf::TASK-CLOCK comes from the kernel's task clock,
		 * already in ns, so all values are stored as PAPI gives
		 * them. */
		for (int k = 0; k < t->nevents[pass]; k++)
			values->value[t->ids[pass][k]] = (int64_t)buf[k];
		values->counted = t->mask[pass];
	}
	/* Task clock from perf_event_open is in ns too. */
	if (pass == 0 && t->sw && pmb_perf_sw_stop_and_read(t->sw, values) < 0)
		return -1;
	return 0;
}

