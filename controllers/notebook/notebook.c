/* The Notebook reconcile: read the notebook and everything it needs from
 * the cache, probe the IDE's activity when culling asks for it (the only
 * I/O before the plan), plan (plan.c), and let rt_execute act. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "controllers/notebook/notebook.h"
#include "http/client.h"
#include "runtime/controller.h"
#include "runtime/status.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

const kube_resource notebook_virtualservices = {"networking.istio.io", "v1", "virtualservices", "VirtualService", 1};

typedef struct notebook_ctl {
  notebook_config cfg;
} notebook_ctl;

static void ctl_free(void *arg) {
  notebook_ctl *nc = arg;
  notebook_config_free(&nc->cfg);
  free(nc);
}

/* ------------------------------------------------------------ probing */

static void probe_activity(const notebook_ctl *nc, const json_t *nb, const notebook_spec *spec, const char *pod_ip,
                           int64_t now, notebook_probe_result *out) {
  memset(out, 0, sizeof(*out));
  out->probed = 1;
  char path[NOTEBOOK_PATH_LEN];
  notebook_probe_path(spec, js_namespace(nb), js_name(nb), path);
  char url[NOTEBOOK_PATH_LEN + 96];
  int v6 = strchr(pod_ip, ':') != NULL;
  snprintf(url, sizeof(url), "http://%s%s%s:%d%s", v6 ? "[" : "", pod_ip, v6 ? "]" : "", spec->probe_port, path);
  http_get_opts o = {.timeout_ms = 1000 * (spec->probe_timeout_s ? spec->probe_timeout_s : nc->cfg.probe_timeout_s),
                     .max_body = 64 * 1024,
                     .accept = "application/json"};
  http_get_result r;
  int rc = http_get(url, &o, &r);
  if (rc) {
    snprintf(out->message, sizeof(out->message), "GET %.250s: %.200s", url, r.error);
  } else if (r.status < 200 || r.status > 299) {
    snprintf(out->message, sizeof(out->message), "GET %.250s: HTTP %ld", url, r.status);
  } else {
    char why[256];
    if (notebook_activity_parse(spec->probe, r.body, r.body_len, now, &out->last, why, sizeof(why)))
      snprintf(out->message, sizeof(out->message), "GET %.250s: %.200s", url, why);
    else
      out->ok = 1;
  }
  /* Auto means the IDE's own format. */
  if (out->ok == 0 && rc == 0 && spec->probe == NB_PROBE_AUTO && r.status >= 200 && r.status <= 299) {
    notebook_probe_type t = spec->ide == NB_IDE_JUPYTER ? NB_PROBE_JUPYTER
                            : spec->ide == NB_IDE_VSCODE ? NB_PROBE_CODE_SERVER
                                                         : NB_PROBE_RSTUDIO;
    char why[256];
    if (notebook_activity_parse(t, r.body, r.body_len, now, &out->last, why, sizeof(why)) == 0) out->ok = 1;
  }
  http_get_result_free(&r);
  log_v(3, "notebook", "activity probed", "notebook=%s/%s url=%s ok=%d last=%lld message=\"%s\"", js_namespace(nb),
        js_name(nb), url, out->ok, (long long)out->last, out->message);
}

/* ------------------------------------------------------------ gather */

static int in_project(const rt_ctx *ctx, const char *ns) {
  cache_store *nss = rt_store(ctx, &kube_namespaces);
  json_t *n = nss ? cache_store_get(nss, NULL, ns) : NULL;
  int yes = json_object_get(js_get(n, "metadata.labels"), CUBIT_LABEL_PROJECT) != NULL;
  json_decref(n);
  return yes;
}

/* The object of kind r named 'name' in ns from the cache (a reference), or
 * NULL (absent, or the API not served). */
static json_t *cached(const rt_ctx *ctx, const kube_resource *r, const char *ns, const char *name) {
  cache_store *s = rt_store(ctx, r);
  return s ? cache_store_get(s, ns, name) : NULL;
}

/* The notebook's pod "<name>-0"; only one labelled for this notebook counts
 * (a leftover namesake would not). */
