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
 * In a project spanning clusters (quota_held_by) the total counts every
 * member's pods too, and a request is also judged against the quota of
 * the cluster it lands in (spec.clusters[i].quota): a TrainingJob's pinned
 * or placed cluster (a job left to placement is judged there), anything
 * else the hub ("local").
 * An admitted creation or increase of a pod or workload is reserved until
 * the cache shows it (reserve.h); a dry run is judged and reserves nothing.
 * Per-member limits count each object against its creator: the requester,
 * or the cubit.dev/user a propagator (webhook_identities) passes on. */
#ifndef CUBIT_WEBHOOKS_QUOTA_H
#define CUBIT_WEBHOOKS_QUOTA_H

#include "api/project/project.h"
#include "webhooks/admission.h"
#include "webhooks/env.h"

/* How far a chain of controlling workloads is followed (TrainingJob ->
 * PyTorchJob -> Pod is two steps, TrainingJob -> RayJob -> RayCluster ->
 * Pod three). */
#define QUOTA_MAX_DEPTH 4

/* What a project holds now (see above). When user is not NULL, *member
 * receives the same for that member's objects alone. */
void quota_committed(const webhook_env *env, const json_t *project, const char *user, usage *proj, usage *member);

/* What a project holds in every cluster it spans (docs/multicluster.md
 * "Quota across clusters"): the hub's objects as quota_committed counts
 * them, plus, in each member of spec.clusters, what the hub's cache of that
 * member shows beyond the hub's TrainingJobs placed there (its pods that
 * are no such job's, and a job's pods beyond its gang). A TrainingJob is
 * in the cluster project_job_cluster names; one waiting to be placed is in
 * the total only. */
typedef struct quota_held {
  usage total;                     /* every cluster's */
  usage member;                    /* the given member's (user's) own, in every cluster */
  usage in[PROJECT_MAX_CLUSTERS];  /* per spec.clusters[i] */
} quota_held;

/* Fills *out for project (borrowed) and its parsed spec; user as in
 * quota_committed (NULL: member is zero). */
void quota_held_by(const webhook_env *env, const json_t *project, const project_spec *spec, const char *user,
                   quota_held *out);

/* 1 when a workload object has finished (its pods no longer count). */
int quota_workload_finished(int workload, const json_t *obj);

/* The admission handler (arg: webhook_env). */
void quota_validate(const adm_request *req, adm_response *resp, void *arg);

#endif
