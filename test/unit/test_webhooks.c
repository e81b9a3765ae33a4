/* The admission handlers as pure functions of (AdmissionReview, caches):
 * quota with reservations, pod mutation (GPU, project defaults, gang),
 * workload mutation, Project validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/project/project.h"
#include "cache/transform.h"
#include "runtime/fields.h"
#include "testutil.h"
#include "util/json.h"
#include "webhooks/pods/mutate.h"
#include "webhooks/quota/quota.h"
#include "webhooks/validate/notebook.h"
#include "webhooks/validate/inferenceservice.h"
#include "webhooks/validate/placement.h"
#include "webhooks/validate/project.h"
#include "webhooks/validate/trainingjob.h"

typedef struct fixture {
  webhook_env env;
  gpu_profile *gpu;
  webhook_identities ids;
  cache_store *stores[3 + WL_COUNT + APPS_COUNT + SVC_COUNT];
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
  /* Pods as the manager's informer keeps them (pkg/runtime/fields.c): a
   * handler reading a field the cache drops fails here, not in a cluster. */
  if (s == fx.env.pods) {
    cache_fields *f = NULL;
    ck_assert_int_eq(cache_fields_new(rt_cached_fields(&kube_pods), &f), 0);
    cache_transform(f, o);
    cache_fields_free(f);
  }
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
  for (int i = 0; i < SVC_COUNT; i++) fx.env.services[i] = fx.stores[3 + WL_COUNT + APPS_COUNT + i] = indexed_store();
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
  /* A project whose cluster admin allowed the shared GPU request "-1". */
  put(fx.env.projects,
      "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"team-s\",\"uid\":\"p2\"},"
      "\"spec\":{\"namespaces\":[\"team-s\"],\"quota\":{\"allowSharedGPU\":true}}}");
  put(fx.env.namespaces,
      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-s\",\"labels\":{\"cubit.dev/project\":\"team-s\"}}}");
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
  adm_response_init(resp);
  /* A review the decoder refuses never reaches a handler: the server
   * answers 400 with the decoder's message (webhooks/admission.c). */
  if (adm_request_parse(text, strlen(text), &req, err, sizeof(err)) != 0) {
    adm_deny(resp, 400, "%s", err);
    free(text);
    return;
  }
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


/* ------------------------------------------------- attacks (issue 13) */

static json_t *patched(const char *object, adm_response *resp);

/* A TrainingJob of alice's, declaring 'gpus' one-GPU replicas. */
static void trainingjob(const char *name, const char *uid, int gpus) {
  char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"TrainingJob\",\"metadata\":{\"name\":\"%s\","
           "\"namespace\":\"team-a\",\"uid\":\"%s\",\"annotations\":{\"cubit.dev/user\":\"alice\"}},"
           "\"spec\":{\"roles\":{\"worker\":{\"replicas\":%d,\"resources\":{\"gpu\":\"1\"}}}}}",
           name, uid, gpus);
  put(fx.env.workloads[WL_TRAININGJOB], json);
}

/* A one-GPU pod claiming a controller (kind/name/uid), recorded as user's. */
static const char *owned_pod(const char *name, const char *api, const char *kind, const char *owner,
                             const char *uid, const char *user, const char *phase) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-a\","
           "\"uid\":\"pod-%s\",\"annotations\":{\"cubit.dev/user\":\"%s\"},\"ownerReferences\":[{\"apiVersion\":\"%s\","
           "\"kind\":\"%s\",\"name\":\"%s\",\"uid\":\"%s\",\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":"
           "\"main\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]},\"status\":{\"phase\":\"%s\"}}",
           name, name, user, api, kind, owner, uid, phase);
  return json;
}

/* Forged controller references: pods claiming an existing workload are
 * charged unless its controller creates them within its gang. */
