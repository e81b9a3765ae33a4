#include "webhooks/validate/jobtemplate.h"

#include <stdio.h>
#include <string.h>

#include "api/pipeline/pipeline.h"
/* The TrainingJob parser, until it moves to api/ with its kind. */
#include "api/trainingjob/trainingjob.h"
#include "util/json.h"

/* A workload checked as the TrainingJob controller parses it. */
static int check_trainingjob(const json_t *tj, void *arg, char *err, size_t errlen) {
  tj_spec s;
  return tj_spec_parse(tj, &s, err, errlen) ? CUBIT_EINVAL : 0;
}

int validate_jobtemplate(const webhook_env *env, const json_t *tmpl, char *err, size_t errlen) {
  pl_template t;
  if (pl_template_parse(json_object_get(tmpl, "spec"), &t, err, errlen)) return CUBIT_EINVAL;
  int rc = pl_template_check_workload(&t, check_trainingjob, NULL, err, errlen);
  pl_template_free(&t);
  return rc;
}

void validate_jobtemplate_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (req->object == NULL || (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0))
    return;
  if (js_get(req->object, "metadata.deletionTimestamp")) return;
  char err[900];
  if (validate_jobtemplate(env, req->object, err, sizeof(err)))
    adm_deny(resp, 422, "%s %s: %s", req->kind ? req->kind : "JobTemplate", req->name, err);
}
