/* The Cluster kind: its spec parser, a member's capacity from its nodes and
 * pods, and cluster_plan as a table of observed states in, status and events
 * out (docs/multicluster.md#status). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "controllers/cluster/cluster.h"
#include "runtime/conditions.h"
#include "runtime/status.h"
#include "testutil.h"
#include "util/json.h"

static json_t *parse(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
  ck_assert_msg(j != NULL, "fixture JSON: %s: %s", e.text, text);
  return j;
}

/* ------------------------------------------------------------- parser */

#define REF "\"kubeconfig\":{\"secretRef\":{\"name\":\"m1\"}}"

static const struct {
  const char *cluster;
  int rc;
  const char *err; /* prefix */
} spec_cases[] = {
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF "}}", 0, ""},
    {"{\"metadata\":{\"name\":\"local\"},\"spec\":{" REF "}}", CUBIT_EINVAL,
     "metadata.name: \"local\" names the hub's own cluster"},
    {"{\"metadata\":{\"name\":\"Big\"},\"spec\":{" REF "}}", CUBIT_EINVAL, "metadata.name: want a DNS label"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{}}", CUBIT_EINVAL, "spec.kubeconfig: not set"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{\"kubeconfig\":{}}}", CUBIT_EINVAL,
     "spec.kubeconfig.secretRef: not set"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{\"kubeconfig\":{\"secretRef\":{}}}}", CUBIT_EINVAL,
     "spec.kubeconfig.secretRef.name: not set"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{\"kubeconfig\":{\"secretRef\":{\"name\":\"\"}}}}", CUBIT_EINVAL,
     "spec.kubeconfig.secretRef.name: must be a non-empty string"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{\"kubeconfig\":{\"secretRef\":{\"name\":\"s\",\"key\":5}}}}",
     CUBIT_EINVAL, "spec.kubeconfig.secretRef.key: must be a non-empty string"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{\"kubeconfig\":{\"secretRef\":{\"name\":\"s\"},\"context\":[]}}}",
     CUBIT_EINVAL, "spec.kubeconfig.context: must be a non-empty string"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"labels\":[]}}", CUBIT_EINVAL,
     "spec.labels: must be a mapping"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"labels\":{\"region\":1}}}", CUBIT_EINVAL,
     "spec.labels.region: must be a string"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gangScheduler\":\"volcano\"}}", CUBIT_EINVAL,
     "spec.gangScheduler: want an object"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gangScheduler\":{\"scheduler\":\"yunikorn\"}}}",
     CUBIT_EINVAL, "spec.gangScheduler.scheduler: want volcano, coscheduling, kueue or none, got \"yunikorn\""},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gangScheduler\":{\"queue\":\"q\"}}}", CUBIT_EINVAL,
     "spec.gangScheduler.queue: unknown setting"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gangScheduler\":{\"scheduler\":\"none\"}}}", 0, ""},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gateway\":\"istio-system/gw\"}}", CUBIT_EINVAL,
     "spec.gateway: want an object"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gateway\":{\"name\":\"gw\",\"urlBase\":\"https://e\"}}}",
     CUBIT_EINVAL, "spec.gateway.name: want \"<namespace>/<name>\" of an Istio Gateway, got \"gw\""},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gateway\":{\"name\":\"a/b/c\",\"urlBase\":\"https://e\"}}}",
     CUBIT_EINVAL, "spec.gateway.name: want"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gateway\":{\"name\":\"ns/gw\"}}}", CUBIT_EINVAL,
     "spec.gateway.urlBase: want the http:// or https:// URL users reach the gateway at, got \"\""},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gateway\":{\"name\":\"ns/gw\",\"urlBase\":\"ftp://e\"}}}",
     CUBIT_EINVAL, "spec.gateway.urlBase: want"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF ",\"gateway\":{\"name\":\"ns/gw\",\"urlBase\":7}}}", CUBIT_EINVAL,
     "spec.gateway.urlBase: must be a non-empty string"},
    {"{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF
     ",\"gateway\":{\"name\":\"istio-system/gw\",\"urlBase\":\"https://east.ml.example.com\"}}}", 0, ""},
};

