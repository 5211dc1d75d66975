#include "pmb_meta.h"
#include "pmb_error.h"
#include "pmb_json.h"
#include "pmb_schema.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef PMB_VERSION
#define PMB_VERSION "0.1.0"
#endif
#ifndef PMB_GIT_COMMIT
#define PMB_GIT_COMMIT "unknown"
#endif
#ifndef PMB_CFLAGS
#define PMB_CFLAGS "unknown"
#endif

const char *pmb_meta_compiler(void)
{
	static char name[64];
	if (!name[0]) {
#if defined(__clang__)
		snprintf(name, sizeof name, "clang-%d.%d.%d", __clang_major__, __clang_minor__,
			 __clang_patchlevel__);
#elif defined(__GNUC__)
		snprintf(name, sizeof name, "gcc-%d.%d.%d", __GNUC__, __GNUC_MINOR__,
			 __GNUC_PATCHLEVEL__);
#else
		snprintf(name, sizeof name, "unknown");
#endif
	}
	return name;
}

const char *pmb_meta_cflags(void)
{
	return PMB_CFLAGS;
}

void pmb_meta_utc_now(char *buf, size_t len, int compact)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, len, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void write_caches(struct pmb_json *j, const struct pmb_topology_info *t)
{
	pmb_json_object(j, "caches");
	for (int i = 0; i < 3; i++) {
		char key[4];
		snprintf(key, sizeof key, "L%d", i + 1);
		pmb_json_object(j, key);
		pmb_json_int(j, "size", (long long)t->cache[i].size);
		pmb_json_int(j, "size_raw", (long long)t->cache[i].size_raw);
		pmb_json_int(j, "line_size", t->cache[i].line_size);
		pmb_json_int(j, "associativity", t->cache[i].assoc);
		/* hwloc: reported; default: assumed (hwloc gave no size);
		 * adjusted: reordered; none: no such level. */
		pmb_json_string(j, "source", t->cache[i].source);
		pmb_json_bool(j, "hwloc_object", t->cache[i].present);
		pmb_json_close(j);
	}
	pmb_json_close(j);
	pmb_json_int(j, "llc_level", t->llc_level);
	pmb_json_int(j, "llc_shared_by_pus", t->llc_pus);
	pmb_json_bool(j, "llc_looks_like_host_value", t->llc_host_value);
	pmb_json_string(j, "topology_notes", t->notes);
}

/* Per counter: where its numbers come from (source + event), whether it
 * is counted (status) and why not (reason). */
static void write_counters(struct pmb_json *j, const struct pmb_counter_plan *c,
			   const char *backend)
{
	pmb_json_object(j, "counters");
	for (int i = 0; i < pmb_counter_n(); i++) {
		uint32_t bit = PMB_CTR_MASK(i);
		pmb_json_object(j, pmb_counter_info[i].column);
		pmb_json_bool(j, "requested", (c->requested & bit) != 0);
		pmb_json_bool(j, "available", (c->available & bit) != 0);
		pmb_json_string(j, "status", (c->available & bit)   ? "counted"
					     : (c->requested & bit) ? "unavailable"
								    : "not requested");
		pmb_json_string(j, "source", pmb_counter_source(c, backend, i));
		/* A user event names its event even when not counted: it
		 * is what was asked for. */
		pmb_json_string(j, "event", c->event_name[i][0] || !pmb_counter_is_user(i)
						    ? c->event_name[i]
						    : pmb_counter_info[i].papi_events);
		if (pmb_counter_is_user(i))
			pmb_json_bool(j, "user_event", 1);
		pmb_json_int(j, "pass", c->pass_of[i]);
		pmb_json_string(j, "reason", c->reason[i]);
		pmb_json_close(j);
	}
	pmb_json_close(j);
	pmb_json_int(j, "counter_passes", c->npasses);
	pmb_json_int(j, "max_events_per_pass", c->max_per_pass);
	pmb_json_string(j, "counter_backend_version", c->backend_version);
	pmb_json_string(j, "counter_note", c->note);
}

