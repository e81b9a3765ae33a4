/* The admission handlers as pure functions of (AdmissionReview, caches):
 * quota with reservations, pod mutation (GPU, project defaults, gang),
 * workload mutation, Project validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/project/project.h"
#include "testutil.h"
#include "util/json.h"
#include "webhooks/pods/mutate.h"
#include "webhooks/quota/quota.h"
#include "webhooks/validate/project.h"

typedef struct fixture {
  webhook_env env;
  gpu_profile *gpu;
  webhook_identities ids;
  cache_store *stores[3 + WL_COUNT + APPS_COUNT];
} fixture;

#define MANAGER "system:serviceaccount:cubit-system:cubit-manager"
#define JOB_CONTROLLER "system:serviceaccount:kube-system:job-controller"
#define RS_CONTROLLER "system:serviceaccount:kube-system:replicaset-controller"
#define OPERATOR "system:serviceaccount:kubeflow:training-operator"

static fixture fx;

static void put(cache_store *s, const char *json) {
  json_error_t err;
  json_t *o = json_loads(json, 0, &err);
  ck_assert_msg(o != NULL, "fixture JSON: %s", err.text);
  json_decref(cache_store_upsert(s, o));
  json_decref(o);
}

static cache_store *indexed_store(void) {
  cache_store *s = cache_store_new();
  cache_store_index_owner(s);
  cache_store_index_namespace(s);
  cache_store_index_label(s, "cubit.dev/project");
  return s;
}

static void setup(void) {
  memset(&fx, 0, sizeof(fx));
  fx.env.projects = fx.stores[0] = indexed_store();
  fx.env.namespaces = fx.stores[1] = indexed_store();
  fx.env.pods = fx.stores[2] = indexed_store();
  for (int i = 0; i < WL_COUNT; i++) fx.env.workloads[i] = fx.stores[3 + i] = indexed_store();
  for (int i = 0; i < APPS_COUNT; i++) fx.env.apps[i] = fx.stores[3 + WL_COUNT + i] = indexed_store();
  char ierr[256];
  ck_assert_int_eq(webhook_identities_parse(NULL, MANAGER, &fx.ids, ierr, sizeof(ierr)), 0);
  fx.env.identities = &fx.ids;
  json_t *profile = json_loads("{\"system\":\"hami\",\"modelLabel\":\"nvidia.com/gpu.product\","
                               "\"models\":{\"A100\":{\"memory\":\"80Gi\"},\"T4\":{\"memory\":\"16Gi\"}}}",
                               0, NULL);
  char err[256];
  ck_assert_int_eq(gpu_profile_parse(profile, &fx.gpu, err, sizeof(err)), 0);
  json_decref(profile);
  fx.env.gpu = fx.gpu;
  fx.env.gang.scheduler = GANG_VOLCANO;
  fx.env.reservations = quota_reservations_new();
  fx.env.reservation_ttl_ms = 30000;
  put(fx.env.projects,
      "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"team-a\",\"uid\":\"p1\"},"
      "\"spec\":{\"namespaces\":[\"team-a\"],\"quota\":{\"gpu\":\"2\",\"cpu\":\"8\",\"pods\":5,\"perMember\":{\"pods\":3}},"
      "\"resourceGroup\":{\"nodeSelector\":{\"pool\":\"ml\"},\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]},"
      "\"priorityClassName\":\"team-normal\","
      "\"volumes\":{\"shared\":{\"claimName\":\"team-a-shared\"},\"personal\":{\"claimName\":\"team-a-home\"}}}}");
  put(fx.env.namespaces,
      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-a\",\"labels\":{\"cubit.dev/project\":\"team-a\"}}}");
  put(fx.env.namespaces, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"elsewhere\"}}");
}

static void teardown(void) {
  for (size_t i = 0; i < sizeof(fx.stores) / sizeof(fx.stores[0]); i++) cache_store_free(fx.stores[i]);
  quota_reservations_free(fx.env.reservations);
  gpu_profile_free(fx.gpu);
  webhook_identities_free(&fx.ids);
}

/* A running pod holding 'gpu' cards, as the cache would show it. */
static void running_pod(const char *name, const char *gpu, const char *user) {
  char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-a\","
           "\"annotations\":{\"cubit.dev/user\":\"%s\"}},\"spec\":{\"containers\":[{\"name\":\"main\",\"resources\":"
           "{\"limits\":{\"nvidia.com/gpu\":\"%s\"}}}]},\"status\":{\"phase\":\"Running\"}}",
           name, user, gpu);
  put(fx.env.pods, json);
}

