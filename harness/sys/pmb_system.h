/* pmb_system.h — facts about the machine that decide how far to trust a
 * measurement: VM, frequency governor, perf_event_paranoid, free memory,
 * and whether something else is running on our cores. */
#ifndef PMB_SYSTEM_H
#define PMB_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

struct pmb_system_info {
	char host[64];
	char kernel[200];
	int vm;                    /* 1 when a hypervisor is reported */
	char hypervisor[80];       /* its name when known (KVMKVMKVM, QEMU, xen), else "" */
	char vm_evidence[64];      /* what said so: cpuid, dmi, cpuinfo flag, device-tree ... */
	char governor[64];         /* cpufreq governor of cpu0, or "unavailable" */
	int perf_event_paranoid;   /* -100 when unknown */
	uint64_t mem_available;    /* bytes, 0 when unknown */
	uint64_t mem_total;
	/* /proc/cpuinfo of the first CPU: nodes of one CPU model can still
	 * differ here (microcode update, a feature disabled in firmware). */
	char microcode[32];        /* "" when the kernel does not say */
	char cpu_flags[4096];      /* x86 "flags" / arm64 "Features", "" if unknown */
};

void pmb_system_read(struct pmb_system_info *info);

/* 1 when running under a hypervisor; its name (may be "") and what said
 * so go to hypervisor and evidence (either may be NULL).  root prefixes
 * the /proc and /sys paths: NULL for this machine (then x86 CPUID is asked
 * too), a fake tree in tests. */
int pmb_system_detect_vm(const char *root, char *hypervisor, size_t len, char *evidence,
			 size_t evidence_len);

/* CPU model from root/proc/cpuinfo: the Arm MIDR implementer and part
 * mapped to a name, else x86's "model name".  Returns 0, or -1 if none. */
int pmb_system_cpu_model(const char *root, char *buf, size_t len);

/* "ARM Cortex-A57 (MIDR implementer 0x41 part 0xd07)"; an unknown part
 * keeps the numbers. */
void pmb_system_arm_cpu_name(unsigned impl, unsigned part, char *buf, size_t len);

/* Share of time (0..1) that cpu `cpu` was busy over `ms` milliseconds
 * while we were idle: others' load on a core we are about to use. */
double pmb_system_cpu_busy(int cpu, int ms);

/* mem_available, or less under a `ulimit -v` (RLIMIT_AS): the memory
 * check of the plan uses this. */
uint64_t pmb_system_mem_usable(const struct pmb_system_info *info);

/* The same for n cpus over one shared window of ms milliseconds: busy[i]
 * for cpus[i], -1 where unreadable.  Returns 0, or -1 if any was. */
int pmb_system_cpus_busy(const int *cpus, int n, int ms, double *busy);

/* Removes a directory of plain files (a staging run directory, the
 * simulator's temporary directory); best effort, as on a cleanup path. */
void pmb_system_remove_flat_dir(const char *dir);

#endif
