/* InferenceService: the desired children per runtime against golden JSON,
 * revision hashing, spec errors naming their field, the route plan
 * (canary, promotion without a gap), HPA metrics, mirroring, and the cron
 * HPA's windows across midnight and time zones (overlaps too); the
 * validating webhook over an AdmissionReview.
 *
 * CUBIT_UPDATE_GOLDEN=1 rewrites the golden files from the code (review the
 * diff before committing it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"
#include "testutil.h"
#include "util/json.h"
#include "webhooks/validate/inferenceservice.h"

static const inference_settings cfg = {"kserve/storage-initializer:v0.14.1", "cluster.local"};

static json_t *load_fixture(const char *name) {
  char rel[256];
  snprintf(rel, sizeof(rel), "test/unit/fixtures/inferenceservice/%s", name);
  char *path = testutil_src_path(rel);
  json_error_t e;
  json_t *j = json_load_file(path, 0, &e);
  ck_assert_msg(j != NULL, "%s: %s", path, e.text);
  free(path);
  return j;
}

static json_t *isvc_of(const char *spec_json) {
  char *text = NULL;
  if (asprintf(&text,
               "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"InferenceService\",\"metadata\":{\"name\":\"m\","
               "\"namespace\":\"ns\",\"uid\":\"u1\"},\"spec\":%s}",
               spec_json) < 0)
    abort();
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  ck_assert_msg(j != NULL, "%s: %s", text, e.text);
  free(text);
  return j;
}

static void parse_ok(const json_t *isvc, inference_spec *s) {
  char err[512] = "";
  ck_assert_msg(inference_spec_parse(isvc, s, err, sizeof(err)) == 0, "parse: %s", err);
}

/* ------------------------------------------------------------- golden */

/* Every child of one InferenceService whose revisions are all rolled out. */
static json_t *children_of(const json_t *isvc) {
  inference_spec s;
  parse_ok(isvc, &s);
  json_t *out = json_object();
  json_t *tmpl = inference_pod_template(isvc, &s.stable, &cfg);
  char rev[INFERENCE_REVISION_LEN], crev[INFERENCE_REVISION_LEN] = "";
  inference_revision_name(isvc, tmpl, rev);
  json_object_set_new(out, "deployment", inference_desired_deployment(isvc, rev, tmpl, s.stable.min_replicas));
  json_object_set_new(out, "service", inference_desired_service(isvc, &s, js_name(isvc), NULL));
  json_object_set_new(out, "revisionService", inference_desired_service(isvc, &s, rev, rev));
  json_object_set_new(out, "hpa", inference_desired_hpa(isvc, &s, rev, s.stable.min_replicas));
  inference_route_input in = {0};
  snprintf(in.stable.name, sizeof(in.stable.name), "%s", rev);
  in.stable.exists = in.stable.available = in.stable.rolled_out = 1;
  if (s.has_canary) {
    json_t *ct = inference_pod_template(isvc, &s.canary, &cfg);
    inference_revision_name(isvc, ct, crev);
    json_object_set_new(out, "canaryDeployment", inference_desired_deployment(isvc, crev, ct, s.canary.min_replicas));
    json_decref(ct);
    in.has_canary = 1;
    snprintf(in.canary.name, sizeof(in.canary.name), "%s", crev);
    in.canary.exists = in.canary.available = in.canary.rolled_out = 1;
    in.canary_percent = s.canary_percent;
  }
  inference_route_plan plan;
  inference_plan_routes(&in, &plan);
  json_object_set_new(out, "destinationRule", inference_desired_destination_rule(isvc, &cfg, plan.keep, plan.nkeep));
  json_object_set_new(out, "virtualService", inference_desired_virtual_service(isvc, &s, &cfg, plan.routes, plan.nroutes,
                                                                               crev[0] ? crev : NULL));
  json_decref(tmpl);
  inference_spec_free(&s);
  return out;
}

static const char *golden_cases[] = {"tfserving", "torchserve", "triton", "onnxruntime", "vllm", "custom", "canary"};

