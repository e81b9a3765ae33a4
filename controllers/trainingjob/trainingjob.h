/* TrainingJob: one run of a (distributed) training workload, whatever
 * engine runs it. What happens to a TrainingJob is all here:
 *   spec.c     the spec, parsed once into tj_spec
 *   desired.c  the engine object (batch Job, PyTorchJob, TFJob, MPIJob,
 *              XGBoostJob, Volcano Job), the debug pod and the PodGroup
 *   status.c   the engine's status (and the failing pod) mapped back
 *   trainingjob.c  the reconcile loop: create, follow, restart the gang,
 *              suspend, enforce deadlines and TTL. */
#ifndef CUBIT_CONTROLLERS_TRAININGJOB_H
#define CUBIT_CONTROLLERS_TRAININGJOB_H

#include <jansson.h>
#include <stdint.h>

#include "kube/client.h"
#include "runtime/manager.h"
#include "api/gang/gang.h"

extern const kube_resource trainingjob_resource;

#define TJ_LABEL "cubit.dev/trainingjob"
#define TJ_ROLE_LABEL "cubit.dev/role"
#define TJ_MAX_ROLES 16

typedef enum { TJ_BATCH, TJ_PYTORCH, TJ_TENSORFLOW, TJ_MPI, TJ_XGBOOST, TJ_VOLCANO, TJ_NFRAMEWORKS } tj_framework;

typedef struct tj_role {
  char name[48];
  int replicas;
  const json_t *resources; /* borrowed: {cpu, memory, gpu} */
  const char *image;       /* NULL = spec.image */
  const json_t *command, *args;
  int parallelism, completions; /* batch; 0 = unset */
} tj_role;

typedef struct tj_spec {
  tj_framework framework;
  const char *image, *working_dir;
  const json_t *command, *args, *env, *volumes, *pod_labels, *pod_annotations; /* borrowed */
  tj_role roles[TJ_MAX_ROLES];
  size_t nroles;
  int total_pods;
  int gang;              /* after defaulting: more than one pod, unless disabled */
  int min_available;     /* 0 = all */
  const char *queue;
  int schedule_timeout_s;
  int backoff_limit;
  const char *restart_policy; /* OnFailure, Never, ExitCode */
  int restart_gang;
  int max_restarts;
  int64_t active_deadline_s; /* 0 = none */
  int ttl_s;                 /* -1 = keep */
  int suspend, debug;
} tj_spec;

/* Parses tj's spec (borrowed pointers into tj). CUBIT_EINVAL with a message
 * naming the field for what the CRD's schema let through. */
int tj_spec_parse(const json_t *tj, tj_spec *out, char *err, size_t errlen) CUBIT_WUR;
const char *tj_framework_name(tj_framework f);

/* The engine of each framework. */
const kube_resource *tj_engine(tj_framework f);

/* What the desired objects depend on besides the TrainingJob. */
typedef struct tj_env {
  gang_scheduler scheduler; /* the cluster's gang scheduler */
  const char *project;      /* the namespace's project, for the default queue (may be NULL) */
} tj_env;

/* The engine object for tj (a new reference), with the controller
 * ownerReference set. */
json_t *tj_desired_child(const json_t *tj, const tj_spec *s, const tj_env *env);
/* spec.debug's single sleeping pod. */
json_t *tj_desired_debug_pod(const json_t *tj, const tj_spec *s);
/* A Volcano PodGroup for a batch job scheduled as a gang by Volcano, or
 * NULL when none is needed (the training operator and Volcano's own Job make
 * theirs). */
json_t *tj_desired_podgroup(const json_t *tj, const tj_spec *s, const tj_env *env);

/* The job's progress read off its engine object and pods. */
typedef struct tj_progress {
  char phase[16];          /* Queued, Running, Restarting, Succeeded, Failed, Suspended */
  json_t *roles;           /* {role: {active, succeeded, failed}} (owned) */
  int active;
  char start_time[40], completion_time[40];
  char reason[64];
  char message[512];
  int exit_code;           /* -1 = none */
  int any_failed;          /* some replica failed (restartGang) */
} tj_progress;

/* Maps the engine's status (child) and the job's pods (may be NULL) into
 * *out; tj_progress_free releases it. */
void tj_progress_of(const tj_spec *s, const json_t *child, const json_t *const *pods, size_t npods, tj_progress *out);
void tj_progress_free(tj_progress *p);
/* "1h2m3s" for a number of seconds. */
void tj_format_duration(int64_t secs, char out[32]);

int trainingjob_controller_register(rt_manager *m, const gang_config *gang) CUBIT_WUR;

#endif
