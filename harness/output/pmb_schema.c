/* pmb_schema.c — the column and metric tables (see pmb_schema.h) and the
 * one function that turns a row into cells.  The fixed columns are listed
 * once below; counter columns and per-element metrics are generated from
 * pmb_counter_info, so a new counter needs no edit here. */
#include "pmb_schema.h"
#include "pmb_schema_impl.h"
#include "pmb_derived.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>


#define BOTH (PMB_IN_RAW | PMB_IN_SUMMARY)
#define RAW PMB_IN_RAW
#define SUM PMB_IN_SUMMARY
#define S PMB_TYPE_STRING
#define I PMB_TYPE_INT
#define D PMB_TYPE_FLOAT
#define N PMB_NORM_NONE
#define ST PMB_NORM_STAT
#define P_RUN PMB_PROV_RUN
#define P_STATS PMB_PROV_STATS

/* The columns, in file order (raw and summary interleaved; `in` says
 * which file has which). */
static const struct pmb_column fixed[] = {
	{"run_id", S, "", N, P_RUN, BOTH, F_RUN_ID, 0, "run directory name: <config>-<host>-<UTC time>"},
	{"flagset", S, "", N, P_RUN, BOTH, F_FLAGSET, 0, "compiler flag set of the binary (--flagset)"},
	{"compiler", S, "", N, P_RUN, BOTH, F_COMPILER, 0, "compiler that built the binary"},
	{"cflags", S, "", N, P_RUN, BOTH, F_CFLAGS, 0, "flags the kernels were built with"},
	{"kernel", S, "", N, P_RUN, BOTH, F_KERNEL, 0, "kernel family"},
	{"variant", S, "", N, P_RUN, BOTH, F_VARIANT, 0, "kernel variant"},
	{"size_bytes", I, "bytes", N, P_RUN, BOTH, F_SIZE, 0, "working-set size per thread"},
	{"n_elems", I, "elements", N, P_RUN, BOTH, F_NELEMS, 0, "elements per pass, per thread"},
	{"cache_level", S, "", N, P_RUN, BOTH, F_LEVEL, 0, "smallest level the working set fits: L1, L2, L3 or DRAM"},
	{"threads", I, "threads", N, P_RUN, BOTH, F_THREADS, 0, "threads of the point, each pinned to its own core"},
	{"thread", I, "", N, P_RUN, BOTH, F_THREAD, 0, "thread index 0..threads-1; -1 on the aggregate row of a multi-thread sample"},
	{"core", I, "", N, P_RUN, RAW, F_CORE, 0, "OS index of the PU the thread ran on; -1 on the aggregate row"},
	{"rep", I, "", N, P_RUN, RAW, F_REP, 0, "sample index within the point"},
	{"round", I, "", N, P_RUN, RAW, F_ROUND, 0, "round 0..rounds-1 of the sample (--rounds): the visit of the point it belongs to"},
	{"iters", I, "passes", N, P_RUN, RAW, F_ITERS, 0, "passes over the working set in this sample"},
	{"ns", I, "ns", N, PMB_PROV_CLOCK, RAW, F_NS, 0, "wall time of the sample (aggregate: the slowest thread)"},
	{"tsc_ticks", I, "ticks", N, PMB_PROV_CLOCK, RAW, F_TICKS, 0, "reference ticks of the sample (aggregate: the slowest thread); empty without a tick counter"},
	{"overhead_ns", D, "ns", N, PMB_PROV_CLOCK, RAW, F_OVH_NS, 0, "cost of an empty sample on this thread, subtracted in *_per_elem (aggregate: the largest)"},
	{"overhead_ticks", D, "ticks", N, PMB_PROV_CLOCK, RAW, F_OVH_TICKS, 0, "overhead_ns in reference ticks"},
	{NULL, 0, NULL, 0, 0, RAW, F_COUNTERS_HERE, 0, NULL},
	{"allocs", I, "allocs", N, PMB_PROV_ALLOCATOR, RAW, F_ALLOCS, 0, "heap allocations in the sample (aggregate: sum over threads)"},
	{NULL, 0, NULL, 0, 0, RAW, F_METRICS_HERE, 0, NULL},
	{"counter_pass", I, "", N, PMB_PROV_COUNTER, RAW, F_PASS, 0, "counter pass of this sample (meta.json counters.<name>.pass)"},
	{"metric", S, "", N, P_STATS, SUM, F_METRIC, 0, "metric summarised in this row (schema metrics)"},
	{"unit", S, "", N, P_STATS, SUM, F_UNIT, 0, "unit of the metric"},
	{"normalisation", S, "", N, P_STATS, SUM, F_NORM, 0, "per_elem or group_elem (schema normalisations)"},
	{"samples", I, "samples", N, P_STATS, SUM, F_SAMPLES, 0, "samples with a value (0: not counted, statistics empty)"},
	{"discarded", I, "samples", N, P_STATS, SUM, F_DISCARDED, 0, "samples discarded for a context switch or CPU migration and retaken (thread row: those this thread was preempted in; group row: all of the point's)"},
	{"median", D, "", ST, P_STATS, SUM, F_STAT, S_MEDIAN, "median over samples"},
	{"ci_low", D, "", ST, P_STATS, SUM, F_STAT, S_CI_LOW, "95 % bootstrap CI of the median, low end"},
	{"ci_high", D, "", ST, P_STATS, SUM, F_STAT, S_CI_HIGH, "95 % bootstrap CI of the median, high end"},
	{"mean", D, "", ST, P_STATS, SUM, F_STAT, S_MEAN, "mean"},
	{"stddev", D, "", ST, P_STATS, SUM, F_STAT, S_STDDEV, "standard deviation"},
	{"min", D, "", ST, P_STATS, SUM, F_STAT, S_MIN, "minimum"},
	{"max", D, "", ST, P_STATS, SUM, F_STAT, S_MAX, "maximum"},
	{"mad", D, "", ST, P_STATS, SUM, F_STAT, S_MAD, "median absolute deviation (unscaled)"},
	{"cv", D, "", ST, P_STATS, SUM, F_STAT, S_CV, "stddev / mean"},
	{"outliers", I, "samples", N, P_STATS, SUM, F_OUTLIERS, 0, "samples outside Tukey's 1.5 IQR fences"},
	{"source", S, "", N, P_STATS, SUM, F_SOURCE, 0, "where the metric's numbers came from: clock, papi, perf_event_open, simulator, allocator; empty when not counted"},
	{"event", S, "", N, P_STATS, SUM, F_EVENT, 0, "the event or clock read (e.g. PAPI_TOT_CYC); empty when not counted"},
	{"valid", I, "", N, P_RUN, BOTH, F_VALID, 0, "1 when every sample's result check passed"},
};

