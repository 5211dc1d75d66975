/* pmb_topology.h — machine topology (hwloc), read once, sanity-checked.
 *
 * hwloc reports what the (virtual) firmware says: under QEMU an L1 object
 * of size 0, in a VM the host's L3 (32 MB here, ~500 MB on a Xeon VM).
 * Cache sizes are kept as hwloc reports them (big stacked L3s are real)
 * unless they cannot be (larger than the machine's memory); a level with
 * no size is unknown, and where a size has to be assumed it is marked
 * "default" in meta.json.  Raw values are kept beside the used ones. */
#ifndef PMB_TOPOLOGY_H
#define PMB_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

struct pmb_cache_level {
	int level;            /* 1, 2, 3 */
	int present;          /* hwloc has an object for this level (maybe sizeless) */
	uint64_t size_raw;    /* bytes, as hwloc reports (0 if absent or no size) */
	uint64_t size;        /* bytes, used for sweeps and labels (0 if absent) */
	unsigned line_size;   /* bytes (64 if hwloc does not say) */
	unsigned assoc;       /* ways (0 = unknown / fully associative) */
	char source[16];      /* "hwloc", "default" (assumed) or "none" */
};

struct pmb_topology_info {
	int ncores;                    /* cores allowed to this process */
	int npus;
	int core_os_index[256];        /* os index of the first allowed PU of each allowed core */
	struct pmb_cache_level cache[3]; /* L1d, L2, L3 (index = level - 1) */
	int llc_level;                 /* 1..3: the deepest level with a size */
	int llc_pus;                   /* PUs sharing one LLC object (0 unknown) */
	int llc_host_value;            /* in a VM, the LLC looks like the host's */
	uint64_t mem_total;            /* bytes of memory hwloc sees (else the OS) */
	char cpu_model[128];
	char hwloc_version[32];        /* release of the loaded library (runtime) */
	char hwloc_api_version[32];    /* API version of the loaded library */
	char hwloc_header_version[32]; /* API version pmubench was compiled against */
	char notes[512];               /* what was sanitised and why ("" if nothing) */
};

/* Decides the cache sizes used from what hwloc reported: cache[i].present,
 * size_raw, plus llc_pus and mem_total.  Sets size, source, llc_level,
 * llc_host_value and notes.  A level without a size is unknown; the LLC is
 * the deepest level with a size; unknown levels inside it get defaults
 * (marked "default"); nothing known at all gives defaults for all three.  A
 * size larger than the memory is not believed.  vm: running under a
 * hypervisor, whose advertised LLC may be the host's.  Pure: unit-tested. */
void pmb_topology_settle_caches(struct pmb_topology_info *info, int vm);

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
