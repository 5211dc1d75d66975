#define _GNU_SOURCE
#include "pmb_topology.h"
#include "pmb_error.h"

#include <errno.h>
#include <hwloc.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

/* Bounds for believable cache sizes.  The biggest L3 shipping per socket is
 * in the hundreds of MB only on stacked-cache parts, and a VM's topology is
 * whatever the hypervisor advertises (a bhyve guest here reported ~500 MB of
 * L3 per core).  Above these we keep the raw value for the record but use
 * the clamp, so sweeps stay sane. */
static const uint64_t cache_size_max[3] = {
	256u * 1024,          /* L1d */
	8u * 1024 * 1024,     /* L2 */
	128u * 1024 * 1024,   /* L3 */
};
static const uint64_t cache_size_default[3] = {
	32u * 1024, 1024u * 1024, 32u * 1024 * 1024,
};

static hwloc_topology_t topology;
static struct pmb_topology_info topology_info;
static int topology_loaded;

static void append_note(struct pmb_topology_info *info, const char *text)
{
	size_t len = strlen(info->notes);
	snprintf(info->notes + len, sizeof info->notes - len, "%s%s", len ? "; " : "", text);
}

static void read_caches(struct pmb_topology_info *info)
{
	static const hwloc_obj_type_t types[3] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE,
						  HWLOC_OBJ_L3CACHE};
	for (int i = 0; i < 3; i++) {
		struct pmb_cache_level *c = &info->cache[i];
		c->level = i + 1;
		c->line_size = 64;
		hwloc_obj_t obj = hwloc_get_obj_by_type(topology, types[i], 0);
		if (obj && obj->attr) {
			c->size_raw = obj->attr->cache.size;
			if (obj->attr->cache.linesize)
				c->line_size = obj->attr->cache.linesize;
			c->assoc = obj->attr->cache.associativity > 0
					   ? (unsigned)obj->attr->cache.associativity
					   : 0;
			info->llc_level = i + 1;
		}
		c->size = c->size_raw;
		char note[160];
		if (c->size_raw > cache_size_max[i]) {
			c->size = cache_size_max[i];
			snprintf(note, sizeof note,
				 "hwloc reports L%d = %llu KiB, implausible; using %llu KiB", i + 1,
				 (unsigned long long)(c->size_raw >> 10),
				 (unsigned long long)(c->size >> 10));
			append_note(info, note);
		} else if (c->size_raw == 0 && i < 2) {
			c->size = cache_size_default[i];
			snprintf(note, sizeof note, "hwloc reports no L%d; assuming %llu KiB", i + 1,
				 (unsigned long long)(c->size >> 10));
			append_note(info, note);
		}
	}
	/* An inner level larger than an outer one means the numbers are not
	 * real; keep the order so "fits in level N" stays meaningful. */
	for (int i = 1; i < 3; i++) {
		if (info->cache[i].size && info->cache[i].size < info->cache[i - 1].size) {
			info->cache[i].size = info->cache[i - 1].size * 2;
			append_note(info, "cache sizes not increasing by level; adjusted");
		}
	}
	if (info->llc_level == 0)
		info->llc_level = 2;
}

