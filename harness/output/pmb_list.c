/* pmb_list.c — --list in three forms from the same tables (kernel table,
 * counter table, counter plan), so the forms cannot disagree. */
#include "pmb_list.h"
#include "pmb_json.h"
#include "pmb_plan.h"
#include "pmb_plugin.h"

#include <stdio.h>

static void print_text(FILE *f, const char *filter, const struct pmb_counter_plan *plan,
		       const char *backend, const struct pmb_calibration *cal)
{
	fprintf(f, "Kernels (family/variant, bytes per element, description; expected "
		   "signature):\n");
	for (size_t i = 0; i < pmb_plan_kernel_count(); i++) {
		const struct pmb_kernel *k = pmb_plan_kernel_at(i);
		if (!pmb_plan_filter_matches(filter, k))
			continue;
		char name[96];
		snprintf(name, sizeof name, "%s/%s", k->family, k->variant);
		fprintf(f, "  %-28s %3zu B  %s\n  %-28s        expect: %s\n", name,
			k->bytes_per_elem, k->description, "", k->signature);
	}
	fprintf(f, "\nCounters with --backend=%s", backend);
	if (plan->backend_version[0])
		fprintf(f, " (%s)", plan->backend_version);
	fprintf(f, ":\n");
	for (int c = 0; c < pmb_counter_n(); c++) {
		if (plan->available & PMB_CTR_MASK(c))
			fprintf(f, "  %-18s yes  %s (pass %d)\n", pmb_counter_info[c].column,
				plan->event_name[c], plan->pass_of[c]);
		else
			fprintf(f, "  %-18s no   %s\n", pmb_counter_info[c].column,
				plan->reason[c][0] ? plan->reason[c] : "not requested");
		char line[400];
		pmb_calibration_describe(cal, c, line, sizeof line);
		if (line[0])
			fprintf(f, "  %-18s      %s\n", "", line);
	}
	if (cal->ran)
		fprintf(f, "Calibration: ran in %.2f s (--no-calibrate skips it)\n", cal->seconds);
	else
		fprintf(f, "Calibration: %s\n", cal->status);
	fprintf(f, "\nAlways measured: ns (CLOCK_MONOTONIC_RAW), tsc_ticks (reference ticks), "
		   "allocs.\n");
}

static void print_json(FILE *f, const char *filter, const struct pmb_counter_plan *plan,
		       const char *backend, const struct pmb_calibration *cal)
{
	struct pmb_json j;
	pmb_json_begin(&j, f);
	pmb_json_string(&j, "filter", filter);
	pmb_json_array(&j, "kernels");
	for (size_t i = 0; i < pmb_plan_kernel_count(); i++) {
		const struct pmb_kernel *k = pmb_plan_kernel_at(i);
		if (!pmb_plan_filter_matches(filter, k))
			continue;
		char name[160];
		snprintf(name, sizeof name, "%s/%s", k->family, k->variant);
		const char *lib = pmb_plugin_source(k);
		pmb_json_object(&j, NULL);
		pmb_json_string(&j, "name", name);
		pmb_json_string(&j, "family", k->family);
		pmb_json_string(&j, "variant", k->variant);
		pmb_json_string(&j, "description", k->description);
		pmb_json_string(&j, "signature", k->signature);
		pmb_json_int(&j, "bytes_per_elem", (long long)k->bytes_per_elem);
		pmb_json_double(&j, "traffic_bytes_per_elem", k->traffic_bytes > 0 ? k->traffic_bytes : (0.0 / 0.0));
		pmb_json_string(&j, "source", lib ? lib : "built-in");
		pmb_json_close(&j);
	}
	pmb_json_close(&j);
	pmb_json_string(&j, "backend", backend);
	pmb_json_string(&j, "backend_version", plan->backend_version);
	pmb_json_array(&j, "counters");
	for (int c = 0; c < pmb_counter_n(); c++) {
		int yes = (plan->available & PMB_CTR_MASK(c)) != 0;
		pmb_json_object(&j, NULL);
		pmb_json_string(&j, "name", pmb_counter_info[c].column);
		pmb_json_string(&j, "description", pmb_counter_info[c].description);
		pmb_json_bool(&j, "available", yes);
		pmb_json_string(&j, "event", yes ? plan->event_name[c] : "");
		pmb_json_int(&j, "pass", yes ? plan->pass_of[c] : -1);
		pmb_json_string(&j, "reason",
				yes ? "" : plan->reason[c][0] ? plan->reason[c] : "not requested");
		char line[400];
		pmb_calibration_describe(cal, c, line, sizeof line);
		pmb_json_string(&j, "calibration", line);
		pmb_json_close(&j);
	}
	pmb_json_close(&j);
	pmb_json_string(&j, "calibration_status", cal->ran ? "ran" : cal->status);
	pmb_json_array(&j, "always_measured");
	pmb_json_string(&j, NULL, "ns");
	pmb_json_string(&j, NULL, "tsc_ticks");
	pmb_json_string(&j, NULL, "allocs");
	pmb_json_close(&j);
	pmb_json_end(&j);
}

void pmb_list_print(FILE *f, enum pmb_list_format format, const char *filter,
		    const struct pmb_counter_plan *plan, const char *backend,
		    const struct pmb_calibration *cal)
{
	if (format == PMB_LIST_JSON) {
		print_json(f, filter, plan, backend, cal);
		return;
	}
	if (format == PMB_LIST_TEXT) {
		print_text(f, filter, plan, backend, cal);
		return;
	}
	for (size_t i = 0; i < pmb_plan_kernel_count(); i++) {
		const struct pmb_kernel *k = pmb_plan_kernel_at(i);
		if (pmb_plan_filter_matches(filter, k))
			fprintf(f, "%s/%s\n", k->family, k->variant);
	}
}
