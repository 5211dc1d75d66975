/* test_kernels.c — contract tests for every kernel in pmb_kernel_families.
 *
 * Everything is driven by the table, so a new family is covered without
 * touching this file; the only per-kernel knowledge here is the exact
 * allocation count of each run, which is part of what a variant claims
 * (a variant missing from that list is only checked for balance).
 *
 * Must be linked with the counting allocator and
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,
 * --wrap=posix_memalign,--wrap=aligned_alloc,--wrap=strdup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmb_alloc_count.h"
#include "pmb_kernel.h"

/* Edge sizes: single element, below/at/above the 16-chunk and 4-unroll
 * boundaries, and a large odd prime so no tail is ever empty by luck. */
static const size_t test_sizes[] = {1, 7, 16, 17, 1000, 100003};
#define TEST_SIZE_COUNT (sizeof(test_sizes) / sizeof(test_sizes[0]))
#define TEST_SEED 0x70bdc0ffee5eedULL

struct alloc_expect {
	uint64_t allocs, reallocs, frees;
};

static unsigned ceil_log2(size_t n)
{
	unsigned bits = 0;
	while (((size_t)1 << bits) < n)
		++bits;
	return bits;
}

static struct alloc_expect expect_none(size_t n)
{
	(void)n;
	return (struct alloc_expect){0, 0, 0};
}

static struct alloc_expect expect_alloc_bad(size_t n)
{
	return (struct alloc_expect){n + 1, ceil_log2(n), n + 1};
}

static struct alloc_expect expect_per_elem_plus_one(size_t n)
{
	return (struct alloc_expect){n + 1, 0, n + 1};
}

static struct alloc_expect expect_alloc_best(size_t n)
{
	(void)n;
	return (struct alloc_expect){3, 0, 3};
}

static struct alloc_expect expect_per_chunk_of_16(size_t n)
{
	uint64_t chunks = (n + 15) / 16;
	return (struct alloc_expect){chunks, 0, chunks};
}

/* variant NULL = every variant of the family. */
static const struct {
	const char *family, *variant;
	struct alloc_expect (*per_run)(size_t n);
} alloc_expectations[] = {
	{"empty", NULL, expect_none},
	{"sum", NULL, expect_none},
	{"traversal", NULL, expect_none},
	{"branch", NULL, expect_none},
	{"stack_heap", "stack", expect_none},
	{"stack_heap", "heap", expect_per_chunk_of_16},
	{"copy", "borrow", expect_none},
	{"copy", "deep_copy", expect_per_elem_plus_one},
	{"alloc", "bad", expect_alloc_bad},
	{"alloc", "better", expect_per_elem_plus_one},
	{"alloc", "best", expect_alloc_best},
};

static struct alloc_expect (*find_alloc_expectation(const struct pmb_kernel *k))(size_t)
{
	for (size_t i = 0; i < sizeof(alloc_expectations) / sizeof(alloc_expectations[0]); ++i) {
		if (strcmp(alloc_expectations[i].family, k->family) != 0)
			continue;
		if (!alloc_expectations[i].variant || strcmp(alloc_expectations[i].variant, k->variant) == 0)
			return alloc_expectations[i].per_run;
	}
	return NULL;
}

/* cmocka reports only the line of a failed assert; these say which kernel
 * and which n. */
#define EXPECT_U64(k, n, what, got, want)                                                  \
	do {                                                                               \
		uint64_t got_ = (got), want_ = (want);                                     \
		if (got_ != want_)                                                         \
			fail_msg("%s/%s n=%zu: %s = %llu, expected %llu", (k)->family,     \
				 (k)->variant, (size_t)(n), (what), (unsigned long long)got_, \
				 (unsigned long long)want_);                               \
	} while (0)

#define EXPECT_INT(k, n, what, got, want) EXPECT_U64(k, n, what, (uint64_t)(int64_t)(got), (uint64_t)(int64_t)(want))

/* ---- descriptors --------------------------------------------------------- */

