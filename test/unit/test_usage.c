/* Tests of webhooks/quota/usage: a pod's effective request as Kubernetes
 * computes it, GPU counting (translated or not), whole gangs of every
 * workload kind from recorded objects (fixtures/usage/), and the quota
 * arithmetic and messages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/alloc.h"
#include "util/json.h"
#include "api/usage/usage.h"

#define GI ((int64_t)1 << 30)
#define MI ((int64_t)1 << 20)

#define MODELS \
  "\"models\": {\"A100\": {\"memory\": \"80Gi\", \"labelValue\": \"NVIDIA-A100-SXM4-80GB\"}, \"T4\": {\"memory\": \"16Gi\"}}"
#define P_HAMI "{\"system\": \"hami\", \"defaultModel\": \"T4\", " MODELS "}"
#define P_NVIDIA "{\"system\": \"nvidia\", \"defaultModel\": \"T4\", " MODELS "}"
#define P_VCUDA "{\"system\": \"vcuda\", \"defaultModel\": \"T4\", " MODELS "}"

static gpu_profile *profile(const char *json) {
  if (json == NULL) return NULL;
  json_t *j = json_loads(json, 0, NULL);
  ck_assert_ptr_nonnull(j);
  gpu_profile *p = NULL;
  ck_assert_int_eq(gpu_profile_parse(j, &p, NULL, 0), 0);
  json_decref(j);
  return p;
}

static json_t *load(const char *text) {
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  ck_assert_msg(j != NULL, "bad JSON %s: %s", text, jerr.text);
  return j;
}

static void assert_usage(const usage *got, const usage *want, const char *what) {
  static const char *names[] = {"cpu_milli", "memory_bytes", "gpu_milli", "gpu_memory_bytes", "pods"};
  for (usage_field f = 0; f < USAGE_NFIELDS; f++)
    ck_assert_msg(usage_get(got, f) == usage_get(want, f), "%s: %s = %lld, want %lld", what, names[f],
                  (long long)usage_get(got, f), (long long)usage_get(want, f));
}

/* ---- one pod, field by field ------------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *profile;
  const char *pod; /* {"metadata": ..., "spec": ...} */
  usage want;
} pod_case;

#define C(x) "{\"name\": \"c\", \"resources\": " x "}"

