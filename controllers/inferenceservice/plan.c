/* isvc_plan: an InferenceService's reconcile, decided as a pure function
 * of what the reconciler read from the cache. The steps, in order:
 *
 *   remote_cleanup    deleted while its children live in a member: they go
 *                     there, then the finalizer (controllers/cluster/placement)
 *   invalid_spec      a spec the parser refuses: Failed, children left alone
 *   place             no cluster yet: spec.cluster or the policy, written
 *                     alone before any child (controllers/cluster/placement)
 *   member away       the member it serves in is not ready: ClusterReachable
 *                     False, the rest of the status as last seen
 *   observe           the revisions named by their templates, what serves
 *                     now, the routes to write and the routes intended
 *   name_conflict     a child's name held by an object this InferenceService
 *                     does not control: never taken over, nothing applied
 *   plan_revisions    the stable and canary revisions' Deployments, Services
 *   plan_routing      the main Service, DestinationRule and VirtualService
 *   plan_autoscaling  the HPA on the revision serving the stable share
 *   plan_cleanup      revisions nothing routes to any more (deleted after
 *                     the routes are written: the executor acts in order and
 *                     stops at the first failure)
 *   plan_status       LatestRevisionReady, PredictorReady, RoutesReady and
 *                     Autoscaling from what was observed, Ready as all of
 *                     the first three, the phase, warnings and requeue
 *
 * Placed on a member, every exit that writes a status (set_status) also
 * relays the member's new Warnings about the Deployments and pods there.
 *
 * Events are decided against the status the last reconcile wrote, so a
 * reconcile that reads a cache not yet showing its own writes repeats none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/member_events.h"
#include "runtime/status.h"
#include "util/alloc.h"
#include "util/json.h"

#define MSG_MAX 2048

static const placement_words isvc_words = {
    .noun = "InferenceService", .demand = "every replica", .label = INFERENCE_LABEL};

typedef struct work {
  const isvc_observed *in;
  const char *member;      /* the member cluster its children live in; NULL = the hub */
  int member_ready;        /* that member answers and its caches have listed */
  placement_step place;    /* the shared placement steps' view of this plan */
  const json_t *isvc;
  const inference_spec *s;
  const json_t *prev; /* the status the last reconcile wrote (borrowed) */
  json_int_t gen;
  json_t *tmpl_s, *tmpl_c; /* owned */
  char rev_s[INFERENCE_REVISION_LEN], rev_c[INFERENCE_REVISION_LEN];
  int canary;                        /* a canary revision other than the stable one */
  inference_route_input rin;
  inference_route_plan rp;           /* the routes written now */
  inference_route_plan intended;     /* the routes once every revision is rolled out */
  inference_revision_state serving;  /* the revision serving the stable share */
  inference_route routes[2];         /* what the routing layer carries after this plan */
  size_t nroutes;
  int replicas_s;
  char conflict[300];
} work;

/* One condition decided: True or why not, with the pods' verdict behind it
 * when a revision holds it back. */
typedef struct decision {
  int ok;
  char reason[64];
  char message[MSG_MAX];
  inference_verdict v; /* meaningful when !ok and the revision's pods were asked */
} decision;

/* ------------------------------------------------------------ lookups */

static const json_t *named(const json_t *list, const char *name) {
  size_t i;
  json_t *o;
  json_array_foreach(list, i, o) {
    if (js_name(o) && strcmp(js_name(o), name) == 0) return o;
  }
  return NULL;
}

/* Is o this InferenceService's own child? In the hub by its controller
 * ownerReference; in a member, where none can point to the hub, by the
 * owner-uid label its children there carry. */
static int owns(const work *w, const json_t *o) {
  return w->member ? placement_labelled_for(w->isvc, o) : rt_is_controlled_by(o, w->isvc);
}

/* The live child of that name if this InferenceService controls it. */
static const json_t *controlled(const work *w, const json_t *list, const char *name) {
  const json_t *o = named(list, name);
  return o && owns(w, o) ? o : NULL;
}

static const json_t *controlled_one(const work *w, const json_t *o) {
  return o && owns(w, o) ? o : NULL;
}

/* Plans 'desired' (stolen) where the children live: in a member with the
 * labels back to the hub object instead of an ownerReference. */
static void child_apply(const work *w, rt_plan *out, const kube_resource *r, json_t *desired) {
  rt_plan_apply_in(out, w->member, r, w->member ? placement_for_member(&w->place, desired) : desired);
}

static const json_t *prev_revision(const work *w, const char *name) {
  return js_named(js_get(w->prev, "revisions"), name);
}

static const char *cond_field(const json_t *status, const char *type, const char *field) {
  return js_str(rt_condition_get(status, type), field);
}

