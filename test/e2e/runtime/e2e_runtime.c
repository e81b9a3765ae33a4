/* The runtime against the real control plane (kind/local): informers at
 * scale, watches surviving a kube-apiserver restart, the 410 relist after an
 * etcd compaction, apply without a second write, and event aggregation.
 *
 * Needs the cluster from kind/local/up.sh (ctest's e2e_cluster fixture). */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>
#include <uv.h>

#include "cache/informer.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/watch.h"
#include "runtime/apply.h"
#include "runtime/events.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

/* ------------------------------------------------------------ harness */

static kube_config cfg;
static kube_client *client;

static void connect_cluster(void) {
  char err[512];
  char *path = testutil_src_path(".cubit/local/kubeconfig");
  const char *env = getenv("CUBIT_E2E_KUBECONFIG");
  int rc = kube_config_load(env ? env : path, NULL, &cfg, err, sizeof(err));
  ck_assert_msg(rc == 0, "kubeconfig: %s", err);
  free(path);
  kube_client_options o = {0};
  ck_assert_int_eq(kube_client_new(&cfg, &o, &client), 0);
}

static void disconnect_cluster(void) {
  kube_client_free(client);
  kube_config_free(&cfg);
}

static char *make_namespace(const char *prefix) {
  char *name = xasprintf("%s-%d-%lld", prefix, (int)getpid(), (long long)(time_mono_ms() % 100000));
  json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", name);
  kube_status st;
  int rc = kube_create(client, &kube_namespaces, NULL, ns, NULL, &st);
  ck_assert_msg(rc == 0, "create namespace %s: %s %s", name, cubit_strerror(rc), st.message);
  json_decref(ns);
  return name;
}

static void drop_namespace(char *name) {
  kube_status st;
  kube_delete_options o = {.propagation_policy = "Background"};
  if (kube_delete(client, &kube_namespaces, NULL, name, &o, &st)) fprintf(stderr, "delete namespace %s: %s\n", name, st.message);
  free(name);
}

static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  fprintf(stderr, "+ %s\n", cmd);
  return system(cmd);
}

/* Runs a libuv loop on its own thread; work is handed to it with
 * loop_call(), the way the manager's loop thread is used. */
typedef struct loop_thread {
  uv_loop_t loop;
  uv_async_t async;
  pthread_t thread;
  pthread_mutex_t mu;
  void (*fn)(void *);
  void *arg;
  int done, quit;
} loop_thread;

static void on_async(uv_async_t *a) {
  loop_thread *lt = a->data;
  pthread_mutex_lock(&lt->mu);
  void (*fn)(void *) = lt->fn;
  void *arg = lt->arg;
  lt->fn = NULL;
  pthread_mutex_unlock(&lt->mu);
  if (fn) fn(arg);
  pthread_mutex_lock(&lt->mu);
  lt->done = 1;
  pthread_mutex_unlock(&lt->mu);
  if (lt->quit) uv_close((uv_handle_t *)&lt->async, NULL);
}

