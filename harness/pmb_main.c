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
#include "pmb_plugin.h"
#include "pmb_preempt.h"
#include "pmb_report.h"
#include "pmb_resume.h"
#include "pmb_sweep.h"
#include "pmb_runner.h"
#include "pmb_rundir.h"
#include "pmb_schema.h"
#include "pmb_sim_launch.h"
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

/* Everything one run holds, from set-up to the closing message. */
struct session {
	struct pmb_options opt;
	int argc;
	char **argv;
	const struct pmb_topology_info *topo;
	const struct pmb_counter_backend *backend;
	struct pmb_counter_plan cplan;
	struct pmb_calibration cal;
	struct pmb_system_info sys;
	struct pmb_plan plan;
	struct pmb_run_info run;
	struct pmb_rundir rundir;
	int rundir_open;
	struct pmb_clock_calibration clock;
	struct pmb_meta meta;
	struct pmb_core_choice core_choice;
	int preempt_guard;
	struct pmb_reporter reporters[4];
	size_t nrep;
	struct pmb_gbench_context gctx;
	struct pmb_latency_table latency;
	size_t resumed, invalid;
};

/* Releases what set-up took and returns code, printing the error when
 * code is not 0. */
static int give_up(struct session *s, int code)
{
	if (s->rundir_open)
		pmb_rundir_close(&s->rundir);
	if (s->backend)
		s->backend->fini();
	return code ? fail(code, pmb_error_message()) : 0;
}

/* Options from the config and the command line; with --resume, the run's
 * saved ones first and the ones given now on top.  0, or the exit code. */
static int parse_command_line(struct session *s)
{
	pmb_options_defaults(&s->opt);
	if (pmb_options_parse(&s->opt, s->argc, s->argv) != 0)
		return fail(EXIT_USAGE, pmb_error_message());
	if (s->opt.resume_dir[0] && s->opt.command == PMB_CMD_RUN) {
		if (pmb_rundir_load_args(s->opt.resume_dir, s->opt.flagset, &s->argc, &s->argv) != 0)
			return fail(1, pmb_error_message());
		pmb_options_defaults(&s->opt);
		if (pmb_options_parse(&s->opt, s->argc, s->argv) != 0)
			return fail(EXIT_USAGE, pmb_error_message());
	}
	pmb_log_set_quiet(s->opt.quiet);
	return 0;
}

/* --help, --schema, --version: 1 when the command was one of them. */
static int print_info(const struct pmb_options *opt, const char *argv0)
{
	if (opt->command == PMB_CMD_HELP)
		pmb_options_print_help(argv0);
	else if (opt->command == PMB_CMD_SCHEMA)
		pmb_schema_print(stdout);
	else if (opt->command == PMB_CMD_VERSION)
		printf("pmubench %s (%s)\n", PMB_VERSION, pmb_meta_compiler());
	else
		return 0;
	return 1;
}

/* Plugins, topology, the counter backend and its calibration.  0, or the
 * exit code. */
static int setup_counters(struct session *s)
{
	for (size_t i = 0; i < s->opt.nkernel_libs; i++)
		if (pmb_plugin_load(s->opt.kernel_libs[i]) != 0)
			return fail(EXIT_USAGE, pmb_error_message());
	if (pmb_topology_load(&s->topo) != 0)
		return fail(1, pmb_error_message());
	const struct pmb_counter_backend *backend = pmb_counter_backend_find(s->opt.backend);
	s->cplan.max_per_pass = s->opt.max_events_per_pass;
	pmb_counter_plan_reset(&s->cplan, s->opt.counters);
	if (backend->init(&s->cplan) != 0)
		return fail(1, pmb_error_message());
	s->backend = backend;
	if (pmb_calibrate(backend, &s->cplan, s->topo, 0, s->opt.calibrate, &s->cal) != 0)
		return give_up(s, 1);
	pmb_calibration_apply(&s->cal, &s->cplan);
	pmb_calibration_warn(&s->cal);
	return 0;
}

/* The plan and the run directory (new, --run-dir or --resume).  0, or the
 * exit code. */
static int open_run_dir(struct session *s)
{
	pmb_system_read(&s->sys);
	if (pmb_plan_build(&s->plan, &s->opt, s->topo, pmb_system_mem_usable(&s->sys)) != 0)
		return give_up(s, EXIT_USAGE);
	if (interrupted) {
		give_up(s, 0);
		return interrupted_before_start();
	}
	s->run = (struct pmb_run_info){.flagset = s->opt.flagset,
				       .compiler = pmb_meta_compiler(),
				       .cflags = pmb_meta_cflags(),
				       .meta_name = "meta.json",
				       .backend = s->backend->name,
				       .counters = &s->cplan,
				       .has_ticks = pmb_clock_has_ticks()};
	size_t dropped = 0;
	int rc = pmb_rundir_open(&s->rundir, &s->opt, s->sys.host, &s->plan, s->argc, s->argv,
				 &s->run);
	s->rundir_open = 1;
	if (rc == 0 && s->opt.resume_dir[0])
		rc = pmb_resume_prepare(s->run.run_dir, s->opt.flagset, &s->plan, &s->resumed,
					&dropped);
	if (rc != 0)
		return give_up(s, 1);
	if (dropped)
		pmb_note("--resume: %zu rows of unfinished points dropped; those points run again "
			 "from the start",
			 dropped);
	return 0;
}

