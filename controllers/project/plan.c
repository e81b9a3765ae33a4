/* project_plan: what a Project needs, decided from what the cache shows.
 * Pure: no I/O, no clock (see project.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/project/project.h"
#include "api/cluster/cluster.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/status.h"
#include "util/alloc.h"
#include "util/json.h"

const kube_resource project_volcano_queues = {"scheduling.volcano.sh", "v1beta1", "queues", "Queue", 0};
static const kube_resource clusterroles = {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", 0};
static const kube_resource clusterrolebindings = {"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                                  "ClusterRoleBinding", 0};

static const char *const roles[] = {"admin", "edit", "view"};
#define NROLES 3

/* JSON-pointer forms of the keys a release removes ('/' written "~1"). */
#define PTR_LABEL_PROJECT "/metadata/labels/cubit.dev~1project"
#define PTR_LABEL_MANAGED_BY "/metadata/labels/app.kubernetes.io~1managed-by"
#define PTR_ANNOTATION_CREATED "/metadata/annotations/cubit.dev~1created-by-project"
#define PTR_ANNOTATION_APPLIED "/metadata/annotations/cubit.dev~1applied"

typedef struct planner {
  const project_observed *in;
  rt_plan *plan;
  const char *name;
  const json_t *held[PROJECT_MAX_NAMESPACES]; /* namespaces the project holds now */
  size_t nheld;
  const char *fail_reason;   /* FAILED: the first reason */
  char fail_msg[1536];       /* every namespace it may not adopt */
  char pending_msg[512];     /* PROGRESSING: the first thing still to do */
  size_t npending;
  json_t *clusters;          /* status.clusters being built (owned until handed to the status) */
  usage used;                /* status.used: every cluster's, and the jobs in none */
} planner;

/* ------------------------------------------------------------ helpers */

static const char *label_of(const json_t *obj) {
  return json_string_value(json_object_get(js_get(obj, "metadata.labels"), PROJECT_LABEL));
}

static const char *annotation_of(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(js_get(obj, "metadata.annotations"), key));
}

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int created_by_me(const planner *p, const json_t *ns) {
  return is(annotation_of(ns, PROJECT_ANNOTATION_CREATED), p->name);
}

static int terminating(const json_t *obj) { return js_get(obj, "metadata.deletionTimestamp") != NULL; }

