/* The Project kind: its spec parser, who may change which field, and
 * project_plan as a table of observed states in, actions, status and
 * events out (docs/project.md#status). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/project/project.h"
#include "controllers/project/project.h"
#include "runtime/conditions.h"
#include "runtime/status.h"
#include "testutil.h"
#include "util/json.h"

static json_t *parse(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
  ck_assert_msg(j != NULL, "fixture JSON: %s: %s", e.text, text);
  return j;
}

/* ------------------------------------------------------------- parser */

static const struct {
  const char *project;
  int rc;
  const char *err; /* prefix */
} spec_cases[] = {
    {"{}", 0, ""},
    {"5", 0, ""},
    {"{\"spec\":null}", 0, ""},
    {"{\"spec\":5}", CUBIT_EINVAL, "spec: must be an object"},
    {"{\"spec\":{\"namespaces\":\"a\"}}", CUBIT_EINVAL, "spec.namespaces: must be a list of names"},
    {"{\"spec\":{\"namespaces\":[\"a\",5]}}", CUBIT_EINVAL, "spec.namespaces[1]: want a namespace name"},
    {"{\"spec\":{\"namespaces\":[\"-a\"]}}", CUBIT_EINVAL, "spec.namespaces[0]: want a namespace name"},
    {"{\"spec\":{\"namespaces\":[\"a\",\"b\",\"a\"]}}", CUBIT_EINVAL, "spec.namespaces[2]: namespace a is listed twice"},
    {"{\"spec\":{\"members\":{}}}", CUBIT_EINVAL, "spec.members: must be a list"},
    {"{\"spec\":{\"members\":[5]}}", CUBIT_EINVAL, "spec.members[0].kind: want User, Group or ServiceAccount"},
    {"{\"spec\":{\"members\":[{\"kind\":\"User\",\"name\":\"\",\"role\":\"view\"}]}}", CUBIT_EINVAL,
     "spec.members[0].name: want a name of 1 to 253 characters"},
    {"{\"spec\":{\"members\":[{\"kind\":\"User\",\"name\":\"a\",\"role\":\"owner\"}]}}", CUBIT_EINVAL,
     "spec.members[0].role: want admin, edit or view, got \"owner\""},
    {"{\"spec\":{\"quota\":{\"gpu\":\"x\"}}}", CUBIT_EINVAL, "spec.quota.gpu:"},
    {"{\"spec\":{\"quota\":{\"perMember\":{\"pods\":-1}}}}", CUBIT_EINVAL, "spec.quota.perMember.pods:"},
    {"{\"spec\":{\"deletionPolicy\":\"Keep\"}}", CUBIT_EINVAL, "spec.deletionPolicy: want Retain or Delete"},
    {"{\"spec\":{\"deletionPolicy\":5}}", CUBIT_EINVAL, "spec.deletionPolicy: want Retain or Delete"},
    {"{\"spec\":{\"queue\":{\"weight\":0}}}", CUBIT_EINVAL, "spec.queue.weight: want a whole number from 1 to 65535"},
    {"{\"spec\":{\"queue\":5}}", CUBIT_EINVAL, "spec.queue: must be an object"},
    {"{\"spec\":{\"volumes\":{\"shared\":{\"claimName\":\"s\",\"provision\":{}}}}}", CUBIT_EINVAL,
     "spec.volumes.shared.provision.size: required"},
    {"{\"spec\":{\"volumes\":{\"shared\":{\"claimName\":\"s\",\"provision\":{\"size\":\"lots\"}}}}}", CUBIT_EINVAL,
     "spec.volumes.shared.provision.size:"},
    {"{\"spec\":{\"volumes\":{\"shared\":{\"claimName\":\"s\",\"provision\":{\"size\":\"0\"}}}}}", CUBIT_EINVAL,
     "spec.volumes.shared.provision.size: must be positive"},
    {"{\"spec\":{\"volumes\":{\"shared\":{\"claimName\":\"s\",\"provision\":{\"size\":\"1Gi\","
     "\"accessModes\":[\"ReadWriteAll\"]}}}}}",
     CUBIT_EINVAL, "spec.volumes.shared.provision.accessModes[0]: want ReadWriteOnce"},
    {"{\"spec\":{\"volumes\":{\"personal\":{}}}}", CUBIT_EINVAL,
     "spec.volumes.personal: without a claimName it is a sub-path of the shared claim"},
    {"{\"spec\":{\"volumes\":{\"shared\":{\"claimName\":\"s\",\"provision\":{\"size\":\"100Gi\","
     "\"storageClassName\":\"nfs\",\"accessModes\":[\"ReadWriteMany\"]}},\"personal\":{\"mountRoot\":\"/home\"}}}}",
     0, ""},
    {"{\"spec\":{\"namespaces\":[\"a\",\"b\"],\"members\":[{\"kind\":\"Group\",\"name\":\"g\",\"role\":\"edit\"}],"
     "\"quota\":{\"gpu\":\"1.5\",\"perMember\":{\"pods\":2}},\"deletionPolicy\":\"Delete\",\"queue\":{\"weight\":3}}}",
     0, ""},
};

START_TEST(spec_parse) {
  json_t *p = parse(spec_cases[_i].project);
  project_spec s;
  char err[512] = "?";
  int rc = project_spec_parse(p, &s, err, sizeof(err));
  ck_assert_msg(rc == spec_cases[_i].rc, "case %d: rc %d: %s", _i, rc, err);
  ck_assert_msg(strncmp(err, spec_cases[_i].err, strlen(spec_cases[_i].err)) == 0, "case %d: %s", _i, err);
  if (rc == 0) project_spec_free(&s);
  json_decref(p);
}
END_TEST

START_TEST(spec_parse_fields) {
  json_t *p = parse(spec_cases[sizeof(spec_cases) / sizeof(spec_cases[0]) - 1].project);
  project_spec s;
  char err[256];
  ck_assert_int_eq(project_spec_parse(p, &s, err, sizeof(err)), 0);
  ck_assert_uint_eq(s.nnamespaces, 2);
  ck_assert(project_lists(&s, "b"));
  ck_assert(!project_lists(&s, "c"));
  ck_assert_uint_eq(s.nmembers, 1);
  ck_assert_str_eq(s.members[0].kind, "Group");
  ck_assert_int_eq(s.quota.gpu_milli, 1500);
  ck_assert_int_eq(s.per_member.pods, 2);
  ck_assert_int_eq(s.delete_namespaces, 1);
  ck_assert_int_eq(s.queue_weight, 3);
  project_spec_free(&s);
  json_decref(p);
}
END_TEST

/* -------------------------------------------------- who changes what */

static const struct {
  const char *old, *new_;
  int n;
  const char *which;
} tenancy_cases[] = {
    {"{}", "{}", 0, ""},
    {NULL, "{\"members\":[],\"displayName\":\"x\",\"volumes\":{}}", 0, ""},
    {"{\"members\":[1]}", "{\"members\":[2]}", 0, ""},
    {"{\"quota\":{\"gpu\":\"1\"}}", "{\"quota\":{\"gpu\":\"64\"}}", 1, "spec.quota"},
    {"{\"quota\":{\"gpu\":\"1\"}}", "{}", 1, "spec.quota"},
    {"{}", "{\"namespaces\":[\"a\"],\"queue\":{}}", 2, "spec.namespaces, spec.queue"},
    {"{\"quota\":null}", "{}", 0, ""},
    {"{\"volumes\":{\"shared\":{\"claimName\":\"a\"}}}", "{\"volumes\":{\"shared\":{\"claimName\":\"b\"},\"personal\":{}}}", 0,
     ""},
    {"{\"volumes\":{\"shared\":{\"claimName\":\"a\"}}}",
     "{\"volumes\":{\"shared\":{\"claimName\":\"a\",\"provision\":{\"size\":\"1Pi\"}}}}", 1,
     "spec.volumes.shared.provision"},
    {"{\"volumes\":{\"shared\":{\"claimName\":\"a\",\"provision\":{\"size\":\"1Gi\"}}}}",
     "{\"volumes\":{\"shared\":{\"claimName\":\"b\",\"provision\":{\"size\":\"1Gi\"}}}}", 0, ""},
    {"{\"volumes\":{\"shared\":{\"claimName\":\"a\",\"provision\":{\"size\":\"1Gi\"}}}}", "{}", 1,
     "spec.volumes.shared.provision"},
    {"{}", "{\"quota\":null}", 0, ""},
    {"5", "{\"clusters\":[\"x\"]}", 1, "spec.clusters"},
    /* a cluster's quota is the cluster admin's, as spec.quota is */
    {"{\"clusters\":[{\"name\":\"east\"}]}", "{\"clusters\":[{\"name\":\"east\",\"quota\":{\"gpu\":\"64\"}}]}", 1,
     "spec.clusters"},
    {"{\"resourceGroup\":{},\"priorityClassName\":\"a\",\"deletionPolicy\":\"Retain\"}",
     "{\"resourceGroup\":{\"x\":1},\"priorityClassName\":\"b\",\"deletionPolicy\":\"Delete\"}", 3,
     "spec.resourceGroup, spec.priorityClassName, spec.deletionPolicy"},
};

