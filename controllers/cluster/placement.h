/* The clusters a workload may be placed on, as the hub sees them now: read
 * from the cache by a controller's reconcile (the gather half of placement;
 * the choice itself is api/cluster/placement.h, pure). Shared by every kind
 * that can run in a member cluster. */
#ifndef CUBIT_CONTROLLERS_CLUSTER_PLACEMENT_H
#define CUBIT_CONTROLLERS_CLUSTER_PLACEMENT_H

#include <jansson.h>

#include "api/cluster/placement.h"
#include "api/gpu/gpu.h"
#include "api/project/project.h"
#include "runtime/controller.h"

/* The finalizer on a workload placed in a member cluster: its children
 * there carry no ownerReference (none can cross clusters), so the hub
 * deletes them itself before the workload goes. */
#define PLACEMENT_REMOTE_FINALIZER "cubit.dev/remote-children"
/* On a child made in a member cluster: the hub object's uid (the kind's own
 * label, cubit.dev/trainingjob, cubit.dev/notebook..., names it). */
#define PLACEMENT_OWNER_UID_LABEL "cubit.dev/owner-uid"
/* How long a deleted workload waits for an unreachable member before its
 * finalizer is dropped (what ran there is then left behind, with a Warning). */
#define PLACEMENT_REMOTE_CLEANUP_TIMEOUT_S 300

/* What the workload needs of a cluster besides room. */
typedef struct placement_needs {
  placement_demand demand;
  /* The API the workload's children are made of in a member (a TrainingJob's
   * engine; NULL: core kinds only): a member is ready only once the hub's
   * cache of it there has listed. */
  const kube_resource *api;
  /* Does the member serve what the workload needs, as its Cluster's
   * status.apis says? NULL: every member does. */
  int (*member_serves)(const json_t *cluster_status, const void *arg);
  const void *arg;
  int local_serves; /* the hub serves it */
} placement_needs;

/* The project's clusters in its order, and the one the workload was placed
 * on if the project has dropped it since (the workload keeps running there
 * and the plan still sees it). */
typedef struct placement_candidates {
  placement_view views[PROJECT_MAX_CLUSTERS + 1];
  size_t n;
  const char *project_name; /* borrowed from the caller; NULL: no Project */
  /* references that keep the views' strings alive */
  json_t *project;
  project_spec project_spec;
  int project_parsed;
  json_t *cluster_objs[PROJECT_MAX_CLUSTERS + 1];
  placement_node *nodes[PROJECT_MAX_CLUSTERS + 1]; /* each view's nodes, while placing */
} placement_candidates;

/* Fills *out for a workload of project 'project' (NULL: the namespace
 * belongs to none, out->n stays 0) placed on 'placed' (status.cluster; NULL
 * or "" while it waits to be placed). Only while it waits is each
 * cluster's room judged: the hub's from its own nodes and pods (the
 * controller must declare nodes and pods among what it reads), a member's in
 * sum from its Cluster's status and node by node from the hub's caches of
 * its nodes and pods. Release with placement_candidates_free. */
void placement_candidates_gather(const rt_ctx *ctx, const char *project, const char *placed,
                                 const placement_needs *needs, const gpu_profile *gpu, placement_candidates *out);
void placement_candidates_free(placement_candidates *c);

/* The view named 'name', or NULL. */
const placement_view *placement_candidates_find(const placement_candidates *c, const char *name);

#endif
