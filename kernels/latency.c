/* latency.c — load-to-use latency: one pointer per cache line, each load's
 * address the value of the previous load, so one pass costs n times the
 * latency of wherever the lines live (the classic pointer chase of lmbench's
 * lat_mem_rd and of Drepper's "What every programmer should know about
 * memory").
 *
 * One element = one load.  bytes_per_elem is 64 so sizes mean the same as
 * in every other family; the data is laid out per cache line of the
 * machine (ctx->line_size, from hwloc), and a pass makes exactly n loads
 * whatever the line size (with 128-byte lines a pass is two laps).
 *
 * The four variants differ only in the order of the cycle:
 *   chase        page-cyclic, as lat_mem_rd -t: every load in a new 4 KiB
 *                page, the pages in a fixed random cycle, the line within
 *                each page one further along a fixed order each time the
 *                page comes round (lmbench steps it with the page too, so
 *                that consecutive loads also hit different cache sets; so
 *                do we).  Every load misses the TLB once the pages exceed
 *                its reach: cache plus TLB latency.
 *   chase_lines  one random cycle over all lines: what a random linked
 *                structure sees (some loads share a page with recent ones).
 *   chase_huge   the same random cycle on transparent huge pages (madvise):
 *                the TLB share removed; the note says whether THP was had.
 *   stride       lines in address order: what the prefetcher hides.
 *
 * Each line holds its pointer and, in the next word, a seeded value of its
 * own (by address order, so the same in every variant).  The result is the
 * wrapping sum of the values of the lines visited: a load from the line
 * just reached and an add, both off the dependency chain (free on an
 * out-of-order core).  Setup walks the cycle once and computes it, so a
 * cycle with a lost or repeated line or a pass with a wrong number of
 * loads fails the check, and a pass of whole laps gives the same sum in
 * every variant. */
#define _GNU_SOURCE
#include "pmb_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LAT_PAGE 4096u
#define LAT_HUGE (2u << 20)
/* Own PRNG streams, so the data does not depend on other families. */
#define LAT_PAGES_STREAM 0x50414745ULL
#define LAT_LINES_STREAM 0x4c494e45ULL

enum lat_order { LAT_PAGE_CYCLIC, LAT_RANDOM, LAT_SEQUENTIAL };

struct lat_state {
	char *mem;          /* mapping (mmap) or block (posix_memalign) */
	size_t map_len;     /* > 0 when mem is an mmap */
	char *base;         /* first line: mem, or its first 2 MiB boundary */
	void **head;
	/* Where the next pass starts: where the last one stopped, so that
	 * passes form one dependency chain (as lat_mem_rd's do) and the core
	 * cannot overlap the end of one pass with the start of the next; at
	 * 4K a pass is only 64 loads.  Only when a pass is whole laps: then
	 * it ends where it started and its sum does not depend on the start. */
	void **cur;
	int carry;
	uint64_t expected;  /* sum of the offsets one pass visits */
};