START_TEST(golden_children) {
  const char *name = golden_cases[_i];
  char in[64], out[64];
  snprintf(in, sizeof(in), "%s.in.json", name);
  snprintf(out, sizeof(out), "%s.out.json", name);
  json_t *isvc = load_fixture(in);
  json_t *got = children_of(isvc);
  if (getenv("CUBIT_UPDATE_GOLDEN")) {
    char rel[256];
    snprintf(rel, sizeof(rel), "test/unit/fixtures/inferenceservice/%s", out);
    char *path = testutil_src_path(rel);
    ck_assert_int_eq(json_dump_file(got, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
    free(path);
  }
  json_t *want = load_fixture(out);
  if (!json_equal(got, want)) {
    char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
    ck_abort_msg("%s: children differ from %s; got:\n%s", name, out, g);
  }
  json_decref(want);
  json_decref(got);
  json_decref(isvc);
}
END_TEST

/* ----------------------------------------------------------- revisions */

static void revision_of(const char *spec_json, char out[INFERENCE_REVISION_LEN]) {
  json_t *isvc = isvc_of(spec_json);
  inference_spec s;
  parse_ok(isvc, &s);
  json_t *t = inference_pod_template(isvc, &s.stable, &cfg);
  inference_revision_name(isvc, t, out);
  json_decref(t);
  inference_spec_free(&s);
  json_decref(isvc);
}

START_TEST(revision_hashing) {
  char base[INFERENCE_REVISION_LEN], other[INFERENCE_REVISION_LEN];
  revision_of("{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":\"1\"}}", base);
  ck_assert_int_eq(strlen(base), strlen("m-") + 10);
  ck_assert(strncmp(base, "m-", 2) == 0);
  /* The same template, however the spec is written or whatever else changes. */
  static const char *same[] = {
      "{\"resources\":{\"cpu\":\"1000m\"},\"model\":{\"uri\":\"pvc://m/a\"},\"runtime\":\"triton\"}",
      "{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":1},\"replicas\":{\"min\":3,\"max\":9}}",
      "{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":\"1\"},\"route\":{\"timeoutSeconds\":5},"
      "\"autoscaling\":{\"metrics\":[{\"type\":\"cpu\",\"targetUtilization\":50}]}}",
  };
  for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
    revision_of(same[i], other);
    ck_assert_msg(strcmp(base, other) == 0, "case %zu rolled: %s vs %s", i, base, other);
  }
  /* A different pod template is a different revision. */
  static const char *differ[] = {
      "{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/b\"},\"resources\":{\"cpu\":\"1\"}}",
      "{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\",\"version\":\"2\"},\"resources\":{\"cpu\":\"1\"}}",
      "{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":\"2\"}}",
      "{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":\"1\",\"gpu\":\"1\"}}",
      "{\"runtime\":\"triton\",\"image\":\"my/triton:1\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":\"1\"}}",
      "{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":\"1\"},\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}",
  };
  for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
    revision_of(differ[i], other);
    ck_assert_msg(strcmp(base, other) != 0, "case %zu did not roll", i);
  }
  /* A canary that differs in nothing is the stable revision itself. */
  json_t *isvc = isvc_of("{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":\"1\"},"
                         "\"canary\":{\"trafficPercent\":30,\"replicas\":{\"min\":2}}}");
  inference_spec s;
  parse_ok(isvc, &s);
  json_t *t = inference_pod_template(isvc, &s.canary, &cfg);
  inference_revision_name(isvc, t, other);
  ck_assert_str_eq(base, other);
  ck_assert_int_eq(s.canary.min_replicas, 2);
  json_decref(t);
  inference_spec_free(&s);
  json_decref(isvc);
}
END_TEST

/* Promotion: the canary's fields written into the main spec give the
 * canary's revision name, so the canary becomes the stable revision. */
START_TEST(promotion_keeps_the_canary_revision) {
  json_t *before = isvc_of("{\"runtime\":\"torchserve\",\"model\":{\"uri\":\"pvc://m/v1\",\"version\":\"v1\"},"
                           "\"canary\":{\"trafficPercent\":20,\"model\":{\"uri\":\"pvc://m/v2\",\"version\":\"v2\"}}}");
  json_t *after = isvc_of("{\"runtime\":\"torchserve\",\"model\":{\"uri\":\"pvc://m/v2\",\"version\":\"v2\"}}");
  inference_spec a, b;
  parse_ok(before, &a);
  parse_ok(after, &b);
  json_t *ta = inference_pod_template(before, &a.canary, &cfg), *tb = inference_pod_template(after, &b.stable, &cfg);
  char ra[INFERENCE_REVISION_LEN], rb[INFERENCE_REVISION_LEN];
  inference_revision_name(before, ta, ra);
  inference_revision_name(after, tb, rb);
  ck_assert_str_eq(ra, rb);
  json_decref(ta);
  json_decref(tb);
  inference_spec_free(&a);
  inference_spec_free(&b);
  json_decref(before);
  json_decref(after);
}
END_TEST

