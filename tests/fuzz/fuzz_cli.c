/* libFuzzer target: command-line handling (pmb_options_parse).  The input
 * is split into arguments at NUL and newline bytes. */
#include "fuzz_text.h"
#include "pmb_error.h"
#include "pmb_options.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	if (!text)
		return 0;
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	argv[argc++] = "pmubench";
	char *p = text, *end = text + size;
	while (p <= end && argc < MAX_ARGS + 1) {
		char *q = p;
		while (q < end && *q != '\0' && *q != '\n')
			q++;
		*q = '\0';
		/* --config reads a file: the config target covers that, and a
		 * path like /dev/stdin would block here. */
		if (!strcmp(p, "--config") || !strcmp(p, "-c") || !strncmp(p, "--config=", 9)) {
			free(text);
			return 0;
		}
		argv[argc++] = p;
		p = q + 1;
	}
	argv[argc] = NULL;
	struct pmb_options opt;
	pmb_options_defaults(&opt);
	if (pmb_options_parse(&opt, argc, argv) != 0) {
		if (pmb_error_message()[0] == '\0')
			__builtin_trap();
	} else if (opt.nthreads < 1 || opt.nthreads > PMB_MAX_THREAD_COUNTS ||
		   opt.nsizes > PMB_MAX_SIZES || opt.min_samples > opt.max_samples) {
		__builtin_trap();
	}
	free(text);
	return 0;
}
