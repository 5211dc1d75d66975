/* dot.c — an out-of-tree kernel family for pmubench: the dot product of two
 * int64 arrays, plain and with two accumulators.  It includes only
 * pmb_kernel.h (installed by `make install`, found with pkg-config) and is
 * loaded with `pmubench --kernel-lib ./libpmb_dot.so`. */
#include <pmb_kernel.h>

#include <stdlib.h>

struct dot_state {
	int64_t *a, *b;
	uint64_t expected;
};

static int dot_setup(struct pmb_kernel_ctx *ctx)
{
	struct dot_state *st = calloc(1, sizeof *st);
	if (!st)
		return -1;
	st->a = malloc(ctx->n * sizeof *st->a);
	st->b = malloc(ctx->n * sizeof *st->b);
	if (!st->a || !st->b) {
		free(st->a);
		free(st->b);
		free(st);
		return -1;
	}
	uint64_t rng = ctx->seed;
	for (size_t i = 0; i < ctx->n; i++) {
		st->a[i] = (int64_t)(pmb_kernel_rand(&rng) & 0xffff);
		st->b[i] = (int64_t)(pmb_kernel_rand(&rng) & 0xffff);
		/* The expected value, computed apart from run(), as STREAM does. */
		st->expected += (uint64_t)(st->a[i] * st->b[i]);
	}
	ctx->state = st;
	return 0;
}

static void dot_plain_run(struct pmb_kernel_ctx *ctx)
{
	const struct dot_state *st = ctx->state;
	const int64_t *a = st->a, *b = st->b;
	pmb_do_not_optimize(a);
	pmb_do_not_optimize(b);
	uint64_t sum = 0;
	for (size_t i = 0; i < ctx->n; i++)
		sum += (uint64_t)(a[i] * b[i]);
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

static void dot_unroll2_run(struct pmb_kernel_ctx *ctx)
{
	const struct dot_state *st = ctx->state;
	const int64_t *a = st->a, *b = st->b;
	pmb_do_not_optimize(a);
	pmb_do_not_optimize(b);
	uint64_t s0 = 0, s1 = 0;
	size_t i = 0;
	for (; i + 2 <= ctx->n; i += 2) {
		s0 += (uint64_t)(a[i] * b[i]);
		s1 += (uint64_t)(a[i + 1] * b[i + 1]);
	}
	for (; i < ctx->n; i++)
		s0 += (uint64_t)(a[i] * b[i]);
	uint64_t sum = s0 + s1;
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

static int dot_check(const struct pmb_kernel_ctx *ctx)
{
	const struct dot_state *st = ctx->state;
	return ctx->result == st->expected ? 0 : -1;
}

static void dot_teardown(struct pmb_kernel_ctx *ctx)
{
	struct dot_state *st = ctx->state;
	if (st) {
		free(st->a);
		free(st->b);
		free(st);
	}
	ctx->state = NULL;
}

/* Two int64 per element: 16 bytes of working set, 16 bytes read per pass. */
static const struct pmb_kernel dot_family[] = {
	{.family = "dot", .variant = "plain", .description = "dot product of two int64 arrays",
	 .bytes_per_elem = 16, .traffic_bytes = 16,
	 .signature = "~1/4 L1D miss/elem beyond L1 (two streams); 0 allocs",
	 .setup = dot_setup, .run = dot_plain_run, .check = dot_check, .teardown = dot_teardown},
	{.family = "dot", .variant = "unroll2", .description = "dot product, two accumulators",
	 .bytes_per_elem = 16, .traffic_bytes = 16,
	 .signature = "misses as plain; ~1/2 loop branches/elem; 0 allocs",
	 .setup = dot_setup, .run = dot_unroll2_run, .check = dot_check, .teardown = dot_teardown},
	{0},
};

PMB_PLUGIN_KERNELS(dot_family);
