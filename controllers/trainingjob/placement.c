/* Where a TrainingJob of a project spanning clusters runs (docs/multicluster.md
 * "Placement"), pure: what the gang needs, against what each cluster of the
 * project has free, as the cluster's status (or, for `local`, the hub's own
 * nodes and pods) says. Capacity is judged in sum over a cluster's nodes:
 * the scheduler there decides which node each pod gets. */
#include <stdio.h>
#include <string.h>

#include "api/gpu/gpu.h"
#include "controllers/trainingjob/trainingjob.h"
#include "util/json.h"
#include "util/quantity.h"

static int64_t role_quantity(const tj_role *r, const char *key, int milli) {
  const char *s = js_str(r->resources, key);
  quantity q;
  if (s == NULL || quantity_parse(s, &q)) return 0;
  return milli ? quantity_milli_value(&q) : quantity_value(&q);
}

void tj_demand_of(const tj_spec *s, tj_demand *out) {
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < s->nroles; i++) {
    const tj_role *r = &s->roles[i];
    int pods = s->framework == TJ_BATCH && r->parallelism ? r->parallelism : r->replicas;
    out->cpu_milli += pods * role_quantity(r, "cpu", 1);
    out->memory_bytes += pods * role_quantity(r, "memory", 0);
    const char *gpu = js_str(r->resources, "gpu");
    gpu_request g;
    if (gpu == NULL || gpu_request_parse(gpu, &g, NULL, 0)) continue;
    out->gpu_milli += pods * g.milli_cards;
    if (g.model[0] && out->model[0] == '\0') snprintf(out->model, sizeof(out->model), "%s", g.model);
  }
}

/* Why cluster c cannot take the gang now, or "" when it can. */
static void misfit(const tj_cluster_view *c, const tj_demand *d, char *why, size_t len) {
  why[0] = '\0';
  if (!c->ready) snprintf(why, len, "not Ready");
  else if (!c->serves_engine) snprintf(why, len, "does not serve the engine's API");
  else if (c->free_cpu_milli < d->cpu_milli) snprintf(why, len, "not enough free cpu");
  else if (c->free_memory_bytes < d->memory_bytes) snprintf(why, len, "not enough free memory");
  else if (c->free_gpu_milli < d->gpu_milli) {
    char need[GPU_MILLI_STRLEN], free_[GPU_MILLI_STRLEN];
    gpu_format_milli(d->gpu_milli, need);
    gpu_format_milli(c->free_gpu_milli > 0 ? c->free_gpu_milli : 0, free_);
    snprintf(why, len, "%s free %s%sGPUs, %s needed", free_, d->model, d->model[0] ? " " : "", need);
  }
}

int tj_place(tj_placement policy, const tj_demand *d, const tj_cluster_view *clusters, size_t n, char *why,
             size_t whylen) {
  int best = -1;
  size_t at = 0;
  why[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    char reason[160];
    misfit(&clusters[i], d, reason, sizeof(reason));
    if (reason[0]) {
      if (at < whylen) {
        int w = snprintf(why + at, whylen - at, "%s%s: %s", at ? "; " : "", clusters[i].name, reason);
        at += w > 0 ? (size_t)w : 0;
      }
      continue;
    }
    if (policy == TJ_PLACE_ORDERED) return (int)i;
    if (best < 0 || clusters[i].free_gpu_milli > clusters[best].free_gpu_milli) best = (int)i;
  }
  return best;
}
