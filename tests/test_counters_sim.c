/* test_counters_sim.c — the simulated counter backend against kernels whose
 * counts we can predict.
 *
 * main() calls pmb_sim_launch() before anything else, as pmubench's main()
 * does, so the native process re-runs this binary under callgrind and only
 * waits; everything after it runs simulated.  The test configures a 1 MiB LL (PMB_SIM_LL, unless already
 * set) so that a 16 MiB pointer chase is far beyond it whatever hwloc says.
 *
 * Modes (PMB_TEST_MODE), for the tests that need a fresh process:
 *   counts      init, sum 8 MiB twice, print the second region's counts
 *               and the directory callgrind used, exit 7 (checks that the
 *               exit status crosses the supervisor);
 *   novalgrind  init must fail (run with PATH=/nonexistent); prints the
 *               message and exits 0.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "pmb_counters.h"
#include "pmb_error.h"
#include "pmb_kernel.h"

#include "pmb_sim.h"
#include "pmb_sim_launch.h"

#define TEST_LL "1048576,16,64"
#define SUM_N (1u << 20)     /* int64: 8 MiB, far beyond D1 and the test LL */
#define SMALL_N 128u         /* int64: 1 KiB */
#define SMALL_REPS 1000u
#define CHASE_N (1u << 20)   /* 16-byte nodes: 16 MiB */
#define BRANCH_N (1u << 18)

static const struct pmb_counter_backend *be = &pmb_counter_backend_sim;
static struct pmb_counter_plan plan;
static void *tstate;
static char sim_dir[4096];   /* where callgrind writes, learnt before init */
static char self_exe[4096];

static const uint32_t sim_mask =
	PMB_CTR_MASK(PMB_CTR_INSTRUCTIONS) | PMB_CTR_MASK(PMB_CTR_L1D_MISSES) |
	PMB_CTR_MASK(PMB_CTR_LLC_MISSES) | PMB_CTR_MASK(PMB_CTR_BRANCHES) |
	PMB_CTR_MASK(PMB_CTR_BRANCH_MISSES);


static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- kernels: out of line and unvectorised, so the loop we reason about
 * is the loop that runs (4 instructions and 1 branch per element for the
 * sum with gcc 12 -O2). */

__attribute__((noinline, noclone, optimize("no-tree-vectorize")))
int64_t kern_sum(const int64_t *a, size_t n)
{
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i];
	return s;
}

struct node {
	struct node *next;
	uint64_t pad;
};

__attribute__((noinline, noclone))
struct node *kern_chase(struct node *p, size_t steps)
{
	while (steps--)
		p = p->next;
	return p;
}

/* The empty asm in the taken path keeps gcc from turning the branch into a
 * cmov: an asm volatile cannot be executed speculatively. */
__attribute__((noinline, noclone, optimize("no-tree-vectorize")))
uint64_t kern_branch(const uint8_t *bits, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++) {
		if (bits[i]) {
			__asm__ volatile("");
			s += i;
		}
	}
	return s;
}

static int64_t *sum_array(void)
{
	static int64_t *a;
	if (!a) {
		a = malloc(SUM_N * sizeof *a);
		if (!a)
			abort();
		for (size_t i = 0; i < SUM_N; i++)
			a[i] = (int64_t)i;
	}
	return a;
}

static volatile int64_t sink;

#define MEASURE(label, v, stmt)                                                  \
	do {                                                                     \
		int rs_ = be->start(tstate, 0);                                  \
		stmt;                                                            \
		int rc_ = be->stop_and_read(tstate, 0, label, v);                \
		if (rs_ != 0 || rc_ != 0)                                        \
			fail_msg("start/stop: %s", pmb_error_message());         \
	} while (0)

static void assert_near(double got, double want, double rel, const char *what)
{
	if (got < want * (1 - rel) || got > want * (1 + rel))
		fail_msg("%s = %.4f, expected %.4f +-%.0f%%", what, got, want, rel * 100);
}