#define COLS_MAX 64 /* 54 raw columns built in + 2 per user event (PMB_CTR_USER_MAX 3) */
#define HEADER_MAX 2048
static struct pmb_metric_def metrics[PMB_METRIC_COUNT]; /* name NULL: no such metric here */
static struct pmb_column raw_cols[COLS_MAX], sum_cols[COLS_MAX];
static size_t nraw, nsum;
static char raw_header[HEADER_MAX], sum_header[HEADER_MAX];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* What the row writers read per cell, kept to a few cache lines: rows are
 * written between samples, and under the simulator (whose caches persist
 * across samples) a writer that walks kilobytes of tables would show up
 * as misses in the next sample. */
static struct pmb_schema_cell raw_cells[COLS_MAX], sum_cells[COLS_MAX];
struct metric_calc {
	unsigned char src, norm, scope;
	signed char counter;
};
static struct metric_calc calc[PMB_METRIC_COUNT];

/* Generated names and texts live here, once. */
static char pool[16384];
static size_t pool_used;

static const char *keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *keep(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = pool + pool_used;
	int n = vsnprintf(p, sizeof pool - pool_used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof pool - pool_used)
		return "?"; /* the pool is sized for the tables; never reached */
	pool_used += (size_t)n + 1;
	return p;
}

static void set_metric(int m, const char *name, const char *unit, enum pmb_norm norm,
		       enum pmb_scope scope, enum pmb_prov prov, enum pmb_msrc src, int counter,
		       const char *formula, const char *description)
{
	struct pmb_metric_def *d = &metrics[m];
	d->name = keep("%s", name);
	d->unit = keep("%s", unit);
	d->norm = norm;
	d->scope = scope;
	d->prov = prov;
	d->src = src;
	d->counter = counter;
	d->formula = keep("%s", formula);
	d->description = keep("%s", description);
	calc[m] = (struct metric_calc){(unsigned char)src, (unsigned char)norm,
				       (unsigned char)scope, (signed char)counter};
}

