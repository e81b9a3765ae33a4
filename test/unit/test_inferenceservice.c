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
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/status.h"
#include "testutil.h"
#include "util/json.h"
#include "util/time.h"
#include "webhooks/validate/inferenceservice.h"

static const inference_settings cfg = {"kserve/storage-initializer:v0.14.1", "cluster.local", NULL};

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

static int str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

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
  json_t *tmpl = inference_pod_template(isvc, &s.stable, &cfg, 1);
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
    json_t *ct = inference_pod_template(isvc, &s.canary, &cfg, 1);
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

/* ----------------------------------------------------------- GPUs */

/* Outside a project the pod template carries the translated GPU request and
 * the model's node selector (issue 14); inside one only the annotation, for
 * the pod webhook. */
START_TEST(gpu_translated_outside_project) {
  json_t *pj = json_loads("{\"system\":\"nvidia\",\"models\":{\"A100\":{\"memory\":\"80Gi\"}}}", 0, NULL);
  gpu_profile *gpu = NULL;
  char err[256];
  ck_assert_msg(gpu_profile_parse(pj, &gpu, err, sizeof(err)) == 0, "%s", err);
  inference_settings with_gpu = cfg;
  with_gpu.gpu = gpu;
  json_t *isvc = isvc_of("{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"gpu\":\"16(A100)\"}}");
  inference_spec s;
  parse_ok(isvc, &s);
  json_t *t = inference_pod_template(isvc, &s.stable, &with_gpu, 0);
  json_t *c = json_array_get(js_get(t, "spec.containers"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(c, "resources.limits"), "nvidia.com/gpu")), "16");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(c, "resources.requests"), "nvidia.com/gpu")), "16");
  ck_assert_int_eq(json_object_size(js_get(t, "spec.nodeSelector")), 1);
  json_decref(t);
  t = inference_pod_template(isvc, &s.stable, &with_gpu, 1);
  c = json_array_get(js_get(t, "spec.containers"), 0);
  ck_assert_ptr_null(js_get(c, "resources.limits"));
  ck_assert_ptr_null(js_get(t, "spec.nodeSelector"));
  ck_assert_str_eq(json_string_value(json_object_get(js_get(t, "metadata.annotations"), "cubit.dev/gpu")), "16(A100)");
  json_decref(t);
  inference_spec_free(&s);
  json_decref(isvc);
  gpu_profile_free(gpu);
  json_decref(pj);
}
END_TEST

/* ----------------------------------------------------------- revisions */

