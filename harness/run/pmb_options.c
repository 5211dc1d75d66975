#include "pmb_options.h"
#include "pmb_baseline.h"
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_parse.h"

#include <errno.h>
#include <getopt.h>
#include <ini.h>
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
	snprintf(opt->filter, sizeof opt->filter, "*");
	opt->auto_sizes = 1;
	opt->max_size = 8ull << 30; /* 4 x a 1152 MiB L3 fits; free memory caps further */
	opt->threads[0] = 1;
	opt->nthreads = 1;
	opt->counters = PMB_CTR_DEFAULT_MASK;
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

/* One setter per key; the config file and the long options share them,
 * so `sizes = 4K` and `--sizes 4K` behave and fail alike. */
static int apply_key(struct pmb_options *opt, const char *key, const char *value)
{
	uint64_t u;
	if (!strcmp(key, "kernels"))
		return set_string(opt->filter, sizeof opt->filter, value, "kernels");
	if (!strcmp(key, "sizes"))
		return pmb_parse_size_list(value, opt->sizes, PMB_MAX_SIZES, &opt->nsizes,
					   &opt->auto_sizes);
	if (!strcmp(key, "max_size"))
		return pmb_parse_size(value, &opt->max_size);
	if (!strcmp(key, "cores")) {
		char copy[1024];
		if (set_string(copy, sizeof copy, value, "cores"))
			return -1;
		opt->ncores = 0;
		char *save = NULL;
		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			uint64_t c;
			if (pmb_parse_uint(tok, "core", 0, 4095, &c))
				return -1;
			if (opt->ncores == sizeof opt->cores / sizeof opt->cores[0])
				return pmb_error("too many cores listed");
			for (size_t i = 0; i < opt->ncores; i++)
				if (opt->cores[i] == (int)c)
					return pmb_error("core %llu listed twice; one thread per core",
							 (unsigned long long)c);
			opt->cores[opt->ncores++] = (int)c;
		}
		if (opt->ncores == 0)
			return pmb_error("empty core list; give OS indices like 1 or 2,3");
		return 0;
	}
	if (!strcmp(key, "threads"))
		return pmb_parse_thread_list(value, opt->threads, PMB_MAX_THREAD_COUNTS,
					     &opt->nthreads);
	if (!strcmp(key, "events"))
		return pmb_counter_parse_list(value, &opt->counters);
	if (!strcmp(key, "backend")) {
		if (!pmb_counter_backend_find(value))
			return pmb_error("unknown backend '%s'; use papi, timer or sim", value);
		return set_string(opt->backend, sizeof opt->backend, value, "backend");
	}
	if (!strcmp(key, "min_samples")) {
		if (pmb_parse_uint(value, "min_samples", 1, 1000000, &u))
			return -1;
		opt->min_samples = u;
		return 0;
	}
	if (!strcmp(key, "max_samples")) {
		if (pmb_parse_uint(value, "max_samples", 1, 1000000, &u))
			return -1;
		opt->max_samples = u;
		return 0;
	}
	if (!strcmp(key, "target_ci")) {
		double pct;
		if (pmb_parse_double(value, "target_ci (percent)", 0, 100, &pct))
			return -1;
		opt->target_ci = pct / 100.0;
		return 0;
	}
	if (!strcmp(key, "warmup_ms"))
		return pmb_parse_double(value, "warmup_ms", 0, 600000, &opt->warmup_ms);
	if (!strcmp(key, "min_sample_ms"))
		return pmb_parse_double(value, "min_sample_ms", 0, 60000, &opt->min_sample_ms);
	if (!strcmp(key, "point_seconds"))
		return pmb_parse_double(value, "point_seconds", 0.001, 86400, &opt->point_seconds);
	if (!strcmp(key, "seed"))
		return pmb_parse_uint(value, "seed", 0, UINT64_MAX, &opt->seed);
	if (!strcmp(key, "interleave"))
		return set_bool(value, "interleave", &opt->interleave);
	if (!strcmp(key, "max_events_per_pass")) {
		if (pmb_parse_uint(value, "max_events_per_pass", 0, PMB_CTR_COUNT, &u))
			return -1;
		opt->max_events_per_pass = (int)u;
		return 0;
	}
	if (!strcmp(key, "calibrate"))
		return set_bool(value, "calibrate", &opt->calibrate);
	if (!strcmp(key, "flagset"))
		return set_string(opt->flagset, sizeof opt->flagset, value, "flagset");
	if (!strcmp(key, "format")) {
		/* csv, json, both: the run's files; with --list: text (csv),
		 * json, or names (family/variant lines for scripts). */
		static const char *const names[] = {"csv", "json", "both", "names"};
		static const int list_formats[] = {0, 1, 0, 2}; /* enum pmb_list_format */
		for (unsigned i = 0; i < 4; i++)
			if (!strcmp(value, names[i])) {
				opt->format = i + 1;
				opt->list_format = list_formats[i];
				return 0;
			}
		return pmb_error("unknown format '%s'; use csv, json or both (with --list: json "
				 "or names)",
				 value);
	}
	if (!strcmp(key, "save_baseline"))
		return pmb_baseline_check_name(value) ? -1
		       : set_string(opt->save_baseline, sizeof opt->save_baseline, value,
				    "save_baseline");
	if (!strcmp(key, "kernel_lib")) {
		if (opt->nkernel_libs == sizeof opt->kernel_libs / sizeof opt->kernel_libs[0])
			return pmb_error("at most %zu kernel libraries",
					 sizeof opt->kernel_libs / sizeof opt->kernel_libs[0]);
		return set_string(opt->kernel_libs[opt->nkernel_libs++], sizeof opt->kernel_libs[0],
				  value, "kernel_lib");
	}
	if (!strcmp(key, "out"))
		return set_string(opt->out_dir, sizeof opt->out_dir, value, "--out");
	return 1; /* not a run key */
}