START_TEST(tenancy_changes) {
  json_t *a = tenancy_cases[_i].old ? parse(tenancy_cases[_i].old) : NULL;
  json_t *b = parse(tenancy_cases[_i].new_);
  char which[256];
  ck_assert_int_eq(project_tenancy_changes(a, b, which, sizeof(which)), tenancy_cases[_i].n);
  ck_assert_str_eq(which, tenancy_cases[_i].which);
  json_decref(a);
  json_decref(b);
}
END_TEST

/* --------------------------------------------------------------- plan */

#define MAXN 16

/* The cluster as the cache shows it to one reconcile. */
typedef struct world {
  json_t *project;
  json_t *namespaces[MAXN];
  size_t nns;
  json_t *bindings[MAXN];
  size_t nbindings;
  json_t *role, *binding, *queue;
  int volcano;
  json_t *pods[MAXN];
  size_t npods;
  json_t *claims[MAXN];
  size_t nclaims;
  json_t *jobs[MAXN]; /* the hub's TrainingJobs */
  size_t njobs;
  /* one plan's inputs and outputs */
  project_spec spec;
  int spec_ok;
  char err[512];
  json_t *listed[PROJECT_MAX_NAMESPACES];
  json_t *labelled[MAXN];
  const project_cluster_observed *mc; /* member clusters, set by a test */
  size_t nmc;
  const json_t *const *member_roles; /* the hub's cubit-project-* roles, set by a test */
  rt_plan plan;
} world;

static world w;

static void world_setup(void) {
  memset(&w, 0, sizeof(w));
  rt_plan_init(&w.plan);
}

static void world_teardown(void) {
  json_decref(w.project);
  for (size_t i = 0; i < w.nns; i++) json_decref(w.namespaces[i]);
  for (size_t i = 0; i < w.nbindings; i++) json_decref(w.bindings[i]);
  for (size_t i = 0; i < w.npods; i++) json_decref(w.pods[i]);
  for (size_t i = 0; i < w.nclaims; i++) json_decref(w.claims[i]);
  for (size_t i = 0; i < w.njobs; i++) json_decref(w.jobs[i]);
  json_decref(w.role);
  json_decref(w.binding);
  json_decref(w.queue);
  rt_plan_free(&w.plan);
  if (w.spec_ok) project_spec_free(&w.spec);
}

static void project(const char *spec_json, const char *extra_meta, const char *status) {
  char text[4096];
  snprintf(text, sizeof(text),
           "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"team-a\",\"uid\":\"p-1\","
           "\"generation\":3%s%s},\"spec\":%s%s%s}",
           extra_meta ? "," : "", extra_meta ? extra_meta : "", spec_json, status ? ",\"status\":" : "",
           status ? status : "");
  json_decref(w.project);
  w.project = parse(text);
}