static int str_same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static void routes_text(const inference_route *r, size_t n, char *out, size_t len) {
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && off < len; i++) {
    int k = snprintf(out + off, len - off, "%s%s %d%%", i ? ", " : "", r[i].revision, r[i].weight);
    if (k < 0) break;
    off += (size_t)k;
  }
}

static int same_routes(const inference_route_plan *a, const inference_route_plan *b) {
  if (a->nroutes != b->nroutes) return 0;
  for (size_t i = 0; i < a->nroutes; i++)
    if (strcmp(a->routes[i].revision, b->routes[i].revision) != 0 || a->routes[i].weight != b->routes[i].weight)
      return 0;
  return 1;
}

static int traffic_of(const work *w, const char *rev) {
  for (size_t i = 0; i < w->nroutes; i++)
    if (strcmp(w->routes[i].revision, rev) == 0) return w->routes[i].weight;
  return 0;
}

/* Hands the status decided to the plan, with what went wrong in the member
 * it serves in: each new Warning there relayed once, the newest kept in
 * status.memberWarnings (while the member is away its Events are as last
 * seen: nothing new, the field as last written). Every exit that writes a
 * status goes through here. */
static void set_status(const work *w, rt_plan *out, json_t *status) {
  if (w->member && w->member_ready)
    rt_plan_relay_member_events(out, status, w->member, w->in->member_events, w->in->nmember_events);
  rt_plan_set_status(out, status);
}

/* --------------------------------------------------------- invalid spec */

static void invalid_spec(const work *w, rt_plan *out) {
  const isvc_observed *in = w->in;
  const json_t *prev = json_object_get(in->isvc, "status");
  json_t *status = rt_status_from(in->isvc);
  json_int_t gen = js_int(in->isvc, "metadata.generation", 0);
  /* Retrying cannot fix the spec; its next edit will (a new generation). */
  rt_status_set_state(status, "Failed", RT_STATE_FAILED, "InvalidSpec", in->spec_error, gen, in->now);
  if (!str_same(cond_field(prev, "Ready", "reason"), "InvalidSpec") ||
      !str_same(cond_field(prev, "Ready", "message"), in->spec_error))
    rt_plan_event(out, "Warning", "InvalidSpec", "%s", in->spec_error);
  set_status(w, out, status);
}

/* -------------------------------------------------------------- observe */

/* What serves now: the live VirtualService's weighted subsets, heaviest
 * first, or the revision the main Service selects. */
