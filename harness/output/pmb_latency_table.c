/* pmb_latency_table.c — plateau detection on the latency/chase curve (see
 * pmb_latency_table.h for the rule). */
#include "pmb_latency_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pmb_latency_table_add(struct pmb_latency_table *t, uint64_t size, double ns, double ticks)
{
	size_t i = 0;
	while (i < t->npoints && t->pt[i].size < size)
		i++;
	if (i < t->npoints && t->pt[i].size == size) {
		t->pt[i] = (struct pmb_latency_point){size, ns, ticks};
		return;
	}
	if (t->npoints == PMB_MAX_SIZES)
		return;
	memmove(&t->pt[i + 1], &t->pt[i], (t->npoints - i) * sizeof t->pt[0]);
	t->pt[i] = (struct pmb_latency_point){size, ns, ticks};
	t->npoints++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of ns (or ticks) over points [lo, hi]. */
static double run_median(const struct pmb_latency_table *t, size_t lo, size_t hi, int ticks)
{
	double v[PMB_MAX_SIZES];
	size_t n = 0;
	for (size_t i = lo; i <= hi; i++) {
		double x = ticks ? t->pt[i].ticks : t->pt[i].ns;
		if (!isnan(x))
			v[n++] = x;
	}
	if (!n)
		return NAN;
	qsort(v, n, sizeof v[0], cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Level index (0..nlevels-1) whose size range holds `size`. */
static int level_of(const struct pmb_latency_table *t, double size)
{
	for (int l = 0; l < t->nlevels - 1; l++)
		if (size <= (double)t->level[l].cache_size)
			return l;
	return t->nlevels - 1;
}

static void set_level(struct pmb_latency_table *t, int l, size_t lo, size_t hi, int single)
{
	struct pmb_latency_level *L = &t->level[l];
	L->found = 1;
	L->single = single;
	L->ns = run_median(t, lo, hi, 0);
	L->ticks = run_median(t, lo, hi, 1);
	L->lo = t->pt[lo].size;
	L->hi = t->pt[hi].size;
	L->npoints = (int)(hi - lo + 1);
}

static void describe(struct pmb_latency_table *t)
{
	size_t len = 0;
	t->text[0] = '\0';
	for (int l = 0; l < t->nlevels && len < sizeof t->text; l++) {
		const struct pmb_latency_level *L = &t->level[l];
		if (!L->found)
			continue;
		char ticks[32] = "";
		if (!isnan(L->ticks))
			snprintf(ticks, sizeof ticks, " (%.3g ticks)", L->ticks);
		len += (size_t)snprintf(t->text + len, sizeof t->text - len, "%s%s %.3g ns%s",
					len ? ", " : "", L->name, L->ns, ticks);
	}
}

void pmb_latency_table_detect(struct pmb_latency_table *t, const uint64_t cache_size[3],
			      int llc_level)
{
	t->nlevels = 0;
	for (int c = 0; c < llc_level && c < 3; c++) {
		if (!cache_size[c])
			continue;
		struct pmb_latency_level *L = &t->level[t->nlevels++];
		memset(L, 0, sizeof *L);
		snprintf(L->name, sizeof L->name, "L%d", c + 1);
		L->cache_size = cache_size[c];
	}
	struct pmb_latency_level *D = &t->level[t->nlevels++];
	memset(D, 0, sizeof *D);
	snprintf(D->name, sizeof D->name, "DRAM");

	/* Flat runs, greedy from the smallest size; each level keeps its
	 * longest. */
	for (size_t i = 0; i < t->npoints;) {
		size_t j = i;
		double lo = t->pt[i].ns, hi = lo;
		while (j + 1 < t->npoints) {
			double x = t->pt[j + 1].ns;
			double nlo = x < lo ? x : lo, nhi = x > hi ? x : hi;
			if (nhi > PMB_LATENCY_FLAT * nlo)
				break;
			lo = nlo, hi = nhi, j++;
		}
		if (j > i) {
			/* A run that goes on past a cache's size is not that
			 * cache's latency (on a VM the L3 share can be far
			 * smaller than hwloc says): its largest size decides. */
			int l = level_of(t, (double)t->pt[j].size);
			if (t->level[l].npoints < (int)(j - i + 1))
				set_level(t, l, i, j, 0);
		}
		i = j + 1;
	}
	/* Levels with points but no run: the point nearest the middle of the
	 * level's range (geometric; DRAM: the largest size). */
	for (int l = 0; l < t->nlevels; l++) {
		if (t->level[l].found)
			continue;
		double lo = l ? (double)t->level[l - 1].cache_size : 0;
		double hi = (double)t->level[l].cache_size;
		int best = -1;
		double best_d = INFINITY;
		for (size_t i = 0; i < t->npoints; i++) {
			double s = (double)t->pt[i].size;
			if (level_of(t, s) != l)
				continue;
			double mid = hi > 0 ? sqrt((lo > 0 ? lo : hi / 4) * hi) : INFINITY;
			double d = isinf(mid) ? -s : fabs(log(s / mid));
			if (d < best_d)
				best_d = d, best = (int)i;
		}
		if (best >= 0)
			set_level(t, l, (size_t)best, (size_t)best, 1);
	}
	describe(t);
}

static int lat_sample(void *self, const struct pmb_run_info *run, const struct pmb_sample_row *row)
{
	(void)self, (void)run, (void)row;
	return 0;
}

static int lat_point(void *self, const struct pmb_run_info *run, const struct pmb_point_summary *s)
{
	(void)run;
	const struct pmb_kernel *k = s->point->kernel;
	if (s->point->threads != 1 || s->thread != 0 || !s->valid ||
	    strcmp(k->family, PMB_LATENCY_KERNEL_FAMILY) ||
	    strcmp(k->variant, PMB_LATENCY_KERNEL_VARIANT) || !s->metric[PMB_METRIC_NS].n)
		return 0;
	double ticks = s->metric[PMB_METRIC_TSC].n ? s->metric[PMB_METRIC_TSC].median : NAN;
	pmb_latency_table_add(self, s->point->size_bytes, s->metric[PMB_METRIC_NS].median, ticks);
	return 0;
}

static void lat_close(void *self)
{
	(void)self; /* the table belongs to the caller */
}

int pmb_latency_reporter_open(struct pmb_reporter *rep, struct pmb_latency_table *t)
{
	memset(t, 0, sizeof *t);
	*rep = (struct pmb_reporter){.self = t, .sample = lat_sample, .point = lat_point,
				     .close = lat_close};
	return 0;
}

void pmb_latency_table_json(struct pmb_json *j, const struct pmb_latency_table *t)
{
	pmb_json_object(j, "latency_levels");
	pmb_json_string(j, "kernel", PMB_LATENCY_KERNEL_FAMILY "/" PMB_LATENCY_KERNEL_VARIANT);
	pmb_json_string(j, "rule",
			"flat runs of the ns/load curve (max <= 1.2 x min over consecutive sizes), "
			"each assigned to the hwloc cache level holding its largest size, the "
			"longest per level; its median; else the point nearest the level's middle "
			"(single)");
	pmb_json_string(j, "text", t->text);
	pmb_json_array(j, "curve");
	for (size_t i = 0; i < t->npoints; i++) {
		pmb_json_object(j, NULL);
		pmb_json_int(j, "size_bytes", (long long)t->pt[i].size);
		pmb_json_double(j, "ns", t->pt[i].ns);
		pmb_json_double(j, "ticks", t->pt[i].ticks);
		pmb_json_close(j);
	}
	pmb_json_close(j);
	pmb_json_array(j, "levels");
	for (int l = 0; l < t->nlevels && t->npoints; l++) {
		const struct pmb_latency_level *L = &t->level[l];
		pmb_json_object(j, NULL);
		pmb_json_string(j, "level", L->name);
		pmb_json_int(j, "cache_size_hwloc", (long long)L->cache_size);
		pmb_json_bool(j, "found", L->found);
		pmb_json_bool(j, "single_point", L->single);
		pmb_json_double(j, "ns", L->found ? L->ns : NAN);
		pmb_json_double(j, "ticks", L->found ? L->ticks : NAN);
		pmb_json_int(j, "size_lo", (long long)L->lo);
		pmb_json_int(j, "size_hi", (long long)L->hi);
		pmb_json_int(j, "points", L->npoints);
		pmb_json_close(j);
	}
	pmb_json_close(j);
	pmb_json_close(j);
}
