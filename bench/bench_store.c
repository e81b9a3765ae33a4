/* The cache without a cluster: how fast typical objects go into the store
 * (watch-event decode + the informer's transform + index), and what one
 * cached object costs in memory: whole (managedFields dropped) and cut down
 * to the fields Cubit reads of pods (runtime/fields.h).
 *
 *   bench_store [N] [--json out.json] [--baseline old.json]   (N default 20000) */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "cache/store.h"
#include "cache/transform.h"
#include "runtime/fields.h"
#include "util/time.h"

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
static atomic_size_t live_allocs, live_bytes;

static void *counting_malloc(size_t n) {
  size_t *p = malloc(n + sizeof(size_t) * 2);
  if (p == NULL) return NULL;
  p[0] = n;
  atomic_fetch_add(&live_allocs, 1);
  atomic_fetch_add(&live_bytes, n);
  return p + 2;
}

static void counting_free(void *v) {
  if (v == NULL) return;
  size_t *p = (size_t *)v - 2;
  atomic_fetch_sub(&live_allocs, 1);
  atomic_fetch_sub(&live_bytes, p[0]);
  free(p);
}

typedef struct run {
  double insert_rate, heap_per_object, get_rate, allocs_per_object, requested_per_object;
} run;

static void fill(int n, const cache_fields *fields, size_t *bytes, run *out) {
  char *line = malloc(8192);
  cache_store *s = cache_store_new();
  cache_store_index_owner(s);
  cache_store_index_namespace(s);
  cache_store_index_label(s, "cubit.dev/project");
  size_t heap0 = bench_heap_bytes(), allocs0 = atomic_load(&live_allocs), req0 = atomic_load(&live_bytes);
  *bytes = 0;
  double t0 = time_mono_s();
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof(name), "train-1-worker-%d", i);
    int len = snprintf(line, 8192, pod_event, name, i, i + 1, i % 64, i % 250);
    *bytes += (size_t)len;
    json_t *ev = json_loadb(line, (size_t)len, 0, NULL);
    json_t *obj = json_object_get(ev, "object");
    cache_transform(fields, obj);
    json_decref(cache_store_upsert(s, obj));
    json_decref(ev);
  }
  double secs = time_mono_s() - t0;
  size_t heap1 = bench_heap_bytes();
  out->allocs_per_object = (double)(atomic_load(&live_allocs) - allocs0) / n;
  out->requested_per_object = (double)(atomic_load(&live_bytes) - req0) / n;
  /* Readers: lookups by key. */
  double t1 = time_mono_s();
  size_t found = 0;
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof(name), "train-1-worker-%d", i);
    json_t *o = cache_store_get(s, "team-a", name);
    found += o != NULL;
    json_decref(o);
  }
  out->get_rate = found / (time_mono_s() - t1);
  out->insert_rate = n / secs;
  out->heap_per_object = (double)(heap1 - heap0) / n;
  cache_store_free(s);
  free(line);
}

int main(int argc, char **argv) {
  bench_figures *b = bench_start("bench_store", &argc, argv);
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  cache_fields *pod_fields;
  if (cache_fields_new(rt_cached_fields(&kube_pods), &pod_fields)) return 1;
  size_t bytes;
  run whole, cut, counted;
  fill(n, NULL, &bytes, &whole);
  fill(n, pod_fields, &bytes, &cut);
  json_set_alloc_funcs(counting_malloc, counting_free);
  fill(n, pod_fields, &bytes, &counted);
  cache_fields_free(pod_fields);
  bench_figure(b, "objects", n, "", 1);
  bench_figure(b, "event_bytes_avg", (double)bytes / n, "B", 0);
  bench_figure(b, "insert_rate", whole.insert_rate, "obj/s", 1);
  bench_figure(b, "heap_per_object", whole.heap_per_object, "B", 0);
  bench_figure(b, "get_rate", whole.get_rate, "get/s", 1);
  bench_figure(b, "pod_cut_insert_rate", cut.insert_rate, "obj/s", 1);
  bench_figure(b, "pod_cut_heap_per_object", cut.heap_per_object, "B", 0);
  bench_figure(b, "pod_cut_jansson_allocs", counted.allocs_per_object, "", 0);
  bench_figure(b, "pod_cut_jansson_bytes", counted.requested_per_object, "B", 0);
  return bench_finish(b);
}