static void revision_of(const char *spec_json, char out[INFERENCE_REVISION_LEN]) {
  json_t *isvc = isvc_of(spec_json);
  inference_spec s;
  parse_ok(isvc, &s);
  json_t *t = inference_pod_template(isvc, &s.stable, &cfg, 1);
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
      /* One string on two lines (the parentheses tell clang so). */
      ("{\"runtime\":\"triton\",\"model\":{\"uri\":\"pvc://m/a\"},\"resources\":{\"cpu\":\"1\"},\"route\":{\"timeoutSeconds\":5},"
       "\"autoscaling\":{\"metrics\":[{\"type\":\"cpu\",\"targetUtilization\":50}]}}"),
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
  json_t *t = inference_pod_template(isvc, &s.canary, &cfg, 1);
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
  json_t *ta = inference_pod_template(before, &a.canary, &cfg, 1), *tb = inference_pod_template(after, &b.stable, &cfg, 1);
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

/* ------------------------------------------------- isvc_plan, by state */

/* The observed world of one case, in a small notation, and what the plan
 * must make of it. $S is the stable revision of the case's spec, $C its
 * canary revision, $O an older revision that served before. */
typedef struct plan_case {
  const char *name;
  const char *spec;     /* JSON; NULL = the base spec */
  int istio;
  const char *deps;     /* "S:2/1" = revision S's Deployment, 2 replicas, 1 available;
                         * ":rf" adds ReplicaFailure; ":other" makes it someone else's */
  const char *pods;     /* "S:ready", "S:creating", "S:unsched:30" (PodScheduled=False
                         * since 30 s), "S:pull", "S:errpull", "S:initpull", "S:crash",
                         * "S:notready", "S:scheduling" */
  const char *vs;       /* live VirtualService routes: "S100", "O100", "S80C20"; NULL none */
  const char *svc;      /* live main Service: NULL none, "" selects every revision, "S"/"O" pins */
  const char *prev;     /* the previous status (JSON with $-names) or NULL */
  int floor, window;    /* 0, 0: the spec's min and no window */
  int64_t next;         /* next window boundary after NOW (s), 0 = none */
  /* expected */
  const char *phase;
  rt_state state;
  const char *reason;   /* Ready's (or Suspended's) reason */
  const char *message;  /* a part of Ready's message */
  const char *conds;    /* "LatestRevisionReady=False/Unschedulable PredictorReady=..." */
  const char *actions;  /* "apply Deployment $S/1; ...; delete Service $O" */
  const char *events;   /* "Warning Unschedulable; Normal TrafficShifted" */
  int64_t requeue_ms;
} plan_case;

#define NOW 1700000000LL
#define OLD_REV "m-00000000aa"
#define BASE_SPEC "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1\"}}"
#define CANARY_SPEC                                                                                                \
  "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1\"},\"replicas\":{\"min\":2,\"max\":4},"                          \
  "\"canary\":{\"trafficPercent\":20,\"image\":\"my/triton:2\"},\"mirror\":{\"percent\":10}}"
#define ROLL_SPEC "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1\"},\"replicas\":{\"min\":1,\"max\":4}}"
#define SCHEDULE_SPEC                                                                                              \
  "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1\"},\"replicas\":{\"min\":1,\"max\":5},\"autoscaling\":{"       \
  "\"schedule\":[{\"start\":\"09:00\",\"end\":\"18:00\",\"minReplicas\":3}]}}"
#define SCHED_MSG "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."

/* Previous statuses. */
#define PREV_MIN(min, revisions, ready, reason, stalled)                                                            \
  "{\"observedGeneration\":1,\"revisions\":[" revisions "],\"autoscaling\":{\"minReplicas\":" min "},"              \
  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"" ready "\",\"reason\":\"" reason "\",\"message\":\"m\"},"        \
  "{\"type\":\"Stalled\",\"status\":\"" stalled "\",\"reason\":\"" reason "\",\"message\":\"m\"}]}"
#define PREV(revisions, ready, reason, stalled) PREV_MIN("1", revisions, ready, reason, stalled)
#define PREV2(revisions, ready, reason, stalled) PREV_MIN("2", revisions, ready, reason, stalled)
#define REV_S100 "{\"name\":\"$S\",\"role\":\"stable\",\"readyReplicas\":1,\"trafficPercent\":100}"
#define REV_O100 "{\"name\":\"$O\",\"role\":\"stable\",\"readyReplicas\":1,\"trafficPercent\":100}"
#define REV_S_C "{\"name\":\"$S\",\"role\":\"stable\",\"readyReplicas\":2,\"trafficPercent\":100},"                    \
                "{\"name\":\"$C\",\"role\":\"canary\",\"readyReplicas\":1,\"trafficPercent\":0}"
#define REV_S80_C20 "{\"name\":\"$S\",\"role\":\"stable\",\"readyReplicas\":2,\"trafficPercent\":80},"                \
                    "{\"name\":\"$C\",\"role\":\"canary\",\"readyReplicas\":1,\"trafficPercent\":20}"

#define ISTIO_CHILDREN(rev, n) "apply Deployment " rev "/" n "; apply Service " rev "; apply Service m; "               \
                               "apply DestinationRule m; apply VirtualService m; apply HorizontalPodAutoscaler m"
#define PLAIN_CHILDREN(rev, n) "apply Deployment " rev "/" n "; apply Service " rev "; apply Service m; "               \
                               "apply HorizontalPodAutoscaler m"
#define CANARY_CHILDREN "apply Deployment $S/2; apply Service $S; apply Deployment $C/2; apply Service $C; "           \
                        "apply Service m; apply DestinationRule m; apply VirtualService m; apply HorizontalPodAutoscaler m"

static const plan_case plan_cases[] = {
    {"new: nothing exists yet", NULL, 1, "", "", NULL, NULL, NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "Deploying", "revision $S: 0/1 replicas available; its Deployment is being created",
     "LatestRevisionReady=False/Deploying PredictorReady=False/Deploying RoutesReady=False/RoutesPending",
     ISTIO_CHILDREN("$S", "1"), "Normal RevisionCreated; Normal TrafficShifted", 0},
    {"pods created, not yet scheduled", NULL, 1, "S:1/0", "S:scheduling", "S100", "", PREV(REV_S100, "False", "Deploying", "False"),
     0, 0, 0, "Pending", RT_STATE_PROGRESSING, "Scheduling", "waits for the scheduler",
     "LatestRevisionReady=False/Scheduling PredictorReady=False/Scheduling RoutesReady=True/RoutesApplied",
     ISTIO_CHILDREN("$S", "1"), "", 0},
    {"pulling: the kubelet creates the containers", NULL, 1, "S:1/0", "S:creating", "S100", "",
     PREV(REV_S100, "False", "Deploying", "False"), 0, 0, 0, "Pending", RT_STATE_PROGRESSING, "ContainerCreating",
     "revision $S: 0/1 replicas available; ContainerCreating (container server)",
     "LatestRevisionReady=False/ContainerCreating PredictorReady=False/ContainerCreating RoutesReady=True/RoutesApplied",
     ISTIO_CHILDREN("$S", "1"), "", 0},
    {"running, readiness probe not passed yet", NULL, 1, "S:1/0", "S:notready", "S100", "",
     PREV(REV_S100, "False", "ContainerCreating", "False"), 0, 0, 0, "Pending", RT_STATE_PROGRESSING, "ContainersNotReady",
     "ContainersNotReady: containers with unready status: [server]",
     "LatestRevisionReady=False/ContainersNotReady PredictorReady=False/ContainersNotReady RoutesReady=True/RoutesApplied",
     ISTIO_CHILDREN("$S", "1"), "", 0},
    {"unschedulable for 30 s: progressing, the scheduler quoted, one warning, a look at 60 s", NULL, 1, "S:1/0",
     "S:unsched:30", "S100", "", PREV(REV_S100, "False", "Deploying", "False"), 0, 0, 0, "Pending", RT_STATE_PROGRESSING,
     "Unschedulable", "no revision serves yet: revision $S: 0/1 replicas available; Unschedulable: " SCHED_MSG,
     "LatestRevisionReady=False/Unschedulable PredictorReady=False/Unschedulable RoutesReady=True/RoutesApplied",
     ISTIO_CHILDREN("$S", "1"), "Warning Unschedulable", 31000},
    {"unschedulable for 30 s, already said: no second warning", NULL, 1, "S:1/0", "S:unsched:30", "S100", "",
     PREV(REV_S100, "False", "Unschedulable", "False"), 0, 0, 0, "Pending", RT_STATE_PROGRESSING, "Unschedulable",
     "Unschedulable: " SCHED_MSG, NULL, ISTIO_CHILDREN("$S", "1"), "", 31000},
    {"unschedulable for 90 s: failed (Stalled), one warning", NULL, 1, "S:1/0", "S:unsched:90", "S100", "",
     PREV(REV_S100, "False", "Unschedulable", "False"), 0, 0, 0, "Pending", RT_STATE_FAILED, "Unschedulable",
     "Unschedulable: " SCHED_MSG " (unscheduled for 60 s or more)",
     "LatestRevisionReady=False/Unschedulable PredictorReady=False/Unschedulable RoutesReady=True/RoutesApplied",
     ISTIO_CHILDREN("$S", "1"), "Warning Unschedulable", 0},
    {"unschedulable for 90 s, already failed: quiet", NULL, 1, "S:1/0", "S:unsched:90", "S100", "",
     PREV(REV_S100, "False", "Unschedulable", "True"), 0, 0, 0, "Pending", RT_STATE_FAILED, "Unschedulable",
     "unscheduled for 60 s or more", NULL, ISTIO_CHILDREN("$S", "1"), "", 0},
    {"the image cannot be pulled: failed", NULL, 1, "S:1/0", "S:pull", "S100", "",
     PREV(REV_S100, "False", "ContainerCreating", "False"), 0, 0, 0, "Pending", RT_STATE_FAILED, "ImagePullBackOff",
     "ImagePullBackOff: Back-off pulling image \"my/triton:bad\" (container server)",
     "LatestRevisionReady=False/ImagePullBackOff PredictorReady=False/ImagePullBackOff RoutesReady=True/RoutesApplied",
     ISTIO_CHILDREN("$S", "1"), "Warning ImagePullBackOff", 0},
    {"ErrImagePull after ImagePullBackOff is the same failure: quiet", NULL, 1, "S:1/0", "S:errpull", "S100", "",
     PREV(REV_S100, "False", "ImagePullBackOff", "True"), 0, 0, 0, "Pending", RT_STATE_FAILED, "ImagePullBackOff",
     "ErrImagePull: ", NULL, ISTIO_CHILDREN("$S", "1"), "", 0},
    {"the model fetcher's image cannot be pulled: failed", NULL, 1, "S:1/0", "S:initpull", "S100", "", NULL, 0, 0, 0,
     "Pending", RT_STATE_FAILED, "ImagePullBackOff", "(container storage-initializer)", NULL, ISTIO_CHILDREN("$S", "1"),
     "Normal TrafficShifted; Warning ImagePullBackOff", 0},
    {"a crash loop: progressing with a warning", NULL, 1, "S:1/0", "S:crash", "S100", "",
     PREV(REV_S100, "False", "ContainerCreating", "False"), 0, 0, 0, "Pending", RT_STATE_PROGRESSING, "CrashLoopBackOff",
     "CrashLoopBackOff: back-off 40s restarting failed container", NULL, ISTIO_CHILDREN("$S", "1"),
     "Warning CrashLoopBackOff", 0},
    {"pods refused by a quota: the ReplicaSet's words", NULL, 1, "S:1/0:rf", "", "S100", "",
     PREV(REV_S100, "False", "Deploying", "False"), 0, 0, 0, "Pending", RT_STATE_PROGRESSING, "FailedCreate",
     "FailedCreate: pods \"m-x\" is forbidden: exceeded quota", NULL, ISTIO_CHILDREN("$S", "1"), "Warning FailedCreate",
     0},
    {"latest revision ready and routed: ready", NULL, 1, "S:1/1", "S:ready", "S100", "",
     PREV(REV_S100, "False", "ContainerCreating", "False"), 0, 0, 0, "Serving", RT_STATE_READY, "Serving", "$S 100%",
     "LatestRevisionReady=True/RolledOut PredictorReady=True/Available RoutesReady=True/RoutesApplied",
     ISTIO_CHILDREN("$S", "1"), "", 0},
    {"the HPA added pods that cannot be placed: the serving revision stays ready", ROLL_SPEC, 1, "S:3/1",
     "S:ready S:unsched:90 S:unsched:90", "S100", "", PREV(REV_S100, "True", "Serving", "False"), 0, 0, 0, "Serving",
     RT_STATE_READY, "Serving", "$S 100%",
     "LatestRevisionReady=True/RolledOut PredictorReady=True/Available RoutesReady=True/RoutesApplied",
     ISTIO_CHILDREN("$S", "3"), "", 0},
    {"recovered by itself from a failure: ready, no warning", NULL, 1, "S:1/1", "S:ready", "S100", "",
     PREV(REV_S100, "False", "Unschedulable", "True"), 0, 0, 0, "Serving", RT_STATE_READY, "Serving", "$S 100%", NULL,
     ISTIO_CHILDREN("$S", "1"), "", 0},
    {"canary routed with a mirror: ready", CANARY_SPEC, 1, "S:2/2 C:2/2", "S:ready C:ready", "S80C20", "",
     PREV2(REV_S80_C20, "True", "Serving", "False"), 0, 0, 0, "Serving", RT_STATE_READY, "Serving",
     "$S 80%, $C 20%; mirror 10% to $C",
     "LatestRevisionReady=True/RolledOut PredictorReady=True/Available RoutesReady=True/RoutesApplied", CANARY_CHILDREN,
     "", 0},
    {"canary starting: its share stays with the stable revision", CANARY_SPEC, 1, "S:2/2 C:2/0", "S:ready C:creating",
     "S100", "", PREV2(REV_S_C, "True", "Serving", "False"), 0, 0, 0, "Serving", RT_STATE_PROGRESSING,
     "ContainerCreating", "canary revision $C: 0/2 replicas available",
     "LatestRevisionReady=False/ContainerCreating PredictorReady=True/Available RoutesReady=False/CanaryNotReady",
     CANARY_CHILDREN, "", 0},
    {"canary rolled out, routes not yet at the intended weights", CANARY_SPEC, 1, "S:2/2 C:2/2", "S:ready C:ready",
     "S100", "", PREV2(REV_S_C, "False", "ContainerCreating", "False"), 0, 0, 0, "Serving", RT_STATE_PROGRESSING,
     "RoutesPending", "VirtualService m does not carry the intended routes yet ($S 80%, $C 20%)",
     "LatestRevisionReady=True/RolledOut PredictorReady=True/Available RoutesReady=False/RoutesPending",
     CANARY_CHILDREN, "Normal TrafficShifted", 0},
    {"new revision stuck while the old one serves: failed, never ready", ROLL_SPEC, 1, "S:2/0 O:2/2", "S:unsched:90 O:ready",
     "O100", "", PREV(REV_O100, "True", "Serving", "False"), 0, 0, 0, "Serving", RT_STATE_FAILED, "Unschedulable",
     "revision $S: 0/2 replicas available; Unschedulable: " SCHED_MSG " (unscheduled for 60 s or more); revision $O keeps serving",
     "LatestRevisionReady=False/Unschedulable PredictorReady=True/Available RoutesReady=False/RolloutInProgress",
     ISTIO_CHILDREN("$S", "2"), "Warning Unschedulable", 0},
    {"new revision starting while the old one serves: the old keeps its traffic", ROLL_SPEC, 1, "O:2/2", "O:ready", "O100", "",
     PREV(REV_O100, "True", "Serving", "False"), 0, 0, 0, "Serving", RT_STATE_PROGRESSING, "Deploying",
     "revision $S: 0/1 replicas available; its Deployment is being created; revision $O keeps serving",
     "LatestRevisionReady=False/Deploying PredictorReady=True/Available RoutesReady=False/RolloutInProgress",
     ISTIO_CHILDREN("$S", "2"), "Normal RevisionCreated", 0},
    {"new revision rolled out: the routes move, then the old revision goes", ROLL_SPEC, 1, "S:2/2 O:2/2", "S:ready O:ready",
     "O100", "", PREV(REV_O100 ",{\"name\":\"$S\",\"role\":\"stable\",\"readyReplicas\":0,\"trafficPercent\":0}", "False",
     "Unschedulable", "True"), 0, 0, 0, "Serving", RT_STATE_PROGRESSING, "RoutesPending", "($S 100%)",
     "LatestRevisionReady=True/RolledOut PredictorReady=True/Available RoutesReady=False/RoutesPending",
     ISTIO_CHILDREN("$S", "2") "; delete Deployment $O; delete Service $O", "Normal TrafficShifted; Normal RevisionRetired",
     0},
    {"without Istio: the Service pins the revision, routes ready", NULL, 0, "S:1/1", "S:ready", NULL, "S",
     PREV(REV_S100, "True", "Serving", "False"), 0, 0, 0, "Serving", RT_STATE_READY, "Serving",
     "Service m routes to revision $S (Istio not installed)",
     "LatestRevisionReady=True/RolledOut PredictorReady=True/Available RoutesReady=True/ServiceRoutes",
     PLAIN_CHILDREN("$S", "1"), "", 0},
    {"without Istio, a canary asked for: ready, the condition says what is missing", CANARY_SPEC, 0, "S:2/2 C:2/2",
     "S:ready C:ready", NULL, "S", PREV2(REV_S_C, "False", "ContainerCreating", "False"), 0, 0, 0, "Serving",
     RT_STATE_READY, "Serving", "traffic splitting needs Istio",
     "LatestRevisionReady=True/RolledOut PredictorReady=True/Available RoutesReady=True/IstioUnavailable",
     "apply Deployment $S/2; apply Service $S; apply Deployment $C/2; apply Service $C; apply Service m; "
     "apply HorizontalPodAutoscaler m",
     "Warning IstioUnavailable", 0},
    {"without Istio, the Service not yet pinned", NULL, 0, "S:1/1", "S:ready", NULL, "", PREV(REV_S100, "True", "Serving", "False"),
     0, 0, 0, "Serving", RT_STATE_PROGRESSING, "RoutesPending", "Service m does not select revision $S yet",
     "LatestRevisionReady=True/RolledOut PredictorReady=True/Available RoutesReady=False/RoutesPending",
     PLAIN_CHILDREN("$S", "1"), "", 0},
    {"a schedule window raises the floor: the event once, a look at the boundary", SCHEDULE_SPEC, 1, "S:3/3",
     "S:ready", "S100", "", PREV(REV_S100, "True", "Serving", "False"), 3, 0, 600, "Serving", RT_STATE_READY, "Serving",
     "$S 100%", NULL, ISTIO_CHILDREN("$S", "3"), "Normal ScheduledScaling", 601000},
    {"a name held by someone else: failed, nothing applied", NULL, 1, "S:1/1:other", "", NULL, NULL, NULL, 0, 0, 0,
     "Pending", RT_STATE_FAILED, "NameConflict", "Deployment $S exists and is not controlled by this InferenceService",
     NULL, "", "Warning NameConflict", 60000},
    {"an invalid spec: failed, children left alone", "{\"runtime\":\"triton\",\"replicas\":{\"min\":3,\"max\":2}}", 1,
     "O:1/1", "O:ready", "O100", "", PREV(REV_O100, "True", "Serving", "False"), 0, 0, 0, "Failed", RT_STATE_FAILED,
     "InvalidSpec", "spec.replicas: min 3 is above max 2", NULL, "", "Warning InvalidSpec", 0},
};

/* s with $S, $C and $O replaced. New. */
static char *expand(const char *s, const char *rs, const char *rc) {
  size_t cap = strlen(s) * 4 + 256, n = 0;
  char *out = malloc(cap);
  for (const char *p = s; *p; p++) {
    const char *with = NULL;
    if (p[0] == '$' && p[1] == 'S') with = rs;
    else if (p[0] == '$' && p[1] == 'C') with = rc;
    else if (p[0] == '$' && p[1] == 'O') with = OLD_REV;
    if (with) {
      n += (size_t)snprintf(out + n, cap - n, "%s", with);
      p++;
    } else {
      out[n++] = *p;
    }
    ck_assert(n < cap);
  }
  out[n] = '\0';
  return out;
}

static json_t *live_child(const json_t *isvc, const char *api, const char *kind, const char *name, int owned) {
  json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:i, s:{s:s}}}", "apiVersion", api, "kind", kind, "metadata", "name",
                        name, "namespace", "ns", "generation", 1, "labels", INFERENCE_LABEL, "m");
  if (owned) rt_set_controller_ref(o, isvc);
  else json_object_set_new(json_object_get(o, "metadata"), "ownerReferences",
                           json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "v1", "kind", "Other", "name", "x",
                                     "uid", "u9", "controller", 1));
  return o;
}

