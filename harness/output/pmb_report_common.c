#include "pmb_derived.h"
#include "pmb_report.h"

#include <math.h>

static const char *const metric_names[PMB_METRIC_COUNT] = {
	[PMB_METRIC_NS] = "ns_per_elem",
	[PMB_METRIC_TSC] = "tsc_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_CYCLES] = "cycles_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_INSTRUCTIONS] = "instructions_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_L1D_MISSES] = "l1d_misses_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_L2_MISSES] = "l2_misses_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_LLC_MISSES] = "llc_misses_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_BRANCHES] = "branches_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_BRANCH_MISSES] = "branch_misses_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_PAGE_FAULTS] = "page_faults_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_CONTEXT_SWITCHES] = "context_switches_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_CPU_MIGRATIONS] = "cpu_migrations_per_elem",
	[PMB_METRIC_COUNTER0 + PMB_CTR_TASK_CLOCK_NS] = "task_clock_ns_per_elem",
	[PMB_METRIC_ALLOCS] = "allocs_per_elem",
};

_Static_assert(PMB_METRIC_COUNT - PMB_METRIC_DERIVED0 == PMB_DER_COUNT,
	       "pmb_report.h's derived slots follow pmb_derived.h");

const char *pmb_metric_name(int metric)
{
	if (metric >= PMB_METRIC_DERIVED0 && metric < PMB_METRIC_COUNT)
		return pmb_derived_info[metric - PMB_METRIC_DERIVED0].name;
	return metric >= 0 && metric < PMB_METRIC_COUNT ? metric_names[metric] : "?";
}

const char *pmb_metric_unit(int metric)
{
	if (metric == PMB_METRIC_NS || metric == PMB_METRIC_COUNTER0 + PMB_CTR_TASK_CLOCK_NS)
		return "ns";
	if (metric == PMB_METRIC_TSC)
		return "ticks";
	if (metric == PMB_METRIC_COUNTER0 + PMB_CTR_CYCLES)
		return "cycles";
	if (metric == PMB_METRIC_ALLOCS)
		return "allocs";
	if (metric >= PMB_METRIC_DERIVED0 && metric < PMB_METRIC_COUNT)
		return pmb_derived_info[metric - PMB_METRIC_DERIVED0].unit;
	return "events";
}

double pmb_report_metric_value(const struct pmb_sample_row *row, int metric)
{
	double elems = (double)row->iters * (double)row->point->n_elems;
	if (row->thread < 0)
		elems *= row->point->threads;
	if (elems <= 0)
		return NAN;
	switch (metric) {
	case PMB_METRIC_NS: {
		/* Net of the empty-sample cost, so per-element time does not
		 * carry the clock and counter reads around the sample. */
		double net = (double)row->ns - row->overhead_ns;
		return (net > 0 ? net : 0) / elems;
	}
	case PMB_METRIC_TSC: {
		if (!row->tsc_ticks)
			return NAN; /* no reference counter on this architecture */
		/* Net of the empty sample, as ns_per_elem. */
		double net = (double)row->tsc_ticks - row->overhead_ticks;
		return (net > 0 ? net : 0) / elems;
	}
	case PMB_METRIC_ALLOCS:
		return (double)row->allocs / elems;
	default: {
		if (metric >= PMB_METRIC_DERIVED0)
			return pmb_derived_value(row, metric - PMB_METRIC_DERIVED0);
		int c = metric - PMB_METRIC_COUNTER0;
		if (c < 0 || c >= PMB_CTR_COUNT || !(row->counters.counted & PMB_CTR_MASK(c)))
			return NAN;
		return (double)row->counters.value[c] / elems;
	}
	}
}
