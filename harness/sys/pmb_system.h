/* pmb_system.h — facts about the machine that decide how far to trust a
 * measurement: VM, frequency governor, perf_event_paranoid, free memory,
 * and whether something else is running on our cores. */
#ifndef PMB_SYSTEM_H
#define PMB_SYSTEM_H

#include <stdint.h>

struct pmb_system_info {
	char host[64];
	char kernel[200];
	int vm;                    /* 1 when a hypervisor is reported */
	char hypervisor[64];       /* vendor when known, "" otherwise */
	char governor[64];         /* cpufreq governor of cpu0, or "unavailable" */
	int perf_event_paranoid;   /* -100 when unknown */
	uint64_t mem_available;    /* bytes, 0 when unknown */
	uint64_t mem_total;
};

void pmb_system_read(struct pmb_system_info *info);

/* Share of time (0..1) that cpu `cpu` was busy over `ms` milliseconds
 * while we were idle: others' load on a core we are about to use. */
double pmb_system_cpu_busy(int cpu, int ms);

#endif
