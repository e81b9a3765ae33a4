/* controllers/notebook and api/notebook: the desired children of each IDE
 * against golden files, the spec and settings parsers, the activity parsers
 * on responses recorded from the real servers (Jupyter Server 2.21.1,
 * code-server 4.96.4; RStudio's from Posit's documented format), the
 * culling and lease clocks, what a pod says, the plan over every state a
 * notebook goes through, and the validating webhook.
 *
 * CUBIT_UPDATE_GOLDEN=1 rewrites the golden files (review the diff). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/notebook/notebook.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"
#include "webhooks/validate/notebook.h"

static json_t *load(const char *json) {
  json_error_t e;
  json_t *o = json_loads(json, 0, &e);
  ck_assert_msg(o != NULL, "fixture JSON: %s at %d: %s", e.text, e.position, json);
  return o;
}

static char *read_fixture(const char *name, size_t *len) {
  char rel[256];
  snprintf(rel, sizeof(rel), "test/unit/fixtures/notebook/%s", name);
  char *path = testutil_src_path(rel);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  free(path);
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

static gpu_profile *profile(const char *json) {
  json_t *j = load(json);
  gpu_profile *p = NULL;
  char err[256];
  ck_assert_msg(gpu_profile_parse(j, &p, err, sizeof(err)) == 0, "%s", err);
  json_decref(j);
  return p;
}

#define HAMI_PROFILE \
  "{\"system\":\"hami\",\"modelLabel\":\"nvidia.com/gpu.product\",\"models\":{\"A100\":{\"memory\":\"80Gi\"}}}"

/* ---------------------------------------------------------------- golden */

typedef struct golden_case {
  const char *name;  /* golden-<name>.json */
  const char *notebook;
  int in_project;
} golden_case;

static const golden_case golden_cases[] = {
    {"jupyter",
     "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"lab\",\"namespace\":\"team-a\","
     "\"uid\":\"u-1\",\"annotations\":{\"cubit.dev/user\":\"alice\"}},\"spec\":{\"ide\":\"jupyter\","
     "\"resources\":{\"cpu\":\"1500m\",\"memory\":\"8192Mi\",\"gpu\":\"1\"},"
     "\"volumes\":{\"workspace\":{\"size\":\"20Gi\"},\"claims\":[{\"claimName\":\"datasets\",\"mountPath\":\"/data\","
     "\"readOnly\":true},{\"claimName\":\"scratch\",\"mountPath\":\"/scratch\",\"subPath\":\"alice\"}]},"
     "\"env\":[{\"name\":\"PIP_INDEX_URL\",\"value\":\"https://pypi.example/simple\"}],"
     "\"nodeSelector\":{\"pool\":\"interactive\"},\"tolerations\":[{\"key\":\"interactive\",\"operator\":\"Exists\"}],"
     "\"culling\":{\"idleSeconds\":3600}}}",
     1},
    {"vscode",
     "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"code\",\"namespace\":\"solo\","
     "\"uid\":\"u-2\"},\"spec\":{\"ide\":\"vscode\",\"image\":\"registry.example.com/ide/code-server:4.96.4-cuda\","
     "\"resources\":{\"cpu\":2,\"memory\":\"4Gi\",\"gpu\":\"0.5(A100)\"},"
     "\"podTemplate\":{\"metadata\":{\"annotations\":{\"team\":\"nlp\"}},\"spec\":{\"serviceAccountName\":\"ide\","
     "\"imagePullSecrets\":[{\"name\":\"registry\"}],\"hostAliases\":[{\"ip\":\"10.0.0.5\",\"hostnames\":[\"git.local\"]}],"
     "\"containers\":[{\"name\":\"notebook\",\"envFrom\":[{\"configMapRef\":{\"name\":\"proxy\"}}]}]}}}}",
     0},
    {"rstudio",
     "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"stats\",\"namespace\":\"team-b\","
     "\"uid\":\"u-3\"},\"spec\":{\"ide\":\"rstudio\",\"stopped\":true,"
     "\"volumes\":{\"workspace\":{\"storageClassName\":\"fast\",\"mountPath\":\"/work\"}},"
     "\"lease\":{\"ttlSeconds\":86400}}}",
     1},
};

static json_t *children_of(const golden_case *c, const notebook_config *cfg) {
  json_t *nb = load(c->notebook);
  notebook_spec spec;
  char err[512];
  ck_assert_msg(notebook_spec_parse(nb, &spec, err, sizeof(err)) == 0, "%s: %s", c->name, err);
  json_t *out = json_object();
  json_t *pvc = notebook_desired_pvc(nb, &spec);
  json_object_set_new(out, "persistentVolumeClaim", pvc ? pvc : json_null());
  json_object_set_new(out, "service", notebook_desired_service(nb, &spec));
  json_t *sts = notebook_desired_statefulset(nb, &spec, cfg, c->in_project, err, sizeof(err));
  ck_assert_msg(sts != NULL, "%s: %s", c->name, err);
  json_object_set_new(out, "statefulSet", sts);
  json_object_set_new(out, "virtualService", notebook_desired_virtualservice(nb, &spec, cfg->gateway, cfg->host));
  json_object_set_new(out, "ingress", notebook_desired_ingress(nb, &spec, cfg));
  char path[NOTEBOOK_PATH_LEN];
  notebook_probe_path(&spec, js_namespace(nb), js_name(nb), path);
  json_object_set_new(out, "probePath", json_string(path));
  json_decref(nb);
  return out;
}

START_TEST(test_golden) {
  const golden_case *c = &golden_cases[_i];
  gpu_profile *gpu = profile(HAMI_PROFILE);
  json_t *section = load("{\"gateway\":\"kubeflow/kubeflow-gateway\",\"ingressClassName\":\"nginx\","
                         "\"host\":\"ml.example.com\",\"urlBase\":\"https://ml.example.com/\"}");
  notebook_config cfg;
  char err[256];
  ck_assert_msg(notebook_config_parse(section, gpu, &cfg, err, sizeof(err)) == 0, "%s", err);
  json_t *have = children_of(c, &cfg);
  char rel[128];
  snprintf(rel, sizeof(rel), "test/unit/fixtures/notebook/golden-%s.json", c->name);
  char *path = testutil_src_path(rel);
  if (getenv("CUBIT_UPDATE_GOLDEN")) {
    ck_assert_int_eq(json_dump_file(have, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
  }
  json_error_t e;
  json_t *want = json_load_file(path, 0, &e);
  ck_assert_msg(want != NULL, "%s: %s (CUBIT_UPDATE_GOLDEN=1 writes it)", path, e.text);
  if (!json_equal(want, have)) {
    char *h = json_dumps(have, JSON_INDENT(2) | JSON_SORT_KEYS);
    ck_abort_msg("%s differs from the golden file %s; got:\n%s", c->name, path, h);
  }
  json_decref(want);
  json_decref(have);
  free(path);
  json_decref(section);
  notebook_config_free(&cfg);
  gpu_profile_free(gpu);
}
END_TEST

/* What the golden files hold, said once more as facts, so a regenerated
 * golden file cannot quietly lose them. */
START_TEST(test_children_facts) {
  gpu_profile *gpu = profile(HAMI_PROFILE);
  notebook_config cfg;
  char err[256];
  ck_assert_int_eq(notebook_config_parse(NULL, gpu, &cfg, err, sizeof(err)), 0);
  json_t *jup = children_of(&golden_cases[0], &cfg);
  json_t *sts = json_object_get(jup, "statefulSet");
  ck_assert_int_eq(js_int(sts, "spec.replicas", -1), 1);
  ck_assert_str_eq(js_str(json_array_get(js_get(sts, "metadata.ownerReferences"), 0), "uid"), "u-1");
  ck_assert(js_bool(json_array_get(js_get(sts, "metadata.ownerReferences"), 0), "controller", 0));
  json_t *c = json_array_get(js_get(sts, "spec.template.spec.containers"), 0);
  ck_assert_str_eq(js_str(c, "image"), "quay.io/jupyter/scipy-notebook:python-3.12");
  ck_assert_str_eq(js_str(c, "resources.requests.cpu"), "1500m");
  ck_assert_str_eq(js_str(c, "resources.limits.memory"), "8Gi"); /* canonical, as the API server stores it */
  ck_assert_ptr_null(js_get(c, "resources.limits.nvidia.com/gpu"));
  /* In a project namespace the pod webhook translates the GPU annotation. */
  json_t *ann = js_get(sts, "spec.template.metadata.annotations");
  ck_assert_str_eq(json_string_value(json_object_get(ann, "cubit.dev/gpu")), "1");
  ck_assert_str_eq(json_string_value(json_object_get(ann, "cubit.dev/user")), "alice");
  ck_assert_int_eq(js_int(sts, "spec.template.spec.securityContext.fsGroup", 0), 100);
  char *args = js_dump(js_get(c, "args"));
  ck_assert_msg(strstr(args, "--ServerApp.base_url=/notebook/team-a/lab/") != NULL, "%s", args);
  free(args);
  ck_assert_str_eq(js_str(jup, "probePath"), "/notebook/team-a/lab/api/status");
  json_t *vs = json_object_get(jup, "virtualService");
  json_t *route = json_array_get(js_get(vs, "spec.http"), 0);
  ck_assert_str_eq(js_str(json_array_get(json_object_get(route, "match"), 0), "uri.prefix"), "/notebook/team-a/lab/");
  ck_assert_str_eq(js_str(route, "rewrite.uri"), "/notebook/team-a/lab/"); /* Jupyter serves under the prefix */
  ck_assert_str_eq(json_string_value(json_array_get(js_get(vs, "spec.gateways"), 0)), "cubit-system/cubit-gateway");
  json_decref(jup);

  json_t *code = children_of(&golden_cases[1], &cfg);
  sts = json_object_get(code, "statefulSet");
  c = json_array_get(js_get(sts, "spec.template.spec.containers"), 0);
  ck_assert_str_eq(js_str(c, "image"), "registry.example.com/ide/code-server:4.96.4-cuda");
  /* Outside a project the controller translates the GPU itself (HAMi: half an A100). */
  json_t *limits = js_get(c, "resources.limits");
  ck_assert_str_eq(json_string_value(json_object_get(limits, "nvidia.com/gpu")), "1");
  ck_assert_str_eq(json_string_value(json_object_get(limits, "nvidia.com/gpucores")), "50");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(sts, "spec.template.spec.nodeSelector"),
                                                     "nvidia.com/gpu.product")),
                   "A100");
  ck_assert_str_eq(js_str(code, "probePath"), "/healthz");
  route = json_array_get(js_get(json_object_get(code, "virtualService"), "spec.http"), 0);
  ck_assert_str_eq(js_str(route, "rewrite.uri"), "/"); /* code-server serves at "/" */
  ck_assert_str_eq(js_str(json_object_get(code, "persistentVolumeClaim"), "spec.resources.requests.storage"), "10Gi");
  json_decref(code);

  json_t *rs = children_of(&golden_cases[2], &cfg);
  sts = json_object_get(rs, "statefulSet");
  ck_assert_int_eq(js_int(sts, "spec.replicas", -1), 0); /* stopped */
  ck_assert_str_eq(js_str(json_object_get(rs, "persistentVolumeClaim"), "spec.storageClassName"), "fast");
  ck_assert_str_eq(js_str(json_object_get(rs, "persistentVolumeClaim"), "metadata.name"), "stats-workspace");
  ck_assert_str_eq(js_str(rs, "probePath"), "/health-check");
  json_decref(rs);
  notebook_config_free(&cfg);
  gpu_profile_free(gpu);
}
END_TEST

START_TEST(test_gpu_untranslatable_outside_project) {
  gpu_profile *gpu = profile("{\"system\":\"nvidia\"}");
  notebook_config cfg;
  char err[512];
  ck_assert_int_eq(notebook_config_parse(NULL, gpu, &cfg, err, sizeof(err)), 0);
  json_t *nb = load("{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\",\"uid\":\"u\"},\"spec\":{\"ide\":\"jupyter\","
                    "\"resources\":{\"gpu\":\"0.5\"}}}");
  notebook_spec spec;
  ck_assert_int_eq(notebook_spec_parse(nb, &spec, err, sizeof(err)), 0);
  ck_assert_ptr_null(notebook_desired_statefulset(nb, &spec, &cfg, 0, err, sizeof(err)));
  ck_assert_msg(strncmp(err, "spec.resources.gpu: ", 20) == 0 && strstr(err, "whole cards"), "%s", err);
  /* In a project the annotation is left to the pod webhook (which refuses it there). */
  json_t *sts = notebook_desired_statefulset(nb, &spec, &cfg, 1, err, sizeof(err));
  ck_assert_ptr_nonnull(sts);
  json_decref(sts);
  json_decref(nb);
  gpu_profile_free(gpu);
}
END_TEST

