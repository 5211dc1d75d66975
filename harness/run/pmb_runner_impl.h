/* pmb_runner_impl.h — shared by the runner's own files only: the state
 * of one round of one point (pmb_runner.c measures, pmb_runner_stop.c
 * decides when to stop and which samples to retake). */
#ifndef PMB_RUNNER_IMPL_H
#define PMB_RUNNER_IMPL_H

#include "pmb_runner.h"

#include <pthread.h>

/* Shared by the workers of one round of a point.  Worker 0 leads: it decides the
 * iteration count and when to stop, and hands rows to the reporters
 * between samples (never inside a measured region). */
struct point_run {
	const struct pmb_runner *r;
	const struct pmb_point *p;
	pthread_barrier_t barrier;
	int failed;                 /* any worker failed: all leave */
	char error[1024];
	pthread_mutex_t error_lock;
	pthread_cond_t gate_open;   /* all workers started (or failed to) */
	int gate;
	uint64_t iters;             /* agreed by all workers */
	uint64_t wanted_iters[256]; /* per worker, from its warm-up */
	int stop;
	struct pmb_point_samples *acc; /* the point's samples, all rounds so far */
	uint64_t first;             /* acc->n when this round started */
	int round;
	uint64_t preempted[256];    /* per worker: switches + migrations in this sample */
	uint64_t discarded;         /* samples of this round discarded for preemption */
	int retake;                 /* the leader discarded this sample: measure it again */
	int guard_spent;            /* the discard bound was reached: keep what comes */
	/* Per worker and pass: passes start and stop different event sets,
	 * so an empty sample costs differently in each. */
	double overhead_ns[256][PMB_COUNTER_PASSES_MAX];
	double overhead_ticks[256][PMB_COUNTER_PASSES_MAX];
	struct pmb_point_outcome *out;
};

/* Leader only: should sampling stop after this sample? */
int pmb_runner_enough_samples(struct point_run *pr, uint64_t sampling_start_ns);

/* Leader only: discard this sample (a worker was preempted) and take it
 * again?  Counts it when so. */
int pmb_runner_retake_preempted(struct point_run *pr, uint64_t sampling_start_ns);

#endif
