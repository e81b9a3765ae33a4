#include "webhooks/quota/quota.h"

#include <stdio.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/inferenceservice/inferenceservice.h"
#include "api/notebook/notebook.h"
#include "api/project/project.h"
#include "util/json.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/time.h"

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int condition_true(const json_t *obj, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(js_get(obj, "status.conditions"), i, c) {
    if (is(js_str(c, "type"), type) && is(js_str(c, "status"), "True")) return 1;
  }
  return 0;
}

int quota_workload_finished(int workload, const json_t *obj) {
  const char *phase;
  switch (workload) {
    case WL_JOB: return condition_true(obj, "Complete") || condition_true(obj, "Failed");
    case WL_VOLCANOJOB:
      phase = js_str(obj, "status.state.phase");
      return is(phase, "Completed") || is(phase, "Failed") || is(phase, "Aborted") || is(phase, "Terminated");
    case WL_TRAININGJOB:
      phase = js_str(obj, "status.phase");
      return is(phase, "Succeeded") || is(phase, "Failed");
    case WL_RAYJOB:
      phase = js_str(obj, "status.jobDeploymentStatus");
      return is(phase, "Complete") || is(phase, "Failed");
    case WL_RAYCLUSTER: return 0; /* it ends by going; its finished pods are left out one by one */
    case WL_SPARKAPPLICATION:
      phase = js_str(obj, "status.applicationState.state");
      return is(phase, "COMPLETED") || is(phase, "FAILED");
    default: /* the training operator's kinds */
      return condition_true(obj, "Succeeded") || condition_true(obj, "Failed");
  }
}

static int pod_finished(const json_t *pod) {
  const char *phase = js_str(pod, "status.phase");
  return is(phase, "Succeeded") || is(phase, "Failed");
}

/* -------------------------------------------------- what a project holds */

/* The kind of a pod where a workload index is expected: the object being
 * charged, or a Spark driver pod as the controller of its executors. */
#define KIND_POD (-1)

/* 1 when pod is a Spark driver: controlled by a SparkApplication. Only such
 * a pod is followed as a controller (of its executors); whether that
 * SparkApplication is in the cache, unfinished, is the next step's check. */
static int spark_driver(const json_t *pod) {
  const json_t *ref = js_controller_ref(pod);
  const char *api = js_str(ref, "apiVersion");
  return is(js_str(ref, "kind"), "SparkApplication") && api && strncmp(api, "sparkoperator.k8s.io/", 21) == 0;
}

/* The username a pod's containers act as: Spark's driver creates its
 * executors with its own service account's token. The API server sets
 * spec.serviceAccountName on every pod (the cache keeps it:
 * pkg/runtime/fields.c). */
static void pod_identity(const json_t *pod, char *out, size_t len) {
  const char *sa = js_str(pod, "spec.serviceAccountName");
  snprintf(out, len, "system:serviceaccount:%s:%s", js_namespace(pod) ? js_namespace(pod) : "",
           sa && *sa ? sa : "default");
}

/* A child shares its owner's charge only when both record the same creator
 * (a child recording none inherits its owner's): a member's pod claiming
 * another member's workload is charged to its own creator. A Spark
 * executor records the driver's service account as its creator (the driver
 * is no propagator): it shares its driver's charge when it records either. */
static int shares_charge(const json_t *child, int owner_kind, const json_t *owner) {
  const char *c = webhook_user_of(child), *o = webhook_user_of(owner);
  if (c == NULL || (o != NULL && strcmp(c, o) == 0)) return 1;
  if (owner_kind != KIND_POD) return 0;
  char driver[320];
  pod_identity(owner, driver, sizeof(driver));
  return strcmp(c, driver) == 0;
}

/* The unfinished controller in the cache that obj's (of kind obj_kind)
 * controller reference names, with the uid it names and sharing its
 * charge (a new reference, *kind its kind), or NULL. A controller is a
 * workload or a link; a pod is one only for a pod, and only when it is a
 * Spark driver. */
