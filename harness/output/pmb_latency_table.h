/* pmb_latency_table.h — the per-level latency table: the plateaus of the
 * latency/chase curve (ns and TSC ticks per load), detected once here, in
 * the harness, and printed at the end of a run, written to meta.json
 * ("latency_levels") and read by the report and `make validate`.
 *
 * Detection: the curve (median ns/load per size, one thread) is cut, from
 * small to large sizes, into flat runs: maximal runs of consecutive points
 * whose largest value is at most PMB_LATENCY_FLAT x their smallest.  Each
 * run belongs to the cache level (hwloc's sizes) holding its largest size
 * (a plateau that goes on past a cache's size is not that cache's: on a VM
 * the L3 share can be far smaller than hwloc says); per level the longest
 * run wins (ties: the lower one) and its
 * median is the level's latency.  A level whose size range has points but
 * no run of two is given its point nearest the middle of the range,
 * marked single.  DRAM is everything above the last cache. */
#ifndef PMB_LATENCY_TABLE_H
#define PMB_LATENCY_TABLE_H

#include "pmb_json.h"
#include "pmb_options.h"
#include "pmb_report.h"

#include <stdint.h>

#define PMB_LATENCY_FLAT 1.20
#define PMB_LATENCY_KERNEL_FAMILY "latency"
#define PMB_LATENCY_KERNEL_VARIANT "chase"

struct pmb_latency_point {
	uint64_t size;
	double ns, ticks; /* medians per load; ticks NAN without a tick counter */
};

struct pmb_latency_level {
	char name[8];        /* "L1", "L2", "L3", "DRAM" */
	uint64_t cache_size; /* hwloc's, bytes (0 for DRAM) */
	int found;           /* a latency was assigned */
	int single;          /* from one point, not a flat run */
	double ns, ticks;
	uint64_t lo, hi;     /* sizes of the run used */
	int npoints;
};

struct pmb_latency_table {
	size_t npoints;
	struct pmb_latency_point pt[PMB_MAX_SIZES];
	int nlevels;
	struct pmb_latency_level level[4];
	char text[512]; /* "L1 0.96 ns (3.6 ticks), L2 ..." or "" */
};

/* Adds (or replaces) the point of one size, keeping sizes ascending. */
void pmb_latency_table_add(struct pmb_latency_table *t, uint64_t size, double ns, double ticks);

/* Detects the levels; cache_size[i] is level i+1's size (0 = absent),
 * levels up to llc_level are caches.  Fills level[] and text. */
void pmb_latency_table_detect(struct pmb_latency_table *t, const uint64_t cache_size[3],
			      int llc_level);

/* A reporter that feeds the table with latency/chase's one-thread points. */
int pmb_latency_reporter_open(struct pmb_reporter *rep, struct pmb_latency_table *t);

/* "latency_levels": {...} in meta.json (nothing measured: points 0). */
void pmb_latency_table_json(struct pmb_json *j, const struct pmb_latency_table *t);

#endif
