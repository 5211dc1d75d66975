/* pmb_options_cli.c — the command line and --help, both generated from
 * the option table (pmb_options.c), as git's parse-options does: a new
 * setting is one table entry, never an edit here. */
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define MAX_OPTS 64
#define MAX_ALIASES 8

static void long_name(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s", name);
	for (char *c = out; *c; c++)
		if (*c == '_')
			*c = '-';
}
/* The counter names for --help, wrapped at the help text's column. */
static void print_counter_list(void)
{
	int col = 26;
	printf("%26s", "");
	for (int c = 0; c < PMB_CTR_COUNT; c++) {
		const char *n = pmb_counter_info[c].column;
		int w = (int)strlen(n) + 1; /* the comma */
		if (c && col + 1 + w > 80) {
			printf("\n%26s", "");
			col = 26;
		} else if (c) {
			putchar(' ');
			col++;
		}
		printf("%s%s", n, c + 1 < PMB_CTR_COUNT ? "," : "");
		col += w;
	}
	printf("\n");
}

static void print_entry(const struct pmb_option_def *o)
{
	char name[48], left[96];
	long_name(o->name, name, sizeof name);
	int n = snprintf(left, sizeof left, "  %c%c%s --%s%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? "," : " ",
			 o->is_bool ? "[no-]" : "", name, o->arg ? " " : "", o->arg ? o->arg : "");
	printf("%s", left);
	if (n >= 26)
		printf("\n%26s", "");
	else
		printf("%*s", 26 - n, "");
	for (const char *h = o->help; *h;) {
		size_t len = strcspn(h, "\n");
		if (!strncmp(h, "%COUNTERS%", len) && len == 10)
			print_counter_list();
		else
			printf("%.*s\n", (int)len, h);
		h += len;
		if (*h == '\n' && *++h && strncmp(h, "%COUNTERS%", 10) != 0)
			printf("%26s", "");
	}
}

void pmb_options_print_help(const char *argv0)
{
	printf("usage: %s [options]\n\n"
	       "Runs microbenchmark kernels over a sweep of working-set sizes, pinned with hwloc,\n"
	       "reading hardware counters (PAPI) or simulated ones (callgrind) around each sample,\n"
	       "and writes results/<config>-<host>-<UTC time>/size-<bytes>.csv, summary.csv and\n"
	       "meta.json (columns: --schema).\n",
	       argv0);
	const char *group = NULL;
	const struct pmb_option_def *o;
	for (size_t i = 0; (o = pmb_option_at(i)); i++) {
		if (!(o->where & PMB_OPT_CLI))
			continue;
		if (o->group != group) {
			group = o->group;
			printf("\n%s:\n", group);
		}
		print_entry(o);
	}
	printf("\nEvery setting but config, name, resume, run-dir and the commands is also a\n"
	       "config key: the long name with '_' for '-' (max_samples = 30).\n"
	       "Old spellings still accepted: --filter (= --kernels), --events and the key\n"
	       "events (= --counters), --reps (= --max-samples); the counter list 'default'\n"
	       "(= all).\n\n"
	       "Example: %s --kernels traversal --sizes 16K,1M,64M --max-samples 30\n",
	       argv0);
}

/* getopt_long's tables, generated from the option table: a short letter
 * or 256 + index selects an entry, 512 + index its --no- form. */
struct getopt_tables {
	struct option longs[2 * MAX_OPTS + MAX_ALIASES + 1];
	char names[2 * MAX_OPTS + MAX_ALIASES][48];
	char shorts[2 * MAX_OPTS + 2];
};

static int option_val(size_t i)
{
	const struct pmb_option_def *o = pmb_option_at(i);
	return o->short_name ? o->short_name : 256 + (int)i;
}

static void add_long(struct getopt_tables *g, size_t *n, const char *name,
		     const struct pmb_option_def *o, int val)
{
	if (*n == 2 * MAX_OPTS + MAX_ALIASES)
		return; /* the table would have to double: caught by test_options */
	long_name(name, g->names[*n], sizeof g->names[*n]);
	g->longs[*n] = (struct option){g->names[*n], o->arg ? required_argument : no_argument,
				       NULL, val};
	(*n)++;
}

