/* The Notebook's plan: from what the cache and the activity probe show,
 * decide what Cubit writes on the Notebook, which children should exist,
 * the status, the events and when to look again. Pure: everything it reads
 * is in nb_observed, everything it decides goes into the rt_plan, which
 * rt_execute carries out (docs/notebook.md, docs/status.md).
 *
 * The steps, in order:
 *   cleanup      deleted and placed on a member: its children there go, then the finalizer
 *   invalid      a spec the parser (or the GPU profile) refuses: Failed, no children
 *   placement    a project spanning clusters: the cluster is chosen and written alone
 *                (the shared steps of controllers/cluster/placement.h); a member that
 *                does not answer keeps the status as last seen (ClusterReachable=False);
 *                the finalizer comes alone before the member's first child
 *   marks        a user's start removes Cubit's stopped-by mark; a renewal is consumed
 *   clocks       a (re)start opens a new idle period and lease; the lease warns or stops
 *   activity     the probe's answer moves lastActivity; idleness stops the notebook
 *                (Cubit stops a notebook the way a user would: spec.stopped, with a mark)
 *   children     workspace claim, Service, StatefulSet, the route (and the unused one goes)
 *   status       phase, state, reason and message; the events of a changed reason */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "controllers/cluster/placement.h"
#include "controllers/notebook/notebook.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/member_events.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

/* Who stopped a stopped notebook. */
typedef enum { BY_USER, BY_CULLER, BY_LEASE } nb_stopper;

/* The plan being made. */
typedef struct nb_draft {
  const nb_observed *in;
  const notebook_spec *spec;
  json_t *status;         /* the status to write (owned until handed over) */
  json_t *patch;          /* the merge patch of the Notebook, or NULL */
  json_t *statefulset;    /* the desired StatefulSet (owned until applied) */
  json_int_t gen;
  char prev_phase[16], prev_reason[64], prev_message[1024];
  int stopped;            /* the notebook is (or is now being) stopped */
  nb_stopper stopped_by;  /* when stopped */
  int64_t requeue_s;      /* > 0: look again after this long */
  const char *member;     /* the member cluster the children live in; NULL = the hub */
} nb_draft;

static void requeue(nb_draft *d, int64_t s) {
  if (s <= 0) s = 1;
  if (d->requeue_s == 0 || s < d->requeue_s) d->requeue_s = s;
}

/* Phases in which nothing runs by the user's or Cubit's will; "Culled" and
 * "Expired" are what earlier releases wrote for the two stops by Cubit, so
 * an upgrade starting such a notebook still opens a new idle period. */
static int is_stopped_phase(const char *phase) {
  return strcmp(phase, "Stopped") == 0 || strcmp(phase, "Culled") == 0 || strcmp(phase, "Expired") == 0;
}

static void patch_annotation(nb_draft *d, const char *key, const char *value) {
  if (d->patch == NULL) d->patch = json_object();
  json_t *ann = js_ensure_obj(d->patch, "metadata.annotations");
  json_object_set_new(ann, key, value ? json_string(value) : json_null());
}

static void patch_stopped(nb_draft *d, int stopped) {
  if (d->patch == NULL) d->patch = json_object();
  js_set(d->patch, "spec.stopped", json_boolean(stopped));
}

static const char *annotation(const json_t *nb, const char *key) {
  json_t *v = json_object_get(js_get(nb, "metadata.annotations"), key);
  return v ? (json_is_string(v) ? json_string_value(v) : "") : NULL;
}

static void copy_prev(const json_t *status, const char *key, char *out, size_t len) {
  const char *v = json_string_value(json_object_get(status, key));
  snprintf(out, len, "%s", v ? v : "");
}

static void draft_init(const nb_observed *in, nb_draft *d) {
  memset(d, 0, sizeof(*d));
  d->in = in;
  d->spec = in->spec;
  d->status = rt_status_from(in->nb);
  d->gen = js_int(in->nb, "metadata.generation", 0);
  copy_prev(d->status, "phase", d->prev_phase, sizeof(d->prev_phase));
  copy_prev(d->status, "reason", d->prev_reason, sizeof(d->prev_reason));
  copy_prev(d->status, "message", d->prev_message, sizeof(d->prev_message));
}

/* Writes the state through the one vocabulary (rt_status_set_state) and
 * the reason and message fields the printer columns show. */
