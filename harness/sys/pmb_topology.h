/* pmb_topology.h — machine topology (hwloc), read once, sanity-checked.
 *
 * hwloc reports what the (virtual) firmware says; on our VMs that has been
 * an L3 of 32 MB on one machine and ~500 MB on another.  So raw values are
 * kept for meta.json, and the sanitised ones used for sweeps and the cache
 * simulator are clamped to plausible bounds, with a note saying so. */
#ifndef PMB_TOPOLOGY_H
#define PMB_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

struct pmb_cache_level {
	int level;            /* 1, 2, 3 */
	uint64_t size_raw;    /* bytes, as hwloc reports (0 if absent) */
	uint64_t size;        /* bytes, sanitised (0 if absent) */
	unsigned line_size;   /* bytes (64 if hwloc does not say) */
	unsigned assoc;       /* ways (0 = unknown / fully associative) */
};

struct pmb_topology_info {
	int ncores;                    /* cores allowed to this process */
	int npus;
	int core_os_index[256];        /* os index of the first allowed PU of each allowed core */
	struct pmb_cache_level cache[3]; /* L1d, L2, L3 (index = level - 1) */
	int llc_level;                 /* 1..3: the last level present */
	char cpu_model[128];
	char hwloc_version[32];
	char notes[512];               /* what was sanitised and why ("" if nothing) */
};

/* Loads the topology (once per process; later calls return the cached
 * copy).  Returns 0, or -1 with pmb_error(). */
int pmb_topology_load(const struct pmb_topology_info **info);

/* Size of the sanitised last-level cache in bytes. */
uint64_t pmb_topology_llc_size(const struct pmb_topology_info *info);

/* Smallest cache level a working set of `bytes` fits in (1..3), or 4 for
 * memory (DRAM). */
int pmb_topology_cache_level_for(const struct pmb_topology_info *info, uint64_t bytes);

/* Pins the calling thread to the PU with OS index `pu_os_index`
 * (HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT) and verifies with
 * sched_getcpu().  Returns 0, or -1 with pmb_error(). */
int pmb_topology_pin_thread(int pu_os_index);

/* Writes the loaded topology as hwloc XML, for a child process that must
 * see the same machine (under valgrind hwloc's x86 discovery is off and
 * would fall back to guesses).  Returns 0 or -1 (pmb_error). */
int pmb_topology_export_xml(const char *path);

void pmb_topology_unload(void);

#endif
