/* fuzz_text.h — what the text-parsing fuzz targets share: the input as a
 * NUL-terminated copy the parser may modify. */
#ifndef FUZZ_TEXT_H
#define FUZZ_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Larger inputs only slow the fuzzer down: no parser reads that far. */
#define FUZZ_TEXT_MAX 4096

/* A malloc'd NUL-terminated copy of data (free it), or NULL when the input
 * is too long to be worth parsing or memory ran out. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	if (size > FUZZ_TEXT_MAX)
		return NULL;
	char *text = malloc(size + 1);
	if (!text)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

#endif
