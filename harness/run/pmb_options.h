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

enum pmb_command { PMB_CMD_RUN, PMB_CMD_LIST, PMB_CMD_HELP, PMB_CMD_VERSION };

struct pmb_options {
	enum pmb_command command;
	char config_path[512];   /* "" when none */
	char config_name[64];    /* names the run directory; "adhoc" without a config */
	char flagset[64];        /* tag for the compiler-flag matrix */
	char filter[512];        /* comma list of family or family/variant globs */
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

#endif