/* ---- tests ------------------------------------------------------------- */

static void test_geometry(void **state)
{
	char g[64];
	(void)state;
	const uint64_t max = 256ull << 20;
	assert_int_equal(pmb_sim_cache_geometry(49152, 12, 64, 8, 1 << 20, g, sizeof g), 0);
	assert_string_equal(g, "49152,12,64");
	assert_int_equal(pmb_sim_cache_geometry(32ull << 20, 16, 64, 16, max, g, sizeof g), 0);
	assert_string_equal(g, "33554432,16,64");
	/* The VM's 508 MB L3 of unknown associativity, had topology not
	 * sanitised it; and the 128 MiB it sanitises to. */
	assert_int_equal(pmb_sim_cache_geometry(532676608, 0, 64, 16, max, g, sizeof g), 0);
	assert_string_equal(g, "268435456,16,64");
	assert_int_equal(pmb_sim_cache_geometry(128ull << 20, 0, 64, 16, max, g, sizeof g), 0);
	assert_string_equal(g, "134217728,16,64");
	/* 3 MiB 16-way = 3072 sets -> 2048 sets. */
	assert_int_equal(pmb_sim_cache_geometry(3ull << 20, 16, 64, 16, max, g, sizeof g), 0);
	assert_string_equal(g, "2097152,16,64");
	/* 50000 B 12-way: 65.1 sets -> 64. */
	assert_int_equal(pmb_sim_cache_geometry(50000, 12, 64, 8, 1 << 20, g, sizeof g), 0);
	assert_string_equal(g, "49152,12,64");
	/* Odd line sizes round down to a power of two; 0 means unknown. */
	assert_int_equal(pmb_sim_cache_geometry(32768, 8, 100, 8, 1 << 20, g, sizeof g), 0);
	assert_string_equal(g, "32768,8,64");
	assert_int_equal(pmb_sim_cache_geometry(32768, 8, 0, 8, 1 << 20, g, sizeof g), 0);
	assert_string_equal(g, "32768,8,64");
	/* More ways than lines: fully associative, one set. */
	assert_int_equal(pmb_sim_cache_geometry(1024, 64, 64, 8, 1 << 20, g, sizeof g), 0);
	assert_string_equal(g, "1024,16,64");
	assert_int_equal(pmb_sim_cache_geometry(64, 8, 64, 8, 1 << 20, g, sizeof g), -1);
}

static void test_plan(void **state)
{
	(void)state;
	assert_int_equal(plan.requested, PMB_CTR_ALL_MASK);
	assert_int_equal(plan.available, sim_mask);
	assert_int_equal(plan.npasses, 1);
	for (int i = 0; i < PMB_CTR_COUNT; i++) {
		if (sim_mask & PMB_CTR_MASK(i)) {
			assert_int_equal(plan.pass_of[i], 0);
			assert_string_equal(plan.reason[i], "");
			assert_true(strncmp(plan.event_name[i], "callgrind:", 10) == 0);
		} else {
			assert_int_equal(plan.pass_of[i], -1);
			assert_non_null(strstr(plan.reason[i], "not simulated"));
		}
	}
	assert_non_null(strstr(plan.reason[PMB_CTR_CYCLES], "cycles"));
	assert_non_null(strstr(plan.reason[PMB_CTR_L2_MISSES], "L1 and the last level"));
	assert_true(strncmp(plan.backend_version, "callgrind (valgrind-3.", 22) == 0);
	assert_non_null(strstr(plan.backend_version, "LL=" TEST_LL));
	assert_non_null(strstr(plan.note, "I1=32768,8,64"));
	print_message("backend_version: %s\nnote: %s\n", plan.backend_version, plan.note);
}

