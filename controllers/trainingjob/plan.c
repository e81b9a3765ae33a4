/* The TrainingJob's decision, pure: from the job, its parsed spec, its
 * engine object, its pods and `now` to the children to apply and delete,
 * the whole status, the events and when to look again (docs/trainingjob.md
 * "Status" says what each phase means). One step per situation, tried in
 * this order:
 *
 *   finished          Succeeded/Failed stay; the engine object goes after the TTL
 *   invalid spec      Failed (InvalidSpec); a fixed spec starts the job
 *   debug mode        one sleeping pod instead of the engine object
 *   engine missing    Pending until the engine's API is served
 *   child conflict    an engine object of that name belongs to someone else
 *   run               apply the engine object, read its progress and pods,
 *                     then suspend (Volcano), wait for a deletion, restart the
 *                     gang, or enforce the deadline (Volcano, Spark) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/gpu/gpu.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/member_events.h"
#include "runtime/status.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

/* How often a running job's status is refreshed (its duration). */
#define TJ_RUNNING_REFRESH_MS 30000
/* How soon to look again while an engine object is being deleted. */
#define TJ_DELETION_POLL_MS 1000
/* How soon to look again at an engine object that belongs to someone else
 * (its deletion does not reach us: it is not ours). */
#define TJ_CONFLICT_POLL_MS 60000

/* What the plan concludes about the job. */
typedef struct tj_verdict {
  const char *phase; /* static */
  rt_state state;
  char reason[64];
  char message[1024];
  int warn;    /* the reason is news: one Warning event each time it changes */
  int evented; /* the step emitted its own event for this change */
} tj_verdict;

/* One plan in the making. */
typedef struct tj_planning {
  const tj_observed *in;
  const tj_spec *s;             /* NULL when the spec is invalid */
  const kube_resource *engine;  /* NULL when the spec is invalid */
  rt_plan *out;
  json_t *status;               /* the status being decided (owned until handed to out) */
  json_int_t gen;
  const char *prev_phase;       /* the previous decision (borrowed from in->tj) */
  const char *prev_reason;
  const char *prev_message;
  int child_goes;               /* a step deletes the engine object: not applied */
  const char *member;           /* the member cluster the children live in; NULL = the hub */
  placement_step place;         /* the shared placement steps' view of this plan */
} tj_planning;

static const placement_words tj_words = {.noun = "job", .demand = "the whole gang", .label = TJ_LABEL};

static void verdict(tj_verdict *v, const char *phase, rt_state state, const char *reason, int warn, const char *fmt,
                    ...) __attribute__((format(printf, 6, 7)));

static void verdict(tj_verdict *v, const char *phase, rt_state state, const char *reason, int warn, const char *fmt,
                    ...) {
  v->phase = phase;
  v->state = state;
  snprintf(v->reason, sizeof(v->reason), "%s", reason);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->message, sizeof(v->message), fmt, ap);
  va_end(ap);
  v->warn = warn;
  v->evented = 0;
}

static int terminal(const tj_verdict *v) {
  return v->state == RT_STATE_SUCCEEDED || (v->state == RT_STATE_FAILED && strcmp(v->phase, "Failed") == 0);
}

