/* cluster_plan: a member's status from what its probe answered and what
 * its caches hold. Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/usage/usage.h"
#include "controllers/cluster/cluster.h"
#include "runtime/conditions.h"
#include "runtime/status.h"
#include "util/json.h"
#include "util/quantity.h"

/* ------------------------------------------------------------ capacity */

static int node_counts(const json_t *node) {
  if (js_bool(node, "spec.unschedulable", 0)) return 0;
  size_t i;
  json_t *c;
  json_array_foreach(js_get(node, "status.conditions"), i, c) {
    const char *type = js_str(c, "type"), *st = js_str(c, "status");
    if (type && strcmp(type, "Ready") == 0) return st && strcmp(st, "True") == 0;
  }
  return 0;
}

/* An allocatable quantity in thousandths (scale -3) or units. */
static int64_t allocatable(const json_t *node, const char *resource, int milli) {
  const char *s = json_string_value(json_object_get(js_get(node, "status.allocatable"), resource));
  quantity q;
  if (s == NULL || quantity_parse(s, &q)) return 0;
  return milli ? quantity_milli_value(&q) : quantity_value(&q);
}

static int64_t node_gpu_milli(const json_t *node, gpu_system sys) {
  switch (sys) {
    case GPU_SYSTEM_VCUDA: return allocatable(node, "tencent.com/vcuda-core", 1) / 100;
    case GPU_SYSTEM_VOLCANO_VGPU: return allocatable(node, "volcano.sh/vgpu-cores", 1) / 100;
    case GPU_SYSTEM_NVIDIA:
    case GPU_SYSTEM_HAMI: break;
  }
  return allocatable(node, "nvidia.com/gpu", 1);
}

static const char *node_model(const json_t *node, const gpu_profile *gpu) {
  const json_t *labels = js_get(node, "metadata.labels");
  /* The profile's label first; then what NVIDIA's GPU feature discovery
   * and Cubit's own fake nodes write, for members labelled otherwise. */
  const char *keys[] = {gpu_profile_model_label(gpu), "nvidia.com/gpu.product", "cubit.dev/gpu-model"};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    const char *m = json_string_value(json_object_get(labels, keys[i]));
    if (m) return m;
  }
  return "";
}

static cluster_gpu_model *model_slot(cluster_capacity *out, const char *model) {
  for (size_t i = 0; i < out->nmodels; i++)
    if (strcmp(out->models[i].model, model) == 0) return &out->models[i];
  if (out->nmodels == CLUSTER_MAX_MODELS) return NULL; /* more models than any cluster has: not itemised */
  cluster_gpu_model *g = &out->models[out->nmodels++];
  snprintf(g->model, sizeof(g->model), "%s", model);
  return g;
}

static int by_model(const void *a, const void *b) {
  return strcmp(((const cluster_gpu_model *)a)->model, ((const cluster_gpu_model *)b)->model);
}

