/* Placement (docs/multicluster.md#placement): which cluster of its project a
 * workload runs in. Shared by every kind that can run in a member cluster
 * (TrainingJob, Notebook, InferenceService): the spec fields they all take
 * (spec.cluster, spec.placement), what a workload asks for at once, what a
 * cluster has free, and the pure choice between clusters. */
#ifndef CUBIT_API_CLUSTER_PLACEMENT_H
#define CUBIT_API_CLUSTER_PLACEMENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* spec.placement.policy: how a workload of a project spanning clusters is
 * placed when spec.cluster does not name one. */
typedef enum {
  PLACEMENT_ORDERED,        /* the first cluster of the project's list with room for it */
  PLACEMENT_MOST_FREE_GPUS  /* the cluster with room and the most free cards of the model */
} placement_policy;

#define PLACEMENT_DEFAULT_GRACE_S 300

/* spec.cluster and spec.placement. Strings borrowed from the object. */
typedef struct placement_spec {
  const char *cluster;        /* spec.cluster, NULL = placed by policy */
  placement_policy policy;    /* spec.placement.policy */
  int reschedule_on_loss;     /* spec.placement.rescheduleOnClusterLoss */
  int cluster_loss_grace_s;   /* spec.placement.clusterLossGraceSeconds (default 300, at least 30) */
} placement_spec;

/* Parses spec.cluster and spec.placement of the object's spec (not the
 * object). Whether the cluster is one of the project's is the webhook's to
 * judge (it reads the Project). 0, or CUBIT_EINVAL with the field named. */
int placement_spec_parse(const json_t *spec, placement_spec *out, char *err, size_t errlen) CUBIT_WUR;

/* "Ordered" or "MostFreeGPUs". */
const char *placement_policy_name(placement_policy p);

/* count pods alike. */
typedef struct placement_shape {
  int64_t cpu_milli, memory_bytes, gpu_milli;
  int64_t count;
} placement_shape;

/* At most this many pod shapes are judged node by node (a TrainingJob's
 * roles, a service's one pod); a demand of more is judged in sum only. */
#define PLACEMENT_MAX_SHAPES 8

/* What the workload asks for at once (a whole gang, every replica): in sum,
 * and pod by pod. */
typedef struct placement_demand {
  int64_t cpu_milli, memory_bytes, gpu_milli;
  char model[64]; /* the GPU model asked for, "" = any */
  placement_shape shapes[PLACEMENT_MAX_SHAPES];
  size_t nshapes;
  int shapes_overflow; /* more shapes than fit: judged in sum only */
} placement_demand;

/* Adds n pods of the given resources ({cpu, memory, gpu} in Cubit's
 * grammar, as a spec's resources block) to *d; unparsable values count 0
 * (the spec parser has refused them already). */
void placement_demand_add(placement_demand *d, const json_t *resources, int64_t n);

/* What one schedulable node of a cluster has free (its GPUs: of the
 * demand's model, or of any model when it names none). */
typedef struct placement_node {
  int64_t free_cpu_milli, free_memory_bytes, free_gpu_milli;
} placement_node;

/* One cluster of the project as the hub sees it now. */
typedef struct placement_view {
  const char *name;       /* "local" or a Cluster's name (borrowed) */
  int ready;              /* local, or the Cluster is Ready and its caches listed */
  const char *message;    /* when not ready: the Cluster's words (borrowed; may be NULL) */
  int serves;             /* the workload's API (its engine, Istio...) is served there */
  int64_t free_cpu_milli, free_memory_bytes;
  int64_t free_gpu_milli; /* free cards of the demand's model (all models when none) */
  /* Its nodes, when known: every pod of the demand must fit on one of
   * them, not only the whole in sum (NULL: judged in sum). Borrowed. */
  const placement_node *nodes;
  size_t nnodes;
  /* When the project's quota in this cluster (spec.clusters[].quota) has
   * lowered the free resources above: the quota's words, named when the
   * workload does not fit in sum (borrowed; NULL: none). */
  const char *quota;
} placement_view;

/* Do the demand's pods all fit on the nodes at once (first fit, largest
 * pods first: what a scheduler can at least do)? Pure. */
int placement_fits_nodes(const placement_demand *d, const placement_node *nodes, size_t n);

/* The cluster (an index into clusters, in the project's order) policy picks
 * for demand d, or -1 when none has room; why then says, cluster by
 * cluster, what each lacks. Pure. */
int placement_pick(placement_policy policy, const placement_demand *d, const placement_view *clusters, size_t n,
                   char *why, size_t whylen);

#endif
