#include "pmb_options.h"
#include "pmb_baseline.h"
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void pmb_options_defaults(struct pmb_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->command = PMB_CMD_RUN;
	snprintf(opt->config_name, sizeof opt->config_name, "adhoc");
	snprintf(opt->flagset, sizeof opt->flagset, "default");
	snprintf(opt->kernels, sizeof opt->kernels, "*");
	opt->auto_sizes = 1;
	opt->max_size = 8ull << 30; /* 4 x a 1152 MiB L3 fits; free memory caps further */
	opt->threads[0] = 1;
	opt->nthreads = 1;
	opt->counters = PMB_CTR_DEFAULT_MASK;
	pmb_user_events_reset(); /* they belong to the counters option */
	snprintf(opt->backend, sizeof opt->backend, "papi");
	snprintf(opt->out_dir, sizeof opt->out_dir, "results");
	opt->min_samples = 10;
	opt->max_samples = 100;
	opt->target_ci = 0.01;
	opt->warmup_ms = 100;
	opt->min_sample_ms = 1;
	opt->point_seconds = 1;
	opt->seed = 42;
	opt->interleave = 1;
	opt->rounds = 1;
	opt->calibrate = 1;
	opt->format = PMB_FORMAT_CSV;
}

static int set_string(char *dst, size_t len, const char *value, const char *what)
{
	if (strlen(value) >= len)
		return pmb_error("%s is too long (at most %zu characters)", what, len - 1);
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

int pmb_options_check_name(const char *value, const char *what)
{
	/* A name becomes part of a path (run directory, meta-<flagset>.json,
	 * .pmubench-args-<flagset>): it must stay one file name. */
	if (!value[0])
		return pmb_error("%s is empty; give a name such as O2 or nightly", what);
	if (strchr(value, '/'))
		return pmb_error("%s '%s' contains '/'; it names a file in the run directory: "
				 "use '-' or '_' instead",
				 what, value);
	if (strstr(value, ".."))
		return pmb_error("%s '%s' contains '..'; it names a file in the run directory: "
				 "use a name without '..'",
				 what, value);
	for (const unsigned char *c = (const unsigned char *)value; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return pmb_error("%s contains a control character (byte 0x%02x); use "
					 "printable characters only",
					 what, *c);
	return 0;
}

static int set_bool(const char *value, const char *what, int *out)
{
	if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcmp(value, "1") ||
	    !strcasecmp(value, "on"))
		*out = 1;
	else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") ||
		 !strcmp(value, "0") || !strcasecmp(value, "off"))
		*out = 0;
	else
		return pmb_error("%s must be yes or no (got '%s')", what, value);
	return 0;
}

/* Setters: one per setting, shared by the config file and the command
 * line, so `sizes = 4K` and `--sizes 4K` behave and fail alike. */
static int set_kernels(struct pmb_options *o, const char *v)
{
	return set_string(o->kernels, sizeof o->kernels, v, "kernels");
}

static int set_sizes(struct pmb_options *o, const char *v)
{
	return pmb_parse_size_list(v, o->sizes, PMB_MAX_SIZES, &o->nsizes, &o->auto_sizes);
}

static int set_max_size(struct pmb_options *o, const char *v)
{
	return pmb_parse_size(v, &o->max_size);
}

static int set_threads(struct pmb_options *o, const char *v)
{
	return pmb_parse_thread_list(v, o->threads, PMB_MAX_THREAD_COUNTS, &o->nthreads);
}

static int set_cores(struct pmb_options *o, const char *v)
{
	char copy[1024];
	if (set_string(copy, sizeof copy, v, "cores"))
		return -1;
	o->ncores = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t c;
		if (pmb_parse_uint(tok, "core", 0, 4095, &c))
			return -1;
		if (o->ncores == sizeof o->cores / sizeof o->cores[0])
			return pmb_error("too many cores listed");
		for (size_t i = 0; i < o->ncores; i++)
			if (o->cores[i] == (int)c)
				return pmb_error("core %llu listed twice; one thread per core",
						 (unsigned long long)c);
		o->cores[o->ncores++] = (int)c;
	}
	if (o->ncores == 0)
		return pmb_error("empty core list; give OS indices like 1 or 2,3");
	return 0;
}