/* meta.json (the run appears with it, or not at all) and the reporters.
 * 0, or the exit code. */
static int start_run(struct session *s)
{
	if (s->topo->notes[0])
		pmb_warn("topology: %s", s->topo->notes);
	if (s->plan.notes[0])
		pmb_note("%s", s->plan.notes);
	if (s->cplan.note[0])
		pmb_note("%s", s->cplan.note);
	pmb_clock_calibrate(&s->clock);
	/* Before the warnings: they look at the cores this picks. */
	int max_threads = 1;
	for (size_t i = 0; i < s->opt.nthreads; i++)
		if (s->opt.threads[i] > max_threads)
			max_threads = s->opt.threads[i];
	pmb_cores_choose(&s->opt, s->topo, max_threads, 150, &s->core_choice);
	warn_about_machine(&s->sys, s->topo, &s->opt, &s->clock);
	s->meta = (struct pmb_meta){.opt = &s->opt, .core_choice = &s->core_choice,
				    .topo = s->topo, .sys = &s->sys,
				    .counters = &s->cplan, .calibration = &s->cal,
				    .backend = s->backend->name, .clock = &s->clock,
				    .plan = &s->plan, .run = &s->run, .argc = s->argc,
				    .argv = s->argv, .points_total = s->plan.npoints,
				    .points_resumed = s->resumed};
	/* The cost is timed between two clock reads: take one read out. */
	s->meta.counter_start_stop_ns =
		measure_counter_cost(s->backend, &s->cplan) - s->clock.ns_read_cost;
	s->preempt_guard =
		pmb_preempt_probe(s->backend, s->meta.preemption, sizeof s->meta.preemption);
	if (!s->preempt_guard)
		pmb_note("preemption guard %s", s->meta.preemption);
	s->meta.sample_overhead_ns = NAN;
	pmb_meta_utc_now(s->meta.started_utc, sizeof s->meta.started_utc, 0);
	int rc = interrupted ? 0 : pmb_meta_write(&s->meta);
	if (rc == 0 && !interrupted) {
		rc = pmb_rundir_publish(&s->rundir, &s->run);
		if (rc == 1)
			rc = pmb_meta_write(&s->meta); /* renamed on a clash: new run_id */
	}
	if (rc != 0)
		return give_up(s, 1);
	if (interrupted) {
		give_up(s, 0);
		return interrupted_before_start();
	}
	size_t todo = s->plan.npoints - s->resumed;
	/* Reporters: the chosen file formats, the console, the latency table. */
	s->gctx = (struct pmb_gbench_context){.topo = s->topo, .clock = &s->clock,
					      .counters = &s->cplan, .host = s->sys.host,
					      .executable = s->argv[0],
					      .cpu_scaling = strcmp(s->sys.governor, "performance") != 0};
	rc = 0;
	if (s->opt.format & PMB_FORMAT_CSV)
		rc = pmb_report_csv_open(&s->reporters[s->nrep++], &s->run);
	if (rc == 0 && (s->opt.format & PMB_FORMAT_JSON))
		rc = pmb_report_gbench_open(&s->reporters[s->nrep++], &s->run, &s->gctx);
	if (rc == 0)
		rc = pmb_report_console_open(&s->reporters[s->nrep++], todo, s->opt.quiet);
	if (rc == 0)
		rc = pmb_latency_reporter_open(&s->reporters[s->nrep++], &s->latency);
	if (rc != 0)
		return give_up(s, 1);
	pmb_note("%zu points (%zu kernels x %zu sizes x %zu thread counts)%s -> %s", todo,
		 s->plan.npoints / (s->plan.nsizes * s->opt.nthreads), s->plan.nsizes,
		 s->opt.nthreads, s->resumed ? " left to resume" : "", s->run.run_dir);
	return 0;
}

