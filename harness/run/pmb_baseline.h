/* pmb_baseline.h — --save-baseline NAME: a finished run registered under a
 * name, per machine, as criterion keeps named baselines.  The registry is
 * <results>/.baselines/<host>/<NAME>, a symlink to the run directory
 * (hidden, so "the newest run" never picks it); `make compare
 * BASELINE=NAME` compares the newest run with it (pmubench.baseline). */
#ifndef PMB_BASELINE_H
#define PMB_BASELINE_H

/* 0, or -1 with pmb_error() for a name that is not [A-Za-z0-9._-]{1,63}. */
int pmb_baseline_check_name(const char *name);

/* Points <parent of run_dir>/.baselines/<host>/<name> at run_dir, replacing
 * an older baseline of that name atomically.  0, or -1 with pmb_error(). */
int pmb_baseline_save(const char *run_dir, const char *host, const char *name);

#endif