START_TEST(attack_forged_owner_reference) {
  trainingjob("tj", "tj-1", 2); /* holds the whole quota of 2 GPUs */
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "f1", "alice", 0,
         owned_pod("f1", "cubit.dev/v1alpha1", "TrainingJob", "tj", "tj-1", "alice", "Pending"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 1, used 2, quota 2");
  adm_response_free(&resp);
  /* The TrainingJob's own controller (the manager) makes its two pods... */
  for (int i = 0; i < 2; i++) {
    char name[8];
    snprintf(name, sizeof(name), "w%d", i);
    const char *pod = owned_pod(name, "cubit.dev/v1alpha1", "TrainingJob", "tj", "tj-1", "alice", "Running");
    review(quota_validate, "", "Pod", "team-a", name, MANAGER, 0, pod, &resp);
    ck_assert_msg(resp.allowed, "%s: %s", name, resp.message);
    adm_response_free(&resp);
    put(fx.env.pods, pod);
  }
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 0); /* covered, nothing reserved */
  /* ...but not a third, beyond its gang. */
  review(quota_validate, "", "Pod", "team-a", "w2", MANAGER, 0,
         owned_pod("w2", "cubit.dev/v1alpha1", "TrainingJob", "tj", "tj-1", "alice", "Pending"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  adm_response_free(&resp);
  /* A reference whose uid does not match is no cover at all. */
  review(quota_validate, "", "Pod", "team-a", "f2", MANAGER, 0,
         owned_pod("f2", "cubit.dev/v1alpha1", "TrainingJob", "tj", "other-uid", "alice", "Pending"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  adm_response_free(&resp);
}
END_TEST

/* Pods that made it in anyway (created before, or by the controller) count
 * against the workload: it holds the larger of its gang and its pods. */
START_TEST(attack_forged_pods_in_the_cache_count) {
  trainingjob("tj", "tj-1", 1);
  for (int i = 0; i < 3; i++) {
    char name[8];
    snprintf(name, sizeof(name), "f%d", i);
    put(fx.env.pods, owned_pod(name, "cubit.dev/v1alpha1", "TrainingJob", "tj", "tj-1", "alice", "Running"));
  }
  json_t *project = cache_store_get(fx.env.projects, NULL, "team-a");
  usage proj, member;
  quota_committed(&fx.env, project, "alice", &proj, &member);
  ck_assert_int_eq(proj.gpu_milli, 3000);
  ck_assert_int_eq(member.gpu_milli, 3000);
  /* Another member's pod claiming alice's TrainingJob is charged to its creator. */
  put(fx.env.pods, owned_pod("b0", "cubit.dev/v1alpha1", "TrainingJob", "tj", "tj-1", "bob", "Running"));
  quota_committed(&fx.env, project, "bob", &proj, &member);
  ck_assert_int_eq(proj.gpu_milli, 4000);
  ck_assert_int_eq(member.gpu_milli, 1000);
  json_decref(project);
}
END_TEST

/* Two workloads naming each other as controller are both charged. */
START_TEST(attack_owner_cycle) {
  const char *a = "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"a\",\"namespace\":\"team-a\","
                  "\"uid\":\"ua\",\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"b\","
                  "\"uid\":\"ub\",\"controller\":true}]},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
                  "\"m\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}}}";
  const char *b = "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"b\",\"namespace\":\"team-a\","
                  "\"uid\":\"ub\",\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"a\","
                  "\"uid\":\"ua\",\"controller\":true}]},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
                  "\"m\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}}}";
  put(fx.env.workloads[WL_JOB], a);
  put(fx.env.workloads[WL_JOB], b);
  json_t *project = cache_store_get(fx.env.projects, NULL, "team-a");
  usage proj;
  quota_committed(&fx.env, project, NULL, &proj, NULL);
  ck_assert_int_ge(proj.gpu_milli, 2000);
  json_decref(project);
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "p", "alice", 0, gpu_pod("p", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  adm_response_free(&resp);
}
END_TEST

static const char *job(int parallelism, int generation) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\",\"namespace\":\"team-a\","
           "\"uid\":\"j-1\",\"generation\":%d,\"annotations\":{\"cubit.dev/user\":\"alice\"}},\"spec\":{\"parallelism\":%d,"
           "\"template\":{\"spec\":{\"containers\":[{\"name\":\"m\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}}}",
           generation, parallelism);
  return json;
}

/* An update asking for more is judged on the increase, and reserved until
 * the cache shows the new generation. */
START_TEST(attack_update_raises_parallelism) {
  char old[1024];
  snprintf(old, sizeof(old), "%s", job(1, 1));
  put(fx.env.workloads[WL_JOB], old);
  adm_response resp;
  rq up = {.op = "UPDATE", .group = "batch", .kind = "Job", .name = "j", .object = job(5, 2), .old = old};
  admit(quota_validate, &up, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 4, used 1, quota 2");
  adm_response_free(&resp);
  up.object = job(2, 2);
  admit(quota_validate, &up, &resp);
  ck_assert_msg(resp.allowed, "%s", resp.message);
  adm_response_free(&resp);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 1);
  /* The cache still shows generation 1: the increase stays reserved. */
  review(quota_validate, "", "Pod", "team-a", "p", "alice", 0, gpu_pod("p", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  adm_response_free(&resp);
  /* Generation 2 arrives: counted from the cache, once. */
  put(fx.env.workloads[WL_JOB], job(2, 2));
  quota_reservations_release(fx.env.reservations, WL_JOB, "team-a", "j", 2, NULL);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 0);
  review(quota_validate, "", "Pod", "team-a", "p", "alice", 0, gpu_pod("p", "1"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 1, used 2, quota 2");
  adm_response_free(&resp);
  /* An update of a spec that no longer reads, but is not changed, passes
   * (a finalizer must stay removable); one that changes it is refused. */
  const char *bad = "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\",\"namespace\":\"team-a\","
                    "\"generation\":2,\"finalizers\":[]},\"spec\":{\"parallelism\":\"x\"}}";
  rq same = {.op = "UPDATE", .group = "batch", .kind = "Job", .name = "j", .object = bad, .old = bad};
  admit(quota_validate, &same, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  same.old = job(2, 2);
  admit(quota_validate, &same, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_int_eq(resp.code, 422);
  ck_assert_str_eq(resp.message, "spec.parallelism: must be a whole number, at least 0");
  adm_response_free(&resp);
  /* Lowering it asks for nothing. */
  snprintf(old, sizeof(old), "%s", job(2, 2));
  up.object = job(1, 3);
  up.old = old;
  admit(quota_validate, &up, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

static const char *cpu_pod(const char *name, const char *cpu, int generation) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-a\",\"generation\":%d,"
           "\"annotations\":{\"cubit.dev/user\":\"alice\"}},\"spec\":{\"containers\":[{\"name\":\"m\",\"resources\":"
           "{\"requests\":{\"cpu\":\"%s\"}}}]},\"status\":{\"phase\":\"Running\"}}",
           name, generation, cpu);
  return json;
}

START_TEST(attack_pod_resize) {
  char old[1024];
  snprintf(old, sizeof(old), "%s", cpu_pod("big", "1", 1));
  put(fx.env.pods, old);
  adm_response resp;
  rq up = {.op = "UPDATE", .kind = "Pod", .resource = "pods", .sub = "resize", .name = "big",
           .object = cpu_pod("big", "10", 2), .old = old};
  admit(quota_validate, &up, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: cpu: requested 9, used 1, quota 8");
  adm_response_free(&resp);
  up.object = cpu_pod("big", "3", 2);
  admit(quota_validate, &up, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  /* Other updates of a pod are not this webhook's. */
  up.sub = "";
  up.object = cpu_pod("big", "10", 2);
  admit(quota_validate, &up, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

static const char *deployment(int replicas) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"team-a\","
           "\"uid\":\"d-1\",\"generation\":1},\"spec\":{\"replicas\":%d,\"template\":{\"spec\":{\"containers\":[{"
           "\"name\":\"m\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}}}",
           replicas);
  return json;
}

START_TEST(attack_deployments_and_scale) {
  adm_response resp;
  review(quota_validate, "apps", "Deployment", "team-a", "web", "alice", 0, deployment(3), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 3, used 0, quota 2");
  adm_response_free(&resp);
  review(quota_validate, "apps", "Deployment", "team-a", "web", "alice", 0, deployment(1), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 0); /* its pods are what counts */
  put(fx.env.apps[APPS_DEPLOYMENT], deployment(1));
  rq scale = {.op = "UPDATE", .group = "autoscaling", .kind = "Scale", .resource = "deployments", .sub = "scale",
              .name = "web", .object = "{\"kind\":\"Scale\",\"spec\":{\"replicas\":4}}",
              .old = "{\"kind\":\"Scale\",\"spec\":{\"replicas\":1}}"};
  admit(quota_validate, &scale, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 3, used 0, quota 2");
  adm_response_free(&resp);
  scale.object = "{\"kind\":\"Scale\",\"spec\":{\"replicas\":2}}";
  admit(quota_validate, &scale, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

START_TEST(attack_gpucores_zero) {
  const char *pod = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":[{\"name\":\"m\","
                    "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"8\",\"nvidia.com/gpucores\":\"0\"}}}]}}";
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "p", "alice", 0, pod, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 8, used 0, quota 2");
  adm_response_free(&resp);
}
END_TEST

static const char *env_value(const json_t *container, const char *name) {
  const json_t *e = js_named(json_object_get(container, "env"), name);
  return e ? js_str(e, "value") : NULL;
}

START_TEST(attack_visible_devices) {
  adm_response resp;
  const char *pod =
      "{\"metadata\":{\"name\":\"p\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":["
      "{\"name\":\"cpu\",\"env\":[{\"name\":\"NVIDIA_VISIBLE_DEVICES\",\"value\":\"all\"}]},"
      "{\"name\":\"from\",\"env\":[{\"name\":\"NVIDIA_VISIBLE_DEVICES\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"c\",\"key\":\"k\"}}}]},"
      "{\"name\":\"gpu\",\"env\":[{\"name\":\"NVIDIA_VISIBLE_DEVICES\",\"value\":\"all\"},{\"name\":\"X\",\"value\":\"1\"}],"
      "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}},"
      "{\"name\":\"shared\",\"resources\":{\"limits\":{\"cubit.dev/gpu\":\"-1\"}}}],"
      "\"initContainers\":[{\"name\":\"init\",\"env\":[{\"name\":\"NVIDIA_VISIBLE_DEVICES\",\"value\":\"0,1\"}]}]}}";
  /* "-1" sees every GPU of the node uncharged: refused where the project
   * does not allow it... */
  review(pods_mutate_handler, "", "Pod", "team-a", "p", "alice", 0, pod, &resp);
  ck_assert(!resp.allowed);
  ck_assert_msg(strstr(resp.message, "container shared") && strstr(resp.message, "spec.quota.allowSharedGPU"), "%s",
                resp.message);
  adm_response_free(&resp);
  /* ...and where it does, every other container still sees only its own. */
  review(pods_mutate_handler, "", "Pod", "team-s", "p", "alice", 0, pod, &resp);
  ck_assert_msg(resp.allowed, "%s", resp.message);
  json_t *out = patched(pod, &resp);
  json_t *cs = js_get(out, "spec.containers");
  ck_assert_str_eq(env_value(json_array_get(cs, 0), "NVIDIA_VISIBLE_DEVICES"), "none");
  ck_assert_str_eq(env_value(json_array_get(cs, 1), "NVIDIA_VISIBLE_DEVICES"), "none");
  ck_assert_ptr_null(js_named(json_object_get(json_array_get(cs, 2), "env"), "NVIDIA_VISIBLE_DEVICES"));
  ck_assert_str_eq(env_value(json_array_get(cs, 2), "X"), "1");
  ck_assert_str_eq(env_value(json_array_get(cs, 3), "NVIDIA_VISIBLE_DEVICES"), "all"); /* "-1" asks for it */
  ck_assert_str_eq(env_value(json_array_get(js_get(out, "spec.initContainers"), 0), "NVIDIA_VISIBLE_DEVICES"), "none");
  json_decref(out);
  adm_response_free(&resp);
  /* A debugging container added later sees no GPU either. */
  const char *old = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":[{\"name\":\"m\"}]}}";
  const char *debug = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":[{\"name\":\"m\"}],"
                      "\"ephemeralContainers\":[{\"name\":\"dbg\",\"image\":\"cuda\",\"env\":[{\"name\":"
                      "\"NVIDIA_VISIBLE_DEVICES\",\"value\":\"all\"}]}]}}";
  rq eph = {.op = "UPDATE", .kind = "Pod", .resource = "pods", .sub = "ephemeralcontainers", .name = "p",
            .object = debug, .old = old};
  admit(pods_mutate_handler, &eph, &resp);
  out = patched(debug, &resp);
  ck_assert_str_eq(env_value(json_array_get(js_get(out, "spec.ephemeralContainers"), 0), "NVIDIA_VISIBLE_DEVICES"),
                   "none");
  json_decref(out);
  adm_response_free(&resp);
}
END_TEST

START_TEST(attack_visible_devices_env_from) {
  adm_response resp;
  /* A container holding a GPU gets its variables after its device plugin's:
   * an envFrom that could define NVIDIA_VISIBLE_DEVICES would widen it. */
  const char *gpu =
      "{\"metadata\":{\"name\":\"p\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":["
      "{\"name\":\"ok\",\"envFrom\":[{\"configMapRef\":{\"name\":\"c\"}}]},"
      "{\"name\":\"gpu\",\"envFrom\":[{\"prefix\":\"APP_\",\"configMapRef\":{\"name\":\"c\"}},"
      "{\"prefix\":\"NVIDIA_\",\"secretRef\":{\"name\":\"s\"}}],"
      "\"resources\":{\"limits\":{\"cubit.dev/gpu\":\"1\"}}}]}}";
  review(pods_mutate_handler, "", "Pod", "team-a", "p", "alice", 0, gpu, &resp);
  ck_assert(!resp.allowed);
  ck_assert_msg(strstr(resp.message, "envFrom[1] of container gpu") && strstr(resp.message, "prefix"), "%s",
                resp.message);
  adm_response_free(&resp);
  /* A prefix that cannot make the name is fine; a container without a GPU
   * gets an explicit "none", which beats any envFrom. */
  const char *fine =
      "{\"metadata\":{\"name\":\"p\",\"namespace\":\"team-a\"},\"spec\":{\"containers\":["
      "{\"name\":\"cpu\",\"envFrom\":[{\"configMapRef\":{\"name\":\"c\"}}]},"
      "{\"name\":\"gpu\",\"envFrom\":[{\"prefix\":\"APP_\",\"configMapRef\":{\"name\":\"c\"}}],"
      "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}";
  review(pods_mutate_handler, "", "Pod", "team-a", "p", "alice", 0, fine, &resp);
  ck_assert_msg(resp.allowed, "%s", resp.message);
  json_t *out = patched(fine, &resp);
  ck_assert_str_eq(env_value(json_array_get(js_get(out, "spec.containers"), 0), "NVIDIA_VISIBLE_DEVICES"), "none");
  ck_assert_ptr_null(js_named(json_object_get(json_array_get(js_get(out, "spec.containers"), 1), "env"),
                              "NVIDIA_VISIBLE_DEVICES"));
  json_decref(out);
  adm_response_free(&resp);
}
END_TEST

START_TEST(attack_resource_claims) {
  adm_response resp;
  /* A DRA claim's devices are not in the containers' resources: uncharged. */
  const char *pod = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"%s\"},\"spec\":{\"resourceClaims\":["
                    "{\"name\":\"gpu\",\"resourceClaimTemplateName\":\"a100\"}],\"containers\":[{\"name\":\"m\","
                    "\"resources\":{\"claims\":[{\"name\":\"gpu\"}]}}]}}";
  char text[512];
  snprintf(text, sizeof(text), pod, "team-a");
  review(pods_mutate_handler, "", "Pod", "team-a", "p", "alice", 0, text, &resp);
  ck_assert(!resp.allowed);
  ck_assert_msg(strstr(resp.message, "spec.resourceClaims") && strstr(resp.message, "spec.quota.allowResourceClaims"),
                "%s", resp.message);
  adm_response_free(&resp);
  put(fx.env.projects,
      "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"team-s\",\"uid\":\"p2\"},"
      "\"spec\":{\"namespaces\":[\"team-s\"],\"quota\":{\"allowResourceClaims\":true}}}");
  snprintf(text, sizeof(text), pod, "team-s");
  review(pods_mutate_handler, "", "Pod", "team-s", "p", "alice", 0, text, &resp);
  ck_assert_msg(resp.allowed, "%s", resp.message);
  adm_response_free(&resp);
}
END_TEST

static const char *user_in(const json_t *obj) {
  return json_string_value(json_object_get(js_get(obj, "metadata.annotations"), "cubit.dev/user"));
}

START_TEST(attack_identity) {
  adm_response resp;
  /* A user-set creator is replaced by the requester... */
  const char *pod = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"team-a\",\"annotations\":{\"cubit.dev/user\":\"bob\"}},"
                    "\"spec\":{\"containers\":[{\"name\":\"m\"}]}}";
  review(pods_mutate_handler, "", "Pod", "team-a", "p", "alice", 0, pod, &resp);
  json_t *out = patched(pod, &resp);
  ck_assert_str_eq(user_in(out), "alice");
  json_t *mounts = js_get(json_array_get(js_get(out, "spec.containers"), 0), "volumeMounts");
  ck_assert_str_eq(js_str(json_array_get(mounts, 1), "subPath"), "alice");
  json_decref(out);
  adm_response_free(&resp);
  /* ...a workload controller passes the template's on... */
  review(pods_mutate_handler, "", "Pod", "team-a", "p", RS_CONTROLLER, 0, pod, &resp);
  out = patched(pod, &resp);
  ck_assert_str_eq(user_in(out), "bob");
  json_decref(out);
  adm_response_free(&resp);
  /* ...and once recorded it never changes. */
  const char *was = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"team-a\",\"annotations\":{\"cubit.dev/user\":\"alice\"}},"
                    "\"spec\":{\"containers\":[{\"name\":\"m\"}]}}";
  rq up = {.op = "UPDATE", .kind = "Pod", .resource = "pods", .name = "p", .object = pod, .old = was};
  admit(pods_mutate_handler, &up, &resp);
  out = patched(pod, &resp);
  ck_assert_str_eq(user_in(out), "alice");
  json_decref(out);
  adm_response_free(&resp);
  up.group = "cubit.dev";
  up.kind = "Notebook";
  up.resource = "notebooks";
  admit(workloads_mutate_handler, &up, &resp);
  out = patched(pod, &resp);
  ck_assert_str_eq(user_in(out), "alice");
  json_decref(out);
  adm_response_free(&resp);
}
END_TEST

START_TEST(attack_templates_carry_the_creator) {
  adm_response resp;
  const char *deploy =
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"namespace\":\"team-a\"},"
      "\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"cubit.dev/user\":\"bob\"}},\"spec\":{\"containers\":[]}}}}";
  review(workloads_mutate_handler, "apps", "Deployment", "team-a", "d", "alice", 0, deploy, &resp);
  json_t *out = patched(deploy, &resp);
  ck_assert_str_eq(user_in(out), "alice");
  ck_assert_str_eq(user_in(js_get(out, "spec.template")), "alice");
  json_decref(out);
  adm_response_free(&resp);
  const char *cron =
      "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"c\",\"namespace\":\"team-a\"},"
      "\"spec\":{\"schedule\":\"* * * * *\",\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}}}";
  review(workloads_mutate_handler, "batch", "CronJob", "team-a", "c", "alice", 0, cron, &resp);
  out = patched(cron, &resp);
  ck_assert_str_eq(user_in(js_get(out, "spec.jobTemplate")), "alice");
  ck_assert_str_eq(user_in(js_get(out, "spec.jobTemplate.spec.template")), "alice");
  json_decref(out);
  adm_response_free(&resp);
  /* A propagator's StatefulSet that records its creator on the template
   * only (a Notebook's) keeps it. */
  const char *sts = "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"nb\",\"namespace\":\"team-a\"},"
                    "\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"cubit.dev/user\":\"alice\"}},\"spec\":{\"containers\":[]}}}}";
  review(workloads_mutate_handler, "apps", "StatefulSet", "team-a", "nb", MANAGER, 0, sts, &resp);
  ck_assert_ptr_null(resp.patch);
  adm_response_free(&resp);
  /* The Job the CronJob controller makes keeps the creator it carries. */
  const char *j = "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"c-1\",\"namespace\":\"team-a\","
                  "\"annotations\":{\"cubit.dev/user\":\"alice\"}},\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}";
  review(workloads_mutate_handler, "batch", "Job", "team-a", "c-1", "system:serviceaccount:kube-system:cronjob-controller",
         0, j, &resp);
  ck_assert_ptr_null(resp.patch); /* as the CronJob's template made it */
  adm_response_free(&resp);
}
END_TEST

/* With history on, every run is created with the recorder's finalizer,
 * whoever creates it; nothing else is, and never on update. */
static int has_history_finalizer(const json_t *obj) {
  size_t i;
  json_t *f;
  json_array_foreach(js_get(obj, "metadata.finalizers"), i, f) if (strcmp(json_string_value(f), "cubit.dev/history") == 0) return 1;
  return 0;
}

START_TEST(history_finalizer_on_creation) {
  static const struct {
    const char *kind, *user, *op;
    int history, want;
    const char *object;
  } cases[] = {
      {"TrainingJob", "alice", "CREATE", 1, 1, "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\"}}"},
      {"PipelineRun", MANAGER, "CREATE", 1, 1, "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\"}}"},
      {"TrainingJob", MANAGER, "CREATE", 1, 1,
       "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\",\"annotations\":{\"cubit.dev/user\":\"alice\"}}}"},
      {"Notebook", "alice", "CREATE", 1, 1,
       "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\",\"finalizers\":[\"other.io/x\"]}}"},
      {"Experiment", "alice", "CREATE", 1, 1, "{\"metadata\":{\"name\":\"o\",\"namespace\":\"outside\"}}"},
      {"InferenceService", "alice", "CREATE", 1, 0,
       "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\",\"finalizers\":[\"cubit.dev/history\"]}}"},
      {"TrainingJob", "alice", "CREATE", 0, 0, "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\"}}"},
      {"JobTemplate", "alice", "CREATE", 1, 0, "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\"}}"},
      {"TrainingJob", "alice", "UPDATE", 1, 0, "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\"}}"},
  };
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    fx.env.history = cases[c].history;
    rq r = {.op = cases[c].op, .group = "cubit.dev", .kind = cases[c].kind, .ns = "team-a", .name = "o",
            .user = cases[c].user, .object = cases[c].object,
            .old = strcmp(cases[c].op, "UPDATE") == 0 ? cases[c].object : NULL};
    adm_response resp;
    admit(workloads_mutate_handler, &r, &resp);
    json_t *out = patched(cases[c].object, &resp);
    int already = strstr(cases[c].object, "cubit.dev/history") != NULL;
    ck_assert_msg(has_history_finalizer(out) == (cases[c].want || already), "case %zu (%s by %s)", c, cases[c].kind,
                  cases[c].user);
    if (strstr(cases[c].object, "other.io/x")) ck_assert_uint_eq(json_array_size(js_get(out, "metadata.finalizers")), 2);
    json_decref(out);
    adm_response_free(&resp);
  }
  fx.env.history = 0;
}
END_TEST

/* Per-member limits hold through a Deployment: its pods carry the creator
 * its template records. */
START_TEST(attack_per_member_through_a_deployment) {
  for (int i = 0; i < 3; i++) {
    char name[8];
    snprintf(name, sizeof(name), "d%d", i);
    put(fx.env.pods, owned_pod(name, "apps/v1", "ReplicaSet", "web-1", "rs-1", "alice", "Running"));
  }
  const char *pod = owned_pod("d3", "apps/v1", "ReplicaSet", "web-1", "rs-1", "alice", "Pending");
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "d3", RS_CONTROLLER, 0, pod, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  /* The GPU quota (2) is full before alice's pods quota (3): both are named. */
  ck_assert_str_eq(resp.message, "project team-a: quota exceeded: gpu: requested 1, used 3, quota 2");
  adm_response_free(&resp);
}
END_TEST


/* ------------------------------------------------------- any JSON at all */

static int fake_authorize(const json_t *user_info, const webhook_access *a, char *why, size_t whylen, void *arg);

/* Objects no API server would send, and some it would: every handler this
 * suite covers answers each of them, under every operation, kind and
 * subresource, with a well-formed review (the sanitizer build checks the
 * memory). */
static const char *const odd_objects[] = {
    "5", "[]", "\"x\"", "null", "true", "{}",
    "{\"metadata\":5}",
    "{\"metadata\":{\"name\":5,\"namespace\":[],\"annotations\":5,\"labels\":[],\"ownerReferences\":5,\"generation\":\"x\"}}",
    "{\"metadata\":{\"name\":\"o\",\"ownerReferences\":[5,{\"controller\":true},{\"controller\":true,\"apiVersion\":5,\"kind\":[],"
    "\"name\":{},\"uid\":1},{\"controller\":true,\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"j\",\"uid\":\"j-1\"}]}}",
    "{\"metadata\":{\"name\":\"o\",\"annotations\":{\"cubit.dev/user\":5,\"cubit.dev/gpu\":[]}},\"spec\":{\"containers\":[{}]}}",
    "{\"spec\":5}",
    "{\"spec\":{\"containers\":5,\"initContainers\":{},\"ephemeralContainers\":\"x\"}}",
    "{\"spec\":{\"containers\":[5,null,{\"resources\":5},{\"resources\":{\"limits\":5,\"requests\":[]}},{\"env\":5},"
    "{\"env\":[5,{\"name\":5}]},{\"resources\":{\"limits\":{\"cubit.dev/gpu\":5.5}}},{\"resources\":{\"limits\":"
    "{\"cubit.dev/gpu\":\"0.5(\"}}},{\"volumeMounts\":5}],\"volumes\":5,\"nodeSelector\":5,\"tolerations\":5}}",
    "{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1e300\",\"cpu\":\"-1\",\"memory\":{}}}}],"
    "\"overhead\":5,\"resources\":[]}}",
    "{\"spec\":{\"namespaces\":5,\"members\":{},\"quota\":[],\"queue\":5,\"deletionPolicy\":5}}",
    "{\"spec\":{\"namespaces\":[5,\"\",\"a\",\"a\"],\"members\":[5,{\"kind\":5}],\"quota\":{\"gpu\":{},\"perMember\":5}}}",
    "{\"metadata\":{\"name\":\"team-a\"},\"spec\":{\"namespaces\":[\"team-a\"],\"members\":[{\"kind\":\"User\",\"name\":\"x\",\"role\":\"admin\"}]}}",
    "{\"spec\":{\"template\":5,\"replicas\":\"x\",\"parallelism\":-1,\"completions\":{}}}",
    "{\"spec\":{\"template\":{\"metadata\":5,\"spec\":{\"containers\":[{}]}},\"replicas\":3,\"jobTemplate\":5}}",
    "{\"spec\":{\"jobTemplate\":{\"metadata\":[],\"spec\":{\"template\":5}}}}",
    "{\"spec\":{\"tfReplicaSpecs\":[],\"pytorchReplicaSpecs\":{\"w\":5},\"roles\":5,\"tasks\":{}}}",
    "{\"spec\":{\"roles\":{\"w\":{\"replicas\":-5,\"resources\":{\"gpu\":{}}}},\"tasks\":[5,{\"replicas\":\"x\"}]}}",
    "{\"kind\":\"Scale\",\"spec\":{\"replicas\":\"many\"}}",
};

static const struct {
  const char *group, *kind, *resource, *sub;
} odd_kinds[] = {
    {"", "Pod", "pods", ""},
    {"", "Pod", "pods", "resize"},
    {"", "Pod", "pods", "ephemeralcontainers"},
    {"batch", "Job", "jobs", ""},
    {"batch", "CronJob", "cronjobs", ""},
    {"kubeflow.org", "TFJob", "tfjobs", ""},
    {"kubeflow.org", "PyTorchJob", "pytorchjobs", ""},
    {"batch.volcano.sh", "Job", "jobs", ""},
    {"apps", "Deployment", "deployments", ""},
    {"autoscaling", "Scale", "deployments", "scale"},
    {"cubit.dev", "TrainingJob", "trainingjobs", ""},
    {"cubit.dev", "Project", "projects", ""},
    {"cubit.dev", "Notebook", "notebooks", ""},
};

START_TEST(handlers_are_total) {
  static void (*const handlers[])(const adm_request *, adm_response *, void *) = {
      pods_mutate_handler, workloads_mutate_handler, quota_validate, validate_project_handler};
  static const char *const ops[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
  fx.env.authorize = fake_authorize;
  /* The cache holds odd objects too: they are read while judging. */
  put(fx.env.pods, "{\"metadata\":{\"name\":\"w\",\"namespace\":\"team-a\",\"ownerReferences\":[{\"apiVersion\":5,"
                   "\"kind\":\"Job\",\"name\":\"j\",\"uid\":\"j-1\",\"controller\":true}]},\"spec\":5}");
  put(fx.env.workloads[WL_JOB], "{\"metadata\":{\"name\":\"j\",\"namespace\":\"team-a\",\"uid\":\"j-1\","
                                "\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"j\","
                                "\"uid\":\"j-1\",\"controller\":true}]},\"spec\":{\"parallelism\":\"x\"}}");
  put(fx.env.apps[APPS_DEPLOYMENT], "{\"metadata\":{\"name\":\"o\",\"namespace\":\"team-a\"},\"spec\":5}");
  const char *obj = odd_objects[_i];
  for (size_t h = 0; h < sizeof(handlers) / sizeof(handlers[0]); h++)
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
      for (size_t k = 0; k < sizeof(odd_kinds) / sizeof(odd_kinds[0]); k++)
        for (int user = 0; user < 3; user++) {
          const char *users[] = {"alice", RS_CONTROLLER, "root"};
          rq r = {.op = ops[o], .group = odd_kinds[k].group, .kind = odd_kinds[k].kind,
                  .resource = odd_kinds[k].resource, .sub = odd_kinds[k].sub, .name = "o", .user = users[user],
                  .object = obj, .old = o == 1 ? odd_objects[(_i + 7) % (sizeof(odd_objects) / sizeof(odd_objects[0]))] : NULL};
          adm_response resp;
          admit(handlers[h], &r, &resp);
          ck_assert(resp.allowed == 0 || resp.allowed == 1);
          adm_response_free(&resp);
        }
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

/* A personal directory without a claim of its own is a sub-path of the
 * shared claim, under the project's mountRoot; the pod gets the labels users
 * select on. */
START_TEST(mutate_personal_on_shared_claim) {
  json_t *project = json_loads(
      "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"volumes\":{\"shared\":{\"claimName\":\"team\","
      "\"provision\":{\"size\":\"1Gi\"}},\"personal\":{\"mountRoot\":\"/home/\"}}}}",
      0, NULL);
  json_t *pod = json_loads("{\"metadata\":{\"name\":\"x\",\"labels\":{\"cubit.dev/trainingjob\":\"j\"},\"annotations\":"
                           "{\"batch.kubernetes.io/job-completion-index\":\"2\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                           "\"image\":\"i\"}]}}",
                           0, NULL);
  char err[256];
  ck_assert_int_eq(pods_mutate(&fx.env, project, "system:serviceaccount:ns:sa", pod, err, sizeof(err)), 0);
  json_t *mounts = js_get(json_array_get(js_get(pod, "spec.containers"), 0), "volumeMounts");
  ck_assert_uint_eq(json_array_size(mounts), 2);
  ck_assert_str_eq(js_str(json_array_get(mounts, 1), "mountPath"), "/home/system-serviceaccount-ns-sa");
  ck_assert_str_eq(js_str(json_array_get(mounts, 1), "subPath"), "system-serviceaccount-ns-sa");
  json_t *vols = js_get(pod, "spec.volumes");
  ck_assert_uint_eq(json_array_size(vols), 2);
  ck_assert_str_eq(js_str(json_array_get(vols, 1), "persistentVolumeClaim.claimName"), "team");
  /* The labels users select on: project, creator (as a label value), replica index. */
  json_t *labels = js_get(pod, "metadata.labels");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/project")), "p");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/creator")), "system-serviceaccount-ns-sa");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/replica-index")), "2");
  json_decref(pod);
  json_decref(project);
}
END_TEST

/* A Spark executor's index is Spark's executor id; a pod that is no
 * TrainingJob's gets none. */
START_TEST(mutate_spark_executor_index) {
  json_t *project = json_loads("{\"metadata\":{\"name\":\"p\"},\"spec\":{}}", 0, NULL);
  static const char *pods[][2] = {
      {"{\"metadata\":{\"name\":\"e\",\"labels\":{\"cubit.dev/trainingjob\":\"j\",\"spark-exec-id\":\"3\"}},"
       "\"spec\":{\"containers\":[{\"name\":\"spark\",\"image\":\"i\"}]}}",
       "3"},
      {"{\"metadata\":{\"name\":\"o\",\"labels\":{\"spark-exec-id\":\"3\"}},\"spec\":{\"containers\":[{\"name\":"
       "\"spark\",\"image\":\"i\"}]}}",
       NULL},
  };
  for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
    json_t *pod = json_loads(pods[i][0], 0, NULL);
    ck_assert_ptr_nonnull(pod);
    char err[256];
    ck_assert_int_eq(pods_mutate(&fx.env, project, "alice", pod, err, sizeof(err)), 0);
    json_t *got = json_object_get(js_get(pod, "metadata.labels"), "cubit.dev/replica-index");
    if (pods[i][1]) ck_assert_str_eq(json_string_value(got), pods[i][1]);
    else ck_assert_ptr_null(got);
    json_decref(pod);
  }
  json_decref(project);
}
END_TEST

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
  quota_reservations_release(fx.env.reservations, -1, "team-a", "other", 0, NULL);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 1);
  quota_reservations_release(fx.env.reservations, -1, "team-a", "p1", 0, NULL);
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
    {"{\"scheduler\":\"volcano\",\"queue\":\"q\"}", CUBIT_EINVAL, GANG_NONE, "gang.queue: unknown setting"},
    {"{\"scheduler\":5}", CUBIT_EINVAL, GANG_NONE, "gang.scheduler: want a string"},
    {"{\"scheduler\":\"kueue\",\"kueueQueue\":true}", CUBIT_EINVAL, GANG_NONE, "gang.kueueQueue: want a string"},
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

/* ------------------------------------------------- trainingjob clusters */

/* Project team-m, spanning the member east and the hub, and its namespace. */
static void put_team_m(void) {
  put(fx.env.projects,
      "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"team-m\",\"uid\":\"p3\"},"
      "\"spec\":{\"namespaces\":[\"team-m\"],\"clusters\":[{\"name\":\"east\"},{\"name\":\"local\"}]}}");
  put(fx.env.namespaces,
      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-m\",\"labels\":{\"cubit.dev/project\":\"team-m\"}}}");
}

START_TEST(validate_placement_clusters) {
  put_team_m();
  static const struct {
    const char *ns, *cluster, *old; /* old: the object before an update, NULL on create */
    int ok;
    const char *err;
  } cases[] = {
      {"team-m", "east", NULL, 1, ""},
      {"team-m", "local", NULL, 1, ""},
      {"team-m", NULL, NULL, 1, ""},
      {"team-m", "west", NULL, 0, "spec.cluster: west is not one of project team-m's clusters (east, local)"},
      {"team-a", "local", NULL, 1, ""},
      {"team-a", "east", NULL, 0,
       "spec.cluster: east: the namespace's project spans no clusters; only \"local\" is allowed"},
      {"elsewhere", "east", NULL, 0,
       "spec.cluster: east: the namespace's project spans no clusters; only \"local\" is allowed"},
      /* Set after placement by policy: only where it runs. */
      {"team-m", "local", "{\"spec\":{},\"status\":{\"cluster\":\"east\"}}", 0,
       "spec.cluster: it was placed on cluster east already; it cannot move to local"},
      {"team-m", "east", "{\"spec\":{},\"status\":{\"cluster\":\"east\"}}", 1, ""},
      /* Unchanged: not judged again (the project may have dropped it). */
      {"team-a", "east", "{\"spec\":{\"cluster\":\"east\"},\"status\":{\"cluster\":\"east\"}}", 1, ""},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *tj = json_pack("{s:{s:s, s:s}, s:{}}", "metadata", "name", "j", "namespace", cases[i].ns, "spec");
    if (cases[i].cluster) json_object_set_new(json_object_get(tj, "spec"), "cluster", json_string(cases[i].cluster));
    json_t *old = cases[i].old ? json_loads(cases[i].old, 0, NULL) : NULL;
    char err[600] = "";
    int rc = validate_placement_cluster(&fx.env, tj, old, err, sizeof(err));
    ck_assert_msg((rc == 0) == cases[i].ok, "case %zu: rc %d (%s)", i, rc, err);
    if (!cases[i].ok) ck_assert_str_eq(err, cases[i].err);
    json_decref(old);
    json_decref(tj);
  }
}
END_TEST

/* ------------------------------------------------- notebook clusters */

/* A Notebook's spec.cluster and spec.placement through its validating
 * webhook: the project's clusters judge spec.cluster as a TrainingJob's,
 * a placed notebook cannot move, and it is never re-placed. */
START_TEST(validate_notebook_placement) {
  put(fx.env.projects,
      "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"team-m\",\"uid\":\"p3\"},"
      "\"spec\":{\"namespaces\":[\"team-m\"],\"clusters\":[{\"name\":\"east\"},{\"name\":\"local\"}]}}");
  put(fx.env.namespaces,
      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-m\",\"labels\":{\"cubit.dev/project\":\"team-m\"}}}");
  static const struct {
    const char *ns, *spec, *old; /* spec: the fields besides ide; old: the object before an update */
    int ok;
    const char *message;
  } cases[] = {
      {"team-m", "\"cluster\":\"east\"", NULL, 1, ""},
      {"team-m", "\"placement\":{\"policy\":\"MostFreeGPUs\"}", NULL, 1, ""},
      {"team-m", "\"cluster\":\"west\"", NULL, 0,
       "Notebook nb: spec.cluster: west is not one of project team-m's clusters (east, local)"},
      {"team-a", "\"cluster\":\"east\"", NULL, 0,
       "Notebook nb: spec.cluster: east: the namespace's project spans no clusters; only \"local\" is allowed"},
      {"team-m", "\"placement\":{\"policy\":\"Anywhere\"}", NULL, 0,
       "Notebook nb: spec.placement.policy: want Ordered or MostFreeGPUs, got \"Anywhere\""},
      {"team-m", "\"placement\":{\"rescheduleOnClusterLoss\":true}", NULL, 0,
       "Notebook nb: spec.placement.rescheduleOnClusterLoss: a Notebook is never placed again: its workspace lives "
       "in the cluster it was placed on"},
      /* Placed by policy on east: spec.cluster may only name east. */
      {"team-m", "\"cluster\":\"local\"",
       "{\"metadata\":{\"name\":\"nb\",\"namespace\":\"team-m\"},\"spec\":{\"ide\":\"jupyter\"},\"status\":{\"cluster\":\"east\"}}",
       0, "Notebook nb: spec.cluster: it was placed on cluster east already; it cannot move to local"},
      {"team-m", "\"cluster\":\"east\"",
       "{\"metadata\":{\"name\":\"nb\",\"namespace\":\"team-m\"},\"spec\":{\"ide\":\"jupyter\"},\"status\":{\"cluster\":\"east\"}}",
       1, ""},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char obj[1024];
    snprintf(obj, sizeof(obj),
             "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"nb\","
             "\"namespace\":\"%s\"},\"spec\":{\"ide\":\"jupyter\",%s}}",
             cases[i].ns, cases[i].spec);
    rq r = {.op = cases[i].old ? "UPDATE" : "CREATE", .group = "cubit.dev", .kind = "Notebook",
            .resource = "notebooks", .ns = cases[i].ns, .name = "nb", .object = obj, .old = cases[i].old};
    adm_response resp;
    admit(validate_notebook_handler, &r, &resp);
    ck_assert_msg(resp.allowed == cases[i].ok, "case %zu: allowed %d (%s)", i, resp.allowed,
                  resp.message);
    if (!cases[i].ok) ck_assert_str_eq(resp.message, cases[i].message);
  }
}
END_TEST

/* An InferenceService's spec.cluster, through its validating handler:
 * refused naming the field where the TrainingJob's is, allowed where it is. */
START_TEST(validate_inferenceservice_cluster) {
  put_team_m();
  static const struct {
    const char *ns, *spec_tail, *old, *op;
    int ok;
    const char *err;
  } cases[] = {
      {"team-m", ",\"cluster\":\"east\"", NULL, "CREATE", 1, ""},
      {"team-m", "", NULL, "CREATE", 1, ""},
      {"team-m", ",\"cluster\":\"west\"", NULL, "CREATE", 0,
       "InferenceService m: spec.cluster: west is not one of project team-m's clusters (east, local)"},
      {"team-a", ",\"cluster\":\"east\"", NULL, "CREATE", 0,
       "InferenceService m: spec.cluster: east: the namespace's project spans no clusters; only \"local\" is allowed"},
      {"team-m", ",\"cluster\":\"local\"", "{\"spec\":{\"runtime\":\"triton\"},\"status\":{\"cluster\":\"east\"}}",
       "UPDATE", 0, "InferenceService m: spec.cluster: it was placed on cluster east already; it cannot move to local"},
      {"team-m", ",\"placement\":{\"policy\":\"Fastest\"}", NULL, "CREATE", 0,
       "InferenceService m: spec.placement.policy: want Ordered or MostFreeGPUs, got \"Fastest\""},
      {"team-m", ",\"placement\":{\"policy\":\"MostFreeGPUs\"}", NULL, "CREATE", 1, ""},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char obj[600];
    snprintf(obj, sizeof(obj),
             "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"InferenceService\",\"metadata\":{\"name\":\"m\","
             "\"namespace\":\"%s\"},\"spec\":{\"runtime\":\"triton\"%s}}",
             cases[i].ns, cases[i].spec_tail);
    rq r = {.group = "cubit.dev", .kind = "InferenceService", .resource = "inferenceservices", .ns = cases[i].ns,
            .name = "m", .op = cases[i].op, .object = obj, .old = cases[i].old};
    adm_response resp;
    admit(validate_inferenceservice_handler, &r, &resp);
    ck_assert_msg(resp.allowed == cases[i].ok, "case %zu: %s", i, resp.message);
    if (!cases[i].ok) ck_assert_str_eq(resp.message, cases[i].err);
    adm_response_free(&resp);
  }
}
END_TEST

/* ------------------------------------------------- quota across clusters */

/* Member east's pods, as the hub's cache of it would show them. */
static int east_pods(const char *cluster, const char *ns, cache_list *out, void *arg) {
  memset(out, 0, sizeof(*out));
  if (strcmp(cluster, "east") != 0) return CUBIT_ENOTFOUND;
  cache_store_list(arg, ns, out);
  return 0;
}

/* A running pod of team-m in member east with 'gpu' cards, labelled
 * key=of. */
static void member_pod_of(cache_store *east, const char *name, const char *gpu, const char *key, const char *of) {
  char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-m\",\"labels\":"
           "{\"%s\":\"%s\"}},\"spec\":{\"containers\":[{\"name\":\"main\",\"resources\":"
           "{\"limits\":{\"nvidia.com/gpu\":\"%s\"}}}]},\"status\":{\"phase\":\"Running\"}}",
           name, key, of, gpu);
  json_t *o = json_loads(json, 0, NULL);
  json_decref(cache_store_upsert(east, o));
  json_decref(o);
}

/* A running pod of team-m with 'gpu' cards, labelled for job 'of' ("": none). */
static void member_pod(cache_store *east, const char *name, const char *gpu, const char *of) {
  member_pod_of(east, name, gpu, "cubit.dev/trainingjob", of);
}

/* A TrainingJob of team-m asking for 'gpu' cards (one replica); cluster
 * and placed (status.cluster) may be "". */
static const char *tj_text(const char *name, const char *gpu, const char *cluster, const char *placed) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"TrainingJob\",\"metadata\":{\"name\":\"%s\","
           "\"namespace\":\"team-m\",\"uid\":\"uid-%s\"},\"spec\":{%s%s%s\"roles\":{\"main\":{\"replicas\":1,"
           "\"resources\":{\"gpu\":\"%s\"}}}},\"status\":{%s%s%s}}",
           name, name, *cluster ? "\"cluster\":\"" : "", cluster, *cluster ? "\"," : "", gpu,
           *placed ? "\"cluster\":\"" : "", placed, *placed ? "\"" : "");
  return json;
}

static const char *team_m_pod(const char *name, const char *gpu) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-m\"},"
           "\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"x\",\"resources\":{\"limits\":{\"cubit.dev/gpu\":\"%s\"}}}]}}",
           name, gpu);
  return json;
}

static cache_store *team_m(const char *clusters) {
  char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"team-m\",\"uid\":\"p3\"},"
           "\"spec\":{\"namespaces\":[\"team-m\"],\"quota\":{\"gpu\":\"4\"},\"clusters\":%s}}",
           clusters);
  put(fx.env.projects, json);
  put(fx.env.namespaces,
      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-m\",\"labels\":{\"cubit.dev/project\":\"team-m\"}}}");
  cache_store *east = indexed_store();
  fx.env.member_pods = east_pods;
  fx.env.member_pods_arg = east;
  return east;
}

#define judged(r, a, m) judged_at(__LINE__, r, a, m)
static void judged_at(int line, adm_response *resp, int allowed, const char *message) {
  ck_assert_msg(resp->allowed == allowed, "line %d: allowed %d: %s", line, resp->allowed, resp->message);
  if (message) ck_assert_str_eq(resp->message, message);
  adm_response_free(resp);
}

/* What team-m holds now, as the webhook counts it (user: the member's own too, or NULL). */
static void held_now(const char *user, quota_held *held) {
  project_spec spec;
  char err[256];
  json_t *project = cache_store_get(fx.env.projects, NULL, "team-m");
  ck_assert_int_eq(project_spec_parse(project, &spec, err, sizeof(err)), 0);
  quota_held_by(&fx.env, project, &spec, user, held);
  project_spec_free(&spec);
  json_decref(project);
}

/* A member's pods count against the project's total: a tenant cannot go
 * over spec.quota by running in another cluster. */
START_TEST(quota_counts_member_pods) {
  cache_store *east = team_m("[{\"name\":\"local\"},{\"name\":\"east\"}]");
  member_pod(east, "m1", "1", "");
  member_pod(east, "m2", "2", "");
  adm_response resp;
  review(quota_validate, "", "Pod", "team-m", "h1", "alice", 1, team_m_pod("h1", "2"), &resp);
  judged(&resp, 0, "project team-m: quota exceeded: gpu: requested 2, used 3, quota 4");
  review(quota_validate, "", "Pod", "team-m", "h1", "alice", 1, team_m_pod("h1", "1"), &resp);
  judged(&resp, 1, NULL);
  /* A workload's gang, wherever it will run. */
  review(quota_validate, "cubit.dev", "TrainingJob", "team-m", "j", "alice", 1, tj_text("j", "2", "", ""), &resp);
  judged(&resp, 0, "project team-m: quota exceeded: gpu: requested 2, used 3, quota 4");
  /* Without the member counted, the hub alone holds nothing. */
  fx.env.member_pods = NULL;
  review(quota_validate, "", "Pod", "team-m", "h1", "alice", 1, team_m_pod("h1", "4"), &resp);
  judged(&resp, 1, NULL);
  cache_store_free(east);
}
END_TEST

/* A hub job placed on a member counts once: its gang, or its pods there
 * where they hold more. */
START_TEST(quota_counts_a_placed_job_once) {
  cache_store *east = team_m("[{\"name\":\"local\"},{\"name\":\"east\"}]");
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("big", "2", "", "east"));
  quota_held held;
  held_now(NULL, &held);
  ck_assert_int_eq(held.total.gpu_milli, 2000); /* the gang before its pods */
  ck_assert_int_eq(held.in[1].gpu_milli, 2000);
  ck_assert_int_eq(held.in[0].gpu_milli, 0);
  member_pod(east, "big-0", "1", "big");
  member_pod(east, "big-1", "1", "big");
  held_now(NULL, &held);
  ck_assert_int_eq(held.total.gpu_milli, 2000); /* its pods are the gang */
  member_pod(east, "big-2", "1", "big");        /* a pod claiming the job beyond its gang */
  member_pod(east, "solo", "1", "");
  held_now(NULL, &held);
  ck_assert_int_eq(held.total.gpu_milli, 4000);
  ck_assert_int_eq(held.in[1].gpu_milli, 4000);
  ck_assert_int_eq(held.in[0].gpu_milli, 0);
  /* A job waiting to be placed is in the total only. */
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("wait", "1", "", ""));
  running_pod("h", "1", "alice"); /* team-a's: not this project's */
  held_now(NULL, &held);
  ck_assert_int_eq(held.total.gpu_milli, 5000);
  ck_assert_int_eq(held.in[0].gpu_milli, 0);
  ck_assert_int_eq(held.in[1].gpu_milli, 4000);
  /* A member's own: her pods in the member count against her per-member limits too. */
  json_t *hers = json_loads("{\"metadata\":{\"name\":\"hers\",\"namespace\":\"team-m\",\"annotations\":"
                            "{\"cubit.dev/user\":\"alice\"}},\"spec\":{\"containers\":[{\"name\":\"main\","
                            "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]},\"status\":{\"phase\":\"Running\"}}",
                            0, NULL);
  json_decref(cache_store_upsert(east, hers));
  json_decref(hers);
  held_now("alice", &held);
  ck_assert_int_eq(held.total.gpu_milli, 6000);
  ck_assert_int_eq(held.member.gpu_milli, 1000);
  cache_store_free(east);
}
END_TEST

/* spec.clusters[i].quota: what lands in cluster i is judged against it. */
START_TEST(quota_per_cluster) {
  cache_store *east = team_m("[{\"name\":\"local\",\"quota\":{\"gpu\":\"1\"}},{\"name\":\"east\",\"quota\":{\"gpu\":\"2\"}}]");
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("big", "2", "", "east"));
  adm_response resp;
  /* pinned to east: east is full */
  review(quota_validate, "cubit.dev", "TrainingJob", "team-m", "j", "alice", 1, tj_text("j", "1", "east", ""), &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 1, used 2, quota 2");
  /* left to placement: only the total is judged now */
  review(quota_validate, "cubit.dev", "TrainingJob", "team-m", "j", "alice", 1, tj_text("j", "1", "", ""), &resp);
  judged(&resp, 1, NULL);
  /* pinned to local, and a pod in the hub: local's quota */
  review(quota_validate, "cubit.dev", "TrainingJob", "team-m", "j", "alice", 1, tj_text("j", "1", "local", ""), &resp);
  judged(&resp, 1, NULL);
  review(quota_validate, "", "Pod", "team-m", "h", "alice", 1, team_m_pod("h", "2"), &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster local: gpu: requested 2, used 0, quota 1");
  /* an admitted pod is reserved (not a dry run): the next one sees it */
  review(quota_validate, "", "Pod", "team-m", "h1", "alice", 0, team_m_pod("h1", "1"), &resp);
  judged(&resp, 1, NULL);
  review(quota_validate, "", "Pod", "team-m", "h2", "alice", 0, team_m_pod("h2", "1"), &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster local: gpu: requested 1, used 1, quota 1");
  cache_store_free(east);
}
END_TEST

/* A Notebook of team-m asking for 'gpu' cards, pinned to 'cluster' ("":
 * none) and placed on 'placed' ("": not yet). */
static const char *nb_text(const char *name, const char *gpu, const char *cluster, const char *placed) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"%s\","
           "\"namespace\":\"team-m\",\"uid\":\"uid-%s\",\"generation\":1},\"spec\":{\"ide\":\"jupyter\",%s%s%s\"resources\":"
           "{\"cpu\":\"1\",\"gpu\":\"%s\"}},\"status\":{%s%s%s}}",
           name, name, *cluster ? "\"cluster\":\"" : "", cluster, *cluster ? "\"," : "", gpu,
           *placed ? "\"cluster\":\"" : "", placed, *placed ? "\"" : "");
  return json;
}

/* An InferenceService of team-m keeping at least 'min' replicas of one
 * card each, pinned to 'cluster'. */
static const char *isvc_text(const char *name, int min, const char *cluster) {
  static char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"InferenceService\",\"metadata\":{\"name\":\"%s\","
           "\"namespace\":\"team-m\",\"uid\":\"uid-%s\"},\"spec\":{\"cluster\":\"%s\",\"runtime\":\"triton\","
           "\"model\":{\"uri\":\"s3://models/m\"},\"resources\":{\"cpu\":\"1\",\"gpu\":\"1\"},"
           "\"replicas\":{\"min\":%d,\"max\":4}}}",
           name, name, cluster, min);
  return json;
}


/* A Notebook pinned to a member is judged at admission as a whole (its pod
 * is made where no webhook runs), and counted once: its demand or its pod
 * there. One in the hub is judged by its pods. */
START_TEST(quota_placed_notebook) {
  cache_store *east = team_m("[{\"name\":\"local\"},{\"name\":\"east\",\"quota\":{\"gpu\":\"2\"}}]");
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("big", "1", "", "east"));
  adm_response resp;
  review(quota_validate, "cubit.dev", "Notebook", "team-m", "nb", "alice", 1, nb_text("nb", "2", "east", ""), &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 2, used 1, quota 2");
  /* the total too: 4 cards, 1 held */
  review(quota_validate, "cubit.dev", "Notebook", "team-m", "nb", "alice", 1, nb_text("nb", "4", "east", ""), &resp);
  judged(&resp, 0, "project team-m: quota exceeded: gpu: requested 4, used 1, quota 4");
  review(quota_validate, "cubit.dev", "Notebook", "team-m", "nb", "alice", 0, nb_text("nb", "1", "east", ""), &resp);
  judged(&resp, 1, NULL);
  /* reserved until the cache shows it: a second one finds east full */
  review(quota_validate, "cubit.dev", "Notebook", "team-m", "nb2", "alice", 1, nb_text("nb2", "1", "east", ""), &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 1, used 2, quota 2");
  put(fx.env.services[SVC_NOTEBOOK], nb_text("nb", "1", "east", ""));
  quota_held held;
  held_now(NULL, &held);
  ck_assert_int_eq(held.in[1].gpu_milli, 2000);
  ck_assert_int_eq(held.total.gpu_milli, 2000);
  ck_assert_int_eq(held.in[1].pods, 2);
  /* its pod in the member is the notebook's charge, not a second one */
  member_pod_of(east, "nb-0", "1", "cubit.dev/notebook", "nb");
  held_now(NULL, &held);
  ck_assert_int_eq(held.in[1].gpu_milli, 2000);
  ck_assert_int_eq(held.total.gpu_milli, 2000);
  ck_assert_int_eq(held.in[0].gpu_milli, 0);
  review(quota_validate, "cubit.dev", "Notebook", "team-m", "nb2", "alice", 1, nb_text("nb2", "1", "east", ""), &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 1, used 2, quota 2");
  /* a stopped notebook holds nothing until started again, which is judged */
  const char *stopped = "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"nb2\","
                        "\"namespace\":\"team-m\",\"generation\":1},\"spec\":{\"ide\":\"jupyter\",\"cluster\":\"east\",\"stopped\":true,"
                        "\"resources\":{\"gpu\":\"1\"}}}";
  review(quota_validate, "cubit.dev", "Notebook", "team-m", "nb2", "alice", 1, stopped, &resp);
  judged(&resp, 1, NULL);
  rq r = {.op = "UPDATE", .group = "cubit.dev", .kind = "Notebook", .ns = "team-m", .name = "nb2", .dry_run = 1,
          .object = nb_text("nb2", "1", "east", ""), .old = stopped};
  admit(quota_validate, &r, &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 1, used 2, quota 2");
  /* in the hub: its pods are judged, not the notebook */
  review(quota_validate, "cubit.dev", "Notebook", "team-m", "h", "alice", 1, nb_text("h", "4", "local", ""), &resp);
  judged(&resp, 1, NULL);
  cache_store_free(east);
}
END_TEST

/* An InferenceService pinned to a member holds its replica floor there. */
START_TEST(quota_placed_inferenceservice) {
  cache_store *east = team_m("[{\"name\":\"local\"},{\"name\":\"east\",\"quota\":{\"gpu\":\"2\"}}]");
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("big", "1", "", "east"));
  adm_response resp;
  review(quota_validate, "cubit.dev", "InferenceService", "team-m", "s", "alice", 1, isvc_text("s", 2, "east"), &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 2, used 1, quota 2");
  review(quota_validate, "cubit.dev", "InferenceService", "team-m", "s", "alice", 1, isvc_text("s", 1, "east"), &resp);
  judged(&resp, 1, NULL);
  put(fx.env.services[SVC_INFERENCESERVICE], isvc_text("s", 1, "east"));
  member_pod_of(east, "s-a", "1", "cubit.dev/inferenceservice", "s");
  quota_held held;
  held_now(NULL, &held);
  ck_assert_int_eq(held.in[1].gpu_milli, 2000);
  /* its HPA scaled it past the floor: its pods there count */
  member_pod_of(east, "s-b", "1", "cubit.dev/inferenceservice", "s");
  held_now(NULL, &held);
  ck_assert_int_eq(held.in[1].gpu_milli, 3000);
  ck_assert_int_eq(held.total.gpu_milli, 3000);
  cache_store_free(east);
}
END_TEST

/* A status write that places an object is judged against the landing
 * cluster's quota under the reservations' lock: two placements for the
 * last room cannot both take it. One that leaves status.cluster alone is
 * never refused. */
START_TEST(quota_judges_placement) {
  cache_store *east =
      team_m("[{\"name\":\"local\",\"quota\":{\"gpu\":\"1\"}},{\"name\":\"east\",\"quota\":{\"gpu\":\"2\"}}]");
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("big", "1", "", "east"));
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("j1", "1", "", ""));
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("j2", "1", "", ""));
  adm_response resp;
  char old1[1024], old2[1024], new2[1024];
  snprintf(old1, sizeof(old1), "%s", tj_text("j1", "1", "", ""));
  snprintf(old2, sizeof(old2), "%s", tj_text("j2", "1", "", ""));
  snprintf(new2, sizeof(new2), "%s", tj_text("j2", "1", "", "east"));
  rq r = {.op = "UPDATE", .group = "cubit.dev", .kind = "TrainingJob", .resource = "trainingjobs", .sub = "status",
          .ns = "team-m", .name = "j1", .user = MANAGER, .object = tj_text("j1", "1", "", "east"), .old = old1};
  admit(quota_validate, &r, &resp);
  judged(&resp, 1, NULL);
  /* the cache does not show j1 in east yet: its reservation does */
  r.name = "j2";
  r.object = new2;
  r.old = old2;
  admit(quota_validate, &r, &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 1, used 2, quota 2");
  /* east's pending placement does not count in the hub's quota */
  review(quota_validate, "", "Pod", "team-m", "h", "alice", 1, team_m_pod("h", "1"), &resp);
  judged(&resp, 1, NULL);
  /* once the cache shows j1 placed, the cache counts it, not the reservation */
  put(fx.env.workloads[WL_TRAININGJOB], tj_text("j1", "1", "", "east"));
  quota_held held;
  held_now(NULL, &held);
  ck_assert_int_eq(held.in[1].gpu_milli, 2000);
  admit(quota_validate, &r, &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 1, used 2, quota 2");
  /* a placed job reports its status, though east is full */
  char placed_old[1024], placed_new[1024];
  snprintf(placed_old, sizeof(placed_old), "%s", tj_text("j1", "1", "", "east"));
  snprintf(placed_new, sizeof(placed_new), "%s", tj_text("j1", "3", "", "east"));
  r.name = "j1";
  r.old = placed_old;
  r.object = placed_new;
  admit(quota_validate, &r, &resp);
  judged(&resp, 1, NULL);
  /* and so does a job pinned there whose status names its cluster at last */
  char pinned_old[1024], pinned_new[1024];
  snprintf(pinned_old, sizeof(pinned_old), "%s", tj_text("p", "2", "east", ""));
  snprintf(pinned_new, sizeof(pinned_new), "%s", tj_text("p", "2", "east", "east"));
  r.name = "p";
  r.old = pinned_old;
  r.object = pinned_new;
  admit(quota_validate, &r, &resp);
  judged(&resp, 1, NULL);
  /* a Notebook placed by policy on east is judged there and in the total */
  char nb_old[1024];
  snprintf(nb_old, sizeof(nb_old), "%s", nb_text("nb", "1", "", ""));
  r.kind = "Notebook";
  r.resource = "notebooks";
  r.name = "nb";
  r.old = nb_old;
  r.object = nb_text("nb", "1", "", "east");
  admit(quota_validate, &r, &resp);
  judged(&resp, 0, "project team-m: quota exceeded in cluster east: gpu: requested 1, used 2, quota 2");
  cache_store_free(east);
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
  p = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"clusters\":[{\"name\":\"local\"},{\"name\":\"east\","
                 "\"quota\":{\"gpu\":\"-1\"}}]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_msg(strncmp(err, "spec.clusters[1].quota.gpu: ", 28) == 0, "%s", err);
  json_decref(p);
  p = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"members\":[{\"kind\":\"User\",\"name\":\"x\",\"role\":\"owner\"}]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.members[0].role: want admin, edit or view, got \"owner\"");
  json_decref(p);
  /* A namespace already listed is not checked again (a conflict there is
   * the controller's to report); one added is. */
  json_t *old = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"namespaces\":[\"team-a\"]}}", 0, NULL);
  p = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"namespaces\":[\"team-a\"],\"members\":[]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, old, p, err, sizeof(err)), 0);
  json_decref(p);
  json_decref(old);
  p = json_loads("{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"namespaces\":[\"Not_A_Name\"]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_msg(strncmp(err, "spec.namespaces[0]: want a namespace name", 41) == 0, "%s", err);
  json_decref(p);
  /* The owner itself may list it. */
  p = json_loads("{\"metadata\":{\"name\":\"team-a\"},\"spec\":{\"namespaces\":[\"team-a\",\"team-a2\"]}}", 0, NULL);
  ck_assert_int_eq(validate_project(&fx.env, NULL, p, err, sizeof(err)), 0);
  json_decref(p);
}
END_TEST

static int sar_calls;

/* The API server's authorizer, as a table: root may manage projects,
 * "broken" cannot be checked, everyone else may not. */
static int fake_authorize(const json_t *user_info, const webhook_access *a, char *why, size_t whylen, void *arg) {
  const char *user = js_str(user_info, "username");
  sar_calls++;
  /* The requester's groups go with the question. */
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(user_info, "groups"), 0)), "system:authenticated");
  if (user && strcmp(user, "broken") == 0) {
    snprintf(why, whylen, "connection refused");
    return CUBIT_ECONNECT;
  }
  snprintf(why, whylen, "no RBAC rule");
  return user && strcmp(user, "root") == 0 && strcmp(a->verb, "manage") == 0 && strcmp(a->group, "cubit.dev") == 0 &&
         strcmp(a->resource, "projects") == 0 && a->name && strcmp(a->name, "team-a") == 0;
}

#define TEAM_A_SPEC                                                                                        \
  "\"namespaces\":[\"team-a\"],\"quota\":{\"gpu\":\"2\",\"cpu\":\"8\",\"pods\":5,\"perMember\":{\"pods\":3}}," \
  "\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"}]"
