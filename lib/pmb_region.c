/* pmb_region.c — libpmubench: pmb_region_begin/end around code of your own
 * program, measured with the harness's own counter backends, clocks,
 * statistics and CSV reporter, so the rows are those of a pmubench run.
 *
 * One lock serialises the bookkeeping (rows, files); the measured part of
 * begin/end touches only the calling thread's state, so threads measure
 * their regions in parallel. */
#define _GNU_SOURCE
#include "pmb_region.h"
#include "pmb_alloc_count.h"
#include "pmb_clock.h"
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_meta.h"
#include "pmb_options.h"
#include "pmb_report.h"
#include "pmb_system.h"
#include "pmb_topology.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))
#define MAX_REGIONS 256
#define EMPTY_SAMPLES 11

struct region {
	char name[64];
	struct pmb_kernel kernel; /* names only: the harness never runs it */
	struct pmb_point point;
	struct pmb_sample_row *rows;
	size_t nrows, cap;
	uint64_t reps[256]; /* per thread */
};

static struct {
	pthread_mutex_t lock;
	int state; /* 0 not yet, 1 ready, -1 failed (stays off) */
	const struct pmb_counter_backend *backend;
	struct pmb_counter_plan cplan;
	struct pmb_options opt;
	struct pmb_system_info sys;
	const struct pmb_topology_info *topo;
	struct pmb_clock_calibration clock;
	struct pmb_plan plan;
	struct pmb_run_info run;
	struct pmb_meta meta;
	struct pmb_reporter csv;
	char program[64];
	char *argv[2];
	struct region regions[MAX_REGIONS];
	size_t nregions;
	int nthreads;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local struct {
	int index; /* 0 = not seen yet, else thread number + 1 */
	void *cstate;
	struct region *open;
	int pass;
	double overhead_ns, overhead_ticks;
	uint64_t t0, k0;
	struct pmb_alloc_count a0;
} self;

static int complain(const char *what)
{
	fprintf(stderr, "pmubench region: error: %s\n", what);
	return -1;
}

static int make_dir(struct pmb_run_info *run)
{
	const char *dir = getenv("PMB_RUN_DIR");
	if (dir && *dir) {
		snprintf(run->run_dir, sizeof run->run_dir, "%s", dir);
		if (mkdir(dir, 0777) != 0 && errno != EEXIST)
			return pmb_error("PMB_RUN_DIR=%s: cannot create: %s", dir, strerror(errno));
	} else {
		const char *out = getenv("PMB_OUT");
		out = out && *out ? out : "results";
		char stamp[32];
		pmb_meta_utc_now(stamp, sizeof stamp, 1);
		if (mkdir(out, 0777) != 0 && errno != EEXIST)
			return pmb_error("cannot create %s: %s; set PMB_OUT", out, strerror(errno));
		int made = 0;
		for (int i = 1; i < 100 && !made; i++) {
			snprintf(run->run_dir, sizeof run->run_dir, i == 1 ? "%s/region-%s-%s-%s"
								 : "%s/region-%s-%s-%s-%d",
				 out, g.program, g.sys.host, stamp, i);
			made = mkdir(run->run_dir, 0777) == 0;
			if (!made && errno != EEXIST)
				return pmb_error("cannot create %s: %s", run->run_dir, strerror(errno));
		}
	}
	const char *base = strrchr(run->run_dir, '/');
	snprintf(run->run_id, sizeof run->run_id, "%s", base ? base + 1 : run->run_dir);
	/* An existing pmubench run keeps its meta.json: ours goes beside it,
	 * as a further flag set's would. */
	char path[1200];
	snprintf(path, sizeof path, "%s/meta.json", run->run_dir);
	snprintf(run->meta_name, sizeof run->meta_name, "%s",
		 access(path, F_OK) == 0 ? "meta-region.json" : "meta.json");
	return 0;
}

static int init_locked(void)
{
	const char *exe = program_invocation_short_name;
	snprintf(g.program, sizeof g.program, "%s", exe && *exe ? exe : "program");
	pmb_options_defaults(&g.opt);
	pmb_log_set_quiet(1);
	snprintf(g.opt.config_name, sizeof g.opt.config_name, "region");
	snprintf(g.opt.flagset, sizeof g.opt.flagset, "region");
	snprintf(g.opt.kernels, sizeof g.opt.kernels, "%s/*", g.program);
	const char *events = getenv("PMB_EVENTS"), *backend = getenv("PMB_BACKEND");
	if (pmb_counter_parse_list(events && *events ? events : "all", &g.opt.counters) != 0)
		return pmb_error("PMB_EVENTS: %s", pmb_error_message());
	backend = backend && *backend ? backend : "papi";
	g.backend = pmb_counter_backend_find(backend);
	if (!g.backend || !strcmp(backend, "sim"))
		return pmb_error("PMB_BACKEND=%s: use papi or timer (sim needs the whole run "
				 "under valgrind: use pmubench itself)",
				 backend);
	snprintf(g.opt.backend, sizeof g.opt.backend, "%s", backend);
	pmb_counter_plan_reset(&g.cplan, g.opt.counters);
	if (g.backend->init(&g.cplan) != 0 || pmb_topology_load(&g.topo) != 0)
		return -1;
	pmb_system_read(&g.sys);
	pmb_clock_calibrate(&g.clock);
	g.run = (struct pmb_run_info){.flagset = g.opt.flagset,
				      .compiler = pmb_meta_compiler(),
				      .cflags = pmb_meta_cflags(),
				      .backend = g.backend->name,
				      .counters = &g.cplan,
				      .has_ticks = pmb_clock_has_ticks()};
	if (make_dir(&g.run) != 0)
		return -1;
	g.argv[0] = g.program;
	g.meta = (struct pmb_meta){.opt = &g.opt, .topo = g.topo, .sys = &g.sys,
				   .counters = &g.cplan, .backend = g.backend->name,
				   .clock = &g.clock, .plan = &g.plan, .run = &g.run,
				   .argc = 1, .argv = g.argv,
				   .counter_start_stop_ns = NAN, .sample_overhead_ns = NAN};
	pmb_meta_utc_now(g.meta.started_utc, sizeof g.meta.started_utc, 0);
	if (pmb_meta_write(&g.meta) != 0 || pmb_report_csv_open(&g.csv, &g.run) != 0)
		return -1;
	atexit((void (*)(void))pmb_region_close);
	return 0;
}

API int pmb_region_init(void)
{
	pthread_mutex_lock(&g.lock);
	if (g.state == 0) {
		g.state = init_locked() == 0 ? 1 : -1;
		if (g.state < 0)
			complain(pmb_error_message());
	}
	int rc = g.state == 1 ? 0 : -1;
	pthread_mutex_unlock(&g.lock);
	return rc;
}

static struct region *find_region(const char *name, int create)
{
	for (size_t i = 0; i < g.nregions; i++)
		if (!strcmp(g.regions[i].name, name))
			return &g.regions[i];
	if (!create || g.nregions == MAX_REGIONS || !*name || strlen(name) >= 64 ||
	    strpbrk(name, ",\"\n/"))
		return NULL;
	struct region *r = &g.regions[g.nregions++];
	snprintf(r->name, sizeof r->name, "%s", name);
	r->kernel = (struct pmb_kernel){.family = g.program, .variant = r->name,
					.description = "region", .bytes_per_elem = 1,
					.signature = ""};
	r->point = (struct pmb_point){.kernel = &r->kernel, .size_bytes = 0, .n_elems = 1,
				      .threads = 1, .cache_level = 0};
	return r;
}

/* The thread's first region: its counters, and its empty-pair cost (the
 * harness's empty-sample baseline), taken out of every row as in a run. */
static int thread_start(void)
{
	if (self.index)
		return 0;
	if (g.backend->thread_open(&g.cplan, &self.cstate) != 0)
		return -1;
	double ns[EMPTY_SAMPLES], ticks[EMPTY_SAMPLES];
	struct pmb_counter_values v;
	for (int i = 0; i < EMPTY_SAMPLES; i++) {
		uint64_t t0 = pmb_clock_ns(), k0 = pmb_clock_ticks();
		g.backend->start(self.cstate, 0);
		g.backend->stop_and_read(self.cstate, 0, "region-empty", &v);
		ticks[i] = (double)(pmb_clock_ticks() - k0);
		ns[i] = (double)(pmb_clock_ns() - t0);
	}
	self.overhead_ns = pmb_stats_median(ns, EMPTY_SAMPLES);
	self.overhead_ticks = pmb_stats_median(ticks, EMPTY_SAMPLES);
	pthread_mutex_lock(&g.lock);
	self.index = ++g.nthreads;
	pthread_mutex_unlock(&g.lock);
	return 0;
}

API int pmb_region_work(const char *name, uint64_t n_elems, uint64_t size_bytes)
{
	if (pmb_region_init() != 0)
		return -1;
	pthread_mutex_lock(&g.lock);
	struct region *r = find_region(name ? name : "", 1);
	if (r && !r->nrows && n_elems) {
		r->point.n_elems = n_elems;
		r->point.size_bytes = size_bytes;
		r->point.cache_level = pmb_topology_cache_level_for(g.topo, size_bytes);
	}
	int ok = r && r->point.n_elems == n_elems && r->point.size_bytes == size_bytes;
	pthread_mutex_unlock(&g.lock);
	return ok ? 0 : complain("pmb_region_work: bad name (1-63 characters, no , \" / or "
				 "newline), n_elems 0, or the region already has rows");
}

API int pmb_region_begin(const char *name)
{
	if (pmb_region_init() != 0)
		return -1;
	if (self.open) {
		char msg[200];
		snprintf(msg, sizeof msg, "pmb_region_begin(\"%s\") inside region \"%s\": regions "
			 "do not nest (the counters are already running); end it first",
			 name ? name : "", self.open->name);
		return complain(msg);
	}
	pthread_mutex_lock(&g.lock);
	struct region *r = find_region(name ? name : "", 1);
	int rep = r ? (int)r->reps[self.index < 256 ? self.index : 255] : 0;
	pthread_mutex_unlock(&g.lock);
	if (!r)
		return complain("pmb_region_begin: bad name (1-63 characters, no , \" / or newline) "
				"or more than 256 regions");
	if (thread_start() != 0)
		return complain(pmb_error_message());
	self.open = r;
	self.pass = rep % g.cplan.npasses;
	self.a0 = pmb_alloc_count_thread();
	self.t0 = pmb_clock_ns();
	self.k0 = pmb_clock_ticks();
	if (g.backend->start(self.cstate, self.pass) != 0) {
		self.open = NULL;
		return complain(pmb_error_message());
	}
	return 0;
}

API int pmb_region_end(const char *name)
{
	struct region *r = self.open;
	struct pmb_sample_row row;
	memset(&row, 0, sizeof row);
	int rc = r ? g.backend->stop_and_read(self.cstate, self.pass, name, &row.counters) : 0;
	uint64_t k1 = pmb_clock_ticks(), t1 = pmb_clock_ns();
	struct pmb_alloc_count a1 = pmb_alloc_count_thread();
	if (!r || strcmp(r->name, name ? name : "") != 0) {
		char msg[200];
		snprintf(msg, sizeof msg, "pmb_region_end(\"%s\") without its begin%s%s%s",
			 name ? name : "", r ? " (open: \"" : "", r ? r->name : "", r ? "\")" : "");
		return complain(msg);
	}
	self.open = NULL;
	if (rc != 0) {
		row.counters.counted = 0;
		complain(pmb_error_message());
	}
	int th = self.index - 1;
	row.point = &r->point;
	row.thread = th;
	row.core = sched_getcpu();
	row.iters = 1;
	row.ns = t1 - self.t0;
	row.tsc_ticks = k1 - self.k0;
	row.overhead_ns = self.overhead_ns;
	row.overhead_ticks = self.overhead_ticks;
	row.allocs = a1.allocs - self.a0.allocs;
	row.counter_pass = self.pass;
	row.valid = 1;
	pthread_mutex_lock(&g.lock);
	row.rep = r->reps[th < 255 ? th : 255]++;
	if (r->nrows == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct pmb_sample_row *rows = realloc(r->rows, cap * sizeof *rows);
		if (rows) {
			r->rows = rows;
			r->cap = cap;
		}
	}
	if (r->nrows < r->cap)
		r->rows[r->nrows++] = row;
	rc = g.csv.sample(g.csv.self, &g.run, &row);
	pthread_mutex_unlock(&g.lock);
	return rc == 0 ? 0 : complain(pmb_error_message());
}

/* Summary rows of one region on one thread, as the runner writes a point's. */
static int summarize(struct region *r, int thread)
{
	struct pmb_point_summary s;
	memset(&s, 0, sizeof s);
	s.point = &r->point;
	s.thread = thread;
	s.valid = 1;
	double *v = malloc((r->nrows ? r->nrows : 1) * sizeof *v);
	if (!v)
		return pmb_error("out of memory");
	int any = 0;
	for (int m = 0; m < PMB_METRIC_COUNT; m++) {
		size_t n = 0;
		for (size_t i = 0; i < r->nrows; i++) {
			if (r->rows[i].thread != thread)
				continue;
			any = 1;
			s.overhead_ns = r->rows[i].overhead_ns;
			double x = pmb_report_metric_value(&r->rows[i], m);
			if (!isnan(x))
				v[n++] = x;
		}
		pmb_stats_summarize(v, n, g.opt.seed + (uint64_t)m, &s.metric[m]);
	}
	free(v);
	return any ? g.csv.point(g.csv.self, &g.run, &s) : 0;
}

API int pmb_region_close(void)
{
	pthread_mutex_lock(&g.lock);
	if (g.state != 1) {
		pthread_mutex_unlock(&g.lock);
		return g.state == 0 ? 0 : -1;
	}
	int rc = 0;
	for (size_t i = 0; i < g.nregions; i++) {
		for (int t = 0; t < g.nthreads && rc == 0; t++)
			rc = summarize(&g.regions[i], t);
		g.meta.points_done += g.regions[i].nrows ? 1 : 0;
	}
	g.meta.points_total = g.meta.points_done;
	g.meta.complete = rc == 0;
	pmb_meta_utc_now(g.meta.finished_utc, sizeof g.meta.finished_utc, 0);
	if (rc == 0)
		rc = pmb_meta_write(&g.meta);
	g.csv.close(g.csv.self);
	if (self.cstate)
		g.backend->thread_close(self.cstate);
	g.state = 2;
	pthread_mutex_unlock(&g.lock);
	if (rc != 0)
		return complain(pmb_error_message());
	fprintf(stderr, "pmubench region: rows in %s\n", g.run.run_dir);
	return 0;
}