START_TEST(spec_parse) {
  json_t *c = parse(spec_cases[_i].cluster);
  cluster_spec s;
  char err[512] = "?";
  int rc = cluster_spec_parse(c, &s, err, sizeof(err));
  ck_assert_msg(rc == spec_cases[_i].rc, "case %d: rc %d: %s", _i, rc, err);
  ck_assert_msg(strncmp(err, spec_cases[_i].err, strlen(spec_cases[_i].err)) == 0, "case %d: %s", _i, err);
  json_decref(c);
}
END_TEST

START_TEST(spec_parse_fields) {
  json_t *c = parse("{\"metadata\":{\"name\":\"gpu-east\"},\"spec\":{\"kubeconfig\":{\"secretRef\":{\"namespace\":"
                    "\"cubit-system\",\"name\":\"east\",\"key\":\"config\"},\"context\":\"admin\"},"
                    "\"labels\":{\"region\":\"east\"}}}");
  cluster_spec s;
  ck_assert_int_eq(cluster_spec_parse(c, &s, NULL, 0), 0);
  ck_assert_str_eq(s.secret_namespace, "cubit-system");
  ck_assert_str_eq(s.secret_name, "east");
  ck_assert_str_eq(s.secret_key, "config");
  ck_assert_str_eq(s.context, "admin");
  ck_assert_str_eq(json_string_value(json_object_get(s.labels, "region")), "east");
  json_decref(c);
  c = parse("{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF "}}");
  ck_assert_int_eq(cluster_spec_parse(c, &s, NULL, 0), 0);
  ck_assert_ptr_null(s.secret_namespace);
  ck_assert_str_eq(s.secret_key, CLUSTER_DEFAULT_KEY);
  ck_assert_ptr_null(s.context);
  ck_assert_ptr_null(s.labels);
  ck_assert_int_eq(s.gang.scheduler, GANG_NONE); /* absent: none, as before the field */
  ck_assert_ptr_null(s.gateway);                  /* absent: a notebook there has no route */
  ck_assert_ptr_null(s.gateway_url_base);
  json_decref(c);
  c = parse("{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF
            ",\"gangScheduler\":{\"scheduler\":\"kueue\",\"kueueQueue\":\"gpu\"}}}");
  ck_assert_int_eq(cluster_spec_parse(c, &s, NULL, 0), 0);
  ck_assert_int_eq(s.gang.scheduler, GANG_KUEUE);
  ck_assert_str_eq(s.gang.kueue_queue, "gpu");
  json_decref(c);
  c = parse("{\"metadata\":{\"name\":\"m1\"},\"spec\":{" REF
            ",\"gateway\":{\"name\":\"istio-system/gw\",\"urlBase\":\"https://east.ml.example.com\"}}}");
  ck_assert_int_eq(cluster_spec_parse(c, &s, NULL, 0), 0);
  ck_assert_str_eq(s.gateway, "istio-system/gw");
  ck_assert_str_eq(s.gateway_url_base, "https://east.ml.example.com");
  json_decref(c);
}
END_TEST

/* ------------------------------------------------------------- capacity */

#define READY "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]"
#define NODE(name, labels, extra, alloc)                                                                  \
  "{\"metadata\":{\"name\":\"" name "\",\"labels\":{" labels "}},\"spec\":{" extra "},\"status\":{" READY \
  ",\"allocatable\":{" alloc "}}}"
#define A100 NODE("a100", "\"cubit.dev/gpu-model\":\"A100\"", "", \
                  "\"cpu\":\"64\",\"memory\":\"512Gi\",\"nvidia.com/gpu\":\"8\",\"tencent.com/vcuda-core\":\"800\"")