__attribute__((format(printf, 2, 3))) static void pending(planner *p, const char *fmt, ...) {
  if (p->npending++ > 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->pending_msg, sizeof(p->pending_msg), fmt, ap);
  va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void failure(planner *p, const char *reason, const char *fmt, ...) {
  if (p->fail_reason == NULL) p->fail_reason = reason;
  size_t at = strlen(p->fail_msg);
  if (at && at + 2 < sizeof(p->fail_msg)) {
    memcpy(p->fail_msg + at, "; ", 3);
    at += 2;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->fail_msg + at, sizeof(p->fail_msg) - at, fmt, ap);
  va_end(ap);
}

static json_t *labels_of(const planner *p) {
  return json_pack("{s:s, s:s}", PROJECT_LABEL, p->name, "app.kubernetes.io/managed-by", "cubit");
}

static int held(const planner *p, const char *ns) {
  for (size_t i = 0; i < p->nheld; i++)
    if (is(js_name(p->held[i]), ns)) return 1;
  return 0;
}

/* The live object of 'list' named ns/name, or NULL. */
static const json_t *find(json_t *const *list, size_t n, const char *ns, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (is(js_name(list[i]), name) && (ns == NULL || is(js_namespace(list[i]), ns))) return list[i];
  return NULL;
}

/* Applies desired (stolen) and notes whether live already holds it. */
static void apply(planner *p, const kube_resource *r, json_t *desired, const json_t *live, const char *what) {
  if (live == NULL || !rt_json_subset(desired, live)) pending(p, "%s", what);
  rt_plan_apply(p->plan, r, desired);
}

/* ---------------------------------------------------------- namespaces */

/* The Pod Security Admission labels of the project's level: the API server
 * refuses a pod beyond it whoever creates it (a member directly, or a Job,
 * StatefulSet or operator for a Cubit kind), and warns at once. */
static const char *const pss_keys[] = {"pod-security.kubernetes.io/enforce", "pod-security.kubernetes.io/enforce-version",
                                       "pod-security.kubernetes.io/warn", "pod-security.kubernetes.io/warn-version"};
static const char *const pss_ptrs[] = {
    "/metadata/labels/pod-security.kubernetes.io~1enforce", "/metadata/labels/pod-security.kubernetes.io~1enforce-version",
    "/metadata/labels/pod-security.kubernetes.io~1warn", "/metadata/labels/pod-security.kubernetes.io~1warn-version"};
#define NPSS (sizeof(pss_keys) / sizeof(pss_keys[0])) /* pss_ptrs[i] is pss_keys[i] as a JSON pointer */

static json_t *namespace_labels(const planner *p) {
  json_t *labels = labels_of(p);
  const char *level = project_pod_security_name(p->in->spec->pod_security);
  for (size_t i = 0; i < NPSS; i++) json_object_set_new(labels, pss_keys[i], json_string(i % 2 ? "latest" : level));
  return labels;
}

/* A namespace of the project: its label, its Pod Security labels and, when
 * the project made it (created), its managed-by label and that mark. No
 * ownerReference: a Retain project must not take its namespaces with it
 * through garbage collection. */
static json_t *project_namespace(const planner *p, const char *ns, int created) {
  json_t *ns_obj = json_pack("{s:s, s:s, s:{s:s, s:o}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", ns,
                             "labels", namespace_labels(p));
  if (created)
    json_object_set_new(json_object_get(ns_obj, "metadata"), "annotations",
                        json_pack("{s:s}", PROJECT_ANNOTATION_CREATED, p->name));
  else /* a cluster admin's namespace: not Cubit's to call managed */
    json_object_del(js_get(ns_obj, "metadata.labels"), "app.kubernetes.io/managed-by");
  return ns_obj;
}

static json_t *desired_namespace(const planner *p, const char *ns) { return project_namespace(p, ns, 1); }

/* Removes the project's marks from a namespace it lets go (the label only
 * while it still names this project: the "test" makes the patch fail
 * rather than strip another project's label). */
/* Lets namespace ns go in 'cluster' (NULL: the hub). */
static void release_in(planner *p, const char *cluster, const json_t *ns) {
  json_t *ops = json_pack("[{s:s, s:s, s:s}, {s:s, s:s}]", "op", "test", "path", PTR_LABEL_PROJECT, "value", p->name,
                          "op", "remove", "path", PTR_LABEL_PROJECT);
  /* The Pod Security labels the project set go with it (whatever level they
   * name: the project may have changed it since). */
  const json_t *have = js_get(ns, "metadata.labels");
  for (size_t i = 0; i < NPSS; i++)
    if (json_object_get(have, pss_keys[i]))
      json_array_append_new(ops, json_pack("{s:s, s:s}", "op", "remove", "path", pss_ptrs[i]));
  if (created_by_me(p, ns)) {
    json_array_append_new(ops, json_pack("{s:s, s:s}", "op", "remove", "path", PTR_ANNOTATION_CREATED));
    const json_t *labels = js_get(ns, "metadata.labels");
    if (is(json_string_value(json_object_get(labels, "app.kubernetes.io/managed-by")), "cubit"))
      json_array_append_new(ops, json_pack("{s:s, s:s}", "op", "remove", "path", PTR_LABEL_MANAGED_BY));
    if (annotation_of(ns, RT_APPLIED_ANNOTATION))
      json_array_append_new(ops, json_pack("{s:s, s:s}", "op", "remove", "path", PTR_ANNOTATION_APPLIED));
  }
  rt_plan_patch_in(p->plan, cluster, &kube_namespaces, ns, ops);
  if (cluster)
    rt_plan_event(p->plan, "Normal", "NamespaceReleased", "namespace %s released in cluster %s", js_name(ns), cluster);
  else
    rt_plan_event(p->plan, "Normal", "NamespaceReleased", "namespace %s released", js_name(ns));
}

static void release(planner *p, const json_t *ns) {
  release_in(p, NULL, ns);
}

/* One listed namespace: created, held, or named as one it may not adopt. */
static void plan_listed(planner *p, const char *ns, const json_t *live) {
  if (live == NULL) {
    rt_plan_apply(p->plan, &kube_namespaces, desired_namespace(p, ns));
    pending(p, "creating namespace %s", ns);
    rt_plan_event(p->plan, "Normal", "NamespaceCreated", "namespace %s created", ns);
    return;
  }
  if (terminating(live)) {
    pending(p, "namespace %s is being deleted; it is created again once it is gone", ns);
    return;
  }
  const char *label = label_of(live);
  if (label && *label && !is(label, p->name)) {
    failure(p, "NamespaceConflict", "namespace %s belongs to project %s", ns, label);
    return;
  }
  if (created_by_me(p, live)) { /* its label is kept (or restored) */
    char what[320];
    snprintf(what, sizeof(what), "labelling namespace %s", ns);
    apply(p, &kube_namespaces, desired_namespace(p, ns), live, what);
  } else if (!is(label, p->name)) {
    failure(p, "NamespaceNotAdoptable",
            "namespace %s exists and is not labelled " PROJECT_LABEL "=%s: it gets no label and no binding until a "
            "cluster admin labels it for this project",
            ns, p->name);
    return;
  } else { /* adopted: labelled for the project by a cluster admin */
    char what[320];
    snprintf(what, sizeof(what), "labelling namespace %s", ns);
    apply(p, &kube_namespaces, project_namespace(p, ns, 0), live, what);
  }
  if (is(label, p->name) && p->nheld < PROJECT_MAX_NAMESPACES) p->held[p->nheld++] = live;
}

static void plan_namespaces(planner *p) {
  const project_spec *s = p->in->spec;
  for (size_t i = 0; i < s->nnamespaces; i++) plan_listed(p, s->namespaces[i], p->in->listed[i]);
  /* Labelled for the project but no longer listed: let go. */
  for (size_t i = 0; i < p->in->nlabelled; i++) {
    const json_t *ns = p->in->labelled[i];
    if (project_lists(s, js_name(ns)) || terminating(ns)) continue;
    release(p, ns);
    pending(p, "releasing namespace %s", js_name(ns));
  }
}

/* ------------------------------------------------------------- members */

static json_t *subject(const project_member *m, const char *ns) {
  if (strcmp(m->kind, "ServiceAccount") == 0) {
    const char *colon = strchr(m->name, ':');
    char sa_ns[254];
    snprintf(sa_ns, sizeof(sa_ns), "%.*s", colon ? (int)(colon - m->name) : (int)strlen(ns), colon ? m->name : ns);
    return json_pack("{s:s, s:s, s:s}", "kind", "ServiceAccount", "name", colon ? colon + 1 : m->name, "namespace",
                     sa_ns);
  }
  return json_pack("{s:s, s:s, s:s}", "kind", m->kind, "apiGroup", "rbac.authorization.k8s.io", "name", m->name);
}

/* The members of one role as RoleBinding subjects (ns: the namespace of a
 * ServiceAccount named without one); an empty array when none. */
static json_t *subjects_of(const project_spec *s, const char *role, const char *ns) {
  json_t *subjects = json_array();
  for (size_t i = 0; i < s->nmembers; i++)
    if (strcmp(s->members[i].role, role) == 0) json_array_append_new(subjects, subject(&s->members[i], ns));
  return subjects;
}

/* The RoleBinding of role roles[r] in namespace ns, without an owner (the
 * hub's get the Project as controller; a member's cannot), or NULL when
 * the role has no members. */
static json_t *desired_binding(const planner *p, const char *ns, size_t r) {
  json_t *subjects = subjects_of(p->in->spec, roles[r], ns);
  if (json_array_size(subjects) == 0) {
    json_decref(subjects);
    return NULL;
  }
  char name[64];
  snprintf(name, sizeof(name), "cubit-project-%s", roles[r]);
  return json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:s, s:s, s:s}, s:o}", "apiVersion",
                   "rbac.authorization.k8s.io/v1", "kind", "RoleBinding", "metadata", "name", name, "namespace", ns,
                   "labels", labels_of(p), "roleRef", "apiGroup", "rbac.authorization.k8s.io", "kind", "ClusterRole",
                   "name", name, "subjects", subjects);
}

