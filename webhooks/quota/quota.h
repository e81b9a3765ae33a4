/* The quota webhook: creating a Pod or a gang workload in a project's
 * namespace is denied when what the project already holds, plus what
 * admission has just allowed, plus the whole request exceeds its quota. */
#ifndef CUBIT_WEBHOOKS_QUOTA_H
#define CUBIT_WEBHOOKS_QUOTA_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* What a project holds now: pending and running pods that no counted
 * workload owns, plus every unfinished workload's whole gang (a workload's
 * pods may not exist yet, but its quota is spoken for). When user is not
 * NULL, *member receives the same for that member's objects alone. */
void quota_committed(const webhook_env *env, const json_t *project, const char *user, usage *proj, usage *member);

/* 1 when a workload object has finished (its pods no longer count). */
int quota_workload_finished(int workload, const json_t *obj);

/* The admission handler (arg: webhook_env). */
void quota_validate(const adm_request *req, adm_response *resp, void *arg);

#endif
