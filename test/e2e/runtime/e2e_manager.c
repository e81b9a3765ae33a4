/* The manager against the real control plane: a controller for a kind whose
 * CRD does not exist when the manager starts. Installing the CRD makes the
 * manager refresh discovery and start the informer; the controller then
 * reconciles an object into an owned child (server-side apply with a
 * controller ownerReference), recreates the child when it is deleted (owner
 * mapping), writes status with a Ready condition, and reconciles a changed
 * object again. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/client.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/manager.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

static const kube_resource widgets = {"e2e.cubit.dev", "v1", "widgets", "Widget", 1};

static atomic_int reconciles;

/* Desired state: one ConfigMap named after the Widget holding spec.size,
 * and status.observedGeneration with a Ready condition. */
static rt_result reconcile_widget(const rt_ctx *ctx, const rt_request *req) {
  atomic_fetch_add(&reconciles, 1);
  cache_store *store = rt_store(ctx, &widgets);
  if (store == NULL) return rt_requeue_after(1000);
  json_t *w = cache_store_get(store, req->ns, req->name);
  if (w == NULL) return rt_ok(); /* deleted: garbage collection removes the child */
  json_t *cm = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
                         "name", req->name, "namespace", req->ns, "data", "size",
                         js_str(w, "spec.size") ? js_str(w, "spec.size") : "");
  rt_set_controller_ref(cm, w);
  kube_status st;
  int rc = rt_apply_cached(ctx->client, rt_store(ctx, &kube_configmaps), &kube_configmaps, cm, NULL, NULL, &st);
  json_decref(cm);
  if (rc) {
    json_decref(w);
    return rt_result_for_error(rc, &st);
  }
  json_t *status = json_deep_copy(json_object_get(w, "status"));
  if (!json_is_object(status)) {
    json_decref(status);
    status = json_object();
  }
  json_int_t gen = js_int(w, "metadata.generation", 0);
  rt_condition_set(status, "Ready", "True", "ChildApplied", "configmap written", gen, time_wall_s());
  json_object_set_new(status, "observedGeneration", json_integer(gen));
  rc = rt_apply_status(ctx->client, &widgets, w, status, NULL, &st);
  json_decref(status);
  json_decref(w);
  return rc ? rt_result_for_error(rc, &st) : rt_ok();
}

static kube_config cfg;
static kube_client *admin;

static void *run_manager(void *arg) {
  rt_manager *m = arg;
  int code = rt_manager_run(m);
  return (void *)(intptr_t)code;
}

static int wait_for_get(const kube_resource *r, const char *ns, const char *name, const char *path,
                        const char *want, int timeout_s) {
  for (int64_t end = time_mono_ms() + timeout_s * 1000LL; time_mono_ms() < end; usleep(100000)) {
    json_t *o = NULL;
    kube_status st;
    if (kube_get(admin, r, ns, name, &o, &st) == 0) {
      const char *v = js_str(o, path);
      int ok = want == NULL || (v && strcmp(v, want) == 0);
      json_decref(o);
      if (ok) return 1;
    }
  }
  return 0;
}

static const char *crd_json =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"widgets.e2e.cubit.dev\"},\"spec\":{\"group\":\"e2e.cubit.dev\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\",\"kind\":\"Widget\"},"
    "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"subresources\":{\"status\":{}},"
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\","
    "\"properties\":{\"size\":{\"type\":\"string\"}}},\"status\":{\"type\":\"object\","
    "\"x-kubernetes-preserve-unknown-fields\":true}}}}}]}}";

