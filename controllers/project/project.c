#include "controllers/project/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "runtime/guard.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

const kube_resource project_resource = {"cubit.dev", "v1alpha1", "projects", "Project", 0};
static const kube_resource clusterroles = {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", 0};
static const kube_resource clusterrolebindings = {"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                                  "ClusterRoleBinding", 0};
static const kube_resource volcano_queues = {"scheduling.volcano.sh", "v1beta1", "queues", "Queue", 0};

static const char *roles[] = {"admin", "edit", "view"};

typedef struct project_ctl {
  const gpu_profile *gpu;
} project_ctl;

/* ------------------------------------------------------------- spec */

int project_spec_parse(const json_t *p, project_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->queue_enabled = -1;
  out->queue_weight = 1;
  out->queue_reclaimable = -1;
  json_t *spec = json_object_get(p, "spec");
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(spec, "namespaces"), i, v) {
    if (!json_is_string(v) || json_string_length(v) == 0) {
      snprintf(err, errlen, "spec.namespaces[%zu]: want a namespace name", i);
      return CUBIT_EINVAL;
    }
    if (out->nnamespaces == PROJECT_MAX_NAMESPACES) {
      snprintf(err, errlen, "spec.namespaces: at most %d namespaces", PROJECT_MAX_NAMESPACES);
      return CUBIT_EINVAL;
    }
    out->namespaces[out->nnamespaces++] = json_string_value(v);
  }
  json_t *members = json_object_get(spec, "members");
  out->members = xcalloc(json_array_size(members) + 1, sizeof(project_member));
  json_array_foreach(members, i, v) {
    const char *kind = js_str(v, "kind"), *name = js_str(v, "name"), *role = js_str(v, "role");
    if (kind == NULL || (strcmp(kind, "User") && strcmp(kind, "Group") && strcmp(kind, "ServiceAccount"))) {
      snprintf(err, errlen, "spec.members[%zu].kind: want User, Group or ServiceAccount, got \"%s\"", i,
               kind ? kind : "");
      project_spec_free(out);
      return CUBIT_EINVAL;
    }
    if (name == NULL || *name == '\0' || strlen(name) >= sizeof(out->members[0].name)) {
      snprintf(err, errlen, "spec.members[%zu].name: want a name of 1 to 253 characters", i);
      project_spec_free(out);
      return CUBIT_EINVAL;
    }
    if (role == NULL || (strcmp(role, "admin") && strcmp(role, "edit") && strcmp(role, "view"))) {
      snprintf(err, errlen, "spec.members[%zu].role: want admin, edit or view, got \"%s\"", i, role ? role : "");
      project_spec_free(out);
      return CUBIT_EINVAL;
    }
    project_member *m = &out->members[out->nmembers++];
    snprintf(m->kind, sizeof(m->kind), "%s", kind);
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->role, sizeof(m->role), "%s", role);
  }
  json_t *quota = json_object_get(spec, "quota");
  if (usage_parse_quota(quota, "spec.quota", &out->quota, &out->quota_set, err, errlen) ||
      usage_parse_quota(json_object_get(quota, "perMember"), "spec.quota.perMember", &out->per_member,
                        &out->per_member_set, err, errlen)) {
    project_spec_free(out);
    return CUBIT_EINVAL;
  }
  const char *policy = js_str(spec, "deletionPolicy");
  if (policy && strcmp(policy, "Delete") != 0 && strcmp(policy, "Retain") != 0) {
    snprintf(err, errlen, "spec.deletionPolicy: want Retain or Delete, got \"%s\"", policy);
    project_spec_free(out);
    return CUBIT_EINVAL;
  }
  out->delete_namespaces = policy && strcmp(policy, "Delete") == 0;
  json_t *queue = json_object_get(spec, "queue");
  out->queue_enabled = js_bool(queue, "enabled", -1);
  out->queue_weight = (int)js_int(queue, "weight", 1);
  out->queue_reclaimable = js_bool(queue, "reclaimable", -1);
  return 0;
}

