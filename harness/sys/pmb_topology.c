#define _GNU_SOURCE
#include "pmb_topology.h"
#include "pmb_error.h"
#include "pmb_parse.h"
#include "pmb_system.h"

#include <errno.h>
#include <hwloc.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Assumed where hwloc gives no size (marked "default" in meta.json):
 * typical of current x86 and Arm server cores. */
static const uint64_t cache_size_default[3] = {
	32u * 1024, 1024u * 1024, 32u * 1024 * 1024,
};

/* More LLC per hardware thread than any core gets outside stacked-cache
 * parts (Zen 4: 4 MiB, Genoa-X: 12 MiB per core): in a VM that is the host's
 * cache, advertised whole to a guest that owns a few of its cores. */
#define LLC_PER_PU_HOST_HINT (8ull << 20)

static hwloc_topology_t topology;
static struct pmb_topology_info topology_info;
static int topology_loaded;

static void append_note(struct pmb_topology_info *info, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void append_note(struct pmb_topology_info *info, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	size_t len = strlen(info->notes);
	snprintf(info->notes + len, sizeof info->notes - len, "%s%s", len ? "; " : "", text);
}

static void set_source(struct pmb_cache_level *c, const char *source)
{
	snprintf(c->source, sizeof c->source, "%s", source);
}

void pmb_topology_settle_caches(struct pmb_topology_info *info, int vm)
{
	char a[32], b[32];
	info->llc_level = 0;
	info->llc_host_value = 0;
	for (int i = 0; i < 3; i++) {
		struct pmb_cache_level *c = &info->cache[i];
		c->level = i + 1;
		c->size = c->size_raw;
		set_source(c, c->size ? "hwloc" : "none");
		/* A cache cannot be larger than the memory behind it. */
		if (c->size && info->mem_total && c->size > info->mem_total) {
			append_note(info, "hwloc reports L%d = %s, more than the memory (%s); ignored",
				    i + 1, pmb_format_size(c->size, a, sizeof a),
				    pmb_format_size(info->mem_total, b, sizeof b));
			c->size = 0;
			set_source(c, "none");
		}
		if (c->size)
			info->llc_level = i + 1;
	}
	if (info->llc_level == 0) {
		for (int i = 0; i < 3; i++) {
			info->cache[i].size = cache_size_default[i];
			set_source(&info->cache[i], "default");
		}
		info->llc_level = 3;
		append_note(info, "hwloc reports no cache sizes%s; assuming defaults L1d 32K, L2 1M, "
			    "L3 32M",
			    info->cache[0].present ? " (cache objects without a size)" : "");
		return;
	}
	/* Inner levels without a size exist (the LLC is deeper): assume. */
	for (int i = info->llc_level - 2; i >= 0; i--) {
		struct pmb_cache_level *c = &info->cache[i];
		if (c->size)
			continue;
		uint64_t outer = info->cache[i + 1].size;
		c->size = cache_size_default[i] < outer / 4 ? cache_size_default[i] : outer / 4;
		set_source(c, "default");
		append_note(info, "hwloc reports %s L%d; assuming %s (default)",
			    c->present ? "a size-0" : "no", i + 1, pmb_format_size(c->size, a, sizeof a));
	}
	/* An inner level larger than an outer one means the numbers are not
	 * real; keep the order so "fits in level N" stays meaningful. */
	for (int i = 1; i < info->llc_level; i++) {
		struct pmb_cache_level *c = &info->cache[i];
		if (c->size < info->cache[i - 1].size) {
			c->size = info->cache[i - 1].size * 2;
			set_source(c, "adjusted");
			append_note(info, "L%d smaller than L%d; using %s", i + 1, i,
				    pmb_format_size(c->size, a, sizeof a));
		}
	}
	uint64_t llc = info->cache[info->llc_level - 1].size;
	if (vm && info->llc_pus > 0 && llc / (uint64_t)info->llc_pus > LLC_PER_PU_HOST_HINT) {
		info->llc_host_value = 1;
		append_note(info, "VM: L%d %s for %d vCPU%s looks like the host's cache, shared with "
			    "other guests; kept as reported",
			    info->llc_level, pmb_format_size(llc, a, sizeof a), info->llc_pus,
			    info->llc_pus == 1 ? "" : "s");
	}
}

static void read_caches(struct pmb_topology_info *info)
{
	static const hwloc_obj_type_t types[3] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE,
						  HWLOC_OBJ_L3CACHE};
	for (int i = 0; i < 3; i++) {
		struct pmb_cache_level *c = &info->cache[i];
		c->line_size = 64;
		hwloc_obj_t obj = hwloc_get_obj_by_type(topology, types[i], 0);
		if (!obj || !obj->attr)
			continue;
		c->present = 1;
		c->size_raw = obj->attr->cache.size;
		if (obj->attr->cache.linesize)
			c->line_size = obj->attr->cache.linesize;
		c->assoc = obj->attr->cache.associativity > 0
				   ? (unsigned)obj->attr->cache.associativity
				   : 0;
		if (c->size_raw && obj->cpuset)
			info->llc_pus = hwloc_bitmap_weight(obj->cpuset);
	}
	hwloc_obj_t root = hwloc_get_root_obj(topology);
	info->mem_total = root->total_memory;
	if (!info->mem_total) {
		long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
		if (pages > 0 && page > 0)
			info->mem_total = (uint64_t)pages * (uint64_t)page;
	}
	pmb_topology_settle_caches(info, pmb_system_detect_vm(NULL, NULL, 0, NULL, 0));
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
	/* hwloc has no CPUModel on Arm: name the MIDR part from cpuinfo. */
	if (model)
		snprintf(info->cpu_model, sizeof info->cpu_model, "%s", model);
	else if (pmb_system_cpu_model(NULL, info->cpu_model, sizeof info->cpu_model) != 0)
		snprintf(info->cpu_model, sizeof info->cpu_model, "unknown");
	/* Firmware pads the brand string with blanks. */
	size_t len = strlen(info->cpu_model);
	while (len && info->cpu_model[len - 1] == ' ')
		info->cpu_model[--len] = '\0';
}

/* hwloc_get_api_version() is the loaded library's API version, which stays
 * at the first release of a series (2.8.0 for 2.9.0); the library writes
 * its own release into the root object's "hwlocVersion" info at discovery,
 * so that is the runtime version.  (From an XML topology it is the
 * exporting library's release, still a library that ran.) */
static void read_versions(struct pmb_topology_info *info)
{
	unsigned v = hwloc_get_api_version();
	snprintf(info->hwloc_api_version, sizeof info->hwloc_api_version, "%u.%u.%u", v >> 16,
		 (v >> 8) & 0xff, v & 0xff);
	snprintf(info->hwloc_header_version, sizeof info->hwloc_header_version, "%u.%u.%u",
		 HWLOC_API_VERSION >> 16, (HWLOC_API_VERSION >> 8) & 0xff, HWLOC_API_VERSION & 0xff);
	const char *rel = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topology), "hwlocVersion");
	snprintf(info->hwloc_version, sizeof info->hwloc_version, "%s",
		 rel ? rel : info->hwloc_api_version);
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
		read_versions(&topology_info);
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
