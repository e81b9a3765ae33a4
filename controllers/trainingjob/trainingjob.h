/* TrainingJob: one run of a (distributed) training workload, whatever
 * engine runs it. What happens to a TrainingJob is all here (its spec and
 * labels are in api/trainingjob, shared with the webhooks):
 *   desired.c  the engine object (batch Job, PyTorchJob, TFJob, MPIJob,
 *              XGBoostJob, PaddleJob, JAXJob, Volcano Job, RayJob,
 *              SparkApplication), the debug pod and the PodGroup
 *   status.c   what the engine object and the pods say: tj_progress
 *   placement.c  what a job asks of the cluster it is placed on, pure
 *   plan.c     the decision, pure: children, status, events, requeue
 *   trainingjob.c  the reconcile: gather from the cache, plan, execute. */
#ifndef CUBIT_CONTROLLERS_TRAININGJOB_H
#define CUBIT_CONTROLLERS_TRAININGJOB_H

#include <jansson.h>
#include <stdint.h>

#include "api/gang/gang.h"
#include "api/gpu/gpu.h"
#include "api/trainingjob/trainingjob.h"
#include "controllers/cluster/placement.h"
#include "kube/client.h"
#include "runtime/manager.h"
#include "runtime/plan.h"

/* The engine of each framework. */
const kube_resource *tj_engine(tj_framework f);
/* Volcano's PodGroup, made for a batch job that Volcano schedules as a gang. */
extern const kube_resource tj_podgroup_resource;

/* What the desired objects depend on besides the TrainingJob. */
typedef struct tj_env {
  /* The gang scheduler of the cluster the children go to: the manager's
   * setting in the hub, the Cluster's spec.gangScheduler in a member. */
  gang_config gang;
  const char *project;      /* the namespace's project, for the default queue (may be NULL) */
  /* The cluster's GPU profile (borrowed; NULL = none). Outside a project no
   * pod webhook translates the GPU grammar, so the pod templates carry the
   * translated resources and node selector themselves (as a Notebook's). */
  const gpu_profile *gpu;
  /* The children go to a member cluster, where no Cubit pod webhook runs:
   * the templates carry the translated GPU resources, as outside a
   * project, and a gang's templates the marks the pod webhook would give
   * its pods for the member's scheduler (gang_mark). */
  int in_member;
} tj_env;

/* The engine object for tj (a new reference), with the controller
 * ownerReference set. */
json_t *tj_desired_child(const json_t *tj, const tj_spec *s, const tj_env *env);
/* The command a ray job's RayJob runs (spec.ray.entrypoint, else the job's
 * command and args quoted for a POSIX shell); the caller frees it. */
char *tj_ray_entrypoint(const tj_spec *s);
/* spec.debug's single sleeping pod. */
json_t *tj_desired_debug_pod(const json_t *tj, const tj_spec *s);
/* A Volcano PodGroup for a batch job scheduled as a gang by Volcano, or
 * NULL when none is needed (the training operator and Volcano's own Job make
 * theirs). */
json_t *tj_desired_podgroup(const json_t *tj, const tj_spec *s, const tj_env *env);

/* ------------------------------------------------------------ status.c */

/* What one pod does, in the words of the scheduler or the kubelet. */
typedef enum {
  TJ_POD_WAITING,     /* Pending: unscheduled, pulling, creating, waiting for a claim */
  TJ_POD_RUNNING,
  TJ_POD_SUCCEEDED,
  TJ_POD_FAILED,
  TJ_POD_TERMINATING  /* being deleted: counted nowhere */
} tj_pod_phase;

typedef struct tj_pod_state {
  tj_pod_phase phase;
  int unscheduled;     /* WAITING: the scheduler has not placed it */
  const char *reason;  /* WAITING: PodScheduled's or the container's waiting reason (borrowed) */
  const char *message; /* WAITING: its message (borrowed; never NULL) */
} tj_pod_state;

void tj_pod_state_of(const json_t *pod, tj_pod_state *out);
/* 1 for the reasons of a normal start-up (waiting for the scheduler or a
 * scheduling gate, creating containers), which are no Warning. */
int tj_wait_is_normal(const char *reason);

