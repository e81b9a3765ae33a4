/* What the manager's caches keep (pkg/runtime/fields.c through
 * pkg/cache/transform.c): the table below is every JSON path a Cubit
 * controller, webhook or the runtime itself reads of a cut-down resource,
 * with its reader. Each must survive the transform of a real object (the
 * fixtures are the API server's own answers, with the rarer states added),
 * and what nobody reads must be gone. A reader that starts reading a new
 * field of pods or CRDs adds it here and to fields.c. */
#include <stdlib.h>
#include <string.h>

#include "cache/transform.h"
#include "runtime/fields.h"
#include "testutil.h"
#include "util/json.h"

/* As controllers/notebook declares it (the test does not link controllers). */
static const kube_resource notebook_vs = {"networking.istio.io", "v1", "virtualservices", "VirtualService", 1};

typedef struct read_path {
  const char *reader;
  const kube_resource *resource;
  const char *path; /* "[]" = every element */
} read_path;

static const read_path reads[] = {
    /* the runtime: store key, change test, indexes, owner mapping */
    {"runtime (store, indexes)", &kube_pods, "metadata.name"},
    {"runtime (store, indexes)", &kube_pods, "metadata.namespace"},
    {"runtime (store, indexes)", &kube_pods, "metadata.resourceVersion"},
    {"runtime (store, indexes)", &kube_pods, "metadata.ownerReferences"},
    {"runtime (store, indexes)", &kube_pods, "metadata.labels"},
    /* controllers/notebook: map_pod, phase.c */
    {"notebook", &kube_pods, "metadata.creationTimestamp"},
    {"notebook", &kube_pods, "metadata.deletionTimestamp"},
    {"notebook", &kube_pods, "spec.nodeName"},
    {"notebook", &kube_pods, "status.phase"},
    {"notebook", &kube_pods, "status.reason"},
    {"notebook", &kube_pods, "status.message"},
    {"notebook", &kube_pods, "status.podIP"},
    {"notebook", &kube_pods, "status.conditions[].type"},
    {"notebook", &kube_pods, "status.conditions[].status"},
    {"notebook", &kube_pods, "status.conditions[].lastTransitionTime"},
    {"notebook", &kube_pods, "status.containerStatuses[].state"},
    {"notebook", &kube_pods, "status.initContainerStatuses[].state.waiting.reason"},
    {"notebook", &kube_pods, "status.initContainerStatuses[].state.waiting.message"},
    /* controllers/trainingjob: map_pod, status.c */
    {"trainingjob", &kube_pods, "metadata.labels"},
    {"trainingjob", &kube_pods, "metadata.deletionTimestamp"},
    {"trainingjob", &kube_pods, "spec.nodeName"},
    {"trainingjob", &kube_pods, "status.phase"},
    {"trainingjob", &kube_pods, "status.conditions"},
    {"trainingjob", &kube_pods, "status.containerStatuses[].name"},
    {"trainingjob", &kube_pods, "status.containerStatuses[].state"},
    {"trainingjob", &kube_pods, "status.containerStatuses[].lastState.terminated.exitCode"},
    {"trainingjob", &kube_pods, "status.containerStatuses[].lastState.terminated.reason"},
    {"trainingjob", &kube_pods, "status.initContainerStatuses[].state"},
    /* controllers/inferenceservice: map_pod, verdict.c */
    {"inferenceservice", &kube_pods, "metadata.labels"},
    {"inferenceservice", &kube_pods, "metadata.deletionTimestamp"},
    {"inferenceservice", &kube_pods, "spec.nodeName"},
    {"inferenceservice", &kube_pods, "status.phase"},
    {"inferenceservice", &kube_pods, "status.conditions[].reason"},
    {"inferenceservice", &kube_pods, "status.conditions[].message"},
    {"inferenceservice", &kube_pods, "status.containerStatuses[].name"},
    {"inferenceservice", &kube_pods, "status.initContainerStatuses[].state.waiting.message"},
    /* controllers/pipeline (pipelinerun): map_pod, run_plan.c */
    {"pipelinerun", &kube_pods, "metadata.labels"},
    {"pipelinerun", &kube_pods, "metadata.annotations"},
    {"pipelinerun", &kube_pods, "status.phase"},
    {"pipelinerun", &kube_pods, "status.reason"},
    {"pipelinerun", &kube_pods, "status.message"},
    {"pipelinerun", &kube_pods, "status.containerStatuses[].lastState.terminated.message"},
    /* controllers/project (plan.c) and the quota webhook, through api/usage */
    {"project, quota webhook (usage)", &kube_pods, "metadata.annotations"},
    {"project, quota webhook (usage)", &kube_pods, "metadata.deletionTimestamp"},
    {"project, quota webhook (usage)", &kube_pods, "status.phase"},
    {"project, quota webhook (usage)", &kube_pods, "spec.containers[].resources"},
    {"project, quota webhook (usage)", &kube_pods, "spec.initContainers[].resources"},
    {"project, quota webhook (usage)", &kube_pods, "spec.initContainers[].restartPolicy"},
    {"project, quota webhook (usage)", &kube_pods, "spec.resources"},
    {"project, quota webhook (usage)", &kube_pods, "spec.overhead"},
    {"project, quota webhook (usage)", &kube_pods, "spec.nodeSelector"},
    /* the quota webhook: who a Spark driver's executors are created as */
    {"quota webhook (spark driver)", &kube_pods, "spec.serviceAccountName"},
    {"project, quota webhook (usage)", &kube_pods, "spec.restartPolicy"},
    /* history/record.c */
    {"history recorder", &kube_pods, "metadata.creationTimestamp"},
    {"history recorder", &kube_pods, "spec.nodeName"},
    {"history recorder", &kube_pods, "spec.nodeSelector"},
    {"history recorder", &kube_pods, "status.conditions"},
    {"history recorder", &kube_pods, "status.containerStatuses[].state.running.startedAt"},
    {"history recorder", &kube_pods, "status.containerStatuses[].lastState.terminated.startedAt"},
    {"history recorder", &kube_pods, "status.containerStatuses[].lastState.terminated.finishedAt"},
    /* pkg/runtime/manager.c: an API appearing or going */
    {"manager (discovery trigger)", &kube_crds, "metadata.name"},
    {"manager (discovery trigger)", &kube_crds, "spec.group"},
    {"manager (discovery trigger)", &kube_crds, "spec.names.plural"},
    {"manager (discovery trigger)", &kube_crds, "spec.versions[].name"},
    {"manager (discovery trigger)", &kube_crds, "spec.versions[].served"},
    {"manager (discovery trigger)", &kube_crds, "status.conditions[].type"},
    {"manager (discovery trigger)", &kube_crds, "status.conditions[].status"},
    /* runtime/status.c rt_create_refusal, rt_map_involved_object (TrainingJob, Notebook) */
    {"runtime (store, indexes)", &kube_events, "metadata.name"},
    {"runtime (store, indexes)", &kube_events, "metadata.namespace"},
    {"runtime (store, indexes)", &kube_events, "metadata.resourceVersion"},
    {"create refusal", &kube_events, "involvedObject.uid"},
    {"create refusal", &kube_events, "involvedObject.name"},
    {"create refusal", &kube_events, "reason"},
    {"create refusal", &kube_events, "message"},
    {"create refusal", &kube_events, "lastTimestamp"},
    {"member warnings", &kube_events, "type"},
    {"member warnings", &kube_events, "involvedObject.kind"},
    {"member warnings", &kube_events, "involvedObject.apiVersion"},
    {"member warnings", &kube_events, "involvedObject.namespace"},
    /* children Cubit applies: the runtime (owner index and mapping, the
     * applied digest rt_apply compares) and their controllers */
    {"runtime (owner index, rt_apply)", &kube_statefulsets, "metadata.ownerReferences"},
    {"runtime (owner index, rt_apply)", &kube_statefulsets, "metadata.annotations"},
    {"runtime (owner index, rt_apply)", &kube_statefulsets, "metadata.labels"},
    {"runtime (rt_execute deletes)", &kube_statefulsets, "metadata.uid"},
    {"notebook (rollout)", &kube_statefulsets, "status.updateRevision"},
    {"notebook (rollout)", &kube_statefulsets, "status.currentRevision"},
    {"notebook (create refusal)", &kube_statefulsets, "metadata.uid"},
    {"notebook (rt_apply_would_write)", &kube_statefulsets, "spec.replicas"},
    {"notebook (rt_apply_would_write)", &kube_statefulsets, "spec.template.spec.containers[].resources"},
    {"runtime (owner index, rt_apply)", &kube_services, "metadata.ownerReferences"},
    {"runtime (owner index, rt_apply)", &kube_services, "metadata.annotations"},
    {"inferenceservice (pinned revision)", &kube_services, "spec.selector"},
    {"notebook (rt_apply_would_write)", &kube_services, "spec.ports"},
    {"project (claims by label)", &kube_pvcs, "metadata.labels"},
    {"runtime (owner index)", &kube_pvcs, "metadata.ownerReferences"},
    {"runtime (status)", &kube_pvcs, "status.phase"},
    {"inferenceservice (traffic split)", &notebook_vs, "spec.http"},
    {"notebook (rt_apply_would_write)", &notebook_vs, "spec.hosts"},
};

