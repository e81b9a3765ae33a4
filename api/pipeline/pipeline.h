/* Pipelines' vocabulary, shared by the controllers and the validating
 * webhooks: the resources of JobTemplate, ClusterJobTemplate, Pipeline and
 * PipelineRun, and their specs parsed into structs (docs/pipeline.md).
 *   params.c     typed parameters: declarations, checks and conversions
 *   subst.c      {{...}} references and their substitution in JSON
 *   when.c       the `when` expression language (parse, check, evaluate)
 *   spec.c       JobTemplate and Pipeline specs parsed into structs; the
 *                DAG checks (cycles, unknown dependencies) and the checks
 *                against the templates a pipeline uses
 * What the controllers do with them is in controllers/pipeline/. */
#ifndef CUBIT_API_PIPELINE_H
#define CUBIT_API_PIPELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/client.h"
#include "util/cron.h"
#include "util/tz.h"

extern const kube_resource pl_jobtemplate_resource;
extern const kube_resource pl_clusterjobtemplate_resource;
extern const kube_resource pl_pipeline_resource;
extern const kube_resource pl_pipelinerun_resource;

#define PL_MAX_TASKS 100
#define PL_MAX_PARAMS 64
#define PL_MAX_OUTPUTS 16

/* ------------------------------------------------------- parameters */

typedef enum { PL_STRING, PL_INT, PL_FLOAT, PL_BOOL, PL_ENUM, PL_JSON } pl_type;

typedef struct pl_param {
  const char *name;          /* borrowed from the object */
  pl_type type;
  const json_t *def;         /* the default, or NULL */
  int required;
  const json_t *enum_values; /* enum: an array of strings */
  int has_min, has_max;
  double min, max;
} pl_param;

typedef struct pl_params {
  pl_param *items;
  size_t n;
} pl_params;

const char *pl_type_name(pl_type t);
/* Parses a parameters[] array (borrowed pointers into it). 'path' names it
 * in messages ("spec.parameters"). CUBIT_EINVAL with a message naming the
 * parameter for a bad declaration (unknown type, duplicate name, a default
 * of the wrong type, minimum on a string...). pl_params_free releases it. */
int pl_params_parse(const json_t *arr, const char *path, pl_params *out, char *err, size_t errlen) CUBIT_WUR;
void pl_params_free(pl_params *p);
const pl_param *pl_params_find(const pl_params *p, const char *name);
/* Checks v against p's type, enum and range, converting what may be written
 * either way ("5" for an int, 5 for a string, "true" for a bool). *out is a
 * new reference to the value as its type says (JSON integer, real, boolean,
 * string; json: v itself). CUBIT_EINVAL with a message naming 'path'
 * ("params.epochs: want an integer, got \"ten\""). */
int pl_param_coerce(const pl_param *p, const json_t *v, const char *path, json_t **out, char *err,
                    size_t errlen) CUBIT_WUR;
/* The text of a value inside a larger string: strings as they are, numbers
 * in their shortest form, booleans as true/false, json compactly. Caller
 * frees. */
char *pl_value_text(const json_t *v);
/* The effective values of decls: each given value (coerced), else the
 * default, else CUBIT_EINVAL for a required one ("params.x: required").
 * Values given for undeclared names are CUBIT_EINVAL too. *out is a new
 * object. */
int pl_params_resolve(const pl_params *decls, const json_t *given, const char *path, json_t **out, char *err,
                      size_t errlen) CUBIT_WUR;

/* ------------------------------------------------------- references */

typedef enum {
  PL_REF_PARAM,  /* params.NAME */
  PL_REF_RUN,    /* run.name, run.namespace, run.scheduledTime */
  PL_REF_OUTPUT, /* tasks.TASK.outputs.NAME */
  PL_REF_TRIAL   /* trial.name, trial.number, trial.parameters.NAME (name "parameters.NAME"):
                  * only an Experiment's trial template knows them (api/experiment) */
} pl_ref_kind;

typedef struct pl_ref {
  pl_ref_kind kind;
  char name[128]; /* the parameter, run field, output or trial field */
  char task[64];  /* PL_REF_OUTPUT: the task */
} pl_ref;

