/* copy.c — the seed's "Clone Less, Borrow More": total length of n strings,
 * either through the originals or through a deep copy made for the purpose
 * (Vec<String>::clone then len).
 *
 * Strings are 8..40 chars (seeded), all in one block built in setup, plus an
 * array of n pointers into it.
 *
 * Allocations per run: borrow 0; deep_copy n + 1 allocs and n + 1 frees
 * (the pointer array + one block per string).
 *
 * bytes_per_elem = 33: the average string is 24 chars + NUL = 25 bytes
 * (lengths uniform in 8..40), plus its 8-byte pointer.  That is the input
 * working set; deep_copy also writes as much again (in ~32..48-byte malloc
 * chunks) and reads it back. */
#include "pmb_kernel.h"

#include <stdlib.h>
#include <string.h>

#define COPY_MIN_LEN 8
#define COPY_MAX_LEN 40

struct copy_state {
	char *block;
	char **strings;
	uint64_t expected; /* total length, excluding NULs */
};

static int copy_setup(struct pmb_kernel_ctx *ctx)
{
	size_t n = ctx->n;
	struct copy_state *st = malloc(sizeof(*st));
	if (!st)
		return -1;
	/* Lengths come first so the block is sized exactly, then the bytes. */
	st->strings = malloc((n ? n : 1) * sizeof(*st->strings));
	if (!st->strings) {
		free(st);
		return -1;
	}
	uint64_t rng = ctx->seed;
	size_t total = 0;
	for (size_t i = 0; i < n; ++i) {
		size_t len = COPY_MIN_LEN + (size_t)(pmb_kernel_rand(&rng) % (COPY_MAX_LEN - COPY_MIN_LEN + 1));
		/* Park the length in the pointer slot until the block exists. */
		st->strings[i] = (char *)(uintptr_t)len;
		total += len;
	}
	st->block = malloc(total + n + 1);
	if (!st->block) {
		free(st->strings);
		free(st);
		return -1;
	}
	char *cursor = st->block;
	for (size_t i = 0; i < n; ++i) {
		size_t len = (size_t)(uintptr_t)st->strings[i];
		st->strings[i] = cursor;
		/* One PRNG call per 8 letters keeps setup fast at 128 MiB. */
		uint64_t bits = 0;
		for (size_t c = 0; c < len; ++c) {
			if (c % 8 == 0)
				bits = pmb_kernel_rand(&rng);
			cursor[c] = (char)('a' + (bits & 0xff) % 26);
			bits >>= 8;
		}
		cursor[len] = '\0';
		cursor += len + 1;
	}
	st->expected = total;
	ctx->state = st;
	return 0;
}

static void copy_teardown(struct pmb_kernel_ctx *ctx)
{
	struct copy_state *st = ctx->state;
	if (st) {
		free(st->block);
		free(st->strings);
		free(st);
	}
	ctx->state = NULL;
}

static int copy_check(const struct pmb_kernel_ctx *ctx)
{
	const struct copy_state *st = ctx->state;
	return ctx->result == st->expected ? 0 : -1;
}

static void copy_free_all(char **copy, size_t count)
{
	for (size_t i = 0; i < count; ++i)
		free(copy[i]);
	free(copy);
}

static void copy_deep_copy_run(struct pmb_kernel_ctx *ctx)
{
	const struct copy_state *st = ctx->state;
	char *const *strings = st->strings;
	size_t n = ctx->n;
	pmb_do_not_optimize(strings);
	char **copy = malloc(n * sizeof(*copy));
	size_t copied = 0;
	if (!copy)
		goto oom;
	for (; copied < n; ++copied) {
		size_t size = strlen(strings[copied]) + 1;
		char *s = malloc(size);
		if (!s)
			goto oom;
		memcpy(s, strings[copied], size);
		copy[copied] = s;
	}
	/* The copy escapes here, so the lengths below must be read back from
	 * it rather than reused from the copying loop. */
	pmb_do_not_optimize(copy);
	uint64_t total = 0;
	for (size_t i = 0; i < n; ++i)
		total += strlen(copy[i]);
	pmb_do_not_optimize(total);
	ctx->result = total;
	copy_free_all(copy, n);
	return;
oom:
	if (copy)
		copy_free_all(copy, copied);
	/* run() has no error channel: store what check() rejects. */
	ctx->result = ~st->expected;
}

static void copy_borrow_run(struct pmb_kernel_ctx *ctx)
{
	const struct copy_state *st = ctx->state;
	char *const *strings = st->strings;
	size_t n = ctx->n;
	pmb_do_not_optimize(strings);
	uint64_t total = 0;
	for (size_t i = 0; i < n; ++i)
		total += strlen(strings[i]);
	pmb_do_not_optimize(total);
	ctx->result = total;
}

const struct pmb_kernel pmb_family_copy[] = {
	{
		.family = "copy", .variant = "deep_copy",
		/* reads the input (33), writes the copy and reads it back */
		.traffic_bytes = 3 * 33,
		.description = "deep-copy n strings (pointer array + each string), sum strlen of the copy, free it",
		.bytes_per_elem = 33,
		.signature = "1 malloc + 1 free/elem (+1 each/run); ~2x the bytes of borrow touched; allocator-bound",
		.setup = copy_setup, .run = copy_deep_copy_run,
		.check = copy_check, .teardown = copy_teardown,
	},
	{
		.family = "copy", .variant = "borrow",
		.traffic_bytes = 33, /* reads each pointer and its string */
		.description = "sum strlen of n strings through the original pointers",
		.bytes_per_elem = 33,
		.signature = "0 allocs; ~33/64 L1D miss/elem beyond L1 (sequential); ~1 strlen-exit mispredict/elem at most",
		.setup = copy_setup, .run = copy_borrow_run,
		.check = copy_check, .teardown = copy_teardown,
	},
	{0},
};
