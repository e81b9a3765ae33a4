#include "webhooks/env.h"

#include <string.h>

#include "util/json.h"

const kube_resource webhook_workload_resources[WL_COUNT] = {
    [WL_JOB] = {"batch", "v1", "jobs", "Job", 1},
    [WL_TFJOB] = {"kubeflow.org", "v1", "tfjobs", "TFJob", 1},
    [WL_PYTORCHJOB] = {"kubeflow.org", "v1", "pytorchjobs", "PyTorchJob", 1},
    [WL_MPIJOB] = {"kubeflow.org", "v1", "mpijobs", "MPIJob", 1},
    [WL_XGBOOSTJOB] = {"kubeflow.org", "v1", "xgboostjobs", "XGBoostJob", 1},
    [WL_VOLCANOJOB] = {"batch.volcano.sh", "v1alpha1", "jobs", "Job", 1},
    [WL_TRAININGJOB] = {"cubit.dev", "v1alpha1", "trainingjobs", "TrainingJob", 1},
};

int webhook_workload_index(const char *group, const char *kind) {
  if (group == NULL || kind == NULL) return -1;
  for (int i = 0; i < WL_COUNT; i++)
    if (strcmp(webhook_workload_resources[i].group, group) == 0 &&
        strcmp(webhook_workload_resources[i].kind, kind) == 0)
      return i;
  return -1;
}

json_t *webhook_project_of(const webhook_env *env, const char *ns) {
  if (env->namespaces == NULL || env->projects == NULL || ns == NULL || *ns == '\0') return NULL;
  json_t *n = cache_store_get(env->namespaces, NULL, ns);
  const char *name = json_string_value(json_object_get(js_get(n, "metadata.labels"), "cubit.dev/project"));
  json_t *p = name ? cache_store_get(env->projects, NULL, name) : NULL;
  json_decref(n);
  return p;
}
