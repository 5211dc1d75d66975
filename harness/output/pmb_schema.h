/* pmb_schema.h — the one description of every column and metric pmubench
 * writes.  The CSV writer, the resume reader, the console, --help,
 * meta.json and `pmubench --schema` all read these tables; adding a counter
 * is one line in pmb_counter_info (pmb_counters.c), which brings its raw
 * column, its per-element metric and its summary rows.  The user's own
 * events (--counters PAPI_L1_TCM) join the tables the same way: the schema
 * is built once, after the options registered them, and describes the
 * run's actual columns.  docs/schema.md
 * explains the tables; a test checks it against `pmubench --schema`.
 *
 * Row kinds: a sample of a T-thread point gives T thread rows (thread 0..T-1,
 * core = the OS index of its PU) and, when T > 1, one aggregate row
 * (thread = -1, core = -1).  The "group row" stands for the whole point:
 * the aggregate when T > 1, thread 0 when T = 1. */
#ifndef PMB_SCHEMA_H
#define PMB_SCHEMA_H

#include "pmb_report.h"

#include <stddef.h>
#include <stdio.h>

/* 2: thread/core integers (-1 = aggregate), per-element metric columns in
 * raw rows, group_* throughput metrics, per-counter source in summary. */
#define PMB_SCHEMA_VERSION 2

enum pmb_type { PMB_TYPE_STRING, PMB_TYPE_INT, PMB_TYPE_FLOAT };

/* How a value is normalised. */
enum pmb_norm {
	PMB_NORM_NONE,        /* as measured (identifiers, raw totals of the row) */
	PMB_NORM_PER_ELEM,    /* per element of one thread's work */
	PMB_NORM_GROUP_ELEM,  /* per element of the whole group's work (1 / throughput) */
	PMB_NORM_STAT,        /* a statistic over the samples of the metric named in the row */
};

/* Where a value comes from. */
enum pmb_prov {
	PMB_PROV_RUN,       /* the run, the build or the plan */
	PMB_PROV_CLOCK,     /* clock_gettime / reference tick counter, around the sample */
	PMB_PROV_COUNTER,   /* a counter source: see meta.json counters.<name>.source */
	PMB_PROV_ALLOCATOR, /* the counting allocator (--wrap=malloc,...) */
	PMB_PROV_DERIVED,   /* computed by pmubench from other columns (formula) */
	PMB_PROV_STATS,     /* summary statistics over the samples */
};

/* Which files carry a column. */
#define PMB_IN_RAW 1u     /* size-<bytes>.csv, one row per thread and sample */
#define PMB_IN_SUMMARY 2u /* summary.csv, one row per point, thread and metric */

/* Which rows have a value (others: empty cell). */
enum pmb_scope {
	PMB_SCOPE_ALL,   /* thread and aggregate rows */
	PMB_SCOPE_GROUP, /* only the group row (aggregate, or thread 0 when T = 1) */
};

/* What a metric is computed from. */
enum pmb_msrc { PMB_MSRC_NS, PMB_MSRC_TICKS, PMB_MSRC_COUNTER, PMB_MSRC_ALLOCS, PMB_MSRC_DERIVED,
		PMB_MSRC_NONE /* a user-event slot this run does not use */ };

struct pmb_metric_def {
	const char *name;
	const char *unit;
	enum pmb_norm norm;
	enum pmb_scope scope;
	enum pmb_prov prov;
	enum pmb_msrc src;
	int counter;          /* PMB_MSRC_COUNTER: the counter id */
	const char *formula;
	const char *description;
};

struct pmb_column {
	const char *name;
	enum pmb_type type;
	const char *unit;
	enum pmb_norm norm;
	enum pmb_prov prov;
	unsigned in;          /* PMB_IN_RAW | PMB_IN_SUMMARY */
	int field;            /* what the cell holds (pmb_schema.c) */
	int arg;              /* counter or metric index for such fields */
	const char *description;
};

/* The metrics, in summary order.  Index = enum pmb_metric; NULL for an
 * index out of range or a user-event slot this run does not use. */
const struct pmb_metric_def *pmb_schema_metric(int metric);
/* 1 when name is a fixed column or a built-in metric: a user event's
 * column (and its _per_elem metric) must not take it. */
int pmb_schema_name_reserved(const char *name);
/* -1 if unknown. */
int pmb_schema_metric_find(const char *name);

/* Columns of raw (PMB_IN_RAW) or summary (PMB_IN_SUMMARY) files in order. */
size_t pmb_schema_ncolumns(unsigned file);
const struct pmb_column *pmb_schema_column(unsigned file, size_t i);
/* Position of a column in that file's header; -1 if absent. */
int pmb_schema_column_index(unsigned file, const char *name);

/* The CSV header line (with newline) of a file. */
const char *pmb_schema_header(unsigned file);

/* 1 when (thread, point) is the row that stands for the whole group. */
int pmb_schema_is_group_row(const struct pmb_point *p, int thread);

/* How many summary rows a finished point has (all its threads, its
 * aggregate, every metric its rows carry): resume checks it is whole. */
size_t pmb_schema_summary_rows(const struct pmb_point *p);

/* The cells of one raw row / the summary rows of one point, quoted per
 * RFC 4180, each ending in a newline. */
void pmb_schema_write_raw_row(FILE *f, const struct pmb_run_info *run,
			      const struct pmb_sample_row *row);
void pmb_schema_write_summary_rows(FILE *f, const struct pmb_run_info *run,
				   const struct pmb_point_summary *s);

/* The whole schema as JSON (`pmubench --schema`, and meta.json "schema",
 * so a run directory describes itself without the binary that wrote it). */
struct pmb_json;
void pmb_schema_json(struct pmb_json *j);
void pmb_schema_print(FILE *f);

const char *pmb_norm_name(enum pmb_norm n);
const char *pmb_prov_name(enum pmb_prov p);

#endif
