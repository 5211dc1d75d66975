/* pmb_counters_sim.c — simulated counters from valgrind's callgrind.
 *
 * Our machines have no PMU, so this backend runs the whole harness under
 * `valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes` and reads the
 * simulator's counts around each sample.  The counts are deterministic (same
 * binary, same input, same environment -> same numbers), which is what the
 * signature tests need; they are a model (L1 + last level, 2-bit branch
 * predictor), not the machine.
 *
 * How a run works
 * ---------------
 * init() in the native process forks; the child execs
 *     valgrind --tool=callgrind ... <our exe> <our argv...>
 * so main() starts over under valgrind and calls init() again, which now sees
 * RUNNING_ON_VALGRIND and sets the backend up for real.  The native parent
 * only waits, removes the temporary directory it made, and exits with the
 * child's status; init() never returns in it unless valgrind could not be
 * started, in which case it returns -1 with the reason.
 *
 * Why fork + exec and not a plain re-exec: callgrind always writes a final
 * whole-run profile at exit (<out-file> without a part number), after our
 * fini() has run.  If fini() removed the temporary directory, that write
 * fails and callgrind turns the exit status into 1.  Only a process that
 * outlives valgrind can clean the directory up, so the parent stays.  With
 * PMB_SIM_DIR (the run directory) the final profile and valgrind's log stay
 * there for whoever wants them (kcachegrind can open the profile).
 *
 * --instr-atstart=yes (instrument from the start)
 * -----------------------------------------------
 * With --instr-atstart=no the simulated caches only see what runs while
 * instrumentation is on, so every sample would start cold and the harness's
 * warm-up iterations would warm nothing.  Instrumenting from the start keeps
 * the simulated cache and predictor state across samples, exactly like the
 * hardware between warm-up and measurement.  The price is that data setup is
 * simulated too (slower start); honest beats fast here.
 *
 * Per-sample overhead
 * -------------------
 * start() is CALLGRIND_ZERO_STATS and stop_and_read() CALLGRIND_DUMP_STATS_AT,
 * so a sample also counts the instructions between the two client requests
 * that are not the kernel: our own return/call paths and whatever the runner
 * does inside the bracket.  init() measures an empty bracket through the same
 * functions and reports it in plan->note: 18 Ir, 0 D1 misses, 0 branches
 * with gcc 12 -O2 (20 Ir, 1 branch when called through the backend table as
 * the runner does).  It is NOT subtracted: the runner's own code between
 * start and stop is not part of that measurement, and the miss part depends
 * on cache state, so no constant is exact; the runner's empty-kernel baseline
 * is the right place to remove it, as for timers.  Against a kernel of a
 * million instructions it is noise either way.
 *
 * Also ignore valgrind's log line "simulated LL cache: ... 536,870,912": it
 * comes from its CPUID auto-detection, which runs anyway; the --LL we pass
 * wins (the dump's "desc: LL cache:" line shows what was simulated).
 *
 * Threads
 * -------
 * Callgrind serialises threads and ZERO/DUMP act on the whole process, so
 * two concurrent workers' samples cannot be separated (--separate-threads
 * splits cost by thread but zeroing and dump points are still global).  The
 * backend therefore measures one thread at a time: a second concurrent
 * thread_open() fails with a message asking for --threads 1.
 */
#define _GNU_SOURCE
#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_system.h"
#include "pmb_topology.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

/* Rounds a cache to a geometry valgrind accepts; see the definition.  Not
 * static so tests/test_counters_sim.c can check it directly. */
int pmb_sim_cache_geometry(uint64_t size, unsigned assoc, unsigned line, unsigned default_assoc,
			   uint64_t max_size, char *out, size_t outsz);

/* Environment between the native parent and the valgrind child.  The
 * double-underscore ones are private and removed by the child at once, so a
 * process the harness starts itself (a test re-running its own binary, say)
 * begins from scratch. */
#define ENV_CHILD "PMB_SIM_CHILD"   /* set by the parent: breaks exec loops */
#define ENV_DIR_PRIVATE "PMB_SIM__DIR"
#define ENV_CACHES "PMB_SIM__CACHES"
#define ENV_DIR "PMB_SIM_DIR"       /* public: the harness's run directory */
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

