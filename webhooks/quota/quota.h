/* The quota webhook: a Project's quota holds whatever creates the pods.
 *
 * What a project holds (quota_committed) is every pending or running pod
 * of its namespaces and every unfinished workload's whole gang, each object
 * counted once:
 *   - a workload (Job, TFJob & co., Volcano Job, TrainingJob) holds the
 *     larger, per resource, of its whole gang and what the objects it
 *     controls hold: pods claiming it beyond its gang (a forged
 *     ownerReference) are charged all the same;
 *   - a link (RayJob, RayCluster, SparkApplication, and a Spark driver pod
 *     for its executors: env.h) holds what it controls, so a TrainingJob's
 *     Ray or Spark pods fall within the TrainingJob's charge;
 *   - an object is part of its controller's charge only when that
 *     controller is unfinished, in the cache with the uid the reference
 *     names, records the same creator (cubit.dev/user; an executor may
 *     record its driver's service account instead) and itself leads to an
 *     uncontrolled workload or link within four steps, without a cycle;
 *     every other object is charged by itself, to its own creator.
 * What is judged (quota_validate):
 *   - creating a Pod, a workload, a Deployment or a StatefulSet: all it asks
 *     for, unless it is created by the controller of the unfinished workload
 *     or link it claims (webhook_identities; for an executor, the service
 *     account its driver runs as) and fits in what that workload, or the
 *     workload above the link, holds;
 *   - updating a workload, a Deployment or a StatefulSet (their scale
 *     subresource too) or resizing a pod (pods/resize): the increase, per
 *     resource, with the same exception.
 * Deployments and StatefulSets are judged but not counted (their pods are).
 * An admitted creation or increase of a pod or workload is reserved until
 * the cache shows it (reserve.h); a dry run is judged and reserves nothing.
 * Per-member limits count each object against its creator: the requester,
 * or the cubit.dev/user a propagator (webhook_identities) passes on. */
#ifndef CUBIT_WEBHOOKS_QUOTA_H
#define CUBIT_WEBHOOKS_QUOTA_H

#include "webhooks/admission.h"
#include "webhooks/env.h"

/* How far a chain of controlling workloads is followed (TrainingJob ->
 * PyTorchJob -> Pod is two steps, TrainingJob -> RayJob -> RayCluster ->
 * Pod three). */
#define QUOTA_MAX_DEPTH 4

/* What a project holds now (see above). When user is not NULL, *member
 * receives the same for that member's objects alone. */
void quota_committed(const webhook_env *env, const json_t *project, const char *user, usage *proj, usage *member);

/* 1 when a workload object has finished (its pods no longer count). */
int quota_workload_finished(int workload, const json_t *obj);

/* The admission handler (arg: webhook_env). */
void quota_validate(const adm_request *req, adm_response *resp, void *arg);

#endif
