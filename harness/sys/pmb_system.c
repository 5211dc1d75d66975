#define _GNU_SOURCE
#include "pmb_system.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int read_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char *ok = fgets(buf, (int)len, f);
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static uint64_t meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return 0;
	char line[256];
	unsigned long long kb = 0;
	size_t klen = strlen(key);
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			kb = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* The value of the first "key : value" line of /proc/cpuinfo (the first
 * CPU's), or "" when absent. */
static void cpuinfo_field(const char *key, char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[8192];
	size_t klen = strlen(key);
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, key, klen) || (line[klen] != ' ' && line[klen] != '\t' &&
						 line[klen] != ':'))
			continue;
		char *v = strchr(line, ':');
		if (!v)
			continue;
		v += strspn(v + 1, " \t") + 1;
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, len, "%s", v);
		break;
	}
	fclose(f);
}

/* root + path: the machine's file, or a test's fake tree. */
static int read_file_at(const char *root, const char *path, char *buf, size_t len)
{
	char full[512];
	snprintf(full, sizeof full, "%s%s", root ? root : "", path);
	FILE *f = fopen(full, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* Hypervisor names as DMI (x86 and Arm UEFI guests) writes them, in
 * sys_vendor or product_name. */
static const char *const dmi_vm_names[] = {
	"QEMU", "KVM", "VMware", "VirtualBox", "innotek", "Xen", "Virtual Machine",
	"Amazon EC2", "Google Compute Engine", "BHYVE", "Parallels", "OpenStack", "Cloud Hypervisor",
	"Firecracker",
};

#if defined(__x86_64__) || defined(__i386__)
/* CPUID leaf 1 ECX bit 31 is the architectural "running under a
 * hypervisor" bit; leaf 0x40000000 names the hypervisor. */
static int cpuid_hypervisor(char *vendor_out, size_t len)
{
	unsigned a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 31)))
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000u), "c"(0));
	char vendor[13];
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &c, 4);
	memcpy(vendor + 8, &d, 4);
	vendor[12] = '\0';
	for (int i = 0; i < 12; i++)
		if ((unsigned char)vendor[i] < 32 || (unsigned char)vendor[i] > 126)
			vendor[i] = ' ';
	for (int i = 11; i >= 0 && vendor[i] == ' '; i--)
		vendor[i] = '\0';
	snprintf(vendor_out, len, "%s", vendor);
	return 1;
}
#endif

/* Evidence, first that answers: CPUID (x86, this machine only), Xen's
 * /sys/hypervisor/type, the cpuinfo "hypervisor" flag (x86), DMI vendor or
 * product (QEMU/KVM/VMware/... guests with firmware tables, x86 and Arm),
 * the device tree (Arm guests without UEFI: a /hypervisor node, or QEMU's
 * "linux,dummy-virt" machine). */