enum sim_event { EV_IR, EV_D1MR, EV_D1MW, EV_DLMR, EV_DLMW, EV_BC, EV_BCM, EV_BI, EV_BIM, EV_COUNT };
static const char *const sim_event_name[EV_COUNT] = {
	"Ir", "D1mr", "D1mw", "DLmr", "DLmw", "Bc", "Bcm", "Bi", "Bim",
};

static struct {
	int active;                /* init succeeded under valgrind */
	char dir[PATH_MAX];
	char prefix[PATH_MAX];     /* <dir>/callgrind.out.<pid> */
	pid_t prefix_pid;
	long dump_seq;             /* callgrind's part number of the last dump */
	char caches[160];          /* "I1=... D1=... LL=..." as passed */
	char creator[48];          /* "callgrind-3.19.0" from the dump header */
	uint32_t available;
	atomic_int open_threads;
	pid_t parent;              /* the native supervisor */
	int owned_dir;             /* dir is a pmb-sim-* temporary of the supervisor */
} sim;

/* snprintf for text that may be cut (notes, versions): the cut is
 * harmless, and going through vsnprintf tells gcc we know. */
__attribute__((format(printf, 3, 4)))
static void text(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* snprintf for paths, where a cut would name another file: -1 instead. */
__attribute__((format(printf, 3, 4)))
static int path_fmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= n)
		return pmb_error("path too long: %.80s...", out);
	return 0;
}

/* ---- cache geometry ---------------------------------------------------- */

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

/* ---- native side: start valgrind --------------------------------------- */

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