static void test_sum_large(void **state)
{
	struct pmb_counter_values warm, v1, v2;
	int64_t *a = sum_array();
	(void)state;
	MEASURE("sum/warm-up", &warm, sink = kern_sum(a, SUM_N));
	double t0 = now_ns();
	MEASURE("sum/8MiB/1", &v1, sink = kern_sum(a, SUM_N));
	double t1 = now_ns();
	MEASURE("sum/8MiB/2", &v2, sink = kern_sum(a, SUM_N));
	assert_int_equal(v1.counted, sim_mask);

	double n = SUM_N;
	double ir = v1.value[PMB_CTR_INSTRUCTIONS] / n;
	print_message("sum 8 MiB per element: Ir %.4f  L1d %.4f  LL %.4f  br %.4f  brmiss %.6f\n",
		      ir, v1.value[PMB_CTR_L1D_MISSES] / n, v1.value[PMB_CTR_LLC_MISSES] / n,
		      v1.value[PMB_CTR_BRANCHES] / n, v1.value[PMB_CTR_BRANCH_MISSES] / n);
	/* The compiled loop is 4 instructions (add, add, cmp, jne); the rest
	 * is call overhead, a few dozen instructions per region. */
	assert_true(ir >= 1 && ir <= 10);
	assert_true(ir - 4.0 < 0.001 && ir - 4.0 >= 0);
	assert_near(v1.value[PMB_CTR_L1D_MISSES], n / 8, 0.10, "l1d_misses");
	assert_near(v1.value[PMB_CTR_LLC_MISSES], n / 8, 0.10, "llc_misses (8 MiB > 1 MiB LL)");
	assert_near(v1.value[PMB_CTR_BRANCHES], n, 0.10, "branches");
	assert_true(v1.value[PMB_CTR_BRANCH_MISSES] < n / 1000);
	/* The same work counts the same instructions and branches; misses
	 * may differ by a line or two, as reading the previous dump (libc's
	 * stdio buffers) leaves the simulated cache in a slightly different
	 * state before each region. */
	assert_int_equal(v1.value[PMB_CTR_INSTRUCTIONS], v2.value[PMB_CTR_INSTRUCTIONS]);
	assert_int_equal(v1.value[PMB_CTR_BRANCHES], v2.value[PMB_CTR_BRANCHES]);
	assert_true(llabs(v1.value[PMB_CTR_L1D_MISSES] - v2.value[PMB_CTR_L1D_MISSES]) <= 4);

	const char *native = getenv("PMB_TEST_NATIVE_NS");
	double sim_ns = (t1 - t0) / n;
	if (native)
		print_message("sum 8 MiB: native %.3f ns/elem, under callgrind %.1f ns/elem: %.0fx\n",
			      atof(native), sim_ns, sim_ns / atof(native));
}

static void test_small_warm(void **state)
{
	struct pmb_counter_values v;
	static int64_t small[SMALL_N];
	(void)state;
	for (size_t i = 0; i < SMALL_N; i++)
		small[i] = (int64_t)i;
	MEASURE("small/warm-up", &v, sink = kern_sum(small, SMALL_N));
	MEASURE("small/1KiB", &v, for (unsigned r = 0; r < SMALL_REPS; r++) sink = kern_sum(small, SMALL_N));
	double n = (double)SMALL_N * SMALL_REPS;
	print_message("sum 1 KiB warm per element: Ir %.4f  L1d %.6f  LL %.6f\n",
		      v.value[PMB_CTR_INSTRUCTIONS] / n, v.value[PMB_CTR_L1D_MISSES] / n,
		      v.value[PMB_CTR_LLC_MISSES] / n);
	assert_true(v.value[PMB_CTR_L1D_MISSES] / n < 0.01);
}