void project_spec_free(project_spec *s) {
  free(s->members);
  s->members = NULL;
  s->nmembers = 0;
}

static int listed(const project_spec *s, const char *ns) {
  for (size_t i = 0; i < s->nnamespaces; i++)
    if (strcmp(s->namespaces[i], ns) == 0) return 1;
  return 0;
}

/* ----------------------------------------------------------- status */

/* Sums the pending and running pods of the project's namespaces. */
static void project_usage(const rt_ctx *ctx, const project_ctl *pc, json_t *const *namespaces, size_t n, usage *out) {
  memset(out, 0, sizeof(*out));
  cache_store *pods = rt_store(ctx, &kube_pods);
  if (pods == NULL) return;
  for (size_t i = 0; i < n; i++) {
    cache_list l;
    cache_store_by_index(pods, CACHE_INDEX_NAMESPACE, js_name(namespaces[i]), &l);
    for (size_t j = 0; j < l.len; j++) {
      const char *phase = js_str(l.items[j], "status.phase");
      if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) continue;
      usage u;
      char err[256];
      if (usage_of_object("", "Pod", l.items[j], pc->gpu, &u, err, sizeof(err)) == 0) usage_add(out, &u);
    }
    cache_list_free(&l);
  }
}

/* -------------------------------------------------------- children */

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

static json_t *labels_of(const json_t *project) {
  return json_pack("{s:s, s:s}", PROJECT_LABEL, js_name(project), "app.kubernetes.io/managed-by", "cubit");
}

/* Applies or deletes the RoleBinding of one role in one namespace. */
static int sync_role_binding(const rt_ctx *ctx, const json_t *project, const project_spec *spec, const char *ns,
                             const char *role, kube_status *st) {
  char name[64];
  snprintf(name, sizeof(name), "cubit-project-%s", role);
  json_t *subjects = json_array();
  for (size_t i = 0; i < spec->nmembers; i++)
    if (strcmp(spec->members[i].role, role) == 0) json_array_append_new(subjects, subject(&spec->members[i], ns));
  cache_store *rbs = rt_store(ctx, &kube_rolebindings);
  int rc = 0;
  if (json_array_size(subjects) == 0) {
    json_t *live = rbs ? cache_store_get(rbs, ns, name) : NULL;
    if (live && rt_is_controlled_by(live, project)) {
      rc = kube_delete(ctx->client, &kube_rolebindings, ns, name, NULL, st);
      if (rc == CUBIT_ENOTFOUND) rc = 0;
    }
    json_decref(live);
    json_decref(subjects);
    return rc;
  }
  json_t *rb = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:s, s:s, s:s}, s:o}", "apiVersion",
                         "rbac.authorization.k8s.io/v1", "kind", "RoleBinding", "metadata", "name", name, "namespace",
                         ns, "labels", labels_of(project), "roleRef", "apiGroup", "rbac.authorization.k8s.io", "kind",
                         "ClusterRole", "name", name, "subjects", subjects);
  rt_set_controller_ref(rb, project);
  rc = rt_apply_cached(ctx->client, rbs, &kube_rolebindings, rb, NULL, NULL, st);
  json_decref(rb);
  return rc;
}

