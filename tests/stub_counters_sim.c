/* Link stand-in for the sim backend, for test_counters only; the real one
 * is harness/pmb_counters_sim.c. */
#include "pmb_counters.h"

const struct pmb_counter_backend pmb_counter_backend_sim = { .name = "sim" };
