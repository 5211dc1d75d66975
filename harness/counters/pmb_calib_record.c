/* pmb_calib_record.c — what calibration changes and how it is recorded:
 * counters reading zero leave the plan (an empty column with the reason),
 * every verdict goes to meta.json and --list. */
#include "pmb_calibrate.h"
#include "pmb_error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Passes left without any counter are dropped and the rest renumbered in
 * order, so that rotation never spends samples on an empty pass.  Pass 0
 * keeps the software counters wherever it lands (they bracket pass 0). */
static void compact_passes(struct pmb_counter_plan *plan)
{
	int map[PMB_COUNTER_PASSES_MAX], used = 0;
	for (int p = 0; p < PMB_COUNTER_PASSES_MAX; p++)
		map[p] = -1;
	for (int p = 0; p < plan->npasses && p < PMB_COUNTER_PASSES_MAX; p++)
		for (int i = 0; i < PMB_CTR_COUNT; i++)
			if ((plan->available & PMB_CTR_MASK(i)) && plan->pass_of[i] == p) {
				map[p] = used++;
				break;
			}
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		if (plan->pass_of[i] >= 0 && plan->pass_of[i] < PMB_COUNTER_PASSES_MAX)
			plan->pass_of[i] = (plan->available & PMB_CTR_MASK(i)) ? map[plan->pass_of[i]] : -1;
	plan->npasses = used > 0 ? used : 1;
}

uint32_t pmb_calibration_apply(const struct pmb_calibration *cal, struct pmb_counter_plan *plan)
{
	uint32_t removed = 0;
	char names[200] = "";
	for (int id = 0; id < PMB_CTR_COUNT; id++) {
		const struct pmb_calib_entry *e = &cal->counter[id];
		if (e->verdict != PMB_CALIB_READS_ZERO || !(plan->available & PMB_CTR_MASK(id)))
			continue;
		removed |= PMB_CTR_MASK(id);
		plan->available &= ~PMB_CTR_MASK(id);
		snprintf(plan->reason[id], sizeof plan->reason[id],
			 "%s: opens but reads %.0f where %.0f events must occur (calibration: %s); "
			 "not counted rather than written as a measured zero",
			 plan->event_name[id], e->measured, e->want.expected, e->kernel);
		size_t len = strlen(names);
		snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
			 pmb_counter_info[id].column);
	}
	if (removed) {
		compact_passes(plan);
		size_t len = strlen(plan->note);
		snprintf(plan->note + len, sizeof plan->note - len,
			 "; calibration: %s read%s zero, not counted", names,
			 (removed & (removed - 1)) ? "" : "s");
	}
	return removed;
}

void pmb_calibration_write_json(struct pmb_json *j, const struct pmb_calibration *cal)
{
	pmb_json_object(j, "calibration");
	pmb_json_string(j, "status", cal->status);
	pmb_json_double(j, "seconds", cal->ran ? cal->seconds : NAN);
	pmb_json_object(j, "counters");
	for (int id = 0; id < PMB_CTR_COUNT; id++) {
		const struct pmb_calib_entry *e = &cal->counter[id];
		if (e->verdict == PMB_CALIB_NONE)
			continue;
		pmb_json_object(j, pmb_counter_info[id].column);
		pmb_json_string(j, "verdict", pmb_calib_verdict_name(e->verdict));
		pmb_json_string(j, "kernel", e->kernel);
		pmb_json_double(j, "expected", e->want.expected > 0 ? e->want.expected : NAN);
		pmb_json_double(j, "measured", e->kernel[0] ? e->measured : NAN);
		pmb_json_double(j, "ratio", e->kernel[0] ? e->ratio : NAN);
		pmb_json_double(j, "ratio_min", e->kernel[0] ? e->want.lo : NAN);
		pmb_json_double(j, "ratio_max", e->kernel[0] ? e->want.hi : NAN);
		pmb_json_double(j, "control_measured", e->kernel[0] ? e->control : NAN);
		pmb_json_double(j, "control_max",
				e->kernel[0] && e->want.control_max >= 0 ? e->want.control_max : NAN);
		pmb_json_string(j, "detail", e->detail);
		pmb_json_close(j);
	}
	pmb_json_close(j);
	pmb_json_close(j);
}

void pmb_calibration_describe(const struct pmb_calibration *cal, int id, char *buf, size_t len)
{
	buf[0] = '\0';
	if (id < 0 || id >= PMB_CTR_COUNT)
		return; /* user events are not calibrated: no known count to check */
	const struct pmb_calib_entry *e = &cal->counter[id];
	if (e->verdict == PMB_CALIB_NONE)
		return;
	if (!e->kernel[0]) {
		snprintf(buf, len, "calibration: %s (%s)", pmb_calib_verdict_name(e->verdict), e->detail);
		return;
	}
	snprintf(buf, len, "calibration: %s, measured %.0f / expected %.0f = %.3f on %s%s%s",
		 pmb_calib_verdict_name(e->verdict), e->measured, e->want.expected, e->ratio,
		 e->kernel, e->detail[0] ? "; " : "", e->detail);
}

void pmb_calibration_warn(const struct pmb_calibration *cal)
{
	for (int id = 0; id < PMB_CTR_COUNT; id++) {
		const struct pmb_calib_entry *e = &cal->counter[id];
		if (e->verdict == PMB_CALIB_OFF_BY_FACTOR)
			pmb_warn("calibration: %s is off by a factor (measured %.0f, expected %.0f on %s: %s); "
				 "its column is kept, compare it with care",
				 pmb_counter_info[id].column, e->measured, e->want.expected, e->kernel,
				 e->detail);
	}
}