#define TEAM_A(spec) "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"team-a\"},\"spec\":{" spec "}}"

static const struct {
  const char *user, *object; /* an update of TEAM_A(TEAM_A_SPEC) */
  int allowed;
  const char *message; /* a prefix, or NULL */
} who_cases[] = {
    /* a project admin changes members, display name and volumes */
    {"carol", TEAM_A(TEAM_A_SPEC ",\"displayName\":\"Team A\",\"volumes\":{\"shared\":{\"claimName\":\"s\"}}"), 1, NULL},
    {"carol",
     TEAM_A("\"namespaces\":[\"team-a\"],\"quota\":{\"gpu\":\"2\",\"cpu\":\"8\",\"pods\":5,\"perMember\":{\"pods\":3}},"
            "\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"},{\"kind\":\"User\",\"name\":\"dan\","
            "\"role\":\"edit\"}]"),
     1, NULL},
    /* but nothing else */
    {"carol", TEAM_A("\"namespaces\":[\"team-a\"],\"quota\":{\"gpu\":\"64\"},\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"}]"), 0,
     "Project team-a: spec.quota may be changed only by a cluster admin (user carol may not \"manage\" projects.cubit.dev/team-a); a project admin may change spec.members, spec.displayName and spec.volumes"},
    {"carol", TEAM_A("\"namespaces\":[\"team-a\",\"victim\"],\"quota\":{\"gpu\":\"2\",\"cpu\":\"8\",\"pods\":5,\"perMember\":{\"pods\":3}},\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"}]"), 0,
     "Project team-a: spec.namespaces may be changed"},
    {"carol", TEAM_A(TEAM_A_SPEC ",\"resourceGroup\":{\"nodeSelector\":{\"pool\":\"a100\"}}"), 0, "Project team-a: spec.resourceGroup may"},
    {"carol", TEAM_A(TEAM_A_SPEC ",\"priorityClassName\":\"system-cluster-critical\""), 0, "Project team-a: spec.priorityClassName may"},
    {"carol", TEAM_A(TEAM_A_SPEC ",\"queue\":{\"weight\":100}"), 0, "Project team-a: spec.queue may"},
    {"carol", TEAM_A(TEAM_A_SPEC ",\"deletionPolicy\":\"Delete\""), 0, "Project team-a: spec.deletionPolicy may"},
    {"carol", TEAM_A(TEAM_A_SPEC ",\"clusters\":[\"gpu-farm\"]"), 0, "Project team-a: spec.clusters may"},
    {"carol", TEAM_A("\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"}]"), 0,
     "Project team-a: spec.namespaces, spec.quota may"},
    /* a cluster admin may */
    {"root", TEAM_A("\"namespaces\":[\"team-a\",\"team-a2\"],\"quota\":{\"gpu\":\"64\"},\"members\":[]"), 1, NULL},
    /* and when the authorizer cannot tell, the change is refused */
    {"broken", TEAM_A("\"namespaces\":[\"team-a\"],\"quota\":{\"gpu\":\"64\"}"), 0,
     "Project team-a: spec.quota may be changed only by a cluster admin, and whether broken is one could not be checked: connection refused"},
};

