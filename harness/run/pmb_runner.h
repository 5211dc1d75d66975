/* pmb_runner.h — measures one round of one point of the plan: T pinned
 * workers, each with its own data, set up after pinning (first touch),
 * warmed up, calibrated, then sampled in lock-step until the median is
 * precise enough or the round's time budget is spent.  pmb_sweep.c visits
 * the points round by round and writes each point's summary. */
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

/* A point's samples over its rounds (--rounds): each round appends its
 * rows; the summary is made from all of them after the last round. */
struct pmb_point_samples {
	struct pmb_sample_row *rows; /* [sample][T + 1]: workers, then aggregate */
	size_t cap;                  /* in samples */
	uint64_t n;                  /* samples kept, all rounds */
	uint64_t discarded;          /* samples discarded for preemption, all rounds */
	uint64_t discarded_by[256];  /* per worker: discarded samples it was preempted in */
	char note[64];               /* worker 0's kernel note in round 0 */
};

void pmb_point_samples_free(struct pmb_point_samples *acc);

/* Outcome of one round of a point, for the run's bookkeeping. */
struct pmb_point_outcome {
	uint64_t samples;      /* kept in this round */
	uint64_t discarded;    /* discarded for preemption (and retaken) in this round */
	int interrupted;       /* stopped early by a signal */
	int short_samples;     /* samples shorter than 1000x the clock step */
	double overhead_ns;    /* thread 0's empty-sample cost in pass 0 */
};

/* One round of a point: pin, set up (new buffers), warm up, calibrate,
 * then take the round's share of the point's sample budget (1/rounds of
 * min_samples, max_samples and point_seconds), appending to acc and
 * handing each row to the reporters.  Returns 0, or -1 with pmb_error()
 * (setup failure, pinning failure, counter failure, a reporter that
 * cannot write). */
int pmb_runner_run_round(const struct pmb_runner *r, const struct pmb_point *p,
			 struct pmb_point_samples *acc, int round, struct pmb_point_outcome *out);

#endif