/* ------------------------------------------------------------------ spec */

typedef struct spec_case {
  const char *spec;
  const char *error; /* prefix of the message, NULL = valid */
} spec_case;

static const spec_case spec_cases[] = {
    {"{\"ide\":\"jupyter\"}", NULL},
    {"{\"ide\":\"emacs\"}", "spec.ide: want jupyter, vscode or rstudio, got \"emacs\""},
    {"{}", "spec.ide: want jupyter, vscode or rstudio"},
    {"{\"ide\":\"vscode\",\"resources\":{\"gpu\":\"abc\"}}", "spec.resources.gpu: GPU request \"abc\""},
    {"{\"ide\":\"vscode\",\"resources\":{\"gpu\":\"0.1234\"}}", "spec.resources.gpu: GPU request \"0.1234\""},
    {"{\"ide\":\"vscode\",\"resources\":{\"gpu\":\"2(A100)\"}}", NULL},
    {"{\"ide\":\"vscode\",\"resources\":{\"cpu\":\"two\"}}", "spec.resources.cpu: \"two\" is not a quantity"},
    {"{\"ide\":\"vscode\",\"resources\":{\"memory\":\"0\"}}", "spec.resources.memory: want more than 0"},
    {"{\"ide\":\"jupyter\",\"culling\":{\"idleSeconds\":-5}}", "spec.culling.idleSeconds: want an integer from 1"},
    {"{\"ide\":\"jupyter\",\"culling\":{}}", "spec.culling.idleSeconds: required"},
    {"{\"ide\":\"jupyter\",\"culling\":{\"idleSeconds\":60,\"probe\":{\"type\":\"http\"}}}",
     "spec.culling.probe.path: type http needs a path"},
    {"{\"ide\":\"jupyter\",\"culling\":{\"idleSeconds\":60,\"probe\":{\"type\":\"http\",\"path\":\"/activity\"}}}", NULL},
    {"{\"ide\":\"jupyter\",\"culling\":{\"idleSeconds\":60,\"probe\":{\"path\":\"/x\"}}}",
     "spec.culling.probe.path: only for type http"},
    {"{\"ide\":\"jupyter\",\"culling\":{\"idleSeconds\":60,\"probe\":{\"type\":\"vim\"}}}", "spec.culling.probe.type"},
    {"{\"ide\":\"jupyter\",\"lease\":{\"ttlSeconds\":100,\"warningSeconds\":100}}", "spec.lease.warningSeconds"},
    {"{\"ide\":\"jupyter\",\"lease\":{\"ttlSeconds\":0}}", "spec.lease.ttlSeconds"},
    {"{\"ide\":\"jupyter\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"A\",\"value\":\"2\"}]}",
     "spec.env[1].name: A is set twice"},
    {"{\"ide\":\"jupyter\",\"volumes\":{\"claims\":[{\"claimName\":\"a\",\"mountPath\":\"/d\"},"
     "{\"claimName\":\"b\",\"mountPath\":\"/d\"}]}}",
     "spec.volumes.claims[1].mountPath: /d is mounted twice"},
    {"{\"ide\":\"jupyter\",\"volumes\":{\"claims\":[{\"claimName\":\"a\",\"mountPath\":\"rel\"}]}}",
     "spec.volumes.claims[0].mountPath"},
    {"{\"ide\":\"jupyter\",\"volumes\":{\"claims\":[{\"claimName\":\"a\",\"mountPath\":\"/d\",\"subPath\":\"../x\"}]}}",
     "spec.volumes.claims[0].subPath"},
    {"{\"ide\":\"jupyter\",\"volumes\":{\"workspace\":{\"size\":\"-1Gi\"}}}", "spec.volumes.workspace.size"},
    {"{\"ide\":\"jupyter\",\"nodeSelector\":{\"a\":1}}", "spec.nodeSelector.a: want a string"},
};

START_TEST(test_spec_parse) {
  const spec_case *c = &spec_cases[_i];
  char doc[1024];
  snprintf(doc, sizeof(doc), "{\"metadata\":{\"name\":\"n\",\"namespace\":\"ns\"},\"spec\":%s}", c->spec);
  json_t *nb = load(doc);
  notebook_spec spec;
  char err[512] = "";
  int rc = notebook_spec_parse(nb, &spec, err, sizeof(err));
  if (c->error == NULL) {
    ck_assert_msg(rc == 0, "%s: %s", c->spec, err);
  } else {
    ck_assert_msg(rc == CUBIT_EINVAL, "%s: accepted", c->spec);
    ck_assert_msg(strncmp(err, c->error, strlen(c->error)) == 0, "%s: got \"%s\", want \"%s...\"", c->spec, err,
                  c->error);
  }
  json_decref(nb);
}
END_TEST

START_TEST(test_spec_defaults) {
  json_t *nb = load("{\"metadata\":{\"name\":\"n\",\"namespace\":\"ns\"},\"spec\":{\"ide\":\"vscode\","
                    "\"culling\":{\"idleSeconds\":600},\"lease\":{\"ttlSeconds\":3600},\"resources\":{\"gpu\":0}}}");
  notebook_spec s;
  char err[256];
  ck_assert_int_eq(notebook_spec_parse(nb, &s, err, sizeof(err)), 0);
  ck_assert_int_eq(s.ide, NB_IDE_VSCODE);
  ck_assert_int_eq(s.workspace, 1);
  ck_assert_str_eq(s.workspace_size, "10Gi");
  ck_assert_int_eq(s.probe, NB_PROBE_AUTO);
  ck_assert_int_eq(s.probe_port, NOTEBOOK_PORT);
  ck_assert_int_eq(s.lease_warning_s, 360);
  ck_assert_str_eq(s.gpu, ""); /* "0" is no GPU */
  ck_assert_int_eq(s.stopped, 0);
  json_decref(nb);
}
END_TEST

START_TEST(test_config) {
  notebook_config cfg;
  char err[256];
  ck_assert_int_eq(notebook_config_parse(NULL, NULL, &cfg, err, sizeof(err)), 0);
  ck_assert_int_eq(cfg.istio, 1);
  ck_assert_str_eq(cfg.gateway, "cubit-system/cubit-gateway");
  ck_assert_int_eq(cfg.probe_period_s, 60);
  ck_assert_str_eq(cfg.images[NB_IDE_RSTUDIO], "docker.io/rocker/rstudio:4.4.2");
  notebook_config_free(&cfg);
  json_t *j = load("{\"istio\":false,\"images\":{\"jupyter\":\"my/jupyter:1\"},\"probePeriodSeconds\":5,"
                   "\"ingressAnnotations\":{\"a\":\"b\"},\"urlBase\":\"https://x//\"}");
  ck_assert_int_eq(notebook_config_parse(j, NULL, &cfg, err, sizeof(err)), 0);
  ck_assert_int_eq(cfg.istio, 0);
  ck_assert_str_eq(cfg.images[NB_IDE_JUPYTER], "my/jupyter:1");
  ck_assert_int_eq(cfg.probe_period_s, 5);
  ck_assert_str_eq(cfg.url_base, "https://x");
  notebook_config_free(&cfg);
  json_decref(j);
  static const char *bad[][2] = {{"{\"gatewy\":\"x\"}", "notebook.gatewy: unknown setting"},
                                 {"{\"istio\":\"yes\"}", "notebook.istio: want true or false"},
                                 {"{\"images\":{\"emacs\":\"x\"}}", "notebook.images.emacs"},
                                 {"{\"probePeriodSeconds\":0}", "notebook.probePeriodSeconds"},
                                 {"[1]", "notebook: want a mapping"}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    j = load(bad[i][0]);
    ck_assert_int_eq(notebook_config_parse(j, NULL, &cfg, err, sizeof(err)), CUBIT_EINVAL);
    ck_assert_msg(strncmp(err, bad[i][1], strlen(bad[i][1])) == 0, "%s: %s", bad[i][0], err);
    json_decref(j);
  }
}
END_TEST

/* -------------------------------------------------------------- activity */

typedef struct activity_case {
  const char *name;
  notebook_probe_type type;
  const char *fixture; /* a recorded file, or NULL */
  const char *body;    /* else this body */
  int ok;
  const char *want;    /* RFC 3339 time, or "" for 0, or NULL to skip */
  int64_t want_epoch;  /* when want is NULL and ok */
} activity_case;

#define NOW 1795334950 /* 2026-11-22T08:09:10Z, just after the recordings */

static const activity_case activity_cases[] = {
    {"jupyter fresh", NB_PROBE_JUPYTER, "jupyter-status-fresh.json", NULL, 1, "2026-11-22T08:08:36Z", 0},
    {"jupyter after a request", NB_PROBE_JUPYTER, "jupyter-status-active.json", NULL, 1, "2026-11-22T08:08:37Z", 0},
    {"code-server before any request", NB_PROBE_CODE_SERVER, "code-server-healthz-expired.json", NULL, 1, "", 0},
    {"code-server after a request", NB_PROBE_CODE_SERVER, "code-server-healthz-alive.json", NULL, 1,
     "2026-11-22T08:08:38Z", 0},
    {"rstudio (Posit health-check)", NB_PROBE_RSTUDIO, "rstudio-health-check.txt", NULL, 1, NULL, NOW - 42},
    {"generic sees jupyter", NB_PROBE_HTTP, "jupyter-status-active.json", NULL, 1, "2026-11-22T08:08:37Z", 0},
    {"generic sees code-server", NB_PROBE_HTTP, "code-server-healthz-alive.json", NULL, 1, "2026-11-22T08:08:38Z", 0},
    {"generic sees posit text", NB_PROBE_HTTP, "rstudio-health-check.txt", NULL, 1, NULL, NOW - 42},
    {"generic lastActivity time", NB_PROBE_HTTP, NULL, "{\"lastActivity\":\"2026-11-22T08:00:00+01:00\"}", 1,
     "2026-11-22T07:00:00Z", 0},
    {"generic lastActivity epoch", NB_PROBE_HTTP, NULL, "{\"lastActivity\":1795334400}", 1, NULL, 1795334400},
    {"jupyter without the field", NB_PROBE_JUPYTER, NULL, "{\"started\":\"2026-11-22T08:08:36Z\"}", 0, NULL, 0},
    {"jupyter bad time", NB_PROBE_JUPYTER, NULL, "{\"last_activity\":\"yesterday\"}", 0, NULL, 0},
    {"code-server string heartbeat", NB_PROBE_CODE_SERVER, NULL, "{\"lastHeartbeat\":\"now\"}", 0, NULL, 0},
    {"code-server negative", NB_PROBE_CODE_SERVER, NULL, "{\"lastHeartbeat\":-5}", 0, NULL, 0},
    {"html login page", NB_PROBE_JUPYTER, NULL, "<html><body>login</body></html>", 0, NULL, 0},
    {"empty", NB_PROBE_HTTP, NULL, "", 0, NULL, 0},
    {"truncated json", NB_PROBE_CODE_SERVER, NULL, "{\"status\":\"alive\",\"lastHeart", 0, NULL, 0},
    {"rstudio without idle-seconds", NB_PROBE_RSTUDIO, NULL, "active-sessions: 1\n", 0, NULL, 0},
    {"rstudio junk value", NB_PROBE_RSTUDIO, NULL, "idle-seconds: 12abc\n", 0, NULL, 0},
    {"rstudio crlf", NB_PROBE_RSTUDIO, NULL, "active-sessions: 0\r\nidle-seconds: 7\r\n", 1, NULL, NOW - 7},
    {"generic without a known field", NB_PROBE_HTTP, NULL, "{\"status\":\"ok\"}", 0, NULL, 0},
};