START_TEST(who_may_change_what) {
  fx.env.authorize = fake_authorize;
  sar_calls = 0;
  rq up = {.op = "UPDATE", .group = "cubit.dev", .kind = "Project", .resource = "projects", .ns = "", .name = "team-a",
           .user = who_cases[_i].user, .object = who_cases[_i].object, .old = TEAM_A(TEAM_A_SPEC)};
  adm_response resp;
  admit(validate_project_handler, &up, &resp);
  ck_assert_msg(resp.allowed == who_cases[_i].allowed, "case %d: %s", _i, resp.message);
  if (who_cases[_i].message) {
    ck_assert_int_eq(resp.code, 403);
    ck_assert_msg(strncmp(resp.message, who_cases[_i].message, strlen(who_cases[_i].message)) == 0, "case %d: %s", _i,
                  resp.message);
  }
  /* The authorizer is asked only when a cluster admin's field changes. */
  if (strcmp(who_cases[_i].user, "carol") == 0 && who_cases[_i].allowed) ck_assert_int_eq(sar_calls, 0);
  adm_response_free(&resp);
  /* A dry run is judged the same. */
  up.dry_run = 1;
  admit(validate_project_handler, &up, &resp);
  ck_assert_int_eq(resp.allowed, who_cases[_i].allowed);
  adm_response_free(&resp);
}
END_TEST