/* Keys that belong to make (the build); the harness accepts and ignores
 * them so one file serves both readers. */
static int is_build_key(const char *key)
{
	return !strcmp(key, "cc") || !strcmp(key, "cflags") || !strcmp(key, "ldflags") ||
	       !strcmp(key, "flagsets") || !strncmp(key, "flags.", 6) ||
	       !strncmp(key, "cc.", 3) || !strcmp(key, "description");
}

static const char known_keys[] =
	"kernels, sizes, max_size, threads, cores, events, backend, min_samples, max_samples, "
	"target_ci, warmup_ms, min_sample_ms, point_seconds, seed, interleave, flagset, "
	"max_events_per_pass, calibrate, kernel_lib, format, save_baseline "
	"(build keys for make: cc, cflags, ldflags, flagsets, flags.NAME, cc.NAME, description)";

struct config_state {
	struct pmb_options *opt;
	const char *path;
	FILE *file;
	int lineno;
	int failed;
	char message[1024];
};

/* Debian's libinih does not pass line numbers to the handler; inih reads
 * one line and handles it before reading the next, so a reader that counts
 * lines knows the line being handled. */
static char *config_read_line(char *buf, int size, void *stream)
{
	struct config_state *st = stream;
	char *line = fgets(buf, size, st->file);
	if (!line || st->failed)
		return line;
	st->lineno++;
	/* inih would take the rest of a long line as a line of its own. */
	if (!strchr(line, '\n') && !feof(st->file)) {
		snprintf(st->message, sizeof st->message,
			 "%s:%d: line too long (at most %d characters); shorten it", st->path,
			 st->lineno, size - 2);
		st->failed = 1;
		return NULL;
	}
	/* A section line reaches no handler (only keys do): catch it here so
	 * the message names its own line, even for an empty section. */
	const char *p = line + strspn(line, " \t");
	if (*p == '[') {
		int len = (int)strcspn(p + 1, "]\r\n");
		snprintf(st->message, sizeof st->message,
			 "%s:%d: sections are not used ('[%.*s]'); write plain key = value lines",
			 st->path, st->lineno, len > 64 ? 64 : len, p + 1);
		st->failed = 1;
		return NULL;
	}
	return line;
}

static int config_handler(void *user, const char *section, const char *key, const char *value)
{
	struct config_state *st = user;
	int lineno = st->lineno;
	if (st->failed)
		return 0;
	if (section[0]) {
		snprintf(st->message, sizeof st->message,
			 "%s:%d: sections are not used ('[%s]'); write plain key = value lines",
			 st->path, lineno, section);
		st->failed = 1;
		return 0;
	}
	if (is_build_key(key))
		return 1;
	int rc = apply_key(st->opt, key, value);
	if (rc == 1)
		snprintf(st->message, sizeof st->message, "%s:%d: unknown key '%s'; known keys: %s",
			 st->path, lineno, key, known_keys);
	else if (rc != 0)
		snprintf(st->message, sizeof st->message, "%s:%d: %s", st->path, lineno,
			 pmb_error_message());
	if (rc != 0) {
		st->failed = 1;
		return 0;
	}
	return 1;
}

