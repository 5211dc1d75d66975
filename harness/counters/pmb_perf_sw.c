/* pmb_perf_sw.c — software events straight from perf_event_open; see
 * pmb_perf_sw.h for why the PAPI backend needs it. */
#define _GNU_SOURCE
#include "pmb_perf_sw.h"
#include "pmb_error.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NSW 4

/* In group order: the first one in the mask leads. */
static const struct {
	int id;
	unsigned long long config;
	const char *name;
} sw_events[NSW] = {
	{ PMB_CTR_PAGE_FAULTS, PERF_COUNT_SW_PAGE_FAULTS, PMB_PERF_SW_PREFIX "PAGE-FAULTS" },
	{ PMB_CTR_CONTEXT_SWITCHES, PERF_COUNT_SW_CONTEXT_SWITCHES, PMB_PERF_SW_PREFIX "CONTEXT-SWITCHES" },
	{ PMB_CTR_CPU_MIGRATIONS, PERF_COUNT_SW_CPU_MIGRATIONS, PMB_PERF_SW_PREFIX "CPU-MIGRATIONS" },
	{ PMB_CTR_TASK_CLOCK_NS, PERF_COUNT_SW_TASK_CLOCK, PMB_PERF_SW_PREFIX "TASK-CLOCK" },
};

struct pmb_perf_sw {
	int n;
	int fd[NSW];  /* fd[0] is the group leader */
	int id[NSW];  /* counter of each fd, in the group's read order */
	uint32_t mask;
	int running;
};

static int sw_index(int id)
{
	for (int k = 0; k < NSW; k++)
		if (sw_events[k].id == id)
			return k;
	return -1;
}

const char *pmb_perf_sw_event_name(int id)
{
	int k = sw_index(id);
	return k < 0 ? NULL : sw_events[k].name;
}

uint32_t pmb_perf_sw_plan_mask(const struct pmb_counter_plan *plan)
{
	uint32_t m = 0;
	for (int k = 0; k < NSW; k++) {
		int id = sw_events[k].id;
		if ((plan->available & PMB_CTR_MASK(id)) &&
		    strncmp(plan->event_name[id], PMB_PERF_SW_PREFIX, strlen(PMB_PERF_SW_PREFIX)) == 0)
			m |= PMB_CTR_MASK(id);
	}
	return m;
}

/* Test-only hook (see the header): the errno to fail the open of event k
 * with, 0 for none.  "CODE" fails every event, "CODE:NAME,NAME" only the
 * named ones (NAME without the prefix, e.g. TASK-CLOCK). */
static int injected_errno(int k)
{
	static const struct { const char *name; int code; } codes[] = {
		{ "EACCES", EACCES }, { "EPERM", EPERM }, { "ENOSYS", ENOSYS },
		{ "ENOENT", ENOENT }, { "EINVAL", EINVAL },
	};
	const char *v = getenv("PMB_PERF_SW_FAIL");
	if (!v || !*v)
		return 0;
	size_t len = strcspn(v, ":");
	if (v[len] == ':') {
		const char *want = sw_events[k].name + strlen(PMB_PERF_SW_PREFIX);
		const char *p = v + len + 1;
		int named = 0;
		while (*p && !named) {
			size_t n = strcspn(p, ",");
			named = n == strlen(want) && strncmp(p, want, n) == 0;
			p += n + (p[n] == ',');
		}
		if (!named)
			return 0;
	}
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strlen(codes[i].name) == len && strncmp(v, codes[i].name, len) == 0)
			return codes[i].code;
	return EINVAL;
}

static int open_event(int k, int group_fd)
{
	struct perf_event_attr attr;
	int e = injected_errno(k);

	if (e) {
		errno = e;
		return -1;
	}
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = sw_events[k].config;
	/* Only the leader starts disabled: members follow it. */
	attr.disabled = group_fd < 0;
	attr.exclude_kernel = 0; /* see the header: faults and switches are kernel-side */
	attr.exclude_hv = 1;
	attr.read_format = PERF_FORMAT_GROUP;
	return (int)syscall(SYS_perf_event_open, &attr, 0 /* this thread */, -1 /* any CPU */,
			    group_fd, PERF_FLAG_FD_CLOEXEC);
}

