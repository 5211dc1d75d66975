/* pmb_runner_stop.c — when a round of a point has enough samples, and
 * which samples are discarded for preemption and taken again. */
#include "pmb_runner_impl.h"
#include "pmb_clock.h"
#include "pmb_error.h"
#include "pmb_parse.h"

#include <stdlib.h>

/* A round's share of a per-point budget: ceil(n / rounds), at least 1. */
static uint64_t share(uint64_t n, uint64_t rounds)
{
	uint64_t s = (n + rounds - 1) / rounds;
	return s ? s : 1;
}

/* Leader only: should sampling stop after this sample?  Each round is
 * a point of its own with 1/rounds of the budget: samples, time and the
 * CI target all apply to the round's samples. */
int pmb_runner_enough_samples(struct point_run *pr, uint64_t sampling_start_ns)
{
	const struct pmb_options *opt = pr->r->opt;
	if (*pr->r->interrupted) {
		pr->out->interrupted = 1;
		return 1;
	}
	uint64_t n = pr->nsamples - pr->first;
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
		v[s] = pmb_report_metric_value(&pr->rows[(pr->first + s) * width + (size_t)col],
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
int pmb_runner_retake_preempted(struct point_run *pr, uint64_t sampling_start_ns)
{
	const struct pmb_options *opt = pr->r->opt;
	uint64_t switched = 0;
	for (int t = 0; t < pr->p->threads; t++)
		switched += pr->preempted[t];
	if (!switched || pr->guard_spent)
		return 0;
	double elapsed = (double)(pmb_clock_ns() - sampling_start_ns) / 1e9;
	uint64_t kept = pr->nsamples - pr->first, min = share(opt->min_samples, opt->rounds);
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
	for (int t = 0; t < pr->p->threads; t++)
		pr->discarded_by[t] += pr->preempted[t] != 0;
	return 1;
}
