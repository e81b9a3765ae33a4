/* The cache without a cluster: how fast typical objects go into the store
 * (watch-event decode + the informer's transform + index), what one cached
 * object costs in memory, whole (managedFields dropped) and cut down to the
 * fields Cubit reads of pods (runtime/fields.h), and what a read costs.
 *
 * The store keeps compact JSON text and decodes on read. For the choice
 * against the alternatives it also measures, on the same cut pods, a jansson
 * tree per object (what the store held before: tree_*) and what a perfect
 * pooled allocator under that tree would spend (jansson's requests rounded
 * to 8 bytes with no block headers: pool_bound_*).
 *
 *   bench_store [N] [--json out.json] [--baseline old.json]   (N default 20000) */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "cache/store.h"
#include "cache/transform.h"
#include "runtime/fields.h"

/* A Pod as a watch event carries it: realistic size and shape (about 3 KiB
 * of JSON, managedFields included). */
static const char *pod_event =
    "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
    "\"namespace\":\"team-a\",\"uid\":\"%08x-1b2c-4d5e-8f90-a1b2c3d4e5f6\",\"resourceVersion\":\"%d\","
    "\"generation\":1,\"creationTimestamp\":\"2026-11-22T07:00:00Z\",\"labels\":{\"app\":\"trainer\","
    "\"cubit.dev/project\":\"team-a\",\"cubit.dev/role\":\"worker\"},\"annotations\":{\"cubit.dev/user\":\"alice\"},"
    "\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"train-1\",\"uid\":"
    "\"%08x-aaaa-bbbb-cccc-dddddddddddd\",\"controller\":true,\"blockOwnerDeletion\":true}],"
    "\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
    "\"time\":\"2026-11-22T07:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:labels\":"
    "{\".\":{},\"f:app\":{},\"f:cubit.dev/project\":{}},\"f:ownerReferences\":{\".\":{},\"k:{\\\"uid\\\":\\\"x\\\"}\":{}}},"
    "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"main\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{},"
    "\"f:resources\":{\".\":{},\"f:limits\":{}}}}}}}]},\"spec\":{\"restartPolicy\":\"Never\",\"schedulerName\":"
    "\"volcano\",\"nodeName\":\"gpu-node-1\",\"containers\":[{\"name\":\"main\",\"image\":"
    "\"registry.example.com/ml/pytorch:2.5-cuda12\",\"command\":[\"python\",\"train.py\"],\"args\":[\"--epochs\","
    "\"10\"],\"env\":[{\"name\":\"CUBIT_JOB_NAME\",\"value\":\"train-1\"},{\"name\":\"CUBIT_ROLE\",\"value\":"
    "\"worker\"}],\"resources\":{\"limits\":{\"cpu\":\"4\",\"memory\":\"16Gi\",\"nvidia.com/gpu\":\"1\"},"
    "\"requests\":{\"cpu\":\"4\",\"memory\":\"16Gi\",\"nvidia.com/gpu\":\"1\"}},\"volumeMounts\":[{\"name\":"
    "\"data\",\"mountPath\":\"/data\"}]}],\"volumes\":[{\"name\":\"data\",\"persistentVolumeClaim\":{\"claimName\":"
    "\"team-a-shared\"}}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"127.1.0.%d\",\"hostIP\":\"127.0.0.1\","
    "\"startTime\":\"2026-11-22T07:00:01Z\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
    "\"lastTransitionTime\":\"2026-11-22T07:00:02Z\"}]}}}";

/* jansson's own allocations, counted: how many blocks and bytes it asks
 * for per object, against what the heap spends on them. The difference is
 * what a pooled allocator (json_set_alloc_funcs) could win at most. */
static atomic_size_t live_allocs, live_bytes, live_pooled;

static void *counting_malloc(size_t n) {
  size_t *p = malloc(n + sizeof(size_t) * 2);
  if (p == NULL) return NULL;
  p[0] = n;
  atomic_fetch_add(&live_allocs, 1);
  atomic_fetch_add(&live_bytes, n);
  atomic_fetch_add(&live_pooled, (n + 7) & ~(size_t)7);
  return p + 2;
}

static void counting_free(void *v) {
  if (v == NULL) return;
  size_t *p = (size_t *)v - 2;
  atomic_fetch_sub(&live_allocs, 1);
  atomic_fetch_sub(&live_bytes, p[0]);
  atomic_fetch_sub(&live_pooled, (p[0] + 7) & ~(size_t)7);
  free(p);
}

/* Times are this thread's CPU seconds: the machine the figures come from is
 * shared, and wall time there mostly measures the neighbours. */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct run {
  double insert_rate, heap_per_object, get_ns, text_per_object, held_per_object;
} run;

static json_t *decode_event(char *line, int i, size_t *bytes) {
  char name[32];
  snprintf(name, sizeof(name), "train-1-worker-%d", i);
  int len = snprintf(line, 8192, pod_event, name, i, i + 1, i % 64, i % 250);
  *bytes += (size_t)len;
  return json_loadb(line, (size_t)len, 0, NULL);
}

