#include "pmb_plan.h"
#include "pmb_error.h"
#include "pmb_parse.h"
#include "pmb_plugin.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Built-in families first, then those of --kernel-lib, in load order. */
static const struct pmb_kernel *family_at(size_t i)
{
	size_t nbuiltin = 0;
	while (pmb_kernel_families[nbuiltin])
		nbuiltin++;
	return i < nbuiltin ? pmb_kernel_families[i] : pmb_plugin_family(i - nbuiltin);
}

size_t pmb_plan_kernel_count(void)
{
	size_t n = 0;
	for (size_t f = 0; family_at(f); f++)
		for (const struct pmb_kernel *k = family_at(f); k->family; k++)
			n++;
	return n;
}

const struct pmb_kernel *pmb_plan_kernel_at(size_t i)
{
	for (size_t f = 0; family_at(f); f++)
		for (const struct pmb_kernel *k = family_at(f); k->family; k++)
			if (i-- == 0)
				return k;
	return NULL;
}

static int pattern_matches(const char *pattern, const struct pmb_kernel *k)
{
	char full[160];
	snprintf(full, sizeof full, "%s/%s", k->family, k->variant);
	/* A bare family name selects all its variants. */
	return fnmatch(pattern, full, 0) == 0 || fnmatch(pattern, k->family, 0) == 0;
}

static int for_each_pattern(const char *filter, const struct pmb_kernel *k, char *bad,
			    size_t badlen)
{
	char copy[512];
	snprintf(copy, sizeof copy, "%s", filter);
	char *save = NULL;
	int any = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (k) {
			if (pattern_matches(tok, k))
				return 1;
			continue;
		}
		/* k == NULL: find a pattern that matches no kernel at all. */
		int hit = 0;
		for (size_t i = 0; i < pmb_plan_kernel_count() && !hit; i++)
			hit = pattern_matches(tok, pmb_plan_kernel_at(i));
		if (!hit) {
			snprintf(bad, badlen, "%s", tok);
			return 1;
		}
		any = 1;
	}
	(void)any;
	return 0;
}

int pmb_plan_filter_matches(const char *filter, const struct pmb_kernel *k)
{
	return for_each_pattern(filter, k, NULL, 0);
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

size_t pmb_plan_auto_sizes(const struct pmb_topology_info *topo, uint64_t max_size,
			   uint64_t *sizes, size_t max)
{
	uint64_t top = 4 * pmb_topology_llc_size(topo);
	if (top > max_size)
		top = max_size;
	size_t n = 0;
	for (uint64_t s = 1024; s <= top && n < max; s *= 4)
		sizes[n++] = s;
	for (int i = 0; i < 3; i++) {
		uint64_t c = topo->cache[i].size;
		if (!c)
			continue;
		/* Just inside and just outside each level, rounded to 1 KiB. */
		uint64_t below = (c * 3 / 4) & ~1023ull, above = (c * 3 / 2) & ~1023ull;
		if (below >= 1024 && below <= top && n < max)
			sizes[n++] = below;
		if (above <= top && n < max)
			sizes[n++] = above;
	}
	if (n < max && (n == 0 || top > 1024))
		sizes[n++] = top;
	qsort(sizes, n, sizeof sizes[0], compare_u64);
	size_t out = 0;
	for (size_t i = 0; i < n; i++)
		if (out == 0 || sizes[out - 1] != sizes[i])
			sizes[out++] = sizes[i];
	return out;
}

/* splitmix64: a seeded shuffle so "random" interleaving is repeatable. */
static void list_kernels(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < pmb_plan_kernel_count() && used < len; i++) {
		const struct pmb_kernel *k = pmb_plan_kernel_at(i);
		used += (size_t)snprintf(buf + used, len - used, "%s%s/%s", i ? ", " : "", k->family,
					 k->variant);
	}
}

int pmb_plan_check_filter(const char *filter)
{
	char bad[128];
	if (for_each_pattern(filter, NULL, bad, sizeof bad)) {
		char all[2048];
		list_kernels(all, sizeof all);
		return pmb_error("no kernel matches '%s'; available: %s (see --list)", bad, all);
	}
	return 0;
}

/* Threads and --cores against the cores this process may use. */
static int plan_check_threads(const struct pmb_options *opt, const struct pmb_topology_info *topo)
{
	char usable[512] = "";
	for (int c = 0; c < topo->ncores; c++)
		snprintf(usable + strlen(usable), sizeof usable - strlen(usable), "%s%d",
			 c ? "," : "", topo->core_os_index[c]);
	for (size_t i = 0; i < opt->ncores; i++) {
		int ok = 0;
		for (int c = 0; c < topo->ncores; c++)
			ok |= topo->core_os_index[c] == opt->cores[i];
		if (!ok)
			return pmb_error("--cores: cpu %d is not a core this process may use; usable: "
					 "%s (taskset/cgroup cpuset decide)",
					 opt->cores[i], usable);
	}
	for (size_t t = 0; t < opt->nthreads; t++)
		if (opt->ncores && opt->threads[t] > (int)opt->ncores)
			return pmb_error("%d threads asked for, but --cores lists %zu; list one core "
					 "per thread",
					 opt->threads[t], opt->ncores);
	for (size_t t = 0; t < opt->nthreads; t++)
		if (opt->threads[t] > topo->ncores)
			return pmb_error("%d threads asked for, but only %d core%s usable here "
					 "(one thread per core; cores allowed by taskset/cgroup "
					 "cpuset); use --threads 1%s",
					 opt->threads[t], topo->ncores, topo->ncores == 1 ? " is" : "s are",
					 topo->ncores > 1 ? " up to that number" : "");
	return 0;
}