static json_t *owner_of(const webhook_env *env, int obj_kind, const json_t *obj, int *kind) {
  const json_t *ref = js_controller_ref(obj);
  const char *api = js_str(ref, "apiVersion"), *k = js_str(ref, "kind"), *name = js_str(ref, "name");
  const char *uid = js_str(ref, "uid");
  if (api == NULL || k == NULL || name == NULL || uid == NULL) return NULL;
  json_t *owner;
  int ok;
  if (is(api, "v1") && is(k, "Pod")) {
    if (obj_kind != KIND_POD || env->pods == NULL) return NULL;
    owner = cache_store_get(env->pods, js_namespace(obj), name);
    ok = owner && spark_driver(owner) && !pod_finished(owner);
    *kind = KIND_POD;
  } else {
    const char *slash = strchr(api, '/');
    char group[128] = "";
    if (slash) snprintf(group, sizeof(group), "%.*s", (int)(slash - api), api);
    int wl = webhook_workload_index(group, k);
    if (wl < 0 || env->workloads[wl] == NULL) return NULL;
    owner = cache_store_get(env->workloads[wl], js_namespace(obj), name);
    ok = owner && !quota_workload_finished(wl, owner);
    *kind = wl;
  }
  if (!ok || !is(js_uid(owner), uid) || !shares_charge(obj, *kind, owner)) {
    json_decref(owner);
    return NULL;
  }
  return owner;
}

/* 1 when obj's usage is part of a workload's charge: its chain of
 * controllers ends at an uncontrolled workload or link (not a pod: a
 * driver whose SparkApplication is gone is charged by itself, with nothing
 * under it) within QUOTA_MAX_DEPTH steps, without a cycle. Anything else is
 * a root, charged by itself. */
static int covered(const webhook_env *env, int obj_kind, const json_t *obj) {
  json_t *chain[QUOTA_MAX_DEPTH + 1];
  size_t n = 0;
  const json_t *cur = obj;
  int cur_kind = obj_kind, result = 0;
  for (int depth = 0; depth <= QUOTA_MAX_DEPTH; depth++) {
    int kind;
    json_t *owner = owner_of(env, cur_kind, cur, &kind);
    if (owner == NULL) {
      result = depth > 0 && cur_kind != KIND_POD;
      break;
    }
    int cycle = is(js_uid(owner), js_uid(obj));
    for (size_t i = 0; i < n; i++) cycle |= is(js_uid(owner), js_uid(chain[i]));
    if (cycle || depth == QUOTA_MAX_DEPTH) {
      json_decref(owner);
      break;
    }
    chain[n++] = owner;
    cur = owner;
    cur_kind = kind;
  }
  for (size_t i = 0; i < n; i++) json_decref(chain[i]);
  return result;
}

/* The object left out of a sum (the one being admitted, which the cache
 * may show in its old version): kind KIND_POD or a workload index, name
 * NULL for none. */
typedef struct skip {
  int kind;
  const char *name;
} skip;

static const skip no_skip = {-2, NULL};

static int skipped(const skip *s, int kind, const json_t *obj) { return s->kind == kind && is(js_name(obj), s->name); }

static void charge_of(const webhook_env *env, int wl, const json_t *w, int level, const skip *s, usage *out);

/* What the unfinished objects w (of kind w_kind) controls hold (the owner
 * index), each with its own charge: a Spark driver with its executors. */
static void children_of(const webhook_env *env, int w_kind, const json_t *w, int level, const skip *s, usage *out) {
  memset(out, 0, sizeof(*out));
  const char *uid = js_uid(w);
  if (uid == NULL || level >= QUOTA_MAX_DEPTH) return;
  char err[256];
  cache_list l;
  if (env->pods) {
    cache_store_by_index(env->pods, CACHE_INDEX_OWNER, uid, &l);
    for (size_t i = 0; i < l.len; i++) {
      const json_t *pod = l.items[i];
      usage u, under;
      if (pod_finished(pod) || !shares_charge(pod, w_kind, w) || skipped(s, KIND_POD, pod)) continue;
      if (usage_of_object("", "Pod", pod, env->gpu, &u, err, sizeof(err)) == 0) usage_add(out, &u);
      if (w_kind != KIND_POD && spark_driver(pod) && is(js_str(js_controller_ref(pod), "uid"), uid)) {
        children_of(env, KIND_POD, pod, level + 1, s, &under);
        usage_add(out, &under);
      }
    }
    cache_list_free(&l);
  }
  if (w_kind == KIND_POD) return; /* a driver controls pods only */
  for (int k = 0; k < WL_COUNT; k++) {
    if (env->workloads[k] == NULL) continue;
    cache_store_by_index(env->workloads[k], CACHE_INDEX_OWNER, uid, &l);
    for (size_t i = 0; i < l.len; i++) {
      const json_t *child = l.items[i];
      usage u;
      if (quota_workload_finished(k, child) || !shares_charge(child, w_kind, w) || skipped(s, k, child)) continue;
      charge_of(env, k, child, level + 1, s, &u);
      usage_add(out, &u);
    }
    cache_list_free(&l);
  }
}

