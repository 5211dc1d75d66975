#include "pmb_resume.h"
#include "pmb_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of summary.csv used here (README "CSV schema"). */
enum { COL_FLAGSET = 1, COL_KERNEL = 4, COL_VARIANT = 5, COL_SIZE = 6, COL_THREADS = 9,
       NCOLS_MIN = 10 };

/* Splits a CSV line of our own writing: only the cflags cell is quoted. */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	for (char *p = line; n < max;) {
		fields[n++] = p;
		char *end = p;
		if (*p == '"') {
			for (end = p + 1; *end && !(end[0] == '"' && end[1] != '"'); end++)
				if (end[0] == '"')
					end++;
			end = *end ? end + 1 : end;
		}
		char *comma = strchr(end, ',');
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return n;
}

int pmb_resume_mark_done(const char *run_dir, const char *flagset, struct pmb_plan *plan,
			 size_t *ndone)
{
	*ndone = 0;
	char path[1100];
	snprintf(path, sizeof path, "%s/summary.csv", run_dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return pmb_error("--resume: cannot read %s: %s", path, strerror(errno));
	}
	char line[4096];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n'))
			continue; /* a last line cut by the interruption */
		line[strcspn(line, "\r\n")] = '\0';
		if (lineno == 1) {
			static const char head[] = "run_id,flagset,compiler,cflags,kernel,variant,";
			if (strncmp(line, head, sizeof head - 1) != 0) {
				fclose(f);
				return pmb_error("--resume: %s does not start with the summary header; "
						 "is this a pmubench run of this version?",
						 path);
			}
			continue;
		}
		char *fields[32];
		if (split(line, fields, 32) < NCOLS_MIN)
			continue;
		if (strcmp(fields[COL_FLAGSET], flagset) != 0)
			continue; /* another flag set's point in a matrix run */
		unsigned long long size = strtoull(fields[COL_SIZE], NULL, 10);
		int threads = atoi(fields[COL_THREADS]);
		for (size_t i = 0; i < plan->npoints; i++) {
			struct pmb_point *p = &plan->points[i];
			if (!p->done && p->size_bytes == size && p->threads == threads &&
			    !strcmp(p->kernel->family, fields[COL_KERNEL]) &&
			    !strcmp(p->kernel->variant, fields[COL_VARIANT])) {
				p->done = 1;
				(*ndone)++;
			}
		}
	}
	fclose(f);
	return 0;
}