/* Is live binding b one the project wants, given the namespaces it holds
 * (held_fn: in the hub or in a member)? */
static int binding_wanted(const planner *p, const json_t *b, int is_held) {
  if (!is_held) return 0;
  for (size_t r = 0; r < NROLES; r++) {
    char want[64];
    snprintf(want, sizeof(want), "cubit-project-%s", roles[r]);
    if (!is(js_name(b), want)) continue;
    json_t *subjects = subjects_of(p->in->spec, roles[r], js_namespace(b));
    int some = json_array_size(subjects) > 0;
    json_decref(subjects);
    return some;
  }
  return 0;
}

static void plan_bindings(planner *p) {
  const project_observed *in = p->in;
  for (size_t n = 0; n < p->nheld; n++) {
    const char *ns = js_name(p->held[n]);
    for (size_t r = 0; r < NROLES; r++) {
      json_t *rb = desired_binding(p, ns, r);
      if (rb == NULL) continue;
      char what[400];
      snprintf(what, sizeof(what), "binding the %s members in namespace %s", roles[r], ns);
      rt_set_controller_ref(rb, in->project);
      apply(p, &kube_rolebindings, rb, find(in->bindings, in->nbindings, ns, js_name(rb)), what);
    }
  }
  /* Every other binding the project controls goes: a role left without
   * members, a namespace released or never adopted. */
  for (size_t i = 0; i < in->nbindings; i++) {
    const json_t *b = in->bindings[i];
    if (binding_wanted(p, b, held(p, js_namespace(b)))) continue;
    rt_plan_delete(p->plan, &kube_rolebindings, b, NULL);
    pending(p, "removing RoleBinding %s/%s", js_namespace(b) ? js_namespace(b) : "", js_name(b) ? js_name(b) : "");
  }
}

/* Admins may edit their own Project (members, display name, volumes; the
 * validating webhook keeps the rest to cluster admins): a ClusterRole
 * naming it, bound to them. */