START_TEST(who_may_create_and_delete) {
  fx.env.authorize = fake_authorize;
  adm_response resp;
  rq cr = {.group = "cubit.dev", .kind = "Project", .resource = "projects", .ns = "", .name = "team-b", .user = "carol",
           .object = "{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"namespaces\":[\"team-b\"]}}"};
  admit(validate_project_handler, &cr, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_ptr_nonnull(strstr(resp.message, "spec.namespaces may be changed only by a cluster admin"));
  adm_response_free(&resp);
  cr.object = "{\"metadata\":{\"name\":\"team-b\"},\"spec\":{\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"}]}}";
  admit(validate_project_handler, &cr, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  /* A project being deleted is still guarded, but never kept from going. */
  rq del = {.op = "UPDATE", .group = "cubit.dev", .kind = "Project", .resource = "projects", .ns = "", .name = "team-a",
            .user = "carol",
            .object = "{\"metadata\":{\"name\":\"team-a\",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"},"
                      "\"spec\":{\"namespaces\":[\"kube-system\"]}}",
            .old = "{\"metadata\":{\"name\":\"team-a\",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\","
                   "\"finalizers\":[\"cubit.dev/project\"]},\"spec\":{\"namespaces\":[\"kube-system\"]}}"};
  admit(validate_project_handler, &del, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  del.object = "{\"metadata\":{\"name\":\"team-a\",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"},"
               "\"spec\":{\"namespaces\":[\"kube-system\"],\"quota\":{\"gpu\":\"64\"}}}";
  admit(validate_project_handler, &del, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  adm_response_free(&resp);
}
END_TEST

