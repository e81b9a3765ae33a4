/* JobTemplate, ClusterJobTemplate, Pipeline and PipelineRun: DAG workflows of
 * TrainingJobs with a scheduler (cube-studio's 任务流编排 + 定时调度). What
 * happens to a Pipeline or a PipelineRun is all here:
 *   params.c     typed parameters: declarations, checks and conversions
 *   subst.c      {{...}} references and their substitution in JSON
 *   when.c       the `when` expression language (parse, check, evaluate)
 *   spec.c       JobTemplate and Pipeline specs parsed into structs; the
 *                DAG checks (cycles, unknown dependencies) and the checks
 *                against the templates a pipeline uses
 *   schedule.c   the scheduler as a pure function: ticks and existing runs
 *                in, runs to create and delete and the next wake-up out
 *   dagrun.c     the DAG executor as a pure function: the nodes' states and
 *                their TrainingJobs in, what to start or stop out
 *   task.c       a task's TrainingJob (substituted workload, work volume,
 *                names) and the outputs reader
 *   scheduler.c  the Pipeline controller (applies the schedule's decision)
 *   run.c        the PipelineRun controller (applies the executor's step)
 * Admission: webhooks/validate/pipeline.c and jobtemplate.c. */
#ifndef CUBIT_CONTROLLERS_PIPELINE_H
#define CUBIT_CONTROLLERS_PIPELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/client.h"
#include "runtime/manager.h"
#include "util/cron.h"
#include "util/tz.h"

extern const kube_resource pl_jobtemplate_resource;
extern const kube_resource pl_clusterjobtemplate_resource;
extern const kube_resource pl_pipeline_resource;
extern const kube_resource pl_pipelinerun_resource;

#define PL_LABEL_PIPELINE "cubit.dev/pipeline"
#define PL_LABEL_RUN "cubit.dev/pipelinerun"
#define PL_LABEL_TASK "cubit.dev/pipeline-task"
#define PL_LABEL_ATTEMPT "cubit.dev/attempt"
#define PL_RETRY_ANNOTATION "cubit.dev/retry"
/* Set on a TrainingJob the run stopped (timeout): the reason in words. */
#define PL_STOPPED_ANNOTATION "cubit.dev/stopped"

#define PL_MAX_TASKS 100
#define PL_MAX_PARAMS 64
#define PL_MAX_OUTPUTS 16
/* TrainingJob names stay within 55 characters, so "<name>-outputs" (the
 * reader Job) is a valid 63-character label value. */
#define PL_MAX_CHILD_NAME 55

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
  PL_REF_OUTPUT  /* tasks.TASK.outputs.NAME */
} pl_ref_kind;

