/* pmb_sweep.c — the points of a plan, round by round (pmb_sweep.h), and
 * each point's summary from all its samples. */
#include "pmb_sweep.h"
#include "pmb_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The summary rows of one point, every thread and the aggregate, from
 * all its rounds' samples; *valid = every sample passed its check. */
static int summarize(const struct pmb_runner *r, const struct pmb_point *p,
		     const struct pmb_point_samples *acc, int *valid)
{
	int T = p->threads;
	size_t width = (size_t)T + 1;
	double *v = malloc((acc->n ? acc->n : 1) * sizeof *v);
	struct pmb_point_summary *s = malloc(sizeof *s);
	if (!v || !s) {
		free(v);
		free(s);
		return pmb_error("out of memory");
	}
	int rc = 0;
	for (int t = 0; t <= T && rc == 0; t++) {
		if (t == T && T == 1)
			break; /* the aggregate of one thread is that thread */
		memset(s, 0, sizeof *s);
		s->point = p;
		s->thread = t == T ? -1 : t;
		s->valid = 1;
		s->overhead_ns = acc->rows[t].overhead_ns;
		/* A thread's row: the discarded samples in which it was
		 * switched out or migrated; the group row: all of them. */
		s->discarded = t == T || T == 1 ? acc->discarded : acc->discarded_by[t];
		snprintf(s->note, sizeof s->note, "%s", acc->note);
		for (int m = 0; m < PMB_METRIC_COUNT; m++) {
			size_t n = 0;
			for (uint64_t i = 0; i < acc->n; i++) {
				const struct pmb_sample_row *row = &acc->rows[i * width + (size_t)t];
				if (m == 0)
					s->valid &= row->valid;
				double x = pmb_report_metric_value(row, m);
				if (!isnan(x))
					v[n++] = x;
			}
			pmb_stats_summarize(v, n, r->opt->seed + (uint64_t)m, &s->metric[m]);
		}
		for (size_t i = 0; i < r->nreporters && rc == 0; i++)
			rc = r->reporters[i].point(r->reporters[i].self, r->run, s);
		if (t == 0)
			*valid = s->valid;
	}
	free(v);
	free(s);
	return rc;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One round over the points not done, in this round's order. */
static int run_round(const struct pmb_runner *r, struct pmb_plan *plan, size_t *order,
		     struct pmb_point_samples *acc, int round, double *overheads,
		     size_t *noverheads, struct pmb_sweep_outcome *o)
{
	uint64_t rounds = r->opt->rounds;
	size_t m = 0;
	for (size_t i = 0; i < plan->npoints; i++)
		if (!plan->points[i].done)
			order[m++] = i;
	/* Round 0 keeps the plan's order (already shuffled with
	 * --interleave); each later round draws its own. */
	if (round > 0 && r->opt->interleave)
		pmb_plan_shuffle(order, m, sizeof order[0], r->opt->seed * 1000003u + (uint64_t)round);
	if (rounds > 1 && !r->opt->quiet)
		pmb_note("round %d of %llu: %zu points", round + 1, (unsigned long long)rounds, m);
	int rc = 0;
	for (size_t k = 0; k < m && rc == 0 && !*r->interrupted; k++) {
		const struct pmb_point *p = &plan->points[order[k]];
		struct pmb_point_samples *a = &acc[order[k]];
		struct pmb_point_outcome out;
		rc = pmb_runner_run_round(r, p, a, round, &out);
		o->discarded += out.discarded;
		if (out.samples)
			overheads[(*noverheads)++] = out.overhead_ns;
		if (out.short_samples && !o->short_warned) {
			pmb_warn("some samples were shorter than 1000x the clock step (%.0f ns); "
				 "raise --min-sample-ms",
				 r->clock_step_ns);
			o->short_warned = 1;
		}
		/* After its last round (even one cut short by a signal, as a
		 * single-round point always was), the point's summary. */
		if (rc == 0 && (uint64_t)round == rounds - 1 && a->n > 0) {
			int valid = 1;
			rc = summarize(r, p, a, &valid);
			if (rc == 0) {
				o->points_done++;
				o->invalid += !valid;
			}
		}
		if ((uint64_t)round == rounds - 1 || rc != 0)
			pmb_point_samples_free(a);
	}
	return rc;
}

int pmb_sweep_run(const struct pmb_runner *r, struct pmb_plan *plan, struct pmb_sweep_outcome *o)
{
	memset(o, 0, sizeof *o);
	o->overhead_ns = NAN;
	uint64_t rounds = r->opt->rounds ? r->opt->rounds : 1;
	size_t n = plan->npoints;
	size_t *order = malloc((n + 1) * sizeof *order);
	struct pmb_point_samples *acc = calloc(n + 1, sizeof *acc);
	double *overheads = malloc((n * rounds + 1) * sizeof *overheads);
	size_t noverheads = 0;
	int rc = !order || !acc || !overheads ? pmb_error("out of memory for the plan") : 0;
	for (uint64_t round = 0; rc == 0 && round < rounds && !*r->interrupted; round++)
		rc = run_round(r, plan, order, acc, (int)round, overheads, &noverheads, o);
	if (noverheads) {
		qsort(overheads, noverheads, sizeof overheads[0], compare_double);
		o->overhead_ns = overheads[noverheads / 2];
	}
	for (size_t i = 0; acc && i < n; i++)
		pmb_point_samples_free(&acc[i]);
	free(order);
	free(acc);
	free(overheads);
	return rc;
}
