#include "pmb_csv.h"

#include <string.h>

int pmb_csv_needs_quotes(const char *cell)
{
	return cell[strcspn(cell, ",\"\r\n")] != '\0';
}

void pmb_csv_put(FILE *f, const char *cell)
{
	if (!pmb_csv_needs_quotes(cell)) {
		fputs(cell, f);
		return;
	}
	fputc('"', f);
	for (const char *c = cell; *c; c++) {
		if (*c == '"')
			fputc('"', f);
		fputc(*c, f);
	}
	fputc('"', f);
}

int pmb_csv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		if (n == max)
			return n;
		if (*p != '"') {
			fields[n++] = p;
			char *comma = strchr(p, ',');
			if (!comma)
				return n;
			*comma = '\0';
			p = comma + 1;
			continue;
		}
		/* Quoted: unquote in place ("" -> "), then expect , or end. */
		char *out = p, *in = p + 1;
		fields[n++] = out;
		for (;;) {
			if (*in == '\0')
				return -1;
			if (*in == '"') {
				if (in[1] != '"')
					break;
				in++;
			}
			*out++ = *in++;
		}
		in++; /* the closing quote */
		if (*in != ',' && *in != '\0')
			return -1;
		int last = *in == '\0';
		*out = '\0';
		if (last)
			return n;
		p = in + 1;
	}
}
