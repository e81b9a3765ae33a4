#include "runtime/fields.h"

#include <string.h>

#include "runtime/apply.h"

/* Pods: read by the notebook, trainingjob, inferenceservice, pipelinerun and
 * project controllers, the history recorder and the quota webhook for their
 * state (phase, conditions, container states with reasons and exit codes),
 * what they use (resources of containers and init containers, the pod-level
 * resources and overhead, the GPU model from the node selector), where
 * they run and, for a Spark driver, the service account its executors are
 * created as (the quota webhook). Images, commands, env, volumes, probes and the rest of the spec
 * are written by the workload controllers and read by no one here. */
static const char *const pod_fields[] = {
    "metadata",
    "spec.nodeName",
    "spec.nodeSelector",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.resources",
    "spec.overhead",
    "spec.containers[].name",
    "spec.containers[].resources",
    "spec.initContainers[].name",
    "spec.initContainers[].resources",
    "spec.initContainers[].restartPolicy",
    "status.phase",
    "status.reason",
    "status.message",
    "status.podIP",
    "status.startTime",
    "status.conditions",
    "status.containerStatuses[].name",
    "status.containerStatuses[].ready",
    "status.containerStatuses[].restartCount",
    "status.containerStatuses[].state",
    "status.containerStatuses[].lastState",
    "status.initContainerStatuses[].name",
    "status.initContainerStatuses[].ready",
    "status.initContainerStatuses[].restartCount",
    "status.initContainerStatuses[].state",
    "status.initContainerStatuses[].lastState",
    NULL};

/* CustomResourceDefinitions: the manager watches them only to notice an API
 * appearing or going (group, plural, served versions, Established). Their
 * OpenAPI schemas are most of their size (hundreds of KiB for some
 * upstream CRDs). */
static const char *const crd_fields[] = {
    "metadata",
    "spec.group",
    "spec.names",
    "spec.scope",
    "spec.versions[].name",
    "spec.versions[].served",
    "spec.versions[].storage",
    "status.conditions",
    "status.acceptedNames",
    NULL};

/* Events: only the workload controllers' FailedCreate ones are watched
 * (rt_cached_selector): which object could not create its pods, and the
 * API server's words why. A member's Warning Events too
 * (runtime/member_events.h): the same, and the involved object's API group
 * to find it among the member's caches. */
static const char *const event_fields[] = {
    "metadata",
    "involvedObject.apiVersion",
    "involvedObject.namespace",
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.uid",
    "reason",
    "message",
    "type",
    "count",
    "firstTimestamp",
    "lastTimestamp",
    "eventTime",
    "series.lastObservedTime",
    NULL};

/* Children Cubit applies (server-side apply, field manager cubit-manager)
 * and nobody else writes: their readers read metadata (owners, labels, the
 * cubit.dev/applied digest) and status; rt_apply_would_write reads the
 * fields Cubit applied, which their managedFields name (rt_cached_applier).
 * What the API server defaults (a StatefulSet's pod template is half
 * defaults), the cluster IPs and the rest of the spec are read by no one. */
static const char *const child_fields[] = {"metadata", "status", NULL};

static int same(const kube_resource *a, const kube_resource *b) {
  return strcmp(a->group, b->group) == 0 && strcmp(a->resource, b->resource) == 0;
}

/* The notebook's children; the InferenceService's Services and
 * VirtualServices and the project's and pipeline's claims among them. */
static int applied_child(const kube_resource *r) {
  static const kube_resource istio_vs = {"networking.istio.io", "v1", "virtualservices", "VirtualService", 1};
  return same(r, &kube_statefulsets) || same(r, &kube_services) || same(r, &kube_pvcs) || same(r, &kube_ingresses) ||
         same(r, &istio_vs);
}

const char *const *rt_cached_fields(const kube_resource *r) {
  if (same(r, &kube_pods)) return pod_fields;
  if (same(r, &kube_crds)) return crd_fields;
  if (same(r, &kube_events)) return event_fields;
  if (applied_child(r)) return child_fields;
  return NULL;
}

long rt_cached_page_size(const kube_resource *r) {
  /* A CustomResourceDefinition is up to hundreds of KiB of schema, all of it
   * decoded before it is cut to crd_fields: five a page keeps a start's
   * transient heap to a few MiB however many CRDs the cluster serves. */
  if (same(r, &kube_crds)) return 5;
  return 0;
}

const char *rt_cached_applier(const kube_resource *r) {
  return applied_child(r) ? RT_FIELD_MANAGER : NULL;
}

const char *rt_cached_selector(const kube_resource *r) {
  /* Events are many and mostly someone else's: the cache holds only the
   * refusals of a Job, StatefulSet or ReplicaSet to create a pod. Cubit's
   * own FailedCreate Warnings (on a TrainingJob that quotes such a refusal)
   * are left out: caching them would only wake their job once more. */
  if (same(r, &kube_events)) return "reason=FailedCreate,involvedObject.apiVersion!=cubit.dev/v1alpha1";
  return NULL;
}
