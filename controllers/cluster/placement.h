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
#include "runtime/plan.h"
#include "runtime/status.h"

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
/* How soon to look again at a workload no cluster has room for (a
 * Cluster's capacity changes without telling the workload). */
#define PLACEMENT_UNPLACED_POLL_MS 15000
/* How soon to look again at a member that does not answer (also while a
 * deleted workload waits for it). */
#define PLACEMENT_MEMBER_POLL_MS 5000
/* How soon to look again while children in a member are being deleted. */
#define PLACEMENT_DELETION_POLL_MS 1000

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
  /* It may be placed again while its member is away
   * (spec.placement.rescheduleOnClusterLoss, not pinned): then every
   * cluster's room is judged as when it was first placed. */
  int replaceable;
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
  char quota[PROJECT_MAX_CLUSTERS][200]; /* the views' quota words */
} placement_candidates;

/* Fills *out for a workload of project 'project' (NULL: the namespace
 * belongs to none, out->n stays 0) placed on 'placed' (status.cluster; NULL
 * or "" while it waits to be placed). Only while it waits is each
 * cluster's room judged: the hub's from its own nodes and pods (the
 * controller must declare nodes and pods among what it reads), a member's in
 * sum from its Cluster's status and node by node from the hub's caches of
 * its nodes and pods. While it waits, a cluster's free resources are also
 * held to the room the project's quota there leaves (spec.clusters[].quota:
 * cpu, memory and gpu; project_cluster_room), counting the hub's
 * TrainingJobs placed there and the project's pods there (trainingjobs are
 * read from the cache: some controller must declare them). Release with
 * placement_candidates_free. */
void placement_candidates_gather(const rt_ctx *ctx, const char *project, const char *placed,
                                 const placement_needs *needs, const gpu_profile *gpu, placement_candidates *out);
void placement_candidates_free(placement_candidates *c);

/* The view named 'name', or NULL. */
const placement_view *placement_candidates_find(const placement_candidates *c, const char *name);

/* A Cluster's change, mapped to the objects of 'kind' (a placeable kind the
 * controller declares as primary) it concerns: those placed on it
 * (reachability) and those waiting for room (Placed=False); not every object
 * of the hub. For a controller's rt_watch_def map over cluster_resource.
 * New NULL-terminated array of keys. */
char **placement_keys_for_cluster(const rt_ctx *ctx, const kube_resource *kind, const json_t *cluster);

/* ------------------------------------------- the plan's steps (pure) */

/* The plan steps every placeable kind shares (docs/multicluster.md
 * "Placement"): choosing the cluster, the Placed condition and event,
 * ClusterReachable, the children's labels in a member and the remote
 * cleanup under the finalizer. Pure: they write into the status being
 * decided and the plan; the kind turns a verdict into its own phase. */

/* How a kind is named in placement's words. */
typedef struct placement_words {
  const char *noun;   /* "job", "InferenceService" */
  const char *demand; /* what must fit at once: "the whole gang", "every replica" */
  const char *label;  /* the kind's label on its children (cubit.dev/trainingjob) */
} placement_words;

/* One plan's placement inputs and outputs (all borrowed). */
typedef struct placement_step {
  const placement_words *words;
  const json_t *obj;               /* the hub object as read */
  const placement_view *clusters;  /* the project's clusters in its order (placement_candidates) */
  size_t nclusters;
  const char *project_name;        /* NULL: "the namespace's project" */
  json_t *status;                  /* the status being decided */
  rt_plan *out;
  json_int_t gen;
  int64_t now;
} placement_step;

/* What choosing concluded, for the kind's own phase and events. */
typedef struct placement_verdict {
  rt_state state;       /* PROGRESSING, or FAILED (ClusterNotAllowed) */
  char reason[64];      /* Placed, NoClusterFits, ClusterNotAllowed */
  char message[1024];
  int warn;             /* a Warning is due when the reason is news (the kind's conclude) */
  int evented;          /* the step emitted its own event (Placed) */
} placement_verdict;

/* The cluster the object runs in: status.cluster once placed, else "local"
 * for a project that does not span clusters (and no spec.cluster), else
 * NULL (to place). spec NULL: the spec is invalid. */
const char *placement_cluster_of(const json_t *obj, const placement_spec *spec, size_t nclusters);

/* The view named 'name' in views[0..n), or NULL. */
const placement_view *placement_views_find(const placement_view *views, size_t n, const char *name);

/* The object has no cluster yet: spec.cluster (ClusterNotAllowed when the
 * project does not list it), else the policy over the project's clusters
 * for demand d (NoClusterFits, looked at again in 15 s, when none has
 * room). The choice goes to status.cluster with Placed=True and a Placed
 * event; the kind writes the status alone, before any child, so a
 * workload never starts in two clusters. Placed=False otherwise. */
void placement_choose(const placement_step *ps, const placement_spec *spec, const placement_demand *d,
                      placement_verdict *v);

/* The member the object runs in is not ready: ClusterReachable=False with
 * the Cluster's words (c NULL: no such Cluster), a ClusterUnreachable
 * Warning once, looked at again in 5 s. The rest of the status stays as
 * last seen; nothing is re-placed. */
void placement_unreachable(const placement_step *ps, const char *member, const placement_view *c);
/* ClusterReachable=True (a Normal event when it was False). */
void placement_reachable(const placement_step *ps, const char *member);

/* Is child (in a member) the object's own, by its owner-uid label? */
int placement_labelled_for(const json_t *obj, const json_t *child);
/* 'desired' (returned) made fit for a member: no ownerReference (none can
 * cross clusters), the kind's label with the object's name and the
 * owner-uid label instead. Idempotent. */
json_t *placement_for_member(const placement_step *ps, json_t *desired);

/* The end of the remote cleanup of a deleted object: 'left' children may
 * still be in members (the kind planned their deletion), 'away' members
 * do not answer. None left: the finalizer goes. Else it waits (polls),
 * and gives up after timeout_s (0: PLACEMENT_REMOTE_CLEANUP_TIMEOUT_S) of
 * a member away since the deletion, with a RemoteCleanupAbandoned Warning
 * naming 'where' and what may be left behind ('left_behind'). */
void placement_cleanup_finish(const placement_step *ps, size_t left, size_t away, int64_t timeout_s,
                              const char *where, const char *left_behind);

#endif