static void build_metrics(void)
{
	set_metric(PMB_METRIC_NS, "ns_per_elem", "ns/elem", PMB_NORM_PER_ELEM, PMB_SCOPE_ALL,
		   PMB_PROV_CLOCK, PMB_MSRC_NS, -1, "max(ns - overhead_ns, 0) / (iters * n_elems)",
		   "wall time per element of one thread's work; on the aggregate row the group's "
		   "wall time (slowest thread), so it compares with a 1-thread run");
	set_metric(PMB_METRIC_TSC, "tsc_per_elem", "ticks/elem", PMB_NORM_PER_ELEM,
		   PMB_SCOPE_ALL, PMB_PROV_CLOCK, PMB_MSRC_TICKS, -1,
		   "max(tsc_ticks - overhead_ticks, 0) / (iters * n_elems)",
		   "ns_per_elem in reference ticks");
	set_metric(PMB_METRIC_GROUP_NS, "group_ns_per_elem", "ns/elem", PMB_NORM_GROUP_ELEM,
		   PMB_SCOPE_GROUP, PMB_PROV_CLOCK, PMB_MSRC_NS, -1,
		   "max(ns - overhead_ns, 0) / (iters * n_elems * threads)",
		   "group wall time per element processed by all threads together (inverse "
		   "throughput); group row only; equals ns_per_elem when threads = 1");
	set_metric(PMB_METRIC_GROUP_TSC, "group_tsc_per_elem", "ticks/elem", PMB_NORM_GROUP_ELEM,
		   PMB_SCOPE_GROUP, PMB_PROV_CLOCK, PMB_MSRC_TICKS, -1,
		   "max(tsc_ticks - overhead_ticks, 0) / (iters * n_elems * threads)",
		   "group_ns_per_elem in reference ticks");
	/* Unused user slots get no entry; their calc never counts. */
	for (int m = PMB_METRIC_USER0; m < PMB_METRIC_COUNT; m++)
		calc[m] = (struct metric_calc){(unsigned char)PMB_MSRC_NONE, 0, 0, -1};
	for (int c = 0; c < pmb_counter_n(); c++) {
		const struct pmb_counter_info *ci = &pmb_counter_info[c];
		char name[80], unit[32], formula[200], desc[200];
		snprintf(name, sizeof name, "%s_per_elem", ci->column);
		snprintf(unit, sizeof unit, "%s/elem", ci->unit ? ci->unit : "events");
		snprintf(formula, sizeof formula, "%s / (iters * n_elems * k), k = threads on the "
			 "aggregate row, else 1", ci->column);
		snprintf(desc, sizeof desc, "%s per element (aggregate: summed over threads and "
			 "divided by all their elements)", ci->description);
		set_metric(pmb_metric_of_counter(c), name, unit, PMB_NORM_PER_ELEM, PMB_SCOPE_ALL,
			   PMB_PROV_COUNTER, PMB_MSRC_COUNTER, c, formula, desc);
	}
	set_metric(PMB_METRIC_ALLOCS, "allocs_per_elem", "allocs/elem", PMB_NORM_PER_ELEM,
		   PMB_SCOPE_ALL, PMB_PROV_ALLOCATOR, PMB_MSRC_ALLOCS, -1,
		   "allocs / (iters * n_elems * k), k = threads on the aggregate row, else 1",
		   "heap allocations per element");
	/* Derived metrics (pmb_derived.c): ratios within one sample.  The
	 * bytes per element are the kernel's declaration, not a measurement:
	 * provenance "run", like the rest of the plan. */
	for (int d = 0; d < PMB_DER_COUNT; d++)
		set_metric(PMB_METRIC_DERIVED0 + d, pmb_derived_info[d].name, pmb_derived_info[d].unit,
			   PMB_NORM_NONE, PMB_SCOPE_ALL,
			   d == PMB_DER_BYTES_PER_ELEM ? PMB_PROV_RUN : PMB_PROV_DERIVED,
			   PMB_MSRC_DERIVED, d,
			   pmb_derived_info[d].formula, pmb_derived_info[d].description);
}

static void add_column(struct pmb_column *col, const char *name, enum pmb_type type,
		       const char *unit, enum pmb_norm norm, enum pmb_prov prov, unsigned in,
		       int field, int arg, const char *description)
{
	col->name = keep("%s", name);
	col->type = type;
	col->unit = keep("%s", unit);
	col->norm = norm;
	col->prov = prov;
	col->in = in;
	col->field = field;
	col->arg = arg;
	col->description = keep("%s", description);
}