static json_t *cond(const char *type, const char *status, const char *reason, const char *message, int64_t since) {
  char at[32];
  time_format_rfc3339(since, at);
  json_t *c = json_pack("{s:s, s:s, s:s}", "type", type, "status", status, "lastTransitionTime", at);
  if (reason) json_object_set_new(c, "reason", json_string(reason));
  if (message) json_object_set_new(c, "message", json_string(message));
  return c;
}

static json_t *waiting(const char *container, const char *reason, const char *message) {
  json_t *w = json_pack("{s:s}", "reason", reason);
  if (message) json_object_set_new(w, "message", json_string(message));
  return json_pack("[{s:s, s:{s:o}}]", "name", container, "state", "waiting", w);
}

/* One pod of revision 'rev' in the state 'kind' (see plan_case.pods). */
static json_t *live_pod(const char *rev, const char *kind, int idx) {
  char name[128];
  snprintf(name, sizeof(name), "%s-p%d", rev, idx);
  json_t *pod = json_pack("{s:{s:s, s:s, s:{s:s, s:s}}, s:{}, s:{s:s, s:[]}}", "metadata", "name", name, "namespace",
                          "ns", "labels", INFERENCE_LABEL, "m", INFERENCE_REVISION_LABEL, rev, "spec", "status", "phase",
                          "Pending", "conditions");
  json_t *conds = js_get(pod, "status.conditions"), *st = json_object_get(pod, "status");
  if (strncmp(kind, "unsched:", 8) == 0) {
    json_array_append_new(conds, cond("PodScheduled", "False", "Unschedulable", SCHED_MSG, NOW - atoi(kind + 8)));
    return pod;
  }
  if (strcmp(kind, "scheduling") == 0) return pod;
  json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string("n1"));
  json_array_append_new(conds, cond("PodScheduled", "True", NULL, NULL, NOW - 100));
  if (strcmp(kind, "ready") == 0) {
    json_object_set_new(st, "phase", json_string("Running"));
    json_array_append_new(conds, cond("Ready", "True", NULL, NULL, NOW - 50));
  } else if (strcmp(kind, "notready") == 0) {
    json_object_set_new(st, "phase", json_string("Running"));
    json_array_append_new(conds, cond("Ready", "False", "ContainersNotReady", "containers with unready status: [server]",
                                      NOW - 50));
  } else if (strcmp(kind, "creating") == 0) {
    json_object_set_new(st, "containerStatuses", waiting("server", "ContainerCreating", NULL));
  } else if (strcmp(kind, "pull") == 0) {
    json_object_set_new(st, "containerStatuses",
                        waiting("server", "ImagePullBackOff", "Back-off pulling image \"my/triton:bad\""));
  } else if (strcmp(kind, "errpull") == 0) {
    json_object_set_new(st, "containerStatuses", waiting("server", "ErrImagePull", "rpc error: not found"));
  } else if (strcmp(kind, "initpull") == 0) {
    json_object_set_new(st, "initContainerStatuses", waiting("storage-initializer", "ErrImagePull", "not found"));
    json_object_set_new(st, "containerStatuses", waiting("server", "PodInitializing", NULL));
  } else if (strcmp(kind, "crash") == 0) {
    json_object_set_new(st, "phase", json_string("Running"));
    json_object_set_new(st, "containerStatuses",
                        waiting("server", "CrashLoopBackOff", "back-off 40s restarting failed container=server"));
  } else {
    ck_abort_msg("unknown pod kind %s", kind);
  }
  return pod;
}