/* What must be gone after the transform. */
static const read_path dropped[] = {
    {"", &kube_pods, "metadata.managedFields"},
    {"", &kube_pods, "metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration"},
    {"", &kube_pods, "spec.containers[].image"},
    {"", &kube_pods, "spec.containers[].env"},
    {"", &kube_pods, "spec.containers[].livenessProbe"},
    {"", &kube_pods, "spec.containers[].volumeMounts"},
    {"", &kube_pods, "spec.initContainers[].image"},
    {"", &kube_pods, "spec.initContainers[].env"},
    {"", &kube_pods, "spec.volumes"},
    {"", &kube_pods, "spec.tolerations"},
    {"", &kube_pods, "spec.securityContext"},
    {"", &kube_pods, "status.podIPs"},
    {"", &kube_pods, "status.qosClass"},
    {"", &kube_pods, "status.containerStatuses[].image"},
    {"", &kube_pods, "status.containerStatuses[].imageID"},
    {"", &kube_pods, "status.initContainerStatuses[].imageID"},
    {"", &kube_crds, "metadata.managedFields"},
    {"", &kube_crds, "spec.versions[].schema"},
    {"", &kube_crds, "spec.versions[].additionalPrinterColumns"},
    {"", &kube_crds, "spec.versions[].subresources"},
    {"", &kube_events, "metadata.managedFields"},
    {"", &kube_events, "source"},
    {"", &kube_events, "reportingComponent"},
    {"", &kube_events, "involvedObject.resourceVersion"},
    /* what the API server defaults in a child and no one reads */
    {"", &kube_statefulsets, "metadata.managedFields"},
    {"", &kube_statefulsets, "spec.podManagementPolicy"},
    {"", &kube_statefulsets, "spec.updateStrategy"},
    {"", &kube_statefulsets, "spec.revisionHistoryLimit"},
    {"", &kube_statefulsets, "spec.template.spec.dnsPolicy"},
    {"", &kube_statefulsets, "spec.template.spec.schedulerName"},
    {"", &kube_statefulsets, "spec.template.spec.containers[].terminationMessagePath"},
    {"", &kube_statefulsets, "spec.template.spec.containers[].imagePullPolicy"},
    {"", &kube_statefulsets, "spec.template.spec.containers[].readinessProbe.timeoutSeconds"},
    {"", &kube_services, "spec.clusterIP"},
    {"", &kube_services, "spec.clusterIPs"},
    {"", &kube_services, "spec.ipFamilies"},
    {"", &kube_services, "spec.sessionAffinity"},
    {"", &kube_pvcs, "spec.volumeName"}, /* bound by kube-controller-manager */
    {"", &kube_pvcs, "spec.volumeMode"},
};

