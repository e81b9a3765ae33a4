#include "webhooks/validate/notebook.h"

#include <stdio.h>
#include <string.h>

#include "api/notebook/notebook.h"
#include "webhooks/validate/placement.h"
#include "util/json.h"

int validate_notebook(const webhook_env *env, const json_t *nb, char *err, size_t errlen) {
  notebook_spec spec;
  if (notebook_spec_parse(nb, &spec, err, errlen)) return CUBIT_EINVAL;
  if (spec.gpu[0]) {
    /* The pod would be refused later by the pod webhook (or the controller
     * could not translate it): say so now, on the field. */
    gpu_request req;
    gpu_translation t;
    char why[512];
    if (gpu_request_parse(spec.gpu, &req, why, sizeof(why)) || gpu_translate(env->gpu, &req, &t, why, sizeof(why))) {
      snprintf(err, errlen, "spec.resources.gpu: %s", why);
      return CUBIT_EINVAL;
    }
  }
  const char *home = spec.workspace_mount;
  for (size_t i = 0; home && spec.workspace && i < spec.nclaims; i++)
    if (strcmp(spec.claims[i].mount_path, home) == 0) {
      snprintf(err, errlen, "spec.volumes.claims[%zu].mountPath: %s is the workspace's mount path", i, home);
      return CUBIT_EINVAL;
    }
  return 0;
}

void validate_notebook_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (req->object == NULL || (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0))
    return;
  /* Stopping, starting, Cubit's own marks and a renewal never depend on
   * the rest of the spec being valid by today's rules (or GPU profile). */
  if (strcmp(req->operation, "UPDATE") == 0 && req->old_object) {
    json_t *a = json_deep_copy(json_object_get(req->object, "spec"));
    json_t *b = json_deep_copy(json_object_get(req->old_object, "spec"));
    json_object_del(a, "stopped");
    json_object_del(b, "stopped");
    int same = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    if (same) return;
  }
  char err[600];
  if (validate_notebook(env, req->object, err, sizeof(err)) ||
      validate_placement_cluster(env, req->object, req->old_object, err, sizeof(err)))
    adm_deny(resp, 422, "Notebook %s: %s", req->name, err);
}
