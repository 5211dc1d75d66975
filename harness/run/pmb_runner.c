#define _GNU_SOURCE
#include "pmb_runner.h"
#include "pmb_alloc_count.h"
#include "pmb_clock.h"
#include "pmb_error.h"
#include "pmb_parse.h"
#include "pmb_preempt.h"
#include "pmb_runner_impl.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVERHEAD_SAMPLES 11

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
	size_t width = (size_t)pr->p->threads + 1;
	if (pr->nsamples < pr->rows_cap)
		return 0;
	size_t cap = pr->rows_cap ? pr->rows_cap * 2 : 64;
	struct pmb_sample_row *rows = realloc(pr->rows, cap * width * sizeof *rows);
	if (!rows)
		return pmb_error("out of memory for samples");
	pr->rows = rows;
	pr->rows_cap = cap;
	return 0;
}




/* What one worker holds for the round. */
struct worker_state {
	struct pmb_kernel_ctx ctx;
	void *cstate;
	struct pmb_preempt *guard;
	int core, have_ctx, have_counters;
};

/* Pin, open the counters and the preemption guard, set up the kernel's
 * data (after pinning: first touch).  Failures are recorded in pr. */
static void worker_setup(struct worker *w, struct worker_state *ws)
{
	struct point_run *pr = w->pr;
	const struct pmb_runner *r = pr->r;
	const struct pmb_kernel *k = pr->p->kernel;
	if (pmb_topology_pin_thread(ws->core) != 0) {
		record_failure(pr, pmb_error_message());
	} else if (r->backend->thread_open(r->counters, &ws->cstate) != 0) {
		record_failure(pr, pmb_error_message());
	} else if (r->preempt_guard && !(ws->guard = pmb_preempt_open())) {
		r->backend->thread_close(ws->cstate);
		record_failure(pr, pmb_error_message());
	} else {
		ws->have_counters = 1;
		if (k->setup(&ws->ctx) != 0) {
			char size[32], msg[512];
			snprintf(msg, sizeof msg,
				 "not enough memory for %s/%s at %s on thread %d: use smaller --sizes "
				 "or fewer --threads, or raise the memory limit (ulimit -v)",
				 k->family, k->variant,
				 pmb_format_size(pr->p->size_bytes, size, sizeof size), w->index);
			record_failure(pr, msg);
		} else {
			ws->have_ctx = 1;
			if (w->index == 0 && pr->round == 0)
				snprintf(pr->note, sizeof pr->note, "%s", ws->ctx.note);
		}
	}
}

/* Cost of an empty sample (clocks + counter start/stop) in each pass,
 * to subtract from this worker's samples of that pass. */
static void measure_overheads(struct point_run *pr, struct worker_state *ws, int index)
{
	int npasses = pr->r->counters->npasses;
	for (int pass = 0; pass < npasses; pass++) {
		double empty[OVERHEAD_SAMPLES], empty_ticks[OVERHEAD_SAMPLES];
		struct pmb_sample_row scratch;
		for (int i = 0; i < OVERHEAD_SAMPLES; i++) {
			/* rep % npasses == pass selects the pass. */
			measure(pr, &ws->ctx, ws->cstate, 0, (uint64_t)(i * npasses + pass), index,
				&scratch);
			empty[i] = (double)scratch.ns;
			empty_ticks[i] = (double)scratch.tsc_ticks;
		}
		qsort(empty, OVERHEAD_SAMPLES, sizeof empty[0], compare_double);
		qsort(empty_ticks, OVERHEAD_SAMPLES, sizeof empty_ticks[0], compare_double);
		pr->overhead_ns[index][pass] = empty[OVERHEAD_SAMPLES / 2];
		pr->overhead_ticks[index][pass] = empty_ticks[OVERHEAD_SAMPLES / 2];
	}
}

/* Warm-up: caches, TLB, branch predictors and frequency settle.  It runs
 * at least warmup_ms, then until two consecutive windows of a quarter of
 * that agree on the time per pass within 5 % (the timing has settled), or
 * 4 x warmup_ms at most.  Returns the last window's time per pass, which
 * sets how many passes make one sample long enough. */