#define V100 NODE("v100", "\"nvidia.com/gpu.product\":\"V100\"", "", \
                  "\"cpu\":\"64\",\"memory\":\"256Gi\",\"nvidia.com/gpu\":\"4\",\"tencent.com/vcuda-core\":\"400\"")
#define CPU NODE("cpu", "", "", "\"cpu\":\"31500m\",\"memory\":\"128Gi\"")
#define CORDONED NODE("cordoned", "\"cubit.dev/gpu-model\":\"A100\"", "\"unschedulable\":true", \
                      "\"cpu\":\"64\",\"memory\":\"512Gi\",\"nvidia.com/gpu\":\"8\"")
#define NOT_READY                                                                                   \
  "{\"metadata\":{\"name\":\"down\",\"labels\":{\"cubit.dev/gpu-model\":\"A100\"}},\"status\":{"    \
  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],\"allocatable\":{\"cpu\":\"64\","    \
  "\"nvidia.com/gpu\":\"8\"}}}"
#define POD(node, phase, limits, annotations)                                                        \
  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"annotations\":{" annotations "}},\"spec\":{" \
  "\"nodeName\":\"" node "\",\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{" limits   \
  "}}}]},\"status\":{\"phase\":\"" phase "\"}}"

static const struct {
  const char *profile; /* NULL: whole NVIDIA cards */
  const char *nodes, *pods; /* JSON arrays */
  size_t nodes_counted;
  int64_t cpu, mem_gi, gpu, used_cpu, used_mem_gi, used_gpu; /* cpu in millicores, gpu in thousandths */
  const char *models; /* "model=alloc/used;..." */
} capacity_cases[] = {
    /* nothing */
    {NULL, "[]", "[]", 0, 0, 0, 0, 0, 0, 0, ""},
    /* the fake nodes of kind/local: two CPU-only nodes would add nothing to the GPUs */
    {NULL, "[" A100 "," V100 "," CPU "]", "[]", 3, 159500, 896, 12000, 0, 0, 0, "A100=8000/0;V100=4000/0;"},
    /* cordoned and NotReady nodes count for nothing, nor do their pods */
    {NULL, "[" A100 "," CORDONED "," NOT_READY "]",
     "[" POD("cordoned", "Running", "\"nvidia.com/gpu\":\"2\"", "") "," POD("down", "Running", "\"nvidia.com/gpu\":\"1\"", "") "]",
     1, 64000, 512, 8000, 0, 0, 0, "A100=8000/0;"},
    /* running and pending pods bound to a node count; finished and unbound ones do not */
    {NULL, "[" A100 "," V100 "]",
     "[" POD("a100", "Running", "\"nvidia.com/gpu\":\"2\",\"cpu\":\"1\",\"memory\":\"1Gi\"", "") ","
     POD("a100", "Pending", "\"nvidia.com/gpu\":\"1\"", "") ","
     POD("a100", "Succeeded", "\"nvidia.com/gpu\":\"4\"", "") ","
     POD("a100", "Failed", "\"nvidia.com/gpu\":\"4\"", "") ","
     POD("", "Pending", "\"nvidia.com/gpu\":\"4\"", "") ","
     POD("v100", "Running", "\"cubit.dev/gpu\":\"1\"", "") "]",
     2, 128000, 768, 12000, 1000, 1, 4000, "A100=8000/3000;V100=4000/1000;"},
    /* a pod whose GPU request cannot be read is not counted (it is not Cubit's to judge) */
    {NULL, "[" A100 "]", "[" POD("a100", "Running", "\"cubit.dev/gpu\":\"lots\"", "") "]", 1, 64000, 512, 8000, 0, 0,
     0, "A100=8000/0;"},
    /* vcuda: cards are vcuda-core / 100 */
    {"{\"system\":\"vcuda\"}", "[" A100 "," V100 "]",
     "[" POD("a100", "Running", "\"tencent.com/vcuda-core\":\"150\"", "") "]", 2, 128000, 768, 12000, 0, 0, 1500,
     "A100=8000/1500;V100=4000/0;"},
};

