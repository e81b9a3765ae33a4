/* The Project controller: gather from the cache, project_plan, rt_execute. */
#include "controllers/project/project.h"

#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/trainingjob/trainingjob.h"
#include "runtime/controller.h"
#include "runtime/members.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

static const kube_resource clusterrolebindings = {"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                                  "ClusterRoleBinding", 0};

typedef struct project_ctl {
  const gpu_profile *gpu;
} project_ctl;

/* References taken from cache lists, in one array. */
typedef struct refs {
  json_t **items;
  size_t len, cap;
} refs;

/* Takes the references of l (emptied). */
static void refs_take(refs *r, cache_list *l) {
  for (size_t i = 0; i < l->len; i++) {
    if (r->len == r->cap) {
      r->cap = r->cap ? 2 * r->cap : 16;
      r->items = xrealloc(r->items, r->cap * sizeof(*r->items));
    }
    r->items[r->len++] = json_incref(l->items[i]);
  }
  cache_list_free(l);
}

static void refs_free(refs *r) {
  for (size_t i = 0; i < r->len; i++) json_decref(r->items[i]);
  free(r->items);
}

/* What the gather step took from the cache (references it releases). */
typedef struct gathered {
  project_spec spec;
  int spec_ok;
  char spec_error[512];
  json_t *listed[PROJECT_MAX_NAMESPACES];
  cache_list labelled, bindings, claims;
  json_t *admin_role, *admin_binding, *queue;
  refs pods, jobs;
  project_cluster_observed clusters[PROJECT_MAX_CLUSTERS];
  refs member_pods[PROJECT_MAX_CLUSTERS];
  json_t *cluster_objs[PROJECT_MAX_CLUSTERS];
  json_t *member_listed[PROJECT_MAX_CLUSTERS][PROJECT_MAX_NAMESPACES];
  json_t **member_labelled[PROJECT_MAX_CLUSTERS];
  cache_list member_bindings[PROJECT_MAX_CLUSTERS], member_claims[PROJECT_MAX_CLUSTERS];
  size_t nclusters;
  json_t *member_roles[3]; /* the hub's cubit-project-admin, -edit, -view */
} gathered;

/* The objects of store s in namespace ns, added to r. */
static void add_in(refs *r, cache_store *s, const char *ns) {
  cache_list l = {0};
  if (s) cache_store_by_index(s, CACHE_INDEX_NAMESPACE, ns, &l);
  refs_take(r, &l);
}

static json_t *get(const rt_ctx *ctx, const kube_resource *r, const char *name) {
  cache_store *s = rt_store(ctx, r);
  return s ? cache_store_get(s, NULL, name) : NULL;
}

/* The objects of r in member cluster 'name' labelled for the project. */
static void labelled_in_member(const rt_ctx *ctx, const char *name, const kube_resource *r, const char *project,
                               cache_list *out) {
  memset(out, 0, sizeof(*out));
  cache_list all = {0};
  if (rt_member_list(ctx, name, r, NULL, &all)) return;
  out->items = xcalloc(all.len + 1, sizeof(json_t *));
  for (size_t i = 0; i < all.len; i++) {
    const char *label = json_string_value(json_object_get(js_get(all.items[i], "metadata.labels"), PROJECT_LABEL));
    if (label && strcmp(label, project) == 0) out->items[out->len++] = json_incref(all.items[i]);
  }
  cache_list_free(&all);
}

/* The member clusters of spec.clusters, from the hub's cache of each. */
static void gather_clusters(const rt_ctx *ctx, const char *project, gathered *g) {
  for (size_t c = 0; c < g->spec.nclusters; c++) {
    const char *name = g->spec.clusters[c];
    if (strcmp(name, "local") == 0) continue;
    size_t at = g->nclusters++;
    project_cluster_observed *m = &g->clusters[at];
    m->name = name;
    m->listed = g->member_listed[at];
    m->synced = rt_member_synced(ctx, name);
    g->cluster_objs[at] = get(ctx, &cluster_resource, name);
    m->cluster = g->cluster_objs[at];
    m->gone = m->cluster == NULL && rt_store(ctx, &cluster_resource) != NULL;
    /* Its pods as last seen (none when it never connected): what the
     * project holds there, status.clusters[].used. */
    for (size_t n = 0; n < g->spec.nnamespaces; n++) {
      cache_list l = {0};
      if (rt_member_list(ctx, name, &kube_pods, g->spec.namespaces[n], &l)) cache_list_free(&l);
      refs_take(&g->member_pods[at], &l);
    }
    m->pods = g->member_pods[at].items;
    m->npods = g->member_pods[at].len;
    cache_list all = {0};
    if (m->synced && rt_member_list(ctx, name, &kube_namespaces, NULL, &all)) m->synced = 0;
    g->member_labelled[at] = xcalloc(all.len + 1, sizeof(json_t *));
    for (size_t i = 0; i < all.len; i++) {
      const char *label = json_string_value(json_object_get(js_get(all.items[i], "metadata.labels"), PROJECT_LABEL));
      for (size_t n = 0; n < g->spec.nnamespaces; n++)
        if (strcmp(js_name(all.items[i]), g->spec.namespaces[n]) == 0) g->member_listed[at][n] = json_incref(all.items[i]);
      if (label && strcmp(label, project) == 0) g->member_labelled[at][m->nlabelled++] = json_incref(all.items[i]);
    }
    m->labelled = g->member_labelled[at];
    cache_list_free(&all);
    labelled_in_member(ctx, name, &kube_rolebindings, project, &g->member_bindings[at]);
    labelled_in_member(ctx, name, &kube_pvcs, project, &g->member_claims[at]);
    m->bindings = g->member_bindings[at].items;
    m->nbindings = g->member_bindings[at].len;
    m->claims = g->member_claims[at].items;
    m->nclaims = g->member_claims[at].len;
  }
}

static void gather(const rt_ctx *ctx, const project_ctl *pc, const json_t *project, gathered *g,
                   project_observed *in) {
  memset(g, 0, sizeof(*g));
  const char *name = js_name(project), *uid = js_uid(project);
  g->spec_ok = project_spec_parse(project, &g->spec, g->spec_error, sizeof(g->spec_error)) == 0;
  cache_store *nss = rt_store(ctx, &kube_namespaces), *pods = rt_store(ctx, &kube_pods);
  cache_store *rbs = rt_store(ctx, &kube_rolebindings), *tjs = rt_store(ctx, &trainingjob_resource);
  for (size_t i = 0; g->spec_ok && i < g->spec.nnamespaces; i++) {
    g->listed[i] = nss ? cache_store_get(nss, NULL, g->spec.namespaces[i]) : NULL;
    add_in(&g->pods, pods, g->spec.namespaces[i]);
    add_in(&g->jobs, tjs, g->spec.namespaces[i]);
  }
  if (nss) cache_store_by_index(nss, "label:" PROJECT_LABEL, name, &g->labelled);
  cache_store *pvcs = rt_store(ctx, &kube_pvcs);
  if (pvcs) cache_store_by_index(pvcs, "label:" PROJECT_LABEL, name, &g->claims);
  if (rbs && uid) cache_store_by_index(rbs, CACHE_INDEX_OWNER, uid, &g->bindings);
  char *admin = xasprintf("cubit-project:%s:admin", name);
  g->admin_role = get(ctx, &kube_clusterroles, admin);
  g->admin_binding = get(ctx, &clusterrolebindings, admin);
  free(admin);
  if (g->spec_ok) gather_clusters(ctx, name, g);
  static const char *const role_names[] = {"cubit-project-admin", "cubit-project-edit", "cubit-project-view"};
  for (size_t r = 0; g->nclusters && r < 3; r++) g->member_roles[r] = get(ctx, &kube_clusterroles, role_names[r]);
  int volcano = rt_api_available(ctx, &project_volcano_queues);
  if (volcano) g->queue = get(ctx, &project_volcano_queues, name);
  *in = (project_observed){
      .project = project,
      .spec = g->spec_ok ? &g->spec : NULL,
      .spec_error = g->spec_error,
      .listed = g->listed,
      .labelled = g->labelled.items,
      .nlabelled = g->labelled.len,
      .bindings = g->bindings.items,
      .nbindings = g->bindings.len,
      .admin_role = g->admin_role,
      .admin_binding = g->admin_binding,
      .queue = g->queue,
      .volcano = volcano,
      .claims = g->claims.items,
      .nclaims = g->claims.len,
      .pods = g->pods.items,
      .npods = g->pods.len,
      .jobs = g->jobs.items,
      .njobs = g->jobs.len,
      .clusters = g->clusters,
      .nclusters = g->nclusters,
      .member_roles = (const json_t *const *)g->member_roles,
      .gpu = pc->gpu,
      .now = time_wall_s(),
  };
}

static void gathered_free(gathered *g) {
  for (size_t i = 0; i < PROJECT_MAX_NAMESPACES; i++) json_decref(g->listed[i]);
  cache_list_free(&g->labelled);
  cache_list_free(&g->bindings);
  cache_list_free(&g->claims);
  json_decref(g->admin_role);
  json_decref(g->admin_binding);
  json_decref(g->queue);
  refs_free(&g->pods);
  refs_free(&g->jobs);
  for (size_t c = 0; c < g->nclusters; c++) {
    for (size_t n = 0; n < PROJECT_MAX_NAMESPACES; n++) json_decref(g->member_listed[c][n]);
    for (size_t i = 0; i < g->clusters[c].nlabelled; i++) json_decref(g->member_labelled[c][i]);
    free(g->member_labelled[c]);
    cache_list_free(&g->member_bindings[c]);
    cache_list_free(&g->member_claims[c]);
    refs_free(&g->member_pods[c]);
    json_decref(g->cluster_objs[c]);
  }
  for (size_t r = 0; r < 3; r++) json_decref(g->member_roles[r]);
  if (g->spec_ok) project_spec_free(&g->spec);
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  cache_store *projects = rt_store(ctx, &project_resource);
  json_t *project = projects ? cache_store_get(projects, NULL, req->name) : NULL;
  if (project == NULL) return rt_ok();
  gathered g;
  project_observed in;
  gather(ctx, ctx->arg, project, &g, &in);
  rt_plan plan;
  rt_plan_init(&plan);
  project_plan(&in, &plan);
  rt_result r = rt_execute(ctx, &project_resource, project, &plan);
  rt_plan_free(&plan);
  gathered_free(&g);
  json_decref(project);
  return r;
}

/* ---------------------------------------------------------- mapping */

static void push_key(char ***keys, size_t *n, size_t *cap, const char *key) {
  if (key == NULL || *key == '\0') return;
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*keys)[i], key) == 0) return;
  if (*n + 2 > *cap) {
    *cap = *cap ? 2 * *cap : 4;
    *keys = xrealloc(*keys, *cap * sizeof(char *));
  }
  (*keys)[(*n)++] = xstrdup(key);
  (*keys)[*n] = NULL;
}