static const pod_case pod_cases[] = {
    {"requests", NULL, "{\"spec\": {\"containers\": [" C("{\"requests\": {\"cpu\": \"500m\", \"memory\": \"1Gi\"}}") "]}}",
     {500, GI, 0, 0, 1}},
    {"limits only", NULL, "{\"spec\": {\"containers\": [" C("{\"limits\": {\"cpu\": \"2\", \"memory\": \"4Gi\"}}") "]}}",
     {2000, 4 * GI, 0, 0, 1}},
    {"request per resource, else limit", NULL,
     "{\"spec\": {\"containers\": [" C("{\"requests\": {\"cpu\": \"250m\"}, \"limits\": {\"cpu\": \"1\", \"memory\": \"512Mi\"}}") "]}}",
     {250, 512 * MI, 0, 0, 1}},
    {"no resources", NULL, "{\"spec\": {\"containers\": [{\"name\": \"c\"}, {\"name\": \"d\", \"resources\": {}}]}}",
     {0, 0, 0, 0, 1}},
    {"containers add up", NULL,
     "{\"spec\": {\"containers\": [" C("{\"requests\": {\"cpu\": \"1\", \"memory\": \"1Gi\"}}") ", " C(
         "{\"requests\": {\"cpu\": \"1.5\", \"memory\": \"512Mi\"}}") "]}}",
     {2500, GI + 512 * MI, 0, 0, 1}},
    {"exact rounding up", NULL,
     "{\"spec\": {\"containers\": [" C("{\"requests\": {\"cpu\": \"0.0001\", \"memory\": \"100m\"}}") ", " C(
         "{\"requests\": {\"cpu\": \"1n\", \"memory\": \"1e3\"}}") ", " C("{\"requests\": {\"cpu\": 2, \"memory\": 1.5}}") "]}}",
     {2002, 1003, 0, 0, 1}},
    {"an init container larger than the containers", NULL,
     "{\"spec\": {\"initContainers\": [" C("{\"requests\": {\"cpu\": \"4\", \"memory\": \"256Mi\"}}") "], \"containers\": [" C(
         "{\"requests\": {\"cpu\": \"1\", \"memory\": \"1Gi\"}}") "]}}",
     {4000, GI, 0, 0, 1}},
    {"init containers run one at a time", NULL,
     "{\"spec\": {\"initContainers\": [" C("{\"requests\": {\"cpu\": \"3\"}}") ", " C("{\"requests\": {\"cpu\": \"2\"}}") "], \"containers\": [" C(
         "{\"requests\": {\"cpu\": \"1\"}}") "]}}",
     {3000, 0, 0, 0, 1}},
    /* KEP-753: sidecar (1) then init (2) then container (1): the init runs
     * beside the sidecar (3); the containers beside it (2). */
    {"sidecar before an init container", NULL,
     "{\"spec\": {\"initContainers\": [{\"name\": \"s\", \"restartPolicy\": \"Always\", \"resources\": {\"requests\": {\"cpu\": \"1\"}}}, " C(
         "{\"requests\": {\"cpu\": \"2\"}}") "], \"containers\": [" C("{\"requests\": {\"cpu\": \"1\"}}") "]}}",
     {3000, 0, 0, 0, 1}},
    {"sidecar after an init container", NULL,
     "{\"spec\": {\"initContainers\": [" C("{\"requests\": {\"cpu\": \"3\"}}") ", {\"name\": \"s\", \"restartPolicy\": \"Always\", \"resources\": {\"requests\": {\"cpu\": \"1\"}}}], \"containers\": [" C(
         "{\"requests\": {\"cpu\": \"1\"}}") "]}}",
     {3000, 0, 0, 0, 1}},
    {"sidecars add to the containers", NULL,
     "{\"spec\": {\"initContainers\": [{\"name\": \"s1\", \"restartPolicy\": \"Always\", \"resources\": {\"requests\": {\"cpu\": \"1\", \"memory\": \"1Gi\"}}}, "
     "{\"name\": \"s2\", \"restartPolicy\": \"Always\", \"resources\": {\"limits\": {\"cpu\": \"1\"}}}], \"containers\": [" C(
         "{\"requests\": {\"cpu\": \"2\", \"memory\": \"1Gi\"}}") "]}}",
     {4000, 2 * GI, 0, 0, 1}},
    {"restartPolicy other than Always is an ordinary init container", NULL,
     "{\"spec\": {\"initContainers\": [{\"name\": \"i\", \"restartPolicy\": \"Never\", \"resources\": {\"requests\": {\"cpu\": \"1\"}}}], \"containers\": [" C(
         "{\"requests\": {\"cpu\": \"2\"}}") "]}}",
     {2000, 0, 0, 0, 1}},
    {"overhead", NULL,
     "{\"spec\": {\"overhead\": {\"cpu\": \"250m\", \"memory\": \"120Mi\"}, \"containers\": [" C(
         "{\"requests\": {\"cpu\": \"1\", \"memory\": \"1Gi\"}}") "]}}",
     {1250, GI + 120 * MI, 0, 0, 1}},
    {"pod-level resources replace the containers' sum", NULL,
     "{\"spec\": {\"resources\": {\"requests\": {\"cpu\": \"3\"}, \"limits\": {\"cpu\": \"4\", \"memory\": \"8Gi\"}}, \"overhead\": {\"cpu\": \"100m\"}, \"containers\": [" C(
         "{\"requests\": {\"cpu\": \"1\", \"memory\": \"1Gi\"}, \"limits\": {\"nvidia.com/gpu\": 1}}") "]}}",
     {3100, 8 * GI, 1000, 0, 1}},
    /* GPUs */
    {"whole cards, memory of the default model", P_HAMI,
     "{\"spec\": {\"containers\": [" C("{\"limits\": {\"nvidia.com/gpu\": \"2\"}}") "]}}", {0, 0, 2000, 32 * GI, 1}},
    {"whole cards, memory of the node selector's model", P_HAMI,
     "{\"spec\": {\"nodeSelector\": {\"nvidia.com/gpu.product\": \"NVIDIA-A100-SXM4-80GB\"}, \"containers\": [" C(
         "{\"limits\": {\"nvidia.com/gpu\": \"1\"}}") "]}}",
     {0, 0, 1000, 80 * GI, 1}},
    {"translated HAMi share", P_HAMI,
     "{\"spec\": {\"containers\": [" C("{\"limits\": {\"nvidia.com/gpu\": \"1\", \"nvidia.com/gpucores\": \"30\", \"nvidia.com/gpumem\": \"4096\"}}") "]}}",
     {0, 0, 300, 4 * GI, 1}},
    {"the annotation, not yet translated", P_HAMI,
     "{\"metadata\": {\"annotations\": {\"cubit.dev/gpu\": \"0.5\"}}, \"spec\": {\"containers\": [" C("{}") ", " C("{}") "]}}",
     {0, 0, 500, 8 * GI, 1}},
    {"the annotation with a model", P_VCUDA,
     "{\"metadata\": {\"annotations\": {\"cubit.dev/gpu\": \"0.25(A100)\"}}, \"spec\": {\"containers\": [" C("{}") "]}}",
     {0, 0, 250, 20 * GI, 1}},
    {"the annotation once translated", P_HAMI,
     "{\"metadata\": {\"annotations\": {\"cubit.dev/gpu\": \"0.5\"}}, \"spec\": {\"containers\": [" C(
         "{\"limits\": {\"nvidia.com/gpu\": \"1\", \"nvidia.com/gpucores\": \"50\", \"nvidia.com/gpumem\": \"8192\"}}") "]}}",
     {0, 0, 500, 8 * GI, 1}},
    {"the annotation is the first container's", P_HAMI,
     "{\"metadata\": {\"annotations\": {\"cubit.dev/gpu\": \"2\"}}, \"spec\": {\"containers\": [" C(
         "{\"requests\": {\"cpu\": \"1\"}}") ", " C("{\"limits\": {\"nvidia.com/gpu\": \"1\"}}") "]}}",
     {1000, 0, 3000, 48 * GI, 1}},
    {"shared and zero requests hold no cards", P_HAMI,
     "{\"metadata\": {\"annotations\": {\"cubit.dev/gpu\": \"-1\"}}, \"spec\": {\"containers\": [" C(
         "{\"limits\": {\"cubit.dev/gpu\": \"0\"}}") "]}}",
     {0, 0, 0, 0, 1}},
    {"the grammar in a container's limits", P_HAMI,
     "{\"spec\": {\"containers\": [" C("{\"limits\": {\"cubit.dev/gpu\": \"0.25(A100)\"}}") ", " C(
         "{\"limits\": {\"cubit.dev/gpu\": 2}}") "]}}",
     {0, 0, 2250, 20 * GI + 32 * GI, 1}},
    {"the grammar as an unquoted YAML number", P_HAMI,
     "{\"spec\": {\"containers\": [" C("{\"requests\": {\"cubit.dev/gpu\": 0.5}}") "]}}", {0, 0, 500, 8 * GI, 1}},
    {"the grammar rounds as its translation", P_HAMI,
     "{\"spec\": {\"containers\": [" C("{\"limits\": {\"cubit.dev/gpu\": \"0.125\"}}") "]}}", {0, 0, 120, 2 * GI, 1}},
    {"no profile counts whole cards", NULL,
     "{\"metadata\": {\"annotations\": {\"cubit.dev/gpu\": \"3\"}}, \"spec\": {\"containers\": [" C("{}") "]}}",
     {0, 0, 3000, 0, 1}},
    {"GPU init containers count like any resource", P_HAMI,
     "{\"spec\": {\"initContainers\": [" C("{\"limits\": {\"nvidia.com/gpu\": \"2\"}}") "], \"containers\": [" C(
         "{\"limits\": {\"nvidia.com/gpu\": \"1\"}}") "]}}",
     {0, 0, 2000, 32 * GI, 1}},
    {"several systems at once", P_HAMI,
     "{\"spec\": {\"containers\": [" C("{\"limits\": {\"tencent.com/vcuda-core\": \"50\", \"tencent.com/vcuda-memory\": \"16\"}}") ", " C(
         "{\"limits\": {\"volcano.sh/vgpu-number\": \"2\", \"volcano.sh/vgpu-cores\": \"25\", \"volcano.sh/vgpu-memory\": \"1024\"}}") "]}}",
     {0, 0, 1000, 4 * GI + 2 * GI, 1}},
};

