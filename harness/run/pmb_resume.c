/* --resume: which points are done, and a clean slate for the others.
 *
 * The writer appends a point's raw rows, syncs them, then appends all of
 * its summary rows in one write (pmb_report_csv.c).  So a point is done
 * when summary.csv holds every one of its summary rows and its size file
 * holds raw rows.  Anything less (killed mid-point, disk full, a file
 * size limit, too few file descriptors) means the point runs again, and
 * the rows it left are dropped first: a point's rows come from one
 * attempt, never two. */
#define _GNU_SOURCE
#include "pmb_resume.h"
#include "pmb_error.h"
#include "pmb_csv.h"
#include "pmb_report.h"
#include "pmb_schema.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { K_FLAGSET, K_KERNEL, K_VARIANT, K_SIZE, K_THREADS, K_COUNT };
static const char *const key_names[K_COUNT] = {"flagset", "kernel", "variant", "size_bytes",
					       "threads"};

struct csv_scan {
	int col[K_COUNT];
	int ncols;
};

static int read_header(char *line, struct csv_scan *s, const char *path)
{
	char *fields[256];
	line[strcspn(line, "\r\n")] = '\0';
	s->ncols = pmb_csv_split(line, fields, 256);
	for (int k = 0; k < K_COUNT; k++) {
		s->col[k] = -1;
		for (int i = 0; i < s->ncols; i++)
			if (!strcmp(fields[i], key_names[k]))
				s->col[k] = i;
		if (s->col[k] < 0)
			return pmb_error("--resume: %s has no '%s' column; is this a pmubench run of "
					 "this version?",
					 path, key_names[k]);
	}
	return 0;
}

/* The plan point a row belongs to (this flag set only), or -1. */
static long point_of(char *line, const struct csv_scan *s, const char *flagset,
		     const struct pmb_plan *plan)
{
	char copy[8192], *f[256];
	snprintf(copy, sizeof copy, "%s", line);
	copy[strcspn(copy, "\r\n")] = '\0';
	if (pmb_csv_split(copy, f, 256) < s->ncols || strcmp(f[s->col[K_FLAGSET]], flagset) != 0)
		return -1;
	unsigned long long size = strtoull(f[s->col[K_SIZE]], NULL, 10);
	int threads = atoi(f[s->col[K_THREADS]]);
	for (size_t i = 0; i < plan->npoints; i++) {
		const struct pmb_point *p = &plan->points[i];
		if (p->size_bytes == size && p->threads == threads &&
		    !strcmp(p->kernel->family, f[s->col[K_KERNEL]]) &&
		    !strcmp(p->kernel->variant, f[s->col[K_VARIANT]]))
			return (long)i;
	}
	return -1;
}

/* Counts whole rows per point into counts[] (NULL: do not count) and, when
 * drop is set, rewrites the file without the rows of points not done
 * (temporary file + rename: the old file stays whole until then). */
static int scan_file(const char *path, const char *flagset, const struct pmb_plan *plan,
		     size_t *counts, int drop, size_t *dropped)
{
	if (drop) {
		/* Most files have nothing to drop: look before copying. */
		size_t found = 0;
		if (scan_file(path, flagset, plan, NULL, 0, &found) != 0 || found == 0)
			return found == 0 ? 0 : -1;
	}
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : pmb_error("--resume: cannot read %s: %s", path,
							 strerror(errno));
	char tmp[1200];
	snprintf(tmp, sizeof tmp, "%s.resume-tmp", path);
	FILE *out = NULL;
	char *line = NULL;
	size_t cap = 0, here = 0;
	ssize_t len;
	struct csv_scan s;
	int rc = 0, lineno = 0;
	while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n')
			break; /* a last line cut by the interruption */
		if (lineno++ == 0) {
			if (drop && !(out = fopen(tmp, "w")))
				rc = pmb_error("--resume: cannot write %s: %s", tmp, strerror(errno));
			else if (out)
				fputs(line, out);
			char *copy = strdup(line);
			rc = rc ? rc : copy ? read_header(copy, &s, path) : pmb_error("out of memory");
			free(copy);
			continue;
		}
		long p = point_of(line, &s, flagset, plan);
		if (counts && p >= 0)
			counts[p]++;
		if (!counts && p >= 0 && !plan->points[p].done) {
			here++;
			continue;
		}
		if (out)
			fputs(line, out);
	}
	free(line);
	fclose(f);
	if (out) {
		int bad = ferror(out);
		if (fflush(out) != 0 || fsync(fileno(out)) != 0 || bad)
			rc = rc ? rc : pmb_error("--resume: cannot write %s: %s", tmp, strerror(errno));
		fclose(out);
		if (rc == 0 && here && rename(tmp, path) != 0)
			rc = pmb_error("--resume: cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	*dropped += here;
	return rc;
}

/* size-<bytes>.csv of the run, by name; calls fn on each. */
static int each_size_file(const char *run_dir, int (*fn)(const char *, void *), void *arg)
{
	DIR *d = opendir(run_dir);
	if (!d)
		return pmb_error("--resume: cannot read %s: %s", run_dir, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, "size-", 5) || n < 9 || strcmp(e->d_name + n - 4, ".csv"))
			continue;
		char path[1400];
		snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name);
		rc = fn(path, arg);
	}
	closedir(d);
	return rc;
}

struct scan_args {
	const char *flagset;
	const struct pmb_plan *plan;
	size_t *counts;
	int drop;
	size_t *dropped;
};

static int scan_size_file(const char *path, void *arg)
{
	struct scan_args *a = arg;
	return scan_file(path, a->flagset, a->plan, a->counts, a->drop, a->dropped);
}

int pmb_resume_prepare(const char *run_dir, const char *flagset, struct pmb_plan *plan,
		       size_t *ndone, size_t *ndropped)
{
	*ndone = *ndropped = 0;
	size_t *summary = calloc(plan->npoints + 1, sizeof *summary);
	size_t *raw = calloc(plan->npoints + 1, sizeof *raw);
	char path[1200];
	snprintf(path, sizeof path, "%s/summary.csv", run_dir);
	struct scan_args a = {flagset, plan, raw, 0, ndropped};
	int rc = !summary || !raw ? pmb_error("out of memory")
		 : scan_file(path, flagset, plan, summary, 0, ndropped);
	if (rc == 0)
		rc = each_size_file(run_dir, scan_size_file, &a);
	for (size_t i = 0; rc == 0 && i < plan->npoints; i++) {
		struct pmb_point *p = &plan->points[i];
		p->done = summary[i] == pmb_schema_summary_rows(p) && raw[i] > 0;
		*ndone += (size_t)p->done;
	}
	/* Then the clean slate: rows of points not done go. */
	if (rc == 0) {
		a.counts = NULL;
		a.drop = 1;
		rc = scan_file(path, flagset, plan, NULL, 1, ndropped);
		if (rc == 0)
			rc = each_size_file(run_dir, scan_size_file, &a);
	}
	free(summary);
	free(raw);
	return rc;
}