static size_t serving_now(const json_t *vs, const json_t *svc, inference_route out[4]) {
  size_t n = 0, i;
  json_t *d;
  const json_t *routes = js_get(json_array_get(js_get(vs, "spec.http"), 0), "route");
  json_array_foreach(routes, i, d) {
    const char *subset = js_str(d, "destination.subset");
    if (subset == NULL || n == 4) continue;
    snprintf(out[n].revision, sizeof(out[n].revision), "%s", subset);
    out[n].weight = (int)js_int(d, "weight", json_array_size(routes) == 1 ? 100 : 0);
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

static void observe(work *w) {
  const isvc_observed *in = w->in;
  const inference_spec *s = w->s;
  /* Revisions are named by their templates, so an unchanged spec never rolls. */
  w->tmpl_s = inference_pod_template(w->isvc, &s->stable, in->cfg, in->in_project);
  inference_revision_name(w->isvc, w->tmpl_s, w->rev_s);
  if (s->has_canary) {
    w->tmpl_c = inference_pod_template(w->isvc, &s->canary, in->cfg, in->in_project);
    inference_revision_name(w->isvc, w->tmpl_c, w->rev_c);
  }
  w->canary = w->rev_c[0] && strcmp(w->rev_c, w->rev_s) != 0;

  inference_route_input *r = &w->rin;
  inference_revision_state_of(controlled(w, in->deployments, w->rev_s), w->rev_s, &r->stable);
  r->has_canary = w->canary;
  if (w->canary) inference_revision_state_of(controlled(w, in->deployments, w->rev_c), w->rev_c, &r->canary);
  r->canary_percent = s->canary_percent;
  const json_t *vs = in->istio ? controlled_one(w, in->virtual_service) : NULL;
  r->nserving = serving_now(vs, vs ? NULL : controlled(w, in->services, js_name(w->isvc)), r->serving);
  for (size_t i = 0; i < r->nserving; i++)
    inference_revision_state_of(controlled(w, in->deployments, r->serving[i].revision), r->serving[i].revision,
                                &r->serving_state[i]);
  inference_plan_routes(r, &w->rp);

  /* The routes once every revision the spec asks for is rolled out. */
  inference_route_input done = *r;
  done.stable.exists = done.stable.available = done.stable.rolled_out = 1;
  done.canary.exists = done.canary.available = done.canary.rolled_out = 1;
  inference_plan_routes(&done, &w->intended);

  w->serving = r->stable;
  for (size_t i = 0; i < r->nserving; i++)
    if (strcmp(r->serving[i].revision, w->rp.serving_stable) == 0) w->serving = r->serving_state[i];

  /* The stable revision starts at the scale of the one it replaces, and
   * then follows the HPA within [floor, max]. */
  int base = r->stable.exists ? r->stable.replicas
                              : (strcmp(w->rp.serving_stable, w->rev_s) != 0 ? w->serving.replicas : in->floor);
  w->replicas_s = base < in->floor ? in->floor : base > s->stable.max_replicas ? s->stable.max_replicas : base;

  /* Istio splits by subset; without it the Service sends everything to one revision. */
  if (in->istio) {
    w->nroutes = w->rp.nroutes;
    memcpy(w->routes, w->rp.routes, sizeof(w->routes));
  } else {
    w->nroutes = 1;
    w->routes[0] = w->rp.routes[0];
    w->routes[0].weight = 100;
  }
}

/* -------------------------------------------------------- name conflict */

static int conflicts(work *w, const json_t *live, const char *kind, const char *name) {
  if (w->conflict[0] || live == NULL || owns(w, live)) return w->conflict[0] != 0;
  snprintf(w->conflict, sizeof(w->conflict), "%s %s exists and is not controlled by this InferenceService", kind,
           name);
  return 1;
}

static int name_conflict(work *w) {
  const isvc_observed *in = w->in;
  const char *name = js_name(w->isvc);
  conflicts(w, named(in->deployments, w->rev_s), "Deployment", w->rev_s);
  conflicts(w, named(in->services, w->rev_s), "Service", w->rev_s);
  if (w->canary) {
    conflicts(w, named(in->deployments, w->rev_c), "Deployment", w->rev_c);
    conflicts(w, named(in->services, w->rev_c), "Service", w->rev_c);
  }
  conflicts(w, named(in->services, name), "Service", name);
  conflicts(w, in->hpa, "HorizontalPodAutoscaler", name);
  if (in->istio) {
    conflicts(w, in->destination_rule, "DestinationRule", name);
    conflicts(w, in->virtual_service, "VirtualService", name);
  }
  return w->conflict[0] != 0;
}

/* ----------------------------------------------------------- revisions */

static void plan_revision(work *w, rt_plan *out, const char *rev, const json_t *tmpl, int replicas) {
  child_apply(w, out, &kube_deployments, inference_desired_deployment(w->isvc, rev, tmpl, replicas));
  child_apply(w, out, &kube_services, inference_desired_service(w->isvc, w->s, rev, rev));
  if (controlled(w, w->in->deployments, rev) == NULL && prev_revision(w, rev) == NULL)
    rt_plan_event(out, "Normal", "RevisionCreated", "revision %s created with %d replicas", rev, replicas);
}

static void plan_revisions(work *w, rt_plan *out) {
  plan_revision(w, out, w->rev_s, w->tmpl_s, w->replicas_s);
  if (w->canary) plan_revision(w, out, w->rev_c, w->tmpl_c, w->s->canary.min_replicas);
}

/* ------------------------------------------------------------- routing */

/* The routes the last status recorded, compared by the revisions that
 * get traffic. */
static int routes_changed(const work *w) {
  size_t recorded = 0, i;
  json_t *r;
  json_array_foreach(js_get(w->prev, "revisions"), i, r) {
    if (js_int(r, "trafficPercent", 0) > 0) recorded++;
  }
  size_t now = 0;
  for (i = 0; i < w->nroutes; i++) {
    if (w->routes[i].weight <= 0) continue;
    now++;
    if (js_int(prev_revision(w, w->routes[i].revision), "trafficPercent", -1) != w->routes[i].weight) return 1;
  }
  return now != recorded;
}

static void plan_routing(work *w, rt_plan *out) {
  const isvc_observed *in = w->in;
  child_apply(w, out, &kube_services,
                inference_desired_service(w->isvc, w->s, js_name(w->isvc), in->istio ? NULL : w->rp.serving_stable));
  if (in->istio) {
    char subsets[8][INFERENCE_REVISION_LEN];
    size_t n = 0;
    for (size_t i = 0; i < w->rp.nkeep; i++) snprintf(subsets[n++], INFERENCE_REVISION_LEN, "%s", w->rp.keep[i]);
    /* Subsets the live routes still name stay until the routes move. */
    for (size_t i = 0; i < w->rin.nserving && n < 8; i++) {
      int dup = 0;
      for (size_t j = 0; j < n; j++) dup |= strcmp(subsets[j], w->rin.serving[i].revision) == 0;
      if (!dup && w->rin.serving_state[i].exists)
        snprintf(subsets[n++], INFERENCE_REVISION_LEN, "%s", w->rin.serving[i].revision);
    }
    child_apply(w, out, &inference_destinationrules, inference_desired_destination_rule(w->isvc, in->cfg, subsets, n));
    child_apply(w, out, &inference_virtualservices,
                  inference_desired_virtual_service(w->isvc, w->s, in->cfg, w->rp.routes, w->rp.nroutes,
                                                    w->canary ? w->rev_c : NULL));
  }
  if (routes_changed(w)) {
    char text[256];
    routes_text(w->routes, w->nroutes, text, sizeof(text));
    rt_plan_event(out, "Normal", "TrafficShifted", "traffic: %s", text);
  }
}

/* --------------------------------------------------------- autoscaling */

static void plan_autoscaling(work *w, rt_plan *out) {
  const isvc_observed *in = w->in;
  child_apply(w, out, &kube_hpas, inference_desired_hpa(w->isvc, w->s, w->rp.serving_stable, in->floor));
  json_int_t was = js_int(w->prev, "autoscaling.minReplicas", -1);
  if (was >= 0 && was != in->floor) {
    if (in->window >= 0)
      rt_plan_event(out, "Normal", "ScheduledScaling", "HPA minReplicas %lld -> %d (window %d, %s)", (long long)was,
                    in->floor, in->window, w->s->windows[in->window].time_zone);
    else
      rt_plan_event(out, "Normal", "ScheduledScaling", "HPA minReplicas %lld -> %d (no window active)",
                    (long long)was, in->floor);
  }
  /* The cron HPA: look again just after the next window boundary. */
  if (w->s->nwindows && in->next_boundary != INT64_MAX) {
    int64_t ms = (in->next_boundary - in->now) * 1000 + 1000;
    rt_plan_requeue_after(out, ms < 1000 ? 1000 : ms > 86400000 ? 86400000 : ms);
  }
}

/* ------------------------------------------------------------- cleanup */

static int kept(const work *w, const char *rev) {
  for (size_t i = 0; i < w->rp.nkeep; i++)
    if (strcmp(w->rp.keep[i], rev) == 0) return 1;
  return 0;
}

/* Revisions (Deployment and Service) the routes no longer name. Planned
 * after the routes, so they are deleted only once those were written. */
static void plan_cleanup(work *w, rt_plan *out) {
  const json_t *lists[2] = {w->in->deployments, w->in->services};
  const kube_resource *kinds[2] = {&kube_deployments, &kube_services};
  for (int k = 0; k < 2; k++) {
    size_t i;
    json_t *o;
    json_array_foreach(lists[k], i, o) {
      const char *rev = json_string_value(json_object_get(js_get(o, "metadata.labels"), INFERENCE_REVISION_LABEL));
      /* Only a revision's own children; the main Service has no such name. */
      if (rev == NULL || strcmp(js_name(o), rev) != 0 || !owns(w, o)) continue;
      if (kept(w, rev) || js_get(o, "metadata.deletionTimestamp")) continue;
      rt_plan_delete_in(out, w->member, kinds[k], o, NULL);
      if (k == 0 && prev_revision(w, rev))
        rt_plan_event(out, "Normal", "RevisionRetired", "revision %s deleted: no traffic routes to it", rev);
    }
  }
}

/* -------------------------------------------------------------- status */

static char *service_url(const work *w) {
  const json_t *isvc = w->isvc;
  const char *domain = w->in->cfg->cluster_domain;
  if (!w->in->istio) return xasprintf("http://%s.%s.svc.%s", js_name(isvc), js_namespace(isvc), domain);
  const char *host = json_string_value(json_array_get(w->s->hosts, 0));
  if (w->s->gateway && host && strchr(host, '*') == NULL) return xasprintf("http://%s%s", host, w->s->path_prefix);
  return xasprintf("http://%s.%s.svc.%s%s", js_name(isvc), js_namespace(isvc), domain, w->s->path_prefix);
}

static void add_revision(json_t *list, const work *w, const inference_revision_state *st, const char *role) {
  if (js_named(list, st->name)) return;
  json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:i}", "name", st->name, "role", role, "readyReplicas",
                                        st->ready_replicas, "trafficPercent", traffic_of(w, st->name)));
}

