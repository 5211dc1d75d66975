/* CSV reporter: tidy long-format files that pandas, R and gnuplot read as
 * they are.  Rows are appended and flushed one by one, so an interrupted
 * or crashed run keeps every finished row, and a resumed run adds to the
 * same files.  Columns and cells: pmb_schema.c (docs/schema.md). */
#include "pmb_error.h"
#include "pmb_report.h"
#include "pmb_schema.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct csv_file {
	uint64_t size_bytes;
	FILE *f;
};

struct row_buf {
	FILE *m;
	char *text;
	size_t len;
};

struct csv_reporter {
	struct csv_file sizes[PMB_MAX_SIZES];
	size_t nsizes;
	FILE *summary;
	char dir[1024];
	struct row_buf pending; /* a point's summary rows until its group row */
	int have_pending;
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
	if (open_append(r->dir, name, pmb_schema_header(PMB_IN_RAW), &f) != 0)
		return NULL;
	r->sizes[r->nsizes].size_bytes = size;
	r->sizes[r->nsizes++].f = f;
	return f;
}

/* Rows are formatted in memory (begin_rows) and appended with one write(2)
 * (finish_rows); a failed or short write (disk full) is cut back with
 * ftruncate, so a file never ends in half a row and a point's summary rows
 * are all there or none. */
static FILE *begin_rows(struct row_buf *b)
{
	b->text = NULL;
	b->len = 0;
	b->m = open_memstream(&b->text, &b->len);
	if (!b->m)
		pmb_error("out of memory");
	return b->m;
}

static int finish_rows(struct row_buf *b, FILE *f, const char *dir)
{
	int bad = ferror(b->m);
	if (fclose(b->m) != 0 || bad) {
		free(b->text);
		return pmb_error("out of memory formatting a CSV row");
	}
	int fd = fileno(f);
	off_t start = lseek(fd, 0, SEEK_END);
	size_t done = 0;
	int e = 0;
	while (done < b->len) {
		ssize_t n = write(fd, b->text + done, b->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	free(b->text);
	if (!e)
		return 0;
	if (done && start >= 0 && ftruncate(fd, start) != 0)
		return pmb_error("cannot write results in %s: %s, and cannot remove the half "
				 "row written: %s; %s",
				 dir, strerror(e), strerror(errno), write_hint(e));
	return pmb_error("cannot write results in %s: %s; %s (rows written so far are kept)",
			 dir, strerror(e), write_hint(e));
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
	pmb_schema_write_raw_row(f, run, row);
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
	/* Every thread's rows of a point go out in one write with its group
	 * row (the last one), so a full disk or a file size limit leaves a
	 * point's summary whole or absent. */
	if (!r->have_pending && !begin_rows(&r->pending))
		return -1;
	r->have_pending = 1;
	pmb_schema_write_summary_rows(r->pending.m, run, s);
	if (!pmb_schema_is_group_row(s->point, s->thread))
		return 0;
	r->have_pending = 0;
	if (finish_rows(&r->pending, r->summary, r->dir) != 0)
		return -1;
	if (fdatasync(fileno(r->summary)) != 0 && errno != EINVAL)
		return pmb_error("cannot sync %s/summary.csv: %s", r->dir, strerror(errno));
	return 0;
}

static void csv_close(void *self)
{
	struct csv_reporter *r = self;
	if (r->have_pending) { /* a point cut short: its summary is not written */
		fclose(r->pending.m);
		free(r->pending.text);
	}
	for (size_t i = 0; i < r->nsizes; i++)
		fclose(r->sizes[i].f);
	if (r->summary)
		fclose(r->summary);
	free(r);
}

int pmb_report_csv_open(struct pmb_reporter *rep, const struct pmb_run_info *run)
{
	struct csv_reporter *r = calloc(1, sizeof *r);
	if (!r)
		return pmb_error("out of memory");
	snprintf(r->dir, sizeof r->dir, "%s", run->run_dir);
	if (open_append(r->dir, "summary.csv", pmb_schema_header(PMB_IN_SUMMARY), &r->summary) != 0) {
		free(r);
		return -1;
	}
	rep->self = r;
	rep->sample = csv_sample;
	rep->point = csv_point;
	rep->close = csv_close;
	return 0;
}
