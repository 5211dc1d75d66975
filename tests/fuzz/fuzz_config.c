/* libFuzzer target: the config-file reader (pmb_options_load_config), fed
 * through a memfd so the real fopen/inih path runs unchanged. */
#define _GNU_SOURCE
#include "pmb_error.h"
#include "pmb_options.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("pmb-fuzz-config", 0);
		if (fd < 0)
			return 0;
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	struct pmb_options opt;
	pmb_options_defaults(&opt);
	if (pmb_options_load_config(&opt, path) != 0) {
		/* Every failure must say something. */
		if (pmb_error_message()[0] == '\0')
			__builtin_trap();
		return 0;
	}
	/* What was accepted must be usable. */
	if (opt.nthreads < 1 || opt.nthreads > PMB_MAX_THREAD_COUNTS ||
	    opt.nsizes > PMB_MAX_SIZES || (!opt.auto_sizes && opt.nsizes == 0) ||
	    opt.min_samples < 1)
		__builtin_trap();
	for (size_t i = 0; i < opt.nsizes; i++)
		if (opt.sizes[i] < 64 || opt.sizes[i] > (64ull << 30))
			__builtin_trap();
	return 0;
}