/* What workload w holds: its whole gang, or what its children hold where
 * that is more. A link holds no gang: only its children. */
static void charge_of(const webhook_env *env, int wl, const json_t *w, int level, const skip *s, usage *out) {
  const kube_resource *r = &webhook_workload_resources[wl];
  char err[256];
  if (webhook_workload_is_link(wl) || usage_of_object(r->group, r->kind, w, env->gpu, out, err, sizeof(err)))
    memset(out, 0, sizeof(*out));
  usage kids;
  children_of(env, wl, w, level, s, &kids);
  usage_max(out, &kids);
}

static void add_for(const usage *u, const char *owner_user, const char *user, usage *proj, usage *member) {
  usage_add(proj, u);
  if (member && is(owner_user, user)) usage_add(member, u);
}

void quota_committed(const webhook_env *env, const json_t *project, const char *user, usage *proj, usage *member) {
  memset(proj, 0, sizeof(*proj));
  if (member) memset(member, 0, sizeof(*member));
  cache_list nss = {0};
  if (env->namespaces) cache_store_by_index(env->namespaces, "label:" PROJECT_LABEL, js_name(project), &nss);
  char err[256];
  for (size_t n = 0; n < nss.len; n++) {
    const char *ns = js_name(nss.items[n]);
    cache_list l;
    if (env->pods) {
      cache_store_by_index(env->pods, CACHE_INDEX_NAMESPACE, ns, &l);
      for (size_t i = 0; i < l.len; i++) {
        usage u;
        if (pod_finished(l.items[i]) || covered(env, KIND_POD, l.items[i])) continue;
        if (usage_of_object("", "Pod", l.items[i], env->gpu, &u, err, sizeof(err)) == 0)
          add_for(&u, webhook_user_of(l.items[i]), user, proj, member);
      }
      cache_list_free(&l);
    }
    for (int wl = 0; wl < WL_COUNT; wl++) {
      if (env->workloads[wl] == NULL) continue;
      cache_store_by_index(env->workloads[wl], CACHE_INDEX_NAMESPACE, ns, &l);
      for (size_t i = 0; i < l.len; i++) {
        usage u;
        if (quota_workload_finished(wl, l.items[i]) || covered(env, wl, l.items[i])) continue;
        charge_of(env, wl, l.items[i], 0, &no_skip, &u);
        add_for(&u, webhook_user_of(l.items[i]), user, proj, member);
      }
      cache_list_free(&l);
    }
  }
  cache_list_free(&nss);
}

/* ---------------------------------------------------- across clusters */

/* Borrowed objects, from cache lists this keeps until refs_free. */
typedef struct refs {
  const json_t **items;
  size_t len, cap;
  cache_list *lists;
  size_t nlists;
} refs;

static void refs_take(refs *r, cache_list *l) {
  r->lists = xrealloc(r->lists, (r->nlists + 1) * sizeof(*r->lists));
  r->lists[r->nlists++] = *l;
  for (size_t i = 0; i < l->len; i++) {
    if (r->len == r->cap) {
      r->cap = r->cap ? 2 * r->cap : 16;
      r->items = xrealloc(r->items, r->cap * sizeof(*r->items));
    }
    r->items[r->len++] = l->items[i];
  }
}

static void refs_free(refs *r) {
  for (size_t i = 0; i < r->nlists; i++) cache_list_free(&r->lists[i]);
  free(r->lists);
  free(r->items);
  memset(r, 0, sizeof(*r));
}

/* The objects of in that 'keep' says yes to (borrowed; free the array). */
static const json_t **pick(const refs *in, int (*keep)(const json_t *, const void *), const void *arg, size_t *n) {
  const json_t **out = xcalloc(in->len + 1, sizeof(*out));
  *n = 0;
  for (size_t i = 0; i < in->len; i++)
    if (keep(in->items[i], arg)) out[(*n)++] = in->items[i];
  return out;
}

static int by_user(const json_t *obj, const void *user) { return is(webhook_user_of(obj), user); }

int quota_service_whole(const webhook_env *env, int svc, const json_t *obj, int64_t now, usage *out, char *err,
                        size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (js_get(obj, "metadata.deletionTimestamp")) return 0;
  placement_demand d;
  if (svc == SVC_NOTEBOOK) {
    notebook_spec s;
    int rc = notebook_spec_parse(obj, &s, err, errlen);
    if (rc) return rc;
    if (s.stopped) return 0;
    nb_demand_of(&s, &d);
  } else {
    inference_spec s;
    int rc = inference_spec_parse(obj, &s, err, errlen);
    if (rc) return rc;
    int floor = s.stable.min_replicas, window;
    int64_t next;
    char why[256];
    /* A schedule that no longer reads holds the base floor, as the controller does. */
    if (inference_schedule_floor(&s, now, &floor, &window, &next, why, sizeof(why))) floor = s.stable.min_replicas;
    isvc_demand_of(&s, floor, &d);
    inference_spec_free(&s);
  }
  project_demand_usage(&d, out);
  return 0;
}

