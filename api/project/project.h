/* Project: a team, its namespaces, its members and its share of the
 * cluster (cube-studio's 项目组). The resource, its spec as a C struct and
 * the rules on who may change which field: what the Project controller and
 * the admission webhooks both read (docs/project.md). */
#ifndef CUBIT_API_PROJECT_H
#define CUBIT_API_PROJECT_H

#include <jansson.h>
#include <stddef.h>

#include "api/cluster/placement.h"
#include "api/labels.h"
#include "api/usage/usage.h"
#include "kube/client.h"
#include "util/quantity.h"
#include "util/err.h"

extern const kube_resource project_resource;

#define PROJECT_LABEL CUBIT_LABEL_PROJECT
#define PROJECT_FINALIZER "cubit.dev/project"
/* On a namespace the Project controller created (not adopted): the
 * project's name. Only such namespaces are deleted with deletionPolicy
 * Delete, and a created namespace stays the project's even if its label is
 * lost. Written by the controller only (namespaces are cluster-scoped:
 * project members cannot touch them). */
#define PROJECT_ANNOTATION_CREATED "cubit.dev/created-by-project"
#define PROJECT_MAX_NAMESPACES 64
#define PROJECT_MAX_CLUSTERS 16

/* The verb a requester needs on projects.cubit.dev/<name> to change the
 * fields only a cluster admin may change (project_tenancy_changes). No
 * built-in role grants it except those with every verb (cluster-admin);
 * config/rbac/tenancy_admin.yaml binds it. */
#define PROJECT_MANAGE_VERB "manage"

typedef struct project_member {
  char kind[16];   /* User, Group, ServiceAccount */
  char name[254];
  char role[8];    /* admin, edit, view */
} project_member;

/* spec, parsed once (quantities checked) and worked on as a struct. */
typedef enum project_pod_security {
  PROJECT_PSS_BASELINE = 0, /* the default */
  PROJECT_PSS_RESTRICTED,
  PROJECT_PSS_PRIVILEGED,
} project_pod_security;

/* The level's name as Kubernetes spells it ("baseline", ...). */
const char *project_pod_security_name(project_pod_security level);

typedef struct project_spec {
  const char *namespaces[PROJECT_MAX_NAMESPACES]; /* borrowed from the object */
  size_t nnamespaces;
  project_member *members;
  size_t nmembers;
  usage quota;          /* limits; a field is set when quota_set says so */
  usage quota_set;      /* 1 in a field = that resource is limited (usage_parse_quota's mask) */
  usage per_member;
  usage per_member_set;
  int delete_namespaces; /* deletionPolicy: Delete */
  int queue_enabled;     /* -1 = default (when Volcano exists) */
  int queue_weight;
  int queue_reclaimable; /* -1 = unset */
  /* spec.volumes.shared.provision: the project makes the shared claim in
   * every namespace it holds (kept or deleted with deletionPolicy). */
  const char *shared_claim;     /* volumes.shared.claimName, or NULL */
  int shared_provision;         /* provision given */
  char shared_size[QUANTITY_STRLEN]; /* canonical storage request */
  const char *shared_class;     /* storageClassName, NULL = the cluster's default */
  const json_t *shared_modes;   /* accessModes (borrowed), NULL = [ReadWriteMany] */
  /* spec.clusters[].name: the clusters the project may run in, in order;
   * "local" is the hub (implicit: its namespaces always exist). Borrowed. */
  const char *clusters[PROJECT_MAX_CLUSTERS];
  size_t nclusters;
  /* spec.clusters[i].quota: the project's limits in clusters[i], besides
   * the total spec.quota (cluster_quota_set[i] is its mask: all 0 = no
   * limit there). */
  usage cluster_quota[PROJECT_MAX_CLUSTERS];
  usage cluster_quota_set[PROJECT_MAX_CLUSTERS];
  /* spec.podSecurity.level: the Pod Security Standard the project's
   * namespaces enforce (their pod-security.kubernetes.io labels), so a
   * member cannot run a privileged or host-sharing pod, directly or
   * through a Cubit kind. Default baseline. */
  project_pod_security pod_security;
} project_spec;