static json_t *notebook_pod(const rt_ctx *ctx, const json_t *nb) {
  char *name = xasprintf("%s-0", js_name(nb));
  json_t *pod = cached(ctx, &kube_pods, js_namespace(nb), name);
  free(name);
  const char *owner = json_string_value(json_object_get(js_get(pod, "metadata.labels"), NOTEBOOK_LABEL));
  if (pod && (owner == NULL || strcmp(owner, js_name(nb)) != 0)) {
    json_decref(pod);
    pod = NULL;
  }
  return pod;
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const notebook_ctl *nc = ctx->arg;
  cache_store *nbs = rt_store(ctx, &notebook_resource);
  json_t *nb = nbs ? cache_store_get(nbs, req->ns, req->name) : NULL;
  if (nb == NULL) return rt_ok();
  if (js_get(nb, "metadata.deletionTimestamp")) { /* garbage collection removes the children */
    json_decref(nb);
    return rt_ok();
  }
  const char *ns = js_namespace(nb), *name = js_name(nb);
  notebook_spec spec;
  char err[512];
  nb_observed in = {.nb = nb, .cfg = &nc->cfg, .now = time_wall_s()};
  if (notebook_spec_parse(nb, &spec, err, sizeof(err))) in.spec_error = err;
  else in.spec = &spec;
  in.in_project = in_project(ctx, ns);
  in.virtualservices_served = rt_api_available(ctx, &notebook_virtualservices);
  json_t *sts = cached(ctx, &kube_statefulsets, ns, name), *pod = notebook_pod(ctx, nb);
  json_t *vs = in.virtualservices_served ? cached(ctx, &notebook_virtualservices, ns, name) : NULL;
  json_t *ing = cached(ctx, &kube_ingresses, ns, name);
  in.statefulset = sts, in.pod = pod, in.virtualservice = vs, in.ingress = ing;
  cache_list refusals = {0};
  cache_store *events = pod == NULL && sts ? rt_store(ctx, &kube_events) : NULL;
  if (events) {
    cache_store_by_index(events, CACHE_INDEX_NAMESPACE, ns, &refusals);
    in.create_refused = rt_create_refusal(refusals.items, refusals.len, js_str(sts, "metadata.uid"), 0, NULL);
  }
  if (in.spec && spec.culling && !spec.stopped && notebook_pod_serving(pod))
    probe_activity(nc, nb, &spec, js_str(pod, "status.podIP"), in.now, &in.probe);

  rt_plan plan;
  rt_plan_init(&plan);
  nb_plan(&in, &plan);
  rt_result result = rt_execute(ctx, &notebook_resource, nb, &plan);
  rt_plan_free(&plan);
  cache_list_free(&refusals);
  json_decref(pod);
  json_decref(ing);
  json_decref(vs);
  json_decref(sts);
  json_decref(nb);
  return result;
}

/* ------------------------------------------------------------ mapping */

/* A pod maps to the notebook named by its label. */
static char **map_pod(const rt_ctx *ctx, const json_t *pod) {
  const char *name = json_string_value(json_object_get(js_get(pod, "metadata.labels"), NOTEBOOK_LABEL));
  const char *ns = js_namespace(pod);
  if (name == NULL || ns == NULL) return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = cache_key_of(ns, name);
  return keys;
}

int notebook_controller_register(rt_manager *m, const notebook_config *cfg) {
  notebook_ctl *nc = xcalloc(1, sizeof(*nc));
  nc->cfg = *cfg;
  nc->cfg.ingress_annotations = json_deep_copy(cfg->ingress_annotations);
  rt_controller_def def = {0};
  def.name = "notebook";
  def.primary = &notebook_resource;
  def.owns[0] = &kube_statefulsets;
  def.owns[1] = &kube_services;
  def.owns[2] = &kube_pvcs;
  def.owns[3] = &notebook_virtualservices;
  def.owns[4] = &kube_ingresses;
  def.watches[0] = (rt_watch_def){&kube_pods, map_pod};
  /* The StatefulSet's refusals to create the pod (named like the notebook). */
  def.watches[1] = (rt_watch_def){&kube_events, rt_map_involved_object};
  /* Read to know whether the namespace is a project's (GPU translation). */
  def.reads[0] = &kube_namespaces;
  /* A probe may wait for its timeout; more workers keep one slow notebook
   * from holding up the others. */
  def.workers = 4;
  def.reconcile = reconcile;
  def.arg = nc;
  def.free_arg = ctl_free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) ctl_free(nc);
  return rc;
}