static int same(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

static int deleting(const json_t *obj) {
  return js_get(obj, "metadata.deletionTimestamp") != NULL;
}

/* --------------------------------------------------------------- helpers */

/* Is obj (a child or a pod) this job's own? In the hub by its controller
 * ownerReference; in a member, where none can point to the hub, by the
 * owner-uid label the job's children there carry. */
static int owns(const tj_planning *pl, const json_t *obj) {
  return pl->member == NULL ? rt_is_controlled_by(obj, pl->in->tj) : placement_labelled_for(pl->in->tj, obj);
}

/* A child for a member carries no ownerReference (none can cross
 * clusters) and labels back to the hub object instead. Idempotent; done
 * before the applied digest is compared (runtime/apply.h). */
static json_t *for_member(const tj_planning *pl, json_t *desired) {
  return pl->member == NULL ? desired : placement_for_member(&pl->place, desired);
}

/* Plans 'desired' (stolen) where the job's children live. */
static void child_apply(tj_planning *pl, const kube_resource *r, json_t *desired) {
  rt_plan_apply_in(pl->out, pl->member, r, for_member(pl, desired));
}

static void child_delete(tj_planning *pl, const kube_resource *r, const json_t *live, const char *propagation) {
  rt_plan_delete_in(pl->out, pl->member, r, live, propagation);
}

static void set_child_ref(json_t *status, const char *api_version, const char *kind, const char *name, const char *uid) {
  json_t *ref = json_pack("{s:s, s:s, s:s}", "apiVersion", api_version, "kind", kind, "name", name);
  if (uid) json_object_set_new(ref, "uid", json_string(uid));
  json_object_set_new(status, "child", ref);
}

static void set_pod_counts(json_t *status, int running, int pending, int succeeded, int failed) {
  json_object_set_new(status, "pods", json_pack("{s:i, s:i, s:i, s:i}", "running", running, "pending", pending,
                                                "succeeded", succeeded, "failed", failed));
}

static void record_counts(tj_planning *pl, const tj_progress *p) {
  json_t *st = pl->status;
  json_object_set(st, "roles", p->roles);
  set_pod_counts(st, p->running, p->pending, p->succeeded, p->failed);
  char completions[32];
  snprintf(completions, sizeof(completions), "%d/%d", p->succeeded, p->completions);
  json_object_set_new(st, "completions", json_string(completions));
}

/* The job's pods: the debug pod (the job's own, not the engine's) left out. */
static const json_t **engine_pods(const tj_planning *pl, size_t *n) {
  const tj_observed *in = pl->in;
  const json_t **pods = xcalloc(in->npods + 1, sizeof(*pods));
  *n = 0;
  for (size_t i = 0; i < in->npods; i++)
    if (!owns(pl, in->pods[i])) pods[(*n)++] = in->pods[i];
  return pods;
}

/* Writes the phase, the state's conditions, the job's own Succeeded and
 * Failed conditions and a failure's summary, and emits the events of a
 * change: one Warning when the reason is news, else one event when the
 * phase changes. Comparing with the previous status keeps an unchanged
 * state from emitting anything twice. */
static void conclude(tj_planning *pl, const tj_verdict *v) {
  json_t *st = pl->status;
  int64_t now = pl->in->now;
  const char *msg = v->message[0] ? v->message : v->phase;
  int failed = strcmp(v->phase, "Failed") == 0;
  rt_status_set_state(st, v->phase, v->state, v->reason, msg, pl->gen, now);
  rt_condition_set(st, "Succeeded", v->state == RT_STATE_SUCCEEDED ? "True" : "False", v->reason, msg, pl->gen, now);
  rt_condition_set(st, "Failed", failed ? "True" : "False", v->reason, msg, pl->gen, now);
  if (failed) {
    json_object_set_new(st, "reason", json_string(v->reason));
    json_object_set_new(st, "message", json_string(msg));
  } else {
    json_object_del(st, "reason");
    json_object_del(st, "message");
    json_object_del(st, "exitCode");
  }
  if (v->evented) return;
  if (v->warn && !same(pl->prev_reason, v->reason)) {
    rt_plan_event(pl->out, "Warning", v->reason, "%s", msg);
  } else if (!same(pl->prev_phase, v->phase)) {
    rt_plan_event(pl->out, failed ? "Warning" : "Normal", v->phase, "%s -> %s: %s",
                  pl->prev_phase ? pl->prev_phase : "new", v->phase, msg);
  }
}

/* ---------------------------------------------------------- invalid spec */

/* The webhook refuses what tj_spec_parse refuses; this is for what got past
 * it (the webhook down, an older version). The job never ran, so a fixed
 * spec starts it (see finished()). */
static void invalid_spec(tj_planning *pl) {
  tj_verdict v;
  verdict(&v, "Failed", RT_STATE_FAILED, "InvalidSpec", 1, "%s", pl->in->spec_error);
  conclude(pl, &v);
}

/* Volcano Jobs and SparkApplications have no deadline of their own: the
 * controller keeps activeDeadlineSeconds for them. */
static int deadline_is_ours(const tj_spec *s) {
  return s->framework == TJ_VOLCANO || s->framework == TJ_SPARK;
}

/* -------------------------------------------------------------- finished */

/* Succeeded and Failed are final, whatever the spec says now, except a
 * refused spec: that job never ran. */
static int finished(const tj_observed *in) {
  const char *phase = js_str(in->tj, "status.phase");
  if (!same(phase, "Succeeded") && !same(phase, "Failed")) return 0;
  return !same(js_str(in->tj, "status.reason"), "InvalidSpec");
}

/* A finished job keeps its summary and never runs again; its engine object
 * (and with it the pods) goes ttlSecondsAfterFinished after the end. A
 * Volcano Job or SparkApplication stopped at its deadline goes at once
 * (again, if the first deletion failed). The state is written again as recorded, so a status
 * from an older Cubit gains the conditions kstatus reads. The pod counts
 * follow the pods while the engine object is there: a PyTorchJob succeeds
 * with its master, and its workers end after. */
static void after_finish(tj_planning *pl) {
  const tj_observed *in = pl->in;
  int succeeded = same(pl->prev_phase, "Succeeded");
  const json_t *ready = rt_condition_get(pl->status, "Ready");
  const char *reason = js_str(pl->status, "reason") ? js_str(pl->status, "reason") : js_str(ready, "reason");
  const char *message = js_str(pl->status, "message") ? js_str(pl->status, "message") : js_str(ready, "message");
  if (succeeded) {
    reason = js_str(ready, "reason");
    message = js_str(ready, "message");
  }
  tj_verdict v;
  verdict(&v, succeeded ? "Succeeded" : "Failed", succeeded ? RT_STATE_SUCCEEDED : RT_STATE_FAILED,
          reason ? reason : pl->prev_phase, 0, "%s", message ? message : "");
  v.evented = 1;
  conclude(pl, &v); /* (reason and message pointed into the status it rewrites) */

  const json_t *child = in->child;
  if (pl->s == NULL || child == NULL || !owns(pl, child) || deleting(child)) return;
  size_t npods;
  const json_t **pods = engine_pods(pl, &npods);
  tj_progress p;
  tj_progress_of(pl->s, child, pods, npods, &p);
  free(pods);
  record_counts(pl, &p);
  tj_progress_free(&p);
  if (deadline_is_ours(pl->s) && same(v.reason, "DeadlineExceeded")) {
    child_delete(pl, pl->engine, child, "Background");
    return;
  }
  if (pl->s->ttl_s < 0) return;
  int64_t left = js_time(pl->status, "completionTime") + pl->s->ttl_s - in->now;
  if (left > 0) {
    rt_plan_requeue_after(pl->out, left * 1000);
    return;
  }
  child_delete(pl, pl->engine, child, "Background");
  rt_plan_event(pl->out, "Normal", "TTLExpired", "%s %s deleted %d s after the job finished", pl->engine->kind,
                js_name(child), pl->s->ttl_s);
}

/* --------------------------------------------------------- child conflict */

/* An object the job would make (its engine object, its debug pod) exists
 * and is someone else's: nothing is taken over. Its deletion does not reach
 * this controller, hence the poll. */
static void child_conflict(tj_planning *pl, const char *kind, const char *name) {
  tj_verdict v;
  verdict(&v, "Pending", RT_STATE_FAILED, "ChildConflict", 1,
          "a %s named %s exists and belongs to something else; delete or rename it", kind, name);
  rt_plan_requeue_after(pl->out, TJ_CONFLICT_POLL_MS);
  conclude(pl, &v);
}

/* ------------------------------------------------------------ debug mode */

/* spec.debug: one sleeping pod <name>-debug with the first role's image,
 * environment and volumes, instead of the engine object. */
static void debug_mode(tj_planning *pl) {
  const tj_observed *in = pl->in;
  if (in->child && owns(pl, in->child) && !deleting(in->child))
    child_delete(pl, pl->engine, in->child, "Background");
  json_t *desired = tj_desired_debug_pod(in->tj, pl->s);
  const char *name = js_name(desired), *ns = js_namespace(desired);
  const json_t *pod = in->debug_pod;
  if (pod && !owns(pl, pod)) {
    child_conflict(pl, "Pod", name);
    json_decref(desired);
    return;
  }
  set_child_ref(pl->status, "v1", "Pod", name, js_uid(pod));
  tj_pod_state ps;
  tj_pod_state_of(pod, &ps);
  tj_verdict v;
  if (pod == NULL) {
    verdict(&v, "Pending", RT_STATE_PROGRESSING, "DebugPodStarting", 0, "creating the debug pod %s", name);
  } else if (ps.phase == TJ_POD_RUNNING) {
    verdict(&v, "Running", RT_STATE_READY, "Debugging", 0, "debug pod %s runs; kubectl exec -it -n %s %s -- sh", name,
            ns, name);
  } else if (ps.phase == TJ_POD_WAITING) {
    verdict(&v, "Pending", RT_STATE_PROGRESSING, ps.reason, !tj_wait_is_normal(ps.reason), "debug pod %s: %s", name,
            ps.message);
  } else {
    /* It ended (evicted, or its container exited): made again once gone. */
    if (ps.phase != TJ_POD_TERMINATING) child_delete(pl, &kube_pods, pod, "Background");
    verdict(&v, "Pending", RT_STATE_PROGRESSING, "DebugPodStarting", 0, "the debug pod %s ended; making it again",
            name);
  }
  if (pod == NULL || ps.phase == TJ_POD_RUNNING || ps.phase == TJ_POD_WAITING)
    child_apply(pl, &kube_pods, desired);
  else json_decref(desired);
  json_object_del(pl->status, "roles");
  json_object_del(pl->status, "completions");
  set_pod_counts(pl->status, ps.phase == TJ_POD_RUNNING && pod, ps.phase == TJ_POD_WAITING && pod, 0, 0);
  conclude(pl, &v);
}

/* ------------------------------------------------------------- placement */

const char *tj_cluster_of(const tj_observed *in) {
  return placement_cluster_of(in->tj, in->spec ? &in->spec->place : NULL, in->nclusters);
}

static const placement_view *cluster_view(const tj_observed *in, const char *name) {
  return placement_views_find(in->clusters, in->nclusters, name);
}

/* The job has no cluster yet: the shared choice (placement_choose); a
 * cluster the project does not list leaves it Pending, none with room
 * Queued. */
static void place(tj_planning *pl) {
  placement_demand d;
  tj_demand_of(pl->s, &d);
  placement_verdict pv;
  placement_choose(&pl->place, &pl->s->place, &d, &pv);
  tj_verdict v;
  verdict(&v, pv.state == RT_STATE_FAILED ? "Pending" : "Queued", pv.state, pv.reason, pv.warn, "%s", pv.message);
  v.evented = pv.evented;
  conclude(pl, &v);
}

/* Did any pod of the job ever run, as last observed? */
static int ever_ran(const json_t *tj) {
  const json_t *pods = js_get(tj, "status.pods");
  return js_str(tj, "status.startTime") != NULL || js_int(pods, "running", 0) > 0 ||
         js_int(pods, "succeeded", 0) > 0 || js_int(pods, "failed", 0) > 0;
}

/* spec.placement.rescheduleOnClusterLoss: a job placed by policy whose
 * member has been unreachable for clusterLossGraceSeconds, and none of
 * whose pods was ever seen running, is placed again on another cluster
 * (never one it was taken off). The lost cluster is recorded in
 * status.abandonedClusters: when it answers again, the job's engine object
 * there is deleted (leave_abandoned), so state converges on one run.
 * Returns 1 when it re-placed the job. */
static int reschedule(tj_planning *pl) {
  const tj_observed *in = pl->in;
  const json_t *prev = rt_condition_get(json_object_get(in->tj, "status"), "ClusterReachable");
  if (!pl->s->place.reschedule_on_loss || pl->s->place.cluster || !same(js_str(prev, "status"), "False") || ever_ran(in->tj))
    return 0;
  int64_t away = in->now - js_time(prev, "lastTransitionTime");
  if (away < pl->s->place.cluster_loss_grace_s) {
    rt_plan_requeue_after(pl->out, (pl->s->place.cluster_loss_grace_s - away) * 1000);
    return 0;
  }
  placement_view *others = xcalloc(in->nclusters + 1, sizeof(*others));
  size_t n = 0;
  for (size_t i = 0; i < in->nclusters; i++) {
    int gone = strcmp(in->clusters[i].name, pl->member) == 0;
    for (size_t a = 0; a < in->nabandoned && !gone; a++) gone = strcmp(in->clusters[i].name, in->abandoned[a]) == 0;
    if (!gone) others[n++] = in->clusters[i];
  }
  placement_demand d;
  tj_demand_of(pl->s, &d);
  char reasons[600];
  int at = placement_pick(pl->s->place.policy, &d, others, n, reasons, sizeof(reasons));
  const char *chosen = at < 0 ? NULL : others[at].name; /* borrowed from in->clusters */
  free(others);
  if (chosen == NULL) return 0;
  json_t *st = pl->status;
  json_t *abandoned = json_object_get(st, "abandonedClusters");
  if (!json_is_array(abandoned)) {
    abandoned = json_array();
    json_object_set_new(st, "abandonedClusters", abandoned);
  }
  json_array_append_new(abandoned, json_string(pl->member));
  json_object_set_new(st, "cluster", json_string(chosen));
  json_object_del(st, "child");
  rt_condition_remove(st, "ClusterReachable");
  tj_verdict v;
  verdict(&v, "Queued", RT_STATE_PROGRESSING, "Placed", 0,
          "re-placed on cluster %s: cluster %s unreachable for %lld s before any pod ran "
          "(spec.placement.rescheduleOnClusterLoss)",
          chosen, pl->member, (long long)away);
  rt_condition_set(st, "Placed", "True", v.reason, v.message, pl->gen, in->now);
  rt_plan_event(pl->out, "Warning", "Rescheduled", "%s", v.message);
  v.evented = 1;
  conclude(pl, &v);
  return 1;
}

/* The engine objects left in clusters the job was taken off go once those
 * clusters answer. Returns how many may still be there; *away counts the
 * clusters that do not answer. */
static size_t leave_abandoned(tj_planning *pl, size_t *away) {
  const tj_observed *in = pl->in;
  size_t left = 0;
  *away = 0;
  for (size_t i = 0; i < in->nabandoned; i++) {
    const placement_view *c = cluster_view(in, in->abandoned[i]);
    const json_t *child = in->abandoned_child ? in->abandoned_child[i] : NULL;
    if (!(c && c->ready)) {
      (*away)++;
      left++;
      continue;
    }
    if (child == NULL || pl->engine == NULL || !placement_labelled_for(in->tj, child)) continue;
    left++;
    if (!deleting(child)) rt_plan_delete_in(pl->out, in->abandoned[i], pl->engine, child, "Background");
  }
  if (left) rt_plan_requeue_after(pl->out, *away ? PLACEMENT_MEMBER_POLL_MS : TJ_DELETION_POLL_MS);
  return left;
}

/* The job is being deleted and its children live in a member: they go
 * there first (the cache of the member says when they are gone), then the
 * finalizer. A member away longer than the timeout gives up: the
 * finalizer goes with a Warning naming what may be left behind. */
static void remote_cleanup(tj_planning *pl) {
  const tj_observed *in = pl->in;
  if (!rt_has_finalizer(in->tj, PLACEMENT_REMOTE_FINALIZER)) return;
  const placement_view *c = pl->member ? cluster_view(in, pl->member) : NULL;
  size_t away;
  size_t left = leave_abandoned(pl, &away);
  if (pl->member && c && c->ready) {
    if (in->child && owns(pl, in->child)) {
      if (!deleting(in->child)) child_delete(pl, pl->engine, in->child, "Background");
      left++;
    }
    if (in->debug_pod && owns(pl, in->debug_pod)) {
      if (!deleting(in->debug_pod)) child_delete(pl, &kube_pods, in->debug_pod, "Background");
      left++;
    }
  } else if (pl->member) {
    away++;
    left++;
  }
  /* The PodGroup made there for a Volcano batch gang is not cached: deleted
   * by name in the round the finalizer goes (the executor stops before the
   * finalizer if that fails; one already gone is no failure). */
  json_t *pg = left == 0 && pl->member && pl->s ? tj_desired_podgroup(in->tj, pl->s, &in->env) : NULL;
  if (pg) child_delete(pl, &tj_podgroup_resource, pg, "Background");
  json_decref(pg);
  char behind[400];
  snprintf(behind, sizeof(behind), "%s %s", pl->engine ? pl->engine->kind : "engine object", js_name(in->tj));
  placement_cleanup_finish(&pl->place, left, away, in->remote_cleanup_timeout_s,
                           pl->member ? pl->member : in->abandoned[0], behind);
}

/* ------------------------------------------------------------------- run */

static void engine_missing(tj_planning *pl) {
  const kube_resource *e = pl->engine;
  tj_verdict v;
  verdict(&v, "Pending", RT_STATE_PROGRESSING, "EngineMissing", 1,
          "the %s API (%s/%s %s) is not installed; waiting for it", e->kind, e->group, e->version, e->resource);
  rt_condition_set(pl->status, "EngineAvailable", "False", v.reason, v.message, pl->gen, pl->in->now);
  /* No requeue in the hub: the manager enqueues every job again when the
   * API appears. A member's APIs are its Cluster's status: looked at again. */
  if (pl->member) rt_plan_requeue_after(pl->out, PLACEMENT_UNPLACED_POLL_MS);
  conclude(pl, &v);
}

/* The applied-digest annotation records the desired object last applied
 * (runtime/apply.h): a child without this one's digest has not got the
 * job's current spec yet. */
static int holds_desired(const json_t *child, const json_t *desired) {
  char hash[33];
  js_digest(desired, hash, 32);
  const char *applied = json_string_value(json_object_get(js_get(child, "metadata.annotations"), RT_APPLIED_ANNOTATION));
  return applied && strcmp(applied, hash) == 0;
}

/* Plans the engine object 'desired' (stolen) and a batch gang's PodGroup;
 * the executor sends nothing when they are unchanged. */
static void apply_children(tj_planning *pl, json_t *desired) {
  const tj_observed *in = pl->in;
  child_apply(pl, pl->engine, desired);
  /* In a member too, when its Cluster names Volcano (env.gang is the member's). */
  json_t *pg = tj_desired_podgroup(in->tj, pl->s, &in->env);
  if (pg) child_apply(pl, &tj_podgroup_resource, pg);
  /* Created once: the status records the child from the first plan on. */
  if (in->child == NULL && !(same(js_str(in->tj, "status.child.kind"), pl->engine->kind) &&
                             same(js_str(in->tj, "status.child.name"), js_name(in->tj))))
    rt_plan_event(pl->out, "Normal", "Created", "created %s %s", pl->engine->kind, js_name(in->tj));
}

/* Pods that must run now for the job to be running: a batch Job runs
 * 'parallelism' pods while completions remain; the other engines run every
 * replica that has not succeeded. */
static int pods_needed(const tj_spec *s, const tj_progress *p) {
  int need;
  if (s->framework == TJ_BATCH) {
    const tj_role *r = &s->roles[0];
    int parallelism = r->parallelism ? r->parallelism : r->replicas;
    int remaining = p->completions - p->succeeded;
    need = remaining < parallelism ? remaining : parallelism;
  } else {
    need = s->total_pods - p->succeeded;
  }
  return need > 0 ? need : 0;
}

/* What the pods do, when the engine says neither done nor suspended: Running
 * only when they run (every pod needed, or some while the engine says the
 * job runs); else Queued (the scheduler cannot place them: quota, gang,
 * capacity) or Pending (a claim, images, containers starting), quoting the
 * scheduler's or the kubelet's reason. */
static void pods_verdict(const tj_planning *pl, const tj_progress *p, tj_verdict *v) {
  const char *kind = pl->engine->kind, *name = js_name(pl->in->tj);
  if (pl->in->child == NULL) {
    verdict(v, "Queued", RT_STATE_PROGRESSING, "Creating", 0, "creating the %s %s", kind, name);
    return;
  }
  int need = pods_needed(pl->s, p);
  int engine_runs = p->engine == TJ_ENGINE_RUNNING;
  int of = need > p->running ? need : p->running;
  char wait[900] = "";
  if (p->pending > 0) {
    if (p->pending == 1) snprintf(wait, sizeof(wait), "pod %s: %s", p->wait_pod, p->wait_message);
    else snprintf(wait, sizeof(wait), "pod %s and %d more: %s", p->wait_pod, p->pending - 1, p->wait_message);
  }
  int warn = !tj_wait_is_normal(p->wait_reason);
  if (p->running > 0 && p->pending == 0 && (p->running >= need || engine_runs)) {
    verdict(v, "Running", RT_STATE_READY, "Running", 0, "%d of %d pods running", p->running, of);
  } else if (p->running > 0 && engine_runs) {
    verdict(v, "Running", RT_STATE_PROGRESSING, p->wait_reason, warn, "%d of %d pods running; %s", p->running, of,
            wait);
  } else if (p->pending > 0) {
    int claim = strcasestr(p->wait_message, "persistentvolumeclaim") != NULL;
    verdict(v, p->wait_unscheduled && !claim ? "Queued" : "Pending", RT_STATE_PROGRESSING, p->wait_reason, warn, "%s",
            wait);
  } else if (need == 0 && p->succeeded > 0) {
    verdict(v, "Running", RT_STATE_PROGRESSING, "Completing", 0, "%d of %d pods succeeded; waiting for the %s to finish",
            p->succeeded, p->completions, kind);
  } else if (pl->in->create_refused) {
    const char *why = js_str(pl->in->create_refused, "message");
    verdict(v, "Pending", RT_STATE_PROGRESSING, "FailedCreate", 1, "the %s cannot create its pods (%d of %d running): %s",
            kind, p->running, need, why ? why : "FailedCreate");
  } else {
    verdict(v, "Queued", RT_STATE_PROGRESSING, "WaitingForPods", 0, "waiting for the %s to create pods (%d of %d running)",
            kind, p->running, need);
  }
}

/* The engine's word on the outcome first, then suspension, the engine's own
 * restarts, the pods, and a spec still being applied. */
static void decide(const tj_planning *pl, const tj_progress *p, int updating, tj_verdict *v) {
  const char *kind = pl->engine->kind;
  switch (p->engine) {
    case TJ_ENGINE_SUCCEEDED:
      verdict(v, "Succeeded", RT_STATE_SUCCEEDED, "Succeeded", 0, "the %s succeeded", kind);
      return;
    case TJ_ENGINE_FAILED:
      verdict(v, "Failed", RT_STATE_FAILED, p->reason[0] ? p->reason : "Failed", 0, "%s",
              p->message[0] ? p->message : "the engine reports the job failed");
      return;
    case TJ_ENGINE_SUSPENDED:
      if (pl->s->suspend) verdict(v, "Suspended", RT_STATE_SUSPENDED, "Suspended", 0, "the %s is suspended", kind);
      else verdict(v, "Queued", RT_STATE_PROGRESSING, "Resuming", 0, "resuming the %s", kind);
      return;
    case TJ_ENGINE_RESTARTING:
      verdict(v, "Restarting", RT_STATE_PROGRESSING, p->reason[0] ? p->reason : "Restarting", 0,
              "the %s restarts failed replicas%s%s", kind, p->message[0] ? ": " : "", p->message);
      break;
    default: pods_verdict(pl, p, v); break;
  }
  if (pl->s->suspend && pl->in->child) {
    v->state = RT_STATE_PROGRESSING;
    snprintf(v->reason, sizeof(v->reason), "Suspending");
    snprintf(v->message, sizeof(v->message), "suspending the %s (spec.suspend)", kind);
    v->warn = 0;
  } else if (updating) {
    v->state = RT_STATE_PROGRESSING;
    snprintf(v->reason, sizeof(v->reason), "Updating");
    snprintf(v->message, sizeof(v->message), "applying generation %lld of the spec to the %s", (long long)pl->gen, kind);
    v->warn = 0;
  }
}

/* Volcano Jobs cannot be suspended: a suspended one is deleted, and made
 * again on resume. */
static void suspend_by_deletion(tj_planning *pl, tj_verdict *v) {
  const json_t *child = pl->in->child;
  if (child == NULL) {
    verdict(v, "Suspended", RT_STATE_SUSPENDED, "Suspended", 0,
            "the Volcano Job was removed (Volcano Jobs cannot be suspended); it is made again on resume");
    return;
  }
  if (!deleting(child)) child_delete(pl, pl->engine, child, "Background");
  pl->child_goes = 1;
  rt_plan_requeue_after(pl->out, TJ_DELETION_POLL_MS);
  verdict(v, terminal(v) ? "Queued" : v->phase, RT_STATE_PROGRESSING, "Suspending", 0,
          "removing the Volcano Job %s (Volcano Jobs cannot be suspended; it is made again on resume)", js_name(child));
}

static int restarting_this_child(const tj_planning *pl) {
  return same(pl->prev_phase, "Restarting") &&
         (same(pl->prev_reason, "GangRestart") || same(pl->prev_reason, "DeleteFailed")) &&
         same(js_str(pl->in->tj, "status.child.uid"), js_uid(pl->in->child));
}

/* The engine object is being deleted (a gang restart, or by hand): it is
 * made again once it is gone. */
static void wait_for_deletion(tj_planning *pl, tj_verdict *v) {
  rt_plan_requeue_after(pl->out, TJ_DELETION_POLL_MS);
  if (same(pl->prev_phase, "Restarting") && same(pl->prev_reason, "GangRestart")) {
    verdict(v, "Restarting", RT_STATE_PROGRESSING, "GangRestart", 0, "%s", pl->prev_message ? pl->prev_message : "");
    v->evented = 1;
    return;
  }
  /* What the going object said (it may have failed) is not the job's end. */
  verdict(v, terminal(v) ? "Queued" : v->phase, RT_STATE_PROGRESSING, "Recreating", 0,
          "the %s %s is being deleted; it is made again once gone", pl->engine->kind, js_name(pl->in->child));
}

/* failurePolicy.restartGang: any failed replica restarts the whole job
 * (the engine object is deleted, pods first, and made again), within
 * maxRestarts; then the job fails. The count is written before the
 * deletion, so a crash in between cannot restart for free, and a restart of
 * the same engine object (by uid) is never counted twice while the cache
 * has not seen its deletion. Volcano restarts its gang itself. Returns 1
 * when it decided. */
static int gang_restart(tj_planning *pl, const tj_progress *p, tj_verdict *v) {
  const json_t *child = pl->in->child;
  if (!pl->s->restart_gang || pl->s->framework == TJ_VOLCANO || child == NULL) return 0;
  if (p->engine == TJ_ENGINE_SUCCEEDED || (p->engine != TJ_ENGINE_FAILED && !p->any_failed)) return 0;
  json_int_t restarts = js_int(pl->status, "restarts", 0);
  const char *why = p->message[0] ? p->message : "a replica failed";
  if (restarting_this_child(pl)) {
    verdict(v, "Restarting", RT_STATE_PROGRESSING, "GangRestart", 0, "%s", pl->prev_message ? pl->prev_message : "");
    v->evented = 1;
  } else if (restarts < pl->s->max_restarts) {
    json_object_set_new(pl->status, "restarts", json_integer(restarts + 1));
    verdict(v, "Restarting", RT_STATE_PROGRESSING, "GangRestart", 0, "restarting the whole job (%lld of %d): %s",
            (long long)restarts + 1, pl->s->max_restarts, why);
    rt_plan_event(pl->out, "Warning", "GangRestart", "%s", v->message);
    v->evented = 1;
    pl->out->status_first = 1;
  } else {
    verdict(v, "Failed", RT_STATE_FAILED, "RestartLimitExceeded", 0, "failed after %lld gang restarts: %s",
            (long long)restarts, why);
    return 1;
  }
  child_delete(pl, pl->engine, child, "Foreground");
  pl->child_goes = 1;
  rt_plan_requeue_after(pl->out, TJ_DELETION_POLL_MS);
  return 1;
}

/* An engine without a deadline of its own (deadline_is_ours) is stopped
 * activeDeadlineSeconds after its object was created (as a batch Job
 * counts from its start, queueing included). */
static void deadline(tj_planning *pl, tj_verdict *v) {
  const json_t *child = pl->in->child;
  if (!deadline_is_ours(pl->s) || pl->s->active_deadline_s <= 0 || child == NULL || terminal(v)) return;
  int64_t created = js_time(child, "metadata.creationTimestamp");
  if (created == 0) return;
  int64_t left = created + pl->s->active_deadline_s - pl->in->now;
  if (left > 0) {
    rt_plan_requeue_after(pl->out, left * 1000);
    return;
  }
  child_delete(pl, pl->engine, child, "Background");
  pl->child_goes = 1;
  verdict(v, "Failed", RT_STATE_FAILED, "DeadlineExceeded", 0, "ran longer than activeDeadlineSeconds (%lld)",
          (long long)pl->s->active_deadline_s);
}

/* The counts, the child, the times and a failure's exit code. */
static void record_progress(tj_planning *pl, const tj_progress *p, const tj_verdict *v) {
  const tj_observed *in = pl->in;
  json_t *st = pl->status;
  char *api_version = kube_api_version(pl->engine);
  set_child_ref(st, api_version, pl->engine->kind, js_name(in->tj), js_uid(in->child));
  free(api_version);
  record_counts(pl, p);
  json_object_set_new(st, "restarts", json_integer(js_int(st, "restarts", 0)));
  if (strcmp(v->phase, "Failed") == 0 && p->exit_code >= 0) json_object_set_new(st, "exitCode", json_integer(p->exit_code));
  else json_object_del(st, "exitCode");

  char now[32], start[40] = "", end[40] = "";
  time_format_rfc3339(in->now, now);
  snprintf(start, sizeof(start), "%s", js_str(st, "startTime") ? js_str(st, "startTime") : "");
  if (start[0] == '\0' && strcmp(v->phase, "Running") == 0) snprintf(start, sizeof(start), "%s", now);
  if (start[0] == '\0' && terminal(v)) snprintf(start, sizeof(start), "%s", p->start_time[0] ? p->start_time : now);
  if (terminal(v)) snprintf(end, sizeof(end), "%s", p->completion_time[0] ? p->completion_time : now);
  if (start[0]) json_object_set_new(st, "startTime", json_string(start));
  if (end[0]) json_object_set_new(st, "completionTime", json_string(end));
  if (start[0]) {
    char dur[32];
    tj_format_duration((end[0] ? time_epoch_of(end) : in->now) - time_epoch_of(start), dur);
    json_object_set_new(st, "duration", json_string(dur));
  }
}

static void run(tj_planning *pl) {
  const tj_observed *in = pl->in;
  if (in->debug_pod && owns(pl, in->debug_pod) && !deleting(in->debug_pod))
    child_delete(pl, &kube_pods, in->debug_pod, "Background");
  if (!in->engine_available) {
    engine_missing(pl);
    return;
  }
  char served[128];
  snprintf(served, sizeof(served), "the %s API is served", pl->engine->kind);
  rt_condition_set(pl->status, "EngineAvailable", "True", "EngineInstalled", served, pl->gen, in->now);
  if (in->child && !owns(pl, in->child)) {
    child_conflict(pl, pl->engine->kind, js_name(in->child));
    return;
  }
  int volcano_suspend = pl->s->suspend && pl->s->framework == TJ_VOLCANO;
  int child_deleting = in->child && deleting(in->child);
  json_t *desired =
      volcano_suspend || child_deleting ? NULL : for_member(pl, tj_desired_child(in->tj, pl->s, &in->env));
  int updating = desired && in->child && !holds_desired(in->child, desired);
  size_t npods;
  const json_t **pods = engine_pods(pl, &npods);
  tj_progress p;
  tj_progress_of(pl->s, in->child, pods, npods, &p);
  free(pods);
  tj_verdict v;
  decide(pl, &p, updating, &v);
  /* A Volcano Job deleted for a suspension may pass through Terminating,
   * which reads as failed: the suspension decides while it goes. */
  if (volcano_suspend && (child_deleting || !terminal(&v))) suspend_by_deletion(pl, &v);
  else if (child_deleting) wait_for_deletion(pl, &v);
  else if (!gang_restart(pl, &p, &v)) deadline(pl, &v);
  if (desired && !pl->child_goes) apply_children(pl, desired);
  else json_decref(desired);
  record_progress(pl, &p, &v);
  conclude(pl, &v);
  if (terminal(&v) && pl->s->ttl_s >= 0) rt_plan_requeue_after(pl->out, (int64_t)pl->s->ttl_s * 1000 + 1000);
  else if (strcmp(v.phase, "Running") == 0) rt_plan_requeue_after(pl->out, TJ_RUNNING_REFRESH_MS);
  tj_progress_free(&p);
}

void tj_plan(const tj_observed *in, rt_plan *out) {
  const json_t *prev = json_object_get(in->tj, "status");
  const json_t *reconciling = rt_condition_get(prev, "Reconciling");
  tj_planning pl = {
      .in = in,
      .s = in->spec,
      .engine = in->spec ? tj_engine(in->spec->framework) : NULL,
      .out = out,
      .status = rt_status_from(in->tj),
      .gen = js_int(in->tj, "metadata.generation", 0),
      .prev_phase = js_str(prev, "phase"),
      .prev_reason = js_str(reconciling, "reason"),
      .prev_message = js_str(reconciling, "message"),
  };
  pl.place = (placement_step){.words = &tj_words, .obj = in->tj, .clusters = in->clusters, .nclusters = in->nclusters,
                              .project_name = in->project_name, .status = pl.status, .out = out, .gen = pl.gen,
                              .now = in->now};
  const char *cluster = tj_cluster_of(in);
  if (cluster && strcmp(cluster, "local") != 0) pl.member = cluster;
  if (deleting(in->tj)) { /* only a member's children need the hub's help */
    if (pl.member || in->nabandoned) remote_cleanup(&pl);
    json_decref(pl.status);
    return;
  }
  /* Replaced by pods and completions (the "3/4" it held counted pending pods). */
  json_object_del(pl.status, "replicas");
  const placement_view *member = pl.member ? cluster_view(in, pl.member) : NULL;
  if (finished(in)) after_finish(&pl);
  else if (in->spec == NULL) invalid_spec(&pl);
  else if (cluster == NULL) place(&pl);
  else if (pl.member && !(member && member->ready)) {
    if (!reschedule(&pl)) placement_unreachable(&pl.place, pl.member, member);
  }
  else if (pl.member && !rt_has_finalizer(in->tj, PLACEMENT_REMOTE_FINALIZER)) {
    /* Alone: it changes the resourceVersion the status write is guarded by. */
    rt_plan_add_finalizer(out, PLACEMENT_REMOTE_FINALIZER);
    json_decref(pl.status);
    return;
  } else {
    if (pl.member) placement_reachable(&pl.place, pl.member);
    if (in->spec->debug) debug_mode(&pl);
    else run(&pl);
  }
  size_t away;
  if (in->nabandoned) (void)leave_abandoned(&pl, &away);
  /* What went wrong in the member, told on the job (while the member is
   * away its Events are as last seen: nothing new). */
  if (pl.member && member && member->ready)
    rt_plan_relay_member_events(out, pl.status, pl.member, in->member_events, in->nmember_events);
  rt_plan_set_status(out, pl.status);
}
