#include "pmb_baseline.h"
#include "pmb_error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pmb_baseline_check_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 63 || name[0] == '.' ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len)
		return pmb_error("baseline name '%s': use 1-63 letters, digits, '.', '_' or '-', "
				 "not starting with '.' (e.g. main or before-fix)",
				 name);
	return 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		return pmb_error("--save-baseline: cannot create %s: %s", path, strerror(errno));
	return 0;
}

int pmb_baseline_save(const char *run_dir, const char *host, const char *name)
{
	if (pmb_baseline_check_name(name) != 0)
		return -1;
	char parent[1024], dir[1200], link[1300], tmp[1400], target[1100];
	snprintf(parent, sizeof parent, "%s", run_dir);
	size_t len = strlen(parent);
	while (len > 1 && parent[len - 1] == '/')
		parent[--len] = '\0';
	char *slash = strrchr(parent, '/');
	const char *base = slash ? slash + 1 : parent;
	/* The link is relative (../../<run>), so moving results/ keeps it. */
	snprintf(target, sizeof target, "../../%s", base);
	if (slash)
		*slash = '\0';
	else
		snprintf(parent, sizeof parent, ".");
	snprintf(dir, sizeof dir, "%s/.baselines", parent);
	if (make_dir(dir) != 0)
		return -1;
	snprintf(dir, sizeof dir, "%s/.baselines/%s", parent, host);
	if (make_dir(dir) != 0)
		return -1;
	snprintf(link, sizeof link, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
	unlink(tmp);
	if (symlink(target, tmp) != 0 || rename(tmp, link) != 0)
		return pmb_error("--save-baseline: cannot write %s: %s", link, strerror(errno));
	return 0;
}
