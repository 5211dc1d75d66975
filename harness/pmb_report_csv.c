/* CSV reporter: tidy long-format files that pandas, R and gnuplot read as
 * they are.  Rows are appended and flushed one by one, so an interrupted
 * or crashed run keeps every finished row, and a resumed run adds to the
 * same files.  Schema: README.md "CSV schema" (PMB_SCHEMA_VERSION). */
#include "pmb_error.h"
#include "pmb_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const level_names[] = {"", "L1", "L2", "L3", "DRAM"};

struct csv_file {
	uint64_t size_bytes;
	FILE *f;
};

struct csv_reporter {
	struct csv_file sizes[PMB_MAX_SIZES];
	size_t nsizes;
	FILE *summary;
	char dir[1024];
};

static int open_append(const char *dir, const char *name, const char *header, FILE **out)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "a");
	if (!f)
		return pmb_error("cannot open %s for appending: %s; check that --out is writable",
				 path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && st.st_size == 0)
		fputs(header, f);
	if (fflush(f) != 0) {
		int e = errno;
		fclose(f);
		return pmb_error("cannot write %s: %s; free space or choose another --out", path,
				 strerror(e));
	}
	*out = f;
	return 0;
}

static void write_raw_header(FILE *f)
{
	fputs("run_id,flagset,compiler,kernel,variant,size_bytes,n_elems,cache_level,threads,"
	      "thread,core,rep,iters,ns,tsc_ticks,ns_per_elem",
	      f);
	for (int c = 0; c < PMB_CTR_COUNT; c++)
		fprintf(f, ",%s", pmb_counter_info[c].column);
	fputs(",allocs,counter_source,counter_pass,valid\n", f);
}

static char raw_header[1024];
static const char summary_header[] =
	"run_id,flagset,compiler,kernel,variant,size_bytes,n_elems,cache_level,threads,thread,"
	"metric,unit,samples,median,ci_low,ci_high,mean,stddev,min,max,mad,cv,outliers,"
	"counter_source,valid\n";

static FILE *size_file(struct csv_reporter *r, uint64_t size)
{
	for (size_t i = 0; i < r->nsizes; i++)
		if (r->sizes[i].size_bytes == size)
			return r->sizes[i].f;
	if (r->nsizes == PMB_MAX_SIZES) {
		pmb_error("too many distinct sizes for one run");
		return NULL;
	}
	char name[64];
	snprintf(name, sizeof name, "size-%llu.csv", (unsigned long long)size);
	FILE *f;
	if (open_append(r->dir, name, raw_header, &f) != 0)
		return NULL;
	r->sizes[r->nsizes].size_bytes = size;
	r->sizes[r->nsizes++].f = f;
	return f;
}

static int finish_row(FILE *f, const char *dir)
{
	if (ferror(f) || fflush(f) != 0)
		return pmb_error("cannot write results in %s: %s; free space or choose another "
				 "--out (rows written so far are kept)",
				 dir, strerror(errno ? errno : EIO));
	return 0;
}

static void put_double(FILE *f, double v)
{
	if (isnan(v))
		fputc(',', f);
	else
		fprintf(f, ",%.6g", v);
}

static void write_point_prefix(FILE *f, const struct pmb_run_info *run,
			       const struct pmb_point *p, int thread)
{
	fprintf(f, "%s,%s,%s,%s,%s,%llu,%zu,%s,%d,", run->run_id, run->flagset, run->compiler,
		p->kernel->family, p->kernel->variant, (unsigned long long)p->size_bytes,
		p->n_elems, level_names[p->cache_level], p->threads);
	if (thread < 0)
		fputs("all", f);
	else
		fprintf(f, "%d", thread);
}

static int csv_sample(void *self, const struct pmb_run_info *run, const struct pmb_sample_row *row)
{
	struct csv_reporter *r = self;
	FILE *f = size_file(r, row->point->size_bytes);
	if (!f)
		return -1;
	write_point_prefix(f, run, row->point, row->thread);
	if (row->core >= 0)
		fprintf(f, ",%d", row->core);
	else
		fputc(',', f);
	fprintf(f, ",%llu,%llu,%llu", (unsigned long long)row->rep,
		(unsigned long long)row->iters, (unsigned long long)row->ns);
	if (run->has_ticks)
		fprintf(f, ",%llu", (unsigned long long)row->tsc_ticks);
	else
		fputc(',', f);
	put_double(f, pmb_report_metric_value(row, PMB_METRIC_NS));
	for (int c = 0; c < PMB_CTR_COUNT; c++) {
		if (row->counters.counted & PMB_CTR_MASK(c))
			fprintf(f, ",%lld", (long long)row->counters.value[c]);
		else
			fputc(',', f); /* not counted: empty, never 0 */
	}
	fprintf(f, ",%llu,%s,%d,%d\n", (unsigned long long)row->allocs,
		row->counters.counted ? run->counter_source : "none", row->counter_pass,
		row->valid);
	return finish_row(f, r->dir);
}

static int csv_point(void *self, const struct pmb_run_info *run, const struct pmb_point_summary *s)
{
	struct csv_reporter *r = self;
	FILE *f = r->summary;
	for (int m = 0; m < PMB_METRIC_COUNT; m++) {
		const struct pmb_summary *st = &s->metric[m];
		int counter = m >= PMB_METRIC_COUNTER0 && m < PMB_METRIC_ALLOCS;
		write_point_prefix(f, run, s->point, s->thread);
		fprintf(f, ",%s,%s,%zu", pmb_metric_name(m), pmb_metric_unit(m), st->n);
		double vals[] = {st->median, st->ci_low, st->ci_high, st->mean,
				 st->stddev, st->min,    st->max,     st->mad, st->cv};
		for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
			put_double(f, st->n ? vals[i] : NAN);
		if (st->n)
			fprintf(f, ",%zu", st->outliers_mild + st->outliers_severe);
		else
			fputc(',', f);
		fprintf(f, ",%s,%d\n", counter && st->n ? run->counter_source : "none",
			s->valid);
	}
	return finish_row(f, r->dir);
}

static void csv_close(void *self)
{
	struct csv_reporter *r = self;
	for (size_t i = 0; i < r->nsizes; i++)
		fclose(r->sizes[i].f);
	if (r->summary)
		fclose(r->summary);
	free(r);
}

int pmb_report_csv_open(struct pmb_reporter *rep, const struct pmb_run_info *run)
{
	if (!raw_header[0]) {
		FILE *m = fmemopen(raw_header, sizeof raw_header, "w");
		if (!m)
			return pmb_error("out of memory");
		write_raw_header(m);
		fclose(m);
	}
	struct csv_reporter *r = calloc(1, sizeof *r);
	if (!r)
		return pmb_error("out of memory");
	snprintf(r->dir, sizeof r->dir, "%s", run->run_dir);
	if (open_append(r->dir, "summary.csv", summary_header, &r->summary) != 0) {
		free(r);
		return -1;
	}
	rep->self = r;
	rep->sample = csv_sample;
	rep->point = csv_point;
	rep->close = csv_close;
	return 0;
}