static void set_state(nb_draft *d, const char *phase, rt_state state, const char *reason, const char *message) {
  rt_status_set_state(d->status, phase, state, reason, message, d->gen, d->in->now);
  json_object_set_new(d->status, "reason", json_string(reason));
  json_object_set_new(d->status, "message", json_string(message));
}

static int reason_changed(const nb_draft *d, const char *phase, const char *reason) {
  return strcmp(d->prev_phase, phase) != 0 || strcmp(d->prev_reason, reason) != 0;
}

/* ------------------------------------------------------------ invalid */

/* Retrying cannot fix the spec; its next edit will (a new generation). The
 * children stay as they are: a notebook running keeps running. */
static void plan_invalid(nb_draft *d, rt_plan *out, const char *reason, const char *message) {
  int changed = reason_changed(d, "Failed", reason) || strcmp(d->prev_message, message) != 0;
  set_state(d, "Failed", RT_STATE_FAILED, reason, message);
  if (changed) rt_plan_event(out, "Warning", reason, "%s", message);
}

/* -------------------------------------------------------------- marks */

static void plan_marks(nb_draft *d, rt_plan *out) {
  const json_t *nb = d->in->nb;
  const notebook_spec *spec = d->spec;
  d->stopped = spec->stopped;
  const char *by = annotation(nb, NOTEBOOK_STOPPED_BY_ANNOTATION);
  if (spec->stopped && by && strcmp(by, NOTEBOOK_STOPPED_BY_CULLER) == 0) d->stopped_by = BY_CULLER;
  if (spec->stopped && by && strcmp(by, NOTEBOOK_STOPPED_BY_LEASE) == 0) d->stopped_by = BY_LEASE;
  /* A user started a notebook Cubit had stopped: the mark goes. */
  if (!spec->stopped && by) patch_annotation(d, NOTEBOOK_STOPPED_BY_ANNOTATION, NULL);

  /* A renewal is consumed (the annotation removed) and recorded in the
   * status, so the next one is simply another `kubectl annotate`. */
  if (annotation(nb, NOTEBOOK_RENEW_ANNOTATION) == NULL) return;
  patch_annotation(d, NOTEBOOK_RENEW_ANNOTATION, NULL);
  if (!spec->lease) {
    rt_plan_event(out, "Warning", "RenewIgnored", "%s: the notebook has no spec.lease", NOTEBOOK_RENEW_ANNOTATION);
    return;
  }
  int64_t now = d->in->now;
  js_set_time(d->status, "lease.renewedAt", now);
  char until[32];
  time_format_rfc3339(now + spec->lease_ttl_s, until);
  rt_plan_event(out, "Normal", "LeaseRenewed", "lease renewed until %s", until);
  if (d->stopped && d->stopped_by == BY_LEASE) {
    /* Renewing an expired notebook brings it back. */
    patch_stopped(d, 0);
    patch_annotation(d, NOTEBOOK_STOPPED_BY_ANNOTATION, NULL);
    d->stopped = 0;
    d->stopped_by = BY_USER;
  }
}

/* ------------------------------------------------------------- clocks */

static void stop(nb_draft *d, nb_stopper by) {
  const char *mark = by == BY_CULLER ? NOTEBOOK_STOPPED_BY_CULLER : NOTEBOOK_STOPPED_BY_LEASE;
  patch_stopped(d, 1);
  patch_annotation(d, NOTEBOOK_STOPPED_BY_ANNOTATION, mark);
  d->stopped = 1;
  d->stopped_by = by;
}

static void plan_clocks(nb_draft *d, rt_plan *out) {
  const notebook_spec *spec = d->spec;
  int64_t now = d->in->now;
  /* A (re)start begins a new idle period and a new lease. */
  if (!d->stopped && (d->prev_phase[0] == '\0' || is_stopped_phase(d->prev_phase))) {
    js_set_time(d->status, "lastActivity", now);
    if (spec->lease) js_set_time(d->status, "lease.renewedAt", now);
  }
  if (json_object_get(d->status, "lastActivity") == NULL) js_set_time(d->status, "lastActivity", now);
  if (!spec->lease) {
    json_object_del(d->status, "lease");
    return;
  }
  int64_t renewed = js_time(d->status, "lease.renewedAt");
  if (renewed == 0) {
    renewed = now;
    js_set_time(d->status, "lease.renewedAt", now);
  }
  int64_t expires, next;
  notebook_lease_state ls = notebook_lease_check(renewed, spec->lease_ttl_s, spec->lease_warning_s,
                                                 js_time(d->status, "lease.warnedAt"), now, &expires, &next);
  js_set_time(d->status, "lease.expiresAt", expires);
  if (d->stopped) return;
  if (ls == NB_LEASE_EXPIRED) {
    stop(d, BY_LEASE);
    return;
  }
  if (ls == NB_LEASE_WARN) {
    js_set_time(d->status, "lease.warnedAt", now);
    char until[32];
    time_format_rfc3339(expires, until);
    rt_plan_event(out, "Warning", "LeaseExpiring", "lease expires at %s (in %llds): annotate %s to extend it", until,
                  (long long)(expires - now), NOTEBOOK_RENEW_ANNOTATION);
  }
  requeue(d, next);
}