static double warm_up(const struct pmb_runner *r, const struct pmb_kernel *k,
		      struct pmb_kernel_ctx *ctx)
{
	uint64_t warm_budget = (uint64_t)(r->opt->warmup_ms * 1e6);
	uint64_t window = warm_budget / 4;
	uint64_t warm_start = pmb_clock_ns(), win_start = warm_start, win_passes = 0, warm_ns;
	double pass_ns = 0, prev_window_pass_ns = 0;
	for (;;) {
		k->run(ctx);
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
	return pass_ns;
}

/* After the warm-up, a wrong result: memory (an allocation refused) or a
 * broken kernel; recorded in pr. */
static void check_warm_result(struct point_run *pr, int index)
{
	const struct pmb_point *p = pr->p;
	const struct pmb_kernel *k = p->kernel;
	char size[32], msg[512];
	pmb_format_size(p->size_bytes, size, sizeof size);
	/* A kernel that allocates as it runs gives a wrong result when an
	 * allocation is refused: that is memory, not a bug.  Probed here,
	 * outside any measurement (counting refusals in the allocator
	 * wrappers changed the simulator's counts). */
	void *probe = malloc(4 * (size_t)p->size_bytes * (size_t)p->threads);
	int no_memory = probe == NULL;
	free(probe);
	if (no_memory)
		snprintf(msg, sizeof msg,
			 "not enough memory for %s/%s at %s on thread %d (allocations fail at this "
			 "size): use smaller --sizes or fewer --threads, or raise the memory limit "
			 "(ulimit -v)",
			 k->family, k->variant, size, index);
	else
		snprintf(msg, sizeof msg, "%s/%s gave a wrong result in warm-up (size %s): the "
			 "kernel is broken; run tests (make test)",
			 k->family, k->variant, size);
	record_failure(pr, msg);
}

/* The samples of the round, in lock-step; worker 0 keeps or discards
 * each, reports it and decides when to stop. */
static void sample_loop(struct point_run *pr, struct worker_state *ws, int index)
{
	const struct pmb_runner *r = pr->r;
	int leader = index == 0;
	size_t width = (size_t)pr->p->threads + 1;
	uint64_t sampling_start = pmb_clock_ns();
	for (uint64_t rep = pr->first;;) {
		if (leader && grow_rows(pr) != 0)
			record_failure(pr, pmb_error_message());
		pthread_barrier_wait(&pr->barrier);
		if (pr->failed)
			break;
		struct pmb_sample_row *rows = &pr->rows[rep * width];
		pmb_preempt_start(ws->guard);
		measure(pr, &ws->ctx, ws->cstate, pr->iters, rep, index, &rows[index]);
		pr->preempted[index] = pmb_preempt_stop(ws->guard);
		rows[index].core = ws->core;
		int pass = rows[index].counter_pass;
		rows[index].overhead_ns = pr->overhead_ns[index][pass];
		rows[index].overhead_ticks = pr->overhead_ticks[index][pass];
		pthread_barrier_wait(&pr->barrier);
		if (leader && !(pr->retake = pmb_runner_retake_preempted(pr, sampling_start))) {
			aggregate(pr, rows);
			pr->nsamples = rep + 1;
			if (report_rows(pr, rows) != 0)
				record_failure(pr, pmb_error_message());
			pr->stop = pmb_runner_enough_samples(pr, sampling_start);
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
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct point_run *pr = w->pr;
	const struct pmb_runner *r = pr->r;
	const struct pmb_point *p = pr->p;
	struct worker_state ws = {.core = pmb_plan_core_for(r->opt, r->topo, w->index),
				  .ctx = {.n = p->n_elems, .seed = r->opt->seed, .thread = w->index,
					  .line_size = r->topo->cache[0].line_size}};

	pthread_mutex_lock(&pr->error_lock);
	while (!pr->gate)
		pthread_cond_wait(&pr->gate_open, &pr->error_lock);
	int give_up = pr->failed;
	pthread_mutex_unlock(&pr->error_lock);
	if (give_up)
		return NULL;

	worker_setup(w, &ws);
	pthread_barrier_wait(&pr->barrier);
	if (!pr->failed) {
		measure_overheads(pr, &ws, w->index);
		double pass_ns = warm_up(r, p->kernel, &ws.ctx);
		if (p->kernel->check(&ws.ctx) != 0)
			check_warm_result(pr, w->index);
		double want = r->opt->min_sample_ms * 1e6 / (pass_ns > 1 ? pass_ns : 1);
		pr->wanted_iters[w->index] = want < 1 ? 1 : (uint64_t)ceil(want);
		pthread_barrier_wait(&pr->barrier);
		if (w->index == 0) {
			pr->iters = 1;
			for (int t = 0; t < p->threads; t++)
				if (pr->wanted_iters[t] > pr->iters)
					pr->iters = pr->wanted_iters[t];
		}
		pthread_barrier_wait(&pr->barrier);
		if (!pr->failed)
			sample_loop(pr, &ws, w->index);
	}
	pmb_preempt_close(ws.guard);
	if (ws.have_ctx)
		p->kernel->teardown(&ws.ctx);
	if (ws.have_counters)
		r->backend->thread_close(ws.cstate);
	return NULL;
}

int pmb_runner_run_round(const struct pmb_runner *r, const struct pmb_point *p,
			 struct pmb_point_samples *acc, int round, struct pmb_point_outcome *out)
{
	memset(out, 0, sizeof *out);
	if (p->threads > 256 || p->threads > r->topo->ncores)
		return pmb_error("%d threads asked for but only %d cores are usable", p->threads,
				 r->topo->ncores);
	struct point_run pr = {.r = r, .p = p, .out = out, .rows = acc->rows,
			       .rows_cap = acc->cap, .nsamples = acc->n, .first = acc->n,
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

	/* The round's rows and counts go back to the point's. */
	acc->rows = pr.rows;
	acc->cap = pr.rows_cap;
	acc->n = pr.nsamples;
	acc->discarded += pr.discarded;
	for (int t = 0; t < p->threads; t++)
		acc->discarded_by[t] += pr.discarded_by[t];
	if (round == 0)
		snprintf(acc->note, sizeof acc->note, "%s", pr.note);
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
