#include "webhooks/env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/inferenceservice/inferenceservice.h"
#include "api/notebook/notebook.h"
#include "util/alloc.h"
#include "util/json.h"

const kube_resource webhook_workload_resources[WL_COUNT] = {
    [WL_JOB] = {"batch", "v1", "jobs", "Job", 1},
    [WL_TFJOB] = {"kubeflow.org", "v1", "tfjobs", "TFJob", 1},
    [WL_PYTORCHJOB] = {"kubeflow.org", "v1", "pytorchjobs", "PyTorchJob", 1},
    [WL_MPIJOB] = {"kubeflow.org", "v1", "mpijobs", "MPIJob", 1},
    [WL_XGBOOSTJOB] = {"kubeflow.org", "v1", "xgboostjobs", "XGBoostJob", 1},
    [WL_PADDLEJOB] = {"kubeflow.org", "v1", "paddlejobs", "PaddleJob", 1},
    [WL_JAXJOB] = {"kubeflow.org", "v1", "jaxjobs", "JAXJob", 1},
    [WL_VOLCANOJOB] = {"batch.volcano.sh", "v1alpha1", "jobs", "Job", 1},
    [WL_TRAININGJOB] = {"cubit.dev", "v1alpha1", "trainingjobs", "TrainingJob", 1},
    [WL_RAYJOB] = {"ray.io", "v1", "rayjobs", "RayJob", 1},
    [WL_RAYCLUSTER] = {"ray.io", "v1", "rayclusters", "RayCluster", 1},
    [WL_SPARKAPPLICATION] = {"sparkoperator.k8s.io", "v1beta2", "sparkapplications", "SparkApplication", 1},
};

int webhook_workload_is_link(int wl) { return wl >= WL_FIRST_LINK && wl < WL_COUNT; }

const kube_resource webhook_apps_resources[APPS_COUNT] = {
    [APPS_DEPLOYMENT] = {"apps", "v1", "deployments", "Deployment", 1},
    [APPS_STATEFULSET] = {"apps", "v1", "statefulsets", "StatefulSet", 1},
};

int webhook_workload_index(const char *group, const char *kind) {
  if (group == NULL || kind == NULL) return -1;
  for (int i = 0; i < WL_COUNT; i++)
    if (strcmp(webhook_workload_resources[i].group, group) == 0 &&
        strcmp(webhook_workload_resources[i].kind, kind) == 0)
      return i;
  return -1;
}

const kube_resource *const webhook_service_resources[SVC_COUNT] = {
    [SVC_NOTEBOOK] = &notebook_resource,
    [SVC_INFERENCESERVICE] = &inference_resource,
};

int webhook_service_index(const char *group, const char *kind) {
  if (group == NULL || kind == NULL) return -1;
  for (int i = 0; i < SVC_COUNT; i++)
    if (strcmp(webhook_service_resources[i]->group, group) == 0 && strcmp(webhook_service_resources[i]->kind, kind) == 0)
      return i;
  return -1;
}

int webhook_apps_index(const char *group, const char *kind) {
  if (group == NULL || kind == NULL) return -1;
  for (int i = 0; i < APPS_COUNT; i++)
    if (strcmp(webhook_apps_resources[i].group, group) == 0 && strcmp(webhook_apps_resources[i].kind, kind) == 0)
      return i;
  return -1;
}

json_t *webhook_project_of(const webhook_env *env, const char *ns) {
  if (env->namespaces == NULL || env->projects == NULL || ns == NULL || *ns == '\0') return NULL;
  json_t *n = cache_store_get(env->namespaces, NULL, ns);
  const char *name = json_string_value(json_object_get(js_get(n, "metadata.labels"), CUBIT_LABEL_PROJECT));
  json_t *p = name && *name ? cache_store_get(env->projects, NULL, name) : NULL;
  json_decref(n);
  return p;
}

const char *webhook_user_of(const json_t *obj) {
  return json_string_value(json_object_get(js_get(obj, "metadata.annotations"), CUBIT_ANNOTATION_USER));
}

