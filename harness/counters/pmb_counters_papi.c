/* pmb_counters_papi.c — counters read through PAPI.
 *
 * This file chooses an event per counter, packs them into passes and says
 * why a counter is not counted.  Loading and starting the library (dlopen,
 * so a machine without PAPI still runs every benchmark) is in
 * pmb_papi_load.c.
 *
 * Software events (page faults, context switches, migrations, task clock)
 * are read straight from perf_event_open by pmb_perf_sw.c, and only fall
 * back to PAPI where that fails: the kernel counts them without any PMU
 * (PAPI cannot even see them when libpfm4 does not know the CPU, as with
 * Zen 5 on Debian 12), and PAPI's user-mode-only default would read 0
 * context switches.  Their event_name starts with
 * "perf_event_open:" and the note lists them, so the output never claims
 * PAPI counted them.  They all go in pass 0 (not multiplexed, no PMU
 * counter used) and bracket PAPI's events there.
 *
 * Threads: init and fini (here and pmb_papi_load.c) run on the main thread; thread_open,
 * start, stop_and_read and thread_close (pmb_papi_thread.c) run on each
 * worker concurrently.  Workers only read the globals written by init, and
 * each owns its event sets.
 */
#define _GNU_SOURCE
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_pack.h"
#include "pmb_papi.h"
#include "pmb_perf_sw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Why PAPI could not count, worked out once in init for the reasons. */
static struct {
	int perf_disabled;        /* perf_event component absent or disabled */
	char perf_why[128];       /* PAPI's disabled_reason for it */
	int num_hw;               /* hardware counters PAPI sees, -1 unknown */
	int paranoid;             /* kernel.perf_event_paranoid, -1000 unknown */
} diag;

/* Failure of one candidate event, kept to explain the counter. */
enum probe_stage { STAGE_NONE = -1, STAGE_QUERY, STAGE_ADD, STAGE_START, STAGE_STOP };

struct failure {
	enum probe_stage stage;
	int code;
	char event[64];
};

static const char *stage_name[] = { "query", "add", "start", "stop" };

/* snprintf that truncates quietly: every message here is bounded by a
 * fixed plan field, and a cut message is better than none. */
