#define _GNU_SOURCE
#include "pmb_runner.h"
#include "pmb_alloc_count.h"
#include "pmb_clock.h"
#include "pmb_error.h"
#include "pmb_parse.h"
#include "pmb_preempt.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVERHEAD_SAMPLES 11

/* Shared by the workers of one point.  Worker 0 leads: it decides the
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

struct worker {
	struct point_run *pr;
	int index;
	pthread_t thread;
};

static void record_failure(struct point_run *pr, const char *message)
{
	pthread_mutex_lock(&pr->error_lock);
	if (!pr->failed)
		snprintf(pr->error, sizeof pr->error, "%s", message);
	pr->failed = 1;
	pthread_mutex_unlock(&pr->error_lock);
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One measured sample: clocks outside, counters inside, so counters do not
 * count the clock reads (the simulator would) and the clocks include the
 * counter start/stop, which the empty-sample overhead then removes. */
static void measure(struct point_run *pr, struct pmb_kernel_ctx *ctx, void *cstate,
		    uint64_t iters, uint64_t rep, int index, struct pmb_sample_row *row)
{
	const struct pmb_runner *r = pr->r;
	const struct pmb_kernel *k = pr->p->kernel;
	int pass = (int)(rep % (uint64_t)r->counters->npasses);
	char label[160];
	snprintf(label, sizeof label, "%s/%s/%llu/t%d/r%llu", k->family, k->variant,
		 (unsigned long long)pr->p->size_bytes, index, (unsigned long long)rep);

	memset(row, 0, sizeof *row);
	struct pmb_alloc_count a0 = pmb_alloc_count_thread();
	uint64_t t0 = pmb_clock_ns();
	uint64_t k0 = pmb_clock_ticks();
	int rc = r->backend->start(cstate, pass);
	for (uint64_t i = 0; i < iters; i++)
		k->run(ctx);
	if (rc == 0)
		rc = r->backend->stop_and_read(cstate, pass, label, &row->counters);
	uint64_t k1 = pmb_clock_ticks();
	uint64_t t1 = pmb_clock_ns();
	struct pmb_alloc_count a1 = pmb_alloc_count_thread();
	if (rc != 0) {
		row->counters.counted = 0;
		record_failure(pr, pmb_error_message());
	}
	row->point = pr->p;
	row->thread = index;
	row->rep = rep;
	row->round = pr->round;
	row->iters = iters;
	row->ns = t1 - t0;
	row->tsc_ticks = k1 - k0;
	row->allocs = a1.allocs - a0.allocs;
	row->counter_pass = pass;
	row->valid = iters == 0 || k->check(ctx) == 0;
}

static void aggregate(const struct point_run *pr, struct pmb_sample_row *rows)
{
	int T = pr->p->threads;
	struct pmb_sample_row *agg = &rows[T];
	*agg = rows[0];
	agg->thread = -1;
	agg->core = -1;
	agg->allocs = 0;
	agg->valid = 1;
	agg->overhead_ns = 0;
	agg->overhead_ticks = 0;
	agg->counters.counted = PMB_CTR_ANY_MASK;
	memset(agg->counters.value, 0, sizeof agg->counters.value);
	for (int t = 0; t < T; t++) {
		/* Wall time of the group is its slowest member (they start
		 * together at the barrier); counts add up. */
		if (rows[t].ns > agg->ns)
			agg->ns = rows[t].ns;
		if (rows[t].tsc_ticks > agg->tsc_ticks)
			agg->tsc_ticks = rows[t].tsc_ticks;
		if (rows[t].overhead_ns > agg->overhead_ns)
			agg->overhead_ns = rows[t].overhead_ns;
		if (rows[t].overhead_ticks > agg->overhead_ticks)
			agg->overhead_ticks = rows[t].overhead_ticks;
		agg->allocs += rows[t].allocs;
		agg->valid &= rows[t].valid;
		agg->counters.counted &= rows[t].counters.counted;
		for (int c = 0; c < PMB_CTR_MAX; c++)
			agg->counters.value[c] += rows[t].counters.value[c];
	}
}

