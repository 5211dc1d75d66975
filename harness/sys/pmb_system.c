#define _GNU_SOURCE
#include "pmb_system.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void detect_vm(struct pmb_system_info *info)
{
	info->vm = 0;
	info->hypervisor[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (c & (1u << 31)) {
		info->vm = 1;
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
		snprintf(info->hypervisor, sizeof info->hypervisor, "%s", vendor);
	}
#else
	char buf[64];
	if (read_first_line("/sys/hypervisor/type", buf, sizeof buf) == 0) {
		info->vm = 1;
		snprintf(info->hypervisor, sizeof info->hypervisor, "%s", buf);
	}
#endif
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
	detect_vm(info);
	if (read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
			    info->governor, sizeof info->governor) != 0)
		snprintf(info->governor, sizeof info->governor, "unavailable");
	char buf[32];
	info->perf_event_paranoid = -100;
	if (read_first_line("/proc/sys/kernel/perf_event_paranoid", buf, sizeof buf) == 0)
		info->perf_event_paranoid = atoi(buf);
	info->mem_available = meminfo_kb("MemAvailable") * 1024;
	info->mem_total = meminfo_kb("MemTotal") * 1024;
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
