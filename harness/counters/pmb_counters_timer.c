/* pmb_counters_timer.c — the backend that counts nothing: the runner's own
 * wall time and TSC ticks are the only measurements, every counter column
 * stays empty, and the reason says how to get counts. */
#include "pmb_counters.h"
#include "pmb_error.h"

#include <stdio.h>

static int timer_init(struct pmb_counter_plan *plan)
{
	pmb_counter_plan_reset(plan, plan->requested);
	for (int i = 0; i < PMB_CTR_MAX; i++)
		if (plan->requested & PMB_CTR_MASK(i))
			snprintf(plan->reason[i], sizeof plan->reason[i], "%s",
				 "timer backend: counters not read (use --backend=papi, or --backend=sim for simulated counts)");
	snprintf(plan->note, sizeof plan->note,
		 "timer: no counters read, wall time and TSC only");
	return 0;
}

static int timer_thread_open(const struct pmb_counter_plan *plan, void **state)
{
	(void)plan;
	*state = NULL;
	return 0;
}

static int timer_start(void *state, int pass)
{
	(void)state;
	if (pass != 0)
		return pmb_error("timer backend: pass %d does not exist (it has 1 pass)", pass);
	return 0;
}

static int timer_stop_and_read(void *state, int pass, const char *label,
			       struct pmb_counter_values *values)
{
	(void)state;
	(void)label;
	values->counted = 0;
	if (pass != 0)
		return pmb_error("timer backend: pass %d does not exist (it has 1 pass)", pass);
	return 0;
}

static void timer_thread_close(void *state)
{
	(void)state;
}

static void timer_fini(void)
{
}

const struct pmb_counter_backend pmb_counter_backend_timer = {
	.name = "timer",
	.init = timer_init,
	.thread_open = timer_thread_open,
	.start = timer_start,
	.stop_and_read = timer_stop_and_read,
	.thread_close = timer_thread_close,
	.fini = timer_fini,
};
