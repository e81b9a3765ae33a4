/* The Notebook reconcile loop: decide whether the notebook should run (spec,
 * lease, idleness), write that to the Notebook when Cubit stops it, apply the
 * children, and report the phase the pod shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/notebook/notebook.h"
#include "http/client.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

#define PROJECT_NAMESPACE_LABEL "cubit.dev/project"
#define STOPPED_BY_CULLER "culler"
#define STOPPED_BY_LEASE "lease"

typedef struct notebook_ctl {
  notebook_config cfg;
} notebook_ctl;

static void ctl_free(void *arg) {
  notebook_ctl *nc = arg;
  notebook_config_free(&nc->cfg);
  free(nc);
}

/* ------------------------------------------------------------ helpers */


static int is_stopped_phase(const char *phase) {
  return phase && (strcmp(phase, "Stopped") == 0 || strcmp(phase, "Culled") == 0 || strcmp(phase, "Expired") == 0);
}

static int64_t min_positive(int64_t a, int64_t b) {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return a < b ? a : b;
}

/* The merge patch Cubit writes to the Notebook itself (annotations it
 * consumes or sets, spec.stopped when it stops or restarts the notebook). */
static void patch_annotation(json_t **patch, const char *key, const char *value) {
  if (*patch == NULL) *patch = json_object();
  json_t *ann = js_ensure_obj(*patch, "metadata.annotations");
  json_object_set_new(ann, key, value ? json_string(value) : json_null());
}

static void patch_stopped(json_t **patch, int stopped) {
  if (*patch == NULL) *patch = json_object();
  js_ensure_obj(*patch, "spec");
  js_set(*patch, "spec.stopped", json_boolean(stopped));
}

/* Applies the whole status unless it is already exactly so. Fields Cubit no
 * longer sends are dropped by server-side apply, as it owns them. */
static int write_status(const rt_ctx *ctx, const json_t *nb, json_t *status, kube_status *st) {
  if (json_equal(status, json_object_get(nb, "status"))) return 0;
  json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O}", "apiVersion", "cubit.dev/v1alpha1", "kind", "Notebook",
                          "metadata", "name", js_name(nb), "namespace", js_namespace(nb), "status", status);
  int rc = kube_apply_status(ctx->client, &notebook_resource, obj, RT_FIELD_MANAGER, 1, NULL, st);
  json_decref(obj);
  return rc;
}

static int in_project(const rt_ctx *ctx, const char *ns) {
  cache_store *nss = rt_store(ctx, &kube_namespaces);
  json_t *n = nss ? cache_store_get(nss, NULL, ns) : NULL;
  int yes = json_object_get(js_get(n, "metadata.labels"), PROJECT_NAMESPACE_LABEL) != NULL;
  json_decref(n);
  return yes;
}

/* Deletes a child of kind r named like the notebook if the notebook
 * controls it (the route of the kind no longer used). */
static int delete_owned(const rt_ctx *ctx, const kube_resource *r, const json_t *nb, kube_status *st) {
  cache_store *s = rt_store(ctx, r);
  json_t *live = s ? cache_store_get(s, js_namespace(nb), js_name(nb)) : NULL;
  int rc = 0;
  if (live && rt_is_controlled_by(live, nb)) {
    rc = kube_delete(ctx->client, r, js_namespace(nb), js_name(nb), NULL, st);
    if (rc == CUBIT_ENOTFOUND) rc = 0;
  }
  json_decref(live);
  return rc;
}

/* ------------------------------------------------------------ probing */

typedef struct probe_outcome {
  int ok;
  int64_t last;       /* reported last activity (epoch s), when ok */
  char message[512];
} probe_outcome;

