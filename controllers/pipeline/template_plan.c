/* The plan of a JobTemplate or ClusterJobTemplate: a template is data that
 * pipelines use, so its status says only whether it is valid — Valid
 * (READY) or Invalid (FAILED, the message naming the field) — for the same
 * generation, so GitOps tools show a good template healthy and a broken one
 * degraded. The webhook refuses most broken templates; this catches those
 * admitted while it was away, and says so on the object. */
#include <stdio.h>

#include "controllers/pipeline/pipeline.h"
#include "util/json.h"

void pl_template_plan(const json_t *tmpl, pl_workload_check_fn check, void *arg, int64_t now, rt_plan *plan) {
  json_t *status = rt_status_from(tmpl);
  pl_template t;
  char err[900];
  int rc = pl_template_parse(json_object_get(tmpl, "spec"), &t, err, sizeof(err));
  if (rc == 0) {
    rc = pl_template_check_workload(&t, check, arg, err, sizeof(err));
    pl_template_free(&t);
  }
  if (rc == 0)
    pl__set_state(plan, status, tmpl, "Valid", RT_STATE_READY, "Valid",
                  "the template is valid: pipelines may use it", now, PL_WARN_NONE);
  else
    pl__set_state(plan, status, tmpl, "Invalid", RT_STATE_FAILED, "InvalidSpec", err, now, PL_WARN_MESSAGE);
  rt_plan_set_status(plan, status);
}
