/* Validation of InferenceService objects beyond what the CRD's schema and
 * CEL rules can say: the GPU grammar, quantities, model URIs, time zones
 * that exist in the tz database, and schedule windows that overlap (also
 * across zones and midnight). The controller's own spec parser decides,
 * so admission and reconcile agree. */
#ifndef CUBIT_WEBHOOKS_VALIDATE_INFERENCESERVICE_H
#define CUBIT_WEBHOOKS_VALIDATE_INFERENCESERVICE_H

#include <stdint.h>

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* Returns 0 when isvc may be stored, else CUBIT_EINVAL with a message
 * naming the field. 'now' (epoch seconds) anchors the overlap check of
 * windows in different zones. */
int validate_inferenceservice(const json_t *isvc, int64_t now, char *err,
                              size_t errlen) CUBIT_WUR;
void validate_inferenceservice_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