/* ----------------------------------------------------------- activity */

static void plan_activity(nb_draft *d) {
  const notebook_spec *spec = d->spec;
  const notebook_probe_result *probe = &d->in->probe;
  if (!spec->culling) {
    rt_condition_remove(d->status, "ActivityProbed");
    return;
  }
  if (d->member) {
    /* Not knowing is not idleness: what cannot be probed is never culled. */
    char msg[300];
    snprintf(msg, sizeof(msg),
             "not probed: the notebook runs in cluster %s, whose pods the hub cannot reach; it is not culled for "
             "idleness (spec.lease still stops it)",
             d->member);
    rt_condition_set(d->status, "ActivityProbed", "False", "InMemberCluster", msg, d->gen, d->in->now);
    return;
  }
  if (d->stopped || !probe->probed) return; /* nothing runs, or nothing serves yet: nothing to read */
  int64_t now = d->in->now;
  int64_t period = spec->probe_period_s ? spec->probe_period_s : d->in->cfg->probe_period_s;
  if (!probe->ok) {
    /* Not knowing is not idleness: a failed probe never culls. */
    rt_condition_set(d->status, "ActivityProbed", "False", "ProbeFailed", probe->message, d->gen, now);
    requeue(d, period);
    return;
  }
  int64_t last = js_time(d->status, "lastActivity");
  int64_t reported = probe->last > now ? now : probe->last; /* a clock ahead of ours is not the future */
  if (reported > last) {
    last = reported;
    js_set_time(d->status, "lastActivity", last);
  }
  char since[32], msg[160];
  time_format_rfc3339(last, since);
  snprintf(msg, sizeof(msg), "last activity %s; culled %llds after it", since, (long long)spec->idle_seconds);
  rt_condition_set(d->status, "ActivityProbed", "True", "Probed", msg, d->gen, now);
  int64_t next;
  if (notebook_cull_due(last, spec->idle_seconds, now, &next)) stop(d, BY_CULLER);
  else requeue(d, next < period ? next : period);
}

/* ----------------------------------------------------------- children */

static const placement_words nb_words = {.noun = "notebook", .demand = "its pod", .label = NOTEBOOK_LABEL};

/* The shared placement steps' view of this plan (controllers/cluster/placement.h). */
static placement_step step_of(const nb_draft *d, rt_plan *out) {
  const nb_observed *in = d->in;
  return (placement_step){.words = &nb_words, .obj = in->nb, .clusters = in->clusters, .nclusters = in->nclusters,
                          .project_name = in->project_name, .status = d->status, .out = out, .gen = d->gen,
                          .now = in->now};
}

/* Is live this notebook's own? In the hub by its controller
 * ownerReference; in a member, where none can point to the hub, by the
 * owner-uid label its children there carry. */
static int owned(const nb_draft *d, const json_t *live) {
  if (live == NULL) return 0;
  return d->member ? placement_labelled_for(d->in->nb, live) : rt_is_controlled_by(live, d->in->nb);
}

static int controlled(const json_t *live, const json_t *nb) {
  return live && rt_is_controlled_by(live, nb);
}

/* Plans 'desired' (stolen) where the notebook's children live; for a
 * member, labelled back to the notebook instead of owned by it. */
static void child_apply(nb_draft *d, rt_plan *out, const kube_resource *r, json_t *desired) {
  if (d->member) {
    placement_step ps = step_of(d, out);
    desired = placement_for_member(&ps, desired);
  }
  rt_plan_apply_in(out, d->member, r, desired);
}

/* The route the settings choose, applied; the other kind, if this notebook
 * made one, deleted. The Routed condition says which. */