static const char *rev_of(char key, const char *rs, const char *rc) {
  return key == 'S' ? rs : key == 'C' ? rc : OLD_REV;
}

typedef struct plan_world {
  json_t *isvc, *deps, *svcs, *pods, *vs;
  inference_spec spec;
  int spec_ok;
  char err[512];
  char rs[INFERENCE_REVISION_LEN], rc[INFERENCE_REVISION_LEN];
  isvc_observed in;
} plan_world;

/* Builds the observed world of case c. */
static void world_of(const plan_case *c, plan_world *w) {
  memset(w, 0, sizeof(*w));
  w->isvc = isvc_of(c->spec ? c->spec : BASE_SPEC);
  json_object_set_new(json_object_get(w->isvc, "metadata"), "generation", json_integer(1));
  /* The revision names of the spec (an invalid spec has none). */
  inference_spec names;
  char err[512];
  if (inference_spec_parse(w->isvc, &names, err, sizeof(err)) == 0) {
    json_t *t = inference_pod_template(w->isvc, &names.stable, &cfg, 1);
    inference_revision_name(w->isvc, t, w->rs);
    json_decref(t);
    if (names.has_canary) {
      t = inference_pod_template(w->isvc, &names.canary, &cfg, 1);
      inference_revision_name(w->isvc, t, w->rc);
      json_decref(t);
    }
    inference_spec_free(&names);
  }
  if (c->prev) {
    char *text = expand(c->prev, w->rs, w->rc);
    json_error_t e;
    json_t *prev = json_loads(text, 0, &e);
    ck_assert_msg(prev != NULL, "%s: %s", text, e.text);
    json_object_set_new(w->isvc, "status", prev);
    free(text);
  }
  w->deps = json_array();
  w->svcs = json_array();
  w->pods = json_array();
  char *list = strdup(c->deps), *save = NULL;
  for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    const char *rev = rev_of(tok[0], w->rs, w->rc);
    int replicas = atoi(tok + 2), available = atoi(strchr(tok, '/') + 1);
    int owned = strstr(tok, ":other") == NULL;
    json_t *d = live_child(w->isvc, "apps/v1", "Deployment", rev, owned);
    json_object_set_new(js_get(d, "metadata.labels"), INFERENCE_REVISION_LABEL, json_string(rev));
    json_object_set_new(d, "spec", json_pack("{s:i}", "replicas", replicas));
    json_t *st = json_pack("{s:i, s:i, s:i, s:i, s:i}", "observedGeneration", 1, "replicas", replicas, "updatedReplicas",
                           replicas, "readyReplicas", available, "availableReplicas", available);
    if (strstr(tok, ":rf"))
      json_object_set_new(st, "conditions", json_pack("[o]", cond("ReplicaFailure", "True", "FailedCreate",
                                                                  "pods \"m-x\" is forbidden: exceeded quota: q", NOW)));
    json_object_set_new(d, "status", st);
    json_array_append_new(w->deps, d);
    json_t *svc = live_child(w->isvc, "v1", "Service", rev, owned);
    json_object_set_new(js_get(svc, "metadata.labels"), INFERENCE_REVISION_LABEL, json_string(rev));
    json_array_append_new(w->svcs, svc);
  }
  free(list);
  list = strdup(c->pods);
  int idx = 0;
  for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
    json_array_append_new(w->pods, live_pod(rev_of(tok[0], w->rs, w->rc), tok + 2, idx++));
  free(list);
  w->spec_ok = inference_spec_parse(w->isvc, &w->spec, w->err, sizeof(w->err)) == 0;
  if (c->svc) {
    json_t *svc = inference_desired_service(w->isvc, &w->spec, "m", c->svc[0] ? rev_of(c->svc[0], w->rs, w->rc) : NULL);
    json_array_append_new(w->svcs, svc);
  }
  if (c->vs && w->spec_ok) {
    inference_route r[2];
    size_t n = 0;
    for (const char *p = c->vs; *p; n++) {
      snprintf(r[n].revision, sizeof(r[n].revision), "%s", rev_of(p[0], w->rs, w->rc));
      r[n].weight = (int)strtol(p + 1, (char **)&p, 10);
      r[n].role = "";
    }
    w->vs = inference_desired_virtual_service(w->isvc, &w->spec, &cfg, r, n, w->rc[0] ? w->rc : NULL);
  } else if (c->vs) {
    inference_route r = {OLD_REV, 100, ""};
    inference_spec base;
    json_t *b = isvc_of(BASE_SPEC);
    parse_ok(b, &base);
    w->vs = inference_desired_virtual_service(w->isvc, &base, &cfg, &r, 1, NULL);
    inference_spec_free(&base);
    json_decref(b);
  }
  isvc_observed *in = &w->in;
  in->isvc = w->isvc;
  in->spec = w->spec_ok ? &w->spec : NULL;
  in->spec_error = w->err;
  in->cfg = &cfg;
  in->istio = c->istio;
  in->floor = c->floor ? c->floor : w->spec_ok ? w->spec.stable.min_replicas : 1;
  in->window = c->floor ? c->window : -1;
  in->next_boundary = c->next ? NOW + c->next : INT64_MAX;
  in->deployments = w->deps;
  in->services = w->svcs;
  in->pods = w->pods;
  in->virtual_service = w->vs;
  in->now = NOW;
}

static void world_free(plan_world *w) {
  if (w->spec_ok) inference_spec_free(&w->spec);
  json_decref(w->isvc);
  json_decref(w->deps);
  json_decref(w->svcs);
  json_decref(w->pods);
  json_decref(w->vs);
}

static void actions_text(const rt_plan *p, char *out, size_t len) {
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < p->nactions && off < len; i++) {
    const rt_action *a = &p->actions[i];
    char replicas[16] = "";
    if (a->kind == RT_ACT_APPLY && strcmp(a->resource->kind, "Deployment") == 0)
      snprintf(replicas, sizeof(replicas), "/%lld", (long long)js_int(a->object, "spec.replicas", -1));
    off += (size_t)snprintf(out + off, len - off, "%s%s %s %s%s", i ? "; " : "",
                            a->kind == RT_ACT_APPLY ? "apply" : a->kind == RT_ACT_DELETE ? "delete" : "finalizer",
                            a->resource ? a->resource->kind : "", a->object ? js_name(a->object) : "", replicas);
  }
}

static void events_text(const rt_plan *p, char *out, size_t len) {
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < p->nevents && off < len; i++)
    off += (size_t)snprintf(out + off, len - off, "%s%s %s", i ? "; " : "", p->events[i].type, p->events[i].reason);
}

static void conds_text(const json_t *status, char *out, size_t len) {
  static const char *types[] = {"LatestRevisionReady", "PredictorReady", "RoutesReady"};
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < 3 && off < len; i++) {
    json_t *c = rt_condition_get(status, types[i]);
    off += (size_t)snprintf(out + off, len - off, "%s%s=%s/%s", i ? " " : "", types[i], c ? js_str(c, "status") : "-",
                            c ? js_str(c, "reason") : "-");
  }
}