static void sfmt(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sfmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void set_reason(struct pmb_counter_plan *plan, int id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_reason(struct pmb_counter_plan *plan, int id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(plan->reason[id], sizeof plan->reason[id], fmt, ap);
	va_end(ap);
}

static void all_unavailable(struct pmb_counter_plan *plan, const char *why)
{
	for (int i = 0; i < PMB_CTR_MAX; i++)
		if (plan->requested & PMB_CTR_MASK(i))
			set_reason(plan, i, "%s", why);
}

static void read_diagnostics(void)
{
	diag.perf_disabled = 1;
	diag.num_hw = -1;
	sfmt(diag.perf_why, sizeof diag.perf_why, "component not in this PAPI build");
	diag.paranoid = pmb_perf_sw_read_paranoid();

	int cidx = pmb_papi.get_component_index("perf_event");
	if (cidx < 0)
		return;
	const PAPI_component_info_t *ci = pmb_papi.get_component_info(cidx);
	if (!ci)
		return;
	/* Delayed init only means "not started yet", not broken. */
	diag.perf_disabled = ci->disabled != 0 && ci->disabled != PAPI_EDELAY_INIT;
	copy_str(diag.perf_why, sizeof diag.perf_why, ci->disabled_reason);
	diag.num_hw = ci->num_cntrs;
}

/* User events are PMU events as far as anyone can tell from here. */
static int is_hardware(int id)
{
	return id < PMB_CTR_PAGE_FAULTS || pmb_counter_is_user(id);
}

/* Builds a throwaway event set from some events plus one more, and checks
 * it can really count: adds can succeed for events the kernel then refuses
 * at start (no PMU, perf_event_paranoid, a counter taken by the NMI
 * watchdog).  Only PAPI event names may be given: software counters read
 * through perf_event_open are not PAPI events and never enter a PAPI set. */
static int try_set(const struct pmb_counter_plan *plan, const int *members, int nmembers,
		   const char *extra, enum probe_stage *stage)
{
	long long buf[PMB_CTR_MAX * 2];
	int set = PAPI_NULL;
	int ret;

	*stage = STAGE_ADD;
	ret = pmb_papi.create_eventset(&set);
	if (ret != PAPI_OK)
		return ret;
	for (int i = 0; i < nmembers; i++) {
		ret = pmb_papi.add_named_event(set, plan->event_name[members[i]]);
		if (ret != PAPI_OK)
			goto out;
	}
	ret = pmb_papi.add_named_event(set, extra);
	if (ret != PAPI_OK)
		goto out;
	*stage = STAGE_START;
	ret = pmb_papi.start(set);
	if (ret != PAPI_OK)
		goto out;
	*stage = STAGE_STOP;
	ret = pmb_papi.stop(set, buf);
out:
	pmb_papi.cleanup_eventset(set);
	pmb_papi.destroy_eventset(&set);
	return ret;
}

/* The packing predicate (pmb_pack.h) on real PAPI event sets.  Any failure
 * here is a conflict with the events already in that pass (ECNFLCT/ECOUNT
 * at add, or a group the kernel cannot schedule at start), since the event
 * counts alone. */
static int papi_fits(void *ctx, const int *members, int nmembers, int extra)
{
	const struct pmb_counter_plan *plan = ctx;
	enum probe_stage stage;
	return try_set(plan, members, nmembers, plan->event_name[extra], &stage) == PAPI_OK;
}

static int is_perm_error(const struct failure *f)
{
	if (f->code == PAPI_EPERM)
		return 1;
	/* PAPI's perf_event reports a refused perf_event_open at start as
	 * a system error; with a strict paranoid level that is the cause. */
	return f->stage >= STAGE_START && f->code == PAPI_ESYS && diag.paranoid >= 2;
}

static void explain(struct pmb_counter_plan *plan, int id, const struct failure *f,
		    int passes_full)
{
	const char *what = pmb_papi_text(f->code);

	if (passes_full) {
		set_reason(plan, id, "%s: no pass left for it (%d passes in use, no multiplexing); request fewer counters with --counters",
			   f->event, PMB_COUNTER_PASSES_MAX);
	} else if (diag.perf_disabled) {
		set_reason(plan, id, "%s: %s; PAPI perf_event component disabled (%s): VM without PMU or libpfm4 too old for this CPU; use --backend=sim",
			   f->event, what, diag.perf_why);
	} else if (is_perm_error(f)) {
		int need = diag.paranoid > 2 ? 2 : 1;
		set_reason(plan, id, "%s: %s at %s; kernel.perf_event_paranoid is %d: set kernel.perf_event_paranoid<=%d (sysctl -w kernel.perf_event_paranoid=1)",
			   f->event, what, stage_name[f->stage], diag.paranoid, need);
	} else if (is_hardware(id) && diag.num_hw == 0) {
		set_reason(plan, id, "%s: %s; no hardware counters on this machine (PAPI reports 0; a VM without a virtual PMU): use --backend=sim for simulated counts",
			   f->event, what);
	} else if (f->code == PAPI_ENOEVNT && pmb_counter_is_user(id)) {
		/* pmb_papi_check_user_events made sure PAPI knows the name. */
		set_reason(plan, id, "%s: %s at %s; PAPI knows the event but cannot count it on this machine (no PMU, as in a VM without a virtual PMU, or not an event of this CPU; see papi_avail -a and papi_native_avail)",
			   f->event, what, f->stage >= 0 ? stage_name[f->stage] : "probe");
	} else if (f->code == PAPI_ENOEVNT) {
		set_reason(plan, id, "%s: %s; none of its events exists on this CPU (%s); see papi_avail and papi_native_avail",
			   f->event, what, pmb_counter_info[id].papi_events);
	} else if (f->code == PAPI_ECNFLCT || f->code == PAPI_ECOUNT) {
		set_reason(plan, id, "%s: %s even alone; a counter may be held by another user (NMI watchdog: sysctl -w kernel.nmi_watchdog=0)",
			   f->event, what);
	} else {
		set_reason(plan, id, "%s: %s at %s; run papi_component_avail and papi_avail to see why",
			   f->event, what, f->stage >= 0 ? stage_name[f->stage] : "probe");
	}
}

/* Tries the counter's candidate events in order; the first one that counts
 * alone is recorded in event_name (packing into passes comes after, for all
 * counters together).  Returns 1 if one was found, else 0 with the reason. */
static int choose_event(struct pmb_counter_plan *plan, int id)
{
	struct failure best = { .stage = STAGE_NONE, .code = PAPI_ENOEVNT, .event = "" };
	const char *list = pmb_counter_info[id].papi_events;

	while (*list) {
		char name[64];
		size_t len = strcspn(list, ",");
		const char *next = list + len + (list[len] == ',');
		if (len == 0 || len >= sizeof name) {
			list = next;
			continue;
		}
		memcpy(name, list, len);
		name[len] = '\0';
		list = next;

		/* An unavailable preset still has a name-to-code mapping, so
		 * query first; the add then gives the more precise error. */
		enum probe_stage stage;
		int q = pmb_papi.query_named_event(name);
		int ret = try_set(plan, NULL, 0, name, &stage);
		if (q != PAPI_OK && ret == PAPI_OK) {
			ret = q;
			stage = STAGE_QUERY;
		}
		if (ret == PAPI_OK) {
			sfmt(plan->event_name[id], sizeof plan->event_name[id], "%s", name);
			return 1;
		}
		/* Keep the failure that got furthest: "exists but the kernel
		 * refused it" explains more than "no such event" on the next
		 * candidate. */
		if (best.stage == STAGE_NONE || stage > best.stage) {
			best.stage = stage;
			best.code = ret;
			sfmt(best.event, sizeof best.event, "%s", name);
		}
	}
	if (!best.event[0]) /* empty candidate list */
		sfmt(best.event, sizeof best.event, "%s", pmb_counter_info[id].column);
	explain(plan, id, &best, 0);
	return 0;
}

/* The name check of pmb_user_events_check: PAPI knows an event when its
 * name resolves (a preset of its table, or a native or raw event of a
 * component), whether or not this machine can count it. */
static int papi_knows(const char *name, char *why, size_t size)
{
	int code = 0, ret = pmb_papi.event_name_to_code(name, &code);
	if (ret != PAPI_OK)
		sfmt(why, size, "%s", pmb_papi_text(ret));
	return ret == PAPI_OK;
}

/* Chooses an event for each counter still missing, then packs the chosen
 * ones into passes, first fit in table order, at most plan->max_per_pass
 * per pass (0 = as many as the PMU takes). */
static void plan_papi_counters(struct pmb_counter_plan *plan)
{
	int ids[PMB_CTR_MAX], n = 0;

	for (int i = 0; i < PMB_CTR_MAX; i++)
		if ((plan->requested & ~plan->available & PMB_CTR_MASK(i)) && choose_event(plan, i))
			ids[n++] = i;
	int npasses = pmb_pack_passes(ids, n, plan->max_per_pass, PMB_COUNTER_PASSES_MAX,
				      papi_fits, plan, plan->pass_of);
	plan->npasses = npasses > 0 ? npasses : 1;
	for (int k = 0; k < n; k++) {
		int id = ids[k];
		if (plan->pass_of[id] >= 0) {
			plan->available |= PMB_CTR_MASK(id);
			plan->reason[id][0] = '\0';
			continue;
		}
		struct failure f = { .stage = STAGE_ADD, .code = PAPI_ECNFLCT, .event = "" };
		sfmt(f.event, sizeof f.event, "%s", plan->event_name[id]);
		plan->event_name[id][0] = '\0';
		explain(plan, id, &f, 1);
	}
}

/* Appends name to a ", "-separated list. */
static void list_add(char *buf, size_t size, const char *name)
{
	size_t len = strlen(buf);
	if (len + 1 < size)
		snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
}

/* papi_failed: why PAPI could not be used at all, NULL if it was. */
static void write_note(struct pmb_counter_plan *plan, const char *papi_failed)
{
	char via_papi[200] = "", via_sw[120] = "", names[256];
	int nreq = 0, navail = 0, hw_missing = 0;
	uint32_t sw = pmb_perf_sw_plan_mask(plan);

	for (int i = 0; i < PMB_CTR_MAX; i++) {
		if (!(plan->requested & PMB_CTR_MASK(i)))
			continue;
		nreq++;
		if (plan->available & PMB_CTR_MASK(i)) {
			navail++;
			if (sw & PMB_CTR_MASK(i))
				list_add(via_sw, sizeof via_sw, pmb_counter_info[i].column);
			else
				list_add(via_papi, sizeof via_papi, pmb_counter_info[i].column);
		} else if (is_hardware(i)) {
			hw_missing = 1;
		}
	}
	if (!navail)
		sfmt(names, sizeof names, "none");
	else if (!via_sw[0])
		sfmt(names, sizeof names, "%s", via_papi);
	else if (!via_papi[0])
		sfmt(names, sizeof names, "perf_event_open fallback: %s", via_sw);
	else
		sfmt(names, sizeof names, "PAPI: %s; perf_event_open fallback: %s", via_papi, via_sw);

	const char *why = "";
	char buf[200] = "";
	if (papi_failed) {
		sfmt(buf, sizeof buf, "; %s", papi_failed);
		why = buf;
	} else if (nreq > navail || via_sw[0]) {
		if (diag.perf_disabled)
			sfmt(buf, sizeof buf, "; perf_event component disabled: %s", diag.perf_why);
		else if (hw_missing && diag.num_hw == 0)
			sfmt(buf, sizeof buf, "; hardware counters unavailable: no PMU");
		else
			sfmt(buf, sizeof buf, "; see the reasons per counter");
		why = buf;
	}
	sfmt(plan->note, sizeof plan->note, "papi: %d of %d counters available (%s) in %d pass%s%s",
	     navail, nreq, names, plan->npasses, plan->npasses == 1 ? "" : "es", why);
}

/* Software counters PAPI did not give are tried through perf_event_open
 * (a real open/enable/disable/read on this thread); they go in pass 0.
 * A failure replaces PAPI's reason with the kernel's, the final word. */
static void add_fallback(struct pmb_counter_plan *plan)
{
	uint32_t want = plan->requested & ~plan->available & PMB_PERF_SW_MASK;
	uint32_t got = want ? pmb_perf_sw_probe(want, plan->reason) : 0;

	for (int i = 0; i < PMB_CTR_MAX; i++) {
		if (!(got & PMB_CTR_MASK(i)))
			continue;
		sfmt(plan->event_name[i], sizeof plan->event_name[i], "%s", pmb_perf_sw_event_name(i));
		plan->pass_of[i] = 0;
		plan->reason[i][0] = '\0';
		plan->available |= PMB_CTR_MASK(i);
	}
}

/* PAPI is unusable (why): hardware counters get that reason, software
 * ones a chance through perf_event_open. */
static void papi_unusable(struct pmb_counter_plan *plan, const char *why)
{
	all_unavailable(plan, why);
	add_fallback(plan);
	write_note(plan, why);
}

static int papi_init(struct pmb_counter_plan *plan)
{
	char why[PMB_COUNTER_REASON_MAX];

	pmb_counter_plan_reset(plan, plan->requested);
	memset(&diag, 0, sizeof diag);
	if (pmb_papi_load(why, sizeof why, plan->backend_version,
			  sizeof plan->backend_version) < 0) {
		papi_unusable(plan, why);
		return 0;
	}
	read_diagnostics();
	if (pmb_user_events_check(plan->requested, papi_knows) != 0) {
		pmb_papi_unload();
		return -1;
	}

	/* Software counters from the kernel first: PAPI's perf_event events
	 * count user mode only by default, where context switches and
	 * migrations never happen, so PAPI would report a zero that was not
	 * counted.  PAPI is asked only for what the kernel route cannot give. */
	add_fallback(plan);
	plan_papi_counters(plan);
	add_fallback(plan);
	write_note(plan, NULL);
	return 0;
}

static void papi_fini(void)
{
	pmb_papi_unload();
}

const struct pmb_counter_backend pmb_counter_backend_papi = {
	.name = "papi",
	.init = papi_init,
	.thread_open = pmb_papi_thread_open,
	.start = pmb_papi_start,
	.stop_and_read = pmb_papi_stop_and_read,
	.thread_close = pmb_papi_thread_close,
	.fini = papi_fini,
};
