/* Unit tests of the machine facts: cache sizes from hwloc (pure rules, then
 * real hwloc loads of synthetic and XML topologies), VM detection and the
 * Arm CPU name from fake /proc and /sys trees.
 *
 * tests/fixtures/topology-l1-size0.xml is what hwloc reports in a QEMU
 * aarch64 guest (-M virt -cpu cortex-a57): L1d objects of size 0, no L2 or
 * L3.  Made with HWLOC_SYNTHETIC="numa:1(memory=1GiB) l1d:2(size=32KiB)
 * core:1 pu:1" lstopo-no-graphics --of xml, cache_size then set to 0 (the
 * minimal XML parser takes no comments, so the note lives here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmb_options.h"
#include "pmb_plan.h"
#include "pmb_system.h"
#include "pmb_topology.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

static struct pmb_topology_info raw(uint64_t l1, uint64_t l2, uint64_t l3, int pus,
				    uint64_t mem)
{
	struct pmb_topology_info t;
	memset(&t, 0, sizeof t);
	uint64_t s[3] = {l1, l2, l3};
	for (int i = 0; i < 3; i++) {
		t.cache[i].present = s[i] != (uint64_t)-1;
		t.cache[i].size_raw = s[i] == (uint64_t)-1 ? 0 : s[i];
	}
	t.llc_pus = pus;
	t.mem_total = mem;
	return t;
}
#define ABSENT ((uint64_t)-1)

/* QEMU: an L1 object of size 0 and nothing else.  Nothing is known, so
 * all three levels are defaults, said so; not "no L1" (there is one). */
static void test_caches_nothing_known(void **state)
{
	(void)state;
	struct pmb_topology_info t = raw(0, ABSENT, ABSENT, 1, 1 * GiB);
	pmb_topology_settle_caches(&t, 1);
	assert_int_equal(t.llc_level, 3);
	assert_int_equal(t.cache[0].size, 32 * KiB);
	assert_int_equal(t.cache[1].size, 1 * MiB);
	assert_int_equal(t.cache[2].size, 32 * MiB);
	for (int i = 0; i < 3; i++)
		assert_string_equal(t.cache[i].source, "default");
	assert_non_null(strstr(t.notes, "without a size"));
	assert_non_null(strstr(t.notes, "defaults"));
	assert_null(strstr(t.notes, "no L1"));
	assert_int_equal(pmb_topology_llc_size(&t), 32 * MiB);
}

/* A size-0 L1 under a known L2: the LLC is L2, L1 assumed. */
static void test_caches_inner_unknown(void **state)
{
	(void)state;
	struct pmb_topology_info t = raw(0, 2 * MiB, ABSENT, 2, 4 * GiB);
	pmb_topology_settle_caches(&t, 0);
	assert_int_equal(t.llc_level, 2);
	assert_int_equal(t.cache[0].size, 32 * KiB);
	assert_string_equal(t.cache[0].source, "default");
	assert_string_equal(t.cache[1].source, "hwloc");
	assert_string_equal(t.cache[2].source, "none");
	assert_int_equal(t.cache[2].size, 0);
	assert_non_null(strstr(t.notes, "size-0 L1"));
	/* Really no L1 object: the note says so. */
	t = raw(ABSENT, 2 * MiB, ABSENT, 2, 4 * GiB);
	pmb_topology_settle_caches(&t, 0);
	assert_non_null(strstr(t.notes, "no L1"));
	/* A small known L2: the assumed L1 stays below it. */
	t = raw(0, 64 * KiB, ABSENT, 1, 4 * GiB);
	pmb_topology_settle_caches(&t, 0);
	assert_int_equal(t.cache[0].size, 16 * KiB);
	assert_int_equal(pmb_topology_cache_level_for(&t, 48 * KiB), 2);
	assert_int_equal(pmb_topology_cache_level_for(&t, 128 * KiB), 4);
}

/* Stacked L3 (Genoa-X: 1152 MiB per socket) on bare metal: kept, no note;
 * the automatic sweep reaches 4 x the LLC under the default max_size. */
static void test_caches_big_llc_kept(void **state)
{
	(void)state;
	struct pmb_topology_info t = raw(32 * KiB, 1 * MiB, 1152 * MiB, 96, 384 * GiB);
	pmb_topology_settle_caches(&t, 0);
	assert_int_equal(t.cache[2].size, 1152 * MiB);
	assert_string_equal(t.cache[2].source, "hwloc");
	assert_int_equal(t.llc_host_value, 0);
	assert_string_equal(t.notes, "");
	struct pmb_options o;
	pmb_options_defaults(&o);
	uint64_t s[PMB_MAX_SIZES];
	size_t n = pmb_plan_auto_sizes(&t, o.max_size, s, PMB_MAX_SIZES);
	assert_int_equal(s[n - 1], 4 * 1152 * MiB);
}