/* issue 13: a Project without metadata.name crashed the manager
 * (validate/project.c:43, strcmp on NULL). */
START_TEST(project_without_a_name) {
  fx.env.authorize = fake_authorize;
  adm_response resp;
  rq cr = {.group = "cubit.dev", .kind = "Project", .resource = "projects", .ns = "", .user = "root",
           .object = "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{},"
                     "\"spec\":{\"namespaces\":[\"team-a\"]}}"};
  admit(validate_project_handler, &cr, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_int_eq(resp.code, 422);
  ck_assert_str_eq(resp.message, "Project: metadata.name: required");
  adm_response_free(&resp);
  cr.object = "{\"spec\":{\"namespaces\":[\"x\"]}}";
  admit(validate_project_handler, &cr, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  adm_response_free(&resp);
  cr.object = "\"a string\"";
  admit(validate_project_handler, &cr, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_int_eq(resp.code, 400);
  adm_response_free(&resp);
}
END_TEST


/* ------------------------------------------- Ray and Spark links (issue 14) */

#define KUBERAY "system:serviceaccount:ray-system:kuberay-operator"
#define SPARK_OPERATOR "system:serviceaccount:spark-operator:spark-operator-controller"
#define DRIVER_SA "system:serviceaccount:team-a:spark"

/* alice's object of apiVersion/kind in team-a controlled by (okind, oname,
 * ouid), with status (JSON text, NULL: {}), in the store of wl. */
static void put_link(int wl, const char *api, const char *kind, const char *name, const char *uid, const char *oapi,
                     const char *okind, const char *oname, const char *ouid, const char *status) {
  char json[1024];
  snprintf(json, sizeof(json),
           "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-a\",\"uid\":\"%s\","
           "\"annotations\":{\"cubit.dev/user\":\"alice\"},\"ownerReferences\":[{\"apiVersion\":\"%s\",\"kind\":\"%s\","
           "\"name\":\"%s\",\"uid\":\"%s\",\"controller\":true}]},\"spec\":{},\"status\":%s}",
           api, kind, name, uid, oapi, okind, oname, ouid, status ? status : "{}");
  put(fx.env.workloads[wl], json);
}

/* A one-GPU pod as owned_pod, running as service account 'sa' (NULL: none). */
static const char *sa_pod(const char *name, const char *api, const char *kind, const char *owner, const char *uid,
                          const char *user, const char *phase, const char *sa) {
  static char json[1200];
  const char *base = owned_pod(name, api, kind, owner, uid, user, phase);
  const char *spec = strstr(base, "\"spec\":{");
  ck_assert_ptr_nonnull(spec);
  int head = (int)(spec - base) + 8;
  if (sa)
    snprintf(json, sizeof(json), "%.*s\"serviceAccountName\":\"%s\",%s", head, base, sa, base + head);
  else
    snprintf(json, sizeof(json), "%s", base);
  return json;
}

/* alice's TrainingJob rj (2 GPUs, the whole quota) -> RayJob rj -> RayCluster rj-c. */
static void ray_chain(void) {
  trainingjob("rj", "tj-r", 2);
  put_link(WL_RAYJOB, "ray.io/v1", "RayJob", "rj", "rayjob-1", "cubit.dev/v1alpha1", "TrainingJob", "rj", "tj-r", NULL);
  put_link(WL_RAYCLUSTER, "ray.io/v1", "RayCluster", "rj-c", "rc-1", "ray.io/v1", "RayJob", "rj", "rayjob-1", NULL);
}

/* alice's TrainingJob sj (2 GPUs) -> SparkApplication sj -> driver pod sj-driver (1 GPU, service account spark). */
static void spark_chain(void) {
  trainingjob("sj", "tj-s", 2);
  put_link(WL_SPARKAPPLICATION, "sparkoperator.k8s.io/v1beta2", "SparkApplication", "sj", "sa-1", "cubit.dev/v1alpha1",
           "TrainingJob", "sj", "tj-s", NULL);
  put(fx.env.pods, sa_pod("sj-driver", "sparkoperator.k8s.io/v1beta2", "SparkApplication", "sj", "sa-1", "alice",
                          "Running", "spark"));
}

static void expect(const char *name, const char *pod, const char *user, int allowed, const char *message) {
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", name, user, 0, pod, &resp);
  ck_assert_msg(resp.allowed == allowed, "%s by %s: allowed %d, want %d (%s)", name, user, resp.allowed, allowed,
                resp.message);
  if (message) ck_assert_str_eq(resp.message, message);
  adm_response_free(&resp);
}

static int64_t committed_gpu(void) {
  json_t *project = cache_store_get(fx.env.projects, NULL, "team-a");
  usage proj;
  quota_committed(&fx.env, project, NULL, &proj, NULL);
  json_decref(project);
  return proj.gpu_milli;
}

#define FULL "project team-a: quota exceeded: gpu: requested 1, used 2, quota 2"

/* KubeRay's pods share their TrainingJob's charge through the RayCluster
 * and the RayJob; nobody else's pods claiming the same RayCluster do. */
START_TEST(quota_ray_pods_share_the_trainingjob_charge) {
  ray_chain();
  ck_assert_int_eq(committed_gpu(), 2000);
  const char *rc = "ray.io/v1";
  /* A tenant (even the job's creator) claiming the RayCluster: charged. */
  expect("forged", owned_pod("forged", rc, "RayCluster", "rj-c", "rc-1", "alice", "Pending"), "alice", 0, FULL);
  expect("forged", owned_pod("forged", rc, "RayCluster", "rj-c", "rc-1", "alice", "Pending"), "bob", 0, FULL);
  /* Other controllers are not KubeRay. */
  expect("forged", owned_pod("forged", rc, "RayCluster", "rj-c", "rc-1", "alice", "Pending"), OPERATOR, 0, FULL);
  expect("forged", owned_pod("forged", rc, "RayCluster", "rj-c", "rc-1", "alice", "Pending"), SPARK_OPERATOR, 0, FULL);
  const char *names[] = {"rj-head", "rj-worker"};
  for (int i = 0; i < 2; i++) {
    const char *pod = owned_pod(names[i], rc, "RayCluster", "rj-c", "rc-1", "alice", "Running");
    expect(names[i], pod, KUBERAY, 1, NULL);
    put(fx.env.pods, pod);
  }
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 0); /* covered, nothing reserved */
  ck_assert_int_eq(committed_gpu(), 2000);                            /* not 4000 */
  /* Beyond the gang, even KubeRay's pod is charged. */
  expect("rj-extra", owned_pod("rj-extra", rc, "RayCluster", "rj-c", "rc-1", "alice", "Pending"), KUBERAY, 0, FULL);
  /* A pod the tenant slipped in anyway counts within the job's charge: the
   * TrainingJob holds the larger of its gang and its pods. */
  put(fx.env.pods, owned_pod("rj-more", rc, "RayCluster", "rj-c", "rc-1", "alice", "Running"));
  ck_assert_int_eq(committed_gpu(), 3000);
}
END_TEST

/* A Spark driver's executors, created by the service account the driver
 * runs as, share the charge through the driver and the SparkApplication. */
START_TEST(quota_spark_executors_share_the_trainingjob_charge) {
  spark_chain();
  ck_assert_int_eq(committed_gpu(), 2000);
  const char *pod = "v1";
  /* The spark-operator's driver pod, the second of this job's, fits. */
  const char *driver2 = sa_pod("sj-driver2", "sparkoperator.k8s.io/v1beta2", "SparkApplication", "sj", "sa-1",
                               "alice", "Pending", "spark");
  expect("sj-driver2", driver2, SPARK_OPERATOR, 1, NULL);
  expect("sj-driver2", driver2, "alice", 0, FULL);
  expect("sj-driver2", driver2, KUBERAY, 0, FULL);
  /* An executor claiming the driver: only the driver's own identity. */
  const char *exec = owned_pod("sj-exec-1", pod, "Pod", "sj-driver", "pod-sj-driver", DRIVER_SA, "Pending");
  expect("sj-exec-1", exec, "alice", 0, FULL);
  expect("sj-exec-1", exec, SPARK_OPERATOR, 0, FULL);
  expect("sj-exec-1", exec, "system:serviceaccount:team-a:default", 0, FULL);
  expect("sj-exec-1", exec, DRIVER_SA, 1, NULL);
  exec = owned_pod("sj-exec-1", pod, "Pod", "sj-driver", "pod-sj-driver", DRIVER_SA, "Running");
  put(fx.env.pods, exec);
  ck_assert_uint_eq(quota_reservations_len(fx.env.reservations), 0);
  ck_assert_int_eq(committed_gpu(), 2000); /* driver and executor within the job's 2 */
  expect("sj-exec-2", owned_pod("sj-exec-2", pod, "Pod", "sj-driver", "pod-sj-driver", DRIVER_SA, "Pending"),
         DRIVER_SA, 0, FULL);
  /* An executor recording the job's creator (a propagated template) shares it too. */
  put(fx.env.pods, owned_pod("sj-exec-3", pod, "Pod", "sj-driver", "pod-sj-driver", "alice", "Running"));
  ck_assert_int_eq(committed_gpu(), 3000);
}
END_TEST

/* What breaks a chain (each a change to the intact one): the pod is then
 * charged, whoever creates it. */
static void rayjob_finished(void) {
  put_link(WL_RAYJOB, "ray.io/v1", "RayJob", "rj", "rayjob-1", "cubit.dev/v1alpha1", "TrainingJob", "rj", "tj-r",
           "{\"jobDeploymentStatus\":\"Complete\"}");
}
static void rayjob_of_an_old_trainingjob(void) {
  put_link(WL_RAYJOB, "ray.io/v1", "RayJob", "rj", "rayjob-1", "cubit.dev/v1alpha1", "TrainingJob", "rj", "tj-old", NULL);
}
static void raycluster_of_bob(void) {
  put(fx.env.workloads[WL_RAYCLUSTER],
      "{\"metadata\":{\"name\":\"rj-c\",\"namespace\":\"team-a\",\"uid\":\"rc-1\",\"annotations\":{\"cubit.dev/user\":"
      "\"bob\"},\"ownerReferences\":[{\"apiVersion\":\"ray.io/v1\",\"kind\":\"RayJob\",\"name\":\"rj\",\"uid\":"
      "\"rayjob-1\",\"controller\":true}]}}");
}
static void raycluster_alone(void) {
  put(fx.env.workloads[WL_RAYCLUSTER], "{\"metadata\":{\"name\":\"rj-c\",\"namespace\":\"team-a\",\"uid\":\"rc-1\","
                                       "\"annotations\":{\"cubit.dev/user\":\"alice\"}}}");
}
static void driver_failed(void) {
  put(fx.env.pods, sa_pod("sj-driver", "sparkoperator.k8s.io/v1beta2", "SparkApplication", "sj", "sa-1", "alice",
                          "Failed", "spark"));
}
static void sparkapplication_completed(void) {
  put_link(WL_SPARKAPPLICATION, "sparkoperator.k8s.io/v1beta2", "SparkApplication", "sj", "sa-1", "cubit.dev/v1alpha1",
           "TrainingJob", "sj", "tj-s", "{\"applicationState\":{\"state\":\"COMPLETED\"}}");
}
static void plain_pod(void) {
  put(fx.env.pods, sa_pod("plain", "cubit.dev/v1alpha1", "TrainingJob", "sj", "tj-s", "alice", "Running", "spark"));
}

static const struct {
  const char *what;
  int spark;            /* the Spark chain (else the Ray one) */
  void (*change)(void); /* NULL: the intact chain */
  const char *api, *kind, *owner, *uid; /* the reference the admitted pod makes */
} broken_cases[] = {
    {"RayCluster uid mismatch", 0, NULL, "ray.io/v1", "RayCluster", "rj-c", "rc-other"},
    {"RayCluster missing", 0, NULL, "ray.io/v1", "RayCluster", "nothere", "rc-x"},
    {"RayJob finished", 0, rayjob_finished, "ray.io/v1", "RayCluster", "rj-c", "rc-1"},
    {"RayJob's TrainingJob uid mismatch", 0, rayjob_of_an_old_trainingjob, "ray.io/v1", "RayCluster", "rj-c", "rc-1"},
    {"RayCluster of another creator", 0, raycluster_of_bob, "ray.io/v1", "RayCluster", "rj-c", "rc-1"},
    {"RayCluster under no TrainingJob", 0, raycluster_alone, "ray.io/v1", "RayCluster", "rj-c", "rc-1"},
    {"driver uid mismatch", 1, NULL, "v1", "Pod", "sj-driver", "pod-other"},
    {"driver missing", 1, NULL, "v1", "Pod", "nothere", "pod-nothere"},
    {"driver finished", 1, driver_failed, "v1", "Pod", "sj-driver", "pod-sj-driver"},
    {"SparkApplication completed", 1, sparkapplication_completed, "v1", "Pod", "sj-driver", "pod-sj-driver"},
    {"pod that is no Spark driver", 1, plain_pod, "v1", "Pod", "plain", "pod-plain"},
};

START_TEST(quota_broken_links_are_charged) {
  const char *what = broken_cases[_i].what;
  if (broken_cases[_i].spark) spark_chain();
  else ray_chain();
  if (broken_cases[_i].change) broken_cases[_i].change();
  const char *user = broken_cases[_i].spark ? DRIVER_SA : KUBERAY;
  adm_response resp;
  review(quota_validate, "", "Pod", "team-a", "p", user, 0,
         owned_pod("p", broken_cases[_i].api, broken_cases[_i].kind, broken_cases[_i].owner, broken_cases[_i].uid,
                   broken_cases[_i].spark ? DRIVER_SA : "alice", "Pending"),
         &resp);
  ck_assert_msg(!resp.allowed, "%s: admitted", what);
  ck_assert_msg(strstr(resp.message, "quota exceeded: gpu: requested 1") != NULL, "%s: %s", what, resp.message);
  adm_response_free(&resp);
}
END_TEST

/* Pods under a broken chain are charged by themselves in what the project
 * holds: a driver whose SparkApplication is gone holds itself and its
 * executors each, never nothing. */
START_TEST(quota_orphaned_links_charge_their_pods) {
  put(fx.env.pods, sa_pod("d", "sparkoperator.k8s.io/v1beta2", "SparkApplication", "gone", "sa-gone", "alice",
                          "Running", "spark"));
  put(fx.env.pods, owned_pod("e1", "v1", "Pod", "d", "pod-d", DRIVER_SA, "Running"));
  put(fx.env.pods, owned_pod("e2", "v1", "Pod", "d", "pod-d", DRIVER_SA, "Running"));
  ck_assert_int_eq(committed_gpu(), 3000);
  /* A standalone RayCluster (no TrainingJob) holds what its pods hold. */
  put_link(WL_RAYCLUSTER, "ray.io/v1", "RayCluster", "solo", "rc-solo", "ray.io/v1", "RayJob", "none", "none", NULL);
  put(fx.env.pods, owned_pod("s1", "ray.io/v1", "RayCluster", "solo", "rc-solo", "alice", "Running"));
  ck_assert_int_eq(committed_gpu(), 4000);
}
END_TEST

/* tenancy.controllers takes the link kinds; their defaults propagate. */
START_TEST(identities_for_links) {
  webhook_identities ids;
  char err[256];
  json_t *t = json_loads("{\"controllers\":{\"RayCluster\":[\"system:serviceaccount:ml:kuberay\"],"
                         "\"SparkApplication\":[\"system:serviceaccount:ml:spark-op\"]}}",
                         0, NULL);
  ck_assert_int_eq(webhook_identities_parse(t, MANAGER, &ids, err, sizeof(err)), 0);
  ck_assert(webhook_is_controller(&ids, WL_RAYCLUSTER, "system:serviceaccount:ml:kuberay"));
  ck_assert(webhook_is_controller(&ids, WL_RAYCLUSTER, KUBERAY));
  ck_assert(webhook_is_controller(&ids, WL_SPARKAPPLICATION, "system:serviceaccount:ml:spark-op"));
  ck_assert(!webhook_is_controller(&ids, WL_SPARKAPPLICATION, "system:serviceaccount:ml:kuberay"));
  ck_assert(webhook_is_propagator(&ids, "system:serviceaccount:ml:kuberay"));
  ck_assert(webhook_is_propagator(&ids, SPARK_OPERATOR));
  ck_assert(!webhook_is_propagator(&ids, DRIVER_SA));
  webhook_identities_free(&ids);
  json_decref(t);
  t = json_loads("{\"controllers\":{\"RayService\":[\"x\"]}}", 0, NULL);
  ck_assert_int_eq(webhook_identities_parse(t, MANAGER, &ids, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "tenancy.controllers.RayService: unknown workload kind"));
  webhook_identities_free(&ids);
  json_decref(t);
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
  tcase_add_test(tc, quota_counts_member_pods);
  tcase_add_test(tc, quota_counts_a_placed_job_once);
  tcase_add_test(tc, quota_per_cluster);
  tcase_add_test(tc, quota_placed_notebook);
  tcase_add_test(tc, quota_placed_inferenceservice);
  tcase_add_test(tc, quota_judges_placement);
  tcase_add_test(tc, quota_judges_a_gang_whole);
  tcase_add_test(tc, mutate_translates_gpu_and_injects_defaults);
  tcase_add_test(tc, mutate_personal_on_shared_claim);
  tcase_add_test(tc, mutate_spark_executor_index);
  tcase_add_test(tc, mutate_pod_without_gpu_sees_none);
  tcase_add_test(tc, mutate_refuses_bad_gpu_strings);
  tcase_add_test(tc, mutate_marks_gangs_for_volcano);
  tcase_add_test(tc, mutate_workloads_record_the_creator);
  tcase_add_test(tc, mutate_cubit_objects_record_the_creator);
  tcase_add_test(tc, reservation_released_on_arrival);
  tcase_add_loop_test(tc, gang_settings, 0, sizeof(gang_cases) / sizeof(gang_cases[0]));
  tcase_add_test(tc, gang_other_schedulers);
  tcase_add_test(tc, validate_projects);
  tcase_add_test(tc, validate_placement_clusters);
  tcase_add_test(tc, validate_notebook_placement);
  tcase_add_test(tc, validate_inferenceservice_cluster);
  tcase_add_loop_test(tc, who_may_change_what, 0, sizeof(who_cases) / sizeof(who_cases[0]));
  tcase_add_test(tc, who_may_create_and_delete);
  tcase_add_test(tc, project_without_a_name);
  tcase_add_loop_test(tc, handlers_are_total, 0, sizeof(odd_objects) / sizeof(odd_objects[0]));
  tcase_add_test(tc, attack_forged_owner_reference);
  tcase_add_test(tc, attack_forged_pods_in_the_cache_count);
  tcase_add_test(tc, attack_owner_cycle);
  tcase_add_test(tc, attack_update_raises_parallelism);
  tcase_add_test(tc, attack_pod_resize);
  tcase_add_test(tc, attack_deployments_and_scale);
  tcase_add_test(tc, attack_gpucores_zero);
  tcase_add_test(tc, attack_visible_devices);
  tcase_add_test(tc, attack_visible_devices_env_from);
  tcase_add_test(tc, attack_resource_claims);
  tcase_add_test(tc, attack_identity);
  tcase_add_test(tc, attack_templates_carry_the_creator);
  tcase_add_test(tc, history_finalizer_on_creation);
  tcase_add_test(tc, attack_per_member_through_a_deployment);
  tcase_add_test(tc, quota_ray_pods_share_the_trainingjob_charge);
  tcase_add_test(tc, quota_spark_executors_share_the_trainingjob_charge);
  tcase_add_loop_test(tc, quota_broken_links_are_charged, 0, sizeof(broken_cases) / sizeof(broken_cases[0]));
  tcase_add_test(tc, quota_orphaned_links_charge_their_pods);
  tcase_add_test(tc, identities_for_links);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