static void plan_admin_access(planner *p) {
  const project_observed *in = p->in;
  char *name = xasprintf("cubit-project:%s:admin", p->name);
  json_t *subjects = subjects_of(in->spec, "admin", "default");
  if (json_array_size(subjects) == 0) {
    json_decref(subjects);
    const json_t *live[2] = {in->admin_binding, in->admin_role};
    const kube_resource *res[2] = {&clusterrolebindings, &clusterroles};
    for (int i = 0; i < 2; i++) {
      if (live[i] == NULL || !rt_is_controlled_by(live[i], in->project)) continue;
      rt_plan_delete(p->plan, res[i], live[i], NULL);
      pending(p, "removing %s %s", res[i]->kind, name);
    }
    free(name);
    return;
  }
  json_t *role = json_pack("{s:s, s:s, s:{s:s, s:o}, s:[{s:[s], s:[s], s:[s], s:[s,s,s]}]}", "apiVersion",
                           "rbac.authorization.k8s.io/v1", "kind", "ClusterRole", "metadata", "name", name, "labels",
                           labels_of(p), "rules", "apiGroups", "cubit.dev", "resources", "projects", "resourceNames",
                           p->name, "verbs", "get", "update", "patch");
  rt_set_controller_ref(role, in->project);
  char what[400];
  snprintf(what, sizeof(what), "granting the admins their Project (ClusterRole %s)", name);
  apply(p, &clusterroles, role, in->admin_role, what);
  json_t *binding = json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:s, s:s, s:s}, s:o}", "apiVersion",
                              "rbac.authorization.k8s.io/v1", "kind", "ClusterRoleBinding", "metadata", "name", name,
                              "labels", labels_of(p), "roleRef", "apiGroup", "rbac.authorization.k8s.io", "kind",
                              "ClusterRole", "name", name, "subjects", subjects);
  rt_set_controller_ref(binding, in->project);
  apply(p, &clusterrolebindings, binding, in->admin_binding, what);
  free(name);
}

/* ---------------------------------------------------------------- queue */

/* The project's Volcano Queue: weight from the spec, capability from the
 * quota (GPUs rounded up to whole cards, the unit Volcano's queue knows). */
static void plan_queue(planner *p) {
  const project_observed *in = p->in;
  const project_spec *s = in->spec;
  if (!in->volcano) return;
  if (s->queue_enabled == 0) {
    if (in->queue && rt_is_controlled_by(in->queue, in->project)) {
      rt_plan_delete(p->plan, &project_volcano_queues, in->queue, NULL);
      pending(p, "removing Volcano Queue %s", p->name);
    }
    return;
  }
  json_t *cap = json_object();
  char text[USAGE_STRLEN];
  if (s->quota_set.cpu_milli) {
    usage_format(USAGE_CPU, s->quota.cpu_milli, text);
    json_object_set_new(cap, "cpu", json_string(text));
  }
  if (s->quota_set.memory_bytes) {
    usage_format(USAGE_MEMORY, s->quota.memory_bytes, text);
    json_object_set_new(cap, "memory", json_string(text));
  }
  if (s->quota_set.gpu_milli) {
    snprintf(text, sizeof(text), "%lld", (long long)((s->quota.gpu_milli + 999) / 1000));
    json_object_set_new(cap, "nvidia.com/gpu", json_string(text));
  }
  json_t *q = json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:i}}", "apiVersion", "scheduling.volcano.sh/v1beta1", "kind",
                        "Queue", "metadata", "name", p->name, "labels", labels_of(p), "spec", "weight",
                        s->queue_weight);
  if (json_object_size(cap)) json_object_set_new(json_object_get(q, "spec"), "capability", cap);
  else json_decref(cap);
  if (s->queue_reclaimable >= 0)
    json_object_set_new(json_object_get(q, "spec"), "reclaimable", json_boolean(s->queue_reclaimable));
  rt_set_controller_ref(q, in->project);
  char what[320];
  snprintf(what, sizeof(what), "creating Volcano Queue %s", p->name);
  apply(p, &project_volcano_queues, q, in->queue, what);
}

/* --------------------------------------------------------------- status */

/* Warning events only when the reason or message changed since the status
 * the plan was handed: a plan never repeats an event for the same state. */
static int ready_changed(const json_t *project, const char *status, const char *reason, const char *message) {
  const json_t *c = rt_condition_get(js_get(project, "status"), "Ready");
  return c == NULL || !is(js_str(c, "status"), status) || !is(js_str(c, "reason"), reason) ||
         !is(js_str(c, "message"), message);
}

