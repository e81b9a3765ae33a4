/* What the recorder writes, decided purely (docs/history.md).
 *
 * hist_observe_run turns a run object, its pods and its namespace (all
 * borrowed from the cache) into the records to write: the run, the phase
 * transition it is in, and one running interval per pod that has run.
 * hist_plan_finalizer decides the cubit.dev/history finalizer once the
 * records' write is known to have succeeded or failed. No I/O, no clock:
 * 'now' is handed in; tested with tables in test/unit/test_history_record.c. */
#ifndef CUBIT_HISTORY_RECORD_H
#define CUBIT_HISTORY_RECORD_H

#include <jansson.h>
#include <stdint.h>

#include "api/gpu/gpu.h"
#include "api/labels.h"
#include "history/store.h"
#include "runtime/plan.h"

#define HIST_FINALIZER CUBIT_FINALIZER_HISTORY
#define HIST_DEFAULT_FINALIZER_TIMEOUT_S 300

/* A kind of run the recorder follows: its resource and the pod label whose
 * value names the run the pod belongs to (same namespace). */
typedef struct {
  const kube_resource *resource;
  const char *pod_label;
  int batch; /* Succeeded/Failed end it (TrainingJob, PipelineRun); services end when deleted */
  /* Its TrainingJobs (a PipelineRun's tasks, an Experiment's trials) are
   * runs of their own: their pods, which carry this kind's label too, are
   * theirs, not this run's. */
  int parent;
} hist_kind;

/* The Experiment kind, followed once its CRD is served (until then its
 * informer waits; nothing else depends on it). */
extern const kube_resource hist_experiment_resource;

/* The kinds followed, NULL-resource terminated. */
extern const hist_kind hist_kinds[];

typedef struct {
  hist_run run;                /* strings borrowed from the inputs */
  const char *reason, *message; /* the Ready condition's, for the transition */
  int64_t transition_at;       /* when the current phase began */
  hist_interval *pods;           /* npods of them (allocated; hist_records_free) */
  char (*models)[GPU_MODEL_LEN]; /* the pods' GPU models, pods[i].gpu_model points here */
  size_t npods;
  int deleting;                /* metadata.deletionTimestamp is set */
  int64_t deleting_since;
} hist_records;

/* What ties a TrainingJob to the run it belongs to, from its labels (a
 * PipelineRun's task: cubit.dev/pipelinerun, cubit.dev/task,
 * cubit.dev/attempt; an Experiment's trial: cubit.dev/experiment,
 * cubit.dev/trial, the parameters in the annotation
 * cubit.dev/trial-parameters and the value in cubit.dev/trial-metrics), into
 * run's parent, task, attempt, trial, parameters and value (borrowed from
 * obj). Nothing for a TrainingJob without them. */
void hist_observe_parent(const json_t *obj, hist_run *run);

/* Fills r from the run object and its pods (arrays of borrowed objects).
 * 'ns' is the run's namespace object (NULL when unknown: no project).
 * 'gpu' may be NULL. r borrows strings from the inputs and owns its arrays:
 * release them with hist_records_free. */
void hist_observe_run(const hist_kind *k, const json_t *obj, const json_t *const *pods, size_t npods,
                      const json_t *ns, const gpu_profile *gpu, int64_t now, hist_records *r);
void hist_records_free(hist_records *r);

/* One pod's running interval: 0 and *iv filled when it has run, -1 when no
 * container has started yet. */
int hist_pod_interval(const json_t *pod, const gpu_profile *gpu, int64_t now, hist_interval *iv,
                      char model[GPU_MODEL_LEN]);

/* The finalizer's fate: added while the object lives; removed when it is
 * being deleted and its records were written ('written'), or when the
 * write has failed for longer than timeout_s since the deletion began
 * (with a Warning event HistoryNotRecorded); otherwise a requeue. */
void hist_plan_finalizer(const json_t *obj, const hist_records *r, int written, int64_t timeout_s, int64_t now,
                         rt_plan *plan);

/* History is off (no recorder anywhere): the finalizer a recorder left is
 * removed, so nothing waits for a record that will never be written. */
void hist_plan_cleanup(const json_t *obj, rt_plan *plan);

#endif
