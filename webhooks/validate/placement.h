/* Validation of spec.cluster, shared by every kind that can be placed in a
 * member cluster (TrainingJob, Notebook, InferenceService). */
#ifndef CUBIT_WEBHOOKS_VALIDATE_PLACEMENT_H
#define CUBIT_WEBHOOKS_VALIDATE_PLACEMENT_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* spec.cluster: "local" or one of the namespace's project's spec.clusters,
 * and on an object already placed (old's status.cluster) that cluster; an
 * unchanged value is not judged again. old is NULL on CREATE. */
int validate_placement_cluster(const webhook_env *env, const json_t *obj, const json_t *old, char *err,
                               size_t errlen) CUBIT_WUR;

#endif