static void plan_status(planner *p, const char *invalid) {
  const project_observed *in = p->in;
  json_int_t gen = js_int(in->project, "metadata.generation", 0);
  json_t *status = rt_status_from(in->project);
  char list[PROJECT_MAX_NAMESPACES * 64] = ""; /* names of at most 63 characters, comma-separated */
  char msg[sizeof(list) + 128];
  if (invalid) {
    snprintf(msg, sizeof(msg), "invalid spec: %s", invalid);
    if (ready_changed(in->project, "False", "InvalidSpec", msg))
      rt_plan_event(p->plan, "Warning", "InvalidSpec", "%s", msg);
    rt_status_set_state(status, "Failed", RT_STATE_FAILED, "InvalidSpec", msg, gen, in->now);
    rt_plan_set_status(p->plan, status);
    return;
  }
  json_object_set_new(status, "used", usage_to_json(&p->used));
  json_t *names = json_array();
  size_t at = 0;
  for (size_t i = 0; i < p->nheld; i++) {
    json_array_append_new(names, json_string(js_name(p->held[i])));
    int w = snprintf(list + at, sizeof(list) - at, "%s%s", i ? "," : "", js_name(p->held[i]));
    if (w > 0) at += (size_t)w;
    if (at >= sizeof(list)) at = sizeof(list) - 1;
  }
  json_object_set_new(status, "namespaces", names);
  json_object_set_new(status, "namespaceList", json_string(list));
  json_object_set(status, "clusters", p->clusters);
  if (in->volcano && in->spec->queue_enabled != 0 && in->queue) json_object_set_new(status, "queue", json_string(p->name));
  else json_object_del(status, "queue");
  if (p->fail_reason) {
    if (ready_changed(in->project, "False", p->fail_reason, p->fail_msg))
      rt_plan_event(p->plan, "Warning", p->fail_reason, "%s", p->fail_msg);
    rt_status_set_state(status, "Failed", RT_STATE_FAILED, p->fail_reason, p->fail_msg, gen, in->now);
  } else if (p->npending) {
    if (p->npending > 1) snprintf(msg, sizeof(msg), "%s (and %zu more steps)", p->pending_msg, p->npending - 1);
    else snprintf(msg, sizeof(msg), "%s", p->pending_msg);
    rt_status_set_state(status, "Provisioning", RT_STATE_PROGRESSING, "Provisioning", msg, gen, in->now);
  } else {
    snprintf(msg, sizeof(msg), "namespaces [%s], %zu member(s) bound%s", list, in->spec->nmembers,
             json_object_get(status, "queue") ? ", Volcano queue in place" : "");
    if (!is(js_str(rt_condition_get(js_get(in->project, "status"), "Ready"), "status"), "True"))
      rt_plan_event(p->plan, "Normal", "Ready", "%s", msg);
    rt_status_set_state(status, "Active", RT_STATE_READY, "Ready", msg, gen, in->now);
  }
  rt_plan_set_status(p->plan, status);
}

/* ------------------------------------------------------------- deletion */

/* ------------------------------------------------------------- storage */

/* The shared claim, in namespace ns. Labelled with the project (that is how
 * it is found again and deleted with a Delete project); no ownerReference,
 * so a Retain project's deletion leaves the team's data in place. */
static json_t *desired_claim(const planner *p, const char *ns) {
  const project_spec *s = p->in->spec;
  json_t *modes = s->shared_modes ? json_deep_copy(s->shared_modes) : json_pack("[s]", "ReadWriteMany");
  json_t *spec = json_pack("{s:o, s:{s:{s:s}}}", "accessModes", modes, "resources", "requests", "storage", s->shared_size);
  if (s->shared_class) json_object_set_new(spec, "storageClassName", json_string(s->shared_class));
  return json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:o}", "apiVersion", "v1", "kind", "PersistentVolumeClaim", "metadata",
                   "name", s->shared_claim, "namespace", ns, "labels", labels_of(p), "spec", spec);
}

/* Without provisioning the claim is the namespace owner's to make. A claim
 * is not waited for to bind: with a WaitForFirstConsumer class it binds
 * when the first pod mounts it. */
static void plan_storage(planner *p) {
  const project_spec *s = p->in->spec;
  if (!s->shared_provision || s->shared_claim == NULL) return;
  for (size_t i = 0; i < p->nheld; i++) {
    const char *ns = js_name(p->held[i]);
    char what[400];
    snprintf(what, sizeof(what), "provisioning claim %s in namespace %s", s->shared_claim, ns);
    apply(p, &kube_pvcs, desired_claim(p, ns), find(p->in->claims, p->in->nclaims, ns, s->shared_claim), what);
  }
}

/* ----------------------------------------------------- member clusters */

/* One listed namespace in member cluster c: created, held (its name added
 * to held), or named as one the project may not adopt there. The rules are
 * the hub's (plan_listed); a member's objects are written through its
 * client and carry no ownerReference to the hub. */
static void plan_member_listed(planner *p, const project_cluster_observed *c, const char *ns, const json_t *live,
                               json_t *held) {
  if (live == NULL) {
    rt_plan_apply_in(p->plan, c->name, &kube_namespaces, desired_namespace(p, ns));
    pending(p, "creating namespace %s in cluster %s", ns, c->name);
    rt_plan_event(p->plan, "Normal", "NamespaceCreated", "namespace %s created in cluster %s", ns, c->name);
    return;
  }
  if (terminating(live)) {
    pending(p, "namespace %s in cluster %s is being deleted; it is created again once it is gone", ns, c->name);
    return;
  }
  const char *label = label_of(live);
  if (label && *label && !is(label, p->name)) {
    failure(p, "NamespaceConflict", "namespace %s in cluster %s belongs to project %s", ns, c->name, label);
    return;
  }
  if (is(label, p->name) || created_by_me(p, live)) {
    json_t *desired = project_namespace(p, ns, created_by_me(p, live));
    if (!rt_json_subset(desired, live)) pending(p, "labelling namespace %s in cluster %s", ns, c->name);
    rt_plan_apply_in(p->plan, c->name, &kube_namespaces, desired);
  } else {
    failure(p, "NamespaceNotAdoptable",
            "namespace %s exists in cluster %s and is not labelled " PROJECT_LABEL "=%s: a cluster admin of that "
            "cluster labels it for this project, or it stays out",
            ns, c->name, p->name);
    return;
  }
  json_array_append_new(held, json_string(ns));
}

