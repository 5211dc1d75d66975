/* alloc.c — the seed's "Avoid Allocations in Hot Loops" example,
 * `format!("processed: {}", s)` over n items, in three allocation strategies.
 *
 * Every variant formats with the same routine (memcpy of the prefix, then of
 * the item) and checksums its results with the same loop, so the only thing
 * that differs is how memory is obtained.  Each run frees everything it
 * allocated, results included, before returning.
 *
 * Exact allocator calls per run (n >= 1), as counted by pmb_alloc_count:
 *   bad    allocs n + 1, reallocs ceil(log2 n), frees n + 1
 *          (n strings + the result array grown 0 -> 1 -> 2 -> 4 ... by
 *          realloc; the first realloc(NULL, ..) counts as an alloc.  Rust's
 *          Vec starts at capacity 4, i.e. 2 fewer reallocs for n > 4.)
 *   better allocs n + 1, reallocs 0, frees n + 1
 *          (n strings + the result array with capacity n)
 *   best   allocs 3, reallocs 0, frees 3
 *          (result pointer array + one arena for all result bytes + the
 *          scratch buffer each string is built in before being copied)
 *
 * bytes_per_elem = 24: each item is a 16-byte record ("item-" + 10 digits +
 * NUL, fixed width so the figure is exact at every n) plus its 8-byte
 * pointer.  That is the input working set; each run additionally writes
 * n results of 27 bytes (32-byte malloc chunks in bad/better) + n pointers. */
#include "pmb_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALLOC_PREFIX "processed: "
#define ALLOC_PREFIX_LEN (sizeof(ALLOC_PREFIX) - 1)
#define ALLOC_ITEM_DIGITS 10
#define ALLOC_ITEM_STRIDE 16 /* "item-" + 10 digits + NUL */

_Static_assert(sizeof("item-") - 1 + ALLOC_ITEM_DIGITS + 1 == ALLOC_ITEM_STRIDE,
	       "item record must fill its stride exactly");

struct alloc_state {
	char *item_block;         /* n fixed-width records */
	const char **items;       /* the &str slice the kernel consumes */
	size_t max_item_len;      /* sizes best's scratch buffer */
	size_t arena_bytes;       /* all results with their NULs: sizes best's arena */
	uint64_t expected;
};

static size_t alloc_format_processed(char *dst, const char *item, size_t item_len)
{
	memcpy(dst, ALLOC_PREFIX, ALLOC_PREFIX_LEN);
	memcpy(dst + ALLOC_PREFIX_LEN, item, item_len);
	dst[ALLOC_PREFIX_LEN + item_len] = '\0';
	return ALLOC_PREFIX_LEN + item_len;
}

/* Cheap but content-sensitive: reads the first and last 8 bytes of each
 * string (the prefix and the item's distinguishing digits) plus its length.
 * Results are always >= ALLOC_PREFIX_LEN (11) bytes, so both loads are in
 * bounds. */
static uint64_t alloc_hash_step(uint64_t h, const char *s, size_t len)
{
	const uint64_t prime = 0x100000001b3ULL;
	uint64_t head, tail;
	memcpy(&head, s, sizeof(head));
	memcpy(&tail, s + len - sizeof(tail), sizeof(tail));
	h = (h ^ head) * prime;
	h = (h ^ tail) * prime;
	return (h ^ len) * prime;
}

static uint64_t alloc_finish_hash(uint64_t h, uint64_t total_len)
{
	return h ^ (total_len * 0x9e3779b97f4a7c15ULL);
}

#define ALLOC_HASH_INIT 0xcbf29ce484222325ULL

static uint64_t alloc_checksum(char *const *results, size_t count)
{
	uint64_t h = ALLOC_HASH_INIT, total = 0;
	for (size_t i = 0; i < count; ++i) {
		size_t len = strlen(results[i]);
		h = alloc_hash_step(h, results[i], len);
		total += len;
	}
	return alloc_finish_hash(h, total);
}

static void alloc_free_strings(char **results, size_t count)
{
	for (size_t i = 0; i < count; ++i)
		free(results[i]);
}

static void alloc_write_item(char *dst, size_t index)
{
	memcpy(dst, "item-", 5);
	for (int d = ALLOC_ITEM_DIGITS - 1; d >= 0; --d) {
		dst[5 + d] = (char)('0' + index % 10);
		index /= 10;
	}
	dst[5 + ALLOC_ITEM_DIGITS] = '\0';
}

static int alloc_setup(struct pmb_kernel_ctx *ctx)
{
	size_t n = ctx->n;
	struct alloc_state *st = malloc(sizeof(*st));
	if (!st)
		return -1;
	st->item_block = malloc(n * ALLOC_ITEM_STRIDE + 1);
	st->items = malloc((n ? n : 1) * sizeof(*st->items));
	if (!st->item_block || !st->items) {
		free(st->item_block);
		free(st->items);
		free(st);
		return -1;
	}
	/* The seed only shifts the numbering: items stay distinct and
	 * fixed-width, and every variant sees the same ones. */
	size_t base = (size_t)(ctx->seed % 1000000000ULL);
	uint64_t h = ALLOC_HASH_INIT, total = 0;
	st->max_item_len = 0;
	st->arena_bytes = 0;
	for (size_t i = 0; i < n; ++i) {
		char *item = st->item_block + i * ALLOC_ITEM_STRIDE;
		alloc_write_item(item, base + i);
		st->items[i] = item;
		size_t item_len = strlen(item);
		if (item_len > st->max_item_len)
			st->max_item_len = item_len;
		st->arena_bytes += ALLOC_PREFIX_LEN + item_len + 1;
		/* Independent of the kernel's formatting routine. */
		char expect[64];
		int len = snprintf(expect, sizeof(expect), "processed: %s", item);
		h = alloc_hash_step(h, expect, (size_t)len);
		total += (uint64_t)len;
	}
	st->expected = alloc_finish_hash(h, total);
	ctx->state = st;
	return 0;
}