static void plan_route(nb_draft *d, rt_plan *out) {
  const nb_observed *in = d->in;
  const notebook_config *cfg = in->cfg;
  char base[NOTEBOOK_PATH_LEN], msg[640];
  notebook_base_path(js_namespace(in->nb), js_name(in->nb), base);
  /* The hub's gateway cannot reach a member's pods: a notebook there is
   * routed through the member's own Gateway, when its Cluster names one
   * (docs/multicluster.md, "Notebooks in members"). */
  int use_vs = d->member == NULL && cfg->istio && in->virtualservices_served;
  int use_ingress = d->member == NULL && !use_vs && cfg->ingress_class[0];
  if (d->member && in->member_gateway) {
    child_apply(d, out, &notebook_virtualservices,
                notebook_desired_virtualservice(in->nb, d->spec, in->member_gateway, NULL));
    snprintf(msg, sizeof(msg), "Istio VirtualService in cluster %s on its gateway %s, prefix %s", d->member,
             in->member_gateway, base);
    rt_condition_set(d->status, "Routed", "True", "MemberGateway", msg, d->gen, in->now);
  } else if (d->member) {
    snprintf(msg, sizeof(msg),
             "no route: the notebook runs in cluster %s, whose pods the hub's gateway cannot reach, and that "
             "Cluster names no gateway of its own with Istio served (spec.gateway); its Service serves it inside "
             "that cluster (status.url)",
             d->member);
    rt_condition_set(d->status, "Routed", "False", "InMemberCluster", msg, d->gen, in->now);
  } else if (use_vs) {
    rt_plan_apply(out, &notebook_virtualservices,
                  notebook_desired_virtualservice(in->nb, d->spec, cfg->gateway, cfg->host));
    snprintf(msg, sizeof(msg), "Istio VirtualService on gateway %s, prefix %s", cfg->gateway, base);
    rt_condition_set(d->status, "Routed", "True", "VirtualService", msg, d->gen, in->now);
  } else if (use_ingress) {
    rt_plan_apply(out, &kube_ingresses, notebook_desired_ingress(in->nb, d->spec, cfg));
    snprintf(msg, sizeof(msg), "Ingress of class %s, prefix %s", cfg->ingress_class, base);
    rt_condition_set(d->status, "Routed", "True", "Ingress", msg, d->gen, in->now);
  } else {
    snprintf(msg, sizeof(msg),
             "no route: the Istio VirtualService API is %s and no ingress class is configured "
             "(notebook.ingressClassName)",
             cfg->istio ? "not served" : "turned off (notebook.istio: false)");
    rt_condition_set(d->status, "Routed", "False", "NoRoute", msg, d->gen, in->now);
  }
  if (!use_ingress && controlled(in->ingress, in->nb)) rt_plan_delete(out, &kube_ingresses, in->ingress, NULL);
  if (!use_vs && controlled(in->virtualservice, in->nb))
    rt_plan_delete(out, &notebook_virtualservices, in->virtualservice, NULL);
  /* A member's Gateway no longer named (or Istio gone there): its route goes. */
  if (d->member && !in->member_gateway && owned(d, in->virtualservice) &&
      js_get(in->virtualservice, "metadata.deletionTimestamp") == NULL)
    rt_plan_delete_in(out, d->member, &notebook_virtualservices, in->virtualservice, NULL);
}

/* 1 while the StatefulSet does not run the spec yet: this plan changes it,
 * its controller has not seen the change, or the pod is of an older
 * revision. */
static int rolling_out(const nb_draft *d) {
  const json_t *live = d->in->statefulset, *pod = d->in->pod;
  if (rt_apply_would_write(d->statefulset, live)) return 1;
  if (js_int(live, "metadata.generation", 0) != js_int(live, "status.observedGeneration", -1)) return 1;
  const char *update = js_str(live, "status.updateRevision");
  const char *current = js_str(live, "status.currentRevision");
  if (update && current && strcmp(update, current) != 0) return 1;
  const char *pod_rev =
      json_string_value(json_object_get(js_get(pod, "metadata.labels"), "controller-revision-hash"));
  return update && pod_rev && strcmp(update, pod_rev) != 0;
}

/* 1 when the pod runs an older revision than the StatefulSet wants and is
 * not Ready: the StatefulSet controller (OrderedReady) never replaces such a
 * pod by itself, so a spec that fixes a bad image or an impossible request
 * would otherwise never take effect. */
