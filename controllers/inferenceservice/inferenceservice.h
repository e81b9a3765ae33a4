/* The InferenceService controller: revisions as Deployments named by the
 * hash of their pod template, Services, the HPA with its scheduled floor,
 * and Istio's DestinationRule and VirtualService when Istio's API exists
 * (cube-studio's 推理服务, KServe's predictor). What happens to an
 * InferenceService is all in this folder:
 *   desired.c   the children: pod template, revision hash, Deployment,
 *               Services, HPA, DestinationRule, VirtualService; the routes
 *   verdict.c   why a revision is not available, in the scheduler's and the
 *               kubelet's words
 *   placement.c what the service asks of the cluster it is placed on
 *   plan.c      isvc_plan: what is observed in; children, status, events
 *               and requeue out (pure)
 *   inferenceservice.c  gather from the cache, plan, execute; registration
 * The resource, its spec and the parser (what the webhook runs too) are in
 * api/inferenceservice/. docs/inferenceservice.md describes the behaviour
 * for users. */
#ifndef CUBIT_CONTROLLERS_INFERENCESERVICE_H
#define CUBIT_CONTROLLERS_INFERENCESERVICE_H

#include <jansson.h>
#include <stdint.h>

#include "api/inferenceservice/inferenceservice.h"
#include "controllers/cluster/placement.h"
#include "kube/client.h"
#include "runtime/manager.h"
#include "runtime/plan.h"

extern const kube_resource inference_virtualservices;
extern const kube_resource inference_destinationrules;

#define INFERENCE_REVISION_LEN 64
#define INFERENCE_DEFAULT_STORAGE_INITIALIZER "kserve/storage-initializer:v0.14.1"
/* How long pods may stay unscheduled before the service counts as failed
 * (kstatus judges a Pod the same way). */
#define INFERENCE_UNSCHEDULED_GRACE_S 60

/* ---------------------------------------------------- desired children */

typedef struct inference_settings {
  const char *storage_initializer; /* image of the init container that fetches models */
  const char *cluster_domain;      /* "cluster.local" */
  const gpu_profile *gpu;          /* the cluster's GPU profile (borrowed), NULL = none */
} inference_settings;

/* The pod template of predictor p, without the revision label. New.
 * Outside a project (in_project 0) no pod webhook translates the GPU
 * grammar, so the template carries cfg->gpu's translation itself. */
json_t *inference_pod_template(const json_t *isvc, const inference_predictor *p, const inference_settings *cfg,
                               int in_project);
/* "<name>-<10 hex>": the first 40 bits of SHA-256 over the template's
 * canonical JSON (sorted keys, no white space). */
void inference_revision_name(const json_t *isvc, const json_t *pod_template, char out[INFERENCE_REVISION_LEN]);

/* Children, each new and owned by isvc (controller ownerReference). */
json_t *inference_desired_deployment(const json_t *isvc, const char *revision, const json_t *pod_template,
                                     int replicas);
/* The service's Service (revision NULL: selects every revision, for
 * Istio's subsets) or a revision's own, or with select_revision the main
 * Service pinned to one revision (no Istio). */
json_t *inference_desired_service(const json_t *isvc, const inference_spec *s, const char *name,
                                  const char *select_revision);
json_t *inference_desired_hpa(const json_t *isvc, const inference_spec *s, const char *target_revision, int floor);

typedef struct inference_route {
  char revision[INFERENCE_REVISION_LEN];
  int weight;
  const char *role; /* "stable", "canary", "previous" */
} inference_route;

json_t *inference_desired_destination_rule(const json_t *isvc, const inference_settings *cfg,
                                           char revisions[][INFERENCE_REVISION_LEN], size_t n);
json_t *inference_desired_virtual_service(const json_t *isvc, const inference_spec *s,
                                          const inference_settings *cfg, const inference_route *routes,
                                          size_t nroutes, const char *mirror_revision);

/* ---------------------------------------------------------- the routes */

typedef struct inference_revision_state {
  char name[INFERENCE_REVISION_LEN];
  int exists, available, rolled_out; /* rolled out: every desired replica available */
  int replicas, ready_replicas, available_replicas;
} inference_revision_state;

/* A revision's state from its live Deployment (NULL: it does not exist). */
void inference_revision_state_of(const json_t *deployment, const char *revision, inference_revision_state *out);

typedef struct inference_route_input {
  inference_revision_state stable;
  int has_canary;
  inference_revision_state canary;
  int canary_percent;
  /* What serves now (the live VirtualService's routes or the Service's
   * selector), heaviest first, with each revision's state. */
  inference_route serving[4];
  inference_revision_state serving_state[4];
  size_t nserving;
} inference_route_input;

typedef struct inference_route_plan {
  inference_route routes[2];
  size_t nroutes;
  char serving_stable[INFERENCE_REVISION_LEN]; /* gets the stable share and the HPA */
  int canary_routed;                           /* the canary is ready and in the routes */
  char keep[3][INFERENCE_REVISION_LEN];        /* revisions that must not be deleted */
  size_t nkeep;
} inference_route_plan;

/* Decides the routes: the stable revision takes the stable share once
 * rolled out; until then the revision serving it keeps it (no gap). The
 * canary gets its percent once rolled out. Pure. */
