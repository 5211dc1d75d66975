/* pmb_region.h — measure regions of your own program with pmubench's
 * counters, likwid-marker style:
 *
 *     #include <pmb_region.h>            // cc ... $(pkg-config --cflags --libs pmubench)
 *     pmb_region_begin("solve");
 *     solve();
 *     pmb_region_end("solve");
 *
 * Each begin/end pair is one sample row (iters 1) in a pmubench run
 * directory, with the columns, counters and empty-when-not-counted rule of
 * a pmubench run: kernel = the program's name, variant = the region name.
 * At pmb_region_close() (or exit) each region gets its summary rows.
 *
 * Environment:
 *   PMB_RUN_DIR  run directory to append to (made, with meta.json, if new);
 *                default: a new results/region-<program>-<host>-<UTC time>
 *   PMB_OUT      results root when PMB_RUN_DIR is not set (default results)
 *   PMB_EVENTS   counters, as pmubench --events (default: all)
 *   PMB_BACKEND  papi (default) or timer
 * Every function returns 0, or -1 after printing why on stderr; a failing
 * region never stops the program. */
#ifndef PMB_REGION_H
#define PMB_REGION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Optional: initialisation happens on the first begin otherwise. */
int pmb_region_init(void);
int pmb_region_begin(const char *name);
int pmb_region_end(const char *name);
/* Declares the work one pass of a region does, so per-element columns
 * (ns_per_elem, ...) and size_bytes mean something; default 1 element of
 * 0 bytes.  Call before the region's first begin. */
int pmb_region_work(const char *name, uint64_t n_elems, uint64_t size_bytes);
/* Writes the summaries and meta.json; also run at exit.  Prints the run
 * directory on stderr. */
int pmb_region_close(void);

#ifdef __cplusplus
}
#endif

#endif