static int pod_stuck_on_old_revision(const nb_draft *d) {
  const json_t *live = d->in->statefulset, *pod = d->in->pod;
  if (live == NULL || pod == NULL || js_get(pod, "metadata.deletionTimestamp")) return 0;
  if (js_int(live, "metadata.generation", 0) != js_int(live, "status.observedGeneration", -1)) return 0;
  const char *update = js_str(live, "status.updateRevision");
  const char *pod_rev =
      json_string_value(json_object_get(js_get(pod, "metadata.labels"), "controller-revision-hash"));
  if (update == NULL || pod_rev == NULL || strcmp(update, pod_rev) == 0) return 0;
  return !rt_condition_true(json_object_get(pod, "status"), "Ready");
}

static void plan_children(nb_draft *d, rt_plan *out) {
  const nb_observed *in = d->in;
  json_t *pvc = notebook_desired_pvc(in->nb, d->spec);
  if (pvc) child_apply(d, out, &kube_pvcs, pvc);
  child_apply(d, out, &kube_services, notebook_desired_service(in->nb, d->spec));
  /* The spec's own stopped may be overruled by this plan (a stop by the
   * culler or the lease, a restart by a renewal). */
  js_set(d->statefulset, "spec.replicas", json_integer(d->stopped ? 0 : 1));
  child_apply(d, out, &kube_statefulsets, json_incref(d->statefulset));
  if (!d->stopped && pod_stuck_on_old_revision(d)) {
    rt_plan_delete_in(out, d->member, &kube_pods, in->pod, NULL);
    if (reason_changed(d, "Pending", "RollingOut"))
      rt_plan_event(out, "Normal", "ReplacingPod", "pod %s runs an older revision and is not ready: replaced so the "
                    "new spec takes effect", js_name(in->pod));
  }
  plan_route(d, out);
}

/* ------------------------------------------------------------- status */

static void stopped_message(const nb_draft *d, char *out, size_t len) {
  if (d->stopped_by == BY_CULLER) {
    const char *last = js_str(d->status, "lastActivity");
    snprintf(out, len, "stopped by the culler: idle since %s (idleSeconds %lld); set spec.stopped to false to start it "
             "again", last ? last : "its start", (long long)d->spec->idle_seconds);
  } else if (d->stopped_by == BY_LEASE) {
    const char *expired = js_str(d->status, "lease.expiresAt");
    snprintf(out, len, "stopped by the lease: it expired at %s; annotate %s to start it again",
             expired ? expired : "its end", NOTEBOOK_RENEW_ANNOTATION);
  } else {
    snprintf(out, len, "stopped by spec.stopped; the workspace is kept; set spec.stopped to false to start it");
  }
}

/* A stop is said from the state, not from the decision that made it: a
 * later reconcile (or another replica) writes the same sentence and emits
 * nothing again. */
static void plan_stopped_status(nb_draft *d, rt_plan *out) {
  const char *reason = d->stopped_by == BY_CULLER  ? "StoppedByCuller"
                       : d->stopped_by == BY_LEASE ? "StoppedByLease"
                                                                    : "StoppedByUser";
  char msg[512];
  stopped_message(d, msg, sizeof(msg));
  int changed = reason_changed(d, "Stopped", reason);
  set_state(d, "Stopped", RT_STATE_SUSPENDED, reason, msg);
  if (!changed) return;
  if (d->stopped_by == BY_LEASE) rt_plan_event(out, "Warning", "LeaseExpired", "%s", msg);
  else if (d->stopped_by == BY_CULLER) rt_plan_event(out, "Normal", "Culled", "%s", msg);
  else rt_plan_event(out, "Normal", "Stopped", "%s", msg);
}

