/* pmb_counters_sim.c — simulated counters from valgrind's callgrind.
 *
 * Our machines have no PMU, so this backend runs the whole harness under
 * `valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes` and reads the
 * simulator's counts around each sample.  The counts are deterministic (same
 * binary, same input, same environment -> same numbers), which is what the
 * signature tests need; they are a model (L1 + last level, 2-bit branch
 * predictor), not the machine.
 *
 * How a run works: harness/run/pmb_sim_launch.c re-runs pmubench under
 * valgrind before anything else (main() calls it first), so this backend
 * only ever runs inside valgrind.
 *
 * --instr-atstart=yes (instrument from the start)
 * -----------------------------------------------
 * With --instr-atstart=no the simulated caches only see what runs while
 * instrumentation is on, so every sample would start cold and the harness's
 * warm-up iterations would warm nothing.  Instrumenting from the start keeps
 * the simulated cache and predictor state across samples, exactly like the
 * hardware between warm-up and measurement.  The price is that data setup is
 * simulated too (slower start); honest beats fast here.
 *
 * Per-sample overhead
 * -------------------
 * start() is CALLGRIND_ZERO_STATS and stop_and_read() CALLGRIND_DUMP_STATS_AT,
 * so a sample also counts the instructions between the two client requests
 * that are not the kernel: our own return/call paths and whatever the runner
 * does inside the bracket.  init() measures an empty bracket through the same
 * functions and reports it in plan->note: 18 Ir, 0 D1 misses, 0 branches
 * with gcc 12 -O2 (20 Ir, 1 branch when called through the backend table as
 * the runner does).  It is NOT subtracted: the runner's own code between
 * start and stop is not part of that measurement, and the miss part depends
 * on cache state, so no constant is exact; the runner's empty-kernel baseline
 * is the right place to remove it, as for timers.  Against a kernel of a
 * million instructions it is noise either way.
 *
 * Also ignore valgrind's log line "simulated LL cache: ... 536,870,912": it
 * comes from its CPUID auto-detection, which runs anyway; the --LL we pass
 * wins (the dump's "desc: LL cache:" line shows what was simulated).
 *
 * Threads
 * -------
 * Callgrind serialises threads and ZERO/DUMP act on the whole process, so
 * two concurrent workers' samples cannot be separated (--separate-threads
 * splits cost by thread but zeroing and dump points are still global).  The
 * backend therefore measures one thread at a time: a second concurrent
 * thread_open() fails with a message asking for --threads 1.
 */
#define _GNU_SOURCE
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_sim.h"
#include "pmb_system.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

static struct {
	int active;                /* init succeeded under valgrind */
	struct pmb_sim_dumps dumps;
	char caches[160];          /* "I1=... D1=... LL=..." as passed */
	uint32_t available;
	atomic_int open_threads;
	pid_t parent;              /* the native supervisor */
	int owned_dir;             /* dir is a pmb-sim-* temporary of the supervisor */
} sim;

/* ---- backend functions ------------------------------------------------- */

static void plan_reset(struct pmb_counter_plan *plan, uint32_t requested)
{
	/* pmb_counter_plan_reset's job, inlined so this file links without
	 * pmb_counters.c (and the PAPI backend it pulls in) in unit tests. */
	memset(plan, 0, sizeof *plan);
	plan->requested = requested & PMB_CTR_ANY_MASK;
	plan->npasses = 1;
	for (int i = 0; i < PMB_CTR_MAX; i++)
		plan->pass_of[i] = -1;
}

static const struct {
	enum pmb_counter_id id;
	const char *events; /* callgrind events summed into the column */
} sim_map[] = {
	{PMB_CTR_INSTRUCTIONS, "Ir"},
	{PMB_CTR_L1D_MISSES, "D1mr+D1mw"},
	{PMB_CTR_LLC_MISSES, "DLmr+DLmw"},
	{PMB_CTR_BRANCHES, "Bc+Bi"},
	{PMB_CTR_BRANCH_MISSES, "Bcm+Bim"},
};