static void probe_activity(const notebook_ctl *nc, const json_t *nb, const notebook_spec *spec, const char *pod_ip,
                           int64_t now, probe_outcome *out) {
  memset(out, 0, sizeof(*out));
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

/* ------------------------------------------------------------ reconcile */

static rt_result invalid_spec(const rt_ctx *ctx, const json_t *nb, json_t *status, const char *err, int64_t now) {
  json_int_t gen = js_int(nb, "metadata.generation", 0);
  json_object_set_new(status, "phase", json_string("Failed"));
  json_object_set_new(status, "reason", json_string("InvalidSpec"));
  json_object_set_new(status, "message", json_string(err));
  rt_condition_set(status, "Ready", "False", "InvalidSpec", err, gen, now);
  if (!json_equal(status, json_object_get(nb, "status")))
    rt_event(ctx->events, nb, "Warning", "InvalidSpec", "%s", err);
  kube_status st;
  int rc = write_status(ctx, nb, status, &st);
  json_decref(status);
  /* Retrying cannot fix the spec; its next edit will. */
  return rc ? rt_result_for_error(rc, &st) : rt_ok();
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const notebook_ctl *nc = ctx->arg;
  const notebook_config *cfg = &nc->cfg;
  cache_store *nbs = rt_store(ctx, &notebook_resource);
  if (nbs == NULL) return rt_requeue_after(5000);
  json_t *nb = cache_store_get(nbs, req->ns, req->name);
  if (nb == NULL) return rt_ok();
  if (js_get(nb, "metadata.deletionTimestamp")) { /* garbage collection removes the children */
    json_decref(nb);
    return rt_ok();
  }
  int64_t now = time_wall_s();
  json_int_t gen = js_int(nb, "metadata.generation", 0);
  json_t *status = json_deep_copy(json_object_get(nb, "status"));
  if (!json_is_object(status)) {
    json_decref(status);
    status = json_object();
  }
  json_object_set_new(status, "observedGeneration", json_integer(gen));
  notebook_spec spec;
  char err[512];
  if (notebook_spec_parse(nb, &spec, err, sizeof(err))) {
    rt_result r = invalid_spec(ctx, nb, status, err, now);
    json_decref(nb);
    return r;
  }
  json_t *ann = js_get(nb, "metadata.annotations");
  const char *stopped_by = json_string_value(json_object_get(ann, NOTEBOOK_STOPPED_BY_ANNOTATION));
  const char *prev_phase = js_str(status, "phase");
  char prev[16];
  snprintf(prev, sizeof(prev), "%s", prev_phase ? prev_phase : "");
  json_t *patch = NULL;
  int64_t requeue_s = 0;
  const char *stop_reason = NULL; /* set when Cubit stops the notebook now */
  char stop_message[512] = "";

  /* A user started a notebook Cubit had stopped: the mark goes. */
  if (!spec.stopped && stopped_by) {
    patch_annotation(&patch, NOTEBOOK_STOPPED_BY_ANNOTATION, NULL);
    stopped_by = NULL;
  }

  /* Renewal: consumed here (the annotation is removed), recorded in status. */
  if (json_object_get(ann, NOTEBOOK_RENEW_ANNOTATION)) {
    patch_annotation(&patch, NOTEBOOK_RENEW_ANNOTATION, NULL);
    if (spec.lease) {
      js_set_time(status, "lease.renewedAt", now);
      char until[32];
      time_format_rfc3339(now + spec.lease_ttl_s, until);
      rt_event(ctx->events, nb, "Normal", "LeaseRenewed", "lease renewed until %s", until);
      if (spec.stopped && stopped_by && strcmp(stopped_by, STOPPED_BY_LEASE) == 0) {
        /* Renewing an expired notebook brings it back. */
        patch_stopped(&patch, 0);
        patch_annotation(&patch, NOTEBOOK_STOPPED_BY_ANNOTATION, NULL);
        spec.stopped = 0;
        stopped_by = NULL;
      }
    } else {
      rt_event(ctx->events, nb, "Warning", "RenewIgnored", "cubit.dev/renew: the notebook has no spec.lease");
    }
  }

  /* A (re)start begins a new lease and a new idle period. */
  if (!spec.stopped && (prev[0] == '\0' || is_stopped_phase(prev))) {
    js_set_time(status, "lastActivity", now);
    if (spec.lease) js_set_time(status, "lease.renewedAt", now);
  }
  if (json_object_get(status, "lastActivity") == NULL) js_set_time(status, "lastActivity", now);

  /* The lease. */
  if (spec.lease) {
    int64_t renewed = js_time(status, "lease.renewedAt");
    if (renewed == 0) {
      renewed = now;
      js_set_time(status, "lease.renewedAt", now);
    }
    int64_t expires, next;
    notebook_lease_state ls = notebook_lease_check(renewed, spec.lease_ttl_s, spec.lease_warning_s,
                                                   js_time(status, "lease.warnedAt"), now, &expires, &next);
    js_set_time(status, "lease.expiresAt", expires);
    char until[32];
    time_format_rfc3339(expires, until);
    if (!spec.stopped && ls == NB_LEASE_EXPIRED) {
      stop_reason = STOPPED_BY_LEASE;
      snprintf(stop_message, sizeof(stop_message),
               "lease of %llds expired at %s: stopped; annotate cubit.dev/renew to start it again",
               (long long)spec.lease_ttl_s, until);
      rt_event(ctx->events, nb, "Warning", "LeaseExpired", "%s", stop_message);
    } else if (!spec.stopped && ls == NB_LEASE_WARN) {
      js_set_time(status, "lease.warnedAt", now);
      rt_event(ctx->events, nb, "Warning", "LeaseExpiring",
               "lease expires at %s (in %llds): annotate cubit.dev/renew to extend it", until,
               (long long)(expires - now));
    }
    if (!spec.stopped) requeue_s = min_positive(requeue_s, next > 0 ? next : 1);
  } else {
    json_object_del(status, "lease");
  }

  /* The pod, and idleness read from the IDE itself. */
  cache_store *pods = rt_store(ctx, &kube_pods);
  char pod_name[300];
  snprintf(pod_name, sizeof(pod_name), "%s-0", js_name(nb));
  json_t *pod = pods ? cache_store_get(pods, js_namespace(nb), pod_name) : NULL;
  /* Only this notebook's pod counts (a leftover of a namesake would not). */
  if (pod && strcmp(json_string_value(json_object_get(js_get(pod, "metadata.labels"), NOTEBOOK_LABEL))
                        ? json_string_value(json_object_get(js_get(pod, "metadata.labels"), NOTEBOOK_LABEL))
                        : "",
                    js_name(nb)) != 0) {
    json_decref(pod);
    pod = NULL;
  }
  notebook_phase ph;
  notebook_pod_phase(pod, &ph);
  if (spec.culling && !spec.stopped && !stop_reason) {
    int64_t period = spec.probe_period_s ? spec.probe_period_s : cfg->probe_period_s;
    const char *ip = js_str(pod, "status.podIP");
    if (strcmp(ph.phase, "Running") == 0 && ip) {
      probe_outcome po;
      probe_activity(nc, nb, &spec, ip, now, &po);
      if (po.ok) {
        int64_t last = js_time(status, "lastActivity");
        int64_t reported = po.last > now ? now : po.last; /* a clock ahead of ours is not the future */
        if (reported > last) {
          last = reported;
          js_set_time(status, "lastActivity", last);
        }
        char since[32];
        time_format_rfc3339(last, since);
        char msg[256];
        snprintf(msg, sizeof(msg), "last activity %s (idle %llds of %llds)", since, (long long)(now - last),
                 (long long)spec.idle_seconds);
        rt_condition_set(status, "ActivityProbed", "True", "Probed", msg, gen, now);
        int64_t next;
        if (notebook_cull_due(last, spec.idle_seconds, now, &next)) {
          stop_reason = STOPPED_BY_CULLER;
          snprintf(stop_message, sizeof(stop_message),
                   "idle since %s (%llds, idleSeconds %lld): stopped; set spec.stopped to false to start it again",
                   since, (long long)(now - last), (long long)spec.idle_seconds);
        } else {
          requeue_s = min_positive(requeue_s, next < period ? next : period);
        }
      } else {
        rt_condition_set(status, "ActivityProbed", "False", "ProbeFailed", po.message, gen, now);
        requeue_s = min_positive(requeue_s, period);
      }
    }
  } else if (!spec.culling) {
    rt_condition_remove(status, "ActivityProbed");
  }

  /* Cubit stops a notebook the way a user would: spec.stopped, with a mark
   * saying who did it. */
  kube_status st;
  int rc = 0;
  if (stop_reason) {
    patch_stopped(&patch, 1);
    patch_annotation(&patch, NOTEBOOK_STOPPED_BY_ANNOTATION, stop_reason);
    spec.stopped = 1;
    stopped_by = stop_reason;
  }
  if (patch) {
    js_set_str(patch, "metadata.resourceVersion", js_resource_version(nb)); /* only the object we judged */
    kube_patch_options po = {KUBE_PATCH_MERGE, RT_FIELD_MANAGER, 0, NULL};
    rc = kube_patch(ctx->client, &notebook_resource, js_namespace(nb), js_name(nb), patch, &po, NULL, &st);
    json_decref(patch);
    if (rc) {
      log_v(2, "notebook", "patch failed", "notebook=%s/%s error=%s message=\"%s\"", js_namespace(nb), js_name(nb),
            cubit_strerror(rc), st.message);
      json_decref(pod);
      json_decref(status);
      json_decref(nb);
      return rc == CUBIT_ECONFLICT || rc == CUBIT_ENOTFOUND ? rt_retry() : rt_result_for_error(rc, &st);
    }
    if (stop_reason && strcmp(stop_reason, STOPPED_BY_CULLER) == 0)
      rt_event(ctx->events, nb, "Normal", "Culled", "%s", stop_message);
  }

  /* Children. */
  char route_reason[32] = "", route_message[512] = "";
  json_t *desired = notebook_desired_pvc(nb, &spec);
  if (desired) {
    rc = rt_apply_cached(ctx->client, rt_store(ctx, &kube_pvcs), &kube_pvcs, desired, NULL, NULL, &st);
    json_decref(desired);
  }
  if (rc == 0) {
    desired = notebook_desired_service(nb, &spec);
    rc = rt_apply_cached(ctx->client, rt_store(ctx, &kube_services), &kube_services, desired, NULL, NULL, &st);
    json_decref(desired);
  }
  int gpu_invalid = 0;
  if (rc == 0) {
    desired = notebook_desired_statefulset(nb, &spec, cfg, in_project(ctx, js_namespace(nb)), err, sizeof(err));
    if (desired == NULL) {
      gpu_invalid = 1;
    } else {
      rc = rt_apply_cached(ctx->client, rt_store(ctx, &kube_statefulsets), &kube_statefulsets, desired, NULL, NULL,
                           &st);
      json_decref(desired);
    }
  }
  if (rc == 0) {
    char base[NOTEBOOK_PATH_LEN];
    notebook_base_path(js_namespace(nb), js_name(nb), base);
    if (cfg->istio && rt_api_available(ctx, &notebook_virtualservices)) {
      desired = notebook_desired_virtualservice(nb, &spec, cfg);
      rc = rt_apply_cached(ctx->client, rt_store(ctx, &notebook_virtualservices), &notebook_virtualservices, desired,
                           NULL, NULL, &st);
      json_decref(desired);
      if (rc == 0) rc = delete_owned(ctx, &kube_ingresses, nb, &st);
      snprintf(route_reason, sizeof(route_reason), "VirtualService");
      snprintf(route_message, sizeof(route_message), "Istio VirtualService on gateway %.200s, prefix %.250s", cfg->gateway,
               base);
    } else if (cfg->ingress_class[0]) {
      desired = notebook_desired_ingress(nb, &spec, cfg);
      rc = rt_apply_cached(ctx->client, rt_store(ctx, &kube_ingresses), &kube_ingresses, desired, NULL, NULL, &st);
      json_decref(desired);
      if (rc == 0 && rt_api_available(ctx, &notebook_virtualservices))
        rc = delete_owned(ctx, &notebook_virtualservices, nb, &st);
      snprintf(route_reason, sizeof(route_reason), "Ingress");
      snprintf(route_message, sizeof(route_message), "Ingress of class %.120s, prefix %.250s", cfg->ingress_class, base);
    } else {
      /* Routes of a configuration that no longer holds go. */
      rc = delete_owned(ctx, &kube_ingresses, nb, &st);
      if (rc == 0 && rt_api_available(ctx, &notebook_virtualservices))
        rc = delete_owned(ctx, &notebook_virtualservices, nb, &st);
      snprintf(route_message, sizeof(route_message),
               "no route: the Istio VirtualService API is %s and no ingress class is configured "
               "(notebook.ingressClassName)",
               cfg->istio ? "not served" : "turned off (notebook.istio: false)");
    }
  }

  /* Status. */
  char base[NOTEBOOK_PATH_LEN];
  notebook_base_path(js_namespace(nb), js_name(nb), base);
  char *url = xasprintf("%s%s", cfg->url_base, base);
  json_object_set_new(status, "url", json_string(url));
  free(url);
  cache_store *stss = rt_store(ctx, &kube_statefulsets);
  json_t *sts = stss ? cache_store_get(stss, js_namespace(nb), js_name(nb)) : NULL;
  json_object_set_new(status, "readyReplicas",
                      json_integer(rt_is_controlled_by(sts, nb) ? js_int(sts, "status.readyReplicas", 0) : 0));
  json_decref(sts);
  if (spec.stopped) {
    if (stopped_by && strcmp(stopped_by, STOPPED_BY_CULLER) == 0) {
      snprintf(ph.phase, sizeof(ph.phase), "Culled");
      snprintf(ph.reason, sizeof(ph.reason), "Idle");
    } else if (stopped_by && strcmp(stopped_by, STOPPED_BY_LEASE) == 0) {
      snprintf(ph.phase, sizeof(ph.phase), "Expired");
      snprintf(ph.reason, sizeof(ph.reason), "LeaseExpired");
    } else {
      snprintf(ph.phase, sizeof(ph.phase), "Stopped");
      snprintf(ph.reason, sizeof(ph.reason), "Stopped");
    }
    /* Said from the state, not from this reconcile's decision: a later
     * reconcile (or another replica) writes the same sentence. */
    const char *last = js_str(status, "lastActivity"), *expired = js_str(status, "lease.expiresAt");
    if (strcmp(ph.phase, "Culled") == 0)
      snprintf(ph.message, sizeof(ph.message),
               "idle since %s (idleSeconds %lld): stopped; set spec.stopped to false to start it again",
               last ? last : "its start", (long long)spec.idle_seconds);
    else if (strcmp(ph.phase, "Expired") == 0)
      snprintf(ph.message, sizeof(ph.message),
               "lease expired at %s: stopped; annotate cubit.dev/renew to start it again", expired ? expired : "?");
    else
      snprintf(ph.message, sizeof(ph.message), "stopped (spec.stopped); the workspace is kept");
  }
  if (gpu_invalid) {
    snprintf(ph.phase, sizeof(ph.phase), "Failed");
    snprintf(ph.reason, sizeof(ph.reason), "InvalidGPU");
    snprintf(ph.message, sizeof(ph.message), "%s", err);
  }
  json_object_set_new(status, "phase", json_string(ph.phase));
  json_object_set_new(status, "reason", json_string(ph.reason));
  json_object_set_new(status, "message", json_string(ph.message));
  if (rc == 0 && !gpu_invalid) {
    if (route_reason[0]) rt_condition_set(status, "Routed", "True", route_reason, route_message, gen, now);
    else rt_condition_set(status, "Routed", "False", "NoRoute", route_message, gen, now);
  }
  if (rc) rt_condition_set(status, "Ready", "False", "ReconcileFailed", st.message, gen, now);
  else if (strcmp(ph.phase, "Running") == 0)
    rt_condition_set(status, "Ready", "True", "Running", "the IDE answers at its URL", gen, now);
  else
    rt_condition_set(status, "Ready", "False", ph.reason[0] ? ph.reason : ph.phase,
                     ph.message[0] ? ph.message : ph.phase, gen, now);

  /* The state changes a user cares about. */
  if (strcmp(prev, ph.phase) != 0) {
    if (strcmp(ph.phase, "Running") == 0)
      rt_event(ctx->events, nb, "Normal", "Running", "the notebook is ready at %s", js_str(status, "url"));
    else if (strcmp(ph.phase, "Stopped") == 0)
      rt_event(ctx->events, nb, "Normal", "Stopped", "stopped (spec.stopped); the workspace is kept");
    else if (strcmp(ph.phase, "Failed") == 0)
      rt_event(ctx->events, nb, "Warning", ph.reason, "%s", ph.message);
  }
  kube_status sst;
  int src = write_status(ctx, nb, status, &sst);
  rt_result result = rt_ok();
  if (rc) {
    log_warn("notebook", "reconcile failed", "notebook=%s/%s error=%s message=\"%s\"", js_namespace(nb), js_name(nb),
             cubit_strerror(rc), st.message);
    result = rt_result_for_error(rc, &st);
  } else if (src) {
    log_warn("notebook", "status update failed", "notebook=%s/%s error=%s message=\"%s\"", js_namespace(nb),
             js_name(nb), cubit_strerror(src), sst.message);
    result = rt_result_for_error(src, &sst);
  } else if (requeue_s > 0) {
    result = rt_requeue_after(requeue_s * 1000);
  }
  json_decref(pod);
  json_decref(status);
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
  /* Read to know whether the namespace is a project's (GPU translation). */
  (void)rt_manager_informer(m, &kube_namespaces);
  rt_controller_def def = {0};
  def.name = "notebook";
  def.primary = &notebook_resource;
  def.owns[0] = &kube_statefulsets;
  def.owns[1] = &kube_services;
  def.owns[2] = &kube_pvcs;
  def.owns[3] = &notebook_virtualservices;
  def.owns[4] = &kube_ingresses;
  def.watches[0] = (rt_watch_def){&kube_pods, map_pod};
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