int pmb_system_detect_vm(const char *root, char *hypervisor, size_t len, char *evidence,
			 size_t evidence_len)
{
	char buf[4096], name[80] = "", vendor[64];
	const char *how = NULL;
#if defined(__x86_64__) || defined(__i386__)
	if (!root && cpuid_hypervisor(vendor, sizeof vendor)) {
		snprintf(name, sizeof name, "%s", vendor);
		how = "cpuid";
	}
#else
	(void)vendor;
#endif
	if (!how && read_file_at(root, "/sys/hypervisor/type", buf, sizeof buf) == 0 && buf[0]) {
		snprintf(name, sizeof name, "%.*s", (int)strcspn(buf, "\n"), buf);
		how = "/sys/hypervisor/type";
	}
	if (!how && read_file_at(root, "/proc/cpuinfo", buf, sizeof buf) == 0) {
		const char *flags = strstr(buf, "\nflags");
		if (flags) {
			size_t n = strcspn(flags + 1, "\n");
			char line[2048];
			snprintf(line, sizeof line, "%.*s ", (int)n, flags + 1);
			if (strstr(line, " hypervisor "))
				how = "cpuinfo flag";
		}
	}
	if (!how) {
		char dmi[256] = "", product[128] = "";
		if (read_file_at(root, "/sys/class/dmi/id/sys_vendor", dmi, 128) == 0)
			dmi[strcspn(dmi, "\n")] = '\0';
		if (read_file_at(root, "/sys/class/dmi/id/product_name", product, sizeof product) == 0)
			product[strcspn(product, "\n")] = '\0';
		snprintf(dmi + strlen(dmi), sizeof dmi - strlen(dmi), " %s", product);
		for (size_t i = 0; i < sizeof dmi_vm_names / sizeof dmi_vm_names[0] && !how; i++)
			if (strstr(dmi, dmi_vm_names[i])) {
				snprintf(name, sizeof name, "%s", dmi_vm_names[i]);
				how = "dmi";
			}
	}
	if (!how && read_file_at(root, "/proc/device-tree/hypervisor/compatible", buf, sizeof buf) == 0) {
		snprintf(name, sizeof name, "%s", buf); /* first string, e.g. xen,xen */
		how = "device-tree /hypervisor";
	}
	if (!how && read_file_at(root, "/proc/device-tree/compatible", buf, sizeof buf) == 0) {
		/* NUL-separated strings: the first is the machine. */
		if (strcmp(buf, "linux,dummy-virt") == 0) {
			snprintf(name, sizeof name, "QEMU virt");
			how = "device-tree compatible linux,dummy-virt";
		}
	}
	if (hypervisor)
		snprintf(hypervisor, len, "%s", how ? name : "");
	if (evidence)
		snprintf(evidence, evidence_len, "%s", how ? how : "");
	return how != NULL;
}

/* MIDR implementer and part numbers as /proc/cpuinfo shows them on Arm
 * ("CPU implementer : 0x41", "CPU part : 0xd07"): a few common parts. */
static const struct {
	unsigned impl, part;
	const char *name;
} arm_parts[] = {
	{0x41, 0xd03, "ARM Cortex-A53"},     {0x41, 0xd04, "ARM Cortex-A35"},
	{0x41, 0xd05, "ARM Cortex-A55"},     {0x41, 0xd07, "ARM Cortex-A57"},
	{0x41, 0xd08, "ARM Cortex-A72"},     {0x41, 0xd09, "ARM Cortex-A73"},
	{0x41, 0xd0b, "ARM Cortex-A76"},     {0x41, 0xd0c, "ARM Neoverse-N1"},
	{0x41, 0xd40, "ARM Neoverse-V1"},    {0x41, 0xd49, "ARM Neoverse-N2"},
	{0x41, 0xd4f, "ARM Neoverse-V2"},    {0x41, 0xd8e, "ARM Neoverse-N3"},
	{0x46, 0x001, "Fujitsu A64FX"},      {0x48, 0xd01, "HiSilicon TaiShan v110"},
	{0xc0, 0xac3, "Ampere AmpereOne"},   {0x61, 0x022, "Apple M1 Icestorm"},
	{0x61, 0x023, "Apple M1 Firestorm"},
};

void pmb_system_arm_cpu_name(unsigned impl, unsigned part, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof arm_parts / sizeof arm_parts[0]; i++)
		if (arm_parts[i].impl == impl && arm_parts[i].part == part) {
			snprintf(buf, len, "%s (MIDR implementer 0x%02x part 0x%03x)",
				 arm_parts[i].name, impl, part);
			return;
		}
	snprintf(buf, len, "Arm CPU (MIDR implementer 0x%02x part 0x%03x)", impl, part);
}

int pmb_system_cpu_model(const char *root, char *buf, size_t len)
{
	char text[8192];
	if (read_file_at(root, "/proc/cpuinfo", text, sizeof text) != 0)
		return -1;
	const char *impl = strstr(text, "CPU implementer"), *part = strstr(text, "CPU part");
	if (impl && part) {
		impl = strchr(impl, ':');
		part = strchr(part, ':');
		if (impl && part) {
			unsigned long i = strtoul(impl + 1, NULL, 0), p = strtoul(part + 1, NULL, 0);
			pmb_system_arm_cpu_name((unsigned)i, (unsigned)p, buf, len);
			return 0;
		}
	}
	const char *model = strstr(text, "model name");
	if (model && (model = strchr(model, ':'))) {
		model += 1 + strspn(model + 1, " \t");
		snprintf(buf, len, "%.*s", (int)strcspn(model, "\n"), model);
		return buf[0] ? 0 : -1;
	}
	return -1;
}