/* What the engine object says of the whole job. */
typedef enum {
  TJ_ENGINE_WAITING,    /* created, not running yet (or no status yet) */
  TJ_ENGINE_RUNNING,
  TJ_ENGINE_RESTARTING, /* the engine restarts replicas itself */
  TJ_ENGINE_SUSPENDED,
  TJ_ENGINE_SUCCEEDED,
  TJ_ENGINE_FAILED
} tj_engine_state;

/* The job's progress read off its engine object and pods. */
typedef struct tj_progress {
  tj_engine_state engine;
  json_t *roles;      /* {role: {running, pending, succeeded, failed}} for every role of the spec (owned) */
  int running, pending, succeeded, failed; /* pods over every role */
  int completions;    /* pods that must succeed for the job to succeed */
  int any_failed;     /* some replica failed (restartGang) */
  /* The waiting pod a user should read first (a Warning before a normal
   * start-up, unscheduled before starting, then by name); "" when none. */
  char wait_pod[254];
  char wait_reason[64];
  char wait_message[512];
  int wait_unscheduled;
  char start_time[40], completion_time[40]; /* the engine's, "" when unknown */
  char reason[64];      /* FAILED, RESTARTING: the engine's reason, or the failing container's */
  char message[768];    /* FAILED, RESTARTING: the engine's words and the failing container's */
  int exit_code;        /* -1 = none */
} tj_progress;

/* Maps the engine's status (child) and the job's pods (the debug pod left
 * out) into *out; tj_progress_free releases it. */
void tj_progress_of(const tj_spec *s, const json_t *child, const json_t *const *pods, size_t npods, tj_progress *out);
void tj_progress_free(tj_progress *p);
/* "1h2m3s" for a number of seconds. */
void tj_format_duration(int64_t secs, char out[32]);

/* --------------------------------------------------------- placement.c */

/* What the whole gang asks for at once. */
void tj_demand_of(const tj_spec *s, placement_demand *out);

/* -------------------------------------------------------------- plan.c */

/* Everything the plan decides from, gathered from the cache by the
 * reconcile. Borrowed. */
typedef struct tj_observed {
  const json_t *tj;           /* the TrainingJob; its status is the previous decision */
  const tj_spec *spec;        /* NULL when the spec is invalid */
  const char *spec_error;     /* why, when spec is NULL */
  tj_env env;
  int engine_available;       /* the engine's API is served */
  const json_t *child;        /* the engine object named like the job, or NULL */
  const json_t *debug_pod;    /* the pod <name>-debug, or NULL */
  const json_t *const *pods;  /* the pods labelled with the job's name (the debug pod too) */
  size_t npods;
  /* The child's newest FailedCreate Event since its newest pod was made (the
   * API server refused a pod: Pod Security, a ResourceQuota, a webhook), or NULL. */
  const json_t *create_refused;
  int64_t now;                /* epoch seconds */
  /* Placement (docs/multicluster.md): the project's clusters in its order
   * (none: the project does not span clusters and the job runs in the hub,
   * as it always did). When the job is placed on a member, child,
   * debug_pod and pods are that member's and engine_available says whether
   * the member serves the engine. */
  const placement_view *clusters;
  size_t nclusters;
  const char *project_name;   /* for messages (may be NULL) */
  int64_t remote_cleanup_timeout_s; /* 0: TJ_REMOTE_CLEANUP_TIMEOUT_S */
  /* The clusters the job was taken off (status.abandonedClusters, by
   * spec.placement.rescheduleOnClusterLoss) and its engine object still
   * cached there (NULL: gone, or that member not ready). */
  const char *const *abandoned;
  const json_t *const *abandoned_child;
  size_t nabandoned;
  /* Placed on a member: the member's Warning Events about the engine object
   * and the pods (runtime/member_events.h), relayed onto the job. */
  json_t *const *member_events;
  size_t nmember_events;
} tj_observed;

/* The cluster the job runs in: status.cluster once placed, else "local"
 * for a job whose project does not span clusters, else NULL (to place). */
const char *tj_cluster_of(const tj_observed *in);

/* Decides everything about one TrainingJob: the children to apply and
 * delete, the whole status, the events and when to look again; for a job
 * being deleted that has children in a member, their deletion. Pure: no
 * I/O, no clock. */
void tj_plan(const tj_observed *in, rt_plan *out);

int trainingjob_controller_register(rt_manager *m, const gang_config *gang, const gpu_profile *gpu) CUBIT_WUR;

#endif
