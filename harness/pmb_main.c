/* pmubench — the only place that prints errors and exits. */
#define _GNU_SOURCE
#include "pmb_baseline.h"
#include "pmb_calibrate.h"
#include "pmb_clock.h"
#include "pmb_cores.h"
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_latency_table.h"
#include "pmb_list.h"
#include "pmb_meta.h"
#include "pmb_options.h"
#include "pmb_parse.h"
#include "pmb_plan.h"
#include "pmb_preempt.h"
#include "pmb_plugin.h"
#include "pmb_report.h"
#include "pmb_resume.h"
#include "pmb_runner.h"
#include "pmb_rundir.h"
#include "pmb_system.h"
#include "pmb_topology.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PMB_VERSION
#define PMB_VERSION "0.1.0"
#endif

enum { EXIT_USAGE = 2 };

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* Installed before anything else: a signal during set-up (topology, PAPI,
 * calibration) must not kill the process half way through making the run
 * directory.  SIGPIPE (stderr piped into `head`) and SIGHUP (terminal
 * closed) stop a run like ^C does.  SIGXFSZ is ignored: a file over
 * `ulimit -f` then fails its write with EFBIG, which is handled like a
 * full disk (whole rows only, a clear message). */
static void install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
		sigaction(stop_signals[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGXFSZ, &sa, NULL);
}

static int fail(int code, const char *what)
{
	fprintf(stderr, "pmubench: error: %s\n", what);
	return code;
}

/* Median cost of start + stop_and_read on this thread: the PAPI part of
 * papi_cost, for any backend. */
static double measure_counter_cost(const struct pmb_counter_backend *b,
				   const struct pmb_counter_plan *plan)
{
	void *ts = NULL;
	if (b->thread_open(plan, &ts) != 0)
		return NAN;
	double cost[101];
	struct pmb_counter_values v;
	for (int i = 0; i < 101; i++) {
		uint64_t t0 = pmb_clock_ns();
		b->start(ts, 0);
		b->stop_and_read(ts, 0, "calibration", &v);
		cost[i] = (double)(pmb_clock_ns() - t0);
	}
	b->thread_close(ts);
	for (int i = 1; i < 101; i++) /* insertion sort: 101 values */
		for (int j = i; j > 0 && cost[j] < cost[j - 1]; j--) {
			double t = cost[j];
			cost[j] = cost[j - 1];
			cost[j - 1] = t;
		}
	return cost[50];
}

static void warn_about_machine(const struct pmb_system_info *sys,
			       const struct pmb_topology_info *topo, const struct pmb_options *opt,
			       const struct pmb_clock_calibration *clock)
{
	if (sys->vm)
		pmb_warn("running in a virtual machine (%s): timings include hypervisor noise "
			 "and hardware counters may be missing",
			 sys->hypervisor[0] ? sys->hypervisor : "hypervisor");
	if (strcmp(sys->governor, "performance") != 0)
		pmb_warn("cpu frequency governor is '%s', not 'performance': frequency may vary "
			 "(cpupower frequency-set -g performance)",
			 sys->governor);
	if (opt->min_sample_ms * 1e6 < 1000 * clock->ns_step)
		pmb_warn("min_sample_ms %.3g ms is shorter than 1000x the clock step (%.0f ns): "
			 "raise --min-sample-ms",
			 opt->min_sample_ms, clock->ns_step);
	int maxt = 1;
	for (size_t i = 0; i < opt->nthreads; i++)
		if (opt->threads[i] > maxt)
			maxt = opt->threads[i];
	for (int t = 0; t < maxt && t < topo->ncores; t++) {
		double busy = pmb_system_cpu_busy(pmb_plan_core_for(opt, topo, t), 100);
		if (busy > 0.10)
			pmb_warn("cpu %d was %.0f%% busy with other work before the run: results "
				 "will be noisy",
				 pmb_plan_core_for(opt, topo, t), busy * 100);
	}
}

/* A signal before the run directory is published: nothing is left. */
static int interrupted_before_start(void)
{
	fprintf(stderr, "pmubench: interrupted by signal %d before the run started; nothing was "
			"written\n",
		(int)interrupted);
	return 128 + (int)interrupted;
}

