/* pmb_schema_json.c — the schema as JSON: `pmubench --schema` and the
 * "schema" object of meta.json, so a run says how to read itself. */
#include "pmb_json.h"
#include "pmb_schema.h"
#include "pmb_schema_impl.h"

#include <stdio.h>

static const char *type_name(enum pmb_type t)
{
	return t == PMB_TYPE_STRING ? "string" : t == PMB_TYPE_INT ? "int" : "float";
}

static void json_columns(struct pmb_json *j, unsigned file, const char *key)
{
	pmb_json_array(j, key);
	for (size_t i = 0; i < pmb_schema_ncolumns(file); i++) {
		const struct pmb_column *c = pmb_schema_column(file, i);
		pmb_json_object(j, NULL);
		pmb_json_string(j, "name", c->name);
		pmb_json_string(j, "type", type_name(c->type));
		pmb_json_string(j, "unit", c->unit);
		pmb_json_string(j, "normalisation", pmb_norm_name(c->norm));
		pmb_json_string(j, "provenance", pmb_prov_name(c->prov));
		if (c->field == F_METRIC_VALUE)
			pmb_json_string(j, "metric", pmb_schema_metric(c->arg)->name);
		pmb_json_string(j, "description", c->description);
		pmb_json_close(j);
	}
	pmb_json_close(j);
}

static void json_headers(struct pmb_json *j)
{
	pmb_json_object(j, "headers");
	pmb_json_array(j, "raw");
	for (size_t i = 0; i < pmb_schema_ncolumns(PMB_IN_RAW); i++)
		pmb_json_string(j, NULL, pmb_schema_column(PMB_IN_RAW, i)->name);
	pmb_json_close(j);
	pmb_json_array(j, "summary");
	for (size_t i = 0; i < pmb_schema_ncolumns(PMB_IN_SUMMARY); i++)
		pmb_json_string(j, NULL, pmb_schema_column(PMB_IN_SUMMARY, i)->name);
	pmb_json_close(j);
	pmb_json_close(j);
}

static void json_metrics(struct pmb_json *j)
{
	pmb_json_array(j, "metrics");
	for (int m = 0; m < PMB_METRIC_COUNT; m++) {
		const struct pmb_metric_def *d = pmb_schema_metric(m);
		if (!d)
			continue; /* a user-event slot this run does not use */
		pmb_json_object(j, NULL);
		pmb_json_string(j, "name", d->name);
		pmb_json_string(j, "unit", d->unit);
		pmb_json_string(j, "normalisation", pmb_norm_name(d->norm));
		pmb_json_string(j, "rows", d->scope == PMB_SCOPE_GROUP ? "group" : "all");
		pmb_json_string(j, "provenance", pmb_prov_name(d->prov));
		pmb_json_string(j, "formula", d->formula);
		pmb_json_string(j, "description", d->description);
		pmb_json_close(j);
	}
	pmb_json_close(j);
}

void pmb_schema_json(struct pmb_json *j)
{
	pmb_json_int(j, "schema_version", PMB_SCHEMA_VERSION);
	pmb_json_object(j, "files");
	pmb_json_string(j, "raw", "size-<size_bytes>.csv: one row per thread and sample, plus "
		       "the aggregate row (thread -1) of multi-thread samples");
	pmb_json_string(j, "summary", "summary.csv: one row per point, thread and metric");
	pmb_json_close(j);
	pmb_json_object(j, "rows");
	pmb_json_string(j, "thread", "thread 0..threads-1, core = its PU");
	pmb_json_string(j, "aggregate", "thread -1, core -1, only when threads > 1: wall time and "
		       "ticks of the slowest thread, counts and allocs summed over threads");
	pmb_json_string(j, "group", "the row standing for the whole point: the aggregate when "
		       "threads > 1, thread 0 when threads = 1; group-scope metrics appear only "
		       "there");
	pmb_json_close(j);
	pmb_json_object(j, "normalisations");
	pmb_json_string(j, "none", "as measured");
	pmb_json_string(j, "per_elem", "per element of one thread's work (iters * n_elems)");
	pmb_json_string(j, "group_elem", "per element of the whole group's work (iters * "
		       "n_elems * threads): the inverse of throughput");
	pmb_json_string(j, "stat", "a statistic of the row's metric, in the metric's unit");
	pmb_json_close(j);
	json_headers(j);
	json_columns(j, PMB_IN_RAW, "raw_columns");
	json_columns(j, PMB_IN_SUMMARY, "summary_columns");
	json_metrics(j);
}

void pmb_schema_print(FILE *f)
{
	struct pmb_json j;
	pmb_json_begin(&j, f);
	pmb_schema_json(&j);
	pmb_json_end(&j);
}
