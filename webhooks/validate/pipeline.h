/* Validation of Pipelines and PipelineRuns beyond the CRD's schema and CEL
 * rules: the DAG (duplicate tasks, unknown dependencies, cycles named by
 * their tasks), `when` expressions and {{...}} references, the schedule's
 * cron and time zone, and every task against its template (the template
 * exists, parameters are declared and of their type, outputs used exist);
 * a run's parameters against its pipeline's. */
#ifndef CUBIT_WEBHOOKS_VALIDATE_PIPELINE_H
#define CUBIT_WEBHOOKS_VALIDATE_PIPELINE_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

int validate_pipeline(const webhook_env *env, const json_t *pipeline, char *err, size_t errlen) CUBIT_WUR;
void validate_pipeline_handler(const adm_request *req, adm_response *resp, void *arg);
int validate_pipelinerun(const webhook_env *env, const json_t *run, char *err, size_t errlen) CUBIT_WUR;
/* An update of a run: spec.params must stay as they were (absent and {}
 * alike). CEL in the CRD fixes spec.pipelineRef and spec.scheduledTime but
 * cannot type the free-form parameter values, so this is where params are
 * kept; spec.stopped may change. CUBIT_EINVAL with the message. */
int validate_pipelinerun_update(const json_t *old, const json_t *run, char *err, size_t errlen) CUBIT_WUR;
void validate_pipelinerun_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
