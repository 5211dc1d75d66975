/* pmb_csv.h — CSV per RFC 4180, the one place that quotes and splits.
 * Every CSV writer quotes through pmb_csv_put, and every reader of our own
 * files (resume) splits with pmb_csv_split, so a comma, a quote or a line
 * break in a name (--name, --flagset, a config file name, cflags) can never
 * shift a column. */
#ifndef PMB_CSV_H
#define PMB_CSV_H

#include <stddef.h>
#include <stdio.h>

/* Writes one cell: as is, or in double quotes with inner quotes doubled
 * when it holds a comma, a quote, CR or LF (RFC 4180 section 2.6-2.7). */
void pmb_csv_put(FILE *f, const char *cell);

/* 1 when pmb_csv_put would quote the cell. */
int pmb_csv_needs_quotes(const char *cell);

/* Splits one record (no line end) in place into at most max fields,
 * unquoting quoted ones.  Returns the field count, or -1 on a quote that
 * is not closed or text after a closing quote. */
int pmb_csv_split(char *line, char **fields, int max);

#endif