/* Admins may edit their own Project: a ClusterRole naming it, bound to them. */
static int sync_admin_access(const rt_ctx *ctx, const json_t *project, const project_spec *spec, kube_status *st) {
  char *name = xasprintf("cubit-project:%s:admin", js_name(project));
  json_t *subjects = json_array();
  for (size_t i = 0; i < spec->nmembers; i++)
    if (strcmp(spec->members[i].role, "admin") == 0)
      json_array_append_new(subjects, subject(&spec->members[i], "default"));
  int rc;
  if (json_array_size(subjects) == 0) {
    cache_store *crbs = rt_store(ctx, &clusterrolebindings);
    json_t *live = crbs ? cache_store_get(crbs, NULL, name) : NULL;
    rc = 0;
    if (live) {
      rc = kube_delete(ctx->client, &clusterrolebindings, NULL, name, NULL, st);
      if (rc == CUBIT_ENOTFOUND) rc = 0;
    }
    json_decref(live);
    json_decref(subjects);
    free(name);
    return rc;
  }
  json_t *role = json_pack("{s:s, s:s, s:{s:s, s:o}, s:[{s:[s], s:[s], s:[s], s:[s,s,s]}]}", "apiVersion",
                           "rbac.authorization.k8s.io/v1", "kind", "ClusterRole", "metadata", "name", name, "labels",
                           labels_of(project), "rules", "apiGroups", "cubit.dev", "resources", "projects",
                           "resourceNames", js_name(project), "verbs", "get", "update", "patch");
  rt_set_controller_ref(role, project);
  rc = rt_apply_cached(ctx->client, rt_store(ctx, &clusterroles), &clusterroles, role, NULL, NULL, st);
  json_decref(role);
  if (rc == 0) {
    json_t *binding = json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:s, s:s, s:s}, s:O}", "apiVersion",
                                "rbac.authorization.k8s.io/v1", "kind", "ClusterRoleBinding", "metadata", "name", name,
                                "labels", labels_of(project), "roleRef", "apiGroup", "rbac.authorization.k8s.io",
                                "kind", "ClusterRole", "name", name, "subjects", subjects);
    rt_set_controller_ref(binding, project);
    rc = rt_apply_cached(ctx->client, rt_store(ctx, &clusterrolebindings), &clusterrolebindings, binding, NULL,
                         NULL, st);
    json_decref(binding);
  }
  json_decref(subjects);
  free(name);
  return rc;
}

/* The project's Volcano Queue: weight from the spec, capability from the
 * quota (GPUs rounded up to whole cards, the unit Volcano's queue knows). */
static int sync_queue(const rt_ctx *ctx, const json_t *project, const project_spec *spec, kube_status *st,
                      int *have_queue) {
  *have_queue = 0;
  if (spec->queue_enabled == 0 || !rt_api_available(ctx, &volcano_queues)) return 0;
  json_t *cap = json_object();
  char text[USAGE_STRLEN];
  if (spec->quota_set.cpu_milli) {
    usage_format(USAGE_CPU, spec->quota.cpu_milli, text);
    json_object_set_new(cap, "cpu", json_string(text));
  }
  if (spec->quota_set.memory_bytes) {
    usage_format(USAGE_MEMORY, spec->quota.memory_bytes, text);
    json_object_set_new(cap, "memory", json_string(text));
  }
  if (spec->quota_set.gpu_milli) {
    char cards[32];
    snprintf(cards, sizeof(cards), "%lld", (long long)((spec->quota.gpu_milli + 999) / 1000));
    json_object_set_new(cap, "nvidia.com/gpu", json_string(cards));
  }
  json_t *q = json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:i}}", "apiVersion", "scheduling.volcano.sh/v1beta1", "kind",
                        "Queue", "metadata", "name", js_name(project), "labels", labels_of(project), "spec", "weight",
                        spec->queue_weight);
  if (json_object_size(cap)) json_object_set_new(json_object_get(q, "spec"), "capability", cap);
  else json_decref(cap);
  if (spec->queue_reclaimable >= 0)
    json_object_set_new(json_object_get(q, "spec"), "reclaimable", json_boolean(spec->queue_reclaimable));
  rt_set_controller_ref(q, project);
  int rc = rt_apply_cached(ctx->client, rt_store(ctx, &volcano_queues), &volcano_queues, q, NULL, NULL, st);
  json_decref(q);
  *have_queue = rc == 0;
  return rc;
}