static int set_counters(struct pmb_options *o, const char *v)
{
	return pmb_counter_parse_list(v, &o->counters);
}

static int set_backend(struct pmb_options *o, const char *v)
{
	if (!pmb_counter_backend_find(v))
		return pmb_error("unknown backend '%s'; use papi, timer or sim", v);
	return set_string(o->backend, sizeof o->backend, v, "backend");
}

static int set_u64(const char *v, const char *what, uint64_t lo, uint64_t hi, uint64_t *out)
{
	return pmb_parse_uint(v, what, lo, hi, out);
}

static int set_min_samples(struct pmb_options *o, const char *v)
{
	return set_u64(v, "min_samples", 1, 1000000, &o->min_samples);
}

static int set_max_samples(struct pmb_options *o, const char *v)
{
	return set_u64(v, "max_samples", 1, 1000000, &o->max_samples);
}

static int set_target_ci(struct pmb_options *o, const char *v)
{
	double pct;
	if (pmb_parse_double(v, "target_ci (percent)", 0, 100, &pct))
		return -1;
	o->target_ci = pct / 100.0;
	return 0;
}

static int set_warmup_ms(struct pmb_options *o, const char *v)
{
	return pmb_parse_double(v, "warmup_ms", 0, 600000, &o->warmup_ms);
}

static int set_min_sample_ms(struct pmb_options *o, const char *v)
{
	return pmb_parse_double(v, "min_sample_ms", 0, 60000, &o->min_sample_ms);
}

static int set_point_seconds(struct pmb_options *o, const char *v)
{
	return pmb_parse_double(v, "point_seconds", 0.001, 86400, &o->point_seconds);
}

static int set_seed(struct pmb_options *o, const char *v)
{
	return set_u64(v, "seed", 0, UINT64_MAX, &o->seed);
}

static int set_interleave(struct pmb_options *o, const char *v)
{
	return set_bool(v, "interleave", &o->interleave);
}

static int set_rounds(struct pmb_options *o, const char *v)
{
	return set_u64(v, "rounds", 1, 1000, &o->rounds);
}

static int set_calibrate(struct pmb_options *o, const char *v)
{
	return set_bool(v, "calibrate", &o->calibrate);
}

static int set_max_per_pass(struct pmb_options *o, const char *v)
{
	uint64_t u;
	if (pmb_parse_uint(v, "max_events_per_pass", 0, PMB_CTR_MAX, &u))
		return -1;
	o->max_events_per_pass = (int)u;
	return 0;
}

static int set_flagset(struct pmb_options *o, const char *v)
{
	return pmb_options_check_name(v, "flagset") ||
	       set_string(o->flagset, sizeof o->flagset, v, "flagset");
}

static int set_kernel_lib(struct pmb_options *o, const char *v)
{
	size_t max = sizeof o->kernel_libs / sizeof o->kernel_libs[0];
	if (o->nkernel_libs == max)
		return pmb_error("at most %zu kernel libraries", max);
	return set_string(o->kernel_libs[o->nkernel_libs++], sizeof o->kernel_libs[0], v,
			  "kernel_lib");
}

static int set_out(struct pmb_options *o, const char *v)
{
	return set_string(o->out_dir, sizeof o->out_dir, v, "out");
}

static int set_format(struct pmb_options *o, const char *v)
{
	/* csv, json, both: the run's files; with --list: text (csv), json, or
	 * names (family/variant lines for scripts). */
	static const char *const names[] = {"csv", "json", "both", "names"};
	static const int list_formats[] = {0, 1, 0, 2}; /* enum pmb_list_format */
	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(v, names[i])) {
			o->format = i + 1;
			o->list_format = list_formats[i];
			return 0;
		}
	return pmb_error("unknown format '%s'; use csv, json or both (with --list: json or names)",
			 v);
}

static int set_save_baseline(struct pmb_options *o, const char *v)
{
	return pmb_baseline_check_name(v) ? -1
	       : set_string(o->save_baseline, sizeof o->save_baseline, v, "save_baseline");
}

static int set_name(struct pmb_options *o, const char *v)
{
	if (pmb_options_check_name(v, "name") != 0)
		return -1;
	o->name_given = 1;
	return set_string(o->config_name, sizeof o->config_name, v, "name");
}

