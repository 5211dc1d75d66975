/* pmb_resume.h — --resume: which points of a run are done, and a clean
 * slate for the others. */
#ifndef PMB_RESUME_H
#define PMB_RESUME_H

#include "pmb_plan.h"

/* Marks the plan points of this flag set that run_dir holds whole (every
 * summary row, and raw rows) as done; *ndone counts them.  The rows any
 * other point left (an interrupted attempt) are dropped from the files,
 * *ndropped counts them, so the point runs again from a clean slate.
 * Returns 0 or -1 (pmb_error) on an unreadable or foreign file. */
int pmb_resume_prepare(const char *run_dir, const char *flagset, struct pmb_plan *plan,
		       size_t *ndone, size_t *ndropped);

#endif
