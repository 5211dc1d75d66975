/* pmb_error.h — library code reports errors by returning -1 after calling
 * pmb_error(); only main() prints and exits.  Messages follow git's style:
 * lowercase, what failed first, then how to fix it. */
#ifndef PMB_ERROR_H
#define PMB_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Records a message for the calling thread and returns -1, so that
 * `return pmb_error("cannot open %s: %s", path, strerror(errno));` reads. */
int pmb_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int pmb_error_v(const char *fmt, va_list ap);
/* The calling thread's last message ("" if none). */
const char *pmb_error_message(void);
void pmb_error_clear(void);

/* Warnings go to stderr at once and are kept for meta.json. */
void pmb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
size_t pmb_warn_count(void);
const char *pmb_warn_get(size_t i);

/* Quiet mode silences progress and notes on stderr, not errors. */
void pmb_log_set_quiet(int quiet);
int pmb_log_quiet(void);
void pmb_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
