/* pmb_sim_launch.c — `--backend sim` re-runs the whole command under
 * valgrind's callgrind.  main() calls pmb_sim_launch() first, before any
 * other work, so the counter backend (pmb_counters_sim.c) only ever runs
 * inside valgrind.
 *
 * pmb_sim_launch() in the native process forks; the child execs
 *     valgrind --tool=callgrind ... <our exe> <our argv...>
 * so main() starts over under valgrind; pmb_sim_launch() sees
 * RUNNING_ON_VALGRIND and returns, and the backend init() sets up for real.  The native parent
 * only waits, removes the temporary directory it made, and exits with the
 * child's status; pmb_sim_launch() never returns in it unless valgrind could not be
 * started, in which case it returns -1 with the reason.
 *
 * Why fork + exec and not a plain re-exec: callgrind always writes a final
 * whole-run profile at exit (<out-file> without a part number), after the
 * backend's fini() has run.  If fini() removed the temporary directory, that write
 * fails and callgrind turns the exit status into 1.  Only a process that
 * outlives valgrind can clean the directory up, so the parent stays.  With
 * PMB_SIM_DIR (the run directory) the final profile and valgrind's log stay
 * there for whoever wants them (kcachegrind can open the profile).
 *
 */
#define _GNU_SOURCE
#include "pmb_error.h"
#include "pmb_sim.h"
#include "pmb_system.h"
#include "pmb_sim_launch.h"
#include "pmb_topology.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#define ENV_I1 "PMB_SIM_I1"         /* public overrides "size,assoc,line" */
#define ENV_D1 "PMB_SIM_D1"
#define ENV_LL "PMB_SIM_LL"

/* Callgrind simulates an LL of any size, but its tag array and the run time
 * of a cold sweep grow with it; beyond 256 MiB the number is fantasy on the
 * machines we model anyway. */
#define SIM_LL_MAX (256ull * 1024 * 1024)
#define SIM_L1_MAX (1024ull * 1024)

static const char valgrind_missing[] =
	"valgrind not found: the sim backend runs the harness under valgrind's callgrind; "
	"install it: apt-get install valgrind";

static uint64_t floor_pow2(uint64_t x)
{
	uint64_t p = 1;
	if (x == 0)
		return 0;
	while (p <= x / 2)
		p *= 2;
	return p;
}

/* valgrind (cg_arch.c) accepts a cache only if the line is a power of two
 * >= 16, size > line, assoc <= size/line, and sets = size/(line*assoc) is a
 * power of two.  Firmware numbers (48 KiB 12-way, 508 MB "L3") often are
 * not, so we round DOWN — never simulate more cache than was reported — to
 * the nearest geometry that is.  assoc 0 is hwloc's "unknown or fully
 * associative": a fully associative multi-MiB cache would make callgrind's
 * linear way search crawl, so it becomes default_assoc.  Writes
 * "size,assoc,line" into out; returns 0, or -1 with pmb_error(). */
int pmb_sim_cache_geometry(uint64_t size, unsigned assoc, unsigned line, unsigned default_assoc,
			   uint64_t max_size, char *out, size_t outsz)
{
	if (line == 0)
		line = 64;
	line = (unsigned)floor_pow2(line);
	if (line < 16)
		line = 16;
	if (assoc == 0)
		assoc = default_assoc;
	if (size > max_size)
		size = max_size;
	if (size < 2ull * line)
		return pmb_error("cache of %llu bytes is too small to simulate with %u-byte lines",
				 (unsigned long long)size, line);
	if ((uint64_t)assoc * line > size)
		assoc = (unsigned)(size / line);
	uint64_t sets = floor_pow2(size / ((uint64_t)line * assoc));
	size = sets * line * assoc;
	snprintf(out, outsz, "%llu,%u,%u", (unsigned long long)size, assoc, line);
	return 0;
}

/* An explicit override is taken literally: rounding what someone typed
 * would hide their mistake, so invalid ones are errors. */
