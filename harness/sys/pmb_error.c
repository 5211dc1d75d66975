#include "pmb_error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PMB_ERROR_MAX 1024
#define PMB_WARN_MAX 64

static _Thread_local char error_message[PMB_ERROR_MAX];

static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static char *warnings[PMB_WARN_MAX];
static size_t nwarnings;
static int quiet;

int pmb_error_v(const char *fmt, va_list ap)
{
	vsnprintf(error_message, sizeof error_message, fmt, ap);
	return -1;
}

int pmb_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pmb_error_v(fmt, ap);
	va_end(ap);
	return -1;
}

const char *pmb_error_message(void)
{
	return error_message;
}

void pmb_error_clear(void)
{
	error_message[0] = '\0';
}

void pmb_warn(const char *fmt, ...)
{
	char buf[PMB_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "pmubench: warning: %s\n", buf);
	pthread_mutex_lock(&warn_lock);
	/* Identical warnings (one per thread, say) are kept once. */
	for (size_t i = 0; i < nwarnings; i++) {
		if (strcmp(warnings[i], buf) == 0) {
			pthread_mutex_unlock(&warn_lock);
			return;
		}
	}
	if (nwarnings < PMB_WARN_MAX) {
		char *copy = malloc(strlen(buf) + 1);
		if (copy) {
			strcpy(copy, buf);
			warnings[nwarnings++] = copy;
		}
	}
	pthread_mutex_unlock(&warn_lock);
}

size_t pmb_warn_count(void)
{
	return nwarnings;
}

const char *pmb_warn_get(size_t i)
{
	return i < nwarnings ? warnings[i] : NULL;
}

void pmb_log_set_quiet(int q)
{
	quiet = q;
}

int pmb_log_quiet(void)
{
	return quiet;
}

void pmb_note(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("pmubench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
