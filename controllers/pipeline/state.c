/* One way for the pipeline kinds' plans to state where an object is: the
 * phase and the conditions of docs/status.md, and the Warning event that
 * tells a user about a new problem once (not on every reconcile). */
#include <string.h>

#include "controllers/pipeline/pipeline.h"
#include "runtime/conditions.h"
#include "util/json.h"

/* The reason the object's status gave last: Reconciling is written in every
 * state, Ready (all a status had before) is the fallback. */
static const char *previous(const json_t *obj, const char *field) {
  const json_t *status = json_object_get(obj, "status");
  const json_t *c = rt_condition_get(status, "Reconciling");
  if (c == NULL) c = rt_condition_get(status, "Ready");
  return js_str(c, field);
}

void pl__set_state(rt_plan *plan, json_t *status, const json_t *obj, const char *phase, rt_state state,
                   const char *reason, const char *message, int64_t now, pl_warn warn) {
  if (warn != PL_WARN_NONE) {
    const char *before = previous(obj, "reason");
    const char *said = previous(obj, "message");
    int changed = before == NULL || strcmp(before, reason) != 0;
    if (warn == PL_WARN_MESSAGE && !changed) changed = said == NULL || strcmp(said, message) != 0;
    if (changed) rt_plan_event(plan, "Warning", reason, "%s", message);
  }
  rt_status_set_state(status, phase, state, reason, message, js_int(obj, "metadata.generation", 0), now);
}
