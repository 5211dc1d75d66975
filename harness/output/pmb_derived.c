/* pmb_derived.c — derived metrics, one table line each.
 *
 * Ratios of counters are taken within one sample, so both inputs counted
 * the same work: with several counter passes a ratio needs its two
 * counters in the same pass (the packer keeps cycles and instructions
 * together), else it stays empty.  The L1D rate is per instruction, as
 * likwid's "miss rate", because L1D accesses are not among the counters;
 * the LLC ratio is per L2 miss, the requests that reach the LLC.
 *
 * Traffic is declared by the kernel (struct pmb_kernel.traffic_bytes:
 * bytes read plus written per element and pass), not measured: GB/s is
 * that traffic over the sample's net wall time, so it is the bandwidth the
 * kernel sustained only as far as the declaration is right. */
#include "pmb_derived.h"

#include <math.h>

enum kind { RATIO, TRAFFIC, BANDWIDTH };

static const struct {
	enum kind kind;
	int num, den; /* counter ids for RATIO */
} how[PMB_DER_COUNT] = {
	[PMB_DER_IPC] = {RATIO, PMB_CTR_INSTRUCTIONS, PMB_CTR_CYCLES},
	[PMB_DER_BRANCH_MISS_RATIO] = {RATIO, PMB_CTR_BRANCH_MISSES, PMB_CTR_BRANCHES},
	[PMB_DER_L1D_MISS_RATE] = {RATIO, PMB_CTR_L1D_MISSES, PMB_CTR_INSTRUCTIONS},
	[PMB_DER_LLC_MISS_RATIO] = {RATIO, PMB_CTR_LLC_MISSES, PMB_CTR_L2_MISSES},
	[PMB_DER_BYTES_PER_ELEM] = {TRAFFIC, -1, -1},
	[PMB_DER_GBPS] = {BANDWIDTH, -1, -1},
};

const struct pmb_derived_info pmb_derived_info[PMB_DER_COUNT] = {
	[PMB_DER_IPC] = {"ipc", "instr/cycle", "instructions / cycles",
			 "instructions retired per core cycle"},
	[PMB_DER_BRANCH_MISS_RATIO] = {"branch_miss_ratio", "ratio", "branch_misses / branches",
				       "share of branches mispredicted"},
	[PMB_DER_L1D_MISS_RATE] = {"l1d_miss_rate", "misses/instr", "l1d_misses / instructions",
				   "L1 data cache misses per instruction"},
	[PMB_DER_LLC_MISS_RATIO] = {"llc_miss_ratio", "ratio", "llc_misses / l2_misses",
				    "share of the requests reaching the LLC that miss it"},
	[PMB_DER_BYTES_PER_ELEM] = {"traffic_bytes_per_elem", "B/elem",
				    "kernel's declared traffic_bytes",
				    "bytes read plus written per element and pass, as declared"},
	[PMB_DER_GBPS] = {"gb_per_s", "GB/s",
			  "traffic_bytes x n_elems x iters (x threads) / net ns",
			  "declared traffic over the net wall time of the sample"},
};

double pmb_derived_value(const struct pmb_sample_row *row, int d)
{
	if (d < 0 || d >= PMB_DER_COUNT)
		return NAN;
	const struct pmb_kernel *k = row->point->kernel;
	switch (how[d].kind) {
	case RATIO: {
		uint32_t need = PMB_CTR_MASK(how[d].num) | PMB_CTR_MASK(how[d].den);
		if ((row->counters.counted & need) != need || row->counters.value[how[d].den] <= 0)
			return NAN;
		return (double)row->counters.value[how[d].num] /
		       (double)row->counters.value[how[d].den];
	}
	case TRAFFIC:
		return k->traffic_bytes > 0 && row->iters ? k->traffic_bytes : NAN;
	case BANDWIDTH: {
		double net = (double)row->ns - row->overhead_ns;
		if (!(k->traffic_bytes > 0) || !row->iters || net <= 0)
			return NAN;
		double elems = (double)row->iters * (double)row->point->n_elems;
		if (row->thread < 0)
			elems *= row->point->threads;
		return k->traffic_bytes * elems / net; /* bytes per ns = GB/s */
	}
	}
	return NAN;
}
