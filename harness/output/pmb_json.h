/* pmb_json.h — a small streaming JSON writer for meta.json.  Writing only:
 * pmubench never parses JSON (the scripts use Python's json module). */
#ifndef PMB_JSON_H
#define PMB_JSON_H

#include <stdint.h>
#include <stdio.h>

struct pmb_json {
	FILE *f;
	int depth;
	int flat; /* all on one line (pmb_json_begin_flat) */
	int need_comma[32];
	char closer[32]; /* '}' or ']' per open level */
};

void pmb_json_begin(struct pmb_json *j, FILE *f);          /* opens the top object */
/* The same on one line, no newline at the end: one record per line. */
void pmb_json_begin_flat(struct pmb_json *j, FILE *f);
void pmb_json_end(struct pmb_json *j);                     /* closes it, newline */
void pmb_json_object(struct pmb_json *j, const char *key);  /* key may be NULL in arrays */
void pmb_json_array(struct pmb_json *j, const char *key);
void pmb_json_close(struct pmb_json *j);                   /* closes object or array */
void pmb_json_string(struct pmb_json *j, const char *key, const char *value);
void pmb_json_int(struct pmb_json *j, const char *key, long long value);
void pmb_json_double(struct pmb_json *j, const char *key, double value); /* NaN -> null */
void pmb_json_bool(struct pmb_json *j, const char *key, int value);

#endif