static void *loop_main(void *arg) {
  loop_thread *lt = arg;
  uv_run(&lt->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void loop_init(loop_thread *lt) {
  memset(lt, 0, sizeof(*lt));
  uv_loop_init(&lt->loop);
  uv_async_init(&lt->loop, &lt->async, on_async);
  lt->async.data = lt;
  pthread_mutex_init(&lt->mu, NULL);
}

static void loop_start(loop_thread *lt) {
  pthread_create(&lt->thread, NULL, loop_main, lt);
}

/* Calls fn(arg) on the loop thread and waits for it to return. */
static void loop_call(loop_thread *lt, void (*fn)(void *), void *arg) {
  pthread_mutex_lock(&lt->mu);
  lt->fn = fn;
  lt->arg = arg;
  lt->done = 0;
  pthread_mutex_unlock(&lt->mu);
  uv_async_send(&lt->async);
  for (;;) {
    pthread_mutex_lock(&lt->mu);
    int done = lt->done;
    pthread_mutex_unlock(&lt->mu);
    if (done) return;
    usleep(1000);
  }
}

/* Polls cond(arg) every 50 ms for up to timeout_s; a safety net only. */
static int wait_for(int (*cond)(void *), void *arg, int timeout_s) {
  for (int64_t end = time_mono_ms() + timeout_s * 1000LL; time_mono_ms() < end; usleep(50000))
    if (cond(arg)) return 1;
  return cond(arg);
}

/* ---------------------------------------------------- informer fixture */

typedef struct seen {
  char *key;
  int value; /* last data.v delivered */
  UT_hash_handle hh;
} seen;

typedef struct fixture {
  loop_thread lt;
  kube_watcher *watcher;
  cache_informer *inf;
  char *ns;
  pthread_mutex_t mu;
  seen *values;
  atomic_long adds, updates, deletes;
  cache_informer_stats stats;
  int stopped;
} fixture;

static void record(fixture *f, json_t *obj, int deleted) {
  const char *v = js_str(obj, "data.v");
  char *key = cache_key(obj);
  pthread_mutex_lock(&f->mu);
  seen *s;
  HASH_FIND_STR(f->values, key, s);
  if (s == NULL) {
    s = xcalloc(1, sizeof(*s));
    s->key = key;
    HASH_ADD_KEYPTR(hh, f->values, s->key, strlen(s->key), s);
  } else {
    free(key);
  }
  s->value = deleted ? -1 : (v ? atoi(v) : 0);
  pthread_mutex_unlock(&f->mu);
}

static void h_add(json_t *obj, void *arg) {
  fixture *f = arg;
  atomic_fetch_add(&f->adds, 1);
  record(f, obj, 0);
}
static void h_update(json_t *old_obj, json_t *new_obj, void *arg) {
  fixture *f = arg;
  atomic_fetch_add(&f->updates, 1);
  record(f, new_obj, 0);
}
static void h_delete(json_t *obj, void *arg) {
  fixture *f = arg;
  atomic_fetch_add(&f->deletes, 1);
  record(f, obj, 1);
}

static void fixture_start(fixture *f, const char *prefix) {
  memset(f, 0, sizeof(*f));
  pthread_mutex_init(&f->mu, NULL);
  f->ns = make_namespace(prefix);
  loop_init(&f->lt);
  ck_assert_int_eq(kube_watcher_new(&f->lt.loop, client, &f->watcher), 0);
  cache_informer_options o = {0};
  o.resource = &kube_configmaps;
  o.namespace = f->ns;
  /* Only the test's own objects: not the namespace's kube-root-ca.crt. */
  o.label_selector = "cubit.dev/e2e=runtime";
  f->inf = cache_informer_new(&f->lt.loop, client, f->watcher, &o);
  cache_handlers h = {h_add, h_update, h_delete, f};
  cache_informer_add_handlers(f->inf, &h);
  ck_assert_int_eq(cache_informer_start(f->inf), 0);
  loop_start(&f->lt);
}

static void do_stats(void *arg) {
  fixture *f = arg;
  cache_informer_get_stats(f->inf, &f->stats);
}

static void get_stats(fixture *f) {
  loop_call(&f->lt, do_stats, f);
}

static void do_stop(void *arg) {
  fixture *f = arg;
  cache_informer_stop(f->inf, NULL, NULL);
  kube_watcher_close(f->watcher, NULL, NULL);
  f->lt.quit = 1;
}

static void fixture_stop(fixture *f) {
  loop_call(&f->lt, do_stop, f);
  pthread_join(f->lt.thread, NULL);
  uv_loop_close(&f->lt.loop);
  seen *s, *tmp;
  HASH_ITER(hh, f->values, s, tmp) {
    HASH_DEL(f->values, s);
    free(s->key);
    free(s);
  }
  drop_namespace(f->ns);
}

static int synced(void *arg) {
  return cache_informer_has_synced(((fixture *)arg)->inf);
}

/* How many keys the handlers last saw with value v. */
static int count_value(fixture *f, int v) {
  int n = 0;
  pthread_mutex_lock(&f->mu);
  seen *s, *tmp;
  HASH_ITER(hh, f->values, s, tmp) n += s->value == v;
  pthread_mutex_unlock(&f->mu);
  return n;
}

/* --------------------------------------------------- parallel writers */

typedef struct writer_job {
  const char *ns;
  int from, to; /* configmaps [from, to) */
  int value;    /* data.v to write */
  int create;   /* create instead of patch */
  int errors;
} writer_job;

static void *writer(void *arg) {
  writer_job *j = arg;
  for (int i = j->from; i < j->to; i++) {
    char name[32], v[16];
    snprintf(name, sizeof(name), "cm-%05d", i);
    snprintf(v, sizeof(v), "%d", j->value);
    kube_status st;
    int rc;
    if (j->create) {
      json_t *cm = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
                             "ConfigMap", "metadata", "name", name, "namespace", j->ns, "labels", "cubit.dev/e2e",
                             "runtime", "data", "v", v);
      rc = kube_create(client, &kube_configmaps, j->ns, cm, NULL, &st);
      json_decref(cm);
    } else {
      json_t *patch = json_pack("{s:{s:s}}", "data", "v", v);
      rc = kube_patch(client, &kube_configmaps, j->ns, name, patch, NULL, NULL, &st);
      json_decref(patch);
    }
    if (rc) {
      j->errors++;
      fprintf(stderr, "write %s: %s %s\n", name, cubit_strerror(rc), st.message);
    }
  }
  return NULL;
}

/* Creates or patches configmaps cm-[from, to) with data.v = value, from 4
 * threads. */
static void write_range(const char *ns, int from, int to, int value, int create) {
  enum { THREADS = 4 };
  pthread_t t[THREADS];
  writer_job jobs[THREADS];
  int n = to - from;
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (writer_job){ns, from + n * i / THREADS, from + n * (i + 1) / THREADS, value, create, 0};
    pthread_create(&t[i], NULL, writer, &jobs[i]);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(jobs[i].errors, 0);
  }
}