static const char *fixture_of(const kube_resource *r) {
  return r == &kube_pods           ? "test/unit/fixtures/cache/pod.json"
         : r == &kube_events       ? "test/unit/fixtures/cache/event.json"
         : r == &kube_statefulsets ? "test/unit/fixtures/cache/statefulset.json"
         : r == &kube_services     ? "test/unit/fixtures/cache/service.json"
         : r == &kube_pvcs         ? "test/unit/fixtures/cache/pvc.json"
         : r == &notebook_vs       ? "test/unit/fixtures/cache/virtualservice.json"
                                   : "test/unit/fixtures/cache/crd.json";
}

static json_t *load(const kube_resource *r) {
  size_t len;
  char *text = testutil_read_src(fixture_of(r), &len);
  json_error_t e;
  json_t *o = json_loadb(text, len, 0, &e);
  ck_assert_msg(o != NULL, "%s: %s", fixture_of(r), e.text);
  free(text);
  return o;
}

static json_t *cut(const kube_resource *r, json_t *orig) {
  cache_fields *f;
  ck_assert_int_eq(cache_fields_new(rt_cached_fields(r), &f), 0);
  cache_fields_keep_applied(f, rt_cached_applier(r));
  json_t *copy = json_deep_copy(orig);
  cache_transform(f, copy);
  cache_fields_free(f);
  return copy;
}