START_TEST(test_activity) {
  const activity_case *c = &activity_cases[_i];
  size_t len;
  const char *body = c->fixture ? read_fixture(c->fixture, &len) : c->body;
  if (!c->fixture) len = strlen(body);
  int64_t last = -1;
  char err[256] = "";
  int rc = notebook_activity_parse(c->type, body, len, NOW, &last, err, sizeof(err));
  if (!c->ok) {
    ck_assert_msg(rc == CUBIT_EINVAL, "%s: accepted (%lld)", c->name, (long long)last);
    ck_assert_msg(err[0] != '\0', "%s: no reason", c->name);
    return;
  }
  ck_assert_msg(rc == 0, "%s: %s", c->name, err);
  int64_t want = c->want_epoch;
  if (c->want) {
    if (c->want[0] == '\0') want = 0;
    else ck_assert_int_eq(time_parse_rfc3339(c->want, &want), 0);
  }
  ck_assert_msg(last == want, "%s: got %lld, want %lld", c->name, (long long)last, (long long)want);
}
END_TEST

typedef struct torture_arg {
  notebook_probe_type type;
  const char *body;
} torture_arg;

static int parse_once(void *arg) {
  const torture_arg *a = arg;
  int64_t last;
  char err[128];
  return notebook_activity_parse(a->type, a->body, strlen(a->body), NOW, &last, err, sizeof(err));
}

START_TEST(test_activity_alloc_failures) {
  static const torture_arg args[] = {
      {NB_PROBE_JUPYTER, "{\"connections\": 0, \"kernels\": 0, \"last_activity\": \"2026-11-22T08:08:37.589234Z\"}"},
      {NB_PROBE_HTTP, "{\"lastActivity\":\"2026-11-22T08:00:00Z\",\"extra\":[1,2,{\"a\":\"b\"}]}"},
      {NB_PROBE_AUTO, "idle-seconds: 5\n"}};
  for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
    int points = testutil_alloc_torture(parse_once, (void *)&args[i]);
    ck_assert_int_ne(points, 0);
  }
}
END_TEST

START_TEST(test_cull_due) {
  int64_t next;
  ck_assert_int_eq(notebook_cull_due(1000, 600, 1599, &next), 0);
  ck_assert_int_eq(next, 1);
  ck_assert_int_eq(notebook_cull_due(1000, 600, 1600, &next), 1);
  ck_assert_int_eq(notebook_cull_due(1000, 600, 5000, &next), 1);
  ck_assert_int_eq(notebook_cull_due(2000, 600, 1000, &next), 0); /* activity "in the future" */
  ck_assert_int_eq(next, 600);
  ck_assert_int_eq(notebook_cull_due(0, 600, 100, &next), 0);
  ck_assert_int_eq(next, 500);
}
END_TEST

typedef struct lease_case {
  int64_t renewed, ttl, warning, warned, now;
  notebook_lease_state state;
  int64_t expires, next;
} lease_case;

static const lease_case lease_cases[] = {
    {1000, 100, 10, 0, 1000, NB_LEASE_OK, 1100, 90},      /* next: the warning */
    {1000, 100, 10, 0, 1089, NB_LEASE_OK, 1100, 1},
    {1000, 100, 10, 0, 1090, NB_LEASE_WARN, 1100, 10},    /* warn once ... */
    {1000, 100, 10, 1090, 1095, NB_LEASE_OK, 1100, 5},    /* ... then wait for expiry */
    {1000, 100, 10, 1090, 1100, NB_LEASE_EXPIRED, 1100, 0},
    {1000, 100, 10, 0, 5000, NB_LEASE_EXPIRED, 1100, 0},
    {2000, 100, 10, 1090, 2095, NB_LEASE_WARN, 2100, 5},  /* an old warning is not this lease's */
    {1000, 100, 0, 0, 1050, NB_LEASE_OK, 1100, 50},       /* no warning configured */
};

START_TEST(test_lease) {
  const lease_case *c = &lease_cases[_i];
  int64_t expires, next;
  notebook_lease_state s = notebook_lease_check(c->renewed, c->ttl, c->warning, c->warned, c->now, &expires, &next);
  ck_assert_msg(s == c->state, "case %d: state %d, want %d", _i, s, c->state);
  ck_assert_int_eq(expires, c->expires);
  ck_assert_msg(next == c->next, "case %d: next %lld, want %lld", _i, (long long)next, (long long)c->next);
}
END_TEST

/* ----------------------------------------------------------------- phase */

/* Times around NOW, as the API server writes them. */
#define AT_NOW "2026-11-22T08:09:10Z"
#define AT_30S_AGO "2026-11-22T08:08:40Z"
#define AT_2M_AGO "2026-11-22T08:07:10Z"

#define POD_META_REV(rev) "\"metadata\":{\"name\":\"lab-0\",\"labels\":{\"cubit.dev/notebook\":\"lab\",\"controller-revision-hash\":\"" rev "\"}}"
#define POD_META POD_META_REV("r1")
#define POD_UNSCHEDULED(since, msg)                                                                               \
  "{" POD_META ",\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\"," \
  "\"reason\":\"Unschedulable\",\"lastTransitionTime\":\"" since "\",\"message\":\"" msg "\"}]}}"
#define POD_WAITING(phase, reason, msg) POD_WAITING_REV("r1", phase, reason, msg)
#define POD_WAITING_REV(rev, phase, reason, msg)                                                                   \
  "{" POD_META_REV(rev) ",\"spec\":{\"nodeName\":\"cpu-node-1\"},\"status\":{\"phase\":\"" phase "\",\"conditions\":"      \
  "[{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"False\"}],"                  \
  "\"containerStatuses\":[{\"name\":\"notebook\",\"ready\":false,\"state\":{\"waiting\":{\"reason\":\"" reason    \
  "\",\"message\":\"" msg "\"}}}]}}"
#define POD_NOT_READY                                                                                              \
  "{" POD_META ",\"spec\":{\"nodeName\":\"cpu-node-1\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"127.1.0.9\"," \
  "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"False\","       \
  "\"reason\":\"ContainersNotReady\",\"message\":\"containers with unready status: [notebook]\"}]}}"
#define POD_READY                                                                                                  \
  "{" POD_META ",\"spec\":{\"nodeName\":\"cpu-node-1\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"127.1.0.9\"," \
  "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"True\"}]}}"
#define SCHED_GPU "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."
#define SCHED_CLAIM "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."
#define PULL_BACKOFF "Back-off pulling image \\\"quay.io/jupyter/scipy-notebook:nope\\\""

typedef struct phase_case {
  const char *name;
  const char *pod; /* NULL: no pod */
  const char *phase;
  rt_state state;
  const char *reason;
  const char *message; /* the message starts so */
  int warn;
  int64_t recheck_s;
} phase_case;

static const phase_case phase_cases[] = {
    {"no pod", NULL, "Pending", RT_STATE_PROGRESSING, "PodNotCreated", "waiting for the StatefulSet", 0, 0},
    {"not scheduled yet", "{\"status\":{\"phase\":\"Pending\"}}", "Pending", RT_STATE_PROGRESSING, "Scheduling",
     "waiting for the scheduler", 0, 0},
    {"unschedulable for 30s", POD_UNSCHEDULED(AT_30S_AGO, SCHED_GPU), "Pending", RT_STATE_PROGRESSING,
     "Unschedulable", "Unschedulable: " SCHED_GPU, 1, 30},
    {"unschedulable for 2m", POD_UNSCHEDULED(AT_2M_AGO, SCHED_GPU), "Failed", RT_STATE_FAILED, "Unschedulable",
     "Unschedulable since " AT_2M_AGO ": " SCHED_GPU, 1, 0},
    {"unschedulable since exactly 60s", POD_UNSCHEDULED("2026-11-22T08:08:10Z", SCHED_GPU), "Failed", RT_STATE_FAILED,
     "Unschedulable", "Unschedulable since", 1, 0},
    {"claim not bound yet, for long", POD_UNSCHEDULED(AT_2M_AGO, SCHED_CLAIM), "Pending", RT_STATE_PROGRESSING,
     "WaitingForVolume", "Unschedulable: " SCHED_CLAIM, 0, 0},
    {"image pull back-off", POD_WAITING("Pending", "ImagePullBackOff", PULL_BACKOFF), "Failed", RT_STATE_FAILED,
     "ImagePullBackOff", "ImagePullBackOff: Back-off pulling image \"quay.io", 1, 0},
    {"image pull error (the same cause)", POD_WAITING("Pending", "ErrImagePull", "manifest unknown"), "Failed",
     RT_STATE_FAILED, "ImagePullBackOff", "ErrImagePull: manifest unknown", 1, 0},
    {"invalid image name", POD_WAITING("Pending", "InvalidImageName", "couldn't parse image name"), "Failed",
     RT_STATE_FAILED, "InvalidImageName", "InvalidImageName: couldn't parse", 1, 0},
    {"container config", POD_WAITING("Pending", "CreateContainerConfigError", "secret \\\"pypi\\\" not found"),
     "Failed", RT_STATE_FAILED, "CreateContainerConfigError", "CreateContainerConfigError: secret \"pypi\" not found",
     1, 0},
    {"crash loop", POD_WAITING("Running", "CrashLoopBackOff", "back-off 40s restarting failed container"), "Failed",
     RT_STATE_FAILED, "CrashLoopBackOff", "CrashLoopBackOff: back-off 40s", 1, 0},
    {"pulling", POD_WAITING("Pending", "ContainerCreating", ""), "Pending", RT_STATE_PROGRESSING, "ContainerCreating",
     "ContainerCreating: pulling the image", 0, 0},
    {"scheduled, not started", "{\"spec\":{\"nodeName\":\"cpu-node-1\"},\"status\":{\"phase\":\"Pending\"}}", "Pending",
     RT_STATE_PROGRESSING, "Scheduled", "scheduled on cpu-node-1", 0, 0},
    {"running, not ready", POD_NOT_READY, "Starting", RT_STATE_PROGRESSING, "ContainersNotReady",
     "ContainersNotReady: containers with unready status: [notebook]", 0, 0},
    {"running and ready", POD_READY, "Running", RT_STATE_READY, "Running", "the IDE answers", 0, 0},
    {"failed", "{\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\",\"message\":\"low on memory\"}}", "Failed",
     RT_STATE_FAILED, "Evicted", "Evicted: low on memory", 1, 0},
    {"terminating", "{\"metadata\":{\"deletionTimestamp\":\"2026-11-22T08:00:00Z\"},\"status\":{\"phase\":\"Running\"}}",
     "Pending", RT_STATE_PROGRESSING, "PodTerminating", "the previous pod", 0, 0},
};

START_TEST(test_phase) {
  const phase_case *c = &phase_cases[_i];
  json_t *pod = c->pod ? load(c->pod) : NULL;
  notebook_phase ph;
  notebook_pod_phase(pod, NOW, &ph);
  ck_assert_msg(strcmp(ph.phase, c->phase) == 0 && strcmp(ph.reason, c->reason) == 0 && ph.state == c->state,
                "%s: %s/%s/%d, want %s/%s/%d", c->name, ph.phase, ph.reason, ph.state, c->phase, c->reason, c->state);
  ck_assert_msg(strncmp(ph.message, c->message, strlen(c->message)) == 0, "%s: message \"%s\", want \"%s...\"",
                c->name, ph.message, c->message);
  ck_assert_msg(ph.warn == c->warn, "%s: warn %d", c->name, ph.warn);
  ck_assert_msg(ph.recheck_s == c->recheck_s, "%s: recheck %lld", c->name, (long long)ph.recheck_s);
  ck_assert_int_eq(notebook_pod_serving(pod), strcmp(c->name, "running and ready") == 0);
  json_decref(pod);
}
END_TEST

/* ------------------------------------------------------------------ plan
 * Observed state in (the Notebook with its last status, the children and
 * the pod as the cache holds them, the probe's answer, the settings, NOW),
 * plan out: the status (phase, the state's conditions, reason, message),
 * what Cubit writes on the Notebook, the children applied and deleted, the
 * events, the requeue. */

typedef enum { ROUTE_ISTIO, ROUTE_INGRESS, ROUTE_NONE } route_mode;

