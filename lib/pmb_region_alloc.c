/* pmb_region_alloc.c — the `allocs` column for programs using libpmubench.
 *
 * The pmubench binary counts allocations by linking with --wrap=malloc; a
 * library cannot wrap its caller's calls, so libpmubench defines malloc and
 * friends itself (the program's own calls then resolve here, by the
 * dynamic linker's symbol interposition) and forwards them to glibc's
 * __libc_* entry points through the same counting wrappers. */
#include <stddef.h>
#include <errno.h>

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void __libc_free(void *ptr);
void *__libc_memalign(size_t alignment, size_t size);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t nmemb, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void __wrap_free(void *ptr);
int __wrap_posix_memalign(void **memptr, size_t alignment, size_t size);
void *__wrap_aligned_alloc(size_t alignment, size_t size);

#define API __attribute__((visibility("default")))

void *__real_malloc(size_t size) { return __libc_malloc(size); }
void *__real_calloc(size_t nmemb, size_t size) { return __libc_calloc(nmemb, size); }
void *__real_realloc(void *ptr, size_t size) { return __libc_realloc(ptr, size); }
void __real_free(void *ptr) { __libc_free(ptr); }
void *__real_aligned_alloc(size_t alignment, size_t size) { return __libc_memalign(alignment, size); }
int __real_posix_memalign(void **memptr, size_t alignment, size_t size)
{
	if (alignment % sizeof(void *) || (alignment & (alignment - 1)))
		return EINVAL;
	void *p = __libc_memalign(alignment, size);
	if (!p)
		return ENOMEM;
	*memptr = p;
	return 0;
}

API void *malloc(size_t size) { return __wrap_malloc(size); }
API void *calloc(size_t nmemb, size_t size) { return __wrap_calloc(nmemb, size); }
API void *realloc(void *ptr, size_t size) { return __wrap_realloc(ptr, size); }
API void free(void *ptr) { __wrap_free(ptr); }
API int posix_memalign(void **m, size_t a, size_t s) { return __wrap_posix_memalign(m, a, s); }
API void *aligned_alloc(size_t a, size_t s) { return __wrap_aligned_alloc(a, s); }
