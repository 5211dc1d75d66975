/* branch.c — branch prediction: sum the elements >= 128 of values uniform in
 * [0, 256), with a real conditional branch or with arithmetic masking, on
 * the data in seeded random order or sorted ascending (the same multiset, so
 * all four variants produce the same sum).
 *
 * The branchy loop puts an empty volatile asm in the taken path: GCC and
 * clang may neither if-convert (cmov) nor vectorize a block with a volatile
 * asm in it, so the data-dependent jcc survives -O3.
 *
 * objdump -dr of branch.o (gcc 12.2 / clang 14, x86-64; the -O3 host has
 * AVX-512), loop bodies only:
 *   gcc -O2        branchy:    cmp $0x7f; jle (skips the add) + loop jne
 *                              -> 2 jcc/elem, 1 of them data-dependent.
 *                  branchless: cmp; setg; neg; and; add + loop jne: no
 *                              data-dependent jcc.
 *   gcc -O3 -march=native
 *                  branchy:    identical scalar cmp/jle + jne (not vectorized).
 *                  branchless: vectorized, 8 elems/iter (vpcmpnleq into a
 *                              mask, masked vmovdqa64, vpaddq) + loop jne;
 *                              the tail's jcc compare indices, not data.
 *   clang -O2      branchy:    data-dependent jl kept; branchless: unrolled x4
 *                              with cmovle, only the loop jne.
 *   clang -O3 -march=native
 *                  branchy:    jl kept; branchless: vpcmpgtq x4 per iter.
 * So "branchless has none" means no jcc on the data: the loop-closing branch
 * (perfectly predicted) remains in every variant.
 * Re-check with: objdump -d --no-show-raw-insn branch.o after a compiler
 * upgrade; the signatures depend on it. */
#include "pmb_kernel.h"

#include <stdlib.h>

#define BRANCH_THRESHOLD 128
#define BRANCH_VALUE_RANGE 256

/* Values lie in [0, 256): a counting sort is O(n) where qsort took seconds
 * at 2^24 elements, and setup time is paid at every point of a sweep. */
static void branch_counting_sort(int64_t *data, size_t n)
{
	size_t count[BRANCH_VALUE_RANGE] = {0};
	for (size_t i = 0; i < n; ++i)
		count[data[i]]++;
	size_t k = 0;
	for (int64_t v = 0; v < BRANCH_VALUE_RANGE; ++v)
		for (size_t c = 0; c < count[v]; ++c)
			data[k++] = v;
}

/* The seeded int64 array of sum and stack_heap (pmb_kernel_int64.c), its
 * values folded into [0, 256): the same generator draws, so the data
 * depend on the seed alone. */
static int branch_setup(struct pmb_kernel_ctx *ctx, int sorted)
{
	if (pmb_int64_array_setup(ctx) != 0)
		return -1;
	struct pmb_int64_array *st = ctx->state;
	uint64_t expected = 0;
	for (size_t i = 0; i < ctx->n; ++i) {
		int64_t v = (int64_t)((uint64_t)st->data[i] % BRANCH_VALUE_RANGE);
		st->data[i] = v;
		if (v >= BRANCH_THRESHOLD)
			expected += (uint64_t)v;
	}
	/* Sorting keeps the multiset, so the expected sum is order-free. */
	if (sorted)
		branch_counting_sort(st->data, ctx->n);
	st->expected = expected;
	return 0;
}

static int branch_random_setup(struct pmb_kernel_ctx *ctx)
{
	return branch_setup(ctx, 0);
}

static int branch_sorted_setup(struct pmb_kernel_ctx *ctx)
{
	return branch_setup(ctx, 1);
}

static void branch_branchy_run(struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	const int64_t *data = st->data;
	size_t n = ctx->n;
	pmb_do_not_optimize(data);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; ++i) {
		int64_t v = data[i];
		if (v >= BRANCH_THRESHOLD) {
			__asm__ volatile("");
			sum += (uint64_t)v;
		}
	}
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

static void branch_branchless_run(struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	const int64_t *data = st->data;
	size_t n = ctx->n;
	pmb_do_not_optimize(data);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; ++i) {
		int64_t v = data[i];
		sum += (uint64_t)(v & -(int64_t)(v >= BRANCH_THRESHOLD));
	}
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

#define BRANCH_VARIANT(order, kind, desc, sig)                                  \
	{                                                                       \
		.family = "branch", .variant = #order "_" #kind,                \
		.description = desc, .bytes_per_elem = sizeof(int64_t),         \
		.traffic_bytes = sizeof(int64_t), /* reads each value once */         \
		.signature = sig, .setup = branch_##order##_setup,              \
		.run = branch_##kind##_run, .check = pmb_int64_array_check,       \
		.teardown = pmb_int64_array_teardown,                           \
	}

const struct pmb_kernel pmb_family_branch[] = {
	BRANCH_VARIANT(sorted, branchy, "sum of values >= 128 with a conditional branch, data sorted",
		       "~0 mispredicts/elem (one switch over the run); ~2 branches/elem; 0 allocs; ~1/8 L1D miss/elem beyond L1"),
	BRANCH_VARIANT(random, branchy, "sum of values >= 128 with a conditional branch, data in random order",
		       "~0.5 mispredicts/elem; ~2 branches/elem; 0 allocs; ~1/8 L1D miss/elem beyond L1"),
	BRANCH_VARIANT(sorted, branchless, "sum of values >= 128 by arithmetic masking, data sorted",
		       "~0 mispredicts/elem; <=1 branch/elem (loop only, fewer if vectorized); 0 allocs; ~1/8 L1D miss/elem beyond L1"),
	BRANCH_VARIANT(random, branchless, "sum of values >= 128 by arithmetic masking, data in random order",
		       "~0 mispredicts/elem (same as sorted_branchless); <=1 branch/elem; 0 allocs; ~1/8 L1D miss/elem beyond L1"),
	{0},
};
