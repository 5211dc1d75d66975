/* pmb_resume.h — --resume: a point whose summary is in summary.csv was
 * measured (fully, or up to an interruption) and is not run again. */
#ifndef PMB_RESUME_H
#define PMB_RESUME_H

#include "pmb_plan.h"

/* Marks plan points found in run_dir/summary.csv as done; *ndone counts
 * them.  A missing summary.csv means nothing was finished.  Returns 0 or
 * -1 (pmb_error) on an unreadable or foreign file. */
int pmb_resume_mark_done(const char *run_dir, const char *flagset, struct pmb_plan *plan,
			 size_t *ndone);

#endif