typedef struct want_value {
  fixture *f;
  int value, count;
} want_value;

static int reached(void *arg) {
  want_value *w = arg;
  return count_value(w->f, w->value) == w->count;
}

/* ---------------------------------------------------------------- tests */

/* 5,000 ConfigMaps synced, then 10,000 updates followed with none missed. */
START_TEST(informer_follows_10000_updates) {
  enum { N = 5000 };
  connect_cluster();
  fixture f;
  fixture_start(&f, "e2e-informer");
  ck_assert(wait_for(synced, &f, 60));
  write_range(f.ns, 0, N, 1, 1);
  want_value w1 = {&f, 1, N};
  ck_assert_msg(wait_for(reached, &w1, 180), "only %d of %d creates seen", count_value(&f, 1), N);
  write_range(f.ns, 0, N, 2, 0);
  write_range(f.ns, 0, N, 3, 0);
  want_value w3 = {&f, 3, N};
  ck_assert_msg(wait_for(reached, &w3, 180), "only %d of %d final values seen", count_value(&f, 3), N);
  get_stats(&f);
  ck_assert_uint_eq(cache_store_len(cache_informer_store(f.inf)), N);
  ck_assert_int_eq(atomic_load(&f.adds), N);
  /* Without a relist every single update arrives as its own event. */
  if (f.stats.relists_on_gone == 0 && f.stats.watch_errors == 0)
    ck_assert_int_eq(atomic_load(&f.updates), 2 * N);
  fprintf(stderr, "informer: adds=%ld updates=%ld lists=%lu watches=%lu events=%lu\n", atomic_load(&f.adds),
          atomic_load(&f.updates), f.stats.lists, f.stats.watches, f.stats.events);
  fixture_stop(&f);
  disconnect_cluster();
}
END_TEST

static int apiserver_ready(void) {
  json_t *out = NULL;
  kube_status st;
  int rc = kube_get(client, &kube_namespaces, NULL, "default", &out, &st);
  json_decref(out);
  return rc == 0;
}

static void kill_apiserver(void) {
  ck_assert_int_eq(shell("kill -KILL $(head -n1 '%s/.cubit/local/run/kube-apiserver.pid')",
                         getenv("CUBIT_TEST_SRCDIR")), 0);
  for (int i = 0; i < 100 && apiserver_ready(); i++) usleep(100000);
  ck_assert(!apiserver_ready());
}

static void start_apiserver(void) {
  ck_assert_int_eq(shell("'%s/kind/local/up.sh' >/dev/null", getenv("CUBIT_TEST_SRCDIR")), 0);
  ck_assert(apiserver_ready());
}

/* The watch resumes by itself after kube-apiserver dies and comes back. */
START_TEST(watch_resumes_after_apiserver_restart) {
  connect_cluster();
  fixture f;
  fixture_start(&f, "e2e-restart");
  ck_assert(wait_for(synced, &f, 60));
  write_range(f.ns, 0, 10, 1, 1);
  want_value w1 = {&f, 1, 10};
  ck_assert(wait_for(reached, &w1, 30));
  kill_apiserver();
  start_apiserver();
  write_range(f.ns, 0, 10, 2, 0);
  want_value w2 = {&f, 2, 10};
  ck_assert_msg(wait_for(reached, &w2, 90), "after the restart only %d of 10 updates seen", count_value(&f, 2));
  get_stats(&f);
  ck_assert_uint_ge(f.stats.watches, 2);
  ck_assert_uint_ge(f.stats.watch_errors, 1);
  fixture_stop(&f);
  disconnect_cluster();
}
END_TEST

