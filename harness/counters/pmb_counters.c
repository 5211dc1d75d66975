/* pmb_counters.c — what the backends share: the counter table, backend
 * lookup and the --counters list parser. */
#include "pmb_counters.h"
#include "pmb_error.h"

#include <stdio.h>
#include <string.h>

/* Candidate events are tried left to right; the one that works is recorded
 * in the plan (and so in the output), because the candidates do not all
 * measure exactly the same thing.
 *
 * PAPI 7.0's preset table knows Intel cores and AMD up to Zen 3; Zen 4 and
 * Zen 5 have no presets at all, so every hardware counter also lists the
 * perf generic event (perf::), which the kernel maps per CPU, and for Zen
 * the native event that PAPI's own Zen 3 presets use.  Native names without
 * a PMU prefix resolve against the default PMU and simply do not exist on
 * other vendors, so listing them is harmless.
 *
 * llc_misses: on Intel PAPI_L3_TCM is LONGEST_LAT_CACHE.MISS (all core
 * requests missing the L3, prefetches included).  On AMD Zen the L3 is a
 * per-CCX victim cache whose counters live in the separate amd_l3 PMU, which
 * counts per CCX and system-wide, not per thread, and the kernel has no
 * LLC-LOAD-MISSES mapping for Zen.  The closest per-thread core event is
 * demand data fills served from DRAM (near or far node):
 * DEMAND_DATA_CACHE_FILLS_FROM_SYSTEM (Zen 4 naming in libpfm4).  It misses
 * prefetch-caused and other-CCX fills, so Zen numbers are lower bounds
 * compared with Intel's; event_name in the output tells which was used.
 *
 * branches: PAPI_BR_CN (conditional only) comes first because mispredictions
 * are almost all on conditional branches, so branch_misses / branches is a
 * meaningful rate; where it does not exist (AMD, perf generic) all branches
 * are counted instead, and event_name says so. */
static const struct pmb_counter_info builtin[PMB_CTR_COUNT] = {
	[PMB_CTR_CYCLES] = { "cycles",
		"PAPI_TOT_CYC,perf::PERF_COUNT_HW_CPU_CYCLES",
		"core clock cycles (unhalted)", "cycles" },
	[PMB_CTR_INSTRUCTIONS] = { "instructions",
		"PAPI_TOT_INS,perf::PERF_COUNT_HW_INSTRUCTIONS",
		"instructions retired" },
	[PMB_CTR_L1D_MISSES] = { "l1d_misses",
		"PAPI_L1_DCM,perf::L1-DCACHE-LOAD-MISSES",
		"level 1 data cache misses" },
	[PMB_CTR_L2_MISSES] = { "l2_misses",
		"PAPI_L2_DCM,PAPI_L2_TCM,"
		"CORE_TO_L2_CACHEABLE_REQUEST_ACCESS_STATUS:LS_RD_BLK_C",
		"level 2 cache misses (data, else total)" },
	[PMB_CTR_LLC_MISSES] = { "llc_misses",
		"PAPI_L3_TCM,PAPI_L3_DCM,perf::LLC-LOAD-MISSES,"
		"DEMAND_DATA_CACHE_FILLS_FROM_SYSTEM:DRAM_IO_NEAR:DRAM_IO_FAR",
		"last level cache misses (Zen: demand fills from DRAM)" },
	[PMB_CTR_BRANCHES] = { "branches",
		"PAPI_BR_CN,PAPI_BR_INS,perf::PERF_COUNT_HW_BRANCH_INSTRUCTIONS",
		"branches retired (conditional, else all)" },
	[PMB_CTR_BRANCH_MISSES] = { "branch_misses",
		"PAPI_BR_MSP,perf::PERF_COUNT_HW_BRANCH_MISSES",
		"branches mispredicted" },
	[PMB_CTR_PAGE_FAULTS] = { "page_faults",
		"perf::PAGE-FAULTS",
		"page faults (software event)" },
	[PMB_CTR_CONTEXT_SWITCHES] = { "context_switches",
		"perf::CONTEXT-SWITCHES",
		"context switches (software event)" },
	[PMB_CTR_CPU_MIGRATIONS] = { "cpu_migrations",
		"perf::CPU-MIGRATIONS",
		"migrations to another CPU (software event)" },
	[PMB_CTR_TASK_CLOCK_NS] = { "task_clock_ns",
		"perf::TASK-CLOCK",
		"CPU time of the thread in ns (software event)", "ns" },
};

