/* What a pod and a workload consume, in the units of a Project's quota.
 *
 * A pod's usage is its effective request as Kubernetes computes it
 * (k8s.io/component-helpers resource.PodRequests, KEP-753 for sidecars):
 *   containers  the sum over spec.containers
 *   init        each init container in order: a restartable one
 *               (restartPolicy: Always, a sidecar) is added to the sum and
 *               to the sidecars started so far; an ordinary one needs
 *               itself plus those sidecars; the pod needs the largest such
 *   pod         max(containers, init) per resource, then pod-level
 *               spec.resources (cpu, memory) when set, plus spec.overhead
 * A container's request of a resource defaults to its limit when only the
 * limit is given (API defaulting, which a template in a custom resource has
 * not had). Quantities are exact (util/quantity): cpu in millicores and
 * memory in bytes, rounded up.
 *
 * GPUs count in thousandths of a card through gpu_cards_milli and GPU
 * memory through gpu_memory_bytes, per container, across every sharing
 * system. A request in Cubit's grammar that the mutating webhook has not
 * translated yet counts as its translation through the profile would: a
 * container's cubit.dev/gpu limit (or request), or the pod annotation
 * cubit.dev/gpu, which is the GPU request of the first container when that
 * container carries no GPU resource of its own. The card model that sizes
 * memory is the request's, else the pod's node selector on the profile's
 * modelLabel, else the profile's default model.
 *
 * A workload counts as the whole gang at once, since a partial gang only
 * deadlocks: see usage_of_object. Nothing here allocates except small
 * temporary JSON maps (jansson; CUBIT_ENOMEM when they fail). */
#ifndef CUBIT_API_USAGE_H
#define CUBIT_API_USAGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "api/gpu/gpu.h"

/* Every field is >= 0; arithmetic saturates at INT64_MAX. */
typedef struct usage {
  int64_t cpu_milli;
  int64_t memory_bytes;
  int64_t gpu_milli; /* thousandths of a card */
  int64_t gpu_memory_bytes;
  int64_t pods;
} usage;

typedef enum { USAGE_CPU = 0, USAGE_MEMORY, USAGE_GPU, USAGE_GPU_MEMORY, USAGE_PODS, USAGE_NFIELDS } usage_field;

#define USAGE_STRLEN 64 /* room for usage_format */

/* The quota field names of a Project: "cpu", "memory", "gpu", "gpuMemory", "pods". */
const char *usage_field_name(usage_field f);
int64_t usage_get(const usage *u, usage_field f);
void usage_set(usage *u, usage_field f, int64_t v);

/* a += b; a -= b (floored at 0); u *= n (n >= 0); a = max(a, b), per field. */
void usage_add(usage *a, const usage *b);
void usage_sub(usage *a, const usage *b);
void usage_scale(usage *u, int64_t n);
void usage_max(usage *a, const usage *b);
/* 1 when a <= limit in every field; 1 when every field of u is 0. */
int usage_within(const usage *a, const usage *limit);
int usage_is_zero(const usage *u);

/* A field's value as the quota writes it: cpu "1500m" or "2"; memory and
 * gpuMemory as apimachinery writes a BinarySI quantity ("3Gi", "1536Mi",
 * "1023", "1k"); gpu "0.5"; pods "3". */
void usage_format(usage_field f, int64_t v, char out[USAGE_STRLEN]);

/* Returns 1 when adding req to used goes over quota in a field that req
 * uses (req > 0) and whose quota is set (mask field non-zero; a quota of 0
 * is meaningful), else 0. which (may be NULL) receives every such field as
 *   gpu: requested 1, used 2, quota 2
 * joined with "; ", or "" when none. */
int usage_exceeds(const usage *used, const usage *req, const usage *quota, const usage *quota_set_mask, char *which,
                  size_t whichlen);

/* Reads a quota object (borrowed: a Project's spec.quota or
 * spec.quota.perMember) with fields cpu, memory, gpu, gpuMemory (quantity
 * strings or integers; gpu in cards, "7.5") and pods (an integer). Other
 * fields are ignored. *mask has 1 in every field that is set. Errors name
 * the field under 'where': "spec.quota.gpu: ...". Returns 0 or CUBIT_EINVAL. */
int usage_parse_quota(const json_t *quota, const char *where, usage *out, usage *mask, char *err,
                      size_t errlen) CUBIT_WUR;

/* {"cpu": "1500m", "memory": "3Gi", "gpu": "2.5", "gpuMemory": "16Gi",
 * "pods": 3}, a Project's status.used; a new reference (NULL when out of
 * memory). */
json_t *usage_to_json(const usage *u);

/* Usage of one pod: spec and annotations (metadata.annotations, may be
 * NULL) are borrowed. Returns 0, CUBIT_EINVAL (a quantity that does not
 * parse, a GPU request that is invalid or that the profile cannot
 * translate; err names the field) or CUBIT_ENOMEM. */
int usage_of_pod_spec(const json_t *spec, const json_t *annotations, const gpu_profile *p, usage *out, char *err,
                      size_t errlen) CUBIT_WUR;

/* Usage of a whole object (borrowed) of the given API group and kind:
 *   ""/Pod                            the pod
 *   batch/Job                         template x min(parallelism (default 1),
 *                                     completions when set)
 *   kubeflow.org/TFJob, PyTorchJob,   sum over spec.tfReplicaSpecs,
 *   XGBoostJob, MPIJob                pytorchReplicaSpecs, xgbReplicaSpecs,
 *                                     mpiReplicaSpecs of replicas (default 1)
 *                                     x template
 *   batch.volcano.sh/Job              sum over spec.tasks of replicas x template
 *   cubit.dev/TrainingJob             sum over spec.roles (name -> {replicas
 *                                     (default 1), resources {cpu, memory,
 *                                     gpu (grammar)}}) of replicas x resources
 *   apps/Deployment, StatefulSet,     replicas (default 1) x template (what
 *   ReplicaSet                        scaling asks for; their pods are
 *                                     what quota counts)
 * pods counts the pods that run at once. Unknown kinds are CUBIT_ENOTSUP;
 * other errors as usage_of_pod_spec, with err naming the field from the
 * object's root. */
int usage_of_object(const char *group, const char *kind, const json_t *obj, const gpu_profile *p, usage *out,
                    char *err, size_t errlen) CUBIT_WUR;

#endif
