/* The InferenceService reconciler: revisions as Deployments named by the
 * hash of their pod template, Services, the HPA with its scheduled floor,
 * and Istio's DestinationRule and VirtualService when Istio's API exists.
 *
 * One reconcile, in order: apply the stable and canary revisions; read
 * what serves now from the live routing object; plan the routes (a new
 * stable revision takes over only once rolled out); apply the Services,
 * the routes and the HPA; and only after the routes were written, delete
 * the revisions nothing routes to any more. Then the status. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

typedef struct inference_ctl {
  char storage_initializer[512];
  char cluster_domain[254];
  inference_settings cfg;
} inference_ctl;

/* -------------------------------------------------------------- apply */

typedef struct apply_result {
  int created, wrote;
} apply_result;

/* Server-side applies a child (consumed) with rt_apply. An object of the
 * same name that this InferenceService does not control is left alone
 * (CUBIT_EALREADYEXISTS, with the reason in st). */
static int apply_child(const rt_ctx *ctx, const kube_resource *r, const json_t *isvc, json_t *desired,
                       apply_result *res, kube_status *st) {
  memset(res, 0, sizeof(*res));
  cache_store *store = rt_store(ctx, r);
  json_t *live = store ? cache_store_get(store, js_namespace(desired), js_name(desired)) : NULL;
  int rc;
  if (live && !rt_is_controlled_by(live, isvc)) {
    memset(st, 0, sizeof(*st));
    snprintf(st->message, sizeof(st->message), "%s %s exists and is not controlled by this InferenceService",
             r->kind, js_name(desired));
    rc = CUBIT_EALREADYEXISTS;
  } else {
    res->created = live == NULL;
    rc = rt_apply(ctx->client, r, desired, live, NULL, &res->wrote, st);
  }
  json_decref(live);
  json_decref(desired);
  return rc;
}

/* ------------------------------------------------------------ reading */

static void revision_state(cache_store *deps, const char *ns, const char *rev, inference_revision_state *out) {
  memset(out, 0, sizeof(*out));
  snprintf(out->name, sizeof(out->name), "%s", rev);
  json_t *d = deps ? cache_store_get(deps, ns, rev) : NULL;
  if (d == NULL) return;
  out->exists = 1;
  out->replicas = (int)js_int(d, "spec.replicas", 1);
  out->ready_replicas = (int)js_int(d, "status.readyReplicas", 0);
  json_int_t available = js_int(d, "status.availableReplicas", 0), updated = js_int(d, "status.updatedReplicas", 0);
  out->available = available >= 1;
  out->rolled_out = js_int(d, "status.observedGeneration", 0) >= js_int(d, "metadata.generation", 1) &&
                    available >= (out->replicas > 0 ? out->replicas : 1) && updated >= out->replicas;
  json_decref(d);
}

/* What serves now: the live VirtualService's weighted subsets, heaviest
 * first, or the revision the main Service selects. */
static size_t serving_now(const json_t *vs, const json_t *svc, inference_route out[4]) {
  size_t n = 0;
  size_t i;
  json_t *d;
  json_array_foreach(js_get(json_array_get(js_get(vs, "spec.http"), 0), "route"), i, d) {
    const char *subset = js_str(d, "destination.subset");
    if (subset == NULL || n == 4) continue;
    snprintf(out[n].revision, sizeof(out[n].revision), "%s", subset);
    out[n].weight = (int)js_int(d, "weight", json_array_size(js_get(json_array_get(js_get(vs, "spec.http"), 0), "route")) == 1 ? 100 : 0);
    out[n].role = "";
    n++;
  }
  if (vs == NULL) {
    const char *rev = json_string_value(json_object_get(js_get(svc, "spec.selector"), INFERENCE_REVISION_LABEL));
    if (rev) {
      snprintf(out[0].revision, sizeof(out[0].revision), "%s", rev);
      out[0].weight = 100;
      out[0].role = "";
      n = 1;
    }
  }
  for (size_t a = 1; a < n; a++)
    for (size_t b = a; b > 0 && out[b].weight > out[b - 1].weight; b--) {
      inference_route t = out[b];
      out[b] = out[b - 1];
      out[b - 1] = t;
    }
  return n;
}

static void routes_text(const inference_route *r, size_t n, char *out, size_t len) {
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && off < len; i++)
    off += (size_t)snprintf(out + off, len - off, "%s%s %d%%", i ? ", " : "", r[i].revision, r[i].weight);
}