void pmb_system_read(struct pmb_system_info *info)
{
	memset(info, 0, sizeof *info);
	if (gethostname(info->host, sizeof info->host) != 0)
		snprintf(info->host, sizeof info->host, "unknown");
	info->host[strcspn(info->host, ".")] = '\0';
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(info->kernel, sizeof info->kernel, "%s %s %s", u.sysname, u.release,
			 u.machine);
	info->vm = pmb_system_detect_vm(NULL, info->hypervisor, sizeof info->hypervisor,
					info->vm_evidence, sizeof info->vm_evidence);
	if (read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
			    info->governor, sizeof info->governor) != 0)
		snprintf(info->governor, sizeof info->governor, "unavailable");
	char buf[32];
	info->perf_event_paranoid = -100;
	if (read_first_line("/proc/sys/kernel/perf_event_paranoid", buf, sizeof buf) == 0)
		info->perf_event_paranoid = atoi(buf);
	info->mem_available = meminfo_kb("MemAvailable") * 1024;
	info->mem_total = meminfo_kb("MemTotal") * 1024;
	cpuinfo_field("microcode", info->microcode, sizeof info->microcode);
	cpuinfo_field("flags", info->cpu_flags, sizeof info->cpu_flags);
	if (!info->cpu_flags[0])
		cpuinfo_field("Features", info->cpu_flags, sizeof info->cpu_flags);
}

/* Free memory as this process may use it: a `ulimit -v` (RLIMIT_AS) below
 * what the system has free is the real bound, less what is mapped now. */
uint64_t pmb_system_mem_usable(const struct pmb_system_info *info)
{
	uint64_t usable = info->mem_available;
	struct rlimit rl;
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		uint64_t mapped = 0;
		FILE *f = fopen("/proc/self/status", "r");
		char line[256];
		while (f && fgets(line, sizeof line, f))
			if (!strncmp(line, "VmSize:", 7))
				mapped = strtoull(line + 7, NULL, 10) * 1024;
		if (f)
			fclose(f);
		uint64_t left = rl.rlim_cur > mapped ? rl.rlim_cur - mapped : 1;
		if (!usable || left < usable)
			usable = left;
	}
	return usable;
}

static int read_cpu_times(int cpu, unsigned long long *busy, unsigned long long *total)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	char line[512], name[16];
	snprintf(name, sizeof name, "cpu%d ", cpu);
	int found = -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, name, strlen(name)))
			continue;
		unsigned long long v[8] = {0};
		sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		*total = 0;
		for (int i = 0; i < 8; i++)
			*total += v[i];
		*busy = *total - v[3] - v[4]; /* minus idle and iowait */
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

double pmb_system_cpu_busy(int cpu, int ms)
{
	unsigned long long b0, t0, b1, t1;
	if (read_cpu_times(cpu, &b0, &t0) != 0)
		return -1;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	if (read_cpu_times(cpu, &b1, &t1) != 0 || t1 == t0)
		return -1;
	return (double)(b1 - b0) / (double)(t1 - t0);
}

int pmb_system_cpus_busy(const int *cpus, int n, int ms, double *busy)
{
	unsigned long long b0[256], t0[256];
	int ok = 1;
	if (n > 256)
		n = 256;
	for (int i = 0; i < n; i++) {
		busy[i] = -1;
		if (read_cpu_times(cpus[i], &b0[i], &t0[i]) != 0)
			ok = 0, t0[i] = 0;
	}
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	for (int i = 0; i < n; i++) {
		unsigned long long b1, t1;
		if (read_cpu_times(cpus[i], &b1, &t1) != 0 || t1 <= t0[i]) {
			ok = 0;
			continue;
		}
		busy[i] = (double)(b1 - b0[i]) / (double)(t1 - t0[i]);
	}
	return ok ? 0 : -1;
}

void pmb_system_remove_flat_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char path[PATH_MAX];
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			if (n > 0 && (size_t)n < sizeof path) /* never a truncated name */
				unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}