/* kernel.perf_event_paranoid, or -1000 when it cannot be read. */
int pmb_perf_sw_read_paranoid(void)
{
	int level = -1000;
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	if (f) {
		if (fscanf(f, "%d", &level) != 1)
			level = -1000;
		fclose(f);
	}
	return level;
}

/* Why opening/using event k failed with errno err at stage. */
static void explain(char *dst, size_t size, int k, int err, const char *stage)
{
	const char *name = sw_events[k].name;
	const char *what = strerror(err);

	if (err == EACCES || err == EPERM) {
		int level = pmb_perf_sw_read_paranoid();
		if (level > 1)
			snprintf(dst, size, "%s: %s; kernel.perf_event_paranoid is %d, own-thread software events need <=1 (or CAP_PERFMON): sysctl -w kernel.perf_event_paranoid=1",
				 name, what, level);
		else if (level == -1000)
			snprintf(dst, size, "%s: %s; cannot read kernel.perf_event_paranoid; it must be <=1 (sysctl -w kernel.perf_event_paranoid=1) or a seccomp filter blocks perf_event_open",
				 name, what);
		else
			snprintf(dst, size, "%s: %s although kernel.perf_event_paranoid is %d (<=1 permits it): a security module or seccomp filter blocks perf_event_open",
				 name, what, level);
	} else if (err == ENOSYS) {
		snprintf(dst, size, "%s: %s; kernel without perf events (CONFIG_PERF_EVENTS) or perf_event_open blocked by seccomp",
			 name, what);
	} else if (err == ENOENT || err == EOPNOTSUPP) {
		snprintf(dst, size, "%s: %s; this kernel does not offer the software event", name, what);
	} else {
		snprintf(dst, size, "%s: %s at %s", name, what, stage);
	}
}

static void close_fds(struct pmb_perf_sw *g)
{
	for (int i = g->n - 1; i >= 0; i--)
		close(g->fd[i]);
	g->n = 0;
}

/* Opens the group for mask on the calling thread; on failure sets *bad to
 * the event that failed and returns -1 with errno set. */
static int open_group(struct pmb_perf_sw *g, uint32_t mask, int *bad)
{
	memset(g, 0, sizeof *g);
	g->running = 0;
	for (int k = 0; k < NSW; k++) {
		if (!(mask & PMB_CTR_MASK(sw_events[k].id)))
			continue;
		int fd = open_event(k, g->n ? g->fd[0] : -1);
		if (fd < 0) {
			int e = errno;
			*bad = k;
			close_fds(g);
			errno = e;
			return -1;
		}
		g->fd[g->n] = fd;
		g->id[g->n++] = sw_events[k].id;
		g->mask |= PMB_CTR_MASK(sw_events[k].id);
	}
	return 0;
}

/* Reset applies to each event, so it goes to the whole group.  Enable and
 * disable go to the leader alone: members stay enabled and count exactly
 * while their leader is scheduled.  Enabling and disabling the whole group
 * (PERF_IOC_FLAG_GROUP) instead leaves the members short from the second
 * enable on (measured on Linux 6.18: 301 to 394 of 512 page faults; a
 * task clock of 1.3 ms for 5 ms of spinning, or 0 in a sample without a
 * context switch); the first sample is right, which hides it. */
static int group_ioctl(struct pmb_perf_sw *g, unsigned long req)
{
	return ioctl(g->fd[0], req, req == PERF_EVENT_IOC_RESET ? PERF_IOC_FLAG_GROUP : 0);
}

/* Disables and reads; -1 with errno on failure. */
static int group_read(struct pmb_perf_sw *g, struct pmb_counter_values *values)
{
	uint64_t buf[1 + NSW];
	size_t want = (size_t)(1 + g->n) * sizeof buf[0];

	if (group_ioctl(g, PERF_EVENT_IOC_DISABLE) < 0)
		return -1;
	g->running = 0;
	ssize_t got = read(g->fd[0], buf, want);
	if (got < 0)
		return -1;
	if ((size_t)got != want || buf[0] != (uint64_t)g->n) {
		errno = EIO;
		return -1;
	}
	for (int i = 0; i < g->n; i++)
		values->value[g->id[i]] = (int64_t)buf[1 + i];
	values->counted |= g->mask;
	return 0;
}

