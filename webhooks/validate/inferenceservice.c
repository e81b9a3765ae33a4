#include "webhooks/validate/inferenceservice.h"

#include <stdio.h>
#include <string.h>

#include "api/inferenceservice/inferenceservice.h"
#include "webhooks/validate/placement.h"
#include "util/json.h"
#include "util/time.h"

int validate_inferenceservice(const json_t *isvc, int64_t now, char *err, size_t errlen) {
  inference_spec spec;
  if (inference_spec_parse(isvc, &spec, err, errlen)) return CUBIT_EINVAL;
  int rc = inference_windows_overlap(&spec, now, err, errlen);
  inference_spec_free(&spec);
  return rc ? CUBIT_EINVAL : 0;
}

void validate_inferenceservice_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (req->object == NULL || (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0))
    return;
  if (js_get(req->object, "metadata.deletionTimestamp")) return;
  char err[600];
  if (validate_inferenceservice(req->object, time_wall_s(), err, sizeof(err)) ||
      validate_placement_cluster(env, req->object, req->old_object, err, sizeof(err)))
    adm_deny(resp, 422, "InferenceService %s: %s", req->name, err);
}