/* Removes the project's label and RoleBindings from a namespace it no longer
 * owns (deletionPolicy Retain, or dropped from spec.namespaces). */
static int release_namespace(const rt_ctx *ctx, const json_t *project, const char *ns, kube_status *st) {
  for (size_t r = 0; r < 3; r++) {
    char name[64];
    snprintf(name, sizeof(name), "cubit-project-%s", roles[r]);
    int rc = kube_delete(ctx->client, &kube_rolebindings, ns, name, NULL, st);
    if (rc && rc != CUBIT_ENOTFOUND) return rc;
  }
  json_t *patch = json_pack("{s:{s:{s:n, s:n}}}", "metadata", "labels", PROJECT_LABEL, RT_LABEL_CREATED_BY_PROJECT);
  int rc = kube_patch(ctx->client, &kube_namespaces, NULL, ns, patch, NULL, NULL, st);
  json_decref(patch);
  if (rc == 0) rt_event(ctx->events, project, "Normal", "NamespaceReleased", "namespace %s released", ns);
  return rc == CUBIT_ENOTFOUND ? 0 : rc;
}

/* ------------------------------------------------------- reconcile */

/* 1 when the project created namespace ns (the manager deletes no other). */
static int created_by(const json_t *ns, const json_t *project) {
  const char *by = json_string_value(json_object_get(js_get(ns, "metadata.labels"), RT_LABEL_CREATED_BY_PROJECT));
  return by && strcmp(by, js_name(project)) == 0;
}

