/* JSON reporter in Google Benchmark's layout (--format json|both), so the
 * tools written for it — compare.py of libbenchmark-tools first — read a
 * pmubench run as they read a benchmark binary's --benchmark_out:
 *
 *   context     date, host_name, executable, num_cpus, mhz_per_cpu,
 *               cpu_scaling_enabled, caches[], library_build_type, plus
 *               pmubench's own keys (run_id, flagset, compiler, ...)
 *   benchmarks  per point, named family/variant/<size>/threads:T: one
 *               "iteration" entry per sample (repetition_index = rep) and
 *               "aggregate" entries mean, median, stddev, cv.
 *
 * One Google Benchmark iteration is one pass of the kernel over its working
 * set: real_time is the wall time per pass net of the empty-sample cost,
 * in ns; cpu_time is the thread's task clock per pass when that counter was
 * counted, else real_time (context.cpu_time_source says which).  Every
 * metric of the summary (ns_per_elem, counters per element, ...) is an
 * extra field as GB's user counters are; a metric not counted is null, its
 * reason in context.counters_not_counted.
 *
 * The file is rewritten whole (temp + rename) after each point, so it is
 * always valid JSON holding every finished point; entries are one per line
 * so a resumed run keeps the ones already there. */
#include "pmb_error.h"
#include "pmb_json.h"
#include "pmb_report.h"
#include "pmb_schema.h"
#include "pmb_clock.h"
#include "pmb_topology.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct text {
	char *s;
	size_t len, cap;
};

struct gbench {
	char path[1200], tmp[1200];
	char *context;          /* the formatted "context" object */
	struct text entries;    /* finished points, one entry per line */
	struct text pending;    /* iteration entries of the point being measured */
	double *times;          /* real_time of the pending samples */
	size_t ntimes, times_cap;
	const struct pmb_counter_plan *counters;
};

static int text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *p = realloc(t->s, cap);
		if (!p)
			return pmb_error("out of memory for the JSON results");
		t->s = p;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
	return 0;
}

/* 16384 -> "16KiB", as Google Benchmark's range names read. */
static void size_name(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (u < 4 && b >= 1024 && b % 1024 == 0) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)b, unit[u]);
}

static void bench_name(const struct pmb_point *p, char *buf, size_t len)
{
	char size[32];
	size_name(p->size_bytes, size, sizeof size);
	snprintf(buf, len, "%s/%s/%s/threads:%d", p->kernel->family, p->kernel->variant, size,
		 p->threads);
}

static int is_group_row(const struct pmb_point *p, int thread)
{
	return p->threads == 1 ? thread == 0 : thread < 0;
}

struct entry {
	const struct pmb_point *point;
	const char *run_type, *aggregate; /* aggregate: NULL for iterations */
	uint64_t reps, rep, iters;
	double real_time, cpu_time;
};

/* One entry, one line; metric(m) gives each summary metric's value. */
static int add_entry(struct text *t, const struct entry *e, const void *src,
		     double (*metric)(const void *src, int m))
{
	char run_name[256], name[300], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return pmb_error("out of memory");
	/* As Google Benchmark names them: aggregates get a _mean, _median...
	 * suffix, and run_name ties them to their iterations. */
	bench_name(e->point, run_name, sizeof run_name);
	snprintf(name, sizeof name, "%s%s%s", run_name, e->aggregate ? "_" : "",
		 e->aggregate ? e->aggregate : "");
	struct pmb_json j;
	fputs("    ", f);
	pmb_json_begin_flat(&j, f);
	pmb_json_string(&j, "name", name);
	pmb_json_string(&j, "run_name", run_name);
	pmb_json_string(&j, "run_type", e->run_type);
	pmb_json_int(&j, "repetitions", (long long)e->reps);
	pmb_json_int(&j, "repetition_index", (long long)e->rep);
	pmb_json_int(&j, "threads", e->point->threads);
	if (e->aggregate) {
		pmb_json_string(&j, "aggregate_name", e->aggregate);
		pmb_json_string(&j, "aggregate_unit", strcmp(e->aggregate, "cv") ? "time" : "percentage");
	}
	pmb_json_int(&j, "iterations", (long long)e->iters);
	pmb_json_double(&j, "real_time", e->real_time);
	pmb_json_double(&j, "cpu_time", e->cpu_time);
	pmb_json_string(&j, "time_unit", "ns");
	pmb_json_int(&j, "size_bytes", (long long)e->point->size_bytes);
	pmb_json_int(&j, "n_elems", (long long)e->point->n_elems);
	for (int m = 0; m < PMB_METRIC_COUNT; m++)
		if (pmb_schema_metric(m))
			pmb_json_double(&j, pmb_metric_name(m), metric(src, m));
	pmb_json_end(&j);
	fputs(",\n", f);
	int bad = ferror(f);
	fclose(f);
	int rc = bad ? pmb_error("out of memory") : text_add(t, buf, len);
	free(buf);
	return rc;
}