/* ---------------------------------------------------------- bad specs */

typedef struct bad_case {
  const char *spec;
  const char *message; /* the error starts with it */
} bad_case;

static const bad_case bad_specs[] = {
    {"{\"runtime\":\"caffe\"}", "spec.runtime: unknown runtime \"caffe\""},
    {"{}", "spec.runtime: required"},
    {"{\"runtime\":\"triton\",\"replicas\":{\"min\":3,\"max\":2}}", "spec.replicas: min 3 is above max 2"},
    {"{\"runtime\":\"triton\",\"replicas\":{\"min\":0}}", "spec.replicas.min: want 1 to 1000, got 0"},
    {"{\"runtime\":\"triton\",\"canary\":{\"trafficPercent\":101}}", "spec.canary.trafficPercent: want 0 to 100"},
    {"{\"runtime\":\"triton\",\"canary\":{\"trafficPercent\":-1}}", "spec.canary.trafficPercent: want 0 to 100"},
    {"{\"runtime\":\"triton\",\"canary\":{\"trafficPercent\":10,\"route\":{}}}", "spec.canary.route: not a predictor field"},
    {"{\"runtime\":\"triton\",\"canary\":{\"trafficPercent\":10,\"runtime\":\"custom\"}}",
     "spec.canary.image: required for runtime custom"},
    {"{\"runtime\":\"custom\"}", "spec.image: required for runtime custom"},
    {"{\"runtime\":\"triton\",\"resources\":{\"gpu\":\"0.1234\"}}", "spec.resources.gpu: GPU request \"0.1234\": more than 3 decimals"},
    {"{\"runtime\":\"triton\",\"resources\":{\"gpu\":\"2(\"}}", "spec.resources.gpu: GPU request \"2(\""},
    {"{\"runtime\":\"triton\",\"canary\":{\"trafficPercent\":5,\"resources\":{\"gpu\":\"x\"}}}", "spec.canary.resources.gpu: "},
    {"{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1x\"}}", "spec.resources.cpu: \"1x\" is not a positive quantity"},
    {"{\"runtime\":\"triton\",\"model\":{\"uri\":\"ftp://x/y\"}}", "spec.model.uri: \"ftp://x/y\" is not pvc://"},
    {"{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc:///y\"}}", "spec.model.uri: \"pvc:///y\" names no claim"},
    {"{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://c/../etc\"}}", "spec.model.uri: the path in"},
    {"{\"runtime\":\"triton\",\"mirror\":{\"percent\":10}}", "spec.mirror: copies traffic to the canary"},
    {"{\"runtime\":\"triton\",\"mirror\":{\"percent\":110,\"service\":\"x\"}}", "spec.mirror.percent: want 0 to 100"},
    {"{\"runtime\":\"triton\",\"autoscaling\":{\"metrics\":[{\"type\":\"rps\"}]}}",
     "spec.autoscaling.metrics[0].type: want cpu, memory, gpu or qps, got \"rps\""},
    {"{\"runtime\":\"triton\",\"resources\":{\"cpu\":1},\"autoscaling\":{\"metrics\":[{\"type\":\"cpu\",\"targetUtilization\":50},"
     "{\"type\":\"cpu\",\"targetUtilization\":60}]}}", "spec.autoscaling.metrics[1].type: cpu is listed twice"},
    {"{\"runtime\":\"triton\",\"autoscaling\":{\"metrics\":[{\"type\":\"cpu\",\"targetUtilization\":50}]}}",
     "spec.autoscaling.metrics[0]: cpu utilization needs spec.resources.cpu"},
    {"{\"runtime\":\"triton\",\"autoscaling\":{\"metrics\":[{\"type\":\"qps\"}]}}",
     "spec.autoscaling.metrics[0].targetAverageValue: required for qps"},
    {"{\"runtime\":\"triton\",\"autoscaling\":{\"schedule\":[{\"start\":\"9:00\",\"end\":\"18:00\",\"minReplicas\":1}]}}",
     "spec.autoscaling.schedule[0].start: want HH:MM"},
    {"{\"runtime\":\"triton\",\"autoscaling\":{\"schedule\":[{\"start\":\"09:00\",\"end\":\"24:00\",\"minReplicas\":1}]}}",
     "spec.autoscaling.schedule[0].end: want HH:MM"},
    {"{\"runtime\":\"triton\",\"autoscaling\":{\"schedule\":[{\"start\":\"09:00\",\"end\":\"09:00\",\"minReplicas\":1}]}}",
     "spec.autoscaling.schedule[0]: start and end are both 09:00"},
    {"{\"runtime\":\"triton\",\"autoscaling\":{\"schedule\":[{\"start\":\"09:00\",\"end\":\"18:00\",\"timeZone\":\"Mars/Base\","
     "\"minReplicas\":1}]}}", "spec.autoscaling.schedule[0].timeZone: unknown time zone \"Mars/Base\""},
    {"{\"runtime\":\"triton\",\"replicas\":{\"max\":3},\"autoscaling\":{\"schedule\":[{\"start\":\"09:00\",\"end\":\"18:00\","
     "\"minReplicas\":4}]}}", "spec.autoscaling.schedule[0].minReplicas: want 1 to spec.replicas.max (3)"},
    {"{\"runtime\":\"triton\",\"route\":{\"pathPrefix\":\"/x\"}}", "spec.route.pathPrefix: \"/x\" must start and end with /"},
    {"{\"runtime\":\"triton\",\"volumes\":[{\"name\":\"cubit-x\",\"mountPath\":\"/x\"}]}",
     "spec.volumes[0].name: names starting with cubit- are Cubit's own"},
    {"{\"runtime\":\"triton\",\"env\":[{\"name\":\"A\"},{\"name\":\"A\"}]}", "spec.env[1].name: A is set twice"},
};