static int in_array(const json_t *names, const char *name) {
  size_t i;
  json_t *v;
  json_array_foreach(names, i, v) {
    if (is(json_string_value(v), name)) return 1;
  }
  return 0;
}

/* What the project's members may do in cluster c, as in the hub: the roles
 * (copies of the hub's ClusterRoles cubit-project-*, which the member has
 * not installed), a RoleBinding per role with members in each namespace the
 * project holds there (held), the provisioned shared claim; bindings no
 * longer wanted go. */
static void plan_member_access(planner *p, const project_cluster_observed *c, const json_t *held_names) {
  const project_observed *in = p->in;
  const project_spec *s = in->spec;
  for (size_t r = 0; r < NROLES && json_array_size(held_names) > 0; r++) {
    const json_t *hub_role = in->member_roles ? in->member_roles[r] : NULL;
    if (hub_role == NULL) continue;
    json_t *role = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:O}", "apiVersion", "rbac.authorization.k8s.io/v1",
                             "kind", "ClusterRole", "metadata", "name", js_name(hub_role), "labels",
                             "app.kubernetes.io/managed-by", "cubit", "rules",
                             json_object_get(hub_role, "rules") ? json_object_get(hub_role, "rules") : json_null());
    rt_plan_apply_in(p->plan, c->name, &kube_clusterroles, role);
  }
  size_t i;
  json_t *v;
  json_array_foreach(held_names, i, v) {
    const char *ns = json_string_value(v);
    for (size_t r = 0; r < NROLES; r++) {
      json_t *rb = desired_binding(p, ns, r);
      if (rb == NULL) continue;
      const json_t *live = find(c->bindings, c->nbindings, ns, js_name(rb));
      if (live == NULL || !rt_json_subset(rb, live))
        pending(p, "binding the %s members in namespace %s in cluster %s", roles[r], ns, c->name);
      rt_plan_apply_in(p->plan, c->name, &kube_rolebindings, rb);
    }
    if (s->shared_provision && s->shared_claim) {
      json_t *claim = desired_claim(p, ns);
      const json_t *live = find(c->claims, c->nclaims, ns, s->shared_claim);
      if (live == NULL || !rt_json_subset(claim, live))
        pending(p, "provisioning claim %s in namespace %s in cluster %s", s->shared_claim, ns, c->name);
      rt_plan_apply_in(p->plan, c->name, &kube_pvcs, claim);
    }
  }
  for (size_t b = 0; b < c->nbindings; b++) {
    const json_t *live = c->bindings[b];
    if (binding_wanted(p, live, in_array(held_names, js_namespace(live)))) continue;
    rt_plan_delete_in(p->plan, c->name, &kube_rolebindings, live, NULL);
    pending(p, "removing RoleBinding %s/%s in cluster %s", js_namespace(live), js_name(live), c->name);
  }
}

static void plan_member_clusters(planner *p) {
  const project_spec *s = p->in->spec;
  p->clusters = json_array();
  for (size_t i = 0; i < p->in->nclusters; i++) {
    const project_cluster_observed *c = &p->in->clusters[i];
    json_t *held = json_array();
    if (!c->synced) {
      pending(p, "waiting for cluster %s: not connected, or its namespaces not yet listed (see its Cluster)", c->name);
    } else {
      for (size_t n = 0; n < s->nnamespaces; n++) plan_member_listed(p, c, s->namespaces[n], c->listed[n], held);
      /* Labelled for the project there but no longer listed: let go, as in the hub. */
      for (size_t l = 0; l < c->nlabelled; l++) {
        const json_t *ns = c->labelled[l];
        if (project_lists(s, js_name(ns)) || terminating(ns)) continue;
        release_in(p, c->name, ns);
        pending(p, "releasing namespace %s in cluster %s", js_name(ns), c->name);
      }
      plan_member_access(p, c, held);
    }
    json_array_append_new(p->clusters, json_pack("{s:s, s:o}", "name", c->name, "namespaces", held));
  }
  /* A member's changes wake the project (member_watches); while something
   * there is still to do it also looks again, in case a write was lost
   * with a connection. */
  if (p->in->nclusters > 0 && p->npending) rt_plan_requeue_after(p->plan, 5000);
}

