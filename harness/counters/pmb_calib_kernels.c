/* pmb_calib_kernels.c — the calibration kernels of pmb_calibrate.h.
 *
 * The loop and the branchy kernel are inline asm, so that no compiler can
 * unroll, vectorise or if-convert them: their instruction and branch counts
 * are known by construction.  The chase is plain C: what matters there is
 * the memory access pattern, one dependent load per step. */
#define _GNU_SOURCE
#include "pmb_calibrate.h"
#include "pmb_kernel.h" /* pmb_kernel_rand: the one seeded PRNG */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__) || defined(__aarch64__)
const int pmb_calib_counts_known = 1;
#else
const int pmb_calib_counts_known = 0;
#endif

void pmb_calib_loop(uint64_t n)
{
	uint64_t x = 0;
	if (n == 0)
		return;
#if defined(__x86_64__)
	/* add, sub, jnz: 3 instructions, 1 conditional branch per iteration
	 * (fused sub+jnz still retires as two instructions). */
	__asm__ volatile("1:\n\t"
			 "add $1, %1\n\t"
			 "sub $1, %0\n\t"
			 "jnz 1b"
			 : "+r"(n), "+r"(x)
			 :
			 : "cc");
#elif defined(__aarch64__)
	/* add, subs, b.ne: the loop QEMU's PMU counts exactly. */
	__asm__ volatile("1:\n\t"
			 "add %1, %1, #1\n\t"
			 "subs %0, %0, #1\n\t"
			 "b.ne 1b"
			 : "+r"(n), "+r"(x)
			 :
			 : "cc");
#else
	for (volatile uint64_t i = 0; i < n; i++)
		x++;
#endif
	__asm__ volatile("" : : "r"(x));
}

uint64_t pmb_calib_branchy(const uint8_t *bits, uint64_t n)
{
	uint64_t acc = 0;
	if (n == 0)
		return 0;
#if defined(__x86_64__)
	/* One branch on each byte: taken on 0, not taken otherwise. */
	__asm__ volatile("1:\n\t"
			 "movzbl (%1), %%eax\n\t"
			 "test %%eax, %%eax\n\t"
			 "jz 2f\n\t"
			 "add $1, %0\n"
			 "2:\n\t"
			 "add $1, %1\n\t"
			 "sub $1, %2\n\t"
			 "jnz 1b"
			 : "+r"(acc), "+r"(bits), "+r"(n)
			 :
			 : "eax", "cc", "memory");
#elif defined(__aarch64__)
	__asm__ volatile("1:\n\t"
			 "ldrb w9, [%1], #1\n\t"
			 "cbz w9, 2f\n\t"
			 "add %0, %0, #1\n"
			 "2:\n\t"
			 "subs %2, %2, #1\n\t"
			 "b.ne 1b"
			 : "+r"(acc), "+r"(bits), "+r"(n)
			 :
			 : "w9", "cc", "memory");
#else
	for (uint64_t i = 0; i < n; i++)
		if (((volatile const uint8_t *)bits)[i])
			acc++;
#endif
	return acc;
}

struct pmb_calib_chase {
	void *mem;
	size_t bytes;
	void **start;
};

/* `lines` 64-byte lines, one at a random offset in each of `lines` equal
 * slots of the buffer, linked in one random cycle (Sattolo): every step a
 * line far from the last, in an order no prefetcher follows.  Only the
 * pages of those lines are touched. */
struct pmb_calib_chase *pmb_calib_chase_new(uint64_t bytes, uint64_t lines, uint64_t seed)
{
	uint64_t slot = bytes / (lines ? lines : 1);
	if (lines < 2 || slot < 64)
		return NULL;
	struct pmb_calib_chase *c = calloc(1, sizeof *c);
	uint32_t *order = malloc(lines * sizeof *order);
	void ***addr = malloc(lines * sizeof *addr);
	void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!c || !order || !addr || mem == MAP_FAILED) {
		free(c);
		c = NULL;
		goto out;
	}
	for (uint64_t i = 0; i < lines; i++) {
		order[i] = (uint32_t)i;
		addr[i] = (void **)((char *)mem + i * slot + pmb_kernel_rand(&seed) % (slot / 64) * 64);
	}
	for (uint64_t i = lines - 1; i > 0; i--) {
		uint64_t j = pmb_kernel_rand(&seed) % i; /* Sattolo: one cycle */
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint64_t i = 0; i < lines; i++)
		*addr[i] = addr[order[i]]; /* slot i's line points to its successor's */
	c->mem = mem;
	c->bytes = bytes;
	c->start = addr[0];
	mem = MAP_FAILED; /* kept */
out:
	if (mem != MAP_FAILED)
		munmap(mem, bytes);
	free(order);
	free(addr);
	return c;
}

void pmb_calib_chase_run(struct pmb_calib_chase *c, uint64_t steps)
{
	void **p = c->start;
	for (uint64_t i = 0; i < steps; i++)
		p = (void **)*p;
	__asm__ volatile("" : : "r"(p));
	c->start = p; /* the next run continues the cycle */
}

void pmb_calib_chase_free(struct pmb_calib_chase *c)
{
	if (!c)
		return;
	munmap(c->mem, c->bytes);
	free(c);
}
