#include "webhooks/quota/quota.h"

#include <stdio.h>
#include <string.h>

#include "api/project/project.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

static int condition_true(const json_t *obj, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(js_get(obj, "status.conditions"), i, c) {
    const char *t = js_str(c, "type"), *s = js_str(c, "status");
    if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0) return 1;
  }
  return 0;
}

int quota_workload_finished(int workload, const json_t *obj) {
  const char *phase;
  switch (workload) {
    case WL_JOB: return condition_true(obj, "Complete") || condition_true(obj, "Failed");
    case WL_VOLCANOJOB:
      phase = js_str(obj, "status.state.phase");
      return phase && (strcmp(phase, "Completed") == 0 || strcmp(phase, "Failed") == 0 ||
                       strcmp(phase, "Aborted") == 0 || strcmp(phase, "Terminated") == 0);
    case WL_TRAININGJOB:
      phase = js_str(obj, "status.phase");
      return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
    default: /* the training operator's kinds */
      return condition_true(obj, "Succeeded") || condition_true(obj, "Failed");
  }
}

/* Is obj controlled by an unfinished workload that is counted itself? */
static int counted_by_owner(const webhook_env *env, const json_t *obj) {
  json_t *ref = js_controller_ref(obj);
  if (ref == NULL) return 0;
  const char *api = js_str(ref, "apiVersion"), *kind = js_str(ref, "kind"), *name = js_str(ref, "name");
  const char *uid = js_str(ref, "uid");
  if (api == NULL || kind == NULL || name == NULL) return 0;
  const char *slash = strchr(api, '/');
  char group[128] = "";
  if (slash) snprintf(group, sizeof(group), "%.*s", (int)(slash - api), api);
  int wl = webhook_workload_index(group, kind);
  if (wl < 0 || env->workloads[wl] == NULL) return 0;
  json_t *owner = cache_store_get(env->workloads[wl], js_namespace(obj), name);
  int counted = owner && uid && js_uid(owner) && strcmp(uid, js_uid(owner)) == 0 &&
                !quota_workload_finished(wl, owner);
  json_decref(owner);
  return counted;
}

static const char *user_of(const json_t *obj) {
  return json_string_value(json_object_get(js_get(obj, "metadata.annotations"), CUBIT_ANNOTATION_USER));
}

static void add_for(const usage *u, const char *owner_user, const char *user, usage *proj, usage *member) {
  usage_add(proj, u);
  if (member && user && owner_user && strcmp(owner_user, user) == 0) usage_add(member, u);
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
        const char *phase = js_str(l.items[i], "status.phase");
        if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) continue;
        if (counted_by_owner(env, l.items[i])) continue;
        usage u;
        if (usage_of_object("", "Pod", l.items[i], env->gpu, &u, err, sizeof(err)) == 0)
          add_for(&u, user_of(l.items[i]), user, proj, member);
      }
      cache_list_free(&l);
    }
    for (int wl = 0; wl < WL_COUNT; wl++) {
      if (env->workloads[wl] == NULL) continue;
      cache_store_by_index(env->workloads[wl], CACHE_INDEX_NAMESPACE, ns, &l);
      for (size_t i = 0; i < l.len; i++) {
        if (quota_workload_finished(wl, l.items[i]) || counted_by_owner(env, l.items[i])) continue;
        usage u;
        const kube_resource *r = &webhook_workload_resources[wl];
        if (usage_of_object(r->group, r->kind, l.items[i], env->gpu, &u, err, sizeof(err)) == 0)
          add_for(&u, user_of(l.items[i]), user, proj, member);
      }
      cache_list_free(&l);
    }
  }
  cache_list_free(&nss);
}

/* ------------------------------------------------------------ judging */

typedef struct judge {
  const webhook_env *env;
  const project_spec *spec;
  const json_t *project;
  const char *user; /* NULL when the project has no per-member limits */
  const usage *req;
  char message[1024];
} judge;