static double row_metric(const void *src, int m)
{
	return pmb_report_metric_value(src, m);
}

/* Wall time per pass of the group, net of the empty sample: the harness's
 * own ns_per_elem times the elements of one pass. */
static double pass_ns(const struct pmb_sample_row *row)
{
	double net = (double)row->ns - row->overhead_ns;
	return (net > 0 ? net : 0) / (double)(row->iters ? row->iters : 1);
}

static double task_clock_per_pass(const struct pmb_sample_row *row)
{
	if (!(row->counters.counted & PMB_CTR_MASK(PMB_CTR_TASK_CLOCK_NS)))
		return NAN;
	return (double)row->counters.value[PMB_CTR_TASK_CLOCK_NS] /
	       (double)(row->iters ? row->iters : 1);
}

static int gbench_sample(void *self, const struct pmb_run_info *run,
			 const struct pmb_sample_row *row)
{
	struct gbench *g = self;
	(void)run;
	if (!is_group_row(row->point, row->thread))
		return 0;
	double real = pass_ns(row), cpu = task_clock_per_pass(row);
	struct entry e = {.point = row->point, .run_type = "iteration", .rep = row->rep,
			  .iters = row->iters, .real_time = real,
			  .cpu_time = isnan(cpu) ? real : cpu};
	if (g->ntimes == g->times_cap) {
		size_t cap = g->times_cap ? 2 * g->times_cap : 64;
		double *t = realloc(g->times, cap * sizeof *t);
		if (!t)
			return pmb_error("out of memory");
		g->times = t;
		g->times_cap = cap;
	}
	g->times[g->ntimes++] = real;
	return add_entry(&g->pending, &e, row, row_metric);
}

struct agg_src {
	const struct pmb_point_summary *s;
	int which; /* 0 mean, 1 median, 2 stddev, 3 cv */
};

static double agg_metric(const void *src, int m)
{
	const struct agg_src *a = src;
	const struct pmb_summary *st = &a->s->metric[m];
	if (!st->n)
		return NAN;
	double v[] = {st->mean, st->median, st->stddev, st->cv};
	return v[a->which];
}

static int write_file(struct gbench *g)
{
	FILE *f = fopen(g->tmp, "w");
	if (!f)
		return pmb_error("cannot write %s: %s; check that --out is writable", g->tmp,
				 strerror(errno));
	/* The last entry's comma goes: entries end in ",\n". */
	size_t n = g->entries.len >= 2 ? g->entries.len - 2 : 0;
	fprintf(f, "{\n  \"context\": %s,\n  \"benchmarks\": [\n", g->context);
	fwrite(g->entries.s ? g->entries.s : "", 1, n, f);
	fputs(n ? "\n  ]\n}\n" : "  ]\n}\n", f);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		remove(g->tmp);
		return pmb_error("cannot write %s: %s; free space or choose another --out", g->tmp,
				 strerror(errno ? errno : EIO));
	}
	if (rename(g->tmp, g->path) != 0)
		return pmb_error("cannot rename %s: %s", g->tmp, strerror(errno));
	return 0;
}

static int gbench_point(void *self, const struct pmb_run_info *run,
			const struct pmb_point_summary *s)
{
	struct gbench *g = self;
	(void)run;
	if (!is_group_row(s->point, s->thread))
		return 0;
	struct pmb_summary t;
	pmb_stats_summarize(g->times, g->ntimes, 1, &t);
	static const char *const names[] = {"mean", "median", "stddev", "cv"};
	double real[] = {t.mean, t.median, t.stddev, t.cv};
	int rc = text_add(&g->entries, g->pending.s ? g->pending.s : "", g->pending.len);
	for (int a = 0; a < 4 && rc == 0; a++) {
		/* cpu_time follows real_time's statistic of the task clock when
		 * it was counted, as for iterations. */
		const struct pmb_summary *tc =
			&s->metric[PMB_METRIC_COUNTER0 + PMB_CTR_TASK_CLOCK_NS];
		double tcv[] = {tc->mean, tc->median, tc->stddev, tc->cv};
		double cpu = tc->n ? tcv[a] * (a == 3 ? 1 : (double)s->point->n_elems) : real[a];
		struct entry e = {.point = s->point, .run_type = "aggregate",
				  .aggregate = names[a], .reps = g->ntimes,
				  .iters = g->ntimes, .real_time = real[a], .cpu_time = cpu};
		struct agg_src src = {.s = s, .which = a};
		rc = add_entry(&g->entries, &e, &src, agg_metric);
	}
	g->pending.len = 0;
	g->ntimes = 0;
	return rc == 0 ? write_file(g) : rc;
}

