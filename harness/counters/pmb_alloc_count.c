#include "pmb_alloc_count.h"

#include <stddef.h>
#include <string.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t nmemb, size_t size);
void *__real_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
int __real_posix_memalign(void **memptr, size_t alignment, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);

static _Thread_local struct pmb_alloc_count counts;

struct pmb_alloc_count pmb_alloc_count_thread(void)
{
	return counts;
}

void *__wrap_malloc(size_t size)
{
	void *p = __real_malloc(size);
	if (p) {
		counts.allocs++;
		counts.bytes += size;
	}
	return p;
}

void *__wrap_calloc(size_t nmemb, size_t size)
{
	void *p = __real_calloc(nmemb, size);
	if (p) {
		counts.allocs++;
		counts.bytes += nmemb * size;
	}
	return p;
}

void *__wrap_realloc(void *ptr, size_t size)
{
	void *p = __real_realloc(ptr, size);
	if (p) {
		if (ptr)
			counts.reallocs++;
		else
			counts.allocs++;
		counts.bytes += size;
	}
	return p;
}

void __wrap_free(void *ptr)
{
	if (ptr)
		counts.frees++;
	__real_free(ptr);
}

int __wrap_posix_memalign(void **memptr, size_t alignment, size_t size)
{
	int rc = __real_posix_memalign(memptr, alignment, size);
	if (rc == 0) {
		counts.allocs++;
		counts.bytes += size;
	}
	return rc;
}

void *__wrap_aligned_alloc(size_t alignment, size_t size)
{
	void *p = __real_aligned_alloc(alignment, size);
	if (p) {
		counts.allocs++;
		counts.bytes += size;
	}
	return p;
}

/* libc's strdup calls its internal malloc, which --wrap cannot see; ours
 * goes through the wrapped one so a kernel's strdup is counted. */
char *__wrap_strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = __wrap_malloc(len);
	if (p)
		memcpy(p, s, len);
	return p;
}