static void lat_shuffle(size_t *v, size_t n, uint64_t seed)
{
	uint64_t rng = seed;
	for (size_t i = n; i > 1; --i) {
		size_t j = (size_t)(pmb_kernel_rand(&rng) % i); /* bias < n / 2^64 */
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

static size_t *lat_identity(size_t n)
{
	size_t *v = malloc((n ? n : 1) * sizeof *v);
	if (v)
		for (size_t i = 0; i < n; i++)
			v[i] = i;
	return v;
}

/* order[k] = index of the k-th line the cycle visits (line = mem + index *
 * line_size).  Page-cyclic needs at least two whole pages; a smaller or
 * ragged working set falls back to the random line cycle, as lat_mem_rd's
 * own does for sizes that are not whole pages. */
static size_t *lat_order(enum lat_order how, size_t lines, size_t line_size, uint64_t seed)
{
	size_t per_page = LAT_PAGE / line_size;
	if (how == LAT_PAGE_CYCLIC && (per_page == 0 || lines % per_page || lines / per_page < 2))
		how = LAT_RANDOM;
	size_t *order = lat_identity(lines);
	if (!order || how == LAT_SEQUENTIAL)
		return order;
	if (how == LAT_RANDOM) {
		lat_shuffle(order, lines, seed ^ LAT_LINES_STREAM);
		return order;
	}
	size_t npages = lines / per_page;
	size_t *pages = lat_identity(npages), *slots = lat_identity(per_page);
	if (!pages || !slots) {
		free(pages);
		free(slots);
		free(order);
		return NULL;
	}
	lat_shuffle(pages, npages, seed ^ LAT_PAGES_STREAM);
	lat_shuffle(slots, per_page, seed ^ LAT_LINES_STREAM);
	/* Visit k: page pages[k % P], slot slots[(k % P + k / P) % S].  For a
	 * fixed page (fixed k % P) the lap k / P runs through all S slots, so
	 * the map from k to (page, slot) is one-to-one: a single cycle. */
	for (size_t k = 0; k < lines; k++) {
		size_t pg = k % npages, lap = k / npages;
		order[k] = pages[pg] * per_page + slots[(pg + lap) % per_page];
	}
	free(pages);
	free(slots);
	return order;
}

/* Share of [p, p + len) backed by transparent huge pages, from the
 * AnonHugePages of the mapping in /proc/self/smaps; -1 if unreadable. */
static double lat_thp_share(const void *p, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	char line[512];
	int inside = 0;
	double share = -1;
	uintptr_t a = (uintptr_t)p;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, kb;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			inside = a >= lo && a < hi;
		} else if (inside && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
			share = (double)kb * 1024.0 / (double)len;
			break;
		}
	}
	fclose(f);
	return share > 1 ? 1 : share;
}

/* Memory for `bytes`: page-aligned, or a 2 MiB-aligned mapping with
 * MADV_HUGEPAGE (at least one huge page, so small sets get one too). */
static int lat_alloc(struct lat_state *st, size_t bytes, int huge, char *note, size_t note_len)
{
	if (!huge) {
		void *m = NULL;
		if (posix_memalign(&m, LAT_PAGE, bytes) != 0)
			return -1;
		st->mem = st->base = m;
		return 0;
	}
	size_t len = (bytes + LAT_HUGE - 1) / LAT_HUGE * LAT_HUGE;
	st->map_len = len + LAT_HUGE;
	char *m = mmap(NULL, st->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		st->map_len = 0;
		return -1;
	}
	st->mem = m;
	char *aligned = (char *)(((uintptr_t)m + LAT_HUGE - 1) & ~(uintptr_t)(LAT_HUGE - 1));
	int adv = madvise(aligned, len, MADV_HUGEPAGE);
	memset(aligned, 0, len); /* first touch faults the huge pages in */
	double share = lat_thp_share(aligned, len);
	if (share < 0)
		snprintf(note, note_len, "thp=unknown (no /proc/self/smaps)");
	else
		snprintf(note, note_len, "thp=%.0f%%%s", share * 100,
			 adv ? " (madvise refused)" : share < 1 ? " (partly granted)" : "");
	st->base = aligned;
	return 0;
}

static void lat_free(struct lat_state *st)
{
	if (st->map_len)
		munmap(st->mem, st->map_len);
	else
		free(st->mem);
}

static int lat_setup(struct pmb_kernel_ctx *ctx, enum lat_order how, int huge)
{
	size_t ls = ctx->line_size >= 2 * sizeof(void *) ? ctx->line_size : 64;
	size_t lines = ctx->n * 64 / ls;
	if (lines == 0)
		lines = 1;
	struct lat_state *st = calloc(1, sizeof *st);
	if (!st)
		return -1;
	if (lat_alloc(st, lines * ls, huge, ctx->note, sizeof ctx->note) != 0) {
		free(st);
		return -1;
	}
	char *base = st->base;
	size_t *order = lat_order(how, lines, ls, ctx->seed);
	if (!order) {
		lat_free(st);
		free(st);
		return -1;
	}
	uint64_t rng = ctx->seed;
	for (size_t i = 0; i < lines; i++)
		((uint64_t *)(base + i * ls))[1] = pmb_kernel_rand(&rng);
	for (size_t k = 0; k < lines; k++)
		*(void **)(base + order[k] * ls) = base + order[(k + 1) % lines] * ls;
	st->head = st->cur = (void **)(base + order[0] * ls);
	st->carry = ctx->n % lines == 0;
	free(order);
	/* The expected sum, by walking the cycle as run() will. */
	uint64_t sum = 0;
	void **p = st->head;
	for (size_t i = 0; i < ctx->n; i++) {
		p = (void **)*p;
		sum += (uint64_t)(uintptr_t)p[1];
	}
	st->expected = sum;
	ctx->state = st;
	return 0;
}

