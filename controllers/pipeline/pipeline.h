/* The controllers of JobTemplate, ClusterJobTemplate, Pipeline and
 * PipelineRun: DAG workflows of TrainingJobs with a scheduler (cube-studio's
 * 任务流编排 + 定时调度). The kinds' specs and their parsers are in
 * api/pipeline/; what happens to a Pipeline or a PipelineRun is all here:
 *   schedule.c       the scheduler as a pure function: ticks and existing
 *                    runs in, runs to create and delete and the next wake-up
 *   dagrun.c         the DAG executor as a pure function: the nodes' states
 *                    and their TrainingJobs in, what to start or stop out
 *   task.c           a task's TrainingJob (substituted workload, work volume,
 *                    names) and the outputs reader
 *   pipeline_plan.c  the Pipeline's plan: the schedule's decision as runs to
 *                    apply and delete, and the Pipeline's status
 *   run_plan.c       the PipelineRun's plan: the start (snapshot), one step
 *                    of the DAG as TrainingJobs to apply, the run's status
 *   template_plan.c  the templates' plan: validated, Ready or Failed
 *   state.c          how the plans write a phase and state (and warn once)
 *   scheduler.c      the Pipeline controller (gather, plan, execute)
 *   run.c            the PipelineRun controller (gather, plan, execute)
 *   template.c       the JobTemplate and ClusterJobTemplate controllers
 * Admission: webhooks/validate/pipeline.c and jobtemplate.c. */
#ifndef CUBIT_CONTROLLERS_PIPELINE_H
#define CUBIT_CONTROLLERS_PIPELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/labels.h"
#include "api/pipeline/pipeline.h"
#include "cache/store.h"
#include "controllers/cluster/placement.h"
#include "runtime/manager.h"
#include "runtime/plan.h"
#include "runtime/status.h"

#define PL_LABEL_PIPELINE CUBIT_LABEL_PIPELINE
#define PL_LABEL_RUN CUBIT_LABEL_RUN
#define PL_LABEL_TASK CUBIT_LABEL_TASK
#define PL_LABEL_ATTEMPT CUBIT_LABEL_ATTEMPT
/* On a PipelineRun: a new value asks a failed run to retry its failed tasks
 * (status.lastHandledRetry records the value acted on). */
#define PL_RETRY_ANNOTATION "cubit.dev/retry"
/* With a new cubit.dev/retry value: retry from this task — it and every
 * task downstream of it run again, on a Failed or a Succeeded run; the
 * tasks upstream keep their results. */
#define PL_RETRY_FROM_ANNOTATION "cubit.dev/retry-from"
/* Set on a TrainingJob the run stopped (timeout): the reason in words. */
#define PL_STOPPED_ANNOTATION "cubit.dev/stopped"

/* TrainingJob names stay within 55 characters, so "<name>-outputs" (the
 * reader Job) is a valid 63-character label value. */
#define PL_MAX_CHILD_NAME 55

/* "JobTemplate/<name>" or "ClusterJobTemplate/<name>": how a run's status
 * (status.templates) and the plans' inputs key the templates. */
void pl_template_key(pl_template_kind kind, const char *name, char *out, size_t len);

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
  int64_t settled;                /* the watermark before the first tick that gets a run
                                   * (= watermark when none does): every tick up to it is
                                   * handled without a run still to be made */
  int64_t next_tick;              /* nextScheduleTime, 0 = none */
  int64_t wakeup;                 /* look again at this time, 0 = only when something changes */
  size_t skipped[PL_SKIP_NREASONS];
  int64_t first_skipped[PL_SKIP_NREASONS], last_skipped[PL_SKIP_NREASONS];
  struct {
    int64_t tick;
    pl_skip_reason why;
  } skips[PL_SCHED_BATCH];        /* every skipped tick, oldest first */
  size_t nskips;
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
  int stopped_attempts;  /* attempts of this round a stop of the run interrupted: they do not
                          * count against the retries budget */
  int64_t start, finish; /* 0 = unset */
  int64_t retry_at;      /* waiting to start attempt attempts+1 at this time; 0 = not waiting */
  char message[512];
  /* observed for this step: the current attempt's TrainingJob */
  pl_job_state job;
  int64_t job_created, job_finished;
  char job_phase[16];    /* PL_JOB_ACTIVE: its phase (Pending, Queued, Running...) */
  char job_reason[64];   /* PL_JOB_ACTIVE: its Ready condition's reason (why it waits) */
  char job_message[512]; /* PL_JOB_FAILED: why; PL_JOB_ACTIVE: its Ready condition's message */
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
/* Retry from task 'from': it and every task that depends on it, directly
 * or through others, go back to Pending (a new round of attempts),
 * whatever their phase; the others stay. Returns how many; reset[i] says
 * which (their outputs are void). */
