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
#include <unistd.h>

static const char *const level_names[] = {"", "L1", "L2", "L3", "DRAM"};

struct csv_file {
	uint64_t size_bytes;
	FILE *f;
};

struct csv_reporter {
	struct csv_file sizes[PMB_MAX_SIZES];
	size_t nsizes;
	FILE *summary;
	/* A point's summary rows for all its threads, held until its last
	 * thread so they reach summary.csv in one write: all or none. */
	FILE *pending;
	char *pending_text;
	size_t pending_len;
	char dir[1024];
};

/* A run killed hard (SIGKILL, power loss) may leave a last line without
 * its newline; resuming must not glue new rows onto it, so drop it. */
static int cut_partial_line(int fd, off_t size)
{
	char buf[4096];
	off_t end = size;
	while (end > 0) {
		off_t start = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
		ssize_t n = pread(fd, buf, (size_t)(end - start), start);
		if (n != end - start)
			return n < 0 ? -1 : 0;
		for (off_t i = n - 1; i >= 0; i--)
			if (buf[i] == '\n')
				return start + i + 1 == size ? 0 : ftruncate(fd, start + i + 1);
		end = start;
	}
	return ftruncate(fd, 0); /* not even a whole header: start over */
}

/* What to do about a failed write: a `ulimit -f` (EFBIG, SIGXFSZ being
 * ignored) wants another remedy than a full disk. */
static const char *write_hint(int e)
{
	if (e == EFBIG)
		return "the file size limit is reached (ulimit -f); raise it (ulimit -f unlimited)";
	if (e == EMFILE || e == ENFILE)
		return "raise the open-file limit (ulimit -n 1024)";
	return "free space or choose another --out";
}

static int open_append(const char *dir, const char *name, const char *header, FILE **out)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "a+"); /* + : cut_partial_line reads */
	if (!f)
		return pmb_error("cannot open %s for appending: %s; %s", path, strerror(errno),
				 errno == EMFILE || errno == ENFILE ? write_hint(errno)
								    : "check that --out is writable");
	int fd = fileno(f), e = 0;
	struct stat st;
	if (fstat(fd, &st) != 0 || (st.st_size > 0 && cut_partial_line(fd, st.st_size) != 0) ||
	    fstat(fd, &st) != 0)
		e = errno;
	else if (st.st_size == 0) {
		/* One write(2); if short, the file goes: never half a header,
		 * never an empty CSV that readers would have to guess about. */
		ssize_t n = write(fd, header, strlen(header));
		if (n != (ssize_t)strlen(header)) {
			e = n < 0 ? errno : ENOSPC;
			unlink(path);
		}
	}
	if (e) {
		fclose(f);
		return pmb_error("cannot write %s: %s; %s", path, strerror(e), write_hint(e));
	}
	*out = f;
	return 0;
}

static void write_raw_header(FILE *f)
{
	fputs("run_id,flagset,compiler,cflags,kernel,variant,size_bytes,n_elems,cache_level,"
	      "threads,thread,core,rep,iters,ns,tsc_ticks,ns_per_elem",
	      f);
	for (int c = 0; c < PMB_CTR_COUNT; c++)
		fprintf(f, ",%s", pmb_counter_info[c].column);
	fputs(",allocs,counter_source,counter_pass,valid\n", f);
}

static char raw_header[1024];
static const char summary_header[] =
	"run_id,flagset,compiler,cflags,kernel,variant,size_bytes,n_elems,cache_level,threads,"
	"thread,metric,unit,samples,median,ci_low,ci_high,mean,stddev,min,max,mad,cv,outliers,"
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

/* Rows are formatted in memory (begin_rows) and appended with one write(2)
 * (finish_rows); a failed or short write (disk full) is cut back with
 * ftruncate, so a file never ends in half a row and a point's summary rows
 * are all there or none. */
struct row_buf {
	FILE *m;
	char *text;
	size_t len;
};

