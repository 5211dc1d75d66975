/* pmb_papi_load.c — loading and starting PAPI for the PAPI backend.
 *
 * PAPI is loaded with dlopen rather than linked, so that a machine without
 * the library still runs every benchmark: its counters come out unavailable
 * with a reason instead of the program failing to start.  <papi.h> is still
 * used for constants, types and (through __typeof__) the exact signatures
 * of the functions resolved at run time.  Runs on the main thread only.
 */
#define _GNU_SOURCE
#include "pmb_papi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pmb_papi_api pmb_papi;
int pmb_papi_ready;

static void *papi_handle;

const char *pmb_papi_text(int code)
{
	const char *s = pmb_papi.strerror ? pmb_papi.strerror(code) : NULL;
	return s ? s : "unknown PAPI error";
}

/* dlopen the library (PMB_PAPI_LIBRARY, else the Debian sonames) and
 * resolve every function of PAPI_FUNCS; -1 with why if any is missing. */
static int load_library(char *why, size_t size)
{
	static const char *const names[] = { "libpapi.so.7.0", "libpapi.so.7", "libpapi.so" };
	const char *env = getenv("PMB_PAPI_LIBRARY");
	char first_err[160] = "";
	const char *used = NULL;

	if (env && *env) {
		papi_handle = dlopen(env, RTLD_NOW | RTLD_LOCAL);
		used = env;
		if (!papi_handle)
			snprintf(first_err, sizeof first_err, "%s", dlerror());
	} else {
		for (size_t i = 0; i < sizeof names / sizeof names[0] && !papi_handle; i++) {
			papi_handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
			used = names[i];
			/* The first name's error is the telling one: the later
			 * names are only fallbacks for other packagings. */
			if (!papi_handle && !first_err[0])
				snprintf(first_err, sizeof first_err, "%s", dlerror());
		}
	}
	if (!papi_handle) {
		snprintf(why, size, "PAPI library not found (dlopen: %s); install it: apt-get install libpapi7.0 (or libpapi-dev)",
			 first_err);
		return -1;
	}
#define X(f)                                                                    \
	pmb_papi.f = (__typeof__(pmb_papi.f))dlsym(papi_handle, "PAPI_" #f);            \
	if (!pmb_papi.f) {                                                          \
		snprintf(why, size, "PAPI library %s lacks PAPI_" #f "; install PAPI 7: apt-get install libpapi7.0", used); \
		goto bad;                                                       \
	}
	PAPI_FUNCS(X)
#undef X
	return 0;
bad:
	dlclose(papi_handle);
	papi_handle = NULL;
	memset(&pmb_papi, 0, sizeof pmb_papi);
	return -1;
}

static unsigned long thread_id(void)
{
	return (unsigned long)pthread_self();
}

/* Only the CPU's counters matter here.  The GPU, network and power
 * components probe devices at init: slow, and rocm_smi prints
 * "Exception caught: rsmi_init" on machines without an AMD GPU.  A
 * component this PAPI build lacks answers PAPI_ENOCMP: harmless. */
static void disable_unused_components(void)
{
	static const char *const unused_components[] = {
		"rocm", "rocm_smi", "cuda", "nvml", "infiniband", "net", "powercap",
		"powercap_ppc", "rapl", "lmsensors", "coretemp", "io", "appio",
		"stealtime", "lustre", "mx", "micpower", "host_micpower", "libmsr",
		"pcp", "sde", "sysdetect", "vmware", "intel_gpu", "topdown", "bgpm",
		"emon", "example",
	};
	for (size_t c = 0; c < sizeof unused_components / sizeof unused_components[0]; c++)
		pmb_papi.disable_component_by_name(unused_components[c]);
}

/* PAPI_library_init; -1 with why (a library of another major version, or
 * PAPI's own error) after unloading again. */
static int start_library(char *why, size_t size)
{
	int ret = pmb_papi.library_init(PAPI_VER_CURRENT);
	if (ret == PAPI_VER_CURRENT) {
		pmb_papi_ready = 1;
		return 0;
	}
	/* A positive answer is the library's own version: another
	 * major than <pmb_papi.h>, so its structures cannot be trusted. */
	if (ret > 0)
		snprintf(why, size, "PAPI library is version %d.%d, pmubench was built for %d.%d; install libpapi7.0 or rebuild",
			 PAPI_VERSION_MAJOR(ret), PAPI_VERSION_MINOR(ret),
			 PAPI_VERSION_MAJOR(PAPI_VER_CURRENT), PAPI_VERSION_MINOR(PAPI_VER_CURRENT));
	else
		snprintf(why, size, "PAPI_library_init failed: %s; run papi_component_avail to see why",
			 pmb_papi_text(ret));
	pmb_papi_unload();
	return -1;
}

int pmb_papi_load(char *why, size_t size, char *version, size_t vsize)
{
	if (load_library(why, size) < 0)
		return -1;
	disable_unused_components();
	if (start_library(why, size) < 0)
		return -1;
	int v = pmb_papi.get_opt(PAPI_LIB_VERSION, NULL);
	if (v > 0)
		snprintf(version, vsize, "PAPI %d.%d.%d.%d", PAPI_VERSION_MAJOR(v),
			 PAPI_VERSION_MINOR(v), PAPI_VERSION_REVISION(v), PAPI_VERSION_INCREMENT(v));
	int ret = pmb_papi.thread_init(thread_id);
	if (ret != PAPI_OK) {
		snprintf(why, size, "PAPI_thread_init failed: %s; PAPI cannot count per thread here",
			 pmb_papi_text(ret));
		return -1;
	}
	return 0;
}

void pmb_papi_unload(void)
{
	if (pmb_papi_ready)
		pmb_papi.shutdown();
	pmb_papi_ready = 0;
	if (papi_handle)
		dlclose(papi_handle);
	papi_handle = NULL;
	memset(&pmb_papi, 0, sizeof pmb_papi);
}
