/* Project: a team, its namespaces, its members and its share of the
 * cluster (cube-studio's 项目组). The resource, its spec as a C struct and
 * the rules on who may change which field: what the Project controller and
 * the admission webhooks both read (docs/project.md). */
#ifndef CUBIT_API_PROJECT_H
#define CUBIT_API_PROJECT_H

#include <jansson.h>
#include <stddef.h>

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
