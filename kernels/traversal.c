/* traversal.c — the seed's "Box-linked list vs contiguous Vec": the same
 * 16-byte nodes and payload walked three ways, so only the access pattern
 * differs.
 *
 * Nodes live in one block in every variant: the working set is exactly
 * n * 16 bytes and setup stays fast at 128 MiB.  That also isolates the
 * effect of the *order* of the walk from malloc's placement: list_ordered is
 * a linked list as a fresh bump allocator would lay it out, list_shuffled is
 * one that has been churned until neighbours are unrelated. */
#include "pmb_kernel.h"

#include <stdlib.h>

struct node {
	int64_t value;
	struct node *next;
};

_Static_assert(sizeof(struct node) == 16, "bytes_per_elem assumes 16-byte nodes");

struct traversal_state {
	struct node *nodes;
	struct node *head;
	uint64_t expected;
};

enum traversal_layout { TRAVERSAL_ARRAY, TRAVERSAL_ORDERED, TRAVERSAL_SHUFFLED };

/* The permutation gets its own stream so the payload is identical in every
 * variant whatever the layout. */
#define TRAVERSAL_SHUFFLE_STREAM 0x53485546464c45ULL

static int traversal_link_shuffled(struct traversal_state *st, size_t n, uint64_t seed)
{
	size_t *order = malloc(n * sizeof(*order));
	if (!order)
		return -1;
	for (size_t i = 0; i < n; ++i)
		order[i] = i;
	uint64_t rng = seed ^ TRAVERSAL_SHUFFLE_STREAM;
	for (size_t i = n - 1; i > 0; --i) {
		/* Modulo bias is < n / 2^64: irrelevant for a cache benchmark. */
		size_t j = (size_t)(pmb_kernel_rand(&rng) % (i + 1));
		size_t tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	/* Linking along the shuffled order gives a single chain through every
	 * node (no short cycles that would fit in cache). */
	for (size_t i = 0; i + 1 < n; ++i)
		st->nodes[order[i]].next = &st->nodes[order[i + 1]];
	st->nodes[order[n - 1]].next = NULL;
	st->head = &st->nodes[order[0]];
	free(order);
	return 0;
}

static int traversal_setup(struct pmb_kernel_ctx *ctx, enum traversal_layout layout)
{
	size_t n = ctx->n;
	struct traversal_state *st = malloc(sizeof(*st));
	if (!st)
		return -1;
	void *mem = NULL;
	/* n == 0 still gets a (one-node) block so every pointer below is valid. */
	if (posix_memalign(&mem, 64, (n ? n : 1) * sizeof(struct node)) != 0) {
		free(st);
		return -1;
	}
	st->nodes = mem;
	uint64_t rng = ctx->seed;
	uint64_t expected = 0;
	for (size_t i = 0; i < n; ++i) {
		st->nodes[i].value = (int64_t)pmb_kernel_rand(&rng);
		st->nodes[i].next = i + 1 < n ? &st->nodes[i + 1] : NULL;
		expected += (uint64_t)st->nodes[i].value;
	}
	st->head = n ? &st->nodes[0] : NULL;
	st->expected = expected;
	if (layout == TRAVERSAL_SHUFFLED && n > 0 && traversal_link_shuffled(st, n, ctx->seed) != 0) {
		free(st->nodes);
		free(st);
		return -1;
	}
	ctx->state = st;
	return 0;
}

static int traversal_array_setup(struct pmb_kernel_ctx *ctx)
{
	return traversal_setup(ctx, TRAVERSAL_ARRAY);
}

static int traversal_list_ordered_setup(struct pmb_kernel_ctx *ctx)
{
	return traversal_setup(ctx, TRAVERSAL_ORDERED);
}

static int traversal_list_shuffled_setup(struct pmb_kernel_ctx *ctx)
{
	return traversal_setup(ctx, TRAVERSAL_SHUFFLED);
}

static void traversal_teardown(struct pmb_kernel_ctx *ctx)
{
	struct traversal_state *st = ctx->state;
	if (st) {
		free(st->nodes);
		free(st);
	}
	ctx->state = NULL;
}

static int traversal_check(const struct pmb_kernel_ctx *ctx)
{
	const struct traversal_state *st = ctx->state;
	return ctx->result == st->expected ? 0 : -1;
}

static void traversal_array_run(struct pmb_kernel_ctx *ctx)
{
	const struct traversal_state *st = ctx->state;
	const struct node *nodes = st->nodes;
	size_t n = ctx->n;
	pmb_do_not_optimize(nodes);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; ++i)
		sum += (uint64_t)nodes[i].value;
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

/* Both list variants share this walk: each load address depends on the
 * previous load, so latency, not bandwidth, bounds it once the chain leaves
 * the cache and the prefetcher cannot follow a shuffled one. */
static void traversal_list_run(struct pmb_kernel_ctx *ctx)
{
	const struct traversal_state *st = ctx->state;
	const struct node *p = st->head;
	pmb_do_not_optimize(p);
	uint64_t sum = 0;
	for (; p; p = p->next)
		sum += (uint64_t)p->value;
	pmb_do_not_optimize(sum);
	ctx->result = sum;
}

const struct pmb_kernel pmb_family_traversal[] = {
	{
		.family = "traversal", .variant = "array",
		.description = "sum 16-byte nodes walked by index (contiguous, next ignored)",
		.bytes_per_elem = sizeof(struct node),
		.traffic_bytes = sizeof(struct node), /* whole nodes come in with their lines */
		.signature = "~1/4 L1D miss/node beyond L1 (4 nodes/line), prefetcher-friendly; 0 allocs; ~0 mispredicts/node",
		.setup = traversal_array_setup, .run = traversal_array_run,
		.check = traversal_check, .teardown = traversal_teardown,
	},
	{
		.family = "traversal", .variant = "list_ordered",
		.description = "sum 16-byte nodes along next pointers laid out in address order",
		.bytes_per_elem = sizeof(struct node),
		.traffic_bytes = sizeof(struct node), /* whole nodes come in with their lines */
		.signature = "~1/4 L1D miss/node beyond L1 (sequential, prefetchable) but a load-latency chain; 0 allocs; ~0 mispredicts/node",
		.setup = traversal_list_ordered_setup, .run = traversal_list_run,
		.check = traversal_check, .teardown = traversal_teardown,
	},
	{
		.family = "traversal", .variant = "list_shuffled",
		.description = "sum 16-byte nodes along next pointers in a seeded random single-cycle order",
		.bytes_per_elem = sizeof(struct node),
		.traffic_bytes = sizeof(struct node), /* whole nodes come in with their lines */
		.signature = "~1 LLC miss/node beyond the LLC; ~1 L1D miss/node beyond L1; ~1 dTLB miss/node beyond TLB reach; 0 allocs",
		.setup = traversal_list_shuffled_setup, .run = traversal_list_run,
		.check = traversal_check, .teardown = traversal_teardown,
	},
	{0},
};
