/* Validation of Project objects beyond what the CRD's schema can say:
 * quantities that parse, and namespaces that belong to no other project. */
#ifndef CUBIT_WEBHOOKS_VALIDATE_PROJECT_H
#define CUBIT_WEBHOOKS_VALIDATE_PROJECT_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* Returns 0 when project may be stored, else CUBIT_EINVAL with the reason. */
int validate_project(const webhook_env *env, const json_t *project, char *err, size_t errlen) CUBIT_WUR;
void validate_project_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