void inference_plan_routes(const inference_route_input *in, inference_route_plan *out);

/* ---------------------------------------------------------- verdicts */

/* Why a revision is not (fully) available, from its Deployment and pods. */
typedef struct inference_verdict {
  char reason[64];     /* CamelCase: the scheduler's or kubelet's reason, or Cubit's own */
  char message[1024];  /* their words, quoted: "Unschedulable: 0/3 nodes are available: ..." */
  int failed;          /* will not get better without a change: unscheduled for the grace
                        * period, an image that cannot be pulled, a broken container config,
                        * the Deployment's progress deadline exceeded */
  int warn;            /* worth a Warning event: anything but an ordinary start-up */
  int64_t decide_at;   /* epoch s at which an unscheduled pod turns this failed; 0 = none */
} inference_verdict;

/* Looks at the Deployment of 'revision' (NULL when it does not exist yet)
 * and at the pods of the array 'pods' labelled with the revision (the
 * terminating and the finished ones aside), and says what holds the
 * revision back, worst first: a failure, a warning, an ordinary start-up.
 * 'now' is epoch seconds. Pure. */
void inference_revision_verdict(const json_t *deployment, const json_t *pods, const char *revision, int64_t now,
                                inference_verdict *out);

/* ----------------------------------------------------------- placement */

/* Does the service need Istio's API where it serves (a canary split, a
 * mirror, hosts or a gateway)? Without it, a plain Service routes. */
int isvc_wants_istio(const inference_spec *s);

/* ----------------------------------------------------------- the plan */

/* Everything isvc_plan decides from, read from the cache by the
 * reconciler (all borrowed). */
typedef struct isvc_observed {
  const json_t *isvc;                /* the InferenceService as read */
  const inference_spec *spec;        /* parsed; NULL when the spec is invalid */
  const char *spec_error;            /* the parser's message when spec is NULL */
  const inference_settings *cfg;
  int in_project;                    /* the namespace belongs to a Project (its pod webhook translates GPUs) */
  int istio;                         /* VirtualService and DestinationRule are served */
  int floor, window;                 /* the HPA floor now, and the schedule window that
                                      * sets it (-1: none), from inference_schedule_floor */
  int64_t next_boundary;             /* the next window start or end (INT64_MAX: none) */
  /* Arrays of the objects in the namespace whose names a child of this
   * InferenceService may have (<name> and <name>-*), controlled by it or
   * not (a namesake it does not control is a conflict, never taken over). */
  const json_t *deployments, *services;
  const json_t *pods;                /* array: the pods labelled cubit.dev/inferenceservice=<name> */
  const json_t *hpa;                 /* live objects named <name>, or NULL */
  const json_t *virtual_service, *destination_rule;
  int namespace_terminating;         /* its namespace is being deleted */
  int64_t now;                       /* epoch seconds */
  /* Placement (docs/multicluster.md): the project's clusters in its order
   * (none: the project does not span clusters and the service runs in the
   * hub). Placed on a member, the children, pods and istio above are the
   * member's (its caches), matched by the owner-uid label. */
  const char *project_name;
  const placement_view *clusters;
  size_t nclusters;
  int64_t remote_cleanup_timeout_s;  /* 0: PLACEMENT_REMOTE_CLEANUP_TIMEOUT_S */
  /* Placed on a member: the member's Warning Events about its Deployments
   * and their pods there (rt_member_child_events), relayed once each onto
   * the InferenceService. */
  json_t *const *member_events;
  size_t nmember_events;
} isvc_observed;

/* The InferenceService's reconcile decision: the revisions and their
 * Deployments and Services, the routes (canary and mirror weights), the
 * HPA, the stale revisions to delete once the routes leave them, the whole
 * status (phase, Ready/Reconciling/Stalled, LatestRevisionReady,
 * PredictorReady, RoutesReady, Autoscaling), the events and when to look
 * again. No I/O, no clock: a pure function of 'in'. 'out' is initialised
 * by the caller (rt_plan_init). */
void isvc_plan(const isvc_observed *in, rt_plan *out);
/* The cluster the service runs in: status.cluster once placed, else
 * "local" in a project that does not span clusters, else NULL (to place). */
const char *isvc_cluster_of(const isvc_observed *in);

/* ------------------------------------------------------------ register */

/* The manager's settings (--config section "inference"). */
typedef struct inference_config {
  char storage_initializer[512]; /* default INFERENCE_DEFAULT_STORAGE_INITIALIZER */
  char cluster_domain[254];      /* default cluster.local */
} inference_config;

/* Reads the "inference" section (may be NULL: every default). Unknown keys
 * and bad values are CUBIT_EINVAL with the setting named in err. */
int inference_config_parse(const json_t *section, inference_config *out, char *err, size_t errlen) CUBIT_WUR;

/* Registers the controller. settings is the manager's "inference" config
 * section (may be NULL); the storage-initializer image and cluster domain
 * come from it. A bad section is logged and CUBIT_EINVAL. */
int inference_controller_register(rt_manager *m, const json_t *settings, const gpu_profile *gpu) CUBIT_WUR;

#endif
