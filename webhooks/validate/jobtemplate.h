/* Validation of JobTemplates and ClusterJobTemplates: typed parameters
 * (defaults of their type, enums, ranges), outputs, and a workload whose
 * {{...}} references are known (params.X of a declared parameter, run.*,
 * tasks.T.outputs.Y) and which, with each parameter's default in place, is a
 * valid TrainingJob spec. */
#ifndef CUBIT_WEBHOOKS_VALIDATE_JOBTEMPLATE_H
#define CUBIT_WEBHOOKS_VALIDATE_JOBTEMPLATE_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

int validate_jobtemplate(const webhook_env *env, const json_t *tmpl, char *err, size_t errlen) CUBIT_WUR;
void validate_jobtemplate_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