static void write_options(struct pmb_json *j, const struct pmb_options *o,
			  const struct pmb_plan *plan)
{
	pmb_json_string(j, "kernels", o->kernels);
	pmb_json_array(j, "kernel_libs"); /* --kernel-lib plugins, in load order */
	for (size_t i = 0; i < o->nkernel_libs; i++)
		pmb_json_string(j, NULL, o->kernel_libs[i]);
	pmb_json_close(j);
	pmb_json_array(j, "sizes");
	for (size_t i = 0; i < plan->nsizes; i++)
		pmb_json_int(j, NULL, (long long)plan->sizes[i]);
	pmb_json_close(j);
	pmb_json_bool(j, "sizes_auto", o->auto_sizes);
	pmb_json_string(j, "sizes_note", plan->notes);
	pmb_json_array(j, "threads");
	for (size_t i = 0; i < o->nthreads; i++)
		pmb_json_int(j, NULL, o->threads[i]);
	pmb_json_close(j);
	pmb_json_object(j, "sampling");
	pmb_json_int(j, "min_samples", (long long)o->min_samples);
	pmb_json_int(j, "max_samples", (long long)o->max_samples);
	pmb_json_int(j, "rounds", (long long)o->rounds);
	pmb_json_double(j, "target_ci_rel", o->target_ci);
	pmb_json_double(j, "warmup_ms", o->warmup_ms);
	pmb_json_double(j, "min_sample_ms", o->min_sample_ms);
	pmb_json_double(j, "point_seconds", o->point_seconds);
	pmb_json_bool(j, "interleave", o->interleave);
	pmb_json_int(j, "seed", (long long)o->seed);
	pmb_json_string(j, "overhead_method",
			"empty-sample baseline: median of 11 zero-iteration samples per point, "
			"thread and counter pass, subtracted from the samples of that pass "
			"before dividing by elements");
	pmb_json_string(j, "ci_method", "percentile bootstrap, 2000 resamples, 95 %");
	pmb_json_close(j);
}

/* What ran and how far it got: identity, outcome, progress, command line. */
static void write_run_status(struct pmb_json *j, const struct pmb_meta *m)
{
	pmb_json_int(j, "schema_version", PMB_SCHEMA_VERSION);
	pmb_json_string(j, "run_id", m->run->run_id);
	pmb_json_string(j, "config", m->opt->config_name);
	pmb_json_string(j, "config_path", m->opt->config_path);
	pmb_json_bool(j, "complete", m->complete);
	pmb_json_int(j, "interrupted_by_signal", m->interrupted_by);
	pmb_json_string(j, "error", m->error);
	pmb_json_int(j, "points_total", (long long)m->points_total);
	pmb_json_int(j, "points_done", (long long)m->points_done);
	pmb_json_int(j, "points_resumed", (long long)m->points_resumed);
	pmb_json_string(j, "started_utc", m->started_utc);
	pmb_json_string(j, "finished_utc", m->finished_utc);
	pmb_json_array(j, "command_line");
	for (int i = 0; i < m->argc; i++)
		pmb_json_string(j, NULL, m->argv[i]);
	pmb_json_close(j);
}

/* The binary: version, commit, compiler and the flags of the code under test. */
static void write_build(struct pmb_json *j, const struct pmb_meta *m)
{
	pmb_json_string(j, "pmubench_version", PMB_VERSION);
	pmb_json_string(j, "git_commit", PMB_GIT_COMMIT);
	pmb_json_string(j, "compiler", pmb_meta_compiler());
	pmb_json_string(j, "compiler_version", __VERSION__);
	pmb_json_string(j, "cflags", PMB_CFLAGS);
	pmb_json_string(j, "flagset", m->opt->flagset);
}

/* The machine: host, CPU, cores, hwloc, caches, VM evidence, memory. */
static void write_machine(struct pmb_json *j, const struct pmb_meta *m)
{
	pmb_json_string(j, "host", m->sys->host);
	pmb_json_string(j, "os", m->sys->kernel);
	pmb_json_string(j, "cpu_model", m->topo->cpu_model);
	pmb_json_string(j, "cpu_microcode", m->sys->microcode);
	pmb_json_string(j, "cpu_flags", m->sys->cpu_flags);
	pmb_json_int(j, "cores", m->topo->ncores);
	pmb_json_int(j, "pus", m->topo->npus);
	pmb_json_array(j, "core_os_index");
	for (int i = 0; i < m->topo->ncores; i++)
		pmb_json_int(j, NULL, m->topo->core_os_index[i]);
	pmb_json_close(j);
	pmb_json_string(j, "hwloc_version", m->topo->hwloc_version);
	pmb_json_string(j, "hwloc_api_version", m->topo->hwloc_api_version);
	pmb_json_string(j, "hwloc_header_version", m->topo->hwloc_header_version);
	write_caches(j, m->topo);
	pmb_json_bool(j, "vm", m->sys->vm);
	pmb_json_string(j, "hypervisor", m->sys->hypervisor);
	pmb_json_string(j, "vm_evidence", m->sys->vm_evidence);
	pmb_json_string(j, "cpufreq_governor", m->sys->governor);
	pmb_json_int(j, "perf_event_paranoid", m->sys->perf_event_paranoid);
	pmb_json_int(j, "mem_total", (long long)m->sys->mem_total);
	pmb_json_int(j, "mem_available", (long long)m->sys->mem_available);
}