static void gbench_close(void *self)
{
	struct gbench *g = self;
	free(g->context);
	free(g->entries.s);
	free(g->pending.s);
	free(g->times);
	free(g);
}

static char *format_context(const struct pmb_run_info *run, const struct pmb_gbench_context *c)
{
	char *buf = NULL, date[40];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", &tm);
	struct pmb_json j;
	pmb_json_begin(&j, f);
	pmb_json_string(&j, "date", date);
	pmb_json_string(&j, "host_name", c->host);
	pmb_json_string(&j, "executable", c->executable);
	pmb_json_int(&j, "num_cpus", c->topo->npus);
	pmb_json_double(&j, "mhz_per_cpu", round(c->clock->ticks_per_ns * 1000));
	pmb_json_bool(&j, "cpu_scaling_enabled", c->cpu_scaling);
	pmb_json_array(&j, "caches");
	for (int i = 0; i < 3; i++) {
		if (!c->topo->cache[i].size)
			continue;
		pmb_json_object(&j, NULL);
		pmb_json_string(&j, "type", i == 0 ? "Data" : "Unified");
		pmb_json_int(&j, "level", i + 1);
		pmb_json_int(&j, "size", (long long)c->topo->cache[i].size);
		pmb_json_int(&j, "num_sharing", 0); /* not known per level here */
		pmb_json_close(&j);
	}
	pmb_json_close(&j);
	pmb_json_string(&j, "library_build_type", "release");
	pmb_json_string(&j, "cpu_model", c->topo->cpu_model);
	pmb_json_string(&j, "run_id", run->run_id);
	pmb_json_string(&j, "flagset", run->flagset);
	pmb_json_string(&j, "compiler", run->compiler);
	pmb_json_string(&j, "cflags", run->cflags);
	pmb_json_string(&j, "iteration", "one pass of the kernel over its working set");
	int tc = c->counters && (c->counters->available & PMB_CTR_MASK(PMB_CTR_TASK_CLOCK_NS));
	pmb_json_string(&j, "cpu_time_source",
			tc ? "task_clock_ns (perf software event) per pass"
			   : "real_time (the task clock was not counted)");
	pmb_json_object(&j, "counters_not_counted");
	for (int i = 0; c->counters && i < pmb_counter_n(); i++)
		if (!(c->counters->available & PMB_CTR_MASK(i)))
			pmb_json_string(&j, pmb_counter_info[i].column,
					c->counters->reason[i][0] ? c->counters->reason[i]
								  : "not requested");
	pmb_json_close(&j);
	pmb_json_end(&j);
	fclose(f);
	if (buf && len && buf[len - 1] == '\n')
		buf[len - 1] = '\0'; /* "context": {...}, goes on */
	return buf;
}

/* A resumed run: keep the entries of the points already in the file. */
static int load_existing(struct gbench *g)
{
	FILE *f = fopen(g->path, "r");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		if (strncmp(line, "    { \"name\"", 12) != 0)
			continue;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ','))
			n--;
		rc = text_add(&g->entries, line, (size_t)n);
		if (rc == 0)
			rc = text_add(&g->entries, ",\n", 2);
	}
	free(line);
	fclose(f);
	return rc;
}

int pmb_report_gbench_open(struct pmb_reporter *rep, const struct pmb_run_info *run,
			   const struct pmb_gbench_context *ctx)
{
	struct gbench *g = calloc(1, sizeof *g);
	if (!g)
		return pmb_error("out of memory");
	/* benchmarks.json beside meta.json; meta-<fs>.json -> benchmarks-<fs>.json. */
	if (!strcmp(run->meta_name, "meta.json"))
		snprintf(g->path, sizeof g->path, "%s/benchmarks.json", run->run_dir);
	else
		snprintf(g->path, sizeof g->path, "%s/benchmarks-%s.json", run->run_dir,
			 run->flagset);
	snprintf(g->tmp, sizeof g->tmp, "%s.tmp", g->path);
	g->counters = ctx->counters;
	g->context = format_context(run, ctx);
	int rc = !g->context ? pmb_error("out of memory")
		 : load_existing(g) != 0 ? -1
					 : write_file(g);
	if (rc != 0) {
		gbench_close(g);
		return -1;
	}
	rep->self = g;
	rep->sample = gbench_sample;
	rep->point = gbench_point;
	rep->close = gbench_close;
	return 0;
}