static void read_cores(struct pmb_topology_info *info)
{
	/* hwloc's allowed set follows the cgroup cpuset; the process affinity
	 * mask (taskset, systemd CPUAffinity) narrows it further, so AND it in. */
	hwloc_bitmap_t allowed = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topology));
	hwloc_bitmap_t bound = hwloc_bitmap_alloc();
	if (hwloc_get_cpubind(topology, bound, HWLOC_CPUBIND_PROCESS) == 0 &&
	    hwloc_bitmap_intersects(bound, allowed))
		hwloc_bitmap_and(allowed, allowed, bound);
	hwloc_bitmap_free(bound);
	int ncores_all = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE);
	hwloc_bitmap_t both = hwloc_bitmap_alloc();
	info->ncores = 0;
	for (int i = 0; i < ncores_all && info->ncores < (int)(sizeof info->core_os_index /
								 sizeof info->core_os_index[0]);
	     i++) {
		hwloc_obj_t core = hwloc_get_obj_by_type(topology, HWLOC_OBJ_CORE, i);
		/* Only cores the process may run on (cgroup/cpuset/taskset). */
		hwloc_bitmap_and(both, core->cpuset, allowed);
		int pu = hwloc_bitmap_first(both);
		if (pu < 0)
			continue;
		info->core_os_index[info->ncores++] = pu;
	}
	hwloc_bitmap_free(both);
	info->npus = hwloc_bitmap_weight(allowed);
	hwloc_bitmap_free(allowed);
	hwloc_obj_t root = hwloc_get_root_obj(topology);
	const char *model = hwloc_obj_get_info_by_name(root, "CPUModel");
	if (!model) {
		hwloc_obj_t pkg = hwloc_get_obj_by_type(topology, HWLOC_OBJ_PACKAGE, 0);
		model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
	}
	snprintf(info->cpu_model, sizeof info->cpu_model, "%s", model ? model : "unknown");
	/* Firmware pads the brand string with blanks. */
	size_t len = strlen(info->cpu_model);
	while (len && info->cpu_model[len - 1] == ' ')
		info->cpu_model[--len] = '\0';
}

int pmb_topology_load(const struct pmb_topology_info **info)
{
	if (!topology_loaded) {
		if (hwloc_topology_init(&topology) != 0)
			return pmb_error("cannot initialise hwloc: %s", strerror(errno));
		/* Cores and caches only: no PCI/GPU discovery (slow, and noisy
		 * where plugins probe devices that are not there). */
		hwloc_topology_set_io_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_NONE);
		if (hwloc_topology_load(topology) != 0) {
			hwloc_topology_destroy(topology);
			return pmb_error("cannot load the hwloc topology: %s", strerror(errno));
		}
		memset(&topology_info, 0, sizeof topology_info);
		unsigned v = hwloc_get_api_version();
		snprintf(topology_info.hwloc_version, sizeof topology_info.hwloc_version,
			 "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
		read_caches(&topology_info);
		read_cores(&topology_info);
		if (topology_info.ncores == 0) {
			hwloc_topology_destroy(topology);
			return pmb_error("hwloc found no core this process may run on");
		}
		topology_loaded = 1;
	}
	*info = &topology_info;
	return 0;
}

uint64_t pmb_topology_llc_size(const struct pmb_topology_info *info)
{
	return info->cache[info->llc_level - 1].size;
}

int pmb_topology_cache_level_for(const struct pmb_topology_info *info, uint64_t bytes)
{
	for (int i = 0; i < 3; i++)
		if (info->cache[i].size && bytes <= info->cache[i].size)
			return i + 1;
	return 4;
}

int pmb_topology_pin_thread(int pu_os_index)
{
	if (!topology_loaded)
		return pmb_error("internal: pin before pmb_topology_load");
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	if (!set)
		return pmb_error("out of memory");
	hwloc_bitmap_only(set, (unsigned)pu_os_index);
	int rc = hwloc_set_cpubind(topology, set, HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT);
	int saved = errno;
	hwloc_bitmap_free(set);
	if (rc != 0)
		return pmb_error("cannot pin thread to cpu %d: %s; check the cpus allowed "
				 "(taskset -p $$, cgroup cpuset) and --threads",
				 pu_os_index, strerror(saved));
	/* The bind call succeeding is not proof we run there until the next
	 * schedule; sched_yield lets the kernel migrate us, then we verify. */
	sched_yield();
	int cpu = sched_getcpu();
	if (cpu != pu_os_index)
		return pmb_error("pinned to cpu %d but running on cpu %d: pinning is not "
				 "effective here",
				 pu_os_index, cpu);
	return 0;
}

int pmb_topology_export_xml(const char *path)
{
	if (!topology_loaded)
		return pmb_error("internal: export before pmb_topology_load");
	if (hwloc_topology_export_xml(topology, path, 0) != 0)
		return pmb_error("cannot write the topology to %s: %s", path, strerror(errno));
	return 0;
}

void pmb_topology_unload(void)
{
	if (topology_loaded) {
		hwloc_topology_destroy(topology);
		topology_loaded = 0;
	}
}
