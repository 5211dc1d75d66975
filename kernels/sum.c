/* sum.c — sum of n int64: the seed's "iterator vs index loop" comparison,
 * plus what a bounds-checked language pays and what ILP buys.
 *
 * All variants read the same seeded array and must produce the same sum.
 * Sums are accumulated as uint64_t so overflow wraps (defined) instead of
 * being signed-overflow UB the optimizer could exploit. */
#include "pmb_kernel.h"

#include <stdlib.h>

static void sum_index_run(struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	const int64_t *data = st->data;
	size_t n = ctx->n;
	/* The memory clobber forbids hoisting the loads out of the harness's
	 * repetition loop: the data "may have changed" between runs. */
	pmb_do_not_optimize(data);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; ++i)
		sum += (uint64_t)data[i];
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

static void sum_pointer_run(struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	const int64_t *data = st->data;
	pmb_do_not_optimize(data);
	const int64_t *end = data + ctx->n;
	uint64_t sum = 0;
	for (const int64_t *p = data; p < end; ++p)
		sum += (uint64_t)*p;
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

/* Kept out of line and cold so the hot loop carries only the compare and a
 * never-taken branch, as a Rust panic_bounds_check call does. */
static void __attribute__((noreturn, cold, noinline)) sum_index_out_of_bounds(void)
{
	abort();
}

static void sum_index_checked_run(struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	const int64_t *data = st->data;
	size_t len = st->len;
	size_t n = ctx->n;
	pmb_do_not_optimize(data);
	/* "+r" makes len an output of the asm: whatever the compiler knew about
	 * it (e.g. len == n after inlining setup) is forgotten, so the check
	 * below stays a real per-access compare-and-branch. */
	__asm__ volatile("" : "+r"(len));
	uint64_t sum = 0;
	for (size_t i = 0; i < n; ++i) {
		if (__builtin_expect(i >= len, 0))
			sum_index_out_of_bounds();
		sum += (uint64_t)data[i];
	}
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

static void sum_unroll4_run(struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	const int64_t *data = st->data;
	size_t n = ctx->n;
	pmb_do_not_optimize(data);
	/* Four independent dependency chains: the add latency no longer bounds
	 * throughput when the data sits in L1 (without -O3 vectorization). */
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		s0 += (uint64_t)data[i];
		s1 += (uint64_t)data[i + 1];
		s2 += (uint64_t)data[i + 2];
		s3 += (uint64_t)data[i + 3];
	}
	for (; i < n; ++i)
		s0 += (uint64_t)data[i];
	uint64_t sum = (s0 + s1) + (s2 + s3);
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

#define SUM_VARIANT(name, desc, sig)                                        \
	{                                                                   \
		.family = "sum", .variant = #name, .description = desc,     \
		.bytes_per_elem = sizeof(int64_t), .signature = sig,        \
		.traffic_bytes = sizeof(int64_t), /* reads the array once */        \
		.setup = pmb_int64_array_setup, .run = sum_##name##_run,   \
		.check = pmb_int64_array_check,                             \
		.teardown = pmb_int64_array_teardown,                       \
	}

const struct pmb_kernel pmb_family_sum[] = {
	SUM_VARIANT(index, "sum of int64 array, a[i] index loop",
		    "~1/8 L1D miss/elem beyond L1 (64-byte lines), ~0 within L1 after warm-up; 0 allocs; ~0 mispredicts/elem"),
	SUM_VARIANT(pointer, "sum of int64 array, pointer loop (C's iterator)",
		    "same as index: ~1/8 L1D miss/elem beyond L1, ~0 within L1; 0 allocs; ~0 mispredicts/elem"),
	SUM_VARIANT(index_checked, "sum of int64 array, index loop with a per-access bounds check against a separate length",
		    "misses as index; +1 cmp and +1 never-taken branch/elem (no vectorization); 0 allocs; ~0 mispredicts/elem"),
	SUM_VARIANT(unroll4, "sum of int64 array, 4 independent accumulators",
		    "misses as index; ~1/4 loop branches/elem, higher IPC within L1; 0 allocs; ~0 mispredicts/elem"),
	{0},
};