static void test_pointer_chase(void **state)
{
	struct pmb_counter_values v;
	uint64_t seed = 42;
	(void)state;
	struct node *nodes = aligned_alloc(64, CHASE_N * sizeof *nodes);
	uint32_t *perm = malloc(CHASE_N * sizeof *perm);
	assert_non_null(nodes);
	assert_non_null(perm);
	/* Sattolo: one cycle through every node, in random order. */
	for (uint32_t i = 0; i < CHASE_N; i++)
		perm[i] = i;
	for (uint32_t i = CHASE_N - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(pmb_kernel_rand(&seed) % i);
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (uint32_t i = 0; i < CHASE_N; i++)
		nodes[perm[i]].next = &nodes[perm[(i + 1) % CHASE_N]];
	free(perm);
	struct node *p = &nodes[0];
	MEASURE("chase/16MiB", &v, p = kern_chase(p, CHASE_N));
	sink = (int64_t)(uintptr_t)p;
	double n = CHASE_N;
	print_message("pointer chase 16 MiB per node: Ir %.4f  L1d %.4f  LL %.4f\n",
		      v.value[PMB_CTR_INSTRUCTIONS] / n, v.value[PMB_CTR_L1D_MISSES] / n,
		      v.value[PMB_CTR_LLC_MISSES] / n);
	/* Four nodes share a line, so a node hits only if a line-mate was
	 * visited within the last ~16k lines (1 MiB LL): rare. */
	assert_near(v.value[PMB_CTR_LLC_MISSES], n, 0.10, "llc_misses per node");
	free(nodes);
}

static void test_branches(void **state)
{
	struct pmb_counter_values rnd, sorted;
	uint64_t seed = 7;
	(void)state;
	uint8_t *bits = malloc(BRANCH_N);
	assert_non_null(bits);
	for (size_t i = 0; i < BRANCH_N; i++)
		bits[i] = pmb_kernel_rand(&seed) & 1;
	MEASURE("branch/random", &rnd, sink = (int64_t)kern_branch(bits, BRANCH_N));
	/* Same bits, sorted: all zeros, then all ones. */
	size_t ones = 0;
	for (size_t i = 0; i < BRANCH_N; i++)
		ones += bits[i];
	memset(bits, 0, BRANCH_N - ones);
	memset(bits + BRANCH_N - ones, 1, ones);
	MEASURE("branch/sorted", &sorted, sink = (int64_t)kern_branch(bits, BRANCH_N));
	double n = BRANCH_N;
	print_message("branch random per element: br %.4f  miss %.4f; sorted: br %.4f  miss %.6f\n",
		      rnd.value[PMB_CTR_BRANCHES] / n, rnd.value[PMB_CTR_BRANCH_MISSES] / n,
		      sorted.value[PMB_CTR_BRANCHES] / n, sorted.value[PMB_CTR_BRANCH_MISSES] / n);
	assert_near(rnd.value[PMB_CTR_BRANCH_MISSES] / n, 0.5, 0.10, "random branch_misses/elem");
	assert_true(sorted.value[PMB_CTR_BRANCH_MISSES] / n < 0.01);
	free(bits);
}

static void test_unavailable(void **state)
{
	struct pmb_counter_values v;
	(void)state;
	MEASURE("empty", &v, (void)0);
	assert_int_equal(v.counted, sim_mask);
	static const enum pmb_counter_id absent[] = {
		PMB_CTR_CYCLES,           PMB_CTR_L2_MISSES,      PMB_CTR_PAGE_FAULTS,
		PMB_CTR_CONTEXT_SWITCHES, PMB_CTR_CPU_MIGRATIONS, PMB_CTR_TASK_CLOCK_NS,
	};
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
		assert_false(v.counted & PMB_CTR_MASK(absent[i]));
		assert_true(plan.reason[absent[i]][0] != '\0');
	}
	print_message("empty region: Ir %lld  L1d %lld  LL %lld  br %lld  brmiss %lld\n",
		      (long long)v.value[PMB_CTR_INSTRUCTIONS], (long long)v.value[PMB_CTR_L1D_MISSES],
		      (long long)v.value[PMB_CTR_LLC_MISSES], (long long)v.value[PMB_CTR_BRANCHES],
		      (long long)v.value[PMB_CTR_BRANCH_MISSES]);
	assert_true(v.value[PMB_CTR_INSTRUCTIONS] < 100);
	/* A label that would break callgrind's one-line format. */
	MEASURE("bad\nlabel\twith controls", &v, (void)0);
	assert_int_equal(be->start(tstate, 1), -1);
}