static int parse_override(const char *var, const char *value, uint64_t max_size, char *out,
			  size_t outsz)
{
	unsigned long long size;
	unsigned assoc, line;
	char tail;
	char check[64];
	if (sscanf(value, "%llu,%u,%u%c", &size, &assoc, &line, &tail) != 3 || assoc == 0)
		return pmb_error("%s=%s: expected size,assoc,line in bytes (e.g. 1048576,16,64)",
				 var, value);
	if (pmb_sim_cache_geometry(size, assoc, line, assoc, max_size, check, sizeof check) != 0 ||
	    snprintf(out, outsz, "%llu,%u,%u", size, assoc, line) < 0 || strcmp(check, out) != 0)
		return pmb_error("%s=%s is not a geometry valgrind can simulate (size must be "
				 "line*assoc*2^k, line a power of two >= 16, at most %llu bytes); "
				 "nearest below: %s",
				 var, value, (unsigned long long)max_size, check);
	return 0;
}

static int cache_args(char *i1, char *d1, char *ll, size_t n)
{
	const struct pmb_topology_info *topo = NULL;
	const char *env;
	snprintf(i1, n, "32768,8,64");
	if (pmb_topology_load(&topo) != 0) {
		pmb_warn("sim: topology unavailable (%s); simulating D1=32768,8,64 LL=8388608,16,64",
			 pmb_error_message());
		snprintf(d1, n, "32768,8,64");
		snprintf(ll, n, "8388608,16,64");
	} else {
		const struct pmb_cache_level *l1 = &topo->cache[0];
		const struct pmb_cache_level *last = &topo->cache[topo->llc_level - 1];
		if (pmb_sim_cache_geometry(l1->size ? l1->size : 32768, l1->assoc, l1->line_size, 8,
					   SIM_L1_MAX, d1, n) != 0 ||
		    pmb_sim_cache_geometry(last->size ? last->size : 8388608, last->assoc,
					   last->line_size, 16, SIM_LL_MAX, ll, n) != 0)
			return -1;
	}
	if ((env = getenv(ENV_I1)) && *env && parse_override(ENV_I1, env, SIM_L1_MAX, i1, n))
		return -1;
	if ((env = getenv(ENV_D1)) && *env && parse_override(ENV_D1, env, SIM_L1_MAX, d1, n))
		return -1;
	if ((env = getenv(ENV_LL)) && *env && parse_override(ENV_LL, env, SIM_LL_MAX, ll, n))
		return -1;
	return 0;
}

/* execvp's own lookup, done first so "not installed" is an error init() can
 * return before anything was created. */
static int find_in_path(const char *name, char *out, size_t outsz)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		struct stat st;
		snprintf(out, outsz, "%.*s/%s", (int)len, len ? path : ".", name);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		path += len + (end != NULL);
	}
	return -1;
}

/* Our argv as the kernel recorded it.  argv[] itself may have been permuted
 * by getopt, but the string area /proc shows is untouched. */
static char *read_cmdline(size_t *len)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* Waits for valgrind and leaves with its status; never returns. */
static void supervise(pid_t pid, const char *owned_dir)
{
	int status = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	child_pid = pid;
	/* A terminal's ^C reaches the whole process group, valgrind included;
	 * killing ourselves first would orphan it and skip the clean-up. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGQUIT, &sa, NULL);
	/* A signal aimed at our pid (kill -INT, timeout(1), a CI runner) must
	 * reach the process doing the work; a terminal's ^C reaches both, and
	 * the harness takes a second INT like the first. */
	sa.sa_handler = forward_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		/* A crash is worth a look at valgrind's log; an interrupt or a
		 * closed pipe (| head) is not. */
		int crash = sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
			    sig == SIGABRT || sig == SIGSYS || sig == SIGKILL;
		if (owned_dir && crash)
			fprintf(stderr, "pmubench: valgrind died of signal %d; its log is kept in %s\n",
				sig, owned_dir);
		else if (owned_dir)
			pmb_system_remove_flat_dir(owned_dir);
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		_exit(128 + sig);
	}
	if (owned_dir)
		pmb_system_remove_flat_dir(owned_dir);
	/* _exit: the child already ran the harness's atexit work (meta.json
	 * and the like); running it again here would duplicate it. */
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* The directory for callgrind's files: PMB_SIM_DIR when given (kept), else
 * a temporary one the supervisor removes (*owned). */
