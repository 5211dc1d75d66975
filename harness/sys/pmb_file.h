/* pmb_file.h — a file replaced whole or not at all: written into a
 * temporary file next to it, then renamed over it, so a reader (or a run
 * killed half-way) sees the old file or the new one, never half of one.
 * meta.json and benchmarks.json are written this way. */
#ifndef PMB_FILE_H
#define PMB_FILE_H

#include <stdio.h>

/* Writes tmp with write(f, ctx), then renames tmp over path; on any
 * failure tmp is removed, path is left as it was, and the error (with
 * the fix) is recorded: returns -1. */
int pmb_file_replace(const char *path, const char *tmp,
		     void (*write)(FILE *f, const void *ctx), const void *ctx);

#endif