const char *quota_cluster_of(int kind, const json_t *obj) {
  if (kind == WL_TRAININGJOB || kind >= QUOTA_KIND_SERVICE(0)) return project_job_cluster(obj, 1);
  return CLUSTER_LOCAL;
}

/* What the hub holds whole in the clusters it places in: its TrainingJobs
 * (also in the hub's own count: quota_committed) and its Notebooks and
 * InferenceServices placed on a member (counted nowhere else). */
typedef struct held_obj {
  project_holder h;
  const char *cluster; /* project_job_cluster: NULL while waiting to be placed */
  int job;
} held_obj;

typedef struct holders {
  held_obj *items;
  size_t len;
  refs keep; /* the cache lists the objects are borrowed from */
} holders;

static void holders_add(holders *hs, const json_t *obj, const char *label, const usage *whole, const char *cluster,
                        int job) {
  hs->items = xrealloc(hs->items, (hs->len + 1) * sizeof(*hs->items));
  hs->items[hs->len++] = (held_obj){{obj, label, *whole}, cluster, job};
}

static void holders_gather(const webhook_env *env, const json_t *project, holders *out) {
  static const char *const labels[SVC_COUNT] = {[SVC_NOTEBOOK] = CUBIT_LABEL_NOTEBOOK,
                                                [SVC_INFERENCESERVICE] = CUBIT_LABEL_INFERENCESERVICE};
  memset(out, 0, sizeof(*out));
  cache_list nss = {0};
  if (env->namespaces) cache_store_by_index(env->namespaces, "label:" PROJECT_LABEL, js_name(project), &nss);
  int64_t now = time_wall_s();
  char err[256];
  for (int k = -1; k < SVC_COUNT; k++) { /* -1: TrainingJobs */
    cache_store *store = k < 0 ? env->workloads[WL_TRAININGJOB] : env->services[k];
    for (size_t n = 0; store && n < nss.len; n++) {
      cache_list l;
      cache_store_by_index(store, CACHE_INDEX_NAMESPACE, js_name(nss.items[n]), &l);
      size_t from = out->keep.len;
      refs_take(&out->keep, &l);
      for (size_t i = from; i < out->keep.len; i++) {
        const json_t *o = out->keep.items[i];
        const char *c = project_job_cluster(o, 1);
        usage whole;
        if (k < 0) {
          if (quota_workload_finished(WL_TRAININGJOB, o)) continue;
          if (usage_of_object("cubit.dev", "TrainingJob", o, env->gpu, &whole, err, sizeof(err)))
            memset(&whole, 0, sizeof(whole));
          holders_add(out, o, CUBIT_LABEL_TRAININGJOB, &whole, c, 1);
        } else if (c && !is(c, CLUSTER_LOCAL)) { /* in the hub, its pods are counted */
          if (quota_service_whole(env, k, o, now, &whole, err, sizeof(err))) memset(&whole, 0, sizeof(whole));
          holders_add(out, o, labels[k], &whole, c, 0);
        }
      }
    }
  }
  cache_list_free(&nss);
}

static void holders_free(holders *hs) {
  free(hs->items);
  refs_free(&hs->keep);
}

/* What hs's holders in member 'where' recording creator 'who' (NULL:
 * anyone's) and pods hold there (*there), and of that what the hub does not
 * count already (*extra): all but the jobs' gangs. */
static void held_there(const webhook_env *env, const holders *hs, const char *where, const char *who,
                       const json_t *const *pods, size_t npods, usage *there, usage *extra) {
  project_holder *h = xcalloc(hs->len + 1, sizeof(*h));
  size_t n = 0;
  usage gangs = {0};
  for (size_t i = 0; i < hs->len; i++) {
    const held_obj *o = &hs->items[i];
    if (!is(o->cluster, where) || (who && !is(webhook_user_of(o->h.obj), who))) continue;
    h[n++] = o->h;
    if (o->job) usage_add(&gangs, &o->h.whole);
  }
  project_cluster_held(h, n, pods, npods, env->gpu, there);
  *extra = *there;
  usage_sub(extra, &gangs);
  free(h);
}