typedef struct pl_ref {
  pl_ref_kind kind;
  char name[64];  /* the parameter, run field or output */
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

/* Calls check for every {{...}} in every string of v (keys of objects are
 * not substituted). Errors name the field: "<path>.env[0].value: unknown
 * substitution {{params.x}}: ...". An unterminated "{{" or an unknown form
 * is CUBIT_EINVAL too. */
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

/* Parses a condition: comparisons (== != < <= > >=) of literals (strings in
 * '…' or "…", numbers, true, false) and references (params.X,
 * tasks.T.outputs.Y), combined with && || ! and parentheses. CUBIT_EINVAL
 * with the position: "column 7: expected an operand, got ')'". */
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
/* The workload as a TrainingJob with each parameter's default (or a value
 * of its type) in place, checked as the TrainingJob controller would. */
int pl_template_check_workload(const pl_template *t, char *err, size_t errlen) CUBIT_WUR;

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

/* ---------------------------------------------------------- schedule */

typedef struct pl_sched_run {
  const char *name;
  int64_t tick;        /* its scheduledTime */
  int64_t created;     /* creationTimestamp */
  int state;           /* PL_RUN_ACTIVE, PL_RUN_SUCCEEDED, PL_RUN_FAILED */
  int64_t finished;    /* completionTime, when finished */
} pl_sched_run;

enum { PL_RUN_ACTIVE, PL_RUN_SUCCEEDED, PL_RUN_FAILED };

typedef enum {
  PL_SKIP_DEADLINE,   /* later than startingDeadlineSeconds */
  PL_SKIP_CATCHUP,    /* missed while down, catchup: false */
  PL_SKIP_FORBID,     /* came while a run was active, concurrencyPolicy Forbid */
  PL_SKIP_SUPERSEDED, /* concurrencyPolicy Replace: a newer tick was due */
  PL_SKIP_NREASONS
} pl_skip_reason;

typedef enum { PL_DELETE_REPLACED, PL_DELETE_HISTORY, PL_DELETE_TTL } pl_delete_reason;

#define PL_SCHED_BATCH 256

typedef struct pl_sched_in {
  const pl_schedule *s;
  int64_t now;
  int64_t created;     /* the Pipeline's creation: later ticks are live, earlier ones backfill */
  int64_t watermark;   /* status.lastScheduleTime: every tick up to it is handled; 0 = none */
  const pl_sched_run *runs; /* the runs the schedule made, any order */
  size_t nruns;
} pl_sched_in;

typedef struct pl_sched_out {
  int64_t create[PL_SCHED_BATCH]; /* ticks to start runs for, oldest first */
  size_t ncreate;
  struct {
    size_t run;                   /* index into in->runs */
    pl_delete_reason reason;
  } del[PL_SCHED_BATCH];
  size_t ndel;
  int64_t watermark;              /* the new lastScheduleTime */
  int64_t next_tick;              /* nextScheduleTime, 0 = none */
  int64_t wakeup;                 /* look again at this time, 0 = only when something changes */
  size_t skipped[PL_SKIP_NREASONS];
  int64_t first_skipped[PL_SKIP_NREASONS], last_skipped[PL_SKIP_NREASONS];
  char waiting[256];              /* why due ticks wait, or "" */
  int blocked_by_failure;         /* dependsOnPast and the previous run failed */
} pl_sched_out;

/* The scheduler's decision. Pure: no clock, no I/O. */
void pl_schedule_decide(const pl_sched_in *in, pl_sched_out *out);
/* "<pipeline>-<tick>": the name of a tick's run. */
void pl_run_name(const char *pipeline, int64_t tick, char *out, size_t len);

/* ---------------------------------------------------------- executor */

typedef enum {
  PL_PENDING,
  PL_RUNNING,
  PL_SUCCEEDED,
  PL_FAILED,
  PL_SKIPPED,
  PL_OMITTED,
  PL_NPHASES
} pl_phase;

const char *pl_phase_name(pl_phase p);
int pl_phase_parse(const char *s, pl_phase *out);

/* What the cache shows of the current attempt's TrainingJob (and its outputs). */
typedef enum { PL_JOB_NONE, PL_JOB_ACTIVE, PL_JOB_SUCCEEDED, PL_JOB_FAILED } pl_job_state;

typedef struct pl_node {
  /* kept in status.nodes */
  pl_phase phase;
  int attempts;          /* attempts started so far */
  int first_attempt;     /* the first attempt of this round (a retried run starts a new one) */
  int64_t start, finish; /* 0 = unset */
  int64_t retry_at;      /* waiting to start attempt attempts+1 at this time; 0 = not waiting */
  char message[512];
  /* observed for this step: the current attempt's TrainingJob */
  pl_job_state job;
  int64_t job_created, job_finished;
  char job_message[512];
  int outputs_pending;   /* succeeded, its outputs are still being read */
  /* decided by the step */
  enum { PL_ACT_NONE, PL_ACT_CREATE, PL_ACT_STOP } action;
} pl_node;

/* Decides when a task whose dependencies are done runs: 1 yes, 0 no (skip),
 * CUBIT_EINVAL with a reason (the task fails). */
typedef int (*pl_when_fn)(size_t task, void *arg, char *why, size_t len);

typedef struct pl_step_out {
  pl_phase run_phase;    /* PL_RUNNING, PL_SUCCEEDED or PL_FAILED */
  char message[640];     /* why it failed */
  int64_t wakeup;        /* the next timer (a retry, a timeout), 0 = none */
  size_t done, total;    /* progress */
} pl_step_out;

/* One step of the DAG executor over nodes[s->ntasks]: finished attempts
 * are judged (retries, timeouts), ready tasks start (within parallelism, in
 * topological order), skipped and omitted ones are marked, and the run's
 * phase follows. Pure: 'now' is given, `when` is asked through when_fn. */
void pl_dag_step(const pl_spec *s, pl_node *nodes, int64_t now, pl_when_fn when, void *arg, pl_step_out *out);
/* Retry from failure: failed and omitted nodes go back to Pending (a new
 * round of attempts); the succeeded and skipped stay. Returns how many. */
size_t pl_dag_retry(const pl_spec *s, pl_node *nodes);

/* ------------------------------------------------------------ tasks */

/* The TrainingJob name of a task's attempt: "<run>-<task>-<attempt>", or a
 * prefix of it and a hash when longer than PL_MAX_CHILD_NAME. */
void pl_task_job_name(const char *run, const char *task, int attempt, char *out, size_t len);

/* Where a run's tasks find the work volume. */
typedef struct pl_work_mount {
  char claim[254];
  char sub_path[512];  /* "" = the claim's root */
  char mount_path[256];
} pl_work_mount;

/* The work volume of run 'run' under w; 0 with nothing set (mount->claim "")
 * when there is none. */
void pl_work_mount_of(const pl_work_volume *w, const char *run, pl_work_mount *out);
/* The PersistentVolumeClaim of a run's PL_WORK_TEMPLATE work volume,
 * owned by the run. */
json_t *pl_work_claim(const json_t *run, const pl_work_volume *w);

/* The directory of a task's outputs inside its containers. Caller frees. */
char *pl_outputs_dir(const pl_work_mount *m, const char *task);

/* Everything a task's TrainingJob is made from. */
typedef struct pl_task_input {
  const json_t *run;           /* the PipelineRun */
  const pl_task *task;
  const pl_template *tmpl;
  const json_t *params;        /* the template's resolved parameters */
  const pl_work_mount *work;   /* may have claim "" */
  int attempt;
  pl_ref_value_fn run_value;   /* run.* and tasks.*.outputs.* */
  void *arg;
} pl_task_input;

/* The TrainingJob of one attempt (a new reference), owned by the run; or
 * CUBIT_EINVAL with a message when the substituted workload is no valid
 * TrainingJob spec. */
int pl_task_trainingjob(const pl_task_input *in, json_t **out, char *err, size_t errlen) CUBIT_WUR;

/* The outputs reader: a batch Job that mounts the work volume and writes a
 * task's output files into its termination message. */
json_t *pl_outputs_reader(const json_t *run, const json_t *trainingjob, const pl_template *tmpl,
                          const pl_work_mount *work, const char *task, const char *image);
/* The reader's shell script ("sh -c SCRIPT sh NAME FILE ..."). */
const char *pl_outputs_script(void);
/* Parses the reader's message into *out (a new object name → string); each
 * declared output must be there. CUBIT_EINVAL naming the missing one. */
int pl_outputs_parse(const char *message, const pl_template *tmpl, const char *dir, json_t **out, char *err,
                     size_t errlen) CUBIT_WUR;

/* ------------------------------------------------------ controllers */

/* The Pipeline controller (the scheduler) and the PipelineRun controller
 * (the executor). 'settings' is the manager configuration's "pipeline"
 * section (may be NULL): outputReaderImage. */
int pipeline_controller_register(rt_manager *m) CUBIT_WUR;
int pipelinerun_controller_register(rt_manager *m, const json_t *settings) CUBIT_WUR;

#endif