/* The revisions kept, the floor in force and the URL. */
static void status_fields(const work *w, json_t *status) {
  char *url = service_url(w);
  json_object_set_new(status, "url", json_string(url));
  free(url);
  json_t *revisions = json_array();
  add_revision(revisions, w, &w->rin.stable, "stable");
  if (w->canary) add_revision(revisions, w, &w->rin.canary, "canary");
  if (strcmp(w->rp.serving_stable, w->rev_s) != 0) add_revision(revisions, w, &w->serving, "previous");
  json_object_set_new(status, "revisions", revisions);
  json_t *as = json_pack("{s:i, s:i}", "minReplicas", w->in->floor, "maxReplicas", w->s->stable.max_replicas);
  if (w->in->window >= 0) json_object_set_new(as, "window", json_integer(w->in->window));
  json_object_set_new(status, "autoscaling", as);
}

/* Why 'st' is not rolled out: its counts and its pods' own words. */
static void revision_verdict(const work *w, const inference_revision_state *st, const char *what, decision *out) {
  inference_revision_verdict(controlled(w, w->in->deployments, st->name), w->in->pods, st->name, w->in->now, &out->v);
  out->ok = 0;
  snprintf(out->reason, sizeof(out->reason), "%s", out->v.reason);
  snprintf(out->message, sizeof(out->message), "%s %s: %d/%d replicas available; %s", what, st->name,
           st->available_replicas, st->replicas > 0 ? st->replicas : 1, out->v.message);
}