static int callgrind_dir(char *dir, size_t n, int *owned)
{
	const char *env_dir = getenv(PMB_SIM_ENV_DIR);
	*owned = 0;
	if (env_dir && *env_dir) {
		if (mkdir(env_dir, 0777) != 0 && errno != EEXIST)
			return pmb_error("cannot create %s=%s: %s", PMB_SIM_ENV_DIR, env_dir,
					 strerror(errno));
		snprintf(dir, n, "%s", env_dir);
		return 0;
	}
	snprintf(dir, n, "/tmp/pmb-sim-XXXXXX");
	if (!mkdtemp(dir))
		return pmb_error("cannot create a directory under /tmp for callgrind's files: %s",
				 strerror(errno));
	*owned = 1;
	return 0;
}

/* valgrind's command line: its options, then this process's own. */
static struct {
	char i1[64], d1[64], ll[64];
	char opt_i1[80], opt_d1[80], opt_ll[80], opt_out[PATH_MAX + 40], opt_log[PATH_MAX + 40];
} args;

static char **valgrind_argv(const char *exe, const char *dir, char *cmdline, size_t cmdlen)
{
	int nargs = 0;
	for (size_t i = 0; i < cmdlen; i++)
		nargs += cmdline[i] == '\0';
	char **argv = calloc((size_t)nargs + 24, sizeof *argv);
	if (!argv)
		return NULL;
	snprintf(args.opt_i1, sizeof args.opt_i1, "--I1=%s", args.i1);
	snprintf(args.opt_d1, sizeof args.opt_d1, "--D1=%s", args.d1);
	snprintf(args.opt_ll, sizeof args.opt_ll, "--LL=%s", args.ll);
	snprintf(args.opt_out, sizeof args.opt_out, "--callgrind-out-file=%s/callgrind.out.%%p", dir);
	snprintf(args.opt_log, sizeof args.opt_log, "--log-file=%s/valgrind.%%p.log", dir);
	int a = 0;
	argv[a++] = "valgrind";
	argv[a++] = "--tool=callgrind";
	argv[a++] = "--cache-sim=yes";
	argv[a++] = "--branch-sim=yes";
	argv[a++] = "--instr-atstart=yes";
	/* All three caches always: valgrind's own CPUID detection picks a
	 * nonsense LL on these VMs (256 MiB direct-mapped). */
	argv[a++] = args.opt_i1;
	argv[a++] = args.opt_d1;
	argv[a++] = args.opt_ll;
	argv[a++] = args.opt_out;
	argv[a++] = args.opt_log;
	/* Small dumps we can parse: no per-instruction lines, no name
	 * compression to resolve. */
	argv[a++] = "--dump-instr=no";
	argv[a++] = "--dump-line=no";
	argv[a++] = "--compress-strings=no";
	argv[a++] = "--compress-pos=no";
	/* One file per dump, holding every thread: the file layout the reader
	 * expects. */
	argv[a++] = "--separate-threads=no";
	/* Processes the harness starts (a compiler, a shell) run natively. */
	argv[a++] = "--trace-children=no";
	argv[a++] = (char *)exe;
	/* Skip argv[0]: valgrind passes exe as the program's argv[0]. */
	size_t off = strlen(cmdline) + 1;
	while (off < cmdlen) {
		argv[a++] = cmdline + off;
		off += strlen(cmdline + off) + 1;
	}
	argv[a] = NULL;
	return argv;
}