/* The next step of path into step (a key; "\." escapes a dot). */
static const char *next_step(const char *path, char *step, size_t cap) {
  size_t n = 0;
  if (strncmp(path, "[]", 2) == 0) {
    snprintf(step, cap, "[]");
    path += 2;
  } else {
    while (*path && *path != '.' && *path != '[') {
      if (path[0] == '\\' && path[1] == '.') path++;
      if (n + 1 < cap) step[n++] = *path;
      path++;
    }
    step[n] = '\0';
  }
  return *path == '.' ? path + 1 : path;
}

/* Walks path in orig and cut together: *found counts the places it exists in
 * orig; returns 0 as soon as one of them differs (or is missing) in cut. */
static int same_at(const json_t *orig, const json_t *cut_v, const char *path, int *found) {
  if (*path == '\0') {
    (*found)++;
    return json_equal((json_t *)orig, (json_t *)cut_v);
  }
  char step[256];
  const char *rest = next_step(path, step, sizeof(step));
  if (strcmp(step, "[]") == 0) {
    if (!json_is_array(orig)) return 1;
    if (json_array_size(orig) != json_array_size(cut_v)) return 0;
    for (size_t i = 0; i < json_array_size(orig); i++)
      if (!same_at(json_array_get(orig, i), json_array_get(cut_v, i), rest, found)) return 0;
    return 1;
  }
  json_t *o = json_object_get(orig, step);
  if (o == NULL) return 1;
  return same_at(o, json_object_get(cut_v, step), rest, found);
}

/* 1 when path leads to a value anywhere in v. */
static int exists(const json_t *v, const char *path) {
  if (*path == '\0') return v != NULL;
  char step[256];
  const char *rest = next_step(path, step, sizeof(step));
  if (strcmp(step, "[]") == 0) {
    for (size_t i = 0; i < json_array_size(v); i++)
      if (exists(json_array_get(v, i), rest)) return 1;
    return 0;
  }
  return exists(json_object_get(v, step), rest);
}

START_TEST(every_read_path_survives) {
  const read_path *r = &reads[_i];
  json_t *orig = load(r->resource);
  json_t *c = cut(r->resource, orig);
  /* Dropped by design whatever is declared: not something a reader reads. */
  json_object_del(js_get(orig, "metadata.annotations"), "kubectl.kubernetes.io/last-applied-configuration");
  int found = 0;
  ck_assert_msg(same_at(orig, c, r->path, &found), "%s reads %s.%s, which the cache drops", r->reader,
                r->resource->resource, r->path);
  ck_assert_msg(found > 0, "fixture %s lacks %s: add it so the test means something", fixture_of(r->resource),
                r->path);
  json_decref(c);
  json_decref(orig);
}
END_TEST

START_TEST(unread_fields_are_dropped) {
  const read_path *r = &dropped[_i];
  json_t *orig = load(r->resource);
  ck_assert_msg(exists(orig, r->path), "fixture %s lacks %s", fixture_of(r->resource), r->path);
  json_t *c = cut(r->resource, orig);
  ck_assert_msg(!exists(c, r->path), "%s.%s is still cached", r->resource->resource, r->path);
  json_decref(c);
  json_decref(orig);
}
END_TEST

