/* pmb_alloc_count.h — the counting allocator behind the `allocs` column.
 *
 * The build links the harness with -Wl,--wrap=malloc,calloc,realloc,free,
 * posix_memalign,aligned_alloc,strdup, so every allocation made by our own
 * objects (kernels included) passes through a counter before reaching libc.
 * Allocations libc makes internally are not seen: we count what the code
 * under test asks for, as the seed's Rust counting allocator does.
 * Counts are per thread (thread-local), so workers do not contend. */
#ifndef PMB_ALLOC_COUNT_H
#define PMB_ALLOC_COUNT_H

#include <stdint.h>

struct pmb_alloc_count {
	uint64_t allocs;      /* successful malloc/calloc/aligned allocations, realloc(NULL, ..) */
	uint64_t reallocs;    /* realloc of an existing block */
	uint64_t frees;       /* free of a non-NULL pointer */
	uint64_t bytes;       /* bytes requested by allocs and reallocs */
};

/* The calling thread's running totals since it started. */
struct pmb_alloc_count pmb_alloc_count_thread(void);

#endif