#define FINALIZER "\"finalizers\":[\"cubit.dev/project\"]"
#define SPEC_AB                                                                                              \
  "{\"namespaces\":[\"a\",\"b\"],\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"},"      \
  "{\"kind\":\"User\",\"name\":\"dan\",\"role\":\"edit\"}],\"quota\":{\"gpu\":\"2\"}}"

#define PSS_BASELINE                                                                                                   \
  "\"pod-security.kubernetes.io/enforce\":\"baseline\",\"pod-security.kubernetes.io/enforce-version\":\"latest\","          \
  "\"pod-security.kubernetes.io/warn\":\"baseline\",\"pod-security.kubernetes.io/warn-version\":\"latest\""

static void namespace(const char *name, const char *label, const char *created) {
  char text[1024];
  snprintf(text, sizeof(text), "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\",\"uid\":\"ns-%s\"",
           name, name);
  size_t at = strlen(text);
  if (label) /* as the project labels it, at the default Pod Security level */
    at += (size_t)snprintf(text + at, sizeof(text) - at, ",\"labels\":{\"cubit.dev/project\":\"%s\"," PSS_BASELINE "}",
                           label);
  if (created)
    at += (size_t)snprintf(text + at, sizeof(text) - at, ",\"annotations\":{\"cubit.dev/created-by-project\":\"%s\"}",
                           created);
  snprintf(text + at, sizeof(text) - at, "}}");
  w.namespaces[w.nns++] = parse(text);
}

static void pod(const char *ns, const char *gpu, const char *phase) {
  char text[1024];
  snprintf(text, sizeof(text),
           "{\"metadata\":{\"name\":\"p%zu\",\"namespace\":\"%s\"},\"spec\":{\"containers\":[{\"name\":\"m\","
           "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"%s\"}}}]},\"status\":{\"phase\":\"%s\"}}",
           w.npods, ns, gpu, phase);
  w.pods[w.npods++] = parse(text);
}

static json_t *find_ns(const char *name) {
  for (size_t i = 0; i < w.nns; i++)
    if (strcmp(js_name(w.namespaces[i]), name) == 0) return w.namespaces[i];
  return NULL;
}

/* Gathers as the controller does and plans. */
static void plan(void) {
  rt_plan_free(&w.plan);
  rt_plan_init(&w.plan);
  if (w.spec_ok) project_spec_free(&w.spec);
  w.spec_ok = project_spec_parse(w.project, &w.spec, w.err, sizeof(w.err)) == 0;
  memset(w.listed, 0, sizeof(w.listed));
  for (size_t i = 0; w.spec_ok && i < w.spec.nnamespaces; i++) w.listed[i] = find_ns(w.spec.namespaces[i]);
  size_t nl = 0;
  for (size_t i = 0; i < w.nns; i++) {
    const char *l = json_string_value(json_object_get(js_get(w.namespaces[i], "metadata.labels"), PROJECT_LABEL));
    if (l && strcmp(l, "team-a") == 0) w.labelled[nl++] = w.namespaces[i];
  }
  project_observed in = {.project = w.project,
                         .spec = w.spec_ok ? &w.spec : NULL,
                         .spec_error = w.err,
                         .listed = w.listed,
                         .labelled = w.labelled,
                         .nlabelled = nl,
                         .bindings = w.bindings,
                         .nbindings = w.nbindings,
                         .admin_role = w.role,
                         .admin_binding = w.binding,
                         .queue = w.queue,
                         .volcano = w.volcano,
                         .claims = w.claims,
                         .nclaims = w.nclaims,
                         .pods = w.pods,
                         .npods = w.npods,
                         .jobs = w.jobs,
                         .njobs = w.njobs,
                         .clusters = w.mc,
                         .nclusters = w.nmc,
                         .member_roles = w.member_roles,
                         .gpu = NULL,
                         .now = 1700000000};
  project_plan(&in, &w.plan);
}

/* Carries the plan out as the API server would: applied objects become
 * live, deleted ones go, patched namespaces lose the removed keys, and the
 * status is written. */
static void execute(void) {
  for (size_t i = 0; i < w.plan.nactions; i++) {
    rt_action *a = &w.plan.actions[i];
    const char *kind = a->resource ? a->resource->kind : "";
    if (a->kind == RT_ACT_APPLY) {
      json_t *obj = json_deep_copy(a->object);
      if (strcmp(kind, "Namespace") == 0) {
        json_t *live = find_ns(js_name(obj));
        if (live) json_object_update_recursive(live, obj), json_decref(obj);
        else w.namespaces[w.nns++] = obj;
      } else if (strcmp(kind, "RoleBinding") == 0) {
        size_t j;
        for (j = 0; j < w.nbindings; j++)
          if (strcmp(js_name(w.bindings[j]), js_name(obj)) == 0 &&
              strcmp(js_namespace(w.bindings[j]), js_namespace(obj)) == 0)
            break;
        if (j < w.nbindings) json_decref(w.bindings[j]);
        else w.nbindings++;
        w.bindings[j] = obj;
      } else if (strcmp(kind, "ClusterRole") == 0) {
        json_decref(w.role);
        w.role = obj;
      } else if (strcmp(kind, "ClusterRoleBinding") == 0) {
        json_decref(w.binding);
        w.binding = obj;
      } else {
        json_decref(w.queue);
        w.queue = obj;
      }
    } else if (a->kind == RT_ACT_DELETE && strcmp(kind, "RoleBinding") == 0) {
      for (size_t j = 0; j < w.nbindings; j++)
        if (w.bindings[j] == a->object || json_equal(w.bindings[j], a->object)) {
          json_decref(w.bindings[j]);
          w.bindings[j] = w.bindings[--w.nbindings];
          break;
        }
    } else if (a->kind == RT_ACT_PATCH) {
      json_t *live = find_ns(js_name(a->object));
      json_object_del(js_get(live, "metadata.labels"), PROJECT_LABEL);
      json_object_del(js_get(live, "metadata.annotations"), PROJECT_ANNOTATION_CREATED);
    }
  }
  if (w.plan.status) json_object_set(w.project, "status", w.plan.status);
}

static int count(rt_action_kind kind, const char *resource_kind) {
  int n = 0;
  for (size_t i = 0; i < w.plan.nactions; i++)
    if (w.plan.actions[i].kind == kind &&
        (resource_kind == NULL || (w.plan.actions[i].resource && strcmp(w.plan.actions[i].resource->kind, resource_kind) == 0)))
      n++;
  return n;
}

static const rt_action *action(rt_action_kind kind, const char *resource_kind, const char *name) {
  for (size_t i = 0; i < w.plan.nactions; i++) {
    const rt_action *a = &w.plan.actions[i];
    if (a->kind == kind && a->resource && strcmp(a->resource->kind, resource_kind) == 0 &&
        strcmp(js_name(a->object), name) == 0)
      return a;
  }
  return NULL;
}

static const char *label(const json_t *obj, const char *key) {
  const char *v = json_string_value(json_object_get(js_get(obj, "metadata.labels"), key));
  return v ? v : "(none)";
}

static int has_event(const char *type, const char *reason) {
  for (size_t i = 0; i < w.plan.nevents; i++)
    if (strcmp(w.plan.events[i].type, type) == 0 && strcmp(w.plan.events[i].reason, reason) == 0) return 1;
  return 0;
}

static void assert_state(const char *phase, rt_state state, const char *reason, const char *message) {
  ck_assert_ptr_nonnull(w.plan.status);
  ck_assert_str_eq(js_str(w.plan.status, "phase"), phase);
  ck_assert_int_eq(rt_status_state(w.plan.status), state);
  const json_t *ready = rt_condition_get(w.plan.status, "Ready");
  ck_assert_str_eq(js_str(ready, "reason"), reason);
  ck_assert_msg(strstr(js_str(ready, "message"), message) != NULL, "message: %s", js_str(ready, "message"));
  ck_assert_int_eq(js_int(w.plan.status, "observedGeneration", 0), 3);
}

START_TEST(plan_adds_the_finalizer_first) {
  project(SPEC_AB, NULL, NULL);
  plan();
  ck_assert_uint_eq(w.plan.nactions, 1);
  ck_assert_int_eq(w.plan.actions[0].kind, RT_ACT_ADD_FINALIZER);
  ck_assert_ptr_null(w.plan.status);
}
END_TEST

START_TEST(plan_invalid_spec_fails) {
  project("{\"quota\":{\"gpu\":\"lots\"}}", FINALIZER, NULL);
  plan();
  ck_assert_uint_eq(w.plan.nactions, 0); /* nothing changes until it is fixed */
  assert_state("Failed", RT_STATE_FAILED, "InvalidSpec", "invalid spec: spec.quota.gpu:");
  ck_assert(has_event("Warning", "InvalidSpec"));
  /* The same failure again: no second event. */
  execute();
  plan();
  ck_assert_uint_eq(w.plan.nevents, 0);
  assert_state("Failed", RT_STATE_FAILED, "InvalidSpec", "spec.quota.gpu");
}
END_TEST

/* From nothing to READY: namespaces created, then bound; nothing is done
 * twice and the events come once. */
START_TEST(plan_creates_then_is_ready) {
  project(SPEC_AB, FINALIZER, NULL);
  plan();
  ck_assert_int_eq(count(RT_ACT_APPLY, "Namespace"), 2);
  const rt_action *a = action(RT_ACT_APPLY, "Namespace", "a");
  ck_assert_ptr_nonnull(a);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(a->object, "metadata.labels"), PROJECT_LABEL)), "team-a");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(a->object, "metadata.annotations"),
                                                     PROJECT_ANNOTATION_CREATED)),
                   "team-a");
  ck_assert_ptr_null(js_get(a->object, "metadata.ownerReferences")); /* Retain must keep it */
  ck_assert_int_eq(count(RT_ACT_APPLY, "RoleBinding"), 0);          /* not before the namespace */
  ck_assert_int_eq(count(RT_ACT_APPLY, "ClusterRole"), 1);
  ck_assert_int_eq(count(RT_ACT_APPLY, "ClusterRoleBinding"), 1);
  assert_state("Provisioning", RT_STATE_PROGRESSING, "Provisioning", "creating namespace a");
  ck_assert(has_event("Normal", "NamespaceCreated"));
  execute();
  plan();
  ck_assert_int_eq(count(RT_ACT_APPLY, "RoleBinding"), 4); /* admin and edit, in a and b */
  assert_state("Provisioning", RT_STATE_PROGRESSING, "Provisioning", "binding the admin members in namespace a");
  ck_assert(!has_event("Normal", "NamespaceCreated"));
  execute();
  pod("a", "1", "Running");
  pod("b", "1", "Pending");
  pod("b", "4", "Succeeded");
  pod("elsewhere", "8", "Running");
  plan();
  assert_state("Active", RT_STATE_READY, "Ready", "namespaces [a,b], 2 member(s) bound");
  ck_assert_str_eq(js_str(w.plan.status, "namespaceList"), "a,b");
  ck_assert_uint_eq(json_array_size(js_get(w.plan.status, "namespaces")), 2);
  ck_assert_str_eq(js_str(w.plan.status, "used.gpu"), "2");
  ck_assert_int_eq(count(RT_ACT_DELETE, NULL), 0);
  ck_assert(has_event("Normal", "Ready"));
  execute();
  plan();
  ck_assert_uint_eq(w.plan.nevents, 0);
  assert_state("Active", RT_STATE_READY, "Ready", "namespaces [a,b]");
}
END_TEST

/* issue 13's namespace takeover: a namespace that exists and is neither
 * created by the project nor labelled for it gets no label and no binding,
 * and the status names it. */
START_TEST(plan_refuses_foreign_namespaces) {
  project(SPEC_AB, FINALIZER, NULL);
  namespace("a", NULL, NULL);        /* someone else's, unlabelled */
  namespace("b", "team-b", "team-b"); /* another project's */
  plan();
  ck_assert_int_eq(count(RT_ACT_APPLY, "Namespace"), 0);
  ck_assert_int_eq(count(RT_ACT_APPLY, "RoleBinding"), 0);
  ck_assert_int_eq(count(RT_ACT_PATCH, NULL), 0);
  assert_state("Failed", RT_STATE_FAILED, "NamespaceNotAdoptable",
               "namespace a exists and is not labelled cubit.dev/project=team-a");
  ck_assert_msg(strstr(js_str(rt_condition_get(w.plan.status, "Ready"), "message"),
                       "; namespace b belongs to project team-b") != NULL,
                "%s", js_str(rt_condition_get(w.plan.status, "Ready"), "message"));
  ck_assert(has_event("Warning", "NamespaceNotAdoptable"));
  ck_assert_str_eq(js_str(w.plan.status, "namespaceList"), "");
  /* A cluster admin labels a for the project: it is adopted, given the
   * project's Pod Security labels and no created-by mark. */
  json_object_set_new(js_ensure_obj(find_ns("a"), "metadata.labels"), PROJECT_LABEL, json_string("team-a"));
  execute();
  plan();
  ck_assert_int_eq(count(RT_ACT_APPLY, "Namespace"), 1);
  const json_t *adopted = action(RT_ACT_APPLY, "Namespace", "a")->object;
  ck_assert_str_eq(label(adopted, "pod-security.kubernetes.io/enforce"), "baseline");
  ck_assert_ptr_null(js_get(adopted, "metadata.annotations"));
  ck_assert_int_eq(count(RT_ACT_APPLY, "RoleBinding"), 2);
  assert_state("Failed", RT_STATE_FAILED, "NamespaceConflict", "namespace b belongs to project team-b");
}
END_TEST

/* The project's Pod Security level labels every namespace it holds (the
 * API server then refuses a pod beyond it, whoever creates it); a new level
 * relabels them; a namespace let go loses the labels the project gave it. */
