/* pmb_user_events.c — the user's own events (--counters PAPI_L1_TCM,
 * perf::INSTRUCTIONS, arm_ac57::INST_RETIRED, perf_raw::r08 ...).
 *
 * Each event becomes one more counter after the built-in ones: its own raw
 * column, its <column>_per_elem metric and its meta.json entry, all from
 * pmb_counter_info[id], so every writer treats it as it treats cycles.
 * Here only the name is checked (characters, length, a column name of its
 * own); whether PAPI knows the event is checked by the PAPI backend at
 * start-up, where the library is loaded (pmb_counters_papi.c).
 *
 * Registration happens while options are parsed, before the schema is
 * built and before any worker thread exists; nothing here is locked. */
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_MAX 63 /* plan->event_name holds 64 bytes */
#define COLUMN_MAX 48

/* On the heap, made at the first event: a run without own events keeps
 * the static layout it had (see pmb_counters.h). */
struct user_event {
	char event[EVENT_MAX + 1];
	char column[COLUMN_MAX + 1];
	char description[EVENT_MAX + 40];
};
static struct user_tables {
	struct pmb_counter_info info[PMB_CTR_MAX]; /* built-in copy, then ours */
	struct user_event user[PMB_CTR_USER_MAX];
	char list_text[PMB_CTR_USER_MAX * (EVENT_MAX + 1) + 1];
} *tab;
static int nuser;
#define user (tab->user)

int pmb_counter_n(void)
{
	return PMB_CTR_COUNT + nuser;
}

/* The built-in table the counters module starts with. */
static const struct pmb_counter_info *builtin_info;

void pmb_user_events_reset(void)
{
	if (builtin_info)
		pmb_counter_info = builtin_info;
	if (tab)
		memset(tab, 0, sizeof *tab);
	nuser = 0;
}

const char *pmb_user_events_list(void)
{
	return tab ? tab->list_text : "";
}

/* Characters PAPI event names use: presets (PAPI_L1_TCM), libpfm4 natives
 * with PMU prefix and qualifiers (pmu::EVENT:UMASK:u=0), raw codes
 * (perf_raw::r0000c0).  ',' separates list items and never occurs. */
static int event_char(int c)
{
	return isalnum(c) || c == '_' || c == ':' || c == '.' || c == '=' || c == '-' || c == '+';
}

int pmb_user_event_like(const char *item, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (isupper((unsigned char)item[i]) || item[i] == ':')
			return 1;
	return 0;
}

int pmb_user_event_column(const char *event, size_t len, char *out, size_t size)
{
	size_t n = 0;
	int gap = 0;

	size_t first = 0;
	while (first < len && !isalnum((unsigned char)event[first]))
		first++;
	if (first < len && isdigit((unsigned char)event[first])) {
		if (size < 4)
			return pmb_error("column buffer too small");
		memcpy(out, "ev_", 3);
		n = 3;
	}
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)event[i];
		if (!isalnum(c)) {
			gap = n > 0;
			continue;
		}
		if (n + gap + 1 >= size)
			return pmb_error("event '%.*s' gives a column name longer than %zu characters; "
					 "use a shorter name for it (papi_native_avail lists the aliases)",
					 (int)len, event, size - 1);
		if (gap && out[n - 1] != '_')
			out[n++] = '_';
		gap = 0;
		out[n++] = (char)tolower(c);
	}
	out[n] = '\0';
	if (n == 0 || !strcmp(out, "ev_"))
		return pmb_error("event '%.*s' has no letter or digit to name its column; "
				 "give a PAPI event name (papi_avail, papi_native_avail)",
				 (int)len, event);
	return 0;
}

static int check_event_chars(const char *event, size_t len)
{
	if (len > EVENT_MAX)
		return pmb_error("event name '%.*s...' is longer than %d characters; PAPI names "
				 "are shorter: check it with papi_native_avail",
				 40, event, EVENT_MAX);
	for (size_t i = 0; i < len; i++)
		if (!event_char((unsigned char)event[i]))
			return pmb_error("event '%.*s' has the character '%c', which no PAPI event "
					 "name has; names are like PAPI_L1_TCM, perf::INSTRUCTIONS, "
					 "pmu::EVENT:UMASK or perf_raw::r00c0 (papi_avail, "
					 "papi_native_avail)",
					 (int)len, event, isprint((unsigned char)event[i]) ? event[i] : '?');
	return 0;
}