START_TEST(capacity) {
  gpu_profile *p = NULL;
  if (capacity_cases[_i].profile) {
    json_t *j = parse(capacity_cases[_i].profile);
    ck_assert_int_eq(gpu_profile_parse(j, &p, NULL, 0), 0);
    json_decref(j);
  }
  json_t *nodes = parse(capacity_cases[_i].nodes), *pods = parse(capacity_cases[_i].pods);
  json_t *nv[8] = {0}, *pv[8] = {0};
  for (size_t i = 0; i < json_array_size(nodes); i++) nv[i] = json_array_get(nodes, i);
  for (size_t i = 0; i < json_array_size(pods); i++) pv[i] = json_array_get(pods, i);
  cluster_capacity c;
  cluster_capacity_of(nv, json_array_size(nodes), pv, json_array_size(pods), p, &c);
  const int64_t gi = 1024LL * 1024 * 1024;
  ck_assert_uint_eq(c.nodes, capacity_cases[_i].nodes_counted);
  ck_assert_int_eq(c.cpu_milli, capacity_cases[_i].cpu);
  ck_assert_int_eq(c.memory_bytes, capacity_cases[_i].mem_gi * gi);
  ck_assert_int_eq(c.gpu_milli, capacity_cases[_i].gpu);
  ck_assert_int_eq(c.used_cpu_milli, capacity_cases[_i].used_cpu);
  ck_assert_int_eq(c.used_memory_bytes, capacity_cases[_i].used_mem_gi * gi);
  ck_assert_int_eq(c.used_gpu_milli, capacity_cases[_i].used_gpu);
  char models[256] = "";
  for (size_t i = 0; i < c.nmodels; i++) {
    size_t n = strlen(models);
    snprintf(models + n, sizeof(models) - n, "%s=%lld/%lld;", c.models[i].model,
             (long long)c.models[i].allocatable_milli, (long long)c.models[i].used_milli);
  }
  ck_assert_str_eq(models, capacity_cases[_i].models);
  /* Node by node (placement): the same counted nodes, and their free
   * resources add up to the cluster's; of one model, to that model's. */
  placement_node free_[8];
  size_t nf = cluster_nodes_free(nv, json_array_size(nodes), pv, json_array_size(pods), p, "", free_);
  ck_assert_uint_eq(nf, capacity_cases[_i].nodes_counted);
  int64_t fc = 0, fm = 0, fg = 0;
  for (size_t i = 0; i < nf; i++) fc += free_[i].free_cpu_milli, fm += free_[i].free_memory_bytes, fg += free_[i].free_gpu_milli;
  ck_assert_int_eq(fc, c.cpu_milli - c.used_cpu_milli);
  ck_assert_int_eq(fm, c.memory_bytes - c.used_memory_bytes);
  ck_assert_int_eq(fg, c.gpu_milli - c.used_gpu_milli);
  for (size_t m = 0; m < c.nmodels; m++) {
    nf = cluster_nodes_free(nv, json_array_size(nodes), pv, json_array_size(pods), p, c.models[m].model, free_);
    fg = 0;
    for (size_t i = 0; i < nf; i++) fg += free_[i].free_gpu_milli;
    ck_assert_int_eq(fg, c.models[m].allocatable_milli - c.models[m].used_milli);
  }
  json_decref(nodes);
  json_decref(pods);
  gpu_profile_free(p);
}
END_TEST

/* ------------------------------------------------------------- plan */

enum { OK_SYNCED, OK_LISTING, UNREACHABLE, NO_PROBE };

static const cluster_probe probe_ok = {
    .ok = 1, .version = "v1.34.4", .apis = {{"TFJob", "PyTorchJob"}, 2, 1, 1, 0, 0}, .error = ""};
static const cluster_probe probe_bare = {.ok = 1, .version = "v1.33.1", .apis = {{NULL}, 0, 0, 0, 0, 0}, .error = ""};
static const cluster_probe probe_down = {
    .ok = 0, .code = CUBIT_ECONNECT, .error = "cannot reach the API server https://127.0.0.1:22822: cannot connect to server"};
