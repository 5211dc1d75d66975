/* pmb_rundir.h — the run directory: where it is (new, --run-dir, --resume),
 * how it appears (staged, then renamed into place once meta.json is in it:
 * complete or not at all), who may write it (one process: flock), and what
 * a --resume must match (the identity file). */
#ifndef PMB_RUNDIR_H
#define PMB_RUNDIR_H

#include "pmb_options.h"
#include "pmb_plan.h"
#include "pmb_report.h"

struct pmb_rundir {
	int lock_fd;          /* holds flock(LOCK_EX) on <dir>/.pmubench-lock; -1 if none */
	char staging[1100];   /* new run being prepared; "" once published (or never staged) */
	char final_dir[1024]; /* the name it gets when published */
	int auto_name;        /* final name chosen here (may take a -N suffix on a clash) */
	char out_dir[512];
	char base_id[160];
};

/* --resume DIR: argv becomes argv[0], the run's saved arguments, then the
 * ones given now (later options win).  Kept until exit.  No saved file
 * (not a run) is left for pmb_rundir_open to report. */
int pmb_rundir_load_args(const char *run_dir, const char *flagset, int *argc, char ***argv);

/* Takes the run directory for opt and locks it.  A new run (no --resume,
 * no existing --run-dir) is staged in a hidden directory next to its final
 * name; run->run_dir is the staging path until pmb_rundir_publish().  On
 * --resume, checks the identity (plan, options, config contents, compiler,
 * cflags, commit) and fails naming what differs.  Writes the identity and
 * the arguments of a new flag set.  Returns 0 or -1 (pmb_error). */
int pmb_rundir_open(struct pmb_rundir *rd, const struct pmb_options *opt, const char *host,
		    const struct pmb_plan *plan, int argc, char **argv, struct pmb_run_info *run);

/* Renames a staged run to its final name (run->run_id, run->run_dir
 * updated).  Returns 0 when the name is as planned, 1 when a clash gave it
 * a suffix (meta.json must then be written again), -1 on error. */
int pmb_rundir_publish(struct pmb_rundir *rd, struct pmb_run_info *run);

/* Releases the lock; a run still staged (interrupted or failed during
 * set-up) is removed: nothing half made is left behind. */
void pmb_rundir_close(struct pmb_rundir *rd);

#endif