static int relisted(void *arg) {
  fixture *f = arg;
  get_stats(f);
  return f->stats.relists_on_gone > 0;
}

static void do_pause(void *arg) {
  cache_informer_set_paused(((fixture *)arg)->inf, 1);
}

static void do_resume(void *arg) {
  cache_informer_set_paused(((fixture *)arg)->inf, 0);
}

/* The informer is away while objects are deleted, changed and created, etcd
 * is compacted and kube-apiserver restarts with a fresh watch cache: its
 * watch from the old resourceVersion gets 410 Gone, it relists, and the
 * handlers hear of every delete they missed. */
START_TEST(relist_after_compaction_delivers_missed_deletes) {
  connect_cluster();
  fixture f;
  fixture_start(&f, "e2e-gone");
  ck_assert(wait_for(synced, &f, 60));
  write_range(f.ns, 0, 20, 1, 1);
  want_value w1 = {&f, 1, 20};
  ck_assert(wait_for(reached, &w1, 30));
  loop_call(&f.lt, do_pause, &f);
  for (int i = 0; i < 8; i++) {
    char name[32];
    snprintf(name, sizeof(name), "cm-%05d", i);
    kube_status st;
    ck_assert_int_eq(kube_delete(client, &kube_configmaps, f.ns, name, NULL, &st), 0);
  }
  write_range(f.ns, 8, 20, 5, 0);
  write_range(f.ns, 20, 23, 5, 1);
  json_t *list = NULL;
  kube_list_options lo = {.limit = 1};
  kube_status st;
  ck_assert_int_eq(kube_list(client, &kube_configmaps, f.ns, &lo, &list, &st), 0);
  const char *rv = js_str(list, "metadata.resourceVersion");
  ck_assert_ptr_nonnull(rv);
  /* etcd's JSON gateway; the resourceVersion is etcd's revision. */
  ck_assert_int_eq(shell("curl -sSf -X POST http://127.0.0.1:%s/v3/kv/compaction "
                         "-d '{\"revision\":\"%s\",\"physical\":true}' >/dev/null",
                         getenv("CUBIT_ETCD_CLIENT_PORT") ? getenv("CUBIT_ETCD_CLIENT_PORT") : "23790", rv),
                   0);
  json_decref(list);
  kill_apiserver();
  start_apiserver();
  ck_assert_int_eq(atomic_load(&f.deletes), 0);
  loop_call(&f.lt, do_resume, &f);
  ck_assert_msg(wait_for(relisted, &f, 90), "no relist after 410");
  want_value gone = {&f, -1, 8}, changed = {&f, 5, 15};
  ck_assert_msg(wait_for(reached, &gone, 30), "%d of 8 deletes delivered", count_value(&f, -1));
  ck_assert_msg(wait_for(reached, &changed, 30), "%d of 15 changes delivered", count_value(&f, 5));
  ck_assert_int_eq(atomic_load(&f.deletes), 8);
  ck_assert_uint_eq(cache_store_len(cache_informer_store(f.inf)), 15);
  fixture_stop(&f);
  disconnect_cluster();
}
END_TEST