static int same_routes(const inference_route *a, size_t na, const inference_route *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (strcmp(a[i].revision, b[i].revision) != 0 || a[i].weight != b[i].weight) return 0;
  return 1;
}

/* ------------------------------------------------------------- status */

static json_t *status_base(const json_t *isvc) {
  json_t *status = json_deep_copy(json_object_get(isvc, "status"));
  if (!json_is_object(status)) {
    json_decref(status);
    status = json_object();
  }
  json_object_set_new(status, "observedGeneration", json_integer(js_int(isvc, "metadata.generation", 0)));
  return status;
}

static rt_result write_status(const rt_ctx *ctx, const json_t *isvc, json_t *status) {
  kube_status st;
  int rc = rt_apply_status(ctx->client, &inference_resource, isvc, status, NULL, &st);
  json_decref(status);
  if (rc == CUBIT_ENOTFOUND) return rt_ok();
  if (rc) {
    log_warn("inferenceservice", "status update failed", "key=%s/%s error=%s message=\"%s\"", js_namespace(isvc),
             js_name(isvc), cubit_strerror(rc), st.message);
    return rt_result_for_error(rc, &st);
  }
  return rt_ok();
}

static void add_revision(json_t *list, const inference_revision_state *s, const char *role, int traffic) {
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    if (strcmp(js_str(v, "name"), s->name) == 0) return;
  }
  json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:i}", "name", s->name, "role", role, "readyReplicas",
                                        s->ready_replicas, "trafficPercent", traffic));
}

static int traffic_of(const inference_plan *plan, const char *rev) {
  for (size_t i = 0; i < plan->nroutes; i++)
    if (strcmp(plan->routes[i].revision, rev) == 0) return plan->routes[i].weight;
  return 0;
}

/* ---------------------------------------------------------- reconcile */

typedef struct work {
  const rt_ctx *ctx;
  const inference_ctl *ic;
  const json_t *isvc;
  const char *ns;
  kube_status st;
  int rc;           /* the first failure */
  char failed[128]; /* what failed */
} work;

static void note_failure(work *w, int rc, const char *what) {
  if (rc == 0 || w->rc) return;
  w->rc = rc;
  snprintf(w->failed, sizeof(w->failed), "%s", what);
}

static void apply_revision(work *w, const char *rev, const json_t *tmpl, int replicas, const inference_spec *s) {
  apply_result res;
  int rc = apply_child(w->ctx, &kube_deployments, w->isvc,
                       inference_desired_deployment(w->isvc, rev, tmpl, replicas), &res, &w->st);
  note_failure(w, rc, "Deployment");
  if (rc == 0 && res.created)
    rt_event(w->ctx->events, w->isvc, "Normal", "RevisionCreated", "revision %s created with %d replicas", rev,
             replicas);
  if (rc == 0) {
    rc = apply_child(w->ctx, &kube_services, w->isvc, inference_desired_service(w->isvc, s, rev, rev), &res, &w->st);
    note_failure(w, rc, "revision Service");
  }
}

/* Deletes the revisions (Deployment and Service) no longer kept. Called
 * only after the routes that could name them were written. */
static void retire(work *w, const inference_plan *plan) {
  const char *uid = js_uid(w->isvc);
  static const kube_resource *kinds[] = {&kube_deployments, &kube_services};
  for (int k = 0; k < 2 && w->rc == 0; k++) {
    cache_store *store = rt_store(w->ctx, kinds[k]);
    cache_list owned = {0};
    if (store && uid) cache_store_by_index(store, CACHE_INDEX_OWNER, uid, &owned);
    for (size_t i = 0; i < owned.len && w->rc == 0; i++) {
      const char *rev = json_string_value(json_object_get(js_get(owned.items[i], "metadata.labels"), INFERENCE_REVISION_LABEL));
      if (rev == NULL || strcmp(js_name(owned.items[i]), rev) != 0) continue; /* the main Service */
      int kept = 0;
      for (size_t j = 0; j < plan->nkeep; j++) kept |= strcmp(plan->keep[j], rev) == 0;
      if (kept || js_get(owned.items[i], "metadata.deletionTimestamp")) continue;
      int rc = kube_delete(w->ctx->client, kinds[k], w->ns, rev, NULL, &w->st);
      if (rc == CUBIT_ENOTFOUND) rc = 0;
      note_failure(w, rc, "retiring a revision");
      if (rc == 0 && k == 0)
        rt_event(w->ctx->events, w->isvc, "Normal", "RevisionRetired", "revision %s deleted: no traffic routes to it", rev);
    }
    cache_list_free(&owned);
  }
}