static void expect_events_and_requeue(const rt_plan *p, const char *name, const char *events, int64_t requeue_ms) {
  char text[2048];
  events_text(p, text, sizeof(text));
  ck_assert_msg(strcmp(text, events) == 0, "%s: events\n  %s\nwant\n  %s", name, text, events);
  ck_assert_msg(p->requeue_after_ms == requeue_ms, "%s: requeue %lld, want %lld", name, (long long)p->requeue_after_ms,
                (long long)requeue_ms);
}

START_TEST(plan_states) {
  const plan_case *c = &plan_cases[_i];
  plan_world w;
  world_of(c, &w);
  rt_plan p;
  rt_plan_init(&p);
  isvc_plan(&w.in, &p);
  const json_t *st = p.status;
  ck_assert_msg(st != NULL, "%s: no status", c->name);
  char text[2048];
  char *want;
  ck_assert_msg(str_eq(js_str(st, "phase"), c->phase), "%s: phase %s", c->name, js_str(st, "phase"));
  ck_assert_msg(rt_status_state(st) == c->state, "%s: state %d, want %d", c->name, rt_status_state(st), c->state);
  ck_assert_int_eq(js_int(st, "observedGeneration", -1), 1);
  json_t *ready = rt_condition_get(st, "Ready");
  ck_assert_msg(str_eq(js_str(ready, "reason"), c->reason), "%s: reason %s", c->name, js_str(ready, "reason"));
  want = expand(c->message, w.rs, w.rc);
  ck_assert_msg(strstr(js_str(ready, "message"), want), "%s: message\n  %s\nlacks\n  %s", c->name,
                js_str(ready, "message"), want);
  free(want);
  /* Ready only when all three are True, whatever the case. */
  if (rt_condition_true(st, "Ready") && strcmp(c->phase, "Failed") != 0) {
    ck_assert(rt_condition_true(st, "LatestRevisionReady"));
    ck_assert(rt_condition_true(st, "PredictorReady"));
    ck_assert(rt_condition_true(st, "RoutesReady"));
  }
  if (c->conds) {
    conds_text(st, text, sizeof(text));
    ck_assert_msg(strcmp(text, c->conds) == 0, "%s: conditions\n  %s\nwant\n  %s", c->name, text, c->conds);
  }
  actions_text(&p, text, sizeof(text));
  want = expand(c->actions, w.rs, w.rc);
  ck_assert_msg(strcmp(text, want) == 0, "%s: actions\n  %s\nwant\n  %s", c->name, text, want);
  free(want);
  expect_events_and_requeue(&p, c->name, c->events, c->requeue_ms);
  rt_plan_free(&p);
  world_free(&w);
}
END_TEST

/* The plan is a function of its input: the same world twice gives the
 * same plan; and the status it wrote, handed back, repeats no event. */
START_TEST(plan_is_repeatable_and_quiet) {
  for (size_t i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++) {
    const plan_case *c = &plan_cases[i];
    plan_world w;
    world_of(c, &w);
    rt_plan a, b;
    rt_plan_init(&a);
    rt_plan_init(&b);
    isvc_plan(&w.in, &a);
    isvc_plan(&w.in, &b);
    ck_assert_msg(json_equal(a.status, b.status), "%s: two statuses", c->name);
    ck_assert_int_eq(a.nactions, b.nactions);
    ck_assert_int_eq(a.nevents, b.nevents);
    /* Next round, nothing else changed: the status of this one is the previous. */
    json_object_set(w.isvc, "status", a.status);
    rt_plan c2;
    rt_plan_init(&c2);
    isvc_plan(&w.in, &c2);
    char text[512];
    events_text(&c2, text, sizeof(text));
    ck_assert_msg(c2.nevents == 0, "%s: the second round emitted %s", c->name, text);
    ck_assert_msg(json_equal(a.status, c2.status), "%s: the status changed on the second round", c->name);
    rt_plan_free(&a);
    rt_plan_free(&b);
    rt_plan_free(&c2);
    world_free(&w);
  }
}
END_TEST

/* Being deleted, or in a namespace being deleted: nothing to do (garbage
 * collection and the namespace take everything; creations are refused). */