/* Runs the points not yet done; returns 0 or -1 (pmb_error). */
static int run_points(struct pmb_runner *runner, struct pmb_plan *plan, struct pmb_meta *meta,
		      size_t *invalid, double ns_step)
{
	double *overheads = calloc(plan->npoints + 1, sizeof *overheads);
	size_t noverheads = 0;
	int short_warned = 0, rc = 0;
	for (size_t i = 0; i < plan->npoints && !interrupted; i++) {
		if (plan->points[i].done)
			continue;
		struct pmb_point_outcome out;
		rc = pmb_runner_run_point(runner, &plan->points[i], &out);
		meta->samples_discarded += out.discarded;
		if (out.samples && rc == 0)
			meta->points_done++;
		if (overheads && out.samples)
			overheads[noverheads++] = out.overhead_ns;
		if (out.samples && !out.valid)
			(*invalid)++;
		if (out.short_samples && !short_warned) {
			pmb_warn("some samples were shorter than 1000x the clock step (%.0f ns); "
				 "raise --min-sample-ms",
				 ns_step);
			short_warned = 1;
		}
		if (rc != 0)
			break;
	}
	if (overheads && noverheads) {
		for (size_t a = 1; a < noverheads; a++)
			for (size_t b = a; b > 0 && overheads[b] < overheads[b - 1]; b--) {
				double t = overheads[b];
				overheads[b] = overheads[b - 1];
				overheads[b - 1] = t;
			}
		meta->sample_overhead_ns = overheads[noverheads / 2];
	}
	free(overheads);
	return rc;
}