static int set_resume(struct pmb_options *o, const char *v)
{
	return set_string(o->resume_dir, sizeof o->resume_dir, v, "resume");
}

static int set_run_dir(struct pmb_options *o, const char *v)
{
	return set_string(o->run_dir, sizeof o->run_dir, v, "run-dir");
}

static int set_config(struct pmb_options *o, const char *v)
{
	(void)o, (void)v;
	return 0; /* read in the first pass of pmb_options_parse */
}

static int set_quiet(struct pmb_options *o, const char *v)
{
	(void)v;
	o->quiet = 1;
	return 0;
}

#define COMMAND(fn, cmd)                                             \
	static int fn(struct pmb_options *o, const char *v)          \
	{                                                            \
		(void)v;                                             \
		o->command = cmd;                                    \
		return 0;                                            \
	}
COMMAND(cmd_help, PMB_CMD_HELP)
COMMAND(cmd_version, PMB_CMD_VERSION)
COMMAND(cmd_list, PMB_CMD_LIST)
COMMAND(cmd_schema, PMB_CMD_SCHEMA)

#define CLI PMB_OPT_CLI
#define BOTH PMB_OPT_BOTH
static const char G_WHAT[] = "What to run", G_LONG[] = "How long", G_WHERE[] = "Where",
		  G_OTHER[] = "Other";