/* The cut-down objects are much smaller: what the cache gains. */
START_TEST(cut_objects_are_smaller) {
  /* A StatefulSet keeps its applied spec: half of it (the rest is defaults,
   * managedFields and what the controller manager writes). */
  const kube_resource *rs[] = {&kube_pods, &kube_crds, &kube_statefulsets};
  const size_t factor[] = {3, 3, 2};
  for (int i = 0; i < 3; i++) {
    json_t *orig = load(rs[i]);
    json_t *c = cut(rs[i], orig);
    char *a = json_dumps(orig, JSON_COMPACT), *b = json_dumps(c, JSON_COMPACT);
    ck_assert_msg(strlen(b) * factor[i] < strlen(a), "%s: %zu of %zu bytes kept", rs[i]->resource, strlen(b), strlen(a));
    free(a);
    free(b);
    json_decref(c);
    json_decref(orig);
  }
}
END_TEST

/* Events are watched only when they are refusals to create a pod. */
START_TEST(events_are_selected) {
  ck_assert_str_eq(rt_cached_selector(&kube_events), "reason=FailedCreate,involvedObject.apiVersion!=cubit.dev/v1alpha1");
  ck_assert_ptr_null(rt_cached_selector(&kube_pods));
  ck_assert_ptr_null(rt_cached_selector(&kube_statefulsets));
}
END_TEST

/* CRDs (hundreds of KiB of schema each, decoded whole before the cut) are
 * listed a few a page; everything else in the informer's default pages. */
START_TEST(crds_listed_in_small_pages) {
  ck_assert_int_gt(rt_cached_page_size(&kube_crds), 0);
  ck_assert_int_le(rt_cached_page_size(&kube_crds), 10);
  ck_assert_int_eq(rt_cached_page_size(&kube_pods), 0);
  ck_assert_int_eq(rt_cached_page_size(&kube_statefulsets), 0);
}
END_TEST

START_TEST(other_resources_kept_whole) {
  const kube_resource *whole[] = {&kube_deployments, &kube_jobs, &kube_namespaces, &kube_rolebindings};
  for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
    ck_assert_ptr_null(rt_cached_fields(whole[i]));
    ck_assert_ptr_null(rt_cached_applier(whole[i]));
  }
  json_t *o = testutil_json("{'metadata': {'name': 'a', 'managedFields': [{}], 'annotations': {'x': '1', "
                            "'kubectl.kubernetes.io/last-applied-configuration': '{}'}}, 'spec': {'a': [1, {'b': 2}]}}");
  cache_transform(NULL, o);
  json_t *want = testutil_json("{'metadata': {'name': 'a', 'annotations': {'x': '1'}}, 'spec': {'a': [1, {'b': 2}]}}");
  ck_assert(json_equal(o, want));
  json_decref(o);
  json_decref(want);
}
END_TEST

/* Walks a fieldsV1 set (the managedFields format) over orig and its cut
 * together, as the API server means it and independently of the transform:
 * each value the set owns must be in the cut unchanged. Counts them. */
static void owned_survive(const json_t *orig, const json_t *c, const json_t *fv, const char *where, int *n) {
  if (json_object_size(fv) == 0 || (json_object_size(fv) == 1 && json_object_get(fv, "."))) {
    ck_assert_msg(json_equal((json_t *)orig, (json_t *)c), "%s: applied value not cached as it is", where);
    (*n)++;
    return;
  }
  const char *k;
  json_t *sub;
  json_object_foreach((json_t *)fv, k, sub) {
    char here[512];
    snprintf(here, sizeof(here), "%s/%s", where, k);
    if (strncmp(k, "f:", 2) == 0) {
      json_t *o = json_object_get(orig, k + 2);
      ck_assert_msg(o != NULL, "%s: fixture lacks it", here);
      owned_survive(o, json_object_get(c, k + 2), sub, here, n);
    } else if (strncmp(k, "k:", 2) == 0) {
      json_t *key = json_loads(k + 2, 0, NULL);
      ck_assert_ptr_nonnull(key);
      ck_assert_uint_eq(json_array_size(orig), json_array_size(c));
      size_t i, hits = 0;
      json_t *e;
      json_array_foreach(orig, i, e) {
        const char *kk;
        json_t *kv;
        int match = 1;
        json_object_foreach(key, kk, kv) match = match && json_equal(kv, json_object_get(e, kk));
        if (match) {
          owned_survive(e, json_array_get(c, i), sub, here, n);
          hits++;
        }
      }
      ck_assert_msg(hits == 1, "%s: %zu elements", here, hits);
      json_decref(key);
    }
  }
}

