/* What an InferenceService asks of the cluster it is placed on
 * (docs/multicluster.md "Placement"), pure. The choice between clusters is
 * api/cluster/placement.c; the plan steps are controllers/cluster/placement.c. */
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"

/* Every replica the service keeps at least, at once: a service placed
 * where only some fit would never be whole. The HPA's maximum is not asked
 * for (scaling up waits for room as it does in one cluster). */
void isvc_demand_of(const inference_spec *s, int floor, placement_demand *out) {
  memset(out, 0, sizeof(*out));
  placement_demand_add(out, json_object_get(s->stable_json, "resources"), floor > 0 ? floor : 1);
  if (s->has_canary)
    placement_demand_add(out, json_object_get(s->canary_json, "resources"),
                         s->canary.min_replicas > 0 ? s->canary.min_replicas : 1);
}

int isvc_wants_istio(const inference_spec *s) {
  return s->has_canary || s->mirror || s->gateway || json_array_size(s->hosts) > 0;
}
