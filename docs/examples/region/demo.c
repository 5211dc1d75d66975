/* demo.c — a program of your own with two pmubench regions.
 *   cc -O2 demo.c $(pkg-config --cflags --libs pmubench) -o demo
 *   PMB_RUN_DIR=results/demo ./demo
 * writes rows kernel=demo, variant=fill and variant=sum to the run. */
#include <pmb_region.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1 << 16;
	int reps = argc > 2 ? atoi(argv[2]) : 20;
	/* Per-element columns: n elements of 8 bytes per pass. */
	pmb_region_work("fill", n, n * sizeof(uint64_t));
	pmb_region_work("sum", n, n * sizeof(uint64_t));
	uint64_t total = 0;
	for (int r = 0; r < reps; r++) {
		pmb_region_begin("fill");
		uint64_t *a = malloc(n * sizeof *a); /* one alloc per pass: the allocs column */
		for (size_t i = 0; i < n; i++)
			a[i] = i * 2654435761u + (uint64_t)r;
		pmb_region_end("fill");

		pmb_region_begin("sum");
		uint64_t s = 0;
		for (size_t i = 0; i < n; i++)
			s += a[i];
		pmb_region_end("sum");
		total += s;
		free(a);
	}
	printf("%llu\n", (unsigned long long)total);
	return pmb_region_close() == 0 ? 0 : 1;
}