/* LatestRevisionReady: the revisions the spec asks for are in service: the
 * stable one serves the stable share with available replicas (a new one
 * takes it over once rolled out), the canary is rolled out and routed. A
 * revision already in service stays ready while the HPA adds pods that
 * wait: only a revision that has not taken over yet is held back by them. */
static void latest_revision(const work *w, decision *out) {
  memset(out, 0, sizeof(*out));
  if (strcmp(w->rp.serving_stable, w->rev_s) != 0 || !w->rin.stable.available) {
    revision_verdict(w, &w->rin.stable, "revision", out);
    return;
  }
  if (w->canary && !w->rp.canary_routed) {
    revision_verdict(w, &w->rin.canary, "canary revision", out);
    return;
  }
  out->ok = 1;
  snprintf(out->reason, sizeof(out->reason), "RolledOut");
  int n = snprintf(out->message, sizeof(out->message), "revision %s: %d/%d replicas available", w->rev_s,
                   w->rin.stable.available_replicas, w->rin.stable.replicas);
  if (w->canary && n > 0 && (size_t)n < sizeof(out->message))
    snprintf(out->message + n, sizeof(out->message) - (size_t)n, "; canary revision %s: %d/%d", w->rev_c,
             w->rin.canary.available_replicas, w->rin.canary.replicas);
}

/* PredictorReady: the revision serving the stable share has available
 * replicas (the previous one while a new one rolls out). */
static void predictor(const work *w, decision *out) {
  memset(out, 0, sizeof(*out));
  if (!w->serving.available) {
    revision_verdict(w, &w->serving, "no revision serves yet: revision", out);
    return;
  }
  out->ok = 1;
  snprintf(out->reason, sizeof(out->reason), "Available");
  snprintf(out->message, sizeof(out->message), "revision %s serves with %d available replicas%s", w->serving.name,
           w->serving.available_replicas, strcmp(w->serving.name, w->rev_s) != 0 ? " (previous)" : "");
}

/* The routing facts of a VirtualService: per HTTP route its weighted
 * subsets and its mirror, numbers as integers whatever JSON type the API
 * server returned. New. */
static json_t *routing_facts(const json_t *vs) {
  json_t *facts = json_array();
  size_t i, j;
  json_t *h, *d;
  json_array_foreach(js_get(vs, "spec.http"), i, h) {
    json_t *dests = json_array();
    const json_t *route = json_object_get(h, "route");
    json_array_foreach(route, j, d) {
      json_t *weight = json_object_get(d, "weight");
      json_int_t wt = json_is_number(weight) ? (json_int_t)json_number_value(weight) : json_array_size(route) == 1 ? 100 : 0;
      json_array_append_new(dests, json_pack("[s?, I]", js_str(d, "destination.subset"), wt));
    }
    json_t *pct = js_get(h, "mirrorPercentage.value");
    json_array_append_new(facts, json_pack("{s:s?, s:o, s:s?, s:s?, s:I, s:I}", "name", js_str(h, "name"), "route",
                                           dests, "mirrorHost", js_str(h, "mirror.host"), "mirrorSubset",
                                           js_str(h, "mirror.subset"), "mirrorPort",
                                           js_int(h, "mirror.port.number", 0), "mirrorPercent",
                                           json_is_number(pct) ? (json_int_t)json_number_value(pct) : -1));
  }
  return facts;
}

static void routes_ok(const char *reason, decision *out) {
  out->ok = 1;
  snprintf(out->reason, sizeof(out->reason), "%s", reason);
}

/* RoutesReady without Istio: the main Service, the only routing there is,
 * selects the stable revision. True even when the spec asks for a split
 * it cannot do; the reason and message say what is missing. */
static void service_routes(const work *w, const char *pinned, decision *out) {
  const char *name = js_name(w->isvc);
  int wants_split = w->canary || w->s->mirror || w->s->gateway || json_array_size(w->s->hosts);
  if (!str_same(pinned, w->rev_s)) {
    snprintf(out->reason, sizeof(out->reason), "RoutesPending");
    snprintf(out->message, sizeof(out->message), "Service %s does not select revision %s yet", name, w->rev_s);
  } else if (wants_split) {
    routes_ok("IstioUnavailable", out);
    snprintf(out->message, sizeof(out->message),
             "traffic splitting needs Istio (networking.istio.io VirtualService and DestinationRule are not "
             "served): Service %s sends all traffic to revision %s%s",
             name, w->rev_s, w->canary ? "; the canary gets none" : "");
  } else {
    routes_ok("ServiceRoutes", out);
    snprintf(out->message, sizeof(out->message), "Service %s routes to revision %s (Istio not installed)", name,
             w->rev_s);
  }
}

