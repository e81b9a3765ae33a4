/* What a TrainingJob asks of the cluster it is placed on (docs/multicluster.md
 * "Placement"), pure: its whole gang at once. The choice between clusters is
 * api/cluster/placement.c. */
#include <string.h>

#include "controllers/trainingjob/trainingjob.h"

void tj_demand_of(const tj_spec *s, placement_demand *out) {
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < s->nroles; i++) {
    const tj_role *r = &s->roles[i];
    int pods = s->framework == TJ_BATCH && r->parallelism ? r->parallelism : r->replicas;
    placement_demand_add(out, r->resources, pods);
  }
}
