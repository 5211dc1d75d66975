/* pmb_stats.h — per-point summary statistics (criterion's set: median with
 * a bootstrap 95 % CI, mean, spread, Tukey outliers). */
#ifndef PMB_STATS_H
#define PMB_STATS_H

#include <stddef.h>
#include <stdint.h>

#define PMB_STATS_BOOTSTRAP_RESAMPLES 2000

struct pmb_summary {
	size_t n;
	double median, ci_low, ci_high; /* 95 % percentile-bootstrap CI of the median */
	double mean, mean_ci_low, mean_ci_high;
	double stddev, min, max;
	double mad;          /* median absolute deviation (unscaled) */
	double cv;           /* stddev / mean */
	size_t outliers_mild, outliers_severe; /* Tukey fences 1.5 and 3 IQR */
};

/* Summarises x[0..n) (not modified).  The bootstrap is seeded, so the same
 * data gives the same CI.  n == 0 leaves everything NaN. */
void pmb_stats_summarize(const double *x, size_t n, uint64_t seed, struct pmb_summary *out);

/* Median of x[0..n) (copies; x not modified). */
double pmb_stats_median(const double *x, size_t n);

/* Linear-interpolated quantile q in [0,1] of sorted[0..n). */
double pmb_stats_quantile_sorted(const double *sorted, size_t n, double q);

/* Relative half-width of a distribution-free 95 % CI of the median (order
 * statistics, binomial ranks).  Cheap enough to evaluate after every sample
 * for the stopping rule; returns +inf when n is too small (< 6). */
double pmb_stats_median_ci_rel_halfwidth(const double *x, size_t n);

#endif