START_TEST(bad_specs_name_their_field) {
  const bad_case *c = &bad_specs[_i];
  json_t *isvc = isvc_of(c->spec);
  inference_spec s;
  char err[512] = "";
  ck_assert_msg(inference_spec_parse(isvc, &s, err, sizeof(err)) == CUBIT_EINVAL, "accepted %s", c->spec);
  ck_assert_msg(strncmp(err, c->message, strlen(c->message)) == 0, "%s:\n got  %s\n want %s...", c->spec, err,
                c->message);
  ck_assert_ptr_null(s.stable_json);
  json_decref(isvc);
}
END_TEST

START_TEST(long_names_are_refused) {
  json_t *isvc = isvc_of("{\"runtime\":\"triton\"}");
  json_object_set_new(json_object_get(isvc, "metadata"), "name",
                      json_string("a-name-that-is-far-too-long-for-a-revision-suffix-xyz"));
  inference_spec s;
  char err[256];
  ck_assert_int_eq(inference_spec_parse(isvc, &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "metadata.name: at most 52 characters (revision names add 11)");
  json_decref(isvc);
}
END_TEST

/* ----------------------------------------------------------- the plan */

static inference_revision_state rev_state(const char *name, int exists, int available, int rolled_out) {
  inference_revision_state s = {0};
  snprintf(s.name, sizeof(s.name), "%s", name);
  s.exists = exists;
  s.available = available;
  s.rolled_out = rolled_out;
  s.replicas = 1;
  return s;
}

static void plan_text(const inference_route_plan *p, char *out, size_t len) {
  size_t off = (size_t)snprintf(out, len, "serving=%s routes=", p->serving_stable);
  for (size_t i = 0; i < p->nroutes; i++)
    off += (size_t)snprintf(out + off, len - off, "%s%s:%s:%d", i ? "," : "", p->routes[i].revision,
                            p->routes[i].role, p->routes[i].weight);
  off += (size_t)snprintf(out + off, len - off, " keep=");
  for (size_t i = 0; i < p->nkeep; i++) off += (size_t)snprintf(out + off, len - off, "%s%s", i ? "," : "", p->keep[i]);
}

static void serve(inference_route_input *in, const char *rev, int weight, int available) {
  size_t i = in->nserving++;
  snprintf(in->serving[i].revision, sizeof(in->serving[i].revision), "%s", rev);
  in->serving[i].weight = weight;
  in->serving_state[i] = rev_state(rev, 1, available, available);
}

START_TEST(plans) {
  inference_route_input in;
  inference_route_plan p;
  char text[512];
  /* A new service: the stable revision takes everything, even before it is up. */
  memset(&in, 0, sizeof(in));
  in.stable = rev_state("s", 0, 0, 0);
  inference_plan_routes(&in, &p);
  plan_text(&p, text, sizeof(text));
  ck_assert_str_eq(text, "serving=s routes=s:stable:100 keep=s");
  /* Canary 20% once both are rolled out. */
  memset(&in, 0, sizeof(in));
  in.stable = rev_state("s", 1, 1, 1);
  in.has_canary = 1;
  in.canary = rev_state("c", 1, 1, 1);
  in.canary_percent = 20;
  serve(&in, "s", 100, 1);
  inference_plan_routes(&in, &p);
  plan_text(&p, text, sizeof(text));
  ck_assert_str_eq(text, "serving=s routes=s:stable:80,c:canary:20 keep=s,c");
  ck_assert_int_eq(p.canary_routed, 1);
  /* A canary still rolling out gets nothing yet, and is kept. */
  in.canary = rev_state("c", 1, 0, 0);
  inference_plan_routes(&in, &p);
  plan_text(&p, text, sizeof(text));
  ck_assert_str_eq(text, "serving=s routes=s:stable:100 keep=s,c");
  ck_assert_int_eq(p.canary_routed, 0);
  /* Promotion: the canary's revision is the new stable, already rolled out:
   * it takes everything at once and the old one is no longer kept. */
  memset(&in, 0, sizeof(in));
  in.stable = rev_state("c", 1, 1, 1);
  serve(&in, "s", 80, 1);
  serve(&in, "c", 20, 1);
  inference_plan_routes(&in, &p);
  plan_text(&p, text, sizeof(text));
  ck_assert_str_eq(text, "serving=c routes=c:stable:100 keep=c");
  /* A new template: the old revision keeps serving until the new one is
   * rolled out (no gap), and both are kept. */
  memset(&in, 0, sizeof(in));
  in.stable = rev_state("n", 1, 1, 0);
  serve(&in, "o", 100, 1);
  inference_plan_routes(&in, &p);
  plan_text(&p, text, sizeof(text));
  ck_assert_str_eq(text, "serving=o routes=o:previous:100 keep=n,o");
  /* ... unless the old one has nothing available either. */
  in.serving_state[0].available = 0;
  inference_plan_routes(&in, &p);
  plan_text(&p, text, sizeof(text));
  ck_assert_str_eq(text, "serving=n routes=n:stable:100 keep=n");
  /* A 0% canary (shadow, for mirroring) is routed with weight 0. */
  memset(&in, 0, sizeof(in));
  in.stable = rev_state("s", 1, 1, 1);
  in.has_canary = 1;
  in.canary = rev_state("c", 1, 1, 1);
  inference_plan_routes(&in, &p);
  plan_text(&p, text, sizeof(text));
  ck_assert_str_eq(text, "serving=s routes=s:stable:100,c:canary:0 keep=s,c");
}
END_TEST

/* ------------------------------------------------------- HPA and mirror */

START_TEST(hpa_metrics_map_exactly) {
  json_t *isvc = isvc_of(
      "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"2\",\"memory\":\"4Gi\",\"gpu\":\"1\"},\"replicas\":{\"min\":2,\"max\":10},"
      "\"autoscaling\":{\"metrics\":[{\"type\":\"cpu\",\"targetUtilization\":70},{\"type\":\"memory\",\"targetUtilization\":85},"
      "{\"type\":\"gpu\",\"targetUtilization\":60},{\"type\":\"qps\",\"targetAverageValue\":\"1.5\",\"metricName\":\"rps\"}],"
      "\"behavior\":{\"scaleUp\":{\"stabilizationWindowSeconds\":0}}}}");
  inference_spec s;
  parse_ok(isvc, &s);
  json_t *hpa = inference_desired_hpa(isvc, &s, "m-0123456789", 5);
  json_t *want = json_loads(
      "{\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"m-0123456789\"},"
      "\"minReplicas\":5,\"maxReplicas\":10,\"metrics\":["
      "{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":70}}},"
      "{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":85}}},"
      "{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"DCGM_FI_DEV_GPU_UTIL\"},\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"60\"}}},"
      "{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"rps\"},\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"1500m\"}}}],"
      "\"behavior\":{\"scaleUp\":{\"stabilizationWindowSeconds\":0}}}",
      0, NULL);
  ck_assert_msg(json_equal(json_object_get(hpa, "spec"), want), "%s", js_dump(json_object_get(hpa, "spec")));
  json_t *ref = json_array_get(js_get(hpa, "metadata.ownerReferences"), 0);
  ck_assert_str_eq(js_str(ref, "uid"), "u1");
  ck_assert(js_bool(ref, "controller", 0));
  json_decref(want);
  json_decref(hpa);
  inference_spec_free(&s);
  json_decref(isvc);
}
END_TEST

