#include "webhooks/validate/project.h"

#include <stdio.h>
#include <string.h>

#include "api/project/project.h"
#include "util/json.h"

/* Namespaces Kubernetes and Cubit run in; no team may own them. */
static int reserved(const char *ns) {
  return strncmp(ns, "kube-", 5) == 0 || strcmp(ns, "default") == 0 || strcmp(ns, "cubit-system") == 0;
}

int validate_project(const webhook_env *env, const json_t *project, char *err, size_t errlen) {
  project_spec spec;
  if (project_spec_parse(project, &spec, err, errlen)) return CUBIT_EINVAL;
  const char *me = js_name(project);
  int rc = 0;
  for (size_t i = 0; i < spec.nnamespaces && rc == 0; i++) {
    const char *ns = spec.namespaces[i];
    for (size_t k = 0; k < i; k++)
      if (strcmp(spec.namespaces[k], ns) == 0) {
        snprintf(err, errlen, "spec.namespaces[%zu]: namespace %s is listed twice", i, ns);
        rc = CUBIT_EINVAL;
      }
    if (rc == 0 && reserved(ns)) {
      snprintf(err, errlen, "spec.namespaces[%zu]: namespace %s is reserved for the system", i, ns);
      rc = CUBIT_EINVAL;
    }
    if (rc) break;
    json_t *live = env->namespaces ? cache_store_get(env->namespaces, NULL, ns) : NULL;
    const char *holder = json_string_value(json_object_get(js_get(live, "metadata.labels"), PROJECT_LABEL));
    if (holder && strcmp(holder, me) != 0) {
      snprintf(err, errlen, "spec.namespaces[%zu]: namespace %s belongs to project %s", i, ns, holder);
      rc = CUBIT_EINVAL;
    }
    json_decref(live);
    if (rc) break;
    /* A claim not yet labelled by the controller still counts. */
    cache_list all = {0};
    if (env->projects) cache_store_list(env->projects, NULL, &all);
    for (size_t p = 0; p < all.len && rc == 0; p++) {
      if (strcmp(js_name(all.items[p]), me) == 0 || js_get(all.items[p], "metadata.deletionTimestamp")) continue;
      size_t j;
      json_t *v;
      json_array_foreach(js_get(all.items[p], "spec.namespaces"), j, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), ns) == 0) {
          snprintf(err, errlen, "spec.namespaces[%zu]: namespace %s belongs to project %s", i, ns,
                   js_name(all.items[p]));
          rc = CUBIT_EINVAL;
          break;
        }
      }
    }
    cache_list_free(&all);
  }
  project_spec_free(&spec);
  return rc;
}

void validate_project_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (req->object == NULL || (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0))
    return;
  /* Finishing a deletion (removing the finalizer) must never be blocked. */
  if (js_get(req->object, "metadata.deletionTimestamp")) return;
  char err[512];
  if (validate_project(env, req->object, err, sizeof(err))) adm_deny(resp, 422, "Project %s: %s", req->name, err);
}