START_TEST(plan_leaves_a_deleted_service_alone) {
  for (int ns = 0; ns < 2; ns++) {
    plan_world w;
    world_of(&plan_cases[0], &w);
    if (ns) w.in.namespace_terminating = 1;
    else json_object_set_new(json_object_get(w.isvc, "metadata"), "deletionTimestamp", json_string("2023-11-14T22:13:20Z"));
    rt_plan p;
    rt_plan_init(&p);
    isvc_plan(&w.in, &p);
    ck_assert_ptr_null(p.status);
    ck_assert_int_eq(p.nactions, 0);
    ck_assert_int_eq(p.nevents, 0);
    ck_assert_int_eq(p.requeue_after_ms, 0);
    rt_plan_free(&p);
    world_free(&w);
  }
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

/* The manager's "inference" section: defaults, each setting, each refusal
 * naming its setting. */
static const struct {
  const char *json;
  const char *image, *domain; /* in effect, or NULL when refused */
  const char *err_part;
} config_cases[] = {
    {"null", INFERENCE_DEFAULT_STORAGE_INITIALIZER, "cluster.local", NULL},
    {"{}", INFERENCE_DEFAULT_STORAGE_INITIALIZER, "cluster.local", NULL},
    {"{\"storageInitializerImage\":\"r.example.com/init:1\",\"clusterDomain\":\"corp.internal\"}",
     "r.example.com/init:1", "corp.internal", NULL},
    {"[]", NULL, NULL, "inference: want a mapping"},
    {"{\"storageInitializer\":\"x\"}", NULL, NULL, "inference.storageInitializer: unknown setting"},
    {"{\"storageInitializerImage\":\"\"}", NULL, NULL, "inference.storageInitializerImage"},
    {"{\"storageInitializerImage\":\"a b\"}", NULL, NULL, "inference.storageInitializerImage"},
    {"{\"storageInitializerImage\":7}", NULL, NULL, "inference.storageInitializerImage"},
    {"{\"clusterDomain\":\"Cluster.Local\"}", NULL, NULL, "inference.clusterDomain"},
    {"{\"clusterDomain\":\"-a.b\"}", NULL, NULL, "inference.clusterDomain"},
    {"{\"clusterDomain\":\"a..b\"}", NULL, NULL, "inference.clusterDomain"},
};

START_TEST(manager_settings) {
  json_t *j = json_loads(config_cases[_i].json, JSON_DECODE_ANY, NULL);
  inference_config c;
  char err[256] = "";
  int rc = inference_config_parse(j, &c, err, sizeof(err));
  if (config_cases[_i].image) {
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(c.storage_initializer, config_cases[_i].image);
    ck_assert_str_eq(c.cluster_domain, config_cases[_i].domain);
  } else {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_msg(strstr(err, config_cases[_i].err_part), "%s: got \"%s\"", config_cases[_i].json, err);
  }
  json_decref(j);
}
END_TEST

/* ------------------------------------------------------------ placement */

/* One cluster of the project as placement_candidates_gather would see it. */
typedef struct place_cluster {
  const char *name;
  int ready;
  const char *message;
  int serves;
  int64_t cpu, mem, gpu; /* free: milli-cores, bytes, milli-cards */
} place_cluster;

enum {
  P_FINALIZER = 1,  /* holds cubit.dev/remote-children */
  P_DELETING = 2,   /* being deleted since deleted_ago_s */
  P_UNLABELLED = 4, /* the member's children carry no owner-uid label (someone else's) */
};

typedef struct isvc_place_case {
  const char *name;
  const char *spec;     /* JSON */
  const char *placed;   /* status.cluster before, NULL none */
  const char *deps, *pods, *svc, *prev; /* as plan_case, in the cluster placed on */
  int flags;
  int64_t deleted_ago_s;
  place_cluster clusters[3];
  /* expected; phase NULL: no status written */
  const char *phase;
  rt_state state;
  const char *reason;   /* Ready's */
  const char *message;  /* a part of Ready's message */
  const char *cluster;  /* status.cluster after ("" none) */
  const char *reachable; /* ClusterReachable's status ("" none) */
  const char *actions;  /* "apply Deployment $S in east; finalizer+ cubit.dev/remote-children" */
  const char *events;
  int64_t requeue_ms;
} isvc_place_case;

#define PIN_EAST "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1\"},\"cluster\":\"east\"}"
#define PIN_WEST "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1\"},\"cluster\":\"west\"}"
#define TWO_CPUS "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1\"},\"replicas\":{\"min\":2,\"max\":4}}"
#define GPUS_MOST_FREE                                                                                             \
  "{\"runtime\":\"triton\",\"resources\":{\"gpu\":\"1\"},\"placement\":{\"policy\":\"MostFreeGPUs\"}}"
#define SPLIT_SPEC                                                                                                 \
  "{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"1\"},\"canary\":{\"trafficPercent\":20,\"image\":\"my/t:2\"}}"
#define LOCAL_EAST(local_cpu, east_cpu, east_ready, east_serves)                                                   \
  {{"local", 1, NULL, 1, local_cpu, 1LL << 34, 0}, {"east", east_ready, "cannot reach the API server", east_serves, \
                                                   east_cpu, 1LL << 34, 4000}}
#define IN_EAST(rev, n) "apply Deployment " rev "/" n " in east; apply Service " rev " in east; apply Service m in east; " \
                        "apply HorizontalPodAutoscaler m in east"
#define PREV_PLACED "{\"observedGeneration\":1,\"cluster\":\"east\",\"revisions\":[" REV_S100 "],"                  \
                    "\"autoscaling\":{\"minReplicas\":1},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","    \
                    "\"reason\":\"Serving\",\"message\":\"m\"},{\"type\":\"ClusterReachable\",\"status\":\"True\","  \
                    "\"reason\":\"ClusterReachable\",\"message\":\"cluster east answers\"}]}"

static const isvc_place_case place_cases[] = {
    {"pinned to the member: the choice is written alone", PIN_EAST, NULL, "", "", NULL, NULL, 0, 0,
     LOCAL_EAST(8000, 8000, 1, 1), "Pending", RT_STATE_PROGRESSING, "Placed", "placed on cluster east (spec.cluster)",
     "east", "", "", "Normal Placed", 0},
    {"pinned to a cluster the project does not list", PIN_WEST, NULL, "", "", NULL, NULL, 0, 0,
     LOCAL_EAST(8000, 8000, 1, 1), "Pending", RT_STATE_FAILED, "ClusterNotAllowed",
     "spec.cluster: west is not one of team-a's clusters", "", "", "", "Warning ClusterNotAllowed", 0},
    {"Ordered: the hub lacks room for every replica, the member has it", TWO_CPUS, NULL, "", "", NULL, NULL, 0, 0,
     LOCAL_EAST(1500, 8000, 1, 1), "Pending", RT_STATE_PROGRESSING, "Placed", "placed on cluster east (policy Ordered)",
     "east", "", "", "Normal Placed", 0},
    {"Ordered: the hub first when it has room", TWO_CPUS, NULL, "", "", NULL, NULL, 0, 0, LOCAL_EAST(4000, 8000, 1, 1),
     "Pending", RT_STATE_PROGRESSING, "Placed", "placed on cluster local (policy Ordered)", "local", "", "",
     "Normal Placed", 0},
    {"MostFreeGPUs: the member with the most free cards", GPUS_MOST_FREE, NULL, "", "", NULL, NULL, 0, 0,
     {{"local", 1, NULL, 1, 8000, 1LL << 34, 1000}, {"east", 1, NULL, 1, 8000, 1LL << 34, 4000}}, "Pending",
     RT_STATE_PROGRESSING, "Placed", "placed on cluster east (policy MostFreeGPUs)", "east", "", "", "Normal Placed", 0},
    {"no cluster has room: waits, looked at again", TWO_CPUS, NULL, "", "", NULL, NULL, 0, 0,
     LOCAL_EAST(1000, 1000, 1, 1), "Pending", RT_STATE_PROGRESSING, "NoClusterFits",
     "no cluster of team-a has room for every replica (cpu 2000m", "", "", "", "Warning NoClusterFits", 15000},
    {"a split needs Istio: a member without it is no candidate", SPLIT_SPEC, NULL, "", "", NULL, NULL, 0, 0,
     {{"east", 1, NULL, 0, 8000, 1LL << 34, 0}}, "Pending", RT_STATE_PROGRESSING, "NoClusterFits",
     "east: does not serve", "", "", "", "Warning NoClusterFits", 15000},
    {"placed on the member: the finalizer first, alone", BASE_SPEC, "east", "", "", NULL, NULL, 0, 0,
     LOCAL_EAST(8000, 8000, 1, 1), NULL, 0, NULL, NULL, NULL, NULL, "finalizer+ cubit.dev/remote-children", "", 0},
    {"placed on the member: its children are made there", BASE_SPEC, "east", "", "", NULL, NULL, P_FINALIZER, 0,
     LOCAL_EAST(8000, 8000, 1, 1), "Pending", RT_STATE_PROGRESSING, "Deploying",
     "revision $S: 0/1 replicas available; its Deployment is being created", "east", "True", IN_EAST("$S", "1"),
     "Normal RevisionCreated; Normal TrafficShifted", 0},
    {"the member's Deployment and pods ready: Serving on the hub", BASE_SPEC, "east", "S:1/1", "S:ready", "S",
     PREV_PLACED, P_FINALIZER, 0, LOCAL_EAST(8000, 8000, 1, 1), "Serving", RT_STATE_READY, "Serving",
     "Service m routes to revision $S", "east", "True", IN_EAST("$S", "1"), "", 0},
    {"the member's pods wait: the member's words on the hub", BASE_SPEC, "east", "S:1/0", "S:pull", "S", PREV_PLACED,
     P_FINALIZER, 0, LOCAL_EAST(8000, 8000, 1, 1), "Pending", RT_STATE_FAILED, "ImagePullBackOff",
     "Back-off pulling image", "east", "True", IN_EAST("$S", "1"), "Warning ImagePullBackOff", 0},
    {"a namesake in the member not labelled for it is a conflict", BASE_SPEC, "east", "S:1/1", "S:ready", "S",
     PREV_PLACED, P_FINALIZER | P_UNLABELLED, 0, LOCAL_EAST(8000, 8000, 1, 1), "Pending", RT_STATE_FAILED,
     "NameConflict", "is not controlled by this InferenceService", "east", "True", "", "Warning NameConflict", 60000},
    {"the member does not answer: kept as last seen, ClusterReachable=False", BASE_SPEC, "east", "S:1/1", "S:ready",
     "S", PREV_PLACED, P_FINALIZER, 0, LOCAL_EAST(8000, 8000, 0, 1), "", RT_STATE_READY, "Serving", "m", "east",
     "False", "", "Warning ClusterUnreachable", 5000},
    {"placed on a Cluster that is gone", BASE_SPEC, "east", "", "", NULL, PREV_PLACED, P_FINALIZER, 0,
     {{"local", 1, NULL, 1, 8000, 1LL << 34, 0}, {"east", 0, "no such Cluster", 0, 0, 0, 0}}, "", RT_STATE_READY,
     "Serving", "m", "east", "False", "", "Warning ClusterUnreachable", 5000},
    {"placed on the hub: children in the hub, owned as ever", BASE_SPEC, "local", "", "", NULL, NULL, 0, 0,
     LOCAL_EAST(8000, 8000, 1, 1), "Pending", RT_STATE_PROGRESSING, "Deploying", "its Deployment is being created",
     "local", "",
     "apply Deployment $S/1; apply Service $S; apply Service m; apply HorizontalPodAutoscaler m",
     "Normal RevisionCreated; Normal TrafficShifted", 0},
    {"deleted: the member's children are deleted there", BASE_SPEC, "east", "S:1/1", "S:ready", "S", PREV_PLACED,
     P_FINALIZER | P_DELETING, 10, LOCAL_EAST(8000, 8000, 1, 1), NULL, 0, NULL, NULL, NULL, NULL,
     "delete Deployment $S in east; delete Service $S in east; delete Service m in east", "", 1000},
    {"deleted: nothing left in the member, the finalizer goes", BASE_SPEC, "east", "", "", NULL, PREV_PLACED,
     P_FINALIZER | P_DELETING, 10, LOCAL_EAST(8000, 8000, 1, 1), NULL, 0, NULL, NULL, NULL, NULL,
     "finalizer- cubit.dev/remote-children", "", 0},
    {"deleted while the member is away: waits for it", BASE_SPEC, "east", "S:1/1", "S:ready", "S", PREV_PLACED,
     P_FINALIZER | P_DELETING, 10, LOCAL_EAST(8000, 8000, 0, 1), NULL, 0, NULL, NULL, NULL, NULL, "", "", 5000},
    {"deleted, the member away past the timeout: given up with a Warning", BASE_SPEC, "east", "S:1/1", "S:ready", "S",
     PREV_PLACED, P_FINALIZER | P_DELETING, 400, LOCAL_EAST(8000, 8000, 0, 1), NULL, 0, NULL, NULL, NULL, NULL,
     "finalizer- cubit.dev/remote-children", "Warning RemoteCleanupAbandoned", 0},
};

/* Actions with where they go and the finalizer changes. */
static void place_actions_text(const rt_plan *p, char *out, size_t len) {
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < p->nactions && off < len; i++) {
    const rt_action *a = &p->actions[i];
    int n;
    if (a->kind == RT_ACT_ADD_FINALIZER || a->kind == RT_ACT_REMOVE_FINALIZER) {
      n = snprintf(out + off, len - off, "%sfinalizer%c %s", i ? "; " : "", a->kind == RT_ACT_ADD_FINALIZER ? '+' : '-',
                   a->finalizer);
    } else {
      char replicas[16] = "";
      if (a->kind == RT_ACT_APPLY && strcmp(a->resource->kind, "Deployment") == 0)
        snprintf(replicas, sizeof(replicas), "/%lld", (long long)js_int(a->object, "spec.replicas", -1));
      n = snprintf(out + off, len - off, "%s%s %s %s%s%s%s", i ? "; " : "", a->kind == RT_ACT_APPLY ? "apply" : "delete",
                   a->resource->kind, js_name(a->object), replicas, a->cluster ? " in " : "",
                   a->cluster ? a->cluster : "");
    }
    off += n > 0 ? (size_t)n : 0;
  }
}

