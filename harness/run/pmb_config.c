/* pmb_config.c — config files: `key = value` lines read with libinih, each
 * key set through the option table (pmb_options.c), so a key and its long
 * option behave and fail alike.  The same file is a make fragment: build
 * keys (cc, cflags, ...) are accepted here and ignored. */
#include "pmb_error.h"
#include "pmb_options.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

/* Keys that belong to make (the build). */
static int is_build_key(const char *key)
{
	return !strcmp(key, "cc") || !strcmp(key, "cflags") || !strcmp(key, "ldflags") ||
	       !strcmp(key, "flagsets") || !strncmp(key, "flags.", 6) ||
	       !strncmp(key, "cc.", 3) || !strcmp(key, "description");
}

struct config_state {
	struct pmb_options *opt;
	const char *path;
	FILE *file;
	int lineno;
	int failed;
	char message[1024];
};

/* Debian's libinih does not pass line numbers to the handler; inih reads
 * one line and handles it before reading the next, so a reader that counts
 * lines knows the line being handled. */
static char *config_read_line(char *buf, int size, void *stream)
{
	struct config_state *st = stream;
	char *line = fgets(buf, size, st->file);
	if (!line || st->failed)
		return line;
	st->lineno++;
	/* inih would take the rest of a long line as a line of its own. */
	if (!strchr(line, '\n') && !feof(st->file)) {
		snprintf(st->message, sizeof st->message,
			 "%s:%d: line too long (at most %d characters); shorten it", st->path,
			 st->lineno, size - 2);
		st->failed = 1;
		return NULL;
	}
	/* A section line reaches no handler (only keys do): catch it here so
	 * the message names its own line, even for an empty section. */
	const char *p = line + strspn(line, " \t");
	if (*p == '[') {
		int len = (int)strcspn(p + 1, "]\r\n");
		snprintf(st->message, sizeof st->message,
			 "%s:%d: sections are not used ('[%.*s]'); write plain key = value lines",
			 st->path, st->lineno, len > 64 ? 64 : len, p + 1);
		st->failed = 1;
		return NULL;
	}
	return line;
}

static int config_handler(void *user, const char *section, const char *key, const char *value)
{
	struct config_state *st = user;
	if (st->failed)
		return 0;
	if (section[0]) {
		snprintf(st->message, sizeof st->message,
			 "%s:%d: sections are not used ('[%s]'); write plain key = value lines",
			 st->path, st->lineno, section);
		st->failed = 1;
		return 0;
	}
	if (is_build_key(key))
		return 1;
	const struct pmb_option_def *o = pmb_option_find(key, PMB_OPT_CONFIG);
	if (!o) {
		char known[1024];
		pmb_option_list_keys(known, sizeof known);
		snprintf(st->message, sizeof st->message,
			 "%s:%d: unknown key '%s'; known keys: %s (build keys for make: cc, "
			 "cflags, ldflags, flagsets, flags.NAME, cc.NAME, description)",
			 st->path, st->lineno, key, known);
	} else if (o->set(st->opt, value) != 0) {
		snprintf(st->message, sizeof st->message, "%s:%d: %s", st->path, st->lineno,
			 pmb_error_message());
	} else {
		return 1;
	}
	st->failed = 1;
	return 0;
}

int pmb_options_load_config(struct pmb_options *opt, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return pmb_error("cannot read config '%s': %s; list the configs with 'ls configs/'",
				 path, strerror(errno));
	struct config_state st = {.opt = opt, .path = path, .file = f};
	int rc = ini_parse_stream(config_read_line, &st, config_handler, &st);
	fclose(f);
	if (st.failed)
		return pmb_error("%s", st.message);
	if (rc > 0)
		return pmb_error("%s:%d: malformed line; write 'key = value' (or a # comment)",
				 path, rc);
	if (rc < 0)
		return pmb_error("cannot parse config '%s'", path);
	if (strlen(path) >= sizeof opt->config_path)
		return pmb_error("config path '%s' is too long", path);
	snprintf(opt->config_path, sizeof opt->config_path, "%s", path);
	/* configs/x86.ini -> x86: the run directory is named after it. */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strcspn(base, ".");
	if (len >= sizeof opt->config_name)
		len = sizeof opt->config_name - 1;
	memcpy(opt->config_name, base, len);
	opt->config_name[len] = '\0';
	return 0;
}
