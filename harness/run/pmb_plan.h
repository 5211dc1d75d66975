/* pmb_plan.h — what a run will measure: kernels x sizes x thread counts,
 * checked against the machine before anything runs. */
#ifndef PMB_PLAN_H
#define PMB_PLAN_H

#include "pmb_kernel.h"
#include "pmb_options.h"
#include "pmb_topology.h"

#include <stddef.h>
#include <stdint.h>

struct pmb_point {
	const struct pmb_kernel *kernel;
	uint64_t size_bytes;  /* working set per thread */
	size_t n_elems;       /* per thread */
	int threads;
	int cache_level;      /* 1..3, 4 = DRAM */
	int done;             /* set by --resume for points already measured */
};

struct pmb_plan {
	struct pmb_point *points;
	size_t npoints;
	uint64_t sizes[PMB_MAX_SIZES];
	size_t nsizes;
	char notes[512]; /* what the sweep capped and why, for stderr and meta */
};

/* Flattened kernel table. */
size_t pmb_plan_kernel_count(void);
const struct pmb_kernel *pmb_plan_kernel_at(size_t i);

/* 1 if "family/variant" matches the comma list of globs in filter. */
int pmb_plan_filter_matches(const char *filter, const struct pmb_kernel *k);

/* 0, or -1 with pmb_error() naming a pattern that matches no kernel. */
int pmb_plan_check_filter(const char *filter);

/* The automatic sweep: geometric x4 from 1 KiB, plus points at 3/4 and
 * 3/2 of each cache size, up to min(4 x LLC, max_size). */
size_t pmb_plan_auto_sizes(const struct pmb_topology_info *topo, uint64_t max_size,
			   uint64_t *sizes, size_t max);

/* Builds the plan; fails (pmb_error) on a filter matching nothing, more
 * threads than cores, a sweep larger than free memory. */
int pmb_plan_build(struct pmb_plan *plan, const struct pmb_options *opt,
		   const struct pmb_topology_info *topo, uint64_t mem_available);

/* OS index of the PU that thread t runs on: --cores, or the t-th usable
 * core. */
int pmb_plan_core_for(const struct pmb_options *opt, const struct pmb_topology_info *topo,
		      int thread);

/* Seeded Fisher-Yates shuffle of n elements of `size` bytes (at most
 * 256): the plan's interleaving and the order of each --rounds round. */
void pmb_plan_shuffle(void *base, size_t n, size_t size, uint64_t seed);

void pmb_plan_free(struct pmb_plan *plan);

#endif
