/* pmb_cores.h — which cores the workers run on.  With --cores the user's
 * list is obeyed.  Without it the least busy cores are taken, measured
 * from /proc/stat over a short window before the run (other work on a core
 * preempts our samples), and the choice and its reason go to meta.json. */
#ifndef PMB_CORES_H
#define PMB_CORES_H

#include "pmb_options.h"
#include "pmb_topology.h"

struct pmb_core_choice {
	char how[32];   /* "--cores", "least busy", "in order" (busy shares unreadable) */
	char why[512];  /* measured busy share per core, and the rule */
	int ncores;     /* cores in use, in thread order */
	int cores[256];
};

/* Busy shares must differ by more than this to reorder cores: /proc/stat
 * counts in 10 ms ticks, so a 150 ms window resolves ~7 %. */
#define PMB_CORES_BUSY_MARGIN 0.10

/* Fills opt->cores when the user gave none (threads = the largest thread
 * count) and describes the choice.  ms: measuring window. */
void pmb_cores_choose(struct pmb_options *opt, const struct pmb_topology_info *topo, int threads,
		      int ms, struct pmb_core_choice *out);

/* The ordering rule alone, for tests: core indices 0..n-1 sorted by busy
 * share ascending, ties (within PMB_CORES_BUSY_MARGIN of the idlest) kept
 * in topology order.  busy < 0 = unknown, sorts last. */
void pmb_cores_order(const double *busy, int n, int *order);

#endif
