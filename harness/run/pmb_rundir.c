/* The run directory's life: staged, published, locked, resumed.  The
 * identity file is what a --resume must match; the arguments file lets
 * `--resume DIR` alone rebuild the same plan. */
#define _GNU_SOURCE
#include "pmb_rundir.h"
#include "pmb_error.h"
#include "pmb_system.h"
#include "pmb_meta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PMB_GIT_COMMIT
#define PMB_GIT_COMMIT "unknown"
#endif

#define LOCK_NAME ".pmubench-lock"
#define ARGS_PREFIX ".pmubench-args-"
#define IDENTITY_PREFIX ".pmubench-identity-"

static int path_in(char *out, size_t n, const char *dir, const char *prefix, const char *name)
{
	if ((size_t)snprintf(out, n, "%s/%s%s", dir, prefix, name) >= n)
		return pmb_error("path too long: %s/%s%s", dir, prefix, name);
	return 0;
}

/* Whole file or nothing: a temporary file renamed into place. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[1300];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return pmb_error("cannot write %s: %s; pass a writable --out", path, strerror(errno));
	size_t done = 0;
	int e = 0;
	while (done < len && !e) {
		ssize_t w = write(fd, data + done, len - done);
		if (w > 0)
			done += (size_t)w;
		else if (w < 0 && errno != EINTR)
			e = errno;
		else if (w == 0)
			e = ENOSPC;
	}
	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e) {
		unlink(tmp);
		return pmb_error("cannot write %s: %s; free space or choose another --out", path,
				 strerror(e));
	}
	return 0;
}

static int mkdir_parents(const char *path)
{
	char parent[1024];
	snprintf(parent, sizeof parent, "%s", path);
	for (char *p = parent + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(parent, 0777) != 0 && errno != EEXIST)
			return pmb_error("cannot create directory '%s': %s; check the path and its "
					 "permissions",
					 parent, strerror(errno));
		*p = '/';
	}
	return 0;
}

/* One writer per run directory: a second run or resume on it would
 * interleave rows and repeat every point. */
static int take_lock(struct pmb_rundir *rd, const char *dir)
{
	char path[1200];
	if (path_in(path, sizeof path, dir, LOCK_NAME, "") != 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return pmb_error("cannot open %s: %s; check that the run directory is writable",
				 path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK)
			return pmb_error("run directory '%s' is in use by another pmubench (pid %s); "
					 "wait for it to finish or stop it, then resume with --resume %s",
					 dir, pid[0] ? pid : "unknown", dir);
		return pmb_error("cannot lock %s: %s", path, strerror(e));
	}
	char pid[32];
	int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		/* The pid is a courtesy for the message above; the lock holds. */
	}
	rd->lock_fd = fd;
	return 0;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static int config_digest(const char *path, char *out, size_t n)
{
	if (!path[0]) {
		snprintf(out, n, "none");
		return 0;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return pmb_error("cannot read config '%s': %s", path, strerror(errno));
	uint64_t h = 14695981039346656037ull;
	char buf[4096];
	size_t r;
	while ((r = fread(buf, 1, sizeof buf, f)) > 0)
		h = fnv1a(h, buf, r);
	fclose(f);
	snprintf(out, n, "%s fnv64:%016llx", path, (unsigned long long)h);
	return 0;
}

/* What a resumed run must share with the run it continues, one
 * `key=value` line each: rows of different binaries, configs or plans must
 * never be mixed under one flag set.  --quiet, --out and the like are not
 * in it: they do not change a measurement. */
static int identity_text(const struct pmb_options *o, const struct pmb_plan *plan,
			 const char *meta_name, char *out, size_t n)
{
	char config[700];
	if (config_digest(o->config_path, config, sizeof config) != 0)
		return -1;
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < plan->npoints; i++) {
		const struct pmb_point *p = &plan->points[i];
		char key[256];
		int len = snprintf(key, sizeof key, "%s/%s %llu %zu %d;", p->kernel->family,
				   p->kernel->variant, (unsigned long long)p->size_bytes, p->n_elems,
				   p->threads);
		h = fnv1a(h, key, (size_t)len);
	}
	char cores[512] = "";
	for (size_t i = 0; i < o->ncores; i++)
		snprintf(cores + strlen(cores), sizeof cores - strlen(cores), "%s%d", i ? "," : "",
			 o->cores[i]);
	snprintf(out, n,
		 "meta=%s\ncommit=%s\ncompiler=%s\ncflags=%s\nconfig=%s\n"
		 "options=backend %s, counters 0x%x%s%s, cores [%s], samples %llu..%llu, target_ci %.9g, "
		 "warmup_ms %.9g, min_sample_ms %.9g, point_seconds %.9g, seed %llu, interleave %d, rounds %llu\n"
		 "plan=%zu points fnv64:%016llx\n",
		 meta_name, PMB_GIT_COMMIT, pmb_meta_compiler(), pmb_meta_cflags(), config,
		 o->backend, (unsigned)o->counters, *pmb_user_events_list() ? " events " : "",
		 pmb_user_events_list(), cores, (unsigned long long)o->min_samples,
		 (unsigned long long)o->max_samples, o->target_ci, o->warmup_ms, o->min_sample_ms,
		 o->point_seconds, (unsigned long long)o->seed, o->interleave,
		 (unsigned long long)o->rounds, plan->npoints,
		 (unsigned long long)h);
	return 0;
}

