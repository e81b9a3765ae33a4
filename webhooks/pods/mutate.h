/* The mutating webhook for pods and workloads in project namespaces.
 *
 * Pods: the creator is recorded (annotation cubit.dev/user); the project's
 * defaults are injected (node selector, tolerations, priority class, the
 * shared and personal volumes); the GPU grammar is translated into the
 * resources of the cluster's GPU-sharing system, with a node selector for a
 * requested model and NVIDIA_VISIBLE_DEVICES=none for pods without a GPU;
 * and pods of multi-pod jobs get the gang scheduler's marks.
 *
 * Workloads (Job, TFJob, PyTorchJob, MPIJob, XGBoostJob, Volcano Job,
 * TrainingJob) and every other cubit.dev object: the creator is recorded on
 * the object and on its pod templates, so the pods the operators and Cubit's
 * controllers create later carry it too. */
#ifndef CUBIT_WEBHOOKS_PODS_MUTATE_H
#define CUBIT_WEBHOOKS_PODS_MUTATE_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* Mutates pod (a mutable copy) for its project. Returns 0, or CUBIT_EINVAL
 * with a message (bad GPU string, unknown model) for a denial. */
int pods_mutate(const webhook_env *env, const json_t *project, const char *username, json_t *pod, char *err,
                size_t errlen) CUBIT_WUR;

/* Admission handlers (arg: webhook_env). */
void pods_mutate_handler(const adm_request *req, adm_response *resp, void *arg);
void workloads_mutate_handler(const adm_request *req, adm_response *resp, void *arg);

/* Adds "replace" operations for every top-level field of 'after' that
 * differs from 'before' (metadata, spec). */
void pods_patch_diff(adm_response *resp, const json_t *before, const json_t *after);

#endif
