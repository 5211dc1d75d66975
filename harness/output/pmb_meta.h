/* pmb_meta.h — meta.json: everything needed to interpret a run later
 * (machine, topology raw and sanitised, counters and why not, compiler and
 * flags, clocks, the exact command line).  Rewritten atomically (temp file
 * + rename) at the start and end of a run; `complete` says if it finished. */
#ifndef PMB_META_H
#define PMB_META_H

#include "pmb_calibrate.h"
#include "pmb_clock.h"
#include "pmb_cores.h"
#include "pmb_counters.h"
#include "pmb_latency_table.h"
#include "pmb_options.h"
#include "pmb_plan.h"
#include "pmb_report.h"
#include "pmb_system.h"
#include "pmb_topology.h"

struct pmb_meta {
	const struct pmb_options *opt;
	const struct pmb_core_choice *core_choice; /* which cores and why */
	const struct pmb_latency_table *latency;    /* per-level latency, NULL if not measured */
	const struct pmb_topology_info *topo;
	const struct pmb_system_info *sys;
	const struct pmb_counter_plan *counters;
	const struct pmb_calibration *calibration; /* may be NULL */
	const char *backend;
	const struct pmb_clock_calibration *clock;
	const struct pmb_plan *plan;
	const struct pmb_run_info *run;
	int argc;
	char **argv;
	char started_utc[32];
	char finished_utc[32];
	int complete;
	int interrupted_by;        /* signal number, 0 if none */
	char error[1024];          /* what stopped the run, "" if nothing */
	size_t points_done, points_total, points_resumed;
	double counter_start_stop_ns; /* median cost of start + stop_and_read */
	double sample_overhead_ns;    /* median empty-sample cost over points */
	char preemption[512];         /* the preemption guard's rule, or why it is off */
	unsigned long long samples_discarded; /* preempted samples discarded and retaken */
};

/* The compiler that built this binary, e.g. "gcc-12.2.0". */
const char *pmb_meta_compiler(void);
/* The flags it was built with (the Makefile passes them in). */
const char *pmb_meta_cflags(void);

void pmb_meta_utc_now(char *buf, size_t len, int compact);

int pmb_meta_write(const struct pmb_meta *m);

#endif