/* The clocks and what one sample costs before any kernel runs. */
static void write_clocks(struct pmb_json *j, const struct pmb_meta *m)
{
	pmb_json_object(j, "clocks");
	pmb_json_string(j, "wall", "clock_gettime(CLOCK_MONOTONIC_RAW)");
	pmb_json_string(j, "ticks", m->run->has_ticks ? "rdtsc/cntvct (reference ticks, not core cycles)" : "none");
	pmb_json_double(j, "wall_resolution_ns", m->clock->ns_resolution);
	pmb_json_double(j, "wall_step_ns", m->clock->ns_step);
	pmb_json_double(j, "wall_read_cost_ns", m->clock->ns_read_cost);
	pmb_json_double(j, "ticks_read_cost_ns", m->clock->ticks_read_cost_ns);
	pmb_json_double(j, "ticks_per_ns", m->clock->ticks_per_ns);
	pmb_json_double(j, "counter_start_stop_ns", m->counter_start_stop_ns);
	pmb_json_double(j, "sample_overhead_ns_median", m->sample_overhead_ns);
	pmb_json_close(j);
}

static void write_core_choice(struct pmb_json *j, const struct pmb_core_choice *c)
{
	pmb_json_object(j, "core_choice");
	pmb_json_string(j, "how", c->how);
	pmb_json_string(j, "why", c->why);
	pmb_json_array(j, "cores");
	for (int i = 0; i < c->ncores; i++)
		pmb_json_int(j, NULL, c->cores[i]);
	pmb_json_close(j);
	pmb_json_close(j);
}

static void write_meta_json(FILE *f, const struct pmb_meta *m)
{
	struct pmb_json j;
	pmb_json_begin(&j, f);
	write_run_status(&j, m);
	write_build(&j, m);
	write_machine(&j, m);
	pmb_json_string(&j, "backend", m->backend);
	write_counters(&j, m->counters, m->backend);
	if (m->calibration)
		pmb_calibration_write_json(&j, m->calibration);
	write_clocks(&j, m);
	if (m->core_choice)
		write_core_choice(&j, m->core_choice);
	if (m->latency)
		pmb_latency_table_json(&j, m->latency);
	pmb_json_object(&j, "preemption");
	pmb_json_string(&j, "rule", m->preemption);
	pmb_json_int(&j, "samples_discarded", (long long)m->samples_discarded);
	pmb_json_close(&j);
	write_options(&j, m->opt, m->plan);
	pmb_json_object(&j, "schema");
	pmb_schema_json(&j);
	pmb_json_close(&j);
	pmb_json_array(&j, "warnings");
	for (size_t i = 0; i < pmb_warn_count(); i++)
		pmb_json_string(&j, NULL, pmb_warn_get(i));
	pmb_json_close(&j);
	pmb_json_end(&j);
}

/* Written to a temp file and renamed, so a reader sees the old or the new
 * meta.json, never half of one. */
int pmb_meta_write(const struct pmb_meta *m)
{
	char tmp[1100], path[1100];
	snprintf(path, sizeof path, "%s/%s", m->run->run_dir, m->run->meta_name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", m->run->run_dir, m->run->meta_name);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return pmb_error("cannot write %s: %s", tmp, strerror(errno));
	write_meta_json(f, m);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		remove(tmp);
		return pmb_error("cannot write %s: %s; free space or choose another --out", path,
				 strerror(errno ? errno : EIO));
	}
	if (rename(tmp, path) != 0)
		return pmb_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
	return 0;
}
