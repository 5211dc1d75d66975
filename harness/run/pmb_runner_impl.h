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
	/* The point's rows so far (all rounds), taken from and given back to
	 * pmb_point_samples around the round.  The layout of this struct is
	 * kept as it was before rounds: under the simulator, whose caches
	 * persist across samples, what the leader touches between samples
	 * shows in the next sample's L1 misses (tests/e2e/test_signatures.sh). */
	struct pmb_sample_row *rows; /* [sample][T + 1]: workers, then aggregate */
	size_t rows_cap;             /* in samples */
	uint64_t nsamples;
	uint64_t preempted[256];    /* per worker: switches + migrations in this sample */
	uint64_t discarded;         /* samples of this round discarded for preemption */
	uint64_t discarded_by[256]; /* per worker: of those, the ones it was preempted in */
	int retake;                 /* the leader discarded this sample: measure it again */
	int guard_spent;            /* the discard bound was reached: keep what comes */
	char note[64];              /* worker 0's kernel note (what setup got) */
	/* Per worker and pass: passes start and stop different event sets,
	 * so an empty sample costs differently in each. */
	double overhead_ns[256][PMB_COUNTER_PASSES_MAX];
	double overhead_ticks[256][PMB_COUNTER_PASSES_MAX];
	struct pmb_point_outcome *out;
	uint64_t first;             /* nsamples when this round started */
	int round;
};

/* Leader only: should sampling stop after this sample? */
int pmb_runner_enough_samples(struct point_run *pr, uint64_t sampling_start_ns);

/* Leader only: discard this sample (a worker was preempted) and take it
 * again?  Counts it when so. */
int pmb_runner_retake_preempted(struct point_run *pr, uint64_t sampling_start_ns);

#endif