static void test_no_dump_pileup(void **state)
{
	(void)state;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "callgrind.out.%d.", (int)getpid());
	DIR *d = opendir(sim_dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			fail_msg("dump part left behind: %s/%s", sim_dir, e->d_name);
	closedir(d);
}

static void *second_thread(void *arg)
{
	void *ts = NULL;
	(void)arg;
	intptr_t rc = be->thread_open(&plan, &ts);
	return (void *)rc;
}

static void test_threads(void **state)
{
	void *again = NULL, *ret;
	pthread_t t;
	(void)state;
	assert_int_equal(be->thread_open(&plan, &again), -1);
	assert_string_equal(pmb_error_message(),
			    "the sim backend measures one thread at a time; use --threads 1");
	assert_int_equal(pthread_create(&t, NULL, second_thread, NULL), 0);
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, -1);
	/* One at a time is fine: close ours, reopen. */
	be->thread_close(tstate);
	assert_int_equal(be->thread_open(&plan, &tstate), 0);
}

/* Runs this binary in a mode; returns its exit status, stdout in out. */
static int run_self(const char *mode, const char *path_env, const char *simdir, char *out,
		    size_t outsz)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		setenv("PMB_TEST_MODE", mode, 1);
		if (path_env)
			setenv("PATH", path_env, 1);
		if (simdir)
			setenv("PMB_SIM_DIR", simdir, 1);
		else
			unsetenv("PMB_SIM_DIR");
		execl(self_exe, self_exe, (char *)NULL);
		_exit(126);
	}
	close(pfd[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < outsz && (r = read(pfd[0], out + n, outsz - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Splits run_self's output "dir=...\n<counts>\n" in place. */
static char *counts_of(char *out)
{
	char *counts = strchr(out, '\n');
	if (!counts || strncmp(out, "dir=", 4) != 0)
		fail_msg("counts mode printed: %s", out);
	*counts++ = '\0';
	return counts;
}

static void test_determinism_processes(void **state)
{
	char out1[1024], out2[1024], out3[1024], dir[64];
	struct stat st;
	(void)state;
	/* Two processes with the same environment (their temporary
	 * directories' names differ only in the random letters). */
	assert_int_equal(run_self("counts", NULL, NULL, out1, sizeof out1), 7);
	assert_int_equal(run_self("counts", NULL, NULL, out2, sizeof out2), 7);
	char *counts1 = counts_of(out1), *counts2 = counts_of(out2);
	print_message("process 1: %sprocess 2: %s", counts1, counts2);
	assert_string_equal(counts1, counts2);
	/* Their own temporary directories are gone once they have exited. */
	assert_true(strncmp(out1, "dir=/tmp/pmb-sim-", 17) == 0);
	assert_int_equal(stat(out1 + 4, &st), -1);
	assert_int_equal(stat(out2 + 4, &st), -1);

	/* A given PMB_SIM_DIR is kept, with valgrind's log and the exit-time
	 * profile but no dump parts. */
	snprintf(dir, sizeof dir, "/tmp/pmb-sim-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(run_self("counts", NULL, dir, out3, sizeof out3), 7);
	char *counts3 = counts_of(out3);
	assert_string_equal(out3 + 4, dir);
	int nlog = 0, nprofile = 0, ntopology = 0, nother = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	char path[4096];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".log") == 0)
			nlog++;
		else if (strncmp(e->d_name, "callgrind.out.", 14) == 0 && !strchr(e->d_name + 14, '.'))
			nprofile++;
		else if (strcmp(e->d_name, "topology.xml") == 0)
			ntopology++; /* the parent's machine, handed to the child */
		else
			nother++;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	assert_int_equal(nlog, 1);
	assert_int_equal(nprofile, 1);
	assert_int_equal(ntopology, 1);
	assert_int_equal(nother, 0);
	/* A different environment moves the stack, which may shift a miss or
	 * two, but not the instruction count ("1=" is instructions). */
	print_message("process 3 (PMB_SIM_DIR set): %s", counts3);
	assert_true(strncmp(counts1, counts3, strcspn(counts1, " ")) == 0);
}

static void test_valgrind_missing(void **state)
{
	char out[1024];
	(void)state;
	assert_int_equal(run_self("novalgrind", "/nonexistent", NULL, out, sizeof out), 0);
	assert_string_equal(out, "valgrind not found: the sim backend runs the harness under "
				 "valgrind's callgrind; install it: apt-get install valgrind\n");
}

/* ---- modes ------------------------------------------------------------- */

static int mode_counts(void)
{
	struct pmb_counter_values v;
	int64_t *a = sum_array();
	if (be->thread_open(&plan, &tstate) != 0)
		return 1;
	for (int i = 0; i < 2; i++)
		if (be->start(tstate, 0) != 0 || (sink = kern_sum(a, SUM_N), 0) ||
		    be->stop_and_read(tstate, 0, "sum/8MiB", &v) != 0) {
			fprintf(stderr, "%s\n", pmb_error_message());
			return 1;
		}
	printf("dir=%s\n", sim_dir);
	for (int i = 0; i < PMB_CTR_COUNT; i++)
		if (v.counted & PMB_CTR_MASK(i))
			printf("%d=%lld ", i, (long long)v.value[i]);
	printf("\n");
	be->thread_close(tstate);
	be->fini();
	return 7;
}

static int mode_novalgrind(void)
{
	plan.requested = PMB_CTR_ALL_MASK;
	if (pmb_sim_launch("sim") == 0)
		return 2; /* unreachable unless valgrind was found after all */
	printf("%s\n", pmb_error_message());
	return 0;
}

static void time_native_sum(void)
{
	int64_t *a = sum_array();
	double best = 1e30;
	sink = kern_sum(a, SUM_N);
	for (int r = 0; r < 5; r++) {
		double t0 = now_ns();
		sink = kern_sum(a, SUM_N);
		double dt = now_ns() - t0;
		if (dt < best)
			best = dt;
	}
	char buf[32];
	snprintf(buf, sizeof buf, "%.4f", best / SUM_N);
	setenv("PMB_TEST_NATIVE_NS", buf, 1);
}

int main(void)
{
	const char *mode = getenv("PMB_TEST_MODE");
	if (mode && strcmp(mode, "novalgrind") == 0)
		return mode_novalgrind();
	if (!RUNNING_ON_VALGRIND) {
		if (!mode)
			time_native_sum();
		setenv("PMB_SIM_LL", TEST_LL, 0);
	} else {
		/* The backend's private hand-over, read before init() clears it,
		 * so the tests can look into the directory. */
		const char *d = getenv("PMB_SIM__DIR");
		snprintf(sim_dir, sizeof sim_dir, "%s", d ? d : "");
	}
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	if (n > 0)
		self_exe[n] = '\0';

	plan.requested = PMB_CTR_ALL_MASK;
	if (pmb_sim_launch("sim") != 0 || be->init(&plan) != 0) {
		fprintf(stderr, "test_counters_sim: %s\n", pmb_error_message());
		return 1;
	}
	if (mode && strcmp(mode, "counts") == 0)
		return mode_counts();

	if (be->thread_open(&plan, &tstate) != 0) {
		fprintf(stderr, "test_counters_sim: %s\n", pmb_error_message());
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_sum_large),
		cmocka_unit_test(test_small_warm),
		cmocka_unit_test(test_pointer_chase),
		cmocka_unit_test(test_branches),
		cmocka_unit_test(test_unavailable),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_no_dump_pileup),
		cmocka_unit_test(test_determinism_processes),
		cmocka_unit_test(test_valgrind_missing),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	be->thread_close(tstate);
	be->fini();
	return failed ? 1 : 0;
}
