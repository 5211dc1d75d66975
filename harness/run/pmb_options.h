/* pmb_options.h — everything a run is told: built-in defaults, then a
 * config file (key = value, read with libinih; the same file is a make
 * fragment), then the command line, later sources winning. */
#ifndef PMB_OPTIONS_H
#define PMB_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define PMB_MAX_SIZES 128
#define PMB_MAX_THREAD_COUNTS 16

#define PMB_FORMAT_CSV 1u  /* size-<bytes>.csv + summary.csv */
#define PMB_FORMAT_JSON 2u /* benchmarks.json, Google Benchmark's layout */
#define PMB_FORMAT_NAMES 4u /* --list only: family/variant per line */

enum pmb_command { PMB_CMD_RUN, PMB_CMD_LIST, PMB_CMD_HELP, PMB_CMD_VERSION, PMB_CMD_SCHEMA };

struct pmb_options {
	enum pmb_command command;
	char config_path[512];   /* "" when none */
	char config_name[64];    /* names the run directory; "adhoc" without a config */
	int name_given;          /* config_name came from --name */
	char flagset[64];        /* tag for the compiler-flag matrix */
	char kernels[512];       /* comma list of family or family/variant globs */
	uint64_t sizes[PMB_MAX_SIZES];
	size_t nsizes;
	int auto_sizes;
	uint64_t max_size;       /* cap for the automatic sweep */
	int threads[PMB_MAX_THREAD_COUNTS];
	size_t nthreads;
	int cores[256];          /* --cores: OS index of the PU for thread t */
	size_t ncores;           /* 0: the first allowed cores, in order */
	uint32_t counters;       /* mask of requested counters */
	int max_events_per_pass; /* PAPI events per pass at most, 0 = as many as fit */
	int calibrate;           /* check hardware counters on known kernels first */
	char backend[16];
	char out_dir[512];       /* results root; the run directory goes below */
	char resume_dir[512];    /* "" unless --resume */
	char run_dir[512];       /* "" unless --run-dir (flag-set matrix: several binaries, one run) */
	uint64_t min_samples, max_samples;
	double target_ci;        /* relative half-width of the median's 95 % CI */
	double warmup_ms, min_sample_ms, point_seconds;
	uint64_t seed;
	int interleave;
	uint64_t rounds;         /* visits of each point, each a share of its budget */
	int quiet;
	char save_baseline[64];  /* --save-baseline NAME, "" when not */
	unsigned format;         /* PMB_FORMAT_CSV | PMB_FORMAT_JSON */
	int list_format;         /* --list: enum pmb_list_format (text, json, names) */
	char kernel_libs[16][512]; /* --kernel-lib, in order (PMB_MAX_PLUGINS) */
	size_t nkernel_libs;
};

void pmb_options_defaults(struct pmb_options *opt);

/* Reads a config file into opt.  Unknown keys, bad values and malformed
 * lines fail with "FILE:LINE: ..." (pmb_error). */
int pmb_options_load_config(struct pmb_options *opt, const char *path);

/* Parses argv (a --config among them is applied before the other options,
 * whatever its position).  Returns 0 or -1 (pmb_error). */
int pmb_options_parse(struct pmb_options *opt, int argc, char **argv);

void pmb_options_print_help(const char *argv0);

/* The option table (pmb_options.c): one entry per setting, which is at
 * once a config key (`max_samples = 30`), a long option (the key with '-'
 * for '_': --max-samples 30) and a --help line.  Old spellings are
 * aliases listed in --help (--filter, --events, --reps). */
enum { PMB_OPT_CLI = 1, PMB_OPT_CONFIG = 2, PMB_OPT_BOTH = 3 };

struct pmb_option_def {
	const char *name;   /* config key; the long option is derived from it */
	char short_name;    /* 0: none */
	const char *arg;    /* value name in --help; NULL: a flag */
	unsigned where;     /* PMB_OPT_CLI / PMB_OPT_CONFIG / both */
	int is_bool;        /* key = yes|no; --NAME / --no-NAME on the command line */
	int (*set)(struct pmb_options *opt, const char *value); /* flags get "yes" */
	const char *group;  /* --help section */
	const char *help;   /* '\n' starts a continuation line */
};

/* The entry for a config key or long option name (with '_' or '-'),
 * aliases included, usable where `where` says; NULL if none. */
const struct pmb_option_def *pmb_option_find(const char *name, unsigned where);
/* Entry i of the table, NULL past the end; alias i (0 or -1 past the end). */
const struct pmb_option_def *pmb_option_at(size_t i);
int pmb_option_alias(size_t i, const char **old, const char **name, unsigned *where);
/* "kernels, sizes, ..." : the config keys, for error messages. */
void pmb_option_list_keys(char *buf, size_t size);

/* 0 when value may name a run or flag set (it becomes part of file
 * names): not empty, no '/', no "..", no control characters; else -1
 * with pmb_error() naming `what` and the fix. */
int pmb_options_check_name(const char *value, const char *what);

#endif
