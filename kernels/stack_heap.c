/* stack_heap.c — the seed's "arrays instead of vectors for fixed sizes":
 * the same 16-element scratch buffer taken from the stack or from malloc.
 *
 * Both variants copy each chunk of 16 int64 into the buffer, then sum the
 * buffer; the tail (n % 16) is a shorter chunk handled by the same code, and
 * the heap variant still allocates a full 16-element buffer for it.
 *
 * Allocations per run: stack 0; heap ceil(n / 16) allocs and as many frees. */
#include "pmb_kernel.h"

#include <stdlib.h>
#include <string.h>

#define STACK_HEAP_CHUNK 16

/* Shared by both variants so they differ only in where buf comes from.
 * Passing buf through the barrier after the copy makes the copy observable:
 * otherwise the compiler may sum straight from the source and delete the
 * buffer (and, for the stack, the whole point of the variant). */
static inline uint64_t stack_heap_copy_and_sum(int64_t *buf, const int64_t *src, size_t count)
{
	memcpy(buf, src, count * sizeof(*buf));
	pmb_do_not_optimize(buf);
	uint64_t sum = 0;
	for (size_t i = 0; i < count; ++i)
		sum += (uint64_t)buf[i];
	return sum;
}

static void stack_heap_stack_run(struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	const int64_t *data = st->data;
	size_t n = ctx->n;
	pmb_do_not_optimize(data);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i += STACK_HEAP_CHUNK) {
		int64_t buf[STACK_HEAP_CHUNK];
		size_t count = n - i < STACK_HEAP_CHUNK ? n - i : STACK_HEAP_CHUNK;
		sum += stack_heap_copy_and_sum(buf, data + i, count);
	}
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

static void stack_heap_heap_run(struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	const int64_t *data = st->data;
	size_t n = ctx->n;
	pmb_do_not_optimize(data);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i += STACK_HEAP_CHUNK) {
		int64_t *buf = malloc(STACK_HEAP_CHUNK * sizeof(*buf));
		if (!buf) {
			/* run() has no error channel: store what check() rejects. */
			ctx->result = ~st->expected;
			return;
		}
		size_t count = n - i < STACK_HEAP_CHUNK ? n - i : STACK_HEAP_CHUNK;
		sum += stack_heap_copy_and_sum(buf, data + i, count);
		free(buf);
	}
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

const struct pmb_kernel pmb_family_stack_heap[] = {
	{
		.family = "stack_heap", .variant = "stack",
		.description = "copy each 16-int64 chunk into a stack array, sum it",
		.bytes_per_elem = sizeof(int64_t),
		.traffic_bytes = sizeof(int64_t), /* the source; the chunk buffer stays in L1 */
		.signature = "0 allocs; ~1/8 L1D miss/elem beyond L1 (source), buffer stays in L1; ~0 mispredicts/elem",
		.setup = pmb_int64_array_setup, .run = stack_heap_stack_run,
		.check = pmb_int64_array_check, .teardown = pmb_int64_array_teardown,
	},
	{
		.family = "stack_heap", .variant = "heap",
		.description = "malloc a 16-int64 buffer per chunk, copy the chunk in, sum it, free it",
		.bytes_per_elem = sizeof(int64_t),
		.traffic_bytes = sizeof(int64_t), /* the source; the chunk buffer stays in L1 */
		.signature = "1/16 malloc + 1/16 free per elem (ceil(n/16)/run); misses as stack; extra instructions from the allocator",
		.setup = pmb_int64_array_setup, .run = stack_heap_heap_run,
		.check = pmb_int64_array_check, .teardown = pmb_int64_array_teardown,
	},
	{0},
};
