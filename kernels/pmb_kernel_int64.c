/* pmb_kernel_int64.c — the seeded int64 array shared by the sum and
 * stack_heap families (declared in pmb_kernel.h). */
#include "pmb_kernel.h"

#include <stdlib.h>

int pmb_int64_array_setup(struct pmb_kernel_ctx *ctx)
{
	struct pmb_int64_array *st = malloc(sizeof(*st));
	if (!st)
		return -1;
	void *mem = NULL;
	if (posix_memalign(&mem, 64, ctx->n * sizeof(int64_t)) != 0) {
		free(st);
		return -1;
	}
	st->data = mem;
	st->len = ctx->n;
	uint64_t rng = ctx->seed;
	uint64_t expected = 0;
	for (size_t i = 0; i < ctx->n; ++i) {
		/* Full 64-bit values: a wrong element or a skipped one shows;
		 * unsigned sum: overflow wraps instead of being UB. */
		st->data[i] = (int64_t)pmb_kernel_rand(&rng);
		expected += (uint64_t)st->data[i];
	}
	st->expected = expected;
	ctx->state = st;
	return 0;
}

void pmb_int64_array_teardown(struct pmb_kernel_ctx *ctx)
{
	struct pmb_int64_array *st = ctx->state;
	if (st) {
		free(st->data);
		free(st);
	}
	ctx->state = NULL;
}

int pmb_int64_array_check(const struct pmb_kernel_ctx *ctx)
{
	const struct pmb_int64_array *st = ctx->state;
	return ctx->result == st->expected ? 0 : -1;
}
