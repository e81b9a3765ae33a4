#include "webhooks/validate/project.h"

#include <stdio.h>
#include <string.h>

#include "api/project/project.h"
#include "util/json.h"

/* Namespaces Kubernetes and Cubit run in; no team may own them. */
static int reserved(const char *ns) {
  return strncmp(ns, "kube-", 5) == 0 || strcmp(ns, "default") == 0 || strcmp(ns, "cubit-system") == 0;
}

/* The project (other than me, not being deleted) that labels or lists ns, or NULL. */
static const char *claimed_by(const webhook_env *env, const char *me, const char *ns, char *who, size_t wholen) {
  json_t *live = env->namespaces ? cache_store_get(env->namespaces, NULL, ns) : NULL;
  const char *holder = json_string_value(json_object_get(js_get(live, "metadata.labels"), PROJECT_LABEL));
  int found = holder && *holder && strcmp(holder, me) != 0;
  if (found) snprintf(who, wholen, "%s", holder);
  json_decref(live);
  if (found) return who;
  /* A claim not yet labelled by the controller still counts. */
  cache_list all = {0};
  if (env->projects) cache_store_list(env->projects, NULL, &all);
  for (size_t p = 0; p < all.len && !found; p++) {
    const char *other = js_name(all.items[p]);
    if (other == NULL || strcmp(other, me) == 0 || js_get(all.items[p], "metadata.deletionTimestamp")) continue;
    size_t j;
    json_t *v;
    json_array_foreach(js_get(all.items[p], "spec.namespaces"), j, v) {
      if (json_is_string(v) && strcmp(json_string_value(v), ns) == 0) {
        snprintf(who, wholen, "%s", other);
        found = 1;
        break;
      }
    }
  }
  cache_list_free(&all);
  return found ? who : NULL;
}

int validate_project(const webhook_env *env, const json_t *old, const json_t *project, char *err, size_t errlen) {
  const char *me = js_name(project);
  if (me == NULL || *me == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "metadata.name: required");
  project_spec spec, before;
  if (project_spec_parse(project, &spec, err, errlen)) return CUBIT_EINVAL;
  char ignored[256];
  int have_before = old && project_spec_parse(old, &before, ignored, sizeof(ignored)) == 0;
  int rc = 0;
  for (size_t i = 0; i < spec.nnamespaces && rc == 0; i++) {
    const char *ns = spec.namespaces[i];
    char who[254];
    if (reserved(ns))
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.namespaces[%zu]: namespace %s is reserved for the system", i,
                        ns);
    /* Only a namespace added now is checked against the others' claims: a
     * conflict already there is the controller's to report (its status),
     * and must not block a member change. */
    else if (!(have_before && project_lists(&before, ns)) && claimed_by(env, me, ns, who, sizeof(who)))
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.namespaces[%zu]: namespace %s belongs to project %s", i, ns,
                        who);
  }
  if (have_before) project_spec_free(&before);
  project_spec_free(&spec);
  return rc;
}

/* Fields only a cluster admin may change must be changed by one: the
 * requester's own authorisation, asked of the API server. Returns 1 to go
 * on, 0 after a denial. */
static int may_change(const webhook_env *env, const adm_request *req, const char *name, adm_response *resp) {
  char which[512];
  const json_t *old_spec = req->old_object ? json_object_get(req->old_object, "spec") : NULL;
  if (project_tenancy_changes(old_spec, json_object_get(req->object, "spec"), which, sizeof(which)) == 0) return 1;
  webhook_access access = {PROJECT_MANAGE_VERB, "cubit.dev", "projects", "", "", name};
  char why[512] = "";
  int allowed = env->authorize ? env->authorize(js_get(req->review, "request.userInfo"), &access, why, sizeof(why),
                                                env->authorize_arg)
                               : 0;
  if (allowed == 1) return 1;
  const char *user = req->username && *req->username ? req->username : "(anonymous)";
  if (allowed < 0)
    adm_deny(resp, 403, "Project %.253s: %s may be changed only by a cluster admin, and whether %.253s is one could not "
                        "be checked: %.300s",
             name, which, user, why);
  else
    adm_deny(resp, 403,
             "Project %.253s: %s may be changed only by a cluster admin (user %.253s may not \"" PROJECT_MANAGE_VERB
             "\" projects.cubit.dev/%.253s); a project admin may change spec.members, spec.displayName and "
             "spec.volumes (except spec.volumes.shared.provision)",
             name, which, user, name);
  return 0;
}

void validate_project_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  int create = strcmp(req->operation, "CREATE") == 0, update = strcmp(req->operation, "UPDATE") == 0;
  if (!create && !update) return;
  if (!json_is_object(req->object)) {
    adm_deny(resp, 400, "the request carries no Project object");
    return;
  }
  const char *name = js_name(req->object);
  if (name == NULL || *name == '\0') name = req->name;
  if (name == NULL || *name == '\0') {
    adm_deny(resp, 422, "Project: metadata.name: required");
    return;
  }
  if (!may_change(env, req, name, resp)) return;
  /* Finishing a deletion (removing the finalizer) must never be blocked. */
  if (js_get(req->object, "metadata.deletionTimestamp")) return;
  char err[512];
  if (validate_project(env, update ? req->old_object : NULL, req->object, err, sizeof(err)))
    adm_deny(resp, 422, "Project %.253s: %s", name, err);
}