static char *service_url(const json_t *isvc, const inference_spec *s, const inference_ctl *ic, int istio) {
  if (!istio) return xasprintf("http://%s.%s.svc.%s", js_name(isvc), js_namespace(isvc), ic->cluster_domain);
  const char *host = json_string_value(json_array_get(s->hosts, 0));
  if (s->gateway && host && strchr(host, '*') == NULL) return xasprintf("http://%s%s", host, s->path_prefix);
  return xasprintf("http://%s.%s.svc.%s%s", js_name(isvc), js_namespace(isvc), ic->cluster_domain, s->path_prefix);
}

static rt_result invalid_spec(const rt_ctx *ctx, const json_t *isvc, const char *err) {
  json_t *status = status_base(isvc);
  json_int_t gen = js_int(isvc, "metadata.generation", 0);
  rt_condition_set(status, "Ready", "False", "InvalidSpec", err, gen, time_wall_s());
  rt_event(ctx->events, isvc, "Warning", "InvalidSpec", "%s", err);
  rt_result r = write_status(ctx, isvc, status);
  return r.kind == RT_OK ? rt_ok() : r; /* retrying cannot fix the spec; its next edit will */
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const inference_ctl *ic = ctx->arg;
  cache_store *isvcs = rt_store(ctx, &inference_resource), *deps = rt_store(ctx, &kube_deployments),
              *svcs = rt_store(ctx, &kube_services), *hpas = rt_store(ctx, &kube_hpas);
  if (isvcs == NULL || deps == NULL || svcs == NULL || hpas == NULL) return rt_requeue_after(5000);
  json_t *isvc = cache_store_get(isvcs, req->ns, req->name);
  if (isvc == NULL) return rt_ok();
  if (js_get(isvc, "metadata.deletionTimestamp")) { /* garbage collection takes the children */
    json_decref(isvc);
    return rt_ok();
  }
  int64_t now = time_wall_s();
  json_int_t gen = js_int(isvc, "metadata.generation", 0);
  inference_spec spec;
  char err[512];
  if (inference_spec_parse(isvc, &spec, err, sizeof(err))) {
    rt_result r = invalid_spec(ctx, isvc, err);
    json_decref(isvc);
    return r;
  }
  work w = {ctx, ic, isvc, req->ns, {0}, 0, ""};
  int istio = rt_api_available(ctx, &inference_virtualservices) && rt_api_available(ctx, &inference_destinationrules);

  /* Revisions: named by their templates, so an unchanged spec never rolls. */
  json_t *tmpl_s = inference_pod_template(isvc, &spec.stable, &ic->cfg), *tmpl_c = NULL;
  char rev_s[INFERENCE_REVISION_LEN], rev_c[INFERENCE_REVISION_LEN] = "";
  inference_revision_name(isvc, tmpl_s, rev_s);
  if (spec.has_canary) {
    tmpl_c = inference_pod_template(isvc, &spec.canary, &ic->cfg);
    inference_revision_name(isvc, tmpl_c, rev_c);
  }
  int canary_rev = rev_c[0] && strcmp(rev_c, rev_s) != 0;

  /* What serves now, and the plan. */
  json_t *live_vs = NULL;
  if (istio) {
    cache_store *vss = rt_store(ctx, &inference_virtualservices);
    live_vs = vss ? cache_store_get(vss, req->ns, req->name) : NULL;
    if (live_vs && !rt_is_controlled_by(live_vs, isvc)) {
      json_decref(live_vs);
      live_vs = NULL;
    }
  }
  json_t *live_svc = cache_store_get(svcs, req->ns, req->name);
  inference_plan_input in = {0};
  revision_state(deps, req->ns, rev_s, &in.stable);
  in.has_canary = canary_rev;
  if (canary_rev) revision_state(deps, req->ns, rev_c, &in.canary);
  in.canary_percent = spec.canary_percent;
  in.nserving = serving_now(live_vs, live_vs ? NULL : live_svc, in.serving);
  for (size_t i = 0; i < in.nserving; i++) revision_state(deps, req->ns, in.serving[i].revision, &in.serving_state[i]);
  inference_plan plan;
  inference_plan_routes(&in, &plan);
  inference_revision_state serving_stable = in.stable;
  for (size_t i = 0; i < in.nserving; i++)
    if (strcmp(in.serving[i].revision, plan.serving_stable) == 0) serving_stable = in.serving_state[i];

  /* The HPA's floor now, from the schedule. */
  int floor = spec.stable.min_replicas, window = -1;
  int64_t next = INT64_MAX;
  char why[300] = "";
  if (inference_schedule_floor(&spec, now, &floor, &window, &next, why, sizeof(why)))
    log_warn("inferenceservice", "schedule unreadable; using the base floor", "key=%s error=\"%s\"", req->key, why);

  /* The stable revision starts at the scale of the one it replaces. */
  int base = in.stable.exists ? in.stable.replicas
                              : (strcmp(plan.serving_stable, rev_s) != 0 ? serving_stable.replicas : floor);
  int replicas_s = base < floor ? floor : base > spec.stable.max_replicas ? spec.stable.max_replicas : base;
  apply_revision(&w, rev_s, tmpl_s, replicas_s, &spec);
  if (canary_rev && w.rc == 0) apply_revision(&w, rev_c, tmpl_c, spec.canary.min_replicas, &spec);

  /* Routes: Istio splits by subset; without it the Service pins the stable. */
  apply_result res;
  int routes_wrote = 0;
  if (w.rc == 0) {
    int rc = apply_child(ctx, &kube_services, isvc,
                         inference_desired_service(isvc, &spec, req->name, istio ? NULL : plan.serving_stable), &res,
                         &w.st);
    note_failure(&w, rc, "Service");
    routes_wrote |= res.wrote && !istio;
  }
  if (w.rc == 0 && istio) {
    char subsets[8][INFERENCE_REVISION_LEN];
    size_t n = 0;
    for (size_t i = 0; i < plan.nkeep; i++) snprintf(subsets[n++], INFERENCE_REVISION_LEN, "%s", plan.keep[i]);
    /* Subsets the live routes still name stay until the routes move. */
    for (size_t i = 0; i < in.nserving && n < 8; i++) {
      int dup = 0;
      for (size_t j = 0; j < n; j++) dup |= strcmp(subsets[j], in.serving[i].revision) == 0;
      if (!dup && in.serving_state[i].exists) snprintf(subsets[n++], INFERENCE_REVISION_LEN, "%s", in.serving[i].revision);
    }
    int rc = apply_child(ctx, &inference_destinationrules, isvc,
                         inference_desired_destination_rule(isvc, &ic->cfg, subsets, n), &res, &w.st);
    note_failure(&w, rc, "DestinationRule");
    if (rc == 0) {
      rc = apply_child(ctx, &inference_virtualservices, isvc,
                       inference_desired_virtual_service(isvc, &spec, &ic->cfg, plan.routes, plan.nroutes,
                                                         canary_rev ? rev_c : NULL),
                       &res, &w.st);
      note_failure(&w, rc, "VirtualService");
      routes_wrote |= res.wrote;
    }
  }
  inference_route now_routes[2];
  size_t nnow = plan.nroutes;
  memcpy(now_routes, plan.routes, sizeof(now_routes));
  if (!istio) { /* the Service sends everything to one revision */
    nnow = 1;
    now_routes[0].weight = 100;
  }
  if (w.rc == 0 && routes_wrote && !same_routes(in.serving, in.nserving, now_routes, nnow)) {
    char text[256];
    routes_text(now_routes, nnow, text, sizeof(text));
    rt_event(ctx->events, isvc, "Normal", "TrafficShifted", "traffic: %s", text);
  }

  /* Autoscaling: one HPA on the revision serving the stable share. */
  json_t *live_hpa = cache_store_get(hpas, req->ns, req->name);
  int hpa_ok = 0;
  if (w.rc == 0) {
    int rc = apply_child(ctx, &kube_hpas, isvc, inference_desired_hpa(isvc, &spec, plan.serving_stable, floor), &res,
                         &w.st);
    note_failure(&w, rc, "HorizontalPodAutoscaler");
    hpa_ok = rc == 0;
    json_int_t was = js_int(live_hpa, "spec.minReplicas", -1);
    if (rc == 0 && live_hpa && was != floor && rt_is_controlled_by(live_hpa, isvc)) {
      if (window >= 0)
        rt_event(ctx->events, isvc, "Normal", "ScheduledScaling", "HPA minReplicas %lld -> %d (window %d, %s)",
                 (long long)was, floor, window, spec.windows[window].time_zone);
      else
        rt_event(ctx->events, isvc, "Normal", "ScheduledScaling", "HPA minReplicas %lld -> %d (no window active)",
                 (long long)was, floor);
    }
  }

  /* Only now that the routes name the new revisions: retire the rest. */
  if (w.rc == 0) retire(&w, &plan);

  /* Status. */
  json_t *status = status_base(isvc);
  char *url = service_url(isvc, &spec, ic, istio);
  json_object_set_new(status, "url", json_string(url));
  free(url);
  json_t *revisions = json_array();
  int traffic_stable = istio ? traffic_of(&plan, plan.serving_stable) : 100;
  add_revision(revisions, &in.stable, "stable", strcmp(plan.serving_stable, rev_s) == 0 ? traffic_stable : 0);
  if (canary_rev) add_revision(revisions, &in.canary, "canary", istio ? traffic_of(&plan, rev_c) : 0);
  if (strcmp(plan.serving_stable, rev_s) != 0) add_revision(revisions, &serving_stable, "previous", traffic_stable);
  json_object_set_new(status, "revisions", revisions);

  char msg[1400];
  if (w.rc) {
    snprintf(msg, sizeof(msg), "%s: %s", w.failed, w.st.message[0] ? w.st.message : cubit_strerror(w.rc));
    rt_condition_set(status, "Ready", "False", "ReconcileFailed", msg, gen, now);
  } else if (serving_stable.available) {
    snprintf(msg, sizeof(msg), "revision %s serves with %d ready replicas", plan.serving_stable,
             serving_stable.ready_replicas);
    rt_condition_set(status, "Ready", "True", "Serving", msg, gen, now);
  } else {
    snprintf(msg, sizeof(msg), "revision %s has no available replicas yet", plan.serving_stable);
    rt_condition_set(status, "Ready", "False", "RevisionNotReady", msg, gen, now);
  }

  int wants_split = canary_rev || spec.mirror || spec.gateway || json_array_size(spec.hosts);
  char routes[256];
  routes_text(now_routes, nnow, routes, sizeof(routes));
  if (w.rc) {
    rt_condition_set(status, "RoutesReady", "False", "ReconcileFailed", msg, gen, now);
  } else if (!istio && wants_split) {
    snprintf(msg, sizeof(msg), "traffic splitting needs Istio (networking.istio.io VirtualService and "
             "DestinationRule are not served): Service %s sends all traffic to revision %s%s", req->name,
             plan.serving_stable, canary_rev ? "; the canary gets none" : "");
    if (rt_condition_set(status, "RoutesReady", "False", "IstioUnavailable", msg, gen, now))
      rt_event(ctx->events, isvc, "Warning", "IstioUnavailable", "%s", msg);
  } else if (!istio) {
    snprintf(msg, sizeof(msg), "Service %s routes to revision %s (Istio not installed)", req->name, plan.serving_stable);
    rt_condition_set(status, "RoutesReady", "True", "ServiceRoutes", msg, gen, now);
  } else if (strcmp(plan.serving_stable, rev_s) != 0) {
    snprintf(msg, sizeof(msg), "revision %s is rolling out; %s keeps serving: %s", rev_s, plan.serving_stable, routes);
    rt_condition_set(status, "RoutesReady", "False", "RolloutInProgress", msg, gen, now);
  } else if (canary_rev && !plan.canary_routed) {
    snprintf(msg, sizeof(msg), "canary %s is not rolled out; its %d%% goes to %s for now", rev_c, spec.canary_percent,
             rev_s);
    rt_condition_set(status, "RoutesReady", "False", "CanaryNotReady", msg, gen, now);
  } else {
    size_t off = (size_t)snprintf(msg, sizeof(msg), "%s", routes);
    if (spec.mirror && off < sizeof(msg))
      snprintf(msg + off, sizeof(msg) - off, "; mirror %d%% to %s", spec.mirror_percent,
               spec.mirror_service ? spec.mirror_service : rev_c);
    rt_condition_set(status, "RoutesReady", "True", "RoutesApplied", msg, gen, now);
  }

  json_t *scaling_active = NULL;
  size_t ci;
  json_t *c;
  json_array_foreach(js_get(live_hpa, "status.conditions"), ci, c) {
    if (js_str(c, "type") && strcmp(js_str(c, "type"), "ScalingActive") == 0) scaling_active = c;
  }
  char floor_text[200];
  if (window >= 0)
    snprintf(floor_text, sizeof(floor_text), "minReplicas %d from schedule[%d] (%02d:%02d-%02d:%02d %s)", floor,
             window, spec.windows[window].start / 60, spec.windows[window].start % 60, spec.windows[window].end / 60,
             spec.windows[window].end % 60, spec.windows[window].time_zone);
  else snprintf(floor_text, sizeof(floor_text), "minReplicas %d", floor);
  if (!hpa_ok) {
    rt_condition_set(status, "Autoscaling", "False", "HPANotApplied", w.rc ? msg : "not applied", gen, now);
  } else if (scaling_active && js_str(scaling_active, "status") && strcmp(js_str(scaling_active, "status"), "False") == 0) {
    snprintf(msg, sizeof(msg), "%s, maxReplicas %d; the HPA reports %s: %s", floor_text, spec.stable.max_replicas,
             js_str(scaling_active, "reason") ? js_str(scaling_active, "reason") : "",
             js_str(scaling_active, "message") ? js_str(scaling_active, "message") : "");
    rt_condition_set(status, "Autoscaling", "False", "ScalingInactive", msg, gen, now);
  } else {
    snprintf(msg, sizeof(msg), "HPA %s on %s: %s, maxReplicas %d", req->name, plan.serving_stable, floor_text,
             spec.stable.max_replicas);
    rt_condition_set(status, "Autoscaling", "True", window >= 0 ? "ScheduledFloor" : "BaseFloor", msg, gen, now);
  }
  rt_result result = write_status(ctx, isvc, status);
  /* A namespace being deleted takes the InferenceService with it: its
   * creations are refused, and there is nothing to retry. */
  int ns_gone = w.rc == CUBIT_EFORBIDDEN && strstr(w.st.message, "because it is being terminated");
  if (ns_gone) {
    result = rt_ok();
  } else if (w.rc) {
    log_warn("inferenceservice", "reconcile failed", "key=%s step=\"%s\" error=%s message=\"%s\"", req->key, w.failed,
             cubit_strerror(w.rc), w.st.message);
    result = w.rc == CUBIT_EALREADYEXISTS ? rt_requeue_after(60000) : rt_result_for_error(w.rc, &w.st);
  } else if (spec.nwindows && next != INT64_MAX && result.kind == RT_OK) {
    /* The cron HPA: look again just after the next window boundary. */
    int64_t ms = (next - now) * 1000 + 1000;
    result = rt_requeue_after(ms < 1000 ? 1000 : ms > 86400000 ? 86400000 : ms);
  }
  json_decref(live_hpa);
  json_decref(live_svc);
  json_decref(live_vs);
  json_decref(tmpl_s);
  json_decref(tmpl_c);
  inference_spec_free(&spec);
  json_decref(isvc);
  return result;
}

/* ---------------------------------------------------------- register */

static void ctl_free(void *arg) {
  free(arg);
}

int inference_controller_register(rt_manager *m, const json_t *settings) {
  inference_ctl *ic = xcalloc(1, sizeof(*ic));
  const char *image = js_str(settings, "storageInitializerImage"), *domain = js_str(settings, "clusterDomain");
  snprintf(ic->storage_initializer, sizeof(ic->storage_initializer), "%s",
           image ? image : INFERENCE_DEFAULT_STORAGE_INITIALIZER);
  snprintf(ic->cluster_domain, sizeof(ic->cluster_domain), "%s", domain ? domain : "cluster.local");
  ic->cfg.storage_initializer = ic->storage_initializer;
  ic->cfg.cluster_domain = ic->cluster_domain;
  rt_controller_def def = {0};
  def.name = "inferenceservice";
  def.primary = &inference_resource;
  def.owns[0] = &kube_deployments;
  def.owns[1] = &kube_services;
  def.owns[2] = &kube_hpas;
  def.owns[3] = &inference_destinationrules;
  def.owns[4] = &inference_virtualservices;
  def.workers = 2;
  def.reconcile = reconcile;
  def.arg = ic;
  def.free_arg = ctl_free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) free(ic);
  return rc;
}