static int lat_chase_setup(struct pmb_kernel_ctx *ctx)
{
	return lat_setup(ctx, LAT_PAGE_CYCLIC, 0);
}

static int lat_chase_lines_setup(struct pmb_kernel_ctx *ctx)
{
	return lat_setup(ctx, LAT_RANDOM, 0);
}

static int lat_chase_huge_setup(struct pmb_kernel_ctx *ctx)
{
	return lat_setup(ctx, LAT_RANDOM, 1);
}

static int lat_stride_setup(struct pmb_kernel_ctx *ctx)
{
	return lat_setup(ctx, LAT_SEQUENTIAL, 0);
}

#define LAT_STEP                  \
	do {                      \
		p = (void **)*p;  \
		sum += (uint64_t)(uintptr_t)p[1]; \
	} while (0)

/* Unrolled by 8 so the loop's own compare and branch are few; they are off
 * the dependency chain anyway. */
static void lat_run(struct pmb_kernel_ctx *ctx)
{
	struct lat_state *st = ctx->state;
	void **p = st->carry ? st->cur : st->head;
	pmb_do_not_optimize(p);
	uint64_t sum = 0;
	size_t i = ctx->n;
	for (; i >= 8; i -= 8) {
		LAT_STEP; LAT_STEP; LAT_STEP; LAT_STEP;
		LAT_STEP; LAT_STEP; LAT_STEP; LAT_STEP;
	}
	for (; i > 0; i--)
		LAT_STEP;
	pmb_do_not_optimize(sum);
	st->cur = p;
	ctx->result = sum;
}

static int lat_check(const struct pmb_kernel_ctx *ctx)
{
	const struct lat_state *st = ctx->state;
	return ctx->result == st->expected ? 0 : -1;
}

static void lat_teardown(struct pmb_kernel_ctx *ctx)
{
	struct lat_state *st = ctx->state;
	if (st) {
		lat_free(st);
		free(st);
	}
	ctx->state = NULL;
}

#define LAT_VARIANT(name, setup_fn, desc, sig)                                      \
	{                                                                           \
		.family = "latency", .variant = name, .description = desc,          \
		.bytes_per_elem = 64, .signature = sig, .setup = setup_fn,          \
		.run = lat_run, .check = lat_check, .teardown = lat_teardown,       \
	}

const struct pmb_kernel pmb_family_latency[] = {
	LAT_VARIANT("chase", lat_chase_setup,
		    "pointer chase, one pointer per cache line, page-cyclic order as lmbench lat_mem_rd -t",
		    "1 load/elem; ~1 L1D miss/elem beyond L1, ~1 LLC miss/elem beyond the LLC, ~1 dTLB miss/elem beyond TLB reach; 0 allocs"),
	LAT_VARIANT("chase_lines", lat_chase_lines_setup,
		    "pointer chase, one pointer per cache line, one random cycle over all lines",
		    "1 load/elem; ~1 L1D miss/elem beyond L1, ~1 LLC miss/elem beyond the LLC; dTLB misses below 1/elem; 0 allocs"),
	LAT_VARIANT("chase_huge", lat_chase_huge_setup,
		    "pointer chase over a random line cycle on transparent huge pages (madvise); note says if THP was granted",
		    "1 load/elem; ~1 L1D miss/elem beyond L1, ~1 LLC miss/elem beyond the LLC; ~0 dTLB misses with THP; 0 allocs"),
	LAT_VARIANT("stride", lat_stride_setup,
		    "pointer chase over the lines in address order (the prefetcher hides the latency)",
		    "1 load/elem; 1 L1D miss/elem beyond L1 but prefetched; ~0 branch misses; 0 allocs"),
	{0},
};
