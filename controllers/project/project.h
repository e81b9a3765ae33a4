/* The Project controller: a project's namespaces, its members' access and
 * its Volcano queue, and a status that says what it holds and uses. The
 * resource and its spec are in api/project; what happens to a Project is
 * here: project_plan decides (pure), rt_execute acts. */
#ifndef CUBIT_CONTROLLERS_PROJECT_H
#define CUBIT_CONTROLLERS_PROJECT_H

#include <jansson.h>
#include <stdint.h>

#include "api/gpu/gpu.h"
#include "api/project/project.h"
#include "runtime/manager.h"
#include "runtime/plan.h"

extern const kube_resource project_volcano_queues;

/* A member cluster the project lists (spec.clusters, "local" aside), as
 * the hub's cache of it holds it. Borrowed. */
typedef struct project_cluster_observed {
  const char *name;
  int synced;              /* connected, and its namespaces listed */
  int gone;                /* no Cluster of that name (deleted): nothing there can be reached again */
  json_t *const *listed;   /* the member's Namespace of spec->namespaces[i], or NULL */
  json_t *const *labelled; /* the member's Namespaces labelled cubit.dev/project=<project> */
  size_t nlabelled;
  json_t *const *bindings; /* the member's RoleBindings labelled cubit.dev/project=<project> */
  size_t nbindings;
  json_t *const *claims;   /* the member's claims labelled cubit.dev/project=<project> */
  size_t nclaims;
  const json_t *cluster;   /* its Cluster (status.phase, the Ready condition), or NULL */
  json_t *const *pods;     /* the member's pods of spec->namespaces, as last seen */
  size_t npods;
} project_cluster_observed;

/* Everything project_plan reads, gathered from the cache. Borrowed. */
typedef struct project_observed {
  const json_t *project;
  const project_spec *spec;  /* NULL when the spec is invalid */
  const char *spec_error;    /* why, when spec is NULL */
  json_t *const *listed;     /* the live Namespace of spec->namespaces[i], or NULL */
  json_t *const *labelled;   /* Namespaces labelled cubit.dev/project=<project> */
  size_t nlabelled;
  json_t *const *bindings;   /* RoleBindings the project controls */
  size_t nbindings;
  const json_t *admin_role, *admin_binding; /* cubit-project:<name>:admin, or NULL */
  const json_t *queue;       /* the live Volcano Queue, or NULL */
  int volcano;               /* the Queue API is served */
  json_t *const *claims;     /* PersistentVolumeClaims labelled cubit.dev/project=<project> */
  size_t nclaims;
  json_t *const *pods;       /* the hub's pods of spec->namespaces */
  size_t npods;
  json_t *const *jobs;       /* the hub's TrainingJobs of spec->namespaces (placed anywhere) */
  size_t njobs;
  const project_cluster_observed *clusters; /* the member clusters of spec->clusters, in order */
  /* The hub's ClusterRoles cubit-project-admin, -edit, -view (NULL: not
   * installed), copied into the members the project uses. */
  const json_t *const *member_roles;
  size_t nclusters;
  const gpu_profile *gpu;    /* NULL: whole cards */
  int64_t now;               /* epoch seconds */
} project_observed;

/* Decides what a Project needs (docs/project.md#status):
 *   - namespaces: a listed namespace that does not exist is created
 *     (labelled, annotated PROJECT_ANNOTATION_CREATED); one that exists is
 *     the project's only when labelled cubit.dev/project=<project> (by a
 *     cluster admin) or created by it; anything else is named in a FAILED
 *     status and gets no label and no binding. A labelled namespace the
 *     spec no longer lists is released (label and bindings removed);
 *   - a RoleBinding per role with members in every namespace held, and the
 *     admins' ClusterRole and ClusterRoleBinding on the Project itself;
 *   - the Volcano Queue when Volcano is served and not disabled;
 *   - volumes.shared.provision: the shared claim in every namespace held,
 *     labelled with the project (no ownerReference: Retain keeps it; Delete
 *     deletes it with the project);
 *   - spec.clusters: in each member cluster listed, the listed namespaces
 *     by the same rules (created, or adopted only when labelled for the
 *     project), through the member's client; a member not connected keeps
 *     the project PROGRESSING (looked at again every 5 s), a namespace it
 *     may not adopt there makes it FAILED;
 *   - status.clusters[]: per cluster the project spans (spec.clusters in
 *     order, then "local" when not listed) the namespaces held there, what
 *     the project holds there (project_cluster_used: the TrainingJobs in
 *     that cluster and the pods of its namespaces there, as the quota
 *     webhook counts), that cluster's quota when it has one and whether
 *     its Cluster is Ready; status.used is their sum plus the gangs of the
 *     TrainingJobs in none of them (waiting to be placed);
 *   - status: READY when all of that is in place, PROGRESSING while not,
 *     FAILED for an invalid spec or a namespace it may not adopt;
 *   - deletion: the deletionPolicy (Delete: also the namespaces it created
 *     in member clusters, waiting for a member that is not connected),
 *     then the finalizer goes.
 * Pure: fills plan (initialised by the caller) from in alone. */
void project_plan(const project_observed *in, rt_plan *plan);

/* Registers the Project controller; gpu (may be NULL: whole cards) must
 * outlive the manager. */
int project_controller_register(rt_manager *m, const gpu_profile *gpu) CUBIT_WUR;

#endif