/* The settings, in --help order. */
static const struct pmb_option_def table[] = {
	{"config", 'c', "FILE", CLI, 0, set_config, G_WHAT,
	 "read settings from FILE (key = value; see configs/)"},
	{"kernels", 'f', "LIST", BOTH, 0, set_kernels, G_WHAT,
	 "comma list of family or family/variant globs\n(default: *; e.g. sum,traversal/list_*)"},
	{"sizes", 's', "LIST", BOTH, 0, set_sizes, G_WHAT,
	 "working-set sizes per thread: auto, or bytes with K/M/G\nsuffixes (binary), "
	 "comma-separated, MIN:MAX doubles\n(e.g. 4K,64K,1M or 1K:64M; default: auto)"},
	{"max_size", 0, "SIZE", BOTH, 0, set_max_size, G_WHAT,
	 "cap of the automatic sweep (default: 8G)"},
	{"threads", 't', "LIST", BOTH, 0, set_threads, G_WHAT,
	 "thread counts, each thread on its own core (default: 1)"},
	{"cores", 0, "LIST", BOTH, 0, set_cores, G_WHAT,
	 "OS indices of the cores for threads 0, 1, ... (default:\nthe first cores this "
	 "process may use)"},
	{"counters", 'e', "LIST", BOTH, 0, set_counters, G_WHAT,
	 "all, none, or a comma list of:\n%COUNTERS%\nand your own PAPI events, each its own "
	 "column:\nPAPI_L1_TCM, perf::INSTRUCTIONS, pmu::EVENT:UMASK,\nperf_raw::r00c0 "
	 "(docs/counters.md)"},
	{"kernel_lib", 0, "FILE", BOTH, 0, set_kernel_lib, G_WHAT,
	 "load kernel families from a shared object built\nagainst pmb_kernel.h (repeatable)"},
	{"backend", 'b', "NAME", BOTH, 0, set_backend, G_WHAT,
	 "papi (hardware counters), timer (time only),\nsim (callgrind cache/branch "
	 "simulation) (default: papi)"},
	{"max_events_per_pass", 0, "N", BOTH, 0, set_max_per_pass, G_WHAT,
	 "PAPI events counted together at most; more rotate\nover passes (default: 0 = as "
	 "many as fit)"},
	{"calibrate", 0, NULL, BOTH, 1, set_calibrate, G_WHAT,
	 "check hardware counters on known kernels first\n(default: yes; --no-calibrate skips)"},
	{"max_samples", 'r', "N", BOTH, 0, set_max_samples, G_LONG,
	 "maximum samples per point (default: 100)"},
	{"min_samples", 0, "N", BOTH, 0, set_min_samples, G_LONG,
	 "minimum samples per point (default: 10)"},
	{"target_ci", 0, "PCT", BOTH, 0, set_target_ci, G_LONG,
	 "stop sampling a point once the 95% CI of the median\nis within +-PCT % (default: 1)"},
	{"warmup_ms", 0, "MS", BOTH, 0, set_warmup_ms, G_LONG, "warm-up time per point (default: 100)"},
	{"min_sample_ms", 0, "MS", BOTH, 0, set_min_sample_ms, G_LONG,
	 "minimum duration of one sample (default: 1)"},
	{"point_seconds", 0, "S", BOTH, 0, set_point_seconds, G_LONG,
	 "time budget per point (default: 1)"},
	{"seed", 0, "N", BOTH, 0, set_seed, G_LONG, "data and interleaving seed (default: 42)"},
	{"interleave", 0, NULL, BOTH, 1, set_interleave, G_LONG,
	 "run points shuffled (default: yes; --no-interleave:\nplan order)"},
	{"rounds", 0, "R", BOTH, 0, set_rounds, G_LONG,
	 "visit every point R times, each round in its own\nseeded order with 1/R of the sample budget and a\nfresh setup; the summary pools all rounds and\ncompare tests the rounds' medians (default: 1)"},
	{"out", 'o', "DIR", BOTH, 0, set_out, G_WHERE,
	 "results root; a new run directory is made below it\n(default: results)"},
	{"name", 0, "NAME", CLI, 0, set_name, G_WHERE,
	 "run name prefix (default: the config's name)"},
	{"format", 0, "FMT", BOTH, 0, set_format, G_WHERE,
	 "csv (default), json (benchmarks.json in Google\nBenchmark's layout, for its "
	 "compare.py) or both;\nwith --list: json, or names (one per line)"},
	{"save_baseline", 0, "NAME", BOTH, 0, set_save_baseline, G_WHERE,
	 "when the run completes, register it as baseline\nNAME of this machine (make compare "
	 "BASELINE=NAME)"},
	{"flagset", 0, "NAME", BOTH, 0, set_flagset, G_WHERE,
	 "tag rows with a compiler flag set name"},
	{"resume", 0, "RUN_DIR", CLI, 0, set_resume, G_WHERE,
	 "continue an interrupted run, skipping finished points"},
	{"run_dir", 0, "DIR", CLI, 0, set_run_dir, G_WHERE,
	 "write into DIR (made if missing) instead of a new\ndirectory: one run for several "
	 "--flagset builds"},
	{"list", 'l', NULL, CLI, 0, cmd_list, G_OTHER,
	 "list kernels, variants and counters (with why not)"},
	{"schema", 0, NULL, CLI, 0, cmd_schema, G_OTHER,
	 "print the output's columns and metrics as JSON"},
	{"quiet", 'q', NULL, CLI, 0, set_quiet, G_OTHER, "no progress on stderr"},
	{"help", 'h', NULL, CLI, 0, cmd_help, G_OTHER, "this help"},
	{"version", 'V', NULL, CLI, 0, cmd_version, G_OTHER, "version"},
};
#define NOPTS (sizeof table / sizeof table[0])

/* Old spellings, kept because configs, scripts and habits use them;
 * --help lists them. */
static const struct {
	const char *old, *name;
	unsigned where;
} aliases[] = {
	{"filter", "kernels", CLI},
	{"events", "counters", BOTH},
	{"reps", "max_samples", CLI},
};

/* "max-samples" and "max_samples" name the same setting. */
static int same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return 0;
	return *a == *b;
}

const struct pmb_option_def *pmb_option_find(const char *name, unsigned where)
{
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if ((aliases[i].where & where) && same_name(name, aliases[i].old))
			name = aliases[i].name;
	for (size_t i = 0; i < NOPTS; i++)
		if ((table[i].where & where) && same_name(name, table[i].name))
			return &table[i];
	return NULL;
}

void pmb_option_list_keys(char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NOPTS && len < size; i++)
		if (table[i].where & PMB_OPT_CONFIG)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
						table[i].name);
}

const struct pmb_option_def *pmb_option_at(size_t i)
{
	return i < NOPTS ? &table[i] : NULL;
}

int pmb_option_alias(size_t i, const char **old, const char **name, unsigned *where)
{
	if (i >= sizeof aliases / sizeof aliases[0])
		return -1;
	*old = aliases[i].old;
	*name = aliases[i].name;
	*where = aliases[i].where;
	return 0;
}
