#include "webhooks/validate/trainingjob.h"

#include <stdio.h>
#include <string.h>

#include "api/project/project.h"
#include "api/trainingjob/trainingjob.h"
#include "util/json.h"
#include "util/quantity.h"

int validate_trainingjob(const webhook_env *env, const json_t *tj, char *err, size_t errlen) {
  tj_spec s;
  if (tj_spec_parse(tj, &s, err, errlen)) return CUBIT_EINVAL;
  for (size_t i = 0; i < s.nroles; i++) {
    const tj_role *r = &s.roles[i];
    static const char *keys[] = {"cpu", "memory"};
    for (int k = 0; k < 2; k++) {
      json_t *v = json_object_get(r->resources, keys[k]);
      if (v == NULL || !json_is_string(v)) continue;
      quantity q;
      char why[200];
      if (quantity_parse_err(json_string_value(v), &q, why, sizeof(why))) {
        snprintf(err, errlen, "spec.roles.%s.resources.%s: %s", r->name, keys[k], why);
        return CUBIT_EINVAL;
      }
    }
    const char *gpu = js_str(r->resources, "gpu");
    if (gpu == NULL) continue;
    gpu_request g;
    gpu_translation t;
    char why[400];
    if (gpu_request_parse(gpu, &g, why, sizeof(why)) || gpu_translate(env->gpu, &g, &t, why, sizeof(why))) {
      snprintf(err, errlen, "spec.roles.%s.resources.gpu: %s", r->name, why);
      return CUBIT_EINVAL;
    }
  }
  return 0;
}

/* spec.cluster names "local" or one of the project's spec.clusters (a
 * namespace outside any project, or a project listing none, has only
 * "local"); set on a job already placed, it must name where it runs. The
 * CRD refuses changing or removing it once set. */
int validate_trainingjob_cluster(const webhook_env *env, const json_t *tj, const json_t *old, char *err, size_t errlen) {
  const char *cluster = js_str(tj, "spec.cluster"), *before = js_str(old, "spec.cluster");
  /* Unchanged: judged when it was set (a project may drop the cluster
   * later; the job's finalizer must still be removable). */
  if (cluster == NULL || (before && strcmp(before, cluster) == 0)) return 0;
  const char *placed = js_str(old, "status.cluster");
  if (placed && *placed && strcmp(placed, cluster) != 0) {
    snprintf(err, errlen, "spec.cluster: the job was placed on cluster %s already; it cannot move to %s", placed,
             cluster);
    return CUBIT_EINVAL;
  }
  json_t *project = webhook_project_of(env, js_namespace(tj));
  project_spec ps;
  char why[256];
  int parsed = project && project_spec_parse(project, &ps, why, sizeof(why)) == 0;
  int allowed = (!parsed || ps.nclusters == 0) && strcmp(cluster, "local") == 0;
  char list[600] = "";
  size_t at = 0;
  for (size_t i = 0; parsed && i < ps.nclusters; i++) {
    allowed |= strcmp(ps.clusters[i], cluster) == 0;
    int w = snprintf(list + at, sizeof(list) - at, "%s%s", at ? ", " : "", ps.clusters[i]);
    if (w > 0 && (size_t)w < sizeof(list) - at) at += (size_t)w;
  }
  if (!allowed) {
    if (parsed && ps.nclusters > 0)
      snprintf(err, errlen, "spec.cluster: %s is not one of project %s's clusters (%s)", cluster, js_name(project),
               list);
    else
      snprintf(err, errlen, "spec.cluster: %s: the namespace's project spans no clusters; only \"local\" is allowed",
               cluster);
  }
  if (parsed) project_spec_free(&ps);
  json_decref(project);
  return allowed ? 0 : CUBIT_EINVAL;
}

void validate_trainingjob_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (req->object == NULL || (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0))
    return;
  if (js_get(req->object, "metadata.deletionTimestamp")) return;
  char err[600];
  if (validate_trainingjob(env, req->object, err, sizeof(err)) ||
      validate_trainingjob_cluster(env, req->object, req->old_object, err, sizeof(err)))
    adm_deny(resp, 422, "TrainingJob %s: %s", req->name, err);
}