/* The automatic sweep (noting a cap below 4 x LLC) or the sizes given. */
static void plan_choose_sizes(struct pmb_plan *plan, const struct pmb_options *opt,
			      const struct pmb_topology_info *topo)
{
	if (!opt->auto_sizes) {
		memcpy(plan->sizes, opt->sizes, opt->nsizes * sizeof opt->sizes[0]);
		plan->nsizes = opt->nsizes;
		return;
	}
	plan->nsizes = pmb_plan_auto_sizes(topo, opt->max_size, plan->sizes, PMB_MAX_SIZES);
	uint64_t want = 4 * pmb_topology_llc_size(topo);
	if (want > opt->max_size) {
		char a[32], b[32];
		snprintf(plan->notes, sizeof plan->notes,
			 "automatic sweep capped at max_size %s (4 x LLC would be %s)",
			 pmb_format_size(opt->max_size, a, sizeof a),
			 pmb_format_size(want, b, sizeof b));
	}
}

/* Kernels may hold about twice their working set (inputs plus what a
 * pass builds, e.g. the alloc family's strings and allocator slack);
 * keep the largest point under half of what the system has free: an
 * automatic sweep is cut there, sizes given are refused with the fix. */
static int plan_fit_memory(struct pmb_plan *plan, const struct pmb_options *opt,
			   uint64_t mem_available)
{
	int max_threads = 1;
	for (size_t t = 0; t < opt->nthreads; t++)
		if (opt->threads[t] > max_threads)
			max_threads = opt->threads[t];
	uint64_t biggest = plan->sizes[plan->nsizes - 1];
	if (!mem_available || biggest * 2 * (uint64_t)max_threads <= mem_available / 2)
		return 0;
	char a[32], b[32];
	if (opt->auto_sizes) {
		uint64_t cap = mem_available / 4 / (uint64_t)max_threads;
		size_t n = 0;
		while (n < plan->nsizes && plan->sizes[n] <= cap)
			n++;
		plan->nsizes = n;
		snprintf(plan->notes + strlen(plan->notes), sizeof plan->notes - strlen(plan->notes),
			 "%ssweep capped at %s by free memory", plan->notes[0] ? "; " : "",
			 pmb_format_size(cap, a, sizeof a));
		return n == 0 ? pmb_error("not enough free memory for any size") : 0;
	}
	struct rlimit rl;
	int limited = getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY;
	return pmb_error("not enough memory for %s x %d thread%s: it needs about %s "
			 "but only %s is available%s; use smaller --sizes or fewer "
			 "--threads%s",
			 pmb_format_size(biggest, a, sizeof a), max_threads, max_threads > 1 ? "s" : "",
			 pmb_format_size(biggest * 4 * (uint64_t)max_threads, b, sizeof b),
			 pmb_format_size(mem_available, (char[32]){0}, 32),
			 limited ? " under the address-space limit (ulimit -v)" : "",
			 limited ? ", or raise ulimit -v" : "");
}

/* One point per matching kernel x size x thread count, in table order. */
static int plan_make_points(struct pmb_plan *plan, const struct pmb_options *opt,
			    const struct pmb_topology_info *topo)
{
	size_t cap = pmb_plan_kernel_count() * plan->nsizes * opt->nthreads;
	plan->points = calloc(cap ? cap : 1, sizeof *plan->points);
	if (!plan->points)
		return pmb_error("out of memory");
	for (size_t i = 0; i < pmb_plan_kernel_count(); i++) {
		const struct pmb_kernel *k = pmb_plan_kernel_at(i);
		if (!pmb_plan_filter_matches(opt->kernels, k))
			continue;
		for (size_t s = 0; s < plan->nsizes; s++) {
			for (size_t t = 0; t < opt->nthreads; t++) {
				struct pmb_point *p = &plan->points[plan->npoints++];
				p->kernel = k;
				p->size_bytes = plan->sizes[s];
				p->n_elems = plan->sizes[s] / k->bytes_per_elem;
				if (p->n_elems == 0)
					p->n_elems = 1;
				p->threads = opt->threads[t];
				p->cache_level = pmb_topology_cache_level_for(topo, p->size_bytes);
			}
		}
	}
	return 0;
}

int pmb_plan_build(struct pmb_plan *plan, const struct pmb_options *opt,
		   const struct pmb_topology_info *topo, uint64_t mem_available)
{
	memset(plan, 0, sizeof *plan);
	if (pmb_plan_check_filter(opt->kernels) != 0 || plan_check_threads(opt, topo) != 0)
		return -1;
	plan_choose_sizes(plan, opt, topo);
	if (plan_fit_memory(plan, opt, mem_available) != 0 ||
	    plan_make_points(plan, opt, topo) != 0)
		return -1;
	if (opt->interleave)
		pmb_plan_shuffle(plan->points, plan->npoints, sizeof plan->points[0],
				 opt->seed ^ 0x5eedull);
	return 0;
}

void pmb_plan_shuffle(void *base, size_t n, size_t size, uint64_t seed)
{
	unsigned char *b = base, tmp[256];
	if (size > sizeof tmp)
		return; /* never: points and indices are small */
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(pmb_kernel_rand(&seed) % i);
		memcpy(tmp, b + (i - 1) * size, size);
		memcpy(b + (i - 1) * size, b + j * size, size);
		memcpy(b + j * size, tmp, size);
	}
}

int pmb_plan_core_for(const struct pmb_options *opt, const struct pmb_topology_info *topo,
		      int thread)
{
	return opt->ncores ? opt->cores[thread] : topo->core_os_index[thread];
}

void pmb_plan_free(struct pmb_plan *plan)
{
	free(plan->points);
	plan->points = NULL;
	plan->npoints = 0;
}