int pmb_options_load_config(struct pmb_options *opt, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return pmb_error("cannot read config '%s': %s; list the configs with 'ls configs/'",
				 path, strerror(errno));
	struct config_state st = {.opt = opt, .path = path, .file = f};
	int rc = ini_parse_stream(config_read_line, &st, config_handler, &st);
	fclose(f);
	if (st.failed)
		return pmb_error("%s", st.message);
	if (rc > 0)
		return pmb_error("%s:%d: malformed line; write 'key = value' (or a # comment)",
				 path, rc);
	if (rc < 0)
		return pmb_error("cannot parse config '%s'", path);
	set_string(opt->config_path, sizeof opt->config_path, path, "config path");
	/* configs/x86.ini -> x86: the run directory is named after it. */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strcspn(base, ".");
	if (len >= sizeof opt->config_name)
		len = sizeof opt->config_name - 1;
	memcpy(opt->config_name, base, len);
	opt->config_name[len] = '\0';
	return 0;
}

enum {
	OPT_WARMUP = 256,
	OPT_MIN_SAMPLE,
	OPT_POINT_SECONDS,
	OPT_MAX_SIZE,
	OPT_MIN_SAMPLES,
	OPT_TARGET_CI,
	OPT_SEED,
	OPT_NO_INTERLEAVE,
	OPT_FLAGSET,
	OPT_RESUME,
	OPT_NAME,
	OPT_RUN_DIR,
	OPT_CORES,
	OPT_MAX_PER_PASS,
	OPT_NO_CALIBRATE,
	OPT_KERNEL_LIB,
	OPT_FORMAT,
	OPT_SAVE_BASELINE,
};

static const struct option long_options[] = {
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"list", no_argument, NULL, 'l'},
	{"config", required_argument, NULL, 'c'},
	{"filter", required_argument, NULL, 'f'},
	{"sizes", required_argument, NULL, 's'},
	{"threads", required_argument, NULL, 't'},
	{"cores", required_argument, NULL, OPT_CORES},
	{"events", required_argument, NULL, 'e'},
	{"backend", required_argument, NULL, 'b'},
	{"out", required_argument, NULL, 'o'},
	{"reps", required_argument, NULL, 'r'},
	{"min-samples", required_argument, NULL, OPT_MIN_SAMPLES},
	{"target-ci", required_argument, NULL, OPT_TARGET_CI},
	{"warmup-ms", required_argument, NULL, OPT_WARMUP},
	{"min-sample-ms", required_argument, NULL, OPT_MIN_SAMPLE},
	{"point-seconds", required_argument, NULL, OPT_POINT_SECONDS},
	{"max-size", required_argument, NULL, OPT_MAX_SIZE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"no-interleave", no_argument, NULL, OPT_NO_INTERLEAVE},
	{"flagset", required_argument, NULL, OPT_FLAGSET},
	{"name", required_argument, NULL, OPT_NAME},
	{"resume", required_argument, NULL, OPT_RESUME},
	{"run-dir", required_argument, NULL, OPT_RUN_DIR},
	{"max-events-per-pass", required_argument, NULL, OPT_MAX_PER_PASS},
	{"no-calibrate", no_argument, NULL, OPT_NO_CALIBRATE},
	{"kernel-lib", required_argument, NULL, OPT_KERNEL_LIB},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"save-baseline", required_argument, NULL, OPT_SAVE_BASELINE},
	{"quiet", no_argument, NULL, 'q'},
	{NULL, 0, NULL, 0},
};

static const char short_options[] = ":hVlc:f:s:t:e:b:o:r:q";