static void fill(int n, const cache_fields *fields, size_t *bytes, run *out) {
  char *line = malloc(8192);
  cache_store *s = cache_store_new();
  cache_store_index_owner(s);
  cache_store_index_namespace(s);
  cache_store_index_label(s, "cubit.dev/project");
  size_t heap0 = bench_heap_bytes();
  *bytes = 0;
  double t0 = cpu_s();
  for (int i = 0; i < n; i++) {
    json_t *ev = decode_event(line, i, bytes);
    json_t *obj = json_object_get(ev, "object");
    cache_transform(fields, obj);
    json_decref(cache_store_upsert(s, obj));
    json_decref(ev);
  }
  double secs = cpu_s() - t0;
  size_t heap1 = bench_heap_bytes();
  /* Readers: lookups by key, each a tree the reader owns. */
  double t1 = cpu_s();
  size_t found = 0;
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof(name), "train-1-worker-%d", i);
    json_t *o = cache_store_get(s, "team-a", name);
    found += o != NULL;
    json_decref(o);
  }
  if (found != (size_t)n) abort();
  out->get_ns = (cpu_s() - t1) * 1e9 / n;
  out->insert_rate = n / secs;
  out->heap_per_object = (double)(heap1 - heap0) / n;
  cache_store_stats st;
  cache_store_get_stats(s, &st);
  out->text_per_object = (double)st.text_bytes / n;
  out->held_per_object = (double)st.held_bytes / n;
  cache_store_free(s);
  free(line);
}

/* The cut pods held as jansson trees (the store before it kept text): heap
 * per tree, jansson's blocks and bytes per tree, and a read as it was then
 * (a reference taken and dropped). */
typedef struct tree_run {
  double heap_per_object, allocs_per_object, requested_per_object, pooled_per_object, get_ns;
} tree_run;

static void fill_trees(int n, const cache_fields *fields, tree_run *out) {
  char *line = malloc(8192);
  json_t **trees = calloc((size_t)n, sizeof(json_t *));
  size_t bytes = 0;
  size_t heap0 = bench_heap_bytes();
  for (int i = 0; i < n; i++) {
    json_t *ev = decode_event(line, i, &bytes);
    trees[i] = json_incref(json_object_get(ev, "object"));
    json_decref(ev);
    cache_transform(fields, trees[i]);
  }
  out->heap_per_object = (double)(bench_heap_bytes() - heap0) / n;
  double t0 = cpu_s();
  for (int i = 0; i < n; i++) json_decref(json_incref(trees[i]));
  out->get_ns = (cpu_s() - t0) * 1e9 / n;
  for (int i = 0; i < n; i++) json_decref(trees[i]);
  /* The same again through the counting allocator. */
  size_t allocs0 = atomic_load(&live_allocs), req0 = atomic_load(&live_bytes), pool0 = atomic_load(&live_pooled);
  json_set_alloc_funcs(counting_malloc, counting_free);
  for (int i = 0; i < n; i++) {
    json_t *ev = decode_event(line, i, &bytes);
    trees[i] = json_incref(json_object_get(ev, "object"));
    json_decref(ev);
    cache_transform(fields, trees[i]);
  }
  out->allocs_per_object = (double)(atomic_load(&live_allocs) - allocs0) / n;
  out->requested_per_object = (double)(atomic_load(&live_bytes) - req0) / n;
  out->pooled_per_object = (double)(atomic_load(&live_pooled) - pool0) / n;
  for (int i = 0; i < n; i++) json_decref(trees[i]);
  json_set_alloc_funcs(malloc, free);
  free(trees);
  free(line);
}

int main(int argc, char **argv) {
  bench_figures *b = bench_start("bench_store", &argc, argv);
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  cache_fields *pod_fields;
  if (cache_fields_new(rt_cached_fields(&kube_pods), &pod_fields)) return 1;
  size_t bytes;
  run whole, cut;
  tree_run tree;
  fill(n, NULL, &bytes, &whole);
  fill(n, pod_fields, &bytes, &cut);
  fill_trees(n, pod_fields, &tree);
  cache_fields_free(pod_fields);
  bench_figure(b, "objects", n, "", 1);
  bench_figure(b, "event_bytes_avg", (double)bytes / n, "B", 0);
  bench_figure(b, "insert_rate", whole.insert_rate, "obj/s", 1);
  bench_figure(b, "heap_per_object", whole.heap_per_object, "B", 0);
  bench_figure(b, "text_per_object", whole.text_per_object, "B", 0);
  bench_figure(b, "held_per_object", whole.held_per_object, "B", 0);
  bench_figure(b, "get_ns", whole.get_ns, "ns", 0);
  bench_figure(b, "pod_cut_insert_rate", cut.insert_rate, "obj/s", 1);
  bench_figure(b, "pod_cut_heap_per_object", cut.heap_per_object, "B", 0);
  bench_figure(b, "pod_cut_text_per_object", cut.text_per_object, "B", 0);
  bench_figure(b, "pod_cut_held_per_object", cut.held_per_object, "B", 0);
  bench_figure(b, "pod_cut_get_ns", cut.get_ns, "ns", 0);
  bench_figure(b, "tree_heap_per_object", tree.heap_per_object, "B", 0);
  bench_figure(b, "tree_get_ns", tree.get_ns, "ns", 0);
  bench_figure(b, "pod_cut_jansson_allocs", tree.allocs_per_object, "", 0);
  bench_figure(b, "pod_cut_jansson_bytes", tree.requested_per_object, "B", 0);
  bench_figure(b, "pool_bound_per_object", tree.pooled_per_object, "B", 0);
  return bench_finish(b);
}
