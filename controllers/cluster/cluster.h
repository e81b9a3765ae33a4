/* The Cluster controller: connects the hub to each member cluster and says
 * in the Cluster's status whether it answers, what it runs and what it has
 * (docs/multicluster.md). The resource and its spec are in api/cluster;
 * cluster_plan decides (pure), rt_execute writes the status; the member's
 * client and informers are the runtime's (runtime/members.h). */
#ifndef CUBIT_CONTROLLERS_CLUSTER_H
#define CUBIT_CONTROLLERS_CLUSTER_H

#include <jansson.h>
#include <stdint.h>

#include "api/cluster/cluster.h"
#include "api/cluster/placement.h"
#include "api/gpu/gpu.h"
#include "runtime/manager.h"
#include "runtime/plan.h"

/* How often a member is probed: while Ready, and while not (unreachable or
 * connecting). A stopped member is reported within CLUSTER_PROBE_READY_MS
 * plus the probe's timeout, CLUSTER_PROBE_TIMEOUT_MS. */
#define CLUSTER_PROBE_READY_MS 15000
#define CLUSTER_PROBE_RETRY_MS 5000
#define CLUSTER_PROBE_TIMEOUT_MS 5000

/* The optional upstream APIs a member may serve, as discovery saw them. */
typedef struct cluster_apis {
  const char *training_kinds[6]; /* TFJob, PyTorchJob, MPIJob, XGBoostJob, PaddleJob, JAXJob served (static strings) */
  size_t ntraining;
  int volcano, istio, kuberay, spark;
} cluster_apis;

/* What one probe of the member's API server answered. */
typedef struct cluster_probe {
  int ok;             /* /version and discovery answered */
  int code;           /* when not: the CUBIT_E* code (CUBIT_EUNAUTHORIZED, CUBIT_ETLS, ...) */
  char version[64];   /* gitVersion */
  cluster_apis apis;
  char error[1024];   /* why not: the transport's or the server's words */
} cluster_probe;

/* Everything cluster_plan reads, gathered by the reconcile. Borrowed. */
typedef struct cluster_observed {
  const json_t *cluster;
  const cluster_spec *spec;   /* NULL when the spec is invalid */
  const char *spec_error;     /* why, when spec is NULL */
  /* The kubeconfig cannot be used: reason SecretNotFound, KeyNotFound or
   * KubeconfigInvalid, and the message; NULL when it can. */
  const char *config_reason, *config_error;
  const cluster_probe *probe; /* NULL when the kubeconfig cannot be used */
  int synced;                 /* the member's node and pod caches have listed */
  json_t *const *nodes;       /* the member's Nodes */
  size_t nnodes;
  json_t *const *pods;        /* the member's Pods */
  size_t npods;
  const gpu_profile *gpu;     /* NULL: whole NVIDIA cards */
  int64_t now;                /* epoch seconds */
} cluster_observed;

/* Capacity and use of a member, from its nodes and pods. */
#define CLUSTER_MAX_MODELS 16
typedef struct cluster_gpu_model {
  char model[64];         /* "" for cards on nodes without a model label */
  int64_t allocatable_milli, used_milli;
} cluster_gpu_model;
typedef struct cluster_capacity {
  size_t nodes;           /* Ready, schedulable */
  int64_t cpu_milli, memory_bytes, gpu_milli;           /* allocatable */
  int64_t used_cpu_milli, used_memory_bytes, used_gpu_milli;
  cluster_gpu_model models[CLUSTER_MAX_MODELS];
  size_t nmodels;
} cluster_capacity;

/* Sums the allocatable resources of the Ready, schedulable nodes and the
 * requests of the pods bound to them that have not finished. GPU cards of
 * a node: nvidia.com/gpu (systems nvidia and hami), tencent.com/vcuda-core
 * / 100 (vcuda), volcano.sh/vgpu-cores / 100 (volcano-vgpu); its model: the
 * profile's model label (default nvidia.com/gpu.product), else
 * nvidia.com/gpu.product, else cubit.dev/gpu-model ("" without any). A pod's cards count as usage_of_pod_spec counts
 * them for quota. Pure. */
void cluster_capacity_of(json_t *const *nodes, size_t nnodes, json_t *const *pods, size_t npods,
                         const gpu_profile *gpu, cluster_capacity *out);

/* Node by node, what the Ready, schedulable nodes have free for placement
 * (api/cluster/placement.h): allocatable less the requests of the pods bound
 * there that have not finished; GPUs only of 'model' ("" = any). Writes at
 * most nnodes entries to out and returns how many. Pure. */
size_t cluster_nodes_free(json_t *const *nodes, size_t nnodes, json_t *const *pods, size_t npods,
                          const gpu_profile *gpu, const char *model, placement_node *out);

/* Decides a Cluster's status (docs/multicluster.md#status):
 *   - an invalid spec or a kubeconfig that cannot be used: FAILED, phase
 *     Invalid, with the field or the Secret named;
 *   - the member refuses the credentials (401, 403) or its certificate
 *     does not verify: FAILED, phase Invalid (only a new Secret helps);
 *   - the member does not answer: PROGRESSING, phase Unreachable, the error
 *     quoted; what was last observed of it is kept; probed again soon;
 *   - answering but its caches not yet listed: PROGRESSING, Connecting;
 *   - answering and listed: READY with version, APIs, nodes, allocatable,
 *     used and GPUs per model;
 *   - a Warning event when it becomes Unreachable or Invalid (or the reason
 *     changes), a Normal Connected event when it becomes Ready.
 * Pure: fills plan (initialised by the caller) from in alone. */
void cluster_plan(const cluster_observed *in, rt_plan *plan);

/* Registers the Cluster controller. 'ns' is the manager's namespace, where
 * kubeconfig Secrets are read; gpu (may be NULL) and ns must outlive the
 * manager. */
int cluster_controller_register(rt_manager *m, const char *ns, const gpu_profile *gpu) CUBIT_WUR;

#endif
