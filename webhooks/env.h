/* What every admission handler may read: the shared caches, the GPU
 * profile, the gang settings, and the quota reservations. Handlers are pure
 * functions of (request, env), so tests build an env from stores they fill
 * themselves. */
#ifndef CUBIT_WEBHOOKS_ENV_H
#define CUBIT_WEBHOOKS_ENV_H

#include <jansson.h>
#include <stdint.h>

#include "cache/store.h"
#include "kube/client.h"
#include "api/gang/gang.h"
#include "api/gpu/gpu.h"
#include "webhooks/quota/reserve.h"
#include "api/labels.h"

/* The kinds whose whole gang is judged against quota at creation. */
enum {
  WL_JOB,          /* batch/v1 Job */
  WL_TFJOB,
  WL_PYTORCHJOB,
  WL_MPIJOB,
  WL_XGBOOSTJOB,
  WL_VOLCANOJOB,   /* batch.volcano.sh Job */
  WL_TRAININGJOB,  /* cubit.dev TrainingJob */
  WL_COUNT
};

extern const kube_resource webhook_workload_resources[WL_COUNT];

typedef struct webhook_env {
  cache_store *projects, *namespaces, *pods;
  cache_store *workloads[WL_COUNT]; /* any may be NULL (API absent) */
  const gpu_profile *gpu;           /* NULL = whole cards, no models */
  gang_config gang;
  quota_reservations *reservations;
  int64_t reservation_ttl_ms;       /* default 30 s */
  /* Pipelines: the templates and pipelines they name (NULL = API absent),
   * and how long a reference missing from the cache is waited for (objects
   * applied together reach the cache a moment after their creation). */
  cache_store *jobtemplates, *clusterjobtemplates, *pipelines;
  int64_t reference_wait_ms;
} webhook_env;

/* The workload index of (group, kind), or -1. */
int webhook_workload_index(const char *group, const char *kind);
/* The Project owning namespace ns (a new reference), or NULL. */
json_t *webhook_project_of(const webhook_env *env, const char *ns);

#endif
