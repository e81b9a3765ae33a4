/* Tests of api/podtemplate: the merge rules (a table: Cubit's template and
 * the user's podTemplate in, the merged template out), layering a role's
 * podTemplate over the job's, and admission's refusals with their paths. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "api/podtemplate/podtemplate.h"
#include "util/json.h"

static json_t *parse(const char *text) {
  json_error_t e;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
  ck_assert_msg(v != NULL, "bad test JSON: %s: %s", e.text, text);
  return v;
}

/* ---- merge ------------------------------------------------------------------------- */

typedef struct {
  const char *what, *cubit, *user, *want;
} merge_case;

static const merge_case merge_cases[] = {
    {"no podTemplate: unchanged", "{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"a\"}]}}", "null",
     "{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"a\"}]}}"},
    {"scalars the user alone sets arrive", "{\"spec\":{\"containers\":[]}}",
     "{\"spec\":{\"serviceAccountName\":\"deployer\",\"priorityClassName\":\"high\",\"hostNetwork\":true}}",
     "{\"spec\":{\"containers\":[],\"serviceAccountName\":\"deployer\",\"priorityClassName\":\"high\","
     "\"hostNetwork\":true}}"},
    {"Cubit's scalar wins", "{\"spec\":{\"schedulerName\":\"volcano\",\"restartPolicy\":\"Never\"}}",
     "{\"spec\":{\"restartPolicy\":\"Always\"}}", "{\"spec\":{\"schedulerName\":\"volcano\",\"restartPolicy\":\"Never\"}}"},
    {"labels merge, Cubit's key wins", "{\"metadata\":{\"labels\":{\"cubit.dev/trainingjob\":\"j\",\"team\":\"cubit\"}}}",
     "{\"metadata\":{\"labels\":{\"team\":\"user\",\"app\":\"x\"},\"annotations\":{\"a\":\"1\"}}}",
     "{\"metadata\":{\"labels\":{\"cubit.dev/trainingjob\":\"j\",\"team\":\"cubit\",\"app\":\"x\"},"
     "\"annotations\":{\"a\":\"1\"}}}"},
    {"metadata created when Cubit has none", "{\"spec\":{}}", "{\"metadata\":{\"labels\":{\"app\":\"x\"}}}",
     "{\"spec\":{},\"metadata\":{\"labels\":{\"app\":\"x\"}}}"},
    {"nodeSelector merges key by key", "{\"spec\":{\"nodeSelector\":{\"gpu\":\"A100\"}}}",
     "{\"spec\":{\"nodeSelector\":{\"gpu\":\"T4\",\"zone\":\"a\"}}}",
     "{\"spec\":{\"nodeSelector\":{\"gpu\":\"A100\",\"zone\":\"a\"}}}"},
    {"securityContext merges recursively", "{\"spec\":{\"securityContext\":{\"fsGroup\":100}}}",
     "{\"spec\":{\"securityContext\":{\"fsGroup\":0,\"runAsUser\":1000}}}",
     "{\"spec\":{\"securityContext\":{\"fsGroup\":100,\"runAsUser\":1000}}}"},
    {"Cubit's container extended by name, Cubit's fields win",
     "{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"cubit\"}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"main\",\"securityContext\":{\"privileged\":true},"
     "\"env\":[{\"name\":\"X\",\"value\":\"user\"},{\"name\":\"Y\",\"value\":\"y\"}],"
     "\"envFrom\":[{\"secretRef\":{\"name\":\"s\"}}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"cubit\"},"
     "{\"name\":\"Y\",\"value\":\"y\"}],\"securityContext\":{\"privileged\":true},"
     "\"envFrom\":[{\"secretRef\":{\"name\":\"s\"}}]}]}}"},
    {"a sidecar is appended", "{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"a\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"proxy\",\"image\":\"p\"}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"a\"},{\"name\":\"proxy\",\"image\":\"p\"}]}}"},
    {"volumes merge by name", "{\"spec\":{\"volumes\":[{\"name\":\"dshm\",\"emptyDir\":{\"medium\":\"Memory\"}}]}}",
     "{\"spec\":{\"volumes\":[{\"name\":\"dshm\",\"emptyDir\":{}},{\"name\":\"cfg\",\"configMap\":{\"name\":\"c\"}}]}}",
     "{\"spec\":{\"volumes\":[{\"name\":\"dshm\",\"emptyDir\":{\"medium\":\"Memory\"}},"
     "{\"name\":\"cfg\",\"configMap\":{\"name\":\"c\"}}]}}"},
    {"volumeMounts merge by mountPath",
     "{\"spec\":{\"containers\":[{\"name\":\"m\",\"volumeMounts\":[{\"name\":\"a\",\"mountPath\":\"/a\"}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"m\",\"volumeMounts\":[{\"name\":\"b\",\"mountPath\":\"/a\"},"
     "{\"name\":\"cfg\",\"mountPath\":\"/etc/cfg\"}]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"m\",\"volumeMounts\":[{\"name\":\"a\",\"mountPath\":\"/a\"},"
     "{\"name\":\"cfg\",\"mountPath\":\"/etc/cfg\"}]}]}}"},
    {"imagePullSecrets merge by name", "{\"spec\":{\"imagePullSecrets\":[{\"name\":\"a\"}]}}",
     "{\"spec\":{\"imagePullSecrets\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
     "{\"spec\":{\"imagePullSecrets\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}"},
    {"tolerations merge by key and effect, Cubit's whole",
     "{\"spec\":{\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]}}",
     "{\"spec\":{\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Equal\",\"value\":\"x\",\"effect\":\"NoSchedule\"},"
     "{\"key\":\"gpu\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]}}",
     "{\"spec\":{\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"},"
     "{\"key\":\"gpu\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]}}"},
    {"hostAliases merge by ip", "{\"spec\":{}}",
     "{\"spec\":{\"hostAliases\":[{\"ip\":\"10.0.0.1\",\"hostnames\":[\"registry.local\"]}]}}",
     "{\"spec\":{\"hostAliases\":[{\"ip\":\"10.0.0.1\",\"hostnames\":[\"registry.local\"]}]}}"},
    {"an unkeyed list is Cubit's when Cubit has one",
     "{\"spec\":{\"containers\":[{\"name\":\"m\",\"command\":[\"python\"]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"m\",\"command\":[\"sh\"]}]}}",
     "{\"spec\":{\"containers\":[{\"name\":\"m\",\"command\":[\"python\"]}]}}"},
    {"an unkeyed list is the user's when Cubit's is empty", "{\"spec\":{\"topologySpreadConstraints\":[]}}",
     "{\"spec\":{\"topologySpreadConstraints\":[{\"maxSkew\":1}]}}",
     "{\"spec\":{\"topologySpreadConstraints\":[{\"maxSkew\":1}]}}"},
    {"affinity arrives whole", "{\"spec\":{}}",
     "{\"spec\":{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{"
     "\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]}]}]}}}}}",
     "{\"spec\":{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{"
     "\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]}]}]}}}}}"},
    {"a Cubit null is filled", "{\"spec\":{\"nodeSelector\":null}}", "{\"spec\":{\"nodeSelector\":{\"a\":\"b\"}}}",
     "{\"spec\":{\"nodeSelector\":{\"a\":\"b\"}}}"},
};