/* One full cycle: open, reset, enable, disable, read, close.  Returns 0, or
 * -1 with *bad, *err and *stage saying what failed. */
static int cycle(uint32_t mask, int *bad, int *err, const char **stage)
{
	struct pmb_perf_sw g;
	struct pmb_counter_values v = { .counted = 0 };

	*stage = "open";
	if (open_group(&g, mask, bad) < 0) {
		*err = errno;
		return -1;
	}
	*bad = sw_index(g.id[0]);
	int ret = -1;
	*stage = "reset";
	if (group_ioctl(&g, PERF_EVENT_IOC_RESET) < 0)
		goto out;
	*stage = "enable";
	if (group_ioctl(&g, PERF_EVENT_IOC_ENABLE) < 0)
		goto out;
	*stage = "disable/read";
	if (group_read(&g, &v) < 0)
		goto out;
	ret = 0;
out:
	*err = errno;
	close_fds(&g);
	return ret;
}

uint32_t pmb_perf_sw_probe(uint32_t mask, char (*reason)[PMB_COUNTER_REASON_MAX])
{
	int bad, err;
	const char *stage;

	mask &= PMB_PERF_SW_MASK;
	if (!mask || cycle(mask, &bad, &err, &stage) == 0)
		return mask;

	/* The group failed: find out which events work alone, and say why
	 * for each of the others. */
	uint32_t ok = 0;
	for (int k = 0; k < NSW; k++) {
		int id = sw_events[k].id;
		if (!(mask & PMB_CTR_MASK(id)))
			continue;
		if (cycle(PMB_CTR_MASK(id), &bad, &err, &stage) == 0)
			ok |= PMB_CTR_MASK(id);
		else
			explain(reason[id], PMB_COUNTER_REASON_MAX, k, err, stage);
	}
	if (ok && cycle(ok, &bad, &err, &stage) != 0) {
		/* Each works alone but not together: not expected of
		 * software events, so give up on all rather than guess. */
		for (int k = 0; k < NSW; k++)
			if (ok & PMB_CTR_MASK(sw_events[k].id))
				snprintf(reason[sw_events[k].id], PMB_COUNTER_REASON_MAX,
					 "%s: counts alone but the group fails with %s at %s",
					 sw_events[k].name, strerror(err), stage);
		ok = 0;
	}
	return ok;
}

int pmb_perf_sw_open(uint32_t mask, struct pmb_perf_sw **group)
{
	struct pmb_perf_sw *g = calloc(1, sizeof *g);
	int bad = 0;
	char why[PMB_COUNTER_REASON_MAX];

	*group = NULL;
	if (!g)
		return pmb_error("cannot allocate perf_event_open group: out of memory");
	if (open_group(g, mask & PMB_PERF_SW_MASK, &bad) < 0) {
		explain(why, sizeof why, bad, errno, "open");
		free(g);
		return pmb_error("cannot open software counters on worker thread: %s", why);
	}
	*group = g;
	return 0;
}

int pmb_perf_sw_start(struct pmb_perf_sw *g)
{
	if (group_ioctl(g, PERF_EVENT_IOC_RESET) < 0 || group_ioctl(g, PERF_EVENT_IOC_ENABLE) < 0)
		return pmb_error("cannot start perf_event_open software counters: %s", strerror(errno));
	g->running = 1;
	return 0;
}

int pmb_perf_sw_stop_and_read(struct pmb_perf_sw *g, struct pmb_counter_values *values)
{
	if (!g->running)
		return pmb_error("perf_event_open software counters read without being started");
	if (group_read(g, values) < 0)
		return pmb_error("cannot read perf_event_open software counters: %s", strerror(errno));
	return 0;
}

void pmb_perf_sw_close(struct pmb_perf_sw *g)
{
	if (!g)
		return;
	if (g->running)
		group_ioctl(g, PERF_EVENT_IOC_DISABLE);
	close_fds(g);
	free(g);
}