static FILE *begin_rows(struct row_buf *b)
{
	b->text = NULL;
	b->len = 0;
	b->m = open_memstream(&b->text, &b->len);
	if (!b->m)
		pmb_error("out of memory");
	return b->m;
}

static int finish_stream(FILE *m, char **text, size_t *len, FILE *f, const char *dir)
{
	int bad = ferror(m);
	if (fclose(m) != 0 || bad) {
		free(*text);
		return pmb_error("out of memory formatting a CSV row");
	}
	int fd = fileno(f);
	off_t start = lseek(fd, 0, SEEK_END);
	size_t done = 0;
	int e = 0;
	while (done < *len) {
		ssize_t n = write(fd, *text + done, *len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	free(*text);
	if (!e)
		return 0;
	if (done && start >= 0 && ftruncate(fd, start) != 0)
		return pmb_error("cannot write results in %s: %s, and cannot remove the half "
				 "row written: %s; %s",
				 dir, strerror(e), strerror(errno), write_hint(e));
	return pmb_error("cannot write results in %s: %s; %s (rows written so far are kept)",
			 dir, strerror(e), write_hint(e));
}

static int finish_rows(struct row_buf *b, FILE *f, const char *dir)
{
	return finish_stream(b->m, &b->text, &b->len, f, dir);
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
	/* Flags may hold commas (-Wl,...): quote the cell, doubling quotes. */
	fprintf(f, "%s,%s,%s,\"", run->run_id, run->flagset, run->compiler);
	for (const char *c = run->cflags ? run->cflags : ""; *c; c++) {
		if (*c == '"')
			fputc('"', f);
		fputc(*c, f);
	}
	fprintf(f, "\",%s,%s,%llu,%zu,%s,%d,", p->kernel->family, p->kernel->variant, (unsigned long long)p->size_bytes,
		p->n_elems, level_names[p->cache_level], p->threads);
	if (thread < 0)
		fputs("all", f);
	else
		fprintf(f, "%d", thread);
}

static int csv_sample(void *self, const struct pmb_run_info *run, const struct pmb_sample_row *row)
{
	struct csv_reporter *r = self;
	FILE *file = size_file(r, row->point->size_bytes);
	if (!file)
		return -1;
	struct row_buf buf;
	FILE *f = begin_rows(&buf);
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
	return finish_rows(&buf, file, r->dir);
}

static int csv_point(void *self, const struct pmb_run_info *run, const struct pmb_point_summary *s)
{
	struct csv_reporter *r = self;
	/* Raw rows durable first, then the summary that marks the point
	 * done (--resume trusts a whole summary). */
	FILE *raw = s->thread <= 0 ? size_file(r, s->point->size_bytes) : NULL;
	if (raw && fdatasync(fileno(raw)) != 0 && errno != EINVAL)
		return pmb_error("cannot sync results in %s: %s; %s", r->dir, strerror(errno),
				 write_hint(errno));
	if (!r->pending) {
		r->pending_text = NULL;
		r->pending_len = 0;
		r->pending = open_memstream(&r->pending_text, &r->pending_len);
		if (!r->pending)
			return pmb_error("out of memory");
	}
	FILE *f = r->pending;
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
	int last = s->thread < 0 || s->point->threads <= 1;
	if (!last)
		return 0;
	FILE *m = r->pending;
	r->pending = NULL;
	if (finish_stream(m, &r->pending_text, &r->pending_len, r->summary, r->dir) != 0)
		return -1;
	if (fdatasync(fileno(r->summary)) != 0 && errno != EINVAL)
		return pmb_error("cannot sync %s/summary.csv: %s", r->dir, strerror(errno));
	return 0;
}

static void csv_close(void *self)
{
	struct csv_reporter *r = self;
	for (size_t i = 0; i < r->nsizes; i++)
		fclose(r->sizes[i].f);
	if (r->summary)
		fclose(r->summary);
	if (r->pending) { /* an unfinished point: its summary is not written */
		fclose(r->pending);
		free(r->pending_text);
	}
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
