/* pmb_parse.h — parsing of user-given numbers and lists (CLI and config
 * share these, so both give the same messages). */
#ifndef PMB_PARSE_H
#define PMB_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Smallest and largest working set a point may have. */
#define PMB_SIZE_MIN 64u
#define PMB_SIZE_MAX (64ull << 30)

/* "4096", "4K", "4KiB", "1.5M", "2G" (binary units; K = KiB).  Rejects
 * zero, negative, non-numeric, overflowing and out-of-range values with a
 * message naming the text.  Returns 0 or -1 (pmb_error). */
int pmb_parse_size(const char *text, uint64_t *bytes);

/* Sizes list: "auto", a comma list of sizes, or "MIN:MAX" (geometric,
 * factor 2, both ends included) and combinations "1K,4K,1M:8M".  Sorted,
 * duplicates removed.  *auto_sizes is set when "auto" was given (then
 * count is 0).  At most max entries. */
int pmb_parse_size_list(const char *text, uint64_t *sizes, size_t max, size_t *count,
			int *auto_sizes);

/* Unsigned integer in [min, max]; `what` names it in messages. */
int pmb_parse_uint(const char *text, const char *what, uint64_t min, uint64_t max,
		   uint64_t *value);

/* Positive decimal in [min, max]. */
int pmb_parse_double(const char *text, const char *what, double min, double max, double *value);

/* Comma list of thread counts, each in [1, max_threads]. */
int pmb_parse_thread_list(const char *text, int *threads, size_t max, size_t *count);

/* Formats bytes as "48 KiB", "1.5 MiB" into buf. */
const char *pmb_format_size(uint64_t bytes, char *buf, size_t len);

#endif