START_TEST(plan_pod_security_labels) {
  static const char *const cases[][2] = {{"", "baseline"},
                                         {",\"podSecurity\":{\"level\":\"restricted\"}", "restricted"},
                                         {",\"podSecurity\":{\"level\":\"privileged\"}", "privileged"},
                                         {",\"podSecurity\":{}", "baseline"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char spec[256];
    snprintf(spec, sizeof(spec), "{\"namespaces\":[\"a\"]%s}", cases[i][0]);
    project(spec, FINALIZER, NULL);
    plan();
    const rt_action *a = action(RT_ACT_APPLY, "Namespace", "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(label(a->object, "pod-security.kubernetes.io/enforce"), cases[i][1]);
    ck_assert_str_eq(label(a->object, "pod-security.kubernetes.io/warn"), cases[i][1]);
    ck_assert_str_eq(label(a->object, "pod-security.kubernetes.io/enforce-version"), "latest");
    world_teardown();
    world_setup();
  }
  /* Held at baseline, raised to restricted: relabelled. */
  project("{\"namespaces\":[\"a\"],\"podSecurity\":{\"level\":\"restricted\"}}", FINALIZER, NULL);
  namespace("a", "team-a", "team-a");
  plan();
  const rt_action *a = action(RT_ACT_APPLY, "Namespace", "a");
  ck_assert_ptr_nonnull(a);
  ck_assert_str_eq(label(a->object, "pod-security.kubernetes.io/enforce"), "restricted");
  world_teardown();
  world_setup();
  /* No longer listed: the project's label and its Pod Security labels go. */
  project("{\"namespaces\":[]}", FINALIZER, NULL);
  namespace("a", "team-a", NULL); /* labelled: let go by plan() */
  plan();
  const rt_action *p = NULL;
  for (size_t i = 0; i < w.plan.nactions; i++)
    if (w.plan.actions[i].kind == RT_ACT_PATCH) p = &w.plan.actions[i];
  ck_assert_ptr_nonnull(p);
  char *ops = json_dumps(p->patch, JSON_COMPACT);
  ck_assert_msg(strstr(ops, "\"remove\",\"path\":\"/metadata/labels/pod-security.kubernetes.io~1enforce\"") != NULL, "%s", ops);
  ck_assert_msg(strstr(ops, "\"remove\",\"path\":\"/metadata/labels/pod-security.kubernetes.io~1warn-version\"") != NULL, "%s",
                ops);
  free(ops);
}
END_TEST

/* A namespace the project created keeps its label: a lost one is put back. */
START_TEST(plan_relabels_what_it_created) {
  project("{\"namespaces\":[\"a\"]}", FINALIZER, NULL);
  namespace("a", NULL, "team-a");
  plan();
  ck_assert_ptr_nonnull(action(RT_ACT_APPLY, "Namespace", "a"));
  assert_state("Provisioning", RT_STATE_PROGRESSING, "Provisioning", "labelling namespace a");
  ck_assert_str_eq(js_str(w.plan.status, "namespaceList"), "");
}
END_TEST

/* Dropped from the list: the label goes (only while it names this project)
 * and the bindings with it. */
START_TEST(plan_releases_dropped_namespaces) {
  project(SPEC_AB, FINALIZER, NULL);
  plan();
  execute();
  plan();
  execute();
  project("{\"namespaces\":[\"a\"],\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"}]}", FINALIZER,
          NULL);
  plan();
  const rt_action *p = action(RT_ACT_PATCH, "Namespace", "b");
  ck_assert_ptr_nonnull(p);
  ck_assert_str_eq(js_str(json_array_get(p->patch, 0), "op"), "test");
  ck_assert_str_eq(js_str(json_array_get(p->patch, 0), "path"), "/metadata/labels/cubit.dev~1project");
  ck_assert_str_eq(js_str(json_array_get(p->patch, 0), "value"), "team-a");
  ck_assert_str_eq(js_str(json_array_get(p->patch, 1), "op"), "remove");
  /* b's two bindings and a's edit binding (dan left) go. */
  ck_assert_int_eq(count(RT_ACT_DELETE, "RoleBinding"), 3);
  ck_assert(has_event("Normal", "NamespaceReleased"));
  assert_state("Provisioning", RT_STATE_PROGRESSING, "Provisioning", "releasing namespace b");
  execute();
  plan();
  assert_state("Active", RT_STATE_READY, "Ready", "namespaces [a], 1 member(s) bound");
}
END_TEST

START_TEST(plan_waits_for_a_terminating_namespace) {
  project("{\"namespaces\":[\"a\"]}", FINALIZER, NULL);
  namespace("a", "team-a", "team-a");
  json_object_set_new(json_object_get(find_ns("a"), "metadata"), "deletionTimestamp", json_string("2025-01-01T00:00:00Z"));
  plan();
  ck_assert_int_eq(count(RT_ACT_APPLY, "Namespace"), 0);
  assert_state("Provisioning", RT_STATE_PROGRESSING, "Provisioning", "namespace a is being deleted");
}
END_TEST

START_TEST(plan_queue) {
  project("{\"namespaces\":[],\"quota\":{\"gpu\":\"1.5\",\"cpu\":\"8\"},\"queue\":{\"weight\":4}}", FINALIZER, NULL);
  w.volcano = 1;
  plan();
  const rt_action *q = action(RT_ACT_APPLY, "Queue", "team-a");
  ck_assert_ptr_nonnull(q);
  ck_assert_int_eq(js_int(q->object, "spec.weight", 0), 4);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(q->object, "spec.capability"), "nvidia.com/gpu")), "2");
  assert_state("Provisioning", RT_STATE_PROGRESSING, "Provisioning", "creating Volcano Queue team-a");
  execute();
  plan();
  assert_state("Active", RT_STATE_READY, "Ready", "Volcano queue in place");
  ck_assert_str_eq(js_str(w.plan.status, "queue"), "team-a");
  /* Disabled: the queue the project made goes. */
  json_object_set_new(w.queue, "metadata",
                      json_pack("{s:s, s:[{s:s, s:s, s:s, s:b}]}", "name", "team-a", "ownerReferences", "kind",
                                "Project", "name", "team-a", "uid", "p-1", "controller", 1));
  project("{\"namespaces\":[],\"queue\":{\"enabled\":false}}", FINALIZER, NULL);
  plan();
  ck_assert_ptr_nonnull(action(RT_ACT_DELETE, "Queue", "team-a"));
  ck_assert_ptr_null(js_get(w.plan.status, "queue"));
}
END_TEST

/* Deletion: Retain releases every namespace; Delete deletes the ones the
 * project created and releases the ones it adopted. Then the finalizer. */
START_TEST(plan_deletion) {
  for (int policy = 0; policy < 2; policy++) {
    world_teardown();
    world_setup();
    project(policy ? "{\"namespaces\":[\"a\",\"b\"],\"deletionPolicy\":\"Delete\"}" : "{\"namespaces\":[\"a\",\"b\"]}",
            FINALIZER ",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"", NULL);
    namespace("a", "team-a", "team-a"); /* created */
    namespace("b", "team-a", NULL);     /* adopted */
    w.bindings[w.nbindings++] =
        parse("{\"metadata\":{\"name\":\"cubit-project-edit\",\"namespace\":\"b\",\"uid\":\"rb\"}}");
    plan();
    ck_assert_ptr_null(w.plan.status);
    ck_assert_int_eq(w.plan.actions[w.plan.nactions - 1].kind, RT_ACT_REMOVE_FINALIZER);
    ck_assert_int_eq(count(RT_ACT_DELETE, "RoleBinding"), 1);
    ck_assert_ptr_nonnull(action(RT_ACT_PATCH, "Namespace", "b"));
    if (policy) {
      ck_assert_ptr_nonnull(action(RT_ACT_DELETE, "Namespace", "a"));
      ck_assert(has_event("Normal", "NamespaceDeleted"));
    } else {
      ck_assert_ptr_nonnull(action(RT_ACT_PATCH, "Namespace", "a"));
      ck_assert_int_eq(count(RT_ACT_DELETE, "Namespace"), 0);
    }
  }
  /* Finalizer gone: nothing more to do. */
  world_teardown();
  world_setup();
  project("{}", "\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"", NULL);
  plan();
  ck_assert_uint_eq(w.plan.nactions, 0);
  ck_assert_int_eq(w.plan.done, 1);
}
END_TEST

/* volumes.shared.provision: the claim in every namespace held, labelled
 * with the project and without an ownerReference; the project is
 * Provisioning until it exists (not until it binds); Delete deletes it with
 * the project, Retain keeps it. */
START_TEST(plan_storage) {
  project("{\"namespaces\":[\"a\",\"b\"],\"volumes\":{\"shared\":{\"claimName\":\"team\",\"provision\":"
          "{\"size\":\"10Gi\",\"storageClassName\":\"standard\"}}}}",
          FINALIZER, NULL);
  namespace("a", "team-a", "team-a");
  namespace("b", "team-a", NULL);
  plan();
  ck_assert_int_eq(count(RT_ACT_APPLY, "PersistentVolumeClaim"), 2);
  const rt_action *a = action(RT_ACT_APPLY, "PersistentVolumeClaim", "team");
  ck_assert_ptr_nonnull(a);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(a->object, "metadata.labels"), PROJECT_LABEL)), "team-a");
  ck_assert_ptr_null(js_get(a->object, "metadata.ownerReferences"));
  ck_assert_str_eq(js_str(a->object, "spec.resources.requests.storage"), "10Gi");
  ck_assert_str_eq(js_str(a->object, "spec.storageClassName"), "standard");
  ck_assert_str_eq(json_string_value(json_array_get(js_get(a->object, "spec.accessModes"), 0)), "ReadWriteMany");
  ck_assert_str_eq(js_str(w.plan.status, "phase"), "Provisioning");
  /* Both exist (still Pending: a WaitForFirstConsumer class binds with the
   * first pod): the project is Active. */
  for (size_t i = 0; i < w.plan.nactions; i++)
    if (w.plan.actions[i].kind == RT_ACT_APPLY && strcmp(w.plan.actions[i].resource->kind, "PersistentVolumeClaim") == 0)
      w.claims[w.nclaims++] = json_deep_copy(w.plan.actions[i].object);
  execute();
  plan();
  execute();
  plan();
  ck_assert_str_eq(js_str(w.plan.status, "phase"), "Active");
  /* Deletion: the manager deletes no claim in the hub, whatever the policy
   * (they go with a namespace Delete made; an adopted one keeps them). */
  for (int policy = 0; policy < 2; policy++) {
    project(policy ? "{\"namespaces\":[\"a\",\"b\"],\"deletionPolicy\":\"Delete\",\"volumes\":{\"shared\":"
                     "{\"claimName\":\"team\",\"provision\":{\"size\":\"10Gi\"}}}}"
                   : "{\"namespaces\":[\"a\",\"b\"],\"volumes\":{\"shared\":{\"claimName\":\"team\","
                     "\"provision\":{\"size\":\"10Gi\"}}}}",
            FINALIZER ",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"", NULL);
    plan();
    ck_assert_int_eq(count(RT_ACT_DELETE, "PersistentVolumeClaim"), 0);
    ck_assert_int_eq(count(RT_ACT_REMOVE_FINALIZER, NULL), 1); /* never held up by a claim */
  }
}
END_TEST

