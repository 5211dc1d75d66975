/* pmb_sim_launch.h — the simulator's relaunch, the first thing main()
 * does: with --backend sim the native process re-runs the same command
 * under valgrind (callgrind) and only supervises it. */
#ifndef PMB_SIM_LAUNCH_H
#define PMB_SIM_LAUNCH_H

/* Returns 0 at once unless backend is "sim" and this process is not yet
 * under valgrind.  Then it starts valgrind on this very command line and
 * never returns: it waits for it, removes its temporary files and exits
 * with its status.  Returns -1 with pmb_error() only when valgrind could
 * not be started (not installed, cannot fork). */
int pmb_sim_launch(const char *backend);

#endif
