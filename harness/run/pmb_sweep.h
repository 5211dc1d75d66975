/* pmb_sweep.h — the sweep: every point not yet done, visited in --rounds
 * rounds, each round in its own seeded order (Google Benchmark's random
 * interleaving, Kalibera & Jones' repeated runs): slow drift of the
 * machine then spreads over the rounds of every point instead of
 * favouring whichever point ran at a fast moment. */
#ifndef PMB_SWEEP_H
#define PMB_SWEEP_H

#include "pmb_runner.h"

struct pmb_sweep_outcome {
	size_t points_done;              /* summaries written */
	size_t invalid;                  /* of those, points whose result check failed */
	unsigned long long discarded;    /* preempted samples discarded, all points */
	double overhead_ns;              /* median empty-sample cost over rounds; NAN if none */
	int short_warned;                /* the too-short-sample warning was given */
};

/* Runs the plan's points not marked done.  A point's summary goes out
 * after its last round, from the samples of all its rounds; a point whose
 * last round was not reached (a signal, a failure elsewhere) gets none,
 * and --resume measures it again from a clean slate (pmb_resume.c).
 * Returns 0, or -1 with pmb_error(). */
int pmb_sweep_run(const struct pmb_runner *r, struct pmb_plan *plan, struct pmb_sweep_outcome *o);

#endif
