/* Cubit's admission webhooks, registered on the manager's webhook server:
 *   POST /mutate-pods        pods in project namespaces (mutating)
 *   POST /mutate-workloads   Jobs, TFJob & co., Volcano Jobs, TrainingJobs (mutating)
 *   POST /validate-quota     pods and workloads against project quotas (validating)
 *   POST /validate-projects  Project objects (validating)
 *   POST /validate-trainingjobs  TrainingJobs: quantities and GPU requests (validating)
 *   POST /validate-inferenceservices  InferenceService objects (validating)
 *   POST /validate-jobtemplates  JobTemplates and ClusterJobTemplates (validating)
 *   POST /validate-pipelines     Pipelines: DAG, schedule, templates (validating)
 *   POST /validate-pipelineruns  PipelineRuns: parameters against the pipeline (validating)
 *   POST /validate-experiments   Experiments: the search space, algorithm, template (validating)
 * The matching Mutating/ValidatingWebhookConfiguration is in config/webhook/. */
#ifndef CUBIT_WEBHOOKS_H
#define CUBIT_WEBHOOKS_H

#include "runtime/manager.h"
#include "webhooks/env.h"

typedef struct webhooks webhooks;

/* Builds the env from the manager's shared informers (registering the ones
 * the handlers read) and serves the routes when the manager has a webhook
 * server. gpu and gang come from the manager's configuration; 'history'
 * says the run history is on (here or in its own Deployment), so runs are
 * created with its finalizer. */
int webhooks_register(rt_manager *m, const gpu_profile *gpu, const gang_config *gang, int history,
                      webhooks **out) CUBIT_WUR;
void webhooks_free(webhooks *w);

#endif