/* RoutesReady with Istio: the live VirtualService carries the intended
 * weights and mirror, and the main Service pins no revision (a pin would
 * starve the other subsets). */
static void mesh_routes(const work *w, const char *pinned, const char *text, decision *out) {
  const isvc_observed *in = w->in;
  if (!same_routes(&w->rp, &w->intended)) {
    snprintf(out->reason, sizeof(out->reason), "CanaryNotReady");
    snprintf(out->message, sizeof(out->message), "canary %s is not rolled out; its %d%% goes to %s for now",
             w->rev_c, w->s->canary_percent, w->rev_s);
    return;
  }
  json_t *want = inference_desired_virtual_service(w->isvc, w->s, in->cfg, w->intended.routes, w->intended.nroutes,
                                                   w->canary ? w->rev_c : NULL);
  json_t *fw = routing_facts(want), *fl = routing_facts(controlled_one(w, in->virtual_service));
  int same = json_equal(fw, fl) && pinned == NULL;
  json_decref(fw);
  json_decref(fl);
  json_decref(want);
  if (!same) {
    snprintf(out->reason, sizeof(out->reason), "RoutesPending");
    snprintf(out->message, sizeof(out->message), "VirtualService %s does not carry the intended routes yet (%s%s%s)",
             js_name(w->isvc), text, pinned ? "; Service still pins revision " : "", pinned ? pinned : "");
    return;
  }
  routes_ok("RoutesApplied", out);
  int n = snprintf(out->message, sizeof(out->message), "%s", text);
  if (w->s->mirror && n > 0 && (size_t)n < sizeof(out->message))
    snprintf(out->message + n, sizeof(out->message) - (size_t)n, "; mirror %d%% to %s", w->s->mirror_percent,
             w->s->mirror_service ? w->s->mirror_service : w->rev_c);
}

/* RoutesReady: the live routing objects carry exactly the intended
 * weights. Read from the cache, so it turns True on the reconcile after
 * the one that wrote the routes. */
static void routes(const work *w, decision *out) {
  memset(out, 0, sizeof(*out));
  char text[256];
  routes_text(w->routes, w->nroutes, text, sizeof(text));
  if (strcmp(w->rp.serving_stable, w->rev_s) != 0) {
    snprintf(out->reason, sizeof(out->reason), "RolloutInProgress");
    snprintf(out->message, sizeof(out->message), "revision %s is rolling out; %s keeps serving: %s", w->rev_s,
             w->rp.serving_stable, text);
    return;
  }
  const json_t *svc = controlled(w, w->in->services, js_name(w->isvc));
  const char *pinned = json_string_value(json_object_get(js_get(svc, "spec.selector"), INFERENCE_REVISION_LABEL));
  if (w->in->istio) mesh_routes(w, pinned, text, out);
  else service_routes(w, pinned, out);
}

/* Autoscaling (not part of Ready): the floor in force and what the HPA
 * itself reports. */
static void autoscaling_condition(const work *w, json_t *status) {
  const isvc_observed *in = w->in;
  const inference_spec *s = w->s;
  char floor_text[300], msg[MSG_MAX];
  if (in->window >= 0) {
    const inference_window *win = &s->windows[in->window];
    snprintf(floor_text, sizeof(floor_text), "minReplicas %d from schedule[%d] (%02d:%02d-%02d:%02d %s)", in->floor,
             in->window, win->start / 60, win->start % 60, win->end / 60, win->end % 60, win->time_zone);
  } else {
    snprintf(floor_text, sizeof(floor_text), "minReplicas %d", in->floor);
  }
  const json_t *active = NULL;
  size_t i;
  json_t *c;
  json_array_foreach(js_get(controlled_one(w, in->hpa), "status.conditions"), i, c) {
    if (str_same(js_str(c, "type"), "ScalingActive")) active = c;
  }
  if (str_same(js_str(active, "status"), "False")) {
    snprintf(msg, sizeof(msg), "%s, maxReplicas %d; the HPA reports %s: %s", floor_text, s->stable.max_replicas,
             js_str(active, "reason") ? js_str(active, "reason") : "", js_str(active, "message") ? js_str(active, "message") : "");
    rt_condition_set(status, "Autoscaling", "False", "ScalingInactive", msg, w->gen, in->now);
  } else {
    snprintf(msg, sizeof(msg), "HPA %s on %s: %s, maxReplicas %d", js_name(w->isvc), w->rp.serving_stable, floor_text,
             s->stable.max_replicas);
    rt_condition_set(status, "Autoscaling", "True", in->window >= 0 ? "ScheduledFloor" : "BaseFloor", msg, w->gen,
                     in->now);
  }
}

