/* pmb_runner.h — measures one point of the plan: T pinned workers, each
 * with its own data, set up after pinning (first touch), warmed up,
 * calibrated, then sampled in lock-step until the median is precise enough
 * or the point's time budget is spent. */
#ifndef PMB_RUNNER_H
#define PMB_RUNNER_H

#include "pmb_counters.h"
#include "pmb_options.h"
#include "pmb_plan.h"
#include "pmb_report.h"
#include "pmb_topology.h"

#include <signal.h>

struct pmb_runner {
	const struct pmb_options *opt;
	const struct pmb_topology_info *topo;
	const struct pmb_counter_backend *backend;
	const struct pmb_counter_plan *counters;
	const struct pmb_run_info *run;
	struct pmb_reporter *reporters;
	size_t nreporters;
	volatile sig_atomic_t *interrupted; /* set by the signal handler */
	double clock_step_ns; /* smallest clock step, for the too-short-sample warning */
	int preempt_guard;    /* discard and retake preempted samples (pmb_preempt_probe) */
};

/* Outcome of one point, for the run's bookkeeping. */
struct pmb_point_outcome {
	uint64_t samples;
	uint64_t discarded;    /* samples discarded for preemption and retaken */
	int valid;
	int interrupted;       /* stopped early by a signal */
	int short_samples;     /* samples shorter than 1000x the clock step */
	double overhead_ns;    /* thread 0's empty-sample cost in pass 0 */
};

/* Returns 0, or -1 with pmb_error() (setup failure, pinning failure,
 * counter failure, a reporter that cannot write). */
int pmb_runner_run_point(const struct pmb_runner *r, const struct pmb_point *p,
			 struct pmb_point_outcome *out);

#endif