static json_t *first_http(const char *spec_json, const char *mirror_rev) {
  json_t *isvc = isvc_of(spec_json);
  inference_spec s;
  parse_ok(isvc, &s);
  inference_route routes[2] = {{"m-s", 90, "stable"}, {"m-c", 10, "canary"}};
  json_t *vs = inference_desired_virtual_service(isvc, &s, &cfg, routes, 2, mirror_rev);
  json_t *http = json_incref(json_array_get(js_get(vs, "spec.http"), 0));
  json_decref(vs);
  inference_spec_free(&s);
  json_decref(isvc);
  return http;
}

START_TEST(mirror_and_weights) {
  json_t *h = first_http("{\"runtime\":\"vllm\",\"canary\":{\"trafficPercent\":10,\"image\":\"v:2\"},\"mirror\":{\"percent\":10}}", "m-c");
  ck_assert_str_eq(js_str(h, "mirror.subset"), "m-c");
  ck_assert_str_eq(js_str(h, "mirror.host"), "m.ns.svc.cluster.local");
  ck_assert_int_eq(js_int(h, "mirrorPercentage.value", -1), 10);
  json_t *r = js_get(h, "route");
  ck_assert_str_eq(js_str(json_array_get(r, 0), "destination.subset"), "m-s");
  ck_assert_int_eq(js_int(json_array_get(r, 0), "weight", -1), 90);
  ck_assert_int_eq(js_int(json_array_get(r, 1), "weight", -1), 10);
  ck_assert_str_eq(js_str(json_array_get(js_get(h, "match"), 0), "uri.prefix"), "/inference/ns/m/");
  json_decref(h);
  /* To any service, by short name or host. */
  h = first_http("{\"runtime\":\"vllm\",\"mirror\":{\"percent\":5,\"service\":\"shadow\",\"port\":8080}}", NULL);
  ck_assert_str_eq(js_str(h, "mirror.host"), "shadow.ns.svc.cluster.local");
  ck_assert_int_eq(js_int(h, "mirror.port.number", -1), 8080);
  ck_assert_int_eq(js_int(h, "mirrorPercentage.value", -1), 5);
  json_decref(h);
  /* No spec.mirror: no mirror fields at all. */
  h = first_http("{\"runtime\":\"vllm\",\"canary\":{\"trafficPercent\":10,\"image\":\"v:2\"}}", "m-c");
  ck_assert_ptr_null(json_object_get(h, "mirror"));
  ck_assert_ptr_null(json_object_get(h, "mirrorPercentage"));
  json_decref(h);
}
END_TEST