size_t pl_dag_retry_from(const pl_spec *s, pl_node *nodes, size_t from, int *reset);
/* The run is stopped (spec.stopped): nothing starts, and each running node
 * settles what its current attempt shows — succeeded (once its outputs are
 * read) or failed without a retry left are final; a failed attempt with a
 * retry left, an attempt waiting for its retry and an active (or not yet
 * seen) attempt go back to Pending, so resuming starts the task's next
 * attempt. An interrupted attempt is counted in stopped_attempts (it uses no
 * retry). out->done and out->total are the progress. Pure. */
void pl_dag_stop(const pl_spec *s, pl_node *nodes, int64_t now, pl_step_out *out);

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
  /* The cluster the run was placed on as a whole (docs/multicluster.md):
   * the task is pinned there. NULL: a run not placed, whose tasks sharing
   * its work volume run in the hub and the others as their workloads say. */
  const char *cluster;
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

/* ------------------------------------------------------------ plans */

/* What the Pipeline controller remembers of its own recent writes, because
 * the informers' caches may trail them (a run just created not yet listed,
 * a status not yet seen): the plan decides on the union of the cache and
 * this, never on less than it knows (controller-runtime's expectations). */
#define PL_MEMO_MAX 64

typedef struct pl_memo_run {
  char name[128];
  int64_t tick;
  int64_t at; /* when it was created or deleted */
} pl_memo_run;

typedef struct pl_memo {
  int64_t watermark;            /* the lastScheduleTime last written */
  pl_memo_run created[PL_MEMO_MAX];
  size_t ncreated;
  pl_memo_run deleted[PL_MEMO_MAX];
  size_t ndeleted;
} pl_memo;

typedef struct pl_pipeline_in {
  const json_t *pipeline;
  const json_t *templates;  /* "JobTemplate/<name>" → the template object, for those its tasks name that exist */
  const cache_list *runs;   /* the PipelineRuns it owns */
  const pl_memo *known;     /* what the controller remembers (entries younger than its TTL) */
  int64_t now;
} pl_pipeline_in;

/* The Pipeline's plan: validity (spec, templates), the schedule's decision
 * as runs to apply (named "<pipeline>-<tick>") and delete, the status
 * (phase, Ready/Reconciling/Stalled/Suspended, lastScheduleTime, activeRuns,
 * nextScheduleTime, lastSuccessfulRun) and the events. *learned is what to
 * remember once the plan is carried out: 'known' with the plan's creations,
 * deletions and watermark. Pure. */
void pl_pipeline_plan(const pl_pipeline_in *in, rt_plan *plan, pl_memo *learned);

typedef struct pl_run_in {
  const json_t *run;
  const json_t *pipeline;          /* the Pipeline spec.pipelineRef names, or NULL (read until the run starts) */
  const json_t *templates;         /* "JobTemplate/<name>" → the template objects its tasks name that exist */
  const cache_list *trainingjobs;  /* the TrainingJobs of the run's namespace */
  const cache_list *jobs;          /* the batch Jobs of the run's namespace (outputs readers) */
  const cache_list *pods;          /* the pods labelled with the run's name (the readers') */
  const char *reader_image;        /* the outputs reader's image */
  int64_t now;
  /* Placement as a whole (spec.cluster, spec.placement): NULL for a run
   * naming neither, whose tasks are placed as before. When the run is
   * placed on a member, jobs and pods above are the member's, and its
   * work claim and outputs readers are made there. */
  const placement_spec *place;
  const char *place_error;           /* spec.cluster or spec.placement is invalid (place NULL) */
  const placement_view *clusters;    /* the project's clusters, in its order */
  size_t nclusters;
  const char *project_name;          /* NULL: "the namespace's project" */
  const json_t *member_claim;        /* the run's work claim as the member's cache shows it */
  int64_t remote_cleanup_timeout_s;  /* 0: PLACEMENT_REMOTE_CLEANUP_TIMEOUT_S */
} pl_run_in;

