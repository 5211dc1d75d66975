/* pmb_pack.h — packing counters into passes (event sets counted together).
 *
 * Pure logic, separate from PAPI so it can be tested with a fake "can these
 * events count together" predicate: the PAPI backend's predicate builds a
 * real event set and starts it.  Only events of one counting source (PAPI)
 * are packed; software counters read through perf_event_open never enter a
 * PAPI event set. */
#ifndef PMB_PACK_H
#define PMB_PACK_H

/* Can `extra` count in one set together with members[0..nmembers-1]?
 * Returns nonzero if yes. */
typedef int (*pmb_pack_fits_fn)(void *ctx, const int *members, int nmembers, int extra);

/* Places counters ids[0..n-1] (each known to count alone), in order, first
 * fit: into the first pass that has room (max_per_pass, 0 = unlimited) and
 * where fits() says yes, else into a new pass while fewer than max_passes
 * exist.  Writes pass_of[ids[i]] (-1 when no pass is left for it) and
 * returns the number of passes used (0 when n == 0). */
int pmb_pack_passes(const int *ids, int n, int max_per_pass, int max_passes,
		    pmb_pack_fits_fn fits, void *ctx, int *pass_of);

#endif