/* The value of `key=` in identity text, copied to out; "" if absent. */
static void identity_value(const char *text, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);
	out[0] = '\0';
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			size_t len = strcspn(line + klen + 1, "\n");
			snprintf(out, n, "%.*s", (int)len, line + klen + 1);
			return;
		}
}

static int read_small(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t len = fread(buf, 1, n - 1, f);
	buf[len] = '\0';
	fclose(f);
	return 0;
}

static const char *const identity_keys[][2] = {
	{"commit", "git commit of the binary"},
	{"compiler", "compiler"},
	{"cflags", "compiler flags (cflags)"},
	{"config", "config file or config contents"},
	{"options", "measurement options"},
	{"plan", "plan (kernels x sizes x threads)"},
};

static int check_identity(const char *dir, const char *flagset, const char *saved,
			  const char *now)
{
	char diff[1500] = "";
	for (size_t i = 0; i < sizeof identity_keys / sizeof identity_keys[0]; i++) {
		char a[600], b[600];
		identity_value(saved, identity_keys[i][0], a, sizeof a);
		identity_value(now, identity_keys[i][0], b, sizeof b);
		if (strcmp(a, b) != 0)
			snprintf(diff + strlen(diff), sizeof diff - strlen(diff),
				 "%sdifferent %s (run: '%.150s'; now: '%.150s')", diff[0] ? "; " : "",
				 identity_keys[i][1], a, b);
	}
	if (!diff[0])
		return 0;
	return pmb_error("--resume: refusing to mix results in %s (flag set %s): %s; resume with "
			 "the binary, config and options that started it, or start a new run",
			 dir, flagset, diff);
}

static int save_args(const char *dir, const char *flagset, int argc, char **argv)
{
	char path[1200];
	if (path_in(path, sizeof path, dir, ARGS_PREFIX, flagset) != 0)
		return -1;
	size_t len = 0;
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *text = malloc(len + 1);
	if (!text)
		return pmb_error("out of memory");
	size_t off = 0;
	for (int i = 1; i < argc; i++) {
		memcpy(text + off, argv[i], strlen(argv[i]) + 1);
		off += strlen(argv[i]) + 1;
	}
	int rc = write_atomic(path, text, len);
	free(text);
	return rc;
}

int pmb_rundir_load_args(const char *run_dir, const char *flagset, int *argc, char ***argv)
{
	static char text[65536];
	static char *args[1024];
	char path[1200];
	if (path_in(path, sizeof path, run_dir, ARGS_PREFIX, flagset) != 0)
		return -1;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return pmb_error("--resume: cannot read %s: %s", path, strerror(errno));
	}
	size_t len = fread(text, 1, sizeof text, f);
	int full = len == sizeof text;
	fclose(f);
	if (full || (len && text[len - 1] != '\0'))
		return pmb_error("--resume: %s is damaged; resume with the run's original options "
				 "given again, after deleting that file",
				 path);
	int n = 0;
	args[n++] = (*argv)[0];
	for (size_t i = 0; i < len && n < 1000; i += strlen(text + i) + 1)
		args[n++] = text + i;
	for (int i = 1; i < *argc && n < 1023; i++)
		args[n++] = (*argv)[i];
	args[n] = NULL;
	*argc = n;
	*argv = args;
	return 0;
}