/* ------------------------------------------------------------ identities */

#define KCM(name) "system:serviceaccount:kube-system:" name
/* kube-controller-manager runs each controller as its own service account
 * with --use-service-account-credentials (kubeadm and most distributions),
 * else as system:kube-controller-manager. */
static const char *const kcm_controllers[] = {
    "system:kube-controller-manager", KCM("job-controller"),         KCM("cronjob-controller"),
    KCM("replicaset-controller"),     KCM("deployment-controller"),  KCM("statefulset-controller"),
    KCM("daemon-set-controller"),     KCM("replication-controller"), NULL};
static const char *const job_controllers[] = {"system:kube-controller-manager", KCM("job-controller"), NULL};
/* The training operator's and Volcano's own installs. */
static const char *const training_operators[] = {"system:serviceaccount:kubeflow:training-operator", NULL};
static const char *const volcano_controllers[] = {"system:serviceaccount:volcano-system:volcano-controllers", NULL};
/* KubeRay's operator as its kustomize install (ray-system) and its Helm
 * chart installed in a namespace of its own name run it; the
 * spark-operator's controller, which submits the driver pod, as its Helm
 * chart names it (2.x: <release>-controller; 1.x: the release name). */
static const char *const kuberay_operators[] = {"system:serviceaccount:ray-system:kuberay-operator",
                                                "system:serviceaccount:kuberay-operator:kuberay-operator", NULL};
static const char *const spark_operators[] = {"system:serviceaccount:spark-operator:spark-operator-controller",
                                              "system:serviceaccount:spark-operator:spark-operator", NULL};

static const char *const wl_names[WL_COUNT] = {
    [WL_JOB] = "Job",         [WL_TFJOB] = "TFJob",           [WL_PYTORCHJOB] = "PyTorchJob",
    [WL_MPIJOB] = "MPIJob",   [WL_XGBOOSTJOB] = "XGBoostJob", [WL_PADDLEJOB] = "PaddleJob",
    [WL_JAXJOB] = "JAXJob",   [WL_VOLCANOJOB] = "VolcanoJob",
    [WL_TRAININGJOB] = "TrainingJob", [WL_RAYJOB] = "RayJob", [WL_RAYCLUSTER] = "RayCluster",
    [WL_SPARKAPPLICATION] = "SparkApplication",
};

static int add(char **list, size_t *n, const char *user, const char *where, char *err, size_t errlen) {
  if (user == NULL || *user == '\0')
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a non-empty username", where);
  for (size_t i = 0; i < *n; i++)
    if (strcmp(list[i], user) == 0) return 0;
  if (*n == WEBHOOK_MAX_IDENTITIES)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: at most %d usernames", where, WEBHOOK_MAX_IDENTITIES);
  list[(*n)++] = xstrdup(user);
  return 0;
}

static int add_all(char **list, size_t *n, const char *const *users) {
  int rc = 0;
  for (; rc == 0 && *users; users++) rc = add(list, n, *users, "defaults", NULL, 0);
  return rc;
}

