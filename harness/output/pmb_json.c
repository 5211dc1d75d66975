#include "pmb_json.h"

#include <math.h>

static void indent(struct pmb_json *j)
{
	if (j->flat) {
		fputc(' ', j->f);
		return;
	}
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void put_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void member(struct pmb_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = 1;
	indent(j);
	if (key) {
		put_escaped(j->f, key);
		fputs(": ", j->f);
	}
}

void pmb_json_begin(struct pmb_json *j, FILE *f)
{
	j->f = f;
	j->flat = 0;
	j->depth = 0;
	j->need_comma[0] = 0;
	fputc('{', f);
	j->depth = 1;
	j->need_comma[1] = 0;
}

void pmb_json_begin_flat(struct pmb_json *j, FILE *f)
{
	pmb_json_begin(j, f);
	j->flat = 1;
}

void pmb_json_end(struct pmb_json *j)
{
	j->depth = 0;
	indent(j);
	fputs(j->flat ? "}" : "}\n", j->f);
}

static void open_container(struct pmb_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	j->depth++;
	j->need_comma[j->depth] = 0;
	j->closer[j->depth] = c == '{' ? '}' : ']';
}

void pmb_json_object(struct pmb_json *j, const char *key)
{
	open_container(j, key, '{');
}

void pmb_json_array(struct pmb_json *j, const char *key)
{
	open_container(j, key, '[');
}

void pmb_json_close(struct pmb_json *j)
{
	char c = j->closer[j->depth];
	j->depth--;
	indent(j);
	fputc(c, j->f);
}

void pmb_json_string(struct pmb_json *j, const char *key, const char *value)
{
	member(j, key);
	put_escaped(j->f, value ? value : "");
}

void pmb_json_int(struct pmb_json *j, const char *key, long long value)
{
	member(j, key);
	fprintf(j->f, "%lld", value);
}

void pmb_json_double(struct pmb_json *j, const char *key, double value)
{
	member(j, key);
	if (isfinite(value))
		fprintf(j->f, "%.9g", value);
	else
		fputs("null", j->f);
}

void pmb_json_bool(struct pmb_json *j, const char *key, int value)
{
	member(j, key);
	fputs(value ? "true" : "false", j->f);
}
