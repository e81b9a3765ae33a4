/* An informer against the local cluster (kind/local): how fast it lists and
 * stores N ConfigMaps, how fast watch events are applied, and the memory
 * per cached object.
 *
 *   bench_informer [N] [--json out.json] [--baseline old.json]    (N default 5000)
 * Uses .cubit/local/kubeconfig (or $CUBIT_E2E_KUBECONFIG); creates and deletes
 * its own namespace. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "benchutil.h"
#include "cache/informer.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/watch.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

static kube_client *client;
static atomic_long events_seen;

typedef struct writer {
  const char *ns;
  int from, to, patch;
} writer;

static void *write_range(void *arg) {
  writer *w = arg;
  char payload[1025];
  memset(payload, 'x', 1024);
  payload[1024] = '\0';
  for (int i = w->from; i < w->to; i++) {
    char name[32];
    snprintf(name, sizeof(name), "cm-%05d", i);
    kube_status st;
    json_t *body = w->patch ? json_pack("{s:{s:s}}", "data", "v", "2")
                            : json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                                        "ConfigMap", "metadata", "name", name, "namespace", w->ns, "data", "v",
                                        "1", "payload", payload);
    int rc = w->patch ? kube_patch(client, &kube_configmaps, w->ns, name, body, NULL, NULL, &st)
                      : kube_create(client, &kube_configmaps, w->ns, body, NULL, &st);
    if (rc) fprintf(stderr, "%s: %s %s\n", name, cubit_strerror(rc), st.message);
    json_decref(body);
  }
  return NULL;
}

static void write_all(const char *ns, int n, int patch) {
  pthread_t t[4];
  writer w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (writer){ns, n * i / 4, n * (i + 1) / 4, patch};
    pthread_create(&t[i], NULL, write_range, &w[i]);
  }
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
}

static void on_update(json_t *o, json_t *n, void *arg) {
  atomic_fetch_add(&events_seen, 1);
}

static void *run_loop(void *arg) {
  uv_run(arg, UV_RUN_DEFAULT);
  return NULL;
}

int main(int argc, char **argv) {
  bench_figures *b = bench_start("bench_informer", &argc, argv);
  int n = argc > 1 ? atoi(argv[1]) : 5000;
  const char *path = getenv("CUBIT_E2E_KUBECONFIG") ? getenv("CUBIT_E2E_KUBECONFIG") : ".cubit/local/kubeconfig";
  kube_config cfg;
  char err[512];
  if (kube_config_load(path, NULL, &cfg, err, sizeof(err))) {
    fprintf(stderr, "bench_informer: %s (start the cluster with kind/local/up.sh)\n", err);
    return 1;
  }
  if (kube_client_new(&cfg, NULL, &client)) return 1;
  char ns[64];
  snprintf(ns, sizeof(ns), "bench-informer-%d", (int)getpid());
  json_t *nsobj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", ns);
  kube_status st;
  if (kube_create(client, &kube_namespaces, NULL, nsobj, NULL, &st)) {
    fprintf(stderr, "namespace: %s\n", st.message);
    return 1;
  }
  json_decref(nsobj);
  double tw = time_mono_s();
  write_all(ns, n, 0);
  double create_secs = time_mono_s() - tw;

  uv_loop_t loop;
  uv_loop_init(&loop);
  kube_watcher *wr;
  if (kube_watcher_new(&loop, client, &wr)) return 1;
  cache_informer_options o = {.resource = &kube_configmaps, .namespace = ns};
  cache_informer *inf = cache_informer_new(&loop, client, wr, &o);
  cache_handlers h = {NULL, on_update, NULL, NULL};
  cache_informer_add_handlers(inf, &h);
  size_t heap0 = bench_heap_bytes();
  double t0 = time_mono_s();
  if (cache_informer_start(inf)) return 1;
  pthread_t loop_thread;
  pthread_create(&loop_thread, NULL, run_loop, &loop);
  while (!cache_informer_has_synced(inf)) usleep(1000);
  double sync_secs = time_mono_s() - t0;
  size_t objects = cache_store_len(cache_informer_store(inf));
  size_t heap1 = bench_heap_bytes();

  double t1 = time_mono_s();
  write_all(ns, n, 1);
  double patched = time_mono_s();
  while (atomic_load(&events_seen) < n && time_mono_s() - t1 < 300) usleep(1000);
  double follow_secs = time_mono_s() - t1;

  bench_figure(b, "objects", (double)objects, "", 1);
  bench_figure(b, "create_rate_4_threads", n / create_secs, "obj/s", 1);
  bench_figure(b, "list_and_sync_rate", objects / sync_secs, "obj/s", 1);
  bench_figure(b, "heap_per_cached_object", (double)(heap1 - heap0) / objects, "B", 0);
  bench_figure(b, "patch_rate_4_threads", n / (patched - t1), "obj/s", 1);
  bench_figure(b, "events_followed_rate", atomic_load(&events_seen) / follow_secs, "ev/s", 1);
  bench_figure(b, "lag_after_last_patch", (time_mono_s() - patched) * 1000, "ms", 0);

  /* Teardown: the loop thread is left to the process exit; the namespace goes. */
  kube_delete_options d = {.propagation_policy = "Background"};
  if (kube_delete(client, &kube_namespaces, NULL, ns, &d, &st)) fprintf(stderr, "cleanup: %s\n", st.message);
  return bench_finish(b);
}
