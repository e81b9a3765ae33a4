/* What every admission handler may read: the shared caches, the GPU
 * profile, the gang settings, the quota reservations, the identities it
 * trusts, and an authorizer. Handlers are pure functions of (request, env),
 * so tests build an env from stores they fill themselves and an authorizer
 * of their own. */
#ifndef CUBIT_WEBHOOKS_ENV_H
#define CUBIT_WEBHOOKS_ENV_H

#include <jansson.h>
#include <stdint.h>

#include "api/gang/gang.h"
#include "api/gpu/gpu.h"
#include "api/labels.h"
#include "cache/store.h"
#include "kube/client.h"
#include "webhooks/quota/reserve.h"

/* The kinds whose whole gang is judged against quota at creation, then the
 * links: kinds that hold no gang of their own but stand between a workload
 * and its pods (a TrainingJob's RayJob makes a RayCluster, which makes the
 * pods; its SparkApplication makes the driver pod, which makes the
 * executors). A link is followed as a controller like a workload, so what
 * it controls shares the charge of the workload above it. */
enum {
  WL_JOB,          /* batch/v1 Job */
  WL_TFJOB,
  WL_PYTORCHJOB,
  WL_MPIJOB,
  WL_XGBOOSTJOB,
  WL_PADDLEJOB,
  WL_JAXJOB,       /* the last of the training operator's kinds */
  WL_VOLCANOJOB,   /* batch.volcano.sh Job */
  WL_TRAININGJOB,  /* cubit.dev TrainingJob */
  WL_RAYJOB,       /* ray.io RayJob: the first link */
  WL_RAYCLUSTER,   /* ray.io RayCluster */
  WL_SPARKAPPLICATION, /* sparkoperator.k8s.io SparkApplication */
  WL_COUNT
};
#define WL_FIRST_LINK WL_RAYJOB

/* 1 when workload kind wl is a link (holds no gang of its own). */
int webhook_workload_is_link(int wl);

extern const kube_resource webhook_workload_resources[WL_COUNT];

/* The kinds judged (not counted: their pods are) when they ask for more. */
enum { APPS_DEPLOYMENT, APPS_STATEFULSET, APPS_COUNT };
extern const kube_resource webhook_apps_resources[APPS_COUNT];

/* The placeable services: placed on a member, a Notebook or an
 * InferenceService is held there whole, as a job's gang is (its pods are
 * made where no Cubit webhook runs); in the hub its pods are judged. */
enum { SVC_NOTEBOOK, SVC_INFERENCESERVICE, SVC_COUNT };
extern const kube_resource *const webhook_service_resources[SVC_COUNT];

/* The identities a handler trusts (docs/project.md#identities):
 *   controllers[wl]  the usernames of the controller that creates the pods
 *                    and children of a workload of kind wl: only what they
 *                    create under an unfinished workload is covered by its
 *                    reservation (anyone else's is charged by itself); for a
 *                    link (a RayCluster's pods, a SparkApplication's driver
 *                    pod) the same holds, the reservation being that of the
 *                    workload above the link. A Spark driver pod's
 *                    executors are created by the driver itself, as the
 *                    service account it runs as (quota.h);
 *   propagators      the usernames that create objects on a user's behalf
 *                    (Cubit's manager, Kubernetes' and the operators'
 *                    workload controllers): only their objects keep the
 *                    cubit.dev/user they carry; everyone else's is
 *                    overwritten from the request's userInfo.
 * Built-in defaults (kube-controller-manager's controllers, the training
 * operator's and Volcano's service accounts, the manager itself), plus the
 * manager's --config section "tenancy" (webhook_identities_parse). */
#define WEBHOOK_MAX_IDENTITIES 32
typedef struct webhook_identities {
  char *controllers[WL_COUNT][WEBHOOK_MAX_IDENTITIES];
  size_t ncontrollers[WL_COUNT];
  char *propagators[WEBHOOK_MAX_IDENTITIES];
  size_t npropagators;
} webhook_identities;