static rt_result finalize(const rt_ctx *ctx, const json_t *project, const project_spec *spec) {
  if (!rt_has_finalizer(project, PROJECT_FINALIZER)) return rt_ok();
  kube_status st;
  cache_store *nss = rt_store(ctx, &kube_namespaces);
  cache_list owned = {0};
  if (nss) cache_store_by_index(nss, "label:" PROJECT_LABEL, js_name(project), &owned);
  int rc = 0;
  for (size_t i = 0; i < owned.len && rc == 0; i++) {
    const char *ns = js_name(owned.items[i]);
    if (spec->delete_namespaces && created_by(owned.items[i], project)) {
      kube_delete_options o = {.propagation_policy = "Background"};
      rc = kube_delete(ctx->client, &kube_namespaces, NULL, ns, &o, &st);
      if (rc == CUBIT_ENOTFOUND) rc = 0;
      if (rc == 0) rt_event(ctx->events, project, "Normal", "NamespaceDeleted", "namespace %s deleted", ns);
    } else {
      rc = release_namespace(ctx, project, ns, &st);
    }
  }
  cache_list_free(&owned);
  if (rc == 0) rc = rt_remove_finalizer(ctx->client, &project_resource, project, PROJECT_FINALIZER, &st);
  if (rc == CUBIT_ENOTFOUND) return rt_ok(); /* already gone: a stale cache read */
  if (rc) {
    log_warn("project", "finalizing failed", "project=%s error=%s message=\"%s\"", js_name(project),
             cubit_strerror(rc), st.message);
    return rt_result_for_error(rc, &st);
  }
  log_info("project", "finalized", "project=%s policy=%s", js_name(project),
           spec->delete_namespaces ? "Delete" : "Retain");
  return rt_ok();
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const project_ctl *pc = ctx->arg;
  cache_store *projects = rt_store(ctx, &project_resource);
  cache_store *nss = rt_store(ctx, &kube_namespaces);
  if (projects == NULL || nss == NULL) return rt_requeue_after(5000);
  json_t *project = cache_store_get(projects, NULL, req->name);
  if (project == NULL) return rt_ok();
  json_int_t gen = js_int(project, "metadata.generation", 0);
  int64_t now = time_wall_s();
  project_spec spec;
  char err[512];
  int invalid = project_spec_parse(project, &spec, err, sizeof(err));

  if (js_get(project, "metadata.deletionTimestamp")) {
    rt_result r = invalid ? rt_terminal("invalid spec") : finalize(ctx, project, &spec);
    if (invalid) { /* nothing parsed: keep the namespaces, drop the finalizer */
      kube_status st;
      if (rt_remove_finalizer(ctx->client, &project_resource, project, PROJECT_FINALIZER, &st) == 0) r = rt_ok();
    }
    project_spec_free(&spec);
    json_decref(project);
    return r;
  }
  if (invalid) {
    json_t *status = rt_status_copy(project);
    rt_condition_set(status, "Ready", "False", "InvalidSpec", err, gen, now);
    rt_event(ctx->events, project, "Warning", "InvalidSpec", "%s", err);
    rt_result r = rt_write_status(ctx, &project_resource, project, status);
    json_decref(project);
    return r.kind == RT_OK ? rt_ok() : r; /* retrying cannot fix the spec; its next edit will */
  }
  kube_status st;
  int rc = 0;
  if (!rt_has_finalizer(project, PROJECT_FINALIZER)) {
    rc = rt_add_finalizer(ctx->client, &project_resource, project, PROJECT_FINALIZER, &st);
    project_spec_free(&spec);
    json_decref(project);
    return rc ? rt_result_for_error(rc, &st) : rt_ok(); /* the update brings us back */
  }

  /* Namespaces: create, adopt, refuse another project's, release dropped ones. */
  json_t *owned[PROJECT_MAX_NAMESPACES];
  size_t nowned = 0;
  char conflict[512] = "";
  for (size_t i = 0; i < spec.nnamespaces && rc == 0; i++) {
    const char *ns = spec.namespaces[i];
    json_t *live = cache_store_get(nss, NULL, ns);
    const char *holder = json_string_value(json_object_get(js_get(live, "metadata.labels"), PROJECT_LABEL));
    if (holder && strcmp(holder, js_name(project)) != 0) {
      snprintf(conflict, sizeof(conflict), "namespace %s belongs to project %s", ns, holder);
      json_decref(live);
      continue;
    }
    json_t *desired = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                                "name", ns, "labels", PROJECT_LABEL, js_name(project));
    if (live == NULL || created_by(live, project)) /* made here: the project may delete it later */
      json_object_set_new(js_get(desired, "metadata.labels"), RT_LABEL_CREATED_BY_PROJECT, json_string(js_name(project)));
    json_t *applied = NULL;
    int wrote = 0;
    rc = rt_apply(ctx->client, &kube_namespaces, desired, live, &applied, &wrote, &st);
    if (rc == 0 && wrote)
      rt_event(ctx->events, project, "Normal", live ? "NamespaceAdopted" : "NamespaceCreated", "namespace %s %s", ns,
               live ? "adopted" : "created");
    json_decref(desired);
    json_decref(live);
    if (rc == 0) owned[nowned++] = applied;
  }
  cache_list labelled;
  cache_store_by_index(nss, "label:" PROJECT_LABEL, js_name(project), &labelled);
  for (size_t i = 0; i < labelled.len && rc == 0; i++)
    if (!listed(&spec, js_name(labelled.items[i]))) rc = release_namespace(ctx, project, js_name(labelled.items[i]), &st);
  cache_list_free(&labelled);

  /* Members. */
  for (size_t i = 0; i < nowned && rc == 0; i++) {
    if (js_get(owned[i], "metadata.deletionTimestamp")) continue;
    for (size_t r = 0; r < 3 && rc == 0; r++)
      rc = sync_role_binding(ctx, project, &spec, js_name(owned[i]), roles[r], &st);
  }
  if (rc == 0) rc = sync_admin_access(ctx, project, &spec, &st);
  int have_queue = 0;
  if (rc == 0) rc = sync_queue(ctx, project, &spec, &st, &have_queue);

  /* Status: what the project holds and uses. */
  json_t *status = rt_status_copy(project);
  usage used;
  project_usage(ctx, pc, owned, nowned, &used);
  json_object_set_new(status, "used", usage_to_json(&used));
  json_t *names = json_array();
  for (size_t i = 0; i < nowned; i++) json_array_append_new(names, json_string(js_name(owned[i])));
  json_object_set_new(status, "namespaces", names);
  if (have_queue) json_object_set_new(status, "queue", json_string(js_name(project)));
  else json_object_del(status, "queue");
  if (rc) {
    rt_condition_set(status, "Ready", "False", "ReconcileFailed", st.message, gen, now);
  } else if (conflict[0]) {
    rt_condition_set(status, "Ready", "False", "NamespaceConflict", conflict, gen, now);
    rt_event(ctx->events, project, "Warning", "NamespaceConflict", "%s", conflict);
  } else {
    rt_condition_set(status, "Ready", "True", "Reconciled", "namespaces, members and quota in place", gen, now);
  }
  rt_result result = rt_write_status(ctx, &project_resource, project, status);
  if (rc) {
    log_warn("project", "reconcile failed", "project=%s error=%s message=\"%s\"", js_name(project), cubit_strerror(rc),
             st.message);
    result = rt_result_for_error(rc, &st);
  }
  for (size_t i = 0; i < nowned; i++) json_decref(owned[i]);
  project_spec_free(&spec);
  json_decref(project);
  return result;
}