static int launch_under_valgrind(void)
{
	char valgrind[PATH_MAX], exe[PATH_MAX], dir[PATH_MAX];
	char i1[64], d1[64], ll[64];
	char opt_i1[80], opt_d1[80], opt_ll[80], opt_out[PATH_MAX + 40], opt_log[PATH_MAX + 40];
	char caches[sizeof sim.caches];
	int owned = 0;

	if (getenv(ENV_CHILD))
		return pmb_error("%s is set but this process is not running under valgrind: the "
				 "'valgrind' found in PATH did not run us under callgrind; unset %s "
				 "and check `command -v valgrind`",
				 ENV_CHILD, ENV_CHILD);
	if (find_in_path("valgrind", valgrind, sizeof valgrind) != 0)
		return pmb_error("%s", valgrind_missing);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		return pmb_error("cannot read /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	if (cache_args(i1, d1, ll, sizeof i1) != 0)
		return -1;

	const char *env_dir = getenv(ENV_DIR);
	if (env_dir && *env_dir) {
		if (mkdir(env_dir, 0777) != 0 && errno != EEXIST)
			return pmb_error("cannot create %s=%s: %s", ENV_DIR, env_dir, strerror(errno));
		snprintf(dir, sizeof dir, "%s", env_dir);
	} else {
		snprintf(dir, sizeof dir, "/tmp/pmb-sim-XXXXXX");
		if (!mkdtemp(dir))
			return pmb_error("cannot create a directory under /tmp for callgrind's files: %s",
					 strerror(errno));
		owned = 1;
	}

	size_t cmdlen = 0;
	char *cmdline = read_cmdline(&cmdlen);
	if (!cmdline) {
		if (owned)
			pmb_system_remove_flat_dir(dir);
		return pmb_error("cannot read /proc/self/cmdline: %s", strerror(errno));
	}
	int nargs = 0;
	for (size_t i = 0; i < cmdlen; i++)
		nargs += cmdline[i] == '\0';
	char **argv = calloc((size_t)nargs + 24, sizeof *argv);
	if (!argv) {
		free(cmdline);
		if (owned)
			pmb_system_remove_flat_dir(dir);
		return pmb_error("out of memory");
	}
	snprintf(opt_i1, sizeof opt_i1, "--I1=%s", i1);
	snprintf(opt_d1, sizeof opt_d1, "--D1=%s", d1);
	snprintf(opt_ll, sizeof opt_ll, "--LL=%s", ll);
	snprintf(opt_out, sizeof opt_out, "--callgrind-out-file=%s/callgrind.out.%%p", dir);
	snprintf(opt_log, sizeof opt_log, "--log-file=%s/valgrind.%%p.log", dir);
	int a = 0;
	argv[a++] = "valgrind";
	argv[a++] = "--tool=callgrind";
	argv[a++] = "--cache-sim=yes";
	argv[a++] = "--branch-sim=yes";
	argv[a++] = "--instr-atstart=yes";
	/* All three caches always: valgrind's own CPUID detection picks a
	 * nonsense LL on these VMs (256 MiB direct-mapped). */
	argv[a++] = opt_i1;
	argv[a++] = opt_d1;
	argv[a++] = opt_ll;
	argv[a++] = opt_out;
	argv[a++] = opt_log;
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
	argv[a++] = exe;
	/* Skip argv[0]: valgrind passes exe as the program's argv[0]. */
	size_t off = strlen(cmdline) + 1;
	while (off < cmdlen) {
		argv[a++] = cmdline + off;
		off += strlen(cmdline + off) + 1;
	}
	argv[a] = NULL;

	text(caches, sizeof caches, "I1=%s D1=%s LL=%s", i1, d1, ll);
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
	setenv(ENV_CHILD, "1", 1);
	setenv(ENV_DIR_PRIVATE, dir, 1);
	setenv(ENV_CACHES, caches, 1);

	/* The exec's errno comes back through a close-on-exec pipe: EOF means
	 * valgrind is running. */
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		int e = errno;
		free(argv);
		free(cmdline);
		if (owned)
			pmb_system_remove_flat_dir(dir);
		return pmb_error("cannot create a pipe: %s", strerror(e));
	}
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
	if (pid > 0 && r == 0) {
		free(argv);
		free(cmdline);
		supervise(pid, owned ? dir : NULL);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free(argv);
	free(cmdline);
	unsetenv(ENV_CHILD);
	unsetenv(ENV_DIR_PRIVATE);
	unsetenv(ENV_CACHES);
	if (owned)
		pmb_system_remove_flat_dir(dir);
	if (pid < 0)
		return pmb_error("cannot fork to start valgrind: %s", strerror(saved));
	if (exec_errno == ENOENT)
		return pmb_error("%s", valgrind_missing);
	return pmb_error("cannot run %s: %s", valgrind, strerror(exec_errno));
}

/* ---- valgrind side: dumps ---------------------------------------------- */

struct sim_counts {
	int64_t ev[EV_COUNT];
};

/* Callgrind names each dump <out-file>.<part>, numbering from 1 per process
 * (and again from 1 in a forked child, whose %p differs). */
static int refresh_prefix(void)
{
	pid_t pid = getpid();
	if (pid != sim.prefix_pid) {
		if (path_fmt(sim.prefix, sizeof sim.prefix, "%s/callgrind.out.%d", sim.dir,
			     (int)pid) != 0)
			return -1;
		sim.prefix_pid = pid;
		sim.dump_seq = 0;
	}
	return 0;
}

/* Our count is right unless something else dumped (callgrind_control -d, a
 * --dump-every-bb someone added); then the newest part is ours. */
static int find_dump(char *path, size_t n)
{
	struct stat st;
	if (path_fmt(path, n, "%s.%ld", sim.prefix, sim.dump_seq + 1) != 0)
		return -1;
	if (stat(path, &st) == 0) {
		sim.dump_seq++;
		return 0;
	}
	const char *base = strrchr(sim.prefix, '/') + 1;
	size_t blen = strlen(base);
	long best = -1;
	DIR *d = opendir(sim.dir);
	if (!d)
		return pmb_error("cannot open %s: %s", sim.dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, base, blen) != 0 || e->d_name[blen] != '.')
			continue;
		long part = strtol(e->d_name + blen + 1, &end, 10);
		if (*end == '\0' && part > best)
			best = part;
	}
	closedir(d);
	if (best < 0)
		return pmb_error("callgrind wrote no dump %s.*: is this callgrind with "
				 "--callgrind-out-file=%s/callgrind.out.%%p?",
				 sim.prefix, sim.dir);
	sim.dump_seq = best;
	return path_fmt(path, n, "%s.%ld", sim.prefix, best);
}

/* Reads the event order from `events:` and the counts from `totals:`.  Not
 * `summary:`: after CALLGRIND_ZERO_STATS valgrind 3.19's summary disagrees
 * with the cost lines (an empty region here: summary Ir 12, totals 9; it has
 * also been seen to underflow), while totals is the sum of the cost lines.  Trailing zero
 * counts are omitted from the line, so missing fields are 0. */