/* ------------------------------------------------------------ schedule */

/* 2024-07-01T15:00:00Z = 23:00 in Shanghai (UTC+8, no DST). */
#define JUL1_15UTC 1719846000LL

typedef struct floor_case {
  const char *schedule; /* JSON array */
  int64_t now;
  int floor, window;
  int64_t next;
} floor_case;

static const floor_case floors[] = {
    /* Across midnight in Shanghai: 23:00 is inside 22:00-06:00; it ends at 06:00 local = 22:00Z. */
    {"[{\"start\":\"22:00\",\"end\":\"06:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":4}]", JUL1_15UTC, 4, 0,
     JUL1_15UTC + 7 * 3600},
    /* 05:59 local is still inside, 06:00 is not. */
    {"[{\"start\":\"22:00\",\"end\":\"06:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":4}]",
     JUL1_15UTC + 7 * 3600 - 60, 4, 0, JUL1_15UTC + 7 * 3600},
    {"[{\"start\":\"22:00\",\"end\":\"06:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":4}]", JUL1_15UTC + 7 * 3600,
     2, -1, JUL1_15UTC + 23 * 3600},
    /* The same wall times in UTC: 15:00Z is outside; the next start is 22:00Z. */
    {"[{\"start\":\"22:00\",\"end\":\"06:00\",\"minReplicas\":4}]", JUL1_15UTC, 2, -1, JUL1_15UTC + 7 * 3600},
    /* New York in summer (UTC-4): 15:00Z is 11:00, inside 09:00-17:00, ending 21:00Z. */
    {"[{\"start\":\"09:00\",\"end\":\"17:00\",\"timeZone\":\"America/New_York\",\"minReplicas\":3}]", JUL1_15UTC, 3, 0,
     JUL1_15UTC + 6 * 3600},
    /* In winter (UTC-5) 15:00Z is 10:00: still inside; the end is 22:00Z. */
    {"[{\"start\":\"09:00\",\"end\":\"17:00\",\"timeZone\":\"America/New_York\",\"minReplicas\":3}]", 1704121200LL, 3, 0,
     1704121200LL + 7 * 3600},
    /* Two windows: the one containing now sets the floor; the next boundary is the nearest of all. */
    {"[{\"start\":\"08:00\",\"end\":\"12:00\",\"timeZone\":\"Europe/Berlin\",\"minReplicas\":5},"
     "{\"start\":\"16:00\",\"end\":\"18:00\",\"timeZone\":\"Europe/Berlin\",\"minReplicas\":3}]",
     JUL1_15UTC, 3, 1, JUL1_15UTC + 3600}, /* 17:00 CEST; ends 18:00 CEST = 16:00Z */
};