/* Checks one set of limits; on excess writes the denial and returns 0. */
static int within(judge *j, const usage *used, const usage *reserved, const usage *limit, const usage *set,
                  const char *scope) {
  usage held = *used;
  usage_add(&held, reserved);
  char which[512];
  if (!usage_exceeds(&held, j->req, limit, set, which, sizeof(which))) return 1;
  snprintf(j->message, sizeof(j->message), "project %s: quota exceeded%s: %s", js_name(j->project), scope, which);
  return 0;
}

/* Runs under the reservations' lock, after reservations whose objects
 * reached the cache were dropped: the cache is read here, not before, so an
 * object is counted either as a reservation or from the cache, never by
 * neither. */
static int check(const usage *reserved_project, const usage *reserved_member, void *arg) {
  judge *j = arg;
  usage used, used_member;
  quota_committed(j->env, j->project, j->user, &used, j->user ? &used_member : NULL);
  if (!within(j, &used, reserved_project, &j->spec->quota, &j->spec->quota_set, "")) return 0;
  char scope[300];
  snprintf(scope, sizeof(scope), " for member %s", j->user ? j->user : "");
  if (j->user && !within(j, &used_member, reserved_member, &j->spec->per_member, &j->spec->per_member_set, scope))
    return 0;
  return 1;
}

static int seen(int workload, const char *ns, const char *name, void *arg) {
  const judge *j = arg;
  cache_store *s = workload < 0 ? j->env->pods : j->env->workloads[workload];
  json_t *o = s ? cache_store_get(s, ns, name) : NULL;
  json_decref(o);
  return o != NULL;
}

static int any_set(const usage *set) {
  for (usage_field f = 0; f < USAGE_NFIELDS; f++)
    if (usage_get(set, f)) return 1;
  return 0;
}

void quota_validate(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (strcmp(req->operation, "CREATE") != 0 || req->object == NULL) return;
  int is_pod = strcmp(req->group, "") == 0 && strcmp(req->kind, "Pod") == 0;
  int wl = is_pod ? -1 : webhook_workload_index(req->group, req->kind);
  if (!is_pod && wl < 0) return;
  json_t *project = webhook_project_of(env, req->namespace);
  if (project == NULL) return;
  project_spec spec;
  char err[512];
  if (project_spec_parse(project, &spec, err, sizeof(err))) {
    /* The project is broken; its own status says so. Fail closed. */
    adm_deny(resp, 403, "project %s has an invalid spec (%s); nothing can be admitted until it is fixed",
             js_name(project), err);
    json_decref(project);
    return;
  }
  int member_limits = any_set(&spec.per_member_set);
  if (!any_set(&spec.quota_set) && !member_limits) goto out;
  /* Pods of a workload already counted (its whole gang was judged) pass. */
  if (counted_by_owner(env, req->object)) goto out;
  usage want;
  int rc = usage_of_object(req->group, req->kind, req->object, env->gpu, &want, err, sizeof(err));
  if (rc == CUBIT_ENOTSUP) goto out;
  if (rc) {
    adm_deny(resp, 422, "%s", err);
    goto out;
  }
  const char *user = user_of(req->object);
  if (user == NULL) user = req->username;
  judge j = {env, &spec, project, member_limits ? user : NULL, &want, ""};
  const char *name = req->name && *req->name ? req->name : js_name(req->object);
  int64_t now = time_mono_ms();
  int64_t ttl = env->reservation_ttl_ms > 0 ? env->reservation_ttl_ms : 30000;
  /* A dry run is judged like any other request, but reserves nothing. */
  int ok = quota_reserve_if(env->reservations, js_name(project), user, wl, req->namespace, name ? name : "", &want,
                            now, req->dry_run ? 0 : ttl, seen, check, &j);
  if (!ok) adm_deny(resp, 403, "%s", j.message);
out:
  project_spec_free(&spec);
  json_decref(project);
}