/* A namespace maps to the project that labels it, the one that created it
 * and every project that lists it (so a conflict, a lost label or a
 * late-created namespace is noticed). */
static char **map_namespace(const rt_ctx *ctx, const json_t *ns) {
  char **keys = NULL;
  size_t n = 0, cap = 0;
  push_key(&keys, &n, &cap, json_string_value(json_object_get(js_get(ns, "metadata.labels"), PROJECT_LABEL)));
  push_key(&keys, &n, &cap,
           json_string_value(json_object_get(js_get(ns, "metadata.annotations"), PROJECT_ANNOTATION_CREATED)));
  cache_store *projects = rt_store(ctx, &project_resource);
  cache_list all = {0};
  if (projects) cache_store_list(projects, NULL, &all);
  for (size_t i = 0; i < all.len; i++) {
    size_t j;
    json_t *v;
    json_array_foreach(js_get(all.items[i], "spec.namespaces"), j, v) {
      if (json_is_string(v) && strcmp(json_string_value(v), js_name(ns)) == 0)
        push_key(&keys, &n, &cap, js_name(all.items[i]));
    }
  }
  cache_list_free(&all);
  return keys;
}

/* A claim the project provisions (or, in a member, a RoleBinding it made)
 * maps to it by its label. */
static char **map_claim(const rt_ctx *ctx, const json_t *pvc) {
  char **keys = NULL;
  size_t n = 0, cap = 0;
  push_key(&keys, &n, &cap, json_string_value(json_object_get(js_get(pvc, "metadata.labels"), PROJECT_LABEL)));
  return keys;
}