/* What the child needs to know, in its environment. */
static void hand_over(const char *dir)
{
	char caches[160];
	snprintf(caches, sizeof caches, "I1=%.40s D1=%.40s LL=%.40s", args.i1, args.d1, args.ll);
	/* The child must see the machine we see: under valgrind hwloc turns
	 * its x86 discovery off and guesses caches (L1 32K, LL 1M), which would
	 * mislabel cache levels and the automatic sweep.  hwloc reads
	 * HWLOC_XMLFILE at load; THISSYSTEM keeps pinning working. */
	char topo_xml[PATH_MAX + 32];
	snprintf(topo_xml, sizeof topo_xml, "%s/topology.xml", dir);
	if (pmb_topology_export_xml(topo_xml) == 0) {
		setenv("HWLOC_XMLFILE", topo_xml, 1);
		setenv("HWLOC_THISSYSTEM", "1", 1);
	}
	setenv(PMB_SIM_ENV_CHILD, "1", 1);
	setenv(PMB_SIM_ENV_DIR_PRIVATE, dir, 1);
	setenv(PMB_SIM_ENV_CACHES, caches, 1);
}

/* Forks and execs valgrind; supervises it (never returns) once the exec
 * worked.  Returns the errno of a failed fork or exec (*forked says which). */
static int start_valgrind(const char *valgrind, char **argv, const char *owned_dir, int *forked)
{
	/* The exec's errno comes back through a close-on-exec pipe: EOF means
	 * valgrind is running. */
	int pfd[2];
	*forked = 0;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return errno;
	fflush(NULL); /* else buffered output would be printed twice */
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* Dies with us: a SIGKILLed supervisor must not leave valgrind
		 * writing into the run (it gets SIGTERM, an interruption). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		close(pfd[0]);
		execv(valgrind, argv);
		int e = errno;
		ssize_t w = write(pfd[1], &e, sizeof e);
		(void)w;
		_exit(127);
	}
	int saved = errno;
	close(pfd[1]);
	int exec_errno = 0;
	ssize_t r = -1;
	if (pid > 0)
		while ((r = read(pfd[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
			;
	close(pfd[0]);
	if (pid > 0 && r == 0)
		supervise(pid, owned_dir);
	if (pid < 0)
		return saved;
	waitpid(pid, NULL, 0);
	*forked = 1;
	return exec_errno;
}

static int launch_under_valgrind(void)
{
	char valgrind[PATH_MAX], exe[PATH_MAX], dir[PATH_MAX];
	int owned = 0;

	if (getenv(PMB_SIM_ENV_CHILD))
		return pmb_error("%s is set but this process is not running under valgrind: the "
				 "'valgrind' found in PATH did not run us under callgrind; unset %s "
				 "and check `command -v valgrind`",
				 PMB_SIM_ENV_CHILD, PMB_SIM_ENV_CHILD);
	if (find_in_path("valgrind", valgrind, sizeof valgrind) != 0)
		return pmb_error("%s", valgrind_missing);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		return pmb_error("cannot read /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	if (cache_args(args.i1, args.d1, args.ll, sizeof args.i1) != 0 ||
	    callgrind_dir(dir, sizeof dir, &owned) != 0)
		return -1;

	size_t cmdlen = 0;
	char *cmdline = read_cmdline(&cmdlen);
	char **argv = cmdline ? valgrind_argv(exe, dir, cmdline, cmdlen) : NULL;
	int e = errno, forked = 0;
	if (argv) {
		hand_over(dir);
		e = start_valgrind(valgrind, argv, owned ? dir : NULL, &forked);
	}
	/* Here only when valgrind did not start. */
	free(argv);
	free(cmdline);
	unsetenv(PMB_SIM_ENV_CHILD);
	unsetenv(PMB_SIM_ENV_DIR_PRIVATE);
	unsetenv(PMB_SIM_ENV_CACHES);
	if (owned)
		pmb_system_remove_flat_dir(dir);
	if (!cmdline)
		return pmb_error("cannot read /proc/self/cmdline: %s", strerror(e));
	if (!argv)
		return pmb_error("out of memory");
	if (!forked)
		return pmb_error("cannot fork to start valgrind: %s", strerror(e));
	if (e == ENOENT)
		return pmb_error("%s", valgrind_missing);
	return pmb_error("cannot run %s: %s", valgrind, strerror(e));
}

int pmb_sim_launch(const char *backend)
{
	if (!backend || strcmp(backend, "sim") != 0 || RUNNING_ON_VALGRIND)
		return 0;
	/* Returns only when valgrind could not be started. */
	return launch_under_valgrind();
}