void pmb_options_print_help(const char *argv0)
{
	printf("usage: %s [options]\n"
	       "\n"
	       "Runs microbenchmark kernels over a sweep of working-set sizes, pinned with hwloc,\n"
	       "reading hardware counters (PAPI) or simulated ones (callgrind) around each sample,\n"
	       "and writes results/<config>-<host>-<UTC time>/size-<bytes>.csv, summary.csv and\n"
	       "meta.json.\n"
	       "\n"
	       "What to run:\n"
	       "  -c, --config FILE       read defaults from FILE (key = value; see configs/)\n"
	       "  -f, --filter LIST       comma list of family or family/variant globs\n"
	       "                          (default: *; e.g. sum,traversal/list_*)\n"
	       "  -s, --sizes LIST        working-set sizes per thread: auto, or bytes with K/M/G\n"
	       "                          suffixes (binary), comma-separated, MIN:MAX doubles\n"
	       "                          (e.g. 4K,64K,1M or 1K:64M; default: auto)\n"
	       "      --max-size SIZE     cap of the automatic sweep (default: 8G)\n"
	       "  -t, --threads LIST      thread counts, each thread on its own core (default: 1)\n"
	       "      --cores LIST        OS indices of the cores for threads 0, 1, ... (default:\n"
	       "                          the first cores this process may use)\n"
	       "  -e, --events LIST       counters: default, all, none, or a comma list of\n"
	       "                          %s\n"
	       "      --kernel-lib FILE   load kernel families from a shared object built\n"
	       "                          against pmb_kernel.h (repeatable)\n"
	       "  -b, --backend NAME      papi (hardware counters), timer (time only),\n"
	       "                          sim (callgrind cache/branch simulation) (default: papi)\n"
	       "      --max-events-per-pass N  PAPI events counted together at most; more\n"
	       "                          rotate over passes (default: 0 = as many as fit)\n"
	       "      --no-calibrate      skip checking hardware counters on known kernels\n"
	       "\n"
	       "How long:\n"
	       "  -r, --reps N            maximum samples per point (default: 100)\n"
	       "      --min-samples N     minimum samples per point (default: 10)\n"
	       "      --target-ci PCT     stop sampling a point once the 95%% CI of the median\n"
	       "                          is within +-PCT %% (default: 1)\n"
	       "      --warmup-ms MS      warm-up time per point (default: 100)\n"
	       "      --min-sample-ms MS  minimum duration of one sample (default: 1)\n"
	       "      --point-seconds S   time budget per point (default: 1)\n"
	       "      --seed N            data and interleaving seed (default: 42)\n"
	       "      --no-interleave     run points in plan order, not shuffled\n"
	       "\n"
	       "Where:\n"
	       "  -o, --out DIR           results root; a new run directory is made below it\n"
	       "                          (default: results)\n"
	       "      --name NAME         run name prefix (default: the config's name)\n"
	       "      --format FMT        csv (default), json (benchmarks.json in Google\n"
	       "                          Benchmark's layout, for its compare.py) or both;\n"
	       "                          with --list: json, or names (one per line)\n"
	       "      --save-baseline NAME  when the run completes, register it as baseline\n"
	       "                          NAME of this machine (make compare BASELINE=NAME)\n"
	       "      --flagset NAME      tag rows with a compiler flag set name\n"
	       "      --resume RUN_DIR    continue an interrupted run, skipping finished points\n"
	       "      --run-dir DIR       write into DIR (made if missing) instead of a new\n"
	       "                          directory: one run for several --flagset builds\n"
	       "\n"
	       "Other:\n"
	       "  -l, --list              list the kernels --filter selects, variants and\n"
	       "                          counters (with why not)\n"
	       "  -q, --quiet             no progress on stderr\n"
	       "  -h, --help              this help\n"
	       "  -V, --version           version\n"
	       "\n"
	       "Example: %s --filter traversal --sizes 16K,1M,64M --reps 30\n",
	       argv0,
	       "cycles, instructions, l1d_misses, l2_misses, llc_misses, branches,\n"
	       "                          branch_misses, page_faults, context_switches,\n"
	       "                          cpu_migrations, task_clock_ns",
	       argv0);
}

static const char *option_name(int val)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