const struct pmb_counter_info *pmb_counter_info = builtin;

const struct pmb_counter_backend *pmb_counter_backend_find(const char *name)
{
	static const struct pmb_counter_backend *const backends[] = {
		&pmb_counter_backend_papi,
		&pmb_counter_backend_timer,
		&pmb_counter_backend_sim,
	};
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

static void known_list(char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < PMB_CTR_COUNT && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? ", " : "", pmb_counter_info[i].column);
}

/* One item of a list: a built-in name, a set, or an event of the user's. */
static int parse_item(const char *list, const char *p, size_t len, uint32_t *m)
{
	char known[256];

	for (int i = 0; i < PMB_CTR_COUNT; i++) {
		if (strlen(pmb_counter_info[i].column) == len &&
		    strncmp(pmb_counter_info[i].column, p, len) == 0) {
			*m |= PMB_CTR_MASK(i); /* duplicates are harmless */
			return 0;
		}
	}
	if ((len == 3 && !strncmp(p, "all", 3)) || (len == 7 && !strncmp(p, "default", 7))) {
		*m |= PMB_CTR_ALL_MASK;
		return 0;
	}
	if (len && pmb_user_event_like(p, len)) {
		int id = pmb_user_event_add(p, len);
		if (id < 0)
			return -1;
		*m |= PMB_CTR_MASK(id);
		return 0;
	}
	known_list(known, sizeof known);
	/* An empty item is a typo like "a,,b" or "a,", not a request for
	 * nothing: "none" says that. */
	if (len == 0)
		return pmb_error("empty counter name in '%s'; known counters: %s (or all, none)",
				 list, known);
	return pmb_error("unknown counter '%.*s'; known counters: %s (or all, none), or a PAPI "
			 "event with its upper-case or pmu:: spelling (PAPI_L1_TCM, "
			 "perf::INSTRUCTIONS, perf_raw::r00c0; see papi_avail, papi_native_avail)",
			 (int)(len > 64 ? 64 : len), p, known);
}

int pmb_counter_parse_list(const char *list, uint32_t *mask)
{
	/* The last list given wins, with its own events only. */
	pmb_user_events_reset();
	/* "default" is the old name of "all" (the default set is all of
	 * them); kept so older configs still read. */
	if (!list || strcmp(list, "all") == 0 || strcmp(list, "default") == 0) {
		*mask = PMB_CTR_ALL_MASK;
		return 0;
	}
	if (strcmp(list, "none") == 0) {
		*mask = 0;
		return 0;
	}

	uint32_t m = 0;
	const char *p = list;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (parse_item(list, p, len, &m) != 0)
			return -1;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*mask = m;
	return 0;
}

const char *pmb_counter_source(const struct pmb_counter_plan *plan, const char *backend, int c)
{
	if (!plan || c < 0 || c >= PMB_CTR_MAX || !(plan->available & PMB_CTR_MASK(c)))
		return "none";
	const char *ev = plan->event_name[c];
	if (!strncmp(ev, "perf_event_open:", 16))
		return "perf_event_open";
	if (!strncmp(ev, "callgrind:", 10) || (backend && !strcmp(backend, "sim")))
		return "simulator";
	return backend && *backend ? backend : "none";
}

void pmb_counter_plan_reset(struct pmb_counter_plan *plan, uint32_t requested)
{
	int max_per_pass = plan->max_per_pass;
	memset(plan, 0, sizeof *plan);
	plan->requested = requested & PMB_CTR_ANY_MASK;
	plan->max_per_pass = max_per_pass > 0 ? max_per_pass : 0;
	plan->npasses = 1;
	for (int i = 0; i < PMB_CTR_MAX; i++)
		plan->pass_of[i] = -1;
}