/* What rt_apply_would_write compares of a child (every field Cubit applied,
 * per its managedFields) is in the cache exactly as the API server holds
 * it: an unchanged child is still not applied again. */
START_TEST(applied_fields_survive) {
  const kube_resource *rs[] = {&kube_statefulsets, &kube_services, &kube_pvcs, &notebook_vs};
  const kube_resource *r = rs[_i];
  ck_assert_str_eq(rt_cached_applier(r), "cubit-manager");
  json_t *orig = load(r);
  json_t *c = cut(r, orig);
  const json_t *fv = NULL;
  size_t i;
  json_t *mf;
  json_array_foreach(js_get(orig, "metadata.managedFields"), i, mf) {
    if (strcmp(js_str(mf, "manager"), "cubit-manager") == 0 && strcmp(js_str(mf, "operation"), "Apply") == 0)
      fv = json_object_get(mf, "fieldsV1");
  }
  ck_assert_ptr_nonnull(fv);
  int n = 0;
  owned_survive(orig, c, fv, r->resource, &n);
  ck_assert_int_gt(n, 5);
  json_decref(c);
  json_decref(orig);
}
END_TEST

/* A child Cubit never applied (the StatefulSet's claim) keeps what its
 * readers read; one applied by another manager keeps nothing more. */
static const struct {
  const char *in, *out;
} applied_projections[] = {
    {"{'metadata': {'name': 'a', 'managedFields': [{'manager': 'cubit-manager', 'operation': 'Apply', 'fieldsV1': "
     "{'f:spec': {'f:a': {}, 'f:c': {'k:{\\'n\\':1}': {'.': {}, 'f:n': {}, 'f:x': {}}}}}}]}, "
     "'spec': {'a': {'deep': 1}, 'b': 2, 'c': [{'n': 1, 'x': 2, 'd': 3}, {'n': 9, 'd': 4}]}, 'status': {'s': 1}}",
     "{'metadata': {'name': 'a'}, 'spec': {'a': {'deep': 1}, 'c': [{'n': 1, 'x': 2}, {'n': 9, 'd': 4}]}, "
     "'status': {'s': 1}}"},
    {"{'metadata': {'name': 'a', 'managedFields': [{'manager': 'cubit-manager', 'operation': 'Update', 'fieldsV1': "
     "{'f:spec': {'f:a': {}}}}, {'manager': 'cubit-manager', 'operation': 'Apply', 'subresource': 'status', "
     "'fieldsV1': {'f:spec': {'f:b': {}}}}]}, 'spec': {'a': 1, 'b': 2}}",
     "{'metadata': {'name': 'a'}}"},
    {"{'metadata': {'name': 'a'}, 'spec': {'a': 1}, 'status': {'s': 1}}", "{'metadata': {'name': 'a'}, 'status': {'s': 1}}"},
    {"{'metadata': {'name': 'a', 'managedFields': [{'manager': 'cubit-manager', 'operation': 'Apply', 'fieldsV1': "
     "{'f:spec': {'f:v': {'v:\\'x\\'': {}}, 'f:i': {'i:1': {'f:q': {}}}}}}]}, "
     "'spec': {'v': ['y', 'x'], 'i': [{'q': 1, 'r': 2}, {'q': 3, 'r': 4}]}}",
     "{'metadata': {'name': 'a'}, 'spec': {'v': ['y', 'x'], 'i': [{'q': 1, 'r': 2}, {'q': 3}]}}"},
};

