/* pmb_schema_impl.h — shared by the schema's own files only: what a cell
 * holds (the compact program the row writers run, pmb_schema_rows.c). */
#ifndef PMB_SCHEMA_IMPL_H
#define PMB_SCHEMA_IMPL_H

#include <stddef.h>

enum field {
	F_RUN_ID, F_FLAGSET, F_COMPILER, F_CFLAGS, F_KERNEL, F_VARIANT, F_SIZE, F_NELEMS,
	F_LEVEL, F_THREADS, F_THREAD, F_CORE, F_REP, F_ROUND, F_ITERS, F_NS, F_TICKS, F_OVH_NS,
	F_OVH_TICKS, F_COUNTER, F_ALLOCS, F_METRIC_VALUE, F_PASS, F_VALID, F_METRIC, F_UNIT,
	F_NORM, F_SAMPLES, F_DISCARDED, F_STAT, F_OUTLIERS, F_SOURCE, F_EVENT,
	F_COUNTERS_HERE, /* marker in the fixed list: counter columns go here */
	F_METRICS_HERE,  /* marker: one column per metric goes here */
};

enum stat { S_MEDIAN, S_CI_LOW, S_CI_HIGH, S_MEAN, S_STDDEV, S_MIN, S_MAX, S_MAD, S_CV };

struct pmb_schema_cell {
	unsigned char field;
	signed char arg;
};

/* The cells of a file's rows, in column order. */
const struct pmb_schema_cell *pmb_schema_cells(unsigned file, size_t *n);

#endif