START_TEST(schedule_floor) {
  const floor_case *c = &floors[_i];
  char spec[1024];
  snprintf(spec, sizeof(spec), "{\"runtime\":\"triton\",\"replicas\":{\"min\":2,\"max\":6},\"autoscaling\":{\"schedule\":%s}}",
           c->schedule);
  json_t *isvc = isvc_of(spec);
  inference_spec s;
  parse_ok(isvc, &s);
  int floor = 0, window = 0;
  int64_t next = 0;
  char err[256];
  ck_assert_int_eq(inference_schedule_floor(&s, c->now, &floor, &window, &next, err, sizeof(err)), 0);
  ck_assert_int_eq(floor, c->floor);
  ck_assert_int_eq(window, c->window);
  ck_assert_msg(next == c->next, "next %lld, want %lld (%+lld s)", (long long)next, (long long)c->next,
                (long long)(next - c->next));
  inference_spec_free(&s);
  json_decref(isvc);
}
END_TEST

/* The first time a wall time comes, even on the day the clocks go back:
 * 01:30 New York on 2024-11-03 happens twice; from 01:45 EDT the next
 * 01:30 is the one in EST. */
START_TEST(schedule_boundary_in_a_fold) {
  json_t *isvc = isvc_of("{\"runtime\":\"triton\",\"replicas\":{\"min\":1,\"max\":3},\"autoscaling\":{\"schedule\":"
                         "[{\"start\":\"01:30\",\"end\":\"03:00\",\"timeZone\":\"America/New_York\",\"minReplicas\":2}]}}");
  inference_spec s;
  parse_ok(isvc, &s);
  int floor, window;
  int64_t next;
  char err[256];
  int64_t edt_0145 = 1730612700LL; /* 2024-11-03T05:45:00Z */
  ck_assert_int_eq(inference_schedule_floor(&s, edt_0145, &floor, &window, &next, err, sizeof(err)), 0);
  ck_assert_int_eq(floor, 2);
  ck_assert_int_eq(next, 1730615400LL); /* 01:30 EST = 06:30Z */
  inference_spec_free(&s);
  json_decref(isvc);
}
END_TEST

typedef struct overlap_case {
  const char *schedule;
  const char *message; /* NULL: no overlap */
} overlap_case;

static const overlap_case overlaps[] = {
    {"[{\"start\":\"09:00\",\"end\":\"12:00\",\"minReplicas\":2},{\"start\":\"11:00\",\"end\":\"14:00\",\"minReplicas\":3}]",
     "spec.autoscaling.schedule[1]: window 11:00-14:00 UTC overlaps spec.autoscaling.schedule[0] (09:00-12:00 UTC)"},
    {"[{\"start\":\"09:00\",\"end\":\"12:00\",\"minReplicas\":2},{\"start\":\"12:00\",\"end\":\"14:00\",\"minReplicas\":3}]",
     NULL},
    /* Across midnight. */
    {"[{\"start\":\"22:00\",\"end\":\"06:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":2},"
     "{\"start\":\"05:00\",\"end\":\"08:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":3}]",
     "spec.autoscaling.schedule[1]: window 05:00-08:00 Asia/Shanghai overlaps spec.autoscaling.schedule[0] (22:00-06:00 "
     "Asia/Shanghai)"},
    {"[{\"start\":\"22:00\",\"end\":\"06:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":2},"
     "{\"start\":\"06:00\",\"end\":\"22:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":3}]",
     NULL},
    /* Across zones: 09:00-10:00 Shanghai is 01:00-02:00 UTC. */
    {"[{\"start\":\"09:00\",\"end\":\"10:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":2},"
     "{\"start\":\"01:30\",\"end\":\"03:00\",\"timeZone\":\"UTC\",\"minReplicas\":3}]",
     "spec.autoscaling.schedule[1]: window 01:30-03:00 UTC overlaps spec.autoscaling.schedule[0] (09:00-10:00 Asia/Shanghai)"},
    {"[{\"start\":\"09:00\",\"end\":\"10:00\",\"timeZone\":\"Asia/Shanghai\",\"minReplicas\":2},"
     "{\"start\":\"02:00\",\"end\":\"03:00\",\"timeZone\":\"UTC\",\"minReplicas\":3}]",
     NULL},
    /* Only in summer: 10:00-11:00 Berlin is 08:00-09:00 UTC in CEST, 09:00-10:00 in CET. */
    {"[{\"start\":\"10:00\",\"end\":\"11:00\",\"timeZone\":\"Europe/Berlin\",\"minReplicas\":2},"
     "{\"start\":\"08:30\",\"end\":\"09:00\",\"timeZone\":\"UTC\",\"minReplicas\":3}]",
     "spec.autoscaling.schedule[1]: window 08:30-09:00 UTC overlaps spec.autoscaling.schedule[0] (10:00-11:00 Europe/Berlin)"},
};