int main(int argc, char **argv)
{
	install_signal_handlers();
	struct pmb_options opt;
	pmb_options_defaults(&opt);
	if (pmb_options_parse(&opt, argc, argv) != 0)
		return fail(EXIT_USAGE, pmb_error_message());
	if (opt.resume_dir[0] && opt.command == PMB_CMD_RUN) {
		/* The run's own options first, the ones given now on top. */
		if (pmb_rundir_load_args(opt.resume_dir, opt.flagset, &argc, &argv) != 0)
			return fail(1, pmb_error_message());
		pmb_options_defaults(&opt);
		if (pmb_options_parse(&opt, argc, argv) != 0)
			return fail(EXIT_USAGE, pmb_error_message());
	}
	pmb_log_set_quiet(opt.quiet);
	if (opt.command == PMB_CMD_HELP) {
		pmb_options_print_help(argv[0]);
		return 0;
	}
	if (opt.command == PMB_CMD_VERSION) {
		printf("pmubench %s (%s)\n", PMB_VERSION, pmb_meta_compiler());
		return 0;
	}

	for (size_t i = 0; i < opt.nkernel_libs; i++)
		if (pmb_plugin_load(opt.kernel_libs[i]) != 0)
			return fail(EXIT_USAGE, pmb_error_message());

	const struct pmb_topology_info *topo;
	if (pmb_topology_load(&topo) != 0)
		return fail(1, pmb_error_message());

	const struct pmb_counter_backend *backend = pmb_counter_backend_find(opt.backend);
	static struct pmb_counter_plan cplan;
	cplan.max_per_pass = opt.max_events_per_pass;
	pmb_counter_plan_reset(&cplan, opt.counters);
	if (backend->init(&cplan) != 0)
		return fail(1, pmb_error_message());
	static struct pmb_calibration cal;
	if (pmb_calibrate(backend, &cplan, topo, 0, opt.calibrate, &cal) != 0) {
		backend->fini();
		return fail(1, pmb_error_message());
	}
	pmb_calibration_apply(&cal, &cplan);
	pmb_calibration_warn(&cal);

	if (opt.command == PMB_CMD_LIST) {
		if (pmb_plan_check_filter(opt.filter) != 0) {
			backend->fini();
			return fail(EXIT_USAGE, pmb_error_message());
		}
		pmb_list_print(stdout, opt.list_format, opt.filter, &cplan, backend->name, &cal);
		backend->fini();
		return 0;
	}

	struct pmb_system_info sys;
	pmb_system_read(&sys);
	static struct pmb_plan plan;
	if (pmb_plan_build(&plan, &opt, topo, pmb_system_mem_usable(&sys)) != 0) {
		backend->fini();
		return fail(EXIT_USAGE, pmb_error_message());
	}
	if (interrupted) {
		backend->fini();
		return interrupted_before_start();
	}

	struct pmb_run_info run = {.flagset = opt.flagset,
				   .compiler = pmb_meta_compiler(),
				   .cflags = pmb_meta_cflags(),
				   .meta_name = "meta.json",
				   .counter_source = backend->name,
				   .has_ticks = pmb_clock_has_ticks()};
	size_t resumed = 0, dropped = 0;
	struct pmb_rundir rundir;
	int rc = pmb_rundir_open(&rundir, &opt, sys.host, &plan, argc, argv, &run);
	if (rc == 0 && opt.resume_dir[0])
		rc = pmb_resume_prepare(run.run_dir, opt.flagset, &plan, &resumed, &dropped);
	if (rc != 0) {
		pmb_rundir_close(&rundir);
		backend->fini();
		return fail(1, pmb_error_message());
	}
	if (dropped)
		pmb_note("--resume: %zu rows of unfinished points dropped; those points run again "
			 "from the start",
			 dropped);

	if (topo->notes[0])
		pmb_warn("topology: %s", topo->notes);
	if (plan.notes[0])
		pmb_note("%s", plan.notes);
	if (cplan.note[0])
		pmb_note("%s", cplan.note);

	struct pmb_clock_calibration clock;
	pmb_clock_calibrate(&clock);
	/* Before the warnings: they look at the cores this picks. */
	static struct pmb_core_choice core_choice;
	int max_threads = 1;
	for (size_t i = 0; i < opt.nthreads; i++)
		if (opt.threads[i] > max_threads)
			max_threads = opt.threads[i];
	pmb_cores_choose(&opt, topo, max_threads, 150, &core_choice);
	warn_about_machine(&sys, topo, &opt, &clock);

	struct pmb_meta meta = {.opt = &opt,
				.core_choice = &core_choice,
				.topo = topo,
				.sys = &sys,
				.counters = &cplan,
				.calibration = &cal,
				.backend = backend->name,
				.clock = &clock,
				.plan = &plan,
				.run = &run,
				.argc = argc,
				.argv = argv,
				.points_total = plan.npoints,
				.points_resumed = resumed};
	/* The cost is timed between two clock reads: take one read out. */
	meta.counter_start_stop_ns = measure_counter_cost(backend, &cplan) - clock.ns_read_cost;
	int preempt_guard = pmb_preempt_probe(backend, meta.preemption, sizeof meta.preemption);
	if (!preempt_guard)
		pmb_note("preemption guard %s", meta.preemption);
	meta.sample_overhead_ns = NAN;
	pmb_meta_utc_now(meta.started_utc, sizeof meta.started_utc, 0);
	/* A new run appears under its name with meta.json in it, or not at all. */
	rc = interrupted ? 0 : pmb_meta_write(&meta);
	if (rc == 0 && !interrupted) {
		rc = pmb_rundir_publish(&rundir, &run);
		if (rc == 1)
			rc = pmb_meta_write(&meta); /* renamed on a clash: new run_id */
	}
	if (rc != 0 || interrupted) {
		pmb_rundir_close(&rundir);
		backend->fini();
		return rc != 0 ? fail(1, pmb_error_message()) : interrupted_before_start();
	}

	/* Reporters: the chosen file formats, the console, the latency table. */
	struct pmb_reporter reporters[4];
	size_t nrep = 0;
	static struct pmb_latency_table latency;
	struct pmb_gbench_context gctx = {.topo = topo, .clock = &clock, .counters = &cplan,
					  .host = sys.host, .executable = argv[0],
					  .cpu_scaling = strcmp(sys.governor, "performance") != 0};
	rc = 0;
	if (opt.format & PMB_FORMAT_CSV)
		rc = pmb_report_csv_open(&reporters[nrep++], &run);
	if (rc == 0 && (opt.format & PMB_FORMAT_JSON))
		rc = pmb_report_gbench_open(&reporters[nrep++], &run, &gctx);
	if (rc == 0)
		rc = pmb_report_console_open(&reporters[nrep++], plan.npoints - resumed, opt.quiet);
	if (rc == 0)
		rc = pmb_latency_reporter_open(&reporters[nrep++], &latency);
	if (rc != 0) {
		pmb_rundir_close(&rundir);
		backend->fini();
		return fail(1, pmb_error_message());
	}
	pmb_note("%zu points (%zu kernels x %zu sizes x %zu thread counts)%s -> %s",
		 plan.npoints - resumed, plan.npoints / (plan.nsizes * opt.nthreads), plan.nsizes,
		 opt.nthreads, resumed ? " left to resume" : "", run.run_dir);

	struct pmb_runner runner = {.opt = &opt,
				    .topo = topo,
				    .backend = backend,
				    .counters = &cplan,
				    .run = &run,
				    .reporters = reporters,
				    .nreporters = nrep,
				    .interrupted = &interrupted,
				    .clock_step_ns = clock.ns_step,
				    .preempt_guard = preempt_guard};
	size_t invalid = 0;
	rc = run_points(&runner, &plan, &meta, &invalid, clock.ns_step);

	char error[1024] = "";
	if (rc != 0)
		snprintf(error, sizeof error, "%s", pmb_error_message());
	snprintf(meta.error, sizeof meta.error, "%s", error);
	meta.interrupted_by = interrupted;
	meta.complete = rc == 0 && !interrupted && meta.points_done + resumed == plan.npoints;
	pmb_meta_utc_now(meta.finished_utc, sizeof meta.finished_utc, 0);
	for (size_t i = 0; i < nrep; i++)
		reporters[i].close(reporters[i].self);
	if (latency.npoints) {
		uint64_t cache_size[3] = {topo->cache[0].size, topo->cache[1].size,
					  topo->cache[2].size};
		pmb_latency_table_detect(&latency, cache_size, topo->llc_level);
		meta.latency = &latency;
		pmb_note("latency/chase per level: %s", latency.text);
	}
	int meta_rc = pmb_meta_write(&meta);
	pmb_rundir_close(&rundir);
	backend->fini();
	size_t npoints = plan.npoints;
	pmb_plan_free(&plan);
	pmb_topology_unload();

	/* One error: when the rows failed (disk full), meta.json failing too
	 * is the same cause, so it is a remark, not a second error. */
	if (meta_rc != 0 && rc == 0)
		fprintf(stderr, "pmubench: error: %s\n", pmb_error_message());
	if (rc != 0) {
		fprintf(stderr, "pmubench: error: %s\n", error);
		fprintf(stderr, "pmubench: rows measured so far are kept in %s; continue with: %s "
				"--resume %s%s%s%s\n",
			run.run_dir, argv[0], run.run_dir,
			strcmp(opt.flagset, "default") ? " --flagset " : "",
			strcmp(opt.flagset, "default") ? opt.flagset : "",
			meta_rc != 0 ? " (meta.json could not be updated: it still says complete=false)"
				     : "");
		return 1;
	}
	if (interrupted) {
		fprintf(stderr,
			"pmubench: interrupted by signal %d after %zu of %zu points; finished rows are "
			"kept in %s; continue with: %s --resume %s%s%s\n",
			(int)interrupted, meta.points_done + resumed, npoints, run.run_dir, argv[0],
			run.run_dir, strcmp(opt.flagset, "default") ? " --flagset " : "",
			strcmp(opt.flagset, "default") ? opt.flagset : "");
		return 128 + (int)interrupted;
	}
	if (invalid) {
		fprintf(stderr, "pmubench: error: %zu points failed their result check (valid=0 "
				"in the CSV): the measurements are not trustworthy\n",
			invalid);
		return 1;
	}
	if (meta_rc == 0 && opt.save_baseline[0]) {
		if (pmb_baseline_save(run.run_dir, sys.host, opt.save_baseline) != 0) {
			fprintf(stderr, "pmubench: error: %s\n", pmb_error_message());
			return 1;
		}
		pmb_note("saved as baseline '%s' of %s", opt.save_baseline, sys.host);
	}
	printf("%s\n", run.run_dir);
	return meta_rc == 0 ? 0 : 1;
}