/* One admission request: CREATE unless op says otherwise. */
typedef struct rq {
  const char *op, *group, *kind, *resource, *sub, *ns, *name, *user;
  int dry_run;
  const char *object, *old; /* JSON text; old may be NULL */
} rq;

/* Builds the AdmissionReview of r and runs handler on it. */
static void admit(void (*handler)(const adm_request *, adm_response *, void *), const rq *r, adm_response *resp) {
  char *text = NULL;
  int n = asprintf(&text,
                   "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u1\","
                   "\"kind\":{\"group\":\"%s\",\"version\":\"v1\",\"kind\":\"%s\"},\"resource\":{\"resource\":\"%s\"},"
                   "\"subResource\":\"%s\",\"namespace\":\"%s\",\"name\":\"%s\",\"operation\":\"%s\","
                   "\"userInfo\":{\"username\":\"%s\",\"groups\":[\"system:authenticated\"]},\"dryRun\":%s,"
                   "\"object\":%s,\"oldObject\":%s}}",
                   r->group ? r->group : "", r->kind ? r->kind : "", r->resource ? r->resource : "",
                   r->sub ? r->sub : "", r->ns ? r->ns : "team-a", r->name ? r->name : "", r->op ? r->op : "CREATE",
                   r->user ? r->user : "alice", r->dry_run ? "true" : "false", r->object ? r->object : "null",
                   r->old ? r->old : "null");
  ck_assert_int_gt(n, 0);
  adm_request req;
  char err[256];
  ck_assert_msg(adm_request_parse(text, strlen(text), &req, err, sizeof(err)) == 0, "%s", err);
  adm_response_init(resp);
  handler(&req, resp, &fx.env);
  adm_request_free(&req);
  free(text);
}

/* The CREATE of obj (JSON text). */
static void review(void (*handler)(const adm_request *, adm_response *, void *), const char *group,
                   const char *kind, const char *ns, const char *name, const char *user, int dry_run,
                   const char *object, adm_response *resp) {
  rq r = {.group = group, .kind = kind, .ns = ns, .name = name, .user = user, .dry_run = dry_run, .object = object};
  admit(handler, &r, resp);
}

static const char *gpu_pod(const char *name, const char *gpu) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-a\"},"
           "\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"x\",\"resources\":{\"limits\":{\"cubit.dev/gpu\":\"%s\"}}}]}}",
           name, gpu);
  return json;
}

/* ---------------------------------------------------------------- quota */