static void alloc_teardown(struct pmb_kernel_ctx *ctx)
{
	struct alloc_state *st = ctx->state;
	if (st) {
		free(st->item_block);
		free(st->items);
		free(st);
	}
	ctx->state = NULL;
}

static int alloc_check(const struct pmb_kernel_ctx *ctx)
{
	const struct alloc_state *st = ctx->state;
	return ctx->result == st->expected ? 0 : -1;
}

/* run() has no error channel: on out-of-memory it frees what it got and
 * stores a value check() is guaranteed to reject. */
static void alloc_report_oom(struct pmb_kernel_ctx *ctx)
{
	const struct alloc_state *st = ctx->state;
	ctx->result = ~st->expected;
}

static void alloc_bad_run(struct pmb_kernel_ctx *ctx)
{
	const struct alloc_state *st = ctx->state;
	const char *const *items = st->items;
	size_t n = ctx->n;
	pmb_do_not_optimize(items);
	char **results = NULL;
	size_t count = 0, capacity = 0;
	for (size_t i = 0; i < n; ++i) {
		size_t item_len = strlen(items[i]);
		char *s = malloc(ALLOC_PREFIX_LEN + item_len + 1);
		if (!s)
			goto oom;
		alloc_format_processed(s, items[i], item_len);
		if (count == capacity) {
			size_t grown = capacity ? capacity * 2 : 1;
			char **bigger = realloc(results, grown * sizeof(*results));
			if (!bigger) {
				free(s);
				goto oom;
			}
			results = bigger;
			capacity = grown;
		}
		results[count++] = s;
	}
	pmb_do_not_optimize(results);
	ctx->result = alloc_checksum(results, count);
	alloc_free_strings(results, count);
	free(results);
	return;
oom:
	alloc_free_strings(results, count);
	free(results);
	alloc_report_oom(ctx);
}

static void alloc_better_run(struct pmb_kernel_ctx *ctx)
{
	const struct alloc_state *st = ctx->state;
	const char *const *items = st->items;
	size_t n = ctx->n;
	pmb_do_not_optimize(items);
	char **results = malloc(n * sizeof(*results));
	size_t count = 0;
	if (!results)
		goto oom;
	for (size_t i = 0; i < n; ++i) {
		size_t item_len = strlen(items[i]);
		char *s = malloc(ALLOC_PREFIX_LEN + item_len + 1);
		if (!s)
			goto oom;
		alloc_format_processed(s, items[i], item_len);
		results[count++] = s;
	}
	pmb_do_not_optimize(results);
	ctx->result = alloc_checksum(results, count);
	alloc_free_strings(results, count);
	free(results);
	return;
oom:
	alloc_free_strings(results, count);
	free(results);
	alloc_report_oom(ctx);
}

static void alloc_best_run(struct pmb_kernel_ctx *ctx)
{
	const struct alloc_state *st = ctx->state;
	const char *const *items = st->items;
	size_t n = ctx->n;
	pmb_do_not_optimize(items);
	char **results = malloc(n * sizeof(*results));
	char *arena = malloc(st->arena_bytes);
	char *scratch = malloc(ALLOC_PREFIX_LEN + st->max_item_len + 1);
	if (!results || !arena || !scratch) {
		free(results);
		free(arena);
		free(scratch);
		alloc_report_oom(ctx);
		return;
	}
	char *cursor = arena;
	for (size_t i = 0; i < n; ++i) {
		size_t item_len = strlen(items[i]);
		size_t len = alloc_format_processed(scratch, items[i], item_len);
		memcpy(cursor, scratch, len + 1);
		results[i] = cursor;
		cursor += len + 1;
	}
	pmb_do_not_optimize(results);
	ctx->result = alloc_checksum(results, n);
	free(results);
	free(arena);
	free(scratch);
}

const struct pmb_kernel pmb_family_alloc[] = {
	{
		.family = "alloc", .variant = "bad",
		.description = "format \"processed: <item>\" into a malloc'd string each, pushed to an array grown by realloc x2 from empty",
		.bytes_per_elem = ALLOC_ITEM_STRIDE + sizeof(char *),
		.signature = "1 malloc + 1 free/elem, + 1 alloc and ceil(log2 n) reallocs/run; allocator-bound: high instructions/elem",
		.setup = alloc_setup, .run = alloc_bad_run,
		.check = alloc_check, .teardown = alloc_teardown,
	},
	{
		.family = "alloc", .variant = "better",
		.description = "format \"processed: <item>\" into a malloc'd string each, result array preallocated to n",
		.bytes_per_elem = ALLOC_ITEM_STRIDE + sizeof(char *),
		.signature = "1 malloc + 1 free/elem, + 1 alloc/run, 0 reallocs; allocator-bound",
		.setup = alloc_setup, .run = alloc_better_run,
		.check = alloc_check, .teardown = alloc_teardown,
	},
	{
		.family = "alloc", .variant = "best",
		.description = "format into one reused scratch buffer, copy results into one preallocated arena",
		.bytes_per_elem = ALLOC_ITEM_STRIDE + sizeof(char *),
		.signature = "~0 allocs/elem: exactly 3 allocs + 3 frees/run; memcpy-bound, ~27 result bytes written/elem",
		.setup = alloc_setup, .run = alloc_best_run,
		.check = alloc_check, .teardown = alloc_teardown,
	},
	{0},
};
