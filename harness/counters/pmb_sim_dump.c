/* pmb_sim_dump.c — reads callgrind's dumps: one file per
 * CALLGRIND_DUMP_STATS_AT, named <out-file>.<part>, parsed for its event
 * list and totals, then removed. */
#define _GNU_SOURCE
#include "pmb_error.h"
#include "pmb_sim.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const sim_event_name[EV_COUNT] = {
	"Ir", "D1mr", "D1mw", "DLmr", "DLmw", "Bc", "Bcm", "Bi", "Bim",
};

int pmb_sim_path(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= n)
		return pmb_error("path too long: %.80s...", out);
	return 0;
}

/* Callgrind names each dump <out-file>.<part>, numbering from 1 per process
 * (and again from 1 in a forked child, whose %p differs). */
static int refresh_prefix(struct pmb_sim_dumps *d)
{
	pid_t pid = getpid();
	if (pid != d->prefix_pid) {
		if (pmb_sim_path(d->prefix, sizeof d->prefix, "%s/callgrind.out.%d", d->dir,
			     (int)pid) != 0)
			return -1;
		d->prefix_pid = pid;
		d->dump_seq = 0;
	}
	return 0;
}

/* Our count is right unless something else dumped (callgrind_control -d, a
 * --dump-every-bb someone added); then the newest part is ours. */
static int find_dump(struct pmb_sim_dumps *d, char *path, size_t n)
{
	struct stat st;
	if (pmb_sim_path(path, n, "%s.%ld", d->prefix, d->dump_seq + 1) != 0)
		return -1;
	if (stat(path, &st) == 0) {
		d->dump_seq++;
		return 0;
	}
	const char *base = strrchr(d->prefix, '/') + 1;
	size_t blen = strlen(base);
	long best = -1;
	DIR *dir = opendir(d->dir);
	if (!dir)
		return pmb_error("cannot open %s: %s", d->dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(dir))) {
		char *end;
		if (strncmp(e->d_name, base, blen) != 0 || e->d_name[blen] != '.')
			continue;
		long part = strtol(e->d_name + blen + 1, &end, 10);
		if (*end == '\0' && part > best)
			best = part;
	}
	closedir(dir);
	if (best < 0)
		return pmb_error("callgrind wrote no dump %s.*: is this callgrind with "
				 "--callgrind-out-file=%s/callgrind.out.%%p?",
				 d->prefix, d->dir);
	d->dump_seq = best;
	return pmb_sim_path(path, n, "%s.%ld", d->prefix, best);
}

/* Reads the event order from `events:` and the counts from `totals:`.  Not
 * `summary:`: after CALLGRIND_ZERO_STATS valgrind 3.19's summary disagrees
 * with the cost lines (an empty region here: summary Ir 12, totals 9; it has
 * also been seen to underflow), while totals is the sum of the cost lines.  Trailing zero
 * counts are omitted from the line, so missing fields are 0. */
static int parse_dump(struct pmb_sim_dumps *d, const char *path, const char *expect_trigger, struct pmb_sim_counts *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return pmb_error("cannot open callgrind dump %s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	int map[64];
	int nevents = -1, have_totals = 0, trigger_ok = expect_trigger == NULL;
	memset(out, 0, sizeof *out);
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "creator: ", 9) && !d->creator[0]) {
			snprintf(d->creator, sizeof d->creator, "%s", line + 9);
			d->creator[strcspn(d->creator, "\n")] = '\0';
		} else if (!strncmp(line, "desc: Trigger: Client Request: ", 31) && expect_trigger) {
			/* The label goes to callgrind unsanitised (copying it would
			 * count inside the sample), so a newline in it ends the line
			 * early, and callgrind may shorten a long one: compare what
			 * is there. */
			const char *got = line + 31;
			size_t len = strcspn(got, "\n");
			trigger_ok = strncmp(got, expect_trigger, len) == 0;
		} else if (!strncmp(line, "events:", 7)) {
			char *save, *tok = strtok_r(line + 7, " \t\n", &save);
			nevents = 0;
			while (tok && nevents < 64) {
				map[nevents] = -1;
				for (int i = 0; i < EV_COUNT; i++)
					if (!strcmp(tok, sim_event_name[i]))
						map[nevents] = i;
				nevents++;
				tok = strtok_r(NULL, " \t\n", &save);
			}
		} else if (!strncmp(line, "totals:", 7) && nevents >= 0) {
			char *p = line + 7, *end;
			for (int i = 0; i < nevents; i++) {
				long long v = strtoll(p, &end, 10);
				if (end == p)
					break;
				if (map[i] >= 0)
					out->ev[map[i]] = v;
				p = end;
			}
			have_totals = 1;
		}
	}
	free(line);
	fclose(f);
	if (nevents < 0 || !have_totals)
		return pmb_error("callgrind dump %s has no events:/totals: line", path);
	if (!trigger_ok)
		return pmb_error("callgrind dump %s is not the one requested (trigger '%s'): "
				 "something else is dumping into %s",
				 path, expect_trigger, d->dir);
	return 0;
}

static int check_events(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int ok = 0;
	if (!f)
		return pmb_error("cannot open callgrind dump %s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "events:", 7) != 0)
			continue;
		ok = 1;
		for (int i = 0; i < EV_COUNT; i++) {
			char *p = line + 6;
			size_t len = strlen(sim_event_name[i]);
			int found = 0;
			while ((p = strstr(p + 1, sim_event_name[i])))
				if (p[-1] == ' ' && (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
					found = 1;
			ok &= found;
		}
		break;
	}
	free(line);
	fclose(f);
	if (!ok)
		return pmb_error("callgrind dump %s lacks cache or branch events: valgrind was not "
				 "started with --cache-sim=yes --branch-sim=yes",
				 path);
	return 0;
}

/* The dump for a sample has been requested; read it.  `label` is what was
 * passed to CALLGRIND_DUMP_STATS_AT. */
int pmb_sim_dump_read(struct pmb_sim_dumps *d, const char *label, struct pmb_sim_counts *counts,
		      int verify_events)
{
	char path[PATH_MAX + 32];
	if (refresh_prefix(d) != 0 || find_dump(d, path, sizeof path) != 0)
		return -1;
	int rc = parse_dump(d, path, label, counts);
	if (rc == 0 && verify_events)
		rc = check_events(path);
	/* One file per sample would pile up to thousands in a run. */
	unlink(path);
	return rc;
}

void pmb_sim_dump_clean(struct pmb_sim_dumps *d)
{
	if (refresh_prefix(d) != 0)
		return;
	const char *base = strrchr(d->prefix, '/') + 1;
	size_t blen = strlen(base);
	DIR *dir = opendir(d->dir);
	if (!dir)
		return;
	struct dirent *e;
	char path[PATH_MAX];
	while ((e = readdir(dir)))
		if (strncmp(e->d_name, base, blen) == 0 && e->d_name[blen] == '.' &&
		    pmb_sim_path(path, sizeof path, "%s/%s", d->dir, e->d_name) == 0)
			unlink(path);
	closedir(dir);
}