static int add_json(char **list, size_t *n, const json_t *users, const char *where, char *err, size_t errlen) {
  if (users == NULL || json_is_null(users)) return 0;
  if (!json_is_array(users)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a list of usernames", where);
  size_t i;
  json_t *u;
  json_array_foreach(users, i, u) {
    char w[160];
    snprintf(w, sizeof(w), "%s[%zu]", where, i);
    int rc = add(list, n, json_string_value(u), w, err, errlen);
    if (rc) return rc;
  }
  return 0;
}

static int parse_settings(const json_t *settings, webhook_identities *ids, char *err, size_t errlen) {
  if (settings == NULL || json_is_null(settings)) return 0;
  if (!json_is_object(settings)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "tenancy: must be an object");
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)settings, key, v) {
    if (strcmp(key, "controllers") != 0 && strcmp(key, "propagators") != 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "tenancy.%.64s: unknown field (want controllers, propagators)",
                          key);
  }
  int rc = add_json(ids->propagators, &ids->npropagators, json_object_get(settings, "propagators"),
                    "tenancy.propagators", err, errlen);
  if (rc) return rc;
  const json_t *controllers = json_object_get(settings, "controllers");
  if (controllers == NULL || json_is_null(controllers)) return 0;
  if (!json_is_object(controllers))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "tenancy.controllers: must map a workload kind to usernames");
  json_object_foreach((json_t *)controllers, key, v) {
    int wl = -1;
    for (int i = 0; i < WL_COUNT; i++)
      if (strcmp(wl_names[i], key) == 0) wl = i;
    if (wl < 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "tenancy.controllers.%.64s: unknown workload kind (want Job, TFJob, PyTorchJob, MPIJob, "
                          "XGBoostJob, PaddleJob, JAXJob, VolcanoJob, TrainingJob, RayJob, RayCluster or "
                          "SparkApplication)",
                          key);
    char w[128];
    snprintf(w, sizeof(w), "tenancy.controllers.%s", key);
    if ((rc = add_json(ids->controllers[wl], &ids->ncontrollers[wl], v, w, err, errlen))) return rc;
    /* A workload's controller passes its creator on to what it makes. */
    if ((rc = add_json(ids->propagators, &ids->npropagators, v, w, err, errlen))) return rc;
  }
  return 0;
}

int webhook_identities_parse(const json_t *settings, const char *manager, webhook_identities *ids, char *err,
                             size_t errlen) {
  memset(ids, 0, sizeof(*ids));
  add_all(ids->propagators, &ids->npropagators, kcm_controllers);
  add_all(ids->propagators, &ids->npropagators, training_operators);
  add_all(ids->propagators, &ids->npropagators, volcano_controllers);
  add_all(ids->controllers[WL_JOB], &ids->ncontrollers[WL_JOB], job_controllers);
  for (int wl = WL_TFJOB; wl <= WL_JAXJOB; wl++)
    add_all(ids->controllers[wl], &ids->ncontrollers[wl], training_operators);
  add_all(ids->controllers[WL_VOLCANOJOB], &ids->ncontrollers[WL_VOLCANOJOB], volcano_controllers);
  add_all(ids->propagators, &ids->npropagators, kuberay_operators);
  add_all(ids->propagators, &ids->npropagators, spark_operators);
  /* KubeRay makes a RayJob's RayCluster and a RayCluster's pods. */
  add_all(ids->controllers[WL_RAYJOB], &ids->ncontrollers[WL_RAYJOB], kuberay_operators);
  add_all(ids->controllers[WL_RAYCLUSTER], &ids->ncontrollers[WL_RAYCLUSTER], kuberay_operators);
  add_all(ids->controllers[WL_SPARKAPPLICATION], &ids->ncontrollers[WL_SPARKAPPLICATION], spark_operators);
  if (manager && *manager) {
    const char *const me[] = {manager, NULL};
    add_all(ids->propagators, &ids->npropagators, me);
    add_all(ids->controllers[WL_TRAININGJOB], &ids->ncontrollers[WL_TRAININGJOB], me);
  }
  return parse_settings(settings, ids, err, errlen);
}

void webhook_identities_free(webhook_identities *ids) {
  for (int wl = 0; wl < WL_COUNT; wl++)
    for (size_t i = 0; i < ids->ncontrollers[wl]; i++) free(ids->controllers[wl][i]);
  for (size_t i = 0; i < ids->npropagators; i++) free(ids->propagators[i]);
  memset(ids, 0, sizeof(*ids));
}

static int listed(char *const *list, size_t n, const char *user) {
  for (size_t i = 0; user && i < n; i++)
    if (strcmp(list[i], user) == 0) return 1;
  return 0;
}

int webhook_is_controller(const webhook_identities *ids, int wl, const char *user) {
  return ids && wl >= 0 && wl < WL_COUNT && listed(ids->controllers[wl], ids->ncontrollers[wl], user);
}

int webhook_is_propagator(const webhook_identities *ids, const char *user) {
  return ids && listed(ids->propagators, ids->npropagators, user);
}