static void push(unsigned file, const char *name, enum pmb_type type, const char *unit,
		 enum pmb_norm norm, enum pmb_prov prov, unsigned in, int field, int arg,
		 const char *description)
{
	struct pmb_column *cols = file == PMB_IN_RAW ? raw_cols : sum_cols;
	struct pmb_schema_cell *cells = file == PMB_IN_RAW ? raw_cells : sum_cells;
	size_t *n = file == PMB_IN_RAW ? &nraw : &nsum;
	if (*n == COLS_MAX)
		return; /* PMB_CTR_USER_MAX bounds what the counters add */
	cells[*n] = (struct pmb_schema_cell){(unsigned char)field, (signed char)arg};
	add_column(&cols[(*n)++], name, type, unit, norm, prov, in, field, arg, description);
}

static void build_columns(unsigned file)
{
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		const struct pmb_column *x = &fixed[i];
		if (!(x->in & file))
			continue;
		if (x->field == F_COUNTERS_HERE) {
			for (int c = 0; c < pmb_counter_n(); c++) {
				char desc[200];
				const struct pmb_counter_info *ci = &pmb_counter_info[c];
				snprintf(desc, sizeof desc, "%s in the sample (aggregate: sum over "
					 "threads); empty when not counted, never 0",
					 ci->description);
				push(file, ci->column, PMB_TYPE_INT, ci->unit ? ci->unit : "events",
				     PMB_NORM_NONE, PMB_PROV_COUNTER, RAW, F_COUNTER, c, desc);
			}
		} else if (x->field == F_METRICS_HERE) {
			for (int m = 0; m < PMB_METRIC_COUNT; m++) {
				const struct pmb_metric_def *d = &metrics[m];
				char desc[320];
				if (!d->name)
					continue;
				snprintf(desc, sizeof desc, "%s = %s%s", d->name, d->formula,
					 d->scope == PMB_SCOPE_GROUP ? " (group row only)" : "");
				push(file, d->name, PMB_TYPE_FLOAT, d->unit, d->norm,
				     PMB_PROV_DERIVED, RAW, F_METRIC_VALUE, m, desc);
			}
		} else {
			push(file, x->name, x->type, x->unit, x->norm, x->prov, x->in, x->field,
			     x->arg, x->description);
		}
	}
	/* Called inside pthread_once: no public accessor here. */
	char *h = file == PMB_IN_RAW ? raw_header : sum_header;
	const struct pmb_column *cols = file == PMB_IN_RAW ? raw_cols : sum_cols;
	size_t len = 0, n = file == PMB_IN_RAW ? nraw : nsum;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(h + len, HEADER_MAX - len, "%s%s", i ? "," : "", cols[i].name);
	snprintf(h + len, HEADER_MAX - len, "\n");
}

static void build(void)
{
	build_metrics();
	build_columns(PMB_IN_RAW);
	build_columns(PMB_IN_SUMMARY);
}

/* Names of the fixed columns and the built-in metrics, without building
 * the tables (user events are checked against them before the build). */
int pmb_schema_name_reserved(const char *name)
{
	static const char *const time_metrics[] = {"ns_per_elem", "tsc_per_elem",
						   "group_ns_per_elem", "group_tsc_per_elem",
						   "allocs_per_elem"};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (fixed[i].name && !strcmp(fixed[i].name, name))
			return 1;
	for (size_t i = 0; i < sizeof time_metrics / sizeof time_metrics[0]; i++)
		if (!strcmp(time_metrics[i], name))
			return 1;
	for (int c = 0; c < PMB_CTR_COUNT; c++) {
		size_t n = strlen(pmb_counter_info[c].column);
		if (!strncmp(pmb_counter_info[c].column, name, n) &&
		    (!name[n] || !strcmp(name + n, "_per_elem")))
			return 1;
	}
	for (int d = 0; d < PMB_DER_COUNT; d++)
		if (!strcmp(pmb_derived_info[d].name, name))
			return 1;
	return 0;
}

const struct pmb_metric_def *pmb_schema_metric(int metric)
{
	pthread_once(&once, build);
	return metric >= 0 && metric < PMB_METRIC_COUNT && metrics[metric].name ? &metrics[metric]
									       : NULL;
}

int pmb_schema_metric_find(const char *name)
{
	pthread_once(&once, build);
	for (int m = 0; m < PMB_METRIC_COUNT; m++)
		if (metrics[m].name && !strcmp(metrics[m].name, name))
			return m;
	return -1;
}

const char *pmb_metric_name(int metric)
{
	const struct pmb_metric_def *d = pmb_schema_metric(metric);
	return d ? d->name : "?";
}

const char *pmb_metric_unit(int metric)
{
	const struct pmb_metric_def *d = pmb_schema_metric(metric);
	return d ? d->unit : "?";
}

