/* Validation of TrainingJobs beyond the CRD's schema and CEL rules: the
 * resource quantities parse, and each role's GPU request is valid in Cubit's
 * grammar and translatable by the cluster's GPU profile (a fraction on a
 * whole-card cluster is refused here, not later at pod creation). */
#ifndef CUBIT_WEBHOOKS_VALIDATE_TRAININGJOB_H
#define CUBIT_WEBHOOKS_VALIDATE_TRAININGJOB_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

int validate_trainingjob(const webhook_env *env, const json_t *tj, char *err, size_t errlen) CUBIT_WUR;
void validate_trainingjob_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
