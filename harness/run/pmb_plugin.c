/* pmb_plugin.c — --kernel-lib: families from shared objects.
 *
 * Plugins are checked once, at load, with the same rules tests/test_kernels
 * applies to the built-in table (every field set, one family per array, no
 * name used twice), so a broken plugin fails before the run starts, with
 * the file named, instead of as a crash in the middle of a sweep. */
#include "pmb_plugin.h"
#include "pmb_error.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static struct {
	const struct pmb_kernel *family;
	char path[512];
} plugins[PMB_MAX_PLUGINS];
static size_t nplugins;

static int family_taken(const char *name)
{
	for (const struct pmb_kernel *const *f = pmb_kernel_families; *f; f++)
		if (!strcmp((*f)->family, name))
			return 1;
	for (size_t i = 0; i < nplugins; i++)
		if (!strcmp(plugins[i].family->family, name))
			return 1;
	return 0;
}

static int check_family(const char *path, const struct pmb_kernel *fam)
{
	if (!fam || !fam->family)
		return pmb_error("--kernel-lib %s: pmb_plugin_kernels has no variant; end the "
				 "array with {0} after at least one entry",
				 path);
	for (const struct pmb_kernel *k = fam; k->family; k++) {
		const char *missing = !k->variant		   ? "variant"
				      : !k->description		   ? "description"
				      : !k->signature		   ? "signature"
				      : !k->bytes_per_elem	   ? "bytes_per_elem"
				      : !k->setup		   ? "setup"
				      : !k->run			   ? "run"
				      : !k->check		   ? "check"
				      : !k->teardown		   ? "teardown"
				      : strcmp(k->family, fam->family) ? "family (one family per array)"
								       : NULL;
		if (missing)
			return pmb_error("--kernel-lib %s: variant %zu (%s/%s) has no %s; every "
					 "field of struct pmb_kernel must be set",
					 path, (size_t)(k - fam), k->family,
					 k->variant ? k->variant : "?", missing);
		if (strchr(k->family, '/') || strchr(k->variant, '/') || strchr(k->family, ',') ||
		    strchr(k->variant, ','))
			return pmb_error("--kernel-lib %s: '%s/%s': names may not contain '/' or ','",
					 path, k->family, k->variant);
	}
	if (family_taken(fam->family))
		return pmb_error("--kernel-lib %s: family '%s' already exists (built in or loaded "
				 "earlier); rename the plugin's family",
				 path, fam->family);
	return 0;
}

int pmb_plugin_load(const char *path)
{
	if (nplugins == PMB_MAX_PLUGINS)
		return pmb_error("--kernel-lib: at most %d plugins", PMB_MAX_PLUGINS);
	/* dlopen searches the library path for a bare name: "./x.so" is meant. */
	char full[512];
	snprintf(full, sizeof full, "%s%s", strchr(path, '/') ? "" : "./", path);
	/* RTLD_NODELETE: rows keep pointers to the plugin's strings until exit. */
	void *h = dlopen(full, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h)
		return pmb_error("--kernel-lib %s: cannot load: %s; build it with cc -shared -fPIC "
				 "against pmb_kernel.h (docs/integrations.md)",
				 path, dlerror());
	const int *abi = dlsym(h, "pmb_plugin_abi");
	const struct pmb_kernel *const *fam = dlsym(h, "pmb_plugin_kernels");
	if (!abi || !fam)
		return pmb_error("--kernel-lib %s: no pmb_plugin_abi/pmb_plugin_kernels symbols; "
				 "export the family with PMB_PLUGIN_KERNELS(array)",
				 path);
	if (*abi != PMB_KERNEL_ABI)
		return pmb_error("--kernel-lib %s: built for kernel ABI %d, this pmubench has %d; "
				 "rebuild the plugin against this pmb_kernel.h",
				 path, *abi, PMB_KERNEL_ABI);
	if (check_family(path, *fam) != 0)
		return -1;
	plugins[nplugins].family = *fam;
	snprintf(plugins[nplugins].path, sizeof plugins[nplugins].path, "%s", path);
	nplugins++;
	return 0;
}

const struct pmb_kernel *pmb_plugin_family(size_t i)
{
	return i < nplugins ? plugins[i].family : NULL;
}

const char *pmb_plugin_path(size_t i)
{
	return i < nplugins ? plugins[i].path : "";
}

size_t pmb_plugin_count(void)
{
	return nplugins;
}

const char *pmb_plugin_source(const struct pmb_kernel *k)
{
	for (size_t i = 0; i < nplugins; i++)
		for (const struct pmb_kernel *v = plugins[i].family; v->family; v++)
			if (v == k)
				return plugins[i].path;
	return NULL;
}