START_TEST(applied_projection) {
  const char *const paths[] = {"metadata", "status", NULL};
  cache_fields *f;
  ck_assert_int_eq(cache_fields_new(paths, &f), 0);
  cache_fields_keep_applied(f, "cubit-manager");
  json_t *in = testutil_json(applied_projections[_i].in), *want = testutil_json(applied_projections[_i].out);
  cache_transform(f, in);
  char *got = json_dumps(in, JSON_SORT_KEYS | JSON_COMPACT);
  ck_assert_msg(json_equal(in, want), "case %d: got %s", _i, got);
  free(got);
  json_decref(in);
  json_decref(want);
  cache_fields_free(f);
}
END_TEST

/* The path grammar and the projection on small objects. */
static const struct {
  const char *paths[4];
  const char *in, *out;
} projections[] = {
    {{"spec.a", NULL}, "{'kind': 'K', 'spec': {'a': 1, 'b': 2}, 'status': {}}", "{'kind': 'K', 'spec': {'a': 1}}"},
    {{"spec.c[].n", NULL}, "{'spec': {'c': [{'n': 1, 'x': 2}, {'x': 3}], 'd': 4}}", "{'spec': {'c': [{'n': 1}, {}]}}"},
    {{"spec.c", "spec.c[].n", NULL}, "{'spec': {'c': [{'n': 1, 'x': 2}]}}", "{'spec': {'c': [{'n': 1, 'x': 2}]}}"},
    {{"spec.c[].n", "spec", NULL}, "{'spec': {'c': [{'n': 1, 'x': 2}]}}", "{'spec': {'c': [{'n': 1, 'x': 2}]}}"},
    {{"spec.c.n", NULL}, "{'spec': {'c': [{'n': 1}], 'e': 'x'}}", "{'spec': {'c': []}}"},
    {{"spec.a.b", NULL}, "{'spec': {'a': 'scalar'}}", "{'spec': {'a': 'scalar'}}"},
    {{"status", NULL}, "{'metadata': {'name': 'n', 'uid': 'u', 'labels': {'a': 'b'}}, 'status': {'x': [1]}}",
     "{'metadata': {'name': 'n', 'uid': 'u'}, 'status': {'x': [1]}}"},
};

START_TEST(projection) {
  cache_fields *f;
  ck_assert_int_eq(cache_fields_new(projections[_i].paths, &f), 0);
  ck_assert(!cache_fields_whole(f));
  json_t *in = testutil_json(projections[_i].in), *want = testutil_json(projections[_i].out);
  cache_transform(f, in);
  char *got = json_dumps(in, JSON_SORT_KEYS | JSON_COMPACT);
  ck_assert_msg(json_equal(in, want), "case %d: got %s", _i, got);
  free(got);
  json_decref(in);
  json_decref(want);
  cache_fields_free(f);
}
END_TEST

START_TEST(bad_paths) {
  const char *const bad[][2] = {{"", NULL}, {"spec..a", NULL}, {".spec", NULL}, {"spec.", NULL}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cache_fields *f = NULL;
    ck_assert_int_eq(cache_fields_new(bad[i], &f), CUBIT_EINVAL);
    ck_assert_ptr_null(f);
  }
  cache_fields *f;
  ck_assert_int_eq(cache_fields_new(NULL, &f), 0);
  ck_assert(cache_fields_whole(f));
  const char *const more[] = {"spec.a", NULL};
  ck_assert_int_eq(cache_fields_add(f, more), 0);
  ck_assert(cache_fields_whole(f)); /* a whole-object set stays whole */
  cache_fields_free(f);
}
END_TEST

int main(void) {
  Suite *s = suite_create("fields");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, every_read_path_survives, 0, sizeof(reads) / sizeof(reads[0]));
  tcase_add_loop_test(tc, unread_fields_are_dropped, 0, sizeof(dropped) / sizeof(dropped[0]));
  tcase_add_test(tc, events_are_selected);
  tcase_add_test(tc, crds_listed_in_small_pages);
  tcase_add_test(tc, cut_objects_are_smaller);
  tcase_add_test(tc, other_resources_kept_whole);
  tcase_add_loop_test(tc, applied_fields_survive, 0, 4);
  tcase_add_loop_test(tc, applied_projection, 0, sizeof(applied_projections) / sizeof(applied_projections[0]));
  tcase_add_loop_test(tc, projection, 0, sizeof(projections) / sizeof(projections[0]));
  tcase_add_test(tc, bad_paths);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
