#include "pmb_file.h"
#include "pmb_error.h"

#include <errno.h>
#include <string.h>

int pmb_file_replace(const char *path, const char *tmp,
		     void (*write)(FILE *f, const void *ctx), const void *ctx)
{
	FILE *f = fopen(tmp, "w");
	if (!f)
		return pmb_error("cannot write %s: %s; check that --out is writable", tmp,
				 strerror(errno));
	write(f, ctx);
	int bad = ferror(f);
	errno = 0;
	if (fclose(f) != 0 || bad) {
		int e = errno ? errno : EIO;
		remove(tmp);
		return pmb_error("cannot write %s: %s; free space or choose another --out", path,
				 strerror(e));
	}
	if (rename(tmp, path) != 0) {
		int e = errno;
		remove(tmp);
		return pmb_error("cannot rename %s to %s: %s", tmp, path, strerror(e));
	}
	return 0;
}