/* What a run placed as a whole asks of its cluster at once: the gang of its
 * largest task (most GPUs, then cpu, then memory) among those whose
 * TrainingJob can be made before any task ran (a task whose workload reads
 * an upstream output is judged when it starts, by its own admission).
 * Tasks run one after another or beside each other within parallelism, as
 * in one cluster; the sum would refuse a run whose tasks never overlap.
 * All zero before the run has started (no copy of its pipeline). Pure. */
void pl_run_demand(const pl_run_in *in, placement_demand *out);

/* The PipelineRun's plan: the start (the pipeline, its templates and the
 * resolved parameters copied into status), retry from failure (a new
 * cubit.dev/retry value; with cubit.dev/retry-from, from that task on), one
 * step of the DAG with its TrainingJobs (and the work volume claim and
 * outputs readers) to apply, or with spec.stopped the stop (running
 * attempts interrupted and applied stopped, nothing started, the status
 * written first), attempts no longer wanted (timed out, interrupted)
 * stopped, and the status: phase Pending, Queued, Running, Stopped,
 * Succeeded or Failed with the waiting task's reason, nodes, progress,
 * events, and when to look again. Pure. */
void pl_run_plan(const pl_run_in *in, rt_plan *plan);

/* The plan of a JobTemplate or ClusterJobTemplate: its spec checked (the
 * workload with 'check', see pl_template_check_workload) into phase Valid
 * (Ready) or Invalid (Stalled, the message naming the field), and a Warning
 * event when the message changes. Pure when check is. */
void pl_template_plan(const json_t *tmpl, pl_workload_check_fn check, void *arg, int64_t now, rt_plan *plan);

/* When pl__set_state plans a Warning event named by the reason: never,
 * when the reason changed, or when the reason or the message changed. */
typedef enum { PL_WARN_NONE, PL_WARN_REASON, PL_WARN_MESSAGE } pl_warn;

/* Writes 'phase' and 'state' into status (rt_status_set_state, with obj's
 * generation) and plans the Warning event 'warn' asks for, compared with
 * the status obj holds. Internal to the pipeline plans. */
void pl__set_state(rt_plan *plan, json_t *status, const json_t *obj, const char *phase, rt_state state,
                   const char *reason, const char *message, int64_t now, pl_warn warn);

/* The templates a pipeline spec's tasks name that the cache holds, keyed
 * as pl_template_key says (a new object holding references). Read from the
 * raw spec, so an invalid one is still the plan's to report. Internal to
 * the controllers. */
json_t *pl__gather_templates(const rt_ctx *ctx, const json_t *pipeline_spec, const char *ns);

/* ------------------------------------------------------ controllers */

/* The manager's settings (--config section "pipeline"). */
#define PL_DEFAULT_READER_IMAGE "busybox:1.36"
typedef struct pl_config {
  char output_reader_image[256]; /* the outputs reader's image */
} pl_config;

/* Reads the "pipeline" section (may be NULL: every default). Unknown keys
 * and bad values are CUBIT_EINVAL with the setting named in err. */
int pl_config_parse(const json_t *section, pl_config *out, char *err, size_t errlen) CUBIT_WUR;

/* The Pipeline controller (the scheduler), the PipelineRun controller (the
 * executor) and the templates' controllers. 'settings' is the manager
 * configuration's "pipeline" section (may be NULL, see pl_config_parse; a bad
 * one is logged and CUBIT_EINVAL). */
int pipeline_controller_register(rt_manager *m) CUBIT_WUR;
/* 'gpu' (borrowed) weighs the room of the clusters a run placed as a whole
 * may go to. */
int pipelinerun_controller_register(rt_manager *m, const json_t *settings, const gpu_profile *gpu) CUBIT_WUR;
int jobtemplate_controllers_register(rt_manager *m) CUBIT_WUR;

#endif
