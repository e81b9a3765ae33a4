/* Validation of Experiments beyond the CRD's schema: the search space, the
 * objective, the algorithm and its settings, early stopping (api/experiment's
 * parsers, messages naming spec.parameters[1].max and the like), the
 * {{trial.*}} references of the trial template, the bindings against the
 * template's parameters when the template is known, and the TrainingJob a
 * trial would be (made for a point of the space and checked as the
 * TrainingJob webhook does). */
#ifndef CUBIT_WEBHOOKS_VALIDATE_EXPERIMENT_H
#define CUBIT_WEBHOOKS_VALIDATE_EXPERIMENT_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* env may be NULL (no template lookups: the bindings are checked when the
 * controller makes a trial). */
int validate_experiment(const webhook_env *env, const json_t *exp, char *err, size_t errlen) CUBIT_WUR;
void validate_experiment_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
