/* A project's quota per cluster (spec.clusters[].quota, docs/multicluster.md
 * "Quota across clusters"): what the project holds in one cluster and the
 * room it has left there. Shared by the quota webhook (admission) and the
 * placement of every placeable kind, so both count a cluster alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/project/project.h"
#include "util/alloc.h"
#include "util/json.h"

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int finished(const json_t *obj) {
  const char *phase = js_str(obj, "status.phase");
  return is(phase, "Succeeded") || is(phase, "Failed");
}

const char *project_job_cluster(const json_t *job, int spans) {
  const char *placed = js_str(job, "status.cluster");
  if (placed && *placed) return placed;
  const char *pinned = js_str(job, "spec.cluster");
  if (pinned && *pinned) return pinned;
  return spans ? NULL : CLUSTER_LOCAL;
}

/* 1 when pod is labelled as one of h's pods (same namespace and name). */
static int pod_of(const json_t *pod, const project_holder *h) {
  const char *owner = json_string_value(json_object_get(js_get(pod, "metadata.labels"), h->label));
  return is(owner, js_name(h->obj)) && is(js_namespace(pod), js_namespace(h->obj));
}

void project_cluster_held(const project_holder *holders, size_t nholders, const json_t *const *pods, size_t npods,
                          const gpu_profile *gpu, usage *out) {
  memset(out, 0, sizeof(*out));
  char err[256];
  for (size_t h = 0; h < nholders; h++) {
    usage whole = holders[h].whole, held = {0};
    /* Its pods beyond its whole (a forged label) are held all the same. */
    for (size_t p = 0; p < npods; p++) {
      usage u;
      if (finished(pods[p]) || !pod_of(pods[p], &holders[h])) continue;
      if (usage_of_object("", "Pod", pods[p], gpu, &u, err, sizeof(err)) == 0) usage_add(&held, &u);
    }
    usage_max(&whole, &held);
    usage_add(out, &whole);
  }
  for (size_t p = 0; p < npods; p++) {
    int charged = finished(pods[p]);
    for (size_t h = 0; h < nholders && !charged; h++) charged = pod_of(pods[p], &holders[h]);
    usage u;
    if (!charged && usage_of_object("", "Pod", pods[p], gpu, &u, err, sizeof(err)) == 0) usage_add(out, &u);
  }
}

void project_cluster_used(const json_t *const *jobs, size_t njobs, const json_t *const *pods, size_t npods,
                          const gpu_profile *gpu, usage *out) {
  project_holder *h = xcalloc(njobs + 1, sizeof(*h));
  size_t n = 0;
  char err[256];
  for (size_t j = 0; j < njobs; j++) {
    if (finished(jobs[j])) continue;
    h[n] = (project_holder){jobs[j], CUBIT_LABEL_TRAININGJOB, {0}};
    if (usage_of_object("cubit.dev", "TrainingJob", jobs[j], gpu, &h[n].whole, err, sizeof(err)))
      memset(&h[n].whole, 0, sizeof(h[n].whole));
    n++;
  }
  project_cluster_held(h, n, pods, npods, gpu, out);
  free(h);
}

void project_demand_usage(const placement_demand *d, usage *out) {
  memset(out, 0, sizeof(*out));
  out->cpu_milli = d->cpu_milli;
  out->memory_bytes = d->memory_bytes;
  out->gpu_milli = d->gpu_milli;
  for (size_t i = 0; i < d->nshapes; i++) out->pods += d->shapes[i].count;
}

int project_cluster_room(const project_spec *s, const char *project, size_t i, const usage *used, usage *room,
                         usage *limited, char *why, size_t whylen) {
  memset(room, 0, sizeof(*room));
  memset(limited, 0, sizeof(*limited));
  if (why && whylen) why[0] = '\0';
  if (i >= s->nclusters || usage_is_zero(&s->cluster_quota_set[i])) return 0;
  *limited = s->cluster_quota_set[i];
  *room = s->cluster_quota[i];
  usage_sub(room, used);
  size_t at = 0;
  if (why && whylen) {
    int w = snprintf(why, whylen, "project %s's quota in cluster %s:", project ? project : "", s->clusters[i]);
    at = w > 0 && (size_t)w < whylen ? (size_t)w : whylen - 1;
  }
  for (usage_field f = 0; f < USAGE_NFIELDS; f++) {
    if (!usage_get(limited, f) || why == NULL || at + 1 >= whylen) continue;
    char u[USAGE_STRLEN], q[USAGE_STRLEN];
    usage_format(f, usage_get(used, f), u);
    usage_format(f, usage_get(&s->cluster_quota[i], f), q);
    int w = snprintf(why + at, whylen - at, "%s %s used %s of %s", at && why[at - 1] != ':' ? "," : "",
                     usage_field_name(f), u, q);
    at += w > 0 ? (size_t)w : 0;
    if (at >= whylen) at = whylen - 1;
  }
  return 1;
}