void quota_held_by(const webhook_env *env, const json_t *project, const project_spec *spec, const char *user,
                   quota_held *out) {
  memset(out, 0, sizeof(*out));
  quota_committed(env, project, user, &out->total, &out->member);
  if (spec->nclusters == 0) return;
  const usage hub = out->total;
  holders hs;
  holders_gather(env, project, &hs);
  for (size_t c = 0; c < spec->nclusters; c++) {
    const char *name = spec->clusters[c];
    if (is(name, CLUSTER_LOCAL)) continue;
    refs pods = {0};
    for (size_t n = 0; env->member_pods && n < spec->nnamespaces; n++) {
      cache_list l = {0};
      if (env->member_pods(name, spec->namespaces[n], &l, env->member_pods_arg) == 0) refs_take(&pods, &l);
      else cache_list_free(&l);
    }
    usage extra;
    held_there(env, &hs, name, NULL, pods.items, pods.len, &out->in[c], &extra);
    usage_add(&out->total, &extra);
    if (user) { /* the same for the member's own jobs, services and pods */
      size_t np;
      const json_t **up = pick(&pods, by_user, user, &np);
      usage there;
      held_there(env, &hs, name, user, up, np, &there, &extra);
      usage_add(&out->member, &extra);
      free(up);
    }
    refs_free(&pods);
  }
  /* The hub holds what the hub's objects hold but the jobs held elsewhere
   * (placed on a member, or waiting to be placed). */
  int local = project_cluster_index(spec, CLUSTER_LOCAL);
  if (local >= 0) {
    usage away = {0};
    for (size_t i = 0; i < hs.len; i++)
      if (hs.items[i].job && !is(hs.items[i].cluster, CLUSTER_LOCAL)) usage_add(&away, &hs.items[i].h.whole);
    out->in[local] = hub;
    usage_sub(&out->in[local], &away);
  }
  holders_free(&hs);
}

/* ------------------------------------------------------- what is asked */

/* Kinds of object this webhook judges. */
enum { ASK_POD = -1, ASK_APPS = WL_COUNT, ASK_SVC = WL_COUNT + APPS_COUNT };
_Static_assert(ASK_POD == KIND_POD, "a pod is the same kind whether asked for or charged");
_Static_assert(ASK_SVC == QUOTA_KIND_SERVICE(0), "a service is the same kind asked for and reserved");

typedef struct ask {
  int kind;               /* ASK_POD, a workload index, ASK_APPS + apps index or ASK_SVC + service index */
  const json_t *obj;      /* the object as it will be stored (borrowed) */
  const json_t *old;      /* before an update, or NULL */
  json_t *scaled_new, *scaled_old; /* scale subresource: the cached object at each replica count (owned) */
  usage after;            /* what the object holds once written */
  usage want;             /* what it adds in the cluster it lands in: all of it, or an update's increase */
  usage want_total;       /* what it adds to the total (a job's placement: nothing, its gang is held) */
  int placement;          /* a status write that sets or changes status.cluster */
  int64_t min_generation; /* an update is in the cache once it shows this generation */
} ask;

static void ask_free(ask *a) {
  json_decref(a->scaled_new);
  json_decref(a->scaled_old);
}

static int usage_of_kind(const webhook_env *env, int kind, const json_t *obj, usage *out, char *err, size_t errlen) {
  if (kind >= ASK_SVC) return quota_service_whole(env, kind - ASK_SVC, obj, time_wall_s(), out, err, errlen);
  const kube_resource *r = kind == ASK_POD      ? &kube_pods
                           : kind < WL_COUNT    ? &webhook_workload_resources[kind]
                                                : &webhook_apps_resources[kind - ASK_APPS];
  return usage_of_object(r->group, r->kind, obj, env->gpu, out, err, errlen);
}

/* The cached Deployment or StatefulSet behind a Scale, at 'replicas' (new reference). */
static json_t *scaled(const webhook_env *env, int apps, const char *ns, const char *name, const json_t *scale) {
  json_t *live = env->apps[apps] ? cache_store_get(env->apps[apps], ns, name) : NULL;
  if (live == NULL) return NULL;
  json_t *copy = json_deep_copy(live);
  json_decref(live);
  json_t *replicas = js_get(scale, "spec.replicas");
  js_set(copy, "spec.replicas", replicas ? json_incref(replicas) : json_integer(1));
  return copy;
}