/* Without admins, the admins' ClusterRole and binding go. */
START_TEST(plan_admin_access_follows_the_admins) {
  project("{\"namespaces\":[],\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"}]}", FINALIZER, NULL);
  plan();
  const rt_action *r = action(RT_ACT_APPLY, "ClusterRole", "cubit-project:team-a:admin");
  ck_assert_ptr_nonnull(r);
  json_t *rule = json_array_get(js_get(r->object, "rules"), 0);
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(rule, "resourceNames"), 0)), "team-a");
  ck_assert_uint_eq(json_array_size(json_object_get(rule, "verbs")), 3); /* get, update, patch: never manage */
  execute();
  project("{\"namespaces\":[],\"members\":[]}", FINALIZER, NULL);
  plan();
  ck_assert_ptr_nonnull(action(RT_ACT_DELETE, "ClusterRole", "cubit-project:team-a:admin"));
  ck_assert_ptr_nonnull(action(RT_ACT_DELETE, "ClusterRoleBinding", "cubit-project:team-a:admin"));
}
END_TEST

/* ------------------------------------------------------ member clusters */

static json_t *ns_json(const char *name, const char *label, const char *created) {
  char text[512];
  snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"%s\",\"labels\":{%s%s%s},\"annotations\":{%s%s%s}}}", name,
           label ? "\"cubit.dev/project\":\"" : "", label ? label : "", label ? "\"" : "",
           created ? "\"cubit.dev/created-by-project\":\"" : "", created ? created : "", created ? "\"" : "");
  return parse(text);
}

enum { M_NONE, M_MINE, M_UNLABELLED, M_OTHER };
static const struct {
  const char *name;
  int deleting, delete_policy, synced, member_ns;
  /* out */
  const char *phase; /* NULL: no status (deletion) */
  rt_state state;
  const char *reason, *message;
  int applies_in_member, deletes_in_member, removes_finalizer;
  const char *event; /* reason, or NULL */
  int64_t requeue_ms;
  const char *held;  /* status.clusters[0].namespaces, comma-joined */
} member_cases[] = {
    {"member not connected", 0, 0, 0, M_NONE, "Provisioning", RT_STATE_PROGRESSING, "Provisioning",
     "waiting for cluster east", 0, 0, 0, NULL, 5000, ""},
    {"namespace created in the member", 0, 0, 1, M_NONE, "Provisioning", RT_STATE_PROGRESSING, "Provisioning",
     "creating namespace a in cluster east", 1, 0, 0, "NamespaceCreated", 5000, ""},
    {"namespace held in the member", 0, 0, 1, M_MINE, "Active", RT_STATE_READY, "Ready", "namespaces [a]", 1, 0, 0,
     NULL, 0, "a"},
    {"unlabelled namespace in the member", 0, 0, 1, M_UNLABELLED, "Failed", RT_STATE_FAILED, "NamespaceNotAdoptable",
     "namespace a exists in cluster east and is not labelled", 0, 0, 0, "NamespaceNotAdoptable", 0, ""},
    {"another project's namespace in the member", 0, 0, 1, M_OTHER, "Failed", RT_STATE_FAILED, "NamespaceConflict",
     "namespace a in cluster east belongs to project team-b", 0, 0, 0, "NamespaceConflict", 0, ""},
    {"deleting, Delete, member not connected: waits", 1, 1, 0, M_MINE, NULL, 0, NULL, NULL, 0, 0, 0, NULL, 5000, NULL},
    {"deleting, Delete: the member's namespace goes", 1, 1, 1, M_MINE, NULL, 0, NULL, NULL, 0, 1, 1,
     "NamespaceDeleted", 0, NULL},
    {"deleting, Delete: a namespace it did not create stays", 1, 1, 1, M_UNLABELLED, NULL, 0, NULL, NULL, 0, 0, 1,
     NULL, 0, NULL},
    {"deleting, Retain: the member's namespace stays", 1, 0, 1, M_MINE, NULL, 0, NULL, NULL, 0, 0, 1, NULL, 0, NULL},
};

static int count_in(rt_action_kind kind, const char *cluster) {
  int n = 0;
  for (size_t i = 0; i < w.plan.nactions; i++)
    if (w.plan.actions[i].kind == kind && w.plan.actions[i].cluster && strcmp(w.plan.actions[i].cluster, cluster) == 0)
      n++;
  return n;
}

START_TEST(plan_member_clusters) {
  const char *spec = member_cases[_i].delete_policy
                         ? "{\"namespaces\":[\"a\"],\"deletionPolicy\":\"Delete\",\"clusters\":[{\"name\":\"local\"},{\"name\":\"east\"}]}"
                         : "{\"namespaces\":[\"a\"],\"clusters\":[{\"name\":\"local\"},{\"name\":\"east\"}]}";
  project(spec, member_cases[_i].deleting ? FINALIZER ",\"deletionTimestamp\":\"2026-12-07T09:00:00Z\"" : FINALIZER,
          NULL);
  namespace("a", "team-a", NULL); /* the hub's, labelled by its admin: held as it is */
  json_t *live = NULL;
  switch (member_cases[_i].member_ns) {
    case M_MINE: /* as the project made it */
      live = parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"labels\":{\"cubit.dev/project\":\"team-a\","
                   "\"app.kubernetes.io/managed-by\":\"cubit\"," PSS_BASELINE "},\"annotations\":{\"cubit.dev/created-by-project\":"
                   "\"team-a\"}}}");
      break;
    case M_UNLABELLED: live = ns_json("a", NULL, NULL); break;
    case M_OTHER: live = ns_json("a", "team-b", NULL); break;
  }
  json_t *listed[PROJECT_MAX_NAMESPACES] = {live};
  json_t *labelled[1] = {live};
  int mine = member_cases[_i].member_ns == M_MINE;
  project_cluster_observed east = {.name = "east", .synced = member_cases[_i].synced, .listed = listed,
                                   .labelled = labelled, .nlabelled = mine ? 1 : 0};
  w.mc = &east;
  w.nmc = 1;
  plan();
  const char *name = member_cases[_i].name;
  ck_assert_msg(count_in(RT_ACT_APPLY, "east") == member_cases[_i].applies_in_member, "%s: applies", name);
  ck_assert_msg(count_in(RT_ACT_DELETE, "east") == member_cases[_i].deletes_in_member, "%s: deletes", name);
  ck_assert_msg(count(RT_ACT_REMOVE_FINALIZER, NULL) == member_cases[_i].removes_finalizer, "%s: finalizer", name);
  ck_assert_msg(count_in(RT_ACT_APPLY, "local") == 0, "%s: the hub is never a member", name);
  if (member_cases[_i].event) ck_assert_msg(has_event("Normal", member_cases[_i].event) ||
                                                has_event("Warning", member_cases[_i].event), "%s: event", name);
  ck_assert_msg(w.plan.requeue_after_ms == member_cases[_i].requeue_ms, "%s: requeue %lld", name,
                (long long)w.plan.requeue_after_ms);
  if (member_cases[_i].phase) {
    assert_state(member_cases[_i].phase, member_cases[_i].state, member_cases[_i].reason, member_cases[_i].message);
    /* spec.clusters' order: local, then east */
    json_t *c0 = json_array_get(json_object_get(w.plan.status, "clusters"), 1);
    ck_assert_str_eq(js_str(c0, "name"), "east");
    ck_assert_str_eq(js_str(json_array_get(json_object_get(w.plan.status, "clusters"), 0), "name"), "local");
    char held[64] = "";
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(c0, "namespaces"), i, v) {
      size_t n = strlen(held);
      snprintf(held + n, sizeof(held) - n, "%s%s", i ? "," : "", json_string_value(v));
    }
    ck_assert_str_eq(held, member_cases[_i].held);
  } else {
    ck_assert_ptr_null(w.plan.status);
  }
  json_decref(live);
}
END_TEST