START_TEST(pod_usage_rules) {
  const pod_case *c = &pod_cases[_i];
  gpu_profile *p = profile(c->profile);
  json_t *pod = load(c->pod);
  usage u;
  char err[512];
  int rc = usage_of_pod_spec(json_object_get(pod, "spec"), json_object_get(json_object_get(pod, "metadata"), "annotations"),
                             p, &u, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s: %s", c->name, err);
  assert_usage(&u, &c->want, c->name);
  /* the same through usage_of_object */
  usage v;
  ck_assert_int_eq(usage_of_object("", "Pod", pod, p, &v, err, sizeof(err)), 0);
  assert_usage(&v, &c->want, c->name);
  json_decref(pod);
  gpu_profile_free(p);
}
END_TEST

typedef struct {
  const char *profile;
  const char *pod;
  int code;
  const char *msg;
} pod_bad;

static const pod_bad pod_bad_cases[] = {
    {NULL, "{}", CUBIT_EINVAL, "spec: missing or not an object"},
    {NULL, "{\"spec\": {\"containers\": [" C("{\"requests\": {\"cpu\": \"abc\"}}") "]}}", CUBIT_EINVAL,
     "spec.containers[0].resources.requests.cpu: \"abc\": quantities must match the regular expression "
     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
    {NULL, "{\"spec\": {\"containers\": [" C("{}") ", " C("{\"limits\": {\"memory\": \"1Gb\"}}") "]}}", CUBIT_EINVAL,
     "spec.containers[1].resources.limits.memory: \"1Gb\": quantities must match the regular expression "
     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
    {NULL, "{\"spec\": {\"initContainers\": [" C("{\"requests\": {\"cpu\": \"-1\"}}") "]}}", CUBIT_EINVAL,
     "spec.initContainers[0].resources.requests.cpu: must not be negative"},
    {NULL, "{\"spec\": {\"containers\": [" C("{\"requests\": {\"memory\": true}}") "]}}", CUBIT_EINVAL,
     "spec.containers[0].resources.requests.memory: must be a quantity"},
    {NULL, "{\"spec\": {\"containers\": [" C("{\"requests\": {\"memory\": \"1e100\"}}") "]}}", CUBIT_EINVAL,
     "spec.containers[0].resources.requests.memory: too large"},
    {NULL, "{\"spec\": {\"overhead\": {\"cpu\": \"x\"}, \"containers\": []}}", CUBIT_EINVAL,
     "spec.overhead.cpu: \"x\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
    {NULL, "{\"spec\": {\"containers\": [\"c\"]}}", CUBIT_EINVAL, "spec.containers[0]: must be an object"},
    {P_HAMI, "{\"metadata\": {\"annotations\": {\"cubit.dev/gpu\": \"0.1234\"}}, \"spec\": {\"containers\": [" C("{}") "]}}",
     CUBIT_EINVAL,
     "metadata.annotations[cubit.dev/gpu]: GPU request \"0.1234\": more than 3 decimals (a request is exact to a "
     "thousandth of a card)"},
    {P_NVIDIA, "{\"spec\": {\"containers\": [" C("{\"limits\": {\"cubit.dev/gpu\": \"0.5\"}}") "]}}", CUBIT_EINVAL,
     "spec.containers[0].resources.limits[cubit.dev/gpu]: GPU request \"0.5\": the cluster's GPU profile (system "
     "nvidia) allocates whole cards; request a whole number of cards, or ask the administrator for a GPU-sharing "
     "system (hami, volcano-vgpu or vcuda)"},
    {P_HAMI, "{\"spec\": {\"containers\": [" C("{\"requests\": {\"cubit.dev/gpu\": \"1(V100)\"}}") "]}}", CUBIT_EINVAL,
     "spec.containers[0].resources.requests[cubit.dev/gpu]: GPU request \"1(V100)\": model V100 is not in the "
     "cluster's GPU profile (known: A100, T4)"},
    {P_HAMI, "{\"spec\": {\"containers\": [" C("{\"limits\": {\"cubit.dev/gpu\": [1]}}") "]}}", CUBIT_EINVAL,
     "spec.containers[0].resources.limits[cubit.dev/gpu]: a GPU request must be a string"},
};

START_TEST(pod_usage_errors) {
  const pod_bad *c = &pod_bad_cases[_i];
  gpu_profile *p = profile(c->profile);
  json_t *pod = load(c->pod);
  usage u;
  memset(&u, 0x5a, sizeof(u));
  char err[512];
  ck_assert_int_eq(usage_of_object("", "Pod", pod, p, &u, err, sizeof(err)), c->code);
  ck_assert_str_eq(err, c->msg);
  usage zero = {0};
  assert_usage(&u, &zero, c->msg);
  json_decref(pod);
  gpu_profile_free(p);
}
END_TEST

/* ---- workloads from recorded objects ------------------------------------------------------- */

typedef struct {
  const char *file;
  const char *group, *kind;
  const char *profile;
  usage want;
} object_case;

static const object_case object_cases[] = {
    {"pod-sidecar.json", "", "Pod", P_HAMI, {3350, 2264 * MI, 1000, 80 * GI, 1}},
    {"job.json", "batch", "Job", P_HAMI, {2000, 512 * MI, 1000, 16 * GI, 2}},
    {"tfjob.json", "kubeflow.org", "TFJob", P_HAMI, {6000, 12 * GI, 4000, 64 * GI, 5}},
    {"tfjob.json", "kubeflow.org", "TFJob", NULL, {6000, 12 * GI, 4000, 0, 5}},
    {"pytorchjob.json", "kubeflow.org", "PyTorchJob", P_HAMI, {5000, 10 * GI, 1250, 52 * GI, 4}},
    {"xgboostjob.json", "kubeflow.org", "XGBoostJob", P_HAMI, {1500, 2560 * MI, 0, 0, 2}},
    {"mpijob.json", "kubeflow.org", "MPIJob", P_HAMI, {17000, 66 * GI, 4000, 64 * GI, 3}},
    {"volcano-job.json", "batch.volcano.sh", "Job", P_HAMI, {5000, 10 * GI, 1000, 16 * GI, 3}},
    {"paddlejob.json", "kubeflow.org", "PaddleJob", P_HAMI, {4000, 0, 2000, 32 * GI, 3}},
    /* A Ray worker group holds room for maxReplicas. */
    {"trainingjob-ray.json", "cubit.dev", "TrainingJob", P_HAMI, {18000, 72 * GI, 4000, 64 * GI, 5}},
    {"trainingjob.json", "cubit.dev", "TrainingJob", P_HAMI, {16000, 64 * GI, 2500, 104 * GI, 4}},
    {"trainingjob.json", "cubit.dev", "TrainingJob", P_VCUDA, {16000, 64 * GI, 2500, 104 * GI, 4}},
    {"deployment.json", "apps", "Deployment", P_HAMI, {1500, 3 * GI, 3000, 48 * GI, 3}},
    {"deployment.json", "apps", "StatefulSet", P_HAMI, {1500, 3 * GI, 3000, 48 * GI, 3}},
};

static json_t *fixture(const char *file) {
  char *rel = xasprintf("test/unit/fixtures/usage/%s", file);
  char *path = testutil_src_path(rel);
  json_error_t jerr;
  json_t *j = json_load_file(path, 0, &jerr);
  ck_assert_msg(j != NULL, "%s: %s", path, jerr.text);
  free(path);
  free(rel);
  return j;
}

START_TEST(workload_usage) {
  const object_case *c = &object_cases[_i];
  gpu_profile *p = profile(c->profile);
  json_t *obj = fixture(c->file);
  usage u;
  char err[512];
  int rc = usage_of_object(c->group, c->kind, obj, p, &u, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s: %s", c->file, err);
  assert_usage(&u, &c->want, c->file);
  json_decref(obj);
  gpu_profile_free(p);
}
END_TEST

/* Edits of the recorded objects that change what runs at once. */
START_TEST(workload_variants) {
  gpu_profile *p = profile(P_HAMI);
  usage u;
  char err[512];
  json_t *job = fixture("job.json");
  json_t *spec = json_object_get(job, "spec");
  json_object_del(spec, "completions"); /* parallelism 4 */
  ck_assert_int_eq(usage_of_object("batch", "Job", job, p, &u, err, sizeof(err)), 0);
  ck_assert_int_eq(u.pods, 4);
  ck_assert_int_eq(u.cpu_milli, 4000);
  json_object_del(spec, "parallelism"); /* default 1 */
  ck_assert_int_eq(usage_of_object("batch", "Job", job, p, &u, err, sizeof(err)), 0);
  ck_assert_int_eq(u.pods, 1);
  ck_assert_int_eq(u.gpu_milli, 500);
  json_object_set_new(spec, "parallelism", json_integer(0));
  ck_assert_int_eq(usage_of_object("batch", "Job", job, p, &u, err, sizeof(err)), 0);
  ck_assert_int_eq(u.pods, 0);
  ck_assert_int_eq(u.cpu_milli, 0);
  json_object_set_new(spec, "parallelism", json_integer(-2));
  ck_assert_int_eq(usage_of_object("batch", "Job", job, p, &u, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.parallelism: must be a whole number, at least 0");
  json_decref(job);

  json_t *tf = fixture("tfjob.json");
  json_t *worker = json_object_get(json_object_get(json_object_get(tf, "spec"), "tfReplicaSpecs"), "Worker");
  json_object_set_new(worker, "replicas", json_integer(2));
  ck_assert_int_eq(usage_of_object("kubeflow.org", "TFJob", tf, p, &u, err, sizeof(err)), 0);
  ck_assert_int_eq(u.gpu_milli, 2000);
  ck_assert_int_eq(u.pods, 3);
  json_object_set_new(worker, "replicas", json_string("two"));
  ck_assert_int_eq(usage_of_object("kubeflow.org", "TFJob", tf, p, &u, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.tfReplicaSpecs.Worker.replicas: must be a whole number, at least 0");
  json_object_set_new(worker, "replicas", json_integer(1));
  json_t *c0 = json_array_get(js_get(worker, "template.spec.containers"), 0);
  json_object_set_new(json_object_get(json_object_get(c0, "resources"), "requests"), "cpu", json_string("4 cores"));
  ck_assert_int_eq(usage_of_object("kubeflow.org", "TFJob", tf, p, &u, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err,
                   "spec.tfReplicaSpecs.Worker.template.spec.containers[0].resources.requests.cpu: \"4 cores\": "
                   "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  json_decref(tf);

  json_t *pt = fixture("pytorchjob.json");
  gpu_profile *nv = profile(P_NVIDIA);
  ck_assert_int_eq(usage_of_object("kubeflow.org", "PyTorchJob", pt, nv, &u, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err,
                   "spec.pytorchReplicaSpecs.Master.template.spec.containers[0].resources.limits[cubit.dev/gpu]: GPU "
                   "request \"0.5(A100)\": the cluster's GPU profile (system nvidia) allocates whole cards; request a "
                   "whole number of cards, or ask the administrator for a GPU-sharing system (hami, volcano-vgpu or "
                   "vcuda)");
  json_object_del(json_object_get(js_get(pt, "spec.pytorchReplicaSpecs"), "Master"), "template");
  ck_assert_int_eq(usage_of_object("kubeflow.org", "PyTorchJob", pt, p, &u, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.pytorchReplicaSpecs.Master.template: missing or not an object");
  json_decref(pt);
  gpu_profile_free(nv);

  json_t *vj = fixture("volcano-job.json");
  json_t *eval = json_array_get(js_get(vj, "spec.tasks"), 2);
  json_object_set_new(eval, "replicas", json_integer(2));
  ck_assert_int_eq(usage_of_object("batch.volcano.sh", "Job", vj, p, &u, err, sizeof(err)), 0);
  ck_assert_int_eq(u.cpu_milli, 13000);
  ck_assert_int_eq(u.pods, 5);
  json_decref(vj);

  json_t *tj = fixture("trainingjob.json");
  json_t *roles = js_get(tj, "spec.roles");
  json_object_set_new(json_object_get(json_object_get(roles, "worker"), "resources"), "gpu", json_string("1.5"));
  ck_assert_int_eq(usage_of_object("cubit.dev", "TrainingJob", tj, p, &u, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err,
                   "spec.roles.worker.resources.gpu: GPU request \"1.5\": hami shares one card between pods; above "
                   "one card, request a whole number of cards");
  /* roles written as a list */
  json_t *list = json_pack("[{s:s, s:i, s:{s:s, s:s}}]", "name", "worker", "replicas", 2, "resources", "cpu", "1",
                           "gpu", "2");
  json_object_set_new(json_object_get(tj, "spec"), "roles", list);
  ck_assert_int_eq(usage_of_object("cubit.dev", "TrainingJob", tj, p, &u, err, sizeof(err)), 0);
  usage want = {2000, 0, 4000, 64 * GI, 2};
  assert_usage(&u, &want, "roles as a list");
  json_object_set_new(json_object_get(tj, "spec"), "roles", json_string("x"));
  ck_assert_int_eq(usage_of_object("cubit.dev", "TrainingJob", tj, p, &u, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.roles: must be a map of role name to role");
  json_decref(tj);
  gpu_profile_free(p);
}
END_TEST

START_TEST(unknown_kinds) {
  json_t *obj = json_pack("{s:{}}", "spec");
  usage u;
  char err[256];
  ck_assert_int_eq(usage_of_object("apps", "DaemonSet", obj, NULL, &u, err, sizeof(err)), CUBIT_ENOTSUP);
  ck_assert_str_eq(err, "usage of apps/DaemonSet is not known");
  ck_assert_int_eq(usage_of_object("", "Service", obj, NULL, &u, err, sizeof(err)), CUBIT_ENOTSUP);
  ck_assert_str_eq(err, "usage of Service is not known");
  ck_assert_int_eq(usage_of_object("kubeflow.org", "MXJob", obj, NULL, &u, err, sizeof(err)), CUBIT_ENOTSUP);
  ck_assert_int_eq(usage_of_object("batch", "CronJob", obj, NULL, &u, err, sizeof(err)), CUBIT_ENOTSUP);
  ck_assert_int_eq(usage_of_object("batch", "Job", NULL, NULL, &u, err, sizeof(err)), CUBIT_EINVAL);
  /* a workload with nothing in it uses nothing */
  ck_assert_int_eq(usage_of_object("kubeflow.org", "TFJob", obj, NULL, &u, err, sizeof(err)), 0);
  ck_assert_int_eq(u.pods, 0);
  ck_assert_int_eq(usage_of_object("batch.volcano.sh", "Job", obj, NULL, &u, err, sizeof(err)), 0);
  ck_assert_int_eq(usage_of_object("cubit.dev", "TrainingJob", obj, NULL, &u, err, sizeof(err)), 0);
  json_decref(obj);
}
END_TEST

/* ---- arithmetic, formatting and the quota -------------------------------------------------- */

START_TEST(arithmetic) {
  usage a = {1000, 2 * GI, 500, GI, 2}, b = {500, GI, 1500, 0, 1};
  usage_add(&a, &b);
  usage want = {1500, 3 * GI, 2000, GI, 3};
  assert_usage(&a, &want, "add");
  usage_sub(&a, &b);
  usage back = {1000, 2 * GI, 500, GI, 2};
  assert_usage(&a, &back, "sub");
  usage big = {INT64_MAX, INT64_MAX - 1, 0, 0, 0};
  usage_add(&big, &b);
  ck_assert_int_eq(big.cpu_milli, INT64_MAX);
  ck_assert_int_eq(big.memory_bytes, INT64_MAX);
  usage_sub(&b, &a); /* floors at 0 */
  usage floored = {0, 0, 1000, 0, 0};
  assert_usage(&b, &floored, "sub floor");
  usage s = {3, 4 * GI, 250, 0, 1};
  usage_scale(&s, 4);
  usage scaled = {12, 16 * GI, 1000, 0, 4};
  assert_usage(&s, &scaled, "scale");
  usage_scale(&s, INT64_MAX);
  ck_assert_int_eq(s.memory_bytes, INT64_MAX);
  ck_assert_int_eq(s.gpu_memory_bytes, 0);
  usage_scale(&s, -1);
  usage zero = {0};
  assert_usage(&s, &zero, "negative scale");
  usage m1 = {1, 5, 0, 7, 1}, m2 = {3, 2, 4, 0, 1};
  usage_max(&m1, &m2);
  usage mx = {3, 5, 4, 7, 1};
  assert_usage(&m1, &mx, "max");
  /* within: every field at most the limit's */
  ck_assert(usage_within(&m2, &m1));
  ck_assert(usage_within(&m1, &m1));
  ck_assert(!usage_within(&m1, &m2));
  usage one_more = m1;
  one_more.pods++;
  ck_assert(!usage_within(&one_more, &m1));
  ck_assert(usage_is_zero(&zero));
  ck_assert(!usage_is_zero(&one_more));
}
END_TEST

START_TEST(formatting) {
  static const struct {
    usage_field f;
    int64_t v;
    const char *s;
  } cases[] = {
      {USAGE_CPU, 0, "0"},          {USAGE_CPU, 1500, "1500m"},     {USAGE_CPU, 2000, "2"},
      {USAGE_CPU, 1, "1m"},         {USAGE_MEMORY, 0, "0"},         {USAGE_MEMORY, 3 * GI, "3Gi"},
      {USAGE_MEMORY, 1536 * MI, "1536Mi"}, {USAGE_MEMORY, 1000, "1k"}, {USAGE_MEMORY, 1023, "1023"},
      {USAGE_GPU, 2500, "2.5"},     {USAGE_GPU, 2000, "2"},          {USAGE_GPU, 125, "0.125"},
      {USAGE_GPU_MEMORY, 80 * GI, "80Gi"}, {USAGE_PODS, 12, "12"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char buf[USAGE_STRLEN];
    usage_format(cases[i].f, cases[i].v, buf);
    ck_assert_str_eq(buf, cases[i].s);
  }
  ck_assert_str_eq(usage_field_name(USAGE_GPU_MEMORY), "gpuMemory");
  ck_assert_str_eq(usage_field_name(USAGE_NFIELDS), "?");
  usage u = {1500, 3 * GI, 2500, 16 * GI, 3};
  json_t *j = usage_to_json(&u);
  char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
  ck_assert_str_eq(s, "{\"cpu\":\"1500m\",\"gpu\":\"2.5\",\"gpuMemory\":\"16Gi\",\"memory\":\"3Gi\",\"pods\":3}");
  free(s);
  json_decref(j);
}
END_TEST

typedef struct {
  usage used, req, quota, mask;
  int over;
  const char *which;
} exceeds_case;

static const exceeds_case exceeds_cases[] = {
    /* GPU quota 2: two 1-GPU pods fit, the third does not */
    {{0, 0, 1000, 0, 1}, {0, 0, 1000, 0, 1}, {0, 0, 2000, 0, 0}, {0, 0, 1, 0, 0}, 0, ""},
    {{0, 0, 2000, 0, 2}, {0, 0, 1000, 0, 1}, {0, 0, 2000, 0, 0}, {0, 0, 1, 0, 0}, 1,
     "gpu: requested 1, used 2, quota 2"},
    /* a TFJob of 4 workers x 1 GPU when 3 remain */
    {{8000, 0, 5000, 0, 5}, {4000, 0, 4000, 0, 4}, {0, 0, 8000, 0, 0}, {0, 0, 1, 0, 0}, 1,
     "gpu: requested 4, used 5, quota 8"},
    /* several resources at once, in field order */
    {{1500, GI, 500, 0, 10}, {1000, 2 * GI, 250, 8 * GI, 1}, {2000, 4 * GI, 1000, 4 * GI, 10}, {1, 1, 1, 1, 1}, 1,
     "cpu: requested 1, used 1500m, quota 2; gpuMemory: requested 8Gi, used 0, quota 4Gi; pods: requested 1, used 10, "
     "quota 10"},
    /* unset quotas are unlimited; a quota of 0 is not */
    {{0, 0, 0, 0, 0}, {100000, 0, 8000, 0, 1}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, 0, ""},
    {{0, 0, 0, 0, 0}, {0, 0, 500, 0, 1}, {0, 0, 0, 0, 0}, {0, 0, 1, 0, 0}, 1, "gpu: requested 0.5, used 0, quota 0"},
    /* a request that does not use an exhausted resource passes */
    {{0, 0, 3000, 0, 0}, {1000, GI, 0, 0, 1}, {0, 0, 2000, 0, 0}, {0, 0, 1, 0, 0}, 0, ""},
    /* exactly at the quota is allowed */
    {{1000, 0, 0, 0, 0}, {1000, 0, 0, 0, 0}, {2000, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, 0, ""},
    /* saturated sums still compare */
    {{INT64_MAX, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {INT64_MAX - 1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, 1,
     "cpu: requested 1m, used 9223372036854775807m, quota 9223372036854775806m"},
};

START_TEST(exceeds) {
  const exceeds_case *c = &exceeds_cases[_i];
  char which[512];
  ck_assert_int_eq(usage_exceeds(&c->used, &c->req, &c->quota, &c->mask, which, sizeof(which)), c->over);
  ck_assert_str_eq(which, c->which);
  ck_assert_int_eq(usage_exceeds(&c->used, &c->req, &c->quota, &c->mask, NULL, 0), c->over);
  char small[12];
  usage_exceeds(&c->used, &c->req, &c->quota, &c->mask, small, sizeof(small));
  ck_assert_uint_lt(strlen(small), sizeof(small));
}
END_TEST

START_TEST(quota_parsing) {
  usage q, m;
  char err[256];
  json_t *j = load("{\"cpu\": \"64\", \"memory\": \"256Gi\", \"gpu\": \"7.5\", \"gpuMemory\": \"320Gi\", \"pods\": 100, "
                   "\"perMember\": {\"gpu\": \"2\"}}");
  ck_assert_int_eq(usage_parse_quota(j, "spec.quota", &q, &m, err, sizeof(err)), 0);
  usage want = {64000, 256 * GI, 7500, 320 * GI, 100}, all = {1, 1, 1, 1, 1};
  assert_usage(&q, &want, "quota");
  assert_usage(&m, &all, "mask");
  ck_assert_int_eq(usage_parse_quota(json_object_get(j, "perMember"), "spec.quota.perMember", &q, &m, err, sizeof(err)),
                   0);
  usage pm = {0, 0, 2000, 0, 0}, pmm = {0, 0, 1, 0, 0};
  assert_usage(&q, &pm, "perMember");
  assert_usage(&m, &pmm, "perMember mask");
  json_decref(j);

  j = load("{\"gpu\": 0, \"cpu\": 2, \"memory\": null}");
  ck_assert_int_eq(usage_parse_quota(j, "spec.quota", &q, &m, err, sizeof(err)), 0);
  usage z = {2000, 0, 0, 0, 0}, zm = {1, 0, 1, 0, 0};
  assert_usage(&q, &z, "zero gpu");
  assert_usage(&m, &zm, "zero gpu mask");
  json_decref(j);
  ck_assert_int_eq(usage_parse_quota(NULL, "spec.quota", &q, &m, err, sizeof(err)), 0);
  usage none = {0};
  assert_usage(&m, &none, "no quota");

  static const struct {
    const char *json, *msg;
  } bad[] = {
      {"[]", "spec.quota: must be an object"},
      {"{\"gpu\": \"two\"}",
       "spec.quota.gpu: \"two\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
      {"{\"cpu\": \"-1\"}", "spec.quota.cpu: must not be negative"},
      {"{\"pods\": \"10\"}", "spec.quota.pods: must be a whole number of pods, at least 0"},
      {"{\"pods\": -1}", "spec.quota.pods: must be a whole number of pods, at least 0"},
      {"{\"gpuMemory\": {}}", "spec.quota.gpuMemory: must be a quantity"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    json_t *b = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
    ck_assert_int_eq(usage_parse_quota(b, "spec.quota", &q, &m, err, sizeof(err)), CUBIT_EINVAL);
    ck_assert_str_eq(err, bad[i].msg);
    json_decref(b);
  }
}
END_TEST

typedef struct {
  const json_t *obj;
  const gpu_profile *p;
} torture_arg;

static int usage_once(void *arg) {
  const torture_arg *a = arg;
  usage u;
  char err[256];
  return usage_of_object("kubeflow.org", "PyTorchJob", a->obj, a->p, &u, err, sizeof(err));
}

/* The temporary maps may fail to allocate: nothing leaks and the failure is
 * reported. */
START_TEST(allocation_failure) {
  gpu_profile *p = profile(P_HAMI);
  json_t *obj = fixture("pytorchjob.json");
  torture_arg a = {obj, p};
  ck_assert_int_ne(testutil_alloc_torture(usage_once, &a), 0);
  json_decref(obj);
  gpu_profile_free(p);
}
END_TEST

int main(void) {
  Suite *s = suite_create("usage");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, pod_usage_rules, 0, (int)(sizeof(pod_cases) / sizeof(pod_cases[0])));
  tcase_add_loop_test(tc, pod_usage_errors, 0, (int)(sizeof(pod_bad_cases) / sizeof(pod_bad_cases[0])));
  tcase_add_loop_test(tc, workload_usage, 0, (int)(sizeof(object_cases) / sizeof(object_cases[0])));
  tcase_add_test(tc, workload_variants);
  tcase_add_test(tc, unknown_kinds);
  tcase_add_test(tc, arithmetic);
  tcase_add_test(tc, formatting);
  tcase_add_loop_test(tc, exceeds, 0, (int)(sizeof(exceeds_cases) / sizeof(exceeds_cases[0])));
  tcase_add_test(tc, quota_parsing);
  tcase_add_test(tc, allocation_failure);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