/* The run's last word on stderr/stdout, and its exit code. */
static int report_outcome(const struct session *s, int rc, int meta_rc, const char *error)
{
	const char *run_dir = s->run.run_dir, *argv0 = s->argv[0];
	int tagged = strcmp(s->opt.flagset, "default") != 0;
	/* One error: when the rows failed (disk full), meta.json failing too
	 * is the same cause, so it is a remark, not a second error. */
	if (meta_rc != 0 && rc == 0)
		fprintf(stderr, "pmubench: error: %s\n", pmb_error_message());
	if (rc != 0) {
		fprintf(stderr, "pmubench: error: %s\n", error);
		fprintf(stderr, "pmubench: rows measured so far are kept in %s; continue with: %s "
				"--resume %s%s%s%s\n",
			run_dir, argv0, run_dir, tagged ? " --flagset " : "",
			tagged ? s->opt.flagset : "",
			meta_rc != 0 ? " (meta.json could not be updated: it still says complete=false)"
				     : "");
		return 1;
	}
	if (interrupted) {
		fprintf(stderr,
			"pmubench: interrupted by signal %d after %zu of %zu points; finished rows are "
			"kept in %s; continue with: %s --resume %s%s%s\n",
			(int)interrupted, s->meta.points_done + s->resumed, s->plan.npoints, run_dir,
			argv0, run_dir, tagged ? " --flagset " : "", tagged ? s->opt.flagset : "");
		return 128 + (int)interrupted;
	}
	if (s->invalid) {
		fprintf(stderr, "pmubench: error: %zu points failed their result check (valid=0 "
				"in the CSV): the measurements are not trustworthy\n",
			s->invalid);
		return 1;
	}
	printf("%s\n", run_dir);
	return meta_rc == 0 ? 0 : 1;
}

/* The sweep, then meta.json's final state; returns the exit code. */
static int run_and_finish(struct session *s)
{
	struct pmb_runner runner = {.opt = &s->opt, .topo = s->topo, .backend = s->backend,
				    .counters = &s->cplan, .run = &s->run,
				    .reporters = s->reporters, .nreporters = s->nrep,
				    .interrupted = &interrupted, .clock_step_ns = s->clock.ns_step,
				    .preempt_guard = s->preempt_guard};
	struct pmb_sweep_outcome swept;
	int rc = pmb_sweep_run(&runner, &s->plan, &swept);
	s->meta.points_done = swept.points_done;
	s->meta.samples_discarded = swept.discarded;
	s->meta.sample_overhead_ns = swept.overhead_ns;
	s->invalid = swept.invalid;
	char error[1024] = "";
	if (rc != 0)
		snprintf(error, sizeof error, "%s", pmb_error_message());
	snprintf(s->meta.error, sizeof s->meta.error, "%s", error);
	s->meta.interrupted_by = interrupted;
	s->meta.complete = rc == 0 && !interrupted &&
			   s->meta.points_done + s->resumed == s->plan.npoints;
	pmb_meta_utc_now(s->meta.finished_utc, sizeof s->meta.finished_utc, 0);
	for (size_t i = 0; i < s->nrep; i++)
		s->reporters[i].close(s->reporters[i].self);
	if (s->latency.npoints) {
		const struct pmb_topology_info *t = s->topo;
		uint64_t cache_size[3] = {t->cache[0].size, t->cache[1].size, t->cache[2].size};
		pmb_latency_table_detect(&s->latency, cache_size, t->llc_level);
		s->meta.latency = &s->latency;
		pmb_note("latency/chase per level: %s", s->latency.text);
	}
	int meta_rc = pmb_meta_write(&s->meta);
	pmb_rundir_close(&s->rundir);
	s->backend->fini();
	int code = report_outcome(s, rc, meta_rc, error);
	if (code == 0 && s->opt.save_baseline[0]) {
		if (pmb_baseline_save(s->run.run_dir, s->sys.host, s->opt.save_baseline) != 0)
			code = fail(1, pmb_error_message());
		else
			pmb_note("saved as baseline '%s' of %s", s->opt.save_baseline, s->sys.host);
	}
	pmb_plan_free(&s->plan);
	pmb_topology_unload();
	return code;
}

int main(int argc, char **argv)
{
	install_signal_handlers();
	static struct session s;
	s.argc = argc;
	s.argv = argv;
	int rc = parse_command_line(&s);
	if (rc != 0)
		return rc;
	if (print_info(&s.opt, s.argv[0]))
		return 0;
	/* --backend sim: this command runs again under valgrind; the native
	 * process only supervises and never gets past here. */
	if (pmb_sim_launch(s.opt.backend) != 0)
		return fail(1, pmb_error_message());
	if ((rc = setup_counters(&s)) != 0)
		return rc;
	if (s.opt.command == PMB_CMD_LIST) {
		if (pmb_plan_check_filter(s.opt.kernels) != 0)
			return give_up(&s, EXIT_USAGE);
		pmb_list_print(stdout, s.opt.list_format, s.opt.kernels, &s.cplan, s.backend->name,
			       &s.cal);
		return give_up(&s, 0);
	}
	if ((rc = open_run_dir(&s)) != 0 || (rc = start_run(&s)) != 0)
		return rc;
	return run_and_finish(&s);
}