size_t pmb_schema_ncolumns(unsigned file)
{
	pthread_once(&once, build);
	return file == PMB_IN_RAW ? nraw : nsum;
}

const struct pmb_column *pmb_schema_column(unsigned file, size_t i)
{
	pthread_once(&once, build);
	if (i >= pmb_schema_ncolumns(file))
		return NULL;
	return file == PMB_IN_RAW ? &raw_cols[i] : &sum_cols[i];
}

int pmb_schema_column_index(unsigned file, const char *name)
{
	for (size_t i = 0; i < pmb_schema_ncolumns(file); i++)
		if (!strcmp(pmb_schema_column(file, i)->name, name))
			return (int)i;
	return -1;
}

const char *pmb_schema_header(unsigned file)
{
	pthread_once(&once, build);
	return file == PMB_IN_RAW ? raw_header : sum_header;
}

const struct pmb_schema_cell *pmb_schema_cells(unsigned file, size_t *n)
{
	pthread_once(&once, build);
	*n = file == PMB_IN_RAW ? nraw : nsum;
	return file == PMB_IN_RAW ? raw_cells : sum_cells;
}

int pmb_schema_is_group_row(const struct pmb_point *p, int thread)
{
	return p->threads == 1 ? thread == 0 : thread < 0;
}

double pmb_report_metric_value(const struct pmb_sample_row *row, int metric)
{
	pthread_once(&once, build);
	if (metric < 0 || metric >= PMB_METRIC_COUNT)
		return NAN;
	const struct metric_calc *d = &calc[metric];
	const struct pmb_point *p = row->point;
	if (d->scope == PMB_SCOPE_GROUP && !pmb_schema_is_group_row(p, row->thread))
		return NAN;
	double elems = (double)row->iters * (double)p->n_elems;
	/* Counts of the aggregate row are sums over threads: divide by all
	 * their elements.  Its time is the group's wall time: per thread's
	 * elements for per_elem, all elements for group_elem. */
	if (d->norm == PMB_NORM_GROUP_ELEM ||
	    (row->thread < 0 && (d->src == PMB_MSRC_COUNTER || d->src == PMB_MSRC_ALLOCS)))
		elems *= p->threads;
	if (elems <= 0)
		return NAN;
	double net;
	switch (d->src) {
	case PMB_MSRC_NS:
		/* Net of the empty-sample cost: per-element time must not
		 * carry the clock and counter reads around the sample. */
		net = (double)row->ns - row->overhead_ns;
		return (net > 0 ? net : 0) / elems;
	case PMB_MSRC_TICKS:
		if (!row->tsc_ticks)
			return NAN; /* no reference counter on this architecture */
		net = (double)row->tsc_ticks - row->overhead_ticks;
		return (net > 0 ? net : 0) / elems;
	case PMB_MSRC_ALLOCS:
		return (double)row->allocs / elems;
	case PMB_MSRC_COUNTER:
		if (!(row->counters.counted & PMB_CTR_MASK(d->counter)))
			return NAN;
		return (double)row->counters.value[d->counter] / elems;
	case PMB_MSRC_DERIVED:
		return pmb_derived_value(row, d->counter);
	case PMB_MSRC_NONE:
		return NAN;
	}
	return NAN;
}

size_t pmb_schema_summary_rows(const struct pmb_point *p)
{
	pthread_once(&once, build);
	size_t all = 0, group = 0;
	for (int m = 0; m < PMB_METRIC_COUNT; m++)
		if (!metrics[m].name)
			continue;
		else if (calc[m].scope == PMB_SCOPE_ALL)
			all++;
		else
			group++;
	size_t rows = p->threads == 1 ? 1 : (size_t)p->threads + 1;
	return rows * all + group;
}

const char *pmb_norm_name(enum pmb_norm n)
{
	static const char *const names[] = {[PMB_NORM_NONE] = "none",
					    [PMB_NORM_PER_ELEM] = "per_elem",
					    [PMB_NORM_GROUP_ELEM] = "group_elem",
					    [PMB_NORM_STAT] = "stat"};
	return names[n];
}

const char *pmb_prov_name(enum pmb_prov p)
{
	static const char *const names[] = {
		[PMB_PROV_RUN] = "run",           [PMB_PROV_CLOCK] = "clock",
		[PMB_PROV_COUNTER] = "counter",   [PMB_PROV_ALLOCATOR] = "allocator",
		[PMB_PROV_DERIVED] = "derived",   [PMB_PROV_STATS] = "stats"};
	return names[p];
}
