/* pmb_list.h — `pmubench --list`: the kernels a --filter selects and the
 * counters this machine can count (and why not), as text for people, JSON
 * for tools (--format json) or bare family/variant names for scripts
 * (--format names). */
#ifndef PMB_LIST_H
#define PMB_LIST_H

#include "pmb_calibrate.h"
#include "pmb_counters.h"

#include <stdio.h>

enum pmb_list_format { PMB_LIST_TEXT, PMB_LIST_JSON, PMB_LIST_NAMES };

void pmb_list_print(FILE *f, enum pmb_list_format format, const char *filter,
		    const struct pmb_counter_plan *plan, const char *backend,
		    const struct pmb_calibration *cal);

#endif