/* The live children as Cubit applied them in a member: no ownerReference,
 * the owner-uid label (unless the case says they are someone else's). */
static void in_member(json_t *list, int labelled) {
  size_t i;
  json_t *o;
  json_array_foreach(list, i, o) {
    json_object_del(json_object_get(o, "metadata"), "ownerReferences");
    if (labelled) json_object_set_new(js_ensure_obj(o, "metadata.labels"), PLACEMENT_OWNER_UID_LABEL, json_string("u1"));
  }
}

/* A place case's children in the member (labelled, unless the case says not)
 * and its clusters as the plan's views (views holds 3). */
static void place_case_world(const isvc_place_case *c, plan_world *w, placement_view *views) {
  if (c->placed && strcmp(c->placed, "local") != 0) {
    in_member(w->deps, !(c->flags & P_UNLABELLED));
    in_member(w->svcs, !(c->flags & P_UNLABELLED));
  }
  size_t n = 0;
  for (; n < 3 && c->clusters[n].name; n++) {
    const place_cluster *k = &c->clusters[n];
    views[n] = (placement_view){.name = k->name, .ready = k->ready, .message = k->message, .serves = k->serves,
                                .free_cpu_milli = k->cpu, .free_memory_bytes = k->mem, .free_gpu_milli = k->gpu};
  }
  w->in.clusters = views;
  w->in.nclusters = n;
  w->in.project_name = "team-a";
}

START_TEST(place_table) {
  const isvc_place_case *c = &place_cases[_i];
  plan_case pc = {.name = c->name, .spec = c->spec, .deps = c->deps, .pods = c->pods, .svc = c->svc, .prev = c->prev};
  plan_world w;
  world_of(&pc, &w);
  ck_assert_msg(w.spec_ok, "%s: %s", c->name, w.err);
  json_t *meta = json_object_get(w.isvc, "metadata");
  if (c->placed) json_object_set_new(js_ensure_obj(w.isvc, "status"), "cluster", json_string(c->placed));
  if (c->flags & P_FINALIZER) json_object_set_new(meta, "finalizers", json_pack("[s]", PLACEMENT_REMOTE_FINALIZER));
  if (c->flags & P_DELETING) {
    char when[32];
    time_format_rfc3339(NOW - c->deleted_ago_s, when);
    json_object_set_new(meta, "deletionTimestamp", json_string(when));
  }
  placement_view views[3];
  place_case_world(c, &w, views);
  rt_plan p;
  rt_plan_init(&p);
  isvc_plan(&w.in, &p);
  const json_t *st = p.status;
  char text[2048], *want;
  if (c->phase == NULL) {
    ck_assert_msg(st == NULL, "%s: a status is written: %s", c->name, js_dump(st));
  } else {
    ck_assert_msg(st != NULL, "%s: no status", c->name);
    if (c->phase[0])
      ck_assert_msg(str_eq(js_str(st, "phase"), c->phase), "%s: phase %s, want %s", c->name, js_str(st, "phase"),
                    c->phase);
    ck_assert_msg(rt_status_state(st) == c->state, "%s: state %d, want %d", c->name, rt_status_state(st), c->state);
    const json_t *ready = rt_condition_get(st, "Ready");
    ck_assert_msg(str_eq(js_str(ready, "reason"), c->reason), "%s: reason %s, want %s", c->name,
                  js_str(ready, "reason"), c->reason);
    want = expand(c->message, w.rs, w.rc);
    ck_assert_msg(strstr(js_str(ready, "message"), want), "%s: message\n  %s\nlacks\n  %s", c->name,
                  js_str(ready, "message"), want);
    free(want);
    const char *cluster = js_str(st, "cluster");
    ck_assert_msg(strcmp(cluster ? cluster : "", c->cluster) == 0, "%s: status.cluster %s, want %s", c->name, cluster,
                  c->cluster);
    const char *reach = js_str(rt_condition_get(st, "ClusterReachable"), "status");
    ck_assert_msg(strcmp(reach ? reach : "", c->reachable) == 0, "%s: ClusterReachable %s, want %s", c->name, reach,
                  c->reachable);
    if (strcmp(c->reason, "Placed") == 0 || strcmp(c->reason, "NoClusterFits") == 0)
      ck_assert_str_eq(js_str(rt_condition_get(st, "Placed"), "status"), c->cluster[0] ? "True" : "False");
  }
  place_actions_text(&p, text, sizeof(text));
  want = expand(c->actions, w.rs, w.rc);
  ck_assert_msg(strcmp(text, want) == 0, "%s: actions\n  %s\nwant\n  %s", c->name, text, want);
  free(want);
  for (size_t i = 0; i < p.nactions; i++) {
    const rt_action *a = &p.actions[i];
    if (a->kind != RT_ACT_APPLY || a->cluster == NULL) continue;
    /* In a member: labels back to the hub object, no ownerReference. */
    ck_assert_ptr_null(js_get(a->object, "metadata.ownerReferences"));
    const json_t *labels = js_get(a->object, "metadata.labels");
    ck_assert_str_eq(json_string_value(json_object_get(labels, PLACEMENT_OWNER_UID_LABEL)), "u1");
    ck_assert_str_eq(json_string_value(json_object_get(labels, INFERENCE_LABEL)), "m");
  }
  expect_events_and_requeue(&p, c->name, c->events, c->requeue_ms);
  rt_plan_free(&p);
  world_free(&w);
}
END_TEST

/* Planned again on the status it wrote, nothing else changed, a placement
 * row emits nothing: no event twice for an unchanged state. (A row that
 * places goes on to the next step: the finalizer, or the hub's children.) */
START_TEST(place_is_quiet_the_second_time) {
  const isvc_place_case *c = &place_cases[_i];
  if (c->phase == NULL || strcmp(c->reason, "Placed") == 0) return;
  plan_case pc = {.name = c->name, .spec = c->spec, .deps = c->deps, .pods = c->pods, .svc = c->svc, .prev = c->prev};
  plan_world w;
  world_of(&pc, &w);
  if (c->placed) json_object_set_new(js_ensure_obj(w.isvc, "status"), "cluster", json_string(c->placed));
  if (c->flags & P_FINALIZER)
    json_object_set_new(json_object_get(w.isvc, "metadata"), "finalizers", json_pack("[s]", PLACEMENT_REMOTE_FINALIZER));
  placement_view views[3];
  place_case_world(c, &w, views);
  rt_plan first, second;
  rt_plan_init(&first);
  isvc_plan(&w.in, &first);
  json_object_set(w.isvc, "status", first.status);
  rt_plan_init(&second);
  isvc_plan(&w.in, &second);
  char text[512];
  events_text(&second, text, sizeof(text));
  ck_assert_msg(second.nevents == 0, "%s: the second round emitted %s", c->name, text);
  rt_plan_free(&first);
  rt_plan_free(&second);
  world_free(&w);
}
END_TEST

