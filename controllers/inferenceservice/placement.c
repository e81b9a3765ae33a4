/* What an InferenceService needs of the cluster it is placed on besides
 * room (docs/multicluster.md "Placement"), pure. What it asks for at once is
 * api/inferenceservice (isvc_demand_of, shared with the quota webhook); the
 * choice between clusters is api/cluster/placement.c; the plan steps are
 * controllers/cluster/placement.c. */
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"

int isvc_wants_istio(const inference_spec *s) {
  return s->has_canary || s->mirror || s->gateway || json_array_size(s->hosts) > 0;
}