/* A pod or a TrainingJob maps to the project of its namespace (status.used
 * and status.clusters[].used), by the hub's namespace of that name: a
 * project's namespaces carry the same names in every cluster it spans, so a
 * member's pod maps alike. */
static char **map_by_namespace(const rt_ctx *ctx, const json_t *obj) {
  cache_store *nss = rt_store(ctx, &kube_namespaces);
  json_t *ns = nss ? cache_store_get(nss, NULL, js_namespace(obj)) : NULL;
  char **keys = NULL;
  size_t n = 0, cap = 0;
  push_key(&keys, &n, &cap, json_string_value(json_object_get(js_get(ns, "metadata.labels"), PROJECT_LABEL)));
  json_decref(ns);
  return keys;
}

/* A Cluster maps to every project that lists it (spec.clusters): one
 * waiting for the member wakes when the Cluster turns Ready. */
static char **map_cluster(const rt_ctx *ctx, const json_t *cluster) {
  char **keys = NULL;
  size_t n = 0, cap = 0;
  cache_store *projects = rt_store(ctx, &project_resource);
  cache_list all = {0};
  if (projects) cache_store_list(projects, NULL, &all);
  for (size_t i = 0; i < all.len; i++) {
    size_t j;
    json_t *v;
    json_array_foreach(js_get(all.items[i], "spec.clusters"), j, v) {
      const char *name = js_str(v, "name");
      if (name && js_name(cluster) && strcmp(name, js_name(cluster)) == 0) push_key(&keys, &n, &cap, js_name(all.items[i]));
    }
  }
  cache_list_free(&all);
  return keys;
}

