/* Validation of Project objects beyond what the CRD's schema can say, and
 * who may change what (docs/project.md#who-may-change-what):
 *   - the fields only a cluster admin may change (project_tenancy_changes:
 *     namespaces, quota, resource group, priority, queue, deletion policy)
 *     are changed only by a requester the API server allows the verb
 *     "manage" on projects.cubit.dev/<name> (a SubjectAccessReview with the
 *     request's userInfo, through env->authorize); a project admin changes
 *     members, displayName and volumes;
 *   - quantities parse, namespaces are valid names, not system ones, and a
 *     namespace added belongs to no other project.
 * Total over any JSON: an object without a name or a spec is refused with
 * a reason, never crashes. */
#ifndef CUBIT_WEBHOOKS_VALIDATE_PROJECT_H
#define CUBIT_WEBHOOKS_VALIDATE_PROJECT_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* Returns 0 when project may be stored (old: the stored version on an
 * update, else NULL), else CUBIT_EINVAL with the reason in err. */
int validate_project(const webhook_env *env, const json_t *old, const json_t *project, char *err,
                     size_t errlen) CUBIT_WUR;
void validate_project_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
