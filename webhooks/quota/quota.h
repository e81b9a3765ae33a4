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
 * the cluster it lands in (spec.clusters[i].quota): a TrainingJob's,
 * Notebook's or InferenceService's pinned or placed cluster, anything else
 * the hub ("local"). A Notebook or InferenceService pinned to a member is
 * judged at creation and update as a whole (quota_service_whole: its pods
 * are made in the member, where no webhook runs); one in the hub by its
 * pods. A placement (a status write that sets or changes status.cluster of
 * a TrainingJob, Notebook or InferenceService: the /status subresource) is
 * judged against the landing cluster's quota (and, for a service, the
 * total) under the same lock; a status write that leaves status.cluster
 * alone is never refused.
 * An admitted creation or increase of a pod, workload or service, and an
 * admitted placement, is reserved in the cluster it lands in until the
 * cache shows it there (reserve.h); a dry run is judged and reserves
 * nothing.
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

/* The kind numbers of reservations (reserve.h): -1 a pod, a workload
 * index, then the apps kinds, then the services (SVC_*). */
#define QUOTA_KIND_SERVICE(svc) (WL_COUNT + APPS_COUNT + (svc))

/* What a Notebook or InferenceService (svc: SVC_*) holds in a member it is
 * placed on, as a whole: the placement demand (api/cluster/placement.h) of
 * its one pod, or of its replica floor in force at 'now' (epoch seconds);
 * nothing when stopped or being deleted. 0, or CUBIT_EINVAL with err when
 * its spec does not read. */
int quota_service_whole(const webhook_env *env, int svc, const json_t *obj, int64_t now, usage *out, char *err,
                        size_t errlen) CUBIT_WUR;

/* The cluster an object of reservation kind 'kind' (borrowed) lands in, as
 * far as quota is concerned: a TrainingJob's or service's
 * project_job_cluster (NULL while waiting for placement), anything else
 * "local". */
const char *quota_cluster_of(int kind, const json_t *obj);

/* What a project holds now (see above). When user is not NULL, *member
 * receives the same for that member's objects alone. */
void quota_committed(const webhook_env *env, const json_t *project, const char *user, usage *proj, usage *member);

/* What a project holds in every cluster it spans (docs/multicluster.md
 * "Quota across clusters"): the hub's objects as quota_committed counts
 * them, plus, in each member of spec.clusters, what the hub's cache of that
 * member shows beyond the hub's TrainingJobs placed there (its pods that
 * are no such job's, and a job's pods beyond its gang), and the hub's
 * Notebooks and InferenceServices placed there, each counted once: its
 * whole (quota_service_whole) or its pods there, whichever holds more. A
 * TrainingJob is in the cluster project_job_cluster names; one waiting to
 * be placed is in the total only (a service waiting: nowhere). */
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
