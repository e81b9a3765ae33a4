/* Project: a team, its namespaces, its members and its share of the
 * cluster (cube-studio's 项目组). What happens to a Project is all here. */
#ifndef CUBIT_CONTROLLERS_PROJECT_H
#define CUBIT_CONTROLLERS_PROJECT_H

#include <jansson.h>

#include "kube/client.h"
#include "runtime/manager.h"
#include "api/gpu/gpu.h"
#include "api/usage/usage.h"

extern const kube_resource project_resource;

#define PROJECT_LABEL "cubit.dev/project"
#define PROJECT_FINALIZER "cubit.dev/project"
#define PROJECT_MAX_NAMESPACES 64

typedef struct project_member {
  char kind[16];   /* User, Group, ServiceAccount */
  char name[254];
  char role[8];    /* admin, edit, view */
} project_member;

/* spec, parsed once (quantities checked) and worked on as a struct. */
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
} project_spec;

/* Parses p's spec. On a bad field returns CUBIT_EINVAL with a message naming
 * it ("spec.quota.gpu: ..."). project_spec_free releases it. */
int project_spec_parse(const json_t *p, project_spec *out, char *err, size_t errlen) CUBIT_WUR;
void project_spec_free(project_spec *s);

/* Registers the Project controller; gpu (may be NULL: whole cards) must
 * outlive the manager. */
int project_controller_register(rt_manager *m, const gpu_profile *gpu) CUBIT_WUR;

#endif
