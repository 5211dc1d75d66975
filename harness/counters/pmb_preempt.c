/* pmb_preempt.c — the preemption guard (see pmb_preempt.h). */
#include "pmb_preempt.h"
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_perf_sw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>

#define GUARD_MASK (PMB_CTR_MASK(PMB_CTR_CONTEXT_SWITCHES) | PMB_CTR_MASK(PMB_CTR_CPU_MIGRATIONS))

struct pmb_preempt {
	struct pmb_perf_sw *group;
	int ok; /* the last start succeeded */
};

int pmb_preempt_probe(const struct pmb_counter_backend *backend, char *how, size_t len)
{
	static char reason[PMB_CTR_COUNT][PMB_COUNTER_REASON_MAX]; /* software ids only */
	if (backend->schedule_independent) {
		snprintf(how, len, "off: the %s backend's counts do not depend on the schedule",
			 backend->name);
		return 0;
	}
	/* Under any valgrind tool (the heap profile's DHAT) the schedule is
	 * valgrind's and times are not the machine's; a retake would only run
	 * the kernel, and its allocations, once more than the rows say. */
	if (RUNNING_ON_VALGRIND) {
		snprintf(how, len, "off: running under valgrind");
		return 0;
	}
	uint32_t got = pmb_perf_sw_probe(GUARD_MASK, reason);
	if (got != GUARD_MASK) {
		const char *why = reason[PMB_CTR_CONTEXT_SWITCHES][0] ? reason[PMB_CTR_CONTEXT_SWITCHES]
								   : reason[PMB_CTR_CPU_MIGRATIONS];
		snprintf(how, len, "off: software counters unavailable (%s); preempted samples are "
			 "kept",
			 why);
		return 0;
	}
	snprintf(how, len, "samples with a context switch or CPU migration (perf_event_open "
		 "software events) are discarded and retaken, at most 3x the samples kept "
		 "(at least min_samples) or 3x point_seconds per point");
	return 1;
}

struct pmb_preempt *pmb_preempt_open(void)
{
	struct pmb_preempt *g = calloc(1, sizeof *g);
	if (!g) {
		pmb_error("out of memory for the preemption guard");
		return NULL;
	}
	if (pmb_perf_sw_open(GUARD_MASK, &g->group) != 0) {
		free(g);
		return NULL;
	}
	return g;
}

void pmb_preempt_start(struct pmb_preempt *g)
{
	if (g)
		g->ok = pmb_perf_sw_start(g->group) == 0;
}

uint64_t pmb_preempt_stop(struct pmb_preempt *g)
{
	struct pmb_counter_values v;
	if (!g || !g->ok)
		return 0;
	memset(&v, 0, sizeof v);
	if (pmb_perf_sw_stop_and_read(g->group, &v) != 0)
		return 0;
	return (uint64_t)(v.value[PMB_CTR_CONTEXT_SWITCHES] + v.value[PMB_CTR_CPU_MIGRATIONS]);
}

void pmb_preempt_close(struct pmb_preempt *g)
{
	if (g) {
		pmb_perf_sw_close(g->group);
		free(g);
	}
}