/* A status write of a TrainingJob or service (kind): judged only when it
 * places the object, i.e. sets or changes the cluster it lands in
 * (project_job_cluster): then what the object holds whole is asked of that
 * cluster. A job's total is held since its admission; a service's pods
 * were counted nowhere until it lands on a member. A status write that
 * leaves the cluster alone asks for nothing: a placed object must always be
 * able to report its status. A spec that no longer reads (admitted before
 * a rule changed) asks for nothing either: placement is not where a spec
 * is judged. */
static int read_placement(const webhook_env *env, ask *a, int kind) {
  if (a->old == NULL || js_get(a->obj, "metadata.deletionTimestamp")) return 1;
  const char *was = project_job_cluster(a->old, 1), *lands = project_job_cluster(a->obj, 1);
  if (lands == NULL || is(was, lands)) return 1;
  if (kind >= ASK_SVC && is(lands, CLUSTER_LOCAL)) return 1; /* in the hub its pods are judged */
  char ignored[256];
  a->kind = kind;
  a->placement = 1;
  if (usage_of_kind(env, kind, a->obj, &a->after, ignored, sizeof(ignored))) return 1;
  a->want = a->after;
  if (kind >= ASK_SVC) a->want_total = a->after;
  return usage_is_zero(&a->want) ? 1 : 0;
}

/* Which request this is and what it asks for. Returns 0 to judge it, 1
 * when there is nothing to judge, CUBIT_EINVAL with err for a request
 * whose resources cannot be read. */
static int read_ask(const webhook_env *env, const adm_request *req, ask *a, char *err, size_t errlen) {
  memset(a, 0, sizeof(*a));
  int create = is(req->operation, "CREATE"), update = is(req->operation, "UPDATE");
  const char *sub = req->subresource ? req->subresource : "";
  a->obj = req->object;
  a->old = req->old_object;
  if (a->obj == NULL || (!create && !update)) return 1;
  int svc = webhook_service_index(req->group, req->kind);
  if (update && is(sub, "status") && (svc >= 0 || (is(req->group, "cubit.dev") && is(req->kind, "TrainingJob"))))
    return read_placement(env, a, svc >= 0 ? ASK_SVC + svc : WL_TRAININGJOB);
  if (svc >= 0) {
    if (*sub) return 1;
    /* In the hub (or waiting for placement) its pods are what is judged. */
    const char *c = project_job_cluster(a->obj, 1);
    if (c == NULL || is(c, CLUSTER_LOCAL)) return 1;
    a->kind = ASK_SVC + svc;
    /* Moved from another cluster (or from none): everything it holds is new there. */
    if (update && a->old && !is(project_job_cluster(a->old, 1), c)) {
      a->old = NULL;
      update = 0;
    }
  } else if (is(req->group, "") && is(req->kind, "Pod")) {
    a->kind = ASK_POD;
    if (!((create && *sub == '\0') || (update && is(sub, "resize")))) return 1;
  } else if (*sub == '\0' && webhook_workload_index(req->group, req->kind) >= 0) {
    a->kind = webhook_workload_index(req->group, req->kind);
  } else if (*sub == '\0' && webhook_apps_index(req->group, req->kind) >= 0) {
    a->kind = ASK_APPS + webhook_apps_index(req->group, req->kind);
  } else if (update && is(sub, "scale") && is(req->kind, "Scale")) {
    int apps = is(req->resource, "deployments") ? APPS_DEPLOYMENT : is(req->resource, "statefulsets") ? APPS_STATEFULSET : -1;
    if (apps < 0) return 1;
    a->kind = ASK_APPS + apps;
    a->scaled_new = scaled(env, apps, req->namespace, req->name, req->object);
    a->scaled_old = scaled(env, apps, req->namespace, req->name, req->old_object);
    if (a->scaled_new == NULL) return 1; /* not in the cache yet: its pods are judged */
    a->obj = a->scaled_new;
    a->old = a->scaled_old;
  } else {
    return 1;
  }
  if (update && (a->old == NULL || js_get(a->obj, "metadata.deletionTimestamp"))) return 1;
  int rc = usage_of_kind(env, a->kind, a->obj, &a->after, err, errlen);
  if (rc == CUBIT_ENOTSUP) return 1;
  /* An update that leaves the spec alone asks for nothing, even when the
   * spec no longer reads (the GPU profile changed since): a finalizer or a
   * label must still be writable. */
  if (rc && update && json_equal(json_object_get(a->obj, "spec"), json_object_get(a->old, "spec"))) return 1;
  if (rc) return rc;
  a->want = a->after;
  a->want_total = a->after;
  if (update) {
    usage before;
    char ignored[256];
    /* An old object that no longer reads (admitted before a rule changed)
     * held nothing: the whole new one is asked for. */
    if (usage_of_kind(env, a->kind, a->old, &before, ignored, sizeof(ignored)) == 0) usage_sub(&a->want, &before);
    a->want_total = a->want;
    a->min_generation = js_int(a->old, "metadata.generation", 0) + 1;
  }
  return usage_is_zero(&a->want) ? 1 : 0;
}