static int parse_dump(const char *path, const char *expect_trigger, struct sim_counts *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return pmb_error("cannot open callgrind dump %s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	int map[64];
	int nevents = -1, have_totals = 0, trigger_ok = expect_trigger == NULL;
	memset(out, 0, sizeof *out);
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "creator: ", 9) && !sim.creator[0]) {
			snprintf(sim.creator, sizeof sim.creator, "%s", line + 9);
			sim.creator[strcspn(sim.creator, "\n")] = '\0';
		} else if (!strncmp(line, "desc: Trigger: Client Request: ", 31) && expect_trigger) {
			/* The label goes to callgrind unsanitised (copying it would
			 * count inside the sample), so a newline in it ends the line
			 * early, and callgrind may shorten a long one: compare what
			 * is there. */
			const char *got = line + 31;
			size_t len = strcspn(got, "\n");
			trigger_ok = strncmp(got, expect_trigger, len) == 0;
		} else if (!strncmp(line, "events:", 7)) {
			char *save, *tok = strtok_r(line + 7, " \t\n", &save);
			nevents = 0;
			while (tok && nevents < 64) {
				map[nevents] = -1;
				for (int i = 0; i < EV_COUNT; i++)
					if (!strcmp(tok, sim_event_name[i]))
						map[nevents] = i;
				nevents++;
				tok = strtok_r(NULL, " \t\n", &save);
			}
		} else if (!strncmp(line, "totals:", 7) && nevents >= 0) {
			char *p = line + 7, *end;
			for (int i = 0; i < nevents; i++) {
				long long v = strtoll(p, &end, 10);
				if (end == p)
					break;
				if (map[i] >= 0)
					out->ev[map[i]] = v;
				p = end;
			}
			have_totals = 1;
		}
	}
	free(line);
	fclose(f);
	if (nevents < 0 || !have_totals)
		return pmb_error("callgrind dump %s has no events:/totals: line", path);
	if (!trigger_ok)
		return pmb_error("callgrind dump %s is not the one requested (trigger '%s'): "
				 "something else is dumping into %s",
				 path, expect_trigger, sim.dir);
	return 0;
}

