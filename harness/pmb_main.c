/* pmubench — the only place that prints errors and exits. */
#define _GNU_SOURCE
#include "pmb_calibrate.h"
#include "pmb_clock.h"
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_meta.h"
#include "pmb_options.h"
#include "pmb_parse.h"
#include "pmb_plan.h"
#include "pmb_plugin.h"
#include "pmb_report.h"
#include "pmb_resume.h"
#include "pmb_runner.h"
#include "pmb_system.h"
#include "pmb_topology.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static void install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int fail(int code, const char *what)
{
	fprintf(stderr, "pmubench: error: %s\n", what);
	return code;
}

static void print_list(const struct pmb_counter_plan *plan, const char *backend,
		       const struct pmb_calibration *cal)
{
	printf("Kernels (family/variant, bytes per element, description; expected signature):\n");
	for (size_t i = 0; i < pmb_plan_kernel_count(); i++) {
		const struct pmb_kernel *k = pmb_plan_kernel_at(i);
		char name[96];
		snprintf(name, sizeof name, "%s/%s", k->family, k->variant);
		printf("  %-28s %3zu B  %s\n  %-28s        expect: %s\n", name, k->bytes_per_elem,
		       k->description, "", k->signature);
	}
	printf("\nCounters with --backend=%s", backend);
	if (plan->backend_version[0])
		printf(" (%s)", plan->backend_version);
	printf(":\n");
	for (int c = 0; c < PMB_CTR_COUNT; c++) {
		if (plan->available & PMB_CTR_MASK(c))
			printf("  %-18s yes  %s (pass %d)\n", pmb_counter_info[c].column,
			       plan->event_name[c], plan->pass_of[c]);
		else
			printf("  %-18s no   %s\n", pmb_counter_info[c].column,
			       plan->reason[c][0] ? plan->reason[c] : "not requested");
		char line[400];
		pmb_calibration_describe(cal, c, line, sizeof line);
		if (line[0])
			printf("  %-18s      %s\n", "", line);
	}
	if (cal->ran)
		printf("Calibration: ran in %.2f s (--no-calibrate skips it)\n", cal->seconds);
	else
		printf("Calibration: %s\n", cal->status);
	printf("\nAlways measured: ns (CLOCK_MONOTONIC_RAW), tsc_ticks (reference ticks), allocs.\n");
}

/* results/<config>-<host>-<UTC time>, made new; a name taken in the same
 * second gets a suffix: an existing run is never written into. */