/* ------------------------------------------------- usage per cluster */

/* The jobs of jobs[] (the hub's, of the namespaces the project holds there)
 * that are in cluster 'name' (project_job_cluster; NULL: in none of the
 * clusters the project spans). Borrowed; free the array. */
static const json_t **jobs_in(const planner *p, const char *name, size_t *n) {
  const project_observed *in = p->in;
  int spans = in->spec->nclusters > 0;
  const json_t **out = xcalloc(in->njobs + 1, sizeof(*out));
  *n = 0;
  for (size_t i = 0; i < in->njobs; i++) {
    if (!held(p, js_namespace(in->jobs[i]))) continue;
    const char *c = project_job_cluster(in->jobs[i], spans);
    int spanned = c && (is(c, CLUSTER_LOCAL) || project_cluster_index(in->spec, c) >= 0);
    if (name ? is(c, name) : !spanned) out[(*n)++] = in->jobs[i];
  }
  return out;
}

/* What the project holds in cluster 'name', counted as the quota webhook
 * counts it (project_cluster_used): the TrainingJobs in it, and the pods
 * there (the hub's: of the namespaces it holds; a member's: of its listed
 * namespaces, as last seen). */
static void used_in(const planner *p, const char *name, json_t *const *pods, size_t npods, int hub, usage *out) {
  size_t nj, np = 0;
  const json_t **jobs = jobs_in(p, name, &nj), **mine = xcalloc(npods + 1, sizeof(*mine));
  for (size_t i = 0; i < npods; i++)
    if (!hub || held(p, js_namespace(pods[i]))) mine[np++] = pods[i];
  project_cluster_used(jobs, nj, mine, np, p->in->gpu, out);
  free(jobs);
  free(mine);
}

/* A quota as status shows it: the limited fields, canonical. */
static json_t *quota_json(const usage *quota, const usage *mask) {
  json_t *all = usage_to_json(quota), *out = json_object();
  for (usage_field f = 0; f < USAGE_NFIELDS; f++)
    if (usage_get(mask, f)) json_object_set(out, usage_field_name(f), json_object_get(all, usage_field_name(f)));
  json_decref(all);
  return out;
}

/* ready and, when not, why: the Cluster's phase Ready, else its Ready
 * condition's reason (Unreachable, Forbidden...). Only words that change
 * with the state, so an unchanged cluster leaves the status unchanged. */
static void set_reachable(json_t *entry, const project_cluster_observed *c) {
  const char *reason = NULL;
  if (c == NULL) { /* local: the hub, where the manager runs */
  } else if (c->cluster == NULL) {
    reason = "ClusterNotFound";
  } else if (!is(js_str(c->cluster, "status.phase"), "Ready")) {
    reason = js_str(rt_condition_get(js_get(c->cluster, "status"), "Ready"), "reason");
    if (reason == NULL || *reason == '\0') reason = js_str(c->cluster, "status.phase");
    if (reason == NULL || *reason == '\0') reason = "Connecting";
  }
  json_object_set_new(entry, "ready", json_boolean(reason == NULL));
  if (reason) json_object_set_new(entry, "reason", json_string(reason));
}

/* status.clusters[]: every cluster the project spans, in spec.clusters'
 * order ("local" last when not listed), each with the namespaces held
 * there (plan_member_clusters' entries; the hub's held ones), what the
 * project holds there, its quota there and whether it is Ready; status.used
 * is their sum plus the gangs of jobs in none of them (waiting to be
 * placed), as the quota's total counts them. */
static void plan_usage(planner *p) {
  const project_observed *in = p->in;
  const project_spec *s = in->spec;
  json_t *out = json_array();
  memset(&p->used, 0, sizeof(p->used));
  size_t member = 0;
  int local_listed = project_cluster_index(s, CLUSTER_LOCAL) >= 0;
  for (size_t i = 0; i <= s->nclusters; i++) {
    int local = i == s->nclusters ? !local_listed : is(s->clusters[i], CLUSTER_LOCAL);
    if (i == s->nclusters && !local) break;
    if (!local && member >= in->nclusters) continue; /* not observed (a plan handed fewer) */
    const project_cluster_observed *c = local ? NULL : &in->clusters[member];
    json_t *entry;
    usage used;
    if (local) {
      json_t *names = json_array();
      for (size_t n = 0; n < p->nheld; n++) json_array_append_new(names, json_string(js_name(p->held[n])));
      entry = json_pack("{s:s, s:o}", "name", CLUSTER_LOCAL, "namespaces", names);
      used_in(p, CLUSTER_LOCAL, in->pods, in->npods, 1, &used);
    } else {
      entry = json_incref(json_array_get(p->clusters, member++));
      used_in(p, c->name, c->pods, c->npods, 0, &used);
    }
    set_reachable(entry, c);
    json_object_set_new(entry, "used", usage_to_json(&used));
    if (i < s->nclusters && !usage_is_zero(&s->cluster_quota_set[i]))
      json_object_set_new(entry, "quota", quota_json(&s->cluster_quota[i], &s->cluster_quota_set[i]));
    usage_add(&p->used, &used);
    json_array_append_new(out, entry);
  }
  size_t n;
  const json_t **waiting = jobs_in(p, NULL, &n);
  usage gangs;
  project_cluster_used(waiting, n, NULL, 0, in->gpu, &gangs);
  usage_add(&p->used, &gangs);
  free(waiting);
  json_decref(p->clusters);
  p->clusters = out;
}