/* Parses the inside of one reference ("params.x", "tasks.a.outputs.m").
 * CUBIT_EINVAL when it is none of the known forms. */
int pl_ref_parse(const char *text, size_t len, pl_ref *out) CUBIT_WUR;
void pl_ref_format(const pl_ref *r, char *out, size_t len);

/* Checks one reference (validation): 0, or CUBIT_EINVAL with a reason. */
typedef int (*pl_ref_check_fn)(const pl_ref *ref, void *arg, char *err, size_t errlen);
/* The value of a reference (borrowed), or NULL with a reason in err. */
typedef const json_t *(*pl_ref_value_fn)(const pl_ref *ref, void *arg, char *err, size_t errlen);

/* How deep the JSON that substitution walks may nest (the walk recurses;
 * a TrainingJob spec nests about ten levels). */
#define PL_SUBST_MAX_DEPTH 64

/* Calls check for every {{...}} in every string of v (keys of objects are
 * not substituted). Errors name the field: "<path>.env[0].value: unknown
 * substitution {{params.x}}: ...". An unterminated "{{" or an unknown form
 * is CUBIT_EINVAL too, and so is JSON nesting deeper than
 * PL_SUBST_MAX_DEPTH ("<path>: nested deeper than 64 levels"). Substitution
 * itself does not recurse: a value put in place is not searched again. */
int pl_subst_check(const json_t *v, const char *path, pl_ref_check_fn check, void *arg, char *err,
                   size_t errlen) CUBIT_WUR;
/* A copy of v with every reference replaced by its value: a string that is
 * exactly one reference becomes the value itself (an int parameter stays an
 * integer) unless it is a list item, an env variable's value, a label or an
 * annotation (those are strings whatever the value); otherwise the value's
 * text is spliced in. */
int pl_subst_json(const json_t *v, const char *path, pl_ref_value_fn value, void *arg, json_t **out, char *err,
                  size_t errlen) CUBIT_WUR;

/* ------------------------------------------------ `when` expressions */

typedef struct pl_when pl_when;

/* How deep a `when` expression may nest: parentheses and "!" inside each
 * other, or a chain of && and || (each link is a level). */
#define PL_WHEN_MAX_DEPTH 64

/* Parses a condition: comparisons (== != < <= > >=) of literals (strings in
 * '…' or "…", numbers, true, false) and references (params.X,
 * tasks.T.outputs.Y), combined with && || ! and parentheses. CUBIT_EINVAL
 * with the position: "column 7: expected an operand, got ')'"; an
 * expression nesting deeper than PL_WHEN_MAX_DEPTH is refused the same way. */
int pl_when_parse(const char *src, pl_when **out, char *err, size_t errlen) CUBIT_WUR;
void pl_when_free(pl_when *w);
/* Calls check for each reference in the expression. */
int pl_when_check(const pl_when *w, pl_ref_check_fn check, void *arg, char *err, size_t errlen) CUBIT_WUR;
/* Evaluates w to *result (0 or 1). A type error ("tasks.a.outputs.n
 * (\"high\") is not a number") is CUBIT_EINVAL. */
int pl_when_eval(const pl_when *w, pl_ref_value_fn value, void *arg, int *result, char *err,
                 size_t errlen) CUBIT_WUR;

/* ------------------------------------------------------------ specs */

typedef struct pl_output {
  const char *name, *path;
} pl_output;

/* A JobTemplate's or ClusterJobTemplate's spec. */
typedef struct pl_template {
  pl_params params;
  const json_t *workload; /* a TrainingJob spec with {{...}} (borrowed) */
  pl_output outputs[PL_MAX_OUTPUTS];
  size_t noutputs;
} pl_template;

/* Parses a template's spec object (borrowed pointers into it) and checks
 * its references: {{params.X}} of declared parameters, run.*, tasks.*. */
int pl_template_parse(const json_t *spec, pl_template *out, char *err, size_t errlen) CUBIT_WUR;
void pl_template_free(pl_template *t);
/* Checks a whole TrainingJob object (apiVersion, kind, metadata, spec): 0, or
 * CUBIT_EINVAL with a message naming the field as "spec.x". The TrainingJob
 * parser lives with its kind; the caller hands it in. */
