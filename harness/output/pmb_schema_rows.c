/* pmb_schema_rows.c — turns a sample row or a point summary into CSV
 * cells, following the schema's cell program (pmb_schema.c), quoting each
 * cell per RFC 4180 (pmb_csv.c). */
#include "pmb_csv.h"
#include "pmb_schema.h"
#include "pmb_schema_impl.h"

#include <math.h>
#include <stdio.h>

static const char *const level_names[] = {"", "L1", "L2", "L3", "DRAM"};

static void put_u(FILE *f, unsigned long long v)
{
	fprintf(f, "%llu", v);
}

static void put_d(FILE *f, double v)
{
	if (!isnan(v))
		fprintf(f, "%.6g", v);
}

/* Cells that raw and summary rows share. */
static int put_common(FILE *f, const struct pmb_schema_cell *c, const struct pmb_run_info *run,
		      const struct pmb_point *p, int thread)
{
	switch (c->field) {
	case F_RUN_ID: pmb_csv_put(f, run->run_id); break;
	case F_FLAGSET: pmb_csv_put(f, run->flagset ? run->flagset : ""); break;
	case F_COMPILER: pmb_csv_put(f, run->compiler ? run->compiler : ""); break;
	case F_CFLAGS: pmb_csv_put(f, run->cflags ? run->cflags : ""); break;
	case F_KERNEL: pmb_csv_put(f, p->kernel->family); break;
	case F_VARIANT: pmb_csv_put(f, p->kernel->variant); break;
	case F_SIZE: put_u(f, p->size_bytes); break;
	case F_NELEMS: put_u(f, p->n_elems); break;
	case F_LEVEL: fputs(level_names[p->cache_level], f); break;
	case F_THREADS: fprintf(f, "%d", p->threads); break;
	case F_THREAD: fprintf(f, "%d", thread < 0 ? -1 : thread); break;
	default: return 0;
	}
	return 1;
}

void pmb_schema_write_raw_row(FILE *f, const struct pmb_run_info *run,
			      const struct pmb_sample_row *row)
{
	size_t n;
	const struct pmb_schema_cell *cells = pmb_schema_cells(PMB_IN_RAW, &n);
	for (size_t i = 0; i < n; i++) {
		const struct pmb_schema_cell *c = &cells[i];
		if (i)
			fputc(',', f);
		if (put_common(f, c, run, row->point, row->thread))
			continue;
		switch (c->field) {
		case F_CORE: fprintf(f, "%d", row->thread < 0 ? -1 : row->core); break;
		case F_REP: put_u(f, row->rep); break;
		case F_ROUND: fprintf(f, "%d", row->round); break;
		case F_ITERS: put_u(f, row->iters); break;
		case F_NS: put_u(f, row->ns); break;
		case F_TICKS:
			if (run->has_ticks)
				put_u(f, row->tsc_ticks);
			break;
		case F_OVH_NS: put_d(f, row->overhead_ns); break;
		case F_OVH_TICKS:
			if (run->has_ticks)
				put_d(f, row->overhead_ticks);
			break;
		case F_COUNTER:
			/* not counted: empty, never 0 */
			if (row->counters.counted & PMB_CTR_MASK(c->arg))
				fprintf(f, "%lld", (long long)row->counters.value[c->arg]);
			break;
		case F_ALLOCS: put_u(f, row->allocs); break;
		case F_METRIC_VALUE: put_d(f, pmb_report_metric_value(row, c->arg)); break;
		case F_PASS: fprintf(f, "%d", row->counter_pass); break;
		case F_VALID: fprintf(f, "%d", row->valid); break;
		}
	}
	fputc('\n', f);
}

/* The source and event of a metric's numbers in this run. */
static void metric_source(const struct pmb_run_info *run, const struct pmb_metric_def *d,
			  const char **source, const char **event)
{
	switch (d->src) {
	case PMB_MSRC_NS:
		*source = "clock";
		*event = "CLOCK_MONOTONIC_RAW";
		return;
	case PMB_MSRC_TICKS:
		*source = "clock";
		*event = "reference ticks";
		return;
	case PMB_MSRC_ALLOCS:
		*source = "allocator";
		*event = "malloc+calloc+realloc+posix_memalign+aligned_alloc+strdup";
		return;
	case PMB_MSRC_DERIVED:
		*source = "derived";
		*event = d->formula;
		return;
	case PMB_MSRC_COUNTER:
		*source = pmb_counter_source(run->counters, run->backend, d->counter);
		*event = run->counters ? run->counters->event_name[d->counter] : "";
		return;
	case PMB_MSRC_NONE:
		return;
	}
}

static double stat_value(const struct pmb_summary *st, int which)
{
	const double v[] = {[S_MEDIAN] = st->median, [S_CI_LOW] = st->ci_low,
			    [S_CI_HIGH] = st->ci_high, [S_MEAN] = st->mean,
			    [S_STDDEV] = st->stddev, [S_MIN] = st->min,
			    [S_MAX] = st->max, [S_MAD] = st->mad, [S_CV] = st->cv};
	return st->n ? v[which] : NAN;
}

static void write_summary_row(FILE *f, const struct pmb_run_info *run,
			      const struct pmb_point_summary *s, int m)
{
	const struct pmb_metric_def *d = pmb_schema_metric(m);
	const struct pmb_summary *st = &s->metric[m];
	const char *source = "", *event = "";
	if (st->n)
		metric_source(run, d, &source, &event);
	size_t n;
	const struct pmb_schema_cell *cells = pmb_schema_cells(PMB_IN_SUMMARY, &n);
	for (size_t i = 0; i < n; i++) {
		const struct pmb_schema_cell *c = &cells[i];
		if (i)
			fputc(',', f);
		if (put_common(f, c, run, s->point, s->thread))
			continue;
		switch (c->field) {
		case F_METRIC: fputs(d->name, f); break;
		case F_UNIT: pmb_csv_put(f, d->unit); break;
		case F_NORM: fputs(pmb_norm_name(d->norm), f); break;
		case F_SAMPLES: put_u(f, st->n); break;
		case F_DISCARDED: put_u(f, s->discarded); break;
		case F_STAT: put_d(f, stat_value(st, c->arg)); break;
		case F_OUTLIERS:
			if (st->n)
				put_u(f, st->outliers_mild + st->outliers_severe);
			break;
		case F_SOURCE: pmb_csv_put(f, source); break;
		case F_EVENT: pmb_csv_put(f, event); break;
		case F_VALID: fprintf(f, "%d", s->valid); break;
		}
	}
	fputc('\n', f);
}

void pmb_schema_write_summary_rows(FILE *f, const struct pmb_run_info *run,
				   const struct pmb_point_summary *s)
{
	for (int m = 0; m < PMB_METRIC_COUNT; m++)
		if (pmb_schema_metric(m) && (pmb_schema_metric(m)->scope == PMB_SCOPE_ALL ||
					     pmb_schema_is_group_row(s->point, s->thread)))
			write_summary_row(f, run, s, m);
}