static const char *unavailable_reason(int id)
{
	if (id >= PMB_CTR_COUNT)
		return "not simulated: callgrind counts only its own events (Ir, D1mr, DLmr, Bc, "
		       "Bcm, ...), not PAPI events; count it with --backend=papi";
	switch (id) {
	case PMB_CTR_CYCLES:
		return "not simulated: callgrind counts events and has no timing model, so no cycles";
	case PMB_CTR_L2_MISSES:
		return "not simulated: callgrind models L1 and the last level only, no L2";
	case PMB_CTR_PAGE_FAULTS:
	case PMB_CTR_CONTEXT_SWITCHES:
	case PMB_CTR_CPU_MIGRATIONS:
	case PMB_CTR_TASK_CLOCK_NS:
		return "not simulated: a software counter here would measure valgrind, not the kernel";
	default:
		return "not simulated by callgrind";
	}
}

static void sim_fill_values(const struct pmb_sim_counts *c, struct pmb_counter_values *v)
{
	memset(v, 0, sizeof *v);
	v->value[PMB_CTR_INSTRUCTIONS] = c->ev[EV_IR];
	v->value[PMB_CTR_L1D_MISSES] = c->ev[EV_D1MR] + c->ev[EV_D1MW];
	v->value[PMB_CTR_LLC_MISSES] = c->ev[EV_DLMR] + c->ev[EV_DLMW];
	v->value[PMB_CTR_BRANCHES] = c->ev[EV_BC] + c->ev[EV_BI];
	v->value[PMB_CTR_BRANCH_MISSES] = c->ev[EV_BCM] + c->ev[EV_BIM];
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		if (!(sim.available & PMB_CTR_MASK(i)))
			v->value[i] = 0;
	v->counted = sim.available;
}

/* start and stop keep the client requests at the edges (ZERO last, DUMP
 * first): whatever runs between them is counted in the sample. */
static int sim_start(void *thread_state, int pass)
{
	(void)thread_state;
	if (pass != 0)
		return pmb_error("sim backend: pass %d does not exist (it has 1 pass)", pass);
	if (!sim.active)
		return pmb_error("internal: sim backend used before a successful init");
	CALLGRIND_ZERO_STATS;
	return 0;
}

static int sim_stop_and_read(void *thread_state, int pass, const char *label,
			     struct pmb_counter_values *values)
{
	struct pmb_sim_counts c;
	if (!label)
		label = "pmb";
	CALLGRIND_DUMP_STATS_AT(label);
	(void)thread_state;
	values->counted = 0;
	if (pass != 0)
		return pmb_error("sim backend: pass %d does not exist (it has 1 pass)", pass);
	if (!sim.active)
		return pmb_error("internal: sim backend used before a successful init");
	if (pmb_sim_dump_read(&sim.dumps, label, &c, 0) != 0)
		return -1;
	sim_fill_values(&c, values);
	return 0;
}