/* The live StatefulSet. */
typedef enum {
  STS_NONE,     /* not created yet */
  STS_CURRENT,  /* applied from this very spec, rolled out */
  STS_OLD,      /* applied from an older spec (another image) */
  STS_LAGGING,  /* this spec, its controller has not observed it yet */
  STS_REVISION  /* this spec, the pod is of the previous revision */
} sts_mode;

typedef struct plan_case {
  const char *name;
  /* observed */
  const char *spec;        /* the Notebook's spec */
  const char *annotations; /* its annotations (a JSON object) or NULL */
  const char *status;      /* its last status or NULL */
  int generation;
  route_mode route;
  sts_mode sts;
  const char *pod;
  const char *routes;      /* live routes: {"virtualService": {...}, "ingress": {...}} or NULL */
  int probed, probe_ok;
  int64_t probe_last;
  /* want */
  const char *phase;
  rt_state state;
  const char *reason;
  const char *message;     /* the status message contains it */
  const char *events;      /* "Type/Reason" joined by ",", in order */
  int64_t requeue_s;
  const char *patch;       /* the merge patch of the Notebook (JSON), or NULL for none */
  const char *actions;     /* "apply Kind" / "delete Kind" / "patch", joined by "," */
  int replicas;            /* the desired StatefulSet's replicas */
  const char *status_has;  /* a JSON object the status holds (objects compared key by key) */
  const char *conditions;  /* "Type=Status/Reason" joined by ";" */
} plan_case;

/* The StatefulSet's FailedCreate, in the case named for it. */
#define REFUSAL "create Pod lab-0 in StatefulSet lab failed error: pods \"lab-0\" is forbidden: exceeded quota: compute"
#define REFUSED_CASE "the API server refuses the pod"

#define J(s) "{\"ide\":\"jupyter\"" s "}"
#define CULL ",\"culling\":{\"idleSeconds\":600}"
#define LEASE ",\"lease\":{\"ttlSeconds\":3600,\"warningSeconds\":600}"
#define ST(phase, reason) "{\"phase\":\"" phase "\",\"reason\":\"" reason "\",\"observedGeneration\":1"
#define ST_END "}"
#define APPLY_ISTIO "apply PersistentVolumeClaim,apply Service,apply StatefulSet,apply VirtualService"
#define STOPPED_BY(who) "{\"cubit.dev/stopped-by\":\"" who "\"}"
#define URL "https://ml.example.com/notebook/team-a/lab/"
#define T_100S_AGO "2026-11-22T08:07:30Z"
#define T_1H_AGO "2026-11-22T07:09:10Z"
#define T_3100S_AGO "2026-11-22T07:17:30Z"
#define T_3601S_AGO "2026-11-22T07:09:09Z"