static const cluster_probe probe_401 = {
    .ok = 0, .code = CUBIT_EUNAUTHORIZED, .error = "cannot reach the API server https://h: unauthorized: Unauthorized"};
static const cluster_probe probe_403 = {.ok = 0, .code = CUBIT_EFORBIDDEN, .error = "forbidden: no discovery"};
static const cluster_probe probe_tls = {.ok = 0, .code = CUBIT_ETLS, .error = "certificate verify failed"};
static const cluster_probe probe_5xx = {.ok = 0, .code = CUBIT_ESERVER, .error = "etcdserver: request timed out"};

static const struct {
  const char *name;
  const char *prev_reason; /* the Ready reason of the status the plan is handed, or NULL */
  int spec_ok;
  const char *config_reason;
  const cluster_probe *probe;
  int synced;
  /* out */
  const char *phase;
  rt_state state;
  const char *reason, *message; /* message: substring */
  const char *event;            /* "Type/Reason" or NULL */
  int64_t requeue_ms;
} plan_cases[] = {
    {"invalid spec", NULL, 0, NULL, NULL, 0, "Invalid", RT_STATE_FAILED, "InvalidSpec", "spec.kubeconfig: not set",
     "Warning/InvalidSpec", 0},
    {"invalid spec, said before", "InvalidSpec", 0, NULL, NULL, 0, "Invalid", RT_STATE_FAILED, "InvalidSpec",
     "spec.kubeconfig", NULL, 0},
    {"Secret missing", NULL, 1, "SecretNotFound", NULL, 0, "Invalid", RT_STATE_FAILED, "SecretNotFound",
     "the config error", "Warning/SecretNotFound", 10000},
    {"bad kubeconfig", "SecretNotFound", 1, "KubeconfigInvalid", NULL, 0, "Invalid", RT_STATE_FAILED,
     "KubeconfigInvalid", "the config error", "Warning/KubeconfigInvalid", 10000},
    {"unreachable", "Connected", 1, NULL, &probe_down, 0, "Unreachable", RT_STATE_PROGRESSING, "Unreachable",
     "cannot reach the API server https://127.0.0.1:22822", "Warning/Unreachable", 5000},
    {"still unreachable", "Unreachable", 1, NULL, &probe_down, 1, "Unreachable", RT_STATE_PROGRESSING, "Unreachable",
     "cannot connect", NULL, 5000},
    {"credentials refused", "Connected", 1, NULL, &probe_401, 1, "Invalid", RT_STATE_FAILED, "Unauthorized",
     "Unauthorized", "Warning/Unauthorized", 10000},
    {"discovery forbidden", NULL, 1, NULL, &probe_403, 0, "Invalid", RT_STATE_FAILED, "Forbidden", "forbidden",
     "Warning/Forbidden", 10000},
    {"certificate does not verify", NULL, 1, NULL, &probe_tls, 0, "Invalid", RT_STATE_FAILED, "TLSFailed",
     "certificate verify failed", "Warning/TLSFailed", 10000},
    {"member's API server failing", "Connected", 1, NULL, &probe_5xx, 1, "Unreachable", RT_STATE_PROGRESSING,
     "Unreachable", "etcdserver", "Warning/Unreachable", 5000},
    {"answering, caches listing", NULL, 1, NULL, &probe_ok, 0, "Connecting", RT_STATE_PROGRESSING, "Connecting",
     "listing its nodes and pods", NULL, 1000},
    {"ready", "Connecting", 1, NULL, &probe_ok, 1, "Ready", RT_STATE_READY, "Connected",
     "Kubernetes v1.34.4, 2 ready nodes", "Normal/Connected", 15000},
    {"back after being unreachable", "Unreachable", 1, NULL, &probe_ok, 1, "Ready", RT_STATE_READY, "Connected",
     "2 ready nodes", "Normal/Connected", 15000},
    {"still ready", "Connected", 1, NULL, &probe_bare, 1, "Ready", RT_STATE_READY, "Connected", "v1.33.1", NULL,
     15000},
};

