/* pmb_sim.h — what the simulator's three parts share: the launcher that
 * re-runs pmubench under valgrind (harness/run/pmb_sim_launch.c), the
 * reader of callgrind's dumps (pmb_sim_dump.c) and the counter backend
 * (pmb_counters_sim.c).  How a run works: pmb_sim_launch.c. */
#ifndef PMB_SIM_H
#define PMB_SIM_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Environment between the native parent and the valgrind child.  The
 * double-underscore ones are private and removed by the child at once, so a
 * process the harness starts itself (a test re-running its own binary, say)
 * begins from scratch. */
#define PMB_SIM_ENV_CHILD "PMB_SIM_CHILD"   /* set by the parent: breaks exec loops */
#define PMB_SIM_ENV_DIR_PRIVATE "PMB_SIM__DIR"
#define PMB_SIM_ENV_CACHES "PMB_SIM__CACHES"
#define PMB_SIM_ENV_DIR "PMB_SIM_DIR"       /* public: the harness's run directory */

/* Rounds a cache to a geometry valgrind accepts ("size,assoc,line" into
 * out); 0, or -1 with pmb_error(). */
int pmb_sim_cache_geometry(uint64_t size, unsigned assoc, unsigned line, unsigned default_assoc,
			   uint64_t max_size, char *out, size_t outsz);

/* snprintf for paths, where a cut would name another file: -1 instead. */
int pmb_sim_path(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Callgrind's events, as the dumps name them. */
enum pmb_sim_event { EV_IR, EV_D1MR, EV_D1MW, EV_DLMR, EV_DLMW, EV_BC, EV_BCM, EV_BI, EV_BIM,
		     EV_COUNT };

struct pmb_sim_counts {
	int64_t ev[EV_COUNT];
};

/* Where this process's dumps go and which one comes next. */
struct pmb_sim_dumps {
	char dir[PATH_MAX];
	char prefix[PATH_MAX];     /* <dir>/callgrind.out.<pid> */
	pid_t prefix_pid;
	long dump_seq;             /* callgrind's part number of the last dump */
	char creator[48];          /* "callgrind-3.19.0" from the dump header */
};

/* The dump of a sample just requested with CALLGRIND_DUMP_STATS_AT(label):
 * reads and removes it.  verify_events: also check that the cache and
 * branch events are there.  0, or -1 with pmb_error(). */
int pmb_sim_dump_read(struct pmb_sim_dumps *d, const char *label, struct pmb_sim_counts *counts,
		      int verify_events);

/* Removes this process's leftover dump parts. */
void pmb_sim_dump_clean(struct pmb_sim_dumps *d);

#endif
