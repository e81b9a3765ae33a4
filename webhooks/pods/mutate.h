/* The mutating webhook for pods and workloads in project namespaces.
 *
 * The creator (annotation cubit.dev/user) comes from the request's
 * userInfo, whatever the object says, except when a propagator (Cubit's
 * manager, a workload controller: webhook_identities) creates it on a
 * user's behalf and passes the creator on; once recorded it never changes
 * (an update puts the old value back).
 *
 * Pods, on creation: the creator is recorded; the project's defaults are
 * injected (node selector, tolerations, priority class, the shared and
 * personal volumes); the GPU grammar is translated into the resources of
 * the cluster's GPU-sharing system, with a node selector for a requested
 * model; every container without a GPU resource gets
 * NVIDIA_VISIBLE_DEVICES=none and every container with one loses its own
 * NVIDIA_VISIBLE_DEVICES, whatever the user set (an envFrom that could set
 * it in a GPU container is refused, and so is the uncharged shared request
 * "-1" unless the Project's quota.allowSharedGPU says yes); and pods of multi-pod jobs
 * get the gang scheduler's marks. Ephemeral containers added later
 * (pods/ephemeralcontainers) get NVIDIA_VISIBLE_DEVICES=none.
 *
 * Objects with pod templates (Job, CronJob, Deployment, StatefulSet,
 * ReplicaSet, DaemonSet, ReplicationController, TFJob, PyTorchJob, MPIJob,
 * XGBoostJob, Volcano Job) and every cubit.dev object, on creation and
 * update: the creator is recorded on the object and its pod templates, so
 * the pods their controllers make carry it too. */
#ifndef CUBIT_WEBHOOKS_PODS_MUTATE_H
#define CUBIT_WEBHOOKS_PODS_MUTATE_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* The creator a request records: the old object's on an update that had
 * one; the object's own when a propagator makes it (may be NULL); else the
 * requester. Borrowed from req. */
const char *pods_creator(const webhook_env *env, const adm_request *req);

/* Mutates pod (a mutable copy) for its project, recording creator (NULL:
 * none). Returns 0, or CUBIT_EINVAL with a message (bad GPU string, unknown
 * model) for a denial. */
int pods_mutate(const webhook_env *env, const json_t *project, const char *creator, json_t *pod, char *err,
                size_t errlen) CUBIT_WUR;

/* Admission handlers (arg: webhook_env). */
void pods_mutate_handler(const adm_request *req, adm_response *resp, void *arg);
void workloads_mutate_handler(const adm_request *req, adm_response *resp, void *arg);

/* Adds "replace" operations for every top-level field of 'after' that
 * differs from 'before' (metadata, spec). */
void pods_patch_diff(adm_response *resp, const json_t *before, const json_t *after);

#endif