static int report_rows(struct point_run *pr, struct pmb_sample_row *rows)
{
	const struct pmb_runner *r = pr->r;
	int T = pr->p->threads;
	for (int t = 0; t <= T; t++) {
		if (t == T && T == 1)
			break; /* the aggregate of one thread is that thread */
		for (size_t i = 0; i < r->nreporters; i++)
			if (r->reporters[i].sample(r->reporters[i].self, r->run, &rows[t]) != 0)
				return -1;
	}
	return 0;
}

static int grow_rows(struct point_run *pr)
{
	struct pmb_point_samples *acc = pr->acc;
	size_t width = (size_t)pr->p->threads + 1;
	if (acc->n < acc->cap)
		return 0;
	size_t cap = acc->cap ? acc->cap * 2 : 64;
	struct pmb_sample_row *rows = realloc(acc->rows, cap * width * sizeof *rows);
	if (!rows)
		return pmb_error("out of memory for samples");
	acc->rows = rows;
	acc->cap = cap;
	return 0;
}

/* A round's share of a per-point budget: ceil(n / rounds), at least 1. */
static uint64_t share(uint64_t n, uint64_t rounds)
{
	uint64_t s = (n + rounds - 1) / rounds;
	return s ? s : 1;
}

/* Leader only: should sampling stop after this sample?  Each round is
 * a point of its own with 1/rounds of the budget: samples, time and the
 * CI target all apply to the round's samples. */
static int enough_samples(struct point_run *pr, uint64_t sampling_start_ns)
{
	const struct pmb_options *opt = pr->r->opt;
	if (*pr->r->interrupted) {
		pr->out->interrupted = 1;
		return 1;
	}
	uint64_t n = pr->acc->n - pr->first;
	uint64_t min = share(opt->min_samples, opt->rounds);
	double seconds = opt->point_seconds / (double)opt->rounds;
	if (n >= share(opt->max_samples, opt->rounds))
		return 1;
	double elapsed = (double)(pmb_clock_ns() - sampling_start_ns) / 1e9;
	/* min_samples yields to a hard cap of 4 x the budget (with at least
	 * 3 samples): a 0.8 s pass of a shuffled 128 MiB list must not hold
	 * the sweep for 10 passes.  The summary's `samples` tells. */
	if (n < min)
		return n >= (min < 3 ? min : 3) && elapsed >= 4 * seconds;
	if (elapsed >= seconds)
		return 1;
	size_t width = (size_t)pr->p->threads + 1;
	int col = pr->p->threads == 1 ? 0 : pr->p->threads;
	double *v = malloc(n * sizeof *v);
	if (!v)
		return 1;
	for (uint64_t s = 0; s < n; s++)
		v[s] = pmb_report_metric_value(&pr->acc->rows[(pr->first + s) * width + (size_t)col],
					       PMB_METRIC_NS);
	double rel = pmb_stats_median_ci_rel_halfwidth(v, n);
	free(v);
	return rel <= opt->target_ci;
}

/* Leader only: was any worker switched out or migrated during this sample,
 * and may it still be retaken?  Discards are bounded by 3 x the samples the
 * point wants (min_samples, or as many as it has kept) and by 3 x its time
 * budget; past that, samples are kept as they come, with one warning per
 * point. */