/* A column the run already has: a built-in counter, any schema column or
 * metric, or another user event's column. */
static int column_taken(const char *column, const char *event)
{
	char metric[COLUMN_MAX + 16];
	snprintf(metric, sizeof metric, "%s_per_elem", column);
	for (int i = 0; i < nuser; i++) {
		char other[COLUMN_MAX + 16];
		snprintf(other, sizeof other, "%s_per_elem", user[i].column);
		if (!strcmp(user[i].column, column) || !strcmp(other, column) ||
		    !strcmp(user[i].column, metric))
			return pmb_error("events '%s' and '%s' both give the column or metric '%s'; "
					 "count only one of them",
					 user[i].event, event,
					 !strcmp(user[i].column, metric) ? metric : column);
	}
	const char *clash = pmb_schema_name_reserved(column) ? column
			    : pmb_schema_name_reserved(metric) ? metric : NULL;
	if (clash)
		return pmb_error("event '%s' would get the column '%s', but the run already has a "
				 "column or metric '%s'; name it with its PMU prefix "
				 "(e.g. perf::%s), or use the built-in counter",
				 event, column, clash, event);
	return 0;
}

int pmb_user_event_add(const char *event, size_t len)
{
	char name[EVENT_MAX + 1], column[COLUMN_MAX + 1];

	if (check_event_chars(event, len) != 0)
		return -1;
	memcpy(name, event, len);
	name[len] = '\0';
	for (int i = 0; i < nuser; i++)
		if (!strcmp(user[i].event, name))
			return PMB_CTR_COUNT + i; /* listed twice: harmless */
	if (pmb_user_event_column(name, len, column, sizeof column) != 0)
		return -1;
	if (column_taken(column, name) != 0)
		return -1;
	if (nuser == PMB_CTR_USER_MAX)
		return pmb_error("more than %d own events in --counters ('%s' is one too many); "
				 "split them over several runs",
				 PMB_CTR_USER_MAX, name);
	if (!tab && !(tab = calloc(1, sizeof *tab)))
		return pmb_error("out of memory for the events of --counters");
	if (!builtin_info)
		builtin_info = pmb_counter_info;
	if (!nuser) {
		memcpy(tab->info, builtin_info, PMB_CTR_COUNT * sizeof tab->info[0]);
		pmb_counter_info = tab->info;
	}

	int id = PMB_CTR_COUNT + nuser;
	snprintf(user[nuser].event, sizeof user[nuser].event, "%s", name);
	snprintf(user[nuser].column, sizeof user[nuser].column, "%s", column);
	snprintf(user[nuser].description, sizeof user[nuser].description,
		 "your event %s (--counters)", name);
	tab->info[id] = (struct pmb_counter_info){
		.column = user[nuser].column,
		.papi_events = user[nuser].event,
		.description = user[nuser].description,
	};
	size_t used = strlen(tab->list_text);
	snprintf(tab->list_text + used, sizeof tab->list_text - used, "%s%s", used ? "," : "", name);
	nuser++;
	return id;
}

/* A typo is an error at start-up, naming the event and where the names are
 * listed, not an empty column. */
int pmb_user_events_check(uint32_t requested, int (*known)(const char *name, char *why, size_t size))
{
	for (int i = 0; i < nuser; i++) {
		char why[160] = "";
		if (!(requested & PMB_CTR_MASK(PMB_CTR_COUNT + i)) ||
		    known(user[i].event, why, sizeof why))
			continue;
		return pmb_error("--counters: PAPI does not know the event '%s' (%s); list the names "
				 "it knows with papi_avail (presets, PAPI_*) and papi_native_avail "
				 "(native events, pmu::EVENT[:UMASK]), or drop it from --counters",
				 user[i].event, why);
	}
	return 0;
}