static void build_getopt(struct getopt_tables *g)
{
	size_t n = 0, s = 0;
	const struct pmb_option_def *o;
	g->shorts[s++] = ':';
	for (size_t i = 0; i < MAX_OPTS && (o = pmb_option_at(i)); i++) {
		if (!(o->where & PMB_OPT_CLI))
			continue;
		add_long(g, &n, o->name, o, option_val(i));
		if (o->is_bool) {
			char no[48];
			snprintf(no, sizeof no, "no-%s", o->name);
			add_long(g, &n, no, o, 512 + (int)i);
		}
		if (o->short_name) {
			g->shorts[s++] = o->short_name;
			if (o->arg)
				g->shorts[s++] = ':';
		}
	}
	const char *old, *name;
	unsigned where;
	for (size_t a = 0; a < MAX_ALIASES && pmb_option_alias(a, &old, &name, &where) == 0; a++) {
		if (!(where & PMB_OPT_CLI) || !(o = pmb_option_find(name, PMB_OPT_CLI)))
			continue;
		for (size_t i = 0; pmb_option_at(i); i++)
			if (pmb_option_at(i) == o)
				add_long(g, &n, old, o, option_val(i));
	}
	g->longs[n] = (struct option){0};
	g->shorts[s] = '\0';
}

/* The entry getopt returned, and whether it was the --no- form. */
static const struct pmb_option_def *decode(int c, int *negated)
{
	*negated = c >= 512;
	if (c >= 256)
		return pmb_option_at((size_t)((c - 256) % 256));
	const struct pmb_option_def *o;
	for (size_t i = 0; (o = pmb_option_at(i)); i++)
		if (o->short_name == c)
			return o;
	return NULL;
}

static int apply(struct pmb_options *opt, int c, char **argv)
{
	int negated;
	const struct pmb_option_def *o = c == ':' || c == '?' ? NULL : decode(c, &negated);
	if (c == ':')
		return pmb_error("option '%s' needs a value; see --help", argv[optind - 1]);
	if (!o) {
		if (optopt > 0 && optopt < 256)
			return pmb_error("unknown option '-%c'; see --help", optopt);
		return pmb_error("unknown option '%s'; see --help", argv[optind - 1]);
	}
	const char *value = o->arg ? optarg : negated ? "no" : "yes";
	if (o->set(opt, value) == 0)
		return 0;
	/* Say which option failed, as typed (an old spelling stays itself):
	 * "--sizes: size 'x' is not a number". */
	char msg[1024], name[48];
	snprintf(msg, sizeof msg, "%s", pmb_error_message());
	const char *typed = optind >= 2 && optarg == argv[optind - 1] ? argv[optind - 2]
								       : argv[optind - 1];
	if (!strncmp(typed, "--", 2))
		snprintf(name, sizeof name, "%.*s", (int)strcspn(typed + 2, "="), typed + 2);
	else
		long_name(o->name, name, sizeof name);
	return pmb_error("--%s: %s", name, msg);
}

int pmb_options_parse(struct pmb_options *opt, int argc, char **argv)
{
	static struct getopt_tables g;
	build_getopt(&g);
	/* A config file sets defaults that the other options override,
	 * wherever --config stands on the line.  getopt itself finds it, so
	 * every spelling it accepts (--config F, --config=F, --conf F, -cF,
	 * -qcF) reads the file; the second pass below reports bad options. */
	int c;
	opterr = 0;
	optind = 0; /* 0, not 1: makes glibc reinitialise, so tests can parse twice */
	while ((c = getopt_long(argc, argv, g.shorts, g.longs, NULL)) != -1)
		if (c == 'c' && pmb_options_load_config(opt, optarg) != 0)
			return -1;
	optind = 0;
	while ((c = getopt_long(argc, argv, g.shorts, g.longs, NULL)) != -1)
		if (apply(opt, c, argv) != 0)
			return -1;
	if (optind < argc)
		return pmb_error("unexpected argument '%s'; options start with -- (see --help)",
				 argv[optind]);
	if (opt->format == PMB_FORMAT_NAMES && opt->command != PMB_CMD_LIST)
		return pmb_error("--format names lists kernel names: use it with --list; a run "
				 "writes csv, json or both");
	if (opt->resume_dir[0] && !(opt->format & PMB_FORMAT_CSV))
		return pmb_error("--resume needs the CSV files (summary.csv says which points are "
				 "done): use --format both or csv");
	if (!opt->name_given && pmb_options_check_name(opt->config_name, "the config file's name")) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", pmb_error_message());
		return pmb_error("%s; or rename the config file, or pass --name", msg);
	}
	if (opt->min_samples > opt->max_samples)
		return pmb_error("min_samples (%llu) is larger than max_samples (%llu); raise "
				 "--max-samples or lower --min-samples",
				 (unsigned long long)opt->min_samples,
				 (unsigned long long)opt->max_samples);
	/* Every round takes at least one sample of each point: a config's
	 * rounds yield to a small --max-samples given for a quick look
	 * (make heap, make validate), with a note rather than an error. */
	if (opt->rounds > opt->max_samples) {
		pmb_note("rounds lowered from %llu to %llu: every round takes at least one sample "
			 "and max_samples is %llu",
			 (unsigned long long)opt->rounds, (unsigned long long)opt->max_samples,
			 (unsigned long long)opt->max_samples);
		opt->rounds = opt->max_samples;
	}
	return 0;
}