static int retake_preempted(struct point_run *pr, uint64_t sampling_start_ns)
{
	const struct pmb_options *opt = pr->r->opt;
	uint64_t switched = 0;
	for (int t = 0; t < pr->p->threads; t++)
		switched += pr->preempted[t];
	if (!switched || pr->guard_spent)
		return 0;
	double elapsed = (double)(pmb_clock_ns() - sampling_start_ns) / 1e9;
	uint64_t kept = pr->acc->n - pr->first, min = share(opt->min_samples, opt->rounds);
	uint64_t budget = kept > min ? kept : min;
	if (pr->discarded >= 3 * budget ||
	    elapsed >= 3 * opt->point_seconds / (double)opt->rounds) {
		const struct pmb_kernel *k = pr->p->kernel;
		char size[32];
		pr->guard_spent = 1;
		if (!pr->discarded)
			return 0; /* one sample outlasted the budget: nothing was retaken */
		pmb_warn("%s/%s at %s: %llu preempted samples discarded, the bound (3x the samples "
			 "kept or min_samples, or 3x point_seconds) is reached; later preempted samples are kept: free "
			 "the core (see --cores) for clean samples",
			 k->family, k->variant, pmb_format_size(pr->p->size_bytes, size, sizeof size),
			 (unsigned long long)pr->discarded);
		return 0;
	}
	pr->discarded++;
	pr->acc->discarded++;
	for (int t = 0; t < pr->p->threads; t++)
		pr->acc->discarded_by[t] += pr->preempted[t] != 0;
	return 1;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct point_run *pr = w->pr;
	const struct pmb_runner *r = pr->r;
	const struct pmb_point *p = pr->p;
	const struct pmb_kernel *k = p->kernel;
	int leader = w->index == 0;
	void *cstate = NULL;
	int have_ctx = 0, have_counters = 0;
	struct pmb_preempt *guard = NULL;
	int core = pmb_plan_core_for(r->opt, r->topo, w->index);
	struct pmb_kernel_ctx ctx = {.n = p->n_elems, .seed = r->opt->seed, .thread = w->index,
				     .line_size = r->topo->cache[0].line_size};
	char msg[1024];

	pthread_mutex_lock(&pr->error_lock);
	while (!pr->gate)
		pthread_cond_wait(&pr->gate_open, &pr->error_lock);
	int give_up = pr->failed;
	pthread_mutex_unlock(&pr->error_lock);
	if (give_up)
		return NULL;

	if (pmb_topology_pin_thread(core) != 0) {
		record_failure(pr, pmb_error_message());
	} else if (r->backend->thread_open(r->counters, &cstate) != 0) {
		record_failure(pr, pmb_error_message());
	} else if (r->preempt_guard && !(guard = pmb_preempt_open())) {
		r->backend->thread_close(cstate);
		record_failure(pr, pmb_error_message());
	} else {
		have_counters = 1;
		if (k->setup(&ctx) != 0) {
			char size[32];
			snprintf(msg, sizeof msg,
				 "not enough memory for %s/%s at %s on thread %d: use smaller --sizes "
				 "or fewer --threads, or raise the memory limit (ulimit -v)",
				 k->family, k->variant, pmb_format_size(p->size_bytes, size, sizeof size),
				 w->index);
			record_failure(pr, msg);
		} else {
			have_ctx = 1;
			if (leader && pr->round == 0)
				snprintf(pr->acc->note, sizeof pr->acc->note, "%s", ctx.note);
		}
	}
	pthread_barrier_wait(&pr->barrier);
	if (pr->failed)
		goto out;

	/* Cost of an empty sample (clocks + counter start/stop) in each pass,
	 * to subtract from this worker's samples of that pass. */
	int npasses = r->counters->npasses;
	for (int pass = 0; pass < npasses; pass++) {
		double empty[OVERHEAD_SAMPLES], empty_ticks[OVERHEAD_SAMPLES];
		struct pmb_sample_row scratch;
		for (int i = 0; i < OVERHEAD_SAMPLES; i++) {
			/* rep % npasses == pass selects the pass. */
			measure(pr, &ctx, cstate, 0, (uint64_t)(i * npasses + pass), w->index,
				&scratch);
			empty[i] = (double)scratch.ns;
			empty_ticks[i] = (double)scratch.tsc_ticks;
		}
		qsort(empty, OVERHEAD_SAMPLES, sizeof empty[0], compare_double);
		qsort(empty_ticks, OVERHEAD_SAMPLES, sizeof empty_ticks[0], compare_double);
		pr->overhead_ns[w->index][pass] = empty[OVERHEAD_SAMPLES / 2];
		pr->overhead_ticks[w->index][pass] = empty_ticks[OVERHEAD_SAMPLES / 2];
	}

	/* Warm-up: caches, TLB, branch predictors and frequency settle.  It
	 * runs at least warmup_ms, then until two consecutive windows of a
	 * quarter of that agree on the time per pass within 5 % (the timing
	 * has settled), or 4 x warmup_ms at most.  The last window's time per
	 * pass sets how many passes make one sample long enough. */
	uint64_t warm_budget = (uint64_t)(r->opt->warmup_ms * 1e6);
	uint64_t window = warm_budget / 4;
	uint64_t warm_start = pmb_clock_ns(), win_start = warm_start, win_passes = 0, warm_ns;
	double pass_ns = 0, prev_window_pass_ns = 0;
	for (;;) {
		k->run(&ctx);
		win_passes++;
		uint64_t now = pmb_clock_ns();
		warm_ns = now - warm_start;
		if (now - win_start < window && warm_ns < warm_budget)
			continue;
		prev_window_pass_ns = pass_ns;
		pass_ns = (double)(now - win_start) / (double)win_passes;
		win_start = now;
		win_passes = 0;
		if (*r->interrupted || warm_ns >= 4 * warm_budget)
			break;
		if (warm_ns >= warm_budget && prev_window_pass_ns > 0 &&
		    fabs(pass_ns - prev_window_pass_ns) <= 0.05 * prev_window_pass_ns)
			break;
		if (warm_budget == 0)
			break; /* warm-up off: one pass, for the calibration */
	}
	if (k->check(&ctx) != 0) {
		char size[32];
		pmb_format_size(p->size_bytes, size, sizeof size);
		/* A kernel that allocates as it runs gives a wrong result when
		 * an allocation is refused: that is memory, not a bug.  Probed
		 * here, outside any measurement (counting refusals in the
		 * allocator wrappers changed the simulator's counts). */
		void *probe = malloc(4 * (size_t)p->size_bytes * (size_t)p->threads);
		int no_memory = probe == NULL;
		free(probe);
		if (no_memory)
			snprintf(msg, sizeof msg,
				 "not enough memory for %s/%s at %s on thread %d (allocations "
				 "fail at this size): use smaller --sizes or fewer --threads, or raise the "
				 "memory limit (ulimit -v)",
				 k->family, k->variant, size, w->index);
		else
			snprintf(msg, sizeof msg, "%s/%s gave a wrong result in warm-up (size %s): "
				 "the kernel is broken; run tests (make test)",
				 k->family, k->variant, size);
		record_failure(pr, msg);
	}
	double want = r->opt->min_sample_ms * 1e6 / (pass_ns > 1 ? pass_ns : 1);
	pr->wanted_iters[w->index] = want < 1 ? 1 : (uint64_t)ceil(want);
	pthread_barrier_wait(&pr->barrier);
	if (leader) {
		pr->iters = 1;
		for (int t = 0; t < p->threads; t++)
			if (pr->wanted_iters[t] > pr->iters)
				pr->iters = pr->wanted_iters[t];
	}
	pthread_barrier_wait(&pr->barrier);
	if (pr->failed)
		goto out;

	size_t width = (size_t)p->threads + 1;
	uint64_t sampling_start = pmb_clock_ns();
	for (uint64_t rep = pr->first;;) {
		if (leader && grow_rows(pr) != 0)
			record_failure(pr, pmb_error_message());
		pthread_barrier_wait(&pr->barrier);
		if (pr->failed)
			break;
		struct pmb_sample_row *rows = &pr->acc->rows[rep * width];
		pmb_preempt_start(guard);
		measure(pr, &ctx, cstate, pr->iters, rep, w->index, &rows[w->index]);
		pr->preempted[w->index] = pmb_preempt_stop(guard);
		rows[w->index].core = core;
		int pass = rows[w->index].counter_pass;
		rows[w->index].overhead_ns = pr->overhead_ns[w->index][pass];
		rows[w->index].overhead_ticks = pr->overhead_ticks[w->index][pass];
		pthread_barrier_wait(&pr->barrier);
		if (leader && !(pr->retake = retake_preempted(pr, sampling_start))) {
			aggregate(pr, rows);
			pr->acc->n = rep + 1;
			if (report_rows(pr, rows) != 0)
				record_failure(pr, pmb_error_message());
			pr->stop = enough_samples(pr, sampling_start);
		} else if (leader && *r->interrupted) {
			pr->out->interrupted = 1;
			pr->stop = 1;
		}
		pthread_barrier_wait(&pr->barrier);
		if (pr->stop || pr->failed)
			break;
		if (!pr->retake)
			rep++; /* a retake keeps its rep, and so its counter pass */
	}
out:
	pmb_preempt_close(guard);
	if (have_ctx)
		k->teardown(&ctx);
	if (have_counters)
		r->backend->thread_close(cstate);
	return NULL;
}