static json_t *plan_cluster(const char *prev_reason) {
  json_t *c = parse("{\"metadata\":{\"name\":\"m1\",\"generation\":3},\"spec\":{" REF
                    ",\"labels\":{\"region\":\"east\"}},\"status\":{\"kubernetesVersion\":\"v1.30.0\"}}");
  if (prev_reason) {
    json_t *st = json_object_get(c, "status");
    rt_status_set_state(st, "X", RT_STATE_PROGRESSING, prev_reason, "before", 3, 100);
  }
  return c;
}

START_TEST(plan) {
  json_t *c = plan_cluster(plan_cases[_i].prev_reason);
  cluster_spec spec;
  ck_assert_int_eq(cluster_spec_parse(c, &spec, NULL, 0), 0);
  json_t *nodes = parse("[" A100 "," V100 "]");
  json_t *pods = parse("[" POD("a100", "Running", "\"nvidia.com/gpu\":\"2\"", "") "]");
  json_t *nv[2] = {json_array_get(nodes, 0), json_array_get(nodes, 1)}, *pv[1] = {json_array_get(pods, 0)};
  cluster_observed in = {
      .cluster = c,
      .spec = plan_cases[_i].spec_ok ? &spec : NULL,
      .spec_error = "spec.kubeconfig: not set",
      .config_reason = plan_cases[_i].config_reason,
      .config_error = "the config error",
      .probe = plan_cases[_i].probe,
      .synced = plan_cases[_i].synced,
      .nodes = nv,
      .nnodes = 2,
      .pods = pv,
      .npods = 1,
      .now = 1000,
  };
  rt_plan p;
  rt_plan_init(&p);
  cluster_plan(&in, &p);
  const char *name = plan_cases[_i].name;
  ck_assert_uint_eq(p.nactions, 0); /* a Cluster has no children */
  ck_assert_ptr_nonnull(p.status);
  ck_assert_msg(strcmp(js_str(p.status, "phase"), plan_cases[_i].phase) == 0, "%s: phase %s", name,
                js_str(p.status, "phase"));
  ck_assert_msg(rt_status_state(p.status) == plan_cases[_i].state, "%s: state %d", name, rt_status_state(p.status));
  json_t *ready = rt_condition_get(p.status, "Ready");
  ck_assert_str_eq(js_str(ready, "reason"), plan_cases[_i].reason);
  ck_assert_msg(strstr(js_str(ready, "message"), plan_cases[_i].message), "%s: message %s", name,
                js_str(ready, "message"));
  ck_assert_int_eq(js_int(p.status, "observedGeneration", 0), 3);
  if (plan_cases[_i].event) {
    ck_assert_msg(p.nevents == 1, "%s: %zu events", name, p.nevents);
    char ev[96];
    snprintf(ev, sizeof(ev), "%s/%s", p.events[0].type, p.events[0].reason);
    ck_assert_str_eq(ev, plan_cases[_i].event);
  } else {
    ck_assert_msg(p.nevents == 0, "%s: %zu events, first %s", name, p.nevents, p.nevents ? p.events[0].reason : "");
  }
  ck_assert_msg(p.requeue_after_ms == plan_cases[_i].requeue_ms, "%s: requeue %lld", name,
                (long long)p.requeue_after_ms);
  if (plan_cases[_i].spec_ok) ck_assert_str_eq(js_str(p.status, "labels.region"), "east");
  else ck_assert_ptr_null(json_object_get(p.status, "labels"));
  if (plan_cases[_i].state != RT_STATE_READY) {
    /* what was last observed of the member stays */
    ck_assert_str_eq(js_str(p.status, "kubernetesVersion"), "v1.30.0");
    ck_assert_ptr_null(json_object_get(p.status, "gpus"));
  }
  rt_plan_free(&p);
  json_decref(nodes);
  json_decref(pods);
  json_decref(c);
}
END_TEST