START_TEST(merge_rules) {
  const merge_case *c = &merge_cases[_i];
  json_t *tmpl = parse(c->cubit), *user = parse(c->user), *want = parse(c->want);
  pt_merge(tmpl, user);
  char *got = js_dump(tmpl), *exp = js_dump(want);
  ck_assert_msg(json_equal(tmpl, want), "%s:\n got  %s\n want %s", c->what, got, exp);
  /* The user's object is only read. */
  json_t *again = parse(c->user);
  ck_assert_msg(json_equal(user, again), "%s: the podTemplate was modified", c->what);
  free(got);
  free(exp);
  json_decref(again);
  json_decref(tmpl);
  json_decref(user);
  json_decref(want);
}
END_TEST

/* ---- layering a role over the job -------------------------------------------------- */

START_TEST(layer_role_over_job) {
  json_t *job = parse("{\"metadata\":{\"labels\":{\"team\":\"a\"}},\"spec\":{\"serviceAccountName\":\"job\","
                      "\"imagePullSecrets\":[{\"name\":\"reg\"}]}}");
  json_t *role = parse("{\"spec\":{\"serviceAccountName\":\"role\",\"nodeSelector\":{\"pool\":\"ps\"}}}");
  json_t *got = pt_layer(job, role);
  json_t *want = parse("{\"metadata\":{\"labels\":{\"team\":\"a\"}},\"spec\":{\"serviceAccountName\":\"role\","
                       "\"nodeSelector\":{\"pool\":\"ps\"},\"imagePullSecrets\":[{\"name\":\"reg\"}]}}");
  ck_assert(json_equal(got, want));
  json_decref(got);
  got = pt_layer(NULL, role);
  ck_assert(json_equal(got, role));
  json_decref(got);
  got = pt_layer(job, NULL);
  ck_assert(json_equal(got, job));
  json_decref(got);
  ck_assert_ptr_null(pt_layer(NULL, NULL));
  json_decref(want);
  json_decref(role);
  json_decref(job);
}
END_TEST

/* ---- validation -------------------------------------------------------------------- */