START_TEST(overlapping_windows) {
  const overlap_case *c = &overlaps[_i];
  char spec[1024];
  snprintf(spec, sizeof(spec), "{\"runtime\":\"triton\",\"replicas\":{\"min\":1,\"max\":6},\"autoscaling\":{\"schedule\":%s}}",
           c->schedule);
  json_t *isvc = isvc_of(spec);
  char err[512] = "";
  /* Anchored in January: the summer overlap must still be found. */
  int rc = validate_inferenceservice(isvc, 1704067200LL, err, sizeof(err));
  if (c->message) {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_str_eq(err, c->message);
  } else {
    ck_assert_msg(rc == 0, "%s", err);
  }
  json_decref(isvc);
}
END_TEST

/* ------------------------------------------------------------- webhook */

static void review(const char *object, adm_response *resp) {
  char *body = NULL;
  if (asprintf(&body,
               "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"r1\","
               "\"kind\":{\"group\":\"cubit.dev\",\"version\":\"v1alpha1\",\"kind\":\"InferenceService\"},"
               "\"resource\":{\"group\":\"cubit.dev\",\"version\":\"v1alpha1\",\"resource\":\"inferenceservices\"},"
               "\"namespace\":\"ns\",\"name\":\"m\",\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"alice\"},"
               "\"object\":%s}}",
               object) < 0)
    abort();
  adm_request req;
  char err[256];
  ck_assert_int_eq(adm_request_parse(body, strlen(body), &req, err, sizeof(err)), 0);
  adm_response_init(resp);
  validate_inferenceservice_handler(&req, resp, NULL);
  adm_request_free(&req);
  free(body);
}

START_TEST(webhook_denies_with_the_field) {
  adm_response resp;
  review("{\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\"},\"spec\":{\"runtime\":\"triton\",\"resources\":{\"gpu\":\"1.5x\"}}}",
         &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_int_eq(resp.code, 422);
  const char *want = "InferenceService m: spec.resources.gpu: GPU request \"1.5x\"";
  ck_assert_msg(strncmp(resp.message, want, strlen(want)) == 0, "%s", resp.message);
  adm_response_free(&resp);
  review("{\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\"},\"spec\":{\"runtime\":\"triton\",\"resources\":{\"gpu\":\"0.5(A100)\"}}}",
         &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

int main(void) {
  Suite *s = suite_create("inferenceservice");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, golden_children, 0, sizeof(golden_cases) / sizeof(golden_cases[0]));
  tcase_add_test(tc, revision_hashing);
  tcase_add_test(tc, promotion_keeps_the_canary_revision);
  tcase_add_loop_test(tc, bad_specs_name_their_field, 0, sizeof(bad_specs) / sizeof(bad_specs[0]));
  tcase_add_test(tc, long_names_are_refused);
  tcase_add_test(tc, plans);
  tcase_add_test(tc, hpa_metrics_map_exactly);
  tcase_add_test(tc, mirror_and_weights);
  tcase_add_loop_test(tc, schedule_floor, 0, sizeof(floors) / sizeof(floors[0]));
  tcase_add_test(tc, schedule_boundary_in_a_fold);
  tcase_add_loop_test(tc, overlapping_windows, 0, sizeof(overlaps) / sizeof(overlaps[0]));
  tcase_add_test(tc, webhook_denies_with_the_field);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
