#include "pmb_parse.h"
#include "pmb_error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char size_hint[] =
	"use bytes or a binary suffix, e.g. 4096, 32K, 1.5M, 2G (64 B to 64 GiB)";

int pmb_parse_size(const char *text, uint64_t *bytes)
{
	while (isspace((unsigned char)*text))
		text++;
	if (*text == '\0')
		return pmb_error("empty size; %s", size_hint);
	if (*text == '-')
		return pmb_error("negative size '%s'; %s", text, size_hint);
	if (!isdigit((unsigned char)*text) && *text != '.')
		return pmb_error("size '%s' is not a number; %s", text, size_hint);
	errno = 0;
	char *end;
	double value = strtod(text, &end);
	if (errno == ERANGE || !isfinite(value))
		return pmb_error("size '%s' is out of range; %s", text, size_hint);
	/* strtod accepts exponents ("1e30"); a size is never written so. */
	for (const char *p = text; p < end; p++)
		if (*p == 'e' || *p == 'E' || *p == 'x' || *p == 'X')
			return pmb_error("size '%s' is not a plain number; %s", text, size_hint);
	double mult = 1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end) {
		char unit = (char)toupper((unsigned char)*end);
		const char *rest = end + 1;
		if (unit == 'K')
			mult = 1024.0;
		else if (unit == 'M')
			mult = 1024.0 * 1024;
		else if (unit == 'G')
			mult = 1024.0 * 1024 * 1024;
		else if (unit == 'B' && *rest == '\0')
			mult = 1, rest = end + 1;
		else
			return pmb_error("size '%s' has an unknown unit '%s'; %s", text, end,
					 size_hint);
		if (unit != 'B' && *rest && strcasecmp(rest, "iB") != 0 && strcasecmp(rest, "B") != 0)
			return pmb_error("size '%s' has an unknown unit '%s'; %s", text, end,
					 size_hint);
	}
	value *= mult;
	if (value < 1)
		return pmb_error("size '%s' is zero; %s", text, size_hint);
	if (value > (double)PMB_SIZE_MAX)
		return pmb_error("size '%s' is too large (over 64 GiB); %s", text, size_hint);
	if (value < PMB_SIZE_MIN)
		return pmb_error("size '%s' is below the minimum of %u bytes; %s", text,
				 PMB_SIZE_MIN, size_hint);
	*bytes = (uint64_t)value;
	return 0;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int add_size(uint64_t *sizes, size_t max, size_t *count, uint64_t value)
{
	if (*count >= max)
		return pmb_error("too many sizes (at most %zu)", max);
	sizes[(*count)++] = value;
	return 0;
}

int pmb_parse_size_list(const char *text, uint64_t *sizes, size_t max, size_t *count,
			int *auto_sizes)
{
	*count = 0;
	*auto_sizes = 0;
	char *copy = strdup(text);
	if (!copy)
		return pmb_error("out of memory");
	int rc = 0;
	char *save = NULL;
	int ntokens = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		ntokens++;
		if (strcasecmp(tok, "auto") == 0) {
			*auto_sizes = 1;
			continue;
		}
		char *colon = strchr(tok, ':');
		if (colon) {
			*colon = '\0';
			uint64_t lo, hi;
			if (pmb_parse_size(tok, &lo) || pmb_parse_size(colon + 1, &hi)) {
				rc = -1;
				break;
			}
			if (lo > hi) {
				rc = pmb_error("size range '%s:%s' runs backwards; write MIN:MAX",
					       tok, colon + 1);
				break;
			}
			for (uint64_t s = lo; s <= hi && rc == 0; s *= 2)
				rc = add_size(sizes, max, count, s);
			if (rc == 0 && sizes[*count - 1] != hi)
				rc = add_size(sizes, max, count, hi);
			continue;
		}
		uint64_t s;
		if (pmb_parse_size(tok, &s) != 0) {
			rc = -1;
			break;
		}
		rc = add_size(sizes, max, count, s);
	}
	free(copy);
	if (rc != 0)
		return -1;
	if (ntokens == 0)
		return pmb_error("empty size list; give sizes like 4K,1M or 'auto'");
	if (*auto_sizes && *count)
		return pmb_error("'auto' cannot be mixed with explicit sizes in '%s'", text);
	qsort(sizes, *count, sizeof sizes[0], compare_u64);
	size_t out = 0;
	for (size_t i = 0; i < *count; i++)
		if (out == 0 || sizes[out - 1] != sizes[i])
			sizes[out++] = sizes[i];
	*count = out;
	return 0;
}

int pmb_parse_uint(const char *text, const char *what, uint64_t min, uint64_t max,
		   uint64_t *value)
{
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-')
		return pmb_error("%s must not be negative (got '%s'); use %llu to %llu", what, text,
				 (unsigned long long)min, (unsigned long long)max);
	if (!isdigit((unsigned char)*p))
		return pmb_error("%s must be a whole number (got '%s'); use %llu to %llu", what,
				 text, (unsigned long long)min, (unsigned long long)max);
	errno = 0;
	char *end;
	unsigned long long v = strtoull(p, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return pmb_error("%s must be a whole number (got '%s'); use %llu to %llu", what,
				 text, (unsigned long long)min, (unsigned long long)max);
	if (errno == ERANGE || v < min || v > max)
		return pmb_error("%s out of range (got '%s'); use %llu to %llu", what, text,
				 (unsigned long long)min, (unsigned long long)max);
	*value = v;
	return 0;
}

int pmb_parse_double(const char *text, const char *what, double min, double max, double *value)
{
	errno = 0;
	char *end;
	double v = strtod(text, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (end == text || *end || errno == ERANGE || !isfinite(v))
		return pmb_error("%s must be a number (got '%s'); use %g to %g", what, text, min,
				 max);
	if (v < min || v > max)
		return pmb_error("%s out of range (got '%s'); use %g to %g", what, text, min, max);
	*value = v;
	return 0;
}

int pmb_parse_thread_list(const char *text, int *threads, size_t max, size_t *count)
{
	*count = 0;
	char *copy = strdup(text);
	if (!copy)
		return pmb_error("out of memory");
	char *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (pmb_parse_uint(tok, "thread count", 1, 1024, &v) != 0) {
			rc = -1;
			break;
		}
		if (*count >= max) {
			rc = pmb_error("too many thread counts (at most %zu)", max);
			break;
		}
		threads[(*count)++] = (int)v;
	}
	free(copy);
	if (rc == 0 && *count == 0)
		rc = pmb_error("empty thread list; give counts like 1 or 1,2");
	return rc;
}

const char *pmb_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	if (v == (double)(uint64_t)v)
		snprintf(buf, len, "%llu %s", (unsigned long long)v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}
