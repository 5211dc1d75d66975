/* empty.c — a kernel that does nothing, so the harness can measure (and
 * subtract, or at least report) its own per-run overhead: the call through
 * the descriptor, the counter start/stop and the timer reads. */
#include "pmb_kernel.h"

/* Any fixed value works; this one is "pmbempty" in ASCII so it is
 * recognisable in a dump. */
#define EMPTY_RESULT 0x706d62656d707479ULL

static int empty_noop_setup(struct pmb_kernel_ctx *ctx)
{
	ctx->state = NULL;
	return 0;
}

static void empty_noop_run(struct pmb_kernel_ctx *ctx)
{
	uint64_t result = EMPTY_RESULT;
	/* Makes the store a real one the compiler cannot fold into the caller's
	 * surrounding code. */
	pmb_do_not_optimize(result);
	ctx->result = result;
}

static int empty_noop_check(const struct pmb_kernel_ctx *ctx)
{
	return ctx->result == EMPTY_RESULT ? 0 : -1;
}

static void empty_noop_teardown(struct pmb_kernel_ctx *ctx)
{
	ctx->state = NULL;
}

const struct pmb_kernel pmb_family_empty[] = {
	{
		.family = "empty", .variant = "noop",
		.description = "no work per element: measures the harness's fixed per-run overhead",
		.bytes_per_elem = sizeof(uint64_t),
		.signature = "0 per elem (all counts are fixed per-run harness overhead, falling as 1/n); 0 allocs",
		.setup = empty_noop_setup, .run = empty_noop_run,
		.check = empty_noop_check, .teardown = empty_noop_teardown,
	},
	{0},
};