/* ---------------------------------------------------------- mapping */

static char **one_key(const char *key) {
  if (key == NULL) return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = xstrdup(key);
  return keys;
}

/* A namespace maps to the project that labels it and to every project that
 * lists it (so a conflict or a late-created namespace is noticed). */
static char **map_namespace(const rt_ctx *ctx, const json_t *ns) {
  const char *holder = json_string_value(json_object_get(js_get(ns, "metadata.labels"), PROJECT_LABEL));
  cache_store *projects = rt_store(ctx, &project_resource);
  cache_list all = {0};
  if (projects) cache_store_list(projects, NULL, &all);
  char **keys = xcalloc(all.len + 2, sizeof(char *));
  size_t n = 0;
  if (holder) keys[n++] = xstrdup(holder);
  for (size_t i = 0; i < all.len; i++) {
    size_t j;
    json_t *v;
    json_array_foreach(js_get(all.items[i], "spec.namespaces"), j, v) {
      if (json_is_string(v) && strcmp(json_string_value(v), js_name(ns)) == 0 &&
          !(holder && strcmp(holder, js_name(all.items[i])) == 0))
        keys[n++] = xstrdup(js_name(all.items[i]));
    }
  }
  cache_list_free(&all);
  return keys;
}

/* A pod maps to the project of its namespace (status.used). */
static char **map_pod(const rt_ctx *ctx, const json_t *pod) {
  cache_store *nss = rt_store(ctx, &kube_namespaces);
  json_t *ns = nss ? cache_store_get(nss, NULL, js_namespace(pod)) : NULL;
  char **keys = one_key(json_string_value(json_object_get(js_get(ns, "metadata.labels"), PROJECT_LABEL)));
  json_decref(ns);
  return keys;
}

int project_controller_register(rt_manager *m, const gpu_profile *gpu) {
  project_ctl *pc = xcalloc(1, sizeof(*pc));
  pc->gpu = gpu;
  rt_controller_def def = {0};
  def.name = "project";
  def.primary = &project_resource;
  def.owns[0] = &kube_rolebindings;
  def.owns[1] = &clusterroles;
  def.owns[2] = &clusterrolebindings;
  def.owns[3] = &volcano_queues;
  def.watches[0] = (rt_watch_def){&kube_namespaces, map_namespace};
  def.watches[1] = (rt_watch_def){&kube_pods, map_pod};
  def.workers = 2;
  def.reconcile = reconcile;
  def.arg = pc;
  def.free_arg = free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) free(pc);
  return rc;
}
