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
void validate_pipelinerun_handler(const adm_request *req, adm_response *resp, void *arg);

#endif