static void test_descriptors_complete_and_unique(void **state)
{
	(void)state;
	size_t families = 0;
	for (const struct pmb_kernel *const *f = pmb_kernel_families; *f; ++f, ++families) {
		assert_non_null((*f)[0].family); /* a family with no variant */
		for (const struct pmb_kernel *k = *f; k->family; ++k) {
			assert_non_null(k->variant);
			assert_non_null(k->description);
			assert_non_null(k->signature);
			assert_true(k->family[0] && k->variant[0] && k->description[0] && k->signature[0]);
			assert_null(strchr(k->signature, '\n')); /* "one line" */
			assert_true(k->bytes_per_elem > 0);
			assert_non_null(k->setup);
			assert_non_null(k->run);
			assert_non_null(k->check);
			assert_non_null(k->teardown);
			/* One array = one family, so --family selects exactly it. */
			assert_string_equal(k->family, (*f)[0].family);
		}
	}
	assert_true(families > 0);

	for (const struct pmb_kernel *const *f = pmb_kernel_families; *f; ++f)
		for (const struct pmb_kernel *a = *f; a->family; ++a)
			for (const struct pmb_kernel *const *g = pmb_kernel_families; *g; ++g)
				for (const struct pmb_kernel *b = *g; b->family; ++b) {
					if (a == b)
						continue;
					if (strcmp(a->family, b->family) == 0 && strcmp(a->variant, b->variant) == 0)
						fail_msg("duplicate kernel %s/%s", a->family, a->variant);
					/* A family name split across two arrays would make
					 * the cross-variant equality test below partial. */
					if (f != g && strcmp(a->family, b->family) == 0)
						fail_msg("family %s defined by two arrays", a->family);
				}
}

/* ---- one variant: the full lifecycle at every size ----------------------- */

static void run_lifecycle(const struct pmb_kernel *k, size_t n)
{
	struct pmb_kernel_ctx ctx = {.n = n, .seed = TEST_SEED, .thread = 0};
	struct alloc_expect (*per_run)(size_t) = find_alloc_expectation(k);

	struct pmb_alloc_count before_setup = pmb_alloc_count_thread();
	EXPECT_INT(k, n, "setup()", k->setup(&ctx), 0);
	struct pmb_alloc_count after_setup = pmb_alloc_count_thread();

	struct pmb_alloc_count before_run = pmb_alloc_count_thread();
	k->run(&ctx);
	struct pmb_alloc_count after_run = pmb_alloc_count_thread();
	uint64_t run_allocs = after_run.allocs - before_run.allocs;
	uint64_t run_reallocs = after_run.reallocs - before_run.reallocs;
	uint64_t run_frees = after_run.frees - before_run.frees;
	EXPECT_U64(k, n, "frees - allocs in run()", run_frees, run_allocs);
	if (per_run) {
		struct alloc_expect want = per_run(n);
		EXPECT_U64(k, n, "allocs in run()", run_allocs, want.allocs);
		EXPECT_U64(k, n, "reallocs in run()", run_reallocs, want.reallocs);
		EXPECT_U64(k, n, "frees in run()", run_frees, want.frees);
	} else {
		print_message("note: %s/%s has no exact allocation expectation here; checked for balance only\n",
			      k->family, k->variant);
	}
	EXPECT_INT(k, n, "check() after run", k->check(&ctx), 0);

	uint64_t first = ctx.result;
	ctx.result = ~first; /* so a run that forgets to store is caught */
	k->run(&ctx);
	EXPECT_U64(k, n, "result of second run", ctx.result, first);
	EXPECT_INT(k, n, "check() after second run", k->check(&ctx), 0);

	ctx.result = first ^ 1;
	EXPECT_INT(k, n, "check() of corrupted result", k->check(&ctx), -1);
	ctx.result = first;
	EXPECT_INT(k, n, "check() of restored result", k->check(&ctx), 0);

	struct pmb_alloc_count before_teardown = pmb_alloc_count_thread();
	k->teardown(&ctx);
	struct pmb_alloc_count after_teardown = pmb_alloc_count_thread();
	/* What setup left live must be exactly what teardown releases. */
	uint64_t setup_live = (after_setup.allocs - before_setup.allocs) - (after_setup.frees - before_setup.frees);
	uint64_t teardown_released = (after_teardown.frees - before_teardown.frees) -
				     (after_teardown.allocs - before_teardown.allocs);
	EXPECT_U64(k, n, "blocks freed by teardown()", teardown_released, setup_live);
}

static void test_variant_lifecycle(void **state)
{
	const struct pmb_kernel *k = *state;
	for (size_t i = 0; i < TEST_SIZE_COUNT; ++i)
		run_lifecycle(k, test_sizes[i]);
}