int pmb_options_parse(struct pmb_options *opt, int argc, char **argv)
{
	/* A config file sets defaults that the other options override,
	 * wherever --config stands on the line.  getopt itself finds it, so
	 * every spelling it accepts (--config F, --config=F, --conf F, -cF,
	 * -qcF) reads the file; the second pass below reports bad options. */
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1)
		if (c == 'c' && pmb_options_load_config(opt, optarg) != 0)
			return -1;

	char name[64] = "";
	optind = 0; /* 0, not 1: makes glibc reinitialise, so tests can parse twice */
	while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case 'h': opt->command = PMB_CMD_HELP; break;
		case 'V': opt->command = PMB_CMD_VERSION; break;
		case 'l': opt->command = PMB_CMD_LIST; break;
		case 'c': break; /* applied above */
		case 'f': rc = apply_key(opt, "kernels", optarg); break;
		case 's': rc = apply_key(opt, "sizes", optarg); break;
		case 't': rc = apply_key(opt, "threads", optarg); break;
		case OPT_CORES: rc = apply_key(opt, "cores", optarg); break;
		case 'e': rc = apply_key(opt, "events", optarg); break;
		case 'b': rc = apply_key(opt, "backend", optarg); break;
		case 'o': rc = apply_key(opt, "out", optarg); break;
		case 'r': rc = apply_key(opt, "max_samples", optarg); break;
		case OPT_MIN_SAMPLES: rc = apply_key(opt, "min_samples", optarg); break;
		case OPT_TARGET_CI: rc = apply_key(opt, "target_ci", optarg); break;
		case OPT_WARMUP: rc = apply_key(opt, "warmup_ms", optarg); break;
		case OPT_MIN_SAMPLE: rc = apply_key(opt, "min_sample_ms", optarg); break;
		case OPT_POINT_SECONDS: rc = apply_key(opt, "point_seconds", optarg); break;
		case OPT_MAX_SIZE: rc = apply_key(opt, "max_size", optarg); break;
		case OPT_SEED: rc = apply_key(opt, "seed", optarg); break;
		case OPT_NO_INTERLEAVE: opt->interleave = 0; break;
		case OPT_MAX_PER_PASS: rc = apply_key(opt, "max_events_per_pass", optarg); break;
		case OPT_NO_CALIBRATE: opt->calibrate = 0; break;
		case OPT_FLAGSET: rc = apply_key(opt, "flagset", optarg); break;
		case OPT_KERNEL_LIB: rc = apply_key(opt, "kernel_lib", optarg); break;
		case OPT_FORMAT: rc = apply_key(opt, "format", optarg); break;
		case OPT_SAVE_BASELINE: rc = apply_key(opt, "save_baseline", optarg); break;
		case OPT_NAME: rc = set_string(name, sizeof name, optarg, "--name"); break;
		case OPT_RESUME:
			rc = set_string(opt->resume_dir, sizeof opt->resume_dir, optarg, "--resume");
			break;
		case OPT_RUN_DIR:
			rc = set_string(opt->run_dir, sizeof opt->run_dir, optarg, "--run-dir");
			break;
		case 'q': opt->quiet = 1; break;
		case ':':
			return pmb_error("option '%s' needs a value; see --help", argv[optind - 1]);
		default:
			if (optopt)
				return pmb_error("unknown option '-%c'; see --help", optopt);
			return pmb_error("unknown option '%s'; see --help", argv[optind - 1]);
		}
		if (rc != 0) {
			/* Prefix which option failed: "--sizes: size 'x' is not a number". */
			char msg[1024];
			snprintf(msg, sizeof msg, "%s", pmb_error_message());
			return pmb_error("--%s: %s", option_name(c), msg);
		}
	}
	if (optind < argc)
		return pmb_error("unexpected argument '%s'; options start with -- (see --help)",
				 argv[optind]);
	if (opt->format == PMB_FORMAT_NAMES && opt->command != PMB_CMD_LIST)
		return pmb_error("--format names lists kernel names: use it with --list; a run "
				 "writes csv, json or both");
	if (opt->resume_dir[0] && !(opt->format & PMB_FORMAT_CSV))
		return pmb_error("--resume needs the CSV files (summary.csv says which points are "
				 "done): use --format both or csv");
	if (name[0])
		set_string(opt->config_name, sizeof opt->config_name, name, "--name");
	if (opt->min_samples > opt->max_samples)
		return pmb_error("min_samples (%llu) is larger than max_samples/--reps (%llu); "
				 "raise --reps or lower --min-samples",
				 (unsigned long long)opt->min_samples,
				 (unsigned long long)opt->max_samples);
	return 0;
}
