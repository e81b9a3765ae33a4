/* The labels and annotations that controllers and webhooks both read and
 * write: Cubit's vocabulary on other objects, and the labels users select
 * on (docs/labels.md). A name used by one folder only stays there. */
#ifndef CUBIT_API_LABELS_H
#define CUBIT_API_LABELS_H

#include <jansson.h>
#include <stddef.h>

/* On namespaces and on every object Cubit makes in them: the owning Project. */
#define CUBIT_LABEL_PROJECT "cubit.dev/project"
/* On objects and pods: who created the workload (from the request's
 * userInfo, never from the user). */
#define CUBIT_ANNOTATION_USER "cubit.dev/user"
/* The same creator as a label value users can select on (cubit_label_value:
 * a user name may hold characters a label value cannot). */
#define CUBIT_LABEL_CREATOR "cubit.dev/creator"

/* A pipeline run's children and their pods: the Pipeline, the run, the
 * task and the task's attempt (1, 2, ...). */
#define CUBIT_LABEL_PIPELINE "cubit.dev/pipeline"
#define CUBIT_LABEL_RUN "cubit.dev/pipelinerun"
#define CUBIT_LABEL_TASK "cubit.dev/task"
#define CUBIT_LABEL_ATTEMPT "cubit.dev/attempt"

/* A TrainingJob's children and pods: the job, the pod's role and its index
 * within the role (0, 1, ...; copied by the pod webhook from the engine's
 * own index label or annotation when the pod is created). */
#define CUBIT_LABEL_TRAININGJOB "cubit.dev/trainingjob"
#define CUBIT_LABEL_ROLE "cubit.dev/role"
#define CUBIT_LABEL_REPLICA_INDEX "cubit.dev/replica-index"

/* A Notebook's, an InferenceService's children and pods; a revision of an
 * InferenceService. */
#define CUBIT_LABEL_NOTEBOOK "cubit.dev/notebook"
#define CUBIT_LABEL_INFERENCESERVICE "cubit.dev/inferenceservice"
#define CUBIT_LABEL_REVISION "cubit.dev/revision"

/* An Experiment's trials (TrainingJobs named <experiment>-<number>) and
 * their pods: the Experiment and the trial's number (1, 2, ...). A trial's
 * assignment is its annotation cubit.dev/trial-parameters, a JSON object
 * {"name": value, ...} (docs/experiment.md). */
#define CUBIT_LABEL_EXPERIMENT "cubit.dev/experiment"
#define CUBIT_LABEL_TRIAL "cubit.dev/trial"
#define CUBIT_ANNOTATION_TRIAL_PARAMETERS "cubit.dev/trial-parameters"
/* On a trial TrainingJob, once its outcome is known: the state, the value,
 * the last value of each metric, the objective's observations (bounded) and
 * a message, as JSON (docs/experiment.md). Written once; from then on the
 * trial counts from it, whatever happens to its pods. */
#define CUBIT_ANNOTATION_TRIAL_METRICS "cubit.dev/trial-metrics"

/* On every run object (TrainingJob, PipelineRun, Notebook, InferenceService,
 * Experiment) while history is on: the recorder removes it once the run's
 * final record is written (docs/history.md). The admission webhook adds it
 * when the object is created, so no run ends unrecorded while the recorder
 * is busy or away. */
#define CUBIT_FINALIZER_HISTORY "cubit.dev/history"

/* Writes `in` as a valid label value into out (at most 63 characters plus
 * NUL; outlen >= 64): characters other than [A-Za-z0-9._-] become '-', and
 * the value starts and ends alphanumeric. Returns 0, or -1 when nothing
 * alphanumeric is left (out is then ""). */
int cubit_label_value(const char *in, char *out, size_t outlen);

/* Copies every cubit.dev/ label of `from` (an object's metadata.labels)
 * into `to` that `to` does not have yet: a workload's run, task, attempt,
 * project labels travel down to the pods it makes. Both borrowed. */
void cubit_labels_inherit(json_t *to, const json_t *from);

#endif
