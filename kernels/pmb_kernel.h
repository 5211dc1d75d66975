/* pmb_kernel.h — the only header a kernel includes.
 *
 * A kernel family is one file under kernels/ that defines an array of
 * variants (struct pmb_kernel) ending with a zeroed sentinel, and is listed
 * by one line in kernels/pmb_kernel_table.c.  Kernels know nothing of PAPI,
 * hwloc, CSV or statistics: the harness owns all of that.
 */
#ifndef PMB_KERNEL_H
#define PMB_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* Compiler barriers, the C spelling of Google Benchmark's DoNotOptimize and
 * Rust's black_box: the compiler must assume the value is read (and memory
 * may have changed), so it can neither delete the work that produced it nor
 * hoist the work out of the harness's repetition loop. */
#define pmb_do_not_optimize(value) __asm__ volatile("" : : "r,m"(value) : "memory")
#define pmb_clobber_memory() __asm__ volatile("" : : : "memory")

struct pmb_kernel_ctx {
	size_t n;        /* elements in the working set (size_bytes / bytes_per_elem) */
	uint64_t seed;   /* same seed -> same data in every variant of a family */
	int thread;      /* worker index 0..T-1; each worker has its own ctx and data */
	void *state;     /* the kernel's: setup allocates it, teardown frees it */
	uint64_t result; /* run() stores what it computed; check() validates it */
	/* Cache line size in bytes (hwloc's L1d), for kernels that lay data
	 * out one item per line; set by the harness before setup. */
	size_t line_size;
	/* What setup got that the name cannot say (e.g. "thp=100%"); "" if
	 * nothing.  The harness reports it with the point. */
	char note[64];
};

struct pmb_kernel {
	const char *family;      /* e.g. "sum" */
	const char *variant;     /* e.g. "index" */
	const char *description; /* one line, shown by --list */
	/* Working-set bytes per element: the harness turns a size in bytes into
	 * n = size_bytes / bytes_per_elem, so sizes compare across families. */
	size_t bytes_per_elem;
	/* Expected counter signature per element, as text for --list and
	 * README; tests/test_signatures asserts it under the simulator. */
	const char *signature;
	/* Allocate and fill ctx->state for ctx->n elements on the calling
	 * (already pinned) thread, so first touch places pages locally.
	 * Returns 0, or -1 when memory could not be had. */
	int (*setup)(struct pmb_kernel_ctx *ctx);
	/* One pass over the n elements: the measured work.  Must store its
	 * result in ctx->result and free whatever it allocates. */
	void (*run)(struct pmb_kernel_ctx *ctx);
	/* O(1): 0 when ctx->result equals the value the data implies (computed
	 * independently in setup, STREAM-style), -1 otherwise. */
	int (*check)(const struct pmb_kernel_ctx *ctx);
	void (*teardown)(struct pmb_kernel_ctx *ctx);
	/* Bytes moved between core and memory per element and pass (reads plus
	 * writes of the data the kernel declares it streams), for the derived
	 * bytes_per_elem and GB/s metrics; 0 = not declared (those stay empty). */
	double traffic_bytes;
};

/* Kernels as plugins: a shared object built against this header only
 * (`cc -shared -fPIC`), loaded with `pmubench --kernel-lib lib.so`, exports
 * its family with PMB_PLUGIN_KERNELS(array).  The ABI number changes when
 * struct pmb_kernel or struct pmb_kernel_ctx change, so an old plugin is
 * refused with a message instead of crashing.  Example: docs/examples/plugin. */
#define PMB_KERNEL_ABI 2
#define PMB_PLUGIN_KERNELS(array)                                                  \
	__attribute__((visibility("default"))) const int pmb_plugin_abi = PMB_KERNEL_ABI; \
	__attribute__((visibility("default"))) const struct pmb_kernel *const pmb_plugin_kernels = (array)

/* NULL-terminated list of families; each family is an array of variants
 * ending with an entry whose family is NULL.  Defined by the table file. */
extern const struct pmb_kernel *const pmb_kernel_families[];

/* The input most families share: n seeded int64 in one 64-byte-aligned
 * block (so "1 miss per 8 elements" holds exactly), with their wrapping
 * sum as the expected result.  Families whose run() sums the array use
 * these as setup/check/teardown (kernels/pmb_kernel_int64.c). */
struct pmb_int64_array {
	int64_t *data;
	/* A length stored apart from ctx->n, as a slice carries its own: a
	 * bounds check against it cannot be proven redundant from the loop
	 * bound. */
	size_t len;
	uint64_t expected;
};

int pmb_int64_array_setup(struct pmb_kernel_ctx *ctx);
int pmb_int64_array_check(const struct pmb_kernel_ctx *ctx);
void pmb_int64_array_teardown(struct pmb_kernel_ctx *ctx);

/* Deterministic, cheap PRNG (splitmix64) so data depends only on the seed. */
static inline uint64_t pmb_kernel_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