/* A Ready member's status: version, APIs present and absent, capacity. */
START_TEST(plan_ready_status) {
  for (int bare = 0; bare < 2; bare++) {
    json_t *c = plan_cluster(NULL);
    cluster_spec spec;
    ck_assert_int_eq(cluster_spec_parse(c, &spec, NULL, 0), 0);
    json_t *nodes = parse("[" A100 "," V100 "]");
    json_t *pods = parse("[" POD("a100", "Running", "\"nvidia.com/gpu\":\"2\",\"cpu\":\"500m\"", "") "]");
    json_t *nv[2] = {json_array_get(nodes, 0), json_array_get(nodes, 1)}, *pv[1] = {json_array_get(pods, 0)};
    cluster_observed in = {.cluster = c, .spec = &spec, .probe = bare ? &probe_bare : &probe_ok, .synced = 1,
                           .nodes = nv, .nnodes = 2, .pods = pv, .npods = 1, .now = 1000};
    rt_plan p;
    rt_plan_init(&p);
    cluster_plan(&in, &p);
    json_t *st = p.status;
    ck_assert_str_eq(js_str(st, "kubernetesVersion"), bare ? "v1.33.1" : "v1.34.4");
    json_t *kinds = js_get(st, "apis.trainingOperator");
    ck_assert_uint_eq(json_array_size(kinds), bare ? 0 : 2);
    if (!bare) ck_assert_str_eq(json_string_value(json_array_get(kinds, 1)), "PyTorchJob");
    ck_assert_int_eq(js_bool(st, "apis.volcano", -1), !bare);
    ck_assert_int_eq(js_bool(st, "apis.istio", -1), !bare);
    ck_assert_int_eq(js_bool(st, "apis.kubeRay", -1), 0);
    ck_assert_int_eq(js_bool(st, "apis.sparkOperator", -1), 0);
    ck_assert_int_eq(js_int(st, "nodes", -1), 2);
    ck_assert_str_eq(js_str(st, "allocatable.cpu"), "128");
    ck_assert_str_eq(js_str(st, "allocatable.memory"), "768Gi");
    ck_assert_str_eq(js_str(st, "allocatable.gpu"), "12");
    ck_assert_str_eq(js_str(st, "used.cpu"), "500m");
    ck_assert_str_eq(js_str(st, "used.memory"), "0");
    ck_assert_str_eq(js_str(st, "used.gpu"), "2");
    json_t *gpus = json_object_get(st, "gpus");
    ck_assert_uint_eq(json_array_size(gpus), 2);
    ck_assert_str_eq(js_str(json_array_get(gpus, 0), "model"), "A100");
    ck_assert_str_eq(js_str(json_array_get(gpus, 0), "allocatable"), "8");
    ck_assert_str_eq(js_str(json_array_get(gpus, 0), "used"), "2");
    ck_assert_str_eq(js_str(json_array_get(gpus, 1), "model"), "V100");
    ck_assert_str_eq(js_str(json_array_get(gpus, 1), "used"), "0");
    rt_plan_free(&p);
    json_decref(nodes);
    json_decref(pods);
    json_decref(c);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("cluster");
  TCase *tc = tcase_create("spec");
  tcase_add_loop_test(tc, spec_parse, 0, sizeof(spec_cases) / sizeof(spec_cases[0]));
  tcase_add_test(tc, spec_parse_fields);
  suite_add_tcase(s, tc);
  tc = tcase_create("capacity");
  tcase_add_loop_test(tc, capacity, 0, sizeof(capacity_cases) / sizeof(capacity_cases[0]));
  suite_add_tcase(s, tc);
  tc = tcase_create("plan");
  tcase_add_loop_test(tc, plan, 0, sizeof(plan_cases) / sizeof(plan_cases[0]));
  tcase_add_test(tc, plan_ready_status);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