/* 1 when user is the one that creates what a controller of this kind
 * controls: the workload's or link's controller (webhook_identities), a
 * Spark driver's own service account for its executors. */
static int creates_for(const webhook_env *env, int kind, const json_t *owner, const char *user) {
  if (kind != KIND_POD) return webhook_is_controller(env->identities, kind, user);
  char driver[320];
  pod_identity(owner, driver, sizeof(driver));
  return is(user, driver);
}

/* A pod or workload that the controller of the unfinished workload or link
 * it claims writes, and that fits in what the workload holds (for a link:
 * the workload above it, reached through links alone), adds nothing (the
 * workload's gang was judged whole). */
static int within_owner(const webhook_env *env, const adm_request *req, const ask *a) {
  if (a->kind >= WL_COUNT || a->placement) return 0;
  int kind;
  json_t *owner = owner_of(env, a->kind, a->obj, &kind);
  if (owner == NULL) return 0;
  if (!creates_for(env, kind, owner, req->username)) {
    json_decref(owner);
    return 0;
  }
  for (int depth = 1; owner && (kind == KIND_POD || webhook_workload_is_link(kind)); depth++) {
    int above = KIND_POD;
    json_t *next = depth < QUOTA_MAX_DEPTH ? owner_of(env, kind, owner, &above) : NULL;
    json_decref(owner);
    owner = next;
    kind = above;
  }
  if (owner == NULL) return 0; /* a link under no workload holds nothing to fit in */
  int fits = 0;
  usage held, kids, mine = a->after;
  const kube_resource *r = &webhook_workload_resources[kind];
  char err[256];
  if (usage_of_object(r->group, r->kind, owner, env->gpu, &held, err, sizeof(err)) == 0) {
    const char *name = js_name(a->obj);
    skip s = {a->kind, name};
    children_of(env, kind, owner, 0, &s, &kids);
    if (a->kind != ASK_POD && a->old) { /* an updated workload keeps its own children */
      json_t *live = env->workloads[a->kind] ? cache_store_get(env->workloads[a->kind], req->namespace, name) : NULL;
      usage its;
      if (live) {
        children_of(env, a->kind, live, 1, &no_skip, &its);
        usage_max(&mine, &its);
      }
      json_decref(live);
    }
    usage_add(&kids, &mine);
    fits = usage_within(&kids, &held);
  }
  json_decref(owner);
  return fits;
}

/* ------------------------------------------------------------ judging */

typedef struct judge {
  const webhook_env *env;
  const project_spec *spec;
  const json_t *project;
  const char *user; /* NULL when the project has no per-member limits */
  const usage *req;       /* asked of the total and the member's limits */
  const usage *req_there; /* asked of the cluster it lands in */
  int cluster;      /* the index in spec->clusters the request lands in, or -1 */
  char message[1024];
} judge;

static int any_set(const usage *set) { return !usage_is_zero(set); }

/* Checks one set of limits; on excess writes the denial and returns 0. */
static int within(judge *j, const usage *used, const usage *reserved, const usage *req, const usage *limit,
                  const usage *set, const char *scope) {
  usage held = *used;
  usage_add(&held, reserved);
  char which[512];
  if (!usage_exceeds(&held, req, limit, set, which, sizeof(which))) return 1;
  snprintf(j->message, sizeof(j->message), "project %s: quota exceeded%s: %s", js_name(j->project), scope, which);
  return 0;
}

/* Runs under the reservations' lock, after reservations whose objects
 * reached the cache were dropped: the cache is read here, not before, so an
 * object is counted either as a reservation or from the cache, never by
 * neither. */
