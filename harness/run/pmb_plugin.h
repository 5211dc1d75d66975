/* pmb_plugin.h — kernel families loaded from shared objects (--kernel-lib).
 * A loaded family joins the built-in table: the plan, --list, the runner
 * and every output treat it exactly like a family of kernels/. */
#ifndef PMB_PLUGIN_H
#define PMB_PLUGIN_H

#include "pmb_kernel.h"

#include <stddef.h>

#define PMB_MAX_PLUGINS 16

/* dlopen()s path and appends its family.  Fails (pmb_error) when the file
 * cannot be loaded, exports no pmb_plugin_kernels, was built for another
 * PMB_KERNEL_ABI, has an incomplete variant, or reuses a family name. */
int pmb_plugin_load(const char *path);

/* Loaded families, in load order (NULL past the end). */
const struct pmb_kernel *pmb_plugin_family(size_t i);
/* The path a family came from, for meta.json; "" for built-ins. */
const char *pmb_plugin_path(size_t i);
size_t pmb_plugin_count(void);
/* The file a kernel was loaded from; NULL for a built-in kernel. */
const char *pmb_plugin_source(const struct pmb_kernel *k);

#endif