START_TEST(controller_for_a_crd_installed_later) {
  char err[512];
  char *path = testutil_src_path(".cubit/local/kubeconfig");
  ck_assert_msg(kube_config_load(path, NULL, &cfg, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(kube_client_new(&cfg, NULL, &admin), 0);
  kube_status st;
  kube_delete_options bg = {.propagation_policy = "Background"};
  /* A clean start: no CRD. */
  if (kube_delete(admin, &kube_crds, NULL, "widgets.e2e.cubit.dev", &bg, &st) == 0)
    for (int i = 0; i < 100; i++) {
      json_t *o = NULL;
      if (kube_get(admin, &kube_crds, NULL, "widgets.e2e.cubit.dev", &o, &st) == CUBIT_ENOTFOUND) break;
      json_decref(o);
      usleep(200000);
    }

  rt_manager_options o;
  char *argv[] = {"cubit-manager", "--kubeconfig", path, "--health-probe-bind-address", "127.0.0.1:0",
                  "--metrics-bind-address", "0", "--webhook-bind-address", "0", NULL};
  ck_assert_int_eq(rt_manager_parse_flags(9, argv, &o, err, sizeof(err)), 0);
  rt_manager *m;
  ck_assert_int_eq(rt_manager_new(&o, &m), 0);
  rt_controller_def def = {0};
  def.name = "widget";
  def.primary = &widgets;
  def.owns[0] = &kube_configmaps;
  def.workers = 2;
  def.reconcile = reconcile_widget;
  ck_assert_int_eq(rt_manager_add_controller(m, &def), 0);
  pthread_t t;
  pthread_create(&t, NULL, run_manager, m);

  /* The CRD appears after the manager started. */
  char *ns = xasprintf("e2e-manager-%d", (int)getpid());
  json_t *nsobj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", ns);
  ck_assert_int_eq(kube_create(admin, &kube_namespaces, NULL, nsobj, NULL, &st), 0);
  json_decref(nsobj);
  json_t *crd = json_loads(crd_json, 0, NULL);
  ck_assert_int_eq(kube_create(admin, &kube_crds, NULL, crd, NULL, &st), 0);
  json_decref(crd);
  ck_assert(wait_for_get(&kube_crds, NULL, "widgets.e2e.cubit.dev", "metadata.name", NULL, 30));
  int created = 0;
  for (int i = 0; i < 100 && !created; i++) {
    json_t *w = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "e2e.cubit.dev/v1", "kind", "Widget",
                          "metadata", "name", "w1", "namespace", ns, "spec", "size", "3");
    created = kube_create(admin, &widgets, ns, w, NULL, &st) == 0; /* 404 until the CRD is served */
    json_decref(w);
    if (!created) usleep(200000);
  }
  ck_assert_msg(created, "cannot create a Widget: %s", st.message);

  /* Reconciled into its child and a Ready status. */
  ck_assert_msg(wait_for_get(&kube_configmaps, ns, "w1", "data.size", "3", 60), "child ConfigMap not written");
  ck_assert(wait_for_get(&widgets, ns, "w1", "status.conditions", NULL, 30));
  json_t *w = NULL;
  ck_assert_int_eq(kube_get(admin, &widgets, ns, "w1", &w, &st), 0);
  ck_assert_int_eq(js_int(w, "status.observedGeneration", 0), js_int(w, "metadata.generation", -1));
  ck_assert(rt_condition_true(json_object_get(w, "status"), "Ready"));
  json_t *child = NULL;
  ck_assert_int_eq(kube_get(admin, &kube_configmaps, ns, "w1", &child, &st), 0);
  ck_assert(rt_is_controlled_by(child, w));
  json_decref(child);
  json_decref(w);

  /* A deleted child comes back: its event maps to the owner. */
  ck_assert_int_eq(kube_delete(admin, &kube_configmaps, ns, "w1", NULL, &st), 0);
  ck_assert_msg(wait_for_get(&kube_configmaps, ns, "w1", "data.size", "3", 30), "child not recreated");

  /* A spec change is reconciled. */
  json_t *patch = json_pack("{s:{s:s}}", "spec", "size", "5");
  ck_assert_int_eq(kube_patch(admin, &widgets, ns, "w1", patch, NULL, NULL, &st), 0);
  json_decref(patch);
  ck_assert_msg(wait_for_get(&kube_configmaps, ns, "w1", "data.size", "5", 30), "spec change not reconciled");
  ck_assert(wait_for_get(&widgets, ns, "w1", "status.observedGeneration", NULL, 10));

  /* Quiet once converged: no reconcile loop feeding itself. */
  usleep(1500000);
  int settled = atomic_load(&reconciles);
  usleep(2000000);
  ck_assert_int_eq(atomic_load(&reconciles), settled);

  rt_manager_stop(m);
  void *code;
  pthread_join(t, &code);
  ck_assert_int_eq((int)(intptr_t)code, 0);
  rt_manager_free(m);

  /* rt_apply_status makes the status exactly what it is given: a field left
   * out is removed, a nested change leaves its siblings; nothing is sent when
   * nothing differs; a status decided from a stale object is a conflict. */
  json_t *live = NULL;
  ck_assert_int_eq(kube_get(admin, &widgets, ns, "w1", &live, &st), 0);
  json_t *want = json_deep_copy(json_object_get(live, "status"));
  json_object_set_new(want, "note", json_pack("{s:s, s:s}", "a", "1", "b", "2"));
  int wrote = 0;
  ck_assert_int_eq(rt_apply_status(admin, &widgets, live, want, &wrote, &st), 0);
  ck_assert_int_eq(wrote, 1);
  json_t *stale = live;
  ck_assert_int_eq(kube_get(admin, &widgets, ns, "w1", &live, &st), 0);
  ck_assert(json_equal(json_object_get(live, "status"), want));
  ck_assert_int_eq(rt_apply_status(admin, &widgets, live, want, &wrote, &st), 0);
  ck_assert_int_eq(wrote, 0);
  json_object_del(want, "observedGeneration");
  json_object_set_new(json_object_get(want, "note"), "b", json_string("3"));
  ck_assert_int_eq(rt_apply_status(admin, &widgets, stale, want, &wrote, &st), CUBIT_ECONFLICT);
  ck_assert_int_eq(rt_apply_status(admin, &widgets, live, want, &wrote, &st), 0);
  json_decref(live);
  ck_assert_int_eq(kube_get(admin, &widgets, ns, "w1", &live, &st), 0);
  char *got = js_dump(json_object_get(live, "status"));
  ck_assert_msg(json_equal(json_object_get(live, "status"), want), "status after the patch: %s", got);
  free(got);
  json_decref(want);
  json_decref(stale);
  json_decref(live);

  ck_assert_int_eq(kube_delete(admin, &kube_namespaces, NULL, ns, &bg, &st), 0);
  ck_assert_int_eq(kube_delete(admin, &kube_crds, NULL, "widgets.e2e.cubit.dev", &bg, &st), 0);
  free(ns);
  free(path);
  kube_client_free(admin);
  kube_config_free(&cfg);
}
END_TEST

int main(void) {
  log_init(getenv("CUBIT_E2E_V") ? atoi(getenv("CUBIT_E2E_V")) : 0, stderr);
  Suite *s = suite_create("e2e_manager");
  TCase *tc = tcase_create("manager");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, controller_for_a_crd_installed_later);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