typedef int (*pl_workload_check_fn)(const json_t *trainingjob, void *arg, char *err, size_t errlen);
/* The workload as a TrainingJob with each parameter's default (or a value
 * of its type) in place, checked by 'check'. Errors name the field as
 * "spec.workload.x (checked with each parameter's default)". */
int pl_template_check_workload(const pl_template *t, pl_workload_check_fn check, void *arg, char *err,
                               size_t errlen) CUBIT_WUR;

typedef enum { PL_TEMPLATE_NAMESPACED, PL_TEMPLATE_CLUSTER } pl_template_kind;

typedef struct pl_task {
  const char *name;
  pl_template_kind template_kind;
  const char *template_name;
  const json_t *params;   /* object: template parameter → value (may hold {{...}}) */
  size_t deps[PL_MAX_TASKS];
  size_t ndeps;
  const char *when_src;
  pl_when *when;          /* NULL = always */
  int retry_limit;
  int64_t backoff_s;
  int64_t timeout_s;      /* 0 = none */
  int skip;
  const json_t *resources; /* {cpu, memory, gpu} for every role, or NULL */
} pl_task;

typedef enum { PL_ALLOW, PL_FORBID, PL_REPLACE } pl_concurrency;

typedef struct pl_schedule {
  const char *cron_src, *tz_src;
  cron_expr *cron;
  tz_zone *zone;
  int suspend;
  int64_t start, end;      /* 0 = none */
  int catchup;             /* default 1 */
  int depends_on_past;
  pl_concurrency policy;
  int max_active;          /* 0 = unlimited */
  int64_t deadline_s;      /* startingDeadlineSeconds, -1 = none */
  int keep_succeeded;      /* successfulRunsHistoryLimit, default 3 */
  int keep_failed;         /* failedRunsHistoryLimit, default 1 */
  int64_t ttl_s;           /* runTTLSecondsAfterFinished, -1 = keep */
} pl_schedule;

typedef enum { PL_WORK_NONE, PL_WORK_TEMPLATE, PL_WORK_CLAIM } pl_work_kind;

typedef struct pl_work_volume {
  pl_work_kind kind;
  const json_t *claim_spec; /* PL_WORK_TEMPLATE: the PVC spec */
  const char *claim_name;   /* PL_WORK_CLAIM */
  const char *sub_path;     /* PL_WORK_CLAIM: with {{run.name}}; default pipelines/{{run.name}} */
  const char *mount_path;   /* default /cubit/work */
} pl_work_volume;

typedef struct pl_spec {
  pl_params params;
  pl_task *tasks;
  size_t ntasks;
  size_t order[PL_MAX_TASKS]; /* topological */
  int parallelism;            /* 0 = unlimited */
  int fail_fast;              /* failurePolicy FailFast (default) or Continue */
  pl_work_volume work;
  int has_schedule;
  pl_schedule sched;
} pl_spec;

/* Parses a Pipeline's spec object (the Pipeline's own, or the copy a run
 * keeps): parameters, tasks and their DAG (duplicate names, unknown
 * dependencies and cycles are CUBIT_EINVAL naming them: "spec.tasks: cycle
 * a -> b -> a"), `when` expressions, references in task parameters (a
 * task's output may only be used downstream of it), the schedule (cron and
 * time zone) and the work volume. pl_spec_free releases it. */
int pl_spec_parse(const json_t *spec, pl_spec *out, char *err, size_t errlen) CUBIT_WUR;
void pl_spec_free(pl_spec *s);
/* The index of task 'name', or -1. */
int pl_spec_task(const pl_spec *s, const char *name);

/* Finds the template of a task: its spec object (borrowed, must stay valid
 * while the caller uses it), or NULL when there is none. */
typedef const json_t *(*pl_template_lookup_fn)(pl_template_kind kind, const char *name, void *arg);
/* Checks every task against its template: the template exists, each given
 * parameter is declared and of its type (values with {{...}} are checked
 * when the run resolves them), required parameters are given, outputs used
 * downstream exist, and templates with outputs have a work volume. */
int pl_spec_check_templates(const pl_spec *s, pl_template_lookup_fn lookup, void *arg, char *err,
                            size_t errlen) CUBIT_WUR;

#endif