/* Parses p's spec; total over any JSON (p need not be an object). On a bad
 * field returns CUBIT_EINVAL with a message naming it ("spec.quota.gpu:
 * ..."), *out then holds nothing to free. project_spec_free releases it. */
int project_spec_parse(const json_t *p, project_spec *out, char *err, size_t errlen) CUBIT_WUR;
void project_spec_free(project_spec *s);

/* 1 when ns is one of spec.namespaces. */
int project_lists(const project_spec *s, const char *ns);

/* The index of cluster name in s->clusters, or -1. */
int project_cluster_index(const project_spec *s, const char *name);

/* ---------------------------------------------- quota per cluster (clusters.c) */

/* The cluster a TrainingJob, Notebook or InferenceService (borrowed) of a
 * project runs in, as far as the quota is concerned: status.cluster once
 * placed, else spec.cluster (a pinned one is the pinned cluster's from its
 * admission on), else "local" when the project spans no clusters (spans =
 * 0), else NULL: one waiting to be placed by policy is in no cluster yet
 * (the total holds a job; a service holds nothing until placed). */
const char *project_job_cluster(const json_t *job, int spans);

/* A hub object held in a cluster as a whole: a TrainingJob's gang, a
 * placed Notebook's or InferenceService's pod demand. */
typedef struct project_holder {
  const json_t *obj; /* borrowed */
  const char *label; /* the label naming it on its pods there (cubit.dev/trainingjob...) */
  usage whole;       /* what it holds at once */
} project_holder;

/* What holders and pods (borrowed arrays; unfinished pods of the project's
 * namespaces in one cluster) hold there: each holder its whole, or what
 * the pods labelled <its label>=<its name> in its namespace hold where
 * that is more (a pod cannot hide by claiming it); every other pod its own
 * request. Pure. */
void project_cluster_held(const project_holder *holders, size_t nholders, const json_t *const *pods, size_t npods,
                          const gpu_profile *gpu, usage *out);

/* A placement demand (api/cluster/placement.h: a Notebook's one pod, an
 * InferenceService's replica floor) in the quota's units: cpu, memory, GPU
 * cards and pods. A demand does not size GPU memory: gpuMemory is 0 (the
 * pods count it once they exist). */
void project_demand_usage(const placement_demand *d, usage *out);

/* What the project holds in one cluster, from what that cluster shows:
 * jobs are the hub's TrainingJobs of the project's namespaces placed there
 * (project_job_cluster; unfinished ones count), pods the pods of the
 * project's namespaces in that cluster (finished ones do not count). A job
 * holds its whole gang (usage_of_object), or what the pods labelled
 * cubit.dev/trainingjob=<its name> in its namespace hold where that is
 * more (project_cluster_held); every other pod holds its own request.
 * Borrowed arrays; pure. */
void project_cluster_used(const json_t *const *jobs, size_t njobs, const json_t *const *pods, size_t npods,
                          const gpu_profile *gpu, usage *out);

/* The room project s has left in cluster s->clusters[i] once 'used' (what
 * it holds there, project_cluster_used) is counted: spec.clusters[i].quota
 * - used per limited field (floored at 0), and *limited the mask of those
 * fields. Returns 1 when any field is limited (why then reads
 * "project p's quota in cluster c: gpu used 2 of 2"; "" when none),
 * 0 when the cluster has no quota (room and limited are zero). Pure. */
int project_cluster_room(const project_spec *s, const char *project, size_t i, const usage *used, usage *room,
                         usage *limited, char *why, size_t whylen);

/* 1 when name is a DNS-1123 label (what a namespace name must be). */
int project_namespace_name_valid(const char *name);

/* The spec fields a project admin may change: members, displayName and the
 * default volumes except volumes.shared.provision. Every other field of spec (namespaces, quota and
 * quota.perMember, resourceGroup, priorityClassName, queue, deletionPolicy,
 * and any field added later, such as clusters) only a requester allowed to
 * PROJECT_MANAGE_VERB the project. */
extern const char *const project_admin_fields[];

/* Compares two specs (borrowed; NULL or a non-object reads as {}) and
 * writes the cluster-admin fields that differ into which ("spec.quota,
 * spec.namespaces"; "" when none). Returns how many differ. */
int project_tenancy_changes(const json_t *old_spec, const json_t *new_spec, char *which, size_t len);

#endif
