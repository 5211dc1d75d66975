/* Linked only into sanitizer builds (scripts/mk/checks.mk, -Wl,--wrap=dlclose):
 * dlclose does nothing, so PAPI stays loaded to the end.  PAPI keeps its own
 * allocations in its static data and PAPI_shutdown does not free them; once
 * the library is unloaded LeakSanitizer reports them as leaks in an unknown
 * module, which no suppression can match.  Kept loaded, they are reachable
 * and leak checking stays on for everything else. */
int __wrap_dlclose(void *handle);

int __wrap_dlclose(void *handle)
{
	(void)handle;
	return 0;
}