/* A VM seeing its host's L3 (the Xeon VM: 504 MiB for 2 vCPUs): kept,
 * flagged.  A VM whose LLC per vCPU is ordinary: not flagged. */
static void test_caches_vm_host_value(void **state)
{
	(void)state;
	struct pmb_topology_info t = raw(48 * KiB, 2 * MiB, 504 * MiB, 2, 16 * GiB);
	pmb_topology_settle_caches(&t, 1);
	assert_int_equal(t.cache[2].size, 504 * MiB);
	assert_int_equal(t.llc_host_value, 1);
	assert_non_null(strstr(t.notes, "host"));
	t = raw(48 * KiB, 2 * MiB, 504 * MiB, 2, 16 * GiB);
	pmb_topology_settle_caches(&t, 0); /* bare metal: no flag */
	assert_int_equal(t.llc_host_value, 0);
	t = raw(32 * KiB, 1 * MiB, 32 * MiB, 8, 16 * GiB);
	pmb_topology_settle_caches(&t, 1);
	assert_int_equal(t.llc_host_value, 0);
}

/* An L3 larger than the memory is not believed: the LLC falls back to L2. */
static void test_caches_bigger_than_ram(void **state)
{
	(void)state;
	struct pmb_topology_info t = raw(32 * KiB, 1 * MiB, 2 * GiB, 2, 1 * GiB);
	pmb_topology_settle_caches(&t, 1);
	assert_int_equal(t.llc_level, 2);
	assert_int_equal(t.cache[2].size, 0);
	assert_int_equal(t.cache[2].size_raw, 2 * GiB);
	assert_string_equal(t.cache[2].source, "none");
	assert_non_null(strstr(t.notes, "more than the memory"));
}

/* Through hwloc itself: HWLOC_XMLFILE / HWLOC_SYNTHETIC replace discovery. */
static const struct pmb_topology_info *load_with(const char *var, const char *value)
{
	const struct pmb_topology_info *t = NULL;
	pmb_topology_unload();
	setenv(var, value, 1);
	int rc = pmb_topology_load(&t);
	unsetenv(var);
	assert_int_equal(rc, 0);
	return t;
}

static void test_hwloc_qemu_fixture(void **state)
{
	(void)state;
	const char *dir = getenv("PMB_SRCDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/tests/fixtures/topology-l1-size0.xml", dir ? dir : ".");
	const struct pmb_topology_info *t = load_with("HWLOC_XMLFILE", path);
	assert_int_equal(t->cache[0].present, 1);
	assert_int_equal(t->cache[0].size_raw, 0);
	assert_int_equal(t->cache[1].present, 0);
	assert_int_equal(t->llc_level, 3);
	assert_string_equal(t->cache[0].source, "default");
	assert_null(strstr(t->notes, "no L1"));
	assert_int_equal(t->mem_total, 1 * GiB);
	pmb_topology_unload();
}

static void test_hwloc_synthetic_big_llc(void **state)
{
	(void)state;
	const struct pmb_topology_info *t = load_with(
		"HWLOC_SYNTHETIC",
		"numa:1(memory=64GiB) l3:1(size=1152MiB) l2:2(size=1MiB) l1d:1(size=32KiB) core:1 pu:1");
	assert_int_equal(t->llc_level, 3);
	assert_int_equal(t->cache[2].size, 1152 * MiB);
	assert_int_equal(t->cache[1].size, 1 * MiB);
	assert_int_equal(t->cache[0].size, 32 * KiB);
	assert_int_equal(t->llc_pus, 2);
	assert_int_equal(t->ncores, 2);
	assert_true(t->hwloc_version[0] >= '2');
	pmb_topology_unload();
}

/* ---- system facts from fake trees ----------------------------------------- */

static char tree[256];

static void put(const char *path, const char *text, size_t len)
{
	char full[512], dir[512];
	snprintf(full, sizeof full, "%s%s", tree, path);
	snprintf(dir, sizeof dir, "%s", full);
	for (char *p = dir + strlen(tree) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
	FILE *f = fopen(full, "w");
	assert_non_null(f);
	fwrite(text, 1, len, f);
	fclose(f);
}
#define PUT(path, lit) put(path, lit, sizeof lit - 1)

static void new_tree(void)
{
	snprintf(tree, sizeof tree, "/tmp/pmb_test_topology_XXXXXX");
	assert_non_null(mkdtemp(tree));
}

static void drop_tree(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tree);
	assert_int_equal(system(cmd), 0);
}

