/* Validation of Notebook objects beyond what the CRD's schema and CEL
 * rules can say: quantities that parse, a GPU request in Cubit's grammar
 * that the cluster's GPU profile can translate, environment variables set
 * once, mount paths used once. */
#ifndef CUBIT_WEBHOOKS_VALIDATE_NOTEBOOK_H
#define CUBIT_WEBHOOKS_VALIDATE_NOTEBOOK_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* Returns 0 when nb may be stored, else CUBIT_EINVAL with a message naming
 * the field ("spec.resources.gpu: ..."). */
int validate_notebook(const webhook_env *env, const json_t *nb, char *err, size_t errlen) CUBIT_WUR;
void validate_notebook_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
