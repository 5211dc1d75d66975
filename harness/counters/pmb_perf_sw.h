/* pmb_perf_sw.h — the kernel's software events (page faults, context
 * switches, CPU migrations, task clock) read straight from perf_event_open.
 *
 * Why this exists: PAPI reaches these events only through its perf_event
 * component, and that component is disabled whenever libpfm4 does not know
 * the CPU's PMU (a VM without a virtual PMU; AMD Zen 5 with Debian 12's
 * libpfm4: "Error libpfm4 no default PMU found").  The kernel counts
 * software events without any PMU, so the PAPI backend falls back to this
 * module for them.  Event names recorded in the plan start with
 * "perf_event_open:" so the output says where the numbers came from.
 *
 * One group per thread (leader + members, PERF_FORMAT_GROUP): one ioctl on
 * the leader enables or disables all of them (members count only while the
 * leader does) and one read() returns all of them.
 * Events count the calling thread only (pid 0, any CPU), user and kernel
 * context both: page faults are raised in kernel context on behalf of the
 * thread, and context switches and migrations are only ever recorded with
 * kernel registers, so excluding the kernel would make those two read 0.
 *
 * Permissions (measured on Linux 6.18, non-root): kernel.perf_event_paranoid
 * <= 1 allows these events; 2 and above refuses them with EACCES unless the
 * process has CAP_PERFMON (or CAP_SYS_ADMIN).  Root always may.
 *
 * Test-only: PMB_PERF_SW_FAIL=EACCES|EPERM|ENOSYS|ENOENT|EINVAL makes every
 * open fail with that errno without calling the kernel, so the error
 * reasons can be tested without changing system settings;
 * PMB_PERF_SW_FAIL=EACCES:TASK-CLOCK,CPU-MIGRATIONS fails only those events
 * (so PAPI is asked for them: tests of pass packing without a PMU). */
#ifndef PMB_PERF_SW_H
#define PMB_PERF_SW_H

#include <stdint.h>

#include "pmb_counters.h"

#define PMB_PERF_SW_PREFIX "perf_event_open:"

/* The counters this module can provide. */
#define PMB_PERF_SW_MASK                                                         \
	(PMB_CTR_MASK(PMB_CTR_PAGE_FAULTS) | PMB_CTR_MASK(PMB_CTR_CONTEXT_SWITCHES) | \
	 PMB_CTR_MASK(PMB_CTR_CPU_MIGRATIONS) | PMB_CTR_MASK(PMB_CTR_TASK_CLOCK_NS))

/* "perf_event_open:PAGE-FAULTS" etc.; NULL for a counter it cannot do. */
const char *pmb_perf_sw_event_name(int id);

/* Mask of the plan's available counters whose event is from this module. */
uint32_t pmb_perf_sw_plan_mask(const struct pmb_counter_plan *plan);

/* Init-time check on the calling thread: opens the counters of mask (only
 * those of PMB_PERF_SW_MASK are considered) as one group, enables, disables
 * and reads it once.  Returns the mask that works; for each counter of mask
 * that does not, writes why (strerror, and for a permission error the
 * paranoid level and the fix) into reason[id]. */
uint32_t pmb_perf_sw_probe(uint32_t mask, char (*reason)[PMB_COUNTER_REASON_MAX]);

struct pmb_perf_sw;

/* Opens the group for the calling thread.  Returns 0, or -1 with
 * pmb_error() set. */
int pmb_perf_sw_open(uint32_t mask, struct pmb_perf_sw **group);
/* Resets and enables the group. */
int pmb_perf_sw_start(struct pmb_perf_sw *group);
/* Disables and reads the group into values (value[] and counted). */
int pmb_perf_sw_stop_and_read(struct pmb_perf_sw *group, struct pmb_counter_values *values);
void pmb_perf_sw_close(struct pmb_perf_sw *group);

/* kernel.perf_event_paranoid, or -1000 when it cannot be read. */
int pmb_perf_sw_read_paranoid(void);

#endif