START_TEST(quota_denies_the_third_gpu) {
  running_pod("p1", "1", "alice");
  running_pod("p2", "1", "bob");
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "p3", "alice", 0, gpu_pod("p3", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_int_eq(resp.code, 403);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 1, used 2, quota 2");
  adm_response_free(&resp);
  /* A fraction still fits under the pods quota but not the GPU one. */
  review(quota_validate, "", "Pod", "team-a", "p4", "alice", 0, gpu_pod("p4", "0.5(A100)"), &resp);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 0.5, used 2, quota 2");
  adm_response_free(&resp);
}
END_TEST

START_TEST(quota_ignores_finished_and_foreign_pods) {
  running_pod("p1", "1", "alice");
  put(fx.env.pods,
      "{\"metadata\":{\"name\":\"done\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":[{\"name\":\"m\","
      "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]},\"status\":{\"phase\":\"Succeeded\"}}");
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "p2", "alice", 0, gpu_pod("p2", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  /* Outside any project: no quota at all. */
  review(quota_validate, "", "Pod", "elsewhere", "p9", "alice", 0, gpu_pod("p9", "8"), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

/* Two creations judged before either reaches the cache: the reservation of
 * the first stops the second; a dry run is judged but reserves nothing. */
START_TEST(quota_reservations_stop_concurrent_creations) {
  running_pod("p1", "1", "alice");
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "dry", "alice", 1, gpu_pod("dry", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 0);
  review(quota_validate, "", "Pod", "team-a", "p2", "alice", 0, gpu_pod("p2", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 1);
  review(quota_validate, "", "Pod", "team-a", "p3", "alice", 0, gpu_pod("p3", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 1, used 2, quota 2");
  adm_response_free(&resp);
  /* p2 reaches the cache: counted once, from the cache, not twice. */
  running_pod("p2", "1", "alice");
  review(quota_validate, "", "Pod", "team-a", "p3", "alice", 0, gpu_pod("p3", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 1, used 2, quota 2");
  adm_response_free(&resp);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 0);
}
END_TEST

START_TEST(quota_reservation_expires) {
  fx.env.reservation_ttl_ms = 1; /* the creation failed after admission */
  running_pod("p1", "1", "alice");
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "p2", "alice", 0, gpu_pod("p2", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  struct timespec ts = {0, 5000000};
  nanosleep(&ts, NULL);
  review(quota_validate, "", "Pod", "team-a", "p3", "alice", 0, gpu_pod("p3", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

START_TEST(quota_per_member) {
  running_pod("a1", "0", "alice");
  running_pod("a2", "0", "alice");
  running_pod("a3", "0", "alice");
  adm_response resp;
  const char *pod = "{\"metadata\":{\"name\":\"a4\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":[{\"name\":\"m\"}]}}";
  review(quota_validate, "", "Pod", "team-a", "a4", "alice", 0, pod, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded for member alice: pods: requested 1, used 3, quota 3");
  adm_response_free(&resp);
  review(quota_validate, "", "Pod", "team-a", "b1", "bob", 0, pod, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

static const char *tfjob(const char *name, int workers) {
  static char json[2048];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"kubeflow.org/v1\",\"kind\":\"TFJob\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-a\","
           "\"uid\":\"tf-%s\"},\"spec\":{\"tfReplicaSpecs\":{\"Worker\":{\"replicas\":%d,\"template\":{\"metadata\":"
           "{\"annotations\":{\"cubit.dev/gpu\":\"1\"}},\"spec\":{\"containers\":[{\"name\":\"tensorflow\",\"image\":\"tf\"}]}}}}}}",
           name, name, workers);
  return json;
}

START_TEST(quota_judges_a_gang_whole) {
  adm_response resp;
  review(quota_validate, "kubeflow.org", "TFJob", "team-a", "big", "alice", 0, tfjob("big", 3), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 3, used 0, quota 2");
  adm_response_free(&resp);
  review(quota_validate, "kubeflow.org", "TFJob", "team-a", "ok", "alice", 0, tfjob("ok", 2), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  /* The TFJob reaches the cache: its pods pass (counted with it), but a
   * bare pod does not. */
  put(fx.env.workloads[WL_TFJOB], tfjob("ok", 2));
  const char *worker =
      "{\"metadata\":{\"name\":\"ok-worker-0\",\"namespace\":\"team-a\",\"ownerReferences\":[{\"apiVersion\":"
      "\"kubeflow.org/v1\",\"kind\":\"TFJob\",\"name\":\"ok\",\"uid\":\"tf-ok\",\"controller\":true}]},"
      "\"spec\":{\"containers\":[{\"name\":\"tensorflow\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}";
  review(quota_validate, "", "Pod", "team-a", "ok-worker-0", OPERATOR, 0,
         worker, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  review(quota_validate, "", "Pod", "team-a", "extra", "alice", 0, gpu_pod("extra", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  adm_response_free(&resp);
  /* Once the TFJob succeeds it no longer holds quota. */
  json_t *done = json_loads(tfjob("ok", 2), 0, NULL);
  js_set(done, "status.conditions", json_pack("[{s:s, s:s}]", "type", "Succeeded", "status", "True"));
  json_decref(cache_store_upsert(fx.env.workloads[WL_TFJOB], done));
  json_decref(done);
  fx.env.reservation_ttl_ms = 30000;
  review(quota_validate, "", "Pod", "team-a", "extra2", "alice", 0, gpu_pod("extra2", "1"), &resp);
  /* The reservation of 'extra' was never made (denied); ok's reservation
   * dropped when it reached the cache. */
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

/* ------------------------------------------------------------- mutation */

static json_t *patched(const char *object, adm_response *resp) {
  /* Applies the replace/add ops of top-level fields the handler emits. */
  json_t *obj = json_loads(object, 0, NULL);
  size_t i;
  json_t *op;
  json_array_foreach(resp->patch, i, op) {
    const char *path = js_str(op, "path");
    ck_assert_ptr_nonnull(path);
    json_object_set(obj, path + 1, json_object_get(op, "value"));
  }
  return obj;
}

START_TEST(mutate_translates_gpu_and_injects_defaults) {
  adm_response resp;
  const char *pod = gpu_pod("p1", "0.5(A100)");
  review(pods_mutate_handler, "", "Pod", "team-a", "p1", "alice", 0, pod, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  json_t *out = patched(pod, &resp);
  json_t *c = json_array_get(js_get(out, "spec.containers"), 0);
  json_t *limits = js_get(c, "resources.limits");
  ck_assert_ptr_null(json_object_get(limits, "cubit.dev/gpu"));
  ck_assert_str_eq(json_string_value(json_object_get(limits, "nvidia.com/gpu")), "1");
  ck_assert_str_eq(json_string_value(json_object_get(limits, "nvidia.com/gpucores")), "50");
  ck_assert_str_eq(json_string_value(json_object_get(limits, "nvidia.com/gpumem")), "40960");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(c, "resources.requests"), "nvidia.com/gpucores")), "50");
  json_t *sel = js_get(out, "spec.nodeSelector");
  ck_assert_str_eq(json_string_value(json_object_get(sel, "nvidia.com/gpu.product")), "A100");
  ck_assert_str_eq(json_string_value(json_object_get(sel, "pool")), "ml");
  ck_assert_uint_eq(json_array_size(js_get(out, "spec.tolerations")), 1);
  ck_assert_str_eq(js_str(out, "spec.priorityClassName"), "team-normal");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(out, "metadata.annotations"), "cubit.dev/user")), "alice");
  /* Shared volume and alice's own directory. */
  json_t *mounts = json_object_get(c, "volumeMounts");
  ck_assert_uint_eq(json_array_size(mounts), 2);
  ck_assert_str_eq(js_str(json_array_get(mounts, 0), "mountPath"), "/mnt/shared");
  ck_assert_str_eq(js_str(json_array_get(mounts, 1), "mountPath"), "/mnt/alice");
  ck_assert_str_eq(js_str(json_array_get(mounts, 1), "subPath"), "alice");
  ck_assert_uint_eq(json_array_size(js_get(out, "spec.volumes")), 2);
  json_decref(out);
  adm_response_free(&resp);
}
END_TEST

START_TEST(mutate_pod_without_gpu_sees_none) {
  adm_response resp;
  const char *pod = "{\"metadata\":{\"name\":\"cpu\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":[{\"name\":\"m\"},"
                    "{\"name\":\"side\",\"env\":[{\"name\":\"NVIDIA_VISIBLE_DEVICES\",\"value\":\"0\"}]}]}}";
  review(pods_mutate_handler, "", "Pod", "team-a", "cpu", "alice", 0, pod, &resp);
  json_t *out = patched(pod, &resp);
  json_t *env0 = js_get(json_array_get(js_get(out, "spec.containers"), 0), "env");
  ck_assert_str_eq(js_str(json_array_get(env0, 0), "value"), "none");
  json_t *env1 = js_get(json_array_get(js_get(out, "spec.containers"), 1), "env");
  ck_assert_uint_eq(json_array_size(env1), 1); /* the container's own setting is replaced */
  ck_assert_str_eq(js_str(json_array_get(env1, 0), "value"), "none");
  json_decref(out);
  adm_response_free(&resp);
}
END_TEST

START_TEST(mutate_refuses_bad_gpu_strings) {
  adm_response resp;
  review(pods_mutate_handler, "", "Pod", "team-a", "p", "alice", 0, gpu_pod("p", "0.5(H100)"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_int_eq(resp.code, 422);
  ck_assert_ptr_nonnull(strstr(resp.message, "H100"));
  adm_response_free(&resp);
  review(pods_mutate_handler, "", "Pod", "team-a", "p", "alice", 0, gpu_pod("p", "1.5"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_ptr_nonnull(strstr(resp.message, "1.5"));
  adm_response_free(&resp);
}
END_TEST

START_TEST(mutate_marks_gangs_for_volcano) {
  adm_response resp;
  const char *pod =
      "{\"metadata\":{\"name\":\"tf-worker-1\",\"namespace\":\"team-a\",\"labels\":{\"training.kubeflow.org/replica-type\":"
      "\"worker\"},\"annotations\":{\"cubit.dev/user\":\"alice\"},\"ownerReferences\":[{\"apiVersion\":\"kubeflow.org/v1\","
      "\"kind\":\"TFJob\",\"name\":\"tf\",\"uid\":\"u\",\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":\"tensorflow\"}]}}";
  review(pods_mutate_handler, "", "Pod", "team-a", "tf-worker-1", OPERATOR, 0, pod, &resp);
  json_t *out = patched(pod, &resp);
  ck_assert_str_eq(js_str(out, "spec.schedulerName"), "volcano");
  json_t *ann = js_get(out, "metadata.annotations");
  ck_assert_str_eq(json_string_value(json_object_get(ann, "scheduling.k8s.io/group-name")), "tf");
  ck_assert_str_eq(json_string_value(json_object_get(ann, "volcano.sh/task-spec")), "worker");
  /* The creator comes from the template: the operator passes it on. */
  ck_assert_str_eq(json_string_value(json_object_get(ann, "cubit.dev/user")), "alice");
  json_decref(out);
  adm_response_free(&resp);
}
END_TEST

START_TEST(mutate_workloads_record_the_creator) {
  adm_response resp;
  const char *obj = tfjob("t", 2);
  review(workloads_mutate_handler, "kubeflow.org", "TFJob", "team-a", "t", "alice", 0, obj, &resp);
  json_t *out = patched(obj, &resp);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(out, "metadata.annotations"), "cubit.dev/user")), "alice");
  json_t *tmpl = js_get(out, "spec.tfReplicaSpecs.Worker.template.metadata.annotations");
  ck_assert_str_eq(json_string_value(json_object_get(tmpl, "cubit.dev/user")), "alice");
  ck_assert_str_eq(json_string_value(json_object_get(tmpl, "cubit.dev/gpu")), "1");
  json_decref(out);
  adm_response_free(&resp);
}
END_TEST

START_TEST(mutate_cubit_objects_record_the_creator) {
  adm_response resp;
  const char *nb = "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"nb\","
                   "\"namespace\":\"team-a\"},\"spec\":{\"ide\":\"jupyter\"}}";
  review(workloads_mutate_handler, "cubit.dev", "Notebook", "team-a", "nb", "alice", 0, nb, &resp);
  json_t *out = patched(nb, &resp);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(out, "metadata.annotations"), "cubit.dev/user")), "alice");
  json_decref(out);
  adm_response_free(&resp);
  /* Other groups' kinds are left alone. */
  const char *cm = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"namespace\":\"team-a\"}}";
  review(workloads_mutate_handler, "", "ConfigMap", "team-a", "c", "alice", 0, cm, &resp);
  ck_assert_ptr_null(resp.patch);
  adm_response_free(&resp);
}
END_TEST

START_TEST(reservation_released_on_arrival) {
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "p1", "alice", 0, gpu_pod("p1", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 1);
  quota_reservations_release(fx.env.reservations, -1, "team-a", "other", 0);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 1);
  quota_reservations_release(fx.env.reservations, -1, "team-a", "p1", 0);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 0);
}
END_TEST

static const struct {
  const char *json;
  int rc;
  gang_scheduler s;
  const char *err_part;
} gang_cases[] = {
    {"null", 0, GANG_NONE, NULL},
    {"{\"scheduler\":\"volcano\"}", 0, GANG_VOLCANO, NULL},
    {"{\"scheduler\":\"coscheduling\"}", 0, GANG_COSCHEDULING, NULL},
    {"{\"scheduler\":\"kueue\",\"kueueQueue\":\"team\"}", 0, GANG_KUEUE, NULL},
    {"{\"scheduler\":\"yunikorn\"}", CUBIT_EINVAL, GANG_NONE, "gang.scheduler"},
    {"[1]", CUBIT_EINVAL, GANG_NONE, "gang"},
};

START_TEST(gang_settings) {
  json_t *j = json_loads(gang_cases[_i].json, JSON_DECODE_ANY, NULL);
  gang_config g;
  char err[256] = "";
  ck_assert_int_eq(gang_config_parse(j, &g, err, sizeof(err)), gang_cases[_i].rc);
  if (gang_cases[_i].rc == 0) ck_assert_int_eq(g.scheduler, gang_cases[_i].s);
  else ck_assert_ptr_nonnull(strstr(err, gang_cases[_i].err_part));
  json_decref(j);
}
END_TEST

START_TEST(gang_other_schedulers) {
  json_t *pod = json_loads("{\"metadata\":{\"name\":\"x\"},\"spec\":{}}", 0, NULL);
  gang_config g = {GANG_COSCHEDULING, ""};
  ck_assert_int_eq(gang_mark(&g, pod, "job-1", "worker", "team-a"), 1);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(pod, "metadata.labels"), "scheduling.x-k8s.io/pod-group")),
                   "job-1");
  g.scheduler = GANG_KUEUE;
  ck_assert_int_eq(gang_mark(&g, pod, "job-1", "worker", "team-a"), 1);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(pod, "metadata.labels"), "kueue.x-k8s.io/queue-name")),
                   "team-a");
  ck_assert_int_eq(gang_mark(&g, pod, "job-1", "worker", "team-a"), 0); /* idempotent */
  json_decref(pod);
}
END_TEST

/* ------------------------------------------------------------ projects */

START_TEST(validate_projects) {
  char err[512];
  json_t *p = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"namespaces\":[\"team-a\"]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.namespaces[0]: namespace team-a belongs to project team-a");
  json_decref(p);
  p = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"namespaces\":[\"kube-system\"]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.namespaces[0]: namespace kube-system is reserved for the system");
  json_decref(p);
  p = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"quota\":{\"cpu\":\"1x\"}}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_msg(strstr(err, "spec.quota.cpu: \"1x\": quantities must match") == err, "%s", err);
  json_decref(p);
  p = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"members\":[{\"kind\":\"User\",\"name\":\"x\",\"role\":\"owner\"}]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.members[0].role: want admin, edit or view, got \"owner\"");
  json_decref(p);
  /* The owner itself may list it. */
  p = json_loads("{\"metadata\":{\"name\":\"team-a\"},\"spec\":{\"namespaces\":[\"team-a\",\"team-a2\"]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), 0);
  json_decref(p);
}
END_TEST

int main(void) {
  Suite *s = suite_create("webhooks");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, quota_denies_the_third_gpu);
  tcase_add_test(tc, quota_ignores_finished_and_foreign_pods);
  tcase_add_test(tc, quota_reservations_stop_concurrent_creations);
  tcase_add_test(tc, quota_reservation_expires);
  tcase_add_test(tc, quota_per_member);
  tcase_add_test(tc, quota_judges_a_gang_whole);
  tcase_add_test(tc, mutate_translates_gpu_and_injects_defaults);
  tcase_add_test(tc, mutate_pod_without_gpu_sees_none);
  tcase_add_test(tc, mutate_refuses_bad_gpu_strings);
  tcase_add_test(tc, mutate_marks_gangs_for_volcano);
  tcase_add_test(tc, mutate_workloads_record_the_creator);
  tcase_add_test(tc, mutate_cubit_objects_record_the_creator);
  tcase_add_test(tc, reservation_released_on_arrival);
  tcase_add_loop_test(tc, gang_settings, 0, sizeof(gang_cases) / sizeof(gang_cases[0]));
  tcase_add_test(tc, gang_other_schedulers);
  tcase_add_test(tc, validate_projects);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