/* Fills ids with the defaults, 'manager' (the manager's own username: it
 * controls TrainingJobs and propagates) and the additions of 'settings'
 * (borrowed, may be NULL):
 *   {"controllers": {"<Kind>": ["user", ...]}, "propagators": ["user", ...]}
 * where <Kind> is Job, TFJob, PyTorchJob, MPIJob, XGBoostJob, PaddleJob,
 * JAXJob, VolcanoJob, TrainingJob, RayJob, RayCluster or SparkApplication. CUBIT_EINVAL with the field named in err for anything else;
 * webhook_identities_free releases ids either way. */
int webhook_identities_parse(const json_t *settings, const char *manager, webhook_identities *ids, char *err,
                             size_t errlen) CUBIT_WUR;
void webhook_identities_free(webhook_identities *ids);
/* 1 when user controls workloads of kind wl / propagates a creator. */
int webhook_is_controller(const webhook_identities *ids, int wl, const char *user);
int webhook_is_propagator(const webhook_identities *ids, const char *user);

/* One question to the API server's authorizer: may the requester do verb
 * on group/resource[/subresource] named name (namespace "" for
 * cluster-scoped)? */
typedef struct webhook_access {
  const char *verb, *group, *resource, *subresource, *namespace, *name;
} webhook_access;

/* Asks whether the user of user_info (an AdmissionReview's
 * request.userInfo, borrowed) may do 'access': in the manager a
 * SubjectAccessReview, in tests a table. Returns 1 allowed, 0 denied, or a
 * negative code when it cannot tell (why says so). */
typedef int (*webhook_authorize_fn)(const json_t *user_info, const webhook_access *access, char *why,
                                    size_t whylen, void *arg);

/* The pods of namespace ns in member cluster 'cluster' as the hub's cache
 * of that member shows them (references in *out, as cache_store_list).
 * Returns 0, or a negative code when no such member is cached (*out then
 * empty). In the manager rt_member_list; in tests a table. */
typedef int (*webhook_member_pods_fn)(const char *cluster, const char *ns, cache_list *out, void *arg);

typedef struct webhook_env {
  cache_store *projects, *namespaces, *pods;
  cache_store *workloads[WL_COUNT]; /* any may be NULL (API absent) */
  cache_store *apps[APPS_COUNT];    /* for the scale subresource (may be NULL) */
  cache_store *services[SVC_COUNT]; /* Notebooks, InferenceServices (may be NULL) */
  const gpu_profile *gpu;           /* NULL = whole cards, no models */
  gang_config gang;
  quota_reservations *reservations;
  int64_t reservation_ttl_ms;       /* default 30 s */
  const webhook_identities *identities; /* NULL: nobody is trusted */
  webhook_authorize_fn authorize;   /* NULL: every check is denied */
  int history;                      /* history is on: runs are created with its finalizer */
  void *authorize_arg;
  /* Pipelines: the templates and pipelines they name (NULL = API absent),
   * and how long a reference missing from the cache is waited for (objects
   * applied together reach the cache a moment after their creation). */
  cache_store *jobtemplates, *clusterjobtemplates, *pipelines;
  int64_t reference_wait_ms;
  /* Member clusters (docs/multicluster.md): the quota counts a project's
   * pods there too. NULL: no member is counted. */
  webhook_member_pods_fn member_pods;
  void *member_pods_arg;
} webhook_env;

/* The workload index of (group, kind), or -1. */
int webhook_workload_index(const char *group, const char *kind);
/* The apps index of (group, kind), or -1. */
int webhook_apps_index(const char *group, const char *kind);
/* The service index of (group, kind), or -1. */
int webhook_service_index(const char *group, const char *kind);
/* The Project owning namespace ns (a new reference), or NULL. */
json_t *webhook_project_of(const webhook_env *env, const char *ns);
/* The creator an object records (metadata.annotations[cubit.dev/user]), or NULL. */
const char *webhook_user_of(const json_t *obj);

#endif
