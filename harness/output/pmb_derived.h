/* pmb_derived.h — metrics computed from what was counted in the same
 * sample, like likwid's performance groups: IPC, miss ratios, and the
 * bandwidth a kernel's declared traffic implies.  One table (pmb_derived.c)
 * names them, gives the formula and computes them; the summary, the JSON
 * and the report all take them from there.  A derived metric is empty
 * (NAN) when any input is empty or its denominator is 0. */
#ifndef PMB_DERIVED_H
#define PMB_DERIVED_H

#include "pmb_report.h"

enum pmb_derived_id {
	PMB_DER_IPC,
	PMB_DER_BRANCH_MISS_RATIO,
	PMB_DER_L1D_MISS_RATE,
	PMB_DER_LLC_MISS_RATIO,
	PMB_DER_BYTES_PER_ELEM,
	PMB_DER_GBPS,
	PMB_DER_COUNT
};

struct pmb_derived_info {
	const char *name;
	const char *unit;
	const char *formula;
	const char *description;
};

extern const struct pmb_derived_info pmb_derived_info[PMB_DER_COUNT];

/* The value of derived metric d for one sample row (thread or aggregate). */
double pmb_derived_value(const struct pmb_sample_row *row, int d);

#endif