static const json_t *applied_in(const char *cluster, const char *kind, const char *name) {
  for (size_t i = 0; i < w.plan.nactions; i++) {
    const rt_action *a = &w.plan.actions[i];
    if (a->kind == RT_ACT_APPLY && a->cluster && strcmp(a->cluster, cluster) == 0 &&
        strcmp(js_str(a->object, "kind"), kind) == 0 && strcmp(js_name(a->object), name) == 0)
      return a->object;
  }
  return NULL;
}

/* In a member the project holds a namespace in, its members get what they
 * get in the hub: the roles (copied from the hub's), a RoleBinding per role
 * with members (no ownerReference: it cannot cross clusters), the shared
 * claim; a binding no longer wanted goes; deleting the project removes the
 * bindings there whatever its policy. */
START_TEST(plan_member_access) {
  int deleting = _i;
  project("{\"namespaces\":[\"a\"],\"clusters\":[{\"name\":\"local\"},{\"name\":\"east\"}],"
          "\"members\":[{\"kind\":\"User\",\"name\":\"carol\",\"role\":\"admin\"},"
          "{\"kind\":\"Group\",\"name\":\"analysts\",\"role\":\"view\"}],"
          "\"volumes\":{\"shared\":{\"claimName\":\"team\",\"provision\":{\"size\":\"10Gi\"}}}}",
          deleting ? FINALIZER ",\"deletionTimestamp\":\"2026-12-07T09:00:00Z\"" : FINALIZER, NULL);
  namespace("a", "team-a", NULL);
  json_t *live = parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"labels\":{"
                       "\"cubit.dev/project\":\"team-a\",\"app.kubernetes.io/managed-by\":\"cubit\"," PSS_BASELINE "},"
                       "\"annotations\":{\"cubit.dev/created-by-project\":\"team-a\"}}}");
  json_t *stale = parse("{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\",\"metadata\":{"
                        "\"name\":\"cubit-project-edit\",\"namespace\":\"a\",\"labels\":{\"cubit.dev/project\":\"team-a\"}}}");
  json_t *roles[3] = {
      parse("{\"metadata\":{\"name\":\"cubit-project-admin\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],"
            "\"verbs\":[\"*\"]}]}"),
      parse("{\"metadata\":{\"name\":\"cubit-project-edit\"},\"rules\":[]}"),
      NULL /* not installed in the hub: not copied */};
  json_t *listed[PROJECT_MAX_NAMESPACES] = {live};
  json_t *labelled[1] = {live}, *bindings[1] = {stale};
  project_cluster_observed east = {.name = "east", .synced = 1, .listed = listed, .labelled = labelled,
                                   .nlabelled = 1, .bindings = bindings, .nbindings = 1};
  w.mc = &east;
  w.nmc = 1;
  w.member_roles = (const json_t *const *)roles;
  plan();
  if (deleting) {
    ck_assert_int_eq(count_in(RT_ACT_APPLY, "east"), 0);
    ck_assert_int_eq(count_in(RT_ACT_DELETE, "east"), 1); /* the binding (Retain: the namespace stays) */
  } else {
    /* namespace, 2 roles, bindings admin and view, the claim */
    ck_assert_int_eq(count_in(RT_ACT_APPLY, "east"), 6);
    ck_assert_int_eq(count_in(RT_ACT_DELETE, "east"), 1); /* the edit binding: no edit members */
    const json_t *admin = applied_in("east", "RoleBinding", "cubit-project-admin");
    ck_assert_ptr_nonnull(admin);
    ck_assert_ptr_null(js_get(admin, "metadata.ownerReferences"));
    ck_assert_str_eq(js_str(json_array_get(js_get(admin, "subjects"), 0), "name"), "carol");
    ck_assert_ptr_nonnull(applied_in("east", "RoleBinding", "cubit-project-view"));
    const json_t *role = applied_in("east", "ClusterRole", "cubit-project-admin");
    ck_assert_ptr_nonnull(role);
    ck_assert_int_eq((int)json_array_size(js_get(role, "rules")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(js_get(json_array_get(js_get(role, "rules"), 0), "verbs"), 0)), "*");
    ck_assert_ptr_null(applied_in("east", "ClusterRole", "cubit-project-view"));
    const json_t *claim = applied_in("east", "PersistentVolumeClaim", "team");
    ck_assert_ptr_nonnull(claim);
    ck_assert_str_eq(js_str(claim, "spec.resources.requests.storage"), "10Gi");
    assert_state("Provisioning", RT_STATE_PROGRESSING, "Provisioning", "binding the admin members in namespace a");
  }
  for (size_t i = 0; i < 3; i++) json_decref(roles[i]);
  json_decref(stale);
  json_decref(live);
}
END_TEST

/* A namespace labelled for the project in a member but no longer listed is
 * let go there, as in the hub: its labels removed by a JSON patch through
 * the member's client. */
START_TEST(plan_member_release) {
  project("{\"namespaces\":[\"a\"],\"clusters\":[{\"name\":\"local\"},{\"name\":\"east\"}]}", FINALIZER, NULL);
  namespace("a", "team-a", NULL);
  json_t *a = parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"labels\":{"
                    "\"cubit.dev/project\":\"team-a\",\"app.kubernetes.io/managed-by\":\"cubit\"," PSS_BASELINE "},"
                    "\"annotations\":{\"cubit.dev/created-by-project\":\"team-a\"}}}");
  json_t *old = ns_json("old", "team-a", "team-a");
  json_t *listed[PROJECT_MAX_NAMESPACES] = {a};
  json_t *labelled[2] = {a, old};
  project_cluster_observed east = {.name = "east", .synced = 1, .listed = listed, .labelled = labelled, .nlabelled = 2};
  w.mc = &east;
  w.nmc = 1;
  plan();
  ck_assert_int_eq(count_in(RT_ACT_PATCH, "east"), 1);
  ck_assert_int_eq(count_in(RT_ACT_DELETE, "east"), 0);
  for (size_t i = 0; i < w.plan.nactions; i++)
    if (w.plan.actions[i].kind == RT_ACT_PATCH) ck_assert_str_eq(js_name(w.plan.actions[i].object), "old");
  ck_assert(has_event("Normal", "NamespaceReleased"));
  assert_state("Provisioning", RT_STATE_PROGRESSING, "Provisioning", "releasing namespace old in cluster east");
  json_decref(a);
  json_decref(old);
}
END_TEST

/* Deleting a Delete project whose member's Cluster was deleted: nothing
 * there can be reached again, so it is not waited for (a Warning says what
 * is left); a member merely away is waited for. */
START_TEST(plan_member_gone_not_waited_for) {
  int gone = _i;
  project("{\"namespaces\":[\"a\"],\"deletionPolicy\":\"Delete\",\"clusters\":[{\"name\":\"local\"},{\"name\":\"east\"}]}",
          FINALIZER ",\"deletionTimestamp\":\"2026-12-07T09:00:00Z\"", NULL);
  project_cluster_observed east = {.name = "east", .synced = 0, .gone = gone};
  w.mc = &east;
  w.nmc = 1;
  plan();
  ck_assert_int_eq(count(RT_ACT_REMOVE_FINALIZER, NULL), gone ? 1 : 0);
  ck_assert_int_eq((int)w.plan.requeue_after_ms, gone ? 0 : 5000);
  ck_assert(gone == has_event("Warning", "MemberLeftBehind"));
}
END_TEST

