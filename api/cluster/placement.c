/* Placement, pure: what a workload needs against what each cluster of the
 * project has free, as the cluster's status (or, for `local`, the hub's own
 * nodes and pods) says. Capacity is judged in sum over a cluster's nodes:
 * the scheduler there decides which node each pod gets. */
#include "api/cluster/placement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/gpu/gpu.h"
#include "util/json.h"
#include "util/quantity.h"

int placement_spec_parse(const json_t *spec, placement_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  const json_t *cluster = json_object_get(spec, "cluster");
  if (cluster && !json_is_null(cluster)) {
    out->cluster = json_string_value(cluster);
    if (out->cluster == NULL || *out->cluster == '\0' || strlen(out->cluster) > 63) {
      snprintf(err, errlen, "spec.cluster: want the name of a cluster of the project (a DNS label) or \"local\"");
      return CUBIT_EINVAL;
    }
  }
  const json_t *placement = json_object_get(spec, "placement");
  const char *policy = js_str(placement, "policy");
  out->policy = PLACEMENT_ORDERED;
  if (policy && strcmp(policy, "MostFreeGPUs") == 0) out->policy = PLACEMENT_MOST_FREE_GPUS;
  else if (policy && strcmp(policy, "Ordered") != 0) {
    snprintf(err, errlen, "spec.placement.policy: want Ordered or MostFreeGPUs, got \"%s\"", policy);
    return CUBIT_EINVAL;
  }
  out->reschedule_on_loss = js_bool(placement, "rescheduleOnClusterLoss", 0);
  out->cluster_loss_grace_s = (int)js_int(placement, "clusterLossGraceSeconds", PLACEMENT_DEFAULT_GRACE_S);
  if (out->cluster_loss_grace_s < 30) {
    snprintf(err, errlen, "spec.placement.clusterLossGraceSeconds: at least 30, got %d", out->cluster_loss_grace_s);
    return CUBIT_EINVAL;
  }
  return 0;
}

const char *placement_policy_name(placement_policy p) {
  return p == PLACEMENT_MOST_FREE_GPUS ? "MostFreeGPUs" : "Ordered";
}

static int64_t resource_quantity(const json_t *resources, const char *key, int milli) {
  const char *s = js_str(resources, key);
  quantity q;
  if (s == NULL || quantity_parse(s, &q)) return 0;
  return milli ? quantity_milli_value(&q) : quantity_value(&q);
}

void placement_demand_add(placement_demand *d, const json_t *resources, int64_t n) {
  if (n <= 0) return;
  placement_shape p = {resource_quantity(resources, "cpu", 1), resource_quantity(resources, "memory", 0), 0, n};
  const char *gpu = js_str(resources, "gpu");
  gpu_request g;
  if (gpu && gpu_request_parse(gpu, &g, NULL, 0) == 0) {
    p.gpu_milli = g.milli_cards;
    if (g.model[0] && d->model[0] == '\0') snprintf(d->model, sizeof(d->model), "%s", g.model);
  }
  d->cpu_milli += n * p.cpu_milli;
  d->memory_bytes += n * p.memory_bytes;
  d->gpu_milli += n * p.gpu_milli;
  for (size_t i = 0; i < d->nshapes; i++) {
    placement_shape *s = &d->shapes[i];
    if (s->cpu_milli == p.cpu_milli && s->memory_bytes == p.memory_bytes && s->gpu_milli == p.gpu_milli) {
      s->count += n;
      return;
    }
  }
  if (d->nshapes == PLACEMENT_MAX_SHAPES) d->shapes_overflow = 1;
  else d->shapes[d->nshapes++] = p;
}

/* Larger first: GPUs, then cpu, then memory. */
static int shape_larger(const void *a, const void *b) {
  const placement_shape *x = a, *y = b;
  if (x->gpu_milli != y->gpu_milli) return x->gpu_milli > y->gpu_milli ? -1 : 1;
  if (x->cpu_milli != y->cpu_milli) return x->cpu_milli > y->cpu_milli ? -1 : 1;
  if (x->memory_bytes != y->memory_bytes) return x->memory_bytes > y->memory_bytes ? -1 : 1;
  return 0;
}

int placement_fits_nodes(const placement_demand *d, const placement_node *nodes, size_t n) {
  placement_shape shapes[PLACEMENT_MAX_SHAPES];
  memcpy(shapes, d->shapes, d->nshapes * sizeof(shapes[0]));
  qsort(shapes, d->nshapes, sizeof(shapes[0]), shape_larger);
  placement_node *left = malloc((n + 1) * sizeof(*left));
  if (left == NULL) return 1; /* cannot judge node by node: the sums stand */
  memcpy(left, nodes, n * sizeof(*left));
  int fits = 1;
  for (size_t s = 0; fits && s < d->nshapes; s++) {
    const placement_shape *p = &shapes[s];
    for (int64_t k = 0; fits && k < p->count; k++) {
      size_t i = 0;
      while (i < n && (left[i].free_cpu_milli < p->cpu_milli || left[i].free_memory_bytes < p->memory_bytes ||
                       left[i].free_gpu_milli < p->gpu_milli))
        i++;
      if (i == n) fits = 0;
      else {
        left[i].free_cpu_milli -= p->cpu_milli;
        left[i].free_memory_bytes -= p->memory_bytes;
        left[i].free_gpu_milli -= p->gpu_milli;
      }
    }
  }
  free(left);
  return fits;
}

/* Why cluster c cannot take the workload now, or "" when it can. */
static void misfit(const placement_view *c, const placement_demand *d, char *why, size_t len) {
  why[0] = '\0';
  if (!c->ready) {
    snprintf(why, len, "not Ready");
    return;
  }
  if (!c->serves) {
    snprintf(why, len, "does not serve the API it needs");
    return;
  }
  if (c->free_cpu_milli < d->cpu_milli) snprintf(why, len, "not enough free cpu");
  else if (c->free_memory_bytes < d->memory_bytes) snprintf(why, len, "not enough free memory");
  else if (c->free_gpu_milli < d->gpu_milli) {
    char need[GPU_MILLI_STRLEN], free_[GPU_MILLI_STRLEN];
    gpu_format_milli(d->gpu_milli, need);
    gpu_format_milli(c->free_gpu_milli > 0 ? c->free_gpu_milli : 0, free_);
    snprintf(why, len, "%s free %s%sGPUs, %s needed", free_, d->model, d->model[0] ? " " : "", need);
  } else {
    if (c->nodes && !d->shapes_overflow && !placement_fits_nodes(d, c->nodes, c->nnodes))
      snprintf(why, len, "enough free in sum, but no node has room for every pod");
    return;
  }
  /* Short in sum: the room may be the project's quota's, not the cluster's. */
  size_t at = strlen(why);
  if (c->quota && at + 1 < len) snprintf(why + at, len - at, " (%s)", c->quota);
}

int placement_pick(placement_policy policy, const placement_demand *d, const placement_view *clusters, size_t n,
                   char *why, size_t whylen) {
  int best = -1;
  size_t at = 0;
  why[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    char reason[400];
    misfit(&clusters[i], d, reason, sizeof(reason));
    if (reason[0]) {
      if (at < whylen) {
        int w = snprintf(why + at, whylen - at, "%s%s: %s", at ? "; " : "", clusters[i].name, reason);
        at += w > 0 ? (size_t)w : 0;
      }
      continue;
    }
    if (policy == PLACEMENT_ORDERED) return (int)i;
    if (best < 0 || clusters[i].free_gpu_milli > clusters[best].free_gpu_milli) best = (int)i;
  }
  return best;
}