static int sim_init_under_valgrind(struct pmb_counter_plan *plan)
{
	const char *dir = getenv(PMB_SIM_ENV_DIR_PRIVATE);
	const char *caches = getenv(PMB_SIM_ENV_CACHES);
	if (!getenv(PMB_SIM_ENV_CHILD) || !dir || !caches)
		return pmb_error("pmubench is already running under valgrind; the sim backend "
				 "starts valgrind (callgrind) itself with the options it needs: run "
				 "pmubench without valgrind");
	memset(&sim, 0, sizeof sim);
	snprintf(sim.dumps.dir, sizeof sim.dumps.dir, "%s", dir);
	snprintf(sim.caches, sizeof sim.caches, "%s", caches);
	sim.parent = getppid();
	sim.owned_dir = !getenv(PMB_SIM_ENV_DIR) || !*getenv(PMB_SIM_ENV_DIR);
	unsetenv(PMB_SIM_ENV_CHILD);
	unsetenv(PMB_SIM_ENV_DIR_PRIVATE);
	unsetenv(PMB_SIM_ENV_CACHES);
	unsetenv("HWLOC_XMLFILE");
	unsetenv("HWLOC_THISSYSTEM");
	atomic_init(&sim.open_threads, 0);

	/* Proves the dump round trip and the event set before any sample, and
	 * gives us callgrind's version from the header. */
	struct pmb_sim_counts c;
	CALLGRIND_DUMP_STATS_AT("pmb-sim-selfcheck");
	if (pmb_sim_dump_read(&sim.dumps, "pmb-sim-selfcheck", &c, 1) != 0)
		return -1;

	for (size_t i = 0; i < sizeof sim_map / sizeof sim_map[0]; i++) {
		enum pmb_counter_id id = sim_map[i].id;
		snprintf(plan->event_name[id], sizeof plan->event_name[id], "callgrind:%s",
			 sim_map[i].events);
		if (plan->requested & PMB_CTR_MASK(id)) {
			plan->available |= PMB_CTR_MASK(id);
			plan->pass_of[id] = 0;
		}
	}
	for (int i = 0; i < PMB_CTR_MAX; i++)
		if ((plan->requested & PMB_CTR_MASK(i)) && !(plan->available & PMB_CTR_MASK(i)))
			snprintf(plan->reason[i], sizeof plan->reason[i], "%s",
				 unavailable_reason(i));
	sim.available = plan->available;
	sim.active = 1;

	/* The empty bracket through the real entry points: what every sample
	 * carries on top of its kernel (see the header comment). */
	struct pmb_counter_values empty;
	if (sim_start(NULL, 0) != 0 || sim_stop_and_read(NULL, 0, "pmb-sim-empty", &empty) != 0) {
		sim.active = 0;
		return -1;
	}

	/* "callgrind-3.19.0" -> "callgrind (valgrind-3.19.0)" */
	const char *ver = strchr(sim.dumps.creator, '-');
	const char *d1 = strstr(sim.caches, "D1=");
	snprintf(plan->backend_version, sizeof plan->backend_version,
		 "callgrind (valgrind-%s) %s", ver ? ver + 1 : "?", d1 ? d1 : sim.caches);
	snprintf(plan->note, sizeof plan->note,
		 "sim: callgrind (valgrind-%s) %s, instr-atstart=yes, 100-250x slower than "
		 "native; per-sample overhead %lld Ir %lld L1d-miss %lld br (not subtracted)",
		 ver ? ver + 1 : "?", sim.caches, (long long)empty.value[PMB_CTR_INSTRUCTIONS],
		 (long long)empty.value[PMB_CTR_L1D_MISSES],
		 (long long)empty.value[PMB_CTR_BRANCHES]);
	return 0;
}

static int sim_init(struct pmb_counter_plan *plan)
{
	plan_reset(plan, plan->requested);
	if (RUNNING_ON_VALGRIND)
		return sim_init_under_valgrind(plan);
	/* main() relaunches under valgrind first (pmb_sim_launch): a native
	 * init means that step was skipped. */
	return pmb_error("internal: the sim backend runs under valgrind only; call "
			 "pmb_sim_launch(\"sim\") before its init()");
}

static int sim_thread_open(const struct pmb_counter_plan *plan, void **thread_state)
{
	(void)plan;
	*thread_state = NULL;
	if (!sim.active)
		return pmb_error("internal: sim backend used before a successful init");
	if (atomic_fetch_add(&sim.open_threads, 1) != 0) {
		atomic_fetch_sub(&sim.open_threads, 1);
		return pmb_error("the sim backend measures one thread at a time; use --threads 1");
	}
	/* Non-NULL so the runner can tell an open state from none. */
	*thread_state = &sim;
	return 0;
}

static void sim_thread_close(void *thread_state)
{
	if (thread_state == &sim)
		atomic_fetch_sub(&sim.open_threads, 1);
}

/* The directory itself is removed by the native parent once valgrind has
 * written its exit-time profile (pmb_sim_launch.c); here only our own
 * stray parts go, should a failed read have left one. */
static void sim_fini(void)
{
	if (!sim.active)
		return;
	if (sim.owned_dir && getppid() != sim.parent)
		/* The supervisor is gone (killed): nobody else will remove it. */
		pmb_system_remove_flat_dir(sim.dumps.dir);
	else
		pmb_sim_dump_clean(&sim.dumps);
	sim.active = 0;
}

const struct pmb_counter_backend pmb_counter_backend_sim = {
	.name = "sim",
	.schedule_independent = 1,
	.init = sim_init,
	.thread_open = sim_thread_open,
	.start = sim_start,
	.stop_and_read = sim_stop_and_read,
	.thread_close = sim_thread_close,
	.fini = sim_fini,
};
