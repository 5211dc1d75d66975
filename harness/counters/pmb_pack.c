/* pmb_pack.c — first-fit packing of counters into passes (pmb_pack.h). */
#include "pmb_pack.h"
#include "pmb_counters.h"

int pmb_pack_passes(const int *ids, int n, int max_per_pass, int max_passes,
		    pmb_pack_fits_fn fits, void *ctx, int *pass_of)
{
	/* Counter ids are < PMB_CTR_MAX, so no pass holds more. */
	int members[PMB_COUNTER_PASSES_MAX][PMB_CTR_MAX];
	int count[PMB_COUNTER_PASSES_MAX] = {0};
	int npasses = 0;

	if (max_passes > PMB_COUNTER_PASSES_MAX)
		max_passes = PMB_COUNTER_PASSES_MAX;
	for (int i = 0; i < n; i++) {
		int id = ids[i], placed = -1;
		/* First fit keeps the earlier (more important) counters
		 * together in pass 0: cycles and instructions come first in
		 * the table, so they share a pass whenever the PMU allows. */
		for (int p = 0; p < npasses && placed < 0; p++) {
			if (max_per_pass > 0 && count[p] >= max_per_pass)
				continue;
			if (count[p] >= PMB_CTR_MAX)
				continue;
			if (fits(ctx, members[p], count[p], id))
				placed = p;
		}
		/* A counter that counts alone always fits an empty pass. */
		if (placed < 0 && npasses < max_passes)
			placed = npasses++;
		if (placed >= 0)
			members[placed][count[placed]++] = id;
		pass_of[id] = placed;
	}
	return npasses;
}