static void plan_running_status(nb_draft *d, rt_plan *out, const char *url) {
  const nb_observed *in = d->in;
  notebook_phase ph;
  notebook_pod_phase(in->pod, in->now, &ph);
  if (!owned(d, in->statefulset) && in->pod == NULL) {
    /* This plan creates them, and its status is written once they are made
     * (a failed apply writes ApplyFailed instead): what is true then is
     * PodNotCreated. Saying "Creating" would be stale on arrival and cost
     * every new notebook a second status write. The route, when there is
     * one, is the condition Routed's to report. */
    snprintf(ph.message, sizeof(ph.message),
             "StatefulSet and Service created: waiting for the StatefulSet to create the pod");
  } else if (in->pod == NULL && in->create_refused) {
    /* Refused by the API server: no retry of the StatefulSet's helps until
     * the spec (or the namespace's policy) changes. */
    ph.state = RT_STATE_FAILED;
    ph.warn = 1;
    snprintf(ph.reason, sizeof(ph.reason), "FailedCreate");
    snprintf(ph.message, sizeof(ph.message), "the StatefulSet cannot create the pod: %.700s",
             js_str(in->create_refused, "message") ? js_str(in->create_refused, "message") : "FailedCreate");
  }
  if (pod_stuck_on_old_revision(d)) {
    /* What failed was the old spec: the new one is on its way. */
    ph.state = RT_STATE_PROGRESSING;
    ph.warn = 0;
    snprintf(ph.phase, sizeof(ph.phase), "Pending");
    snprintf(ph.reason, sizeof(ph.reason), "RollingOut");
    snprintf(ph.message, sizeof(ph.message),
             "the spec changed (generation %lld): the pod of the old one is replaced", (long long)d->gen);
  } else if (ph.state == RT_STATE_READY && rolling_out(d)) {
    ph.state = RT_STATE_PROGRESSING;
    snprintf(ph.reason, sizeof(ph.reason), "RollingOut");
    snprintf(ph.message, sizeof(ph.message),
             "the spec changed (generation %lld): the pod is replaced with one that runs it", (long long)d->gen);
  } else if (ph.state == RT_STATE_READY) {
    int routed = rt_condition_true(d->status, "Routed");
    snprintf(ph.message, sizeof(ph.message), "the IDE is ready at %s%s", url,
             routed ? "" : " (no route to it: see the condition Routed)");
  }
  if (ph.recheck_s > 0) requeue(d, ph.recheck_s);
  int changed = reason_changed(d, ph.phase, ph.reason);
  set_state(d, ph.phase, ph.state, ph.reason, ph.message);
  if (!changed) return;
  if (ph.warn) rt_plan_event(out, "Warning", ph.reason, "%s", ph.message);
  else if (ph.state == RT_STATE_READY) rt_plan_event(out, "Normal", "Running", "the notebook is ready at %s", url);
}

static void plan_status(nb_draft *d, rt_plan *out) {
  const nb_observed *in = d->in;
  char base[NOTEBOOK_PATH_LEN];
  notebook_base_path(js_namespace(in->nb), js_name(in->nb), base);
  /* In a member: through its gateway, or its Service's in-cluster URL
   * there when no route reaches it. */
  size_t ub = in->member_url_base ? strlen(in->member_url_base) : 0;
  while (ub > 0 && in->member_url_base[ub - 1] == '/') ub--; /* the path brings its own '/' */
  char *url = d->member && in->member_gateway ? xasprintf("%.*s%s", (int)ub, in->member_url_base, base)
              : d->member ? xasprintf("http://%s.%s.svc.cluster.local%s", js_name(in->nb), js_namespace(in->nb), base)
                          : xasprintf("%s%s", in->cfg->url_base, base);
  json_object_set_new(d->status, "url", json_string(url));
  const json_t *sts = owned(d, in->statefulset) ? in->statefulset : NULL;
  json_object_set_new(d->status, "readyReplicas", json_integer(js_int(sts, "status.readyReplicas", 0)));
  if (d->stopped) plan_stopped_status(d, out);
  else plan_running_status(d, out, url);
  free(url);
}

/* ---------------------------------------------------------- placement */

static int deleting(const json_t *obj) {
  return js_get(obj, "metadata.deletionTimestamp") != NULL;
}

/* The notebook has no cluster yet. One already running in the hub (made
 * before its project spanned clusters) stays there; any other is placed by
 * the shared step, and only the choice is written (the status, guarded by
 * the resourceVersion read): its children are made once status.cluster
 * says where. */
static void plan_place(nb_draft *d, rt_plan *out) {
  const nb_observed *in = d->in;
  placement_step ps = step_of(d, out);
  placement_verdict v;
  if (controlled(in->statefulset, in->nb)) {
    memset(&v, 0, sizeof(v));
    json_object_set_new(d->status, "cluster", json_string(CLUSTER_LOCAL));
    snprintf(v.reason, sizeof(v.reason), "Placed");
    snprintf(v.message, sizeof(v.message), "placed on cluster %s (its StatefulSet runs there already)", CLUSTER_LOCAL);
    rt_condition_set(d->status, "Placed", "True", v.reason, v.message, d->gen, in->now);
    rt_plan_event(out, "Normal", "Placed", "%s", v.message);
  } else {
    placement_demand demand;
    nb_demand_of(d->spec, &demand);
    placement_choose(&ps, &d->spec->place, &demand, &v);
  }
  /* A notebook has no Queued phase: it waits Pending, as for its pod. */
  int changed = reason_changed(d, "Pending", v.reason);
  set_state(d, "Pending", v.state, v.reason, v.message);
  if (changed && v.warn) rt_plan_event(out, "Warning", v.reason, "%s", v.message);
}

