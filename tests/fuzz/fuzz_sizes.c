/* libFuzzer target: the list parsers behind --sizes, --threads and
 * --events (pmb_parse_size_list, pmb_parse_thread_list,
 * pmb_counter_parse_list) and the number parsers. */
#include "pmb_counters.h"
#include "fuzz_text.h"
#include "pmb_error.h"
#include "pmb_options.h"
#include "pmb_parse.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	if (!text)
		return 0;

	uint64_t sizes[PMB_MAX_SIZES];
	size_t n = 0;
	int auto_sizes = 0;
	if (pmb_parse_size_list(text, sizes, PMB_MAX_SIZES, &n, &auto_sizes) == 0) {
		if (n > PMB_MAX_SIZES || (!auto_sizes && n == 0) || (auto_sizes && n))
			__builtin_trap();
		for (size_t i = 0; i < n; i++)
			if (sizes[i] < PMB_SIZE_MIN || sizes[i] > PMB_SIZE_MAX ||
			    (i && sizes[i] <= sizes[i - 1]))
				__builtin_trap(); /* sorted, unique, in range */
	} else if (pmb_error_message()[0] == '\0') {
		__builtin_trap();
	}
	uint64_t one;
	if (pmb_parse_size(text, &one) == 0 && (one < PMB_SIZE_MIN || one > PMB_SIZE_MAX))
		__builtin_trap();

	int threads[PMB_MAX_THREAD_COUNTS];
	if (pmb_parse_thread_list(text, threads, PMB_MAX_THREAD_COUNTS, &n) == 0)
		for (size_t i = 0; i < n; i++)
			if (threads[i] < 1 || threads[i] > 1024)
				__builtin_trap();
	uint32_t mask;
	/* Only built-in ids and registered events; every event's column is
	 * a safe name (a-z, 0-9, '_'). */
	if (pmb_counter_parse_list(text, &mask) == 0) {
		if (mask >> pmb_counter_n())
			__builtin_trap();
		for (int c = PMB_CTR_COUNT; c < pmb_counter_n(); c++)
			for (const char *p = pmb_counter_info[c].column; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
					__builtin_trap();
	}
	uint64_t u;
	pmb_parse_uint(text, "n", 1, 1000, &u);
	double d;
	pmb_parse_double(text, "x", 0, 100, &d);
	free(text);
	return 0;
}