typedef struct {
  const char *pt;
  const char *err; /* NULL: valid; else a substring of the message */
} validate_case;

static const validate_case validate_cases[] = {
    {"null", NULL},
    {"{}", NULL},
    {"{\"metadata\":{\"labels\":{\"app\":\"x\"},\"annotations\":{\"a\":\"b\"}},\"spec\":{\"serviceAccountName\":\"s\","
     "\"imagePullSecrets\":[{\"name\":\"reg\"}],\"nodeSelector\":{\"a\":\"b\"},\"tolerations\":[{\"key\":\"k\","
     "\"operator\":\"Exists\"}],\"containers\":[{\"name\":\"main\",\"envFrom\":[{\"secretRef\":{\"name\":\"s\"}}]},"
     "{\"name\":\"proxy\",\"image\":\"p\"}],\"hostAliases\":[{\"ip\":\"1.2.3.4\",\"hostnames\":[\"h\"]}]}}",
     NULL},
    {"[]", "spec.podTemplate: want an object"},
    {"{\"template\":{}}", "spec.podTemplate.template: unknown field"},
    {"{\"metadata\":{\"name\":\"x\"}}", "spec.podTemplate.metadata.name: unknown field"},
    {"{\"metadata\":{\"labels\":{\"a\":1}}}", "spec.podTemplate.metadata.labels.a: want a string"},
    {"{\"metadata\":{\"labels\":{\"cubit.dev/project\":\"p\"}}}",
     "spec.podTemplate.metadata.labels.cubit.dev/project: cubit.dev/ keys are Cubit's own"},
    {"{\"metadata\":{\"annotations\":{\"cubit.dev/user\":\"root\"}}}",
     "spec.podTemplate.metadata.annotations.cubit.dev/user: cubit.dev/ keys"},
    {"{\"spec\":[]}", "spec.podTemplate.spec: want a PodSpec fragment"},
    {"{\"spec\":{\"restartPolicy\":\"Always\"}}", "spec.podTemplate.spec.restartPolicy: not allowed"},
    {"{\"spec\":{\"nodeName\":\"n1\"}}", "spec.podTemplate.spec.nodeName: not allowed"},
    {"{\"spec\":{\"schedulerName\":\"x\"}}", "spec.podTemplate.spec.schedulerName: not allowed"},
    {"{\"spec\":{\"containers\":{}}}", "spec.podTemplate.spec.containers: want a list"},
    {"{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}", "spec.podTemplate.spec.containers[0].name: required"},
    {"{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"x\"}]}}",
     "spec.podTemplate.spec.containers[0].image: the \"main\" container is Cubit's"},
    {"{\"spec\":{\"containers\":[{\"name\":\"main\",\"command\":[\"sh\"]}]}}",
     "spec.podTemplate.spec.containers[0].command: the \"main\" container is Cubit's"},
    {"{\"spec\":{\"containers\":[{\"name\":\"main\",\"resources\":{}}]}}",
     "spec.podTemplate.spec.containers[0].resources:"},
    {"{\"spec\":{\"containers\":[{\"name\":\"main\"},{\"name\":\"side\"}]}}",
     "spec.podTemplate.spec.containers[1].image: required for the extra container \"side\""},
    {"{\"spec\":{\"initContainers\":[{\"name\":\"main\"}]}}",
     "spec.podTemplate.spec.initContainers[0].image: required for the init container"},
    {"{\"spec\":{\"volumes\":[{\"emptyDir\":{}}]}}", "spec.podTemplate.spec.volumes[0].name: required"},
    {"{\"spec\":{\"imagePullSecrets\":[\"reg\"]}}", "spec.podTemplate.spec.imagePullSecrets[0].name: required"},
};

START_TEST(validate_table) {
  const validate_case *c = &validate_cases[_i];
  json_t *pt = parse(c->pt);
  char err[512] = "";
  int rc = pt_validate(pt, "spec.podTemplate", "main", err, sizeof(err));
  if (c->err == NULL) ck_assert_msg(rc == 0, "%s: refused: %s", c->pt, err);
  else {
    ck_assert_msg(rc == CUBIT_EINVAL, "%s: accepted", c->pt);
    ck_assert_msg(strstr(err, c->err) != NULL, "%s:\n got  %s\n want %s", c->pt, err, c->err);
  }
  json_decref(pt);
}
END_TEST

int main(void) {
  Suite *s = suite_create("podtemplate");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, merge_rules, 0, (int)(sizeof(merge_cases) / sizeof(merge_cases[0])));
  tcase_add_test(tc, layer_role_over_job);
  tcase_add_loop_test(tc, validate_table, 0, (int)(sizeof(validate_cases) / sizeof(validate_cases[0])));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
