#include "pmb_stats.h"
#include "pmb_kernel.h" /* pmb_kernel_rand: splitmix64, defined once */

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double pmb_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
	if (n == 0)
		return NAN;
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)floor(pos);
	size_t hi = lo + 1 < n ? lo + 1 : lo;
	double frac = pos - (double)lo;
	return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

static double *sorted_copy(const double *x, size_t n)
{
	double *s = malloc((n ? n : 1) * sizeof *s);
	if (!s)
		return NULL;
	memcpy(s, x, n * sizeof *s);
	qsort(s, n, sizeof *s, compare_double);
	return s;
}

double pmb_stats_median(const double *x, size_t n)
{
	if (n == 0)
		return NAN;
	double *s = sorted_copy(x, n);
	if (!s)
		return NAN;
	double m = pmb_stats_quantile_sorted(s, n, 0.5);
	free(s);
	return m;
}

void pmb_stats_summarize(const double *x, size_t n, uint64_t seed, struct pmb_summary *out)
{
	memset(out, 0, sizeof *out);
	out->n = n;
	out->median = out->ci_low = out->ci_high = out->mean = out->mean_ci_low =
		out->mean_ci_high = out->stddev = out->min = out->max = out->mad = out->cv = NAN;
	if (n == 0)
		return;
	double *s = sorted_copy(x, n);
	double *resample = malloc(n * sizeof *resample);
	double *medians = malloc(PMB_STATS_BOOTSTRAP_RESAMPLES * sizeof *medians);
	double *means = malloc(PMB_STATS_BOOTSTRAP_RESAMPLES * sizeof *means);
	if (!s || !resample || !medians || !means)
		goto out;

	out->min = s[0];
	out->max = s[n - 1];
	out->median = pmb_stats_quantile_sorted(s, n, 0.5);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	out->mean = sum / (double)n;
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (s[i] - out->mean) * (s[i] - out->mean);
	out->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
	out->cv = out->mean != 0 ? out->stddev / fabs(out->mean) : NAN;

	for (size_t i = 0; i < n; i++)
		resample[i] = fabs(s[i] - out->median);
	qsort(resample, n, sizeof *resample, compare_double);
	out->mad = pmb_stats_quantile_sorted(resample, n, 0.5);

	double q1 = pmb_stats_quantile_sorted(s, n, 0.25), q3 = pmb_stats_quantile_sorted(s, n, 0.75);
	double iqr = q3 - q1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < q1 - 3 * iqr || s[i] > q3 + 3 * iqr)
			out->outliers_severe++;
		else if (s[i] < q1 - 1.5 * iqr || s[i] > q3 + 1.5 * iqr)
			out->outliers_mild++;
	}

	/* Percentile bootstrap, as criterion reports: resample with
	 * replacement, take the statistic, read the 2.5 and 97.5 percentiles. */
	uint64_t state = seed ^ 0xb0075ull;
	for (int b = 0; b < PMB_STATS_BOOTSTRAP_RESAMPLES; b++) {
		double rs = 0;
		for (size_t i = 0; i < n; i++) {
			resample[i] = s[pmb_kernel_rand(&state) % n];
			rs += resample[i];
		}
		qsort(resample, n, sizeof *resample, compare_double);
		medians[b] = pmb_stats_quantile_sorted(resample, n, 0.5);
		means[b] = rs / (double)n;
	}
	qsort(medians, PMB_STATS_BOOTSTRAP_RESAMPLES, sizeof *medians, compare_double);
	qsort(means, PMB_STATS_BOOTSTRAP_RESAMPLES, sizeof *means, compare_double);
	out->ci_low = pmb_stats_quantile_sorted(medians, PMB_STATS_BOOTSTRAP_RESAMPLES, 0.025);
	out->ci_high = pmb_stats_quantile_sorted(medians, PMB_STATS_BOOTSTRAP_RESAMPLES, 0.975);
	out->mean_ci_low = pmb_stats_quantile_sorted(means, PMB_STATS_BOOTSTRAP_RESAMPLES, 0.025);
	out->mean_ci_high = pmb_stats_quantile_sorted(means, PMB_STATS_BOOTSTRAP_RESAMPLES, 0.975);
out:
	free(s);
	free(resample);
	free(medians);
	free(means);
}

double pmb_stats_median_ci_rel_halfwidth(const double *x, size_t n)
{
	if (n < 6)
		return INFINITY;
	double *s = sorted_copy(x, n);
	if (!s)
		return INFINITY;
	/* Ranks n/2 -+ 1.96 sqrt(n)/2 bound the median with ~95 % coverage
	 * whatever the distribution. */
	double half = 1.96 * sqrt((double)n) / 2.0;
	long lo = (long)floor((double)n / 2.0 - half);
	long hi = (long)ceil((double)n / 2.0 + half);
	if (lo < 0)
		lo = 0;
	if (hi > (long)n - 1)
		hi = (long)n - 1;
	double med = pmb_stats_quantile_sorted(s, n, 0.5);
	double rel = med != 0 ? (s[hi] - s[lo]) / 2.0 / fabs(med) : INFINITY;
	free(s);
	return rel;
}
