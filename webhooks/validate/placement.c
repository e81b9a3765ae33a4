/* spec.cluster of every kind that can run in a member cluster
 * (docs/multicluster.md#placement). */
#include "webhooks/validate/placement.h"

#include <stdio.h>
#include <string.h>

#include "api/project/project.h"
#include "util/json.h"

/* spec.cluster names "local" or one of the project's spec.clusters (a
 * namespace outside any project, or a project listing none, has only
 * "local"); set on a workload already placed, it must name where it runs. The
 * CRD refuses changing or removing it once set. */
int validate_placement_cluster(const webhook_env *env, const json_t *obj, const json_t *old, char *err,
                               size_t errlen) {
  const char *cluster = js_str(obj, "spec.cluster"), *before = js_str(old, "spec.cluster");
  /* Unchanged: judged when it was set (a project may drop the cluster
   * later; its finalizer must still be removable). */
  if (cluster == NULL || (before && strcmp(before, cluster) == 0)) return 0;
  const char *placed = js_str(old, "status.cluster");
  if (placed && *placed && strcmp(placed, cluster) != 0) {
    snprintf(err, errlen, "spec.cluster: it was placed on cluster %s already; it cannot move to %s", placed,
             cluster);
    return CUBIT_EINVAL;
  }
  json_t *project = webhook_project_of(env, js_namespace(obj));
  project_spec ps;
  char why[256];
  int parsed = project && project_spec_parse(project, &ps, why, sizeof(why)) == 0;
  int allowed = (!parsed || ps.nclusters == 0) && strcmp(cluster, "local") == 0;
  char list[600] = "";
  size_t at = 0;
  for (size_t i = 0; parsed && i < ps.nclusters; i++) {
    allowed |= strcmp(ps.clusters[i], cluster) == 0;
    int w = snprintf(list + at, sizeof(list) - at, "%s%s", at ? ", " : "", ps.clusters[i]);
    if (w > 0 && (size_t)w < sizeof(list) - at) at += (size_t)w;
  }
  if (!allowed) {
    if (parsed && ps.nclusters > 0)
      snprintf(err, errlen, "spec.cluster: %s is not one of project %s's clusters (%s)", cluster, js_name(project),
               list);
    else
      snprintf(err, errlen, "spec.cluster: %s: the namespace's project spans no clusters; only \"local\" is allowed",
               cluster);
  }
  if (parsed) project_spec_free(&ps);
  json_decref(project);
  return allowed ? 0 : CUBIT_EINVAL;
}

