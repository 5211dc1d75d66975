/* pmb_papi.h — what the PAPI backend's three files share (private to
 * harness/counters/): the PAPI functions resolved with dlopen
 * (pmb_papi_load.c), and the per-thread half of the backend
 * (pmb_papi_thread.c). */
#ifndef PMB_PAPI_H
#define PMB_PAPI_H

#include "pmb_counters.h"

#include <papi.h>

#define PAPI_FUNCS(X)                                                   \
	X(library_init) X(thread_init) X(register_thread)               \
	X(unregister_thread) X(create_eventset) X(add_named_event)      \
	X(query_named_event) X(start) X(stop) X(cleanup_eventset)       \
	X(destroy_eventset) X(strerror) X(shutdown)                     \
	X(get_component_index) X(get_component_info) X(get_opt)        \
	X(disable_component_by_name) X(event_name_to_code)

/* PAPI's functions with their exact <papi.h> signatures (__typeof__),
 * resolved at init; all NULL when the library is not loaded. */
struct pmb_papi_api {
#define X(f) __typeof__(PAPI_##f) *f;
	PAPI_FUNCS(X)
#undef X
};

extern struct pmb_papi_api pmb_papi;
extern int pmb_papi_ready; /* PAPI_library_init succeeded: shutdown owed */

/* Loads PAPI, initialises it and its thread support, and writes its
 * version ("PAPI 7.0.1.0") into version; -1 with why (the cause and the
 * fix) when PAPI cannot count here. */
int pmb_papi_load(char *why, size_t size, char *version, size_t vsize);
/* Shuts PAPI down (if started) and unloads it; safe to call twice. */
void pmb_papi_unload(void);

/* PAPI's text for an error code (safe before the library is loaded). */
const char *pmb_papi_text(int code);

/* The backend's per-thread functions (struct pmb_counter_backend). */
int pmb_papi_thread_open(const struct pmb_counter_plan *plan, void **thread_state);
int pmb_papi_start(void *thread_state, int pass);
int pmb_papi_stop_and_read(void *thread_state, int pass, const char *label,
			   struct pmb_counter_values *values);
void pmb_papi_thread_close(void *thread_state);

#endif
