#include "webhooks/validate/trainingjob.h"

#include <stdio.h>
#include <string.h>

#include "api/project/project.h"
#include "api/trainingjob/trainingjob.h"
#include "util/json.h"
#include "util/quantity.h"
#include "webhooks/validate/placement.h"

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

void validate_trainingjob_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (req->object == NULL || (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0))
    return;
  if (js_get(req->object, "metadata.deletionTimestamp")) return;
  char err[600];
  if (validate_trainingjob(env, req->object, err, sizeof(err)) ||
      validate_placement_cluster(env, req->object, req->old_object, err, sizeof(err)))
    adm_deny(resp, 422, "TrainingJob %s: %s", req->name, err);
}