/* A service placed on a member relays the member's Warnings about its
 * Deployments and pods there once each, from every exit that writes a
 * status (plan_status, a name conflict, an invalid spec): the second plan
 * over the status the first wrote relays nothing again, and while the
 * member is away nothing is relayed and what was relayed stays in
 * status.memberWarnings. */
#define MEMBER_MOUNT_WARNING                                                                                        \
  "[{\"metadata\":{\"name\":\"m-0.1\",\"namespace\":\"team-a\"},\"type\":\"Warning\",\"reason\":\"FailedMount\","     \
  "\"message\":\"secret \\\"weights\\\" not found\",\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"m-0\","            \
  "\"uid\":\"pod-uid\"},\"lastTimestamp\":\"2026-11-22T07:59:00Z\"}]"

static const struct {
  const char *name;
  const char *deps, *pods, *svc;
  int unlabelled;   /* the member's namesakes are someone else's: a name conflict */
  int invalid_spec; /* the spec reads as invalid */
} relay_exits[] = {
    {.name = "plan_status: the pods wait", .deps = "S:1/0", .pods = "S:pull", .svc = "S"},
    {.name = "plan_status: serving", .deps = "S:1/1", .pods = "S:ready", .svc = "S"},
    {.name = "a name conflict", .deps = "S:1/1", .pods = "S:ready", .svc = "S", .unlabelled = 1},
    {.name = "an invalid spec", .deps = "S:1/1", .pods = "S:ready", .svc = "S", .invalid_spec = 1},
};

/* How many times p relays the member's FailedMount (in the member's words). */
static size_t relayed(const rt_plan *p, const char *name) {
  size_t n = 0;
  for (size_t i = 0; i < p->nevents; i++) {
    if (strcmp(p->events[i].reason, "FailedMount") != 0) continue;
    ck_assert_msg(strcmp(p->events[i].type, "Warning") == 0 &&
                      strcmp(p->events[i].message, "cluster east: Pod m-0: secret \"weights\" not found") == 0,
                  "%s: relayed %s %s: %s", name, p->events[i].type, p->events[i].reason, p->events[i].message);
    n++;
  }
  return n;
}

static void kept_warning(const json_t *status, const char *name) {
  const json_t *w = json_array_get(json_object_get(status, "memberWarnings"), 0);
  ck_assert_msg(str_eq(js_str(w, "object"), "Pod/m-0") && str_eq(js_str(w, "reason"), "FailedMount") &&
                    json_array_size(json_object_get(status, "memberWarnings")) == 1,
                "%s: memberWarnings %s", name, js_dump(json_object_get(status, "memberWarnings")));
}

START_TEST(place_relays_member_warnings) {
  const char *name = relay_exits[_i].name;
  plan_case pc = {.name = name, .spec = BASE_SPEC, .deps = relay_exits[_i].deps, .pods = relay_exits[_i].pods,
                  .svc = relay_exits[_i].svc, .prev = PREV_PLACED};
  plan_world w;
  world_of(&pc, &w);
  json_object_set_new(json_object_get(w.isvc, "metadata"), "finalizers", json_pack("[s]", PLACEMENT_REMOTE_FINALIZER));
  isvc_place_case c = {.placed = "east", .flags = relay_exits[_i].unlabelled ? P_UNLABELLED : 0,
                       .clusters = LOCAL_EAST(8000, 8000, 1, 1)};
  placement_view views[3];
  place_case_world(&c, &w, views);
  if (relay_exits[_i].invalid_spec) {
    w.in.spec = NULL;
    w.in.spec_error = "spec.runtime: unknown";
  }
  json_t *events = json_loads(MEMBER_MOUNT_WARNING, 0, NULL);
  ck_assert_ptr_nonnull(events);
  json_t *ev[1] = {json_array_get(events, 0)};
  w.in.member_events = ev;
  w.in.nmember_events = 1;

  rt_plan first, second, away;
  rt_plan_init(&first);
  isvc_plan(&w.in, &first);
  ck_assert_msg(first.status != NULL, "%s: no status", name);
  ck_assert_msg(relayed(&first, name) == 1, "%s: relayed %zu times, want once", name, relayed(&first, name));
  kept_warning(first.status, name);
  /* Again over the status it wrote (a requeue, a restarted manager). */
  json_object_set(w.isvc, "status", first.status);
  rt_plan_init(&second);
  isvc_plan(&w.in, &second);
  ck_assert_msg(relayed(&second, name) == 0, "%s: relayed again", name);
  kept_warning(second.status, name);
  /* The member away: its Events are as last seen; nothing relayed, the field kept. */
  views[1].ready = 0;
  rt_plan_init(&away);
  isvc_plan(&w.in, &away);
  ck_assert_msg(relayed(&away, name) == 0, "%s: relayed while the member is away", name);
  if (away.status) kept_warning(away.status, name);
  rt_plan_free(&first);
  rt_plan_free(&second);
  rt_plan_free(&away);
  json_decref(events);
  world_free(&w);
}
END_TEST

/* A placed service's URL is the member's in-cluster address; the demand
 * is every replica of the floor and the canary's minimum. */
START_TEST(place_demand_and_url) {
  json_t *isvc = isvc_of("{\"runtime\":\"triton\",\"resources\":{\"cpu\":\"500m\",\"memory\":\"1Gi\",\"gpu\":\"1(A100)\"},"
                         "\"replicas\":{\"min\":2,\"max\":4},\"canary\":{\"trafficPercent\":10,\"image\":\"my/t:2\","
                         "\"replicas\":{\"min\":1,\"max\":1}}}");
  inference_spec s;
  parse_ok(isvc, &s);
  placement_demand d;
  isvc_demand_of(&s, 3, &d); /* a schedule window's floor of 3 */
  ck_assert_int_eq(d.cpu_milli, 2000);
  ck_assert_int_eq(d.memory_bytes, 4LL << 30);
  ck_assert_int_eq(d.gpu_milli, 4000);
  ck_assert_str_eq(d.model, "A100");
  ck_assert(isvc_wants_istio(&s));
  inference_spec_free(&s);
  json_decref(isvc);
  plan_case pc = {.name = "url", .deps = "S:1/1", .pods = "S:ready", .svc = "S", .prev = PREV_PLACED};
  plan_world w;
  world_of(&pc, &w);
  json_object_set_new(json_object_get(w.isvc, "metadata"), "finalizers", json_pack("[s]", PLACEMENT_REMOTE_FINALIZER));
  in_member(w.deps, 1);
  in_member(w.svcs, 1);
  placement_view east = {.name = "east", .ready = 1, .serves = 1, .free_cpu_milli = 8000, .free_memory_bytes = 1LL << 34};
  w.in.clusters = &east;
  w.in.nclusters = 1;
  ck_assert_str_eq(isvc_cluster_of(&w.in), "east");
  rt_plan p;
  rt_plan_init(&p);
  isvc_plan(&w.in, &p);
  ck_assert_str_eq(js_str(p.status, "url"), "http://m.ns.svc.cluster.local");
  ck_assert_str_eq(js_str(p.status, "cluster"), "east");
  rt_plan_free(&p);
  world_free(&w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("inferenceservice");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, golden_children, 0, sizeof(golden_cases) / sizeof(golden_cases[0]));
  tcase_add_test(tc, revision_hashing);
  tcase_add_test(tc, gpu_translated_outside_project);
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
  tcase_add_loop_test(tc, manager_settings, 0, sizeof(config_cases) / sizeof(config_cases[0]));
  suite_add_tcase(s, tc);
  TCase *plan = tcase_create("plan");
  tcase_add_loop_test(plan, plan_states, 0, sizeof(plan_cases) / sizeof(plan_cases[0]));
  tcase_add_test(plan, plan_is_repeatable_and_quiet);
  tcase_add_test(plan, plan_leaves_a_deleted_service_alone);
  tcase_add_loop_test(plan, place_table, 0, sizeof(place_cases) / sizeof(place_cases[0]));
  tcase_add_loop_test(plan, place_is_quiet_the_second_time, 0, sizeof(place_cases) / sizeof(place_cases[0]));
  tcase_add_loop_test(plan, place_relays_member_warnings, 0, sizeof(relay_exits) / sizeof(relay_exits[0]));
  tcase_add_test(plan, place_demand_and_url);
  suite_add_tcase(s, plan);
  return testutil_run(s);
}