/* ---- one family: every variant computes the same thing ------------------- */

/* Every current family's variants differ only in *how* they compute (layout,
 * allocation strategy, branch shape), never in *what*, so their results must
 * match exactly.  A future family whose variants legitimately differ would
 * need an exception here. */
static void test_family_variants_agree(void **state)
{
	const struct pmb_kernel *family = *state;
	for (size_t i = 0; i < TEST_SIZE_COUNT; ++i) {
		size_t n = test_sizes[i];
		uint64_t reference = 0;
		for (const struct pmb_kernel *k = family; k->family; ++k) {
			struct pmb_kernel_ctx ctx = {.n = n, .seed = TEST_SEED, .thread = 0};
			EXPECT_INT(k, n, "setup()", k->setup(&ctx), 0);
			k->run(&ctx);
			uint64_t result = ctx.result;
			k->teardown(&ctx);
			if (k == family)
				reference = result;
			else if (result != reference)
				fail_msg("%s/%s n=%zu: result %llu differs from %s/%s's %llu", k->family,
					 k->variant, n, (unsigned long long)result, family->family,
					 family->variant, (unsigned long long)reference);
		}
	}
}

/* A different seed must give different data, or "same seed -> same data"
 * would be vacuous (empty/noop excepted: it has no data). */
static void test_seed_changes_result(void **state)
{
	const struct pmb_kernel *k = *state;
	uint64_t results[2];
	for (int s = 0; s < 2; ++s) {
		struct pmb_kernel_ctx ctx = {.n = 1000, .seed = TEST_SEED + (uint64_t)s, .thread = 0};
		EXPECT_INT(k, 1000, "setup()", k->setup(&ctx), 0);
		k->run(&ctx);
		results[s] = ctx.result;
		k->teardown(&ctx);
	}
	if (strcmp(k->family, "empty") == 0)
		assert_int_equal(results[0], results[1]);
	else if (results[0] == results[1])
		fail_msg("%s/%s: seeds %llu and %llu give the same result", k->family, k->variant,
			 (unsigned long long)TEST_SEED, (unsigned long long)TEST_SEED + 1);
}

/* ---- main: tests built from the table ------------------------------------ */

int main(void)
{
	size_t variant_count = 0, family_count = 0;
	for (const struct pmb_kernel *const *f = pmb_kernel_families; *f; ++f, ++family_count)
		for (const struct pmb_kernel *k = *f; k->family; ++k)
			++variant_count;

	struct CMUnitTest *variant_tests = calloc(2 * variant_count + 1, sizeof(*variant_tests));
	struct CMUnitTest *family_tests = calloc(family_count + 1, sizeof(*family_tests));
	char *names = calloc(3 * (variant_count + family_count) + 1, 128);
	if (!variant_tests || !family_tests || !names) {
		fprintf(stderr, "test_kernels: out of memory\n");
		return 1;
	}

	size_t v = 0, f_index = 0;
	char *name = names;
	for (const struct pmb_kernel *const *f = pmb_kernel_families; *f; ++f) {
		snprintf(name, 128, "%s: variants agree", (*f)[0].family);
		family_tests[f_index++] = (struct CMUnitTest){name, test_family_variants_agree, NULL, NULL, (void *)*f};
		name += 128;
		for (const struct pmb_kernel *k = *f; k->family; ++k) {
			snprintf(name, 128, "%s/%s: lifecycle", k->family, k->variant);
			variant_tests[v++] = (struct CMUnitTest){name, test_variant_lifecycle, NULL, NULL, (void *)k};
			name += 128;
			snprintf(name, 128, "%s/%s: seed matters", k->family, k->variant);
			variant_tests[v++] = (struct CMUnitTest){name, test_seed_changes_result, NULL, NULL, (void *)k};
			name += 128;
		}
	}

	const struct CMUnitTest descriptor_tests[] = {
		cmocka_unit_test(test_descriptors_complete_and_unique),
	};
	int failed = cmocka_run_group_tests_name("descriptors", descriptor_tests, NULL, NULL);
	failed += _cmocka_run_group_tests("variants", variant_tests, v, NULL, NULL);
	failed += _cmocka_run_group_tests("families", family_tests, f_index, NULL, NULL);

	free(variant_tests);
	free(family_tests);
	free(names);
	return failed ? 1 : 0;
}