static int check(const quota_reserved *reserved, void *arg) {
  judge *j = arg;
  quota_held held;
  quota_held_by(j->env, j->project, j->spec, j->user, &held);
  if (!within(j, &held.total, &reserved->project, j->req, &j->spec->quota, &j->spec->quota_set, "")) return 0;
  char scope[300];
  snprintf(scope, sizeof(scope), " for member %.256s", j->user ? j->user : "");
  if (j->user &&
      !within(j, &held.member, &reserved->member, j->req, &j->spec->per_member, &j->spec->per_member_set, scope))
    return 0;
  /* The reservations pending in this cluster count against its quota; those
   * of other clusters (and of jobs waiting for placement) do not. */
  int c = j->cluster;
  snprintf(scope, sizeof(scope), " in cluster %.63s", c >= 0 ? j->spec->clusters[c] : "");
  if (c >= 0 && !within(j, &held.in[c], &reserved->there, j->req_there, &j->spec->cluster_quota[c],
                        &j->spec->cluster_quota_set[c], scope))
    return 0;
  return 1;
}

/* Where what the request asks for lands, as an index into spec->clusters:
 * a TrainingJob's or service's pinned or placed cluster, anything else the
 * hub; -1 when that is none of the project's clusters, or a job is left to
 * the policy. */
static int landing(const project_spec *spec, const ask *a) {
  if (spec->nclusters == 0) return -1;
  return project_cluster_index(spec, quota_cluster_of(a->kind, a->obj));
}

static int any_cluster_quota(const project_spec *spec) {
  for (size_t i = 0; i < spec->nclusters; i++)
    if (!usage_is_zero(&spec->cluster_quota_set[i])) return 1;
  return 0;
}

static int seen(int kind, const char *ns, const char *name, int64_t min_generation, const char *cluster, void *arg) {
  const judge *j = arg;
  cache_store *s = kind < 0 ? j->env->pods : kind < WL_COUNT ? j->env->workloads[kind]
                 : kind >= ASK_SVC ? j->env->services[kind - ASK_SVC] : NULL;
  json_t *o = s ? cache_store_get(s, ns, name) : NULL;
  int shown = o && js_int(o, "metadata.generation", 0) >= min_generation &&
              (cluster == NULL || is(quota_cluster_of(kind, o), cluster));
  json_decref(o);
  return shown;
}


/* The creator charged: the requester, unless a propagator passes on the
 * creator the object records. */
static const char *creator(const webhook_env *env, const adm_request *req, const ask *a) {
  if (webhook_is_propagator(env->identities, req->username)) return webhook_user_of(a->obj);
  return req->username && *req->username ? req->username : NULL;
}

void quota_validate(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  ask a;
  char err[512];
  int rc = read_ask(env, req, &a, err, sizeof(err));
  if (rc) {
    if (rc < 0) adm_deny(resp, 422, "%s", err);
    ask_free(&a);
    return;
  }
  json_t *project = webhook_project_of(env, req->namespace);
  if (project == NULL) {
    ask_free(&a);
    return;
  }
  project_spec spec;
  if (project_spec_parse(project, &spec, err, sizeof(err))) {
    /* The project is broken; its own status says so. Fail closed. */
    adm_deny(resp, 403, "project %s has an invalid spec (%s); nothing can be admitted until it is fixed",
             js_name(project), err);
    json_decref(project);
    ask_free(&a);
    return;
  }
  int member_limits = any_set(&spec.per_member_set);
  int cluster = landing(&spec, &a);
  /* A service or a placement outside the project's clusters runs nowhere
   * (placement refuses it: ClusterNotAllowed); there is nothing to hold. */
  int nowhere = (a.kind >= ASK_SVC || a.placement) && cluster < 0;
  if ((any_set(&spec.quota_set) || member_limits || any_cluster_quota(&spec)) && !nowhere &&
      !within_owner(env, req, &a)) {
    const char *user = creator(env, req, &a);
    judge j = {env, &spec, project, member_limits ? user : NULL, &a.want_total, &a.want, cluster, ""};
    const char *name = js_name(a.obj);
    if (name == NULL || *name == '\0') name = req->name;
    int64_t ttl = env->reservation_ttl_ms > 0 ? env->reservation_ttl_ms : 30000;
    /* Deployments and StatefulSets are judged, not held: their pods are.
     * A dry run is judged like any other request, but reserves nothing. */
    int held = a.kind < WL_COUNT || a.kind >= ASK_SVC;
    if (!held || req->dry_run) ttl = 0;
    quota_claim c = {js_name(project), user, held ? a.kind : ASK_POD, req->namespace, name ? name : "",
                     a.min_generation, cluster >= 0 ? spec.clusters[cluster] : NULL, a.want_total, a.want};
    if (!quota_reserve_if(env->reservations, &c, time_mono_ms(), ttl, seen, check, &j))
      adm_deny(resp, 403, "%s", j.message);
  }
  project_spec_free(&spec);
  json_decref(project);
  ask_free(&a);
}