static int check_events(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int ok = 0;
	if (!f)
		return pmb_error("cannot open callgrind dump %s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "events:", 7) != 0)
			continue;
		ok = 1;
		for (int i = 0; i < EV_COUNT; i++) {
			char *p = line + 6;
			size_t len = strlen(sim_event_name[i]);
			int found = 0;
			while ((p = strstr(p + 1, sim_event_name[i])))
				if (p[-1] == ' ' && (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
					found = 1;
			ok &= found;
		}
		break;
	}
	free(line);
	fclose(f);
	if (!ok)
		return pmb_error("callgrind dump %s lacks cache or branch events: valgrind was not "
				 "started with --cache-sim=yes --branch-sim=yes",
				 path);
	return 0;
}

/* The dump for a sample has been requested; read it.  `label` is what was
 * passed to CALLGRIND_DUMP_STATS_AT. */
static int read_dump(const char *label, struct sim_counts *counts, int verify_events)
{
	char path[PATH_MAX + 32];
	if (refresh_prefix() != 0 || find_dump(path, sizeof path) != 0)
		return -1;
	int rc = parse_dump(path, label, counts);
	if (rc == 0 && verify_events)
		rc = check_events(path);
	/* One file per sample would pile up to thousands in a run. */
	unlink(path);
	return rc;
}

/* ---- backend functions ------------------------------------------------- */

static void plan_reset(struct pmb_counter_plan *plan, uint32_t requested)
{
	/* pmb_counter_plan_reset's job, inlined so this file links without
	 * pmb_counters.c (and the PAPI backend it pulls in) in unit tests. */
	memset(plan, 0, sizeof *plan);
	plan->requested = requested & PMB_CTR_ALL_MASK;
	plan->npasses = 1;
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		plan->pass_of[i] = -1;
}

static const struct {
	enum pmb_counter_id id;
	const char *events; /* callgrind events summed into the column */
} sim_map[] = {
	{PMB_CTR_INSTRUCTIONS, "Ir"},
	{PMB_CTR_L1D_MISSES, "D1mr+D1mw"},
	{PMB_CTR_LLC_MISSES, "DLmr+DLmw"},
	{PMB_CTR_BRANCHES, "Bc+Bi"},
	{PMB_CTR_BRANCH_MISSES, "Bcm+Bim"},
};

static const char *unavailable_reason(enum pmb_counter_id id)
{
	switch (id) {
	case PMB_CTR_CYCLES:
		return "not simulated: callgrind counts events and has no timing model, so no cycles";
	case PMB_CTR_L2_MISSES:
		return "not simulated: callgrind models L1 and the last level only, no L2";
	case PMB_CTR_PAGE_FAULTS:
	case PMB_CTR_CONTEXT_SWITCHES:
	case PMB_CTR_CPU_MIGRATIONS:
	case PMB_CTR_TASK_CLOCK_NS:
		return "not simulated: a software counter here would measure valgrind, not the kernel";
	default:
		return "not simulated by callgrind";
	}
}

static void sim_fill_values(const struct sim_counts *c, struct pmb_counter_values *v)
{
	memset(v, 0, sizeof *v);
	v->value[PMB_CTR_INSTRUCTIONS] = c->ev[EV_IR];
	v->value[PMB_CTR_L1D_MISSES] = c->ev[EV_D1MR] + c->ev[EV_D1MW];
	v->value[PMB_CTR_LLC_MISSES] = c->ev[EV_DLMR] + c->ev[EV_DLMW];
	v->value[PMB_CTR_BRANCHES] = c->ev[EV_BC] + c->ev[EV_BI];
	v->value[PMB_CTR_BRANCH_MISSES] = c->ev[EV_BCM] + c->ev[EV_BIM];
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		if (!(sim.available & PMB_CTR_MASK(i)))
			v->value[i] = 0;
	v->counted = sim.available;
}

/* start and stop keep the client requests at the edges (ZERO last, DUMP
 * first): whatever runs between them is counted in the sample. */
static int sim_start(void *thread_state, int pass)
{
	(void)thread_state;
	if (pass != 0)
		return pmb_error("sim backend: pass %d does not exist (it has 1 pass)", pass);
	if (!sim.active)
		return pmb_error("internal: sim backend used before a successful init");
	CALLGRIND_ZERO_STATS;
	return 0;
}

static int sim_stop_and_read(void *thread_state, int pass, const char *label,
			     struct pmb_counter_values *values)
{
	struct sim_counts c;
	if (!label)
		label = "pmb";
	CALLGRIND_DUMP_STATS_AT(label);
	(void)thread_state;
	values->counted = 0;
	if (pass != 0)
		return pmb_error("sim backend: pass %d does not exist (it has 1 pass)", pass);
	if (!sim.active)
		return pmb_error("internal: sim backend used before a successful init");
	if (read_dump(label, &c, 0) != 0)
		return -1;
	sim_fill_values(&c, values);
	return 0;
}

static int sim_init_under_valgrind(struct pmb_counter_plan *plan)
{
	const char *dir = getenv(ENV_DIR_PRIVATE);
	const char *caches = getenv(ENV_CACHES);
	if (!getenv(ENV_CHILD) || !dir || !caches)
		return pmb_error("pmubench is already running under valgrind; the sim backend "
				 "starts valgrind (callgrind) itself with the options it needs: run "
				 "pmubench without valgrind");
	memset(&sim, 0, sizeof sim);
	snprintf(sim.dir, sizeof sim.dir, "%s", dir);
	snprintf(sim.caches, sizeof sim.caches, "%s", caches);
	sim.parent = getppid();
	sim.owned_dir = !getenv(ENV_DIR) || !*getenv(ENV_DIR);
	unsetenv(ENV_CHILD);
	unsetenv(ENV_DIR_PRIVATE);
	unsetenv(ENV_CACHES);
	unsetenv("HWLOC_XMLFILE");
	unsetenv("HWLOC_THISSYSTEM");
	atomic_init(&sim.open_threads, 0);

	/* Proves the dump round trip and the event set before any sample, and
	 * gives us callgrind's version from the header. */
	struct sim_counts c;
	CALLGRIND_DUMP_STATS_AT("pmb-sim-selfcheck");
	if (read_dump("pmb-sim-selfcheck", &c, 1) != 0)
		return -1;

	for (size_t i = 0; i < sizeof sim_map / sizeof sim_map[0]; i++) {
		enum pmb_counter_id id = sim_map[i].id;
		snprintf(plan->event_name[id], sizeof plan->event_name[id], "callgrind:%s",
			 sim_map[i].events);
		if (plan->requested & PMB_CTR_MASK(id)) {
			plan->available |= PMB_CTR_MASK(id);
			plan->pass_of[id] = 0;
		}
	}
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		if ((plan->requested & PMB_CTR_MASK(i)) && !(plan->available & PMB_CTR_MASK(i)))
			snprintf(plan->reason[i], sizeof plan->reason[i], "%s",
				 unavailable_reason((enum pmb_counter_id)i));
	sim.available = plan->available;
	sim.active = 1;

	/* The empty bracket through the real entry points: what every sample
	 * carries on top of its kernel (see the header comment). */
	struct pmb_counter_values empty;
	if (sim_start(NULL, 0) != 0 || sim_stop_and_read(NULL, 0, "pmb-sim-empty", &empty) != 0) {
		sim.active = 0;
		return -1;
	}

	/* "callgrind-3.19.0" -> "callgrind (valgrind-3.19.0)" */
	const char *ver = strchr(sim.creator, '-');
	const char *d1 = strstr(sim.caches, "D1=");
	text(plan->backend_version, sizeof plan->backend_version,
		 "callgrind (valgrind-%s) %s", ver ? ver + 1 : "?", d1 ? d1 : sim.caches);
	text(plan->note, sizeof plan->note,
		 "sim: callgrind (valgrind-%s) %s, instr-atstart=yes, 100-250x slower than "
		 "native; per-sample overhead %lld Ir %lld L1d-miss %lld br (not subtracted)",
		 ver ? ver + 1 : "?", sim.caches, (long long)empty.value[PMB_CTR_INSTRUCTIONS],
		 (long long)empty.value[PMB_CTR_L1D_MISSES],
		 (long long)empty.value[PMB_CTR_BRANCHES]);
	return 0;
}

static int sim_init(struct pmb_counter_plan *plan)
{
	plan_reset(plan, plan->requested);
	if (RUNNING_ON_VALGRIND)
		return sim_init_under_valgrind(plan);
	/* Returns only when valgrind could not be started. */
	return launch_under_valgrind();
}

static int sim_thread_open(const struct pmb_counter_plan *plan, void **thread_state)
{
	(void)plan;
	*thread_state = NULL;
	if (!sim.active)
		return pmb_error("internal: sim backend used before a successful init");
	if (atomic_fetch_add(&sim.open_threads, 1) != 0) {
		atomic_fetch_sub(&sim.open_threads, 1);
		return pmb_error("the sim backend measures one thread at a time; use --threads 1");
	}
	/* Non-NULL so the runner can tell an open state from none. */
	*thread_state = &sim;
	return 0;
}

static void sim_thread_close(void *thread_state)
{
	if (thread_state == &sim)
		atomic_fetch_sub(&sim.open_threads, 1);
}

/* The directory itself is removed by the native parent once valgrind has
 * written its exit-time profile (see the header comment); here only our own
 * stray parts go, should a failed read have left one. */
static void sim_fini(void)
{
	if (!sim.active)
		return;
	if (sim.owned_dir && getppid() != sim.parent) {
		/* The supervisor is gone (killed): nobody else will remove it. */
		pmb_system_remove_flat_dir(sim.dir);
		sim.active = 0;
		return;
	}
	if (refresh_prefix() != 0) {
		sim.active = 0;
		return;
	}
	const char *base = strrchr(sim.prefix, '/') + 1;
	size_t blen = strlen(base);
	DIR *d = opendir(sim.dir);
	if (d) {
		struct dirent *e;
		char path[PATH_MAX];
		while ((e = readdir(d))) {
			if (strncmp(e->d_name, base, blen) == 0 && e->d_name[blen] == '.') {
				if (path_fmt(path, sizeof path, "%s/%s", sim.dir, e->d_name) == 0)
					unlink(path);
			}
		}
		closedir(d);
	}
	sim.active = 0;
}

const struct pmb_counter_backend pmb_counter_backend_sim = {
	.name = "sim",
	.schedule_independent = 1,
	.init = sim_init,
	.thread_open = sim_thread_open,
	.start = sim_start,
	.stop_and_read = sim_stop_and_read,
	.thread_close = sim_thread_close,
	.fini = sim_fini,
};
