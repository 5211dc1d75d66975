/* pmb_cores.c — pick idle cores (see pmb_cores.h). */
#include "pmb_cores.h"
#include "pmb_system.h"

#include <stdio.h>
#include <string.h>

/* A core counts as "as idle as" another when their busy shares are within
 * the margin: then topology order decides, so a quiet machine always gets
 * the same cores (the first ones) and results stay comparable. */
static int less_busy(double a, double b)
{
	if (a < 0)
		return 0;
	if (b < 0)
		return 1;
	return a + PMB_CORES_BUSY_MARGIN < b;
}

void pmb_cores_order(const double *busy, int n, int *order)
{
	for (int i = 0; i < n; i++)
		order[i] = i;
	/* Insertion sort, stable: n is the number of cores. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && less_busy(busy[order[j]], busy[order[j - 1]]); j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
}

void pmb_cores_choose(struct pmb_options *opt, const struct pmb_topology_info *topo, int threads,
		      int ms, struct pmb_core_choice *out)
{
	memset(out, 0, sizeof *out);
	if (opt->ncores) {
		snprintf(out->how, sizeof out->how, "--cores");
		snprintf(out->why, sizeof out->why, "given with --cores (or cores = in the config)");
		out->ncores = (int)opt->ncores;
		memcpy(out->cores, opt->cores, opt->ncores * sizeof opt->cores[0]);
		return;
	}
	int n = topo->ncores < 256 ? topo->ncores : 256;
	double busy[256];
	int order[256];
	int known = pmb_system_cpus_busy(topo->core_os_index, n, ms, busy) == 0;
	pmb_cores_order(busy, n, order);
	int use = threads < n ? threads : n;
	for (int t = 0; t < n; t++)
		opt->cores[t] = topo->core_os_index[order[t]];
	opt->ncores = (size_t)n;
	out->ncores = use;
	memcpy(out->cores, opt->cores, (size_t)use * sizeof opt->cores[0]);
	snprintf(out->how, sizeof out->how, "%s", known ? "least busy" : "in order");
	size_t len = (size_t)snprintf(out->why, sizeof out->why,
				      "busy share over %d ms before the run:", ms);
	for (int i = 0; i < n && len < sizeof out->why; i++)
		len += (size_t)snprintf(out->why + len, sizeof out->why - len, " cpu%d %.0f%%%s",
					topo->core_os_index[i], busy[i] * 100,
					busy[i] < 0 ? " (unknown)" : "");
	if (len < sizeof out->why)
		snprintf(out->why + len, sizeof out->why - len,
			 "; least busy first, ties within %.0f%% in topology order",
			 PMB_CORES_BUSY_MARGIN * 100);
}