/* Applying the same desired child twice writes once. */
START_TEST(apply_twice_writes_once) {
  connect_cluster();
  char *ns = make_namespace("e2e-apply");
  kube_status st;
  json_t *owner_in = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
                               "name", "owner", "namespace", ns);
  json_t *owner = NULL;
  ck_assert_int_eq(kube_create(client, &kube_configmaps, ns, owner_in, &owner, &st), 0);
  json_decref(owner_in);
  json_object_set_new(owner, "apiVersion", json_string("v1"));
  json_object_set_new(owner, "kind", json_string("ConfigMap"));
  json_t *desired = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
                              "ConfigMap", "metadata", "name", "child", "namespace", ns, "labels", "app", "x",
                              "data", "k", "v");
  rt_set_controller_ref(desired, owner);
  json_t *first = NULL, *second = NULL, *third = NULL;
  int wrote = -1;
  ck_assert_int_eq(rt_apply(client, &kube_configmaps, desired, NULL, &first, &wrote, &st), 0);
  ck_assert_int_eq(wrote, 1);
  ck_assert(rt_is_controlled_by(first, owner));
  ck_assert_int_eq(rt_apply(client, &kube_configmaps, desired, first, &second, &wrote, &st), 0);
  ck_assert_int_eq(wrote, 0);
  /* Even when sent, an unchanged apply (digest included) is a no-op on the server. */
  json_t *same = json_deep_copy(desired);
  json_object_set(js_ensure_obj(same, "metadata.annotations"), RT_APPLIED_ANNOTATION,
                  json_object_get(js_get(first, "metadata.annotations"), RT_APPLIED_ANNOTATION));
  ck_assert_int_eq(kube_apply(client, &kube_configmaps, same, RT_FIELD_MANAGER, 1, &third, &st), 0);
  json_decref(same);
  ck_assert_str_eq(js_resource_version(third), js_resource_version(first));
  /* A real change is written. */
  js_set_str(desired, "data.k", "v2");
  json_decref(second);
  ck_assert_int_eq(rt_apply(client, &kube_configmaps, desired, first, &second, &wrote, &st), 0);
  ck_assert_int_eq(wrote, 1);
  ck_assert_str_ne(js_resource_version(second), js_resource_version(first));
  /* A field dropped from the desired object is removed from the live one,
   * though the live one still holds every desired field. */
  json_object_del(js_get(desired, "metadata.labels"), "app");
  json_t *fourth = NULL;
  ck_assert_int_eq(rt_apply(client, &kube_configmaps, desired, second, &fourth, &wrote, &st), 0);
  ck_assert_int_eq(wrote, 1);
  ck_assert_ptr_null(json_object_get(js_get(fourth, "metadata.labels"), "app"));
  json_decref(fourth);
  json_decref(first);
  json_decref(second);
  json_decref(third);
  json_decref(desired);
  json_decref(owner);
  drop_namespace(ns);
  disconnect_cluster();
}
END_TEST

/* The same event twice is one Event with count 2. */
START_TEST(events_are_aggregated) {
  connect_cluster();
  char *ns = make_namespace("e2e-events");
  kube_status st;
  json_t *in = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name",
                         "subject", "namespace", ns);
  json_t *obj = NULL;
  ck_assert_int_eq(kube_create(client, &kube_configmaps, ns, in, &obj, &st), 0);
  json_decref(in);
  json_object_set_new(obj, "apiVersion", json_string("v1"));
  json_object_set_new(obj, "kind", json_string("ConfigMap"));
  rt_recorder *r = rt_recorder_new(client, "cubit-e2e");
  rt_event(r, obj, "Warning", "Broken", "it broke %d times", 1);
  rt_event(r, obj, "Warning", "Broken", "it broke %d times", 1);
  rt_event(r, obj, "Warning", "Broken", "it broke %d times", 1);
  rt_event(r, obj, "Normal", "Fixed", "fixed");
  json_t *events = NULL;
  kube_list_options lo = {.field_selector = "involvedObject.name=subject"};
  ck_assert_int_eq(kube_list(client, &kube_events, ns, &lo, &events, &st), 0);
  json_t *items = json_object_get(events, "items");
  ck_assert_uint_eq(json_array_size(items), 2);
  size_t i;
  json_t *ev;
  json_array_foreach(items, i, ev) {
    if (strcmp(js_str(ev, "reason"), "Broken") == 0) ck_assert_int_eq(js_int(ev, "count", 0), 3);
    else ck_assert_int_eq(js_int(ev, "count", 0), 1);
    ck_assert_str_eq(js_str(ev, "involvedObject.uid"), js_uid(obj));
  }
  json_decref(events);
  rt_recorder_free(r);
  json_decref(obj);
  drop_namespace(ns);
  disconnect_cluster();
}
END_TEST

int main(void) {
  log_init(getenv("CUBIT_E2E_V") ? atoi(getenv("CUBIT_E2E_V")) : 0, stderr);
  Suite *s = suite_create("e2e_runtime");
  /* Run one case with CK_RUN_CASE=scale|restart|apply. */
  TCase *scale = tcase_create("scale");
  tcase_set_timeout(scale, 900);
  tcase_add_test(scale, informer_follows_10000_updates);
  suite_add_tcase(s, scale);
  TCase *restart = tcase_create("restart");
  tcase_set_timeout(restart, 600);
  tcase_add_test(restart, watch_resumes_after_apiserver_restart);
  tcase_add_test(restart, relist_after_compaction_delivers_missed_deletes);
  suite_add_tcase(s, restart);
  TCase *apply = tcase_create("apply");
  tcase_set_timeout(apply, 120);
  tcase_add_test(apply, apply_twice_writes_once);
  tcase_add_test(apply, events_are_aggregated);
  suite_add_tcase(s, apply);
  return testutil_run(s);
}