int pmb_runner_run_round(const struct pmb_runner *r, const struct pmb_point *p,
			 struct pmb_point_samples *acc, int round, struct pmb_point_outcome *out)
{
	memset(out, 0, sizeof *out);
	if (p->threads > 256 || p->threads > r->topo->ncores)
		return pmb_error("%d threads asked for but only %d cores are usable", p->threads,
				 r->topo->ncores);
	struct point_run pr = {.r = r, .p = p, .out = out, .acc = acc, .first = acc->n,
			       .round = round};
	pthread_mutex_init(&pr.error_lock, NULL);
	pthread_cond_init(&pr.gate_open, NULL);
	pthread_barrier_init(&pr.barrier, NULL, (unsigned)p->threads);
	struct worker workers[256];
	int started = 0, create_error = 0;
	for (int t = 0; t < p->threads; t++) {
		workers[t] = (struct worker){.pr = &pr, .index = t};
		create_error = pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]);
		if (create_error)
			break;
		started++;
	}
	/* The workers wait at the gate until all are started: the barrier
	 * counts all T, so with one missing (a thread or memory limit) the
	 * started ones leave instead of waiting forever. */
	pthread_mutex_lock(&pr.error_lock);
	if (started < p->threads && !pr.failed) {
		char msg[512];
		snprintf(msg, sizeof msg,
			 "cannot start thread %d of %d for %s/%s: %s; lower --threads, or raise "
			 "the limits on processes (ulimit -u) or memory (ulimit -v; each thread "
			 "reserves a stack of ulimit -s)",
			 started + 1, p->threads, p->kernel->family, p->kernel->variant,
			 strerror(create_error));
		snprintf(pr.error, sizeof pr.error, "%s", msg);
		pr.failed = 1;
	}
	pr.gate = 1;
	pthread_cond_broadcast(&pr.gate_open);
	pthread_mutex_unlock(&pr.error_lock);
	for (int t = 0; t < started; t++)
		pthread_join(workers[t].thread, NULL);
	pthread_barrier_destroy(&pr.barrier);
	pthread_cond_destroy(&pr.gate_open);
	pthread_mutex_destroy(&pr.error_lock);

	out->samples = acc->n - pr.first;
	out->discarded = pr.discarded;
	out->overhead_ns = pr.overhead_ns[0][0];
	out->short_samples =
		out->samples && (double)acc->rows[pr.first * ((size_t)p->threads + 1)].ns <
					1000.0 * r->clock_step_ns;
	if (pr.failed)
		return pmb_error("%s", pr.error);
	return 0;
}

void pmb_point_samples_free(struct pmb_point_samples *acc)
{
	free(acc->rows);
	memset(acc, 0, sizeof *acc);
}