static void set_dir(struct pmb_run_info *run, const char *dir)
{
	snprintf(run->run_dir, sizeof run->run_dir, "%s", dir);
	size_t len = strlen(run->run_dir);
	while (len > 1 && run->run_dir[len - 1] == '/')
		run->run_dir[--len] = '\0';
	const char *base = strrchr(run->run_dir, '/');
	snprintf(run->run_id, sizeof run->run_id, "%s", base ? base + 1 : run->run_dir);
}

static int check_out_dir(const char *out)
{
	if (mkdir(out, 0777) != 0 && errno != EEXIST)
		return pmb_error("cannot create results directory '%s': %s; create it or pass a "
				 "writable --out",
				 out, strerror(errno));
	struct stat st;
	if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
		return pmb_error("--out '%s' is not a directory; pass a directory", out);
	if (access(out, W_OK | X_OK) != 0)
		return pmb_error("results directory '%s' is not writable: %s; fix its permissions "
				 "or pass another --out",
				 out, strerror(errno));
	return 0;
}

/* A new run: a hidden staging directory in the results root, renamed to
 * its final name once meta.json is written. */
static int stage_new(struct pmb_rundir *rd, const char *out, const char *final_dir,
		     struct pmb_run_info *run)
{
	if (check_out_dir(out) != 0)
		return -1;
	snprintf(rd->final_dir, sizeof rd->final_dir, "%s", final_dir);
	const char *base = strrchr(final_dir, '/');
	snprintf(rd->staging, sizeof rd->staging, "%s/.pmb-staging-%.200s-XXXXXX", out,
		 base ? base + 1 : final_dir);
	if (!mkdtemp(rd->staging)) {
		int e = errno;
		rd->staging[0] = '\0';
		return pmb_error("cannot create a run directory in '%s': %s; pass a writable --out",
				 out, strerror(e));
	}
	/* mkdtemp makes it 0700; a run directory gets the usual mode. */
	mode_t mask = umask(0);
	umask(mask);
	chmod(rd->staging, 0777 & ~mask);
	if (take_lock(rd, rd->staging) != 0)
		return -1;
	set_dir(run, final_dir);
	snprintf(run->run_dir, sizeof run->run_dir, "%s", rd->staging);
	return 0;
}

static int open_new(struct pmb_rundir *rd, const struct pmb_options *opt, const char *host,
		    struct pmb_run_info *run)
{
	char stamp[32], final_dir[1024];
	pmb_meta_utc_now(stamp, sizeof stamp, 1);
	snprintf(rd->base_id, sizeof rd->base_id, "%s-%s-%s", opt->config_name, host, stamp);
	snprintf(rd->out_dir, sizeof rd->out_dir, "%s", opt->out_dir);
	snprintf(final_dir, sizeof final_dir, "%s/%s", opt->out_dir, rd->base_id);
	rd->auto_name = 1;
	return stage_new(rd, opt->out_dir, final_dir, run);
}

static int open_run_dir(struct pmb_rundir *rd, const struct pmb_options *opt,
			struct pmb_run_info *run)
{
	struct stat st;
	if (mkdir_parents(opt->run_dir) != 0)
		return -1;
	if (stat(opt->run_dir, &st) != 0) {
		/* A new directory: staged in its parent like any new run. */
		char parent[1024];
		snprintf(parent, sizeof parent, "%s", opt->run_dir);
		size_t len = strlen(parent);
		while (len > 1 && parent[len - 1] == '/')
			parent[--len] = '\0';
		char *slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			snprintf(parent, sizeof parent, ".");
		return stage_new(rd, parent, opt->run_dir, run);
	}
	if (!S_ISDIR(st.st_mode))
		return pmb_error("--run-dir '%s' is not a directory; pass a directory", opt->run_dir);
	set_dir(run, opt->run_dir);
	if (take_lock(rd, run->run_dir) != 0)
		return -1;
	char path[1200];
	path_in(path, sizeof path, run->run_dir, IDENTITY_PREFIX, opt->flagset);
	if (access(path, F_OK) == 0)
		return pmb_error("--run-dir: '%s' already has results of flag set '%s' and is never "
				 "overwritten; continue it with --resume %s --flagset %s, or pick a "
				 "new directory",
				 run->run_dir, opt->flagset, run->run_dir, opt->flagset);
	/* meta.json describes the first flag set, meta-<flagset>.json the others. */
	path_in(path, sizeof path, run->run_dir, "meta.json", "");
	if (access(path, F_OK) == 0)
		snprintf(run->meta_name, sizeof run->meta_name, "meta-%s.json", opt->flagset);
	return 0;
}

