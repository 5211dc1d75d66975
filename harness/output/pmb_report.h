/* pmb_report.h — reporters, one per output format (as Google Benchmark's
 * reporters): the runner hands each finished sample and each finished
 * point to every reporter; a reporter decides how to write it. */
#ifndef PMB_REPORT_H
#define PMB_REPORT_H

#include "pmb_counters.h"
#include "pmb_plan.h"
#include "pmb_stats.h"

#include <stdint.h>
#include <stdio.h>

/* Metrics summarised per point: the summary's `metric` column.  Names,
 * units, normalisation and formulas: pmb_schema.c. */
enum pmb_metric {
	PMB_METRIC_NS,        /* ns_per_elem */
	PMB_METRIC_TSC,       /* tsc_per_elem */
	PMB_METRIC_GROUP_NS,  /* group_ns_per_elem: group row only */
	PMB_METRIC_GROUP_TSC, /* group_tsc_per_elem: group row only */
	PMB_METRIC_COUNTER0, /* PMB_CTR_COUNT counters follow, in counter order */
	PMB_METRIC_ALLOCS = PMB_METRIC_COUNTER0 + PMB_CTR_COUNT,
	PMB_METRIC_DERIVED0, /* PMB_DER_COUNT derived metrics follow (pmb_derived.h) */
	/* <event>_per_elem of the user's own events, in counter order; slots
	 * of events not registered in this run do not exist (pmb_schema_metric
	 * gives NULL). */
	PMB_METRIC_USER0 = PMB_METRIC_DERIVED0 + 6,
	PMB_METRIC_COUNT = PMB_METRIC_USER0 + PMB_CTR_USER_MAX
};

/* The per-element metric of counter c (built-in or user event). */
static inline int pmb_metric_of_counter(int c)
{
	return c < PMB_CTR_COUNT ? PMB_METRIC_COUNTER0 + c : PMB_METRIC_USER0 + (c - PMB_CTR_COUNT);
}

const char *pmb_metric_name(int metric); /* "ns_per_elem", "l1d_misses_per_elem", ... */
const char *pmb_metric_unit(int metric); /* "ns/elem", "ticks/elem", "events/elem", ... */

struct pmb_run_info {
	char run_id[160];
	char run_dir[1024];
	const char *flagset;
	const char *compiler;     /* "gcc-12.2.0" */
	const char *cflags;       /* exact flags this binary was built with */
	char meta_name[96];       /* meta.json, or meta-<flagset>.json for a further flag set */
	const char *backend;      /* papi, timer, sim */
	const struct pmb_counter_plan *counters; /* per-counter source and event; may be NULL */
	int has_ticks;
};

struct pmb_sample_row {
	const struct pmb_point *point;
	int thread;           /* 0..T-1, or -1 for the aggregate of a multi-thread sample */
	int core;             /* OS index of the PU; -1 on aggregate rows */
	uint64_t rep;
	int round;            /* --rounds: which visit of the point (0-based) */
	uint64_t iters;
	uint64_t ns;          /* raw wall time of the sample */
	uint64_t tsc_ticks;
	double overhead_ns;   /* measured cost of an empty sample on this thread */
	double overhead_ticks; /* the same in reference ticks */
	struct pmb_counter_values counters;
	uint64_t allocs;
	int counter_pass;
	int valid;
};

/* Value of a metric for one sample row (pmb_schema.c); NAN when not
 * counted or not carried by this row. */
double pmb_report_metric_value(const struct pmb_sample_row *row, int metric);

struct pmb_point_summary {
	const struct pmb_point *point;
	int thread; /* as in rows */
	struct pmb_summary metric[PMB_METRIC_COUNT];
	double overhead_ns;
	/* Samples discarded for preemption and retaken: on a thread row those
	 * in which this thread was switched out or migrated, on the group row
	 * all of the point's (summary.csv `discarded`). */
	uint64_t discarded;
	char note[64];      /* the kernel's note on what its setup got ("" if none) */
	int valid;  /* all samples valid */
};

struct pmb_reporter {
	void *self;
	int (*sample)(void *self, const struct pmb_run_info *run, const struct pmb_sample_row *row);
	int (*point)(void *self, const struct pmb_run_info *run, const struct pmb_point_summary *s);
	void (*close)(void *self);
};

/* CSV: size-<bytes>.csv (raw rows) and summary.csv in run->run_dir,
 * appended and flushed row by row; headers only when a file is new. */
int pmb_report_csv_open(struct pmb_reporter *rep, const struct pmb_run_info *run);

/* JSON in Google Benchmark's layout: benchmarks.json in run->run_dir
 * (pmb_report_gbench.c). */
struct pmb_topology_info;
struct pmb_clock_calibration;
struct pmb_gbench_context {
	const struct pmb_topology_info *topo;
	const struct pmb_clock_calibration *clock;
	const struct pmb_counter_plan *counters;
	const char *host;
	const char *executable;
	int cpu_scaling; /* frequency governor other than performance */
};
int pmb_report_gbench_open(struct pmb_reporter *rep, const struct pmb_run_info *run,
			   const struct pmb_gbench_context *ctx);

/* Console: one line per finished point on stderr (progress, with ETA). */
int pmb_report_console_open(struct pmb_reporter *rep, size_t npoints, int quiet);

#endif