static void set_condition(json_t *status, const char *type, const decision *l, const work *w) {
  rt_condition_set(status, type, l->ok ? "True" : "False", l->reason, l->message, w->gen, w->in->now);
}

/* The state: Ready only when the three conditions are True; otherwise the
 * first that is not says why, and its pods' verdict says whether it is
 * still starting (PROGRESSING) or will not get better by itself (FAILED). */
static void plan_status(work *w, rt_plan *out) {
  const isvc_observed *in = w->in;
  json_t *status = rt_status_from(w->isvc);
  status_fields(w, status);
  const char *phase = w->serving.available ? "Serving" : "Pending";
  decision latest, pred, route;
  latest_revision(w, &latest);
  predictor(w, &pred);
  routes(w, &route);
  set_condition(status, "LatestRevisionReady", &latest, w);
  set_condition(status, "PredictorReady", &pred, w);
  set_condition(status, "RoutesReady", &route, w);
  autoscaling_condition(w, status);
  if (w->member) {
    w->place.status = status;
    placement_reachable(&w->place, w->member);
  }

  const decision *why = !pred.ok ? &pred : !latest.ok ? &latest : !route.ok ? &route : NULL;
  rt_state state = RT_STATE_READY;
  char reason[64], msg[MSG_MAX];
  int warn = 0;
  int64_t decide_at = 0;
  if (why == NULL) {
    snprintf(reason, sizeof(reason), "Serving");
    snprintf(msg, sizeof(msg), "%s", route.message);
  } else {
    state = why->v.failed ? RT_STATE_FAILED : RT_STATE_PROGRESSING;
    warn = why->v.warn || why->v.failed;
    decide_at = why->v.decide_at;
    snprintf(reason, sizeof(reason), "%s", why->reason);
    if (why == &latest && w->serving.available)
      snprintf(msg, sizeof(msg), "%.1800s; revision %s keeps serving", why->message, w->serving.name);
    else snprintf(msg, sizeof(msg), "%s", why->message);
  }
  const json_t *prev = w->prev;
  int reason_changed = !str_same(cond_field(prev, "Ready", "reason"), reason);
  int newly_failed = state == RT_STATE_FAILED && !rt_condition_true(prev, "Stalled");
  if ((warn && reason_changed) || newly_failed) rt_plan_event(out, "Warning", reason, "%s", msg);
  if (str_same(route.reason, "IstioUnavailable") && !str_same(cond_field(prev, "RoutesReady", "reason"), route.reason))
    rt_plan_event(out, "Warning", "IstioUnavailable", "%s", route.message);
  /* An unscheduled pod's grace period ends without any event to wake us. */
  if (decide_at > in->now) rt_plan_requeue_after(out, (decide_at - in->now) * 1000 + 1000);
  rt_status_set_state(status, phase, state, reason, msg, w->gen, in->now);
  set_status(w, out, status);
}

/* A name held by someone else: nothing is applied (half a service is worse
 * than none), and it is looked at again now and then, since the holder's
 * deletion is not an event of this InferenceService's children. */
static void plan_conflict(work *w, rt_plan *out) {
  json_t *status = rt_status_from(w->isvc);
  if (w->member) {
    w->place.status = status;
    placement_reachable(&w->place, w->member);
  }
  const char *phase = w->serving.available ? "Serving" : "Pending";
  if (!str_same(cond_field(w->prev, "Ready", "reason"), "NameConflict") || !rt_condition_true(w->prev, "Stalled"))
    rt_plan_event(out, "Warning", "NameConflict", "%s", w->conflict);
  rt_status_set_state(status, phase, RT_STATE_FAILED, "NameConflict", w->conflict, w->gen, w->in->now);
  set_status(w, out, status);
  rt_plan_requeue_after(out, 60000);
}

/* ---------------------------------------------------------------- plan */

const char *isvc_cluster_of(const isvc_observed *in) {
  return placement_cluster_of(in->isvc, in->spec ? &in->spec->place : NULL, in->nclusters);
}

/* ------------------------------------------------------------ placement */

/* Deleted while its children live in a member: garbage collection cannot
 * reach them there (no ownerReference crosses clusters), so they are
 * deleted through the member's client, the member's cache says when they
 * are gone, and then the finalizer goes (given up after the timeout while
 * the member does not answer). */