static void expect_vm(int want, const char *name, const char *evidence)
{
	char h[80], e[64];
	assert_int_equal(pmb_system_detect_vm(tree, h, sizeof h, e, sizeof e), want);
	if (!want)
		return;
	assert_string_equal(h, name);
	if (!strstr(e, evidence))
		fail_msg("evidence '%s' lacks '%s'", e, evidence);
}

static void test_vm_detection(void **state)
{
	(void)state;
	new_tree();
	PUT("/proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 125.00\nCPU implementer\t: 0x41\n");
	expect_vm(0, "", "");
	/* QEMU aarch64 -M virt without firmware: the device tree says so. */
	PUT("/proc/device-tree/compatible", "linux,dummy-virt\0");
	expect_vm(1, "QEMU virt", "linux,dummy-virt");
	/* With UEFI firmware, DMI names QEMU (checked before the tree). */
	PUT("/sys/class/dmi/id/sys_vendor", "QEMU\n");
	PUT("/sys/class/dmi/id/product_name", "KVM Virtual Machine\n");
	expect_vm(1, "QEMU", "dmi");
	drop_tree();

	new_tree();
	PUT("/proc/cpuinfo", "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme hypervisor lahf_lm\n");
	expect_vm(1, "", "cpuinfo flag");
	PUT("/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme hypervisors_not\n");
	expect_vm(0, "", "");
	PUT("/proc/device-tree/hypervisor/compatible", "xen,xen-4.17\0xen,xen\0");
	expect_vm(1, "xen,xen-4.17", "device-tree /hypervisor");
	PUT("/sys/hypervisor/type", "xen\n");
	expect_vm(1, "xen", "/sys/hypervisor/type");
	drop_tree();

	new_tree();
	PUT("/sys/class/dmi/id/sys_vendor", "Dell Inc.\n");
	PUT("/sys/class/dmi/id/product_name", "PowerEdge R750\n");
	PUT("/proc/device-tree/compatible", "arm,juno\0arm,vexpress\0");
	expect_vm(0, "", "");
	drop_tree();
}

static void test_cpu_model(void **state)
{
	(void)state;
	char buf[128];
	pmb_system_arm_cpu_name(0x41, 0xd07, buf, sizeof buf);
	assert_string_equal(buf, "ARM Cortex-A57 (MIDR implementer 0x41 part 0xd07)");
	pmb_system_arm_cpu_name(0x41, 0xd0c, buf, sizeof buf);
	assert_non_null(strstr(buf, "Neoverse-N1"));
	pmb_system_arm_cpu_name(0x99, 0x123, buf, sizeof buf);
	assert_string_equal(buf, "Arm CPU (MIDR implementer 0x99 part 0x123)");

	new_tree();
	assert_int_equal(pmb_system_cpu_model(tree, buf, sizeof buf), -1); /* no cpuinfo */
	/* The guest's cpuinfo (QEMU -cpu cortex-a57). */
	PUT("/proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 125.00\nFeatures\t: fp asimd evtstrm "
			     "aes pmull sha1 sha2 crc32 cpuid\nCPU implementer\t: 0x41\nCPU "
			     "architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0xd07\nCPU revision\t: 0\n");
	assert_int_equal(pmb_system_cpu_model(tree, buf, sizeof buf), 0);
	assert_string_equal(buf, "ARM Cortex-A57 (MIDR implementer 0x41 part 0xd07)");
	PUT("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654 96-Core Processor\n");
	assert_int_equal(pmb_system_cpu_model(tree, buf, sizeof buf), 0);
	assert_string_equal(buf, "AMD EPYC 9654 96-Core Processor");
	drop_tree();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caches_nothing_known),
		cmocka_unit_test(test_caches_inner_unknown),
		cmocka_unit_test(test_caches_big_llc_kept),
		cmocka_unit_test(test_caches_vm_host_value),
		cmocka_unit_test(test_caches_bigger_than_ram),
		cmocka_unit_test(test_hwloc_qemu_fixture),
		cmocka_unit_test(test_hwloc_synthetic_big_llc),
		cmocka_unit_test(test_vm_detection),
		cmocka_unit_test(test_cpu_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