START_TEST(spec_clusters) {
  static const struct {
    const char *clusters;
    const char *err;
  } cases[] = {
      {"[{\"name\":\"local\"},{\"name\":\"east\"}]", ""},
      {"{}", "spec.clusters: must be a list"},
      {"[{\"name\":\"East\"}]", "spec.clusters[0].name: want the name of a Cluster"},
      {"[\"east\"]", "spec.clusters[0].name: want the name of a Cluster"},
      {"[{\"name\":\"east\"},{\"name\":\"east\"}]", "spec.clusters[1].name: cluster east is listed twice"},
      /* a quota per cluster, in spec.quota's grammar */
      {"[{\"name\":\"local\",\"quota\":{\"cpu\":\"8\"}},{\"name\":\"east\",\"quota\":{\"gpu\":\"2.5\",\"memory\":\"64Gi\","
       "\"gpuMemory\":\"80Gi\",\"pods\":4}}]", ""},
      {"[{\"name\":\"local\"},{\"name\":\"east\",\"quota\":{\"gpu\":\"two\"}}]", "spec.clusters[1].quota.gpu: "},
      {"[{\"name\":\"local\"},{\"name\":\"east\",\"quota\":{\"pods\":-1}}]",
       "spec.clusters[1].quota.pods: must be a whole number of pods, at least 0"},
      {"[{\"name\":\"local\"},{\"name\":\"east\",\"quota\":{\"cpu\":\"1x\"}}]", "spec.clusters[1].quota.cpu: \"1x\""},
      {"[{\"name\":\"local\"},{\"name\":\"east\",\"quota\":[1]}]", "spec.clusters[1].quota: must be an object"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char text[512];
    snprintf(text, sizeof(text), "{\"spec\":{\"clusters\":%s}}", cases[i].clusters);
    json_t *p = parse(text);
    project_spec s;
    char err[256] = "";
    int rc = project_spec_parse(p, &s, err, sizeof(err));
    ck_assert_msg(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0 && (rc == 0) == (cases[i].err[0] == 0),
                  "case %zu: %s", i, err);
    if (rc == 0) {
      ck_assert_uint_eq(s.nclusters, 2);
      ck_assert_str_eq(s.clusters[1], "east");
      ck_assert_int_eq(project_cluster_index(&s, "east"), 1);
      ck_assert_int_eq(project_cluster_index(&s, "west"), -1);
      if (strstr(cases[i].clusters, "quota")) {
        ck_assert_int_eq(s.cluster_quota[0].cpu_milli, 8000);
        ck_assert_int_eq(s.cluster_quota_set[0].cpu_milli, 1);
        ck_assert_int_eq(s.cluster_quota_set[0].gpu_milli, 0);
        ck_assert_int_eq(s.cluster_quota[1].gpu_milli, 2500);
        ck_assert_int_eq(s.cluster_quota[1].memory_bytes, 64LL << 30);
        ck_assert_int_eq(s.cluster_quota[1].gpu_memory_bytes, 80LL << 30);
        ck_assert_int_eq(s.cluster_quota[1].pods, 4);
        ck_assert_int_eq(s.cluster_quota_set[1].cpu_milli, 0);
      } else {
        ck_assert(usage_is_zero(&s.cluster_quota_set[1]));
      }
      project_spec_free(&s);
    }
    json_decref(p);
  }
}
END_TEST

/* ------------------------------------------------- quota per cluster */

/* A TrainingJob of namespace a: replicas x 1 card; status.cluster and
 * spec.cluster as given ("" = unset); phase "" = running. */
static json_t *job(const char *name, int replicas, const char *placed, const char *pinned, const char *phase) {
  json_t *j = json_pack("{s:{s:s, s:s}, s:{s:{s:{s:i, s:{s:s, s:s}}}}, s:{}}", "metadata", "name", name, "namespace",
                        "a", "spec", "roles", "worker", "replicas", replicas, "resources", "cpu", "1", "gpu", "1",
                        "status");
  if (*placed) json_object_set_new(json_object_get(j, "status"), "cluster", json_string(placed));
  if (*pinned) json_object_set_new(json_object_get(j, "spec"), "cluster", json_string(pinned));
  if (*phase) json_object_set_new(json_object_get(j, "status"), "phase", json_string(phase));
  return j;
}

/* A pod of namespace a with one card, labelled for job 'of' ("" = none). */
static json_t *gpu_pod(const char *name, const char *of, const char *phase) {
  json_t *p = json_pack("{s:{s:s, s:s, s:{}}, s:{s:[{s:s, s:{s:{s:s}}}]}, s:{s:s}}", "metadata", "name", name,
                        "namespace", "a", "labels", "spec", "containers", "name", "main", "resources", "limits",
                        "nvidia.com/gpu", "1", "status", "phase", phase);
  if (*of) json_object_set_new(js_get(p, "metadata.labels"), "cubit.dev/trainingjob", json_string(of));
  return p;
}

START_TEST(job_cluster) {
  static const struct {
    const char *placed, *pinned;
    int spans;
    const char *want; /* NULL: none */
  } cases[] = {
      {"east", "", 1, "east"}, {"east", "west", 1, "east"}, {"", "west", 1, "west"},
      {"", "", 1, NULL},       {"", "", 0, "local"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *j = job("j", 1, cases[i].placed, cases[i].pinned, "");
    const char *got = project_job_cluster(j, cases[i].spans);
    ck_assert_msg(cases[i].want ? got && strcmp(got, cases[i].want) == 0 : got == NULL, "case %zu", i);
    json_decref(j);
  }
}
END_TEST

static const struct {
  const char *name;
  int jobs;           /* how many of: 2-card job "big", 1-card job "small", finished 4-card "done" */
  const char *pods;   /* one letter a pod: b = big's, s = small's, d = done's, f = a finished pod, o = no job's */
  int64_t gpu_milli, pods_held;
} used_cases[] = {
    {"nothing", 0, "", 0, 0},
    {"a gang before its pods", 1, "", 2000, 2},
    {"a gang with its pods: counted once", 1, "bb", 2000, 2},
    {"pods beyond the gang (a forged label) count", 1, "bbb", 3000, 3},
    {"a pod of no job counts by itself", 1, "bbo", 3000, 3},
    {"finished pods and jobs count nothing; a finished job's pods are no one's", 3, "bsfd", 4000, 4},
    {"pods whose job is placed elsewhere count by themselves", 0, "bs", 2000, 2},
};

START_TEST(cluster_used) {
  json_t *jobs[3] = {job("big", 2, "east", "", ""), job("small", 1, "", "east", ""),
                     job("done", 4, "east", "", "Succeeded")};
  json_t *pods[8];
  size_t npods = 0;
  for (const char *c = used_cases[_i].pods; *c; c++, npods++) {
    char name[16];
    snprintf(name, sizeof(name), "p%zu", npods);
    pods[npods] = gpu_pod(name, *c == 'b' ? "big" : *c == 's' ? "small" : *c == 'd' ? "done" : "",
                          *c == 'f' ? "Succeeded" : "Running");
  }
  usage u;
  project_cluster_used((const json_t *const *)jobs, (size_t)used_cases[_i].jobs, (const json_t *const *)pods, npods,
                       NULL, &u);
  ck_assert_msg(u.gpu_milli == used_cases[_i].gpu_milli && u.pods == used_cases[_i].pods_held,
                "%s: gpu %lld pods %lld", used_cases[_i].name, (long long)u.gpu_milli, (long long)u.pods);
  for (size_t i = 0; i < 3; i++) json_decref(jobs[i]);
  for (size_t i = 0; i < npods; i++) json_decref(pods[i]);
}
END_TEST

/* status.clusters[]: what the project holds in each cluster it spans (the
 * hub's pods and jobs, a member's pods as its cache shows them, counted by
 * project_cluster_used), that cluster's quota and whether it is Ready;
 * status.used their sum plus the jobs in no cluster yet. The hub holds pod
 * h0 (1 card; h1 finished), jobs "big" (2 cards, placed on east) and "wait"
 * (1 card, not placed); east holds m0 (1 card) and m1 (big's). */
static const struct {
  const char *name;
  const char *clusters; /* spec.clusters, NULL: none */
  const char *east;     /* east's Cluster: its phase (Ready condition reason alike), NULL: no Cluster */
  const char *want;     /* per entry "name ready|reason gpu/pods [quota]", ';'-joined */
  const char *total_gpu;
  json_int_t total_pods;
} by_cluster_cases[] = {
    {"a member and the hub, pods in both", "[{\"name\":\"east\",\"quota\":{\"gpu\":\"4\"}},{\"name\":\"local\"}]",
     "Ready", "east ready 3/3 gpu=4;local ready 1/1", "5", 5},
    {"a member not Ready: said so, its pods as last seen",
     "[{\"name\":\"east\",\"quota\":{\"gpu\":\"4\"}},{\"name\":\"local\"}]", "Unreachable",
     "east Unreachable 3/3 gpu=4;local ready 1/1", "5", 5},
    {"a member without a Cluster; local listed first", "[{\"name\":\"local\"},{\"name\":\"east\",\"quota\":{\"gpu\":\"4\"}}]",
     NULL, "local ready 1/1;east ClusterNotFound 3/3 gpu=4", "5", 5},
    {"local not listed: last", "[{\"name\":\"east\"}]", "Ready", "east ready 3/3;local ready 1/1", "5", 5},
    /* without spec.clusters every job is the hub's, but one placed
     * elsewhere (the project dropped that cluster) is in the total only */
    {"no spec.clusters: only local", NULL, "Ready", "local ready 2/2", "4", 4},
};

START_TEST(plan_used_by_cluster) {
  char spec[512];
  snprintf(spec, sizeof(spec), "{\"namespaces\":[\"a\"]%s%s}", by_cluster_cases[_i].clusters ? ",\"clusters\":" : "",
           by_cluster_cases[_i].clusters ? by_cluster_cases[_i].clusters : "");
  project(spec, FINALIZER, NULL);
  namespace("a", "team-a", NULL);
  w.pods[w.npods++] = gpu_pod("h0", "", "Running");
  w.pods[w.npods++] = gpu_pod("h1", "", "Succeeded");
  w.jobs[w.njobs++] = job("big", 2, "east", "", "");
  w.jobs[w.njobs++] = job("wait", 1, "", "", "");
  json_t *mine = parse("{\"metadata\":{\"name\":\"a\",\"labels\":{\"cubit.dev/project\":\"team-a\"}}}");
  json_t *mpods[2] = {gpu_pod("m0", "", "Running"), gpu_pod("m1", "big", "Running")};
  json_t *cluster = NULL;
  if (by_cluster_cases[_i].east) {
    char text[512];
    snprintf(text, sizeof(text),
             "{\"metadata\":{\"name\":\"east\"},\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\","
             "\"status\":\"%s\",\"reason\":\"%s\"}]}}",
             by_cluster_cases[_i].east, strcmp(by_cluster_cases[_i].east, "Ready") ? "False" : "True",
             strcmp(by_cluster_cases[_i].east, "Ready") ? by_cluster_cases[_i].east : "Connected");
    cluster = parse(text);
  }
  json_t *listed[PROJECT_MAX_NAMESPACES] = {mine};
  project_cluster_observed east = {.name = "east", .synced = 1, .listed = listed, .labelled = &mine, .nlabelled = 1,
                                   .cluster = cluster, .pods = mpods, .npods = 2};
  w.mc = by_cluster_cases[_i].clusters ? &east : NULL;
  w.nmc = by_cluster_cases[_i].clusters ? 1 : 0;
  plan();
  ck_assert_ptr_nonnull(w.plan.status);
  char got[512] = "";
  size_t i, at = 0;
  json_t *c;
  json_array_foreach(json_object_get(w.plan.status, "clusters"), i, c) {
    const json_t *quota = json_object_get(c, "quota");
    at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%s %s %s/%lld%s%s", i ? ";" : "", js_str(c, "name"),
                           json_is_true(json_object_get(c, "ready")) ? "ready" : js_str(c, "reason"),
                           js_str(c, "used.gpu"), (long long)js_int(c, "used.pods", -1), quota ? " gpu=" : "",
                           quota ? js_str(quota, "gpu") : "");
    ck_assert_msg(json_is_true(json_object_get(c, "ready")) == (json_object_get(c, "reason") == NULL),
                  "%s: a reason only when not ready", by_cluster_cases[_i].name);
  }
  ck_assert_msg(strcmp(got, by_cluster_cases[_i].want) == 0, "%s: got %s", by_cluster_cases[_i].name, got);
  ck_assert_str_eq(js_str(w.plan.status, "used.gpu"), by_cluster_cases[_i].total_gpu);
  ck_assert_int_eq(js_int(w.plan.status, "used.pods", -1), by_cluster_cases[_i].total_pods);
  /* Planned again from the same world: the very same status (no write). */
  json_t *first = json_deep_copy(w.plan.status);
  plan();
  ck_assert_msg(json_equal(first, w.plan.status), "%s: the status is not stable", by_cluster_cases[_i].name);
  json_decref(first);
  json_decref(mine);
  json_decref(mpods[0]);
  json_decref(mpods[1]);
  json_decref(cluster);
}
END_TEST

START_TEST(cluster_room) {
  json_t *p = parse("{\"metadata\":{\"name\":\"team-a\"},\"spec\":{\"quota\":{\"gpu\":\"8\"},\"clusters\":["
                    "{\"name\":\"local\"},{\"name\":\"east\",\"quota\":{\"gpu\":\"4\",\"cpu\":\"2\"}}]}}");
  project_spec s;
  char err[256];
  ck_assert_int_eq(project_spec_parse(p, &s, err, sizeof(err)), 0);
  usage used = {.cpu_milli = 500, .gpu_milli = 3000, .pods = 9}, room, limited;
  char why[200];
  /* local has no quota of its own (the total is admission's) */
  ck_assert_int_eq(project_cluster_room(&s, "team-a", 0, &used, &room, &limited, why, sizeof(why)), 0);
  ck_assert(usage_is_zero(&limited));
  ck_assert_str_eq(why, "");
  ck_assert_int_eq(project_cluster_room(&s, "team-a", 1, &used, &room, &limited, why, sizeof(why)), 1);
  ck_assert_int_eq(room.gpu_milli, 1000);
  ck_assert_int_eq(room.cpu_milli, 1500);
  ck_assert_int_eq(limited.gpu_milli, 1);
  ck_assert_int_eq(limited.memory_bytes, 0);
  ck_assert_str_eq(why, "project team-a's quota in cluster east: cpu used 500m of 2, gpu used 3 of 4");
  /* over the quota (it was lowered): no room, never negative */
  used.gpu_milli = 6000;
  ck_assert_int_eq(project_cluster_room(&s, "team-a", 1, &used, &room, &limited, why, sizeof(why)), 1);
  ck_assert_int_eq(room.gpu_milli, 0);
  /* a short buffer is cut, not overrun */
  char tiny[20];
  ck_assert_int_eq(project_cluster_room(&s, "team-a", 1, &used, &room, &limited, tiny, sizeof(tiny)), 1);
  ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
  ck_assert_int_eq(project_cluster_room(&s, "team-a", 7, &used, &room, &limited, why, sizeof(why)), 0);
  project_spec_free(&s);
  json_decref(p);
}
END_TEST

int main(void) {
  Suite *s = suite_create("project");
  TCase *tc = tcase_create("spec");
  tcase_add_loop_test(tc, spec_parse, 0, sizeof(spec_cases) / sizeof(spec_cases[0]));
  tcase_add_test(tc, spec_parse_fields);
  tcase_add_test(tc, spec_clusters);
  tcase_add_loop_test(tc, tenancy_changes, 0, sizeof(tenancy_cases) / sizeof(tenancy_cases[0]));
  suite_add_tcase(s, tc);
  tc = tcase_create("quota per cluster");
  tcase_add_test(tc, job_cluster);
  tcase_add_loop_test(tc, cluster_used, 0, sizeof(used_cases) / sizeof(used_cases[0]));
  tcase_add_test(tc, cluster_room);
  suite_add_tcase(s, tc);
  tc = tcase_create("plan");
  tcase_add_checked_fixture(tc, world_setup, world_teardown);
  tcase_add_test(tc, plan_adds_the_finalizer_first);
  tcase_add_test(tc, plan_invalid_spec_fails);
  tcase_add_test(tc, plan_creates_then_is_ready);
  tcase_add_test(tc, plan_refuses_foreign_namespaces);
  tcase_add_test(tc, plan_pod_security_labels);
  tcase_add_test(tc, plan_relabels_what_it_created);
  tcase_add_test(tc, plan_releases_dropped_namespaces);
  tcase_add_test(tc, plan_waits_for_a_terminating_namespace);
  tcase_add_test(tc, plan_queue);
  tcase_add_test(tc, plan_deletion);
  tcase_add_test(tc, plan_storage);
  tcase_add_test(tc, plan_admin_access_follows_the_admins);
  tcase_add_loop_test(tc, plan_member_clusters, 0, sizeof(member_cases) / sizeof(member_cases[0]));
  tcase_add_loop_test(tc, plan_member_access, 0, 2);
  tcase_add_test(tc, plan_member_release);
  tcase_add_loop_test(tc, plan_member_gone_not_waited_for, 0, 2);
  tcase_add_loop_test(tc, plan_used_by_cluster, 0, sizeof(by_cluster_cases) / sizeof(by_cluster_cases[0]));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