int project_controller_register(rt_manager *m, const gpu_profile *gpu) {
  project_ctl *pc = xcalloc(1, sizeof(*pc));
  pc->gpu = gpu;
  rt_controller_def def = {0};
  def.name = "project";
  def.primary = &project_resource;
  def.owns[0] = &kube_rolebindings;
  def.owns[1] = &kube_clusterroles;
  def.owns[2] = &clusterrolebindings;
  def.owns[3] = &project_volcano_queues;
  def.watches[0] = (rt_watch_def){&kube_namespaces, map_namespace};
  def.watches[1] = (rt_watch_def){&kube_pods, map_by_namespace};
  def.watches[2] = (rt_watch_def){&kube_pvcs, map_claim};
  def.watches[3] = (rt_watch_def){&cluster_resource, map_cluster};
  /* A job's gang is held from its admission, before any pod, in the
   * cluster it is placed on (status.cluster). */
  def.watches[4] = (rt_watch_def){&trainingjob_resource, map_by_namespace};
  /* In each member the project uses: its namespaces, the members'
   * RoleBindings and the shared claim wake it as the hub's do; the roles
   * copied there are cached so an unchanged copy is not written again. */
  def.member_watches[0] = (rt_watch_def){&kube_namespaces, map_namespace};
  def.member_watches[1] = (rt_watch_def){&kube_rolebindings, map_claim};
  def.member_watches[2] = (rt_watch_def){&kube_pvcs, map_claim};
  def.member_watches[3] = (rt_watch_def){&kube_clusterroles, NULL};
  /* Its pods there: what the project holds in that cluster. A pod's
   * change that moves no usage wakes it for nothing: the status it
   * plans is the same, and an unchanged status is not written. */
  def.member_watches[4] = (rt_watch_def){&kube_pods, map_by_namespace};
  def.workers = 2;
  def.reconcile = reconcile;
  def.arg = pc;
  def.free_arg = free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) free(pc);
  return rc;
}
