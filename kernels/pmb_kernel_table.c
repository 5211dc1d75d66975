/* pmb_kernel_table.c — the list of kernel families the harness knows.
 *
 * Adding a family is one line in PMB_FAMILY_LIST: the X-macro emits both its
 * extern declaration and its table entry, so the two cannot drift apart.
 * Order is the order of --list and of a full run: cheapest first, so a
 * broken harness shows up on `empty` before anything slow starts. */
#include "pmb_kernel.h"

#define PMB_FAMILY_LIST(X) \
	X(empty)           \
	X(sum)             \
	X(branch)          \
	X(traversal)       \
	X(latency)         \
	X(stack_heap)      \
	X(copy)            \
	X(alloc)

#define PMB_FAMILY_DECLARE(name) extern const struct pmb_kernel pmb_family_##name[];
#define PMB_FAMILY_ENTRY(name) pmb_family_##name,

PMB_FAMILY_LIST(PMB_FAMILY_DECLARE)

const struct pmb_kernel *const pmb_kernel_families[] = {
	PMB_FAMILY_LIST(PMB_FAMILY_ENTRY)
	NULL,
};