static int pod_finished(const json_t *pod) {
  const char *phase = js_str(pod, "status.phase");
  return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

void cluster_capacity_of(json_t *const *nodes, size_t nnodes, json_t *const *pods, size_t npods,
                         const gpu_profile *gpu, cluster_capacity *out) {
  memset(out, 0, sizeof(*out));
  gpu_system sys = gpu_profile_system(gpu);
  /* The counted nodes' names and models, for the pods bound to them. */
  const char **names = calloc(nnodes + 1, sizeof(*names));
  const char **models = calloc(nnodes + 1, sizeof(*models));
  size_t counted = 0;
  for (size_t i = 0; names && models && i < nnodes; i++) {
    if (!node_counts(nodes[i])) continue;
    int64_t cards = node_gpu_milli(nodes[i], sys);
    out->nodes++;
    out->cpu_milli += allocatable(nodes[i], "cpu", 1);
    out->memory_bytes += allocatable(nodes[i], "memory", 0);
    out->gpu_milli += cards;
    names[counted] = js_name(nodes[i]);
    models[counted] = node_model(nodes[i], gpu);
    if (cards > 0) {
      cluster_gpu_model *g = model_slot(out, models[counted]);
      if (g) g->allocatable_milli += cards;
    }
    counted++;
  }
  for (size_t i = 0; names && models && i < npods; i++) {
    const char *node = js_str(pods[i], "spec.nodeName");
    if (node == NULL || pod_finished(pods[i])) continue;
    size_t n = 0;
    while (n < counted && strcmp(names[n], node) != 0) n++;
    if (n == counted) continue;
    usage u;
    char err[256];
    if (usage_of_pod_spec(js_get(pods[i], "spec"), js_get(pods[i], "metadata.annotations"), gpu, &u, err,
                          sizeof(err)))
      continue; /* a pod the API server admitted but our grammar cannot read: not ours to count */
    out->used_cpu_milli += u.cpu_milli;
    out->used_memory_bytes += u.memory_bytes;
    out->used_gpu_milli += u.gpu_milli;
    if (u.gpu_milli > 0) {
      cluster_gpu_model *g = model_slot(out, models[n]);
      if (g) g->used_milli += u.gpu_milli;
    }
  }
  free(names);
  free(models);
  qsort(out->models, out->nmodels, sizeof(out->models[0]), by_model);
}

typedef struct node_at {
  const char *name;
  size_t at;
  int of_model; /* its cards are of the model asked for */
} node_at;

static int by_node_name(const void *a, const void *b) {
  return strcmp(((const node_at *)a)->name, ((const node_at *)b)->name);
}

size_t cluster_nodes_free(json_t *const *nodes, size_t nnodes, json_t *const *pods, size_t npods,
                          const gpu_profile *gpu, const char *model, placement_node *out) {
  gpu_system sys = gpu_profile_system(gpu);
  node_at *index = calloc(nnodes + 1, sizeof(*index));
  if (index == NULL) return 0;
  size_t n = 0;
  for (size_t i = 0; i < nnodes; i++) {
    if (!node_counts(nodes[i])) continue;
    int of_model = model[0] == '\0' || strcmp(node_model(nodes[i], gpu), model) == 0;
    out[n] = (placement_node){allocatable(nodes[i], "cpu", 1), allocatable(nodes[i], "memory", 0),
                              of_model ? node_gpu_milli(nodes[i], sys) : 0};
    index[n] = (node_at){js_name(nodes[i]), n, of_model};
    n++;
  }
  qsort(index, n, sizeof(*index), by_node_name);
  for (size_t i = 0; i < npods; i++) {
    node_at key = {js_str(pods[i], "spec.nodeName"), 0, 0};
    if (key.name == NULL || pod_finished(pods[i])) continue;
    const node_at *hit = bsearch(&key, index, n, sizeof(*index), by_node_name);
    usage u;
    char err[256];
    if (hit == NULL || usage_of_pod_spec(js_get(pods[i], "spec"), js_get(pods[i], "metadata.annotations"), gpu, &u,
                                         err, sizeof(err)))
      continue;
    placement_node *f = &out[hit->at];
    f->free_cpu_milli -= u.cpu_milli;
    f->free_memory_bytes -= u.memory_bytes;
    if (hit->of_model) f->free_gpu_milli -= u.gpu_milli;
  }
  free(index);
  return n;
}

/* ------------------------------------------------------------ status */

static json_t *resources_json(int64_t cpu_milli, int64_t memory_bytes, int64_t gpu_milli) {
  char cpu[USAGE_STRLEN], mem[USAGE_STRLEN], gpu[GPU_MILLI_STRLEN];
  usage_format(USAGE_CPU, cpu_milli, cpu);
  usage_format(USAGE_MEMORY, memory_bytes, mem);
  gpu_format_milli(gpu_milli, gpu);
  return json_pack("{s:s, s:s, s:s}", "cpu", cpu, "memory", mem, "gpu", gpu);
}

static json_t *apis_json(const cluster_apis *a) {
  json_t *kinds = json_array();
  for (size_t i = 0; i < a->ntraining; i++) json_array_append_new(kinds, json_string(a->training_kinds[i]));
  return json_pack("{s:o, s:b, s:b, s:b, s:b}", "trainingOperator", kinds, "volcano", a->volcano, "istio",
                   a->istio, "kubeRay", a->kuberay, "sparkOperator", a->spark);
}

static void set_observed(json_t *status, const cluster_observed *in, const cluster_capacity *cap) {
  json_object_set_new(status, "kubernetesVersion", json_string(in->probe->version));
  json_object_set_new(status, "apis", apis_json(&in->probe->apis));
  json_object_set_new(status, "nodes", json_integer((json_int_t)cap->nodes));
  json_object_set_new(status, "allocatable", resources_json(cap->cpu_milli, cap->memory_bytes, cap->gpu_milli));
  json_object_set_new(status, "used",
                      resources_json(cap->used_cpu_milli, cap->used_memory_bytes, cap->used_gpu_milli));
  json_t *gpus = json_array();
  for (size_t i = 0; i < cap->nmodels; i++) {
    char a[GPU_MILLI_STRLEN], u[GPU_MILLI_STRLEN];
    gpu_format_milli(cap->models[i].allocatable_milli, a);
    gpu_format_milli(cap->models[i].used_milli, u);
    json_array_append_new(gpus, json_pack("{s:s, s:s, s:s}", "model", cap->models[i].model, "allocatable", a,
                                          "used", u));
  }
  json_object_set_new(status, "gpus", gpus);
}

/* The Ready condition's reason the plan was handed (the last one written). */
static const char *previous_reason(const json_t *cluster) {
  return js_str(rt_condition_get(json_object_get(cluster, "status"), "Ready"), "reason");
}

static void event_on_change(rt_plan *plan, const cluster_observed *in, const char *type, const char *reason,
                            const char *message) {
  const char *prev = previous_reason(in->cluster);
  if (prev && strcmp(prev, reason) == 0) return;
  rt_plan_event(plan, type, reason, "%s", message);
}

/* A probe that failed because of what the Secret holds, not the network:
 * its reason, or NULL. */
static const char *credentials_refused(const cluster_probe *p) {
  if (p->ok) return NULL;
  switch (p->code) {
    case CUBIT_EUNAUTHORIZED: return "Unauthorized";
    case CUBIT_EFORBIDDEN: return "Forbidden";
    case CUBIT_ETLS: return "TLSFailed";
    default: return NULL;
  }
}

void cluster_plan(const cluster_observed *in, rt_plan *plan) {
  json_t *status = rt_status_from(in->cluster);
  json_int_t gen = js_int(in->cluster, "metadata.generation", 0);
  if (in->spec && in->spec->labels) json_object_set_new(status, "labels", json_deep_copy(in->spec->labels));
  else json_object_del(status, "labels");

  if (in->spec == NULL) {
    rt_status_set_state(status, "Invalid", RT_STATE_FAILED, "InvalidSpec", in->spec_error, gen, in->now);
    event_on_change(plan, in, "Warning", "InvalidSpec", in->spec_error);
  } else if (in->config_reason) {
    rt_status_set_state(status, "Invalid", RT_STATE_FAILED, in->config_reason, in->config_error, gen, in->now);
    event_on_change(plan, in, "Warning", in->config_reason, in->config_error);
    /* Secrets are read, not watched: look again for the one being fixed. */
    rt_plan_requeue_after(plan, CLUSTER_PROBE_RETRY_MS * 2);
  } else if (credentials_refused(in->probe)) {
    const char *reason = credentials_refused(in->probe);
    rt_status_set_state(status, "Invalid", RT_STATE_FAILED, reason, in->probe->error, gen, in->now);
    event_on_change(plan, in, "Warning", reason, in->probe->error);
    rt_plan_requeue_after(plan, CLUSTER_PROBE_RETRY_MS * 2);
  } else if (!in->probe->ok) {
    rt_status_set_state(status, "Unreachable", RT_STATE_PROGRESSING, "Unreachable", in->probe->error, gen, in->now);
    event_on_change(plan, in, "Warning", "Unreachable", in->probe->error);
    rt_plan_requeue_after(plan, CLUSTER_PROBE_RETRY_MS);
  } else if (!in->synced) {
    rt_status_set_state(status, "Connecting", RT_STATE_PROGRESSING, "Connecting",
                        "the member answers; listing its nodes and pods", gen, in->now);
    rt_plan_requeue_after(plan, 1000);
  } else {
    cluster_capacity cap;
    cluster_capacity_of(in->nodes, in->nnodes, in->pods, in->npods, in->gpu, &cap);
    set_observed(status, in, &cap);
    char msg[256];
    snprintf(msg, sizeof(msg), "Kubernetes %s, %zu ready node%s", in->probe->version, cap.nodes,
             cap.nodes == 1 ? "" : "s");
    rt_status_set_state(status, "Ready", RT_STATE_READY, "Connected", msg, gen, in->now);
    event_on_change(plan, in, "Normal", "Connected", msg);
    rt_plan_requeue_after(plan, CLUSTER_PROBE_READY_MS);
  }
  rt_plan_set_status(plan, status);
}
