#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/trainingjob/trainingjob.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

static const kube_resource podgroups = {"scheduling.volcano.sh", "v1beta1", "podgroups", "PodGroup", 1};

typedef struct tj_ctl {
  gang_config gang;
} tj_ctl;

static int terminal(const char *phase) {
  return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

static rt_result write_status(const rt_ctx *ctx, const json_t *tj, json_t *status) {
  return rt_write_status(ctx, &trainingjob_resource, tj, status);
}

/* Sets the phase and the conditions that follow from it, with an Event when
 * the phase changes. */
static void set_phase(const rt_ctx *ctx, const json_t *tj, json_t *status, const char *phase, const char *reason,
                      const char *message) {
  const char *before = js_str(tj, "status.phase");
  json_int_t gen = js_int(tj, "metadata.generation", 0);
  int64_t now = time_wall_s();
  int ready = strcmp(phase, "Running") == 0 || strcmp(phase, "Succeeded") == 0;
  json_object_set_new(status, "phase", json_string(phase));
  rt_condition_set(status, "Ready", ready ? "True" : "False", reason, message, gen, now);
  rt_condition_set(status, "Succeeded", strcmp(phase, "Succeeded") == 0 ? "True" : "False", reason, message, gen, now);
  rt_condition_set(status, "Failed", strcmp(phase, "Failed") == 0 ? "True" : "False", reason, message, gen, now);
  if (before == NULL || strcmp(before, phase) != 0)
    rt_event(ctx->events, tj, strcmp(phase, "Failed") == 0 ? "Warning" : "Normal", phase, "%s%s%s",
             before ? before : "new", " -> ", message && *message ? message : phase);
}

/* The job's pods, from the shared pod cache. */
static void job_pods(const rt_ctx *ctx, const json_t *tj, cache_list *out) {
  out->items = NULL;
  out->len = 0;
  cache_store *pods = rt_store(ctx, &kube_pods);
  if (pods == NULL) return;
  cache_list all;
  cache_store_by_index(pods, CACHE_INDEX_NAMESPACE, js_namespace(tj), &all);
  size_t n = 0;
  out->items = xcalloc(all.len + 1, sizeof(json_t *));
  for (size_t i = 0; i < all.len; i++) {
    const char *owner = json_string_value(json_object_get(js_get(all.items[i], "metadata.labels"), TJ_LABEL));
    if (owner && strcmp(owner, js_name(tj)) == 0) out->items[n++] = json_incref(all.items[i]);
  }
  out->len = n;
  cache_list_free(&all);
}

static int delete_child(const rt_ctx *ctx, const kube_resource *engine, const json_t *child, const char *policy,
                        kube_status *st) {
  kube_delete_options o = {.propagation_policy = policy, .precondition_uid = js_uid(child)};
  int rc = kube_delete(ctx->client, engine, js_namespace(child), js_name(child), &o, st);
  return rc == CUBIT_ENOTFOUND ? 0 : rc;
}


/* A finished job keeps its summary; its engine object goes after the TTL. */
static rt_result finished(const rt_ctx *ctx, const json_t *tj, const tj_spec *s) {
  if (s->ttl_s < 0) return rt_ok();
  const kube_resource *engine = tj_engine(s->framework);
  cache_store *children = rt_store(ctx, engine);
  json_t *child = children ? cache_store_get(children, js_namespace(tj), js_name(tj)) : NULL;
  if (child == NULL || !rt_is_controlled_by(child, tj)) {
    json_decref(child);
    return rt_ok();
  }
  int64_t done = js_time(tj, "status.completionTime");
  int64_t left = done + s->ttl_s - time_wall_s();
  rt_result r = rt_ok();
  if (left > 0) {
    r = rt_requeue_after(left * 1000);
  } else {
    kube_status st;
    int rc = delete_child(ctx, engine, child, "Background", &st);
    if (rc) r = rt_result_for_error(rc, &st);
    else rt_event(ctx->events, tj, "Normal", "TTLExpired", "%s %s deleted %d s after the job finished", engine->kind,
                  js_name(child), s->ttl_s);
  }
  json_decref(child);
  return r;
}

static rt_result debug_mode(const rt_ctx *ctx, const json_t *tj, const tj_spec *s, json_t *status) {
  kube_status st;
  json_t *pod = tj_desired_debug_pod(tj, s);
  json_t *live = NULL;
  int rc = rt_apply_cached(ctx->client, rt_store(ctx, &kube_pods), &kube_pods, pod, &live, NULL, &st);
  json_decref(pod);
  if (rc) {
    json_decref(status);
    return rt_result_for_error(rc, &st);
  }
  const char *pod_phase = js_str(live, "status.phase");
  int running = pod_phase && strcmp(pod_phase, "Running") == 0;
  char msg[160];
  snprintf(msg, sizeof(msg), "debug pod %s is %s; kubectl exec -it -n %s %s -- sh", js_name(live),
           pod_phase ? pod_phase : "Pending", js_namespace(live), js_name(live));
  set_phase(ctx, tj, status, running ? "Running" : "Pending", running ? "Debugging" : "DebugPodStarting", msg);
  json_object_set_new(status, "child", json_pack("{s:s, s:s, s:s}", "apiVersion", "v1", "kind", "Pod", "name",
                                                 js_name(live)));
  json_decref(live);
  return write_status(ctx, tj, status);
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const tj_ctl *tc = ctx->arg;
  cache_store *tjs = rt_store(ctx, &trainingjob_resource);
  if (tjs == NULL) return rt_requeue_after(5000);
  json_t *tj = cache_store_get(tjs, req->ns, req->name);
  if (tj == NULL || js_get(tj, "metadata.deletionTimestamp")) {
    json_decref(tj);
    return rt_ok(); /* garbage collection removes the children */
  }
  tj_spec s;
  char err[512];
  json_t *status = rt_status_copy(tj);
  rt_result result = rt_ok();
  if (tj_spec_parse(tj, &s, err, sizeof(err))) {
    set_phase(ctx, tj, status, "Failed", "InvalidSpec", err);
    result = write_status(ctx, tj, status);
    json_decref(tj);
    return result;
  }
  const char *phase0 = js_str(tj, "status.phase");
  if (terminal(phase0)) {
    json_decref(status);
    result = finished(ctx, tj, &s);
    json_decref(tj);
    return result;
  }
  const kube_resource *engine = tj_engine(s.framework);
  cache_store *children = rt_store(ctx, engine);
  json_t *child = children ? cache_store_get(children, req->ns, req->name) : NULL;
  kube_status st;
  int rc = 0;

  /* Debug mode: one sleeping pod instead of the job. */
  cache_store *pods = rt_store(ctx, &kube_pods);
  char debug_name[300];
  snprintf(debug_name, sizeof(debug_name), "%s-debug", req->name);
  json_t *debug_pod = pods ? cache_store_get(pods, req->ns, debug_name) : NULL;
  if (s.debug) {
    if (child && rt_is_controlled_by(child, tj)) (void)delete_child(ctx, engine, child, "Background", &st);
    json_decref(child);
    json_decref(debug_pod);
    result = debug_mode(ctx, tj, &s, status);
    json_decref(tj);
    return result;
  }
  if (debug_pod && rt_is_controlled_by(debug_pod, tj)) (void)delete_child(ctx, &kube_pods, debug_pod, "Background", &st);
  json_decref(debug_pod);

  json_int_t gen = js_int(tj, "metadata.generation", 0);
  if (!rt_api_available(ctx, engine)) {
    char msg[256];
    snprintf(msg, sizeof(msg), "the %s API (%s/%s %s) is not installed; waiting for it", engine->kind, engine->group,
             engine->version, engine->resource);
    rt_condition_set(status, "EngineAvailable", "False", "EngineMissing", msg, gen, time_wall_s());
    set_phase(ctx, tj, status, "Pending", "EngineMissing", msg);
    result = write_status(ctx, tj, status);
    json_decref(tj);
    return result; /* the manager enqueues us again when the CRD appears */
  }
  rt_condition_set(status, "EngineAvailable", "True", "EngineInstalled", engine->kind, gen, time_wall_s());

  if (child && !rt_is_controlled_by(child, tj)) {
    char msg[256];
    snprintf(msg, sizeof(msg), "a %s named %s exists and belongs to something else", engine->kind, req->name);
    set_phase(ctx, tj, status, "Failed", "ChildConflict", msg);
    json_decref(child);
    result = write_status(ctx, tj, status);
    json_decref(tj);
    return result;
  }
  /* A gang restart waits for the old engine object (and its pods) to go. */
  if (child && js_get(child, "metadata.deletionTimestamp")) {
    json_decref(child);
    json_decref(status);
    json_decref(tj);
    return rt_requeue_after(1000);
  }
  /* Volcano Jobs cannot be suspended: a suspended one is deleted and made again. */
  if (s.suspend && s.framework == TJ_VOLCANO) {
    if (child) rc = delete_child(ctx, engine, child, "Background", &st);
    json_decref(child);
    set_phase(ctx, tj, status, "Suspended", "Suspended", "suspended: the Volcano Job was removed");
    result = rc ? rt_result_for_error(rc, &st) : write_status(ctx, tj, status);
    json_decref(tj);
    return result;
  }

  /* The engine object, applied (nothing is sent when it is unchanged). */
  tj_env env = {tc->gang.scheduler, NULL};
  cache_store *nss = rt_store(ctx, &kube_namespaces);
  json_t *ns = nss ? cache_store_get(nss, NULL, req->ns) : NULL;
  env.project = json_string_value(json_object_get(js_get(ns, "metadata.labels"), "cubit.dev/project"));
  json_t *desired = tj_desired_child(tj, &s, &env);
  json_t *applied = NULL;
  int wrote = 0;
  rc = rt_apply(ctx->client, engine, desired, child, &applied, &wrote, &st);
  json_decref(desired);
  if (rc == 0 && child == NULL)
    rt_event(ctx->events, tj, "Normal", "Created", "created %s %s", engine->kind, req->name);
  json_t *pg = rc == 0 ? tj_desired_podgroup(tj, &s, &env) : NULL;
  if (pg) {
    rc = rt_apply_cached(ctx->client, rt_store(ctx, &podgroups), &podgroups, pg, NULL, NULL, &st);
    json_decref(pg);
  }
  json_decref(ns);
  json_decref(child);
  if (rc) {
    json_decref(applied);
    char msg[1200];
    snprintf(msg, sizeof(msg), "cannot write the %s: %s", engine->kind, st.message);
    set_phase(ctx, tj, status, "Pending", "EngineRejected", msg);
    (void)write_status(ctx, tj, status);
    json_decref(tj);
    return rt_result_for_error(rc, &st);
  }

  /* Progress, read off the engine object and the pods. */
  cache_list pl;
  job_pods(ctx, tj, &pl);
  tj_progress p;
  tj_progress_of(&s, applied, (const json_t *const *)pl.items, pl.len, &p);
  cache_list_free(&pl);
  json_int_t restarts = js_int(tj, "status.restarts", 0);
  const char *phase = p.phase;
  char reason[64], message[640];
  snprintf(reason, sizeof(reason), "%s", p.reason[0] ? p.reason : phase);
  snprintf(message, sizeof(message), "%s", p.message);

  /* restartGang: any failed replica restarts the whole job, within budget.
   * Volcano restarts its gang itself (policy RestartJob, maxRetry). */
  if (s.restart_gang && s.framework != TJ_VOLCANO && (strcmp(phase, "Failed") == 0 || p.any_failed)) {
    if (restarts < s.max_restarts) {
      json_object_set_new(status, "restarts", json_integer(restarts + 1));
      char msg[800];
      snprintf(msg, sizeof(msg), "restarting the whole job (%lld of %d): %s", (long long)restarts + 1, s.max_restarts,
               message[0] ? message : "a replica failed");
      set_phase(ctx, tj, status, "Restarting", "GangRestart", msg);
      /* One Event per restart, whatever the cached phase said before. */
      rt_event(ctx->events, tj, "Warning", "GangRestart", "%s", msg);
      /* The count is recorded before the deletion, so a crash in between
       * cannot restart for free. */
      result = write_status(ctx, tj, json_incref(status));
      if (result.kind == RT_OK) {
        rc = delete_child(ctx, engine, applied, "Foreground", &st);
        result = rc ? rt_result_for_error(rc, &st) : rt_requeue_after(1000);
      }
      json_decref(status);
      json_decref(applied);
      tj_progress_free(&p);
      json_decref(tj);
      return result;
    }
    phase = "Failed";
    snprintf(reason, sizeof(reason), "RestartLimitExceeded");
    char msg[640];
    snprintf(msg, sizeof(msg), "failed after %lld gang restarts: %.560s", (long long)restarts, message);
    snprintf(message, sizeof(message), "%s", msg);
  }
  /* Volcano Jobs have no deadline of their own. */
  int64_t now = time_wall_s();
  const char *started = js_str(tj, "status.startTime") ? js_str(tj, "status.startTime") : p.start_time;
  if (s.framework == TJ_VOLCANO && s.active_deadline_s > 0 && started[0] && !terminal(phase) &&
      time_epoch_of(started) + s.active_deadline_s <= now) {
    rc = delete_child(ctx, engine, applied, "Background", &st);
    phase = "Failed";
    snprintf(reason, sizeof(reason), "DeadlineExceeded");
    snprintf(message, sizeof(message), "ran longer than activeDeadlineSeconds (%lld)", (long long)s.active_deadline_s);
  }

  /* Status. */
  json_object_set_new(status, "child", json_pack("{s:s, s:s, s:s}", "apiVersion", js_str(applied, "apiVersion"),
                                                 "kind", engine->kind, "name", req->name));
  /* An empty map would be applied as null, which the schema refuses. */
  if (json_object_size(p.roles)) json_object_set(status, "roles", p.roles);
  else json_object_del(status, "roles");
  char replicas[32];
  snprintf(replicas, sizeof(replicas), "%d/%d", p.active, s.total_pods);
  json_object_set_new(status, "replicas", json_string(replicas));
  json_object_set_new(status, "restarts", json_integer(restarts));
  char when[32];
  if (started[0] == '\0' && (strcmp(phase, "Running") == 0 || terminal(phase))) {
    time_format_rfc3339(now, when);
    started = when;
  }
  if (started[0]) json_object_set_new(status, "startTime", json_string(started));
  char done[40] = "";
  if (terminal(phase)) {
    if (p.completion_time[0]) snprintf(done, sizeof(done), "%s", p.completion_time);
    else time_format_rfc3339(now, done); /* done holds at least 32 */
    json_object_set_new(status, "completionTime", json_string(done));
  }
  if (started[0]) {
    char dur[32];
    tj_format_duration((done[0] ? time_epoch_of(done) : now) - time_epoch_of(started), dur);
    json_object_set_new(status, "duration", json_string(dur));
  }
  if (strcmp(phase, "Failed") == 0) {
    json_object_set_new(status, "reason", json_string(reason));
    json_object_set_new(status, "message", json_string(message));
    if (p.exit_code >= 0) json_object_set_new(status, "exitCode", json_integer(p.exit_code));
  } else {
    json_object_del(status, "reason");
    json_object_del(status, "message");
    json_object_del(status, "exitCode");
  }
  char summary[700];
  snprintf(summary, sizeof(summary), "%s%s%s", phase, message[0] ? ": " : "", message);
  set_phase(ctx, tj, status, phase, reason, strcmp(phase, "Failed") == 0 ? summary : phase);
  result = write_status(ctx, tj, status);
  if (result.kind == RT_OK) {
    if (terminal(phase) && s.ttl_s >= 0) result = rt_requeue_after((int64_t)s.ttl_s * 1000 + 500);
    else if (s.framework == TJ_VOLCANO && s.active_deadline_s > 0 && started[0] && !terminal(phase))
      result = rt_requeue_after((time_epoch_of(started) + s.active_deadline_s - now) * 1000 + 500);
    else if (strcmp(phase, "Running") == 0) result = rt_requeue_after(30000); /* keep the duration fresh */
  }
  json_decref(applied);
  tj_progress_free(&p);
  json_decref(tj);
  return result;
}

/* A pod maps to its job through Cubit's label. */
static char **map_pod(const rt_ctx *ctx, const json_t *pod) {
  const char *name = json_string_value(json_object_get(js_get(pod, "metadata.labels"), TJ_LABEL));
  if (name == NULL) return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = cache_key_of(js_namespace(pod), name);
  return keys;
}

int trainingjob_controller_register(rt_manager *m, const gang_config *gang) {
  tj_ctl *tc = xcalloc(1, sizeof(*tc));
  if (gang) tc->gang = *gang;
  rt_controller_def def = {0};
  def.name = "trainingjob";
  def.primary = &trainingjob_resource;
  for (int f = 0; f < TJ_NFRAMEWORKS; f++) def.owns[f] = tj_engine(f);
  def.owns[TJ_NFRAMEWORKS] = &podgroups;
  def.watches[0] = (rt_watch_def){&kube_pods, map_pod};
  def.workers = 4;
  def.reconcile = reconcile;
  def.arg = tc;
  def.free_arg = free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) free(tc);
  return rc;
}