/* The notebook is being deleted and its children live in a member: they go
 * there first (the member's cache says when they are gone), then the
 * finalizer (placement_cleanup_finish). */
static void plan_remote_cleanup(nb_draft *d, rt_plan *out) {
  const nb_observed *in = d->in;
  if (!rt_has_finalizer(in->nb, PLACEMENT_REMOTE_FINALIZER)) return;
  placement_step ps = step_of(d, out);
  const placement_view *c = placement_views_find(in->clusters, in->nclusters, d->member);
  size_t left = 0, away = 0;
  if (c && c->ready) {
    const struct {
      const kube_resource *r;
      const json_t *live;
    } children[] = {{&kube_statefulsets, in->statefulset},
                    {&kube_services, in->service},
                    {&kube_pvcs, in->pvc},
                    {&notebook_virtualservices, in->virtualservice}};
    for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
      if (!owned(d, children[i].live)) continue;
      left++;
      if (!deleting(children[i].live)) rt_plan_delete_in(out, d->member, children[i].r, children[i].live, "Background");
    }
  } else {
    left = away = 1;
  }
  char what[400];
  snprintf(what, sizeof(what), "StatefulSet, Service and VirtualService %s, PersistentVolumeClaim %s-workspace",
           js_name(in->nb), js_name(in->nb));
  placement_cleanup_finish(&ps, left, away, in->remote_cleanup_timeout_s, d->member, what);
}

/* --------------------------------------------------------------- plan */

/* The notebook runs where it is placed: its children, status and events. */
static void plan_run(nb_draft *d, rt_plan *out) {
  plan_marks(d, out);
  plan_clocks(d, out);
  plan_activity(d);
  if (d->patch) rt_plan_patch_self(out, d->patch); /* first: the children follow what it decides */
  plan_children(d, out);
  plan_status(d, out);
  if (d->requeue_s > 0) rt_plan_requeue_after(out, d->requeue_s * 1000);
}

void nb_plan(const nb_observed *in, rt_plan *out) {
  nb_draft d;
  draft_init(in, &d);
  const char *cluster = placement_cluster_of(in->nb, in->spec ? &in->spec->place : NULL, in->nclusters);
  if (cluster && strcmp(cluster, CLUSTER_LOCAL) != 0) d.member = cluster;
  if (deleting(in->nb)) { /* only a member's children need the hub's help */
    if (d.member) plan_remote_cleanup(&d, out);
    json_decref(d.status);
    return;
  }
  const placement_view *member = placement_views_find(in->clusters, in->nclusters, d.member);
  placement_step ps = step_of(&d, out);
  char err[512] = "";
  if (in->spec_error) {
    plan_invalid(&d, out, "InvalidSpec", in->spec_error);
  } else if ((d.statefulset = notebook_desired_statefulset(in->nb, in->spec, in->cfg, in->in_project && !d.member, err,
                                                           sizeof(err))) == NULL) {
    /* A member has no pod webhook of Cubit's: the GPU is translated here. */
    plan_invalid(&d, out, "InvalidGPU", err);
  } else if (cluster == NULL) {
    plan_place(&d, out);
  } else if (d.member && !(member && member->ready)) {
    placement_unreachable(&ps, d.member, member);
  } else if (d.member && !rt_has_finalizer(in->nb, PLACEMENT_REMOTE_FINALIZER)) {
    /* Alone: it changes the resourceVersion the status write is guarded by. */
    rt_plan_add_finalizer(out, PLACEMENT_REMOTE_FINALIZER);
    json_decref(d.statefulset);
    json_decref(d.status);
    return;
  } else {
    if (d.member) placement_reachable(&ps, d.member);
    plan_run(&d, out);
    if (d.member) rt_plan_relay_member_events(out, d.status, d.member, in->member_events, in->nmember_events);
  }
  json_decref(d.statefulset);
  rt_plan_set_status(out, d.status);
}