/* The deletionPolicy: Delete removes the namespaces the project created;
 * everything else it holds is released. Then the finalizer goes. */
static void plan_deletion(planner *p) {
  const project_observed *in = p->in;
  if (!rt_has_finalizer(in->project, PROJECT_FINALIZER)) {
    p->plan->done = 1;
    return;
  }
  for (size_t i = 0; i < in->nlabelled; i++) {
    const json_t *ns = in->labelled[i];
    if (terminating(ns)) continue;
    if (in->spec && in->spec->delete_namespaces && created_by_me(p, ns)) {
      rt_plan_delete(p->plan, &kube_namespaces, ns, "Background");
      rt_plan_event(p->plan, "Normal", "NamespaceDeleted", "namespace %s deleted", js_name(ns));
      continue;
    }
    for (size_t b = 0; b < in->nbindings; b++)
      if (is(js_namespace(in->bindings[b]), js_name(ns))) rt_plan_delete(p->plan, &kube_rolebindings, in->bindings[b], NULL);
    release(p, ns);
  }
  /* In member clusters, Delete removes the namespaces the project created
   * there; a member not connected is waited for (the finalizer stays: the
   * plan cannot see what it would delete). Retain leaves them. */
  for (size_t c = 0; in->spec && in->spec->delete_namespaces && c < in->nclusters; c++) {
    const project_cluster_observed *m = &in->clusters[c];
    if (!m->synced && m->gone) {
      /* Its Cluster was deleted: what the project made there is left, as
       * the admin who removed the Cluster left it. */
      rt_plan_event(p->plan, "Warning", "MemberLeftBehind",
                    "cluster %s has no Cluster object any more: its namespaces there are left as they are", m->name);
      continue;
    }
    if (!m->synced) {
      rt_plan_requeue_after(p->plan, 5000);
      return;
    }
    for (size_t i = 0; i < m->nlabelled; i++) {
      if (terminating(m->labelled[i]) || !created_by_me(p, m->labelled[i])) continue;
      rt_plan_delete_in(p->plan, m->name, &kube_namespaces, m->labelled[i], "Background");
      rt_plan_event(p->plan, "Normal", "NamespaceDeleted", "namespace %s deleted in cluster %s",
                    js_name(m->labelled[i]), m->name);
    }
    for (size_t i = 0; i < m->nclaims; i++)
      if (!terminating(m->claims[i]) && find(m->labelled, m->nlabelled, NULL, js_namespace(m->claims[i])))
        rt_plan_delete_in(p->plan, m->name, &kube_pvcs, m->claims[i], NULL);
  }
  /* The members' access goes with the project in every member still
   * connected, whatever the policy (a Retain project leaves the data, not
   * the grants). */
  for (size_t c = 0; c < in->nclusters; c++)
    for (size_t b = 0; in->clusters[c].synced && b < in->clusters[c].nbindings; b++)
      rt_plan_delete_in(p->plan, in->clusters[c].name, &kube_rolebindings, in->clusters[c].bindings[b], NULL);
  /* In the hub the claims it provisioned go with the namespaces a Delete
   * project created; in a namespace it adopted, released above, the claim
   * stays with the rest of what is there: the manager deletes nothing in a
   * namespace it did not create (nor may it: it holds no delete on claims,
   * docs/project.md). */
  rt_plan_remove_finalizer(p->plan, PROJECT_FINALIZER);
}

void project_plan(const project_observed *in, rt_plan *plan) {
  planner p = {.in = in, .plan = plan, .name = js_name(in->project)};
  if (p.name == NULL) return; /* not an object the API server could hold */
  if (js_get(in->project, "metadata.deletionTimestamp")) {
    plan_deletion(&p);
    return;
  }
  if (in->spec == NULL) { /* nothing is changed until the spec is fixed */
    plan_status(&p, in->spec_error ? in->spec_error : "unreadable");
    return;
  }
  if (!rt_has_finalizer(in->project, PROJECT_FINALIZER)) {
    /* Alone: the status write would conflict with the finalizer's update,
     * which brings the project back anyway. */
    rt_plan_add_finalizer(plan, PROJECT_FINALIZER);
    return;
  }
  plan_namespaces(&p);
  plan_bindings(&p);
  plan_admin_access(&p);
  plan_queue(&p);
  plan_storage(&p);
  plan_member_clusters(&p);
  plan_usage(&p);
  plan_status(&p, NULL);
  json_decref(p.clusters);
}