static int make_run_dir(const struct pmb_options *opt, const char *host, struct pmb_run_info *run)
{
	char stamp[32];
	pmb_meta_utc_now(stamp, sizeof stamp, 1);
	if (mkdir(opt->out_dir, 0777) != 0 && errno != EEXIST)
		return pmb_error("cannot create results directory '%s': %s; create it or pass a "
				 "writable --out",
				 opt->out_dir, strerror(errno));
	struct stat st;
	if (stat(opt->out_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return pmb_error("--out '%s' is not a directory; pass a directory", opt->out_dir);
	if (access(opt->out_dir, W_OK | X_OK) != 0)
		return pmb_error("results directory '%s' is not writable: %s; fix its permissions "
				 "or pass another --out",
				 opt->out_dir, strerror(errno));
	for (int attempt = 1; attempt < 100; attempt++) {
		if (attempt == 1)
			snprintf(run->run_id, sizeof run->run_id, "%s-%s-%s", opt->config_name, host,
				 stamp);
		else
			snprintf(run->run_id, sizeof run->run_id, "%s-%s-%s-%d", opt->config_name,
				 host, stamp, attempt);
		snprintf(run->run_dir, sizeof run->run_dir, "%s/%s", opt->out_dir, run->run_id);
		if (mkdir(run->run_dir, 0777) == 0)
			return 0;
		if (errno != EEXIST)
			return pmb_error("cannot create run directory '%s': %s; pass a writable --out",
					 run->run_dir, strerror(errno));
	}
	return pmb_error("cannot find a new run directory name under '%s'", opt->out_dir);
}

static void set_run_id_from_dir(struct pmb_run_info *run, const char *dir)
{
	snprintf(run->run_dir, sizeof run->run_dir, "%s", dir);
	size_t len = strlen(run->run_dir);
	while (len > 1 && run->run_dir[len - 1] == '/')
		run->run_dir[--len] = '\0';
	const char *base = strrchr(run->run_dir, '/');
	snprintf(run->run_id, sizeof run->run_id, "%s", base ? base + 1 : run->run_dir);
}

/* A flag-set matrix writes several binaries' rows into one run: meta.json
 * describes the first flag set, meta-<flagset>.json each further one.
 * Returns 1 when this flag set already has its meta file in the run. */
static int choose_meta_name(struct pmb_run_info *run, const char *flagset)
{
	char path[1200], needle[96];
	snprintf(path, sizeof path, "%s/meta.json", run->run_dir);
	snprintf(run->meta_name, sizeof run->meta_name, "meta.json");
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	snprintf(needle, sizeof needle, "\"flagset\": \"%s\"", flagset);
	char line[1024];
	int ours = 0;
	while (!ours && fgets(line, sizeof line, f))
		ours = strstr(line, needle) != NULL;
	fclose(f);
	if (ours)
		return 1;
	snprintf(run->meta_name, sizeof run->meta_name, "meta-%s.json", flagset);
	snprintf(path, sizeof path, "%s/%s", run->run_dir, run->meta_name);
	return access(path, F_OK) == 0;
}

static int use_run_dir(const struct pmb_options *opt, struct pmb_run_info *run)
{
	/* Make the parents too, as mkdir -p: the results root may be new. */
	char parent[512];
	snprintf(parent, sizeof parent, "%s", opt->run_dir);
	for (char *p = parent + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(parent, 0777) != 0 && errno != EEXIST)
			return pmb_error("cannot create directory '%s': %s; check the path and its "
					 "permissions",
					 parent, strerror(errno));
		*p = '/';
	}
	if (mkdir(opt->run_dir, 0777) != 0 && errno != EEXIST)
		return pmb_error("cannot create run directory '%s': %s; check the path and its "
				 "permissions",
				 opt->run_dir, strerror(errno));
	set_run_id_from_dir(run, opt->run_dir);
	if (choose_meta_name(run, opt->flagset))
		return pmb_error("--run-dir: '%s' already has results of flag set '%s' and is never "
				 "overwritten; continue it with --resume %s --flagset %s, or pick a "
				 "new directory",
				 run->run_dir, opt->flagset, run->run_dir, opt->flagset);
	return 0;
}

static int use_resume_dir(const struct pmb_options *opt, struct pmb_run_info *run)
{
	struct stat st;
	if (stat(opt->resume_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return pmb_error("--resume: '%s' is not a run directory; give a directory under "
				 "results/",
				 opt->resume_dir);
	set_run_id_from_dir(run, opt->resume_dir);
	if (!choose_meta_name(run, opt->flagset))
		return pmb_error("--resume: '%s' has no meta.json for flag set '%s'; it is not a "
				 "pmubench run (or give its --flagset)",
				 opt->resume_dir, opt->flagset);
	return 0;
}

/* The command line of a run, saved in its directory so that --resume DIR
 * alone rebuilds the same plan: arguments after argv[0], each ended by a
 * NUL byte, in .pmubench-args-<flagset> (one per flag set of a --run-dir
 * matrix).  Written once, when the flag set's results start. */
static int save_run_args(const char *run_dir, const char *flagset, int argc, char **argv)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/.pmubench-args-%s", run_dir, flagset);
	FILE *f = fopen(path, "w");
	if (!f)
		return pmb_error("cannot write %s: %s; pass a writable --out", path, strerror(errno));
	for (int i = 1; i < argc; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, f);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return pmb_error("cannot write %s: %s; free space or choose another --out", path,
				 strerror(errno ? errno : EIO));
	return 0;
}

/* argv becomes: argv[0], the saved arguments, then the ones given now
 * (later options win, so `--resume DIR --quiet` works).  Kept until exit. */
static int load_run_args(const char *run_dir, const char *flagset, int *argc, char ***argv)
{
	static char text[65536];
	static char *args[1024];
	char path[1200];
	snprintf(path, sizeof path, "%s/.pmubench-args-%s", run_dir, flagset);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0; /* older pmubench, or no run: use_resume_dir says */
		return pmb_error("--resume: cannot read %s: %s", path, strerror(errno));
	}
	size_t len = fread(text, 1, sizeof text, f);
	int full = len == sizeof text;
	fclose(f);
	if (full || (len && text[len - 1] != '\0'))
		return pmb_error("--resume: %s is damaged; resume with the run's original options "
				 "given again, after deleting that file",
				 path);
	int n = 0;
	args[n++] = (*argv)[0];
	for (size_t i = 0; i < len && n < 1000; i += strlen(text + i) + 1)
		args[n++] = text + i;
	for (int i = 1; i < *argc && n < 1023; i++)
		args[n++] = (*argv)[i];
	args[n] = NULL;
	*argc = n;
	*argv = args;
	return 0;
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

int main(int argc, char **argv)
{
	struct pmb_options opt;
	pmb_options_defaults(&opt);
	if (pmb_options_parse(&opt, argc, argv) != 0)
		return fail(EXIT_USAGE, pmb_error_message());
	if (opt.resume_dir[0] && opt.command == PMB_CMD_RUN) {
		/* The run's own options first, the ones given now on top. */
		if (load_run_args(opt.resume_dir, opt.flagset, &argc, &argv) != 0)
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

	if (opt.command == PMB_CMD_LIST) {
		print_list(&cplan, backend->name, &cal);
		backend->fini();
		return 0;
	}

	struct pmb_system_info sys;
	pmb_system_read(&sys);
	static struct pmb_plan plan;
	if (pmb_plan_build(&plan, &opt, topo, sys.mem_available) != 0) {
		backend->fini();
		return fail(EXIT_USAGE, pmb_error_message());
	}

	struct pmb_run_info run = {.flagset = opt.flagset,
				   .compiler = pmb_meta_compiler(),
				   .cflags = pmb_meta_cflags(),
				   .meta_name = "meta.json",
				   .counter_source = backend->name,
				   .has_ticks = pmb_clock_has_ticks()};
	size_t resumed = 0;
	int rc = opt.resume_dir[0] ? use_resume_dir(&opt, &run)
		 : opt.run_dir[0]  ? use_run_dir(&opt, &run)
				   : make_run_dir(&opt, sys.host, &run);
	if (rc == 0 && !opt.resume_dir[0])
		rc = save_run_args(run.run_dir, opt.flagset, argc, argv);
	if (rc == 0 && opt.resume_dir[0])
		rc = pmb_resume_mark_done(run.run_dir, opt.flagset, &plan, &resumed);
	if (rc != 0) {
		backend->fini();
		return fail(1, pmb_error_message());
	}

	if (topo->notes[0])
		pmb_warn("topology: %s", topo->notes);
	if (plan.notes[0])
		pmb_note("%s", plan.notes);
	if (cplan.note[0])
		pmb_note("%s", cplan.note);

	struct pmb_clock_calibration clock;
	pmb_clock_calibrate(&clock);
	warn_about_machine(&sys, topo, &opt, &clock);

	struct pmb_meta meta = {.opt = &opt,
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
	meta.sample_overhead_ns = NAN;
	pmb_meta_utc_now(meta.started_utc, sizeof meta.started_utc, 0);
	if (pmb_meta_write(&meta) != 0) {
		backend->fini();
		return fail(1, pmb_error_message());
	}

	struct pmb_reporter reporters[2];
	if (pmb_report_csv_open(&reporters[0], &run) != 0 ||
	    pmb_report_console_open(&reporters[1], plan.npoints - resumed, opt.quiet) != 0) {
		backend->fini();
		return fail(1, pmb_error_message());
	}
	pmb_note("%zu points (%zu kernels x %zu sizes x %zu thread counts)%s -> %s",
		 plan.npoints - resumed, plan.npoints / (plan.nsizes * opt.nthreads), plan.nsizes,
		 opt.nthreads, resumed ? " left to resume" : "", run.run_dir);

	install_signal_handlers();
	struct pmb_runner runner = {.opt = &opt,
				    .topo = topo,
				    .backend = backend,
				    .counters = &cplan,
				    .run = &run,
				    .reporters = reporters,
				    .nreporters = 2,
				    .interrupted = &interrupted,
				    .clock_step_ns = clock.ns_step};
	double *overheads = calloc(plan.npoints + 1, sizeof *overheads);
	size_t noverheads = 0, invalid = 0;
	int short_warned = 0;
	rc = 0;
	for (size_t i = 0; i < plan.npoints && !interrupted; i++) {
		if (plan.points[i].done)
			continue;
		struct pmb_point_outcome out;
		rc = pmb_runner_run_point(&runner, &plan.points[i], &out);
		if (out.samples)
			meta.points_done++;
		if (overheads && out.samples)
			overheads[noverheads++] = out.overhead_ns;
		if (out.samples && !out.valid)
			invalid++;
		if (out.short_samples && !short_warned) {
			pmb_warn("some samples were shorter than 1000x the clock step (%.0f ns); "
				 "raise --min-sample-ms",
				 clock.ns_step);
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
		meta.sample_overhead_ns = overheads[noverheads / 2];
	}
	free(overheads);

	char error[1024] = "";
	if (rc != 0)
		snprintf(error, sizeof error, "%s", pmb_error_message());
	snprintf(meta.error, sizeof meta.error, "%s", error);
	meta.interrupted_by = interrupted;
	meta.complete = rc == 0 && !interrupted && meta.points_done + resumed == plan.npoints;
	pmb_meta_utc_now(meta.finished_utc, sizeof meta.finished_utc, 0);
	for (int i = 0; i < 2; i++)
		reporters[i].close(reporters[i].self);
	int meta_rc = pmb_meta_write(&meta);
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
		fprintf(stderr, "pmubench: rows measured so far are kept in %s%s\n", run.run_dir,
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
	printf("%s\n", run.run_dir);
	return meta_rc == 0 ? 0 : 1;
}