static void remote_cleanup(work *w, rt_plan *out) {
  const isvc_observed *in = w->in;
  if (!rt_has_finalizer(in->isvc, PLACEMENT_REMOTE_FINALIZER)) return;
  const placement_view *c = placement_views_find(in->clusters, in->nclusters, w->member);
  size_t left = 0, away = 0;
  if (c && c->ready) {
    const json_t *lists[2] = {in->deployments, in->services};
    const kube_resource *kinds[2] = {&kube_deployments, &kube_services};
    for (int k = 0; k < 2; k++) {
      size_t i;
      json_t *o;
      json_array_foreach(lists[k], i, o) {
        if (!owns(w, o)) continue;
        left++;
        if (!js_get(o, "metadata.deletionTimestamp")) rt_plan_delete_in(out, w->member, kinds[k], o, "Background");
      }
    }
    const json_t *ones[3] = {in->hpa, in->virtual_service, in->destination_rule};
    const kube_resource *one_kinds[3] = {&kube_hpas, &inference_virtualservices, &inference_destinationrules};
    for (int k = 0; k < 3; k++) {
      if (ones[k] == NULL || !owns(w, ones[k])) continue;
      left++;
      if (!js_get(ones[k], "metadata.deletionTimestamp"))
        rt_plan_delete_in(out, w->member, one_kinds[k], ones[k], "Background");
    }
  } else {
    away = left = 1;
  }
  char behind[300];
  snprintf(behind, sizeof(behind), "the Deployments, Services and HPA of %s", js_name(in->isvc));
  placement_cleanup_finish(&w->place, left, away, in->remote_cleanup_timeout_s, w->member, behind);
}

/* No cluster yet: the choice is the only thing this plan writes (the
 * status, guarded by the resourceVersion read); children are made once
 * status.cluster says where. */
static void place(work *w, rt_plan *out) {
  const isvc_observed *in = w->in;
  json_t *status = rt_status_from(in->isvc);
  w->place.status = status;
  placement_demand d;
  isvc_demand_of(in->spec, in->floor, &d);
  placement_verdict v;
  placement_choose(&w->place, &in->spec->place, &d, &v);
  const char *prev_reason = cond_field(w->prev, "Ready", "reason");
  if (v.warn && !str_same(prev_reason, v.reason)) rt_plan_event(out, "Warning", v.reason, "%s", v.message);
  rt_status_set_state(status, "Pending", v.state, v.reason, v.message, w->gen, in->now);
  set_status(w, out, status);
}

/* The member it serves in does not answer (or its caches are listing):
 * nothing is known to have changed there, so the status stays as last
 * seen but for ClusterReachable; nothing is re-placed. */
static void member_away(work *w, rt_plan *out) {
  json_t *status = rt_status_from(w->isvc);
  w->place.status = status;
  placement_unreachable(&w->place, w->member,
                        placement_views_find(w->in->clusters, w->in->nclusters, w->member));
  set_status(w, out, status);
}

/* ---------------------------------------------------------------- plan */

void isvc_plan(const isvc_observed *in, rt_plan *out) {
  work w;
  memset(&w, 0, sizeof(w));
  w.in = in;
  w.isvc = in->isvc;
  w.s = in->spec;
  w.prev = json_object_get(in->isvc, "status");
  w.gen = js_int(in->isvc, "metadata.generation", 0);
  const char *cluster = isvc_cluster_of(in);
  if (cluster && strcmp(cluster, "local") != 0) w.member = cluster;
  w.place = (placement_step){.words = &isvc_words, .obj = in->isvc, .clusters = in->clusters,
                             .nclusters = in->nclusters, .project_name = in->project_name, .out = out,
                             .gen = w.gen, .now = in->now};
  /* In the hub garbage collection takes the children; in a namespace
   * being deleted every creation is refused, and the InferenceService
   * goes with it. A member's children the plan deletes itself. */
  if (js_get(in->isvc, "metadata.deletionTimestamp")) {
    if (w.member) remote_cleanup(&w, out);
    return;
  }
  if (in->namespace_terminating) return;
  const placement_view *member = w.member ? placement_views_find(in->clusters, in->nclusters, w.member) : NULL;
  w.member_ready = member && member->ready;
  if (in->spec == NULL) {
    invalid_spec(&w, out);
    return;
  }
  if (cluster == NULL) {
    place(&w, out);
    return;
  }
  if (w.member && !(member && member->ready)) {
    member_away(&w, out);
    return;
  }
  if (w.member && !rt_has_finalizer(in->isvc, PLACEMENT_REMOTE_FINALIZER)) {
    /* Alone: it changes the resourceVersion the status write is guarded by. */
    rt_plan_add_finalizer(out, PLACEMENT_REMOTE_FINALIZER);
    return;
  }
  observe(&w);
  if (name_conflict(&w)) {
    plan_conflict(&w, out);
  } else {
    plan_revisions(&w, out);
    plan_routing(&w, out);
    plan_autoscaling(&w, out);
    plan_cleanup(&w, out);
    plan_status(&w, out);
  }
  json_decref(w.tmpl_s);
  json_decref(w.tmpl_c);
}
