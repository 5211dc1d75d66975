/* Console reporter: progress on stderr, one line per finished point, so a
 * long sweep shows where it is and how long is left. */
#include "pmb_clock.h"
#include "pmb_error.h"
#include "pmb_parse.h"
#include "pmb_report.h"
#include "pmb_schema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static const char *const level_names[] = {"", "L1", "L2", "L3", "DRAM"};

struct console_reporter {
	size_t npoints, done;
	uint64_t start_ns;
	int quiet;
};

static int console_sample(void *self, const struct pmb_run_info *run,
			  const struct pmb_sample_row *row)
{
	(void)self, (void)run, (void)row;
	return 0;
}

static int console_point(void *self, const struct pmb_run_info *run,
			 const struct pmb_point_summary *s)
{
	struct console_reporter *c = self;
	(void)run;
	/* One line per point: its group row (pmb_schema.h), with the
	 * schema's metric names, so the line reads as summary.csv does. */
	if (!pmb_schema_is_group_row(s->point, s->thread))
		return 0;
	c->done++;
	if (c->quiet)
		return 0;
	double elapsed = (double)(pmb_clock_ns() - c->start_ns) / 1e9;
	double eta = c->done ? elapsed / (double)c->done * (double)(c->npoints - c->done) : 0;
	const struct pmb_summary *ns = &s->metric[PMB_METRIC_NS];
	char size[32];
	double half = (ns->ci_high - ns->ci_low) / 2 / ns->median * 100;
	char name[64];
	snprintf(name, sizeof name, "%s/%s", s->point->kernel->family, s->point->kernel->variant);
	char tail[128] = ""; /* samples discarded for preemption; the kernel's note */
	if (s->discarded)
		snprintf(tail, sizeof tail, "(+%llu preempted)", (unsigned long long)s->discarded);
	if (s->note[0])
		snprintf(tail + strlen(tail), sizeof tail - strlen(tail), "%s[%s]", tail[0] ? " " : "",
			 s->note);
	/* With more than one thread, the group's throughput too: per-thread
	 * time and group time per element are different metrics. */
	char group[640] = "";
	if (s->point->threads > 1)
		snprintf(group, sizeof group, "  %s %.4g", pmb_metric_name(PMB_METRIC_GROUP_NS),
			 s->metric[PMB_METRIC_GROUP_NS].median);
	/* The user's own events (--counters PAPI_...): asked for by name, so
	 * shown by name; "empty" when not counted (meta.json says why). */
	for (int m = PMB_METRIC_USER0; m < PMB_METRIC_COUNT && pmb_schema_metric(m); m++) {
		size_t len = strlen(group);
		if (s->metric[m].n)
			snprintf(group + len, sizeof group - len, "  %s %.4g", pmb_metric_name(m),
				 s->metric[m].median);
		else
			snprintf(group + len, sizeof group - len, "  %s empty", pmb_metric_name(m));
	}
	fprintf(stderr, "[%4zu/%zu] %-28s %9s %-4s t=%d  %s %.4g +-%4.1f%%%s  n=%-3zu %s ETA %dm%02ds\n",
		c->done, c->npoints, name, pmb_format_size(s->point->size_bytes, size, sizeof size),
		level_names[s->point->cache_level], s->point->threads,
		pmb_metric_name(PMB_METRIC_NS), ns->median, isfinite(half) ? half : 0.0, group,
		ns->n, s->valid ? tail : "INVALID", (int)eta / 60, (int)eta % 60);
	return 0;
}

static void console_close(void *self)
{
	free(self);
}

int pmb_report_console_open(struct pmb_reporter *rep, size_t npoints, int quiet)
{
	struct console_reporter *c = calloc(1, sizeof *c);
	if (!c)
		return pmb_error("out of memory");
	c->npoints = npoints;
	c->start_ns = pmb_clock_ns();
	c->quiet = quiet;
	rep->self = c;
	rep->sample = console_sample;
	rep->point = console_point;
	rep->close = console_close;
	return 0;
}
