/* pmb_preempt.h — the preemption guard: a sample during which the thread
 * was switched out or migrated measured someone else's work too, so the
 * runner discards and retakes it (bounded).  The guard counts the kernel's
 * software events CONTEXT-SWITCHES and CPU-MIGRATIONS through its own
 * perf_event_open group (pmb_perf_sw), whatever the counter backend, so it
 * works with --backend timer and on machines without a PMU, and costs
 * nothing inside the timed region (it starts before the clocks are read and
 * stops after). */
#ifndef PMB_PREEMPT_H
#define PMB_PREEMPT_H

#include <stddef.h>
#include <stdint.h>

struct pmb_counter_backend;
struct pmb_preempt;

/* Once, on the main thread: 1 when the guard can run here, else 0 with
 * why (e.g. perf_event_paranoid too high, or a simulated backend whose
 * counts do not depend on the schedule).  `how` gets the one-line rule for
 * meta.json and the console either way. */
int pmb_preempt_probe(const struct pmb_counter_backend *backend, char *how, size_t len);

/* Per worker thread, after pinning: the guard, or NULL (with pmb_error)
 * when it cannot open. */
struct pmb_preempt *pmb_preempt_open(void);
/* Around one sample; stop returns the context switches + migrations
 * counted since start (0 when the guard is NULL). */
void pmb_preempt_start(struct pmb_preempt *g);
uint64_t pmb_preempt_stop(struct pmb_preempt *g);
void pmb_preempt_close(struct pmb_preempt *g);

#endif