static int open_resume(struct pmb_rundir *rd, const struct pmb_options *opt,
		       const struct pmb_plan *plan, struct pmb_run_info *run)
{
	struct stat st;
	if (stat(opt->resume_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return pmb_error("--resume: '%s' is not a run directory; give a directory under "
				 "results/",
				 opt->resume_dir);
	set_dir(run, opt->resume_dir);
	char path[1200], saved[4096], now[4096];
	path_in(path, sizeof path, run->run_dir, IDENTITY_PREFIX, opt->flagset);
	if (read_small(path, saved, sizeof saved) != 0)
		return pmb_error("--resume: '%s' is not a pmubench run of this version, or has no "
				 "results of flag set '%s' (no %s%s); give its --flagset, or start "
				 "a new run",
				 opt->resume_dir, opt->flagset, IDENTITY_PREFIX, opt->flagset);
	if (take_lock(rd, run->run_dir) != 0)
		return -1;
	identity_value(saved, "meta", run->meta_name, sizeof run->meta_name);
	if (!run->meta_name[0] || strchr(run->meta_name, '/'))
		return pmb_error("--resume: %s is damaged (no meta= line); start a new run", path);
	if (identity_text(opt, plan, run->meta_name, now, sizeof now) != 0)
		return -1;
	return check_identity(run->run_dir, opt->flagset, saved, now);
}

int pmb_rundir_open(struct pmb_rundir *rd, const struct pmb_options *opt, const char *host,
		    const struct pmb_plan *plan, int argc, char **argv, struct pmb_run_info *run)
{
	memset(rd, 0, sizeof *rd);
	rd->lock_fd = -1;
	snprintf(run->meta_name, sizeof run->meta_name, "meta.json");
	if (opt->resume_dir[0])
		return open_resume(rd, opt, plan, run);
	int rc = opt->run_dir[0] ? open_run_dir(rd, opt, run) : open_new(rd, opt, host, run);
	if (rc != 0)
		return rc;
	char path[1200], text[4096];
	if (identity_text(opt, plan, run->meta_name, text, sizeof text) != 0 ||
	    save_args(run->run_dir, opt->flagset, argc, argv) != 0 ||
	    path_in(path, sizeof path, run->run_dir, IDENTITY_PREFIX, opt->flagset) != 0)
		return -1;
	return write_atomic(path, text, strlen(text));
}

int pmb_rundir_publish(struct pmb_rundir *rd, struct pmb_run_info *run)
{
	if (!rd->staging[0])
		return 0;
	for (int attempt = 1; attempt < 100; attempt++) {
		char target[1024];
		if (attempt == 1)
			snprintf(target, sizeof target, "%s", rd->final_dir);
		else if (rd->auto_name)
			snprintf(target, sizeof target, "%s/%s-%d", rd->out_dir, rd->base_id, attempt);
		else
			break;
		/* RENAME_NOREPLACE: an existing run (even an empty directory) is
		 * never replaced. */
		if (renameat2(AT_FDCWD, rd->staging, AT_FDCWD, target, RENAME_NOREPLACE) == 0) {
			rd->staging[0] = '\0';
			set_dir(run, target);
			return attempt > 1;
		}
		if (errno != EEXIST && errno != ENOTEMPTY)
			return pmb_error("cannot rename %s to %s: %s", rd->staging, target,
					 strerror(errno));
	}
	return pmb_error("cannot publish the run as '%s': the name is taken; pick another "
			 "--run-dir",
			 rd->final_dir);
}


void pmb_rundir_close(struct pmb_rundir *rd)
{
	if (rd->staging[0]) {
		pmb_system_remove_flat_dir(rd->staging);
		rd->staging[0] = '\0';
	}
	if (rd->lock_fd >= 0)
		close(rd->lock_fd);
	rd->lock_fd = -1;
}