static const plan_case plan_cases[] = {
    /* ----- starting up */
    {"just created", J(""), NULL, NULL, 1, ROUTE_ISTIO, STS_NONE, NULL, NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "PodNotCreated", "StatefulSet and Service created: waiting", "", 0,
     NULL, APPLY_ISTIO, 1,
     "{\"lastActivity\":\"" AT_NOW "\",\"url\":\"" URL "\",\"readyReplicas\":0,\"observedGeneration\":1}",
     "Routed=True/VirtualService"},
    {"no pod yet", J(""), NULL, ST("Pending", "Creating") ST_END, 1, ROUTE_ISTIO, STS_CURRENT, NULL, NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "PodNotCreated", "waiting for the StatefulSet", "", 0, NULL, APPLY_ISTIO, 1,
     NULL, NULL},
    {REFUSED_CASE, J(""), NULL, ST("Pending", "PodNotCreated") ST_END, 1, ROUTE_ISTIO, STS_CURRENT, NULL, NULL, 0, 0,
     0, "Pending", RT_STATE_FAILED, "FailedCreate", "the StatefulSet cannot create the pod: " REFUSAL,
     "Warning/FailedCreate", 0, NULL, APPLY_ISTIO, 1, NULL, "Stalled=True/FailedCreate"},
    {"claim pending", J(""), NULL, ST("Pending", "PodNotCreated") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_UNSCHEDULED(AT_2M_AGO, SCHED_CLAIM), NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "WaitingForVolume", "Unschedulable: " SCHED_CLAIM, "", 0,
     NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"claim pending, said before", J(""), NULL, ST("Pending", "WaitingForVolume") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_UNSCHEDULED(AT_2M_AGO, SCHED_CLAIM), NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "WaitingForVolume", SCHED_CLAIM, "", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"pulling", J(""), NULL, ST("Pending", "WaitingForVolume") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_WAITING("Pending", "ContainerCreating", ""), NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "ContainerCreating", "ContainerCreating: pulling the image", "", 0, NULL,
     APPLY_ISTIO, 1, NULL, NULL},
    {"unschedulable, young", J(""), NULL, ST("Pending", "PodNotCreated") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_UNSCHEDULED(AT_30S_AGO, SCHED_GPU), NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "Unschedulable", "Unschedulable: " SCHED_GPU, "Warning/Unschedulable", 30, NULL,
     APPLY_ISTIO, 1, NULL, NULL},
    {"unschedulable, old", J(""), NULL, ST("Pending", "Unschedulable") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_UNSCHEDULED(AT_2M_AGO, SCHED_GPU), NULL, 0, 0, 0,
     "Failed", RT_STATE_FAILED, "Unschedulable", "Unschedulable since " AT_2M_AGO ": " SCHED_GPU,
     "Warning/Unschedulable", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"unschedulable, old, said before", J(""), NULL, ST("Failed", "Unschedulable") ST_END, 1, ROUTE_ISTIO,
     STS_CURRENT, POD_UNSCHEDULED(AT_2M_AGO, SCHED_GPU), NULL, 0, 0, 0,
     "Failed", RT_STATE_FAILED, "Unschedulable", SCHED_GPU, "", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"image pull failure", J(""), NULL, ST("Pending", "ContainerCreating") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_WAITING("Pending", "ImagePullBackOff", PULL_BACKOFF), NULL, 0, 0, 0,
     "Failed", RT_STATE_FAILED, "ImagePullBackOff", "ImagePullBackOff: Back-off pulling image",
     "Warning/ImagePullBackOff", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"image pull retried: no new event", J(""), NULL, ST("Failed", "ImagePullBackOff") ST_END, 1, ROUTE_ISTIO,
     STS_CURRENT, POD_WAITING("Pending", "ErrImagePull", "manifest unknown"), NULL, 0, 0, 0,
     "Failed", RT_STATE_FAILED, "ImagePullBackOff", "ErrImagePull: manifest unknown", "", 0, NULL, APPLY_ISTIO, 1,
     NULL, NULL},
    {"bad container config", J(""), NULL, ST("Pending", "ContainerCreating") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_WAITING("Pending", "CreateContainerConfigError", "secret \\\"pypi\\\" not found"), NULL, 0, 0, 0,
     "Failed", RT_STATE_FAILED, "CreateContainerConfigError", "secret \"pypi\" not found",
     "Warning/CreateContainerConfigError", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"running, not ready", J(""), NULL, ST("Pending", "ContainerCreating") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_NOT_READY, NULL, 0, 0, 0,
     "Starting", RT_STATE_PROGRESSING, "ContainersNotReady", "containers with unready status", "", 0, NULL,
     APPLY_ISTIO, 1, NULL, NULL},
    {"ready", J(""), NULL, ST("Starting", "ContainersNotReady") ST_END, 1, ROUTE_ISTIO, STS_CURRENT, POD_READY, NULL,
     0, 0, 0, "Running", RT_STATE_READY, "Running", "the IDE is ready at " URL, "Normal/Running", 0, NULL,
     APPLY_ISTIO, 1, "{\"readyReplicas\":1,\"url\":\"" URL "\"}", "Routed=True/VirtualService"},
    {"ready, said before", J(""), NULL, ST("Running", "Running") ST_END, 1, ROUTE_ISTIO, STS_CURRENT, POD_READY,
     NULL, 0, 0, 0, "Running", RT_STATE_READY, "Running", "ready at", "", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"unschedulable no more", J(""), NULL, ST("Failed", "Unschedulable") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "Normal/Running", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    /* ----- a new spec rolling out */
    {"spec changed", J(""), NULL, ST("Running", "Running") ST_END, 2, ROUTE_ISTIO, STS_OLD, POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_PROGRESSING, "RollingOut", "the spec changed (generation 2)", "", 0, NULL, APPLY_ISTIO, 1,
     "{\"observedGeneration\":2}", NULL},
    {"spec changed, StatefulSet not observed yet", J(""), NULL, ST("Running", "RollingOut") ST_END, 2, ROUTE_ISTIO,
     STS_LAGGING, POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_PROGRESSING, "RollingOut", "the pod is replaced", "", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"spec changed, old pod still serving", J(""), NULL, ST("Running", "RollingOut") ST_END, 2, ROUTE_ISTIO,
     STS_REVISION, POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_PROGRESSING, "RollingOut", "the pod is replaced", "", 0, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"spec changed, new pod starting", J(""), NULL, ST("Running", "RollingOut") ST_END, 2, ROUTE_ISTIO, STS_REVISION,
     POD_WAITING_REV("r2", "Pending", "ContainerCreating", ""), NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "ContainerCreating", "ContainerCreating", "", 0, NULL, APPLY_ISTIO, 1, NULL,
     NULL},
    /* The old spec's pod never became ready (a bad image): the StatefulSet
     * would never replace it, the plan does, and what failed was the old
     * spec, so the notebook is progressing, not failed. */
    {"spec fixed, old pod stuck in image pull", J(""), NULL, ST("Failed", "ImagePullBackOff") ST_END, 2, ROUTE_ISTIO,
     STS_REVISION, POD_WAITING("Pending", "ImagePullBackOff", PULL_BACKOFF), NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "RollingOut", "the pod of the old one is replaced", "Normal/ReplacingPod", 0,
     NULL, "apply PersistentVolumeClaim,apply Service,apply StatefulSet,delete Pod,apply VirtualService", 1, NULL,
     NULL},
    /* ----- stopped */
    {"stopped by the user", J(",\"stopped\":true"), NULL, ST("Running", "Running") ST_END, 2, ROUTE_ISTIO,
     STS_CURRENT, POD_READY, NULL, 0, 0, 0,
     "Stopped", RT_STATE_SUSPENDED, "StoppedByUser", "stopped by spec.stopped", "Normal/Stopped", 0, NULL,
     APPLY_ISTIO, 0, NULL, NULL},
    {"stopped from the start", J(",\"stopped\":true"), NULL, NULL, 1, ROUTE_ISTIO, STS_NONE, NULL, NULL, 0, 0, 0,
     "Stopped", RT_STATE_SUSPENDED, "StoppedByUser", "the workspace is kept", "Normal/Stopped", 0, NULL, APPLY_ISTIO,
     0, NULL, NULL},
    {"stopped, said before", J(",\"stopped\":true"), NULL, ST("Stopped", "StoppedByUser") ST_END, 1, ROUTE_ISTIO,
     STS_CURRENT, NULL, NULL, 0, 0, 0,
     "Stopped", RT_STATE_SUSPENDED, "StoppedByUser", "stopped", "", 0, NULL, APPLY_ISTIO, 0, NULL, NULL},
    {"culled now", J(CULL), NULL,
     ST("Running", "Running") ",\"lastActivity\":\"" T_1H_AGO "\"" ST_END, 1, ROUTE_ISTIO, STS_CURRENT, POD_READY,
     NULL, 1, 1, NOW - 3600,
     "Stopped", RT_STATE_SUSPENDED, "StoppedByCuller",
     "stopped by the culler: idle since " T_1H_AGO " (idleSeconds 600)", "Normal/Culled", 0,
     "{\"spec\":{\"stopped\":true},\"metadata\":{\"annotations\":{\"cubit.dev/stopped-by\":\"culler\"}}}",
     "patch," APPLY_ISTIO, 0, "{\"lastActivity\":\"" T_1H_AGO "\"}", "ActivityProbed=True/Probed"},
    {"culled, said before", J(CULL ",\"stopped\":true"), STOPPED_BY("culler"),
     ST("Stopped", "StoppedByCuller") ",\"lastActivity\":\"" T_1H_AGO "\"" ST_END, 2, ROUTE_ISTIO, STS_CURRENT, NULL,
     NULL, 0, 0, 0,
     "Stopped", RT_STATE_SUSPENDED, "StoppedByCuller", "idle since " T_1H_AGO, "", 0, NULL, APPLY_ISTIO, 0, NULL,
     NULL},
    {"active: culled later", J(CULL), NULL,
     ST("Running", "Running") ",\"lastActivity\":\"" T_1H_AGO "\"" ST_END, 1, ROUTE_ISTIO, STS_CURRENT, POD_READY,
     NULL, 1, 1, NOW - 100,
     "Running", RT_STATE_READY, "Running", "ready at", "", 60, NULL, APPLY_ISTIO, 1,
     "{\"lastActivity\":\"" T_100S_AGO "\"}", "ActivityProbed=True/Probed"},
    {"idle, culled in 20s", J(CULL), NULL,
     ST("Running", "Running") ",\"lastActivity\":\"" T_100S_AGO "\"" ST_END, 1, ROUTE_ISTIO, STS_CURRENT, POD_READY,
     NULL, 1, 1, NOW - 580,
     "Running", RT_STATE_READY, "Running", "ready at", "", 60, NULL, APPLY_ISTIO, 1,
     "{\"lastActivity\":\"" T_100S_AGO "\"}", NULL},
    {"probe failed: never culled", J(CULL), NULL,
     ST("Running", "Running") ",\"lastActivity\":\"" T_1H_AGO "\"" ST_END, 1, ROUTE_ISTIO, STS_CURRENT, POD_READY,
     NULL, 1, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "", 60, NULL, APPLY_ISTIO, 1, NULL,
     "ActivityProbed=False/ProbeFailed"},
    {"lease expired now", J(LEASE), NULL,
     ST("Running", "Running") ",\"lease\":{\"renewedAt\":\"" T_3601S_AGO "\"}" ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_READY, NULL, 0, 0, 0,
     "Stopped", RT_STATE_SUSPENDED, "StoppedByLease", "stopped by the lease: it expired at 2026-11-22T08:09:09Z",
     "Warning/LeaseExpired", 0,
     "{\"spec\":{\"stopped\":true},\"metadata\":{\"annotations\":{\"cubit.dev/stopped-by\":\"lease\"}}}",
     "patch," APPLY_ISTIO, 0, "{\"lease\":{\"expiresAt\":\"2026-11-22T08:09:09Z\"}}", NULL},
    {"lease expired, said before", J(LEASE ",\"stopped\":true"), STOPPED_BY("lease"),
     ST("Stopped", "StoppedByLease") ",\"lease\":{\"renewedAt\":\"" T_3601S_AGO "\"}" ST_END, 2, ROUTE_ISTIO,
     STS_CURRENT, NULL, NULL, 0, 0, 0,
     "Stopped", RT_STATE_SUSPENDED, "StoppedByLease", "annotate cubit.dev/renew", "", 0, NULL, APPLY_ISTIO, 0, NULL,
     NULL},
    {"lease warning", J(LEASE), NULL,
     ST("Running", "Running") ",\"lease\":{\"renewedAt\":\"" T_3100S_AGO "\"}" ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "Warning/LeaseExpiring", 500, NULL, APPLY_ISTIO, 1,
     "{\"lease\":{\"warnedAt\":\"" AT_NOW "\",\"expiresAt\":\"2026-11-22T08:17:30Z\"}}", NULL},
    {"lease warned before", J(LEASE), NULL,
     ST("Running", "Running") ",\"lease\":{\"renewedAt\":\"" T_3100S_AGO "\",\"warnedAt\":\"" T_100S_AGO "\"}" ST_END,
     1, ROUTE_ISTIO, STS_CURRENT, POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "", 500, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"lease running", J(LEASE), NULL,
     ST("Running", "Running") ",\"lease\":{\"renewedAt\":\"" T_100S_AGO "\"}" ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "", 2900, NULL, APPLY_ISTIO, 1, NULL, NULL},
    {"lease added to a running notebook", J(LEASE), NULL, ST("Running", "Running") ST_END, 2, ROUTE_ISTIO,
     STS_CURRENT, POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "", 3000, NULL, APPLY_ISTIO, 1,
     "{\"lease\":{\"renewedAt\":\"" AT_NOW "\",\"expiresAt\":\"2026-11-22T09:09:10Z\"}}", NULL},
    {"renewed after expiry: starts again", J(LEASE ",\"stopped\":true"),
     "{\"cubit.dev/stopped-by\":\"lease\",\"cubit.dev/renew\":\"please\"}",
     ST("Stopped", "StoppedByLease") ",\"lastActivity\":\"" T_1H_AGO "\",\"lease\":{\"renewedAt\":\"" T_3601S_AGO
     "\"}" ST_END, 2, ROUTE_ISTIO, STS_CURRENT, NULL, NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "PodNotCreated", "waiting for the StatefulSet", "Normal/LeaseRenewed", 3000,
     "{\"spec\":{\"stopped\":false},\"metadata\":{\"annotations\":{\"cubit.dev/renew\":null,"
     "\"cubit.dev/stopped-by\":null}}}",
     "patch," APPLY_ISTIO, 1,
     "{\"lastActivity\":\"" AT_NOW "\",\"lease\":{\"renewedAt\":\"" AT_NOW "\",\"expiresAt\":\"2026-11-22T09:09:10Z\"}}",
     NULL},
    {"renewal without a lease", J(""), "{\"cubit.dev/renew\":\"1\"}", ST("Running", "Running") ST_END, 1,
     ROUTE_ISTIO, STS_CURRENT, POD_READY, NULL, 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "Warning/RenewIgnored", 0,
     "{\"metadata\":{\"annotations\":{\"cubit.dev/renew\":null}}}", "patch," APPLY_ISTIO, 1, NULL, NULL},
    {"started again after culling", J(CULL), STOPPED_BY("culler"),
     ST("Stopped", "StoppedByCuller") ",\"lastActivity\":\"" T_1H_AGO "\"" ST_END, 3, ROUTE_ISTIO, STS_CURRENT, NULL,
     NULL, 0, 0, 0,
     "Pending", RT_STATE_PROGRESSING, "PodNotCreated", "waiting", "", 0,
     "{\"metadata\":{\"annotations\":{\"cubit.dev/stopped-by\":null}}}", "patch," APPLY_ISTIO, 1,
     "{\"lastActivity\":\"" AT_NOW "\"}", NULL},
    /* ----- refused */
    {"invalid spec", "{\"ide\":\"emacs\"}", NULL, ST("Running", "Running") ST_END, 2, ROUTE_ISTIO, STS_CURRENT,
     POD_READY, NULL, 0, 0, 0,
     "Failed", RT_STATE_FAILED, "InvalidSpec", "spec.ide: want jupyter, vscode or rstudio, got \"emacs\"",
     "Warning/InvalidSpec", 0, NULL, "", -1, NULL, NULL},
    {"invalid spec, said before", "{\"ide\":\"emacs\"}", NULL,
     "{\"phase\":\"Failed\",\"reason\":\"InvalidSpec\",\"message\":\"spec.ide: want jupyter, vscode or rstudio, got "
     "\\\"emacs\\\"\"}",
     2, ROUTE_ISTIO, STS_NONE, NULL, NULL, 0, 0, 0,
     "Failed", RT_STATE_FAILED, "InvalidSpec", "spec.ide", "", 0, NULL, "", -1, NULL, NULL},
    {"GPU the profile cannot give", J(",\"resources\":{\"gpu\":\"0.5\"}"), NULL, NULL, 1, ROUTE_ISTIO, STS_NONE, NULL,
     NULL, 0, 0, 0,
     "Failed", RT_STATE_FAILED, "InvalidGPU", "spec.resources.gpu: ", "Warning/InvalidGPU", 0, NULL, "", -1, NULL,
     NULL},
    /* ----- routes */
    {"istio: an old Ingress goes", J(""), NULL, ST("Running", "Running") ST_END, 1, ROUTE_ISTIO, STS_CURRENT,
     POD_READY, "{\"ingress\":{\"metadata\":{\"name\":\"lab\",\"uid\":\"i-1\",\"ownerReferences\":[{\"uid\":\"u-1\","
     "\"controller\":true}]}}}", 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "", 0, NULL, APPLY_ISTIO ",delete Ingress", 1, NULL,
     "Routed=True/VirtualService"},
    {"ingress: an old VirtualService goes", J(""), NULL, ST("Running", "Running") ST_END, 1, ROUTE_INGRESS,
     STS_CURRENT, POD_READY, "{\"virtualService\":{\"metadata\":{\"name\":\"lab\",\"uid\":\"v-1\","
     "\"ownerReferences\":[{\"uid\":\"u-1\",\"controller\":true}]}}}", 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "ready at", "", 0, NULL,
     "apply PersistentVolumeClaim,apply Service,apply StatefulSet,apply Ingress,delete VirtualService", 1, NULL,
     "Routed=True/Ingress"},
    {"no route: both go, a namesake stays", J(""), NULL, ST("Running", "Running") ST_END, 1, ROUTE_NONE, STS_CURRENT,
     POD_READY, "{\"ingress\":{\"metadata\":{\"name\":\"lab\",\"uid\":\"i-1\",\"ownerReferences\":[{\"uid\":\"u-1\","
     "\"controller\":true}]}},\"virtualService\":{\"metadata\":{\"name\":\"lab\",\"uid\":\"v-9\"}}}", 0, 0, 0,
     "Running", RT_STATE_READY, "Running", "(no route to it: see the condition Routed)", "", 0, NULL,
     "apply PersistentVolumeClaim,apply Service,apply StatefulSet,delete Ingress", 1, NULL, "Routed=False/NoRoute"},
};

static const char *state_name(rt_state s) {
  static const char *names[] = {"progressing", "ready", "succeeded", "failed", "suspended"};
  return names[s];
}

/* The conditions every tool reads, as docs/status.md sets them per state. */
static void assert_state(const char *name, const json_t *status, rt_state state, const char *reason, int gen) {
  static const char *want[][4] = {
      /* Ready, Reconciling, Stalled, Suspended; "" = absent */
      [RT_STATE_PROGRESSING] = {"False", "True", "False", ""},
      [RT_STATE_READY] = {"True", "False", "False", ""},
      [RT_STATE_SUCCEEDED] = {"True", "False", "False", ""},
      [RT_STATE_FAILED] = {"False", "False", "True", ""},
      [RT_STATE_SUSPENDED] = {"", "False", "False", "True"},
  };
  static const char *types[] = {"Ready", "Reconciling", "Stalled", "Suspended"};
  for (int i = 0; i < 4; i++) {
    json_t *c = rt_condition_get(status, types[i]);
    const char *have = c ? js_str(c, "status") : "";
    ck_assert_msg(strcmp(have, want[state][i]) == 0, "%s: %s is \"%s\", want \"%s\" (%s)", name, types[i], have,
                  want[state][i], state_name(state));
    if (c) {
      ck_assert_msg(strcmp(js_str(c, "reason"), reason) == 0, "%s: %s reason %s", name, types[i], js_str(c, "reason"));
      ck_assert_int_eq(js_int(c, "observedGeneration", -1), gen);
    }
  }
  ck_assert_msg(rt_status_state(status) == state, "%s: the status reads as %s", name,
                state_name(rt_status_state(status)));
}

static json_t *plan_notebook(const plan_case *c) {
  char *doc = xasprintf("{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"lab\","
                        "\"namespace\":\"team-a\",\"uid\":\"u-1\",\"resourceVersion\":\"7\",\"generation\":%d%s%s},"
                        "\"spec\":%s%s%s}",
                        c->generation, c->annotations ? ",\"annotations\":" : "", c->annotations ? c->annotations : "",
                        c->spec, c->status ? ",\"status\":" : "", c->status ? c->status : "");
  json_t *nb = load(doc);
  free(doc);
  return nb;
}

/* The StatefulSet as the cache would hold it after Cubit applied 'desired'. */
static json_t *live_statefulset(const plan_case *c, const json_t *nb, const notebook_spec *spec,
                                const notebook_config *cfg) {
  if (c->sts == STS_NONE) return NULL;
  notebook_spec applied = *spec;
  if (c->sts == STS_OLD) applied.image = "quay.io/jupyter/scipy-notebook:python-3.11";
  applied.stopped = c->replicas == 0;
  char err[256];
  json_t *sts = notebook_desired_statefulset(nb, &applied, cfg, 1, err, sizeof(err));
  ck_assert_msg(sts != NULL, "%s: %s", c->name, err);
  char hash[33];
  js_digest(sts, hash, 32);
  json_object_set_new(js_ensure_obj(sts, "metadata.annotations"), RT_APPLIED_ANNOTATION, json_string(hash));
  js_set(sts, "metadata.generation", json_integer(c->sts == STS_LAGGING ? 3 : 2));
  int ready = c->pod && strcmp(c->pod, POD_READY) == 0;
  json_t *st = json_pack("{s:i, s:i, s:i, s:s, s:s}", "observedGeneration", 2, "replicas", c->replicas > 0,
                         "readyReplicas", ready, "currentRevision", "r1", "updateRevision",
                         c->sts == STS_REVISION ? "r2" : "r1");
  json_object_set_new(sts, "status", st);
  return sts;
}

static void describe_action(const rt_action *a, char *buf, size_t len) {
  switch (a->kind) {
    case RT_ACT_APPLY: snprintf(buf, len, "apply %s", a->resource->kind); break;
    case RT_ACT_DELETE: snprintf(buf, len, "delete %s", a->resource->kind); break;
    case RT_ACT_PATCH_SELF: snprintf(buf, len, "patch"); break;
    default: snprintf(buf, len, "finalizer"); break;
  }
}

static void assert_conditions(const char *name, const json_t *status, const char *want) {
  if (want == NULL) return;
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", want);
  for (char *save = NULL, *item = strtok_r(buf, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
    char type[64], cstatus[16], reason[64];
    ck_assert_int_eq(sscanf(item, "%63[^=]=%15[^/]/%63s", type, cstatus, reason), 3);
    json_t *c = rt_condition_get(status, type);
    ck_assert_msg(c != NULL, "%s: no condition %s", name, type);
    ck_assert_msg(strcmp(js_str(c, "status"), cstatus) == 0 && strcmp(js_str(c, "reason"), reason) == 0,
                  "%s: %s is %s/%s, want %s/%s", name, type, js_str(c, "status"), js_str(c, "reason"), cstatus, reason);
  }
}

START_TEST(test_plan) {
  const plan_case *c = &plan_cases[_i];
  gpu_profile *gpu = profile("{\"system\":\"nvidia\"}");
  json_t *section = load(c->route == ROUTE_INGRESS ? "{\"istio\":false,\"ingressClassName\":\"nginx\","
                                                     "\"urlBase\":\"https://ml.example.com\"}"
                                                   : "{\"urlBase\":\"https://ml.example.com\"}");
  notebook_config cfg;
  char err[512];
  ck_assert_int_eq(notebook_config_parse(section, gpu, &cfg, err, sizeof(err)), 0);
  json_t *nb = plan_notebook(c);
  notebook_spec spec;
  nb_observed in = {.nb = nb, .cfg = &cfg, .now = NOW, .virtualservices_served = c->route != ROUTE_NONE};
  if (notebook_spec_parse(nb, &spec, err, sizeof(err))) in.spec_error = err;
  else in.spec = &spec;
  in.in_project = strcmp(c->name, "GPU the profile cannot give") != 0;
  json_t *sts = in.spec ? live_statefulset(c, nb, &spec, &cfg) : NULL;
  json_t *pod = c->pod ? load(c->pod) : NULL;
  json_t *routes = c->routes ? load(c->routes) : NULL;
  in.statefulset = sts;
  in.pod = pod;
  in.ingress = json_object_get(routes, "ingress");
  in.virtualservice = json_object_get(routes, "virtualService");
  json_t *refusal = strcmp(c->name, REFUSED_CASE) == 0
                        ? json_pack("{s:s, s:s}", "reason", "FailedCreate", "message", REFUSAL)
                        : NULL;
  in.create_refused = refusal;
  in.probe.probed = c->probed;
  in.probe.ok = c->probe_ok;
  in.probe.last = c->probe_last;
  if (c->probed && !c->probe_ok)
    snprintf(in.probe.message, sizeof(in.probe.message), "GET http://127.1.0.9:8888/notebook/team-a/lab/api/status: "
             "HTTP 502");

  rt_plan plan;
  rt_plan_init(&plan);
  nb_plan(&in, &plan);

  /* The status. */
  json_t *status = plan.status;
  ck_assert_msg(status != NULL, "%s: no status", c->name);
  ck_assert_msg(strcmp(js_str(status, "phase"), c->phase) == 0, "%s: phase %s, want %s", c->name,
                js_str(status, "phase"), c->phase);
  ck_assert_msg(strcmp(js_str(status, "reason"), c->reason) == 0, "%s: reason %s, want %s", c->name,
                js_str(status, "reason"), c->reason);
  ck_assert_msg(strstr(js_str(status, "message"), c->message) != NULL, "%s: message \"%s\", want \"...%s...\"",
                c->name, js_str(status, "message"), c->message);
  ck_assert_int_eq(js_int(status, "observedGeneration", -1), c->generation);
  assert_state(c->name, status, c->state, c->reason, c->generation);
  assert_conditions(c->name, status, c->conditions);
  if (c->status_has) {
    json_t *want = load(c->status_has);
    char *have = js_dump(status);
    ck_assert_msg(rt_json_subset(want, status), "%s: the status lacks %s: %s", c->name, c->status_has, have);
    free(have);
    json_decref(want);
  }

  /* The actions, in order. */
  char have[512] = "";
  size_t n = 0;
  const json_t *patch = NULL, *desired_sts = NULL;
  for (size_t i = 0; i < plan.nactions; i++) {
    char one[64];
    describe_action(&plan.actions[i], one, sizeof(one));
    n += (size_t)snprintf(have + n, sizeof(have) - n, "%s%s", i ? "," : "", one);
    if (plan.actions[i].kind == RT_ACT_PATCH_SELF) patch = plan.actions[i].object;
    if (plan.actions[i].kind == RT_ACT_APPLY && plan.actions[i].resource == &kube_statefulsets)
      desired_sts = plan.actions[i].object;
  }
  ck_assert_msg(strcmp(have, c->actions) == 0, "%s: actions \"%s\", want \"%s\"", c->name, have, c->actions);
  if (c->patch) {
    json_t *want = load(c->patch);
    char *h = js_dump(patch);
    ck_assert_msg(json_equal(want, patch), "%s: patch %s, want %s", c->name, h, c->patch);
    free(h);
    json_decref(want);
  } else {
    ck_assert_msg(patch == NULL, "%s: an unexpected patch", c->name);
  }
  if (c->replicas >= 0) ck_assert_int_eq(js_int(desired_sts, "spec.replicas", -1), c->replicas);
  for (size_t i = 0; i < plan.nactions; i++)
    if (plan.actions[i].kind == RT_ACT_APPLY)
      ck_assert_str_eq(js_str(json_array_get(js_get(plan.actions[i].object, "metadata.ownerReferences"), 0), "uid"),
                       "u-1");

  /* The events, in order. */
  n = 0;
  have[0] = '\0';
  for (size_t i = 0; i < plan.nevents; i++) {
    n += (size_t)snprintf(have + n, sizeof(have) - n, "%s%s/%s", i ? "," : "", plan.events[i].type,
                          plan.events[i].reason);
    ck_assert_msg(plan.events[i].message[0] != '\0', "%s: event %s without a message", c->name, plan.events[i].reason);
  }
  ck_assert_msg(strcmp(have, c->events) == 0, "%s: events \"%s\", want \"%s\"", c->name, have, c->events);
  ck_assert_msg(plan.requeue_after_ms == c->requeue_s * 1000, "%s: requeue %lld ms, want %lld s", c->name,
                (long long)plan.requeue_after_ms, (long long)c->requeue_s);

  rt_plan_free(&plan);
  json_decref(refusal);
  json_decref(routes);
  json_decref(pod);
  json_decref(sts);
  json_decref(nb);
  json_decref(section);
  notebook_config_free(&cfg);
  gpu_profile_free(gpu);
}
END_TEST

/* A plan is a function of what it is handed: planning twice over the same
 * observation gives the same plan, and planning over the status it wrote
 * emits nothing again (no event twice for an unchanged state). */
START_TEST(test_plan_settles) {
  const plan_case *c = &plan_cases[_i];
  if (c->patch) return; /* the next observation is another object (spec written) */
  gpu_profile *gpu = profile("{\"system\":\"nvidia\"}");
  notebook_config cfg;
  char err[512];
  json_t *section = load(c->route == ROUTE_INGRESS ? "{\"istio\":false,\"ingressClassName\":\"nginx\"}" : "{}");
  ck_assert_int_eq(notebook_config_parse(section, gpu, &cfg, err, sizeof(err)), 0);
  json_t *nb = plan_notebook(c);
  notebook_spec spec;
  nb_observed in = {.nb = nb, .cfg = &cfg, .now = NOW, .virtualservices_served = c->route != ROUTE_NONE};
  if (notebook_spec_parse(nb, &spec, err, sizeof(err))) in.spec_error = err;
  else in.spec = &spec;
  in.in_project = strcmp(c->name, "GPU the profile cannot give") != 0;
  json_t *sts = in.spec ? live_statefulset(c, nb, &spec, &cfg) : NULL;
  json_t *pod = c->pod ? load(c->pod) : NULL;
  in.statefulset = sts;
  in.pod = pod;
  rt_plan first, second;
  rt_plan_init(&first);
  nb_plan(&in, &first);
  json_object_set(nb, "status", first.status);
  rt_plan_init(&second);
  nb_plan(&in, &second);
  char *a = js_dump(first.status), *b = js_dump(second.status);
  ck_assert_msg(strcmp(a, b) == 0, "%s: the status moved:\n%s\n%s", c->name, a, b);
  free(a);
  free(b);
  for (size_t i = 0; i < second.nevents; i++)
    ck_assert_msg(strcmp(second.events[i].reason, "LeaseRenewed") == 0, "%s: event %s again", c->name,
                  second.events[i].reason);
  rt_plan_free(&first);
  rt_plan_free(&second);
  json_decref(pod);
  json_decref(sts);
  json_decref(nb);
  json_decref(section);
  notebook_config_free(&cfg);
  gpu_profile_free(gpu);
}
END_TEST

/* ------------------------------------------------------------- placement */

/* A notebook of project team-m, whose clusters are east and west (members)
 * and local: where it is placed, its children in the member (labelled back
 * to it, no ownerReference), its status read from the member's StatefulSet
 * and pod, the member going away, and the cleanup there when it is deleted.
 * The members here: east has 1 free card, west 4; "down" says which is not
 * Ready. */
typedef struct placed_case {
  const char *name;
  const char *spec;        /* the Notebook's spec */
  const char *meta;        /* extra metadata fields (",\"finalizers\":[...]"), or "" */
  const char *status;      /* the status read, or NULL */
  const char *down;        /* the member that does not answer, or NULL */
  int children;            /* the member holds the StatefulSet, its Service and claim */
  const char *pod;         /* the member's pod, or NULL */
  int hub_sts;             /* the hub holds a StatefulSet of the notebook (made before placement existed) */
  /* want */
  const char *phase;       /* NULL: no status written */
  const char *reason;
  const char *message;     /* the status message contains it */
  const char *actions;     /* "apply Kind@cluster", "delete Kind@cluster", "+finalizer", "-finalizer", joined by "," */
  const char *events;      /* "Type/Reason" joined by "," */
  int requeue;             /* a requeue is asked for */
  const char *status_has;  /* a JSON object the status holds */
  const char *conditions;  /* "Type=Status/Reason" joined by ";" */
  const char *sts_has;     /* a JSON object the applied StatefulSet holds */
  int routed;              /* east's Cluster names its gateway (spec.gateway) and serves Istio */
  int member_vs;           /* east holds the notebook's VirtualService (routed before) */
} placed_case;

#define FIN ",\"finalizers\":[\"cubit.dev/remote-children\"]"
#define GONE ",\"deletionTimestamp\":\"" T_1H_AGO "\""
#define ON_EAST(phase, reason) ST(phase, reason) ",\"cluster\":\"east\"}"
#define IN_EAST "apply PersistentVolumeClaim@east,apply Service@east,apply StatefulSet@east"
#define EAST_URL "http://lab.team-a.svc.cluster.local/notebook/team-a/lab/"
#define EAST_GW "istio-system/east-gateway"
#define EAST_GW_URL "https://east.ml.example.com/notebook/team-a/lab/"

static const placed_case placed_cases[] = {
    {"pinned: placed before any child", J(",\"cluster\":\"east\""), "", NULL, NULL, 0, NULL, 0,
     "Pending", "Placed", "placed on cluster east (spec.cluster)", "", "Normal/Placed", 0,
     "{\"cluster\":\"east\"}", "Placed=True/Placed", NULL, 0, 0},
    {"by policy: the first with room", J(",\"resources\":{\"gpu\":\"2\"}"), "", NULL, NULL, 0, NULL, 0,
     "Pending", "Placed", "placed on cluster west (policy Ordered)", "", "Normal/Placed", 0,
     "{\"cluster\":\"west\"}", "Placed=True/Placed", NULL, 0, 0},
    {"by policy: most free GPUs", J(",\"placement\":{\"policy\":\"MostFreeGPUs\"}"), "", NULL, NULL, 0, NULL, 0,
     "Pending", "Placed", "placed on cluster west (policy MostFreeGPUs)", "", "Normal/Placed", 0,
     "{\"cluster\":\"west\"}", "Placed=True/Placed", NULL, 0, 0},
    {"no cluster has room", J(",\"resources\":{\"gpu\":\"8\"}"), "", NULL, NULL, 0, NULL, 0,
     "Pending", "NoClusterFits", "no cluster of team-m has room", "", "Warning/NoClusterFits", 1, NULL,
     "Placed=False/NoClusterFits", NULL, 0, 0},
    {"unknown cluster", J(",\"cluster\":\"north\""), "", NULL, NULL, 0, NULL, 0,
     "Pending", "ClusterNotAllowed", "spec.cluster: north is not one of team-m's clusters", "",
     "Warning/ClusterNotAllowed", 0, NULL, "Placed=False/ClusterNotAllowed;Stalled=True/ClusterNotAllowed", NULL, 0, 0},
    {"running in the hub before placement: stays", J(""), "", ST("Running", "Running") ST_END, NULL, 0, NULL, 1,
     "Pending", "Placed", "placed on cluster local (its StatefulSet runs there already)", "", "Normal/Placed", 0,
     "{\"cluster\":\"local\"}", "Placed=True/Placed", NULL, 0, 0},
    {"placed: the finalizer first", J(""), "", ON_EAST("Pending", "Placed"), NULL, 0, NULL, 0,
     NULL, NULL, NULL, "+finalizer", "", 0, NULL, NULL, NULL, 0, 0},
    {"placed on a member: children there", J(",\"resources\":{\"gpu\":\"1\"}"), FIN, ON_EAST("Pending", "Placed"),
     NULL, 0, NULL, 0, "Pending", "PodNotCreated", "StatefulSet and Service created", IN_EAST, "", 0,
     "{\"cluster\":\"east\",\"url\":\"" EAST_URL "\",\"readyReplicas\":0}",
     "ClusterReachable=True/ClusterReachable;Routed=False/InMemberCluster",
     /* No pod webhook of Cubit's in a member: the GPU is translated here. */
     "{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{\"resources\":{\"limits\":"
     "{\"nvidia.com/gpu\":\"1\"}}}]}}}}", 0, 0},
    {"member: ready, from its StatefulSet and pod", J(""), FIN, ON_EAST("Pending", "ContainerCreating"), NULL, 1,
     POD_READY, 0, "Running", "Running", "the IDE is ready at " EAST_URL, IN_EAST, "Normal/Running", 0,
     "{\"readyReplicas\":1,\"url\":\"" EAST_URL "\"}", "ClusterReachable=True/ClusterReachable", NULL, 0, 0},
    {"member: stopped", J(",\"stopped\":true"), FIN, ON_EAST("Running", "Running"), NULL, 1, NULL, 0,
     "Stopped", "StoppedByUser", "stopped by spec.stopped", IN_EAST, "Normal/Stopped", 0, NULL, NULL,
     "{\"spec\":{\"replicas\":0}}", 0, 0},
    {"member: culling cannot probe", J(CULL), FIN, ON_EAST("Running", "Running"), NULL, 1, POD_READY, 0,
     "Running", "Running", "ready at", IN_EAST, "", 0, NULL, "ActivityProbed=False/InMemberCluster", NULL, 0, 0},
    {"member gone: the phase kept", J(""), FIN, ON_EAST("Running", "Running"), "east", 1, POD_READY, 0,
     "Running", "Running", "", "", "Warning/ClusterUnreachable", 1, NULL, "ClusterReachable=False/ClusterUnreachable",
     NULL, 0, 0},
    {"deleted: the member's children go", J(""), FIN GONE, ON_EAST("Running", "Running"), NULL, 1, POD_READY, 0,
     NULL, NULL, NULL, "delete StatefulSet@east,delete Service@east,delete PersistentVolumeClaim@east", "", 1, NULL,
     NULL, NULL, 0, 0},
    {"member with a gateway: routed there", J(""), FIN, ON_EAST("Pending", "ContainerCreating"), NULL, 1, POD_READY,
     0, "Running", "Running", "the IDE is ready at " EAST_GW_URL, IN_EAST ",apply VirtualService@east",
     "Normal/Running", 0, "{\"url\":\"" EAST_GW_URL "\"}", "Routed=True/MemberGateway", NULL, .routed = 1},
    {"member with a gateway, routed already: the same route", J(""), FIN, ON_EAST("Running", "Running"), NULL, 1,
     POD_READY, 0, "Running", "Running", "the IDE is ready at " EAST_GW_URL, IN_EAST ",apply VirtualService@east",
     "", 0, NULL, "Routed=True/MemberGateway", NULL, .routed = 1, .member_vs = 1},
    {"member's gateway no longer named: its route goes", J(""), FIN, ON_EAST("Running", "Running"), NULL, 1,
     POD_READY, 0, "Running", "Running", "the IDE is ready at " EAST_URL, IN_EAST ",delete VirtualService@east",
     "", 0, "{\"url\":\"" EAST_URL "\"}", "Routed=False/InMemberCluster", NULL, .member_vs = 1},
    {"deleted with a route: that goes too", J(""), FIN GONE, ON_EAST("Running", "Running"), NULL, 1, POD_READY, 0,
     NULL, NULL, NULL,
     "delete StatefulSet@east,delete Service@east,delete PersistentVolumeClaim@east,delete VirtualService@east", "",
     1, NULL, NULL, NULL, .member_vs = 1},
    {"deleted: the member is clean", J(""), FIN GONE, ON_EAST("Running", "Running"), NULL, 0, NULL, 0,
     NULL, NULL, NULL, "-finalizer", "", 0, NULL, NULL, NULL, 0, 0},
    {"deleted: the member away too long", J(""), FIN GONE, ON_EAST("Running", "Running"), "east", 1, NULL, 0,
     NULL, NULL, NULL, "-finalizer", "Warning/RemoteCleanupAbandoned", 0, NULL, NULL, NULL, 0, 0},
};

/* A child as the member's cache holds it after Cubit applied 'desired'
 * (stolen) there: no ownerReference, labelled back to the notebook. */
static json_t *in_member(json_t *desired) {
  json_object_del(json_object_get(desired, "metadata"), "ownerReferences");
  json_t *labels = js_ensure_obj(desired, "metadata.labels");
  json_object_set_new(labels, "cubit.dev/owner-uid", json_string("u-1"));
  char hash[33];
  js_digest(desired, hash, 32);
  json_object_set_new(js_ensure_obj(desired, "metadata.annotations"), RT_APPLIED_ANNOTATION, json_string(hash));
  json_object_set_new(json_object_get(desired, "metadata"), "uid", json_string("m-1"));
  return desired;
}

static void describe_placed(const rt_action *a, char *buf, size_t len) {
  switch (a->kind) {
    case RT_ACT_APPLY:
    case RT_ACT_DELETE:
      snprintf(buf, len, "%s %s@%s", a->kind == RT_ACT_APPLY ? "apply" : "delete", a->resource->kind,
               a->cluster ? a->cluster : "local");
      break;
    case RT_ACT_ADD_FINALIZER: snprintf(buf, len, "+finalizer"); break;
    case RT_ACT_REMOVE_FINALIZER: snprintf(buf, len, "-finalizer"); break;
    default: snprintf(buf, len, "patch"); break;
  }
}

/* A Notebook of placed_case c as the plan observes it. */
typedef struct placed_fixture {
  gpu_profile *gpu;
  json_t *section, *nb, *sts, *svc, *pvc, *pod, *vs;
  notebook_config cfg;
  notebook_spec spec;
  placement_view clusters[3];
  nb_observed in;
} placed_fixture;

static void placed_fixture_init(placed_fixture *f, const placed_case *c) {
  memset(f, 0, sizeof(*f));
  f->gpu = profile("{\"system\":\"nvidia\"}");
  f->section = load("{\"urlBase\":\"https://ml.example.com\"}");
  char err[512];
  ck_assert_int_eq(notebook_config_parse(f->section, f->gpu, &f->cfg, err, sizeof(err)), 0);
  char *doc = xasprintf("{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"lab\","
                        "\"namespace\":\"team-a\",\"uid\":\"u-1\",\"resourceVersion\":\"7\",\"generation\":1%s},"
                        "\"spec\":%s%s%s}",
                        c->meta, c->spec, c->status ? ",\"status\":" : "", c->status ? c->status : "");
  f->nb = load(doc);
  free(doc);
  ck_assert_msg(notebook_spec_parse(f->nb, &f->spec, err, sizeof(err)) == 0, "%s: %s", c->name, err);
  static const placement_view views[] = {
      {.name = "east", .ready = 1, .serves = 1, .free_cpu_milli = 64000, .free_memory_bytes = 1LL << 38,
       .free_gpu_milli = 1000},
      {.name = "west", .ready = 1, .serves = 1, .free_cpu_milli = 64000, .free_memory_bytes = 1LL << 38,
       .free_gpu_milli = 4000},
      {.name = "local", .ready = 1, .serves = 1, .free_cpu_milli = 8000, .free_memory_bytes = 1LL << 34},
  };
  memcpy(f->clusters, views, sizeof(views));
  for (size_t i = 0; i < 3; i++)
    if (c->down && strcmp(f->clusters[i].name, c->down) == 0) {
      f->clusters[i].ready = 0;
      f->clusters[i].message = "Get \"https://east:6443/version\": connection refused";
    }
  f->in = (nb_observed){.nb = f->nb, .spec = &f->spec, .cfg = &f->cfg, .now = NOW, .in_project = 1,
                        .virtualservices_served = 1, .project_name = "team-m", .clusters = f->clusters, .nclusters = 3};
  if (c->children) {
    f->sts = in_member(notebook_desired_statefulset(f->nb, &f->spec, &f->cfg, 0, err, sizeof(err)));
    json_object_set_new(f->sts, "status", json_pack("{s:i, s:i, s:s, s:s}", "observedGeneration", 1, "readyReplicas",
                                                    c->pod != NULL, "currentRevision", "r1", "updateRevision", "r1"));
    js_set(f->sts, "metadata.generation", json_integer(1));
    f->svc = in_member(notebook_desired_service(f->nb, &f->spec));
    f->pvc = in_member(notebook_desired_pvc(f->nb, &f->spec));
  } else if (c->hub_sts) {
    f->sts = notebook_desired_statefulset(f->nb, &f->spec, &f->cfg, 1, err, sizeof(err));
  }
  if (c->member_vs) f->vs = in_member(notebook_desired_virtualservice(f->nb, &f->spec, EAST_GW, NULL));
  if (c->routed) f->in.member_gateway = EAST_GW, f->in.member_url_base = "https://east.ml.example.com";
  f->pod = c->pod ? load(c->pod) : NULL;
  f->in.statefulset = f->sts, f->in.service = f->svc, f->in.pvc = f->pvc, f->in.pod = f->pod;
  f->in.virtualservice = f->vs;
}

static void placed_fixture_free(placed_fixture *f) {
  json_decref(f->vs);
  json_decref(f->pod);
  json_decref(f->sts);
  json_decref(f->svc);
  json_decref(f->pvc);
  json_decref(f->nb);
  json_decref(f->section);
  notebook_config_free(&f->cfg);
  gpu_profile_free(f->gpu);
}

START_TEST(test_plan_placed) {
  const placed_case *c = &placed_cases[_i];
  placed_fixture f;
  placed_fixture_init(&f, c);
  nb_observed in = f.in;
  json_t *nb = f.nb;
  rt_plan plan;
  rt_plan_init(&plan);
  nb_plan(&in, &plan);

  if (c->phase == NULL) {
    ck_assert_msg(plan.status == NULL, "%s: a status written", c->name);
  } else {
    json_t *status = plan.status;
    ck_assert_msg(status != NULL, "%s: no status", c->name);
    ck_assert_msg(strcmp(js_str(status, "phase"), c->phase) == 0, "%s: phase %s, want %s", c->name,
                  js_str(status, "phase"), c->phase);
    ck_assert_msg(strcmp(js_str(status, "reason"), c->reason) == 0, "%s: reason %s, want %s", c->name,
                  js_str(status, "reason"), c->reason);
    if (c->message[0])
      ck_assert_msg(js_str(status, "message") && strstr(js_str(status, "message"), c->message) != NULL,
                    "%s: message \"%s\", want \"...%s...\"", c->name, js_str(status, "message"), c->message);
    assert_conditions(c->name, status, c->conditions);
    if (c->status_has) {
      json_t *want = load(c->status_has);
      char *have = js_dump(status);
      ck_assert_msg(rt_json_subset(want, status), "%s: the status lacks %s: %s", c->name, c->status_has, have);
      free(have);
      json_decref(want);
    }
  }
  char have[512] = "";
  size_t n = 0;
  for (size_t i = 0; i < plan.nactions; i++) {
    const rt_action *a = &plan.actions[i];
    char one[96];
    describe_placed(a, one, sizeof(one));
    n += (size_t)snprintf(have + n, sizeof(have) - n, "%s%s", i ? "," : "", one);
    if (a->kind == RT_ACT_APPLY && a->cluster) {
      /* In a member: labelled back to the notebook, never owned across clusters. */
      ck_assert_msg(js_get(a->object, "metadata.ownerReferences") == NULL, "%s: %s with an ownerReference", c->name,
                    one);
      const json_t *labels = js_get(a->object, "metadata.labels");
      ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/owner-uid")), "u-1");
      ck_assert_str_eq(json_string_value(json_object_get(labels, NOTEBOOK_LABEL)), "lab");
    }
    if (a->kind == RT_ACT_APPLY && a->resource == &notebook_virtualservices) {
      /* Through the member's own gateway, never the hub's. */
      const char *gw = json_string_value(json_array_get(js_get(a->object, "spec.gateways"), 0));
      ck_assert_msg(gw && strcmp(gw, EAST_GW) == 0, "%s: the route is on gateway %s", c->name, gw ? gw : "(none)");
    }
    if (c->sts_has && a->kind == RT_ACT_APPLY && a->resource == &kube_statefulsets) {
      json_t *want = load(c->sts_has);
      char *h = js_dump(a->object);
      ck_assert_msg(rt_json_subset(want, a->object), "%s: the StatefulSet lacks %s: %s", c->name, c->sts_has, h);
      free(h);
      json_decref(want);
    }
  }
  ck_assert_msg(strcmp(have, c->actions) == 0, "%s: actions \"%s\", want \"%s\"", c->name, have, c->actions);
  n = 0;
  have[0] = '\0';
  for (size_t i = 0; i < plan.nevents; i++)
    n += (size_t)snprintf(have + n, sizeof(have) - n, "%s%s/%s", i ? "," : "", plan.events[i].type,
                          plan.events[i].reason);
  ck_assert_msg(strcmp(have, c->events) == 0, "%s: events \"%s\", want \"%s\"", c->name, have, c->events);
  ck_assert_msg((plan.requeue_after_ms > 0) == c->requeue, "%s: requeue %lld ms", c->name,
                (long long)plan.requeue_after_ms);
  /* Planned again over the status it wrote: no event twice. */
  if (plan.status) {
    json_object_set(nb, "status", plan.status);
    rt_plan again;
    rt_plan_init(&again);
    nb_plan(&in, &again);
    ck_assert_msg(again.nevents == 0, "%s: event %s again", c->name, again.nevents ? again.events[0].reason : "");
    rt_plan_free(&again);
  }

  rt_plan_free(&plan);
  placed_fixture_free(&f);
}
END_TEST

/* A notebook placed on a member relays the member's Warnings about its pod
 * once each (status.memberWarnings remembers them): the second plan over
 * the status it wrote says nothing again. */
START_TEST(test_plan_placed_relays_member_warnings) {
  const placed_case c = {.name = "member warning", .spec = J(""), .meta = FIN,
                         .status = ON_EAST("Running", "Running") , .children = 1, .pod = POD_READY};
  placed_fixture f;
  placed_fixture_init(&f, &c);
  json_t *ev = load("{\"metadata\":{\"name\":\"lab-0.1\",\"namespace\":\"team-a\"},\"type\":\"Warning\","
                    "\"reason\":\"BackOff\",\"message\":\"Back-off restarting failed container notebook\","
                    "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"lab-0\",\"namespace\":\"team-a\"},"
                    "\"lastTimestamp\":\"2026-11-22T07:59:00Z\"}");
  json_t *events[1] = {ev};
  f.in.member_events = events;
  f.in.nmember_events = 1;
  rt_plan plan;
  rt_plan_init(&plan);
  nb_plan(&f.in, &plan);
  int relayed = 0;
  for (size_t i = 0; i < plan.nevents; i++)
    if (strcmp(plan.events[i].reason, "BackOff") == 0) {
      relayed++;
      ck_assert_str_eq(plan.events[i].type, "Warning");
      ck_assert_str_eq(plan.events[i].message, "cluster east: Pod lab-0: Back-off restarting failed container notebook");
    }
  ck_assert_int_eq(relayed, 1);
  const json_t *kept = json_array_get(js_get(plan.status, "memberWarnings"), 0);
  ck_assert_str_eq(js_str(kept, "reason"), "BackOff");
  json_object_set(f.nb, "status", plan.status);
  rt_plan again;
  rt_plan_init(&again);
  nb_plan(&f.in, &again);
  for (size_t i = 0; i < again.nevents; i++) ck_assert_str_ne(again.events[i].reason, "BackOff");
  ck_assert_ptr_nonnull(js_get(again.status, "memberWarnings"));
  rt_plan_free(&again);
  rt_plan_free(&plan);
  json_decref(ev);
  placed_fixture_free(&f);
}
END_TEST

/* --------------------------------------------------------------- webhook */

static void review(const char *op, const char *object, const char *old, adm_response *resp) {
  char body[4096];
  snprintf(body, sizeof(body),
           "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"r1\","
           "\"kind\":{\"group\":\"cubit.dev\",\"version\":\"v1alpha1\",\"kind\":\"Notebook\"},"
           "\"resource\":{\"group\":\"cubit.dev\",\"version\":\"v1alpha1\",\"resource\":\"notebooks\"},"
           "\"namespace\":\"team-a\",\"name\":\"lab\",\"operation\":\"%s\",\"userInfo\":{\"username\":\"alice\"},"
           "\"object\":%s%s%s}}",
           op, object, old ? ",\"oldObject\":" : "", old ? old : "");
  adm_request req;
  char err[256];
  ck_assert_msg(adm_request_parse(body, strlen(body), &req, err, sizeof(err)) == 0, "%s", err);
  webhook_env env;
  memset(&env, 0, sizeof(env));
  gpu_profile *gpu = profile("{\"system\":\"nvidia\"}");
  env.gpu = gpu;
  adm_response_init(resp);
  validate_notebook_handler(&req, resp, &env);
  adm_request_free(&req);
  gpu_profile_free(gpu);
}

#define NB(spec) "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Notebook\",\"metadata\":{\"name\":\"lab\"},\"spec\":" spec "}"

START_TEST(test_webhook) {
  adm_response resp;
  review("CREATE", NB("{\"ide\":\"jupyter\",\"resources\":{\"gpu\":\"2\"}}"), NULL, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);

  review("CREATE", NB("{\"ide\":\"jupyter\",\"resources\":{\"gpu\":\"two cards\"}}"), NULL, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_int_eq(resp.code, 422);
  ck_assert_msg(strstr(resp.message, "Notebook lab: spec.resources.gpu: GPU request \"two cards\"") != NULL, "%s",
                resp.message);
  adm_response_free(&resp);

  /* Grammatical, but this cluster's GPUs are whole cards. */
  review("CREATE", NB("{\"ide\":\"jupyter\",\"resources\":{\"gpu\":\"0.5\"}}"), NULL, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_msg(strstr(resp.message, "spec.resources.gpu: ") && strstr(resp.message, "whole cards"), "%s",
                resp.message);
  adm_response_free(&resp);

  review("CREATE",
         NB("{\"ide\":\"jupyter\",\"volumes\":{\"workspace\":{\"mountPath\":\"/w\"},\"claims\":[{\"claimName\":\"d\","
            "\"mountPath\":\"/w\"}]}}"),
         NULL, &resp);
  ck_assert_int_eq(resp.allowed, 0);
  ck_assert_msg(strstr(resp.message, "spec.volumes.claims[0].mountPath: /w is the workspace's mount path"), "%s",
                resp.message);
  adm_response_free(&resp);

  /* Stopping (Cubit's culler does it) is never blocked by the rest of the spec. */
  review("UPDATE", NB("{\"ide\":\"jupyter\",\"resources\":{\"gpu\":\"0.5\"},\"stopped\":true}"),
         NB("{\"ide\":\"jupyter\",\"resources\":{\"gpu\":\"0.5\"}}"), &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
  /* A real spec change is judged. */
  review("UPDATE", NB("{\"ide\":\"jupyter\",\"resources\":{\"gpu\":\"0.5\"}}"), NB("{\"ide\":\"jupyter\"}"), &resp);
  ck_assert_int_eq(resp.allowed, 0);
  adm_response_free(&resp);
  review("DELETE", NB("{\"ide\":\"emacs\"}"), NULL, &resp);
  ck_assert_int_eq(resp.allowed, 1);
  adm_response_free(&resp);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("notebook");
  TCase *tc = tcase_create("children");
  tcase_add_loop_test(tc, test_golden, 0, sizeof(golden_cases) / sizeof(golden_cases[0]));
  tcase_add_test(tc, test_children_facts);
  tcase_add_test(tc, test_gpu_untranslatable_outside_project);
  suite_add_tcase(s, tc);
  tc = tcase_create("spec");
  tcase_add_loop_test(tc, test_spec_parse, 0, sizeof(spec_cases) / sizeof(spec_cases[0]));
  tcase_add_test(tc, test_spec_defaults);
  tcase_add_test(tc, test_config);
  suite_add_tcase(s, tc);
  tc = tcase_create("activity");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_activity, 0, sizeof(activity_cases) / sizeof(activity_cases[0]));
  tcase_add_test(tc, test_activity_alloc_failures);
  tcase_add_test(tc, test_cull_due);
  tcase_add_loop_test(tc, test_lease, 0, sizeof(lease_cases) / sizeof(lease_cases[0]));
  suite_add_tcase(s, tc);
  tc = tcase_create("phase");
  tcase_add_loop_test(tc, test_phase, 0, sizeof(phase_cases) / sizeof(phase_cases[0]));
  suite_add_tcase(s, tc);
  tc = tcase_create("plan");
  tcase_add_loop_test(tc, test_plan, 0, sizeof(plan_cases) / sizeof(plan_cases[0]));
  tcase_add_loop_test(tc, test_plan_settles, 0, sizeof(plan_cases) / sizeof(plan_cases[0]));
  tcase_add_loop_test(tc, test_plan_placed, 0, sizeof(placed_cases) / sizeof(placed_cases[0]));
  tcase_add_test(tc, test_plan_placed_relays_member_warnings);
  suite_add_tcase(s, tc);
  tc = tcase_create("webhook");
  tcase_add_test(tc, test_webhook);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
